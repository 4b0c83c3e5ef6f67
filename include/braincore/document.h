/*
 * braincore/document.h - long texts as documents of passages, and the
 * chunker that cuts them.
 *
 * Part of the public API of libbraincore. Compiles alone as C11 and as C++.
 *
 * A document is a long text remembered under a key: the chunker cuts it
 * into passages at sentence ends, and each passage is a memory of its
 * own (recalled, filtered, related like any), whose metadata names its
 * document (the reserved field "@doc", the key) and its place in it
 * ("@part", from 0). Remembering a document under a key it already has
 * replaces all its passages at once.
 *
 *     brain_remember_document(b, "handbook.md", text, len, 0.5f,
 *                             "{\"kind\":\"manual\"}", 0, &parts);
 *     brain_recall_filter(b, "how do I reset my password", 5, NULL, &r);
 *     brain_results_document(r, 0);   // "handbook.md"
 */
#ifndef BRAINCORE_DOCUMENT_H
#define BRAINCORE_DOCUMENT_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "memory.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The passage size brain_chunk() uses for max_bytes 0, in bytes. */
#define BRAIN_CHUNK_DEFAULT 1000
/** The smallest and largest passage size brain_chunk() accepts. */
#define BRAIN_CHUNK_MIN 32
#define BRAIN_CHUNK_MAX (1u << 20)

/** A passage of a text: `len` bytes from byte `start`. */
typedef struct brain_span {
	size_t start;
	size_t len;
} brain_span;

/**
 * Cut `text` (`len` bytes of UTF-8) into passages of at most `max_bytes`
 * bytes (0: BRAIN_CHUNK_DEFAULT), the way brain_remember_document() does.
 *
 * The rules, in order:
 * - a passage holds whole sentences, as many as fit: a sentence ends
 *   after '.', '!', '?', an ellipsis or an ideographic full stop (with
 *   any closing quotes or brackets after it) followed by white space or
 *   the end; not after a single capital letter ("J. Smith"), a common
 *   abbreviation (Mr, Mrs, Ms, Dr, Prof, Sr, Jr, St, vs, etc, e.g, i.e,
 *   Fig, Inc, Ltd, approx, cf, al; any case) or "No." before a number;
 *   and always at a blank line;
 * - a paragraph (a blank line) ends a passage that is already half full;
 * - a sentence longer than max_bytes is cut at the last white space that
 *   fits, a word longer than that at the last character that fits (a
 *   UTF-8 sequence is never cut, nor a character from a combining mark
 *   U+0300..U+036F after it when another boundary fits); the rest of the
 *   sentence starts the next passage;
 * - passages carry no white space (ASCII, U+00A0, U+3000) at either end;
 *   text that is all white space has none. Every other byte is in exactly
 *   one passage, in order.
 * Linear in len; allocates nothing.
 *
 * `spans` (may be NULL when cap is 0) receives up to `cap` passages and
 * *n how many the text has (0 after any other error). Returns 0,
 * BRAIN_ENULL (text, n, or spans when cap is not 0),
 * BRAIN_ERANGE (max_bytes outside BRAIN_CHUNK_MIN..BRAIN_CHUNK_MAX, or
 * cap too small: the first cap are filled, *n says how many are needed),
 * BRAIN_EUTF8 (the offset of the first bad byte; an embedded NUL is one).
 * Thread-safe: touches nothing but its arguments.
 */
int brain_chunk(const char *text, size_t len, size_t max_bytes, brain_span *spans, size_t cap,
                size_t *n);

/** Longest document brain_remember_document() takes, in bytes. */
#define BRAIN_DOCUMENT_MAX (256u << 20)

/**
 * Remember `text` (`text_len` bytes of UTF-8, up to BRAIN_DOCUMENT_MAX)
 * as the document `key` (1..BRAIN_KEY_MAX bytes of UTF-8, NUL-terminated):
 * cut by brain_chunk() with `max_bytes` (0: BRAIN_CHUNK_DEFAULT; at most
 * the brain's max_text_bytes), each passage a memory with `importance`,
 * the caller's metadata (NULL: none) and the reserved fields "@doc" (the
 * key) and "@part" (0, 1, ...), with the next ids in order. If the key
 * already has a document, its passages are forgotten in the same change.
 * One logged change: after a crash the document is as before or as
 * after, whole. Memory stays linear in the text: each passage's vector
 * and keyword terms while it is embedded, then what its memory holds.
 * *passages (if not NULL) receives how many.
 * Returns 0, BRAIN_ENULL, BRAIN_EEMPTY (key, or text empty or only white
 * space), BRAIN_ETOOLONG (key or text, or passages so many that the one
 * log record would pass 4 GiB, checked before any is embedded; a record
 * the old passages' ids push past it is BRAIN_ERANGE from the log, and
 * nothing changes), BRAIN_EUTF8 (the offset; a NUL is one),
 * BRAIN_ERANGE (importance, max_bytes), BRAIN_EJSON, BRAIN_ETYPE,
 * BRAIN_EEMBEDDER, BRAIN_ENOEMBEDDER, BRAIN_EBUSY (the embedder was
 * replaced again and again while the passages were embedded),
 * BRAIN_EREADONLY, BRAIN_EFULL (max_memories or the memory budget: the
 * new passages are stored before the old ones go, so both must fit),
 * BRAIN_ENOMEM, BRAIN_EIO, BRAIN_ENOSPC; nothing changes on error.
 * Thread-safe: one brain serves many threads (docs/threading.md).
 */
int brain_remember_document(brain_t *b, const char *key, const char *text, size_t text_len,
                            float importance, const char *metadata_json, size_t max_bytes,
                            size_t *passages);

/**
 * Forget every passage of the document `key`, as brain_forget_where() with
 * `@doc` = key; *forgotten (if not NULL) receives how many (0 when the key
 * has no document).
 * Returns 0 or the errors of brain_key_id()'s key checks and
 * brain_forget_where(). Thread-safe: one brain serves many threads
 * (docs/threading.md).
 */
int brain_forget_document(brain_t *b, const char *key, uint64_t *forgotten);

#ifdef __cplusplus
}
#endif

#endif /* BRAINCORE_DOCUMENT_H */
