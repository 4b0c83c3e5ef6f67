/*
 * base/edges.c - brain_edges: an array of edges and an arena of their
 * verbs, grown as a walk finds them.
 */
#include <math.h>
#include <string.h>

#include "base/edges.h"

typedef struct edge {
	brain_id from, to;
	float weight;
	uint32_t hops;
	size_t verb; /* offset in the arena */
} edge;

struct brain_edges {
	edge *v;
	size_t n, cap;
	char *arena;
	size_t used, room;
};

/* Counted as results: handed to the caller, freed on any thread. */
static brain_mem_scope as_results(void)
{
	return brain__mem_enter(brain__mem_current().mem, BRAIN_MEM_RESULTS);
}

brain_edges *brain__edges_new(void)
{
	brain_mem_scope outer = as_results();
	brain_edges *e = brain__calloc(1, sizeof *e);
	brain__mem_leave(outer);
	if (!e) {
		brain__oom(sizeof *e, "edges");
		return NULL;
	}
	brain__objects_inc_nested();
	return e;
}

int brain__edges_add(brain_edges *e, brain_id from, brain_id to, const char *verb, size_t len,
                     float weight, uint32_t hops)
{
	brain_mem_scope outer = as_results();
	int rc = BRAIN_OK;
	if (e->n == e->cap) {
		size_t cap = e->cap ? 2 * e->cap : 16;
		edge *v = brain__realloc(e->v, cap * sizeof *v);
		if (!v)
			rc = brain__oom(cap * sizeof *v, "edges");
		else {
			e->v = v;
			e->cap = cap;
		}
	}
	if (rc == BRAIN_OK && e->room - e->used < len + 1) {
		size_t room = BRAIN_MAX(2 * e->room, e->used + len + 1 + 256);
		char *a = brain__realloc(e->arena, room);
		if (!a)
			rc = brain__oom(room, "edges");
		else {
			e->arena = a;
			e->room = room;
		}
	}
	brain__mem_leave(outer);
	if (rc)
		return rc;
	memcpy(e->arena + e->used, verb, len);
	e->arena[e->used + len] = '\0';
	e->v[e->n++] = (edge){from, to, weight, hops, e->used};
	e->used += len + 1;
	return BRAIN_OK;
}

static const edge *at(const brain_edges *e, size_t i)
{
	return e && i < e->n ? &e->v[i] : NULL;
}

BRAIN_EXPORT size_t brain_edges_count(const brain_edges *e)
{
	return e ? e->n : 0;
}

BRAIN_EXPORT brain_id brain_edges_from(const brain_edges *e, size_t i)
{
	const edge *x = at(e, i);
	return x ? x->from : BRAIN_ID_NONE;
}

BRAIN_EXPORT brain_id brain_edges_to(const brain_edges *e, size_t i)
{
	const edge *x = at(e, i);
	return x ? x->to : BRAIN_ID_NONE;
}

BRAIN_EXPORT const char *brain_edges_verb(const brain_edges *e, size_t i)
{
	const edge *x = at(e, i);
	return x ? e->arena + x->verb : NULL;
}

BRAIN_EXPORT float brain_edges_weight(const brain_edges *e, size_t i)
{
	const edge *x = at(e, i);
	return x ? x->weight : NAN;
}

BRAIN_EXPORT unsigned brain_edges_hops(const brain_edges *e, size_t i)
{
	const edge *x = at(e, i);
	return x ? x->hops : 0;
}

BRAIN_EXPORT void brain_edges_free(brain_edges *e)
{
	if (!e)
		return;
	brain__free(e->v);
	brain__free(e->arena);
	brain__free(e);
	brain__objects_dec();
}
