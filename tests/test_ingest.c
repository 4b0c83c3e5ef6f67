/*
 * tests/test_ingest.c - the Stomach: asynchronous writes
 * (braincore/ingest.h). Queued writes are not made until the digester
 * runs (a tick, a flush, a close, or the Heart's worker); bad input is
 * refused when queued with the synchronous calls' errors; a full queue
 * pushes back; a write refused for good when made is reported by the next
 * flush; nothing queued is lost across a close. Each would fail if the
 * Stomach did nothing (or dropped writes).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "braincore.h"
#include "test_util.h"

#define D 8

static brain_stats stats_of(brain_t *b)
{
	brain_stats st;
	assert_int_equal(brain_stats_init(&st, BRAIN_STATS_VERSION), 0);
	assert_int_equal(brain_get_stats(b, &st), 0);
	return st;
}

static brain_t *open_text(const char *path, int background)
{
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.background = background;
	o.sync = BRAIN_SYNC_FULL;
	brain_t *b = NULL;
	assert_int_equal(brain_open(path, &o, &b), 0);
	return b;
}

static brain_t *open_vectors(int background)
{
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.dimensions = D;
	o.embedder = BRAIN_EMBEDDER_NONE;
	o.metric = BRAIN_METRIC_L2;
	o.background = background;
	brain_t *b = NULL;
	assert_int_equal(brain_open(NULL, &o, &b), 0);
	return b;
}

static void vec(uint64_t i, float *v)
{
	for (int d = 0; d < D; d++)
		v[d] = (float)((i * 31 + (uint64_t)d * 7) % 101) / 10.0f;
}

static void sleep_ms(long ms)
{
	struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&t, NULL);
}

/* Manual: queued writes wait, unseen, until a flush makes them. */
static void test_ingest__queued_until_flushed(void **state)
{
	(void)state;
	brain_t *b = open_text(NULL, BRAIN_BACKGROUND_MANUAL);
	char text[128];
	for (int i = 0; i < 100; i++) {
		snprintf(text, sizeof text, "Queued note %d about lighthouse number %d.", i, i * 3);
		assert_int_equal(brain_remember_async(b, text, 0.5f), 0);
	}
	assert_int_equal(brain_remember(b, "A lighthouse keeper wrote this at once.", 0.5f), 0);
	assert_int_equal(brain_count(b), 1);
	brain_stats st = stats_of(b);
	assert_int_equal(st.ingest_queued, 100);
	assert_int_equal(st.ingest_done, 0);
	char doc[2048];
	assert_true(brain_health_json(b, doc, sizeof doc) > 0);
	assert_non_null(strstr(doc, "\"ingest\":{\"queued\":100,\"done\":0,\"waited\":0}"));
	assert_int_equal(brain_flush(b), 0);
	assert_int_equal(brain_count(b), 101);
	st = stats_of(b);
	assert_int_equal(st.ingest_queued, 0);
	assert_int_equal(st.ingest_done, 100);
	/* searchable now */
	brain_id ids[3];
	float scores[3];
	size_t found = 0;
	assert_int_equal(brain_recall_ids(b, "Queued note 42 about lighthouse number 126.", 3, ids,
	                                  scores, &found),
	                 0);
	assert_true(found >= 1);
	brain_results *r = NULL;
	assert_int_equal(brain_get(b, ids[0], &r), 0);
	assert_string_equal(brain_results_text(r, 0), "Queued note 42 about lighthouse number 126.");
	brain_results_free(r);
	/* a tick makes them too */
	assert_int_equal(brain_remember_async(b, "One more, made by a tick.", 0.5f), 0);
	assert_int_equal(brain_count(b), 101);
	assert_int_equal(brain_tick(b), 0);
	assert_int_equal(brain_count(b), 102);
	assert_int_equal(brain_flush(b), 0); /* nothing left: at once */
	assert_int_equal(brain_close(b), 0);
}

/* Bad input is refused when queued, with the synchronous calls' errors,
 * and nothing is queued for it. */
static void test_ingest__bad_input_refused_when_queued(void **state)
{
	(void)state;
	brain_t *b = open_text(NULL, BRAIN_BACKGROUND_MANUAL);
	assert_int_equal(brain_remember_async(NULL, "x", 0.5f), BRAIN_ENULL);
	assert_int_equal(brain_remember_async(b, NULL, 0.5f), BRAIN_ENULL);
	assert_int_equal(brain_remember_async(b, "", 0.5f), brain_remember(b, "", 0.5f));
	assert_true(brain_remember(b, "", 0.5f) < 0);
	assert_int_equal(brain_remember_async(b, "bad \xff byte", 0.5f), BRAIN_EUTF8);
	assert_non_null(strstr(brain_errmsg(), "remember_async"));
	assert_int_equal(brain_remember_async(b, "fine", NAN), BRAIN_ERANGE);
	assert_int_equal(brain_remember_async(b, "fine", 1.5f), BRAIN_ERANGE);
	size_t big = 2u << 20;
	char *huge = malloc(big + 1);
	assert_non_null(huge);
	memset(huge, 'a', big);
	huge[big] = '\0';
	int rc = brain_remember_async(b, huge, 0.5f);
	assert_int_equal(rc, brain_remember(b, huge, 0.5f)); /* whatever remember says */
	free(huge);
	assert_int_equal(stats_of(b).ingest_queued, 0);
	assert_int_equal(brain_flush(NULL), BRAIN_ENULL);
	assert_int_equal(brain_close(b), 0);

	/* no embedder: text cannot be remembered, vectors can be added */
	brain_t *v = open_vectors(BRAIN_BACKGROUND_MANUAL);
	assert_int_equal(brain_remember_async(v, "text", 0.5f), BRAIN_ENOEMBEDDER);
	float x[D];
	vec(1, x);
	assert_int_equal(brain_add_async(v, 1, NULL), BRAIN_ENULL);
	assert_int_equal(brain_add_async(v, BRAIN_ID_NONE, x), BRAIN_EINVAL);
	x[3] = NAN;
	assert_int_equal(brain_add_async(v, 1, x), BRAIN_ENONFINITE);
	vec(1, x);
	assert_int_equal(brain_add(v, 1, x), 0);
	assert_int_equal(brain_add_async(v, 1, x), BRAIN_EEXISTS); /* in the brain */
	assert_int_equal(brain_add_async(v, 2, x), 0);
	assert_int_equal(brain_add_async(v, 2, x), BRAIN_EEXISTS); /* queued */
	assert_int_equal(stats_of(v).ingest_queued, 1);
	assert_int_equal(brain_flush(v), 0);
	assert_int_equal(brain_count(v), 2);
	assert_int_equal(brain_close(v), 0);
}

/* A full queue pushes back: at once with INGEST_WAIT_MS 0, after the wait
 * otherwise; what was queued is all made. */
static void test_ingest__full_queue_pushes_back(void **state)
{
	(void)state;
	brain_t *v = open_vectors(BRAIN_BACKGROUND_MANUAL);
	assert_int_equal(brain_set_param(v, BRAIN_PARAM_INGEST_QUEUE, 10), 0);
	assert_int_equal(brain_set_param(v, BRAIN_PARAM_INGEST_WAIT_MS, 0), 0);
	float x[D];
	for (uint64_t i = 1; i <= 10; i++) {
		vec(i, x);
		assert_int_equal(brain_add_async(v, i, x), 0);
	}
	vec(11, x);
	assert_int_equal(brain_add_async(v, 11, x), BRAIN_EFULL);
	assert_non_null(strstr(brain_errmsg(), "INGEST_QUEUE"));
	assert_int_equal(brain_set_param(v, BRAIN_PARAM_INGEST_WAIT_MS, 50), 0);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(brain_add_async(v, 11, x), BRAIN_EFULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double waited = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	assert_true(waited >= 45.0);
	assert_int_equal(stats_of(v).ingest_waited, 1); /* the first one failed at once */
	assert_int_equal(brain_flush(v), 0);
	assert_int_equal(brain_count(v), 10);
	assert_int_equal(brain_add_async(v, 11, x), 0); /* room again */
	assert_int_equal(brain_close(v), 0);              /* made by the close */
}

/* A write refused when made (its id taken by a brain_add meanwhile) is
 * reported by the next flush, once; the rest are made. */
static void test_ingest__refused_later_is_reported(void **state)
{
	(void)state;
	brain_t *v = open_vectors(BRAIN_BACKGROUND_MANUAL);
	float x[D];
	for (uint64_t i = 1; i <= 5; i++) {
		vec(i, x);
		assert_int_equal(brain_add_async(v, i, x), 0);
	}
	vec(3, x);
	assert_int_equal(brain_add(v, 3, x), 0);
	assert_int_equal(brain_flush(v), BRAIN_EEXISTS);
	assert_non_null(strstr(brain_errmsg(), "async write 3 refused"));
	assert_int_equal(brain_count(v), 5);
	assert_int_equal(brain_flush(v), 0);
	assert_int_equal(brain_close(v), 0);
}

/* Threads: the Heart's worker makes queued writes by itself, in order. */
static void test_ingest__background_makes_them(void **state)
{
	(void)state;
	brain_t *v = open_vectors(BRAIN_BACKGROUND_THREADS);
	float x[D];
	for (uint64_t i = 1; i <= 3000; i++) {
		vec(i, x);
		assert_int_equal(brain_add_async(v, i, x), 0);
		if (i % 500 == 0) /* forgotten once made: the order holds */
			assert_true(brain_count(v) <= i);
	}
	bool made = false;
	for (int tries = 0; tries < 2000 && !made; tries++) {
		made = stats_of(v).ingest_queued == 0;
		if (!made)
			sleep_ms(5);
	}
	assert_true(made);
	assert_int_equal(brain_count(v), 3000);
	assert_int_equal(brain_flush(v), 0);
	for (uint64_t i = 1; i <= 3000; i += 97) {
		float got[D];
		vec(i, x);
		assert_int_equal(brain_get_vector(v, i, got), 0);
		assert_memory_equal(got, x, sizeof x);
	}
	assert_int_equal(brain_close(v), 0);
}

/* On disk: a close makes what is queued, and it is there after a reopen;
 * what a flush acknowledged is in the log before any checkpoint. */
static void test_ingest__close_makes_the_queue(void **state)
{
	(void)state;
	char root[] = "/tmp/braincore-ingest-XXXXXX";
	assert_non_null(mkdtemp(root));
	char path[64];
	snprintf(path, sizeof path, "%s/b", root);
	brain_t *b = open_text(path, BRAIN_BACKGROUND_MANUAL);
	char text[128];
	for (int i = 0; i < 40; i++) {
		snprintf(text, sizeof text, "Flushed note %d on the tides.", i);
		assert_int_equal(brain_remember_async(b, text, 0.5f), 0);
	}
	assert_int_equal(brain_flush(b), 0);
	brain_stats st = stats_of(b);
	assert_int_equal(st.durable_lsn, st.last_lsn); /* FULL: fsynced by the flush */
	assert_true(st.last_lsn >= 40);
	for (int i = 0; i < 25; i++) {
		snprintf(text, sizeof text, "Queued at close, note %d on the tides.", i);
		assert_int_equal(brain_remember_async(b, text, 0.5f), 0);
	}
	assert_int_equal(brain_count(b), 40);
	assert_int_equal(brain_close(b), 0);
	b = open_text(path, BRAIN_BACKGROUND_MANUAL);
	assert_int_equal(brain_count(b), 65);
	assert_int_equal(brain_close(b), 0);
	assert_int_equal(test_remove_tree(root), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ingest__queued_until_flushed),
		cmocka_unit_test(test_ingest__bad_input_refused_when_queued),
		cmocka_unit_test(test_ingest__full_queue_pushes_back),
		cmocka_unit_test(test_ingest__refused_later_is_reported),
		cmocka_unit_test(test_ingest__background_makes_them),
		cmocka_unit_test(test_ingest__close_makes_the_queue),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
