/*
 * base/chunk.h - the sentence-aware chunker of brain_chunk()
 * (braincore/document.h), for the code that cuts documents into passages
 * one at a time without an array of spans.
 */
#ifndef BRAIN_CHUNK_H
#define BRAIN_CHUNK_H

#include "base/base.h"

/* The next passage of text[0..len) at or after *pos (a byte offset; start
 * with 0), at most max_bytes bytes (already checked to be within
 * BRAIN_CHUNK_MIN..BRAIN_CHUNK_MAX): true with *out filled and *pos
 * advanced past it; false (*pos = len) when only white space is left. The
 * text must be valid UTF-8 (checked by the caller). The rules are those of
 * brain_chunk(); the calls that walk a whole text take time linear in len
 * together, and allocate nothing. */
bool brain__chunk_next(const char *text, size_t len, size_t max_bytes, size_t *pos,
                       brain_span *out);

#endif /* BRAIN_CHUNK_H */
