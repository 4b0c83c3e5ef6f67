/*
 * base/slotset.h - sets of slots (uint32), compressed: the posting lists of
 * metadata and the passing sets of filters.
 *
 * A thin wrapper over CRoaring (Debian libroaring-dev, linked privately:
 * the public headers never name it), so that only this file knows the
 * library. CRoaring 0.2 allocates with malloc, not through braincore's
 * allocator hook, and does not report every failed allocation: each
 * change here is checked afterwards (contains), and a set whose change did
 * not take reports BRAIN_ENOMEM. Its bytes are not in a brain's account;
 * brain__slotset_bytes() tells what it holds.
 */
#ifndef BRAIN_BASE_SLOTSET_H
#define BRAIN_BASE_SLOTSET_H

#include "base/base.h"

typedef struct brain_slotset brain_slotset;

/* A new empty set, or NULL (out of memory, reported). */
brain_slotset *brain__slotset_new(void);
/* A copy, or NULL. */
brain_slotset *brain__slotset_copy(const brain_slotset *s);
void brain__slotset_free(brain_slotset *s);

/* Add or remove one slot: 0, or BRAIN_ENOMEM when the set could not
 * change (it is as before, or holds the change: either way valid). */
int brain__slotset_add(brain_slotset *s, uint32_t slot);
int brain__slotset_remove(brain_slotset *s, uint32_t slot);
/* Add n slots (any order); 0 or BRAIN_ENOMEM. */
int brain__slotset_add_many(brain_slotset *s, const uint32_t *slots, size_t n);

/* Add the slots whose bits are set in bits[0..words) (slot i is bit i %
 * 64 of word i / 64): for many slots at once, far cheaper than add_many
 * (the set is built whole, container by container). 0 or BRAIN_ENOMEM. */
int brain__slotset_add_bits(brain_slotset *s, const uint64_t *bits, size_t words);

bool brain__slotset_contains(const brain_slotset *s, uint32_t slot);
uint64_t brain__slotset_count(const brain_slotset *s);
bool brain__slotset_empty(const brain_slotset *s);

/* In place: s = s AND o, s OR o, s AND NOT o. */
void brain__slotset_and(brain_slotset *s, const brain_slotset *o);
void brain__slotset_or(brain_slotset *s, const brain_slotset *o);
void brain__slotset_andnot(brain_slotset *s, const brain_slotset *o);

/* The slots in increasing order: up to `cap` of those from the `from`-th
 * on, into out; returns how many were written. */
size_t brain__slotset_read(const brain_slotset *s, size_t from, uint32_t *out, size_t cap);

/* Bytes the set holds (CRoaring's serialized size: close to its heap). */
size_t brain__slotset_bytes(const brain_slotset *s);

#endif /* BRAIN_BASE_SLOTSET_H */
