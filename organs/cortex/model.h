/*
 * organs/cortex/model.h - the models of BRAIN_EMBEDDER_MODEL: a BERT
 * sentence encoder loaded from the user's GGUF file or Hugging Face
 * directory, mapped once per process and shared by every brain that
 * names the same file (refcounted), and the embedding of a text with it.
 *
 * Used by the engine (to acquire the model at open and release it at
 * close, and to read its size and fingerprint for the brain's identity)
 * and by the Cortex (to embed).
 */
#ifndef BRAIN_ORGANS_CORTEX_MODEL_H
#define BRAIN_ORGANS_CORTEX_MODEL_H

#include "base/base.h"

typedef struct brain_model brain_model;

/* The model at `path` (a .gguf file, or a directory with config.json,
 * model.safetensors and vocab.txt or tokenizer.json): the one already
 * loaded for the same file (by its real path) or a new one. Errors:
 * BRAIN_ENOTFOUND / BRAIN_EIO (the files), BRAIN_ECORRUPT (a damaged or
 * inconsistent model: the message says what and where), BRAIN_ENOTSUP
 * (an architecture, tensor type or setting this runtime does not run),
 * BRAIN_ENOMEM. */
int brain__model_acquire(const char *path, brain_model **out);
/* Let go of a reference (NULL: nothing); the last unmaps the model. */
void brain__model_release(brain_model *m);

uint32_t brain__model_dimensions(const brain_model *m);
/* CRC32C of the model's files (weights, vocabulary, configuration), never
 * 0: the brain's identity keeps it. */
uint32_t brain__model_fingerprint(const brain_model *m);
/* The path it was loaded from (the caller's spelling), while referenced. */
const char *brain__model_path(const brain_model *m);
/* A one-line description: architecture, sizes, weight type, pooling. */
const char *brain__model_describe(const brain_model *m);

/* Embed text[0..len) (valid UTF-8) into out[dimensions], L2-normalised.
 * A text longer than the model's window is not cut: it is embedded in
 * windows whose pooled vectors are averaged, weighted by their tokens
 * (docs/embedder.md). Thread-safe; scratch is brain__malloc'ed. */
int brain__model_embed(const brain_model *m, const char *text, size_t len, float *out);

/* Embed n texts into out[i * dimensions] on up to `threads` threads (0:
 * the machine's cores). Stops at the first error (the others' vectors are
 * then unspecified). */
int brain__model_embed_batch(const brain_model *m, const char *const *texts, const size_t *lens,
                             size_t n, unsigned threads, float *out);

/* The token ids of the text's first window ([CLS] ... [SEP]), for tests:
 * *ids brain__malloc'ed. */
int brain__model_tokens(const brain_model *m, const char *text, size_t len, int32_t **ids,
                        size_t *n);

/* For tests and the fuzzer: a model from the bytes of a GGUF file (not
 * registered, not shared; `data` must outlive it), and its release. The
 * SIMD level of the kernels (bert_kernels.h) may be forced, -1 = best. */
int brain__model_from_gguf(const void *data, size_t len, brain_model **out);
void brain__model_free(brain_model *m);
void brain__model_set_level(brain_model *m, int level);

#endif /* BRAIN_ORGANS_CORTEX_MODEL_H */
