/*
 * base/util.c - time, hashing and small helpers of the base layer.
 */
#include <stdatomic.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "base/base.h"

int64_t brain__now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t brain__mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t load64_le(const unsigned char *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	       (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
	       (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

/* Eight bytes at a time, each word folded in by a multiply and a rotate,
 * finished by brain__mix64. Reads bytes explicitly (little-endian), so the
 * value is the same on every platform. */
uint64_t brain__hash64(const void *data, size_t len, uint64_t seed)
{
	const unsigned char *p = data;
	const uint64_t k = 0x9e3779b97f4a7c15ull;
	uint64_t h = seed ^ (len * k);
	while (len >= 8) {
		uint64_t w = load64_le(p);
		h ^= brain__mix64(w + k);
		h = (h << 27 | h >> 37) * 0xff51afd7ed558ccdull;
		p += 8;
		len -= 8;
	}
	if (len) {
		uint64_t w = 0;
		for (size_t i = 0; i < len; i++)
			w |= (uint64_t)p[i] << (8 * i);
		h ^= brain__mix64(w + k + len);
		h = (h << 27 | h >> 37) * 0xff51afd7ed558ccdull;
	}
	return brain__mix64(h);
}

uint64_t brain__random64(void)
{
	uint64_t r = 0;
	if (getentropy(&r, sizeof r) == 0)
		return r;
	static _Atomic uint64_t counter;
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	uint64_t x = (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
	x ^= (uint64_t)(uintptr_t)&r ^ atomic_fetch_add(&counter, 1) * 0x9e3779b97f4a7c15ull;
	return brain__mix64(x);
}

size_t brain__utf8_floor(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = len;
	/* Step back over continuation bytes to the lead byte of the last
	 * character, then keep it only if it is complete. */
	while (n > 0 && (u[n - 1] & 0xC0) == 0x80)
		n--;
	if (n == 0)
		return 0;
	unsigned char lead = u[n - 1];
	size_t need = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
	return (len - (n - 1) >= need) ? len : n - 1;
}

BRAIN_EXPORT int brain_version(void)
{
	return BRAIN_VERSION_NUMBER;
}

BRAIN_EXPORT const char *brain_version_string(void)
{
	return BRAIN_VERSION_STRING;
}

bool brain__utf8_valid(const char *s, size_t len, size_t *bad_offset)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		unsigned c = u[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t need = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3
		            : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
		if (need == 0 || len - i < need)
			break;
		unsigned c1 = u[i + 1];
		/* the second byte's range excludes overlongs, surrogates and
		 * code points past U+10FFFF */
		unsigned lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;
		unsigned hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
		if (c1 < lo || c1 > hi)
			break;
		size_t k = 2;
		while (k < need && (u[i + k] & 0xC0) == 0x80)
			k++;
		if (k < need)
			break;
		i += need;
	}
	if (i == len)
		return true;
	if (bad_offset)
		*bad_offset = i;
	return false;
}
