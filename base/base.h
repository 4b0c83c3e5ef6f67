/*
 * base/base.h - the base every layer may use: error reporting, the allocator,
 * logging, time, hashing and overflow-checked arithmetic.
 *
 * This is the platform shim at the bottom of the layer order (see
 * docs/architecture.md): storage/, index/, organs/ and the api all include
 * it; it includes nothing of theirs.
 */
#ifndef BRAIN_BASE_H
#define BRAIN_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "braincore.h"
#include "braincore/sys/alloc.h"

/* Marks a definition as part of the exported ABI (the library is built with
 * -fvisibility=hidden; headers stay free of attributes for FFI parsers). */
#define BRAIN_EXPORT __attribute__((visibility("default")))

#define BRAIN_LIKELY(x) __builtin_expect(!!(x), 1)
#define BRAIN_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define BRAIN_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define BRAIN_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define BRAIN_MIN(a, b) ((a) < (b) ? (a) : (b))
#define BRAIN_MAX(a, b) ((a) > (b) ? (a) : (b))

/* ---- errors ------------------------------------------------------------ */

/* Record `code` and a formatted detail message as this thread's last error
 * and return `code`, so that `return brain__err(BRAIN_EDIM, "...", ...)`
 * reports and propagates in one step. The message is truncated to fit the
 * thread-local buffer (it is a diagnostic, not data). */
int brain__err(int code, const char *fmt, ...) BRAIN_PRINTF(2, 3);

/* Same, with the message of a lower layer prefixed by context:
 * "remember: " + the current message. Returns code. */
int brain__err_context(int code, const char *prefix);

/* For the api: make the message of a failed call start with "verb: ",
 * the call it came from, unless it already does. Returns code (and does
 * nothing when code is BRAIN_OK). */
int brain__err_prefix(int code, const char *verb);

/* Report out of memory for `bytes` needed by `what`; returns BRAIN_ENOMEM. */
int brain__oom(size_t bytes, const char *what);

/* ---- allocation (through the hook of braincore/sys/alloc.h) ------------ */

void *brain__malloc(size_t size);
void *brain__calloc(size_t count, size_t size);
void *brain__realloc(void *ptr, size_t size);
/* buf grown to hold at least `need` elements of `elem` bytes, by doubling
 * (from 16): the new buffer and *cap, or NULL with *rc set to the
 * reported BRAIN_ENOMEM (buf is left alone). */
void *brain__grow(void *buf, size_t *cap, size_t need, size_t elem, const char *what, int *rc);
void brain__free(void *ptr);
/* malloc(count * size) with overflow check; NULL on overflow or failure. */
void *brain__malloc_array(size_t count, size_t size);
/* Duplicate len bytes and add a NUL; NULL on failure. */
char *brain__strndup(const char *s, size_t len);

/* ---- allocation per brain ---------------------------------------------- */

/* Every allocation carries a 16-byte header naming the account it is
 * counted against (NULL: none) and its size, so that whichever thread
 * frees it takes it off the right account. An account is a brain's: the
 * engine makes one per brain, and the code that works for a brain enters
 * its scope (the Spine around every message, the engine around its own
 * work, threads a brain starts at their start). */
enum brain_mem_category {
	BRAIN_MEM_ENGINE = 0,  /* the handle, the api's and the engine's own work */
	BRAIN_MEM_ORGAN0 = 1,  /* + organ id (spine/spine.h): each organ's state */
	BRAIN_MEM_INDEX = 12,  /* the index backend */
	BRAIN_MEM_RESULTS = 13, /* results objects handed to the caller */
	BRAIN_MEM__COUNT = 14
};

typedef struct brain_mem brain_mem;

/* A new account (NULL on out of memory); its owner releases it once, and
 * it is freed when the last allocation counted against it is. */
brain_mem *brain__mem_new(void);
void brain__mem_release(brain_mem *m);

/* Bytes alive per category, their total and its peak. */
typedef struct brain_mem_usage {
	uint64_t bytes[BRAIN_MEM__COUNT];
	uint64_t total;
	uint64_t peak;
	uint64_t allocations;
} brain_mem_usage;
void brain__mem_usage(const brain_mem *m, brain_mem_usage *out);

/* The calling thread's scope: the account and category its allocations
 * are counted against. enter returns the scope it replaced, for leave. */
typedef struct brain_mem_scope {
	brain_mem *mem;
	int category;
} brain_mem_scope;
brain_mem_scope brain__mem_enter(brain_mem *m, int category);
void brain__mem_leave(brain_mem_scope previous);
brain_mem_scope brain__mem_current(void);
/* Allocations made outside every brain's scope since the process started
 * (tests check that a brain at work makes none). */
uint64_t brain__mem_unscoped(void);

/* Objects that must not outlive the allocator (brains, results): counted so
 * that brain_set_allocator() can refuse to switch while any exist. A brain
 * is counted before its first allocation (inc takes the allocator lock);
 * an object made while another is alive, such as results made by a brain's
 * call, may use the lock-free inc_nested after its allocation. */
void brain__objects_inc(void);
void brain__objects_inc_nested(void);
void brain__objects_dec(void);

/* ---- overflow-checked arithmetic -------------------------------------- */

static inline bool brain__mul_ok(size_t a, size_t b, size_t *out)
{
	return !__builtin_mul_overflow(a, b, out);
}

static inline bool brain__add_ok(size_t a, size_t b, size_t *out)
{
	return !__builtin_add_overflow(a, b, out);
}

/* ---- logging ----------------------------------------------------------- */

bool brain__log_enabled(int level);
void brain__log(int level, const char *fmt, ...) BRAIN_PRINTF(2, 3);

#define BRAIN_LOG(level, ...)                                                   \
	do {                                                                        \
		if (BRAIN_UNLIKELY(brain__log_enabled(level)))                          \
			brain__log(level, __VA_ARGS__);                                     \
	} while (0)

/* ---- time -------------------------------------------------------------- */

/* Wall-clock milliseconds since the Unix epoch. */
int64_t brain__now_ms(void);
/* Monotonic nanoseconds, for intervals. */
uint64_t brain__mono_ns(void);

/* ---- hashing ----------------------------------------------------------- */

/* Finaliser that spreads every input bit over the whole word. */
static inline uint64_t brain__mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

/* 64-bit hash of a byte string under a seed. Stable across platforms and
 * versions: the built-in embedder's vectors depend on it. */
uint64_t brain__hash64(const void *data, size_t len, uint64_t seed);
/* 64 unpredictable bits (the system's entropy source; if it fails, the
 * clock, addresses and a counter, mixed). */
uint64_t brain__random64(void);

/* ---- UTF-8 helpers shared by layers ----------------------------------- */

/* Largest n <= len such that s[0..n) ends on a whole UTF-8 character
 * (s must be valid UTF-8). */
size_t brain__utf8_floor(const char *s, size_t len);

/* Is s[0..len) strict UTF-8 (no overlong forms, surrogates or code points
 * past U+10FFFF; NUL bytes allowed)? If not, *bad_offset (may be NULL) is
 * the offset of the first character that is not. */
bool brain__utf8_valid(const char *s, size_t len, size_t *bad_offset);

#endif /* BRAIN_BASE_H */
