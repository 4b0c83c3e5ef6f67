/*
 * base/hashmap_impl.h - the open-addressing map of hashmap.h, written once
 * for both key widths: base/hashmap.c includes it twice, with
 *   MAP_T      the map type (brain_map, brain_map32)
 *   MAP_CELL   its cell type
 *   MAP_KEY    the key type (uint64_t, uint32_t)
 *   MAP_EMPTY  the reserved key of empty cells
 *   MAP_FN(x)  the name of function x (brain__map_x, brain__map32_x)
 * and undefines them after. Not included anywhere else.
 */

void MAP_FN(init)(MAP_T *m)
{
	memset(m, 0, sizeof *m);
}

void MAP_FN(free)(MAP_T *m)
{
	if (!m->borrowed)
		brain__free(m->cells);
	memset(m, 0, sizeof *m);
}

static inline size_t MAP_FN(home_of)(const MAP_T *m, MAP_KEY key)
{
	return (size_t)brain__mix64(key) & m->mask;
}

int MAP_FN(adopt)(MAP_T *m, MAP_CELL *cells, size_t capacity, size_t count)
{
	if (capacity < 8 || (capacity & (capacity - 1)) || count > capacity / 10 * 7)
		return brain__err(BRAIN_ECORRUPT, "hash table of %zu cells holding %zu keys is not "
		                  "a valid table", capacity, count);
	size_t mask = capacity - 1, seen = 0;
	/* Every key must be reachable: no empty cell between its home and its
	 * place. Walk from an empty cell so that runs wrapping around the end
	 * are handled. */
	size_t start = 0;
	while (start < capacity && cells[start].key != MAP_EMPTY)
		start++;
	if (start == capacity)
		return brain__err(BRAIN_ECORRUPT, "hash table has no empty cell");
	size_t run_start = start;
	for (size_t n = 1; n <= capacity; n++) {
		size_t i = (start + n) & mask;
		MAP_KEY k = cells[i].key;
		if (k == MAP_EMPTY) {
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
static size_t MAP_FN(capacity_for)(size_t n)
{
	size_t cap = 8;
	while (cap / 10 * 7 < n && cap < ((size_t)1 << 62))
		cap <<= 1;
	return cap;
}

static int MAP_FN(rehash)(MAP_T *m, size_t cap)
{
	MAP_CELL *cells = brain__malloc_array(cap, sizeof *cells);
	if (!cells)
		return brain__oom(cap * sizeof *cells, "hash map");
	for (size_t i = 0; i < cap; i++) {
		memset(&cells[i], 0, sizeof cells[i]); /* padding too: cells are saved */
		cells[i].key = MAP_EMPTY;
	}
	MAP_CELL *old = m->cells;
	size_t old_cap = old ? m->mask + 1 : 0;
	m->cells = cells;
	m->mask = cap - 1;
	for (size_t i = 0; i < old_cap; i++) {
		if (old[i].key == MAP_EMPTY)
			continue;
		size_t j = MAP_FN(home_of)(m, old[i].key);
		while (cells[j].key != MAP_EMPTY)
			j = (j + 1) & m->mask;
		cells[j] = old[i];
	}
	if (!m->borrowed)
		brain__free(old);
	m->borrowed = false;
	return BRAIN_OK;
}

int MAP_FN(reserve)(MAP_T *m, size_t n)
{
	size_t cap = MAP_FN(capacity_for)(n);
	if (m->cells && cap <= m->mask + 1)
		return BRAIN_OK;
	return MAP_FN(rehash)(m, cap);
}

bool MAP_FN(get)(const MAP_T *m, MAP_KEY key, uint32_t *value)
{
	if (!m->cells || key == MAP_EMPTY)
		return false;
	for (size_t i = MAP_FN(home_of)(m, key);; i = (i + 1) & m->mask) {
		if (m->cells[i].key == key) {
			if (value)
				*value = m->cells[i].value;
			return true;
		}
		if (m->cells[i].key == MAP_EMPTY)
			return false;
	}
}

/* Index of key's cell, inserting it with value 0 if absent. */
static int MAP_FN(cell_of)(MAP_T *m, MAP_KEY key, size_t *cell, bool *created)
{
	if (key == MAP_EMPTY)
		return brain__err(BRAIN_EINTERNAL, "hash map: reserved key");
	if (!m->cells || (m->count + 1) > (m->mask + 1) / 10 * 7) {
		int rc = MAP_FN(reserve)(m, m->count + 1);
		if (rc)
			return rc;
	}
	size_t i = MAP_FN(home_of)(m, key);
	while (m->cells[i].key != MAP_EMPTY) {
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

int MAP_FN(upsert)(MAP_T *m, MAP_KEY key, uint32_t **value, bool *created)
{
	size_t cell = 0;
	bool made = false;
	int rc = MAP_FN(cell_of)(m, key, &cell, &made);
	if (rc)
		return rc;
	*value = &m->cells[cell].value;
	if (created)
		*created = made;
	return BRAIN_OK;
}

int MAP_FN(put)(MAP_T *m, MAP_KEY key, uint32_t value)
{
	size_t cell = 0;
	bool made = false;
	int rc = MAP_FN(cell_of)(m, key, &cell, &made);
	if (rc == BRAIN_OK)
		m->cells[cell].value = value;
	return rc;
}

bool MAP_FN(remove)(MAP_T *m, MAP_KEY key)
{
	if (!m->cells || key == MAP_EMPTY)
		return false;
	size_t i = MAP_FN(home_of)(m, key);
	while (m->cells[i].key != key) {
		if (m->cells[i].key == MAP_EMPTY)
			return false;
		i = (i + 1) & m->mask;
	}
	/* Backward shift: pull later cells of the probe run into the hole when
	 * their home position allows it. */
	size_t hole = i;
	for (size_t j = (i + 1) & m->mask; m->cells[j].key != MAP_EMPTY;
	     j = (j + 1) & m->mask) {
		size_t h = MAP_FN(home_of)(m, m->cells[j].key);
		/* The cell may move to `hole` if hole lies cyclically in [h, j). */
		bool movable = (hole <= j) ? (h <= hole || h > j) : (h <= hole && h > j);
		if (movable) {
			m->cells[hole] = m->cells[j];
			hole = j;
		}
	}
	m->cells[hole].key = MAP_EMPTY;
	m->count--;
	return true;
}

size_t MAP_FN(memory)(const MAP_T *m)
{
	return m->cells ? (m->mask + 1) * sizeof(MAP_CELL) : 0;
}

int MAP_FN(copy_cells)(const MAP_T *m, MAP_CELL **copy)
{
	*copy = NULL;
	if (!m->cells)
		return BRAIN_OK;
	size_t cap = m->mask + 1;
	*copy = brain__malloc_array(cap, sizeof **copy);
	if (!*copy)
		return brain__oom(cap * sizeof **copy, "hash map");
	memcpy(*copy, m->cells, cap * sizeof **copy);
	return BRAIN_OK;
}

void MAP_FN(take_cells)(MAP_T *m, MAP_CELL *copy)
{
	if (!m->borrowed)
		brain__free(m->cells);
	m->cells = copy;
	m->borrowed = false;
}
