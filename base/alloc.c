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

/* ---- accounts ---------------------------------------------------------- */

struct brain_mem {
	_Atomic int64_t bytes[BRAIN_MEM__COUNT];
	_Atomic int64_t total;
	_Atomic int64_t peak;
	/* allocations alive, plus one for the owner until it releases */
	_Atomic int64_t refs;
};

/* In front of every allocation; 16 bytes keep malloc's alignment. */
typedef struct header {
	brain_mem *mem;
	uint64_t size_cat; /* size << 8 | category */
} header;
_Static_assert(sizeof(header) == 16, "allocation header");
#define HEADER ((size_t)sizeof(header))

static _Thread_local brain_mem_scope t_scope;
static _Atomic uint64_t g_unscoped;

uint64_t brain__mem_unscoped(void)
{
	return atomic_load_explicit(&g_unscoped, memory_order_relaxed);
}

brain_mem_scope brain__mem_enter(brain_mem *m, int category)
{
	brain_mem_scope previous = t_scope;
	t_scope.mem = m;
	t_scope.category = category;
	return previous;
}

void brain__mem_leave(brain_mem_scope previous)
{
	t_scope = previous;
}

brain_mem_scope brain__mem_current(void)
{
	return t_scope;
}

static void *raw_malloc(size_t size)
{
	return g_alloc.malloc(size, g_alloc.payload);
}

static void raw_free(void *p)
{
	g_alloc.free(p, g_alloc.payload);
}

static void account_add(brain_mem *m, int category, int64_t delta)
{
	atomic_fetch_add_explicit(&m->bytes[category], delta, memory_order_relaxed);
	int64_t total = atomic_fetch_add_explicit(&m->total, delta, memory_order_relaxed) + delta;
	int64_t peak = atomic_load_explicit(&m->peak, memory_order_relaxed);
	while (total > peak && !atomic_compare_exchange_weak_explicit(
	                           &m->peak, &peak, total, memory_order_relaxed, memory_order_relaxed))
		;
}

static void unref(brain_mem *m)
{
	if (atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1)
		raw_free(m); /* the owner has released it: nothing refers to it */
}

brain_mem *brain__mem_new(void)
{
	brain_mem *m = raw_malloc(sizeof *m);
	if (!m)
		return NULL;
	for (int i = 0; i < BRAIN_MEM__COUNT; i++)
		atomic_init(&m->bytes[i], 0);
	atomic_init(&m->total, 0);
	atomic_init(&m->peak, 0);
	atomic_init(&m->refs, 1);
	return m;
}

void brain__mem_release(brain_mem *m)
{
	if (m)
		unref(m);
}

void brain__mem_usage(const brain_mem *m, brain_mem_usage *out)
{
	memset(out, 0, sizeof *out);
	if (!m)
		return;
	brain_mem *w = (brain_mem *)m;
	for (int i = 0; i < BRAIN_MEM__COUNT; i++)
		out->bytes[i] = (uint64_t)BRAIN_MAX(atomic_load(&w->bytes[i]), (int64_t)0);
	out->total = (uint64_t)BRAIN_MAX(atomic_load(&w->total), (int64_t)0);
	out->peak = (uint64_t)BRAIN_MAX(atomic_load(&w->peak), (int64_t)0);
	out->allocations = (uint64_t)BRAIN_MAX(atomic_load(&w->refs) - 1, (int64_t)0);
}

/* ---- allocation ---------------------------------------------------------- */

/* g_alloc changes only under g_alloc_lock while no object exists, and every
 * allocation belongs to an object counted (under the same lock) before its
 * first allocation and uncounted after its last free; so a switch is
 * ordered before or after every allocation and reading g_alloc here needs
 * no lock. */
void *brain__malloc(size_t size)
{
	if (size == 0)
		size = 1;
	if (size > SIZE_MAX - HEADER || size > (SIZE_MAX >> 8))
		return NULL;
	header *h = raw_malloc(HEADER + size);
	if (!h)
		return NULL;
	brain_mem_scope sc = t_scope;
	h->mem = sc.mem;
	h->size_cat = (uint64_t)size << 8 | (uint64_t)(sc.category & 0xff);
	if (sc.mem) {
		atomic_fetch_add_explicit(&sc.mem->refs, 1, memory_order_relaxed);
		account_add(sc.mem, sc.category, (int64_t)size);
	} else {
		atomic_fetch_add_explicit(&g_unscoped, 1, memory_order_relaxed);
	}
	return h + 1;
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

/* The block keeps the account and category it was made under. */
void *brain__realloc(void *ptr, size_t size)
{
	if (!ptr)
		return brain__malloc(size);
	if (size == 0)
		size = 1;
	if (size > SIZE_MAX - HEADER || size > (SIZE_MAX >> 8))
		return NULL;
	header *old = (header *)ptr - 1;
	size_t old_size = (size_t)(old->size_cat >> 8);
	int category = (int)(old->size_cat & 0xff);
	header *h = g_alloc.realloc(old, HEADER + size, g_alloc.payload);
	if (!h)
		return NULL;
	h->size_cat = (uint64_t)size << 8 | (uint64_t)category;
	if (h->mem)
		account_add(h->mem, category, (int64_t)size - (int64_t)old_size);
	return h + 1;
}

void brain__free(void *ptr)
{
	if (!ptr)
		return;
	header *h = (header *)ptr - 1;
	brain_mem *m = h->mem;
	if (m)
		account_add(m, (int)(h->size_cat & 0xff), -(int64_t)(h->size_cat >> 8));
	raw_free(h);
	if (m)
		unref(m);
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

void *brain__grow(void *buf, size_t *cap, size_t need, size_t elem, const char *what, int *rc)
{
	size_t ncap = *cap ? *cap : 16;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	size_t bytes;
	if (!brain__mul_ok(ncap, elem, &bytes)) {
		*rc = brain__oom(SIZE_MAX, what);
		return NULL;
	}
	void *p = brain__realloc(buf, bytes);
	if (!p) {
		*rc = brain__oom(bytes, what);
		return NULL;
	}
	*cap = ncap;
	return p;
}
