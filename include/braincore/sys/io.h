/*
 * braincore/sys/io.h - the io layer: every file access of an on-disk brain.
 *
 * An on-disk brain reads and writes its directory only through a
 * brain_io vtable. The library has a POSIX implementation
 * (brain_io_posix()); tests and hosts can pass their own in
 * brain_options.io to inject failures, simulate crashes or keep a brain
 * somewhere other than a local file system.
 *
 * Stability: a "sys" interface (see braincore/sys/index.h): versioned,
 * grows only at the end, may change in a new major version.
 *
 * Conventions for implementations:
 *  - Every function returns 0 or a negative BRAIN_E* code: BRAIN_EIO for
 *    an operating-system failure, BRAIN_ENOSPC for a full device or quota,
 *    BRAIN_ENOTFOUND for a missing file, BRAIN_EEXISTS for an existing one
 *    (open with EXCL, mkdir), BRAIN_EBUSY for a lock held elsewhere,
 *    BRAIN_ENOMEM. None may print or raise a signal.
 *  - Paths are NUL-terminated UTF-8, absolute or relative to the process's
 *    working directory, as the caller of brain_open() gave them plus
 *    "/NAME".
 *  - A brain calls one file's functions from one thread at a time, with
 *    two exceptions: pread may run concurrently with anything, and fsync
 *    may run while another thread calls pwrite or allocate on the file
 *    (group commit).
 */
#ifndef BRAINCORE_SYS_IO_H
#define BRAINCORE_SYS_IO_H

#include "../common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Current version of brain_io. Version 1 (without `list`) is still
 *  accepted; a brain on it cannot find the leftovers of failed checkpoints
 *  by name and removes only those next to the current one. */
#define BRAIN_IO_VERSION 2

/** An open file; its layout is the implementation's own. */
typedef struct brain_io_file brain_io_file;

/** Flags of brain_io.open(). */
enum brain_io_open_flag {
	/** Open for reading and writing (otherwise reading only). */
	BRAIN_IO_OPEN_WRITE = 1u << 0,
	/** Create the file if it does not exist (needs WRITE). */
	BRAIN_IO_OPEN_CREATE = 1u << 1,
	/** With CREATE: fail with BRAIN_EEXISTS if the file exists. */
	BRAIN_IO_OPEN_EXCL = 1u << 2
};

/**
 * The io vtable. `payload` is passed to the functions that take no file.
 */
typedef struct brain_io {
	unsigned int version; /**< BRAIN_IO_VERSION */
	void *payload;

	/** Open `path` (flags: enum brain_io_open_flag). A missing file without
	 *  CREATE is BRAIN_ENOTFOUND. */
	int (*open)(void *payload, const char *path, unsigned int flags, brain_io_file **out);
	/** Close a file (and release its lock). NULL is a no-op. An error is
	 *  reported but the file is closed anyway. */
	int (*close)(brain_io_file *file);
	/** Read up to `len` bytes at `offset`; *done gets the number read,
	 *  less than len only at the end of the file. */
	int (*pread)(brain_io_file *file, void *buf, size_t len, uint64_t offset, size_t *done);
	/** Write all `len` bytes at `offset` (a short write is an error). */
	int (*pwrite)(brain_io_file *file, const void *buf, size_t len, uint64_t offset);
	/** Make the file's data and size durable. */
	int (*fsync)(brain_io_file *file);
	/** Current size of the file in bytes. */
	int (*size)(brain_io_file *file, uint64_t *size);
	/** Set the size (shrink or extend with zeros). */
	int (*truncate)(brain_io_file *file, uint64_t size);
	/** Reserve disk space for [offset, offset + len) so that later writes
	 *  there cannot fail for lack of space; the file grows to at least
	 *  offset + len. A full device is BRAIN_ENOSPC. Implementations
	 *  without such a call must write zeros. */
	int (*allocate)(brain_io_file *file, uint64_t offset, uint64_t len);
	/** Map [offset, offset + len) of the file, which must lie within its
	 *  size, readable and writable but private: writes through the mapping
	 *  never reach the file (copy on write). offset is a multiple of 4096.
	 *  The mapping stays valid after close() until unmap(). */
	int (*map)(brain_io_file *file, uint64_t offset, size_t len, void **addr);
	/** Release a mapping made by map() (addr and len as it gave them). */
	int (*unmap)(void *payload, void *addr, size_t len);
	/** Take an advisory lock on the file without waiting: exclusive or
	 *  shared. Locks are per open file, also within one process, and are
	 *  released by close(). Held elsewhere: BRAIN_EBUSY. */
	int (*lock)(brain_io_file *file, int exclusive);
	/** Create a directory; BRAIN_EEXISTS if `path` exists. */
	int (*mkdir)(void *payload, const char *path);
	/** Atomically replace `to` with `from`. */
	int (*rename)(void *payload, const char *from, const char *to);
	/** Remove a file; BRAIN_ENOTFOUND if it does not exist. */
	int (*unlink)(void *payload, const char *path);
	/** Make the directory's entries (creations, renames, removals)
	 *  durable. */
	int (*sync_dir)(void *payload, const char *path);

	/* version 2 */

	/** Call fn(name, ctx) for each entry of directory `path` (not "." or
	 *  ".."), in any order. fn may unlink the entry it is given. A nonzero
	 *  return of fn ends the listing and is returned. */
	int (*list)(void *payload, const char *path, int (*fn)(const char *name, void *ctx),
	            void *ctx);
} brain_io;

/**
 * The POSIX implementation (open/pread/pwrite/fdatasync/posix_fallocate/
 * mmap/flock/rename/unlink/readdir, retrying EINTR and short transfers).
 * It never follows a symbolic link in a brain directory: it opens with
 * O_NOFOLLOW (a link is BRAIN_EIO, "is a symbolic link"); a directory is
 * BRAIN_EIO too. A static
 * object: never NULL, never freed. Thread-safe.
 * Returns the vtable, never NULL.
 */
const brain_io *brain_io_posix(void);

#ifdef __cplusplus
}
#endif

#endif /* BRAINCORE_SYS_IO_H */
