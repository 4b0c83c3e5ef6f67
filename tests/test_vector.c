/*
 * tests/test_vector.c - the vector API against a brute-force reference in
 * double precision, for every metric, plus all-or-nothing batches and bad
 * input.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "braincore.h"
#include "braincore/sys/index.h"
#include "test_util.h"

#define DIMS 37 /* odd on purpose: SIMD tails */
#define N 1500

/* A vector brain (no embedder) on a backend (NULL: the default). */
static brain_t *open_on(int metric, uint32_t dims, const char *index_name)
{
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.dimensions = dims;
	o.metric = metric;
	o.embedder = BRAIN_EMBEDDER_NONE;
	o.index_name = index_name;
	brain_t *b = NULL;
	assert_int_equal(brain_open(NULL, &o, &b), 0);
	return b;
}

static brain_t *open_metric(int metric, uint32_t dims)
{
	return open_on(metric, dims, NULL);
}

/* Register `vt`, a variant of the flat backend (once per process). */
static void register_variant(const brain_index_vtable *vt)
{
	int rc = brain_index_register(vt);
	assert_true(rc == 0 || rc == BRAIN_EEXISTS);
}

static double ref_distance(int metric, const float *a, const float *b, size_t d)
{
	double s = 0, na = 0, nb = 0;
	for (size_t i = 0; i < d; i++) {
		if (metric == BRAIN_METRIC_L2)
			s += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
		else
			s += (double)a[i] * b[i];
		na += (double)a[i] * a[i];
		nb += (double)b[i] * b[i];
	}
	if (metric == BRAIN_METRIC_L2)
		return s;
	if (metric == BRAIN_METRIC_COSINE)
		return 1.0 - s / (sqrt(na) * sqrt(nb));
	return 1.0 - s;
}

typedef struct cand {
	double d;
	uint64_t id;
} cand;

static int by_d(const void *pa, const void *pb)
{
	const cand *a = pa, *b = pb;
	if (a->d != b->d)
		return a->d < b->d ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

static void check_metric(int metric)
{
	test_rng rng = {1000 + (uint64_t)metric};
	brain_t *b = open_metric(metric, DIMS);
	float *data = malloc(sizeof(float) * N * DIMS);
	uint64_t *ids = malloc(sizeof(uint64_t) * N);
	bool *alive = malloc(N);
	for (size_t i = 0; i < N; i++) {
		for (size_t j = 0; j < DIMS; j++)
			data[i * DIMS + j] = test_rng_float(&rng, -1, 1);
		ids[i] = 10 * i + 3; /* sparse ids */
		alive[i] = true;
	}
	assert_int_equal(brain_add_batch(b, ids, data, N / 2), 0);
	for (size_t i = N / 2; i < N; i++)
		assert_int_equal(brain_add(b, ids[i], data + i * DIMS), 0);
	for (size_t i = 0; i < N; i += 7) { /* churn: forget some, re-add a few */
		assert_int_equal(brain_forget(b, ids[i]), 0);
		alive[i] = false;
	}
	for (size_t i = 0; i < N; i += 21) {
		assert_int_equal(brain_add(b, ids[i], data + i * DIMS), 0);
		alive[i] = true;
	}
	size_t live = 0;
	for (size_t i = 0; i < N; i++)
		live += alive[i];
	assert_int_equal(brain_count(b), live);

	cand *ref = malloc(sizeof(cand) * N);
	uint64_t got[50];
	float dist[50];
	for (int q = 0; q < 40; q++) {
		float query[DIMS];
		for (size_t j = 0; j < DIMS; j++)
			query[j] = test_rng_float(&rng, -1, 1);
		size_t k = 1 + test_rng_next(&rng) % 50, found = 0, m = 0;
		assert_int_equal(brain_search(b, query, k, got, dist, &found), 0);
		for (size_t i = 0; i < N; i++)
			if (alive[i])
				ref[m++] = (cand){ref_distance(metric, query, data + i * DIMS, DIMS), ids[i]};
		qsort(ref, m, sizeof *ref, by_d);
		assert_int_equal(found, TEST_MIN(k, m));
		for (size_t i = 0; i < found; i++) {
			double tol = 1e-4 * (1.0 + fabs(ref[i].d));
			assert_true(fabs(dist[i] - ref[i].d) <= tol);
			/* the same id, unless two reference distances are closer than
			 * float precision can tell apart */
			if (got[i] != ref[i].id) {
				bool near_tie = (i > 0 && fabs(ref[i].d - ref[i - 1].d) <= tol) ||
				                (i + 1 < m && fabs(ref[i].d - ref[i + 1].d) <= tol);
				assert_true(near_tie);
			}
			if (i)
				assert_true(dist[i - 1] <= dist[i]);
		}
	}
	free(ref);
	free(alive);
	free(ids);
	free(data);
	brain_close(b);
}

static void test_vector__l2_matches_reference(void **state)
{
	(void)state;
	check_metric(BRAIN_METRIC_L2);
}

static void test_vector__cosine_matches_reference(void **state)
{
	(void)state;
	check_metric(BRAIN_METRIC_COSINE);
}

static void test_vector__ip_matches_reference(void **state)
{
	(void)state;
	check_metric(BRAIN_METRIC_IP);
}

static void test_vector__ties_go_to_smaller_id(void **state)
{
	(void)state;
	brain_t *b = open_metric(BRAIN_METRIC_L2, 2);
	const float v[2] = {1, 1}, far[2] = {5, 5};
	/* added in descending id order so slot order differs from id order */
	for (uint64_t id = 20; id >= 11; id--)
		assert_int_equal(brain_add(b, id, v), 0);
	assert_int_equal(brain_add(b, 5, far), 0);
	uint64_t ids[3];
	size_t found;
	assert_int_equal(brain_search(b, v, 3, ids, NULL, &found), 0);
	assert_int_equal(found, 3);
	assert_int_equal(ids[0], 11);
	assert_int_equal(ids[1], 12);
	assert_int_equal(ids[2], 13);
	brain_close(b);
}

static void test_vector__batch_is_all_or_nothing(void **state)
{
	(void)state;
	brain_t *b = open_metric(BRAIN_METRIC_COSINE, 3);
	float rows[4 * 3] = {1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1};
	uint64_t ids[4] = {1, 2, 3, 4};
	rows[2 * 3 + 1] = NAN; /* row 2 is bad */
	assert_int_equal(brain_add_batch(b, ids, rows, 4), BRAIN_ENONFINITE);
	assert_non_null(strstr(brain_errmsg(), "row 2"));
	assert_int_equal(brain_count(b), 0);
	rows[2 * 3 + 1] = 0;
	rows[3 * 3 + 0] = rows[3 * 3 + 1] = rows[3 * 3 + 2] = 0; /* zero under cosine */
	assert_int_equal(brain_add_batch(b, ids, rows, 4), BRAIN_EZEROVEC);
	assert_int_equal(brain_count(b), 0);
	rows[3 * 3 + 0] = 1;
	ids[3] = 2; /* duplicate within the batch */
	assert_int_equal(brain_add_batch(b, ids, rows, 4), BRAIN_EEXISTS);
	assert_non_null(strstr(brain_errmsg(), "row 3"));
	assert_int_equal(brain_count(b), 0);
	ids[3] = BRAIN_ID_NONE;
	assert_int_equal(brain_add_batch(b, ids, rows, 4), BRAIN_EINVAL);
	ids[3] = 4;
	assert_int_equal(brain_add_batch(b, ids, rows, 4), 0);
	assert_int_equal(brain_count(b), 4);
	assert_int_equal(brain_add_batch(b, ids + 1, rows, 1), BRAIN_EEXISTS); /* id 2 exists */
	assert_int_equal(brain_count(b), 4);
	assert_int_equal(brain_add_batch(b, NULL, NULL, 0), 0);
	assert_int_equal(brain_add_batch(b, NULL, rows, 1), BRAIN_ENULL);
	assert_int_equal(brain_add_batch(NULL, ids, rows, 1), BRAIN_ENULL);

	/* stored unit length under cosine */
	float v[3];
	assert_int_equal(brain_get_vector(b, 4, v), 0);
	assert_true(fabsf(v[0] * v[0] + v[1] * v[1] + v[2] * v[2] - 1.0f) < 1e-5f);
	assert_int_equal(brain_get_vector(b, 77, v), BRAIN_ENOTFOUND);
	assert_int_equal(brain_get_vector(b, 4, NULL), BRAIN_ENULL);
	brain_close(b);
}

static void test_vector__bad_inputs(void **state)
{
	(void)state;
	brain_t *b = open_metric(BRAIN_METRIC_COSINE, 3);
	const float ok[3] = {1, 2, 3}, inf[3] = {1, INFINITY, 3}, zero[3] = {0, 0, 0};
	uint64_t ids[2];
	float d[2];
	size_t found = 7;
	assert_int_equal(brain_add(NULL, 1, ok), BRAIN_ENULL);
	assert_int_equal(brain_add(b, 1, NULL), BRAIN_ENULL);
	assert_int_equal(brain_add(b, BRAIN_ID_NONE, ok), BRAIN_EINVAL);
	assert_int_equal(brain_add(b, 1, inf), BRAIN_ENONFINITE);
	assert_non_null(strstr(brain_errmsg(), "1"));
	assert_int_equal(brain_add(b, 1, zero), BRAIN_EZEROVEC);
	assert_int_equal(brain_add(b, 0, ok), 0); /* 0 is a valid id */
	assert_int_equal(brain_add(b, 0, ok), BRAIN_EEXISTS);
	assert_int_equal(brain_search(b, ok, 0, ids, d, &found), BRAIN_ERANGE);
	assert_int_equal(found, 0);
	assert_int_equal(brain_search(b, NULL, 1, ids, d, &found), BRAIN_ENULL);
	assert_int_equal(brain_search(b, ok, 1, NULL, d, &found), BRAIN_ENULL);
	assert_int_equal(brain_search(b, ok, 1, ids, d, NULL), BRAIN_ENULL);
	assert_int_equal(brain_search(b, inf, 1, ids, d, &found), BRAIN_ENONFINITE);
	assert_int_equal(brain_search(b, zero, 1, ids, d, &found), BRAIN_EZEROVEC);
	assert_int_equal(brain_search(b, ok, 2, ids, NULL, &found), 0); /* distances optional */
	assert_int_equal(found, 1);
	assert_int_equal(ids[0], 0);
	/* k far beyond the count: found = count, no huge allocation */
	uint64_t many[4];
	assert_int_equal(brain_search(b, ok, SIZE_MAX / 2, many, NULL, &found), 0);
	assert_int_equal(found, 1);
	brain_close(b);
}

static void test_vector__text_memories_are_searchable(void **state)
{
	(void)state;
	brain_t *b = brain_create();
	brain_id id;
	assert_int_equal(brain_remember_ex(b, "Vectors and text share one index.", NULL, 0.5f, &id),
	                 0);
	float v[384];
	assert_int_equal(brain_get_vector(b, id, v), 0);
	uint64_t ids[2];
	float d[2];
	size_t found;
	assert_int_equal(brain_search(b, v, 1, ids, d, &found), 0);
	assert_int_equal(found, 1);
	assert_int_equal(ids[0], id);
	assert_true(fabsf(d[0]) < 1e-5f);
	/* a vector without text is found by search but not by text recall */
	v[0] += 0.5f;
	assert_int_equal(brain_add(b, 1000, v), 0);
	char **r = brain_recall(b, "Vectors and text share one index.", 5);
	assert_non_null(r);
	assert_non_null(r[0]);
	assert_null(r[1]);
	free(r);
	assert_int_equal(brain_search(b, v, 2, ids, d, &found), 0);
	assert_int_equal(found, 2);
	assert_int_equal(ids[0], 1000);
	assert_int_equal(ids[1], id);
	/* remember after an explicit large id continues above it */
	brain_id next;
	assert_int_equal(brain_remember_ex(b, "Next id follows the largest.", NULL, 0.5f, &next), 0);
	assert_int_equal(next, 1001);
	brain_destroy(b);
}

/* A backend that is the flat one, counting searches: the brain's plan
 * should scan once per query when nothing ties at the k-th place. */
static int g_searches;
static brain_index_vtable g_counting[2]; /* version 4, version 3 */

static int counting_search(const brain_index *ix, const float *q, size_t k,
                           const brain_index_filter *filter, uint32_t *slots, float *dist,
                           size_t *found)
{
	g_searches++;
	return brain_index_find("flat")->search(ix, q, k, filter, slots, dist, found);
}

static int g_planned;
static int counting_planned(const brain_index *ix, const brain_index_search *plan,
                            uint32_t *slots, float *dist, size_t *found)
{
	g_planned++;
	assert_true(plan->exact); /* an exact backend's searches are planned as scans */
	return brain_index_find("flat")->search_planned(ix, plan, slots, dist, found);
}

/* One scan per search, through search_planned (version 4) or, for a
 * backend of version 3, through search. */
static void one_scan_per_search(unsigned version)
{
	brain_index_vtable *vt = &g_counting[version == 3];
	*vt = *brain_index_find("flat");
	vt->version = version;
	vt->name = version == 3 ? "counting-flat-v3" : "counting-flat";
	vt->search = counting_search;
	vt->search_planned = counting_planned;
	register_variant(vt);
	brain_t *b = open_on(BRAIN_METRIC_L2, 8, vt->name);
	test_rng rng = {5};
	for (uint64_t id = 0; id < 200; id++) {
		float v[8];
		for (int d = 0; d < 8; d++)
			v[d] = test_rng_float(&rng, -1, 1);
		assert_int_equal(brain_add(b, id, v), 0);
	}
	uint64_t ids[10];
	size_t found;
	float q[8] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f};
	g_searches = 0;
	g_planned = 0;
	for (int i = 0; i < 20; i++) {
		q[i % 8] += 0.05f;
		assert_int_equal(brain_search(b, q, 10, ids, NULL, &found), 0);
		assert_int_equal(found, 10);
	}
	assert_int_equal(version == 3 ? g_searches : g_planned, 20);
	assert_int_equal(version == 3 ? g_planned : g_searches, 0);
	brain_close(b);
}

static void test_vector__one_scan_per_search(void **state)
{
	(void)state;
	one_scan_per_search(BRAIN_INDEX_VTABLE_VERSION);
	one_scan_per_search(3);
}

/* Checkpoints of an on-disk brain whose backend is of an older vtable
 * version, or of version 6 without freeze (its index is written whole
 * while writers wait): they succeed, and the brain reopens whole. */
static void test_vector__older_backends_checkpoint(void **state)
{
	(void)state;
	static brain_index_vtable vts[4];
	static const unsigned versions[4] = {3, 4, 5, 6};
	static const char *const names[4] = {"flat-v3", "flat-v4", "flat-v5", "flat-v6-nofreeze"};
	for (int k = 0; k < 4; k++) {
		vts[k] = *brain_index_find("flat");
		vts[k].version = versions[k];
		vts[k].name = names[k];
		if (versions[k] < 4) {
			vts[k].flush = NULL;
			vts[k].open_files = NULL;
			vts[k].retire = NULL;
		}
		vts[k].freeze = NULL;
		vts[k].flush_frozen = NULL;
		vts[k].thaw = NULL;
		register_variant(&vts[k]);
		char root[] = "/tmp/braincore-vector-XXXXXX";
		assert_non_null(mkdtemp(root));
		char path[64];
		snprintf(path, sizeof path, "%s/b", root);
		brain_options o;
		brain_options_init(&o, BRAIN_OPTIONS_VERSION);
		o.dimensions = 8;
		o.metric = BRAIN_METRIC_L2;
		o.embedder = BRAIN_EMBEDDER_NONE;
		o.index_name = names[k];
		o.background = BRAIN_BACKGROUND_MANUAL;
		brain_t *b = NULL;
		assert_int_equal(brain_open(path, &o, &b), 0);
		test_rng rng = {11};
		float v[8];
		for (uint64_t id = 1; id <= 600; id++) {
			for (int d = 0; d < 8; d++)
				v[d] = test_rng_float(&rng, -1, 1);
			assert_int_equal(brain_add(b, id, v), 0);
			if (id == 300)
				assert_int_equal(brain_checkpoint(b), 0);
		}
		assert_int_equal(brain_checkpoint(b), 0);
		assert_int_equal(brain_close(b), 0);
		assert_int_equal(brain_open(path, &o, &b), 0);
		assert_int_equal(brain_count(b), 600);
		uint64_t id = 0;
		float dist = 1;
		size_t n = 0;
		assert_int_equal(brain_search(b, v, 1, &id, &dist, &n), 0);
		assert_int_equal(id, 600);
		assert_true(dist == 0.0f);
		assert_int_equal(brain_close(b), 0);
		assert_int_equal(test_remove_tree(root), 0);
	}
}

/* A text brain (the built-in embedder, its first memory a text) keeps its
 * vectors in 8 bits (HNSW_ELEMENT -1 resolves to 3): its index takes far
 * fewer bytes than one that keeps floats, recalls the same memories, and
 * a reopened brain reports the element its index holds. A vector brain
 * (no embedder, or the default options with a vector first), a text brain
 * under L2 or with HNSW_SQ8 keep floats; setting the parameter before the
 * first memory chooses. */
static brain_t *text_brain(const char *path, int metric, int64_t element)
{
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.metric = metric;
	o.background = BRAIN_BACKGROUND_MANUAL;
	brain_t *b = NULL;
	assert_int_equal(brain_open(path, &o, &b), 0);
	if (element != -1)
		assert_int_equal(brain_set_param(b, BRAIN_PARAM_HNSW_ELEMENT, element), 0);
	return b;
}

static int64_t param_of(const brain_t *b, int param)
{
	int64_t v = -99;
	assert_int_equal(brain_get_param(b, param, &v), 0);
	return v;
}

static uint64_t index_heap(brain_t *b)
{
	brain_stats st;
	brain_stats_init(&st, BRAIN_STATS_VERSION);
	assert_int_equal(brain_get_stats(b, &st), 0);
	return st.heap_index_bytes;
}

static void test_vector__text_brains_keep_8_bit_rows(void **state)
{
	(void)state;
	char root[] = "/tmp/braincore-vector-XXXXXX";
	assert_non_null(mkdtemp(root));
	char pq[64], pf[64];
	snprintf(pq, sizeof pq, "%s/q8", root);
	snprintf(pf, sizeof pf, "%s/f32", root);
	int64_t def = 0;
	assert_int_equal(brain_param_bounds(BRAIN_PARAM_HNSW_ELEMENT, NULL, NULL, &def), 0);
	assert_int_equal(def, -1);
	brain_t *q8 = text_brain(pq, BRAIN_METRIC_COSINE, -1);
	brain_t *f32 = text_brain(pf, BRAIN_METRIC_COSINE, 0);
	/* both searched exactly (no graph, which is built on threads and
	 * approximate): what differs is the rows alone */
	assert_int_equal(brain_set_param(q8, BRAIN_PARAM_HNSW_EXACT_BELOW, 100000), 0);
	assert_int_equal(brain_set_param(f32, BRAIN_PARAM_HNSW_EXACT_BELOW, 100000), 0);
	assert_int_equal(param_of(q8, BRAIN_PARAM_HNSW_ELEMENT), -1);
	char text[160];
	for (int i = 0; i < 3000; i++) {
		snprintf(text, sizeof text, "note %d: the %s of parcel %d is kept on shelf %d",
		         i, i % 3 ? "weight" : "colour", i * 7, i % 41);
		assert_int_equal(brain_remember(q8, text, 0.5f), 0);
		assert_int_equal(brain_remember(f32, text, 0.5f), 0);
	}
	assert_int_equal(brain_tick(q8), 0);
	assert_int_equal(brain_tick(f32), 0);
	/* the vectors take a quarter of the bytes: the index less than half */
	uint64_t bq = index_heap(q8), bf = index_heap(f32);
	assert_true(bq * 2 < bf);
	/* the same memory comes first */
	int asked = 0, same = 0;
	for (int i = 0; i < 3000; i += 97) {
		snprintf(text, sizeof text, "where is parcel %d kept, shelf %d?", i * 7, i % 41);
		brain_id a[1], b[1];
		size_t na = 0, nb = 0;
		assert_int_equal(brain_recall_ids(q8, text, 1, a, NULL, &na), 0);
		assert_int_equal(brain_recall_ids(f32, text, 1, b, NULL, &nb), 0);
		assert_int_equal(na, 1);
		assert_int_equal(nb, 1);
		asked++;
		same += a[0] == b[0];
	}
	print_message("8-bit and float rows put the same memory first for %d of %d questions\n", same,
	              asked);
	assert_int_equal(same, asked);
	assert_int_equal(brain_close(q8), 0);
	assert_int_equal(brain_close(f32), 0);
	q8 = text_brain(pq, BRAIN_METRIC_COSINE, -1);
	f32 = text_brain(pf, BRAIN_METRIC_COSINE, -1);
	assert_int_equal(param_of(q8, BRAIN_PARAM_HNSW_ELEMENT), 3);
	assert_int_equal(param_of(f32, BRAIN_PARAM_HNSW_ELEMENT), 0);
	assert_int_equal(brain_count(q8), 3000);
	assert_int_equal(brain_close(q8), 0);
	assert_int_equal(brain_close(f32), 0);
	/* a text brain under L2, and a vector brain: floats */
	snprintf(pq, sizeof pq, "%s/l2", root);
	brain_t *l2 = text_brain(pq, BRAIN_METRIC_L2, -1);
	assert_int_equal(brain_remember(l2, "a text under L2", 0.5f), 0);
	assert_int_equal(brain_close(l2), 0);
	l2 = text_brain(pq, BRAIN_METRIC_L2, -1);
	assert_int_equal(param_of(l2, BRAIN_PARAM_HNSW_ELEMENT), 0);
	assert_int_equal(brain_close(l2), 0);
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.dimensions = 8;
	o.embedder = BRAIN_EMBEDDER_NONE;
	snprintf(pq, sizeof pq, "%s/vec", root);
	brain_t *v = NULL;
	assert_int_equal(brain_open(pq, &o, &v), 0);
	float x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, y[8];
	assert_int_equal(brain_add(v, 1, x), 0);
	assert_int_equal(brain_close(v), 0);
	assert_int_equal(brain_open(pq, &o, &v), 0);
	assert_int_equal(param_of(v, BRAIN_PARAM_HNSW_ELEMENT), 0);
	assert_int_equal(brain_get_vector(v, 1, y), 0);
	for (int i = 0; i < 8; i++) /* as given (normalised), not quantised */
		assert_true(fabsf(y[i] - x[i] / sqrtf(204.0f)) < 1e-6f); /* 8 bits: up to 2e-3 off */
	assert_int_equal(brain_close(v), 0);
	/* the default options (the text embedder) but vectors first: floats */
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.dimensions = 8;
	snprintf(pq, sizeof pq, "%s/vec-default", root);
	assert_int_equal(brain_open(pq, &o, &v), 0);
	float x2[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	assert_int_equal(brain_add(v, 1, x2), 0);
	assert_int_equal(brain_get_vector(v, 1, y), 0);
	for (int i = 0; i < 8; i++)
		assert_true(fabsf(y[i] - x2[i] / sqrtf(204.0f)) < 1e-6f);
	assert_int_equal(brain_close(v), 0);
	assert_int_equal(brain_open(pq, &o, &v), 0);
	assert_int_equal(param_of(v, BRAIN_PARAM_HNSW_ELEMENT), 0);
	assert_int_equal(brain_close(v), 0);
	/* a text brain with HNSW_SQ8 (8-bit copies beside float rows) */
	snprintf(pq, sizeof pq, "%s/sq8", root);
	brain_t *sq = text_brain(pq, BRAIN_METRIC_COSINE, -1);
	assert_int_equal(brain_set_param(sq, BRAIN_PARAM_HNSW_SQ8, 1), 0);
	assert_int_equal(brain_remember(sq, "a text with 8-bit copies", 0.5f), 0);
	assert_int_equal(brain_close(sq), 0);
	sq = text_brain(pq, BRAIN_METRIC_COSINE, -1);
	assert_int_equal(param_of(sq, BRAIN_PARAM_HNSW_ELEMENT), 0);
	assert_int_equal(brain_count(sq), 1);
	assert_int_equal(brain_close(sq), 0);
	/* L2 with 3 asked: refused at the first vector, nothing stored */
	l2 = text_brain(NULL, BRAIN_METRIC_L2, 3);
	assert_int_equal(brain_remember(l2, "refused", 0.5f), BRAIN_EINVAL);
	assert_non_null(strstr(brain_errmsg(), "cosine or IP"));
	assert_int_equal(brain_count(l2), 0);
	brain_close(l2);
	assert_int_equal(test_remove_tree(root), 0);
}

/* A backend whose third add fails: the batch must leave no trace, not
 * even in the ids the brain assigns next. */
static int g_adds;
static int failing_add(brain_index *ix, uint32_t slot, const float *v)
{
	if (++g_adds == 3)
		return BRAIN_ENOMEM;
	return brain_index_find("flat")->add(ix, slot, v);
}

/* brain_search_batch: each query's answer is brain_search()'s, exact
 * (flat) and through the graph (hnsw), on one thread and on four; bad
 * input names the first query at fault and leaves no result. */
static void batch_matches_single(const char *index_name, int64_t threads, size_t nrows)
{
	enum { BQ = 101, BK = 7 };
	brain_t *b = open_on(BRAIN_METRIC_COSINE, DIMS, index_name);
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_THREADS, threads), 0);
	test_rng r = {0xBA7C4};
	float *rows = malloc((size_t)nrows * DIMS * sizeof *rows);
	float *qs = malloc((size_t)BQ * DIMS * sizeof *qs);
	uint64_t *ids = malloc(nrows * sizeof *ids);
	assert_non_null(rows);
	assert_non_null(qs);
	assert_non_null(ids);
	for (size_t i = 0; i < (size_t)nrows * DIMS; i++)
		rows[i] = test_rng_float(&r, -1.0f, 1.0f);
	for (size_t i = 0; i < (size_t)BQ * DIMS; i++)
		qs[i] = test_rng_float(&r, -1.0f, 1.0f);
	for (size_t i = 0; i < nrows; i++)
		ids[i] = 1000 + i;
	assert_int_equal(brain_add_batch(b, ids, rows, nrows), 0);
	/* ten copies of one vector, and a query on it: the 7th and 8th
	 * nearest tie (a recall that must fetch more than k + 1) */
	for (uint64_t c = 0; c < 10; c++)
		assert_int_equal(brain_add(b, 9000 + c, rows + 5 * DIMS), 0);
	memcpy(qs + 3 * DIMS, rows + 5 * DIMS, DIMS * sizeof *qs);
	uint64_t got[BQ * BK];
	float dist[BQ * BK];
	size_t found[BQ];
	assert_int_equal(brain_search_batch(b, qs, BQ, BK, got, dist, found), 0);
	for (size_t q = 0; q < BQ; q++) {
		uint64_t want[BK];
		float wd[BK];
		size_t wf = 0;
		assert_int_equal(brain_search(b, qs + q * DIMS, BK, want, wd, &wf), 0);
		assert_int_equal(found[q], wf);
		assert_memory_equal(got + q * BK, want, wf * sizeof *want);
		assert_memory_equal(dist + q * BK, wd, wf * sizeof *wd);
	}
	/* distances are optional; nq 0 is nothing to do */
	uint64_t got2[BQ * BK];
	assert_int_equal(brain_search_batch(b, qs, BQ, BK, got2, NULL, found), 0);
	assert_memory_equal(got2, got, sizeof got);
	assert_int_equal(brain_search_batch(b, NULL, 0, BK, NULL, NULL, NULL), 0);
	/* bad input: the first bad query is named, nothing is found */
	qs[40 * DIMS + 3] = NAN;
	qs[90 * DIMS + 1] = INFINITY;
	assert_int_equal(brain_search_batch(b, qs, BQ, BK, got, dist, found), BRAIN_ENONFINITE);
	assert_non_null(strstr(brain_errmsg(), "query 40"));
	for (size_t q = 0; q < BQ; q++)
		assert_int_equal(found[q], 0);
	qs[40 * DIMS + 3] = 0.5f;
	qs[90 * DIMS + 1] = 0.5f;
	memset(qs + 12 * DIMS, 0, DIMS * sizeof *qs); /* no direction for cosine */
	assert_int_equal(brain_search_batch(b, qs, BQ, BK, got, dist, found), BRAIN_EZEROVEC);
	assert_non_null(strstr(brain_errmsg(), "query 12"));
	assert_int_equal(brain_search_batch(b, qs, BQ, 0, got, dist, found), BRAIN_ERANGE);
	assert_int_equal(brain_search_batch(NULL, qs, BQ, BK, got, dist, found), BRAIN_ENULL);
	assert_int_equal(brain_search_batch(b, NULL, BQ, BK, got, dist, found), BRAIN_ENULL);
	assert_int_equal(brain_search_batch(b, qs, BQ, BK, NULL, dist, found), BRAIN_ENULL);
	assert_int_equal(brain_search_batch(b, qs, BQ, BK, got, dist, NULL), BRAIN_ENULL);
	assert_int_equal(brain_search_batch(b, qs, SIZE_MAX / 2, BK, got, dist, found), BRAIN_ERANGE);
	free(rows);
	free(qs);
	free(ids);
	assert_int_equal(brain_close(b), 0);
}

static void test_vector__search_batch_matches_search(void **state)
{
	(void)state;
	batch_matches_single("flat", 1, 3000);
	batch_matches_single("flat", 4, 3000);
	batch_matches_single("hnsw", 1, 3000); /* a graph: a walk for each */
	batch_matches_single("hnsw", 4, 3000);
	batch_matches_single("hnsw", 2, 1500); /* below HNSW_EXACT_BELOW: scans */
}

static void test_vector__failed_batch_leaves_no_trace(void **state)
{
	(void)state;
	static brain_index_vtable failing;
	failing = *brain_index_find("flat");
	failing.name = "failing-flat";
	failing.add = failing_add;
	register_variant(&failing);
	brain_t *b = open_on(BRAIN_METRIC_L2, 2, "failing-flat");
	float rows[5 * 2] = {1, 0, 2, 0, 3, 0, 4, 0, 5, 0};
	uint64_t ids[5] = {100, 200, 300, 400, 500};
	g_adds = 0;
	assert_int_equal(brain_add_batch(b, ids, rows, 5), BRAIN_ENOMEM);
	assert_int_equal(brain_count(b), 0);
	uint64_t got[1];
	size_t found = 1;
	assert_int_equal(brain_search(b, rows, 1, got, NULL, &found), 0);
	assert_int_equal(found, 0);
	/* the ids of the failed batch moved nothing: the next id is still 1 */
	brain_id id = 0;
	assert_int_equal(brain_remember_ex(b, "after", rows, 0.5f, &id), 0);
	assert_int_equal(id, 1);
	/* and the batch goes in whole once the backend works */
	assert_int_equal(brain_add_batch(b, ids, rows, 5), 0);
	assert_int_equal(brain_count(b), 6);
	brain_close(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector__l2_matches_reference),
		cmocka_unit_test(test_vector__cosine_matches_reference),
		cmocka_unit_test(test_vector__ip_matches_reference),
		cmocka_unit_test(test_vector__ties_go_to_smaller_id),
		cmocka_unit_test(test_vector__batch_is_all_or_nothing),
		cmocka_unit_test(test_vector__bad_inputs),
		cmocka_unit_test(test_vector__text_memories_are_searchable),
		cmocka_unit_test(test_vector__text_brains_keep_8_bit_rows),
		cmocka_unit_test(test_vector__one_scan_per_search),
		cmocka_unit_test(test_vector__older_backends_checkpoint),
		cmocka_unit_test(test_vector__failed_batch_leaves_no_trace),
		cmocka_unit_test(test_vector__search_batch_matches_search),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
