/*
 * engine/circadian.c - the Circadian: the brain's slow cycle, run at most
 * every CIRCADIAN_MS by the Heart's worker (or brain_tick()).
 *
 * A cycle forgets, only when asked to: down to FORGET_OVER memories, and
 * (FORGET_ON_PRESSURE) the least valuable 1% while the Liver reports
 * critical memory pressure. "Least valuable" is the Hippocampus's
 * LEAST_VALUABLE: lowest importance, decayed while unused when
 * DECAY_HALF_LIFE_H is set (the curve the Thalamus ranks by, base/decay.h),
 * then the longest unused. Every forget is a logged change
 * (engine/change.c), as brain_forget's, so it survives a crash like one;
 * at most FORGET_PER_CYCLE a cycle, so one cycle stays short.
 */
#include "engine/change.h"
#include "engine/handle.h"

#define FORGET_PER_CYCLE 1024

int brain__circadian_cycle(brain_t *b)
{
	atomic_fetch_add(&b->cycles, 1);
	brain_msg_status st = {0};
	brain__call_STATUS(&b->spine, &st); /* atomics: no lock */
	uint64_t count = st.count;
	uint64_t over = (uint64_t)brain__param(&b->env, BRAIN_PIDX_FORGET_OVER);
	uint64_t n = over && count > over ? count - over : 0;
	if (brain__param(&b->env, BRAIN_PIDX_FORGET_ON_PRESSURE)) {
		brain_msg_liver_status lv;
		brain__call_LIVER_STATUS(&b->spine, &lv);
		if (lv.level == BRAIN_PRESSURE_CRITICAL && count > 0)
			n = BRAIN_MAX(n, count / 100 + 1);
	}
	n = BRAIN_MIN(n, (uint64_t)FORGET_PER_CYCLE);
	if (n == 0)
		return BRAIN_OK;
	brain_mem_scope outer = brain__enter(b);
	brain_id *ids = brain__malloc_array((size_t)n, sizeof *ids);
	brain__mem_leave(outer);
	if (!ids)
		return brain__oom((size_t)n * sizeof *ids, "circadian: forget list");
	brain_msg_least_valuable lv = {(size_t)n, brain__now_ms(),
	                               brain__param(&b->env, BRAIN_PIDX_DECAY_HALF_LIFE_H), ids, 0};
	brain__rdlock(b);
	int rc = brain__call_LEAST_VALUABLE(&b->spine, &lv);
	brain__unlock(b);
	size_t forgot = 0;
	for (size_t i = 0; rc == BRAIN_OK && i < lv.found; i++) {
		brain_change c = {.op = BRAIN_CHANGE_FORGET};
		c.u.forget.id = ids[i];
		rc = brain__change_make(b, &c);
		if (rc == BRAIN_ENOTFOUND)
			rc = BRAIN_OK; /* forgotten by the caller meanwhile */
		else if (rc == BRAIN_OK)
			forgot++;
	}
	brain__free(ids);
	atomic_fetch_add(&b->forgotten, forgot);
	if (forgot)
		BRAIN_LOG(BRAIN_LOG_INFO, "circadian: forgot the %zu least valuable memories (%llu "
		          "held, FORGET_OVER %llu)", forgot, (unsigned long long)count,
		          (unsigned long long)over);
	return brain__err_prefix(rc, "circadian");
}
