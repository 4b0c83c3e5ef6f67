/*
 * organs/hippocampus/edges_store.c - relations between memories (see
 * edges_store.h).
 */
#include <string.h>

#include "base/base.h"
#include "organs/hippocampus/edges_store.h"

#define VERB_SEED 0x76657262u /* "verb" */

void brain__rel_init(rel_store *r)
{
	memset(r, 0, sizeof *r);
	brain__map_init(&r->by_id);
	brain__names_init(&r->verbs, VERB_SEED);
}

void brain__rel_free(rel_store *r)
{
	for (uint32_t i = 0; i < r->n_nodes; i++) {
		brain__free(r->nodes[i].out.e);
		brain__free(r->nodes[i].in.e);
	}
	brain__free(r->nodes);
	brain__names_free(&r->verbs);
	brain__map_free(&r->by_id);
	memset(r, 0, sizeof *r);
}

int64_t brain__rel_verb_find(const rel_store *r, const char *verb, size_t len)
{
	return brain__names_find(&r->verbs, verb, len);
}

static int64_t verb_add(rel_store *r, const char *verb, size_t len)
{
	bool added;
	return brain__names_add(&r->verbs, verb, len, &added);
}

const rel_node *brain__rel_node(const rel_store *r, uint64_t id)
{
	uint32_t at;
	return brain__map_get(&r->by_id, id, &at) ? &r->nodes[at] : NULL;
}

/* The node of a memory, made if it has none. */
static int64_t node_add(rel_store *r, uint64_t id)
{
	uint32_t at;
	if (brain__map_get(&r->by_id, id, &at))
		return at;
	if (r->n_nodes == r->cap_nodes) {
		uint32_t cap = r->cap_nodes ? 2 * r->cap_nodes : 16;
		rel_node *n = brain__realloc(r->nodes, cap * sizeof *n);
		if (!n)
			return brain__oom(cap * sizeof *n, "relation nodes");
		r->nodes = n;
		r->cap_nodes = cap;
	}
	int rc = brain__map_put(&r->by_id, id, r->n_nodes);
	if (rc)
		return rc;
	memset(&r->nodes[r->n_nodes], 0, sizeof r->nodes[0]);
	r->nodes[r->n_nodes].id = id;
	return r->n_nodes++;
}

/* Room for one more edge in a list. */
static int list_room(rel_list *l)
{
	if (l->n < l->cap)
		return BRAIN_OK;
	uint32_t cap = l->cap ? 2 * l->cap : 2;
	rel_edge *e = brain__realloc(l->e, cap * sizeof *e);
	if (!e)
		return brain__oom(cap * sizeof *e, "relations");
	l->e = e;
	l->cap = cap;
	return BRAIN_OK;
}

static int64_t list_find(const rel_list *l, uint64_t other, uint32_t verb)
{
	for (uint32_t i = 0; i < l->n; i++)
		if (l->e[i].other == other && l->e[i].verb == verb)
			return i;
	return -1;
}

/* Remove entry i, keeping the order (neighbours come back in the order
 * they were related). */
static void list_cut(rel_list *l, uint32_t i)
{
	memmove(l->e + i, l->e + i + 1, (l->n - i - 1) * sizeof *l->e);
	l->n--;
}

/* A node with no edge left goes (the last node takes its place; the
 * map's entry for it is overwritten, which does not allocate). */
static void node_gc(rel_store *r, uint64_t id)
{
	uint32_t at;
	if (!brain__map_get(&r->by_id, id, &at))
		return;
	rel_node *n = &r->nodes[at];
	if (n->out.n || n->in.n)
		return;
	brain__free(n->out.e);
	brain__free(n->in.e);
	brain__map_remove(&r->by_id, id);
	uint32_t last = --r->n_nodes;
	if (at != last) {
		r->nodes[at] = r->nodes[last];
		brain__map_put(&r->by_id, r->nodes[at].id, at);
	}
}

bool brain__rel_get(const rel_store *r, uint64_t from, uint64_t to, const char *verb, size_t len,
                    float *weight)
{
	int64_t v = brain__names_find(&r->verbs, verb, len);
	const rel_node *n = brain__rel_node(r, from);
	if (v < 0 || !n)
		return false;
	int64_t i = list_find(&n->out, to, (uint32_t)v);
	if (i < 0)
		return false;
	if (weight)
		*weight = n->out.e[i].weight;
	return true;
}

int brain__rel_put(rel_store *r, uint64_t from, uint64_t to, const char *verb, size_t len,
                   float weight, bool *had, float *old)
{
	*had = false;
	float w;
	if (brain__rel_get(r, from, to, verb, len, &w)) {
		/* there: the weight, in both lists */
		uint32_t v = (uint32_t)brain__names_find(&r->verbs, verb, len), at;
		brain__map_get(&r->by_id, from, &at);
		rel_list *out = &r->nodes[at].out;
		out->e[list_find(out, to, v)].weight = weight;
		brain__map_get(&r->by_id, to, &at);
		rel_list *in = &r->nodes[at].in;
		in->e[list_find(in, from, v)].weight = weight;
		*had = true;
		*old = w;
		return BRAIN_OK;
	}
	/* everything that can fail first: the verb, both nodes, room in both
	 * lists; a node made here with no edge is taken back on failure */
	int64_t v = verb_add(r, verb, len);
	if (v < 0)
		return (int)v;
	int64_t a = node_add(r, from);
	if (a < 0)
		return (int)a;
	int64_t b = node_add(r, to);
	int rc = b < 0 ? (int)b : list_room(&r->nodes[a].out);
	if (rc == BRAIN_OK)
		rc = list_room(&r->nodes[b].in);
	if (rc) {
		node_gc(r, to);
		node_gc(r, from);
		return rc;
	}
	rel_list *out = &r->nodes[a].out, *in = &r->nodes[b].in;
	out->e[out->n++] = (rel_edge){to, (uint32_t)v, weight};
	in->e[in->n++] = (rel_edge){from, (uint32_t)v, weight};
	r->n_edges++;
	return BRAIN_OK;
}

/* Remove edges from -> to of verb v (-1: any) from both lists. */
static size_t remove_edges(rel_store *r, uint64_t from, uint64_t to, int64_t v)
{
	uint32_t a, b;
	if (!brain__map_get(&r->by_id, from, &a) || !brain__map_get(&r->by_id, to, &b))
		return 0;
	size_t gone = 0;
	rel_list *out = &r->nodes[a].out;
	for (uint32_t i = 0; i < out->n;) {
		if (out->e[i].other == to && (v < 0 || out->e[i].verb == (uint32_t)v)) {
			list_cut(out, i);
			gone++;
		} else {
			i++;
		}
	}
	rel_list *in = &r->nodes[b].in;
	for (uint32_t i = 0; i < in->n;) {
		if (in->e[i].other == from && (v < 0 || in->e[i].verb == (uint32_t)v))
			list_cut(in, i);
		else
			i++;
	}
	r->n_edges -= gone;
	node_gc(r, from);
	if (to != from)
		node_gc(r, to);
	return gone;
}

size_t brain__rel_remove(rel_store *r, uint64_t from, uint64_t to, const char *verb, size_t len)
{
	int64_t v = -1;
	if (verb) {
		v = brain__names_find(&r->verbs, verb, len);
		if (v < 0)
			return 0;
	}
	return remove_edges(r, from, to, v);
}

void brain__rel_drop(rel_store *r, uint64_t id)
{
	uint32_t at;
	if (!brain__map_get(&r->by_id, id, &at))
		return;
	/* each edge's other end loses it; a loop (id -> id) is in both lists */
	while (r->nodes[at].out.n) {
		uint64_t other = r->nodes[at].out.e[0].other;
		remove_edges(r, id, other, -1);
		if (!brain__map_get(&r->by_id, id, &at))
			return;
	}
	while (r->nodes[at].in.n) {
		uint64_t other = r->nodes[at].in.e[0].other;
		remove_edges(r, other, id, -1);
		if (!brain__map_get(&r->by_id, id, &at))
			return;
	}
}

uint64_t brain__rel_bytes(const rel_store *r)
{
	uint64_t n = r->cap_nodes * sizeof *r->nodes + brain__map_memory(&r->by_id) +
	             brain__names_bytes(&r->verbs);
	for (uint32_t i = 0; i < r->n_nodes; i++)
		n += (r->nodes[i].out.cap + r->nodes[i].in.cap) * sizeof(rel_edge);
	return n;
}
