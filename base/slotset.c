/*
 * base/slotset.c - slot sets over CRoaring (see slotset.h).
 */
#include <roaring/roaring.h>

#include "base/slotset.h"

struct brain_slotset {
	roaring_bitmap_t bm; /* never used as such: the pointer is cast */
};

static inline roaring_bitmap_t *rb(brain_slotset *s)
{
	return (roaring_bitmap_t *)(void *)s;
}

static inline const roaring_bitmap_t *crb(const brain_slotset *s)
{
	return (const roaring_bitmap_t *)(const void *)s;
}

static brain_slotset *wrap(roaring_bitmap_t *r, const char *what)
{
	if (!r)
		brain__oom(64, what);
	return (brain_slotset *)(void *)r;
}

brain_slotset *brain__slotset_new(void)
{
	return wrap(roaring_bitmap_create(), "slot set");
}

brain_slotset *brain__slotset_copy(const brain_slotset *s)
{
	return wrap(roaring_bitmap_copy(crb(s)), "slot set copy");
}

void brain__slotset_free(brain_slotset *s)
{
	if (s)
		roaring_bitmap_free(rb(s));
}

int brain__slotset_add(brain_slotset *s, uint32_t slot)
{
	roaring_bitmap_add(rb(s), slot);
	if (BRAIN_UNLIKELY(!roaring_bitmap_contains(crb(s), slot)))
		return brain__oom(64, "posting list");
	return BRAIN_OK;
}

int brain__slotset_remove(brain_slotset *s, uint32_t slot)
{
	roaring_bitmap_remove(rb(s), slot);
	if (BRAIN_UNLIKELY(roaring_bitmap_contains(crb(s), slot)))
		return brain__oom(64, "posting list");
	return BRAIN_OK;
}

int brain__slotset_add_many(brain_slotset *s, const uint32_t *slots, size_t n)
{
	if (n == 0)
		return BRAIN_OK;
	uint64_t before = roaring_bitmap_get_cardinality(crb(s));
	roaring_bitmap_add_many(rb(s), n, slots);
	/* every slot given is in: the first, the last, and no fewer than
	 * before (a full check would cost as much as the adds) */
	if (BRAIN_UNLIKELY(!roaring_bitmap_contains(crb(s), slots[0]) ||
	                   !roaring_bitmap_contains(crb(s), slots[n - 1]) ||
	                   roaring_bitmap_get_cardinality(crb(s)) < before))
		return brain__oom(n * sizeof *slots, "posting list");
	return BRAIN_OK;
}

/* CRoaring's portable format, without run containers (the format is
 * CRoaring's specification, stable across its versions): a cookie and the
 * count, per container its key and cardinality - 1 (u16 each), per
 * container the offset of its data, then the data: an array of sorted u16
 * for up to 4096 slots, else a bitset of 1024 u64 words. */
#define PORTABLE_COOKIE 12346u
#define CHUNK_WORDS 1024u  /* 65536 slots */
#define ARRAY_MAX 4096u

static void put16(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
	put16(p, v & 0xffffu);
	put16(p + 2, v >> 16);
}

static uint32_t chunk_count(const uint64_t *bits, size_t words, size_t c)
{
	uint32_t n = 0;
	for (size_t w = c * CHUNK_WORDS; w < words && w < (c + 1) * CHUNK_WORDS; w++)
		n += (uint32_t)__builtin_popcountll(bits[w]);
	return n;
}

int brain__slotset_add_bits(brain_slotset *s, const uint64_t *bits, size_t words)
{
	size_t chunks = (words + CHUNK_WORDS - 1) / CHUNK_WORDS;
	if (chunks > 65536)
		return brain__err(BRAIN_EINTERNAL, "slot set: %zu words are beyond 32-bit slots",
		                  words);
	size_t n = 0, data = 0;
	for (size_t c = 0; c < chunks; c++) {
		uint32_t card = chunk_count(bits, words, c);
		if (card)
			n++;
		data += card > ARRAY_MAX ? CHUNK_WORDS * 8 : 2 * (size_t)card;
	}
	if (n == 0)
		return BRAIN_OK;
	size_t head = 8 + 8 * n, size = head + data;
	unsigned char *buf = brain__malloc(size);
	if (!buf)
		return brain__oom(size, "slot set");
	put32(buf, PORTABLE_COOKIE);
	put32(buf + 4, (uint32_t)n);
	size_t i = 0, at = head;
	for (size_t c = 0; c < chunks; c++) {
		uint32_t card = chunk_count(bits, words, c);
		if (!card)
			continue;
		put16(buf + 8 + 4 * i, (uint32_t)c);
		put16(buf + 10 + 4 * i, card - 1);
		put32(buf + 8 + 4 * n + 4 * i, (uint32_t)at);
		size_t w0 = c * CHUNK_WORDS, w1 = BRAIN_MIN(words, w0 + CHUNK_WORDS);
		if (card > ARRAY_MAX) {
			for (size_t w = w0; w < w0 + CHUNK_WORDS; w++) {
				uint64_t x = w < w1 ? bits[w] : 0;
				put32(buf + at, (uint32_t)x);
				put32(buf + at + 4, (uint32_t)(x >> 32));
				at += 8;
			}
		} else {
			for (size_t w = w0; w < w1; w++)
				for (uint64_t x = bits[w]; x; x &= x - 1) {
					put16(buf + at, (uint32_t)((w - w0) * 64 + (size_t)__builtin_ctzll(x)));
					at += 2;
				}
		}
		i++;
	}
	roaring_bitmap_t *t = roaring_bitmap_portable_deserialize_safe((const char *)buf, size);
	brain__free(buf);
	if (!t)
		return brain__oom(size, "slot set");
	uint64_t want = roaring_bitmap_get_cardinality(t);
	uint64_t before = roaring_bitmap_get_cardinality(crb(s));
	roaring_bitmap_or_inplace(rb(s), t);
	roaring_bitmap_free(t);
	if (BRAIN_UNLIKELY(roaring_bitmap_get_cardinality(crb(s)) < BRAIN_MAX(before, want)))
		return brain__oom(size, "slot set");
	return BRAIN_OK;
}

bool brain__slotset_contains(const brain_slotset *s, uint32_t slot)
{
	return roaring_bitmap_contains(crb(s), slot);
}

uint64_t brain__slotset_count(const brain_slotset *s)
{
	return roaring_bitmap_get_cardinality(crb(s));
}

bool brain__slotset_empty(const brain_slotset *s)
{
	return roaring_bitmap_is_empty(crb(s));
}

void brain__slotset_and(brain_slotset *s, const brain_slotset *o)
{
	roaring_bitmap_and_inplace(rb(s), crb(o));
}

void brain__slotset_or(brain_slotset *s, const brain_slotset *o)
{
	roaring_bitmap_or_inplace(rb(s), crb(o));
}

void brain__slotset_andnot(brain_slotset *s, const brain_slotset *o)
{
	roaring_bitmap_andnot_inplace(rb(s), crb(o));
}

size_t brain__slotset_read(const brain_slotset *s, size_t from, uint32_t *out, size_t cap)
{
	uint64_t n = roaring_bitmap_get_cardinality(crb(s));
	if (from >= n || cap == 0)
		return 0;
	size_t take = (size_t)BRAIN_MIN((uint64_t)cap, n - from);
	if (!roaring_bitmap_range_uint32_array(crb(s), from, take, out))
		return 0;
	return take;
}

size_t brain__slotset_bytes(const brain_slotset *s)
{
	return s ? roaring_bitmap_size_in_bytes(crb(s)) : 0;
}
