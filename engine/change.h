/*
 * engine/change.h - the logged changes, each defined once (engine/change.c).
 *
 * A change is what one write call does to a brain: remember (a memory with
 * text, or, with MERGE_SIMILAR, a near-copy strengthening the memory
 * there), add (a vector under the caller's id), add_batch, forget,
 * update_vector, metadata, relations, update and upsert (REPLACE) and a
 * document's passages (DOCUMENT). Each kind is defined in one place: its log record (the
 * format below, docs/file-format.md), how the record is encoded and
 * decoded, how the change is applied through the organs, and how it is
 * undone when it cannot be logged. Every path that changes a brain goes
 * through here: the api's write calls (brain__change_make) and the replay
 * of the log when a brain opens (brain__change_replay); later the async
 * ingest queue and the Redis module's replicas.
 *
 * The order of a change, under the brain's write lock:
 *   prepare   everything that can fail and changes nothing
 *   apply     the change in memory, then log it; if the log refuses it,
 *   undo      take it back (undo never allocates, so it cannot fail; the
 *             one exception is the metadata's posting lists, CRoaring's,
 *             whose failure only makes filters scan: organs/hippocampus/
 *             postings.h)
 *   finish    once logged (and after a replay's apply): what cannot fail,
 *             prepared, and must not come before the log (an update drops
 *             the old slot, a document forgets its old passages)
 * or, for a change that cannot be undone without allocating (forget):
 *   prepare, log, apply (which, prepared, cannot fail).
 * Then, without the lock, the commit waits for the durability the sync
 * mode promises.
 */
#ifndef BRAIN_ENGINE_CHANGE_H
#define BRAIN_ENGINE_CHANGE_H

#include "spine/spine.h"

/* What a log record does (the op field of storage/wal.h). Pinned: these
 * numbers are in every log on disk. */
enum brain_change_op {
	BRAIN_CHANGE_STORE = 1,  /* brain_record_store, vector, then text */
	BRAIN_CHANGE_BATCH = 2,  /* brain_record_batch, ids, then the caller's rows */
	BRAIN_CHANGE_FORGET = 3, /* the id (u64) */
	BRAIN_CHANGE_UPDATE = 4, /* brain_record_update, the stored vector */
	BRAIN_CHANGE_STRENGTHEN = 5, /* brain_record_strengthen */
	BRAIN_CHANGE_META = 6,      /* brain_record_meta, then the blob */
	BRAIN_CHANGE_RELATE = 7,    /* brain_record_relate, then the verb */
	BRAIN_CHANGE_UNRELATE = 8,  /* brain_record_relate (weight 0), then the verb */
	BRAIN_CHANGE_REPLACE = 9,   /* brain_record_replace, then vector, text, blob */
	BRAIN_CHANGE_DOCUMENT = 10  /* brain_record_document, then old ids, spans,
	                               vectors, key, text, blob */
};

/* What a REPLACE record carries (brain_record_replace.flags). */
enum {
	BRAIN_REPLACE_TEXT = 1,       /* a new text and its vector */
	BRAIN_REPLACE_IMPORTANCE = 2, /* a new importance */
	BRAIN_REPLACE_META = 4        /* the metadata, whole (meta_len 0: none) */
};

/* Payload heads of log records (little-endian, as written). */
typedef struct brain_record_store {
	uint64_t id;
	int64_t created_ms;
	float importance;
	uint32_t text_len;   /* UINT32_MAX: no text */
	uint32_t dimensions;
	uint32_t meta_len;   /* 0: no metadata; else a blob of this many bytes
	                        after the text (base/meta.h) */
} brain_record_store;

/* A memory's metadata replaced: the blob that is now all of it (a patch
 * is logged as its result), len 0 for none. */
typedef struct brain_record_meta {
	uint64_t id;
	uint32_t len;
	uint32_t reserved;
} brain_record_meta;

/* A memory changed in place (update, or a put under its key): a new text
 * (the memory moves to a new slot, keeping its id, created time and
 * relations), importance or metadata, as flags say. */
typedef struct brain_record_replace {
	uint64_t id;
	float importance;    /* with BRAIN_REPLACE_IMPORTANCE */
	uint32_t flags;
	uint32_t text_len;   /* with BRAIN_REPLACE_TEXT: the text's bytes (then a NUL) */
	uint32_t dimensions; /* with BRAIN_REPLACE_TEXT, else 0 */
	uint32_t meta_len;   /* with BRAIN_REPLACE_META: the blob's bytes */
	uint32_t reserved;
} brain_record_replace;

/* A document remembered under its key: its passages (spans of its text,
 * as u64 start and length pairs), stored with ids first_id + i, and the
 * passages of the document it replaces, forgotten. One record: after a
 * crash the document is whole, as before or as after. */
typedef struct brain_record_document {
	uint64_t first_id;
	int64_t created_ms;
	uint64_t text_len;
	float importance;
	uint32_t dimensions;
	uint32_t n;        /* passages */
	uint32_t n_old;    /* passages forgotten */
	uint32_t key_len;
	uint32_t meta_len; /* the caller's fields, every passage's */
} brain_record_document;

typedef struct brain_record_update {
	uint64_t id;
	uint32_t dimensions;
	uint32_t reserved;
} brain_record_update;

/* An edge between memories: relate (set its weight) or unrelate
 * (verb_len UINT32_MAX: every verb from -> to; weight 0). */
typedef struct brain_record_relate {
	uint64_t from;
	uint64_t to;
	float weight;
	uint32_t verb_len;
} brain_record_relate;

/* A remembered text nearly the same as a memory strengthened that memory
 * instead (MERGE_SIMILAR): its importance and access time now. */
typedef struct brain_record_strengthen {
	uint64_t id;
	int64_t accessed_ms;
	float importance;
	uint32_t reserved;
} brain_record_strengthen;

typedef struct brain_record_batch {
	uint64_t n;
	uint32_t dimensions;
	uint32_t reserved;
} brain_record_batch;

/* One change, as the api (or a replayed record) describes it. Pointers
 * are borrowed for the call. */
typedef struct brain_change {
	int op; /* enum brain_change_op */
	union {
		/* remember and add: a memory (STORE) */
		struct {
			brain_id id;              /* BRAIN_ID_NONE: the next id */
			const char *text;         /* NULL: a vector without text */
			size_t len;
			const float *vector;      /* prepared (brain__vector_prepare) */
			float importance;
			int64_t created_ms;       /* 0: now; out: the time recorded */
			const uint64_t *features; /* the text's, from EMBED; may be NULL */
			size_t nfeatures;
			bool check_epoch;         /* the vector came from the brain's embedder */
			uint64_t epoch;           /* ... of this epoch */
			const void *meta;         /* a checked metadata blob, or NULL */
			size_t meta_len;
			const uint64_t *terms;    /* the text's keyword terms, from EMBED;
			                             may be NULL */
			size_t nterms;
		} store;
		/* add_batch: the caller's rows, prepared by the Hippocampus */
		struct {
			const uint64_t *ids;
			const float *vectors;
			size_t n;
		} batch;
		struct {
			brain_id id;
		} forget;
		struct {
			brain_id id;
			const float *vector; /* prepared */
		} update;
		struct {
			brain_id id;
			float importance;
			int64_t accessed_ms;
		} strengthen;
		/* relate (weight) or unrelate (verb NULL: every verb) */
		struct {
			brain_id from, to;
			const char *verb;
			size_t len;
			float weight;
		} relate;
		/* update a memory, or put one under a key */
		struct brain_change_replace {
			brain_id id;        /* BRAIN_ID_NONE with key: the key's memory */
			const char *key;    /* NUL-terminated, or NULL; a key no memory
			                       holds makes the change a STORE of a new one */
			const char *text;   /* NULL: the text stays */
			size_t len;
			const float *vector; /* with text: prepared */
			const uint64_t *features; /* the text's, from EMBED; may be NULL */
			size_t nfeatures;
			const uint64_t *terms;
			size_t nterms;
			bool check_epoch;
			uint64_t epoch;
			bool set_importance;
			float importance;
			bool set_meta;      /* meta (NULL: none) replaces the memory's */
			const void *meta;
			size_t meta_len;
			bool keep_reserved; /* ... keeping the memory's '@' fields */
			bool caller;        /* a caller's update: '@' fields only as they are */
		} replace;
		/* a document: passages stored, the old ones forgotten */
		struct {
			const char *key;
			size_t key_len;
			const char *text;
			size_t len;
			const uint64_t *spans;   /* n (start, len) pairs */
			size_t n;
			const float *vectors;    /* n rows, prepared */
			const uint64_t *const *terms; /* n lists, or NULL */
			const size_t *nterms;
			float importance;
			int64_t created_ms;      /* 0: now; out: the time recorded */
			const void *meta;        /* the caller's fields (a checked blob), or NULL */
			size_t meta_len;
			bool check_epoch;
			uint64_t epoch;
			brain_id first_id;       /* BRAIN_ID_NONE: the next; out: the first's */
			const uint64_t *old;     /* replayed: the passages forgotten */
			size_t n_old;
		} doc;
		/* set or patch a memory's metadata */
		struct {
			brain_id id;
			const void *blob; /* checked; NULL: remove it all */
			size_t len;
			bool patch;       /* blob is a merge patch (base/meta.h) */
			bool keep_reserved; /* a set that keeps the memory's '@' fields */
			bool caller;        /* a caller's set or patch: '@' fields only as they are */
		} meta;
	} u;
	brain_id out_id; /* out: the memory's id (STORE) */
	/* The caller waits for durability itself, once for many changes
	 * (brain__change_commit with the last out_lsn): the Stomach's batches. */
	bool defer_commit;
	uint64_t out_lsn; /* out: the change's log sequence number (0: none) */
} brain_change;

/* Wait for the durability the sync mode promises for every change up to
 * `lsn` (0: nothing to wait for). */
int brain__change_commit(brain_t *b, uint64_t lsn);

/* brain__change_make's answer when a STORE's vector came from an embedder
 * that was replaced meanwhile (check_epoch): embed again and retry. Never
 * reaches a caller. */
#define BRAIN_CHANGE_STALE 1

/* Make one change: take the write lock, prepare, apply and log (or log and
 * apply), undo on failure, unlock, then wait for the durability the sync
 * mode promises. Returns 0, BRAIN_CHANGE_STALE, or the first error (the
 * brain is as before, except after a failed wait for durability: then the
 * change is made and logged but may not be durable). */
int brain__change_make(brain_t *b, brain_change *c);

/* A remember of text (`len` bytes, checked): embedded by the brain's
 * embedder, or `vector` (the caller's, NULL for none) prepared, then made
 * as a STORE change (a STRENGTHEN of the memory there with MERGE_SIMILAR),
 * embedded again if the embedder was replaced meanwhile; `meta` (a checked
 * blob, or NULL) is the memory's metadata. What brain_remember,
 * the Stomach's digester and the Circadian's consolidation of working
 * memory make. *c is filled here; `defer` is its defer_commit. On return
 * c->op says which change was made, c->out_id the memory's id and
 * c->out_lsn its record. Returns 0 or the first error (embedder, vector,
 * change_make's); no lock held; the Heart is not kicked (the caller does). */
int brain__change_remember(brain_t *b, const char *text, size_t len, const float *vector,
                           float importance, const void *meta, size_t meta_len, bool defer,
                           brain_change *c);

/* brain__change_remember with the text's vector made already by the
 * brain's embedder at `epoch` (EMBED_MANY, a batch on all cores): taken as
 * EMBED's would be, and made again if the embedder was replaced since. */
int brain__change_remember_embedded(brain_t *b, const char *text, size_t len,
                                    const float *embedded, uint64_t epoch, float importance,
                                    const void *meta, size_t meta_len, bool defer,
                                    brain_change *c);

/* A REPLACE change (c filled but for the vector and what the embedding
 * gives): a new text with the caller's `vector` (prepared here), or
 * embedded by the brain's embedder (vector NULL), and embedded again if
 * the embedder was replaced meanwhile; without a text, made as it is.
 * On return c->op says which change was made (a put under a key no
 * memory holds is a STORE), c->out_id the memory's id. Returns 0 or the
 * first error; no lock held; the Heart is not kicked. */
int brain__change_update(brain_t *b, brain_change *c, const float *vector);

/* The ids of the memories in a slot set of n (FILTER_EVAL's, under the
 * caller's lock), in slot order, into *out (brain__malloc'ed; the caller
 * frees it). 0 or BRAIN_ENOMEM. */
int brain__ids_of(brain_t *b, const struct brain_slotset *set, uint64_t n, brain_id **out);

/* Replay one log record (a brain_wal_apply_fn; payload is the brain): the
 * record decoded into a change, applied as brain__change_make would,
 * without logging. The caller holds the write lock. BRAIN_ECORRUPT for a
 * record that cannot be what a change logged. */
int brain__change_replay(void *payload, uint32_t op, uint64_t lsn, const void *data,
                         size_t len);

#endif /* BRAIN_ENGINE_CHANGE_H */
