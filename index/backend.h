/*
 * index/backend.h - what the brain needs to know about any index backend.
 */
#ifndef BRAIN_INDEX_BACKEND_H
#define BRAIN_INDEX_BACKEND_H

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

/* The backend's batch add with rows on demand, if it has one (version 9). */
static inline int (*brain__index_add_batch_rows(const brain_index_vtable *vt))(
    brain_index *, const uint32_t *, size_t, brain_index_row_fn, void *)
{
	return vt->version >= 9 ? vt->add_batch_rows : NULL;
}

/* What the backend says about itself: info() from version 4; before, the
 * count the brain keeps and whether its searches are exact. */
static inline int brain__index_info(const brain_index_vtable *vt, const brain_index *index,
                                    uint64_t count, brain_index_info *out)
{
	if (vt->version >= 4)
		return vt->info(index, out);
	out->count = count;
	out->approximate = (vt->capabilities & BRAIN_INDEX_CAP_EXACT) == 0;
	out->nbuilt = 0;
	return BRAIN_OK;
}

/* A planned search: search_planned() from version 4; before, search(),
 * which cannot be told to be exact or how wide to look. */
static inline int brain__index_search(const brain_index_vtable *vt, const brain_index *index,
                                      const brain_index_search *plan, uint32_t *slots,
                                      float *distances, size_t *found)
{
	if (vt->version >= 4)
		return vt->search_planned(index, plan, slots, distances, found);
	return vt->search(index, plan->query, plan->k, plan->filter, slots, distances, found);
}

/* Does the backend keep files of its own (version 4 with flush)? */
static inline bool brain__index_has_files(const brain_index_vtable *vt)
{
	return vt->version >= 4 && vt->flush && vt->open_files && vt->retire;
}

/* The backend's background build, if it has one (version 5). */
static inline int (*brain__index_build(const brain_index_vtable *vt))(brain_index *, size_t,
                                                                     uint64_t *)
{
	return vt->version >= 5 ? vt->build : NULL;
}

/* The backend's rebuild from a damaged saved form, if it has one
 * (version 6). */
typedef int (*brain_index_rebuild_fn)(const brain_index_config *, const brain_index_files *,
                                      void *, size_t, brain_index_verify_fn, void *,
                                      brain_index **);
static inline brain_index_rebuild_fn brain__index_rebuild(const brain_index_vtable *vt)
{
	return vt->version >= 6 ? vt->rebuild : NULL;
}

/* Does the backend checkpoint in two steps (version 6, with flush)? */
static inline bool brain__index_freezes(const brain_index_vtable *vt)
{
	return vt->version >= 6 && brain__index_has_files(vt) && vt->freeze && vt->flush_frozen &&
	       vt->thaw;
}

/* The backend's shrink (version 7), or NULL. */
static inline int (*brain__index_shrink(const brain_index_vtable *vt))(brain_index *, uint32_t)
{
	return vt->version >= 7 ? vt->shrink : NULL;
}

/* The backend's release (version 7), or NULL. */
static inline int (*brain__index_release(const brain_index_vtable *vt))(brain_index *, size_t,
                                                                         size_t *)
{
	return vt->version >= 7 ? vt->release : NULL;
}

/* Does the backend's release() also stop using the bytes load() and
 * open_files() gave it (the built-in ones), so that the image they lie in
 * may be unmapped after a checkpoint? Another backend may use them until
 * close(), as the vtable promises. */
bool brain__index_lets_go_of_image(const brain_index_vtable *vt);

/* The mappings a built-in backend's release() detached, unmapped after the
 * write lock it ran under is let go, with no lock of the brain's: no row
 * lies in them, so no search or change reaches them, and the backend
 * guards its list. Another backend unmaps in release() itself: no-op.
 * Not beside close(). */
void brain__index_unmap_detached(const brain_index_vtable *vt, brain_index *index);

/* A parameter through the config's callback, or its default. */
static inline int64_t brain__index_param(const brain_index_config *config, int param)
{
	if (config->version >= 3 && config->param)
		return config->param(config->param_payload, param);
	int64_t def = 0;
	brain_param_bounds(param, NULL, NULL, &def);
	return def;
}

#endif /* BRAIN_INDEX_BACKEND_H */
