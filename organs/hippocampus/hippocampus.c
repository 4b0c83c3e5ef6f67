/*
 * organs/hippocampus/hippocampus.c - the memory store.
 *
 * Every memory lives in a slot: a record (id, text, importance, times) in a
 * row table, and its vector in the index backend under the same slot
 * number. Ids map to slots through a hash map; freed slots are reused, so
 * slot numbers stay dense and backends can keep plain arrays.
 *
 * Every change makes all the room it needs before it changes anything, so
 * an error (out of memory above all) leaves the store exactly as it was.
 * Forgetting never allocates.
 *
 * Persistence: save() writes the records, their texts, the id map, the
 * free slots and the index into a checkpoint image; create() adopts them
 * from a mapped image in place (records, id map and index are used where
 * they lie; only the free-slot stack is copied). Records, id map and free
 * slots are verified against their checksums on open; texts and the index
 * when first used, so a large brain opens without reading its vectors.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "spine/spine.h"
#include "index/distance.h"
#include "index/hnsw.h"
#include "index/index.h"
#include "base/hashmap.h"
#include "storage/image.h"
#include "storage/rows.h"

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

/* Counters saved beside the records. */
typedef struct hippo_meta {
	uint32_t version;
	uint32_t record_bytes;
	uint32_t chunk_log2;
	uint32_t dimensions;
	uint64_t next_slot;
	uint64_t next_id;
	uint64_t count;
	uint64_t text_count;
	uint64_t text_bytes;
	uint64_t nfree;
	uint32_t index_saved; /* 1: INDEX section from the backend; 0: VECTORS */
	uint32_t reserved;
} hippo_meta;

/* Records per chunk of the row table: small, so that a brain of a few
 * memories stays small. */
#define RECORD_CHUNK_LOG2 8

typedef struct hippocampus {
	const brain_env *env;
	uint32_t dims;
	const brain_index_vtable *vt;
	brain_index *index;
	brain_rows records;  /* slot -> record */
	brain_map ids;       /* id -> slot */
	uint32_t *free;      /* stack of free slots below next_slot */
	size_t nfree;
	size_t free_cap;
	uint32_t next_slot;  /* slots [0, next_slot) have been used */
	uint32_t max_slots;
	brain_id next_id;    /* next id to assign */
	_Atomic uint64_t count;
	_Atomic uint64_t text_count;
	size_t text_bytes;
	brain_image *image;  /* adopted from (a reference), or NULL */
	const char *texts;   /* the image's texts section */
	size_t texts_len;
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

/* The text of a live record (NULL if none); texts from the image are
 * verified against their checksums on first use. */
static int text_of(const hippocampus *h, const record *r, const char **out)
{
	*out = NULL;
	if (!(r->flags & RECORD_HAS_TEXT))
		return BRAIN_OK;
	if (r->flags & RECORD_TEXT_HEAP) {
		*out = heap_text(r);
		return BRAIN_OK;
	}
	int rc = brain__image_verify(h->image, BRAIN_SECTION_TEXTS, (size_t)r->text,
	                             (size_t)r->text_len + 1);
	if (rc == BRAIN_OK)
		*out = h->texts + r->text;
	return rc;
}

/* The index's bytes from the image are verified before their first use. */
static inline int index_ready(const hippocampus *h)
{
	return h->image ? brain__image_verify(h->image, BRAIN_SECTION_INDEX, 0, SIZE_MAX)
	                : BRAIN_OK;
}

/* The index's calls that may allocate, counted as the index's bytes
 * (base/alloc.c) rather than the Hippocampus's own. */
static inline brain_mem_scope ix_enter(void)
{
	return brain__mem_enter(brain__mem_current().mem, BRAIN_MEM_INDEX);
}

static int ix_open(hippocampus *h, const brain_index_config *cfg)
{
	brain_mem_scope p = ix_enter();
	int rc = h->vt->open(cfg, &h->index);
	brain__mem_leave(p);
	return rc;
}

static int ix_load(hippocampus *h, const brain_index_config *cfg, void *data, size_t len)
{
	brain_mem_scope p = ix_enter();
	int rc = h->vt->load(cfg, data, len, &h->index);
	brain__mem_leave(p);
	return rc;
}

static int ix_reserve(hippocampus *h, uint32_t slots)
{
	brain_mem_scope p = ix_enter();
	int rc = h->vt->reserve(h->index, slots);
	brain__mem_leave(p);
	return rc;
}

static int ix_add(hippocampus *h, uint32_t slot, const float *vector)
{
	brain_mem_scope p = ix_enter();
	int rc = h->vt->add(h->index, slot, vector);
	brain__mem_leave(p);
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

static int ix_search(const hippocampus *h, const float *query, size_t k,
                     const brain_index_filter *filter, uint32_t *slots, float *distances,
                     size_t *found)
{
	brain_mem_scope p = ix_enter();
	int rc = h->vt->search(h->index, query, k, filter, slots, distances, found);
	brain__mem_leave(p);
	return rc;
}

static int64_t env_param(void *payload, int param)
{
	return brain__param_number(payload, param);
}

static brain_index_config index_config(const hippocampus *h)
{
	brain_index_config cfg = {
		.version = BRAIN_INDEX_VTABLE_VERSION,
		.dimensions = h->dims,
		.metric = h->env->opts.metric,
		.max_slots = BRAIN_MAX(h->max_slots, h->next_slot),
		.param = env_param,
		.param_payload = (void *)h->env,
	};
	return cfg;
}

static void destroy(void *state);
static int load(hippocampus *h, brain_image *img);

static int create(const brain_env *env, brain_spine *spine, const brain_organ_args *args,
                  void **state)
{
	(void)spine;
	hippocampus *h = brain__calloc(1, sizeof *h);
	if (!h)
		return brain__oom(sizeof *h, "hippocampus");
	h->env = env;
	h->dims = env->opts.dimensions;
	h->vt = env->index_vt;
	h->max_slots = (uint32_t)env->opts.max_memories;
	h->next_id = 1;
	brain__map_init(&h->ids);
	int rc = brain__rows_init_aligned(&h->records, sizeof(record), _Alignof(record),
	                                  RECORD_CHUNK_LOG2);
	if (rc == BRAIN_OK && args->image) {
		rc = load(h, args->image);
	} else if (rc == BRAIN_OK) {
		brain_index_config cfg = index_config(h);
		rc = ix_open(h, &cfg);
	}
	if (rc) {
		/* Records adopted from an image hold no heap texts, and a record
		 * that failed its checks must not be taken for one. */
		if (args->image)
			h->next_slot = 0;
		destroy(h);
		return rc;
	}
	*state = h;
	return BRAIN_OK;
}

static void destroy(void *state)
{
	hippocampus *h = state;
	if (!h)
		return;
	for (uint32_t s = 0; s < h->next_slot && s < brain__rows_capacity(&h->records); s++) {
		record *r = rec(h, s);
		if (is_live(r) && (r->flags & RECORD_TEXT_HEAP))
			brain__free(heap_text(r));
	}
	if (h->index)
		h->vt->close(h->index);
	brain__rows_free(&h->records);
	brain__map_free(&h->ids);
	brain__free(h->free);
	brain__image_unref(h->image);
	brain__free(h);
}

/* Make room for `more` new memories: records, id map, free-slot stack (so
 * that forgetting them later never allocates) and index. */
static int reserve(hippocampus *h, size_t more)
{
	uint64_t count = atomic_load(&h->count);
	if (count + more > h->env->opts.max_memories)
		return brain__err(BRAIN_EFULL, "brain holds %llu memories; %zu more would pass its "
		                  "max_memories of %llu",
		                  (unsigned long long)count, more,
		                  (unsigned long long)h->env->opts.max_memories);
	size_t total = (size_t)count + more;
	/* New slots come from the free stack first, then from next_slot. */
	size_t fresh = more > h->nfree ? more - h->nfree : 0;
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
		rc = ix_reserve(h, (uint32_t)slots);
	return rc;
}

static uint32_t take_slot(hippocampus *h)
{
	return h->nfree ? h->free[--h->nfree] : h->next_slot++;
}

/* Fill the record of a slot whose vector is in the index. Cannot fail:
 * reserve() made room in the id map. */
static void commit(hippocampus *h, uint32_t slot, brain_id id, char *text, size_t len,
                   float importance, int64_t created_ms)
{
	record *r = rec(h, slot);
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

static int on_STORE(hippocampus *h, brain_msg_store *m)
{
	brain_id id = m->id;
	if (id == BRAIN_ID_NONE) {
		id = h->next_id;
		if (id == BRAIN_ID_NONE)
			return brain__err(BRAIN_EFULL, "every id up to %llu has been given; no id is left "
			                  "to assign",
			                  (unsigned long long)(BRAIN_ID_NONE - 1));
	} else if (brain__map_get(&h->ids, id, NULL)) {
		return brain__err(BRAIN_EEXISTS, "id %llu is already in use", (unsigned long long)id);
	}
	int rc = reserve(h, 1);
	if (rc)
		return rc;
	char *text = NULL;
	if (m->text) {
		text = brain__strndup(m->text, m->len);
		if (!text)
			return brain__oom(m->len + 1, "memory text");
	}
	uint32_t slot = take_slot(h);
	rc = ix_add(h, slot, m->vector);
	if (rc) {
		/* give the slot back as it was */
		if (slot + 1 == h->next_slot)
			h->next_slot--;
		else
			h->free[h->nfree++] = slot;
		brain__free(text);
		return rc;
	}
	if (m->created_ms == 0)
		m->created_ms = brain__now_ms();
	commit(h, slot, id, text, m->len, m->importance, m->created_ms);
	m->out_id = id;
	return BRAIN_OK;
}

/* The rest of store_batch for a backend with add_batch (the rows and ids
 * are checked, room is reserved): all rows prepared in one buffer, one call
 * (which may use several threads). */
static int store_batch_at_once(hippocampus *h, const brain_msg_store_batch *m, int64_t now)
{
	size_t n = m->n, dims = h->dims;
	uint32_t *slots = brain__malloc_array(n, sizeof *slots);
	float *rows = brain__malloc_array(n, dims * sizeof *rows);
	if (!slots || !rows) {
		brain__free(slots);
		brain__free(rows);
		return brain__oom(n * (dims * sizeof *rows + sizeof *slots), "batch rows");
	}
	for (size_t i = 0; i < n; i++) {
		brain__vector_prepare(m->vectors + i * dims, dims, h->env->opts.metric,
		                      rows + i * dims, "row"); /* checked: cannot fail */
		slots[i] = take_slot(h);
	}
	int rc = ix_add_batch(h, slots, rows, n);
	if (rc) {
		/* give the slots back in the reverse order they were taken */
		for (size_t i = n; i-- > 0;) {
			if (slots[i] + 1 == h->next_slot)
				h->next_slot--;
			else
				h->free[h->nfree++] = slots[i];
		}
	} else {
		for (size_t i = 0; i < n; i++)
			commit(h, slots[i], m->ids[i], NULL, 0, 0.5f, now);
	}
	brain__free(slots);
	brain__free(rows);
	return rc;
}

static int on_STORE_BATCH(hippocampus *h, brain_msg_store_batch *m)
{
	size_t n = m->n, dims = h->dims;
	int metric = h->env->opts.metric;
	if (n == 0)
		return BRAIN_OK;
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
	if (rc == BRAIN_OK && n > 1 && brain__index_add_batch(h->vt)) {
		brain__free(row);
		return store_batch_at_once(h, m, now);
	}
	for (size_t i = 0; rc == BRAIN_OK && i < n; i++) {
		brain__vector_prepare(m->vectors + i * dims, dims, metric, row, "row");
		uint32_t slot = take_slot(h);
		rc = ix_add(h, slot, row);
		if (rc) {
			if (slot + 1 == h->next_slot)
				h->next_slot--;
			else
				h->free[h->nfree++] = slot;
			for (size_t j = 0; j < i; j++) {
				uint32_t s;
				brain__map_get(&h->ids, m->ids[j], &s);
				ix_remove(h, s);
				brain__map_remove(&h->ids, m->ids[j]);
				memset(rec(h, s), 0, sizeof(record));
				h->free[h->nfree++] = s;
				atomic_fetch_sub(&h->count, 1);
			}
			h->next_id = next_id;
			break;
		}
		commit(h, slot, m->ids[i], NULL, 0, 0.5f, now);
	}
	brain__free(row);
	return rc;
}

static int no_such_id(uint64_t id)
{
	return brain__err(BRAIN_ENOTFOUND, "no memory has id %llu", (unsigned long long)id);
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

static int on_FORGET(hippocampus *h, brain_msg_forget *m)
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
		rc = ix_remove(h, slot);
	if (rc)
		return index_lost(m->id, slot, rc);
	record *r = rec(h, slot);
	brain__map_remove(&h->ids, m->id);
	if (r->flags & RECORD_HAS_TEXT) {
		atomic_fetch_sub(&h->text_count, 1);
		h->text_bytes -= r->text_len + 1;
		if (r->flags & RECORD_TEXT_HEAP)
			brain__free(heap_text(r));
	}
	memset(r, 0, sizeof *r);
	h->free[h->nfree++] = slot; /* room reserved when it was stored */
	atomic_fetch_sub(&h->count, 1);
	if (m->undo && m->id + 1 == h->next_id)
		h->next_id = m->id;
	return BRAIN_OK;
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
	return text_of(h, r, &hit->text);
}

static int on_LOOKUP(hippocampus *h, brain_msg_lookup *m)
{
	uint32_t slot;
	if (!brain__map_get(&h->ids, m->id, &slot))
		return no_such_id(m->id);
	memset(&m->hit, 0, sizeof m->hit);
	return fill_hit(h, slot, &m->hit);
}

static int on_GET_VECTOR(hippocampus *h, brain_msg_get_vector *m)
{
	uint32_t slot;
	if (!brain__map_get(&h->ids, m->id, &slot))
		return no_such_id(m->id);
	int rc = index_ready(h);
	if (rc == BRAIN_OK)
		rc = h->vt->get(h->index, slot, m->vector);
	return rc ? index_lost(m->id, slot, rc) : BRAIN_OK;
}

static int on_VERIFY(hippocampus *h, brain_msg_verify *m)
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

/* The caller's filter by id (and the text filter if asked). */
static int accepts(uint32_t slot, void *payload)
{
	const accept_ctx *c = payload;
	const record *r = rec(c->h, slot);
	if (!is_live(r) || (c->m->text_only && !(r->flags & RECORD_HAS_TEXT)))
		return 0;
	return c->m->accept(r->id, c->m->accept_payload) != 0;
}

static int on_SEARCH(hippocampus *h, brain_msg_search *m)
{
	if (m->accept) {
		accept_ctx c = {h, m};
		brain_index_filter f = {accepts, &c};
		m->found = 0;
		int rc = index_ready(h);
		return rc ? rc
		          : ix_search(h, m->query, m->k, &f, m->slots, m->distances,
		                          &m->found);
	}
	brain_index_filter filter = {has_text, h};
	m->found = 0;
	int rc = index_ready(h);
	if (rc)
		return rc;
	return ix_search(h, m->query, m->k, m->text_only ? &filter : NULL, m->slots,
	                     m->distances, &m->found);
}

static int on_HITS(hippocampus *h, brain_msg_hits *m)
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

static int on_DISTANCES(hippocampus *h, brain_msg_distances *m)
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

static int on_UPDATE(hippocampus *h, brain_msg_update *m)
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
	rc = ix_add(h, slot, m->vector);
	if (rc && ix_add(h, slot, m->old) != BRAIN_OK)
		return brain__err(BRAIN_EINTERNAL, "update: memory %llu lost its vector: the index "
		                  "refused the new one and then the old one",
		                  (unsigned long long)m->id);
	return rc;
}

static int on_STATUS(hippocampus *h, brain_msg_status *m)
{
	m->count = atomic_load(&h->count);
	m->text_count = atomic_load(&h->text_count);
	if (m->want_bytes)
		m->index_bytes = h->vt->memory_usage(h->index) + brain__rows_memory(&h->records) +
		                 brain__map_memory(&h->ids);
	return BRAIN_OK;
}


static void saved_param(brain_msg_index_saved *m, int param, int64_t value)
{
	if (m->n < BRAIN_ARRAY_LEN(m->saved)) {
		m->saved[m->n].param = param;
		m->saved[m->n].value = value;
		m->n++;
	}
}

static int on_INDEX_SAVED(hippocampus *h, brain_msg_index_saved *m)
{
	m->n = 0;
	brain_hnsw_saved sv;
	if (h->vt != &brain__index_hnsw || !h->index || !brain__hnsw_saved(h->index, &sv))
		return BRAIN_OK;
	if (sv.shape) {
		saved_param(m, BRAIN_PARAM_HNSW_M, sv.m);
		saved_param(m, BRAIN_PARAM_HNSW_EF_CONSTRUCTION, sv.ef_construction);
		saved_param(m, BRAIN_PARAM_HNSW_SEED, sv.seed);
		saved_param(m, BRAIN_PARAM_HNSW_SQ8, sv.sq8);
		saved_param(m, BRAIN_PARAM_HNSW_ELEMENT, sv.element);
	}
	if (sv.exact_below_known)
		saved_param(m, BRAIN_PARAM_HNSW_EXACT_BELOW, sv.exact_below);
	return BRAIN_OK;
}

/* ---- persistence --------------------------------------------------------- */

static int index_write(void *payload, const void *data, size_t len)
{
	return brain__imgw_write(payload, data, len);
}

static int save(void *state, brain_image_writer *w)
{
	hippocampus *h = state;
	bool own = brain__index_persists(h->vt);
	int rc = index_ready(h);
	if (rc)
		return rc;
	hippo_meta meta = {1, sizeof(record), RECORD_CHUNK_LOG2, h->dims, h->next_slot,
	                   h->next_id, atomic_load(&h->count), atomic_load(&h->text_count),
	                   h->text_bytes, h->nfree, own ? 1u : 0u, 0};
	rc = brain__imgw_section_begin(w, BRAIN_SECTION_HIPPO_META);
	if (rc == BRAIN_OK)
		rc = brain__imgw_write(w, &meta, sizeof meta);
	if (rc == BRAIN_OK)
		rc = brain__imgw_section_end(w);

	/* records, with texts as offsets in the order they are written next */
	if (rc == BRAIN_OK)
		rc = brain__imgw_section_begin(w, BRAIN_SECTION_RECORDS);
	uint64_t text_off = 0;
	for (uint32_t s = 0; rc == BRAIN_OK && s < h->next_slot; s++) {
		const record *r = rec(h, s);
		record d;
		memset(&d, 0, sizeof d);
		if (is_live(r)) {
			d.id = r->id;
			d.created_ms = r->created_ms;
			atomic_init(&d.accessed_ms,
			            atomic_load_explicit(&((record *)r)->accessed_ms, memory_order_relaxed));
			d.text_len = r->text_len;
			d.importance = r->importance;
			d.flags = r->flags & (RECORD_LIVE | RECORD_HAS_TEXT);
			if (r->flags & RECORD_HAS_TEXT) {
				d.text = text_off;
				text_off += (uint64_t)r->text_len + 1;
			}
		}
		rc = brain__imgw_write(w, &d, sizeof d);
	}
	/* whole chunks, so that the records are adopted in place */
	size_t per = (size_t)1 << RECORD_CHUNK_LOG2;
	size_t padded = (h->next_slot + per - 1) / per * per;
	if (rc == BRAIN_OK)
		rc = brain__imgw_zeros(w, (padded - h->next_slot) * sizeof(record));
	if (rc == BRAIN_OK)
		rc = brain__imgw_section_end(w);

	if (rc == BRAIN_OK)
		rc = brain__imgw_section_begin(w, BRAIN_SECTION_TEXTS);
	for (uint32_t s = 0; rc == BRAIN_OK && s < h->next_slot; s++) {
		const record *r = rec(h, s);
		const char *t = NULL;
		if (!is_live(r) || !(r->flags & RECORD_HAS_TEXT))
			continue;
		rc = text_of(h, r, &t);
		if (rc == BRAIN_OK)
			rc = brain__imgw_write(w, t, (size_t)r->text_len + 1);
	}
	if (rc == BRAIN_OK)
		rc = brain__imgw_section_end(w);

	if (rc == BRAIN_OK)
		rc = brain__imgw_section_begin(w, BRAIN_SECTION_IDMAP);
	uint64_t map_head[2] = {h->ids.cells ? h->ids.mask + 1 : 0, h->ids.count};
	if (rc == BRAIN_OK)
		rc = brain__imgw_write(w, map_head, sizeof map_head);
	if (rc == BRAIN_OK && h->ids.cells)
		rc = brain__imgw_write(w, h->ids.cells, (h->ids.mask + 1) * sizeof *h->ids.cells);
	if (rc == BRAIN_OK)
		rc = brain__imgw_section_end(w);

	if (rc == BRAIN_OK)
		rc = brain__imgw_section_begin(w, BRAIN_SECTION_FREE);
	if (rc == BRAIN_OK && h->nfree)
		rc = brain__imgw_write(w, h->free, h->nfree * sizeof *h->free);
	if (rc == BRAIN_OK)
		rc = brain__imgw_section_end(w);

	if (rc == BRAIN_OK && own) {
		brain_index_writer iw = {index_write, w};
		rc = brain__imgw_section_begin(w, BRAIN_SECTION_INDEX);
		if (rc == BRAIN_OK)
			rc = h->vt->save(h->index, &iw);
		if (rc == BRAIN_OK)
			rc = brain__imgw_section_end(w);
	} else if (rc == BRAIN_OK) {
		/* A backend that cannot save: slot and vector of each memory. */
		float *v = brain__malloc_array(h->dims, sizeof *v);
		if (!v)
			return brain__oom(h->dims * sizeof *v, "checkpoint vector");
		rc = brain__imgw_section_begin(w, BRAIN_SECTION_VECTORS);
		for (uint32_t s = 0; rc == BRAIN_OK && s < h->next_slot; s++) {
			if (!is_live(rec(h, s)))
				continue;
			uint32_t head[2] = {s, 0};
			rc = h->vt->get(h->index, s, v);
			if (rc == BRAIN_OK)
				rc = brain__imgw_write(w, head, sizeof head);
			if (rc == BRAIN_OK)
				rc = brain__imgw_write(w, v, h->dims * sizeof *v);
		}
		if (rc == BRAIN_OK)
			rc = brain__imgw_section_end(w);
		brain__free(v);
	}
	return rc;
}

static int bad(const brain_image *img, const char *what)
{
	return brain__err(BRAIN_ECORRUPT, "%s: memory store: %s", brain__image_name(img), what);
}

/* Section `kind`, verified whole now. */
static int eager(brain_image *img, uint32_t kind, void **data, size_t *len)
{
	if (!brain__image_section(img, kind, data, len))
		return brain__err(BRAIN_ECORRUPT, "%s: section %u of the memory store is missing",
		                  brain__image_name(img), kind);
	return brain__image_verify(img, kind, 0, *len);
}

static int load_records(hippocampus *h, brain_image *img, const hippo_meta *meta)
{
	void *data;
	size_t len;
	int rc = eager(img, BRAIN_SECTION_RECORDS, &data, &len);
	if (rc)
		return rc;
	size_t per = (size_t)1 << RECORD_CHUNK_LOG2;
	size_t padded = ((size_t)meta->next_slot + per - 1) / per * per;
	if (len / sizeof(record) < padded)
		return bad(img, "the records section is shorter than its slots");
	rc = brain__rows_adopt(&h->records, data, padded);
	if (rc)
		return rc;
	uint64_t live = 0, texts = 0, text_bytes = 0;
	for (uint32_t s = 0; s < meta->next_slot; s++) {
		record *r = rec(h, s);
		if (r->flags & ~(uint32_t)(RECORD_LIVE | RECORD_HAS_TEXT))
			return bad(img, "a record has unknown flags");
		if (!is_live(r)) {
			if (r->flags)
				return bad(img, "a free slot's record has flags");
			continue;
		}
		live++;
		if (!(r->importance >= 0.0f && r->importance <= 1.0f) || r->id == BRAIN_ID_NONE)
			return bad(img, "a record's importance or id is out of range");
		if (r->flags & RECORD_HAS_TEXT) {
			if (r->text > h->texts_len || r->text_len >= h->texts_len - r->text)
				return bad(img, "a record's text lies outside the texts section");
			texts++;
			text_bytes += (uint64_t)r->text_len + 1;
		}
	}
	if (live != meta->count || texts != meta->text_count || text_bytes != meta->text_bytes)
		return bad(img, "the records do not add up to the counts saved with them");
	return BRAIN_OK;
}

static int load_ids(hippocampus *h, brain_image *img)
{
	void *data;
	size_t len;
	int rc = eager(img, BRAIN_SECTION_IDMAP, &data, &len);
	if (rc)
		return rc;
	uint64_t head[2];
	if (len < sizeof head)
		return bad(img, "the id map is too short");
	memcpy(head, data, sizeof head);
	if (head[0] == 0) {
		if (head[1] != 0 || atomic_load(&h->count) != 0)
			return bad(img, "the id map is empty but memories exist");
		return BRAIN_OK;
	}
	if (head[0] > (len - sizeof head) / sizeof(brain_map_cell))
		return bad(img, "the id map is larger than its section");
	brain_map_cell *cells = (brain_map_cell *)(void *)((unsigned char *)data + sizeof head);
	rc = brain__map_adopt(&h->ids, cells, (size_t)head[0], (size_t)head[1]);
	if (rc)
		return brain__err_context(rc, "id map: ");
	if (h->ids.count != atomic_load(&h->count))
		return bad(img, "the id map and the records disagree on the count");
	/* Slots in range keep every later access in bounds; that each names
	 * the right record is what the checksums vouch for (checking it here
	 * would cost a random access per memory on every open). */
	for (size_t i = 0; i <= h->ids.mask; i++) {
		const brain_map_cell *c = &h->ids.cells[i];
		if (c->key != BRAIN_MAP_EMPTY && c->value >= h->next_slot)
			return bad(img, "the id map points past the slots in use");
	}
	return BRAIN_OK;
}

static int load_free(hippocampus *h, brain_image *img, const hippo_meta *meta)
{
	void *data;
	size_t len;
	int rc = eager(img, BRAIN_SECTION_FREE, &data, &len);
	if (rc)
		return rc;
	if (len / sizeof(uint32_t) < meta->nfree)
		return bad(img, "the free slot list is shorter than its count");
	if (meta->count + meta->nfree != meta->next_slot)
		return bad(img, "memories and free slots do not add up to the slots used");
	size_t cap = BRAIN_MAX((size_t)meta->count + (size_t)meta->nfree, (size_t)1);
	h->free = brain__malloc_array(cap, sizeof *h->free);
	if (!h->free)
		return brain__oom(cap * sizeof *h->free, "free slot stack");
	h->free_cap = cap;
	memcpy(h->free, data, (size_t)meta->nfree * sizeof *h->free);
	for (size_t i = 0; i < meta->nfree; i++)
		if (h->free[i] >= meta->next_slot || is_live(rec(h, h->free[i])))
			return bad(img, "a free slot is out of range or holds a memory");
	h->nfree = (size_t)meta->nfree;
	return BRAIN_OK;
}

static int load_index(hippocampus *h, brain_image *img, const hippo_meta *meta)
{
	brain_index_config cfg = index_config(h);
	void *data;
	size_t len;
	if (meta->index_saved) {
		if (!brain__index_persists(h->vt))
			return bad(img, "the index was saved by a backend that can save, this one cannot");
		if (!brain__image_section(img, BRAIN_SECTION_INDEX, &data, &len))
			return bad(img, "the index section is missing");
		int rc = ix_load(h, &cfg, data, len);
		if (rc == BRAIN_OK)
			return BRAIN_OK;
		/* The backend read bytes not yet verified: if they fail their
		 * checksums, say so (with the file and offset). */
		char why[256];
		snprintf(why, sizeof why, "%s", brain_errmsg());
		int vrc = brain__image_verify(img, BRAIN_SECTION_INDEX, 0, len);
		if (vrc)
			return vrc;
		return brain__err(rc, "%s: index: %s", brain__image_name(img), why);
	}
	int rc = eager(img, BRAIN_SECTION_VECTORS, &data, &len);
	if (rc == BRAIN_OK)
		rc = ix_open(h, &cfg);
	if (rc == BRAIN_OK)
		rc = ix_reserve(h, h->next_slot);
	size_t row = sizeof(uint32_t) * 2 + (size_t)h->dims * sizeof(float);
	if (rc == BRAIN_OK && len != (size_t)meta->count * row)
		return bad(img, "the vectors section does not hold one vector per memory");
	const unsigned char *p = data;
	for (uint64_t i = 0; rc == BRAIN_OK && i < meta->count; i++, p += row) {
		uint32_t slot;
		memcpy(&slot, p, sizeof slot);
		if (slot >= h->next_slot || !is_live(rec(h, slot)))
			return bad(img, "a vector belongs to no memory");
		/* p + 8 is 4-byte aligned: sections start page aligned, rows are
		 * whole floats */
		rc = ix_add(h, slot, (const float *)(const void *)(p + 8));
	}
	return rc;
}

/* Adopt the memory store from a checkpoint image. */
static int load(hippocampus *h, brain_image *img)
{
	void *data;
	size_t len;
	hippo_meta meta;
	int rc = eager(img, BRAIN_SECTION_HIPPO_META, &data, &len);
	if (rc)
		return rc;
	if (len != sizeof meta)
		return bad(img, "the counters section has the wrong size");
	memcpy(&meta, data, sizeof meta);
	if (meta.version != 1 || meta.record_bytes != sizeof(record) ||
	    meta.chunk_log2 != RECORD_CHUNK_LOG2 || meta.dimensions != h->dims ||
	    meta.next_slot > BRAIN_MAX_MEMORIES_LIMIT || meta.count > meta.next_slot ||
	    meta.nfree > meta.next_slot || meta.text_count > meta.count || meta.next_id == 0)
		return bad(img, "the counters are out of range");
	brain__image_ref(img);
	h->image = img;
	void *texts = NULL;
	if (!brain__image_section(img, BRAIN_SECTION_TEXTS, &texts, &h->texts_len))
		return bad(img, "the texts section is missing");
	h->texts = texts;
	h->next_slot = (uint32_t)meta.next_slot;
	h->next_id = meta.next_id;
	atomic_store(&h->count, meta.count);
	atomic_store(&h->text_count, meta.text_count);
	h->text_bytes = (size_t)meta.text_bytes;
	rc = load_records(h, img, &meta);
	if (rc == BRAIN_OK)
		rc = load_ids(h, img);
	if (rc == BRAIN_OK)
		rc = load_free(h, img, &meta);
	if (rc == BRAIN_OK)
		rc = load_index(h, img, &meta);
	return rc;
}

BRAIN_ORGAN_HANDLERS(HIPPOCAMPUS, handlers);

const brain_organ brain__organ_hippocampus = {
	.name = "hippocampus",
	.id = BRAIN_ORGAN_HIPPOCAMPUS,
	.create = create,
	.destroy = destroy,
	.handlers = handlers,
	.save = save,
};
