/*
 * engine/handle.h - the brain handle, shared by the engine and the api.
 *
 * The api layer owns the brain lock: calls that only read take it shared,
 * calls that change memories take it exclusive (see docs/threading.md).
 * Organs document which messages need which (spine/messages.h).
 */
#ifndef BRAIN_HANDLE_H
#define BRAIN_HANDLE_H

#include <pthread.h>

#include "base/histogram.h"
#include "spine/spine.h"
#include "braincore/sys/io.h"
#include "storage/image.h"
#include "storage/manifest.h"

/* What an on-disk brain keeps besides its organs (engine/disk.c). */
typedef struct brain_disk {
	char *dir;                 /* NULL for an in-memory brain */
	const brain_io *io;
	brain_io_file *lock_file;  /* holds the writer's lock */
	bool readonly;
	_Atomic uint64_t generation;      /* of the current checkpoint */
	uint64_t next_generation;  /* never reused, even after a failed attempt */
	_Atomic uint64_t checkpoint_lsn; /* atomics: read by stats during a checkpoint */
	_Atomic uint64_t checkpoint_bytes;
	_Atomic uint64_t checkpoints;
	uint64_t torn_bytes;       /* of the log tail dropped on open */
	uint64_t replayed;         /* log records replayed on open */
	uint64_t dropped_after;    /* repair: valid records given up */
	struct brain_image *image; /* the checkpoint opened from (a reference) */
} brain_disk;

/* The latency of each kind of call since open (engine/health.c). */
enum brain_op {
	BRAIN_OP_REMEMBER,
	BRAIN_OP_RECALL,
	BRAIN_OP_THINK,
	BRAIN_OP_SEARCH,
	BRAIN_OP__COUNT
};

struct brain {
	brain_env env;
	brain_spine spine;
	brain_histogram latency[BRAIN_OP__COUNT];
	_Atomic int64_t checkpoint_at_ms; /* the last checkpoint written or opened */
	/* the Heart's (engine/heart.c), under its mutex */
	bool in_heart;
	int64_t next_beat_ms;
	bool beating, job_queued, job_running, leaving, checkpoint_due;
	bool sync_queued, syncing; /* NORMAL's fsync due, being made (the syncer) */
	int64_t job_started_ms;  /* of the job running */
	bool stall_reported;     /* the Watchdog said so for this job */
	_Atomic uint64_t stalls; /* jobs the Watchdog found running too long */
	/* one checkpoint at a time: held across a checkpoint's steps, before
	 * the gate (lock order: ckpt_mu, gate, lock) */
	pthread_mutex_t ckpt_mu;
	_Atomic uint64_t index_bytes_seen; /* Health's last look at the index's bytes */
	/* the longest a checkpoint has held the writers' gate (ns) */
	_Atomic uint64_t ckpt_gate_ns_max;
	/* when the writers' gate was taken (monotonic ms; 0: free), for the
	 * Watchdog's look at a lock held too long; the last hold it reported */
	_Atomic int64_t gate_since_ms;
	int64_t gate_reported_ms; /* under the Heart's mutex */
	_Atomic uint64_t gate_stalls;
	/* a checkpoint is wanted at the next beat whatever the log's size:
	 * the image opened was damaged (its index rebuilt) */
	_Atomic bool checkpoint_asked;
	_Atomic uint64_t beats;
	_Atomic int64_t beat_late_max_ms; /* the latest a beat has come (jitter) */
	/* a job for the worker's background work (the Stomach's queue, the
	 * index's tail) is queued or running and looks again before it ends:
	 * set by whoever queues it */
	_Atomic bool build_wanted;
	/* The Stomach's digester (api/ingest_api.c), set by the first async
	 * write: makes the queued writes until `until_ns` (0: all of them).
	 * One digester at a time (ingest_mu); a write refused for good leaves
	 * its error for the next brain_flush (ingest_rc, ingest_msg). */
	int (*_Atomic ingest_fn)(brain_t *b, uint64_t until_ns);
	pthread_mutex_t ingest_mu;
	int ingest_rc;
	char ingest_msg[256];
	_Atomic uint64_t built_batches; /* build() calls made in the background */
	/* the Circadian's (engine/circadian.c) */
	_Atomic int64_t last_cycle_ms; /* monotonic; set at open and by each cycle */
	bool cycle_due;                /* under the Heart's mutex */
	_Atomic uint64_t cycles, forgotten;
	_Atomic uint64_t consolidated; /* exchanges of working memory remembered */
	_Atomic uint64_t pressure_mark; /* memories after the last forget for pressure */
	/* compaction (COMPACT_FREE) asked by a cycle and not finished; the
	 * memories it moved and the slots it handed back since open */
	_Atomic bool compact_wanted;
	_Atomic uint64_t compacted, slots_released;
	_Atomic uint64_t compact_hold_ns_max; /* the longest pass under the lock */
	/* checkpoints that retired files (each may let the index let go of
	 * mappings: brain__release_for), and how many of them a release has
	 * gone through since: work waits while they differ */
	_Atomic uint64_t release_asked, release_done;
	/* a checkpoint replaced the image the brain opened (b->disk.image):
	 * the organs copy what they use of it, and it is unmapped */
	_Atomic bool image_release_wanted;
	_Atomic bool image_kept; /* an organ keeps it (damage, a backend): asked no more */
	/* a release that made no progress (inserts under way) waits until then
	 * (monotonic ms) rather than retry at once */
	_Atomic int64_t release_retry_ms;
	brain_mem *mem; /* what the brain allocates is counted here (base/alloc.c) */
	/* The writers' gate: every writer takes it before the brain lock, a
	 * checkpoint takes it with the brain lock shared. So no writer waits on
	 * the brain lock during a checkpoint, and readers (which a waiting
	 * writer would queue behind: the lock prefers writers) never wait for
	 * one. */
	pthread_mutex_t gate;
	pthread_rwlock_t lock;
	brain_disk disk;
};

/* Count what the calling thread allocates against brain b (NULL: nothing)
 * until brain__mem_leave(the scope returned). */
static inline brain_mem_scope brain__enter(const brain_t *b)
{
	return brain__mem_enter(b ? b->mem : NULL, BRAIN_MEM_ENGINE);
}

/* A timed public call: its allocations counted against b, its latency
 * recorded if it succeeds (a relaxed atomic add: no lock, no
 * allocation). */
typedef struct brain_timed {
	brain_mem_scope outer;
	uint64_t t0;
} brain_timed;

static inline brain_timed brain__timed_begin(brain_t *b)
{
	brain_timed t = {brain__enter(b), brain__mono_ns()};
	return t;
}

static inline int brain__timed_end(brain_t *b, int op, brain_timed t, int rc)
{
	brain__mem_leave(t.outer);
	if (rc == BRAIN_OK)
		brain__hist_record(&b->latency[op], brain__mono_ns() - t.t0);
	return rc;
}

/* The brain lock. Debug and sanitizer builds (BRAIN_CHECK_LOCKS) note
 * what the thread holds, and the Spine checks every message's lock column
 * against it. */
static inline void brain__rdlock(brain_t *b)
{
	pthread_rwlock_rdlock(&b->lock);
#ifdef BRAIN_CHECK_LOCKS
	brain__lock_note(&b->spine, BRAIN_LOCK_READ);
#endif
}

/* The brain lock exclusively, through the writers' gate. */
static inline void brain__gate_taken(brain_t *b)
{
	atomic_store_explicit(&b->gate_since_ms, (int64_t)(brain__mono_ns() / 1000000u) | 1,
	                      memory_order_relaxed);
}

static inline void brain__gate_leave(brain_t *b)
{
	atomic_store_explicit(&b->gate_since_ms, 0, memory_order_relaxed);
	pthread_mutex_unlock(&b->gate);
}

static inline void brain__wrlock(brain_t *b)
{
	pthread_mutex_lock(&b->gate);
	brain__gate_taken(b);
	pthread_rwlock_wrlock(&b->lock);
#ifdef BRAIN_CHECK_LOCKS
	brain__lock_note(&b->spine, BRAIN_LOCK_WRITE);
#endif
}

/* The read lock if it can be had within `ms` (then true), else false
 * and nothing held: for Health, which must answer while a change a hung
 * disk holds keeps the lock. */
bool brain__rdlock_within(brain_t *b, int ms);

/* Release a read lock (brain__rdlock). */
static inline void brain__unlock(brain_t *b)
{
#ifdef BRAIN_CHECK_LOCKS
	brain__lock_note(&b->spine, 0);
#endif
	pthread_rwlock_unlock(&b->lock);
}

/* Release the write lock (brain__wrlock) and the gate. */
static inline void brain__wrunlock(brain_t *b)
{
	brain__unlock(b);
	brain__gate_leave(b);
}

/* Writers held off at the gate, readers going on: a checkpoint. Release
 * with brain__gate_unlock. */
static inline void brain__gate_rdlock(brain_t *b)
{
	pthread_mutex_lock(&b->gate);
	brain__gate_taken(b);
	brain__rdlock(b);
}

/* From brain__gate_rdlock to the lock exclusively, the gate still held:
 * no writer runs in between. Release with brain__wrunlock. */
static inline void brain__gate_upgrade(brain_t *b)
{
	brain__unlock(b);
	pthread_rwlock_wrlock(&b->lock);
#ifdef BRAIN_CHECK_LOCKS
	brain__lock_note(&b->spine, BRAIN_LOCK_WRITE);
#endif
}

static inline void brain__gate_unlock(brain_t *b)
{
	brain__unlock(b);
	brain__gate_leave(b);
}

/* Resolve caller options (any known version, or NULL for defaults) into a
 * complete current-version struct. Reports the first bad field. */
int brain__options_resolve(const brain_options *in, brain_options *out);
/* The index backend the options name: index_name, else "flat" for
 * BRAIN_INDEX_FLAT and "hnsw" for AUTO and HNSW. */
const char *brain__options_index_name(const brain_options *o);


/* Set every parameter of env to its default. */
void brain__params_defaults(brain_env *env);

/* ---- on-disk brains (engine/disk.c) ---- */

/* How an on-disk brain's log is replayed. */
enum brain_disk_mode {
	BRAIN_DISK_NORMAL = 0,
	BRAIN_DISK_REPAIR = 1 /* damage in the log ends it instead of failing */
};

/* brain_open() with more: an in-memory brain adopting `image` (a
 * reference the organs take their own of), or a disk mode. Open is
 * sequenced here (engine/brain.c) and nowhere else: prepare the directory
 * (brain__disk_prepare), create the organs with the checkpoint image as a
 * parameter, write a new brain's first files (brain__disk_create) or
 * replay the log through the change module (brain__disk_recover), start
 * the Lungs. */
int brain__open(const char *path, const brain_options *opts, struct brain_image *image,
                int mode, brain_t **out);

/* What brain__disk_prepare found in a brain directory. */
typedef struct brain_disk_plan {
	bool create;              /* no brain there yet: make one */
	bool has_log;             /* the Lungs open the log */
	struct brain_image *image; /* the checkpoint to adopt (b->disk holds it) */
	brain_manifest manifest;  /* that names it */
	bool log_ahead;           /* out of recover: the log starts after it */
} brain_disk_plan;

/* The directory part of opening `path` into b (whose env.opts are
 * resolved): make it, take the writer's lock, read the manifest, check or
 * adopt the identity, map the checkpoint, make sure a log is there. No
 * organ is touched. */
int brain__disk_prepare(brain_t *b, const char *path, brain_disk_plan *plan);

/* A new brain (plan.create), its organs attached without a log: write its
 * first checkpoint, an empty log and the manifest. */
int brain__disk_create(brain_t *b);

/* An existing brain, its organs attached: replay the log after the
 * checkpoint (brain__change_replay), start a new log if the old one ends
 * before the checkpoint, remove leftovers. The caller holds the write lock. */
int brain__disk_recover(brain_t *b, brain_disk_plan *plan, int mode);

/* Release what brain__disk_prepare took (after the organs are gone). */
void brain__disk_release(brain_t *b);

/* The identity (dimensions, metric, embedder, index) files record. */
struct brain_identity brain__identity_of(const brain_t *b);

/* Whether the built-in embedder of env's brain uses the semantic lift, and
 * with which word table (organs/cortex/lift.h): env->lift and
 * env->embedder_id (left alone for other embedders). `stored` is the
 * identity of the brain being opened, NULL for a new one: a new brain takes
 * the table the environment names (BRAINCORE_WORDS, else the installed
 * one) if its dimensions leave room; a brain made without the lift keeps
 * working without it, table or not; one made with it needs that same table
 * (BRAIN_EMISMATCH if it is absent or another). Errors of the table's
 * loader (BRAIN_ECORRUPT, BRAIN_ENOTFOUND for a missing BRAINCORE_WORDS
 * path, ...). Called again, it decides again. */
int brain__use_lift(brain_env *env, const struct brain_identity *stored);

/* Write the brain's state as an image to a sink (lock held, shared is
 * enough). `files`: a checkpoint of this brain, whose index backend may
 * write its own files there (the write lock held); NULL: a self-contained
 * image (snapshots, backups). */
int brain__write_image(brain_t *b, brain_sink sink, uint64_t generation, uint64_t lsn,
                       const brain_index_files *files, uint64_t *size, uint32_t *crc);

/* Write the brain's state as an image into a new file `path` (replacing
 * one there), space reserved ahead, fsynced; *size and *crc for the
 * manifest. The caller holds the brain lock (shared is enough, the write
 * lock with `files`). */
int brain__write_image_file(brain_t *b, const brain_io *io, const char *path,
                            uint64_t generation, uint64_t lsn, const brain_index_files *files,
                            uint64_t *size, uint32_t *crc);

/* Where the index backend of on-disk brain b keeps its files, for
 * checkpoint `generation`. */
brain_index_files brain__index_files(const brain_t *b, uint64_t generation);

/* A checkpoint of `generation` is committed (or opened by the writer):
 * the index backend's files it does not name go. The caller holds the
 * checkpoint mutex (or opens the brain). */
void brain__index_retire(brain_t *b, uint64_t generation);

/* Write a checkpoint whole; the caller holds ckpt_mu and the write lock
 * (close). */
int brain__checkpoint_locked(brain_t *b);
/* Write a checkpoint in two steps (engine/disk.c checkpoint_run): writers
 * wait only for its first; the caller holds nothing. */
int brain__checkpoint(brain_t *b);


/* BRAIN_EREADONLY for a read-only brain (fn names the call). */
int brain__check_writable(const brain_t *b, const char *fn);

/* Close-time work of an on-disk brain (out of the Heart already): write
 * the final checkpoint. */
int brain__disk_close(brain_t *b);

/* A background checkpoint (the Heart's worker): brain__checkpoint, a
 * warning in the log hook on failure. */
void brain__checkpoint_due(brain_t *b);

/* ---- the Heart (engine/heart.c) ---- */

/* Beat brain b once: the Lungs' breath; *checkpoint_due if one is. With
 * sync_due, a due NORMAL fsync is not made but reported there (the
 * clock's thread hands it to the worker); NULL makes it. */
int brain__beat(brain_t *b, bool *checkpoint_due, bool *sync_due);
/* Have the Heart beat b (threads started by the first brain), or stop
 * (waiting for a beat or checkpoint of b under way; the last brain stops
 * the threads). */
int brain__heart_join(brain_t *b);
void brain__heart_leave(brain_t *b);
/* After a change: if b's index has work put off (a tail to build) and no
 * build job is queued, queue one (a brain in the Heart only). Cheap when
 * one is: an atomic load. */
void brain__heart_kick(brain_t *b);
/* The Circadian's cycle (engine/circadian.c): consolidate working memory
 * (CONSOLIDATE_WORKING), then forget what FORGET_OVER and
 * FORGET_ON_PRESSURE ask for, through logged changes. No lock held. */
int brain__circadian_cycle(brain_t *b);

/* The compaction a cycle asked for (COMPACT_FREE), hold after hold of
 * the write lock, until it is done, `until_ns` (brain__mono_ns, 0: no
 * limit) passes, or the index's tail is half full (moved vectors wait
 * there for the graph: build it, then call again). Returns 0 or the
 * first error (the compaction stays wanted). No lock held. */
int brain__compact_for(brain_t *b, uint64_t until_ns);

/* Is a release asked for and not made? */
static inline bool brain__release_wanted(brain_t *b)
{
	return (atomic_load(&b->release_asked) != atomic_load(&b->release_done) ||
	        atomic_load(&b->image_release_wanted)) &&
	       (int64_t)(brain__mono_ns() / 1000000u) >= atomic_load(&b->release_retry_ms);
}

/* After a checkpoint (brain__release_wanted): the image the brain opened,
 * which the checkpoint replaced, let go (IMAGE_COPY and the release
 * messages: docs/durability.md, step 5), and the index's mappings of files
 * no checkpoint names any more handed back (INDEX_RELEASE), a few chunks a
 * hold of the write lock, until done or `until_ns` (0: no limit) passes.
 * A failure (memory) is logged (WARN), and the next checkpoint asks
 * again. No lock held. */
void brain__release_for(brain_t *b, uint64_t until_ns);

/* Is b's cycle due (CIRCADIAN_MS since the last)? */
static inline bool brain__cycle_due(const brain_t *b)
{
	int64_t now = (int64_t)(brain__mono_ns() / 1000000u);
	return now - atomic_load(&((brain_t *)b)->last_cycle_ms) >=
	       brain__param(&b->env, BRAIN_PIDX_CIRCADIAN_MS);
}

/* Vectors b's index holds that are not yet in its structure (an atomic
 * read; any thread, no lock). */
static inline uint64_t brain__index_pending(brain_t *b)
{
	brain_msg_index_build m = {0, 0};
	brain__call_INDEX_BUILD(&b->spine, &m);
	return m.pending;
}
/* Put b's index's tail into its structure, batch after batch, until it is
 * empty or `until_ns` (brain__mono_ns, 0: no limit) passes. Returns 0 or
 * the first error; *pending gets what still waits. No brain lock held. */
int brain__index_build_for(brain_t *b, uint64_t until_ns, uint64_t *pending);

#endif /* BRAIN_HANDLE_H */
