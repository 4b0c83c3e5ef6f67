/*
 * tests/test_accounting.c - every allocation a brain makes is counted
 * against that brain (base/alloc.c), and brain_get_stats reports it.
 *
 * The reference is the allocator hook itself: a hook that counts the bytes
 * it hands out sees every block, so what it holds minus what the brains'
 * accounts say they hold (plus each block's header) must not move while a
 * brain works. Any allocation made outside a brain's scope would move it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine/handle.h"
#include "test_alloc.h"
#include "test_util.h"

static int setup(void **state)
{
	(void)state;
	return test_bytes_install();
}

static int teardown(void **state)
{
	(void)state;
	return brain_set_allocator(NULL);
}

/* What the hook holds that no brain's account explains. */
static long long unexplained(brain_t *const *brains, size_t n)
{
	long long explained = 0;
	for (size_t i = 0; i < n; i++) {
		brain_mem_usage u;
		brain__mem_usage(brains[i]->mem, &u);
		explained += (long long)u.total + 16 * (long long)u.allocations;
	}
	return test_bytes_live() - explained;
}

static brain_stats stats_of(brain_t *b)
{
	brain_stats st;
	assert_int_equal(brain_stats_init(&st, BRAIN_STATS_VERSION), 0);
	assert_int_equal(brain_get_stats(b, &st), 0);
	return st;
}

static void remember_many(brain_t *b, int from, int n)
{
	char text[96];
	for (int i = from; i < from + n; i++) {
		snprintf(text, sizeof text, "memory %d about topic %d and a word %d", i, i % 17,
		         i * 7919 % 1000);
		assert_int_equal(brain_remember(b, text, 0.5f), 0);
	}
}

/* Every allocation of a brain at work, on every path, is counted: open,
 * remember, recall, think, results, forget, vectors, checkpoints, close. */
static void check_every_allocation_is_counted(const char *path)
{
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.dimensions = 64;
	o.sync = BRAIN_SYNC_FULL;
	brain_t *b = NULL;
	assert_int_equal(brain_open(path, &o, &b), 0);
	long long base = unexplained(&b, 1);
	/* the account itself (allocated without a header) is all */
	assert_true(base > 0 && base < 1024);
	uint64_t unscoped = brain__mem_unscoped(); /* transient blocks too */

	remember_many(b, 0, 300);
	assert_int_equal(unexplained(&b, 1), base);
	char **r = brain_recall(b, "topic 3", 5);
	assert_non_null(r);
	brain_strings_free(r); /* made by malloc(), not the hook */
	brain_results *res = NULL;
	assert_int_equal(brain_recall_results(b, "a word 12", 4, &res), 0);
	assert_int_equal(unexplained(&b, 1), base);
	char out[256];
	assert_true(brain_think(b, "what about topic 5?", out, sizeof out) >= 0);
	assert_int_equal(unexplained(&b, 1), base);
	for (brain_id id = 1; id <= 100; id++)
		assert_int_equal(brain_forget(b, id), 0);
	float v[64] = {1.0f};
	assert_int_equal(brain_add(b, 100000, v), 0);
	v[1] = 2.0f;
	assert_int_equal(brain_update_vector(b, 100000, v), 0);
	uint64_t ids[4];
	float d[4];
	size_t found = 0;
	assert_int_equal(brain_search(b, v, 4, ids, d, &found), 0);
	assert_int_equal(brain_checkpoint(b), 0);
	assert_int_equal(unexplained(&b, 1), base);
	brain_results *got = NULL;
	assert_int_equal(brain_get(b, 200, &got), 0);
	brain_results_free(got);
	brain_results *th = NULL;
	assert_int_equal(brain_think_ex(b, "and topic 9?", &th), 0);
	brain_results_free(th);
	uint64_t allowed[2] = {100000, 150};
	assert_int_equal(brain_search_ids(b, v, 2, allowed, 2, ids, d, &found), 0);
	assert_int_equal(brain_remember_ex(b, "with its own vector", v, 0.3f, NULL), 0);
	assert_int_equal(brain_forget(b, 100000), 0);
	assert_int_equal(brain__mem_unscoped(), unscoped);

	brain_stats st = stats_of(b);
	assert_true(st.heap_bytes > 0);
	assert_true(st.heap_peak_bytes >= st.heap_bytes);
	assert_true(st.heap_records_bytes > 0);
	assert_true(st.heap_index_bytes > 0);
	assert_true(st.heap_embedder_bytes > 0);
	assert_true(st.heap_results_bytes > 0); /* res is alive */
	assert_int_equal(st.heap_bytes, st.heap_records_bytes + st.heap_index_bytes +
	                                    st.heap_embedder_bytes + st.heap_log_bytes +
	                                    st.heap_results_bytes + st.heap_other_bytes);
	if (path)
		assert_true(st.heap_log_bytes > 0);

	/* results outlive their brain: counted until freed, then the account
	 * goes too, and nothing is left */
	assert_int_equal(brain_close(b), 0);
	assert_true(brain_results_count(res) > 0);
	assert_non_null(brain_results_text(res, 0));
	assert_true(test_bytes_live() > 0);
	brain_results_free(res);
	assert_int_equal(test_bytes_live(), 0);
}

static void test_accounting__every_allocation_is_counted(void **state)
{
	(void)state;
	check_every_allocation_is_counted(NULL);
}

static void test_accounting__every_allocation_is_counted_on_disk(void **state)
{
	(void)state;
	char dir[] = "/tmp/braincore-accounting-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[64];
	snprintf(path, sizeof path, "%s/b", dir);
	check_every_allocation_is_counted(path);
	/* reopening replays and maps: counted too */
	brain_t *b = NULL;
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.dimensions = 64;
	assert_int_equal(brain_open(path, &o, &b), 0);
	assert_true(unexplained(&b, 1) < 1024);
	assert_int_equal(brain_count(b), 301 - 100);
	assert_int_equal(brain_close(b), 0);
	assert_int_equal(test_bytes_live(), 0);
	test_remove_tree(dir);
}

/* Two brains in one process are counted apart, and forgetting gives the
 * bytes back. */
static void test_accounting__brains_are_counted_apart(void **state)
{
	(void)state;
	brain_t *b[2] = {NULL, NULL};
	assert_int_equal(brain_open(NULL, NULL, &b[0]), 0);
	assert_int_equal(brain_open(NULL, NULL, &b[1]), 0);
	long long base = unexplained(b, 2);
	remember_many(b[0], 0, 2000);
	remember_many(b[1], 0, 20);
	assert_int_equal(unexplained(b, 2), base);
	brain_stats big = stats_of(b[0]), small = stats_of(b[1]);
	/* at least the 1980 more texts (each over 30 bytes) */
	assert_true(big.heap_records_bytes >= small.heap_records_bytes + 1980 * 30);
	assert_true(big.heap_bytes > big.heap_records_bytes);
	/* forgetting gives back what the texts held */
	for (brain_id id = 1; id <= 2000; id++)
		assert_int_equal(brain_forget(b[0], id), 0);
	brain_stats after = stats_of(b[0]);
	assert_true(after.heap_records_bytes < big.heap_records_bytes);
	assert_true(after.heap_peak_bytes >= big.heap_bytes);
	/* closing one leaves the other's numbers alone */
	brain_stats before = stats_of(b[1]);
	assert_int_equal(brain_close(b[0]), 0);
	brain_stats now = stats_of(b[1]);
	assert_int_equal(now.heap_bytes, before.heap_bytes);
	assert_int_equal(brain_close(b[1]), 0);
	assert_int_equal(test_bytes_live(), 0);
}

/* The threads a batch build starts count against the brain too. */
static void test_accounting__build_threads_are_counted(void **state)
{
	(void)state;
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.dimensions = 16;
	o.embedder = BRAIN_EMBEDDER_NONE;
	o.index = BRAIN_INDEX_HNSW;
	brain_t *b = NULL;
	assert_int_equal(brain_open(NULL, &o, &b), 0);
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_THREADS, 2), 0);
	enum { N = 3000 };
	uint64_t *ids = malloc(N * sizeof *ids);
	float *rows = malloc(N * 16 * sizeof *rows);
	assert_non_null(ids);
	assert_non_null(rows);
	for (size_t i = 0; i < N; i++) {
		ids[i] = i + 1;
		for (size_t d = 0; d < 16; d++)
			rows[i * 16 + d] = (float)((i * 31 + d * 7) % 23) - 11.0f + (float)d * 0.1f;
	}
	long long base = unexplained(&b, 1);
	uint64_t unscoped = brain__mem_unscoped();
	assert_int_equal(brain_add_batch(b, ids, rows, N), 0);
	assert_int_equal(brain__mem_unscoped(), unscoped);
	assert_int_equal(unexplained(&b, 1), base);
	assert_true(stats_of(b).heap_index_bytes > N * 16 * sizeof(float));
	free(ids);
	free(rows);
	assert_int_equal(brain_close(b), 0);
}

/* A batch is stored without a prepared copy of all its rows: the peak of
 * the brain's heap during brain_add_batch stays far below the final size
 * plus the rows (what the copy cost), for the cosine metric too (whose
 * rows are normalised on the way in). */
static void test_accounting__batch_holds_no_copy_of_its_rows(void **state)
{
	(void)state;
	enum { N = 20000, D = 96 };
	uint64_t *ids = malloc(N * sizeof *ids);
	float *rows = malloc((size_t)N * D * sizeof *rows);
	assert_non_null(ids);
	assert_non_null(rows);
	uint64_t x = 88172645463325252ull;
	for (size_t i = 0; i < N; i++) {
		ids[i] = i + 1;
		for (size_t d = 0; d < D; d++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			rows[i * D + d] = (float)(x >> 40) / (float)(1u << 24) - 0.5f;
		}
	}
	const int metrics[] = {BRAIN_METRIC_COSINE, BRAIN_METRIC_L2};
	for (size_t mi = 0; mi < BRAIN_ARRAY_LEN(metrics); mi++) {
		brain_options o;
		brain_options_init(&o, BRAIN_OPTIONS_VERSION);
		o.dimensions = D;
		o.metric = metrics[mi];
		o.embedder = BRAIN_EMBEDDER_NONE;
		o.index = BRAIN_INDEX_HNSW;
		brain_t *b = NULL;
		assert_int_equal(brain_open(NULL, &o, &b), 0);
		assert_int_equal(brain_set_param(b, BRAIN_PARAM_HNSW_EF_CONSTRUCTION, 16), 0);
		assert_int_equal(brain_add_batch(b, ids, rows, N), 0);
		brain_stats st = stats_of(b);
		uint64_t copy = (uint64_t)N * D * sizeof(float);
		print_message("metric %d: heap %llu, peak %llu, a copy of the rows %llu\n",
		              metrics[mi], (unsigned long long)st.heap_bytes,
		              (unsigned long long)st.heap_peak_bytes, (unsigned long long)copy);
		assert_true(st.heap_index_bytes > copy);
		assert_true(st.heap_peak_bytes < st.heap_bytes + copy / 4);
		/* each stored row is the caller's, prepared (unit length for cosine) */
		for (size_t i = 0; i < N; i += 997) {
			float got[D];
			assert_int_equal(brain_get_vector(b, ids[i], got), 0);
			double ss = 0;
			for (size_t d = 0; d < D; d++)
				ss += (double)rows[i * D + d] * rows[i * D + d];
			double norm = metrics[mi] == BRAIN_METRIC_COSINE ? sqrt(ss) : 1.0;
			for (size_t d = 0; d < D; d++)
				assert_float_equal(got[d], rows[i * D + d] / norm, 1e-6);
		}
		assert_int_equal(brain_close(b), 0);
	}
	free(ids);
	free(rows);
}

/* A version-1 stats struct is written only as far as version 1 goes. */
static void test_accounting__stats_version_1_still_served(void **state)
{
	(void)state;
	brain_t *b = NULL;
	assert_int_equal(brain_open(NULL, NULL, &b), 0);
	remember_many(b, 0, 5);
	brain_stats st;
	memset(&st, 0xAB, sizeof st);
	assert_int_equal(brain_stats_init(&st, 1), 0);
	assert_int_equal(brain_get_stats(b, &st), 0);
	assert_int_equal(st.memories, 5);
	const unsigned char *tail = (const unsigned char *)&st.heap_bytes;
	for (size_t i = 0; i < sizeof st - offsetof(brain_stats, heap_bytes); i++)
		assert_int_equal(tail[i], 0xAB);
	assert_int_equal(brain_stats_init(&st, 0), BRAIN_EVERSION);
	assert_int_equal(brain_stats_init(&st, BRAIN_STATS_VERSION + 1), BRAIN_EVERSION);
	st.version = 99;
	assert_int_equal(brain_get_stats(b, &st), BRAIN_EVERSION);
	assert_int_equal(brain_close(b), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_accounting__every_allocation_is_counted, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_accounting__every_allocation_is_counted_on_disk,
		                                setup, teardown),
		cmocka_unit_test_setup_teardown(test_accounting__brains_are_counted_apart, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_accounting__build_threads_are_counted, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_accounting__batch_holds_no_copy_of_its_rows,
		                                setup, teardown),
		cmocka_unit_test_setup_teardown(test_accounting__stats_version_1_still_served, setup,
		                                teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
