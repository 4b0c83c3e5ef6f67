/*
 * tests/test_update.c - a memory changed in place (brain_update) and
 * memories under keys (brain_upsert, brain_key_id, brain_forget_key):
 * what an update keeps and what it changes, keyword scores against a
 * brain that remembered the final texts from the start, bad input that
 * changes nothing, random puts, updates and forgets against a reference
 * map through the log and a checkpoint, and puts of the same keys from
 * two threads.
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

#include "braincore.h"
#include "test_util.h"

static const char *const g_facts[] = {
	"Octopuses have three hearts and blue blood.",
	"Espresso is brewed by forcing hot water through finely ground coffee.",
	"The Great Wall of China is visible from low orbit only under ideal conditions.",
};

static brain_t *text_brain(const char *dir)
{
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.background = BRAIN_BACKGROUND_MANUAL;
	brain_t *b = NULL;
	assert_int_equal(brain_open(dir, &o, &b), 0);
	return b;
}

/* The text of memory id, copied into buf; false if there is none. */
static bool text_of(brain_t *b, uint64_t id, char *buf, size_t size, float *importance)
{
	brain_results *r = NULL;
	if (brain_get(b, id, &r) != 0)
		return false;
	snprintf(buf, size, "%s", brain_results_text(r, 0));
	if (importance)
		*importance = brain_results_importance(r, 0);
	brain_results_free(r);
	return true;
}

static uint64_t top_id(brain_t *b, const char *query, int mode)
{
	brain_results *r = NULL;
	assert_int_equal(brain_recall_mode(b, query, 3, mode, NULL, &r), 0);
	uint64_t id = brain_results_count(r) ? brain_results_id(r, 0) : BRAIN_ID_NONE;
	brain_results_free(r);
	return id;
}

static void update_changes_the_text_in_place(void **state)
{
	(void)state;
	brain_t *b = text_brain(NULL);
	uint64_t id[3];
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(brain_remember_with(b, g_facts[i], 0.25f, "{\"kind\":\"fact\"}", &id[i]),
		                 0);
	assert_int_equal(brain_relate(b, id[0], id[1], "knows", 1.0f), 0);
	assert_int_equal(brain_set_valid(b, id[0], 100, BRAIN_TIME_NONE), 0);
	brain_results *before = NULL;
	assert_int_equal(brain_get(b, id[0], &before), 0);

	const char *now = "Volcanoes on Io erupt sulphur plumes hundreds of kilometres high.";
	assert_int_equal(
		brain_update(b, id[0], now, strlen(now), NULL, BRAIN_KEEP_IMPORTANCE, NULL), 0);
	assert_int_equal(brain_count(b), 3);
	brain_results *after = NULL;
	assert_int_equal(brain_get(b, id[0], &after), 0);
	assert_string_equal(brain_results_text(after, 0), now);
	assert_true(brain_results_importance(after, 0) == 0.25f);
	assert_int_equal(brain_results_created(after, 0), brain_results_created(before, 0));
	/* the caller's fields and the library's stay */
	assert_string_equal(brain_results_metadata(after, 0), brain_results_metadata(before, 0));
	brain_results_free(before);
	brain_results_free(after);
	brain_edges *e = NULL;
	assert_int_equal(brain_neighbors(b, id[0], "knows", BRAIN_DIR_OUT, &e), 0);
	assert_int_equal(brain_edges_count(e), 1);
	brain_edges_free(e);

	/* found by its new words, no longer by its old ones */
	assert_int_equal(top_id(b, "sulphur volcanoes", BRAIN_KEYWORD), id[0]);
	assert_int_equal(top_id(b, "sulphur volcanoes on Io", BRAIN_SEMANTIC), id[0]);
	assert_int_not_equal(top_id(b, "octopuses hearts", BRAIN_KEYWORD), id[0]);

	/* BM25 scores as if the brain had held the new text from the start */
	brain_t *control = text_brain(NULL);
	assert_int_equal(brain_remember(control, now, 0.25f), 0);
	for (size_t i = 1; i < 3; i++)
		assert_int_equal(brain_remember(control, g_facts[i], 0.25f), 0);
	static const char *const queries[] = {"sulphur", "coffee water", "orbit", "the"};
	for (size_t q = 0; q < 4; q++) {
		brain_results *x = NULL, *y = NULL;
		assert_int_equal(brain_recall_mode(b, queries[q], 3, BRAIN_KEYWORD, NULL, &x), 0);
		assert_int_equal(brain_recall_mode(control, queries[q], 3, BRAIN_KEYWORD, NULL, &y), 0);
		assert_int_equal(brain_results_count(x), brain_results_count(y));
		for (size_t i = 0; i < brain_results_count(x); i++) {
			assert_string_equal(brain_results_text(x, i), brain_results_text(y, i));
			assert_true(fabsf(brain_results_score(x, i) - brain_results_score(y, i)) < 1e-5f);
		}
		brain_results_free(x);
		brain_results_free(y);
	}
	brain_destroy(control);
	brain_destroy(b);
}

static void update_importance_and_metadata_alone(void **state)
{
	(void)state;
	brain_t *b = text_brain(NULL);
	uint64_t id;
	assert_int_equal(brain_remember_with(b, g_facts[0], 0.5f, "{\"kind\":\"fact\",\"n\":1}", &id),
	                 0);
	assert_int_equal(brain_set_valid(b, id, BRAIN_TIME_NONE, 900), 0);
	assert_int_equal(brain_update(b, id, NULL, 0, NULL, 0.75f, NULL), 0);
	char text[256], meta[256];
	size_t mlen;
	float imp;
	assert_true(text_of(b, id, text, sizeof text, &imp));
	assert_string_equal(text, g_facts[0]);
	assert_true(imp == 0.75f);
	assert_int_equal(
		brain_update(b, id, NULL, 0, NULL, BRAIN_KEEP_IMPORTANCE, "{\"kind\":\"note\"}"), 0);
	assert_int_equal(brain_get_metadata(b, id, meta, sizeof meta, &mlen), 0);
	assert_string_equal(meta, "{\"@valid_until\":900,\"kind\":\"note\"}");
	assert_true(text_of(b, id, text, sizeof text, &imp));
	assert_true(imp == 0.75f);
	/* {} clears the caller's fields, not the library's */
	assert_int_equal(brain_update(b, id, NULL, 0, NULL, BRAIN_KEEP_IMPORTANCE, "{}"), 0);
	assert_int_equal(brain_get_metadata(b, id, meta, sizeof meta, &mlen), 0);
	assert_string_equal(meta, "{\"@valid_until\":900}");
	/* nothing asked: nothing changes */
	assert_int_equal(brain_update(b, id, NULL, 0, NULL, BRAIN_KEEP_IMPORTANCE, NULL), 0);
	brain_destroy(b);
}

static void update_bad_input_changes_nothing(void **state)
{
	(void)state;
	brain_t *b = text_brain(NULL);
	uint64_t id, other;
	assert_int_equal(brain_remember_with(b, g_facts[0], 0.5f, "{\"n\":1}", &id), 0);
	assert_int_equal(brain_remember_with(b, g_facts[1], 0.5f, "{\"n\":2}", &other), 0);
	const char *t = "a new text";
	assert_int_equal(brain_update(NULL, id, t, strlen(t), NULL, 0.5f, NULL), BRAIN_ENULL);
	assert_int_equal(brain_update(b, 999, t, strlen(t), NULL, 0.5f, NULL), BRAIN_ENOTFOUND);
	assert_int_equal(brain_update(b, id, t, 0, NULL, 0.5f, NULL), BRAIN_EEMPTY);
	assert_int_equal(brain_update(b, id, t, strlen(t), NULL, 1.5f, NULL), BRAIN_ERANGE);
	assert_int_equal(brain_update(b, id, t, strlen(t), NULL, NAN, NULL), BRAIN_ERANGE);
	assert_int_equal(brain_update(b, id, "bad \xff byte", 10, NULL, 0.5f, NULL), BRAIN_EUTF8);
	assert_int_equal(brain_update(b, id, "nul\0inside", 10, NULL, 0.5f, NULL), BRAIN_EUTF8);
	assert_int_equal(brain_update(b, id, t, strlen(t), NULL, 0.5f, "{\"n\":"), BRAIN_EJSON);
	assert_non_null(strstr(brain_errmsg(), "update"));
	assert_int_equal(brain_update(b, id, t, strlen(t), NULL, 0.5f, "{\"@key\":\"x\"}"),
	                 BRAIN_EJSON);
	/* another memory holds n as an integer */
	assert_int_equal(brain_update(b, id, t, strlen(t), NULL, 0.5f, "{\"n\":\"one\"}"),
	                 BRAIN_ETYPE);
	assert_int_equal(brain_update(b, id, NULL, 0, (const float[384]){1.0f}, 0.5f, NULL),
	                 BRAIN_EINVAL);
	float v[384] = {1.0f};
	assert_int_equal(brain_add(b, 5000, v), 0);
	assert_int_equal(brain_update(b, 5000, t, strlen(t), NULL, 0.5f, NULL), BRAIN_EINVAL);
	char text[256], meta[64];
	size_t mlen;
	float imp;
	assert_true(text_of(b, id, text, sizeof text, &imp));
	assert_string_equal(text, g_facts[0]);
	assert_true(imp == 0.5f);
	assert_int_equal(brain_get_metadata(b, id, meta, sizeof meta, &mlen), 0);
	assert_string_equal(meta, "{\"n\":1}");
	assert_int_equal(brain_count(b), 3);
	brain_destroy(b);
}

static void upsert_keeps_one_memory_per_key(void **state)
{
	(void)state;
	brain_t *b = text_brain(NULL);
	uint64_t a, a2, c;
	const char *key = "doc \"A\" ü";
	assert_int_equal(brain_upsert(b, key, g_facts[0], strlen(g_facts[0]), NULL, 0.5f,
	                              "{\"kind\":\"fact\"}", &a),
	                 0);
	assert_int_equal(brain_upsert(b, "c", g_facts[2], strlen(g_facts[2]), NULL, 0.5f, NULL, &c),
	                 0);
	assert_int_not_equal(a, c);
	assert_int_equal(brain_upsert(b, key, g_facts[1], strlen(g_facts[1]), NULL, 0.9f, NULL, &a2),
	                 0);
	assert_int_equal(a2, a);
	assert_int_equal(brain_count(b), 2);
	char text[256], meta[128];
	size_t mlen;
	float imp;
	assert_true(text_of(b, a, text, sizeof text, &imp));
	assert_string_equal(text, g_facts[1]);
	assert_true(imp == 0.9f);
	/* the caller's metadata replaced (none now); the key stays */
	assert_int_equal(brain_get_metadata(b, a, meta, sizeof meta, &mlen), 0);
	assert_string_equal(meta, "{\"@key\":\"doc \\\"A\\\" ü\"}");
	uint64_t found = 0;
	assert_int_equal(brain_key_id(b, key, &found), 0);
	assert_int_equal(found, a);
	brain_results *r = NULL;
	assert_int_equal(brain_recall_mode(b, "espresso coffee", 1, BRAIN_SEMANTIC, NULL, &r), 0);
	assert_string_equal(brain_results_key(r, 0), key);
	assert_null(brain_results_document(r, 0));
	assert_null(brain_results_key(r, 7));
	brain_results_free(r);
	brain_filter *f = NULL;
	assert_int_equal(brain_filter_parse("`@key` = \"c\"", &f), 0);
	uint64_t n = 0;
	assert_int_equal(brain_count_where(b, f, &n), 0);
	assert_int_equal(n, 1);
	brain_filter_free(f);
	/* a key is the library's: callers do not set it as metadata */
	assert_int_equal(brain_set_metadata(b, c, "{\"@key\":\"a\"}"), BRAIN_EJSON);
	assert_int_equal(brain_set_metadata(b, c, "{\"x\":1}"), 0);
	assert_int_equal(brain_key_id(b, "c", &found), 0);
	assert_int_equal(found, c);

	assert_int_equal(brain_forget_key(b, key), 0);
	assert_int_equal(brain_key_id(b, key, &found), BRAIN_ENOTFOUND);
	assert_int_equal(brain_forget_key(b, key), BRAIN_ENOTFOUND);
	assert_int_equal(brain_upsert(b, key, g_facts[0], strlen(g_facts[0]), NULL, 0.5f, NULL, &a2),
	                 0);
	assert_int_not_equal(a2, a);

	/* bad keys and texts */
	char big[BRAIN_KEY_MAX + 2];
	memset(big, 'k', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	const char *t = "text";
	assert_int_equal(brain_upsert(b, NULL, t, 4, NULL, 0.5f, NULL, NULL), BRAIN_ENULL);
	assert_int_equal(brain_upsert(b, "", t, 4, NULL, 0.5f, NULL, NULL), BRAIN_EEMPTY);
	assert_int_equal(brain_upsert(b, big, t, 4, NULL, 0.5f, NULL, NULL), BRAIN_ETOOLONG);
	big[BRAIN_KEY_MAX] = '\0';
	assert_int_equal(brain_upsert(b, big, t, 4, NULL, 0.5f, NULL, NULL), 0);
	assert_int_equal(brain_upsert(b, "\xc3", t, 4, NULL, 0.5f, NULL, NULL), BRAIN_EUTF8);
	assert_int_equal(brain_upsert(b, "k", NULL, 4, NULL, 0.5f, NULL, NULL), BRAIN_ENULL);
	assert_int_equal(brain_upsert(b, "k", t, 0, NULL, 0.5f, NULL, NULL), BRAIN_EEMPTY);
	assert_int_equal(brain_upsert(b, "k", t, 4, NULL, -0.5f, NULL, NULL), BRAIN_ERANGE);
	assert_int_equal(brain_upsert(b, "k", t, 4, NULL, 0.5f, "[1]", NULL), BRAIN_EJSON);
	assert_int_equal(brain_key_id(b, "k", &found), BRAIN_ENOTFOUND);
	assert_int_equal(brain_key_id(b, "k", NULL), BRAIN_ENULL);
	assert_int_equal(brain_count(b), 3);
	brain_destroy(b);
}

/* ---- random puts, updates and forgets against a reference --------------- */

#define KEYS 24

typedef struct ref_key {
	bool live;
	uint64_t id;
	char text[96];
	float importance;
	int tag; /* the "tag" field, -1: none */
} ref_key;

static void key_name(size_t k, char *buf, size_t size)
{
	snprintf(buf, size, "key-%zu", k);
}

static void check_keys(brain_t *b, const ref_key *ref)
{
	uint64_t live = 0;
	for (size_t k = 0; k < KEYS; k++) {
		char key[32];
		key_name(k, key, sizeof key);
		uint64_t id = 0;
		int rc = brain_key_id(b, key, &id);
		if (!ref[k].live) {
			assert_int_equal(rc, BRAIN_ENOTFOUND);
			continue;
		}
		live++;
		assert_int_equal(rc, 0);
		assert_int_equal(id, ref[k].id);
		brain_results *r = NULL;
		assert_int_equal(brain_get(b, id, &r), 0);
		assert_string_equal(brain_results_text(r, 0), ref[k].text);
		assert_true(brain_results_importance(r, 0) == ref[k].importance);
		assert_string_equal(brain_results_key(r, 0), key);
		char want[96];
		if (ref[k].tag >= 0)
			snprintf(want, sizeof want, "{\"@key\":\"%s\",\"tag\":%d}", key, ref[k].tag);
		else
			snprintf(want, sizeof want, "{\"@key\":\"%s\"}", key);
		assert_string_equal(brain_results_metadata(r, 0), want);
		brain_results_free(r);
		/* its text's one unique word finds it, and nothing else */
		brain_results *kw = NULL;
		assert_int_equal(brain_recall_mode(b, strrchr(ref[k].text, ' ') + 1, 3, BRAIN_KEYWORD,
		                                   NULL, &kw),
		                 0);
		assert_int_equal(brain_results_count(kw), 1);
		assert_int_equal(brain_results_id(kw, 0), id);
		brain_results_free(kw);
	}
	assert_int_equal(brain_count(b), live);
}

static const char *const g_words[] = {"amber", "birch", "cedar", "delta", "ember", "fjord",
                                      "grove", "heath", "inlet", "jetty", "knoll", "loch"};

static void random_ops(brain_t *b, ref_key *ref, test_rng *r, int n)
{
	for (int i = 0; i < n; i++) {
		size_t k = (size_t)(test_rng_next(r) % KEYS);
		char key[32];
		key_name(k, key, sizeof key);
		unsigned op = (unsigned)(test_rng_next(r) % 10);
		char text[96];
		snprintf(text, sizeof text, "%s %s %s number n%d", g_words[test_rng_next(r) % 12],
		         g_words[test_rng_next(r) % 12], g_words[test_rng_next(r) % 12], i);
		float imp = (float)(test_rng_next(r) % 5) / 4.0f;
		int tag = (int)(test_rng_next(r) % 3) - 1;
		char meta[32];
		snprintf(meta, sizeof meta, "{\"tag\":%d}", tag);
		if (op < 5) { /* put */
			uint64_t id = 0;
			assert_int_equal(brain_upsert(b, key, text, strlen(text), NULL, imp,
			                              tag >= 0 ? meta : NULL, &id),
			                 0);
			if (ref[k].live)
				assert_int_equal(id, ref[k].id);
			ref[k] = (ref_key){true, id, "", imp, tag};
			snprintf(ref[k].text, sizeof ref[k].text, "%s", text);
		} else if (op < 8 && ref[k].live) { /* update: some of it */
			bool t = op != 7, m = op != 5;
			assert_int_equal(brain_update(b, ref[k].id, t ? text : NULL, t ? strlen(text) : 0,
			                              NULL, op == 6 ? BRAIN_KEEP_IMPORTANCE : imp,
			                              m ? (tag >= 0 ? meta : "{}") : NULL),
			                 0);
			if (t)
				snprintf(ref[k].text, sizeof ref[k].text, "%s", text);
			if (op != 6)
				ref[k].importance = imp;
			if (m)
				ref[k].tag = tag;
		} else if (op >= 8) {
			int rc = brain_forget_key(b, key);
			assert_int_equal(rc, ref[k].live ? 0 : BRAIN_ENOTFOUND);
			ref[k].live = false;
		}
	}
}

static void puts_and_updates_survive_the_log_and_checkpoints(void **state)
{
	(void)state;
	char dir[] = "/tmp/braincore-update-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[64];
	snprintf(path, sizeof path, "%s/b", dir);
	ref_key ref[KEYS];
	memset(ref, 0, sizeof ref);
	test_rng r = {11};
	brain_t *b = text_brain(path);
	random_ops(b, ref, &r, 400);
	check_keys(b, ref);
	assert_int_equal(brain_close(b), 0);
	b = text_brain(path); /* the log alone */
	check_keys(b, ref);
	assert_int_equal(brain_checkpoint(b), 0);
	random_ops(b, ref, &r, 200);
	assert_int_equal(brain_close(b), 0);
	b = text_brain(path); /* the checkpoint, then the log */
	check_keys(b, ref);
	assert_int_equal(brain_check(path, NULL, NULL), 0);
	brain_destroy(b);
	assert_int_equal(test_remove_tree(dir), 0);
}

/* ---- metadata read and written back, '@' fields and all --------------------- */

static void meta_of(brain_t *b, uint64_t id, char *buf, size_t size)
{
	assert_int_equal(brain_get_metadata(b, id, buf, size, NULL), 0);
}

/* brain_get_metadata gives a memory's '@' fields (its key, its validity
 * times); a set or patch may carry them back unchanged, never changed. */
static void metadata_written_back_keeps_the_librarys_fields(void **state)
{
	(void)state;
	char dir[] = "/tmp/braincore-update-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[64];
	snprintf(path, sizeof path, "%s/b", dir);
	brain_t *b = text_brain(path);
	uint64_t id = 0;
	assert_int_equal(brain_upsert(b, "k1", "keyed memory", 12, NULL, 0.5f, "{\"a\":1}", &id), 0);
	assert_int_equal(brain_set_valid(b, id, 1000, BRAIN_TIME_NONE), 0);
	char got[256], again[256];
	meta_of(b, id, got, sizeof got);
	assert_string_equal(got, "{\"@key\":\"k1\",\"@valid_from\":1000,\"a\":1}");

	/* written back as read: nothing changes */
	assert_int_equal(brain_set_metadata(b, id, got), 0);
	meta_of(b, id, again, sizeof again);
	assert_string_equal(again, got);
	/* changed beside the '@' fields */
	assert_int_equal(brain_set_metadata(b, id, "{\"@key\":\"k1\",\"a\":2,\"b\":\"x\"}"), 0);
	meta_of(b, id, got, sizeof got);
	assert_string_equal(got, "{\"@key\":\"k1\",\"@valid_from\":1000,\"a\":2,\"b\":\"x\"}");
	assert_int_equal(brain_patch_metadata(b, id, "{\"@valid_from\":1000,\"b\":null}"), 0);
	meta_of(b, id, got, sizeof got);
	assert_string_equal(got, "{\"@key\":\"k1\",\"@valid_from\":1000,\"a\":2}");

	/* an '@' field changed, removed, of another type or not held: refused */
	const char *const bad[] = {
		"{\"@key\":\"k2\",\"a\":3}",     "{\"@valid_from\":999}",
		"{\"@valid_from\":1000.0}",      "{\"@valid_until\":5}",
		"{\"@doc\":\"d\"}",              "{\"@key\":[\"k1\"]}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(brain_set_metadata(b, id, bad[i]), BRAIN_EJSON);
		assert_non_null(strstr(brain_errmsg(), "the values the memory has"));
		assert_int_equal(brain_patch_metadata(b, id, bad[i]), BRAIN_EJSON);
	}
	assert_int_equal(brain_patch_metadata(b, id, "{\"@key\":null}"), BRAIN_EJSON);
	meta_of(b, id, again, sizeof again);
	assert_string_equal(again, got);
	/* brain_update takes them back the same way, with or without a text */
	assert_int_equal(brain_update(b, id, NULL, 0, NULL, BRAIN_KEEP_IMPORTANCE, got), 0);
	meta_of(b, id, again, sizeof again);
	assert_string_equal(again, got);
	assert_int_equal(brain_update(b, id, "keyed memory, new words", 23, NULL,
	                              BRAIN_KEEP_IMPORTANCE,
	                              "{\"@key\":\"k1\",\"@valid_from\":1000,\"a\":2}"),
	                 0);
	meta_of(b, id, again, sizeof again);
	assert_string_equal(again, got);
	assert_int_equal(brain_update(b, id, NULL, 0, NULL, BRAIN_KEEP_IMPORTANCE,
	                              "{\"@key\":\"k9\"}"),
	                 BRAIN_EJSON);
	/* a new memory may not bring any */
	assert_int_equal(brain_remember_with(b, "new one", 0.5f, "{\"@key\":\"k1\"}", NULL),
	                 BRAIN_EJSON);
	assert_int_equal(brain_key_id(b, "k1", &id), 0);

	/* the log replays what was made */
	assert_int_equal(brain_close(b), 0);
	b = text_brain(path);
	meta_of(b, id, again, sizeof again);
	assert_string_equal(again, got);
	brain_destroy(b);
	assert_int_equal(test_remove_tree(dir), 0);
}

/* ---- two threads put the same keys ---------------------------------------- */

typedef struct putter {
	brain_t *b;
	int seed;
	int failures;
} putter;

static void *put_many(void *arg)
{
	putter *p = arg;
	for (int i = 0; i < 150; i++) {
		char key[16], text[64];
		snprintf(key, sizeof key, "k%d", i % 8);
		snprintf(text, sizeof text, "writer %d wrote %s %d", p->seed, g_words[i % 12], i);
		if (brain_upsert(p->b, key, text, strlen(text), NULL, 0.5f, NULL, NULL) != 0)
			p->failures++;
	}
	return NULL;
}

static void concurrent_puts_make_one_memory_per_key(void **state)
{
	(void)state;
	brain_t *b = text_brain(NULL);
	putter p[2] = {{b, 1, 0}, {b, 2, 0}};
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, put_many, &p[i]), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	assert_int_equal(p[0].failures + p[1].failures, 0);
	assert_int_equal(brain_count(b), 8);
	brain_filter *f = NULL;
	assert_int_equal(brain_filter_parse("`@key` EXISTS", &f), 0);
	uint64_t n = 0;
	assert_int_equal(brain_count_where(b, f, &n), 0);
	assert_int_equal(n, 8);
	brain_filter_free(f);
	brain_destroy(b);
}

/* A new text may give a field another type, as a set of the metadata in
 * place may: the memory's own old value does not hold the field's type. */
static void an_update_may_change_a_field_type(void **state)
{
	(void)state;
	brain_t *b = text_brain(NULL);
	uint64_t a, c;
	assert_int_equal(brain_remember_with(b, g_facts[0], 0.5f, "{\"x\":1,\"y\":2.5}", &a), 0);
	assert_int_equal(brain_update(b, a, g_facts[1], strlen(g_facts[1]), NULL, 0.5f,
	                              "{\"x\":\"hello\",\"y\":3}"),
	                 0);
	/* x is a string field now, y a field of integers */
	assert_int_equal(brain_remember_with(b, g_facts[2], 0.5f, "{\"x\":\"world\",\"y\":4}", &c), 0);
	assert_int_equal(brain_remember_with(b, "one more", 0.5f, "{\"x\":5}", NULL), BRAIN_ETYPE);
	brain_filter *f = NULL;
	assert_int_equal(brain_filter_parse("x = \"hello\" AND y = 3", &f), 0);
	brain_results *r = NULL;
	assert_int_equal(brain_recall_filter(b, "coffee", 5, f, &r), 0);
	assert_int_equal(brain_results_count(r), 1);
	assert_int_equal(brain_results_id(r, 0), a);
	brain_results_free(r);
	brain_filter_free(f);
	/* an upsert likewise, and an undone one puts the old type back: a
	 * brain at max_memories still takes an update (the count stays) */
	brain_destroy(b);
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.max_memories = 2;
	assert_int_equal(brain_open(NULL, &o, &b), 0);
	assert_int_equal(brain_upsert(b, "k", g_facts[0], strlen(g_facts[0]), NULL, 0.5f,
	                              "{\"x\":1}", &a),
	                 0);
	assert_int_equal(brain_remember(b, g_facts[2], 0.5f), 0);
	assert_int_equal(brain_upsert(b, "k", g_facts[1], strlen(g_facts[1]), NULL, 0.5f,
	                              "{\"x\":\"s\"}", &c),
	                 0);
	assert_int_equal(c, a);
	assert_int_equal(brain_update(b, a, g_facts[0], strlen(g_facts[0]), NULL, 0.5f, NULL), 0);
	assert_int_equal(brain_upsert(b, "new", g_facts[1], strlen(g_facts[1]), NULL, 0.5f, NULL,
	                              NULL),
	                 BRAIN_EFULL);
	assert_int_equal(brain_count(b), 2);
	brain_destroy(b);
}

/* A brain without an embedder: texts come with the caller's vectors. */
static void updates_with_the_callers_vectors(void **state)
{
	(void)state;
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.dimensions = 4;
	o.metric = BRAIN_METRIC_L2;
	o.embedder = BRAIN_EMBEDDER_NONE;
	brain_t *b = NULL;
	assert_int_equal(brain_open(NULL, &o, &b), 0);
	const float v1[4] = {1, 0, 0, 0}, v2[4] = {0, 0, 3, 4}, bad[4] = {0, NAN, 0, 0};
	uint64_t id;
	assert_int_equal(brain_remember_ex(b, "first words", v1, 0.5f, &id), 0);
	const char *t = "second words entirely";
	assert_int_equal(brain_update(b, id, t, strlen(t), NULL, 0.5f, NULL), BRAIN_ENOEMBEDDER);
	assert_int_equal(brain_update(b, id, t, strlen(t), bad, 0.5f, NULL), BRAIN_ENONFINITE);
	assert_int_equal(brain_update(b, id, t, strlen(t), v2, 0.5f, NULL), 0);
	float got[4];
	assert_int_equal(brain_get_vector(b, id, got), 0);
	assert_memory_equal(got, v2, sizeof got);
	assert_int_equal(top_id(b, "entirely", BRAIN_KEYWORD), id);
	uint64_t k;
	assert_int_equal(brain_upsert(b, "key", t, strlen(t), v1, 0.5f, NULL, &k), 0);
	assert_int_equal(brain_upsert(b, "key", "third", 5, v2, 0.5f, NULL, &id), 0);
	assert_int_equal(id, k);
	assert_int_equal(brain_get_vector(b, k, got), 0);
	assert_memory_equal(got, v2, sizeof got);
	assert_int_equal(brain_upsert(b, "key", "third", 5, NULL, 0.5f, NULL, NULL),
	                 BRAIN_ENOEMBEDDER);
	brain_destroy(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(update_changes_the_text_in_place),
		cmocka_unit_test(update_importance_and_metadata_alone),
		cmocka_unit_test(update_bad_input_changes_nothing),
		cmocka_unit_test(upsert_keeps_one_memory_per_key),
		cmocka_unit_test(an_update_may_change_a_field_type),
		cmocka_unit_test(updates_with_the_callers_vectors),
		cmocka_unit_test(puts_and_updates_survive_the_log_and_checkpoints),
		cmocka_unit_test(metadata_written_back_keeps_the_librarys_fields),
		cmocka_unit_test(concurrent_puts_make_one_memory_per_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
