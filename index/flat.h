/*
 * index/flat.h - the "flat" index backend: exact search by scanning every
 * vector. The reference for every recall figure, and the right index for
 * small brains.
 */
#ifndef BRAIN_INDEX_FLAT_H
#define BRAIN_INDEX_FLAT_H

#include "braincore/sys/index.h"

extern const brain_index_vtable brain__index_flat;

#endif /* BRAIN_INDEX_FLAT_H */
