/*
 * index/hnsw_build.c - putting nodes into the hnsw graph: choosing a
 * node's neighbours (the HNSW heuristic, with a pruning factor), linking
 * both ways, inserting one node through every layer of its level, and
 * inserting many on THREADS threads at once.
 */
#include <errno.h>
#include <pthread.h>
#include <sys/resource.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "index/hnsw_internal.h"

/* ---- choosing neighbours ------------------------------------------------- */

/* How much nearer to a kept neighbour than to the base a candidate must
 * be to be dropped in the second pass of the choice below (on the
 * metric's distance, which is squared for L2 and 1 - cos, so this is
 * alpha^2 of DiskANN's RobustPrune with alpha ~ 1.1). The inner-product
 * distance (1 - dot) can be negative, where scaling means nothing: 1
 * there (no second pass). */
static float prune_alpha(const hnsw *h)
{
	return h->cfg.metric == BRAIN_METRIC_IP ? 1.0f : 1.2f;
}

/* The candidates pass 1 turned away that pass 2 looks at again (the
 * nearest ones; efConstruction is rarely above this). */
#define PRUNE_REJECTS 256

/* The distance between nodes a and b; aq: a as a float query, or NULL
 * where row_codes (their codes are compared, with nothing widened). */
static inline float between(const hnsw *h, uint32_t a, const float *aq, uint32_t b)
{
	if (h->row_codes)
		return code_dist_to(h, codes_of(h, a), b);
	return dist_to(h, aq, b);
}

/* Node s as a float query for between(): NULL where row_codes. */
static inline const float *between_query(const hnsw *h, uint32_t s, float *wide)
{
	return h->row_codes ? NULL : as_query(h, s, wide);
}

/* Choose at most m of the n candidates c (sorted nearest first), in two
 * passes as DiskANN's RobustPrune does. Pass 1 is the HNSW paper's
 * heuristic: nearest first, a candidate is kept only if it is nearer to
 * the base than to every one kept, so links spread in different
 * directions. If that left room, pass 2 takes the candidates it turned
 * away, nearest first, by the looser factor above: longer links, and
 * searches take fewer hops.
 *
 * One pass with the factor (what this was before) let near, half-hidden
 * candidates take the room before the far ones in other directions: on
 * all GloVe-100 words the graph found less than hnswlib's at the same ef
 * past ~128, and never caught up (recall@10 0.9905 vs 0.9939 at ef 512).
 * Measured on the 100K GloVe set, M 16, efC 200, Intel Xeon (AVX-512):
 * ef 128 0.9504 -> 0.9608, ef 512 0.9905 -> 0.9962 (hnswlib 0.9508,
 * 0.9939); SIFT5k at ef 16 0.962 -> 0.965, ef 64 0.994 -> 0.997 (hnswlib
 * 0.940, 0.992). The plain heuristic alone (factor 1) matched hnswlib on
 * GloVe but lost SIFT5k's lead (ef 16: 0.945).
 *
 * Pass 1 remembers, for each candidate it turned away, the distance to
 * the kept neighbour that did; pass 2 drops it at once when that one
 * still hides it by the factor. Sorts the kept nearest first in place;
 * returns how many. */
size_t brain__hnsw_select_neighbours(const hnsw *h, brain_cand *c, size_t n, size_t m,
                                     float *wide)
{
	brain_cand rej[PRUNE_REJECTS];
	float by[PRUNE_REJECTS];
	size_t kept = 0, nrej = 0;
	for (size_t i = 0; i < n && kept < m; i++) {
		bool good = true;
		float block = 0;
		const float *ci = kept ? between_query(h, c[i].s, wide) : NULL;
		for (size_t j = 0; j < kept && good; j++) {
			float d = between(h, c[i].s, ci, c[j].s);
			if (d < c[i].d) {
				good = false;
				block = d;
			}
		}
		if (good) {
			c[kept++] = c[i];
		} else if (nrej < PRUNE_REJECTS) {
			rej[nrej] = c[i];
			by[nrej++] = block;
		}
	}
	float alpha = prune_alpha(h);
	if (alpha <= 1.0f || kept >= m)
		return kept;
	size_t first = kept;
	for (size_t r = 0; r < nrej && kept < m; r++) {
		if (alpha * by[r] < rej[r].d)
			continue;
		bool good = true;
		const float *ci = between_query(h, rej[r].s, wide);
		for (size_t j = 0; j < kept && good; j++)
			if (alpha * between(h, rej[r].s, ci, c[j].s) < rej[r].d)
				good = false;
		if (good)
			c[kept++] = rej[r];
	}
	if (kept > first)
		brain__cands_sort(c, kept);
	return kept;
}

/* Add `add` (at distance d) to the links of n on level l, re-choosing
 * when full. cand: room for cap + 1; wide: 2 x dim floats (8-bit rows).
 * True if n links to `add` now. */
static bool link_to(hnsw *h, uint32_t n, uint32_t add, int l, brain_cand *cand, float *wide)
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
	bool linked = true;
	if (!present && cnt < cap) {
		will_write_links(h, n, l);
		atomic_store_explicit(&ln[1 + cnt], add, memory_order_relaxed);
		atomic_store_explicit(&ln[0], cnt + 1, memory_order_release);
	} else if (!present) {
		const float *v = between_query(h, n, wide);
		size_t m = 0;
		for (uint32_t i = 1; i <= cnt; i++) {
			uint32_t x = atomic_load_explicit(&ln[i], memory_order_relaxed);
			if (brain__flat_view_used(&h->fv, x))
				cand[m++] = (brain_cand){between(h, n, v, x), x};
		}
		cand[m++] = (brain_cand){between(h, n, v, add), add};
		brain__cands_sort(cand, m);
		m = brain__hnsw_select_neighbours(h, cand, m, cap, wide ? wide + h->dim : NULL);
		will_write_links(h, n, l);
		brain__links_write(ln, cand, m);
		linked = false;
		for (size_t i = 0; i < m && !linked; i++)
			linked = cand[i].s == add;
	}
	unlock_node(h, n);
	return linked;
}

/* ---- insertion ----------------------------------------------------------- */

/* Put slot (whose vector is in the store) into the graph. */
int brain__hnsw_insert(hnsw *h, uint32_t slot, brain_graph_scratch *s)
{
	int level = h->levels[slot];
	set_ready(h, slot, false);
	for (int l = 0; l <= level; l++) {
		will_write_links(h, slot, l);
		atomic_store_explicit(&links_of(h, slot, l)[0], 0, memory_order_release);
	}
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
	uint32_t cur = brain__hnsw_descend(h, q, ep, &dcur, max_level, level);
	/* rows that are codes: the walks compare the node's row with theirs
	 * (integer sums, nothing widened) */
	const unsigned char *qcode = h->row_codes ? codes_of(h, slot) : NULL;
	for (int l = BRAIN_MIN(level, max_level); l >= 0; l--) {
		brain__visited_clear(&s->vis);
		size_t nres = 0;
		if (qcode)
			dcur = code_dist_to(h, qcode, cur);
		brain__hnsw_search_pool(h, s, q, qcode, cur, dcur, h->efc, l, &nres);
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
		n = brain__hnsw_select_neighbours(h, c, n, h->M, wide);
		lock_node(h, slot);
		will_write_links(h, slot, l);
		brain__links_write(links_of(h, slot, l), c, n);
		unlock_node(h, slot);
		/* link back; `c` is needed for the loop, so use cand as scratch */
		brain_cand keep[256];
		size_t nk = BRAIN_MIN(n, BRAIN_ARRAY_LEN(keep));
		memcpy(keep, c, nk * sizeof *keep);
		size_t in = 0;
		for (size_t i = 0; i < nk; i++)
			in += link_to(h, keep[i].s, slot, l, s->cand, wide);
		/* every neighbour's heuristic turned it away: the nearest links
		 * to it all the same, or nothing leads to it on the bottom layer
		 * (a node found by no search) */
		if (l == 0 && in == 0 && nk > 0)
			brain__hnsw_force_link(h, keep[0].s, slot, wide);
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
	brain_mem_scope scope; /* the caller's: the workers count there too */
	/* build(): take build_lock shared and claim the slot around each
	 * insert (a change waits for one insert, not a batch); else the
	 * caller holds the lock and claimed the slots */
	bool lock_each;
	int nice; /* build(): the workers' nice value (BACKGROUND_NICE), 0: none */
} build_job;

/* The calling thread's nice value raised by `nice`, to 19 at most (Linux,
 * where it is the thread's own; elsewhere it is the process's, so nothing
 * is done). Best effort: a failure leaves the priority as it was. */
static void lower_priority(int nice)
{
#ifdef __linux__
	if (nice <= 0)
		return;
	errno = 0;
	int now = getpriority(PRIO_PROCESS, 0);
	if (now == -1 && errno)
		return;
	int want = now + nice > 19 ? 19 : now + nice;
	if (want > now)
		(void)setpriority(PRIO_PROCESS, 0, want);
#else
	(void)nice;
#endif
}

static void *build_worker(void *arg)
{
	build_job *j = arg;
	brain_mem_scope outer = brain__mem_enter(j->scope.mem, j->scope.category);
	brain_graph_scratch *s = NULL; /* taken at the first insert (under the lock) */
	int rc = BRAIN_OK;
	while (rc == BRAIN_OK && atomic_load(&j->rc) == BRAIN_OK) {
		size_t i = atomic_fetch_add(&j->next, 1);
		if (i >= j->n)
			break;
		uint32_t slot = j->slots[i];
		if (j->lock_each) {
			/* claimed only now, under the lock: a slot removed since
			 * the batch was taken holds no vector, and one added again
			 * may be inserted (once) by whoever claims it first */
			pthread_rwlock_rdlock(&j->h->build_lock);
			if (!brain__flat_view_used(&j->h->fv, slot) || !claim(j->h, slot)) {
				pthread_rwlock_unlock(&j->h->build_lock);
				continue;
			}
		}
		if (!s || s->vis.cap < j->h->cap) {
			/* the first insert, or the index grew since the last: tags
			 * for every slot */
			if (s)
				scratch_put(j->h, s);
			s = NULL;
			rc = scratch_get(j->h, j->h->cap, j->h->efc, &s);
			if (rc == BRAIN_OK)
				rc = brain__graph_scratch_cands(s, (size_t)j->h->M0 + 2);
		}
		if (rc == BRAIN_OK)
			rc = brain__hnsw_insert(j->h, slot, s);
		if (j->lock_each) {
			if (rc)
				unclaim(j->h, slot); /* it waits on in the tail */
			else
				atomic_fetch_add(&j->h->linked, 1);
			pthread_rwlock_unlock(&j->h->build_lock);
		}
	}
	if (s)
		scratch_put(j->h, s);
	if (rc) {
		int expected = BRAIN_OK;
		atomic_compare_exchange_strong(&j->rc, &expected, rc);
	}
	brain__mem_leave(outer);
	return NULL;
}

size_t brain__hnsw_threads(const hnsw *h)
{
	int64_t t = brain__index_param(&h->cfg, BRAIN_PARAM_THREADS);
	if (t <= 0) {
		long cores = sysconf(_SC_NPROCESSORS_ONLN);
		t = cores > 0 ? cores : 1;
	}
	return (size_t)BRAIN_MIN((uint64_t)t, (uint64_t)256);
}

/* Insert slots[0..n) into the graph on THREADS threads (a thread per few
 * hundred nodes at most: starting threads costs too), or on `threads`. */
static void *build_worker_niced(void *arg)
{
	lower_priority(((build_job *)arg)->nice);
	return build_worker(arg);
}

int brain__hnsw_build(hnsw *h, const uint32_t *slots, size_t n, size_t threads, bool lock_each)
{
	build_job j = {.h = h, .slots = slots, .n = n, .scope = brain__mem_current(),
	               .lock_each = lock_each};
#ifdef __linux__
	if (lock_each)
		j.nice = (int)brain__index_param(&h->cfg, BRAIN_PARAM_BACKGROUND_NICE);
#endif
	atomic_init(&j.next, 0);
	atomic_init(&j.rc, BRAIN_OK);
	size_t nt = threads ? BRAIN_MIN(threads, (size_t)256)
	                    : BRAIN_MIN(brain__hnsw_threads(h), n / 256 + 1);
	nt = BRAIN_MAX(BRAIN_MIN(nt, n), (size_t)1);
	pthread_t tid[256];
	size_t started = 0;
	/* A background build at a lower priority runs wholly on threads of
	 * its own (the caller's nice could not come back down); the caller
	 * waits, or builds itself if none could start. */
	for (size_t i = j.nice ? 0 : 1; i < nt; i++) {
		if (pthread_create(&tid[started], NULL, j.nice ? build_worker_niced : build_worker,
		                   &j) != 0)
			break; /* fewer threads: fine */
		started++;
	}
	if (!j.nice || started == 0)
		build_worker(&j);
	for (size_t i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	return atomic_load(&j.rc);
}
