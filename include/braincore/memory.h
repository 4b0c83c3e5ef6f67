/*
 * braincore/memory.h - remembering, recalling and thinking over text.
 *
 * A memory is a text with an importance in [0, 1], creation and last-access
 * times, an id and a vector. Text must be valid UTF-8, non-empty and no
 * longer than the brain's max_text_bytes; invalid text is refused with an
 * error, never repaired or cut.
 *
 * Recall ranks memories by score:
 *
 *     score = similarity * (1 + w * (importance - 0.5))
 *
 * where similarity is the cosine similarity of query and memory vectors
 * (1 - distance for BRAIN_METRIC_COSINE and BRAIN_METRIC_IP, 1 - distance/2
 * for BRAIN_METRIC_L2, which equals the cosine for unit vectors such as the
 * built-in embedder's) and w is BRAIN_PARAM_RECALL_IMPORTANCE_WEIGHT / 1000
 * (default 0.2: importance moves a score by at most 10% either way). Only
 * memories whose score is above BRAIN_PARAM_RECALL_MIN_SCORE / 1000
 * (default 0) are returned. Ties are broken by the smaller id. Text recall
 * only ever returns memories that have text: vectors added with brain_add()
 * are found by brain_search() only. Every memory a recall returns has its
 * access time set to now (also when a think then fails in its generator:
 * the memories were looked at; this is the one change a failed call may
 * leave).
 *
 * Thread-safety: every call here may run concurrently with any other on the
 * same brain (see docs/threading.md). Callbacks (embedder, generator) run on
 * the calling thread, without any brain lock held, and must not close the
 * brain they were called for.
 */
#ifndef BRAINCORE_MEMORY_H
#define BRAINCORE_MEMORY_H

#include "common.h"
#include "filter.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Results of a recall, a think or a get: an immutable list of memories, best
 * first, that owns copies of everything it shows. Released with
 * brain_results_free(). Safe to read from several threads at once.
 */
typedef struct brain_results brain_results;

/* ------------------------------------------------------------------------ */
/* Seed API: these exact signatures compile code written for Brain Core.     */
/* ------------------------------------------------------------------------ */

/**
 * Remember a text with an importance in [0, 1]. The brain assigns the id
 * (use brain_remember_ex() to learn it).
 *
 * Returns 0 or: BRAIN_ENULL (b or text NULL), BRAIN_EEMPTY (text empty, or,
 * for the built-in embedder, nothing but spaces and punctuation: a user
 * embedder decides for itself), BRAIN_EUTF8, BRAIN_ETOOLONG,
 * BRAIN_ERANGE (importance outside [0, 1] or NaN), BRAIN_ENOEMBEDDER,
 * BRAIN_EEMBEDDER, BRAIN_EDIM, BRAIN_ENONFINITE, BRAIN_EZEROVEC (from a user
 * embedder's vector), BRAIN_EFULL, BRAIN_ENOMEM; for an on-disk brain also
 * BRAIN_EREADONLY, BRAIN_ENOSPC and BRAIN_EIO (the log could not be
 * written, or an earlier fsync failed), and BRAIN_ECORRUPT (a damaged
 * file read on first use). On error nothing changed, with one exception:
 * BRAIN_EIO from the fsync of BRAIN_SYNC_FULL, after which the change may
 * or may not be there (as in every database; docs/errors.md) and the
 * brain refuses changes until it is reopened.
 * Thread-safe: one brain serves many threads (docs/threading.md).
 */
int brain_remember(brain_t *b, const char *text, float importance);

/**
 * The texts of the top_k memories most relevant to `query`, best first, as a
 * NULL-terminated array. The array and all its strings are ONE allocation
 * made with malloc(): release everything with brain_strings_free(result),
 * or free(result) (the same; bindings that cannot call free() of the C
 * library the library uses call brain_strings_free). Fewer than
 * top_k entries (possibly none: then result[0] is NULL) when fewer memories
 * score above the minimum.
 *
 * Returns NULL on error, with brain_errcode() / brain_errmsg() telling why:
 * BRAIN_ENULL, BRAIN_ERANGE (top_k <= 0), the text errors of
 * brain_remember() for the query, BRAIN_ENOEMBEDDER, BRAIN_EEMBEDDER,
 * BRAIN_EDIM, BRAIN_ENONFINITE, BRAIN_EZEROVEC (a user embedder's vector),
 * BRAIN_ENOMEM.
 * Thread-safe: one brain serves many threads (docs/threading.md).
 */
char **brain_recall(brain_t *b, const char *query, int top_k);

/**
 * Release an array returned by brain_recall() (one allocation: the array
 * and its strings). NULL is a no-op. Thread-safe.
 */
void brain_strings_free(char **strings);

/**
 * Think over `input`: recall the memories relevant to it and compose an
 * answer from them, naming each memory used and how strongly it matches;
 * when nothing scores above BRAIN_PARAM_THINK_MIN_SCORE the answer says the
 * brain does not know. With a generator installed (brain_set_generator())
 * the generator composes the answer instead. The exchange is kept in working
 * memory, which gives the next think its context (follow-up questions).
 *
 * output, output_size: the answer is written there, NUL-terminated, like
 * snprintf(): if it does not fit, the largest prefix that ends on a whole
 * UTF-8 character is written and the return value is still the length of
 * the full answer, so `ret >= output_size` means "truncated". Use
 * brain_think_ex() to receive the whole answer whatever its size.
 *
 * Returns the length of the full answer in bytes (excluding the NUL), or:
 * BRAIN_ENULL (b, input or output NULL), BRAIN_EBUFSIZE (output_size 0: no
 * room even for the terminating NUL; output_size 1: room for nothing else),
 * the text errors of brain_remember() for input, BRAIN_ENOEMBEDDER,
 * BRAIN_EEMBEDDER, BRAIN_EDIM, BRAIN_ENONFINITE, BRAIN_EZEROVEC (a user
 * embedder's vector), BRAIN_EGENERATOR, BRAIN_ENOMEM, BRAIN_ERANGE (an
 * answer longer than INT_MAX bytes: use brain_think_ex()). Buffer errors
 * are detected before any work is done: nothing enters working memory.
 * Thread-safe: one brain serves many threads (docs/threading.md).
 */
int brain_think(brain_t *b, const char *input, char *output, size_t output_size);

/* ------------------------------------------------------------------------ */
/* Full text API                                                            */
/* ------------------------------------------------------------------------ */

/**
 * Remember `text` with `importance` and, if `vector` is not NULL, that
 * vector (the brain's dimensions, finite) instead of one from the embedder.
 * On success *id_out (if id_out is not NULL) receives the new memory's id.
 * Ids are assigned in increasing order, starting at 1.
 *
 * Returns 0 or the errors of brain_remember(); with a vector, also
 * BRAIN_ENONFINITE and BRAIN_EZEROVEC (cosine metric).
 * Thread-safe: one brain serves many threads (docs/threading.md).
 */
int brain_remember_ex(brain_t *b, const char *text, const float *vector, float importance,
                      brain_id *id_out);

/**
 * Recall into caller buffers: ids[0..k) and, if scores is not NULL,
 * scores[0..k) receive the best memories for `query`; *found the number
 * written (<= k). Same ranking and errors as brain_recall(), with
 * BRAIN_ERANGE for k == 0.
 * Returns 0 or those errors. Thread-safe: one brain serves many threads
 * (docs/threading.md).
 */
int brain_recall_ids(brain_t *b, const char *query, size_t k, brain_id *ids, float *scores,
                     size_t *found);

/**
 * Recall into a results object (*out, release with brain_results_free()),
 * with id, score, text, importance and times of each memory. *out is NULL
 * on error. Same ranking and errors as brain_recall_ids().
 * Returns 0 or those errors. Thread-safe: one brain serves many threads
 * (docs/threading.md).
 */
int brain_recall_results(brain_t *b, const char *query, size_t k, brain_results **out);

/**
 * Remember `text` with `importance` and metadata: a JSON object of typed
 * fields (see braincore/filter.h), e.g.
 * `{"kind":"note","ts":1700000000,"tags":["billing"]}`, or NULL for none.
 * On success *id (if not NULL) receives the new memory's id. A memory with
 * metadata is never merged into another (MERGE_SIMILAR).
 *
 * Returns 0 or the errors of brain_remember(); BRAIN_EJSON (not a JSON
 * object of supported values: the byte offset and the field in
 * brain_errmsg()), BRAIN_ETOOLONG (metadata over 64 KiB, a name over 128
 * bytes, over 256 fields or 4096 list items), BRAIN_ETYPE (a value of
 * another type than the field holds in this brain). Nothing is stored on
 * error. Thread-safe: one brain serves many threads (docs/threading.md).
 */
int brain_remember_with(brain_t *b, const char *text, float importance,
                        const char *metadata_json, uint64_t *id);

/**
 * brain_remember_with() of a text of `text_len` bytes that need not end
 * in a NUL: every byte is the text's (an embedded NUL is BRAIN_EUTF8 at its
 * offset, never an end where the text is cut).
 * Returns 0 or the errors of brain_remember_with(); BRAIN_EEMPTY for
 * text_len 0. Thread-safe: one brain serves many threads
 * (docs/threading.md).
 */
int brain_remember_n(brain_t *b, const char *text, size_t text_len, float importance,
                     const char *metadata_json, uint64_t *id);

/**
 * Every part of a memory in one call, made as one change: a text of
 * `text_len` bytes (as brain_remember_n()), the caller's `vector` of the
 * brain's dimensions (NULL: the embedder's), `importance` and metadata
 * (NULL: none). For bindings and for callers who embed text themselves and
 * keep metadata with it, where brain_remember_ex() then
 * brain_set_metadata() would be two changes another thread could see
 * between.
 * Returns 0 or the errors of brain_remember_n() and brain_remember_ex()
 * (BRAIN_ENONFINITE, BRAIN_EZEROVEC for the vector). Nothing is stored on
 * error. Thread-safe: one brain serves many threads (docs/threading.md).
 */
int brain_remember_full(brain_t *b, const char *text, size_t text_len, const float *vector,
                        float importance, const char *metadata_json, uint64_t *id);

/**
 * brain_recall() of the memories whose metadata passes `filter`, a filter
 * text (braincore/filter.h). When at least top_k memories pass (and score
 * above RECALL_MIN_SCORE), exactly top_k come back. Same ownership as
 * brain_recall().
 * Returns the array (result[0] is NULL when nothing passes), or NULL on
 * error: the errors of brain_recall(), BRAIN_ENULL for a NULL filter,
 * BRAIN_EFILTER (a syntax error, with the byte position and what was
 * expected in brain_errmsg(); a value that cannot compare with its field's
 * type), BRAIN_EUTF8, BRAIN_ETOOLONG (the filter text). Thread-safe: one
 * brain serves many threads (docs/threading.md).
 */
char **brain_recall_where(brain_t *b, const char *query, const char *filter, int top_k);

/**
 * brain_recall_results() of the memories whose metadata passes `filter`
 * (built or parsed, braincore/filter.h; not NULL).
 * Returns 0 or the errors of brain_recall_results(); BRAIN_EFILTER when a
 * condition's value cannot compare with its field's type. Thread-safe:
 * one brain serves many threads (docs/threading.md).
 */
int brain_recall_filter(brain_t *b, const char *query, size_t k, const brain_filter *filter,
                        brain_results **out);

/** How a recall ranks (brain_recall_mode()). Pinned values. */
enum brain_recall_kind {
	/** by meaning: the embedder's vectors (brain_recall()'s ranking) */
	BRAIN_SEMANTIC = 0,
	/** by words: BM25 over the memories' normalised words (the same words
	 *  the built-in embedder sees); a "quoted phrase" in the query must
	 *  appear in a memory as such. Scores are BM25's (positive; higher is
	 *  better; not comparable between queries). Needs no embedder. */
	BRAIN_KEYWORD = 1,
	/** both, fused by reciprocal rank: score = w / (60 + keyword rank) +
	 *  (1 - w) / (60 + semantic rank) over the 50 (or k) best of each,
	 *  w = BRAIN_PARAM_HYBRID_KEYWORD_WEIGHT / 1000 */
	BRAIN_HYBRID = 2
};

/**
 * Recall the k best memories with text for `query`, ranked by `mode`
 * (enum brain_recall_kind), among those whose metadata passes `filter`
 * unless it is NULL, into *out (NULL on error).
 * Returns 0 or the errors of brain_recall_filter(); BRAIN_ERANGE for an
 * unknown mode. Thread-safe: one brain serves many threads
 * (docs/threading.md).
 */
int brain_recall_mode(brain_t *b, const char *query, size_t k, int mode,
                      const brain_filter *filter, brain_results **out);

/**
 * Replace the metadata of memory `id` with `metadata_json` (NULL or "{}":
 * none). Logged as one change. The memory keeps the library's fields
 * (names starting with '@': its key, document, validity times); metadata
 * read with brain_get_metadata() and written back may carry them, but
 * only with the values the memory has (BRAIN_EJSON otherwise: read it
 * again if brain_set_valid() or brain_supersede() changed them since), and
 * so may the metadata of brain_patch_metadata() and brain_update().
 * Returns 0, BRAIN_ENULL, BRAIN_ENOTFOUND, BRAIN_EJSON, BRAIN_ETOOLONG,
 * BRAIN_ETYPE, BRAIN_EREADONLY, BRAIN_ENOMEM, BRAIN_EIO, BRAIN_ENOSPC
 * (the memory keeps its metadata on any error). Thread-safe: one brain
 * serves many threads (docs/threading.md).
 */
int brain_set_metadata(brain_t *b, brain_id id, const char *metadata_json);

/**
 * Merge `patch_json` into the metadata of memory `id` (RFC 7386 on a flat
 * object: each member replaces the field of its name, a null removes it,
 * fields not named stay). Made under the write lock, so concurrent patches
 * never lose each other's fields; logged as its result.
 * Returns 0 or the errors of brain_set_metadata(). Thread-safe: one brain
 * serves many threads (docs/threading.md).
 */
int brain_patch_metadata(brain_t *b, brain_id id, const char *patch_json);

/**
 * Write the metadata of memory `id` as a JSON object ("{}" for none) into
 * buf (snprintf's contract: at most size bytes with the NUL; buf may be
 * NULL when size is 0); *len (if not NULL) receives the length it needs
 * without the NUL.
 * Returns 0, BRAIN_EBUFSIZE (buf holds "" if size >= 1; *len says how much
 * is needed), BRAIN_ENULL, BRAIN_ENOTFOUND. Thread-safe: one brain serves
 * many threads (docs/threading.md).
 */
int brain_get_metadata(brain_t *b, brain_id id, char *buf, size_t size, size_t *len);

/**
 * Count the memories whose metadata passes `filter` into *count (exact).
 * Returns 0, BRAIN_ENULL, BRAIN_EFILTER (a value that cannot compare with
 * its field's type), BRAIN_ENOMEM. Thread-safe: one brain serves many
 * threads (docs/threading.md).
 */
int brain_count_where(brain_t *b, const brain_filter *filter, uint64_t *count);

/**
 * Remember n texts (each NUL-terminated) with one importance and, if
 * metadata_json is not NULL, metadata_json[i] for text i (NULL: none).
 * Every text and every metadata is checked before any is remembered, so a
 * bad one (its index in brain_errmsg()) changes nothing; the memories are
 * then made one by one and made durable once, at the end. ids (if not
 * NULL, n entries) receives each memory's id (BRAIN_ID_NONE for those not
 * made after a failure of the disk or memory, which leaves those before).
 * Returns 0 or the errors of brain_remember_with(). Thread-safe: one brain
 * serves many threads (docs/threading.md).
 */
int brain_remember_batch(brain_t *b, const char *const *texts, size_t n, float importance,
                         const char *const *metadata_json, uint64_t *ids);

/**
 * brain_recall_filter() (filter may be NULL) of n queries, each into
 * out[i]; on error every out[i] is NULL.
 * Returns 0 or the errors of brain_recall_filter(). Thread-safe: one brain
 * serves many threads (docs/threading.md).
 */
int brain_recall_batch(brain_t *b, const char *const *queries, size_t n, size_t k,
                       const brain_filter *filter, brain_results **out);

/** No bound, for brain_set_valid(). */
#define BRAIN_TIME_NONE INT64_MIN

/**
 * Say when memory `id` is valid: from `valid_from_ms` until (not
 * including) `valid_until_ms`, milliseconds since the Unix epoch, either
 * BRAIN_TIME_NONE for no bound on that side. Kept as the reserved metadata
 * fields "@valid_from" and "@valid_until" (a caller's metadata may not name
 * fields with '@'; brain_set_metadata() keeps them), filtered by
 * brain_filter_valid_at(). A memory with neither is valid at all times.
 * Returns 0, BRAIN_ENULL, BRAIN_ERANGE (from not before until),
 * BRAIN_ENOTFOUND, BRAIN_EREADONLY, BRAIN_ENOMEM, BRAIN_EIO, BRAIN_ENOSPC.
 * Thread-safe: one brain serves many threads (docs/threading.md).
 */
int brain_set_valid(brain_t *b, brain_id id, int64_t valid_from_ms, int64_t valid_until_ms);

/**
 * Memory `new_id` supersedes `old_id` at `at_ms` (0: now): the old one
 * stays, no longer valid from then (its "@valid_until"), and the new one
 * relates to it by the verb "supersedes" (braincore/relations.h). Two
 * logged changes, each durable, the relation first: a failure or a crash
 * between them leaves the relation alone (call again to finish).
 * Returns 0, BRAIN_ENULL, BRAIN_EINVAL (the same memory), BRAIN_ERANGE
 * (at_ms BRAIN_TIME_NONE, or not after the old memory's valid-from),
 * BRAIN_ENOTFOUND (either missing), BRAIN_EREADONLY, BRAIN_ENOMEM,
 * BRAIN_EIO, BRAIN_ENOSPC (nothing changed on any of these before the
 * first change). Thread-safe: one brain serves many threads
 * (docs/threading.md).
 */
int brain_supersede(brain_t *b, brain_id old_id, brain_id new_id, int64_t at_ms);

/**
 * Forget every memory whose metadata passes `filter` when the call
 * evaluates it (each a logged forget, made durable once at the end; a
 * memory changed by another writer meanwhile is forgotten all the same);
 * *forgotten (if not NULL) receives how many.
 * Returns 0, BRAIN_ENULL, BRAIN_EFILTER, BRAIN_EREADONLY, BRAIN_ENOMEM,
 * BRAIN_EIO, BRAIN_ENOSPC (those forgotten before the error stay
 * forgotten; *forgotten counts them). Thread-safe: one brain serves many
 * threads (docs/threading.md).
 */
int brain_forget_where(brain_t *b, const brain_filter *filter, uint64_t *forgotten);

/**
 * A page of the memories (those whose metadata passes `filter`, or all
 * with NULL), in increasing id order: at most `max` of those with an id
 * above `after` (BRAIN_ID_NONE: from the first), into *out (NULL on
 * error). To walk them all, pass the last id of a page as the next
 * page's `after` until a page is empty. Each page sees the brain as it is
 * then, and costs a pass over what the filter passes (O(n) per page).
 * Returns 0, BRAIN_ENULL, BRAIN_ERANGE (max 0), BRAIN_EFILTER,
 * BRAIN_ENOMEM. Thread-safe: one brain serves many threads
 * (docs/threading.md).
 */
int brain_list(brain_t *b, const brain_filter *filter, brain_id after, size_t max,
               brain_results **out);

/**
 * Like brain_think(), but the whole answer and the memories it used come
 * back in *out: brain_results_answer(*out) is the answer, and the entries
 * are the memories it drew on, best first (none when the brain did not
 * know). Release with brain_results_free(). Errors as brain_think(), without
 * the buffer ones.
 * Returns 0 or those errors. Thread-safe: one brain serves many threads
 * (docs/threading.md).
 */
int brain_think_ex(brain_t *b, const char *input, brain_results **out);

/**
 * Get one memory by id: *out receives a results object with one entry whose
 * score is 1 (the memory itself). Does not change the access time.
 * Returns 0, BRAIN_ENULL, BRAIN_ENOTFOUND or BRAIN_ENOMEM.
 * Thread-safe: one brain serves many threads (docs/threading.md).
 */
int brain_get(brain_t *b, brain_id id, brain_results **out);

/** brain_update()'s importance that leaves a memory's importance as it is. */
#define BRAIN_KEEP_IMPORTANCE (-1.0f)

/**
 * Change memory `id` in place, all at once or not at all: its text (NULL:
 * it stays; else `text_len` bytes with `vector`, the caller's embedding
 * of it, or NULL: embedded by the brain's embedder; its keyword postings
 * and word statistics follow), its importance (BRAIN_KEEP_IMPORTANCE: it
 * stays) and its metadata (NULL: it stays; else the JSON object replaces
 * the caller's fields, as brain_set_metadata(); the library's '@' fields
 * stay). The memory keeps its id, created time and relations. One logged
 * change: after a crash the memory is as before or as after.
 * Returns 0, BRAIN_ENULL, BRAIN_EEMPTY (text_len 0), BRAIN_ETOOLONG,
 * BRAIN_EUTF8, BRAIN_ERANGE (importance), BRAIN_EJSON, BRAIN_ETYPE,
 * BRAIN_ENOTFOUND, BRAIN_EINVAL (a text for a vector without text:
 * brain_update_vector(); a vector without a text), BRAIN_ENONFINITE,
 * BRAIN_EZEROVEC (vector), BRAIN_ENOEMBEDDER, BRAIN_EEMBEDDER (a text
 * without a vector), BRAIN_EREADONLY, BRAIN_EFULL (memory budget),
 * BRAIN_ENOMEM, BRAIN_EIO, BRAIN_ENOSPC; nothing changes on error.
 * Thread-safe: one brain serves many threads (docs/threading.md).
 */
int brain_update(brain_t *b, uint64_t id, const char *text, size_t text_len, const float *vector,
                 float importance, const char *metadata_json);

/** Longest key of brain_upsert(), in bytes. */
#define BRAIN_KEY_MAX 1024

/**
 * Remember `text` (`text_len` bytes; `vector` the caller's embedding of
 * it, or NULL: the brain's embedder) under the caller's `key` (1..
 * BRAIN_KEY_MAX bytes of UTF-8, NUL-terminated): if a memory has the key,
 * it is replaced as by brain_update() with the text, importance and
 * metadata (NULL: none of the caller's) and keeps its id; otherwise a
 * new memory holds the key. One memory per key, whatever the threads:
 * the key is looked up under the write lock. The key is kept as the
 * reserved metadata field "@key" (filter on it: `@key` = "..."; read it
 * back with brain_results_key()). *id (if not NULL) receives the
 * memory's id.
 * Returns 0, BRAIN_ENULL, BRAIN_EEMPTY (key or text), BRAIN_ETOOLONG,
 * BRAIN_EUTF8, BRAIN_ERANGE, BRAIN_EJSON, BRAIN_ETYPE, BRAIN_ENONFINITE,
 * BRAIN_EZEROVEC, BRAIN_ENOEMBEDDER, BRAIN_EEMBEDDER, BRAIN_EREADONLY,
 * BRAIN_EFULL (max_memories for a new key, memory budget),
 * BRAIN_ENOMEM, BRAIN_EIO, BRAIN_ENOSPC; nothing changes on error.
 * Thread-safe: one brain serves many threads (docs/threading.md).
 */
int brain_upsert(brain_t *b, const char *key, const char *text, size_t text_len,
                 const float *vector, float importance, const char *metadata_json,
                 uint64_t *id);

/**
 * The id of the memory that has `key` (brain_upsert()) in *id.
 * Returns 0, BRAIN_ENULL, BRAIN_EEMPTY, BRAIN_ETOOLONG, BRAIN_EUTF8,
 * BRAIN_ENOTFOUND (no memory has it), BRAIN_ENOMEM. Thread-safe: one
 * brain serves many threads (docs/threading.md).
 */
int brain_key_id(brain_t *b, const char *key, uint64_t *id);

/**
 * Forget the memory that has `key`, as brain_forget().
 * Returns 0 or the errors of brain_key_id() and brain_forget().
 * Thread-safe: one brain serves many threads (docs/threading.md).
 */
int brain_forget_key(brain_t *b, const char *key);

/**
 * Forget a memory (text or vector) for good: it is no longer found, counted
 * or returned, and its id may be given again by brain_add(). Returns 0,
 * BRAIN_ENULL, BRAIN_ENOTFOUND, BRAIN_ENOMEM (analysing the text for the
 * word statistics of the built-in embedder); for an on-disk brain also
 * BRAIN_EREADONLY, BRAIN_ENOSPC, BRAIN_EIO and BRAIN_ECORRUPT. On error
 * the memory stays, in memory, in the log and after a crash, with
 * brain_remember()'s one exception (BRAIN_EIO from a FULL-mode fsync).
 * Thread-safe: one brain serves many threads (docs/threading.md).
 */
int brain_forget(brain_t *b, brain_id id);

/**
 * A user embedder: write the vector for `text` (valid UTF-8, text_len bytes,
 * NUL-terminated) into vector[0..dimensions) and return the number of
 * dimensions it produces, which must equal `dimensions` (the brain's). A
 * negative return is an error of the embedder's own; the brain reports
 * BRAIN_EEMBEDDER with that number in the message.
 */
typedef int (*brain_embed_fn)(const char *text, size_t text_len, float *vector,
                              size_t dimensions, void *payload);

/**
 * Install a user embedder for the brain's text calls, or with fn NULL go
 * back to the embedder the brain was opened with. The embedder is checked at
 * once on a probe text: it must return the brain's dimensions and a finite
 * vector. Vectors from different embedders do not mix, so the embedder can
 * only be changed while the brain is empty.
 *
 * Returns 0 or: BRAIN_ENULL (b NULL), BRAIN_ESTATE (the brain holds
 * memories), BRAIN_EDIM (the probe returned another dimension),
 * BRAIN_EEMBEDDER (the probe failed), BRAIN_ENONFINITE, BRAIN_EZEROVEC
 * (the probe's vector), BRAIN_ENOMEM. `payload` is passed to every call and must outlive
 * the brain or the next brain_set_embedder().
 * Thread-safe: one brain serves many threads (docs/threading.md). The probe
 * runs with no brain lock held.
 */
int brain_set_embedder(brain_t *b, brain_embed_fn fn, void *payload);

/**
 * A user generator composes the answer of a think: it receives the input
 * and the recalled memories (borrowed, valid during the call; possibly
 * none), writes a non-empty, NUL-terminated UTF-8 answer into
 * output[0..output_size) and returns its length, or a negative number for
 * an error of its own. output_size is the brain's max_text_bytes + 1: an
 * answer that does not fit is an error, never cut. An empty answer, a
 * length that does not match what was written, or invalid UTF-8 make the
 * think fail with BRAIN_EGENERATOR.
 */
typedef int (*brain_generate_fn)(const char *input, const brain_results *memories,
                                 char *output, size_t output_size, void *payload);

/**
 * Install a generator for brain_think() (NULL restores the built-in
 * composition). Returns 0 or BRAIN_ENULL. The generator runs without brain
 * locks held, so a slow model does not block other threads.
 */
int brain_set_generator(brain_t *b, brain_generate_fn fn, void *payload);

/* ------------------------------------------------------------------------ */
/* Results objects                                                          */
/* ------------------------------------------------------------------------ */

/**
 * Number of entries (0 for NULL). Returns the count. Thread-safe (results
 * objects are immutable).
 */
size_t brain_results_count(const brain_results *r);

/**
 * Id of entry i; BRAIN_ID_NONE if r is NULL or i out of range. Returns the
 * id. Thread-safe (results objects are immutable).
 */
brain_id brain_results_id(const brain_results *r, size_t i);

/**
 * Score of entry i (see the top of this header); NaN if out of range.
 * Returns the score. Thread-safe (results objects are immutable).
 */
float brain_results_score(const brain_results *r, size_t i);

/**
 * Text of entry i, NUL-terminated, owned by r (lives until
 * brain_results_free()). NULL if out of range or the memory has no text.
 * Returns the borrowed text. Thread-safe (results objects are immutable).
 */
const char *brain_results_text(const brain_results *r, size_t i);

/**
 * Length in bytes of brain_results_text(r, i); 0 if none. Returns the
 * length. Thread-safe (results objects are immutable).
 */
size_t brain_results_text_len(const brain_results *r, size_t i);

/**
 * Importance of entry i in [0, 1]; NaN if out of range. Returns the
 * importance. Thread-safe (results objects are immutable).
 */
float brain_results_importance(const brain_results *r, size_t i);

/**
 * Creation time of entry i, milliseconds since the Unix epoch; 0 if out of
 * range. Returns the time. Thread-safe (results objects are immutable).
 */
int64_t brain_results_created(const brain_results *r, size_t i);

/**
 * Last access time of entry i (the recall that returned it, or creation),
 * milliseconds since the Unix epoch; 0 if out of range.
 * Thread-safe (results objects are immutable).
 */
int64_t brain_results_accessed(const brain_results *r, size_t i);

/**
 * Metadata of entry i as a JSON object, NUL-terminated, owned by r; "{}"
 * for a memory without metadata, NULL if out of range.
 * Returns the borrowed JSON. Thread-safe (results objects are immutable).
 */
const char *brain_results_metadata(const brain_results *r, size_t i);

/**
 * The key of entry i's memory (brain_upsert()), NUL-terminated, owned by
 * r; NULL for a memory without one, or i out of range.
 * Returns the borrowed key. Thread-safe (results objects are immutable).
 */
const char *brain_results_key(const brain_results *r, size_t i);

/**
 * The key of the document entry i is a passage of
 * (brain_remember_document()), NUL-terminated, owned by r; NULL for a
 * memory that is not a passage, or i out of range.
 * Returns the borrowed key. Thread-safe (results objects are immutable).
 */
const char *brain_results_document(const brain_results *r, size_t i);

/** Version of struct brain_result this header declares (brain_results_read()). */
#define BRAIN_RESULT_VERSION 1

/**
 * One entry of a results object, as brain_results_read() copies it: what
 * the brain_results_* accessors above return one call each. Pointers are
 * borrowed from the results object (valid until brain_results_free()).
 * Fields are only ever appended, in a new BRAIN_RESULT_VERSION.
 */
typedef struct brain_result {
	brain_id id;
	float score;          /**< brain_results_score() */
	float importance;
	int64_t created_ms;   /**< Unix milliseconds */
	int64_t accessed_ms;
	const char *text;     /**< NUL-terminated; NULL for a memory without text */
	size_t text_len;      /**< bytes of text, without the NUL */
	const char *metadata; /**< JSON object, "{}" for none (never NULL) */
	const char *key;      /**< brain_results_key(), or NULL */
	const char *document; /**< brain_results_document(), or NULL */
} brain_result;

/**
 * Copy entries first .. first + n - 1 of r into out[0 .. n - 1] in one call
 * (for bindings, where each call costs more than the copy). `version` is
 * the BRAIN_RESULT_VERSION the caller was built with: out holds n structs
 * of that version's size. *filled (if not NULL) receives how many entries
 * were in range (0 when first >= the count).
 * Returns 0, BRAIN_ENULL (r NULL, or out NULL with n > 0), BRAIN_EVERSION
 * (a version this library does not know). Thread-safe (results objects
 * are immutable).
 */
int brain_results_read(const brain_results *r, size_t first, size_t n, unsigned int version,
                       brain_result *out, size_t *filled);

/**
 * The answer, for results from brain_think_ex(); NULL for other results.
 * Owned by r.
 * Returns the borrowed answer. Thread-safe (results objects are immutable).
 */
const char *brain_results_answer(const brain_results *r);

/**
 * Release a results object. NULL is a no-op. Returns nothing. Not
 * thread-safe with other calls on the same r.
 */
void brain_results_free(brain_results *r);

#ifdef __cplusplus
}
#endif

#endif /* BRAINCORE_MEMORY_H */
