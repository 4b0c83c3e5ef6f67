/*
 * base/param_table.c - see param_table.h.
 */
#include "base/param_table.h"

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

int64_t brain__param_default(int i)
{
	return g_params[i].def;
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

