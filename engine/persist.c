/*
 * engine/persist.c - snapshots (save, load, backup), check and repair, on
 * top of the checkpoint image format.
 *
 * A snapshot stream is "BRAINSNP", a format version, then the checkpoint
 * image in frames (u32 length + bytes) ended by a zero length: the image
 * itself carries every checksum, and a stream can be written without
 * knowing its length up front. brain_load() turns it back into an image,
 * mapped from memory (in-memory brain) or written as the first checkpoint
 * of a new directory.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "engine/handle.h"
#include "organs/cortex/model.h"
#include "storage/image.h"
#include "storage/manifest.h"
#include "storage/wal.h"

static const char k_stream_magic[8] = {'B', 'R', 'A', 'I', 'N', 'S', 'N', 'P'};
#define STREAM_VERSION 1u
#define PATH_BYTES 4096

/* ---- save ---------------------------------------------------------------- */

typedef struct stream_sink {
	brain_write_fn write;
	void *payload;
} stream_sink;

static int stream_put(stream_sink *s, const void *data, size_t len)
{
	int rc = s->write(data, len, s->payload);
	if (rc)
		return brain__err(BRAIN_EIO, "save: the write callback returned %d", rc);
	return BRAIN_OK;
}

static int stream_frame(void *payload, const void *data, size_t len)
{
	stream_sink *s = payload;
	uint32_t n = (uint32_t)len; /* the image writer hands at most 1 MiB */
	int rc = stream_put(s, &n, sizeof n);
	return rc ? rc : stream_put(s, data, len);
}

static uint64_t current_lsn(brain_t *b)
{
	brain_msg_wal_status st;
	brain__call_WAL_STATUS(&b->spine, &st);
	return st.open ? st.last_lsn : 0;
}

BRAIN_EXPORT int brain_save(brain_t *b, brain_write_fn write, void *payload)
{
	if (!b || !write)
		return brain__err(BRAIN_ENULL, "save: %s is NULL", b ? "write" : "brain");
	stream_sink s = {write, payload};
	unsigned char head[16];
	uint32_t version = STREAM_VERSION, reserved = 0, end = 0;
	memcpy(head, k_stream_magic, 8);
	memcpy(head + 8, &version, 4);
	memcpy(head + 12, &reserved, 4);
	brain__rdlock(b);
	int rc = stream_put(&s, head, sizeof head);
	uint64_t size = 0;
	uint32_t crc = 0;
	if (rc == BRAIN_OK)
		rc = brain__write_image(b, (brain_sink){stream_frame, &s}, 1, current_lsn(b), NULL, &size,
		                        &crc);
	if (rc == BRAIN_OK)
		rc = stream_put(&s, &end, sizeof end);
	brain__unlock(b);
	return brain__err_prefix(rc, "save");
}

/* ---- writing a brain directory from an image ---------------------------- */

/* Make `dir` (which must not hold a brain) and give it a first checkpoint:
 * `image` written through `fill`, a manifest, an empty log. */
typedef int (*fill_fn)(void *ctx, const brain_io *io, const char *path, uint64_t *size,
                       uint32_t *crc, uint64_t *lsn);

static int new_directory(const brain_io *io, const char *dir, const brain_identity *id,
                         fill_fn fill, void *ctx)
{
	char path[PATH_BYTES];
	int rc = io->mkdir(io->payload, dir);
	if (rc == BRAIN_EEXISTS) {
		brain_manifest m;
		int found = brain__manifest_read(io, dir, &m);
		if (found != BRAIN_ENOTFOUND)
			return brain__err(BRAIN_EEXISTS, "\"%s\" already holds a brain", dir);
		rc = BRAIN_OK;
	}
	if (rc)
		return rc;
	char name[32];
	brain__image_file_name(name, sizeof name, 1);
	rc = brain__path_join(path, sizeof path, dir, name);
	uint64_t size = 0, lsn = 0;
	uint32_t crc = 0;
	if (rc == BRAIN_OK)
		rc = fill(ctx, io, path, &size, &crc, &lsn);
	if (rc == BRAIN_OK)
		rc = brain__wal_create(io, dir, id, 1, lsn + 1);
	if (rc == BRAIN_OK) {
		brain_manifest m = {*id, 1, lsn, size, crc};
		rc = brain__manifest_write(io, dir, &m);
	}
	if (rc) {
		/* leave no half brain behind */
		io->unlink(io->payload, path);
		if (brain__path_join(path, sizeof path, dir, "wal") == BRAIN_OK)
			io->unlink(io->payload, path);
	}
	return rc;
}

/* backup: the image comes from the live brain */
static int fill_live(void *ctx, const brain_io *io, const char *path, uint64_t *size,
                     uint32_t *crc, uint64_t *lsn)
{
	*lsn = current_lsn(ctx);
	return brain__write_image_file(ctx, io, path, 1, *lsn, NULL, size, crc);
}

BRAIN_EXPORT int brain_backup(brain_t *b, const char *dir)
{
	if (!b || !dir)
		return brain__err(BRAIN_ENULL, "backup: %s is NULL", b ? "dir" : "brain");
	const brain_io *io = b->disk.io ? b->disk.io : brain_io_posix();
	brain__rdlock(b);
	brain_identity id = brain__identity_of(b);
	int rc = new_directory(io, dir, &id, fill_live, b);
	brain__unlock(b);
	return brain__err_prefix(rc, "backup");
}

/* ---- load ---------------------------------------------------------------- */

static int stream_get(brain_read_fn read, void *payload, void *buf, size_t len)
{
	int rc = read(buf, len, payload);
	if (rc)
		return brain__err(BRAIN_EIO, "load: the read callback returned %d", rc);
	return BRAIN_OK;
}

static void free_image(void *ctx, void *data, size_t len)
{
	(void)data;
	(void)len;
	brain__free(ctx);
}

/* Read a whole snapshot into a 4096-aligned heap image. */
static int read_stream(brain_read_fn read, void *payload, brain_image **out)
{
	unsigned char head[16];
	int rc = stream_get(read, payload, head, sizeof head);
	if (rc)
		return rc;
	uint32_t version;
	memcpy(&version, head + 8, 4);
	if (memcmp(head, k_stream_magic, 8) != 0)
		return brain__err(BRAIN_ECORRUPT, "load: not a braincore snapshot (bad magic at "
		                  "offset 0)");
	if (version != STREAM_VERSION)
		return brain__err(version > STREAM_VERSION ? BRAIN_EVERSION : BRAIN_ECORRUPT,
		                  "load: snapshot format version %u; this library reads %u", version,
		                  STREAM_VERSION);
	brain_membuf m = {NULL, 0, 0};
	uint64_t at = sizeof head;
	for (;;) {
		uint32_t n;
		rc = stream_get(read, payload, &n, sizeof n);
		if (rc)
			break;
		at += sizeof n;
		if (n == 0)
			break;
		if (n > (1u << 24)) {
			rc = brain__err(BRAIN_ECORRUPT, "load: frame of %u bytes at offset %llu is not "
			                "a snapshot's", n, (unsigned long long)at);
			break;
		}
		if (m.len + n > m.cap) {
			size_t cap = BRAIN_MAX(m.cap * 2, m.len + n);
			unsigned char *d = brain__realloc(m.data, cap);
			if (!d) {
				rc = brain__oom(cap, "load: snapshot");
				break;
			}
			m.data = d;
			m.cap = cap;
		}
		rc = stream_get(read, payload, m.data + m.len, n);
		if (rc)
			break;
		m.len += n;
		at += n;
	}
	unsigned char *raw = NULL;
	if (rc == BRAIN_OK) {
		raw = brain__malloc(m.len + BRAIN_IMAGE_ALIGN);
		if (!raw)
			rc = brain__oom(m.len + BRAIN_IMAGE_ALIGN, "load: snapshot");
	}
	if (rc) {
		brain__free(m.data);
		return rc;
	}
	unsigned char *img = raw + (BRAIN_IMAGE_ALIGN - (uintptr_t)raw % BRAIN_IMAGE_ALIGN) %
	                               BRAIN_IMAGE_ALIGN;
	if (m.len)
		memcpy(img, m.data, m.len);
	brain__free(m.data);
	return brain__image_open(img, m.len, free_image, raw, "snapshot", out);
}


typedef struct image_copy {
	brain_image *img;
	const void *data;
	size_t len;
} image_copy;

static int fill_copy(void *ctx, const brain_io *io, const char *path, uint64_t *size,
                     uint32_t *crc, uint64_t *lsn)
{
	image_copy *c = ctx;
	brain_io_file *f = NULL;
	int rc = io->open(io->payload, path, BRAIN_IO_OPEN_WRITE | BRAIN_IO_OPEN_CREATE, &f);
	if (rc == BRAIN_OK)
		rc = io->truncate(f, 0);
	if (rc == BRAIN_OK)
		rc = io->allocate(f, 0, c->len);
	if (rc == BRAIN_OK)
		rc = io->pwrite(f, c->data, c->len, 0);
	if (rc == BRAIN_OK)
		rc = io->fsync(f);
	rc = brain__io_close_keep(io, f, rc);
	*size = c->len;
	*crc = brain__image_crc(c->img);
	*lsn = brain__image_lsn(c->img);
	return rc;
}

BRAIN_EXPORT int brain_load(brain_read_fn read, void *payload, const char *path,
                            const brain_options *opts, brain_t **out)
{
	if (!out)
		return brain__err(BRAIN_ENULL, "load: out is NULL");
	*out = NULL;
	if (!read)
		return brain__err(BRAIN_ENULL, "load: read is NULL");
	brain_options o;
	int rc = brain__options_resolve(opts, &o);
	if (rc)
		return brain__err_prefix(rc, "load");
	brain_image *img = NULL;
	rc = read_stream(read, payload, &img);
	if (rc)
		return brain__err_prefix(rc, "load");
	const brain_identity *have = brain__image_identity(img);
	/* a model is loaded once: held here, shared by the brain's open */
	struct brain_model *model = NULL;
	uint32_t embedder_id = 0;
	if (o.model_path)
		rc = brain__model_acquire(o.model_path, &model);
	if (rc == BRAIN_OK && o.flags & BRAIN_OPEN_STORED_OPTIONS) {
		o.dimensions = have->dimensions;
		o.metric = (int)have->metric;
		o.embedder = (int)have->embedder;
		o.index_name = have->index;
		o.flags &= ~(unsigned)(BRAIN_OPEN_STORED_OPTIONS | BRAIN_OPEN_NOCREATE);
		if (o.embedder != BRAIN_EMBEDDER_MODEL)
			o.model_path = NULL;
	} else if (rc == BRAIN_OK) {
		/* AUTO takes the index the brain was made with */
		if (o.index == BRAIN_INDEX_AUTO && !o.index_name)
			o.index_name = have->index;
		if (model && !o.dimensions)
			o.dimensions = brain__model_dimensions(model);
	}
	if (rc == BRAIN_OK && o.embedder == BRAIN_EMBEDDER_MODEL && !model)
		rc = brain__err(BRAIN_EINVAL, "the brain's vectors were made by a model (%08x): give "
		                "its path in brain_options.model_path", have->embedder_id);
	if (rc == BRAIN_OK) {
		if (model && o.embedder == BRAIN_EMBEDDER_MODEL)
			embedder_id = brain__model_fingerprint(model);
		/* the built-in embedder's word table is checked by the open
		 * (brain__use_lift) */
		if (o.embedder == BRAIN_EMBEDDER_BUILTIN && have->embedder == BRAIN_EMBEDDER_BUILTIN)
			embedder_id = have->embedder_id;
		brain_identity want;
		brain__identity_make(&want, o.dimensions, o.metric, o.embedder, embedder_id,
		                     brain__options_index_name(&o));
		rc = brain__identity_check(have, &want, "load");
	}
	if (rc == BRAIN_OK && !path) {
		rc = brain__open(NULL, &o, img, BRAIN_DISK_NORMAL, out);
	} else if (rc == BRAIN_OK) {
		const brain_io *io = o.io ? o.io : brain_io_posix();
		image_copy c = {img, brain__image_data(img), (size_t)brain__image_size(img)};
		rc = new_directory(io, path, have, fill_copy, &c);
		if (rc == BRAIN_OK) {
			o.flags &= ~(unsigned)BRAIN_OPEN_NOCREATE;
			rc = brain__open(path, &o, NULL, BRAIN_DISK_NORMAL, out);
		}
	}
	brain__image_unref(img);
	brain__model_release(model);
	return brain__err_prefix(rc, "load");
}

/* ---- check and repair ---------------------------------------------------- */

BRAIN_EXPORT int brain_check_report_init(brain_check_report *report, unsigned int version)
{
	if (!report)
		return brain__err(BRAIN_ENULL, "check_report_init: report is NULL");
	if (version != BRAIN_CHECK_REPORT_VERSION)
		return brain__err(BRAIN_EVERSION, "check_report_init: version %u unknown (this "
		                  "library knows %d)", version, BRAIN_CHECK_REPORT_VERSION);
	memset(report, 0, sizeof *report);
	report->version = version;
	return BRAIN_OK;
}

static int open_for(const char *path, const brain_options *opts, unsigned flags, int mode,
                    brain_t **b)
{
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	if (opts && opts->version >= 2)
		o.io = opts->io;
	o.flags = flags | BRAIN_OPEN_STORED_OPTIONS;
	return brain__open(path, &o, NULL, mode, b);
}

static void fill_report(brain_t *b, brain_check_report *r)
{
	if (!r)
		return;
	r->memories = brain_count(b);
	r->generation = b->disk.generation;
	r->checkpoint_lsn = b->disk.checkpoint_lsn;
	r->checkpoint_bytes = b->disk.checkpoint_bytes;
	r->wal_records = b->disk.replayed;
	r->wal_torn_bytes = b->disk.torn_bytes;
	r->dropped_records = b->disk.dropped_after;
	brain_msg_wal_status st;
	brain__call_WAL_STATUS(&b->spine, &st);
	r->wal_bytes = st.bytes;
}

static int check_report_arg(brain_check_report *report, const char *fn)
{
	if (report && report->version != BRAIN_CHECK_REPORT_VERSION)
		return brain__err(BRAIN_EVERSION, "%s: report version %u unknown; call "
		                  "brain_check_report_init() first", fn, report->version);
	return BRAIN_OK;
}

BRAIN_EXPORT int brain_check(const char *path, const brain_options *opts,
                             brain_check_report *report)
{
	if (!path)
		return brain__err(BRAIN_ENULL, "check: path is NULL");
	int rc = check_report_arg(report, "check");
	if (rc)
		return rc;
	brain_t *b = NULL;
	rc = open_for(path, opts, BRAIN_OPEN_READONLY, BRAIN_DISK_NORMAL, &b);
	uint64_t bytes = 0;
	if (rc == BRAIN_OK && b->disk.image)
		rc = brain__image_verify_all(b->disk.image, &bytes);
	if (rc == BRAIN_OK) {
		/* checksums prove each file is what was written; this proves
		 * the records and the index written agree */
		brain_msg_verify v = {0};
		brain__rdlock(b);
		rc = brain__call_VERIFY(&b->spine, &v);
		brain__unlock(b);
	}
	if (rc == BRAIN_OK && report) {
		fill_report(b, report);
		report->bytes_verified = bytes;
	}
	brain_close(b);
	return brain__err_prefix(rc, "check");
}

BRAIN_EXPORT int brain_repair(const char *path, const brain_options *opts,
                              brain_check_report *report)
{
	if (!path)
		return brain__err(BRAIN_ENULL, "repair: path is NULL");
	int rc = check_report_arg(report, "repair");
	if (rc)
		return rc;
	brain_t *b = NULL;
	rc = open_for(path, opts, BRAIN_OPEN_NOCREATE, BRAIN_DISK_REPAIR, &b);
	if (rc == BRAIN_OK && b->disk.image)
		rc = brain__image_verify_all(b->disk.image, NULL);
	if (rc == BRAIN_OK)
		rc = brain_checkpoint(b);
	if (rc == BRAIN_OK && report)
		fill_report(b, report);
	int rc2 = brain_close(b);
	if (rc == BRAIN_OK)
		rc = rc2;
	return brain__err_prefix(rc, "repair");
}
