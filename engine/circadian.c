/*
 * engine/circadian.c - the Circadian: the brain's slow cycle, run at most
 * every CIRCADIAN_MS by the Heart's worker (or brain_tick()).
 *
 * A cycle forgets, only when asked to: down to FORGET_OVER memories, and
 * (FORGET_ON_PRESSURE) the least valuable 1% while the Liver reports
 * critical memory pressure and the brain has taken new memories since
 * the last such cycle (the room forgotten memories leave is reused, so the
 * heap does not shrink; forgetting on pressure alone would empty the
 * brain). "Least valuable" is the Hippocampus's
 * LEAST_VALUABLE: lowest importance, decayed while unused when
 * DECAY_HALF_LIFE_H is set (the curve the Thalamus ranks by, base/decay.h),
 * then the longest unused. Every forget is a logged change
 * (engine/change.c), as brain_forget's, so it survives a crash like one;
 * at most FORGET_PER_CYCLE a cycle, so one cycle stays short.
 */
#include "engine/change.h"
#include "engine/handle.h"

#define FORGET_PER_CYCLE 1024

/* Memories now (atomics: no lock). */
static uint64_t count_of(brain_t *b)
{
	brain_msg_status st = {0};
	brain__call_STATUS(&b->spine, &st);
	return st.count;
}

int brain__circadian_cycle(brain_t *b)
{
	atomic_fetch_add(&b->cycles, 1);
	uint64_t count = count_of(b);
	uint64_t over = (uint64_t)brain__param(&b->env, BRAIN_PIDX_FORGET_OVER);
	uint64_t n = over && count > over ? count - over : 0;
	bool pressure = false;
	if (brain__param(&b->env, BRAIN_PIDX_FORGET_ON_PRESSURE)) {
		brain_msg_liver_status lv;
		brain__call_LIVER_STATUS(&b->spine, &lv);
		/* Forgetting gives no heap back (a forgotten memory's room is
		 * reused by the next), so pressure stays critical after it: a
		 * cycle forgets for pressure only when the brain has taken new
		 * memories since the last time it did, never down to nothing. */
		pressure = lv.level == BRAIN_PRESSURE_CRITICAL && count > 1 &&
		           count > atomic_load(&b->pressure_mark);
		if (pressure)
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
	for (size_t i = 0; rc == BRAIN_OK && i < lv.found && forgot < n; i++) {
		/* a caller's forgets meanwhile count too: never below the limit */
		uint64_t now = count_of(b);
		if (!pressure && now <= over)
			break;
		brain_change c = {.op = BRAIN_CHANGE_FORGET};
		c.u.forget.id = ids[i];
		rc = brain__change_make(b, &c);
		if (rc == BRAIN_ENOTFOUND)
			rc = BRAIN_OK; /* forgotten by the caller meanwhile */
		else if (rc == BRAIN_OK)
			forgot++;
	}
	brain__free(ids);
	if (pressure)
		atomic_store(&b->pressure_mark, count_of(b));
	atomic_fetch_add(&b->forgotten, forgot);
	if (forgot)
		BRAIN_LOG(BRAIN_LOG_INFO, "circadian: forgot the %zu least valuable memories (%llu "
		          "held, FORGET_OVER %llu%s)", forgot, (unsigned long long)count,
		          (unsigned long long)over, pressure ? ", memory pressure critical" : "");
	return brain__err_prefix(rc, "circadian");
}
