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
 * (searches are exact, by the flat store). When the index passes that
 * size, the graph starts: every vector goes into the tail, and build()
 * puts them in, in the background (with INDEX_TAIL_MAX 0: at once, on all
 * THREADS, inside the add).
 *
 * The tail and build() (index vtable version 5) are at the end of this
 * file; hnsw_internal.h says which calls take build_lock how.
 */
#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np: a change must not starve */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

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
	pthread_rwlockattr_t attr;
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&h->build_lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	pthread_mutex_init(&h->tail_mu, NULL);
	pthread_mutex_init(&h->build_mu, NULL);
	atomic_init(&h->tail_head, 0);
	atomic_init(&h->tail_end, 0);
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
	brain__free((void *)h->claimed);
	brain__free(h->tail);
	brain__free(h->wide);
	brain__graph_spares_destroy(&h->spares);
	pthread_rwlock_destroy(&h->build_lock);
	pthread_mutex_destroy(&h->tail_mu);
	pthread_mutex_destroy(&h->build_mu);
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

/* Levels and upper-layer room of slots [cap, slots) (hnsw_internal.h). */
int brain__hnsw_grow_graph(hnsw *h, size_t slots)
{
	if (slots <= h->cap && !h->borrowed)
		return BRAIN_OK;
	slots = BRAIN_MAX(slots, h->cap); /* (borrowed: the same, in the heap) */
	size_t pool = h->pool_len;
	for (size_t s = h->cap; s < slots; s++)
		pool += (size_t)level_for(h, (uint32_t)s) * (1 + h->M);
	if (pool > UINT32_MAX)
		return brain__oom(pool * sizeof(brain_link), "hnsw upper layers");
	size_t groups = groups_for(slots);
	uint8_t *levels = brain__malloc(BRAIN_MAX(slots, (size_t)1));
	uint32_t *group_at = brain__malloc_array(BRAIN_MAX(groups, (size_t)1), sizeof *group_at);
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
	old_words = h->cap / 64 + (h->claimed ? 1 : 0);
	_Atomic uint64_t *claimed = brain__realloc((void *)h->claimed, words * sizeof *claimed);
	if (!claimed) {
		brain__free(levels);
		brain__free(group_at);
		brain__free(p);
		return brain__oom(words * sizeof *claimed, "hnsw claim bits");
	}
	memset((void *)(claimed + old_words), 0, (words - old_words) * sizeof *claimed);
	h->claimed = claimed;
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
		h->row_codes = false;
		h->links_off = (size_t)h->dim * sizeof(float);
		return BRAIN_OK;
	}
	if (e != BRAIN_ELEM_U8 && e != BRAIN_ELEM_I8 && e != BRAIN_ELEM_Q8)
		return brain__err(BRAIN_EINVAL, "hnsw: element type %lld is not 0, 1, 2 or 3",
		                  (long long)e);
	if (h->sq8)
		return brain__err(BRAIN_EINVAL, "hnsw: HNSW_SQ8 needs float rows (8-bit rows are "
		                  "already a byte per component): set one or the other");
	h->dist8 = brain__dist8_fn(h->cfg.metric, (brain_elem)e, -1);
	h->gather8 = brain__dist8_gather_fn(h->cfg.metric, (brain_elem)e, -1);
	if ((!h->dist8 || !h->gather8) && e == BRAIN_ELEM_Q8)
		return brain__err(BRAIN_EINVAL, "hnsw: quantised rows (HNSW_ELEMENT 3) need the "
		                  "cosine or IP metric");
	if (!h->dist8 || !h->gather8)
		return brain__err(BRAIN_EINVAL, "hnsw: 8-bit rows need the L2 or IP metric (cosine "
		                  "vectors are unit length, not integers)");
	if (!h->wide) {
		h->wide = brain__malloc_array(2 * (size_t)h->dim, sizeof *h->wide);
		if (!h->wide)
			return brain__oom(2 * (size_t)h->dim * sizeof(float), "hnsw row buffer");
	}
	h->elem = (brain_elem)e;
	h->row_codes = (e == BRAIN_ELEM_U8 && h->cfg.metric == BRAIN_METRIC_L2) || e == BRAIN_ELEM_Q8;
	h->links_off = row_vector_bytes(h);
	return BRAIN_OK;
}

static int reserve_locked(hnsw *h, uint32_t slots);

static int hnsw_reserve(brain_index *index, uint32_t slots)
{
	hnsw *h = hnsw_of(index);
	if (slots > h->cfg.max_slots)
		slots = h->cfg.max_slots;
	/* room already (almost every add): nothing moves, no lock. The rows,
	 * the graph's arrays and the store's bits (a store loaded from an
	 * image may have fewer) must all cover the slots, or the store's add
	 * would grow its bits behind the view. */
	if (h->store && slots <= h->cap && slots <= brain__flat_capacity(h->store) &&
	    (size_t)slots <= h->fv.used_words * 64)
		return BRAIN_OK;
	build_wrlock(h);
	int rc = reserve_locked(h, slots);
	pthread_rwlock_unlock(&h->build_lock);
	return rc;
}

static int reserve_locked(hnsw *h, uint32_t slots)
{
	if (!h->store) {
		fix_shape(h);
		/* -1 (the default) is the brain's to choose; an index alone
		 * takes floats */
		int64_t e = brain__index_param(&h->cfg, BRAIN_PARAM_HNSW_ELEMENT);
		int rc = brain__hnsw_use_elem(h, e < 0 ? BRAIN_ELEM_F32 : e);
		if (rc)
			return rc;
		h->code_off = brain__hnsw_code_off(h);
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
	/* The rows grow a chunk at a time (zeroing new rows is the cost, paid
	 * as they are needed); the levels, upper layers and bits, which are
	 * copied whole when they grow, a quarter ahead (O(1) amortized, and a
	 * brain growing one add at a time copies them O(log n) times). */
	if (rc == BRAIN_OK && h->fv.capacity > h->cap)
		rc = brain__hnsw_grow_graph(h, (size_t)BRAIN_MIN(BRAIN_MAX((uint64_t)h->fv.capacity,
		                                               (uint64_t)h->cap + h->cap / 4),
		                                     (uint64_t)h->cfg.max_slots));
	return rc;
}

/* ---- adding and removing ------------------------------------------------- */

static int hnsw_remove(brain_index *index, uint32_t slot);

/* INDEX_TAIL_MAX: 0, every add inserts its own node. */
static uint64_t tail_max(const hnsw *h)
{
	return (uint64_t)brain__index_param(&h->cfg, BRAIN_PARAM_INDEX_TAIL_MAX);
}

/* Insert one stored node now (an add past INDEX_TAIL_MAX, or without a
 * tail), beside build() if it runs. */
static int insert_now(hnsw *h, uint32_t slot)
{
	brain_graph_scratch *s = NULL;
	pthread_rwlock_rdlock(&h->build_lock);
	int rc = scratch_get(h, h->cap, h->efc, &s);
	if (rc == BRAIN_OK)
		rc = brain__graph_scratch_cands(s, (size_t)h->M0 + 2);
	if (rc == BRAIN_OK && claim(h, slot)) {
		rc = brain__hnsw_insert(h, slot, s);
		if (rc)
			unclaim(h, slot);
		else
			atomic_fetch_add(&h->linked, 1);
	}
	if (s)
		scratch_put(h, s);
	pthread_rwlock_unlock(&h->build_lock);
	return rc;
}

/* The graph starts over every vector stored (the index passed
 * HNSW_EXACT_BELOW): all of them into the tail, for build(); for a batch
 * (`now`), without a tail (INDEX_TAIL_MAX 0), or without memory for it,
 * built now on all THREADS. */
static int start_graph(hnsw *h, bool now)
{
	size_t cap = h->fv.capacity, n = 0;
	uint32_t *slots = brain__malloc_array(BRAIN_MAX(brain__flat_count(h->store), (size_t)1),
	                                      sizeof *slots);
	if (!slots)
		return brain__oom(brain__flat_count(h->store) * sizeof *slots, "hnsw build");
	for (size_t s = 0; s < cap; s++)
		if (brain__flat_view_used(&h->fv, (uint32_t)s))
			slots[n++] = (uint32_t)s;
	build_wrlock(h);
	h->graph = true;
	if (h->sq8)
		brain__hnsw_sq8_learn(h);
	size_t queued = 0;
	if (!now && tail_max(h) > 0)
		while (queued < n && brain__hnsw_tail_push(h, slots[queued]) == BRAIN_OK)
			queued++;
	pthread_rwlock_unlock(&h->build_lock);
	int rc = BRAIN_OK;
	if (queued < n) {
		/* no tail, or no room for all of it: the rest now */
		size_t m = 0;
		for (size_t i = queued; i < n; i++)
			if (claim(h, slots[i]))
				slots[m++] = slots[i];
		pthread_rwlock_rdlock(&h->build_lock);
		rc = brain__hnsw_build(h, slots, m, 0, false);
		pthread_rwlock_unlock(&h->build_lock);
		if (rc == BRAIN_OK) {
			build_wrlock(h);
			brain__hnsw_repair_reachability(h, false);
			pthread_rwlock_unlock(&h->build_lock);
		}
	}
	brain__free(slots);
	if (rc) {
		/* as before the start: no graph; the vectors stay (searched by scan) */
		build_wrlock(h);
		h->graph = false;
		top_set(h, 0, -1);
		for (size_t s = 0; s < BRAIN_MIN(cap, h->cap); s++) {
			set_ready(h, (uint32_t)s, false);
			unclaim(h, (uint32_t)s);
		}
		atomic_store(&h->tail_head, atomic_load(&h->tail_end));
		pthread_rwlock_unlock(&h->build_lock);
	}
	return rc;
}

static int hnsw_add(brain_index *index, uint32_t slot, const float *vector)
{
	hnsw *h = hnsw_of(index);
	if (!h->store || slot >= h->cap || slot >= h->fv.capacity)
		return brain__err(BRAIN_ERANGE, "hnsw: slot %u was not reserved", slot);
	int rc = flat->add(h->store, slot, vector);
	if (rc)
		return rc;
	if (h->sq8 && h->sq_ready) {
		/* the range learned from the first vectors may be too narrow:
		 * learn it again whenever the index has doubled (O(1) amortized) */
		if (brain__flat_count(h->store) >= 2 * BRAIN_MAX(h->sq_learned_at, (size_t)1)) {
			build_wrlock(h);
			brain__hnsw_sq8_learn(h);
			pthread_rwlock_unlock(&h->build_lock);
		} else {
			will_write_links(h, slot, 0);
			brain__hnsw_sq8_encode(h, vec_of(h, slot), codes_of(h, slot));
		}
	}
	if (h->graph) {
		/* into the tail while it has room (and memory); else inserted now */
		if (tail_len(h) >= tail_max(h) || brain__hnsw_tail_push(h, slot) != BRAIN_OK)
			rc = insert_now(h, slot);
	} else if (brain__flat_count(h->store) >= exact_below(h)) {
		rc = start_graph(h, false);
	}
	if (rc)
		flat->remove(h->store, slot); /* as if never added */
	return rc;
}

/* A batch's rows: in one buffer (add_batch), or asked for one at a time
 * (add_batch_rows) into buf (dim floats). */
typedef struct batch_rows {
	const float *all;
	brain_index_row_fn row;
	void *ctx;
	float *buf;
	size_t dim;
} batch_rows;

static const float *batch_row(const batch_rows *r, size_t i)
{
	if (r->all)
		return r->all + i * r->dim;
	r->row(r->ctx, i, r->buf);
	return r->buf;
}

/* add_batch and add_batch_rows: the rows are checked, then stored (the
 * flat store copies each into its row), then put into the graph on
 * THREADS threads, which read them from the store. */
static int add_rows(brain_index *index, const uint32_t *slots, size_t n, const batch_rows *rows)
{
	hnsw *h = hnsw_of(index);
	for (size_t i = 0; i < n; i++)
		if (!h->store || slots[i] >= h->cap || slots[i] >= h->fv.capacity)
			return brain__err(BRAIN_ERANGE, "hnsw: slot %u was not reserved", slots[i]);
	/* every row fits the rows (8-bit: integers in range) before any is
	 * added; float rows take any, so their rows are made once */
	bool check = n && brain__flat_checks_values(h->store); /* store set if n: above */
	for (size_t i = 0; check && i < n; i++) {
		int rc = brain__flat_check_vector(h->store, batch_row(rows, i), "add_batch");
		if (rc) {
			char at[48];
			snprintf(at, sizeof at, "hnsw: row %zu: ", i);
			return brain__err_context(rc, at);
		}
	}
	/* With a graph, each slot is claimed before its vector is stored: the
	 * builder may hold a stale tail entry of a slot used before (removed,
	 * now reused here), and must not insert it beside this batch. The
	 * slots are free, so no one else holds their claims. */
	bool graph = h->graph;
	size_t added = 0;
	int rc = BRAIN_OK;
	while (rc == BRAIN_OK && added < n) {
		bool mine = !graph || claim(h, slots[added]);
		rc = mine ? flat->add(h->store, slots[added], batch_row(rows, added))
		          : brain__err(BRAIN_EINTERNAL, "hnsw: slot %u is being inserted already",
		                       slots[added]);
		if (rc == BRAIN_OK)
			added++;
		else if (graph && mine)
			unclaim(h, slots[added]);
	}
	if (rc == BRAIN_OK && h->graph && h->sq8) {
		/* a batch that at least doubles the index teaches the range
		 * again (and rewrites every code); otherwise code the new rows */
		if (!h->sq_ready || 2 * n >= brain__flat_count(h->store)) {
			build_wrlock(h);
			brain__hnsw_sq8_learn(h);
			pthread_rwlock_unlock(&h->build_lock);
		} else {
			for (size_t i = 0; i < n; i++) {
				will_write_links(h, slots[i], 0);
				brain__hnsw_sq8_encode(h, vec_of(h, slots[i]), codes_of(h, slots[i]));
			}
		}
	}
	if (rc == BRAIN_OK && graph) {
		/* a batch is built before it returns (its slots claimed above) */
		pthread_rwlock_rdlock(&h->build_lock);
		rc = brain__hnsw_build(h, slots, n, 0, false);
		pthread_rwlock_unlock(&h->build_lock);
		if (rc == BRAIN_OK) {
			build_wrlock(h);
			brain__hnsw_repair_reachability(h, false);
			pthread_rwlock_unlock(&h->build_lock);
		}
	} else if (rc == BRAIN_OK && brain__flat_count(h->store) >= exact_below(h)) {
		rc = start_graph(h, true);
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

static int hnsw_add_batch(brain_index *index, const uint32_t *slots, const float *vectors,
                          size_t n)
{
	batch_rows rows = {.all = vectors, .dim = hnsw_of(index)->dim};
	return add_rows(index, slots, n, &rows);
}

static int hnsw_add_batch_rows(brain_index *index, const uint32_t *slots, size_t n,
                               brain_index_row_fn row, void *ctx)
{
	hnsw *h = hnsw_of(index);
	batch_rows rows = {.row = row, .ctx = ctx, .dim = h->dim};
	rows.buf = brain__malloc_array(h->dim, sizeof *rows.buf);
	if (!rows.buf)
		return brain__oom((size_t)h->dim * sizeof *rows.buf, "hnsw: batch row");
	int rc = add_rows(index, slots, n, &rows);
	brain__free(rows.buf);
	return rc;
}

/* Nodes a remove sweeps (see there): 16 a remove finish a sweep of n
 * nodes within n / 16 removes. */
#define SWEEP_STEP 16

static int hnsw_remove(brain_index *index, uint32_t slot)
{
	hnsw *h = hnsw_of(index);
	if (!h->store)
		return brain__err(BRAIN_ENOTFOUND, "hnsw: slot %u holds no vector", slot);
	build_wrlock(h);
	bool linked = slot < h->cap && is_ready(h, slot);
	int rc = flat->remove(h->store, slot);
	if (rc == BRAIN_OK && slot < h->cap) {
		/* a node still in the tail was never linked: its entry is
		 * passed over */
		set_ready(h, slot, false);
		unclaim(h, slot);
	}
	if (rc == BRAIN_OK && h->graph && linked) {
		brain__hnsw_unlink(h, slot);
		atomic_fetch_add(&h->linked, 1);
		/* the links deletions leave behind are swept once an eighth of
		 * what is left went: O(nodes) now and then, O(1) amortized. In
		 * the background (build(), beside searches and inserts), and
		 * here a step of SWEEP_STEP nodes a remove, so that a brain
		 * that forgets and adds nothing (no build()) sweeps too, by the
		 * time a sixteenth more went, never all at once; the repair a
		 * sweep calls for comes at the next build(). */
		size_t count = brain__flat_count(h->store);
		if (atomic_fetch_add(&h->removed, 1) + 1 > count / 8 &&
		    brain__hnsw_sweep_dead_links(h, false, SWEEP_STEP))
			atomic_fetch_add(&h->linked, count / 32 + 1);
	}
	pthread_rwlock_unlock(&h->build_lock);
	return rc;
}

/* The rows past `slots` handed back (the graph's arrays, a few bytes a
 * slot, stay). A link to a slot past the rows is passed over as one to a
 * free slot is: every walk takes slots below min(cap, fv.capacity) only,
 * and the view is refreshed here, with no insert, repair or save under
 * way (build_lock exclusively). */
static int hnsw_shrink(brain_index *index, uint32_t slots)
{
	hnsw *h = hnsw_of(index);
	if (!h->store || !brain__flat_would_shrink(h->store, slots))
		return BRAIN_OK; /* (no chunk goes: no need to wait for the inserts) */
	build_wrlock(h);
	int rc = brain__flat_shrink(h->store, slots);
	brain__flat_view(h->store, &h->fv);
	pthread_rwlock_unlock(&h->build_lock);
	return rc;
}

/* What a checkpoint replaced, handed back: the store's mappings no
 * descriptor names, and what lay in the image the index was loaded from
 * (no insert, repair or save under way: their pointers change). It waits
 * at most RELEASE_WAIT_MS for the inserts under way, which run on niced
 * threads that a busy machine may leave waiting: the brain holds its
 * write lock meanwhile, so rather than make every call wait behind them,
 * it reports a unit left and the brain comes back a beat later; after
 * RELEASE_TRIES such tries it waits (a brain written to faster than its
 * graph is built would otherwise never get the lock). */
#define RELEASE_WAIT_MS 1
/* Tries (a beat apart) before it waits as long as the inserts take. */
#define RELEASE_TRIES 20

static int hnsw_release(brain_index *index, size_t max_chunks, size_t *left)
{
	hnsw *h = hnsw_of(index);
	*left = 0;
	if (!h->borrowed && (!h->store || !brain__flat_would_release(h->store)))
		return BRAIN_OK; /* (nothing to let go: no need to wait for the inserts) */
	int locked = 0;
	if (h->release_tries < RELEASE_TRIES) {
		atomic_fetch_add(&h->excl_waiters, 1); /* a background repair gives way */
		struct timespec until; /* (the lock's clock is the real-time one) */
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += RELEASE_WAIT_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		locked = pthread_rwlock_timedwrlock(&h->build_lock, &until);
		atomic_fetch_sub(&h->excl_waiters, 1);
	} else {
		build_wrlock(h); /* writes faster than the graph is built keep the
		                    inserts going: wait, rather than never hand back */
	}
	if (locked != 0) {
		h->release_tries++;
		*left = 1;
		return BRAIN_OK;
	}
	/* the levels, groups and upper layers, if they lay in the image, to the
	 * heap: grown to the size they have */
	int rc = h->borrowed ? brain__hnsw_grow_graph(h, h->cap) : BRAIN_OK;
	if (rc == BRAIN_OK && h->store) {
		rc = brain__flat_release(h->store, max_chunks, left);
		brain__flat_view(h->store, &h->fv);
		atomic_store_explicit(&h->detached_in, h->store, memory_order_release);
	}
	pthread_rwlock_unlock(&h->build_lock);
	if (rc == BRAIN_OK && *left == 0)
		h->release_tries = 0; /* (until done, it waits once it had to) */
	return rc;
}

void brain__hnsw_unmap_detached(brain_index *index)
{
	hnsw *h = hnsw_of(index);
	brain_index *store = atomic_load_explicit(&h->detached_in, memory_order_acquire);
	if (store)
		brain__flat_unmap_detached(store);
}

static int hnsw_get(const brain_index *index, uint32_t slot, float *vector)
{
	const hnsw *h = chnsw_of(index);
	if (!h->store)
		return brain__err(BRAIN_ENOTFOUND, "hnsw: slot %u holds no vector", slot);
	return flat->get(h->store, slot, vector);
}

/* The rows are the store's: its distances (the exact scan's kernel). */
static int hnsw_distances(const brain_index *index, const float *query, const uint32_t *slots,
                          size_t n, float *out)
{
	const hnsw *h = chnsw_of(index);
	if (!h->store)
		return n ? brain__err(BRAIN_ENOTFOUND, "hnsw: slot %u holds no vector", slots[0])
		         : BRAIN_OK;
	return flat->distances(h->store, query, slots, n, out);
}

static size_t hnsw_memory_usage(const brain_index *index)
{
	const hnsw *h = chnsw_of(index);
	size_t bytes = sizeof *h + (h->store ? flat->memory_usage(h->store) : 0) + h->cap +
	               groups_for(h->cap) * sizeof *h->group_at + h->pool_len * sizeof *h->pool +
	               (h->wide ? 2 * (size_t)h->dim * sizeof *h->wide : 0) +
	               (h->claimed ? (h->cap / 64 + 1) * 8 : 0) + h->tail_cap * sizeof *h->tail;
	return bytes + brain__graph_spares_bytes(&((hnsw *)h)->spares);
}

/* ---- the tail and build() ----------------------------------------------- */

int brain__hnsw_tail_push(hnsw *h, uint32_t s)
{
	pthread_mutex_lock(&h->tail_mu);
	uint64_t head = atomic_load(&h->tail_head), end = atomic_load(&h->tail_end);
	if (end - head >= h->tail_cap) {
		size_t cap = h->tail_cap ? 2 * h->tail_cap : 1024;
		uint32_t *t = brain__malloc_array(cap, sizeof *t);
		if (!t) {
			pthread_mutex_unlock(&h->tail_mu);
			return brain__oom(cap * sizeof *t, "hnsw tail");
		}
		for (uint64_t i = head; i < end; i++)
			t[i & (cap - 1)] = h->tail[i & (h->tail_cap - 1)];
		brain__free(h->tail);
		h->tail = t;
		h->tail_cap = cap;
	}
	h->tail[end & (h->tail_cap - 1)] = s;
	atomic_store_explicit(&h->tail_end, end + 1, memory_order_release);
	pthread_mutex_unlock(&h->tail_mu);
	return BRAIN_OK;
}

int brain__hnsw_tail_list(const hnsw *h, uint32_t **out, size_t *n)
{
	hnsw *m = (hnsw *)h;
	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&m->tail_mu);
	uint64_t head = atomic_load(&m->tail_head), end = atomic_load(&m->tail_end);
	uint32_t *list = end > head ? brain__malloc_array((size_t)(end - head), sizeof *list) : NULL;
	int rc = end > head && !list ? brain__oom((size_t)(end - head) * 4, "hnsw tail list")
	                             : BRAIN_OK;
	for (uint64_t i = head; list && i < end; i++) {
		uint32_t s = m->tail[i & (m->tail_cap - 1)];
		/* live and not yet inserted (nor claimed: an insert under way
		 * finishes before a save, which holds build_lock exclusively);
		 * each once */
		if (s < m->cap && brain__flat_view_used(&m->fv, s) && !is_ready(m, s) && claim(m, s))
			list[(*n)++] = s;
	}
	for (size_t i = 0; i < *n; i++)
		unclaim(m, list[i]);
	pthread_mutex_unlock(&m->tail_mu);
	*out = list;
	return rc;
}

/* Nodes a build() call inserts per thread, between two looks at the tail
 * (each insert takes build_lock on its own: a change that needs it
 * exclusively waits for the inserts under way, not for the batch). */
#define BUILD_BATCH_PER_THREAD 8

static int hnsw_build(brain_index *index, size_t max, uint64_t *pending)
{
	hnsw *h = hnsw_of(index);
	*pending = tail_len(h);
	if (max == 0)
		return BRAIN_OK; /* counting only: never waits */
	pthread_mutex_lock(&h->build_mu);
	int rc = BRAIN_OK;
	uint64_t head = atomic_load(&h->tail_head), end = atomic_load(&h->tail_end);
	bool drained = false;
	size_t nt = brain__hnsw_threads(h);
	size_t n = (size_t)BRAIN_MIN(BRAIN_MIN((uint64_t)max, end - head),
	                             (uint64_t)(BUILD_BATCH_PER_THREAD * nt));
	uint32_t *slots = n ? brain__malloc_array(n, sizeof *slots) : NULL;
	if (n && !slots)
		rc = brain__oom(n * sizeof *slots, "hnsw build batch");
	size_t m = 0;
	pthread_rwlock_rdlock(&h->build_lock);
	bool graph = h->graph;
	if (slots && graph) {
		pthread_mutex_lock(&h->tail_mu);
		for (size_t i = 0; i < n; i++) {
			uint32_t s = h->tail[(head + i) & (h->tail_cap - 1)];
			if (s < h->cap && brain__flat_view_used(&h->fv, s) && !is_ready(h, s))
				slots[m++] = s; /* claimed by the insert itself */
		}
		pthread_mutex_unlock(&h->tail_mu);
	}
	pthread_rwlock_unlock(&h->build_lock);
	if (slots && graph) {
		/* each insert takes build_lock on its own: a change waits for one
		 * insert, never for the batch */
		rc = brain__hnsw_build(h, slots, m, BRAIN_MIN(nt, (m + 3) / 4), true);
		if (rc == BRAIN_OK) {
			atomic_store_explicit(&h->tail_head, head + n, memory_order_release);
			drained = head + n == atomic_load(&h->tail_end);
		}
	}
	brain__free(slots);
	if (h->graph && atomic_load(&h->removed) > brain__flat_count(h->store) / 8) {
		/* the links deletions left (see remove): under the lock shared,
		 * as the repair below, each node's list rewritten under its
		 * lock; it gives way to a change that waits and goes on at the
		 * next build() */
		pthread_rwlock_rdlock(&h->build_lock);
		if (brain__hnsw_sweep_dead_links(h, true, 0))
			/* what the sweep relinked may leave a node with no way in:
			 * repaired as a remove's sweep is (here giving way too) */
			brain__hnsw_repair_reachability(h, true);
		pthread_rwlock_unlock(&h->build_lock);
	}
	if (drained && atomic_load(&h->linked) > brain__flat_count(h->store) / 32) {
		/* inserts beside each other and deletions leave a few nodes
		 * nothing leads to: once the tail is built, after every 32nd of
		 * the graph changed, repair (O(nodes), so O(1) amortized; here,
		 * in the background, rather than in a checkpoint, which writers
		 * wait for) */
		/* under the lock shared: a forced link takes its node's lock,
		 * as an insert's links do, so adds, searches and the changes
		 * that need the lock exclusively are not held up for it (and
		 * no other build() runs: build_mu) */
		pthread_rwlock_rdlock(&h->build_lock);
		brain__hnsw_repair_reachability(h, true);
		pthread_rwlock_unlock(&h->build_lock);
	}
	*pending = tail_len(h);
	pthread_mutex_unlock(&h->build_mu);
	return rc;
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
	.build = hnsw_build,
	.rebuild = brain__hnsw_rebuild,
	.freeze = brain__hnsw_freeze,
	.flush_frozen = brain__hnsw_flush_frozen,
	.thaw = brain__hnsw_thaw,
	.shrink = hnsw_shrink,
	.release = hnsw_release,
	.distances = hnsw_distances,
	.add_batch_rows = hnsw_add_batch_rows,
};
