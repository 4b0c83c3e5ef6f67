/*
 * tests/test_flat.c - the "flat" index backend (index/flat.c) and the
 * backend registry (index/registry.c).
 *
 * The main test is a property test: random adds, removes and re-adds under
 * every metric, and after each step a search with a random k and filter
 * compared with a brute-force reference written here, as plainly as
 * possible (every distance, qsort, take k). The reference computes
 * distances with brain__dist_fn() at the best level, the kernel flat uses
 * (its batch kernel is bit-identical to the pair kernel, which
 * test_distance checks), so results must agree exactly: same slots, same
 * order, same distances.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "index/distance.h"
#include "index/flat.h"
#include "tests/test_alloc.h"
#include "tests/test_util.h"

static const brain_index_vtable *const flat = &brain__index_flat;

/* Fail the nth allocation from now (-1: every one) / stop failing. */
static void fail_nth(long n)
{
	assert_int_equal(test_alloc_install(), 0);
	test_alloc_arm(n);
}

static void fail_none(void)
{
	assert_int_equal(test_alloc_remove(), 0);
}

/* ---- helpers ----------------------------------------------------------- */

static brain_index *open_flat(uint32_t dim, int metric, uint32_t max_slots)
{
	brain_index_config c = {BRAIN_INDEX_VTABLE_VERSION, dim, metric, max_slots, NULL, NULL};
	brain_index *ix = NULL;
	assert_int_equal(flat->open(&c, &ix), 0);
	assert_non_null(ix);
	return ix;
}

static void random_vector(test_rng *rng, float *v, uint32_t dim, int metric)
{
	for (uint32_t i = 0; i < dim; i++)
		v[i] = test_rng_float(rng, -1.0f, 1.0f);
	v[0] += 0.01f; /* never all zero */
	/* The brain hands cosine backends unit vectors. */
	assert_int_equal(brain__vector_prepare(v, dim, metric, v, "test"), 0);
}

/* A filter from a table of booleans. */
typedef struct accept_table {
	const unsigned char *ok;
	size_t calls;
} accept_table;

static int accept_from_table(uint32_t slot, void *payload)
{
	accept_table *t = payload;
	t->calls++;
	return t->ok[slot];
}

/* The model the index is compared with: what each slot holds. */
typedef struct model {
	uint32_t dim;
	int metric;
	uint32_t max_slots;
	unsigned char *present;
	float *vectors; /* max_slots x dim */
	size_t count;
} model;

typedef struct ref_hit {
	float dist;
	uint32_t slot;
} ref_hit;

static int cmp_hit(const void *pa, const void *pb)
{
	const ref_hit *a = pa, *b = pb;
	if (a->dist != b->dist)
		return a->dist < b->dist ? -1 : 1;
	return a->slot < b->slot ? -1 : a->slot > b->slot;
}

/* Brute force: every present, accepted slot, sorted by (distance, slot). */
static size_t reference_search(const model *m, const float *q, size_t k,
                               const unsigned char *accept, ref_hit *hits)
{
	brain_dist_fn dist = brain__dist_fn(m->metric, -1);
	size_t n = 0;
	for (uint32_t s = 0; s < m->max_slots; s++) {
		if (!m->present[s] || (accept && !accept[s]))
			continue;
		hits[n].dist = dist(m->vectors + (size_t)s * m->dim, q, m->dim);
		hits[n].slot = s;
		n++;
	}
	qsort(hits, n, sizeof *hits, cmp_hit);
	return n < k ? n : k;
}

/* Search the index and the model with the same arguments; they must agree
 * exactly. */
static void check_search(const brain_index *ix, const model *m, const float *q, size_t k,
                         const unsigned char *accept)
{
	size_t cap = m->max_slots + 1;
	uint32_t *slots = malloc(cap * sizeof *slots);
	float *dists = malloc(cap * sizeof *dists);
	ref_hit *hits = malloc(cap * sizeof *hits);
	assert_non_null(slots);
	assert_non_null(dists);
	assert_non_null(hits);
	accept_table t = {accept, 0};
	brain_index_filter filter = {accept_from_table, &t};
	size_t found = 12345;
	/* k may be beyond the arrays (up to SIZE_MAX): the index holds fewer
	 * than cap vectors, and writes no more than it finds. */
	size_t kk = k;
	assert_int_equal(flat->search(ix, q, kk, accept ? &filter : NULL, slots, dists, &found), 0);
	size_t want = reference_search(m, q, kk, accept, hits);
	if (found != want)
		fail_msg("k %zu: found %zu, reference %zu", kk, found, want);
	for (size_t i = 0; i < found; i++) {
		if (slots[i] != hits[i].slot || dists[i] != hits[i].dist)
			fail_msg("k %zu, hit %zu: slot %u at %.9g, reference slot %u at %.9g", kk, i,
			         (unsigned)slots[i], (double)dists[i], (unsigned)hits[i].slot,
			         (double)hits[i].dist);
	}
	/* The filter was asked about occupied slots only, each at most once. */
	if (accept)
		assert_true(t.calls <= m->count);
	free(slots);
	free(dists);
	free(hits);
}

/* distances() of the held slots in a shuffled order: each exactly the
 * reference's (as the exact search's are); a free slot is ENOTFOUND. */
static void check_distances(const brain_index *ix, const model *m, const float *q,
                            test_rng *rng)
{
	uint32_t *slots = malloc((m->max_slots + 1) * sizeof *slots);
	float *out = malloc((m->max_slots + 1) * sizeof *out);
	assert_non_null(slots);
	assert_non_null(out);
	size_t n = 0;
	uint32_t free_slot = UINT32_MAX;
	for (uint32_t s = 0; s < m->max_slots; s++) {
		if (m->present[s])
			slots[n++] = s;
		else
			free_slot = s;
	}
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)(test_rng_next(rng) % i);
		uint32_t t = slots[i - 1];
		slots[i - 1] = slots[j];
		slots[j] = t;
	}
	assert_int_equal(flat->distances(ix, q, slots, n, out), 0);
	brain_dist_fn dist = brain__dist_fn(m->metric, -1);
	for (size_t i = 0; i < n; i++) {
		float want = dist(m->vectors + (size_t)slots[i] * m->dim, q, m->dim);
		if (out[i] != want)
			fail_msg("distances: slot %u at %.9g, reference %.9g", (unsigned)slots[i],
			         (double)out[i], (double)want);
	}
	if (free_slot != UINT32_MAX) {
		slots[0] = free_slot;
		assert_int_equal(flat->distances(ix, q, slots, 1, out), BRAIN_ENOTFOUND);
	}
	free(slots);
	free(out);
}

static void model_init(model *m, uint32_t dim, int metric, uint32_t max_slots)
{
	m->dim = dim;
	m->metric = metric;
	m->max_slots = max_slots;
	m->present = calloc(max_slots, 1);
	m->vectors = calloc((size_t)max_slots * dim, sizeof(float));
	m->count = 0;
	assert_non_null(m->present);
	assert_non_null(m->vectors);
}

static void model_free(model *m)
{
	free(m->present);
	free(m->vectors);
}

static void model_add(brain_index *ix, model *m, uint32_t slot, const float *v)
{
	assert_int_equal(flat->add(ix, slot, v), 0);
	memcpy(m->vectors + (size_t)slot * m->dim, v, m->dim * sizeof(float));
	m->present[slot] = 1;
	m->count++;
}

static void model_remove(brain_index *ix, model *m, uint32_t slot)
{
	assert_int_equal(flat->remove(ix, slot), 0);
	m->present[slot] = 0;
	m->count--;
}

/* A random filter: accept all, none, about half, about 2%, or one slot. */
static void random_accept(test_rng *rng, const model *m, unsigned char *accept)
{
	int kind = (int)(test_rng_next(rng) % 5);
	uint32_t only = (uint32_t)(test_rng_next(rng) % m->max_slots);
	for (uint32_t s = 0; s < m->max_slots; s++) {
		double u = test_rng_unit(rng);
		accept[s] = (unsigned char)(kind == 0   ? 1
		                            : kind == 1 ? 0
		                            : kind == 2 ? u < 0.5
		                            : kind == 3 ? u < 0.02
		                                        : s == only);
	}
}

/* ---- the property test -------------------------------------------------- */

static void run_property(uint32_t dim, int metric, uint32_t max_slots, int steps, uint64_t seed)
{
	test_rng rng = {seed};
	model m;
	model_init(&m, dim, metric, max_slots);
	brain_index *ix = open_flat(dim, metric, max_slots);
	float *v = malloc(dim * sizeof *v), *q = malloc(dim * sizeof *q);
	unsigned char *accept = malloc(max_slots);
	assert_non_null(v);
	assert_non_null(q);
	assert_non_null(accept);
	static const size_t ks[] = {0, 1, 2, 3, 5, 10, 31, 100, 1000, SIZE_MAX};
	for (int step = 0; step < steps; step++) {
		/* Fill towards about two thirds, with churn. */
		double fill = (double)m.count / max_slots;
		bool add = m.count == 0 || test_rng_unit(&rng) < 0.9 - 0.6 * fill;
		uint32_t slot = (uint32_t)(test_rng_next(&rng) % max_slots);
		if (add && m.count < max_slots) {
			while (m.present[slot])
				slot = (slot + 1) % max_slots;
			/* Sometimes a copy of a stored vector: ties, broken by slot. */
			uint32_t other = (uint32_t)(test_rng_next(&rng) % max_slots);
			if (m.present[other] && test_rng_unit(&rng) < 0.2)
				memcpy(v, m.vectors + (size_t)other * dim, dim * sizeof *v);
			else
				random_vector(&rng, v, dim, metric);
			model_add(ix, &m, slot, v);
		} else if (m.count > 0) {
			while (!m.present[slot])
				slot = (slot + 1) % max_slots;
			model_remove(ix, &m, slot);
		}
		/* Query: random, or exactly a stored vector (distance 0 / ties). */
		uint32_t near = (uint32_t)(test_rng_next(&rng) % max_slots);
		if (m.present[near] && test_rng_unit(&rng) < 0.3)
			memcpy(q, m.vectors + (size_t)near * dim, dim * sizeof *q);
		else
			random_vector(&rng, q, dim, metric);
		size_t k = ks[test_rng_next(&rng) % BRAIN_ARRAY_LEN(ks)];
		check_search(ix, &m, q, k, NULL);
		random_accept(&rng, &m, accept);
		check_search(ix, &m, q, k, accept);
		if (step % 16 == 0)
			check_distances(ix, &m, q, &rng);
	}
	/* get returns every stored vector exactly. */
	for (uint32_t s = 0; s < max_slots; s++) {
		if (m.present[s]) {
			assert_int_equal(flat->get(ix, s, v), 0);
			assert_memory_equal(v, m.vectors + (size_t)s * dim, dim * sizeof *v);
		} else {
			assert_int_equal(flat->get(ix, s, v), BRAIN_ENOTFOUND);
		}
	}
	flat->close(ix);
	model_free(&m);
	free(v);
	free(q);
	free(accept);
}

static void test_flat__property_l2(void **state)
{
	(void)state;
	run_property(1, BRAIN_METRIC_L2, 50, 600, 11);
	run_property(17, BRAIN_METRIC_L2, 300, 1500, 12);
	run_property(128, BRAIN_METRIC_L2, 700, 1500, 13);
}

static void test_flat__property_ip(void **state)
{
	(void)state;
	run_property(3, BRAIN_METRIC_IP, 100, 800, 21);
	run_property(100, BRAIN_METRIC_IP, 300, 1500, 22);
}

static void test_flat__property_cosine(void **state)
{
	(void)state;
	run_property(2, BRAIN_METRIC_COSINE, 100, 800, 31);
	run_property(384, BRAIN_METRIC_COSINE, 300, 1000, 32);
}

/* Rows of 8000 bytes give chunks of 32 rows, shorter than a bitmap word:
 * runs of slots are split where chunks end. */
static void test_flat__property_small_chunks(void **state)
{
	(void)state;
	run_property(2000, BRAIN_METRIC_L2, 200, 400, 41);
}

/* Every slot occupied: runs longer than the kernel's batch and crossing
 * chunks (16 floats = 64-byte rows, 4096 rows per chunk). */
static void test_flat__dense_long_runs(void **state)
{
	(void)state;
	const uint32_t dim = 16, max_slots = 10000;
	test_rng rng = {51};
	model m;
	model_init(&m, dim, BRAIN_METRIC_L2, max_slots);
	brain_index *ix = open_flat(dim, BRAIN_METRIC_L2, max_slots);
	float v[16], q[16];
	for (uint32_t s = 0; s < max_slots; s++) {
		random_vector(&rng, v, dim, BRAIN_METRIC_L2);
		model_add(ix, &m, s, v);
	}
	unsigned char *accept = malloc(max_slots);
	assert_non_null(accept);
	for (uint32_t s = 0; s < max_slots; s++)
		accept[s] = (unsigned char)(test_rng_unit(&rng) < 0.9);
	static const size_t ks[] = {1, 10, 300, 5000, 20000};
	for (int i = 0; i < 10; i++) {
		random_vector(&rng, q, dim, BRAIN_METRIC_L2);
		check_search(ix, &m, q, ks[i % 5], NULL);
		check_search(ix, &m, q, ks[i % 5], accept);
	}
	/* Holes at the edges of words, batches and chunks. */
	static const uint32_t holes[] = {0, 63, 64, 255, 256, 4095, 4096, 8191, 9999};
	for (size_t i = 0; i < BRAIN_ARRAY_LEN(holes); i++)
		model_remove(ix, &m, holes[i]);
	for (int i = 0; i < 5; i++) {
		random_vector(&rng, q, dim, BRAIN_METRIC_L2);
		check_search(ix, &m, q, ks[i], NULL);
	}
	flat->close(ix);
	model_free(&m);
	free(accept);
}

static const char *g_argv0;

/* flat uses the best level; BRAINCORE_SIMD is read once per process, so the
 * other levels run the property tests in a fresh copy of this program. */
static void test_flat__property_at_every_level(void **state)
{
	(void)state;
	int runs = 0;
	for (int l = 0; l < (int)brain__simd_best(); l++) {
		if (!brain__simd_supported((brain_simd_level)l))
			continue;
		fflush(stdout);
		fflush(stderr);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			setenv("BRAINCORE_SIMD", brain__simd_name((brain_simd_level)l), 1);
			execl(g_argv0, g_argv0, "--property", (char *)NULL);
			_exit(127);
		}
		int status;
		while (waitpid(pid, &status, 0) < 0)
			assert_int_equal(errno, EINTR);
		assert_true(WIFEXITED(status));
		if (WEXITSTATUS(status) == 127)
			skip(); /* cannot run this program again (not started by path) */
		assert_int_equal(WEXITSTATUS(status), 0);
		runs++;
	}
	if (runs == 0)
		skip(); /* only the scalar level here, tested already */
}

/* ---- behaviour --------------------------------------------------------- */

/* ---- 8-bit rows ------------------------------------------------------- */

static brain_index *open_flat8(uint32_t dim, int metric, uint32_t max_slots, brain_elem elem)
{
	brain_index_config c = {BRAIN_INDEX_VTABLE_VERSION, dim, metric, max_slots, NULL, NULL};
	brain_index *ix = NULL;
	int rc = brain__flat_open_ex(&c, 0, 64, elem, &ix);
	if (rc || !ix)
		fail_msg("open 8-bit flat: %s: %s", brain_error_name(rc), brain_errmsg());
	return ix;
}

/* An integer vector that an elem row holds exactly. */
static void random_int_vector(test_rng *rng, float *v, uint32_t dim, brain_elem elem)
{
	for (uint32_t i = 0; i < dim; i++) {
		int x = (int)(test_rng_next(rng) % 256);
		v[i] = (float)(elem == BRAIN_ELEM_I8 ? x - 128 : x);
	}
}

typedef struct saved_bytes {
	unsigned char *data;
	size_t len;
} saved_bytes;

static int saved_write(void *payload, const void *data, size_t len)
{
	saved_bytes *b = payload;
	unsigned char *p = realloc(b->data, b->len + len + 1);
	if (!p)
		return BRAIN_ENOMEM;
	memcpy(p + b->len, data, len);
	b->data = p;
	b->len += len;
	return BRAIN_OK;
}

/* The answers of two indexes agree exactly: slots, order and distances. */
static void same_answers(const brain_index *a, const brain_index *b, const float *q, size_t k,
                         const brain_index_filter *filter)
{
	uint32_t sa[64], sb[64];
	float da[64], db[64];
	size_t fa = 0, fb = 0;
	assert_true(k <= 64);
	assert_int_equal(flat->search(a, q, k, filter, sa, da, &fa), 0);
	assert_int_equal(flat->search(b, q, k, filter, sb, db, &fb), 0);
	assert_int_equal(fa, fb);
	assert_memory_equal(sa, sb, fa * sizeof *sa);
	assert_memory_equal(da, db, fa * sizeof *da);
}

/* 8-bit rows answer exactly as float rows holding the same integers: the
 * 8-bit kernels give the float kernels' bits (test_distance), so slots,
 * order and distances agree; get gives back the integers as floats. */
static void test_flat__8bit_rows_answer_as_float_rows(void **state)
{
	(void)state;
	static const brain_elem elems[] = {BRAIN_ELEM_U8, BRAIN_ELEM_I8};
	static const int metrics[] = {BRAIN_METRIC_L2, BRAIN_METRIC_IP};
	for (size_t e = 0; e < BRAIN_ARRAY_LEN(elems); e++) {
		for (size_t m = 0; m < BRAIN_ARRAY_LEN(metrics); m++) {
			test_rng rng = {900 + 10 * e + m};
			uint32_t dim = 37, n = 700;
			brain_index *f32 = open_flat(dim, metrics[m], 1000);
			brain_index *f8 = open_flat8(dim, metrics[m], 1000, elems[e]);
			float v[37], got[37];
			for (uint32_t s = 0; s < n; s++) {
				random_int_vector(&rng, v, dim, elems[e]);
				assert_int_equal(flat->add(f32, s, v), 0);
				assert_int_equal(flat->add(f8, s, v), 0);
				assert_int_equal(flat->get(f8, s, got), 0);
				assert_memory_equal(got, v, sizeof v);
			}
			for (uint32_t s = 0; s < n; s += 7) {
				assert_int_equal(flat->remove(f32, s), 0);
				assert_int_equal(flat->remove(f8, s), 0);
			}
			unsigned char accept[1000];
			for (size_t i = 0; i < 1000; i++)
				accept[i] = (unsigned char)(test_rng_next(&rng) % 3 == 0);
			accept_table table = {accept, 0};
			brain_index_filter filter = {accept_from_table, &table};
			for (int qi = 0; qi < 30; qi++) {
				float q[37];
				for (uint32_t i = 0; i < dim; i++) /* queries stay float */
					q[i] = (float)((int)(test_rng_next(&rng) % 20001) - 10000) / 37.0f;
				same_answers(f32, f8, q, 1 + (size_t)(qi % 40), NULL);
				same_answers(f32, f8, q, 10, &filter);
			}
			/* a quarter of the bytes per row (rows padded to 64) */
			assert_true(flat->memory_usage(f8) < flat->memory_usage(f32));
			flat->close(f32);
			flat->close(f8);
		}
	}
}

/* What 8-bit rows cannot hold is refused whole, and nothing changes. */
static void test_flat__8bit_rows_refuse_what_they_cannot_hold(void **state)
{
	(void)state;
	static const float bad_u8[] = {0.5f, 256.0f, -1.0f, 1e30f, -1e30f, 255.5f, NAN, INFINITY};
	static const float bad_i8[] = {128.0f, -129.0f, 0.25f, 1e30f, NAN, -INFINITY};
	static const struct {
		brain_elem elem;
		const float *bad;
		size_t nbad;
		float lo, hi;
	} cases[] = {
		{BRAIN_ELEM_U8, bad_u8, BRAIN_ARRAY_LEN(bad_u8), 0.0f, 255.0f},
		{BRAIN_ELEM_I8, bad_i8, BRAIN_ARRAY_LEN(bad_i8), -128.0f, 127.0f},
	};
	for (size_t c = 0; c < BRAIN_ARRAY_LEN(cases); c++) {
		brain_index *ix = open_flat8(4, BRAIN_METRIC_L2, 100, cases[c].elem);
		float ok[4] = {cases[c].lo, cases[c].hi, 0.0f, -0.0f}, got[4];
		assert_int_equal(flat->add(ix, 1, ok), 0);
		assert_int_equal(flat->get(ix, 1, got), 0);
		assert_true(got[0] == cases[c].lo && got[1] == cases[c].hi && got[2] == 0.0f &&
		            got[3] == 0.0f);
		for (size_t b = 0; b < cases[c].nbad; b++) {
			float v[4] = {1, 2, 3, 4};
			v[b % 4] = cases[c].bad[b];
			assert_int_equal(flat->add(ix, 2, v), BRAIN_EINVAL);
			assert_true(brain_errmsg()[0] != '\0');
			assert_int_equal(flat->get(ix, 2, got), BRAIN_ENOTFOUND); /* still free */
		}
		uint32_t slots[4];
		float d[4];
		size_t found = 0;
		assert_int_equal(flat->search(ix, ok, 4, NULL, slots, d, &found), 0);
		assert_int_equal(found, 1);
		flat->close(ix);
	}
	/* no 8-bit rows under cosine (they cannot be unit vectors), no unknown
	 * element type */
	brain_index_config c = {BRAIN_INDEX_VTABLE_VERSION, 4, BRAIN_METRIC_COSINE, 100, NULL, NULL};
	brain_index *ix = (brain_index *)(uintptr_t)1;
	assert_int_equal(brain__flat_open_ex(&c, 0, 64, BRAIN_ELEM_U8, &ix), BRAIN_EINVAL);
	assert_null(ix);
	c.metric = BRAIN_METRIC_L2;
	assert_int_equal(brain__flat_open_ex(&c, 0, 64, (brain_elem)7, &ix), BRAIN_EINVAL);
	assert_null(ix);
}

/* Saved 8-bit rows load as 8-bit rows (version 2 of the saved form);
 * float rows are still saved as version 1. */
static void test_flat__8bit_rows_save_and_load(void **state)
{
	(void)state;
	test_rng rng = {951};
	brain_index *f8 = open_flat8(20, BRAIN_METRIC_L2, 3000, BRAIN_ELEM_U8);
	brain_index *f32 = open_flat(20, BRAIN_METRIC_L2, 3000);
	float v[20];
	for (uint32_t s = 0; s < 2500; s += 1 + s % 3) {
		random_int_vector(&rng, v, 20, BRAIN_ELEM_U8);
		assert_int_equal(flat->add(f8, s, v), 0);
		assert_int_equal(flat->add(f32, s, v), 0);
	}
	saved_bytes b8 = {NULL, 0}, b32 = {NULL, 0};
	brain_index_writer w8 = {saved_write, &b8}, w32 = {saved_write, &b32};
	assert_int_equal(flat->save(f8, &w8), 0);
	assert_int_equal(flat->save(f32, &w32), 0);
	uint32_t version;
	memcpy(&version, b8.data + 4, sizeof version);
	assert_int_equal(version, 2);
	memcpy(&version, b32.data + 4, sizeof version);
	assert_int_equal(version, 1);
	assert_true(b8.len < b32.len);
	void *img = NULL;
	assert_int_equal(posix_memalign(&img, 4096, b8.len), 0);
	memcpy(img, b8.data, b8.len);
	brain_index_config c = {BRAIN_INDEX_VTABLE_VERSION, 20, BRAIN_METRIC_L2, 3000, NULL, NULL};
	brain_index *loaded = NULL;
	/* the element type must be the one saved */
	assert_int_equal(brain__flat_load_ex(&c, 0, 64, BRAIN_ELEM_I8, img, b8.len, &loaded),
	                 BRAIN_ECORRUPT);
	assert_int_equal(brain__flat_load_ex(&c, 0, 64, BRAIN_ELEM_F32, img, b8.len, &loaded),
	                 BRAIN_ECORRUPT);
	assert_int_equal(brain__flat_load_ex(&c, 0, 64, BRAIN_ELEM_U8, img, b8.len, &loaded), 0);
	for (int qi = 0; qi < 20; qi++) {
		float q[20];
		for (uint32_t i = 0; i < 20; i++)
			q[i] = (float)(test_rng_next(&rng) % 2560) / 10.0f;
		same_answers(f32, loaded, q, 16, NULL);
	}
	/* and it takes changes */
	random_int_vector(&rng, v, 20, BRAIN_ELEM_U8);
	assert_int_equal(flat->add(loaded, 2999, v), 0);
	assert_int_equal(flat->add(f32, 2999, v), 0);
	same_answers(f32, loaded, v, 5, NULL);
	/* a newer version is refused as such */
	uint32_t three = 3;
	memcpy((unsigned char *)img + 4, &three, sizeof three);
	flat->close(loaded);
	loaded = NULL;
	assert_int_equal(brain__flat_load_ex(&c, 0, 64, BRAIN_ELEM_U8, img, b8.len, &loaded),
	                 BRAIN_EVERSION);
	assert_null(loaded);
	free(img);
	free(b8.data);
	free(b32.data);
	flat->close(f8);
	flat->close(f32);
}

static void test_flat__vtable_describes_flat(void **state)
{
	(void)state;
	assert_int_equal(flat->version, BRAIN_INDEX_VTABLE_VERSION);
	assert_string_equal(flat->name, "flat");
	assert_int_equal(flat->capabilities,
	                 BRAIN_INDEX_CAP_EXACT | BRAIN_INDEX_CAP_FILTER | BRAIN_INDEX_CAP_PLANNED);
}

static void test_flat__empty_search_finds_nothing(void **state)
{
	(void)state;
	brain_index *ix = open_flat(4, BRAIN_METRIC_L2, 10);
	float q[4] = {1, 2, 3, 4};
	uint32_t slots[3];
	float d[3];
	size_t found = 99;
	assert_int_equal(flat->search(ix, q, 3, NULL, slots, d, &found), 0);
	assert_int_equal(found, 0);
	found = 99;
	assert_int_equal(flat->search(ix, q, 0, NULL, NULL, NULL, &found), 0);
	assert_int_equal(found, 0);
	flat->close(ix);
}

static void test_flat__get_returns_what_was_added(void **state)
{
	(void)state;
	brain_index *ix = open_flat(5, BRAIN_METRIC_IP, 1000);
	float v[5] = {1.5f, -2.25f, 0.0f, 1e-38f, 3e38f}, out[5];
	assert_int_equal(flat->add(ix, 999, v), 0);
	assert_int_equal(flat->get(ix, 999, out), 0);
	assert_memory_equal(out, v, sizeof v);
	flat->close(ix);
}

static void test_flat__remove_then_search(void **state)
{
	(void)state;
	brain_index *ix = open_flat(2, BRAIN_METRIC_L2, 100);
	for (uint32_t s = 0; s < 10; s++) {
		float v[2] = {(float)s, 0.0f};
		assert_int_equal(flat->add(ix, s, v), 0);
	}
	assert_int_equal(flat->remove(ix, 3), 0);
	assert_int_equal(flat->remove(ix, 4), 0);
	float q[2] = {3.0f, 0.0f};
	uint32_t slots[10];
	float d[10];
	size_t found;
	assert_int_equal(flat->search(ix, q, 10, NULL, slots, d, &found), 0);
	assert_int_equal(found, 8);
	/* Ties (1 and 5 at 4, 0 and 6 at 9) by smaller slot. */
	static const uint32_t want[8] = {2, 1, 5, 0, 6, 7, 8, 9};
	static const float want_d[8] = {1, 4, 4, 9, 9, 16, 25, 36};
	for (size_t i = 0; i < 8; i++) {
		assert_int_equal(slots[i], want[i]);
		assert_true(d[i] == want_d[i]);
	}
	flat->close(ix);
}

static void test_flat__ties_go_to_the_smaller_slot(void **state)
{
	(void)state;
	brain_index *ix = open_flat(3, BRAIN_METRIC_L2, 4000);
	float v[3] = {1, 1, 1}, far[3] = {9, 9, 9};
	/* In several chunks and bitmap words, added out of order. */
	static const uint32_t same[] = {3000, 5, 700, 64, 63, 2};
	for (size_t i = 0; i < BRAIN_ARRAY_LEN(same); i++)
		assert_int_equal(flat->add(ix, same[i], v), 0);
	assert_int_equal(flat->add(ix, 1, far), 0);
	uint32_t slots[7];
	float d[7];
	size_t found;
	for (size_t k = 1; k <= 7; k++) {
		assert_int_equal(flat->search(ix, v, k, NULL, slots, d, &found), 0);
		assert_int_equal(found, k);
		static const uint32_t order[7] = {2, 5, 63, 64, 700, 3000, 1};
		for (size_t i = 0; i < k; i++)
			assert_int_equal(slots[i], order[i]);
	}
	flat->close(ix);
}

static void test_flat__slot_reuse_after_remove(void **state)
{
	(void)state;
	brain_index *ix = open_flat(3, BRAIN_METRIC_L2, 8);
	float a[3] = {1, 2, 3}, b[3] = {-4, 5, -6}, out[3];
	assert_int_equal(flat->add(ix, 7, a), 0);
	assert_int_equal(flat->remove(ix, 7), 0);
	assert_int_equal(flat->get(ix, 7, out), BRAIN_ENOTFOUND);
	assert_int_equal(flat->add(ix, 7, b), 0);
	assert_int_equal(flat->get(ix, 7, out), 0);
	assert_memory_equal(out, b, sizeof b);
	uint32_t slot;
	float d;
	size_t found;
	assert_int_equal(flat->search(ix, b, 5, NULL, &slot, &d, &found), 0);
	assert_int_equal(found, 1);
	assert_int_equal(slot, 7);
	assert_true(d == 0.0f);
	flat->close(ix);
}

static void test_flat__k_may_exceed_count(void **state)
{
	(void)state;
	brain_index *ix = open_flat(1, BRAIN_METRIC_L2, 100);
	for (uint32_t s = 0; s < 5; s++) {
		float v = (float)(10 - s);
		assert_int_equal(flat->add(ix, s * 7, &v), 0);
	}
	/* Arrays of 5: the index writes no more than it has. */
	uint32_t slots[5];
	float d[5], q = 0.0f;
	size_t found;
	assert_int_equal(flat->search(ix, &q, SIZE_MAX, NULL, slots, d, &found), 0);
	assert_int_equal(found, 5);
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(slots[i], (4 - i) * 7);
		assert_true(d[i] == (float)((6 + i) * (6 + i)));
	}
	flat->close(ix);
}

static int accept_none(uint32_t slot, void *payload)
{
	(void)slot;
	(void)payload;
	return 0;
}

static int accept_multiple_of(uint32_t slot, void *payload)
{
	return slot % *(uint32_t *)payload == 0;
}

static void test_flat__filter_still_returns_k(void **state)
{
	(void)state;
	brain_index *ix = open_flat(1, BRAIN_METRIC_L2, 1000);
	for (uint32_t s = 0; s < 1000; s++) {
		float v = (float)s;
		assert_int_equal(flat->add(ix, s, &v), 0);
	}
	uint32_t every = 100;
	brain_index_filter f = {accept_multiple_of, &every};
	uint32_t slots[10];
	float d[10], q = 0.0f;
	size_t found;
	/* The 10 nearest overall are 0..9; the filter wants multiples of 100,
	 * and still gets 10 of them. */
	assert_int_equal(flat->search(ix, &q, 10, &f, slots, d, &found), 0);
	assert_int_equal(found, 10);
	for (size_t i = 0; i < 10; i++)
		assert_int_equal(slots[i], i * 100);
	brain_index_filter none = {accept_none, NULL};
	assert_int_equal(flat->search(ix, &q, 10, &none, slots, d, &found), 0);
	assert_int_equal(found, 0);
	flat->close(ix);
}

/* Overflowing inputs (finite, but their products are not) give NaN
 * distances; they rank last and never break the order of the others. */
static void test_flat__nan_distance_ranks_last(void **state)
{
	(void)state;
	brain_index *ix = open_flat(2, BRAIN_METRIC_IP, 10);
	float huge[2] = {3e38f, -3e38f}, small[2] = {0.5f, 0.25f}, q[2] = {3e38f, 3e38f};
	assert_int_equal(flat->add(ix, 0, huge), 0); /* inf - inf = NaN */
	assert_int_equal(flat->add(ix, 1, small), 0);
	uint32_t slots[2];
	float d[2];
	size_t found;
	assert_int_equal(flat->search(ix, q, 2, NULL, slots, d, &found), 0);
	assert_int_equal(found, 2);
	assert_int_equal(slots[0], 1);
	assert_int_equal(slots[1], 0);
	assert_true(isinf(d[1]) && d[1] > 0);
	assert_int_equal(flat->search(ix, q, 1, NULL, slots, d, &found), 0);
	assert_int_equal(found, 1);
	assert_int_equal(slots[0], 1);
	flat->close(ix);
}

static void test_flat__errors(void **state)
{
	(void)state;
	brain_index *ix = NULL;
	brain_index_config c = {BRAIN_INDEX_VTABLE_VERSION, 4, BRAIN_METRIC_L2, 10, NULL, NULL};
	assert_int_equal(flat->open(NULL, &ix), BRAIN_ENULL);
	assert_int_equal(flat->open(&c, NULL), BRAIN_ENULL);
	c.version = BRAIN_INDEX_VTABLE_VERSION + 1;
	assert_int_equal(flat->open(&c, &ix), BRAIN_EVERSION);
	c.version = 0;
	assert_int_equal(flat->open(&c, &ix), BRAIN_EVERSION);
	c.version = BRAIN_INDEX_VTABLE_VERSION;
	c.dimensions = 0;
	assert_int_equal(flat->open(&c, &ix), BRAIN_EINVAL);
	c.dimensions = BRAIN_MAX_DIMENSIONS + 1;
	assert_int_equal(flat->open(&c, &ix), BRAIN_EINVAL);
	c.dimensions = 4;
	c.metric = 7;
	assert_int_equal(flat->open(&c, &ix), BRAIN_EINVAL);
	assert_null(ix);

	ix = open_flat(4, BRAIN_METRIC_L2, 10);
	float v[4] = {1, 2, 3, 4}, out[4];
	uint32_t slots[2];
	float d[2];
	size_t found;
	/* Slots out of range. */
	assert_int_equal(flat->add(ix, 10, v), BRAIN_EINVAL);
	assert_int_equal(flat->add(ix, UINT32_MAX, v), BRAIN_EINVAL);
	assert_int_equal(flat->remove(ix, 10), BRAIN_EINVAL);
	assert_int_equal(flat->get(ix, 10, out), BRAIN_EINVAL);
	/* Free slots (never used, beyond anything allocated, and removed). */
	assert_int_equal(flat->remove(ix, 3), BRAIN_ENOTFOUND);
	assert_int_equal(flat->get(ix, 9, out), BRAIN_ENOTFOUND);
	assert_int_equal(flat->add(ix, 3, v), 0);
	assert_int_equal(flat->add(ix, 3, v), BRAIN_EINVAL); /* occupied */
	assert_non_null(strstr(brain_errmsg(), "slot 3"));
	assert_int_equal(flat->remove(ix, 3), 0);
	assert_int_equal(flat->remove(ix, 3), BRAIN_ENOTFOUND);
	/* NULL arguments. */
	assert_int_equal(flat->add(ix, 1, NULL), BRAIN_ENULL);
	assert_int_equal(flat->get(ix, 1, NULL), BRAIN_ENULL);
	assert_int_equal(flat->search(ix, v, 2, NULL, slots, d, NULL), BRAIN_ENULL);
	assert_int_equal(flat->search(ix, NULL, 2, NULL, slots, d, &found), BRAIN_ENULL);
	assert_int_equal(flat->search(ix, v, 2, NULL, NULL, d, &found), BRAIN_ENULL);
	assert_int_equal(flat->search(ix, v, 2, NULL, slots, NULL, &found), BRAIN_ENULL);
	brain_index_filter bad = {NULL, NULL};
	assert_int_equal(flat->search(ix, v, 2, &bad, slots, d, &found), BRAIN_ENULL);
	/* Nothing above changed the index. */
	assert_int_equal(flat->add(ix, 1, v), 0);
	assert_int_equal(flat->search(ix, v, 2, NULL, slots, d, &found), 0);
	assert_int_equal(found, 1);
	assert_int_equal(slots[0], 1);
	flat->close(ix);
	flat->close(NULL);
}

static void test_flat__reserve(void **state)
{
	(void)state;
	brain_index *ix = open_flat(8, BRAIN_METRIC_L2, 5000);
	assert_int_equal(flat->reserve(ix, 0), 0);
	assert_int_equal(flat->reserve(ix, 3000), 0);
	/* Beyond max_slots: room for what can be used, no error. */
	assert_int_equal(flat->reserve(ix, UINT32_MAX), 0);
	/* After reserve, adds below it need no memory at all. */
	fail_nth(-1);
	float v[8] = {0};
	int rc = 0;
	for (uint32_t s = 0; s < 5000 && rc == 0; s++) {
		v[0] = (float)s;
		rc = flat->add(ix, s, v);
	}
	fail_none();
	assert_int_equal(rc, 0);
	uint32_t slot;
	float d;
	size_t found;
	v[0] = 4321.0f;
	assert_int_equal(flat->search(ix, v, 1, NULL, &slot, &d, &found), 0);
	assert_int_equal(slot, 4321);
	flat->close(ix);
}

static void test_flat__memory_usage_grows(void **state)
{
	(void)state;
	brain_index *ix = open_flat(64, BRAIN_METRIC_COSINE, 100000);
	size_t empty = flat->memory_usage(ix);
	assert_true(empty > 0);
	test_rng rng = {5};
	float v[64];
	size_t last = empty;
	for (uint32_t s = 0; s < 20000; s++) {
		random_vector(&rng, v, 64, BRAIN_METRIC_COSINE);
		assert_int_equal(flat->add(ix, s, v), 0);
		size_t now = flat->memory_usage(ix);
		assert_true(now >= last);
		last = now;
	}
	/* At least the vectors themselves, at most twice that (bitmap,
	 * alignment and the last partly used chunk). */
	assert_true(last >= 20000 * 64 * sizeof(float));
	assert_true(last <= 2 * 20000 * 64 * sizeof(float) + 512 * 1024);
	flat->close(ix);
}

/* Searches may run from many threads at once (never during a change):
 * each thread must get exactly the answer a lone search gets. */
#define SEARCH_THREADS 4

typedef struct search_job {
	const brain_index *ix;
	const float *queries; /* 16 of them */
	uint32_t slots[16][20];
	float d[16][20];
	size_t found[16];
	int rc;
} search_job;

static void *search_many(void *arg)
{
	search_job *job = arg;
	for (int round = 0; round < 20; round++)
		for (int i = 0; i < 16 && job->rc == 0; i++)
			job->rc = flat->search(job->ix, job->queries + (size_t)i * 32, 20, NULL,
			                       job->slots[i], job->d[i], &job->found[i]);
	return NULL;
}

static void test_flat__concurrent_searches(void **state)
{
	(void)state;
	test_rng rng = {61};
	brain_index *ix = open_flat(32, BRAIN_METRIC_COSINE, 5000);
	float v[32], queries[16 * 32];
	for (uint32_t s = 0; s < 3000; s++) {
		random_vector(&rng, v, 32, BRAIN_METRIC_COSINE);
		assert_int_equal(flat->add(ix, s * 5 / 3, v), 0);
	}
	for (int i = 0; i < 16; i++)
		random_vector(&rng, queries + i * 32, 32, BRAIN_METRIC_COSINE);
	static search_job alone, jobs[SEARCH_THREADS];
	alone.ix = ix;
	alone.queries = queries;
	search_many(&alone);
	assert_int_equal(alone.rc, 0);
	pthread_t th[SEARCH_THREADS];
	for (int t = 0; t < SEARCH_THREADS; t++) {
		jobs[t].ix = ix;
		jobs[t].queries = queries;
		assert_int_equal(pthread_create(&th[t], NULL, search_many, &jobs[t]), 0);
	}
	for (int t = 0; t < SEARCH_THREADS; t++) {
		pthread_join(th[t], NULL);
		assert_int_equal(jobs[t].rc, 0);
		assert_memory_equal(jobs[t].slots, alone.slots, sizeof alone.slots);
		assert_memory_equal(jobs[t].d, alone.d, sizeof alone.d);
		assert_memory_equal(jobs[t].found, alone.found, sizeof alone.found);
	}
	flat->close(ix);
}

/* ---- out of memory -------------------------------------------------------- */

/* The top 10 of a few queries, to see that failures change nothing. */
typedef struct snapshot {
	uint32_t slots[4][10];
	float d[4][10];
	size_t found[4];
} snapshot;

static void take_snapshot(const brain_index *ix, const float *queries, uint32_t dim, snapshot *s)
{
	memset(s, 0, sizeof *s);
	for (int i = 0; i < 4; i++)
		assert_int_equal(flat->search(ix, queries + (size_t)i * dim, 10, NULL, s->slots[i],
		                              s->d[i], &s->found[i]),
		                 0);
}

static void fault_loop(const char *what, uint32_t dim, uint32_t first, uint32_t target)
{
	test_rng rng = {6};
	brain_index *ix = open_flat(dim, BRAIN_METRIC_L2, 1u << 20);
	float *v = malloc(dim * sizeof *v), *queries = malloc(4 * dim * sizeof *queries);
	assert_non_null(v);
	assert_non_null(queries);
	for (uint32_t s = 0; s < first; s++) {
		random_vector(&rng, v, dim, BRAIN_METRIC_L2);
		assert_int_equal(flat->add(ix, s, v), 0);
	}
	for (int i = 0; i < 4; i++)
		random_vector(&rng, queries + (size_t)i * dim, dim, BRAIN_METRIC_L2);
	snapshot before, after;
	take_snapshot(ix, queries, dim, &before);
	random_vector(&rng, v, dim, BRAIN_METRIC_L2);
	int failures = 0;
	for (long n = 1;; n++) {
		fail_nth(n);
		int rc = strcmp(what, "add") == 0 ? flat->add(ix, target, v) : flat->reserve(ix, target);
		fail_none();
		if (rc == 0)
			break;
		failures++;
		assert_int_equal(rc, BRAIN_ENOMEM);
		take_snapshot(ix, queries, dim, &after);
		assert_memory_equal(&before, &after, sizeof before);
		float out[1];
		if (dim == 1)
			assert_int_equal(flat->get(ix, target, out), BRAIN_ENOTFOUND);
		assert_true(n < 10000);
	}
	assert_true(failures > 0);
	if (strcmp(what, "add") == 0) {
		/* The vector is in, and found. */
		uint32_t slot;
		float d;
		size_t found;
		assert_int_equal(flat->search(ix, v, 1, NULL, &slot, &d, &found), 0);
		assert_int_equal(slot, target);
		assert_true(d == 0.0f);
	} else {
		/* The reserved room is usable without memory. */
		fail_nth(-1);
		assert_int_equal(flat->add(ix, target - 1, v), 0);
		fail_none();
	}
	flat->close(ix);
	free(v);
	free(queries);
}

static void test_flat__enomem_in_add_changes_nothing(void **state)
{
	(void)state;
	fault_loop("add", 1, 100, 200000); /* new chunks and a bigger bitmap */
	fault_loop("add", 300, 10, 128); /* the second chunk */
	fault_loop("add", 300, 0, 0); /* the very first add */
}

static void test_flat__enomem_in_reserve_changes_nothing(void **state)
{
	(void)state;
	fault_loop("reserve", 16, 50, 100000);
	fault_loop("reserve", 1, 0, 5);
}

static void test_flat__enomem_in_open(void **state)
{
	(void)state;
	brain_index_config c = {BRAIN_INDEX_VTABLE_VERSION, 16, BRAIN_METRIC_COSINE, 100, NULL, NULL};
	for (long n = 1;; n++) {
		brain_index *ix = (brain_index *)(void *)&c; /* must be reset to NULL */
		fail_nth(n);
		int rc = flat->open(&c, &ix);
		fail_none();
		if (rc == 0) {
			assert_non_null(ix);
			flat->close(ix);
			break;
		}
		assert_int_equal(rc, BRAIN_ENOMEM);
		assert_null(ix);
	}
}

/* ---- registry ---------------------------------------------------------- */

static brain_index_vtable g_copy;

static void test_flat__registry_finds_flat(void **state)
{
	(void)state;
	assert_ptr_equal(brain_index_find("flat"), &brain__index_flat);
	assert_null(brain_index_find("nope"));
	assert_null(brain_index_find(""));
	assert_null(brain_index_find(NULL));
	assert_null(brain_index_find("FLAT"));
}

static void test_flat__registry_register_copy(void **state)
{
	(void)state;
	g_copy = brain__index_flat;
	g_copy.name = "flat-copy";
	assert_int_equal(brain_index_register(&g_copy), 0);
	const brain_index_vtable *vt = brain_index_find("flat-copy");
	assert_ptr_equal(vt, &g_copy);
	/* It works through the registry like the original. */
	brain_index_config c = {BRAIN_INDEX_VTABLE_VERSION, 2, BRAIN_METRIC_L2, 10, NULL, NULL};
	brain_index *ix;
	assert_int_equal(vt->open(&c, &ix), 0);
	float a[2] = {1, 1};
	assert_int_equal(vt->add(ix, 4, a), 0);
	uint32_t slot;
	float d;
	size_t found;
	assert_int_equal(vt->search(ix, a, 1, NULL, &slot, &d, &found), 0);
	assert_int_equal(found, 1);
	assert_int_equal(slot, 4);
	vt->close(ix);
	/* Names are unique, the built-in ones included. */
	assert_int_equal(brain_index_register(&g_copy), BRAIN_EEXISTS);
	static brain_index_vtable other;
	other = brain__index_flat;
	assert_int_equal(brain_index_register(&other), BRAIN_EEXISTS); /* "flat" */
	other.name = "flat-copy";
	assert_int_equal(brain_index_register(&other), BRAIN_EEXISTS);
	assert_ptr_equal(brain_index_find("flat-copy"), &g_copy);
}

static void test_flat__registry_rejects_bad_vtables(void **state)
{
	(void)state;
	assert_int_equal(brain_index_register(NULL), BRAIN_ENULL);
	static brain_index_vtable vt;
	/* Each function pointer NULL in turn. */
	for (int field = 0; field < 8; field++) {
		vt = brain__index_flat;
		vt.name = "broken";
		switch (field) {
		case 0: vt.open = NULL; break;
		case 1: vt.reserve = NULL; break;
		case 2: vt.add = NULL; break;
		case 3: vt.remove = NULL; break;
		case 4: vt.get = NULL; break;
		case 5: vt.search = NULL; break;
		case 6: vt.memory_usage = NULL; break;
		default: vt.close = NULL; break;
		}
		assert_int_equal(brain_index_register(&vt), BRAIN_ENULL);
	}
	vt = brain__index_flat;
	vt.name = NULL;
	assert_int_equal(brain_index_register(&vt), BRAIN_ENULL);
	vt.name = "broken";
	vt.version = BRAIN_INDEX_VTABLE_VERSION + 1;
	assert_int_equal(brain_index_register(&vt), BRAIN_EVERSION);
	vt.version = 0;
	assert_int_equal(brain_index_register(&vt), BRAIN_EVERSION);
	vt.version = BRAIN_INDEX_VTABLE_VERSION;
	vt.name = "";
	assert_int_equal(brain_index_register(&vt), BRAIN_EINVAL);
	/* version 4: info and search_planned are required; flush, open_files
	 * and retire come together, and only with save */
	vt = brain__index_flat;
	vt.name = "broken";
	vt.info = NULL;
	assert_int_equal(brain_index_register(&vt), BRAIN_ENULL);
	vt = brain__index_flat;
	vt.name = "broken";
	vt.search_planned = NULL;
	assert_int_equal(brain_index_register(&vt), BRAIN_ENULL);
	vt = brain__index_flat;
	vt.name = "broken";
	vt.retire = NULL;
	assert_int_equal(brain_index_register(&vt), BRAIN_EINVAL);
	vt = brain__index_flat;
	vt.name = "broken";
	vt.save = NULL;
	vt.load = NULL;
	assert_int_equal(brain_index_register(&vt), BRAIN_EINVAL);
	/* None of the broken ones got in. */
	assert_null(brain_index_find("broken"));
	assert_null(brain_index_find(""));
}

/* Threads race to fill the table: exactly as many succeed as there is
 * room for, the rest get BRAIN_EFULL, and every winner is findable. */
#define RACE_THREADS 4
#define RACE_PER_THREAD 8

static brain_index_vtable g_race[RACE_THREADS][RACE_PER_THREAD];
static char g_race_names[RACE_THREADS][RACE_PER_THREAD][16];
static int g_race_rc[RACE_THREADS][RACE_PER_THREAD];

static void *race(void *arg)
{
	int t = (int)(intptr_t)arg;
	for (int i = 0; i < RACE_PER_THREAD; i++)
		g_race_rc[t][i] = brain_index_register(&g_race[t][i]);
	return NULL;
}

static void test_flat__registry_is_thread_safe_and_bounded(void **state)
{
	(void)state;
	for (int t = 0; t < RACE_THREADS; t++) {
		for (int i = 0; i < RACE_PER_THREAD; i++) {
			snprintf(g_race_names[t][i], sizeof g_race_names[t][i], "race-%d-%d", t, i);
			g_race[t][i] = brain__index_flat;
			g_race[t][i].name = g_race_names[t][i];
		}
	}
	pthread_t th[RACE_THREADS];
	for (int t = 0; t < RACE_THREADS; t++)
		assert_int_equal(pthread_create(&th[t], NULL, race, (void *)(intptr_t)t), 0);
	for (int t = 0; t < RACE_THREADS; t++)
		pthread_join(th[t], NULL);
	int ok = 0;
	for (int t = 0; t < RACE_THREADS; t++) {
		for (int i = 0; i < RACE_PER_THREAD; i++) {
			if (g_race_rc[t][i] == 0) {
				ok++;
				assert_ptr_equal(brain_index_find(g_race_names[t][i]), &g_race[t][i]);
			} else {
				assert_int_equal(g_race_rc[t][i], BRAIN_EFULL);
				assert_null(brain_index_find(g_race_names[t][i]));
			}
		}
	}
	/* 16 user backends; "flat-copy" took one. */
	assert_int_equal(ok, 15);
	assert_ptr_equal(brain_index_find("flat-copy"), &g_copy);
	assert_ptr_equal(brain_index_find("flat"), &brain__index_flat);
}

int main(int argc, char **argv)
{
	g_argv0 = argv[0];
	if (argc > 1 && strcmp(argv[1], "--property") == 0) {
		const struct CMUnitTest property[] = {
			cmocka_unit_test(test_flat__property_l2),
			cmocka_unit_test(test_flat__property_ip),
			cmocka_unit_test(test_flat__property_cosine),
			cmocka_unit_test(test_flat__property_small_chunks),
			cmocka_unit_test(test_flat__dense_long_runs),
			cmocka_unit_test(test_flat__8bit_rows_answer_as_float_rows),
			cmocka_unit_test(test_flat__8bit_rows_refuse_what_they_cannot_hold),
			cmocka_unit_test(test_flat__8bit_rows_save_and_load),
		};
		return cmocka_run_group_tests_name(brain__simd_name(brain__simd_best()), property,
		                                   NULL, NULL);
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flat__vtable_describes_flat),
		cmocka_unit_test(test_flat__empty_search_finds_nothing),
		cmocka_unit_test(test_flat__get_returns_what_was_added),
		cmocka_unit_test(test_flat__remove_then_search),
		cmocka_unit_test(test_flat__ties_go_to_the_smaller_slot),
		cmocka_unit_test(test_flat__slot_reuse_after_remove),
		cmocka_unit_test(test_flat__k_may_exceed_count),
		cmocka_unit_test(test_flat__filter_still_returns_k),
		cmocka_unit_test(test_flat__nan_distance_ranks_last),
		cmocka_unit_test(test_flat__errors),
		cmocka_unit_test(test_flat__reserve),
		cmocka_unit_test(test_flat__memory_usage_grows),
		cmocka_unit_test(test_flat__concurrent_searches),
		cmocka_unit_test(test_flat__property_l2),
		cmocka_unit_test(test_flat__property_ip),
		cmocka_unit_test(test_flat__property_cosine),
		cmocka_unit_test(test_flat__property_small_chunks),
		cmocka_unit_test(test_flat__property_at_every_level),
		cmocka_unit_test(test_flat__dense_long_runs),
		cmocka_unit_test(test_flat__enomem_in_add_changes_nothing),
		cmocka_unit_test(test_flat__enomem_in_reserve_changes_nothing),
		cmocka_unit_test(test_flat__enomem_in_open),
		cmocka_unit_test(test_flat__registry_finds_flat),
		cmocka_unit_test(test_flat__registry_register_copy),
		cmocka_unit_test(test_flat__registry_rejects_bad_vtables),
		cmocka_unit_test(test_flat__registry_is_thread_safe_and_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
