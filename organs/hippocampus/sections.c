/*
 * organs/hippocampus/sections.c - the memory store's checkpoint image: its
 * sections saved (the organ's save) and adopted again when the brain
 * opens (create, through brain__hippocampus_load), with their checks.
 *
 * Persistence: save() writes the records, their texts, the id map, the
 * free slots and the index into a checkpoint image; create() adopts them
 * from a mapped image in place (records, id map and index are used where
 * they lie; only the free-slot stack is copied). Records, id map and free
 * slots are verified against their checksums on open; texts when first
 * used; an index kept in the image when first used, and an index in
 * files of its backend's own (index 2) by the backend as it opens them.
 */
#include <stdio.h>
#include <string.h>

#include "organs/hippocampus/hippocampus_internal.h"

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
	uint32_t index_saved; /* 0: VECTORS; 1: INDEX section from the backend's
	                         save(); 2 (meta version 2): INDEX holds the
	                         descriptor of the backend's own files;
	                         version 3: a META section follows FREE */
	uint32_t reserved;
} hippo_meta;

static int index_write(void *payload, const void *data, size_t len)
{
	return brain__imgw_write(payload, data, len);
}

/* The META section: a head (u32 version 1, u32 zero, u64 entries), then
 * per live memory with metadata: u32 slot, u32 length, the blob. */
static int save_meta(const hippocampus *h, brain_image_writer *w)
{
	int rc = brain__imgw_section_begin(w, BRAIN_SECTION_META);
	struct {
		uint32_t version, reserved;
		uint64_t count;
	} head = {1, 0, h->meta.count};
	if (rc == BRAIN_OK)
		rc = brain__imgw_write(w, &head, sizeof head);
	uint64_t written = 0;
	for (uint32_t s = 0; rc == BRAIN_OK && s < h->next_slot; s++) {
		size_t len;
		const uint8_t *b = brain__meta_blob(&h->meta, s, &len);
		if (!b || !is_live(rec(h, s)))
			continue;
		uint32_t e[2] = {s, (uint32_t)len};
		rc = brain__imgw_write(w, e, sizeof e);
		if (rc == BRAIN_OK)
			rc = brain__imgw_write(w, b, len);
		written++;
	}
	if (rc == BRAIN_OK && written != h->meta.count)
		rc = brain__err(BRAIN_EINTERNAL, "checkpoint: %llu memories hold metadata, %llu were "
		                "found", (unsigned long long)h->meta.count,
		                (unsigned long long)written);
	if (rc == BRAIN_OK)
		rc = brain__imgw_section_end(w);
	return rc;
}

/* The RELATIONS section: u32 version 1, u32 verbs, the verbs (u32 length,
 * bytes), u64 edges, then each edge: u64 from, u64 to, u32 verb, f32
 * weight (by node, in the order each node's out-edges were made). */
static int save_relations(const hippocampus *h, brain_image_writer *w)
{
	const rel_store *r = &h->rels;
	int rc = brain__imgw_section_begin(w, BRAIN_SECTION_RELATIONS);
	uint32_t head[2] = {1, r->verbs.n};
	if (rc == BRAIN_OK)
		rc = brain__imgw_write(w, head, sizeof head);
	for (uint32_t v = 0; rc == BRAIN_OK && v < r->verbs.n; v++) {
		const brain_name *nm = brain__names_at(&r->verbs, v);
		rc = brain__imgw_write(w, &nm->len, 4);
		if (rc == BRAIN_OK)
			rc = brain__imgw_write(w, nm->s, nm->len);
	}
	if (rc == BRAIN_OK)
		rc = brain__imgw_write(w, &r->n_edges, 8);
	for (uint32_t i = 0; rc == BRAIN_OK && i < r->n_nodes; i++) {
		const rel_node *n = &r->nodes[i];
		for (uint32_t e = 0; rc == BRAIN_OK && e < n->out.n; e++) {
			struct {
				uint64_t from, to;
				uint32_t verb;
				float weight;
			} rec = {n->id, n->out.e[e].other, n->out.e[e].verb, n->out.e[e].weight};
			rc = brain__imgw_write(w, &rec, sizeof rec);
		}
	}
	if (rc == BRAIN_OK)
		rc = brain__imgw_section_end(w);
	return rc;
}

int brain__hippocampus_save(void *state, brain_image_writer *w, const brain_organ_args *args)
{
	hippocampus *h = state;
	bool own = brain__index_persists(h->vt);
	/* a checkpoint of an on-disk brain: the backend's own files, if it
	 * keeps any */
	const brain_index_files *files =
		args && args->files && brain__index_has_files(h->vt) ? args->files : NULL;
	int rc = index_ready(h);
	if (rc)
		return rc;
	uint64_t count = atomic_load(&h->count);
	/* version 3 only with metadata or relations, so that a brain without
	 * either stays readable by a library before it (which would lose the
	 * sections) */
	uint32_t version = h->meta.count || h->rels.n_edges ? 3u : files ? 2u : 1u;
	hippo_meta meta = {version, sizeof(record), RECORD_CHUNK_LOG2, h->dims,
	                   h->next_slot, h->next_id, count,
	                   atomic_load(&h->text_count), h->text_bytes, h->next_slot - count,
	                   files ? 2u : own ? 1u : 0u, 0};
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
		rc = brain__hippocampus_text_of(h, r, &t);
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
	/* the free slots below next_slot (the heap may hold stale ones past
	 * it, store.c), a block at a time */
	uint32_t block[1024];
	size_t nb = 0;
	for (size_t i = 0; rc == BRAIN_OK && i < h->nfree; i++) {
		if (h->free[i] < h->next_slot)
			block[nb++] = h->free[i];
		if (nb == BRAIN_ARRAY_LEN(block) || (i + 1 == h->nfree && nb)) {
			rc = brain__imgw_write(w, block, nb * sizeof *block);
			nb = 0;
		}
	}
	if (rc == BRAIN_OK)
		rc = brain__imgw_section_end(w);
	if (rc == BRAIN_OK && version == 3)
		rc = save_meta(h, w);
	if (rc == BRAIN_OK && version == 3)
		rc = save_relations(h, w);
	if (rc == BRAIN_OK && atomic_load(&h->text_count)) {
		/* optional: a library that does not know it rebuilds it from the
		 * texts, and one that drops it leaves that to the next open */
		rc = brain__imgw_section_begin(w, BRAIN_SECTION_KEYWORDS);
		if (rc == BRAIN_OK)
			rc = brain__kw_save(h->kw, index_write, w);
		if (rc == BRAIN_OK)
			rc = brain__imgw_section_end(w);
	}

	if (rc == BRAIN_OK && own && files && args->freeze_index && brain__index_freezes(h->vt)) {
		/* two steps: the index frozen now, its files written and the
		 * section ended by INDEX_FINISH, beside changes */
		brain_index_writer iw = {index_write, w};
		rc = brain__imgw_section_begin(w, BRAIN_SECTION_INDEX);
		if (rc == BRAIN_OK)
			rc = brain__hippocampus_ix_freeze(h, &iw);
		h->index_open = rc == BRAIN_OK;
	} else if (rc == BRAIN_OK && own) {
		brain_index_writer iw = {index_write, w};
		rc = brain__imgw_section_begin(w, BRAIN_SECTION_INDEX);
		if (rc == BRAIN_OK && files)
			rc = brain__hippocampus_ix_flush(h, files, &iw);
		else if (rc == BRAIN_OK)
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
	brain__hippocampus_free_heapify(h); /* (older images hold a stack) */
	return BRAIN_OK;
}

static int verify_index(void *ctx, size_t off, size_t len)
{
	return brain__image_verify(ctx, BRAIN_SECTION_INDEX, off, len);
}

_Static_assert(BRAIN_IMAGE_BLOCK == BRAIN_INDEX_CHECK_BLOCK,
               "backends place their stored vectors on the image's checksum blocks");

/* The index section failed its checksums (`damage`, the error set): the
 * backend opens it again from its stored vectors if it can (index vtable
 * version 6), and rebuilds the rest. The brain loses nothing: every
 * vector is still found, exactly, while the graph is built again. */
static int rebuild_index(hippocampus *h, brain_image *img, const brain_index_config *cfg,
                         const brain_index_files *files, void *data, size_t len, int damage)
{
	brain_index_rebuild_fn rebuild = brain__index_rebuild(h->vt);
	if (damage != BRAIN_ECORRUPT || !rebuild)
		return damage;
	char why[512];
	snprintf(why, sizeof why, "%s", brain_errmsg());
	int rc = brain__hippocampus_ix_rebuild(h, rebuild, cfg, files, data, len, verify_index, img);
	if (rc == BRAIN_ECORRUPT)
		return brain__err(BRAIN_ECORRUPT, "%s (and the index cannot be rebuilt: %s)", why,
		                  brain_errmsg());
	if (rc)
		return rc;
	h->index_rebuilt = true;
	BRAIN_LOG(BRAIN_LOG_WARN, "%s: the index is rebuilt from its stored vectors, which are "
	          "whole (no memory is lost; searches scan what the graph does not hold yet)", why);
	return BRAIN_OK;
}

static int load_index(hippocampus *h, brain_image *img, const hippo_meta *meta,
                      const brain_index_files *files)
{
	brain_index_config cfg = brain__hippocampus_index_config(h);
	void *data;
	size_t len;
	h->index_in_image = meta->index_saved != 0; /* (its head, or all of it) */
	if (meta->index_saved == 2) {
		if (!brain__index_has_files(h->vt))
			return bad(img, "the index lives in files of its backend's own, and this "
			                "backend keeps none");
		if (!files)
			return bad(img, "the index lives in files beside the checkpoint, which an image "
			                "alone does not have");
		if (!brain__image_section(img, BRAIN_SECTION_INDEX, &data, &len))
			return bad(img, "the index section is missing");
		int rc = brain__image_verify(img, BRAIN_SECTION_INDEX, 0, len);
		if (rc)
			return rebuild_index(h, img, &cfg, files, data, len, rc);
		rc = brain__hippocampus_ix_open_files(h, &cfg, files, data, len);
		return rc == BRAIN_OK || rc == BRAIN_ENOMEM || rc == BRAIN_ENOTFOUND || rc == BRAIN_EIO
		               ? rc
		               : brain__err_context(rc, "index: ");
	}
	if (meta->index_saved) {
		if (!brain__index_persists(h->vt))
			return bad(img, "the index was saved by a backend that can save, this one cannot");
		if (!brain__image_section(img, BRAIN_SECTION_INDEX, &data, &len))
			return bad(img, "the index section is missing");
		int rc = brain__hippocampus_ix_load(h, &cfg, data, len);
		if (rc == BRAIN_OK)
			return BRAIN_OK;
		/* The backend read bytes not yet verified: if they fail their
		 * checksums, say so (with the file and offset), and rebuild. */
		char why[256];
		snprintf(why, sizeof why, "%s", brain_errmsg());
		/* (no rebuild here: the store follows the head in this section,
		 * and its vectors, which a caller chose, could pose as the
		 * header's copy where the damage is) */
		int vrc = brain__image_verify(img, BRAIN_SECTION_INDEX, 0, len);
		if (vrc)
			return vrc;
		return brain__err(rc, "%s: index: %s", brain__image_name(img), why);
	}
	int rc = eager(img, BRAIN_SECTION_VECTORS, &data, &len);
	if (rc == BRAIN_OK)
		rc = brain__hippocampus_ix_open(h, &cfg);
	if (rc == BRAIN_OK)
		rc = brain__hippocampus_ix_reserve(h, h->next_slot);
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
		rc = brain__hippocampus_ix_add(h, slot, (const float *)(const void *)(p + 8));
	}
	return rc;
}

/* The metadata: copied to the heap, checked blob by blob, and the posting
 * lists built from it. */
static int load_meta(hippocampus *h, brain_image *img)
{
	void *data;
	size_t len;
	int rc = eager(img, BRAIN_SECTION_META, &data, &len);
	if (rc)
		return rc;
	const uint8_t *p = data, *end = p + len;
	struct {
		uint32_t version, reserved;
		uint64_t count;
	} head;
	if (len < sizeof head)
		return bad(img, "the metadata section is too short");
	memcpy(&head, p, sizeof head);
	p += sizeof head;
	if (head.version != 1 || head.reserved || head.count > atomic_load(&h->count))
		return bad(img, "the metadata section's head is out of range");
	for (uint64_t i = 0; i < head.count; i++) {
		uint32_t e[2];
		if ((size_t)(end - p) < sizeof e)
			return bad(img, "the metadata section is cut short");
		memcpy(e, p, sizeof e);
		p += sizeof e;
		size_t have;
		if (e[1] > (size_t)(end - p) || e[0] >= h->next_slot || !is_live(rec(h, e[0])) ||
		    brain__meta_blob(&h->meta, e[0], &have))
			return bad(img, "a metadata entry names a slot without a memory, or one twice");
		brain_meta_blob widened;
		if (brain__meta_check(p, e[1], false))
			return bad(img, "a metadata entry is not valid");
		/* every holder of a field has its type: none is widened */
		if (brain__meta_store_check(&h->meta, p, e[1], UINT32_MAX, &widened) || widened.data) {
			brain__free(widened.data);
			return bad(img, "metadata entries give a field two types");
		}
		rc = brain__meta_store_prepare(&h->meta, p, e[1], e[0]);
		uint8_t *blob = rc ? NULL : brain__meta_heap(p, e[1]);
		if (!blob)
			return rc ? rc : BRAIN_ENOMEM;
		brain__meta_store_put(&h->meta, e[0], blob);
		p += e[1];
	}
	if (p != end)
		return bad(img, "the metadata section has bytes after its entries");
	return BRAIN_OK;
}

/* The relations, each edge checked: both memories live, a known verb,
 * a finite weight, no edge twice. */
static int load_relations(hippocampus *h, brain_image *img)
{
	void *data;
	size_t len;
	if (!brain__image_section(img, BRAIN_SECTION_RELATIONS, &data, &len))
		return BRAIN_OK; /* an image of version 3 from before relations */
	int rc = brain__image_verify(img, BRAIN_SECTION_RELATIONS, 0, len);
	if (rc)
		return rc;
	const uint8_t *p = data, *end = p + len;
	uint32_t head[2];
	if (len < sizeof head)
		return bad(img, "the relations section is too short");
	memcpy(head, p, sizeof head);
	p += sizeof head;
	if (head[0] != 1 || head[1] > (size_t)(end - p) / 5)
		return bad(img, "the relations section's head is out of range");
	const char **verbs = brain__malloc_array(BRAIN_MAX(head[1], 1u), sizeof *verbs);
	uint32_t *lens = brain__malloc_array(BRAIN_MAX(head[1], 1u), sizeof *lens);
	if (!verbs || !lens) {
		brain__free(verbs);
		brain__free(lens);
		return brain__oom(head[1] * 12u, "relations");
	}
	for (uint32_t v = 0; rc == BRAIN_OK && v < head[1]; v++) {
		if ((size_t)(end - p) < 4) {
			rc = bad(img, "the relations section is cut short");
			break;
		}
		memcpy(&lens[v], p, 4);
		p += 4;
		if (lens[v] == 0 || lens[v] > REL_VERB_MAX || lens[v] > (size_t)(end - p) ||
		    !brain__utf8_valid((const char *)p, lens[v], NULL) || memchr(p, 0, lens[v]))
			rc = bad(img, "a relation's verb is not valid");
		verbs[v] = (const char *)p;
		p += lens[v];
	}
	uint64_t n = 0;
	if (rc == BRAIN_OK) {
		if ((size_t)(end - p) < 8)
			rc = bad(img, "the relations section is cut short");
		else
			memcpy(&n, p, 8);
		p += 8;
	}
	if (rc == BRAIN_OK && n != (uint64_t)(end - p) / 24)
		rc = bad(img, "the relations section's size does not match its edges");
	for (uint64_t i = 0; rc == BRAIN_OK && i < n; i++) {
		struct {
			uint64_t from, to;
			uint32_t verb;
			float weight;
		} e;
		memcpy(&e, p, sizeof e);
		p += sizeof e;
		bool had = false;
		float old;
		if (e.verb >= head[1] || !(e.weight - e.weight == 0.0f) ||
		    !brain__map_get(&h->ids, e.from, NULL) || !brain__map_get(&h->ids, e.to, NULL)) {
			rc = bad(img, "a relation names a memory that is not there, or is not valid");
			break;
		}
		rc = brain__rel_put(&h->rels, e.from, e.to, verbs[e.verb], lens[e.verb], e.weight, &had,
		                    &old);
		if (rc == BRAIN_OK && had)
			rc = bad(img, "a relation is there twice");
	}
	if (rc == BRAIN_OK && p != end)
		rc = bad(img, "the relations section has bytes after its edges");
	brain__free(verbs);
	brain__free(lens);
	return rc;
}

/* The live memories without metadata into the metadata's live set (put
 * took those with). */
static void load_live(hippocampus *h)
{
	uint32_t buf[1024];
	size_t n = 0;
	for (uint32_t s = 0; s < h->next_slot; s++) {
		size_t len;
		if (is_live(rec(h, s)) && !brain__meta_blob(&h->meta, s, &len))
			buf[n++] = s;
		if (n == BRAIN_ARRAY_LEN(buf) || (n && s + 1 == h->next_slot)) {
			brain__meta_store_live(&h->meta, buf, n);
			n = 0;
		}
	}
}

/* The keyword index built from the texts. */
static int rebuild_keywords(hippocampus *h)
{
	int rc = BRAIN_OK;
	for (uint32_t s = 0; rc == BRAIN_OK && s < h->next_slot; s++) {
		const record *r = rec(h, s);
		const char *t = NULL;
		if (!is_live(r) || !(r->flags & RECORD_HAS_TEXT))
			continue;
		uint64_t *terms = NULL;
		size_t n = 0;
		rc = brain__hippocampus_text_of(h, r, &t);
		if (rc == BRAIN_OK)
			rc = brain__hippocampus_terms(h, t, r->text_len, &h->kw_scratch, &terms, &n);
		if (rc == BRAIN_OK)
			rc = brain__kw_add(h->kw, s, terms, n);
		brain__free(terms);
	}
	return rc;
}

/* Does the loaded keyword index hold exactly the texts' slots? */
static bool keywords_match(const hippocampus *h)
{
	if (brain__kw_docs(h->kw) != atomic_load(&h->text_count))
		return false;
	for (uint32_t s = 0; s < h->next_slot; s++) {
		const record *r = rec(h, s);
		if (is_live(r) && (r->flags & RECORD_HAS_TEXT) && !brain__kw_has(h->kw, s))
			return false;
	}
	return true;
}

/* The keyword index: its section, or built again from the texts (an
 * image written before it or by a library that dropped it, or a section
 * that does not hold exactly the texts: it is derived data). */
static int load_keywords(hippocampus *h, brain_image *img)
{
	void *data;
	size_t len;
	if (brain__image_section(img, BRAIN_SECTION_KEYWORDS, &data, &len)) {
		int rc = brain__image_verify(img, BRAIN_SECTION_KEYWORDS, 0, len);
		if (rc)
			return rc; /* a checksum: the image is damaged */
		rc = brain__kw_load(h->kw, data, len);
		if (rc == BRAIN_OK && keywords_match(h))
			return BRAIN_OK;
		if (rc == BRAIN_ENOMEM)
			return rc;
		BRAIN_LOG(BRAIN_LOG_WARN, "%s: the keyword index does not match the texts (%s); "
		          "built again from them", brain__image_name(img),
		          rc ? brain_errmsg() : "other slots");
		brain__kw_free(h->kw);
		h->kw = NULL;
		rc = brain__kw_new(&h->kw);
		if (rc)
			return rc;
	}
	return rebuild_keywords(h);
}

/* Adopt the memory store from a checkpoint image. */
int brain__hippocampus_load(hippocampus *h, brain_image *img, const brain_index_files *files)
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
	if (meta.version > 3)
		return brain__err(BRAIN_EVERSION, "%s: the memories' counters are version %u; this "
		                  "library reads 1 to 3 (written by a newer braincore)",
		                  brain__image_name(img), meta.version);
	if (meta.version < 1 || meta.index_saved > BRAIN_MIN(meta.version, 2u) ||
	    meta.record_bytes != sizeof(record) ||
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
	if (rc == BRAIN_OK && meta.version >= 3)
		rc = load_meta(h, img);
	if (rc == BRAIN_OK && meta.version >= 3)
		rc = load_relations(h, img);
	if (rc == BRAIN_OK)
		load_live(h);
	if (rc == BRAIN_OK)
		rc = load_keywords(h, img);
	if (rc == BRAIN_OK)
		rc = load_index(h, img, &meta, files);
	return rc;
}
