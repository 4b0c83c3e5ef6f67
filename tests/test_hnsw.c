/*
 * tests/test_hnsw.c - the "hnsw" index backend (index/hnsw*.c).
 *
 * The flat backend is the reference: every recall figure here is the share
 * of flat's exact top k that hnsw returns, on clustered random data (30
 * gaussian clusters, more like real embeddings than uniform noise). The
 * backend is driven directly through its vtable (with a parameter callback,
 * as the brain passes one) and through the public API, where a brain with
 * BRAIN_INDEX_FLAT fed the same calls is the reference.
 *
 * Covered: recall for every metric and its rise with ef, with and without
 * HNSW_SQ8; exact results below HNSW_EXACT_BELOW; every node reachable
 * after threaded batch builds; deletion with slot reuse over rounds of
 * churn, down to a few percent left; brain_update_vector; filtered and
 * id-set searches at every selectivity; determinism of single-threaded
 * builds; checkpoints and reopening (HNSW and AUTO); searches running
 * alongside an adding thread (for TSan); errors and damaged saved bytes.
 *
 * BRAINCORE_HNSW_VERBOSE=1 prints the recall figures.
 */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <time.h>

#include <cmocka.h>

#include "braincore.h"
#include "braincore/sys/alloc.h"
#include "index/distance.h"
#include "index/flat.h"
#include "index/hnsw.h"
#include "memfs.h"
#include "tests/test_util.h"

static const brain_index_vtable *const hnsw = &brain__index_hnsw;
static const brain_index_vtable *const flat = &brain__index_flat;

#define K 10
#define FDIM_SMALL 16
#define NCLUSTERS 30

static bool g_verbose;

#define VERBOSE(...)                                                               \
	do {                                                                           \
		if (g_verbose)                                                             \
			print_message(__VA_ARGS__);                                            \
	} while (0)

/* ---- small helpers ------------------------------------------------------ */

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		abort(); /* out of memory in the test itself */
	return p;
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		abort();
	return p;
}

/* The case a test that loops over cases (metrics, thread counts ...) is
 * in, "" outside one. at_least names it; after a failure in a helper,
 * whose message cannot, timer_stop does. */
static char g_case[64];

static void case_begin(const char *fmt, ...) BRAIN_PRINTF(1, 2);

static void case_begin(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(g_case, sizeof g_case, fmt, ap);
	va_end(ap);
}

static void case_end(void)
{
	g_case[0] = '\0';
}

static void at_least(double got, double want, const char *what)
{
	if (!(got >= want))
		fail_msg("%s%s%s: %.4f, want at least %.4f", g_case, g_case[0] ? ": " : "", what, got,
		         want);
}

/* What a test found wrong, gathered over all its cases before it fails,
 * so that one failure shows every bad case. */
typedef struct findings {
	char text[512];
	size_t at;
} findings;

static void note(findings *fd, const char *fmt, ...) BRAIN_PRINTF(2, 3);

static void note(findings *fd, const char *fmt, ...)
{
	if (fd->at)
		fd->at += (size_t)snprintf(fd->text + fd->at, sizeof fd->text - fd->at, "; ");
	if (fd->at >= sizeof fd->text)
		fd->at = sizeof fd->text - 1;
	va_list ap;
	va_start(ap, fmt);
	fd->at += (size_t)vsnprintf(fd->text + fd->at, sizeof fd->text - fd->at, fmt, ap);
	va_end(ap);
	if (fd->at >= sizeof fd->text)
		fd->at = sizeof fd->text - 1;
}

/* The metrics, each with its name for messages. */
static const int g_metrics[] = {BRAIN_METRIC_L2, BRAIN_METRIC_IP, BRAIN_METRIC_COSINE};

static const char *metric_name(int metric)
{
	switch (metric) {
	case BRAIN_METRIC_L2:
		return "l2";
	case BRAIN_METRIC_IP:
		return "ip";
	default:
		return "cosine";
	}
}

/* run(metric, seed) for every metric, the seeds first_seed, first_seed + 1
 * and so on; run names its case (case_begin). */
static void each_metric(void (*run)(int metric, uint64_t seed), uint64_t first_seed)
{
	for (size_t m = 0; m < BRAIN_ARRAY_LEN(g_metrics); m++)
		run(g_metrics[m], first_seed + m);
	case_end();
}

/* Standard normal (Box-Muller). */
static float gauss(test_rng *r)
{
	double u1 = test_rng_unit(r), u2 = test_rng_unit(r);
	if (u1 < 1e-300)
		u1 = 1e-300;
	return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

/* Clustered data: centres from N(0, 1), points at a centre plus
 * N(0, sigma^2) noise in every coordinate. */
typedef struct clusters {
	uint32_t dim;
	int n;
	float sigma;
	float *centres;
} clusters;

static clusters clusters_make(test_rng *r, uint32_t dim, int n, float sigma)
{
	clusters c = {dim, n, sigma, xmalloc((size_t)n * dim * sizeof(float))};
	for (size_t i = 0; i < (size_t)n * dim; i++)
		c.centres[i] = gauss(r);
	return c;
}

static void clusters_free(clusters *c)
{
	free(c->centres);
	c->centres = NULL;
}

/* One point. prepare: as the brain hands it to a backend (unit length
 * under the cosine metric). */
static void clusters_draw(const clusters *c, test_rng *r, int metric, bool prepare, float *v)
{
	const float *ctr = c->centres + (size_t)(test_rng_next(r) % (uint64_t)c->n) * c->dim;
	for (uint32_t i = 0; i < c->dim; i++)
		v[i] = ctr[i] + c->sigma * gauss(r);
	if (prepare)
		assert_int_equal(brain__vector_prepare(v, c->dim, metric, v, "test"), 0);
}

/* n points, row-major (malloc'd). */
static float *clusters_many(const clusters *c, test_rng *r, int metric, bool prepare, size_t n)
{
	float *v = xmalloc(n * c->dim * sizeof(float));
	for (size_t i = 0; i < n; i++)
		clusters_draw(c, r, metric, prepare, v + i * c->dim);
	return v;
}

/* What most tests start from: from one seed, the clusters, n points and
 * nq queries (none: NULL). rng goes on from there for the test's own
 * draws. */
typedef struct dataset {
	test_rng rng;
	clusters c;
	float *data, *queries;
} dataset;

static dataset dataset_shaped(uint64_t seed, uint32_t dim, int nclusters, float sigma, int metric,
                              bool prepare, size_t n, size_t nq)
{
	dataset ds = {{seed}, {0, 0, 0.0f, NULL}, NULL, NULL};
	ds.c = clusters_make(&ds.rng, dim, nclusters, sigma);
	ds.data = clusters_many(&ds.c, &ds.rng, metric, prepare, n);
	if (nq)
		ds.queries = clusters_many(&ds.c, &ds.rng, metric, prepare, nq);
	return ds;
}

/* The usual shape: NCLUSTERS clusters of spread 0.5. */
static dataset dataset_make(uint64_t seed, uint32_t dim, int metric, bool prepare, size_t n,
                            size_t nq)
{
	return dataset_shaped(seed, dim, NCLUSTERS, 0.5f, metric, prepare, n, nq);
}

static void dataset_free(dataset *ds)
{
	free(ds->data);
	free(ds->queries);
	clusters_free(&ds->c);
}

/* ---- the vtable --------------------------------------------------------- */

/* The parameters an index sees through its config's callback. */
typedef struct params {
	int64_t m, efc, ef, seed, exact_below, threads, sq8, elem;
} params;

static params params_default(void)
{
	params p = {16, 100, 64, 42, 0, 1, 0, 0};
	return p;
}

static int64_t param_cb(void *payload, int param)
{
	const params *p = payload;
	switch (param) {
	case BRAIN_PARAM_HNSW_M:
		return p->m;
	case BRAIN_PARAM_HNSW_EF_CONSTRUCTION:
		return p->efc;
	case BRAIN_PARAM_HNSW_EF_SEARCH:
		return p->ef;
	case BRAIN_PARAM_HNSW_SEED:
		return p->seed;
	case BRAIN_PARAM_HNSW_EXACT_BELOW:
		return p->exact_below;
	case BRAIN_PARAM_THREADS:
		return p->threads;
	case BRAIN_PARAM_HNSW_SQ8:
		return p->sq8;
	case BRAIN_PARAM_HNSW_ELEMENT:
		return p->elem;
	default: {
		int64_t def = 0;
		brain_param_bounds(param, NULL, NULL, &def);
		return def;
	}
	}
}

static brain_index_config config_for(uint32_t dim, int metric, uint32_t max_slots, params *p)
{
	brain_index_config c = {BRAIN_INDEX_VTABLE_VERSION, dim, metric, max_slots, param_cb, p};
	return c;
}

static brain_index *open_ix(const brain_index_vtable *vt, uint32_t dim, int metric,
                            uint32_t max_slots, params *p)
{
	brain_index_config c = config_for(dim, metric, max_slots, p);
	brain_index *ix = NULL;
	int rc = vt->open(&c, &ix);
	if (rc || !ix) {
		fail_msg("%s open: %s: %s", vt->name, brain_error_name(rc), brain_errmsg());
		abort(); /* not reached: fail_msg leaves the test */
	}
	return ix;
}

/* A pair: the index under test and the flat reference holding the same
 * vectors, plus what each slot holds. */
typedef struct pair {
	uint32_t dim;
	int metric;
	uint32_t max_slots;
	brain_index *ix, *ref;
	unsigned char *live;
	size_t count;
	brain_dist_fn dist;
} pair;

static pair pair_open(uint32_t dim, int metric, uint32_t max_slots, params *p)
{
	pair pr = {dim, metric, max_slots, NULL, NULL, NULL, 0, brain__dist_fn(metric, -1)};
	pr.ix = open_ix(hnsw, dim, metric, max_slots, p);
	pr.ref = open_ix(flat, dim, metric, max_slots, NULL);
	pr.live = xcalloc(max_slots, 1);
	assert_non_null(pr.dist);
	assert_int_equal(hnsw->reserve(pr.ix, max_slots), 0);
	assert_int_equal(flat->reserve(pr.ref, max_slots), 0);
	return pr;
}

static void pair_close(pair *pr)
{
	hnsw->close(pr->ix);
	flat->close(pr->ref);
	free(pr->live);
}

static void pair_add(pair *pr, uint32_t slot, const float *v)
{
	int rc = hnsw->add(pr->ix, slot, v);
	if (rc)
		fail_msg("add slot %u: %s: %s", slot, brain_error_name(rc), brain_errmsg());
	assert_int_equal(flat->add(pr->ref, slot, v), 0);
	assert_false(pr->live[slot]);
	pr->live[slot] = 1;
	pr->count++;
}

static void pair_add_batch(pair *pr, const uint32_t *slots, const float *v, size_t n)
{
	int rc = hnsw->add_batch(pr->ix, slots, v, n);
	if (rc)
		fail_msg("add_batch of %zu: %s: %s", n, brain_error_name(rc), brain_errmsg());
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(flat->add(pr->ref, slots[i], v + i * pr->dim), 0);
		assert_false(pr->live[slots[i]]);
		pr->live[slots[i]] = 1;
		pr->count++;
	}
}

static void pair_remove(pair *pr, uint32_t slot)
{
	int rc = hnsw->remove(pr->ix, slot);
	if (rc)
		fail_msg("remove slot %u: %s: %s", slot, brain_error_name(rc), brain_errmsg());
	assert_int_equal(flat->remove(pr->ref, slot), 0);
	pr->live[slot] = 0;
	pr->count--;
}

/* Slots from to to - 1 take the rows of data of the same numbers, one
 * add at a time (the single insert path). */
static void pair_add_range(pair *pr, const float *data, uint32_t from, uint32_t to)
{
	for (uint32_t s = from; s < to; s++)
		pair_add(pr, s, data + (size_t)s * pr->dim);
}

/* slots[i] = i for every i < n (xmalloc'd). */
static uint32_t *slots_for(uint32_t n)
{
	uint32_t *slots = xmalloc(n * sizeof *slots);
	for (uint32_t i = 0; i < n; i++)
		slots[i] = i;
	return slots;
}

/* Check one hnsw answer: live, accepted, distinct slots, nearest first,
 * each distance the true one (the same kernel, bit for bit). */
static void check_answer(const pair *pr, const float *q, const uint32_t *slots, const float *d,
                         size_t found, const brain_index_filter *f)
{
	float *v = xmalloc(pr->dim * sizeof(float));
	for (size_t i = 0; i < found; i++) {
		uint32_t s = slots[i];
		if (s >= pr->max_slots || !pr->live[s])
			fail_msg("hit %zu: slot %u holds no vector", i, s);
		if (f && !f->accept(s, f->payload))
			fail_msg("hit %zu: slot %u does not pass the filter", i, s);
		for (size_t j = 0; j < i; j++)
			if (slots[j] == s)
				fail_msg("hits %zu and %zu: slot %u twice", j, i, s);
		if (i && d[i] < d[i - 1])
			fail_msg("hit %zu: distance %.9g before %.9g", i, (double)d[i - 1], (double)d[i]);
		assert_int_equal(hnsw->get(pr->ix, s, v), 0);
		float want = pr->dist(q, v, pr->dim);
		if (memcmp(&want, &d[i], sizeof want) != 0)
			fail_msg("hit %zu: slot %u at %.9g, its distance is %.9g", i, s, (double)d[i],
			         (double)want);
	}
	free(v);
}

/* Mean recall@k of hnsw against flat over nq queries (filter may be NULL);
 * every answer is checked. A query with no exact answer counts as 1 if
 * hnsw returns nothing either. */
/* Recall of the hnsw index against flat; with `plan` (its query and k
 * are filled in per query), through search_planned as the brain's
 * Thalamus searches, else through search. */
static double pair_recall_plan(const pair *pr, const float *queries, size_t nq, size_t k,
                               const brain_index_filter *f, const brain_index_search *plan)
{
	uint32_t *a = xmalloc(k * sizeof *a), *b = xmalloc(k * sizeof *b);
	float *da = xmalloc(k * sizeof *da), *db = xmalloc(k * sizeof *db);
	double sum = 0;
	for (size_t i = 0; i < nq; i++) {
		const float *q = queries + i * pr->dim;
		size_t fa = 0, fb = 0;
		int rc;
		if (plan) {
			brain_index_search p = *plan;
			p.query = q;
			p.k = k;
			p.filter = f;
			rc = hnsw->search_planned(pr->ix, &p, a, da, &fa);
		} else {
			rc = hnsw->search(pr->ix, q, k, f, a, da, &fa);
		}
		if (rc)
			fail_msg("search: %s: %s", brain_error_name(rc), brain_errmsg());
		assert_int_equal(flat->search(pr->ref, q, k, f, b, db, &fb), 0);
		check_answer(pr, q, a, da, fa, f);
		if (fa != fb)
			fail_msg("query %zu: hnsw found %zu, flat %zu (k %zu, %zu vectors)", i, fa, fb, k,
			         pr->count);
		if (fb == 0) {
			sum += 1;
			continue;
		}
		size_t hit = 0;
		for (size_t x = 0; x < fa; x++)
			for (size_t y = 0; y < fb; y++)
				hit += a[x] == b[y];
		sum += (double)hit / (double)fb;
	}
	free(a);
	free(b);
	free(da);
	free(db);
	return sum / (double)nq;
}

static double pair_recall(const pair *pr, const float *queries, size_t nq, size_t k,
                          const brain_index_filter *f)
{
	return pair_recall_plan(pr, queries, nq, k, f, NULL);
}

/* The search widths of a sweep: recall must reach 0.95 at 64 and may not
 * fall from 16 to 200. */
static const int64_t g_efs[3] = {16, 64, 200};

static void pair_recall_by_ef(const pair *pr, params *p, const float *queries, size_t nq,
                              double r[3])
{
	for (size_t i = 0; i < BRAIN_ARRAY_LEN(g_efs); i++) {
		p->ef = g_efs[i];
		r[i] = pair_recall(pr, queries, nq, K, NULL);
	}
}

/* how: the path measured ("vtable", "sq8", "api"); name: the metric. */
static void judge_by_ef(const char *how, const char *name, const double r[3])
{
	VERBOSE("%-6s %-6s recall@10: ef 16 %.4f, ef 64 %.4f, ef 200 %.4f\n", how, name, r[0], r[1],
	        r[2]);
	at_least(r[1], 0.95, "recall@10 at ef 64");
	at_least(r[2], r[0], "recall@10 at ef 200 against ef 16");
}

/* Index a (hnsw) and index b, of backend vb, give the same answers to
 * every query: as many hits, the same slots in the same order and, if
 * distances, the same distances bit for bit. */
static void same_answers(const brain_index *a, const brain_index_vtable *vb, const brain_index *b,
                         const float *queries, size_t nq, uint32_t dim, size_t k,
                         const brain_index_filter *f, bool distances)
{
	uint32_t *sa = xmalloc(k * sizeof *sa), *sb = xmalloc(k * sizeof *sb);
	float *da = xmalloc(k * sizeof *da), *db = xmalloc(k * sizeof *db);
	for (size_t q = 0; q < nq; q++) {
		size_t fa = 0, fb = 0;
		assert_int_equal(hnsw->search(a, queries + q * dim, k, f, sa, da, &fa), 0);
		assert_int_equal(vb->search(b, queries + q * dim, k, f, sb, db, &fb), 0);
		assert_int_equal(fa, fb);
		assert_memory_equal(sa, sb, fa * sizeof *sa);
		if (distances)
			assert_memory_equal(da, db, fa * sizeof *da);
	}
	free(sa);
	free(sb);
	free(da);
	free(db);
}

/* ---- 1. recall against flat, through the vtable ------------------------- */

#define RN 3000
#define RDIM 32
#define RQ 200

static void recall_vtable(int metric, uint64_t seed)
{
	const char *name = metric_name(metric);
	case_begin("vtable %s", name);
	dataset ds = dataset_make(seed, RDIM, metric, true, RN, RQ);
	params p = params_default();
	pair pr = pair_open(RDIM, metric, RN, &p);
	/* one by one: the single insert path (the batch path is tested below) */
	pair_add_range(&pr, ds.data, 0, RN);
	double r[3];
	pair_recall_by_ef(&pr, &p, ds.queries, RQ, r);
	judge_by_ef("vtable", name, r);
	at_least(r[2], r[1] - 0.005, "recall@10 at ef 200 against ef 64");
	/* k beyond ef: ef grows to k */
	p.ef = 16;
	at_least(pair_recall(&pr, ds.queries, 20, 100, NULL), 0.9, "recall@100 at ef 16");
	pair_close(&pr);
	dataset_free(&ds);
}

static void test_hnsw__recall_vtable(void **state)
{
	(void)state;
	each_metric(recall_vtable, 101);
}

/* add_batch_rows (vtable version 9) asks for each row and builds what
 * add_batch builds from one buffer (one thread: the same graph, so the
 * same answers); a row that cannot be stored fails the batch and leaves
 * nothing stored. */
typedef struct rows_src {
	const float *data;
	uint32_t dim;
	size_t calls;
	size_t bad; /* this row comes back NaN (SIZE_MAX: none) */
} rows_src;

static void rows_src_row(void *ctx, size_t i, float *out)
{
	rows_src *r = ctx;
	r->calls++;
	memcpy(out, r->data + i * r->dim, r->dim * sizeof *out);
	if (i == r->bad)
		out[r->dim / 2] = 300.0f; /* beyond uint8 rows */
}

static void test_hnsw__add_batch_rows_builds_what_add_batch_builds(void **state)
{
	(void)state;
	enum { BN = 1200, BQ = 50 };
	dataset ds = dataset_make(171, RDIM, BRAIN_METRIC_L2, true, BN, BQ);
	params p = params_default();
	brain_index *a = open_ix(hnsw, RDIM, BRAIN_METRIC_L2, BN, &p);
	brain_index *b = open_ix(hnsw, RDIM, BRAIN_METRIC_L2, BN, &p);
	assert_int_equal(hnsw->reserve(a, BN), 0);
	assert_int_equal(hnsw->reserve(b, BN), 0);
	uint32_t *slots = slots_for(BN);
	assert_non_null(hnsw->add_batch_rows);
	/* uint8 rows: a row beyond 255 cannot be stored, and none is */
	params pu = params_default();
	pu.elem = 1;
	brain_index *u = open_ix(hnsw, RDIM, BRAIN_METRIC_L2, BN, &pu);
	assert_int_equal(hnsw->reserve(u, BN), 0);
	float *ints = xmalloc((size_t)BN * RDIM * sizeof *ints);
	for (size_t i = 0; i < (size_t)BN * RDIM; i++)
		ints[i] = (float)((i * 37) % 256);
	rows_src src = {ints, RDIM, 0, 7};
	assert_int_equal(hnsw->add_batch_rows(u, slots, BN, rows_src_row, &src), BRAIN_EINVAL);
	assert_non_null(strstr(brain_errmsg(), "row 7"));
	brain_index_info info;
	assert_int_equal(hnsw->info(u, &info), 0);
	assert_int_equal(info.count, 0);
	src.bad = SIZE_MAX;
	assert_int_equal(hnsw->add_batch_rows(u, slots, BN, rows_src_row, &src), 0);
	assert_int_equal(hnsw->info(u, &info), 0);
	assert_int_equal(info.count, BN);
	hnsw->close(u);
	free(ints);
	src = (rows_src){ds.data, RDIM, 0, SIZE_MAX};
	assert_int_equal(hnsw->add_batch(a, slots, ds.data, BN), 0);
	assert_int_equal(hnsw->add_batch_rows(b, slots, BN, rows_src_row, &src), 0);
	assert_int_equal(src.calls, BN); /* float rows: each made once */
	assert_int_equal(hnsw->info(b, &info), 0);
	assert_int_equal(info.count, BN);
	for (size_t q = 0; q < BQ; q++) {
		uint32_t sa[10], sb[10];
		float da[10], db[10];
		size_t fa = 0, fb = 0;
		const float *query = ds.queries + q * RDIM;
		assert_int_equal(hnsw->search(a, query, 10, NULL, sa, da, &fa), 0);
		assert_int_equal(hnsw->search(b, query, 10, NULL, sb, db, &fb), 0);
		assert_int_equal(fa, 10);
		assert_int_equal(fb, fa);
		assert_memory_equal(sa, sb, sizeof sa);
		assert_memory_equal(da, db, sizeof da);
	}
	free(slots);
	hnsw->close(a);
	hnsw->close(b);
	dataset_free(&ds);
}

#define SQN 1500 /* vectors of the 8-bit tests */
#define SQQ 100

/* HNSW_SQ8: the walk on 8-bit codes, reranked on the floats. A batch
 * builds the graph (the range is learned from all of it), singles then
 * insert into it (coded with that range). */
static void recall_sq8(int metric, uint64_t seed)
{
	case_begin("sq8 %s", metric_name(metric));
	dataset ds = dataset_make(seed, RDIM, metric, true, SQN, SQQ);
	params p = params_default();
	p.sq8 = 1;
	p.threads = 2;
	pair pr = pair_open(RDIM, metric, SQN, &p);
	uint32_t *slots = slots_for(SQN);
	pair_add_batch(&pr, slots, ds.data, SQN - 200);
	pair_add_range(&pr, ds.data, SQN - 200, SQN);
	double r[3];
	pair_recall_by_ef(&pr, &p, ds.queries, SQQ, r);
	judge_by_ef("sq8", metric_name(metric), r);
	free(slots);
	pair_close(&pr);
	dataset_free(&ds);
}

static void test_hnsw__recall_vtable_sq8(void **state)
{
	(void)state;
	each_metric(recall_sq8, 121);
}

/* HNSW_SQ8 with vectors added one by one: the graph (and the 8-bit range)
 * starts with the first vector. A first vector of a small range (here a
 * twentieth of the others' scale, or zero) must not cost the rest their
 * recall. */
static void test_hnsw__sq8_range_outgrows_the_first_vector(void **state)
{
	(void)state;
	static const int metrics[] = {BRAIN_METRIC_L2, BRAIN_METRIC_IP};
	static const float scales[] = {0.05f, 0.0f};
	findings bad = {"", 0};
	for (size_t m = 0; m < BRAIN_ARRAY_LEN(metrics); m++) {
		const char *name = metric_name(metrics[m]);
		for (size_t sc = 0; sc < BRAIN_ARRAY_LEN(scales); sc++) {
			case_begin("sq8 %s, first vector x %g", name, (double)scales[sc]);
			dataset ds = dataset_make(131 + m, RDIM, metrics[m], true, SQN, SQQ);
			params p = params_default();
			p.sq8 = 1;
			pair pr = pair_open(RDIM, metrics[m], SQN, &p);
			for (uint32_t i = 0; i < RDIM; i++)
				ds.data[i] *= scales[sc];
			pair_add_range(&pr, ds.data, 0, SQN);
			double r = pair_recall(&pr, ds.queries, SQQ, K, NULL);
			VERBOSE("sq8 %s, first vector x %g: recall@10 %.4f\n", name, (double)scales[sc], r);
			if (r < 0.95)
				note(&bad, "%s x %g: %.4f", name, (double)scales[sc], r);
			pair_close(&pr);
			dataset_free(&ds);
		}
	}
	case_end();
	if (bad.at)
		fail_msg("sq8 recall@10 at ef 64 after single adds, by the first vector's scale (want "
		         ">= 0.95): %s",
		         bad.text);
}

/* Below HNSW_EXACT_BELOW there is no graph: answers are flat's, exactly
 * (same slots, same order, same distances), filtered or not, for any k;
 * and once the index passes the size the graph is built and found. */
static int accept_third(uint32_t slot, void *payload)
{
	(void)payload;
	return slot % 3 == 0;
}

static void test_hnsw__exact_below_matches_flat(void **state)
{
	(void)state;
	dataset ds = dataset_make(104, RDIM, BRAIN_METRIC_COSINE, true, 1000, 50);
	params p = params_default();
	p.exact_below = 1000;
	p.ef = 1; /* would lose recall if a graph were used */
	pair pr = pair_open(RDIM, BRAIN_METRIC_COSINE, 2000, &p);
	uint32_t *slots = xmalloc(1000 * sizeof *slots);
	for (uint32_t i = 0; i < 1000; i++)
		slots[i] = i * 2; /* gaps */
	pair_add_batch(&pr, slots, ds.data, 500);
	for (uint32_t i = 500; i < 999; i++)
		pair_add(&pr, slots[i], ds.data + (size_t)i * RDIM);
	/* 999 vectors: still exact */
	brain_index_filter third = {accept_third, NULL};
	static const size_t ks[] = {1, 10, 999, 5000};
	for (size_t ki = 0; ki < BRAIN_ARRAY_LEN(ks); ki++) {
		same_answers(pr.ix, flat, pr.ref, ds.queries, 50, RDIM, ks[ki], NULL, true);
		same_answers(pr.ix, flat, pr.ref, ds.queries, 50, RDIM, ks[ki], &third, true);
	}
	/* the 1000th builds the graph: answers stay valid, recall high */
	pair_add(&pr, slots[999], ds.data + (size_t)999 * RDIM);
	p.ef = 64;
	double r = pair_recall(&pr, ds.queries, 50, K, NULL);
	VERBOSE("graph built at EXACT_BELOW: recall@10 %.4f\n", r);
	at_least(r, 0.95, "recall@10 after the graph was built");
	/* a search planned as a scan is exact whatever the graph (the brain's
	 * Thalamus plans one below HNSW_EXACT_BELOW: thalamus_plans_auto) */
	p.ef = 1;
	uint32_t sa[K], sb[K];
	float da[K], db[K];
	for (size_t q = 0; q < 50; q++) {
		brain_index_search plan = {ds.queries + q * RDIM, K, NULL, 1, 0};
		size_t fa = 0, fb = 0;
		assert_int_equal(hnsw->search_planned(pr.ix, &plan, sa, da, &fa), 0);
		assert_int_equal(flat->search(pr.ref, plan.query, K, NULL, sb, db, &fb), 0);
		assert_int_equal(fa, fb);
		assert_memory_equal(sa, sb, fa * sizeof *sa);
		assert_memory_equal(da, db, fa * sizeof *da);
	}
	free(slots);
	pair_close(&pr);
	dataset_free(&ds);
}

/* ---- 1. recall against flat, through the public API --------------------- */

/* A vector brain (no embedder) on the given index. */
static brain_options options_for(uint32_t dim, int metric, int index)
{
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.dimensions = dim;
	o.metric = metric;
	o.index = index;
	o.embedder = BRAIN_EMBEDDER_NONE;
	return o;
}

/* path NULL: in memory. */
static brain_t *open_with(const char *path, const brain_options *o)
{
	brain_t *b = NULL;
	int rc = brain_open(path, o, &b);
	if (rc || !b) {
		fail_msg("open: %s: %s", brain_error_name(rc), brain_errmsg());
		abort(); /* not reached */
	}
	return b;
}

static brain_t *open_mem(uint32_t dim, int metric, int index)
{
	brain_options o = options_for(dim, metric, index);
	return open_with(NULL, &o);
}

static int64_t get_param(brain_t *b, int param)
{
	int64_t v = -1;
	assert_int_equal(brain_get_param(b, param, &v), 0);
	return v;
}

static void set_param(brain_t *b, int param, int64_t value)
{
	int rc = brain_set_param(b, param, value);
	if (rc)
		fail_msg("set %s: %s: %s", brain_param_name(param), brain_error_name(rc),
		         brain_errmsg());
}

static void add_batch(brain_t *b, const uint64_t *ids, const float *v, size_t n)
{
	int rc = brain_add_batch(b, ids, v, n);
	if (rc)
		fail_msg("add_batch of %zu: %s: %s", n, brain_error_name(rc), brain_errmsg());
}

/* BRAIN_INDEX_AUTO's threshold is the Thalamus's: through an hnsw backend
 * that records the plans it is given, searches of a brain over the
 * threshold walk the graph, and are planned as scans (answering as a flat
 * brain does) once HNSW_EXACT_BELOW is raised over its count. */
static int g_plans, g_exact_plans;
static int recording_planned(const brain_index *ix, const brain_index_search *plan,
                             uint32_t *slots, float *dist, size_t *found)
{
	g_plans++;
	g_exact_plans += plan->exact != 0;
	return brain__index_hnsw.search_planned(ix, plan, slots, dist, found);
}

static void test_hnsw__thalamus_plans_auto(void **state)
{
	(void)state;
	static brain_index_vtable recording;
	recording = brain__index_hnsw;
	recording.name = "recording-hnsw";
	recording.search_planned = recording_planned;
	int rc = brain_index_register(&recording);
	assert_true(rc == 0 || rc == BRAIN_EEXISTS);
	dataset ds = dataset_make(105, RDIM, BRAIN_METRIC_L2, false, 1200, 40);
	brain_options o = options_for(RDIM, BRAIN_METRIC_L2, BRAIN_INDEX_AUTO);
	o.index_name = "recording-hnsw";
	brain_t *b = open_with(NULL, &o);
	brain_t *ref = open_mem(RDIM, BRAIN_METRIC_L2, BRAIN_INDEX_FLAT);
	set_param(b, BRAIN_PARAM_HNSW_EXACT_BELOW, 500);
	uint64_t *ids = xmalloc(1200 * sizeof *ids);
	for (size_t i = 0; i < 1200; i++)
		ids[i] = i + 1;
	add_batch(b, ids, ds.data, 1200);
	add_batch(ref, ids, ds.data, 1200);
	set_param(b, BRAIN_PARAM_HNSW_EF_SEARCH, 1);
	uint64_t ga[K], gb[K];
	float da[K], db[K];
	for (int pass = 0; pass < 2; pass++) {
		g_plans = g_exact_plans = 0;
		for (size_t q = 0; q < 40; q++) {
			size_t fa = 0, fb = 0;
			const float *query = ds.queries + q * RDIM;
			assert_int_equal(brain_search(b, query, K, ga, da, &fa), 0);
			assert_int_equal(brain_search(ref, query, K, gb, db, &fb), 0);
			assert_int_equal(fa, fb);
			if (pass == 1) {
				assert_memory_equal(ga, gb, fa * sizeof *ga);
				assert_memory_equal(da, db, fa * sizeof *da);
			}
		}
		assert_true(g_plans >= 40);
		if (pass == 0)
			assert_true(g_exact_plans < g_plans); /* the graph, at ef 1 */
		else
			assert_int_equal(g_exact_plans, g_plans);
		set_param(b, BRAIN_PARAM_HNSW_EXACT_BELOW, 5000);
	}
	free(ids);
	brain_close(b);
	brain_close(ref);
	dataset_free(&ds);
}

/* The brain under test (h) and a flat brain (f) given the same calls: the
 * reference that h's answers are measured against. */
typedef struct brains {
	brain_t *h, *f;
} brains;

/* h in memory on BRAIN_INDEX_HNSW, built with ef_construction 100. */
static brains brains_open(uint32_t dim, int metric)
{
	brains bs;
	bs.h = open_mem(dim, metric, BRAIN_INDEX_HNSW);
	bs.f = open_mem(dim, metric, BRAIN_INDEX_FLAT);
	set_param(bs.h, BRAIN_PARAM_HNSW_EF_CONSTRUCTION, 100);
	return bs;
}

static void brains_close(const brains *bs)
{
	assert_int_equal(brain_close(bs->h), 0);
	assert_int_equal(brain_close(bs->f), 0);
}

static void brains_add(const brains *bs, uint64_t id, const float *v)
{
	assert_int_equal(brain_add(bs->h, id, v), 0);
	assert_int_equal(brain_add(bs->f, id, v), 0);
}

static void brains_add_batch(const brains *bs, const uint64_t *ids, const float *v, size_t n)
{
	add_batch(bs->h, ids, v, n);
	add_batch(bs->f, ids, v, n);
}

/* ids[from..to) with their rows of data, one brain_add at a time. */
static void brains_add_range(const brains *bs, const uint64_t *ids, const float *data,
                             uint32_t dim, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		brains_add(bs, ids[i], data + i * dim);
}

static void brains_forget(const brains *bs, uint64_t id)
{
	assert_int_equal(brain_forget(bs->h, id), 0);
	assert_int_equal(brain_forget(bs->f, id), 0);
}

/* How a search is narrowed: not at all, by a predicate or by an id set. */
typedef struct narrow {
	brain_accept_fn accept;
	void *payload;
	const uint64_t *allowed;
	size_t n_allowed;
	bool by_ids;
	const uint64_t *sorted; /* allowed, sorted, for the test's own checks */
} narrow;

static int cmp_u64(const void *pa, const void *pb)
{
	uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;
	return (a > b) - (a < b);
}

static int api_search(brain_t *b, const narrow *nw, const float *q, size_t k, uint64_t *ids,
                      float *d, size_t *found)
{
	if (!nw)
		return brain_search(b, q, k, ids, d, found);
	if (nw->by_ids)
		return brain_search_ids(b, q, k, nw->allowed, nw->n_allowed, ids, d, found);
	return brain_search_filter(b, q, k, nw->accept, nw->payload, ids, d, found);
}

static bool narrow_passes(const narrow *nw, uint64_t id)
{
	if (!nw)
		return true;
	if (!nw->by_ids)
		return nw->accept(id, nw->payload) != 0;
	return bsearch(&id, nw->sorted, nw->n_allowed, sizeof id, cmp_u64) != NULL;
}

/* Recall of brain h against the reference brain f (same contents, flat).
 * Every answer of h holds passing ids, distinct, nearest first; ids found
 * by both have the same distance, bit for bit. exact: h must equal f. */
static double api_recall(const brains *bs, const narrow *nw, const float *queries, size_t nq,
                         uint32_t dim, size_t k, bool exact)
{
	brain_t *h = bs->h, *f = bs->f;
	uint64_t *a = xmalloc(k * sizeof *a), *b = xmalloc(k * sizeof *b);
	float *da = xmalloc(k * sizeof *da), *db = xmalloc(k * sizeof *db);
	double sum = 0;
	for (size_t i = 0; i < nq; i++) {
		const float *q = queries + i * dim;
		size_t fa = 0, fb = 0;
		int rc = api_search(h, nw, q, k, a, da, &fa);
		if (rc)
			fail_msg("search: %s: %s", brain_error_name(rc), brain_errmsg());
		rc = api_search(f, nw, q, k, b, db, &fb);
		if (rc)
			fail_msg("reference search: %s: %s", brain_error_name(rc), brain_errmsg());
		for (size_t x = 0; x < fa; x++) {
			if (!narrow_passes(nw, a[x]))
				fail_msg("query %zu, hit %zu: id %llu does not pass", i, x,
				         (unsigned long long)a[x]);
			for (size_t y = 0; y < x; y++)
				if (a[y] == a[x])
					fail_msg("query %zu: id %llu twice", i, (unsigned long long)a[x]);
			if (x && da[x] < da[x - 1])
				fail_msg("query %zu, hit %zu: not nearest first", i, x);
		}
		if (exact) {
			if (fa != fb)
				fail_msg("query %zu: found %zu, reference %zu", i, fa, fb);
			assert_memory_equal(a, b, fa * sizeof *a);
			assert_memory_equal(da, db, fa * sizeof *da);
		}
		/* hnsw may return fewer when the filter is strict and it
		 * searches the graph; it must not return more */
		if (fa > fb)
			fail_msg("query %zu: found %zu, reference only %zu", i, fa, fb);
		if (fb == 0) {
			sum += fa == 0;
			continue;
		}
		size_t hit = 0;
		for (size_t x = 0; x < fa; x++)
			for (size_t y = 0; y < fb; y++)
				if (a[x] == b[y]) {
					hit++;
					if (memcmp(&da[x], &db[y], sizeof da[x]) != 0)
						fail_msg("query %zu: id %llu at %.9g, reference %.9g", i,
						         (unsigned long long)a[x], (double)da[x], (double)db[y]);
				}
		sum += (double)hit / (double)fb;
	}
	free(a);
	free(b);
	free(da);
	free(db);
	return sum / (double)nq;
}

/* The sweep of pair_recall_by_ef through the API. */
static void api_recall_by_ef(const brains *bs, const float *queries, size_t nq, uint32_t dim,
                             double r[3])
{
	for (size_t i = 0; i < BRAIN_ARRAY_LEN(g_efs); i++) {
		set_param(bs->h, BRAIN_PARAM_HNSW_EF_SEARCH, g_efs[i]);
		r[i] = api_recall(bs, NULL, queries, nq, dim, K, false);
	}
}

static uint64_t id_of(size_t i)
{
	return 1000 + 7 * (uint64_t)i; /* not slots */
}

/* ids[i] = id_of(i) for every i < n (xmalloc'd). */
static uint64_t *ids_for(size_t n)
{
	uint64_t *ids = xmalloc(n * sizeof *ids);
	for (size_t i = 0; i < n; i++)
		ids[i] = id_of(i);
	return ids;
}

static void recall_api(int metric, uint64_t seed)
{
	case_begin("api %s", metric_name(metric));
	/* raw vectors: the brain prepares them (normalises for cosine) */
	dataset ds = dataset_make(seed, RDIM, metric, false, RN, RQ);
	uint64_t *ids = ids_for(RN);
	brains bs = brains_open(RDIM, metric);
	set_param(bs.h, BRAIN_PARAM_THREADS, 2);
	/* a first batch builds the graph from the first vector (EXACT_BELOW
	 * is 0 for BRAIN_INDEX_HNSW); singles then insert into it */
	brains_add_batch(&bs, ids, ds.data, RN - 100);
	brains_add_range(&bs, ids, ds.data, RDIM, RN - 100, RN);
	assert_int_equal(brain_count(bs.h), RN);
	double r[3];
	api_recall_by_ef(&bs, ds.queries, RQ, RDIM, r);
	judge_by_ef("api", metric_name(metric), r);
	/* exact mode: above the count, the answers are the flat brain's */
	set_param(bs.h, BRAIN_PARAM_HNSW_EXACT_BELOW, RN + 1);
	set_param(bs.h, BRAIN_PARAM_HNSW_EF_SEARCH, 1);
	api_recall(&bs, NULL, ds.queries, 50, RDIM, K, true);
	brains_close(&bs);
	free(ids);
	dataset_free(&ds);
}

static void test_hnsw__recall_api(void **state)
{
	(void)state;
	each_metric(recall_api, 111);
}

/* ---- 2. every node reachable after a threaded build --------------------- */

static void reachable_after_batch(int64_t threads, uint64_t seed)
{
	case_begin("%lld threads", (long long)threads);
	dataset ds = dataset_make(seed, RDIM, BRAIN_METRIC_L2, true, RN, 0);
	const float *data = ds.data;
	params p = params_default();
	p.threads = threads;
	uint32_t max_slots = RN * 2;
	pair pr = pair_open(RDIM, BRAIN_METRIC_L2, max_slots, &p);
	uint32_t *slots = xmalloc(RN * sizeof *slots);
	for (uint32_t i = 0; i < RN; i++)
		slots[i] = i * 5 / 3 + 7; /* gaps; distinct, below max_slots */
	pair_add_batch(&pr, slots, data, RN);
	size_t first = 0, missed = 0;
	uint32_t hit[K];
	float d[K];
	for (uint32_t i = 0; i < RN; i++) {
		size_t found = 0;
		p.ef = 64;
		assert_int_equal(hnsw->search(pr.ix, data + (size_t)i * RDIM, 1, NULL, hit, d, &found),
		                 0);
		assert_int_equal(found, 1);
		if (hit[0] == slots[i] && d[0] == 0.0f) {
			first++;
			continue;
		}
		/* a wider search must find it */
		p.ef = 500;
		assert_int_equal(hnsw->search(pr.ix, data + (size_t)i * RDIM, K, NULL, hit, d, &found),
		                 0);
		if (!(found && hit[0] == slots[i] && d[0] == 0.0f))
			missed++;
	}
	double share = (double)first / RN;
	VERBOSE("threads %lld: %zu of %d found themselves first at ef 64, %zu not at ef 500\n",
	        (long long)threads, first, RN, missed);
	p.ef = 64;
	double r = pair_recall(&pr, data, 200, K, NULL);
	free(slots);
	pair_close(&pr);
	dataset_free(&ds);
	/* judged after freeing: a failure here (timing-dependent) leaks nothing */
	at_least(share, 0.995, "share of nodes found first by their own vector at ef 64");
	if (missed)
		fail_msg("threads %lld: %zu of %d nodes not found by their own vector even at ef 500",
		         (long long)threads, missed, RN);
	at_least(r, 0.95, "recall@10 after the batch build");
}

/* 4 threads, then 2, each with its own seed. */
static void test_hnsw__batch_build_reaches_every_node(void **state)
{
	(void)state;
	reachable_after_batch(4, 201);
	reachable_after_batch(2, 202);
	case_end();
}

/* Batches into a graph that exists already, several times, on threads. */
static void test_hnsw__batches_into_an_existing_graph(void **state)
{
	(void)state;
	dataset ds = dataset_make(203, RDIM, BRAIN_METRIC_COSINE, true, RN, RQ);
	params p = params_default();
	p.threads = 4;
	pair pr = pair_open(RDIM, BRAIN_METRIC_COSINE, RN, &p);
	uint32_t *slots = xmalloc(RN * sizeof *slots);
	for (uint32_t i = 0; i < RN; i++)
		slots[i] = RN - 1 - i;
	/* a single first, then batches of growing size */
	pair_add(&pr, slots[0], ds.data);
	size_t at = 1, size = 7;
	while (at < RN) {
		size_t n = TEST_MIN(size, RN - at);
		pair_add_batch(&pr, slots + at, ds.data + at * RDIM, n);
		at += n;
		size *= 3;
	}
	double r = pair_recall(&pr, ds.queries, RQ, K, NULL);
	VERBOSE("batches into a graph: recall@10 %.4f\n", r);
	at_least(r, 0.95, "recall@10 after batches into the graph");
	free(slots);
	pair_close(&pr);
	dataset_free(&ds);
}

/* ---- 3. deletion -------------------------------------------------------- */

#define CHURN_Q 50 /* queries per round */

static uint32_t pick_live(const pair *pr, test_rng *rng)
{
	for (;;) {
		uint32_t s = (uint32_t)(test_rng_next(rng) % pr->max_slots);
		if (pr->live[s])
			return s;
	}
}

static void test_hnsw__deletion_and_churn_vtable(void **state)
{
	(void)state;
	dataset ds = dataset_make(301, RDIM, BRAIN_METRIC_L2, true, RN, RQ);
	params p = params_default();
	p.threads = 2;
	pair pr = pair_open(RDIM, BRAIN_METRIC_L2, RN, &p);
	float *v = xmalloc(RDIM * sizeof *v);
	uint32_t *slots = slots_for(RN);
	pair_add_batch(&pr, slots, ds.data, RN);
	double r0 = pair_recall(&pr, ds.queries, RQ, K, NULL);
	/* half of them go, at random (the entry point most likely among
	 * them); pair_recall checks that no free slot is returned */
	uint32_t *freed = xmalloc(RN * sizeof *freed);
	size_t nfreed = 0;
	while (pr.count > RN / 2) {
		uint32_t s = pick_live(&pr, &ds.rng);
		pair_remove(&pr, s);
		freed[nfreed++] = s;
	}
	double rhalf = pair_recall(&pr, ds.queries, RQ, K, NULL);
	VERBOSE("deletion: recall@10 %.4f full, %.4f after deleting half\n", r0, rhalf);
	at_least(rhalf, 0.9, "recall@10 after deleting half");
	/* a deleted vector is not found even by itself */
	for (size_t i = 0; i < 50; i++) {
		uint32_t s = freed[i];
		uint32_t hit[K];
		float d[K];
		size_t found = 0;
		assert_int_equal(
			hnsw->search(pr.ix, ds.data + (size_t)s * RDIM, K, NULL, hit, d, &found), 0);
		for (size_t x = 0; x < found; x++)
			assert_int_not_equal(hit[x], s);
	}
	/* refill the freed slots with new vectors, then churn: 10 rounds of
	 * deleting a tenth and adding as many into the slots freed */
	for (size_t i = 0; i < nfreed; i++) {
		clusters_draw(&ds.c, &ds.rng, BRAIN_METRIC_L2, true, v);
		pair_add(&pr, freed[i], v);
	}
	double rfull = pair_recall(&pr, ds.queries, RQ, K, NULL);
	VERBOSE("deletion: recall@10 %.4f refilled\n", rfull);
	at_least(rfull, 0.9, "recall@10 after refilling");
	double worst = 1;
	for (int round = 0; round < 10; round++) {
		nfreed = 0;
		for (size_t i = 0; i < RN / 10; i++) {
			uint32_t s = pick_live(&pr, &ds.rng);
			pair_remove(&pr, s);
			freed[nfreed++] = s;
		}
		double mid = pair_recall(&pr, ds.queries, CHURN_Q, K, NULL);
		/* the new vectors: one batch, on threads, in the freed slots */
		float *nv = clusters_many(&ds.c, &ds.rng, BRAIN_METRIC_L2, true, nfreed);
		pair_add_batch(&pr, freed, nv, nfreed);
		free(nv);
		double r = pair_recall(&pr, ds.queries, CHURN_Q, K, NULL);
		VERBOSE("churn round %d: recall@10 %.4f (%.4f between delete and add)\n", round, r,
		        mid);
		at_least(mid, 0.9, "recall@10 after a round of deletes");
		at_least(r, 0.9, "recall@10 after a round of churn");
		worst = r < worst ? r : worst;
		assert_int_equal(pr.count, RN);
	}
	/* no decay: the last rounds are as good as the graph before churn,
	 * within a few points */
	at_least(worst, rfull - 0.03, "worst recall@10 under churn against before");
	/* every slot is used again: nothing grew past the reserved slots */
	for (uint32_t s = 0; s < RN; s++)
		assert_true(pr.live[s]);
	free(freed);
	free(slots);
	free(v);
	pair_close(&pr);
	dataset_free(&ds);
}

/* Removing every node (the entry point among them) and adding again:
 * answers stay valid all along. */
static void test_hnsw__delete_everything_then_add(void **state)
{
	(void)state;
	dataset ds = dataset_shaped(302, 16, 5, 0.5f, BRAIN_METRIC_L2, true, 300, 0);
	params p = params_default();
	pair pr = pair_open(16, BRAIN_METRIC_L2, 300, &p);
	uint32_t hit[K];
	float d[K];
	for (int pass = 0; pass < 2; pass++) {
		pair_add_range(&pr, ds.data, 0, 300);
		while (pr.count) {
			pair_remove(&pr, pick_live(&pr, &ds.rng));
			size_t found = 99;
			const float *q = ds.data + (size_t)(test_rng_next(&ds.rng) % 300) * 16;
			assert_int_equal(hnsw->search(pr.ix, q, K, NULL, hit, d, &found), 0);
			assert_true(found <= TEST_MIN(pr.count, (size_t)K));
			check_answer(&pr, q, hit, d, found, NULL);
		}
		size_t found = 99;
		assert_int_equal(hnsw->search(pr.ix, ds.data, K, NULL, hit, d, &found), 0);
		assert_int_equal(found, 0);
	}
	/* and once more, built again from nothing */
	pair_add_range(&pr, ds.data, 0, 300);
	at_least(pair_recall(&pr, ds.data, 50, K, NULL), 0.95, "recall@10 rebuilt after emptying");
	pair_close(&pr);
	dataset_free(&ds);
}

/* Whether a search for slot s's own vector finds it first. */
static bool finds_own(const pair *pr, const float *data, uint32_t s)
{
	uint32_t hit;
	float d;
	size_t found = 0;
	assert_int_equal(hnsw->search(pr->ix, data + (size_t)s * pr->dim, 1, NULL, &hit, &d, &found),
	                 0);
	return found == 1 && hit == s;
}

/* Share of the live slots that a search for their own vector finds first
 * at ef 64 (*self) and, trying those missed again, at ef 500 (*wide). */
static void self_found(const pair *pr, params *p, const float *data, double *self, double *wide)
{
	size_t live = 0, first = 0, later = 0;
	for (uint32_t s = 0; s < pr->max_slots; s++) {
		if (!pr->live[s])
			continue;
		live++;
		p->ef = 64;
		if (finds_own(pr, data, s)) {
			first++;
			continue;
		}
		p->ef = 500;
		later += finds_own(pr, data, s);
	}
	p->ef = 64;
	*self = live ? (double)first / (double)live : 1.0;
	*wide = live ? (double)(first + later) / (double)live : 1.0;
}

/* Forgetting most of an index: what remains stays reachable. A node whose
 * in-links all came from deleted nodes is cut off until the next sweep of
 * dead links (every eighth of the index deleted) links it again, so a few
 * may be missing between sweeps: at most 2% here, at any stage. */
static void test_hnsw__heavy_deletion_keeps_the_rest_findable(void **state)
{
	(void)state;
	dataset ds = dataset_make(304, FDIM_SMALL, BRAIN_METRIC_L2, true, RN, 50);
	params p = params_default();
	pair pr = pair_open(FDIM_SMALL, BRAIN_METRIC_L2, RN, &p);
	pair_add_range(&pr, ds.data, 0, RN);
	/* every stage is measured, then judged, so that a failure shows all */
	static const int left[] = {50, 25, 10, 5, 2};
	findings bad = {"", 0};
	for (size_t i = 0; i < BRAIN_ARRAY_LEN(left); i++) {
		while (pr.count > (size_t)RN * (size_t)left[i] / 100)
			pair_remove(&pr, pick_live(&pr, &ds.rng));
		double self, wide;
		self_found(&pr, &p, ds.data, &self, &wide);
		VERBOSE("%zu left of %d: %.4f found by their own vector at ef 64, %.4f at ef 500\n",
		        pr.count, RN, self, wide);
		if (self < 0.97 || wide < 0.98)
			note(&bad, "%zu left: %.4f, at ef 500 %.4f", pr.count, self, wide);
		p.ef = 64;
		/* pair_recall also wants min(k, count) answers */
		at_least(pair_recall(&pr, ds.queries, 50, K, NULL), 0.9, "recall@10 after heavy deletion");
	}
	if (bad.at)
		fail_msg("of %d, share found by their own vector at ef 64 (want >= 0.97) and at ef 500 "
		         "(want >= 0.98): %s",
		         RN, bad.text);
	pair_close(&pr);
	dataset_free(&ds);
}

static int accept_all(uint64_t id, void *payload)
{
	(void)id;
	(void)payload;
	return 1;
}

static void test_hnsw__deletion_and_churn_api(void **state)
{
	(void)state;
	dataset ds = dataset_make(303, RDIM, BRAIN_METRIC_COSINE, false, RN, RQ);
	float *v = xmalloc(RDIM * sizeof *v);
	uint64_t *live = ids_for(RN);
	uint64_t *gone = xmalloc(RN * 3 * sizeof *gone);
	size_t ngone = 0;
	brains bs = brains_open(RDIM, BRAIN_METRIC_COSINE);
	brains_add_batch(&bs, live, ds.data, RN);
	brain_stats st;
	brain_stats_init(&st, BRAIN_STATS_VERSION);
	assert_int_equal(brain_get_stats(bs.h, &st), 0);
	uint64_t bytes_before = st.index_bytes;
	double before = api_recall(&bs, NULL, ds.queries, CHURN_Q, RDIM, K, false);
	uint64_t next_id = id_of(RN);
	size_t nlive = RN;
	double worst = 1;
	for (int round = 0; round < 10; round++) {
		/* a tenth goes (half in the first round) */
		size_t drop = round == 0 ? RN / 2 : RN / 10;
		for (size_t i = 0; i < drop; i++) {
			size_t at = (size_t)(test_rng_next(&ds.rng) % nlive);
			uint64_t id = live[at];
			live[at] = live[--nlive];
			brains_forget(&bs, id);
			gone[ngone++] = id;
		}
		assert_int_equal(brain_count(bs.h), nlive);
		/* deleted ids are never returned: searched through a filter that
		 * takes everything, and plainly */
		narrow all = {accept_all, NULL, NULL, 0, false, NULL};
		at_least(api_recall(&bs, &all, ds.queries, 20, RDIM, K, false), 0.9,
		         "filtered recall@10 after deletes");
		double mid = api_recall(&bs, NULL, ds.queries, CHURN_Q, RDIM, K, false);
		at_least(mid, 0.9, "recall@10 after deletes");
		/* as many new ones, under new ids */
		while (nlive < RN) {
			clusters_draw(&ds.c, &ds.rng, BRAIN_METRIC_COSINE, false, v);
			brains_add(&bs, next_id, v);
			live[nlive++] = next_id++;
		}
		assert_int_equal(brain_count(bs.h), RN);
		double r = api_recall(&bs, NULL, ds.queries, CHURN_Q, RDIM, K, false);
		VERBOSE("api churn round %d: recall@10 %.4f (%.4f after deletes)\n", round, r, mid);
		at_least(r, 0.9, "recall@10 after a round of churn");
		worst = r < worst ? r : worst;
	}
	at_least(worst, before - 0.03, "worst recall@10 under churn against before");
	/* forgotten ids stay forgotten */
	uint64_t ids[K];
	size_t found;
	for (size_t i = 0; i < ngone; i += 97)
		assert_int_equal(brain_get_vector(bs.h, gone[i], v), BRAIN_ENOTFOUND);
	/* freed slots were used again: the index did not grow */
	assert_int_equal(brain_get_stats(bs.h, &st), 0);
	VERBOSE("api churn: index %llu bytes before, %llu after\n",
	        (unsigned long long)bytes_before, (unsigned long long)st.index_bytes);
	assert_true(st.index_bytes <= bytes_before + bytes_before / 10);
	assert_int_equal(brain_search(bs.h, ds.queries, K, ids, NULL, &found), 0);
	assert_int_equal(found, K);
	brains_close(&bs);
	free(v);
	free(live);
	free(gone);
	dataset_free(&ds);
}

/* Whether a search of b for v (k K) finds id first, at distance 0;
 * *found: how many answers it gave. */
static bool api_finds_first(brain_t *b, const float *v, uint64_t id, size_t *found)
{
	uint64_t got[K];
	float d[K];
	*found = 0;
	assert_int_equal(brain_search(b, v, K, got, d, found), 0);
	return *found && got[0] == id && d[0] == 0.0f;
}

/* The same through the public API: brain_search promises min(k, count)
 * answers, and a memory's own vector finds it. */
static void test_hnsw__forgetting_most_keeps_the_rest_findable(void **state)
{
	(void)state;
	dataset ds = dataset_make(305, FDIM_SMALL, BRAIN_METRIC_L2, false, RN, 0);
	uint64_t *ids = ids_for(RN);
	unsigned char *live = xmalloc(RN);
	memset(live, 1, RN);
	brain_t *h = open_mem(FDIM_SMALL, BRAIN_METRIC_L2, BRAIN_INDEX_HNSW);
	set_param(h, BRAIN_PARAM_THREADS, 1); /* the same graph every run */
	add_batch(h, ids, ds.data, RN);
	size_t nlive = RN;
	static const int left[] = {25, 10, 2};
	findings bad = {"", 0};
	for (size_t stage = 0; stage < BRAIN_ARRAY_LEN(left); stage++) {
		while (nlive > (size_t)RN * (size_t)left[stage] / 100) {
			size_t i = (size_t)(test_rng_next(&ds.rng) % RN);
			if (!live[i])
				continue;
			assert_int_equal(brain_forget(h, ids[i]), 0);
			live[i] = 0;
			nlive--;
		}
		size_t lost = 0, short_answers = 0;
		for (size_t i = 0; i < RN; i++) {
			if (!live[i])
				continue;
			size_t found;
			lost += !api_finds_first(h, ds.data + i * FDIM_SMALL, ids[i], &found);
			short_answers += found != TEST_MIN(nlive, (size_t)K);
		}
		VERBOSE("api: %zu left: %zu not found by their own vector, %zu short answers\n", nlive,
		        lost, short_answers);
		if (lost > nlive / 100 || short_answers)
			note(&bad, "%zu left: %zu lost, %zu short", nlive, lost, short_answers);
	}
	if (bad.at)
		fail_msg("of %d memories, those not found by their own vector (want at most 1%%) and "
		         "searches with fewer than min(k, count) answers (want none): %s",
		         RN, bad.text);
	assert_int_equal(brain_close(h), 0);
	free(live);
	free(ids);
	dataset_free(&ds);
}

/* brain_update_vector: in an HNSW index the node leaves the graph and is
 * inserted again. Rounds of updates keep recall against the flat brain
 * given the same updates, and an updated memory is found by its new
 * vector (at distance 0), by its old one only at the new distance. */
static void test_hnsw__update_vector_api(void **state)
{
	(void)state;
	size_t n = 2000;
	dataset ds = dataset_make(306, RDIM, BRAIN_METRIC_L2, false, n, CHURN_Q);
	float *data = ds.data;
	float *old = xmalloc(RDIM * sizeof *old);
	uint64_t *ids = ids_for(n);
	brains bs = brains_open(RDIM, BRAIN_METRIC_L2);
	brains_add_batch(&bs, ids, data, n);
	size_t lost = 0, updates = 0;
	for (int round = 0; round < 5; round++) {
		for (size_t u = 0; u < n / 5; u++) {
			size_t i = (size_t)(test_rng_next(&ds.rng) % n);
			memcpy(old, data + i * RDIM, RDIM * sizeof *old);
			clusters_draw(&ds.c, &ds.rng, BRAIN_METRIC_L2, false, data + i * RDIM);
			assert_int_equal(brain_update_vector(bs.h, ids[i], data + i * RDIM), 0);
			assert_int_equal(brain_update_vector(bs.f, ids[i], data + i * RDIM), 0);
			updates++;
			if (u % 20)
				continue;
			size_t found;
			lost += !api_finds_first(bs.h, data + i * RDIM, ids[i], &found);
			/* by the old vector: if it comes back, it is at its new place */
			uint64_t got[K];
			float d[K];
			assert_int_equal(brain_search(bs.h, old, K, got, d, &found), 0);
			for (size_t x = 0; x < found; x++)
				if (got[x] == ids[i])
					assert_true(d[x] > 0.0f);
		}
		assert_int_equal(brain_count(bs.h), n);
		double r = api_recall(&bs, NULL, ds.queries, CHURN_Q, RDIM, K, false);
		VERBOSE("update round %d: recall@10 %.4f\n", round, r);
		at_least(r, 0.95, "recall@10 after rounds of updates");
	}
	VERBOSE("updates: %zu of %zu sampled not found first by their new vector\n", lost,
	        updates / 20);
	assert_true(lost <= updates / 20 / 50);
	brains_close(&bs);
	free(old);
	free(ids);
	dataset_free(&ds);
}

/* ---- 4. filters --------------------------------------------------------- */

/* Big enough that a filter passing half goes through the graph (hnsw
 * searches exactly when fewer than max(4 ef, 2000) vectors pass). */
#define FN 6000
#define FDIM 16
#define FQ 50

typedef struct per_mille {
	unsigned share; /* out of 100000 */
	size_t calls;   /* searches here run on the calling thread */
} per_mille;

static int accept_share(uint64_t id, void *payload)
{
	per_mille *pm = payload;
	pm->calls++;
	return brain__mix64(id ^ 0x5eedull) % 100000 < pm->share;
}

static void test_hnsw__filters_api(void **state)
{
	(void)state;
	dataset ds = dataset_make(401, FDIM, BRAIN_METRIC_L2, false, FN, FQ);
	uint64_t *ids = ids_for(FN);
	brains bs = brains_open(FDIM, BRAIN_METRIC_L2);
	brains_add_batch(&bs, ids, ds.data, FN);
	static const unsigned shares[] = {50000, 5000, 500, 0};
	for (size_t i = 0; i < BRAIN_ARRAY_LEN(shares); i++) {
		per_mille pm = {shares[i], 0};
		size_t passing = 0;
		for (size_t j = 0; j < FN; j++)
			passing += accept_share(ids[j], &pm) != 0;
		pm.calls = 0;
		narrow nw = {accept_share, &pm, NULL, 0, false, NULL};
		double r = api_recall(&bs, &nw, ds.queries, FQ, FDIM, K, false);
		VERBOSE("filter passing %zu of %d: recall@10 %.4f (%zu calls of accept)\n", passing,
		        FN, r, pm.calls);
		at_least(r, 0.9, "filtered recall@10");
		/* the strict ones are exact (searched over the passing ones) */
		if (shares[i] <= 5000)
			api_recall(&bs, &nw, ds.queries, FQ, FDIM, K, true);
		if (shares[i] == 0) {
			uint64_t got[K];
			size_t found = 99;
			assert_int_equal(brain_search_filter(bs.h, ds.queries, K, accept_share, &pm, got,
			                                     NULL, &found),
			                 0);
			assert_int_equal(found, 0);
		}
	}
	brains_close(&bs);
	free(ids);
	dataset_free(&ds);
}

static void test_hnsw__search_ids_api(void **state)
{
	(void)state;
	dataset ds = dataset_make(402, FDIM, BRAIN_METRIC_COSINE, false, FN, FQ);
	uint64_t *ids = ids_for(FN);
	brains bs = brains_open(FDIM, BRAIN_METRIC_COSINE);
	brains_add_batch(&bs, ids, ds.data, FN);
	static const size_t sizes[] = {10, 1000, 10000};
	uint64_t *allowed = xmalloc(10000 * sizeof *allowed);
	uint64_t *sorted = xmalloc(10000 * sizeof *sorted);
	for (size_t i = 0; i < BRAIN_ARRAY_LEN(sizes); i++) {
		size_t n = sizes[i];
		/* 70% drawn from the brain's ids (with repeats), the rest ids it
		 * does not hold, some of them repeated too */
		for (size_t j = 0; j < n; j++) {
			if (j % 10 < 7)
				allowed[j] = ids[test_rng_next(&ds.rng) % FN];
			else if (j % 10 < 9)
				allowed[j] = id_of(FN + (size_t)(test_rng_next(&ds.rng) % 100000)); /* absent */
			else
				allowed[j] = allowed[test_rng_next(&ds.rng) % j];
		}
		memcpy(sorted, allowed, n * sizeof *sorted);
		qsort(sorted, n, sizeof *sorted, cmp_u64);
		narrow nw = {NULL, NULL, allowed, n, true, sorted};
		double r = api_recall(&bs, &nw, ds.queries, FQ, FDIM, K, n <= 1000);
		VERBOSE("search_ids of %zu: recall@10 %.4f\n", n, r);
		at_least(r, 0.9, "recall@10 over an id set");
	}
	/* an empty set finds nothing */
	uint64_t got[K];
	size_t found = 99;
	assert_int_equal(brain_search_ids(bs.h, ds.queries, K, allowed, 0, got, NULL, &found), 0);
	assert_int_equal(found, 0);
	brains_close(&bs);
	free(sorted);
	free(allowed);
	free(ids);
	dataset_free(&ds);
}

/* Through the vtable: the filter passes through the graph for a broad
 * filter, recall holds, only accepted slots come back, still k of them. */
typedef struct slot_share {
	unsigned share; /* out of 100000 */
} slot_share;

static int accept_slot_share(uint32_t slot, void *payload)
{
	const slot_share *s = payload;
	return brain__mix64((uint64_t)slot + 77) % 100000 < s->share;
}

static void test_hnsw__filters_vtable(void **state)
{
	(void)state;
	dataset ds = dataset_make(403, FDIM, BRAIN_METRIC_IP, true, FN, FQ);
	params p = params_default();
	p.threads = 2;
	pair pr = pair_open(FDIM, BRAIN_METRIC_IP, FN, &p);
	uint32_t *slots = slots_for(FN);
	pair_add_batch(&pr, slots, ds.data, FN);
	/* The backend carries out the plans the Thalamus makes (organs/
	 * thalamus.c): a scan is exact whatever the share; a walk, which the
	 * Thalamus plans only when at least 2,000 (and 2%) pass, with its
	 * effort widened by 1/share, finds at least 9 in 10. (Through the
	 * brain, every share: filters_api.) */
	static const unsigned shares[] = {100000, 90000, 50000, 5000, 2000, 500, 20, 0};
	for (size_t i = 0; i < BRAIN_ARRAY_LEN(shares); i++) {
		slot_share s = {shares[i]};
		brain_index_filter f = {accept_slot_share, &s};
		brain_index_search scan = {NULL, 0, NULL, 1, 0};
		double exact = pair_recall_plan(&pr, ds.queries, FQ, K, &f, &scan);
		assert_true(exact == 1.0);
		if ((uint64_t)shares[i] * FN / 100000 < 2000)
			continue;
		brain_index_search walk = {NULL, 0, NULL, 0,
		                           (uint64_t)(64.0 * 100000.0 / (double)shares[i])};
		double r = pair_recall_plan(&pr, ds.queries, FQ, K, &f, &walk);
		VERBOSE("vtable filter passing %u/100000: recall@10 %.4f\n", shares[i], r);
		at_least(r, 0.9, "filtered recall@10 through the vtable");
	}
	free(slots);
	pair_close(&pr);
	dataset_free(&ds);
}

/* ---- 5. determinism ----------------------------------------------------- */

#define DQ 100

/* A brain's answers to up to DQ queries (the persistence tests ask
 * fewer), k K each. */
typedef struct answers {
	uint64_t ids[DQ][K];
	float d[DQ][K];
	size_t found[DQ];
} answers;

/* b's answers to nq queries of dim floats; the rows past nq stay 0. */
static void ask(brain_t *b, const float *queries, size_t nq, uint32_t dim, answers *out)
{
	memset(out, 0, sizeof *out);
	for (size_t q = 0; q < nq; q++) {
		int rc = brain_search(b, queries + q * dim, K, out->ids[q], out->d[q], &out->found[q]);
		if (rc)
			fail_msg("search: %s: %s", brain_error_name(rc), brain_errmsg());
	}
}

/* The same answers, bit for bit. */
static void same_asked(const answers *a, const answers *b)
{
	assert_memory_equal(a->found, b->found, sizeof a->found);
	assert_memory_equal(a->ids, b->ids, sizeof a->ids);
	assert_memory_equal(a->d, b->d, sizeof a->d);
}

#define DN 1500

static void build_and_ask(int64_t seed, const float *data, const float *queries, answers *out)
{
	uint64_t *ids = ids_for(DN);
	brain_t *b = open_mem(RDIM, BRAIN_METRIC_L2, BRAIN_INDEX_HNSW);
	set_param(b, BRAIN_PARAM_THREADS, 1);
	set_param(b, BRAIN_PARAM_HNSW_SEED, seed);
	set_param(b, BRAIN_PARAM_HNSW_EF_CONSTRUCTION, 40);
	set_param(b, BRAIN_PARAM_HNSW_M, 6);
	/* each add inserts its own node (the background's timing is not
	 * deterministic; test_heart builds a tail by ticks) */
	set_param(b, BRAIN_PARAM_INDEX_TAIL_MAX, 0);
	/* singles, a batch, forgets and singles into the freed slots */
	for (size_t i = 0; i < 300; i++)
		assert_int_equal(brain_add(b, ids[i], data + i * RDIM), 0);
	add_batch(b, ids + 300, data + 300 * RDIM, DN - 400);
	for (size_t i = 0; i < 150; i++)
		assert_int_equal(brain_forget(b, ids[i * 7]), 0);
	for (size_t i = DN - 100; i < DN; i++)
		assert_int_equal(brain_add(b, ids[i], data + i * RDIM), 0);
	/* a small ef, so that the graph's shape shows in the answers */
	set_param(b, BRAIN_PARAM_HNSW_EF_SEARCH, 10);
	ask(b, queries, DQ, RDIM, out);
	assert_int_equal(brain_close(b), 0);
	free(ids);
}

static void test_hnsw__single_threaded_builds_are_deterministic(void **state)
{
	(void)state;
	test_rng rng = {501};
	/* uniform noise: harder than clusters, so the graph matters */
	float *data = xmalloc((size_t)DN * RDIM * sizeof *data);
	float *queries = xmalloc((size_t)DQ * RDIM * sizeof *queries);
	for (size_t i = 0; i < (size_t)DN * RDIM; i++)
		data[i] = test_rng_float(&rng, -1, 1);
	for (size_t i = 0; i < (size_t)DQ * RDIM; i++)
		queries[i] = test_rng_float(&rng, -1, 1);
	answers *a = xcalloc(1, sizeof *a), *b = xcalloc(1, sizeof *b), *c = xcalloc(1, sizeof *c);
	build_and_ask(42, data, queries, a);
	build_and_ask(42, data, queries, b);
	build_and_ask(43, data, queries, c);
	same_asked(a, b);
	size_t differ = 0;
	for (size_t q = 0; q < DQ; q++)
		differ += memcmp(a->ids[q], c->ids[q], sizeof a->ids[q]) != 0;
	VERBOSE("determinism: %zu of %d answers differ with another seed\n", differ, DQ);
	assert_true(differ > 0);
	free(a);
	free(b);
	free(c);
	free(data);
	free(queries);
}

/* ---- 6. persistence ----------------------------------------------------- */

#define PDIM 32
#define PQ 50

static brain_options opts_on(memfs *fs, int index)
{
	brain_options o = options_for(PDIM, BRAIN_METRIC_L2, index);
	o.sync = BRAIN_SYNC_OFF;
	o.io = memfs_io(fs);
	return o;
}

static brain_t *open_disk(memfs *fs, int index)
{
	brain_options o = opts_on(fs, index);
	return open_with("b", &o);
}

/* A brain made on a new in-memory file system (*fs). */
static brain_t *open_new_disk(memfs **fs, int index)
{
	*fs = memfs_new();
	assert_non_null(*fs);
	return open_disk(*fs, index);
}

static void check_disk(memfs *fs, int index, uint64_t memories)
{
	brain_options o = opts_on(fs, index);
	brain_check_report rep;
	brain_check_report_init(&rep, BRAIN_CHECK_REPORT_VERSION);
	int rc = brain_check("b", &o, &rep);
	if (rc)
		fail_msg("check: %s: %s", brain_error_name(rc), brain_errmsg());
	assert_int_equal(rep.memories, memories);
}

/* Every id in ids[0..n) comes back first for its own vector. */
static void finds_itself(brain_t *b, const uint64_t *ids, const float *data, size_t n,
                         double want)
{
	size_t first = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t got;
		float d;
		size_t found = 0;
		assert_int_equal(brain_search(b, data + i * PDIM, 1, &got, &d, &found), 0);
		assert_int_equal(found, 1);
		first += got == ids[i] && d == 0.0f;
	}
	at_least((double)first / (double)n, want, "share of memories found by their own vector");
}

/* On disk, h reopened again and again; f is the flat reference in memory. */
static void persistence(int64_t sq8, uint64_t seed)
{
	case_begin("sq8 %d", (int)sq8);
	size_t n = 2000, more = 500;
	dataset ds = dataset_make(seed, PDIM, BRAIN_METRIC_L2, false, n + more, PQ);
	const float *data = ds.data, *queries = ds.queries;
	uint64_t *ids = ids_for(n + more);
	memfs *fs = NULL;
	brains bs;
	bs.h = open_new_disk(&fs, BRAIN_INDEX_HNSW);
	bs.f = open_mem(PDIM, BRAIN_METRIC_L2, BRAIN_INDEX_FLAT);
	set_param(bs.h, BRAIN_PARAM_HNSW_EF_CONSTRUCTION, 100);
	set_param(bs.h, BRAIN_PARAM_THREADS, 2);
	set_param(bs.h, BRAIN_PARAM_HNSW_SQ8, sq8); /* kept by the checkpoint */
	brains_add_batch(&bs, ids, data, n - 200);
	brains_add_range(&bs, ids, data, PDIM, n - 200, n);
	/* a checkpoint in the middle, then the log replays the rest */
	assert_int_equal(brain_checkpoint(bs.h), 0);
	brains_forget(&bs, ids[3]);
	answers *before = xcalloc(1, sizeof *before), *after = xcalloc(1, sizeof *after);
	ask(bs.h, queries, PQ, PDIM, before);
	at_least(api_recall(&bs, NULL, queries, PQ, PDIM, K, false), 0.95, "recall@10 on disk");
	assert_int_equal(brain_close(bs.h), 0);
	check_disk(fs, BRAIN_INDEX_HNSW, n - 1);

	/* reopened: the graph is the checkpoint's, the answers the same */
	bs.h = open_disk(fs, BRAIN_INDEX_HNSW);
	assert_int_equal(brain_count(bs.h), n - 1);
	ask(bs.h, queries, PQ, PDIM, after);
	same_asked(before, after);
	/* AUTO accepts the index the brain was made with */
	assert_int_equal(brain_close(bs.h), 0);
	bs.h = open_disk(fs, BRAIN_INDEX_AUTO);
	set_param(bs.h, BRAIN_PARAM_HNSW_EXACT_BELOW, 0); /* AUTO's default would search exactly */
	ask(bs.h, queries, PQ, PDIM, after);
	same_asked(before, after);
	assert_int_equal(brain_close(bs.h), 0);

	/* changes after reopening: into the mapped graph */
	bs.h = open_disk(fs, BRAIN_INDEX_HNSW);
	set_param(bs.h, BRAIN_PARAM_HNSW_EF_CONSTRUCTION, 100);
	brains_add_batch(&bs, ids + n, data + n * PDIM, more / 2);
	brains_add_range(&bs, ids, data, PDIM, n + more / 2, n + more);
	size_t forgotten = 1;
	for (size_t i = 10; i < n + more; i += 9) {
		brains_forget(&bs, ids[i]);
		forgotten++;
	}
	double r = api_recall(&bs, NULL, queries, PQ, PDIM, K, false);
	VERBOSE("persistence (sq8 %d): recall@10 %.4f after changes to the reopened brain\n",
	        (int)sq8, r);
	at_least(r, 0.95, "recall@10 after changes to the reopened brain");
	ask(bs.h, queries, PQ, PDIM, before);
	assert_int_equal(brain_close(bs.h), 0);
	check_disk(fs, BRAIN_INDEX_HNSW, n + more - forgotten);
	bs.h = open_disk(fs, BRAIN_INDEX_HNSW);
	ask(bs.h, queries, PQ, PDIM, after);
	same_asked(before, after);
	at_least(api_recall(&bs, NULL, queries, PQ, PDIM, K, false), 0.95,
	         "recall@10 reopened again");
	brains_close(&bs);
	assert_int_equal(memfs_open_files(fs), 0);
	assert_int_equal(memfs_live_maps(fs), 0);
	memfs_free(fs);
	free(before);
	free(after);
	free(ids);
	dataset_free(&ds);
}

static void test_hnsw__persistence_on_disk(void **state)
{
	(void)state;
	persistence(0, 601);
	persistence(1, 602);
	case_end();
}

/* AUTO: exact below HNSW_EXACT_BELOW, the graph built once the brain
 * passes it (by a single add here, by a batch in memory below), and every
 * memory still found, before and after reopening. */
static void test_hnsw__auto_crosses_the_threshold(void **state)
{
	(void)state;
	size_t n = 1200;
	dataset ds = dataset_make(602, PDIM, BRAIN_METRIC_L2, false, n, 0);
	const float *data = ds.data;
	uint64_t *ids = ids_for(n);
	memfs *fs = NULL;
	brain_t *b = open_new_disk(&fs, BRAIN_INDEX_AUTO);
	set_param(b, BRAIN_PARAM_HNSW_EXACT_BELOW, 500);
	set_param(b, BRAIN_PARAM_HNSW_EF_CONSTRUCTION, 100);
	add_batch(b, ids, data, 450);
	finds_itself(b, ids, data, 450, 1.0); /* exact */
	assert_int_equal(brain_checkpoint(b), 0); /* saved before the graph exists */
	for (size_t i = 450; i < 600; i++) /* the 500th builds the graph */
		assert_int_equal(brain_add(b, ids[i], data + i * PDIM), 0);
	add_batch(b, ids + 600, data + 600 * PDIM, 200); /* into the graph */
	finds_itself(b, ids, data, 800, 0.995);
	assert_int_equal(brain_close(b), 0);
	check_disk(fs, BRAIN_INDEX_AUTO, 800);

	b = open_disk(fs, BRAIN_INDEX_AUTO);
	/* the threshold comes back with the graph: it is searched */
	assert_int_equal(get_param(b, BRAIN_PARAM_HNSW_EXACT_BELOW), 500);
	finds_itself(b, ids, data, 800, 0.995); /* the reopened graph */
	add_batch(b, ids + 800, data + 800 * PDIM, 400);
	for (size_t i = 0; i < 100; i++)
		assert_int_equal(brain_forget(b, ids[i * 3]), 0);
	finds_itself(b, ids + 300, data + 300 * PDIM, n - 300, 0.995);
	assert_int_equal(brain_close(b), 0);
	check_disk(fs, BRAIN_INDEX_AUTO, n - 100);
	memfs_free(fs);

	/* in memory, one batch across the threshold */
	brain_t *m = open_mem(PDIM, BRAIN_METRIC_L2, BRAIN_INDEX_AUTO);
	set_param(m, BRAIN_PARAM_HNSW_EXACT_BELOW, 500);
	set_param(m, BRAIN_PARAM_THREADS, 4);
	add_batch(m, ids, data, 300);
	add_batch(m, ids + 300, data + 300 * PDIM, n - 300);
	finds_itself(m, ids, data, n, 0.995);
	assert_int_equal(brain_close(m), 0);
	free(ids);
	dataset_free(&ds);
}

/* A brain reopened without BRAIN_INDEX_HNSW (AUTO, or the stored options)
 * takes back the parameters its graph was saved with: it reports the M it
 * has and keeps searching the graph (HNSW_EXACT_BELOW 0 saved), where the
 * defaults would have searched exactly below 2,000 vectors. */
static void test_hnsw__reopen_takes_back_the_graph_parameters(void **state)
{
	(void)state;
	size_t n = 1500;
	dataset ds = dataset_shaped(611, PDIM, NCLUSTERS, 0.8f, BRAIN_METRIC_L2, false, n, PQ);
	uint64_t *ids = ids_for(n);
	memfs *fs = NULL;
	brain_t *b = open_new_disk(&fs, BRAIN_INDEX_HNSW);
	set_param(b, BRAIN_PARAM_HNSW_M, 6);
	set_param(b, BRAIN_PARAM_HNSW_EF_CONSTRUCTION, 20);
	set_param(b, BRAIN_PARAM_HNSW_SEED, 77);
	add_batch(b, ids, ds.data, n);
	/* a narrow walk on a sparse graph, so that its answers are not the
	 * exact ones (else this test could not tell the two apart) */
	set_param(b, BRAIN_PARAM_HNSW_EF_SEARCH, 1);
	answers *graph = xmalloc(sizeof *graph), *exact = xmalloc(sizeof *exact);
	answers *again = xmalloc(sizeof *again);
	ask(b, ds.queries, PQ, PDIM, graph);
	set_param(b, BRAIN_PARAM_HNSW_EXACT_BELOW, (int64_t)n + 1);
	ask(b, ds.queries, PQ, PDIM, exact);
	set_param(b, BRAIN_PARAM_HNSW_EXACT_BELOW, 0);
	assert_true(memcmp(graph->ids, exact->ids, sizeof graph->ids) != 0);
	assert_int_equal(brain_close(b), 0);

	static const int reopen[] = {BRAIN_INDEX_AUTO, -1 /* stored options */, BRAIN_INDEX_HNSW};
	for (size_t r = 0; r < BRAIN_ARRAY_LEN(reopen); r++) {
		brain_options o = opts_on(fs, reopen[r] < 0 ? BRAIN_INDEX_AUTO : reopen[r]);
		if (reopen[r] < 0) {
			o.flags = BRAIN_OPEN_STORED_OPTIONS;
			o.dimensions = 0;
		}
		b = NULL;
		int rc = brain_open("b", &o, &b);
		if (rc)
			fail_msg("reopen %zu: %s: %s", r, brain_error_name(rc), brain_errmsg());
		assert_int_equal(get_param(b, BRAIN_PARAM_HNSW_M), 6);
		assert_int_equal(get_param(b, BRAIN_PARAM_HNSW_EF_CONSTRUCTION), 20);
		assert_int_equal(get_param(b, BRAIN_PARAM_HNSW_SEED), 77);
		assert_int_equal(get_param(b, BRAIN_PARAM_HNSW_SQ8), 0);
		assert_int_equal(get_param(b, BRAIN_PARAM_HNSW_EXACT_BELOW), 0);
		/* EF_SEARCH is a search setting, not the graph's: back to its default */
		assert_int_equal(get_param(b, BRAIN_PARAM_HNSW_EF_SEARCH), 64);
		set_param(b, BRAIN_PARAM_HNSW_EF_SEARCH, 1);
		ask(b, ds.queries, PQ, PDIM, again);
		assert_memory_equal(again->ids, graph->ids, sizeof graph->ids);
		assert_int_equal(brain_close(b), 0);
	}
	free(graph);
	free(exact);
	free(again);
	memfs_free(fs);
	free(ids);
	dataset_free(&ds);
}

/* Save and load through the vtable, as the brain does with a checkpoint:
 * the loaded index answers as the saved one did, and takes changes. */
typedef struct buffer {
	unsigned char *data;
	size_t len, cap;
} buffer;

static int buffer_write(void *payload, const void *data, size_t len)
{
	buffer *b = payload;
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + len)
			cap *= 2;
		unsigned char *p = realloc(b->data, cap);
		if (!p)
			return BRAIN_ENOMEM;
		b->data = p;
		b->cap = cap;
	}
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	return BRAIN_OK;
}

/* A 4096-aligned copy of exactly len bytes (so that ASan sees reads past
 * the end). */
static unsigned char *aligned_copy(const void *data, size_t len)
{
	void *p = NULL;
	if (posix_memalign(&p, 4096, len ? len : 1) != 0 || !p)
		abort();
	if (len)
		memcpy(p, data, len);
	return p;
}

static buffer save_ix(const brain_index *ix)
{
	buffer buf = {NULL, 0, 0};
	brain_index_writer w = {buffer_write, &buf};
	int rc = hnsw->save(ix, &w);
	if (rc)
		fail_msg("save: %s: %s", brain_error_name(rc), brain_errmsg());
	return buf;
}

/* Load bytes that save() wrote; the test fails (naming what) if it
 * cannot. */
/* The value of `param` a (loaded) index reports it was built with. */
static bool built_with(const brain_index *ix, int param, int64_t *value)
{
	brain_index_info info;
	assert_int_equal(brain__index_hnsw.info(ix, &info), 0);
	for (unsigned i = 0; i < info.nbuilt; i++)
		if (info.built[i].param == param) {
			*value = info.built[i].value;
			return true;
		}
	return false;
}

static brain_index *load_ix(const brain_index_config *cfg, void *img, size_t len,
                            const char *what)
{
	brain_index *ix = NULL;
	int rc = hnsw->load(cfg, img, len, &ix);
	if (rc || !ix) {
		fail_msg("%s: %s: %s", what, brain_error_name(rc), brain_errmsg());
		abort(); /* not reached */
	}
	return ix;
}

/* Two indexes hold the same graph, as far as anyone can tell: the same
 * vectors under the same slots, the same count and tail, and the same
 * answers, slot for slot and distance for distance, from walks narrow
 * enough (ef 10) that any difference in the links shows. */
static void same_graph(const brain_index *a, const brain_index *b, const float *queries,
                       size_t nq, params *p)
{
	brain_index_info x, y;
	assert_int_equal(hnsw->info(a, &x), 0);
	assert_int_equal(hnsw->info(b, &y), 0);
	assert_int_equal(x.count, y.count);
	assert_int_equal(x.pending, y.pending);
	float va[RDIM], vb[RDIM];
	for (uint32_t s = 0; s < 4000; s++) {
		int ra = hnsw->get(a, s, va), rb = hnsw->get(b, s, vb);
		assert_int_equal(ra, rb);
		if (ra == 0)
			assert_memory_equal(va, vb, sizeof va);
	}
	int64_t ef = p->ef;
	p->ef = 10;
	for (size_t q = 0; q < nq; q++) {
		uint32_t sa[10], sb[10];
		float da[10], db[10];
		size_t fa = 0, fb = 0;
		assert_int_equal(hnsw->search(a, queries + q * RDIM, 10, NULL, sa, da, &fa), 0);
		assert_int_equal(hnsw->search(b, queries + q * RDIM, 10, NULL, sb, db, &fb), 0);
		assert_int_equal(fa, fb);
		assert_memory_equal(sa, sb, fa * sizeof *sa);
		assert_memory_equal(da, db, fa * sizeof *da);
	}
	p->ef = ef;
}

/* A checkpoint in two steps (index vtable version 6): frozen, then changed
 * while its files are written (removes, adds into freed and new slots,
 * the tail built into the graph, a vector replaced, 8-bit codes), the
 * files hold the index as it was at the freeze: the same graph as a
 * save() taken just before it. A second checkpoint then holds the index
 * as changed. */
static void test_hnsw__frozen_flush_keeps_the_freeze(void **state)
{
	(void)state;
	for (int sq8 = 0; sq8 <= 1; sq8++) {
		memfs *fs = memfs_new();
		const brain_io *io = memfs_io(fs);
		assert_int_equal(io->mkdir(io->payload, "d"), 0);
		params p = params_default();
		p.sq8 = sq8;
		brain_index_config cfg = config_for(RDIM, BRAIN_METRIC_L2, 4000, &p);
		dataset ds = dataset_make(77 + (uint64_t)sq8, RDIM, BRAIN_METRIC_L2, true, 2600, 100);
		brain_index *ix = open_ix(hnsw, RDIM, BRAIN_METRIC_L2, 4000, &p);
		assert_int_equal(hnsw->reserve(ix, 2000), 0);
		for (uint32_t s = 0; s < 2000; s++)
			assert_int_equal(hnsw->add(ix, s, ds.data + (size_t)s * RDIM), 0);
		uint64_t pending = 0;
		assert_int_equal(hnsw->build(ix, SIZE_MAX, &pending), 0);
		for (uint32_t s = 1990; s < 2000; s++) /* some left in the tail */
			assert_int_equal(hnsw->remove(ix, s), 0);
		for (uint32_t s = 1990; s < 2000; s++)
			assert_int_equal(hnsw->add(ix, s, ds.data + (size_t)(s + 600) * RDIM), 0);

		buffer ref = save_ix(ix);
		unsigned char *ref_img = aligned_copy(ref.data, ref.len);
		brain_index *was = load_ix(&cfg, ref_img, ref.len, "load the reference");
		buffer desc = {NULL, 0, 0};
		brain_index_writer w = {buffer_write, &desc};
		brain_index_files files = {io, "d", "index-", 2};
		void *frozen = NULL;
		assert_int_equal(hnsw->freeze(ix, &w, &frozen), 0);
		assert_non_null(frozen);
		/* changes beside the flush */
		for (uint32_t s = 0; s < 200; s += 2)
			assert_int_equal(hnsw->remove(ix, s), 0);
		assert_int_equal(hnsw->reserve(ix, 2200), 0);
		for (uint32_t s = 0; s < 100; s += 2)
			assert_int_equal(hnsw->add(ix, s, ds.data + (size_t)(s + 2000) * RDIM), 0);
		for (uint32_t s = 2000; s < 2100; s++)
			assert_int_equal(hnsw->add(ix, s, ds.data + (size_t)(s + 400) * RDIM), 0);
		assert_int_equal(hnsw->build(ix, SIZE_MAX, &pending), 0);
		assert_int_equal(hnsw->remove(ix, 500), 0);
		assert_int_equal(hnsw->add(ix, 500, ds.data + (size_t)2599 * RDIM), 0);
		assert_int_equal(hnsw->build(ix, SIZE_MAX, &pending), 0);
		/* a compaction's end beside the flush (version 7): the last
		 * slots emptied and their rows handed back (chunks of 512 rows:
		 * from slot 1536 on, frozen ones copied first), an occupied slot
		 * refused, then one slot taken again */
		size_t bytes_before = hnsw->memory_usage(ix);
		for (uint32_t s = 1200; s < 2100; s++)
			assert_int_equal(hnsw->remove(ix, s), 0);
		assert_int_equal(hnsw->shrink(ix, 1200), 0);
		assert_true(hnsw->memory_usage(ix) + 2 * 512 * 288 <= bytes_before);
		assert_int_equal(hnsw->shrink(ix, 1000), BRAIN_EINVAL);
		assert_int_equal(hnsw->reserve(ix, 2100), 0);
		assert_int_equal(hnsw->add(ix, 2050, ds.data + (size_t)2598 * RDIM), 0);
		assert_int_equal(hnsw->build(ix, SIZE_MAX, &pending), 0);
		assert_int_equal(hnsw->flush_frozen(ix, frozen, &files, &w), 0);
		hnsw->thaw(ix, frozen);
		unsigned char *desc_img = aligned_copy(desc.data, desc.len);
		brain_index *frz = NULL;
		assert_int_equal(hnsw->open_files(&cfg, &files, desc_img, desc.len, &frz), 0);
		same_graph(frz, was, ds.queries, 100, &p);
		hnsw->close(frz);

		/* the next checkpoint holds the index as changed */
		buffer now = save_ix(ix);
		unsigned char *now_img = aligned_copy(now.data, now.len);
		brain_index *is = load_ix(&cfg, now_img, now.len, "load the changed index");
		buffer desc2 = {NULL, 0, 0};
		brain_index_writer w2 = {buffer_write, &desc2};
		files.generation = 3;
		assert_int_equal(hnsw->flush(ix, &files, &w2), 0);
		unsigned char *desc2_img = aligned_copy(desc2.data, desc2.len);
		assert_int_equal(hnsw->open_files(&cfg, &files, desc2_img, desc2.len, &frz), 0);
		same_graph(frz, is, ds.queries, 100, &p);
		hnsw->close(frz);
		hnsw->close(is);
		hnsw->close(was);
		hnsw->close(ix);
		free(ref.data);
		free(now.data);
		free(desc.data);
		free(desc2.data);
		free(ref_img);
		free(now_img);
		free(desc_img);
		free(desc2_img);
		dataset_free(&ds);
		assert_int_equal(memfs_live_maps(fs), 0);
		memfs_free(fs);
	}
}


/* An allocator that makes a read of freed memory fail: blocks of 64 KiB
 * and more are mappings of their own, made unreadable when freed and kept
 * so (their addresses are not handed out again) until poison_release();
 * smaller ones are filled with 0xa5 first (libc's free often leaves the
 * old bytes in place). */
#define POISON_MAP_BYTES ((size_t)64 * 1024)
#define POISON_KEPT 64
static struct {
	void *p;
	size_t len;
} g_poisoned[POISON_KEPT];
static size_t g_npoisoned;

static void *poison_malloc(size_t size, void *payload)
{
	(void)payload;
	unsigned char *p;
	if (size + 16 >= POISON_MAP_BYTES) {
		/* /dev/zero: an anonymous mapping in POSIX's words */
		int fd = open("/dev/zero", O_RDWR);
		if (fd < 0)
			return NULL;
		p = mmap(NULL, size + 16, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
		close(fd);
		if (p == MAP_FAILED)
			return NULL;
	} else {
		p = malloc(size + 16);
		if (!p)
			return NULL;
	}
	memcpy(p, &size, sizeof size);
	return p + 16;
}

static void poison_free(void *ptr, void *payload)
{
	(void)payload;
	if (!ptr)
		return;
	unsigned char *p = (unsigned char *)ptr - 16;
	size_t size;
	memcpy(&size, p, sizeof size);
	if (size + 16 < POISON_MAP_BYTES) {
		memset(ptr, 0xa5, size);
		free(p);
	} else if (g_npoisoned < POISON_KEPT) {
		mprotect(p, size + 16, PROT_NONE);
		g_poisoned[g_npoisoned].p = p;
		g_poisoned[g_npoisoned++].len = size + 16;
	} else {
		munmap(p, size + 16);
	}
}

static void poison_release(void)
{
	for (size_t i = 0; i < g_npoisoned; i++)
		munmap(g_poisoned[i].p, g_poisoned[i].len);
	g_npoisoned = 0;
}

static void *poison_realloc(void *ptr, size_t size, void *payload)
{
	if (!ptr)
		return poison_malloc(size, payload);
	size_t old;
	memcpy(&old, (unsigned char *)ptr - 16, sizeof old);
	void *q = poison_malloc(size, payload);
	if (!q)
		return NULL;
	memcpy(q, ptr, BRAIN_MIN(old, size));
	poison_free(ptr, payload);
	return q;
}

/* shrink (version 7) during a checkpoint's flush: a frozen chunk nothing
 * has changed since the freeze (here one that was empty then, below a
 * slot in use) is handed back; the flush must still write the freeze's
 * bytes (the shrink copies it first: without, the flush reads freed
 * memory, poisoned here). The flat store, chunks of 2048 32-d rows. */
static void test_hnsw__shrink_beside_a_frozen_flush(void **state)
{
	(void)state;
	brain_allocator a;
	assert_int_equal(brain_allocator_init(&a, BRAIN_ALLOCATOR_VERSION), 0);
	a.malloc = poison_malloc;
	a.realloc = poison_realloc;
	a.free = poison_free;
	assert_int_equal(brain_set_allocator(&a), 0);
	memfs *fs = memfs_new();
	const brain_io *io = memfs_io(fs);
	assert_int_equal(io->mkdir(io->payload, "d"), 0);
	params p = params_default();
	brain_index_config cfg = config_for(RDIM, BRAIN_METRIC_L2, 10000, &p);
	dataset ds = dataset_make(91, RDIM, BRAIN_METRIC_L2, false, 2100, 1);
	brain_index *ix = open_ix(flat, RDIM, BRAIN_METRIC_L2, 10000, &p);
	assert_int_equal(flat->reserve(ix, 8192), 0);
	for (uint32_t s = 0; s < 2048; s++)
		assert_int_equal(flat->add(ix, s, ds.data + (size_t)s * RDIM), 0);
	assert_int_equal(flat->add(ix, 5000, ds.data + (size_t)2050 * RDIM), 0);
	size_t bytes_before = flat->memory_usage(ix);
	buffer desc = {NULL, 0, 0};
	brain_index_writer w = {buffer_write, &desc};
	brain_index_files files = {io, "d", "index-", 2};
	void *frozen = NULL;
	assert_int_equal(flat->freeze(ix, &w, &frozen), 0);
	assert_int_equal(flat->shrink(ix, 2048), BRAIN_EINVAL); /* 5000 is in use */
	assert_int_equal(flat->remove(ix, 5000), 0);
	assert_int_equal(flat->shrink(ix, 2048), 0);
	assert_true(flat->memory_usage(ix) + 3 * 2048 * RDIM * sizeof(float) <= bytes_before);
	assert_int_equal(flat->flush_frozen(ix, frozen, &files, &w), 0);
	flat->thaw(ix, frozen);
	/* slots past the end come back, zero-filled, once reserved again */
	assert_int_equal(flat->reserve(ix, 8192), 0);
	assert_int_equal(flat->add(ix, 7000, ds.data + (size_t)2051 * RDIM), 0);
	unsigned char *desc_img = aligned_copy(desc.data, desc.len);
	brain_index *frz = NULL;
	assert_int_equal(flat->open_files(&cfg, &files, desc_img, desc.len, &frz), 0);
	float v[RDIM];
	for (uint32_t s = 0; s < 2048; s++) {
		assert_int_equal(flat->get(frz, s, v), 0);
		assert_memory_equal(v, ds.data + (size_t)s * RDIM, sizeof v);
	}
	assert_int_equal(flat->get(frz, 5000, v), 0);
	assert_memory_equal(v, ds.data + (size_t)2050 * RDIM, sizeof v);
	assert_int_equal(flat->get(frz, 7000, v), BRAIN_ENOTFOUND);
	assert_int_equal(flat->get(frz, 4000, v), BRAIN_ENOTFOUND);
	assert_int_equal(flat->get(ix, 7000, v), 0);
	assert_memory_equal(v, ds.data + (size_t)2051 * RDIM, sizeof v);
	assert_int_equal(flat->get(ix, 5000, v), BRAIN_ENOTFOUND);
	flat->close(frz);
	flat->close(ix);
	free(desc.data);
	free(desc_img);
	dataset_free(&ds);
	assert_int_equal(memfs_live_maps(fs), 0);
	memfs_free(fs);
	assert_int_equal(brain_set_allocator(NULL), 0);
	poison_release();
}

static void save_and_load(int metric, int64_t sq8, uint64_t seed)
{
	case_begin("%s, sq8 %d", metric_name(metric), (int)sq8);
	dataset ds = dataset_make(seed, RDIM, metric, true, 2500, PQ);
	const float *data = ds.data, *queries = ds.queries;
	params p = params_default();
	p.threads = 2;
	p.sq8 = sq8;
	pair pr = pair_open(RDIM, metric, 2000, &p);
	uint32_t *slots = slots_for(2500);
	pair_add_batch(&pr, slots, data, 1500);
	for (uint32_t s = 0; s < 1500; s += 10)
		pair_remove(&pr, s);
	buffer buf = save_ix(pr.ix);
	unsigned char *img = aligned_copy(buf.data, buf.len);
	brain_index_config cfg = config_for(RDIM, metric, 2000, &p);
	brain_index *loaded = load_ix(&cfg, img, buf.len, "load");
	same_answers(pr.ix, hnsw, loaded, queries, PQ, RDIM, K, NULL, true);
	/* the same index as a version 1 image (an 80-byte header, without
	 * exact_below, nor the tail of version 3: this one has none, nor the
	 * header's copy of version 4) loads
	 * and answers alike */
	{
		uint64_t cap, pool_len;
		memcpy(&cap, buf.data + 40, sizeof cap);
		memcpy(&pool_len, buf.data + 48, sizeof pool_len);
		size_t mid = ((size_t)cap + 3) / 4 * 4 + ((size_t)cap + 63) / 64 * 4 +
		             (size_t)pool_len * 4;
		/* version 4: the store after a copy of the header at the next
		 * 64 KiB boundary */
		size_t off2 = (96 + mid + 65535) / 65536 * 65536 + 4096,
		       off1 = (80 + mid + 4095) / 4096 * 4096;
		size_t len1 = off1 + (buf.len - off2);
		unsigned char *v1 = calloc(1, len1);
		assert_non_null(v1);
		memcpy(v1, buf.data, 80);
		uint32_t one = 1;
		memcpy(v1 + 4, &one, sizeof one);
		memcpy(v1 + 80, buf.data + 96, mid);
		memcpy(v1 + off1, buf.data + off2, buf.len - off2);
		unsigned char *img1 = aligned_copy(v1, len1);
		brain_index *old = load_ix(&cfg, img1, len1, "load version 1");
		same_answers(loaded, hnsw, old, queries, PQ, RDIM, K, NULL, false);
		int64_t v = 0;
		assert_true(built_with(old, BRAIN_PARAM_HNSW_M, &v));
		assert_false(built_with(old, BRAIN_PARAM_HNSW_EXACT_BELOW, &v));
		assert_true(built_with(loaded, BRAIN_PARAM_HNSW_EXACT_BELOW, &v));
		assert_int_equal(v, p.exact_below);
		brain_index_info made;
		assert_int_equal(hnsw->info(pr.ix, &made), 0);
		assert_int_equal(made.nbuilt, 0); /* made, not loaded */
		hnsw->close(old);
		/* a newer version is refused as such, not misread */
		uint32_t five = 5;
		memcpy(img1 + 4, &five, sizeof five);
		old = NULL;
		assert_int_equal(hnsw->load(&cfg, img1, len1, &old), BRAIN_EVERSION);
		assert_null(old);
		free(img1);
		free(v1);
	}
	/* the saved form of the loaded index is the same bytes */
	buffer again = save_ix(loaded);
	assert_int_equal(again.len, buf.len);
	assert_memory_equal(again.data, buf.data, buf.len);
	free(again.data);
	/* the loaded index takes changes: swap it into the pair */
	hnsw->close(pr.ix);
	pr.ix = loaded;
	assert_int_equal(hnsw->reserve(pr.ix, 2000), 0);
	pair_add_batch(&pr, slots + 1500, data + 1500 * RDIM, 300);
	pair_add_range(&pr, data, 1800, 2000);
	for (uint32_t s = 5; s < 2000; s += 10)
		pair_remove(&pr, s);
	for (uint32_t s = 0; s < 1500; s += 10)
		pair_add(&pr, s, data + (size_t)(2000 + s / 10) * RDIM);
	double r = pair_recall(&pr, queries, PQ, K, NULL);
	VERBOSE("loaded and changed (sq8 %d): recall@10 %.4f\n", (int)sq8, r);
	at_least(r, 0.95, "recall@10 of a loaded index after changes");
	pair_close(&pr); /* closes the loaded index: its bytes are still ours */
	free(img);
	free(buf.data);
	free(slots);
	dataset_free(&ds);
}

static void test_hnsw__save_and_load_vtable(void **state)
{
	(void)state;
	save_and_load(BRAIN_METRIC_COSINE, 0, 603);
	save_and_load(BRAIN_METRIC_L2, 1, 604);
	save_and_load(BRAIN_METRIC_IP, 1, 605);
	case_end();
}

/* ---- 8-bit rows (HNSW_ELEMENT) ------------------------------------------ */

/* Clustered integer vectors an elem row holds exactly. */
static float *int_vectors(test_rng *rng, uint32_t dim, size_t n, int64_t elem)
{
	float *v = xmalloc(n * dim * sizeof *v);
	float centre[8][64];
	for (int c = 0; c < 8; c++)
		for (uint32_t i = 0; i < dim; i++)
			centre[c][i] = (float)(40 + (int)(test_rng_next(rng) % 176));
	for (size_t r = 0; r < n; r++) {
		int c = (int)(test_rng_next(rng) % 8);
		for (uint32_t i = 0; i < dim; i++) {
			int x = (int)centre[c][i] + (int)(test_rng_next(rng) % 61) - 30;
			v[r * dim + i] = (float)(elem == BRAIN_ELEM_I8 ? x - 128 : x);
		}
	}
	return v;
}

/* An index of 8-bit rows answers exactly as one of float rows holding the
 * same integers: the 8-bit kernels give the float kernels' bits, so a
 * single-threaded build makes the same graph, and every search the same
 * slots at the same distances, through churn too. */
static void test_hnsw__8bit_rows_search_as_float_rows(void **state)
{
	(void)state;
	static const int64_t elems[] = {BRAIN_ELEM_U8, BRAIN_ELEM_I8};
	static const int metrics[] = {BRAIN_METRIC_L2, BRAIN_METRIC_IP};
	for (size_t e = 0; e < BRAIN_ARRAY_LEN(elems); e++) {
		for (size_t mi = 0; mi < BRAIN_ARRAY_LEN(metrics); mi++) {
			test_rng rng = {1201 + 10 * e + mi};
			uint32_t dim = 48, n = 1200;
			params pf = params_default(), p8 = params_default();
			pf.efc = p8.efc = 60;
			p8.elem = elems[e];
			brain_index *ixf = open_ix(hnsw, dim, metrics[mi], n, &pf);
			brain_index *ix8 = open_ix(hnsw, dim, metrics[mi], n, &p8);
			assert_int_equal(hnsw->reserve(ixf, n), 0);
			assert_int_equal(hnsw->reserve(ix8, n), 0);
			float *data = int_vectors(&rng, dim, n, elems[e]);
			uint32_t *slots = xmalloc(n * sizeof *slots);
			for (uint32_t i = 0; i < n; i++)
				slots[i] = i;
			assert_int_equal(hnsw->add_batch(ixf, slots, data, 900), 0);
			assert_int_equal(hnsw->add_batch(ix8, slots, data, 900), 0);
			for (uint32_t i = 900; i < n; i++) {
				assert_int_equal(hnsw->add(ixf, i, data + (size_t)i * dim), 0);
				assert_int_equal(hnsw->add(ix8, i, data + (size_t)i * dim), 0);
			}
			for (uint32_t i = 0; i < n; i += 9) {
				assert_int_equal(hnsw->remove(ixf, i), 0);
				assert_int_equal(hnsw->remove(ix8, i), 0);
			}
			for (uint32_t i = 0; i < n; i += 27) { /* slots reused */
				assert_int_equal(hnsw->add(ixf, i, data + (size_t)(n - 1 - i) * dim), 0);
				assert_int_equal(hnsw->add(ix8, i, data + (size_t)(n - 1 - i) * dim), 0);
			}
			float got[48];
			assert_int_equal(hnsw->get(ix8, 5, got), 0);
			assert_memory_equal(got, data + 5 * dim, dim * sizeof *got);
			uint32_t a[K], b[K];
			float da[K], db[K];
			for (int qi = 0; qi < 40; qi++) {
				float q[48];
				for (uint32_t i = 0; i < dim; i++) /* float queries */
					q[i] = data[(size_t)(qi * 7) * dim + i] + 0.25f * (float)(qi % 5);
				for (int64_t ef = 1; ef <= 64; ef *= 4) {
					pf.ef = p8.ef = ef;
					size_t fa = 0, fb = 0;
					assert_int_equal(hnsw->search(ixf, q, K, NULL, a, da, &fa), 0);
					assert_int_equal(hnsw->search(ix8, q, K, NULL, b, db, &fb), 0);
					assert_int_equal(fa, fb);
					assert_memory_equal(a, b, fa * sizeof *a);
					assert_memory_equal(da, db, fa * sizeof *da);
				}
			}
			/* the rows take a quarter of the bytes */
			assert_true(hnsw->memory_usage(ix8) < hnsw->memory_usage(ixf));
			/* saved and loaded, the 8-bit index answers alike */
			buffer buf = save_ix(ix8);
			unsigned char *img = aligned_copy(buf.data, buf.len);
			brain_index_config cfg = config_for(dim, metrics[mi], n, &p8);
			brain_index *loaded = NULL;
			assert_int_equal(hnsw->load(&cfg, img, buf.len, &loaded), 0);
			int64_t element = -1;
			assert_true(built_with(loaded, BRAIN_PARAM_HNSW_ELEMENT, &element));
			assert_int_equal(element, elems[e]);
			pf.ef = p8.ef = 16;
			for (int qi = 0; qi < 20; qi++) {
				const float *q = data + (size_t)(qi * 11) * dim;
				size_t fa = 0, fb = 0;
				assert_int_equal(hnsw->search(ixf, q, K, NULL, a, da, &fa), 0);
				assert_int_equal(hnsw->search(loaded, q, K, NULL, b, db, &fb), 0);
				assert_int_equal(fa, fb);
				assert_memory_equal(a, b, fa * sizeof *a);
			}
			hnsw->close(loaded);
			free(img);
			free(buf.data);
			free(slots);
			free(data);
			hnsw->close(ixf);
			hnsw->close(ix8);
		}
	}
}

/* One query against an 8-bit index ix and the exact scan ref of the same
 * rows, without a filter and then with accept_third: each search returns
 * K, nearest first, passing the filter; the share of the scan's neighbours
 * the walk found is added to *hits (each a 1/K), and each one found has
 * the scan's distance bit for bit. Returns the scan's nearest distance
 * without the filter. */
static float compare_with_scan(brain_index *ix, brain_index *ref, const float *q, double *hits)
{
	brain_index_filter third = {accept_third, NULL};
	float nearest = 0;
	for (int filtered = 0; filtered < 2; filtered++) {
		const brain_index_filter *f = filtered ? &third : NULL;
		uint32_t a[K], b[K];
		float da[K], db[K];
		size_t fa = 0, fb = 0;
		assert_int_equal(hnsw->search(ix, q, K, f, a, da, &fa), 0);
		assert_int_equal(flat->search(ref, q, K, f, b, db, &fb), 0);
		assert_int_equal(fa, K);
		assert_int_equal(fb, K);
		if (!filtered)
			nearest = db[0];
		for (size_t x = 0; x < K; x++) {
			if (x)
				assert_true(da[x - 1] <= da[x]);
			if (filtered)
				assert_int_equal(a[x] % 3, 0);
			for (size_t y = 0; y < K; y++) {
				if (a[x] == b[y]) {
					*hits += 1.0 / K;
					assert_memory_equal(&da[x], &db[y], sizeof da[x]);
				}
			}
		}
	}
	return nearest;
}

/* An hnsw index of p->elem rows (it reads p through its config: p must
 * outlive it) and an exact scan of the same rows, both holding the n rows
 * of data: the index the first n - 100 by add_batch, the rest one by
 * one. */
static void index_and_scan(uint32_t dim, int metric, uint32_t n, params *p, const float *data,
                           brain_index **ix, brain_index **ref)
{
	*ix = open_ix(hnsw, dim, metric, n, p);
	brain_index_config cfg = config_for(dim, metric, n, NULL);
	*ref = NULL;
	assert_int_equal(brain__flat_open_ex(&cfg, 0, 64, (brain_elem)p->elem, ref), 0);
	assert_int_equal(hnsw->reserve(*ix, n), 0);
	assert_int_equal(flat->reserve(*ref, n), 0);
	uint32_t *slots = slots_for(n);
	assert_int_equal(hnsw->add_batch(*ix, slots, data, n - 100), 0);
	for (uint32_t i = n - 100; i < n; i++)
		assert_int_equal(hnsw->add(*ix, i, data + (size_t)i * dim), 0);
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(flat->add(*ref, i, data + (size_t)i * dim), 0);
	free(slots);
}

/* uint8 rows under L2 walk with integer sums when the query is integral
 * (and with floats when it is not), filtered or not. Rows of 784 values
 * near 0 or 255, in clusters, make neighbours' sums past 2^24 (a single
 * float could no longer hold every integer there; the float kernel's
 * lanes still do, so both paths give the same distances, and which one
 * ran is a matter of speed, measured in bench_ann --u8): the walk must
 * find what the exact scan finds, and give its distances bit for bit. A
 * wrong code offset or query code loses most of the neighbours here. */
static void test_hnsw__u8_rows_integer_walk_finds_what_a_scan_finds(void **state)
{
	(void)state;
	enum { D = 784, N = 1500, C = 30, Q = 40 };
	test_rng rng = {4242};
	params p = params_default();
	p.elem = BRAIN_ELEM_U8;
	p.efc = 80;
	float *centre = xmalloc((size_t)C * D * sizeof *centre);
	float *data = xmalloc((size_t)N * D * sizeof *data);
	for (size_t i = 0; i < (size_t)C * D; i++)
		centre[i] = (float)(255 * (test_rng_next(&rng) % 2));
	for (size_t r = 0; r < N; r++) /* a centre, a fifth of it flipped, all moved in a bit */
		for (size_t i = 0; i < D; i++) {
			float c = centre[(r % C) * D + i];
			c = test_rng_next(&rng) % 5 ? c : 255 - c;
			float in = (float)(test_rng_next(&rng) % 16);
			data[r * D + i] = c ? c - in : in;
		}
	brain_index *ix, *ref;
	index_and_scan(D, BRAIN_METRIC_L2, N, &p, data, &ix, &ref);
	p.ef = 200;
	double hits = 0;
	size_t past = 0;
	float *q = xmalloc(D * sizeof *q);
	for (int qi = 0; qi < 2 * Q; qi++) {
		const float *near = data + (size_t)(qi * 37 % N) * D;
		for (uint32_t i = 0; i < D; i++) { /* two fifths flipped; integral, then not */
			float v = test_rng_next(&rng) % 5 >= 2 ? near[i] : 255 - near[i];
			q[i] = qi < Q ? v : v + 0.5f * (v < 255);
		}
		past += compare_with_scan(ix, ref, q, &hits) > 16777216.0f;
	}
	assert_true(past > Q); /* even the nearest sums pass 2^24 */
	assert_true(hits / (4 * Q) > 0.98);
	free(q);
	free(data);
	free(centre);
	flat->close(ref);
	hnsw->close(ix);
}

/* Q8 rows walk on int8 dots with the query quantised like a row: at an
 * odd dimension (the scale after padding) and under IP with norms that
 * differ 25-fold (both scales matter), filtered or not, the walk finds
 * what an exact scan of the same Q8 rows finds, at its distances. */
static void test_hnsw__q8_rows_walk_on_codes_finds_what_a_scan_finds(void **state)
{
	(void)state;
	enum { D = 33, N = 2000, Q = 60 };
	params p = params_default();
	p.elem = BRAIN_ELEM_Q8;
	p.efc = 80;
	dataset ds = dataset_make(5150, D, BRAIN_METRIC_IP, false, N, Q);
	for (size_t r = 0; r < N; r++) { /* norms from 0.2 to 5 */
		float scale = 0.2f + 4.8f * (float)(test_rng_next(&ds.rng) % 1000) / 999.0f;
		for (size_t i = 0; i < D; i++)
			ds.data[r * D + i] *= scale;
	}
	brain_index *ix, *ref;
	index_and_scan(D, BRAIN_METRIC_IP, N, &p, ds.data, &ix, &ref);
	p.ef = 16;
	double hits = 0;
	for (size_t qi = 0; qi < Q; qi++)
		compare_with_scan(ix, ref, ds.queries + qi * D, &hits);
	assert_true(hits / (2 * Q) > 0.97);
	dataset_free(&ds);
	flat->close(ref);
	hnsw->close(ix);
}

/* 8-bit rows take only what they hold exactly, a batch all or nothing,
 * and only under L2 or IP and without HNSW_SQ8. */
static void test_hnsw__8bit_rows_refuse_what_they_cannot_hold(void **state)
{
	(void)state;
	params p = params_default();
	p.elem = BRAIN_ELEM_U8;
	brain_index *ix = open_ix(hnsw, 4, BRAIN_METRIC_L2, 100, &p);
	assert_int_equal(hnsw->reserve(ix, 100), 0);
	float ok[4] = {0, 255, 7, 8}, bad[4] = {1, 2, 256, 3}, half[4] = {1, 2.5f, 3, 4};
	assert_int_equal(hnsw->add(ix, 0, ok), 0);
	assert_int_equal(hnsw->add(ix, 1, bad), BRAIN_EINVAL);
	assert_int_equal(hnsw->add(ix, 1, half), BRAIN_EINVAL);
	float rows[3 * 4] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, -1, 12};
	uint32_t slots[3] = {1, 2, 3};
	assert_int_equal(hnsw->add_batch(ix, slots, rows, 3), BRAIN_EINVAL);
	assert_non_null(strstr(brain_errmsg(), "row 2"));
	float got[4];
	for (uint32_t sl = 1; sl <= 3; sl++)
		assert_int_not_equal(hnsw->get(ix, sl, got), BRAIN_OK);
	uint32_t found_slots[4];
	float d[4];
	size_t found = 0;
	assert_int_equal(hnsw->search(ix, ok, 4, NULL, found_slots, d, &found), 0);
	assert_int_equal(found, 1);
	hnsw->close(ix);
	/* cosine, and SQ8 with 8-bit rows: refused at the first reserve */
	ix = open_ix(hnsw, 4, BRAIN_METRIC_COSINE, 100, &p);
	assert_int_equal(hnsw->reserve(ix, 10), BRAIN_EINVAL);
	hnsw->close(ix);
	p.sq8 = 1;
	ix = open_ix(hnsw, 4, BRAIN_METRIC_L2, 100, &p);
	assert_int_equal(hnsw->reserve(ix, 10), BRAIN_EINVAL);
	hnsw->close(ix);
}

/* Quantised rows (HNSW_ELEMENT 3, cosine and IP): the graph finds what an
 * exact scan of the same rows finds (a flat index of Q8 rows, the same
 * kernels: the distances are the same bits), and that is close to what a
 * scan of the floats finds; a vector moved through get and add keeps its
 * row bit for bit (as compaction moves one); the saved index keeps the
 * element; L2 and HNSW_SQ8 are refused. */
static void test_hnsw__q8_rows(void **state)
{
	(void)state;
	static const int metrics[] = {BRAIN_METRIC_COSINE, BRAIN_METRIC_IP};
	for (size_t mi = 0; mi < BRAIN_ARRAY_LEN(metrics); mi++) {
		int metric = metrics[mi];
		dataset ds = dataset_make(1301 + mi, RDIM, metric, true, SQN, SQQ);
		params p = params_default();
		p.elem = BRAIN_ELEM_Q8;
		p.threads = 2;
		brain_index *ix = open_ix(hnsw, RDIM, metric, SQN + 1, &p);
		brain_index_config cfg = config_for(RDIM, metric, SQN + 1, NULL);
		brain_index *q8ref = NULL, *fref = open_ix(flat, RDIM, metric, SQN + 1, NULL);
		assert_int_equal(brain__flat_open_ex(&cfg, 0, 64, BRAIN_ELEM_Q8, &q8ref), 0);
		assert_int_equal(hnsw->reserve(ix, SQN + 1), 0);
		assert_int_equal(flat->reserve(q8ref, SQN + 1), 0);
		assert_int_equal(flat->reserve(fref, SQN + 1), 0);
		uint32_t *slots = slots_for(SQN);
		assert_int_equal(hnsw->add_batch(ix, slots, ds.data, SQN - 200), 0);
		for (uint32_t i = SQN - 200; i < SQN; i++)
			assert_int_equal(hnsw->add(ix, i, ds.data + (size_t)i * RDIM), 0);
		for (uint32_t i = 0; i < SQN; i++) {
			assert_int_equal(flat->add(q8ref, i, ds.data + (size_t)i * RDIM), 0);
			assert_int_equal(flat->add(fref, i, ds.data + (size_t)i * RDIM), 0);
		}
		/* a move: slot 7's row to slot SQN, bit for bit */
		float v[RDIM], w[RDIM];
		assert_int_equal(hnsw->get(ix, 7, v), 0);
		assert_int_equal(hnsw->add(ix, SQN, v), 0);
		assert_int_equal(hnsw->get(ix, SQN, w), 0);
		assert_memory_equal(v, w, sizeof v);
		assert_int_equal(hnsw->remove(ix, SQN), 0);
		p.ef = 64;
		uint32_t a[K], b[K], c[K];
		float da[K], db[K], dc[K];
		double graph = 0, quant = 0;
		for (size_t qi = 0; qi < SQQ; qi++) {
			const float *q = ds.queries + qi * RDIM;
			size_t fa = 0, fb = 0, fc = 0;
			assert_int_equal(hnsw->search(ix, q, K, NULL, a, da, &fa), 0);
			assert_int_equal(flat->search(q8ref, q, K, NULL, b, db, &fb), 0);
			assert_int_equal(flat->search(fref, q, K, NULL, c, dc, &fc), 0);
			assert_int_equal(fa, K);
			assert_int_equal(fb, K);
			for (size_t x = 0; x < K; x++) {
				for (size_t y = 0; y < K; y++) {
					if (a[x] == b[y]) {
						graph += 1.0 / K;
						assert_memory_equal(&da[x], &db[y], sizeof da[x]);
					}
					quant += (b[x] == c[y]) / (double)K;
				}
			}
		}
		graph /= SQQ;
		quant /= SQQ;
		VERBOSE("q8 %-6s recall@10 of the graph against a scan of the rows %.4f; of the scan "
		        "against floats %.4f\n", metric_name(metric), graph, quant);
		at_least(graph, 0.95, "recall@10 of the Q8 graph at ef 64");
		at_least(quant, 0.9, "recall@10 of Q8 rows against float rows");
		/* fewer bytes (a quarter of the vector, rows padded to 64) */
		assert_true(flat->memory_usage(q8ref) < flat->memory_usage(fref));
		/* saved and loaded: the element and the answers */
		buffer buf = save_ix(ix);
		unsigned char *img = aligned_copy(buf.data, buf.len);
		brain_index_config lc = config_for(RDIM, metric, SQN + 1, &p);
		brain_index *loaded = NULL;
		assert_int_equal(hnsw->load(&lc, img, buf.len, &loaded), 0);
		int64_t element = -1;
		assert_true(built_with(loaded, BRAIN_PARAM_HNSW_ELEMENT, &element));
		assert_int_equal(element, BRAIN_ELEM_Q8);
		same_answers(ix, hnsw, loaded, ds.queries, 20, RDIM, K, NULL, true);
		hnsw->close(loaded);
		free(img);
		free(buf.data);
		free(slots);
		hnsw->close(ix);
		flat->close(q8ref);
		flat->close(fref);
		dataset_free(&ds);
	}
	/* L2, and SQ8 with quantised rows: refused at the first reserve */
	params p = params_default();
	p.elem = BRAIN_ELEM_Q8;
	brain_index *ix = open_ix(hnsw, 4, BRAIN_METRIC_L2, 100, &p);
	assert_int_equal(hnsw->reserve(ix, 10), BRAIN_EINVAL);
	assert_non_null(strstr(brain_errmsg(), "cosine or IP"));
	hnsw->close(ix);
	p.sq8 = 1;
	ix = open_ix(hnsw, 4, BRAIN_METRIC_COSINE, 100, &p);
	assert_int_equal(hnsw->reserve(ix, 10), BRAIN_EINVAL);
	hnsw->close(ix);
}

/* Through the API: an 8-bit brain (HNSW_ELEMENT 1) answers as a float
 * brain given the same integers; what its rows cannot hold is refused
 * before it reaches the log, so the brain still opens after a crash; the
 * checkpoint keeps the 8-bit graph and the element, and the log's adds
 * replay into it. */
static void test_hnsw__8bit_brain_through_the_api(void **state)
{
	(void)state;
	size_t n = 1500, nb = 1000;
	test_rng rng = {1301};
	float *data = int_vectors(&rng, PDIM, n, BRAIN_ELEM_U8);
	float *queries = xmalloc(PQ * PDIM * sizeof *queries);
	for (size_t q = 0; q < PQ; q++)
		for (uint32_t i = 0; i < PDIM; i++)
			queries[q * PDIM + i] = data[q * 29 * PDIM + i] + 0.5f;
	uint64_t *ids = ids_for(n);
	memfs *fs8 = NULL, *fsf = NULL;
	brain_t *b8 = open_new_disk(&fs8, BRAIN_INDEX_HNSW);
	brain_t *bf = open_new_disk(&fsf, BRAIN_INDEX_HNSW);
	brain_t *both[2] = {b8, bf};
	for (int i = 0; i < 2; i++) {
		set_param(both[i], BRAIN_PARAM_THREADS, 1);
		set_param(both[i], BRAIN_PARAM_HNSW_EF_CONSTRUCTION, 40);
		set_param(both[i], BRAIN_PARAM_HNSW_EF_SEARCH, 16);
	}
	set_param(b8, BRAIN_PARAM_HNSW_ELEMENT, 1);
	for (int i = 0; i < 2; i++) {
		add_batch(both[i], ids, data, nb);
		assert_int_equal(brain_checkpoint(both[i]), 0);
		for (size_t j = nb; j < n; j++)
			assert_int_equal(brain_add(both[i], ids[j], data + j * PDIM), 0);
	}
	/* refused, and nothing of it kept */
	float bad[PDIM], row[PDIM];
	memcpy(bad, data, sizeof bad);
	bad[3] = 256.0f;
	assert_int_equal(brain_add(b8, id_of(n), bad), BRAIN_EINVAL);
	assert_non_null(strstr(brain_errmsg(), "256"));
	bad[3] = 0.5f;
	assert_int_equal(brain_update_vector(b8, ids[7], bad), BRAIN_EINVAL);
	float *rows = xmalloc(3 * PDIM * sizeof *rows);
	memcpy(rows, data, 3 * PDIM * sizeof *rows);
	rows[2 * PDIM + 1] = -1.0f;
	uint64_t more[3] = {id_of(n), id_of(n + 1), id_of(n + 2)};
	assert_int_equal(brain_add_batch(b8, more, rows, 3), BRAIN_EINVAL);
	for (int i = 0; i < 3; i++)
		assert_int_equal(brain_get_vector(b8, more[i], row), BRAIN_ENOTFOUND);
	assert_int_equal(brain_get_vector(b8, ids[7], row), 0);
	assert_memory_equal(row, data + 7 * PDIM, sizeof row);

	answers *a8 = xmalloc(sizeof *a8), *af = xmalloc(sizeof *af);
	ask(b8, queries, PQ, PDIM, a8);
	ask(bf, queries, PQ, PDIM, af);
	same_asked(a8, af);

	/* a crash: the checkpoint's 8-bit graph, then the log's 500 adds */
	memfs *crashed = memfs_clone(fs8);
	assert_non_null(crashed);
	brain_options o = opts_on(crashed, BRAIN_INDEX_AUTO);
	brain_t *again = open_with("b", &o);
	assert_int_equal(get_param(again, BRAIN_PARAM_HNSW_ELEMENT), 1);
	assert_int_equal(get_param(again, BRAIN_PARAM_HNSW_EXACT_BELOW), 0);
	set_param(again, BRAIN_PARAM_HNSW_EF_SEARCH, 16);
	ask(again, queries, PQ, PDIM, a8);
	same_asked(a8, af);
	assert_int_equal(brain_add(again, id_of(n), bad), BRAIN_EINVAL);
	assert_int_equal(brain_close(again), 0);
	memfs_free(crashed);

	assert_int_equal(brain_close(b8), 0);
	assert_int_equal(brain_close(bf), 0);
	free(a8);
	free(af);
	free(rows);
	free(ids);
	free(queries);
	free(data);
	memfs_free(fs8);
	memfs_free(fsf);
}


/* ---- 7. concurrency ----------------------------------------------------- */

#define CSLOTS 4000
#define CADD 2000
#define CDIM 16

typedef struct conc {
	brain_index *ix;
	const float *data; /* CADD vectors, added at slots 2i */
	const float *queries;
	size_t nq;
	atomic_int done;
	atomic_size_t searches;
	atomic_int bad;      /* a search failed or returned a slot never used */
	atomic_int add_rc;
	char why[256];
} conc;

static void *adder(void *arg)
{
	conc *c = arg;
	for (uint32_t i = 1; i < CADD; i++) {
		int rc = hnsw->add(c->ix, 2 * i, c->data + (size_t)i * CDIM);
		if (rc) {
			atomic_store(&c->add_rc, rc);
			break;
		}
	}
	atomic_store(&c->done, 1);
	return NULL;
}

static void *searcher(void *arg)
{
	conc *c = arg;
	uint32_t slots[K];
	float d[K];
	size_t qi = 0;
	/* at least a few searches after the last add too */
	int after = 0;
	while (after < 20) {
		if (atomic_load(&c->done))
			after++;
		size_t found = 0;
		int rc = hnsw->search(c->ix, c->queries + (qi++ % c->nq) * CDIM, K, NULL, slots, d,
		                      &found);
		atomic_fetch_add(&c->searches, 1);
		bool ok = rc == 0 && found <= K;
		for (size_t i = 0; ok && i < found; i++)
			ok = slots[i] < CSLOTS && slots[i] % 2 == 0 && slots[i] / 2 < CADD &&
			     (i == 0 || !(d[i] < d[i - 1]));
		if (!ok) {
			int expected = 0;
			if (atomic_compare_exchange_strong(&c->bad, &expected, 1))
				snprintf(c->why, sizeof c->why, "rc %d, found %zu, first slot %u", rc, found,
				         found ? slots[0] : 0u);
			break;
		}
	}
	return NULL;
}

static void test_hnsw__searches_alongside_adds(void **state)
{
	(void)state;
	dataset ds = dataset_make(701, CDIM, BRAIN_METRIC_L2, true, CADD, 64);
	const float *data = ds.data, *queries = ds.queries;
	params p = params_default();
	p.efc = 40;
	p.ef = 32;
	pair pr = pair_open(CDIM, BRAIN_METRIC_L2, CSLOTS, &p);
	static conc c;
	memset(&c, 0, sizeof c);
	c.ix = pr.ix;
	c.data = data;
	c.queries = queries;
	c.nq = 64;
	/* The first vector makes the graph: before it, searches are the flat
	 * store's, which (like every backend's) never run alongside changes.
	 * From then on, the design lets them run alongside inserts. */
	assert_int_equal(hnsw->add(pr.ix, 0, data), 0);
	pthread_t add_th, search_th[2];
	assert_int_equal(pthread_create(&search_th[0], NULL, searcher, &c), 0);
	assert_int_equal(pthread_create(&search_th[1], NULL, searcher, &c), 0);
	assert_int_equal(pthread_create(&add_th, NULL, adder, &c), 0);
	pthread_join(add_th, NULL);
	pthread_join(search_th[0], NULL);
	pthread_join(search_th[1], NULL);
	if (atomic_load(&c.add_rc))
		fail_msg("add: %s", brain_error_name(atomic_load(&c.add_rc)));
	if (atomic_load(&c.bad))
		fail_msg("a search alongside adds: %s", c.why);
	VERBOSE("%zu searches alongside %d adds\n", (size_t)atomic_load(&c.searches), CADD);
	/* the graph built with readers around is as good as any */
	for (uint32_t i = 0; i < CADD; i++) {
		assert_int_equal(flat->add(pr.ref, 2 * i, data + (size_t)i * CDIM), 0);
		pr.live[2 * i] = 1;
		pr.count++;
	}
	at_least(pair_recall(&pr, queries, 64, K, NULL), 0.95, "recall@10 after concurrent adds");
	pair_close(&pr);
	dataset_free(&ds);
}

/* Many searches at once on a built graph: each gets what a lone search
 * gets. */
typedef struct par_search {
	const brain_index *ix;
	const float *queries;
	uint32_t slots[32][K];
	float d[32][K];
	size_t found[32];
	int rc;
} par_search;

static void *search_all(void *arg)
{
	par_search *ps = arg;
	for (int round = 0; round < 5; round++)
		for (size_t q = 0; q < 32 && ps->rc == 0; q++)
			ps->rc = hnsw->search(ps->ix, ps->queries + q * CDIM, K, NULL, ps->slots[q],
			                      ps->d[q], &ps->found[q]);
	return NULL;
}

static void test_hnsw__concurrent_searches_agree(void **state)
{
	(void)state;
	dataset ds = dataset_make(702, CDIM, BRAIN_METRIC_COSINE, true, CSLOTS, 32);
	params p = params_default();
	p.threads = 4;
	pair pr = pair_open(CDIM, BRAIN_METRIC_COSINE, CSLOTS, &p);
	uint32_t *slots = slots_for(CSLOTS);
	pair_add_batch(&pr, slots, ds.data, CSLOTS);
	static par_search alone, many[4];
	memset(&alone, 0, sizeof alone);
	alone.ix = pr.ix;
	alone.queries = ds.queries;
	search_all(&alone);
	assert_int_equal(alone.rc, 0);
	pthread_t th[4];
	for (int t = 0; t < 4; t++) {
		memset(&many[t], 0, sizeof many[t]);
		many[t].ix = pr.ix;
		many[t].queries = ds.queries;
		assert_int_equal(pthread_create(&th[t], NULL, search_all, &many[t]), 0);
	}
	for (int t = 0; t < 4; t++) {
		pthread_join(th[t], NULL);
		assert_int_equal(many[t].rc, 0);
		assert_memory_equal(many[t].found, alone.found, sizeof alone.found);
		assert_memory_equal(many[t].slots, alone.slots, sizeof alone.slots);
		assert_memory_equal(many[t].d, alone.d, sizeof alone.d);
	}
	free(slots);
	pair_close(&pr);
	dataset_free(&ds);
}

/* ---- 8. errors ---------------------------------------------------------- */

static void test_hnsw__vtable_describes_hnsw(void **state)
{
	(void)state;
	assert_int_equal(hnsw->version, BRAIN_INDEX_VTABLE_VERSION);
	assert_string_equal(hnsw->name, "hnsw");
	assert_ptr_equal(brain_index_find("hnsw"), hnsw);
	assert_true(hnsw->capabilities & BRAIN_INDEX_CAP_FILTER);
	assert_false(hnsw->capabilities & BRAIN_INDEX_CAP_EXACT);
	assert_non_null(hnsw->save);
	assert_non_null(hnsw->load);
	assert_non_null(hnsw->add_batch);
}

static void test_hnsw__errors(void **state)
{
	(void)state;
	params p = params_default();
	brain_index_config c = config_for(8, BRAIN_METRIC_L2, 1u << 20, &p);
	brain_index *ix = NULL;
	assert_int_equal(hnsw->open(NULL, &ix), BRAIN_ENULL);
	assert_int_equal(hnsw->open(&c, NULL), BRAIN_ENULL);
	c.version = BRAIN_INDEX_VTABLE_VERSION + 1;
	assert_int_equal(hnsw->open(&c, &ix), BRAIN_EVERSION);
	c.version = BRAIN_INDEX_VTABLE_VERSION;
	c.dimensions = 0;
	assert_int_equal(hnsw->open(&c, &ix), BRAIN_EINVAL);
	c.dimensions = 8;
	c.metric = 9;
	assert_int_equal(hnsw->open(&c, &ix), BRAIN_EINVAL);
	assert_null(ix);

	ix = open_ix(hnsw, 8, BRAIN_METRIC_L2, 1u << 20, &p);
	float v[8] = {1, 2, 3, 4, 5, 6, 7, 8}, out[8];
	uint32_t slots[4];
	float d[4];
	size_t found = 99;
	/* nothing reserved yet */
	assert_int_equal(hnsw->search(ix, v, 4, NULL, slots, d, &found), 0);
	assert_int_equal(found, 0);
	assert_int_equal(hnsw->add(ix, 0, v), BRAIN_ERANGE);
	assert_int_not_equal(hnsw->remove(ix, 0), 0);
	assert_int_not_equal(hnsw->get(ix, 0, out), 0);
	/* reserved: slots beyond are refused */
	assert_int_equal(hnsw->reserve(ix, 10), 0);
	assert_int_equal(hnsw->add(ix, 500000, v), BRAIN_ERANGE);
	assert_int_not_equal(hnsw->add(ix, 1u << 20, v), 0); /* max_slots */
	assert_int_equal(hnsw->add(ix, UINT32_MAX, v), BRAIN_ERANGE);
	uint32_t batch[3] = {1, 2, 999999};
	float rows[24] = {0};
	assert_int_equal(hnsw->add_batch(ix, batch, rows, 3), BRAIN_ERANGE);
	/* none of the batch stayed */
	assert_int_equal(hnsw->search(ix, v, 4, NULL, slots, d, &found), 0);
	assert_int_equal(found, 0);
	assert_int_not_equal(hnsw->get(ix, 1, out), 0);
	/* free slots */
	assert_int_not_equal(hnsw->remove(ix, 3), 0);
	assert_int_not_equal(hnsw->get(ix, 3, out), 0);
	assert_int_equal(hnsw->add(ix, 3, v), 0);
	assert_int_not_equal(hnsw->add(ix, 3, v), 0); /* occupied */
	assert_int_equal(hnsw->get(ix, 3, out), 0);
	assert_memory_equal(out, v, sizeof v);
	assert_int_equal(hnsw->remove(ix, 3), 0);
	assert_int_not_equal(hnsw->remove(ix, 3), 0);
	assert_int_not_equal(hnsw->get(ix, 3, out), 0);
	/* after all that: one vector, found */
	assert_int_equal(hnsw->add(ix, 4, v), 0);
	assert_int_equal(hnsw->search(ix, v, 4, NULL, slots, d, &found), 0);
	assert_int_equal(found, 1);
	assert_int_equal(slots[0], 4);
	assert_true(d[0] == 0.0f);
	/* k = 0 finds nothing, writes nothing */
	found = 99;
	assert_int_equal(hnsw->search(ix, v, 0, NULL, NULL, NULL, &found), 0);
	assert_int_equal(found, 0);
	assert_true(hnsw->memory_usage(ix) > 0);
	hnsw->close(ix);
	hnsw->close(NULL);
}

/* A batch that cannot be stored whole stores nothing and leaves what was
 * there alone: a slot named twice, or one already occupied (both outside
 * the contract, which the brain never breaks, but cheap to get right). */
static void test_hnsw__failed_batch_changes_nothing(void **state)
{
	(void)state;
	for (int graph = 0; graph < 2; graph++) {
		params p = params_default();
		p.exact_below = graph ? 0 : 1000;
		brain_index *ix = open_ix(hnsw, 4, BRAIN_METRIC_L2, 100, &p);
		assert_int_equal(hnsw->reserve(ix, 100), 0);
		float v[4] = {1, 2, 3, 4}, out[4];
		float rows[12] = {5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7};
		assert_int_equal(hnsw->add(ix, 5, v), 0);
		uint32_t twice[3] = {7, 8, 7};
		assert_int_not_equal(hnsw->add_batch(ix, twice, rows, 3), 0);
		uint32_t occupied[3] = {6, 5, 9};
		assert_int_not_equal(hnsw->add_batch(ix, occupied, rows, 3), 0);
		/* slot 5 still holds its vector; none of the batches stayed */
		int rc = hnsw->get(ix, 5, out);
		if (rc)
			fail_msg("graph %d: a failed batch naming occupied slot 5 removed its vector: %s",
			         graph, brain_error_name(rc));
		assert_memory_equal(out, v, sizeof v);
		static const uint32_t never[] = {6, 7, 8, 9};
		for (size_t i = 0; i < BRAIN_ARRAY_LEN(never); i++)
			assert_int_not_equal(hnsw->get(ix, never[i], out), 0);
		uint32_t hit[4];
		float d[4];
		size_t found = 0;
		assert_int_equal(hnsw->search(ix, v, 4, NULL, hit, d, &found), 0);
		assert_int_equal(found, 1);
		assert_int_equal(hit[0], 5);
		hnsw->close(ix);
	}
}

/* k beyond the count, in the graph: every vector, nearest first. */
static void test_hnsw__k_beyond_count(void **state)
{
	(void)state;
	dataset ds = dataset_shaped(801, 8, 3, 0.5f, BRAIN_METRIC_L2, true, 60, 0);
	const float *data = ds.data;
	params p = params_default();
	pair pr = pair_open(8, BRAIN_METRIC_L2, 100, &p);
	for (uint32_t s = 0; s < 60; s++)
		pair_add(&pr, s * 3 / 2, data + (size_t)s * 8);
	uint32_t slots[100];
	float d[100];
	size_t found = 0;
	assert_int_equal(hnsw->search(pr.ix, data, 100, NULL, slots, d, &found), 0);
	assert_int_equal(found, 60);
	check_answer(&pr, data, slots, d, found, NULL);
	/* a k far beyond (the arrays need room for the count only) */
	found = 0;
	int rc = hnsw->search(pr.ix, data, (size_t)1 << 40, NULL, slots, d, &found);
	if (rc)
		fail_msg("search with k = 2^40 over 60 vectors: %s: %s", brain_error_name(rc),
		         brain_errmsg());
	assert_int_equal(found, 60);
	check_answer(&pr, data, slots, d, found, NULL);
	pair_close(&pr);
	dataset_free(&ds);
}

/* Damaged saved bytes: load refuses them (BRAIN_ECORRUPT, or
 * BRAIN_EVERSION for a version word raised past 2) or, for
 * damage it cannot see (the brain checks checksums before use), accepts
 * them; it never reads outside them. */
static void test_hnsw__load_rejects_garbage(void **state)
{
	(void)state;
	test_rng rng = {802};
	params p = params_default();
	brain_index_config cfg = config_for(RDIM, BRAIN_METRIC_L2, 1000, &p);
	/* random bytes of every interesting length */
	static const size_t lens[] = {0,    1,    8,    63,   64,   65,    100,   4095,
	                              4096, 4097, 8191, 8192, 12300, 65536, 100000};
	for (size_t i = 0; i < BRAIN_ARRAY_LEN(lens); i++) {
		for (int rep = 0; rep < 4; rep++) {
			unsigned char *raw = xmalloc(lens[i] + 1);
			for (size_t j = 0; j < lens[i]; j++)
				raw[j] = (unsigned char)test_rng_next(&rng);
			unsigned char *img = aligned_copy(raw, lens[i]);
			brain_index *ix = (brain_index *)(uintptr_t)1;
			int rc = hnsw->load(&cfg, img, lens[i], &ix);
			assert_int_equal(rc, BRAIN_ECORRUPT);
			assert_null(ix);
			free(img);
			free(raw);
		}
	}
	/* a real image, damaged: truncated anywhere, or bytes changed */
	dataset ds = dataset_shaped(803, RDIM, 5, 0.5f, BRAIN_METRIC_L2, true, 300, 0);
	brain_index *ix = open_ix(hnsw, RDIM, BRAIN_METRIC_L2, 1000, &p);
	assert_int_equal(hnsw->reserve(ix, 300), 0);
	for (uint32_t s = 0; s < 300; s++)
		assert_int_equal(hnsw->add(ix, s, ds.data + (size_t)s * RDIM), 0);
	buffer buf = save_ix(ix);
	hnsw->close(ix);
	size_t cuts = 0, loaded = 0;
	for (size_t len = 0; len < buf.len; len += 1 + len / 16, cuts++) {
		unsigned char *img = aligned_copy(buf.data, len);
		brain_index *out = NULL;
		int rc = hnsw->load(&cfg, img, len, &out);
		assert_true(rc == BRAIN_ECORRUPT || rc == BRAIN_OK);
		loaded += rc == BRAIN_OK;
		hnsw->close(out);
		free(img);
	}
	/* changed bytes: the header's fields one at a time, then anywhere */
	for (int rep = 0; rep < 400; rep++) {
		unsigned char *img = aligned_copy(buf.data, buf.len);
		size_t at = rep < 256 ? (size_t)rep % 64 : (size_t)(test_rng_next(&rng) % buf.len);
		img[at] ^= (unsigned char)(1u << (test_rng_next(&rng) % 8));
		if (rep % 3 == 0) /* a whole word */
			memset(img + (at & ~(size_t)3), 0xff, 4);
		brain_index *out = NULL;
		int rc = hnsw->load(&cfg, img, buf.len, &out);
		/* a version word raised by the damage reads as a newer format */
		assert_true(rc == BRAIN_ECORRUPT || rc == BRAIN_OK ||
		            (rc == BRAIN_EVERSION && at >= 4 && at < 8));
		hnsw->close(out);
		free(img);
	}
	VERBOSE("load: %zu truncations, %zu of them accepted\n", cuts, loaded);
	free(buf.data);
	dataset_free(&ds);
}

/* Under BRAINCORE_HNSW_VERBOSE, how long each test took; and the case a
 * test stopped in, if it failed in one. */
static struct timespec g_started;

static int timer_start(void **state)
{
	(void)state;
	case_end();
	clock_gettime(CLOCK_MONOTONIC, &g_started);
	return 0;
}

static int timer_stop(void **state)
{
	(void)state;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	VERBOSE("  %.3f s\n", (double)(now.tv_sec - g_started.tv_sec) +
	                          (double)(now.tv_nsec - g_started.tv_nsec) / 1e9);
	if (g_case[0])
		print_message("  stopped in the case %s\n", g_case);
	return 0;
}

#define TEST(f) cmocka_unit_test_setup_teardown(f, timer_start, timer_stop)

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	const char *v = getenv("BRAINCORE_HNSW_VERBOSE");
	g_verbose = v && *v && strcmp(v, "0") != 0;
	const struct CMUnitTest tests[] = {
		TEST(test_hnsw__vtable_describes_hnsw),
		TEST(test_hnsw__errors),
		TEST(test_hnsw__failed_batch_changes_nothing),
		TEST(test_hnsw__k_beyond_count),
		TEST(test_hnsw__recall_vtable),
		TEST(test_hnsw__add_batch_rows_builds_what_add_batch_builds),
		TEST(test_hnsw__recall_vtable_sq8),
		TEST(test_hnsw__sq8_range_outgrows_the_first_vector),
		TEST(test_hnsw__exact_below_matches_flat),
		TEST(test_hnsw__thalamus_plans_auto),
		TEST(test_hnsw__recall_api),
		TEST(test_hnsw__batch_build_reaches_every_node),
		TEST(test_hnsw__batches_into_an_existing_graph),
		TEST(test_hnsw__deletion_and_churn_vtable),
		TEST(test_hnsw__delete_everything_then_add),
		TEST(test_hnsw__heavy_deletion_keeps_the_rest_findable),
		TEST(test_hnsw__forgetting_most_keeps_the_rest_findable),
		TEST(test_hnsw__deletion_and_churn_api),
		TEST(test_hnsw__update_vector_api),
		TEST(test_hnsw__filters_api),
		TEST(test_hnsw__search_ids_api),
		TEST(test_hnsw__filters_vtable),
		TEST(test_hnsw__single_threaded_builds_are_deterministic),
		TEST(test_hnsw__persistence_on_disk),
		TEST(test_hnsw__auto_crosses_the_threshold),
		TEST(test_hnsw__reopen_takes_back_the_graph_parameters),
		TEST(test_hnsw__8bit_rows_search_as_float_rows),
		TEST(test_hnsw__u8_rows_integer_walk_finds_what_a_scan_finds),
		TEST(test_hnsw__q8_rows_walk_on_codes_finds_what_a_scan_finds),
		TEST(test_hnsw__q8_rows),
		TEST(test_hnsw__8bit_rows_refuse_what_they_cannot_hold),
		TEST(test_hnsw__8bit_brain_through_the_api),
		TEST(test_hnsw__save_and_load_vtable),
		TEST(test_hnsw__frozen_flush_keeps_the_freeze),
		TEST(test_hnsw__shrink_beside_a_frozen_flush),
		TEST(test_hnsw__concurrent_searches_agree),
		TEST(test_hnsw__load_rejects_garbage),
		/* last: under TSan (halt_on_error) a race report ends the run */
		TEST(test_hnsw__searches_alongside_adds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
