/*
 * src/handle.h - the brain handle, shared by the api files of src/.
 *
 * The api layer owns the brain lock: calls that only read take it shared,
 * calls that change memories take it exclusive (see docs/threading.md).
 * Organs document which messages need which (src/messages.h).
 */
#ifndef BRAIN_HANDLE_H
#define BRAIN_HANDLE_H

#include <pthread.h>

#include "src/spine.h"

struct brain {
	brain_env env;
	brain_spine spine;
	pthread_rwlock_t lock;
};

static inline void brain__rdlock(brain_t *b)
{
	pthread_rwlock_rdlock(&b->lock);
}

static inline void brain__wrlock(brain_t *b)
{
	pthread_rwlock_wrlock(&b->lock);
}

static inline void brain__unlock(brain_t *b)
{
	pthread_rwlock_unlock(&b->lock);
}

/* Resolve caller options (any known version, or NULL for defaults) into a
 * complete current-version struct. Reports the first bad field. */
int brain__options_resolve(const brain_options *in, brain_options *out);

/* Dense index of a parameter number, or -1 if unknown. */
int brain__param_index(int param);

/* Set every parameter of env to its default. */
void brain__params_defaults(brain_env *env);

#endif /* BRAIN_HANDLE_H */
