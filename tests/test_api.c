/*
 * tests/test_api.c - the text API end to end: seed calls, full calls,
 * results objects, user embedders, and every bad input.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "braincore.h"

static const char *const g_facts[] = {
	"The Eiffel Tower in Paris is 330 metres tall.",
	"Bananas are rich in potassium.",
	"The Pacific is the largest ocean on Earth.",
	"Ada Lovelace wrote the first published computer program.",
	"Honey never spoils if it is kept sealed.",
};

static brain_t *with_facts(void)
{
	brain_t *b = brain_create();
	assert_non_null(b);
	for (size_t i = 0; i < sizeof g_facts / sizeof g_facts[0]; i++)
		assert_int_equal(brain_remember(b, g_facts[i], 0.5f), 0);
	return b;
}

static void test_api__seed_remember_and_recall(void **state)
{
	(void)state;
	brain_t *b = with_facts();
	assert_int_equal(brain_count(b), 5);
	char **r = brain_recall(b, "how tall is the eiffel tower", 3);
	assert_non_null(r);
	assert_non_null(r[0]);
	assert_string_equal(r[0], g_facts[0]);
	size_t n = 0;
	while (r[n])
		n++;
	assert_true(n >= 1 && n <= 3);
	free(r); /* one allocation: this releases everything (ASan checks) */

	r = brain_recall(b, "largest ocean", 1);
	assert_non_null(r);
	assert_string_equal(r[0], g_facts[2]);
	assert_null(r[1]);
	free(r);
	brain_destroy(b);
}

static void test_api__recall_on_empty_brain(void **state)
{
	(void)state;
	brain_t *b = brain_create();
	char **r = brain_recall(b, "anything at all", 5);
	assert_non_null(r);
	assert_null(r[0]);
	brain_strings_free(r); /* the same as free(r) */
	brain_strings_free(NULL);
	brain_results *res = NULL;
	assert_int_equal(brain_recall_results(b, "anything", 3, &res), 0);
	assert_int_equal(brain_results_count(res), 0);
	brain_results_free(res);
	brain_destroy(b);
}

static void test_api__ids_results_and_get(void **state)
{
	(void)state;
	brain_t *b = brain_create();
	brain_id id1 = 0, id2 = 0;
	assert_int_equal(brain_remember_ex(b, "Cats sleep for most of the day.", NULL, 0.25f, &id1),
	                 0);
	assert_int_equal(brain_remember_ex(b, "Dogs like long walks.", NULL, 0.75f, &id2), 0);
	assert_int_equal(id1, 1);
	assert_int_equal(id2, 2);

	brain_results *r = NULL;
	assert_int_equal(brain_get(b, id1, &r), 0);
	assert_int_equal(brain_results_count(r), 1);
	assert_int_equal(brain_results_id(r, 0), id1);
	assert_string_equal(brain_results_text(r, 0), "Cats sleep for most of the day.");
	assert_int_equal(brain_results_text_len(r, 0), strlen("Cats sleep for most of the day."));
	assert_true(brain_results_importance(r, 0) == 0.25f);
	assert_true(brain_results_score(r, 0) == 1.0f);
	int64_t created = brain_results_created(r, 0);
	assert_true(created > 1600000000000LL); /* after 2020, in milliseconds */
	assert_true(brain_results_accessed(r, 0) >= created);
	assert_null(brain_results_answer(r));
	/* out of range accessors */
	assert_int_equal(brain_results_id(r, 1), BRAIN_ID_NONE);
	assert_null(brain_results_text(r, 1));
	assert_true(isnan(brain_results_score(r, 1)));
	assert_true(isnan(brain_results_importance(r, 5)));
	assert_int_equal(brain_results_created(r, 9), 0);
	assert_int_equal(brain_results_count(NULL), 0);
	assert_null(brain_results_text(NULL, 0));
	brain_results_free(r);
	brain_results_free(NULL);

	assert_int_equal(brain_get(b, 999, &r), BRAIN_ENOTFOUND);
	assert_null(r);
	assert_non_null(strstr(brain_errmsg(), "999"));

	brain_id ids[4];
	float scores[4];
	size_t found = 99;
	assert_int_equal(brain_recall_ids(b, "which animal sleeps all day", 4, ids, scores, &found), 0);
	assert_true(found >= 1);
	assert_int_equal(ids[0], id1);
	for (size_t i = 1; i < found; i++)
		assert_true(scores[i - 1] >= scores[i]);
	/* scores may be NULL */
	assert_int_equal(brain_recall_ids(b, "dogs", 1, ids, NULL, &found), 0);
	assert_int_equal(found, 1);
	assert_int_equal(ids[0], id2);
	brain_destroy(b);
}

/* brain_results_read() copies what the accessors return, entry by entry. */
static void test_api__results_read_matches_accessors(void **state)
{
	(void)state;
	brain_t *b = brain_create();
	assert_non_null(b);
	brain_id id = 0;
	assert_int_equal(brain_remember_with(b, "Cats sleep for most of the day.", 0.25f,
	                                     "{\"kind\":\"cat\"}", &id),
	                 0);
	assert_int_equal(brain_upsert(b, "pet:dog", "Dogs like long walks.", 21, NULL, 0.75f, NULL,
	                              NULL),
	                 0);
	assert_int_equal(brain_remember(b, "Parrots can live for decades.", 0.5f), 0);
	brain_results *r = NULL;
	assert_int_equal(brain_list(b, NULL, BRAIN_ID_NONE, 10, &r), 0);
	size_t n = brain_results_count(r);
	assert_int_equal(n, 3);
	brain_result out[4];
	memset(out, 0xAB, sizeof out);
	size_t filled = 99;
	assert_int_equal(brain_results_read(r, 0, 4, BRAIN_RESULT_VERSION, out, &filled), 0);
	assert_int_equal(filled, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(out[i].id, brain_results_id(r, i));
		assert_true(out[i].score == brain_results_score(r, i));
		assert_true(out[i].importance == brain_results_importance(r, i));
		assert_int_equal(out[i].created_ms, brain_results_created(r, i));
		assert_int_equal(out[i].accessed_ms, brain_results_accessed(r, i));
		assert_ptr_equal(out[i].text, brain_results_text(r, i));
		assert_int_equal(out[i].text_len, brain_results_text_len(r, i));
		assert_string_equal(out[i].metadata, brain_results_metadata(r, i));
		assert_ptr_equal(out[i].key, brain_results_key(r, i));
		assert_ptr_equal(out[i].document, brain_results_document(r, i));
	}
	/* a window; past the end; nothing asked */
	assert_int_equal(brain_results_read(r, 2, 4, BRAIN_RESULT_VERSION, out, &filled), 0);
	assert_int_equal(filled, 1);
	assert_int_equal(out[0].id, brain_results_id(r, 2));
	assert_int_equal(brain_results_read(r, 3, 4, BRAIN_RESULT_VERSION, out, &filled), 0);
	assert_int_equal(filled, 0);
	assert_int_equal(brain_results_read(r, 0, 0, BRAIN_RESULT_VERSION, NULL, &filled), 0);
	assert_int_equal(filled, 0);
	/* errors */
	assert_int_equal(brain_results_read(NULL, 0, 1, BRAIN_RESULT_VERSION, out, &filled),
	                 BRAIN_ENULL);
	assert_int_equal(brain_results_read(r, 0, 1, BRAIN_RESULT_VERSION, NULL, NULL), BRAIN_ENULL);
	assert_int_equal(brain_results_read(r, 0, 1, BRAIN_RESULT_VERSION + 1, out, &filled),
	                 BRAIN_EVERSION);
	assert_non_null(strstr(brain_errmsg(), "version"));
	assert_int_equal(brain_results_read(r, 0, 1, 0, out, NULL), BRAIN_EVERSION);
	brain_results_free(r);
	brain_destroy(b);
}

static void test_api__recall_touches_access_time(void **state)
{
	(void)state;
	brain_t *b = brain_create();
	brain_id id;
	assert_int_equal(brain_remember_ex(b, "The kettle is in the left cupboard.", NULL, 0.5f, &id),
	                 0);
	brain_results *r = NULL;
	assert_int_equal(brain_get(b, id, &r), 0);
	int64_t before = brain_results_accessed(r, 0);
	brain_results_free(r);
	struct timespec ts = {0, 20 * 1000000};
	nanosleep(&ts, NULL);
	assert_int_equal(brain_recall_results(b, "where is the kettle", 1, &r), 0);
	assert_int_equal(brain_results_count(r), 1);
	int64_t touched = brain_results_accessed(r, 0);
	brain_results_free(r);
	assert_true(touched > before);
	/* get does not touch */
	assert_int_equal(brain_get(b, id, &r), 0);
	assert_int_equal(brain_results_accessed(r, 0), touched);
	brain_results_free(r);
	brain_destroy(b);
}

static void test_api__forget(void **state)
{
	(void)state;
	brain_t *b = with_facts();
	brain_id ids[5];
	size_t found;
	assert_int_equal(brain_recall_ids(b, "potassium bananas", 1, ids, NULL, &found), 0);
	assert_int_equal(found, 1);
	brain_id banana = ids[0];
	assert_int_equal(brain_forget(b, banana), 0);
	assert_int_equal(brain_count(b), 4);
	assert_int_equal(brain_forget(b, banana), BRAIN_ENOTFOUND);
	assert_int_equal(brain_recall_ids(b, "potassium bananas", 5, ids, NULL, &found), 0);
	for (size_t i = 0; i < found; i++)
		assert_true(ids[i] != banana);
	brain_results *r;
	assert_int_equal(brain_get(b, banana, &r), BRAIN_ENOTFOUND);
	/* a new memory gets a new id, never the forgotten one */
	brain_id fresh;
	assert_int_equal(brain_remember_ex(b, "Kiwis have more vitamin C than oranges.", NULL, 0.5f,
	                                   &fresh),
	                 0);
	assert_true(fresh > banana);
	assert_int_equal(brain_forget(NULL, 1), BRAIN_ENULL);
	brain_destroy(b);
}

static void test_api__importance_ranks_equal_matches(void **state)
{
	(void)state;
	brain_t *b = brain_create();
	brain_id low, high;
	assert_int_equal(brain_remember_ex(b, "The meeting is on Tuesday.", NULL, 0.1f, &low), 0);
	assert_int_equal(brain_remember_ex(b, "The meeting is on Tuesday.", NULL, 0.9f, &high), 0);
	brain_id ids[2];
	float scores[2];
	size_t found;
	assert_int_equal(brain_recall_ids(b, "when is the meeting", 2, ids, scores, &found), 0);
	assert_int_equal(found, 2);
	assert_int_equal(ids[0], high);
	assert_true(scores[0] > scores[1]);
	/* without the importance weight, equal scores go to the smaller id */
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_RECALL_IMPORTANCE_WEIGHT, 0), 0);
	assert_int_equal(brain_recall_ids(b, "when is the meeting", 2, ids, scores, &found), 0);
	assert_int_equal(ids[0], low);
	assert_true(scores[0] == scores[1]);
	brain_destroy(b);
}

static void test_api__min_score(void **state)
{
	(void)state;
	brain_t *b = with_facts();
	brain_id ids[5];
	float scores[5];
	size_t found;
	assert_int_equal(brain_recall_ids(b, "eiffel tower height", 5, ids, scores, &found), 0);
	assert_true(found >= 1);
	float top = scores[0];
	/* raise the bar just above the best score: nothing passes */
	int64_t bar = (int64_t)ceilf(top * 1000.0f) + 1;
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_RECALL_MIN_SCORE, bar), 0);
	assert_int_equal(brain_recall_ids(b, "eiffel tower height", 5, ids, scores, &found), 0);
	assert_int_equal(found, 0);
	/* lowest bar: every memory with text comes back */
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_RECALL_MIN_SCORE, -1000), 0);
	assert_int_equal(brain_recall_ids(b, "eiffel tower height", 5, ids, scores, &found), 0);
	assert_int_equal(found, 5);
	brain_destroy(b);
}

static void test_api__bad_inputs(void **state)
{
	(void)state;
	brain_t *b = brain_create();
	char out[64];
	brain_id ids[2];
	size_t found;
	brain_results *r = (brain_results *)0x1;

	assert_int_equal(brain_remember(NULL, "x", 0.5f), BRAIN_ENULL);
	assert_int_equal(brain_remember(b, NULL, 0.5f), BRAIN_ENULL);
	assert_int_equal(brain_remember(b, "", 0.5f), BRAIN_EEMPTY);
	assert_int_equal(brain_remember(b, "  ... !!! ", 0.5f), BRAIN_EEMPTY);
	assert_non_null(strstr(brain_errmsg(), "index"));
	assert_int_equal(brain_remember(b, "caf\xc3", 0.5f), BRAIN_EUTF8);
	assert_int_equal(brain_remember(b, "\xed\xa0\x80 surrogate", 0.5f), BRAIN_EUTF8);
	assert_int_equal(brain_remember(b, "\xc0\xaf overlong", 0.5f), BRAIN_EUTF8);
	assert_int_equal(brain_remember(b, "ok", -0.01f), BRAIN_ERANGE);
	assert_int_equal(brain_remember(b, "ok", 1.01f), BRAIN_ERANGE);
	assert_int_equal(brain_remember(b, "ok", NAN), BRAIN_ERANGE);
	assert_int_equal(brain_remember(b, "ok", INFINITY), BRAIN_ERANGE);
	assert_int_equal(brain_count(b), 0); /* nothing got in */

	/* over the limit: an error naming the limit, never a cut */
	size_t big = BRAIN_DEFAULT_MAX_TEXT_BYTES + 1;
	char *huge = malloc(big + 1);
	memset(huge, 'a', big);
	huge[big] = '\0';
	assert_int_equal(brain_remember(b, huge, 0.5f), BRAIN_ETOOLONG);
	assert_non_null(strstr(brain_errmsg(), "65536"));
	huge[big - 1] = '\0'; /* exactly at the limit: accepted */
	assert_int_equal(brain_remember(b, huge, 0.5f), 0);
	free(huge);

	assert_null(brain_recall(b, NULL, 3));
	assert_int_equal(brain_errcode(), BRAIN_ENULL);
	assert_null(brain_recall(b, "q", 0));
	assert_int_equal(brain_errcode(), BRAIN_ERANGE);
	assert_null(brain_recall(b, "q", -5));
	assert_int_equal(brain_errcode(), BRAIN_ERANGE);
	assert_null(brain_recall(b, "", 3));
	assert_int_equal(brain_errcode(), BRAIN_EEMPTY);
	assert_null(brain_recall(b, "???", 3));
	assert_int_equal(brain_errcode(), BRAIN_EEMPTY);

	assert_int_equal(brain_recall_ids(b, "q", 0, ids, NULL, &found), BRAIN_ERANGE);
	assert_int_equal(brain_recall_ids(b, "q", 2, NULL, NULL, &found), BRAIN_ENULL);
	assert_int_equal(brain_recall_ids(b, "q", 2, ids, NULL, NULL), BRAIN_ENULL);
	assert_int_equal(brain_recall_results(b, "q", 2, NULL), BRAIN_ENULL);
	assert_int_equal(brain_recall_results(NULL, "q", 2, &r), BRAIN_ENULL);
	assert_null(r);
	assert_int_equal(brain_get(b, 1, NULL), BRAIN_ENULL);
	assert_int_equal(brain_get(NULL, 1, &r), BRAIN_ENULL);

	assert_int_equal(brain_think(NULL, "x", out, sizeof out), BRAIN_ENULL);
	assert_int_equal(brain_think(b, NULL, out, sizeof out), BRAIN_ENULL);
	assert_int_equal(brain_think(b, "x", NULL, sizeof out), BRAIN_ENULL);
	assert_int_equal(brain_think(b, "x", out, 0), BRAIN_EBUFSIZE);
	assert_non_null(strstr(brain_errmsg(), "0"));
	out[0] = 'Z';
	assert_int_equal(brain_think(b, "x", out, 1), BRAIN_EBUFSIZE);
	assert_int_equal(out[0], '\0');
	assert_int_equal(brain_think(b, "\xff", out, sizeof out), BRAIN_EUTF8);
	assert_int_equal(brain_think_ex(b, "x", NULL), BRAIN_ENULL);
	brain_destroy(b);
}

static void test_api__caller_vectors_and_no_embedder(void **state)
{
	(void)state;
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.dimensions = 4;
	o.embedder = BRAIN_EMBEDDER_NONE;
	brain_t *b = NULL;
	assert_int_equal(brain_open(NULL, &o, &b), 0);
	assert_int_equal(brain_remember(b, "no vector, no embedder", 0.5f), BRAIN_ENOEMBEDDER);
	const float v1[4] = {1, 0, 0, 0}, v2[4] = {0, 1, 0, 0};
	const float nan_v[4] = {0, NAN, 0, 0}, zero[4] = {0, 0, 0, 0};
	brain_id id1, id2;
	assert_int_equal(brain_remember_ex(b, "first", v1, 0.5f, &id1), 0);
	assert_int_equal(brain_remember_ex(b, "second", v2, 0.5f, &id2), 0);
	assert_int_equal(brain_remember_ex(b, "bad", nan_v, 0.5f, NULL), BRAIN_ENONFINITE);
	assert_int_equal(brain_remember_ex(b, "bad", zero, 0.5f, NULL), BRAIN_EZEROVEC);
	assert_null(brain_recall(b, "first", 1));
	assert_int_equal(brain_errcode(), BRAIN_ENOEMBEDDER);
	/* vector search still finds text memories */
	uint64_t ids[2];
	size_t found;
	assert_int_equal(brain_search(b, v2, 1, ids, NULL, &found), 0);
	assert_int_equal(ids[0], id2);
	brain_close(b);
}

/* A user embedder: one dimension per first letter. */
static int letter_embedder(const char *text, size_t len, float *vec, size_t dims, void *payload)
{
	int *calls = payload;
	(*calls)++;
	assert_true(len == strlen(text));
	memset(vec, 0, dims * sizeof *vec);
	vec[(unsigned char)text[0] % dims] = 2.0f; /* not unit: the brain normalises */
	return (int)dims;
}

static int wrong_dims(const char *text, size_t len, float *vec, size_t dims, void *payload)
{
	(void)text;
	(void)len;
	(void)payload;
	memset(vec, 0, dims * sizeof *vec);
	return (int)dims + 1;
}

static int failing(const char *text, size_t len, float *vec, size_t dims, void *payload)
{
	(void)text;
	(void)len;
	(void)vec;
	(void)dims;
	(void)payload;
	return -42;
}

static int nan_out(const char *text, size_t len, float *vec, size_t dims, void *payload)
{
	(void)text;
	(void)len;
	(void)payload;
	for (size_t i = 0; i < dims; i++)
		vec[i] = i == 3 ? NAN : 1.0f;
	return (int)dims;
}

static void test_api__user_embedder(void **state)
{
	(void)state;
	brain_t *b = brain_create();
	int calls = 0;
	assert_int_equal(brain_set_embedder(b, wrong_dims, NULL), BRAIN_EDIM);
	assert_non_null(strstr(brain_errmsg(), "385"));
	assert_int_equal(brain_set_embedder(b, failing, NULL), BRAIN_EEMBEDDER);
	assert_non_null(strstr(brain_errmsg(), "-42"));
	assert_int_equal(brain_set_embedder(b, nan_out, NULL), BRAIN_ENONFINITE);
	assert_int_equal(brain_set_embedder(b, letter_embedder, &calls), 0);
	assert_int_equal(calls, 1); /* the probe */
	assert_int_equal(brain_remember(b, "apple", 0.5f), 0);
	assert_int_equal(brain_remember(b, "banana", 0.5f), 0);
	assert_int_equal(calls, 3);
	char **r = brain_recall(b, "avocado", 2);
	assert_non_null(r);
	assert_string_equal(r[0], "apple");
	assert_null(r[1]); /* banana is orthogonal: score 0, not above the minimum */
	free(r);
	uint64_t n = 0;
	float v[384];
	assert_int_equal(brain_get_vector(b, 1, v), 0);
	for (int i = 0; i < 384; i++)
		n += v[i] != 0.0f;
	assert_int_equal(n, 1);
	assert_true(fabsf(v['a' % 384] - 1.0f) < 1e-6f);
	/* a brain with memories keeps its embedder */
	assert_int_equal(brain_set_embedder(b, NULL, NULL), BRAIN_ESTATE);
	assert_int_equal(brain_set_embedder(NULL, NULL, NULL), BRAIN_ENULL);
	brain_destroy(b);

	/* an embedder that fails later fails the call, and nothing is stored */
	b = brain_create();
	calls = 0;
	assert_int_equal(brain_set_embedder(b, letter_embedder, &calls), 0);
	assert_int_equal(brain_set_embedder(b, NULL, NULL), 0); /* back to the built-in */
	assert_int_equal(brain_remember(b, "apple", 0.5f), 0);
	assert_int_equal(calls, 1); /* only the probe: the built-in embedded apple */
	brain_destroy(b);
}

/* A word of one character has two features; where they cancel in their
 * dimension the text must still be remembered (and found). */
static void test_api__one_character_texts(void **state)
{
	(void)state;
	brain_t *b = brain_create();
	/* 21,000 texts would pass AUTO's threshold: the graph is test_hnsw's
	 * subject, and building it under TSan takes minutes */
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_HNSW_EXACT_BELOW, 1000000), 0);
	char text[8];
	for (uint32_t cp = 0x4E00; cp <= 0x9FFF; cp++) {
		text[0] = (char)(0xE0 | cp >> 12);
		text[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		text[2] = (char)(0x80 | (cp & 0x3F));
		text[3] = '\0';
		if (brain_remember(b, text, 0.5f) != 0)
			fail_msg("U+%04X: %s", (unsigned)cp, brain_errmsg());
	}
	assert_int_equal(brain_count(b), 0x9FFF - 0x4E00 + 1);
	brain_destroy(b);

	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.dimensions = 16; /* collisions are frequent here */
	assert_int_equal(brain_open(NULL, &o, &b), 0);
	for (int c = 33; c < 127; c++) {
		text[0] = (char)c;
		text[1] = '\0';
		int rc = brain_remember(b, text, 0.5f);
		bool word = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
		assert_int_equal(rc, word ? 0 : BRAIN_EEMPTY);
		if (word) {
			brain_id id;
			size_t found;
			assert_int_equal(brain_recall_ids(b, text, 1, &id, NULL, &found), 0);
			assert_int_equal(found, 1);
		}
	}
	brain_close(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_api__seed_remember_and_recall),
		cmocka_unit_test(test_api__recall_on_empty_brain),
		cmocka_unit_test(test_api__ids_results_and_get),
		cmocka_unit_test(test_api__results_read_matches_accessors),
		cmocka_unit_test(test_api__recall_touches_access_time),
		cmocka_unit_test(test_api__forget),
		cmocka_unit_test(test_api__importance_ranks_equal_matches),
		cmocka_unit_test(test_api__min_score),
		cmocka_unit_test(test_api__bad_inputs),
		cmocka_unit_test(test_api__caller_vectors_and_no_embedder),
		cmocka_unit_test(test_api__user_embedder),
		cmocka_unit_test(test_api__one_character_texts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
