/*
 * organs/stomach.c - the Stomach: a bounded queue of writes to make later
 * (brain_remember_async, brain_add_async). The api checks a write as it
 * would check it now and puts it here (INGEST_PUT); the digester (the
 * Heart's worker, brain_flush, brain_tick, or brain_close) looks at the
 * oldest writes (INGEST_PEEK), makes them, and lets them go (INGEST_DONE).
 * A write stays queued until it has been made: one that failed for a
 * passing reason (memory, disk) is tried again, in order.
 *
 * Backpressure: the queue holds at most INGEST_QUEUE writes; a put waits
 * up to INGEST_WAIT_MS for room, then fails with BRAIN_EFULL.
 *
 * Every field is under the Stomach's own mutex (messages: lock ANY).
 */
#include <pthread.h>
#include <string.h>

#include "base/hashmap.h"
#include "base/sync.h"
#include "spine/spine.h"

typedef struct stomach {
	const brain_env *env;
	pthread_mutex_t mu;
	pthread_cond_t room; /* a write was let go */
	brain_ingest_item *ring;
	size_t cap;          /* a power of two, or 0 */
	uint64_t head, end;  /* items [head, end): ring[i & (cap - 1)] */
	brain_map ids;       /* ids of queued adds (no two the same) */
	uint64_t puts_waited;
} stomach;

static int create(const brain_env *env, brain_spine *spine, const brain_organ_args *args,
                  void **state)
{
	(void)spine;
	(void)args;
	stomach *s = brain__calloc(1, sizeof *s);
	if (!s)
		return brain__oom(sizeof *s, "stomach");
	s->env = env;
	pthread_mutex_init(&s->mu, NULL);
	brain__cond_init_mono(&s->room);
	brain__map_init(&s->ids);
	*state = s;
	return BRAIN_OK;
}

static void item_free(brain_ingest_item *it)
{
	brain__free(it->text);
	brain__free(it->vector);
	memset(it, 0, sizeof *it);
}

static void destroy(void *state)
{
	stomach *s = state;
	if (!s)
		return;
	/* writes never made (a close digests first: only a failed open or a
	 * close that could not make them leaves any) */
	for (uint64_t i = s->head; i < s->end; i++)
		item_free(&s->ring[i & (s->cap - 1)]);
	brain__free(s->ring);
	brain__map_free(&s->ids);
	pthread_cond_destroy(&s->room);
	pthread_mutex_destroy(&s->mu);
	brain__free(s);
}

/* Room for one more (the bound is checked by the caller). */
static int make_room(stomach *s)
{
	size_t n = (size_t)(s->end - s->head);
	if (n < s->cap)
		return BRAIN_OK;
	size_t cap = s->cap ? 2 * s->cap : 64;
	brain_ingest_item *r = brain__malloc_array(cap, sizeof *r);
	if (!r)
		return brain__oom(cap * sizeof *r, "ingest queue");
	for (uint64_t i = s->head; i < s->end; i++)
		r[i & (cap - 1)] = s->ring[i & (s->cap - 1)];
	brain__free(s->ring);
	s->ring = r;
	s->cap = cap;
	return BRAIN_OK;
}

static int on_INGEST_PUT(stomach *s, brain_msg_ingest_put *m)
{
	size_t bound = (size_t)brain__param(s->env, BRAIN_PIDX_INGEST_QUEUE);
	int64_t wait_ms = brain__param(s->env, BRAIN_PIDX_INGEST_WAIT_MS);
	struct timespec until = brain__deadline_ms(wait_ms);
	pthread_mutex_lock(&s->mu);
	int rc = BRAIN_OK;
	if (m->item.kind == BRAIN_INGEST_ADD && brain__map_get(&s->ids, m->item.id, NULL))
		rc = brain__err(BRAIN_EEXISTS, "id %llu is already queued",
		                (unsigned long long)m->item.id);
	bool waited = false, timed_out = false;
	while (rc == BRAIN_OK && s->end - s->head >= bound) {
		if (wait_ms == 0 || timed_out) {
			rc = brain__err(BRAIN_EFULL, "the ingest queue holds %zu writes (INGEST_QUEUE) and "
			                "none was made within %lld ms (INGEST_WAIT_MS); brain_flush waits "
			                "for them", bound, (long long)wait_ms);
			break;
		}
		waited = true; /* backpressure, whether room comes in time or not */
		timed_out = pthread_cond_timedwait(&s->room, &s->mu, &until) != 0;
	}
	s->puts_waited += waited;
	if (rc == BRAIN_OK)
		rc = make_room(s);
	if (rc == BRAIN_OK && m->item.kind == BRAIN_INGEST_ADD) {
		uint32_t *v;
		bool created;
		rc = brain__map_reserve(&s->ids, brain__map_count(&s->ids) + 1);
		if (rc == BRAIN_OK) {
			brain__map_upsert(&s->ids, m->item.id, &v, &created);
			*v = 0;
		}
	}
	if (rc == BRAIN_OK) {
		m->item.seq = s->end;
		s->ring[s->end & (s->cap - 1)] = m->item;
		s->end++;
		memset(&m->item, 0, sizeof m->item); /* the queue owns the buffers now */
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static int on_INGEST_PEEK(stomach *s, brain_msg_ingest_peek *m)
{
	pthread_mutex_lock(&s->mu);
	size_t n = (size_t)BRAIN_MIN((uint64_t)m->max, s->end - s->head);
	for (size_t i = 0; i < n; i++)
		m->items[i] = s->ring[(s->head + i) & (s->cap - 1)]; /* borrowed until DONE */
	m->n = n;
	pthread_mutex_unlock(&s->mu);
	return BRAIN_OK;
}

static int on_INGEST_DONE(stomach *s, brain_msg_ingest_done *m)
{
	pthread_mutex_lock(&s->mu);
	size_t n = (size_t)BRAIN_MIN((uint64_t)m->n, s->end - s->head);
	for (size_t i = 0; i < n; i++) {
		brain_ingest_item *it = &s->ring[(s->head + i) & (s->cap - 1)];
		if (it->kind == BRAIN_INGEST_ADD)
			brain__map_remove(&s->ids, it->id);
		item_free(it);
	}
	s->head += n;
	pthread_cond_broadcast(&s->room);
	pthread_mutex_unlock(&s->mu);
	return BRAIN_OK;
}

static int on_INGEST_STATUS(stomach *s, brain_msg_ingest_status *m)
{
	pthread_mutex_lock(&s->mu);
	m->queued = s->end - s->head;
	m->put = s->end;
	m->done = s->head;
	m->puts_waited = s->puts_waited;
	pthread_mutex_unlock(&s->mu);
	return BRAIN_OK;
}

BRAIN_ORGAN_HANDLERS(STOMACH, handlers);

const brain_organ brain__organ_stomach = {
	.name = "stomach",
	.id = BRAIN_ORGAN_STOMACH,
	.create = create,
	.destroy = destroy,
	.handlers = handlers,
};
