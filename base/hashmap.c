/*
 * base/hashmap.c - see hashmap.h.
 */
#include <string.h>

#include "base/hashmap.h"

void brain__map_init(brain_map *m)
{
	memset(m, 0, sizeof *m);
}

void brain__map_free(brain_map *m)
{
	if (!m->borrowed)
		brain__free(m->cells);
	memset(m, 0, sizeof *m);
}

static inline size_t home(const brain_map *m, uint64_t key)
{
	return (size_t)brain__mix64(key) & m->mask;
}

int brain__map_adopt(brain_map *m, brain_map_cell *cells, size_t capacity, size_t count)
{
	if (capacity < 8 || (capacity & (capacity - 1)) || count > capacity / 10 * 7)
		return brain__err(BRAIN_ECORRUPT, "hash table of %zu cells holding %zu keys is not "
		                  "a valid table", capacity, count);
	size_t mask = capacity - 1, seen = 0;
	/* Every key must be reachable: no empty cell between its home and its
	 * place. Walk from an empty cell so that runs wrapping around the end
	 * are handled. */
	size_t start = 0;
	while (start < capacity && cells[start].key != BRAIN_MAP_EMPTY)
		start++;
	if (start == capacity)
		return brain__err(BRAIN_ECORRUPT, "hash table has no empty cell");
	size_t run_start = start;
	for (size_t n = 1; n <= capacity; n++) {
		size_t i = (start + n) & mask;
		uint64_t k = cells[i].key;
		if (k == BRAIN_MAP_EMPTY) {
			run_start = i;
			continue;
		}
		seen++;
		size_t h = (size_t)brain__mix64(k) & mask;
		/* h must lie in (run_start, i] going around */
		if (((i - h) & mask) >= ((i - run_start) & mask))
			return brain__err(BRAIN_ECORRUPT, "hash table cell %zu holds a key that lookups "
			                  "cannot reach", i);
	}
	if (seen != count)
		return brain__err(BRAIN_ECORRUPT, "hash table holds %zu keys, its header says %zu",
		                  seen, count);
	m->cells = cells;
	m->mask = mask;
	m->count = count;
	m->borrowed = true;
	return BRAIN_OK;
}

/* Capacity that keeps n keys at a load factor of at most 7/10. */
static size_t capacity_for(size_t n)
{
	size_t cap = 8;
	while (cap / 10 * 7 < n && cap < ((size_t)1 << 62))
		cap <<= 1;
	return cap;
}

static int rehash(brain_map *m, size_t cap)
{
	brain_map_cell *cells = brain__malloc_array(cap, sizeof *cells);
	if (!cells)
		return brain__oom(cap * sizeof *cells, "hash map");
	for (size_t i = 0; i < cap; i++) {
		cells[i].key = BRAIN_MAP_EMPTY;
		cells[i].value = 0;
		cells[i].pad = 0;
	}
	brain_map_cell *old = m->cells;
	size_t old_cap = old ? m->mask + 1 : 0;
	m->cells = cells;
	m->mask = cap - 1;
	for (size_t i = 0; i < old_cap; i++) {
		if (old[i].key == BRAIN_MAP_EMPTY)
			continue;
		size_t j = home(m, old[i].key);
		while (cells[j].key != BRAIN_MAP_EMPTY)
			j = (j + 1) & m->mask;
		cells[j] = old[i];
	}
	if (!m->borrowed)
		brain__free(old);
	m->borrowed = false;
	return BRAIN_OK;
}

int brain__map_reserve(brain_map *m, size_t n)
{
	size_t cap = capacity_for(n);
	if (m->cells && cap <= m->mask + 1)
		return BRAIN_OK;
	return rehash(m, cap);
}

bool brain__map_get(const brain_map *m, uint64_t key, uint32_t *value)
{
	if (!m->cells || key == BRAIN_MAP_EMPTY)
		return false;
	for (size_t i = home(m, key);; i = (i + 1) & m->mask) {
		if (m->cells[i].key == key) {
			if (value)
				*value = m->cells[i].value;
			return true;
		}
		if (m->cells[i].key == BRAIN_MAP_EMPTY)
			return false;
	}
}

/* Index of key's cell, inserting it with value 0 if absent. */
static int cell_of(brain_map *m, uint64_t key, size_t *cell, bool *created)
{
	if (key == BRAIN_MAP_EMPTY)
		return brain__err(BRAIN_EINTERNAL, "hash map: reserved key");
	if (!m->cells || (m->count + 1) > (m->mask + 1) / 10 * 7) {
		int rc = brain__map_reserve(m, m->count + 1);
		if (rc)
			return rc;
	}
	size_t i = home(m, key);
	while (m->cells[i].key != BRAIN_MAP_EMPTY) {
		if (m->cells[i].key == key) {
			*cell = i;
			*created = false;
			return BRAIN_OK;
		}
		i = (i + 1) & m->mask;
	}
	m->cells[i].key = key;
	m->cells[i].value = 0;
	m->count++;
	*cell = i;
	*created = true;
	return BRAIN_OK;
}

int brain__map_upsert(brain_map *m, uint64_t key, uint32_t **value, bool *created)
{
	size_t cell = 0;
	bool made = false;
	int rc = cell_of(m, key, &cell, &made);
	if (rc)
		return rc;
	*value = &m->cells[cell].value;
	if (created)
		*created = made;
	return BRAIN_OK;
}

int brain__map_put(brain_map *m, uint64_t key, uint32_t value)
{
	size_t cell = 0;
	bool made = false;
	int rc = cell_of(m, key, &cell, &made);
	if (rc == BRAIN_OK)
		m->cells[cell].value = value;
	return rc;
}

bool brain__map_remove(brain_map *m, uint64_t key)
{
	if (!m->cells || key == BRAIN_MAP_EMPTY)
		return false;
	size_t i = home(m, key);
	while (m->cells[i].key != key) {
		if (m->cells[i].key == BRAIN_MAP_EMPTY)
			return false;
		i = (i + 1) & m->mask;
	}
	/* Backward shift: pull later cells of the probe run into the hole when
	 * their home position allows it. */
	size_t hole = i;
	for (size_t j = (i + 1) & m->mask; m->cells[j].key != BRAIN_MAP_EMPTY;
	     j = (j + 1) & m->mask) {
		size_t h = home(m, m->cells[j].key);
		/* The cell may move to `hole` if hole lies cyclically in [h, j). */
		bool movable = (hole <= j) ? (h <= hole || h > j) : (h <= hole && h > j);
		if (movable) {
			m->cells[hole] = m->cells[j];
			hole = j;
		}
	}
	m->cells[hole].key = BRAIN_MAP_EMPTY;
	m->count--;
	return true;
}

size_t brain__map_memory(const brain_map *m)
{
	return m->cells ? (m->mask + 1) * sizeof(brain_map_cell) : 0;
}
