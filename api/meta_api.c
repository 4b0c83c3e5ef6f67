/*
 * api/meta_api.c - the calls on metadata: set, patch and get a memory's
 * metadata, and count the memories a filter passes.
 *
 * Metadata arrives as JSON text and is parsed here, without the lock, into
 * the blob the change module logs (base/meta.h). A set or patch is one
 * META change: the patch is applied under the write lock to what the
 * memory has, so two patches never lose each other's fields.
 */
#include <string.h>

#include "api/change_api.h"
#include "base/slotset.h"
#include "engine/handle.h"

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
		rc = brain__meta_from_json(json, strlen(json), patch, &blob);
	if (rc == BRAIN_OK) {
		brain_change c = {.op = BRAIN_CHANGE_META};
		c.u.meta.id = id;
		c.u.meta.blob = blob.data;
		c.u.meta.len = blob.len;
		c.u.meta.patch = patch;
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
