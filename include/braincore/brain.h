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
 *       Otherwise a directory holding an on-disk brain, created (with the
 *       directory) if missing unless opts->flags says otherwise. Its
 *       checkpoint is mapped, not read, and the write-ahead log written
 *       since is replayed, so opening costs little more than the log.
 *       One process (one brain_t) at a time may hold a brain for writing;
 *       any number may open it with BRAIN_OPEN_READONLY.
 * opts: options, or NULL for the defaults (384-d cosine, built-in
 *       embedder, BRAIN_SYNC_FULL). Read during the call only. For an
 *       existing brain, dimensions, metric, embedder and index must match
 *       what it was created with (or pass BRAIN_OPEN_STORED_OPTIONS).
 * out:  receives the new brain; set to NULL on failure.
 *
 * Returns 0 or: BRAIN_ENULL (out is NULL), BRAIN_EVERSION (opts->version
 * or a file's format version unknown), BRAIN_EINVAL (metric, index,
 * embedder, sync or flags not a known value), BRAIN_ERANGE (dimensions,
 * max_text_bytes or max_memories out of bounds), BRAIN_EMISMATCH (the
 * brain on disk has other dimensions, metric, embedder or index; the
 * message names the field and both values), BRAIN_EBUSY (another brain_t
 * has it open for writing), BRAIN_ENOTFOUND (no brain at path and
 * NOCREATE, READONLY or STORED_OPTIONS given), BRAIN_ENOTSUP (with
 * STORED_OPTIONS: the brain's index backend is not registered in this
 * process), BRAIN_ECORRUPT (a file is damaged or the log is shorter than
 * it had been made durable; the message names the file and the offset;
 * brain_check() and brain_repair() can help), BRAIN_EIO (also for a
 * symbolic link or a directory where the brain keeps a file: links there
 * are never followed), BRAIN_ENOSPC, BRAIN_ENOMEM.
 * Thread-safe.
 */
int brain_open(const char *path, const brain_options *opts, brain_t **out);

/**
 * Close a brain and release everything it holds. NULL is a no-op (returns
 * 0). An on-disk brain opened for writing first writes a checkpoint (so
 * the next open replays no log) and syncs. The caller must make sure no
 * other thread is using the brain, and must not use `b` afterwards, even
 * when an error is returned. Results objects obtained from the brain stay
 * valid: they own their data.
 * Returns 0, or the error of the final checkpoint or sync (BRAIN_EIO,
 * BRAIN_ENOSPC, BRAIN_ENOMEM): the brain is closed anyway, and every
 * change acknowledged before is still safe in the log.
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
 * Thread-safe.
 */
brain_t *brain_create(void);

/**
 * Seed API: same as brain_close(), for brains from brain_create(). Returns
 * nothing; NULL is a no-op. Not thread-safe with other calls on b: none may
 * run or start on b once it is called.
 */
void brain_destroy(brain_t *b);

/**
 * Returns the dimensions of the brain's vectors (0 for NULL). Thread-safe.
 */
uint32_t brain_dimensions(const brain_t *b);

/**
 * Run the brain's periodic work now, on the calling thread: in NORMAL
 * sync, fsync what was logged once SYNC_INTERVAL_MS has passed since the
 * last; and write a checkpoint if the log has grown enough
 * (BRAIN_PARAM_CHECKPOINT_WAL_BYTES). A brain opened with
 * BRAIN_BACKGROUND_MANUAL needs it called regularly (every TICK_MS, say);
 * for the others the Heart does it, and calling it too is harmless. An
 * in-memory or read-only brain has nothing to do.
 * Returns 0 or: BRAIN_ENULL, BRAIN_EIO, BRAIN_ENOSPC, BRAIN_ENOMEM (a
 * failed fsync or checkpoint; see brain_checkpoint()).
 * Thread-safe (a checkpoint takes the brain's write lock).
 */
int brain_tick(brain_t *b);

#ifdef __cplusplus
}
#endif

#endif /* BRAINCORE_BRAIN_H */
