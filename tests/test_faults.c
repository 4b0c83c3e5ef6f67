/*
 * tests/test_faults.c - out of memory at every allocation.
 *
 * An allocator hook fails the Nth allocation, for N = 1, 2, ... until the
 * operation succeeds. Every failure must be BRAIN_ENOMEM (or, for a few
 * paths, the clean error the message names) and leave the brain exactly as
 * it was: same count, same answers, same scores as a control brain that
 * never saw a failure. LeakSanitizer (the ASan run in CI) checks that
 * failed paths free what they took.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "braincore.h"
#include "braincore/sys/alloc.h"
#include "test_alloc.h"

static int setup(void **state)
{
	(void)state;
	return test_alloc_install();
}

static int teardown(void **state)
{
	(void)state;
	return test_alloc_remove();
}

static const char *const g_facts[] = {
	"Octopuses have three hearts and blue blood.",
	"The Great Wall of China is visible from low orbit only under ideal conditions.",
	"Espresso is brewed by forcing hot water through finely ground coffee.",
};

static brain_t *make(void)
{
	brain_t *b = brain_create();
	assert_non_null(b);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(brain_remember(b, g_facts[i], 0.5f), 0);
	return b;
}

/* Same answers and scores as the control brain, to the bit. */
static void assert_same(brain_t *b, brain_t *control)
{
	assert_int_equal(brain_count(b), brain_count(control));
	static const char *const queries[] = {"how many hearts does an octopus have",
	                                      "coffee brewing", "orbit wall", "blue"};
	for (size_t q = 0; q < 4; q++) {
		brain_id ia[8], ib[8];
		float sa[8], sb[8];
		size_t na, nb;
		assert_int_equal(brain_recall_ids(b, queries[q], 8, ia, sa, &na), 0);
		assert_int_equal(brain_recall_ids(control, queries[q], 8, ib, sb, &nb), 0);
		assert_int_equal(na, nb);
		for (size_t i = 0; i < na; i++) {
			assert_int_equal(ia[i], ib[i]);
			assert_true(sa[i] == sb[i]);
		}
	}
}

static void test_faults__open(void **state)
{
	(void)state;
	for (long n = 1;; n++) {
		brain_t *b = NULL;
		test_alloc_arm(n);
		int rc = brain_open(NULL, NULL, &b);
		test_alloc_disarm();
		if (rc == 0) {
			assert_true(n > 1);
			brain_close(b);
			break;
		}
		assert_int_equal(rc, BRAIN_ENOMEM);
		assert_null(b);
	}
}

static void test_faults__remember(void **state)
{
	(void)state;
	brain_t *b = make(), *control = make();
	const char *text = "Venus spins backwards compared with most planets.";
	long n;
	for (n = 1;; n++) {
		test_alloc_arm(n);
		brain_id id = 0;
		int rc = brain_remember_ex(b, text, NULL, 0.7f, &id);
		test_alloc_disarm();
		if (rc == 0) {
			assert_int_equal(id, 4);
			break;
		}
		assert_int_equal(rc, BRAIN_ENOMEM);
		assert_same(b, control); /* nothing half-remembered */
	}
	assert_true(n > 3);
	assert_int_equal(brain_remember(control, text, 0.7f), 0);
	assert_same(b, control);
	brain_destroy(b);
	brain_destroy(control);
}

static void test_faults__forget(void **state)
{
	(void)state;
	brain_t *b = make(), *control = make();
	for (long n = 1;; n++) {
		test_alloc_arm(n);
		int rc = brain_forget(b, 2);
		test_alloc_disarm();
		if (rc == 0)
			break;
		assert_int_equal(rc, BRAIN_ENOMEM);
		assert_same(b, control);
	}
	assert_int_equal(brain_forget(control, 2), 0);
	assert_same(b, control);
	brain_destroy(b);
	brain_destroy(control);
}

static void test_faults__recall_and_think(void **state)
{
	(void)state;
	brain_t *b = make(), *control = make();
	for (long n = 1;; n++) {
		brain_results *r = NULL;
		test_alloc_arm(n);
		int rc = brain_recall_results(b, "octopus hearts", 3, &r);
		test_alloc_disarm();
		if (rc == 0) {
			assert_int_equal(brain_results_id(r, 0), 1);
			brain_results_free(r);
			break;
		}
		assert_int_equal(rc, BRAIN_ENOMEM);
		assert_null(r);
	}
	for (long n = 1;; n++) {
		brain_results *r = NULL;
		test_alloc_arm(n);
		int rc = brain_think_ex(b, "Tell me about espresso.", &r);
		test_alloc_disarm();
		if (rc == 0) {
			assert_non_null(strstr(brain_results_answer(r), "Espresso"));
			brain_results_free(r);
			break;
		}
		assert_int_equal(rc, BRAIN_ENOMEM);
		assert_null(r);
	}
	char out[512];
	for (long n = 1;; n++) {
		test_alloc_arm(n);
		int rc = brain_think(b, "Tell me about espresso.", out, sizeof out);
		test_alloc_disarm();
		if (rc > 0)
			break;
		assert_int_equal(rc, BRAIN_ENOMEM);
		assert_string_equal(out, "");
	}
	for (long n = 1;; n++) {
		brain_results *r = NULL;
		test_alloc_arm(n);
		int rc = brain_get(b, 3, &r);
		test_alloc_disarm();
		if (rc == 0) {
			brain_results_free(r);
			break;
		}
		assert_int_equal(rc, BRAIN_ENOMEM);
	}
	assert_same(b, control);
	brain_destroy(b);
	brain_destroy(control);
}

static void test_faults__vectors(void **state)
{
	(void)state;
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.dimensions = 8;
	o.metric = BRAIN_METRIC_L2;
	o.embedder = BRAIN_EMBEDDER_NONE;
	brain_t *b = NULL;
	assert_int_equal(brain_open(NULL, &o, &b), 0);
	enum { N = 600 };
	uint64_t *ids = malloc(N * sizeof *ids);
	float *rows = malloc(N * 8 * sizeof *rows);
	for (int i = 0; i < N; i++) {
		ids[i] = (uint64_t)i * 3;
		for (int d = 0; d < 8; d++)
			rows[i * 8 + d] = (float)i * (d % 2 ? 1.0f : -0.5f) + (float)d; /* all distinct */
	}
	assert_int_equal(brain_add_batch(b, ids, rows, 10), 0);
	for (long n = 1;; n++) {
		test_alloc_arm(n);
		int rc = brain_add_batch(b, ids + 10, rows + 80, N - 10);
		test_alloc_disarm();
		if (rc == 0)
			break;
		assert_int_equal(rc, BRAIN_ENOMEM);
		assert_int_equal(brain_count(b), 10); /* all or nothing */
	}
	assert_int_equal(brain_count(b), N);
	for (long n = 1;; n++) {
		uint64_t got[5];
		size_t found = 9;
		test_alloc_arm(n);
		int rc = brain_search(b, rows + 8 * 100, 5, got, NULL, &found);
		test_alloc_disarm();
		if (rc == 0) {
			assert_int_equal(found, 5);
			assert_int_equal(got[0], 300);
			break;
		}
		assert_int_equal(rc, BRAIN_ENOMEM);
		assert_int_equal(found, 0);
	}
	for (long n = 1;; n++) {
		test_alloc_arm(n);
		int rc = brain_add(b, 99999, rows);
		test_alloc_disarm();
		if (rc == 0)
			break;
		assert_int_equal(rc, BRAIN_ENOMEM);
		assert_int_equal(brain_count(b), N);
	}
	free(ids);
	free(rows);
	brain_close(b);
}

static void test_faults__allocator_switch_refused_while_alive(void **state)
{
	(void)state;
	brain_t *b = brain_create();
	assert_int_equal(brain_set_allocator(NULL), BRAIN_EBUSY);
	brain_results *r = NULL;
	assert_int_equal(brain_remember(b, "one", 0.5f), 0);
	assert_int_equal(brain_get(b, 1, &r), 0);
	brain_destroy(b);
	assert_int_equal(brain_set_allocator(NULL), BRAIN_EBUSY); /* results still alive */
	brain_results_free(r);
	brain_allocator a;
	assert_int_equal(brain_allocator_init(&a, 2), BRAIN_EVERSION);
	assert_int_equal(brain_allocator_init(NULL, 1), BRAIN_ENULL);
	brain_allocator_init(&a, BRAIN_ALLOCATOR_VERSION);
	a.free = NULL;
	assert_int_equal(brain_set_allocator(&a), BRAIN_ENULL);
	a.free = test_alloc_free;
	a.version = 9;
	assert_int_equal(brain_set_allocator(&a), BRAIN_EVERSION);
	assert_int_equal(setup(NULL), 0); /* nothing alive: allowed again */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_faults__open),
		cmocka_unit_test(test_faults__remember),
		cmocka_unit_test(test_faults__forget),
		cmocka_unit_test(test_faults__recall_and_think),
		cmocka_unit_test(test_faults__vectors),
		cmocka_unit_test(test_faults__allocator_switch_refused_while_alive),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
