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
 *   the end; not after a single capital letter ("J. Smith") or a common
 *   abbreviation ("Dr.", "e.g.", "etc."); and always at a blank line;
 * - a paragraph (a blank line) ends a passage that is already half full;
 * - a sentence longer than max_bytes is cut at the last white space that
 *   fits, a word longer than that at the last character that fits (a
 *   UTF-8 sequence is never cut);
 * - passages carry no white space at either end; text that is all white
 *   space has none. Every other byte is in exactly one passage, in order.
 * Linear in len; allocates nothing.
 *
 * `spans` (may be NULL when cap is 0) receives up to `cap` passages and
 * *n how many the text has. Returns 0, BRAIN_ENULL (text or n),
 * BRAIN_ERANGE (max_bytes outside BRAIN_CHUNK_MIN..BRAIN_CHUNK_MAX, or
 * cap too small: the first cap are filled, *n says how many are needed),
 * BRAIN_EUTF8 (the offset of the first bad byte; an embedded NUL is one).
 * Thread-safe: touches nothing but its arguments.
 */
int brain_chunk(const char *text, size_t len, size_t max_bytes, brain_span *spans, size_t cap,
                size_t *n);

#ifdef __cplusplus
}
#endif

#endif /* BRAINCORE_DOCUMENT_H */
