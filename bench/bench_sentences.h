/*
 * bench/bench_sentences.h - deterministic English-like sentences for the
 * benchmarks when the STS data is absent (C, used from C and C++).
 */
#ifndef BRAINCORE_BENCH_SENTENCES_H
#define BRAINCORE_BENCH_SENTENCES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Write the next sentence drawn from *state (splitmix64; start it at any
 * seed) into buf, NUL-terminated and cut to fit; returns its length. */
size_t bench_sentence(uint64_t *state, char *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* BRAINCORE_BENCH_SENTENCES_H */
