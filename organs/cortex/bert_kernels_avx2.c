/*
 * organs/cortex/bert_kernels_avx2.c - y = x W^T + b with AVX2, FMA and
 * F16C (bert_kernels.h).
 *
 * Compiled for any x86 target: the functions carry target attributes, and
 * bert_kernels.c calls them only on CPUs that have the instructions.
 *
 * Two weight rows against four tokens at a time: eight 8-float
 * accumulators, each load of a weight chunk shared by four tokens and
 * each load of a token chunk by two rows. Weight rows stream from memory
 * once per call (a sentence's activations stay in cache), which is what
 * bounds a short sentence's speed, so f16 and Q8_0 weights, half and
 * about a quarter of the bytes, are faster, not slower: their widening to
 * floats is a few instructions per 8 elements. Q8_0's scale is applied to
 * each 8-element chunk as it is widened (the chunk never crosses a block).
 * Columns past the last multiple of 8 (f32 and f16 only: Q8_0 rows are
 * whole blocks) are summed in scalar code.
 */
#if defined(__x86_64__) || defined(__i386__)

#include <immintrin.h>
#include <string.h>

#include "organs/cortex/bert_kernels.h"
#include "organs/cortex/gguf.h"

#define AVX2 __attribute__((target("avx2,fma,f16c")))
#define AVX2_INLINE __attribute__((target("avx2,fma,f16c"), always_inline)) static inline

/* 8 elements of a row from column k as floats. */
AVX2_INLINE __m256 load8(uint32_t type, const unsigned char *row, uint32_t k)
{
	if (type == BRAIN_GGML_F32)
		return _mm256_loadu_ps((const float *)(const void *)(row + (size_t)k * 4));
	if (type == BRAIN_GGML_F16)
		return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(row + (size_t)k * 2)));
	const unsigned char *blk = row + (size_t)(k / 32) * 34;
	uint16_t dh;
	memcpy(&dh, blk, 2);
	__m256 d = _mm256_set1_ps(_cvtsh_ss(dh));
	__m128i q = _mm_loadl_epi64((const __m128i *)(const void *)(blk + 2 + k % 32));
	return _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q)));
}

AVX2_INLINE float hsum(__m256 v)
{
	__m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}

AVX2_INLINE float elem(uint32_t type, const unsigned char *row, uint32_t k)
{
	if (type == BRAIN_GGML_F32) {
		float f;
		memcpy(&f, row + (size_t)k * 4, 4);
		return f;
	}
	uint16_t h;
	memcpy(&h, row + (size_t)k * 2, 2);
	return _cvtsh_ss(h);
}

AVX2_INLINE const unsigned char *row_at(const brain_mat *w, uint32_t r)
{
	const unsigned char *base = w->data;
	if (w->type == BRAIN_GGML_Q8_0)
		return base + (size_t)r * (w->cols / 32) * 34;
	return base + (size_t)r * w->stride * (w->type == BRAIN_GGML_F32 ? 4 : 2);
}

/* nr (1 or 2) rows from o against nt (1..4) tokens from t. */
AVX2_INLINE void block(uint32_t type, const brain_mat *w, const float *bias, const float *x,
                       size_t ldx, size_t t, int nt, float *y, size_t ldy, uint32_t o, int nr)
{
	const unsigned char *r0 = row_at(w, o), *r1 = nr > 1 ? row_at(w, o + 1) : r0;
	__m256 a00 = _mm256_setzero_ps(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00,
	       a30 = a00, a31 = a00;
	const float *x0 = x + t * ldx, *x1 = nt > 1 ? x0 + ldx : x0, *x2 = nt > 2 ? x0 + 2 * ldx : x0,
	            *x3 = nt > 3 ? x0 + 3 * ldx : x0;
	uint32_t cols = w->cols, k = 0;
	for (; k + 8 <= cols; k += 8) {
		__m256 w0 = load8(type, r0, k), w1 = load8(type, r1, k);
		__m256 v = _mm256_loadu_ps(x0 + k);
		a00 = _mm256_fmadd_ps(v, w0, a00);
		a01 = _mm256_fmadd_ps(v, w1, a01);
		v = _mm256_loadu_ps(x1 + k);
		a10 = _mm256_fmadd_ps(v, w0, a10);
		a11 = _mm256_fmadd_ps(v, w1, a11);
		v = _mm256_loadu_ps(x2 + k);
		a20 = _mm256_fmadd_ps(v, w0, a20);
		a21 = _mm256_fmadd_ps(v, w1, a21);
		v = _mm256_loadu_ps(x3 + k);
		a30 = _mm256_fmadd_ps(v, w0, a30);
		a31 = _mm256_fmadd_ps(v, w1, a31);
	}
	float s[4][2] = {{hsum(a00), hsum(a01)}, {hsum(a10), hsum(a11)}, {hsum(a20), hsum(a21)},
	                 {hsum(a30), hsum(a31)}};
	const float *xs[4] = {x0, x1, x2, x3};
	for (; k < cols; k++) {
		float e0 = elem(type, r0, k), e1 = elem(type, r1, k);
		for (int j = 0; j < 4; j++) {
			s[j][0] += xs[j][k] * e0;
			s[j][1] += xs[j][k] * e1;
		}
	}
	for (int j = 0; j < nt; j++)
		for (int i = 0; i < nr; i++)
			y[(t + (size_t)j) * ldy + o + (uint32_t)i] =
			    s[j][i] + (bias ? bias[o + (uint32_t)i] : 0.0f);
}

AVX2_INLINE void mul_type(uint32_t type, const brain_mat *w, const float *bias, const float *x,
                          size_t ldx, size_t T, float *y, size_t ldy)
{
	for (uint32_t o = 0; o < w->rows; o += 2) {
		int nr = w->rows - o >= 2 ? 2 : 1;
		for (size_t t = 0; t < T; t += 4) {
			int nt = T - t >= 4 ? 4 : (int)(T - t);
			block(type, w, bias, x, ldx, t, nt, y, ldy, o, nr);
		}
	}
}

AVX2 void brain__mat_mul_avx2(const brain_mat *w, const float *bias, const float *x, size_t ldx,
                              size_t T, float *y, size_t ldy)
{
	switch (w->type) {
	case BRAIN_GGML_F32:
		mul_type(BRAIN_GGML_F32, w, bias, x, ldx, T, y, ldy);
		break;
	case BRAIN_GGML_F16:
		mul_type(BRAIN_GGML_F16, w, bias, x, ldx, T, y, ldy);
		break;
	default:
		mul_type(BRAIN_GGML_Q8_0, w, bias, x, ldx, T, y, ldy);
		break;
	}
}

#endif
