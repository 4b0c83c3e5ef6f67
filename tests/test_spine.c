/*
 * tests/test_spine.c - the Spine: dispatch, swapping an organ for a test
 * organ, the bounded queue and the background path.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine/handle.h"
#include "base/queue.h"
#include "spine/spine.h"

/* ---- a test Cortex: embeds a text as the one-hot vector of its first
 *      letter, and counts what it is asked ---------------------------------- */

typedef struct fake_cortex {
	uint32_t dims;
	int embeds;
	int learns;
} fake_cortex;

static fake_cortex *g_fake; /* the state the last create made */

static int fake_create(const brain_env *env, brain_spine *spine, const brain_organ_args *args,
                       void **state)
{
	(void)spine;
	(void)args;
	fake_cortex *f = calloc(1, sizeof *f);
	f->dims = env->opts.dimensions;
	g_fake = f;
	*state = f;
	return BRAIN_OK;
}

static void fake_destroy(void *state)
{
	free(state);
}

static int on_EMBED(fake_cortex *f, brain_msg_embed *m)
{
	memset(m->vector, 0, f->dims * sizeof(float));
	m->vector[(unsigned char)m->text[0] % f->dims] = 1.0f;
	m->epoch = 0;
	f->embeds++;
	return BRAIN_OK;
}

static int on_EMBED_EPOCH(fake_cortex *f, brain_msg_embed_epoch *m)
{
	(void)f;
	m->epoch = 0;
	return BRAIN_OK;
}

static int on_LEARN(fake_cortex *f, brain_msg_learn *m)
{
	(void)m;
	f->learns++;
	return BRAIN_OK;
}

/* a test organ may leave out some of its messages: those are refused */
BRAIN__HANDLER_THUNK(EMBED, CORTEX, brain_msg_embed, UNLOCKED)
BRAIN__HANDLER_THUNK(EMBED_EPOCH, CORTEX, brain_msg_embed_epoch, ANY)
BRAIN__HANDLER_THUNK(LEARN, CORTEX, brain_msg_learn, WRITE)
static const brain_handler_fn g_fake_handlers[BRAIN_MSG__COUNT] = {
	[BRAIN_MSG_EMBED] = thunk_EMBED,
	[BRAIN_MSG_EMBED_EPOCH] = thunk_EMBED_EPOCH,
	[BRAIN_MSG_LEARN] = thunk_LEARN,
};

static const brain_organ g_fake_cortex = {"fake-cortex", BRAIN_ORGAN_CORTEX, fake_create,
                                          fake_destroy, g_fake_handlers, NULL};

static void test_spine__swap_in_a_test_organ(void **state)
{
	(void)state;
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.dimensions = 256;
	brain_t *b = NULL;
	assert_int_equal(brain_open(NULL, &o, &b), 0);
	assert_int_equal(brain__spine_attach(&b->spine, &g_fake_cortex, NULL), 0);

	brain_id a, z;
	assert_int_equal(brain_remember_ex(b, "apple pie", NULL, 0.5f, &a), 0);
	assert_int_equal(brain_remember_ex(b, "zebra crossing", NULL, 0.5f, &z), 0);
	assert_int_equal(g_fake->embeds, 2);
	assert_int_equal(g_fake->learns, 2);

	/* the fake embedder decides: "a..." queries find the apple */
	brain_id ids[2];
	float scores[2];
	size_t found = 0;
	assert_int_equal(brain_recall_ids(b, "avocado", 2, ids, scores, &found), 0);
	assert_int_equal(found, 1); /* the zebra scores 0, not above the minimum */
	assert_int_equal(ids[0], a);
	assert_true(scores[0] > 0.9f);
	assert_int_equal(g_fake->embeds, 3);

	/* a message the test organ does not handle is refused, not crashed on */
	char out[64];
	assert_int_equal(brain_think(b, "anything", out, sizeof out), BRAIN_ENOTSUP);
	brain_close(b);
}

static void test_spine__message_table(void **state)
{
	(void)state;
	assert_int_equal(brain__msg_owner[BRAIN_MSG_TEXT_CHECK], BRAIN_ORGAN_PANCREAS);
	assert_int_equal(brain__msg_owner[BRAIN_MSG_EMBED], BRAIN_ORGAN_CORTEX);
	assert_int_equal(brain__msg_owner[BRAIN_MSG_STORE], BRAIN_ORGAN_HIPPOCAMPUS);
	assert_int_equal(brain__msg_owner[BRAIN_MSG_RECALL], BRAIN_ORGAN_THALAMUS);
	for (int t = 0; t < BRAIN_MSG__COUNT; t++)
		assert_non_null(brain__msg_name[t]);

	/* a spine without organs answers EINTERNAL */
	brain_env env;
	memset(&env, 0, sizeof env);
	brain_spine s;
	brain__spine_init(&s, &env, NULL);
	brain_msg_status st = {0};
	assert_int_equal(brain__call_STATUS(&s, &st), BRAIN_EINTERNAL);
	brain__spine_fini(&s);
}

/* ---- the queue ----------------------------------------------------------- */

static void test_spine__queue_order_and_bounds(void **state)
{
	(void)state;
	brain_queue q;
	assert_int_equal(brain__queue_init(&q, 0, 8), BRAIN_EINVAL);
	assert_int_equal(brain__queue_init(&q, 3, sizeof(int)), 0);
	for (int i = 1; i <= 3; i++)
		assert_int_equal(brain__queue_push(&q, &i, 0), 0);
	int x = 4;
	assert_int_equal(brain__queue_push(&q, &x, 0), BRAIN_EFULL);
	assert_int_equal(brain__queue_push(&q, &x, 20), BRAIN_EFULL); /* timed wait expires */
	assert_int_equal(brain__queue_depth(&q), 3);
	for (int i = 1; i <= 3; i++) {
		assert_int_equal(brain__queue_pop(&q, &x, 0), 0);
		assert_int_equal(x, i);
	}
	assert_int_equal(brain__queue_pop(&q, &x, 0), BRAIN_EEMPTY);
	assert_int_equal(brain__queue_pop(&q, &x, 20), BRAIN_EEMPTY);
	/* wrap around the ring */
	for (int round = 0; round < 10; round++) {
		assert_int_equal(brain__queue_push(&q, &round, 0), 0);
		assert_int_equal(brain__queue_pop(&q, &x, 0), 0);
		assert_int_equal(x, round);
	}
	x = 9;
	assert_int_equal(brain__queue_push(&q, &x, 0), 0);
	brain__queue_close(&q);
	assert_int_equal(brain__queue_push(&q, &x, 0), BRAIN_ESTATE);
	assert_int_equal(brain__queue_pop(&q, &x, -1), 0); /* drains what is left */
	assert_int_equal(x, 9);
	assert_int_equal(brain__queue_pop(&q, &x, -1), BRAIN_ESTATE);
	brain__queue_destroy(&q);
}

#define PRODUCERS 3
#define PER_PRODUCER 20000

typedef struct mt {
	brain_queue *q;
	int base;
	long long sum;
	long count;
} mt;

static void *producer(void *arg)
{
	mt *m = arg;
	for (int i = 0; i < PER_PRODUCER; i++) {
		int v = m->base + i;
		assert_int_equal(brain__queue_push(m->q, &v, -1), 0);
	}
	return NULL;
}

static void *consumer(void *arg)
{
	mt *m = arg;
	int v;
	while (brain__queue_pop(m->q, &v, -1) == 0) {
		m->sum += v;
		m->count++;
	}
	return NULL;
}

static void test_spine__queue_many_threads(void **state)
{
	(void)state;
	brain_queue q;
	assert_int_equal(brain__queue_init(&q, 16, sizeof(int)), 0); /* small: producers block */
	pthread_t p[PRODUCERS], c[2];
	mt pm[PRODUCERS], cm[2];
	memset(cm, 0, sizeof cm);
	for (int i = 0; i < 2; i++) {
		cm[i].q = &q;
		pthread_create(&c[i], NULL, consumer, &cm[i]);
	}
	long long expect = 0;
	for (int i = 0; i < PRODUCERS; i++) {
		pm[i] = (mt){&q, i * 1000000, 0, 0};
		for (int j = 0; j < PER_PRODUCER; j++)
			expect += pm[i].base + j;
		pthread_create(&p[i], NULL, producer, &pm[i]);
	}
	for (int i = 0; i < PRODUCERS; i++)
		pthread_join(p[i], NULL);
	brain__queue_close(&q); /* consumers drain, then stop */
	for (int i = 0; i < 2; i++)
		pthread_join(c[i], NULL);
	assert_int_equal(cm[0].count + cm[1].count, PRODUCERS * PER_PRODUCER);
	assert_true(cm[0].sum + cm[1].sum == expect);
	brain__queue_destroy(&q);
}

/* ---- posting: a test organ that records the background messages -------- */

typedef struct recorder {
	int seen[8];
	int n;
} recorder;

static int rec_create(const brain_env *env, brain_spine *spine, const brain_organ_args *args,
                      void **state)
{
	(void)env;
	(void)spine;
	(void)args;
	*state = calloc(1, sizeof(recorder));
	return BRAIN_OK;
}

static int on_FORGET(recorder *r, brain_msg_forget *m)
{
	r->seen[r->n++] = (int)m->id;
	return r->n == 2 ? brain__err(BRAIN_ENOTFOUND, "recorder fails the second") : BRAIN_OK;
}

BRAIN__HANDLER_THUNK(FORGET, HIPPOCAMPUS, brain_msg_forget, WRITE)
static const brain_handler_fn g_rec_handlers[BRAIN_MSG__COUNT] = {[BRAIN_MSG_FORGET] =
                                                                      thunk_FORGET};

static const brain_organ g_recorder = {"recorder", BRAIN_ORGAN_HIPPOCAMPUS, rec_create,
                                       fake_destroy, g_rec_handlers, NULL};

/* An organ whose table holds another organ's message is refused. */
static const brain_handler_fn g_wrong_handlers[BRAIN_MSG__COUNT] = {[BRAIN_MSG_FORGET] =
                                                                        thunk_FORGET};
static const brain_organ g_wrong = {"wrong", BRAIN_ORGAN_THALAMUS, rec_create, fake_destroy,
                                    g_wrong_handlers, NULL};

static void test_spine__attach_checks_the_owner_column(void **state)
{
	(void)state;
	brain_env env;
	memset(&env, 0, sizeof env);
	brain_spine s;
	brain__spine_init(&s, &env, NULL);
	assert_int_equal(brain__spine_attach(&s, &g_wrong, NULL), BRAIN_EINTERNAL);
	assert_non_null(strstr(brain_errmsg(), "FORGET"));
	assert_null(s.organs[BRAIN_ORGAN_THALAMUS].organ);
	/* no organ attached: refused, not crashed on */
	brain_msg_text_check m = {"x", 10, "x", 0};
	assert_int_equal(brain__spine_call(&s, BRAIN_MSG_TEXT_CHECK, &m), BRAIN_EINTERNAL);
	brain__spine_fini(&s);
}

static void test_spine__post_and_drain(void **state)
{
	(void)state;
	brain_env env;
	memset(&env, 0, sizeof env);
	brain_spine s;
	brain__spine_init(&s, &env, NULL);
	assert_int_equal(brain__spine_attach(&s, &g_recorder, NULL), 0);
	brain_msg_forget f = {7, false, false};
	assert_int_equal(brain__spine_post(&s, BRAIN_MSG_FORGET, &f, sizeof f, 0), BRAIN_ESTATE);
	assert_int_equal(brain__spine_queue_init(&s, 4), 0);
	for (int i = 1; i <= 3; i++) {
		f.id = (brain_id)i;
		assert_int_equal(brain__spine_post(&s, BRAIN_MSG_FORGET, &f, sizeof f, 0), 0);
	}
	char big[BRAIN_POST_MAX + 1] = {0};
	assert_int_equal(brain__spine_post(&s, BRAIN_MSG_FORGET, big, sizeof big, 0), BRAIN_EINVAL);
	/* a failing handler is logged, and draining goes on; the drainer
	 * holds what FORGET needs */
#ifdef BRAIN_CHECK_LOCKS
	brain__lock_note(&s, BRAIN_LOCK_WRITE);
#endif
	assert_int_equal(brain__spine_drain(&s, 10, 0), 3);
	recorder *r = s.organs[BRAIN_ORGAN_HIPPOCAMPUS].state;
	assert_int_equal(r->n, 3);
	assert_int_equal(r->seen[0], 1);
	assert_int_equal(r->seen[1], 2);
	assert_int_equal(r->seen[2], 3);
	assert_int_equal(brain__spine_drain(&s, 10, 0), 0);
#ifdef BRAIN_CHECK_LOCKS
	brain__lock_note(&s, 0);
#endif
	brain__spine_fini(&s);
}

/* The lock column is checked (debug and sanitizer builds): a message sent
 * without the lock it needs aborts the process, in a child here. */
static void test_spine__lock_column_is_checked(void **state)
{
	(void)state;
#ifndef BRAIN_CHECK_LOCKS
	skip(); /* a release build does not check */
#else
	brain_t *b = NULL;
	assert_int_equal(brain_open(NULL, NULL, &b), 0);
	/* held as the column says: fine */
	brain__wrlock(b);
	brain_msg_learn ok = {"some words", 10, 0, NULL, 0, NULL};
	assert_int_equal(brain__call_LEARN(&b->spine, &ok), 0);
	brain__free(ok.prepared);
	brain__wrunlock(b);
	brain__rdlock(b);
	brain_msg_status st = {0};
	assert_int_equal(brain__call_STATUS(&b->spine, &st), 0);
	brain__unlock(b);
	struct {
		int lock; /* 0: none, 1: read */
		brain_msg_type type;
	} bad[] = {{0, BRAIN_MSG_LEARN}, {1, BRAIN_MSG_LEARN}, {0, BRAIN_MSG_LOOKUP},
	           {1, BRAIN_MSG_EMBED}};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		fflush(NULL);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			(void)freopen("/dev/null", "w", stderr); /* the abort's message */
			if (bad[i].lock)
				brain__rdlock(b);
			brain_msg_learn l = {"some words", 10, 0, NULL, 0, NULL};
			brain_msg_lookup k = {.id = 1};
			float v[256];
			brain_msg_embed e = {.text = "x", .len = 1, .vector = v};
			void *msg = bad[i].type == BRAIN_MSG_LEARN    ? (void *)&l
			            : bad[i].type == BRAIN_MSG_LOOKUP ? (void *)&k
			                                              : (void *)&e;
			brain__spine_call(&b->spine, bad[i].type, msg);
			_exit(0); /* not caught */
		}
		int status = 0;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status));
		assert_int_equal(WTERMSIG(status), SIGABRT);
	}
	brain_close(b);
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spine__swap_in_a_test_organ),
		cmocka_unit_test(test_spine__message_table),
		cmocka_unit_test(test_spine__queue_order_and_bounds),
		cmocka_unit_test(test_spine__queue_many_threads),
		cmocka_unit_test(test_spine__post_and_drain),
		cmocka_unit_test(test_spine__attach_checks_the_owner_column),
		cmocka_unit_test(test_spine__lock_column_is_checked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
