/*
 * storage/io_posix.c - brain_io on POSIX (see braincore/sys/io.h).
 *
 * Thin wrappers over the system calls, each retrying EINTR and looping
 * over short transfers, mapping errno to a BRAIN_E* code and reporting
 * the operation, the path and the system's text, e.g.
 *   pwrite "dir/wal" at offset 4096 (512 bytes): No space left on device
 *
 * Notes on the calls chosen:
 *  - fsync is fdatasync: it writes the data and the metadata needed to read
 *    it back, which includes the size after a write, truncate or allocate.
 *  - lock is flock, whose locks belong to the open file description, so
 *    two opens of one file in one process exclude each other (fcntl locks
 *    would not), and closing the file releases them.
 *  - map is mmap(MAP_PRIVATE): writes through the mapping are copied on
 *    write and never reach the file. The interface promises 4096-byte
 *    offsets; where pages are larger the mapping starts at the page before
 *    and unmap() finds that start again from the address.
 */
/* flock() is not POSIX; _POSIX_C_SOURCE comes from the command line. Not
 * _GNU_SOURCE, which would also change strerror_r (handled either way
 * below). 64-bit offsets on 32-bit systems too: off_t never leaves this
 * file. */
#define _DEFAULT_SOURCE
#define _FILE_OFFSET_BITS 64

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "braincore/sys/io.h"
#include "base/base.h"

struct brain_io_file {
	int fd;
	char *path; /* for messages */
};

/* Largest transfer per system call (Linux moves at most 2 GiB - 4 KiB;
 * the loops continue after a short one). */
#define MAX_CHUNK ((size_t)1 << 30)
/* Piece written by the zero-filling fallback of allocate. */
#define ZERO_CHUNK ((size_t)64 << 10)
/* Alignment the interface promises for map offsets. */
#define MAP_ALIGN 4096u

/* Largest value of off_t (signed, 32 or 64 bits). */
#define OFF_T_MAX ((uint64_t)((((uint64_t)1 << (sizeof(off_t) * 8 - 2)) - 1) * 2 + 1))

/* ---- errors ------------------------------------------------------------ */

static int code_of(int e)
{
	switch (e) {
	case ENOENT:
		return BRAIN_ENOTFOUND;
	case EEXIST:
		return BRAIN_EEXISTS;
	case ENOSPC:
#ifdef EDQUOT
	case EDQUOT:
#endif
		return BRAIN_ENOSPC;
	case ENOMEM:
		return BRAIN_ENOMEM;
#if EAGAIN != EWOULDBLOCK
	case EAGAIN:
#endif
	case EWOULDBLOCK:
		return BRAIN_EBUSY;
	default: /* EACCES, EPERM, EROFS, EIO, EFBIG, ... */
		return BRAIN_EIO;
	}
}

/* strerror_r comes in two versions: XSI returns an int and fills buf, GNU
 * returns the text (possibly not in buf). Which one the C library gives
 * depends on feature macros, so pick by the type of the result. */
static const char *text_xsi(int r, const char *buf)
{
	return r == 0 ? buf : NULL;
}

static const char *text_gnu(const char *r, const char *buf)
{
	(void)buf;
	return r;
}

#define STRERROR_TEXT(r, buf) _Generic((r), int: text_xsi, default: text_gnu)((r), (buf))

/* Thread-safe text of errno value e; never NULL. */
static const char *errno_text(int e, char *buf, size_t size)
{
	buf[0] = '\0';
	const char *t = STRERROR_TEXT(strerror_r(e, buf, size), buf);
	if (!t || !*t) {
		snprintf(buf, size, "errno %d", e);
		t = buf;
	}
	return t;
}

/* Report errno value e: the message is the formatted operation, ": " and
 * the system's text. Returns the BRAIN_E* code. */
BRAIN_PRINTF(2, 3) static int fail(int e, const char *fmt, ...)
{
	char what[1024];
	char text[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	return brain__err(code_of(e), "%s: %s", what, errno_text(e, text, sizeof text));
}

static bool range_ok(uint64_t offset, uint64_t len)
{
	return offset <= OFF_T_MAX && len <= OFF_T_MAX - offset;
}

/* ---- files ------------------------------------------------------------- */

static int posix_open(void *payload, const char *path, unsigned int flags, brain_io_file **out)
{
	(void)payload;
	if (!out)
		return brain__err(BRAIN_ENULL, "open: out is NULL");
	*out = NULL;
	if (!path)
		return brain__err(BRAIN_ENULL, "open: path is NULL");
	const unsigned int known = BRAIN_IO_OPEN_WRITE | BRAIN_IO_OPEN_CREATE | BRAIN_IO_OPEN_EXCL;
	if (flags & ~known)
		return brain__err(BRAIN_EINVAL, "open \"%s\": unknown flags 0x%x", path, flags & ~known);
	if ((flags & BRAIN_IO_OPEN_CREATE) && !(flags & BRAIN_IO_OPEN_WRITE))
		return brain__err(BRAIN_EINVAL, "open \"%s\": CREATE needs WRITE", path);
	if ((flags & BRAIN_IO_OPEN_EXCL) && !(flags & BRAIN_IO_OPEN_CREATE))
		return brain__err(BRAIN_EINVAL, "open \"%s\": EXCL needs CREATE", path);

	/* Allocate first, so that running out of memory creates no file. */
	brain_io_file *f = brain__malloc(sizeof *f);
	char *copy = brain__strndup(path, strlen(path));
	if (!f || !copy) {
		brain__free(f);
		brain__free(copy);
		return brain__oom(sizeof *f + strlen(path) + 1, "io file");
	}
	/* A link inside a brain directory is never followed: a planted one
	 * would make the brain read or write a file elsewhere. */
	int oflags = O_CLOEXEC | O_NOFOLLOW | ((flags & BRAIN_IO_OPEN_WRITE) ? O_RDWR : O_RDONLY);
	if (flags & BRAIN_IO_OPEN_CREATE)
		oflags |= O_CREAT;
	if (flags & BRAIN_IO_OPEN_EXCL)
		oflags |= O_EXCL;
	int fd;
	do
		fd = open(path, oflags, 0644);
	while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		int e = errno;
		brain__free(copy);
		brain__free(f);
		if (e == ELOOP)
			return brain__err(BRAIN_EIO, "open \"%s\": is a symbolic link; braincore does not "
			                  "follow links inside a brain directory", path);
		return fail(e, "open \"%s\"", path);
	}
	/* A directory opens read-only; it is not a file of the brain. */
	struct stat st;
	int e = fstat(fd, &st) != 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : 0;
	if (e != 0) {
		close(fd);
		brain__free(copy);
		brain__free(f);
		return fail(e, "open \"%s\"", path);
	}
	f->fd = fd;
	f->path = copy;
	*out = f;
	return BRAIN_OK;
}

static int posix_close(brain_io_file *f)
{
	if (!f)
		return BRAIN_OK;
	int rc = BRAIN_OK;
	/* No retry on EINTR: Linux has released the descriptor by then, and
	 * retrying could close one another thread just opened. */
	if (close(f->fd) != 0 && errno != EINTR)
		rc = fail(errno, "close \"%s\"", f->path);
	brain__free(f->path);
	brain__free(f);
	return rc;
}

static int posix_pread(brain_io_file *f, void *buf, size_t len, uint64_t offset, size_t *done)
{
	if (done)
		*done = 0;
	if (!f || !done || (!buf && len > 0))
		return brain__err(BRAIN_ENULL, "pread: %s is NULL", !f ? "file" : !done ? "done" : "buf");
	if (!range_ok(offset, len))
		return brain__err(BRAIN_EINVAL,
		                  "pread \"%s\" at offset %llu (%zu bytes): beyond the largest offset",
		                  f->path, (unsigned long long)offset, len);
	unsigned char *p = buf;
	size_t total = 0;
	while (total < len) {
		size_t want = BRAIN_MIN(len - total, MAX_CHUNK);
		ssize_t n = pread(f->fd, p + total, want, (off_t)(offset + total));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			*done = total;
			return fail(errno, "pread \"%s\" at offset %llu (%zu bytes)", f->path,
			            (unsigned long long)offset, len);
		}
		if (n == 0)
			break; /* end of file */
		total += (size_t)n;
	}
	*done = total;
	return BRAIN_OK;
}

/* pwrite all of buf (checked by the caller). */
static int write_all(brain_io_file *f, const void *buf, size_t len, uint64_t offset)
{
	const unsigned char *p = buf;
	size_t total = 0;
	while (total < len) {
		size_t want = BRAIN_MIN(len - total, MAX_CHUNK);
		ssize_t n = pwrite(f->fd, p + total, want, (off_t)(offset + total));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return fail(errno, "pwrite \"%s\" at offset %llu (%zu bytes)", f->path,
			            (unsigned long long)offset, len);
		}
		if (n == 0) /* not for regular files; do not spin */
			return brain__err(BRAIN_EIO,
			                  "pwrite \"%s\" at offset %llu (%zu bytes): wrote nothing",
			                  f->path, (unsigned long long)(offset + total), len - total);
		total += (size_t)n;
	}
	return BRAIN_OK;
}

static int posix_pwrite(brain_io_file *f, const void *buf, size_t len, uint64_t offset)
{
	if (!f || (!buf && len > 0))
		return brain__err(BRAIN_ENULL, "pwrite: %s is NULL", !f ? "file" : "buf");
	if (!range_ok(offset, len))
		return brain__err(BRAIN_EINVAL,
		                  "pwrite \"%s\" at offset %llu (%zu bytes): beyond the largest offset",
		                  f->path, (unsigned long long)offset, len);
	return write_all(f, buf, len, offset);
}

static int posix_fsync(brain_io_file *f)
{
	if (!f)
		return brain__err(BRAIN_ENULL, "fsync: file is NULL");
	int r;
	do
		r = fdatasync(f->fd);
	while (r != 0 && errno == EINTR);
	if (r != 0)
		return fail(errno, "fsync \"%s\"", f->path);
	return BRAIN_OK;
}

static int file_size(brain_io_file *f, const char *op, uint64_t *size)
{
	struct stat st;
	if (fstat(f->fd, &st) != 0)
		return fail(errno, "%s \"%s\": fstat", op, f->path);
	*size = st.st_size > 0 ? (uint64_t)st.st_size : 0;
	return BRAIN_OK;
}

static int posix_size(brain_io_file *f, uint64_t *size)
{
	if (size)
		*size = 0;
	if (!f || !size)
		return brain__err(BRAIN_ENULL, "size: %s is NULL", !f ? "file" : "size");
	return file_size(f, "size", size);
}

static int set_size(brain_io_file *f, const char *op, uint64_t size)
{
	int r;
	do
		r = ftruncate(f->fd, (off_t)size);
	while (r != 0 && errno == EINTR);
	if (r != 0)
		return fail(errno, "%s \"%s\" to %llu bytes", op, f->path, (unsigned long long)size);
	return BRAIN_OK;
}

static int posix_truncate(brain_io_file *f, uint64_t size)
{
	if (!f)
		return brain__err(BRAIN_ENULL, "truncate: file is NULL");
	if (size > OFF_T_MAX)
		return brain__err(BRAIN_EINVAL,
		                  "truncate \"%s\" to %llu bytes: beyond the largest file size",
		                  f->path, (unsigned long long)size);
	return set_size(f, "truncate", size);
}

/* For file systems without fallocate: write zeros over the part of
 * [offset, end) beyond the current size, so that the blocks exist. On
 * failure the file goes back to its old size (best effort). */
static int allocate_by_writing(brain_io_file *f, uint64_t offset, uint64_t end)
{
	uint64_t size = 0;
	int rc = file_size(f, "allocate", &size);
	if (rc != BRAIN_OK)
		return rc;
	uint64_t pos = BRAIN_MAX(offset, size);
	if (pos >= end)
		return BRAIN_OK;
	void *zeros = brain__calloc(1, ZERO_CHUNK);
	if (!zeros)
		return brain__oom(ZERO_CHUNK, "allocate: zeros");
	while (pos < end) {
		size_t n = (size_t)BRAIN_MIN(end - pos, (uint64_t)ZERO_CHUNK);
		rc = write_all(f, zeros, n, pos);
		if (rc != BRAIN_OK)
			break;
		pos += n;
	}
	brain__free(zeros);
	if (rc != BRAIN_OK) {
		if (ftruncate(f->fd, (off_t)size) != 0) {
			/* keep the first error */
		}
		char prefix[1024];
		snprintf(prefix, sizeof prefix, "allocate \"%s\" by writing zeros: ", f->path);
		return brain__err_context(rc, prefix);
	}
	return BRAIN_OK;
}

static int posix_allocate(brain_io_file *f, uint64_t offset, uint64_t len)
{
	if (!f)
		return brain__err(BRAIN_ENULL, "allocate: file is NULL");
	if (!range_ok(offset, len))
		return brain__err(BRAIN_EINVAL,
		                  "allocate \"%s\" at offset %llu (%llu bytes): beyond the largest offset",
		                  f->path, (unsigned long long)offset, (unsigned long long)len);
	if (len == 0) {
		/* Nothing to reserve (and posix_fallocate refuses 0), but the file
		 * still grows to offset. */
		uint64_t size = 0;
		int rc = file_size(f, "allocate", &size);
		if (rc != BRAIN_OK || size >= offset)
			return rc;
		return set_size(f, "allocate", offset);
	}
	/* posix_fallocate returns the error number; it does not set errno. */
	int e;
	do
		e = posix_fallocate(f->fd, (off_t)offset, (off_t)len);
	while (e == EINTR);
	if (e == 0)
		return BRAIN_OK;
	if (e == EOPNOTSUPP || e == EINVAL)
		return allocate_by_writing(f, offset, offset + len);
	return fail(e, "allocate \"%s\" at offset %llu (%llu bytes)", f->path,
	            (unsigned long long)offset, (unsigned long long)len);
}

/* ---- mappings ---------------------------------------------------------- */

static size_t page_size(void)
{
	long p = sysconf(_SC_PAGESIZE);
	return p > 0 ? (size_t)p : MAP_ALIGN;
}

static int posix_map(brain_io_file *f, uint64_t offset, size_t len, void **addr)
{
	if (addr)
		*addr = NULL;
	if (!f || !addr)
		return brain__err(BRAIN_ENULL, "map: %s is NULL", !f ? "file" : "addr");
	if (len == 0)
		return brain__err(BRAIN_EINVAL, "map \"%s\" at offset %llu: length is 0", f->path,
		                  (unsigned long long)offset);
	if (offset % MAP_ALIGN != 0)
		return brain__err(BRAIN_EINVAL, "map \"%s\" at offset %llu: not a multiple of %u", f->path,
		                  (unsigned long long)offset, MAP_ALIGN);
	uint64_t size = 0;
	int rc = file_size(f, "map", &size);
	if (rc != BRAIN_OK)
		return rc;
	if (offset > size || len > size - offset)
		return brain__err(BRAIN_EINVAL,
		                  "map \"%s\" at offset %llu (%zu bytes): beyond the end of the file "
		                  "(%llu bytes)",
		                  f->path, (unsigned long long)offset, len, (unsigned long long)size);
	/* Start at the page that holds offset (the same place unless pages are
	 * larger than MAP_ALIGN). */
	size_t page = page_size();
	size_t lead = (size_t)(offset % page);
	void *p = mmap(NULL, len + lead, PROT_READ | PROT_WRITE, MAP_PRIVATE, f->fd,
	               (off_t)(offset - lead));
	if (p == MAP_FAILED)
		return fail(errno, "map \"%s\" at offset %llu (%zu bytes)", f->path,
		            (unsigned long long)offset, len);
	*addr = (unsigned char *)p + lead;
	return BRAIN_OK;
}

static int posix_unmap(void *payload, void *addr, size_t len)
{
	(void)payload;
	if (!addr)
		return brain__err(BRAIN_ENULL, "unmap: addr is NULL");
	if (len == 0)
		return brain__err(BRAIN_EINVAL, "unmap: length is 0");
	size_t lead = (size_t)((uintptr_t)addr % page_size());
	if (munmap((unsigned char *)addr - lead, len + lead) != 0)
		return fail(errno, "unmap %p (%zu bytes)", addr, len);
	return BRAIN_OK;
}

/* ---- locks ------------------------------------------------------------- */

static int posix_lock(brain_io_file *f, int exclusive)
{
	if (!f)
		return brain__err(BRAIN_ENULL, "lock: file is NULL");
	const char *kind = exclusive ? "exclusive" : "shared";
	int r;
	do
		r = flock(f->fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB);
	while (r != 0 && errno == EINTR);
	if (r == 0)
		return BRAIN_OK;
	if (errno == EWOULDBLOCK)
		return brain__err(BRAIN_EBUSY, "lock \"%s\" (%s): locked by another open of the file",
		                  f->path, kind);
	return fail(errno, "lock \"%s\" (%s)", f->path, kind);
}

/* ---- directories ------------------------------------------------------- */

static int posix_mkdir(void *payload, const char *path)
{
	(void)payload;
	if (!path)
		return brain__err(BRAIN_ENULL, "mkdir: path is NULL");
	int r;
	do
		r = mkdir(path, 0755);
	while (r != 0 && errno == EINTR);
	if (r != 0)
		return fail(errno, "mkdir \"%s\"", path);
	return BRAIN_OK;
}

static int posix_rename(void *payload, const char *from, const char *to)
{
	(void)payload;
	if (!from || !to)
		return brain__err(BRAIN_ENULL, "rename: %s is NULL", !from ? "from" : "to");
	int r;
	do
		r = rename(from, to);
	while (r != 0 && errno == EINTR);
	if (r != 0)
		return fail(errno, "rename \"%s\" to \"%s\"", from, to);
	return BRAIN_OK;
}

static int posix_unlink(void *payload, const char *path)
{
	(void)payload;
	if (!path)
		return brain__err(BRAIN_ENULL, "unlink: path is NULL");
	int r;
	do
		r = unlink(path);
	while (r != 0 && errno == EINTR);
	if (r != 0)
		return fail(errno, "unlink \"%s\"", path);
	return BRAIN_OK;
}

static int posix_sync_dir(void *payload, const char *path)
{
	(void)payload;
	if (!path)
		return brain__err(BRAIN_ENULL, "sync_dir: path is NULL");
	int fd;
	do
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return fail(errno, "sync_dir \"%s\": open", path);
	int r;
	do
		r = fsync(fd);
	while (r != 0 && errno == EINTR);
	int e = errno;
	close(fd);
	/* Some file systems cannot sync a directory and say EINVAL; their
	 * entries are as durable as they get (PostgreSQL ignores it too). */
	if (r != 0 && e != EINVAL)
		return fail(e, "sync_dir \"%s\"", path);
	return BRAIN_OK;
}

static int posix_list(void *payload, const char *path, int (*fn)(const char *name, void *ctx),
                      void *ctx)
{
	(void)payload;
	if (!path || !fn)
		return brain__err(BRAIN_ENULL, "list: path or fn is NULL");
	DIR *d = opendir(path);
	if (!d)
		return fail(errno, "list \"%s\"", path);
	int rc = BRAIN_OK;
	for (;;) {
		errno = 0;
		struct dirent *e = readdir(d);
		if (!e) {
			if (errno)
				rc = fail(errno, "list \"%s\"", path);
			break;
		}
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		rc = fn(e->d_name, ctx);
		if (rc)
			break;
	}
	closedir(d);
	return rc;
}

/* ---- the vtable -------------------------------------------------------- */

static const brain_io g_posix = {
	.version = BRAIN_IO_VERSION,
	.payload = NULL,
	.open = posix_open,
	.close = posix_close,
	.pread = posix_pread,
	.pwrite = posix_pwrite,
	.fsync = posix_fsync,
	.size = posix_size,
	.truncate = posix_truncate,
	.allocate = posix_allocate,
	.map = posix_map,
	.unmap = posix_unmap,
	.lock = posix_lock,
	.mkdir = posix_mkdir,
	.rename = posix_rename,
	.unlink = posix_unlink,
	.sync_dir = posix_sync_dir,
	.list = posix_list,
};

BRAIN_EXPORT const brain_io *brain_io_posix(void)
{
	return &g_posix;
}
