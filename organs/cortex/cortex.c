/*
 * organs/cortex/cortex.c - the Cortex, the organ that embeds texts and
 * thinks: its state's lifetime, its handler table and its checkpoint
 * section (the document frequencies). The work is done by embed.c
 * (embedding, IDF statistics, user embedders) and think.c (a think's
 * query, composing answers, working memory); cortex_internal.h is what
 * the three share.
 */
#include <pthread.h>
#include <string.h>

#include "organs/cortex/cortex_internal.h"
#include "organs/cortex/lift.h"

/* ---- lifetime ----------------------------------------------------------- */

static int load(cortex *c, brain_image *img);
static void destroy(void *state);

/* The word table of the built-in embedder's semantic lift (lift.h): the
 * engine's choice (brain__use_lift), recorded in the brain's identity. */
static int choose_lift(cortex *c, const brain_env *env)
{
	c->lift = env->opts.embedder == BRAIN_EMBEDDER_BUILTIN ? env->lift : NULL;
	return BRAIN_OK;
}

static int create(const brain_env *env, brain_spine *spine, const brain_organ_args *args,
                  void **state)
{
	cortex *c = brain__calloc(1, sizeof *c);
	if (!c)
		return brain__oom(sizeof *c, "cortex");
	c->env = env;
	c->spine = spine;
	c->dims = env->opts.dimensions;
	brain__map32_init(&c->df);
	int rc = choose_lift(c, env);
	if (rc == BRAIN_OK && args->image)
		rc = load(c, args->image);
	if (rc) {
		brain__map32_free(&c->df);
		brain__image_unref(c->image);
		brain__free(c);
		return rc;
	}
	pthread_rwlock_init(&c->lock, NULL);
	pthread_mutex_init(&c->gen_lock, NULL);
	pthread_mutex_init(&c->wm_lock, NULL);
	*state = c;
	return BRAIN_OK;
}

static void destroy(void *state)
{
	cortex *c = state;
	if (!c)
		return;
	brain__cortex_working_free(c);
	brain__map32_free(&c->df);
	brain__free(c->df_copy);
	brain__image_unref(c->image);
	pthread_rwlock_destroy(&c->lock);
	pthread_mutex_destroy(&c->gen_lock);
	pthread_mutex_destroy(&c->wm_lock);
	brain__free(c);
}

/* ---- persistence --------------------------------------------------------- */

/* The document frequencies (CORTEX_DF32): ndocs, the table's capacity and
 * count, then its cells as they are (adopted in place on open). */
static int save(void *state, brain_image_writer *w, const brain_organ_args *args)
{
	(void)args;
	cortex *c = state;
	pthread_rwlock_rdlock(&c->lock);
	uint64_t head[3] = {c->ndocs, c->df.cells ? c->df.mask + 1 : 0, c->df.count};
	int rc = brain__imgw_section_begin(w, BRAIN_SECTION_CORTEX_DF32);
	if (rc == BRAIN_OK)
		rc = brain__imgw_write(w, head, sizeof head);
	if (rc == BRAIN_OK && c->df.cells)
		rc = brain__imgw_write(w, c->df.cells, (c->df.mask + 1) * sizeof *c->df.cells);
	if (rc == BRAIN_OK)
		rc = brain__imgw_section_end(w);
	pthread_rwlock_unlock(&c->lock);
	return rc;
}

/* An image written before CORTEX_DF32: the 64-bit table of CORTEX_DF
 * (checked as a table, then folded into a table of our own). */
static int load_wide(cortex *c, void *cells_at, const uint64_t head[3])
{
	brain_map wide;
	brain__map_init(&wide);
	int rc = brain__map_adopt(&wide, cells_at, (size_t)head[1], (size_t)head[2]);
	if (rc == BRAIN_OK)
		rc = brain__map32_reserve(&c->df, (size_t)head[2]);
	for (size_t i = 0; rc == BRAIN_OK && i <= wide.mask; i++) {
		if (wide.cells[i].key == BRAIN_MAP_EMPTY)
			continue;
		uint32_t *v = NULL;
		rc = brain__map32_upsert(&c->df, brain__cortex_df_key(wide.cells[i].key), &v, NULL);
		if (rc == BRAIN_OK)
			*v = *v > UINT32_MAX - wide.cells[i].value ? UINT32_MAX : *v + wide.cells[i].value;
	}
	brain__map_free(&wide); /* borrowed: the image keeps the cells */
	return rc;
}

static int load(cortex *c, brain_image *img)
{
	void *data;
	size_t len;
	bool wide = false;
	int kind = BRAIN_SECTION_CORTEX_DF32;
	if (!brain__image_section(img, kind, &data, &len)) {
		kind = BRAIN_SECTION_CORTEX_DF;
		wide = true;
		if (!brain__image_section(img, kind, &data, &len))
			return brain__err(BRAIN_ECORRUPT, "%s: the embedder's statistics are missing",
			                  brain__image_name(img));
	}
	int rc = brain__image_verify(img, kind, 0, len);
	if (rc)
		return rc;
	uint64_t head[3];
	if (len < sizeof head)
		return brain__err(BRAIN_ECORRUPT, "%s: the embedder's statistics are too short",
		                  brain__image_name(img));
	memcpy(head, data, sizeof head);
	c->ndocs = head[0];
	if (head[1] == 0)
		return head[2] == 0 ? BRAIN_OK
		                    : brain__err(BRAIN_ECORRUPT, "%s: the embedder's statistics are "
		                                 "empty but count %llu words", brain__image_name(img),
		                                 (unsigned long long)head[2]);
	size_t cell = wide ? sizeof(brain_map_cell) : sizeof(brain_map32_cell);
	if (head[1] > (len - sizeof head) / cell)
		return brain__err(BRAIN_ECORRUPT, "%s: the embedder's statistics are larger than "
		                  "their section", brain__image_name(img));
	void *cells = (unsigned char *)data + sizeof head;
	rc = wide ? load_wide(c, cells, head)
	          : brain__map32_adopt(&c->df, cells, (size_t)head[1], (size_t)head[2]);
	if (rc)
		return brain__err_context(rc, "embedder statistics: ");
	if (!wide) {
		brain__image_ref(img);
		c->image = img;
	}
	return BRAIN_OK;
}

/* After a checkpoint replaced the image the brain opened: the document
 * frequencies copied while readers go on (writers held at the gate), then
 * taken into use and the image let go (spine/messages.h). */
int brain__cortex_CORTEX_IMAGE_COPY(cortex *c, brain_msg_image_copy *m)
{
	m->kept = false;
	/* (a copy from an earlier hold of the gate that went no further is
	 * stale: changes ran since) */
	brain__free(c->df_copy);
	c->df_copy = NULL;
	if (!c->image || !c->df.borrowed)
		return BRAIN_OK;
	return brain__map32_copy_cells(&c->df, &c->df_copy);
}

int brain__cortex_CORTEX_IMAGE_RELEASE(cortex *c, brain_msg_image_release *m)
{
	m->left = 0;
	if (!c->image)
		return BRAIN_OK;
	pthread_rwlock_wrlock(&c->lock);
	if (c->df_copy) {
		brain__map32_take_cells(&c->df, c->df_copy);
		c->df_copy = NULL;
	}
	bool done = !c->df.borrowed;
	pthread_rwlock_unlock(&c->lock);
	if (!done) {
		m->left = 1; /* (not copied yet: a CORTEX_IMAGE_COPY first) */
		return BRAIN_OK;
	}
	brain__image_unref(c->image);
	c->image = NULL;
	return BRAIN_OK;
}

/* Each message's handler is brain__cortex_<NAME>, in embed.c or think.c
 * (cortex_internal.h). */
BRAIN_ORGAN_HANDLERS_OF(CORTEX, cortex, handlers);

const brain_organ brain__organ_cortex = {
	.name = "cortex",
	.id = BRAIN_ORGAN_CORTEX,
	.create = create,
	.destroy = destroy,
	.handlers = handlers,
	.save = save,
};
