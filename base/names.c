/*
 * base/names.c - interned strings (see names.h).
 */
#include <string.h>

#include "base/names.h"

void brain__names_init(brain_names *t, uint64_t seed)
{
	memset(t, 0, sizeof *t);
	brain__map_init(&t->map);
	t->seed = seed;
}

void brain__names_free(brain_names *t)
{
	for (uint32_t i = 0; i < t->n; i++)
		brain__free(t->v[i].s);
	brain__free(t->v);
	brain__map_free(&t->map);
	memset(t, 0, sizeof *t);
}

/* Two strings may share a hash: the map then holds the second at the next
 * key of the hash's probe sequence (never the map's empty key). */
static inline uint64_t probe(uint64_t hash, unsigned i)
{
	uint64_t k = i ? brain__mix64(hash + i) : hash;
	return k == UINT64_MAX ? 0 : k;
}

static bool is_name(const brain_names *t, uint32_t at, const char *s, size_t len)
{
	const brain_name *nm = &t->v[at];
	return nm->len == len && memcmp(nm->s, s, len) == 0;
}

/* The number of s, or -1 and the key a new name takes. */
static int64_t lookup(const brain_names *t, const char *s, size_t len, uint64_t *free_key)
{
	uint64_t h = brain__hash64(s, len, t->seed);
	for (unsigned i = 0;; i++) {
		uint64_t key = probe(h, i);
		uint32_t at;
		if (!brain__map_get(&t->map, key, &at)) {
			if (free_key)
				*free_key = key;
			return -1;
		}
		if (is_name(t, at, s, len))
			return at;
	}
}

int64_t brain__names_find(const brain_names *t, const char *s, size_t len)
{
	return lookup(t, s, len, NULL);
}

int64_t brain__names_add(brain_names *t, const char *s, size_t len, bool *added)
{
	*added = false;
	uint64_t key = 0;
	int64_t at = lookup(t, s, len, &key);
	if (at >= 0)
		return at;
	if (len > UINT32_MAX)
		return brain__err(BRAIN_ETOOLONG, "a name of %zu bytes", len);
	if (t->n == t->cap) {
		uint32_t cap = t->cap ? 2 * t->cap : 8;
		brain_name *v = brain__realloc(t->v, cap * sizeof *v);
		if (!v)
			return brain__oom(cap * sizeof *v, "names");
		t->v = v;
		t->cap = cap;
	}
	int rc = brain__map_reserve(&t->map, t->n + 1u);
	char *copy = rc ? NULL : brain__strndup(s, len);
	if (!copy)
		return rc ? rc : brain__oom(len + 1, "a name");
	t->v[t->n] = (brain_name){copy, (uint32_t)len};
	brain__map_put(&t->map, key, t->n); /* reserved */
	*added = true;
	return t->n++;
}

void brain__names_drop_last(brain_names *t)
{
	if (t->n == 0)
		return;
	brain_name *nm = &t->v[t->n - 1];
	/* its key: the first along its probe sequence that holds it */
	uint64_t h = brain__hash64(nm->s, nm->len, t->seed);
	for (unsigned i = 0;; i++) {
		uint64_t k = probe(h, i);
		uint32_t at;
		if (!brain__map_get(&t->map, k, &at))
			break; /* never: it was added */
		if (at == t->n - 1) {
			brain__map_remove(&t->map, k);
			break;
		}
	}
	brain__free(nm->s);
	t->n--;
}

size_t brain__names_bytes(const brain_names *t)
{
	size_t n = t->cap * sizeof *t->v + brain__map_memory(&t->map);
	for (uint32_t i = 0; i < t->n; i++)
		n += t->v[i].len + 1;
	return n;
}
