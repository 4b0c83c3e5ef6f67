/*
 * base/alloc.c - every allocation of the library goes through here, to the
 * allocator hook (braincore/sys/alloc.h).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

static void *libc_malloc(size_t size, void *payload)
{
	(void)payload;
	return malloc(size);
}

static void *libc_realloc(void *ptr, size_t size, void *payload)
{
	(void)payload;
	return realloc(ptr, size);
}

static void libc_free(void *ptr, void *payload)
{
	(void)payload;
	free(ptr);
}

static brain_allocator g_alloc = {BRAIN_ALLOCATOR_VERSION, libc_malloc, libc_realloc, libc_free,
                                  NULL};
static pthread_mutex_t g_alloc_lock = PTHREAD_MUTEX_INITIALIZER;
/* Objects alive (brains, results). Changed under g_alloc_lock only when it
 * matters (switching allocators); counted atomically otherwise. */
static atomic_long g_objects;

BRAIN_EXPORT int brain_allocator_init(brain_allocator *a, unsigned int version)
{
	if (!a)
		return brain__err(BRAIN_ENULL, "allocator_init: allocator is NULL");
	if (version != BRAIN_ALLOCATOR_VERSION)
		return brain__err(BRAIN_EVERSION,
		                  "allocator_init: version %u unknown (this library knows %u)",
		                  version, (unsigned)BRAIN_ALLOCATOR_VERSION);
	a->version = version;
	a->malloc = libc_malloc;
	a->realloc = libc_realloc;
	a->free = libc_free;
	a->payload = NULL;
	return BRAIN_OK;
}

BRAIN_EXPORT int brain_set_allocator(const brain_allocator *a)
{
	brain_allocator next;
	if (a) {
		if (a->version != BRAIN_ALLOCATOR_VERSION)
			return brain__err(BRAIN_EVERSION,
			                  "set_allocator: version %u unknown (this library knows %u)",
			                  a->version, (unsigned)BRAIN_ALLOCATOR_VERSION);
		if (!a->malloc || !a->realloc || !a->free)
			return brain__err(BRAIN_ENULL,
			                  "set_allocator: malloc, realloc and free must all be set");
		next = *a;
	} else {
		brain_allocator_init(&next, BRAIN_ALLOCATOR_VERSION);
	}
	pthread_mutex_lock(&g_alloc_lock);
	long alive = atomic_load(&g_objects);
	if (alive != 0) {
		pthread_mutex_unlock(&g_alloc_lock);
		return brain__err(BRAIN_EBUSY,
		                  "set_allocator: %ld brains or results objects are still alive",
		                  alive);
	}
	g_alloc = next;
	pthread_mutex_unlock(&g_alloc_lock);
	return BRAIN_OK;
}

void brain__objects_inc(void)
{
	/* Under the lock, so that an allocator switch either sees this object
	 * (and refuses) or happens entirely before its first allocation. */
	pthread_mutex_lock(&g_alloc_lock);
	atomic_fetch_add(&g_objects, 1);
	pthread_mutex_unlock(&g_alloc_lock);
}

void brain__objects_inc_nested(void)
{
	atomic_fetch_add(&g_objects, 1);
}

void brain__objects_dec(void)
{
	atomic_fetch_sub(&g_objects, 1);
}

/* g_alloc changes only under g_alloc_lock while no object exists, and every
 * allocation belongs to an object counted (under the same lock) before its
 * first allocation and uncounted after its last free; so a switch is
 * ordered before or after every allocation and reading g_alloc here needs
 * no lock. */
void *brain__malloc(size_t size)
{
	return g_alloc.malloc(size ? size : 1, g_alloc.payload);
}

void *brain__calloc(size_t count, size_t size)
{
	size_t total;
	if (!brain__mul_ok(count, size, &total))
		return NULL;
	void *p = brain__malloc(total);
	if (p)
		memset(p, 0, total);
	return p;
}

void *brain__realloc(void *ptr, size_t size)
{
	return g_alloc.realloc(ptr, size ? size : 1, g_alloc.payload);
}

void brain__free(void *ptr)
{
	if (ptr)
		g_alloc.free(ptr, g_alloc.payload);
}

void *brain__malloc_array(size_t count, size_t size)
{
	size_t total;
	if (!brain__mul_ok(count, size, &total))
		return NULL;
	return brain__malloc(total);
}

char *brain__strndup(const char *s, size_t len)
{
	if (len == SIZE_MAX)
		return NULL;
	char *p = brain__malloc(len + 1);
	if (!p)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}
