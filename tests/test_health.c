/*
 * tests/test_health.c - the latency histograms (against sorted values) and
 * brain_health_json (valid JSON, snprintf's contract, the numbers the
 * brain's calls made).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/histogram.h"
#include "braincore.h"
#include "test_util.h"

/* ---- the histogram ------------------------------------------------------- */

/* A value's bucket holds it: never reported below it, at most 12.5% above
 * (under 64 ns, within the first bucket). */
static void test_health__buckets_bound_their_values(void **state)
{
	(void)state;
	test_rng rng = {17};
	unsigned last = 0;
	for (uint64_t v = 0; v < 5000; v++) {
		unsigned b = brain__hist_bucket(v);
		assert_true(b >= last); /* monotonic */
		last = b;
		assert_true(brain__hist_upper(b) >= v);
	}
	for (int i = 0; i < 200000; i++) {
		uint64_t v = test_rng_next(&rng) >> (test_rng_next(&rng) % 60);
		unsigned b = brain__hist_bucket(v);
		assert_true(b < BRAIN_HIST_BUCKETS);
		uint64_t up = brain__hist_upper(b);
		assert_true(up >= v);
		if (v >= 64 && v < ((uint64_t)1 << BRAIN_HIST_MAX_LOG2))
			assert_true((double)up <= (double)v * 1.125 + 1);
	}
}

static int by_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Percentiles against the sorted values themselves. */
static void test_health__percentiles_match_sorted_values(void **state)
{
	(void)state;
	enum { N = 20000 };
	static brain_histogram h;
	memset(&h, 0, sizeof h);
	uint64_t *v = malloc(N * sizeof *v);
	assert_non_null(v);
	test_rng rng = {99};
	uint64_t sum = 0;
	for (size_t i = 0; i < N; i++) {
		/* a long tail: most near 2 us, some near 1 ms */
		uint64_t r = test_rng_next(&rng);
		v[i] = (r % 100 < 97) ? 1500 + r % 1000 : 200000 + r % 800000;
		sum += v[i];
		brain__hist_record(&h, v[i]);
	}
	qsort(v, N, sizeof *v, by_u64);
	brain_histogram_summary s;
	brain__hist_summary(&h, &s);
	assert_int_equal(s.count, N);
	assert_int_equal(s.mean_ns, sum / N);
	assert_int_equal(s.max_ns, v[N - 1]);
	const struct {
		uint64_t got;
		size_t rank;
	} p[] = {{s.p50_ns, N / 2}, {s.p95_ns, N * 95 / 100}, {s.p99_ns, N * 99 / 100}};
	for (size_t i = 0; i < 3; i++) {
		uint64_t want = v[p[i].rank - 1];
		assert_true(p[i].got >= want);
		assert_true((double)p[i].got <= (double)want * 1.125 + 1);
	}
	free(v);
	/* empty: all zero */
	memset(&h, 0, sizeof h);
	brain__hist_summary(&h, &s);
	assert_int_equal(s.count, 0);
	assert_int_equal(s.p99_ns, 0);
}

static brain_histogram g_shared;

static void *recorder(void *arg)
{
	uint64_t base = (uint64_t)(uintptr_t)arg;
	for (uint64_t i = 0; i < 100000; i++)
		brain__hist_record(&g_shared, base + i % 5000);
	return NULL;
}

/* Many threads record at once: nothing is lost. */
static void test_health__records_from_many_threads(void **state)
{
	(void)state;
	pthread_t t[4];
	for (uintptr_t i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, recorder, (void *)(i * 1000 + 100)), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	brain_histogram_summary s;
	brain__hist_summary(&g_shared, &s);
	assert_int_equal(s.count, 400000);
	assert_int_equal(s.max_ns, 3000 + 100 + 4999);
}

/* ---- the document -------------------------------------------------------- */

/* A small JSON checker: the whole text is one value. */
static const char *json_value(const char *p);

static const char *json_ws(const char *p)
{
	while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
		p++;
	return p;
}

static const char *json_string(const char *p)
{
	if (*p != '"')
		return NULL;
	for (p++; *p && *p != '"'; p++)
		if (*p == '\\' && !*++p)
			return NULL;
	return *p == '"' ? p + 1 : NULL;
}

static const char *json_value(const char *p)
{
	p = json_ws(p);
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';
		bool object = *p == '{';
		p = json_ws(p + 1);
		if (*p == close)
			return p + 1;
		for (;;) {
			if (object) {
				p = json_string(json_ws(p));
				if (!p)
					return NULL;
				p = json_ws(p);
				if (*p++ != ':')
					return NULL;
			}
			p = json_value(p);
			if (!p)
				return NULL;
			p = json_ws(p);
			if (*p == close)
				return p + 1;
			if (*p++ != ',')
				return NULL;
		}
	}
	if (*p == '"')
		return json_string(p);
	if (strncmp(p, "true", 4) == 0 || strncmp(p, "null", 4) == 0)
		return p + 4;
	if (strncmp(p, "false", 5) == 0)
		return p + 5;
	const char *q = p;
	if (*q == '-')
		q++;
	while (*q >= '0' && *q <= '9')
		q++;
	return q > p ? q : NULL;
}

static bool json_valid(const char *s)
{
	const char *end = json_value(s);
	return end && *json_ws(end) == '\0';
}

/* The number after "key": inside the object that follows "within":. */
static uint64_t json_number(const char *doc, const char *within, const char *key)
{
	char pat[64];
	const char *from = doc;
	if (within) {
		snprintf(pat, sizeof pat, "\"%s\":{", within);
		from = strstr(doc, pat);
		assert_non_null(from);
	}
	snprintf(pat, sizeof pat, "\"%s\":", key);
	const char *at = strstr(from, pat);
	assert_non_null(at);
	return strtoull(at + strlen(pat), NULL, 10);
}

static void test_health__json_reports_the_calls(void **state)
{
	(void)state;
	char dir[] = "/tmp/braincore-health-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[64];
	snprintf(path, sizeof path, "%s/b", dir);
	brain_t *b = NULL;
	/* no background: its work between two calls would change the
	 * document's figures, and so its length */
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.background = BRAIN_BACKGROUND_MANUAL;
	assert_int_equal(brain_open(path, &o, &b), 0);
	char text[80];
	for (int i = 0; i < 40; i++) {
		snprintf(text, sizeof text, "memory number %d is about topic %d", i, i % 7);
		assert_int_equal(brain_remember(b, text, 0.5f), 0);
	}
	assert_int_equal(brain_remember(b, NULL, 0.5f), BRAIN_ENULL); /* not counted */
	for (int i = 0; i < 9; i++) {
		char **r = brain_recall(b, "topic 3", 2);
		assert_non_null(r);
		brain_strings_free(r);
	}
	char out[128];
	assert_true(brain_think(b, "what about topic 4?", out, sizeof out) >= 0);

	/* snprintf's contract: the length, whatever the room. The document
	 * is live (checkpoint.age_ms and the heap figures move between two
	 * calls, and may gain or lose a digit), so the exact-boundary checks
	 * are made on a pair of calls that saw the same length. */
	char *doc = NULL;
	int len = 0;
	int boundary_checked = 0;
	for (int attempt = 0; attempt < 100 && !boundary_checked; attempt++) {
		len = brain_health_json(b, NULL, 0);
		assert_true(len > 100);
		char *grown = realloc(doc, (size_t)len + 1);
		assert_non_null(grown);
		doc = grown;
		memset(doc, 'x', (size_t)len + 1);
		int got = brain_health_json(b, doc, (size_t)len); /* one short */
		assert_true(got > 100);
		if (got >= len)
			assert_string_equal(doc, ""); /* never a cut document */
		if (got != len)
			continue; /* it changed between the two calls: measure again */
		got = brain_health_json(b, doc, (size_t)len + 1);
		if (got != len)
			continue;
		assert_int_equal(strlen(doc), (size_t)len);
		boundary_checked = 1;
	}
	assert_true(boundary_checked);
	/* ample room: the whole document, whatever it measures now */
	size_t room = (size_t)len + 64;
	char *grown = realloc(doc, room);
	assert_non_null(grown);
	doc = grown;
	len = brain_health_json(b, doc, room);
	assert_true(len > 100 && (size_t)len < room);
	assert_int_equal(strlen(doc), (size_t)len);
	print_message("%s\n", doc);
	assert_true(json_valid(doc));
	assert_int_equal(json_number(doc, NULL, "memories"), 40);
	assert_int_equal(json_number(doc, "remember", "count"), 40);
	assert_int_equal(json_number(doc, "recall", "count"), 9);
	assert_int_equal(json_number(doc, "think", "count"), 1);
	assert_int_equal(json_number(doc, "search", "count"), 0);
	uint64_t p50 = json_number(doc, "remember", "p50");
	uint64_t p99 = json_number(doc, "remember", "p99");
	uint64_t max = json_number(doc, "remember", "max");
	assert_true(p50 > 0 && p50 <= p99 && p99 <= max);
	assert_true(json_number(doc, "heap_bytes", "total") > 0);
	assert_true(json_number(doc, "log", "last_lsn") >= 40);
	assert_int_equal(json_number(doc, "checkpoint", "generation"), 1);

	/* the same numbers in stats version 3 */
	brain_stats st;
	assert_int_equal(brain_stats_init(&st, 3), 0);
	assert_int_equal(brain_get_stats(b, &st), 0);
	assert_int_equal(st.remember_count, 40);
	assert_int_equal(st.recall_count, 9);
	assert_int_equal(st.remember_max_ns, max);
	/* a version-2 struct is filled only so far */
	memset(&st, 0xAB, sizeof st);
	assert_int_equal(brain_stats_init(&st, 2), 0);
	assert_int_equal(brain_get_stats(b, &st), 0);
	const unsigned char *tail = (const unsigned char *)&st.remember_count;
	for (size_t i = 0; i < sizeof st - offsetof(brain_stats, remember_count); i++)
		assert_int_equal(tail[i], 0xAB);

	assert_int_equal(brain_health_json(NULL, doc, 10), BRAIN_ENULL);
	assert_int_equal(brain_health_json(b, NULL, 10), BRAIN_ENULL);
	free(doc);
	assert_int_equal(brain_close(b), 0);
	assert_int_equal(test_remove_tree(dir), 0);
}

/* The Liver: pressure against a memory budget rises as the brain grows;
 * at the budget a growing change is refused whole (EFULL, nothing
 * changed), a forget is not, and a higher budget lets writes go on. */
static void test_health__memory_budget(void **state)
{
	(void)state;
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.background = BRAIN_BACKGROUND_MANUAL;
	brain_t *b = NULL;
	assert_int_equal(brain_open(NULL, &o, &b), 0);
	assert_int_equal(brain_remember(b, "The first memory, before any budget.", 0.5f), 0);
	brain_stats st;
	assert_int_equal(brain_stats_init(&st, BRAIN_STATS_VERSION), 0);
	assert_int_equal(brain_get_stats(b, &st), 0);
	assert_int_equal(st.memory_budget, 0);
	assert_int_equal(st.memory_pressure, 0);
	uint64_t budget = st.heap_bytes + 4u * 1024 * 1024;
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_MEMORY_BUDGET, (int64_t)budget), 0);
	char text[160];
	int rc = 0, n = 0, saw_elevated = 0;
	for (; n < 100000 && rc == 0; n++) {
		snprintf(text, sizeof text, "Budget note %d: the tide table for harbour %d at dawn.", n,
		         n * 7);
		rc = brain_remember(b, text, 0.5f);
		assert_int_equal(brain_get_stats(b, &st), 0);
		saw_elevated |= st.memory_pressure == 1;
	}
	assert_int_equal(rc, BRAIN_EFULL);
	assert_non_null(strstr(brain_errmsg(), "MEMORY_BUDGET"));
	assert_true(saw_elevated);
	assert_int_equal(st.memory_pressure, 2);
	assert_true(st.heap_bytes >= budget);
	uint64_t count = brain_count(b);
	assert_int_equal(count, (uint64_t)n); /* the first, and all but the refused one */
	float v[384] = {1.0f};
	assert_int_equal(brain_add(b, 1u << 30, v), BRAIN_EFULL);
	assert_int_equal(brain_count(b), count);
	char doc[4096];
	assert_true(brain_health_json(b, doc, sizeof doc) > 0);
	assert_non_null(strstr(doc, "\"pressure\":\"critical\""));
	/* forgetting is never refused, and leaves room for one more (the
	 * heap does not shrink: the next memory takes the forgotten one's
	 * slot), not two */
	brain_id ids[1];
	float sc[1];
	size_t found = 0;
	assert_int_equal(brain_recall_ids(b, "Budget note 3", 1, ids, sc, &found), 0);
	assert_int_equal(found, 1);
	assert_int_equal(brain_forget(b, ids[0]), 0);
	assert_int_equal(brain_remember(b, "Into the room the forgotten note left.", 0.5f), 0);
	assert_int_equal(brain_remember(b, "And one more, which finds none.", 0.5f), BRAIN_EFULL);
	assert_int_equal(brain_count(b), count);
	/* a higher budget: writes go on */
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_MEMORY_BUDGET, 0), 0);
	assert_int_equal(brain_remember(b, "After the budget was lifted.", 0.5f), 0);
	assert_int_equal(brain_get_stats(b, &st), 0);
	assert_int_equal(st.memory_pressure, 0);
	assert_int_equal(brain_close(b), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_health__buckets_bound_their_values),
		cmocka_unit_test(test_health__percentiles_match_sorted_values),
		cmocka_unit_test(test_health__records_from_many_threads),
		cmocka_unit_test(test_health__json_reports_the_calls),
		cmocka_unit_test(test_health__memory_budget),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
