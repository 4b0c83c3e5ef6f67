/*
 * index/hnsw_search.c - walking the hnsw graph: the beam step of a node
 * (its neighbours' distances, by codes or by rows), the best-first search
 * of one layer (with a filter: two heaps; without: the bounded pool), the
 * greedy descent through the upper layers, and the vtable's search (exact
 * by the flat store when there is no graph or a filter passes few, SQ8
 * candidates reranked on floats).
 */
#include <string.h>

#include "index/hnsw_internal.h"

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
		for (size_t i = 0; i < m; i++) {
			const unsigned char *codes = (const unsigned char *)s->rows[i] + h->code_off;
			s->dists[i] = code_dist_rows(h, qcode, codes);
		}
	} else {
		gather_rows(h, q, s->rows, m, s->dists);
	}
	return m;
}

/* Best-first search of layer l from `start`, keeping ef results in
 * s->res (a max-heap, *nres of them). Only slots that are occupied are
 * expanded; results also pass the filter (NULL: all). Returns 0 or
 * BRAIN_ENOMEM (the candidate heap could not grow). */
int brain__hnsw_search_layer(const hnsw *h, brain_graph_scratch *s, const float *q,
                             const unsigned char *qcode, uint32_t start, float dstart, size_t ef,
                             int l, const brain_index_filter *filter, size_t *nres)
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
void brain__hnsw_search_pool(const hnsw *h, brain_graph_scratch *s, const float *q,
                             const unsigned char *qcode, uint32_t start, float dstart, size_t ef,
                             int l, size_t *nres)
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
uint32_t brain__hnsw_descend(const hnsw *h, const float *q, uint32_t cur, float *dcur, int from,
                             int to)
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

/* ---- the search ---------------------------------------------------------- */

/* The tail's vectors (stored, not yet in the graph) offered to the k
 * results in the max-heap res[0..*nr) (room for k + 1), from `head`, read
 * before the walk began: build() moves the head only past nodes wholly
 * inserted, so a node is either in the graph the walk saw or scanned here.
 * Runs under the brain's read lock: no add moves the ring. A slot the walk
 * found (one build() finished meanwhile) or the tail names twice enters
 * once. */
static void scan_tail(const hnsw *h, uint64_t head, const float *q,
                      const brain_index_filter *filter, size_t k, brain_cand *res, size_t *nr)
{
	uint64_t end = atomic_load_explicit(&((hnsw *)h)->tail_end, memory_order_acquire);
	size_t limit = BRAIN_MIN(h->cap, h->fv.capacity);
	for (uint64_t i = head; i < end; i++) {
		uint32_t x = h->tail[i & (h->tail_cap - 1)];
		if (x >= limit || !brain__flat_view_used(&h->fv, x))
			continue;
		float d = dist_to(h, q, x);
		if (!brain__results_admit(res, *nr, k, d))
			continue;
		bool dup = false;
		for (size_t j = 0; j < *nr && !dup; j++)
			dup = res[j].s == x;
		if (!dup && (!filter || filter->accept(x, filter->payload)))
			brain__results_push(res, nr, k, (brain_cand){d, x});
	}
}

/* The query as uint8 codes into c, if every component is an integer in
 * 0..255 (uint8 rows under L2: the code distance is then the sum the
 * float kernel computes, exactly, at a quarter of the work: no row is
 * widened). */
static bool query_as_u8(const hnsw *h, const float *q, unsigned char *c)
{
	for (uint32_t i = 0; i < h->dim; i++) {
		float v = q[i];
		if (!(v >= 0.0f && v <= 255.0f) || v != (float)(int)v)
			return false;
		c[i] = (unsigned char)(int)v;
	}
	return true;
}

/* The search the Thalamus planned (organs/thalamus.c decides whether to
 * scan and how wide to look; this carries it out). A plan for a scan, or
 * an index with no graph yet (or none usable), scans the rows. A walk of
 * the graph is joined by an exact scan of the tail, the vectors stored
 * but not yet in the graph. */
int brain__hnsw_search_planned(const brain_index *index, const brain_index_search *plan,
                               uint32_t *slots, float *distances, size_t *found)
{
	hnsw *h = hnsw_of((brain_index *)index);
	const float *query = plan->query;
	const brain_index_filter *filter = plan->filter;
	size_t k = plan->k;
	*found = 0;
	if (!h->store || k == 0)
		return BRAIN_OK;
	size_t count = brain__flat_count(h->store);
	size_t limit = h->fv.capacity;
	uint64_t head = atomic_load_explicit(&h->tail_head, memory_order_acquire);
	uint32_t ep;
	int ml;
	top_get(h, &ep, &ml);
	if (plan->exact || !h->graph || ml < 0 || ep >= limit || ep >= h->cap ||
	    !brain__flat_view_used(&h->fv, ep))
		return flat->search(h->store, query, k, filter, slots, distances, found);
	ml = BRAIN_MIN(ml, (int)h->levels[ep]);
	if (k > count)
		k = count;
	int64_t ef_param = brain__index_param(&h->cfg, BRAIN_PARAM_HNSW_EF_SEARCH);
	uint64_t want = plan->effort ? plan->effort : (uint64_t)BRAIN_MAX(ef_param, (int64_t)0);
	size_t ef = (size_t)BRAIN_MIN(BRAIN_MAX(want, (uint64_t)k), (uint64_t)count);
	brain_graph_scratch *s = NULL;
	int rc = scratch_get(h, limit, ef, &s);
	if (rc)
		return rc;
	float d = dist_to(h, query, ep);
	uint32_t cur = brain__hnsw_descend(h, query, ep, &d, ml, 0);
	size_t nres = 0;
	bool coded = h->sq8 && h->sq_ready;
	if (coded) {
		brain__hnsw_sq8_encode(h, query, s->qcode);
	} else if (h->row_codes && h->elem == BRAIN_ELEM_Q8) {
		brain__q8_encode(query, h->dim, false, s->qcode);
		coded = true;
	} else if (h->row_codes) {
		coded = query_as_u8(h, query, s->qcode);
	}
	if (coded)
		d = code_dist_to(h, s->qcode, cur);
	bool sorted = !filter;
	if (sorted)
		brain__hnsw_search_pool(h, s, query, coded ? s->qcode : NULL, cur, d, ef, 0, &nres);
	else
		rc = brain__hnsw_search_layer(h, s, query, coded ? s->qcode : NULL, cur, d, ef, 0,
		                              filter, &nres);
	if (rc == BRAIN_OK && coded) {
		/* rerank the candidates on the float vectors (SQ8), or give
		 * 8-bit rows' distances as the float kernel computes them, as
		 * an exact scan would */
		for (size_t i = 0; i < nres; i++)
			s->res[i].d = dist_to(h, query, s->res[i].s);
		sorted = false;
	}
	if (rc == BRAIN_OK && atomic_load_explicit(&h->tail_end, memory_order_acquire) > head) {
		/* the k best of the walk, then the tail's vectors against them */
		if (sorted)
			nres = BRAIN_MIN(nres, k);
		size_t n = 0;
		for (size_t i = 0; i < nres; i++)
			brain__results_push(s->res, &n, k, s->res[i]); /* in place: n <= i */
		nres = n;
		scan_tail(h, head, query, filter, k, s->res, &nres);
		sorted = false;
	} else if (rc == BRAIN_OK && coded) {
		/* the rerank changed the distances: a max-heap again (a filtered
		 * walk's results are one already) */
		size_t n = 0;
		for (size_t i = 0; i < nres; i++)
			brain__maxheap_push(s->res, &n, s->res[i]); /* in place: i >= n */
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
	return rc;
}

/* search() of a version-3 caller: the graph as it is, with the default
 * width (the brain itself always plans, search_planned). */
int brain__hnsw_search(const brain_index *index, const float *query, size_t k,
                       const brain_index_filter *filter, uint32_t *slots, float *distances,
                       size_t *found)
{
	brain_index_search plan = {query, k, filter, 0, 0};
	return brain__hnsw_search_planned(index, &plan, slots, distances, found);
}


/* The exact scan of search_planned() (flat->search over the store), for
 * many queries at once. */
int brain__hnsw_search_many(const brain_index *index, const float *queries, size_t nq, size_t k,
                            uint32_t *slots, float *distances, size_t *found)
{
	const hnsw *h = chnsw_of(index);
	if (!h->store || h->elem != BRAIN_ELEM_F32)
		return brain__err(BRAIN_EINVAL, "hnsw: search_many: float rows only");
	return brain__flat_search_many(h->store, queries, nq, k, slots, distances, found);
}
