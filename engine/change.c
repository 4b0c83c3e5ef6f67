/*
 * engine/change.c - the logged changes, each defined once: its record,
 * encode, decode, prepare, apply and undo (see change.h for the order).
 * The api's write calls and the log's replay both come here, so a change
 * means the same thing live and after a crash.
 */
#include <string.h>

#include "base/slotset.h"
#include "engine/change.h"
#include "engine/handle.h"
#include "index/distance.h"
#include "storage/wal.h"

/* The features of a text that has none to count: given to LEARN so that
 * it does not analyse the text again. */
static const uint64_t none[1];

/* What a change keeps between its steps. */
typedef struct change_work {
	/* store */
	bool stored;        /* the Hippocampus holds it */
	bool learned;       /* the Cortex counted its text */
	/* strengthen: what the memory had */
	float old_importance;
	int64_t old_accessed_ms;
	/* forget: the memory as it is, and its text's features */
	brain_msg_lookup look;
	uint64_t *features; /* brain__malloc'ed */
	size_t nfeatures;
	/* update: the vector the memory had, then room for another */
	float *old;
	/* relate: what the edge was */
	bool rel_had;
	float rel_old;
	/* metadata: a blob made here (widened, or a patch's result), and the
	 * heap blobs META_SET takes (the new, and the old for an undo) */
	brain_meta_blob meta;
	brain_meta_blob meta_own; /* a set's or patch's fields without the '@' ones */
	uint8_t *meta_new;
	uint8_t *meta_old;
	/* replace: the slots of the memory and its replacement, and what was
	 * made in place */
	uint32_t old_slot, new_slot;
	bool strengthened, meta_set;
	/* document: the passages it replaces (brain__malloc'ed), how many of
	 * its own are stored */
	uint64_t *doc_old;
	size_t doc_nold;
	size_t doc_stored;
	/* replace: the new text's features, when the embedding gave none (a
	 * caller's vector, a user embedder, a replay), so that its undo never
	 * allocates */
	uint64_t *new_features;
} change_work;

/* A change as a log record: a head and up to three more parts. */
typedef struct change_record {
	union {
		brain_record_store store;
		brain_record_batch batch;
		brain_record_update update;
		brain_record_strengthen strengthen;
		brain_record_meta meta;
		brain_record_relate relate;
		brain_record_replace replace;
		brain_record_document doc;
		uint64_t id;
	} head;
	brain_wal_part parts[8];
	size_t nparts;
} change_record;

/* One kind of change. */
typedef struct change_kind {
	const char *name;
	/* logged before it is applied: apply cannot fail once prepared, and
	 * there is no undo */
	bool log_first;
	/* a record into a change; *owned is freed after the change is applied */
	int (*decode)(brain_t *b, uint64_t lsn, const unsigned char *p, size_t len,
	              brain_change *c, void **owned);
	int (*prepare)(brain_t *b, brain_change *c, change_work *w); /* may be NULL */
	int (*apply)(brain_t *b, brain_change *c, change_work *w);
	void (*undo)(brain_t *b, brain_change *c, change_work *w);
	/* once logged (or replayed): the part that cannot fail, prepared; may
	 * be NULL */
	void (*finish)(brain_t *b, brain_change *c, change_work *w);
	void (*encode)(const brain_t *b, const brain_change *c, change_record *r);
	/* replay: an error of apply that means the record cannot be right, or
	 * NULL */
	const char *(*refused)(int rc);
} change_kind;

static int bad_record(uint64_t lsn, const char *what)
{
	return brain__err(BRAIN_ECORRUPT, "log: record %llu: %s", (unsigned long long)lsn, what);
}

static void part(change_record *r, const void *data, size_t len)
{
	r->parts[r->nparts++] = (brain_wal_part){data, len};
}

/* A copy of a record's vector of dims floats (its bytes are unaligned),
 * in *vec and *owned (freed after the change is applied); each component
 * must be finite, as every vector the brain takes is. */
static int record_vector(uint64_t lsn, const unsigned char *src, uint32_t dims,
                         const char *what, float **vec, void **owned)
{
	float *v = brain__malloc_array(dims, sizeof *v);
	if (!v)
		return brain__oom((size_t)dims * sizeof *v, "replay vector");
	*vec = v;
	*owned = v;
	memcpy(v, src, (size_t)dims * sizeof *v);
	for (uint32_t i = 0; i < dims; i++)
		if (!(v[i] - v[i] == 0.0f))
			return bad_record(lsn, what);
	return BRAIN_OK;
}

/* Copy a record's fixed head out of its (unaligned) bytes. */
static int record_head(uint64_t lsn, const unsigned char *p, size_t len, void *head, size_t size)
{
	if (len < size)
		return bad_record(lsn, "too short");
	memcpy(head, p, size);
	return BRAIN_OK;
}

/* ---- store: remember and add ------------------------------------------- */

/* The metadata a change gives memory `id` (BRAIN_ID_NONE: a new one)
 * against the types of the brain's fields; a widened blob replaces it. */
static int meta_prepare(brain_t *b, brain_id id, const void **blob, size_t *len,
                        change_work *w)
{
	brain_msg_meta_check m = {*blob, *len, id, {NULL, 0}};
	int rc = brain__call_META_CHECK(&b->spine, &m);
	if (rc == BRAIN_OK && m.widened.data) {
		brain__free(w->meta.data);
		w->meta = m.widened;
		*blob = w->meta.data;
		*len = w->meta.len;
	}
	return rc;
}

/* A text's words uncounted from the word statistics again (an undo): with
 * its features at hand this never allocates; said in the log if it
 * fails. */
static void unlearn(brain_t *b, const char *text, size_t len, const uint64_t *features,
                    size_t nfeatures, const char *what)
{
	brain_msg_learn l = {text, len, -1, features, nfeatures, NULL};
	if (brain__call_LEARN(&b->spine, &l))
		BRAIN_LOG(BRAIN_LOG_WARN, "%s: could not undo word statistics", what);
	brain__free(l.prepared);
}

/* Embedded without the lock (check): the vector belongs to an embedder
 * replaced meanwhile. */
static bool stale(brain_t *b, bool check, uint64_t epoch)
{
	if (!check)
		return false;
	brain_msg_embed_epoch now = {0};
	brain__call_EMBED_EPOCH(&b->spine, &now);
	return now.epoch != epoch;
}

static int store_prepare(brain_t *b, brain_change *c, change_work *w)
{
	/* First: a retry must not find the metadata widened into this
	 * change's work. */
	if (stale(b, c->u.store.check_epoch, c->u.store.epoch))
		return BRAIN_CHANGE_STALE;
	if (c->u.store.meta && brain__meta_count(c->u.store.meta) == 0) {
		c->u.store.meta = NULL; /* {} is no metadata */
		c->u.store.meta_len = 0;
	}
	if (c->u.store.meta)
		return meta_prepare(b, BRAIN_ID_NONE, &c->u.store.meta, &c->u.store.meta_len, w);
	return BRAIN_OK;
}

static void store_undo(brain_t *b, brain_change *c, change_work *w)
{
	/* neither step allocates (the features are at hand or the text is
	 * counted as it was), so neither can fail */
	if (w->learned) {
		unlearn(b, c->u.store.text, c->u.store.len, c->u.store.features,
		        c->u.store.nfeatures, "remember");
		w->learned = false;
	}
	if (w->stored) {
		brain_msg_forget f = {c->out_id, true, false};
		brain__call_FORGET(&b->spine, &f);
		w->stored = false;
	}
}

static int store_apply(brain_t *b, brain_change *c, change_work *w)
{
	brain_msg_store s = {.id = c->u.store.id,
	                     .text = c->u.store.text,
	                     .len = c->u.store.len,
	                     .vector = c->u.store.vector,
	                     .importance = c->u.store.importance,
	                     .created_ms = c->u.store.created_ms,
	                     .meta = c->u.store.meta,
	                     .meta_len = c->u.store.meta_len,
	                     .terms = c->u.store.terms,
	                     .nterms = c->u.store.nterms};
	int rc = brain__call_STORE(&b->spine, &s);
	if (rc)
		return rc;
	w->stored = true;
	c->out_id = s.out_id;
	c->u.store.created_ms = s.created_ms;
	if (c->u.store.text) {
		brain_msg_learn l = {c->u.store.text, c->u.store.len, +1, c->u.store.features,
		                     c->u.store.nfeatures, NULL};
		rc = brain__call_LEARN(&b->spine, &l);
		if (rc)
			store_undo(b, c, w);
		else
			w->learned = true;
	}
	return rc;
}

/* the change as it was made: the id given, the prepared vector, the time
 * recorded */
static void store_encode(const brain_t *b, const brain_change *c, change_record *r)
{
	uint32_t dims = b->env.opts.dimensions;
	bool text = c->u.store.text != NULL;
	uint32_t meta_len = c->u.store.meta ? (uint32_t)c->u.store.meta_len : 0;
	r->head.store = (brain_record_store){c->out_id, c->u.store.created_ms, c->u.store.importance,
	                                     text ? (uint32_t)c->u.store.len : UINT32_MAX, dims,
	                                     meta_len};
	part(r, &r->head.store, sizeof r->head.store);
	part(r, c->u.store.vector, dims * sizeof(float));
	if (text) {
		/* the text and a NUL of our own: a caller's text given with its
		 * length (brain_remember_n) has none after it */
		part(r, c->u.store.text, c->u.store.len);
		part(r, "", 1);
	}
	if (meta_len)
		part(r, c->u.store.meta, meta_len);
}

static int store_decode(brain_t *b, uint64_t lsn, const unsigned char *p, size_t len,
                        brain_change *c, void **owned)
{
	brain_record_store h;
	uint32_t dims = b->env.opts.dimensions;
	int rc = record_head(lsn, p, len, &h, sizeof h);
	if (rc)
		return rc;
	size_t vec_bytes = (size_t)dims * sizeof(float);
	bool has_text = h.text_len != UINT32_MAX;
	size_t text_bytes = has_text ? (size_t)h.text_len + 1 : 0;
	if (h.dimensions != dims || len != sizeof h + vec_bytes + text_bytes + h.meta_len ||
	    h.id == BRAIN_ID_NONE || !(h.importance >= 0.0f && h.importance <= 1.0f))
		return bad_record(lsn, "a stored memory's fields are out of range");
	const unsigned char *meta = h.meta_len ? p + sizeof h + vec_bytes + text_bytes : NULL;
	if (meta && brain__meta_check(meta, h.meta_len, false))
		return bad_record(lsn, "a stored memory's metadata is not valid");
	c->u.store.meta = meta;
	c->u.store.meta_len = h.meta_len;
	float *vec = NULL;
	const char *text = has_text ? (const char *)p + sizeof h + vec_bytes : NULL;
	rc = record_vector(lsn, p + sizeof h, dims, "a stored vector is not finite", &vec, owned);
	if (rc == BRAIN_OK && text) {
		brain_msg_text_check tc = {text, (size_t)h.text_len + 1, "log: text", 0};
		if (text[h.text_len] != '\0' || brain__call_TEXT_CHECK(&b->spine, &tc) ||
		    tc.len != h.text_len)
			rc = bad_record(lsn, "a stored text is not valid");
	}
	c->u.store.id = h.id;
	c->u.store.text = text;
	c->u.store.len = has_text ? h.text_len : 0;
	c->u.store.vector = vec;
	c->u.store.importance = h.importance;
	c->u.store.created_ms = h.created_ms ? h.created_ms : 1;
	return rc;
}

static const char *store_refused(int rc)
{
	return rc == BRAIN_EEXISTS ? "stores an id that exists"
	       : rc == BRAIN_ETYPE ? "stores metadata of a type its field does not hold"
	                           : NULL;
}

/* ---- meta: a memory's metadata set or patched --------------------------- */

static bool is_reserved(const brain_meta_field *f)
{
	return brain__meta_reserved(f->name, f->name_len);
}

/* A set of a memory's metadata: the caller's fields (*blob, NULL: none)
 * and the memory's own '@' ones (old), merged into w->meta, which *blob
 * then names. */
static int keep_reserved(const void *old, size_t old_len, const void **blob, size_t *len,
                         change_work *w)
{
	brain_meta_blob kept = {NULL, 0};
	int rc = brain__meta_keep(old, old_len, is_reserved, &kept);
	if (rc == BRAIN_OK && brain__meta_count(kept.data) && *blob) {
		rc = brain__meta_patch(kept.data, kept.len, *blob, *len, &w->meta);
		brain__free(kept.data);
	} else if (rc == BRAIN_OK && brain__meta_count(kept.data)) {
		w->meta = kept; /* none of the caller's: the '@' ones alone */
	} else {
		brain__free(kept.data);
	}
	if (rc == BRAIN_OK && w->meta.data) {
		*blob = w->meta.data;
		*len = w->meta.len;
	}
	return rc;
}

static bool not_reserved(const brain_meta_field *f)
{
	return !is_reserved(f);
}

/* Whether two fields hold the same value (names aside). */
static bool same_value(const brain_meta_field *a, const brain_meta_field *b)
{
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case BRAIN_META_STRING:
		return a->str_len == b->str_len && memcmp(a->str, b->str, a->str_len) == 0;
	case BRAIN_META_INT:
		return a->i == b->i;
	case BRAIN_META_DOUBLE:
		return a->d == b->d;
	case BRAIN_META_BOOL:
		return a->b == b->b;
	case BRAIN_META_LIST: {
		if (a->n_items != b->n_items)
			return false;
		size_t pa = 0, pb = 0;
		for (uint32_t k = 0; k < a->n_items; k++) {
			const char *sa, *sb;
			uint32_t la, lb;
			brain__meta_item(a, &pa, &sa, &la);
			brain__meta_item(b, &pb, &sb, &lb);
			if (la != lb || memcmp(sa, sb, la) != 0)
				return false;
		}
		return true;
	}
	default:
		return false;
	}
}

/* A caller's metadata for a memory that exists (a set, a patch, an update)
 * may carry the memory's '@' fields as the library gave them
 * (brain_get_metadata and results include them), so that metadata read,
 * changed and written back works: each must hold what the memory holds
 * (old), and is then left out of *blob (the memory keeps its own, which
 * keep_reserved puts back). Any other '@' field, or one to remove, is
 * refused. */
static int drop_reserved_as_they_are(const void *old, size_t old_len, const void **blob,
                                     size_t *len, change_work *w)
{
	size_t pos = 0;
	brain_meta_field f, o;
	bool any = false;
	while (brain__meta_next(*blob, *len, &pos, &f)) {
		if (!is_reserved(&f))
			continue;
		if (!old || !brain__meta_find(old, old_len, f.name, f.name_len, &o) ||
		    !same_value(&f, &o))
			return brain__err(BRAIN_EJSON,
			                  "metadata: field \"%.*s\": names starting with @ are the "
			                  "library's (brain_upsert, brain_remember_document, "
			                  "brain_set_valid set them); metadata written back may carry "
			                  "them only with the values the memory has",
			                  (int)f.name_len, f.name);
		any = true;
	}
	if (!any)
		return BRAIN_OK;
	int rc = brain__meta_keep(*blob, *len, not_reserved, &w->meta_own);
	if (rc == BRAIN_OK) {
		*blob = w->meta_own.data;
		*len = w->meta_own.len;
	}
	return rc;
}

/* A change's new metadata *blob against the memory's (old): the caller's
 * '@' fields checked and left out (`caller`, drop_reserved_as_they_are),
 * then the memory's own put back (`keep`, keep_reserved; *kept says
 * whether that was done: there was old metadata). */
static int reserved_as_the_memory_has(const void *old, size_t old_len, bool caller, bool keep,
                                      const void **blob, size_t *len, change_work *w,
                                      bool *kept)
{
	*kept = false;
	if (caller && *blob) {
		int rc = drop_reserved_as_they_are(old, old_len, blob, len, w);
		if (rc)
			return rc;
	}
	if (!keep || !old)
		return BRAIN_OK;
	*kept = true;
	return keep_reserved(old, old_len, blob, len, w);
}

/* The new metadata, whole (a patch applied to what the memory has), its
 * types checked, and the heap blobs META_SET takes: the new, and the old
 * for an undo, so that neither apply nor undo allocates but the fields. */
static int meta_change_prepare(brain_t *b, brain_change *c, change_work *w)
{
	brain_msg_meta_get g = {c->u.meta.id, NULL, 0};
	int rc = brain__call_META_GET(&b->spine, &g);
	if (rc)
		return rc;
	bool kept;
	rc = reserved_as_the_memory_has(g.blob, g.len, c->u.meta.caller, c->u.meta.keep_reserved,
	                                &c->u.meta.blob, &c->u.meta.len, w, &kept);
	if (rc)
		return rc;
	if (!kept && c->u.meta.patch) {
		rc = brain__meta_patch(g.blob, g.len, c->u.meta.blob, c->u.meta.len, &w->meta);
		if (rc)
			return rc;
		c->u.meta.blob = w->meta.data;
		c->u.meta.len = w->meta.len;
		c->u.meta.patch = false;
	}
	if (c->u.meta.blob && brain__meta_count(c->u.meta.blob) == 0)
		c->u.meta.blob = NULL; /* {} is no metadata */
	if (!c->u.meta.blob)
		c->u.meta.len = 0;
	if (c->u.meta.blob)
		rc = meta_prepare(b, c->u.meta.id, &c->u.meta.blob, &c->u.meta.len, w);
	if (rc == BRAIN_OK && c->u.meta.blob) {
		w->meta_new = brain__meta_heap(c->u.meta.blob, c->u.meta.len);
		if (!w->meta_new)
			rc = BRAIN_ENOMEM;
	}
	if (rc == BRAIN_OK && g.blob) {
		w->meta_old = brain__meta_heap(g.blob, g.len);
		if (!w->meta_old)
			rc = BRAIN_ENOMEM;
	}
	return rc;
}

static int meta_change_apply(brain_t *b, brain_change *c, change_work *w)
{
	brain_msg_meta_set m = {c->u.meta.id, w->meta_new};
	int rc = brain__call_META_SET(&b->spine, &m);
	if (rc == BRAIN_OK)
		w->meta_new = NULL; /* the store has it */
	return rc;
}

/* The old metadata back: its fields exist and the slot has room, so
 * META_SET cannot fail. */
static void meta_change_undo(brain_t *b, brain_change *c, change_work *w)
{
	brain_msg_meta_set m = {c->u.meta.id, w->meta_old};
	if (brain__call_META_SET(&b->spine, &m) == BRAIN_OK)
		w->meta_old = NULL;
	else
		BRAIN_LOG(BRAIN_LOG_ERROR, "metadata: could not put back the old metadata of %llu",
		          (unsigned long long)c->u.meta.id);
}

static void meta_change_encode(const brain_t *b, const brain_change *c, change_record *r)
{
	(void)b;
	uint32_t len = c->u.meta.blob ? (uint32_t)c->u.meta.len : 0;
	r->head.meta = (brain_record_meta){c->u.meta.id, len, 0};
	part(r, &r->head.meta, sizeof r->head.meta);
	if (len)
		part(r, c->u.meta.blob, len);
}

static int meta_change_decode(brain_t *b, uint64_t lsn, const unsigned char *p, size_t len,
                              brain_change *c, void **owned)
{
	(void)b;
	(void)owned;
	brain_record_meta h;
	int rc = record_head(lsn, p, len, &h, sizeof h);
	if (rc)
		return rc;
	if (len != sizeof h + h.len || h.reserved || h.id == BRAIN_ID_NONE ||
	    (h.len && brain__meta_check(p + sizeof h, h.len, false)))
		return bad_record(lsn, "a metadata change is not valid");
	c->u.meta.id = h.id;
	c->u.meta.blob = h.len ? p + sizeof h : NULL;
	c->u.meta.len = h.len;
	c->u.meta.patch = false;
	return BRAIN_OK;
}

static const char *meta_change_refused(int rc)
{
	return rc == BRAIN_ENOTFOUND ? "changes the metadata of an id that does not exist"
	       : rc == BRAIN_ETYPE   ? "gives a field a type it does not hold"
	                             : NULL;
}

/* ---- batch: add_batch --------------------------------------------------- */

static int batch_apply(brain_t *b, brain_change *c, change_work *w)
{
	(void)w;
	brain_msg_store_batch m = {c->u.batch.ids, c->u.batch.vectors, c->u.batch.n};
	return brain__call_STORE_BATCH(&b->spine, &m);
}

static void batch_undo(brain_t *b, brain_change *c, change_work *w)
{
	(void)w;
	for (size_t i = 0; i < c->u.batch.n; i++) {
		brain_msg_forget f = {c->u.batch.ids[i], false, false}; /* never allocates */
		brain__call_FORGET(&b->spine, &f);
	}
}

/* the caller's rows: replay prepares them again, the same way */
static void batch_encode(const brain_t *b, const brain_change *c, change_record *r)
{
	size_t n = c->u.batch.n;
	uint32_t dims = b->env.opts.dimensions;
	r->head.batch = (brain_record_batch){n, dims, 0};
	part(r, &r->head.batch, sizeof r->head.batch);
	part(r, c->u.batch.ids, n * sizeof *c->u.batch.ids);
	part(r, c->u.batch.vectors, n * dims * sizeof(float)); /* the api checked the product */
}

static int batch_decode(brain_t *b, uint64_t lsn, const unsigned char *p, size_t len,
                        brain_change *c, void **owned)
{
	brain_record_batch h;
	uint32_t dims = b->env.opts.dimensions;
	int rc = record_head(lsn, p, len, &h, sizeof h);
	if (rc)
		return rc;
	uint64_t row = sizeof(uint64_t) + (uint64_t)dims * sizeof(float);
	if (h.dimensions != dims || h.n == 0 || h.n > (len - sizeof h) / row ||
	    len != sizeof h + h.n * row)
		return bad_record(lsn, "a batch's fields are out of range");
	size_t n = (size_t)h.n;
	/* one buffer, aligned for both: ids, then rows */
	unsigned char *buf = brain__malloc_array(n, (size_t)row);
	if (!buf)
		return brain__oom(n * (size_t)row, "replay batch");
	*owned = buf;
	memcpy(buf, p + sizeof h, n * (size_t)row);
	c->u.batch.ids = (const uint64_t *)(void *)buf;
	c->u.batch.vectors = (const float *)(void *)(buf + n * sizeof(uint64_t));
	c->u.batch.n = n;
	return BRAIN_OK;
}

static const char *batch_refused(int rc)
{
	return rc == BRAIN_EEXISTS || rc == BRAIN_EINVAL || rc == BRAIN_ENONFINITE ||
	               rc == BRAIN_EZEROVEC
	           ? "a batch that cannot be stored"
	           : NULL;
}

/* ---- forget ------------------------------------------------------------ */

/* Everything that can fail: reading the record, analysing its text,
 * checking that the index holds its vector. */
static int forget_prepare(brain_t *b, brain_change *c, change_work *w)
{
	w->look.id = c->u.forget.id;
	int rc = brain__call_LOOKUP(&b->spine, &w->look);
	if (rc == BRAIN_OK && w->look.hit.text) {
		brain_msg_learn l = {.text = w->look.hit.text, .len = w->look.hit.text_len, .delta = 0};
		rc = brain__call_LEARN(&b->spine, &l);
		w->features = l.prepared;
		w->nfeatures = l.nfeatures;
	}
	if (rc == BRAIN_OK) {
		brain_msg_forget f = {.id = c->u.forget.id, .check = true};
		rc = brain__call_FORGET(&b->spine, &f);
	}
	return rc;
}

/* Prepared, it cannot fail: the text's features are at hand and the index
 * holds the vector. */
static int forget_apply(brain_t *b, brain_change *c, change_work *w)
{
	/* the features given (an empty list when the text has none), so
	 * that the Cortex does not analyse the text again */
	brain_msg_learn l = {w->look.hit.text, w->look.hit.text_len, -1,
	                     w->features ? w->features : none, w->nfeatures, NULL};
	int rc = BRAIN_OK;
	if (w->look.hit.text)
		rc = brain__call_LEARN(&b->spine, &l);
	if (rc == BRAIN_OK) {
		brain_msg_forget f = {.id = c->u.forget.id};
		rc = brain__call_FORGET(&b->spine, &f);
		if (rc && w->look.hit.text) {
			l.delta = +1; /* the memory stays: count its text again */
			if (brain__call_LEARN(&b->spine, &l))
				BRAIN_LOG(BRAIN_LOG_WARN, "forget: could not restore word statistics");
		}
	}
	return rc;
}

static void forget_encode(const brain_t *b, const brain_change *c, change_record *r)
{
	(void)b;
	r->head.id = c->u.forget.id;
	part(r, &r->head.id, sizeof r->head.id);
}

static int forget_decode(brain_t *b, uint64_t lsn, const unsigned char *p, size_t len,
                         brain_change *c, void **owned)
{
	(void)b;
	(void)owned;
	if (len != sizeof(uint64_t))
		return bad_record(lsn, "a forget's size is wrong");
	memcpy(&c->u.forget.id, p, sizeof(uint64_t));
	return BRAIN_OK;
}

static const char *forget_refused(int rc)
{
	return rc == BRAIN_ENOTFOUND ? "forgets an id that does not exist" : NULL;
}

/* ---- update_vector ----------------------------------------------------- */

static int update_prepare(brain_t *b, brain_change *c, change_work *w)
{
	(void)c;
	uint32_t dims = b->env.opts.dimensions;
	/* the vector it has, and room for the one an undo takes out */
	w->old = brain__malloc_array(2 * (size_t)dims, sizeof *w->old);
	return w->old ? BRAIN_OK : brain__oom(2 * (size_t)dims * sizeof *w->old, "update_vector");
}

static int update_apply(brain_t *b, brain_change *c, change_work *w)
{
	brain_msg_update u = {c->u.update.id, c->u.update.vector, w->old};
	return brain__call_UPDATE(&b->spine, &u);
}

/* The old vector back. The index takes a vector again into the slot it
 * just held it in, so this fails only where the index cannot allocate;
 * it is said loudly then (docs/durability.md, known limits). */
static void update_undo(brain_t *b, brain_change *c, change_work *w)
{
	brain_msg_update back = {c->u.update.id, w->old, w->old + b->env.opts.dimensions};
	if (brain__call_UPDATE(&b->spine, &back))
		BRAIN_LOG(BRAIN_LOG_ERROR, "update_vector: could not put back the old vector of %llu",
		          (unsigned long long)c->u.update.id);
}

static void update_encode(const brain_t *b, const brain_change *c, change_record *r)
{
	uint32_t dims = b->env.opts.dimensions;
	r->head.update = (brain_record_update){c->u.update.id, dims, 0};
	part(r, &r->head.update, sizeof r->head.update);
	part(r, c->u.update.vector, dims * sizeof(float));
}

static int update_decode(brain_t *b, uint64_t lsn, const unsigned char *p, size_t len,
                         brain_change *c, void **owned)
{
	brain_record_update h;
	uint32_t dims = b->env.opts.dimensions;
	int rc = record_head(lsn, p, len, &h, sizeof h);
	if (rc)
		return rc;
	if (h.dimensions != dims || len != sizeof h + (size_t)dims * sizeof(float))
		return bad_record(lsn, "an update's fields are out of range");
	float *vec = NULL;
	rc = record_vector(lsn, p + sizeof h, dims, "an updated vector is not finite", &vec, owned);
	c->u.update.id = h.id;
	c->u.update.vector = vec;
	return rc;
}

static const char *update_refused(int rc)
{
	return rc == BRAIN_ENOTFOUND ? "updates an id that does not exist" : NULL;
}

/* ---- strengthen: a near-copy remembered (MERGE_SIMILAR) ----------------- */

static int strengthen_apply(brain_t *b, brain_change *c, change_work *w)
{
	brain_msg_strengthen m = {c->u.strengthen.id, c->u.strengthen.importance,
	                          c->u.strengthen.accessed_ms, 0, 0};
	int rc = brain__call_STRENGTHEN(&b->spine, &m);
	if (rc == BRAIN_OK) {
		c->out_id = c->u.strengthen.id;
		w->old_importance = m.old_importance;
		w->old_accessed_ms = m.old_accessed_ms;
	}
	return rc;
}

/* What it had back (the id is there: it cannot fail). */
static void strengthen_undo(brain_t *b, brain_change *c, change_work *w)
{
	brain_msg_strengthen back = {c->u.strengthen.id, w->old_importance, w->old_accessed_ms, 0,
	                             0};
	brain__call_STRENGTHEN(&b->spine, &back);
}

static void strengthen_encode(const brain_t *b, const brain_change *c, change_record *r)
{
	(void)b;
	r->head.strengthen = (brain_record_strengthen){c->u.strengthen.id,
	                                               c->u.strengthen.accessed_ms,
	                                               c->u.strengthen.importance, 0};
	part(r, &r->head.strengthen, sizeof r->head.strengthen);
}

static int strengthen_decode(brain_t *b, uint64_t lsn, const unsigned char *p, size_t len,
                             brain_change *c, void **owned)
{
	(void)b;
	(void)owned;
	brain_record_strengthen h;
	int rc = record_head(lsn, p, len, &h, sizeof h);
	if (rc)
		return rc;
	if (len != sizeof h || !(h.importance >= 0.0f && h.importance <= 1.0f) || h.reserved)
		return bad_record(lsn, "a strengthening's fields are out of range");
	c->u.strengthen.id = h.id;
	c->u.strengthen.importance = h.importance;
	c->u.strengthen.accessed_ms = h.accessed_ms;
	return BRAIN_OK;
}

static const char *strengthen_refused(int rc)
{
	return rc == BRAIN_ENOTFOUND ? "strengthens an id that does not exist" : NULL;
}

/* MERGE_SIMILAR: the memory with text nearest a STORE's vector, if it is
 * at least that similar (under the write lock, so nothing comes between
 * finding it and strengthening it). */
static bool find_twin(brain_t *b, const brain_change *c, brain_id *id, float *importance)
{
	int64_t per_mille = brain__param(&b->env, BRAIN_PIDX_MERGE_SIMILAR);
	/* a memory with metadata is its own, never merged into another */
	if (per_mille <= 0 || !c->u.store.text || c->u.store.id != BRAIN_ID_NONE ||
	    c->u.store.meta)
		return false;
	uint32_t slot;
	float d;
	brain_msg_search s = {.query = c->u.store.vector, .k = 1, .text_only = true,
	                      .slots = &slot, .distances = &d};
	if (brain__call_SEARCH(&b->spine, &s) != BRAIN_OK || s.found == 0)
		return false;
	brain_hit hit;
	brain_msg_hits h = {&slot, &d, 1, false, &hit};
	if (brain__call_HITS(&b->spine, &h) != BRAIN_OK)
		return false;
	float sim = b->env.opts.metric == BRAIN_METRIC_L2 ? 1.0f - d / 2.0f : 1.0f - d;
	if (!(sim * 1000.0f >= (float)per_mille))
		return false;
	*id = hit.id;
	*importance = hit.importance;
	return true;
}

/* ---- relate and unrelate ------------------------------------------------- */

static int relate_apply(brain_t *b, brain_change *c, change_work *w)
{
	brain_msg_relate m = {c->u.relate.from, c->u.relate.to, c->u.relate.verb, c->u.relate.len,
	                      c->u.relate.weight, false, 0};
	int rc = brain__call_RELATE(&b->spine, &m);
	w->rel_had = m.had;
	w->rel_old = m.old;
	return rc;
}

/* The edge as it was: its old weight (it is there: no allocation), or
 * gone (removing never allocates). */
static void relate_undo(brain_t *b, brain_change *c, change_work *w)
{
	if (w->rel_had) {
		brain_msg_relate m = {c->u.relate.from, c->u.relate.to, c->u.relate.verb,
		                      c->u.relate.len, w->rel_old, false, 0};
		brain__call_RELATE(&b->spine, &m);
	} else {
		brain_msg_unrelate m = {c->u.relate.from, c->u.relate.to, c->u.relate.verb,
		                        c->u.relate.len, false, 0};
		brain__call_UNRELATE(&b->spine, &m);
	}
}

static void relate_encode(const brain_t *b, const brain_change *c, change_record *r)
{
	(void)b;
	uint32_t len = c->u.relate.verb ? (uint32_t)c->u.relate.len : UINT32_MAX;
	r->head.relate = (brain_record_relate){c->u.relate.from, c->u.relate.to, c->u.relate.weight,
	                                       len};
	part(r, &r->head.relate, sizeof r->head.relate);
	if (c->u.relate.verb)
		part(r, c->u.relate.verb, c->u.relate.len);
}

/* Both ops' records; `every` allows UINT32_MAX (unrelate of every verb). */
static int relate_decode_as(uint64_t lsn, const unsigned char *p, size_t len, brain_change *c,
                            bool every)
{
	brain_record_relate h;
	int rc = record_head(lsn, p, len, &h, sizeof h);
	if (rc)
		return rc;
	bool all = every && h.verb_len == UINT32_MAX;
	size_t verb = all ? 0 : h.verb_len;
	const char *v = (const char *)p + sizeof h;
	if (len != sizeof h + verb || (!all && (verb == 0 || verb > BRAIN_VERB_MAX)) ||
	    (!all && (!brain__utf8_valid(v, verb, NULL) || memchr(v, 0, verb))) ||
	    !(h.weight - h.weight == 0.0f) || h.from == BRAIN_ID_NONE || h.to == BRAIN_ID_NONE)
		return bad_record(lsn, "a relation's fields are out of range");
	c->u.relate.from = h.from;
	c->u.relate.to = h.to;
	c->u.relate.verb = all ? NULL : v;
	c->u.relate.len = verb;
	c->u.relate.weight = h.weight;
	return BRAIN_OK;
}

static int relate_decode(brain_t *b, uint64_t lsn, const unsigned char *p, size_t len,
                         brain_change *c, void **owned)
{
	(void)b;
	(void)owned;
	return relate_decode_as(lsn, p, len, c, false);
}

static const char *relate_refused(int rc)
{
	return rc == BRAIN_ENOTFOUND ? "relates a memory that does not exist" : NULL;
}

/* There is such an edge (unrelate is logged first: removing it then
 * cannot fail). */
static int unrelate_prepare(brain_t *b, brain_change *c, change_work *w)
{
	(void)w;
	brain_msg_unrelate m = {c->u.relate.from, c->u.relate.to, c->u.relate.verb,
	                        c->u.relate.len, true, 0};
	return brain__call_UNRELATE(&b->spine, &m);
}

static int unrelate_apply(brain_t *b, brain_change *c, change_work *w)
{
	(void)w;
	brain_msg_unrelate m = {c->u.relate.from, c->u.relate.to, c->u.relate.verb,
	                        c->u.relate.len, false, 0};
	return brain__call_UNRELATE(&b->spine, &m);
}

static int unrelate_decode(brain_t *b, uint64_t lsn, const unsigned char *p, size_t len,
                           brain_change *c, void **owned)
{
	(void)b;
	(void)owned;
	return relate_decode_as(lsn, p, len, c, true);
}

static const char *unrelate_refused(int rc)
{
	return rc == BRAIN_ENOTFOUND ? "removes a relation that does not exist" : NULL;
}

static const change_kind *kind_of(uint32_t op);

/* ---- replace: update a memory, or put one under its key ------------------ */

/* The memory as it is; the metadata it will have (the caller's, with its
 * own '@' fields); for a new text, that the index holds the old vector
 * and the old text's features (to uncount them once logged); in place,
 * the heap blobs META_SET takes. */
static int replace_prepare(brain_t *b, brain_change *c, change_work *w)
{
	if (c->u.replace.text && stale(b, c->u.replace.check_epoch, c->u.replace.epoch))
		return BRAIN_CHANGE_STALE;
	w->look.id = c->u.replace.id;
	int rc = brain__call_LOOKUP(&b->spine, &w->look);
	if (rc)
		return rc;
	const brain_hit *old = &w->look.hit;
	if (c->u.replace.text && !old->text)
		return brain__err(BRAIN_EINVAL, "memory %llu is a vector without text; "
		                  "brain_update_vector changes it", (unsigned long long)old->id);
	if (c->u.replace.set_meta) {
		const void *blob = c->u.replace.meta;
		size_t len = blob ? c->u.replace.meta_len : 0;
		bool kept;
		rc = reserved_as_the_memory_has(old->meta, old->meta_len, c->u.replace.caller,
		                                c->u.replace.keep_reserved, &blob, &len, w, &kept);
		if (rc)
			return rc;
		if (blob && brain__meta_count(blob) == 0)
			blob = NULL;
		if (blob)
			rc = meta_prepare(b, c->u.replace.id, &blob, &len, w);
		if (rc)
			return rc;
		c->u.replace.meta = blob;
		c->u.replace.meta_len = blob ? len : 0;
	}
	if (c->u.replace.text) {
		/* the new memory takes what is not given from the old */
		if (!c->u.replace.set_importance) {
			c->u.replace.set_importance = true;
			c->u.replace.importance = old->importance;
		}
		/* STORE takes the old metadata out of its slot: a copy to put
		 * back on an undo, and to log when the metadata stays */
		if (old->meta) {
			w->meta_old = brain__meta_heap(old->meta, old->meta_len);
			if (!w->meta_old)
				return BRAIN_ENOMEM;
		}
		if (!c->u.replace.set_meta) {
			c->u.replace.set_meta = true;
			c->u.replace.meta = w->meta_old ? w->meta_old + sizeof(uint32_t) : NULL;
			c->u.replace.meta_len = old->meta_len;
		}
		brain_msg_learn l = {.text = old->text, .len = old->text_len, .delta = 0};
		rc = brain__call_LEARN(&b->spine, &l);
		w->features = l.prepared;
		w->nfeatures = l.nfeatures;
		if (rc == BRAIN_OK && !c->u.replace.features) {
			brain_msg_learn n = {.text = c->u.replace.text, .len = c->u.replace.len,
			                     .delta = 0};
			rc = brain__call_LEARN(&b->spine, &n);
			w->new_features = n.prepared;
			c->u.replace.features = n.prepared ? n.prepared : none;
			c->u.replace.nfeatures = n.prepared ? n.nfeatures : 0;
		}
		if (rc == BRAIN_OK) {
			brain_msg_forget f = {.id = c->u.replace.id, .check = true};
			rc = brain__call_FORGET(&b->spine, &f);
		}
		return rc;
	}
	if (c->u.replace.set_meta && c->u.replace.meta) {
		w->meta_new = brain__meta_heap(c->u.replace.meta, c->u.replace.meta_len);
		if (!w->meta_new)
			return BRAIN_ENOMEM;
	}
	if (c->u.replace.set_meta && old->meta) {
		w->meta_old = brain__meta_heap(old->meta, old->meta_len);
		if (!w->meta_old)
			return BRAIN_ENOMEM;
	}
	return BRAIN_OK;
}

static void replace_undo(brain_t *b, brain_change *c, change_work *w)
{
	if (w->learned) {
		unlearn(b, c->u.replace.text, c->u.replace.len, c->u.replace.features,
		        c->u.replace.nfeatures, "update");
		w->learned = false;
	}
	if (w->stored) {
		brain_msg_replace_end e = {c->u.replace.id, w->old_slot, w->new_slot, true,
		                           w->meta_old};
		w->meta_old = NULL; /* put back into the old slot */
		if (brain__call_REPLACE_END(&b->spine, &e))
			BRAIN_LOG(BRAIN_LOG_ERROR, "update: could not take back the new text of %llu",
			          (unsigned long long)c->u.replace.id);
		w->stored = false;
	}
	if (w->meta_set) {
		brain_msg_meta_set m = {c->u.replace.id, w->meta_old}; /* cannot fail: see meta */
		if (brain__call_META_SET(&b->spine, &m) == BRAIN_OK)
			w->meta_old = NULL;
		w->meta_set = false;
	}
	if (w->strengthened) {
		brain_msg_strengthen back = {c->u.replace.id, w->old_importance, w->old_accessed_ms, 0,
		                             0};
		brain__call_STRENGTHEN(&b->spine, &back);
		w->strengthened = false;
	}
}

static int replace_apply(brain_t *b, brain_change *c, change_work *w)
{
	const brain_hit *old = &w->look.hit;
	c->out_id = c->u.replace.id;
	if (c->u.replace.text) {
		brain_msg_store s = {.id = c->u.replace.id,
		                     .text = c->u.replace.text,
		                     .len = c->u.replace.len,
		                     .vector = c->u.replace.vector,
		                     .importance = c->u.replace.importance,
		                     .created_ms = old->created_ms,
		                     .meta = c->u.replace.meta,
		                     .meta_len = c->u.replace.meta_len,
		                     .terms = c->u.replace.terms,
		                     .nterms = c->u.replace.nterms,
		                     .replace = true};
		int rc = brain__call_STORE(&b->spine, &s);
		if (rc)
			return rc;
		w->stored = true;
		w->old_slot = s.old_slot;
		w->new_slot = s.slot;
		brain_msg_learn l = {c->u.replace.text, c->u.replace.len, +1, c->u.replace.features,
		                     c->u.replace.nfeatures, NULL};
		rc = brain__call_LEARN(&b->spine, &l);
		if (rc)
			replace_undo(b, c, w);
		else
			w->learned = true;
		return rc;
	}
	if (c->u.replace.set_importance) {
		brain_msg_strengthen m = {c->u.replace.id, c->u.replace.importance, old->accessed_ms, 0,
		                          0};
		int rc = brain__call_STRENGTHEN(&b->spine, &m);
		if (rc)
			return rc;
		w->strengthened = true;
		w->old_importance = m.old_importance;
		w->old_accessed_ms = m.old_accessed_ms;
	}
	if (c->u.replace.set_meta) {
		brain_msg_meta_set m = {c->u.replace.id, w->meta_new};
		int rc = brain__call_META_SET(&b->spine, &m);
		if (rc) {
			replace_undo(b, c, w);
			return rc;
		}
		w->meta_new = NULL; /* the store has it */
		w->meta_set = true;
	}
	return BRAIN_OK;
}

/* A new text: the old one uncounted and its slot dropped (prepared: the
 * features are at hand, the index holds the old vector). */
static void replace_finish(brain_t *b, brain_change *c, change_work *w)
{
	if (!w->stored)
		return;
	brain_msg_learn l = {w->look.hit.text, w->look.hit.text_len, -1,
	                     w->features ? w->features : none, w->nfeatures, NULL};
	if (brain__call_LEARN(&b->spine, &l))
		BRAIN_LOG(BRAIN_LOG_WARN, "update: could not uncount the old text of %llu",
		          (unsigned long long)c->u.replace.id);
	brain_msg_replace_end e = {c->u.replace.id, w->old_slot, w->new_slot, false, NULL};
	if (brain__call_REPLACE_END(&b->spine, &e))
		BRAIN_LOG(BRAIN_LOG_ERROR, "update: the old text of %llu stays in slot %u (%s)",
		          (unsigned long long)c->u.replace.id, (unsigned)w->old_slot, brain_errmsg());
	w->stored = false;
}

/* what the change made: with a text, its vector, importance and the
 * metadata the new memory has, all of them */
static void replace_encode(const brain_t *b, const brain_change *c, change_record *r)
{
	bool text = c->u.replace.text != NULL;
	uint32_t dims = text ? b->env.opts.dimensions : 0;
	uint32_t flags = (text ? BRAIN_REPLACE_TEXT : 0u) |
	                 (c->u.replace.set_importance ? BRAIN_REPLACE_IMPORTANCE : 0u) |
	                 (c->u.replace.set_meta ? BRAIN_REPLACE_META : 0u);
	uint32_t meta_len = c->u.replace.set_meta && c->u.replace.meta
	                        ? (uint32_t)c->u.replace.meta_len
	                        : 0;
	r->head.replace = (brain_record_replace){c->u.replace.id,
	                                         c->u.replace.set_importance ? c->u.replace.importance
	                                                                     : 0.0f,
	                                         flags,
	                                         text ? (uint32_t)c->u.replace.len : 0,
	                                         dims,
	                                         meta_len,
	                                         0};
	part(r, &r->head.replace, sizeof r->head.replace);
	if (text) {
		part(r, c->u.replace.vector, dims * sizeof(float));
		part(r, c->u.replace.text, c->u.replace.len);
		part(r, "", 1);
	}
	if (meta_len)
		part(r, c->u.replace.meta, meta_len);
}

static int replace_decode(brain_t *b, uint64_t lsn, const unsigned char *p, size_t len,
                          brain_change *c, void **owned)
{
	brain_record_replace h;
	int rc = record_head(lsn, p, len, &h, sizeof h);
	if (rc)
		return rc;
	uint32_t dims = b->env.opts.dimensions;
	bool text = (h.flags & BRAIN_REPLACE_TEXT) != 0;
	size_t vec_bytes = text ? (size_t)dims * sizeof(float) : 0;
	size_t text_bytes = text ? (size_t)h.text_len + 1 : 0;
	bool imp = (h.flags & BRAIN_REPLACE_IMPORTANCE) != 0;
	bool meta = (h.flags & BRAIN_REPLACE_META) != 0;
	if ((h.flags & ~7u) || h.reserved || h.id == BRAIN_ID_NONE ||
	    (text && (h.dimensions != dims || h.text_len == 0 || !imp || !meta)) ||
	    (!text && (h.dimensions || h.text_len)) || (!meta && h.meta_len) ||
	    (imp && !(h.importance >= 0.0f && h.importance <= 1.0f)) ||
	    len != sizeof h + vec_bytes + text_bytes + h.meta_len)
		return bad_record(lsn, "an update's fields are out of range");
	const unsigned char *blob = h.meta_len ? p + sizeof h + vec_bytes + text_bytes : NULL;
	if (blob && brain__meta_check(blob, h.meta_len, false))
		return bad_record(lsn, "an update's metadata is not valid");
	c->u.replace.id = h.id;
	c->u.replace.set_importance = imp;
	c->u.replace.importance = h.importance;
	c->u.replace.set_meta = meta;
	c->u.replace.meta = blob;
	c->u.replace.meta_len = h.meta_len;
	if (!text)
		return BRAIN_OK;
	const char *t = (const char *)p + sizeof h + vec_bytes;
	brain_msg_text_check tc = {t, (size_t)h.text_len + 1, "log: text", 0};
	if (t[h.text_len] != '\0' || brain__call_TEXT_CHECK(&b->spine, &tc) ||
	    tc.len != h.text_len)
		return bad_record(lsn, "an updated text is not valid");
	float *vec = NULL;
	rc = record_vector(lsn, p + sizeof h, dims, "an updated vector is not finite", &vec, owned);
	c->u.replace.text = t;
	c->u.replace.len = h.text_len;
	c->u.replace.vector = vec;
	return rc;
}

static const char *replace_refused(int rc)
{
	return rc == BRAIN_ENOTFOUND ? "updates an id that does not exist"
	       : rc == BRAIN_ETYPE   ? "gives a field a type it does not hold"
	       : rc == BRAIN_EINVAL  ? "gives a vector without text a text"
	                             : NULL;
}

/* A put under a key (under the write lock, so that no other put of the
 * key comes between): the key's memory is replaced, or the change becomes
 * the STORE of a new memory, whose metadata (the api's) holds the key. */
static int key_resolve(brain_t *b, brain_change *c, const change_kind **k)
{
	brain_msg_key_find f = {c->u.replace.key, BRAIN_ID_NONE};
	int rc = brain__call_KEY_FIND(&b->spine, &f);
	if (rc)
		return rc;
	if (f.id != BRAIN_ID_NONE) {
		c->u.replace.id = f.id;
		return BRAIN_OK;
	}
	struct brain_change_replace r = c->u.replace;
	memset(&c->u, 0, sizeof c->u);
	c->op = BRAIN_CHANGE_STORE;
	c->u.store.id = BRAIN_ID_NONE;
	c->u.store.text = r.text;
	c->u.store.len = r.len;
	c->u.store.vector = r.vector;
	c->u.store.importance = r.importance;
	c->u.store.features = r.features;
	c->u.store.nfeatures = r.nfeatures;
	c->u.store.terms = r.terms;
	c->u.store.nterms = r.nterms;
	c->u.store.check_epoch = r.check_epoch;
	c->u.store.epoch = r.epoch;
	c->u.store.meta = r.meta;
	c->u.store.meta_len = r.meta_len;
	*k = kind_of(BRAIN_CHANGE_STORE);
	return BRAIN_OK;
}

/* ---- ids of a slot set ------------------------------------------------- */

int brain__ids_of(brain_t *b, const brain_slotset *set, uint64_t n, brain_id **out)
{
	*out = NULL;
	brain_id *ids = brain__malloc_array(BRAIN_MAX(n, (uint64_t)1), sizeof *ids);
	uint32_t *slots = brain__malloc_array(1024, sizeof *slots);
	brain_hit *hits = brain__malloc_array(1024, sizeof *hits);
	int rc = ids && slots && hits ? BRAIN_OK : brain__oom(n * sizeof *ids + 64 * 1024, "ids");
	size_t from = 0, got;
	while (rc == BRAIN_OK && (got = brain__slotset_read(set, from, slots, 1024)) > 0) {
		brain_msg_hits h = {slots, NULL, got, false, hits};
		rc = brain__call_HITS(&b->spine, &h);
		for (size_t i = 0; rc == BRAIN_OK && i < got; i++)
			ids[from + i] = hits[i].id;
		from += got;
	}
	brain__free(slots);
	brain__free(hits);
	if (rc) {
		brain__free(ids);
		return rc;
	}
	*out = ids;
	return BRAIN_OK;
}

/* ---- document: passages stored, the old ones forgotten ------------------ */


/* The ids of the passages of the document under the key now. */
static int doc_find(brain_t *b, const brain_change *c, change_work *w)
{
	brain_filter *f = brain_filter_string(BRAIN_META_DOC, BRAIN_FILTER_EQ, c->u.doc.key);
	if (!f)
		return brain__oom(c->u.doc.key_len + 64, "document");
	brain_msg_filter_eval m = {f, NULL, 0};
	int rc = brain__call_FILTER_EVAL(&b->spine, &m);
	brain_filter_free(f);
	if (rc == BRAIN_OK && m.count)
		rc = brain__ids_of(b, m.set, m.count, &w->doc_old);
	w->doc_nold = rc == BRAIN_OK ? (size_t)m.count : 0;
	brain__slotset_free(m.set);
	return rc;
}

/* The old passages (found now, or the record's), each one there to be
 * forgotten; the caller's fields against the brain's types. */
static int doc_prepare(brain_t *b, brain_change *c, change_work *w)
{
	if (stale(b, c->u.doc.check_epoch, c->u.doc.epoch))
		return BRAIN_CHANGE_STALE;
	int rc = BRAIN_OK;
	if (c->u.doc.old) { /* replayed */
		w->doc_old = brain__malloc_array(c->u.doc.n_old, sizeof *w->doc_old);
		if (!w->doc_old)
			return brain__oom(c->u.doc.n_old * sizeof *w->doc_old, "document");
		memcpy(w->doc_old, c->u.doc.old, c->u.doc.n_old * sizeof *w->doc_old);
		w->doc_nold = c->u.doc.n_old;
	} else {
		rc = doc_find(b, c, w);
		c->u.doc.old = w->doc_old; /* logged */
		c->u.doc.n_old = w->doc_nold;
	}
	for (size_t i = 0; rc == BRAIN_OK && i < w->doc_nold; i++) {
		brain_msg_forget f = {.id = w->doc_old[i], .check = true};
		rc = brain__call_FORGET(&b->spine, &f);
	}
	if (c->u.doc.meta && brain__meta_count(c->u.doc.meta) == 0) {
		c->u.doc.meta = NULL;
		c->u.doc.meta_len = 0;
	}
	if (rc == BRAIN_OK && c->u.doc.meta)
		rc = meta_prepare(b, BRAIN_ID_NONE, &c->u.doc.meta, &c->u.doc.meta_len, w);
	return rc;
}

/* The passages stored so far taken back, last first (so that their ids
 * are given again). */
static void doc_undo(brain_t *b, brain_change *c, change_work *w)
{
	while (w->doc_stored > 0) {
		size_t i = --w->doc_stored;
		/* no features kept (see doc_apply): analysed again, which needs
		 * memory; out of it, the statistics keep the passage (logged) */
		unlearn(b, c->u.doc.text + c->u.doc.spans[2 * i], (size_t)c->u.doc.spans[2 * i + 1],
		        NULL, 0, "document");
		brain_msg_forget f = {c->u.doc.first_id + i, true, false};
		brain__call_FORGET(&b->spine, &f);
	}
}

static int doc_apply(brain_t *b, brain_change *c, change_work *w)
{
	uint32_t dims = b->env.opts.dimensions;
	int rc = BRAIN_OK;
	for (size_t i = 0; rc == BRAIN_OK && i < c->u.doc.n; i++) {
		brain_meta_blob blob = {NULL, 0};
		rc = brain__meta_with(c->u.doc.meta, c->u.doc.meta_len, BRAIN_META_DOC, c->u.doc.key,
		                      c->u.doc.key_len, BRAIN_META_PART, (int64_t)i, &blob);
		if (rc)
			break;
		const char *text = c->u.doc.text + c->u.doc.spans[2 * i];
		size_t len = (size_t)c->u.doc.spans[2 * i + 1];
		brain_msg_store s = {
			.id = c->u.doc.first_id + i, /* live, the first: NONE, the next id */
			.text = text,
			.len = len,
			.vector = c->u.doc.vectors + i * dims,
			.importance = c->u.doc.importance,
			.created_ms = c->u.doc.created_ms,
			.meta = blob.data,
			.meta_len = blob.len,
			.terms = c->u.doc.terms ? c->u.doc.terms[i] : NULL,
			.nterms = c->u.doc.terms ? c->u.doc.nterms[i] : 0};
		rc = brain__call_STORE(&b->spine, &s);
		brain__free(blob.data);
		if (rc)
			break;
		if (i == 0) {
			c->u.doc.first_id = s.out_id;
			c->u.doc.created_ms = s.created_ms;
		}
		w->doc_stored = i + 1;
		/* the features are analysed here, not kept from the embedding:
		 * a long document's would be many times its text */
		brain_msg_learn l = {text, len, +1, NULL, 0, NULL};
		rc = brain__call_LEARN(&b->spine, &l);
		brain__free(l.prepared);
		if (rc) {
			brain_msg_forget f = {s.out_id, true, false};
			brain__call_FORGET(&b->spine, &f);
			w->doc_stored = i;
		}
	}
	if (rc)
		doc_undo(b, c, w);
	c->out_id = c->u.doc.first_id;
	return rc;
}

/* The old passages forgotten, one at a time, each as a forget is made.
 * The record says they are gone, so each goes whatever happens: FORGET
 * was checked in prepare and cannot fail then; only uncounting a
 * passage's words needs memory (its text analysed), and if that fails
 * the word statistics keep it (said in the log) rather than the brain
 * keeping a passage its log has forgotten. */
static int forget_prepare(brain_t *b, brain_change *c, change_work *w);
static int forget_apply(brain_t *b, brain_change *c, change_work *w);

static void doc_finish(brain_t *b, brain_change *c, change_work *w)
{
	(void)c;
	for (size_t i = 0; i < w->doc_nold; i++) {
		brain_change f = {.op = BRAIN_CHANGE_FORGET};
		f.u.forget.id = w->doc_old[i];
		change_work fw;
		memset(&fw, 0, sizeof fw);
		int rc = forget_prepare(b, &f, &fw);
		if (rc == BRAIN_OK)
			rc = forget_apply(b, &f, &fw);
		brain__free(fw.features);
		if (rc) {
			BRAIN_LOG(BRAIN_LOG_WARN, "document: the words of passage %llu stay counted in "
			          "the word statistics (%s)", (unsigned long long)f.u.forget.id,
			          brain_errmsg());
			brain_msg_forget gone = {.id = f.u.forget.id};
			if (brain__call_FORGET(&b->spine, &gone))
				BRAIN_LOG(BRAIN_LOG_ERROR, "document: passage %llu stays until the next open "
				          "(%s)", (unsigned long long)f.u.forget.id, brain_errmsg());
		}
	}
}

static void doc_encode(const brain_t *b, const brain_change *c, change_record *r)
{
	uint32_t dims = b->env.opts.dimensions;
	size_t n = c->u.doc.n;
	uint32_t meta_len = c->u.doc.meta ? (uint32_t)c->u.doc.meta_len : 0;
	r->head.doc = (brain_record_document){c->u.doc.first_id,
	                                      c->u.doc.created_ms,
	                                      c->u.doc.len,
	                                      c->u.doc.importance,
	                                      dims,
	                                      (uint32_t)n,
	                                      (uint32_t)c->u.doc.n_old,
	                                      (uint32_t)c->u.doc.key_len,
	                                      meta_len};
	part(r, &r->head.doc, sizeof r->head.doc);
	part(r, c->u.doc.old, c->u.doc.n_old * sizeof(uint64_t));
	part(r, c->u.doc.spans, n * 2 * sizeof(uint64_t));
	part(r, c->u.doc.vectors, n * dims * sizeof(float));
	part(r, c->u.doc.key, c->u.doc.key_len);
	part(r, c->u.doc.text, c->u.doc.len);
	if (meta_len)
		part(r, c->u.doc.meta, meta_len);
}

static int doc_decode(brain_t *b, uint64_t lsn, const unsigned char *p, size_t len,
                      brain_change *c, void **owned)
{
	brain_record_document h;
	int rc = record_head(lsn, p, len, &h, sizeof h);
	if (rc)
		return rc;
	uint32_t dims = b->env.opts.dimensions;
	/* each part within the record before they are added up (a record is
	 * under 4 GiB: none of these sums can wrap then) */
	uint64_t rest = len - sizeof h;
	if (h.dimensions != dims || h.n == 0 || h.key_len == 0 || h.key_len > BRAIN_KEY_MAX ||
	    h.first_id == BRAIN_ID_NONE || h.first_id + h.n < h.first_id ||
	    !(h.importance >= 0.0f && h.importance <= 1.0f) || len > UINT32_MAX ||
	    h.text_len > rest || h.meta_len > rest || (uint64_t)h.n_old * 8 > rest ||
	    (uint64_t)h.n * (16 + (uint64_t)dims * 4) > rest ||
	    (uint64_t)h.n_old * 8 + (uint64_t)h.n * (16 + (uint64_t)dims * 4) + h.key_len +
	            h.text_len + h.meta_len != rest)
		return bad_record(lsn, "a document's fields are out of range");
	const unsigned char *at = p + sizeof h;
	/* u64 arrays copied out of the (unaligned) record, with the rows */
	size_t words = (size_t)h.n_old + 2 * (size_t)h.n;
	size_t row_bytes = (size_t)h.n * dims * sizeof(float);
	unsigned char *buf = brain__malloc(words * 8 + row_bytes);
	if (!buf)
		return brain__oom(words * 8 + row_bytes, "replay document");
	*owned = buf;
	memcpy(buf, at, words * 8);
	uint64_t *old = (uint64_t *)(void *)buf;
	uint64_t *spans = old + h.n_old;
	float *rows = (float *)(void *)(buf + words * 8);
	memcpy(rows, at + words * 8, row_bytes);
	for (size_t i = 0; i < (size_t)h.n * dims; i++)
		if (!(rows[i] - rows[i] == 0.0f))
			return bad_record(lsn, "a passage's vector is not finite");
	at += words * 8 + row_bytes;
	const char *key = (const char *)at;
	const char *text = key + h.key_len;
	const unsigned char *meta = h.meta_len ? (const unsigned char *)text + h.text_len : NULL;
	if (!brain__utf8_valid(key, h.key_len, NULL) || memchr(key, 0, h.key_len) ||
	    (meta && brain__meta_check(meta, h.meta_len, false)))
		return bad_record(lsn, "a document's key or metadata is not valid");
	for (size_t i = 0; i < h.n; i++) {
		uint64_t s = spans[2 * i], n = spans[2 * i + 1];
		if (n == 0 || s > h.text_len || n > h.text_len - s ||
		    !brain__utf8_valid(text + s, (size_t)n, NULL) || memchr(text + s, 0, (size_t)n))
			return bad_record(lsn, "a document's passage is not valid");
	}
	c->u.doc.key = key;
	c->u.doc.key_len = h.key_len;
	c->u.doc.text = text;
	c->u.doc.len = (size_t)h.text_len;
	c->u.doc.spans = spans;
	c->u.doc.n = h.n;
	c->u.doc.vectors = rows;
	c->u.doc.importance = h.importance;
	c->u.doc.created_ms = h.created_ms ? h.created_ms : 1;
	c->u.doc.meta = meta;
	c->u.doc.meta_len = h.meta_len;
	c->u.doc.first_id = h.first_id;
	c->u.doc.old = old;
	c->u.doc.n_old = h.n_old;
	return BRAIN_OK;
}

static const char *doc_refused(int rc)
{
	return rc == BRAIN_EEXISTS     ? "stores a passage under an id that exists"
	       : rc == BRAIN_ENOTFOUND ? "forgets a passage that does not exist"
	       : rc == BRAIN_ETYPE     ? "stores metadata of a type its field does not hold"
	                               : NULL;
}

/* ---- the kinds and their one order ------------------------------------- */

static const change_kind g_kinds[] = {
	[BRAIN_CHANGE_STORE] = {"store", false, store_decode, store_prepare, store_apply, store_undo,
	                        NULL, store_encode, store_refused},
	[BRAIN_CHANGE_BATCH] = {"batch", false, batch_decode, NULL, batch_apply, batch_undo, NULL,
	                        batch_encode, batch_refused},
	[BRAIN_CHANGE_FORGET] = {"forget", true, forget_decode, forget_prepare, forget_apply, NULL,
	                         NULL, forget_encode, forget_refused},
	[BRAIN_CHANGE_UPDATE] = {"update", false, update_decode, update_prepare, update_apply,
	                         update_undo, NULL, update_encode, update_refused},
	[BRAIN_CHANGE_STRENGTHEN] = {"strengthen", false, strengthen_decode, NULL,
	                             strengthen_apply, strengthen_undo, NULL, strengthen_encode,
	                             strengthen_refused},
	[BRAIN_CHANGE_META] = {"metadata", false, meta_change_decode, meta_change_prepare,
	                       meta_change_apply, meta_change_undo, NULL, meta_change_encode,
	                       meta_change_refused},
	[BRAIN_CHANGE_RELATE] = {"relate", false, relate_decode, NULL, relate_apply, relate_undo,
	                         NULL, relate_encode, relate_refused},
	[BRAIN_CHANGE_UNRELATE] = {"unrelate", true, unrelate_decode, unrelate_prepare,
	                           unrelate_apply, NULL, NULL, relate_encode, unrelate_refused},
	[BRAIN_CHANGE_REPLACE] = {"update", false, replace_decode, replace_prepare, replace_apply,
	                          replace_undo, replace_finish, replace_encode, replace_refused},
	[BRAIN_CHANGE_DOCUMENT] = {"document", false, doc_decode, doc_prepare, doc_apply, doc_undo,
	                           doc_finish, doc_encode, doc_refused},
};

static const change_kind *kind_of(uint32_t op)
{
	return op < BRAIN_ARRAY_LEN(g_kinds) && g_kinds[op].apply ? &g_kinds[op] : NULL;
}

static void work_free(change_work *w)
{
	brain__free(w->features);
	brain__free(w->old);
	brain__free(w->meta.data);
	brain__free(w->meta_own.data);
	brain__free(w->meta_new);
	brain__free(w->meta_old);
	brain__free(w->doc_old);
	brain__free(w->new_features);
}

/* Log a made (or, log_first, a prepared) change: WAL_APPEND to the Lungs,
 * under the write lock; *lsn 0 for an in-memory brain (nothing to log). */
static int log_change(brain_t *b, const change_kind *k, const brain_change *c, uint64_t *lsn)
{
	*lsn = 0;
	if (!b->disk.dir)
		return BRAIN_OK;
	change_record r;
	memset(&r, 0, sizeof r);
	k->encode(b, c, &r);
	brain_msg_wal_append m = {(uint32_t)c->op, r.parts, r.nparts, 0};
	int rc = brain__call_WAL_APPEND(&b->spine, &m);
	if (rc == BRAIN_OK)
		*lsn = m.lsn;
	return rc;
}

/* After the lock is released: wait until the change is as durable as the
 * sync mode promises (WAL_COMMIT: group commit in FULL). */
int brain__change_commit(brain_t *b, uint64_t lsn)
{
	if (lsn == 0)
		return BRAIN_OK;
	brain_msg_wal_commit c = {lsn, false};
	return brain__call_WAL_COMMIT(&b->spine, &c);
}

int brain__change_make(brain_t *b, brain_change *c)
{
	const change_kind *k = kind_of((uint32_t)c->op);
	if (!k)
		return brain__err(BRAIN_EINTERNAL, "change: kind %d unknown", c->op);
	change_work w;
	memset(&w, 0, sizeof w);
	uint64_t lsn = 0;
	brain_mem_scope outer = brain__enter(b);
	brain__wrlock(b);
	int rc = BRAIN_OK;
	/* changes that only shrink the brain are never refused by its budget */
	bool shrinks = c->op == BRAIN_CHANGE_FORGET || c->op == BRAIN_CHANGE_UNRELATE ||
	               (c->op == BRAIN_CHANGE_META && !c->u.meta.blob);
	if (!shrinks) {
		/* a change that grows the brain, within its memory budget */
		brain_msg_liver_admit a = {k->name};
		rc = brain__call_LIVER_ADMIT(&b->spine, &a);
	}
	if (rc == BRAIN_OK && c->op == BRAIN_CHANGE_REPLACE && c->u.replace.key)
		rc = key_resolve(b, c, &k);
	if (rc == BRAIN_OK && k->prepare)
		rc = k->prepare(b, c, &w);
	brain_id twin;
	float had;
	if (rc == BRAIN_OK && c->op == BRAIN_CHANGE_STORE && find_twin(b, c, &twin, &had)) {
		/* a near-copy: the memory there is strengthened instead */
		float m = BRAIN_MAX(had, c->u.store.importance);
		c->op = BRAIN_CHANGE_STRENGTHEN;
		c->u.strengthen.id = twin;
		c->u.strengthen.importance = m + (1.0f - m) / 4.0f;
		c->u.strengthen.accessed_ms = brain__now_ms();
		k = kind_of(BRAIN_CHANGE_STRENGTHEN);
	}
	if (rc == BRAIN_OK && k->log_first) {
		rc = log_change(b, k, c, &lsn);
		if (rc == BRAIN_OK) {
			rc = k->apply(b, c, &w);
			if (rc && lsn)
				BRAIN_LOG(BRAIN_LOG_ERROR, "%s: logged but could not be made now (%s); it "
				          "will be on the next open", k->name, brain_errmsg());
		}
	} else if (rc == BRAIN_OK) {
		rc = k->apply(b, c, &w);
		if (rc == BRAIN_OK) {
			rc = log_change(b, k, c, &lsn);
			if (rc)
				k->undo(b, c, &w);
			else if (k->finish)
				k->finish(b, c, &w);
		}
	}
	brain__wrunlock(b);
	work_free(&w);
	brain__mem_leave(outer);
	c->out_lsn = rc == BRAIN_OK ? lsn : 0;
	if (rc == BRAIN_OK && !c->defer_commit)
		rc = brain__change_commit(b, lsn);
	return rc;
}

/* What an embedding gave a change, set into it before each try
 * (`embedded`: by the brain's embedder, so it may go stale). */
typedef void (*embed_fill_fn)(brain_change *c, const brain_msg_embed *e, bool embedded,
                              const void *ctx);

/* Make change c with a vector of e's text: the caller's (`vector`,
 * prepared into e->vector) or the brain's embedding, made again for as
 * long as the embedder was replaced between the embedding and the lock
 * (BRAIN_CHANGE_STALE). The features and terms are freed. */
static int make_embedded(brain_t *b, brain_change *c, const float *vector, const float *pre,
                         uint64_t pre_epoch, brain_msg_embed *e, embed_fill_fn fill,
                         const void *ctx)
{
	int rc = BRAIN_OK;
	if (vector) {
		rc = brain__vector_prepare(vector, b->env.opts.dimensions, b->env.opts.metric,
		                           e->vector, "vector");
	} else if (pre) {
		/* embedded already (EMBED_MANY), as EMBED would have */
		memcpy(e->vector, pre, b->env.opts.dimensions * sizeof *e->vector);
		e->epoch = pre_epoch;
	} else {
		rc = brain__call_EMBED(&b->spine, e);
	}
	while (rc == BRAIN_OK) {
		fill(c, e, !vector, ctx);
		rc = brain__change_make(b, c);
		if (rc != BRAIN_CHANGE_STALE)
			break;
		/* the embedder was replaced after this vector was made */
		brain__free(e->features);
		brain__free(e->terms);
		e->features = NULL;
		e->terms = NULL;
		rc = brain__call_EMBED(&b->spine, e);
	}
	brain__free(e->features);
	brain__free(e->terms);
	return rc;
}

typedef struct store_asked {
	const void *meta;
	size_t meta_len;
} store_asked;

static void fill_store(brain_change *c, const brain_msg_embed *e, bool embedded, const void *ctx)
{
	const store_asked *a = ctx;
	c->u.store.check_epoch = embedded;
	c->u.store.features = e->features;
	c->u.store.nfeatures = e->nfeatures;
	c->u.store.terms = e->terms;
	c->u.store.nterms = e->nterms;
	c->u.store.epoch = e->epoch;
	c->u.store.meta = a->meta; /* the caller's: a try's widened copy is gone */
	c->u.store.meta_len = a->meta_len;
}

static int remember(brain_t *b, const char *text, size_t len, const float *vector,
                    const float *pre, uint64_t pre_epoch, float importance, const void *meta,
                    size_t meta_len, bool defer, brain_change *c)
{
	memset(c, 0, sizeof *c);
	float *vec = brain__malloc_array(b->env.opts.dimensions, sizeof(float));
	if (!vec)
		return brain__oom(b->env.opts.dimensions * sizeof(float), "vector");
	/* The embedder hands back the text's features, so that LEARN need not
	 * analyse the text a second time. */
	brain_msg_embed e = {.text = text,
	                     .len = len,
	                     .purpose = BRAIN_EMBED_DOCUMENT,
	                     .vector = vec,
	                     .want_features = true};
	c->op = BRAIN_CHANGE_STORE;
	c->u.store.id = BRAIN_ID_NONE;
	c->u.store.text = text;
	c->u.store.len = len;
	c->u.store.vector = vec;
	c->u.store.importance = importance;
	c->defer_commit = defer;
	store_asked asked = {meta, meta_len};
	int rc = make_embedded(b, c, vector, pre, pre_epoch, &e, fill_store, &asked);
	brain__free(vec);
	/* borrowed pointers must not outlive the call */
	if (c->op == BRAIN_CHANGE_STORE) {
		c->u.store.vector = NULL;
		c->u.store.features = NULL;
		c->u.store.terms = NULL;
		c->u.store.meta = NULL;
	}
	return rc;
}

int brain__change_remember(brain_t *b, const char *text, size_t len, const float *vector,
                           float importance, const void *meta, size_t meta_len, bool defer,
                           brain_change *c)
{
	return remember(b, text, len, vector, NULL, 0, importance, meta, meta_len, defer, c);
}

int brain__change_remember_embedded(brain_t *b, const char *text, size_t len,
                                    const float *embedded, uint64_t epoch, float importance,
                                    const void *meta, size_t meta_len, bool defer,
                                    brain_change *c)
{
	return remember(b, text, len, NULL, embedded, epoch, importance, meta, meta_len, defer, c);
}

/* As asked (a try that found no key made the change a STORE). */
static void fill_replace(brain_change *c, const brain_msg_embed *e, bool embedded,
                         const void *ctx)
{
	c->op = BRAIN_CHANGE_REPLACE;
	c->u.replace = *(const struct brain_change_replace *)ctx;
	c->u.replace.vector = e->vector;
	c->u.replace.features = e->features;
	c->u.replace.nfeatures = e->nfeatures;
	c->u.replace.terms = e->terms;
	c->u.replace.nterms = e->nterms;
	c->u.replace.check_epoch = embedded;
	c->u.replace.epoch = e->epoch;
}

int brain__change_update(brain_t *b, brain_change *c, const float *vector)
{
	if (!c->u.replace.text)
		return brain__change_make(b, c);
	float *vec = brain__malloc_array(b->env.opts.dimensions, sizeof(float));
	if (!vec)
		return brain__oom(b->env.opts.dimensions * sizeof(float), "vector");
	brain_msg_embed e = {.text = c->u.replace.text,
	                     .len = c->u.replace.len,
	                     .purpose = BRAIN_EMBED_DOCUMENT,
	                     .vector = vec,
	                     .want_features = true};
	struct brain_change_replace asked = c->u.replace;
	int rc = make_embedded(b, c, vector, NULL, 0, &e, fill_replace, &asked);
	brain__free(vec);
	memset(&c->u, 0, sizeof c->u); /* borrowed pointers must not outlive the call */
	return rc;
}

int brain__change_replay(void *payload, uint32_t op, uint64_t lsn, const void *data, size_t len)
{
	brain_t *b = payload;
	const change_kind *k = kind_of(op);
	if (!k)
		return bad_record(lsn, "unknown operation");
	brain_change c;
	memset(&c, 0, sizeof c);
	c.op = (int)op;
	void *owned = NULL;
	change_work w;
	memset(&w, 0, sizeof w);
	int rc = k->decode(b, lsn, data, len, &c, &owned);
	if (rc == BRAIN_OK && k->prepare)
		rc = k->prepare(b, &c, &w);
	if (rc == BRAIN_OK)
		rc = k->apply(b, &c, &w);
	if (rc == BRAIN_OK && k->finish)
		k->finish(b, &c, &w);
	const char *why = rc ? k->refused(rc) : NULL;
	if (why)
		rc = bad_record(lsn, why);
	work_free(&w);
	brain__free(owned);
	return rc;
}
