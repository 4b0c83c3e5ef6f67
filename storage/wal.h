/*
 * storage/wal.h - the write-ahead log of an on-disk brain.
 *
 * The file "wal" is a 128-byte header (magic, version, the brain's identity,
 * generation, first lsn), two 64-byte end stamps (version 2: how long the
 * file had been made durable, so that a log cut short is never taken for
 * one that ends there) and then records, each 8-byte aligned:
 *
 *   u32 crc      CRC32C of the rest of the record (len .. end of payload)
 *   u32 len      bytes of the whole record, a multiple of 8
 *   u64 lsn      log sequence number: consecutive, starting at the
 *                header's start_lsn
 *   u64 synced   every record up to this lsn was durable when this one
 *                was written
 *   u32 op       what the record does (the caller's numbers)
 *   u32 size     payload bytes (then zero padding to len)
 *
 * Replay applies the records after the checkpoint's lsn in order and stops
 * at the first record that is not whole and valid. If no valid record
 * follows, that is a torn tail (a crash while writing it): it is dropped,
 * and cut from the file by a read-write open. If a valid record follows
 * whose `synced` shows that the bad one had been made durable, the log is
 * damaged: BRAIN_ECORRUPT naming the offset. Never skipped silently.
 *
 * Appends may come from one thread at a time (the brain's writer);
 * brain__wal_sync() from any number: one of them fsyncs for all (group
 * commit).
 */
#ifndef BRAIN_STORAGE_WAL_H
#define BRAIN_STORAGE_WAL_H

#include "base/base.h"
#include "braincore/sys/io.h"
#include "storage/image.h"

#define BRAIN_WAL_VERSION 2
/* header and end stamps of version 2 (version 1: a 128-byte header) */
#define BRAIN_WAL_HEADER_BYTES 256u
#define BRAIN_WAL_RECORD_HEADER 32u

typedef struct brain_wal brain_wal;

/* Pieces of one record's payload, written back to back. */
typedef struct brain_wal_part {
	const void *data;
	size_t len;
} brain_wal_part;

/* Apply one replayed record; nonzero stops the replay with that error. */
typedef int (*brain_wal_apply_fn)(void *payload, uint32_t op, uint64_t lsn, const void *data,
                                  size_t len);

typedef struct brain_wal_replay_info {
	uint64_t records;    /* records applied */
	uint64_t bytes;      /* bytes of valid records */
	uint64_t torn_bytes; /* bytes of the torn tail (0 if none) */
	uint64_t bad_offset; /* where the torn tail starts */
	uint64_t dropped;    /* repair: whole valid records after the damage */
	uint64_t last_lsn;   /* of the last valid record (start lsn - 1: none) */
	bool log_ahead;      /* BRAIN_ECORRUPT because the log starts after the
	                        checkpoint: for a reader, a writer checkpointed
	                        since it read the manifest */
} brain_wal_replay_info;

/* Write a new log file dir/wal (through dir/wal.tmp and a rename, so an
 * old log is replaced whole) holding no records, whose first record will
 * have start_lsn. */
int brain__wal_create(const brain_io *io, const char *dir, const brain_identity *id,
                      uint64_t generation, uint64_t start_lsn);

/* Open dir/wal. BRAIN_ENOTFOUND if missing; BRAIN_ECORRUPT if its header
 * is damaged or belongs to a brain of another identity than `id`. */
int brain__wal_open(const brain_io *io, const char *dir, const brain_identity *id,
                    bool writable, brain_wal **out);

/* Read dir/wal's header only: its generation, first lsn and the bytes
 * after its header (to tell an interrupted creation from a brain that
 * lost its manifest).
 * BRAIN_ENOTFOUND if missing, BRAIN_ECORRUPT if the header is damaged. */
int brain__wal_peek(const brain_io *io, const char *dir, uint64_t *generation,
                    uint64_t *start_lsn, uint64_t *size);

/* Replay records with lsn > after_lsn through apply, reading the file a
 * window at a time. BRAIN_ECORRUPT if the log starts after after_lsn + 1
 * (records are missing), is damaged before its tail, or is shorter than
 * its end stamp says it was made durable (cut short). With `repair`, damage is treated as the tail: every
 * record from the first bad one on is dropped. A writable log cuts the tail
 * from the file. After replay the log appends after the last valid record. */
int brain__wal_replay(brain_wal *w, uint64_t after_lsn, bool repair, brain_wal_apply_fn apply,
                      void *payload, brain_wal_replay_info *info);

/* Append a record; *lsn gets its number. It is written (visible to a
 * replay after a process crash) but not synced. On error nothing of it
 * will be replayed. */
int brain__wal_append(brain_wal *w, uint32_t op, const brain_wal_part *parts, size_t nparts,
                      uint64_t *lsn);

/* Return once every record up to lsn is durable (fsynced), fsyncing if
 * needed. A failed fsync is sticky: every later append and sync fails
 * with the same code (the state of the file is unknown; reopen). */
int brain__wal_sync(brain_wal *w, uint64_t lsn);

/* Start a new, empty log after a checkpoint that holds everything up to
 * lsn: dir/wal is replaced (create + rename + directory sync), and the
 * file written is the one appended to (never reopened). On error nothing
 * more goes into the old log: the next append tries again to put a new one
 * in place and fails if it cannot. */
int brain__wal_reset(brain_wal *w, uint64_t generation, uint64_t lsn);

/* The last lsn and where the next record will go (0 while a reset is
 * pending): a checkpoint notes both when it freezes the brain, then keeps
 * the records appended after it with brain__wal_reset_keeping(). */
void brain__wal_position(brain_wal *w, uint64_t *lsn, uint64_t *end);

/* After a checkpoint that holds every record up to lsn, whose later
 * records start at offset `from` (brain__wal_position when it froze):
 * dir/wal is replaced by a log holding only those later records (written
 * to wal.tmp, fsynced, renamed, the directory fsynced). Appends must not
 * run meanwhile (the caller holds the writers' gate). On an error before
 * the rename, the old log goes on (its records up to lsn are skipped by
 * replay); after it, the new log is used, and its rename is made durable
 * before the next append or sync, which fail if it cannot be. */
int brain__wal_reset_keeping(brain_wal *w, uint64_t generation, uint64_t lsn, uint64_t from);

void brain__wal_close(brain_wal *w);

uint64_t brain__wal_last_lsn(brain_wal *w);   /* last appended (or checkpointed) */
uint64_t brain__wal_synced_lsn(brain_wal *w); /* durable up to here */
uint64_t brain__wal_bytes(brain_wal *w);      /* bytes of records */
bool brain__wal_failed(brain_wal *w);

#endif /* BRAIN_STORAGE_WAL_H */
