/*
 * tests/test_distance.c - the distance kernels (index/distance*.c): every
 * SIMD level this CPU supports against the scalar reference, batch against
 * pair, tails that must not read past the end, level selection with the
 * BRAINCORE_SIMD override, the kernels for 8-bit rows against the float
 * kernels (bit for bit), the SQ8 code kernels against the scalar ones
 * (exactly), and the checking and normalisation of vectors.
 *
 * Tolerance. The reference sums in double, so its error is negligible; a
 * float kernel's error is bounded (Higham, "Accuracy and Stability of
 * Numerical Algorithms", 4.2: recursive summation of m terms errs by at most
 * (m - 1) u sum |term|, u = 2^-24) by the length of its longest chain of
 * dependent additions times u times S = sum |term|. The kernels split the
 * terms over independent accumulators, so the chain is about dim / lanes
 * plus the final reduction; chain_bound() gives it per level, and 3 more u
 * cover the rounding of (a - b) before squaring (2u per term), of 1 - dot
 * and of the reference's own result. The bound is relative to S, not to
 * the result, because a dot product can cancel to near zero. It is a
 * worst-case bound, not a statistical one, so no seed can make the test
 * flaky (the largest error seen is a fifth of it), and still tight enough to catch a kernel that drops or
 * doubles a single component (an error of about S / dim): at dim 4096 the
 * bound is about 26 times smaller than that for AVX-512, 14 for AVX2 and 2
 * times for the scalar level; test_distance__exact_small_cases catches such
 * slips exactly at small dims.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "index/distance.h"
#include "tests/test_util.h"

static const char *g_argv0;

static const int g_metrics[] = {BRAIN_METRIC_L2, BRAIN_METRIC_IP, BRAIN_METRIC_COSINE};

/* dims 1..130, then some real embedding sizes and odd large ones. */
static size_t test_dim(size_t i)
{
	static const size_t large[] = {255, 256, 257, 384, 768, 1000, 1536, 4096, 4099};
	return i < 130 ? i + 1 : large[i - 130];
}
#define N_TEST_DIMS (130 + 9)

/* Longest chain of dependent float additions in a kernel of `level`. */
static double chain_bound(int level, size_t dim)
{
	switch (level) {
	case BRAIN_SIMD_SCALAR: /* 4 sums; tail of 3; 2 to combine */
		return (double)(dim / 4 + 3 + 2);
	case BRAIN_SIMD_AVX2: /* 4 x 8 lanes; 3 steps of 8; tail; 2 + 3 to reduce */
		return (double)(dim / 32 + 3 + 1 + 5);
	default: /* 4 x 16 lanes; 3 steps of 16; tail; 2 + 4 to reduce */
		return (double)(dim / 64 + 3 + 1 + 6);
	}
}

/* The distance in double, and S = sum |term|. */
static double exact_distance(int metric, const float *a, const float *b, size_t dim, double *S)
{
	double s = 0.0, abs_sum = 0.0;
	for (size_t i = 0; i < dim; i++) {
		if (metric == BRAIN_METRIC_L2) {
			double d = (double)a[i] - (double)b[i];
			s += d * d;
			abs_sum += d * d;
		} else {
			double p = (double)a[i] * (double)b[i];
			s += p;
			abs_sum += fabs(p);
		}
	}
	*S = abs_sum;
	return metric == BRAIN_METRIC_L2 ? s : 1.0 - s;
}

/* The reference as the library defines it. */
static double ref_distance(int metric, const float *a, const float *b, size_t dim)
{
	if (metric == BRAIN_METRIC_L2)
		return (double)brain__l2sq_ref(a, b, dim);
	return 1.0 - (double)brain__dot_ref(a, b, dim);
}

static void check_close(int level, int metric, const float *a, const float *b, size_t dim,
                        float got)
{
	double S;
	double exact = exact_distance(metric, a, b, dim, &S);
	double ref = ref_distance(metric, a, b, dim);
	double u = ldexp(1.0, -24);
	double tol = (chain_bound(level, dim) + 3.0) * u * (S + fabs(exact)) + 1e-30;
	/* The reference is itself within half an ulp (plus 1 - dot) of exact. */
	assert_true(fabs(ref - exact) <= 2.0 * u * (S + fabs(exact)) + 1e-30);
	if (!(fabs((double)got - ref) <= tol))
		fail_msg("%s metric %d dim %zu: got %.9g, reference %.9g (exact %.9g), tolerance %.3g",
		         brain__simd_name((brain_simd_level)level), metric, dim, (double)got, ref, exact,
		         tol);
}

/* n floats (malloc'd). */
static float *floats(size_t n)
{
	float *v = malloc(n * sizeof *v);
	assert_non_null(v);
	return v;
}

/* The kernels of one metric at one level this CPU supports. */
typedef struct kernels {
	int at; /* level * metrics + the metric's index; -1 before the first */
	int level, metric;
	brain_dist_fn pair;
	brain_dist_batch_fn batch;
	brain_dist_gather_fn gather;
	brain_dist_multi_fn multi;
} kernels;

/* Steps k to the next metric, after the last one to the first of the next
 * supported level (as loops over levels, then metrics, would); false past
 * the end. Start from {.at = -1}. */
static bool next_kernels(kernels *k)
{
	const int metrics = (int)BRAIN_ARRAY_LEN(g_metrics);
	do
		k->at++;
	while (k->at < BRAIN_SIMD__COUNT * metrics &&
	       !brain__simd_supported((brain_simd_level)(k->at / metrics))); /* e.g. no AVX-512 */
	if (k->at >= BRAIN_SIMD__COUNT * metrics)
		return false;
	k->level = k->at / metrics;
	k->metric = g_metrics[k->at % metrics];
	k->pair = brain__dist_fn(k->metric, k->level);
	k->batch = brain__dist_batch_fn(k->metric, k->level);
	k->gather = brain__dist_gather_fn(k->metric, k->level);
	k->multi = brain__dist_multi_fn(k->metric, k->level);
	return true;
}

/* Values of very different magnitudes (and signs), so that large terms sit
 * next to small ones: rounding then matters. */
static void fill(test_rng *rng, float *v, size_t n, int spread)
{
	for (size_t i = 0; i < n; i++) {
		float x = test_rng_float(rng, -1.0f, 1.0f);
		if (spread)
			x *= (float)pow(10.0, (double)test_rng_float(rng, -3.0f, 3.0f));
		v[i] = x;
	}
}

/* ---- levels ------------------------------------------------------------ */

static void test_distance__levels_are_reported(void **state)
{
	(void)state;
	assert_true(brain__simd_supported(BRAIN_SIMD_SCALAR));
	assert_false(brain__simd_supported(BRAIN_SIMD__COUNT));
	assert_false(brain__simd_supported((brain_simd_level)-1));
	assert_string_equal(brain__simd_name(BRAIN_SIMD_SCALAR), "scalar");
	assert_string_equal(brain__simd_name(BRAIN_SIMD_AVX2), "avx2");
	assert_string_equal(brain__simd_name(BRAIN_SIMD_AVX512), "avx512");
	assert_string_equal(brain__simd_name(BRAIN_SIMD__COUNT), "unknown");
#if defined(__x86_64__) || defined(__i386__)
	__builtin_cpu_init();
	assert_int_equal(brain__simd_supported(BRAIN_SIMD_AVX2),
	                 __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"));
	assert_int_equal(brain__simd_supported(BRAIN_SIMD_AVX512),
	                 !!__builtin_cpu_supports("avx512f"));
#else
	assert_false(brain__simd_supported(BRAIN_SIMD_AVX2));
	assert_false(brain__simd_supported(BRAIN_SIMD_AVX512));
#endif
	brain_simd_level best = brain__simd_best();
	assert_true(brain__simd_supported(best));
	for (int l = 0; l < BRAIN_SIMD__COUNT; l++) {
		bool ok = brain__simd_supported((brain_simd_level)l);
		for (size_t m = 0; m < BRAIN_ARRAY_LEN(g_metrics); m++) {
			assert_int_equal(brain__dist_fn(g_metrics[m], l) != NULL, ok);
			assert_int_equal(brain__dist_batch_fn(g_metrics[m], l) != NULL, ok);
		}
	}
	/* Negative: the best level. */
	assert_ptr_equal(brain__dist_fn(BRAIN_METRIC_L2, -1), brain__dist_fn(BRAIN_METRIC_L2, best));
	assert_null(brain__dist_fn(99, BRAIN_SIMD_SCALAR));
	assert_null(brain__dist_batch_fn(-5, -1));
	assert_null(brain__dist_fn(BRAIN_METRIC_L2, BRAIN_SIMD__COUNT));
	/* IP and cosine are the same distance (1 - dot). */
	assert_ptr_equal(brain__dist_fn(BRAIN_METRIC_IP, 0), brain__dist_fn(BRAIN_METRIC_COSINE, 0));
}

static void test_distance__override_only_lowers(void **state)
{
	(void)state;
	brain_simd_level top = BRAIN_SIMD_SCALAR;
	for (int l = 0; l < BRAIN_SIMD__COUNT; l++)
		if (brain__simd_supported((brain_simd_level)l))
			top = (brain_simd_level)l;
	assert_int_equal(brain__simd_choose(NULL), top);
	assert_int_equal(brain__simd_choose(""), top);
	assert_int_equal(brain__simd_choose("fastest-please"), top);
	assert_int_equal(brain__simd_choose("scalar"), BRAIN_SIMD_SCALAR);
	assert_int_equal(brain__simd_choose("SCALAR"), BRAIN_SIMD_SCALAR);
	assert_int_equal(brain__simd_choose("avx2"), BRAIN_MIN(top, BRAIN_SIMD_AVX2));
	assert_int_equal(brain__simd_choose("Avx512"), BRAIN_MIN(top, BRAIN_SIMD_AVX512));
	assert_int_equal(brain__simd_choose("avx"), top);
	assert_int_equal(brain__simd_choose("avx2x"), top);
}

/* The child side of test_distance__environment_override: print the level
 * this process chose and exit. */
static int simd_child(void)
{
	fputs(brain__simd_name(brain__simd_best()), stdout);
	return 0;
}

/* Run this program again with BRAINCORE_SIMD=value (NULL: unset) and read
 * what it prints. NULL if it cannot be run (then the test skips). */
static const char *child_level(const char *value, char *buf, size_t size)
{
	return test_run_self_simd(g_argv0, "--simd-child", value, buf, size);
}

/* The level called `name`; -1 for none, -2 if the child failed (NULL). */
static int level_named(const char *name)
{
	if (!name)
		return -2;
	for (int l = 0; l < BRAIN_SIMD__COUNT; l++)
		if (strcmp(name, brain__simd_name((brain_simd_level)l)) == 0)
			return l;
	return -1;
}

static void test_distance__environment_override(void **state)
{
	(void)state;
	char buf[64];
	if (!child_level(NULL, buf, sizeof buf))
		skip();
	/* The child's own best level is the reference, not this process's: a
	 * checker such as valgrind may hide AVX-512 from this process and not
	 * from the child it does not trace. */
	int top = level_named(buf);
	assert_true(top >= 0);
	assert_int_equal(level_named(child_level("scalar", buf, sizeof buf)), BRAIN_SIMD_SCALAR);
	assert_int_equal(level_named(child_level("avx2", buf, sizeof buf)),
	                 BRAIN_MIN(top, BRAIN_SIMD_AVX2));
	assert_int_equal(level_named(child_level("AVX512", buf, sizeof buf)), top);
	assert_int_equal(level_named(child_level("nonsense", buf, sizeof buf)), top);
}

/* ---- kernels against the reference -------------------------------------- */

/* For every supported level: pair kernels of every metric on vectors of
 * every test dimension, at aligned and unaligned addresses, with
 * everyday and spread-out magnitudes. */
static void test_distance__pair_matches_reference(void **state)
{
	(void)state;
	test_rng rng = {1};
	size_t max = 4099 + 16;
	float *a = floats(max), *b = floats(max);
	for (kernels k = {.at = -1}; next_kernels(&k);) {
		assert_non_null(k.pair);
		for (size_t t = 0; t < N_TEST_DIMS; t++) {
			size_t dim = test_dim(t);
			for (int spread = 0; spread <= 1; spread++) {
				size_t off_a = t % 5, off_b = (t * 3) % 7; /* unaligned too */
				fill(&rng, a + off_a, dim, spread);
				fill(&rng, b + off_b, dim, spread);
				float got = k.pair(a + off_a, b + off_b, dim);
				check_close(k.level, k.metric, a + off_a, b + off_b, dim, got);
				/* Distances are symmetric, exactly. */
				assert_true(k.pair(b + off_b, a + off_a, dim) == got);
			}
		}
	}
	free(a);
	free(b);
}

/* Exact cases every level must get exactly right. */
static void test_distance__exact_small_cases(void **state)
{
	(void)state;
	for (int level = 0; level < BRAIN_SIMD__COUNT; level++) {
		if (!brain__simd_supported((brain_simd_level)level))
			continue;
		brain_dist_fn l2 = brain__dist_fn(BRAIN_METRIC_L2, level);
		brain_dist_fn ip = brain__dist_fn(BRAIN_METRIC_IP, level);
		float a[70], b[70];
		for (size_t dim = 1; dim <= 70; dim++) {
			for (size_t i = 0; i < dim; i++) {
				a[i] = (float)(i % 3);
				b[i] = (float)(i % 3) + (i == dim - 1 ? 2.0f : 0.0f);
			}
			/* Only the last component differs, by 2: catches a tail
			 * that is skipped or read twice. */
			assert_true(l2(a, b, dim) == 4.0f);
			assert_true(l2(a, a, dim) == 0.0f);
			float dot = 0.0f;
			for (size_t i = 0; i < dim; i++)
				dot += a[i] * a[i];
			assert_true(ip(a, a, dim) == 1.0f - dot);
		}
	}
}

/* The gather kernel (rows anywhere, the query in registers up to 256
 * floats) gives each row exactly the pair kernel's distance: every
 * dimension from 1 to 300 (each block count with and without a tail, and
 * the fallback past 256), rows at 4-byte offsets, counts 0 to 9. */
static void test_distance__gather_equals_pair(void **state)
{
	(void)state;
	test_rng rng = {3};
	size_t max_dim = 300;
	float *pool = floats(10 * (max_dim + 3));
	float *q = floats(max_dim);
	const float *rows[10];
	float out[11];
	for (kernels k = {.at = -1}; next_kernels(&k);) {
		assert_non_null(k.gather);
		for (size_t dim = 1; dim <= max_dim; dim++) {
			size_t n = dim % 10;
			fill(&rng, q, dim, (int)(dim & 1));
			for (size_t i = 0; i < n; i++) {
				/* row i starts i % 4 floats past its share of the pool */
				float *r = pool + i * (dim + 3) + i % 4;
				fill(&rng, r, dim, (int)(dim & 1));
				rows[n - 1 - i] = r; /* not in address order */
			}
			out[n] = 12345.0f;
			k.gather(q, rows, n, dim, out);
			assert_true(out[n] == 12345.0f);
			for (size_t i = 0; i < n; i++)
				if (out[i] != k.pair(q, rows[i], dim))
					fail_msg("%s metric %d dim %zu row %zu: gather %.9g, pair %.9g",
					         brain__simd_name((brain_simd_level)k.level), k.metric, dim, i,
					         (double)out[i], (double)k.pair(q, rows[i], dim));
		}
	}
	assert_null(brain__dist_gather_fn(-5, -1));
	free(pool);
	free(q);
}

/* The many-query kernel gives each query exactly the batch kernel's
 * distances (so the pair kernel's), for query counts around the groups (2
 * and 4 queries), every tail length, and strides wider than dim; nothing
 * past out[nq * n) is written. */
static void test_distance__multi_equals_batch(void **state)
{
	(void)state;
	test_rng rng = {31};
	enum { MAXQ = 9, MAXN = 7 };
	size_t max_dim = 160;
	float *rows = floats(MAXN * (max_dim + 5));
	float *qs = floats(MAXQ * max_dim);
	float out[MAXQ * MAXN + 1], want[MAXN];
	const float *q[MAXQ];
	for (kernels k = {.at = -1}; next_kernels(&k);) {
		assert_non_null(k.multi);
		for (size_t dim = 1; dim <= max_dim; dim += dim < 40 ? 1 : 7) {
			size_t stride = dim + dim % 5;
			for (size_t nq = 1; nq <= MAXQ; nq++) {
				size_t n = (dim + nq) % MAXN + 1;
				fill(&rng, rows, n * stride, (int)(dim & 1));
				for (size_t j = 0; j < nq; j++) {
					q[j] = qs + j * max_dim;
					fill(&rng, qs + j * max_dim, dim, (int)(j & 1));
				}
				out[nq * n] = 12345.0f;
				k.multi(q, nq, rows, n, stride, dim, out);
				assert_true(out[nq * n] == 12345.0f);
				for (size_t j = 0; j < nq; j++) {
					k.batch(q[j], rows, n, stride, dim, want);
					for (size_t i = 0; i < n; i++)
						if (out[j * n + i] != want[i])
							fail_msg("%s metric %d dim %zu nq %zu query %zu row %zu: multi "
							         "%.9g, batch %.9g",
							         brain__simd_name((brain_simd_level)k.level), k.metric, dim,
							         nq, j, i, (double)out[j * n + i], (double)want[i]);
				}
			}
		}
	}
	assert_null(brain__dist_multi_fn(-5, -1));
	free(rows);
	free(qs);
}

/* The batch kernel gives each row exactly the pair kernel's distance, for
 * row counts around the kernels' grouping (2 and 4 rows) and for strides
 * equal to dim, odd, and rounded to 64 bytes as the row table does. */
static void test_distance__batch_equals_pair(void **state)
{
	(void)state;
	static const size_t counts[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 17, 64};
	test_rng rng = {2};
	size_t max_dim = 4099, max_stride = max_dim + 16;
	float *rows = floats(64 * max_stride);
	float *q = floats(max_dim);
	float out[65];
	for (kernels k = {.at = -1}; next_kernels(&k);) {
		for (size_t t = 0; t < N_TEST_DIMS; t += (t < 40 ? 1 : 7)) {
			size_t dim = test_dim(t);
			size_t strides[3] = {dim, dim + 1 + t % 5, (dim + 15) & ~(size_t)15};
			for (size_t s = 0; s < 3; s++) {
				size_t stride = strides[s];
				size_t n = counts[(t + s) % BRAIN_ARRAY_LEN(counts)];
				fill(&rng, q, dim, (int)(t & 1));
				fill(&rng, rows, n ? (n - 1) * stride + dim : 0, (int)(t & 1));
				out[n] = 12345.0f; /* must stay untouched */
				k.batch(q, rows, n, stride, dim, out);
				assert_true(out[n] == 12345.0f);
				for (size_t i = 0; i < n; i++) {
					const float *row = rows + i * stride;
					if (out[i] != k.pair(q, row, dim))
						fail_msg("%s metric %d dim %zu stride %zu n %zu row %zu: "
						         "batch %.9g, pair %.9g",
						         brain__simd_name((brain_simd_level)k.level), k.metric, dim,
						         stride, n, i, (double)out[i], (double)k.pair(q, row, dim));
					check_close(k.level, k.metric, q, row, dim, out[i]);
				}
			}
		}
	}
	free(rows);
	free(q);
}

/* Vectors that end right before an inaccessible page: the tail of a kernel
 * must not read past the last component (masked loads only). */
static void test_distance__tail_stays_inside(void **state)
{
	(void)state;
	long page = sysconf(_SC_PAGESIZE);
	assert_true(page >= 4096);
	/* /dev/zero rather than MAP_ANONYMOUS, which strict POSIX 2008 lacks. */
	int fd = open("/dev/zero", O_RDWR);
	if (fd < 0)
		skip();
	unsigned char *mem = mmap(NULL, 3 * (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	close(fd);
	if (mem == MAP_FAILED)
		skip();
	/* Page 0: the query; page 1: rows; page 2: no access. */
	assert_int_equal(mprotect(mem + 2 * page, (size_t)page, PROT_NONE), 0);
	float *qpage = (float *)(void *)mem;
	float *end = (float *)(void *)(mem + 2 * page);
	test_rng rng = {3};
	float out[4];
	for (kernels k = {.at = -1}; next_kernels(&k);) {
		for (size_t dim = 1; dim <= 100; dim++) {
			float *b = end - dim;
			float *a = qpage + (size_t)page / sizeof(float) - dim;
			fill(&rng, a, dim, 0);
			fill(&rng, b, dim, 0);
			check_close(k.level, k.metric, a, b, dim, k.pair(a, b, dim));
			/* Four rows, the last one ending at the guard page. */
			float *rows = end - (3 * dim + dim);
			fill(&rng, rows, 4 * dim, 0);
			k.batch(a, rows, 4, dim, dim, out);
			for (size_t i = 0; i < 4; i++)
				assert_true(out[i] == k.pair(a, rows + i * dim, dim));
		}
	}
	munmap(mem, 3 * (size_t)page);
}

/* The references themselves on values whose sums are exact in float. */
static void test_distance__reference_is_exact_on_small_integers(void **state)
{
	(void)state;
	float a[5] = {1, 2, 3, 4, 5}, b[5] = {5, 4, 3, 2, 1};
	assert_true(brain__l2sq_ref(a, b, 5) == 16.0f + 4.0f + 0.0f + 4.0f + 16.0f);
	assert_true(brain__dot_ref(a, b, 5) == 5.0f + 8.0f + 9.0f + 8.0f + 5.0f);
	assert_true(brain__l2sq_ref(a, b, 0) == 0.0f);
	/* Accumulated in double: 1e8 + 1 + 1 ... keeps the small terms. */
	float big[3] = {1e4f, 1.0f, 1.0f}, one[3] = {1e4f, 1.0f, 1.0f};
	assert_true(brain__dot_ref(big, one, 3) == 100000002.0f);
}

/* ---- 8-bit rows ---------------------------------------------------------- */

static const brain_elem g_elems8[] = {BRAIN_ELEM_U8, BRAIN_ELEM_I8};
static const int g_metrics8[] = {BRAIN_METRIC_L2, BRAIN_METRIC_IP};

/* Byte i of an 8-bit row as the float the kernels must see. */
static float widen8(brain_elem elem, unsigned char b)
{
	return elem == BRAIN_ELEM_I8 ? (float)(int8_t)b : (float)b;
}

/* Queries as a caller may pass them: small and spread-out values of both
 * signs, large ones (a pixel query scaled by 4), integers and exact zeros,
 * so that some differences with the row are exact and some round. */
static void fill_query8(test_rng *rng, float *q, size_t dim)
{
	for (size_t i = 0; i < dim; i++) {
		switch (test_rng_next(rng) % 6) {
		case 0:
			q[i] = test_rng_float(rng, -1.0f, 1.0f);
			break;
		case 1:
			q[i] = test_rng_float(rng, -1.0f, 1.0f) *
			       (float)pow(10.0, (double)test_rng_float(rng, -3.0f, 3.0f));
			break;
		case 2:
			q[i] = test_rng_float(rng, -1e3f, 1e3f);
			break;
		case 3:
			q[i] = (float)((int)(test_rng_next(rng) % 513) - 256);
			break;
		case 4:
			q[i] = test_rng_float(rng, -300.0f, 300.0f);
			break;
		default:
			q[i] = 0.0f;
			break;
		}
	}
}

/* Random bytes over the full range. */
static void fill_bytes(test_rng *rng, unsigned char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (unsigned char)(test_rng_next(rng) & 0xff);
}

/* got (an 8-bit kernel) and want (the float kernel on the widened row)
 * must be the same float, bit for bit. */
static void check_same_bits(const char *kind, int level, int metric, brain_elem elem, size_t dim,
                            size_t row, float got, float want)
{
	if (memcmp(&got, &want, sizeof got) != 0)
		fail_msg("%s %s metric %d elem %d dim %zu row %zu: 8-bit %a (%.9g), float %a (%.9g)",
		         kind, brain__simd_name((brain_simd_level)level), metric, (int)elem, dim, row,
		         (double)got, (double)got, (double)want, (double)want);
}

static void test_distance__dist8_kernels_are_reported(void **state)
{
	(void)state;
	brain_simd_level best = brain__simd_best();
	for (int l = 0; l < BRAIN_SIMD__COUNT; l++) {
		bool ok = brain__simd_supported((brain_simd_level)l);
		for (size_t e = 0; e < BRAIN_ARRAY_LEN(g_elems8); e++) {
			for (size_t m = 0; m < BRAIN_ARRAY_LEN(g_metrics8); m++) {
				int metric = g_metrics8[m];
				brain_elem elem = g_elems8[e];
				assert_int_equal(brain__dist8_fn(metric, elem, l) != NULL, ok);
				assert_int_equal(brain__dist8_batch_fn(metric, elem, l) != NULL, ok);
				assert_int_equal(brain__dist8_gather_fn(metric, elem, l) != NULL, ok);
			}
			/* No cosine: 8-bit rows cannot be unit vectors. */
			assert_null(brain__dist8_fn(BRAIN_METRIC_COSINE, g_elems8[e], l));
			assert_null(brain__dist8_batch_fn(BRAIN_METRIC_COSINE, g_elems8[e], l));
			assert_null(brain__dist8_gather_fn(BRAIN_METRIC_COSINE, g_elems8[e], l));
		}
		/* Float rows have the float kernels. */
		assert_null(brain__dist8_fn(BRAIN_METRIC_L2, BRAIN_ELEM_F32, l));
		assert_null(brain__dist8_batch_fn(BRAIN_METRIC_IP, BRAIN_ELEM_F32, l));
		assert_null(brain__dist8_gather_fn(BRAIN_METRIC_L2, BRAIN_ELEM_F32, l));
	}
	assert_null(brain__dist8_fn(BRAIN_METRIC_COSINE, BRAIN_ELEM_U8, -1));
	assert_null(brain__dist8_fn(BRAIN_METRIC_L2, BRAIN_ELEM_F32, -1));
	/* Unknown metrics and element types. */
	assert_null(brain__dist8_fn(99, BRAIN_ELEM_U8, -1));
	assert_null(brain__dist8_fn(0, BRAIN_ELEM_I8, BRAIN_SIMD_SCALAR));
	assert_null(brain__dist8_batch_fn(-5, BRAIN_ELEM_U8, -1));
	assert_null(brain__dist8_gather_fn(99, BRAIN_ELEM_I8, -1));
	assert_null(brain__dist8_fn(BRAIN_METRIC_L2, (brain_elem)3, -1));
	assert_null(brain__dist8_batch_fn(BRAIN_METRIC_IP, (brain_elem)-1, BRAIN_SIMD_SCALAR));
	assert_null(brain__dist8_gather_fn(BRAIN_METRIC_L2, (brain_elem)7, -1));
	/* Levels that do not exist. */
	assert_null(brain__dist8_fn(BRAIN_METRIC_L2, BRAIN_ELEM_U8, BRAIN_SIMD__COUNT));
	assert_null(brain__dist8_batch_fn(BRAIN_METRIC_IP, BRAIN_ELEM_I8, BRAIN_SIMD__COUNT));
	assert_null(brain__dist8_gather_fn(BRAIN_METRIC_L2, BRAIN_ELEM_I8, 99));
	/* Negative: the best level. */
	for (size_t e = 0; e < BRAIN_ARRAY_LEN(g_elems8); e++) {
		for (size_t m = 0; m < BRAIN_ARRAY_LEN(g_metrics8); m++) {
			int metric = g_metrics8[m];
			brain_elem elem = g_elems8[e];
			assert_ptr_equal(brain__dist8_fn(metric, elem, -1),
			                 brain__dist8_fn(metric, elem, best));
			assert_ptr_equal(brain__dist8_batch_fn(metric, elem, -1),
			                 brain__dist8_batch_fn(metric, elem, best));
			assert_ptr_equal(brain__dist8_gather_fn(metric, elem, -1),
			                 brain__dist8_gather_fn(metric, elem, best));
		}
	}
	/* Different kernels for the two element types and the two metrics. */
	assert_ptr_not_equal(brain__dist8_fn(BRAIN_METRIC_L2, BRAIN_ELEM_U8, -1),
	                     brain__dist8_fn(BRAIN_METRIC_L2, BRAIN_ELEM_I8, -1));
	assert_ptr_not_equal(brain__dist8_fn(BRAIN_METRIC_L2, BRAIN_ELEM_U8, -1),
	                     brain__dist8_fn(BRAIN_METRIC_IP, BRAIN_ELEM_U8, -1));
}

/* Small cases with exact answers: the byte 0xff is 255 as uint8 and -1 as
 * int8, and only the last component differing catches a tail skipped or
 * read twice. */
static void test_distance__dist8_exact_small_cases(void **state)
{
	(void)state;
	for (int level = 0; level < BRAIN_SIMD__COUNT; level++) {
		if (!brain__simd_supported((brain_simd_level)level))
			continue;
		brain_dist8_fn l2u = brain__dist8_fn(BRAIN_METRIC_L2, BRAIN_ELEM_U8, level);
		brain_dist8_fn l2i = brain__dist8_fn(BRAIN_METRIC_L2, BRAIN_ELEM_I8, level);
		brain_dist8_fn ipu = brain__dist8_fn(BRAIN_METRIC_IP, BRAIN_ELEM_U8, level);
		brain_dist8_fn ipi = brain__dist8_fn(BRAIN_METRIC_IP, BRAIN_ELEM_I8, level);
		float q[70];
		unsigned char r[70];
		for (size_t dim = 1; dim <= 70; dim++) {
			memset(q, 0, sizeof q);
			memset(r, 0xff, sizeof r);
			assert_true(l2u(q, r, dim) == 65025.0f * (float)dim);
			assert_true(l2i(q, r, dim) == (float)dim);
			for (size_t i = 0; i < dim; i++)
				q[i] = 1.0f;
			assert_true(ipu(q, r, dim) == 1.0f - 255.0f * (float)dim);
			assert_true(ipi(q, r, dim) == 1.0f + (float)dim);
			for (size_t i = 0; i < dim; i++) {
				r[i] = (unsigned char)(i % 3);
				q[i] = (float)(i % 3) + (i == dim - 1 ? 2.0f : 0.0f);
			}
			assert_true(l2u(q, r, dim) == 4.0f);
			assert_true(l2i(q, r, dim) == 4.0f);
		}
	}
}

/* The property the 8-bit kernels promise: at every level, for both metrics
 * and element types, pair, batch and gather give exactly (memcmp) what the
 * float kernels give for the rows widened to float. Every dim from 1 to
 * 300 (each tail, each gather instance and the fallback past 256) and some
 * larger ones; rows at odd byte offsets and strides, rows counts around
 * the batch kernels' groups of 2 and 4. */
static void test_distance__dist8_equals_float(void **state)
{
	(void)state;
	static const size_t large[] = {511, 512, 513, 784, 1000, 4096, 4099};
	static const size_t counts[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 17};
	const size_t max_dim = 4099, max_rows = 17;
	const size_t max_stride = max_dim + 1 + 2 * 2;
	test_rng rng = {8};
	float *q = malloc(max_dim * sizeof *q);
	unsigned char *pool = malloc(8 + max_rows * max_stride);
	float *wide = malloc(max_rows * max_dim * sizeof *wide);
	assert_non_null(q);
	assert_non_null(pool);
	assert_non_null(wide);
	const void *rows8[17];
	const float *rowsf[17];
	float out8[18], outf[18];
	for (int level = 0; level < BRAIN_SIMD__COUNT; level++) {
		if (!brain__simd_supported((brain_simd_level)level))
			continue;
		for (size_t m = 0; m < BRAIN_ARRAY_LEN(g_metrics8); m++) {
			int metric = g_metrics8[m];
			brain_dist_fn pairf = brain__dist_fn(metric, level);
			brain_dist_batch_fn batchf = brain__dist_batch_fn(metric, level);
			brain_dist_gather_fn gatherf = brain__dist_gather_fn(metric, level);
			for (size_t e = 0; e < BRAIN_ARRAY_LEN(g_elems8); e++) {
				brain_elem elem = g_elems8[e];
				brain_dist8_fn pair8 = brain__dist8_fn(metric, elem, level);
				brain_dist8_batch_fn batch8 = brain__dist8_batch_fn(metric, elem, level);
				brain_dist8_gather_fn gather8 = brain__dist8_gather_fn(metric, elem, level);
				assert_non_null(pair8);
				assert_non_null(batch8);
				assert_non_null(gather8);
				for (size_t t = 0; t < 300 + BRAIN_ARRAY_LEN(large); t++) {
					size_t dim = t < 300 ? t + 1 : large[t - 300];
					size_t n = counts[(t + e + m) % BRAIN_ARRAY_LEN(counts)];
					size_t filled = n ? n : 1; /* the pair kernel sees a row always */
					/* an odd stride for even dims, odd first offsets */
					size_t stride = dim + 1 + 2 * (dim % 3), off = 1 + 2 * (t % 4);
					const unsigned char *base = pool + off;
					fill_query8(&rng, q, dim);
					fill_bytes(&rng, pool, off + (filled - 1) * stride + dim);
					for (size_t i = 0; i < filled; i++)
						for (size_t k = 0; k < dim; k++)
							wide[i * dim + k] = widen8(elem, base[i * stride + k]);
					for (size_t i = 0; i < n; i++) {
						/* the gather gets them in reverse order */
						rows8[n - 1 - i] = base + i * stride;
						rowsf[n - 1 - i] = wide + i * dim;
					}
					for (size_t i = 0; i < filled; i++)
						check_same_bits("pair", level, metric, elem, dim, i,
						                pair8(q, base + i * stride, dim),
						                pairf(q, wide + i * dim, dim));
					out8[n] = 12345.0f; /* must stay untouched */
					batch8(q, base, n, stride, dim, out8);
					batchf(q, wide, n, dim, dim, outf);
					assert_true(out8[n] == 12345.0f);
					for (size_t i = 0; i < n; i++)
						check_same_bits("batch", level, metric, elem, dim, i, out8[i],
						                outf[i]);
					gather8(q, rows8, n, dim, out8);
					gatherf(q, rowsf, n, dim, outf);
					assert_true(out8[n] == 12345.0f);
					for (size_t i = 0; i < n; i++)
						check_same_bits("gather", level, metric, elem, dim, i, out8[i],
						                outf[i]);
				}
			}
		}
	}
	free(q);
	free(pool);
	free(wide);
}

/* Q8 rows (any floats, quantised: int8 codes and a scale). For every
 * level, both metrics that have them and dims from 1 up:
 *  - each component comes back within half a step (a 254th of the largest),
 *    and under cosine the row is a unit vector;
 *  - a row's own values encode to the same bytes (get then add moves a
 *    vector bit for bit);
 *  - the pair kernel is 1 - q . (the row's values), to the float kernels'
 *    tolerance plus the rounding of the scale; batch and gather give each
 *    row the pair kernel's bits. */
static void test_distance__q8_rows(void **state)
{
	(void)state;
	static const size_t counts[] = {0, 1, 2, 3, 5, 8, 13, 17};
	const size_t max_dim = 4099, max_rows = 17;
	test_rng rng = {31};
	float *q = floats(max_dim), *x = floats(max_dim), *y = floats(max_dim);
	size_t max_stride = brain__elem_row_bytes(BRAIN_ELEM_Q8, max_dim) + 4;
	unsigned char *pool = malloc(max_rows * max_stride), *again = malloc(max_stride);
	assert_non_null(pool);
	assert_non_null(again);
	const int metrics[] = {BRAIN_METRIC_IP, BRAIN_METRIC_COSINE};
	const void *rows[17];
	float out[18];
	assert_null(brain__dist8_fn(BRAIN_METRIC_L2, BRAIN_ELEM_Q8, -1));
	for (int level = 0; level < BRAIN_SIMD__COUNT; level++) {
		if (!brain__simd_supported((brain_simd_level)level))
			continue;
		for (size_t m = 0; m < 2; m++) {
			int metric = metrics[m];
			bool unit = metric == BRAIN_METRIC_COSINE;
			brain_dist8_fn pair = brain__dist8_fn(metric, BRAIN_ELEM_Q8, level);
			brain_dist8_batch_fn batch = brain__dist8_batch_fn(metric, BRAIN_ELEM_Q8, level);
			brain_dist8_gather_fn gather = brain__dist8_gather_fn(metric, BRAIN_ELEM_Q8, level);
			assert_non_null(pair);
			assert_non_null(batch);
			assert_non_null(gather);
			for (size_t t = 0; t < N_TEST_DIMS; t++) {
				size_t dim = test_dim(t);
				size_t bytes = brain__elem_row_bytes(BRAIN_ELEM_Q8, dim);
				size_t stride = bytes + 4 * (t % 2); /* rows 4-byte aligned */
				size_t n = counts[t % BRAIN_ARRAY_LEN(counts)], filled = n ? n : 1;
				fill(&rng, q, dim, (int)(t % 2));
				for (size_t i = 0; i < filled; i++) {
					unsigned char *row = pool + i * stride;
					fill(&rng, x, dim, (int)(t % 3 == 0));
					if (unit)
						brain__normalize(x, dim);
					brain__q8_encode(x, dim, unit, row);
					brain__elem_widen(BRAIN_ELEM_Q8, row, dim, y);
					float amax = 0.0f;
					double n2 = 0.0;
					for (size_t k = 0; k < dim; k++) {
						amax = fmaxf(amax, fabsf(x[k]));
						n2 += (double)y[k] * y[k];
					}
					if (unit) {
						assert_true(fabs(sqrt(n2) - 1.0) < 1e-5);
					} else {
						for (size_t k = 0; k < dim; k++)
							if (!(fabsf(y[k] - x[k]) <= amax / 254.0f * 1.0001f))
								fail_msg("dim %zu component %zu: %g came back as %g", dim,
								         k, (double)x[k], (double)y[k]);
					}
					brain__q8_encode(y, dim, unit, again);
					if (memcmp(again, row, bytes) != 0)
						fail_msg("dim %zu unit %d: a row's own values encode differently",
						         dim, (int)unit);
					/* to the float kernels' tolerance, and a few ulps more
					 * for 1 - s (1 - k) */
					double S;
					double exact = exact_distance(BRAIN_METRIC_IP, q, y, dim, &S);
					double u = ldexp(1.0, -24);
					double tol = (chain_bound(level, dim) + 8.0) * u * (S + 1.0);
					float got = pair(q, row, dim);
					if (!(fabs((double)got - exact) <= tol))
						fail_msg("%s metric %d dim %zu: got %.9g, exact %.9g, tolerance %.3g",
						         brain__simd_name((brain_simd_level)level), metric, dim,
						         (double)got, exact, tol);
					rows[filled - 1 - i] = row; /* the gather gets them reversed */
				}
				out[n] = 12345.0f;
				batch(q, pool, n, stride, dim, out);
				assert_true(out[n] == 12345.0f);
				for (size_t i = 0; i < n; i++)
					check_same_bits("q8 batch", level, metric, BRAIN_ELEM_Q8, dim, i, out[i],
					                pair(q, pool + i * stride, dim));
				gather(q, rows, n, dim, out);
				assert_true(out[n] == 12345.0f);
				for (size_t i = 0; i < n; i++)
					check_same_bits("q8 gather", level, metric, BRAIN_ELEM_Q8, dim, i, out[i],
					                pair(q, rows[i], dim));
			}
		}
	}
	/* a zero vector (IP): scale 0, every distance 1 */
	memset(x, 0, 8 * sizeof *x);
	brain__q8_encode(x, 8, false, pool);
	float s0;
	memcpy(&s0, pool + brain__q8_scale_offset(8), sizeof s0);
	assert_true(s0 == 0.0f);
	fill(&rng, q, 8, 0);
	assert_true(brain__dist8_fn(BRAIN_METRIC_IP, BRAIN_ELEM_Q8, -1)(q, pool, 8) == 1.0f);
	free(q);
	free(x);
	free(y);
	free(pool);
	free(again);
}

/* Rows that end where their memory ends: each in a malloc of exactly dim
 * bytes (AddressSanitizer catches a read past it) and right before an
 * inaccessible page (which catches it in any build). The distances are
 * still the float kernels'. */
static void test_distance__dist8_rows_at_allocation_end(void **state)
{
	(void)state;
	static const size_t large[] = {255, 256, 257, 784, 1000};
	enum { N = 5 }; /* a group of 4 and one more in the batch kernels */
	long page = sysconf(_SC_PAGESIZE);
	assert_true(page >= 4096);
	int fd = open("/dev/zero", O_RDWR);
	if (fd < 0)
		skip();
	/* Pages 0 and 1: rows; page 2: no access. */
	unsigned char *mem = mmap(NULL, 3 * (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	close(fd);
	if (mem == MAP_FAILED)
		skip();
	assert_int_equal(mprotect(mem + 2 * page, (size_t)page, PROT_NONE), 0);
	unsigned char *end = mem + 2 * page;
	test_rng rng = {9};
	float *wide = malloc(N * 1000 * sizeof *wide);
	assert_non_null(wide);
	float out8[N], outf[N];
	for (int level = 0; level < BRAIN_SIMD__COUNT; level++) {
		if (!brain__simd_supported((brain_simd_level)level))
			continue;
		for (size_t m = 0; m < BRAIN_ARRAY_LEN(g_metrics8); m++) {
			int metric = g_metrics8[m];
			brain_dist_fn pairf = brain__dist_fn(metric, level);
			brain_dist_batch_fn batchf = brain__dist_batch_fn(metric, level);
			for (size_t e = 0; e < BRAIN_ARRAY_LEN(g_elems8); e++) {
				brain_elem elem = g_elems8[e];
				brain_dist8_fn pair8 = brain__dist8_fn(metric, elem, level);
				brain_dist8_batch_fn batch8 = brain__dist8_batch_fn(metric, elem, level);
				brain_dist8_gather_fn gather8 = brain__dist8_gather_fn(metric, elem, level);
				for (size_t t = 0; t < 100 + BRAIN_ARRAY_LEN(large); t++) {
					size_t dim = t < 100 ? t + 1 : large[t - 100];
					size_t stride = dim + 3;
					float *q = malloc(dim * sizeof *q); /* the query ends there too */
					unsigned char *own[N];
					const void *rows8[N];
					assert_non_null(q);
					fill_query8(&rng, q, dim);
					for (size_t i = 0; i < N; i++) {
						own[i] = malloc(dim);
						assert_non_null(own[i]);
						fill_bytes(&rng, own[i], dim);
						rows8[i] = own[i];
						for (size_t k = 0; k < dim; k++)
							wide[i * dim + k] = widen8(elem, own[i][k]);
					}
					gather8(q, rows8, N, dim, out8);
					for (size_t i = 0; i < N; i++) {
						float want = pairf(q, wide + i * dim, dim);
						check_same_bits("pair, own block", level, metric, elem, dim, i,
						                pair8(q, own[i], dim), want);
						check_same_bits("gather, own blocks", level, metric, elem, dim, i,
						                out8[i], want);
						free(own[i]);
					}
					/* N rows, stride apart, the last one ending at the end of a
					 * malloc and then at the guard page. */
					size_t span = (N - 1) * stride + dim;
					unsigned char *block = malloc(span);
					assert_non_null(block);
					for (int where = 0; where < 2; where++) {
						unsigned char *rows = where ? end - span : block;
						fill_bytes(&rng, rows, span);
						for (size_t i = 0; i < N; i++)
							for (size_t k = 0; k < dim; k++)
								wide[i * dim + k] = widen8(elem, rows[i * stride + k]);
						batch8(q, rows, N, stride, dim, out8);
						batchf(q, wide, N, dim, dim, outf);
						for (size_t i = 0; i < N; i++) {
							check_same_bits("batch, end of block", level, metric, elem,
							                dim, i, out8[i], outf[i]);
							check_same_bits("pair, end of block", level, metric, elem,
							                dim, i, pair8(q, rows + i * stride, dim),
							                outf[i]);
						}
						const void *last = rows + (N - 1) * stride;
						gather8(q, &last, 1, dim, out8);
						check_same_bits("gather, end of block", level, metric, elem, dim,
						                N - 1, out8[0], outf[N - 1]);
					}
					free(block);
					free(q);
				}
			}
		}
	}
	free(wide);
	munmap(mem, 3 * (size_t)page);
}

/* ---- 8-bit codes (SQ8) --------------------------------------------------- */

static const int g_code_metrics[] = {BRAIN_METRIC_L2, BRAIN_METRIC_IP};

/* The code distance computed here, in 64 bits: uint8 codes and
 * sum (a - b)^2 for L2, int8 codes and -sum a b for IP. */
static float code_exact(int metric, const unsigned char *a, const unsigned char *b, size_t n)
{
	int64_t sum = 0;
	for (size_t i = 0; i < n; i++) {
		if (metric == BRAIN_METRIC_L2) {
			int64_t d = (int64_t)a[i] - (int64_t)b[i];
			sum += d * d;
		} else {
			sum -= (int64_t)(int8_t)a[i] * (int64_t)(int8_t)b[i];
		}
	}
	return (float)sum;
}

static void test_distance__code_kernels_are_reported(void **state)
{
	(void)state;
	brain_simd_level best = brain__simd_best();
	for (int l = 0; l < BRAIN_SIMD__COUNT; l++) {
		bool ok = brain__simd_supported((brain_simd_level)l);
		for (size_t m = 0; m < BRAIN_ARRAY_LEN(g_metrics); m++)
			assert_int_equal(brain__code_dist_fn(g_metrics[m], l) != NULL, ok);
		if (ok) {
			/* cosine codes are the inner product's */
			assert_ptr_equal(brain__code_dist_fn(BRAIN_METRIC_COSINE, l),
			                 brain__code_dist_fn(BRAIN_METRIC_IP, l));
			assert_ptr_not_equal(brain__code_dist_fn(BRAIN_METRIC_L2, l),
			                     brain__code_dist_fn(BRAIN_METRIC_IP, l));
		}
	}
	for (size_t m = 0; m < BRAIN_ARRAY_LEN(g_metrics); m++)
		assert_ptr_equal(brain__code_dist_fn(g_metrics[m], -1),
		                 brain__code_dist_fn(g_metrics[m], best));
	assert_null(brain__code_dist_fn(99, -1));
	assert_null(brain__code_dist_fn(-5, BRAIN_SIMD_SCALAR));
	assert_null(brain__code_dist_fn(BRAIN_METRIC_L2, BRAIN_SIMD__COUNT));
}

/* The scalar kernels, the reference of the SIMD ones, against the sum
 * computed here: random codes of every length 0..1100, and the extremes
 * (255 against 0, -128 against -128) where the sums are largest. */
static void test_distance__code_scalar_is_exact(void **state)
{
	(void)state;
	enum { MAX = 1100 };
	test_rng rng = {10};
	unsigned char a[MAX], b[MAX];
	for (size_t m = 0; m < BRAIN_ARRAY_LEN(g_code_metrics); m++) {
		int metric = g_code_metrics[m];
		brain_code_dist_fn k = brain__code_dist_fn(metric, BRAIN_SIMD_SCALAR);
		assert_non_null(k);
		for (size_t n = 0; n <= MAX; n++) {
			fill_bytes(&rng, a, n);
			fill_bytes(&rng, b, n);
			assert_true(k(a, b, n) == code_exact(metric, a, b, n));
		}
		memset(a, 0xff, sizeof a);
		memset(b, 0, sizeof b);
		assert_true(brain__code_dist_fn(BRAIN_METRIC_L2, BRAIN_SIMD_SCALAR)(a, b, MAX) ==
		            65025.0f * MAX);
		memset(a, 0x80, sizeof a);
		memset(b, 0x80, sizeof b);
		assert_true(brain__code_dist_fn(BRAIN_METRIC_IP, BRAIN_SIMD_SCALAR)(a, b, MAX) ==
		            -16384.0f * MAX);
	}
}

/* The kernels of `level` against the scalar ones, equal exactly (integer
 * sums): random codes of every length 0..1100 (every tail of every step)
 * at odd offsets, the extremes, and codes that end right before an
 * inaccessible page (a read past the end faults). A level this CPU lacks
 * is skipped, and says so. */
static void check_code_level(brain_simd_level level)
{
	if (!brain__simd_supported(level)) {
		print_message("SKIPPED: no %s on this CPU (or in this build): its SQ8 code kernels "
		              "are not tested\n",
		              brain__simd_name(level));
		skip();
	}
	enum { MAX = 1100, ROOM = MAX + 16 };
	test_rng rng = {11 + (uint64_t)level};
	static unsigned char a[ROOM], b[ROOM];
	long page = sysconf(_SC_PAGESIZE);
	assert_true(page >= 4096 && page >= MAX);
	/* Pages 0 and 2 readable, 1 and 3 not: a ends at page 1, b at page 3. */
	int fd = open("/dev/zero", O_RDWR);
	assert_true(fd >= 0);
	unsigned char *mem = mmap(NULL, 4 * (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	close(fd);
	assert_true(mem != MAP_FAILED);
	assert_int_equal(mprotect(mem + page, (size_t)page, PROT_NONE), 0);
	assert_int_equal(mprotect(mem + 3 * page, (size_t)page, PROT_NONE), 0);
	for (size_t m = 0; m < BRAIN_ARRAY_LEN(g_code_metrics); m++) {
		int metric = g_code_metrics[m];
		brain_code_dist_fn ref = brain__code_dist_fn(metric, BRAIN_SIMD_SCALAR);
		brain_code_dist_fn k = brain__code_dist_fn(metric, level);
		assert_non_null(ref);
		assert_non_null(k);
		for (size_t n = 0; n <= MAX; n++) {
			const unsigned char *x = a + n % 7, *y = b + (n * 3) % 11; /* unaligned */
			fill_bytes(&rng, a, ROOM);
			fill_bytes(&rng, b, ROOM);
			float got = k(x, y, n), want = ref(x, y, n);
			if (got != want)
				fail_msg("%s metric %d n %zu: %.9g, scalar %.9g", brain__simd_name(level),
				         metric, n, (double)got, (double)want);
			/* the extremes: every lane at its largest */
			memset(a, metric == BRAIN_METRIC_L2 ? 0xff : 0x80, ROOM);
			memset(b, metric == BRAIN_METRIC_L2 ? 0x00 : 0x80, ROOM);
			assert_true(k(x, y, n) == ref(x, y, n));
			assert_true(k(y, x, n) == ref(x, y, n)); /* symmetric */
			unsigned char *ea = mem + page - n, *eb = mem + 3 * (size_t)page - n;
			fill_bytes(&rng, ea, n);
			fill_bytes(&rng, eb, n);
			assert_true(k(ea, eb, n) == ref(ea, eb, n));
		}
	}
	munmap(mem, 4 * (size_t)page);
}

static void test_distance__code_avx2_equals_scalar(void **state)
{
	(void)state;
	check_code_level(BRAIN_SIMD_AVX2);
}

static void test_distance__code_avx512_equals_scalar(void **state)
{
	(void)state;
	check_code_level(BRAIN_SIMD_AVX512);
}

/* ---- preparing vectors --------------------------------------------------- */

static void test_distance__prepare_rejects_nonfinite(void **state)
{
	(void)state;
	const float bad[3] = {NAN, INFINITY, -INFINITY};
	const char *names[3] = {"NaN", "+Inf", "-Inf"};
	const size_t dim = 33;
	float v[33], out[33];
	for (int b = 0; b < 3; b++) {
		const size_t where[3] = {0, dim / 2, dim - 1};
		for (int w = 0; w < 3; w++) {
			for (size_t m = 0; m < BRAIN_ARRAY_LEN(g_metrics); m++) {
				for (size_t i = 0; i < dim; i++)
					v[i] = 1.0f + (float)i;
				v[where[w]] = bad[b];
				if (w == 0)
					v[dim - 1] = NAN; /* a later bad one is not named */
				char want[64];
				snprintf(want, sizeof want, "query: component %zu is %s", where[w], names[b]);
				assert_int_equal(brain__vector_prepare(v, dim, g_metrics[m], out, "query"),
				                 BRAIN_ENONFINITE);
				assert_string_equal(brain_errmsg(), want);
				assert_int_equal(brain_errcode(), BRAIN_ENONFINITE);
			}
		}
	}
	/* The example of the specification, and a default name. */
	for (size_t i = 0; i < dim; i++)
		v[i] = 0.5f;
	v[17] = NAN;
	assert_int_equal(brain__vector_prepare(v, dim, BRAIN_METRIC_L2, out, "query"),
	                 BRAIN_ENONFINITE);
	assert_string_equal(brain_errmsg(), "query: component 17 is NaN");
	assert_int_equal(brain__vector_prepare(v, dim, BRAIN_METRIC_L2, out, NULL), BRAIN_ENONFINITE);
	assert_string_equal(brain_errmsg(), "vector: component 17 is NaN");
}

static void test_distance__prepare_zero_vector(void **state)
{
	(void)state;
	float zero[7] = {0, 0, -0.0f, 0, 0, 0, 0}, out[7];
	assert_int_equal(brain__vector_prepare(zero, 7, BRAIN_METRIC_COSINE, out, "memory"),
	                 BRAIN_EZEROVEC);
	assert_non_null(strstr(brain_errmsg(), "memory: "));
	/* L2 and IP take it as it is. */
	for (int m = 0; m < 2; m++) {
		memset(out, 0x7f, sizeof out);
		int metric = m ? BRAIN_METRIC_IP : BRAIN_METRIC_L2;
		assert_int_equal(brain__vector_prepare(zero, 7, metric, out, "memory"), 0);
		assert_memory_equal(out, zero, sizeof zero);
	}
	assert_int_equal(brain__vector_prepare(zero, 7, 42, out, "memory"), BRAIN_EINVAL);
}

static double norm_of(const float *v, size_t dim)
{
	double s = 0.0;
	for (size_t i = 0; i < dim; i++)
		s += (double)v[i] * (double)v[i];
	return sqrt(s);
}

static void test_distance__prepare_normalises_cosine(void **state)
{
	(void)state;
	test_rng rng = {4};
	/* Scales from subnormal to near FLT_MAX: the norm is computed in
	 * double, so none of them overflows or underflows to zero. */
	static const float scales[] = {1.0f, 1e-30f, 1e-42f, 1e30f, 3e38f};
	static const size_t dims[] = {1, 2, 3, 17, 384, 4096};
	float *v = floats(4096), *out = floats(4096);
	for (size_t s = 0; s < BRAIN_ARRAY_LEN(scales); s++) {
		for (size_t d = 0; d < BRAIN_ARRAY_LEN(dims); d++) {
			size_t dim = dims[d];
			for (size_t i = 0; i < dim; i++)
				v[i] = test_rng_float(&rng, -1.0f, 1.0f) * scales[s];
			v[0] = scales[s]; /* not all zero */
			assert_int_equal(brain__vector_prepare(v, dim, BRAIN_METRIC_COSINE, out, "x"), 0);
			/* Unit length to float precision: each component is rounded
			 * once (relative u), so the norm is 1 within about u. */
			assert_true(fabs(norm_of(out, dim) - 1.0) < 1e-6);
			/* Same direction: out is v / |v|. */
			double n = norm_of(v, dim);
			for (size_t i = 0; i < dim; i++)
				assert_true(fabs((double)out[i] - (double)v[i] / n) <= 1e-7 * fabs((double)v[i] / n) + 1e-45);
			/* L2 and IP copy exactly. */
			assert_int_equal(brain__vector_prepare(v, dim, BRAIN_METRIC_IP, out, "x"), 0);
			assert_memory_equal(out, v, dim * sizeof *v);
		}
	}
	/* In place. */
	float w[4] = {3, 0, 4, 0};
	assert_int_equal(brain__vector_prepare(w, 4, BRAIN_METRIC_COSINE, w, "x"), 0);
	assert_true(w[0] == 0.6f && w[1] == 0.0f && w[2] == 0.8f && w[3] == 0.0f);
	assert_int_equal(brain__vector_prepare(w, 4, BRAIN_METRIC_L2, w, "x"), 0);
	free(v);
	free(out);
}

static void test_distance__normalize(void **state)
{
	(void)state;
	float v[2] = {3.0f, 4.0f};
	assert_true(brain__normalize(v, 2) == 5.0f);
	assert_true(v[0] == 0.6f && v[1] == 0.8f);
	float z[3] = {0, 0, 0};
	assert_true(brain__normalize(z, 3) == 0.0f);
	assert_true(z[0] == 0.0f && z[1] == 0.0f && z[2] == 0.0f);
	float one[1] = {-7.0f};
	assert_true(brain__normalize(one, 1) == 7.0f);
	assert_true(one[0] == -1.0f);
}

int main(int argc, char **argv)
{
	g_argv0 = argv[0];
	if (argc > 1 && strcmp(argv[1], "--simd-child") == 0)
		return simd_child();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_distance__levels_are_reported),
		cmocka_unit_test(test_distance__override_only_lowers),
		cmocka_unit_test(test_distance__environment_override),
		cmocka_unit_test(test_distance__reference_is_exact_on_small_integers),
		cmocka_unit_test(test_distance__pair_matches_reference),
		cmocka_unit_test(test_distance__exact_small_cases),
		cmocka_unit_test(test_distance__batch_equals_pair),
		cmocka_unit_test(test_distance__gather_equals_pair),
		cmocka_unit_test(test_distance__multi_equals_batch),
		cmocka_unit_test(test_distance__tail_stays_inside),
		cmocka_unit_test(test_distance__dist8_kernels_are_reported),
		cmocka_unit_test(test_distance__dist8_exact_small_cases),
		cmocka_unit_test(test_distance__dist8_equals_float),
		cmocka_unit_test(test_distance__dist8_rows_at_allocation_end),
		cmocka_unit_test(test_distance__q8_rows),
		cmocka_unit_test(test_distance__code_kernels_are_reported),
		cmocka_unit_test(test_distance__code_scalar_is_exact),
		cmocka_unit_test(test_distance__code_avx2_equals_scalar),
		cmocka_unit_test(test_distance__code_avx512_equals_scalar),
		cmocka_unit_test(test_distance__prepare_rejects_nonfinite),
		cmocka_unit_test(test_distance__prepare_zero_vector),
		cmocka_unit_test(test_distance__prepare_normalises_cosine),
		cmocka_unit_test(test_distance__normalize),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
