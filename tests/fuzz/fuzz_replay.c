/*
 * tests/fuzz/fuzz_replay.c - libFuzzer target: one log record of any op,
 * of arbitrary bytes, replayed into a small live brain (4-d, L2, texts with
 * the caller's vectors, metadata, keys, a document, relations), as opening
 * a brain replays its log.
 *
 * An input is a u8 op (taken modulo 16, so that unknown ops are met too)
 * and the record's payload. The replay must return 0 or a documented
 * error with a message, never crash or read past the record; what it made
 * must leave the brain consistent: brain_check's cross-check of records,
 * id map and index (VERIFY), a search and a listing. The brain is made
 * again after 256 inputs, so that it stays small.
 *
 * Seeds (corpus_replay/) are real records of every op: REPLACE and
 * DOCUMENT among them (BRAINCORE_FUZZ_SEEDS=<dir> fuzz_replay writes
 * them; see make_seeds below).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "braincore.h"
#include "engine/change.h"
#include "engine/handle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(ok)                                                                             \
	do {                                                                                  \
		if (!(ok)) {                                                                  \
			fprintf(stderr, "fuzz_replay.c:%d: check failed: %s (last error: %s: %s)\n", \
			        __LINE__, #ok, brain_error_name(brain_errcode()), brain_errmsg());  \
			abort();                                                              \
		}                                                                             \
	} while (0)

static brain_t *g_brain;
static unsigned g_uses;

static brain_t *make_brain(void)
{
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.dimensions = 4;
	o.metric = BRAIN_METRIC_L2;
	o.embedder = BRAIN_EMBEDDER_NONE;
	o.background = BRAIN_BACKGROUND_MANUAL;
	o.max_memories = 4096;
	brain_t *b = NULL;
	check(brain_open(NULL, &o, &b) == 0);
	static const float v[3][4] = {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 1}};
	uint64_t a = 0, c = 0;
	check(brain_remember_ex(b, "the lantern by the river", v[0], 0.5f, &a) == 0);
	check(brain_upsert(b, "key-1", "copper meadow falcon", 20, v[1], 0.25f, "{\"kind\":\"x\"}",
	                   &c) == 0);
	check(brain_add_with(b, 100, v[2], "{\"n\":3}") == 0);
	check(brain_relate(b, a, c, "knows", 1.0f) == 0);
	return b;
}

/* Real records of each op, as seeds: an on-disk brain's changes, read back
 * from its log is more than this target needs; the records are encoded
 * here by hand from the heads of engine/change.h. */
static void write_seed(const char *dir, const char *name, uint8_t op, const void *rec,
                       size_t len)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f)
		return;
	fwrite(&op, 1, 1, f);
	fwrite(rec, 1, len, f);
	fclose(f);
}

static void make_seeds(const char *dir)
{
	unsigned char buf[512];
	size_t at = 0;
	float v[4] = {0.5f, 0.5f, 0, 0};
	/* REPLACE with a new text, importance and metadata-less */
	brain_record_replace r = {1, 0.75f,
	                          BRAIN_REPLACE_TEXT | BRAIN_REPLACE_IMPORTANCE | BRAIN_REPLACE_META,
	                          5, 4, 0, 0};
	memcpy(buf, &r, sizeof r);
	at = sizeof r;
	memcpy(buf + at, v, sizeof v);
	at += sizeof v;
	memcpy(buf + at, "hello", 6);
	at += 6;
	write_seed(dir, "replace-text", BRAIN_CHANGE_REPLACE, buf, at);
	/* REPLACE of the importance alone */
	brain_record_replace ri = {1, 0.1f, BRAIN_REPLACE_IMPORTANCE, 0, 0, 0, 0};
	write_seed(dir, "replace-importance", BRAIN_CHANGE_REPLACE, &ri, sizeof ri);
	/* DOCUMENT of two passages replacing none */
	brain_record_document d = {500, 1000, 11, 0.5f, 4, 2, 0, 3, 0};
	uint64_t spans[4] = {0, 5, 6, 5};
	float rows[8] = {1, 1, 0, 0, 0, 1, 1, 0};
	at = 0;
	memcpy(buf + at, &d, sizeof d);
	at += sizeof d;
	memcpy(buf + at, spans, sizeof spans);
	at += sizeof spans;
	memcpy(buf + at, rows, sizeof rows);
	at += sizeof rows;
	memcpy(buf + at, "docAbcde fghij", 14);
	at += 14;
	write_seed(dir, "document", BRAIN_CHANGE_DOCUMENT, buf, at);
	/* FORGET of the first memory */
	uint64_t id = 1;
	write_seed(dir, "forget", BRAIN_CHANGE_FORGET, &id, sizeof id);
	/* STORE of a text with its vector */
	brain_record_store s = {0, 1000, 0.5f, 4, 4, 0};
	s.id = 700;
	at = 0;
	memcpy(buf, &s, sizeof s);
	at = sizeof s;
	memcpy(buf + at, v, sizeof v);
	at += sizeof v;
	memcpy(buf + at, "text", 5);
	at += 5;
	write_seed(dir, "store", BRAIN_CHANGE_STORE, buf, at);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int seeded;
	if (!seeded) {
		seeded = 1;
		const char *dir = getenv("BRAINCORE_FUZZ_SEEDS");
		if (dir)
			make_seeds(dir);
	}
	if (size < 1)
		return 0;
	if (!g_brain || ++g_uses > 256) {
		if (g_brain)
			brain_destroy(g_brain);
		g_brain = make_brain();
		g_uses = 0;
	}
	brain_t *b = g_brain;
	uint32_t op = data[0] % 16;
	/* a copy of exactly the record's bytes: a read past it is ASan's */
	uint8_t *rec = malloc(size - 1 ? size - 1 : 1);
	check(rec != NULL);
	memcpy(rec, data + 1, size - 1);
	brain__wrlock(b);
	int rc = brain__change_replay(b, op, 1, rec, size - 1);
	brain__wrunlock(b);
	free(rec);
	if (getenv("BRAINCORE_FUZZ_VERBOSE"))
		fprintf(stderr, "op %u, %zu bytes: %s%s%s\n", (unsigned)op, size - 1,
		        brain_error_name(rc), rc ? ": " : "", rc ? brain_errmsg() : "");
	check(rc == BRAIN_OK || rc == BRAIN_ECORRUPT || rc == BRAIN_ENOMEM || rc == BRAIN_EFULL);
	if (rc)
		check(brain_errmsg()[0] != '\0');
	/* consistent: the cross-check brain_check makes, a search, a listing */
	brain_msg_verify vm;
	memset(&vm, 0, sizeof vm);
	brain__rdlock(b);
	int vrc = brain__call_VERIFY(&b->spine, &vm);
	brain__unlock(b);
	check(vrc == BRAIN_OK);
	static const float q[4] = {0.5f, 0.25f, 0, 0};
	uint64_t ids[4];
	float dist[4];
	size_t found = 0;
	check(brain_search(b, q, 4, ids, dist, &found) == 0);
	brain_results *r = NULL;
	check(brain_list(b, NULL, BRAIN_ID_NONE, 64, &r) == 0);
	brain_results_free(r);
	return 0;
}
