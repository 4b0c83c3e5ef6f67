/*
 * storage/rows.h - a table of fixed-size rows in chunks.
 *
 * Rows never move once allocated (chunks are never reallocated), so growing
 * the table does not copy gigabytes and pointers to rows stay valid. Rows
 * start 64-byte aligned (cache lines, for the distance kernels) unless the
 * table asks for less. Chunks live in anonymous memory or, adopted, in a
 * mapped checkpoint image or index segment file.
 */
#ifndef BRAIN_STORAGE_ROWS_H
#define BRAIN_STORAGE_ROWS_H

#include "base/base.h"

typedef struct brain_rows {
	size_t row_size;     /* bytes a caller may use per row */
	size_t stride;       /* bytes between rows: row_size rounded up to the alignment */
	unsigned chunk_log2; /* rows per chunk = 1 << chunk_log2 */
	unsigned char **chunks;
	size_t nchunks;
	size_t chunks_cap;
	size_t nborrowed;    /* chunks that point into a mapping (adopted) */
	unsigned char *lent; /* per chunk of the adopted [0, nlent): 1 while it
	                        still points into the mapping */
	size_t nlent;
} brain_rows;

/* row_size >= 1; chunk_log2 in [0, 24]. Allocates nothing yet. Returns 0,
 * BRAIN_ENULL, or BRAIN_EINVAL (also when a chunk would not fit in size_t). */
int brain__rows_init(brain_rows *r, size_t row_size, unsigned chunk_log2);

/* Same, with rows aligned to `align` bytes (a power of two up to 64)
 * instead of 64: for rows that need no more than a pointer's alignment,
 * which then waste no padding. Chunks still start 64-byte aligned. */
int brain__rows_init_aligned(brain_rows *r, size_t row_size, size_t align, unsigned chunk_log2);

/* Use `nrows` rows laid out at `base` (64-byte aligned, chunk after chunk,
 * as brain__rows_chunk_bytes() says) as the table's first rows, in place:
 * they are read and written there and never freed by the table. The
 * table must be empty; nrows is rounded up to whole chunks, which `base`
 * must hold. Returns 0, BRAIN_EINVAL (not empty, misaligned) or
 * BRAIN_ENOMEM. */
int brain__rows_adopt(brain_rows *r, void *base, size_t nrows);

/* The same for `n` chunks that lie anywhere (64-byte aligned, each
 * brain__rows_chunk_bytes() long): chunk i of the table is chunks[i]. */
int brain__rows_adopt_chunks(brain_rows *r, unsigned char *const *chunks, size_t n);

/* Does chunk c point into an adopter's mapping? */
static inline bool brain__rows_borrowed(const brain_rows *r, size_t c)
{
	return c < r->nlent && r->lent[c];
}

/* Chunk c, if adopted, copied into a chunk of the heap of its own, so that
 * the mapping it lay in may go. The caller keeps every reader and writer
 * of its rows away meanwhile. Returns 0 or BRAIN_ENOMEM (nothing changed). */
int brain__rows_own(brain_rows *r, size_t c);

/* The adopted chunks that `pick` chooses (NULL: every one) owned so, while
 * *budget lasts (it goes down by each); *left gets how many chosen are
 * still adopted. The caller keeps readers and writers away, as for
 * brain__rows_own. 0 or BRAIN_ENOMEM. */
int brain__rows_own_some(brain_rows *r, size_t *budget,
                         bool (*pick)(const unsigned char *chunk, const void *ctx),
                         const void *ctx, size_t *left);

/* Bytes of one chunk: the unit in which rows are saved and adopted. */
static inline size_t brain__rows_chunk_bytes(const brain_rows *r)
{
	return r->stride << r->chunk_log2;
}

/* Make rows [0, rows) addressable. Returns 0 or BRAIN_ENOMEM (the table is
 * unchanged: chunks added so far stay, which is harmless). New rows are
 * zero-filled. */
int brain__rows_reserve(brain_rows *r, size_t rows);

/* Keep only the chunks that hold rows [0, rows) and give the rest back:
 * chunks of the heap are freed, adopted ones only let go (their mapping
 * is the adopter's). Rows past the end are gone: a later reserve brings
 * them back zero-filled. Cannot fail; returns the chunks let go. */
size_t brain__rows_shrink(brain_rows *r, size_t rows);

/* Rows currently addressable. */
static inline size_t brain__rows_capacity(const brain_rows *r)
{
	return r->nchunks << r->chunk_log2;
}

/* Row i (< capacity). */
static inline void *brain__rows_at(const brain_rows *r, size_t i)
{
	return r->chunks[i >> r->chunk_log2] +
	       (i & (((size_t)1 << r->chunk_log2) - 1)) * r->stride;
}

/* Bytes held on the heap (adopted chunks not counted). */
size_t brain__rows_memory(const brain_rows *r);

/* Release every chunk. The table keeps its geometry and is empty, so it
 * can be reserved again; freeing twice (or NULL) is harmless. */
void brain__rows_free(brain_rows *r);

#endif /* BRAIN_STORAGE_ROWS_H */
