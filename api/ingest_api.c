/*
 * api/ingest_api.c - asynchronous writes (braincore/ingest.h): checked and
 * queued in the Stomach (organs/stomach.c) now, made later by the
 * digester below, which the Heart's worker, brain_tick(), brain_flush()
 * and brain_close() run (one at a time: ingest_mu).
 *
 * The digester takes the oldest queued writes a batch at a time, makes
 * each as remember and add do (embedding, the change, its log record) but
 * waits for durability once for the batch (one fsync in FULL mode), then
 * lets them go. A write that fails for a passing reason stops the batch
 * and stays queued; one refused for good is let go, its error kept for the
 * next brain_flush() and logged; so is a batch made and logged whose
 * fsync failed (it is in the brain: trying it again would make it twice).
 */
#include <stdio.h>
#include <string.h>

#include "api/change_api.h"
#include "engine/handle.h"

/* Writes a batch makes before it waits for their durability. */
#define DIGEST_BATCH 64

static bool passing(int rc)
{
	return rc == BRAIN_ENOMEM || rc == BRAIN_EIO || rc == BRAIN_ENOSPC;
}

/* `pre`: the text's vector made already (EMBED_MANY) at `epoch`, or NULL. */
static int make(brain_t *b, const brain_ingest_item *it, const float *pre, uint64_t epoch,
                uint64_t *lsn)
{
	if (it->kind == BRAIN_INGEST_REMEMBER && pre)
		return brain__api_remember_embedded(b, it->text, it->len, pre, epoch, it->importance,
		                                    NULL, 0, NULL, true, lsn);
	if (it->kind == BRAIN_INGEST_REMEMBER)
		return brain__api_remember_made(b, it->text, it->len, NULL, it->importance, NULL, 0, NULL, true,
		                                lsn);
	return brain__err_prefix(brain__api_add_made(b, it->id, it->vector, NULL, 0, true, lsn), "add");
}

/* The digester (b->ingest_fn): the queued writes, oldest first, until
 * until_ns (0: all of them). 0 or the passing error that stopped it. */
static int digest(brain_t *b, uint64_t until_ns)
{
	brain_ingest_item items[DIGEST_BATCH];
	pthread_mutex_lock(&b->ingest_mu);
	int rc = BRAIN_OK;
	for (;;) {
		brain_msg_ingest_peek p = {items, DIGEST_BATCH, 0};
		brain__call_INGEST_PEEK(&b->spine, &p);
		if (p.n == 0)
			break;
		/* a model embeds the batch's texts at once, on all cores */
		const char *texts[DIGEST_BATCH];
		size_t lens[DIGEST_BATCH], slot[DIGEST_BATCH], nt = 0;
		for (size_t i = 0; i < p.n; i++) {
			slot[i] = nt;
			if (items[i].kind == BRAIN_INGEST_REMEMBER) {
				texts[nt] = items[i].text;
				lens[nt++] = items[i].len;
			}
		}
		float *pre = NULL;
		uint64_t epoch = 0;
		rc = brain__api_embed_many(b, texts, lens, nt, &pre, &epoch);
		if (rc && !passing(rc))
			rc = BRAIN_OK; /* each text is embedded when it is made, and its error said */
		if (rc)
			break;
		size_t made = 0, dims = b->env.opts.dimensions;
		uint64_t last = 0;
		for (; made < p.n; made++) {
			uint64_t lsn = 0;
			rc = make(b, &items[made], pre ? pre + slot[made] * dims : NULL, epoch, &lsn);
			if (rc == BRAIN_OK) {
				last = BRAIN_MAX(last, lsn);
				continue;
			}
			if (passing(rc))
				break;
			/* refused for good: said once, by the next flush */
			BRAIN_LOG(BRAIN_LOG_WARN, "async write %llu refused: %s",
			          (unsigned long long)items[made].seq + 1, brain_errmsg());
			if (b->ingest_rc == BRAIN_OK) {
				b->ingest_rc = rc;
				snprintf(b->ingest_msg, sizeof b->ingest_msg, "async write %llu refused: %s",
				         (unsigned long long)items[made].seq + 1, brain_errmsg());
			}
			rc = BRAIN_OK;
		}
		brain__free(pre);
		int crc = brain__change_commit(b, last);
		if (crc && b->ingest_rc == BRAIN_OK) {
			/* made and logged, but not as durable as the sync mode
			 * promises: not retried (they are in the brain already); the
			 * next flush says so */
			b->ingest_rc = crc;
			snprintf(b->ingest_msg, sizeof b->ingest_msg,
			         "async writes up to %llu were made but their log could not be "
			         "made durable: %s",
			         (unsigned long long)items[made ? made - 1 : 0].seq + 1, brain_errmsg());
		}
		brain_msg_ingest_done d = {made};
		brain__call_INGEST_DONE(&b->spine, &d);
		if (rc == BRAIN_OK)
			rc = crc;
		if (rc || (until_ns && brain__mono_ns() >= until_ns))
			break;
	}
	pthread_mutex_unlock(&b->ingest_mu);
	return rc;
}

/* Queue a checked write; the first one installs the digester. */
static int put(brain_t *b, brain_ingest_item *it, const char *fn)
{
	brain_msg_status st = {0};
	brain__call_STATUS(&b->spine, &st);
	brain_msg_ingest_status q;
	brain__call_INGEST_STATUS(&b->spine, &q);
	if (st.count + q.queued >= b->env.opts.max_memories)
		return brain__err(BRAIN_EFULL, "%s: brain holds %llu memories and %llu queued; one more "
		                  "would pass its max_memories of %llu", fn,
		                  (unsigned long long)st.count, (unsigned long long)q.queued,
		                  (unsigned long long)b->env.opts.max_memories);
	atomic_store(&b->ingest_fn, digest);
	brain_msg_ingest_put m = {*it};
	int rc = brain__call_INGEST_PUT(&b->spine, &m);
	if (rc)
		return brain__err_prefix(rc, fn);
	memset(it, 0, sizeof *it); /* the Stomach's now */
	brain__heart_kick(b);
	return BRAIN_OK;
}

BRAIN_EXPORT int brain_remember_async(brain_t *b, const char *text, float importance)
{
	size_t len = 0;
	int rc = brain__api_remember_check(b, text, importance, &len);
	if (rc)
		return brain__err_prefix(rc, "remember_async");
	brain_msg_embed_epoch e = {0, false};
	brain__call_EMBED_EPOCH(&b->spine, &e);
	if (!e.can_embed)
		return brain__err(BRAIN_ENOEMBEDDER, "remember_async: brain was opened without an "
		                  "embedder: install one with brain_set_embedder()");
	brain_mem_scope outer = brain__enter(b);
	brain_ingest_item it = {.kind = BRAIN_INGEST_REMEMBER, .len = len, .importance = importance};
	it.text = brain__strndup(text, len);
	brain__mem_leave(outer);
	if (!it.text)
		return brain__oom(len + 1, "remember_async: text");
	rc = put(b, &it, "remember_async");
	brain__free(it.text);
	return rc;
}

BRAIN_EXPORT int brain_add_async(brain_t *b, uint64_t id, const float *vector)
{
	float *vec = NULL;
	int rc = brain__api_add_check(b, id, vector, &vec);
	if (rc == BRAIN_OK) {
		brain_msg_lookup l = {.id = id};
		brain__rdlock(b);
		bool taken = brain__call_LOOKUP(&b->spine, &l) == BRAIN_OK;
		brain__unlock(b);
		if (taken)
			rc = brain__err(BRAIN_EEXISTS, "id %llu is already in use",
			                (unsigned long long)id);
	}
	if (rc == BRAIN_OK) {
		brain_ingest_item it = {.kind = BRAIN_INGEST_ADD, .id = id, .vector = vec};
		rc = put(b, &it, "add_async");
		vec = it.vector; /* NULL once queued */
	}
	brain__free(vec);
	return brain__err_prefix(rc, "add_async");
}

BRAIN_EXPORT int brain_flush(brain_t *b)
{
	if (!b)
		return brain__err(BRAIN_ENULL, "flush: brain is NULL");
	int (*fn)(brain_t *, uint64_t) = atomic_load(&b->ingest_fn);
	if (!fn)
		return BRAIN_OK; /* nothing was ever queued */
	brain_msg_ingest_status q;
	brain__call_INGEST_STATUS(&b->spine, &q);
	uint64_t target = q.put;
	int rc = BRAIN_OK;
	/* the writes queued so far, on this thread if nobody else is at them
	 * (the digester lets them go only once made and committed) */
	while (rc == BRAIN_OK && q.done < target) {
		rc = fn(b, 0);
		brain__call_INGEST_STATUS(&b->spine, &q);
	}
	pthread_mutex_lock(&b->ingest_mu);
	if (rc == BRAIN_OK && b->ingest_rc) {
		rc = brain__err(b->ingest_rc, "%s", b->ingest_msg);
		b->ingest_rc = BRAIN_OK;
	}
	pthread_mutex_unlock(&b->ingest_mu);
	return brain__err_prefix(rc, "flush");
}
