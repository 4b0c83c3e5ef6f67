/*
 * storage/wal.c - see wal.h.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "storage/crc32c.h"
#include "storage/manifest.h"
#include "storage/wal.h"

static const char k_magic[8] = {'B', 'R', 'A', 'I', 'N', 'W', 'A', 'L'};
static const char k_stamp_magic[8] = {'B', 'R', 'W', 'A', 'L', 'E', 'N', 'D'};

/* Room is reserved ahead of the writes: allocate (a full disk shows before
 * a record is written), then zeros written over it, because file systems
 * such as ext4 leave allocated blocks "unwritten" and the first write into
 * each would otherwise make every fdatasync flush metadata too. Appends
 * then never change the file's size or extents, and fdatasync stays a data
 * flush. A step is an eighth of the log, within these bounds; when the
 * device has no room for a step, exactly what the record needs. The new
 * end is stamped after the next fsync (the commit's or the Lungs'), so an
 * append never waits for an fsync of its own. */
/* 1 MiB, not less: smaller steps doubled the p99 of NORMAL and OFF
 * appends (8-10 us -> 17-22 us, 384-d vectors, bench figures in the
 * issue-11 note) */
#define MIN_STEP ((uint64_t)1 << 20)
#define MAX_STEP ((uint64_t)64 << 20)
/* Records up to this size are assembled in one buffer and written with one
 * pwrite; larger ones are written piece by piece. */
#define SMALL_RECORD ((size_t)64 * 1024)
/* Replay reads the log through a window of this size (a record larger than
 * it is read whole, once). */
#define WINDOW ((size_t)1 << 20)

/* The 128-byte header of both versions. */
typedef struct wal_header {
	char magic[8];
	uint32_t version;
	uint32_t header_bytes;
	uint64_t generation;
	uint64_t start_lsn;
	uint32_t dimensions;
	uint32_t metric;
	uint32_t embedder;
	uint32_t embedder_id;
	char index[BRAIN_IMAGE_NAME_MAX];
	uint32_t reserved[3];
	uint32_t crc; /* of every byte before it */
} wal_header;
_Static_assert(sizeof(wal_header) == 128, "wal header layout");

/* Version 2: two end stamps follow the header. Each says how long the file
 * was made durable (its size fsynced before the stamp was written); the
 * valid one with the higher sequence number counts. A file shorter than
 * that was cut short: records may be missing, and it is never taken for a
 * log that simply ends. Two slots, written in turn, so that a torn stamp
 * write leaves the other one whole. */
typedef struct wal_stamp {
	char magic[8];
	uint64_t generation; /* the header's */
	uint64_t seq;
	uint64_t durable_end;
	uint64_t reserved[3];
	uint32_t zero;
	uint32_t crc; /* of every byte before it */
} wal_stamp;
_Static_assert(sizeof(wal_stamp) == 64, "wal stamp layout");
_Static_assert(sizeof(wal_header) + 2 * sizeof(wal_stamp) == BRAIN_WAL_HEADER_BYTES,
               "wal v2 header layout");

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
	uint32_t version;
	uint64_t header_bytes; /* records start here */
	uint64_t generation;
	uint64_t start_lsn;
	uint64_t last_lsn;   /* last record appended */
	uint64_t synced_lsn; /* durable up to here */
	uint64_t end;        /* next append offset */
	uint64_t alloc_end;  /* space reserved up to here */
	uint64_t stamp_seq;  /* newest end stamp (version 2) */
	uint64_t stamp_end;
	uint64_t stamp_want; /* reserved up to here: stamped after the next fsync */
	bool syncing;
	int failed;          /* sticky fsync failure */
	/* A checkpoint holds every record, but its new empty log could not be
	 * put in place: nothing may be appended to the old one (it may be
	 * unlinked already), so the next append puts a new log in place first. */
	bool reset_pending;
	uint64_t pending_generation;
	/* A reset that kept the records after its checkpoint renamed the new
	 * log over the old but could not make the rename durable: the next
	 * append or sync tries again first, and fails if it cannot. */
	bool dir_pending;
	unsigned char *buf;  /* SMALL_RECORD bytes */
	/* last_lsn, synced_lsn, the records' bytes and where the next goes (0
	 * while a new log is pending), failed: copies set under mu, read
	 * without it (the Heart's clock and Health must not wait behind an
	 * append that a hung disk holds) */
	_Atomic uint64_t pub_last, pub_synced, pub_bytes, pub_end;
	_Atomic int pub_failed;
};

/* Publish the fields readers take without mu (mu held, or no other
 * thread yet). */
static void publish(brain_wal *w)
{
	atomic_store(&w->pub_last, w->last_lsn);
	atomic_store(&w->pub_synced, w->synced_lsn);
	atomic_store(&w->pub_bytes, w->end - w->header_bytes);
	atomic_store(&w->pub_end, w->reset_pending ? 0 : w->end);
	atomic_store(&w->pub_failed, w->failed);
}

static void stamp_make(wal_stamp *s, uint64_t generation, uint64_t seq, uint64_t end)
{
	memset(s, 0, sizeof *s);
	memcpy(s->magic, k_stamp_magic, sizeof s->magic);
	s->generation = generation;
	s->seq = seq;
	s->durable_end = end;
	s->crc = brain__crc32c(0, s, offsetof(wal_stamp, crc));
}

static bool stamp_valid(const wal_stamp *s, uint64_t generation)
{
	return memcmp(s->magic, k_stamp_magic, sizeof s->magic) == 0 &&
	       s->generation == generation &&
	       s->crc == brain__crc32c(0, s, offsetof(wal_stamp, crc));
}

/* A new log's first bytes: the header and both stamps (the file's end is
 * its header). */
static void header_make(unsigned char out[BRAIN_WAL_HEADER_BYTES], const brain_identity *id,
                        uint64_t generation, uint64_t start_lsn)
{
	wal_header h;
	memset(&h, 0, sizeof h);
	h.dimensions = id->dimensions;
	h.metric = id->metric;
	h.embedder = id->embedder;
	h.embedder_id = id->embedder_id;
	memcpy(h.index, id->index, sizeof h.index);
	h.index[BRAIN_IMAGE_NAME_MAX - 1] = '\0';
	memcpy(h.magic, k_magic, sizeof h.magic);
	h.version = BRAIN_WAL_VERSION;
	h.header_bytes = BRAIN_WAL_HEADER_BYTES;
	h.generation = generation;
	h.start_lsn = start_lsn;
	h.crc = brain__crc32c(0, &h, offsetof(wal_header, crc));
	wal_stamp s[2];
	/* slot seq % 2: the next stamp (seq 2) overwrites slot 0 */
	stamp_make(&s[0], generation, 0, BRAIN_WAL_HEADER_BYTES);
	stamp_make(&s[1], generation, 1, BRAIN_WAL_HEADER_BYTES);
	memcpy(out, &h, sizeof h);
	memcpy(out + sizeof h, s, sizeof s);
}

/* Write a new, empty log to dir/wal.tmp, fsync it and rename it over
 * dir/wal. *keep (if not NULL) gets the open file, which is dir/wal now. */
static int create_file(const brain_io *io, const char *dir, const brain_identity *id,
                       uint64_t generation, uint64_t start_lsn, brain_io_file **keep)
{
	char tmp[4096], path[4096];
	int rc = brain__path_join(tmp, sizeof tmp, dir, "wal.tmp");
	if (rc == BRAIN_OK)
		rc = brain__path_join(path, sizeof path, dir, "wal");
	if (rc)
		return rc;
	unsigned char head[BRAIN_WAL_HEADER_BYTES];
	header_make(head, id, generation, start_lsn);
	brain_io_file *f = NULL;
	rc = brain__io_create_fresh(io, tmp, &f);
	if (rc == BRAIN_OK)
		rc = io->pwrite(f, head, sizeof head, 0);
	if (rc == BRAIN_OK)
		rc = io->fsync(f);
	if (rc == BRAIN_OK)
		rc = io->rename(io->payload, tmp, path);
	if (rc == BRAIN_OK)
		rc = io->sync_dir(io->payload, dir);
	if (rc == BRAIN_OK && keep) {
		*keep = f;
		return BRAIN_OK;
	}
	return brain__io_close_keep(io, f, rc);
}

int brain__wal_create(const brain_io *io, const char *dir, const brain_identity *id,
                      uint64_t generation, uint64_t start_lsn)
{
	return create_file(io, dir, id, generation, start_lsn, NULL);
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
	if (h.version == 0 || h.version > BRAIN_WAL_VERSION)
		return brain__err(h.version > BRAIN_WAL_VERSION ? BRAIN_EVERSION : BRAIN_ECORRUPT,
		                  "%s: format version %u; this library reads versions 1 to %u",
		                  w->path, h.version, BRAIN_WAL_VERSION);
	uint32_t want_bytes = h.version == 1 ? 128u : BRAIN_WAL_HEADER_BYTES;
	if (h.header_bytes != want_bytes || h.start_lsn == 0 ||
	    h.index[BRAIN_IMAGE_NAME_MAX - 1] != '\0')
		return brain__err(BRAIN_ECORRUPT, "%s: header fields out of range (offset 12)", w->path);
	brain_identity have;
	memset(&have, 0, sizeof have);
	have.dimensions = h.dimensions;
	have.metric = h.metric;
	have.embedder = h.embedder;
	have.embedder_id = h.embedder_id;
	memcpy(have.index, h.index, sizeof have.index);
	if (w->check_identity && brain__identity_check(&have, &w->id, w->path))
		return brain__err(BRAIN_ECORRUPT, "%s: belongs to another brain (offset 32): %s",
		                  w->path, brain_errmsg());
	w->version = h.version;
	w->header_bytes = h.header_bytes;
	w->generation = h.generation;
	w->start_lsn = h.start_lsn;
	w->last_lsn = h.start_lsn - 1;
	w->synced_lsn = w->last_lsn;
	w->end = w->header_bytes;
	publish(w);
	return BRAIN_OK;
}

/* The newest valid end stamp of a version-2 log into stamp_seq/stamp_end. */
static int read_stamps(brain_wal *w)
{
	if (w->version < 2)
		return BRAIN_OK;
	wal_stamp s[2];
	size_t done = 0;
	int rc = w->io->pread(w->file, s, sizeof s, sizeof(wal_header), &done);
	if (rc)
		return rc;
	int best = -1;
	for (int i = 0; i < 2; i++) {
		bool ok = done >= (size_t)(i + 1) * sizeof s[i] && stamp_valid(&s[i], w->generation);
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
		ok = done >= (size_t)(i + 1) * sizeof s[i] &&
		     memcmp(s[i].magic, k_stamp_magic, sizeof s[i].magic) == 0;
#endif
		if (ok && (best < 0 || s[i].seq > s[best].seq))
			best = i;
	}
	if (best < 0)
		return brain__err(BRAIN_ECORRUPT, "%s: both end stamps are damaged (offset %zu)",
		                  w->path, sizeof(wal_header));
	w->stamp_seq = s[best].seq;
	w->stamp_end = s[best].durable_end;
	return BRAIN_OK;
}

/* Record that the file is durable up to `end` (its size fsynced before):
 * the older of the two slots is overwritten. */
static int stamp_write(brain_wal *w, uint64_t end)
{
	if (w->version < 2)
		return BRAIN_OK;
	wal_stamp s;
	uint64_t seq = w->stamp_seq + 1;
	stamp_make(&s, w->generation, seq, end);
	int rc = w->io->pwrite(w->file, &s, sizeof s, sizeof(wal_header) + (seq % 2) * sizeof s);
	if (rc)
		return rc;
	w->stamp_seq = seq;
	w->stamp_end = end;
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
	w->alloc_end = BRAIN_MAX(size, w->header_bytes);
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
	/* the records, not the header: an empty log is 0 in either version */
	if (rc == BRAIN_OK)
		*size = *size > w.header_bytes ? *size - w.header_bytes : 0;
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

/* The log read through a window: memory in proportion to the largest
 * record, not to the log. */
typedef struct reader {
	brain_wal *w;
	uint64_t size; /* lowered if the file turns out shorter */
	unsigned char *buf;
	size_t cap;
	uint64_t base; /* buf holds [base, base + len) of the file */
	size_t len;
} reader;

/* *p gets [off, off + n) of the file, or NULL if the file ends before. */
static int rd_at(reader *r, uint64_t off, size_t n, const unsigned char **p)
{
	*p = NULL;
	if (off >= r->base && off - r->base <= r->len && n <= r->len - (off - r->base)) {
		*p = r->buf + (off - r->base);
		return BRAIN_OK;
	}
	if (off > r->size || n > r->size - off)
		return BRAIN_OK;
	size_t want = (size_t)BRAIN_MIN(BRAIN_MAX((uint64_t)n, (uint64_t)WINDOW), r->size - off);
	if (want > r->cap) {
		unsigned char *b = brain__realloc(r->buf, want);
		if (!b)
			return brain__oom(want, "log replay");
		r->buf = b;
		r->cap = want;
	}
	r->len = 0;
	size_t done = 0;
	int rc = r->w->io->pread(r->w->file, r->buf, want, off, &done);
	if (rc)
		return rc;
	r->base = off;
	r->len = done;
	if (done < want)
		r->size = off + done; /* cut meanwhile (a writer dropped a torn tail) */
	if (done >= n)
		*p = r->buf;
	return BRAIN_OK;
}

/* Is there a whole, valid record at off, numbered at least min_lsn? */
static int valid_at(reader *r, uint64_t off, uint64_t min_lsn, record_header *out, bool *valid)
{
	*valid = false;
	if (off > r->size || r->size - off < sizeof(record_header))
		return BRAIN_OK;
	const unsigned char *p = NULL;
	int rc = rd_at(r, off, sizeof(record_header), &p);
	if (rc || !p)
		return rc;
	record_header h;
	memcpy(&h, p, sizeof h);
	if (h.len < sizeof h || h.len % 8 || h.len > r->size - off ||
	    h.size > h.len - sizeof h || h.len - sizeof h - h.size >= 8 || h.lsn < min_lsn ||
	    h.synced >= h.lsn)
		return BRAIN_OK;
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	/* the checksum, a window at a time */
	uint32_t crc = 0;
	for (uint64_t at = off + 4, stop = off + h.len; at < stop;) {
		size_t n = (size_t)BRAIN_MIN(stop - at, (uint64_t)WINDOW);
		rc = rd_at(r, at, n, &p);
		if (rc || !p)
			return rc;
		crc = brain__crc32c(crc, p, n);
		at += n;
	}
	if (crc != h.crc)
		return BRAIN_OK;
#endif
	*out = h;
	*valid = true;
	return BRAIN_OK;
}

/* *end gets the offset just past the last nonzero byte at or after off. */
static int written_end(reader *r, uint64_t off, uint64_t *end)
{
	uint64_t e = r->size;
	while (e > off) {
		size_t n = (size_t)BRAIN_MIN(e - off, (uint64_t)WINDOW);
		const unsigned char *p = NULL;
		int rc = rd_at(r, e - n, n, &p);
		if (rc)
			return rc;
		if (!p) { /* the file shrank under us */
			e = BRAIN_MIN(e, r->size);
			continue;
		}
		size_t i = n;
		while (i >= 8) {
			uint64_t word;
			memcpy(&word, p + i - 8, sizeof word);
			if (word)
				break;
			i -= 8;
		}
		while (i > 0 && p[i - 1] == 0)
			i--;
		if (i > 0) {
			*end = e - n + i;
			return BRAIN_OK;
		}
		e -= n;
	}
	*end = off;
	return BRAIN_OK;
}

/* Was the file cut below what it had been made durable to? The size is
 * read before and after the stamps: a writer grows the file before it
 * stamps, and stamps before it cuts a torn tail at open, so a live writer
 * never looks like a truncation. */
static int check_length(brain_wal *w, bool repair, uint64_t *size)
{
	int rc = w->io->size(w->file, size);
	if (rc == BRAIN_OK)
		rc = read_stamps(w);
	if (rc == BRAIN_ECORRUPT && repair) {
		BRAIN_LOG(BRAIN_LOG_WARN, "%s", brain_errmsg());
		w->stamp_end = 0;
		rc = BRAIN_OK;
	}
	uint64_t after = 0;
	if (rc == BRAIN_OK)
		rc = w->io->size(w->file, &after);
	if (rc || w->version < 2 || BRAIN_MAX(*size, after) >= w->stamp_end)
		return rc;
	if (repair) {
		BRAIN_LOG(BRAIN_LOG_WARN, "%s: %llu bytes, but %llu had been made durable: the log "
		          "was cut short; repair keeps the records that remain", w->path,
		          (unsigned long long)*size, (unsigned long long)w->stamp_end);
		return BRAIN_OK;
	}
	return brain__err(BRAIN_ECORRUPT, "%s: %llu bytes, but it had been made durable up to "
	                  "%llu bytes: the log was cut short and changes may be missing (offset "
	                  "%llu); brain_repair keeps the records that remain",
	                  w->path, (unsigned long long)*size, (unsigned long long)w->stamp_end,
	                  (unsigned long long)*size);
}

int brain__wal_replay(brain_wal *w, uint64_t after_lsn, bool repair, brain_wal_apply_fn apply,
                      void *payload, brain_wal_replay_info *info)
{
	brain_wal_replay_info local;
	if (!info)
		info = &local;
	memset(info, 0, sizeof *info);
	info->log_ahead = w->start_lsn > after_lsn + 1;
	if (info->log_ahead)
		return brain__err(BRAIN_ECORRUPT, "%s: the log starts at change %llu but the "
		                  "checkpoint holds changes up to %llu only: changes are missing",
		                  w->path, (unsigned long long)w->start_lsn,
		                  (unsigned long long)after_lsn);
	uint64_t size = 0;
	int rc = check_length(w, repair, &size);
	if (rc)
		return rc;
	/* Read, not mapped: a writer opening the brain may cut a torn tail
	 * while a read-only process replays, and a mapping would then fault. */
	reader r = {w, size, NULL, 0, 0, 0};
	uint64_t off = w->header_bytes;
	uint64_t expect = w->start_lsn;
	record_header h;
	bool valid = false;
	for (;;) {
		rc = valid_at(&r, off, expect, &h, &valid);
		if (rc || !valid || h.lsn != expect)
			break;
		if (h.lsn > after_lsn) {
			const unsigned char *p = NULL;
			rc = rd_at(&r, off + sizeof h, h.size, &p);
			if (rc)
				break;
			if (!p) /* cut meanwhile: the end */
				break;
			rc = apply(payload, h.op, h.lsn, p, h.size);
			if (rc)
				break;
			info->records++;
		}
		info->bytes += h.len;
		off += h.len;
		expect++;
	}
	/* off is the end of the valid log. Anything written after it? */
	uint64_t tail_end = off;
	if (rc == BRAIN_OK)
		rc = written_end(&r, off, &tail_end);
	/* A valid record further on that knew the bad one durable means the
	 * log was damaged, not torn. */
	for (uint64_t p = off + 8; rc == BRAIN_OK && p + sizeof h <= tail_end; p += 8) {
		rc = valid_at(&r, p, expect, &h, &valid);
		if (rc || !valid)
			continue;
		if (repair) {
			info->dropped++;
			p += h.len - 8;
			continue;
		}
		if (h.synced >= expect)
			rc = brain__err(BRAIN_ECORRUPT,
			                "%s: record %llu at offset %llu is damaged, and record %llu at "
			                "offset %llu was written after it was made durable",
			                w->path, (unsigned long long)expect, (unsigned long long)off,
			                (unsigned long long)h.lsn, (unsigned long long)p);
	}
	brain__free(r.buf);
	if (rc)
		return rc;
	size = r.size;
	info->torn_bytes = tail_end - off;
	info->bad_offset = off;
	info->last_lsn = expect - 1;
	w->last_lsn = expect - 1;
	if (w->last_lsn < after_lsn)
		w->last_lsn = after_lsn;
	w->synced_lsn = w->last_lsn;
	w->end = off;
	publish(w);
	w->alloc_end = size;
	if (w->writable && (size > off || w->stamp_end > off)) {
		/* cut the torn tail and any reserved space: appends start clean.
		 * Stamped first, so that a crash after the cut is no truncation. */
		if (w->version >= 2) {
			rc = stamp_write(w, off);
			if (rc == BRAIN_OK)
				rc = w->io->fsync(w->file);
		}
		if (rc == BRAIN_OK && size > off)
			rc = w->io->truncate(w->file, off);
		if (rc == BRAIN_OK)
			rc = w->io->fsync(w->file);
		w->alloc_end = off;
		w->stamp_want = off;
	}
	return rc;
}

/* dir_pending: make the last reset's rename durable before anything else. */
static int settle_dir(brain_wal *w)
{
	if (!w->dir_pending)
		return BRAIN_OK;
	/* (the records the new log holds are fsynced: the rename was all that
	 * was missing, and the sync that settles it makes them durable) */
	int rc = w->io->sync_dir(w->io->payload, w->dir);
	if (rc)
		return brain__err(rc, "log: the new %s after the last checkpoint is not yet durable in "
		                  "its directory (%s)", w->path, brain_errmsg());
	w->dir_pending = false;
	return BRAIN_OK;
}

/* ---- appending --------------------------------------------------------- */

static int reserve(brain_wal *w, uint64_t upto)
{
	if (upto <= w->alloc_end)
		return BRAIN_OK;
	uint64_t step = BRAIN_MIN(BRAIN_MAX(MIN_STEP, w->alloc_end / 8), MAX_STEP);
	uint64_t want = BRAIN_MAX(upto, w->alloc_end + step);
	int rc = w->io->allocate(w->file, w->alloc_end, want - w->alloc_end);
	if (rc == BRAIN_ENOSPC && want > upto) {
		/* no room for a step: just this record, which may still fit */
		want = upto;
		rc = w->io->allocate(w->file, w->alloc_end, want - w->alloc_end);
	}
	static const unsigned char zeros[64 * 1024];
	for (uint64_t at = w->alloc_end; rc == BRAIN_OK && at < want; at += sizeof zeros)
		rc = w->io->pwrite(w->file, zeros, (size_t)BRAIN_MIN(sizeof zeros, want - at), at);
	if (rc)
		return brain__err_context(rc, "log: reserving space: ");
	/* stamped once an fsync has made the new size durable (the next
	 * commit's or the Lungs'), never here: an append costs no fsync */
	w->alloc_end = want;
	w->stamp_want = want;
	return BRAIN_OK;
}

/* Put the new, empty log of a checkpoint in place (w->mu held, nobody
 * syncing). Until this succeeds, nothing is appended to any log. */
static int replace(brain_wal *w)
{
	brain_io_file *f = NULL;
	int rc = create_file(w->io, w->dir, &w->id, w->pending_generation, w->last_lsn + 1, &f);
	if (rc)
		return rc;
	w->io->close(w->file);
	w->file = f;
	w->version = BRAIN_WAL_VERSION;
	w->header_bytes = BRAIN_WAL_HEADER_BYTES;
	w->generation = w->pending_generation;
	w->start_lsn = w->last_lsn + 1;
	w->end = w->header_bytes;
	w->alloc_end = w->header_bytes;
	w->stamp_seq = 1;
	w->stamp_end = w->header_bytes;
	w->stamp_want = w->header_bytes;
	w->reset_pending = false;
	publish(w);
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
	rc = settle_dir(w);
	if (rc) {
		pthread_mutex_unlock(&w->mu);
		return rc;
	}
	if (w->reset_pending) {
		rc = replace(w);
		if (rc) {
			pthread_mutex_unlock(&w->mu);
			return brain__err_context(rc, "log: starting a new log after the last "
			                          "checkpoint: ");
		}
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
		publish(w);
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
		rc = settle_dir(w);
		if (rc)
			break;
		w->syncing = true;
		uint64_t target = w->last_lsn;
		uint64_t stamp = w->stamp_want; /* space reserved before this fsync */
		brain_io_file *f = w->file;
		pthread_mutex_unlock(&w->mu);
		rc = w->io->fsync(f);
		pthread_mutex_lock(&w->mu);
		w->syncing = false;
		if (rc == BRAIN_OK && f == w->file && stamp > w->stamp_end &&
		    stamp_write(w, stamp) != BRAIN_OK) {
			/* the records are durable; only the cut-short check of this
			 * stretch is lost (the next fsync stamps again) */
			BRAIN_LOG(BRAIN_LOG_WARN, "%s: the end stamp could not be written: %s",
			          w->path, brain_errmsg());
		}
		if (rc) {
			/* Whatever the device said (EIO, ENOSPC on a thin or network
			 * volume), what reached the disk is now unknown: that is
			 * BRAIN_EIO, and the brain refuses changes until reopened. */
			rc = brain__err(BRAIN_EIO, "log: fsync of %s failed (%s: %s); the changes it "
			                "covered may or may not be durable", w->path, brain_error_name(rc),
			                brain_errmsg());
			w->failed = rc;
			publish(w);
			pthread_cond_broadcast(&w->cv);
			break;
		}
		if (target > w->synced_lsn)
			w->synced_lsn = target;
		publish(w);
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return rc;
}

/* Copy bytes [from, to) of the current log to `f` at `at`. */
static int copy_records(brain_wal *w, brain_io_file *f, uint64_t from, uint64_t to, uint64_t at)
{
	enum { STEP = 64 * 1024 };
	unsigned char *buf = brain__malloc(STEP);
	if (!buf)
		return brain__oom(STEP, "log: copying records");
	int rc = BRAIN_OK;
	while (rc == BRAIN_OK && from < to) {
		size_t n = (size_t)BRAIN_MIN((uint64_t)STEP, to - from), done = 0;
		rc = w->io->pread(w->file, buf, n, from, &done);
		if (rc == BRAIN_OK && done != n)
			rc = brain__err(BRAIN_EIO, "log: %s is shorter than its records (offset %llu)",
			                w->path, (unsigned long long)(from + done));
		if (rc == BRAIN_OK)
			rc = w->io->pwrite(f, buf, n, at);
		from += n;
		at += n;
	}
	brain__free(buf);
	return rc;
}

/* A checkpoint holds the records up to lsn; those after it start at
 * `from` in the current log. A new log holding only them replaces it
 * (through wal.tmp, fsynced, renamed). On an error before the rename the
 * old log goes on (replay skips what the checkpoint holds); after it, the
 * new log is used and the directory is made durable before the next
 * append. w->mu held, nobody syncing. */
static int reset_keeping(brain_wal *w, uint64_t generation, uint64_t lsn, uint64_t from)
{
	char tmp[4096];
	int rc = brain__path_join(tmp, sizeof tmp, w->dir, "wal.tmp");
	if (rc)
		return rc;
	unsigned char head[BRAIN_WAL_HEADER_BYTES];
	header_make(head, &w->id, generation, lsn + 1);
	uint64_t keep = w->end - from, end = BRAIN_WAL_HEADER_BYTES + keep;
	brain_io_file *f = NULL;
	rc = brain__io_create_fresh(w->io, tmp, &f);
	if (rc == BRAIN_OK)
		rc = w->io->allocate(f, 0, end);
	if (rc == BRAIN_OK)
		rc = w->io->pwrite(f, head, sizeof head, 0);
	if (rc == BRAIN_OK && keep)
		rc = copy_records(w, f, from, w->end, BRAIN_WAL_HEADER_BYTES);
	if (rc == BRAIN_OK)
		rc = w->io->fsync(f);
	if (rc == BRAIN_OK)
		rc = w->io->rename(w->io->payload, tmp, w->path);
	if (rc) {
		brain__err_context(rc, "log: starting a new log after the checkpoint: ");
		if (f) {
			w->io->close(f);
			w->io->unlink(w->io->payload, tmp);
		}
		return rc;
	}
	/* renamed: the new log is the one (the old is unlinked) */
	w->io->close(w->file);
	w->file = f;
	w->version = BRAIN_WAL_VERSION;
	w->header_bytes = BRAIN_WAL_HEADER_BYTES;
	w->generation = generation;
	w->start_lsn = lsn + 1;
	w->end = end;
	w->alloc_end = end;
	w->stamp_seq = 1;
	w->stamp_end = BRAIN_WAL_HEADER_BYTES;
	w->stamp_want = end;
	/* A failed fsync of the old log no longer matters: its records up to
	 * lsn are in the checkpoint, the rest in the new file, fsynced (they
	 * were applied; their callers were told they may or may not be
	 * durable). They count as durable once the rename is: until then a
	 * crash may bring the old log back. */
	w->failed = 0;
	if (stamp_write(w, end) != BRAIN_OK)
		BRAIN_LOG(BRAIN_LOG_WARN, "%s: the end stamp could not be written: %s", w->path,
		          brain_errmsg());
	w->dir_pending = true;
	rc = settle_dir(w);
	if (rc == BRAIN_OK)
		w->synced_lsn = w->last_lsn;
	publish(w);
	return rc;
}

int brain__wal_reset_keeping(brain_wal *w, uint64_t generation, uint64_t lsn, uint64_t from)
{
	pthread_mutex_lock(&w->mu);
	while (w->syncing)
		pthread_cond_wait(&w->cv, &w->mu);
	int rc = BRAIN_OK;
	/* a new log was pending at the freeze: none appended since (the
	 * pending one takes the new generation), or the first append put it
	 * in place right after lsn (its records all came since) */
	if (from == 0 && w->reset_pending && w->last_lsn == lsn) {
		w->pending_generation = generation;
		rc = replace(w);
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
		return rc;
	}
	if (from == 0 && !w->reset_pending && w->start_lsn == lsn + 1)
		from = w->header_bytes;
	if (w->reset_pending || from < w->header_bytes || from > w->end || lsn > w->last_lsn)
		rc = brain__err(BRAIN_EINVAL, "log: no records after lsn %llu at offset %llu to keep",
		                (unsigned long long)lsn, (unsigned long long)from);
	else
		rc = reset_keeping(w, generation, lsn, from);
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return rc;
}

void brain__wal_position(brain_wal *w, uint64_t *lsn, uint64_t *end)
{
	*lsn = atomic_load(&w->pub_last);
	*end = atomic_load(&w->pub_end);
}

int brain__wal_reset(brain_wal *w, uint64_t generation, uint64_t lsn)
{
	pthread_mutex_lock(&w->mu);
	while (w->syncing)
		pthread_cond_wait(&w->cv, &w->mu);
	if (lsn < w->last_lsn) {
		/* records after the checkpoint would be dropped: never */
		pthread_mutex_unlock(&w->mu);
		return brain__err(BRAIN_EINVAL, "log: a reset to lsn %llu would drop records up to "
		                  "%llu", (unsigned long long)lsn, (unsigned long long)w->last_lsn);
	}
	/* The checkpoint holds every record up to lsn, durably: whatever
	 * happened to the old log (a failed fsync too) no longer matters, and
	 * from here on nothing goes into it. */
	w->last_lsn = lsn;
	w->synced_lsn = lsn;
	w->failed = 0;
	w->reset_pending = true;
	w->pending_generation = generation;
	w->end = w->header_bytes;
	publish(w);
	pthread_cond_broadcast(&w->cv);
	int rc = replace(w);
	pthread_mutex_unlock(&w->mu);
	return rc;
}

uint64_t brain__wal_last_lsn(brain_wal *w)
{
	return atomic_load(&w->pub_last);
}

uint64_t brain__wal_synced_lsn(brain_wal *w)
{
	return atomic_load(&w->pub_synced);
}

uint64_t brain__wal_bytes(brain_wal *w)
{
	return atomic_load(&w->pub_bytes);
}

bool brain__wal_failed(brain_wal *w)
{
	return atomic_load(&w->pub_failed) != 0;
}
