/*
 * tests/fuzz/fuzz_open.c - libFuzzer target: opening an on-disk brain whose
 * files are arbitrary bytes (the manifest, the checkpoint image, the log
 * and an index segment), on the in-memory file system of the tests
 * (tests/memfs.c).
 *
 * An input is laid out as
 *
 *   u32 n1 (little-endian), n1 bytes of MANIFEST,
 *   u32 n2, n2 bytes of the checkpoint image,
 *   u32 n3, n3 bytes of the log (wal),
 *   the rest: the index segment (index-seg-<generation>).
 *
 * A length past the end of the input takes what is there; an empty part
 * leaves that file out. The image and the segment are named after the
 * generation in the manifest's bytes 96..103 (1 if there are none), so
 * that seeds of any generation work. tests/fuzz/corpus_open holds seeds
 * made from real 4-d brains (BRAINCORE_FUZZ_SEEDS=<dir> test_damage).
 *
 * The fuzz build defines FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION, which
 * makes the library ignore checksum mismatches, so that the fuzzer reaches
 * the parsers behind them.
 *
 * Every brain that opens (read-write, BRAIN_OPEN_STORED_OPTIONS |
 * BRAIN_OPEN_NOCREATE) is checked, searched, read and closed; a close that
 * succeeds wrote a checkpoint (or had nothing to write), and the brain
 * must then open again with the same number of memories. Errors must be
 * the documented ones, with a message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "braincore.h"
#include "tests/memfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken promise: say which, with the library's last message, and
 * abort (the fuzzer keeps the input). */
#define check(ok)                                                                             \
	do {                                                                                  \
		if (!(ok)) {                                                                  \
			fprintf(stderr, "fuzz_open.c:%d: check failed: %s (last error: %s: %s)\n", \
			        __LINE__, #ok, brain_error_name(brain_errcode()), brain_errmsg());  \
			abort();                                                              \
		}                                                                             \
	} while (0)

/* Take a length-prefixed part of the input. */
static const uint8_t *take(const uint8_t **p, size_t *left, size_t *n)
{
	uint32_t len = 0;
	size_t k = *left < 4 ? *left : 4;
	memcpy(&len, *p, k);
	*p += k;
	*left -= k;
	*n = len < *left ? len : *left;
	const uint8_t *part = *p;
	*p += *n;
	*left -= *n;
	return part;
}

static void put(memfs *fs, const char *name, const uint8_t *bytes, size_t n)
{
	if (n == 0)
		return;
	char path[64];
	snprintf(path, sizeof path, "b/%s", name);
	check(memfs_write_file(fs, path, bytes, n) == 0);
}

static int open_error_ok(int rc)
{
	return rc == BRAIN_ECORRUPT || rc == BRAIN_EVERSION || rc == BRAIN_ENOTFOUND ||
	       rc == BRAIN_EMISMATCH || rc == BRAIN_ENOMEM || rc == BRAIN_ENOTSUP ||
	       rc == BRAIN_ERANGE;
}

/* Read what the brain holds: searches, recalls, every id they return. */
static void exercise(brain_t *b)
{
	uint64_t count = brain_count(b);
	uint32_t dims = brain_dimensions(b);
	check(dims >= 1 && dims <= BRAIN_MAX_DIMENSIONS);

	float *q = calloc(dims, sizeof *q);
	float *v = calloc(dims, sizeof *v);
	check(q && v);
	for (uint32_t i = 0; i < dims; i++)
		q[i] = (float)(i % 3) - 0.5f;
	uint64_t ids[8];
	float dist[8];
	size_t found = 0;
	int rc = brain_search(b, q, 8, ids, dist, &found);
	check(rc == 0 || rc == BRAIN_ECORRUPT || rc == BRAIN_ENOMEM);
	if (rc == 0) {
		/* What the sections hold is only promised by their checksums,
		 * which this build ignores: the index may list slots the records
		 * do not (ENOTFOUND below), texts may hold a NUL. Reading them
		 * must still be safe. */
		(void)count;
		check(found <= 8);
		for (size_t i = 0; i < found; i++) {
			rc = brain_get_vector(b, ids[i], v);
			check(rc == 0 || rc == BRAIN_ECORRUPT || rc == BRAIN_ENOTFOUND);
			brain_results *r = NULL;
			rc = brain_get(b, ids[i], &r);
			check(rc == 0 || rc == BRAIN_ECORRUPT || rc == BRAIN_ENOMEM ||
			      rc == BRAIN_ENOTFOUND);
			if (rc == 0) {
				check(brain_results_count(r) == 1);
				const char *t = brain_results_text(r, 0);
				check(!t || strlen(t) <= brain_results_text_len(r, 0));
			}
			brain_results_free(r);
		}
	}
	brain_id rid[4];
	float score[4];
	rc = brain_recall_ids(b, "what does the brain remember", 4, rid, score, &found);
	check(rc == 0 || rc == BRAIN_ECORRUPT || rc == BRAIN_ENOEMBEDDER || rc == BRAIN_ENOMEM);
	char **texts = brain_recall(b, "three hearts", 3);
	if (texts) {
		for (size_t i = 0; texts[i]; i++)
			(void)strlen(texts[i]);
		free(texts);
	}
	free(q);
	free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data;
	size_t left = size;
	size_t man_n, img_n, wal_n;
	const uint8_t *man = take(&p, &left, &man_n);
	const uint8_t *img = take(&p, &left, &img_n);
	const uint8_t *wal = take(&p, &left, &wal_n);
	const uint8_t *seg = p;
	size_t seg_n = left;

	uint64_t gen = 0;
	if (man_n >= 104)
		memcpy(&gen, man + 96, sizeof gen);
	char img_name[32], seg_name[32];
	snprintf(img_name, sizeof img_name, "ckpt-%016llx", (unsigned long long)(gen ? gen : 1));
	snprintf(seg_name, sizeof seg_name, "index-seg-%016llx", (unsigned long long)(gen ? gen : 1));

	memfs *fs = memfs_new();
	check(fs != NULL);
	put(fs, "MANIFEST", man, man_n);
	put(fs, img_name, img, img_n);
	put(fs, "wal", wal, wal_n);
	put(fs, seg_name, seg, seg_n);

	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.flags = BRAIN_OPEN_STORED_OPTIONS | BRAIN_OPEN_NOCREATE;
	o.io = memfs_io(fs);

	brain_check_report rep;
	brain_check_report_init(&rep, BRAIN_CHECK_REPORT_VERSION);
	int crc = brain_check("b", &o, &rep);
	check(crc == 0 || open_error_ok(crc));
	check(crc == 0 || brain_errmsg()[0] != '\0');

	brain_t *b = NULL;
	int rc = brain_open("b", &o, &b);
	if (rc != 0) {
		check(b == NULL);
		check(open_error_ok(rc));
		check(brain_errmsg()[0] != '\0');
		memfs_free(fs);
		return 0;
	}
	check(b != NULL);
	uint64_t count = brain_count(b);
	if (crc == 0)
		check(rep.memories == count);
	exercise(b);
	crc = brain_check("b", &o, NULL); /* while it is open for writing */
	check(crc == 0 || open_error_ok(crc));
	rc = brain_close(b);
	check(rc == 0 || rc == BRAIN_ECORRUPT || rc == BRAIN_ENOMEM || rc == BRAIN_ERANGE);
	if (rc == 0) {
		/* what close left must open again, with the same memories */
		b = NULL;
		rc = brain_open("b", &o, &b);
		if (rc != 0)
			fprintf(stderr, "fuzz_open: reopen after close failed: %s: %s\n",
			        brain_error_name(rc), brain_errmsg());
		check(rc == 0);
		check(brain_count(b) == count);
		exercise(b);
		check(brain_close(b) == 0);
	}
	check(memfs_open_files(fs) == 0 && memfs_live_maps(fs) == 0);
	memfs_free(fs);
	return 0;
}
