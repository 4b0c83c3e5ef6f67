/*
 * engine/wordtable.c - which word table a brain's built-in embedder uses
 * (its semantic lift, organs/cortex/lift.h), decided when the brain is
 * opened and recorded in its identity (engine/handle.h brain__use_lift).
 * Called by brain.c (in-memory brains and images), disk.c (a directory's
 * brain, once its manifest is read) and persist.c (through brain.c).
 */
#include "engine/handle.h"
#include "organs/cortex/lift.h"
#include "organs/cortex/calibration.h"

int brain__use_lift(brain_env *env, const brain_identity *stored)
{
	brain__lift_release(env->lift);
	env->lift = NULL;
	if (env->opts.embedder != BRAIN_EMBEDDER_BUILTIN)
		return BRAIN_OK;
	atomic_store(&env->params[BRAIN_PIDX_THINK_MIN_SCORE],
	             (int64_t)brain_calibration_lexical.think_min_score);
	env->embedder_id = 0;
	uint32_t made_with = stored ? stored->embedder_id : 0;
	if (stored && !made_with)
		return BRAIN_OK; /* made without it: lexical, installed table or not */
	brain_lift *l = NULL;
	int rc = brain__lift_acquire_default(&l);
	if (rc)
		return rc;
	if (stored && !l)
		return brain__err(BRAIN_EMISMATCH, "the brain's vectors were made with the word table "
		                  "%08x (the built-in embedder's semantic lift), and none is installed: "
		                  "set %s to its path (docs/embedder.md)", made_with, BRAIN_LIFT_ENV);
	if (stored && brain__lift_fingerprint(l) != made_with) {
		rc = brain__err(BRAIN_EMISMATCH, "the brain's vectors were made with the word table "
		                "%08x, not with %s (%08x): vectors of two tables do not mix; set %s to "
		                "the brain's table (docs/embedder.md)", made_with, brain__lift_name(l),
		                brain__lift_fingerprint(l), BRAIN_LIFT_ENV);
		brain__lift_release(l);
		return rc;
	}
	uint32_t least = l ? brain__lift_dims(l) + BRAIN_LIFT_MIN_LEXICAL : 0;
	if (stored && env->opts.dimensions < least) {
		/* no brain this small is made with it: a damaged identity */
		brain__lift_release(l);
		return brain__err(BRAIN_ECORRUPT, "the brain says its %u-d vectors were made with the "
		                  "word table %08x, which needs %u dimensions at least",
		                  env->opts.dimensions, made_with, least);
	}
	if (!l || env->opts.dimensions < least) {
		brain__lift_release(l); /* a new brain too small for it: lexical */
		return BRAIN_OK;
	}
	env->lift = l;
	env->embedder_id = brain__lift_fingerprint(l);
	/* the lift raises every score: think's "don't know" moves up with it
	 * (calibration.h; at open, before anyone can have set it) */
	atomic_store(&env->params[BRAIN_PIDX_THINK_MIN_SCORE],
	             (int64_t)brain_calibration_lift.think_min_score);
	return BRAIN_OK;
}
