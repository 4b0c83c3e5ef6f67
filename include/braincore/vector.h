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
#include "filter.h"
#include "memory.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Add `vector` (the brain's dimensions, read during the call) under the
 * caller's `id` (any value but BRAIN_ID_NONE).
 *
 * Returns 0 or: BRAIN_ENULL, BRAIN_EINVAL (id is BRAIN_ID_NONE),
 * BRAIN_EEXISTS (id in use), BRAIN_ENONFINITE, BRAIN_EZEROVEC (cosine
 * metric), BRAIN_EFULL, BRAIN_ENOMEM; for an on-disk brain also
 * BRAIN_EREADONLY, BRAIN_ENOSPC, BRAIN_EIO and BRAIN_ECORRUPT, as for
 * brain_remember(). On error nothing changed, with brain_remember()'s one
 * exception (BRAIN_EIO from a FULL-mode fsync).
 * Thread-safe: one brain serves many threads (docs/threading.md).
 */
int brain_add(brain_t *b, uint64_t id, const float *vector);

/**
 * brain_add() with metadata: a JSON object of typed fields (see
 * braincore/filter.h), or NULL for none.
 * Returns 0 or the errors of brain_add(); BRAIN_EJSON, BRAIN_ETOOLONG,
 * BRAIN_ETYPE as brain_remember_with(). Nothing is stored on error.
 * Thread-safe: one brain serves many threads (docs/threading.md).
 */
int brain_add_with(brain_t *b, uint64_t id, const float *vector, const char *metadata_json);

/**
 * Add n vectors at once: vectors is row-major, n rows of the brain's
 * dimensions; ids[i] names row i. All or nothing: every row and id is
 * checked and room is made before the first is added, so on any error the
 * brain is unchanged and the message names the first bad row. n == 0 is a
 * no-op returning 0.
 *
 * Returns 0 or the errors of brain_add(); BRAIN_EEXISTS also for an id
 * repeated within the batch.
 * Thread-safe: one brain serves many threads (docs/threading.md).
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
 * Thread-safe: one brain serves many threads (docs/threading.md).
 */
int brain_search(brain_t *b, const float *query, size_t k, uint64_t *ids, float *distances,
                 size_t *found);

/**
 * brain_search() of nq queries at once, spread over BRAIN_PARAM_THREADS
 * threads (0: one per core). Query i is row i of `queries` (nq x the
 * brain's dimensions floats); its neighbours go to ids[i*k ..], their
 * distances to distances[i*k ..] (NULL: not wanted) and their number to
 * found[i] (at most k; the cells past it are left as they were). Each
 * query's answer is what brain_search() gives for it. Where the search
 * is a scan (a flat index, or an HNSW index of float rows below
 * HNSW_EXACT_BELOW) each thread scans the rows once for 16 queries at a
 * time: 2.3-3.4x the queries per second of one brain_search() after
 * another on one thread (100,000 rows of 128 and 384 floats,
 * bench/bench_flat).
 * Every query is checked before any is searched; on an error no result
 * is valid, found[] is all 0 and the message names the first query at
 * fault ("query 17: component 3 is NaN").
 * Returns 0 (nq 0 included: nothing to do) or: BRAIN_ENULL (b, or with nq
 * > 0 queries, ids or found), BRAIN_ERANGE (k 0, or nq x k cells overflow),
 * BRAIN_ENONFINITE, BRAIN_EZEROVEC (cosine metric), BRAIN_ENOMEM.
 * Thread-safe: one brain serves many threads (docs/threading.md).
 */
int brain_search_batch(brain_t *b, const float *queries, size_t nq, size_t k, uint64_t *ids,
                       float *distances, size_t *found);

/**
 * Which memories a filtered search may return: nonzero from accept(id)
 * means yes. Called from the searching thread, possibly many times per id,
 * while the brain is locked for reading: it must not call into the brain.
 */
typedef int (*brain_accept_fn)(uint64_t id, void *payload);

/**
 * brain_search() over only the memories that accept() takes. The results
 * contain accepted ids only. When few memories pass (the brain estimates
 * the share from a sample), the search runs exactly over the passing ones,
 * so recall holds for selective filters too.
 * Returns what brain_search() returns, and BRAIN_ENULL for a NULL accept.
 * Thread-safe: one brain serves many threads (docs/threading.md). accept runs
 * under the brain's read lock: it must not call this brain.
 */
int brain_search_filter(brain_t *b, const float *query, size_t k, brain_accept_fn accept,
                        void *payload, uint64_t *ids, float *distances, size_t *found);

/**
 * brain_search() among the vectors whose metadata passes `filter` (built or
 * parsed, braincore/filter.h; not NULL). When at least k pass, exactly k
 * come back; recall@10 stays at or above 0.95 against brute force at any
 * selectivity (small passing sets are searched exactly).
 * Returns 0 or the errors of brain_search(); BRAIN_ENULL for a NULL filter,
 * BRAIN_EFILTER when a condition's value cannot compare with its field's
 * type. Thread-safe: one brain serves many threads (docs/threading.md).
 */
int brain_search_where(brain_t *b, const float *query, size_t k, const brain_filter *filter,
                       uint64_t *ids, float *distances, size_t *found);

/**
 * The k memories nearest `vector` (the brain's dimensions, finite) whose
 * metadata passes `filter` unless it is NULL, as a results object (*out,
 * NULL on error) with their texts, metadata and scores (similarity), for
 * an application that embeds its queries itself.
 * Returns 0 or the errors of brain_search_where(). Thread-safe: one brain
 * serves many threads (docs/threading.md).
 */
int brain_recall_vector(brain_t *b, const float *vector, size_t k, const brain_filter *filter,
                        brain_results **out);

/**
 * brain_search() over the memories whose ids are in allowed[0..n_allowed)
 * (any order; ids not in the brain are ignored). Small sets are searched
 * exactly.
 * Returns what brain_search() returns, and BRAIN_ENULL for a NULL allowed
 * with n_allowed > 0.
 * Thread-safe: one brain serves many threads (docs/threading.md).
 */
int brain_search_ids(brain_t *b, const float *query, size_t k, const uint64_t *allowed,
                     size_t n_allowed, uint64_t *ids, float *distances, size_t *found);

/**
 * Replace the vector of memory `id` (a text memory keeps its text,
 * importance and times; the vector is prepared as brain_add() prepares
 * it). In an HNSW index the node is taken out and inserted again, so its
 * links fit the new vector. Logged like every change.
 * Returns 0 or: BRAIN_ENULL, BRAIN_ENOTFOUND, BRAIN_ENONFINITE,
 * BRAIN_EZEROVEC, BRAIN_EREADONLY, BRAIN_ENOMEM, BRAIN_EIO, BRAIN_ENOSPC.
 * On error the memory keeps its old vector, with brain_remember()'s one
 * exception (BRAIN_EIO from a FULL-mode fsync: either vector).
 * Thread-safe: one brain serves many threads (docs/threading.md).
 */
int brain_update_vector(brain_t *b, uint64_t id, const float *vector);

/**
 * Copy the stored vector of memory `id` into vector[0..dimensions) (unit
 * length under the cosine metric). Returns 0, BRAIN_ENULL,
 * BRAIN_ENOTFOUND (no memory has that id) or, for an on-disk brain whose
 * files are damaged, BRAIN_ECORRUPT (the index section fails its checksum
 * on first use, or the index holds no vector for the memory) or BRAIN_EIO.
 * Thread-safe: one brain serves many threads (docs/threading.md).
 */
int brain_get_vector(brain_t *b, uint64_t id, float *vector);

#ifdef __cplusplus
}
#endif

#endif /* BRAINCORE_VECTOR_H */
