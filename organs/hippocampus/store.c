/*
 * organs/hippocampus/store.c - the memory store: ids, records, slots and
 * texts, and the index backend's calls; every message of the Hippocampus
 * (STORE, STORE_BATCH, FORGET, LOOKUP, GET_VECTOR, SEARCH, HITS,
 * DISTANCES, UPDATE, STATUS, INDEX_INFO, ESTIMATE, VERIFY).
 *
 * Every change makes all the room it needs before it changes anything, so
 * an error (out of memory above all) leaves the store exactly as it was.
 * Forgetting never allocates.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "organs/hippocampus/hippocampus_internal.h"
#include "base/decay.h"
#include "index/distance.h"
#include "index/flat.h"
#include "index/hnsw.h"

/* The text of a live record (NULL if none); texts from the image are
 * verified against their checksums on first use. */
int brain__hippocampus_text_of(const hippocampus *h, const record *r, const char **out)
{
	*out = NULL;
	if (!(r->flags & RECORD_HAS_TEXT))
		return BRAIN_OK;
	if (r->flags & RECORD_TEXT_HEAP) {
		*out = heap_text(r);
		return BRAIN_OK;
	}
	if (h->texts_owned) { /* verified when copied */
		*out = h->texts + r->text;
		return BRAIN_OK;
	}
	int rc = brain__image_verify(h->image, BRAIN_SECTION_TEXTS, (size_t)r->text,
	                             (size_t)r->text_len + 1);
	if (rc == BRAIN_OK)
		*out = h->texts + r->text;
	return brain__hippocampus_damage(h, rc);
}

int brain__hippocampus_damage(const hippocampus *h, int rc)
{
	if (rc != BRAIN_ECORRUPT)
		return rc;
	if (atomic_fetch_add(&((hippocampus *)h)->damage, 1) == 0)
		BRAIN_LOG(BRAIN_LOG_ERROR, "watchdog: a checksum failure in a mapped checkpoint, found "
		          "at run time: %s (the memories it holds fail with BRAIN_ECORRUPT; run "
		          "brain_check, restore or brain_repair)", brain_errmsg());
	return rc;
}

/* The index's calls that may allocate, counted as the index's bytes
 * (base/alloc.c) rather than the Hippocampus's own. */
static inline brain_mem_scope ix_enter(void)
{
	return brain__mem_enter(brain__mem_current().mem, BRAIN_MEM_INDEX);
}

int brain__hippocampus_ix_open(hippocampus *h, const brain_index_config *cfg)
{
	brain_mem_scope p = ix_enter();
	int rc = h->vt->open(cfg, &h->index);
	brain__mem_leave(p);
	return rc;
}

int brain__hippocampus_ix_load(hippocampus *h, const brain_index_config *cfg, void *data,
                               size_t len)
{
	brain_mem_scope p = ix_enter();
	int rc = h->vt->load(cfg, data, len, &h->index);
	brain__mem_leave(p);
	return rc;
}

int brain__hippocampus_ix_reserve(hippocampus *h, uint32_t slots)
{
	brain_mem_scope p = ix_enter();
	int rc = h->vt->reserve(h->index, slots);
	brain__mem_leave(p);
	return rc;
}

int brain__hippocampus_ix_add(hippocampus *h, uint32_t slot, const float *vector)
{
	brain_mem_scope p = ix_enter();
	int rc = h->vt->add(h->index, slot, vector);
	brain__mem_leave(p);
	return rc;
}

int brain__hippocampus_ix_flush(hippocampus *h, const brain_index_files *files,
                                const brain_index_writer *w)
{
	brain_mem_scope p = ix_enter();
	int rc = h->vt->flush(h->index, files, w);
	brain__mem_leave(p);
	return rc;
}

int brain__hippocampus_ix_freeze(hippocampus *h, const brain_index_writer *w)
{
	brain_mem_scope p = ix_enter();
	int rc = h->vt->freeze(h->index, w, &h->frozen);
	brain__mem_leave(p);
	return rc;
}

static int index_write_part(void *payload, const void *data, size_t len)
{
	return brain__imgw_write(payload, data, len);
}

/* The second step of a checkpoint's index (brain_msg_index_finish). */
int brain__hippocampus_INDEX_FINISH(hippocampus *h, brain_msg_index_finish *m)
{
	/* a backend that cannot freeze wrote its whole section at the save */
	if (!h->index_open)
		return BRAIN_OK;
	brain_mem_scope p = ix_enter();
	int rc = BRAIN_OK;
	if (!m->abort) {
		brain_index_writer iw = {index_write_part, m->w};
		rc = h->vt->flush_frozen(h->index, h->frozen, m->files, &iw);
		if (rc == BRAIN_OK)
			rc = brain__imgw_section_end(m->w);
	}
	h->vt->thaw(h->index, h->frozen);
	brain__mem_leave(p);
	h->frozen = NULL;
	h->index_open = false;
	return rc;
}

int brain__hippocampus_ix_open_files(hippocampus *h, const brain_index_config *cfg,
                                     const brain_index_files *files, void *desc, size_t len)
{
	brain_mem_scope p = ix_enter();
	int rc = h->vt->open_files(cfg, files, desc, len, &h->index);
	brain__mem_leave(p);
	return rc;
}

int brain__hippocampus_ix_rebuild(hippocampus *h, brain_index_rebuild_fn rebuild,
                                  const brain_index_config *cfg, const brain_index_files *files,
                                  void *data, size_t len, brain_index_verify_fn verify,
                                  void *ctx)
{
	brain_mem_scope p = ix_enter();
	int rc = rebuild(cfg, files, data, len, verify, ctx, &h->index);
	brain__mem_leave(p);
	return rc;
}

/* The checkpoint of files->generation is committed: the backend's files
 * no longer named may go. */
int brain__hippocampus_INDEX_RETIRE(hippocampus *h, brain_msg_index_retire *m)
{
	if (h->index && brain__index_has_files(h->vt))
		h->vt->retire(h->index, m->files);
	return BRAIN_OK;
}

/* The backend's put-off work, beside every other call (brain_msg_index_build). */
int brain__hippocampus_INDEX_BUILD(hippocampus *h, brain_msg_index_build *m)
{
	m->pending = 0;
	int (*build)(brain_index *, size_t, uint64_t *) = brain__index_build(h->vt);
	if (!build || !h->index)
		return BRAIN_OK;
	if (m->max == 0)
		return build(h->index, 0, &m->pending);
	int rc = index_ready(h);
	if (rc == BRAIN_OK) {
		brain_mem_scope p = ix_enter();
		rc = build(h->index, m->max, &m->pending);
		brain__mem_leave(p);
	}
	return rc;
}

static int ix_add_batch(hippocampus *h, const uint32_t *slots, const float *rows, size_t n)
{
	brain_mem_scope p = ix_enter();
	int rc = brain__index_add_batch(h->vt)(h->index, slots, rows, n);
	brain__mem_leave(p);
	return rc;
}

static int ix_remove(hippocampus *h, uint32_t slot)
{
	brain_mem_scope p = ix_enter();
	int rc = h->vt->remove(h->index, slot);
	brain__mem_leave(p);
	return rc;
}

static int ix_search(const hippocampus *h, const brain_index_search *plan, uint32_t *slots,
                     float *distances, size_t *found)
{
	brain_mem_scope p = ix_enter();
	int rc = brain__index_search(h->vt, h->index, plan, slots, distances, found);
	brain__mem_leave(p);
	return rc;
}

/* The brain's parameters as its index reads them: HNSW_ELEMENT -1 (the
 * default) resolved to what suits the brain. */
static int64_t env_param(void *payload, int param)
{
	const hippocampus *h = payload;
	int64_t v = brain__param_number(h->env, param);
	if (param == BRAIN_PARAM_HNSW_ELEMENT && v < 0) {
		/* A text brain (its first memory a text, under the text embedder
		 * option) keeps 8 bits a component: a quarter of the bytes, with
		 * no measurable loss (docs/embedder.md). A brain whose first
		 * memory is a vector keeps what the application gives. */
		v = atomic_load(&((hippocampus *)h)->auto_elem) == 3 &&
		            h->env->opts.embedder == BRAIN_EMBEDDER_BUILTIN &&
		            h->env->opts.metric != BRAIN_METRIC_L2 &&
		            brain__param_number(h->env, BRAIN_PARAM_HNSW_SQ8) == 0
		        ? 3
		        : 0;
	}
	return v;
}

/* The first memory decides HNSW_ELEMENT -1 (env_param). */
static void first_memory(hippocampus *h, bool text)
{
	int unknown = -1;
	atomic_compare_exchange_strong(&h->auto_elem, &unknown, text ? 3 : 0);
}

brain_index_config brain__hippocampus_index_config(const hippocampus *h)
{
	brain_index_config cfg = {
		.version = BRAIN_INDEX_VTABLE_VERSION,
		.dimensions = h->dims,
		.metric = h->env->opts.metric,
		.max_slots = BRAIN_MAX(h->max_slots, h->next_slot),
		.param = env_param,
		.param_payload = (void *)h,
	};
	return cfg;
}

static size_t free_slots(const hippocampus *h);

/* Make room for `more` new memories: records, id map, free-slot heap (so
 * that forgetting them later never allocates) and index. */
static int reserve_room(hippocampus *h, size_t more);

static int reserve(hippocampus *h, size_t more)
{
	uint64_t count = atomic_load(&h->count);
	if (count + more > h->env->opts.max_memories)
		return brain__err(BRAIN_EFULL, "brain holds %llu memories; %zu more would pass its "
		                  "max_memories of %llu",
		                  (unsigned long long)count, more,
		                  (unsigned long long)h->env->opts.max_memories);
	return reserve_room(h, more);
}

/* Room for `more` memories beyond those held, whatever max_memories says
 * (a replacement holds one more only until its change ends). */
static int reserve_room(hippocampus *h, size_t more)
{
	uint64_t count = atomic_load(&h->count);
	size_t total = (size_t)count + more;
	/* New slots come from the free ones first, then from next_slot. */
	size_t nfree = free_slots(h);
	size_t fresh = more > nfree ? more - nfree : 0;
	size_t slots = (size_t)h->next_slot + fresh;
	int rc = brain__rows_reserve(&h->records, slots);
	if (rc == BRAIN_OK)
		rc = brain__map_reserve(&h->ids, total);
	if (rc == BRAIN_OK && total > h->free_cap) {
		size_t cap = BRAIN_MAX(total, h->free_cap * 2);
		uint32_t *f = brain__realloc(h->free, cap * sizeof *f);
		if (!f)
			return brain__oom(cap * sizeof *f, "free slot stack");
		h->free = f;
		h->free_cap = cap;
	}
	if (rc == BRAIN_OK)
		rc = index_ready(h);
	if (rc == BRAIN_OK)
		rc = brain__hippocampus_ix_reserve(h, (uint32_t)slots);
	return rc;
}

/* ---- free slots ------------------------------------------------------------
 *
 * A binary min-heap in h->free: a new memory takes the lowest free slot
 * (the rows at the end stay free, for compaction to hand back). Entries at
 * or past next_slot are stale (compaction brought next_slot down past
 * them): the heap keeps them at its bottom, never hands them out, and
 * drops them all once only they are left; the free slots are
 * next_slot - count, whatever the heap holds. */

static void free_sift_down(uint32_t *a, size_t n, size_t i)
{
	uint32_t x = a[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && a[c + 1] < a[c])
			c++;
		if (a[c] >= x)
			break;
		a[i] = a[c];
		i = c;
	}
	a[i] = x;
}

void brain__hippocampus_free_heapify(hippocampus *h)
{
	for (size_t i = h->nfree / 2; i-- > 0;)
		free_sift_down(h->free, h->nfree, i);
}

/* A slot back among the free ones (room was reserved when it was taken). */
static void free_push(hippocampus *h, uint32_t slot)
{
	size_t i = h->nfree++;
	while (i > 0 && h->free[(i - 1) / 2] > slot) {
		h->free[i] = h->free[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h->free[i] = slot;
}

/* The lowest free slot below `below`, taken; UINT32_MAX if there is none. */
static uint32_t free_take_below(hippocampus *h, uint64_t below)
{
	if (h->nfree && h->free[0] >= h->next_slot)
		h->nfree = 0; /* only stale entries are left */
	if (!h->nfree || h->free[0] >= below)
		return UINT32_MAX;
	uint32_t s = h->free[0];
	h->free[0] = h->free[--h->nfree];
	free_sift_down(h->free, h->nfree, 0);
	return s;
}

static uint32_t take_slot(hippocampus *h)
{
	uint32_t s = free_take_below(h, h->next_slot);
	return s != UINT32_MAX ? s : h->next_slot++;
}

/* Free slots below next_slot (the heap may hold stale ones past it). */
static size_t free_slots(const hippocampus *h)
{
	return h->next_slot - (size_t)atomic_load(&h->count);
}

/* Fill the record of a slot whose vector is in the index. Cannot fail:
 * reserve() made room in the id map. */
static void commit(hippocampus *h, uint32_t slot, brain_id id, char *text, size_t len,
                   float importance, int64_t created_ms, uint8_t *meta)
{
	record *r = rec(h, slot);
	brain__meta_store_put(&h->meta, slot, meta); /* postings.h */
	r->id = id;
	r->text = (uint64_t)(uintptr_t)text;
	r->text_len = (uint32_t)len;
	r->importance = importance;
	r->created_ms = created_ms;
	atomic_store_explicit(&r->accessed_ms, created_ms, memory_order_relaxed);
	r->flags = RECORD_LIVE | (text ? RECORD_HAS_TEXT | RECORD_TEXT_HEAP : 0);
	r->reserved = 0;
	brain__map_put(&h->ids, id, slot);
	if (id >= h->next_id)
		h->next_id = id + 1; /* may become BRAIN_ID_NONE: then ids are exhausted */
	atomic_fetch_add(&h->count, 1);
	if (text) {
		atomic_fetch_add(&h->text_count, 1);
		h->text_bytes += len + 1;
	}
}

static int no_such_id(uint64_t id)
{
	return brain__err(BRAIN_ENOTFOUND, "no memory has id %llu", (unsigned long long)id);
}

int brain__hippocampus_STORE(hippocampus *h, brain_msg_store *m)
{
	brain_id id = m->id;
	if (m->replace) {
		if (!brain__map_get(&h->ids, id, &m->old_slot))
			return no_such_id(id);
	} else if (id == BRAIN_ID_NONE) {
		id = h->next_id;
		if (id == BRAIN_ID_NONE)
			return brain__err(BRAIN_EFULL, "every id up to %llu has been given; no id is left "
			                  "to assign",
			                  (unsigned long long)(BRAIN_ID_NONE - 1));
	} else if (brain__map_get(&h->ids, id, NULL)) {
		return brain__err(BRAIN_EEXISTS, "id %llu is already in use", (unsigned long long)id);
	}
	first_memory(h, m->text != NULL);
	int rc = m->replace ? reserve_room(h, 1) : reserve(h, 1);
	if (rc)
		return rc;
	char *text = NULL;
	if (m->text) {
		text = brain__strndup(m->text, m->len);
		if (!text)
			return brain__oom(m->len + 1, "memory text");
	}
	uint32_t slot = take_slot(h);
	uint8_t *meta = NULL;
	uint64_t *terms = NULL;
	size_t nterms = 0;
	bool in_kw = false;
	if (m->text) {
		/* the keyword index first: it can fail, and is easy to take back;
		 * the text's words as the embedding found them, or analysed here
		 * (a text that came with its vector, a replay) */
		if (!m->terms)
			rc = brain__hippocampus_terms(h, m->text, m->len, &h->kw_scratch, &terms,
			                              &nterms);
		if (rc == BRAIN_OK)
			rc = m->terms ? brain__kw_add(h->kw, slot, m->terms, m->nterms)
			              : brain__kw_add(h->kw, slot, terms, nterms);
		in_kw = rc == BRAIN_OK;
		brain__free(terms);
	}
	if (rc == BRAIN_OK)
		rc = brain__meta_store_prepare(&h->meta, m->meta, m->meta_len, slot);
	if (rc == BRAIN_OK && m->meta) {
		meta = brain__meta_heap(m->meta, m->meta_len);
		if (!meta)
			rc = BRAIN_ENOMEM;
	}
	if (rc == BRAIN_OK)
		rc = brain__hippocampus_ix_add(h, slot, m->vector);
	if (rc) {
		if (in_kw)
			brain__kw_remove(h->kw, slot); /* never allocates */
		/* give the slot back as it was */
		if (slot + 1 == h->next_slot)
			h->next_slot--;
		else
			free_push(h, slot);
		brain__free(text);
		brain__free(meta);
		return rc;
	}
	if (m->created_ms == 0)
		m->created_ms = brain__now_ms();
	if (m->replace)
		brain__meta_store_drop(&h->meta, m->old_slot); /* never allocates */
	commit(h, slot, id, text, m->len, m->importance, m->created_ms, meta);
	m->out_id = id;
	m->slot = slot;
	return BRAIN_OK;
}

/* The caller's rows, prepared one at a time as the backend asks for them
 * (add_batch_rows). */
typedef struct batch_source {
	const float *vectors;
	size_t dims;
	int metric;
} batch_source;

static void prepare_row(void *ctx, size_t i, float *out)
{
	const batch_source *src = ctx;
	/* checked by store_batch: cannot fail */
	brain__vector_prepare(src->vectors + i * src->dims, src->dims, src->metric, out, "row");
}

/* The rest of store_batch for a backend with a batch add (the rows and ids
 * are checked, room is reserved): one call, which may use several
 * threads. A backend with add_batch_rows asks for each row as it stores
 * it; for one with only add_batch, all rows are prepared into one buffer
 * first (4 x dims bytes a row more at the peak). */
static int store_batch_at_once(hippocampus *h, const brain_msg_store_batch *m, int64_t now)
{
	size_t n = m->n, dims = h->dims;
	int metric = h->env->opts.metric;
	bool on_demand = brain__index_add_batch_rows(h->vt) != NULL;
	uint32_t *slots = brain__malloc_array(n, sizeof *slots);
	float *rows = on_demand ? NULL : brain__malloc_array(n, dims * sizeof *rows);
	if (!slots || (!on_demand && !rows)) {
		brain__free(slots);
		brain__free(rows);
		return brain__oom(n * ((on_demand ? 0 : dims * sizeof *rows) + sizeof *slots),
		                  "batch rows");
	}
	for (size_t i = 0; i < n; i++) {
		if (rows)
			brain__vector_prepare(m->vectors + i * dims, dims, metric, rows + i * dims,
			                      "row"); /* checked: cannot fail */
		slots[i] = take_slot(h);
	}
	int rc;
	if (on_demand) {
		batch_source src = {m->vectors, dims, metric};
		brain_mem_scope p = ix_enter();
		rc = brain__index_add_batch_rows(h->vt)(h->index, slots, n, prepare_row, &src);
		brain__mem_leave(p);
	} else {
		rc = ix_add_batch(h, slots, rows, n);
	}
	if (rc) {
		/* give the slots back in the reverse order they were taken */
		for (size_t i = n; i-- > 0;) {
			if (slots[i] + 1 == h->next_slot)
				h->next_slot--;
			else
				free_push(h, slots[i]);
		}
	} else {
		for (size_t i = 0; i < n; i++)
			commit(h, slots[i], m->ids[i], NULL, 0, 0.5f, now, NULL);
	}
	brain__free(slots);
	brain__free(rows);
	return rc;
}

int brain__hippocampus_STORE_BATCH(hippocampus *h, brain_msg_store_batch *m)
{
	size_t n = m->n, dims = h->dims;
	int metric = h->env->opts.metric;
	if (n == 0)
		return BRAIN_OK;
	first_memory(h, false);
	float *row = brain__malloc_array(dims, sizeof(float));
	if (!row)
		return brain__oom(dims * sizeof(float), "batch row");
	/* Check everything first: ids free and unique, rows finite. A temporary
	 * map finds duplicates within the batch. */
	brain_map seen;
	brain__map_init(&seen);
	int rc = brain__map_reserve(&seen, n);
	char what[64];
	for (size_t i = 0; rc == BRAIN_OK && i < n; i++) {
		brain_id id = m->ids[i];
		uint32_t *v;
		bool created;
		if (id == BRAIN_ID_NONE) {
			rc = brain__err(BRAIN_EINVAL, "row %zu: id is BRAIN_ID_NONE", i);
			break;
		}
		if (brain__map_get(&h->ids, id, NULL)) {
			rc = brain__err(BRAIN_EEXISTS, "row %zu: id %llu is already in use", i,
			                (unsigned long long)id);
			break;
		}
		brain__map_upsert(&seen, id, &v, &created); /* reserved: cannot fail */
		if (!created) {
			rc = brain__err(BRAIN_EEXISTS, "row %zu: id %llu also names row %u", i,
			                (unsigned long long)id, *v);
			break;
		}
		*v = (uint32_t)BRAIN_MIN(i, UINT32_MAX);
		snprintf(what, sizeof what, "row %zu", i);
		rc = brain__vector_prepare(m->vectors + i * dims, dims, metric, row, what);
	}
	brain__map_free(&seen);
	if (rc == BRAIN_OK)
		rc = reserve(h, n);
	/* Now nothing can fail but the backend itself; if it does, undo the rows
	 * added so far, and the ids they moved on. */
	brain_id next_id = h->next_id;
	int64_t now = brain__now_ms();
	if (rc == BRAIN_OK && n > 1 &&
	    (brain__index_add_batch_rows(h->vt) || brain__index_add_batch(h->vt))) {
		brain__free(row);
		return store_batch_at_once(h, m, now);
	}
	for (size_t i = 0; rc == BRAIN_OK && i < n; i++) {
		brain__vector_prepare(m->vectors + i * dims, dims, metric, row, "row");
		uint32_t slot = take_slot(h);
		rc = brain__hippocampus_ix_add(h, slot, row);
		if (rc) {
			if (slot + 1 == h->next_slot)
				h->next_slot--;
			else
				free_push(h, slot);
			for (size_t j = 0; j < i; j++) {
				uint32_t s;
				brain__map_get(&h->ids, m->ids[j], &s);
				ix_remove(h, s);
				brain__meta_store_drop(&h->meta, s);
				brain__map_remove(&h->ids, m->ids[j]);
				memset(rec(h, s), 0, sizeof(record));
				free_push(h, s);
				atomic_fetch_sub(&h->count, 1);
			}
			h->next_id = next_id;
			break;
		}
		commit(h, slot, m->ids[i], NULL, 0, 0.5f, now, NULL);
	}
	brain__free(row);
	return rc;
}

/* The index has no vector where a live record says there is one: the
 * files disagree (never a caller's mistake, so never EINVAL). */
static int index_lost(uint64_t id, uint32_t slot, int rc)
{
	if (rc == BRAIN_ENOMEM || rc == BRAIN_EIO || rc == BRAIN_ECORRUPT)
		return rc;
	return brain__err(BRAIN_ECORRUPT, "memory %llu: its record names slot %u, but the index "
	                  "holds no vector there (%s): the brain is damaged; brain_check reports "
	                  "it, a backup restores it", (unsigned long long)id, (unsigned)slot,
	                  brain_errmsg());
}

/* A slot's memory gone: its vector out of the index, its metadata, keyword
 * postings and text, the slot free. Not its id or relations (the caller's:
 * a replacement keeps them). Never allocates; fails only where the index
 * cannot take the vector out, and then nothing changed. */
static int drop_slot(hippocampus *h, uint32_t slot)
{
	int rc = ix_remove(h, slot);
	if (rc)
		return rc;
	record *r = rec(h, slot);
	brain__meta_store_drop(&h->meta, slot); /* never allocates */
	brain__kw_remove(h->kw, slot);           /* nor this */
	if (r->flags & RECORD_HAS_TEXT) {
		atomic_fetch_sub(&h->text_count, 1);
		h->text_bytes -= r->text_len + 1;
		if (r->flags & RECORD_TEXT_HEAP)
			brain__free(heap_text(r));
	}
	memset(r, 0, sizeof *r);
	free_push(h, slot); /* room reserved when it was stored */
	atomic_fetch_sub(&h->count, 1);
	return BRAIN_OK;
}

int brain__hippocampus_FORGET(hippocampus *h, brain_msg_forget *m)
{
	uint32_t slot;
	if (!brain__map_get(&h->ids, m->id, &slot))
		return no_such_id(m->id);
	int rc = index_ready(h);
	if (rc == BRAIN_OK && m->check) {
		/* the index must hold the vector the remove will take */
		float *v = brain__malloc_array(h->dims, sizeof *v);
		if (!v)
			return brain__oom((size_t)h->dims * sizeof *v, "forget");
		rc = h->vt->get(h->index, slot, v);
		brain__free(v);
		return rc ? index_lost(m->id, slot, rc) : BRAIN_OK;
	}
	if (rc == BRAIN_OK)
		rc = drop_slot(h, slot);
	if (rc)
		return index_lost(m->id, slot, rc);
	brain__map_remove(&h->ids, m->id);
	brain__rel_drop(&h->rels, m->id); /* never allocates */
	if (m->undo && m->id + 1 == h->next_id)
		h->next_id = m->id;
	return BRAIN_OK;
}

int brain__hippocampus_REPLACE_END(hippocampus *h, brain_msg_replace_end *m)
{
	int rc = index_ready(h);
	if (m->undo) {
		/* just added: taking it out again cannot fail */
		if (rc == BRAIN_OK)
			rc = drop_slot(h, m->new_slot);
		brain__meta_store_put(&h->meta, m->old_slot, m->old_meta); /* its fields exist */
		m->old_meta = NULL;
		brain__map_put(&h->ids, m->id, m->old_slot); /* the id is there: never allocates */
		return rc ? index_lost(m->id, m->new_slot, rc) : BRAIN_OK;
	}
	if (rc == BRAIN_OK)
		rc = drop_slot(h, m->old_slot);
	return rc ? index_lost(m->id, m->old_slot, rc) : BRAIN_OK;
}

static int fill_hit(const hippocampus *h, uint32_t slot, brain_hit *hit)
{
	record *r = rec(h, slot);
	hit->id = r->id;
	hit->slot = slot;
	hit->importance = r->importance;
	hit->created_ms = r->created_ms;
	hit->accessed_ms = atomic_load_explicit(&r->accessed_ms, memory_order_relaxed);
	hit->text_len = r->text_len;
	size_t ml = 0;
	hit->meta = brain__meta_blob(&h->meta, slot, &ml);
	hit->meta_json = NULL;
	hit->meta_len = (uint32_t)ml;
	return brain__hippocampus_text_of(h, r, &hit->text);
}

int brain__hippocampus_LOOKUP(hippocampus *h, brain_msg_lookup *m)
{
	uint32_t slot;
	if (!brain__map_get(&h->ids, m->id, &slot))
		return no_such_id(m->id);
	memset(&m->hit, 0, sizeof m->hit);
	return fill_hit(h, slot, &m->hit);
}

int brain__hippocampus_GET_VECTOR(hippocampus *h, brain_msg_get_vector *m)
{
	uint32_t slot;
	if (!brain__map_get(&h->ids, m->id, &slot))
		return no_such_id(m->id);
	int rc = index_ready(h);
	if (rc == BRAIN_OK)
		rc = h->vt->get(h->index, slot, m->vector);
	return rc ? index_lost(m->id, slot, rc) : BRAIN_OK;
}

int brain__hippocampus_VERIFY(hippocampus *h, brain_msg_verify *m)
{
	m->checked = 0;
	int rc = index_ready(h);
	if (rc)
		return rc;
	float *v = brain__malloc_array(h->dims, sizeof *v);
	if (!v)
		return brain__oom((size_t)h->dims * sizeof *v, "verify");
	for (uint32_t s = 0; rc == BRAIN_OK && s < h->next_slot; s++) {
		record *r = rec(h, s);
		uint32_t mapped = UINT32_MAX;
		if (is_live(r)) {
			if (!brain__map_get(&h->ids, r->id, &mapped) || mapped != s)
				rc = brain__err(BRAIN_ECORRUPT, "memory %llu in slot %u is not found by its "
				                "id: the records and the id map disagree",
				                (unsigned long long)r->id, (unsigned)s);
			else if ((rc = h->vt->get(h->index, s, v)) != BRAIN_OK)
				rc = index_lost(r->id, s, rc);
		} else if (h->vt->get(h->index, s, v) == BRAIN_OK) {
			rc = brain__err(BRAIN_ECORRUPT, "the index holds a vector in slot %u, which no "
			                "memory uses: the records and the index disagree", (unsigned)s);
		}
		m->checked++;
	}
	if (rc == BRAIN_OK && brain__map_count(&h->ids) != atomic_load(&h->count))
		rc = brain__err(BRAIN_ECORRUPT, "the id map holds %zu ids for %llu memories",
		                brain__map_count(&h->ids), (unsigned long long)atomic_load(&h->count));
	brain__free(v);
	return rc;
}

static int has_text(uint32_t slot, void *payload)
{
	const hippocampus *h = payload;
	return (rec(h, slot)->flags & RECORD_HAS_TEXT) != 0;
}

typedef struct accept_ctx {
	const hippocampus *h;
	const brain_msg_search *m;
} accept_ctx;

/* The caller's filter by id, the passing set of a filter on metadata, and
 * the text filter, as asked. */
static int accepts(uint32_t slot, void *payload)
{
	const accept_ctx *c = payload;
	const record *r = rec(c->h, slot);
	if (!is_live(r) || (c->m->text_only && !(r->flags & RECORD_HAS_TEXT)))
		return 0;
	if (c->m->pass && !brain__slotset_contains(c->m->pass, slot))
		return 0;
	return !c->m->accept || c->m->accept(r->id, c->m->accept_payload) != 0;
}

/* A max-heap of the nearest found so far, by distance then slot. */
typedef struct near_heap {
	uint32_t *slots;
	float *dist;
	size_t n, cap;
} near_heap;

static bool farther(const near_heap *q, size_t a, size_t b)
{
	return q->dist[a] > q->dist[b] || (q->dist[a] == q->dist[b] && q->slots[a] > q->slots[b]);
}

static void near_swap(near_heap *q, size_t a, size_t b)
{
	uint32_t s = q->slots[a];
	float d = q->dist[a];
	q->slots[a] = q->slots[b];
	q->dist[a] = q->dist[b];
	q->slots[b] = s;
	q->dist[b] = d;
}

static void near_push(near_heap *q, uint32_t slot, float d)
{
	size_t i;
	if (q->n < q->cap) {
		i = q->n++;
		q->slots[i] = slot;
		q->dist[i] = d;
		while (i && farther(q, i, (i - 1) / 2)) {
			near_swap(q, i, (i - 1) / 2);
			i = (i - 1) / 2;
		}
		return;
	}
	if (d > q->dist[0] || (d == q->dist[0] && slot > q->slots[0]))
		return;
	q->slots[0] = slot;
	q->dist[0] = d;
	for (i = 0;;) {
		size_t l = 2 * i + 1, r = l + 1, top = i;
		if (l < q->n && farther(q, l, top))
			top = l;
		if (r < q->n && farther(q, r, top))
			top = r;
		if (top == i)
			break;
		near_swap(q, i, top);
		i = top;
	}
}

/* The k nearest of the passing set's memories, every one of them looked
 * at (a set small beside the brain: the plan's choice). */
/* Distances to n accepted slots: the backend's own (version 8: rows
 * fetched ahead, its exact kernel), else get() and the float kernel. */
static int pass_distances(hippocampus *h, const float *query, const uint32_t *slots, size_t n,
                          float *v, float *out)
{
	if (h->vt->version >= 8 && h->vt->distances) {
		brain_mem_scope p = ix_enter();
		int rc = h->vt->distances(h->index, query, slots, n, out);
		brain__mem_leave(p);
		if (rc == BRAIN_OK)
			return BRAIN_OK;
		/* which slot: get() names it */
	}
	brain_dist_fn dist = brain__dist_fn(h->env->opts.metric, -1);
	for (size_t i = 0; i < n; i++) {
		int rc = h->vt->get(h->index, slots[i], v);
		if (rc)
			return index_lost(rec(h, slots[i])->id, slots[i], rc);
		out[i] = dist(query, v, h->dims);
	}
	return BRAIN_OK;
}

static int search_over_pass(hippocampus *h, brain_msg_search *m, const accept_ctx *c)
{
	enum { BATCH = 1024 };
	float *v = brain__malloc_array(h->dims, sizeof *v);
	uint32_t *buf = brain__malloc_array(2 * BATCH, sizeof *buf);
	float *d = brain__malloc_array(BATCH, sizeof *d);
	int rc = v && buf && d ? BRAIN_OK
	                       : brain__oom(h->dims * sizeof *v + 12 * BATCH, "filtered search");
	near_heap q = {m->slots, m->distances, 0, m->k};
	size_t from = 0, got;
	uint32_t *take = buf + BATCH;
	bool records = m->text_only || m->accept;
	while (rc == BRAIN_OK && (got = brain__slotset_read(m->pass, from, buf, BATCH)) > 0) {
		from += got;
		/* The set's own slots are live and pass (FILTER_EVAL, under the
		 * same lock): a record is read only for what else the search
		 * asks (text only, the caller's ids), each read a cache miss. */
		size_t n = 0;
		for (size_t i = 0; i < got; i++)
			if (buf[i] < h->next_slot && (!records || accepts(buf[i], (void *)c)))
				take[n++] = buf[i];
		rc = pass_distances(h, m->query, take, n, v, d);
		for (size_t i = 0; rc == BRAIN_OK && i < n; i++)
			near_push(&q, take[i], d[i]);
	}
	/* nearest first */
	for (size_t n = q.n; rc == BRAIN_OK && n > 1; n--) {
		near_swap(&q, 0, n - 1);
		near_heap part = q;
		part.n = n - 1;
		for (size_t i = 0;;) {
			size_t l = 2 * i + 1, r = l + 1, top = i;
			if (l < part.n && farther(&part, l, top))
				top = l;
			if (r < part.n && farther(&part, r, top))
				top = r;
			if (top == i)
				break;
			near_swap(&part, i, top);
			i = top;
		}
	}
	m->found = rc == BRAIN_OK ? q.n : 0;
	brain__free(v);
	brain__free(buf);
	brain__free(d);
	return rc;
}

/* The search the Thalamus planned, with the caller's filter by id, a
 * filter's passing set (and the text filter) turned into one by slot. */
int brain__hippocampus_SEARCH(hippocampus *h, brain_msg_search *m)
{
	m->found = 0;
	int rc = index_ready(h);
	if (rc)
		return rc;
	accept_ctx c = {h, m};
	if (m->pass && m->over_pass)
		return search_over_pass(h, m, &c);
	brain_index_filter by_slot = {accepts, &c}, text = {has_text, h};
	brain_index_search plan = {m->query, m->k,
	                           m->accept || m->pass ? &by_slot : m->text_only ? &text : NULL,
	                           m->exact, m->effort};
	return ix_search(h, &plan, m->slots, m->distances, &m->found);
}

int brain__hippocampus_SEARCH_MANY(hippocampus *h, brain_msg_search_many *m)
{
	m->done = false;
	int rc = index_ready(h);
	bool flat = h->vt == &brain__index_flat, graph = h->vt == &brain__index_hnsw;
	if (rc || (!flat && !graph))
		return rc;
	brain_mem_scope p = ix_enter();
	rc = (flat ? brain__flat_search_many : brain__hnsw_search_many)(
	    h->index, m->queries, m->nq, m->k, m->slots, m->distances, m->found);
	brain__mem_leave(p);
	m->done = rc == BRAIN_OK;
	/* 8-bit rows: one query at a time (brain_errmsg() is the last failed
	 * call's, and this call does not fail) */
	return rc == BRAIN_EINVAL ? BRAIN_OK : rc;
}

/* Up to this many memories are looked at to estimate a filter's share. */
#define ESTIMATE_SAMPLE 256
#define ESTIMATE_TRIES 4096
#define ESTIMATE_MIN 32

int brain__hippocampus_ESTIMATE(hippocampus *h, brain_msg_estimate *m)
{
	size_t limit = h->next_slot, tried = 0, passed = 0;
	m->pass = -1.0;
	for (uint64_t i = 0; limit && i < ESTIMATE_TRIES && tried < ESTIMATE_SAMPLE; i++) {
		const record *r = rec(h, (size_t)(brain__mix64(i + 1) % limit));
		if (!is_live(r))
			continue;
		tried++;
		passed += (!m->text_only || (r->flags & RECORD_HAS_TEXT)) &&
		          (!m->accept || m->accept(r->id, m->accept_payload));
	}
	if (tried >= ESTIMATE_MIN)
		m->pass = (double)passed / (double)tried;
	return BRAIN_OK;
}

int brain__hippocampus_HITS(hippocampus *h, brain_msg_hits *m)
{
	int64_t now = m->touch ? brain__now_ms() : 0;
	for (size_t i = 0; i < m->n; i++) {
		uint32_t slot = m->slots[i];
		if (slot >= h->next_slot || !is_live(rec(h, slot)))
			return brain__err(BRAIN_ECORRUPT, "hits: the index returned slot %u, which holds "
			                  "no memory", slot);
		if (m->touch)
			atomic_store_explicit(&rec(h, slot)->accessed_ms, now, memory_order_relaxed);
		memset(&m->out[i], 0, sizeof m->out[i]);
		int rc = fill_hit(h, slot, &m->out[i]);
		if (rc)
			return rc;
		m->out[i].distance = m->distances ? m->distances[i] : 0.0f;
	}
	return BRAIN_OK;
}

int brain__hippocampus_DISTANCES(hippocampus *h, brain_msg_distances *m)
{
	float *v = brain__malloc_array(h->dims, sizeof *v);
	if (!v)
		return brain__oom(h->dims * sizeof *v, "distances");
	brain_dist_fn dist = brain__dist_fn(h->env->opts.metric, -1);
	int rc = index_ready(h);
	for (size_t i = 0; rc == BRAIN_OK && i < m->n; i++) {
		rc = h->vt->get(h->index, m->slots[i], v);
		if (rc == BRAIN_OK)
			m->out[i] = dist(m->vector, v, h->dims);
	}
	brain__free(v);
	return rc;
}

int brain__hippocampus_UPDATE(hippocampus *h, brain_msg_update *m)
{
	uint32_t slot;
	if (!brain__map_get(&h->ids, m->id, &slot))
		return no_such_id(m->id);
	int rc = index_ready(h);
	if (rc == BRAIN_OK)
		rc = h->vt->get(h->index, slot, m->old);
	if (rc == BRAIN_OK)
		rc = ix_remove(h, slot);
	if (rc)
		return index_lost(m->id, slot, rc);
	rc = brain__hippocampus_ix_add(h, slot, m->vector);
	if (rc && brain__hippocampus_ix_add(h, slot, m->old) != BRAIN_OK)
		return brain__err(BRAIN_EINTERNAL, "update: memory %llu lost its vector: the index "
		                  "refused the new one and then the old one",
		                  (unsigned long long)m->id);
	return rc;
}

int brain__hippocampus_STATUS(hippocampus *h, brain_msg_status *m)
{
	m->count = atomic_load(&h->count);
	m->text_count = atomic_load(&h->text_count);
	m->index_rebuilt = h->index_rebuilt;
	m->damage = atomic_load(&h->damage);
	if (m->want_free) {
		m->free_slots = free_slots(h);
		m->slots = h->next_slot;
	}
	if (m->want_bytes) {
		m->index_bytes = h->vt->memory_usage(h->index) + brain__rows_memory(&h->records) +
		                 brain__map_memory(&h->ids) + brain__kw_bytes(h->kw);
		m->meta_memories = h->meta.count;
		m->meta_fields = h->meta.names.n;
		m->meta_bytes = brain__meta_store_bytes(&h->meta) + brain__rel_bytes(&h->rels);
		m->meta_broken = h->meta.broken;
		m->relations = h->rels.n_edges;
	}
	return BRAIN_OK;
}

/* The backend's own account of itself, through the vtable (the Hippocampus
 * knows no backend by name). */
int brain__hippocampus_INDEX_INFO(hippocampus *h, brain_msg_index_info *m)
{
	memset(&m->info, 0, sizeof m->info);
	return brain__index_info(h->vt, h->index, atomic_load(&h->count), &m->info);
}

typedef struct valued {
	float value;
	int64_t accessed_ms;
	brain_id id;
} valued;

/* Is a worth more than b (kept before b)? */
static bool worth_more(const valued *a, const valued *b)
{
	if (a->value != b->value)
		return a->value > b->value;
	if (a->accessed_ms != b->accessed_ms)
		return a->accessed_ms > b->accessed_ms;
	return a->id > b->id;
}

/* Sift down in a heap whose top is the one worth most. */
static void sift(valued *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < n && worth_more(&h[l], &h[m]))
			m = l;
		if (r < n && worth_more(&h[r], &h[m]))
			m = r;
		if (m == i)
			return;
		valued t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static int by_worth(const void *pa, const void *pb)
{
	const valued *a = pa, *b = pb;
	return worth_more(a, b) ? 1 : worth_more(b, a) ? -1 : 0;
}

/* One pass over the records, keeping the n least valuable in a heap. */
int brain__hippocampus_LEAST_VALUABLE(hippocampus *h, brain_msg_least_valuable *m)
{
	m->found = 0;
	if (m->n == 0)
		return BRAIN_OK;
	valued *heap = brain__malloc_array(m->n, sizeof *heap);
	if (!heap)
		return brain__oom(m->n * sizeof *heap, "least valuable memories");
	size_t n = 0;
	for (uint32_t s = 0; s < h->next_slot; s++) {
		const record *r = rec(h, s);
		if (!is_live(r))
			continue;
		int64_t used = atomic_load_explicit(&((record *)r)->accessed_ms, memory_order_relaxed);
		valued v = {brain__importance_now(r->importance, used, m->now_ms, m->half_life_h), used,
		            r->id};
		if (n < m->n) {
			heap[n++] = v;
			if (n == m->n)
				for (size_t i = n / 2; i-- > 0;)
					sift(heap, n, i);
		} else if (worth_more(&heap[0], &v)) {
			heap[0] = v;
			sift(heap, n, 0);
		}
	}
	qsort(heap, n, sizeof *heap, by_worth);
	for (size_t i = 0; i < n; i++)
		m->ids[i] = heap[i].id;
	m->found = n;
	brain__free(heap);
	return BRAIN_OK;
}

int brain__hippocampus_STRENGTHEN(hippocampus *h, brain_msg_strengthen *m)
{
	uint32_t slot;
	if (!brain__map_get(&h->ids, m->id, &slot))
		return no_such_id(m->id);
	record *r = rec(h, slot);
	m->old_importance = r->importance;
	m->old_accessed_ms = atomic_load_explicit(&r->accessed_ms, memory_order_relaxed);
	r->importance = m->importance;
	atomic_store_explicit(&r->accessed_ms, m->accessed_ms, memory_order_relaxed);
	return BRAIN_OK;
}

/* ---- compaction ----------------------------------------------------------- */

/* next_slot brought down past the free slots at the end (the heap's
 * entries past it become stale). */
static void trim_end(hippocampus *h)
{
	while (h->next_slot > 0 && !(rec(h, h->next_slot - 1)->flags & RECORD_LIVE))
		h->next_slot--;
}

/* The memory of slot `from` into the free slot `to`: the index takes its
 * vector (as stored: bit for bit) at `to` and lets `from` go, the record
 * and the id follow. All or nothing. */
static int move_memory(hippocampus *h, uint32_t from, uint32_t to, float *v)
{
	record *a = rec(h, from), *b = rec(h, to);
	int rc = h->vt->get(h->index, from, v);
	if (rc)
		return index_lost(a->id, from, rc);
	rc = brain__hippocampus_ix_add(h, to, v);
	if (rc)
		return rc;
	rc = ix_remove(h, from);
	if (rc) {
		ix_remove(h, to); /* just added: its remove cannot fail */
		return index_lost(a->id, from, rc);
	}
	brain__meta_store_move(&h->meta, from, to);
	brain__kw_move(h->kw, from, to);
	b->id = a->id;
	b->text = a->text;
	atomic_store_explicit(&b->accessed_ms,
	                      atomic_load_explicit(&a->accessed_ms, memory_order_relaxed),
	                      memory_order_relaxed);
	b->created_ms = a->created_ms;
	b->text_len = a->text_len;
	b->importance = a->importance;
	b->flags = a->flags;
	b->reserved = a->reserved;
	memset(a, 0, sizeof *a);
	brain__map_put(&h->ids, b->id, to); /* the id is there: overwrites, never allocates */
	return BRAIN_OK;
}

int brain__hippocampus_COMPACT(hippocampus *h, brain_msg_compact *m)
{
	m->moved = 0;
	m->released = 0;
	m->done = false;
	int rc = index_ready(h);
	if (rc)
		return rc;
	uint32_t before = h->next_slot;
	trim_end(h);
	uint64_t count = atomic_load(&h->count);
	float *v = NULL;
	if (h->next_slot > count && m->max) {
		v = brain__malloc_array(h->dims, sizeof *v);
		if (!v)
			rc = brain__oom((size_t)h->dims * sizeof *v, "compaction");
	}
	/* Each hole is a free slot below `count` (where the memories end once
	 * compact), the lowest first, so that each memory moves once; the
	 * memory of the last slot goes there. */
	while (rc == BRAIN_OK && m->moved < m->max && h->next_slot > count &&
	       (m->moved == 0 || !m->hold_until_ns || brain__mono_ns() < m->hold_until_ns)) {
		uint32_t to = free_take_below(h, count);
		if (to == UINT32_MAX)
			break; /* never: a memory past `count` means a hole below it */
		rc = move_memory(h, h->next_slot - 1, to, v);
		if (rc) {
			free_push(h, to);
			break;
		}
		m->moved++;
		trim_end(h); /* past the slot moved from at least */
	}
	brain__free(v);
	m->done = h->next_slot == count;
	if (h->next_slot < before) {
		/* what the slots past the end held goes back */
		brain__rows_shrink(&h->records, h->next_slot);
		int (*shrink)(brain_index *, uint32_t) = brain__index_shrink(h->vt);
		if (shrink && h->index) {
			brain_mem_scope p = ix_enter();
			int src = shrink(h->index, h->next_slot);
			brain__mem_leave(p);
			if (src && rc == BRAIN_OK)
				rc = src;
		}
		m->released = before - h->next_slot;
	}
	return rc;
}

int brain__hippocampus_INDEX_RELEASE(hippocampus *h, brain_msg_index_release *m)
{
	m->left = 0;
	int (*release)(brain_index *, size_t, size_t *) = brain__index_release(h->vt);
	if (!release || !h->index)
		return BRAIN_OK;
	brain_mem_scope p = ix_enter();
	int rc = release(h->index, m->max, &m->left);
	brain__mem_leave(p);
	return rc;
}

int brain__hippocampus_INDEX_UNMAP(hippocampus *h, brain_msg_index_unmap *m)
{
	(void)m;
	brain_mem_scope p = ix_enter();
	brain__index_unmap_detached(h->vt, h->index);
	brain__mem_leave(p);
	return BRAIN_OK;
}

/* ---- letting go of the image the brain opened ---------------------------- */

/* Damage found in the image (rc ECORRUPT, counted and told by
 * brain__hippocampus_damage): it stays mapped, *kept set; other errors
 * pass. */
static int keep_if_damaged(hippocampus *h, int rc, bool *kept)
{
	if (brain__hippocampus_damage(h, rc) != BRAIN_ECORRUPT)
		return rc;
	h->image_kept = true;
	*kept = true;
	return BRAIN_OK;
}

int brain__hippocampus_IMAGE_COPY(hippocampus *h, brain_msg_image_copy *m)
{
	m->kept = false;
	if (!h->image)
		return BRAIN_OK;
	if (h->image_kept || (h->index_in_image && !brain__index_lets_go_of_image(h->vt))) {
		/* (a backend of another's may use the bytes load() gave it until
		 * close) */
		h->image_kept = true;
		m->kept = true;
		return BRAIN_OK;
	}
	/* texts and the index are verified on first use: what is copied now
	 * must be, as it will not be read from the image again */
	int rc = keep_if_damaged(
	        h, brain__image_verify(h->image, BRAIN_SECTION_TEXTS, 0, SIZE_MAX), &m->kept);
	if (rc == BRAIN_OK && !m->kept)
		rc = keep_if_damaged(h, index_ready(h), &m->kept);
	if (rc || m->kept)
		return rc;
	if (!h->texts_owned && !h->texts_copy && h->texts_len) {
		h->texts_copy = brain__malloc(h->texts_len);
		if (!h->texts_copy)
			return brain__oom(h->texts_len, "texts");
		memcpy(h->texts_copy, h->texts, h->texts_len);
	}
	/* (a copy from an earlier hold of the gate that went no further is
	 * stale: changes ran since) */
	brain__free(h->ids_copy);
	h->ids_copy = NULL;
	return h->ids.borrowed ? brain__map_copy_cells(&h->ids, &h->ids_copy) : BRAIN_OK;
}

int brain__hippocampus_IMAGE_RELEASE(hippocampus *h, brain_msg_image_release *m)
{
	m->left = 0;
	if (!h->image || h->image_kept)
		return BRAIN_OK;
	/* the copies, made under this hold of the gate: nothing changed since */
	if (h->texts_copy) {
		h->texts = h->texts_copy;
		h->texts_copy = NULL;
		h->texts_owned = true;
	} else if (!h->texts_len) {
		h->texts = NULL;
		h->texts_owned = true;
	}
	if (h->ids_copy) {
		brain__map_take_cells(&h->ids, h->ids_copy);
		h->ids_copy = NULL;
	}
	if (!h->texts_owned || h->ids.borrowed) {
		m->left = 1; /* (not copied yet: an IMAGE_COPY first) */
		return BRAIN_OK;
	}
	size_t budget = m->max;
	int rc = brain__rows_own_some(&h->records, &budget, NULL, NULL, &m->left);
	if (rc)
		return rc;
	int (*release)(brain_index *, size_t, size_t *) = brain__index_release(h->vt);
	if (h->index && release) {
		size_t left = 0;
		brain_mem_scope p = ix_enter();
		rc = release(h->index, BRAIN_MAX(budget, (size_t)1), &left);
		brain__mem_leave(p);
		if (rc)
			return rc;
		m->left += left;
	}
	if (m->left == 0) {
		pthread_mutex_lock(&h->image_mu);
		brain_image *img = h->image;
		h->image = NULL;
		pthread_mutex_unlock(&h->image_mu);
		brain__image_unref(img);
	}
	return BRAIN_OK;
}

/* ---- metadata ------------------------------------------------------------ */

int brain__hippocampus_META_CHECK(hippocampus *h, brain_msg_meta_check *m)
{
	uint32_t slot = UINT32_MAX;
	if (m->id != BRAIN_ID_NONE && !brain__map_get(&h->ids, m->id, &slot))
		return no_such_id(m->id);
	return brain__meta_store_check(&h->meta, m->blob, m->len, slot, &m->widened);
}

int brain__hippocampus_META_SET(hippocampus *h, brain_msg_meta_set *m)
{
	uint32_t slot;
	if (!brain__map_get(&h->ids, m->id, &slot))
		return no_such_id(m->id);
	uint32_t len = 0;
	if (m->blob)
		memcpy(&len, m->blob, 4);
	int rc = brain__meta_store_prepare(&h->meta, m->blob ? m->blob + 4 : NULL, len, slot);
	if (rc)
		return rc;
	/* the memory stays at its slot: its old metadata out, the new in */
	brain__meta_store_drop(&h->meta, slot);
	brain__meta_store_put(&h->meta, slot, m->blob);
	return BRAIN_OK;
}

int brain__hippocampus_META_GET(hippocampus *h, brain_msg_meta_get *m)
{
	uint32_t slot;
	m->blob = NULL;
	m->len = 0;
	if (!brain__map_get(&h->ids, m->id, &slot))
		return no_such_id(m->id);
	m->blob = brain__meta_blob(&h->meta, slot, &m->len);
	return BRAIN_OK;
}

static int field_type(const char *name, size_t len, void *payload)
{
	return brain__meta_field_type(payload, name, len);
}

static bool slot_live(uint32_t slot, void *payload)
{
	return is_live(rec(payload, slot));
}

int brain__hippocampus_FILTER_EVAL(hippocampus *h, brain_msg_filter_eval *m)
{
	m->set = NULL;
	m->count = 0;
	if (!m->filter && h->meta.broken) {
		/* every live memory, by its record (the live set may be stale) */
		m->set = brain__slotset_new();
		int rc = m->set ? BRAIN_OK : BRAIN_ENOMEM;
		for (uint32_t s = 0; rc == BRAIN_OK && s < h->next_slot; s++)
			if (is_live(rec(h, s)))
				rc = brain__slotset_add(m->set, s);
		if (rc == BRAIN_OK)
			m->count = brain__slotset_count(m->set);
		return rc;
	}
	if (!m->filter) {
		/* every live memory */
		m->set = brain__slotset_copy(h->meta.live);
		if (!m->set)
			return BRAIN_ENOMEM;
		m->count = brain__slotset_count(m->set);
		return BRAIN_OK;
	}
	int rc = brain__filter_check_types(m->filter, field_type, &h->meta);
	if (rc == BRAIN_OK)
		rc = brain__meta_store_eval(&h->meta, m->filter, h->next_slot, slot_live, h, &m->set);
	if (rc == BRAIN_OK)
		m->count = brain__slotset_count(m->set);
	return rc;
}

/* ---- relations ----------------------------------------------------------- */

int brain__hippocampus_RELATE(hippocampus *h, brain_msg_relate *m)
{
	if (!brain__map_get(&h->ids, m->from, NULL))
		return no_such_id(m->from);
	if (!brain__map_get(&h->ids, m->to, NULL))
		return no_such_id(m->to);
	return brain__rel_put(&h->rels, m->from, m->to, m->verb, m->len, m->weight, &m->had,
	                      &m->old);
}

int brain__hippocampus_UNRELATE(hippocampus *h, brain_msg_unrelate *m)
{
	m->removed = 0;
	bool any;
	if (m->verb) {
		any = brain__rel_get(&h->rels, m->from, m->to, m->verb, m->len, NULL);
	} else {
		const rel_node *n = brain__rel_node(&h->rels, m->from);
		any = false;
		for (uint32_t i = 0; n && i < n->out.n && !any; i++)
			any = n->out.e[i].other == m->to;
	}
	if (!any)
		return brain__err(BRAIN_ENOTFOUND, "memory %llu has no relation%s%.*s%s to %llu",
		                  (unsigned long long)m->from, m->verb ? " \"" : "",
		                  m->verb ? (int)m->len : 0, m->verb ? m->verb : "",
		                  m->verb ? "\"" : "", (unsigned long long)m->to);
	if (!m->check)
		m->removed = brain__rel_remove(&h->rels, m->from, m->to, m->verb, m->len);
	return BRAIN_OK;
}

/* A breadth-first walk's queue entry. */
typedef struct hop {
	uint64_t id;
	uint32_t hops;
} hop;

int brain__hippocampus_RELATED(hippocampus *h, brain_msg_related *m)
{
	m->slots = NULL;
	uint32_t slot;
	if (!brain__map_get(&h->ids, m->start, &slot))
		return no_such_id(m->start);
	int64_t verb = -1;
	if (m->verb) {
		verb = brain__rel_verb_find(&h->rels, m->verb, m->len);
		if (verb < 0 && m->every_edge)
			return BRAIN_OK; /* no edge has that verb */
		if (verb < 0)
			m->depth = 0; /* nothing is reached but the start */
	}
	if (m->every_edge) {
		const rel_node *n = brain__rel_node(&h->rels, m->start);
		int rc = BRAIN_OK;
		for (int side = 0; n && rc == BRAIN_OK && side < 2; side++) {
			if (!(m->direction & (side == 0 ? BRAIN_REL_OUT : BRAIN_REL_IN)))
				continue;
			const rel_list *l = side == 0 ? &n->out : &n->in;
			for (uint32_t i = 0; rc == BRAIN_OK && i < l->n; i++) {
				const rel_edge *e = &l->e[i];
				const brain_name *vb = brain__names_at(&h->rels.verbs, e->verb);
				if ((verb >= 0 && e->verb != (uint32_t)verb) ||
				    (side == 1 && e->other == m->start && (m->direction & BRAIN_REL_OUT)))
					continue; /* a loop was listed with the out-edges */
				rc = m->each(m->ctx, side == 0 ? m->start : e->other,
				             side == 0 ? e->other : m->start, vb->s, vb->len, e->weight, 1);
			}
		}
		return rc;
	}
	brain_slotset *set = m->want_slots ? brain__slotset_new() : NULL;
	brain_map seen;
	brain__map_init(&seen);
	hop *queue = NULL;
	size_t head = 0, tail = 0, cap = 0;
	int rc = m->want_slots && !set ? BRAIN_ENOMEM : brain__map_put(&seen, m->start, 0);
	if (rc == BRAIN_OK && set)
		rc = brain__slotset_add(set, slot);
	if (rc == BRAIN_OK && m->depth > 0) {
		cap = 64;
		queue = brain__malloc_array(cap, sizeof *queue);
		if (!queue)
			rc = brain__oom(cap * sizeof *queue, "related");
		else
			queue[tail++] = (hop){m->start, 0};
	}
	while (rc == BRAIN_OK && head < tail) {
		hop cur = queue[head++];
		if (cur.hops >= m->depth)
			continue;
		const rel_node *n = brain__rel_node(&h->rels, cur.id);
		for (int side = 0; n && rc == BRAIN_OK && side < 2; side++) {
			if (!(m->direction & (side == 0 ? BRAIN_REL_OUT : BRAIN_REL_IN)))
				continue;
			const rel_list *l = side == 0 ? &n->out : &n->in;
			for (uint32_t i = 0; rc == BRAIN_OK && i < l->n; i++) {
				const rel_edge *e = &l->e[i];
				if (verb >= 0 && e->verb != (uint32_t)verb)
					continue;
				uint32_t *v;
				bool created;
				rc = brain__map_upsert(&seen, e->other, &v, &created);
				if (rc || !created)
					continue;
				*v = cur.hops + 1;
				const brain_name *vb = brain__names_at(&h->rels.verbs, e->verb);
				uint64_t from = side == 0 ? cur.id : e->other, to = side == 0 ? e->other : cur.id;
				if (m->each)
					rc = m->each(m->ctx, from, to, vb->s, vb->len, e->weight, cur.hops + 1);
				uint32_t s;
				if (rc == BRAIN_OK && set && brain__map_get(&h->ids, e->other, &s))
					rc = brain__slotset_add(set, s);
				if (rc == BRAIN_OK && tail == cap) {
					hop *q = brain__realloc(queue, 2 * cap * sizeof *q);
					if (!q)
						rc = brain__oom(2 * cap * sizeof *q, "related");
					else {
						queue = q;
						cap *= 2;
					}
				}
				if (rc == BRAIN_OK)
					queue[tail++] = (hop){e->other, cur.hops + 1};
			}
		}
	}
	brain__free(queue);
	brain__map_free(&seen);
	if (rc) {
		brain__slotset_free(set);
		return rc;
	}
	m->slots = set;
	return BRAIN_OK;
}

/* ---- keywords ------------------------------------------------------------ */

int brain__hippocampus_terms(hippocampus *h, const char *text, size_t len,
                             brain_analysis *scratch, uint64_t **terms, size_t *n)
{
	*terms = NULL;
	*n = 0;
	brain_msg_text_analyze a = {text, len, 0, 0, scratch};
	int rc = brain__call_TEXT_ANALYZE(h->spine, &a);
	if (rc == BRAIN_OK)
		rc = brain__analysis_terms(scratch, terms);
	if (rc == BRAIN_OK)
		*n = scratch->nwords;
	return rc;
}

static bool kw_accepts(uint32_t slot, void *payload)
{
	const brain_msg_kw_search *m = ((void **)payload)[1];
	const hippocampus *h = ((void **)payload)[0];
	if (slot >= h->next_slot)
		return false;
	const record *r = rec(h, slot);
	if (!is_live(r) || !(r->flags & RECORD_HAS_TEXT))
		return false;
	return !m->pass || brain__slotset_contains(m->pass, slot);
}

int brain__hippocampus_KW_SEARCH(hippocampus *h, brain_msg_kw_search *m)
{
	m->found = 0;
	void *ctx[2] = {h, m};
	if (!m->nterms)
		return BRAIN_OK;
	return brain__kw_search(h->kw, m->terms, m->nterms, m->k, m->require_all, kw_accepts, ctx,
	                        m->slots, m->scores, &m->found);
}

/* ---- keys ------------------------------------------------------------------ */

int brain__hippocampus_KEY_FIND(hippocampus *h, brain_msg_key_find *m)
{
	m->id = BRAIN_ID_NONE;
	brain_filter *f = brain_filter_string(BRAIN_META_KEY, BRAIN_FILTER_EQ, m->key);
	if (!f)
		return brain__oom(strlen(m->key) + 64, "key");
	brain_slotset *set = NULL;
	int rc = brain__filter_check_types(f, field_type, &h->meta);
	if (rc == BRAIN_OK)
		rc = brain__meta_store_eval(&h->meta, f, h->next_slot, slot_live, h, &set);
	brain_filter_free(f);
	uint32_t slot;
	/* one at most: keys are given by the api alone, and a put finds the
	 * key's memory under the write lock before it stores another */
	if (rc == BRAIN_OK && brain__slotset_read(set, 0, &slot, 1) == 1)
		m->id = rec(h, slot)->id;
	brain__slotset_free(set);
	return rc;
}
