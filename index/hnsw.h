/*
 * index/hnsw.h - the "hnsw" index backend: approximate nearest neighbours
 * on a Hierarchical Navigable Small World graph, stored with the flat
 * backend's rows so that a checkpoint is searched where it is mapped.
 */
#ifndef BRAIN_INDEX_HNSW_H
#define BRAIN_INDEX_HNSW_H

#include <stdbool.h>
#include <stdint.h>

#include "braincore/sys/index.h"

extern const brain_index_vtable brain__index_hnsw;

/* The store's mappings release() detached, unmapped (no lock needed:
 * backend.h). */
void brain__hnsw_unmap_detached(brain_index *index);

/* Exact search for many queries at once over the index's stored vectors
 * (graph or not: what search() scans when its plan says exact), as
 * brain__flat_search_many. BRAIN_EINVAL for 8-bit rows or an index with
 * nothing stored yet (nothing written: search one query at a time). */
int brain__hnsw_search_many(const brain_index *index, const float *queries, size_t nq, size_t k,
                            uint32_t *slots, float *distances, size_t *found);

#endif /* BRAIN_INDEX_HNSW_H */
