/*
 * tests/memfs.c - the crash-simulating in-memory file system of memfs.h.
 *
 * Content lives in reference-counted blobs shared copy on write: between a
 * file's current and durable content right after a crash or an fsync that
 * took the whole file, and between clones. A blob with more than one
 * reference is never written; whoever writes first copies it.
 *
 * A file keeps the log of its writes and size changes since the last
 * fsync (invariant: durable content + log = current content). fsync
 * applies the log to the durable content (or shares the current content
 * when the log is larger than the file); a crash picks what of the log
 * survives.
 *
 * Inodes are on one list and freed by a mark and sweep from the top-level
 * directory (through current and durable entries) and the open files,
 * run whenever an entry or an open file goes away. Directory entries may
 * form cycles through durable entries of renamed directories; the sweep
 * does not mind.
 */
#include "tests/memfs.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

/* Largest file: beyond it writes fail with BRAIN_ENOSPC. */
#define MF_MAX_FILE ((size_t)1 << 30)
/* Unit of torn writes in MEMFS_CRASH_TEAR. */
#define MF_SECTOR 512u
/* Alignment of map offsets and of the copies map returns. */
#define MF_MAP_ALIGN 4096u

/* ---- blobs ------------------------------------------------------------- */

typedef struct mf_blob {
	atomic_size_t refs;
	size_t cap;
	unsigned char bytes[];
} mf_blob;

static mf_blob *blob_new(size_t cap)
{
	mf_blob *b = malloc(sizeof *b + (cap ? cap : 1));
	if (!b)
		return NULL;
	atomic_init(&b->refs, 1);
	b->cap = cap;
	return b;
}

static mf_blob *blob_ref(mf_blob *b)
{
	if (b)
		atomic_fetch_add(&b->refs, 1);
	return b;
}

static void blob_unref(mf_blob *b)
{
	if (b && atomic_fetch_sub(&b->refs, 1) == 1)
		free(b);
}

/* Make *bp a blob of our own with room for `need` bytes, keeping its first
 * `keep` bytes (keep <= need). */
static int blob_own(mf_blob **bp, size_t keep, size_t need)
{
	mf_blob *b = *bp;
	if (b && atomic_load(&b->refs) == 1 && b->cap >= need)
		return 0;
	size_t cap = need < 64 ? 64 : need;
	if (b && need > b->cap && b->cap <= MF_MAX_FILE && cap < 2 * b->cap)
		cap = 2 * b->cap;
	mf_blob *n = blob_new(cap);
	if (!n)
		return brain__oom(cap, "memfs: file content");
	if (keep)
		memcpy(n->bytes, b->bytes, keep);
	blob_unref(b);
	*bp = n;
	return 0;
}

/* Set the size of content (*bp, *size), zero-filling growth. */
static int content_resize(mf_blob **bp, size_t *size, size_t new_size)
{
	if (new_size > *size) {
		int rc = blob_own(bp, *size, new_size);
		if (rc)
			return rc;
		memset((*bp)->bytes + *size, 0, new_size - *size);
	}
	*size = new_size;
	return 0;
}

/* Write len bytes at off into content (*bp, *size), zero-filling a gap. */
static int content_write(mf_blob **bp, size_t *size, size_t off, const void *src, size_t len)
{
	if (len == 0)
		return 0;
	size_t end = off + len;
	int rc = blob_own(bp, *size, end > *size ? end : *size);
	if (rc)
		return rc;
	if (off > *size)
		memset((*bp)->bytes + *size, 0, off - *size);
	memcpy((*bp)->bytes + off, src, len);
	if (end > *size)
		*size = end;
	return 0;
}

/* ---- inodes ------------------------------------------------------------ */

enum { MF_OP_WRITE, MF_OP_SIZE };

/* A change since the last fsync: a write (off, len, bytes) or a new size
 * (off). */
typedef struct mf_op {
	int kind;
	size_t off;
	size_t len;
	unsigned char *bytes;
} mf_op;

struct mf_inode;

typedef struct mf_entry {
	char *name;
	struct mf_inode *ino;
} mf_entry;

typedef struct mf_dir {
	mf_entry *v;
	size_t n, cap;
} mf_dir;

typedef struct mf_inode {
	struct mf_inode *next; /* all inodes, in creation order */
	bool is_dir;
	bool mark;
	size_t opens;          /* open files on it (not dead ones) */
	struct mf_inode *copy; /* memfs_clone's map */
	/* a file */
	mf_blob *data;
	size_t size;
	mf_blob *dur;
	size_t dur_size;
	mf_op *ops;
	size_t nops, cap_ops;
	size_t op_bytes;
	/* a directory */
	mf_dir cur; /* current entries */
	mf_dir dud; /* durable entries */
} mf_inode;

struct brain_io_file {
	memfs *fs;
	mf_inode *ino; /* NULL once dead */
	bool writable;
	int lock;      /* 0 none, 1 shared, 2 exclusive */
	struct brain_io_file *prev, *next;
};

struct memfs {
	pthread_mutex_t mu;
	brain_io io;
	mf_inode *inodes, *tail;
	mf_inode *root;
	brain_io_file *files;
	size_t open_files;
	size_t live_maps;
	long calls;
	long fail_left, crash_left, tear_left; /* countdowns, 0: disarmed */
	int fail_code;
	bool stopped;
};

#define MF_NONE ((size_t)-1)

static size_t dir_find(const mf_dir *d, const char *name)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->v[i].name, name) == 0)
			return i;
	return MF_NONE;
}

static mf_inode *dir_get(const mf_dir *d, const char *name)
{
	size_t i = dir_find(d, name);
	return i == MF_NONE ? NULL : d->v[i].ino;
}

/* Point name at ino (add or replace). */
static int dir_set(mf_dir *d, const char *name, mf_inode *ino)
{
	size_t i = dir_find(d, name);
	if (i != MF_NONE) {
		d->v[i].ino = ino;
		return 0;
	}
	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 8;
		mf_entry *v = realloc(d->v, cap * sizeof *v);
		if (!v)
			return brain__oom(cap * sizeof *v, "memfs: directory");
		d->v = v;
		d->cap = cap;
	}
	size_t len = strlen(name);
	char *copy = malloc(len + 1);
	if (!copy)
		return brain__oom(len + 1, "memfs: name");
	memcpy(copy, name, len + 1);
	d->v[d->n].name = copy;
	d->v[d->n].ino = ino;
	d->n++;
	return 0;
}

static void dir_remove(mf_dir *d, const char *name)
{
	size_t i = dir_find(d, name);
	if (i == MF_NONE)
		return;
	free(d->v[i].name);
	d->v[i] = d->v[--d->n];
}

static void dir_clear(mf_dir *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i].name);
	free(d->v);
	d->v = NULL;
	d->n = d->cap = 0;
}

/* *dst = a copy of src with each inode mapped through ->copy if `remap`;
 * on failure dst is unchanged. */
static int dir_copy(mf_dir *dst, const mf_dir *src, bool remap)
{
	mf_dir t = {NULL, 0, 0};
	for (size_t i = 0; i < src->n; i++) {
		int rc = dir_set(&t, src->v[i].name, remap ? src->v[i].ino->copy : src->v[i].ino);
		if (rc) {
			dir_clear(&t);
			return rc;
		}
	}
	dir_clear(dst);
	*dst = t;
	return 0;
}

static void ops_clear(mf_inode *ino)
{
	for (size_t i = 0; i < ino->nops; i++)
		free(ino->ops[i].bytes);
	ino->nops = 0;
	ino->op_bytes = 0;
}

static void inode_free(mf_inode *ino)
{
	blob_unref(ino->data);
	blob_unref(ino->dur);
	ops_clear(ino);
	free(ino->ops);
	dir_clear(&ino->cur);
	dir_clear(&ino->dud);
	free(ino);
}

static mf_inode *inode_new(memfs *fs, bool is_dir)
{
	mf_inode *ino = calloc(1, sizeof *ino);
	if (!ino)
		return NULL;
	ino->is_dir = is_dir;
	if (fs->tail)
		fs->tail->next = ino;
	else
		fs->inodes = ino;
	fs->tail = ino;
	return ino;
}

static void mark(mf_inode *ino)
{
	if (ino->mark)
		return;
	ino->mark = true;
	for (size_t i = 0; i < ino->cur.n; i++)
		mark(ino->cur.v[i].ino);
	for (size_t i = 0; i < ino->dud.n; i++)
		mark(ino->dud.v[i].ino);
}

static void mark_reachable(memfs *fs, bool open_too)
{
	for (mf_inode *i = fs->inodes; i; i = i->next)
		i->mark = false;
	mark(fs->root);
	if (open_too)
		for (mf_inode *i = fs->inodes; i; i = i->next)
			if (i->opens)
				mark(i);
}

/* Free inodes no entry and no open file reaches. */
static void gc(memfs *fs)
{
	mark_reachable(fs, true);
	mf_inode **link = &fs->inodes;
	fs->tail = NULL;
	while (*link) {
		mf_inode *i = *link;
		if (i->mark) {
			fs->tail = i;
			link = &i->next;
		} else {
			*link = i->next;
			inode_free(i);
		}
	}
}

/* The top level's entries are durable at once. */
static int top_sync(memfs *fs, mf_inode *dir)
{
	return dir == fs->root ? dir_copy(&dir->dud, &dir->cur, false) : 0;
}

/* ---- file content and its log ------------------------------------------ */

static int ops_reserve(mf_inode *ino)
{
	if (ino->nops < ino->cap_ops)
		return 0;
	size_t cap = ino->cap_ops ? 2 * ino->cap_ops : 8;
	mf_op *v = realloc(ino->ops, cap * sizeof *v);
	if (!v)
		return brain__oom(cap * sizeof *v, "memfs: write log");
	ino->ops = v;
	ino->cap_ops = cap;
	return 0;
}

static int file_write(mf_inode *ino, size_t off, const void *src, size_t len)
{
	int rc = ops_reserve(ino);
	if (rc)
		return rc;
	unsigned char *copy = malloc(len);
	if (!copy)
		return brain__oom(len, "memfs: write log");
	memcpy(copy, src, len);
	rc = content_write(&ino->data, &ino->size, off, src, len);
	if (rc) {
		free(copy);
		return rc;
	}
	ino->ops[ino->nops++] = (mf_op){MF_OP_WRITE, off, len, copy};
	ino->op_bytes += len;
	return 0;
}

static int file_resize(mf_inode *ino, size_t size)
{
	int rc = ops_reserve(ino);
	if (rc)
		return rc;
	rc = content_resize(&ino->data, &ino->size, size);
	if (rc)
		return rc;
	ino->ops[ino->nops++] = (mf_op){MF_OP_SIZE, size, 0, NULL};
	return 0;
}

static int apply_op(mf_blob **bp, size_t *size, const mf_op *op, size_t len)
{
	if (op->kind == MF_OP_SIZE)
		return content_resize(bp, size, op->off);
	return content_write(bp, size, op->off, op->bytes, len);
}

/* Durable content := current content. */
static void file_share(mf_inode *ino)
{
	blob_unref(ino->dur);
	ino->dur = blob_ref(ino->data);
	ino->dur_size = ino->size;
	ops_clear(ino);
}

/* Current content := durable content. */
static void file_revert(mf_inode *ino)
{
	blob_unref(ino->data);
	ino->data = blob_ref(ino->dur);
	ino->size = ino->dur_size;
	ops_clear(ino);
}

static int file_sync(mf_inode *ino)
{
	if (ino->nops == 0)
		return 0;
	if (ino->op_bytes >= ino->size || !ino->dur) {
		file_share(ino);
		return 0;
	}
	size_t done = 0;
	int rc = 0;
	for (; done < ino->nops; done++) {
		rc = apply_op(&ino->dur, &ino->dur_size, &ino->ops[done], ino->ops[done].len);
		if (rc)
			break;
	}
	/* drop the applied part of the log (all of it unless out of memory) */
	for (size_t i = 0; i < done; i++) {
		ino->op_bytes -= ino->ops[i].len;
		free(ino->ops[i].bytes);
	}
	memmove(ino->ops, ino->ops + done, (ino->nops - done) * sizeof *ino->ops);
	ino->nops -= done;
	return rc;
}

/* ---- crash ------------------------------------------------------------- */

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static size_t rng_below(uint64_t *s, size_t n)
{
	return n ? (size_t)(rng_next(s) % n) : 0;
}

/* Bytes of a torn write at off (len bytes): a whole number of sectors
 * counted from the start of the file, less than len. */
static size_t torn_len(uint64_t *s, size_t off, size_t len)
{
	size_t first = (off / MF_SECTOR + 1) * MF_SECTOR; /* first boundary after off */
	size_t end = off + len;
	size_t bounds = first < end ? (end - 1 - first) / MF_SECTOR + 1 : 0;
	size_t k = rng_below(s, bounds + 1); /* 0: nothing, k: up to the kth boundary */
	return k == 0 ? 0 : first + (k - 1) * MF_SECTOR - off;
}

/* Durable content := durable content + a random part of the log. */
static int file_tear(mf_inode *ino, uint64_t *s)
{
	size_t n = ino->nops;
	size_t *order = malloc((n ? n : 1) * sizeof *order);
	if (!order)
		return brain__oom(n * sizeof *order, "memfs: crash");
	size_t kept = 0;
	switch (rng_below(s, 3)) {
	case 0: /* in order up to a point (the writeback was cut) */
		kept = rng_below(s, n + 1);
		for (size_t i = 0; i < kept; i++)
			order[i] = i;
		break;
	case 1: /* any subset, in order */
		for (size_t i = 0; i < n; i++)
			if (rng_next(s) & 1)
				order[kept++] = i;
		break;
	default: /* any subset, in any order */
		for (size_t i = 0; i < n; i++)
			if (rng_next(s) & 1)
				order[kept++] = i;
		for (size_t i = kept; i > 1; i--) {
			size_t j = rng_below(s, i);
			size_t t = order[i - 1];
			order[i - 1] = order[j];
			order[j] = t;
		}
		break;
	}
	/* maybe tear one kept write */
	size_t torn = MF_NONE, torn_bytes = 0;
	if (kept && (rng_next(s) & 1)) {
		size_t k = order[rng_below(s, kept)];
		if (ino->ops[k].kind == MF_OP_WRITE) {
			torn = k;
			torn_bytes = torn_len(s, ino->ops[k].off, ino->ops[k].len);
		}
	}
	mf_blob *b = blob_ref(ino->dur);
	size_t size = ino->dur_size;
	int rc = 0;
	for (size_t i = 0; i < kept && !rc; i++) {
		const mf_op *op = &ino->ops[order[i]];
		rc = apply_op(&b, &size, op, order[i] == torn ? torn_bytes : op->len);
	}
	free(order);
	if (rc) {
		blob_unref(b);
		return rc;
	}
	blob_unref(ino->dur);
	ino->dur = b;
	ino->dur_size = size;
	file_revert(ino);
	return 0;
}

/* ---- paths ------------------------------------------------------------- */

/* A path split into its components ("." dropped, ".." taken lexically). */
typedef struct mf_path {
	char *buf;
	char **comp;
	size_t n;
} mf_path;

static void path_free(mf_path *p)
{
	free(p->buf);
	free(p->comp);
	p->buf = NULL;
	p->comp = NULL;
}

static int path_split(const char *path, mf_path *p)
{
	size_t len = strlen(path);
	p->n = 0;
	p->buf = malloc(len + 1);
	p->comp = malloc((len / 2 + 1) * sizeof *p->comp);
	if (!p->buf || !p->comp) {
		path_free(p);
		return brain__oom(len + 1, "memfs: path");
	}
	memcpy(p->buf, path, len + 1);
	char *s = p->buf;
	for (;;) {
		while (*s == '/')
			s++;
		if (!*s)
			break;
		char *e = s;
		while (*e && *e != '/')
			e++;
		bool last = !*e;
		*e = '\0';
		if (strcmp(s, "..") == 0) {
			if (p->n)
				p->n--;
		} else if (strcmp(s, ".") != 0) {
			p->comp[p->n++] = s;
		}
		if (last)
			break;
		s = e + 1;
	}
	return 0;
}

/* Where a path leads: the directory holding its last component (*dir, NULL
 * for the top level itself), that component (*name) and the inode it
 * names now (*ino, NULL if none). BRAIN_ENOTFOUND if a parent is missing. */
static int resolve(memfs *fs, const char *op, const char *path, mf_path *p, mf_inode **dir,
                   const char **name, mf_inode **ino)
{
	*dir = NULL;
	*name = NULL;
	*ino = NULL;
	int rc = path_split(path, p);
	if (rc)
		return rc;
	if (p->n == 0) {
		*ino = fs->root;
		return 0;
	}
	mf_inode *d = fs->root;
	for (size_t i = 0; i + 1 < p->n; i++) {
		d = dir_get(&d->cur, p->comp[i]);
		if (!d || !d->is_dir) {
			path_free(p);
			return brain__err(BRAIN_ENOTFOUND, "memfs: %s \"%s\": no such directory", op, path);
		}
	}
	*dir = d;
	*name = p->comp[p->n - 1];
	*ino = dir_get(&d->cur, *name);
	return 0;
}

/* ---- counting and faults ----------------------------------------------- */

/* Count a call and fire armed faults. 0: go on (*tear set if this call is
 * the torn pwrite); otherwise the error to return. */
static int gate(memfs *fs, const char *op, bool *tear)
{
	long n = ++fs->calls;
	bool crash = fs->crash_left > 0 && --fs->crash_left == 0;
	bool fail = fs->fail_left > 0 && --fs->fail_left == 0;
	bool torn = fs->tear_left > 0 && --fs->tear_left == 0;
	if (crash)
		fs->stopped = true;
	if (fs->stopped)
		return brain__err(BRAIN_EIO, "memfs: %s (call %ld): the world has stopped", op, n);
	if (fail)
		return brain__err(fs->fail_code, "memfs: %s (call %ld): injected failure", op, n);
	if (torn) {
		if (tear) {
			*tear = true;
			return 0;
		}
		return brain__err(BRAIN_EIO, "memfs: %s (call %ld): injected failure (tear)", op, n);
	}
	return 0;
}

/* Enter a call on a file: lock, count, check the handle. On error the lock
 * is released. */
static int file_enter(brain_io_file *f, const char *op, bool *tear)
{
	if (!f)
		return brain__err(BRAIN_ENULL, "memfs: %s: file is NULL", op);
	pthread_mutex_lock(&f->fs->mu);
	int rc = gate(f->fs, op, tear);
	if (!rc && !f->ino)
		rc = brain__err(BRAIN_EIO, "memfs: %s: file opened before a crash", op);
	if (rc)
		pthread_mutex_unlock(&f->fs->mu);
	return rc;
}

static int file_leave(brain_io_file *f, int rc)
{
	pthread_mutex_unlock(&f->fs->mu);
	return rc;
}

/* ---- the vtable: files ------------------------------------------------- */

static int mf_open(void *payload, const char *path, unsigned int flags, brain_io_file **out)
{
	memfs *fs = payload;
	if (!out)
		return brain__err(BRAIN_ENULL, "memfs: open: out is NULL");
	*out = NULL;
	if (!path)
		return brain__err(BRAIN_ENULL, "memfs: open: path is NULL");
	pthread_mutex_lock(&fs->mu);
	int rc = gate(fs, "open", NULL);
	const unsigned int known = BRAIN_IO_OPEN_WRITE | BRAIN_IO_OPEN_CREATE | BRAIN_IO_OPEN_EXCL;
	if (!rc && (flags & ~known))
		rc = brain__err(BRAIN_EINVAL, "memfs: open \"%s\": unknown flags 0x%x", path, flags);
	if (!rc && (flags & BRAIN_IO_OPEN_CREATE) && !(flags & BRAIN_IO_OPEN_WRITE))
		rc = brain__err(BRAIN_EINVAL, "memfs: open \"%s\": CREATE needs WRITE", path);
	if (!rc && (flags & BRAIN_IO_OPEN_EXCL) && !(flags & BRAIN_IO_OPEN_CREATE))
		rc = brain__err(BRAIN_EINVAL, "memfs: open \"%s\": EXCL needs CREATE", path);
	if (rc)
		goto out;
	mf_path p;
	mf_inode *dir, *ino;
	const char *name;
	rc = resolve(fs, "open", path, &p, &dir, &name, &ino);
	if (rc)
		goto out;
	if (ino && (flags & BRAIN_IO_OPEN_EXCL))
		rc = brain__err(BRAIN_EEXISTS, "memfs: open \"%s\": exists", path);
	else if (ino && ino->is_dir)
		rc = brain__err(BRAIN_EIO, "memfs: open \"%s\": is a directory", path);
	else if (!ino && !(flags & BRAIN_IO_OPEN_CREATE))
		rc = brain__err(BRAIN_ENOTFOUND, "memfs: open \"%s\": no such file", path);
	brain_io_file *f = NULL;
	if (!rc) {
		f = calloc(1, sizeof *f);
		if (!f)
			rc = brain__oom(sizeof *f, "memfs: open");
	}
	if (!rc && !ino) {
		ino = inode_new(fs, false);
		if (!ino)
			rc = brain__oom(sizeof *ino, "memfs: open");
		if (!rc)
			rc = dir_set(&dir->cur, name, ino);
		if (!rc)
			rc = top_sync(fs, dir);
		if (rc) {
			if (ino)
				dir_remove(&dir->cur, name);
			gc(fs);
		}
	}
	path_free(&p);
	if (rc) {
		free(f);
		goto out;
	}
	f->fs = fs;
	f->ino = ino;
	f->writable = (flags & BRAIN_IO_OPEN_WRITE) != 0;
	f->next = fs->files;
	if (fs->files)
		fs->files->prev = f;
	fs->files = f;
	ino->opens++;
	fs->open_files++;
	*out = f;
out:
	pthread_mutex_unlock(&fs->mu);
	return rc;
}

static int mf_close(brain_io_file *f)
{
	if (!f)
		return 0;
	memfs *fs = f->fs;
	pthread_mutex_lock(&fs->mu);
	if (f->prev)
		f->prev->next = f->next;
	else
		fs->files = f->next;
	if (f->next)
		f->next->prev = f->prev;
	fs->open_files--;
	if (f->ino && --f->ino->opens == 0)
		gc(fs);
	free(f);
	pthread_mutex_unlock(&fs->mu);
	return 0;
}

static int mf_pread(brain_io_file *f, void *buf, size_t len, uint64_t offset, size_t *done)
{
	if (done)
		*done = 0;
	if (!done || (!buf && len))
		return brain__err(BRAIN_ENULL, "memfs: pread: %s is NULL", !done ? "done" : "buf");
	int rc = file_enter(f, "pread", NULL);
	if (rc)
		return rc;
	const mf_inode *ino = f->ino;
	if (offset < ino->size) {
		size_t n = BRAIN_MIN(len, ino->size - (size_t)offset);
		memcpy(buf, ino->data->bytes + offset, n);
		*done = n;
	}
	return file_leave(f, 0);
}

static int check_range(const char *op, uint64_t offset, uint64_t len)
{
	if (offset > MF_MAX_FILE || len > MF_MAX_FILE - offset)
		return brain__err(BRAIN_ENOSPC, "memfs: %s at %llu (%llu bytes): beyond %zu bytes", op,
		                  (unsigned long long)offset, (unsigned long long)len, MF_MAX_FILE);
	return 0;
}

static int check_writable(const brain_io_file *f, const char *op)
{
	return f->writable ? 0 : brain__err(BRAIN_EIO, "memfs: %s: file opened read-only", op);
}

static int mf_pwrite(brain_io_file *f, const void *buf, size_t len, uint64_t offset)
{
	if (!buf && len)
		return brain__err(BRAIN_ENULL, "memfs: pwrite: buf is NULL");
	bool tear = false;
	int rc = file_enter(f, "pwrite", &tear);
	if (rc)
		return rc;
	rc = check_writable(f, "pwrite");
	if (!rc)
		rc = check_range("pwrite", offset, len);
	size_t n = tear ? len / 2 : len;
	if (!rc && n)
		rc = file_write(f->ino, (size_t)offset, buf, n);
	if (!rc && tear)
		rc = brain__err(BRAIN_EIO, "memfs: pwrite at %llu: torn after %zu of %zu bytes (injected)",
		                (unsigned long long)offset, n, len);
	return file_leave(f, rc);
}

static int mf_fsync(brain_io_file *f)
{
	int rc = file_enter(f, "fsync", NULL);
	if (rc)
		return rc;
	return file_leave(f, file_sync(f->ino));
}

static int mf_size(brain_io_file *f, uint64_t *size)
{
	if (size)
		*size = 0;
	if (!size)
		return brain__err(BRAIN_ENULL, "memfs: size: size is NULL");
	int rc = file_enter(f, "size", NULL);
	if (rc)
		return rc;
	*size = f->ino->size;
	return file_leave(f, 0);
}

static int mf_truncate(brain_io_file *f, uint64_t size)
{
	int rc = file_enter(f, "truncate", NULL);
	if (rc)
		return rc;
	rc = check_writable(f, "truncate");
	if (!rc)
		rc = check_range("truncate", size, 0);
	if (!rc)
		rc = file_resize(f->ino, (size_t)size);
	return file_leave(f, rc);
}

static int mf_allocate(brain_io_file *f, uint64_t offset, uint64_t len)
{
	int rc = file_enter(f, "allocate", NULL);
	if (rc)
		return rc;
	rc = check_writable(f, "allocate");
	if (!rc)
		rc = check_range("allocate", offset, len);
	if (!rc && offset + len > f->ino->size)
		rc = file_resize(f->ino, (size_t)(offset + len));
	return file_leave(f, rc);
}

static int mf_map(brain_io_file *f, uint64_t offset, size_t len, void **addr)
{
	if (addr)
		*addr = NULL;
	if (!addr)
		return brain__err(BRAIN_ENULL, "memfs: map: addr is NULL");
	int rc = file_enter(f, "map", NULL);
	if (rc)
		return rc;
	const mf_inode *ino = f->ino;
	if (len == 0 || offset % MF_MAP_ALIGN != 0 || offset > ino->size || len > ino->size - offset)
		return file_leave(f, brain__err(BRAIN_EINVAL,
		                                "memfs: map at %llu (%zu bytes) of a file of %zu bytes: "
		                                "bad range",
		                                (unsigned long long)offset, len, ino->size));
	void *p = NULL;
	if (posix_memalign(&p, MF_MAP_ALIGN, len) != 0)
		return file_leave(f, brain__oom(len, "memfs: map"));
	memcpy(p, ino->data->bytes + offset, len);
	f->fs->live_maps++;
	*addr = p;
	return file_leave(f, 0);
}

static int mf_unmap(void *payload, void *addr, size_t len)
{
	memfs *fs = payload;
	if (!addr)
		return brain__err(BRAIN_ENULL, "memfs: unmap: addr is NULL");
	if (len == 0)
		return brain__err(BRAIN_EINVAL, "memfs: unmap: length is 0");
	pthread_mutex_lock(&fs->mu);
	fs->live_maps--;
	pthread_mutex_unlock(&fs->mu);
	free(addr);
	return 0;
}

static int mf_lock(brain_io_file *f, int exclusive)
{
	int rc = file_enter(f, "lock", NULL);
	if (rc)
		return rc;
	for (const brain_io_file *o = f->fs->files; o; o = o->next)
		if (o != f && o->ino == f->ino && o->lock && (exclusive || o->lock == 2))
			return file_leave(f, brain__err(BRAIN_EBUSY,
			                                "memfs: lock (%s): locked by another open of the file",
			                                exclusive ? "exclusive" : "shared"));
	f->lock = exclusive ? 2 : 1;
	return file_leave(f, 0);
}

/* ---- the vtable: directories ------------------------------------------- */

static int mf_mkdir(void *payload, const char *path)
{
	memfs *fs = payload;
	if (!path)
		return brain__err(BRAIN_ENULL, "memfs: mkdir: path is NULL");
	pthread_mutex_lock(&fs->mu);
	int rc = gate(fs, "mkdir", NULL);
	mf_path p = {NULL, NULL, 0};
	mf_inode *dir, *ino;
	const char *name;
	if (!rc)
		rc = resolve(fs, "mkdir", path, &p, &dir, &name, &ino);
	if (!rc && ino)
		rc = brain__err(BRAIN_EEXISTS, "memfs: mkdir \"%s\": exists", path);
	if (!rc) {
		ino = inode_new(fs, true);
		if (!ino)
			rc = brain__oom(sizeof *ino, "memfs: mkdir");
		if (!rc)
			rc = dir_set(&dir->cur, name, ino);
		if (!rc)
			rc = top_sync(fs, dir);
		if (rc) {
			if (ino)
				dir_remove(&dir->cur, name);
			gc(fs);
		}
	}
	path_free(&p);
	pthread_mutex_unlock(&fs->mu);
	return rc;
}

/* Whether path a is b or inside it (component-wise). */
static bool path_within(const mf_path *a, const mf_path *b)
{
	if (a->n < b->n)
		return false;
	for (size_t i = 0; i < b->n; i++)
		if (strcmp(a->comp[i], b->comp[i]) != 0)
			return false;
	return true;
}

static int mf_rename(void *payload, const char *from, const char *to)
{
	memfs *fs = payload;
	if (!from || !to)
		return brain__err(BRAIN_ENULL, "memfs: rename: %s is NULL", !from ? "from" : "to");
	pthread_mutex_lock(&fs->mu);
	int rc = gate(fs, "rename", NULL);
	mf_path pf = {NULL, NULL, 0}, pt = {NULL, NULL, 0};
	mf_inode *df = NULL, *dt = NULL, *src = NULL, *dst = NULL;
	const char *nf = NULL, *nt = NULL;
	if (!rc)
		rc = resolve(fs, "rename", from, &pf, &df, &nf, &src);
	if (!rc && !src)
		rc = brain__err(BRAIN_ENOTFOUND, "memfs: rename \"%s\": no such file", from);
	if (!rc)
		rc = resolve(fs, "rename", to, &pt, &dt, &nt, &dst);
	if (!rc && (!df || !dt))
		rc = brain__err(BRAIN_EIO, "memfs: rename \"%s\" to \"%s\": the top level", from, to);
	if (!rc && src == dst)
		goto out; /* the same file: nothing to do */
	if (!rc && src->is_dir && path_within(&pt, &pf))
		rc = brain__err(BRAIN_EINVAL, "memfs: rename \"%s\" into itself (\"%s\")", from, to);
	if (!rc && dst && dst->is_dir != src->is_dir)
		rc = brain__err(BRAIN_EIO, "memfs: rename \"%s\" to \"%s\": %s", from, to,
		                dst->is_dir ? "is a directory" : "not a directory");
	if (!rc && dst && dst->is_dir && dst->cur.n)
		rc = brain__err(BRAIN_EIO, "memfs: rename \"%s\" to \"%s\": directory not empty", from, to);
	if (!rc)
		rc = dir_set(&dt->cur, nt, src);
	if (!rc) {
		dir_remove(&df->cur, nf);
		rc = top_sync(fs, dt);
		if (!rc)
			rc = top_sync(fs, df);
		gc(fs);
	}
out:
	path_free(&pf);
	path_free(&pt);
	pthread_mutex_unlock(&fs->mu);
	return rc;
}

static int mf_unlink(void *payload, const char *path)
{
	memfs *fs = payload;
	if (!path)
		return brain__err(BRAIN_ENULL, "memfs: unlink: path is NULL");
	pthread_mutex_lock(&fs->mu);
	int rc = gate(fs, "unlink", NULL);
	mf_path p = {NULL, NULL, 0};
	mf_inode *dir, *ino;
	const char *name;
	if (!rc)
		rc = resolve(fs, "unlink", path, &p, &dir, &name, &ino);
	if (!rc && !ino)
		rc = brain__err(BRAIN_ENOTFOUND, "memfs: unlink \"%s\": no such file", path);
	if (!rc && ino->is_dir)
		rc = brain__err(BRAIN_EIO, "memfs: unlink \"%s\": is a directory", path);
	if (!rc) {
		dir_remove(&dir->cur, name);
		rc = top_sync(fs, dir);
		gc(fs);
	}
	path_free(&p);
	pthread_mutex_unlock(&fs->mu);
	return rc;
}

static int mf_sync_dir(void *payload, const char *path)
{
	memfs *fs = payload;
	if (!path)
		return brain__err(BRAIN_ENULL, "memfs: sync_dir: path is NULL");
	pthread_mutex_lock(&fs->mu);
	int rc = gate(fs, "sync_dir", NULL);
	mf_path p = {NULL, NULL, 0};
	mf_inode *dir, *ino;
	const char *name;
	if (!rc)
		rc = resolve(fs, "sync_dir", path, &p, &dir, &name, &ino);
	if (!rc && !ino)
		rc = brain__err(BRAIN_ENOTFOUND, "memfs: sync_dir \"%s\": no such directory", path);
	if (!rc && !ino->is_dir)
		rc = brain__err(BRAIN_EIO, "memfs: sync_dir \"%s\": not a directory", path);
	if (!rc) {
		rc = dir_copy(&ino->dud, &ino->cur, false);
		gc(fs);
	}
	path_free(&p);
	pthread_mutex_unlock(&fs->mu);
	return rc;
}

static int mf_list(void *payload, const char *path, int (*fn)(const char *name, void *ctx),
                   void *ctx)
{
	memfs *fs = payload;
	if (!path || !fn)
		return brain__err(BRAIN_ENULL, "memfs: list: path or fn is NULL");
	pthread_mutex_lock(&fs->mu);
	int rc = gate(fs, "list", NULL);
	pthread_mutex_unlock(&fs->mu);
	if (rc)
		return rc;
	char **names = NULL;
	size_t n = 0;
	rc = memfs_list(fs, path, &names, &n);
	if (rc == BRAIN_EINVAL)
		rc = brain__err(BRAIN_EIO, "memfs: list \"%s\": not a directory", path);
	for (size_t i = 0; rc == BRAIN_OK && i < n; i++)
		rc = fn(names[i], ctx);
	memfs_free_list(names, n);
	return rc;
}

/* ---- the file system --------------------------------------------------- */

static memfs *fs_alloc(void)
{
	memfs *fs = calloc(1, sizeof *fs);
	if (!fs)
		return NULL;
	if (pthread_mutex_init(&fs->mu, NULL) != 0) {
		free(fs);
		return NULL;
	}
	fs->io = (brain_io){
		.version = BRAIN_IO_VERSION,
		.payload = fs,
		.open = mf_open,
		.close = mf_close,
		.pread = mf_pread,
		.pwrite = mf_pwrite,
		.fsync = mf_fsync,
		.size = mf_size,
		.truncate = mf_truncate,
		.allocate = mf_allocate,
		.map = mf_map,
		.unmap = mf_unmap,
		.lock = mf_lock,
		.mkdir = mf_mkdir,
		.rename = mf_rename,
		.unlink = mf_unlink,
		.sync_dir = mf_sync_dir,
		.list = mf_list,
	};
	return fs;
}

memfs *memfs_new(void)
{
	memfs *fs = fs_alloc();
	if (!fs)
		return NULL;
	fs->root = inode_new(fs, true);
	if (!fs->root) {
		memfs_free(fs);
		return NULL;
	}
	return fs;
}

void memfs_free(memfs *fs)
{
	if (!fs)
		return;
	while (fs->files) {
		brain_io_file *f = fs->files;
		fs->files = f->next;
		free(f);
	}
	while (fs->inodes) {
		mf_inode *i = fs->inodes;
		fs->inodes = i->next;
		inode_free(i);
	}
	pthread_mutex_destroy(&fs->mu);
	free(fs);
}

const brain_io *memfs_io(memfs *fs)
{
	return &fs->io;
}

static int clone_inodes(memfs *fs, memfs *src)
{
	mark_reachable(src, false);
	for (mf_inode *i = src->inodes; i; i = i->next) {
		i->copy = NULL;
		if (!i->mark)
			continue;
		mf_inode *c = inode_new(fs, i->is_dir);
		if (!c)
			return BRAIN_ENOMEM;
		i->copy = c;
		c->data = blob_ref(i->data);
		c->size = i->size;
		c->dur = blob_ref(i->dur);
		c->dur_size = i->dur_size;
		if (i->nops) {
			c->ops = malloc(i->nops * sizeof *c->ops);
			if (!c->ops)
				return BRAIN_ENOMEM;
			c->cap_ops = i->nops;
			for (size_t k = 0; k < i->nops; k++) {
				mf_op op = i->ops[k];
				if (op.kind == MF_OP_WRITE) {
					op.bytes = malloc(op.len);
					if (!op.bytes)
						return BRAIN_ENOMEM;
					memcpy(op.bytes, i->ops[k].bytes, op.len);
				}
				c->ops[c->nops++] = op;
			}
			c->op_bytes = i->op_bytes;
		}
	}
	for (mf_inode *i = src->inodes; i; i = i->next)
		if (i->copy && i->is_dir &&
		    (dir_copy(&i->copy->cur, &i->cur, true) || dir_copy(&i->copy->dud, &i->dud, true)))
			return BRAIN_ENOMEM;
	fs->root = src->root->copy;
	return 0;
}

memfs *memfs_clone(const memfs *src_const)
{
	/* the lock and the marks are scratch state, not the content */
	memfs *src = (memfs *)(uintptr_t)src_const;
	memfs *fs = fs_alloc();
	if (!fs)
		return NULL;
	pthread_mutex_lock(&src->mu);
	int rc = clone_inodes(fs, src);
	pthread_mutex_unlock(&src->mu);
	if (rc) {
		memfs_free(fs);
		return NULL;
	}
	return fs;
}

int memfs_crash(memfs *fs, enum memfs_crash_mode mode, uint64_t seed)
{
	pthread_mutex_lock(&fs->mu);
	for (brain_io_file *f = fs->files; f; f = f->next) {
		if (f->ino)
			f->ino->opens--;
		f->ino = NULL;
		f->lock = 0;
	}
	uint64_t s = seed;
	int rc = 0;
	for (mf_inode *i = fs->inodes; i && !rc; i = i->next) {
		if (i->is_dir)
			rc = mode == MEMFS_CRASH_KEEP ? dir_copy(&i->dud, &i->cur, false)
			                              : dir_copy(&i->cur, &i->dud, false);
		else if (mode == MEMFS_CRASH_KEEP)
			file_share(i);
		else if (mode == MEMFS_CRASH_TEAR && i->nops)
			rc = file_tear(i, &s);
		else
			file_revert(i);
	}
	gc(fs);
	fs->stopped = false;
	fs->fail_left = fs->crash_left = fs->tear_left = 0;
	pthread_mutex_unlock(&fs->mu);
	return rc;
}

/* ---- faults ------------------------------------------------------------ */

void memfs_fail_at(memfs *fs, long n, int code)
{
	pthread_mutex_lock(&fs->mu);
	fs->fail_left = n > 0 ? n : 0;
	fs->fail_code = code;
	pthread_mutex_unlock(&fs->mu);
}

void memfs_crash_at(memfs *fs, long n)
{
	pthread_mutex_lock(&fs->mu);
	fs->crash_left = n > 0 ? n : 0;
	pthread_mutex_unlock(&fs->mu);
}

void memfs_tear_at(memfs *fs, long n)
{
	pthread_mutex_lock(&fs->mu);
	fs->tear_left = n > 0 ? n : 0;
	pthread_mutex_unlock(&fs->mu);
}

bool memfs_armed(memfs *fs)
{
	pthread_mutex_lock(&fs->mu);
	bool armed = fs->fail_left || fs->crash_left || fs->tear_left;
	pthread_mutex_unlock(&fs->mu);
	return armed;
}

bool memfs_stopped(memfs *fs)
{
	pthread_mutex_lock(&fs->mu);
	bool stopped = fs->stopped;
	pthread_mutex_unlock(&fs->mu);
	return stopped;
}

long memfs_calls(memfs *fs)
{
	pthread_mutex_lock(&fs->mu);
	long n = fs->calls;
	pthread_mutex_unlock(&fs->mu);
	return n;
}

void memfs_reset_counter(memfs *fs)
{
	pthread_mutex_lock(&fs->mu);
	fs->calls = 0;
	pthread_mutex_unlock(&fs->mu);
}

size_t memfs_open_files(memfs *fs)
{
	pthread_mutex_lock(&fs->mu);
	size_t n = fs->open_files;
	pthread_mutex_unlock(&fs->mu);
	return n;
}

size_t memfs_live_maps(memfs *fs)
{
	pthread_mutex_lock(&fs->mu);
	size_t n = fs->live_maps;
	pthread_mutex_unlock(&fs->mu);
	return n;
}

/* ---- inspection -------------------------------------------------------- */

int memfs_read_file(memfs *fs, const char *path, unsigned char **data, size_t *size)
{
	*data = NULL;
	*size = 0;
	pthread_mutex_lock(&fs->mu);
	mf_path p = {NULL, NULL, 0};
	mf_inode *dir, *ino;
	const char *name;
	int rc = resolve(fs, "read_file", path, &p, &dir, &name, &ino);
	if (!rc && !ino)
		rc = brain__err(BRAIN_ENOTFOUND, "memfs: read_file \"%s\": no such file", path);
	if (!rc && ino->is_dir)
		rc = brain__err(BRAIN_EINVAL, "memfs: read_file \"%s\": is a directory", path);
	if (!rc) {
		*data = malloc(ino->size ? ino->size : 1);
		if (!*data)
			rc = brain__oom(ino->size, "memfs: read_file");
		else if (ino->size)
			memcpy(*data, ino->data->bytes, ino->size);
		if (!rc)
			*size = ino->size;
	}
	path_free(&p);
	pthread_mutex_unlock(&fs->mu);
	return rc;
}

static int write_file(memfs *fs, const char *path, const void *data, size_t size)
{
	mf_path p = {NULL, NULL, 0};
	int rc = path_split(path, &p);
	if (rc)
		return rc;
	if (p.n == 0) {
		path_free(&p);
		return brain__err(BRAIN_EINVAL, "memfs: write_file \"%s\": the top level", path);
	}
	if (size > MF_MAX_FILE) {
		path_free(&p);
		return brain__err(BRAIN_ENOSPC, "memfs: write_file \"%s\": %zu bytes", path, size);
	}
	mf_inode *d = fs->root;
	for (size_t i = 0; i < p.n && !rc; i++) {
		bool last = i + 1 == p.n;
		mf_inode *c = dir_get(&d->cur, p.comp[i]);
		if (c && c->is_dir == last) {
			rc = brain__err(BRAIN_EINVAL, "memfs: write_file \"%s\": \"%s\" is a %s", path,
			                p.comp[i], c->is_dir ? "directory" : "file");
			break;
		}
		if (!c) {
			c = inode_new(fs, !last);
			if (!c) {
				rc = brain__oom(sizeof *c, "memfs: write_file");
				break;
			}
			rc = dir_set(&d->cur, p.comp[i], c);
		}
		if (!rc)
			rc = dir_set(&d->dud, p.comp[i], c);
		if (!rc && last) {
			mf_blob *b = blob_new(size);
			if (!b) {
				rc = brain__oom(size, "memfs: write_file");
				break;
			}
			if (size)
				memcpy(b->bytes, data, size);
			blob_unref(c->data);
			c->data = b;
			c->size = size;
			file_share(c);
		}
		d = c;
	}
	path_free(&p);
	return rc;
}

int memfs_write_file(memfs *fs, const char *path, const void *data, size_t size)
{
	pthread_mutex_lock(&fs->mu);
	int rc = write_file(fs, path, data, size);
	gc(fs);
	pthread_mutex_unlock(&fs->mu);
	return rc;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int memfs_list(memfs *fs, const char *dir, char ***names, size_t *n)
{
	*names = NULL;
	*n = 0;
	pthread_mutex_lock(&fs->mu);
	mf_path p = {NULL, NULL, 0};
	mf_inode *parent, *ino;
	const char *name;
	int rc = resolve(fs, "list", dir, &p, &parent, &name, &ino);
	if (!rc && !ino)
		rc = brain__err(BRAIN_ENOTFOUND, "memfs: list \"%s\": no such directory", dir);
	if (!rc && !ino->is_dir)
		rc = brain__err(BRAIN_EINVAL, "memfs: list \"%s\": not a directory", dir);
	char **v = NULL;
	size_t k = 0;
	if (!rc) {
		v = malloc((ino->cur.n ? ino->cur.n : 1) * sizeof *v);
		if (!v)
			rc = brain__oom(ino->cur.n * sizeof *v, "memfs: list");
		for (; !rc && k < ino->cur.n; k++) {
			size_t len = strlen(ino->cur.v[k].name);
			v[k] = malloc(len + 1);
			if (!v[k])
				rc = brain__oom(len + 1, "memfs: list");
			else
				memcpy(v[k], ino->cur.v[k].name, len + 1);
		}
	}
	path_free(&p);
	pthread_mutex_unlock(&fs->mu);
	if (rc) {
		memfs_free_list(v, k);
		return rc;
	}
	qsort(v, k, sizeof *v, cmp_names);
	*names = v;
	*n = k;
	return 0;
}

void memfs_free_list(char **names, size_t n)
{
	if (!names)
		return;
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}
