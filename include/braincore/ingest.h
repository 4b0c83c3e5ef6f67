/*
 * braincore/ingest.h - asynchronous writes: queue now, made in the
 * background (the Stomach).
 *
 * brain_remember_async() and brain_add_async() check their arguments as
 * brain_remember() and brain_add() do and return as soon as the write is
 * queued. The brain makes queued writes in order, in batches that share
 * one log fsync, on its background threads (BRAIN_BACKGROUND_THREADS, the
 * default; brain_tick() in BRAIN_BACKGROUND_MANUAL), or when brain_flush()
 * or brain_close() is called. A queued write is not yet searchable, nor
 * durable: brain_flush() returns when every write queued before it is
 * both (durable as the brain's sync mode promises for a brain_remember()).
 *
 * Backpressure: at most BRAIN_PARAM_INGEST_QUEUE writes wait (default
 * 4096); a write that finds the queue full waits up to
 * BRAIN_PARAM_INGEST_WAIT_MS (default 1000) for room, then fails with
 * BRAIN_EFULL and is not queued.
 *
 * Nothing is dropped silently. Bad input is refused when queued, with
 * brain_remember()'s and brain_add()'s errors. A write that cannot be made
 * later for a passing reason (BRAIN_ENOMEM, BRAIN_EIO, BRAIN_ENOSPC) stays
 * queued and is tried again; one refused for good when made (its id taken
 * meanwhile by a brain_add(), the brain full, the user's embedder failing)
 * is reported by the next brain_flush() (and the log callback).
 *
 * Thread-safety: as brain_remember(); writes queued from one thread are
 * made in the order queued.
 */
#ifndef BRAINCORE_INGEST_H
#define BRAINCORE_INGEST_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Queue `text` to be remembered with `importance`, as brain_remember()
 * would. Returns 0 once queued, or the errors brain_remember() gives its
 * arguments (BRAIN_ENULL, BRAIN_EUTF8, an empty or too long text's,
 * BRAIN_ERANGE, BRAIN_EREADONLY, BRAIN_ENOEMBEDDER), BRAIN_EFULL
 * (the queue stayed full for INGEST_WAIT_MS, or the brain would pass its
 * max_memories), BRAIN_ENOMEM.
 * Thread-safe: one brain serves many threads (docs/threading.md).
 */
int brain_remember_async(brain_t *b, const char *text, float importance);

/**
 * Queue `vector` to be added under `id`, as brain_add() would. Returns 0
 * once queued, or the errors brain_add() gives its arguments (BRAIN_ENULL,
 * BRAIN_EINVAL, BRAIN_ENONFINITE, BRAIN_EEXISTS when the id is in the
 * brain or queued already, BRAIN_EREADONLY), BRAIN_EFULL, BRAIN_ENOMEM.
 * Thread-safe: one brain serves many threads (docs/threading.md).
 */
int brain_add_async(brain_t *b, uint64_t id, const float *vector);

/**
 * Make every write queued before this call, and wait until they are
 * searchable and as durable as the sync mode promises. Returns 0, or the
 * error of a write that could not be made (a passing error: it stays
 * queued, call again; an error for good: the write is gone, and this call
 * says which it was, once).
 * Thread-safe: concurrent flushes each return once their own writes are
 * made.
 */
int brain_flush(brain_t *b);

#ifdef __cplusplus
}
#endif

#endif /* BRAINCORE_INGEST_H */
