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
