/*
 * index/hnsw_delete.c - keeping the hnsw graph whole when nodes leave.
 *
 * Deletion removes the node from the lists of its neighbours and
 * reconnects each of them to the best of the deleted node's neighbours
 * (the same heuristic as insertion); the slot is then free and searches
 * neither expand nor return it, so a deleted node stops costing search
 * time. A later add reuses the slot as a new node. Now and then a sweep
 * replaces the links to deleted nodes that unlinking could not see, and a
 * repair gives every node the entry point cannot reach an in-link (after
 * sweeps, and after builds: concurrent inserts leave a few such nodes).
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "index/hnsw_internal.h"

/* ---- deletion ------------------------------------------------------------ */

/* Entry point after the old one left: a live node on the highest level. */
static void new_entry(hnsw *h)
{
	size_t limit = BRAIN_MIN(h->cap, h->fv.capacity);
	int best = -1;
	uint32_t at = 0;
	for (size_t s = 0; s < limit; s++) {
		if (in_graph(h, (uint32_t)s) && h->levels[s] > best) {
			best = h->levels[s];
			at = (uint32_t)s;
		}
	}
	top_set(h, at, best);
}

/* d's bottom-layer neighbours ds[0..nd) that none of the others links to
 * after d left (kept[i] false) may have had their only in-link from d:
 * each gets one from its nearest fellow neighbour, or searches could no
 * longer reach it (the heuristic that chooses a list keeps few of them). */
static void keep_reachable(hnsw *h, uint32_t d, const uint32_t *ds, const bool *kept,
                           uint32_t nd)
{
	size_t limit = BRAIN_MIN(h->cap, h->fv.capacity);
	for (uint32_t i = 0; i < nd; i++) {
		uint32_t x = ds[i];
		if (kept[i] || x >= limit || x == d || !in_graph(h, x))
			continue;
		const float *v = as_query(h, x, h->wide);
		uint32_t best = UINT32_MAX;
		float bd = INFINITY;
		for (uint32_t j = 0; j < nd; j++) {
			uint32_t n = ds[j];
			if (n == x || n == d || n >= limit || !in_graph(h, n))
				continue;
			float dn = dist_to(h, v, n);
			if (dn < bd || best == UINT32_MAX) {
				bd = dn;
				best = n;
			}
		}
		if (best != UINT32_MAX)
			brain__hnsw_force_link(h, best, x, h->wide ? h->wide + h->dim : NULL);
	}
}

/* Take slot d (no longer occupied) out of its neighbours' lists and
 * reconnect each of them to the best of d's other neighbours; a neighbour
 * that no list keeps gets an in-link all the same (keep_reachable). Never
 * allocates. */
void brain__hnsw_unlink(hnsw *h, uint32_t d)
{
	size_t limit = BRAIN_MIN(h->cap, h->fv.capacity);
	uint32_t ds[2 * 100 + 1];
	brain_cand c[4 * 100 + 4];
	bool kept[2 * 100 + 1]; /* level 0: ds[i] is in a list of d's neighbours now */
	int top = d < h->cap ? h->levels[d] : 0;
	for (int l = 0; l <= top; l++) {
		const brain_link *dl = links_of(h, d, l);
		uint32_t nd = BRAIN_MIN(atomic_load_explicit(&dl[0], memory_order_acquire), cap_of(h, l));
		for (uint32_t i = 0; i < nd; i++) {
			ds[i] = atomic_load_explicit(&dl[1 + i], memory_order_relaxed);
			kept[i] = false;
		}
		for (uint32_t i = 0; i < nd; i++) {
			uint32_t n = ds[i];
			if (n >= limit || n == d || h->levels[n] < l || !in_graph(h, n))
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
				if (x < limit && in_graph(h, x))
					c[m++] = (brain_cand){dist_to(h, v, x), x};
			}
			if (had) {
				for (uint32_t j = 0; j < nd; j++) {
					uint32_t x = ds[j];
					bool dup = x == n || x >= limit || h->levels[x] < l ||
					           !in_graph(h, x);
					for (size_t t = 0; t < m && !dup; t++)
						dup = c[t].s == x;
					if (!dup)
						c[m++] = (brain_cand){dist_to(h, v, x), x};
				}
				brain__cands_sort(c, m);
				m = brain__hnsw_select_neighbours(h, c, m, cap_of(h, l),
				                                  h->wide ? h->wide + h->dim : NULL);
				will_write_links(h, n, l);
				brain__links_write(ln, c, m);
			}
			for (size_t t = 0; l == 0 && t < m; t++)
				for (uint32_t j = 0; j < nd; j++)
					kept[j] = kept[j] || ds[j] == c[t].s;
			unlock_node(h, n);
		}
		if (l == 0)
			keep_reachable(h, d, ds, kept, nd);
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
 * allocates. A node's list is rewritten under its lock, as an insert's
 * links are, so a sweep may run beside inserts and searches (build_lock
 * shared). */
static bool must_yield(const hnsw *h, bool yield, size_t done);

bool brain__hnsw_sweep_dead_links(hnsw *h, bool yield, size_t max_nodes)
{
	size_t limit = BRAIN_MIN(h->cap, h->fv.capacity);
	brain_cand c[4 * 200 + 8];
	const size_t room = BRAIN_ARRAY_LEN(c);
	size_t from = BRAIN_MIN(h->sweep_at, limit);
	if (from == 0)
		h->sweep_base = atomic_load(&h->removed);
	for (size_t n = from; n < limit; n++) {
		if (must_yield(h, yield, n - from + 1) || (max_nodes && n - from == max_nodes)) {
			h->sweep_at = n; /* the rest at the next call */
			return false;
		}
		if (!in_graph(h, (uint32_t)n))
			continue;
		for (int l = 0; l <= h->levels[n]; l++) {
			brain_link *ln = links_of(h, (uint32_t)n, l);
			/* a look without the lock first (most lists hold no dead
			 * link), then again under it: an insert beside may have
			 * changed the list meanwhile */
			uint32_t cnt = BRAIN_MIN(atomic_load_explicit(&ln[0], memory_order_acquire),
			                         cap_of(h, l));
			bool dead = false;
			for (uint32_t i = 1; i <= cnt && !dead; i++) {
				uint32_t x = atomic_load_explicit(&ln[i], memory_order_relaxed);
				dead = x >= limit || !linked_node(h, x);
			}
			if (!dead)
				continue;
			const float *v = as_query(h, (uint32_t)n, h->wide);
			size_t m = 0;
			lock_node(h, (uint32_t)n);
			cnt = BRAIN_MIN(atomic_load_explicit(&ln[0], memory_order_relaxed), cap_of(h, l));
			for (uint32_t i = 1; i <= cnt; i++) {
				uint32_t x = atomic_load_explicit(&ln[i], memory_order_relaxed);
				if (x >= limit)
					continue;
				if (linked_node(h, x)) {
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
					    !in_graph(h, y))
						continue;
					bool dup = false;
					for (size_t t = 0; t < m && !dup; t++)
						dup = c[t].s == y;
					if (!dup && m < room)
						c[m++] = (brain_cand){dist_to(h, v, y), y};
				}
			}
			brain__cands_sort(c, m);
			m = brain__hnsw_select_neighbours(h, c, m, cap_of(h, l),
			                                  h->wide ? h->wide + h->dim : NULL);
			will_write_links(h, (uint32_t)n, l);
			brain__links_write(ln, c, m);
			unlock_node(h, (uint32_t)n);
		}
	}
	h->sweep_at = 0;
	atomic_fetch_sub(&h->removed, BRAIN_MIN(h->sweep_base, atomic_load(&h->removed)));
	return true;
}

/* ---- keeping every node reachable ---------------------------------------- */

/* Link `u` into the list of `r` on level 0, replacing r's farthest link
 * if the list is full (no heuristic: u must get an in-link). */
bool brain__hnsw_force_link(hnsw *h, uint32_t r, uint32_t u, float *wide)
{
	bool replaced = false;
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
		/* a node being inserted beside (a repair runs shared) is a live
		 * link, not a dead one to push out first */
		float d = linked_node(h, x) ? dist_to(h, v, x) : INFINITY;
		if (d > wd) {
			wd = d;
			worst = i;
		}
	}
	if (!present && (cnt < h->M0 || worst))
		will_write_links(h, r, 0);
	if (!present && cnt < h->M0) {
		atomic_store_explicit(&ln[1 + cnt], u, memory_order_relaxed);
		atomic_store_explicit(&ln[0], cnt + 1, memory_order_release);
	} else if (!present && worst) {
		replaced = wd < INFINITY; /* a live link out: that node may lose its way in */
		atomic_store_explicit(&ln[worst], u, memory_order_release);
	}
	unlock_node(h, r);
	return replaced;
}

/* Room in r's bottom-layer list? */
static bool has_room(const hnsw *h, uint32_t r)
{
	return atomic_load_explicit(&links_of(h, r, 0)[0], memory_order_acquire) < h->M0;
}

/* A repair that yields gives way every this many nodes it visits when a
 * change waits for build_lock exclusively. */
#define REPAIR_YIELD_EVERY 4096

static bool must_yield(const hnsw *h, bool yield, size_t done)
{
	return yield && done % REPAIR_YIELD_EVERY == 0 && atomic_load(&h->excl_waiters) > 0;
}

/* Mark everything reachable from `from` on level 0. False if it gave way
 * (yield) before the end. */
static bool flood(const hnsw *h, uint64_t *seen, uint32_t *queue, uint32_t from, bool yield)
{
	size_t limit = BRAIN_MIN(h->cap, h->fv.capacity);
	size_t head = 0, tail = 0;
	seen[from / 64] |= (uint64_t)1 << (from % 64);
	queue[tail++] = from;
	while (head < tail) {
		if (must_yield(h, yield, head + 1))
			return false;
		uint32_t c = queue[head++];
		const brain_link *ln = links_of(h, c, 0);
		uint32_t cnt = BRAIN_MIN(atomic_load_explicit(&ln[0], memory_order_acquire), h->M0);
		for (uint32_t i = 1; i <= cnt; i++) {
			uint32_t x = atomic_load_explicit(&ln[i], memory_order_relaxed);
			if (x >= limit || (seen[x / 64] >> (x % 64)) & 1 || !in_graph(h, x))
				continue;
			seen[x / 64] |= (uint64_t)1 << (x % 64);
			queue[tail++] = x;
		}
	}
	return true;
}

/* One pass of the repair: every node the entry point cannot reach gets an
 * in-link from a near reachable node, one with room in its list if one of
 * the nearest few has (then no link is pushed out). Returns how many
 * links were pushed out (each may have been some node's only way in). */
static size_t repair_pass(hnsw *h, brain_graph_scratch *s, uint64_t *seen, uint32_t *queue,
                          size_t words, uint32_t ep, int ml, bool yield)
{
	size_t limit = BRAIN_MIN(h->cap, h->fv.capacity), pushed = 0;
	memset(seen, 0, words * sizeof *seen);
	if (!flood(h, seen, queue, ep, yield))
		return SIZE_MAX;
	for (uint32_t u = 0; u < limit; u++) {
		if (must_yield(h, yield, (size_t)u + 1))
			return SIZE_MAX;
		if ((seen[u / 64] >> (u % 64)) & 1 || !in_graph(h, u))
			continue;
		const float *q = as_query(h, u, s->wide);
		float d = dist_to(h, q, ep);
		uint32_t cur = brain__hnsw_descend(h, q, ep, &d, ml, 0);
		brain__visited_clear(&s->vis);
		size_t nres = 0;
		uint32_t best = ep, roomy = UINT32_MAX;
		if (brain__hnsw_search_layer(h, s, q, NULL, cur, d, h->efc, 0, NULL, &nres) ==
		    BRAIN_OK) {
			brain__results_sort(s->res, nres); /* nearest first */
			size_t looked = 0;
			bool first = true;
			for (size_t i = 0; i < nres && looked < 8; i++) {
				uint32_t r = s->res[i].s;
				if (r == u || !((seen[r / 64] >> (r % 64)) & 1))
					continue;
				if (first)
					best = r;
				first = false;
				looked++;
				if (roomy == UINT32_MAX && has_room(h, r))
					roomy = r;
			}
		}
		pushed += brain__hnsw_force_link(h, roomy != UINT32_MAX ? roomy : best, u,
		                                 s->wide ? s->wide + h->dim : NULL);
		if (!flood(h, seen, queue, u, yield))
			return SIZE_MAX;
	}
	return pushed;
}

/* Give every live node that the entry point cannot reach an in-link from
 * a near reachable node. Concurrent inserts and link pruning leave a few
 * such nodes (in every HNSW library); so do deletions. A forced link into
 * a full list pushes its farthest link out, maybe the only way to a node
 * the pass had counted as reached: so pass again while a pass pushed any
 * out (a few passes at most, each finding fewer). With `yield` (the
 * background's repair, under build_lock shared) it gives way, unfinished,
 * to a change waiting for build_lock exclusively, which would otherwise
 * wait for the whole flood with the brain locked (the next build that
 * finds the graph changed tries again). Best effort: without
 * memory it does nothing. */
void brain__hnsw_repair_reachability(hnsw *h, bool yield)
{
	size_t changed = atomic_exchange(&h->linked, 0);
	size_t limit = BRAIN_MIN(h->cap, h->fv.capacity);
	uint32_t ep;
	int ml;
	top_get(h, &ep, &ml);
	if (!h->graph || ml < 0 || ep >= limit || !in_graph(h, ep))
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
	/* a pass that pushed no link out left every node reachable; one that
	 * gave way to a change leaves the repair to the next build */
	for (int pass = 0; pass < 4; pass++) {
		size_t pushed = repair_pass(h, s, seen, queue, words, ep, ml, yield);
		if (pushed == SIZE_MAX)
			atomic_fetch_add(&h->linked, changed);
		if (pushed == 0 || pushed == SIZE_MAX)
			break;
	}
	scratch_put(h, s);
	brain__free(seen);
	brain__free(queue);
}
