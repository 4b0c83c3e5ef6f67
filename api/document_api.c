/*
 * api/document_api.c - documents: a long text cut into passages by the
 * chunker (base/chunk.c), each embedded without the lock, then stored as
 * one DOCUMENT change (engine/change.c) that also forgets the passages of
 * the document the key had.
 *
 * Memory stays linear in the text and small: what is kept between the
 * embedding and the change is each passage's span, vector and keyword
 * terms, never a passage's copy of the text or its n-gram features (those
 * are analysed again under the lock, one passage at a time).
 */
#include <string.h>

#include "api/change_api.h"
#include "base/chunk.h"
#include "engine/handle.h"

/* What the embedding of a document's passages made. */
typedef struct doc_work {
	uint64_t *spans; /* 2 n */
	float *vectors;  /* n rows */
	uint64_t **terms;
	size_t *nterms;
	size_t n;
	uint64_t epoch;
} doc_work;

static void doc_work_free(doc_work *d)
{
	for (size_t i = 0; d->terms && i < d->n; i++)
		brain__free(d->terms[i]);
	brain__free(d->terms);
	brain__free(d->nterms);
	brain__free(d->spans);
	brain__free(d->vectors);
	memset(d, 0, sizeof *d);
}

/* The passages (two walks of the chunker: count, then fill), each
 * embedded; all with one embedder (the epoch of each is compared). */
static int doc_embed(brain_t *b, const char *text, size_t len, size_t max_bytes, doc_work *d)
{
	size_t pos = 0, n = 0;
	brain_span sp;
	while (brain__chunk_next(text, len, max_bytes, &pos, &sp))
		n++;
	if (n == 0)
		return brain__err(BRAIN_EEMPTY, "text is only white space");
	if (n > UINT32_MAX)
		return brain__err(BRAIN_ETOOLONG, "%zu passages are more than a document may have", n);
	size_t dims = b->env.opts.dimensions;
	/* the change is one log record: its spans and vectors with the text */
	uint64_t record = 256 + (uint64_t)n * (16 + dims * sizeof(float)) + len + BRAIN_KEY_MAX +
	                  65536;
	if (record > UINT32_MAX)
		return brain__err(BRAIN_ETOOLONG, "%zu passages of %zu dimensions would make a log "
		                  "record of %llu bytes, over its 4 GiB: a larger max_bytes, or the "
		                  "text in several documents", n, dims, (unsigned long long)record);
	d->spans = brain__malloc_array(2 * n, sizeof *d->spans);
	d->vectors = brain__malloc_array(n, dims * sizeof *d->vectors);
	d->terms = brain__calloc(n, sizeof *d->terms);
	d->nterms = brain__calloc(n, sizeof *d->nterms);
	if (!d->spans || !d->vectors || !d->terms || !d->nterms)
		return brain__oom(n * (16 + dims * sizeof(float) + 16), "document");
	d->n = n;
	pos = 0;
	int rc = BRAIN_OK;
	for (size_t i = 0; rc == BRAIN_OK && i < n; i++) {
		brain__chunk_next(text, len, max_bytes, &pos, &sp);
		d->spans[2 * i] = sp.start;
		d->spans[2 * i + 1] = sp.len;
		brain_msg_embed e = {.text = text + sp.start,
		                     .len = sp.len,
		                     .purpose = BRAIN_EMBED_DOCUMENT,
		                     .vector = d->vectors + i * dims,
		                     .want_features = true};
		rc = brain__call_EMBED(&b->spine, &e);
		brain__free(e.features); /* analysed again under the lock: see above */
		d->terms[i] = e.terms;
		d->nterms[i] = e.nterms;
		if (rc == BRAIN_OK && i > 0 && e.epoch != d->epoch)
			rc = BRAIN_CHANGE_STALE; /* the embedder was replaced midway */
		d->epoch = e.epoch;
	}
	return rc;
}

static int document_in(brain_t *b, const char *key, const char *text, size_t len,
                       float importance, const char *metadata_json, size_t max_bytes,
                       size_t *passages)
{
	if (!text)
		return brain__err(BRAIN_ENULL, "text is NULL");
	int rc = brain__api_key_check(key, "remember_document");
	if (rc == BRAIN_OK)
		rc = brain__check_writable(b, "remember_document");
	if (rc)
		return rc;
	if (len == 0)
		return brain__err(BRAIN_EEMPTY, "text is empty");
	if (len > BRAIN_DOCUMENT_MAX)
		return brain__err(BRAIN_ETOOLONG, "a text of %zu bytes is longer than "
		                  "BRAIN_DOCUMENT_MAX (%llu)", len,
		                  (unsigned long long)BRAIN_DOCUMENT_MAX);
	if (max_bytes == 0)
		max_bytes = BRAIN_CHUNK_DEFAULT;
	if (max_bytes < BRAIN_CHUNK_MIN || max_bytes > BRAIN_CHUNK_MAX ||
	    max_bytes > b->env.opts.max_text_bytes)
		return brain__err(BRAIN_ERANGE, "a passage size of %zu bytes is outside %u..%u (and "
		                  "the brain's max_text_bytes, %u)", max_bytes,
		                  (unsigned)BRAIN_CHUNK_MIN, (unsigned)BRAIN_CHUNK_MAX,
		                  (unsigned)b->env.opts.max_text_bytes);
	if (!(importance >= 0.0f && importance <= 1.0f))
		return brain__err(BRAIN_ERANGE, "importance %g is outside [0, 1]", (double)importance);
	size_t bad = 0;
	if (!brain__utf8_valid(text, len, &bad))
		return brain__err(BRAIN_EUTF8, "text is not valid UTF-8 at byte %zu", bad);
	const char *nul = memchr(text, 0, len);
	if (nul)
		return brain__err(BRAIN_EUTF8, "text has a NUL at byte %zu", (size_t)(nul - text));
	brain_meta_blob meta = {NULL, 0};
	if (metadata_json)
		rc = brain__api_meta_parse(metadata_json, false, &meta);
	doc_work d;
	memset(&d, 0, sizeof d);
	brain_change c;
	for (int tries = 0; rc == BRAIN_OK; tries++) {
		rc = doc_embed(b, text, len, max_bytes, &d);
		if (rc == BRAIN_OK) {
			memset(&c, 0, sizeof c);
			c.op = BRAIN_CHANGE_DOCUMENT;
			c.u.doc.key = key;
			c.u.doc.key_len = strlen(key);
			c.u.doc.text = text;
			c.u.doc.len = len;
			c.u.doc.spans = d.spans;
			c.u.doc.n = d.n;
			c.u.doc.vectors = d.vectors;
			c.u.doc.terms = (const uint64_t *const *)d.terms;
			c.u.doc.nterms = d.nterms;
			c.u.doc.importance = importance;
			c.u.doc.meta = meta.data;
			c.u.doc.meta_len = meta.len;
			c.u.doc.check_epoch = true;
			c.u.doc.epoch = d.epoch;
			c.u.doc.first_id = BRAIN_ID_NONE;
			rc = brain__change_make(b, &c);
		}
		size_t n = d.n;
		doc_work_free(&d);
		if (rc == BRAIN_OK) {
			if (passages)
				*passages = n;
			brain__heart_kick(b);
		}
		if (rc != BRAIN_CHANGE_STALE || tries >= 8)
			break;
		rc = BRAIN_OK; /* the embedder was replaced meanwhile: embed again */
	}
	if (rc == BRAIN_CHANGE_STALE)
		rc = brain__err(BRAIN_EBUSY, "the embedder kept changing while the document was "
		                "embedded");
	brain__free(meta.data);
	return rc;
}

BRAIN_EXPORT int brain_remember_document(brain_t *b, const char *key, const char *text,
                                         size_t text_len, float importance,
                                         const char *metadata_json, size_t max_bytes,
                                         size_t *passages)
{
	if (passages)
		*passages = 0;
	if (!b)
		return brain__err(BRAIN_ENULL, "remember_document: brain is NULL");
	brain_mem_scope outer = brain__enter(b);
	int rc = document_in(b, key, text, text_len, importance, metadata_json, max_bytes,
	                     passages);
	brain__mem_leave(outer);
	return brain__err_prefix(rc, "remember_document");
}

BRAIN_EXPORT int brain_forget_document(brain_t *b, const char *key, uint64_t *forgotten)
{
	if (forgotten)
		*forgotten = 0;
	if (!b)
		return brain__err(BRAIN_ENULL, "forget_document: brain is NULL");
	int rc = brain__api_key_check(key, "forget_document");
	if (rc)
		return rc;
	brain_filter *f = brain_filter_string(BRAIN_META_DOC, BRAIN_FILTER_EQ, key);
	if (!f)
		return brain__oom(strlen(key) + 64, "forget_document");
	rc = brain_forget_where(b, f, forgotten);
	brain_filter_free(f);
	return brain__err_prefix(rc, "forget_document");
}
