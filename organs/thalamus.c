/*
 * organs/thalamus.c - planning and ranking of recalls.
 *
 * A recall asks for the k best memories. The Thalamus decides which
 * memories are candidates (text recall: only memories with text), how many
 * to fetch from the index, and ranks what comes back:
 *
 *   vector recall: by distance, ties by smaller id;
 *   text recall:   score = similarity * (1 + w * (importance - 0.5)),
 *                  only scores above the minimum, ties by smaller id;
 *                  importance decays while a memory goes unused, when
 *                  DECAY_HALF_LIFE_H is set (base/decay.h).
 *
 * Because importance can lift a memory over nearer ones, and because ties
 * must go to the smaller id, the first fetch may not be enough. The plan
 * then widens: the best score any unfetched memory could reach is bounded
 * by the farthest fetched distance, and fetching doubles until that bound
 * cannot beat the k-th result. So recall is exactly right whatever the
 * weight, and costs one fetch in the common case.
 *
 * Every search is planned here, and only here (the index backend carries
 * the plan out, brain_index_search):
 *
 *   exact over a few slots  an allowed id set of at most EXACT_ALLOWED ids:
 *                           their distances, every one;
 *   exact scan              an index whose searches are exact anyway, or
 *                           one holding fewer vectors than HNSW_EXACT_BELOW
 *                           (BRAIN_INDEX_AUTO's threshold), or a filter
 *                           that passes too few to find by walking a graph,
 *                           or a walk that would keep every vector;
 *   the index's structure   otherwise, keeping max(HNSW_EF_SEARCH, wanted)
 *                           candidates, widened by 1/pass for a filter;
 *                           a walk that comes back short of what exists
 *                           (a graph cut by deletions) is done again as a
 *                           scan.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/decay.h"
#include "base/slotset.h"
#include "spine/spine.h"

typedef struct thalamus {
	const brain_env *env;
	brain_spine *spine;
} thalamus;

/* An allowed id set at most this large is searched exactly, id by id. */
#define EXACT_ALLOWED 4096
/* A filter passing fewer than this share, or fewer memories than
 * max(4 ef, FILTER_MIN_PASSING), is scanned: a walk would meet too few. */
#define FILTER_MIN_SHARE 0.02
#define FILTER_MIN_PASSING 2000

/* Rows a graph walk looks at for each candidate it keeps (measured: a
 * walk keeping 640 costs about as much as reading 30,000 rows one by one,
 * bench/bench_where.c). */
#define WALK_COST_PER_CANDIDATE 32

/* How one fetch from the index is made. */
typedef struct plan {
	bool exact;
	bool over_pass; /* exactly, over a filter's passing set alone */
	uint64_t effort;
} plan;

/* A filter on metadata, evaluated: the set of the slots that pass. */
typedef struct passing {
	const brain_slotset *set;
	uint64_t n;
} pass_set;

static int create(const brain_env *env, brain_spine *spine, const brain_organ_args *args,
                  void **state)
{
	(void)args;
	thalamus *t = brain__calloc(1, sizeof *t);
	if (!t)
		return brain__oom(sizeof *t, "thalamus");
	t->env = env;
	t->spine = spine;
	*state = t;
	return BRAIN_OK;
}

static void destroy(void *state)
{
	brain__free(state);
}

/* Cosine similarity from a distance (exact for unit vectors). */
static inline float similarity(int metric, float distance)
{
	return metric == BRAIN_METRIC_L2 ? 1.0f - distance * 0.5f : 1.0f - distance;
}

static inline float score_of(float sim, float importance, float w)
{
	return sim * (1.0f + w * (importance - 0.5f));
}

/* The importance h ranks by at now_ms (decayed while unused). */
static inline float importance_now(const thalamus *t, const brain_hit *h, int64_t now_ms)
{
	return brain__importance_now(h->importance, h->accessed_ms, now_ms,
	                             brain__param(t->env, BRAIN_PIDX_DECAY_HALF_LIFE_H));
}

/* The best score a memory at similarity `sim` could have, whatever its
 * importance (decay only lowers it). */
static inline float score_bound(float sim, float w)
{
	return sim >= 0 ? sim * (1.0f + 0.5f * w) : sim * (1.0f - 0.5f * w);
}

static int by_score(const void *pa, const void *pb)
{
	const brain_hit *a = pa, *b = pb;
	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

static int by_distance(const void *pa, const void *pb)
{
	const brain_hit *a = pa, *b = pb;
	if (a->distance != b->distance)
		return a->distance < b->distance ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

typedef struct fetch {
	uint32_t *slots;
	float *distances;
	brain_hit *hits;
	size_t cap;
} fetch;

static void fetch_free(fetch *f)
{
	brain__free(f->slots);
	brain__free(f->distances);
	brain__free(f->hits);
	memset(f, 0, sizeof *f);
}

static int fetch_grow(fetch *f, size_t cap)
{
	if (cap <= f->cap)
		return BRAIN_OK;
	uint32_t *s = brain__realloc(f->slots, cap * sizeof *s);
	if (s)
		f->slots = s;
	float *d = s ? brain__realloc(f->distances, cap * sizeof *d) : NULL;
	if (d)
		f->distances = d;
	brain_hit *h = d ? brain__realloc(f->hits, cap * sizeof *h) : NULL;
	if (!h)
		return brain__oom(cap * (sizeof *s + sizeof *d + sizeof *h), "recall candidates");
	f->hits = h;
	f->cap = cap;
	return BRAIN_OK;
}

/* Fetch the `want` nearest candidates with their records. `text_only`
 * filters out memories without text; the plan leaves it off when every
 * memory has text, which saves a check per memory. */
/* Binary search in the recall's sorted allowed ids. */
static int in_allowed(uint64_t id, void *payload)
{
	const brain_msg_recall *m = payload;
	size_t lo = 0, hi = m->n_allowed;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->allowed[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < m->n_allowed && m->allowed[lo] == id;
}

/* The filter a recall's fetches apply to ids (NULL: none). */
static int (*id_filter(const brain_msg_recall *m, void **payload))(uint64_t, void *)
{
	if (m->allowed) {
		*payload = (void *)m;
		return in_allowed;
	}
	*payload = m->accept_payload;
	return m->accept;
}

/* Plan a fetch of `want` (see the top of the file). */
static plan make_plan(thalamus *t, const brain_msg_recall *m, size_t want, bool text_only,
                      const pass_set *pass, const brain_index_info *info)
{
	plan p = {true, false, 0};
	int64_t ef_param = brain__param(t->env, BRAIN_PIDX_HNSW_EF_SEARCH);
	uint64_t ef = BRAIN_MAX((uint64_t)BRAIN_MAX(ef_param, (int64_t)0), (uint64_t)want);
	uint64_t exact_below = (uint64_t)brain__param(t->env, BRAIN_PIDX_HNSW_EXACT_BELOW);
	if (pass) {
		/* The share that passes is known exactly. A walk keeps ef/share
		 * candidates to meet ef that pass, and looks at about
		 * WALK_COST_PER_CANDIDATE rows for each; looking at the passing
		 * rows alone costs one each. The cheaper is taken. */
		double share = info->count ? (double)pass->n / (double)info->count : 1.0;
		if (!info->approximate || info->count < exact_below) {
			p.over_pass = share < 0.25; /* else one pass over every row */
			return p;
		}
		uint64_t effort = share > 0 ? (uint64_t)BRAIN_MIN((double)info->count, (double)ef / share)
		                            : info->count;
		if ((double)pass->n <= (double)WALK_COST_PER_CANDIDATE * (double)effort) {
			p.over_pass = true;
			return p;
		}
		p.exact = false;
		p.effort = effort;
		return p;
	}
	if (!info->approximate || info->count < exact_below)
		return p;
	void *payload = NULL;
	int (*accept)(uint64_t, void *) = id_filter(m, &payload);
	if (accept || text_only) {
		brain_msg_estimate e = {text_only, accept, payload, -1.0};
		if (brain__call_ESTIMATE(t->spine, &e) != BRAIN_OK || e.pass < 0 ||
		    e.pass < FILTER_MIN_SHARE ||
		    e.pass * (double)info->count <
		            (double)BRAIN_MAX(4 * ef, (uint64_t)FILTER_MIN_PASSING))
			return p;
		ef = (uint64_t)BRAIN_MIN((double)info->count, (double)ef / e.pass);
	}
	if (ef >= info->count)
		return p; /* a walk keeping every vector: a scan costs less, and is exact */
	p.exact = false;
	p.effort = ef;
	return p;
}

static int run_fetch(thalamus *t, const brain_msg_recall *m, fetch *f, size_t want,
                     bool text_only, const pass_set *pass, size_t *found)
{
	int rc = fetch_grow(f, want);
	if (rc)
		return rc;
	brain_msg_index_info ii;
	rc = brain__call_INDEX_INFO(t->spine, &ii);
	if (rc)
		return rc;
	plan p = make_plan(t, m, want, text_only, pass, &ii.info);
	brain_msg_search s = {
		.query = m->query,
		.k = want,
		.text_only = text_only,
		.exact = p.exact,
		.effort = p.effort,
		.slots = f->slots,
		.distances = f->distances,
		.pass = pass ? pass->set : NULL,
		.over_pass = p.over_pass,
	};
	s.accept = id_filter(m, &s.accept_payload);
	rc = brain__call_SEARCH(t->spine, &s);
	if (rc == BRAIN_OK && !p.exact && !s.accept && !text_only && !pass &&
	    s.found < BRAIN_MIN((uint64_t)want, ii.info.count)) {
		/* the walk came back short of what exists: scan */
		s.exact = true;
		s.effort = 0;
		rc = brain__call_SEARCH(t->spine, &s);
	}
	if (rc == BRAIN_OK && !p.exact && pass && s.found < BRAIN_MIN((uint64_t)want, pass->n)) {
		/* the walk met fewer passing memories than may exist: every one
		 * of the set, exactly (so k come back whenever k pass) */
		s.exact = true;
		s.over_pass = true;
		s.effort = 0;
		rc = brain__call_SEARCH(t->spine, &s);
	}
	if (rc)
		return rc;
	brain_msg_hits h = {f->slots, f->distances, s.found, false, f->hits};
	rc = brain__call_HITS(t->spine, &h);
	*found = s.found;
	return rc;
}

/* Order the n recalled hits by their score against m->rerank (distance
 * and score become that vector's). The set stays what the query recalled:
 * the second vector only decides the order. */
static int rerank(thalamus *t, brain_msg_recall *m, size_t n, float w)
{
	int64_t now = brain__now_ms();
	uint32_t *slots = brain__malloc_array(n, sizeof *slots);
	float *dist = brain__malloc_array(n, sizeof *dist);
	int rc = slots && dist ? BRAIN_OK : brain__oom(n * 8, "rerank");
	for (size_t i = 0; rc == BRAIN_OK && i < n; i++)
		slots[i] = m->hits[i].slot;
	brain_msg_distances d = {slots, n, m->rerank, dist};
	if (rc == BRAIN_OK)
		rc = brain__call_DISTANCES(t->spine, &d);
	for (size_t i = 0; rc == BRAIN_OK && i < n; i++) {
		brain_hit *h = &m->hits[i];
		h->distance = dist[i];
		h->score = score_of(similarity(t->env->opts.metric, dist[i]), importance_now(t, h, now),
		                    w);
	}
	if (rc == BRAIN_OK)
		qsort(m->hits, n, sizeof *m->hits, by_score);
	brain__free(slots);
	brain__free(dist);
	return rc;
}

/* VECTOR recall over a small allowed id set: the slots of those that
 * exist, every distance, exactly. */
static int recall_exact(thalamus *t, brain_msg_recall *m)
{
	size_t n = m->n_allowed;
	float *dist = brain__malloc_array(BRAIN_MAX(n, (size_t)1), sizeof *dist);
	brain_hit *hits = brain__malloc_array(BRAIN_MAX(n, (size_t)1), sizeof *hits);
	uint32_t *slots = brain__malloc_array(BRAIN_MAX(n, (size_t)1), sizeof *slots);
	uint32_t *set = brain__malloc_array(BRAIN_MAX(n, (size_t)1), sizeof *set);
	int rc = dist && hits && slots && set
	                 ? BRAIN_OK
	                 : brain__oom(n * (sizeof *dist + sizeof *hits + 2 * sizeof *slots),
	                              "exact recall");
	size_t have = 0;
	for (size_t i = 0; rc == BRAIN_OK && i < n; i++) {
		brain_msg_lookup l = {.id = m->allowed[i]};
		if (brain__call_LOOKUP(t->spine, &l) == BRAIN_OK)
			set[have++] = l.hit.slot;
	}
	n = have;
	brain_msg_distances d = {set, n, m->query, dist};
	if (rc == BRAIN_OK && n)
		rc = brain__call_DISTANCES(t->spine, &d);
	brain_msg_hits h = {set, dist, n, false, hits};
	if (rc == BRAIN_OK && n)
		rc = brain__call_HITS(t->spine, &h);
	if (rc == BRAIN_OK) {
		qsort(hits, n, sizeof *hits, by_distance);
		size_t k = BRAIN_MIN(m->k, n);
		for (size_t i = 0; i < k; i++) {
			slots[i] = hits[i].slot;
			dist[i] = hits[i].distance;
		}
		brain_msg_hits touch = {slots, dist, k, true, m->hits};
		rc = k ? brain__call_HITS(t->spine, &touch) : BRAIN_OK;
		if (rc == BRAIN_OK)
			m->found = k;
	}
	brain__free(dist);
	brain__free(hits);
	brain__free(slots);
	brain__free(set);
	return rc;
}

static int recall(thalamus *t, brain_msg_recall *m, const pass_set *pass);
static int recall_words(thalamus *t, brain_msg_recall *m, const pass_set *pass);

/* By mode: the vector recalls, or the keyword and hybrid ones. */
static int recall_as(thalamus *t, brain_msg_recall *m, const pass_set *pass)
{
	return m->mode == BRAIN_RECALL_KEYWORD || m->mode == BRAIN_RECALL_HYBRID
	               ? recall_words(t, m, pass)
	               : recall(t, m, pass);
}

static int on_RECALL(thalamus *t, brain_msg_recall *m)
{
	m->found = 0;
	if (m->allowed && m->n_allowed <= EXACT_ALLOWED && !m->filter && !m->within)
		return recall_exact(t, m);
	if (!m->filter && !m->within)
		return recall_as(t, m, NULL);
	/* the passing set: the filter's, within the given slots */
	brain_msg_filter_eval e = {m->filter, NULL, 0};
	int rc = BRAIN_OK;
	if (m->filter) {
		rc = brain__call_FILTER_EVAL(t->spine, &e);
		if (rc == BRAIN_OK && m->within)
			brain__slotset_and(e.set, m->within);
	} else {
		e.set = brain__slotset_copy(m->within);
		if (!e.set)
			rc = BRAIN_ENOMEM;
	}
	if (rc == BRAIN_OK)
		e.count = brain__slotset_count(e.set);
	pass_set pass = {e.set, e.count};
	if (rc == BRAIN_OK)
		rc = recall_as(t, m, &pass);
	brain__slotset_free(e.set);
	return rc;
}

/* A vector fetch of `found` (asked for `want` of `pool`) whose hits are
 * ordered by (distance, id): is its top k the exact top k? Yes if it
 * fetched everything there is, or if the k-th is nearer than the farthest
 * fetched (`far`), which every unfetched memory is at least as far as. */
static bool vector_settled(const brain_hit *hits, size_t found, size_t want, size_t pool,
                           size_t k, float far)
{
	return found < want || want >= pool || (found >= k && hits[k - 1].distance < far);
}

/* The first n of hits (ordered) are what is returned: their records into
 * out, their access time set now when `touch`. slots and dist: room for n. */
static int deliver_hits(thalamus *t, const brain_hit *hits, size_t n, bool touch,
                        uint32_t *slots, float *dist, brain_hit *out)
{
	for (size_t i = 0; i < n; i++) {
		slots[i] = hits[i].slot;
		dist[i] = hits[i].distance;
	}
	brain_msg_hits h = {slots, dist, n, touch, out};
	return n ? brain__call_HITS(t->spine, &h) : BRAIN_OK;
}

static int recall(thalamus *t, brain_msg_recall *m, const pass_set *pass)
{
	brain_msg_status st = {0};
	brain__call_STATUS(t->spine, &st);
	size_t pool = (size_t)(m->mode == BRAIN_RECALL_TEXT ? st.text_count : st.count);
	if (pass)
		pool = (size_t)BRAIN_MIN((uint64_t)pool, pass->n);
	bool text_only = m->mode == BRAIN_RECALL_TEXT && st.text_count < st.count;
	size_t k = BRAIN_MIN(m->k, pool);
	if (k == 0)
		return BRAIN_OK;

	int metric = t->env->opts.metric;
	int64_t now = brain__now_ms();
	float w = m->mode == BRAIN_RECALL_TEXT
	                  ? (float)brain__param(t->env, BRAIN_PIDX_RECALL_IMPORTANCE_WEIGHT) / 1000.0f
	                  : 0.0f;
	/* First fetch: one more than k, so that the farthest fetched lies
	 * beyond the k-th and usually proves nothing unfetched can enter (else
	 * every recall would fetch twice); more headroom when importance can
	 * reorder. */
	size_t want = BRAIN_MIN(pool, w > 0 ? 2 * k + 8 : k + 1);
	fetch f = {0};
	size_t found = 0, passing = 0;
	int rc;
	for (;;) {
		rc = run_fetch(t, m, &f, want, text_only, pass, &found);
		if (rc)
			break;
		passing = 0;
		for (size_t i = 0; i < found; i++) {
			brain_hit *h = &f.hits[i];
			h->score = score_of(similarity(metric, h->distance), importance_now(t, h, now), w);
			if (m->mode == BRAIN_RECALL_VECTOR || h->score > m->min_score)
				f.hits[passing++] = *h;
		}
		qsort(f.hits, passing, sizeof *f.hits,
		      m->mode == BRAIN_RECALL_TEXT ? by_score : by_distance);
		if (found < want || want >= pool)
			break; /* everything there is has been seen */
		/* Could an unfetched memory still enter the top k? Unfetched ones
		 * are at least as far as the farthest fetched. */
		float far = f.distances[found - 1];
		bool settled;
		if (m->mode == BRAIN_RECALL_VECTOR) {
			settled = vector_settled(f.hits, passing, want, pool, k, far);
		} else {
			float bound = score_bound(similarity(metric, far), w);
			float bar = passing >= k ? f.hits[k - 1].score : m->min_score;
			settled = passing >= k ? bound < bar : bound <= bar;
		}
		if (settled)
			break;
		want = want > pool / 2 ? pool : want * 2;
	}
	if (rc == BRAIN_OK) {
		size_t n = BRAIN_MIN(passing, k);
		/* The returned memories were accessed now; refresh their records. */
		rc = deliver_hits(t, f.hits, n, !m->no_touch, f.slots, f.distances, m->hits);
		for (size_t i = 0; rc == BRAIN_OK && i < n; i++)
			m->hits[i].score = f.hits[i].score;
		if (rc == BRAIN_OK && m->rerank)
			rc = rerank(t, m, n, w);
		if (rc == BRAIN_OK)
			m->found = n;
	}
	fetch_free(&f);
	return rc;
}

/* ---- many vector queries at once -----------------------------------------
 *
 * When the plan for a vector recall without a filter would scan (an exact
 * index, or one below HNSW_EXACT_BELOW), the first fetch of every query
 * (k + 1, as recall() asks) is one scan for all of them (SEARCH_MANY, if
 * the index can). Each query then goes on as recall() goes on with its
 * fetch: hits ordered by (distance, id); settled when the k-th is nearer
 * than the farthest fetched, else that query is recalled alone (which
 * fetches more); the k returned are touched. So each answer is RECALL's. */
static int on_RECALL_MANY(thalamus *t, brain_msg_recall_many *m)
{
	m->done = false;
	brain_msg_status st = {0};
	brain__call_STATUS(t->spine, &st);
	size_t pool = (size_t)st.count, nq = m->nq;
	if (pool == 0 || nq == 0) {
		memset(m->found, 0, nq * sizeof *m->found);
		m->done = true;
		return BRAIN_OK;
	}
	brain_msg_index_info ii;
	int rc = brain__call_INDEX_INFO(t->spine, &ii);
	if (rc)
		return rc;
	uint64_t exact_below = (uint64_t)brain__param(t->env, BRAIN_PIDX_HNSW_EXACT_BELOW);
	if (ii.info.approximate && ii.info.count >= exact_below)
		return BRAIN_OK; /* a walk for each */
	size_t k = BRAIN_MIN(m->k, pool), want = BRAIN_MIN(pool, k + 1), cells;
	if (!brain__mul_ok(nq, want, &cells))
		return BRAIN_OK;
	uint32_t *slots = brain__malloc_array(cells, sizeof *slots);
	float *dist = brain__malloc_array(cells, sizeof *dist);
	size_t *found = brain__malloc_array(nq, sizeof *found);
	brain_hit *hits = brain__malloc_array(want, sizeof *hits);
	brain_hit *out = brain__malloc_array(k, sizeof *out);
	uint32_t *ts = brain__malloc_array(k, sizeof *ts);
	float *td = brain__malloc_array(k, sizeof *td);
	if (!slots || !dist || !found || !hits || !out || !ts || !td)
		rc = brain__oom(cells * 8 + want * sizeof *hits, "recall_many");
	brain_msg_search_many s = {m->queries, nq, want, slots, dist, found, false};
	if (rc == BRAIN_OK)
		rc = brain__call_SEARCH_MANY(t->spine, &s);
	uint32_t dims = t->env->opts.dimensions;
	for (size_t j = 0; rc == BRAIN_OK && s.done && j < nq; j++) {
		size_t fj = found[j], n = 0;
		const uint32_t *sj = slots + j * want;
		const float *dj = dist + j * want;
		brain_msg_hits h = {sj, dj, fj, false, hits};
		if (fj)
			rc = brain__call_HITS(t->spine, &h);
		if (rc)
			break;
		qsort(hits, fj, sizeof *hits, by_distance);
		if (vector_settled(hits, fj, want, pool, k, fj ? dj[fj - 1] : 0.0f)) {
			n = BRAIN_MIN(fj, k);
			rc = deliver_hits(t, hits, n, true, ts, td, out);
		} else {
			brain_msg_recall r = {.query = m->queries + j * dims,
			                      .k = k,
			                      .mode = BRAIN_RECALL_VECTOR,
			                      .hits = out};
			rc = recall(t, &r, NULL);
			n = r.found;
		}
		for (size_t i = 0; rc == BRAIN_OK && i < n; i++) {
			m->ids[j * m->k + i] = out[i].id;
			if (m->distances)
				m->distances[j * m->k + i] = out[i].distance;
		}
		m->found[j] = rc == BRAIN_OK ? n : 0;
	}
	m->done = rc == BRAIN_OK && s.done;
	brain__free(slots);
	brain__free(dist);
	brain__free(found);
	brain__free(hits);
	brain__free(out);
	brain__free(ts);
	brain__free(td);
	return rc;
}

/* ---- keyword and hybrid recall -------------------------------------------
 *
 * The keyword index (index/keyword.h, in the Hippocampus) ranks by BM25.
 * A query's "quoted phrases" must appear in a memory as such: their words
 * are required (KW_SEARCH's require_all), and each candidate's normalised
 * text is checked for each normalised phrase, between word boundaries; the
 * fetch widens until k pass or the candidates run out. A hybrid recall
 * fuses the keyword ranks and the semantic ranks of the HYBRID_POOL best of
 * each by reciprocal rank fusion (HYBRID_KEYWORD_WEIGHT). */

#define RRF_K 60.0
#define HYBRID_POOL 50

typedef struct ranked {
	uint32_t slot;
	brain_id id;
	float score;
} ranked;

static int by_ranked(const void *pa, const void *pb)
{
	const ranked *a = pa, *b = pb;
	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

/* The normalised forms of the query's quoted phrases, each " w1 w2 ",
 * into one buffer (NUL-separated), *n of them; *only: the query has no
 * word outside them (then every word is required). */
static int phrases_of(thalamus *t, const char *q, size_t len, char **out, size_t *n, bool *only)
{
	*out = NULL;
	*n = 0;
	*only = false;
	brain_analysis a;
	brain__analysis_init(&a);
	char *buf = NULL;
	size_t used = 0, cap = 0;
	int rc = BRAIN_OK;
	for (size_t i = 0; rc == BRAIN_OK && i < len; i++) {
		if (q[i] != '"')
			continue;
		const char *end = memchr(q + i + 1, '"', len - i - 1);
		if (!end)
			break; /* an open quote: its words count as words */
		brain_msg_text_analyze m = {q + i + 1, (size_t)(end - q - i - 1), 0, 0, &a};
		rc = brain__call_TEXT_ANALYZE(t->spine, &m);
		if (rc == BRAIN_OK && a.text_len) {
			size_t need = a.text_len + 3;
			if (used + need > cap) {
				size_t c = BRAIN_MAX(2 * cap, used + need + 64);
				char *b = brain__realloc(buf, c);
				if (!b) {
					rc = brain__oom(c, "phrases");
					break;
				}
				buf = b;
				cap = c;
			}
			buf[used] = ' ';
			memcpy(buf + used + 1, a.text, a.text_len);
			buf[used + 1 + a.text_len] = ' ';
			buf[used + 2 + a.text_len] = '\0';
			used += need;
			(*n)++;
		}
		i = (size_t)(end - q);
	}
	if (rc == BRAIN_OK && *n) {
		/* the words outside the quotes: with none, all are the phrases' */
		char *rest = brain__malloc(len + 1);
		size_t k = 0;
		bool in = false;
		if (!rest)
			rc = brain__oom(len + 1, "phrases");
		for (size_t i = 0; rest && i < len; i++) {
			if (q[i] == '"' && (in || memchr(q + i + 1, '"', len - i - 1)))
				in = !in;
			else if (!in)
				rest[k++] = q[i];
		}
		brain_msg_text_analyze m = {rest, k, 0, 0, &a};
		if (rc == BRAIN_OK && k)
			rc = brain__call_TEXT_ANALYZE(t->spine, &m);
		if (rc == BRAIN_OK)
			*only = k == 0 || a.nwords == 0;
		brain__free(rest);
	}
	brain__analysis_free(&a);
	if (rc) {
		brain__free(buf);
		*n = 0;
		return rc;
	}
	*out = buf;
	return BRAIN_OK;
}

/* Does the memory's text hold every phrase? */
static int holds_phrases(thalamus *t, const brain_hit *h, const char *phrases, size_t n,
                         brain_analysis *a, bool *yes)
{
	*yes = false;
	brain_msg_text_analyze m = {h->text, h->text_len, 0, 0, a};
	int rc = brain__call_TEXT_ANALYZE(t->spine, &m);
	if (rc)
		return rc;
	/* " text " against each " phrase " */
	char *padded = brain__malloc(a->text_len + 3);
	if (!padded)
		return brain__oom(a->text_len + 3, "phrase check");
	padded[0] = ' ';
	memcpy(padded + 1, a->text, a->text_len);
	padded[a->text_len + 1] = ' ';
	padded[a->text_len + 2] = '\0';
	const char *p = phrases;
	bool all = true;
	for (size_t i = 0; i < n && all; i++) {
		all = strstr(padded, p) != NULL;
		p += strlen(p) + 1;
	}
	brain__free(padded);
	*yes = all;
	return BRAIN_OK;
}

/* The `want` best by BM25 (phrases checked) into out[], *got of them. */
static int keyword_ranks(thalamus *t, const brain_msg_recall *m, const pass_set *pass,
                         size_t want, ranked *out, size_t *got)
{
	*got = 0;
	char *phrases = NULL;
	size_t np = 0;
	bool only = false;
	int rc = phrases_of(t, m->text, m->text_len, &phrases, &np, &only);
	/* the query's terms, once for every fetch */
	brain_analysis a;
	brain__analysis_init(&a);
	uint64_t *terms = NULL;
	size_t nterms = 0;
	brain_msg_text_analyze qa = {m->text, m->text_len, 0, 0, &a};
	if (rc == BRAIN_OK)
		rc = brain__call_TEXT_ANALYZE(t->spine, &qa);
	if (rc == BRAIN_OK)
		rc = brain__analysis_terms(&a, &terms);
	if (rc == BRAIN_OK)
		nterms = a.nwords;
	brain_msg_status st = {0};
	brain__call_STATUS(t->spine, &st);
	size_t take = np ? BRAIN_MAX(4 * want, (size_t)64) : want;
	take = (size_t)BRAIN_MIN((uint64_t)take, BRAIN_MAX(st.text_count, (uint64_t)1));
	uint32_t *slots = NULL;
	float *scores = NULL;
	brain_hit *hits = NULL;
	size_t checked = 0, kept = 0;
	while (rc == BRAIN_OK && nterms) {
		brain__free(slots);
		brain__free(scores);
		brain__free(hits);
		slots = brain__malloc_array(take, sizeof *slots);
		scores = brain__malloc_array(take, sizeof *scores);
		hits = brain__malloc_array(take, sizeof *hits);
		if (!slots || !scores || !hits) {
			rc = brain__oom(take * 16, "keyword recall");
			break;
		}
		/* every word is required when all are the phrases'; otherwise the
		 * phrase check alone keeps what has them */
		brain_msg_kw_search s = {terms, nterms, take, only, pass ? pass->set : NULL,
		                         slots, scores, 0};
		rc = brain__call_KW_SEARCH(t->spine, &s);
		/* a wider fetch ranks the same first `checked` again (the order
		 * is total: score, then slot): only the new ones are looked at */
		brain_msg_hits h = {slots + checked, NULL, s.found - BRAIN_MIN(checked, s.found), false,
		                    hits + checked};
		if (rc == BRAIN_OK && s.found > checked)
			rc = brain__call_HITS(t->spine, &h);
		for (size_t i = checked; rc == BRAIN_OK && i < s.found && kept < want; i++) {
			bool yes = true;
			if (np)
				rc = holds_phrases(t, &hits[i], phrases, np, &a, &yes);
			if (rc == BRAIN_OK && yes)
				out[kept++] = (ranked){slots[i], hits[i].id, scores[i]};
			checked = i + 1;
		}
		/* enough, or every candidate seen */
		if (rc || kept >= want || s.found < take || take >= st.text_count)
			break;
		take = (size_t)BRAIN_MIN((uint64_t)take * 4, st.text_count);
	}
	*got = rc ? 0 : kept;
	brain__free(slots);
	brain__free(scores);
	brain__free(hits);
	brain__free(phrases);
	brain__free(terms);
	brain__analysis_free(&a);
	return rc;
}

/* The recalled into m->hits: records refreshed (accessed now), scores
 * as ranked. */
static int deliver(thalamus *t, brain_msg_recall *m, const ranked *r, size_t n)
{
	n = BRAIN_MIN(n, m->k);
	uint32_t *slots = brain__malloc_array(BRAIN_MAX(n, (size_t)1), sizeof *slots);
	if (!slots)
		return brain__oom(n * sizeof *slots, "recall");
	for (size_t i = 0; i < n; i++)
		slots[i] = r[i].slot;
	brain_msg_hits h = {slots, NULL, n, true, m->hits};
	int rc = n ? brain__call_HITS(t->spine, &h) : BRAIN_OK;
	for (size_t i = 0; rc == BRAIN_OK && i < n; i++)
		m->hits[i].score = r[i].score;
	if (rc == BRAIN_OK)
		m->found = n;
	brain__free(slots);
	return rc;
}

static int recall_words(thalamus *t, brain_msg_recall *m, const pass_set *pass)
{
	if (m->k == 0)
		return BRAIN_OK;
	if (!m->text)
		return brain__err(BRAIN_EINTERNAL, "recall: a keyword recall without its text");
	if (m->mode == BRAIN_RECALL_KEYWORD) {
		ranked *r = brain__malloc_array(m->k, sizeof *r);
		if (!r)
			return brain__oom(m->k * sizeof *r, "keyword recall");
		size_t n = 0;
		int rc = keyword_ranks(t, m, pass, m->k, r, &n);
		if (rc == BRAIN_OK)
			rc = deliver(t, m, r, n);
		brain__free(r);
		return rc;
	}
	/* hybrid: both lists, then the fusion */
	size_t pool = BRAIN_MAX(m->k, (size_t)HYBRID_POOL);
	ranked *kw = brain__malloc_array(pool, sizeof *kw);
	brain_hit *sem = brain__malloc_array(pool, sizeof *sem);
	ranked *fused = brain__malloc_array(2 * pool, sizeof *fused);
	int rc = kw && sem && fused ? BRAIN_OK : brain__oom(pool * 64, "hybrid recall");
	size_t nk = 0;
	if (rc == BRAIN_OK)
		rc = keyword_ranks(t, m, pass, pool, kw, &nk);
	brain_msg_recall s = *m;
	s.mode = BRAIN_RECALL_TEXT;
	s.k = pool;
	s.hits = sem;
	s.found = 0;
	s.no_touch = true; /* only what the fusion returns was accessed */
	if (rc == BRAIN_OK)
		rc = recall(t, &s, pass);
	double w = (double)brain__param(t->env, BRAIN_PIDX_HYBRID_KEYWORD_WEIGHT) / 1000.0;
	size_t nf = 0;
	for (size_t i = 0; rc == BRAIN_OK && i < nk; i++)
		fused[nf++] = (ranked){kw[i].slot, kw[i].id, (float)(w / (RRF_K + (double)(i + 1)))};
	for (size_t i = 0; rc == BRAIN_OK && i < s.found; i++) {
		float add = (float)((1.0 - w) / (RRF_K + (double)(i + 1)));
		size_t j = 0;
		while (j < nf && fused[j].slot != sem[i].slot)
			j++;
		if (j < nf)
			fused[j].score += add;
		else
			fused[nf++] = (ranked){sem[i].slot, sem[i].id, add};
	}
	if (rc == BRAIN_OK) {
		qsort(fused, nf, sizeof *fused, by_ranked);
		rc = deliver(t, m, fused, nf);
	}
	brain__free(kw);
	brain__free(sem);
	brain__free(fused);
	return rc;
}

BRAIN_ORGAN_HANDLERS(THALAMUS, handlers);

const brain_organ brain__organ_thalamus = {
	.name = "thalamus",
	.id = BRAIN_ORGAN_THALAMUS,
	.create = create,
	.destroy = destroy,
	.handlers = handlers,
};
