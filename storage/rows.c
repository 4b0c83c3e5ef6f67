/*
 * storage/rows.c - see rows.h.
 *
 * Each chunk is one allocation from the allocator hook, over-allocated so
 * that its rows can start on a 64-byte boundary. The allocator promises
 * only malloc's alignment, so the pointer it returned is kept in the word
 * just before the aligned start, where brain__rows_free() finds it.
 */
#include <string.h>

#include "storage/rows.h"

#define ROW_ALIGN 64

/* Bytes added to a chunk: room to slide to a 64-byte boundary with the raw
 * pointer stored in front. */
#define CHUNK_PAD (ROW_ALIGN + sizeof(void *))

static size_t chunk_bytes(const brain_rows *r)
{
	/* Cannot overflow: brain__rows_init() checked it. */
	return r->stride << r->chunk_log2;
}

int brain__rows_init(brain_rows *r, size_t row_size, unsigned chunk_log2)
{
	return brain__rows_init_aligned(r, row_size, ROW_ALIGN, chunk_log2);
}

int brain__rows_init_aligned(brain_rows *r, size_t row_size, size_t align, unsigned chunk_log2)
{
	if (!r)
		return brain__err(BRAIN_ENULL, "rows: table is NULL");
	if (row_size == 0)
		return brain__err(BRAIN_EINVAL, "rows: row size is 0");
	if (chunk_log2 > 24)
		return brain__err(BRAIN_EINVAL, "rows: chunk_log2 %u is above 24", chunk_log2);
	if (align == 0 || align > ROW_ALIGN || (align & (align - 1)) != 0)
		return brain__err(BRAIN_EINVAL, "rows: alignment %zu is not a power of two up to %d",
		                  align, ROW_ALIGN);
	size_t stride, total;
	if (!brain__add_ok(row_size, align - 1, &stride))
		return brain__err(BRAIN_EINVAL, "rows: row size %zu is too large", row_size);
	stride &= ~(size_t)(align - 1);
	/* A chunk (with its padding) must be a size we can ask for, and the
	 * byte offsets inside it must not overflow. */
	if (stride > (SIZE_MAX >> chunk_log2) ||
	    !brain__add_ok(stride << chunk_log2, CHUNK_PAD, &total))
		return brain__err(BRAIN_EINVAL, "rows: %zu rows of %zu bytes do not fit in a chunk",
		                  (size_t)1 << chunk_log2, row_size);
	memset(r, 0, sizeof *r);
	r->row_size = row_size;
	r->stride = stride;
	r->chunk_log2 = chunk_log2;
	return BRAIN_OK;
}

/* A zero-filled chunk whose start is 64-byte aligned, or NULL. */
static unsigned char *chunk_alloc(size_t bytes)
{
	unsigned char *raw = brain__malloc(bytes + CHUNK_PAD);
	if (!raw)
		return NULL;
	uintptr_t start = ((uintptr_t)raw + sizeof(void *) + ROW_ALIGN - 1) &
	                  ~(uintptr_t)(ROW_ALIGN - 1);
	unsigned char *chunk = raw + (start - (uintptr_t)raw);
	/* memcpy rather than a void ** store: the slot is only as aligned as
	 * a pointer by construction, and this keeps -Wcast-align quiet. */
	memcpy(chunk - sizeof(void *), &raw, sizeof raw);
	memset(chunk, 0, bytes);
	return chunk;
}

static void chunk_free(unsigned char *chunk)
{
	void *raw;
	memcpy(&raw, chunk - sizeof(void *), sizeof raw);
	brain__free(raw);
}

int brain__rows_reserve(brain_rows *r, size_t rows)
{
	/* Chunks needed, written so that rows near SIZE_MAX cannot overflow. */
	size_t per_mask = ((size_t)1 << r->chunk_log2) - 1;
	size_t need = (rows >> r->chunk_log2) + ((rows & per_mask) != 0);
	if (need <= r->nchunks)
		return BRAIN_OK;
	/* The capacity in rows must stay representable in size_t. */
	if (need > (SIZE_MAX >> r->chunk_log2))
		return brain__oom(SIZE_MAX, "row table");

	if (need > r->chunks_cap) {
		/* Grow the chunk list geometrically; it holds pointers only. */
		size_t cap = r->chunks_cap ? r->chunks_cap : 4;
		while (cap < need)
			cap = cap > SIZE_MAX / 2 ? need : cap * 2;
		size_t list_bytes;
		if (!brain__mul_ok(cap, sizeof *r->chunks, &list_bytes))
			return brain__oom(SIZE_MAX, "row table chunk list");
		unsigned char **list = brain__realloc(r->chunks, list_bytes);
		if (!list)
			return brain__oom(list_bytes, "row table chunk list");
		r->chunks = list;
		r->chunks_cap = cap;
	}
	size_t bytes = chunk_bytes(r);
	while (r->nchunks < need) {
		unsigned char *chunk = chunk_alloc(bytes);
		if (!chunk)
			return brain__oom(bytes + CHUNK_PAD, "row table chunk");
		r->chunks[r->nchunks++] = chunk;
	}
	return BRAIN_OK;
}

size_t brain__rows_shrink(brain_rows *r, size_t rows)
{
	size_t per_mask = ((size_t)1 << r->chunk_log2) - 1;
	size_t keep = (rows >> r->chunk_log2) + ((rows & per_mask) != 0);
	if (keep >= r->nchunks)
		return 0;
	size_t gone = r->nchunks - keep;
	for (size_t i = keep; i < r->nchunks; i++) {
		if (brain__rows_borrowed(r, i)) {
			r->lent[i] = 0; /* a chunk added here later is the heap's */
			r->nborrowed--;
		} else {
			chunk_free(r->chunks[i]);
		}
		r->chunks[i] = NULL;
	}
	r->nchunks = keep;
	return gone;
}

/* The chunk list of an empty table about to adopt n chunks (n >= 1): the
 * table holds them all, borrowed, once the caller has filled the list.
 * NULL with the error reported. */
static unsigned char **adopted_list(brain_rows *r, size_t n)
{
	size_t list_bytes;
	if (!brain__mul_ok(n, sizeof *r->chunks, &list_bytes)) {
		brain__oom(SIZE_MAX, "row table chunk list");
		return NULL;
	}
	unsigned char **list = brain__malloc(list_bytes);
	unsigned char *lent = brain__malloc(n);
	if (!list || !lent) {
		brain__free(list);
		brain__free(lent);
		brain__oom(list_bytes + n, "row table chunk list");
		return NULL;
	}
	memset(lent, 1, n);
	r->chunks = list;
	r->chunks_cap = n;
	r->nchunks = n;
	r->nborrowed = n;
	r->lent = lent;
	r->nlent = n;
	return list;
}

int brain__rows_adopt(brain_rows *r, void *base, size_t nrows)
{
	if (r->nchunks)
		return brain__err(BRAIN_EINVAL, "rows: adopting into a table that holds rows");
	if ((uintptr_t)base % ROW_ALIGN)
		return brain__err(BRAIN_EINVAL, "rows: adopted rows are not %d-byte aligned",
		                  ROW_ALIGN);
	size_t per_mask = ((size_t)1 << r->chunk_log2) - 1;
	size_t need = (nrows >> r->chunk_log2) + ((nrows & per_mask) != 0);
	if (need == 0)
		return BRAIN_OK;
	unsigned char **list = adopted_list(r, need);
	if (!list)
		return BRAIN_ENOMEM;
	unsigned char *p = base;
	for (size_t i = 0; i < need; i++)
		list[i] = p + i * chunk_bytes(r);
	return BRAIN_OK;
}

int brain__rows_adopt_chunks(brain_rows *r, unsigned char *const *chunks, size_t n)
{
	if (r->nchunks)
		return brain__err(BRAIN_EINVAL, "rows: adopting into a table that holds rows");
	for (size_t i = 0; i < n; i++)
		if ((uintptr_t)chunks[i] % ROW_ALIGN)
			return brain__err(BRAIN_EINVAL, "rows: adopted chunk %zu is not %d-byte aligned",
			                  i, ROW_ALIGN);
	if (n == 0)
		return BRAIN_OK;
	unsigned char **list = adopted_list(r, n);
	if (!list)
		return BRAIN_ENOMEM;
	memcpy(list, chunks, n * sizeof *list);
	return BRAIN_OK;
}

int brain__rows_own(brain_rows *r, size_t c)
{
	if (!brain__rows_borrowed(r, c))
		return BRAIN_OK;
	size_t bytes = chunk_bytes(r);
	unsigned char *chunk = chunk_alloc(bytes);
	if (!chunk)
		return brain__oom(bytes + CHUNK_PAD, "row table chunk");
	memcpy(chunk, r->chunks[c], bytes);
	r->chunks[c] = chunk;
	r->lent[c] = 0;
	r->nborrowed--;
	return BRAIN_OK;
}

int brain__rows_own_some(brain_rows *r, size_t *budget,
                         bool (*pick)(const unsigned char *chunk, const void *ctx),
                         const void *ctx, size_t *left)
{
	*left = 0;
	size_t n = BRAIN_MIN(r->nlent, r->nchunks);
	for (size_t c = 0; c < n; c++) {
		if (!brain__rows_borrowed(r, c) || (pick && !pick(r->chunks[c], ctx)))
			continue;
		if (*budget == 0) {
			(*left)++;
			continue;
		}
		int rc = brain__rows_own(r, c);
		if (rc)
			return rc;
		(*budget)--;
	}
	return BRAIN_OK;
}

size_t brain__rows_memory(const brain_rows *r)
{
	return (r->nchunks - r->nborrowed) * (chunk_bytes(r) + CHUNK_PAD) +
	       r->chunks_cap * sizeof *r->chunks + r->nlent;
}

void brain__rows_free(brain_rows *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nchunks; i++)
		if (!brain__rows_borrowed(r, i))
			chunk_free(r->chunks[i]);
	brain__free(r->chunks);
	brain__free(r->lent);
	r->lent = NULL;
	r->nlent = 0;
	r->nborrowed = 0;
	/* Keep the geometry, so the table is empty and can be reserved again
	 * (and a second free is harmless). */
	r->chunks = NULL;
	r->nchunks = 0;
	r->chunks_cap = 0;
}
