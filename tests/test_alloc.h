/*
 * tests/test_alloc.h - an allocator hook for fault loops: fail the Nth
 * allocation (or every one) and count the blocks alive, so a test can
 * check that each failure is reported and leaks nothing.
 *
 *   test_alloc_install();          once no brain or results object exists
 *   test_alloc_arm(n);             fail the nth allocation from now (-1: all)
 *   ... the operation ...
 *   test_alloc_disarm();
 *   test_alloc_remove();
 */
#ifndef BRAIN_TEST_ALLOC_H
#define BRAIN_TEST_ALLOC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "braincore.h"
#include "braincore/sys/alloc.h"

/* atomics: the brain's background threads allocate too */
static _Atomic long test_alloc_calls;   /* allocations while armed */
static _Atomic long test_alloc_fail_at; /* 0: never; -1: every one; n: the nth */
static _Atomic long test_alloc_live;    /* blocks alive */

static inline bool test_alloc_fail_now(void)
{
	long at = test_alloc_fail_at;
	if (at == 0)
		return false;
	long n = atomic_fetch_add(&test_alloc_calls, 1) + 1;
	return at < 0 || n == at;
}

static inline void *test_alloc_malloc(size_t size, void *payload)
{
	(void)payload;
	if (test_alloc_fail_now())
		return NULL;
	void *p = malloc(size);
	if (p)
		test_alloc_live++;
	return p;
}

static inline void *test_alloc_realloc(void *p, size_t size, void *payload)
{
	(void)payload;
	if (test_alloc_fail_now())
		return NULL;
	void *q = realloc(p, size);
	if (q && !p)
		test_alloc_live++;
	return q;
}

static inline void test_alloc_free(void *p, void *payload)
{
	(void)payload;
	if (p)
		test_alloc_live--;
	free(p);
}

static inline int test_alloc_install(void)
{
	brain_allocator a;
	brain_allocator_init(&a, BRAIN_ALLOCATOR_VERSION);
	a.malloc = test_alloc_malloc;
	a.realloc = test_alloc_realloc;
	a.free = test_alloc_free;
	test_alloc_fail_at = 0;
	test_alloc_live = 0;
	return brain_set_allocator(&a);
}

static inline int test_alloc_remove(void)
{
	test_alloc_fail_at = 0;
	return brain_set_allocator(NULL);
}

static inline void test_alloc_arm(long n)
{
	test_alloc_calls = 0;
	test_alloc_fail_at = n;
}

static inline void test_alloc_disarm(void)
{
	test_alloc_fail_at = 0;
}

/* ---- a hook that counts bytes ------------------------------------------
 *
 *   test_bytes_install();          once no brain or results object exists
 *   ... test_bytes_live(), test_bytes_peak() ...
 *   test_alloc_remove();
 */

static long long test_bytes_now;  /* bytes the library holds */
static long long test_bytes_high; /* the most it held since install */

static inline void test_bytes_add(long long delta)
{
	long long now = __atomic_add_fetch(&test_bytes_now, delta, __ATOMIC_RELAXED);
	long long high = __atomic_load_n(&test_bytes_high, __ATOMIC_RELAXED);
	while (now > high && !__atomic_compare_exchange_n(&test_bytes_high, &high, now, true,
	                                                  __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

/* Each block carries its size in 16 bytes in front of it. */
static inline void *test_bytes_malloc(size_t size, void *payload)
{
	(void)payload;
	size_t *p = malloc(size + 16);
	if (!p)
		return NULL;
	p[0] = size;
	test_bytes_add((long long)size);
	return (char *)p + 16;
}

static inline void test_bytes_free(void *ptr, void *payload)
{
	(void)payload;
	if (!ptr)
		return;
	size_t *p = (size_t *)(void *)((char *)ptr - 16);
	test_bytes_add(-(long long)p[0]);
	free(p);
}

static inline void *test_bytes_realloc(void *ptr, size_t size, void *payload)
{
	if (!ptr)
		return test_bytes_malloc(size, payload);
	size_t *p = (size_t *)(void *)((char *)ptr - 16);
	size_t old = p[0];
	size_t *q = realloc(p, size + 16);
	if (!q)
		return NULL;
	q[0] = size;
	test_bytes_add((long long)size - (long long)old);
	return (char *)q + 16;
}

static inline int test_bytes_install(void)
{
	brain_allocator a = {BRAIN_ALLOCATOR_VERSION, test_bytes_malloc, test_bytes_realloc,
	                     test_bytes_free, NULL};
	test_bytes_now = test_bytes_high = 0;
	return brain_set_allocator(&a);
}

static inline long long test_bytes_live(void)
{
	return __atomic_load_n(&test_bytes_now, __ATOMIC_RELAXED);
}

static inline long long test_bytes_peak(void)
{
	return __atomic_load_n(&test_bytes_high, __ATOMIC_RELAXED);
}

#endif /* BRAIN_TEST_ALLOC_H */
