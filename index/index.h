/*
 * index/index.h - what the brain needs to know about any index backend.
 */
#ifndef BRAIN_INDEX_INDEX_H
#define BRAIN_INDEX_INDEX_H

#include "base/base.h"
#include "braincore/sys/index.h"

/* Does the backend save itself for use in place (version 2 with save and
 * load)? The fields are read only from a struct that has them. */
static inline bool brain__index_persists(const brain_index_vtable *vt)
{
	return vt->version >= 2 && vt->save && vt->load;
}

/* The backend's batch add, if it has one (version 3). */
static inline int (*brain__index_add_batch(const brain_index_vtable *vt))(brain_index *,
                                                                         const uint32_t *,
                                                                         const float *, size_t)
{
	return vt->version >= 3 ? vt->add_batch : NULL;
}

/* A parameter through the config's callback, or its default. */
int64_t brain__index_param(const brain_index_config *config, int param);

#endif /* BRAIN_INDEX_INDEX_H */
