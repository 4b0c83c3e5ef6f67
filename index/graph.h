/*
 * index/graph.h - the parts of a best-first graph walk that every graph
 * backend shares (hnsw now; a Vamana/DiskANN backend later): adjacency
 * lists, candidates and the pools that hold them, visited tags, the
 * per-thread search scratch, and the beam step's primitives.
 *
 * What is here is what does not depend on how a backend lays out its
 * nodes. The beam loop itself stays in each backend (hnsw_search.c): its
 * expansion filters nodes by the backend's own state and computes
 * distances with the backend's own rows, and sharing it through function
 * pointers would cost an indirect call per node. The hot functions are
 * static inline (the prefetch helper always inline, see below), so a
 * backend's loop compiles as if it had written them itself.
 */
#ifndef BRAIN_INDEX_GRAPH_H
#define BRAIN_INDEX_GRAPH_H

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "base/base.h"

/* ---- adjacency lists ------------------------------------------------------
 *
 * A node's neighbours on one layer: words [count][id 1]..[id cap], each an
 * atomic. A writer (holding the node's lock) stores the ids, then the
 * count with release; a reader loads the count with acquire and clamps it
 * to cap. A reader may see a list mid-rewrite (old and new ids mixed,
 * each a valid node), never a torn word. */
typedef _Atomic uint32_t brain_link;

/* ---- candidates ---------------------------------------------------------- */

/* A node and its distance to the query. */
typedef struct brain_cand {
	float d;
	uint32_t s;
} brain_cand;

/* a nearer than b: the smaller distance, ties by the smaller slot (a
 * total order, so every walk is deterministic). */
static inline bool brain__cand_nearer(brain_cand a, brain_cand b)
{
	/* | and & rather than || and &&: no short-circuit branch (with it,
	 * SIFT5k searches missed 255 branches a query; 167 without) */
	return (a.d < b.d) | ((a.d == b.d) & (a.s < b.s));
}

/* Min-heap of n candidates (nearest on top). */
static inline void brain__minheap_push(brain_cand *h, size_t *n, brain_cand c)
{
	size_t i = (*n)++;
	while (i) {
		size_t p = (i - 1) / 2;
		if (!brain__cand_nearer(c, h[p]))
			break;
		h[i] = h[p];
		i = p;
	}
	h[i] = c;
}

static inline brain_cand brain__minheap_pop(brain_cand *h, size_t *n)
{
	brain_cand top = h[0], last = h[--*n];
	size_t i = 0, m = *n;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= m)
			break;
		if (c + 1 < m && brain__cand_nearer(h[c + 1], h[c]))
			c++;
		if (!brain__cand_nearer(h[c], last))
			break;
		h[i] = h[c];
		i = c;
	}
	if (m)
		h[i] = last;
	return top;
}

/* Max-heap of n candidates (farthest on top). */
static inline void brain__maxheap_push(brain_cand *h, size_t *n, brain_cand c)
{
	size_t i = (*n)++;
	while (i) {
		size_t p = (i - 1) / 2;
		if (!brain__cand_nearer(h[p], c))
			break;
		h[i] = h[p];
		i = p;
	}
	h[i] = c;
}

static inline void brain__maxheap_pop(brain_cand *h, size_t *n)
{
	brain_cand last = h[--*n];
	size_t i = 0, m = *n;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= m)
			break;
		if (c + 1 < m && brain__cand_nearer(h[c], h[c + 1]))
			c++;
		if (!brain__cand_nearer(last, h[c]))
			break;
		h[i] = h[c];
		i = c;
	}
	if (m)
		h[i] = last;
}

/* Sort candidates nearest first (insertion sort: lists are short). */
static inline void brain__cands_sort(brain_cand *c, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		brain_cand x = c[i];
		size_t j = i;
		while (j && brain__cand_nearer(x, c[j - 1])) {
			c[j] = c[j - 1];
			j--;
		}
		c[j] = x;
	}
}

/* Store the n candidates' slots as the list ln (count last, release). */
static inline void brain__links_write(brain_link *ln, const brain_cand *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		atomic_store_explicit(&ln[1 + i], c[i].s, memory_order_relaxed);
	atomic_store_explicit(&ln[0], (uint32_t)n, memory_order_release);
}

/* ---- the bounded result pool ----------------------------------------------
 *
 * The ef nearest candidates seen, sorted nearest first, with a mark per
 * entry once it has been expanded: the nearest unexpanded entry is
 * expanded next, and a walk ends when every entry has been. One sorted
 * array instead of a candidate heap and a result heap (for a walk without
 * a filter; with one, the heaps above, since rejected nodes must still be
 * expanded but not returned). */
typedef struct brain_pool {
	brain_cand *e;       /* room for ef */
	unsigned char *done; /* done[i]: e[i] was expanded; room for ef */
	size_t n, ef;        /* 1 <= n <= ef */
} brain_pool;

/* A pool holding only `first`, unexpanded. */
static inline void brain__pool_start(brain_pool *p, brain_cand *e, unsigned char *done,
                                     size_t ef, brain_cand first)
{
	p->e = e;
	p->done = done;
	p->n = 1;
	p->ef = ef;
	e[0] = first;
	done[0] = 0;
}

/* Would c enter the pool (it is not full, or c is nearer than its last)? */
static inline bool brain__pool_admits(const brain_pool *p, brain_cand c)
{
	return !(p->n == p->ef && !brain__cand_nearer(c, p->e[p->n - 1]));
}

/* Put c (admitted) in its place, unexpanded, dropping the last entry if
 * the pool is full; returns the place. */
static inline size_t brain__pool_insert(brain_pool *p, brain_cand c)
{
	brain_cand *pool = p->e;
	unsigned char *done = p->done;
	size_t n = p->n;
	/* the place: a binary search (branch-free versions measured slower:
	 * they chain every step's load on the last compare, where a predicted
	 * branch lets the loads overlap), then shift the tail by one */
	size_t lo = 0, len = n;
	while (len > 1) {
		size_t half = len / 2;
		lo = brain__cand_nearer(pool[lo + half - 1], c) ? lo + half : lo;
		len -= half;
	}
	if (len == 1 && brain__cand_nearer(pool[lo], c))
		lo++;
	size_t end = n == p->ef ? n - 1 : n;
	if (end - lo > 16) {
		memmove(pool + lo + 1, pool + lo, (end - lo) * sizeof *pool);
		memmove(done + lo + 1, done + lo, end - lo);
	} else {
		for (size_t j = end; j > lo; j--) {
			pool[j] = pool[j - 1];
			done[j] = done[j - 1];
		}
	}
	pool[lo] = c;
	done[lo] = 0;
	if (n < p->ef)
		p->n = n + 1;
	return lo;
}

/* The first unexpanded entry at or after `from`; p->n if none. */
static inline size_t brain__pool_next(const brain_pool *p, size_t from)
{
	while (from < p->n && p->done[from])
		from++;
	return from;
}

/* ---- bounded results in a heap ------------------------------------------- */

/* Would a candidate at distance d enter the nr (of at most ef) results in
 * the max-heap res? */
static inline bool brain__results_admit(const brain_cand *res, size_t nr, size_t ef, float d)
{
	return !(nr >= ef && !(d < res[0].d));
}

/* Add c to the results, dropping the farthest if there are then ef + 1
 * (res has room for ef + 1). */
static inline void brain__results_push(brain_cand *res, size_t *nr, size_t ef, brain_cand c)
{
	brain__maxheap_push(res, nr, c);
	if (*nr > ef)
		brain__maxheap_pop(res, nr);
}

/* Sort the max-heap res of n results nearest first, in place. */
static inline void brain__results_sort(brain_cand *res, size_t n)
{
	/* pop the max-heap from the back: each farthest goes to the slot the
	 * pop just freed at the end */
	for (size_t i = n; i > 0; i--) {
		brain_cand top = res[0];
		size_t m = i;
		brain__maxheap_pop(res, &m);
		res[i - 1] = top;
	}
}

/* ---- visited tags ---------------------------------------------------------
 *
 * A tag per slot: slot x was visited in this walk when tag[x] == cur. A
 * new walk increments cur instead of clearing the array (clearing only
 * when cur wraps, once in 65,535 walks). */
typedef struct brain_visited {
	uint16_t *tag;
	size_t cap; /* slots with a tag */
	uint16_t cur;
} brain_visited;

/* Start a new walk: nothing is visited. */
static inline void brain__visited_clear(brain_visited *v)
{
	if (++v->cur == 0) {
		memset(v->tag, 0, v->cap * sizeof *v->tag);
		v->cur = 1;
	}
}

static inline void brain__visited_mark(brain_visited *v, uint32_t x)
{
	v->tag[x] = v->cur;
}

/* Tags for at least `slots` slots (the new ones unvisited). 0 or
 * BRAIN_ENOMEM (`what` names the tags in the message). */
int brain__visited_reserve(brain_visited *v, size_t slots, const char *what);

/* ---- the beam step --------------------------------------------------------
 *
 * Expanding a node: its neighbours not yet visited (marked now), then
 * those the backend keeps (live, wholly inserted) prefetched and their
 * distances computed at once, then each offered to the pool
 * (brain__pool_admits and brain__pool_insert, or the heaps). The first
 * part is here; the rest reads the backend's rows and stays with it. */

/* The ids below `limit` in the list ln (count clamped to cap) that v has
 * not visited, into ids; marks them visited. Returns how many. No branch
 * on "visited" (a coin flip the predictor cannot learn). */
static inline size_t brain__beam_fresh(brain_visited *v, const brain_link *ln, uint32_t cap,
                                       size_t limit, uint32_t *ids)
{
	uint32_t cnt = atomic_load_explicit(&ln[0], memory_order_acquire);
	if (cnt > cap)
		cnt = cap; /* damaged or mid-rewrite: stay in bounds */
	size_t f = 0;
	for (uint32_t i = 1; i <= cnt; i++) {
		uint32_t x = atomic_load_explicit(&ln[i], memory_order_relaxed);
		if (x >= limit)
			continue;
		uint16_t *t = &v->tag[x];
		size_t fresh = *t != v->cur;
		*t = v->cur;
		ids[f] = x;
		f += fresh;
	}
	return f;
}

/* The prefetch helpers must be inlined before GCC's IPA pure-const pass
 * runs: a function holding nothing but __builtin_prefetch is found
 * "const", and GCC 12 then deletes every call to it (the release build
 * had no prefetch instruction at all until this; tests/check_codegen.sh
 * looks for them in the library). Inlined early, the prefetches sit in
 * callers that write memory and stay. */
#if defined(__GNUC__)
#define BRAIN_PREFETCH_INLINE static inline __attribute__((always_inline))
#else
#define BRAIN_PREFETCH_INLINE static inline
#endif

/* Ask for every cache line of [p, p + len): a distance reads the whole
 * vector, and the next-line prefetcher alone leaves most of a 400-byte
 * row to be fetched one miss after another. */
BRAIN_PREFETCH_INLINE void brain__prefetch_bytes(const void *p, size_t len)
{
	/* The same number of lines for every row of a given length, whatever
	 * its offset in a line: a loop the branch predictor learns. */
	const char *first = (const char *)((uintptr_t)p & ~(uintptr_t)63);
	size_t lines = (len + 126) / 64;
	for (size_t i = 0; i < lines; i++)
		__builtin_prefetch(first + 64 * i);
}

/* ---- the per-thread search scratch ----------------------------------------
 *
 * What one walk needs, kept between walks: a walk takes a scratch from its
 * index's spares (or makes one), and gives it back. Each is used by one
 * thread at a time. */
typedef struct brain_graph_scratch {
	brain_visited vis;
	brain_cand *cand, *res; /* candidate heap; results (heap or pool) */
	size_t cand_cap, res_cap;
	unsigned char *done; /* the pool's expanded marks */
	size_t done_cap;
	unsigned char *qcode; /* the query's code (SQ8, or a row's: uint8, Q8) */
	size_t qcode_cap;
	uint32_t *ids;     /* one expansion: neighbours, */
	float *dists;      /* their distances */
	const void **rows; /* and their rows */
	size_t ids_cap, dists_cap; /* dists_cap: of dists and of rows */
	float *wide; /* floats for the backend (8-bit rows widened) */
	size_t wide_cap;
	const char *what; /* its spares' name for it, in out-of-memory errors */
} brain_graph_scratch;

/* What a scratch must hold. */
typedef struct brain_graph_need {
	size_t slots;       /* visited tags */
	size_t ef;          /* results ef + 1, pool marks ef + 1, candidates ef + 64 */
	size_t degree;      /* neighbours of one expansion */
	size_t code_bytes;  /* the query's code; 0: none */
	size_t wide_floats; /* 0: none */
} brain_graph_need;

/* An index's scratches not in use. */
typedef struct brain_graph_spares {
	pthread_mutex_t lock;
	brain_graph_scratch **spare;
	size_t n, cap;
	const char *what;     /* names a scratch in out-of-memory errors */
	const char *what_vis; /* and its visited tags */
} brain_graph_spares;

void brain__graph_spares_init(brain_graph_spares *sp, const char *what, const char *what_vis);
/* Frees the spares (none may be in use). */
void brain__graph_spares_destroy(brain_graph_spares *sp);
/* Bytes the spares hold (thread-safe). */
size_t brain__graph_spares_bytes(brain_graph_spares *sp);

/* A scratch holding at least `need`, visited tags cleared: a spare or a
 * new one. 0 or BRAIN_ENOMEM. Thread-safe. */
int brain__graph_scratch_get(brain_graph_spares *sp, const brain_graph_need *need,
                             brain_graph_scratch **out);
/* Give s back to the spares (freed if the list cannot grow). Thread-safe. */
void brain__graph_scratch_put(brain_graph_spares *sp, brain_graph_scratch *s);

/* Grow *p (of *cap elements of `elem` bytes) to at least `need`, at least
 * doubling. 0 or BRAIN_ENOMEM (`what` names it). */
int brain__graph_grow(void **p, size_t *cap, size_t need, size_t elem, const char *what);

/* Room for at least `need` candidates in s's candidate heap. 0 or
 * BRAIN_ENOMEM. */
static inline int brain__graph_scratch_cands(brain_graph_scratch *s, size_t need)
{
	if (need <= s->cand_cap)
		return BRAIN_OK;
	return brain__graph_grow((void **)&s->cand, &s->cand_cap, need, sizeof *s->cand, s->what);
}

#endif /* BRAIN_INDEX_GRAPH_H */
