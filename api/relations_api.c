/*
 * api/relations_api.c - the calls on relations: relate, unrelate,
 * neighbors, traverse (brain_recall_near is with the recalls).
 *
 * relate and unrelate are logged changes (engine/change.c, ops 7 and 8);
 * neighbors and traverse read under the read lock, through RELATED, into
 * an edges object (base/edges.c).
 */
#include <string.h>

#include "api/change_api.h"
#include "base/edges.h"
#include "engine/handle.h"

/* A verb: not NULL (unless allowed), 1..BRAIN_VERB_MAX bytes of UTF-8
 * without NUL; *len its length. */
static int check_verb(const char *verb, bool may_be_null, size_t *len, const char *fn)
{
	*len = 0;
	if (!verb)
		return may_be_null ? BRAIN_OK : brain__err(BRAIN_ENULL, "%s: verb is NULL", fn);
	size_t n = strnlen(verb, BRAIN_VERB_MAX + 1);
	if (n == 0)
		return brain__err(BRAIN_EINVAL, "%s: the verb is empty", fn);
	if (n > BRAIN_VERB_MAX)
		return brain__err(BRAIN_ETOOLONG, "%s: the verb is longer than %d bytes", fn,
		                  BRAIN_VERB_MAX);
	size_t bad = 0;
	if (!brain__utf8_valid(verb, n, &bad))
		return brain__err(BRAIN_EUTF8, "%s: the verb is not valid UTF-8 at byte %zu", fn, bad);
	*len = n;
	return BRAIN_OK;
}

int brain__api_relation_change(brain_t *b, int op, uint64_t from, uint64_t to,
                               const char *verb, size_t len, float weight)
{
	brain_change c = {.op = op};
	c.u.relate.from = from;
	c.u.relate.to = to;
	c.u.relate.verb = verb;
	c.u.relate.len = len;
	c.u.relate.weight = weight;
	return brain__api_change(b, &c);
}

BRAIN_EXPORT int brain_relate(brain_t *b, uint64_t from, uint64_t to, const char *verb,
                              float weight)
{
	if (!b)
		return brain__err(BRAIN_ENULL, "relate: brain is NULL");
	size_t len;
	int rc = check_verb(verb, false, &len, "relate");
	if (rc == BRAIN_OK && !(weight - weight == 0.0f))
		rc = brain__err(BRAIN_ENONFINITE, "relate: the weight is %g", (double)weight);
	if (rc == BRAIN_OK)
		rc = brain__check_writable(b, "relate");
	if (rc == BRAIN_OK)
		rc = brain__api_relation_change(b, BRAIN_CHANGE_RELATE, from, to, verb, len, weight);
	return brain__err_prefix(rc, "relate");
}

BRAIN_EXPORT int brain_unrelate(brain_t *b, uint64_t from, uint64_t to, const char *verb)
{
	if (!b)
		return brain__err(BRAIN_ENULL, "unrelate: brain is NULL");
	size_t len;
	int rc = check_verb(verb, true, &len, "unrelate");
	if (rc == BRAIN_OK)
		rc = brain__check_writable(b, "unrelate");
	if (rc == BRAIN_OK)
		rc = brain__api_relation_change(b, BRAIN_CHANGE_UNRELATE, from, to, verb, len, 0.0f);
	return brain__err_prefix(rc, "unrelate");
}

static int collect(void *ctx, brain_id from, brain_id to, const char *verb, size_t len,
                   float weight, uint32_t hops)
{
	return brain__edges_add(ctx, from, to, verb, len, weight, hops);
}

/* neighbors lists every edge of one memory (every_edge), traverse each
 * memory a walk reaches once. */
static int edges_of(brain_t *b, brain_id id, unsigned depth, bool every_edge, const char *verb,
                    int direction, brain_edges **out, const char *fn)
{
	if (out)
		*out = NULL;
	if (!b || !out)
		return brain__err(BRAIN_ENULL, "%s: %s is NULL", fn, b ? "out" : "brain");
	if (direction < BRAIN_DIR_OUT || direction > BRAIN_DIR_BOTH)
		return brain__err(BRAIN_ERANGE, "%s: direction %d is not BRAIN_DIR_OUT, _IN or _BOTH",
		                  fn, direction);
	size_t len;
	int rc = check_verb(verb, true, &len, fn);
	if (rc)
		return rc;
	brain_mem_scope outer = brain__enter(b);
	brain_edges *e = brain__edges_new();
	rc = e ? BRAIN_OK : BRAIN_ENOMEM;
	brain__rdlock(b);
	brain_msg_related m = {id, depth > UINT32_MAX ? UINT32_MAX : (uint32_t)depth, verb, len,
	                       direction, collect, e, false, NULL, every_edge};
	if (rc == BRAIN_OK)
		rc = brain__call_RELATED(&b->spine, &m);
	brain__unlock(b);
	brain__mem_leave(outer);
	if (rc) {
		brain_edges_free(e);
		return brain__err_prefix(rc, fn);
	}
	*out = e;
	return BRAIN_OK;
}

BRAIN_EXPORT int brain_neighbors(brain_t *b, brain_id id, const char *verb, int direction,
                                 brain_edges **out)
{
	return edges_of(b, id, 1, true, verb, direction, out, "neighbors");
}

BRAIN_EXPORT int brain_traverse(brain_t *b, brain_id start, unsigned depth, const char *verb,
                                int direction, brain_edges **out)
{
	return edges_of(b, start, depth, false, verb, direction, out, "traverse");
}
