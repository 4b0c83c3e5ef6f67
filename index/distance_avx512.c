/*
 * index/distance_avx512.c - distance kernels for AVX-512 (F, BW and VL).
 *
 * Same plan as distance_avx2.c at twice the width: four 16-float
 * accumulators per row, 16-float steps, then one masked load (AVX-512 masks
 * make the tail free of scalar code and of reads past the end). With 32
 * vector registers the batch kernel runs four rows at a time: 16
 * accumulators and one query register. The four rows are the same place in
 * the four quarters of the batch, so memory is read as four sequential
 * streams, which the hardware prefetcher follows (see distance_avx2.c).
 * Every row goes through exactly the operations of the pair kernel, so
 * batch and pair distances are equal bit for bit.
 *
 * As in distance_avx2.c each kernel is written once for the element type
 * of the rows (`elem`, a brain_elem, a constant in every public function):
 * where a float row loads 16 floats, an 8-bit one loads 16 bytes and widens
 * them to 16 floats (exact), and its tail is a masked load of bytes, zero
 * past the end as the masked float load is. Everything else is the same,
 * so an 8-bit row gets the float kernel's distance of the widened row bit
 * for bit (the pair, batch and gather kernels alike). The masked byte load
 * needs BW and VL, which the AVX-512 level requires (distance.c), so every
 * function here is compiled for all three.
 *
 * At the end, the kernels for the 8-bit codes of SQ8 (distance.h): integer
 * sums, equal to the scalar ones exactly.
 */
#if defined(__x86_64__) || defined(__i386__)

#include <immintrin.h>

#include "index/distance.h"

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl")))
#define INLINE static inline __attribute__((always_inline))

INLINE AVX512 __m512 step(__m512 acc, __m512 q, __m512 r, int l2)
{
	if (l2) {
		__m512 d = _mm512_sub_ps(q, r);
		return _mm512_fmadd_ps(d, d, acc);
	}
	return _mm512_fmadd_ps(q, r, acc);
}

INLINE AVX512 float hsum(__m512 a0, __m512 a1, __m512 a2, __m512 a3)
{
	return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

/* What a kernel returns for a row's sum: L2² as it is; for IP (l2 0) the
 * distance 1 - dot. */
INLINE AVX512 float finish(float sum, int l2)
{
	return l2 ? sum : 1.0f - sum;
}

/* Lanes [0, r) set, r in 1..15. */
INLINE __mmask16 tail_mask(size_t r)
{
	return (__mmask16)((1u << r) - 1u);
}

/* 16 bytes as floats, unsigned or (sign) signed. */
INLINE AVX512 __m512 widen8(__m128i x, int sign)
{
	return _mm512_cvtepi32_ps(sign ? _mm512_cvtepi8_epi32(x) : _mm512_cvtepu8_epi32(x));
}

/* Elements [i, i + 16) of a row of type elem as floats. */
INLINE AVX512 __m512 load_block(const void *row, size_t i, int elem)
{
	if (elem == BRAIN_ELEM_F32)
		return _mm512_loadu_ps((const float *)row + i);
	const unsigned char *b = (const unsigned char *)row + i;
	return widen8(_mm_loadu_si128((const void *)b), elem == BRAIN_ELEM_I8);
}

/* The elements [i, i + 16) of a row that mask m selects as floats, the
 * others 0; nothing else is read. */
INLINE AVX512 __m512 load_masked(__mmask16 m, const void *row, size_t i, int elem)
{
	if (elem == BRAIN_ELEM_F32)
		return _mm512_maskz_loadu_ps(m, (const float *)row + i);
	const unsigned char *b = (const unsigned char *)row + i;
	return widen8(_mm_maskz_loadu_epi8(m, b), elem == BRAIN_ELEM_I8);
}

INLINE AVX512 float one_row(const float *q, const void *r, size_t dim, int l2, int elem)
{
	__m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
	size_t i = 0;
	for (; i + 64 <= dim; i += 64) {
		a0 = step(a0, _mm512_loadu_ps(q + i), load_block(r, i, elem), l2);
		a1 = step(a1, _mm512_loadu_ps(q + i + 16), load_block(r, i + 16, elem), l2);
		a2 = step(a2, _mm512_loadu_ps(q + i + 32), load_block(r, i + 32, elem), l2);
		a3 = step(a3, _mm512_loadu_ps(q + i + 48), load_block(r, i + 48, elem), l2);
	}
	for (; i + 16 <= dim; i += 16)
		a0 = step(a0, _mm512_loadu_ps(q + i), load_block(r, i, elem), l2);
	if (i < dim) {
		__mmask16 m = tail_mask(dim - i);
		a1 = step(a1, _mm512_maskz_loadu_ps(m, q + i), load_masked(m, r, i, elem), l2);
	}
	return finish(hsum(a0, a1, a2, a3), l2);
}

/* One 16-float step at offset i for four rows with accumulators x. */
#define STEP4(x, qv, off)                                                        \
	do {                                                                         \
		x##0 = step(x##0, qv, load_block(r0, off, elem), l2);                    \
		x##1 = step(x##1, qv, load_block(r1, off, elem), l2);                    \
		x##2 = step(x##2, qv, load_block(r2, off, elem), l2);                    \
		x##3 = step(x##3, qv, load_block(r3, off, elem), l2);                    \
	} while (0)

/* Four rows at once. Accumulator aK of one_row() is, for row j, the
 * register named by the letter of K (a, b, c, d) and the digit j. */
INLINE AVX512 void four_rows(const float *q, const void *r0, const void *r1, const void *r2,
                             const void *r3, size_t dim, int l2, int elem, float *o0, float *o1,
                             float *o2, float *o3)
{
	__m512 z = _mm512_setzero_ps();
	__m512 a0 = z, a1 = z, a2 = z, a3 = z; /* one_row's a0, rows 0..3 */
	__m512 b0 = z, b1 = z, b2 = z, b3 = z; /* one_row's a1 */
	__m512 c0 = z, c1 = z, c2 = z, c3 = z; /* one_row's a2 */
	__m512 d0 = z, d1 = z, d2 = z, d3 = z; /* one_row's a3 */
	size_t i = 0;
	for (; i + 64 <= dim; i += 64) {
		__m512 qv = _mm512_loadu_ps(q + i);
		STEP4(a, qv, i);
		qv = _mm512_loadu_ps(q + i + 16);
		STEP4(b, qv, i + 16);
		qv = _mm512_loadu_ps(q + i + 32);
		STEP4(c, qv, i + 32);
		qv = _mm512_loadu_ps(q + i + 48);
		STEP4(d, qv, i + 48);
	}
	for (; i + 16 <= dim; i += 16) {
		__m512 qv = _mm512_loadu_ps(q + i);
		STEP4(a, qv, i);
	}
	if (i < dim) {
		__mmask16 m = tail_mask(dim - i);
		__m512 qv = _mm512_maskz_loadu_ps(m, q + i);
		b0 = step(b0, qv, load_masked(m, r0, i, elem), l2);
		b1 = step(b1, qv, load_masked(m, r1, i, elem), l2);
		b2 = step(b2, qv, load_masked(m, r2, i, elem), l2);
		b3 = step(b3, qv, load_masked(m, r3, i, elem), l2);
	}
	*o0 = finish(hsum(a0, b0, c0, d0), l2);
	*o1 = finish(hsum(a1, b1, c1, d1), l2);
	*o2 = finish(hsum(a2, b2, c2, d2), l2);
	*o3 = finish(hsum(a3, b3, c3, d3), l2);
}

#undef STEP4

/* Distances (finish()) from q to n rows, row k at rows + k * stride elements: rows i,
 * m + i, 2m + i and 3m + i together, then the n % 4 left over. */
INLINE AVX512 void batch(const float *q, const void *rows, size_t n, size_t stride, size_t dim,
                         int l2, int elem, float *out)
{
	size_t m = n / 4, bytes = stride * (elem == BRAIN_ELEM_F32 ? sizeof(float) : 1);
	const unsigned char *r0 = rows, *r1 = r0 + m * bytes, *r2 = r1 + m * bytes;
	const unsigned char *r3 = r2 + m * bytes;
	for (size_t i = 0; i < m; i++)
		four_rows(q, r0 + i * bytes, r1 + i * bytes, r2 + i * bytes, r3 + i * bytes, dim, l2,
		          elem, out + i, out + m + i, out + 2 * m + i, out + 3 * m + i);
	for (size_t i = 4 * m; i < n; i++)
		out[i] = one_row(q, r0 + i * bytes, dim, l2, elem);
}

/* ---- many queries: a row loaded once for four ---------------------------
 *
 * four_rows() with the roles swapped: one row's 16-float block is loaded
 * once and stepped into the accumulators of four queries, each exactly as
 * one_row() steps it, so every query's sum is one_row()'s bit for bit. */

#define QSTEP4(x, rv, off)                                                       \
	do {                                                                         \
		x##0 = step(x##0, _mm512_loadu_ps(q0 + (off)), rv, l2);                  \
		x##1 = step(x##1, _mm512_loadu_ps(q1 + (off)), rv, l2);                  \
		x##2 = step(x##2, _mm512_loadu_ps(q2 + (off)), rv, l2);                  \
		x##3 = step(x##3, _mm512_loadu_ps(q3 + (off)), rv, l2);                  \
	} while (0)

INLINE AVX512 void four_queries(const float *q0, const float *q1, const float *q2,
                                const float *q3, const float *r, size_t dim, int l2, float *o0,
                                float *o1, float *o2, float *o3)
{
	__m512 z = _mm512_setzero_ps();
	__m512 a0 = z, a1 = z, a2 = z, a3 = z; /* one_row's a0, queries 0..3 */
	__m512 b0 = z, b1 = z, b2 = z, b3 = z; /* one_row's a1 */
	__m512 c0 = z, c1 = z, c2 = z, c3 = z; /* one_row's a2 */
	__m512 d0 = z, d1 = z, d2 = z, d3 = z; /* one_row's a3 */
	size_t i = 0;
	for (; i + 64 <= dim; i += 64) {
		__m512 rv = _mm512_loadu_ps(r + i);
		QSTEP4(a, rv, i);
		rv = _mm512_loadu_ps(r + i + 16);
		QSTEP4(b, rv, i + 16);
		rv = _mm512_loadu_ps(r + i + 32);
		QSTEP4(c, rv, i + 32);
		rv = _mm512_loadu_ps(r + i + 48);
		QSTEP4(d, rv, i + 48);
	}
	for (; i + 16 <= dim; i += 16) {
		__m512 rv = _mm512_loadu_ps(r + i);
		QSTEP4(a, rv, i);
	}
	if (i < dim) {
		__mmask16 m = tail_mask(dim - i);
		__m512 rv = _mm512_maskz_loadu_ps(m, r + i);
		b0 = step(b0, _mm512_maskz_loadu_ps(m, q0 + i), rv, l2);
		b1 = step(b1, _mm512_maskz_loadu_ps(m, q1 + i), rv, l2);
		b2 = step(b2, _mm512_maskz_loadu_ps(m, q2 + i), rv, l2);
		b3 = step(b3, _mm512_maskz_loadu_ps(m, q3 + i), rv, l2);
	}
	*o0 = finish(hsum(a0, b0, c0, d0), l2);
	*o1 = finish(hsum(a1, b1, c1, d1), l2);
	*o2 = finish(hsum(a2, b2, c2, d2), l2);
	*o3 = finish(hsum(a3, b3, c3, d3), l2);
}

#undef QSTEP4

INLINE AVX512 void multi(const float *const *q, size_t nq, const float *rows, size_t n,
                         size_t stride, size_t dim, int l2, float *out)
{
	size_t j = 0;
	for (; j + 4 <= nq; j += 4) {
		float *o = out + j * n;
		for (size_t i = 0; i < n; i++)
			four_queries(q[j], q[j + 1], q[j + 2], q[j + 3], rows + i * stride, dim, l2, o + i,
			             o + n + i, o + 2 * n + i, o + 3 * n + i);
	}
	for (; j < nq; j++)
		batch(q[j], rows, n, stride, dim, l2, BRAIN_ELEM_F32, out + j * n);
}

AVX512 void brain__l2sq_multi_avx512(const float *const *q, size_t nq, const float *rows,
                                     size_t n, size_t stride, size_t dim, float *out)
{
	multi(q, nq, rows, n, stride, dim, 1, out);
}

AVX512 void brain__ip_multi_avx512(const float *const *q, size_t nq, const float *rows, size_t n,
                                   size_t stride, size_t dim, float *out)
{
	multi(q, nq, rows, n, stride, dim, 0, out);
}

/* ---- gather: rows anywhere, the query held in registers ----------------
 *
 * A graph walk computes the distances from one query to a handful of rows
 * scattered in memory. For dim <= 256 the query's 16-float blocks stay in
 * registers across the rows (one load per block instead of two, no loop
 * and no call per row): one instance per block count NB and tail, chosen
 * once per call. Each block goes to the accumulator one_row() gives it (in
 * a 64-float group: block % 4; after the groups: a0; the tail: a1), in the
 * same order, so the sums are one_row()'s bit for bit. */

/* Row k of a gather's rows: an array of const float * for float rows, of
 * const void * for 8-bit ones (each read as its own type). */
INLINE const void *gather_row(const void *rows, size_t k, int elem)
{
	if (elem == BRAIN_ELEM_F32)
		return ((const float *const *)rows)[k];
	return ((const void *const *)rows)[k];
}

INLINE AVX512 void gather_nb(const float *q, const void *rows, size_t n, size_t dim, int l2,
                             int elem, float *out, const int nb, const int tail)
{
	const int nfull = nb - tail, grouped = nfull / 4 * 4;
	__mmask16 tm = tail ? tail_mask(dim % 16) : (__mmask16)0xffff;
	__m512 qv[16];
#pragma GCC unroll 16
	for (int b = 0; b < nb; b++)
		qv[b] = (tail && b == nb - 1) ? _mm512_maskz_loadu_ps(tm, q + 16 * b)
		                              : _mm512_loadu_ps(q + 16 * b);
	for (size_t i = 0; i < n; i++) {
		const void *r = gather_row(rows, i, elem);
		__m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
#pragma GCC unroll 16
		for (int b = 0; b < nb; b++) {
			__m512 x = (tail && b == nb - 1) ? load_masked(tm, r, 16 * (size_t)b, elem)
			                                 : load_block(r, 16 * (size_t)b, elem);
			if (b < grouped) {
				switch (b % 4) {
				case 0:
					a0 = step(a0, qv[b], x, l2);
					break;
				case 1:
					a1 = step(a1, qv[b], x, l2);
					break;
				case 2:
					a2 = step(a2, qv[b], x, l2);
					break;
				default:
					a3 = step(a3, qv[b], x, l2);
					break;
				}
			} else if (b < nfull) {
				a0 = step(a0, qv[b], x, l2);
			} else {
				a1 = step(a1, qv[b], x, l2);
			}
		}
		out[i] = finish(hsum(a0, a1, a2, a3), l2);
	}
}

#define GATHER_CASE(NB)                                                          \
	case 2 * (NB):                                                               \
		gather_nb(q, rows, n, dim, l2, elem, out, NB, 0);                        \
		return;                                                                  \
	case 2 * (NB) + 1:                                                           \
		gather_nb(q, rows, n, dim, l2, elem, out, NB, 1);                        \
		return;

/* rows: as gather_row() reads them. */
INLINE AVX512 void gather(const float *q, const void *rows, size_t n, size_t dim, int l2,
                          int elem, float *out)
{
	/* 2 * blocks (the tail's included) + 1 when there is a tail */
	size_t key = dim <= 256 ? 2 * ((dim + 15) / 16) + (dim % 16 != 0) : 0;
	switch (key) {
		GATHER_CASE(1)
		GATHER_CASE(2)
		GATHER_CASE(3)
		GATHER_CASE(4)
		GATHER_CASE(5)
		GATHER_CASE(6)
		GATHER_CASE(7)
		GATHER_CASE(8)
		GATHER_CASE(9)
		GATHER_CASE(10)
		GATHER_CASE(11)
		GATHER_CASE(12)
		GATHER_CASE(13)
		GATHER_CASE(14)
		GATHER_CASE(15)
		GATHER_CASE(16)
	default:
		break;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = one_row(q, gather_row(rows, i, elem), dim, l2, elem);
}

#undef GATHER_CASE

AVX512 float brain__l2sq_avx512(const float *a, const float *b, size_t dim)
{
	return one_row(a, b, dim, 1, BRAIN_ELEM_F32);
}

AVX512 float brain__ip_avx512(const float *a, const float *b, size_t dim)
{
	return one_row(a, b, dim, 0, BRAIN_ELEM_F32);
}

AVX512 void brain__l2sq_batch_avx512(const float *q, const float *rows, size_t n, size_t stride,
                                     size_t dim, float *out)
{
	batch(q, rows, n, stride, dim, 1, BRAIN_ELEM_F32, out);
}

AVX512 void brain__ip_batch_avx512(const float *q, const float *rows, size_t n, size_t stride,
                                   size_t dim, float *out)
{
	batch(q, rows, n, stride, dim, 0, BRAIN_ELEM_F32, out);
}

AVX512 void brain__l2sq_gather_avx512(const float *q, const float *const *rows, size_t n,
                                      size_t dim, float *out)
{
	gather(q, rows, n, dim, 1, BRAIN_ELEM_F32, out);
}

AVX512 void brain__ip_gather_avx512(const float *q, const float *const *rows, size_t n,
                                    size_t dim, float *out)
{
	gather(q, rows, n, dim, 0, BRAIN_ELEM_F32, out);
}

/* The same kernels for rows of uint8 or int8, `stride` bytes apart. */

AVX512 float brain__l2sq_u8_avx512(const float *q, const void *row, size_t dim)
{
	return one_row(q, row, dim, 1, BRAIN_ELEM_U8);
}

AVX512 float brain__l2sq_i8_avx512(const float *q, const void *row, size_t dim)
{
	return one_row(q, row, dim, 1, BRAIN_ELEM_I8);
}

AVX512 float brain__ip_u8_avx512(const float *q, const void *row, size_t dim)
{
	return one_row(q, row, dim, 0, BRAIN_ELEM_U8);
}

AVX512 float brain__ip_i8_avx512(const float *q, const void *row, size_t dim)
{
	return one_row(q, row, dim, 0, BRAIN_ELEM_I8);
}

AVX512 void brain__l2sq_u8_batch_avx512(const float *q, const void *rows, size_t n,
                                        size_t stride, size_t dim, float *out)
{
	batch(q, rows, n, stride, dim, 1, BRAIN_ELEM_U8, out);
}

AVX512 void brain__l2sq_i8_batch_avx512(const float *q, const void *rows, size_t n,
                                        size_t stride, size_t dim, float *out)
{
	batch(q, rows, n, stride, dim, 1, BRAIN_ELEM_I8, out);
}

AVX512 void brain__ip_u8_batch_avx512(const float *q, const void *rows, size_t n,
                                      size_t stride, size_t dim, float *out)
{
	batch(q, rows, n, stride, dim, 0, BRAIN_ELEM_U8, out);
}

AVX512 void brain__ip_i8_batch_avx512(const float *q, const void *rows, size_t n,
                                      size_t stride, size_t dim, float *out)
{
	batch(q, rows, n, stride, dim, 0, BRAIN_ELEM_I8, out);
}

AVX512 void brain__l2sq_u8_gather_avx512(const float *q, const void *const *rows, size_t n,
                                         size_t dim, float *out)
{
	gather(q, rows, n, dim, 1, BRAIN_ELEM_U8, out);
}

AVX512 void brain__l2sq_i8_gather_avx512(const float *q, const void *const *rows, size_t n,
                                         size_t dim, float *out)
{
	gather(q, rows, n, dim, 1, BRAIN_ELEM_I8, out);
}

AVX512 void brain__ip_u8_gather_avx512(const float *q, const void *const *rows, size_t n,
                                       size_t dim, float *out)
{
	gather(q, rows, n, dim, 0, BRAIN_ELEM_U8, out);
}

AVX512 void brain__ip_i8_gather_avx512(const float *q, const void *const *rows, size_t n,
                                       size_t dim, float *out)
{
	gather(q, rows, n, dim, 0, BRAIN_ELEM_I8, out);
}

/* ---- 8-bit codes (SQ8) ---------------------------------------------------
 *
 * 32 codes a step widened to 16-bit lanes, two accumulators, the tail by a
 * masked load. */

INLINE AVX512 __m512i code_step(__m512i acc, __m256i a, __m256i b, int l2)
{
	if (l2) {
		__m512i d = _mm512_sub_epi16(_mm512_cvtepu8_epi16(a), _mm512_cvtepu8_epi16(b));
		return _mm512_add_epi32(acc, _mm512_madd_epi16(d, d));
	}
	return _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_cvtepi8_epi16(a),
	                                                _mm512_cvtepi8_epi16(b)));
}

/* Sum over the codes of (a - b)^2 (l2: uint8 codes) or a * b (int8). */
INLINE AVX512 int64_t code_sum(const unsigned char *a, const unsigned char *b, size_t n, int l2)
{
	__m512i acc0 = _mm512_setzero_si512(), acc1 = acc0;
	size_t i = 0;
	for (; i + 64 <= n; i += 64) {
		acc0 = code_step(acc0, _mm256_loadu_si256((const void *)(a + i)),
		                 _mm256_loadu_si256((const void *)(b + i)), l2);
		acc1 = code_step(acc1, _mm256_loadu_si256((const void *)(a + i + 32)),
		                 _mm256_loadu_si256((const void *)(b + i + 32)), l2);
	}
	for (; i < n; i += 32) {
		__mmask32 m = n - i >= 32 ? (__mmask32)0xffffffffu : (((__mmask32)1 << (n - i)) - 1);
		acc0 = code_step(acc0, _mm256_maskz_loadu_epi8(m, a + i),
		                 _mm256_maskz_loadu_epi8(m, b + i), l2);
	}
	/* lanes widened to 64 bits before the sum: their sum may not fit in 32 */
	__m512i v = _mm512_add_epi32(acc0, acc1);
	__m512i lo = _mm512_cvtepi32_epi64(_mm512_castsi512_si256(v));
	__m512i hi = _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(v, 1));
	return _mm512_reduce_add_epi64(_mm512_add_epi64(lo, hi));
}

AVX512 float brain__code_l2_avx512(const unsigned char *a, const unsigned char *b, size_t n)
{
	return (float)code_sum(a, b, n, 1);
}

AVX512 float brain__code_ip_avx512(const unsigned char *a, const unsigned char *b, size_t n)
{
	return (float)-code_sum(a, b, n, 0);
}

#else

/* ISO C wants a translation unit to declare something. */
typedef int brain__distance_avx512_empty;

#endif
