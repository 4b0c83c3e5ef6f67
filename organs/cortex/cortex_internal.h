/*
 * organs/cortex/cortex_internal.h - what the Cortex's three files share:
 * its state and the handlers of its messages.
 *
 *   cortex.c  the organ: its state's lifetime, its handler table, its
 *             checkpoint section
 *   embed.c   embedding: features, the built-in embedder, the document
 *             frequencies (IDF), user embedders
 *   think.c   thinking: a think's query, composing answers (built in or
 *             the user's generator), working memory
 *
 * Included only by the files of organs/cortex/: other organs reach the
 * Cortex through the Spine.
 */
#ifndef BRAIN_ORGANS_CORTEX_INTERNAL_H
#define BRAIN_ORGANS_CORTEX_INTERNAL_H

#include <pthread.h>

#include "spine/spine.h"
#include "base/hashmap.h"
#include "storage/image.h"

typedef struct exchange {
	char *input;
	char *answer;
	float *vector; /* the query its answer was recalled with */
	uint64_t seq;  /* its number (1, 2, ...), for WORKING_RETURN */
	bool taken;    /* handed to the Circadian (WORKING_TAKE), or a question */
} exchange;

typedef struct cortex {
	const brain_env *env;
	brain_spine *spine;
	uint32_t dims;

	/* lock guards df, ndocs and the embedder choice */
	pthread_rwlock_t lock;
	brain_map32 df; /* brain__cortex_df_key(feature) -> documents with it */
	uint64_t ndocs;
	brain_image *image; /* df's cells may live in it (a reference) */
	brain_map32_cell *df_copy; /* CORTEX_IMAGE_COPY's, until its RELEASE */
	brain_embed_fn user_fn;
	void *user_payload;
	uint64_t epoch;
	/* the built-in embedder's semantic lift (lift.h; the engine's
	 * reference, env->lift), or NULL; set at create, never changed */
	const struct brain_lift *lift;

	pthread_mutex_t gen_lock;
	brain_generate_fn gen_fn;
	void *gen_payload;

	pthread_mutex_t wm_lock;
	exchange *wm;       /* ring of wm_cap exchanges, newest at wm_head - 1 */
	size_t wm_head;
	size_t wm_count;
	size_t wm_cap;
	uint64_t wm_seq;    /* the last exchange's number */
} cortex;

/* The handlers of the Cortex's messages, declared from its part of the
 * message list (spine/messages.h): brain__cortex_<NAME>(c, &msg) for each.
 * EMBED, EMBED_EPOCH, LEARN and SET_EMBEDDER are in embed.c; SET_GENERATOR,
 * THINK_QUERY, COMPOSE, WORKING_ADD, WORKING_TAKE and WORKING_RETURN in
 * think.c. cortex.c makes the
 * organ's handler table of them; a message added to the list without its
 * handler does not link. */
BRAIN_ORGAN_DECLARE(CORTEX, cortex)

/* A feature's key in the document frequencies: its 64-bit hash folded to
 * 32 bits (8-byte cells, not 16). Two features that fold alike share a
 * count: about 1 pair in 10,000 at 1M features, a rounding of the IDF the
 * embedding's own 384 buckets dwarf. */
static inline uint32_t brain__cortex_df_key(uint64_t feature)
{
	uint32_t k = (uint32_t)(feature ^ (feature >> 32));
	return k == BRAIN_MAP32_EMPTY ? k - 1 : k;
}

/* Free the exchanges of working memory and its ring (think.c), when the
 * organ is destroyed. */
void brain__cortex_working_free(cortex *c);

#endif /* BRAIN_ORGANS_CORTEX_INTERNAL_H */
