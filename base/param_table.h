/*
 * base/param_table.h - the run-time parameters' table (one X-macro list in
 * include/braincore/params.h): dense indexes, bounds, names, defaults.
 * Below every layer, so that an index backend can check a parameter's
 * bounds as the engine does.
 */
#ifndef BRAIN_BASE_PARAM_TABLE_H
#define BRAIN_BASE_PARAM_TABLE_H

#include "base/base.h"

/* Dense index of each parameter, for the parameter array. */
enum brain_param_index {
#define BRAIN__PIDX(name, number, min, max, def) BRAIN_PIDX_##name,
	BRAIN_PARAM_LIST(BRAIN__PIDX)
#undef BRAIN__PIDX
	BRAIN_PIDX__COUNT
};

/* Dense index of a public parameter number (enum brain_param), or -1 if
 * unknown. */
static inline int brain__param_index(int param)
{
	switch (param) {
#define BRAIN__PNUM(name, number, min, max, def)                                \
	case number:                                                                \
		return BRAIN_PIDX_##name;
		BRAIN_PARAM_LIST(BRAIN__PNUM)
#undef BRAIN__PNUM
	default:
		return -1;
	}
}

/* Default of the parameter at dense index i (0 <= i < BRAIN_PIDX__COUNT). */
int64_t brain__param_default(int i);

#endif /* BRAIN_BASE_PARAM_TABLE_H */
