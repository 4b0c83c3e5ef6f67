/*
 * organs/hippocampus/edges_store.h - relations between memories: directed,
 * named edges (from, to, verb) with a weight (edges_store.c).
 *
 * Edges are kept by memory id (not slot), so compaction does not touch
 * them: per memory that has any, a node with its out-edges and in-edges
 * (each edge is in both lists). Verbs are interned: a small table of the
 * verb strings, an edge names its verb by number. (from, to, verb) is
 * unique: relating again sets the weight.
 *
 * Removing an edge, or every edge of a memory (its forget), never
 * allocates, so a forget cannot fail. Adding one may (BRAIN_ENOMEM, with
 * nothing changed).
 *
 * All under the brain's lock: changes under the write lock, reads under
 * the read lock.
 */
#ifndef BRAIN_ORGANS_HIPPOCAMPUS_EDGES_STORE_H
#define BRAIN_ORGANS_HIPPOCAMPUS_EDGES_STORE_H

#include "base/names.h"

/* Longest verb (bytes). */
#define REL_VERB_MAX BRAIN_VERB_MAX

typedef struct rel_edge {
	uint64_t other; /* the memory at the other end */
	uint32_t verb;
	float weight;
} rel_edge;

typedef struct rel_list {
	rel_edge *e;
	uint32_t n, cap;
} rel_list;

typedef struct rel_node {
	uint64_t id;
	rel_list out, in;
} rel_node;

typedef struct rel_store {
	brain_map by_id;     /* memory id -> index in nodes */
	rel_node *nodes;
	uint32_t n_nodes, cap_nodes;
	brain_names verbs;   /* an edge names its verb by number */
	uint64_t n_edges;
} rel_store;

void brain__rel_init(rel_store *r);
void brain__rel_free(rel_store *r);

/* The number of a verb, or -1 if no edge ever named it. */
int64_t brain__rel_verb_find(const rel_store *r, const char *verb, size_t len);

/* The weight of edge (from, to, verb): true and *weight, or false. */
bool brain__rel_get(const rel_store *r, uint64_t from, uint64_t to, const char *verb, size_t len,
                    float *weight);

/* Add edge (from, to, verb) with `weight`, or set its weight if it exists
 * (*had and *old say whether and what it was). 0 or BRAIN_ENOMEM (nothing
 * changed). */
int brain__rel_put(rel_store *r, uint64_t from, uint64_t to, const char *verb, size_t len,
                   float weight, bool *had, float *old);

/* Remove edge (from, to, verb), or every edge from -> to (verb NULL).
 * Returns how many went. Never allocates. */
size_t brain__rel_remove(rel_store *r, uint64_t from, uint64_t to, const char *verb, size_t len);

/* Remove every edge of memory `id` (its forget). Never allocates. */
void brain__rel_drop(rel_store *r, uint64_t id);

/* The node of a memory, or NULL. */
const rel_node *brain__rel_node(const rel_store *r, uint64_t id);

/* Bytes held. */
uint64_t brain__rel_bytes(const rel_store *r);

#endif /* BRAIN_ORGANS_HIPPOCAMPUS_EDGES_STORE_H */
