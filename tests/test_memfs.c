/*
 * tests/test_memfs.c - the crash-simulating in-memory file system of the
 * tests (tests/memfs.c): the brain_io contract, durability of data and
 * directory entries across simulated crashes, fault injection, tearing,
 * clones, locks and mappings.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"
#include "tests/memfs.h"

#define W (BRAIN_IO_OPEN_WRITE)
#define WC (BRAIN_IO_OPEN_WRITE | BRAIN_IO_OPEN_CREATE)
#define WCX (BRAIN_IO_OPEN_WRITE | BRAIN_IO_OPEN_CREATE | BRAIN_IO_OPEN_EXCL)

/* ---- helpers ----------------------------------------------------------- */

static memfs *new_fs(void)
{
	memfs *fs = memfs_new();
	assert_non_null(fs);
	return fs;
}

static brain_io_file *open_file(memfs *fs, const char *path, unsigned int flags)
{
	const brain_io *io = memfs_io(fs);
	brain_io_file *f = NULL;
	assert_int_equal(io->open(io->payload, path, flags, &f), 0);
	assert_non_null(f);
	return f;
}

static void put(memfs *fs, brain_io_file *f, uint64_t off, const char *s)
{
	assert_int_equal(memfs_io(fs)->pwrite(f, s, strlen(s), off), 0);
}

static void sync_file(memfs *fs, brain_io_file *f)
{
	assert_int_equal(memfs_io(fs)->fsync(f), 0);
}

static void close_file(memfs *fs, brain_io_file *f)
{
	assert_int_equal(memfs_io(fs)->close(f), 0);
}

static void sync_dir(memfs *fs, const char *path)
{
	const brain_io *io = memfs_io(fs);
	assert_int_equal(io->sync_dir(io->payload, path), 0);
}

static void make_dir(memfs *fs, const char *path)
{
	const brain_io *io = memfs_io(fs);
	assert_int_equal(io->mkdir(io->payload, path), 0);
}

static bool exists(memfs *fs, const char *path)
{
	unsigned char *data;
	size_t size;
	int rc = memfs_read_file(fs, path, &data, &size);
	free(data);
	if (rc == BRAIN_ENOTFOUND)
		return false;
	assert_int_equal(rc, 0);
	return true;
}

/* The file holds exactly the string s. */
static void expect_text(memfs *fs, const char *path, const char *s)
{
	unsigned char *data;
	size_t size;
	assert_int_equal(memfs_read_file(fs, path, &data, &size), 0);
	assert_int_equal(size, strlen(s));
	assert_memory_equal(data, s, size);
	free(data);
}

/* A directory "b" with a durable file "b/f" holding s. */
static memfs *fs_with_file(const char *s)
{
	memfs *fs = new_fs();
	assert_int_equal(memfs_write_file(fs, "b/f", s, strlen(s)), 0);
	return fs;
}

/* ---- the io contract --------------------------------------------------- */

static void test_memfs__open_flags(void **state)
{
	(void)state;
	memfs *fs = new_fs();
	const brain_io *io = memfs_io(fs);
	void *p = io->payload;
	brain_io_file *f = (brain_io_file *)&f;
	assert_int_equal(io->open(p, "x", 0, &f), BRAIN_ENOTFOUND);
	assert_null(f);
	assert_int_equal(io->open(p, "x", W, &f), BRAIN_ENOTFOUND);
	assert_int_equal(io->open(p, "nodir/x", WC, &f), BRAIN_ENOTFOUND);
	assert_int_equal(io->open(p, "x", BRAIN_IO_OPEN_CREATE, &f), BRAIN_EINVAL);
	assert_int_equal(io->open(p, "x", W | BRAIN_IO_OPEN_EXCL, &f), BRAIN_EINVAL);
	assert_int_equal(io->open(p, "x", 1u << 7, &f), BRAIN_EINVAL);
	assert_int_equal(io->open(p, "x", WC, NULL), BRAIN_ENULL);
	assert_int_equal(io->open(p, NULL, WC, &f), BRAIN_ENULL);

	make_dir(fs, "b");
	assert_int_equal(io->open(p, "b", 0, &f), BRAIN_EIO); /* a directory */
	brain_io_file *a = open_file(fs, "b/x", WCX);
	assert_int_equal(io->open(p, "b/x", WCX, &f), BRAIN_EEXISTS);
	assert_int_equal(io->open(p, "./b//x", WCX, &f), BRAIN_EEXISTS); /* same path */
	brain_io_file *r = open_file(fs, "b/x", 0);
	brain_io_file *w = open_file(fs, "b/x", WC); /* CREATE opens an existing one */
	put(fs, a, 0, "abc");
	char buf[8];
	size_t done;
	assert_int_equal(io->pread(r, buf, sizeof buf, 0, &done), 0);
	assert_int_equal(done, 3);
	assert_memory_equal(buf, "abc", 3);
	/* a read-only file cannot be changed */
	assert_int_equal(io->pwrite(r, "z", 1, 0), BRAIN_EIO);
	assert_int_equal(io->truncate(r, 0), BRAIN_EIO);
	assert_int_equal(io->allocate(r, 0, 10), BRAIN_EIO);
	assert_int_equal(memfs_open_files(fs), 3);
	close_file(fs, a);
	close_file(fs, r);
	close_file(fs, w);
	assert_int_equal(io->close(NULL), 0);
	assert_int_equal(memfs_open_files(fs), 0);
	memfs_free(fs);
}

static void test_memfs__read_write_size_truncate_allocate(void **state)
{
	(void)state;
	memfs *fs = new_fs();
	const brain_io *io = memfs_io(fs);
	make_dir(fs, "b");
	brain_io_file *f = open_file(fs, "b/f", WC);
	uint64_t size = 99;
	assert_int_equal(io->size(f, &size), 0);
	assert_int_equal(size, 0);

	/* pwrite past the end fills the gap with zeros */
	put(fs, f, 4, "xy");
	assert_int_equal(io->size(f, &size), 0);
	assert_int_equal(size, 6);
	unsigned char buf[16];
	size_t done;
	memset(buf, 0xee, sizeof buf);
	assert_int_equal(io->pread(f, buf, sizeof buf, 0, &done), 0);
	assert_int_equal(done, 6); /* short at the end */
	assert_memory_equal(buf, "\0\0\0\0xy", 6);
	assert_int_equal(io->pread(f, buf, 4, 6, &done), 0);
	assert_int_equal(done, 0);
	assert_int_equal(io->pread(f, buf, 4, 1000, &done), 0);
	assert_int_equal(done, 0);
	assert_int_equal(io->pread(f, buf, 2, 3, &done), 0);
	assert_int_equal(done, 2);
	assert_memory_equal(buf, "\0x", 2);
	assert_int_equal(io->pwrite(f, NULL, 0, 100), 0); /* nothing */

	/* truncate shrinks, and growth after it is zeros (not old bytes) */
	assert_int_equal(io->truncate(f, 5), 0);
	assert_int_equal(io->truncate(f, 8), 0);
	assert_int_equal(io->pread(f, buf, sizeof buf, 0, &done), 0);
	assert_int_equal(done, 8);
	assert_memory_equal(buf, "\0\0\0\0x\0\0\0", 8);

	/* allocate grows (zeros), never shrinks; len 0 grows to offset */
	assert_int_equal(io->allocate(f, 0, 4), 0);
	assert_int_equal(io->size(f, &size), 0);
	assert_int_equal(size, 8);
	assert_int_equal(io->allocate(f, 8, 8), 0);
	assert_int_equal(io->size(f, &size), 0);
	assert_int_equal(size, 16);
	assert_int_equal(io->allocate(f, 20, 0), 0);
	assert_int_equal(io->size(f, &size), 0);
	assert_int_equal(size, 20);
	assert_int_equal(io->pread(f, buf, sizeof buf, 4, &done), 0);
	assert_int_equal(done, 16);
	assert_int_equal(buf[0], 'x');
	for (size_t i = 1; i < 16; i++)
		assert_int_equal(buf[i], 0);

	/* beyond the largest memfs file */
	assert_int_equal(io->pwrite(f, "a", 1, UINT64_MAX), BRAIN_ENOSPC);
	assert_int_equal(io->allocate(f, (uint64_t)1 << 40, 1), BRAIN_ENOSPC);
	assert_int_equal(io->truncate(f, (uint64_t)1 << 40), BRAIN_ENOSPC);
	assert_int_equal(io->size(f, &size), 0);
	assert_int_equal(size, 20);
	close_file(fs, f);
	memfs_free(fs);
}

static void test_memfs__map_is_a_private_copy(void **state)
{
	(void)state;
	memfs *fs = new_fs();
	const brain_io *io = memfs_io(fs);
	size_t n = 3 * 4096 + 100;
	unsigned char *content = malloc(n);
	assert_non_null(content);
	for (size_t i = 0; i < n; i++)
		content[i] = (unsigned char)(i * 7 + 1);
	assert_int_equal(memfs_write_file(fs, "b/f", content, n), 0);
	brain_io_file *f = open_file(fs, "b/f", W);

	void *addr = (void *)&addr;
	assert_int_equal(io->map(f, 1, 10, &addr), BRAIN_EINVAL); /* not 4096-aligned */
	assert_null(addr);
	assert_int_equal(io->map(f, 0, 0, &addr), BRAIN_EINVAL);
	assert_int_equal(io->map(f, 4096, n - 4096 + 1, &addr), BRAIN_EINVAL); /* beyond the end */
	assert_int_equal(io->map(f, 4 * 4096, 1, &addr), BRAIN_EINVAL);
	assert_int_equal(memfs_live_maps(fs), 0);

	void *a, *b;
	assert_int_equal(io->map(f, 0, n, &a), 0);
	assert_int_equal(io->map(f, 4096, n - 4096, &b), 0); /* up to the end exactly */
	assert_int_equal((uintptr_t)a % 4096, 0);
	assert_int_equal((uintptr_t)b % 4096, 0);
	assert_int_equal(memfs_live_maps(fs), 2);
	assert_memory_equal(a, content, n);
	assert_memory_equal(b, content + 4096, n - 4096);

	/* writes through a mapping never reach the file, and writes to the
	 * file do not show in the mapping (a copy made at map time) */
	memset(a, 0, 4096);
	unsigned char byte;
	size_t done;
	assert_int_equal(io->pread(f, &byte, 1, 0, &done), 0);
	assert_int_equal(byte, content[0]);
	put(fs, f, 4096, "Z");
	assert_int_equal(((unsigned char *)b)[0], content[4096]);

	/* the mapping outlives the file and a crash */
	close_file(fs, f);
	assert_int_equal(memfs_crash(fs, MEMFS_CRASH_DROP, 1), 0);
	assert_memory_equal(b, content + 4096, n - 4096);
	assert_int_equal(io->unmap(io->payload, a, n), 0);
	assert_int_equal(io->unmap(io->payload, b, n - 4096), 0);
	assert_int_equal(io->unmap(io->payload, NULL, 1), BRAIN_ENULL);
	assert_int_equal(memfs_live_maps(fs), 0);
	free(content);
	memfs_free(fs);
}

static void test_memfs__locks(void **state)
{
	(void)state;
	memfs *fs = fs_with_file("x");
	const brain_io *io = memfs_io(fs);
	brain_io_file *a = open_file(fs, "b/f", W);
	brain_io_file *b = open_file(fs, "b/f", 0);
	brain_io_file *c = open_file(fs, "b/f", 0);
	assert_int_equal(memfs_write_file(fs, "b/g", "y", 1), 0);
	brain_io_file *other = open_file(fs, "b/g", W);

	assert_int_equal(io->lock(a, 1), 0);
	assert_int_equal(io->lock(a, 1), 0);               /* again, same open */
	assert_int_equal(io->lock(b, 0), BRAIN_EBUSY);     /* another open of the file */
	assert_int_equal(io->lock(b, 1), BRAIN_EBUSY);
	assert_int_equal(io->lock(other, 1), 0);           /* another file */
	close_file(fs, a);                                 /* released by close */
	assert_int_equal(io->lock(b, 0), 0);
	assert_int_equal(io->lock(c, 0), 0);               /* shared with shared */
	a = open_file(fs, "b/f", W);
	assert_int_equal(io->lock(a, 1), BRAIN_EBUSY);
	assert_int_equal(io->lock(b, 1), BRAIN_EBUSY);     /* no upgrade while c shares */
	close_file(fs, c);
	assert_int_equal(io->lock(b, 1), 0);               /* upgrade */
	assert_int_equal(io->lock(a, 0), BRAIN_EBUSY);
	assert_int_equal(io->lock(b, 0), 0);               /* downgrade */
	assert_int_equal(io->lock(a, 0), 0);

	/* a crash kills the opens and their locks */
	assert_int_equal(memfs_crash(fs, MEMFS_CRASH_DROP, 0), 0);
	assert_int_equal(io->lock(a, 1), BRAIN_EIO);
	brain_io_file *d = open_file(fs, "b/f", W);
	assert_int_equal(io->lock(d, 1), 0);
	close_file(fs, a);
	close_file(fs, b);
	close_file(fs, d);
	close_file(fs, other);
	memfs_free(fs);
}

static void test_memfs__directories(void **state)
{
	(void)state;
	memfs *fs = new_fs();
	const brain_io *io = memfs_io(fs);
	void *p = io->payload;
	make_dir(fs, "b");
	assert_int_equal(io->mkdir(p, "b"), BRAIN_EEXISTS);
	assert_int_equal(io->mkdir(p, "."), BRAIN_EEXISTS);
	assert_int_equal(io->mkdir(p, "x/y"), BRAIN_ENOTFOUND);
	assert_int_equal(io->sync_dir(p, "x"), BRAIN_ENOTFOUND);
	assert_int_equal(io->sync_dir(p, "."), 0);
	assert_int_equal(io->sync_dir(p, ""), 0);
	make_dir(fs, "b/sub");
	close_file(fs, open_file(fs, "b/one", WC));
	close_file(fs, open_file(fs, "b/two", WC));
	assert_int_equal(memfs_write_file(fs, "b/three", "3", 1), 0);
	assert_int_equal(io->mkdir(p, "b/one"), BRAIN_EEXISTS);
	assert_int_equal(io->sync_dir(p, "b/one"), BRAIN_EIO); /* not a directory */

	char **names;
	size_t n;
	assert_int_equal(memfs_list(fs, "b", &names, &n), 0);
	assert_int_equal(n, 4);
	assert_string_equal(names[0], "one");
	assert_string_equal(names[1], "sub");
	assert_string_equal(names[2], "three");
	assert_string_equal(names[3], "two");
	memfs_free_list(names, n);
	assert_int_equal(memfs_list(fs, "b/one", &names, &n), BRAIN_EINVAL);
	assert_int_equal(memfs_list(fs, "nope", &names, &n), BRAIN_ENOTFOUND);

	/* rename replaces atomically */
	assert_int_equal(io->rename(p, "b/three", "b/one"), 0);
	expect_text(fs, "b/one", "3");
	assert_false(exists(fs, "b/three"));
	assert_int_equal(io->rename(p, "b/three", "b/x"), BRAIN_ENOTFOUND);
	assert_int_equal(io->rename(p, "b/one", "nodir/x"), BRAIN_ENOTFOUND);
	assert_int_equal(io->rename(p, "b/one", "b/one"), 0);
	assert_int_equal(io->rename(p, "b/one", "b/sub"), BRAIN_EIO); /* over a directory */
	assert_int_equal(io->rename(p, "b", "b/sub/b"), BRAIN_EINVAL); /* into itself */
	/* an open file follows its inode through a rename */
	brain_io_file *f = open_file(fs, "b/one", W);
	assert_int_equal(io->rename(p, "b/one", "b/sub/moved"), 0);
	put(fs, f, 1, "4");
	expect_text(fs, "b/sub/moved", "34");
	close_file(fs, f);
	/* directories rename with what they hold */
	assert_int_equal(io->rename(p, "b/sub", "b/sub2"), 0);
	expect_text(fs, "b/sub2/moved", "34");

	assert_int_equal(io->unlink(p, "b/two"), 0);
	assert_int_equal(io->unlink(p, "b/two"), BRAIN_ENOTFOUND);
	assert_int_equal(io->unlink(p, "b/sub2"), BRAIN_EIO); /* a directory */
	assert_false(exists(fs, "b/two"));
	/* an unlinked file stays readable through an open of it */
	f = open_file(fs, "b/sub2/moved", 0);
	assert_int_equal(io->unlink(p, "b/sub2/moved"), 0);
	char buf[4];
	size_t done;
	assert_int_equal(io->pread(f, buf, sizeof buf, 0, &done), 0);
	assert_int_equal(done, 2);
	close_file(fs, f);
	memfs_free(fs);
}

/* ---- durability -------------------------------------------------------- */

static void test_memfs__unsynced_write_lost_on_drop(void **state)
{
	(void)state;
	memfs *fs = fs_with_file("durable");
	brain_io_file *f = open_file(fs, "b/f", W);
	put(fs, f, 0, "CHANGED");
	put(fs, f, 7, "+more");
	expect_text(fs, "b/f", "CHANGED+more");
	assert_int_equal(memfs_crash(fs, MEMFS_CRASH_DROP, 0), 0);
	expect_text(fs, "b/f", "durable");
	close_file(fs, f);
	memfs_free(fs);
}

static void test_memfs__fsynced_data_survives(void **state)
{
	(void)state;
	memfs *fs = fs_with_file("durable");
	brain_io_file *f = open_file(fs, "b/f", W);
	put(fs, f, 0, "DUR");
	sync_file(fs, f);
	put(fs, f, 7, "-lost");
	assert_int_equal(memfs_crash(fs, MEMFS_CRASH_DROP, 0), 0);
	expect_text(fs, "b/f", "DURable");
	close_file(fs, f);

	/* many small synced appends, then an unsynced one */
	f = open_file(fs, "b/f", W);
	for (int i = 0; i < 50; i++) {
		put(fs, f, 7 + (uint64_t)i, "x");
		sync_file(fs, f);
	}
	assert_int_equal(memfs_io(fs)->truncate(f, 10), 0);
	sync_file(fs, f);
	put(fs, f, 10, "lost");
	assert_int_equal(memfs_crash(fs, MEMFS_CRASH_DROP, 0), 0);
	expect_text(fs, "b/f", "DURablexxx");
	close_file(fs, f);
	memfs_free(fs);
}

static void test_memfs__created_file_needs_sync_dir(void **state)
{
	(void)state;
	memfs *fs = new_fs();
	make_dir(fs, "b"); /* top level: durable at once */
	brain_io_file *f = open_file(fs, "b/new", WC);
	put(fs, f, 0, "data");
	sync_file(fs, f); /* the data, not the entry */
	close_file(fs, f);
	assert_int_equal(memfs_crash(fs, MEMFS_CRASH_DROP, 0), 0);
	assert_false(exists(fs, "b/new"));
	char **names;
	size_t n;
	assert_int_equal(memfs_list(fs, "b", &names, &n), 0);
	assert_int_equal(n, 0);
	memfs_free_list(names, n);

	/* with sync_dir it stays, with its synced data */
	f = open_file(fs, "b/new", WC);
	put(fs, f, 0, "data");
	sync_file(fs, f);
	sync_dir(fs, "b");
	put(fs, f, 4, "-unsynced");
	close_file(fs, f);
	assert_int_equal(memfs_crash(fs, MEMFS_CRASH_DROP, 0), 0);
	expect_text(fs, "b/new", "data");

	/* sync_dir without fsync: the entry stays, the data does not */
	f = open_file(fs, "b/empty", WC);
	put(fs, f, 0, "data");
	sync_dir(fs, "b");
	close_file(fs, f);
	assert_int_equal(memfs_crash(fs, MEMFS_CRASH_DROP, 0), 0);
	expect_text(fs, "b/empty", "");
	memfs_free(fs);
}

static void test_memfs__nested_directory_needs_sync_of_parent(void **state)
{
	(void)state;
	memfs *fs = new_fs();
	make_dir(fs, "b");
	make_dir(fs, "b/sub");
	brain_io_file *f = open_file(fs, "b/sub/f", WC);
	put(fs, f, 0, "x");
	sync_file(fs, f);
	sync_dir(fs, "b/sub"); /* f is in sub, but sub is not yet in b */
	close_file(fs, f);
	assert_int_equal(memfs_crash(fs, MEMFS_CRASH_DROP, 0), 0);
	assert_false(exists(fs, "b/sub/f"));
	const brain_io *io = memfs_io(fs);
	assert_int_equal(io->sync_dir(io->payload, "b/sub"), BRAIN_ENOTFOUND);

	make_dir(fs, "b/sub");
	sync_dir(fs, "b");
	f = open_file(fs, "b/sub/f", WC);
	put(fs, f, 0, "x");
	sync_file(fs, f);
	sync_dir(fs, "b/sub");
	close_file(fs, f);
	assert_int_equal(memfs_crash(fs, MEMFS_CRASH_DROP, 0), 0);
	expect_text(fs, "b/sub/f", "x");
	memfs_free(fs);
}

static void test_memfs__rename_durable_after_sync_dir(void **state)
{
	(void)state;
	memfs *fs = fs_with_file("old");
	const brain_io *io = memfs_io(fs);
	/* write a new version, sync it, rename over the old one */
	brain_io_file *f = open_file(fs, "b/f.tmp", WCX);
	put(fs, f, 0, "new");
	sync_file(fs, f);
	close_file(fs, f);
	assert_int_equal(io->rename(io->payload, "b/f.tmp", "b/f"), 0);
	expect_text(fs, "b/f", "new");
	memfs *before_sync = memfs_clone(fs);
	assert_non_null(before_sync);

	/* without sync_dir: the old file and no tmp... the tmp entry was never
	 * durable either */
	assert_int_equal(memfs_crash(before_sync, MEMFS_CRASH_DROP, 0), 0);
	expect_text(before_sync, "b/f", "old");
	assert_false(exists(before_sync, "b/f.tmp"));
	memfs_free(before_sync);

	/* with sync_dir: the new one */
	sync_dir(fs, "b");
	assert_int_equal(memfs_crash(fs, MEMFS_CRASH_DROP, 0), 0);
	expect_text(fs, "b/f", "new");
	assert_false(exists(fs, "b/f.tmp"));

	/* a durable tmp renamed without sync_dir comes back under its old name */
	f = open_file(fs, "b/g.tmp", WCX);
	put(fs, f, 0, "g");
	sync_file(fs, f);
	close_file(fs, f);
	sync_dir(fs, "b");
	assert_int_equal(io->rename(io->payload, "b/g.tmp", "b/g"), 0);
	assert_int_equal(memfs_crash(fs, MEMFS_CRASH_DROP, 0), 0);
	expect_text(fs, "b/g.tmp", "g");
	assert_false(exists(fs, "b/g"));
	memfs_free(fs);
}

static void test_memfs__unlink_durable_after_sync_dir(void **state)
{
	(void)state;
	memfs *fs = fs_with_file("keep");
	const brain_io *io = memfs_io(fs);
	assert_int_equal(io->unlink(io->payload, "b/f"), 0);
	assert_false(exists(fs, "b/f"));
	assert_int_equal(memfs_crash(fs, MEMFS_CRASH_DROP, 0), 0);
	expect_text(fs, "b/f", "keep"); /* the unlink was not durable */
	assert_int_equal(io->unlink(io->payload, "b/f"), 0);
	sync_dir(fs, "b");
	assert_int_equal(memfs_crash(fs, MEMFS_CRASH_DROP, 0), 0);
	assert_false(exists(fs, "b/f"));
	memfs_free(fs);
}

static void test_memfs__keep_keeps_all(void **state)
{
	(void)state;
	memfs *fs = fs_with_file("old");
	const brain_io *io = memfs_io(fs);
	brain_io_file *f = open_file(fs, "b/f", W);
	put(fs, f, 3, "+kept");
	assert_int_equal(io->truncate(f, 6), 0);
	brain_io_file *g = open_file(fs, "b/g", WC);
	put(fs, g, 0, "g");
	make_dir(fs, "b/d");
	assert_int_equal(io->rename(io->payload, "b/g", "b/d/g"), 0);
	assert_int_equal(memfs_crash(fs, MEMFS_CRASH_KEEP, 0), 0);
	expect_text(fs, "b/f", "old+ke");
	expect_text(fs, "b/d/g", "g");
	/* and it is durable now */
	assert_int_equal(memfs_crash(fs, MEMFS_CRASH_DROP, 0), 0);
	expect_text(fs, "b/f", "old+ke");
	expect_text(fs, "b/d/g", "g");
	close_file(fs, f);
	close_file(fs, g);
	memfs_free(fs);
}

static void test_memfs__unsynced_size_changes_revert(void **state)
{
	(void)state;
	memfs *fs = fs_with_file("0123456789");
	const brain_io *io = memfs_io(fs);
	brain_io_file *f = open_file(fs, "b/f", W);
	assert_int_equal(io->truncate(f, 2), 0);
	assert_int_equal(memfs_crash(fs, MEMFS_CRASH_DROP, 0), 0);
	expect_text(fs, "b/f", "0123456789");
	close_file(fs, f);
	f = open_file(fs, "b/f", W);
	assert_int_equal(io->allocate(f, 0, 1 << 20), 0);
	uint64_t size;
	assert_int_equal(io->size(f, &size), 0);
	assert_int_equal(size, 1 << 20);
	assert_int_equal(memfs_crash(fs, MEMFS_CRASH_DROP, 0), 0);
	expect_text(fs, "b/f", "0123456789");
	close_file(fs, f);
	memfs_free(fs);
}

/* ---- faults ------------------------------------------------------------ */

static void test_memfs__fail_at_fails_once(void **state)
{
	(void)state;
	memfs *fs = fs_with_file("abc");
	const brain_io *io = memfs_io(fs);
	brain_io_file *f = open_file(fs, "b/f", W);
	memfs_reset_counter(fs);
	assert_int_equal(memfs_calls(fs), 0);
	memfs_fail_at(fs, 2, BRAIN_ENOSPC);
	assert_true(memfs_armed(fs));
	put(fs, f, 0, "1");                                     /* call 1 */
	assert_int_equal(io->pwrite(f, "2", 1, 0), BRAIN_ENOSPC); /* call 2: nothing done */
	assert_false(memfs_armed(fs));
	assert_non_null(strstr(brain_errmsg(), "injected"));
	expect_text(fs, "b/f", "1bc");
	put(fs, f, 1, "3"); /* then it works */
	expect_text(fs, "b/f", "13c");
	assert_int_equal(memfs_calls(fs), 3);

	/* every kind of call counts (close and unmap do not) */
	memfs_reset_counter(fs);
	void *payload = io->payload;
	size_t done;
	char buf[4];
	uint64_t size;
	void *addr;
	memfs_fail_at(fs, 1, BRAIN_EIO);
	assert_int_equal(io->pread(f, buf, 1, 0, &done), BRAIN_EIO);
	memfs_fail_at(fs, 1, BRAIN_EIO);
	assert_int_equal(io->fsync(f), BRAIN_EIO);
	memfs_fail_at(fs, 1, BRAIN_EIO);
	assert_int_equal(io->size(f, &size), BRAIN_EIO);
	memfs_fail_at(fs, 1, BRAIN_EIO);
	assert_int_equal(io->truncate(f, 0), BRAIN_EIO);
	memfs_fail_at(fs, 1, BRAIN_ENOSPC);
	assert_int_equal(io->allocate(f, 0, 100), BRAIN_ENOSPC);
	memfs_fail_at(fs, 1, BRAIN_ENOMEM);
	assert_int_equal(io->map(f, 0, 1, &addr), BRAIN_ENOMEM);
	memfs_fail_at(fs, 1, BRAIN_EIO);
	assert_int_equal(io->lock(f, 1), BRAIN_EIO);
	memfs_fail_at(fs, 1, BRAIN_EIO);
	assert_int_equal(io->mkdir(payload, "c"), BRAIN_EIO);
	memfs_fail_at(fs, 1, BRAIN_EIO);
	assert_int_equal(io->rename(payload, "b/f", "b/g"), BRAIN_EIO);
	memfs_fail_at(fs, 1, BRAIN_EIO);
	assert_int_equal(io->unlink(payload, "b/f"), BRAIN_EIO);
	memfs_fail_at(fs, 1, BRAIN_EIO);
	assert_int_equal(io->sync_dir(payload, "b"), BRAIN_EIO);
	brain_io_file *g = NULL;
	memfs_fail_at(fs, 1, BRAIN_EIO);
	assert_int_equal(io->open(payload, "b/new", WC, &g), BRAIN_EIO);
	assert_null(g);
	assert_int_equal(memfs_calls(fs), 12);
	/* nothing happened */
	assert_false(exists(fs, "c"));
	assert_false(exists(fs, "b/g"));
	assert_false(exists(fs, "b/new"));
	expect_text(fs, "b/f", "13c");
	memfs_fail_at(fs, 1, BRAIN_EIO);
	close_file(fs, f); /* not counted: the fault waits for the next call */
	assert_true(memfs_armed(fs));
	memfs_fail_at(fs, 0, 0);
	assert_false(memfs_armed(fs));
	memfs_free(fs);
}

static void test_memfs__crash_at_stops_the_world(void **state)
{
	(void)state;
	memfs *fs = fs_with_file("abc");
	const brain_io *io = memfs_io(fs);
	brain_io_file *f = open_file(fs, "b/f", W);
	void *map;
	assert_int_equal(io->map(f, 0, 3, &map), 0);
	memfs_crash_at(fs, 3);
	put(fs, f, 0, "X");
	sync_file(fs, f);
	assert_false(memfs_stopped(fs));
	assert_int_equal(io->pwrite(f, "Y", 1, 1), BRAIN_EIO); /* call 3 */
	assert_true(memfs_stopped(fs));
	expect_text(fs, "b/f", "Xbc");
	/* every later call fails and does nothing */
	assert_int_equal(io->pwrite(f, "Z", 1, 2), BRAIN_EIO);
	assert_int_equal(io->fsync(f), BRAIN_EIO);
	assert_int_equal(io->mkdir(io->payload, "c"), BRAIN_EIO);
	brain_io_file *g = NULL;
	assert_int_equal(io->open(io->payload, "b/f", 0, &g), BRAIN_EIO);
	expect_text(fs, "b/f", "Xbc");
	assert_false(exists(fs, "c"));

	assert_int_equal(memfs_crash(fs, MEMFS_CRASH_DROP, 0), 0);
	assert_false(memfs_stopped(fs));
	/* the old open is dead, but can be closed */
	size_t done;
	char buf[4];
	assert_int_equal(io->pread(f, buf, 1, 0, &done), BRAIN_EIO);
	assert_int_equal(io->pwrite(f, "Q", 1, 0), BRAIN_EIO);
	assert_int_equal(memfs_open_files(fs), 1);
	close_file(fs, f);
	assert_int_equal(memfs_open_files(fs), 0);
	/* the mapping is still readable */
	assert_memory_equal(map, "abc", 3);
	assert_int_equal(io->unmap(io->payload, map, 3), 0);
	/* the synced write survived; the new world works */
	expect_text(fs, "b/f", "Xbc");
	f = open_file(fs, "b/f", W);
	put(fs, f, 0, "ok");
	close_file(fs, f);
	memfs_free(fs);
}

static void test_memfs__tear_at_writes_a_prefix(void **state)
{
	(void)state;
	memfs *fs = fs_with_file("");
	const brain_io *io = memfs_io(fs);
	brain_io_file *f = open_file(fs, "b/f", W);
	memfs_tear_at(fs, 2);
	put(fs, f, 0, "0123");
	assert_int_equal(io->pwrite(f, "abcdefgh", 8, 4), BRAIN_EIO);
	assert_non_null(strstr(brain_errmsg(), "torn"));
	expect_text(fs, "b/f", "0123abcd");
	put(fs, f, 8, "!"); /* then it works */
	expect_text(fs, "b/f", "0123abcd!");
	/* on a call other than pwrite it is a plain failure */
	memfs_tear_at(fs, 1);
	assert_int_equal(io->fsync(f), BRAIN_EIO);
	sync_file(fs, f);
	close_file(fs, f);
	memfs_free(fs);
}

/* ---- tearing crashes --------------------------------------------------- */

enum { TEAR_WRITES = 6, TEAR_LEN = 2048 };

/* A file of 6 * 2048 bytes of 'o', synced, then 6 unsynced writes of
 * 'A'.. 'F' over the six regions, the last region's write starting 100
 * bytes in (so its sectors are counted from the file's start). */
static memfs *fs_with_unsynced_writes(void)
{
	memfs *fs = new_fs();
	size_t n = TEAR_WRITES * TEAR_LEN;
	char *buf = malloc(n);
	assert_non_null(buf);
	memset(buf, 'o', n);
	assert_int_equal(memfs_write_file(fs, "b/f", buf, n), 0);
	brain_io_file *f = open_file(fs, "b/f", W);
	for (int i = 0; i < TEAR_WRITES; i++) {
		size_t off = (size_t)i * TEAR_LEN + (i == TEAR_WRITES - 1 ? 100 : 0);
		size_t len = i == TEAR_WRITES - 1 ? TEAR_LEN - 100 : TEAR_LEN;
		memset(buf, 'A' + i, len);
		assert_int_equal(memfs_io(fs)->pwrite(f, buf, len, off), 0);
	}
	close_file(fs, f);
	free(buf);
	return fs;
}

static void test_memfs__tear_is_deterministic_and_sector_granular(void **state)
{
	(void)state;
	memfs *base = fs_with_unsynced_writes();
	int whole = 0, dropped = 0, torn = 0, differ = 0, gaps = 0;
	unsigned char *first = NULL;
	size_t first_size = 0;
	for (uint64_t seed = 0; seed < 200; seed++) {
		memfs *a = memfs_clone(base);
		memfs *b = memfs_clone(base);
		assert_non_null(a);
		assert_non_null(b);
		assert_int_equal(memfs_crash(a, MEMFS_CRASH_TEAR, seed), 0);
		assert_int_equal(memfs_crash(b, MEMFS_CRASH_TEAR, seed), 0);
		unsigned char *da, *db;
		size_t sa, sb;
		assert_int_equal(memfs_read_file(a, "b/f", &da, &sa), 0);
		assert_int_equal(memfs_read_file(b, "b/f", &db, &sb), 0);
		/* the same seed gives the same outcome */
		assert_int_equal(sa, sb);
		assert_memory_equal(da, db, sa);
		assert_int_equal(sa, TEAR_WRITES * TEAR_LEN);
		/* each region: old bytes, all new, or new up to a sector boundary
		 * and old after it; at most one region torn */
		int torn_here = 0, dropped_here = 0, holes = 0;
		for (int i = 0; i < TEAR_WRITES; i++) {
			size_t start = (size_t)i * TEAR_LEN + (i == TEAR_WRITES - 1 ? 100 : 0);
			size_t end = (size_t)(i + 1) * TEAR_LEN;
			size_t k = start;
			while (k < end && da[k] == 'A' + i)
				k++;
			for (size_t j = k; j < end; j++)
				assert_int_equal(da[j], 'o');
			if (k == end) {
				whole++;
				holes = dropped_here; /* dropped before a kept one */
			} else if (k == start) {
				dropped++;
				dropped_here++;
			} else {
				assert_int_equal(k % 512, 0);
				torn_here++;
			}
		}
		assert_true(torn_here <= 1);
		/* later writes survived earlier ones that did not (more than the
		 * one torn write can explain) */
		gaps += holes >= 2;
		torn += torn_here;
		if (!first) {
			first = da;
			first_size = sa;
		} else {
			differ += sa != first_size || memcmp(first, da, sa) != 0;
			free(da);
		}
		free(db);
		memfs_free(a);
		memfs_free(b);
	}
	free(first);
	/* the seeds give every outcome */
	assert_true(whole > 0);
	assert_true(dropped > 0);
	assert_true(torn > 0);
	assert_true(differ > 0);
	assert_true(gaps > 0);
	/* the base is untouched */
	unsigned char *d;
	size_t s;
	assert_int_equal(memfs_read_file(base, "b/f", &d, &s), 0);
	assert_int_equal(d[0], 'A');
	assert_int_equal(d[TEAR_WRITES * TEAR_LEN - 1], 'A' + TEAR_WRITES - 1);
	free(d);
	memfs_free(base);
}

static void test_memfs__tear_of_overlapping_writes_and_growth(void **state)
{
	(void)state;
	/* appends to an empty file: a survivor is the write at its offset, any
	 * gap before it zeros, and the size is the end of some write */
	for (uint64_t seed = 0; seed < 100; seed++) {
		memfs *fs = new_fs();
		make_dir(fs, "b");
		brain_io_file *f = open_file(fs, "b/log", WC);
		sync_dir(fs, "b");
		char rec[700];
		for (int i = 0; i < 8; i++) {
			memset(rec, 'a' + i, sizeof rec);
			assert_int_equal(memfs_io(fs)->pwrite(f, rec, sizeof rec, (uint64_t)i * sizeof rec), 0);
		}
		assert_int_equal(memfs_crash(fs, MEMFS_CRASH_TEAR, seed), 0);
		close_file(fs, f);
		unsigned char *d;
		size_t s;
		assert_int_equal(memfs_read_file(fs, "b/log", &d, &s), 0);
		assert_true(s <= 8 * sizeof rec);
		for (size_t j = 0; j < s; j++)
			assert_true(d[j] == 0 || d[j] == 'a' + j / sizeof rec);
		free(d);
		memfs_free(fs);
	}
}

/* ---- clones ------------------------------------------------------------ */

static void test_memfs__clone_is_independent(void **state)
{
	(void)state;
	memfs *fs = fs_with_file("synced");
	const brain_io *io = memfs_io(fs);
	brain_io_file *f = open_file(fs, "b/f", W);
	put(fs, f, 0, "UNSYNC");
	brain_io_file *g = open_file(fs, "b/new", WC); /* entry not durable */
	put(fs, g, 0, "n");
	memfs_crash_at(fs, 1000);
	memfs *c = memfs_clone(fs);
	assert_non_null(c);
	assert_int_equal(memfs_open_files(c), 0);
	assert_false(memfs_armed(c));
	assert_int_equal(memfs_calls(c), 0);
	expect_text(c, "b/f", "UNSYNC");
	expect_text(c, "b/new", "n");

	/* changes to one do not show in the other */
	put(fs, f, 0, "orig");
	brain_io_file *cf = open_file(c, "b/f", W);
	put(c, cf, 0, "copy");
	expect_text(fs, "b/f", "origNC");
	expect_text(c, "b/f", "copyNC");
	assert_int_equal(memfs_write_file(c, "b/only-in-clone", "x", 1), 0);
	assert_false(exists(fs, "b/only-in-clone"));
	/* the unsynced state was copied: a crash of the clone drops it, and
	 * leaves the original alone */
	close_file(c, cf);
	assert_int_equal(memfs_crash(c, MEMFS_CRASH_DROP, 0), 0);
	expect_text(c, "b/f", "synced");
	assert_false(exists(c, "b/new"));
	expect_text(fs, "b/f", "origNC");
	assert_true(exists(fs, "b/new"));
	assert_int_equal(memfs_crash(fs, MEMFS_CRASH_KEEP, 0), 0);
	expect_text(fs, "b/f", "origNC");
	expect_text(c, "b/f", "synced");
	/* a clone of a clone, freed before its source */
	memfs *cc = memfs_clone(c);
	assert_non_null(cc);
	memfs_free(c);
	expect_text(cc, "b/f", "synced");
	close_file(fs, f);
	close_file(fs, g);
	(void)io;
	memfs_free(cc);
	memfs_free(fs);
}

static void test_memfs__clone_is_cheap(void **state)
{
	(void)state;
	/* a prepared ~100 KB brain, cloned, damaged and dropped 10,000 times */
	memfs *base = new_fs();
	size_t n = 96 * 1024;
	unsigned char *content = malloc(n);
	assert_non_null(content);
	for (size_t i = 0; i < n; i++)
		content[i] = (unsigned char)brain__mix64(i);
	assert_int_equal(memfs_write_file(base, "b/data", content, n), 0);
	assert_int_equal(memfs_write_file(base, "b/MANIFEST", "m", 1), 0);
	assert_int_equal(memfs_write_file(base, "b/wal", content, 4096), 0);
	for (int i = 0; i < 10000; i++) {
		memfs *c = memfs_clone(base);
		assert_non_null(c);
		if (i % 100 == 0) {
			/* damage one byte through the io (copy on write) */
			brain_io_file *f = open_file(c, "b/data", W);
			unsigned char x = (unsigned char)~content[(size_t)i];
			assert_int_equal(memfs_io(c)->pwrite(f, &x, 1, (uint64_t)i), 0);
			close_file(c, f);
		}
		memfs_free(c);
	}
	unsigned char *d;
	size_t s;
	assert_int_equal(memfs_read_file(base, "b/data", &d, &s), 0);
	assert_int_equal(s, n);
	assert_memory_equal(d, content, n);
	free(d);
	free(content);
	memfs_free(base);
}

/* ---- inspection -------------------------------------------------------- */

static void test_memfs__write_file_and_read_file(void **state)
{
	(void)state;
	memfs *fs = new_fs();
	/* parents are made, all durable at once */
	assert_int_equal(memfs_write_file(fs, "a/b/c", "abc", 3), 0);
	assert_int_equal(memfs_crash(fs, MEMFS_CRASH_DROP, 0), 0);
	expect_text(fs, "a/b/c", "abc");
	/* replacing content is durable too, and open files see it */
	brain_io_file *f = open_file(fs, "a/b/c", W);
	put(fs, f, 0, "unsynced");
	assert_int_equal(memfs_write_file(fs, "a/b/c", "new", 3), 0);
	char buf[8];
	size_t done;
	assert_int_equal(memfs_io(fs)->pread(f, buf, sizeof buf, 0, &done), 0);
	assert_int_equal(done, 3);
	assert_int_equal(memfs_crash(fs, MEMFS_CRASH_DROP, 0), 0);
	expect_text(fs, "a/b/c", "new");
	close_file(fs, f);
	assert_int_equal(memfs_write_file(fs, "a/b/empty", NULL, 0), 0);
	expect_text(fs, "a/b/empty", "");

	assert_int_equal(memfs_write_file(fs, "a/b", "x", 1), BRAIN_EINVAL);   /* a directory */
	assert_int_equal(memfs_write_file(fs, "a/b/c/d", "x", 1), BRAIN_EINVAL); /* c is a file */
	assert_int_equal(memfs_write_file(fs, "", "x", 1), BRAIN_EINVAL);
	unsigned char *d;
	size_t s;
	assert_int_equal(memfs_read_file(fs, "a/b", &d, &s), BRAIN_EINVAL);
	assert_int_equal(memfs_read_file(fs, "a/x", &d, &s), BRAIN_ENOTFOUND);
	assert_int_equal(memfs_read_file(fs, "x/y", &d, &s), BRAIN_ENOTFOUND);
	assert_null(d);
	/* absolute and relative paths share the top level */
	expect_text(fs, "/a/b/c", "new");
	expect_text(fs, "./a/../a/b/c", "new");
	memfs_free(fs);
}

/* ---- threads ----------------------------------------------------------- */

struct reader {
	memfs *fs;
	brain_io_file *f;
	size_t n;
	int bad;
};

static void *read_loop(void *arg)
{
	struct reader *r = arg;
	unsigned char buf[256];
	for (size_t i = 0; i < 2000; i++) {
		uint64_t off = (i * 131) % (r->n - sizeof buf);
		size_t done;
		if (memfs_io(r->fs)->pread(r->f, buf, sizeof buf, off, &done) != 0 || done != sizeof buf)
			r->bad++;
		for (size_t j = 0; j < sizeof buf; j++)
			if (buf[j] != (unsigned char)(off + j))
				r->bad++;
	}
	return NULL;
}

static void test_memfs__concurrent_preads(void **state)
{
	(void)state;
	memfs *fs = new_fs();
	size_t n = 64 * 1024;
	unsigned char *content = malloc(n);
	assert_non_null(content);
	for (size_t i = 0; i < n; i++)
		content[i] = (unsigned char)i;
	assert_int_equal(memfs_write_file(fs, "b/f", content, n), 0);
	free(content);
	brain_io_file *f = open_file(fs, "b/f", 0);
	pthread_t t[4];
	struct reader r[4];
	for (int i = 0; i < 4; i++) {
		r[i] = (struct reader){fs, f, n, 0};
		assert_int_equal(pthread_create(&t[i], NULL, read_loop, &r[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(r[i].bad, 0);
	}
	close_file(fs, f);
	memfs_free(fs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memfs__open_flags),
		cmocka_unit_test(test_memfs__read_write_size_truncate_allocate),
		cmocka_unit_test(test_memfs__map_is_a_private_copy),
		cmocka_unit_test(test_memfs__locks),
		cmocka_unit_test(test_memfs__directories),
		cmocka_unit_test(test_memfs__unsynced_write_lost_on_drop),
		cmocka_unit_test(test_memfs__fsynced_data_survives),
		cmocka_unit_test(test_memfs__created_file_needs_sync_dir),
		cmocka_unit_test(test_memfs__nested_directory_needs_sync_of_parent),
		cmocka_unit_test(test_memfs__rename_durable_after_sync_dir),
		cmocka_unit_test(test_memfs__unlink_durable_after_sync_dir),
		cmocka_unit_test(test_memfs__keep_keeps_all),
		cmocka_unit_test(test_memfs__unsynced_size_changes_revert),
		cmocka_unit_test(test_memfs__fail_at_fails_once),
		cmocka_unit_test(test_memfs__crash_at_stops_the_world),
		cmocka_unit_test(test_memfs__tear_at_writes_a_prefix),
		cmocka_unit_test(test_memfs__tear_is_deterministic_and_sector_granular),
		cmocka_unit_test(test_memfs__tear_of_overlapping_writes_and_growth),
		cmocka_unit_test(test_memfs__clone_is_independent),
		cmocka_unit_test(test_memfs__clone_is_cheap),
		cmocka_unit_test(test_memfs__write_file_and_read_file),
		cmocka_unit_test(test_memfs__concurrent_preads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
