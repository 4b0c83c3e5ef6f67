/*
 * base/decay.h - the importance a memory ranks by, as it goes unused: the
 * Circadian's curve (docs/architecture.md), shared by the Thalamus, which
 * ranks by it, and the Hippocampus, which finds the least valuable
 * memories by it.
 */
#ifndef BRAIN_BASE_DECAY_H
#define BRAIN_BASE_DECAY_H

#include <math.h>

#include "base/base.h"

/* importance * 2^(-idle / half_life): halved for every DECAY_HALF_LIFE_H
 * hours since the memory was made or last recalled (a recall renews it);
 * half_life_h 0: no decay. In [0, importance]. */
static inline float brain__importance_now(float importance, int64_t accessed_ms, int64_t now_ms,
                                          int64_t half_life_h)
{
	if (half_life_h <= 0 || now_ms <= accessed_ms)
		return importance;
	double idle_h = (double)(now_ms - accessed_ms) / 3600000.0;
	return (float)((double)importance * exp2(-idle_h / (double)half_life_h));
}

#endif /* BRAIN_BASE_DECAY_H */
