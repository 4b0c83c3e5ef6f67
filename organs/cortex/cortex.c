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

/* ---- lifetime ----------------------------------------------------------- */

static int load(cortex *c, brain_image *img);
static void destroy(void *state);

static int create(const brain_env *env, brain_spine *spine, const brain_organ_args *args,
                  void **state)
{
	cortex *c = brain__calloc(1, sizeof *c);
	if (!c)
		return brain__oom(sizeof *c, "cortex");
	c->env = env;
	c->spine = spine;
	c->dims = env->opts.dimensions;
	brain__map_init(&c->df);
	if (args->image) {
		int rc = load(c, args->image);
		if (rc) {
			brain__map_free(&c->df);
			brain__image_unref(c->image);
			brain__free(c);
			return rc;
		}
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
	brain__map_free(&c->df);
	brain__image_unref(c->image);
	pthread_rwlock_destroy(&c->lock);
	pthread_mutex_destroy(&c->gen_lock);
	pthread_mutex_destroy(&c->wm_lock);
	brain__free(c);
}

/* ---- persistence --------------------------------------------------------- */

/* The document frequencies: ndocs, the table's capacity and count, then
 * its cells as they are (adopted in place on open). */
static int save(void *state, brain_image_writer *w, const brain_organ_args *args)
{
	(void)args;
	cortex *c = state;
	pthread_rwlock_rdlock(&c->lock);
	uint64_t head[3] = {c->ndocs, c->df.cells ? c->df.mask + 1 : 0, c->df.count};
	int rc = brain__imgw_section_begin(w, BRAIN_SECTION_CORTEX_DF);
	if (rc == BRAIN_OK)
		rc = brain__imgw_write(w, head, sizeof head);
	if (rc == BRAIN_OK && c->df.cells)
		rc = brain__imgw_write(w, c->df.cells, (c->df.mask + 1) * sizeof *c->df.cells);
	if (rc == BRAIN_OK)
		rc = brain__imgw_section_end(w);
	pthread_rwlock_unlock(&c->lock);
	return rc;
}

static int load(cortex *c, brain_image *img)
{
	void *data;
	size_t len;
	if (!brain__image_section(img, BRAIN_SECTION_CORTEX_DF, &data, &len))
		return brain__err(BRAIN_ECORRUPT, "%s: the embedder's statistics are missing",
		                  brain__image_name(img));
	int rc = brain__image_verify(img, BRAIN_SECTION_CORTEX_DF, 0, len);
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
	if (head[1] > (len - sizeof head) / sizeof(brain_map_cell))
		return brain__err(BRAIN_ECORRUPT, "%s: the embedder's statistics are larger than "
		                  "their section", brain__image_name(img));
	brain_map_cell *cells = (brain_map_cell *)(void *)((unsigned char *)data + sizeof head);
	rc = brain__map_adopt(&c->df, cells, (size_t)head[1], (size_t)head[2]);
	if (rc)
		return brain__err_context(rc, "embedder statistics: ");
	brain__image_ref(img);
	c->image = img;
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
