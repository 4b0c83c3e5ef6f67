/*
 * base/results.c - brain_results: one allocation holding the entries, their
 * texts, their metadata as JSON and the answer of a think.
 */
#include <math.h>
#include <string.h>

#include "base/meta.h"
#include "base/results.h"

typedef struct entry {
	brain_id id;
	float score;
	float importance;
	int64_t created_ms;
	int64_t accessed_ms;
	const char *text; /* points into the same allocation, or NULL */
	size_t text_len;
	const char *meta; /* JSON, in the same allocation, or NULL: "{}" */
	const char *key;  /* its "@key" and "@doc", in the same allocation, or NULL */
	const char *doc;
} entry;

struct brain_results {
	size_t count;
	const char *answer;
	size_t answer_len;
	entry entries[];
	/* then the texts and the answer, each NUL-terminated */
};

/* The length of a hit's metadata as JSON. */
static size_t json_len(const brain_hit *h)
{
	return h->meta_json ? h->meta_len : brain__meta_to_json(h->meta, h->meta_len, NULL, 0);
}

/* A hit's key or (doc) its document's key, from its metadata; false if
 * it has none. */
static bool hit_string(const brain_hit *h, bool doc, const char **s, size_t *len)
{
	const char *name = doc ? BRAIN_META_DOC : BRAIN_META_KEY;
	if (h->meta_json) {
		const char *v = doc ? h->doc : h->key;
		*s = v;
		*len = v ? strlen(v) : 0;
		return v != NULL;
	}
	brain_meta_field f;
	if (!h->meta || !brain__meta_find(h->meta, h->meta_len, name, strlen(name), &f) ||
	    f.type != BRAIN_META_STRING)
		return false;
	*s = f.str;
	*len = f.str_len;
	return true;
}

/* Copy a hit's string field into the allocation at *at. */
static const char *put_string(const brain_hit *h, bool doc, char **at)
{
	const char *s;
	size_t len;
	if (!hit_string(h, doc, &s, &len))
		return NULL;
	char *o = *at;
	memcpy(o, s, len);
	o[len] = '\0';
	*at += len + 1;
	return o;
}

int brain__results_make(const brain_hit *hits, size_t n, const char *answer, size_t answer_len,
                        brain_results **out)
{
	size_t bytes = sizeof(brain_results);
	size_t add;
	bool ok = brain__mul_ok(n, sizeof(entry), &add) && brain__add_ok(bytes, add, &bytes);
	for (size_t i = 0; ok && i < n; i++) {
		if (hits[i].text)
			ok = brain__add_ok(bytes, (size_t)hits[i].text_len + 1, &bytes);
		if (ok && (hits[i].meta || hits[i].meta_json))
			ok = brain__add_ok(bytes, json_len(&hits[i]) + 1, &bytes);
		const char *str;
		size_t slen;
		if (ok && hit_string(&hits[i], false, &str, &slen))
			ok = brain__add_ok(bytes, slen + 1, &bytes);
		if (ok && hit_string(&hits[i], true, &str, &slen))
			ok = brain__add_ok(bytes, slen + 1, &bytes);
	}
	if (ok && answer)
		ok = brain__add_ok(bytes, answer_len + 1, &bytes);
	if (!ok)
		return brain__err(BRAIN_ENOMEM, "results: size overflows");
	/* counted against the brain whose call made it, as results */
	brain_mem_scope outer = brain__mem_enter(brain__mem_current().mem, BRAIN_MEM_RESULTS);
	brain_results *r = brain__malloc(bytes);
	brain__mem_leave(outer);
	if (!r)
		return brain__oom(bytes, "results");
	r->count = n;
	char *text = (char *)&r->entries[n];
	for (size_t i = 0; i < n; i++) {
		entry *e = &r->entries[i];
		e->id = hits[i].id;
		e->score = hits[i].score;
		e->importance = hits[i].importance;
		e->created_ms = hits[i].created_ms;
		e->accessed_ms = hits[i].accessed_ms;
		if (hits[i].text) {
			memcpy(text, hits[i].text, hits[i].text_len);
			text[hits[i].text_len] = '\0';
			e->text = text;
			e->text_len = hits[i].text_len;
			text += hits[i].text_len + 1;
		} else {
			e->text = NULL;
			e->text_len = 0;
		}
		e->meta = NULL;
		if (hits[i].meta || hits[i].meta_json) {
			size_t len = json_len(&hits[i]);
			if (hits[i].meta_json)
				memcpy(text, hits[i].meta_json, len + 1);
			else
				brain__meta_to_json(hits[i].meta, hits[i].meta_len, text, len + 1);
			e->meta = text;
			text += len + 1;
		}
		e->key = put_string(&hits[i], false, &text);
		e->doc = put_string(&hits[i], true, &text);
	}
	if (answer) {
		memcpy(text, answer, answer_len);
		text[answer_len] = '\0';
		r->answer = text;
		r->answer_len = answer_len;
	} else {
		r->answer = NULL;
		r->answer_len = 0;
	}
	brain__objects_inc_nested(); /* made inside a call on a live brain */
	*out = r;
	return BRAIN_OK;
}

int brain__results_with_answer(const brain_results *r, const char *answer, size_t answer_len,
                               brain_results **out)
{
	size_t n = r ? r->count : 0;
	brain_hit *hits = NULL;
	if (n) {
		hits = brain__calloc(n, sizeof *hits);
		if (!hits)
			return brain__oom(n * sizeof *hits, "results");
	}
	for (size_t i = 0; i < n; i++) {
		const entry *e = &r->entries[i];
		hits[i].id = e->id;
		hits[i].score = e->score;
		hits[i].importance = e->importance;
		hits[i].created_ms = e->created_ms;
		hits[i].accessed_ms = e->accessed_ms;
		hits[i].text = e->text;
		hits[i].text_len = (uint32_t)e->text_len;
		hits[i].meta_json = e->meta;
		hits[i].meta_len = e->meta ? (uint32_t)strlen(e->meta) : 0;
		hits[i].key = e->key;
		hits[i].doc = e->doc;
	}
	int rc = brain__results_make(hits, n, answer, answer_len, out);
	brain__free(hits);
	return rc;
}

static const entry *at(const brain_results *r, size_t i)
{
	return (r && i < r->count) ? &r->entries[i] : NULL;
}

BRAIN_EXPORT size_t brain_results_count(const brain_results *r)
{
	return r ? r->count : 0;
}

BRAIN_EXPORT brain_id brain_results_id(const brain_results *r, size_t i)
{
	const entry *e = at(r, i);
	return e ? e->id : BRAIN_ID_NONE;
}

BRAIN_EXPORT float brain_results_score(const brain_results *r, size_t i)
{
	const entry *e = at(r, i);
	return e ? e->score : NAN;
}

BRAIN_EXPORT const char *brain_results_metadata(const brain_results *r, size_t i)
{
	const entry *e = at(r, i);
	return e ? (e->meta ? e->meta : "{}") : NULL;
}

BRAIN_EXPORT const char *brain_results_text(const brain_results *r, size_t i)
{
	const entry *e = at(r, i);
	return e ? e->text : NULL;
}

BRAIN_EXPORT size_t brain_results_text_len(const brain_results *r, size_t i)
{
	const entry *e = at(r, i);
	return e ? e->text_len : 0;
}

BRAIN_EXPORT float brain_results_importance(const brain_results *r, size_t i)
{
	const entry *e = at(r, i);
	return e ? e->importance : NAN;
}

BRAIN_EXPORT int64_t brain_results_created(const brain_results *r, size_t i)
{
	const entry *e = at(r, i);
	return e ? e->created_ms : 0;
}

BRAIN_EXPORT int64_t brain_results_accessed(const brain_results *r, size_t i)
{
	const entry *e = at(r, i);
	return e ? e->accessed_ms : 0;
}

BRAIN_EXPORT int brain_results_read(const brain_results *r, size_t first, size_t n,
                                    unsigned int version, brain_result *out, size_t *filled)
{
	if (filled)
		*filled = 0;
	if (!r || (!out && n))
		return brain__err(BRAIN_ENULL, "results_read: %s is NULL", r ? "out" : "r");
	if (version != BRAIN_RESULT_VERSION)
		return brain__err(BRAIN_EVERSION,
		                  "results_read: struct brain_result version %u (this library knows %u)",
		                  version, BRAIN_RESULT_VERSION);
	size_t have = first < r->count ? r->count - first : 0;
	if (n > have)
		n = have;
	for (size_t i = 0; i < n; i++) {
		const entry *e = &r->entries[first + i];
		out[i] = (brain_result){
			.id = e->id,
			.score = e->score,
			.importance = e->importance,
			.created_ms = e->created_ms,
			.accessed_ms = e->accessed_ms,
			.text = e->text,
			.text_len = e->text_len,
			.metadata = e->meta ? e->meta : "{}",
			.key = e->key,
			.document = e->doc,
		};
	}
	if (filled)
		*filled = n;
	return 0;
}

BRAIN_EXPORT const char *brain_results_answer(const brain_results *r)
{
	return r ? r->answer : NULL;
}

BRAIN_EXPORT void brain_results_free(brain_results *r)
{
	if (!r)
		return;
	brain__free(r);
	brain__objects_dec();
}

BRAIN_EXPORT const char *brain_results_key(const brain_results *r, size_t i)
{
	const entry *e = at(r, i);
	return e ? e->key : NULL;
}

BRAIN_EXPORT const char *brain_results_document(const brain_results *r, size_t i)
{
	const entry *e = at(r, i);
	return e ? e->doc : NULL;
}
