/*
 * api/update_api.c - a memory changed in place, and memories under the
 * caller's keys: update, upsert, key lookup, forget by key.
 *
 * Both are one REPLACE change (engine/change.c): a new text moves the
 * memory to a new slot beside the old one, which is dropped once the
 * change is logged, so an update is all or nothing and keeps the memory's
 * id, created time and relations. A key is the reserved metadata field
 * "@key"; a put finds the key's memory under the write lock, so two puts
 * of one key never make two memories.
 */
#include <string.h>

#include "api/change_api.h"
#include "engine/handle.h"

static int check_update_text(brain_t *b, const char *text, size_t len, const char *fn)
{
	if (len == 0)
		return brain__err(BRAIN_EEMPTY, "%s: text is empty", fn);
	brain_msg_text_check m = {text, b->env.opts.max_text_bytes, "text", len};
	return brain__call_TEXT_CHECK(&b->spine, &m);
}

BRAIN_EXPORT int brain_update(brain_t *b, uint64_t id, const char *text, size_t text_len,
                              const float *vector, float importance, const char *metadata_json)
{
	if (!b)
		return brain__err(BRAIN_ENULL, "update: brain is NULL");
	int rc = brain__check_writable(b, "update");
	if (rc)
		return rc;
	if (vector && !text)
		return brain__err(BRAIN_EINVAL, "update: a vector comes with a text "
		                  "(brain_update_vector changes a vector alone)");
	if (text)
		rc = check_update_text(b, text, text_len, "update");
	bool keep_importance = importance == BRAIN_KEEP_IMPORTANCE;
	if (rc == BRAIN_OK && !keep_importance && !(importance >= 0.0f && importance <= 1.0f))
		rc = brain__err(BRAIN_ERANGE, "update: importance %g is outside [0, 1] (and not "
		                "BRAIN_KEEP_IMPORTANCE)", (double)importance);
	if (rc)
		return brain__err_prefix(rc, "update");
	brain_meta_blob meta = {NULL, 0};
	brain_mem_scope outer = brain__enter(b);
	if (metadata_json)
		rc = brain__api_meta_parse_own(metadata_json, false, &meta);
	if (rc == BRAIN_OK) {
		brain_change c = {.op = BRAIN_CHANGE_REPLACE};
		c.u.replace.id = id;
		c.u.replace.caller = true;
		c.u.replace.text = text;
		c.u.replace.len = text ? text_len : 0;
		c.u.replace.set_importance = !keep_importance;
		c.u.replace.importance = keep_importance ? 0.0f : importance;
		c.u.replace.set_meta = metadata_json != NULL;
		c.u.replace.meta = meta.data;
		c.u.replace.meta_len = meta.len;
		c.u.replace.keep_reserved = true;
		rc = brain__change_update(b, &c, vector);
		if (rc == BRAIN_OK)
			brain__heart_kick(b);
	}
	brain__free(meta.data);
	brain__mem_leave(outer);
	return brain__err_prefix(rc, "update");
}

int brain__api_key_check(const char *key, const char *fn)
{
	if (!key)
		return brain__err(BRAIN_ENULL, "%s: key is NULL", fn);
	size_t len = strnlen(key, (size_t)BRAIN_KEY_MAX + 1);
	if (len == 0)
		return brain__err(BRAIN_EEMPTY, "%s: key is empty", fn);
	if (len > BRAIN_KEY_MAX)
		return brain__err(BRAIN_ETOOLONG, "%s: key is longer than BRAIN_KEY_MAX (%u bytes)", fn,
		                  (unsigned)BRAIN_KEY_MAX);
	size_t bad = 0;
	if (!brain__utf8_valid(key, len, &bad))
		return brain__err(BRAIN_EUTF8, "%s: key is not valid UTF-8 at byte %zu", fn, bad);
	return BRAIN_OK;
}

BRAIN_EXPORT int brain_upsert(brain_t *b, const char *key, const char *text, size_t text_len,
                              const float *vector, float importance, const char *metadata_json,
                              uint64_t *id)
{
	if (!b)
		return brain__err(BRAIN_ENULL, "upsert: brain is NULL");
	if (!text)
		return brain__err(BRAIN_ENULL, "upsert: text is NULL");
	int rc = brain__api_key_check(key, "upsert");
	if (rc == BRAIN_OK)
		rc = brain__check_writable(b, "upsert");
	if (rc == BRAIN_OK)
		rc = check_update_text(b, text, text_len, "upsert");
	if (rc == BRAIN_OK && !(importance >= 0.0f && importance <= 1.0f))
		rc = brain__err(BRAIN_ERANGE, "upsert: importance %g is outside [0, 1]",
		                (double)importance);
	if (rc)
		return brain__err_prefix(rc, "upsert");
	brain_meta_blob caller = {NULL, 0}, meta = {NULL, 0};
	brain_mem_scope outer = brain__enter(b);
	if (metadata_json)
		rc = brain__api_meta_parse(metadata_json, false, &caller);
	if (rc == BRAIN_OK)
		rc = brain__meta_with(caller.data, caller.len, BRAIN_META_KEY, key, strlen(key), NULL, 0, &meta);
	if (rc == BRAIN_OK) {
		brain_change c = {.op = BRAIN_CHANGE_REPLACE};
		c.u.replace.id = BRAIN_ID_NONE;
		c.u.replace.key = key;
		c.u.replace.text = text;
		c.u.replace.len = text_len;
		c.u.replace.set_importance = true;
		c.u.replace.importance = importance;
		c.u.replace.set_meta = true;
		c.u.replace.meta = meta.data;
		c.u.replace.meta_len = meta.len;
		c.u.replace.keep_reserved = true;
		rc = brain__change_update(b, &c, vector);
		if (rc == BRAIN_OK) {
			brain__heart_kick(b);
			if (id)
				*id = c.out_id;
		}
	}
	brain__free(caller.data);
	brain__free(meta.data);
	brain__mem_leave(outer);
	return brain__err_prefix(rc, "upsert");
}

BRAIN_EXPORT int brain_key_id(brain_t *b, const char *key, uint64_t *id)
{
	if (!b)
		return brain__err(BRAIN_ENULL, "key_id: brain is NULL");
	if (!id)
		return brain__err(BRAIN_ENULL, "key_id: id is NULL");
	int rc = brain__api_key_check(key, "key_id");
	if (rc)
		return rc;
	brain_mem_scope outer = brain__enter(b);
	brain__rdlock(b);
	brain_msg_key_find f = {key, BRAIN_ID_NONE};
	rc = brain__call_KEY_FIND(&b->spine, &f);
	brain__unlock(b);
	brain__mem_leave(outer);
	if (rc == BRAIN_OK && f.id == BRAIN_ID_NONE)
		rc = brain__err(BRAIN_ENOTFOUND, "key_id: no memory has the key \"%.64s\"%s", key,
		                strlen(key) > 64 ? "..." : "");
	if (rc == BRAIN_OK)
		*id = f.id;
	return brain__err_prefix(rc, "key_id");
}

BRAIN_EXPORT int brain_forget_key(brain_t *b, const char *key)
{
	uint64_t id;
	int rc = brain_key_id(b, key, &id);
	if (rc)
		return brain__err_prefix(rc, "forget_key");
	/* a put meanwhile keeps the id (it replaces in place), so the id is
	 * still the key's unless the memory was forgotten (then ENOTFOUND) */
	return brain__err_prefix(brain_forget(b, id), "forget_key");
}
