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

/* What a loaded hnsw index was saved with, for the brain to take back as
 * its parameters (a reopened brain reports, and builds by, the graph it
 * has). `shape`: M, EF_CONSTRUCTION, SEED, SQ8 and ELEMENT were fixed in the image;
 * `exact_below_known`: so was HNSW_EXACT_BELOW (images from version 2). */
typedef struct brain_hnsw_saved {
	bool shape;
	int64_t m, ef_construction, seed, sq8, element;
	bool exact_below_known;
	int64_t exact_below;
} brain_hnsw_saved;

/* Fill *out and return true if `index` (an hnsw index) was loaded from an
 * image; false otherwise (*out zeroed). */
bool brain__hnsw_saved(const brain_index *index, brain_hnsw_saved *out);

#endif /* BRAIN_INDEX_HNSW_H */
