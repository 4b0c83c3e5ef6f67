/*
 * organs/hippocampus.c - the memory store.
 *
 * Every memory lives in a slot: a record (id, text, importance, times) in a
 * row table, and its vector in the index backend under the same slot
 * number. Ids map to slots through a hash map; freed slots are reused, so
 * slot numbers stay dense and backends can keep plain arrays.
 *
 * Every change makes all the room it needs before it changes anything, so
 * an error (out of memory above all) leaves the store exactly as it was.
 * Forgetting never allocates.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "organs/hippocampus.h"
#include "index/distance.h"
#include "src/hashmap.h"
#include "storage/rows.h"

typedef struct record {
	brain_id id;
	char *text; /* NULL for a vector without text */
	_Atomic int64_t accessed_ms;
	int64_t created_ms;
	uint32_t text_len;
	float importance;
	bool live;
} record;

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
} hippocampus;

static inline record *rec(const hippocampus *h, uint32_t slot)
{
	return brain__rows_at(&h->records, slot);
}

static int create(const brain_env *env, brain_spine *spine, void **state)
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
	if (rc == BRAIN_OK) {
		brain_index_config cfg = {
			.version = BRAIN_INDEX_VTABLE_VERSION,
			.dimensions = h->dims,
			.metric = env->opts.metric,
			.max_slots = h->max_slots,
		};
		rc = h->vt->open(&cfg, &h->index);
	}
	if (rc) {
		brain__rows_free(&h->records);
		brain__free(h);
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
	for (uint32_t s = 0; s < h->next_slot; s++) {
		record *r = rec(h, s);
		if (r->live)
			brain__free(r->text);
	}
	h->vt->close(h->index);
	brain__rows_free(&h->records);
	brain__map_free(&h->ids);
	brain__free(h->free);
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
		rc = h->vt->reserve(h->index, (uint32_t)slots);
	return rc;
}

static uint32_t take_slot(hippocampus *h)
{
	return h->nfree ? h->free[--h->nfree] : h->next_slot++;
}

/* Fill the record of a slot whose vector is in the index. Cannot fail:
 * reserve() made room in the id map. */
static void commit(hippocampus *h, uint32_t slot, brain_id id, char *text, size_t len,
                   float importance)
{
	record *r = rec(h, slot);
	int64_t now = brain__now_ms();
	r->id = id;
	r->text = text;
	r->text_len = (uint32_t)len;
	r->importance = importance;
	r->created_ms = now;
	atomic_store_explicit(&r->accessed_ms, now, memory_order_relaxed);
	r->live = true;
	brain__map_put(&h->ids, id, slot);
	if (id >= h->next_id)
		h->next_id = id + 1; /* may become BRAIN_ID_NONE: then ids are exhausted */
	atomic_fetch_add(&h->count, 1);
	if (text) {
		atomic_fetch_add(&h->text_count, 1);
		h->text_bytes += len + 1;
	}
}

static int store(hippocampus *h, brain_msg_store *m)
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
	rc = h->vt->add(h->index, slot, m->vector);
	if (rc) {
		/* give the slot back as it was */
		if (slot + 1 == h->next_slot)
			h->next_slot--;
		else
			h->free[h->nfree++] = slot;
		brain__free(text);
		return rc;
	}
	commit(h, slot, id, text, m->len, m->importance);
	m->out_id = id;
	return BRAIN_OK;
}

static int store_batch(hippocampus *h, brain_msg_store_batch *m)
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
	for (size_t i = 0; rc == BRAIN_OK && i < n; i++) {
		brain__vector_prepare(m->vectors + i * dims, dims, metric, row, "row");
		uint32_t slot = take_slot(h);
		rc = h->vt->add(h->index, slot, row);
		if (rc) {
			if (slot + 1 == h->next_slot)
				h->next_slot--;
			else
				h->free[h->nfree++] = slot;
			for (size_t j = 0; j < i; j++) {
				uint32_t s;
				brain__map_get(&h->ids, m->ids[j], &s);
				h->vt->remove(h->index, s);
				brain__map_remove(&h->ids, m->ids[j]);
				memset(rec(h, s), 0, sizeof(record));
				h->free[h->nfree++] = s;
				atomic_fetch_sub(&h->count, 1);
			}
			h->next_id = next_id;
			break;
		}
		commit(h, slot, m->ids[i], NULL, 0, 0.5f);
	}
	brain__free(row);
	return rc;
}

static int forget(hippocampus *h, brain_msg_forget *m)
{
	uint32_t slot;
	if (!brain__map_get(&h->ids, m->id, &slot))
		return brain__err(BRAIN_ENOTFOUND, "no memory has id %llu", (unsigned long long)m->id);
	int rc = h->vt->remove(h->index, slot);
	if (rc)
		return rc;
	record *r = rec(h, slot);
	brain__map_remove(&h->ids, m->id);
	if (r->text) {
		atomic_fetch_sub(&h->text_count, 1);
		h->text_bytes -= r->text_len + 1;
		brain__free(r->text);
	}
	memset(r, 0, sizeof *r);
	h->free[h->nfree++] = slot; /* room reserved when it was stored */
	atomic_fetch_sub(&h->count, 1);
	if (m->undo && m->id + 1 == h->next_id)
		h->next_id = m->id;
	return BRAIN_OK;
}

static void fill_hit(const hippocampus *h, uint32_t slot, brain_hit *hit)
{
	record *r = rec(h, slot);
	hit->id = r->id;
	hit->slot = slot;
	hit->importance = r->importance;
	hit->created_ms = r->created_ms;
	hit->accessed_ms = atomic_load_explicit(&r->accessed_ms, memory_order_relaxed);
	hit->text = r->text;
	hit->text_len = r->text_len;
}

static int lookup(hippocampus *h, brain_msg_lookup *m)
{
	uint32_t slot;
	if (!brain__map_get(&h->ids, m->id, &slot))
		return brain__err(BRAIN_ENOTFOUND, "no memory has id %llu", (unsigned long long)m->id);
	memset(&m->hit, 0, sizeof m->hit);
	fill_hit(h, slot, &m->hit);
	return BRAIN_OK;
}

static int get_vector(hippocampus *h, brain_msg_get_vector *m)
{
	uint32_t slot;
	if (!brain__map_get(&h->ids, m->id, &slot))
		return brain__err(BRAIN_ENOTFOUND, "no memory has id %llu", (unsigned long long)m->id);
	return h->vt->get(h->index, slot, m->vector);
}

static int has_text(uint32_t slot, void *payload)
{
	const hippocampus *h = payload;
	return rec(h, slot)->text != NULL;
}

static int search(hippocampus *h, brain_msg_search *m)
{
	brain_index_filter filter = {has_text, h};
	m->found = 0;
	return h->vt->search(h->index, m->query, m->k, m->text_only ? &filter : NULL, m->slots,
	                     m->distances, &m->found);
}

static int hits(hippocampus *h, brain_msg_hits *m)
{
	int64_t now = m->touch ? brain__now_ms() : 0;
	for (size_t i = 0; i < m->n; i++) {
		uint32_t slot = m->slots[i];
		if (slot >= h->next_slot || !rec(h, slot)->live)
			return brain__err(BRAIN_EINTERNAL, "hits: slot %u holds no memory", slot);
		if (m->touch)
			atomic_store_explicit(&rec(h, slot)->accessed_ms, now, memory_order_relaxed);
		memset(&m->out[i], 0, sizeof m->out[i]);
		fill_hit(h, slot, &m->out[i]);
		m->out[i].distance = m->distances ? m->distances[i] : 0.0f;
	}
	return BRAIN_OK;
}

static int distances(hippocampus *h, brain_msg_distances *m)
{
	float *v = brain__malloc_array(h->dims, sizeof *v);
	if (!v)
		return brain__oom(h->dims * sizeof *v, "distances");
	brain_dist_fn dist = brain__dist_fn(h->env->opts.metric, -1);
	int rc = BRAIN_OK;
	for (size_t i = 0; rc == BRAIN_OK && i < m->n; i++) {
		rc = h->vt->get(h->index, m->slots[i], v);
		if (rc == BRAIN_OK)
			m->out[i] = dist(m->vector, v, h->dims);
	}
	brain__free(v);
	return rc;
}

static int status(hippocampus *h, brain_msg_status *m)
{
	m->count = atomic_load(&h->count);
	m->text_count = atomic_load(&h->text_count);
	return BRAIN_OK;
}

static int handle(void *state, int type, void *msg)
{
	hippocampus *h = state;
	switch (type) {
	case BRAIN_MSG_STORE:
		return store(h, msg);
	case BRAIN_MSG_STORE_BATCH:
		return store_batch(h, msg);
	case BRAIN_MSG_FORGET:
		return forget(h, msg);
	case BRAIN_MSG_LOOKUP:
		return lookup(h, msg);
	case BRAIN_MSG_GET_VECTOR:
		return get_vector(h, msg);
	case BRAIN_MSG_SEARCH:
		return search(h, msg);
	case BRAIN_MSG_HITS:
		return hits(h, msg);
	case BRAIN_MSG_STATUS:
		return status(h, msg);
	case BRAIN_MSG_DISTANCES:
		return distances(h, msg);
	default:
		return brain__err(BRAIN_ENOTSUP, "hippocampus: message %s is not mine",
		                  brain__msg_name[type]);
	}
}

const brain_organ brain__organ_hippocampus = {
	.name = "hippocampus",
	.id = BRAIN_ORGAN_HIPPOCAMPUS,
	.create = create,
	.destroy = destroy,
	.handle = handle,
};
