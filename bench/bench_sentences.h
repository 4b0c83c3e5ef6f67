/*
 * bench/bench_sentences.h - deterministic English-like sentences for the
 * benchmarks when the STS data is absent, and the splitmix64 generator
 * every benchmark draws from (C, used from C and C++).
 */
#ifndef BRAINCORE_BENCH_SENTENCES_H
#define BRAINCORE_BENCH_SENTENCES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* splitmix64: small, fast, deterministic across platforms. */
static inline uint64_t bench_splitmix64(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Write the next sentence drawn from *state (splitmix64; start it at any
 * seed) into buf, NUL-terminated and cut to fit; returns its length. */
size_t bench_sentence(uint64_t *state, char *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* BRAINCORE_BENCH_SENTENCES_H */
