/*
 * tests/test_heart.c - the Heart: one clock and one worker thread for every
 * on-disk brain of the process, and brain_tick() for brains that run
 * without threads (BRAIN_BACKGROUND_MANUAL). Each behaviour here would
 * fail if the Heart did nothing.
 */
#include <dirent.h>
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

static size_t threads_now(void)
{
	DIR *d = opendir("/proc/self/task");
	assert_non_null(d);
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void sleep_ms(long ms)
{
	struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&t, NULL);
}

static brain_stats stats_of(brain_t *b)
{
	brain_stats st;
	assert_int_equal(brain_stats_init(&st, BRAIN_STATS_VERSION), 0);
	assert_int_equal(brain_get_stats(b, &st), 0);
	return st;
}

static brain_options opts(int background)
{
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.dimensions = 8;
	o.embedder = BRAIN_EMBEDDER_NONE;
	o.sync = BRAIN_SYNC_NORMAL;
	o.background = background;
	return o;
}

static void add_some(brain_t *b, uint64_t from, int n)
{
	float v[8];
	for (int i = 0; i < n; i++) {
		for (int d = 0; d < 8; d++)
			v[d] = (float)((from + (uint64_t)i) * 7 % 13) + (float)d;
		assert_int_equal(brain_add(b, from + (uint64_t)i, v), 0);
	}
}

/* Manual: nothing happens by itself; brain_tick does the NORMAL fsync and
 * the checkpoint the log has grown into. */
static void test_heart__manual_brains_beat_by_tick(void **state)
{
	(void)state;
	char root[] = "/tmp/braincore-heart-XXXXXX";
	assert_non_null(mkdtemp(root));
	char path[64];
	snprintf(path, sizeof path, "%s/b", root);
	size_t before = threads_now();
	brain_options o = opts(BRAIN_BACKGROUND_MANUAL);
	brain_t *b = NULL;
	assert_int_equal(brain_open(path, &o, &b), 0);
	assert_int_equal(threads_now(), before); /* no thread at all */
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_SYNC_INTERVAL_MS, 1), 0);
	add_some(b, 1, 10);
	sleep_ms(20);
	brain_stats st = stats_of(b);
	assert_int_equal(st.last_lsn, 10);
	assert_true(st.durable_lsn < 10); /* nobody fsynced */
	assert_int_equal(brain_tick(b), 0);
	st = stats_of(b);
	assert_int_equal(st.durable_lsn, 10);
	/* a checkpoint when the log has grown */
	/* (past a quarter of the last checkpoint's size, too) */
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_CHECKPOINT_WAL_BYTES, 1), 0);
	add_some(b, 100, 300);
	sleep_ms(20);
	assert_int_equal(stats_of(b).checkpoints, 0);
	assert_int_equal(brain_tick(b), 0);
	st = stats_of(b);
	assert_int_equal(st.checkpoints, 1);
	assert_int_equal(st.checkpoint_lsn, 310);
	char doc[2048];
	assert_true(brain_health_json(b, doc, sizeof doc) > 0);
	assert_non_null(strstr(doc, "\"heart\":{\"background\":\"manual\",\"beats\":2}"));
	assert_int_equal(brain_tick(NULL), BRAIN_ENULL);
	assert_int_equal(brain_close(b), 0);
	brain_t *m = brain_create();
	assert_int_equal(brain_tick(m), 0); /* in memory: nothing to do */
	brain_destroy(m);
	assert_int_equal(test_remove_tree(root), 0);
}

/* Threads: ten brains share one clock and one worker; their NORMAL writes
 * become durable and their logs get checkpointed without a tick; the last
 * close stops both threads. */
static void test_heart__one_heart_for_every_brain(void **state)
{
	(void)state;
	char root[] = "/tmp/braincore-heart-XXXXXX";
	assert_non_null(mkdtemp(root));
	brain_t *b[10];
	brain_options o = opts(BRAIN_BACKGROUND_THREADS);
	for (int i = 0; i < 10; i++) {
		char path[64];
		snprintf(path, sizeof path, "%s/b%d", root, i);
		assert_int_equal(brain_open(path, &o, &b[i]), 0);
		assert_int_equal(brain_set_param(b[i], BRAIN_PARAM_SYNC_INTERVAL_MS, 5), 0);
		assert_int_equal(brain_set_param(b[i], BRAIN_PARAM_TICK_MS, 5), 0);
	}
	size_t with_brains = threads_now();
	for (int i = 0; i < 10; i++)
		add_some(b[i], 1, 4);
	assert_int_equal(brain_set_param(b[3], BRAIN_PARAM_CHECKPOINT_WAL_BYTES, 1), 0);
	add_some(b[3], 10, 300); /* past a quarter of its first checkpoint */
	/* within a few beats (generous, a loaded machine) */
	bool durable = false, checkpointed = false;
	for (int tries = 0; tries < 500 && !(durable && checkpointed); tries++) {
		sleep_ms(10);
		durable = true;
		for (int i = 0; i < 10; i++)
			durable = durable && stats_of(b[i]).durable_lsn == stats_of(b[i]).last_lsn;
		checkpointed = stats_of(b[3]).checkpoints >= 1;
	}
	assert_true(durable);
	assert_true(checkpointed);
	assert_int_equal(stats_of(b[4]).checkpoints, 0); /* only the one asked */
	for (int i = 0; i < 10; i++)
		assert_int_equal(brain_close(b[i]), 0);
	/* two threads for ten brains, gone with the last (a sanitizer's own
	 * thread, if any, was there in both counts) */
	assert_int_equal(with_brains, threads_now() + 2);
	assert_int_equal(test_remove_tree(root), 0);
}

/* Brains closed while the Heart beats them and their checkpoints are due,
 * queued or running (under the sanitizers: nothing touches a closed
 * brain), with another brain beating all along. */
static void test_heart__close_while_work_is_due(void **state)
{
	(void)state;
	char root[] = "/tmp/braincore-heart-XXXXXX";
	assert_non_null(mkdtemp(root));
	char keep_path[64];
	snprintf(keep_path, sizeof keep_path, "%s/keep", root);
	brain_options o = opts(BRAIN_BACKGROUND_THREADS);
	brain_t *keep = NULL;
	assert_int_equal(brain_open(keep_path, &o, &keep), 0);
	assert_int_equal(brain_set_param(keep, BRAIN_PARAM_TICK_MS, 1), 0);
	for (int round = 0; round < 20; round++) {
		char path[64];
		snprintf(path, sizeof path, "%s/b%d", root, round);
		brain_t *b = NULL;
		assert_int_equal(brain_open(path, &o, &b), 0);
		assert_int_equal(brain_set_param(b, BRAIN_PARAM_TICK_MS, 1), 0);
		assert_int_equal(brain_set_param(b, BRAIN_PARAM_CHECKPOINT_WAL_BYTES, 1), 0);
		add_some(b, 1, 300);
		if (round % 2)
			sleep_ms(round % 5);
		add_some(keep, (uint64_t)round * 1000 + 1, 2);
		assert_int_equal(brain_close(b), 0);
		assert_int_equal(brain_open(path, &o, &b), 0);
		assert_int_equal(brain_count(b), 300);
		assert_int_equal(brain_close(b), 0);
	}
	assert_int_equal(brain_count(keep), 40);
	assert_int_equal(brain_close(keep), 0);
	assert_int_equal(test_remove_tree(root), 0);
}

/* The options field: checked, and absent from a version-2 struct. */
static void test_heart__background_option(void **state)
{
	(void)state;
	brain_options o = opts(7);
	brain_t *b = NULL;
	assert_int_equal(brain_open(NULL, &o, &b), BRAIN_EINVAL);
	assert_null(b);
	brain_options v2;
	assert_int_equal(brain_options_init(&v2, 2), 0);
	v2.dimensions = 8;
	assert_int_equal(brain_open(NULL, &v2, &b), 0);
	brain_close(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_heart__manual_brains_beat_by_tick),
		cmocka_unit_test(test_heart__one_heart_for_every_brain),
		cmocka_unit_test(test_heart__close_while_work_is_due),
		cmocka_unit_test(test_heart__background_option),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
