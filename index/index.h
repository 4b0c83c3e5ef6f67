/*
 * index/index.h - what the brain needs to know about any index backend.
 */
#ifndef BRAIN_INDEX_INDEX_H
#define BRAIN_INDEX_INDEX_H

#include "src/base.h"
#include "braincore/sys/index.h"

/* Does the backend save itself for use in place (version 2 with save and
 * load)? The fields are read only from a struct that has them. */
static inline bool brain__index_persists(const brain_index_vtable *vt)
{
	return vt->version >= 2 && vt->save && vt->load;
}

#endif /* BRAIN_INDEX_INDEX_H */
