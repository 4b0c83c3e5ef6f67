/*
 * storage/manifest.c - see manifest.h.
 */
#include <stdio.h>
#include <string.h>

#include "storage/crc32c.h"
#include "storage/manifest.h"

static const char k_magic[8] = {'B', 'R', 'A', 'I', 'N', 'M', 'A', 'N'};

typedef struct manifest_disk {
	char magic[8];
	uint32_t version;
	uint32_t bytes;
	uint32_t dimensions;
	uint32_t metric;
	uint32_t embedder;
	uint32_t embedder_id;
	char index[BRAIN_IMAGE_NAME_MAX];
	uint64_t generation;
	uint64_t lsn;
	uint64_t image_bytes;
	uint32_t image_crc;
	uint32_t crc; /* of every byte before it */
} manifest_disk;
_Static_assert(sizeof(manifest_disk) == 128, "manifest layout");

int brain__path_join(char *buf, size_t size, const char *dir, const char *name)
{
	int n = snprintf(buf, size, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= size)
		return brain__err(BRAIN_EINVAL, "path \"%s/%s\" is too long", dir, name);
	return BRAIN_OK;
}

void brain__image_file_name(char *buf, size_t size, uint64_t generation)
{
	snprintf(buf, size, "ckpt-%016llx", (unsigned long long)generation);
}

int brain__io_close_keep(const brain_io *io, brain_io_file *f, int rc)
{
	if (!f)
		return rc;
	int closed = io->close(f);
	return rc == BRAIN_OK ? closed : rc;
}

int brain__io_create_fresh(const brain_io *io, const char *path, brain_io_file **out)
{
	*out = NULL;
	int rc = io->unlink(io->payload, path);
	if (rc && rc != BRAIN_ENOTFOUND)
		return rc;
	return io->open(io->payload, path,
	                BRAIN_IO_OPEN_WRITE | BRAIN_IO_OPEN_CREATE | BRAIN_IO_OPEN_EXCL, out);
}

int brain__read_small_file(const brain_io *io, const char *path, size_t max, void **data,
                           size_t *len)
{
	brain_io_file *f = NULL;
	int rc = io->open(io->payload, path, 0, &f);
	if (rc)
		return rc;
	uint64_t size = 0;
	rc = io->size(f, &size);
	if (rc == BRAIN_OK && size > max)
		rc = brain__err(BRAIN_ECORRUPT, "%s: %llu bytes, more than the %zu it can be", path,
		                (unsigned long long)size, max);
	unsigned char *buf = NULL;
	if (rc == BRAIN_OK) {
		buf = brain__malloc(size ? (size_t)size : 1);
		if (!buf)
			rc = brain__oom((size_t)size, path);
	}
	size_t done = 0;
	if (rc == BRAIN_OK)
		rc = io->pread(f, buf, (size_t)size, 0, &done);
	io->close(f);
	if (rc) {
		brain__free(buf);
		return rc;
	}
	*data = buf;
	*len = done;
	return BRAIN_OK;
}

int brain__manifest_read(const brain_io *io, const char *dir, brain_manifest *m)
{
	char path[4096];
	int rc = brain__path_join(path, sizeof path, dir, "MANIFEST");
	void *data = NULL;
	size_t len = 0;
	if (rc == BRAIN_OK)
		rc = brain__read_small_file(io, path, 4096, &data, &len);
	if (rc)
		return rc;
	manifest_disk d;
	memset(&d, 0, sizeof d);
	memcpy(&d, data, BRAIN_MIN(len, sizeof d));
	brain__free(data);
	if (len < sizeof d)
		return brain__err(BRAIN_ECORRUPT, "%s: %zu bytes, a manifest is %zu (offset %zu)", path,
		                  len, sizeof d, len);
	if (memcmp(d.magic, k_magic, sizeof d.magic) != 0)
		return brain__err(BRAIN_ECORRUPT, "%s: not a braincore manifest (bad magic at offset 0)",
		                  path);
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	if (brain__crc32c(0, &d, offsetof(manifest_disk, crc)) != d.crc)
		return brain__err(BRAIN_ECORRUPT, "%s: checksum mismatch (offset %zu)", path,
		                  offsetof(manifest_disk, crc));
#endif
	if (d.version != BRAIN_MANIFEST_VERSION)
		return brain__err(d.version > BRAIN_MANIFEST_VERSION ? BRAIN_EVERSION : BRAIN_ECORRUPT,
		                  "%s: format version %u; this library reads version %u", path,
		                  d.version, BRAIN_MANIFEST_VERSION);
	if (d.bytes != sizeof d || len != sizeof d)
		return brain__err(BRAIN_ECORRUPT, "%s: %zu bytes, its header says %u (offset 12)", path,
		                  len, d.bytes);
	if (d.index[BRAIN_IMAGE_NAME_MAX - 1] != '\0' || d.index[0] == '\0' || d.generation == 0)
		return brain__err(BRAIN_ECORRUPT, "%s: fields out of range (offset 32)", path);
	memset(m, 0, sizeof *m);
	m->identity.dimensions = d.dimensions;
	m->identity.metric = d.metric;
	m->identity.embedder = d.embedder;
	m->identity.embedder_id = d.embedder_id;
	memcpy(m->identity.index, d.index, sizeof d.index);
	m->generation = d.generation;
	m->lsn = d.lsn;
	m->image_bytes = d.image_bytes;
	m->image_crc = d.image_crc;
	return BRAIN_OK;
}

int brain__manifest_write(const brain_io *io, const char *dir, const brain_manifest *m)
{
	char tmp[4096], path[4096];
	int rc = brain__path_join(tmp, sizeof tmp, dir, "MANIFEST.tmp");
	if (rc == BRAIN_OK)
		rc = brain__path_join(path, sizeof path, dir, "MANIFEST");
	if (rc)
		return rc;
	manifest_disk d;
	memset(&d, 0, sizeof d);
	memcpy(d.magic, k_magic, sizeof d.magic);
	d.version = BRAIN_MANIFEST_VERSION;
	d.bytes = sizeof d;
	d.dimensions = m->identity.dimensions;
	d.metric = m->identity.metric;
	d.embedder = m->identity.embedder;
	d.embedder_id = m->identity.embedder_id;
	memcpy(d.index, m->identity.index, sizeof d.index);
	d.index[BRAIN_IMAGE_NAME_MAX - 1] = '\0';
	d.generation = m->generation;
	d.lsn = m->lsn;
	d.image_bytes = m->image_bytes;
	d.image_crc = m->image_crc;
	d.crc = brain__crc32c(0, &d, offsetof(manifest_disk, crc));

	brain_io_file *f = NULL;
	rc = brain__io_create_fresh(io, tmp, &f);
	if (rc == BRAIN_OK)
		rc = io->pwrite(f, &d, sizeof d, 0);
	if (rc == BRAIN_OK)
		rc = io->fsync(f);
	rc = brain__io_close_keep(io, f, rc);
	if (rc == BRAIN_OK)
		rc = io->rename(io->payload, tmp, path);
	if (rc == BRAIN_OK)
		rc = io->sync_dir(io->payload, dir);
	return rc;
}
