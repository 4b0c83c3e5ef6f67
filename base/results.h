/*
 * base/results.h - brain_results objects: one allocation holding entries,
 * their texts and an optional answer.
 */
#ifndef BRAIN_RESULTS_H
#define BRAIN_RESULTS_H

#include "base/base.h"

/* One recalled memory as the organs pass it around. `text` is borrowed from
 * the Hippocampus and valid only while the brain lock is held. */
typedef struct brain_hit {
	brain_id id;
	uint32_t slot;
	float distance;
	float score;
	float importance;
	int64_t created_ms;
	int64_t accessed_ms;
	const char *text; /* NULL for a memory without text */
	uint32_t text_len;
	/* metadata, borrowed like text: a blob (base/meta.h), or its JSON
	 * (copied from a results object); NULL for none */
	const void *meta;
	const char *meta_json;
	uint32_t meta_len; /* of the blob or the JSON */
	/* with meta_json: its "@key" and "@doc" strings (NULL: none) */
	const char *key, *doc;
} brain_hit;

/* Copy n hits (their texts too) and an answer (may be NULL) into a new
 * results object. Returns 0 or BRAIN_ENOMEM. */
int brain__results_make(const brain_hit *hits, size_t n, const char *answer, size_t answer_len,
                        brain_results **out);

/* A copy of r's entries with `answer` attached. Returns 0 or BRAIN_ENOMEM. */
int brain__results_with_answer(const brain_results *r, const char *answer, size_t answer_len,
                               brain_results **out);

#endif /* BRAIN_RESULTS_H */
