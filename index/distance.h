/*
 * index/distance.h - distance kernels shared by every index backend.
 *
 * Each kernel has a scalar reference and SIMD versions (AVX2+FMA,
 * AVX-512) chosen at run time from what the CPU supports. Tests compare
 * every version with the reference on random data. Rows stored as 8-bit
 * integers have their own kernels (below), equal to the float ones, and
 * so do the 8-bit codes of a scalar quantiser (SQ8, below).
 *
 * Distances (smaller is closer):
 *   BRAIN_METRIC_L2      sum (a_i - b_i)^2
 *   BRAIN_METRIC_IP      1 - sum a_i b_i
 *   BRAIN_METRIC_COSINE  1 - sum a_i b_i   (vectors are unit length)
 */
#ifndef BRAIN_INDEX_DISTANCE_H
#define BRAIN_INDEX_DISTANCE_H

#include "base/base.h"

typedef enum brain_simd_level {
	BRAIN_SIMD_SCALAR = 0,
	BRAIN_SIMD_AVX2 = 1,   /* AVX2 + FMA */
	BRAIN_SIMD_AVX512 = 2, /* AVX-512F, BW and VL */
	BRAIN_SIMD__COUNT
} brain_simd_level;

/* Distance between two vectors of `dim` floats. */
typedef float (*brain_dist_fn)(const float *a, const float *b, size_t dim);

/* Distances from q to n rows (row i starts at rows + i * stride floats). */
typedef void (*brain_dist_batch_fn)(const float *q, const float *rows, size_t n,
                                    size_t stride, size_t dim, float *out);

/* Distances from q to n rows anywhere in memory (rows[i]): what a graph
 * walk asks for the neighbours of one node. */
typedef void (*brain_dist_gather_fn)(const float *q, const float *const *rows, size_t n,
                                     size_t dim, float *out);

/* Distances from each of nq queries (q[j], dim floats) to n rows (row i
 * at rows + i * stride floats) into out[j * n + i]: what a scan for many
 * queries at once asks for. A row is loaded once for a group of queries
 * (4 at AVX-512, 2 at AVX2), so the rows are read from memory nq / group
 * times instead of nq times. */
typedef void (*brain_dist_multi_fn)(const float *const *q, size_t nq, const float *rows,
                                    size_t n, size_t stride, size_t dim, float *out);

/* The best level this CPU (and this build) supports. Cached after the first
 * call; thread-safe. The environment variable BRAINCORE_SIMD=scalar|avx2|
 * avx512 lowers it (never raises it beyond what the CPU has). */
brain_simd_level brain__simd_best(void);
bool brain__simd_supported(brain_simd_level level);
const char *brain__simd_name(brain_simd_level level);

/* The level brain__simd_best() picks when BRAINCORE_SIMD is `override`
 * (NULL: unset; unknown names are ignored). Not cached: for tests. */
brain_simd_level brain__simd_choose(const char *override);

/* Kernel for a metric at a level (which must be supported); at the best
 * level when level is negative. NULL for an unknown metric or an
 * unsupported level. At every level the batch kernel gives each row
 * exactly (bit for bit) the distance the single-pair kernel gives. */
brain_dist_fn brain__dist_fn(int metric, int level);
brain_dist_batch_fn brain__dist_batch_fn(int metric, int level);
/* The same bit-for-bit promise for the gather kernel. */
brain_dist_gather_fn brain__dist_gather_fn(int metric, int level);
/* And for the many-query kernel: each query's distances are bit for bit
 * the batch kernel's for it. */
brain_dist_multi_fn brain__dist_multi_fn(int metric, int level);

/* ---- 8-bit rows ------------------------------------------------------------
 *
 * Rows can be stored as 8-bit integers (pixels, int8 embeddings: a quarter
 * of the memory) while the query stays float. These kernels read such rows
 * and give, at each level, exactly (bit for bit) what the float kernel of
 * the same metric and level gives for the row widened to float ((float)r_i,
 * which is exact): the same sums in the same order, only the load of the
 * row differs. So an index may hold 8-bit rows and float rows side by side
 * and rank them alike, and the float kernels' tests vouch for these. */

/* Element type of stored rows. BRAIN_ELEM_Q8 rows are not integers
 * given by the caller but any floats, quantised: an int8 code per
 * component and one float scale per row (brain__q8_encode), for the inner
 * product and cosine metrics. */
typedef enum brain_elem {
	BRAIN_ELEM_F32 = 0,
	BRAIN_ELEM_U8 = 1,
	BRAIN_ELEM_I8 = 2,
	BRAIN_ELEM_Q8 = 3
} brain_elem;

/* Where a Q8 row's scale lies: after its dim codes, 4-byte aligned. */
static inline size_t brain__q8_scale_offset(size_t dim)
{
	return (dim + 3) & ~(size_t)3;
}

/* Bytes of a row's vector: dim floats, dim bytes, or dim codes and the
 * scale. */
static inline size_t brain__elem_row_bytes(brain_elem elem, size_t dim)
{
	switch (elem) {
	case BRAIN_ELEM_F32:
		return dim * sizeof(float);
	case BRAIN_ELEM_Q8:
		return brain__q8_scale_offset(dim) + sizeof(float);
	default:
		return dim;
	}
}

/* Distance from a float query to a row of `dim` 8-bit integers (uint8_t or
 * int8_t by the kernel's element type). Rows need no alignment, and no
 * kernel reads a byte past row + dim. */
typedef float (*brain_dist8_fn)(const float *q, const void *row, size_t dim);

/* n rows, row i at (const unsigned char *)rows + i * stride bytes. */
typedef void (*brain_dist8_batch_fn)(const float *q, const void *rows, size_t n, size_t stride,
                                     size_t dim, float *out);

/* n rows anywhere. */
typedef void (*brain_dist8_gather_fn)(const float *q, const void *const *rows, size_t n,
                                      size_t dim, float *out);

/* Kernel for (metric, elem) at a level (negative: best). NULL for
 * BRAIN_ELEM_F32; for U8 and I8 under BRAIN_METRIC_COSINE (integer rows
 * cannot be unit vectors); for Q8 under BRAIN_METRIC_L2; for an unknown
 * metric or elem, or an unsupported level.
 *
 * Q8 rows (codes c, scale s: the row stands for s c) give 1 - s (q . c)
 * from the I8 kernel's bits at that level, so the batch and gather
 * kernels still give each row what the pair kernel gives. */
brain_dist8_fn brain__dist8_fn(int metric, brain_elem elem, int level);
brain_dist8_batch_fn brain__dist8_batch_fn(int metric, brain_elem elem, int level);
brain_dist8_gather_fn brain__dist8_gather_fn(int metric, brain_elem elem, int level);

/* A row of 8-bit elements as dim floats into out: exact for U8 and I8;
 * for Q8 the values it stands for (s c_i, each exact). */
void brain__elem_widen(brain_elem elem, const void *row, size_t dim, float *out);

/* Store x (dim finite floats; for U8 and I8 integers in their range,
 * checked by the caller) as a row of elem; unit: see brain__q8_encode. */
void brain__elem_store(brain_elem elem, const float *x, size_t dim, bool unit, void *row);

/* Quantise x (dim finite floats) into a Q8 row. The codes: c_i is the
 * nearest integer to x_i / t, where t is the largest |x_i| / 127 rounded
 * up to 17 significant bits. The scale s is t (each component kept to
 * within t / 2, a 254th of the largest), or, when unit (x is a unit
 * vector, the cosine metric), 1 / |c|, so that the row stays a unit
 * vector (a vector's distance to itself stays 0 and cosines are those of
 * the codes' direction). Either way a row's own values
 * (brain__elem_widen) encode to the same row bit for bit (127 t is exact,
 * and the codes come back within 1/500 of themselves): moving a vector
 * through get and add changes nothing. A zero vector has s 0. */
void brain__q8_encode(const float *x, size_t dim, bool unit, void *row);

/* ---- 8-bit codes (SQ8) ----------------------------------------------------
 *
 * A graph index may keep, beside each float row, an 8-bit code of it (a
 * scalar quantiser: index/hnsw_sq8.c) and walk on distances between the
 * query's code and the nodes' codes, reranking the results on floats.
 * These kernels give that distance in code units (only the order
 * matters): under L2 the codes are uint8 and the distance is
 * sum (a_i - b_i)^2; under IP and cosine they are int8 and it is
 * -sum a_i b_i. The sums are integers, exact at every level (no 32-bit lane
 * overflows for n up to 2^16, BRAIN_MAX_DIMENSIONS; the lanes are added
 * in 64 bits), so
 * every level gives the scalar level's result exactly. No kernel reads a
 * byte past a + n or b + n. */
typedef float (*brain_code_dist_fn)(const unsigned char *a, const unsigned char *b, size_t n);

/* Kernel for a metric's codes at a level (negative: best): L2 for
 * BRAIN_METRIC_L2, the inner product for _IP and _COSINE. NULL for an
 * unknown metric or an unsupported level. */
brain_code_dist_fn brain__code_dist_fn(int metric, int level);

/* Scalar references. */
float brain__l2sq_ref(const float *a, const float *b, size_t dim);
float brain__dot_ref(const float *a, const float *b, size_t dim);

/* The SIMD kernels (distance_avx2.c, distance_avx512.c); call them only
 * through brain__dist_fn() and brain__dist_batch_fn(), which check the CPU.
 * "ip" is 1 - dot product, the IP and cosine distance. */
#if defined(__x86_64__) || defined(__i386__)
#define BRAIN_HAVE_X86_KERNELS 1
float brain__l2sq_avx2(const float *a, const float *b, size_t dim);
float brain__ip_avx2(const float *a, const float *b, size_t dim);
void brain__l2sq_batch_avx2(const float *q, const float *rows, size_t n, size_t stride,
                            size_t dim, float *out);
void brain__ip_batch_avx2(const float *q, const float *rows, size_t n, size_t stride,
                          size_t dim, float *out);
void brain__l2sq_multi_avx2(const float *const *q, size_t nq, const float *rows, size_t n,
                            size_t stride, size_t dim, float *out);
void brain__ip_multi_avx2(const float *const *q, size_t nq, const float *rows, size_t n,
                          size_t stride, size_t dim, float *out);
float brain__l2sq_avx512(const float *a, const float *b, size_t dim);
float brain__ip_avx512(const float *a, const float *b, size_t dim);
void brain__l2sq_batch_avx512(const float *q, const float *rows, size_t n, size_t stride,
                              size_t dim, float *out);
void brain__ip_batch_avx512(const float *q, const float *rows, size_t n, size_t stride,
                            size_t dim, float *out);
void brain__l2sq_multi_avx512(const float *const *q, size_t nq, const float *rows, size_t n,
                              size_t stride, size_t dim, float *out);
void brain__ip_multi_avx512(const float *const *q, size_t nq, const float *rows, size_t n,
                            size_t stride, size_t dim, float *out);
void brain__l2sq_gather_avx512(const float *q, const float *const *rows, size_t n, size_t dim,
                               float *out);
void brain__ip_gather_avx512(const float *q, const float *const *rows, size_t n, size_t dim,
                             float *out);
/* The same for 8-bit rows (call them through brain__dist8_fn() and its
 * siblings): u8 and i8 for the element type. */
float brain__l2sq_u8_avx2(const float *q, const void *row, size_t dim);
float brain__l2sq_i8_avx2(const float *q, const void *row, size_t dim);
float brain__ip_u8_avx2(const float *q, const void *row, size_t dim);
float brain__ip_i8_avx2(const float *q, const void *row, size_t dim);
void brain__l2sq_u8_batch_avx2(const float *q, const void *rows, size_t n, size_t stride,
                               size_t dim, float *out);
void brain__l2sq_i8_batch_avx2(const float *q, const void *rows, size_t n, size_t stride,
                               size_t dim, float *out);
void brain__ip_u8_batch_avx2(const float *q, const void *rows, size_t n, size_t stride,
                             size_t dim, float *out);
void brain__ip_i8_batch_avx2(const float *q, const void *rows, size_t n, size_t stride,
                             size_t dim, float *out);
float brain__l2sq_u8_avx512(const float *q, const void *row, size_t dim);
float brain__l2sq_i8_avx512(const float *q, const void *row, size_t dim);
float brain__ip_u8_avx512(const float *q, const void *row, size_t dim);
float brain__ip_i8_avx512(const float *q, const void *row, size_t dim);
void brain__l2sq_u8_batch_avx512(const float *q, const void *rows, size_t n, size_t stride,
                                 size_t dim, float *out);
void brain__l2sq_i8_batch_avx512(const float *q, const void *rows, size_t n, size_t stride,
                                 size_t dim, float *out);
void brain__ip_u8_batch_avx512(const float *q, const void *rows, size_t n, size_t stride,
                               size_t dim, float *out);
void brain__ip_i8_batch_avx512(const float *q, const void *rows, size_t n, size_t stride,
                               size_t dim, float *out);
void brain__l2sq_u8_gather_avx512(const float *q, const void *const *rows, size_t n, size_t dim,
                                  float *out);
void brain__l2sq_i8_gather_avx512(const float *q, const void *const *rows, size_t n, size_t dim,
                                  float *out);
void brain__ip_u8_gather_avx512(const float *q, const void *const *rows, size_t n, size_t dim,
                                float *out);
void brain__ip_i8_gather_avx512(const float *q, const void *const *rows, size_t n, size_t dim,
                                float *out);
/* The same for 8-bit codes (call them through brain__code_dist_fn()). */
float brain__code_l2_avx2(const unsigned char *a, const unsigned char *b, size_t n);
float brain__code_ip_avx2(const unsigned char *a, const unsigned char *b, size_t n);
float brain__code_l2_avx512(const unsigned char *a, const unsigned char *b, size_t n);
float brain__code_ip_avx512(const unsigned char *a, const unsigned char *b, size_t n);
#endif

/* Check a vector entering the brain and copy it to `out` (which may be
 * `in`): every component finite (BRAIN_ENONFINITE, the message names the
 * first bad index and `what`), and under the cosine metric non-zero
 * (BRAIN_EZEROVEC) and normalised to unit length (the norm is computed in
 * double, so no finite vector overflows or underflows). An unknown metric
 * is BRAIN_EINVAL; `what` NULL reads "vector". */
int brain__vector_prepare(const float *in, size_t dim, int metric, float *out,
                          const char *what);

/* Scale v (finite) to unit length in place; returns its former norm
 * (0: unchanged; +inf as a float if the norm exceeds FLT_MAX, though v is
 * still normalised). */
float brain__normalize(float *v, size_t dim);

#endif /* BRAIN_INDEX_DISTANCE_H */
