/*
 * tests/test_threads.c - one brain used from many threads at once: readers
 * (recall, search, think, get) run while writers remember, add and forget.
 * Run under TSan in CI; here it checks that every answer is well-formed and
 * that nothing acknowledged is lost.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "braincore.h"
#include "braincore/sys/alloc.h"
#include "test_util.h"

#define WRITERS 2
#define READERS 3
#define PER_WRITER 300

typedef struct shared {
	brain_t *b;
	atomic_int writers_left;
	brain_id ids[WRITERS][PER_WRITER];
	atomic_int failures;
} shared;

typedef struct worker {
	shared *s;
	int n;
} worker;

static const char *const g_topics[] = {"rivers", "stars", "bread", "violins", "glaciers",
                                       "compilers", "tea", "volcanoes"};

static void note_failure(shared *s, const char *what, int rc)
{
	/* cmocka's asserts are not thread-safe: count, report from main */
	atomic_fetch_add(&s->failures, 1);
	fprintf(stderr, "%s failed: %s (%s)\n", what, brain_error_name(rc), brain_errmsg());
}

static void *writer(void *arg)
{
	worker *w = arg;
	shared *s = w->s;
	char text[128];
	for (int i = 0; i < PER_WRITER; i++) {
		snprintf(text, sizeof text, "Writer %d note %d is about %s and number %d.", w->n, i,
		         g_topics[(i + w->n) % 8], i * 7);
		int rc = brain_remember_ex(s->b, text, NULL, (float)(i % 10) / 10.0f,
		                           &s->ids[w->n][i]);
		if (rc)
			note_failure(s, "remember", rc);
		/* forget every fifth note again, to churn slots */
		if (i % 5 == 4 && (rc = brain_forget(s->b, s->ids[w->n][i - 1])) != 0)
			note_failure(s, "forget", rc);
	}
	atomic_fetch_sub(&s->writers_left, 1);
	return NULL;
}

static void *reader(void *arg)
{
	worker *w = arg;
	shared *s = w->s;
	test_rng rng = {(uint64_t)w->n + 99};
	char out[2048];
	float q[384];
	int rounds = 0;
	while (atomic_load(&s->writers_left) > 0 || rounds < 20) {
		rounds++;
		const char *topic = g_topics[test_rng_next(&rng) % 8];
		brain_results *r = NULL;
		int rc = brain_recall_results(s->b, topic, 5, &r);
		if (rc) {
			note_failure(s, "recall", rc);
			continue;
		}
		for (size_t i = 0; i < brain_results_count(r); i++) {
			const char *t = brain_results_text(r, i);
			if (!t || strncmp(t, "Writer ", 7) != 0)
				note_failure(s, "recall text", BRAIN_EINTERNAL);
			if (i && brain_results_score(r, i) > brain_results_score(r, i - 1))
				note_failure(s, "recall order", BRAIN_EINTERNAL);
		}
		brain_results_free(r);

		char **strs = brain_recall(s->b, topic, 3);
		if (!strs)
			note_failure(s, "seed recall", brain_errcode());
		free(strs);

		for (int d = 0; d < 384; d++)
			q[d] = test_rng_float(&rng, -1, 1);
		uint64_t ids[8];
		float dist[8];
		size_t found;
		if ((rc = brain_search(s->b, q, 8, ids, dist, &found)) != 0)
			note_failure(s, "search", rc);
		for (size_t i = 1; i < found; i++)
			if (dist[i] < dist[i - 1])
				note_failure(s, "search order", BRAIN_EINTERNAL);

		if (rounds % 4 == 0) {
			rc = brain_think(s->b, "What is note 12 about?", out, sizeof out);
			if (rc < 0)
				note_failure(s, "think", rc);
		}
	}
	return NULL;
}

static void test_threads__readers_and_writers(void **state)
{
	(void)state;
	shared *s = calloc(1, sizeof *s);
	s->b = brain_create();
	atomic_store(&s->writers_left, WRITERS);
	pthread_t tw[WRITERS], tr[READERS];
	worker ww[WRITERS], wr[READERS];
	for (int i = 0; i < READERS; i++) {
		wr[i] = (worker){s, i};
		pthread_create(&tr[i], NULL, reader, &wr[i]);
	}
	for (int i = 0; i < WRITERS; i++) {
		ww[i] = (worker){s, i};
		pthread_create(&tw[i], NULL, writer, &ww[i]);
	}
	for (int i = 0; i < WRITERS; i++)
		pthread_join(tw[i], NULL);
	for (int i = 0; i < READERS; i++)
		pthread_join(tr[i], NULL);
	assert_int_equal(atomic_load(&s->failures), 0);

	/* every acknowledged memory that was not forgotten is there, intact */
	size_t kept = 0;
	for (int w = 0; w < WRITERS; w++) {
		for (int i = 0; i < PER_WRITER; i++) {
			bool forgotten = i % 5 == 3;
			brain_results *r = NULL;
			int rc = brain_get(s->b, s->ids[w][i], &r);
			if (forgotten) {
				assert_int_equal(rc, BRAIN_ENOTFOUND);
				continue;
			}
			assert_int_equal(rc, 0);
			char expect[128];
			snprintf(expect, sizeof expect, "Writer %d note %d is about %s and number %d.", w,
			         i, g_topics[(i + w) % 8], i * 7);
			assert_string_equal(brain_results_text(r, 0), expect);
			brain_results_free(r);
			kept++;
		}
	}
	assert_int_equal(brain_count(s->b), kept);
	brain_destroy(s->b);
	free(s);
}

/* Vector writers in batches while readers search: every id a search
 * returns was added by then, and distances come sorted. */
typedef struct vshared {
	brain_t *b;
	atomic_int done;
	atomic_int failures;
} vshared;

static void *batch_writer(void *arg)
{
	vshared *s = arg;
	test_rng rng = {7};
	enum { BATCH = 50, ROUNDS = 40, D = 16 };
	uint64_t ids[BATCH];
	float *rows = malloc(sizeof(float) * BATCH * D);
	for (int r = 0; r < ROUNDS; r++) {
		for (int i = 0; i < BATCH; i++) {
			ids[i] = (uint64_t)(r * BATCH + i);
			for (int d = 0; d < D; d++)
				rows[i * D + d] = test_rng_float(&rng, -1, 1);
		}
		if (brain_add_batch(s->b, ids, rows, BATCH) != 0)
			atomic_fetch_add(&s->failures, 1);
	}
	free(rows);
	atomic_store(&s->done, 1);
	return NULL;
}

static void *searcher(void *arg)
{
	vshared *s = arg;
	test_rng rng = {11};
	float q[16];
	uint64_t ids[10];
	float dist[10];
	size_t found;
	while (!atomic_load(&s->done)) {
		uint64_t before = brain_count(s->b);
		for (int d = 0; d < 16; d++)
			q[d] = test_rng_float(&rng, -1, 1);
		if (brain_search(s->b, q, 10, ids, dist, &found) != 0) {
			atomic_fetch_add(&s->failures, 1);
			continue;
		}
		if (found < TEST_MIN(10, before))
			atomic_fetch_add(&s->failures, 1); /* a batch is never half visible */
		for (size_t i = 0; i < found; i++)
			if (ids[i] >= brain_count(s->b) || (i && dist[i] < dist[i - 1]))
				atomic_fetch_add(&s->failures, 1);
	}
	return NULL;
}

static void test_threads__batches_and_searches(void **state)
{
	(void)state;
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.dimensions = 16;
	o.metric = BRAIN_METRIC_L2;
	o.embedder = BRAIN_EMBEDDER_NONE;
	vshared s = {0};
	assert_int_equal(brain_open(NULL, &o, &s.b), 0);
	pthread_t w, r[2];
	pthread_create(&r[0], NULL, searcher, &s);
	pthread_create(&r[1], NULL, searcher, &s);
	pthread_create(&w, NULL, batch_writer, &s);
	pthread_join(w, NULL);
	pthread_join(r[0], NULL);
	pthread_join(r[1], NULL);
	assert_int_equal(atomic_load(&s.failures), 0);
	assert_int_equal(brain_count(s.b), 2000);
	brain_close(s.b);
}

/* The Heart builds an HNSW index's tail while writers add, forget and
 * update and readers search: every vector a writer was told is stored is
 * found first by a search for it right after (in the tail or in the
 * graph), and after the writers stop the tail drains. */
enum { TW = 2, TPER = 1500, TD = 16 };

typedef struct tshared {
	brain_t *b;
	atomic_int writers_left;
	atomic_int failures;
	_Atomic uint64_t latest[TW]; /* the last id each writer added, + 1 */
} tshared;

typedef struct tworker {
	tshared *s;
	int n;
} tworker;

static void tail_vec(uint64_t id, float *v)
{
	test_rng rng = {id * 7919 + 1};
	for (int d = 0; d < TD; d++)
		v[d] = test_rng_float(&rng, -1, 1);
}

static void *tail_writer(void *arg)
{
	tworker *w = arg;
	tshared *s = w->s;
	float v[TD];
	for (uint64_t i = 0; i < TPER; i++) {
		uint64_t id = (uint64_t)w->n * 100000 + i + 1;
		tail_vec(id, v);
		if (brain_add(s->b, id, v) != 0)
			atomic_fetch_add(&s->failures, 1);
		atomic_store(&s->latest[w->n], id + 1);
		int rc;
		if (i % 10 == 9 && (rc = brain_forget(s->b, id - 4)) != 0) { /* tail or graph */
			fprintf(stderr, "forget: %s\n", brain_errmsg());
			atomic_fetch_add(&s->failures, 1);
		}
		if (i % 10 == 5) {
			/* moved: the vector of id + 1000000 (found by that below) */
			tail_vec(id + 1000000, v);
			if ((rc = brain_update_vector(s->b, id - 2, v)) != 0) {
				fprintf(stderr, "update: %s\n", brain_errmsg());
				atomic_fetch_add(&s->failures, 1);
			}
		}
	}
	atomic_fetch_sub(&s->writers_left, 1);
	return NULL;
}

static void *tail_reader(void *arg)
{
	tworker *w = arg;
	tshared *s = w->s;
	test_rng rng = {(uint64_t)w->n + 5};
	float v[TD];
	uint64_t ids[4];
	float d[4];
	size_t found;
	while (atomic_load(&s->writers_left) > 0) {
		uint64_t last = atomic_load(&s->latest[test_rng_next(&rng) % TW]);
		if (last == 0)
			continue;
		uint64_t id = last - 1; /* added; the writer may move or forget it soon: */
		uint64_t i = (id - 1) % 100000;
		if (i % 10 == 3 || i % 10 == 5)
			continue;
		tail_vec(id, v);
		if (brain_search(s->b, v, 4, ids, d, &found) != 0 || found == 0 || ids[0] != id ||
		    d[0] != 0.0f) {
			fprintf(stderr, "search for %llu: found %zu, first %llu at %g\n",
			        (unsigned long long)id, found, (unsigned long long)ids[0], (double)d[0]);
			atomic_fetch_add(&s->failures, 1);
		}
	}
	return NULL;
}

static void test_threads__tail_built_beside_readers_and_writers(void **state)
{
	(void)state;
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.dimensions = TD;
	o.metric = BRAIN_METRIC_L2;
	o.embedder = BRAIN_EMBEDDER_NONE;
	o.index = BRAIN_INDEX_HNSW;
	tshared s;
	memset(&s, 0, sizeof s);
	atomic_init(&s.writers_left, TW);
	assert_int_equal(brain_open(NULL, &o, &s.b), 0);
	assert_int_equal(brain_set_param(s.b, BRAIN_PARAM_TICK_MS, 1), 0);
	pthread_t t[2 * TW];
	tworker w[2 * TW];
	for (int i = 0; i < TW; i++) {
		w[i] = (tworker){&s, i};
		w[TW + i] = (tworker){&s, i};
		pthread_create(&t[i], NULL, tail_writer, &w[i]);
		pthread_create(&t[TW + i], NULL, tail_reader, &w[TW + i]);
	}
	for (int i = 0; i < 2 * TW; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(atomic_load(&s.failures), 0);
	brain_stats st;
	bool drained = false;
	for (int tries = 0; tries < 2000 && !drained; tries++) {
		brain_stats_init(&st, BRAIN_STATS_VERSION);
		assert_int_equal(brain_get_stats(s.b, &st), 0);
		drained = st.index_pending == 0;
		if (!drained) {
			struct timespec ts = {0, 10000000L};
			nanosleep(&ts, NULL);
		}
	}
	assert_true(drained);
	assert_true(st.index_builds > 0);
	/* every vector stored is found first by its own vector (a wide walk:
	 * the graph, built now, is approximate) */
	assert_int_equal(brain_count(s.b), TW * (TPER - TPER / 10));
	assert_int_equal(brain_set_param(s.b, BRAIN_PARAM_HNSW_EF_SEARCH, 1000), 0);
	float v[TD];
	uint64_t id0;
	float d0;
	size_t found;
	for (int n = 0; n < TW; n++) {
		for (uint64_t i = 0; i < TPER; i += 3) {
			uint64_t id = (uint64_t)n * 100000 + i + 1;
			if (i % 10 == 5)
				continue; /* forgotten (id - 4 of i + 4) */
			/* moved by i + 2, to the vector of that one's id + 1000000 */
			tail_vec(i % 10 == 3 ? id + 2 + 1000000 : id, v);
			assert_int_equal(brain_search(s.b, v, 1, &id0, &d0, &found), 0);
			assert_int_equal(found, 1);
			assert_int_equal(id0, id);
		}
	}
	brain_close(s.b);
}

/* Switching allocators while other threads open and close brains: a
 * switch must never land between a brain's first allocation and its
 * counting, or memory would be freed by an allocator that did not make it.
 * Blocks of this allocator carry a header that its free checks. */
static const char g_magic[16] = "braincore-block";
static atomic_int g_foreign_frees;

static void *magic_malloc(size_t size, void *payload)
{
	(void)payload;
	unsigned char *p = malloc(size + 16);
	if (!p)
		return NULL;
	memcpy(p, g_magic, 16);
	return p + 16;
}

static void *magic_realloc(void *ptr, size_t size, void *payload)
{
	if (!ptr)
		return magic_malloc(size, payload);
	unsigned char *blk = (unsigned char *)ptr - 16;
	if (memcmp(blk, g_magic, 16) != 0) {
		atomic_fetch_add(&g_foreign_frees, 1);
		return NULL;
	}
	unsigned char *n = realloc(blk, size + 16);
	return n ? n + 16 : NULL;
}

static void magic_free(void *ptr, void *payload)
{
	(void)payload;
	if (!ptr)
		return;
	unsigned char *blk = (unsigned char *)ptr - 16;
	if (memcmp(blk, g_magic, 16) != 0) {
		atomic_fetch_add(&g_foreign_frees, 1);
		return;
	}
	free(blk);
}

static atomic_int g_openers_left;

static void *switcher(void *arg)
{
	(void)arg;
	brain_allocator a;
	brain_allocator_init(&a, BRAIN_ALLOCATOR_VERSION);
	a.malloc = magic_malloc;
	a.realloc = magic_realloc;
	a.free = magic_free;
	while (atomic_load(&g_openers_left) > 0) {
		int rc = brain_set_allocator(&a);
		if (rc != 0 && rc != BRAIN_EBUSY)
			atomic_fetch_add(&g_foreign_frees, 1000);
		rc = brain_set_allocator(NULL);
		if (rc != 0 && rc != BRAIN_EBUSY)
			atomic_fetch_add(&g_foreign_frees, 1000);
	}
	return NULL;
}

static void *opener(void *arg)
{
	(void)arg;
	for (int i = 0; i < 300; i++) {
		brain_t *b = brain_create();
		if (b) {
			brain_remember(b, "A short note to allocate a little.", 0.5f);
			free(brain_recall(b, "note", 1));
			brain_destroy(b);
		}
	}
	atomic_fetch_sub(&g_openers_left, 1);
	return NULL;
}

static void test_threads__allocator_switch_races_open(void **state)
{
	(void)state;
	atomic_store(&g_openers_left, 2);
	pthread_t s, o[2];
	pthread_create(&o[0], NULL, opener, NULL);
	pthread_create(&o[1], NULL, opener, NULL);
	pthread_create(&s, NULL, switcher, NULL);
	pthread_join(o[0], NULL);
	pthread_join(o[1], NULL);
	pthread_join(s, NULL);
	assert_int_equal(atomic_load(&g_foreign_frees), 0);
	assert_int_equal(brain_set_allocator(NULL), 0); /* nothing left alive */
}

/* ---- calls from a thread with a small stack -------------------------------- */

/* Bindings call from threads whose stacks are small (koffi's async workers
 * in the Node binding; threads of runtimes with segmented stacks): every
 * call must fit in one. Under a sanitizer frames are larger, so the
 * stack is too. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SMALL_STACK (1024u * 1024u)
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SMALL_STACK (1024u * 1024u)
#endif
#endif
#ifndef SMALL_STACK
#define SMALL_STACK (128u * 1024u)
#endif

static void *small_stack_work(void *arg)
{
	int *failed = arg;
	enum { N = 600, DIM = 64 };
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.dimensions = DIM;
	o.index = BRAIN_INDEX_HNSW;
	o.embedder = BRAIN_EMBEDDER_NONE;
	brain_t *b = NULL;
	float *v = malloc((size_t)N * DIM * sizeof *v);
	uint64_t *ids = malloc(N * sizeof *ids);
	if (!v || !ids || brain_open(NULL, &o, &b) != 0) {
		*failed = 1;
		goto out;
	}
	test_rng r = {5};
	for (size_t i = 0; i < (size_t)N * DIM; i++)
		v[i] = test_rng_float(&r, -0.5f, 0.5f);
	for (size_t i = 0; i < N; i++)
		ids[i] = i + 1;
	/* a batch: the graph built here and on worker threads */
	uint64_t found_ids[10];
	size_t found = 0;
	if (brain_add_batch(b, ids, v, N) != 0 ||
	    brain_search(b, v + 7 * DIM, 10, found_ids, NULL, &found) != 0 || found != 10 ||
	    found_ids[0] != 8)
		*failed = 1;
	brain_close(b);
	/* text: remember, recall, think */
	b = brain_create();
	if (!b || brain_remember(b, "The Eiffel Tower is 330 metres tall.", 0.8f) != 0 ||
	    brain_remember(b, "Bananas are rich in potassium.", 0.4f) != 0) {
		*failed = 1;
	} else {
		char **m = brain_recall(b, "eiffel tower height", 2);
		char answer[256];
		if (!m || !m[0] || brain_think(b, "How tall is the Eiffel Tower?", answer,
		                               sizeof answer) < 0)
			*failed = 1;
		free(m);
	}
	brain_destroy(b);
out:
	free(v);
	free(ids);
	return NULL;
}

static void test_threads__calls_fit_a_small_stack(void **state)
{
	(void)state;
	pthread_attr_t attr;
	assert_int_equal(pthread_attr_init(&attr), 0);
	assert_int_equal(pthread_attr_setstacksize(&attr, SMALL_STACK), 0);
	pthread_t t;
	int failed = 0;
	assert_int_equal(pthread_create(&t, &attr, small_stack_work, &failed), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	pthread_attr_destroy(&attr);
	assert_int_equal(failed, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threads__readers_and_writers),
		cmocka_unit_test(test_threads__calls_fit_a_small_stack),
		cmocka_unit_test(test_threads__batches_and_searches),
		cmocka_unit_test(test_threads__tail_built_beside_readers_and_writers),
		cmocka_unit_test(test_threads__allocator_switch_races_open),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
