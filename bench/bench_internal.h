/*
 * bench/bench_internal.h - the few internal calls the benchmarks time on
 * their own, wrapped in C (the Spine's headers use C11 atomics, which C++17
 * cannot include).
 */
#ifndef BRAINCORE_BENCH_INTERNAL_H
#define BRAINCORE_BENCH_INTERNAL_H

#include <stddef.h>

#include <braincore.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Embed `text` (len bytes, valid UTF-8) with the brain's embedder, exactly
 * as remember (query == 0) or recall (query != 0) does, through the Spine's
 * EMBED message, without touching the store. vector holds the brain's
 * dimensions. Returns 0 or a braincore error code. */
int bench_embed(brain_t *b, const char *text, size_t len, int query, float *vector);

#ifdef __cplusplus
}
#endif

#endif /* BRAINCORE_BENCH_INTERNAL_H */
