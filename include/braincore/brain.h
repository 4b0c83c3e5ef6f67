/*
 * braincore/brain.h - opening and closing a brain.
 */
#ifndef BRAINCORE_BRAIN_H
#define BRAINCORE_BRAIN_H

#include "common.h"
#include "options.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Open a brain.
 *
 * path: NULL for an in-memory brain, which lives until brain_close().
 *       A directory path asks for an on-disk brain; this version has no
 *       storage layer yet and answers BRAIN_ENOTSUP.
 * opts: options, or NULL for the defaults (384-d cosine, built-in
 *       embedder). Read during the call only.
 * out:  receives the new brain; set to NULL on failure.
 *
 * Returns 0 or: BRAIN_ENULL (out is NULL), BRAIN_EVERSION (opts->version
 * unknown), BRAIN_EINVAL (metric, index or embedder is not a known value),
 * BRAIN_ERANGE (dimensions, max_text_bytes or max_memories out of bounds),
 * BRAIN_ENOTSUP (path given), BRAIN_ENOMEM.
 * Thread-safe.
 */
int brain_open(const char *path, const brain_options *opts, brain_t **out);

/**
 * Close a brain and release everything it holds. NULL is a no-op (returns
 * 0). The caller must make sure no other thread is using the brain, and
 * must not use `b` afterwards. Results objects obtained from the brain stay
 * valid: they own their data.
 * Returns 0.
 */
int brain_close(brain_t *b);

/**
 * Number of memories in the brain (text memories and vectors alike).
 * Returns 0 for NULL. Thread-safe; a concurrent writer's change is either
 * counted or not.
 */
uint64_t brain_count(const brain_t *b);

/**
 * Seed API: an in-memory brain with the default options and the built-in
 * embedder. Returns NULL on failure (out of memory); brain_errcode() and
 * brain_errmsg() say why.
 */
brain_t *brain_create(void);

/** Seed API: same as brain_close(), for brains from brain_create(). */
void brain_destroy(brain_t *b);

/**
 * Dimensions of the brain's vectors (0 for NULL). Thread-safe.
 */
uint32_t brain_dimensions(const brain_t *b);

#ifdef __cplusplus
}
#endif

#endif /* BRAINCORE_BRAIN_H */
