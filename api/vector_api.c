/*
 * api/vector_api.c - the vector calls: add, add_batch, search (one query,
 * or many on several threads), get_vector.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/change_api.h"
#include "engine/handle.h"
#include "index/distance.h"

/* Importance given to vectors added without text. */
#define VECTOR_IMPORTANCE 0.5f

/* A checked copy of a caller's vector (unit length under cosine) in *out,
 * which the caller frees. */
static int prepared_copy(const brain_t *b, const float *vector, const char *what, float **out)
{
	uint32_t dims = b->env.opts.dimensions;
	brain_mem_scope outer = brain__enter(b);
	*out = brain__malloc_array(dims, sizeof **out);
	brain__mem_leave(outer);
	if (!*out)
		return brain__oom(dims * sizeof **out, what);
	int rc = brain__vector_prepare(vector, dims, b->env.opts.metric, *out, what);
	if (rc) {
		brain__free(*out);
		*out = NULL;
	}
	return rc;
}

int brain__api_add_check(brain_t *b, uint64_t id, const float *vector, float **prepared)
{
	*prepared = NULL;
	if (!b || !vector)
		return brain__err(BRAIN_ENULL, "add: %s is NULL", b ? "vector" : "brain");
	if (id == BRAIN_ID_NONE)
		return brain__err(BRAIN_EINVAL, "add: id BRAIN_ID_NONE (UINT64_MAX) is not an id");
	int rc = brain__check_writable(b, "add");
	if (rc == BRAIN_OK)
		rc = prepared_copy(b, vector, "add: vector", prepared);
	return rc;
}

int brain__api_add_made(brain_t *b, uint64_t id, const float *prepared, const void *meta,
                        size_t meta_len, bool defer, uint64_t *lsn)
{
	brain_change c = {.op = BRAIN_CHANGE_STORE};
	c.u.store.id = id;
	c.u.store.vector = prepared;
	c.u.store.meta = meta;
	c.u.store.meta_len = meta_len;
	c.u.store.importance = VECTOR_IMPORTANCE;
	c.defer_commit = defer;
	int rc = brain__api_change(b, &c);
	if (lsn)
		*lsn = c.out_lsn;
	return rc;
}

BRAIN_EXPORT int brain_add(brain_t *b, uint64_t id, const float *vector)
{
	float *vec = NULL;
	int rc = brain__api_add_check(b, id, vector, &vec);
	if (rc == BRAIN_OK)
		rc = brain__api_add_made(b, id, vec, NULL, 0, false, NULL);
	brain__free(vec);
	return brain__err_prefix(rc, "add");
}

BRAIN_EXPORT int brain_add_with(brain_t *b, uint64_t id, const float *vector,
                                const char *metadata_json)
{
	float *vec = NULL;
	int rc = brain__api_add_check(b, id, vector, &vec);
	brain_meta_blob meta = {NULL, 0};
	brain_mem_scope outer = b ? brain__enter(b) : brain__mem_current();
	if (rc == BRAIN_OK && metadata_json)
		rc = brain__api_meta_parse(metadata_json, false, &meta);
	if (rc == BRAIN_OK)
		rc = brain__api_add_made(b, id, vec, meta.data, meta.len, false, NULL);
	brain__free(meta.data);
	brain__mem_leave(outer);
	brain__free(vec);
	return brain__err_prefix(rc, "add_with");
}

BRAIN_EXPORT int brain_add_batch(brain_t *b, const uint64_t *ids, const float *vectors, size_t n)
{
	if (!b)
		return brain__err(BRAIN_ENULL, "add_batch: brain is NULL");
	if (n == 0)
		return BRAIN_OK;
	if (!ids || !vectors)
		return brain__err(BRAIN_ENULL, "add_batch: %s is NULL", ids ? "vectors" : "ids");
	size_t bytes; /* the log record's rows (engine/change.c) */
	if (!brain__mul_ok(n, (size_t)b->env.opts.dimensions * sizeof(float), &bytes))
		return brain__err(BRAIN_ERANGE, "add_batch: %zu rows overflow the address space", n);
	(void)bytes;
	int rc = brain__check_writable(b, "add_batch");
	if (rc)
		return rc;
	brain_change c = {.op = BRAIN_CHANGE_BATCH};
	c.u.batch.ids = ids;
	c.u.batch.vectors = vectors;
	c.u.batch.n = n;
	return brain__err_prefix(brain__api_change(b, &c), "add_batch");
}

/* How a vector search is narrowed (all NULL: not at all). */
typedef struct narrowing {
	brain_accept_fn accept;
	void *payload;
	const uint64_t *allowed; /* sorted, unique */
	size_t n_allowed;
	const brain_filter *filter;
} narrowing;

static int by_id(const void *pa, const void *pb)
{
	uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;
	return (a > b) - (a < b);
}

static int search_in(brain_t *b, const float *query, size_t k, const narrowing *nw,
                     uint64_t *ids, float *distances, size_t *found, const char *fn)
{
	if (found)
		*found = 0;
	if (!b || !query || !ids || !found)
		return brain__err(BRAIN_ENULL, "%s: %s is NULL", fn,
		                  !b ? "brain" : !query ? "query" : !ids ? "ids" : "found");
	if (k == 0)
		return brain__err(BRAIN_ERANGE, "%s: k is 0; ask for at least 1 neighbour", fn);
	float *q = NULL;
	char what[48];
	snprintf(what, sizeof what, "%s: query", fn);
	int rc = prepared_copy(b, query, what, &q);
	if (rc)
		return rc;
	brain__rdlock(b);
	brain_msg_status st = {0};
	brain__call_STATUS(&b->spine, &st);
	size_t cap = (size_t)BRAIN_MIN((uint64_t)k, st.count);
	if (nw && nw->allowed)
		cap = BRAIN_MIN(cap, nw->n_allowed);
	brain_hit *hits = NULL;
	if (cap) {
		hits = brain__malloc_array(cap, sizeof *hits);
		if (!hits)
			rc = brain__oom(cap * sizeof *hits, "search: results");
	}
	/* the Thalamus plans how (exactly over a small allowed set, or through
	 * the index with a filter) */
	brain_msg_recall m = {q, cap, BRAIN_RECALL_VECTOR, 0.0f, NULL, hits, 0,
	                      nw ? nw->accept : NULL, nw ? nw->payload : NULL,
	                      nw ? nw->allowed : NULL, nw ? nw->n_allowed : 0,
	                      nw ? nw->filter : NULL, NULL, NULL, 0, false};
	/* with cap 0 too: a filter that cannot compare is an error */
	if (rc == BRAIN_OK)
		rc = brain__call_RECALL(&b->spine, &m);
	brain__unlock(b);
	for (size_t i = 0; rc == BRAIN_OK && i < m.found; i++) {
		ids[i] = hits[i].id;
		if (distances)
			distances[i] = hits[i].distance;
	}
	if (rc == BRAIN_OK)
		*found = m.found;
	brain__free(hits);
	brain__free(q);
	return brain__err_prefix(rc, fn);
}

static int search_common(brain_t *b, const float *query, size_t k, const narrowing *nw,
                         uint64_t *ids, float *distances, size_t *found, const char *fn)
{
	brain_timed t = brain__timed_begin(b);
	return brain__timed_end(b, BRAIN_OP_SEARCH, t,
	                        search_in(b, query, k, nw, ids, distances, found, fn));
}

BRAIN_EXPORT int brain_search(brain_t *b, const float *query, size_t k, uint64_t *ids,
                              float *distances, size_t *found)
{
	return search_common(b, query, k, NULL, ids, distances, found, "search");
}

/* ---- many queries at once ------------------------------------------------ */

/* Queries per claim of a worker: few enough that the threads finish
 * together, enough that the shared counter is not contended and that a
 * scan for all of them at once (RECALL_MANY) reads the rows once for 16. */
#define BATCH_CLAIM 16

typedef struct search_batch_job {
	brain_t *b;
	const float *queries;
	size_t nq, k, dims;
	uint64_t *ids;
	float *distances;
	size_t *found;
	_Atomic size_t next;
	_Atomic int rc;
	pthread_mutex_t mu; /* the first error's query and message */
	size_t bad;
	char msg[256];
} search_batch_job;

static void batch_failed(search_batch_job *j, size_t i, int rc)
{
	pthread_mutex_lock(&j->mu);
	if (atomic_load(&j->rc) == BRAIN_OK || i < j->bad) {
		atomic_store(&j->rc, rc);
		j->bad = i;
		snprintf(j->msg, sizeof j->msg, "%s", brain_errmsg());
	}
	pthread_mutex_unlock(&j->mu);
}

/* Queries [first, end) by one RECALL_MANY (one scan for all of them, when
 * the plan is a scan and the index can): *done tells whether it answered
 * them. Each query's latency is its share of the call's. */
static int search_many(search_batch_job *j, size_t first, size_t end, bool *done)
{
	brain_t *b = j->b;
	size_t n = end - first, dims = j->dims;
	*done = false;
	brain_mem_scope outer = brain__enter(b);
	uint64_t t0 = brain__mono_ns();
	float *q = brain__malloc_array(n, dims * sizeof *q);
	int rc = q ? BRAIN_OK : brain__oom(n * dims * sizeof *q, "search_batch: queries");
	for (size_t i = 0; rc == BRAIN_OK && i < n; i++) /* checked: cannot fail */
		rc = brain__vector_prepare(j->queries + (first + i) * dims, dims, b->env.opts.metric,
		                           q + i * dims, "query");
	if (rc == BRAIN_OK) {
		brain_msg_recall_many m = {q,
		                           n,
		                           j->k,
		                           j->ids + first * j->k,
		                           j->distances ? j->distances + first * j->k : NULL,
		                           j->found + first,
		                           false};
		brain__rdlock(b);
		rc = brain__call_RECALL_MANY(&b->spine, &m);
		brain__unlock(b);
		*done = rc == BRAIN_OK && m.done;
	}
	brain__free(q);
	brain__mem_leave(outer);
	if (*done) {
		uint64_t each = (brain__mono_ns() - t0) / n;
		for (size_t i = 0; i < n; i++)
			brain__hist_record(&b->latency[BRAIN_OP_SEARCH], each);
	}
	return rc;
}

static void *search_batch_worker(void *arg)
{
	search_batch_job *j = arg;
	for (;;) {
		size_t first = atomic_fetch_add(&j->next, BATCH_CLAIM);
		if (first >= j->nq || atomic_load_explicit(&j->rc, memory_order_relaxed))
			break;
		size_t end = BRAIN_MIN(first + BATCH_CLAIM, j->nq);
		bool done = false;
		int mrc = end - first > 1 ? search_many(j, first, end, &done) : BRAIN_OK;
		if (mrc == BRAIN_ENOMEM) {
			done = false; /* no room for the pass: one query at a time */
		} else if (mrc) {
			batch_failed(j, first, mrc);
			break;
		}
		for (size_t i = first; !done && i < end; i++) {
			int rc = search_common(j->b, j->queries + i * j->dims, j->k, NULL, j->ids + i * j->k,
			                       j->distances ? j->distances + i * j->k : NULL, &j->found[i],
			                       "search_batch");
			if (rc) {
				batch_failed(j, i, rc);
				break;
			}
		}
	}
	return NULL;
}

BRAIN_EXPORT int brain_search_batch(brain_t *b, const float *queries, size_t nq, size_t k,
                                    uint64_t *ids, float *distances, size_t *found)
{
	if (!b || (nq && (!queries || !ids || !found)))
		return brain__err(BRAIN_ENULL, "search_batch: %s is NULL",
		                  !b ? "brain" : !queries ? "queries" : !ids ? "ids" : "found");
	if (nq == 0)
		return BRAIN_OK;
	size_t cells, bytes;
	if (!brain__mul_ok(nq, k, &cells) || !brain__mul_ok(cells, sizeof *ids, &bytes) ||
	    !brain__mul_ok(nq, (size_t)b->env.opts.dimensions * sizeof(float), &bytes))
		return brain__err(BRAIN_ERANGE,
		                  "search_batch: %zu queries of k %zu overflow the address space", nq, k);
	memset(found, 0, nq * sizeof *found);
	if (k == 0)
		return brain__err(BRAIN_ERANGE, "search_batch: k is 0; ask for at least 1 neighbour");
	/* every query checked first, so that the error names the first bad
	 * one whichever thread would have met it */
	float *row = NULL;
	char what[64];
	snprintf(what, sizeof what, "search_batch: query 0");
	int rc = prepared_copy(b, queries, what, &row);
	for (size_t i = 1; rc == BRAIN_OK && i < nq; i++) {
		snprintf(what, sizeof what, "search_batch: query %zu", i);
		rc = brain__vector_prepare(queries + i * b->env.opts.dimensions, b->env.opts.dimensions,
		                           b->env.opts.metric, row, what);
	}
	brain__free(row);
	if (rc)
		return rc;
	search_batch_job j = {.b = b,
	                      .queries = queries,
	                      .nq = nq,
	                      .k = k,
	                      .dims = b->env.opts.dimensions,
	                      .ids = ids,
	                      .distances = distances,
	                      .found = found,
	                      .bad = SIZE_MAX};
	atomic_init(&j.next, 0);
	atomic_init(&j.rc, BRAIN_OK);
	pthread_mutex_init(&j.mu, NULL);
	int64_t want = brain__param(&b->env, BRAIN_PIDX_THREADS);
	if (want <= 0) {
		long cores = sysconf(_SC_NPROCESSORS_ONLN);
		want = cores > 0 ? cores : 1;
	}
	size_t nt = (size_t)BRAIN_MIN((uint64_t)want, (uint64_t)64);
	nt = BRAIN_MAX(BRAIN_MIN(nt, (nq + BATCH_CLAIM - 1) / BATCH_CLAIM), (size_t)1);
	pthread_t tid[64];
	size_t started = 0;
	for (size_t i = 1; i < nt; i++) {
		if (pthread_create(&tid[started], NULL, search_batch_worker, &j) != 0)
			break; /* fewer threads: fine */
		started++;
	}
	search_batch_worker(&j);
	for (size_t i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	pthread_mutex_destroy(&j.mu);
	rc = atomic_load(&j.rc);
	if (rc) {
		memset(found, 0, nq * sizeof *found);
		/* the worker's message already names the call */
		const char *m = j.msg;
		if (strncmp(m, "search_batch: ", 14) == 0)
			m += 14;
		return brain__err(rc, "search_batch: query %zu: %s", j.bad, m);
	}
	return BRAIN_OK;
}

BRAIN_EXPORT int brain_search_filter(brain_t *b, const float *query, size_t k,
                                     brain_accept_fn accept, void *payload, uint64_t *ids,
                                     float *distances, size_t *found)
{
	if (!accept) {
		if (found)
			*found = 0;
		return brain__err(BRAIN_ENULL, "search_filter: accept is NULL");
	}
	narrowing nw = {accept, payload, NULL, 0, NULL};
	return search_common(b, query, k, &nw, ids, distances, found, "search_filter");
}

BRAIN_EXPORT int brain_search_where(brain_t *b, const float *query, size_t k,
                                    const brain_filter *filter, uint64_t *ids, float *distances,
                                    size_t *found)
{
	if (!filter) {
		if (found)
			*found = 0;
		return brain__err(BRAIN_ENULL, "search_where: filter is NULL");
	}
	narrowing nw = {NULL, NULL, NULL, 0, filter};
	return search_common(b, query, k, &nw, ids, distances, found, "search_where");
}

BRAIN_EXPORT int brain_search_ids(brain_t *b, const float *query, size_t k,
                                  const uint64_t *allowed, size_t n_allowed, uint64_t *ids,
                                  float *distances, size_t *found)
{
	if (found)
		*found = 0;
	if (!allowed && n_allowed)
		return brain__err(BRAIN_ENULL, "search_ids: allowed is NULL");
	brain_mem_scope outer = brain__enter(b);
	uint64_t *sorted = brain__malloc_array(BRAIN_MAX(n_allowed, (size_t)1), sizeof *sorted);
	brain__mem_leave(outer);
	if (!sorted)
		return brain__oom(n_allowed * sizeof *sorted, "search_ids: allowed set");
	if (n_allowed)
		memcpy(sorted, allowed, n_allowed * sizeof *sorted);
	qsort(sorted, n_allowed, sizeof *sorted, by_id);
	size_t u = 0;
	for (size_t i = 0; i < n_allowed; i++)
		if (u == 0 || sorted[u - 1] != sorted[i])
			sorted[u++] = sorted[i];
	narrowing nw = {NULL, NULL, sorted, u, NULL};
	int rc = search_common(b, query, k, &nw, ids, distances, found, "search_ids");
	brain__free(sorted);
	return rc;
}

BRAIN_EXPORT int brain_update_vector(brain_t *b, uint64_t id, const float *vector)
{
	if (!b || !vector)
		return brain__err(BRAIN_ENULL, "update_vector: %s is NULL", b ? "vector" : "brain");
	float *vec = NULL;
	int rc = brain__check_writable(b, "update_vector");
	if (rc == BRAIN_OK)
		rc = prepared_copy(b, vector, "update_vector: vector", &vec);
	if (rc == BRAIN_OK) {
		brain_change c = {.op = BRAIN_CHANGE_UPDATE};
		c.u.update.id = id;
		c.u.update.vector = vec;
		rc = brain__api_change(b, &c);
	}
	brain__free(vec);
	return brain__err_prefix(rc, "update_vector");
}

BRAIN_EXPORT int brain_get_vector(brain_t *b, uint64_t id, float *vector)
{
	if (!b || !vector)
		return brain__err(BRAIN_ENULL, "get_vector: %s is NULL", b ? "vector" : "brain");
	brain_msg_get_vector m = {id, vector};
	brain__rdlock(b);
	int rc = brain__call_GET_VECTOR(&b->spine, &m);
	brain__unlock(b);
	return brain__err_prefix(rc, "get_vector");
}

/* A vector recall packed as results (texts and metadata too). */
BRAIN_EXPORT int brain_recall_vector(brain_t *b, const float *vector, size_t k,
                                     const brain_filter *filter, brain_results **out)
{
	if (out)
		*out = NULL;
	if (!b || !vector || !out)
		return brain__err(BRAIN_ENULL, "recall_vector: %s is NULL",
		                  !b ? "brain" : !vector ? "vector" : "out");
	if (k == 0)
		return brain__err(BRAIN_ERANGE, "recall_vector: k is 0; ask for at least 1 memory");
	float *q = NULL;
	int rc = prepared_copy(b, vector, "recall_vector: vector", &q);
	if (rc)
		return rc;
	brain_timed t = brain__timed_begin(b);
	brain__rdlock(b);
	brain_msg_status st = {0};
	brain__call_STATUS(&b->spine, &st);
	size_t cap = (size_t)BRAIN_MIN((uint64_t)k, st.count);
	brain_hit *hits = cap ? brain__malloc_array(cap, sizeof *hits) : NULL;
	if (cap && !hits)
		rc = brain__oom(cap * sizeof *hits, "recall_vector: results");
	brain_msg_recall m = {q, cap, BRAIN_RECALL_VECTOR, 0.0f, NULL, hits, 0, NULL, NULL, NULL,
	                      0, filter, NULL, NULL, 0, false};
	/* with cap 0 too: a filter that cannot compare is an error */
	if (rc == BRAIN_OK)
		rc = brain__call_RECALL(&b->spine, &m);
	if (rc == BRAIN_OK)
		rc = brain__results_make(hits, m.found, NULL, 0, out);
	brain__unlock(b);
	brain__free(hits);
	brain__free(q);
	return brain__timed_end(b, BRAIN_OP_SEARCH, t, brain__err_prefix(rc, "recall_vector"));
}
