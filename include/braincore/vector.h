/*
 * braincore/vector.h - vectors that the application embeds itself.
 *
 * A brain holds vectors of its `dimensions` under a metric (options.h);
 * distances are "smaller is closer": squared L2, 1 - cosine, 1 - inner
 * product. Vectors must be finite (no NaN or infinity); under the cosine
 * metric they are stored normalised to unit length and must not be zero.
 * Vectors and text memories share one id space and one index.
 *
 * Thread-safety: every call here may run concurrently with any other on the
 * same brain; searches run in parallel, additions are serialized.
 */
#ifndef BRAINCORE_VECTOR_H
#define BRAINCORE_VECTOR_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Add `vector` (the brain's dimensions, read during the call) under the
 * caller's `id` (any value but BRAIN_ID_NONE).
 *
 * Returns 0 or: BRAIN_ENULL, BRAIN_EINVAL (id is BRAIN_ID_NONE),
 * BRAIN_EEXISTS (id in use), BRAIN_ENONFINITE, BRAIN_EZEROVEC (cosine
 * metric), BRAIN_EFULL, BRAIN_ENOMEM. On error nothing changed.
 */
int brain_add(brain_t *b, uint64_t id, const float *vector);

/**
 * Add n vectors at once: vectors is row-major, n rows of the brain's
 * dimensions; ids[i] names row i. All or nothing: every row and id is
 * checked and room is made before the first is added, so on any error the
 * brain is unchanged and the message names the first bad row. n == 0 is a
 * no-op returning 0.
 *
 * Returns 0 or the errors of brain_add(); BRAIN_EEXISTS also for an id
 * repeated within the batch.
 */
int brain_add_batch(brain_t *b, const uint64_t *ids, const float *vectors, size_t n);

/**
 * The k nearest vectors to `query`, nearest first: ids[0..found) and, if
 * distances is not NULL, distances[0..found). Both buffers must hold k
 * entries; *found receives min(k, number of vectors). Ties are broken by
 * the smaller id. Text memories are found too (their vectors are in the
 * same index).
 *
 * Returns 0 or: BRAIN_ENULL (b, query, ids or found NULL), BRAIN_ERANGE
 * (k == 0), BRAIN_ENONFINITE, BRAIN_EZEROVEC (cosine metric), BRAIN_ENOMEM.
 */
int brain_search(brain_t *b, const float *query, size_t k, uint64_t *ids, float *distances,
                 size_t *found);

/**
 * Copy the stored vector of memory `id` into vector[0..dimensions) (unit
 * length under the cosine metric). Returns 0, BRAIN_ENULL or
 * BRAIN_ENOTFOUND.
 */
int brain_get_vector(brain_t *b, uint64_t id, float *vector);

#ifdef __cplusplus
}
#endif

#endif /* BRAINCORE_VECTOR_H */
