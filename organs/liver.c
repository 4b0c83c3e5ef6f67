/*
 * organs/liver.c - the Liver: what the brain holds against its memory
 * budget (BRAIN_PARAM_MEMORY_BUDGET, bytes of heap; 0: none), as a
 * pressure level, and the gate every change that grows the brain passes.
 *
 *   normal     below 80% of the budget
 *   elevated   80% to 95%
 *   critical   95% and over; at 100% a change that would grow the brain
 *              (remember, add, add_batch, update) is refused with
 *              BRAIN_EFULL before it changes anything, unless forgotten
 *              memories left room that it reuses (the heap does not shrink
 *              when a memory is forgotten: its slot is taken by the next,
 *              and compaction, COMPACT_FREE, hands back what stays free).
 *              Forgetting is never refused, nor is replaying the log on
 *              open (what was acknowledged is never dropped).
 *
 * The bytes are the brain's account (base/alloc.c): every heap block the
 * brain holds, by structure. A change of level is logged (WARN going up,
 * INFO coming down). The Circadian (engine/circadian.c) forgets the least
 * valuable memories at critical pressure when its option says so.
 */
#include <stdatomic.h>

#include "spine/spine.h"

typedef struct liver {
	const brain_env *env;
	brain_spine *spine; /* to ask the Hippocampus for room (STATUS) */
	brain_mem *mem;
	_Atomic int level; /* the last level seen, to log changes */
} liver;

static int create(const brain_env *env, brain_spine *spine, const brain_organ_args *args,
                  void **state)
{
	(void)args;
	liver *l = brain__calloc(1, sizeof *l);
	if (!l)
		return brain__oom(sizeof *l, "liver");
	l->env = env;
	l->spine = spine;
	l->mem = spine->mem;
	atomic_init(&l->level, BRAIN_PRESSURE_NORMAL);
	*state = l;
	return BRAIN_OK;
}

static void destroy(void *state)
{
	brain__free(state);
}

static const char *level_name(int level)
{
	return level == BRAIN_PRESSURE_CRITICAL   ? "critical"
	       : level == BRAIN_PRESSURE_ELEVATED ? "elevated"
	                                          : "normal";
}

/* The account now, and its level (logging a change). */
static void measure(liver *l, brain_msg_liver_status *m)
{
	brain_mem_usage u;
	brain__mem_usage(l->mem, &u);
	m->used = u.total;
	m->budget = (uint64_t)brain__param(l->env, BRAIN_PIDX_MEMORY_BUDGET);
	m->level = BRAIN_PRESSURE_NORMAL;
	if (m->budget) {
		double share = (double)m->used / (double)m->budget;
		m->level = share >= 0.95   ? BRAIN_PRESSURE_CRITICAL
		           : share >= 0.80 ? BRAIN_PRESSURE_ELEVATED
		                           : BRAIN_PRESSURE_NORMAL;
	}
	int was = atomic_exchange(&l->level, m->level);
	if (was != m->level)
		BRAIN_LOG(m->level > was ? BRAIN_LOG_WARN : BRAIN_LOG_INFO,
		          "memory pressure %s: %llu bytes of a %llu-byte budget", level_name(m->level),
		          (unsigned long long)m->used, (unsigned long long)m->budget);
}

static int on_LIVER_STATUS(liver *l, brain_msg_liver_status *m)
{
	measure(l, m);
	return BRAIN_OK;
}

static int on_LIVER_ADMIT(liver *l, brain_msg_liver_admit *m)
{
	if (brain__param(l->env, BRAIN_PIDX_MEMORY_BUDGET) == 0)
		return BRAIN_OK; /* no budget: nothing to measure on a write */
	brain_msg_liver_status st;
	measure(l, &st);
	if (st.used < st.budget)
		return BRAIN_OK;
	/* over: only into the room forgotten memories left (the caller holds
	 * the write lock, which STATUS's free slots need) */
	brain_msg_status room = {.want_free = true};
	brain__call_STATUS(l->spine, &room);
	if (room.free_slots > 0)
		return BRAIN_OK;
	return brain__err(BRAIN_EFULL, "%s: the brain holds %llu bytes, over its memory budget of "
	                  "%llu (BRAIN_PARAM_MEMORY_BUDGET): forget memories or raise it", m->what,
	                  (unsigned long long)st.used, (unsigned long long)st.budget);
}

BRAIN_ORGAN_HANDLERS(LIVER, handlers);

const brain_organ brain__organ_liver = {
	.name = "liver",
	.id = BRAIN_ORGAN_LIVER,
	.create = create,
	.destroy = destroy,
	.handlers = handlers,
};
