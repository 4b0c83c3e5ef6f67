/*
 * tests/test_damage.c - damaged files of an on-disk brain.
 *
 * A small brain (32-d, cosine, built-in embedder, BRAIN_SYNC_FULL) is built
 * on a memfs in two base states:
 *
 *   closed   brain_close()d: the checkpoint holds everything, the log is
 *            empty;
 *   crashed  a copy of the file system taken before brain_close(): the
 *            checkpoint and four log records after it (durable: FULL).
 *
 * Every file of each state (MANIFEST, wal, ckpt-*, the index's own
 * segment files index-seg-*) is then truncated at
 * many offsets, has bits flipped (every bit of the headers, trailers and
 * section tables, samples elsewhere), has 512-byte sectors zeroed, is
 * replaced by the other state's (or the new brain's) file, or is removed,
 * in a fresh copy each time, and the copy is checked (brain_check) and
 * opened. The only acceptable outcomes:
 *
 *  - the open fails with BRAIN_ECORRUPT, BRAIN_EVERSION, BRAIN_EMISMATCH or
 *    BRAIN_ENOTFOUND, with a message (naming the file for ECORRUPT);
 *  - the open succeeds and every memory reads back exactly (text,
 *    importance, creation time, vector; recall ids and scores to the bit),
 *    or a read fails with BRAIN_ECORRUPT (checkpoint bodies are verified
 *    lazily, on first use).
 *
 * Where the format decides the outcome the test is exact: damage anywhere
 * in the manifest, in a log header or in a log record that a later record
 * proves durable must fail; so must a log cut short anywhere (its end
 * stamp says how long it had been made durable) and a truncated
 * checkpoint; damage to one of the log's two end stamps is survived (the
 * other one counts); a log damaged in its last record opens without
 * exactly the changes it lost (a torn tail). brain_check() must agree with the open: 0 only for a brain
 * that opens and reads back whole. A brain that opened is closed (the
 * crashed state then writes a checkpoint) and opened once more: the
 * checkpoint must not have turned damage into wrong answers.
 *
 * BRAINCORE_DAMAGE_FULL=1 runs the exhaustive set (every truncation point,
 * every bit of the log records and of the first and last 8 KiB of the
 * checkpoint); the default covers every header byte and samples the rest,
 * to stay fast under the sanitizers. Problems are collected per kind and
 * printed with their first examples (BRAINCORE_DAMAGE_VERBOSE=1: all of
 * them); each test fails at its end if it found any.
 *
 * BRAINCORE_FUZZ_SEEDS=<dir> also writes seed inputs for the fuzz_open
 * target (tests/fuzz/fuzz_open.c) made from real 4-d brains into <dir>.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "braincore.h"
#include "braincore/sys/io.h"
#include "memfs.h"
#include "storage/crc32c.h"
#include "test_util.h"

#define DIMS 32
#define DIR_NAME "b"
#define MAX_ITEMS 32
#define NQUERIES 4
#define TOPK 6
#define WAL_OPS 4 /* changes logged after the checkpoint */

/* ---- the brain and what it must read back ------------------------------- */

static const char *const g_texts[] = {
	"Octopuses have three hearts and blue blood.",
	"The Eiffel Tower in Paris was finished in 1889.",
	"Espresso is brewed by forcing hot water through ground coffee.",
	"A write-ahead log makes database changes durable.",
	"Bach wrote the Goldberg Variations for harpsichord.",
	"Paris is the capital of France and sits on the Seine.",
	"Honey never spoils if it is kept sealed.",
	"Checkpoints let a database replay only a short log.",
	"The octopus can change colour in a fraction of a second.",
	"Green tea is brewed cooler than black tea.",
	"Rain in Paris falls mostly in late spring.",
	"Mozart wrote his first symphony at the age of eight.",
	/* logged after the checkpoint */
	"Cold brew coffee steeps for twelve hours or more.",
	"Crash consistency needs fsync at the right moments.",
	"A squid has three hearts like the octopus.",
};
#define N_BASE_TEXTS 12

static const char *const g_queries[NQUERIES] = {
	"how many hearts does an octopus have",
	"brewing coffee and tea",
	"durable database log",
	"Paris",
};

typedef struct item {
	brain_id id;
	bool has_text;
	char text[128];
	float importance;
	int64_t created;
	float vec[DIMS];
} item;

typedef struct model {
	item items[MAX_ITEMS];
	size_t n;
	brain_id absent[MAX_ITEMS]; /* ids that must be ENOTFOUND */
	size_t nabsent;
	struct {
		size_t found;
		brain_id ids[TOPK];
		float scores[TOPK];
	} recall[NQUERIES];
} model;

static brain_options options_on(memfs *fs)
{
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.dimensions = DIMS;
	o.sync = BRAIN_SYNC_FULL;
	o.io = memfs_io(fs);
	return o;
}

static void vector_for(uint64_t id, float *v)
{
	for (int i = 0; i < DIMS; i++)
		v[i] = (float)((id * 31 + (uint64_t)i * 7) % 17) - 8.0f + 0.25f * (float)i;
}

/* The model of a live brain, over the ids in `ids`. */
static void capture(brain_t *b, const brain_id *ids, size_t nids, model *m)
{
	memset(m, 0, sizeof *m);
	for (size_t i = 0; i < nids; i++) {
		brain_results *r = NULL;
		int rc = brain_get(b, ids[i], &r);
		if (rc == BRAIN_ENOTFOUND) {
			m->absent[m->nabsent++] = ids[i];
			continue;
		}
		assert_int_equal(rc, 0);
		item *it = &m->items[m->n++];
		it->id = ids[i];
		const char *t = brain_results_text(r, 0);
		it->has_text = t != NULL;
		if (t) {
			assert_true(strlen(t) < sizeof it->text);
			snprintf(it->text, sizeof it->text, "%s", t);
		}
		it->importance = brain_results_importance(r, 0);
		it->created = brain_results_created(r, 0);
		brain_results_free(r);
		assert_int_equal(brain_get_vector(b, ids[i], it->vec), 0);
	}
	for (size_t q = 0; q < NQUERIES; q++)
		assert_int_equal(brain_recall_ids(b, g_queries[q], TOPK, m->recall[q].ids,
		                                  m->recall[q].scores, &m->recall[q].found),
		                 0);
}

/* Ids that appeared after the model was taken did not exist then. */
static void complete_absent(model *m, const brain_id *ids, size_t nids)
{
	for (size_t i = 0; i < nids; i++) {
		bool known = false;
		for (size_t k = 0; k < m->n && !known; k++)
			known = m->items[k].id == ids[i];
		for (size_t k = 0; k < m->nabsent && !known; k++)
			known = m->absent[k] == ids[i];
		if (!known)
			m->absent[m->nabsent++] = ids[i];
	}
}

enum verdict {
	V_MATCH = 0,     /* every read succeeded and matched */
	V_LAZY = 1,      /* some reads failed with ECORRUPT, the others matched */
	V_MISMATCH = -1, /* a read succeeded with a wrong answer */
	V_ERROR = -2     /* a read failed with another error */
};

static const char *verdict_name(int v)
{
	switch (v) {
	case V_MATCH:
		return "match";
	case V_LAZY:
		return "lazily corrupt";
	case V_MISMATCH:
		return "WRONG ANSWER";
	default:
		return "UNEXPECTED ERROR";
	}
}

/* Compare everything the brain answers with the model. */
static int verify(brain_t *b, const model *m, char *why, size_t whysz)
{
	int v = V_MATCH;
#define MISMATCH(...)                                                                         \
	do {                                                                                  \
		snprintf(why, whysz, __VA_ARGS__);                                            \
		return V_MISMATCH;                                                            \
	} while (0)
#define READ_RC(rc, what)                                                                     \
	do {                                                                                  \
		if ((rc) == BRAIN_ECORRUPT) {                                                 \
			v = V_LAZY;                                                           \
		} else if ((rc) != 0) {                                                       \
			snprintf(why, whysz, "%s: %s (%s)", what, brain_error_name(rc),       \
			         brain_errmsg());                                             \
			return V_ERROR;                                                       \
		}                                                                             \
	} while (0)
	if (brain_count(b) != m->n)
		MISMATCH("count %llu, expected %zu", (unsigned long long)brain_count(b), m->n);
	for (size_t i = 0; i < m->n; i++) {
		const item *it = &m->items[i];
		brain_results *r = NULL;
		int rc = brain_get(b, it->id, &r);
		if (rc == BRAIN_ENOTFOUND)
			MISMATCH("memory %llu is missing", (unsigned long long)it->id);
		READ_RC(rc, "get");
		if (rc == 0) {
			const char *t = brain_results_text(r, 0);
			bool ok_text = it->has_text ? t && strcmp(t, it->text) == 0 : t == NULL;
			bool ok_imp = memcmp(&(float){brain_results_importance(r, 0)}, &it->importance,
			                     sizeof(float)) == 0;
			bool ok_created = brain_results_created(r, 0) == it->created;
			brain_results_free(r);
			if (!ok_text)
				MISMATCH("memory %llu: text \"%s\", expected \"%s\"",
				         (unsigned long long)it->id, t ? t : "(none)",
				         it->has_text ? it->text : "(none)");
			if (!ok_imp || !ok_created)
				MISMATCH("memory %llu: importance or creation time differ",
				         (unsigned long long)it->id);
		}
		float vec[DIMS];
		rc = brain_get_vector(b, it->id, vec);
		if (rc == BRAIN_ENOTFOUND)
			MISMATCH("vector of memory %llu is missing", (unsigned long long)it->id);
		READ_RC(rc, "get_vector");
		if (rc == 0 && memcmp(vec, it->vec, sizeof vec) != 0)
			MISMATCH("memory %llu: vector differs", (unsigned long long)it->id);
	}
	for (size_t i = 0; i < m->nabsent; i++) {
		brain_results *r = NULL;
		int rc = brain_get(b, m->absent[i], &r);
		brain_results_free(r);
		if (rc == 0)
			MISMATCH("memory %llu is there but should not be",
			         (unsigned long long)m->absent[i]);
		if (rc != BRAIN_ENOTFOUND)
			READ_RC(rc, "get of an absent id");
	}
	for (size_t q = 0; q < NQUERIES; q++) {
		brain_id ids[TOPK];
		float scores[TOPK];
		size_t found = 0;
		int rc = brain_recall_ids(b, g_queries[q], TOPK, ids, scores, &found);
		READ_RC(rc, "recall");
		if (rc)
			continue;
		if (found != m->recall[q].found ||
		    memcmp(ids, m->recall[q].ids, found * sizeof *ids) != 0 ||
		    memcmp(scores, m->recall[q].scores, found * sizeof *scores) != 0)
			MISMATCH("recall \"%s\": %zu results (first id %llu), expected %zu (first id "
			         "%llu), or scores differ",
			         g_queries[q], found, found ? (unsigned long long)ids[0] : 0ull,
			         m->recall[q].found,
			         m->recall[q].found ? (unsigned long long)m->recall[q].ids[0] : 0ull);
	}
	return v;
#undef MISMATCH
#undef READ_RC
}

/* ---- the base states ---------------------------------------------------- */

typedef struct file_image {
	char name[64];        /* e.g. "wal" */
	char path[80];        /* "b/wal" */
	unsigned char *data;
	size_t size;
	size_t used;          /* bytes before the zero tail (the wal reserves room) */
} file_image;

typedef struct base {
	const char *label;
	memfs *fs;
	file_image files[8];
	size_t nfiles;
	const model *final;   /* what it holds */
	char ckpt[64];        /* the current checkpoint (the manifest's) */
	size_t wal_header;    /* bytes of the log's header (its own field) */
	/* crashed state: the log's records, [start, end) each */
	size_t nrec;
	size_t rec_start[WAL_OPS + 1], rec_end[WAL_OPS + 1];
} base;

static memfs *g_work; /* the brain's own file system (closed state) */
static memfs *g_crash; /* the copy taken before close */
static model g_models[WAL_OPS + 1]; /* after 0..WAL_OPS logged changes */
static base g_closed, g_crashed;
/* The crashed state with the log cut after its last record and stamped
 * as made durable that far (as a log that reserved no more would be): the
 * reserved zeros after it change nothing about damage elsewhere, and each
 * replay reads and scans them, which would be most of the run time of the
 * checkpoint and manifest sweeps. */
static memfs *g_crash_trim;
static base g_crashed_trim;
static bool g_full;
static bool g_verbose; /* BRAINCORE_DAMAGE_VERBOSE=1: print every problem */
static unsigned char *g_fresh_manifest; /* the MANIFEST of the new brain */
static size_t g_fresh_manifest_size;

static void load_files(base *bs)
{
	char **names = NULL;
	size_t n = 0;
	assert_int_equal(memfs_list(bs->fs, DIR_NAME, &names, &n), 0);
	bs->nfiles = 0;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(names[i], "LOCK") == 0)
			continue;
		assert_true(bs->nfiles < sizeof bs->files / sizeof bs->files[0]);
		file_image *f = &bs->files[bs->nfiles++];
		snprintf(f->name, sizeof f->name, "%s", names[i]);
		snprintf(f->path, sizeof f->path, DIR_NAME "/%s", names[i]);
		assert_int_equal(memfs_read_file(bs->fs, f->path, &f->data, &f->size), 0);
		f->used = f->size;
		while (f->used > 0 && f->data[f->used - 1] == 0)
			f->used--;
	}
	memfs_free_list(names, n);
}

static file_image *find_file(base *bs, const char *prefix)
{
	for (size_t i = 0; i < bs->nfiles; i++)
		if (strncmp(bs->files[i].name, prefix, strlen(prefix)) == 0)
			return &bs->files[i];
	fail_msg("%s: no file %s*", bs->label, prefix);
	abort(); /* not reached: fail_msg leaves the test (the compiler cannot tell) */
}

/* The record boundaries of the crashed state's log. */
static void parse_wal(base *bs)
{
	file_image *w = find_file(bs, "wal");
	uint32_t hdr;
	assert_true(w->size >= 16);
	memcpy(&hdr, w->data + 12, sizeof hdr);
	assert_true(hdr >= 64 && hdr <= 4096);
	bs->wal_header = hdr;
	size_t off = hdr;
	bs->nrec = 0;
	while (off + 32 <= w->size) {
		uint32_t len;
		memcpy(&len, w->data + off + 4, sizeof len);
		if (len == 0)
			break;
		assert_true(bs->nrec < WAL_OPS + 1);
		bs->rec_start[bs->nrec] = off;
		bs->rec_end[bs->nrec] = off + len;
		bs->nrec++;
		off += len;
	}
}

/* Both end stamps of a version-2 log (after its 128-byte header) say it
 * was made durable up to `end`. */
static void restamp(unsigned char *wal, size_t size, uint64_t end)
{
	assert_true(size >= 256);
	uint64_t gen;
	memcpy(&gen, wal + 16, sizeof gen);
	for (uint64_t slot = 0; slot < 2; slot++) {
		unsigned char *s = wal + 128 + 64 * slot;
		uint64_t seq = 100 + slot;
		memset(s, 0, 64);
		memcpy(s, "BRWALEND", 8);
		memcpy(s + 8, &gen, 8);
		memcpy(s + 16, &seq, 8);
		memcpy(s + 24, &end, 8);
		uint32_t crc = brain__crc32c(0, s, 60);
		memcpy(s + 60, &crc, 4);
	}
}

static int setup(void **state)
{
	(void)state;
	const char *full = getenv("BRAINCORE_DAMAGE_FULL");
	g_full = full && *full && strcmp(full, "0") != 0;
	const char *verbose = getenv("BRAINCORE_DAMAGE_VERBOSE");
	g_verbose = verbose && *verbose && strcmp(verbose, "0") != 0;

	g_work = memfs_new();
	assert_non_null(g_work);
	brain_options o = options_on(g_work);
	brain_t *b = NULL;
	assert_int_equal(brain_open(DIR_NAME, &o, &b), 0);
	assert_int_equal(memfs_read_file(g_work, DIR_NAME "/MANIFEST", &g_fresh_manifest,
	                                 &g_fresh_manifest_size),
	                 0);

	brain_id ids[MAX_ITEMS];
	size_t nids = 0;
	for (size_t i = 0; i < N_BASE_TEXTS; i++) {
		brain_id id = 0;
		assert_int_equal(brain_remember_ex(b, g_texts[i], NULL, 0.1f + 0.07f * (float)i, &id),
		                 0);
		ids[nids++] = id;
	}
	for (uint64_t id = 1000; id < 1003; id++) {
		float v[DIMS];
		vector_for(id, v);
		assert_int_equal(brain_add(b, id, v), 0);
		ids[nids++] = id;
	}
	assert_int_equal(brain_forget(b, ids[4]), 0);
	assert_int_equal(brain_checkpoint(b), 0);

	/* four changes that live only in the log */
	brain_id t1 = 0, t2 = 0, t3 = 0;
	capture(b, ids, nids, &g_models[0]);
	assert_int_equal(brain_remember_ex(b, g_texts[12], NULL, 0.9f, &t1), 0);
	ids[nids++] = t1;
	capture(b, ids, nids, &g_models[1]);
	assert_int_equal(brain_remember_ex(b, g_texts[13], NULL, 0.3f, &t2), 0);
	ids[nids++] = t2;
	capture(b, ids, nids, &g_models[2]);
	assert_int_equal(brain_forget(b, 1001), 0);
	capture(b, ids, nids, &g_models[3]);
	assert_int_equal(brain_remember_ex(b, g_texts[14], NULL, 0.6f, &t3), 0);
	ids[nids++] = t3;
	capture(b, ids, nids, &g_models[4]);
	for (size_t k = 0; k <= WAL_OPS; k++)
		complete_absent(&g_models[k], ids, nids);

	/* the crash: what is on "disk" now, before close writes a checkpoint */
	g_crash = memfs_clone(g_work);
	assert_non_null(g_crash);
	assert_int_equal(memfs_crash(g_crash, MEMFS_CRASH_DROP, 1), 0);
	assert_int_equal(brain_close(b), 0);

	g_closed = (base){.label = "closed", .fs = g_work, .final = &g_models[WAL_OPS]};
	g_crashed = (base){.label = "crashed", .fs = g_crash, .final = &g_models[WAL_OPS]};
	load_files(&g_closed);
	load_files(&g_crashed);
	parse_wal(&g_crashed);
	parse_wal(&g_closed);
	base *bases[] = {&g_closed, &g_crashed};
	for (size_t i = 0; i < 2; i++) {
		const file_image *m = find_file(bases[i], "MANIFEST");
		uint64_t gen;
		assert_true(m->size >= 104);
		memcpy(&gen, m->data + 96, sizeof gen);
		snprintf(bases[i]->ckpt, sizeof bases[i]->ckpt, "ckpt-%016llx",
		         (unsigned long long)gen);
		find_file(bases[i], bases[i]->ckpt);
	}
	assert_int_equal(g_crashed.nrec, WAL_OPS);
	assert_int_equal(g_closed.nrec, 0);

	g_crash_trim = memfs_clone(g_crash);
	assert_non_null(g_crash_trim);
	const file_image *wal = find_file(&g_crashed, "wal");
	size_t trim = g_crashed.rec_end[WAL_OPS - 1];
	unsigned char *trimmed = malloc(trim);
	assert_non_null(trimmed);
	memcpy(trimmed, wal->data, trim);
	restamp(trimmed, trim, trim);
	assert_int_equal(memfs_write_file(g_crash_trim, wal->path, trimmed, trim), 0);
	free(trimmed);
	g_crashed_trim = g_crashed;
	g_crashed_trim.fs = g_crash_trim;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	base *bases[] = {&g_closed, &g_crashed};
	for (size_t i = 0; i < 2; i++)
		for (size_t k = 0; k < bases[i]->nfiles; k++)
			free(bases[i]->files[k].data);
	memfs_free(g_crash_trim);
	memfs_free(g_crash);
	memfs_free(g_work);
	free(g_fresh_manifest);
	return 0;
}

/* ---- one damaged copy --------------------------------------------------- */

typedef struct stats {
	long cases;
	long opened;        /* opened and read back whole */
	long lazy;          /* opened, some reads ECORRUPT */
	long failed;        /* open failed cleanly */
	long check_ok;      /* brain_check returned 0 */
	long check_failed_open_ok; /* check found damage that every read missed */
	long torn;          /* opened without the log's last changes */
	long lazy_healed;   /* lazily failing, then whole after close and reopen */
} stats;

static stats g_stats;

/* What a case allows. */
typedef struct expect {
	const model *m;    /* the model if it opens; NULL: it must not open */
	bool may_fail;     /* failing cleanly is fine too */
	int must_code;     /* nonzero: the open must fail with this code */
} expect;

typedef struct damage {
	const base *bs;
	const char *file;
	const char *what; /* "truncate", "flip", "remove" */
	size_t off;
	int bit;
} damage;

static bool clean_open_error(int rc)
{
	return rc == BRAIN_ECORRUPT || rc == BRAIN_EVERSION || rc == BRAIN_EMISMATCH ||
	       rc == BRAIN_ENOTFOUND;
}

static bool names_a_file(const char *msg)
{
	return strstr(msg, "MANIFEST") || strstr(msg, "wal") || strstr(msg, "ckpt-") ||
	       strstr(msg, "index-seg-");
}

/* Problems are collected, not fatal at once, so that one run shows every
 * kind: each kind is printed with its first example and counted, and the
 * sweep fails at its end. */
typedef struct problem {
	char kind[96];
	char first[2400];
	long count;
} problem;

static problem g_problems[64];
static size_t g_nproblems;
static long g_problem_total;

static void report_problem(const damage *d, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void report_problem(const damage *d, const char *kind, const char *fmt, ...)
{
	char detail[2048], full[2400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	snprintf(full, sizeof full, "%s state, %s: %s at offset %zu bit %d: %s", d->bs->label,
	         d->file, d->what, d->off, d->bit, detail);
	g_problem_total++;
	for (size_t i = 0; i < g_nproblems; i++) {
		if (strcmp(g_problems[i].kind, kind) == 0) {
			if (++g_problems[i].count <= 3 || g_verbose)
				print_error("PROBLEM [%s] %s\n", kind, full);
			return;
		}
	}
	if (g_nproblems < sizeof g_problems / sizeof g_problems[0]) {
		problem *p = &g_problems[g_nproblems++];
		snprintf(p->kind, sizeof p->kind, "%s", kind);
		snprintf(p->first, sizeof p->first, "%s", full);
		p->count = 1;
	}
	print_error("PROBLEM [%s] %s\n", kind, full);
}

#define PROBLEM(kind, ...)                                                                    \
	do {                                                                                  \
		report_problem(d, kind, __VA_ARGS__);                                         \
		goto out;                                                                     \
	} while (0)
/* a problem that does not stop judging the case */
#define NOTE(kind, ...) report_problem(d, kind, __VA_ARGS__)

/* Check and open `fs` (a damaged copy; consumed) and judge the outcome. */
static void judge(const damage *d, memfs *fs, const expect *e)
{
	g_stats.cases++;
	brain_options o = options_on(fs);
	brain_t *b = NULL;
	char why[512] = "", msg[512] = "", cmsg[512] = "";
	int v = V_MATCH;

	brain_check_report rep;
	brain_check_report_init(&rep, BRAIN_CHECK_REPORT_VERSION);
	int crc = brain_check(DIR_NAME, &o, &rep);
	snprintf(cmsg, sizeof cmsg, "%s", brain_errmsg());
	if (crc != 0 && !clean_open_error(crc))
		PROBLEM("check: unexpected code", "brain_check returned %s (%s)",
		        brain_error_name(crc), cmsg);
	if (crc == BRAIN_ECORRUPT && !names_a_file(cmsg))
		NOTE("check: ECORRUPT message names no file",
		        "brain_check: ECORRUPT message names no file: \"%s\"", cmsg);
	if (crc == 0)
		g_stats.check_ok++;

	int rc = brain_open(DIR_NAME, &o, &b);
	snprintf(msg, sizeof msg, "%s", brain_errmsg());
	if (rc != 0) {
		if (b) {
			b = NULL; /* do not touch it */
			PROBLEM("open: *out set on failure", "open failed but *out is not NULL");
		}
		if (!clean_open_error(rc))
			PROBLEM("open: unexpected code", "open returned %s (%s)", brain_error_name(rc),
			        msg);
		if (!msg[0])
			NOTE("open: empty message", "open returned %s with an empty message",
			     brain_error_name(rc));
		if (rc == BRAIN_ECORRUPT && !names_a_file(msg))
			NOTE("open: ECORRUPT message names no file",
			        "ECORRUPT message names no file: \"%s\"", msg);
		if (e->m && !e->may_fail)
			PROBLEM("open: failed but must open", "open failed with %s (%s); it must open",
			        brain_error_name(rc), msg);
		if (e->must_code && rc != e->must_code)
			PROBLEM("open: wrong code", "open failed with %s (%s), expected %s",
			        brain_error_name(rc), msg, brain_error_name(e->must_code));
		if (crc == 0)
			PROBLEM("check passed, open failed",
			        "brain_check said intact, open failed with %s (%s)",
			        brain_error_name(rc), msg);
		g_stats.failed++;
		goto out;
	}
	if (!e->m)
		PROBLEM(e->must_code ? "opened, must fail (damaged log record)" : "opened, must fail",
		        "opened, but it must fail (check: %s \"%s\")", brain_error_name(crc), cmsg);
	v = verify(b, e->m, why, sizeof why);
	if (v < 0) {
		/* which state did it open? (for the message) */
		int other = -1;
		char w2[512];
		for (int k = 0; k <= WAL_OPS && other < 0; k++)
			if (verify(b, &g_models[k], w2, sizeof w2) >= 0)
				other = k;
		PROBLEM(v == V_MISMATCH ? "WRONG ANSWER after open" : "unexpected read error",
		        "opened (check: %s \"%s\"): %s: %s (it holds the brain after %d logged "
		        "changes; -1: none of them)",
		        brain_error_name(crc), cmsg, verdict_name(v), why, other);
	}
	if (crc == 0 && v != V_MATCH)
		PROBLEM("check passed, a read failed", "brain_check said intact, but a read failed");
	if (crc == 0 && rep.memories != e->m->n)
		PROBLEM("check: wrong count", "brain_check reports %llu memories, expected %zu",
		        (unsigned long long)rep.memories, e->m->n);
	if (v == V_MATCH)
		g_stats.opened++;
	else
		g_stats.lazy++;
	if (v == V_MATCH && crc != 0)
		g_stats.check_failed_open_ok++;
	if (e->m != d->bs->final)
		g_stats.torn++;

	/* close (the crashed state writes a checkpoint now) and open again:
	 * the same answers, or still failing reads; never wrong ones. The
	 * default set does this for every lazily failing or torn case and
	 * every 4th other one. */
	if (!g_full && v == V_MATCH && e->m == d->bs->final && g_stats.opened % 4 != 0)
		goto out;
	int close_rc = brain_close(b);
	b = NULL;
	if (close_rc != 0 && !(v == V_LAZY && close_rc == BRAIN_ECORRUPT))
		PROBLEM("close failed", "close returned %s (%s)", brain_error_name(close_rc),
		        brain_errmsg());
	rc = brain_open(DIR_NAME, &o, &b);
	if (rc != 0) {
		snprintf(msg, sizeof msg, "%s", brain_errmsg());
		if (v == V_MATCH || !clean_open_error(rc))
			PROBLEM("reopen after close failed", "reopening after close failed with %s (%s)",
			        brain_error_name(rc), msg);
	} else {
		int v2 = verify(b, e->m, why, sizeof why);
		if (v2 < 0 || (v == V_MATCH && v2 != V_MATCH))
			PROBLEM(v2 == V_MISMATCH ? "WRONG ANSWER after close and reopen"
			                         : "after close and reopen: read failed",
			        "after close and reopen: %s: %s", verdict_name(v2), why);
		if (v == V_LAZY && v2 == V_MATCH)
			g_stats.lazy_healed++;
	}
out:
	if (b) {
		int rc2 = brain_close(b);
		(void)rc2;
	}
	memfs_free(fs);
}

#undef PROBLEM
#undef NOTE

/* Fail the current test if it found problems (each kind was printed). */
static void assert_no_problems(void)
{
	if (g_problem_total == 0)
		return;
	print_message("%ld problems of %zu kinds:\n", g_problem_total, g_nproblems);
	for (size_t i = 0; i < g_nproblems; i++)
		print_message("  [%s] x%ld, first: %s\n", g_problems[i].kind, g_problems[i].count,
		              g_problems[i].first);
	g_problem_total = 0;
	g_nproblems = 0;
	fail_msg("damage handled wrongly (see above)");
}

/* A copy of the base with `path` replaced by data[0..size). */
static memfs *copy_with(const base *bs, const char *path, const void *data, size_t size)
{
	memfs *fs = memfs_clone(bs->fs);
	assert_non_null(fs);
	assert_int_equal(memfs_write_file(fs, path, data, size), 0);
	return fs;
}

/* ---- what each kind of damage must do ------------------------------------ */

enum file_kind { F_MANIFEST, F_WAL, F_CKPT, F_OLD_CKPT, F_SEG };

static enum file_kind kind_of(const base *bs, const file_image *f)
{
	if (strcmp(f->name, "MANIFEST") == 0)
		return F_MANIFEST;
	if (strcmp(f->name, "wal") == 0)
		return F_WAL;
	if (strncmp(f->name, "index-seg-", 10) == 0)
		return F_SEG;
	assert_true(strncmp(f->name, "ckpt-", 5) == 0);
	/* another checkpoint is a leftover whose removal was not yet durable */
	return strcmp(f->name, bs->ckpt) == 0 ? F_CKPT : F_OLD_CKPT;
}

static expect expect_truncated(const base *bs, const file_image *f, size_t size)
{
	expect e = {NULL, false, 0};
	if (kind_of(bs, f) == F_OLD_CKPT)
		e.m = bs->final; /* not read at all */
	/* a log cut short: it had been made durable to its whole size */
	if (kind_of(bs, f) == F_WAL && size < f->size)
		e.must_code = BRAIN_ECORRUPT;
	/* an index segment is checked whole when it is opened */
	if (kind_of(bs, f) == F_SEG && size < f->size)
		e.must_code = BRAIN_ECORRUPT;
	return e;
}

/* An index segment (index/flat_files.c): its head and table, then, from
 * data_offset, chunks of `pitch` bytes of which chunk_bytes are used. */
static bool seg_byte_used(const file_image *f, size_t off)
{
	uint64_t nchunks, chunk_bytes, pitch, data_offset;
	memcpy(&chunk_bytes, f->data + 24, 8);
	memcpy(&pitch, f->data + 32, 8);
	memcpy(&nchunks, f->data + 40, 8);
	memcpy(&data_offset, f->data + 48, 8);
	if (off < 64 + nchunks * 16)
		return true;
	if (off < data_offset)
		return false;
	return (off - data_offset) % pitch < chunk_bytes;
}

static expect expect_flipped(const base *bs, const file_image *f, size_t off)
{
	expect e = {NULL, false, 0};
	switch (kind_of(bs, f)) {
	case F_MANIFEST:
		break; /* every byte is under its checksum */
	case F_OLD_CKPT:
		e.m = bs->final; /* not read at all */
		break;
	case F_WAL:
		if (off < 128)
			break; /* header */
		if (off < bs->wal_header) {
			e.m = bs->final; /* one end stamp: the other one counts */
			break;
		}
		for (size_t k = 0; k < bs->nrec; k++) {
			if (off >= bs->rec_start[k] && off < bs->rec_end[k]) {
				if (k + 1 < bs->nrec) {
					/* the next record proves this one was durable */
					e.must_code = BRAIN_ECORRUPT;
				} else {
					/* the last record: a torn tail */
					e.m = &g_models[k];
				}
				return e;
			}
		}
		e.m = bs->final; /* garbage in the reserved space after the records */
		break;
	case F_CKPT:
		/* padding is not under a checksum; bodies are verified lazily */
		e.m = bs->final;
		e.may_fail = true;
		break;
	case F_SEG:
		/* the head, its table and every chunk are checked on open; the
		 * padding after them is never read */
		if (seg_byte_used(f, off))
			e.must_code = BRAIN_ECORRUPT;
		else
			e.m = bs->final;
		break;
	}
	return e;
}


static void truncate_at(const base *bs, const file_image *f, size_t size)
{
	damage d = {bs, f->name, "truncate", size, -1};
	expect e = expect_truncated(bs, f, size);
	judge(&d, copy_with(bs, f->path, f->data, size), &e);
}

static void flip_bit(const base *bs, const file_image *f, size_t off, int bit)
{
	damage d = {bs, f->name, "flip", off, bit};
	expect e = expect_flipped(bs, f, off);
	f->data[off] ^= (unsigned char)(1u << bit);
	memfs *fs = copy_with(bs, f->path, f->data, f->size);
	f->data[off] ^= (unsigned char)(1u << bit);
	judge(&d, fs, &e);
}

static void flip_range(const base *bs, const file_image *f, size_t from, size_t to)
{
	if (to > f->size)
		to = f->size;
	for (size_t off = from; off < to; off++)
		for (int bit = 0; bit < 8; bit++)
			flip_bit(bs, f, off, bit);
}

static void flip_random(const base *bs, const file_image *f, size_t from, size_t to,
                        size_t n, uint64_t seed)
{
	if (to > f->size)
		to = f->size;
	if (to <= from)
		return;
	test_rng rng = {seed};
	for (size_t i = 0; i < n; i++) {
		uint64_t r = test_rng_next(&rng);
		flip_bit(bs, f, from + (size_t)(r % (to - from)), (int)((r >> 40) & 7));
	}
}

static void print_stats(const char *what, const stats *before, double seconds)
{
	print_message("%-22s %6ld cases: %5ld opened whole (%ld without the log's last "
	              "changes), %ld opened with lazily failing reads, %5ld failed cleanly; "
	              "brain_check passed %ld; %.2f s\n",
	              what, g_stats.cases - before->cases, g_stats.opened - before->opened,
	              g_stats.torn - before->torn, g_stats.lazy - before->lazy,
	              g_stats.failed - before->failed, g_stats.check_ok - before->check_ok,
	              seconds);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the file sweeps ---------------------------------------------------- */

static void sweep_manifest(base *bs)
{
	file_image *f = find_file(bs, "MANIFEST");
	for (size_t t = 0; t < f->size; t++)
		truncate_at(bs, f, t);
	flip_range(bs, f, 0, f->size);
}

static void sweep_wal(base *bs)
{
	file_image *f = find_file(bs, "wal");
	/* every cut inside the header and the records; then samples of the
	 * reserved zeros after them (a cut there loses no record, but the log
	 * is shorter than it was made durable: damage all the same) */
	size_t written = bs->nrec ? bs->rec_end[bs->nrec - 1] : f->used;
	size_t hdr = bs->wal_header;
	if (written < hdr)
		written = hdr;
	for (size_t t = 0; t < f->size && t <= written + 8; t++) {
		bool take = g_full || t <= hdr + 8 || t % 13 == 0 || t + 8 >= written;
		for (size_t k = 0; k < bs->nrec && !take; k++)
			take = t == bs->rec_start[k] || t == bs->rec_start[k] + 1 ||
			       t + 1 == bs->rec_end[k] || t == bs->rec_end[k];
		if (take)
			truncate_at(bs, f, t);
	}
	for (size_t t = written + 4096; t < f->size; t += 65536 + 8)
		truncate_at(bs, f, t);
	/* the header, every bit */
	flip_range(bs, f, 0, hdr);
	if (g_full) {
		flip_range(bs, f, hdr, written + 64);
	} else {
		/* every bit of the first and last record's header, of the
		 * checksum and length of the others, samples of the payloads */
		for (size_t k = 0; k < bs->nrec; k++)
			flip_range(bs, f, bs->rec_start[k],
			           bs->rec_start[k] + (k == 0 || k + 1 == bs->nrec ? 32 : 8));
		flip_random(bs, f, hdr, written, 120, 0xda3a9e01u + bs->nrec);
	}
	flip_random(bs, f, 0, f->size, g_full ? 400 : 40, 0xda3a9e02u + bs->nrec);
}

typedef struct section_info {
	uint32_t kind;
	uint64_t offset, length, crc_offset;
} section_info;

/* The section table of an image, through its trailer. */
static size_t sections_of(const file_image *f, section_info *out, size_t max,
                          uint64_t *footer_offset)
{
	uint64_t foff;
	memcpy(&foff, f->data + f->size - 64 + 8, sizeof foff);
	*footer_offset = foff;
	uint32_t n;
	memcpy(&n, f->data + foff, sizeof n);
	assert_true(n <= max);
	for (uint32_t i = 0; i < n; i++) {
		const unsigned char *e = f->data + foff + 8 + (size_t)i * 32;
		memcpy(&out[i].kind, e, 4);
		memcpy(&out[i].offset, e + 8, 8);
		memcpy(&out[i].length, e + 16, 8);
		memcpy(&out[i].crc_offset, e + 24, 8);
	}
	return n;
}

static void sweep_ckpt(base *bs)
{
	/* leftovers of earlier checkpoints: damage there must not matter */
	for (size_t i = 0; i < bs->nfiles; i++) {
		file_image *old = &bs->files[i];
		if (strncmp(old->name, "ckpt-", 5) != 0 || strcmp(old->name, bs->ckpt) == 0)
			continue;
		truncate_at(bs, old, 0);
		truncate_at(bs, old, old->size / 2);
		truncate_at(bs, old, old->size - 1);
		flip_range(bs, old, 0, 16);
		flip_random(bs, old, 0, old->size, 32, 0x01du);
	}
	file_image *f = find_file(bs, bs->ckpt);
	/* every cut in the first and last stretch, every 61st (full) or 509th
	 * (default) elsewhere */
	size_t edge = g_full ? 8192 : 256;
	size_t stride = g_full ? 61 : 509;
	for (size_t t = 0; t < f->size; t++)
		if (t < edge || t + edge >= f->size || t % stride == 0)
			truncate_at(bs, f, t);
	/* header and trailer, footer and the checksum arrays before it */
	/* the header: every bit of the first 256 bytes (136 used, the rest
	 * of its page is padding no checksum covers: such a brain opens and
	 * each case costs a checkpoint in the crashed state, so there the
	 * default samples the padding) */
	if (g_full || bs->nrec == 0) {
		flip_range(bs, f, 0, 256);
	} else {
		flip_range(bs, f, 0, 144);
		flip_random(bs, f, 144, 4096, 64, 0x4eadu);
	}
	size_t tail = g_full ? 8192 : 64 + 264;
	flip_range(bs, f, f->size > tail ? f->size - tail : 0, f->size);
	/* each section: its first bytes, samples of its body, its checksums.
	 * Sections verified on open fail the same way whichever bit is hit;
	 * the index is parsed before its checksums are checked (lazily), so
	 * its header gets every bit. */
	section_info s[32];
	uint64_t foot = 0;
	size_t ns = sections_of(f, s, 32, &foot);
	for (size_t i = 0; i < ns; i++) {
		size_t start = (size_t)s[i].offset;
		flip_range(bs, f, start, start + (g_full ? 256 : s[i].kind == 6 ? 64 : 8));
		flip_random(bs, f, start, start + (size_t)s[i].length, g_full ? 64 : 16,
		            0x5ec7u + i);
		size_t nblocks = (size_t)((s[i].length + 65535) / 65536);
		flip_range(bs, f, (size_t)s[i].crc_offset, (size_t)s[i].crc_offset + 4 * nblocks);
	}
	flip_random(bs, f, 0, f->size, 400, 0xc4c4u + f->size);
	if (g_full)
		flip_range(bs, f, 0, 8192);
}

/* What zeroing [from, to) of a file must do (a lost or zero-filled
 * sector). */
static expect expect_zeroed(const base *bs, const file_image *f, size_t from, size_t to)
{
	expect e = {NULL, false, 0};
	switch (kind_of(bs, f)) {
	case F_MANIFEST:
		break;
	case F_OLD_CKPT:
		e.m = bs->final;
		break;
	case F_CKPT:
		e.m = bs->final;
		e.may_fail = true;
		break;
	case F_SEG:
		e.m = bs->final;
		e.may_fail = true;
		break;
	case F_WAL:
		if (from < bs->wal_header)
			break;
		for (size_t k = 0; k < bs->nrec; k++) {
			if (bs->rec_start[k] < to && bs->rec_end[k] > from) {
				/* the first record hit: a whole one after it proves it
				 * durable, or it is the torn tail */
				if (bs->rec_start[bs->nrec - 1] >= to && k + 1 < bs->nrec)
					e.must_code = BRAIN_ECORRUPT;
				else
					e.m = &g_models[k];
				return e;
			}
		}
		e.m = bs->final;
		break;
	}
	return e;
}

/* Every index segment: every cut near its ends and samples between, every
 * bit of its head and table, samples of its chunks and padding, and its
 * removal. */
static void sweep_index(base *bs)
{
	size_t nseg = 0;
	for (size_t i = 0; i < bs->nfiles; i++) {
		file_image *f = &bs->files[i];
		if (kind_of(bs, f) != F_SEG)
			continue;
		nseg++;
		size_t edge = g_full ? 4096 : 72;
		for (size_t t = 0; t < f->size; t++)
			if (t < edge || t + edge >= f->size || t % (g_full ? 61 : 4093) == 0)
				truncate_at(bs, f, t);
		uint64_t nchunks;
		memcpy(&nchunks, f->data + 40, 8);
		flip_range(bs, f, 0, 64 + (size_t)nchunks * 16);
		flip_random(bs, f, 0, f->size, g_full ? 400 : 60, 0x5e9u + f->size);
		memfs *fs = memfs_clone(bs->fs);
		assert_non_null(fs);
		const brain_io *io = memfs_io(fs);
		assert_int_equal(io->unlink(io->payload, f->path), 0);
		damage d = {bs, f->name, "remove", 0, -1};
		expect e = {NULL, false, BRAIN_ECORRUPT};
		judge(&d, fs, &e);
	}
	assert_true(nseg > 0); /* the brain keeps its index in files */
}

/* Every 512-byte sector that holds something, zeroed. */
static void sweep_zero(base *bs)
{
	static const unsigned char zeros[512];
	const char *names[] = {"MANIFEST", "wal", bs->ckpt};
	for (size_t i = 0; i < 3; i++) {
		file_image *f = find_file(bs, names[i]);
		for (size_t a = 0; a < f->size; a += 512) {
			size_t n = f->size - a < 512 ? f->size - a : 512;
			if (memcmp(f->data + a, zeros, n) == 0)
				continue;
			unsigned char *save = malloc(n);
			assert_non_null(save);
			memcpy(save, f->data + a, n);
			memset(f->data + a, 0, n);
			memfs *fs = copy_with(bs, f->path, f->data, f->size);
			memcpy(f->data + a, save, n);
			free(save);
			damage d = {bs, f->name, "zero sector", a, -1};
			expect e = expect_zeroed(bs, f, a, a + n);
			judge(&d, fs, &e);
		}
	}
}

/* Files of the other state, or of the new brain, in place of this one's:
 * a mixed-up directory must fail or hold the same memories (both states
 * hold the same), never an older state. */
static void sweep_swap(base *bs)
{
	base *other = bs == &g_closed ? &g_crashed : &g_closed;
	const char *names[] = {"MANIFEST", "wal"};
	for (size_t i = 0; i < 2; i++) {
		const file_image *mine = find_file(bs, names[i]);
		const file_image *theirs = find_file(other, names[i]);
		damage d = {bs, mine->name, "other state's file", 0, -1};
		expect e = {bs->final, true, 0};
		judge(&d, copy_with(bs, mine->path, theirs->data, theirs->size), &e);
	}
	/* the other state's checkpoint under this one's name */
	const file_image *mine = find_file(bs, bs->ckpt);
	const file_image *theirs = find_file(other, other->ckpt);
	damage d = {bs, mine->name, "other state's checkpoint", 0, -1};
	expect e = {NULL, false, 0};
	judge(&d, copy_with(bs, mine->path, theirs->data, theirs->size), &e);
	/* the manifest rolled back to the new brain's: its image is gone (or,
	 * in the crashed state, still there but older than the log) */
	d = (damage){bs, "MANIFEST", "rolled back to the first", 0, -1};
	e = (expect){NULL, false, 0};
	judge(&d, copy_with(bs, DIR_NAME "/MANIFEST", g_fresh_manifest, g_fresh_manifest_size),
	      &e);
}

static void sweep_remove(base *bs)
{
	const char *names[] = {"MANIFEST", "wal", "ckpt-", "LOCK"};
	for (size_t i = 0; i < 4; i++) {
		char path[80];
		if (strcmp(names[i], "LOCK") == 0)
			snprintf(path, sizeof path, DIR_NAME "/LOCK");
		else
			snprintf(path, sizeof path, "%s",
			         find_file(bs, strcmp(names[i], "ckpt-") == 0 ? bs->ckpt : names[i])->path);
		memfs *fs = memfs_clone(bs->fs);
		assert_non_null(fs);
		const brain_io *io = memfs_io(fs);
		assert_int_equal(io->unlink(io->payload, path), 0);
		damage d = {bs, path, "remove", 0, -1};
		expect e = {NULL, false, 0};
		if (strcmp(names[i], "LOCK") == 0)
			e.m = bs->final;
		judge(&d, fs, &e);
	}
}

/* ---- tests --------------------------------------------------------------- */

static void run_sweep(base *bs, const char *file, void (*fn)(base *))
{
	stats before = g_stats;
	double t0 = now_s();
	fn(bs);
	char what[64];
	snprintf(what, sizeof what, "%s %s:", bs->label, file);
	print_stats(what, &before, now_s() - t0);
}

/* The undamaged copies open with exactly what was written. */
static void test_damage__intact(void **state)
{
	(void)state;
	base *bases[] = {&g_closed, &g_crashed};
	for (size_t i = 0; i < 2; i++) {
		damage d = {bases[i], "(none)", "intact", 0, -1};
		expect e = {bases[i]->final, false, 0};
		memfs *fs = memfs_clone(bases[i]->fs);
		assert_non_null(fs);
		stats before = g_stats;
		judge(&d, fs, &e);
		assert_int_equal(g_stats.opened - before.opened, 1);
		assert_int_equal(g_stats.check_ok - before.check_ok, 1);
	}
	print_message("closed: %zu files, ckpt %zu bytes; crashed: %zu log records, log %zu "
	              "bytes written (%zu with reserved space), ckpt %zu bytes\n",
	              g_closed.nfiles, find_file(&g_closed, g_closed.ckpt)->size, g_crashed.nrec,
	              g_crashed.rec_end[g_crashed.nrec - 1], find_file(&g_crashed, "wal")->size,
	              find_file(&g_crashed, g_crashed.ckpt)->size);
	base *bs[] = {&g_closed, &g_crashed};
	for (size_t i = 0; i < 2; i++) {
		for (size_t k = 0; k < bs[i]->nfiles; k++)
			print_message("  %s: %s %zu bytes\n", bs[i]->label, bs[i]->files[k].name,
			              bs[i]->files[k].size);
		section_info s[32];
		uint64_t foot = 0;
		size_t ns = sections_of(find_file(bs[i], bs[i]->ckpt), s, 32, &foot);
		for (size_t k = 0; k < ns; k++)
			print_message("  %s: section %u at %llu, %llu bytes\n", bs[i]->label,
			              s[k].kind, (unsigned long long)s[k].offset,
			              (unsigned long long)s[k].length);
	}
}

static void test_damage__closed_manifest(void **state)
{
	(void)state;
	run_sweep(&g_closed, "MANIFEST", sweep_manifest);
	assert_no_problems();
}

static void test_damage__closed_wal(void **state)
{
	(void)state;
	run_sweep(&g_closed, "wal", sweep_wal);
	assert_no_problems();
}

static void test_damage__closed_ckpt(void **state)
{
	(void)state;
	run_sweep(&g_closed, "ckpt", sweep_ckpt);
	assert_no_problems();
}

static void test_damage__crashed_manifest(void **state)
{
	(void)state;
	run_sweep(&g_crashed_trim, "MANIFEST", sweep_manifest);
	assert_no_problems();
}

static void test_damage__crashed_wal(void **state)
{
	(void)state;
	run_sweep(&g_crashed, "wal", sweep_wal);
	assert_no_problems();
}

static void test_damage__crashed_ckpt(void **state)
{
	(void)state;
	run_sweep(&g_crashed_trim, "ckpt", sweep_ckpt);
	assert_no_problems();
}

static void test_damage__index_segments(void **state)
{
	(void)state;
	run_sweep(&g_closed, "index", sweep_index);
	run_sweep(&g_crashed_trim, "index", sweep_index);
	assert_no_problems();
}

static void test_damage__zeroed_sectors(void **state)
{
	(void)state;
	run_sweep(&g_closed, "zeroed", sweep_zero);
	run_sweep(&g_crashed, "zeroed", sweep_zero);
	assert_no_problems();
}

static void test_damage__mixed_up_files(void **state)
{
	(void)state;
	run_sweep(&g_closed, "mixed up", sweep_swap);
	run_sweep(&g_crashed, "mixed up", sweep_swap);
	assert_no_problems();
}

static void test_damage__removed_files(void **state)
{
	(void)state;
	run_sweep(&g_closed, "removed", sweep_remove);
	run_sweep(&g_crashed, "removed", sweep_remove);
	assert_no_problems();
}

static void test_damage__summary(void **state)
{
	(void)state;
	print_message("damage total: %ld cases, %ld opened whole (%ld as a torn log), %ld "
	              "opened with lazily failing reads, %ld failed cleanly; brain_check "
	              "passed %ld, found damage that every read missed %ld; lazily failing reads "
	              "whole after close and reopen %ld (%s set)\n",
	              g_stats.cases, g_stats.opened, g_stats.torn, g_stats.lazy, g_stats.failed,
	              g_stats.check_ok, g_stats.check_failed_open_ok, g_stats.lazy_healed,
	              g_full ? "full" : "default");
}

/* ---- seeds for tests/fuzz/fuzz_open.c ------------------------------------ */

/* One fuzz input: u32 length + MANIFEST, u32 length + ckpt, then the wal
 * up to its last written byte. */
static void write_seed(memfs *fs, const char *dir, const char *out_path)
{
	char path[128];
	char **names = NULL;
	size_t n = 0;
	assert_int_equal(memfs_list(fs, dir, &names, &n), 0);
	unsigned char *man = NULL, *ckpt = NULL, *wal = NULL, *seg = NULL;
	size_t man_n = 0, ckpt_n = 0, wal_n = 0, seg_n = 0;
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		if (strcmp(names[i], "MANIFEST") == 0)
			assert_int_equal(memfs_read_file(fs, path, &man, &man_n), 0);
		else if (strcmp(names[i], "wal") == 0)
			assert_int_equal(memfs_read_file(fs, path, &wal, &wal_n), 0);
		else if (strncmp(names[i], "ckpt-", 5) == 0)
			assert_int_equal(memfs_read_file(fs, path, &ckpt, &ckpt_n), 0);
		else if (strncmp(names[i], "index-seg-", 10) == 0) {
			assert_null(seg); /* one: the seeds' indexes fit one chunk */
			assert_int_equal(memfs_read_file(fs, path, &seg, &seg_n), 0);
		}
	}
	memfs_free_list(names, n);
	assert_non_null(man);
	assert_non_null(ckpt);
	assert_non_null(wal);
	while (wal_n > 64 && wal[wal_n - 1] == 0)
		wal_n--;
	FILE *out = fopen(out_path, "wb");
	assert_non_null(out);
	uint32_t len = (uint32_t)man_n;
	assert_int_equal(fwrite(&len, 4, 1, out), 1);
	assert_int_equal(fwrite(man, 1, man_n, out), man_n);
	len = (uint32_t)ckpt_n;
	assert_int_equal(fwrite(&len, 4, 1, out), 1);
	assert_int_equal(fwrite(ckpt, 1, ckpt_n, out), ckpt_n);
	len = (uint32_t)wal_n;
	assert_int_equal(fwrite(&len, 4, 1, out), 1);
	assert_int_equal(fwrite(wal, 1, wal_n, out), wal_n);
	if (seg_n)
		assert_int_equal(fwrite(seg, 1, seg_n, out), seg_n);
	assert_int_equal(fclose(out), 0);
	free(man);
	free(ckpt);
	free(wal);
	free(seg);
}

static void test_damage__fuzz_seeds(void **state)
{
	(void)state;
	const char *dir = getenv("BRAINCORE_FUZZ_SEEDS");
	if (!dir || !*dir) {
		skip();
		return;
	}
	/* 4-d brains of at most 64 memories (the index's chunks are sized
	 * by that), so that the images stay small */
	static const struct {
		int metric, embedder;
		bool checkpoint, batch, crashed;
	} kinds[] = {
		/* the new brain's empty image and every change in the log */
		{BRAIN_METRIC_COSINE, BRAIN_EMBEDDER_BUILTIN, false, false, true},
		/* an image with memories and a log after it */
		{BRAIN_METRIC_COSINE, BRAIN_EMBEDDER_BUILTIN, true, false, true},
		{BRAIN_METRIC_L2, BRAIN_EMBEDDER_NONE, true, true, true},
		/* closed: the image holds everything, the log is empty */
		{BRAIN_METRIC_IP, BRAIN_EMBEDDER_NONE, true, true, false},
	};
	for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
		memfs *fs = memfs_new();
		assert_non_null(fs);
		brain_options o = options_on(fs);
		o.dimensions = 4;
		o.max_memories = 64;
		o.metric = kinds[k].metric;
		o.embedder = kinds[k].embedder;
		brain_t *b = NULL;
		assert_int_equal(brain_open(DIR_NAME, &o, &b), 0);
		float v[4] = {1.0f, -2.0f, 0.5f, 3.0f};
		for (size_t i = 0; i < 5; i++) {
			v[i % 4] += 1.0f;
			if (kinds[k].embedder == BRAIN_EMBEDDER_BUILTIN)
				assert_int_equal(brain_remember(b, g_texts[i], 0.5f), 0);
			else
				assert_int_equal(brain_remember_ex(b, g_texts[i], v, 0.5f, NULL), 0);
		}
		assert_int_equal(brain_add(b, 77, v), 0);
		if (kinds[k].checkpoint)
			assert_int_equal(brain_checkpoint(b), 0);
		/* after the checkpoint: in the log */
		assert_int_equal(brain_forget(b, 2), 0);
		if (kinds[k].batch) {
			uint64_t ids[2] = {500, 501};
			float rows[8] = {1, 2, 3, 4, -1, 0.5f, 2, 1};
			assert_int_equal(brain_add_batch(b, ids, rows, 2), 0);
		}
		v[0] = -4.0f;
		if (kinds[k].embedder == BRAIN_EMBEDDER_BUILTIN)
			assert_int_equal(brain_remember(b, g_texts[12], 0.25f), 0);
		else
			assert_int_equal(brain_remember_ex(b, g_texts[12], v, 0.25f, NULL), 0);
		assert_int_equal(brain_forget(b, 77), 0);
		memfs *snap = kinds[k].crashed ? memfs_clone(fs) : NULL;
		char path[4096];
		if (!kinds[k].crashed) {
			/* a backup: the index whole in the image, no segment */
			assert_int_equal(brain_backup(b, "backup"), 0);
			snprintf(path, sizeof path, "%s/seed-%zu-backup", dir, k);
			write_seed(fs, "backup", path);
		}
		assert_int_equal(brain_close(b), 0);
		snprintf(path, sizeof path, "%s/seed-%zu", dir, k);
		write_seed(snap ? snap : fs, DIR_NAME, path);
		memfs_free(snap);
		memfs_free(fs);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_damage__intact),
		cmocka_unit_test(test_damage__closed_manifest),
		cmocka_unit_test(test_damage__closed_wal),
		cmocka_unit_test(test_damage__closed_ckpt),
		cmocka_unit_test(test_damage__crashed_manifest),
		cmocka_unit_test(test_damage__crashed_wal),
		cmocka_unit_test(test_damage__crashed_ckpt),
		cmocka_unit_test(test_damage__index_segments),
		cmocka_unit_test(test_damage__zeroed_sectors),
		cmocka_unit_test(test_damage__mixed_up_files),
		cmocka_unit_test(test_damage__removed_files),
		cmocka_unit_test(test_damage__summary),
		cmocka_unit_test(test_damage__fuzz_seeds),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
