/*
 * organs/cortex/lift.h - the word-vector table of the built-in embedder's
 * semantic lift (docs/embedder.md): 50,000 normalised English words, each
 * with a 100-d vector derived from GloVe, made by tools/build_words.py
 * (which documents the file's layout). The embedder adds up the vectors
 * of a text's words, so that texts about the same things meet without
 * sharing a word.
 *
 * A table is validated whole when it is opened (sizes, offsets, the
 * content hash, every word reachable through the hash index) and then
 * used in place: a lookup reads nothing it has not checked. One mapping
 * per file and process, shared by every brain that uses it.
 */
#ifndef BRAIN_ORGANS_CORTEX_LIFT_H
#define BRAIN_ORGANS_CORTEX_LIFT_H

#include "base/base.h"

/* The environment variable naming the table: a path, or "off" for none. */
#define BRAIN_LIFT_ENV "BRAINCORE_WORDS"

/* A brain uses the lift only when its dimensions leave the lexical
 * features at least this many of their own (the lift takes the table's
 * dimensions): 384 by default, 284 lexical + 100. */
#define BRAIN_LIFT_MIN_LEXICAL 100u

typedef struct brain_lift brain_lift;

/* Where the table is: $BRAINCORE_WORDS ("off": nowhere), else the
 * installed path compiled in (BRAIN_WORDS_PATH), else NULL. *explicit is
 * set when the environment named it (then a missing file is an error). */
const char *brain__lift_where(bool *explicit_path);

/* The table at `path`, validated, mapped (or read, if mapping fails) and
 * shared by the process: the same file (device and inode) is opened once,
 * and each acquire takes a reference. BRAIN_ENOTFOUND if there is no such
 * file, BRAIN_EIO if it cannot be read, BRAIN_ECORRUPT (the message says
 * what) if it is not a valid table, BRAIN_ENOMEM. Thread-safe. */
int brain__lift_acquire(const char *path, brain_lift **out);

/* The table the environment names (brain__lift_where), or *out = NULL and
 * BRAIN_OK when there is none: no path, "off", or the installed path
 * absent. Errors as brain__lift_acquire. */
int brain__lift_acquire_default(brain_lift **out);

/* Drop a reference (the last one unmaps the table); NULL is a no-op. */
void brain__lift_release(brain_lift *l);

/* Validate `len` bytes as a table (every check of acquire, the content
 * hash but in fuzzing builds) and make a table that borrows them: they
 * must outlive it. `name` is for messages. Released with
 * brain__lift_release. For the tests and the fuzzer. */
int brain__lift_parse(const void *data, size_t len, const char *name, brain_lift **out);

/* The content hash of the table (its identity in a brain's files; never
 * 0), its dimensions, its number of words, its path (or the name given to
 * parse). */
uint64_t brain__lift_id(const brain_lift *l);
/* The content hash folded to the 32 bits of a brain's identity
 * (embedder_id), never 0. */
uint32_t brain__lift_fingerprint(const brain_lift *l);
uint32_t brain__lift_dims(const brain_lift *l);
uint32_t brain__lift_count(const brain_lift *l);
const char *brain__lift_name(const brain_lift *l);

/* The row of a normalised word (the Pancreas's), or -1. */
int32_t brain__lift_find(const brain_lift *l, const char *word, size_t len);

/* The word of a row (not NUL-terminated; for tests and tools). */
const char *brain__lift_word(const brain_lift *l, uint32_t row, size_t *len);

/* acc[0 .. dims) += weight * the row's vector. */
void brain__lift_add(const brain_lift *l, uint32_t row, float weight, float *acc);

#endif /* BRAIN_ORGANS_CORTEX_LIFT_H */
