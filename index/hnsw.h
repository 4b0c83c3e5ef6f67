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

#endif /* BRAIN_INDEX_HNSW_H */
