/*
 * tests/test_io.c - the POSIX io layer (storage/io_posix.c) through its
 * vtable: open flags, reads and writes with their short cases, size,
 * truncate and allocate, private mappings, locks between two opens of one
 * file, directories, rename, unlink, and the codes and messages of
 * failures, a full device (/dev/full) and a file size limit included.
 * Each test works in a fresh directory under /tmp.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "braincore.h"
#include "braincore/sys/io.h"
#include "tests/test_alloc.h"
#include "test_util.h"

enum {
	RW = BRAIN_IO_OPEN_WRITE,
	CREATE = BRAIN_IO_OPEN_WRITE | BRAIN_IO_OPEN_CREATE,
	EXCL = BRAIN_IO_OPEN_WRITE | BRAIN_IO_OPEN_CREATE | BRAIN_IO_OPEN_EXCL
};

static const brain_io *io;

/* ---- fixture: a fresh directory per test -------------------------------- */

typedef struct fixture {
	char dir[64];
	char path[256]; /* scratch for path_of() */
} fixture;

static const char *path_of(fixture *fx, const char *name)
{
	snprintf(fx->path, sizeof fx->path, "%s/%s", fx->dir, name);
	return fx->path;
}

static int setup(void **state)
{
	fixture *fx = calloc(1, sizeof *fx);
	if (!fx)
		return -1;
	strcpy(fx->dir, "/tmp/braincore-io-XXXXXX");
	if (!mkdtemp(fx->dir)) {
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	fixture *fx = *state;
	test_remove_tree(fx->dir);
	free(fx);
	return 0;
}

/* The last error message contains `part`. */
static void assert_msg_has(const char *part)
{
	const char *msg = brain_errmsg();
	if (!strstr(msg, part))
		fail_msg("message \"%s\" lacks \"%s\"", msg, part);
}

static brain_io_file *open_ok(fixture *fx, const char *name, unsigned int flags)
{
	brain_io_file *f = NULL;
	int rc = io->open(io->payload, path_of(fx, name), flags, &f);
	if (rc != 0)
		fail_msg("open %s: %s", name, brain_errmsg());
	assert_non_null(f);
	return f;
}

static void write_ok(brain_io_file *f, const void *buf, size_t len, uint64_t offset)
{
	int rc = io->pwrite(f, buf, len, offset);
	if (rc != 0)
		fail_msg("pwrite: %s", brain_errmsg());
}

static uint64_t size_of(brain_io_file *f)
{
	uint64_t size = 12345;
	assert_int_equal(io->size(f, &size), 0);
	return size;
}

static void fill(unsigned char *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (unsigned char)((i * 131u + seed * 7u) ^ (i >> 9));
}

/* ---- tests ------------------------------------------------------------- */

static void test_io__vtable(void **state)
{
	(void)state;
	assert_non_null(io);
	assert_ptr_equal(brain_io_posix(), io);
	assert_int_equal(io->version, BRAIN_IO_VERSION);
	assert_non_null(io->open);
	assert_non_null(io->sync_dir);
}

static void test_io__open_flags(void **state)
{
	fixture *fx = *state;
	brain_io_file *f = (brain_io_file *)(uintptr_t)1; /* must be reset */
	const char *p = path_of(fx, "a");
	assert_int_equal(io->open(NULL, p, 0, &f), BRAIN_ENOTFOUND);
	assert_null(f);
	assert_msg_has("open \"");
	assert_msg_has("/a\": ");
	assert_msg_has(strerror(ENOENT));
	assert_int_equal(io->open(NULL, p, RW, &f), BRAIN_ENOTFOUND);

	/* create, then EXCL fails, plain CREATE opens the existing file */
	f = open_ok(fx, "a", EXCL);
	assert_int_equal(io->close(f), 0);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 0700, 0600);
	assert_int_equal(io->open(NULL, p, EXCL, &f), BRAIN_EEXISTS);
	assert_null(f);
	assert_msg_has(p);
	f = open_ok(fx, "a", CREATE);
	assert_int_equal(io->close(f), 0);
	f = open_ok(fx, "a", 0);
	assert_int_equal(io->close(f), 0);

	/* flags that make no sense */
	assert_int_equal(io->open(NULL, p, BRAIN_IO_OPEN_CREATE, &f), BRAIN_EINVAL);
	assert_int_equal(io->open(NULL, p, RW | BRAIN_IO_OPEN_EXCL, &f), BRAIN_EINVAL);
	assert_int_equal(io->open(NULL, p, 1u << 7, &f), BRAIN_EINVAL);
	assert_null(f);

	/* a directory is not a file */
	assert_int_equal(io->open(NULL, fx->dir, 0, &f), BRAIN_EIO);
	assert_null(f);
	assert_int_equal(io->open(NULL, fx->dir, RW, &f), BRAIN_EIO);

	/* NULL arguments */
	assert_int_equal(io->open(NULL, NULL, 0, &f), BRAIN_ENULL);
	assert_int_equal(io->open(NULL, p, 0, NULL), BRAIN_ENULL);
	assert_int_equal(io->close(NULL), 0);
}

static void test_io__read_write(void **state)
{
	fixture *fx = *state;
	enum { N = 100000 };
	unsigned char *data = malloc(N), *back = malloc(N + 10);
	assert_non_null(data);
	assert_non_null(back);
	fill(data, N, 1);
	brain_io_file *f = open_ok(fx, "rw", CREATE);
	write_ok(f, data, N, 0);
	assert_int_equal(size_of(f), N);

	size_t done = 7;
	assert_int_equal(io->pread(f, back, N, 0, &done), 0);
	assert_int_equal(done, N);
	assert_memory_equal(back, data, N);
	/* short at the end of the file, nothing beyond it */
	assert_int_equal(io->pread(f, back, 1000, N - 10, &done), 0);
	assert_int_equal(done, 10);
	assert_memory_equal(back, data + N - 10, 10);
	assert_int_equal(io->pread(f, back, 1000, N, &done), 0);
	assert_int_equal(done, 0);
	assert_int_equal(io->pread(f, back, 1000, (uint64_t)1 << 40, &done), 0);
	assert_int_equal(done, 0);
	assert_int_equal(io->pread(f, back, 0, 0, &done), 0);
	assert_int_equal(done, 0);

	/* overwrite in the middle, write past the end (the gap reads as zeros) */
	write_ok(f, "hello", 5, 4096);
	write_ok(f, "end", 3, N + 100);
	assert_int_equal(size_of(f), N + 103);
	assert_int_equal(io->pread(f, back, 5, 4096, &done), 0);
	assert_memory_equal(back, "hello", 5);
	assert_int_equal(io->pread(f, back, 103, N, &done), 0);
	assert_int_equal(done, 103);
	for (int i = 0; i < 100; i++)
		assert_int_equal(back[i], 0);
	assert_memory_equal(back + 100, "end", 3);
	assert_int_equal(io->fsync(f), 0);
	assert_int_equal(io->close(f), 0);

	/* the data is in the file, seen through a new open */
	f = open_ok(fx, "rw", 0);
	assert_int_equal(io->pread(f, back, 4096, 0, &done), 0);
	assert_int_equal(done, 4096);
	assert_memory_equal(back, data, 4096);
	/* read-only: writes fail with the operation, path and offset */
	assert_int_equal(io->pwrite(f, data, 512, 4096), BRAIN_EIO);
	char want[512];
	snprintf(want, sizeof want, "pwrite \"%s\" at offset 4096 (512 bytes): %s",
	         path_of(fx, "rw"), strerror(EBADF));
	assert_string_equal(brain_errmsg(), want);
	assert_int_equal(io->truncate(f, 0), BRAIN_EIO);
	assert_msg_has("truncate \"");
	assert_int_equal(io->close(f), 0);

	/* NULL arguments */
	assert_int_equal(io->pread(NULL, back, 1, 0, &done), BRAIN_ENULL);
	assert_int_equal(io->pwrite(NULL, back, 1, 0), BRAIN_ENULL);
	assert_int_equal(io->fsync(NULL), BRAIN_ENULL);
	f = open_ok(fx, "rw", RW);
	assert_int_equal(io->pread(f, NULL, 1, 0, &done), BRAIN_ENULL);
	assert_int_equal(io->pread(f, back, 1, 0, NULL), BRAIN_ENULL);
	assert_int_equal(io->pwrite(f, NULL, 1, 0), BRAIN_ENULL);
	assert_int_equal(io->pwrite(f, NULL, 0, 0), 0);
	/* offsets beyond what off_t holds */
	assert_int_equal(io->pwrite(f, data, 1, UINT64_MAX), BRAIN_EINVAL);
	assert_int_equal(io->pread(f, back, 1, UINT64_MAX, &done), BRAIN_EINVAL);
	assert_int_equal(io->close(f), 0);
	free(data);
	free(back);
}

static void test_io__size_truncate_allocate(void **state)
{
	fixture *fx = *state;
	brain_io_file *f = open_ok(fx, "s", CREATE);
	assert_int_equal(size_of(f), 0);
	assert_int_equal(io->truncate(f, 10000), 0);
	assert_int_equal(size_of(f), 10000);
	unsigned char buf[16];
	size_t done;
	memset(buf, 0xaa, sizeof buf);
	assert_int_equal(io->pread(f, buf, sizeof buf, 9990, &done), 0);
	assert_int_equal(done, 10);
	for (int i = 0; i < 10; i++)
		assert_int_equal(buf[i], 0);
	write_ok(f, "xyz", 3, 100);
	assert_int_equal(io->truncate(f, 101), 0);
	assert_int_equal(size_of(f), 101);
	assert_int_equal(io->pread(f, buf, 3, 100, &done), 0);
	assert_int_equal(done, 1);
	assert_int_equal(buf[0], 'x');

	/* allocate grows the file and reserves the blocks */
	const uint64_t mib = 1 << 20;
	assert_int_equal(io->allocate(f, 0, mib), 0);
	assert_int_equal(size_of(f), mib);
	assert_int_equal(io->pread(f, buf, 1, 100, &done), 0);
	assert_int_equal(buf[0], 'x'); /* data kept */
	struct stat st;
	assert_int_equal(stat(path_of(fx, "s"), &st), 0);
	assert_true((uint64_t)st.st_blocks * 512 >= mib);
	/* within the size it changes nothing; beyond, it grows to the end */
	assert_int_equal(io->allocate(f, 4096, 4096), 0);
	assert_int_equal(size_of(f), mib);
	assert_int_equal(io->allocate(f, mib + 100, 4096), 0);
	assert_int_equal(size_of(f), mib + 100 + 4096);
	/* an empty range still moves the end */
	assert_int_equal(io->allocate(f, 0, 0), 0);
	assert_int_equal(size_of(f), mib + 100 + 4096);
	assert_int_equal(io->allocate(f, 3 * mib, 0), 0);
	assert_int_equal(size_of(f), 3 * mib);
	assert_int_equal(io->fsync(f), 0);

	assert_int_equal(io->allocate(f, UINT64_MAX - 10, 100), BRAIN_EINVAL);
	assert_int_equal(io->truncate(f, UINT64_MAX), BRAIN_EINVAL);
	assert_int_equal(size_of(f), 3 * mib);
	assert_int_equal(io->close(f), 0);

	uint64_t size;
	assert_int_equal(io->size(NULL, &size), BRAIN_ENULL);
	assert_int_equal(io->truncate(NULL, 0), BRAIN_ENULL);
	assert_int_equal(io->allocate(NULL, 0, 1), BRAIN_ENULL);
}

static void test_io__map_private(void **state)
{
	fixture *fx = *state;
	enum { N = 3 * 4096 + 100 };
	unsigned char data[N], back[N];
	fill(data, N, 2);
	brain_io_file *f = open_ok(fx, "m", CREATE);
	write_ok(f, data, N, 0);

	void *addr = (void *)1;
	assert_int_equal(io->map(f, 0, N, &addr), 0);
	assert_non_null(addr);
	assert_memory_equal(addr, data, N);
	/* writes through the mapping stay in it */
	memset(addr, 0x5a, N);
	size_t done;
	assert_int_equal(io->pread(f, back, N, 0, &done), 0);
	assert_int_equal(done, N);
	assert_memory_equal(back, data, N);
	assert_int_equal(io->unmap(io->payload, addr, N), 0);

	/* an aligned offset, up to the last byte exactly */
	assert_int_equal(io->map(f, 4096, N - 4096, &addr), 0);
	assert_memory_equal(addr, data + 4096, N - 4096);
	/* the mapping outlives the file */
	assert_int_equal(io->close(f), 0);
	assert_memory_equal(addr, data + 4096, N - 4096);
	((unsigned char *)addr)[0] ^= 1;
	assert_int_equal(io->unmap(NULL, addr, N - 4096), 0);

	/* a read-only file maps too (writes are still private) */
	f = open_ok(fx, "m", 0);
	assert_int_equal(io->map(f, 8192, 100, &addr), 0);
	((unsigned char *)addr)[0] ^= 1;
	assert_int_equal(io->unmap(NULL, addr, 100), 0);
	assert_int_equal(io->pread(f, back, 1, 8192, &done), 0);
	assert_int_equal(back[0], data[8192]);

	/* refused: misaligned, empty, past the end */
	assert_int_equal(io->map(f, 100, 100, &addr), BRAIN_EINVAL);
	assert_null(addr);
	assert_msg_has("4096");
	assert_int_equal(io->map(f, 0, 0, &addr), BRAIN_EINVAL);
	assert_int_equal(io->map(f, 0, N + 1, &addr), BRAIN_EINVAL);
	assert_msg_has("beyond the end");
	assert_int_equal(io->map(f, 4096, N - 4095, &addr), BRAIN_EINVAL);
	assert_int_equal(io->map(f, 16384, 1, &addr), BRAIN_EINVAL);
	assert_int_equal(io->map(f, UINT64_MAX & ~(uint64_t)4095, 4096, &addr), BRAIN_EINVAL);
	assert_int_equal(io->map(f, 0, SIZE_MAX, &addr), BRAIN_EINVAL);
	assert_null(addr);
	assert_int_equal(io->map(NULL, 0, 1, &addr), BRAIN_ENULL);
	assert_int_equal(io->map(f, 0, 1, NULL), BRAIN_ENULL);
	assert_int_equal(io->unmap(NULL, NULL, 1), BRAIN_ENULL);
	assert_int_equal(io->unmap(NULL, data, 0), BRAIN_EINVAL);
	assert_int_equal(io->close(f), 0);
}

static void test_io__locks(void **state)
{
	fixture *fx = *state;
	brain_io_file *a = open_ok(fx, "lock", CREATE);
	brain_io_file *b = open_ok(fx, "lock", RW);
	assert_int_equal(io->lock(a, 1), 0);
	assert_int_equal(io->lock(b, 1), BRAIN_EBUSY);
	assert_msg_has(path_of(fx, "lock"));
	assert_msg_has("exclusive");
	assert_int_equal(io->lock(b, 0), BRAIN_EBUSY);
	assert_msg_has("shared");
	/* closing releases */
	assert_int_equal(io->close(a), 0);
	assert_int_equal(io->lock(b, 1), 0);
	assert_int_equal(io->close(b), 0);

	/* shared with shared, not with exclusive */
	a = open_ok(fx, "lock", 0);
	b = open_ok(fx, "lock", 0);
	brain_io_file *c = open_ok(fx, "lock", RW);
	assert_int_equal(io->lock(a, 0), 0);
	assert_int_equal(io->lock(b, 0), 0);
	assert_int_equal(io->lock(c, 1), BRAIN_EBUSY);
	assert_int_equal(io->lock(b, 1), BRAIN_EBUSY); /* a still shares */
	assert_int_equal(io->close(a), 0);
	assert_int_equal(io->lock(b, 1), 0); /* upgraded once alone */
	assert_int_equal(io->lock(c, 0), BRAIN_EBUSY);
	assert_int_equal(io->close(b), 0);
	assert_int_equal(io->lock(c, 0), 0);
	assert_int_equal(io->close(c), 0);
	assert_int_equal(io->lock(NULL, 1), BRAIN_ENULL);
}

static void test_io__directories(void **state)
{
	fixture *fx = *state;
	char sub[256];
	snprintf(sub, sizeof sub, "%s", path_of(fx, "sub"));
	assert_int_equal(io->mkdir(NULL, sub), 0);
	struct stat st;
	assert_int_equal(stat(sub, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(io->mkdir(NULL, sub), BRAIN_EEXISTS);
	assert_msg_has("mkdir \"");
	assert_msg_has(sub);
	assert_int_equal(io->mkdir(NULL, path_of(fx, "no/such")), BRAIN_ENOTFOUND);
	assert_int_equal(io->sync_dir(NULL, sub), 0);
	assert_int_equal(io->sync_dir(NULL, fx->dir), 0);
	assert_int_equal(io->sync_dir(NULL, path_of(fx, "none")), BRAIN_ENOTFOUND);
	assert_msg_has("sync_dir \"");
	brain_io_file *f = open_ok(fx, "file", CREATE);
	assert_int_equal(io->close(f), 0);
	assert_int_equal(io->sync_dir(NULL, path_of(fx, "file")), BRAIN_EIO);
	assert_int_equal(io->mkdir(NULL, NULL), BRAIN_ENULL);
	assert_int_equal(io->sync_dir(NULL, NULL), BRAIN_ENULL);
}

static void test_io__rename_unlink(void **state)
{
	fixture *fx = *state;
	char a[256], b[256];
	snprintf(a, sizeof a, "%s", path_of(fx, "a"));
	snprintf(b, sizeof b, "%s", path_of(fx, "b"));
	brain_io_file *f = open_ok(fx, "a", CREATE);
	write_ok(f, "AAAA", 4, 0);
	assert_int_equal(io->close(f), 0);
	f = open_ok(fx, "b", CREATE);
	write_ok(f, "BB", 2, 0);
	assert_int_equal(io->close(f), 0);

	/* rename replaces the target */
	assert_int_equal(io->rename(NULL, a, b), 0);
	assert_int_equal(io->open(NULL, a, 0, &f), BRAIN_ENOTFOUND);
	f = open_ok(fx, "b", 0);
	assert_int_equal(size_of(f), 4);
	char buf[4];
	size_t done;
	assert_int_equal(io->pread(f, buf, 4, 0, &done), 0);
	assert_memory_equal(buf, "AAAA", 4);
	assert_int_equal(io->close(f), 0);
	assert_int_equal(io->rename(NULL, a, b), BRAIN_ENOTFOUND);
	assert_msg_has("rename \"");
	assert_msg_has("\" to \"");

	assert_int_equal(io->unlink(NULL, b), 0);
	assert_int_equal(io->unlink(NULL, b), BRAIN_ENOTFOUND);
	char want[512];
	snprintf(want, sizeof want, "unlink \"%s\": %s", b, strerror(ENOENT));
	assert_string_equal(brain_errmsg(), want);

	assert_int_equal(io->rename(NULL, NULL, b), BRAIN_ENULL);
	assert_int_equal(io->rename(NULL, a, NULL), BRAIN_ENULL);
	assert_int_equal(io->unlink(NULL, NULL), BRAIN_ENULL);
}

/* Running out of memory in open creates no file and leaks nothing; a
 * file's memory goes back on close. */
static void test_io__open_out_of_memory(void **state)
{
	fixture *fx = *state;
	const char *p = path_of(fx, "oom");
	assert_int_equal(test_alloc_install(), 0);
	for (long n = 1; n <= 2; n++) {
		brain_io_file *f = NULL;
		test_alloc_arm(n);
		assert_int_equal(io->open(NULL, p, CREATE, &f), BRAIN_ENOMEM);
		test_alloc_disarm();
		assert_null(f);
		assert_int_equal(test_alloc_live, 0);
		struct stat st;
		assert_int_equal(stat(p, &st), -1);
	}
	brain_io_file *f = open_ok(fx, "oom", CREATE);
	assert_true(test_alloc_live > 0);
	assert_int_equal(io->close(f), 0);
	assert_int_equal(test_alloc_live, 0);
	assert_int_equal(test_alloc_remove(), 0);
}

/* A device that is always full: writes fail with ENOSPC. */
static void test_io__full_device(void **state)
{
	(void)state;
	brain_io_file *f = NULL;
	if (io->open(NULL, "/dev/full", RW, &f) != 0)
		skip();
	char buf[512] = {0};
	assert_int_equal(io->pwrite(f, buf, sizeof buf, 0), BRAIN_ENOSPC);
	assert_msg_has("pwrite \"/dev/full\" at offset 0 (512 bytes): ");
	assert_msg_has(strerror(ENOSPC));
	assert_int_equal(io->close(f), 0);
}

/* A file size limit (RLIMIT_FSIZE): the write that crosses it stops short,
 * the next part fails with EFBIG, reported rather than raised as SIGXFSZ. */
static void test_io__file_size_limit(void **state)
{
	fixture *fx = *state;
	struct rlimit old, lim;
	if (getrlimit(RLIMIT_FSIZE, &old) != 0)
		skip();
	lim = old;
	lim.rlim_cur = 65536;
	if (old.rlim_max != RLIM_INFINITY && old.rlim_max < lim.rlim_cur)
		skip();
	brain_io_file *f = open_ok(fx, "big", CREATE);
	void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
	assert_true(old_handler != SIG_ERR);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);

	unsigned char buf[8192];
	fill(buf, sizeof buf, 3);
	int rc_write = io->pwrite(f, buf, sizeof buf, 60000);
	char msg_write[1024];
	snprintf(msg_write, sizeof msg_write, "%s", brain_errmsg());
	int rc_alloc = io->allocate(f, 0, 1 << 20);
	char msg_alloc[1024];
	snprintf(msg_alloc, sizeof msg_alloc, "%s", brain_errmsg());
	int rc_trunc = io->truncate(f, 1 << 20);

	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, old_handler);

	assert_true(rc_write == BRAIN_EIO || rc_write == BRAIN_ENOSPC);
	assert_non_null(strstr(msg_write, "pwrite \""));
	assert_non_null(strstr(msg_write, "/big\" at offset 60000 (8192 bytes): "));
	assert_non_null(strstr(msg_write, strerror(EFBIG)));
	/* the part below the limit got written */
	assert_int_equal(size_of(f), 65536);
	unsigned char back[5536];
	size_t done;
	assert_int_equal(io->pread(f, back, sizeof back, 60000, &done), 0);
	assert_int_equal(done, sizeof back);
	assert_memory_equal(back, buf, sizeof back);

	assert_true(rc_alloc == BRAIN_EIO || rc_alloc == BRAIN_ENOSPC);
	assert_non_null(strstr(msg_alloc, "allocate \""));
	assert_true(rc_trunc == BRAIN_EIO || rc_trunc == BRAIN_ENOSPC);
	assert_int_equal(io->close(f), 0);
}

int main(void)
{
	io = brain_io_posix();
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_io__vtable),
		T(test_io__open_flags),
		T(test_io__read_write),
		T(test_io__size_truncate_allocate),
		T(test_io__map_private),
		T(test_io__locks),
		T(test_io__directories),
		T(test_io__rename_unlink),
		T(test_io__open_out_of_memory),
		T(test_io__full_device),
		T(test_io__file_size_limit),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
