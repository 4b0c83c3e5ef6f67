/*
 * storage/image.h - checkpoint images: a brain's whole state in one byte
 * string that is used in place once mapped.
 *
 * An image is a header, a run of sections and a footer that lists them:
 *
 *   [0, 4096)         header: magic, format version, byte order, the
 *                     brain's identity (dimensions, metric, embedder,
 *                     index), generation, lsn; CRC32C
 *   sections          each at a 4096-aligned offset: its bytes, then one
 *                     CRC32C per 64 KiB block of them
 *   footer            the section table; CRC32C
 *   trailer (64 B)    where the footer is, the image size; CRC32C
 *
 * The writer streams (a sink takes bytes in order), so the same code
 * writes checkpoint files, snapshots to a caller's stream and backups.
 * The reader validates every offset and size against the image length
 * before anything uses them; section bytes are checked against their block
 * checksums when a consumer asks (brain__image_verify), once per block, so
 * a large section that is never touched is never read. docs/file-format.md
 * has the exact layout.
 */
#ifndef BRAIN_STORAGE_IMAGE_H
#define BRAIN_STORAGE_IMAGE_H

#include <stdatomic.h>

#include "base/base.h"

#define BRAIN_IMAGE_VERSION 1
#define BRAIN_IMAGE_ALIGN 4096u
#define BRAIN_IMAGE_BLOCK 65536u
#define BRAIN_IMAGE_MAX_SECTIONS 32u
#define BRAIN_IMAGE_NAME_MAX 64u

/* Section kinds. Pinned: the numbers are in files. */
enum brain_section_kind {
	BRAIN_SECTION_HIPPO_META = 1,  /* counters of the memory store */
	BRAIN_SECTION_RECORDS = 2,     /* one record per slot */
	BRAIN_SECTION_TEXTS = 3,       /* text bytes the records point into */
	BRAIN_SECTION_IDMAP = 4,       /* id -> slot hash table */
	BRAIN_SECTION_FREE = 5,        /* free slot stack */
	BRAIN_SECTION_INDEX = 6,       /* the index backend's own bytes */
	BRAIN_SECTION_VECTORS = 7,     /* vectors, for backends that cannot save */
	BRAIN_SECTION_CORTEX_DF = 8,   /* document frequencies, 64-bit keys (read only) */
	BRAIN_SECTION_CORTEX_DF32 = 9, /* document frequencies of the embedder */
	BRAIN_SECTION_META = 10,       /* metadata of the memories (version 3 counters) */
	BRAIN_SECTION_RELATIONS = 11,  /* relations between memories (version 3 counters) */
	BRAIN_SECTION_KEYWORDS = 12    /* the keyword index of the texts (rebuilt if absent) */
};

/* Identity of a brain, in every image, manifest and log header. */
typedef struct brain_identity {
	uint32_t dimensions;
	uint32_t metric;
	uint32_t embedder;
	/* which model or word table made the vectors: a fingerprint of its
	 * contents (0: none, the built-in embedder's lexical vectors or the
	 * application's). Stored where files of format version 1 had a
	 * reserved zero, so older brains read as 0. */
	uint32_t embedder_id;
	char index[BRAIN_IMAGE_NAME_MAX]; /* NUL-terminated backend name */
} brain_identity;

/* Fill an identity (the index name is cut to fit; names are at most 63
 * bytes by registration). */
void brain__identity_make(brain_identity *id, uint32_t dimensions, int metric, int embedder,
                          uint32_t embedder_id, const char *index);

/* Compare what a file says (`stored`) with what the caller asked for;
 * BRAIN_EMISMATCH naming the first field that differs. */
int brain__identity_check(const brain_identity *stored, const brain_identity *want,
                          const char *where);

/* ---- writing ----------------------------------------------------------- */

typedef struct brain_sink {
	/* Take len bytes in order; 0 or a BRAIN_E* code (message set). */
	int (*write)(void *payload, const void *data, size_t len);
	void *payload;
} brain_sink;

typedef struct brain_image_writer {
	brain_sink sink;
	unsigned char *buf; /* coalesces small writes */
	size_t buf_len, buf_cap;
	uint64_t pos;       /* bytes of image produced so far */
	struct {
		uint32_t kind;
		uint64_t offset, length, crc_offset;
	} sections[BRAIN_IMAGE_MAX_SECTIONS];
	uint32_t nsections;
	bool in_section;
	/* the open section's block checksums */
	uint32_t *crcs;
	size_t ncrcs, crcs_cap;
	uint32_t block_crc;
	uint32_t block_fill;
	int err;            /* sticky: first error */
} brain_image_writer;

/* Start an image: writes the header. */
int brain__imgw_begin(brain_image_writer *w, brain_sink sink, const brain_identity *id,
                      uint64_t generation, uint64_t lsn);
int brain__imgw_section_begin(brain_image_writer *w, uint32_t kind);
int brain__imgw_write(brain_image_writer *w, const void *data, size_t len);
int brain__imgw_zeros(brain_image_writer *w, size_t len);
int brain__imgw_section_end(brain_image_writer *w);
/* Footer and trailer; *size gets the image's length and *crc the
 * trailer's checksum (the manifest records both). */
int brain__imgw_finish(brain_image_writer *w, uint64_t *size, uint32_t *crc);
/* Release the writer's buffers (after finish or on error). */
void brain__imgw_free(brain_image_writer *w);

/* ---- reading ----------------------------------------------------------- */

typedef struct brain_image brain_image;

/* Called when the last reference to an image goes: unmap or free data. */
typedef void (*brain_image_release_fn)(void *ctx, void *data, size_t len);

/* Take ownership of `len` bytes at `data` (4096-aligned) holding an image
 * and validate its structure: trailer, footer, header, section table (every
 * offset and length within len, aligned, no overlap). Does not read section
 * bodies. `name` (copied) names the image in messages. On success the
 * image has one reference; on failure release has been called. Errors:
 * BRAIN_ECORRUPT (naming name and offset), BRAIN_EVERSION (newer format),
 * BRAIN_ENOMEM. */
int brain__image_open(void *data, size_t len, brain_image_release_fn release, void *ctx,
                      const char *name, brain_image **out);
void brain__image_ref(brain_image *img);
void brain__image_unref(brain_image *img);

const brain_identity *brain__image_identity(const brain_image *img);
uint64_t brain__image_generation(const brain_image *img);
uint64_t brain__image_lsn(const brain_image *img);
uint64_t brain__image_size(const brain_image *img);
const void *brain__image_data(const brain_image *img);
uint32_t brain__image_crc(const brain_image *img);
const char *brain__image_name(const brain_image *img);

/* The bytes of section `kind` (writable: the mapping is private). Returns
 * false if the image has no such section. Nothing is verified. */
bool brain__image_section(const brain_image *img, uint32_t kind, void **data, size_t *len);

/* Verify the blocks of section `kind` covering [off, off + len) against
 * their checksums (each block once per image). BRAIN_ECORRUPT naming the
 * image, section and offset. A missing section verifies trivially. */
int brain__image_verify(brain_image *img, uint32_t kind, size_t off, size_t len);

/* Verify every section; *bytes gets the bytes checked (may be NULL). */
int brain__image_verify_all(brain_image *img, uint64_t *bytes);

/* A sink that appends to a growing heap buffer (for tests and in-memory
 * snapshots). */
typedef struct brain_membuf {
	unsigned char *data;
	size_t len, cap;
} brain_membuf;
int brain__membuf_write(void *payload, const void *data, size_t len);

#endif /* BRAIN_STORAGE_IMAGE_H */
