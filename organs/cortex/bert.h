/*
 * organs/cortex/bert.h - a BERT encoder's weights and its forward pass,
 * whatever file they came from (model.c binds them from GGUF or
 * safetensors).
 *
 * The forward pass is the one of Hugging Face's BertModel for one
 * sequence without padding (every token attends to every token; token
 * type 0), followed by sentence-transformers' pooling: the mean of the
 * last layer's token vectors, [CLS] and [SEP] included, or the [CLS]
 * vector. Matrices stay where the model file put them (f32, f16 or
 * Q8_0); the small vectors (biases, LayerNorm) are f32 copies.
 */
#ifndef BRAIN_ORGANS_CORTEX_BERT_H
#define BRAIN_ORGANS_CORTEX_BERT_H

#include "organs/cortex/bert_kernels.h"

enum brain_bert_act { BRAIN_BERT_GELU = 0, BRAIN_BERT_GELU_TANH = 1 };
enum brain_bert_pool { BRAIN_BERT_MEAN = 0, BRAIN_BERT_CLS = 1 };

typedef struct brain_bert_layer {
	brain_mat q, k, v, o, up, down;
	const float *qb, *kb, *vb, *ob, *upb, *downb; /* biases */
	const float *ln1w, *ln1b, *ln2w, *ln2b;      /* after attention, after the FFN */
} brain_bert_layer;

typedef struct brain_bert {
	uint32_t vocab, hidden, heads, inter, layers, positions, types;
	float eps;
	int act;     /* enum brain_bert_act */
	int pooling; /* enum brain_bert_pool */
	brain_mat tok, pos, type;  /* [vocab][hidden], [positions][hidden], [types][hidden] */
	const float *lnw, *lnb;    /* the embeddings' LayerNorm */
	brain_bert_layer *layer;   /* [layers] */
} brain_bert;

/* Check that the shapes agree with the sizes (model.c checks each tensor
 * against what it expects; this checks the sizes themselves): BRAIN_OK or
 * BRAIN_ECORRUPT/BRAIN_ENOTSUP with the reason. */
int brain__bert_check(const brain_bert *m);

/* Floats of scratch a forward pass of T tokens needs. */
size_t brain__bert_scratch(const brain_bert *m, size_t T);

/* The pooled (not normalised) vector of the sequence ids[0..T) (the
 * caller's [CLS] ... [SEP], 1 <= T <= positions, every id < vocab) into
 * out[hidden], with the kernels of `level`. */
void brain__bert_forward(const brain_bert *m, int level, const int32_t *ids, size_t T,
                         float *scratch, float *out);

#endif /* BRAIN_ORGANS_CORTEX_BERT_H */
