/*
 * organs/cortex/bert_kernels.h - the matrix kernels of the transformer
 * runtime: y = x W^T + b for weights in f32, f16 or Q8_0, at the SIMD
 * level the CPU has (scalar, AVX2+FMA+F16C, AVX-512), chosen at run time.
 *
 * Every heavy step of a BERT forward pass is one of these: the four
 * projections and two feed-forward layers of each block (weights from the
 * model file, mapped) and the two products of attention (Q K^T and P V,
 * "weights" that are activations in f32 with a row stride).
 */
#ifndef BRAIN_ORGANS_CORTEX_BERT_KERNELS_H
#define BRAIN_ORGANS_CORTEX_BERT_KERNELS_H

#include "base/base.h"

/* A matrix of `rows` rows of `cols` elements: row r starts `stride`
 * elements after row r-1 (f32, f16), or is cols/32 Q8_0 blocks of 34
 * bytes (a little-endian f16 scale, then 32 int8), rows packed. The bytes
 * may be unaligned (they are where the model file put them). */
typedef struct brain_mat {
	uint32_t type; /* enum brain_ggml_type (gguf.h) */
	const void *data;
	uint32_t rows, cols;
	size_t stride; /* elements between rows (f32, f16); ignored for Q8_0 */
} brain_mat;

/* SIMD levels of the kernels (as brain__simd_* of index/distance.h, plus
 * F16C for the AVX2 level). */
enum { BRAIN_MATK_SCALAR = 0, BRAIN_MATK_AVX2 = 1, BRAIN_MATK_AVX512 = 2, BRAIN_MATK__COUNT };

/* The best level this CPU and build have, lowered by the environment
 * variable BRAINCORE_SIMD as the distance kernels are. */
int brain__matk_best(void);
bool brain__matk_supported(int level);
const char *brain__matk_name(int level);

/* y[t*ldy + o] = (bias ? bias[o] : 0) + sum_k x[t*ldx + k] * W[o][k] for
 * t < T, o < w->rows (k < w->cols), at `level`. Sums are in f32 (scalar:
 * in the same order of 8 lanes as AVX2 is not promised; tests compare
 * within a tolerance). */
void brain__mat_mul(int level, const brain_mat *w, const float *bias, const float *x, size_t ldx,
                    size_t T, float *y, size_t ldy);

/* x[i] = GELU(x[i]) for i < n, the exact (erf) form with erf within 3e-7
 * (Abramowitz and Stegun 7.1.28: a polynomial, a 16th power and a
 * division, the same at every level). */
void brain__gelu(int level, float *x, size_t n);
float brain__gelu_one(float x);
void brain__gelu_avx2(float *x, size_t n);
void brain__gelu_avx512(float *x, size_t n);

/* Row r of W as floats into out[0..cols). */
void brain__mat_row(const brain_mat *w, uint32_t r, float *out);

/* IEEE half to float and back (round to nearest even), for any CPU. */
float brain__half_to_float(uint16_t h);
uint16_t brain__float_to_half(float f);

/* The level kernels (bert_kernels_avx2.c, bert_kernels_avx512.c). */
void brain__mat_mul_avx2(const brain_mat *w, const float *bias, const float *x, size_t ldx,
                         size_t T, float *y, size_t ldy);
void brain__mat_mul_avx512(const brain_mat *w, const float *bias, const float *x, size_t ldx,
                           size_t T, float *y, size_t ldy);

#endif /* BRAIN_ORGANS_CORTEX_BERT_KERNELS_H */
