/*
 * base/edges.h - brain_edges objects (braincore/relations.h): edges as a
 * call returns them, built one at a time.
 */
#ifndef BRAIN_BASE_EDGES_H
#define BRAIN_BASE_EDGES_H

#include "base/base.h"

/* A new empty object, counted against the calling scope's brain as
 * results are; NULL on out of memory (reported). */
brain_edges *brain__edges_new(void);

/* Append one edge (its verb copied). 0 or BRAIN_ENOMEM (e unchanged). */
int brain__edges_add(brain_edges *e, brain_id from, brain_id to, const char *verb, size_t len,
                     float weight, uint32_t hops);

#endif /* BRAIN_BASE_EDGES_H */
