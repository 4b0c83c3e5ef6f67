/*
 * src/params.c - run-time parameters: bounds, names, get and set.
 */
#include "src/handle.h"

typedef struct param_info {
	int number;
	const char *name;
	int64_t min, max, def;
} param_info;

static const param_info g_params[BRAIN_PIDX__COUNT] = {
#define X(name, number, min, max, def) [BRAIN_PIDX_##name] = {number, #name, min, max, def},
	BRAIN_PARAM_LIST(X)
#undef X
};

void brain__params_defaults(brain_env *env)
{
	for (int i = 0; i < BRAIN_PIDX__COUNT; i++)
		atomic_store(&env->params[i], g_params[i].def);
}

BRAIN_EXPORT int brain_param_bounds(int param, int64_t *min, int64_t *max, int64_t *def)
{
	int i = brain__param_index(param);
	if (i < 0)
		return brain__err(BRAIN_EPARAM, "parameter %d is unknown", param);
	if (min)
		*min = g_params[i].min;
	if (max)
		*max = g_params[i].max;
	if (def)
		*def = g_params[i].def;
	return BRAIN_OK;
}

BRAIN_EXPORT const char *brain_param_name(int param)
{
	int i = brain__param_index(param);
	return i < 0 ? NULL : g_params[i].name;
}

BRAIN_EXPORT int brain_set_param(brain_t *b, int param, int64_t value)
{
	if (!b)
		return brain__err(BRAIN_ENULL, "set_param: brain is NULL");
	int i = brain__param_index(param);
	if (i < 0)
		return brain__err(BRAIN_EPARAM, "set_param: parameter %d is unknown", param);
	const param_info *p = &g_params[i];
	if (value < p->min || value > p->max)
		return brain__err(BRAIN_ERANGE,
		                  "set_param: %s = %lld is outside [%lld, %lld]", p->name,
		                  (long long)value, (long long)p->min, (long long)p->max);
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
