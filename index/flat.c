/*
 * index/flat.c - the "flat" backend: every vector in a row table, search by
 * computing the distance to each one.
 *
 * Layout: one 64-byte aligned row per slot in a brain_rows table (rows
 * never move, so growing is cheap) and a bitmap of occupied slots. Search
 * walks the bitmap a word at a time, joins its set bits (occupied and
 * accepted slots) into runs of consecutive slots, and hands every run to
 * the batch distance kernel; the per-row cost is then the kernel plus one
 * comparison with the current k-th best distance.
 *
 * The k best are kept in a bounded max-heap built directly in the caller's
 * output arrays, so search allocates nothing and cannot fail for lack of
 * memory. The heap orders by (distance, slot): slots are visited in
 * increasing order, so a later slot at the same distance as the worst kept
 * one is never better, which gives "ties by smaller slot" for free.
 */
#include <math.h>
#include <string.h>

#include "index/flat_internal.h"

static unsigned chunk_log2_for(size_t stride_bytes, uint32_t max_slots)
{
	unsigned log2 = 0;
	while (log2 < CHUNK_MAX_LOG2 && (stride_bytes << (log2 + 1)) <= CHUNK_TARGET_BYTES)
		log2++;
	/* No point in chunks larger than every slot the brain may use. */
	while (log2 > 0 && ((uint64_t)1 << (log2 - 1)) >= max_slots)
		log2--;
	return log2;
}

/* Make slots [0, slots) storable. A failure changes nothing a caller can
 * see: a grown bitmap or an extra chunk is merely unused capacity. */
static int ensure(flat_index *f, size_t slots)
{
	size_t words = slots / 64 + (slots % 64 != 0);
	if (words > f->used_words) {
		/* Grow by half at least: adding slot after slot must not copy
		 * the bitmap every time a chunk is added. */
		size_t max_words = (size_t)f->max_slots / 64 + 1;
		size_t n = f->used_words + f->used_words / 2;
		n = BRAIN_MIN(BRAIN_MAX(n, words), BRAIN_MAX(max_words, words));
		int rc = brain__flat_used_resize(f, n);
		if (rc)
			return rc;
	}
	return brain__rows_reserve(&f->rows, slots);
}

int brain__flat_used_resize(flat_index *f, size_t words)
{
	/* not concurrent with searches: the callers are changes */
	_Atomic uint64_t *used = f->used_borrowed
	                                 ? brain__malloc_array(BRAIN_MAX(words, (size_t)1), sizeof *used)
	                                 : brain__realloc((void *)f->used, words * sizeof *used);
	if (!used)
		return brain__oom(words * sizeof *used, "flat index bitmap");
	if (f->used_borrowed && f->used_words)
		memcpy((void *)used, (const void *)f->used, f->used_words * sizeof *used);
	f->used_borrowed = false;
	memset((void *)(used + f->used_words), 0, (words - f->used_words) * sizeof *used);
	f->used = used;
	f->used_words = words;
	return BRAIN_OK;
}

int brain__flat_check_config(const char *who, const brain_index_config *config,
                             brain_index **out)
{
	if (!out)
		return brain__err(BRAIN_ENULL, "%s: out is NULL", who);
	*out = NULL;
	if (!config)
		return brain__err(BRAIN_ENULL, "%s: config is NULL", who);
	if (config->version < 1 || config->version > BRAIN_INDEX_VTABLE_VERSION)
		return brain__err(BRAIN_EVERSION, "%s: config version %u unknown (this library knows "
		                  "1..%u)", who, config->version, (unsigned)BRAIN_INDEX_VTABLE_VERSION);
	if (config->dimensions < 1 || config->dimensions > BRAIN_MAX_DIMENSIONS)
		return brain__err(BRAIN_EINVAL, "%s: dimensions %u not in [1, %u]", who,
		                  (unsigned)config->dimensions, (unsigned)BRAIN_MAX_DIMENSIONS);
	if (!brain__dist_batch_fn(config->metric, -1))
		return brain__err(BRAIN_EINVAL, "%s: metric %d is unknown", who, config->metric);
	return BRAIN_OK;
}

/* A new empty index, or NULL with the error reported. */
/* A new empty index whose rows hold the vector then `extra` bytes, rows
 * aligned to `align` (64 for the flat backend itself), or NULL with the
 * error reported. */

flat_index *brain__flat_make(const brain_index_config *config, unsigned chunk_log2, size_t extra,
                             size_t align, brain_elem elem)
{
	flat_index *f = brain__calloc(1, sizeof *f);
	if (!f) {
		brain__oom(sizeof *f, "flat index");
		return NULL;
	}
	size_t row_bytes = brain__elem_row_bytes(elem, config->dimensions) + extra;
	if (brain__rows_init_aligned(&f->rows, row_bytes, align, chunk_log2)) {
		brain__free(f);
		return NULL;
	}
	for (size_t i = 0; i < FRZ_STRIPES; i++) {
		pthread_mutex_init(&f->frz_mu[i], NULL);
		pthread_cond_init(&f->frz_cv[i], NULL);
	}
	pthread_mutex_init(&f->detached_mu, NULL);
	f->dim = config->dimensions;
	f->metric = config->metric;
	f->max_slots = config->max_slots;
	f->elem = elem;
	f->stride = f->rows.stride / sizeof(float);
	f->batch = brain__dist_batch_fn(config->metric, -1);
	f->multi = brain__dist_multi_fn(config->metric, -1);
	f->batch8 = elem == BRAIN_ELEM_F32 ? NULL : brain__dist8_batch_fn(config->metric, elem, -1);
	return f;
}

/* Integer rows cannot be unit vectors (cosine); Q8 rows are an inner
 * product's (IP, cosine). */
int brain__flat_check_elem(const brain_index_config *config, brain_elem elem)
{
	if (elem == BRAIN_ELEM_F32)
		return BRAIN_OK;
	if (elem != BRAIN_ELEM_U8 && elem != BRAIN_ELEM_I8 && elem != BRAIN_ELEM_Q8)
		return brain__err(BRAIN_EINVAL, "flat: element type %d is unknown", (int)elem);
	if (!brain__dist8_batch_fn(config->metric, elem, -1))
		return brain__err(BRAIN_EINVAL, elem == BRAIN_ELEM_Q8
		                                    ? "flat: quantised rows need the cosine or IP "
		                                      "metric, not %d"
		                                    : "flat: 8-bit rows need the L2 or IP metric, not %d",
		                  config->metric);
	return BRAIN_OK;
}

int brain__flat_open_ex(const brain_index_config *config, size_t extra, size_t align,
                        brain_elem elem, brain_index **out)
{
	int rc = brain__flat_check_config("flat", config, out);
	if (rc == BRAIN_OK)
		rc = brain__flat_check_elem(config, elem);
	if (rc)
		return rc;
	size_t row_bytes = brain__elem_row_bytes(elem, config->dimensions) + extra;
	/* rows_init cannot refuse: the row size is at most 256 KiB plus the
	 * extra, and chunk_log2 <= 16. */
	flat_index *f = brain__flat_make(
		config, chunk_log2_for((row_bytes + align - 1) & ~(align - 1), config->max_slots), extra,
		align, elem);
	if (!f)
		return brain_errcode() ? brain_errcode() : BRAIN_ENOMEM;
	*out = (brain_index *)(void *)f;
	return BRAIN_OK;
}

static int flat_open(const brain_index_config *config, brain_index **out)
{
	return brain__flat_open_ex(config, 0, 64, BRAIN_ELEM_F32, out);
}

/* The saved form: this header, the bitmap, zeros up to a 4096-byte
 * boundary, then the rows chunk by chunk (the last chunk whole), exactly
 * as brain_rows lays them out, so that load uses them in place. */
#define FLAT_MAGIC 0x54414c46u /* "FLAT" */
#define FLAT_PAGE 4096u

typedef struct flat_saved {
	uint32_t magic;
	uint32_t version; /* 1: float rows; 2: the element type follows */
	uint32_t dimensions;
	uint32_t metric;
	uint32_t chunk_log2;
	uint32_t stride_bytes;
	uint64_t count;
	uint64_t used_words;
	uint64_t nchunks;
	/* ---- version 2 ---- */
	uint32_t elem;     /* brain_elem */
	uint32_t reserved; /* 0 */
} flat_saved;
_Static_assert(sizeof(flat_saved) == 56, "flat header layout");
/* Float rows are still saved as version 1 (48 bytes), which every reader
 * of this format knows; 8-bit rows need version 2. */
#define FLAT_SAVED_V1_BYTES ((size_t)48)

static size_t flat_header_bytes(uint32_t version)
{
	return version == 1 ? FLAT_SAVED_V1_BYTES : sizeof(flat_saved);
}

static size_t rows_offset(size_t header, uint64_t used_words)
{
	size_t head = header + (size_t)used_words * sizeof(uint64_t);
	return (head + FLAT_PAGE - 1) & ~(size_t)(FLAT_PAGE - 1);
}

static int flat_save(const brain_index *index, const brain_index_writer *w)
{
	const flat_index *f = cflat_of(index);
	/* Trailing empty words are not saved, nor chunks past the last used
	 * slot. */
	size_t words = f->used_words;
	while (words && f->used[words - 1] == 0)
		words--;
	size_t slots = words * 64;
	size_t per = (size_t)1 << f->rows.chunk_log2;
	size_t nchunks = BRAIN_MIN((slots + per - 1) / per, f->rows.nchunks);
	uint32_t version = f->elem == BRAIN_ELEM_F32 ? 1 : 2;
	size_t hsize = flat_header_bytes(version);
	flat_saved h = {FLAT_MAGIC, version, f->dim, (uint32_t)f->metric, f->rows.chunk_log2,
	                (uint32_t)f->rows.stride, f->count, words, nchunks, (uint32_t)f->elem, 0};
	int rc = w->write(w->payload, &h, hsize);
	if (rc == BRAIN_OK && words)
		rc = w->write(w->payload, (const void *)f->used, words * sizeof *f->used);
	static const unsigned char zeros[FLAT_PAGE];
	size_t pad = rows_offset(hsize, words) - hsize - words * sizeof *f->used;
	if (rc == BRAIN_OK && pad)
		rc = w->write(w->payload, zeros, pad);
	size_t cb = brain__rows_chunk_bytes(&f->rows);
	for (size_t i = 0; rc == BRAIN_OK && i < nchunks; i++)
		rc = w->write(w->payload, f->rows.chunks[i], cb);
	return rc;
}

int brain__flat_load_ex(const brain_index_config *config, size_t extra, size_t align,
                        brain_elem elem, void *data, size_t len, brain_index **out)
{
	int rc = brain__flat_check_config("flat", config, out);
	if (rc == BRAIN_OK)
		rc = brain__flat_check_elem(config, elem);
	if (rc)
		return rc;
	flat_saved h;
	memset(&h, 0, sizeof h);
	if (len >= 2 * sizeof(uint32_t))
		memcpy(&h, data, 2 * sizeof(uint32_t)); /* magic, version */
	size_t hsize = flat_header_bytes(h.version);
	if (len < hsize)
		return brain__err(BRAIN_ECORRUPT, "flat: saved index of %zu bytes is too short", len);
	memcpy(&h, data, hsize);
	if (h.magic == FLAT_MAGIC && h.version > 2)
		return brain__err(BRAIN_EVERSION, "flat: saved index is version %u, this library "
		                  "reads 1 and 2 (written by a newer braincore)", h.version);
	if (h.magic != FLAT_MAGIC || h.version < 1 || h.reserved)
		return brain__err(BRAIN_ECORRUPT, "flat: saved index has magic 0x%08x version %u",
		                  h.magic, h.version);
	if (h.elem != (uint32_t)elem)
		return brain__err(BRAIN_ECORRUPT, "flat: saved rows hold element type %u, expected %d",
		                  h.elem, (int)elem);
	if (h.dimensions != config->dimensions || h.metric != (uint32_t)config->metric)
		return brain__err(BRAIN_ECORRUPT, "flat: saved index is %u-d metric %u, the brain "
		                  "%u-d metric %d", h.dimensions, h.metric, config->dimensions,
		                  config->metric);
	if (h.chunk_log2 > CHUNK_MAX_LOG2 || h.used_words > ((uint64_t)UINT32_MAX + 1) / 64 ||
	    h.count > h.used_words * 64)
		return brain__err(BRAIN_ECORRUPT, "flat: saved index geometry out of range");
	flat_index *f = brain__flat_make(config, h.chunk_log2, extra, align, elem);
	if (!f)
		return brain_errcode() ? brain_errcode() : BRAIN_ENOMEM;
	size_t per = (size_t)1 << h.chunk_log2;
	size_t cb = brain__rows_chunk_bytes(&f->rows);
	size_t roff = rows_offset(hsize, h.used_words);
	/* every occupied slot must lie in a saved chunk */
	uint64_t top = 0; /* one past the highest occupied slot */
	const uint64_t *bits = (const uint64_t *)(const void *)((unsigned char *)data + hsize);
	for (uint64_t w = h.used_words; roff <= len && w > 0 && top == 0; w--) {
		uint64_t word;
		memcpy(&word, bits + w - 1, sizeof word);
		if (word)
			top = (w - 1) * 64 + 64 - (uint64_t)__builtin_clzll(word);
	}
	if (h.stride_bytes != f->rows.stride || roff > len ||
	    h.nchunks > (h.used_words * 64 + per - 1) / per || top > h.nchunks * per ||
	    (len - roff) / cb < h.nchunks) {
		brain__free(f);
		return brain__err(BRAIN_ECORRUPT, "flat: saved index of %zu bytes does not hold its "
		                  "%llu rows", len, (unsigned long long)h.used_words * 64);
	}
	unsigned char *bytes = data;
	f->used = h.used_words ? (_Atomic uint64_t *)(void *)(bytes + hsize) : NULL;
	f->used_words = (size_t)h.used_words;
	f->used_borrowed = true;
	size_t count = 0;
	for (size_t i = 0; i < f->used_words; i++)
		count += (size_t)__builtin_popcountll(f->used[i]);
	if (count != h.count) {
		brain__free(f);
		return brain__err(BRAIN_ECORRUPT, "flat: saved index holds %zu vectors, its header "
		                  "says %llu", count, (unsigned long long)h.count);
	}
	f->count = count;
	rc = brain__rows_adopt(&f->rows, bytes + roff, (size_t)h.nchunks * per);
	if (rc) {
		brain__free(f);
		return rc;
	}
	*out = (brain_index *)(void *)f;
	return BRAIN_OK;
}

static int flat_load(const brain_index_config *config, void *data, size_t len,
                     brain_index **out)
{
	return brain__flat_load_ex(config, 0, 64, BRAIN_ELEM_F32, data, len, out);
}

void brain__flat_view(const brain_index *index, brain_flat_view *v)
{
	const flat_index *f = cflat_of(index);
	v->chunks = f->rows.chunks;
	v->chunk_log2 = f->rows.chunk_log2;
	v->stride = f->rows.stride;
	v->used = f->used;
	v->used_words = f->used_words;
	v->capacity = brain__rows_capacity(&f->rows);
}

size_t brain__flat_capacity(const brain_index *index)
{
	return brain__rows_capacity(&cflat_of(index)->rows);
}

size_t brain__flat_count(const brain_index *index)
{
	return cflat_of(index)->count;
}

static void flat_close(brain_index *index)
{
	if (!index)
		return;
	flat_index *f = flat_of(index);
	brain__rows_free(&f->rows);
	brain__flat_files_release(f); /* after the rows: they may lie in its segments */
	if (!f->used_borrowed)
		brain__free((void *)f->used);
	for (size_t i = 0; i < f->frz_cap; i++)
		brain__free(f->frz_copy[i]);
	brain__free((void *)f->frz);
	brain__free(f->frz_copy);
	for (size_t i = 0; i < FRZ_STRIPES; i++) {
		pthread_mutex_destroy(&f->frz_mu[i]);
		pthread_cond_destroy(&f->frz_cv[i]);
	}
	pthread_mutex_destroy(&f->detached_mu);
	brain__free(f);
}

static int flat_reserve(brain_index *index, uint32_t slots)
{
	flat_index *f = flat_of(index);
	/* Room beyond max_slots could never be used. */
	return ensure(f, BRAIN_MIN(slots, f->max_slots));
}

static int check_slot(const flat_index *f, uint32_t slot, const char *op)
{
	if (slot >= f->max_slots)
		return brain__err(BRAIN_EINVAL, "flat: %s: slot %u is not below max_slots %u", op,
		                  (unsigned)slot, (unsigned)f->max_slots);
	return BRAIN_OK;
}

bool brain__flat_checks_values(const brain_index *index)
{
	const flat_index *f = cflat_of(index);
	return f->elem != BRAIN_ELEM_F32 && f->elem != BRAIN_ELEM_Q8;
}

int brain__flat_check_vector(const brain_index *index, const float *vector, const char *op)
{
	const flat_index *f = cflat_of(index);
	if (!brain__flat_checks_values(index))
		return BRAIN_OK;
	float lo = f->elem == BRAIN_ELEM_U8 ? 0.0f : -128.0f;
	float hi = f->elem == BRAIN_ELEM_U8 ? 255.0f : 127.0f;
	for (uint32_t i = 0; i < f->dim; i++) {
		float v = vector[i];
		/* NaN fails both comparisons; 1e30 is caught by the range before
		 * the cast */
		if (!(v >= lo && v <= hi) || v != (float)(int)v)
			return brain__err(BRAIN_EINVAL, "flat: %s: component %u is %g, which %s rows "
			                  "cannot hold (integers %d..%d only)", op, (unsigned)i, (double)v,
			                  f->elem == BRAIN_ELEM_U8 ? "uint8" : "int8", (int)lo, (int)hi);
	}
	return BRAIN_OK;
}

static int flat_add(brain_index *index, uint32_t slot, const float *vector)
{
	flat_index *f = flat_of(index);
	if (!vector)
		return brain__err(BRAIN_ENULL, "flat: add: vector is NULL");
	int rc = check_slot(f, slot, "add");
	if (rc)
		return rc;
	if (is_used(f, slot))
		return brain__err(BRAIN_EINVAL, "flat: add: slot %u is already occupied", (unsigned)slot);
	rc = brain__flat_check_vector(index, vector, "add");
	if (rc == BRAIN_OK)
		rc = ensure(f, (size_t)slot + 1);
	if (rc)
		return rc;
	brain__flat_will_write(index, slot);
	brain__elem_store(f->elem, vector, f->dim, f->metric == BRAIN_METRIC_COSINE, row_of(f, slot));
	f->used[slot / 64] |= (uint64_t)1 << (slot % 64);
	f->count++;
	return BRAIN_OK;
}

static int flat_remove(brain_index *index, uint32_t slot)
{
	flat_index *f = flat_of(index);
	int rc = check_slot(f, slot, "remove");
	if (rc)
		return rc;
	if (!is_used(f, slot))
		return brain__err(BRAIN_ENOTFOUND, "flat: remove: slot %u holds no vector",
		                  (unsigned)slot);
	f->used[slot / 64] &= ~((uint64_t)1 << (slot % 64));
	f->count--;
	/* A forgotten memory's vector should not linger in memory (or, once
	 * rows are file-backed, on disk). */
	brain__flat_will_write(index, slot);
	memset(row_of(f, slot), 0, brain__elem_row_bytes(f->elem, f->dim));
	return BRAIN_OK;
}

static int flat_get(const brain_index *index, uint32_t slot, float *vector)
{
	const flat_index *f = cflat_of(index);
	if (!vector)
		return brain__err(BRAIN_ENULL, "flat: get: vector is NULL");
	int rc = check_slot(f, slot, "get");
	if (rc)
		return rc;
	if (!is_used(f, slot))
		return brain__err(BRAIN_ENOTFOUND, "flat: get: slot %u holds no vector", (unsigned)slot);
	if (f->elem == BRAIN_ELEM_F32)
		memcpy(vector, row_of(f, slot), f->dim * sizeof(float));
	else
		brain__elem_widen(f->elem, row_of(f, slot), f->dim, vector);
	return BRAIN_OK;
}

/* Rows whose distances are computed this many ahead of their fetch: a
 * filtered search hands slots spread over the rows, which the hardware
 * prefetcher cannot guess. */
#define DISTANCES_AHEAD 8

static inline void prefetch_row(const void *row, size_t bytes)
{
	const char *p = row;
	for (size_t off = 0; off < bytes; off += 64)
		__builtin_prefetch(p + off, 0, 3);
}

static int flat_distances(const brain_index *index, const float *query, const uint32_t *slots,
                          size_t n, float *out)
{
	const flat_index *f = cflat_of(index);
	size_t row_bytes = f->elem == BRAIN_ELEM_F32 ? f->dim * sizeof(float)
	                                             : brain__elem_row_bytes(f->elem, f->dim);
	for (size_t i = 0; i < n; i++) {
		int rc = check_slot(f, slots[i], "distances");
		if (rc)
			return rc;
		if (!is_used(f, slots[i]))
			return brain__err(BRAIN_ENOTFOUND, "flat: distances: slot %u holds no vector",
			                  (unsigned)slots[i]);
	}
	for (size_t i = 0; i < n && i < DISTANCES_AHEAD; i++)
		prefetch_row(row_of(f, slots[i]), BRAIN_MIN(row_bytes, (size_t)512));
	for (size_t i = 0; i < n; i++) {
		if (i + DISTANCES_AHEAD < n)
			prefetch_row(row_of(f, slots[i + DISTANCES_AHEAD]),
			             BRAIN_MIN(row_bytes, (size_t)512));
		/* the exact scan's kernel, one row at a time: the same distances */
		if (f->elem == BRAIN_ELEM_F32)
			f->batch(query, row_of(f, slots[i]), 1, f->stride, f->dim, &out[i]);
		else
			f->batch8(query, row_of(f, slots[i]), 1, f->rows.stride, f->dim, &out[i]);
	}
	return BRAIN_OK;
}

/* ---- search ------------------------------------------------------------ */

/* A max-heap of (distance, slot) by that order, in the caller's arrays. */
typedef struct heap {
	uint32_t *slot;
	float *dist;
	size_t size;
	size_t cap;
} heap;

static inline bool worse(float da, uint32_t sa, float db, uint32_t sb)
{
	return da > db || (da == db && sa > sb);
}

static void sift_down(heap *h, size_t i, size_t n)
{
	float d = h->dist[i];
	uint32_t s = h->slot[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && worse(h->dist[c + 1], h->slot[c + 1], h->dist[c], h->slot[c]))
			c++;
		if (!worse(h->dist[c], h->slot[c], d, s))
			break;
		h->dist[i] = h->dist[c];
		h->slot[i] = h->slot[c];
		i = c;
	}
	h->dist[i] = d;
	h->slot[i] = s;
}

static void push(heap *h, float d, uint32_t s)
{
	size_t i = h->size++;
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!worse(d, s, h->dist[p], h->slot[p]))
			break;
		h->dist[i] = h->dist[p];
		h->slot[i] = h->slot[p];
		i = p;
	}
	h->dist[i] = d;
	h->slot[i] = s;
}

/* Offer slot s at distance d; slots arrive in increasing order. */
static inline void offer(heap *h, float d, uint32_t s)
{
	if (h->size < h->cap) {
		/* NaN (only from inputs so large that the sums overflow) would
		 * break the heap order; it ranks last, as +inf. Once the heap is
		 * full, `d < worst` is false for NaN, so it never gets in. */
		push(h, isnan(d) ? INFINITY : d, s);
	} else if (d < h->dist[0]) {
		h->dist[0] = d;
		h->slot[0] = s;
		sift_down(h, 0, h->size);
	}
}

/* In place: the heap becomes sorted nearest first (heapsort of a max-heap
 * by (distance, slot) leaves it ascending, ties by smaller slot). */
static void sort_heap(heap *h)
{
	for (size_t n = h->size; n > 1; n--) {
		float d = h->dist[0];
		uint32_t s = h->slot[0];
		h->dist[0] = h->dist[n - 1];
		h->slot[0] = h->slot[n - 1];
		h->dist[n - 1] = d;
		h->slot[n - 1] = s;
		sift_down(h, 0, n - 1);
	}
}

/* Rows handed to the batch kernel at once (its output lives on the stack).
 * Long runs matter: the kernels walk a run as a few sequential streams,
 * which is what lets the hardware prefetcher keep up with memory. */
#define RUN_MAX 256

/* The distances d[0..n) of slots [slot, slot + n) offered to the heap. */
static inline void offer_run(heap *h, const float *d, size_t n, size_t slot)
{
	size_t i = 0;
	/* Until the heap is full every row goes in. */
	for (; i < n && h->size < h->cap; i++)
		offer(h, d[i], (uint32_t)(slot + i));
	/* Then the common case is one comparison with the k-th best, kept in
	 * a register across rows. */
	float worst = h->size ? h->dist[0] : INFINITY;
	for (; i < n; i++) {
		if (BRAIN_LIKELY(!(d[i] < worst)))
			continue;
		offer(h, d[i], (uint32_t)(slot + i));
		worst = h->dist[0];
	}
}

/* Distances to the run of slots [slot, slot + len), which are all
 * occupied and accepted; split where chunks end, since rows are contiguous
 * only within a chunk. */
static void scan_run(const flat_index *f, const float *query, size_t slot, size_t len, heap *h)
{
	float dbuf[RUN_MAX];
	size_t chunk_mask = ((size_t)1 << f->rows.chunk_log2) - 1;
	while (len > 0) {
		size_t n = BRAIN_MIN(len, chunk_mask + 1 - (slot & chunk_mask));
		n = BRAIN_MIN(n, RUN_MAX);
		if (f->elem == BRAIN_ELEM_F32)
			f->batch(query, row_of(f, slot), n, f->stride, f->dim, dbuf);
		else
			f->batch8(query, row_of(f, slot), n, f->rows.stride, f->dim, dbuf);
		offer_run(h, dbuf, n, slot);
		slot += n;
		len -= n;
	}
}

/* Occupied slots of bitmap word w that the filter accepts. */
static uint64_t accepted_bits(uint64_t bits, size_t w, const brain_index_filter *filter)
{
	/* Ask the filter first: a rejected slot costs a call, not a
	 * distance. */
	uint64_t accepted = 0;
	for (uint64_t b = bits; b; b &= b - 1) {
		unsigned i = (unsigned)__builtin_ctzll(b);
		if (filter->accept((uint32_t)(w * 64 + i), filter->payload))
			accepted |= (uint64_t)1 << i;
	}
	return accepted;
}

/* Calls fn(f, slot, len, ctx) for each run of occupied slots the filter
 * (NULL: none) accepts, [slot, slot + len), runs of set bits joined
 * across words, in increasing order. */
typedef void (*run_fn)(const flat_index *f, size_t slot, size_t len, void *ctx);

static void each_run(const flat_index *f, const brain_index_filter *filter, run_fn fn, void *ctx)
{
	size_t run = 0, run_len = 0;
	for (size_t w = 0; w < f->used_words; w++) {
		uint64_t bits = f->used[w];
		if (bits && filter)
			bits = accepted_bits(bits, w, filter);
		while (bits) {
			unsigned start = (unsigned)__builtin_ctzll(bits);
			uint64_t rest = ~(bits >> start);
			unsigned len = rest ? (unsigned)__builtin_ctzll(rest) : 64 - start;
			size_t slot = w * 64 + start;
			if (slot == run + run_len) {
				run_len += len;
			} else {
				if (run_len)
					fn(f, run, run_len, ctx);
				run = slot;
				run_len = len;
			}
			bits = len == 64 ? 0 : bits & ~((((uint64_t)1 << len) - 1) << start);
		}
	}
	if (run_len)
		fn(f, run, run_len, ctx);
}

typedef struct one_query {
	const float *query;
	heap *h;
} one_query;

static void scan_one(const flat_index *f, size_t slot, size_t len, void *ctx)
{
	const one_query *oq = ctx;
	scan_run(f, oq->query, slot, len, oq->h);
}

static int flat_search(const brain_index *index, const float *query, size_t k,
                       const brain_index_filter *filter, uint32_t *slots, float *distances,
                       size_t *found)
{
	const flat_index *f = cflat_of(index);
	if (!found)
		return brain__err(BRAIN_ENULL, "flat: search: found is NULL");
	*found = 0;
	if (!query)
		return brain__err(BRAIN_ENULL, "flat: search: query is NULL");
	if (k > 0 && (!slots || !distances))
		return brain__err(BRAIN_ENULL, "flat: search: slots or distances is NULL");
	if (filter && !filter->accept)
		return brain__err(BRAIN_ENULL, "flat: search: filter has no accept function");
	heap h = {slots, distances, 0, BRAIN_MIN(k, f->count)};
	if (h.cap == 0)
		return BRAIN_OK;
	one_query oq = {query, &h};
	each_run(f, filter, scan_one, &oq);
	sort_heap(&h);
	*found = h.size;
	return BRAIN_OK;
}

/* Queries a scan for many carries through the rows at once: their heaps
 * and a run's distances (MANY_QUERIES x RUN_MAX floats, 16 KiB) stay in
 * cache while each run of rows is read from memory once for all of them
 * (the kernel passes over the run, from cache, once per 4 queries with
 * AVX-512, 2 with AVX2, 1 at the scalar level). */
#define MANY_QUERIES 16

/* scan_run() for nq <= MANY_QUERIES queries: the many-query kernel gives
 * each query the batch kernel's distances bit for bit, so each heap ends
 * as flat_search() would leave it. */
typedef struct many_queries {
	const float *const *q;
	size_t nq;
	heap *h;
	float *dbuf;
} many_queries;

static void scan_run_many(const flat_index *f, size_t slot, size_t len, void *ctx)
{
	const many_queries *mq = ctx;
	size_t chunk_mask = ((size_t)1 << f->rows.chunk_log2) - 1;
	while (len > 0) {
		size_t n = BRAIN_MIN(len, chunk_mask + 1 - (slot & chunk_mask));
		n = BRAIN_MIN(n, RUN_MAX);
		f->multi(mq->q, mq->nq, row_of(f, slot), n, f->stride, f->dim, mq->dbuf);
		for (size_t j = 0; j < mq->nq; j++)
			offer_run(&mq->h[j], mq->dbuf + j * n, n, slot);
		slot += n;
		len -= n;
	}
}

int brain__flat_search_many(const brain_index *index, const float *queries, size_t nq, size_t k,
                            uint32_t *slots, float *distances, size_t *found)
{
	const flat_index *f = cflat_of(index);
	if (f->elem != BRAIN_ELEM_F32 || !f->multi)
		return brain__err(BRAIN_EINVAL, "flat: search_many: float rows only");
	size_t cap = BRAIN_MIN(k, f->count);
	float *dbuf = brain__malloc_array(MANY_QUERIES * RUN_MAX, sizeof *dbuf);
	if (!dbuf)
		return brain__oom(MANY_QUERIES * RUN_MAX * sizeof *dbuf, "flat: search_many");
	for (size_t first = 0; first < nq; first += MANY_QUERIES) {
		size_t g = BRAIN_MIN((size_t)MANY_QUERIES, nq - first);
		const float *q[MANY_QUERIES];
		heap h[MANY_QUERIES];
		for (size_t j = 0; j < g; j++) {
			q[j] = queries + (first + j) * f->dim;
			h[j] = (heap){slots + (first + j) * k, distances + (first + j) * k, 0, cap};
		}
		many_queries mq = {q, g, h, dbuf};
		if (cap)
			each_run(f, NULL, scan_run_many, &mq);
		for (size_t j = 0; j < g; j++) {
			sort_heap(&h[j]);
			found[first + j] = h[j].size;
		}
	}
	brain__free(dbuf);
	return BRAIN_OK;
}

/* Every plan is carried out the same way: a scan is what this backend is. */
static int flat_search_planned(const brain_index *index, const brain_index_search *plan,
                               uint32_t *slots, float *distances, size_t *found)
{
	return flat_search(index, plan->query, plan->k, plan->filter, slots, distances, found);
}

static int flat_open_files(const brain_index_config *config, const brain_index_files *files,
                           void *desc, size_t len, brain_index **out)
{
	return brain__flat_open_files(config, 0, 64, BRAIN_ELEM_F32, files, desc, len, out);
}

static int flat_info(const brain_index *index, brain_index_info *out)
{
	memset(out, 0, sizeof *out);
	out->count = cflat_of(index)->count;
	return BRAIN_OK; /* exact, and built with nothing to report */
}

static size_t flat_memory_usage(const brain_index *index)
{
	const flat_index *f = cflat_of(index);
	/* heap and mapped alike: rows adopted from an image count too */
	return sizeof *f + brain__rows_memory(&f->rows) +
	       f->rows.nborrowed * brain__rows_chunk_bytes(&f->rows) +
	       f->used_words * sizeof *f->used;
}

bool brain__flat_would_shrink(const brain_index *index, uint32_t slots)
{
	const flat_index *f = cflat_of(index);
	size_t per = (size_t)1 << f->rows.chunk_log2;
	return ((size_t)slots + per - 1) / per < f->rows.nchunks;
}

int brain__flat_shrink(brain_index *index, uint32_t slots)
{
	flat_index *f = flat_of(index);
	size_t per = (size_t)1 << f->rows.chunk_log2;
	size_t keep = ((size_t)slots + per - 1) / per, first = keep * per;
	if (keep >= f->rows.nchunks)
		return BRAIN_OK;
	for (size_t w = first / 64; w < f->used_words; w++) {
		uint64_t bits = atomic_load_explicit(&f->used[w], memory_order_relaxed);
		if (w == first / 64)
			bits &= ~(uint64_t)0 << (first % 64);
		if (bits)
			return brain__err(BRAIN_EINVAL, "flat: shrink to %u slots: slot %zu is occupied",
			                  (unsigned)slots, w * 64 + (size_t)__builtin_ctzll(bits));
	}
	/* a checkpoint under way still gets these chunks as they were at its
	 * freeze: each is copied first, as a change of one of its rows would */
	size_t nfrz = atomic_load_explicit(&f->nfrz, memory_order_acquire);
	for (size_t c = keep; c < BRAIN_MIN(nfrz, f->rows.nchunks); c++)
		brain__flat_will_write(index, c * per);
	brain__rows_shrink(&f->rows, first);
	return BRAIN_OK;
}

static int flat_shrink(brain_index *index, uint32_t slots)
{
	return brain__flat_shrink(index, slots);
}

/* The flat store writes nothing at a freeze: its descriptor comes whole
 * from flush_frozen (flat_files.c). */
static int flat_freeze(brain_index *index, const brain_index_writer *w, void **frozen)
{
	(void)w;
	return brain__flat_freeze(index, frozen);
}

const brain_index_vtable brain__index_flat = {
	.version = BRAIN_INDEX_VTABLE_VERSION,
	.name = "flat",
	.capabilities = BRAIN_INDEX_CAP_EXACT | BRAIN_INDEX_CAP_FILTER | BRAIN_INDEX_CAP_PLANNED,
	.open = flat_open,
	.reserve = flat_reserve,
	.add = flat_add,
	.remove = flat_remove,
	.get = flat_get,
	.search = flat_search,
	.memory_usage = flat_memory_usage,
	.close = flat_close,
	.save = flat_save,
	.load = flat_load,
	.info = flat_info,
	.search_planned = flat_search_planned,
	.flush = brain__flat_flush,
	.open_files = flat_open_files,
	.retire = brain__flat_retire,
	.freeze = flat_freeze,
	.flush_frozen = brain__flat_flush_frozen,
	.thaw = brain__flat_thaw,
	.shrink = flat_shrink,
	.release = brain__flat_release,
	.distances = flat_distances,
};
