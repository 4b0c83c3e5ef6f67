/*
 * base/hashmap.h - open-addressing hash maps to 32-bit values: brain_map
 * from 64-bit keys (ids to slots; 16-byte cells), brain_map32 from 32-bit
 * keys (feature hashes to counts; 8-byte cells). Linear probing with
 * backward-shift deletion, so there are no tombstones and lookups stay
 * short under churn. The largest key (UINT64_MAX, UINT32_MAX) is reserved
 * (it marks empty cells). The two are one code (hashmap_impl.h): each
 * brain__map_* function below has its brain__map32_* twin.
 */
#ifndef BRAIN_HASHMAP_H
#define BRAIN_HASHMAP_H

#include "base/base.h"

#define BRAIN_MAP_EMPTY UINT64_MAX

typedef struct brain_map_cell {
	uint64_t key;
	uint32_t value;
	uint32_t pad; /* zero: cells are saved to files as they are */
} brain_map_cell;

typedef struct brain_map {
	brain_map_cell *cells;
	size_t mask;  /* capacity - 1; capacity is a power of two (0 when empty) */
	size_t count;
	bool borrowed; /* cells live in a mapping the map does not own */
} brain_map;

void brain__map_init(brain_map *m);

/* Use `capacity` cells at `cells` (saved from a map: a power of two, keys
 * placed by this map's hash) in place, holding `count` keys. They are
 * never freed by the map; growing copies them to the heap. Validates the
 * table (capacity, count, every key in a probe run from its home): BRAIN_ECORRUPT otherwise. */
int brain__map_adopt(brain_map *m, brain_map_cell *cells, size_t capacity, size_t count);
void brain__map_free(brain_map *m);

/* Make room for `n` keys in total so that inserting up to n cannot fail.
 * Returns 0 or BRAIN_ENOMEM. */
int brain__map_reserve(brain_map *m, size_t n);

/* Value of key into *value; false if absent. */
bool brain__map_get(const brain_map *m, uint64_t key, uint32_t *value);

/* Pointer to the value of key, inserting it with value 0 if absent (and
 * growing the table: BRAIN_ENOMEM then). *created tells which. The pointer
 * is valid until the next insert or remove. */
int brain__map_upsert(brain_map *m, uint64_t key, uint32_t **value, bool *created);

/* Insert or overwrite. Returns 0 or BRAIN_ENOMEM. */
int brain__map_put(brain_map *m, uint64_t key, uint32_t value);

/* Remove key; false if it was absent. Never allocates. */
bool brain__map_remove(brain_map *m, uint64_t key);

static inline size_t brain__map_count(const brain_map *m)
{
	return m->count;
}

size_t brain__map_memory(const brain_map *m);

/* A heap copy of the cells (*copy NULL for an empty map), to be taken
 * into use by take_cells with no change to the map in between: a map
 * adopted from a mapping copied while readers go on, then swapped in.
 * 0 or BRAIN_ENOMEM. */
int brain__map_copy_cells(const brain_map *m, brain_map_cell **copy);
/* The cells replaced by copy (from copy_cells); the map owns them now. */
void brain__map_take_cells(brain_map *m, brain_map_cell *copy);

/* ---- 32-bit keys: the same functions, the same promises ---------------- */

#define BRAIN_MAP32_EMPTY UINT32_MAX

typedef struct brain_map32_cell {
	uint32_t key;
	uint32_t value;
} brain_map32_cell;

typedef struct brain_map32 {
	brain_map32_cell *cells;
	size_t mask;
	size_t count;
	bool borrowed;
} brain_map32;

void brain__map32_init(brain_map32 *m);
int brain__map32_adopt(brain_map32 *m, brain_map32_cell *cells, size_t capacity, size_t count);
void brain__map32_free(brain_map32 *m);
int brain__map32_reserve(brain_map32 *m, size_t n);
bool brain__map32_get(const brain_map32 *m, uint32_t key, uint32_t *value);
int brain__map32_upsert(brain_map32 *m, uint32_t key, uint32_t **value, bool *created);
int brain__map32_put(brain_map32 *m, uint32_t key, uint32_t value);
bool brain__map32_remove(brain_map32 *m, uint32_t key);
size_t brain__map32_memory(const brain_map32 *m);
int brain__map32_copy_cells(const brain_map32 *m, brain_map32_cell **copy);
void brain__map32_take_cells(brain_map32 *m, brain_map32_cell *copy);

static inline size_t brain__map32_count(const brain_map32 *m)
{
	return m->count;
}

#endif /* BRAIN_HASHMAP_H */
