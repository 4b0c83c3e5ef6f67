/*
 * index/hnsw_file.c - the saved form of an hnsw index, read in place: a
 * header (hnsw_saved), each slot's level, each group's pool offset, the
 * upper layers' pool, then (page-aligned) the flat store's own image,
 * whose rows carry the vectors, the bottom-layer links and the codes.
 * Saving writes it; loading checks it and borrows its arrays.
 *
 * At a checkpoint of an on-disk brain (flush, index vtable version 4) the
 * same head is written, and in place of the store's image the flat
 * store's descriptor of its own files: only the row chunks that changed
 * are written (index/flat_files.c). The upper layers, a small part of the
 * graph, are in the head and written whole each time.
 *
 * Version 3 adds the tail: the slots stored but not yet in the graph
 * (their vectors are in the rows, their links not yet written), listed
 * after the upper layers; loading puts them back in the tail, for build().
 *
 * Version 4 keeps the graph's head apart from the stored vectors: the
 * store starts at a BRAIN_INDEX_CHECK_BLOCK boundary (the brain's checksum
 * blocks), after a copy of the header at that boundary, and no head byte
 * shares a checksum block with it. When the head is damaged, rebuild()
 * finds the copy (the first such boundary whose blocks to the end all
 * pass their checksums and whose header places the store right after
 * it), opens the store, and puts every stored vector in the tail: the
 * graph is built again by build() while searches scan them exactly.
 */
#include <math.h>
#include <string.h>

#include "index/hnsw_internal.h"

#define HNSW_MAGIC 0x57534e48u /* "HNSW" */
#define PAGE 4096u

typedef struct hnsw_saved {
	uint32_t magic;
	uint32_t version;
	uint32_t M, M0, efc;
	uint32_t graph;     /* 1: the graph exists */
	int32_t max_level;  /* -1: empty */
	uint32_t entry;
	uint64_t seed;
	uint64_t cap;       /* slots with levels */
	uint64_t pool_len;  /* u32 words of upper layers */
	uint32_t has_store; /* 0: nothing was ever added */
	uint32_t sq8;       /* rows carry 8-bit codes */
	uint32_t sq_ready;  /* the codes are written */
	float sq_lo, sq_step;
	uint32_t row_align; /* of the flat rows; 0: 4 (images before it) */
	/* ---- version 2 ---- */
	uint32_t exact_below; /* HNSW_EXACT_BELOW when saved (capped to 2^32 - 1) */
	uint32_t elem;        /* HNSW_ELEMENT: 0 floats, 1 uint8, 2 int8, 3 int8 + scale */
	/* ---- version 3 ---- */
	uint64_t pending;     /* slots in the tail, listed after the pool */
} hnsw_saved;
_Static_assert(sizeof(hnsw_saved) == 96, "hnsw header layout");
/* Version 1 headers end before exact_below, version 2 before pending. */
#define HNSW_SAVED_V1_BYTES ((size_t)80)
#define HNSW_SAVED_V2_BYTES ((size_t)88)

static size_t header_bytes(uint32_t version)
{
	return version == 1 ? HNSW_SAVED_V1_BYTES
	       : version == 2 ? HNSW_SAVED_V2_BYTES
	                      : sizeof(hnsw_saved);
}

static size_t pad4(size_t x)
{
	return (x + 3) & ~(size_t)3;
}

/* Bytes of the head: header, levels, groups, pool, tail. */
static uint64_t head_bytes(size_t header, uint64_t cap, uint64_t pool_len, uint64_t pending)
{
	return header + pad4((size_t)cap) + groups_for((size_t)cap) * 4 + pool_len * 4 +
	       pending * 4;
}

#define BLOCK ((uint64_t)BRAIN_INDEX_CHECK_BLOCK)

/* Where the copy of the header lies (version 4): the first checksum block
 * after the head. */
static uint64_t copy_offset(size_t header, uint64_t cap, uint64_t pool_len, uint64_t pending)
{
	return (head_bytes(header, cap, pool_len, pending) + BLOCK - 1) & ~(BLOCK - 1);
}

/* Offset of the flat store's bytes in the saved form. */
static uint64_t store_offset(uint32_t version, size_t header, uint64_t cap, uint64_t pool_len,
                             uint64_t pending)
{
	if (version >= 4)
		return copy_offset(header, cap, pool_len, pending) + PAGE;
	return (head_bytes(header, cap, pool_len, pending) + PAGE - 1) & ~(uint64_t)(PAGE - 1);
}

static int write_zeros(const brain_index_writer *w, uint64_t n)
{
	static const unsigned char zeros[PAGE];
	int rc = BRAIN_OK;
	while (rc == BRAIN_OK && n > 0) {
		size_t step = (size_t)BRAIN_MIN(n, (uint64_t)PAGE);
		rc = w->write(w->payload, zeros, step);
		n -= step;
	}
	return rc;
}

/* The head: header, levels, groups, upper layers, tail, and (with a
 * store) the zeros, the header's copy and the zeros before the store.
 * build_lock held exclusively. */
static int write_head(const hnsw *h, const brain_index_writer *w, const uint32_t *tail,
                      size_t pending)
{
	static const unsigned char zeros[4];
	int64_t below = brain__index_param(&h->cfg, BRAIN_PARAM_HNSW_EXACT_BELOW);
	uint32_t ep;
	int ml;
	top_get(h, &ep, &ml);
	hnsw_saved hd = {HNSW_MAGIC, 4, h->M, h->M0, h->efc, h->graph ? 1u : 0u, ml, ep,
	                 h->seed, h->cap, h->pool_len, h->store ? 1u : 0u, h->sq8 ? 1u : 0u,
	                 h->sq_ready ? 1u : 0u, h->sq_lo, h->sq_step, h->row_align,
	                 (uint32_t)BRAIN_MIN(BRAIN_MAX(below, 0), (int64_t)UINT32_MAX),
	                 (uint32_t)h->elem, pending};
	int rc = w->write(w->payload, &hd, sizeof hd);
	if (rc == BRAIN_OK && h->cap)
		rc = w->write(w->payload, h->levels, h->cap);
	if (rc == BRAIN_OK && pad4(h->cap) > h->cap)
		rc = w->write(w->payload, zeros, pad4(h->cap) - h->cap);
	if (rc == BRAIN_OK && h->cap)
		rc = w->write(w->payload, h->group_at, groups_for(h->cap) * sizeof *h->group_at);
	/* the pool word by word would be slow: its atomics are plain words */
	if (rc == BRAIN_OK && h->pool_len)
		rc = w->write(w->payload, (const void *)h->pool, h->pool_len * sizeof *h->pool);
	if (rc == BRAIN_OK && pending)
		rc = w->write(w->payload, tail, pending * sizeof *tail);
	/* the store apart, in checksum blocks of its own, after a copy of the
	 * header (for rebuild()) */
	uint64_t head = head_bytes(sizeof hd, h->cap, h->pool_len, pending);
	uint64_t copy = copy_offset(sizeof hd, h->cap, h->pool_len, pending);
	if (rc == BRAIN_OK && h->store)
		rc = write_zeros(w, copy - head);
	if (rc == BRAIN_OK && h->store)
		rc = w->write(w->payload, &hd, sizeof hd);
	if (rc == BRAIN_OK && h->store)
		rc = write_zeros(w, PAGE - sizeof hd);
	return rc;
}

/* The head, with the tail as it is now (build_lock held exclusively). */
static int write_head_now(hnsw *h, const brain_index_writer *w)
{
	uint32_t *tail = NULL;
	size_t pending = 0;
	int rc = brain__hnsw_tail_list(h, &tail, &pending);
	if (rc == BRAIN_OK)
		rc = write_head(h, w, tail, pending);
	brain__free(tail);
	return rc;
}

/* The head and then the store's image (files NULL) or its descriptor. */
static int save_to(hnsw *h, const brain_index_writer *w, const brain_index_files *files)
{
	build_wrlock(h);
	int rc = write_head_now(h, w);
	if (rc == BRAIN_OK && h->store)
		rc = files ? brain__flat_flush(h->store, files, w) : flat->save(h->store, w);
	pthread_rwlock_unlock(&h->build_lock);
	return rc;
}

/* A checkpoint in two steps (index vtable version 6): the head now, with
 * no insert under way, and the store frozen; its files and descriptor
 * later, beside changes and builds (their row writes copy the frozen
 * chunks first: will_write_links, brain__flat_will_write). */
int brain__hnsw_freeze(brain_index *index, const brain_index_writer *w, void **frozen)
{
	hnsw *h = hnsw_of(index);
	*frozen = NULL;
	build_wrlock(h);
	int rc = write_head_now(h, w);
	if (rc == BRAIN_OK && h->store)
		rc = brain__flat_freeze(h->store, frozen);
	pthread_rwlock_unlock(&h->build_lock);
	return rc;
}

int brain__hnsw_flush_frozen(brain_index *index, void *frozen, const brain_index_files *files,
                             const brain_index_writer *w)
{
	hnsw *h = hnsw_of(index);
	/* (no store at the freeze: the head said so, and nothing follows) */
	return frozen ? brain__flat_flush_frozen(h->store, frozen, files, w) : BRAIN_OK;
}

void brain__hnsw_thaw(brain_index *index, void *frozen)
{
	hnsw *h = hnsw_of(index);
	if (frozen)
		brain__flat_thaw(h->store, frozen);
}

int brain__hnsw_save(const brain_index *index, const brain_index_writer *w)
{
	return save_to((hnsw *)chnsw_of(index), w, NULL);
}

int brain__hnsw_flush(brain_index *index, const brain_index_files *files,
                      const brain_index_writer *w)
{
	return save_to(hnsw_of(index), w, files);
}

void brain__hnsw_retire(brain_index *index, const brain_index_files *files)
{
	hnsw *h = hnsw_of(index);
	if (h->store)
		brain__flat_retire(h->store, files);
}

/* Read and check a saved header at `data` (len bytes); *hsize gets its
 * size by its version. */
static int read_header(const void *data, size_t len, hnsw_saved *hd, size_t *hsize)
{
	memset(hd, 0, sizeof *hd);
	if (len >= 2 * sizeof(uint32_t))
		memcpy(hd, data, 2 * sizeof(uint32_t)); /* magic, version */
	*hsize = header_bytes(hd->version);
	if (len < *hsize)
		return brain__err(BRAIN_ECORRUPT, "hnsw: saved index of %zu bytes is too short", len);
	memcpy(hd, data, *hsize);
	if (hd->magic == HNSW_MAGIC && hd->version > 4)
		return brain__err(BRAIN_EVERSION, "hnsw: saved index is version %u, this library reads "
		                  "1 to 4 (written by a newer braincore)", hd->version);
	if (hd->magic != HNSW_MAGIC || hd->version < 1 || hd->elem > BRAIN_ELEM_Q8 ||
	    hd->has_store > 1 ||
	    (hd->has_store && (hd->M < 2 || hd->M > 100 || hd->M0 != 2 * hd->M || hd->efc == 0)) ||
	    hd->graph > 1 || hd->max_level > MAX_LEVEL || hd->max_level < -1 ||
	    hd->cap > (uint64_t)UINT32_MAX + 1 || hd->pool_len > UINT32_MAX ||
	    (!hd->has_store && (hd->cap || hd->graph)) || hd->pending > hd->cap ||
	    (hd->pending && !hd->graph))
		return brain__err(BRAIN_ECORRUPT, "hnsw: saved index header is out of range");
	return BRAIN_OK;
}

/* The graph's shape and the rows' form from a checked header. */
static int take_header(hnsw *h, const hnsw_saved *hd)
{
	h->row_align = hd->row_align ? hd->row_align : 4;
	if (h->row_align < 4 || h->row_align > 64 || (h->row_align & (h->row_align - 1)))
		return brain__err(BRAIN_ECORRUPT, "hnsw: saved row alignment %u is not 4..64",
		                  (unsigned)hd->row_align);
	h->M = hd->M;
	h->M0 = hd->M0;
	h->efc = hd->efc;
	h->seed = hd->seed;
	h->mult = 1.0 / log((double)BRAIN_MAX(h->M, 2u));
	h->graph = hd->graph != 0;
	if (hd->sq8 > 1 || hd->sq_ready > 1 || (hd->sq_ready && !hd->sq8) ||
	    !(hd->sq_step >= 0.0f && hd->sq_step < INFINITY) || !(fabsf(hd->sq_lo) < INFINITY))
		return brain__err(BRAIN_ECORRUPT, "hnsw: saved 8-bit range is out of range");
	h->sq8 = hd->sq8 != 0;
	h->sq_ready = hd->sq_ready != 0;
	h->sq_lo = hd->sq_lo;
	h->sq_step = hd->sq_step;
	int rc = brain__hnsw_use_elem(h, hd->elem);
	if (rc)
		return rc == BRAIN_EINVAL ? brain__err_context(BRAIN_ECORRUPT, "hnsw: saved index: ")
		                          : rc;
	h->code_off = brain__hnsw_code_off(h);
	h->saved.loaded = true;
	h->saved.shape = hd->has_store != 0;
	h->saved.exact_below_known = hd->version >= 2;
	h->saved.exact_below = hd->exact_below;
	return BRAIN_OK;
}

/* The store from its image (files NULL) or its own files. */
static int open_store(hnsw *h, const brain_index_files *files, unsigned char *bytes, size_t len)
{
	int rc = files ? brain__flat_open_files(&h->cfg, row_extra(h), h->row_align, h->elem, files,
	                                        bytes, len, &h->store)
	               : brain__flat_load_ex(&h->cfg, row_extra(h), h->row_align, h->elem, bytes,
	                                     len, &h->store);
	if (rc == BRAIN_OK)
		brain__flat_view(h->store, &h->fv);
	return rc;
}

/* The head, then the store from its image (files NULL) or its own files. */
static int load_from(const brain_index_config *config, const brain_index_files *files,
                     void *data, size_t len, brain_index **out)
{
	int rc = brain__hnsw_open(config, out);
	if (rc)
		return rc;
	hnsw *h = hnsw_of(*out);
	hnsw_saved hd;
	size_t hsize;
	unsigned char *bytes = data;
	rc = read_header(data, len, &hd, &hsize);
	if (rc == BRAIN_OK)
		rc = take_header(h, &hd);
	if (rc)
		goto fail;
	top_set(h, hd.entry, hd.max_level);
	if (!hd.has_store)
		return BRAIN_OK; /* shape read again at the first reserve */
	uint64_t off64 = store_offset(hd.version, hsize, hd.cap, hd.pool_len, hd.pending);
	size_t off = (size_t)off64;
	if (off64 > len) {
		rc = brain__err(BRAIN_ECORRUPT, "hnsw: saved index of %zu bytes does not hold its "
		                "%llu levels", len, (unsigned long long)hd.cap);
		goto fail;
	}
	h->levels = bytes + hsize;
	h->group_at = (uint32_t *)(void *)(bytes + hsize + pad4((size_t)hd.cap));
	h->pool = (brain_link *)(void *)(bytes + hsize + pad4((size_t)hd.cap) +
	                             groups_for((size_t)hd.cap) * 4);
	h->cap = (size_t)hd.cap;
	h->pool_len = (size_t)hd.pool_len;
	h->borrowed = true;
	/* each group's blocks start where the previous group's end, and all
	 * lie in the pool */
	uint64_t at = 0;
	for (size_t s = 0; s < h->cap; s++) {
		if (s % 64 == 0 && h->group_at[s / 64] != at) {
			rc = brain__err(BRAIN_ECORRUPT, "hnsw: slot group %zu starts at %u, not %llu",
			                s / 64, h->group_at[s / 64], (unsigned long long)at);
			goto fail;
		}
		if (h->levels[s] > MAX_LEVEL) {
			rc = brain__err(BRAIN_ECORRUPT, "hnsw: slot %zu has level %u", s, h->levels[s]);
			goto fail;
		}
		at += (uint64_t)h->levels[s] * (1 + h->M);
	}
	if (at != h->pool_len) {
		rc = brain__err(BRAIN_ECORRUPT, "hnsw: upper layers hold %llu words, the levels need "
		                "%llu", (unsigned long long)h->pool_len, (unsigned long long)at);
		goto fail;
	}
	rc = open_store(h, files, bytes + off, len - off);
	if (rc)
		goto fail;
	/* every stored node was wholly inserted before it was saved, but
	 * those of the tail, which go back into it */
	h->ready = brain__calloc(h->cap / 64 + 1, sizeof *h->ready);
	h->claimed = brain__calloc(h->cap / 64 + 1, sizeof *h->claimed);
	if (!h->ready || !h->claimed) {
		rc = brain__oom(2 * (h->cap / 64 + 1) * sizeof *h->ready, "hnsw ready bits");
		goto fail;
	}
	for (size_t s2 = 0; h->graph && s2 < h->cap && s2 < h->fv.capacity; s2++) {
		/* (no graph yet: no node is in one; the start puts them all in
		 * the tail) */
		if (brain__flat_view_used(&h->fv, (uint32_t)s2)) {
			set_ready(h, (uint32_t)s2, true);
			claim(h, (uint32_t)s2);
		}
	}
	const unsigned char *list = bytes + hsize + pad4((size_t)hd.cap) +
	                            groups_for((size_t)hd.cap) * 4 + (size_t)hd.pool_len * 4;
	for (uint64_t i = 0; i < hd.pending; i++) {
		uint32_t s2;
		memcpy(&s2, list + i * 4, sizeof s2);
		if (s2 >= h->cap || s2 >= h->fv.capacity || !brain__flat_view_used(&h->fv, s2) ||
		    !is_ready(h, s2)) {
			rc = brain__err(BRAIN_ECORRUPT, "hnsw: the saved tail names slot %u, which holds "
			                "no vector or is named twice", s2);
			goto fail;
		}
		set_ready(h, s2, false);
		unclaim(h, s2);
		rc = brain__hnsw_tail_push(h, s2);
		if (rc)
			goto fail;
	}
	h->sq_learned_at = brain__flat_count(h->store);
	return BRAIN_OK;
fail:
	brain__hnsw_close(*out);
	*out = NULL;
	return rc;
}

/* Version 4's copy of the header: at the first checksum-block boundary
 * that holds a header of version 4 placing the store right after itself,
 * whose blocks to the end must all pass (else BRAIN_ECORRUPT: no later
 * one is tried, as a store kept in the section could hold a lookalike).
 * The head before it is not trusted. */
static int find_copy(const unsigned char *bytes, size_t len, brain_index_verify_fn verify,
                     void *ctx, hnsw_saved *hd, size_t *copy)
{
	for (uint64_t off = BLOCK; off + PAGE <= len; off += BLOCK) {
		hnsw_saved c;
		size_t hsize;
		if (memcmp(bytes + off, &(uint32_t){HNSW_MAGIC}, sizeof(uint32_t)) != 0)
			continue;
		if (read_header(bytes + off, len - (size_t)off, &c, &hsize) || c.version != 4 ||
		    !c.has_store || copy_offset(hsize, c.cap, c.pool_len, c.pending) != off)
			continue;
		if (verify(ctx, (size_t)off, len - (size_t)off))
			break;
		*hd = c;
		*copy = (size_t)off;
		return BRAIN_OK;
	}
	return brain__err(BRAIN_ECORRUPT, "hnsw: the saved index is damaged and no whole copy of "
	                  "its stored vectors' description follows it (saved before version 4, or "
	                  "damaged too)");
}

int brain__hnsw_rebuild(const brain_index_config *config, const brain_index_files *files,
                        void *data, size_t len, brain_index_verify_fn verify, void *ctx,
                        brain_index **out)
{
	hnsw_saved hd;
	size_t copy = 0;
	unsigned char *bytes = data;
	int rc = find_copy(bytes, len, verify, ctx, &hd, &copy);
	if (rc)
		return rc;
	rc = brain__hnsw_open(config, out);
	if (rc)
		return rc;
	hnsw *h = hnsw_of(*out);
	rc = take_header(h, &hd);
	if (rc == BRAIN_OK)
		rc = open_store(h, files, bytes + copy + PAGE, len - copy - PAGE);
	/* a new graph over every stored vector: the levels again from the
	 * seed (as the first build drew them), no node in it yet, all in the
	 * tail, found by exact scans until build() has put them in */
	if (rc == BRAIN_OK)
		rc = brain__hnsw_grow_graph(h, BRAIN_MIN(h->fv.capacity, (size_t)h->cfg.max_slots));
	if (rc)
		goto fail;
	top_set(h, 0, -1);
	/* (no graph yet, as when saved: the start puts them all in the tail) */
	for (size_t s = 0; h->graph && s < h->cap && s < h->fv.capacity && rc == BRAIN_OK; s++)
		if (brain__flat_view_used(&h->fv, (uint32_t)s))
			rc = brain__hnsw_tail_push(h, (uint32_t)s);
	if (rc)
		goto fail;
	h->sq_learned_at = brain__flat_count(h->store);
	return BRAIN_OK;
fail:
	brain__hnsw_close(*out);
	*out = NULL;
	return rc;
}

int brain__hnsw_load(const brain_index_config *config, void *data, size_t len,
                     brain_index **out)
{
	return load_from(config, NULL, data, len, out);
}

int brain__hnsw_open_files(const brain_index_config *config, const brain_index_files *files,
                           void *desc, size_t len, brain_index **out)
{
	return load_from(config, files, desc, len, out);
}

static void built(brain_index_info *out, int param, int64_t value)
{
	if (out->nbuilt < BRAIN_ARRAY_LEN(out->built)) {
		out->built[out->nbuilt].param = param;
		out->built[out->nbuilt].value = value;
		out->nbuilt++;
	}
}

/* The graph's size and state, and, for an index loaded from an image, the
 * parameters it was saved with (a reopened brain reports, and builds by,
 * the graph it has): its shape when the image fixed one, and
 * HNSW_EXACT_BELOW from version 2 images on. */
int brain__hnsw_info(const brain_index *index, brain_index_info *out)
{
	const hnsw *h = chnsw_of(index);
	memset(out, 0, sizeof *out);
	out->count = h->store ? brain__flat_count(h->store) : 0;
	out->approximate = h->graph;
	out->pending = tail_len(h);
	if (!h->saved.loaded)
		return BRAIN_OK;
	if (h->saved.shape) {
		built(out, BRAIN_PARAM_HNSW_M, h->M);
		built(out, BRAIN_PARAM_HNSW_EF_CONSTRUCTION, h->efc);
		built(out, BRAIN_PARAM_HNSW_SEED, (int64_t)(h->seed & (uint64_t)INT64_MAX));
		built(out, BRAIN_PARAM_HNSW_SQ8, h->sq8);
		built(out, BRAIN_PARAM_HNSW_ELEMENT, h->elem);
	}
	if (h->saved.exact_below_known)
		built(out, BRAIN_PARAM_HNSW_EXACT_BELOW, h->saved.exact_below);
	return BRAIN_OK;
}
