/*
 * tests/test_lift.c - the semantic lift of the built-in embedder: its word
 * table's loader (organs/cortex/lift.c) on the real table and on damaged
 * copies of it, where the table is found, and the embedder with and
 * without it (docs/embedder.md).
 *
 * The table is the source tree's data/words.bin (BRAIN_WORDS_FILE); the
 * tests set BRAINCORE_WORDS themselves.
 */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine/handle.h"
#include "organs/cortex/lift.h"
#include "organs/pancreas.h"
#include "test_util.h"

/* The layout's constants (tools/build_words.py). */
#define HASH_SEED 0x776F7264735F7631ull
#define HEADER 128u

static unsigned char *g_table;
static size_t g_len;

static int setup(void **state)
{
	(void)state;
	FILE *f = fopen(BRAIN_WORDS_FILE, "rb");
	if (!f) {
		fprintf(stderr, "test_lift: cannot read %s\n", BRAIN_WORDS_FILE);
		return -1;
	}
	fseek(f, 0, SEEK_END);
	g_len = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	g_table = malloc(g_len);
	size_t got = fread(g_table, 1, g_len, f);
	fclose(f);
	return got == g_len ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(g_table);
	return 0;
}

static uint32_t get32(const unsigned char *p, size_t off)
{
	uint32_t v;
	memcpy(&v, p + off, sizeof v);
	return v;
}

static uint64_t get64(const unsigned char *p, size_t off)
{
	uint64_t v;
	memcpy(&v, p + off, sizeof v);
	return v;
}

static void put32(unsigned char *p, size_t off, uint32_t v)
{
	memcpy(p + off, &v, sizeof v);
}

static void put64(unsigned char *p, size_t off, uint64_t v)
{
	memcpy(p + off, &v, sizeof v);
}

/* The content hash written again after a change, so that the checks
 * behind it see the change. */
static void reseal(unsigned char *p, size_t len)
{
	put64(p, 16, brain__hash64(p + 24, len - 24, HASH_SEED));
}

static unsigned char *copy(void)
{
	unsigned char *p = malloc(g_len);
	memcpy(p, g_table, g_len);
	return p;
}

/* Parsing p[0..len) fails with BRAIN_ECORRUPT and a message holding `want`. */
static void expect_corrupt(const unsigned char *p, size_t len, const char *want)
{
	brain_lift *l = NULL;
	int rc = brain__lift_parse(p, len, "t", &l);
	if (rc != BRAIN_ECORRUPT || (want && !strstr(brain_errmsg(), want)))
		fail_msg("parse of %zu bytes: %d (%s), expected ECORRUPT with \"%s\"", len, rc,
		         brain_errmsg(), want ? want : "");
	assert_null(l);
	assert_non_null(strstr(brain_errmsg(), "words table t: "));
}

/* ---- the table and its loader -------------------------------------------- */

static void test_lift__table_loads(void **state)
{
	(void)state;
	brain_lift *l = NULL;
	assert_int_equal(brain__lift_parse(g_table, g_len, "t", &l), 0);
	assert_int_equal(brain__lift_dims(l), 100);
	assert_int_equal(brain__lift_count(l), 50000);
	assert_true(brain__lift_id(l) == get64(g_table, 16));
	assert_string_equal(brain__lift_name(l), "t");
	/* most frequent first, normalised as the Pancreas does */
	size_t len;
	const char *w = brain__lift_word(l, 0, &len);
	assert_true(len == 3 && memcmp(w, "the", 3) == 0);
	assert_int_equal(brain__lift_find(l, "the", 3), 0);
	assert_true(brain__lift_find(l, "dentist", 7) > 0);
	assert_true(brain__lift_find(l, "cafe", 4) > 0);
	assert_int_equal(brain__lift_find(l, "Dentist", 7), -1); /* keys are folded */
	assert_int_equal(brain__lift_find(l, "qqzzxq", 6), -1);
	assert_int_equal(brain__lift_find(l, "", 0), -1);
	/* a vector: 100 finite numbers, not all zero */
	float v[100] = {0};
	brain__lift_add(l, (uint32_t)brain__lift_find(l, "dentist", 7), 1.0f, v);
	double norm = 0;
	for (int d = 0; d < 100; d++) {
		assert_true(isfinite(v[d]));
		norm += (double)v[d] * v[d];
	}
	assert_true(norm > 0);
	brain__lift_release(l);
}

/* Every word of the table is one word of the Pancreas and its own key:
 * tools/build_words.py normalised it as organs/pancreas.c does. */
static void test_lift__words_are_pancreas_keys(void **state)
{
	(void)state;
	brain_lift *l = NULL;
	assert_int_equal(brain__lift_parse(g_table, g_len, "t", &l), 0);
	brain_analysis a;
	brain__analysis_init(&a);
	for (uint32_t i = 0; i < brain__lift_count(l); i++) {
		size_t len;
		const char *w = brain__lift_word(l, i, &len);
		assert_int_equal(brain__analyze(w, len, 0, 0, &a), 0);
		if (a.nwords != 1 || a.words[0].len != len || memcmp(a.text, w, len) != 0)
			fail_msg("table word %u \"%.*s\" is \"%s\" (%zu words) to the Pancreas", i,
			         (int)len, w, a.text, a.nwords);
	}
	brain__analysis_free(&a);
	brain__lift_release(l);
}

static void test_lift__truncated(void **state)
{
	(void)state;
	/* every length of the header, then samples through the sections */
	for (size_t n = 0; n <= HEADER + 8; n++)
		expect_corrupt(g_table, n, NULL);
	test_rng rng = {7};
	for (int i = 0; i < 64; i++) {
		size_t n = HEADER + (size_t)(test_rng_next(&rng) % (g_len - HEADER));
		expect_corrupt(g_table, n, "truncated");
	}
	expect_corrupt(g_table, g_len - 1, "truncated");
	/* a longer file is not the one written either */
	unsigned char *p = malloc(g_len + 64);
	memcpy(p, g_table, g_len);
	memset(p + g_len, 0, 64);
	expect_corrupt(p, g_len + 64, "longer than written");
	free(p);
}

static void test_lift__header_fields(void **state)
{
	(void)state;
	unsigned char *p = copy();
	p[0] = 'X';
	expect_corrupt(p, g_len, "not a word table");
	free(p);

	p = copy();
	put32(p, 8, 2);
	expect_corrupt(p, g_len, "format version 2");
	free(p);

	p = copy();
	put32(p, 12, 0x04030201u);
	expect_corrupt(p, g_len, "byte order");
	free(p);

	static const struct {
		size_t off;
		uint32_t value;
		const char *want;
	} bad32[] = {
		{32, 64, "header size"},
		{36, 0, "dimensions"},
		{36, 5000, "dimensions"},
		{40, 0, "words"},
		{44, 3, "hash buckets"},          /* not a power of two */
		{44, 32768, "hash buckets"},      /* fewer than the words */
	};
	for (size_t i = 0; i < BRAIN_ARRAY_LEN(bad32); i++) {
		p = copy();
		put32(p, bad32[i].off, bad32[i].value);
		reseal(p, g_len);
		expect_corrupt(p, g_len, bad32[i].want);
		free(p);
	}
}

/* Any changed byte after the hash: its mismatch (sampled, and every byte
 * of the header after the hash). */
static void test_lift__hash_mismatch(void **state)
{
	(void)state;
	unsigned char *p = copy();
	test_rng rng = {11};
	for (int i = 0; i < 200; i++) {
		size_t off = i < 104 ? 24 + (size_t)i : 24 + (size_t)(test_rng_next(&rng) % (g_len - 24));
		unsigned char bit = (unsigned char)(1u << (test_rng_next(&rng) % 8));
		p[off] ^= bit;
		brain_lift *l = NULL;
		int rc = brain__lift_parse(p, g_len, "t", &l);
		assert_int_equal(rc, BRAIN_ECORRUPT);
		p[off] ^= bit;
	}
	/* and a change of the hash itself */
	p[16] ^= 1;
	expect_corrupt(p, g_len, "do not match their hash");
	free(p);
}

/* Damage behind a valid hash (a table written wrong): the structural
 * checks. */
static void test_lift__bad_structure(void **state)
{
	(void)state;
	uint64_t off_buckets = get64(g_table, 48), off_entries = get64(g_table, 56);
	uint64_t off_vectors = get64(g_table, 64), off_strings = get64(g_table, 72);
	uint32_t count = get32(g_table, 40), buckets = get32(g_table, 44);

	static const size_t offsets[] = {48, 56, 64, 72};
	for (size_t i = 0; i < BRAIN_ARRAY_LEN(offsets); i++) {
		unsigned char *p = copy();
		put64(p, offsets[i], (uint64_t)g_len + 64); /* past the end */
		reseal(p, g_len);
		expect_corrupt(p, g_len, "not inside the file");
		free(p);
		p = copy();
		put64(p, offsets[i], 8); /* inside the header */
		reseal(p, g_len);
		expect_corrupt(p, g_len, "not inside the file");
		free(p);
		p = copy();
		put64(p, offsets[i], UINT64_MAX - 3); /* overflows */
		reseal(p, g_len);
		expect_corrupt(p, g_len, "not inside the file");
		free(p);
	}
	/* sections out of order: the vectors before the entries */
	unsigned char *p = copy();
	put64(p, 64, off_entries);
	reseal(p, g_len);
	expect_corrupt(p, g_len, "vectors");
	free(p);
	/* the words' size past the end */
	p = copy();
	put64(p, 80, g_len);
	reseal(p, g_len);
	expect_corrupt(p, g_len, "words");
	free(p);

	/* an entry's word outside the strings, empty, too long; a bad scale */
	uint64_t strings_size = get64(g_table, 80);
	static const struct {
		size_t field;
		uint32_t value;
		const char *want;
	} entry_bad[] = {
		{0, 0xFFFFFFF0u, "not inside the words"},
		{4, 0, "not inside the words"},
		{4, 65, "longer than 64"},
		{8, 0x7FC00000u, "scale"}, /* NaN */
		{8, 0xBF800000u, "scale"}, /* -1 */
	};
	for (size_t i = 0; i < BRAIN_ARRAY_LEN(entry_bad); i++) {
		p = copy();
		put32(p, (size_t)off_entries + 12 * 777 + entry_bad[i].field, entry_bad[i].value);
		reseal(p, g_len);
		expect_corrupt(p, g_len, entry_bad[i].want);
		free(p);
	}
	p = copy();
	put32(p, (size_t)off_entries + 12 * (count - 1), (uint32_t)strings_size); /* at the end */
	reseal(p, g_len);
	expect_corrupt(p, g_len, "not inside the words");
	free(p);

	/* buckets: one naming a word past the last, two naming one word, a
	 * word in no bucket, a word moved out of its probe sequence */
	uint32_t taken = 0, empty = 0;
	for (uint32_t b = 0; b < buckets && (!taken || !empty); b++) {
		uint32_t v = get32(g_table, (size_t)off_buckets + 4 * b);
		if (v && !taken)
			taken = b + 1;
		if (!v && !empty)
			empty = b + 1;
	}
	assert_true(taken && empty);
	p = copy();
	put32(p, (size_t)off_buckets + 4 * (taken - 1), count + 1);
	reseal(p, g_len);
	expect_corrupt(p, g_len, "names word");
	free(p);
	p = copy();
	put32(p, (size_t)off_buckets + 4 * (empty - 1),
	      get32(g_table, (size_t)off_buckets + 4 * (taken - 1)));
	reseal(p, g_len);
	expect_corrupt(p, g_len, "in two hash buckets");
	free(p);
	p = copy();
	put32(p, (size_t)off_buckets + 4 * (taken - 1), 0);
	reseal(p, g_len);
	expect_corrupt(p, g_len, "through the hash index");
	free(p);
	/* the word of row 5 made the same as row 4's: found at row 4 */
	p = copy();
	memcpy(p + off_entries + 12 * 5, p + off_entries + 12 * 4, 8);
	reseal(p, g_len);
	expect_corrupt(p, g_len, "found at another entry");
	free(p);
	(void)off_vectors;
	(void)off_strings;
}

/* ---- files, sharing, where the table is ----------------------------------- */

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void test_lift__files_and_sharing(void **state)
{
	(void)state;
	brain_lift *a = NULL, *b = NULL;
	assert_int_equal(brain__lift_acquire(BRAIN_WORDS_FILE, &a), 0);
	assert_int_equal(brain__lift_acquire(BRAIN_WORDS_FILE, &b), 0);
	assert_ptr_equal(a, b); /* one mapping per file and process */
	brain__lift_release(b);
	assert_int_equal(brain__lift_find(a, "the", 3), 0); /* still there */
	brain__lift_release(a);

	assert_int_equal(brain__lift_acquire("/nonexistent/words.bin", &a), BRAIN_ENOTFOUND);
	assert_null(a);
	assert_int_equal(brain__lift_acquire("/", &a), BRAIN_EIO);

	char dir[] = "/tmp/test_lift_XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[256];
	snprintf(path, sizeof path, "%s/words.bin", dir);
	write_file(path, g_table, g_len / 2);
	assert_int_equal(brain__lift_acquire(path, &a), BRAIN_ECORRUPT);
	assert_non_null(strstr(brain_errmsg(), "truncated"));
	write_file(path, g_table, 0);
	assert_int_equal(brain__lift_acquire(path, &a), BRAIN_ECORRUPT);
	unlink(path);
	rmdir(dir);
}

static void test_lift__where(void **state)
{
	(void)state;
	brain_lift *l = NULL;
	setenv(BRAIN_LIFT_ENV, "off", 1);
	assert_int_equal(brain__lift_acquire_default(&l), 0);
	assert_null(l);
	setenv(BRAIN_LIFT_ENV, BRAIN_WORDS_FILE, 1);
	assert_int_equal(brain__lift_acquire_default(&l), 0);
	assert_non_null(l);
	brain__lift_release(l);
	/* a table named but missing is an error, not a quiet fallback */
	setenv(BRAIN_LIFT_ENV, "/nonexistent/words.bin", 1);
	assert_int_equal(brain__lift_acquire_default(&l), BRAIN_ENOTFOUND);
	assert_non_null(strstr(brain_errmsg(), BRAIN_LIFT_ENV));
	assert_null(brain_create());
	assert_non_null(strstr(brain_errmsg(), BRAIN_LIFT_ENV));
	setenv(BRAIN_LIFT_ENV, BRAIN_WORDS_FILE, 1);
}

/* ---- the embedder with and without the lift --------------------------------- */

static const char *const g_facts[] = {
	"My dentist appointment is on Tuesday at 3pm.",
	"The houseplants need watering twice a week.",
	"Our wedding anniversary is on June 9th.",
	"The Wi-Fi password for the cabin is written on the fridge magnet.",
	"My son is allergic to peanuts and carries an EpiPen.",
	"The car needs new tires before winter.",
	"Raj from accounting handles all expense reimbursements.",
	"The modern Olympic Games began in Athens in 1896.",
};

/* A brain of g_facts, made with BRAINCORE_WORDS as it is now. */
static brain_t *facts_brain(uint32_t dims)
{
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.dimensions = dims;
	brain_t *b = NULL;
	assert_int_equal(brain_open(NULL, &o, &b), 0);
	for (size_t i = 0; i < BRAIN_ARRAY_LEN(g_facts); i++)
		assert_int_equal(brain_remember(b, g_facts[i], 0.5f), 0);
	return b;
}

static void embed(brain_t *b, const char *text, int purpose, float *vec)
{
	brain_msg_embed m = {.text = text, .len = strlen(text), .purpose = purpose, .vector = vec};
	assert_int_equal(brain__call_EMBED(&b->spine, &m), 0);
}

static double cosine(brain_t *b, const char *query, const char *memory)
{
	uint32_t d = brain_dimensions(b);
	float *q = malloc(d * sizeof *q), *m = malloc(d * sizeof *m);
	embed(b, query, BRAIN_EMBED_QUERY, q);
	embed(b, memory, BRAIN_EMBED_DOCUMENT, m);
	double s = 0;
	for (uint32_t i = 0; i < d; i++)
		s += (double)q[i] * m[i];
	free(q);
	free(m);
	return s;
}

/* The rank of fact `want` for `question` (0 = first; 99 if not recalled). */
static size_t rank_of(brain_t *b, const char *question, size_t want)
{
	brain_results *r = NULL;
	assert_int_equal(brain_recall_results(b, question, 8, &r), 0);
	size_t rank = 99;
	for (size_t i = 0; i < brain_results_count(r) && rank == 99; i++)
		if (strcmp(brain_results_text(r, i), g_facts[want]) == 0)
			rank = i;
	brain_results_free(r);
	return rank;
}

/* Questions that share no word with their fact but stop words. */
static const struct {
	const char *question;
	size_t fact;
} g_paraphrases[] = {
	{"Who pays me back for work costs?", 6},
	{"How often should the indoor greenery get a drink?", 1},
	{"What food must my boy stay away from?", 4},
	{"Where was the earliest edition of the revived international sporting festival held?",
	 7},
};

static void test_lift__paraphrases_meet(void **state)
{
	(void)state;
	setenv(BRAIN_LIFT_ENV, "off", 1);
	brain_t *lex = facts_brain(0);
	setenv(BRAIN_LIFT_ENV, BRAIN_WORDS_FILE, 1);
	brain_t *lift = facts_brain(0);
	size_t first_lex = 0, first_lift = 0;
	for (size_t i = 0; i < BRAIN_ARRAY_LEN(g_paraphrases); i++) {
		const char *q = g_paraphrases[i].question;
		const char *fact = g_facts[g_paraphrases[i].fact];
		double without = cosine(lex, q, fact), with = cosine(lift, q, fact);
		size_t r_lex = rank_of(lex, q, g_paraphrases[i].fact);
		size_t r_lift = rank_of(lift, q, g_paraphrases[i].fact);
		printf("%-50.50s cosine %.3f -> %.3f, rank %zu -> %zu\n", q, without, with, r_lex,
		       r_lift);
		assert_true(with > without + 0.05);
		assert_true(r_lift <= r_lex);
		first_lex += r_lex == 0;
		first_lift += r_lift == 0;
	}
	printf("first: lexical %zu, with the lift %zu of %zu\n", first_lex, first_lift,
	       BRAIN_ARRAY_LEN(g_paraphrases));
	/* measured: 0 and 2 */
	assert_true(first_lift >= 2);
	assert_true(first_lift > first_lex);
	brain_destroy(lex);
	brain_destroy(lift);
}

/* A memory's vector depends on its text (and the table) alone; a brain
 * too small for the lift embeds as without it; a text with no word in the
 * table has the lexical part alone. */
static void test_lift__vectors(void **state)
{
	(void)state;
	setenv(BRAIN_LIFT_ENV, BRAIN_WORDS_FILE, 1);
	brain_t *a = facts_brain(0), *empty = NULL;
	assert_int_equal(brain_open(NULL, NULL, &empty), 0);
	float va[384], vb[384];
	embed(a, g_facts[3], BRAIN_EMBED_DOCUMENT, va);
	embed(empty, g_facts[3], BRAIN_EMBED_DOCUMENT, vb);
	assert_memory_equal(va, vb, sizeof va);
	double lift_part = 0;
	for (int d = 284; d < 384; d++)
		lift_part += (double)va[d] * va[d];
	assert_true(lift_part > 0.3 && lift_part < 0.5); /* 1 - A = 0.4 */
	/* no word in the table: the last 100 dimensions stay zero */
	embed(a, "zqx7 kkv9", BRAIN_EMBED_DOCUMENT, va);
	for (int d = 284; d < 384; d++)
		assert_true(va[d] == 0.0f);
	embed(a, "zqx7 kkv9", BRAIN_EMBED_QUERY, va); /* a query too */
	for (int d = 284; d < 384; d++)
		assert_true(va[d] == 0.0f);
	brain_destroy(a);
	brain_destroy(empty);

	/* 199 dimensions leave the lexical features fewer than 100 */
	float small_lift[199], small_lex[199];
	brain_t *s = facts_brain(199);
	embed(s, g_paraphrases[0].question, BRAIN_EMBED_QUERY, small_lift);
	brain_destroy(s);
	setenv(BRAIN_LIFT_ENV, "off", 1);
	s = facts_brain(199);
	embed(s, g_paraphrases[0].question, BRAIN_EMBED_QUERY, small_lex);
	brain_destroy(s);
	assert_memory_equal(small_lift, small_lex, sizeof small_lex);
	/* 200 do */
	float big_lift[200], big_lex[200];
	s = facts_brain(200);
	embed(s, g_paraphrases[0].question, BRAIN_EMBED_QUERY, big_lex);
	brain_destroy(s);
	setenv(BRAIN_LIFT_ENV, BRAIN_WORDS_FILE, 1);
	s = facts_brain(200);
	embed(s, g_paraphrases[0].question, BRAIN_EMBED_QUERY, big_lift);
	brain_destroy(s);
	assert_true(memcmp(big_lift, big_lex, sizeof big_lex) != 0);
}

/* ---- identity: a brain records whether (and with which table) -------------- */

static void rm_tree(const char *dir)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* An on-disk brain of g_facts made with BRAINCORE_WORDS = words, closed. */
static void make_on_disk(const char *dir, const char *words)
{
	setenv(BRAIN_LIFT_ENV, words, 1);
	brain_t *b = NULL;
	assert_int_equal(brain_open(dir, NULL, &b), 0);
	for (size_t i = 0; i < BRAIN_ARRAY_LEN(g_facts); i++)
		assert_int_equal(brain_remember(b, g_facts[i], 0.5f), 0);
	assert_int_equal(brain_close(b), 0);
}

static int reopen(const char *dir, const char *words, brain_t **out)
{
	setenv(BRAIN_LIFT_ENV, words, 1);
	*out = NULL;
	return brain_open(dir, NULL, out);
}

static void test_lift__identity_on_disk(void **state)
{
	(void)state;
	char base[] = "/tmp/test_lift_id_XXXXXX";
	assert_non_null(mkdtemp(base));
	char with[300], without[300], other[300];
	snprintf(with, sizeof with, "%s/with", base);
	snprintf(without, sizeof without, "%s/without", base);
	snprintf(other, sizeof other, "%s/other.bin", base);
	/* another table: one vector byte changed, the hash written again */
	unsigned char *p = copy();
	p[get64(p, 64) + 1000] ^= 1;
	reseal(p, g_len);
	write_file(other, p, g_len);
	free(p);

	make_on_disk(with, BRAIN_WORDS_FILE);
	make_on_disk(without, "off");
	brain_t *b = NULL;
	/* made with the lift: it needs that table */
	assert_int_equal(reopen(with, "off", &b), BRAIN_EMISMATCH);
	assert_null(b);
	assert_non_null(strstr(brain_errmsg(), "word table"));
	assert_int_equal(reopen(with, other, &b), BRAIN_EMISMATCH);
	assert_non_null(strstr(brain_errmsg(), "word table"));
	assert_int_equal(reopen(with, BRAIN_WORDS_FILE, &b), 0);
	assert_int_equal(rank_of(b, g_paraphrases[0].question, g_paraphrases[0].fact), 0);
	assert_int_equal(brain_remember(b, "The spare key is under the blue flower pot.", 0.5f), 0);
	assert_int_equal(brain_close(b), 0);
	assert_int_equal(reopen(with, BRAIN_WORDS_FILE, &b), 0); /* and its log replays */
	assert_int_equal(brain_count(b), BRAIN_ARRAY_LEN(g_facts) + 1);
	assert_int_equal(brain_close(b), 0);

	/* made without: it stays lexical whatever is installed */
	float stored[384], lexical[384];
	setenv(BRAIN_LIFT_ENV, "off", 1);
	brain_t *lex = facts_brain(0);
	embed(lex, g_paraphrases[0].question, BRAIN_EMBED_QUERY, lexical);
	brain_destroy(lex);
	const char *tables[] = {BRAIN_WORDS_FILE, other, "off"};
	for (int t = 0; t < 3; t++) {
		const char *words = tables[t];
		assert_int_equal(reopen(without, words, &b), 0);
		embed(b, g_paraphrases[0].question, BRAIN_EMBED_QUERY, stored);
		assert_memory_equal(stored, lexical, sizeof lexical);
		assert_int_equal(brain_close(b), 0);
	}
	assert_int_equal(reopen(without, BRAIN_WORDS_FILE, &b), 0);
	assert_int_equal(brain_remember(b, "Another note.", 0.5f), 0);
	assert_int_equal(brain_close(b), 0);
	assert_int_equal(reopen(without, "off", &b), 0);
	assert_int_equal(brain_count(b), BRAIN_ARRAY_LEN(g_facts) + 1);
	assert_int_equal(brain_close(b), 0);
	unlink(other);
	rm_tree(base);
	setenv(BRAIN_LIFT_ENV, BRAIN_WORDS_FILE, 1);
}

typedef struct stream {
	unsigned char *data;
	size_t len, cap, at;
} stream;

static int put_bytes(const void *data, size_t len, void *payload)
{
	stream *s = payload;
	if (s->len + len > s->cap) {
		s->cap = (s->len + len) * 2;
		s->data = realloc(s->data, s->cap);
	}
	memcpy(s->data + s->len, data, len);
	s->len += len;
	return 0;
}

static int get_bytes(void *buf, size_t len, void *payload)
{
	stream *s = payload;
	if (len > s->len - s->at)
		return BRAIN_EIO;
	memcpy(buf, s->data + s->at, len);
	s->at += len;
	return 0;
}

/* A snapshot of an in-memory brain made with the lift carries it. */
static void test_lift__identity_in_snapshots(void **state)
{
	(void)state;
	setenv(BRAIN_LIFT_ENV, BRAIN_WORDS_FILE, 1);
	brain_t *b = facts_brain(0);
	stream s = {0};
	assert_int_equal(brain_save(b, put_bytes, &s), 0);
	brain_destroy(b);
	setenv(BRAIN_LIFT_ENV, "off", 1);
	assert_int_equal(brain_load(get_bytes, &s, NULL, NULL, &b), BRAIN_EMISMATCH);
	assert_non_null(strstr(brain_errmsg(), "word table"));
	setenv(BRAIN_LIFT_ENV, BRAIN_WORDS_FILE, 1);
	s.at = 0;
	assert_int_equal(brain_load(get_bytes, &s, NULL, NULL, &b), 0);
	assert_int_equal(rank_of(b, g_paraphrases[0].question, g_paraphrases[0].fact), 0);
	brain_destroy(b);
	free(s.data);
}

/* Brains made and destroyed on several threads at once share one table. */
static void *churn(void *arg)
{
	(void)arg;
	for (int i = 0; i < 20; i++) {
		brain_t *b = brain_create();
		assert_non_null(b);
		assert_int_equal(brain_remember(b, "The houseplants need watering.", 0.5f), 0);
		brain_results *r = NULL;
		assert_int_equal(brain_recall_results(b, "indoor greenery", 1, &r), 0);
		brain_results_free(r);
		brain_destroy(b);
	}
	return NULL;
}

static void test_lift__threads_share(void **state)
{
	(void)state;
	setenv(BRAIN_LIFT_ENV, BRAIN_WORDS_FILE, 1);
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, churn, NULL), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lift__table_loads),
		cmocka_unit_test(test_lift__words_are_pancreas_keys),
		cmocka_unit_test(test_lift__truncated),
		cmocka_unit_test(test_lift__header_fields),
		cmocka_unit_test(test_lift__hash_mismatch),
		cmocka_unit_test(test_lift__bad_structure),
		cmocka_unit_test(test_lift__files_and_sharing),
		cmocka_unit_test(test_lift__where),
		cmocka_unit_test(test_lift__paraphrases_meet),
		cmocka_unit_test(test_lift__vectors),
		cmocka_unit_test(test_lift__identity_on_disk),
		cmocka_unit_test(test_lift__identity_in_snapshots),
		cmocka_unit_test(test_lift__threads_share),
	};
	setenv(BRAIN_LIFT_ENV, BRAIN_WORDS_FILE, 1);
	return cmocka_run_group_tests(tests, setup, teardown);
}
