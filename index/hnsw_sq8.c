/*
 * index/hnsw_sq8.c - the 8-bit copies of HNSW_SQ8: a scalar quantiser that
 * learns one range from the stored vectors and codes each component in a
 * byte (uint8 for L2, int8 for the inner products). Walks compare codes
 * (the kernels are with the others, distance.h's brain__code_dist_fn) and
 * rerank on the float rows.
 */
#include <math.h>

#include "index/hnsw_internal.h"

/* L2 codes are uint8 over [sq_lo, sq_lo + 255 sq_step]; the inner
 * products' are int8 over [-127 sq_step, 127 sq_step]. */
static inline bool sq_l2(const hnsw *h)
{
	return h->cfg.metric == BRAIN_METRIC_L2;
}

/* x's code, rounded to the nearest step and clamped to the range. */
void brain__hnsw_sq8_encode(const hnsw *h, const float *x, unsigned char *c)
{
	float inv = h->sq_step > 0 ? 1.0f / h->sq_step : 0.0f;
	for (uint32_t i = 0; i < h->dim; i++) {
		if (sq_l2(h)) {
			float v = (x[i] - h->sq_lo) * inv + 0.5f;
			c[i] = (unsigned char)(v <= 0 ? 0 : v >= 255 ? 255 : (int)v);
		} else {
			float v = x[i] * inv;
			int q = (int)lrintf(v < -127 ? -127 : v > 127 ? 127 : v);
			c[i] = (unsigned char)(signed char)q;
		}
	}
}

/* Learn the range from every stored vector and write every code. */
void brain__hnsw_sq8_learn(hnsw *h)
{
	size_t limit = h->fv.capacity;
	float lo = INFINITY, hi = -INFINITY, amax = 0;
	for (size_t s = 0; s < limit; s++) {
		if (!brain__flat_view_used(&h->fv, (uint32_t)s))
			continue;
		const float *v = vec_of(h, (uint32_t)s);
		for (uint32_t i = 0; i < h->dim; i++) {
			lo = BRAIN_MIN(lo, v[i]);
			hi = BRAIN_MAX(hi, v[i]);
			amax = BRAIN_MAX(amax, fabsf(v[i]));
		}
	}
	if (!(lo <= hi)) {
		lo = 0;
		hi = 1;
		amax = 1;
	}
	h->sq_lo = lo;
	h->sq_step = sq_l2(h) ? (hi - lo) / 255.0f : amax / 127.0f;
	for (size_t s = 0; s < limit; s++) {
		if (!brain__flat_view_used(&h->fv, (uint32_t)s))
			continue;
		will_write_links(h, (uint32_t)s, 0);
		brain__hnsw_sq8_encode(h, vec_of(h, (uint32_t)s), codes_of(h, (uint32_t)s));
	}
	h->sq_ready = true;
	h->sq_learned_at = brain__flat_count(h->store);
}

