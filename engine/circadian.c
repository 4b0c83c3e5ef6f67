/*
 * engine/circadian.c - the Circadian: the brain's slow cycle, run at most
 * every CIRCADIAN_MS by the Heart's worker (or brain_tick()).
 *
 * A cycle forgets, only when asked to: down to FORGET_OVER memories, and
 * (FORGET_ON_PRESSURE) the least valuable 1% while the Liver reports
 * critical memory pressure and the brain has taken new memories since
 * the last such cycle (the room forgotten memories leave is reused, so the
 * heap does not shrink at once; forgetting on pressure alone would empty
 * the brain). "Least valuable" is the Hippocampus's
 * LEAST_VALUABLE: lowest importance, decayed while unused when
 * DECAY_HALF_LIFE_H is set (the curve the Thalamus ranks by, base/decay.h),
 * then the longest unused. Every forget is a logged change
 * (engine/change.c), as brain_forget's, so it survives a crash like one;
 * at most FORGET_PER_CYCLE a cycle, so one cycle stays short.
 *
 * Before it forgets, a cycle consolidates think's working memory, only
 * when asked (CONSOLIDATE_WORKING): each exchange's input that is a
 * statement (the Cortex's rule: not empty, not ending in a question mark)
 * and was not taken before is remembered as brain_remember would, with
 * importance CONSOLIDATE_IMPORTANCE: the user's words, not the answer,
 * which was made of memories already held. The change module makes it, so
 * with MERGE_SIMILAR a near-copy strengthens the memory there. Exchanges
 * working memory let go before a cycle (WORKING_MEMORY_SIZE) are not
 * consolidated. One that fails for a passing reason (memory, disk, the
 * budget) is given back to working memory for the next cycle; one refused
 * for good (an embedder's error) is let go. Either is said once a cycle
 * (WARN), and the cycle goes on: consolidation is background work nobody
 * waits for. A read-only brain consolidates nothing.
 */
#include <sched.h>
#include <stdio.h>

#include "engine/change.h"
#include "engine/handle.h"

#define FORGET_PER_CYCLE 1024
/* Compaction: not for fewer free slots than this (the memory they hold is
 * not worth the moves); each hold of the write lock moves memories for
 * at most this long (a recall at 100K memories takes ~100-300 us). */
#define COMPACT_MIN_FREE 64
#define COMPACT_HOLD_NS (UINT64_C(250) * 1000)
/* A consolidated statement's importance: the middle, what a caller who
 * does not know better gives brain_remember. MERGE_SIMILAR raises it for
 * what is said again. */
#define CONSOLIDATE_IMPORTANCE 0.5f

/* Memories now (atomics: no lock). */
static uint64_t count_of(brain_t *b)
{
	brain_msg_status st = {0};
	brain__call_STATUS(&b->spine, &st);
	return st.count;
}

/* A failure the next cycle may not meet: memory, the disk, the budget
 * (BRAIN_EFULL: MEMORY_BUDGET, or max_memories until something is
 * forgotten). */
static bool passing(int rc)
{
	return rc == BRAIN_ENOMEM || rc == BRAIN_EIO || rc == BRAIN_ENOSPC || rc == BRAIN_EFULL;
}

/* CONSOLIDATE_WORKING: working memory's statements not taken before,
 * remembered (see the top of this file). Never fails: what went wrong is
 * logged once. */
static void consolidate(brain_t *b)
{
	if (!brain__param(&b->env, BRAIN_PIDX_CONSOLIDATE_WORKING) || b->disk.readonly)
		return;
	brain_mem_scope outer = brain__enter(b);
	brain_msg_working_take t;
	if (brain__call_WORKING_TAKE(&b->spine, &t) != BRAIN_OK) {
		/* nothing was taken: all of it waits for the next cycle */
		brain__mem_leave(outer);
		BRAIN_LOG(BRAIN_LOG_WARN, "circadian: working memory not consolidated: %s",
		          brain_errmsg());
		return;
	}
	size_t stored = 0, merged = 0, refused = 0, kept = 0;
	uint64_t last = 0;
	char why[256] = "";
	for (size_t i = 0; i < t.n; i++) {
		brain_change c;
		int rc = brain__change_remember(b, t.items[i].input, t.items[i].len, NULL,
		                                CONSOLIDATE_IMPORTANCE, NULL, 0, true, &c);
		if (rc == BRAIN_OK) {
			last = BRAIN_MAX(last, c.out_lsn);
			if (c.op == BRAIN_CHANGE_STRENGTHEN)
				merged++;
			else
				stored++;
			continue;
		}
		if (!why[0])
			snprintf(why, sizeof why, "%s", brain_errmsg());
		if (!passing(rc)) {
			refused++; /* for good: taken, never tried again */
			continue;
		}
		/* this one and the rest wait for the next cycle */
		for (; i < t.n; i++, kept++) {
			brain_msg_working_return r = {&t.items[i].seq, 1};
			brain__call_WORKING_RETURN(&b->spine, &r);
		}
	}
	brain__free(t.items);
	/* made and logged, as durable as the sync mode promises, once for all */
	int rc = brain__change_commit(b, last);
	brain__mem_leave(outer);
	if (stored + merged) {
		/* (the index's tail they left is built at the next beat, as the
		 * Heart finds it: the Circadian does not call back into it) */
		atomic_fetch_add(&b->consolidated, stored + merged);
		BRAIN_LOG(BRAIN_LOG_INFO, "circadian: consolidated %zu statements of working memory "
		          "(%zu new memories, %zu strengthened)", stored + merged, stored, merged);
	}
	if (refused + kept)
		BRAIN_LOG(BRAIN_LOG_WARN, "circadian: %zu statements of working memory not "
		          "consolidated, %zu of them kept for the next cycle: %s", refused + kept,
		          kept, why);
	else if (rc)
		BRAIN_LOG(BRAIN_LOG_WARN, "circadian: consolidated working memory, but its log "
		          "could not be made durable: %s", brain_errmsg());
}

/* COMPACT_FREE: is a share of the slots free? Then ask for compaction. */
static void compact_check(brain_t *b)
{
	int64_t share = brain__param(&b->env, BRAIN_PIDX_COMPACT_FREE);
	if (share <= 0 || b->disk.readonly || atomic_load(&b->compact_wanted))
		return;
	brain_msg_status st = {.want_free = true};
	brain__rdlock(b);
	brain__call_STATUS(&b->spine, &st);
	brain__unlock(b);
	uint64_t unused = st.slots - st.count; /* free below the end, and at it */
	if (st.slots > st.count && unused >= COMPACT_MIN_FREE &&
	    unused * 1000 >= (uint64_t)share * st.slots)
		atomic_store(&b->compact_wanted, true);
}

int brain__compact_for(brain_t *b, uint64_t until_ns)
{
	int rc = BRAIN_OK;
	uint64_t tail_max = (uint64_t)brain__param(&b->env, BRAIN_PIDX_INDEX_TAIL_MAX);
	uint64_t bound = tail_max ? BRAIN_MAX(tail_max / 2, (uint64_t)1) : UINT64_MAX;
	/* At most a sixteenth of the memories a call, so that the index's
	 * background work (building what moved, sweeping the links the moves
	 * left behind) runs between calls, beside searches, rather than in
	 * steps inside the moves (an HNSW remove sweeps a few nodes itself
	 * once an eighth of the index went with no build()). */
	uint64_t most = count_of(b) / 16 + 64;
	size_t moved = 0;
	uint64_t released = 0;
	bool done = false;
	while (atomic_load(&b->compact_wanted) && !done) {
		uint64_t pending = brain__index_pending(b);
		if (pending >= bound || moved >= most)
			break; /* the graph catches up first */
		brain_msg_compact m = {.max = (size_t)BRAIN_MIN(BRAIN_MIN(bound - pending, most - moved),
		                                                (uint64_t)SIZE_MAX),
		                       .hold_until_ns = 0};
		brain_mem_scope outer = brain__enter(b);
		brain__wrlock(b);
		uint64_t held = brain__mono_ns();
		m.hold_until_ns = held + COMPACT_HOLD_NS;
		rc = brain__call_COMPACT(&b->spine, &m);
		held = brain__mono_ns() - held;
		brain__wrunlock(b);
		if (held > atomic_load(&b->compact_hold_ns_max))
			atomic_store(&b->compact_hold_ns_max, held); /* one compaction at a time */
		brain__mem_leave(outer);
		moved += m.moved;
		released += m.released;
		done = m.done;
		if (rc)
			break;
		if (!done && m.moved == 0) {
			/* nothing could move (never expected): not again until the
			 * next cycle finds it due */
			atomic_store(&b->compact_wanted, false);
			break;
		}
		if (done)
			atomic_store(&b->compact_wanted, false);
		else if (until_ns && brain__mono_ns() >= until_ns)
			break;
		else
			sched_yield(); /* the readers that queued behind the hold first */
	}
	atomic_fetch_add(&b->compacted, moved);
	atomic_fetch_add(&b->slots_released, released);
	if (done)
		BRAIN_LOG(BRAIN_LOG_INFO, "circadian: compaction done (%zu memories moved, %llu slots "
		          "handed back in this pass)", moved, (unsigned long long)released);
	return brain__err_prefix(rc, "circadian: compaction");
}

int brain__circadian_cycle(brain_t *b)
{
	atomic_fetch_add(&b->cycles, 1);
	consolidate(b);
	uint64_t count = count_of(b);
	uint64_t over = (uint64_t)brain__param(&b->env, BRAIN_PIDX_FORGET_OVER);
	uint64_t n = over && count > over ? count - over : 0;
	bool pressure = false;
	if (brain__param(&b->env, BRAIN_PIDX_FORGET_ON_PRESSURE)) {
		brain_msg_liver_status lv;
		brain__call_LIVER_STATUS(&b->spine, &lv);
		/* Forgetting gives no heap back at once (a forgotten memory's
		 * room is reused by the next; compaction, later, may give some
		 * back), so pressure stays critical after it: a
		 * cycle forgets for pressure only when the brain has taken new
		 * memories since the last time it did, never down to nothing. */
		pressure = lv.level == BRAIN_PRESSURE_CRITICAL && count > 1 &&
		           count > atomic_load(&b->pressure_mark);
		if (pressure)
			n = BRAIN_MAX(n, count / 100 + 1);
	}
	n = BRAIN_MIN(n, (uint64_t)FORGET_PER_CYCLE);
	if (n == 0) {
		compact_check(b);
		return BRAIN_OK;
	}
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
	compact_check(b);
	return brain__err_prefix(rc, "circadian");
}
