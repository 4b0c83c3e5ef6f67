/*
 * index/hnsw.c - the "hnsw" backend: a Hierarchical Navigable Small World
 * graph (Malkov and Yashunin) over the flat backend's rows.
 *
 * Layout. Every slot's row in the flat store holds its vector and, right
 * after it, its bottom-layer links (a count and up to 2M neighbour slots),
 * so expanding a node and reading its vector touch neighbouring memory.
 * Rows are 32-byte aligned (ROW_ALIGN: at most 28 bytes of padding, so a
 * node costs about what hnswlib's costs). Upper layers live in one pool of u32, in slot order: a node on
 * level L owns L blocks of (count, M links). A node's level is a function
 * of the seed and its slot, so the pool's layout is known when slots are
 * reserved, and adding never allocates. Where a node's blocks start is the
 * pool offset of its group of 64 slots plus the levels of the slots before
 * it in the group: 1 byte (its level) and 1/16 byte per node, where a
 * per-node offset would cost 4.
 *
 * Concurrency. Link words are atomics: a writer (holding the node's lock
 * stripe) stores the neighbours, then the count with release; a reader
 * loads the count with acquire. A reader may see a list mid-rewrite (a mix
 * of old and new neighbours, each a valid node whose vector was written
 * before it was first linked), never a torn word. Inserts may run on many
 * threads at once (add_batch) and searches alongside them.
 *
 * Deletion removes the node from the lists of its neighbours and
 * reconnects each of them to the best of the deleted node's neighbours
 * (the same heuristic as insertion); the slot is then free and searches
 * neither expand nor return it, so a deleted node stops costing search
 * time. A later add reuses the slot as a new node.
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
#include <unistd.h>

#include "index/distance.h"
#include "index/flat.h"
#include "index/graph.h"
#include "index/hnsw.h"
#include "index/index.h"

#define MAX_LEVEL 15
#define LOCK_STRIPES 4096u
#define HNSW_MAGIC 0x57534e48u /* "HNSW" */
#define PAGE 4096u
/* Bytes of a float row prefetched before its distance: past about 8
 * lines the hardware's stream prefetcher takes over, and asking for all
 * of a long row (3 KiB at 784-d) for 32 neighbours at once only floods
 * the queues (512, 1024 and 3136 bytes: level within noise on
 * Fashion-MNIST, 512 ahead by a few percent more often than not). An
 * 8-bit code row is asked for whole up to CODE_PREFETCH_MAX: on
 * Fashion-MNIST (784 bytes of codes) that is 10% more queries per second
 * than the first 512 bytes, and the first 256 lose 20%. */
#define PREFETCH_MAX ((size_t)512)
#define CODE_PREFETCH_MAX ((size_t)1024)
/* Rows start 32-byte aligned: a 64-byte load then crosses a cache line
 * every other time instead of every time (4-byte aligned rows). Measured
 * (before b6ed932 made the prefetches real) 6-10% more queries per second
 * on SIFT and Fashion-MNIST, for at most 28 bytes a row; 64-byte
 * alignment gained a few percent more but costs up to 60 bytes, which put
 * GloVe's and Fashion-MNIST's rows above hnswlib's.
 * Images written before this field existed have 4-byte aligned rows. */
#define ROW_ALIGN 32u

typedef struct hnsw {
	brain_index_config cfg;
	brain_index *store; /* flat rows: vector, count, links; NULL until the
	                       first reserve */
	brain_flat_view fv; /* the store's rows and bits, refreshed at reserve */
	uint32_t dim;
	brain_dist_fn dist;
	brain_dist_gather_fn gather; /* the same distances, many rows at once */
	/* rows of 8-bit integers (HNSW_ELEMENT): their kernels, which give the
	 * float kernels' bits for the widened row, and a buffer of 2 x dim
	 * floats for the deletion paths (which run one at a time) */
	brain_elem elem;
	brain_dist8_fn dist8;
	brain_dist8_gather_fn gather8;
	float *wide;
	size_t links_off; /* byte offset of the bottom-layer count in a row */
	uint32_t row_align; /* of the rows in the flat store */

	/* fixed when the store is made */
	uint32_t M, M0, efc;
	uint64_t seed;
	double mult;

	/* 8-bit copies (HNSW_SQ8): x ~ sq_lo + sq_step * code, codes uint8
	 * for L2; x ~ sq_step * code, codes int8, for the inner products */
	bool sq8;
	bool sq_ready; /* range learned, codes written */
	float sq_lo, sq_step;
	size_t code_off; /* byte offset of the codes in a row */
	brain_code_dist_fn code_dist; /* distance between two rows of codes */

	bool graph; /* the graph exists (else: exact search only) */
	/* the entry point and the top level (-1: no node in the graph), one
	 * word so that a search reads both without a lock; changed under
	 * entry_lock */
	_Atomic uint64_t top;

	/* per slot, for slots < cap */
	uint8_t *levels;
	uint32_t *group_at; /* pool index of each group of 64 slots */
	size_t cap;
	brain_link *pool;
	size_t pool_len;
	bool borrowed; /* levels, group_at and pool live in a loaded image */
	struct {
		bool loaded;            /* the index came from an image */
		bool shape;             /* M, EF_CONSTRUCTION, SEED, SQ8 were fixed in it */
		bool exact_below_known; /* version 2 images on */
		uint32_t exact_below;
	} saved;

	size_t removed; /* deletions since the last sweep of dead links */
	size_t sq_learned_at; /* count when the 8-bit range was learned */
	/* bit s: slot s is wholly inserted. A node is linked to before its
	 * lower lists are written; searches do not walk through it until then
	 * (else a newcomer may take it as its only way in and lose the link). */
	_Atomic uint64_t *ready;

	pthread_mutex_t entry_lock;
	pthread_mutex_t locks[LOCK_STRIPES];

	brain_graph_spares spares; /* search scratches not in use */
} hnsw;

static inline hnsw *hnsw_of(brain_index *index)
{
	return (hnsw *)(void *)index;
}

static inline const hnsw *chnsw_of(const brain_index *index)
{
	return (const hnsw *)(const void *)index;
}

static const brain_index_vtable *const flat = &brain__index_flat;

static inline void top_get(const hnsw *h, uint32_t *entry, int *level)
{
	uint64_t t = atomic_load_explicit(&((hnsw *)h)->top, memory_order_acquire);
	*entry = (uint32_t)t;
	*level = (int)(int32_t)(uint32_t)(t >> 32);
}

static inline void top_set(hnsw *h, uint32_t entry, int level)
{
	atomic_store_explicit(&h->top, (uint64_t)(uint32_t)level << 32 | entry,
	                      memory_order_release);
}

/* ---- node access --------------------------------------------------------- */

/* The float vector of slot s (float rows only: HNSW_SQ8's paths). */
static inline const float *vec_of(const hnsw *h, uint32_t s)
{
	return brain__flat_view_row(&h->fv, s);
}

/* Slot s's row: floats, or 8-bit integers. */
static inline const void *row_at(const hnsw *h, uint32_t s)
{
	return brain__flat_view_row(&h->fv, s);
}

static inline size_t row_vector_bytes(const hnsw *h)
{
	return (size_t)h->dim * brain__elem_size(h->elem);
}

/* Distance from a float query to the node whose row is `row`. */
static inline float dist_row(const hnsw *h, const float *q, const void *row)
{
	return h->elem == BRAIN_ELEM_F32 ? h->dist(q, row, h->dim) : h->dist8(q, row, h->dim);
}

static inline float dist_to(const hnsw *h, const float *q, uint32_t s)
{
	return dist_row(h, q, row_at(h, s));
}

/* Distances from q to n rows. */
static inline void gather_rows(const hnsw *h, const float *q, const void **rows, size_t n,
                               float *out)
{
	if (h->elem == BRAIN_ELEM_F32)
		h->gather(q, (const float *const *)(const void *)rows, n, h->dim, out);
	else
		h->gather8(q, (const void *const *)rows, n, h->dim, out);
}

/* Node s as a float query: its own row, or its 8-bit row widened into
 * buf (dim floats; exact). */
static const float *as_query(const hnsw *h, uint32_t s, float *buf)
{
	const void *row = row_at(h, s);
	if (h->elem == BRAIN_ELEM_F32)
		return row;
	brain__elem_widen(h->elem, row, h->dim, buf);
	return buf;
}

/* Links of slot s on level l: [count][neighbours]. */
static inline brain_link *links_of(const hnsw *h, uint32_t s, int l)
{
	if (l == 0)
		return (brain_link *)(void *)((unsigned char *)brain__flat_view_row(&h->fv, s) +
		                          h->links_off);
	size_t at = h->group_at[s >> 6], before = 0;
	for (uint32_t t = s & ~63u; t < s; t++)
		before += h->levels[t];
	return h->pool + at + (before + (size_t)(l - 1)) * (1 + h->M);
}

static inline bool is_ready(const hnsw *h, uint32_t s)
{
	return (atomic_load_explicit(&h->ready[s / 64], memory_order_acquire) >> (s % 64)) & 1;
}

static inline void set_ready(hnsw *h, uint32_t s, bool on)
{
	uint64_t bit = (uint64_t)1 << (s % 64);
	if (on)
		atomic_fetch_or_explicit(&h->ready[s / 64], bit, memory_order_release);
	else
		atomic_fetch_and_explicit(&h->ready[s / 64], ~bit, memory_order_release);
}

static inline unsigned char *codes_of(const hnsw *h, uint32_t s)
{
	return (unsigned char *)brain__flat_view_row(&h->fv, s) + h->code_off;
}

/* What a distance reads of the node whose row is `row`: its codes or its
 * vector. */
BRAIN_PREFETCH_INLINE void prefetch_point(const hnsw *h, const unsigned char *row, bool coded)
{
	if (coded)
		brain__prefetch_bytes(row + h->code_off, BRAIN_MIN(h->dim, CODE_PREFETCH_MAX));
	else
		brain__prefetch_bytes(row, BRAIN_MIN(row_vector_bytes(h), PREFETCH_MAX));
}

/* The bottom-layer count and links of slot s (read when it is expanded). */
BRAIN_PREFETCH_INLINE void prefetch_links(const hnsw *h, uint32_t s)
{
	brain__prefetch_bytes((const unsigned char *)brain__flat_view_row(&h->fv, s) + h->links_off,
	               (size_t)(1 + h->M0) * sizeof(brain_link));
}

static inline uint32_t cap_of(const hnsw *h, int l)
{
	return l == 0 ? h->M0 : h->M;
}

static inline void lock_node(hnsw *h, uint32_t s)
{
	pthread_mutex_lock(&h->locks[s % LOCK_STRIPES]);
}

static inline void unlock_node(hnsw *h, uint32_t s)
{
	pthread_mutex_unlock(&h->locks[s % LOCK_STRIPES]);
}

static int level_for(const hnsw *h, uint32_t slot)
{
	uint64_t x = brain__mix64(h->seed ^ ((uint64_t)slot * 0x9e3779b97f4a7c15ull));
	double u = ((double)(x >> 11) + 1.0) * (1.0 / 9007199254740992.0); /* (0, 1] */
	double l = -log(u) * h->mult;
	return l >= MAX_LEVEL ? MAX_LEVEL : (int)l;
}

/* ---- scratch ------------------------------------------------------------- */

/* A search scratch (graph.h) covering `slots` slots with room for ef
 * results, visited tags cleared. */
static int scratch_get(hnsw *h, size_t slots, size_t ef, brain_graph_scratch **out)
{
	brain_graph_need need = {
		.slots = slots,
		.ef = ef,
		.degree = (size_t)h->M0 + 1,
		.code_bytes = h->sq8 ? h->dim : 0,
		/* 8-bit rows: 3 x dim floats for nodes taken as queries */
		.wide_floats = h->elem != BRAIN_ELEM_F32 ? 3 * (size_t)h->dim : 0,
	};
	return brain__graph_scratch_get(&h->spares, &need, out);
}

static void scratch_put(hnsw *h, brain_graph_scratch *s)
{
	brain__graph_scratch_put(&h->spares, s);
}

/* ---- searching one layer ------------------------------------------------- */

/* The beam step (graph.h) of node c on layer l: its neighbours not yet
 * visited (marked now) that are live and wholly inserted go to
 * s->ids[0..m), their distances to s->dists (codes when qcode is set, else
 * the float rows, all at once after prefetching every row). Returns m. */
static size_t expand(const hnsw *h, brain_graph_scratch *s, uint32_t c, int l, const float *q,
                     const unsigned char *qcode)
{
	size_t f = brain__beam_fresh(&s->vis, links_of(h, c, l), cap_of(h, l), h->fv.capacity,
	                             s->ids);
	size_t m = 0;
	for (size_t i = 0; i < f; i++) {
		uint32_t x = s->ids[i];
		if (!brain__flat_view_used(&h->fv, x) || !is_ready(h, x))
			continue;
		const void *row = row_at(h, x);
		prefetch_point(h, (const unsigned char *)row, qcode != NULL);
		s->rows[m] = row;
		s->ids[m++] = x;
	}
	if (qcode) {
		brain_code_dist_fn cfn = h->code_dist;
		for (size_t i = 0; i < m; i++)
			s->dists[i] = cfn(qcode, codes_of(h, s->ids[i]), h->dim);
	} else {
		gather_rows(h, q, s->rows, m, s->dists);
	}
	return m;
}

/* Best-first search of layer l from `start`, keeping ef results in
 * s->res (a max-heap, *nres of them). Only slots that are occupied are
 * expanded; results also pass the filter (NULL: all). Returns 0 or
 * BRAIN_ENOMEM (the candidate heap could not grow). */
static int search_layer(const hnsw *h, brain_graph_scratch *s, const float *q,
                        const unsigned char *qcode, uint32_t start, float dstart, size_t ef, int l,
                        const brain_index_filter *filter, size_t *nres)
{
	size_t ncand = 0, nr = 0;
	brain__visited_mark(&s->vis, start);
	brain__minheap_push(s->cand, &ncand, (brain_cand){dstart, start});
	if (!filter || filter->accept(start, filter->payload))
		brain__maxheap_push(s->res, &nr, (brain_cand){dstart, start});
	while (ncand) {
		brain_cand c = brain__minheap_pop(s->cand, &ncand);
		if (nr >= ef && c.d > s->res[0].d)
			break;
		size_t m = expand(h, s, c.s, l, q, qcode);
		for (size_t i = 0; i < m; i++) {
			brain_cand e = {s->dists[i], s->ids[i]};
			if (!brain__results_admit(s->res, nr, ef, e.d))
				continue;
			if (ncand == s->cand_cap && brain__graph_scratch_cands(s, ncand + 1))
				return BRAIN_ENOMEM;
			brain__minheap_push(s->cand, &ncand, e);
			if (filter && !filter->accept(e.s, filter->payload))
				continue;
			brain__results_push(s->res, &nr, ef, e);
		}
	}
	*nres = nr;
	return BRAIN_OK;
}

/* The same search without a filter, on the bounded result pool (graph.h)
 * instead of two heaps. Leaves s->res sorted, nearest first. */
static void search_pool(const hnsw *h, brain_graph_scratch *s, const float *q,
                        const unsigned char *qcode, uint32_t start, float dstart, size_t ef, int l,
                        size_t *nres)
{
	brain_pool pool;
	brain__visited_mark(&s->vis, start);
	brain__pool_start(&pool, s->res, s->done, ef, (brain_cand){dstart, start});
	size_t cur = 0;
	while (cur < pool.n) {
		uint32_t c = pool.e[cur].s;
		pool.done[cur] = 1;
		size_t next = pool.n; /* lowest position that received an entry */
		size_t m = expand(h, s, c, l, q, qcode);
		for (size_t i = 0; i < m; i++) {
			brain_cand e = {s->dists[i], s->ids[i]};
			if (!brain__pool_admits(&pool, e))
				continue;
			/* most entries of the pool are expanded later: fetch their
			 * links now, while the other distances are computed */
			if (l == 0)
				prefetch_links(h, e.s);
			size_t lo = brain__pool_insert(&pool, e);
			if (lo < next)
				next = lo;
		}
		/* the nearest unexpanded entry: a new one, or the next after cur */
		cur = brain__pool_next(&pool, next <= cur ? next : cur + 1);
	}
	*nres = pool.n;
}

/* Greedy descent through the upper layers to level `to` (exclusive): at
 * each node, the distances to all its neighbours on the level at once
 * (prefetched, then the gather kernel), then a move to the nearest. */
static uint32_t descend(const hnsw *h, const float *q, uint32_t cur, float *dcur, int from, int to)
{
	size_t limit = h->fv.capacity;
	uint32_t ids[101]; /* M <= 100 */
	const void *rows[101];
	float dists[101];
	_Static_assert(BRAIN_ARRAY_LEN(ids) > 100, "room for M links");
	for (int l = from; l > to; l--) {
		bool changed = true;
		while (changed) {
			changed = false;
			const brain_link *ln = links_of(h, cur, l);
			uint32_t cnt = atomic_load_explicit(&ln[0], memory_order_acquire);
			if (cnt > h->M)
				cnt = h->M;
			size_t m = 0;
			for (uint32_t i = 1; i <= cnt; i++) {
				uint32_t n = atomic_load_explicit(&ln[i], memory_order_relaxed);
				if (n >= limit || n >= h->cap || h->levels[n] < l ||
				    !brain__flat_view_used(&h->fv, n) || !is_ready(h, n))
					continue;
				rows[m] = row_at(h, n);
				prefetch_point(h, (const unsigned char *)rows[m], false);
				ids[m++] = n;
			}
			gather_rows(h, q, rows, m, dists);
			for (size_t i = 0; i < m; i++) {
				if (dists[i] < *dcur) {
					*dcur = dists[i];
					cur = ids[i];
					changed = true;
				}
			}
		}
	}
	return cur;
}

/* ---- choosing neighbours ------------------------------------------------- */

/* How much nearer to a kept neighbour than to the base a candidate must
 * be to be dropped (on the metric's distance, which is squared for L2, so
 * this is alpha^2 of DiskANN's RobustPrune with alpha ~ 1.1). Above 1,
 * some longer links survive and searches take fewer hops. Measured at
 * M 16, efC 200: SIFT5k recall at ef 16 0.945 -> 0.962 (+12% QPS at
 * recall 0.95), Fashion-MNIST at ef 10 0.943 -> 0.967, GloVe unchanged;
 * 1.44 was worse than 1.2 on Fashion-MNIST. The inner-product distance
 * (1 - dot) can be negative, where scaling means nothing: 1 there. */
static float prune_alpha(const hnsw *h)
{
	return h->cfg.metric == BRAIN_METRIC_IP ? 1.0f : 1.2f;
}

/* The heuristic of the HNSW paper: take candidates nearest first, keeping
 * one only if it is nearer to the base than to every one kept (by the
 * factor above), so links spread in different directions. c is sorted;
 * keeps at most m in place, returns how many. */
static size_t select_neighbours(const hnsw *h, brain_cand *c, size_t n, size_t m, float *wide)
{
	float alpha = prune_alpha(h);
	size_t kept = 0;
	for (size_t i = 0; i < n && kept < m; i++) {
		bool good = true;
		const float *ci = kept ? as_query(h, c[i].s, wide) : NULL;
		for (size_t j = 0; j < kept && good; j++)
			if (alpha * dist_to(h, ci, c[j].s) < c[i].d)
				good = false;
		if (good)
			c[kept++] = c[i];
	}
	return kept;
}

/* Add `add` (at distance d) to the links of n on level l, re-choosing
 * when full. cand: room for cap + 1; wide: 2 x dim floats (8-bit rows). */
static void link_to(hnsw *h, uint32_t n, uint32_t add, int l, brain_cand *cand, float *wide)
{
	lock_node(h, n);
	brain_link *ln = links_of(h, n, l);
	uint32_t cnt = atomic_load_explicit(&ln[0], memory_order_relaxed);
	uint32_t cap = cap_of(h, l);
	if (cnt > cap)
		cnt = cap;
	bool present = false;
	for (uint32_t i = 1; i <= cnt && !present; i++)
		present = atomic_load_explicit(&ln[i], memory_order_relaxed) == add;
	if (!present && cnt < cap) {
		atomic_store_explicit(&ln[1 + cnt], add, memory_order_relaxed);
		atomic_store_explicit(&ln[0], cnt + 1, memory_order_release);
	} else if (!present) {
		const float *v = as_query(h, n, wide);
		size_t m = 0;
		for (uint32_t i = 1; i <= cnt; i++) {
			uint32_t x = atomic_load_explicit(&ln[i], memory_order_relaxed);
			if (brain__flat_view_used(&h->fv, x))
				cand[m++] = (brain_cand){dist_to(h, v, x), x};
		}
		cand[m++] = (brain_cand){dist_to(h, v, add), add};
		brain__cands_sort(cand, m);
		m = select_neighbours(h, cand, m, cap, wide ? wide + h->dim : NULL);
		brain__links_write(ln, cand, m);
	}
	unlock_node(h, n);
}

/* ---- insertion ----------------------------------------------------------- */

/* Put slot (whose vector is in the store) into the graph. */
static int insert(hnsw *h, uint32_t slot, brain_graph_scratch *s)
{
	int level = h->levels[slot];
	set_ready(h, slot, false);
	for (int l = 0; l <= level; l++)
		atomic_store_explicit(&links_of(h, slot, l)[0], 0, memory_order_release);
	/* the node as a query: s->wide's first dim floats for 8-bit rows; the
	 * other 2 x dim are link_to's and select_neighbours' */
	const float *q = as_query(h, slot, s->wide);
	float *wide = s->wide ? s->wide + h->dim : NULL;

	pthread_mutex_lock(&h->entry_lock);
	int max_level;
	uint32_t ep;
	top_get(h, &ep, &max_level);
	if (max_level < 0) {
		set_ready(h, slot, true);
		top_set(h, slot, level);
		pthread_mutex_unlock(&h->entry_lock);
		return BRAIN_OK;
	}
	pthread_mutex_unlock(&h->entry_lock);

	float dcur = dist_to(h, q, ep);
	uint32_t cur = descend(h, q, ep, &dcur, max_level, level);
	for (int l = BRAIN_MIN(level, max_level); l >= 0; l--) {
		brain__visited_clear(&s->vis);
		size_t nres = 0;
		search_pool(h, s, q, NULL, cur, dcur, h->efc, l, &nres);
		/* results nearest first (the pool is sorted), without the node */
		brain_cand *c = s->res;
		size_t n = 0;
		for (size_t i = 0; i < nres; i++)
			if (c[i].s != slot)
				c[n++] = c[i];
		if (n == 0)
			continue;
		cur = c[0].s;
		dcur = c[0].d;
		n = select_neighbours(h, c, n, h->M, wide);
		lock_node(h, slot);
		brain__links_write(links_of(h, slot, l), c, n);
		unlock_node(h, slot);
		/* link back; `c` is needed for the loop, so use cand as scratch */
		brain_cand keep[256];
		size_t nk = BRAIN_MIN(n, BRAIN_ARRAY_LEN(keep));
		memcpy(keep, c, nk * sizeof *keep);
		for (size_t i = 0; i < nk; i++)
			link_to(h, keep[i].s, slot, l, s->cand, wide);
		if (n == 0)
			break;
	}
	set_ready(h, slot, true);
	if (level > max_level) {
		pthread_mutex_lock(&h->entry_lock);
		uint32_t now_ep;
		int now_level;
		top_get(h, &now_ep, &now_level);
		if (level > now_level)
			top_set(h, slot, level);
		pthread_mutex_unlock(&h->entry_lock);
	}
	return BRAIN_OK;
}

/* ---- building with threads ----------------------------------------------- */

typedef struct build_job {
	hnsw *h;
	const uint32_t *slots;
	size_t n;
	_Atomic size_t next;
	_Atomic int rc;
} build_job;

static void *build_worker(void *arg)
{
	build_job *j = arg;
	brain_graph_scratch *s = NULL;
	int rc = scratch_get(j->h, j->h->cap, j->h->efc, &s);
	if (rc == BRAIN_OK)
		rc = brain__graph_scratch_cands(s, (size_t)j->h->M0 + 2);
	while (rc == BRAIN_OK && atomic_load(&j->rc) == BRAIN_OK) {
		size_t i = atomic_fetch_add(&j->next, 1);
		if (i >= j->n)
			break;
		rc = insert(j->h, j->slots[i], s);
	}
	if (s)
		scratch_put(j->h, s);
	if (rc) {
		int expected = BRAIN_OK;
		atomic_compare_exchange_strong(&j->rc, &expected, rc);
	}
	return NULL;
}

static size_t threads_for(const hnsw *h, size_t n)
{
	int64_t t = brain__index_param(&h->cfg, BRAIN_PARAM_THREADS);
	if (t <= 0) {
		long cores = sysconf(_SC_NPROCESSORS_ONLN);
		t = cores > 0 ? cores : 1;
	}
	/* a thread per few hundred nodes at most: starting threads costs too */
	size_t most = n / 256 + 1;
	return (size_t)BRAIN_MIN((uint64_t)t, (uint64_t)BRAIN_MIN(most, 256));
}

/* Insert slots[0..n) into the graph on THREADS threads. */
static int build(hnsw *h, const uint32_t *slots, size_t n)
{
	build_job j = {.h = h, .slots = slots, .n = n};
	atomic_init(&j.next, 0);
	atomic_init(&j.rc, BRAIN_OK);
	size_t nt = threads_for(h, n);
	pthread_t tid[256];
	size_t started = 0;
	for (size_t i = 1; i < nt; i++) {
		if (pthread_create(&tid[started], NULL, build_worker, &j) != 0)
			break; /* fewer threads: fine */
		started++;
	}
	build_worker(&j);
	for (size_t i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	return atomic_load(&j.rc);
}

/* ---- keeping every node reachable ---------------------------------------- */

/* Link `u` into the list of `r` on level 0, replacing r's farthest link
 * if the list is full (no heuristic: u must get an in-link). */
static void force_link(hnsw *h, uint32_t r, uint32_t u, float *wide)
{
	lock_node(h, r);
	brain_link *ln = links_of(h, r, 0);
	uint32_t cnt = BRAIN_MIN(atomic_load_explicit(&ln[0], memory_order_relaxed), h->M0);
	const float *v = as_query(h, r, wide);
	uint32_t worst = 0;
	float wd = -1.0f;
	bool present = false;
	for (uint32_t i = 1; i <= cnt; i++) {
		uint32_t x = atomic_load_explicit(&ln[i], memory_order_relaxed);
		present = present || x == u;
		float d = brain__flat_view_used(&h->fv, x) ? dist_to(h, v, x) : INFINITY;
		if (d > wd) {
			wd = d;
			worst = i;
		}
	}
	if (!present && cnt < h->M0) {
		atomic_store_explicit(&ln[1 + cnt], u, memory_order_relaxed);
		atomic_store_explicit(&ln[0], cnt + 1, memory_order_release);
	} else if (!present && worst) {
		atomic_store_explicit(&ln[worst], u, memory_order_release);
	}
	unlock_node(h, r);
}

/* Mark everything reachable from `from` on level 0. */
static void flood(const hnsw *h, uint64_t *seen, uint32_t *queue, uint32_t from)
{
	size_t limit = BRAIN_MIN(h->cap, h->fv.capacity);
	size_t head = 0, tail = 0;
	seen[from / 64] |= (uint64_t)1 << (from % 64);
	queue[tail++] = from;
	while (head < tail) {
		uint32_t c = queue[head++];
		const brain_link *ln = links_of(h, c, 0);
		uint32_t cnt = BRAIN_MIN(atomic_load_explicit(&ln[0], memory_order_acquire), h->M0);
		for (uint32_t i = 1; i <= cnt; i++) {
			uint32_t x = atomic_load_explicit(&ln[i], memory_order_relaxed);
			if (x >= limit || (seen[x / 64] >> (x % 64)) & 1 || !brain__flat_view_used(&h->fv, x))
				continue;
			seen[x / 64] |= (uint64_t)1 << (x % 64);
			queue[tail++] = x;
		}
	}
}

/* Give every live node that the entry point cannot reach an in-link from
 * its nearest reachable node. Concurrent inserts and link pruning leave a
 * few such nodes (in every HNSW library); so do deletions. Best effort:
 * without memory it does nothing. */
static void repair_reachability(hnsw *h)
{
	size_t limit = BRAIN_MIN(h->cap, h->fv.capacity);
	uint32_t ep;
	int ml;
	top_get(h, &ep, &ml);
	if (!h->graph || ml < 0 || ep >= limit || !brain__flat_view_used(&h->fv, ep))
		return;
	size_t words = limit / 64 + 1;
	uint64_t *seen = brain__calloc(words, sizeof *seen);
	uint32_t *queue = brain__malloc_array(limit + 1, sizeof *queue);
	brain_graph_scratch *s = NULL;
	if (!seen || !queue || scratch_get(h, limit, h->efc, &s) != BRAIN_OK) {
		brain__free(seen);
		brain__free(queue);
		return;
	}
	flood(h, seen, queue, ep);
	for (uint32_t u = 0; u < limit; u++) {
		if ((seen[u / 64] >> (u % 64)) & 1 || !brain__flat_view_used(&h->fv, u))
			continue;
		const float *q = as_query(h, u, s->wide);
		float d = dist_to(h, q, ep);
		uint32_t cur = descend(h, q, ep, &d, ml, 0);
		brain__visited_clear(&s->vis);
		size_t nres = 0;
		uint32_t best = ep;
		float bd = INFINITY;
		if (search_layer(h, s, q, NULL, cur, d, h->efc, 0, NULL, &nres) == BRAIN_OK) {
			for (size_t i = 0; i < nres; i++) {
				uint32_t r = s->res[i].s;
				if (r != u && (seen[r / 64] >> (r % 64)) & 1 && s->res[i].d < bd) {
					bd = s->res[i].d;
					best = r;
				}
			}
		}
		force_link(h, best, u, s->wide ? s->wide + h->dim : NULL);
		flood(h, seen, queue, u);
	}
	scratch_put(h, s);
	brain__free(seen);
	brain__free(queue);
}

/* ---- the vtable ---------------------------------------------------------- */

static void hnsw_close(brain_index *index);
static int hnsw_remove(brain_index *index, uint32_t slot);

static int hnsw_open(const brain_index_config *config, brain_index **out)
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

static void hnsw_close(brain_index *index)
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

static size_t row_extra(const hnsw *h)
{
	size_t links = (size_t)(1 + h->M0) * sizeof(brain_link);
	return links + (h->sq8 ? ((size_t)h->dim + 3) & ~(size_t)3 : 0);
}

/* ---- 8-bit copies -------------------------------------------------------- */

static inline bool sq_l2(const hnsw *h)
{
	return h->cfg.metric == BRAIN_METRIC_L2;
}

static void encode(const hnsw *h, const float *x, unsigned char *c)
{
	float inv = h->sq_step > 0 ? 1.0f / h->sq_step : 0.0f;
	for (uint32_t i = 0; i < h->dim; i++) {
		if (sq_l2(h)) {
			float v = (x[i] - h->sq_lo) * inv + 0.5f;
			c[i] = (unsigned char)(v <= 0 ? 0 : v >= 255 ? 255 : (int)v);
		} else {
			float v = x[i] * inv;
			int q = (int)lrintf(v < -127 ? -127 : v > 127 ? 127 : v);
			c[i] = (unsigned char)(signed char)q;
		}
	}
}

/* Learn the range from every stored vector and write every code. */
static void learn_codes(hnsw *h)
{
	size_t limit = h->fv.capacity;
	float lo = INFINITY, hi = -INFINITY, amax = 0;
	for (size_t s = 0; s < limit; s++) {
		if (!brain__flat_view_used(&h->fv, (uint32_t)s))
			continue;
		const float *v = vec_of(h, (uint32_t)s);
		for (uint32_t i = 0; i < h->dim; i++) {
			lo = BRAIN_MIN(lo, v[i]);
			hi = BRAIN_MAX(hi, v[i]);
			amax = BRAIN_MAX(amax, fabsf(v[i]));
		}
	}
	if (!(lo <= hi)) {
		lo = 0;
		hi = 1;
		amax = 1;
	}
	h->sq_lo = lo;
	h->sq_step = sq_l2(h) ? (hi - lo) / 255.0f : amax / 127.0f;
	for (size_t s = 0; s < limit; s++)
		if (brain__flat_view_used(&h->fv, (uint32_t)s))
			encode(h, vec_of(h, (uint32_t)s), codes_of(h, (uint32_t)s));
	h->sq_ready = true;
	h->sq_learned_at = brain__flat_count(h->store);
}

static size_t groups_for(size_t slots)
{
	return (slots + 63) / 64;
}

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

/* HNSW_ELEMENT: rows of floats or of 8-bit integers (their kernels, and
 * the buffer the deletion paths widen a row into). */
static int use_elem(hnsw *h, int64_t e)
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
		int rc = use_elem(h, brain__index_param(&h->cfg, BRAIN_PARAM_HNSW_ELEMENT));
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

static size_t exact_below(const hnsw *h)
{
	return (size_t)brain__index_param(&h->cfg, BRAIN_PARAM_HNSW_EXACT_BELOW);
}

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
		learn_codes(h);
	int rc = build(h, slots, n);
	brain__free(slots);
	if (rc)
		h->graph = false;
	else
		repair_reachability(h);
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
			learn_codes(h);
		else
			encode(h, vec_of(h, slot), codes_of(h, slot));
	}
	if (h->graph) {
		brain_graph_scratch *s = NULL;
		rc = scratch_get(h, h->cap, h->efc, &s);
		if (rc == BRAIN_OK)
			rc = brain__graph_scratch_cands(s, (size_t)h->M0 + 2);
		if (rc == BRAIN_OK)
			rc = insert(h, slot, s);
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
			learn_codes(h);
		else
			for (size_t i = 0; i < n; i++)
				encode(h, vec_of(h, slots[i]), codes_of(h, slots[i]));
	}
	if (rc == BRAIN_OK) {
		if (h->graph && (rc = build(h, slots, n)) == BRAIN_OK)
			repair_reachability(h);
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

/* ---- deletion ------------------------------------------------------------ */

/* Entry point after the old one left: a live node on the highest level. */
static void new_entry(hnsw *h)
{
	size_t limit = BRAIN_MIN(h->cap, h->fv.capacity);
	int best = -1;
	uint32_t at = 0;
	for (size_t s = 0; s < limit; s++) {
		if (brain__flat_view_used(&h->fv, (uint32_t)s) && h->levels[s] > best) {
			best = h->levels[s];
			at = (uint32_t)s;
		}
	}
	top_set(h, at, best);
}

/* Take slot d (no longer occupied) out of its neighbours' lists and
 * reconnect each of them to the best of d's other neighbours. Never
 * allocates. */
static void unlink_node(hnsw *h, uint32_t d)
{
	size_t limit = BRAIN_MIN(h->cap, h->fv.capacity);
	uint32_t ds[2 * 100 + 1];
	brain_cand c[4 * 100 + 4];
	int top = d < h->cap ? h->levels[d] : 0;
	for (int l = 0; l <= top; l++) {
		const brain_link *dl = links_of(h, d, l);
		uint32_t nd = BRAIN_MIN(atomic_load_explicit(&dl[0], memory_order_acquire), cap_of(h, l));
		for (uint32_t i = 0; i < nd; i++)
			ds[i] = atomic_load_explicit(&dl[1 + i], memory_order_relaxed);
		for (uint32_t i = 0; i < nd; i++) {
			uint32_t n = ds[i];
			if (n >= limit || n == d || h->levels[n] < l || !brain__flat_view_used(&h->fv, n))
				continue;
			lock_node(h, n);
			brain_link *ln = links_of(h, n, l);
			uint32_t cnt = BRAIN_MIN(atomic_load_explicit(&ln[0], memory_order_relaxed),
			                         cap_of(h, l));
			bool had = false;
			size_t m = 0;
			const float *v = as_query(h, n, h->wide);
			for (uint32_t j = 1; j <= cnt; j++) {
				uint32_t x = atomic_load_explicit(&ln[j], memory_order_relaxed);
				if (x == d) {
					had = true;
					continue;
				}
				if (x < limit && brain__flat_view_used(&h->fv, x))
					c[m++] = (brain_cand){dist_to(h, v, x), x};
			}
			if (had) {
				for (uint32_t j = 0; j < nd; j++) {
					uint32_t x = ds[j];
					bool dup = x == n || x >= limit || h->levels[x] < l ||
					           !brain__flat_view_used(&h->fv, x);
					for (size_t t = 0; t < m && !dup; t++)
						dup = c[t].s == x;
					if (!dup)
						c[m++] = (brain_cand){dist_to(h, v, x), x};
				}
				brain__cands_sort(c, m);
				m = select_neighbours(h, c, m, cap_of(h, l), h->wide ? h->wide + h->dim : NULL);
				brain__links_write(ln, c, m);
			}
			unlock_node(h, n);
		}
	}
	pthread_mutex_lock(&h->entry_lock);
	uint32_t ep;
	int ml;
	top_get(h, &ep, &ml);
	if (ep == d)
		new_entry(h);
	pthread_mutex_unlock(&h->entry_lock);
}

/* Replace the links to deleted nodes in every live node's lists by the
 * best of its live links and of what the deleted ones linked to (their
 * lists stay until their slot is reused). Repairs what unlink_node cannot
 * see: links into a deleted node from nodes it did not link to. Never
 * allocates. */
static void sweep_dead_links(hnsw *h)
{
	size_t limit = BRAIN_MIN(h->cap, h->fv.capacity);
	brain_cand c[4 * 200 + 8];
	const size_t room = BRAIN_ARRAY_LEN(c);
	for (size_t n = 0; n < limit; n++) {
		if (!brain__flat_view_used(&h->fv, (uint32_t)n))
			continue;
		for (int l = 0; l <= h->levels[n]; l++) {
			brain_link *ln = links_of(h, (uint32_t)n, l);
			uint32_t cnt = BRAIN_MIN(atomic_load_explicit(&ln[0], memory_order_relaxed),
			                         cap_of(h, l));
			bool dead = false;
			for (uint32_t i = 1; i <= cnt && !dead; i++) {
				uint32_t x = atomic_load_explicit(&ln[i], memory_order_relaxed);
				dead = x >= limit || !brain__flat_view_used(&h->fv, x);
			}
			if (!dead)
				continue;
			const float *v = as_query(h, (uint32_t)n, h->wide);
			size_t m = 0;
			lock_node(h, (uint32_t)n);
			for (uint32_t i = 1; i <= cnt; i++) {
				uint32_t x = atomic_load_explicit(&ln[i], memory_order_relaxed);
				if (x >= limit)
					continue;
				if (brain__flat_view_used(&h->fv, x)) {
					bool dup = false;
					for (size_t t = 0; t < m && !dup; t++)
						dup = c[t].s == x;
					if (!dup && m < room)
						c[m++] = (brain_cand){dist_to(h, v, x), x};
					continue;
				}
				/* a dead link: take what it linked to */
				const brain_link *dl = links_of(h, x, l <= h->levels[x] ? l : 0);
				uint32_t dc = BRAIN_MIN(atomic_load_explicit(&dl[0], memory_order_relaxed),
				                        cap_of(h, l <= h->levels[x] ? l : 0));
				for (uint32_t j = 1; j <= dc && l <= h->levels[x]; j++) {
					uint32_t y = atomic_load_explicit(&dl[j], memory_order_relaxed);
					if (y >= limit || y == n || h->levels[y] < l ||
					    !brain__flat_view_used(&h->fv, y))
						continue;
					bool dup = false;
					for (size_t t = 0; t < m && !dup; t++)
						dup = c[t].s == y;
					if (!dup && m < room)
						c[m++] = (brain_cand){dist_to(h, v, y), y};
				}
			}
			brain__cands_sort(c, m);
			m = select_neighbours(h, c, m, cap_of(h, l), h->wide ? h->wide + h->dim : NULL);
			brain__links_write(ln, c, m);
			unlock_node(h, (uint32_t)n);
		}
	}
	h->removed = 0;
}

static int hnsw_remove(brain_index *index, uint32_t slot)
{
	hnsw *h = hnsw_of(index);
	if (!h->store)
		return brain__err(BRAIN_ENOTFOUND, "hnsw: slot %u holds no vector", slot);
	int rc = flat->remove(h->store, slot);
	if (rc == BRAIN_OK && h->graph) {
		unlink_node(h, slot);
		/* every so many deletions (an eighth of what is left), sweep the
		 * links they left behind: O(nodes) now and then, O(1) amortized */
		if (++h->removed > brain__flat_count(h->store) / 8) {
			sweep_dead_links(h);
			repair_reachability(h);
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

/* ---- searching ----------------------------------------------------------- */

/* Share of occupied slots the filter accepts, from a sample; -1 if the
 * sample is too small to tell. */
static double pass_rate(const hnsw *h, const brain_index_filter *filter)
{
	size_t limit = h->fv.capacity, tried = 0, passed = 0;
	for (uint64_t i = 0; i < 4096 && tried < 256; i++) {
		uint32_t s = (uint32_t)(brain__mix64(i + 1) % limit);
		if (!brain__flat_view_used(&h->fv, s))
			continue;
		tried++;
		passed += filter->accept(s, filter->payload) != 0;
	}
	return tried < 32 ? -1.0 : (double)passed / (double)tried;
}

static int hnsw_search(const brain_index *index, const float *query, size_t k,
                       const brain_index_filter *filter, uint32_t *slots, float *distances,
                       size_t *found)
{
	hnsw *h = hnsw_of((brain_index *)index);
	*found = 0;
	if (!h->store || k == 0)
		return BRAIN_OK;
	size_t count = brain__flat_count(h->store);
	size_t limit = h->fv.capacity;
	uint32_t ep;
	int ml;
	top_get(h, &ep, &ml);
	if (!h->graph || count < exact_below(h) || ml < 0 || ep >= limit || ep >= h->cap ||
	    !brain__flat_view_used(&h->fv, ep))
		return flat->search(h->store, query, k, filter, slots, distances, found);
	ml = BRAIN_MIN(ml, (int)h->levels[ep]);
	if (k > count)
		k = count;
	size_t ef = (size_t)BRAIN_MAX(brain__index_param(&h->cfg, BRAIN_PARAM_HNSW_EF_SEARCH),
	                              (int64_t)k);
	ef = BRAIN_MIN(ef, count);
	if (filter) {
		/* Few pass: exact over them is cheaper and never misses. Otherwise
		 * widen the search by how many the filter turns away. */
		double p = pass_rate(h, filter);
		if (p < 0 || p * (double)count < (double)BRAIN_MAX(4 * ef, (size_t)2000) || p < 0.02)
			return flat->search(h->store, query, k, filter, slots, distances, found);
		ef = (size_t)BRAIN_MIN((double)count, (double)ef / p);
	}
	brain_graph_scratch *s = NULL;
	int rc = scratch_get(h, limit, ef, &s);
	if (rc)
		return rc;
	float d = dist_to(h, query, ep);
	uint32_t cur = descend(h, query, ep, &d, ml, 0);
	size_t nres = 0;
	bool coded = h->sq8 && h->sq_ready;
	if (coded) {
		encode(h, query, s->qcode);
		d = h->code_dist(s->qcode, codes_of(h, cur), h->dim);
	}
	bool sorted = !filter;
	if (sorted)
		search_pool(h, s, query, coded ? s->qcode : NULL, cur, d, ef, 0, &nres);
	else
		rc = search_layer(h, s, query, coded ? s->qcode : NULL, cur, d, ef, 0, filter, &nres);
	if (rc == BRAIN_OK && coded) {
		/* rerank the candidates on the float vectors */
		for (size_t i = 0; i < nres; i++)
			s->res[i].d = dist_to(h, query, s->res[i].s);
		size_t n = 0;
		for (size_t i = 0; i < nres; i++)
			brain__maxheap_push(s->res, &n, s->res[i]); /* in place: i >= n */
		sorted = false;
	}
	if (rc == BRAIN_OK && !sorted)
		brain__results_sort(s->res, nres); /* nearest first */
	if (rc == BRAIN_OK) {
		size_t n = BRAIN_MIN(k, nres);
		for (size_t i = 0; i < n; i++) {
			slots[i] = s->res[i].s;
			distances[i] = s->res[i].d;
		}
		*found = n;
	}
	scratch_put(h, s);
	/* A walk that found fewer than there are (a graph cut by deletions)
	 * falls back on the exact search rather than answer short. */
	if (rc == BRAIN_OK && !filter && *found < k)
		return flat->search(h->store, query, k, NULL, slots, distances, found);
	return rc;
}

/* ---- saving and loading -------------------------------------------------- */

typedef struct hnsw_saved {
	uint32_t magic;
	uint32_t version;
	uint32_t M, M0, efc;
	uint32_t graph;     /* 1: the graph exists */
	int32_t max_level;  /* -1: empty */
	uint32_t entry;
	uint64_t seed;
	uint64_t cap;       /* slots with levels */
	uint64_t pool_len;  /* u32 words of upper layers */
	uint32_t has_store; /* 0: nothing was ever added */
	uint32_t sq8;       /* rows carry 8-bit codes */
	uint32_t sq_ready;  /* the codes are written */
	float sq_lo, sq_step;
	uint32_t row_align; /* of the flat rows; 0: 4 (images before it) */
	/* ---- version 2 ---- */
	uint32_t exact_below; /* HNSW_EXACT_BELOW when saved (capped to 2^32 - 1) */
	uint32_t elem;        /* HNSW_ELEMENT: 0 floats, 1 uint8, 2 int8 */
} hnsw_saved;
_Static_assert(sizeof(hnsw_saved) == 88, "hnsw header layout");
/* Version 1 headers end before exact_below. */
#define HNSW_SAVED_V1_BYTES ((size_t)80)

static size_t header_bytes(uint32_t version)
{
	return version == 1 ? HNSW_SAVED_V1_BYTES : sizeof(hnsw_saved);
}

static size_t pad4(size_t x)
{
	return (x + 3) & ~(size_t)3;
}

/* Offset of the flat store's bytes in the saved form. */
static size_t store_offset(size_t header, uint64_t cap, uint64_t pool_len)
{
	size_t head = header + pad4((size_t)cap) + groups_for((size_t)cap) * 4 +
	              (size_t)pool_len * 4;
	return (head + PAGE - 1) & ~(size_t)(PAGE - 1);
}

static int hnsw_save(const brain_index *index, const brain_index_writer *w)
{
	const hnsw *h = chnsw_of(index);
	static const unsigned char zeros[PAGE];
	int64_t below = brain__index_param(&h->cfg, BRAIN_PARAM_HNSW_EXACT_BELOW);
	uint32_t ep;
	int ml;
	top_get(h, &ep, &ml);
	hnsw_saved hd = {HNSW_MAGIC, 2, h->M, h->M0, h->efc, h->graph ? 1u : 0u, ml, ep,
	                 h->seed, h->cap, h->pool_len, h->store ? 1u : 0u, h->sq8 ? 1u : 0u,
	                 h->sq_ready ? 1u : 0u, h->sq_lo, h->sq_step, h->row_align,
	                 (uint32_t)BRAIN_MIN(BRAIN_MAX(below, 0), (int64_t)UINT32_MAX),
	                 (uint32_t)h->elem};
	int rc = w->write(w->payload, &hd, sizeof hd);
	if (rc == BRAIN_OK && h->cap)
		rc = w->write(w->payload, h->levels, h->cap);
	if (rc == BRAIN_OK && pad4(h->cap) > h->cap)
		rc = w->write(w->payload, zeros, pad4(h->cap) - h->cap);
	if (rc == BRAIN_OK && h->cap)
		rc = w->write(w->payload, h->group_at, groups_for(h->cap) * sizeof *h->group_at);
	/* the pool word by word would be slow: its atomics are plain words */
	if (rc == BRAIN_OK && h->pool_len)
		rc = w->write(w->payload, (const void *)h->pool, h->pool_len * sizeof *h->pool);
	size_t head = sizeof hd + pad4(h->cap) + groups_for(h->cap) * 4 + h->pool_len * 4;
	if (rc == BRAIN_OK && h->store)
		rc = w->write(w->payload, zeros, store_offset(sizeof hd, h->cap, h->pool_len) - head);
	if (rc == BRAIN_OK && h->store)
		rc = flat->save(h->store, w);
	return rc;
}

static int hnsw_load(const brain_index_config *config, void *data, size_t len,
                     brain_index **out)
{
	int rc = hnsw_open(config, out);
	if (rc)
		return rc;
	hnsw *h = hnsw_of(*out);
	hnsw_saved hd;
	memset(&hd, 0, sizeof hd);
	unsigned char *bytes = data;
	if (len >= 2 * sizeof(uint32_t))
		memcpy(&hd, data, 2 * sizeof(uint32_t)); /* magic, version */
	size_t hsize = header_bytes(hd.version);
	if (len < hsize) {
		rc = brain__err(BRAIN_ECORRUPT, "hnsw: saved index of %zu bytes is too short", len);
		goto fail;
	}
	memcpy(&hd, data, hsize);
	if (hd.magic == HNSW_MAGIC && hd.version > 2) {
		rc = brain__err(BRAIN_EVERSION, "hnsw: saved index is version %u, this library reads "
		                "1 and 2 (written by a newer braincore)", hd.version);
		goto fail;
	}
	if (hd.magic != HNSW_MAGIC || hd.version < 1 || hd.elem > BRAIN_ELEM_I8 ||
	    hd.has_store > 1 ||
	    (hd.has_store && (hd.M < 2 || hd.M > 100 || hd.M0 != 2 * hd.M || hd.efc == 0)) ||
	    hd.graph > 1 ||
	    hd.max_level > MAX_LEVEL || hd.max_level < -1 || hd.cap > (uint64_t)UINT32_MAX + 1 ||
	    hd.pool_len > UINT32_MAX || (!hd.has_store && (hd.cap || hd.graph))) {
		rc = brain__err(BRAIN_ECORRUPT, "hnsw: saved index header is out of range");
		goto fail;
	}
	h->row_align = hd.row_align ? hd.row_align : 4;
	if (h->row_align < 4 || h->row_align > 64 || (h->row_align & (h->row_align - 1))) {
		rc = brain__err(BRAIN_ECORRUPT, "hnsw: saved row alignment %u is not 4..64",
		                (unsigned)hd.row_align);
		goto fail;
	}
	h->M = hd.M;
	h->M0 = hd.M0;
	h->efc = hd.efc;
	h->seed = hd.seed;
	h->mult = 1.0 / log((double)BRAIN_MAX(h->M, 2u));
	h->graph = hd.graph != 0;
	if (hd.sq8 > 1 || hd.sq_ready > 1 || (hd.sq_ready && !hd.sq8) ||
	    !(hd.sq_step >= 0.0f && hd.sq_step < INFINITY) || !(fabsf(hd.sq_lo) < INFINITY)) {
		rc = brain__err(BRAIN_ECORRUPT, "hnsw: saved 8-bit range is out of range");
		goto fail;
	}
	h->sq8 = hd.sq8 != 0;
	h->sq_ready = hd.sq_ready != 0;
	h->sq_lo = hd.sq_lo;
	h->sq_step = hd.sq_step;
	rc = use_elem(h, hd.elem);
	if (rc) {
		if (rc == BRAIN_EINVAL)
			rc = brain__err_context(BRAIN_ECORRUPT, "hnsw: saved index: ");
		goto fail;
	}
	h->code_off = row_vector_bytes(h) + (size_t)(1 + h->M0) * sizeof(brain_link);
	top_set(h, hd.entry, hd.max_level);
	h->saved.loaded = true;
	h->saved.shape = hd.has_store != 0;
	h->saved.exact_below_known = hd.version >= 2;
	h->saved.exact_below = hd.exact_below;
	if (!hd.has_store)
		return BRAIN_OK; /* shape read again at the first reserve */
	size_t off = store_offset(hsize, hd.cap, hd.pool_len);
	if (off > len) {
		rc = brain__err(BRAIN_ECORRUPT, "hnsw: saved index of %zu bytes does not hold its "
		                "%llu levels", len, (unsigned long long)hd.cap);
		goto fail;
	}
	h->levels = bytes + hsize;
	h->group_at = (uint32_t *)(void *)(bytes + hsize + pad4((size_t)hd.cap));
	h->pool = (brain_link *)(void *)(bytes + hsize + pad4((size_t)hd.cap) +
	                             groups_for((size_t)hd.cap) * 4);
	h->cap = (size_t)hd.cap;
	h->pool_len = (size_t)hd.pool_len;
	h->borrowed = true;
	/* each group's blocks start where the previous group's end, and all
	 * lie in the pool */
	uint64_t at = 0;
	for (size_t s = 0; s < h->cap; s++) {
		if (s % 64 == 0 && h->group_at[s / 64] != at) {
			rc = brain__err(BRAIN_ECORRUPT, "hnsw: slot group %zu starts at %u, not %llu",
			                s / 64, h->group_at[s / 64], (unsigned long long)at);
			goto fail;
		}
		if (h->levels[s] > MAX_LEVEL) {
			rc = brain__err(BRAIN_ECORRUPT, "hnsw: slot %zu has level %u", s, h->levels[s]);
			goto fail;
		}
		at += (uint64_t)h->levels[s] * (1 + h->M);
	}
	if (at != h->pool_len) {
		rc = brain__err(BRAIN_ECORRUPT, "hnsw: upper layers hold %llu words, the levels need "
		                "%llu", (unsigned long long)h->pool_len, (unsigned long long)at);
		goto fail;
	}
	rc = brain__flat_load_ex(&h->cfg, row_extra(h), h->row_align, h->elem, bytes + off,
	                         len - off, &h->store);
	if (rc)
		goto fail;
	brain__flat_view(h->store, &h->fv);
	/* every stored node was wholly inserted before it was saved */
	h->ready = brain__calloc(h->cap / 64 + 1, sizeof *h->ready);
	if (!h->ready) {
		rc = brain__oom((h->cap / 64 + 1) * sizeof *h->ready, "hnsw ready bits");
		goto fail;
	}
	for (size_t s2 = 0; s2 < h->cap && s2 < h->fv.capacity; s2++)
		if (brain__flat_view_used(&h->fv, (uint32_t)s2))
			set_ready(h, (uint32_t)s2, true);
	h->sq_learned_at = brain__flat_count(h->store);
	return BRAIN_OK;
fail:
	hnsw_close(*out);
	*out = NULL;
	return rc;
}

bool brain__hnsw_saved(const brain_index *index, brain_hnsw_saved *out)
{
	const hnsw *h = chnsw_of(index);
	memset(out, 0, sizeof *out);
	if (!h->saved.loaded)
		return false;
	out->shape = h->saved.shape;
	if (out->shape) {
		out->m = h->M;
		out->ef_construction = h->efc;
		out->seed = (int64_t)(h->seed & (uint64_t)INT64_MAX);
		out->sq8 = h->sq8;
		out->element = h->elem;
	}
	out->exact_below_known = h->saved.exact_below_known;
	out->exact_below = h->saved.exact_below;
	return true;
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
	.capabilities = BRAIN_INDEX_CAP_FILTER,
	.open = hnsw_open,
	.reserve = hnsw_reserve,
	.add = hnsw_add,
	.remove = hnsw_remove,
	.get = hnsw_get,
	.search = hnsw_search,
	.memory_usage = hnsw_memory_usage,
	.close = hnsw_close,
	.save = hnsw_save,
	.load = hnsw_load,
	.add_batch = hnsw_add_batch,
};
