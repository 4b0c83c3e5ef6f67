/*
 * braincore/storage.h - durability: checkpoints, sync, snapshots, backups,
 * checking and repairing brains on disk, and storage statistics.
 *
 * An on-disk brain (brain_open() with a directory path) keeps every change
 * in a write-ahead log and, at checkpoints, in a checkpoint image that is
 * mapped on open rather than read. docs/durability.md gives the promise of
 * each sync mode and docs/file-format.md the bytes on disk.
 */
#ifndef BRAINCORE_STORAGE_H
#define BRAINCORE_STORAGE_H

#include "common.h"
#include "options.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Write a checkpoint now: the whole brain into a new checkpoint image, a
 * new manifest pointing at it (replaced atomically), then the log emptied.
 * Blocks every other call on this brain while it runs. An in-memory brain
 * has nothing to do (returns 0).
 * Returns 0 or: BRAIN_ENULL, BRAIN_EREADONLY, BRAIN_EIO, BRAIN_ENOSPC,
 * BRAIN_ENOMEM. On failure the brain and its files are as before (an image
 * written in vain is removed by the next checkpoint or open). 0 means the
 * checkpoint is committed; if its new, empty log could not be put in
 * place, the next change does that first or fails (docs/durability.md).
 * Thread-safe (takes the brain's write lock).
 */
int brain_checkpoint(brain_t *b);

/**
 * Make every change acknowledged so far durable (fsync the log), whatever
 * the sync mode. Returns 0 (also for in-memory and read-only brains) or
 * BRAIN_ENULL, BRAIN_EIO. Thread-safe.
 */
int brain_sync(brain_t *b);

/**
 * Consumer of a byte stream: take `len` bytes. Returns 0, or nonzero to
 * stop the save (which then fails with BRAIN_EIO).
 */
typedef int (*brain_write_fn)(const void *data, size_t len, void *payload);

/**
 * Producer of a byte stream: fill all of `buf` (`len` bytes). Returns 0, or
 * nonzero if it cannot (the stream ended or failed), which fails the load
 * with BRAIN_EIO.
 */
typedef int (*brain_read_fn)(void *buf, size_t len, void *payload);

/**
 * Write a consistent snapshot of the brain (every memory, vector and the
 * embedder's statistics; not working memory or parameters) to a stream.
 * Other threads may read the brain meanwhile; writers wait.
 * Returns 0 or: BRAIN_ENULL, BRAIN_EIO (write returned nonzero),
 * BRAIN_ENOMEM.
 */
int brain_save(brain_t *b, brain_write_fn write, void *payload);

/**
 * Make a brain from a stream written by brain_save().
 *
 * path: NULL for an in-memory brain, or a directory that must not hold a
 *       brain yet; the snapshot becomes its first checkpoint.
 * opts: as for brain_open(); dimensions, metric, embedder and index are
 *       checked against the snapshot (BRAIN_EMISMATCH) unless flags has
 *       BRAIN_OPEN_STORED_OPTIONS.
 * Returns 0 or: BRAIN_ENULL, BRAIN_EIO (read failed), BRAIN_ECORRUPT (the
 * stream is not a valid snapshot), BRAIN_EVERSION (a newer format),
 * BRAIN_EMISMATCH, BRAIN_EEXISTS (path holds a brain), the errors of
 * brain_open(). *out is NULL on failure.
 * Thread-safe.
 */
int brain_load(brain_read_fn read, void *payload, const char *path, const brain_options *opts,
               brain_t **out);

/**
 * Write a consistent snapshot of the brain as a new on-disk brain in
 * directory `dir` (created; it must not hold a brain), which
 * brain_open() then opens like any other. Readers of `b` go on meanwhile.
 * Returns 0 or: BRAIN_ENULL, BRAIN_EEXISTS, BRAIN_EIO, BRAIN_ENOSPC,
 * BRAIN_ENOMEM. On failure, files written so far in dir are removed.
 * Thread-safe (readers go on; writers wait).
 */
int brain_backup(brain_t *b, const char *dir);

/** Current version of brain_check_report. */
#define BRAIN_CHECK_REPORT_VERSION 1

/** What brain_check() and brain_repair() found. */
typedef struct brain_check_report {
	unsigned int version;      /**< BRAIN_CHECK_REPORT_VERSION */
	uint64_t memories;         /**< memories in the brain after the log */
	uint64_t generation;       /**< checkpoint generation */
	uint64_t checkpoint_lsn;   /**< last change the checkpoint holds */
	uint64_t checkpoint_bytes; /**< size of the checkpoint image */
	uint64_t bytes_verified;   /**< bytes whose checksums were verified */
	uint64_t wal_records;      /**< log records replayed */
	uint64_t wal_bytes;        /**< bytes of valid log records */
	uint64_t wal_torn_bytes;   /**< bytes of a torn last record (a crash
	                                while writing it; dropped by the next
	                                read-write open) */
	uint64_t dropped_records;  /**< brain_repair(): log records given up */
} brain_check_report;

/** Fill a report with zeros and its version. Returns 0, BRAIN_ENULL or
 *  BRAIN_EVERSION.
 * Thread-safe (touches only *report).
 */
int brain_check_report_init(brain_check_report *report, unsigned int version);

/**
 * Verify an on-disk brain without changing it: the manifest, every byte
 * of the checkpoint image against its checksums, every log record, that
 * the log is as long as it had been made durable, and that the records
 * and the index agree (every memory has its vector, no vector lacks a
 * memory). opts may be NULL (the brain's stored options are used;
 * opts->io is honoured). report may be NULL.
 * Returns 0 (the brain is intact; a torn last log record is reported in
 * wal_torn_bytes but is not damage) or the error brain_open() would give:
 * BRAIN_ECORRUPT with a message naming the file and offset (or the memory
 * and slot where records and index disagree), BRAIN_ENOTFOUND,
 * BRAIN_EVERSION, BRAIN_ENOTSUP (the brain's index backend is not
 * registered in this process), BRAIN_EIO, BRAIN_ENOMEM.
 * Thread-safe; the brain may be open for writing elsewhere (it is read as a
 * read-only opener would).
 */
int brain_check(const char *path, const brain_options *opts, brain_check_report *report);

/**
 * Salvage a brain whose log is damaged: keep every log record before the
 * first one that fails its checksum, drop that record and all after it
 * (counted in dropped_records), write a checkpoint and empty the log. A
 * damaged checkpoint image cannot be salvaged (its checksums cannot prove
 * which memories are intact as a whole): restore it from a backup.
 * Needs the brain closed (BRAIN_EBUSY otherwise).
 * A log cut short (shorter than it had been made durable) is salvaged the
 * same way: the records that remain are kept.
 * Returns 0 or: BRAIN_ECORRUPT (the checkpoint is damaged), BRAIN_EBUSY,
 * BRAIN_ENOTFOUND, BRAIN_ENOTSUP (the index backend is not registered),
 * BRAIN_EIO, BRAIN_ENOSPC, BRAIN_ENOMEM.
 * Thread-safe; needs the brain closed everywhere.
 */
int brain_repair(const char *path, const brain_options *opts, brain_check_report *report);

/** Current version of brain_stats. */
#define BRAIN_STATS_VERSION 7

/** Counters of a brain, from brain_get_stats(). */
typedef struct brain_stats {
	unsigned int version;     /**< BRAIN_STATS_VERSION */
	uint64_t memories;        /**< memories, with and without text */
	uint64_t text_memories;   /**< memories with text */
	uint32_t dimensions;
	int metric;               /**< enum brain_metric */
	int sync;                 /**< enum brain_sync */
	int on_disk;              /**< 1 for an on-disk brain */
	int read_only;            /**< 1 if opened with BRAIN_OPEN_READONLY */
	uint64_t index_bytes;     /**< memory the indexes hold (heap and mapped;
	                               the vector index, the records, the id map
	                               and the keyword index) */
	uint64_t last_lsn;        /**< log sequence number of the last change */
	uint64_t durable_lsn;     /**< changes up to this one are fsynced */
	uint64_t checkpoint_lsn;  /**< changes up to this one are in the checkpoint */
	uint64_t generation;      /**< checkpoint generation (1 for a new brain) */
	uint64_t checkpoint_bytes;/**< size of the checkpoint image */
	uint64_t wal_bytes;       /**< size of the log's records */
	uint64_t checkpoints;     /**< checkpoints written since open */

	/* ---- version 2: the heap the brain holds, counted through the
	 *      allocator hook (brain_set_allocator), by structure ---- */

	uint64_t heap_bytes;       /**< every allocation of this brain alive now */
	uint64_t heap_peak_bytes;  /**< the most heap_bytes has been since open */
	uint64_t heap_records_bytes;  /**< memories: records, id map, texts */
	uint64_t heap_index_bytes;    /**< the index backend (mapped bytes: index_bytes) */
	uint64_t heap_embedder_bytes; /**< the Cortex: word statistics, working memory */
	uint64_t heap_log_bytes;      /**< the write-ahead log's buffers */
	uint64_t heap_results_bytes;  /**< results objects not yet freed (they count
	                                   until brain_results_free, even after close) */
	uint64_t heap_other_bytes;    /**< the rest: the handle, checkpoints being
	                                   written, calls in flight */

	/* ---- version 3: latency of successful calls since open, in
	 *      nanoseconds (fixed buckets: within 12.5%, never below) ---- */

	uint64_t remember_count;      /**< brain_remember* calls */
	uint64_t remember_p50_ns, remember_p99_ns, remember_max_ns;
	uint64_t recall_count;        /**< brain_recall* calls */
	uint64_t recall_p50_ns, recall_p99_ns, recall_max_ns;
	uint64_t think_count;         /**< brain_think* calls */
	uint64_t think_p50_ns, think_p99_ns, think_max_ns;
	uint64_t search_count;        /**< brain_search* calls */
	uint64_t search_p50_ns, search_p99_ns, search_max_ns;

	/* ---- version 4: the background ---- */

	/** Vectors stored but not yet in the index's graph (its tail,
	 *  BRAIN_PARAM_INDEX_TAIL_MAX): searches scan them exactly until the
	 *  background (or brain_tick) has built them in. */
	uint64_t index_pending;
	/** Batches of the tail built in the background or by brain_tick. */
	uint64_t index_builds;
	/** Asynchronous writes (braincore/ingest.h) queued and not yet made. */
	uint64_t ingest_queued;
	/** Asynchronous writes made (or refused for good) since open. */
	uint64_t ingest_done;
	/** Asynchronous writes that found the queue full and waited for room
	 *  (backpressure; those that waited INGEST_WAIT_MS in vain failed). */
	uint64_t ingest_waited;
	/** BRAIN_PARAM_MEMORY_BUDGET (0: none) and the pressure against it:
	 *  0 normal (under 80%), 1 elevated (80% to 95%), 2 critical. */
	uint64_t memory_budget;
	int memory_pressure;
	/** The Circadian's cycles since open, and the memories they forgot
	 *  (BRAIN_PARAM_FORGET_OVER, FORGET_ON_PRESSURE). */
	uint64_t circadian_cycles;
	uint64_t circadian_forgotten;

	/* ---- version 5: consolidation ---- */

	/** Exchanges of working memory (brain_think's inputs) the Circadian
	 *  has remembered since open (BRAIN_PARAM_CONSOLIDATE_WORKING), as
	 *  new memories or strengthening one (BRAIN_PARAM_MERGE_SIMILAR). */
	uint64_t circadian_consolidated;

	/* ---- version 6: compaction ---- */

	/** Memories compaction moved into free slots since open, and the
	 *  slots it handed back at the end (BRAIN_PARAM_COMPACT_FREE). */
	uint64_t circadian_compacted;
	uint64_t circadian_slots_released;

	/* ---- version 7: metadata and relations (read under the brain's
	 *      read lock: 0 when a change held it past the stats' wait) ---- */

	/** Memories with metadata, and the fields their metadata names. */
	uint64_t meta_memories;
	uint64_t meta_fields;
	/** Bytes of metadata and relations: the blobs, fields and edges (in
	 *  heap_records_bytes) plus the posting lists, which CRoaring
	 *  allocates outside the allocator hook (its estimate). */
	uint64_t meta_bytes;
	/** 1 once a posting list missed a change (CRoaring out of memory):
	 *  filters are then evaluated by scanning, exactly, until a reopen. */
	int meta_postings_broken;
	/** Relations between memories. */
	uint64_t relations;
} brain_stats;

/** Fill a stats struct with zeros and its version (1 to 7; a version-1
 *  struct ends before heap_bytes, a version-2 one before remember_count,
 *  a version-3 one before index_pending, a version-4 one before
 *  circadian_consolidated, a version-5 one before circadian_compacted, a
 *  version-6 one before meta_memories). Returns 0, BRAIN_ENULL or BRAIN_EVERSION.
 * Thread-safe (touches only *stats).
 */
int brain_stats_init(brain_stats *stats, unsigned int version);

/**
 * Read the brain's counters into *stats (initialised with
 * brain_stats_init(), version 1 to 6; only that version's fields are
 * written). Returns 0, BRAIN_ENULL or BRAIN_EVERSION.
 * Thread-safe.
 */
int brain_get_stats(brain_t *b, brain_stats *stats);

#ifdef __cplusplus
}
#endif

#endif /* BRAINCORE_STORAGE_H */
