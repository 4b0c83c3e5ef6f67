/*
 * base/queue.c - bounded blocking queue of fixed-size items (see queue.h).
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "base/queue.h"
#include "base/sync.h"

int brain__queue_init(brain_queue *q, size_t capacity, size_t item_size)
{
	memset(q, 0, sizeof *q);
	if (capacity == 0 || item_size == 0)
		return brain__err(BRAIN_EINVAL, "queue: capacity %zu and item size %zu must be > 0",
		                  capacity, item_size);
	q->items = brain__malloc_array(capacity, item_size);
	if (!q->items)
		return brain__oom(capacity * item_size, "queue");
	q->capacity = capacity;
	q->item_size = item_size;
	pthread_mutex_init(&q->lock, NULL);
	/* Timed waits measure against the monotonic clock, so a wall-clock jump
	 * neither stalls nor hurries them. */
	brain__cond_init_mono(&q->not_empty);
	brain__cond_init_mono(&q->not_full);
	return BRAIN_OK;
}

void brain__queue_destroy(brain_queue *q)
{
	if (!q->items)
		return;
	pthread_cond_destroy(&q->not_empty);
	pthread_cond_destroy(&q->not_full);
	pthread_mutex_destroy(&q->lock);
	brain__free(q->items);
	memset(q, 0, sizeof *q);
}

static bool has_room(const brain_queue *q)
{
	return q->closed || q->count < q->capacity;
}

static bool has_item(const brain_queue *q)
{
	return q->closed || q->count > 0;
}

/* Wait on `cond` until ready(q) holds: wait_ms 0 = not at all, < 0 = as long
 * as it takes. Returns whether it holds. Called with q->lock held. */
static bool wait_for(brain_queue *q, pthread_cond_t *cond, bool (*ready)(const brain_queue *),
                     int wait_ms)
{
	struct timespec deadline;
	if (wait_ms > 0)
		deadline = brain__deadline_ms(wait_ms);
	while (!ready(q)) {
		if (wait_ms == 0)
			return false;
		if (wait_ms < 0)
			pthread_cond_wait(cond, &q->lock);
		else if (pthread_cond_timedwait(cond, &q->lock, &deadline) == ETIMEDOUT)
			return ready(q);
	}
	return true;
}

int brain__queue_push(brain_queue *q, const void *item, int wait_ms)
{
	pthread_mutex_lock(&q->lock);
	bool ok = wait_for(q, &q->not_full, has_room, wait_ms);
	if (q->closed) {
		pthread_mutex_unlock(&q->lock);
		return brain__err(BRAIN_ESTATE, "queue: closed");
	}
	if (!ok) {
		pthread_mutex_unlock(&q->lock);
		return brain__err(BRAIN_EFULL, "queue: full (%zu items)", q->capacity);
	}
	size_t tail = (q->head + q->count) % q->capacity;
	memcpy(q->items + tail * q->item_size, item, q->item_size);
	q->count++;
	pthread_cond_signal(&q->not_empty);
	pthread_mutex_unlock(&q->lock);
	return BRAIN_OK;
}

int brain__queue_pop(brain_queue *q, void *item, int wait_ms)
{
	pthread_mutex_lock(&q->lock);
	wait_for(q, &q->not_empty, has_item, wait_ms);
	if (q->count == 0) {
		bool closed = q->closed;
		pthread_mutex_unlock(&q->lock);
		return closed ? brain__err(BRAIN_ESTATE, "queue: closed and drained")
		              : brain__err(BRAIN_EEMPTY, "queue: empty");
	}
	memcpy(item, q->items + q->head * q->item_size, q->item_size);
	q->head = (q->head + 1) % q->capacity;
	q->count--;
	pthread_cond_signal(&q->not_full);
	pthread_mutex_unlock(&q->lock);
	return BRAIN_OK;
}

void brain__queue_close(brain_queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->closed = true;
	pthread_cond_broadcast(&q->not_empty);
	pthread_cond_broadcast(&q->not_full);
	pthread_mutex_unlock(&q->lock);
}

size_t brain__queue_depth(brain_queue *q)
{
	pthread_mutex_lock(&q->lock);
	size_t n = q->count;
	pthread_mutex_unlock(&q->lock);
	return n;
}
