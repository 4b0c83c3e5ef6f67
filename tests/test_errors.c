/*
 * tests/test_errors.c - error codes, names, messages and the log hook.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "braincore.h"

static const int g_codes[] = {
#define X(name, value, text) value,
	BRAIN_ERROR_LIST(X)
#undef X
};

static void test_errors__codes_unique_and_pinned(void **state)
{
	(void)state;
	size_t n = sizeof g_codes / sizeof g_codes[0];
	assert_int_equal(g_codes[0], 0);
	for (size_t i = 1; i < n; i++) {
		assert_true(g_codes[i] < 0);
		/* appended in order: -1, -2, ... with no gaps */
		assert_int_equal(g_codes[i], -(int)i);
	}
	/* a few pinned values that bindings rely on */
	assert_int_equal(BRAIN_EINVAL, -1);
	assert_int_equal(BRAIN_ENOMEM, -2);
	assert_int_equal(BRAIN_EUTF8, -5);
	assert_int_equal(BRAIN_EDIM, -7);
}

static void test_errors__names_and_strings(void **state)
{
	(void)state;
	assert_string_equal(brain_error_name(BRAIN_OK), "OK");
	assert_string_equal(brain_error_name(BRAIN_ENOMEM), "ENOMEM");
	assert_string_equal(brain_error_name(BRAIN_EBUFSIZE), "EBUFSIZE");
	assert_string_equal(brain_strerror(BRAIN_ENOMEM), "out of memory");
	assert_string_equal(brain_error_name(-9999), "UNKNOWN");
	assert_string_equal(brain_strerror(12345), "unknown error");
	for (size_t i = 0; i < sizeof g_codes / sizeof g_codes[0]; i++) {
		assert_true(strlen(brain_strerror(g_codes[i])) > 0);
		assert_string_not_equal(brain_error_name(g_codes[i]), "UNKNOWN");
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(brain_error_name(g_codes[i]),
			                        brain_error_name(g_codes[j]));
	}
}

static void *fresh_thread(void *arg)
{
	char *out = arg;
	/* a new thread has seen no error */
	strcpy(out, brain_errmsg());
	out[200] = (char)brain_errcode();
	return NULL;
}

static void test_errors__message_is_thread_local(void **state)
{
	(void)state;
	brain_t *b = brain_create();
	assert_non_null(b);
	assert_int_equal(brain_remember(b, "hello", 2.0f), BRAIN_ERANGE);
	assert_int_equal(brain_errcode(), BRAIN_ERANGE);
	assert_non_null(strstr(brain_errmsg(), "importance 2"));

	char other[256] = "x";
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, fresh_thread, other), 0);
	pthread_join(t, NULL);
	assert_string_equal(other, "");
	assert_int_equal(other[200], 0);
	/* ours is untouched by the other thread */
	assert_int_equal(brain_errcode(), BRAIN_ERANGE);
	brain_destroy(b);
}

static void test_errors__pointer_calls_report_through_errcode(void **state)
{
	(void)state;
	brain_t *b = brain_create();
	assert_null(brain_recall(b, "anything", 0));
	assert_int_equal(brain_errcode(), BRAIN_ERANGE);
	assert_null(brain_recall(b, "\xff", 3));
	assert_int_equal(brain_errcode(), BRAIN_EUTF8);
	assert_null(brain_recall(NULL, "x", 3));
	assert_int_equal(brain_errcode(), BRAIN_ENULL);
	brain_destroy(b);
}

typedef struct log_capture {
	int calls;
	int last_level;
	char last[512];
} log_capture;

static void capture(int level, const char *msg, void *payload)
{
	log_capture *c = payload;
	c->calls++;
	c->last_level = level;
	snprintf(c->last, sizeof c->last, "%s", msg);
}

static void test_errors__log_hook(void **state)
{
	(void)state;
	log_capture cap = {0};
	assert_int_equal(brain_set_log_level(7), BRAIN_ERANGE);
	assert_int_equal(brain_set_log_level(-1), BRAIN_ERANGE);

	brain_set_log(capture, &cap);
	assert_int_equal(brain_set_log_level(BRAIN_LOG_DEBUG), 0);
	brain_t *b = brain_create();
	assert_true(cap.calls >= 1);
	assert_int_equal(cap.last_level, BRAIN_LOG_DEBUG);
	assert_non_null(strstr(cap.last, "opened"));
	brain_destroy(b);

	/* quieter level: debug messages are not delivered */
	int before = cap.calls;
	assert_int_equal(brain_set_log_level(BRAIN_LOG_WARN), 0);
	b = brain_create();
	brain_destroy(b);
	assert_int_equal(cap.calls, before);

	/* removed: nothing delivered even at debug */
	brain_set_log(NULL, NULL);
	brain_set_log_level(BRAIN_LOG_DEBUG);
	b = brain_create();
	brain_destroy(b);
	assert_int_equal(cap.calls, before);
	brain_set_log_level(BRAIN_LOG_WARN);
}

static void test_errors__version(void **state)
{
	(void)state;
	assert_int_equal(brain_version(), BRAIN_VERSION_NUMBER);
	assert_string_equal(brain_version_string(), BRAIN_VERSION_STRING);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errors__codes_unique_and_pinned),
		cmocka_unit_test(test_errors__names_and_strings),
		cmocka_unit_test(test_errors__message_is_thread_local),
		cmocka_unit_test(test_errors__pointer_calls_report_through_errcode),
		cmocka_unit_test(test_errors__log_hook),
		cmocka_unit_test(test_errors__version),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
