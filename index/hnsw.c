/*
 * index/hnsw.c - the "hnsw" backend: a Hierarchical Navigable Small World
 * graph (Malkov and Yashunin) over the flat backend's rows.
 *
 * This file is the backend's vtable: opening and closing, reserving slots
 * (each slot's level and upper-layer room), adding one vector or a batch,
 * removing, reading a vector back, and its memory. The graph's work is in
 * the other hnsw files (their list and the layout: hnsw_internal.h).
 *
 * Small indexes: below HNSW_EXACT_BELOW vectors there is no graph at all
 * (searches are exact, by the flat store); the graph is built, on all
 * THREADS, when the index passes that size.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <string.h>

#include "index/hnsw_internal.h"

/* ---- levels -------------------------------------------------------------- */

/* A node's level: a function of the seed and its slot (so the upper
 * layers' layout is known when slots are reserved). */
static int level_for(const hnsw *h, uint32_t slot)
{
	uint64_t x = brain__mix64(h->seed ^ ((uint64_t)slot * 0x9e3779b97f4a7c15ull));
	double u = ((double)(x >> 11) + 1.0) * (1.0 / 9007199254740992.0); /* (0, 1] */
	double l = -log(u) * h->mult;
	return l >= MAX_LEVEL ? MAX_LEVEL : (int)l;
}

/* ---- opening and closing ------------------------------------------------- */

int brain__hnsw_open(const brain_index_config *config, brain_index **out)
{
	int rc = brain__flat_check_config("hnsw", config, out);
	if (rc)
		return rc;
	brain_dist_fn dist = brain__dist_fn(config->metric, -1);
	hnsw *h = brain__calloc(1, sizeof *h);
	if (!h)
		return brain__oom(sizeof *h, "hnsw index");
	h->cfg = *config;
	if (config->version < 3) {
		h->cfg.param = NULL;
		h->cfg.param_payload = NULL;
	}
	h->cfg.version = BRAIN_INDEX_VTABLE_VERSION;
	h->dim = config->dimensions;
	h->dist = dist;
	h->gather = brain__dist_gather_fn(config->metric, -1);
	h->code_dist = brain__code_dist_fn(config->metric, -1);
	h->links_off = (size_t)h->dim * sizeof(float);
	h->row_align = ROW_ALIGN;
	atomic_init(&h->top, (uint64_t)UINT32_MAX << 32); /* entry 0, level -1 */
	pthread_mutex_init(&h->entry_lock, NULL);
	brain__graph_spares_init(&h->spares, "hnsw search scratch", "hnsw visited set");
	for (size_t i = 0; i < LOCK_STRIPES; i++)
		pthread_mutex_init(&h->locks[i], NULL);
	*out = (brain_index *)(void *)h;
	return BRAIN_OK;
}

void brain__hnsw_close(brain_index *index)
{
	if (!index)
		return;
	hnsw *h = hnsw_of(index);
	if (h->store)
		flat->close(h->store);
	if (!h->borrowed) {
		brain__free(h->levels);
		brain__free(h->group_at);
		brain__free(h->pool);
	}
	brain__free((void *)h->ready);
	brain__free(h->wide);
	brain__graph_spares_destroy(&h->spares);
	pthread_mutex_destroy(&h->entry_lock);
	for (size_t i = 0; i < LOCK_STRIPES; i++)
		pthread_mutex_destroy(&h->locks[i]);
	brain__free(h);
}

/* Read the graph's shape from the parameters (the first reserve). */
static void fix_shape(hnsw *h)
{
	h->M = (uint32_t)brain__index_param(&h->cfg, BRAIN_PARAM_HNSW_M);
	h->M0 = 2 * h->M;
	h->efc = (uint32_t)BRAIN_MAX(brain__index_param(&h->cfg, BRAIN_PARAM_HNSW_EF_CONSTRUCTION),
	                             (int64_t)h->M);
	h->seed = (uint64_t)brain__index_param(&h->cfg, BRAIN_PARAM_HNSW_SEED);
	h->mult = 1.0 / log((double)BRAIN_MAX(h->M, 2u));
	h->sq8 = brain__index_param(&h->cfg, BRAIN_PARAM_HNSW_SQ8) != 0;
}

/* ---- slots --------------------------------------------------------------- */

/* Levels and upper-layer room of slots [cap, slots). */
static int grow_graph(hnsw *h, size_t slots)
{
	if (slots <= h->cap)
		return BRAIN_OK;
	size_t pool = h->pool_len;
	for (size_t s = h->cap; s < slots; s++)
		pool += (size_t)level_for(h, (uint32_t)s) * (1 + h->M);
	if (pool > UINT32_MAX)
		return brain__oom(pool * sizeof(brain_link), "hnsw upper layers");
	size_t groups = groups_for(slots);
	uint8_t *levels = brain__malloc(slots);
	uint32_t *group_at = brain__malloc_array(groups, sizeof *group_at);
	brain_link *p = brain__malloc_array(BRAIN_MAX(pool, (size_t)1), sizeof *p);
	if (!levels || !group_at || !p) {
		brain__free(levels);
		brain__free(group_at);
		brain__free(p);
		return brain__oom(slots + groups * 4 + pool * 4, "hnsw levels");
	}
	if (h->cap) {
		memcpy(levels, h->levels, h->cap);
		memcpy(group_at, h->group_at, groups_for(h->cap) * sizeof *group_at);
	}
	for (size_t i = 0; i < h->pool_len; i++)
		atomic_init(&p[i], atomic_load_explicit(&h->pool[i], memory_order_relaxed));
	size_t at = h->pool_len;
	for (size_t s = h->cap; s < slots; s++) {
		int l = level_for(h, (uint32_t)s);
		levels[s] = (uint8_t)l;
		if (s % 64 == 0)
			group_at[s / 64] = (uint32_t)at;
		for (size_t i = 0; i < (size_t)l * (1 + h->M); i++)
			atomic_init(&p[at + i], 0);
		at += (size_t)l * (1 + h->M);
	}
	size_t words = slots / 64 + 1, old_words = h->cap / 64 + (h->ready ? 1 : 0);
	_Atomic uint64_t *ready = brain__realloc((void *)h->ready, words * sizeof *ready);
	if (!ready) {
		brain__free(levels);
		brain__free(group_at);
		brain__free(p);
		return brain__oom(words * sizeof *ready, "hnsw ready bits");
	}
	memset((void *)(ready + old_words), 0, (words - old_words) * sizeof *ready);
	h->ready = ready;
	if (!h->borrowed) {
		brain__free(h->levels);
		brain__free(h->group_at);
		brain__free(h->pool);
	}
	h->borrowed = false;
	h->levels = levels;
	h->group_at = group_at;
	h->pool = p;
	h->pool_len = pool;
	h->cap = slots;
	return BRAIN_OK;
}

int brain__hnsw_use_elem(hnsw *h, int64_t e)
{
	if (e == BRAIN_ELEM_F32) {
		h->elem = BRAIN_ELEM_F32;
		h->links_off = (size_t)h->dim * sizeof(float);
		return BRAIN_OK;
	}
	if (e != BRAIN_ELEM_U8 && e != BRAIN_ELEM_I8)
		return brain__err(BRAIN_EINVAL, "hnsw: element type %lld is not 0, 1 or 2",
		                  (long long)e);
	if (h->sq8)
		return brain__err(BRAIN_EINVAL, "hnsw: HNSW_SQ8 needs float rows (8-bit rows are "
		                  "already a byte per component): set one or the other");
	h->dist8 = brain__dist8_fn(h->cfg.metric, (brain_elem)e, -1);
	h->gather8 = brain__dist8_gather_fn(h->cfg.metric, (brain_elem)e, -1);
	if (!h->dist8 || !h->gather8)
		return brain__err(BRAIN_EINVAL, "hnsw: 8-bit rows need the L2 or IP metric (cosine "
		                  "vectors are unit length, not integers)");
	if (!h->wide) {
		h->wide = brain__malloc_array(2 * (size_t)h->dim, sizeof *h->wide);
		if (!h->wide)
			return brain__oom(2 * (size_t)h->dim * sizeof(float), "hnsw row buffer");
	}
	h->elem = (brain_elem)e;
	h->links_off = h->dim;
	return BRAIN_OK;
}

static int hnsw_reserve(brain_index *index, uint32_t slots)
{
	hnsw *h = hnsw_of(index);
	if (slots > h->cfg.max_slots)
		slots = h->cfg.max_slots;
	if (!h->store) {
		fix_shape(h);
		int rc = brain__hnsw_use_elem(h, brain__index_param(&h->cfg, BRAIN_PARAM_HNSW_ELEMENT));
		if (rc)
			return rc;
		h->code_off = row_vector_bytes(h) + (size_t)(1 + h->M0) * sizeof(brain_link);
		rc = brain__flat_open_ex(&h->cfg, row_extra(h), h->row_align, h->elem, &h->store);
		if (rc)
			return rc;
	}
	int rc = flat->reserve(h->store, slots);
	/* cover every row the chunks hold with bits too, so that no add
	 * grows (moves) them behind the view */
	if (rc == BRAIN_OK)
		rc = flat->reserve(h->store, (uint32_t)BRAIN_MIN(brain__flat_capacity(h->store),
		                                                 (size_t)UINT32_MAX));
	brain__flat_view(h->store, &h->fv); /* rows or bits may have moved */
	if (rc == BRAIN_OK)
		rc = grow_graph(h, h->fv.capacity);
	return rc;
}

/* ---- adding and removing ------------------------------------------------- */

static int hnsw_remove(brain_index *index, uint32_t slot);

/* Build the graph over every vector stored (the index passed the size). */
static int start_graph(hnsw *h)
{
	size_t cap = h->fv.capacity, n = 0;
	uint32_t *slots = brain__malloc_array(BRAIN_MAX(brain__flat_count(h->store), (size_t)1),
	                                      sizeof *slots);
	if (!slots)
		return brain__oom(brain__flat_count(h->store) * sizeof *slots, "hnsw build");
	for (size_t s = 0; s < cap; s++)
		if (brain__flat_view_used(&h->fv, (uint32_t)s))
			slots[n++] = (uint32_t)s;
	h->graph = true;
	if (h->sq8)
		brain__hnsw_sq8_learn(h);
	int rc = brain__hnsw_build(h, slots, n);
	brain__free(slots);
	if (rc)
		h->graph = false;
	else
		brain__hnsw_repair_reachability(h);
	return rc;
}

static int hnsw_add(brain_index *index, uint32_t slot, const float *vector)
{
	hnsw *h = hnsw_of(index);
	if (!h->store || slot >= h->cap)
		return brain__err(BRAIN_ERANGE, "hnsw: slot %u was not reserved", slot);
	int rc = flat->add(h->store, slot, vector);
	if (rc)
		return rc;
	if (h->sq8 && h->sq_ready) {
		/* the range learned from the first vectors may be too narrow:
		 * learn it again whenever the index has doubled (O(1) amortized) */
		if (brain__flat_count(h->store) >= 2 * BRAIN_MAX(h->sq_learned_at, (size_t)1))
			brain__hnsw_sq8_learn(h);
		else
			brain__hnsw_sq8_encode(h, vec_of(h, slot), codes_of(h, slot));
	}
	if (h->graph) {
		brain_graph_scratch *s = NULL;
		rc = scratch_get(h, h->cap, h->efc, &s);
		if (rc == BRAIN_OK)
			rc = brain__graph_scratch_cands(s, (size_t)h->M0 + 2);
		if (rc == BRAIN_OK)
			rc = brain__hnsw_insert(h, slot, s);
		if (s)
			scratch_put(h, s);
	} else if (brain__flat_count(h->store) >= exact_below(h)) {
		rc = start_graph(h);
	}
	if (rc)
		flat->remove(h->store, slot); /* as if never added */
	return rc;
}

static int hnsw_add_batch(brain_index *index, const uint32_t *slots, const float *vectors,
                          size_t n)
{
	hnsw *h = hnsw_of(index);
	for (size_t i = 0; i < n; i++)
		if (!h->store || slots[i] >= h->cap)
			return brain__err(BRAIN_ERANGE, "hnsw: slot %u was not reserved", slots[i]);
	/* every row fits the rows (8-bit: integers in range) before any is added */
	for (size_t i = 0; i < n; i++) {
		int rc = brain__flat_check_vector(h->store, vectors + i * h->dim, "add_batch");
		if (rc) {
			char at[48];
			snprintf(at, sizeof at, "hnsw: row %zu: ", i);
			return brain__err_context(rc, at);
		}
	}
	size_t added = 0;
	int rc = BRAIN_OK;
	while (rc == BRAIN_OK && added < n) {
		rc = flat->add(h->store, slots[added], vectors + added * h->dim);
		if (rc == BRAIN_OK)
			added++;
	}
	if (rc == BRAIN_OK && h->graph && h->sq8) {
		/* a batch that at least doubles the index teaches the range
		 * again (and rewrites every code); otherwise code the new rows */
		if (!h->sq_ready || 2 * n >= brain__flat_count(h->store))
			brain__hnsw_sq8_learn(h);
		else
			for (size_t i = 0; i < n; i++)
				brain__hnsw_sq8_encode(h, vec_of(h, slots[i]), codes_of(h, slots[i]));
	}
	if (rc == BRAIN_OK) {
		if (h->graph && (rc = brain__hnsw_build(h, slots, n)) == BRAIN_OK)
			brain__hnsw_repair_reachability(h);
		else if (brain__flat_count(h->store) >= exact_below(h))
			rc = start_graph(h);
	}
	if (rc) {
		/* none of them stays: those in the graph leave it as deletions
		 * do (which never allocate) */
		for (size_t i = 0; i < added; i++)
			if (brain__flat_view_used(&h->fv, slots[i]))
				hnsw_remove(index, slots[i]);
	}
	return rc;
}

static int hnsw_remove(brain_index *index, uint32_t slot)
{
	hnsw *h = hnsw_of(index);
	if (!h->store)
		return brain__err(BRAIN_ENOTFOUND, "hnsw: slot %u holds no vector", slot);
	int rc = flat->remove(h->store, slot);
	if (rc == BRAIN_OK && h->graph) {
		brain__hnsw_unlink(h, slot);
		/* every so many deletions (an eighth of what is left), sweep the
		 * links they left behind: O(nodes) now and then, O(1) amortized */
		if (++h->removed > brain__flat_count(h->store) / 8) {
			brain__hnsw_sweep_dead_links(h);
			brain__hnsw_repair_reachability(h);
		}
	}
	return rc;
}

static int hnsw_get(const brain_index *index, uint32_t slot, float *vector)
{
	const hnsw *h = chnsw_of(index);
	if (!h->store)
		return brain__err(BRAIN_ENOTFOUND, "hnsw: slot %u holds no vector", slot);
	return flat->get(h->store, slot, vector);
}

static size_t hnsw_memory_usage(const brain_index *index)
{
	const hnsw *h = chnsw_of(index);
	size_t bytes = sizeof *h + (h->store ? flat->memory_usage(h->store) : 0) + h->cap +
	               groups_for(h->cap) * sizeof *h->group_at + h->pool_len * sizeof *h->pool +
	               (h->wide ? 2 * (size_t)h->dim * sizeof *h->wide : 0);
	return bytes + brain__graph_spares_bytes(&((hnsw *)h)->spares);
}

const brain_index_vtable brain__index_hnsw = {
	.version = BRAIN_INDEX_VTABLE_VERSION,
	.name = "hnsw",
	.capabilities = BRAIN_INDEX_CAP_FILTER | BRAIN_INDEX_CAP_PLANNED,
	.open = brain__hnsw_open,
	.reserve = hnsw_reserve,
	.add = hnsw_add,
	.remove = hnsw_remove,
	.get = hnsw_get,
	.search = brain__hnsw_search,
	.memory_usage = hnsw_memory_usage,
	.close = brain__hnsw_close,
	.save = brain__hnsw_save,
	.load = brain__hnsw_load,
	.add_batch = hnsw_add_batch,
	.info = brain__hnsw_info,
	.search_planned = brain__hnsw_search_planned,
	.flush = brain__hnsw_flush,
	.open_files = brain__hnsw_open_files,
	.retire = brain__hnsw_retire,
};
