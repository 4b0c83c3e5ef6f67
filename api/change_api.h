/*
 * api/change_api.h - what every changing call of the api does after its
 * change: tell the Heart if the index put work off.
 */
#ifndef BRAIN_API_CHANGE_API_H
#define BRAIN_API_CHANGE_API_H

#include "engine/change.h"
#include "engine/handle.h"

/* brain__change_make, then the Heart kicked: a change that left vectors
 * in the index's tail has them built in the background at once, not at
 * the next beat. */
static inline int brain__api_change(brain_t *b, brain_change *c)
{
	int rc = brain__change_make(b, c);
	if (rc == BRAIN_OK)
		brain__heart_kick(b);
	return rc;
}

/* What remember and add are made of, shared with the Stomach's digester
 * (api/ingest_api.c). *_check: the call's argument checks (add also
 * prepares a copy of the vector, which the caller frees). *_made: the
 * change, committed unless `defer` (then *lsn is the record to commit). */
/* A caller's metadata JSON (NUL-terminated) into a blob: parsed, and no
 * field named as the library's ('@'). 0, BRAIN_EJSON, BRAIN_ETOOLONG,
 * BRAIN_ENOMEM; *out untouched on failure. */
int brain__api_meta_parse(const char *json, bool patch, brain_meta_blob *out);
/* The same for metadata of a memory that exists (set, patch, update): its
 * '@' fields may come back as they are (checked by the change). */
int brain__api_meta_parse_own(const char *json, bool patch, brain_meta_blob *out);

/* A key of brain_upsert or a document: 1..BRAIN_KEY_MAX bytes of UTF-8,
 * NUL-terminated. 0, BRAIN_ENULL, BRAIN_EEMPTY, BRAIN_ETOOLONG, BRAIN_EUTF8
 * (messages start with fn). */
int brain__api_key_check(const char *key, const char *fn);

/* A RELATE or UNRELATE change (its arguments checked). */
int brain__api_relation_change(brain_t *b, int op, uint64_t from, uint64_t to,
                               const char *verb, size_t len, float weight);

int brain__api_remember_check(brain_t *b, const char *text, float importance, size_t *len);
int brain__api_remember_made(brain_t *b, const char *text, size_t len, const float *vector,
                             float importance, const void *meta, size_t meta_len,
                             brain_id *id_out, bool defer, uint64_t *lsn);
/* brain__api_remember_made with the text's vector made already at
 * `epoch` (brain__api_embed_many). */
int brain__api_remember_embedded(brain_t *b, const char *text, size_t len, const float *embedded,
                                 uint64_t epoch, float importance, const void *meta,
                                 size_t meta_len, brain_id *id_out, bool defer, uint64_t *lsn);
/* n checked texts embedded at once on all cores when the brain's embedder
 * is a model (EMBED_MANY): *vectors brain__malloc'ed (n * dimensions) and
 * *epoch; *vectors NULL when it is not, or memory is short (then each is
 * embedded as it is made). */
int brain__api_embed_many(brain_t *b, const char *const *texts, const size_t *lens, size_t n,
                          float **vectors, uint64_t *epoch);
/* Texts brain__api_embed_many embeds at a time. */
#define BATCH_EMBED_CHUNK 64
int brain__api_add_check(brain_t *b, uint64_t id, const float *vector, float **prepared);
int brain__api_add_made(brain_t *b, uint64_t id, const float *prepared, const void *meta,
                        size_t meta_len, bool defer, uint64_t *lsn);

#endif /* BRAIN_API_CHANGE_API_H */
