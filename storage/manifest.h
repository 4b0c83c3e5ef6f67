/*
 * storage/manifest.h - the MANIFEST file of a brain directory: which
 * checkpoint image is current, what the brain is, and the log position the
 * image holds. Replaced atomically (write a temporary file, fsync, rename,
 * fsync the directory), so a crash leaves the old or the new one, whole.
 */
#ifndef BRAIN_STORAGE_MANIFEST_H
#define BRAIN_STORAGE_MANIFEST_H

#include "base/base.h"
#include "braincore/sys/io.h"
#include "storage/image.h"

#define BRAIN_MANIFEST_VERSION 1

typedef struct brain_manifest {
	brain_identity identity;
	uint64_t generation;  /* the image is "ckpt-<generation in 16 hex digits>" */
	uint64_t lsn;         /* changes up to this are in the image */
	uint64_t image_bytes; /* size of the image file */
	uint32_t image_crc;   /* its trailer checksum: ties manifest and image */
} brain_manifest;

/* "dir/name" into buf (BRAIN_EINVAL if it does not fit). */
int brain__path_join(char *buf, size_t size, const char *dir, const char *name);

/* Name of the image of a generation: "ckpt-%016llx". */
void brain__image_file_name(char *buf, size_t size, uint64_t generation);

/* Read dir/MANIFEST. BRAIN_ENOTFOUND if there is none, BRAIN_ECORRUPT
 * (naming the file and offset) or BRAIN_EVERSION if it is not valid. */
int brain__manifest_read(const brain_io *io, const char *dir, brain_manifest *m);

/* Replace dir/MANIFEST atomically with m. */
int brain__manifest_write(const brain_io *io, const char *dir, const brain_manifest *m);

/* Close f (when not NULL) after a sequence of calls that returned rc:
 * rc, or the close's error if rc was BRAIN_OK (a failed close can mean
 * lost writes). */
int brain__io_close_keep(const brain_io *io, brain_io_file *f, int rc);

/* Create path as a new, empty file opened for writing: whatever is there
 * (a leftover, or a link planted to make the brain write elsewhere) is
 * removed first, and the file is created exclusively. */
int brain__io_create_fresh(const brain_io *io, const char *path, brain_io_file **out);

/* Read a whole small file (at most max bytes) into a brain__malloc'ed
 * buffer. BRAIN_ECORRUPT if it is larger than max. */
int brain__read_small_file(const brain_io *io, const char *path, size_t max, void **data,
                           size_t *len);

#endif /* BRAIN_STORAGE_MANIFEST_H */
