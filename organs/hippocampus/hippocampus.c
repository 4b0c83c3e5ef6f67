/*
 * organs/hippocampus/hippocampus.c - the Hippocampus, the memory store:
 * its state's lifetime and its handler table. The work is done by store.c
 * (ids, records, slots, texts, the index backend: every message) and
 * sections.c (the checkpoint sections, saved and adopted in place);
 * hippocampus_internal.h is what the three share.
 *
 * Every memory lives in a slot: a record (id, text, importance, times) in a
 * row table, and its vector in the index backend under the same slot
 * number. Ids map to slots through a hash map; freed slots are reused, so
 * slot numbers stay dense and backends can keep plain arrays.
 */
#include "organs/hippocampus/hippocampus_internal.h"

/* ---- lifetime ----------------------------------------------------------- */

static void destroy(void *state);

static int create(const brain_env *env, brain_spine *spine, const brain_organ_args *args,
                  void **state)
{
	hippocampus *h = brain__calloc(1, sizeof *h);
	if (!h)
		return brain__oom(sizeof *h, "hippocampus");
	h->env = env;
	h->spine = spine;
	h->dims = env->opts.dimensions;
	h->vt = env->index_vt;
	/* one slot beyond the memories: an update's new text is stored beside
	 * the old before the old goes (store.c, REPLACE_END) */
	h->max_slots = (uint32_t)(env->opts.max_memories + 1);
	h->next_id = 1;
	atomic_init(&h->auto_elem, -1);
	pthread_mutex_init(&h->image_mu, NULL);
	brain__map_init(&h->ids);
	brain__rel_init(&h->rels);
	brain__analysis_init(&h->kw_scratch);
	int rc = brain__meta_store_init(&h->meta);
	if (rc == BRAIN_OK)
		rc = brain__kw_new(&h->kw);
	if (rc == BRAIN_OK)
		rc = brain__rows_init_aligned(&h->records, sizeof(record), _Alignof(record),
		                              RECORD_CHUNK_LOG2);
	if (rc == BRAIN_OK && args->image) {
		rc = brain__hippocampus_load(h, args->image, args->files);
	} else if (rc == BRAIN_OK) {
		brain_index_config cfg = brain__hippocampus_index_config(h);
		rc = brain__hippocampus_ix_open(h, &cfg);
	}
	if (rc) {
		/* Records adopted from an image hold no heap texts, and a record
		 * that failed its checks must not be taken for one. */
		if (args->image)
			h->next_slot = 0;
		destroy(h);
		return rc;
	}
	*state = h;
	return BRAIN_OK;
}

static void destroy(void *state)
{
	hippocampus *h = state;
	if (!h)
		return;
	for (uint32_t s = 0; s < h->next_slot && s < brain__rows_capacity(&h->records); s++) {
		record *r = rec(h, s);
		if (is_live(r) && (r->flags & RECORD_TEXT_HEAP))
			brain__free(heap_text(r));
	}
	if (h->index)
		h->vt->close(h->index);
	brain__rows_free(&h->records);
	brain__map_free(&h->ids);
	brain__meta_store_free(&h->meta);
	brain__rel_free(&h->rels);
	brain__kw_free(h->kw);
	brain__analysis_free(&h->kw_scratch);
	brain__free(h->free);
	if (h->texts_owned)
		brain__free((void *)h->texts);
	brain__free(h->texts_copy);
	brain__free(h->ids_copy);
	brain__image_unref(h->image);
	pthread_mutex_destroy(&h->image_mu);
	brain__free(h);
}

/* Each message's handler is brain__hippocampus_<NAME>, in store.c
 * (hippocampus_internal.h). */
BRAIN_ORGAN_HANDLERS_OF(HIPPOCAMPUS, hippocampus, handlers);

const brain_organ brain__organ_hippocampus = {
	.name = "hippocampus",
	.id = BRAIN_ORGAN_HIPPOCAMPUS,
	.create = create,
	.destroy = destroy,
	.handlers = handlers,
	.save = brain__hippocampus_save,
};
