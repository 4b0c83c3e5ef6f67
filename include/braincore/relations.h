/*
 * braincore/relations.h - relations between memories.
 *
 * Part of the public API of libbraincore. Compiles alone as C11 and as C++.
 *
 * A relation is a directed edge between two memories, named by a verb
 * ("knows", "part_of", "mentions": 1..BRAIN_VERB_MAX bytes of UTF-8, no
 * NUL), with a weight. (from, to, verb) is one edge: relating again sets
 * its weight. Edges are logged and checkpointed like memories (they
 * survive kill -9 the same way); forgetting a memory removes its edges.
 *
 *     brain_relate(b, ana, acme, "works_at", 1.0f);
 *     brain_neighbors(b, acme, "works_at", BRAIN_DIR_IN, &edges);   // who works there
 *     brain_recall_near(b, "billing", 5, ana, 2, NULL, &results);   // within 2 hops
 */
#ifndef BRAINCORE_RELATIONS_H
#define BRAINCORE_RELATIONS_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "filter.h"
#include "memory.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Longest verb, in bytes. */
#define BRAIN_VERB_MAX 128

/** Which edges of a memory: those leaving it, entering it, or both.
 * Pinned values. */
enum brain_direction {
	BRAIN_DIR_OUT = 1,
	BRAIN_DIR_IN = 2,
	BRAIN_DIR_BOTH = 3
};

/** Edges as a call returns them. Opaque; immutable; released by
 * brain_edges_free(). */
typedef struct brain_edges brain_edges;

/**
 * Relate memory `from` to memory `to` by `verb` with `weight` (finite; any
 * sign), or set the weight of that edge if it exists. A memory may relate
 * to itself.
 * Returns 0, BRAIN_ENULL (b or verb), BRAIN_EINVAL (an empty verb or one
 * with a NUL), BRAIN_ETOOLONG (verb over BRAIN_VERB_MAX), BRAIN_EUTF8,
 * BRAIN_ENONFINITE (weight), BRAIN_ENOTFOUND (either memory is missing:
 * the message says which), BRAIN_EREADONLY, BRAIN_EFULL (memory budget),
 * BRAIN_ENOMEM, BRAIN_EIO, BRAIN_ENOSPC; nothing changes on error.
 * Thread-safe: one brain serves many threads (docs/threading.md).
 */
int brain_relate(brain_t *b, uint64_t from, uint64_t to, const char *verb, float weight);

/**
 * Remove the edge (from, to, verb), or every edge from `from` to `to`
 * when verb is NULL.
 * Returns 0, BRAIN_ENOTFOUND (no such edge), the verb errors of
 * brain_relate(), BRAIN_EREADONLY, BRAIN_EIO, BRAIN_ENOSPC. Thread-safe:
 * one brain serves many threads (docs/threading.md).
 */
int brain_unrelate(brain_t *b, uint64_t from, uint64_t to, const char *verb);

/**
 * The edges of memory `id` in `direction`, of `verb` only unless it is
 * NULL, in the order they were made, into *out (NULL on error).
 * Returns 0, BRAIN_ENULL, BRAIN_ERANGE (direction), BRAIN_ENOTFOUND (no
 * memory `id`), the verb errors of brain_relate(), BRAIN_ENOMEM.
 * Thread-safe: one brain serves many threads (docs/threading.md).
 */
int brain_neighbors(brain_t *b, brain_id id, const char *verb, int direction,
                    brain_edges **out);

/**
 * The memories within `depth` hops of `start` (breadth first, following
 * edges of `verb` unless NULL, in `direction`), nearest first, each once,
 * with the edge that first reached it and its number of hops (1..depth);
 * the start itself is not among them. Into *out (NULL on error).
 * Returns 0 or the errors of brain_neighbors(). Thread-safe: one brain
 * serves many threads (docs/threading.md).
 */
int brain_traverse(brain_t *b, brain_id start, unsigned depth, const char *verb, int direction,
                   brain_edges **out);

/**
 * brain_recall_results() among the memories within `depth` hops of
 * `around` (edges of any verb, either direction; `around` itself
 * included), and whose metadata passes `filter` unless it is NULL.
 * Returns 0 or the errors of brain_recall_filter() and brain_traverse().
 * Thread-safe: one brain serves many threads (docs/threading.md).
 */
int brain_recall_near(brain_t *b, const char *query, size_t k, brain_id around, unsigned depth,
                      const brain_filter *filter, brain_results **out);

/**
 * Number of edges in e (0 for NULL). Returns the count. Thread-safe
 * (edges objects are immutable).
 */
size_t brain_edges_count(const brain_edges *e);

/**
 * The memory edge i leaves; BRAIN_ID_NONE if out of range. Returns the
 * id. Thread-safe (edges objects are immutable).
 */
brain_id brain_edges_from(const brain_edges *e, size_t i);

/**
 * The memory edge i enters; BRAIN_ID_NONE if out of range. Returns the
 * id. Thread-safe (edges objects are immutable).
 */
brain_id brain_edges_to(const brain_edges *e, size_t i);

/**
 * The verb of edge i, NUL-terminated, owned by e; NULL if out of range.
 * Returns the borrowed verb. Thread-safe (edges objects are immutable).
 */
const char *brain_edges_verb(const brain_edges *e, size_t i);

/**
 * The weight of edge i; NaN if out of range. Returns the weight.
 * Thread-safe (edges objects are immutable).
 */
float brain_edges_weight(const brain_edges *e, size_t i);

/**
 * For brain_traverse(): the hops from the start to the memory edge i
 * reached (1 for brain_neighbors()); 0 if out of range. Returns the hops.
 * Thread-safe (edges objects are immutable).
 */
unsigned brain_edges_hops(const brain_edges *e, size_t i);

/**
 * Release an edges object. NULL is a no-op. Returns nothing. Not
 * thread-safe with other calls on the same e.
 */
void brain_edges_free(brain_edges *e);

#ifdef __cplusplus
}
#endif

#endif /* BRAINCORE_RELATIONS_H */
