/*
 * organs/cortex/bert_kernels_avx512.c - y = x W^T + b with AVX-512F
 * (bert_kernels.h): the plan of bert_kernels_avx2.c at 16 floats a step.
 * Two weight rows against four tokens, eight 16-float accumulators; f16
 * widened with the AVX-512F conversion, Q8_0 16 int8 at a time (half a
 * block, so a chunk never crosses one). Columns past the last multiple of
 * 16 are loaded masked (f32, f16), so there is no scalar tail.
 */
#if defined(__x86_64__) || defined(__i386__)

#include <immintrin.h>
#include <string.h>

#include "organs/cortex/bert_kernels.h"
#include "organs/cortex/gguf.h"

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,f16c")))
#define AVX512_INLINE                                                                             \
	__attribute__((target("avx512f,avx512bw,avx512vl,f16c"), always_inline)) static inline

/* 16 elements of a row from column k as floats; `m` masks a last partial
 * chunk of an f32 or f16 row (all ones otherwise). */
AVX512_INLINE __m512 load16(uint32_t type, const unsigned char *row, uint32_t k, __mmask16 m)
{
	if (type == BRAIN_GGML_F32)
		return _mm512_maskz_loadu_ps(m, row + (size_t)k * 4);
	if (type == BRAIN_GGML_F16)
		return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, row + (size_t)k * 2));
	const unsigned char *blk = row + (size_t)(k / 32) * 34;
	uint16_t dh;
	memcpy(&dh, blk, 2);
	__m512 d = _mm512_set1_ps(_cvtsh_ss(dh));
	__m128i q = _mm_loadu_si128((const __m128i *)(const void *)(blk + 2 + k % 32));
	return _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q)));
}

AVX512_INLINE const unsigned char *row_at(const brain_mat *w, uint32_t r)
{
	const unsigned char *base = w->data;
	if (w->type == BRAIN_GGML_Q8_0)
		return base + (size_t)r * (w->cols / 32) * 34;
	return base + (size_t)r * w->stride * (w->type == BRAIN_GGML_F32 ? 4 : 2);
}

/* The 8 sums of a0..a7 into out[0..8): halves added, then a tree of
 * horizontal adds, a fraction of eight separate reductions. */
AVX512_INLINE __m256 half_sum(__m512 v)
{
	return _mm256_add_ps(_mm512_castps512_ps256(v),
	                     _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
}

AVX512_INLINE void reduce8(__m512 a0, __m512 a1, __m512 a2, __m512 a3, __m512 a4, __m512 a5,
                           __m512 a6, __m512 a7, float *out)
{
	__m256 h01 = _mm256_hadd_ps(half_sum(a0), half_sum(a1));
	__m256 h23 = _mm256_hadd_ps(half_sum(a2), half_sum(a3));
	__m256 h45 = _mm256_hadd_ps(half_sum(a4), half_sum(a5));
	__m256 h67 = _mm256_hadd_ps(half_sum(a6), half_sum(a7));
	__m256 q0 = _mm256_hadd_ps(h01, h23), q1 = _mm256_hadd_ps(h45, h67);
	__m256 lo = _mm256_permute2f128_ps(q0, q1, 0x20), hi = _mm256_permute2f128_ps(q0, q1, 0x31);
	_mm256_storeu_ps(out, _mm256_add_ps(lo, hi));
}

/* nr (1 or 2) rows from o against NT tokens from t (1..4: a template
 * parameter by macro, so the accumulators of missing tokens are not
 * computed). The next pair of rows is fetched while this one is summed
 * (in the first token block only): a pair is a few KB, too short a
 * stream for the hardware prefetcher to find on its own. */
#define DEFINE_BLOCK(NT)                                                                           \
	AVX512_INLINE void block##NT(uint32_t type, const brain_mat *w, const float *bias,            \
	                             const float *x, size_t ldx, size_t t, float *y, size_t ldy,      \
	                             uint32_t o, int nr)                                               \
	{                                                                                              \
		const unsigned char *r0 = row_at(w, o), *r1 = nr > 1 ? row_at(w, o + 1) : r0;          \
		const unsigned char *next = t == 0 && o + 2 < w->rows ? row_at(w, o + 2) : NULL;       \
		size_t esize = type == BRAIN_GGML_F32 ? 4 : type == BRAIN_GGML_F16 ? 2 : 0;            \
		__m512 a00 = _mm512_setzero_ps(), a01 = a00, a10 = a00, a11 = a00, a20 = a00,          \
		       a21 = a00, a30 = a00, a31 = a00;                                                \
		const float *x0 = x + t * ldx, *x1 = x0 + ldx, *x2 = x0 + 2 * ldx, *x3 = x0 + 3 * ldx; \
		uint32_t cols = w->cols;                                                               \
		for (uint32_t k = 0; k < cols; k += 16) {                                              \
			__mmask16 m = cols - k >= 16 ? (__mmask16)0xffff                                   \
			                             : (__mmask16)((1u << (cols - k)) - 1);                \
			if (next) {                                                                        \
				/* two rows' bytes: f32 128 B a step, f16 64, q8_0 34 */                       \
				size_t at = esize ? (size_t)k * esize * 2 : (size_t)k * 34 / 16;               \
				_mm_prefetch((const char *)next + at, _MM_HINT_T0);                             \
				if (esize == 4)                                                                \
					_mm_prefetch((const char *)next + at + 64, _MM_HINT_T0);                    \
			}                                                                                  \
			__m512 w0 = load16(type, r0, k, m), w1 = load16(type, r1, k, m);                   \
			__m512 v = _mm512_maskz_loadu_ps(m, x0 + k);                                       \
			a00 = _mm512_fmadd_ps(v, w0, a00);                                                 \
			a01 = _mm512_fmadd_ps(v, w1, a01);                                                 \
			if (NT > 1) {                                                                      \
				v = _mm512_maskz_loadu_ps(m, x1 + k);                                          \
				a10 = _mm512_fmadd_ps(v, w0, a10);                                             \
				a11 = _mm512_fmadd_ps(v, w1, a11);                                             \
			}                                                                                  \
			if (NT > 2) {                                                                      \
				v = _mm512_maskz_loadu_ps(m, x2 + k);                                          \
				a20 = _mm512_fmadd_ps(v, w0, a20);                                             \
				a21 = _mm512_fmadd_ps(v, w1, a21);                                             \
			}                                                                                  \
			if (NT > 3) {                                                                      \
				v = _mm512_maskz_loadu_ps(m, x3 + k);                                          \
				a30 = _mm512_fmadd_ps(v, w0, a30);                                             \
				a31 = _mm512_fmadd_ps(v, w1, a31);                                             \
			}                                                                                  \
		}                                                                                      \
		float s[8];                                                                            \
		reduce8(a00, a01, a10, a11, a20, a21, a30, a31, s);                                    \
		for (int j = 0; j < NT; j++)                                                           \
			for (int i = 0; i < nr; i++)                                                       \
				y[(t + (size_t)j) * ldy + o + (uint32_t)i] =                                   \
				    s[2 * j + i] + (bias ? bias[o + (uint32_t)i] : 0.0f);                      \
	}
DEFINE_BLOCK(1)
DEFINE_BLOCK(2)
DEFINE_BLOCK(3)
DEFINE_BLOCK(4)

AVX512_INLINE void mul_type(uint32_t type, const brain_mat *w, const float *bias, const float *x,
                            size_t ldx, size_t T, float *y, size_t ldy)
{
	for (uint32_t o = 0; o < w->rows; o += 2) {
		int nr = w->rows - o >= 2 ? 2 : 1;
		size_t t = 0;
		for (; t + 4 <= T; t += 4)
			block4(type, w, bias, x, ldx, t, y, ldy, o, nr);
		switch (T - t) {
		case 3:
			block3(type, w, bias, x, ldx, t, y, ldy, o, nr);
			break;
		case 2:
			block2(type, w, bias, x, ldx, t, y, ldy, o, nr);
			break;
		case 1:
			block1(type, w, bias, x, ldx, t, y, ldy, o, nr);
			break;
		default:
			break;
		}
	}
}

AVX512 void brain__mat_mul_avx512(const brain_mat *w, const float *bias, const float *x,
                                  size_t ldx, size_t T, float *y, size_t ldy)
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


/* GELU, as brain__gelu_one at 16 floats a step (bert_kernels.c). */
AVX512 void brain__gelu_avx512(float *x, size_t n)
{
	const __m512 half = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1.0f), lim = _mm512_set1_ps(10.0f);
	const __m512 s2 = _mm512_set1_ps(0.7071067811865476f);
	const __m512 c1 = _mm512_set1_ps(0.0705230784f), c2 = _mm512_set1_ps(0.0422820123f),
	          c3 = _mm512_set1_ps(0.0092705272f), c4 = _mm512_set1_ps(0.0001520143f),
	          c5 = _mm512_set1_ps(0.0002765672f), c6 = _mm512_set1_ps(0.0000430638f);
	const __m512 sign = _mm512_set1_ps(-0.0f);
	size_t i = 0;
	for (; i + 16 <= n; i += 16) {
		__m512 v = _mm512_loadu_ps(x + i);
		__m512 t = _mm512_mul_ps(v, s2);
		__m512 a = _mm512_min_ps(_mm512_abs_ps(t), lim);
		__m512 p = _mm512_fmadd_ps(a, c6, c5);
		p = _mm512_fmadd_ps(a, p, c4);
		p = _mm512_fmadd_ps(a, p, c3);
		p = _mm512_fmadd_ps(a, p, c2);
		p = _mm512_fmadd_ps(a, p, c1);
		p = _mm512_fmadd_ps(a, p, one);
		p = _mm512_mul_ps(p, p);
		p = _mm512_mul_ps(p, p);
		p = _mm512_mul_ps(p, p);
		p = _mm512_mul_ps(p, p);
		__m512 e = _mm512_sub_ps(one, _mm512_div_ps(one, p));
		/* erf is odd: t's sign onto e (integer ops: AVX-512F has no float and/or) */
		e = _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(e),
		                                        _mm512_and_si512(_mm512_castps_si512(sign),
		                                                         _mm512_castps_si512(t))));
		_mm512_storeu_ps(x + i, _mm512_mul_ps(_mm512_mul_ps(half, v), _mm512_add_ps(one, e)));
	}
	for (; i < n; i++)
		x[i] = brain__gelu_one(x[i]);
}

#endif
