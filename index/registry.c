/*
 * index/registry.c - the process-wide table of index backends
 * (brain_index_register / brain_index_find in braincore/sys/index.h).
 *
 * The built-in backends are a constant list, always findable, needing no
 * registration (and so no initialisation order). Backends of the
 * application go into a small fixed table under a mutex; entries are never
 * removed, and the vtables they point to live for the whole process.
 */
#include <pthread.h>
#include <string.h>

#include "base/base.h"
#include "braincore/sys/index.h"
#include "index/flat.h"
#include "index/hnsw.h"
#include "index/backend.h"

/* Enough for an application's own experiments; a fixed table keeps
 * registration free of allocation. */
#define MAX_USER_BACKENDS 16
/* Names are written into index files and manifests: keep them short. */
#define MAX_NAME_BYTES 63

static const brain_index_vtable *const g_builtin[] = {&brain__index_flat, &brain__index_hnsw};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static const brain_index_vtable *g_user[MAX_USER_BACKENDS];
static size_t g_nuser;

/* The backend called `name`; the caller holds g_lock. */
static const brain_index_vtable *lookup(const char *name)
{
	for (size_t i = 0; i < BRAIN_ARRAY_LEN(g_builtin); i++)
		if (strcmp(g_builtin[i]->name, name) == 0)
			return g_builtin[i];
	for (size_t i = 0; i < g_nuser; i++)
		if (strcmp(g_user[i]->name, name) == 0)
			return g_user[i];
	return NULL;
}

BRAIN_EXPORT int brain_index_register(const brain_index_vtable *vt)
{
	if (!vt)
		return brain__err(BRAIN_ENULL, "index_register: vtable is NULL");
	/* The version first: a vtable of another version may not even have
	 * the fields checked below where this library expects them. */
	if (vt->version < 1 || vt->version > BRAIN_INDEX_VTABLE_VERSION)
		return brain__err(BRAIN_EVERSION,
		                  "index_register: vtable version %u unknown (this library "
		                  "knows 1..%u)",
		                  vt->version, (unsigned)BRAIN_INDEX_VTABLE_VERSION);
	/* fields of version 2 exist only in a version 2 struct */
	if (vt->version >= 2 && (vt->save == NULL) != (vt->load == NULL))
		return brain__err(BRAIN_EINVAL, "index_register: backend gives %s without %s",
		                  vt->save ? "save" : "load", vt->save ? "load" : "save");
	if (vt->version >= 4 && ((vt->flush == NULL) != (vt->open_files == NULL) ||
	                         (vt->flush == NULL) != (vt->retire == NULL) ||
	                         (vt->flush && !vt->save)))
		return brain__err(BRAIN_EINVAL, "index_register: backend gives %s",
		                  vt->flush && !vt->save ? "flush without save"
		                                         : "only some of flush, open_files and retire");
	if (vt->version >= 6 && vt->rebuild && !vt->save)
		return brain__err(BRAIN_EINVAL, "index_register: backend gives rebuild without save");
	if (vt->version >= 6 && (((vt->freeze == NULL) != (vt->flush_frozen == NULL)) ||
	                         ((vt->freeze == NULL) != (vt->thaw == NULL)) ||
	                         (vt->freeze && !vt->flush)))
		return brain__err(BRAIN_EINVAL, "index_register: backend gives %s",
		                  vt->freeze && !vt->flush ? "freeze without flush"
		                                           : "only some of freeze, flush_frozen and thaw");
	if (!vt->name)
		return brain__err(BRAIN_ENULL, "index_register: name is NULL");
	const char *missing = !vt->open           ? "open"
	                      : !vt->reserve      ? "reserve"
	                      : !vt->add          ? "add"
	                      : !vt->remove       ? "remove"
	                      : !vt->get          ? "get"
	                      : !vt->search       ? "search"
	                      : !vt->memory_usage ? "memory_usage"
	                      : !vt->close        ? "close"
	                      : vt->version >= 4 && !vt->info ? "info"
	                      : vt->version >= 4 && !vt->search_planned ? "search_planned"
	                                          : NULL;
	if (missing)
		return brain__err(BRAIN_ENULL, "index_register: backend \"%s\" has no %s function",
		                  vt->name, missing);
	size_t len = strlen(vt->name);
	if (len == 0 || len > MAX_NAME_BYTES)
		return brain__err(BRAIN_EINVAL,
		                  "index_register: name must have 1 to %d bytes, not %zu",
		                  MAX_NAME_BYTES, len);

	int rc = BRAIN_OK;
	pthread_mutex_lock(&g_lock);
	if (lookup(vt->name))
		rc = brain__err(BRAIN_EEXISTS, "index_register: a backend \"%s\" exists already",
		                vt->name);
	else if (g_nuser == MAX_USER_BACKENDS)
		rc = brain__err(BRAIN_EFULL, "index_register: %d backends registered already",
		                MAX_USER_BACKENDS);
	else
		g_user[g_nuser++] = vt;
	pthread_mutex_unlock(&g_lock);
	return rc;
}

BRAIN_EXPORT const brain_index_vtable *brain_index_find(const char *name)
{
	if (!name)
		return NULL;
	pthread_mutex_lock(&g_lock);
	const brain_index_vtable *vt = lookup(name);
	pthread_mutex_unlock(&g_lock);
	return vt;
}

/* The built-in backends' release(), which detaches mappings and lets go
 * of the image's bytes: flat's, or hnsw's (0 for another backend's). */
static int builtin_release(const brain_index_vtable *vt)
{
	int (*release)(brain_index *, size_t, size_t *) = brain__index_release(vt);
	if (!release)
		return 0;
	return release == brain__flat_release ? 1 : release == brain__index_hnsw.release ? 2 : 0;
}

void brain__index_unmap_detached(const brain_index_vtable *vt, brain_index *index)
{
	int which = index ? builtin_release(vt) : 0;
	if (which == 1)
		brain__flat_unmap_detached(index);
	else if (which == 2)
		brain__hnsw_unmap_detached(index);
}

bool brain__index_lets_go_of_image(const brain_index_vtable *vt)
{
	return builtin_release(vt) != 0;
}
