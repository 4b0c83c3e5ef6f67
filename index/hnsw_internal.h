/*
 * index/hnsw_internal.h - what the files of the "hnsw" backend share (not a
 * public header, and no other backend includes it): the index's struct,
 * where a node's vector, codes and links lie, small inline accessors, and
 * the functions one hnsw file calls in another (brain__hnsw_*, hidden
 * like everything in the layer).
 *
 * The files, by job:
 *   hnsw.c         the vtable: open, close, reserve, add, add_batch,
 *                  remove, get, memory_usage
 *   hnsw_build.c   insertion: choosing neighbours, linking, threaded build
 *   hnsw_search.c  walks: layer search, descent, pool search, the search
 *   hnsw_delete.c  unlinking a deleted node, sweeping dead links, keeping
 *                  every node reachable
 *   hnsw_sq8.c     the 8-bit quantiser (its kernels are in distance*.c)
 *   hnsw_file.c    the saved form: save, load
 * and graph.h, what any graph backend shares (candidates, pools, visited
 * tags, scratch, the beam step).
 *
 * Layout. Every slot's row in the flat store holds its vector and, right
 * after it, its bottom-layer links (a count and up to 2M neighbour slots),
 * so expanding a node and reading its vector touch neighbouring memory.
 * Rows are 32-byte aligned (ROW_ALIGN: at most 28 bytes of padding, so a
 * node costs about what hnswlib's costs). Upper layers live in one pool of
 * u32, in slot order: a node on level L owns L blocks of (count, M
 * links). A node's level is a function of the seed and its slot, so the
 * pool's layout is known when slots are reserved, and adding never
 * allocates. Where a node's blocks start is the pool offset of its group
 * of 64 slots plus the levels of the slots before it in the group: 1 byte
 * (its level) and 1/16 byte per node, where a per-node offset would cost
 * 4.
 *
 * Concurrency. Link words are atomics: a writer (holding the node's lock
 * stripe) stores the neighbours, then the count with release; a reader
 * loads the count with acquire. A reader may see a list mid-rewrite (a mix
 * of old and new neighbours, each a valid node whose vector was written
 * before it was first linked), never a torn word. Inserts may run on many
 * threads at once (add_batch, build) and searches alongside them.
 *
 * The tail (index vtable version 5). add() stores a vector and, while the
 * tail holds fewer than INDEX_TAIL_MAX, only appends its slot to the tail;
 * build() (the brain's background threads, or brain_tick) puts the tail's
 * nodes into the graph, a batch at a time, on THREADS threads, while
 * searches, adds and removes go on. A search walks the graph and scans the
 * tail exactly, so it finds every vector stored. build_lock orders the
 * rest: each insert of build() and an add's own insert hold it shared,
 * and so do build()'s sweep of the links deletions left and its repair of
 * reachability (each list rewritten under its node's lock, giving way to
 * a change that waits); whatever moves the arrays (reserve's growth, a
 * shrink), unlinks (remove), rewrites the codes (the SQ8 range) or saves
 * holds it exclusively, so a change waits at most for the inserts under
 * way (one per builder thread).
 */
#ifndef BRAIN_INDEX_HNSW_INTERNAL_H
#define BRAIN_INDEX_HNSW_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "index/distance.h"
#include "index/flat.h"
#include "index/graph.h"
#include "index/hnsw.h"
#include "index/backend.h"

#define MAX_LEVEL 15
#define LOCK_STRIPES 4096u
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
	/* A row is its own code (code_off 0), and walks compare codes with
	 * code_dist_to() instead of widening every row to floats: uint8 rows
	 * under L2 (HNSW_ELEMENT 1; exact integer sums, for inserts and for
	 * queries whose components are all integers in 0..255), and Q8 rows
	 * (HNSW_ELEMENT 3; the query quantised as a row is, the walk's
	 * candidates reranked on the float kernel) */
	bool row_codes;
	float sq_lo, sq_step;
	size_t code_off; /* byte offset of the codes in a row (brain__hnsw_code_off) */
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

	/* deletions since the last sweep of dead links (remove(), under
	 * build_lock exclusively; build()'s sweep takes off those it swept);
	 * a sweep that gave way resumes at sweep_at and, once through, takes
	 * off sweep_base, the deletions there were when it began */
	_Atomic size_t removed;
	size_t sweep_at, sweep_base;
	size_t sq_learned_at; /* count when the 8-bit range was learned */
	/* bit s: slot s is wholly inserted. A node is linked to before its
	 * lower lists are written; searches do not walk through it until then
	 * (else a newcomer may take it as its only way in and lose the link). */
	_Atomic uint64_t *ready;

	/* The tail: slots stored but not yet in the graph, in the order added,
	 * in a ring of tail_cap entries (a power of two); entry i lies at
	 * tail[i & (tail_cap - 1)]. [tail_head, tail_end) are searched
	 * exactly; a slot may appear there twice (removed and reused, or being
	 * linked now): searches skip what they have seen. Entries are appended
	 * under the brain's write lock and tail_mu; build() copies them out
	 * under tail_mu and moves tail_head. */
	uint32_t *tail;
	size_t tail_cap;
	_Atomic uint64_t tail_head, tail_end;
	/* bit s: slot s was taken to be inserted (by build, or an add past
	 * INDEX_TAIL_MAX); a remove clears it, so a slot is inserted once per
	 * life however often the tail names it */
	_Atomic uint64_t *claimed;
	/* nodes inserted or removed since the last repair of reachability
	 * (build() and remove(), under build_lock) */
	_Atomic size_t linked;
	/* changes waiting for build_lock exclusively (build_wrlock): the
	 * background repair, which holds it shared, yields to them */
	_Atomic int excl_waiters;
	pthread_rwlock_t build_lock;
	pthread_mutex_t tail_mu;
	pthread_mutex_t build_mu; /* one build() at a time */

	pthread_mutex_t entry_lock;
	pthread_mutex_t locks[LOCK_STRIPES];

	brain_graph_spares spares; /* search scratches not in use */
	/* the store, once a release() may have detached mappings in it: read
	 * without a lock by brain__hnsw_unmap_detached */
	_Atomic(brain_index *) detached_in;
	unsigned release_tries; /* release() passes that found inserts under way */
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
	return brain__elem_row_bytes(h->elem, h->dim);
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
static inline const float *as_query(const hnsw *h, uint32_t s, float *buf)
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

/* build_lock exclusively, counted in excl_waiters while waiting, so that
 * a background repair holding it shared gives way (hnsw_delete.c). */
static inline void build_wrlock(hnsw *h)
{
	atomic_fetch_add(&h->excl_waiters, 1);
	pthread_rwlock_wrlock(&h->build_lock);
	atomic_fetch_sub(&h->excl_waiters, 1);
}

/* Before node s's links on level l (or its codes: l 0) change: the bottom
 * layer lies in its row, which a checkpoint under way may still need as
 * it was (brain__flat_will_write copies the row's chunk first). */
static inline void will_write_links(const hnsw *h, uint32_t s, int l)
{
	if (l == 0)
		brain__flat_will_write(h->store, s);
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

/* Take slot s to be inserted: true for the one caller that does. */
static inline bool claim(hnsw *h, uint32_t s)
{
	uint64_t bit = (uint64_t)1 << (s % 64);
	return !(atomic_fetch_or_explicit(&h->claimed[s / 64], bit, memory_order_acq_rel) & bit);
}

static inline void unclaim(hnsw *h, uint32_t s)
{
	atomic_fetch_and_explicit(&h->claimed[s / 64], ~((uint64_t)1 << (s % 64)),
	                          memory_order_release);
}

/* Is slot s in the graph (stored, and wholly inserted)? */
static inline bool in_graph(const hnsw *h, uint32_t s)
{
	return brain__flat_view_used(&h->fv, s) && is_ready(h, s);
}

/* Is a link to s a node's (in the graph, or being inserted now: claimed,
 * its neighbours may already link to it), rather than dead (a removed
 * slot)? What runs beside inserts (build_lock shared: the background
 * sweep and repair) must not take the links of a node being inserted
 * for dead ones. */
static inline bool linked_node(const hnsw *h, uint32_t s)
{
	return brain__flat_view_used(&h->fv, s) &&
	       (is_ready(h, s) ||
	        ((atomic_load_explicit(&h->claimed[s / 64], memory_order_acquire) >> (s % 64)) & 1));
}

/* Vectors in the tail (an upper bound: a removed slot's entry stays until
 * build() passes it). */
static inline uint64_t tail_len(const hnsw *h)
{
	return atomic_load_explicit(&((hnsw *)h)->tail_end, memory_order_acquire) -
	       atomic_load_explicit(&((hnsw *)h)->tail_head, memory_order_acquire);
}

/* Where a row's codes start: the SQ8 codes after the links, or the row
 * itself for row_codes. */
static inline size_t brain__hnsw_code_off(const hnsw *h)
{
	return h->row_codes ? 0 : row_vector_bytes(h) + (size_t)(1 + h->M0) * sizeof(brain_link);
}

/* Bytes of a code (of a query: its room in the scratch): the SQ8 codes,
 * or a row (a Q8 row's scale included). */
static inline size_t code_bytes(const hnsw *h)
{
	return h->row_codes ? row_vector_bytes(h) : h->dim;
}

static inline unsigned char *codes_of(const hnsw *h, uint32_t s)
{
	return (unsigned char *)brain__flat_view_row(&h->fv, s) + h->code_off;
}

/* A Q8 row's (or query code's) scale. */
static inline float q8_scale_of(const hnsw *h, const unsigned char *row)
{
	float s;
	memcpy(&s, row + brain__q8_scale_offset(h->dim), sizeof s);
	return s;
}

/* The distance by codes between the code q (a query's, or a node's) and
 * the codes c of a node: code_dist, and for Q8 rows 1 - the scaled
 * integer dot (code_dist gives -dot), as the float kernel would give it
 * for the two rows' values. */
static inline float code_dist_rows(const hnsw *h, const unsigned char *q, const unsigned char *c)
{
	float d = h->code_dist(q, c, h->dim);
	if (h->elem == BRAIN_ELEM_Q8) /* sr * d first: with huge scales sq * sr may be inf,
	                                 and inf * 0 (a zero dot) NaN */
		d = 1.0f + q8_scale_of(h, q) * (q8_scale_of(h, c) * d);
	return d;
}

static inline float code_dist_to(const hnsw *h, const unsigned char *q, uint32_t s)
{
	return code_dist_rows(h, q, codes_of(h, s));
}

/* What a distance reads of the node whose row is `row`: its codes or its
 * vector. */
BRAIN_PREFETCH_INLINE void prefetch_point(const hnsw *h, const unsigned char *row, bool coded)
{
	if (coded)
		brain__prefetch_bytes(row + h->code_off, BRAIN_MIN(code_bytes(h), CODE_PREFETCH_MAX));
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

/* ---- scratch ------------------------------------------------------------- */

/* A search scratch (graph.h) covering `slots` slots with room for ef
 * results, visited tags cleared. */
static inline int scratch_get(hnsw *h, size_t slots, size_t ef, brain_graph_scratch **out)
{
	brain_graph_need need = {
		.slots = slots,
		.ef = ef,
		.degree = (size_t)h->M0 + 1,
		.code_bytes = h->sq8 || h->row_codes ? code_bytes(h) : 0,
		/* 8-bit rows: 3 x dim floats for nodes taken as queries */
		.wide_floats = h->elem != BRAIN_ELEM_F32 ? 3 * (size_t)h->dim : 0,
	};
	return brain__graph_scratch_get(&h->spares, &need, out);
}

static inline void scratch_put(hnsw *h, brain_graph_scratch *s)
{
	brain__graph_scratch_put(&h->spares, s);
}

/* ---- sizes --------------------------------------------------------------- */

/* Bytes a row holds after its vector: the bottom-layer links, then the
 * codes (HNSW_SQ8), 4-byte aligned. */
static inline size_t row_extra(const hnsw *h)
{
	size_t links = (size_t)(1 + h->M0) * sizeof(brain_link);
	return links + (h->sq8 ? ((size_t)h->dim + 3) & ~(size_t)3 : 0);
}

/* Groups of 64 slots (group_at's entries) for `slots` slots. */
static inline size_t groups_for(size_t slots)
{
	return (slots + 63) / 64;
}

/* HNSW_EXACT_BELOW: below this many vectors, no graph. */
static inline size_t exact_below(const hnsw *h)
{
	return (size_t)brain__index_param(&h->cfg, BRAIN_PARAM_HNSW_EXACT_BELOW);
}

/* ---- across the hnsw files ----------------------------------------------- */

/* hnsw.c */
int brain__hnsw_open(const brain_index_config *config, brain_index **out);
void brain__hnsw_close(brain_index *index);
/* HNSW_ELEMENT e: rows of floats or of 8-bit integers (their kernels, and
 * the buffer the deletion paths widen a row into). 0 or BRAIN_EINVAL,
 * BRAIN_ENOMEM. */
int brain__hnsw_use_elem(hnsw *h, int64_t e);

/* hnsw_sq8.c: code x (dim floats) into c (dim bytes) on the range learned */
void brain__hnsw_sq8_encode(const hnsw *h, const float *x, unsigned char *c);
/* Learn the range from every stored vector and write every code. */
void brain__hnsw_sq8_learn(hnsw *h);

/* hnsw_search.c */
uint32_t brain__hnsw_descend(const hnsw *h, const float *q, uint32_t cur, float *dcur, int from,
                             int to);
int brain__hnsw_search_layer(const hnsw *h, brain_graph_scratch *s, const float *q,
                             const unsigned char *qcode, uint32_t start, float dstart, size_t ef,
                             int l, const brain_index_filter *filter, size_t *nres);
void brain__hnsw_search_pool(const hnsw *h, brain_graph_scratch *s, const float *q,
                             const unsigned char *qcode, uint32_t start, float dstart, size_t ef,
                             int l, size_t *nres);
int brain__hnsw_search(const brain_index *index, const float *query, size_t k,
                       const brain_index_filter *filter, uint32_t *slots, float *distances,
                       size_t *found);
int brain__hnsw_search_planned(const brain_index *index, const brain_index_search *plan,
                               uint32_t *slots, float *distances, size_t *found);

/* hnsw_build.c */
size_t brain__hnsw_select_neighbours(const hnsw *h, brain_cand *c, size_t n, size_t m,
                                     float *wide);
int brain__hnsw_insert(hnsw *h, uint32_t slot, brain_graph_scratch *s);
/* Insert slots[0..n) (claimed) on THREADS threads (a few hundred nodes a
 * thread at most), or on `threads` threads if nonzero; the caller holds
 * build_lock shared, or (lock_each) each insert takes it. */
int brain__hnsw_build(hnsw *h, const uint32_t *slots, size_t n, size_t threads, bool lock_each);
/* THREADS, or the cores online for 0. */
size_t brain__hnsw_threads(const hnsw *h);

/* hnsw_delete.c */
void brain__hnsw_unlink(hnsw *h, uint32_t d);
/* Replace the links to deleted nodes (see there), from where the last
 * call stopped: yield, under build_lock shared (build()), giving way to a
 * change that waits for it exclusively; else under it exclusively (a
 * remove), at most max_nodes nodes (0: to the end). True once through. */
bool brain__hnsw_sweep_dead_links(hnsw *h, bool yield, size_t max_nodes);
void brain__hnsw_repair_reachability(hnsw *h, bool yield);
/* Link u into r's bottom-layer list, replacing r's farthest link if full
 * (no heuristic: u must get an in-link). wide: 2 x dim floats (8-bit
 * rows) or NULL. True if a live node's link was pushed out. */
bool brain__hnsw_force_link(hnsw *h, uint32_t r, uint32_t u, float *wide);

/* hnsw_file.c */
int brain__hnsw_save(const brain_index *index, const brain_index_writer *w);
int brain__hnsw_load(const brain_index_config *config, void *data, size_t len,
                     brain_index **out);
int brain__hnsw_info(const brain_index *index, brain_index_info *out);
int brain__hnsw_flush(brain_index *index, const brain_index_files *files,
                      const brain_index_writer *w);
int brain__hnsw_open_files(const brain_index_config *config, const brain_index_files *files,
                           void *desc, size_t len, brain_index **out);
void brain__hnsw_retire(brain_index *index, const brain_index_files *files);
/* Open a damaged saved form from its stored vectors; the graph is built
 * again from the tail (index vtable version 6). */
int brain__hnsw_rebuild(const brain_index_config *config, const brain_index_files *files,
                        void *data, size_t len, brain_index_verify_fn verify, void *ctx,
                        brain_index **out);
/* A checkpoint in two steps (index vtable version 6). */
int brain__hnsw_freeze(brain_index *index, const brain_index_writer *w, void **frozen);
int brain__hnsw_flush_frozen(brain_index *index, void *frozen, const brain_index_files *files,
                             const brain_index_writer *w);
void brain__hnsw_thaw(brain_index *index, void *frozen);
/* hnsw.c: levels and upper-layer room of slots [cap, slots), drawn from
 * the seed; arrays that lay in a loaded image (borrowed) move to the heap
 * even when slots <= cap. 0 or BRAIN_ENOMEM (nothing changed). */
int brain__hnsw_grow_graph(hnsw *h, size_t slots);
/* The tail's live entries (stored, not in the graph), for save(); *n of
 * them in a new array (NULL if none). 0 or BRAIN_ENOMEM. */
int brain__hnsw_tail_list(const hnsw *h, uint32_t **out, size_t *n);
/* Append slot s (stored, not in the graph) to the tail, growing the ring
 * if need be. 0 or BRAIN_ENOMEM (nothing appended). */
int brain__hnsw_tail_push(hnsw *h, uint32_t s);

#endif /* BRAIN_INDEX_HNSW_INTERNAL_H */
