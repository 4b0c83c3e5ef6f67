/*
 * base/names.h - a table of interned strings: each distinct string once,
 * numbered 0, 1, 2... in the order added, found by its 64-bit hash (a
 * brain_map, probing when two strings share a hash: base/hashmap.h).
 *
 * The metadata's field names and values and the relations' verbs are kept
 * this way; what a store keeps per name lives in arrays of its own,
 * indexed by the name's number.
 */
#ifndef BRAIN_BASE_NAMES_H
#define BRAIN_BASE_NAMES_H

#include "base/hashmap.h"

typedef struct brain_name {
	char *s;      /* NUL-terminated (may hold NULs of its own) */
	uint32_t len;
} brain_name;

typedef struct brain_names {
	brain_map map;  /* hash (and its probe sequence) -> number */
	brain_name *v;
	uint32_t n, cap;
	uint64_t seed;
} brain_names;

void brain__names_init(brain_names *t, uint64_t seed);
void brain__names_free(brain_names *t);

/* The number of s[0..len), or -1. */
int64_t brain__names_find(const brain_names *t, const char *s, size_t len);

/* The number of s[0..len), added if it is new (*added then true): a
 * caller with arrays per name makes room for t->n + 1 entries first.
 * BRAIN_ENOMEM (negative; nothing changed). */
int64_t brain__names_add(brain_names *t, const char *s, size_t len, bool *added);

/* Take the name just added back (what the caller keeps for it could not
 * be made). Never allocates. */
void brain__names_drop_last(brain_names *t);

static inline const brain_name *brain__names_at(const brain_names *t, uint32_t i)
{
	return &t->v[i];
}

/* Bytes held. */
size_t brain__names_bytes(const brain_names *t);

#endif /* BRAIN_BASE_NAMES_H */
