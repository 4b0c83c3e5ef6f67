/*
 * tests/test_util.h - small helpers shared by the tests.
 */
#ifndef BRAIN_TEST_UTIL_H
#define BRAIN_TEST_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#define TEST_MIN(a, b) ((a) < (b) ? (a) : (b))

/* Deterministic pseudo-random numbers (splitmix64), so failures replay. */
typedef struct test_rng {
	uint64_t state;
} test_rng;

static inline uint64_t test_rng_next(test_rng *r)
{
	uint64_t z = (r->state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static inline double test_rng_unit(test_rng *r)
{
	return (double)(test_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform float in [lo, hi). */
static inline float test_rng_float(test_rng *r, float lo, float hi)
{
	return lo + (hi - lo) * (float)test_rng_unit(r);
}

/* Directory of the shared evaluation data, or NULL if it is absent (tests
 * then skip). BRAINCORE_SHARED_DATA overrides the configured path. */
static inline const char *test_shared_data_dir(void)
{
	const char *dir = getenv("BRAINCORE_SHARED_DATA");
	if (!dir || !*dir)
		dir = BRAIN_SHARED_DATA_DIR;
	struct stat st;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return NULL;
	return dir;
}

#endif /* BRAIN_TEST_UTIL_H */
