/*
 * base/sync.h - waiting on the monotonic clock: condition variables whose
 * timed waits a wall-clock jump neither stalls nor hurries, and the
 * deadlines they wait for. Every timed wait of the library goes through
 * these (the Spine's queue, the Heart, the Stomach).
 */
#ifndef BRAIN_BASE_SYNC_H
#define BRAIN_BASE_SYNC_H

#include <pthread.h>
#include <time.h>

#include "base/base.h"

/* Initialise c to measure timed waits against CLOCK_MONOTONIC. */
void brain__cond_init_mono(pthread_cond_t *c);

/* The CLOCK_MONOTONIC time `ms` milliseconds from now (ms >= 0). */
struct timespec brain__deadline_ms(int64_t ms);

#endif /* BRAIN_BASE_SYNC_H */
