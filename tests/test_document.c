/*
 * tests/test_document.c - documents (brain_remember_document): passages
 * as brain_chunk() cuts them, their "@doc" and "@part", recall that names
 * the document, a document replaced under its key in one change, forget
 * by key, the log and a checkpoint, bad input that changes nothing, and
 * out of memory at every allocation of a replacement.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "braincore.h"
#include "engine/change.h"
#include "engine/handle.h"
#include "test_alloc.h"
#include "test_util.h"

static const char g_handbook[] =
	"Resetting your password. Open the account page and choose Forgot password. "
	"A link arrives by e-mail within five minutes; it expires after one hour.\n\n"
	"Billing. Invoices are issued on the first day of each month. Dr. Ortiz in "
	"accounts answers questions about refunds, which take ten working days.\n\n"
	"Shipping. Parcels leave the warehouse in Rotterdam every weekday at noon. "
	"Orders placed after noon ship the next day. Tracking numbers come by text message.";

static const char g_recipes[] =
	"Bread needs flour, water, salt and yeast. Knead the dough for ten minutes. "
	"Let it rise until doubled, then bake at two hundred and twenty degrees.";

static brain_t *text_brain(const char *dir)
{
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.background = BRAIN_BACKGROUND_MANUAL;
	brain_t *b = NULL;
	assert_int_equal(brain_open(dir, &o, &b), 0);
	return b;
}

static uint64_t count_doc(brain_t *b, const char *key)
{
	brain_filter *f = brain_filter_string("@doc", BRAIN_FILTER_EQ, key);
	assert_non_null(f);
	uint64_t n = 0;
	assert_int_equal(brain_count_where(b, f, &n), 0);
	brain_filter_free(f);
	return n;
}

/* The document's passages are brain_chunk()'s spans, in order, with their
 * metadata. */
static void check_doc(brain_t *b, const char *key, const char *text, size_t max_bytes,
                      const char *kind)
{
	brain_span spans[64];
	size_t n = 0;
	assert_int_equal(brain_chunk(text, strlen(text), max_bytes, spans, 64, &n), 0);
	assert_int_equal(count_doc(b, key), n);
	brain_filter *f = brain_filter_string("@doc", BRAIN_FILTER_EQ, key);
	brain_results *r = NULL;
	assert_int_equal(brain_list(b, f, BRAIN_ID_NONE, 64, &r), 0);
	brain_filter_free(f);
	assert_int_equal(brain_results_count(r), n);
	for (size_t i = 0; i < n; i++) { /* ids in order: passages in order */
		const char *t = brain_results_text(r, i);
		assert_int_equal(strlen(t), spans[i].len);
		assert_memory_equal(t, text + spans[i].start, spans[i].len);
		assert_string_equal(brain_results_document(r, i), key);
		assert_null(brain_results_key(r, i));
		char want[256];
		if (kind)
			snprintf(want, sizeof want, "{\"@doc\":\"%s\",\"@part\":%zu,\"kind\":\"%s\"}", key, i,
			         kind);
		else
			snprintf(want, sizeof want, "{\"@doc\":\"%s\",\"@part\":%zu}", key, i);
		assert_string_equal(brain_results_metadata(r, i), want);
	}
	brain_results_free(r);
}

static void a_document_is_its_passages(void **state)
{
	(void)state;
	brain_t *b = text_brain(NULL);
	size_t parts = 0;
	assert_int_equal(brain_remember_document(b, "handbook", g_handbook, strlen(g_handbook), 0.5f,
	                                         "{\"kind\":\"manual\"}", 160, &parts),
	                 0);
	assert_true(parts >= 3);
	assert_int_equal(brain_count(b), parts);
	check_doc(b, "handbook", g_handbook, 160, "manual");
	assert_int_equal(brain_remember_document(b, "recipes", g_recipes, strlen(g_recipes), 0.5f,
	                                         NULL, 0, &parts),
	                 0);
	assert_int_equal(parts, 1); /* shorter than the default size */
	check_doc(b, "recipes", g_recipes, 0, NULL);

	/* a question in other words finds the passage, and names its document */
	brain_results *r = NULL;
	assert_int_equal(brain_recall_mode(b, "when are invoices sent out", 1, BRAIN_HYBRID, NULL,
	                                   &r),
	                 0);
	assert_string_equal(brain_results_document(r, 0), "handbook");
	assert_non_null(strstr(brain_results_text(r, 0), "Invoices"));
	brain_results_free(r);

	/* replaced under its key: the old passages go in the same change */
	const char *v2 = "Resetting your password now takes a code from the app. Billing moved to "
	                 "the fifteenth of each month.";
	assert_int_equal(brain_remember_document(b, "handbook", v2, strlen(v2), 0.5f, NULL, 64,
	                                         &parts),
	                 0);
	check_doc(b, "handbook", v2, 64, NULL);
	check_doc(b, "recipes", g_recipes, 0, NULL);
	assert_int_equal(brain_count(b), parts + 1);
	assert_int_equal(brain_recall_mode(b, "warehouse Rotterdam", 3, BRAIN_KEYWORD, NULL, &r), 0);
	assert_int_equal(brain_results_count(r), 0);
	brain_results_free(r);

	uint64_t gone = 0;
	assert_int_equal(brain_forget_document(b, "handbook", &gone), 0);
	assert_int_equal(gone, parts);
	assert_int_equal(brain_forget_document(b, "handbook", &gone), 0);
	assert_int_equal(gone, 0);
	assert_int_equal(brain_count(b), 1);
	brain_destroy(b);
}

static void documents_survive_the_log_and_checkpoints(void **state)
{
	(void)state;
	char dir[] = "/tmp/braincore-doc-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[64];
	snprintf(path, sizeof path, "%s/b", dir);
	brain_t *b = text_brain(path);
	assert_int_equal(brain_remember_document(b, "h", g_handbook, strlen(g_handbook), 0.5f,
	                                         "{\"kind\":\"manual\"}", 100, NULL),
	                 0);
	assert_int_equal(brain_remember_document(b, "r", g_recipes, strlen(g_recipes), 0.5f, NULL,
	                                         80, NULL),
	                 0);
	assert_int_equal(brain_remember_document(b, "h", g_handbook, strlen(g_handbook), 0.5f,
	                                         NULL, 300, NULL),
	                 0);
	assert_int_equal(brain_close(b), 0);
	b = text_brain(path); /* replayed */
	check_doc(b, "h", g_handbook, 300, NULL);
	check_doc(b, "r", g_recipes, 80, NULL);
	uint64_t before = brain_count(b);
	assert_int_equal(brain_checkpoint(b), 0);
	assert_int_equal(brain_remember_document(b, "r", g_handbook, strlen(g_handbook), 0.5f,
	                                         "{\"kind\":\"x\"}", 120, NULL),
	                 0);
	assert_int_equal(brain_close(b), 0);
	b = text_brain(path);
	check_doc(b, "h", g_handbook, 300, NULL);
	check_doc(b, "r", g_handbook, 120, "x");
	assert_true(brain_count(b) != before);
	assert_int_equal(brain_check(path, NULL, NULL), 0);
	brain_destroy(b);
	assert_int_equal(test_remove_tree(dir), 0);
}

static void bad_documents_change_nothing(void **state)
{
	(void)state;
	brain_t *b = text_brain(NULL);
	assert_int_equal(brain_remember_document(b, "d", g_recipes, strlen(g_recipes), 0.5f, NULL, 0,
	                                         NULL),
	                 0);
	const char *t = "A sentence. Another one.";
	size_t n = strlen(t), parts = 9;
	assert_int_equal(brain_remember_document(NULL, "d", t, n, 0.5f, NULL, 0, &parts),
	                 BRAIN_ENULL);
	assert_int_equal(parts, 0);
	assert_int_equal(brain_remember_document(b, NULL, t, n, 0.5f, NULL, 0, NULL), BRAIN_ENULL);
	assert_int_equal(brain_remember_document(b, "d", NULL, n, 0.5f, NULL, 0, NULL), BRAIN_ENULL);
	assert_int_equal(brain_remember_document(b, "", t, n, 0.5f, NULL, 0, NULL), BRAIN_EEMPTY);
	assert_int_equal(brain_remember_document(b, "d", t, 0, 0.5f, NULL, 0, NULL), BRAIN_EEMPTY);
	assert_int_equal(brain_remember_document(b, "d", " \n\t ", 4, 0.5f, NULL, 0, NULL),
	                 BRAIN_EEMPTY);
	assert_int_equal(brain_remember_document(b, "d", "ok \xff", 4, 0.5f, NULL, 0, NULL),
	                 BRAIN_EUTF8);
	assert_non_null(strstr(brain_errmsg(), "byte 3"));
	assert_int_equal(brain_remember_document(b, "d", "ok\0no", 5, 0.5f, NULL, 0, NULL),
	                 BRAIN_EUTF8);
	assert_int_equal(brain_remember_document(b, "d", t, n, 0.5f, NULL, 8, NULL), BRAIN_ERANGE);
	assert_int_equal(brain_remember_document(b, "d", t, n, 0.5f, NULL, 1u << 17, NULL),
	                 BRAIN_ERANGE); /* over the brain's max_text_bytes */
	assert_int_equal(brain_remember_document(b, "d", t, n, 2.0f, NULL, 0, NULL), BRAIN_ERANGE);
	assert_int_equal(brain_remember_document(b, "d", t, n, 0.5f, "{\"@doc\":1}", 0, NULL),
	                 BRAIN_EJSON);
	assert_int_equal(brain_remember_document(b, "d", t, n, 0.5f, "{", 0, NULL), BRAIN_EJSON);
	assert_int_equal(brain_remember_document(b, "d\xc3", t, n, 0.5f, NULL, 0, NULL), BRAIN_EUTF8);
	assert_int_equal(brain_forget_document(b, NULL, NULL), BRAIN_ENULL);
	check_doc(b, "d", g_recipes, 0, NULL);
	assert_int_equal(brain_count(b), 1);
	brain_destroy(b);
}

/* Out of memory at every allocation of a replacement: the old document
 * stays whole until the one allocation count at which it succeeds. */
static void out_of_memory_leaves_the_old_document(void **state)
{
	(void)state;
	assert_int_equal(test_alloc_install(), 0);
	brain_t *b = text_brain(NULL);
	assert_int_equal(brain_remember_document(b, "h", g_handbook, strlen(g_handbook), 0.5f, NULL,
	                                         120, NULL),
	                 0);
	assert_int_equal(brain_remember(b, "an unrelated note", 0.5f), 0);
	uint64_t count = brain_count(b);
	long n;
	for (n = 1;; n++) {
		test_alloc_arm(n);
		int rc = brain_remember_document(b, "h", g_recipes, strlen(g_recipes), 0.5f,
		                                 "{\"kind\":\"food\"}", 60, NULL);
		test_alloc_disarm();
		if (rc == 0)
			break;
		assert_int_equal(rc, BRAIN_ENOMEM);
		assert_int_equal(brain_count(b), count);
		check_doc(b, "h", g_handbook, 120, NULL);
	}
	assert_true(n > 5);
	check_doc(b, "h", g_recipes, 60, "food");
	brain_destroy(b);
	assert_int_equal(test_alloc_remove(), 0);
}

/* Log records of documents that cannot be right are refused, never
 * read past: sizes that add up only by wrapping, a span outside the
 * text, a record cut short. */
static int replay(brain_t *b, const void *rec, size_t len)
{
	brain__wrlock(b);
	int rc = brain__change_replay(b, BRAIN_CHANGE_DOCUMENT, 7, rec, len);
	brain__wrunlock(b);
	return rc;
}

static void bad_document_records_are_refused(void **state)
{
	(void)state;
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.dimensions = 4;
	o.embedder = BRAIN_EMBEDDER_NONE;
	o.metric = BRAIN_METRIC_L2;
	brain_t *b = NULL;
	assert_int_equal(brain_open(NULL, &o, &b), 0);
	unsigned char rec[512];
	memset(rec, 0, sizeof rec);
	brain_record_document h = {1, 1000, 5, 0.5f, 4, 1, 0, 1, 0};
	uint64_t span[2] = {0, 5};
	float v[4] = {1, 2, 3, 4};
	size_t at = 0;
	memcpy(rec + at, &h, sizeof h);
	at += sizeof h;
	memcpy(rec + at, span, sizeof span);
	at += sizeof span;
	memcpy(rec + at, v, sizeof v);
	at += sizeof v;
	memcpy(rec + at, "khello", 6);
	at += 6;
	/* the record as written is taken */
	assert_int_equal(replay(b, rec, at), 0);
	assert_int_equal(brain_count(b), 1);
	/* cut short, one byte at a time */
	for (size_t cut = 0; cut < at; cut++)
		assert_int_equal(replay(b, rec, cut), BRAIN_ECORRUPT);
	/* a text length that makes the sum wrap to the record's size */
	brain_record_document w = h;
	w.first_id = 2;
	w.text_len = 5 + (UINT64_MAX - 1023);
	w.key_len = 1024;
	memcpy(rec, &w, sizeof w);
	assert_int_equal(replay(b, rec, at), BRAIN_ECORRUPT);
	/* a span beyond the text */
	w = h;
	w.first_id = 2;
	memcpy(rec, &w, sizeof w);
	uint64_t far[2] = {UINT64_C(1) << 40, 5};
	memcpy(rec + sizeof w, far, sizeof far);
	assert_int_equal(replay(b, rec, at), BRAIN_ECORRUPT);
	assert_int_equal(brain_count(b), 1);
	brain_destroy(b);
}

/* Out of memory at every allocation of a replacement on disk (those
 * after its log record too, where the old passages are forgotten), then
 * another replacement and a reopen: whatever the failed one did or did
 * not do, the log replays into the last document. */
static void out_of_memory_then_reopen(void **state)
{
	(void)state;
	assert_int_equal(test_alloc_install(), 0);
	char dir[] = "/tmp/braincore-docoom-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[64];
	snprintf(path, sizeof path, "%s/b", dir);
	long n, made = 0;
	for (n = 1;; n++) {
		brain_t *b = text_brain(path);
		assert_int_equal(brain_remember_document(b, "h", g_handbook, strlen(g_handbook), 0.5f,
		                                         NULL, 120, NULL),
		                 0);
		test_alloc_arm(n);
		int rc = brain_remember_document(b, "h", g_recipes, strlen(g_recipes), 0.5f, NULL, 60,
		                                 NULL);
		bool fired = test_alloc_calls >= n; /* also after the log: in the finish */
		test_alloc_disarm();
		assert_true(rc == 0 || rc == BRAIN_ENOMEM);
		assert_int_equal(brain_remember_document(b, "h", g_handbook, strlen(g_handbook), 0.5f,
		                                         NULL, 200, NULL),
		                 0);
		check_doc(b, "h", g_handbook, 200, NULL);
		assert_int_equal(brain_close(b), 0);
		b = text_brain(path);
		check_doc(b, "h", g_handbook, 200, NULL);
		assert_int_equal(brain_count(b), count_doc(b, "h"));
		assert_int_equal(brain_close(b), 0);
		assert_int_equal(test_remove_tree(path), 0);
		made += rc == 0;
		if (!fired)
			break;
	}
	print_message("document replaced on disk: %ld fault points, %ld of them after its "
	              "record was logged\n", n - 1, made - 1);
	assert_true(made > 1); /* the finish was faulted too */
	assert_int_equal(test_remove_tree(dir), 0);
	assert_int_equal(test_alloc_remove(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_document_is_its_passages),
		cmocka_unit_test(documents_survive_the_log_and_checkpoints),
		cmocka_unit_test(bad_documents_change_nothing),
		cmocka_unit_test(out_of_memory_leaves_the_old_document),
		cmocka_unit_test(out_of_memory_then_reopen),
		cmocka_unit_test(bad_document_records_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
