/*
 * organs/cortex/bert.c - see bert.h.
 *
 * Every product goes through brain__mat_mul: the projections against the
 * model's matrices, and attention's two products against activations
 * (the keys of a head are a matrix of T rows with the row stride of the
 * whole hidden vector; its values are transposed first, d rows of T, so
 * that P V is again "x times W transposed"). LayerNorm, softmax and GELU
 * are plain loops: they cost O(T * hidden), the products O(T * hidden^2).
 * Means and variances are summed in double.
 */
#include <math.h>
#include <string.h>

#include "organs/cortex/bert.h"
#include "organs/cortex/gguf.h"

int brain__bert_check(const brain_bert *m)
{
	if (!m->hidden || !m->heads || m->hidden % m->heads)
		return brain__err(BRAIN_ECORRUPT, "model: %u attention heads do not divide a hidden "
		                  "size of %u", m->heads, m->hidden);
	if (!m->layers || !m->inter || !m->positions || !m->vocab || !m->types)
		return brain__err(BRAIN_ECORRUPT, "model: a size is 0 (layers %u, intermediate %u, "
		                  "positions %u, vocabulary %u, token types %u)", m->layers, m->inter,
		                  m->positions, m->vocab, m->types);
	if (m->positions < 3)
		return brain__err(BRAIN_ECORRUPT, "model: %u positions leave no room for a token",
		                  m->positions);
	if (m->hidden > 65536 || m->inter > 262144 || m->positions > 65536 || m->layers > 256)
		return brain__err(BRAIN_ENOTSUP, "model: sizes too large for this runtime (hidden %u, "
		                  "intermediate %u, positions %u, layers %u)", m->hidden, m->inter,
		                  m->positions, m->layers);
	if (!(m->eps > 0.0f) || !isfinite(m->eps))
		return brain__err(BRAIN_ECORRUPT, "model: LayerNorm epsilon %g is not positive",
		                  (double)m->eps);
	return BRAIN_OK;
}

size_t brain__bert_scratch(const brain_bert *m, size_t T)
{
	size_t H = m->hidden, d = H / m->heads;
	/* x, q, k, v, ctx, tmp; scores; the transposed values of a head; the FFN */
	return T * (6 * H) + T * T + d * T + T * m->inter;
}

static void layer_norm(float *x, size_t T, size_t H, const float *w, const float *b, float eps)
{
	for (size_t t = 0; t < T; t++) {
		float *r = x + t * H;
		double s = 0, s2 = 0;
		for (size_t i = 0; i < H; i++)
			s += (double)r[i];
		double mean = s / (double)H;
		for (size_t i = 0; i < H; i++) {
			double c = (double)r[i] - mean;
			s2 += c * c;
		}
		float inv = (float)(1.0 / sqrt(s2 / (double)H + (double)eps));
		float fm = (float)mean;
		for (size_t i = 0; i < H; i++)
			r[i] = (r[i] - fm) * inv * w[i] + b[i];
	}
}

static void add_row(float *dst, const brain_mat *m, uint32_t r, float *tmp, size_t H)
{
	brain__mat_row(m, r, tmp);
	for (size_t i = 0; i < H; i++)
		dst[i] += tmp[i];
}

static void gelu(float *x, size_t n, int act, int level)
{
	if (act == BRAIN_BERT_GELU_TANH) {
		const float c = 0.7978845608028654f; /* sqrt(2/pi) */
		for (size_t i = 0; i < n; i++)
			x[i] = 0.5f * x[i] * (1.0f + tanhf(c * (x[i] + 0.044715f * x[i] * x[i] * x[i])));
	} else {
		brain__gelu(level, x, n);
	}
}

static void softmax_rows(float *s, size_t T, float scale)
{
	for (size_t i = 0; i < T; i++) {
		float *r = s + i * T, mx = -INFINITY;
		for (size_t j = 0; j < T; j++) {
			r[j] *= scale;
			if (r[j] > mx)
				mx = r[j];
		}
		float sum = 0;
		for (size_t j = 0; j < T; j++) {
			r[j] = expf(r[j] - mx);
			sum += r[j];
		}
		float inv = 1.0f / sum;
		for (size_t j = 0; j < T; j++)
			r[j] *= inv;
	}
}

void brain__bert_forward(const brain_bert *m, int level, const int32_t *ids, size_t T,
                         float *scratch, float *out)
{
	size_t H = m->hidden, A = m->heads, d = H / A, I = m->inter;
	float *x = scratch, *q = x + T * H, *k = q + T * H, *v = k + T * H, *ctx = v + T * H,
	      *tmp = ctx + T * H, *sc = tmp + T * H, *vt = sc + T * T, *ff = vt + d * T;

	/* embeddings: word + position + token type 0; tmp holds a widened row */
	memset(x, 0, T * H * sizeof *x);
	for (size_t t = 0; t < T; t++) {
		add_row(x + t * H, &m->tok, (uint32_t)ids[t], tmp, H);
		add_row(x + t * H, &m->pos, (uint32_t)t, tmp, H);
		add_row(x + t * H, &m->type, 0, tmp, H);
	}
	layer_norm(x, T, H, m->lnw, m->lnb, m->eps);

	float scale = 1.0f / sqrtf((float)d);
	for (uint32_t l = 0; l < m->layers; l++) {
		const brain_bert_layer *L = &m->layer[l];
		brain__mat_mul(level, &L->q, L->qb, x, H, T, q, H);
		brain__mat_mul(level, &L->k, L->kb, x, H, T, k, H);
		brain__mat_mul(level, &L->v, L->vb, x, H, T, v, H);
		for (size_t h = 0; h < A; h++) {
			brain_mat keys = {BRAIN_GGML_F32, k + h * d, (uint32_t)T, (uint32_t)d, H};
			brain__mat_mul(level, &keys, NULL, q + h * d, H, T, sc, T);
			softmax_rows(sc, T, scale);
			for (size_t t = 0; t < T; t++)
				for (size_t i = 0; i < d; i++)
					vt[i * T + t] = v[t * H + h * d + i];
			brain_mat vals = {BRAIN_GGML_F32, vt, (uint32_t)d, (uint32_t)T, T};
			brain__mat_mul(level, &vals, NULL, sc, T, T, ctx + h * d, H);
		}
		brain__mat_mul(level, &L->o, L->ob, ctx, H, T, tmp, H);
		for (size_t i = 0; i < T * H; i++)
			x[i] += tmp[i];
		layer_norm(x, T, H, L->ln1w, L->ln1b, m->eps);
		brain__mat_mul(level, &L->up, L->upb, x, H, T, ff, I);
		gelu(ff, T * I, m->act, level);
		brain__mat_mul(level, &L->down, L->downb, ff, I, T, tmp, H);
		for (size_t i = 0; i < T * H; i++)
			x[i] += tmp[i];
		layer_norm(x, T, H, L->ln2w, L->ln2b, m->eps);
	}

	if (m->pooling == BRAIN_BERT_CLS) {
		memcpy(out, x, H * sizeof *out);
		return;
	}
	for (size_t i = 0; i < H; i++) {
		double s = 0;
		for (size_t t = 0; t < T; t++)
			s += (double)x[t * H + i];
		out[i] = (float)(s / (double)T);
	}
}
