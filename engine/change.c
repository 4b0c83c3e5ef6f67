/*
 * engine/change.c - the logged changes: how each is made, logged and
 * replayed. The api calls these for the write path; opening an on-disk
 * brain replays its log through them (brain__change_replay), so a change
 * means the same thing live and after a crash.
 *
 * Today forget is defined here whole (prepare, log, finish) and replay
 * decodes every record; remember, add, add_batch and update_vector still
 * make their change in the api files and come here only through replay
 * (issue 12 moves them).
 */
#include <string.h>

#include "engine/handle.h"
#include "storage/wal.h"

/* ---- forget -------------------------------------------------------------- */

/* A forget in two steps: everything that can fail (reading the record,
 * analysing its text, checking the index) before the change is logged,
 * then the change itself, which cannot fail. */
typedef struct forget_plan {
	brain_id id;
	brain_msg_lookup look;
	uint64_t *features; /* the text's, for the Cortex's statistics */
	size_t nfeatures;
} forget_plan;

static int forget_prepare(brain_t *b, brain_id id, forget_plan *p)
{
	memset(p, 0, sizeof *p);
	p->id = id;
	p->look.id = id;
	int rc = brain__call_LOOKUP(&b->spine, &p->look);
	if (rc == BRAIN_OK && p->look.hit.text) {
		brain_msg_learn l = {.text = p->look.hit.text, .len = p->look.hit.text_len, .delta = 0};
		rc = brain__call_LEARN(&b->spine, &l);
		p->features = l.prepared;
		p->nfeatures = l.nfeatures;
	}
	if (rc == BRAIN_OK) {
		brain_msg_forget f = {.id = id, .check = true};
		rc = brain__call_FORGET(&b->spine, &f);
	}
	if (rc) {
		brain__free(p->features);
		p->features = NULL;
	}
	return rc;
}

static int forget_finish(brain_t *b, forget_plan *p)
{
	/* the features given (an empty list when the text has none), so
	 * that the Cortex does not analyse the text again */
	static const uint64_t none[1];
	brain_msg_learn l = {p->look.hit.text, p->look.hit.text_len, -1,
	                     p->features ? p->features : none, p->nfeatures, NULL};
	int rc = BRAIN_OK;
	if (p->look.hit.text)
		rc = brain__call_LEARN(&b->spine, &l);
	if (rc == BRAIN_OK) {
		brain_msg_forget f = {.id = p->id};
		rc = brain__call_FORGET(&b->spine, &f);
		if (rc && p->look.hit.text) {
			l.delta = +1; /* the memory stays: count its text again */
			if (brain__call_LEARN(&b->spine, &l))
				BRAIN_LOG(BRAIN_LOG_WARN, "forget: could not restore word statistics");
		}
	}
	brain__free(p->features);
	p->features = NULL;
	return rc;
}

static int forget_apply(brain_t *b, brain_id id)
{
	forget_plan p;
	int rc = forget_prepare(b, id, &p);
	return rc ? rc : forget_finish(b, &p);
}

int brain__change_forget(brain_t *b, brain_id id)
{
	uint64_t lsn = 0;
	brain__wrlock(b);
	forget_plan p;
	int rc = forget_prepare(b, id, &p);
	if (rc == BRAIN_OK) {
		/* logged before it is made: once prepared it cannot fail, and
		 * forgetting cannot be undone without allocating */
		brain_wal_part part = {&id, sizeof id};
		rc = brain__log_change(b, BRAIN_WAL_FORGET, &part, 1, &lsn);
		if (rc) {
			brain__free(p.features);
		} else {
			rc = forget_finish(b, &p);
			if (rc && lsn)
				BRAIN_LOG(BRAIN_LOG_ERROR, "forget: id %llu is logged as forgotten but could "
				          "not be forgotten now (%s); it will be on the next open",
				          (unsigned long long)id, brain_errmsg());
		}
	}
	brain__unlock(b);
	if (rc == BRAIN_OK)
		rc = brain__commit(b, lsn);
	return rc;
}

/* ---- replay ------------------------------------------------------------ */

static int bad_record(uint64_t lsn, const char *what)
{
	return brain__err(BRAIN_ECORRUPT, "log: record %llu: %s", (unsigned long long)lsn, what);
}

/* Copy a record's vector of dims floats out of its bytes; each must be
 * finite, as every vector the brain takes is. */
static int record_vector(uint64_t lsn, const unsigned char *src, uint32_t dims, float *vec,
                         const char *what)
{
	memcpy(vec, src, (size_t)dims * sizeof *vec);
	for (uint32_t i = 0; i < dims; i++)
		if (!(vec[i] - vec[i] == 0.0f))
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

static int replay_store(brain_t *b, uint64_t lsn, const unsigned char *p, size_t len)
{
	brain_wal_store h;
	uint32_t dims = b->env.opts.dimensions;
	int rc = record_head(lsn, p, len, &h, sizeof h);
	if (rc)
		return rc;
	size_t vec_bytes = (size_t)dims * sizeof(float);
	bool has_text = h.text_len != UINT32_MAX;
	size_t text_bytes = has_text ? (size_t)h.text_len + 1 : 0;
	if (h.dimensions != dims || len != sizeof h + vec_bytes + text_bytes ||
	    h.id == BRAIN_ID_NONE || !(h.importance >= 0.0f && h.importance <= 1.0f))
		return bad_record(lsn, "a stored memory's fields are out of range");
	float *vec = brain__malloc_array(dims, sizeof *vec);
	if (!vec)
		return brain__oom(vec_bytes, "replay vector");
	const char *text = has_text ? (const char *)p + sizeof h + vec_bytes : NULL;
	rc = record_vector(lsn, p + sizeof h, dims, vec, "a stored vector is not finite");
	if (rc == BRAIN_OK && text) {
		brain_msg_text_check tc = {text, (size_t)h.text_len + 1, "log: text", 0};
		if (text[h.text_len] != '\0' || brain__call_TEXT_CHECK(&b->spine, &tc) ||
		    tc.len != h.text_len)
			rc = bad_record(lsn, "a stored text is not valid");
	}
	brain_msg_store s = {h.id, text, has_text ? h.text_len : 0, vec, h.importance,
	                     BRAIN_ID_NONE, h.created_ms ? h.created_ms : 1};
	if (rc == BRAIN_OK) {
		rc = brain__call_STORE(&b->spine, &s);
		if (rc == BRAIN_EEXISTS)
			rc = bad_record(lsn, "stores an id that exists");
	}
	if (rc == BRAIN_OK && text) {
		brain_msg_learn l = {text, h.text_len, +1, NULL, 0, NULL};
		rc = brain__call_LEARN(&b->spine, &l);
		if (rc) {
			brain_msg_forget f = {h.id, true, false};
			brain__call_FORGET(&b->spine, &f);
		}
	}
	brain__free(vec);
	return rc;
}

static int replay_batch(brain_t *b, uint64_t lsn, const unsigned char *p, size_t len)
{
	brain_wal_batch h;
	uint32_t dims = b->env.opts.dimensions;
	int rc = record_head(lsn, p, len, &h, sizeof h);
	if (rc)
		return rc;
	uint64_t row = sizeof(uint64_t) + (uint64_t)dims * sizeof(float);
	if (h.dimensions != dims || h.n == 0 || h.n > (len - sizeof h) / row ||
	    len != sizeof h + h.n * row)
		return bad_record(lsn, "a batch's fields are out of range");
	size_t n = (size_t)h.n;
	uint64_t *ids = brain__malloc_array(n, sizeof *ids);
	float *vecs = brain__malloc_array(n * dims, sizeof *vecs);
	if (!ids || !vecs)
		rc = brain__oom(n * (size_t)row, "replay batch");
	if (rc == BRAIN_OK) {
		memcpy(ids, p + sizeof h, n * sizeof *ids);
		memcpy(vecs, p + sizeof h + n * sizeof *ids, n * dims * sizeof *vecs);
		brain_msg_store_batch m = {ids, vecs, n};
		rc = brain__call_STORE_BATCH(&b->spine, &m);
		if (rc == BRAIN_EEXISTS || rc == BRAIN_EINVAL || rc == BRAIN_ENONFINITE ||
		    rc == BRAIN_EZEROVEC)
			rc = bad_record(lsn, "a batch that cannot be stored");
	}
	brain__free(ids);
	brain__free(vecs);
	return rc;
}

static int replay_forget(brain_t *b, uint64_t lsn, const unsigned char *p, size_t len)
{
	uint64_t id;
	if (len != sizeof id)
		return bad_record(lsn, "a forget's size is wrong");
	memcpy(&id, p, sizeof id);
	int rc = forget_apply(b, id);
	return rc == BRAIN_ENOTFOUND ? bad_record(lsn, "forgets an id that does not exist") : rc;
}

static int replay_update(brain_t *b, uint64_t lsn, const unsigned char *p, size_t len)
{
	brain_wal_update h;
	uint32_t dims = b->env.opts.dimensions;
	int rc = record_head(lsn, p, len, &h, sizeof h);
	if (rc)
		return rc;
	if (h.dimensions != dims || len != sizeof h + (size_t)dims * sizeof(float))
		return bad_record(lsn, "an update's fields are out of range");
	float *vec = brain__malloc_array(dims, sizeof *vec);
	float *old = brain__malloc_array(dims, sizeof *old);
	if (!vec || !old)
		rc = brain__oom(2 * (size_t)dims * sizeof *vec, "replay");
	if (rc == BRAIN_OK)
		rc = record_vector(lsn, p + sizeof h, dims, vec, "an updated vector is not finite");
	if (rc == BRAIN_OK) {
		brain_msg_update u = {h.id, vec, old};
		rc = brain__call_UPDATE(&b->spine, &u);
		if (rc == BRAIN_ENOTFOUND)
			rc = bad_record(lsn, "updates an id that does not exist");
	}
	brain__free(vec);
	brain__free(old);
	return rc;
}

int brain__change_replay(void *payload, uint32_t op, uint64_t lsn, const void *data, size_t len)
{
	brain_t *b = payload;
	switch (op) {
	case BRAIN_WAL_STORE:
		return replay_store(b, lsn, data, len);
	case BRAIN_WAL_BATCH:
		return replay_batch(b, lsn, data, len);
	case BRAIN_WAL_FORGET:
		return replay_forget(b, lsn, data, len);
	case BRAIN_WAL_UPDATE:
		return replay_update(b, lsn, data, len);
	default:
		return bad_record(lsn, "unknown operation");
	}
}

