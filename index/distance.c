/*
 * index/distance.c - scalar distance kernels, the reference the SIMD ones
 * are tested against, run-time selection of the SIMD level, and the
 * checking and normalisation of vectors that enter the brain.
 */
#include <float.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "index/distance.h"

/* ---- references -------------------------------------------------------- */

/* Accumulated in double in index order: slow, but with an error far below
 * float rounding, so a kernel that disagrees with it by more than its own
 * rounding is wrong. */
float brain__l2sq_ref(const float *a, const float *b, size_t dim)
{
	double s = 0.0;
	for (size_t i = 0; i < dim; i++) {
		double d = (double)a[i] - (double)b[i];
		s += d * d;
	}
	return (float)s;
}

float brain__dot_ref(const float *a, const float *b, size_t dim)
{
	double s = 0.0;
	for (size_t i = 0; i < dim; i++)
		s += (double)a[i] * (double)b[i];
	return (float)s;
}

/* ---- the scalar level --------------------------------------------------- */

#define INLINE static inline __attribute__((always_inline))

/* Component i of a row of type elem (a brain_elem) as a float (exact for
 * every 8-bit value). */
INLINE float at(const void *row, size_t i, int elem)
{
	if (elem == BRAIN_ELEM_U8)
		return (float)((const uint8_t *)row)[i];
	if (elem == BRAIN_ELEM_I8)
		return (float)((const int8_t *)row)[i];
	return ((const float *)row)[i];
}

/* The kernels of CPUs without a SIMD level here (and of BRAINCORE_SIMD=
 * scalar): float, four independent sums so that additions overlap. They
 * are written once for the element type of row b, a constant in every
 * caller: an 8-bit row is widened as it is read, with the same operations
 * in the same order after that, so it gets the same bits as the float
 * kernel gives for the widened row. */
INLINE float l2sq_elem(const float *a, const void *b, size_t dim, int elem)
{
	float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
	size_t i = 0;
	for (; i + 4 <= dim; i += 4) {
		float d0 = a[i] - at(b, i, elem), d1 = a[i + 1] - at(b, i + 1, elem);
		float d2 = a[i + 2] - at(b, i + 2, elem), d3 = a[i + 3] - at(b, i + 3, elem);
		s0 += d0 * d0;
		s1 += d1 * d1;
		s2 += d2 * d2;
		s3 += d3 * d3;
	}
	for (; i < dim; i++) {
		float d = a[i] - at(b, i, elem);
		s0 += d * d;
	}
	return (s0 + s1) + (s2 + s3);
}

INLINE float dot_elem(const float *a, const void *b, size_t dim, int elem)
{
	float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
	size_t i = 0;
	for (; i + 4 <= dim; i += 4) {
		s0 += a[i] * at(b, i, elem);
		s1 += a[i + 1] * at(b, i + 1, elem);
		s2 += a[i + 2] * at(b, i + 2, elem);
		s3 += a[i + 3] * at(b, i + 3, elem);
	}
	for (; i < dim; i++)
		s0 += a[i] * at(b, i, elem);
	return (s0 + s1) + (s2 + s3);
}

static float l2sq_scalar(const float *a, const float *b, size_t dim)
{
	return l2sq_elem(a, b, dim, BRAIN_ELEM_F32);
}

static float dot_scalar(const float *a, const float *b, size_t dim)
{
	return dot_elem(a, b, dim, BRAIN_ELEM_F32);
}

static float ip_scalar(const float *a, const float *b, size_t dim)
{
	return 1.0f - dot_scalar(a, b, dim);
}

/* The batch kernels call the pair kernels row by row, which makes every
 * row's distance identical to the pair kernel's by construction. */
static void l2sq_batch_scalar(const float *q, const float *rows, size_t n, size_t stride,
                              size_t dim, float *out)
{
	for (size_t i = 0; i < n; i++)
		out[i] = l2sq_scalar(q, rows + i * stride, dim);
}

/* Many queries by the batch kernel, one query after another. */
static void l2sq_multi_scalar(const float *const *q, size_t nq, const float *rows, size_t n,
                              size_t stride, size_t dim, float *out)
{
	for (size_t j = 0; j < nq; j++)
		for (size_t i = 0; i < n; i++)
			out[j * n + i] = l2sq_scalar(q[j], rows + i * stride, dim);
}

static void ip_multi_scalar(const float *const *q, size_t nq, const float *rows, size_t n,
                            size_t stride, size_t dim, float *out)
{
	for (size_t j = 0; j < nq; j++)
		for (size_t i = 0; i < n; i++)
			out[j * n + i] = ip_scalar(q[j], rows + i * stride, dim);
}

static void ip_batch_scalar(const float *q, const float *rows, size_t n, size_t stride,
                            size_t dim, float *out)
{
	for (size_t i = 0; i < n; i++)
		out[i] = ip_scalar(q, rows + i * stride, dim);
}

/* The gather kernels without a specialised version call the pair kernel
 * row by row (so each row's distance is the pair kernel's by
 * construction). */
#define GATHER_BY_PAIR(name, pair)                                                 \
	static void name(const float *q, const float *const *rows, size_t n, size_t dim, \
	                 float *out)                                                     \
	{                                                                                \
		for (size_t i = 0; i < n; i++)                                               \
			out[i] = pair(q, rows[i], dim);                                          \
	}

GATHER_BY_PAIR(l2sq_gather_scalar, l2sq_scalar)
GATHER_BY_PAIR(ip_gather_scalar, ip_scalar)
#ifdef BRAIN_HAVE_X86_KERNELS
GATHER_BY_PAIR(l2sq_gather_avx2, brain__l2sq_avx2)
GATHER_BY_PAIR(ip_gather_avx2, brain__ip_avx2)
#endif
#undef GATHER_BY_PAIR

/* ---- the scalar level for 8-bit rows ------------------------------------ */

static float l2sq_u8_scalar(const float *q, const void *row, size_t dim)
{
	return l2sq_elem(q, row, dim, BRAIN_ELEM_U8);
}

static float l2sq_i8_scalar(const float *q, const void *row, size_t dim)
{
	return l2sq_elem(q, row, dim, BRAIN_ELEM_I8);
}

static float ip_u8_scalar(const float *q, const void *row, size_t dim)
{
	return 1.0f - dot_elem(q, row, dim, BRAIN_ELEM_U8);
}

static float ip_i8_scalar(const float *q, const void *row, size_t dim)
{
	return 1.0f - dot_elem(q, row, dim, BRAIN_ELEM_I8);
}

/* Batch and gather for 8-bit rows by the pair kernel, as at the scalar
 * level for float rows (AVX-512 has its own, in distance_avx512.c). */
#define BATCH8_BY_PAIR(name, pair)                                                  \
	static void name(const float *q, const void *rows, size_t n, size_t stride,     \
	                 size_t dim, float *out)                                          \
	{                                                                                 \
		for (size_t i = 0; i < n; i++)                                                \
			out[i] = pair(q, (const unsigned char *)rows + i * stride, dim);          \
	}
#define GATHER8_BY_PAIR(name, pair)                                                 \
	static void name(const float *q, const void *const *rows, size_t n, size_t dim, \
	                 float *out)                                                      \
	{                                                                                 \
		for (size_t i = 0; i < n; i++)                                                \
			out[i] = pair(q, rows[i], dim);                                           \
	}

BATCH8_BY_PAIR(l2sq_u8_batch_scalar, l2sq_u8_scalar)
BATCH8_BY_PAIR(l2sq_i8_batch_scalar, l2sq_i8_scalar)
BATCH8_BY_PAIR(ip_u8_batch_scalar, ip_u8_scalar)
BATCH8_BY_PAIR(ip_i8_batch_scalar, ip_i8_scalar)
GATHER8_BY_PAIR(l2sq_u8_gather_scalar, l2sq_u8_scalar)
GATHER8_BY_PAIR(l2sq_i8_gather_scalar, l2sq_i8_scalar)
GATHER8_BY_PAIR(ip_u8_gather_scalar, ip_u8_scalar)
GATHER8_BY_PAIR(ip_i8_gather_scalar, ip_i8_scalar)
#ifdef BRAIN_HAVE_X86_KERNELS
GATHER8_BY_PAIR(l2sq_u8_gather_avx2, brain__l2sq_u8_avx2)
GATHER8_BY_PAIR(l2sq_i8_gather_avx2, brain__l2sq_i8_avx2)
GATHER8_BY_PAIR(ip_u8_gather_avx2, brain__ip_u8_avx2)
GATHER8_BY_PAIR(ip_i8_gather_avx2, brain__ip_i8_avx2)
#endif
#undef BATCH8_BY_PAIR
#undef GATHER8_BY_PAIR

/* ---- int8 rows with a scale (Q8) --------------------------------------- */

static inline float q8_scale(const void *row, size_t dim)
{
	float s;
	memcpy(&s, (const unsigned char *)row + brain__q8_scale_offset(dim), sizeof s);
	return s;
}

/* k is the I8 kernel's 1 - q . c; the row stands for s c. */
static inline float q8_from_i8(float k, float s)
{
	return 1.0f - s * (1.0f - k);
}

#define Q8_IP_KERNELS(lvl, pair, batch, gather)                                              \
	static float q8_ip_##lvl(const float *q, const void *row, size_t dim)                    \
	{                                                                                         \
		return q8_from_i8(pair(q, row, dim), q8_scale(row, dim));                            \
	}                                                                                         \
	static void q8_ip_batch_##lvl(const float *q, const void *rows, size_t n, size_t stride, \
	                              size_t dim, float *out)                                    \
	{                                                                                         \
		batch(q, rows, n, stride, dim, out);                                                 \
		for (size_t i = 0; i < n; i++)                                                       \
			out[i] = q8_from_i8(out[i],                                                      \
			                    q8_scale((const unsigned char *)rows + i * stride, dim));     \
	}                                                                                         \
	static void q8_ip_gather_##lvl(const float *q, const void *const *rows, size_t n,        \
	                               size_t dim, float *out)                                   \
	{                                                                                         \
		gather(q, rows, n, dim, out);                                                        \
		for (size_t i = 0; i < n; i++)                                                       \
			out[i] = q8_from_i8(out[i], q8_scale(rows[i], dim));                             \
	}

Q8_IP_KERNELS(scalar, ip_i8_scalar, ip_i8_batch_scalar, ip_i8_gather_scalar)
#ifdef BRAIN_HAVE_X86_KERNELS
Q8_IP_KERNELS(avx2, brain__ip_i8_avx2, brain__ip_i8_batch_avx2, ip_i8_gather_avx2)
Q8_IP_KERNELS(avx512, brain__ip_i8_avx512, brain__ip_i8_batch_avx512,
              brain__ip_i8_gather_avx512)
#endif
#undef Q8_IP_KERNELS

/* s rounded up to 17 significant bits (positive, finite): 127 s is then
 * exact (7 + 17 bits), and so is 127 s / 127. */
static float q8_round_scale(float s)
{
	uint32_t u;
	memcpy(&u, &s, sizeof u);
	if (u & 0x7fu) /* the low 7 of the 24 bits */
		u = (u | 0x7fu) + 1u; /* a carry into the exponent is still exact */
	memcpy(&s, &u, sizeof s);
	return s;
}

void brain__q8_encode(const float *x, size_t dim, bool unit, void *row)
{
	signed char *c = row;
	float amax = 0.0f;
	for (size_t i = 0; i < dim; i++)
		amax = fmaxf(amax, fabsf(x[i]));
	float s = amax > 0.0f ? q8_round_scale(amax / 127.0f) : 0.0f;
	if (!(127.0f * s <= FLT_MAX))
		s = amax / 127.0f; /* (near FLT_MAX: 127 s must stay finite; no
		                      bit-exact round trip for such vectors) */
	double norm2 = 0.0;
	for (size_t i = 0; i < dim; i++) {
		/* |x_i| <= 127 s; NaN (never let in) gives 0 */
		float v = s > 0.0f ? x[i] / s : 0.0f;
		c[i] = (signed char)(v >= 127.0f ? 127 : v <= -127.0f ? -127 : v == v ? lrintf(v) : 0);
		norm2 += (double)c[i] * c[i];
	}
	/* a unit vector stays one: s c / |s c| = c / |c| */
	if (unit && norm2 > 0.0)
		s = (float)(1.0 / sqrt(norm2));
	memset(c + dim, 0, brain__q8_scale_offset(dim) - dim);
	memcpy(c + brain__q8_scale_offset(dim), &s, sizeof s);
}

void brain__elem_store(brain_elem elem, const float *x, size_t dim, bool unit, void *row)
{
	unsigned char *b = row;
	switch (elem) {
	case BRAIN_ELEM_F32:
		memcpy(row, x, dim * sizeof(float));
		break;
	case BRAIN_ELEM_U8:
		for (size_t i = 0; i < dim; i++)
			b[i] = (unsigned char)x[i]; /* checked: an integer in 0..255 */
		break;
	case BRAIN_ELEM_I8:
		for (size_t i = 0; i < dim; i++)
			b[i] = (unsigned char)(signed char)x[i]; /* checked: in -128..127 */
		break;
	case BRAIN_ELEM_Q8:
		brain__q8_encode(x, dim, unit, row);
		break;
	}
}

/* ---- the scalar level for 8-bit codes ----------------------------------- */

/* In 64 bits: an int32 would overflow past 33,000 codes. */
static float code_l2_scalar(const unsigned char *a, const unsigned char *b, size_t n)
{
	int64_t sum = 0;
	for (size_t i = 0; i < n; i++) {
		int32_t d = (int32_t)a[i] - (int32_t)b[i];
		sum += d * d;
	}
	return (float)sum;
}

static float code_ip_scalar(const unsigned char *a, const unsigned char *b, size_t n)
{
	const signed char *x = (const signed char *)a, *y = (const signed char *)b;
	int64_t sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += (int32_t)x[i] * (int32_t)y[i];
	return (float)-sum;
}

/* ---- dispatch ---------------------------------------------------------- */

typedef struct kernel_set {
	brain_dist_fn l2;
	brain_dist_fn ip;
	brain_dist_batch_fn l2_batch;
	brain_dist_batch_fn ip_batch;
	brain_dist_gather_fn l2_gather;
	brain_dist_gather_fn ip_gather;
	brain_dist_multi_fn l2_multi;
	brain_dist_multi_fn ip_multi;
} kernel_set;

static const kernel_set g_kernels[BRAIN_SIMD__COUNT] = {
	[BRAIN_SIMD_SCALAR] = {l2sq_scalar, ip_scalar, l2sq_batch_scalar, ip_batch_scalar,
	                       l2sq_gather_scalar, ip_gather_scalar, l2sq_multi_scalar,
	                       ip_multi_scalar},
#ifdef BRAIN_HAVE_X86_KERNELS
	[BRAIN_SIMD_AVX2] = {brain__l2sq_avx2, brain__ip_avx2, brain__l2sq_batch_avx2,
	                     brain__ip_batch_avx2, l2sq_gather_avx2, ip_gather_avx2,
	                     brain__l2sq_multi_avx2, brain__ip_multi_avx2},
	[BRAIN_SIMD_AVX512] = {brain__l2sq_avx512, brain__ip_avx512, brain__l2sq_batch_avx512,
	                       brain__ip_batch_avx512, brain__l2sq_gather_avx512,
	                       brain__ip_gather_avx512, brain__l2sq_multi_avx512,
	                       brain__ip_multi_avx512},
#endif
};

/* The 8-bit kernels of one level and element type. */
typedef struct kernel_set8 {
	brain_dist8_fn l2;
	brain_dist8_fn ip;
	brain_dist8_batch_fn l2_batch;
	brain_dist8_batch_fn ip_batch;
	brain_dist8_gather_fn l2_gather;
	brain_dist8_gather_fn ip_gather;
} kernel_set8;

/* [level][0] for uint8 rows, [level][1] for int8, [level][2] for Q8 (no
 * L2). */
static const kernel_set8 g_kernels8[BRAIN_SIMD__COUNT][3] = {
	[BRAIN_SIMD_SCALAR] = {{l2sq_u8_scalar, ip_u8_scalar, l2sq_u8_batch_scalar,
	                        ip_u8_batch_scalar, l2sq_u8_gather_scalar, ip_u8_gather_scalar},
	                       {l2sq_i8_scalar, ip_i8_scalar, l2sq_i8_batch_scalar,
	                        ip_i8_batch_scalar, l2sq_i8_gather_scalar, ip_i8_gather_scalar},
	                       {NULL, q8_ip_scalar, NULL, q8_ip_batch_scalar, NULL,
	                        q8_ip_gather_scalar}},
#ifdef BRAIN_HAVE_X86_KERNELS
	[BRAIN_SIMD_AVX2] = {{brain__l2sq_u8_avx2, brain__ip_u8_avx2, brain__l2sq_u8_batch_avx2,
	                      brain__ip_u8_batch_avx2, l2sq_u8_gather_avx2, ip_u8_gather_avx2},
	                     {brain__l2sq_i8_avx2, brain__ip_i8_avx2, brain__l2sq_i8_batch_avx2,
	                      brain__ip_i8_batch_avx2, l2sq_i8_gather_avx2, ip_i8_gather_avx2},
	                     {NULL, q8_ip_avx2, NULL, q8_ip_batch_avx2, NULL, q8_ip_gather_avx2}},
	[BRAIN_SIMD_AVX512] = {{brain__l2sq_u8_avx512, brain__ip_u8_avx512,
	                        brain__l2sq_u8_batch_avx512, brain__ip_u8_batch_avx512,
	                        brain__l2sq_u8_gather_avx512, brain__ip_u8_gather_avx512},
	                       {brain__l2sq_i8_avx512, brain__ip_i8_avx512,
	                        brain__l2sq_i8_batch_avx512, brain__ip_i8_batch_avx512,
	                        brain__l2sq_i8_gather_avx512, brain__ip_i8_gather_avx512},
	                       {NULL, q8_ip_avx512, NULL, q8_ip_batch_avx512, NULL,
	                        q8_ip_gather_avx512}},
#endif
};

/* The 8-bit code kernels of each level: [level][0] L2, [level][1] IP. */
static const brain_code_dist_fn g_code_kernels[BRAIN_SIMD__COUNT][2] = {
	[BRAIN_SIMD_SCALAR] = {code_l2_scalar, code_ip_scalar},
#ifdef BRAIN_HAVE_X86_KERNELS
	[BRAIN_SIMD_AVX2] = {brain__code_l2_avx2, brain__code_ip_avx2},
	[BRAIN_SIMD_AVX512] = {brain__code_l2_avx512, brain__code_ip_avx512},
#endif
};

static const char *const g_level_names[BRAIN_SIMD__COUNT] = {
	[BRAIN_SIMD_SCALAR] = "scalar",
	[BRAIN_SIMD_AVX2] = "avx2",
	[BRAIN_SIMD_AVX512] = "avx512",
};

/* Bit L set: the CPU, the OS (which must save the wider registers; the
 * compiler's cpu checks look at XCR0 for that) and this build support
 * level L. -1 until computed; computing it twice is harmless. */
static atomic_int g_cpu_levels = -1;
/* The level brain__simd_best() returns; -1 until computed. */
static atomic_int g_best = -1;

static int cpu_levels(void)
{
	int levels = atomic_load_explicit(&g_cpu_levels, memory_order_relaxed);
	if (levels >= 0)
		return levels;
	levels = 1 << BRAIN_SIMD_SCALAR;
#ifdef BRAIN_HAVE_X86_KERNELS
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		levels |= 1 << BRAIN_SIMD_AVX2;
	/* F for the float kernels, BW and VL for the 8-bit code kernels
	 * and the masked byte loads of the 8-bit row kernels;
	 * every AVX-512 CPU since Skylake-SP has all three */
	if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
	    __builtin_cpu_supports("avx512vl"))
		levels |= 1 << BRAIN_SIMD_AVX512;
#endif
	atomic_store_explicit(&g_cpu_levels, levels, memory_order_relaxed);
	return levels;
}

bool brain__simd_supported(brain_simd_level level)
{
	if ((int)level < 0 || level >= BRAIN_SIMD__COUNT)
		return false;
	return (cpu_levels() >> level) & 1;
}

const char *brain__simd_name(brain_simd_level level)
{
	if ((int)level < 0 || level >= BRAIN_SIMD__COUNT)
		return "unknown";
	return g_level_names[level];
}

static bool name_equals(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char ca = (*a >= 'A' && *a <= 'Z') ? (char)(*a - 'A' + 'a') : *a;
		if (ca != *b)
			return false;
	}
	return *a == *b;
}

brain_simd_level brain__simd_choose(const char *override)
{
	int best = BRAIN_SIMD__COUNT - 1;
	while (best > 0 && !brain__simd_supported((brain_simd_level)best))
		best--;
	/* The override only lowers: asking for a level the CPU lacks must not
	 * crash the process with an illegal instruction. Unknown names are
	 * ignored (the library cannot print a warning, and failing would make
	 * an environment variable able to break every brain). */
	if (override) {
		for (int l = 0; l < BRAIN_SIMD__COUNT; l++) {
			if (name_equals(override, g_level_names[l])) {
				if (l < best)
					best = l;
				break;
			}
		}
	}
	return (brain_simd_level)best;
}

brain_simd_level brain__simd_best(void)
{
	int best = atomic_load_explicit(&g_best, memory_order_relaxed);
	if (best >= 0)
		return (brain_simd_level)best;
	best = (int)brain__simd_choose(getenv("BRAINCORE_SIMD"));
	atomic_store_explicit(&g_best, best, memory_order_relaxed);
	return (brain_simd_level)best;
}

static const kernel_set *kernels_at(int level)
{
	if (level < 0)
		level = (int)brain__simd_best();
	if (level >= BRAIN_SIMD__COUNT || !brain__simd_supported((brain_simd_level)level))
		return NULL;
	return &g_kernels[level];
}

/* The kernels of `metric` at `level`: which of a set's L2 and inner
 * product kernels (cosine is 1 - dot, as IP); NULL for an unknown metric
 * or an unsupported level. */
static const kernel_set *kernels_for(int metric, int level, bool *l2)
{
	*l2 = metric == BRAIN_METRIC_L2;
	if (!*l2 && metric != BRAIN_METRIC_IP && metric != BRAIN_METRIC_COSINE)
		return NULL;
	return kernels_at(level);
}

brain_dist_fn brain__dist_fn(int metric, int level)
{
	bool l2;
	const kernel_set *k = kernels_for(metric, level, &l2);
	return !k ? NULL : l2 ? k->l2 : k->ip;
}

brain_dist_batch_fn brain__dist_batch_fn(int metric, int level)
{
	bool l2;
	const kernel_set *k = kernels_for(metric, level, &l2);
	return !k ? NULL : l2 ? k->l2_batch : k->ip_batch;
}

brain_dist_multi_fn brain__dist_multi_fn(int metric, int level)
{
	bool l2;
	const kernel_set *k = kernels_for(metric, level, &l2);
	return !k ? NULL : l2 ? k->l2_multi : k->ip_multi;
}

brain_dist_gather_fn brain__dist_gather_fn(int metric, int level)
{
	bool l2;
	const kernel_set *k = kernels_for(metric, level, &l2);
	return !k ? NULL : l2 ? k->l2_gather : k->ip_gather;
}

/* The 8-bit kernels for elem at a level, or NULL; *l2 tells L2 from IP.
 * Integer rows have no cosine: it needs unit vectors, which they cannot
 * be; Q8 rows have no L2 (their kernels are an inner product scaled). */
static const kernel_set8 *kernels8_at(int metric, brain_elem elem, int level, bool *l2)
{
	if (elem == BRAIN_ELEM_Q8 ? metric != BRAIN_METRIC_IP && metric != BRAIN_METRIC_COSINE
	                          : metric != BRAIN_METRIC_L2 && metric != BRAIN_METRIC_IP)
		return NULL;
	if (elem != BRAIN_ELEM_U8 && elem != BRAIN_ELEM_I8 && elem != BRAIN_ELEM_Q8)
		return NULL;
	if (level < 0)
		level = (int)brain__simd_best();
	if (level >= BRAIN_SIMD__COUNT || !brain__simd_supported((brain_simd_level)level))
		return NULL;
	*l2 = metric == BRAIN_METRIC_L2;
	return &g_kernels8[level][elem - BRAIN_ELEM_U8];
}

brain_dist8_fn brain__dist8_fn(int metric, brain_elem elem, int level)
{
	bool l2;
	const kernel_set8 *k = kernels8_at(metric, elem, level, &l2);
	if (!k)
		return NULL;
	return l2 ? k->l2 : k->ip;
}

brain_dist8_batch_fn brain__dist8_batch_fn(int metric, brain_elem elem, int level)
{
	bool l2;
	const kernel_set8 *k = kernels8_at(metric, elem, level, &l2);
	if (!k)
		return NULL;
	return l2 ? k->l2_batch : k->ip_batch;
}

brain_dist8_gather_fn brain__dist8_gather_fn(int metric, brain_elem elem, int level)
{
	bool l2;
	const kernel_set8 *k = kernels8_at(metric, elem, level, &l2);
	if (!k)
		return NULL;
	return l2 ? k->l2_gather : k->ip_gather;
}

brain_code_dist_fn brain__code_dist_fn(int metric, int level)
{
	bool l2;
	if (!kernels_for(metric, level, &l2))
		return NULL; /* unknown metric or unsupported level */
	if (level < 0)
		level = (int)brain__simd_best();
	return g_code_kernels[level][l2 ? 0 : 1];
}

void brain__elem_widen(brain_elem elem, const void *row, size_t dim, float *out)
{
	const unsigned char *b = row;
	if (elem == BRAIN_ELEM_U8) {
		for (size_t i = 0; i < dim; i++)
			out[i] = (float)b[i];
	} else if (elem == BRAIN_ELEM_Q8) {
		float s = q8_scale(row, dim);
		for (size_t i = 0; i < dim; i++)
			out[i] = (float)(signed char)b[i] * s;
	} else {
		for (size_t i = 0; i < dim; i++)
			out[i] = (float)(signed char)b[i];
	}
}

/* ---- vectors entering the brain ---------------------------------------- */

/* Sum of squares in double: every float squared fits (no overflow or
 * underflow to zero of a nonzero component), so only a truly zero vector
 * has a zero norm, and the norm is accurate to double rounding. */
static double sum_squares(const float *v, size_t dim)
{
	/* four independent sums, so the additions overlap */
	double acc[4] = {0.0, 0.0, 0.0, 0.0};
	size_t i = 0;
	for (; i + 4 <= dim; i += 4)
		for (int j = 0; j < 4; j++)
			acc[j] += (double)v[i + j] * (double)v[i + j];
	for (; i < dim; i++)
		acc[0] += (double)v[i] * (double)v[i];
	return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

/* out = in / norm, as a multiply by the reciprocal in double: one rounding
 * more than a division, far below the final rounding to float. */
static void scale(const float *in, float *out, size_t dim, double norm)
{
	double inv = 1.0 / norm;
	for (size_t i = 0; i < dim; i++)
		out[i] = (float)((double)in[i] * inv);
}

int brain__vector_prepare(const float *in, size_t dim, int metric, float *out,
                          const char *what)
{
	if (!what)
		what = "vector";
	if (metric != BRAIN_METRIC_L2 && metric != BRAIN_METRIC_IP && metric != BRAIN_METRIC_COSINE)
		return brain__err(BRAIN_EINVAL, "%s: metric %d is unknown", what, metric);
	for (size_t i = 0; i < dim; i++) {
		float x = in[i];
		if (BRAIN_UNLIKELY(!isfinite(x)))
			return brain__err(BRAIN_ENONFINITE, "%s: component %zu is %s", what, i,
			                  isnan(x) ? "NaN" : x > 0.0f ? "+Inf" : "-Inf");
	}
	if (metric != BRAIN_METRIC_COSINE) {
		if (out != in)
			memmove(out, in, dim * sizeof *out);
		return BRAIN_OK;
	}
	double ss = sum_squares(in, dim);
	if (ss == 0.0)
		return brain__err(BRAIN_EZEROVEC,
		                  "%s: all %zu components are zero, so it has no direction for "
		                  "the cosine metric",
		                  what, dim);
	scale(in, out, dim, sqrt(ss));
	return BRAIN_OK;
}

float brain__normalize(float *v, size_t dim)
{
	double ss = sum_squares(v, dim);
	if (ss == 0.0)
		return 0.0f;
	double norm = sqrt(ss);
	scale(v, v, dim, norm);
	return (float)norm;
}
