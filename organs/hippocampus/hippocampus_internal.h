/*
 * organs/hippocampus/hippocampus_internal.h - what the Hippocampus's three
 * files share: its state, the layout of a record, small accessors and the
 * functions one file lends another.
 *
 *   hippocampus.c  the organ: its state's lifetime, its handler table
 *   store.c        the store: ids, records, slots, texts and the index
 *                  backend (every message of the Hippocampus)
 *   sections.c     the image: the checkpoint sections, saved and adopted
 *                  in place, and their checks
 *   postings.c     metadata: blobs per slot, fields, posting lists, and a
 *                  filter's evaluation (postings.h)
 *   edges_store.c  relations between memories (edges_store.h)
 *
 * Included only by the files of organs/hippocampus/: other organs reach
 * the Hippocampus through the Spine.
 */
#ifndef BRAIN_ORGANS_HIPPOCAMPUS_INTERNAL_H
#define BRAIN_ORGANS_HIPPOCAMPUS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "spine/spine.h"
#include "index/backend.h"
#include "base/hashmap.h"
#include "storage/image.h"
#include "storage/rows.h"
#include "organs/hippocampus/postings.h"
#include "organs/hippocampus/edges_store.h"
#include "index/keyword.h"

enum record_flag {
	RECORD_LIVE = 1u << 0,      /* the slot holds a memory */
	RECORD_HAS_TEXT = 1u << 1,  /* it has a text */
	RECORD_TEXT_HEAP = 1u << 2  /* `text` is a heap pointer, not an offset
	                               into the image's texts */
};
#define RECORD_FLAGS_KNOWN (RECORD_LIVE | RECORD_HAS_TEXT | RECORD_TEXT_HEAP)

/* A record is saved as it is in memory (48 bytes, little-endian), with
 * `text` an offset into the texts section. */
typedef struct record {
	brain_id id;
	uint64_t text; /* see RECORD_TEXT_HEAP */
	_Atomic int64_t accessed_ms;
	int64_t created_ms;
	uint32_t text_len;
	float importance;
	uint32_t flags;
	uint32_t reserved;
} record;
_Static_assert(sizeof(record) == 48, "record layout is saved in images");

/* Records per chunk of the row table: small, so that a brain of a few
 * memories stays small. */
#define RECORD_CHUNK_LOG2 8

typedef struct hippocampus {
	const brain_env *env;
	brain_spine *spine;  /* the Pancreas's words for the keyword index */
	uint32_t dims;
	const brain_index_vtable *vt;
	brain_index *index;
	brain_rows records;  /* slot -> record */
	brain_map ids;       /* id -> slot */
	uint32_t *free;      /* min-heap of the free slots (store.c; entries
	                        at or past next_slot are stale) */
	size_t nfree;
	size_t free_cap;
	uint32_t next_slot;  /* slots [0, next_slot) have been used */
	uint32_t max_slots;
	brain_id next_id;    /* next id to assign */
	_Atomic uint64_t count;
	_Atomic uint64_t text_count;
	size_t text_bytes;
	brain_image *image;  /* adopted from (a reference), or NULL */
	const char *texts;   /* the image's texts section (or its copy) */
	size_t texts_len;
	bool texts_owned;    /* texts is a heap copy (the image was let go) */
	/* HNSW_ELEMENT -1's choice, by the first memory stored (STORE with a
	 * text: 3, else 0; -1 before any): the index reads it at its first
	 * reserve, from any thread */
	_Atomic int auto_elem;
	/* the index section's checksums have been checked (index_ready), so
	 * h->image need not be read for it again; image_mu guards h->image
	 * for INDEX_BUILD, which runs under no brain lock */
	_Atomic bool index_verified;
	pthread_mutex_t image_mu;
	bool index_in_image; /* the index uses bytes of the image in place */
	bool image_kept;     /* the image stays mapped: damage found in it, or an
	                        index backend that may use it until close */
	char *texts_copy;    /* IMAGE_COPY's copies, taken into use by */
	brain_map_cell *ids_copy; /* IMAGE_RELEASE */
	_Atomic uint64_t damage; /* checksum failures found at run time */
	void *frozen;        /* a checkpoint's frozen index (INDEX_FINISH) */
	bool index_open;     /* its save left the index section open */
	bool index_rebuilt;  /* the image's index was damaged: the backend
	                        rebuilt it from its stored vectors, which
	                        alone it uses (verified) */
	meta_store meta;     /* metadata and its posting lists (postings.h) */
	rel_store rels;      /* relations between memories (edges_store.h) */
	brain_keyword *kw;   /* the words of the texts, for BM25 (index/keyword.h) */
	brain_analysis kw_scratch; /* a text's analysis, reused (write lock) */
} hippocampus;

static inline record *rec(const hippocampus *h, uint32_t slot)
{
	return brain__rows_at(&h->records, slot);
}

static inline bool is_live(const record *r)
{
	return r->flags & RECORD_LIVE;
}

static inline char *heap_text(const record *r)
{
	return (char *)(uintptr_t)r->text;
}

/* A checksum failure found at run time (rc BRAIN_ECORRUPT from a
 * verification): counted for Health, and the first told to the log (the
 * Watchdog's report). Returns rc. */
int brain__hippocampus_damage(const hippocampus *h, int rc);

/* The index's bytes from the image are verified before their first use
 * (once; a reference taken under image_mu, as IMAGE_RELEASE may let the
 * image go meanwhile). */
static inline int index_ready(const hippocampus *h)
{
	if (h->index_rebuilt || atomic_load_explicit(&h->index_verified, memory_order_acquire))
		return BRAIN_OK;
	pthread_mutex_t *mu = (pthread_mutex_t *)&h->image_mu;
	pthread_mutex_lock(mu);
	brain_image *img = h->image;
	if (img)
		brain__image_ref(img);
	pthread_mutex_unlock(mu);
	if (!img)
		return BRAIN_OK;
	int rc = brain__hippocampus_damage(h, brain__image_verify(img, BRAIN_SECTION_INDEX, 0,
	                                                          SIZE_MAX));
	brain__image_unref(img);
	if (rc == BRAIN_OK)
		atomic_store_explicit(&((hippocampus *)h)->index_verified, true, memory_order_release);
	return rc;
}

/* ---- store.c ------------------------------------------------------------- */

/* The handlers of the Hippocampus's messages, declared from its part of
 * the message list (spine/messages.h): brain__hippocampus_<NAME>(h, &msg)
 * for each, all in store.c. hippocampus.c makes the organ's handler table
 * of them; a message added to the list without its handler does not
 * link. */
BRAIN_ORGAN_DECLARE(HIPPOCAMPUS, hippocampus)

/* Make h->free, h->nfree entries in any order, the heap the store keeps
 * (a load). */
void brain__hippocampus_free_heapify(hippocampus *h);

/* The keyword index's terms of a text (its normalised words, hashed, in
 * order) into *terms (brain__malloc'ed) and *n, through the Pancreas and
 * `scratch`. */
int brain__hippocampus_terms(hippocampus *h, const char *text, size_t len,
                             brain_analysis *scratch, uint64_t **terms, size_t *n);

/* The text of a live record, or NULL (sections.c's save writes them). */
int brain__hippocampus_text_of(const hippocampus *h, const record *r, const char **out);

/* The configuration the index backend is opened or loaded with. */
brain_index_config brain__hippocampus_index_config(const hippocampus *h);

/* The index backend's calls that create (open, load) and grow (reserve,
 * add) the index, counted as the index's bytes (see store.c). */
int brain__hippocampus_ix_open(hippocampus *h, const brain_index_config *cfg);
int brain__hippocampus_ix_load(hippocampus *h, const brain_index_config *cfg, void *data,
                               size_t len);
int brain__hippocampus_ix_reserve(hippocampus *h, uint32_t slots);
int brain__hippocampus_ix_add(hippocampus *h, uint32_t slot, const float *vector);
int brain__hippocampus_ix_flush(hippocampus *h, const brain_index_files *files,
                                const brain_index_writer *w);
int brain__hippocampus_ix_freeze(hippocampus *h, const brain_index_writer *w);
int brain__hippocampus_ix_rebuild(hippocampus *h, brain_index_rebuild_fn rebuild,
                                  const brain_index_config *cfg, const brain_index_files *files,
                                  void *data, size_t len, brain_index_verify_fn verify,
                                  void *ctx);
int brain__hippocampus_ix_open_files(hippocampus *h, const brain_index_config *cfg,
                                     const brain_index_files *files, void *desc, size_t len);

/* ---- sections.c ---------------------------------------------------------- */

/* Write the store into a checkpoint image as its sections (the organ's
 * save). */
int brain__hippocampus_save(void *state, brain_image_writer *w, const brain_organ_args *args);

/* Adopt the memory store from a checkpoint image (create, for an image). */
int brain__hippocampus_load(hippocampus *h, brain_image *img, const brain_index_files *files);

#endif /* BRAIN_ORGANS_HIPPOCAMPUS_INTERNAL_H */
