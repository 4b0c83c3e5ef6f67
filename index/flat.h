/*
 * index/flat.h - the "flat" index backend: exact search by scanning every
 * vector. The reference for every recall figure, and the right index for
 * small brains.
 */
#ifndef BRAIN_INDEX_FLAT_H
#define BRAIN_INDEX_FLAT_H

#include "braincore/sys/index.h"
#include "index/distance.h"

#include <stdbool.h>

extern const brain_index_vtable brain__index_flat;

/* Check what an index is opened with (version, dimensions, metric) and
 * clear *out; errors name `who`. For flat and the backends built on it. */
int brain__flat_check_config(const char *who, const brain_index_config *config,
                             brain_index **out);

/* flat as the vector store of another backend (index/hnsw.c): each row
 * holds the vector (floats, or one byte per component for the 8-bit element
 * types), then `extra` bytes the caller owns (saved and loaded with the
 * rows), rows aligned to `align` bytes (a power of two, 4..64).
 * Use the brain__index_flat functions on the result. */
int brain__flat_open_ex(const brain_index_config *config, size_t extra, size_t align,
                        brain_elem elem, brain_index **out);
int brain__flat_load_ex(const brain_index_config *config, size_t extra, size_t align,
                        brain_elem elem, void *data, size_t len, brain_index **out);

/* The flat store's own files (index/flat_files.c, index vtable version 4):
 * flush writes the chunks that changed into a new segment and the
 * descriptor to w; open_files opens from a descriptor (with the rows'
 * `extra`, `align` and `elem` as open_ex); retire removes segments no
 * chunk lives in. A backend built on flat uses them for its store. */
int brain__flat_flush(brain_index *index, const brain_index_files *files,
                      const brain_index_writer *w);
int brain__flat_open_files(const brain_index_config *config, size_t extra, size_t align,
                           brain_elem elem, const brain_index_files *files, void *desc,
                           size_t len, brain_index **out);
void brain__flat_retire(brain_index *index, const brain_index_files *files);

/* A checkpoint in two steps (index vtable version 6): freeze() notes the
 * rows as they are (beside no change), flush_frozen() writes them as they
 * were then while changes go on, and thaw() ends it (also after an
 * error). Meanwhile every change of a row calls brain__flat_will_write()
 * first: a row of a chunk not yet written is copied before it changes
 * (the copy is freed once written), so the checkpoint holds the rows of
 * the freeze. A backend built on flat calls it before changing its rows'
 * extra bytes (hnsw's links and codes). */
int brain__flat_freeze(brain_index *index, void **frozen);
int brain__flat_flush_frozen(brain_index *index, void *frozen, const brain_index_files *files,
                             const brain_index_writer *w);
void brain__flat_thaw(brain_index *index, void *frozen);
void brain__flat_will_write(brain_index *index, size_t slot);

/* Index vtable version 7's shrink: the chunks of rows past `slots` (none
 * occupied) handed back, those a checkpoint under way has frozen copied
 * first. A backend built on flat calls it with its own lock held. */
int brain__flat_shrink(brain_index *index, uint32_t slots);
/* Would a shrink to `slots` hand back a chunk? (The chunks come and go
 * only in changes, which the brain serialises: a change may ask.) */
bool brain__flat_would_shrink(const brain_index *index, uint32_t slots);

/* Index vtable version 7's release: the mappings of segments no chunk home
 * names any more handed back, up to max_chunks of the chunks still lying
 * in them copied to the heap first; *left gets how many still lie there
 * (0 while a checkpoint is under way: it asks again after its commit). A backend built on flat calls it with its own lock. */
int brain__flat_release(brain_index *index, size_t max_chunks, size_t *left);
/* Is a mapping there to hand back (and no checkpoint under way)? Asked
 * as a change, which the brain serialises with release and the flush. */
bool brain__flat_would_release(const brain_index *index);

/* Unmap the mappings release() detached: no row lies in them, so no
 * search or change can reach them, and this needs no lock of the brain's
 * (the list has its own mutex). Not beside close(). */
void brain__flat_unmap_detached(brain_index *index);

/* Can the store hold `vector` exactly? Float rows take any; 8-bit rows
 * (elem U8 or I8, which need the L2 or IP metric) only integers in
 * 0..255 or -128..127, stored as such and read back as floats exactly.
 * BRAIN_EINVAL names the first component that does not fit. add() checks
 * this itself; a batch checks every row first. */
int brain__flat_check_vector(const brain_index *index, const float *vector, const char *op);
/* Does brain__flat_check_vector() refuse any vector (8-bit integer rows)?
 * Else a batch need not look at its rows before storing them. */
bool brain__flat_checks_values(const brain_index *index);

/* Exact search for nq queries at once (float rows, no filter): query j
 * (dim floats, prepared, at queries + j * dim) gets its k nearest slots
 * and distances at slots + j * k and distances + j * k, nearest first,
 * and their number in found[j] (min(k, count)); each exactly what
 * search() gives for it. Rows are read once per group of 16 queries.
 * Runs beside other searches, as search() does. 0, BRAIN_EINVAL (8-bit
 * rows) or BRAIN_ENOMEM. */
int brain__flat_search_many(const brain_index *index, const float *queries, size_t nq, size_t k,
                            uint32_t *slots, float *distances, size_t *found);

/* Direct access to the rows and the occupancy bits, for a backend built
 * on flat (inline on its hot path). Valid until the next reserve or
 * close of the index. */
typedef struct brain_flat_view {
	unsigned char *const *chunks;
	unsigned chunk_log2;
	size_t stride;
	const _Atomic uint64_t *used;
	size_t used_words;
	size_t capacity;
} brain_flat_view;

void brain__flat_view(const brain_index *index, brain_flat_view *v);

static inline void *brain__flat_view_row(const brain_flat_view *v, uint32_t slot)
{
	return v->chunks[slot >> v->chunk_log2] +
	       (slot & (((size_t)1 << v->chunk_log2) - 1)) * v->stride;
}

static inline bool brain__flat_view_used(const brain_flat_view *v, uint32_t slot)
{
	return slot / 64 < v->used_words &&
	       ((__atomic_load_n((const uint64_t *)(const void *)&v->used[slot / 64],
	                         __ATOMIC_ACQUIRE) >> (slot % 64)) & 1);
}

/* Rows addressable now (grows with reserve). */
size_t brain__flat_capacity(const brain_index *index);
size_t brain__flat_count(const brain_index *index);

#endif /* BRAIN_INDEX_FLAT_H */
