/*
 * braincore/sys/alloc.h - the allocator hook.
 *
 * The library allocates every byte through one allocator, which the host may
 * replace (a pool, accounting, a test that fails the Nth allocation). The
 * only exception is the array returned by brain_recall(), which the seed API
 * promises can be released with free(), and is therefore made by malloc().
 * Each block the library asks for is 16 bytes longer than what it uses: a
 * header that counts the block against the brain that made it
 * (brain_get_stats(), the heap_* fields).
 */
#ifndef BRAINCORE_SYS_ALLOC_H
#define BRAINCORE_SYS_ALLOC_H

#include "../common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BRAIN_ALLOCATOR_VERSION 1

/**
 * An allocator: malloc/realloc/free with a payload, with the C semantics
 * (malloc returns memory aligned for any type or NULL; realloc(NULL, n) is
 * malloc; free(NULL) is a no-op). The library never asks for 0 bytes.
 * All three are called from any thread, concurrently.
 */
typedef struct brain_allocator {
	unsigned int version; /**< BRAIN_ALLOCATOR_VERSION */
	void *(*malloc)(size_t size, void *payload);
	void *(*realloc)(void *ptr, size_t size, void *payload);
	void (*free)(void *ptr, void *payload);
	void *payload;
} brain_allocator;

/** Fill `a` with the default allocator (libc). Returns 0, BRAIN_ENULL or
 *  BRAIN_EVERSION.
 * Thread-safe (touches only *a).
 */
int brain_allocator_init(brain_allocator *a, unsigned int version);

/**
 * Install the process-wide allocator (copied), or restore libc with NULL.
 * Only allowed while no brain and no results object exists, since memory
 * must be freed by the allocator that made it. Returns 0 or: BRAIN_EBUSY
 * (objects alive), BRAIN_ENULL (a function pointer is NULL),
 * BRAIN_EVERSION. Thread-safe.
 */
int brain_set_allocator(const brain_allocator *a);

#ifdef __cplusplus
}
#endif

#endif /* BRAINCORE_SYS_ALLOC_H */
