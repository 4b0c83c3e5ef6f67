/*
 * index/distance_avx2.c - distance kernels for AVX2 + FMA.
 *
 * Compiled for any x86 target: the functions carry target attributes, so
 * the build needs no special flags, and distance.c calls them only on CPUs
 * that have the instructions.
 *
 * One row is summed in four 8-float accumulators (FMA has a latency of
 * four or five cycles and two units, so a single chain would idle most of
 * the machine), then 8-float steps, then a masked load for the last 1..7
 * floats, so there is no scalar tail.
 *
 * The batch kernel computes two rows at a time, sharing each load of the
 * query between them. The two are not neighbours but the same place in
 * the two halves of the batch: reading neighbouring rows side by side
 * zigzags through memory, which (measured on Zen 4) stops the hardware
 * prefetcher and halves the speed of a scan that does not fit in cache,
 * while two sequential streams run at full memory bandwidth. Every row
 * goes through exactly the operations of the pair kernel, so its distance
 * is the same bit for bit.
 *
 * Rows are floats or 8-bit integers, the query is always floats. Each
 * kernel is written once for the element type of the rows (`elem`, a
 * brain_elem), which the public functions pass as a constant, so every
 * kernel is compiled once per type with only the loads of the row
 * differing: where a float row loads 8 floats, an 8-bit one loads 8 bytes
 * and widens them to 8 floats (exact). Everything after the load is the
 * same, so an 8-bit row gets the float kernel's distance of the widened
 * row bit for bit.
 *
 * At the end, the kernels for the 8-bit codes of SQ8 (distance.h): integer
 * sums, equal to the scalar ones exactly.
 */
#if defined(__x86_64__) || defined(__i386__)

#include <immintrin.h>

#include "index/distance.h"

#define AVX2 __attribute__((target("avx2,fma")))
#define INLINE static inline __attribute__((always_inline))

/* Lanes [0, r) set, r in 1..7. */
INLINE AVX2 __m256i tail_mask(size_t r)
{
	return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)r), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* acc + (q - r)^2 for L2, acc + q * r for the dot product. Masked-out
 * lanes load as 0 in both q and r, so they add 0 either way. */
INLINE AVX2 __m256 step(__m256 acc, __m256 q, __m256 r, int l2)
{
	if (l2) {
		__m256 d = _mm256_sub_ps(q, r);
		return _mm256_fmadd_ps(d, d, acc);
	}
	return _mm256_fmadd_ps(q, r, acc);
}

INLINE AVX2 float hsum(__m256 a0, __m256 a1, __m256 a2, __m256 a3)
{
	__m256 v = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
	__m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}

/* What a kernel returns for a row's sum: L2² as it is; for IP (l2 0) the
 * distance 1 - dot. */
INLINE AVX2 float finish(float sum, int l2)
{
	return l2 ? sum : 1.0f - sum;
}

/* Up to 8 bytes as floats, unsigned or (sign) signed. */
INLINE AVX2 __m256 widen8(__m128i x, int sign)
{
	return _mm256_cvtepi32_ps(sign ? _mm256_cvtepi8_epi32(x) : _mm256_cvtepu8_epi32(x));
}

/* Elements [i, i + 8) of a row of type elem as floats. */
INLINE AVX2 __m256 load_block(const void *row, size_t i, int elem)
{
	if (elem == BRAIN_ELEM_F32)
		return _mm256_loadu_ps((const float *)row + i);
	const unsigned char *b = (const unsigned char *)row + i;
	return widen8(_mm_loadl_epi64((const void *)b), elem == BRAIN_ELEM_I8);
}

/* Elements [i, dim) of a row (1..7 of them; m = tail_mask(dim - i)) as
 * floats, the lanes after them 0. A float row is a masked load. AVX2
 * cannot mask a load of bytes, so an 8-bit row of 8 bytes or more loads
 * its last 8 and shifts out those before i; a shorter one is read byte by
 * byte. Nothing past the row's element dim - 1 is read. */
INLINE AVX2 __m256 load_tail(const void *row, size_t i, size_t dim, __m256i m, int elem)
{
	if (elem == BRAIN_ELEM_F32)
		return _mm256_maskload_ps((const float *)row + i, m);
	const unsigned char *r = row;
	size_t n = dim - i;
	__m128i x;
	if (i >= 8) {
		x = _mm_loadl_epi64((const void *)(r + dim - 8));
		x = _mm_srl_epi64(x, _mm_cvtsi32_si128((int)(64 - 8 * n)));
	} else {
		uint64_t t = 0;
		for (size_t k = 0; k < n; k++)
			t |= (uint64_t)r[i + k] << (8 * k);
		x = _mm_set_epi64x(0, (long long)t);
	}
	return widen8(x, elem == BRAIN_ELEM_I8);
}

/* Distance to one row: the order of sums every kernel of this file
 * follows. */
INLINE AVX2 float one_row(const float *q, const void *r, size_t dim, int l2, int elem)
{
	__m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
	size_t i = 0;
	for (; i + 32 <= dim; i += 32) {
		a0 = step(a0, _mm256_loadu_ps(q + i), load_block(r, i, elem), l2);
		a1 = step(a1, _mm256_loadu_ps(q + i + 8), load_block(r, i + 8, elem), l2);
		a2 = step(a2, _mm256_loadu_ps(q + i + 16), load_block(r, i + 16, elem), l2);
		a3 = step(a3, _mm256_loadu_ps(q + i + 24), load_block(r, i + 24, elem), l2);
	}
	for (; i + 8 <= dim; i += 8)
		a0 = step(a0, _mm256_loadu_ps(q + i), load_block(r, i, elem), l2);
	if (i < dim) {
		__m256i m = tail_mask(dim - i);
		a1 = step(a1, _mm256_maskload_ps(q + i, m), load_tail(r, i, dim, m, elem), l2);
	}
	return finish(hsum(a0, a1, a2, a3), l2);
}

/* Two rows at once, each exactly as one_row() would sum it. */
INLINE AVX2 void two_rows(const float *q, const void *r, const void *s, size_t dim, int l2,
                          int elem, float *out)
{
	__m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
	__m256 b0 = a0, b1 = a0, b2 = a0, b3 = a0;
	size_t i = 0;
	for (; i + 32 <= dim; i += 32) {
		__m256 q0 = _mm256_loadu_ps(q + i), q1 = _mm256_loadu_ps(q + i + 8);
		__m256 q2 = _mm256_loadu_ps(q + i + 16), q3 = _mm256_loadu_ps(q + i + 24);
		a0 = step(a0, q0, load_block(r, i, elem), l2);
		b0 = step(b0, q0, load_block(s, i, elem), l2);
		a1 = step(a1, q1, load_block(r, i + 8, elem), l2);
		b1 = step(b1, q1, load_block(s, i + 8, elem), l2);
		a2 = step(a2, q2, load_block(r, i + 16, elem), l2);
		b2 = step(b2, q2, load_block(s, i + 16, elem), l2);
		a3 = step(a3, q3, load_block(r, i + 24, elem), l2);
		b3 = step(b3, q3, load_block(s, i + 24, elem), l2);
	}
	for (; i + 8 <= dim; i += 8) {
		__m256 q0 = _mm256_loadu_ps(q + i);
		a0 = step(a0, q0, load_block(r, i, elem), l2);
		b0 = step(b0, q0, load_block(s, i, elem), l2);
	}
	if (i < dim) {
		__m256i m = tail_mask(dim - i);
		__m256 q0 = _mm256_maskload_ps(q + i, m);
		a1 = step(a1, q0, load_tail(r, i, dim, m, elem), l2);
		b1 = step(b1, q0, load_tail(s, i, dim, m, elem), l2);
	}
	out[0] = finish(hsum(a0, a1, a2, a3), l2);
	out[1] = finish(hsum(b0, b1, b2, b3), l2);
}

/* Distances (finish()) from q to n rows, row k at
 * rows + k * stride elements: rows i and m + i together, then the odd one
 * out. */
INLINE AVX2 void batch(const float *q, const void *rows, size_t n, size_t stride, size_t dim,
                       int l2, int elem, float *out)
{
	size_t m = n / 2, bytes = stride * (elem == BRAIN_ELEM_F32 ? sizeof(float) : 1);
	const unsigned char *r = rows, *s = r + m * bytes;
	float pair[2];
	for (size_t i = 0; i < m; i++) {
		two_rows(q, r + i * bytes, s + i * bytes, dim, l2, elem, pair);
		out[i] = pair[0];
		out[m + i] = pair[1];
	}
	if (n & 1)
		out[n - 1] = one_row(q, r + (n - 1) * bytes, dim, l2, elem);
}

/* Many queries: two_rows() with the roles swapped, a row's 8-float block
 * loaded once for two queries, each stepped as one_row() steps it (bit
 * for bit its sum). */
INLINE AVX2 void two_queries(const float *q, const float *p, const float *r, size_t dim, int l2,
                             float *oq, float *op)
{
	__m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
	__m256 b0 = a0, b1 = a0, b2 = a0, b3 = a0;
	size_t i = 0;
	for (; i + 32 <= dim; i += 32) {
		__m256 r0 = _mm256_loadu_ps(r + i), r1 = _mm256_loadu_ps(r + i + 8);
		__m256 r2 = _mm256_loadu_ps(r + i + 16), r3 = _mm256_loadu_ps(r + i + 24);
		a0 = step(a0, _mm256_loadu_ps(q + i), r0, l2);
		b0 = step(b0, _mm256_loadu_ps(p + i), r0, l2);
		a1 = step(a1, _mm256_loadu_ps(q + i + 8), r1, l2);
		b1 = step(b1, _mm256_loadu_ps(p + i + 8), r1, l2);
		a2 = step(a2, _mm256_loadu_ps(q + i + 16), r2, l2);
		b2 = step(b2, _mm256_loadu_ps(p + i + 16), r2, l2);
		a3 = step(a3, _mm256_loadu_ps(q + i + 24), r3, l2);
		b3 = step(b3, _mm256_loadu_ps(p + i + 24), r3, l2);
	}
	for (; i + 8 <= dim; i += 8) {
		__m256 r0 = _mm256_loadu_ps(r + i);
		a0 = step(a0, _mm256_loadu_ps(q + i), r0, l2);
		b0 = step(b0, _mm256_loadu_ps(p + i), r0, l2);
	}
	if (i < dim) {
		__m256i m = tail_mask(dim - i);
		__m256 r0 = _mm256_maskload_ps(r + i, m);
		a1 = step(a1, _mm256_maskload_ps(q + i, m), r0, l2);
		b1 = step(b1, _mm256_maskload_ps(p + i, m), r0, l2);
	}
	*oq = finish(hsum(a0, a1, a2, a3), l2);
	*op = finish(hsum(b0, b1, b2, b3), l2);
}

INLINE AVX2 void multi(const float *const *q, size_t nq, const float *rows, size_t n,
                       size_t stride, size_t dim, int l2, float *out)
{
	size_t j = 0;
	for (; j + 2 <= nq; j += 2) {
		float *o = out + j * n;
		for (size_t i = 0; i < n; i++)
			two_queries(q[j], q[j + 1], rows + i * stride, dim, l2, o + i, o + n + i);
	}
	for (; j < nq; j++)
		batch(q[j], rows, n, stride, dim, l2, BRAIN_ELEM_F32, out + j * n);
}

AVX2 void brain__l2sq_multi_avx2(const float *const *q, size_t nq, const float *rows, size_t n,
                                 size_t stride, size_t dim, float *out)
{
	multi(q, nq, rows, n, stride, dim, 1, out);
}

AVX2 void brain__ip_multi_avx2(const float *const *q, size_t nq, const float *rows, size_t n,
                               size_t stride, size_t dim, float *out)
{
	multi(q, nq, rows, n, stride, dim, 0, out);
}

AVX2 float brain__l2sq_avx2(const float *a, const float *b, size_t dim)
{
	return one_row(a, b, dim, 1, BRAIN_ELEM_F32);
}

AVX2 float brain__ip_avx2(const float *a, const float *b, size_t dim)
{
	return one_row(a, b, dim, 0, BRAIN_ELEM_F32);
}

AVX2 void brain__l2sq_batch_avx2(const float *q, const float *rows, size_t n, size_t stride,
                                 size_t dim, float *out)
{
	batch(q, rows, n, stride, dim, 1, BRAIN_ELEM_F32, out);
}

AVX2 void brain__ip_batch_avx2(const float *q, const float *rows, size_t n, size_t stride,
                               size_t dim, float *out)
{
	batch(q, rows, n, stride, dim, 0, BRAIN_ELEM_F32, out);
}

/* The same kernels for rows of uint8 or int8, `stride` bytes apart. */

AVX2 float brain__l2sq_u8_avx2(const float *q, const void *row, size_t dim)
{
	return one_row(q, row, dim, 1, BRAIN_ELEM_U8);
}

AVX2 float brain__l2sq_i8_avx2(const float *q, const void *row, size_t dim)
{
	return one_row(q, row, dim, 1, BRAIN_ELEM_I8);
}

AVX2 float brain__ip_u8_avx2(const float *q, const void *row, size_t dim)
{
	return one_row(q, row, dim, 0, BRAIN_ELEM_U8);
}

AVX2 float brain__ip_i8_avx2(const float *q, const void *row, size_t dim)
{
	return one_row(q, row, dim, 0, BRAIN_ELEM_I8);
}

AVX2 void brain__l2sq_u8_batch_avx2(const float *q, const void *rows, size_t n, size_t stride,
                                    size_t dim, float *out)
{
	batch(q, rows, n, stride, dim, 1, BRAIN_ELEM_U8, out);
}

AVX2 void brain__l2sq_i8_batch_avx2(const float *q, const void *rows, size_t n, size_t stride,
                                    size_t dim, float *out)
{
	batch(q, rows, n, stride, dim, 1, BRAIN_ELEM_I8, out);
}

AVX2 void brain__ip_u8_batch_avx2(const float *q, const void *rows, size_t n, size_t stride,
                                  size_t dim, float *out)
{
	batch(q, rows, n, stride, dim, 0, BRAIN_ELEM_U8, out);
}

AVX2 void brain__ip_i8_batch_avx2(const float *q, const void *rows, size_t n, size_t stride,
                                  size_t dim, float *out)
{
	batch(q, rows, n, stride, dim, 0, BRAIN_ELEM_I8, out);
}

/* ---- 8-bit codes (SQ8) ---------------------------------------------------
 *
 * 16 codes at a time widened to 16-bit lanes; madd sums pairs of products
 * into 32-bit lanes; the last 0..15 codes one by one. */

/* Sum of the eight 32-bit lanes, in 64 bits: a lane holds at most
 * 65025 * 65536 / 8 (no overflow), the sum may not fit in 32. */
INLINE AVX2 int64_t hsum_epi32(__m256i v)
{
	int32_t lanes[8];
	_mm256_storeu_si256((__m256i *)(void *)lanes, v);
	int64_t sum = 0;
	for (int i = 0; i < 8; i++)
		sum += lanes[i];
	return sum;
}

AVX2 float brain__code_l2_avx2(const unsigned char *a, const unsigned char *b, size_t n)
{
	__m256i acc = _mm256_setzero_si256();
	size_t i = 0;
	for (; i + 16 <= n; i += 16) {
		__m256i x = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(a + i)));
		__m256i y = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(b + i)));
		__m256i d = _mm256_sub_epi16(x, y);
		acc = _mm256_add_epi32(acc, _mm256_madd_epi16(d, d));
	}
	int64_t sum = hsum_epi32(acc);
	for (; i < n; i++) {
		int32_t d = (int32_t)a[i] - (int32_t)b[i];
		sum += d * d;
	}
	return (float)sum;
}

AVX2 float brain__code_ip_avx2(const unsigned char *a, const unsigned char *b, size_t n)
{
	__m256i acc = _mm256_setzero_si256();
	size_t i = 0;
	for (; i + 16 <= n; i += 16) {
		__m256i x = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(a + i)));
		__m256i y = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(b + i)));
		acc = _mm256_add_epi32(acc, _mm256_madd_epi16(x, y));
	}
	int64_t sum = hsum_epi32(acc);
	const signed char *x = (const signed char *)a, *y = (const signed char *)b;
	for (; i < n; i++)
		sum += (int32_t)x[i] * (int32_t)y[i];
	return (float)-sum;
}

#else

/* ISO C wants a translation unit to declare something. */
typedef int brain__distance_avx2_empty;

#endif
