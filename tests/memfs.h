/*
 * tests/memfs.h - a crash-simulating in-memory file system behind brain_io,
 * for tests only (plain malloc, not the library's allocator).
 *
 *   memfs *fs = memfs_new();
 *   opts.io = memfs_io(fs);           ... open a brain on "b" ...
 *   memfs_crash_at(fs, 17);           the 17th io call from now stops the world
 *   ... the operation fails with BRAIN_EIO ...
 *   memfs_crash(fs, MEMFS_CRASH_TEAR, seed);   power loss; reopen on what survived
 *   memfs_free(fs);
 *
 * Model. Directories and files are inodes; a directory maps names to inodes
 * twice: the current entries and the durable ones (what a crash leaves).
 * Creations, renames and unlinks change the current entries; sync_dir of
 * the directory copies them to its durable entries. Entries of the top
 * level (the directory "", "." or "/", where relative and absolute paths
 * start) are durable at once. A file has current content and durable
 * content; fsync makes the current content and size durable (not its
 * directory entry) and the writes and size changes since the last fsync
 * are kept in order, so that a crash can drop, keep or tear them.
 *
 * Faults. Every vtable call except close and unmap is counted. One fault of
 * each kind can be armed at a time, "the nth counted call from now":
 *  - memfs_fail_at: that call returns the code and does nothing; later
 *    calls work;
 *  - memfs_crash_at: the world stops: that call and every later one return
 *    BRAIN_EIO and do nothing, until memfs_crash();
 *  - memfs_tear_at: if that call is a pwrite it writes the first len/2
 *    bytes, then returns BRAIN_EIO; any other call just fails with
 *    BRAIN_EIO.
 *
 * After memfs_crash() every file opened before is dead: each call on it
 * returns BRAIN_EIO, except close, which frees it. Mappings are private
 * copies and stay readable until unmapped.
 *
 * Thread-safe: one lock per memfs (concurrent preads are serialized).
 * The inspection functions (memfs_read_file, ...) are not counted and work
 * while the world is stopped.
 */
#ifndef BRAIN_TEST_MEMFS_H
#define BRAIN_TEST_MEMFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "braincore.h"
#include "braincore/sys/io.h"

typedef struct memfs memfs;

/** What survives memfs_crash() of the writes and size changes made since
 *  a file's last fsync (synced data always survives). */
enum memfs_crash_mode {
	/** All are lost; directories revert to their durable entries. */
	MEMFS_CRASH_DROP,
	/** A random subset chosen by the seed survives, possibly applied out of
	 *  order, and one write possibly torn after a whole number of 512-byte
	 *  sectors (counted from the start of the file); directories revert to
	 *  their durable entries. The same state and seed give the same result. */
	MEMFS_CRASH_TEAR,
	/** All survive, directory entries too (the OS flushed everything). */
	MEMFS_CRASH_KEEP
};

/** An empty file system (the top-level directory only); NULL if out of
 *  memory. */
memfs *memfs_new(void);
/** Free the file system and every file still open on it (NULL: no-op).
 *  Mappings it made must be unmapped before. */
void memfs_free(memfs *fs);
/** A copy of the files and directories (current and durable state, and
 *  the unsynced writes); no open files, locks, armed faults or count.
 *  Content is shared copy on write, so a copy costs a few allocations per
 *  file. NULL if out of memory. */
memfs *memfs_clone(const memfs *fs);
/** The io vtable of the file system (payload fs); valid until memfs_free. */
const brain_io *memfs_io(memfs *fs);

/** Simulate a power loss now (see enum memfs_crash_mode): content and
 *  directories become what survived, all open files die, and the stopped
 *  world and armed faults are reset. 0 or BRAIN_ENOMEM. */
int memfs_crash(memfs *fs, enum memfs_crash_mode mode, uint64_t seed);

/** The nth counted call from now (n >= 1) returns code, once. n <= 0
 *  disarms. */
void memfs_fail_at(memfs *fs, long n, int code);
/** The nth counted call from now stops the world (n <= 0 disarms). */
void memfs_crash_at(memfs *fs, long n);
/** The nth counted call from now is a torn pwrite (n <= 0 disarms). */
void memfs_tear_at(memfs *fs, long n);
/** Whether an armed fault has not fired yet (a loop over n ends when the
 *  operation finished before the nth call). */
bool memfs_armed(memfs *fs);
/** Whether the world is stopped (memfs_crash_at fired). */
bool memfs_stopped(memfs *fs);
/** Counted calls since memfs_new or memfs_reset_counter. */
long memfs_calls(memfs *fs);
void memfs_reset_counter(memfs *fs);

/** Files open (dead ones included) and mappings not yet unmapped, to check
 *  that a brain released everything. */
size_t memfs_open_files(memfs *fs);
size_t memfs_live_maps(memfs *fs);

/** Current content of a file, copied into *data (malloc'd, free() it;
 *  never NULL on success). BRAIN_ENOTFOUND, BRAIN_EINVAL for a directory,
 *  BRAIN_ENOMEM. */
int memfs_read_file(memfs *fs, const char *path, unsigned char **data, size_t *size);
/** Replace a file's content, creating it and missing parent directories;
 *  all of it is durable at once (content and entries). Open files of it
 *  see the new content. BRAIN_EINVAL if path or a parent is not what it
 *  should be, BRAIN_ENOMEM. */
int memfs_write_file(memfs *fs, const char *path, const void *data, size_t size);
/** Names in a directory's current entries, sorted by strcmp; *names is a
 *  malloc'd array of malloc'd strings (memfs_free_list). BRAIN_ENOTFOUND,
 *  BRAIN_EINVAL for a file, BRAIN_ENOMEM. */
int memfs_list(memfs *fs, const char *dir, char ***names, size_t *n);
void memfs_free_list(char **names, size_t n);

#endif /* BRAIN_TEST_MEMFS_H */
