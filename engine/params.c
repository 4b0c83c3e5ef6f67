/*
 * engine/params.c - run-time parameters of a brain: defaults, get and set
 * (the table of bounds and names: base/param_table.c).
 */
#include "engine/handle.h"

void brain__params_defaults(brain_env *env)
{
	for (int i = 0; i < BRAIN_PIDX__COUNT; i++)
		atomic_store(&env->params[i], brain__param_default(i));
}

BRAIN_EXPORT int brain_set_param(brain_t *b, int param, int64_t value)
{
	if (!b)
		return brain__err(BRAIN_ENULL, "set_param: brain is NULL");
	int i = brain__param_index(param);
	if (i < 0)
		return brain__err(BRAIN_EPARAM, "set_param: parameter %d is unknown", param);
	int64_t min = 0, max = 0;
	brain_param_bounds(param, &min, &max, NULL);
	if (value < min || value > max)
		return brain__err(BRAIN_ERANGE,
		                  "set_param: %s = %lld is outside [%lld, %lld]", brain_param_name(param),
		                  (long long)value, (long long)min, (long long)max);
	atomic_store(&b->env.params[i], value);
	return BRAIN_OK;
}

BRAIN_EXPORT int brain_get_param(const brain_t *b, int param, int64_t *value)
{
	if (!b || !value)
		return brain__err(BRAIN_ENULL, "get_param: %s is NULL", b ? "value" : "brain");
	int i = brain__param_index(param);
	if (i < 0)
		return brain__err(BRAIN_EPARAM, "get_param: parameter %d is unknown", param);
	*value = brain__param(&b->env, (enum brain_param_index)i);
	return BRAIN_OK;
}
