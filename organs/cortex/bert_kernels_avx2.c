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

/* The 8 sums of a[0..8) into out[0..8) by a tree of horizontal adds. */
AVX2_INLINE void reduce8(const __m256 *a, float *out)
{
	__m256 h01 = _mm256_hadd_ps(a[0], a[1]), h23 = _mm256_hadd_ps(a[2], a[3]);
	__m256 h45 = _mm256_hadd_ps(a[4], a[5]), h67 = _mm256_hadd_ps(a[6], a[7]);
	__m256 q0 = _mm256_hadd_ps(h01, h23), q1 = _mm256_hadd_ps(h45, h67);
	__m256 lo = _mm256_permute2f128_ps(q0, q1, 0x20), hi = _mm256_permute2f128_ps(q0, q1, 0x31);
	_mm256_storeu_ps(out, _mm256_add_ps(lo, hi));
}

/* nr (1 or 2) rows from o against nt (1..4, a constant once inlined: the
 * accumulators of missing tokens are not computed) tokens from t. */
AVX2_INLINE void block(uint32_t type, const brain_mat *w, const float *bias, const float *x,
                       size_t ldx, size_t t, const int nt, float *y, size_t ldy, uint32_t o,
                       int nr)
{
	const unsigned char *r0 = row_at(w, o), *r1 = nr > 1 ? row_at(w, o + 1) : r0;
	/* the next pair of rows, fetched while this one is summed (the first
	 * token block only): a pair is a few KB, too short a stream for the
	 * hardware prefetcher to find on its own */
	const unsigned char *next = t == 0 && o + 2 < w->rows ? row_at(w, o + 2) : NULL;
	size_t esize = w->type == BRAIN_GGML_F32 ? 4 : w->type == BRAIN_GGML_F16 ? 2 : 0;
	__m256 a[8];
	for (int i = 0; i < 8; i++)
		a[i] = _mm256_setzero_ps();
	const float *xs[4] = {x + t * ldx, x + (t + 1) * ldx, x + (t + 2) * ldx, x + (t + 3) * ldx};
	uint32_t cols = w->cols, k = 0;
	for (; k + 8 <= cols; k += 8) {
		/* two rows' bytes from here: f32 64 B a step, f16 32, q8_0 17 */
		if (next && (esize == 4 || (k & 15) == 0))
			_mm_prefetch((const char *)next + (esize ? (size_t)k * esize * 2 : (size_t)k * 34 / 16),
			             _MM_HINT_T0);
		__m256 w0 = load8(type, r0, k), w1 = load8(type, r1, k);
		__m256 v = _mm256_loadu_ps(xs[0] + k);
		a[0] = _mm256_fmadd_ps(v, w0, a[0]);
		a[1] = _mm256_fmadd_ps(v, w1, a[1]);
		if (nt > 1) {
			v = _mm256_loadu_ps(xs[1] + k);
			a[2] = _mm256_fmadd_ps(v, w0, a[2]);
			a[3] = _mm256_fmadd_ps(v, w1, a[3]);
		}
		if (nt > 2) {
			v = _mm256_loadu_ps(xs[2] + k);
			a[4] = _mm256_fmadd_ps(v, w0, a[4]);
			a[5] = _mm256_fmadd_ps(v, w1, a[5]);
		}
		if (nt > 3) {
			v = _mm256_loadu_ps(xs[3] + k);
			a[6] = _mm256_fmadd_ps(v, w0, a[6]);
			a[7] = _mm256_fmadd_ps(v, w1, a[7]);
		}
	}
	float s[8];
	reduce8(a, s);
	for (; k < cols; k++) {
		float e0 = elem(type, r0, k), e1 = elem(type, r1, k);
		for (int j = 0; j < nt; j++) {
			s[2 * j] += xs[j][k] * e0;
			s[2 * j + 1] += xs[j][k] * e1;
		}
	}
	for (int j = 0; j < nt; j++)
		for (int i = 0; i < nr; i++)
			y[(t + (size_t)j) * ldy + o + (uint32_t)i] =
			    s[2 * j + i] + (bias ? bias[o + (uint32_t)i] : 0.0f);
}

AVX2_INLINE void mul_type(uint32_t type, const brain_mat *w, const float *bias, const float *x,
                          size_t ldx, size_t T, float *y, size_t ldy)
{
	for (uint32_t o = 0; o < w->rows; o += 2) {
		int nr = w->rows - o >= 2 ? 2 : 1;
		size_t t = 0;
		for (; t + 4 <= T; t += 4)
			block(type, w, bias, x, ldx, t, 4, y, ldy, o, nr);
		switch (T - t) {
		case 3:
			block(type, w, bias, x, ldx, t, 3, y, ldy, o, nr);
			break;
		case 2:
			block(type, w, bias, x, ldx, t, 2, y, ldy, o, nr);
			break;
		case 1:
			block(type, w, bias, x, ldx, t, 1, y, ldy, o, nr);
			break;
		default:
			break;
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


/* GELU, as brain__gelu_one at 8 floats a step (bert_kernels.c). */
AVX2 void brain__gelu_avx2(float *x, size_t n)
{
	const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f), lim = _mm256_set1_ps(10.0f);
	const __m256 s2 = _mm256_set1_ps(0.7071067811865476f);
	const __m256 c1 = _mm256_set1_ps(0.0705230784f), c2 = _mm256_set1_ps(0.0422820123f),
	          c3 = _mm256_set1_ps(0.0092705272f), c4 = _mm256_set1_ps(0.0001520143f),
	          c5 = _mm256_set1_ps(0.0002765672f), c6 = _mm256_set1_ps(0.0000430638f);
	const __m256 sign = _mm256_set1_ps(-0.0f);
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		__m256 v = _mm256_loadu_ps(x + i);
		__m256 t = _mm256_mul_ps(v, s2);
		__m256 a = _mm256_min_ps(_mm256_andnot_ps(sign, t), lim);
		__m256 p = _mm256_fmadd_ps(a, c6, c5);
		p = _mm256_fmadd_ps(a, p, c4);
		p = _mm256_fmadd_ps(a, p, c3);
		p = _mm256_fmadd_ps(a, p, c2);
		p = _mm256_fmadd_ps(a, p, c1);
		p = _mm256_fmadd_ps(a, p, one);
		p = _mm256_mul_ps(p, p);
		p = _mm256_mul_ps(p, p);
		p = _mm256_mul_ps(p, p);
		p = _mm256_mul_ps(p, p);
		__m256 e = _mm256_sub_ps(one, _mm256_div_ps(one, p));
		e = _mm256_or_ps(e, _mm256_and_ps(sign, t)); /* erf is odd */
		_mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_mul_ps(half, v), _mm256_add_ps(one, e)));
	}
	for (; i < n; i++)
		x[i] = brain__gelu_one(x[i]);
}

#endif
