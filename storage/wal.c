/*
 * storage/wal.c - see wal.h.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "storage/crc32c.h"
#include "storage/manifest.h"
#include "storage/wal.h"

static const char k_magic[8] = {'B', 'R', 'A', 'I', 'N', 'W', 'A', 'L'};

/* Room is reserved ahead of the writes in steps of at least this:
 * allocate (a full disk shows before a record is written), then zeros
 * written over it, because file systems such as ext4 leave allocated
 * blocks "unwritten" and the first write into each would otherwise make
 * every fdatasync flush metadata too. Appends then never change the file's
 * size or extents, and fdatasync stays a data flush. */
#define ALLOC_STEP ((uint64_t)1 << 20)
/* Records up to this size are assembled in one buffer and written with one
 * pwrite; larger ones are written piece by piece. */
#define SMALL_RECORD ((size_t)64 * 1024)
/* A record larger than this is damage, not data. */
#define MAX_RECORD ((uint64_t)1 << 40)

typedef struct wal_header {
	char magic[8];
	uint32_t version;
	uint32_t header_bytes;
	uint64_t generation;
	uint64_t start_lsn;
	uint32_t dimensions;
	uint32_t metric;
	uint32_t embedder;
	uint32_t reserved0;
	char index[BRAIN_IMAGE_NAME_MAX];
	uint32_t reserved[3];
	uint32_t crc; /* of every byte before it */
} wal_header;
_Static_assert(sizeof(wal_header) == BRAIN_WAL_HEADER_BYTES, "wal header layout");

typedef struct record_header {
	uint32_t crc;
	uint32_t len;
	uint64_t lsn;
	uint64_t synced;
	uint32_t op;
	uint32_t size;
} record_header;
_Static_assert(sizeof(record_header) == BRAIN_WAL_RECORD_HEADER, "wal record layout");

struct brain_wal {
	const brain_io *io;
	char dir[4096];
	char path[4096];
	brain_identity id;
	bool check_identity; /* false only for a peek */
	bool writable;
	brain_io_file *file;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t generation;
	uint64_t start_lsn;
	uint64_t last_lsn;   /* last record appended */
	uint64_t synced_lsn; /* durable up to here */
	uint64_t end;        /* next append offset */
	uint64_t alloc_end;  /* space reserved up to here */
	bool syncing;
	int failed;          /* sticky fsync failure */
	unsigned char *buf;  /* SMALL_RECORD bytes */
};

static int header_write(const brain_io *io, brain_io_file *f, const brain_identity *id,
                        uint64_t generation, uint64_t start_lsn)
{
	wal_header h;
	memset(&h, 0, sizeof h);
	h.dimensions = id->dimensions;
	h.metric = id->metric;
	h.embedder = id->embedder;
	memcpy(h.index, id->index, sizeof h.index);
	h.index[BRAIN_IMAGE_NAME_MAX - 1] = '\0';
	memcpy(h.magic, k_magic, sizeof h.magic);
	h.version = BRAIN_WAL_VERSION;
	h.header_bytes = BRAIN_WAL_HEADER_BYTES;
	h.generation = generation;
	h.start_lsn = start_lsn;
	h.crc = brain__crc32c(0, &h, offsetof(wal_header, crc));
	return io->pwrite(f, &h, sizeof h, 0);
}

int brain__wal_create(const brain_io *io, const char *dir, const brain_identity *id,
                      uint64_t generation, uint64_t start_lsn)
{
	char tmp[4096], path[4096];
	int rc = brain__path_join(tmp, sizeof tmp, dir, "wal.tmp");
	if (rc == BRAIN_OK)
		rc = brain__path_join(path, sizeof path, dir, "wal");
	if (rc)
		return rc;
	brain_io_file *f = NULL;
	rc = io->open(io->payload, tmp, BRAIN_IO_OPEN_WRITE | BRAIN_IO_OPEN_CREATE, &f);
	if (rc == BRAIN_OK)
		rc = io->truncate(f, 0);
	if (rc == BRAIN_OK)
		rc = header_write(io, f, id, generation, start_lsn);
	if (rc == BRAIN_OK)
		rc = io->fsync(f);
	rc = brain__io_close_keep(io, f, rc);
	if (rc == BRAIN_OK)
		rc = io->rename(io->payload, tmp, path);
	if (rc == BRAIN_OK)
		rc = io->sync_dir(io->payload, dir);
	return rc;
}

static int read_header(brain_wal *w)
{
	wal_header h;
	size_t done = 0;
	int rc = w->io->pread(w->file, &h, sizeof h, 0, &done);
	if (rc)
		return rc;
	if (done < sizeof h)
		return brain__err(BRAIN_ECORRUPT, "%s: %zu bytes, shorter than its header (offset 0)",
		                  w->path, done);
	if (memcmp(h.magic, k_magic, sizeof h.magic) != 0)
		return brain__err(BRAIN_ECORRUPT, "%s: not a braincore log (bad magic at offset 0)",
		                  w->path);
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	if (brain__crc32c(0, &h, offsetof(wal_header, crc)) != h.crc)
		return brain__err(BRAIN_ECORRUPT, "%s: header checksum mismatch (offset %zu)", w->path,
		                  offsetof(wal_header, crc));
#endif
	if (h.version != BRAIN_WAL_VERSION)
		return brain__err(h.version > BRAIN_WAL_VERSION ? BRAIN_EVERSION : BRAIN_ECORRUPT,
		                  "%s: format version %u; this library reads version %u", w->path,
		                  h.version, BRAIN_WAL_VERSION);
	if (h.header_bytes != BRAIN_WAL_HEADER_BYTES || h.start_lsn == 0 ||
	    h.index[BRAIN_IMAGE_NAME_MAX - 1] != '\0')
		return brain__err(BRAIN_ECORRUPT, "%s: header fields out of range (offset 12)", w->path);
	brain_identity have;
	memset(&have, 0, sizeof have);
	have.dimensions = h.dimensions;
	have.metric = h.metric;
	have.embedder = h.embedder;
	memcpy(have.index, h.index, sizeof have.index);
	if (w->check_identity && brain__identity_check(&have, &w->id, w->path))
		return brain__err(BRAIN_ECORRUPT, "%s: belongs to another brain (offset 32): %s",
		                  w->path, brain_errmsg());
	w->generation = h.generation;
	w->start_lsn = h.start_lsn;
	w->last_lsn = h.start_lsn - 1;
	w->synced_lsn = w->last_lsn;
	w->end = BRAIN_WAL_HEADER_BYTES;
	return BRAIN_OK;
}

int brain__wal_open(const brain_io *io, const char *dir, const brain_identity *id,
                    bool writable, brain_wal **out)
{
	*out = NULL;
	brain_wal *w = brain__calloc(1, sizeof *w);
	if (!w)
		return brain__oom(sizeof *w, "log");
	w->io = io;
	w->id = *id;
	w->check_identity = true;
	w->writable = writable;
	snprintf(w->dir, sizeof w->dir, "%s", dir);
	int rc = brain__path_join(w->path, sizeof w->path, dir, "wal");
	if (rc == BRAIN_OK && writable) {
		w->buf = brain__malloc(SMALL_RECORD);
		if (!w->buf)
			rc = brain__oom(SMALL_RECORD, "log buffer");
	}
	if (rc == BRAIN_OK)
		rc = io->open(io->payload, w->path, writable ? BRAIN_IO_OPEN_WRITE : 0, &w->file);
	if (rc == BRAIN_OK)
		rc = read_header(w);
	uint64_t size = 0;
	if (rc == BRAIN_OK)
		rc = io->size(w->file, &size);
	/* until a replay finds the end: appends go after the header, and
	 * nothing before the file's end is ever zeroed */
	w->alloc_end = BRAIN_MAX(size, (uint64_t)BRAIN_WAL_HEADER_BYTES);
	if (rc) {
		if (w->file)
			io->close(w->file);
		brain__free(w->buf);
		brain__free(w);
		return rc;
	}
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	*out = w;
	return BRAIN_OK;
}

int brain__wal_peek(const brain_io *io, const char *dir, uint64_t *generation,
                    uint64_t *start_lsn, uint64_t *size)
{
	brain_wal w;
	memset(&w, 0, sizeof w);
	w.io = io;
	int rc = brain__path_join(w.path, sizeof w.path, dir, "wal");
	if (rc == BRAIN_OK)
		rc = io->open(io->payload, w.path, 0, &w.file);
	if (rc)
		return rc;
	rc = read_header(&w);
	if (rc == BRAIN_OK)
		rc = io->size(w.file, size);
	io->close(w.file);
	*generation = w.generation;
	*start_lsn = w.start_lsn;
	return rc;
}

void brain__wal_close(brain_wal *w)
{
	if (!w)
		return;
	if (w->file)
		w->io->close(w->file);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	brain__free(w->buf);
	brain__free(w);
}

/* ---- replay ------------------------------------------------------------ */

typedef struct reader {
	const unsigned char *data;
	uint64_t size;
} reader;

static bool crc_ok(uint32_t stored, const unsigned char *rec, size_t len)
{
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	(void)stored;
	(void)rec;
	(void)len;
	return true;
#else
	return brain__crc32c(0, rec + 4, len - 4) == stored;
#endif
}

/* Is there a whole, valid record at off, numbered at least min_lsn? */
static bool valid_at(const reader *r, uint64_t off, uint64_t min_lsn, record_header *out)
{
	if (off > r->size || r->size - off < sizeof(record_header))
		return false;
	record_header h;
	memcpy(&h, r->data + off, sizeof h);
	if (h.len < sizeof h || h.len % 8 || h.len > r->size - off ||
	    h.size > h.len - sizeof h || h.len - sizeof h - h.size >= 8 || h.lsn < min_lsn ||
	    h.synced >= h.lsn)
		return false;
	if (!crc_ok(h.crc, r->data + off, h.len))
		return false;
	*out = h;
	return true;
}

/* Offset just past the last nonzero byte at or after off. */
static uint64_t written_end(const reader *r, uint64_t off)
{
	uint64_t e = r->size;
	while (e > off && e % 8)
		if (r->data[--e] != 0)
			return e + 1;
	while (e >= off + 8) {
		uint64_t word;
		memcpy(&word, r->data + e - 8, sizeof word);
		if (word)
			break;
		e -= 8;
	}
	while (e > off && r->data[e - 1] == 0)
		e--;
	return e;
}

int brain__wal_replay(brain_wal *w, uint64_t after_lsn, bool repair, brain_wal_apply_fn apply,
                      void *payload, brain_wal_replay_info *info)
{
	brain_wal_replay_info local;
	if (!info)
		info = &local;
	memset(info, 0, sizeof *info);
	if (w->start_lsn > after_lsn + 1)
		return brain__err(BRAIN_ECORRUPT, "%s: the log starts at change %llu but the "
		                  "checkpoint holds changes up to %llu only: changes are missing",
		                  w->path, (unsigned long long)w->start_lsn,
		                  (unsigned long long)after_lsn);
	uint64_t size = 0;
	int rc = w->io->size(w->file, &size);
	if (rc)
		return rc;
	/* Read, not mapped: a writer opening the brain may cut a torn tail
	 * while a read-only process replays, and a mapping would then fault. */
	unsigned char *map = NULL;
	size_t map_len = 0;
	if (size > BRAIN_WAL_HEADER_BYTES) {
		if (size > SIZE_MAX / 2)
			return brain__err(BRAIN_ENOMEM, "%s: %llu bytes cannot be read", w->path,
			                  (unsigned long long)size);
		map_len = (size_t)size;
		map = brain__malloc(map_len);
		if (!map)
			return brain__oom(map_len, "log replay");
		size_t done = 0;
		rc = w->io->pread(w->file, map, map_len, 0, &done);
		if (rc) {
			brain__free(map);
			return rc;
		}
		size = done;
	}
	reader r = {map, map ? size : 0};
	uint64_t off = BRAIN_WAL_HEADER_BYTES;
	uint64_t expect = w->start_lsn;
	record_header h;
	while (rc == BRAIN_OK && valid_at(&r, off, expect, &h) && h.lsn == expect) {
		if (h.lsn > after_lsn) {
			rc = apply(payload, h.op, h.lsn, r.data + off + sizeof h, h.size);
			if (rc)
				break;
			info->records++;
		}
		info->bytes += h.len;
		off += h.len;
		expect++;
	}
	if (rc) {
		brain__free(map);
		return rc;
	}
	/* off is the end of the valid log. Anything written after it? */
	uint64_t tail_end = map ? written_end(&r, off) : off;
	if (tail_end > off) {
		/* A valid record further on that knew the bad one durable means
		 * the log was damaged, not torn. */
		for (uint64_t p = off + 8; p + sizeof h <= r.size; p += 8) {
			if (!valid_at(&r, p, expect, &h))
				continue;
			if (repair) {
				info->dropped++;
				p += h.len - 8;
				continue;
			}
			if (h.synced >= expect) {
				brain__free(map);
				return brain__err(BRAIN_ECORRUPT,
				                  "%s: record %llu at offset %llu is damaged, and record %llu "
				                  "at offset %llu was written after it was made durable",
				                  w->path, (unsigned long long)expect,
				                  (unsigned long long)off, (unsigned long long)h.lsn,
				                  (unsigned long long)p);
			}
		}
	}
	brain__free(map);
	info->torn_bytes = tail_end - off;
	info->bad_offset = off;
	w->last_lsn = expect - 1;
	if (w->last_lsn < after_lsn)
		w->last_lsn = after_lsn;
	w->synced_lsn = w->last_lsn;
	w->end = off;
	w->alloc_end = size;
	if (w->writable && size > off) {
		/* cut the torn tail and any reserved space: appends start clean */
		rc = w->io->truncate(w->file, off);
		if (rc == BRAIN_OK)
			rc = w->io->fsync(w->file);
		w->alloc_end = off;
	}
	return rc;
}

/* ---- appending --------------------------------------------------------- */

static int reserve(brain_wal *w, uint64_t upto)
{
	if (upto <= w->alloc_end)
		return BRAIN_OK;
	uint64_t step = BRAIN_MAX(ALLOC_STEP, w->alloc_end / 8);
	uint64_t want = BRAIN_MAX(upto, w->alloc_end + step);
	int rc = w->io->allocate(w->file, w->alloc_end, want - w->alloc_end);
	static const unsigned char zeros[64 * 1024];
	for (uint64_t at = w->alloc_end; rc == BRAIN_OK && at < want; at += sizeof zeros)
		rc = w->io->pwrite(w->file, zeros, (size_t)BRAIN_MIN(sizeof zeros, want - at), at);
	if (rc)
		return brain__err_context(rc, "log: reserving space: ");
	w->alloc_end = want;
	return BRAIN_OK;
}

int brain__wal_append(brain_wal *w, uint32_t op, const brain_wal_part *parts, size_t nparts,
                      uint64_t *lsn)
{
	if (!w->writable)
		return brain__err(BRAIN_EREADONLY, "log: %s is open read-only", w->path);
	uint64_t size = 0;
	for (size_t i = 0; i < nparts; i++)
		size += parts[i].len;
	uint64_t len = (sizeof(record_header) + size + 7) & ~(uint64_t)7;
	if (len > UINT32_MAX)
		return brain__err(BRAIN_ERANGE, "log: a record of %llu bytes is over the limit of 4 GiB",
		                  (unsigned long long)len);
	pthread_mutex_lock(&w->mu);
	int rc = w->failed;
	if (rc) {
		pthread_mutex_unlock(&w->mu);
		return brain__err(rc, "log: an earlier fsync of %s failed; the brain must be reopened",
		                  w->path);
	}
	record_header h = {0, (uint32_t)len, w->last_lsn + 1, w->synced_lsn, op, (uint32_t)size};
	static const unsigned char zeros[8];
	size_t pad = (size_t)(len - sizeof h - size);
	uint32_t crc = brain__crc32c(0, (const unsigned char *)&h + 4, sizeof h - 4);
	for (size_t i = 0; i < nparts; i++)
		crc = brain__crc32c(crc, parts[i].data, parts[i].len);
	h.crc = brain__crc32c(crc, zeros, pad);
	uint64_t off = w->end;
	rc = reserve(w, off + len);
	if (rc == BRAIN_OK && len <= SMALL_RECORD) {
		size_t at = 0;
		memcpy(w->buf, &h, sizeof h);
		at = sizeof h;
		for (size_t i = 0; i < nparts; i++) {
			if (parts[i].len)
				memcpy(w->buf + at, parts[i].data, parts[i].len);
			at += parts[i].len;
		}
		memset(w->buf + at, 0, pad);
		rc = w->io->pwrite(w->file, w->buf, (size_t)len, off);
	} else if (rc == BRAIN_OK) {
		/* the header last, so a record whose pieces failed never looks whole */
		uint64_t at = off + sizeof h;
		for (size_t i = 0; rc == BRAIN_OK && i < nparts; i++) {
			if (parts[i].len)
				rc = w->io->pwrite(w->file, parts[i].data, parts[i].len, at);
			at += parts[i].len;
		}
		if (rc == BRAIN_OK && pad)
			rc = w->io->pwrite(w->file, zeros, pad, at);
		if (rc == BRAIN_OK)
			rc = w->io->pwrite(w->file, &h, sizeof h, off);
	}
	if (rc == BRAIN_OK) {
		w->end = off + len;
		w->last_lsn = h.lsn;
		*lsn = h.lsn;
	} else {
		brain__err_context(rc, "log: append: ");
	}
	pthread_mutex_unlock(&w->mu);
	return rc;
}

int brain__wal_sync(brain_wal *w, uint64_t lsn)
{
	pthread_mutex_lock(&w->mu);
	int rc = BRAIN_OK;
	while (w->synced_lsn < lsn) {
		if (w->failed) {
			rc = brain__err(w->failed, "log: an earlier fsync of %s failed; the brain must be "
			                "reopened", w->path);
			break;
		}
		if (w->syncing) {
			pthread_cond_wait(&w->cv, &w->mu);
			continue;
		}
		w->syncing = true;
		uint64_t target = w->last_lsn;
		brain_io_file *f = w->file;
		pthread_mutex_unlock(&w->mu);
		rc = w->io->fsync(f);
		pthread_mutex_lock(&w->mu);
		w->syncing = false;
		if (rc) {
			w->failed = rc;
			brain__err_context(rc, "log: fsync: ");
			pthread_cond_broadcast(&w->cv);
			break;
		}
		if (target > w->synced_lsn)
			w->synced_lsn = target;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return rc;
}

int brain__wal_reset(brain_wal *w, uint64_t generation, uint64_t lsn)
{
	pthread_mutex_lock(&w->mu);
	while (w->syncing)
		pthread_cond_wait(&w->cv, &w->mu);
	int rc = brain__wal_create(w->io, w->dir, &w->id, generation, lsn + 1);
	brain_io_file *f = NULL;
	if (rc == BRAIN_OK)
		rc = w->io->open(w->io->payload, w->path, BRAIN_IO_OPEN_WRITE, &f);
	if (rc == BRAIN_OK) {
		w->io->close(w->file);
		w->file = f;
		w->generation = generation;
		w->start_lsn = lsn + 1;
		w->last_lsn = lsn;
		w->synced_lsn = lsn;
		w->end = BRAIN_WAL_HEADER_BYTES;
		w->alloc_end = BRAIN_WAL_HEADER_BYTES;
		w->failed = 0; /* the checkpoint made everything durable */
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return rc;
}

uint64_t brain__wal_last_lsn(brain_wal *w)
{
	pthread_mutex_lock(&w->mu);
	uint64_t v = w->last_lsn;
	pthread_mutex_unlock(&w->mu);
	return v;
}

uint64_t brain__wal_synced_lsn(brain_wal *w)
{
	pthread_mutex_lock(&w->mu);
	uint64_t v = w->synced_lsn;
	pthread_mutex_unlock(&w->mu);
	return v;
}

uint64_t brain__wal_bytes(brain_wal *w)
{
	pthread_mutex_lock(&w->mu);
	uint64_t v = w->end - BRAIN_WAL_HEADER_BYTES;
	pthread_mutex_unlock(&w->mu);
	return v;
}

bool brain__wal_failed(brain_wal *w)
{
	pthread_mutex_lock(&w->mu);
	bool v = w->failed != 0;
	pthread_mutex_unlock(&w->mu);
	return v;
}
