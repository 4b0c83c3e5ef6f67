/*
 * base/queue.h - a bounded multi-producer, multi-consumer queue of fixed-size
 * items, for the Spine's background path. Producers block (or fail at once)
 * when it is full: that is the backpressure.
 */
#ifndef BRAIN_QUEUE_H
#define BRAIN_QUEUE_H

#include <pthread.h>

#include "base/base.h"

typedef struct brain_queue {
	pthread_mutex_t lock;
	pthread_cond_t not_empty;
	pthread_cond_t not_full;
	unsigned char *items; /* capacity * item_size bytes, a ring */
	size_t item_size;
	size_t capacity;
	size_t head;          /* next item to pop */
	size_t count;
	bool closed;
} brain_queue;

/* Returns 0, BRAIN_EINVAL (capacity or item_size 0) or BRAIN_ENOMEM. */
int brain__queue_init(brain_queue *q, size_t capacity, size_t item_size);
void brain__queue_destroy(brain_queue *q);

/* Copy item_size bytes of `item` in. wait_ms: 0 = don't wait, < 0 = forever,
 * > 0 = at most that long. Returns 0, BRAIN_EFULL (no room in time) or
 * BRAIN_ESTATE (closed). */
int brain__queue_push(brain_queue *q, const void *item, int wait_ms);

/* Copy the oldest item out. Returns 0, BRAIN_EEMPTY (none in time) or
 * BRAIN_ESTATE (closed and drained). */
int brain__queue_pop(brain_queue *q, void *item, int wait_ms);

/* Refuse new items and wake every waiter; items already in can still be
 * popped. */
void brain__queue_close(brain_queue *q);

size_t brain__queue_depth(brain_queue *q);

#endif /* BRAIN_QUEUE_H */
