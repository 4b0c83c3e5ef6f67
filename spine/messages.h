/*
 * spine/messages.h - the Spine's messages: one X-macro list and the payload
 * struct of each. Included by spine/spine.h only.
 *
 * Locking contract (the api layer takes the brain lock, see
 * docs/threading.md): "read" means the caller holds the brain lock shared,
 * "write" exclusive, "none" means no brain lock is needed (the organ
 * protects its own state).
 */
#ifndef BRAIN_MESSAGES_H
#define BRAIN_MESSAGES_H

#include "base/analysis.h"
#include "base/meta.h"
#include "base/results.h"

struct brain_wal_part;
struct brain_wal_replay_info;

/* One list per organ, in the order of BRAIN_ORGAN_LIST (spine/spine.h):
 *
 *   X(name, owner, payload type, lock)
 *
 * The owner comes from the list's organ. Lock is what the caller must
 * hold (checked in debug and sanitizer builds, BRAIN_CHECK_LOCKS):
 *   ANY       nothing required (the organ protects its own state)
 *   READ      the brain lock, shared or exclusive
 *   WRITE     the brain lock, exclusive
 *             ("READ and the gate": a checkpoint's, the lock shared and
 *             the writers' gate held, so no change runs; engine/handle.h)
 *   UNLOCKED  not the brain lock: the message may run user code (an
 *             embedder or a generator), which must never run under it
 */
#define BRAIN_MESSAGES_PANCREAS(X, O)                                           \
	X(TEXT_CHECK, O, brain_msg_text_check, ANY)                                 \
	X(TEXT_ANALYZE, O, brain_msg_text_analyze, ANY)

#define BRAIN_MESSAGES_CORTEX(X, O)                                             \
	X(EMBED, O, brain_msg_embed, UNLOCKED)                                      \
	X(EMBED_EPOCH, O, brain_msg_embed_epoch, ANY)                               \
	X(EMBED_MANY, O, brain_msg_embed_many, UNLOCKED)                            \
	X(LEARN, O, brain_msg_learn, WRITE)                                         \
	X(SET_EMBEDDER, O, brain_msg_set_embedder, ANY) /* probe: UNLOCKED */       \
	X(SET_GENERATOR, O, brain_msg_set_generator, ANY)                           \
	X(THINK_QUERY, O, brain_msg_think_query, UNLOCKED)                          \
	X(COMPOSE, O, brain_msg_compose, UNLOCKED)                                  \
	X(WORKING_ADD, O, brain_msg_working_add, ANY)                               \
	X(WORKING_TAKE, O, brain_msg_working_take, ANY)                             \
	X(WORKING_RETURN, O, brain_msg_working_return, ANY)                         \
	X(CORTEX_IMAGE_COPY, O, brain_msg_image_copy, READ) /* and the gate */      \
	X(CORTEX_IMAGE_RELEASE, O, brain_msg_image_release, WRITE)

#define BRAIN_MESSAGES_HIPPOCAMPUS(X, O)                                        \
	X(STORE, O, brain_msg_store, WRITE)                                         \
	X(STORE_BATCH, O, brain_msg_store_batch, WRITE)                             \
	X(FORGET, O, brain_msg_forget, WRITE)                                       \
	X(LOOKUP, O, brain_msg_lookup, READ)                                        \
	X(GET_VECTOR, O, brain_msg_get_vector, READ)                                \
	X(SEARCH, O, brain_msg_search, READ)                                        \
	X(SEARCH_MANY, O, brain_msg_search_many, READ)                              \
	X(HITS, O, brain_msg_hits, READ)                                            \
	X(STATUS, O, brain_msg_status, ANY) /* want_bytes: READ */                  \
	X(INDEX_INFO, O, brain_msg_index_info, READ)                                \
	X(ESTIMATE, O, brain_msg_estimate, READ)                                    \
	X(INDEX_RETIRE, O, brain_msg_index_retire, ANY) /* ckpt_mu or the open */  \
	X(UPDATE, O, brain_msg_update, WRITE)                                       \
	X(DISTANCES, O, brain_msg_distances, READ)                                  \
	X(VERIFY, O, brain_msg_verify, READ)                                        \
	X(INDEX_BUILD, O, brain_msg_index_build, UNLOCKED)                          \
	X(LEAST_VALUABLE, O, brain_msg_least_valuable, READ)                        \
	X(STRENGTHEN, O, brain_msg_strengthen, WRITE)                               \
	X(INDEX_FINISH, O, brain_msg_index_finish, UNLOCKED)                       \
	X(COMPACT, O, brain_msg_compact, WRITE)                                     \
	X(INDEX_RELEASE, O, brain_msg_index_release, WRITE)                         \
	X(INDEX_UNMAP, O, brain_msg_index_unmap, ANY) /* not beside close */        \
	X(IMAGE_COPY, O, brain_msg_image_copy, READ) /* and the gate */             \
	X(IMAGE_RELEASE, O, brain_msg_image_release, WRITE)                         \
	X(META_CHECK, O, brain_msg_meta_check, READ)                                \
	X(META_SET, O, brain_msg_meta_set, WRITE)                                   \
	X(META_GET, O, brain_msg_meta_get, READ)                                    \
	X(FILTER_EVAL, O, brain_msg_filter_eval, READ)                              \
	X(RELATE, O, brain_msg_relate, WRITE)                                       \
	X(UNRELATE, O, brain_msg_unrelate, WRITE)                                   \
	X(RELATED, O, brain_msg_related, READ)                                      \
	X(KW_SEARCH, O, brain_msg_kw_search, READ)                                  \
	X(REPLACE_END, O, brain_msg_replace_end, WRITE)                             \
	X(KEY_FIND, O, brain_msg_key_find, READ)

#define BRAIN_MESSAGES_THALAMUS(X, O)                                           \
	X(RECALL, O, brain_msg_recall, READ)                                        \
	X(RECALL_MANY, O, brain_msg_recall_many, READ)

#define BRAIN_MESSAGES_LUNGS(X, O)                                              \
	X(WAL_APPEND, O, brain_msg_wal_append, WRITE)                               \
	X(WAL_COMMIT, O, brain_msg_wal_commit, ANY)                                 \
	X(WAL_REPLAY, O, brain_msg_wal_replay, WRITE)                               \
	X(WAL_RESET, O, brain_msg_wal_reset, READ) /* and the gate */               \
	X(WAL_STATUS, O, brain_msg_wal_status, ANY)                                 \
	X(LUNGS_START, O, brain_msg_lungs_start, WRITE)                             \
	X(BREATHE, O, brain_msg_breathe, ANY)

#define BRAIN_MESSAGES_STOMACH(X, O)                                            \
	X(INGEST_PUT, O, brain_msg_ingest_put, ANY)                                 \
	X(INGEST_PEEK, O, brain_msg_ingest_peek, ANY)                               \
	X(INGEST_DONE, O, brain_msg_ingest_done, ANY)                               \
	X(INGEST_STATUS, O, brain_msg_ingest_status, ANY)

#define BRAIN_MESSAGES_LIVER(X, O)                                              \
	X(LIVER_STATUS, O, brain_msg_liver_status, ANY)                             \
	X(LIVER_ADMIT, O, brain_msg_liver_admit, WRITE)

/* Every message, organ by organ. */
#define BRAIN__MESSAGES_OF(ID, name, X) BRAIN_MESSAGES_##ID(X, ID)
#define BRAIN_MESSAGE_LIST(X) BRAIN_ORGAN_LIST(BRAIN__MESSAGES_OF, X)

/* ---- Pancreas ---------------------------------------------------------- */

/* Validate a caller's text (see brain__text_check). */
typedef struct brain_msg_text_check {
	const char *text; /* in, may be NULL */
	size_t max_bytes; /* in */
	const char *what; /* in: start of the error message, "remember: text" */
	size_t len;       /* in: the text's length, or 0: up to its NUL;
	                     out: the length */
} brain_msg_text_check;

/* Normalise and tokenise valid UTF-8 text. */
typedef struct brain_msg_text_analyze {
	const char *text;
	size_t len;
	int gram_min, gram_max; /* character n-gram sizes; 0, 0 for none */
	brain_analysis *out;    /* in/out: reused buffers */
} brain_msg_text_analyze;

/* ---- Cortex ------------------------------------------------------------ */

enum brain_embed_purpose {
	BRAIN_EMBED_DOCUMENT = 0, /* a memory to store */
	BRAIN_EMBED_QUERY = 1     /* a query to recall with */
};

/* Text -> vector with the brain's embedder (built-in or user). The vector is
 * checked (dimension, finite, non-zero under cosine) and, under the cosine
 * metric, unit length. Errors: BRAIN_ENOEMBEDDER, BRAIN_EEMBEDDER,
 * BRAIN_EDIM, BRAIN_ENONFINITE, BRAIN_EZEROVEC, BRAIN_EEMPTY (text with
 * nothing to index), BRAIN_ENOMEM. */
typedef struct brain_msg_embed {
	const char *text; /* in: checked text */
	size_t len;
	int purpose;      /* enum brain_embed_purpose */
	float *vector;    /* out: dimensions floats */
	uint64_t epoch;   /* out: embedder epoch used (see EMBED_EPOCH) */
	bool want_features;  /* in: also return the text's features for LEARN,
	                        and its keyword terms for STORE */
	uint64_t *features;  /* out: brain__malloc'ed, the caller frees; NULL if
	                        the embedder has none (a user embedder) */
	size_t nfeatures;    /* out */
	uint64_t *terms;     /* out: the same, brain__analysis_terms */
	size_t nterms;       /* out */
} brain_msg_embed;

/* The embedder epoch changes whenever the embedder is replaced; a writer
 * that embedded without the lock compares it under the lock and embeds
 * again if it moved, so vectors of two embedders never mix. */
typedef struct brain_msg_embed_epoch {
	uint64_t epoch; /* out */
	bool can_embed; /* out: an embedder is there (built-in or the user's) */
} brain_msg_embed_epoch;

/* Many texts embedded at once, on all cores, when the brain's embedder can
 * (a model of BRAIN_EMBEDDER_MODEL and no user embedder over it): else
 * `done` stays false and the caller embeds each text (EMBED). The vectors
 * are as EMBED's, made at `epoch`. */
typedef struct brain_msg_embed_many {
	const char *const *texts; /* in: checked texts */
	const size_t *lens;
	size_t n;
	float *vectors;  /* out: n * dimensions floats */
	uint64_t epoch;  /* out */
	bool done;       /* out */
} brain_msg_embed_many;

/* The corpus changed: a text was stored (delta +1) or forgotten (-1). The
 * Cortex keeps its document frequencies (for IDF) in step. The text's
 * features, when EMBED just returned them, save analysing it again. */
typedef struct brain_msg_learn {
	const char *text;
	size_t len;
	int delta;                /* +1 or -1; 0: only prepare (below) */
	const uint64_t *features; /* optional */
	size_t nfeatures;
	/* Delta 0 changes nothing: it returns the text's features in
	 * `prepared` (brain__malloc'ed, the caller frees; NULL when there are
	 * none to count), so that a later -1 or +1 given them cannot fail. */
	uint64_t *prepared;
} brain_msg_learn;

/* With probe: try embedder fn on a probe text (dimension, finite, non-zero)
 * and change nothing; runs user code, so no lock. Without: replace the
 * embedder (fn NULL: the one the brain was opened with); the caller holds
 * the write lock and has checked that the brain is empty. */
typedef struct brain_msg_set_embedder {
	brain_embed_fn fn;
	void *payload;
	bool probe;
} brain_msg_set_embedder;

typedef struct brain_msg_set_generator {
	brain_generate_fn fn;
	void *payload;
} brain_msg_set_generator;

/* Query vectors for a think: the input's own embedding, and, when the
 * input refers back ("when was it built?") and there was a previous
 * exchange, a follow-up query that blends in that exchange's query. */
typedef struct brain_msg_think_query {
	const char *input; /* checked text */
	size_t len;
	float *own;        /* out: dimensions floats */
	float *context;    /* out: dimensions floats, if has_context */
	uint64_t epoch;    /* out */
	bool has_context;  /* out */
} brain_msg_think_query;

/* Compose the answer of a think from the recalled memories (built-in
 * composition or the user's generator). */
typedef struct brain_msg_compose {
	const char *input;
	size_t input_len;
	const brain_results *memories; /* the memories to draw on, best first */
	bool used_context;
	char *answer;                  /* out: brain__malloc'ed, NUL-terminated */
	size_t answer_len;             /* out */
} brain_msg_compose;

/* Keep an exchange in working memory. */
typedef struct brain_msg_working_add {
	const char *input;
	size_t input_len;
	const char *answer;
	size_t answer_len;
	const float *vector; /* the query the answer was recalled with */
} brain_msg_working_add;

/* An exchange of working memory taken for consolidation (WORKING_TAKE). */
typedef struct brain_working_item {
	uint64_t seq; /* the exchange's number, for WORKING_RETURN */
	char *input;  /* a copy, NUL-terminated, in the items' block */
	size_t len;
} brain_working_item;

/* Take, for the Circadian, the exchanges of working memory not taken
 * before whose input is a statement (not empty, not ending in a question
 * mark after trailing white space), oldest first: copies, in one block
 * (the array, then the inputs) counted to the brain, which the caller
 * frees with brain__free(items). Each is marked taken, and so are the
 * questions passed over: an exchange is taken at most once. Nothing with
 * WORKING_MEMORY_SIZE 0. Errors: BRAIN_ENOMEM (nothing taken). */
typedef struct brain_msg_working_take {
	brain_working_item *items; /* out: brain__malloc'ed, NULL when n is 0 */
	size_t n;                  /* out */
} brain_msg_working_take;

/* Give back exchanges taken that could not be consolidated for a passing
 * reason: the next WORKING_TAKE takes them again, if working memory still
 * holds them. */
typedef struct brain_msg_working_return {
	const uint64_t *seqs;
	size_t n;
} brain_msg_working_return;

/* ---- Hippocampus ------------------------------------------------------- */

/* Store a memory. The vector is prepared (brain__vector_prepare: finite,
 * unit length under cosine). Errors: BRAIN_EEXISTS, BRAIN_EFULL,
 * BRAIN_ENOMEM; nothing changes on error. */
typedef struct brain_msg_store {
	brain_id id;         /* in: BRAIN_ID_NONE = assign the next id */
	const char *text;    /* in: NULL for a vector without text */
	size_t len;
	const float *vector; /* in */
	float importance;    /* in: [0, 1] */
	brain_id out_id;     /* out */
	int64_t created_ms;  /* in: 0 = now (a replay gives the original time);
	                        out: the time recorded */
	const void *meta;    /* in: a checked metadata blob (base/meta.h) whose
	                        types META_CHECK passed, or NULL */
	size_t meta_len;
	/* in, optional: the text's keyword terms (brain__analysis_terms), when
	 * its embedding analysed it; NULL: the Hippocampus analyses it */
	const uint64_t *terms;
	size_t nterms;
	/* in: the memory `id` (which must exist: BRAIN_ENOTFOUND) is being
	 * replaced: this one is stored beside it in a new slot and takes its
	 * id, and the old one's metadata leaves its slot (so that the fields
	 * take their types as if the memory had changed in place); REPLACE_END
	 * then drops the one that lost. Not refused at max_memories: the
	 * count comes back at once. */
	bool replace;
	uint32_t old_slot; /* out, with replace: the replaced memory's slot */
	uint32_t slot;     /* out: the slot stored into */
} brain_msg_store;

/* The end of a replacement (STORE with replace): the slot that lost is
 * dropped, the old one once the change is logged, or the new one when
 * the change is undone (then the id is given its old slot back). The
 * memory's relations stay (they are the id's). Never allocates; cannot
 * fail once FORGET with check passed for the old memory. */
typedef struct brain_msg_replace_end {
	brain_id id;
	uint32_t old_slot;
	uint32_t new_slot;
	bool undo;
	/* with undo: the old memory's metadata (STORE took it out of the old
	 * slot), a heap blob (brain__meta_heap) put back, ownership passes;
	 * NULL: it had none */
	uint8_t *old_meta;
} brain_msg_replace_end;

/* The memory a key names (the reserved metadata field "@key"), or
 * BRAIN_ID_NONE. */
typedef struct brain_msg_key_find {
	const char *key; /* NUL-terminated, checked */
	brain_id id;     /* out */
} brain_msg_key_find;

/* Store n vectors without text, all or nothing. Rows come as the caller
 * gave them: they and the ids are checked (finite, non-zero under cosine,
 * ids unique and free) and room is made before any is stored. */
typedef struct brain_msg_store_batch {
	const uint64_t *ids;
	const float *vectors;
	size_t n;
} brain_msg_store_batch;

/* Forget a memory; BRAIN_ENOTFOUND if there is none. With undo, this
 * takes back the STORE that just assigned the id, and the id is given
 * again. Never allocates. With check, nothing changes: 0 says that the
 * forget would succeed (the id exists, the index is readable), so that it
 * can be logged before it is made. */
typedef struct brain_msg_forget {
	brain_id id;
	bool undo;
	bool check;
} brain_msg_forget;

/* A memory's record by id; BRAIN_ENOTFOUND if none. */
typedef struct brain_msg_lookup {
	brain_id id;
	brain_hit hit; /* out: text borrowed (valid under the lock) */
} brain_msg_lookup;

typedef struct brain_msg_get_vector {
	brain_id id;
	float *vector; /* out */
} brain_msg_get_vector;

/* Raw index search as the Thalamus planned it: up to k nearest slots (of
 * memories with text only, if text_only), nearest first. */
typedef struct brain_msg_search {
	const float *query; /* prepared: finite, unit under cosine */
	size_t k;
	bool text_only;
	bool exact;         /* scan every memory, whatever the index's structure */
	uint64_t effort;    /* candidates the index keeps while it walks; 0: default */
	/* optional: only memories whose id accept() takes */
	int (*accept)(uint64_t id, void *payload);
	void *accept_payload;
	uint32_t *slots;    /* out: capacity k */
	float *distances;   /* out: capacity k */
	size_t found;       /* out */
	/* optional: only the slots of this set (FILTER_EVAL's); with
	 * over_pass, exactly, looking at those slots alone */
	const struct brain_slotset *pass;
	bool over_pass;
} brain_msg_search;

/* Exact search for many queries at once, if the index can (a flat store of
 * float rows, the flat index's or an HNSW index's own: each row read once
 * for a group of queries; only when the plan is a scan); done tells
 * whether it did, else nothing was written. Query j's nearest are at
 * slots + j * k and distances + j * k, nearest first, found[j] of them. */
typedef struct brain_msg_search_many {
	const float *queries; /* prepared, nq x dims */
	size_t nq, k;
	uint32_t *slots;  /* out: nq x k */
	float *distances; /* out: nq x k */
	size_t *found;    /* out: nq */
	bool done;        /* out */
} brain_msg_search_many;

/* Records of slots returned by SEARCH; with touch, their access time is set
 * to now. */
typedef struct brain_msg_hits {
	const uint32_t *slots;
	const float *distances;
	size_t n;
	bool touch;
	brain_hit *out; /* out: n entries, score left 0 */
} brain_msg_hits;

/* Distances from `vector` (prepared) to the memories in n slots. */
typedef struct brain_msg_distances {
	const uint32_t *slots;
	size_t n;
	const float *vector;
	float *out; /* out: n distances */
} brain_msg_distances;

/* Replace the vector of memory id (prepared); its record stays. On error
 * the old vector is back in place. BRAIN_ENOTFOUND if there is none. */
typedef struct brain_msg_update {
	brain_id id;
	const float *vector;
	float *old;          /* out, dimensions floats: the vector it had */
} brain_msg_update;

/* Cross-check the records against the index (brain_check): every live
 * record's id maps to its slot and the index holds a vector there, and
 * the index holds none in a free slot. BRAIN_ECORRUPT naming the first
 * disagreement. */
typedef struct brain_msg_verify {
	uint64_t checked; /* out: slots compared */
} brain_msg_verify;

typedef struct brain_msg_status {
	uint64_t count;       /* out: memories */
	uint64_t text_count;  /* out: memories with text */
	uint64_t index_bytes; /* out, only when asked (needs the read lock) */
	bool want_bytes;      /* in */
	bool want_free;       /* in (needs the read lock) */
	uint64_t free_slots;  /* out, when asked: slots of forgotten memories,
	                         which new ones take before the store grows */
	uint64_t slots;       /* out, when asked: slots the store has used
	                         (memories and free slots below the last) */
	bool index_rebuilt;   /* out: the image's index was damaged and is
	                         rebuilt from its stored vectors */
	uint64_t damage;      /* out: checksum failures found since the open */
	/* out, with want_bytes: metadata and relations */
	uint64_t meta_memories, meta_fields, meta_bytes, relations;
	bool meta_broken;
} brain_msg_status;

/* What the index backend says about itself (brain__index_info): how many
 * vectors, whether a search not asked to be exact may miss, and the
 * parameters it was built with (a reopened index reports those). */
typedef struct brain_msg_index_info {
	brain_index_info info; /* out */
} brain_msg_index_info;

/* A checkpoint of files->generation committed (or the writer opened one):
 * the index backend may remove its files no longer named. */
typedef struct brain_msg_index_retire {
	const brain_index_files *files;
} brain_msg_index_retire;

/* The index's work put off (index vtable version 5, build()): up to `max`
 * vectors of its tail put into its structure, while every other call goes
 * on (so no brain lock: a change waits only for the backend's own short
 * batch); max 0 only counts. pending: how many still wait. */
typedef struct brain_msg_index_build {
	size_t max;       /* in */
	uint64_t pending; /* out */
} brain_msg_index_build;

/* A checkpoint in two steps (brain_organ_args.freeze_index): the index
 * section the Hippocampus left open at its save, with the index frozen,
 * is finished into `w` (the backend's flush_frozen), beside every change;
 * or, with `abort`, only the freeze is ended. Nothing to do if the
 * backend cannot freeze (its section was written whole at the save).
 * Never with another checkpoint (the brain's checkpoint mutex). */
typedef struct brain_msg_index_finish {
	struct brain_image_writer *w;
	const brain_index_files *files;
	bool abort;
} brain_msg_index_finish;

/* Set a memory's importance and access time (a remembered near-copy
 * strengthens it); the old values come back, for an undo. */
typedef struct brain_msg_strengthen {
	brain_id id;            /* in */
	float importance;       /* in */
	int64_t accessed_ms;    /* in */
	float old_importance;   /* out */
	int64_t old_accessed_ms; /* out */
} brain_msg_strengthen;

/* The Circadian's choice: the n memories of least value now (importance,
 * decayed while unused by half_life_h, base/decay.h), least first; ties
 * go to the one unused longer, then the smaller id. */
typedef struct brain_msg_least_valuable {
	size_t n;              /* in: room in ids */
	int64_t now_ms;        /* in */
	int64_t half_life_h;   /* in: 0, no decay */
	brain_id *ids;         /* out */
	size_t found;          /* out */
} brain_msg_least_valuable;

/* Compaction (engine/circadian.c): up to `max` memories of the last
 * slots moved into free slots below (their ids, records and vectors as
 * they were; the index takes each vector again and drops it where it
 * was), then the free slots at the end handed back: the records' rows
 * and, with a backend of version 7, the index's. Not logged: slots are
 * the store's own business, no record names one. */
typedef struct brain_msg_compact {
	size_t max;         /* in: most memories to move */
	uint64_t hold_until_ns; /* in: no move begins after this (brain__mono_ns) */
	size_t moved;       /* out */
	uint64_t released;  /* out: slots handed back */
	bool done;          /* out: no free slot is left below a memory */
} brain_msg_compact;

/* After a checkpoint: the index backend lets go of the mappings of its
 * files no descriptor names (index vtable version 7's release), copying
 * up to `max` chunks of rows still lying there to the heap first. */
typedef struct brain_msg_index_release {
	size_t max;  /* in */
	size_t left; /* out: chunks that still wait (0: done) */
} brain_msg_index_release;

/* The mappings INDEX_RELEASE and IMAGE_RELEASE detached (no row lies in
 * them: no search or change reaches them), unmapped with no brain lock,
 * since unmapping a populated mapping takes ~0.3 ms a MB. */
typedef struct brain_msg_index_unmap {
	int unused;
} brain_msg_index_unmap;

/* After a checkpoint replaced the image the brain opened (IMAGE_COPY
 * and CORTEX_IMAGE_COPY, the lock shared and the writers' gate held, so
 * readers go on): each organ copies to the heap what it uses in place in
 * the image and a change could touch or that is one block (the id map,
 * the texts, the document frequencies), after verifying what was not
 * verified yet. The copies are taken into use by the *_RELEASE that
 * follows under the same hold of the gate. */
typedef struct brain_msg_image_copy {
	bool kept; /* out: the organ keeps the image (damage found in it, or an
	              index backend that cannot let go of it) */
} brain_msg_image_copy;

/* The copies taken into use, then the rest copied up to `max` units per
 * call (chunks of records; the index's rows through its release());
 * once nothing lies in the image, the organ drops its reference. */
typedef struct brain_msg_image_release {
	size_t max;  /* in */
	size_t left; /* out: units still in the image (0: let go) */
} brain_msg_image_release;

/* The share of memories a search's filter passes (text_only and accept),
 * from a sample of at most 256 of them; pass < 0 when there are too few
 * memories to tell. */
typedef struct brain_msg_estimate {
	bool text_only;
	int (*accept)(uint64_t id, void *payload); /* may be NULL */
	void *accept_payload;
	double pass; /* out */
} brain_msg_estimate;

/* Check a metadata blob (checked, base/meta.h) against the types of the
 * fields the brain's memories hold, as the new metadata of memory `id`
 * (BRAIN_ID_NONE: a new memory): BRAIN_ETYPE naming the field. An integer
 * for a double field is widened: `widened` is then a new blob (base/meta.h
 * brain_meta_blob, the caller frees it) to use instead. */
typedef struct brain_msg_meta_check {
	const void *blob;
	size_t len;
	brain_id id;
	struct brain_meta_blob widened; /* out: data NULL if not needed */
} brain_msg_meta_check;

/* Memory `id` takes `blob` as its metadata: a heap blob with its u32
 * length in front (brain__meta_heap), whose ownership passes on
 * success, or NULL for none. BRAIN_ENOTFOUND, BRAIN_ENOMEM (nothing
 * changed). */
typedef struct brain_msg_meta_set {
	brain_id id;
	uint8_t *blob;
} brain_msg_meta_set;

/* The metadata of memory `id`: a blob borrowed while the lock is held
 * (NULL, 0 for none); BRAIN_ENOTFOUND. */
typedef struct brain_msg_meta_get {
	brain_id id;
	const void *blob;  /* out */
	size_t len;        /* out */
} brain_msg_meta_get;

/* Evaluate a filter (its types checked first: BRAIN_EFILTER) into the set
 * of the slots of the live memories that pass (filter NULL: every live
 * memory); `count` is its size. The caller frees `set`
 * (brain__slotset_free). */
typedef struct brain_msg_filter_eval {
	const struct brain_filter *filter;
	struct brain_slotset *set; /* out */
	uint64_t count;            /* out */
} brain_msg_filter_eval;

/* Relate memory `from` to `to` by `verb` (len bytes, checked) with
 * `weight` (finite), or set the weight of that edge: BRAIN_ENOTFOUND if
 * either memory is missing, BRAIN_ENOMEM (nothing changed). */
typedef struct brain_msg_relate {
	brain_id from, to;
	const char *verb;
	size_t len;
	float weight;
	bool had;  /* out: the edge was there */
	float old; /* out: its weight then */
} brain_msg_relate;

/* Remove edge (from, to, verb), or every edge from -> to (verb NULL).
 * BRAIN_ENOTFOUND if there is none. Never allocates. With check, nothing
 * changes. */
typedef struct brain_msg_unrelate {
	brain_id from, to;
	const char *verb;
	size_t len;
	bool check;
	size_t removed; /* out */
} brain_msg_unrelate;

enum brain_related_dir { BRAIN_REL_OUT = 1, BRAIN_REL_IN = 2, BRAIN_REL_BOTH = 3 };

/* The memories within `depth` hops of `start` (breadth first, edges of
 * `verb` only unless NULL, followed in `direction`): each reached memory
 * once, nearest first, with the edge that reached it, to each() (which may
 * stop the walk with an error); and, with want_slots, their slots (the
 * start's too) as a new set. BRAIN_ENOTFOUND if start is missing. */
typedef struct brain_msg_related {
	brain_id start;
	uint32_t depth;
	const char *verb;
	size_t len;
	int direction;
	int (*each)(void *ctx, brain_id from, brain_id to, const char *verb, size_t verb_len,
	            float weight, uint32_t hops);
	void *ctx;
	bool want_slots;
	struct brain_slotset *slots; /* out */
	/* instead: every edge of `start` itself (a neighbour related twice,
	 * a loop), hops 1; depth and want_slots are not used */
	bool every_edge;
} brain_msg_related;

/* The k memories with text best for the query's terms by BM25 (the
 * keyword index, index/keyword.h; terms as brain__analysis_terms makes
 * them), best first; with require_all, only those holding every distinct
 * term; with pass, only its slots. */
typedef struct brain_msg_kw_search {
	const uint64_t *terms;
	size_t nterms;
	size_t k;
	bool require_all;
	const struct brain_slotset *pass;
	uint32_t *slots;  /* out: capacity k */
	float *scores;    /* out: capacity k */
	size_t found;     /* out */
} brain_msg_kw_search;

/* ---- Thalamus ---------------------------------------------------------- */

enum brain_recall_mode {
	BRAIN_RECALL_TEXT = 0,    /* memories with text, ranked by score */
	BRAIN_RECALL_VECTOR = 1,  /* every vector, ranked by distance */
	BRAIN_RECALL_KEYWORD = 2, /* memories with text, ranked by BM25 of `text`'s
	                             words; "quoted phrases" must appear as such */
	BRAIN_RECALL_HYBRID = 3   /* TEXT and KEYWORD fused by reciprocal rank */
};

/* Plan and run a recall. */
typedef struct brain_msg_recall {
	const float *query; /* prepared: finite, unit under cosine */
	size_t k;           /* >= 1 */
	int mode;           /* enum brain_recall_mode */
	float min_score;    /* TEXT: only scores above this */
	const float *rerank; /* TEXT, optional: order what `query` recalled by the
	                        score against this vector instead (prepared) */
	brain_hit *hits;    /* out: capacity k */
	size_t found;       /* out */
	/* VECTOR, optional: only memories whose id accept() takes */
	int (*accept)(uint64_t id, void *payload);
	void *accept_payload;
	/* VECTOR, optional: only these ids (sorted, unique), n_allowed of
	 * them; NULL: no such limit */
	const uint64_t *allowed;
	size_t n_allowed;
	/* optional: only memories whose metadata passes this filter */
	const struct brain_filter *filter;
	/* optional: only these slots (RELATED's, under the same lock) */
	const struct brain_slotset *within;
	/* KEYWORD, HYBRID: the query's text (checked UTF-8) */
	const char *text;
	size_t text_len;
	/* the recalled memories' access times stay (a hybrid's candidates) */
	bool no_touch;
} brain_msg_recall;

/* RECALL of nq vector queries at once (no filter), each answered as RECALL
 * (BRAIN_RECALL_VECTOR) answers it, when the plan for them is a scan and
 * the index scans for many at once (SEARCH_MANY); done tells whether it
 * did, else nothing was written and the caller recalls each alone. */
typedef struct brain_msg_recall_many {
	const float *queries; /* prepared, nq x dims */
	size_t nq, k;         /* k >= 1 */
	uint64_t *ids;        /* out: nq x k */
	float *distances;     /* out: nq x k, optional */
	size_t *found;        /* out: nq */
	bool done;            /* out */
} brain_msg_recall_many;

/* ---- Lungs ------------------------------------------------------------- */

/* Append a record to the log (not yet durable). */
typedef struct brain_msg_wal_append {
	uint32_t op;
	const struct brain_wal_part *parts;
	size_t nparts;
	uint64_t lsn; /* out */
} brain_msg_wal_append;

/* Make the change up to lsn as durable as the sync mode promises before
 * it is acknowledged: FULL fsyncs (shared with concurrent writers), NORMAL
 * and OFF return at once. With force, fsync whatever the mode. Called
 * without the brain lock. */
typedef struct brain_msg_wal_commit {
	uint64_t lsn;
	bool force;
} brain_msg_wal_commit;

/* Replay the log after a checkpoint holding changes up to after_lsn. */
typedef struct brain_msg_wal_replay {
	uint64_t after_lsn;
	bool repair;
	int (*apply)(void *payload, uint32_t op, uint64_t lsn, const void *data, size_t len);
	void *payload;
	struct brain_wal_replay_info *info; /* out, may be NULL */
} brain_msg_wal_replay;

/* A checkpoint holding changes up to lsn is durable: start an empty log. */
typedef struct brain_msg_wal_reset {
	uint64_t generation;
	uint64_t lsn;
	uint64_t checkpoint_bytes; /* size of the checkpoint, for the next trigger */
	bool keep;                 /* the records after lsn are kept: they start at
	                              keep_from (WAL_STATUS's `end` when the
	                              checkpoint froze the brain; 0 if a new log
	                              was pending then) */
	uint64_t keep_from;
} brain_msg_wal_reset;

typedef struct brain_msg_wal_status {
	uint64_t last_lsn;   /* out */
	uint64_t end;        /* out: where the record after last_lsn will go
	                        (0: a new log is pending), read with last_lsn */
	uint64_t synced_lsn; /* out */
	uint64_t bytes;      /* out: bytes of log records */
	bool open;           /* out: the brain has a log */
	bool failed;         /* out: an fsync failed; writes are refused */
} brain_msg_wal_status;

/* The brain is open: the checkpoint size the trigger starts from. */
typedef struct brain_msg_lungs_start {
	uint64_t checkpoint_bytes;
} brain_msg_lungs_start;

/* One beat of the Heart (or brain_tick): the NORMAL fsync once its
 * interval has passed; checkpoint_due says the log has grown enough for a
 * checkpoint, which the caller runs. */
typedef struct brain_msg_breathe {
	int64_t now_ms;
	bool defer_sync;     /* in: a due NORMAL fsync is the caller's to make
	                        (the clock's thread never waits for a disk) */
	bool checkpoint_due; /* out */
	bool sync_due;       /* out, with defer_sync: the fsync is due */
} brain_msg_breathe;

/* ---- the list as enums and tables -------------------------------------- */

typedef enum brain_msg_type {
#define BRAIN__MSG_ENUM(name, organ, type, lock) BRAIN_MSG_##name,
	BRAIN_MESSAGE_LIST(BRAIN__MSG_ENUM)
#undef BRAIN__MSG_ENUM
	BRAIN_MSG__COUNT
} brain_msg_type;

/* ---- Stomach ----------------------------------------------------------- */

/* A write queued to be made later (brain_remember_async, brain_add_async),
 * checked as the call would check it now. Its buffers belong to the
 * Stomach from INGEST_PUT until INGEST_DONE. */
enum brain_ingest_kind {
	BRAIN_INGEST_REMEMBER = 1, /* text (len bytes), importance */
	BRAIN_INGEST_ADD = 2       /* id, vector (prepared) */
};

typedef struct brain_ingest_item {
	int kind;
	char *text;
	size_t len;
	float importance;
	uint64_t id;
	float *vector;
	uint64_t seq; /* its number in the queue, from 0 */
} brain_ingest_item;

/* Queue a write, waiting up to INGEST_WAIT_MS for room (BRAIN_EFULL after
 * that); an add's id may not be queued already (BRAIN_EEXISTS). On
 * success the item's buffers are the Stomach's (item cleared). */
typedef struct brain_msg_ingest_put {
	brain_ingest_item item; /* in */
} brain_msg_ingest_put;

/* The oldest writes, up to max of them, still queued (borrowed until
 * INGEST_DONE lets them go). */
typedef struct brain_msg_ingest_peek {
	brain_ingest_item *items; /* in: room for max */
	size_t max;               /* in */
	size_t n;                 /* out */
} brain_msg_ingest_peek;

/* The oldest n writes were made (or refused for good): let them go. */
typedef struct brain_msg_ingest_done {
	size_t n; /* in */
} brain_msg_ingest_done;

typedef struct brain_msg_ingest_status {
	uint64_t queued;      /* writes waiting now */
	uint64_t put, done;   /* since open: queued, and let go */
	uint64_t puts_waited; /* puts that waited for room */
} brain_msg_ingest_status;

/* ---- Liver -------------------------------------------------------------- */

/* Memory pressure: the brain's heap against BRAIN_PARAM_MEMORY_BUDGET. */
enum brain_pressure {
	BRAIN_PRESSURE_NORMAL = 0,   /* below 80% (or no budget) */
	BRAIN_PRESSURE_ELEVATED = 1, /* 80% to 95% */
	BRAIN_PRESSURE_CRITICAL = 2  /* 95% and over */
};

typedef struct brain_msg_liver_status {
	uint64_t used;   /* out: heap bytes the brain holds */
	uint64_t budget; /* out: 0 for none */
	int level;       /* out: enum brain_pressure */
} brain_msg_liver_status;

/* May a change that grows the brain go ahead? BRAIN_EFULL when the brain
 * is at or over its budget and has no forgotten memory's room to reuse
 * (the Liver asks the Hippocampus: the caller holds the write lock). */
typedef struct brain_msg_liver_admit {
	const char *what; /* in: the call, for the message */
} brain_msg_liver_admit;

#endif /* BRAIN_MESSAGES_H */
