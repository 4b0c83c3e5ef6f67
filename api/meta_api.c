/*
 * api/meta_api.c - the calls on metadata: set, patch and get a memory's
 * metadata, and count the memories a filter passes.
 *
 * Metadata arrives as JSON text and is parsed here, without the lock, into
 * the blob the change module logs (base/meta.h). A set or patch is one
 * META change: the patch is applied under the write lock to what the
 * memory has, so two patches never lose each other's fields.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/change_api.h"
#include "base/slotset.h"
#include "engine/handle.h"

/* Metadata JSON parsed into a blob; '@' fields (the library's) are refused
 * unless allow_reserved (a set or patch of a memory, where the change
 * checks them against what the memory holds: engine/change.c). */
static int meta_parse(const char *json, bool patch, bool allow_reserved, brain_meta_blob *out)
{
	brain_meta_blob blob;
	int rc = brain__meta_from_json(json, strlen(json), patch, &blob);
	if (rc)
		return rc;
	size_t pos = 0;
	brain_meta_field f;
	while (!allow_reserved && brain__meta_next(blob.data, blob.len, &pos, &f))
		if (brain__meta_reserved(f.name, f.name_len)) {
			brain__free(blob.data);
			return brain__err(BRAIN_EJSON, "metadata: field \"%.*s\": names starting with @ "
			                  "are the library's (keys, documents, validity times)",
			                  (int)f.name_len, f.name);
		}
	*out = blob;
	return BRAIN_OK;
}

int brain__api_meta_parse(const char *json, bool patch, brain_meta_blob *out)
{
	return meta_parse(json, patch, false, out);
}

int brain__api_meta_parse_own(const char *json, bool patch, brain_meta_blob *out)
{
	return meta_parse(json, patch, true, out);
}

static int meta_change(brain_t *b, brain_id id, const char *json, bool patch, const char *fn)
{
	if (!b)
		return brain__err(BRAIN_ENULL, "%s: brain is NULL", fn);
	if (patch && !json)
		return brain__err(BRAIN_ENULL, "%s: patch is NULL", fn);
	int rc = brain__check_writable(b, fn);
	if (rc)
		return rc;
	brain_meta_blob blob = {NULL, 0};
	brain_mem_scope outer = brain__enter(b);
	if (json)
		rc = brain__api_meta_parse_own(json, patch, &blob);
	if (rc == BRAIN_OK) {
		brain_change c = {.op = BRAIN_CHANGE_META};
		c.u.meta.id = id;
		c.u.meta.blob = blob.data;
		c.u.meta.len = blob.len;
		c.u.meta.patch = patch;
		c.u.meta.keep_reserved = !patch; /* a set leaves the validity times */
		c.u.meta.caller = true;          /* '@' fields only as the memory has them */
		rc = brain__api_change(b, &c);
	}
	brain__free(blob.data);
	brain__mem_leave(outer);
	return brain__err_prefix(rc, fn);
}

BRAIN_EXPORT int brain_set_metadata(brain_t *b, brain_id id, const char *metadata_json)
{
	return meta_change(b, id, metadata_json, false, "set_metadata");
}

BRAIN_EXPORT int brain_patch_metadata(brain_t *b, brain_id id, const char *patch_json)
{
	return meta_change(b, id, patch_json, true, "patch_metadata");
}

BRAIN_EXPORT int brain_get_metadata(brain_t *b, brain_id id, char *buf, size_t size,
                                    size_t *len)
{
	if (len)
		*len = 0;
	if (!b || (!buf && size))
		return brain__err(BRAIN_ENULL, "get_metadata: %s is NULL", b ? "buf" : "brain");
	brain_mem_scope outer = brain__enter(b);
	brain__rdlock(b);
	brain_msg_meta_get m = {id, NULL, 0};
	int rc = brain__call_META_GET(&b->spine, &m);
	size_t need = 0;
	if (rc == BRAIN_OK) {
		static const uint8_t none[4]; /* count 0: "{}" */
		need = m.blob ? brain__meta_to_json(m.blob, m.len, buf, size)
		              : brain__meta_to_json(none, sizeof none, buf, size);
	}
	brain__unlock(b);
	brain__mem_leave(outer);
	if (rc)
		return brain__err_prefix(rc, "get_metadata");
	if (len)
		*len = need;
	if (need >= size)
		return brain__err(BRAIN_EBUFSIZE, "get_metadata: the metadata of %llu needs %zu bytes "
		                  "and the NUL; the buffer holds %zu",
		                  (unsigned long long)id, need, size);
	return BRAIN_OK;
}

BRAIN_EXPORT int brain_count_where(brain_t *b, const brain_filter *filter, uint64_t *count)
{
	if (count)
		*count = 0;
	if (!b || !filter || !count)
		return brain__err(BRAIN_ENULL, "count_where: %s is NULL",
		                  !b ? "brain" : !filter ? "filter" : "count");
	brain_mem_scope outer = brain__enter(b);
	brain__rdlock(b);
	brain_msg_filter_eval e = {filter, NULL, 0};
	int rc = brain__call_FILTER_EVAL(&b->spine, &e);
	brain__unlock(b);
	if (rc == BRAIN_OK)
		*count = e.count;
	brain__slotset_free(e.set);
	brain__mem_leave(outer);
	return brain__err_prefix(rc, "count_where");
}

static int by_id(const void *pa, const void *pb)
{
	brain_id a = *(const brain_id *)pa, c = *(const brain_id *)pb;
	return (a > c) - (a < c);
}

BRAIN_EXPORT int brain_forget_where(brain_t *b, const brain_filter *filter, uint64_t *forgotten)
{
	if (forgotten)
		*forgotten = 0;
	if (!b || !filter)
		return brain__err(BRAIN_ENULL, "forget_where: %s is NULL", b ? "filter" : "brain");
	int rc = brain__check_writable(b, "forget_where");
	if (rc)
		return rc;
	brain_mem_scope outer = brain__enter(b);
	brain__rdlock(b);
	brain_msg_filter_eval e = {filter, NULL, 0};
	rc = brain__call_FILTER_EVAL(&b->spine, &e);
	brain_id *ids = NULL;
	uint64_t n = e.count;
	if (rc == BRAIN_OK)
		rc = brain__ids_of(b, e.set, n, &ids);
	brain__unlock(b);
	brain__slotset_free(e.set);
	/* one FORGET change each, made durable once at the end; a memory a
	 * writer forgot meanwhile is no error */
	uint64_t done = 0, lsn = 0;
	for (uint64_t i = 0; rc == BRAIN_OK && i < n; i++) {
		brain_change c = {.op = BRAIN_CHANGE_FORGET, .defer_commit = true};
		c.u.forget.id = ids[i];
		int frc = brain__change_make(b, &c);
		if (frc == BRAIN_OK) {
			done++;
			lsn = c.out_lsn ? c.out_lsn : lsn;
		} else if (frc != BRAIN_ENOTFOUND) {
			rc = frc;
		}
	}
	int crc = brain__change_commit(b, lsn);
	if (rc == BRAIN_OK)
		rc = crc;
	if (done)
		brain__heart_kick(b);
	brain__free(ids);
	brain__mem_leave(outer);
	if (forgotten)
		*forgotten = done;
	return brain__err_prefix(rc, "forget_where");
}

BRAIN_EXPORT int brain_list(brain_t *b, const brain_filter *filter, brain_id after, size_t max,
                            brain_results **out)
{
	if (out)
		*out = NULL;
	if (!b || !out)
		return brain__err(BRAIN_ENULL, "list: %s is NULL", b ? "out" : "brain");
	if (max == 0)
		return brain__err(BRAIN_ERANGE, "list: max is 0; ask for at least 1 memory");
	brain_mem_scope outer = brain__enter(b);
	brain__rdlock(b);
	brain_msg_filter_eval e = {filter, NULL, 0};
	int rc = brain__call_FILTER_EVAL(&b->spine, &e);
	brain_id *ids = NULL;
	if (rc == BRAIN_OK)
		rc = brain__ids_of(b, e.set, e.count, &ids);
	brain__slotset_free(e.set);
	/* the page: the smallest ids after `after` */
	size_t n = 0;
	for (uint64_t i = 0; rc == BRAIN_OK && i < e.count; i++)
		if (after == BRAIN_ID_NONE || ids[i] > after)
			ids[n++] = ids[i];
	if (rc == BRAIN_OK)
		qsort(ids, n, sizeof *ids, by_id);
	n = BRAIN_MIN(n, max);
	brain_hit *hits = brain__malloc_array(BRAIN_MAX(n, (size_t)1), sizeof *hits);
	if (rc == BRAIN_OK && !hits)
		rc = brain__oom(n * sizeof *hits, "list");
	for (size_t i = 0; rc == BRAIN_OK && i < n; i++) {
		brain_msg_lookup l = {.id = ids[i]};
		rc = brain__call_LOOKUP(&b->spine, &l);
		hits[i] = l.hit;
		hits[i].score = 1.0f;
	}
	if (rc == BRAIN_OK)
		rc = brain__results_make(hits, n, NULL, 0, out);
	brain__unlock(b);
	brain__free(hits);
	brain__free(ids);
	brain__mem_leave(outer);
	return brain__err_prefix(rc, "list");
}

/* ---- validity in time ------------------------------------------------------
 *
 * A memory's validity is two reserved metadata fields, "@valid_from" and
 * "@valid_until" (milliseconds since the epoch; either may be absent: open
 * on that side): logged, checkpointed and filtered as any metadata, and
 * kept when the caller replaces the rest. */

#define VALID_FROM BRAIN_META_VALID_FROM
#define VALID_UNTIL BRAIN_META_VALID_UNTIL

static int patch_validity(brain_t *b, brain_id id, bool set_from, int64_t from, bool set_until,
                          int64_t until, const char *fn)
{
	char json[128];
	char a[32] = "null", c[32] = "null";
	if (from != BRAIN_TIME_NONE)
		snprintf(a, sizeof a, "%lld", (long long)from);
	if (until != BRAIN_TIME_NONE)
		snprintf(c, sizeof c, "%lld", (long long)until);
	if (set_from && set_until)
		snprintf(json, sizeof json, "{\"" VALID_FROM "\":%s,\"" VALID_UNTIL "\":%s}", a, c);
	else if (set_from)
		snprintf(json, sizeof json, "{\"" VALID_FROM "\":%s}", a);
	else
		snprintf(json, sizeof json, "{\"" VALID_UNTIL "\":%s}", c);
	brain_meta_blob blob = {NULL, 0};
	brain_mem_scope outer = brain__enter(b);
	int rc = brain__meta_from_json(json, strlen(json), true, &blob);
	if (rc == BRAIN_OK) {
		brain_change ch = {.op = BRAIN_CHANGE_META};
		ch.u.meta.id = id;
		ch.u.meta.blob = blob.data;
		ch.u.meta.len = blob.len;
		ch.u.meta.patch = true;
		rc = brain__api_change(b, &ch);
	}
	brain__free(blob.data);
	brain__mem_leave(outer);
	return brain__err_prefix(rc, fn);
}

BRAIN_EXPORT int brain_set_valid(brain_t *b, brain_id id, int64_t valid_from_ms,
                                 int64_t valid_until_ms)
{
	if (!b)
		return brain__err(BRAIN_ENULL, "set_valid: brain is NULL");
	if (valid_from_ms != BRAIN_TIME_NONE && valid_until_ms != BRAIN_TIME_NONE &&
	    valid_from_ms >= valid_until_ms)
		return brain__err(BRAIN_ERANGE, "set_valid: valid from %lld is not before valid until "
		                  "%lld", (long long)valid_from_ms, (long long)valid_until_ms);
	int rc = brain__check_writable(b, "set_valid");
	if (rc)
		return rc;
	return patch_validity(b, id, true, valid_from_ms, true, valid_until_ms, "set_valid");
}

BRAIN_EXPORT int brain_supersede(brain_t *b, brain_id old_id, brain_id new_id, int64_t at_ms)
{
	if (!b)
		return brain__err(BRAIN_ENULL, "supersede: brain is NULL");
	if (old_id == new_id)
		return brain__err(BRAIN_EINVAL, "supersede: memory %llu cannot supersede itself",
		                  (unsigned long long)old_id);
	int rc = brain__check_writable(b, "supersede");
	if (rc)
		return rc;
	if (at_ms == BRAIN_TIME_NONE)
		return brain__err(BRAIN_ERANGE, "supersede: at_ms is BRAIN_TIME_NONE; give a time, or "
		                  "0 for now");
	if (at_ms == 0)
		at_ms = brain__now_ms();
	/* both exist, and the old one was valid before at_ms */
	brain__rdlock(b);
	brain_msg_lookup l2 = {.id = new_id};
	brain_msg_meta_get g = {old_id, NULL, 0};
	rc = brain__call_META_GET(&b->spine, &g);
	if (rc == BRAIN_OK)
		rc = brain__call_LOOKUP(&b->spine, &l2);
	brain_meta_field f;
	if (rc == BRAIN_OK && g.blob &&
	    brain__meta_find(g.blob, g.len, VALID_FROM, strlen(VALID_FROM), &f) &&
	    f.type == BRAIN_META_INT && f.i >= at_ms)
		rc = brain__err(BRAIN_ERANGE, "supersede: memory %llu is valid from %lld, not before "
		                "%lld", (unsigned long long)old_id, (long long)f.i, (long long)at_ms);
	brain__unlock(b);
	if (rc)
		return brain__err_prefix(rc, "supersede");
	/* the new one says what it superseded; then the old one stays, no
	 * longer valid from at_ms (if the second fails, the first stays) */
	rc = brain__api_relation_change(b, BRAIN_CHANGE_RELATE, new_id, old_id, "supersedes",
	                                strlen("supersedes"), 1.0f);
	rc = brain__err_prefix(rc, "supersede");
	if (rc == BRAIN_OK)
		rc = patch_validity(b, old_id, false, 0, true, at_ms, "supersede");
	return rc;
}

BRAIN_EXPORT brain_filter *brain_filter_valid_at(int64_t at_ms)
{
	/* (no start or started by then) and (no end or not ended by then) */
	brain_filter *from = brain_filter_or(brain_filter_not(brain_filter_exists(VALID_FROM)),
	                                     brain_filter_int(VALID_FROM, BRAIN_FILTER_LE, at_ms));
	brain_filter *until = brain_filter_or(brain_filter_not(brain_filter_exists(VALID_UNTIL)),
	                                      brain_filter_int(VALID_UNTIL, BRAIN_FILTER_GT, at_ms));
	return brain_filter_and(from, until);
}
