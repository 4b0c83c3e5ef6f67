/*
 * tests/test_spine.c - the Spine: dispatch, swapping an organ for a test
 * organ, the bounded queue and the background path.
 */
#include <pthread.h>
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

static int fake_create(const brain_env *env, brain_spine *spine, void **state)
{
	(void)spine;
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

static int fake_handle(void *state, int type, void *msg)
{
	fake_cortex *f = state;
	switch (type) {
	case BRAIN_MSG_EMBED: {
		brain_msg_embed *m = msg;
		memset(m->vector, 0, f->dims * sizeof(float));
		m->vector[(unsigned char)m->text[0] % f->dims] = 1.0f;
		m->epoch = 0;
		f->embeds++;
		return BRAIN_OK;
	}
	case BRAIN_MSG_EMBED_EPOCH:
		((brain_msg_embed_epoch *)msg)->epoch = 0;
		return BRAIN_OK;
	case BRAIN_MSG_LEARN:
		f->learns++;
		return BRAIN_OK;
	default:
		return brain__err(BRAIN_ENOTSUP, "fake cortex: no %s", brain__msg_name[type]);
	}
}

static const brain_organ g_fake_cortex = {"fake-cortex", BRAIN_ORGAN_CORTEX, fake_create,
                                          fake_destroy, fake_handle, NULL};

static void test_spine__swap_in_a_test_organ(void **state)
{
	(void)state;
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.dimensions = 256;
	brain_t *b = NULL;
	assert_int_equal(brain_open(NULL, &o, &b), 0);
	assert_int_equal(brain__spine_attach(&b->spine, &g_fake_cortex), 0);

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
	brain__spine_init(&s, &env);
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

static int rec_create(const brain_env *env, brain_spine *spine, void **state)
{
	(void)env;
	(void)spine;
	*state = calloc(1, sizeof(recorder));
	return BRAIN_OK;
}

static int rec_handle(void *state, int type, void *msg)
{
	recorder *r = state;
	if (type != BRAIN_MSG_FORGET)
		return brain__err(BRAIN_ENOTSUP, "recorder: no %s", brain__msg_name[type]);
	r->seen[r->n++] = (int)((brain_msg_forget *)msg)->id;
	return r->n == 2 ? brain__err(BRAIN_ENOTFOUND, "recorder fails the second") : BRAIN_OK;
}

static const brain_organ g_recorder = {"recorder", BRAIN_ORGAN_HIPPOCAMPUS, rec_create,
                                       fake_destroy, rec_handle, NULL};

static void test_spine__post_and_drain(void **state)
{
	(void)state;
	brain_env env;
	memset(&env, 0, sizeof env);
	brain_spine s;
	brain__spine_init(&s, &env);
	assert_int_equal(brain__spine_attach(&s, &g_recorder), 0);
	brain_msg_forget f = {7, false, false};
	assert_int_equal(brain__spine_post(&s, BRAIN_MSG_FORGET, &f, sizeof f, 0), BRAIN_ESTATE);
	assert_int_equal(brain__spine_queue_init(&s, 4), 0);
	for (int i = 1; i <= 3; i++) {
		f.id = (brain_id)i;
		assert_int_equal(brain__spine_post(&s, BRAIN_MSG_FORGET, &f, sizeof f, 0), 0);
	}
	char big[BRAIN_POST_MAX + 1] = {0};
	assert_int_equal(brain__spine_post(&s, BRAIN_MSG_FORGET, big, sizeof big, 0), BRAIN_EINVAL);
	/* a failing handler is logged, and draining goes on */
	assert_int_equal(brain__spine_drain(&s, 10, 0), 3);
	recorder *r = s.organs[BRAIN_ORGAN_HIPPOCAMPUS].state;
	assert_int_equal(r->n, 3);
	assert_int_equal(r->seen[0], 1);
	assert_int_equal(r->seen[1], 2);
	assert_int_equal(r->seen[2], 3);
	assert_int_equal(brain__spine_drain(&s, 10, 0), 0);
	brain__spine_fini(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spine__swap_in_a_test_organ),
		cmocka_unit_test(test_spine__message_table),
		cmocka_unit_test(test_spine__queue_order_and_bounds),
		cmocka_unit_test(test_spine__queue_many_threads),
		cmocka_unit_test(test_spine__post_and_drain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
