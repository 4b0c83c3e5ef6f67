/*
 * organs/cortex/bert_kernels.c - see bert_kernels.h: the scalar level, the
 * choice of level, and half floats.
 *
 * The scalar level is the reference the SIMD levels are tested against
 * and what a CPU without them runs: each weight row is widened to floats
 * once (into a small stack block at a time) and dotted with every token,
 * in four partial sums so that the loop is not one long dependency chain.
 */
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "organs/cortex/bert_kernels.h"
#include "organs/cortex/gguf.h"
#include "index/distance.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

float brain__half_to_float(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
	uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ffu, bits;
	if (exp == 0x1f) {
		bits = sign | 0x7f800000u | man << 13; /* inf, nan */
	} else if (exp) {
		bits = sign | (exp + 112) << 23 | man << 13;
	} else if (man) {
		/* subnormal: normalise */
		int e = -1;
		do {
			e++;
			man <<= 1;
		} while (!(man & 0x400u));
		bits = sign | (uint32_t)(112 - e) << 23 | (man & 0x3ffu) << 13;
	} else {
		bits = sign;
	}
	float f;
	memcpy(&f, &bits, 4);
	return f;
}

uint16_t brain__float_to_half(float f)
{
	uint32_t x;
	memcpy(&x, &f, 4);
	uint32_t sign = (x >> 16) & 0x8000u;
	uint32_t exp = (x >> 23) & 0xff, man = x & 0x7fffffu;
	if (exp == 0xff)
		return (uint16_t)(sign | 0x7c00u | (man ? 0x200u : 0));
	int e = (int)exp - 127 + 15;
	if (e >= 31)
		return (uint16_t)(sign | 0x7c00u);
	if (e <= 0) {
		if (e < -10)
			return (uint16_t)sign;
		man |= 0x800000u;
		uint32_t shift = (uint32_t)(14 - e);
		uint32_t h = man >> shift, rest = man & ((1u << shift) - 1), half = 1u << (shift - 1);
		if (rest > half || (rest == half && (h & 1)))
			h++;
		return (uint16_t)(sign | h);
	}
	uint32_t h = (uint32_t)e << 10 | man >> 13, rest = man & 0x1fffu;
	if (rest > 0x1000u || (rest == 0x1000u && (h & 1)))
		h++; /* may carry into the exponent, up to infinity: right */
	return (uint16_t)(sign | h);
}

static uint16_t rd16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

void brain__mat_row(const brain_mat *w, uint32_t r, float *out)
{
	if (w->type == BRAIN_GGML_F32) {
		memcpy(out, (const float *)w->data + (size_t)r * w->stride, w->cols * sizeof(float));
	} else if (w->type == BRAIN_GGML_F16) {
		const unsigned char *p = (const unsigned char *)w->data + (size_t)r * w->stride * 2;
		for (uint32_t k = 0; k < w->cols; k++)
			out[k] = brain__half_to_float(rd16(p + 2 * k));
	} else {
		const unsigned char *p = (const unsigned char *)w->data + (size_t)r * (w->cols / 32) * 34;
		for (uint32_t b = 0; b < w->cols / 32; b++, p += 34) {
			float d = brain__half_to_float(rd16(p));
			for (int i = 0; i < 32; i++)
				out[b * 32 + (uint32_t)i] = d * (float)(int8_t)p[2 + i];
		}
	}
}

/* Rows are widened a block of ROW_BLOCK elements at a time (Q8_0 blocks
 * are 32, so the block is a multiple of 32). */
#define ROW_BLOCK 256u

static void widen(const brain_mat *w, uint32_t r, uint32_t k0, uint32_t n, float *out)
{
	if (w->type == BRAIN_GGML_F32) {
		memcpy(out, (const float *)w->data + (size_t)r * w->stride + k0, n * sizeof(float));
	} else if (w->type == BRAIN_GGML_F16) {
		const unsigned char *p = (const unsigned char *)w->data + ((size_t)r * w->stride + k0) * 2;
		for (uint32_t k = 0; k < n; k++)
			out[k] = brain__half_to_float(rd16(p + 2 * k));
	} else {
		const unsigned char *p = (const unsigned char *)w->data +
		                         (size_t)r * (w->cols / 32) * 34 + (size_t)(k0 / 32) * 34;
		for (uint32_t k = 0; k < n; k += 32, p += 34) {
			float d = brain__half_to_float(rd16(p));
			for (uint32_t i = 0; i < 32; i++)
				out[k + i] = d * (float)(int8_t)p[2 + i];
		}
	}
}

static void mat_mul_scalar(const brain_mat *w, const float *bias, const float *x, size_t ldx,
                           size_t T, float *y, size_t ldy)
{
	float row[ROW_BLOCK];
	for (uint32_t o = 0; o < w->rows; o++) {
		for (size_t t = 0; t < T; t++)
			y[t * ldy + o] = bias ? bias[o] : 0.0f;
		for (uint32_t k0 = 0; k0 < w->cols; k0 += ROW_BLOCK) {
			uint32_t n = w->cols - k0 < ROW_BLOCK ? w->cols - k0 : ROW_BLOCK;
			widen(w, o, k0, n, row);
			for (size_t t = 0; t < T; t++) {
				const float *xt = x + t * ldx + k0;
				float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
				uint32_t k = 0;
				for (; k + 4 <= n; k += 4) {
					s0 += xt[k] * row[k];
					s1 += xt[k + 1] * row[k + 1];
					s2 += xt[k + 2] * row[k + 2];
					s3 += xt[k + 3] * row[k + 3];
				}
				for (; k < n; k++)
					s0 += xt[k] * row[k];
				y[t * ldy + o] += (s0 + s1) + (s2 + s3);
			}
		}
	}
}

/* ---- GELU --------------------------------------------------------------- */

/* The coefficients of erf(a) = 1 - 1 / (1 + c1 a + ... + c6 a^6)^16 */
#define ERF_C1 0.0705230784f
#define ERF_C2 0.0422820123f
#define ERF_C3 0.0092705272f
#define ERF_C4 0.0001520143f
#define ERF_C5 0.0002765672f
#define ERF_C6 0.0000430638f

float brain__gelu_one(float x)
{
	float a = fabsf(x * 0.7071067811865476f);
	a = a < 10.0f ? a : 10.0f;
	float p = 1.0f + a * (ERF_C1 + a * (ERF_C2 + a * (ERF_C3 + a * (ERF_C4 + a * (ERF_C5 +
	          a * ERF_C6)))));
	p *= p;
	p *= p;
	p *= p;
	p *= p;
	float e = 1.0f - 1.0f / p;
	return 0.5f * x * (1.0f + (x < 0 ? -e : e));
}

/* ---- levels ------------------------------------------------------------- */

#ifdef BRAIN_HAVE_X86_KERNELS
static bool cpu_f16c(void)
{
	unsigned a, b, c, d;
	if (!__get_cpuid(1, &a, &b, &c, &d))
		return false;
	return (c >> 29) & 1; /* F16C */
}
#endif

/* Bit L: level L runs here. -1 until computed (computing it twice is
 * harmless): cpuid is slow, and a trap to the hypervisor in a VM. */
static atomic_int g_levels = -1;

static int levels(void)
{
	int l = atomic_load_explicit(&g_levels, memory_order_relaxed);
	if (l >= 0)
		return l;
	l = 1 << BRAIN_MATK_SCALAR;
#ifdef BRAIN_HAVE_X86_KERNELS
	if (brain__simd_supported(BRAIN_SIMD_AVX2) && cpu_f16c())
		l |= 1 << BRAIN_MATK_AVX2;
	if (brain__simd_supported(BRAIN_SIMD_AVX512) && cpu_f16c())
		l |= 1 << BRAIN_MATK_AVX512;
#endif
	atomic_store_explicit(&g_levels, l, memory_order_relaxed);
	return l;
}

bool brain__matk_supported(int level)
{
	return level >= 0 && level < BRAIN_MATK__COUNT && ((levels() >> level) & 1);
}

int brain__matk_best(void)
{
	/* the distance kernels' choice, BRAINCORE_SIMD included */
	brain_simd_level l = brain__simd_best();
	int level = l == BRAIN_SIMD_AVX512 ? BRAIN_MATK_AVX512
	            : l == BRAIN_SIMD_AVX2 ? BRAIN_MATK_AVX2
	                                   : BRAIN_MATK_SCALAR;
	while (level > 0 && !brain__matk_supported(level))
		level--;
	return level;
}

const char *brain__matk_name(int level)
{
	static const char *const names[] = {"scalar", "avx2", "avx512"};
	return level >= 0 && level < BRAIN_MATK__COUNT ? names[level] : "unknown";
}

void brain__gelu(int level, float *x, size_t n)
{
#ifdef BRAIN_HAVE_X86_KERNELS
	if (level == BRAIN_MATK_AVX512 && brain__matk_supported(level)) {
		brain__gelu_avx512(x, n);
		return;
	}
	if (level >= BRAIN_MATK_AVX2 && brain__matk_supported(BRAIN_MATK_AVX2)) {
		brain__gelu_avx2(x, n);
		return;
	}
#endif
	(void)level;
	for (size_t i = 0; i < n; i++)
		x[i] = brain__gelu_one(x[i]);
}

void brain__mat_mul(int level, const brain_mat *w, const float *bias, const float *x, size_t ldx,
                    size_t T, float *y, size_t ldy)
{
	if (!T || !w->rows)
		return;
#ifdef BRAIN_HAVE_X86_KERNELS
	if (level == BRAIN_MATK_AVX512 && brain__matk_supported(level)) {
		brain__mat_mul_avx512(w, bias, x, ldx, T, y, ldy);
		return;
	}
	if (level >= BRAIN_MATK_AVX2 && brain__matk_supported(BRAIN_MATK_AVX2)) {
		brain__mat_mul_avx2(w, bias, x, ldx, T, y, ldy);
		return;
	}
#endif
	(void)level;
	mat_mul_scalar(w, bias, x, ldx, T, y, ldy);
}
