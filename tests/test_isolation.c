/*
 * tests/test_isolation.c - tests that need a process of their own (Check,
 * fork mode): the library never prints, real out-of-memory under an address
 * space limit is an error and not a crash, and the library leaves signal
 * handling to the host.
 */
#include <check.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "braincore.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define UNDER_SANITIZER 1
#endif
#endif

/* Every misuse and failure path we know, plus normal work. */
static void exercise(void)
{
	brain_t *b = brain_create();
	char out[256];
	brain_results *r = NULL;
	uint64_t ids[4];
	size_t found;
	const float nanv[384] = {[5] = NAN};
	brain_remember(NULL, "x", 0.5f);
	brain_remember(b, NULL, 0.5f);
	brain_remember(b, "", 0.5f);
	brain_remember(b, "\xff\xfe", 0.5f);
	brain_remember(b, "ok", 7.0f);
	brain_remember(b, "A real memory about lighthouses.", 0.5f);
	free(brain_recall(b, NULL, 3));
	free(brain_recall(b, "lighthouse", -1));
	free(brain_recall(b, "lighthouse", 3));
	brain_think(b, "lighthouse?", out, 0);
	brain_think(b, "lighthouse?", out, 1);
	brain_think(b, "lighthouse?", out, sizeof out);
	brain_think(b, "unknown topic entirely", out, sizeof out);
	brain_think_ex(b, NULL, &r);
	brain_get(b, 12345, &r);
	brain_forget(b, 12345);
	brain_add(b, 1, nanv);
	brain_search(b, nanv, 3, ids, NULL, &found);
	brain_set_param(b, 77777, 1);
	brain_set_param(b, BRAIN_PARAM_THINK_MAX_MEMORIES, 100000);
	brain_open("/nonexistent/dir", NULL, NULL);
	brain_set_log_level(99);
	brain_destroy(b);
	brain_destroy(NULL);
	brain_results_free(NULL);
}

START_TEST(test_isolation__never_prints)
{
	char path[] = "/tmp/braincore-stdout-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	fflush(stdout);
	fflush(stderr);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	exercise();
	fflush(stdout);
	fflush(stderr);
	off_t size = lseek(fd, 0, SEEK_END);
	unlink(path);
	ck_assert_int_eq(size, 0);
}
END_TEST

START_TEST(test_isolation__real_out_of_memory_is_an_error)
{
#ifdef UNDER_SANITIZER
	/* sanitizers reserve terabytes of shadow memory: an address space
	 * limit would stop them, not us */
	return;
#else
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.dimensions = 1024;
	o.metric = BRAIN_METRIC_L2;
	o.embedder = BRAIN_EMBEDDER_NONE;
	o.index = BRAIN_INDEX_FLAT; /* memory, not graph building, is the subject */
	brain_t *b = NULL;
	ck_assert_int_eq(brain_open(NULL, &o, &b), 0);
	/* 256 MiB of address space beyond what the process has now */
	struct rlimit rl;
	getrlimit(RLIMIT_AS, &rl);
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long pages = 0;
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%lu", &pages), 1);
	fclose(f);
	rl.rlim_cur = pages * (unsigned long)sysconf(_SC_PAGESIZE) + (256ul << 20);
	ck_assert_int_eq(setrlimit(RLIMIT_AS, &rl), 0);

	/* 100,000 x 1024-d = 400 MB: cannot fit */
	size_t n = 100000;
	float *rows = calloc(1, sizeof(float) * 1024 * 1000);
	uint64_t *ids = malloc(sizeof(uint64_t) * n);
	ck_assert_ptr_nonnull(rows);
	ck_assert_ptr_nonnull(ids);
	for (size_t i = 0; i < 1000 * 1024; i++)
		rows[i] = (float)(i % 13);
	int rc = 0;
	uint64_t added = 0;
	/* add in batches of 1000 (reusing the rows) until memory runs out */
	for (size_t batch = 0; batch < n / 1000 && rc == 0; batch++) {
		for (size_t i = 0; i < 1000; i++)
			ids[i] = batch * 1000 + i;
		rc = brain_add_batch(b, ids, rows, 1000);
		if (rc == 0)
			added += 1000;
	}
	ck_assert_int_eq(rc, BRAIN_ENOMEM);
	ck_assert_uint_eq(brain_count(b), added); /* the failed batch left nothing */
	ck_assert_uint_gt(added, 0);
	/* memory comes back (the host freed some): the brain answers with
	 * everything it acknowledged */
	rl.rlim_cur = rl.rlim_max;
	ck_assert_int_eq(setrlimit(RLIMIT_AS, &rl), 0);
	uint64_t got[3];
	size_t found = 0;
	ck_assert_int_eq(brain_search(b, rows, 3, got, NULL, &found), 0);
	ck_assert_uint_eq(found, 3);
	free(rows);
	free(ids);
	brain_close(b);
#endif
}
END_TEST

START_TEST(test_isolation__signal_handlers_untouched)
{
	int sigs[] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGPIPE, SIGINT, SIGTERM};
	struct sigaction before[7], after[7];
	for (int i = 0; i < 7; i++)
		sigaction(sigs[i], NULL, &before[i]);
	exercise();
	for (int i = 0; i < 7; i++) {
		sigaction(sigs[i], NULL, &after[i]);
		ck_assert(after[i].sa_handler == before[i].sa_handler);
	}
}
END_TEST

/* A crash inside a user callback is the host's crash: the library does not
 * swallow it (this child must die of SIGABRT). */
static int aborting_generator(const char *input, const brain_results *m, char *out, size_t size,
                              void *payload)
{
	(void)input;
	(void)m;
	(void)out;
	(void)size;
	(void)payload;
	abort();
}

START_TEST(test_isolation__callback_crash_is_not_swallowed)
{
	brain_t *b = brain_create();
	char out[64];
	brain_set_generator(b, aborting_generator, NULL);
	brain_think(b, "anything", out, sizeof out);
	ck_abort_msg("not reached");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("isolation");
	TCase *tc = tcase_create("process");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_isolation__never_prints);
	tcase_add_test(tc, test_isolation__real_out_of_memory_is_an_error);
	tcase_add_test(tc, test_isolation__signal_handlers_untouched);
	tcase_add_test_raise_signal(tc, test_isolation__callback_crash_is_not_swallowed, SIGABRT);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
