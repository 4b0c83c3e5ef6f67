/*
 * index/flat_internal.h - the flat backend's layout, shared by its files:
 * flat.c (the index, save and load) and flat_files.c (its own files,
 * index vtable version 4). Not included outside index/flat*.c.
 */
#ifndef BRAIN_INDEX_FLAT_INTERNAL_H
#define BRAIN_INDEX_FLAT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "index/distance.h"
#include "index/flat.h"
#include "storage/rows.h"

/* Rows per chunk are chosen so that a chunk is about this many bytes: big
 * enough that runs are long and the chunk list short, small enough that a
 * brain with a handful of memories does not hold megabytes. */
#define CHUNK_TARGET_BYTES ((size_t)256 * 1024)
#define CHUNK_MAX_LOG2 16u

/* Where a chunk of rows was last written to a segment file (flat_files.c):
 * the segment's generation (0: never written), the chunk's place in it,
 * and the hash of its bytes then. */
typedef struct flat_home {
	uint64_t seg;
	uint64_t pos;
	uint64_t hash;
} flat_home;

/* A segment the chunk homes name: its generation, the key its chunk
 * hashes are made with, and how many chunks it holds. */
typedef struct flat_seg {
	uint64_t gen;
	uint64_t key;
	uint64_t nchunks;
} flat_seg;

/* A segment file mapped by open_files. */
typedef struct flat_mapping {
	void *addr;
	size_t len;
	uint64_t gen; /* the segment's generation */
} flat_mapping;

/* Chunk c's freeze state is guarded by frz_mu[c % FRZ_STRIPES]. */
#define FRZ_STRIPES 16

typedef struct flat_index {
	uint32_t dim;
	int metric;
	uint32_t max_slots;
	_Atomic size_t count;      /* occupied slots */
	brain_elem elem;           /* how a row holds its vector: floats or bytes */
	size_t stride;             /* floats from one row to the next (BRAIN_ELEM_F32) */
	brain_rows rows;           /* row i holds the vector of slot i */
	/* bit s set: slot s is occupied. Atomic words: a slot's row is written
	 * before its bit is set, so a search that sees the bit sees the row
	 * (searches may run beside adds, index/hnsw.c). */
	_Atomic uint64_t *used;
	size_t used_words;         /* words allocated in `used` */
	bool used_borrowed;        /* `used` lives in a loaded image */
	brain_dist_batch_fn batch; /* distance kernel for the metric (float rows) */
	brain_dist_multi_fn multi; /* the same for many queries at once (float rows) */
	brain_dist8_batch_fn batch8; /* the same for 8-bit rows */
	/* its own files (flat_files.c) */
	flat_home *home;           /* per chunk, nhome of them */
	size_t nhome;
	flat_seg *segs;            /* the segments homes name, by generation */
	size_t nsegs;
	flat_mapping *maps;        /* segments whose chunks the rows adopted */
	size_t nmaps;
	/* mappings release() detached (no row lies in them), unmapped by
	 * brain__flat_unmap_detached() outside the brain lock (a populated
	 * mapping takes ~0.3 ms a MB to unmap), else at close */
	flat_mapping *detached;
	size_t ndetached, detached_cap;
	pthread_mutex_t detached_mu;
	const struct brain_io *io; /* that mapped them */
	/* A checkpoint's frozen rows (flat_files.c, freeze): chunks [0, nfrz)
	 * were frozen; per chunk FRZ_NONE (written or left: free to change),
	 * FRZ_LIVE (its bytes are the checkpoint's: copy them before a
	 * change) or FRZ_COPY (the checkpoint's bytes are in frz_copy[c]).
	 * Changed under the chunk's stripe of frz_mu, held only for a copy of
	 * one chunk (no hash, no allocation, no io under it); the arrays grow
	 * only at a freeze, which runs beside no change. */
	_Atomic unsigned char *frz;
	unsigned char **frz_copy;
	size_t frz_cap;
	_Atomic size_t nfrz;
	/* a freeze is under way, from freeze to thaw, even one of no chunk
	 * (the flush changes the homes meanwhile: release waits) */
	_Atomic bool freezing;
	pthread_mutex_t frz_mu[FRZ_STRIPES];
	pthread_cond_t frz_cv[FRZ_STRIPES]; /* a chunk left FRZ_LIVE (a writer out
	                                       of memory waits) */
} flat_index;

enum { FRZ_NONE = 0, FRZ_LIVE = 1, FRZ_COPY = 2 };

/* The brain sees an opaque brain_index; this backend's layout is flat_index
 * (the type is never defined, so each backend can have its own). */
static inline flat_index *flat_of(brain_index *index)
{
	return (flat_index *)(void *)index;
}

static inline const flat_index *cflat_of(const brain_index *index)
{
	return (const flat_index *)(const void *)index;
}

static inline void *row_of(const flat_index *f, size_t slot)
{
	return brain__rows_at(&f->rows, slot);
}

static inline bool is_used(const flat_index *f, size_t slot)
{
	return slot / 64 < f->used_words && ((f->used[slot / 64] >> (slot % 64)) & 1);
}

/* A new empty index with rows of `extra` bytes after the vector, aligned to
 * `align`, or NULL with the error reported (flat.c). */
flat_index *brain__flat_make(const brain_index_config *config, unsigned chunk_log2, size_t extra,
                             size_t align, brain_elem elem);
/* 8-bit rows need a metric that has their kernels (flat.c). */
int brain__flat_check_elem(const brain_index_config *config, brain_elem elem);
/* The occupancy bits in the heap, `words` long (>= used_words; new words
 * zero), copied there if they lay in a loaded image. A change. 0 or
 * BRAIN_ENOMEM (nothing changed). */
int brain__flat_used_resize(flat_index *f, size_t words);
/* Release the segments open_files mapped and the chunk homes
 * (flat_files.c); close calls it. */
void brain__flat_files_release(flat_index *f);

#endif /* BRAIN_INDEX_FLAT_INTERNAL_H */
