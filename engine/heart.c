/*
 * engine/heart.c - the Heart: one clock thread for the whole process,
 * shared by every open brain that runs in the background
 * (BRAIN_BACKGROUND_THREADS: in memory, or on disk opened for writing),
 * and one worker thread for the long work.
 *
 * Each brain beats every TICK_MS (and, in NORMAL sync, at least every
 * SYNC_INTERVAL_MS). A beat is short: the Lungs' breath (BREATHE: the
 * NORMAL fsync once its interval has passed, and whether a checkpoint is
 * due) and a look at the index's tail. The long work goes to the worker,
 * one job per brain at a time, so that one brain's long checkpoint never
 * delays another brain's beat: a due checkpoint, and building the index's
 * tail (vectors stored but not yet in its graph) in slices of BUILD_SLICE_MS
 * (a build job whose tail is not empty goes to the back of the queue, so
 * brains take turns). A change that leaves a tail queues a build job at
 * once (brain__heart_kick) rather than waiting for the next beat.
 * The threads sleep on a condition variable between beats: an idle process
 * spends nothing but the wake-ups, and a process with no such brain has no
 * thread at all (the last brain to leave stops them).
 *
 * A brain opened with BRAIN_BACKGROUND_MANUAL never joins: brain_tick()
 * runs its beat, builds its tail, and runs its checkpoint when due, on the
 * caller's thread.
 */
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "base/sync.h"
#include "engine/handle.h"

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv;      /* the clock's sleep, and the worker's */
static pthread_cond_t g_idle;    /* a brain's beat or job ended */
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static brain_t **g_brains;       /* joined brains */
static size_t g_n, g_cap;
static brain_t **g_jobs;         /* brains with work for the worker, in order */
static size_t g_njobs;
/* NORMAL mode's fsyncs, made by a thread of their own (neither the clock,
 * which the Watchdog shares, nor the worker, whose jobs may run long):
 * brains whose fsync is due, in order, and the one being made */
static brain_t **g_syncs;
static size_t g_nsyncs;
static brain_t *g_sync_brain;
static int64_t g_sync_started_ms;
static bool g_sync_reported;
static pthread_t g_clock, g_worker, g_syncer;
/* the Watchdog's spare worker, started when a job has run WATCHDOG_MS:
 * the other brains' work goes on beside the stuck one */
static pthread_t g_spare;
static bool g_spare_running;
static bool g_running, g_stop;
/* joins and leaves that start or stop the threads, one at a time */
static pthread_mutex_t g_life = PTHREAD_MUTEX_INITIALIZER;

static void init_conds(void)
{
	brain__cond_init_mono(&g_cv);
	brain__cond_init_mono(&g_idle);
}

/* fork(): the child has none of the Heart's threads. Its copies of the
 * brains the parent had open are the parent's (the child must not use
 * them, as with any library holding threads); brains the child opens get
 * threads of their own. The locks are held across the fork so that the
 * child's copies are consistent, then the child forgets the threads. */
static void fork_prepare(void)
{
	/* g_mu only: a close holds g_life while it waits for a job, which
	 * may be a user embedder that forks */
	pthread_mutex_lock(&g_mu);
}

static void fork_parent(void)
{
	pthread_mutex_unlock(&g_mu);
}

static void fork_child(void)
{
	for (size_t i = 0; i < g_n; i++) {
		g_brains[i]->beating = false;
		g_brains[i]->job_running = false;
		g_brains[i]->job_queued = false;
		g_brains[i]->sync_queued = false;
		g_brains[i]->syncing = false;
		g_brains[i]->in_heart = false;
	}
	g_n = 0;
	g_njobs = 0;
	g_nsyncs = 0;
	g_sync_brain = NULL;
	g_spare_running = false;
	g_running = false;
	g_stop = false;
	init_conds();
	pthread_mutex_unlock(&g_mu);
	/* g_life may have been held by a thread the child does not have */
	pthread_mutex_init(&g_life, NULL);
}

static void init_once(void)
{
	init_conds();
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

static int64_t mono_ms(void)
{
	return (int64_t)(brain__mono_ns() / 1000000u);
}

/* A brain's beat period. */
static int64_t period_ms(const brain_t *b)
{
	int64_t p = brain__param(&b->env, BRAIN_PIDX_TICK_MS);
	if (b->env.opts.sync == BRAIN_SYNC_NORMAL)
		p = BRAIN_MIN(p, brain__param(&b->env, BRAIN_PIDX_SYNC_INTERVAL_MS));
	return BRAIN_MAX(p, (int64_t)1);
}

/* A build job's turn on the worker: then the next brain's job. */
#define BUILD_SLICE_MS 50

int brain__beat(brain_t *b, bool *checkpoint_due, bool *sync_due)
{
	*checkpoint_due = false;
	if (sync_due)
		*sync_due = false;
	int rc = BRAIN_OK;
	if (b->disk.dir && !b->disk.readonly) {
		brain_mem_scope outer = brain__enter(b);
		brain_msg_breathe m = {brain__now_ms(), sync_due != NULL, false, false};
		rc = brain__call_BREATHE(&b->spine, &m);
		brain__mem_leave(outer);
		*checkpoint_due = m.checkpoint_due || atomic_exchange(&b->checkpoint_asked, false);
		if (sync_due)
			*sync_due = m.sync_due;
	}
	/* the Liver's look at the budget (a change of pressure is logged) */
	brain_msg_liver_status lv;
	brain__call_LIVER_STATUS(&b->spine, &lv);
	atomic_fetch_add(&b->beats, 1);
	return rc;
}

int brain__index_build_for(brain_t *b, uint64_t until_ns, uint64_t *pending)
{
	brain_mem_scope outer = brain__enter(b);
	brain_msg_index_build m = {SIZE_MAX, 0};
	int rc;
	do {
		rc = brain__call_INDEX_BUILD(&b->spine, &m);
		atomic_fetch_add_explicit(&b->built_batches, 1, memory_order_relaxed);
	} while (rc == BRAIN_OK && m.pending > 0 && (!until_ns || brain__mono_ns() < until_ns));
	brain__mem_leave(outer);
	*pending = m.pending;
	return rc;
}

/* Queue b's job (under g_mu): one per brain, none for a brain leaving; a
 * brain whose job runs now is queued again by the worker if need be. */
static void queue_job(brain_t *b)
{
	if (b->leaving || b->job_queued || b->job_running)
		return;
	b->job_queued = true;
	g_jobs[g_njobs++] = b; /* room: g_cap >= brains */
	pthread_cond_broadcast(&g_cv);
}

/* Queues of brains (under g_mu): b taken out where it is, in order. */
static void take_out(brain_t **q, size_t *n, brain_t *b)
{
	for (size_t i = 0; i < *n; i++) {
		if (q[i] == b) {
			for (size_t j = i + 1; j < *n; j++)
				q[j - 1] = q[j];
			(*n)--;
			return;
		}
	}
}

/* The first of a queue that is not empty, taken out. */
static brain_t *take_first(brain_t **q, size_t *n)
{
	brain_t *b = q[0];
	take_out(q, n, b);
	return b;
}

/* A NORMAL brain's fsync is due: to the syncer (under g_mu). */
static void queue_sync(brain_t *b)
{
	if (b->leaving || b->sync_queued || b->syncing)
		return;
	b->sync_queued = true;
	g_syncs[g_nsyncs++] = b; /* room: g_cap >= brains */
	pthread_cond_broadcast(&g_cv);
}

/* Writes queued in the Stomach (not yet made). */
static uint64_t ingest_queued(brain_t *b)
{
	brain_msg_ingest_status q;
	brain__call_INGEST_STATUS(&b->spine, &q);
	return q.queued;
}

/* Background work waiting: queued writes (once a digester is installed),
 * the index's tail, a compaction a cycle asked for, the mappings a
 * checkpoint left to release. */
static bool has_work(brain_t *b)
{
	return (atomic_load(&b->ingest_fn) && ingest_queued(b) > 0) || brain__index_pending(b) > 0 ||
	       atomic_load(&b->compact_wanted) || brain__release_wanted(b);
}

void brain__heart_kick(brain_t *b)
{
	if (!b->in_heart || atomic_load_explicit(&b->build_wanted, memory_order_acquire) ||
	    !has_work(b) || atomic_exchange(&b->build_wanted, true))
		return;
	pthread_mutex_lock(&g_mu);
	queue_job(b);
	pthread_mutex_unlock(&g_mu);
}

/* The worker's slice of background work for b: the queued writes first
 * (they are not searchable yet), then the index's tail, then compaction
 * (which leaves a tail of its own). While work is left, build_wanted
 * stays set and b's job goes to the back of the queue. */
static void work_slice(brain_t *b)
{
	uint64_t until = brain__mono_ns() + BUILD_SLICE_MS * UINT64_C(1000000);
	int (*digest)(brain_t *, uint64_t) = atomic_load(&b->ingest_fn);
	int rc = digest ? digest(b, until) : BRAIN_OK;
	if (rc) {
		/* a passing failure: the writes not made stay queued and the next
		 * beat tries again (the next flush reports it) */
		BRAIN_LOG(BRAIN_LOG_WARN, "background ingest: %s", brain_errmsg());
		atomic_store(&b->build_wanted, false);
		return;
	}
	/* a release first, for a quarter of the slice: a brain written to
	 * faster than its graph is built keeps the build busy to the end of
	 * every slice, and the mappings a checkpoint left would never go */
	uint64_t quarter = brain__mono_ns() + BUILD_SLICE_MS * UINT64_C(250000);
	if (brain__index_pending(b) > 0 && brain__release_wanted(b))
		brain__release_for(b, quarter);
	uint64_t pending = 0;
	if (brain__mono_ns() < until && brain__index_pending(b) > 0)
		rc = brain__index_build_for(b, until, &pending);
	if (rc) {
		/* the tail stays searched; the next beat tries again */
		BRAIN_LOG(BRAIN_LOG_WARN, "background index build: %s", brain_errmsg());
		atomic_store(&b->build_wanted, false);
		return;
	}
	if (brain__mono_ns() < until && atomic_load(&b->compact_wanted) &&
	    (rc = brain__compact_for(b, until)) != BRAIN_OK) {
		/* a passing failure (memory): the next cycle asks again */
		BRAIN_LOG(BRAIN_LOG_WARN, "%s", brain_errmsg());
		atomic_store(&b->compact_wanted, false);
	}
	if (brain__mono_ns() < until && brain__release_wanted(b))
		brain__release_for(b, until);
	if (has_work(b))
		return;
	atomic_store(&b->build_wanted, false);
	/* a change may have seen build_wanted still set and not queued */
	if (has_work(b))
		atomic_exchange(&b->build_wanted, true);
}

static void *worker_main(void *arg);

/* The Watchdog (under g_mu, on the clock's thread): a brain's background
 * job that has run WATCHDOG_MS (a slow user embedder, a disk that hangs)
 * is reported once, through the log and Health, and a spare worker starts
 * (once), so that the other brains' work goes on; writes queued that no
 * job has made for WATCHDOG_MS are reported too. */
static void watch(int64_t now)
{
	for (size_t i = 0; i < g_n; i++) {
		brain_t *b = g_brains[i];
		int64_t limit = brain__param(&b->env, BRAIN_PIDX_WATCHDOG_MS);
		if (limit <= 0)
			continue;
		/* the writers' gate held this long (a change or a checkpoint
		 * stuck): every writer waits; reported once per hold */
		int64_t since = atomic_load_explicit(&b->gate_since_ms, memory_order_relaxed);
		if (since && since != b->gate_reported_ms && now - since >= limit) {
			b->gate_reported_ms = since;
			atomic_fetch_add(&b->gate_stalls, 1);
			BRAIN_LOG(BRAIN_LOG_WARN, "watchdog: the writers' gate of a brain has been held for "
			          "%lld ms (WATCHDOG_MS %lld) by a change or a checkpoint: every writer "
			          "waits (a slow embedder, disk or user callback?)",
			          (long long)(now - since), (long long)limit);
		}
		if (b->job_running && !b->stall_reported && now - b->job_started_ms >= limit) {
			b->stall_reported = true;
			atomic_fetch_add(&b->stalls, 1);
			BRAIN_LOG(BRAIN_LOG_WARN, "watchdog: a background job of a brain has run for %lld ms "
			          "(WATCHDOG_MS %lld): a slow embedder or disk?%s",
			          (long long)(now - b->job_started_ms), (long long)limit,
			          g_spare_running ? "" : " A spare worker takes the other brains' work");
			if (!g_spare_running && pthread_create(&g_spare, NULL, worker_main, NULL) == 0)
				g_spare_running = true;
		}
		/* an fsync that hangs (the syncer waits; other brains' fsyncs
		 * queue behind it) */
		if (g_sync_brain == b && !g_sync_reported && now - g_sync_started_ms >= limit) {
			g_sync_reported = true;
			atomic_fetch_add(&b->stalls, 1);
			BRAIN_LOG(BRAIN_LOG_WARN, "watchdog: an fsync of a brain's log has taken %lld ms "
			          "(WATCHDOG_MS %lld): a disk that hangs?",
			          (long long)(now - g_sync_started_ms), (long long)limit);
		}
	}
}

/* The clock: sleep until the next beat due, beat every brain due. */
static void *clock_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&g_mu);
	while (!g_stop) {
		int64_t now = mono_ms(), next = now + 1000;
		watch(now);
		for (size_t i = 0; i < g_n && !g_stop; i++) {
			brain_t *b = g_brains[i];
			if (b->next_beat_ms > now) {
				next = BRAIN_MIN(next, b->next_beat_ms);
				continue;
			}
			b->beating = true;
			int64_t late = now - b->next_beat_ms;
			if (late > atomic_load(&b->beat_late_max_ms))
				atomic_store(&b->beat_late_max_ms, late);
			pthread_mutex_unlock(&g_mu);
			bool due = false, sync = false;
			brain__beat(b, &due, &sync);
			/* a tail no change kicked (a build that failed, or one
			 * left by the last open) */
			bool tail = !atomic_load(&b->build_wanted) && has_work(b) &&
			            !atomic_exchange(&b->build_wanted, true);
			pthread_mutex_lock(&g_mu);
			b->beating = false;
			b->next_beat_ms = mono_ms() + period_ms(b);
			next = BRAIN_MIN(next, b->next_beat_ms);
			if (due)
				b->checkpoint_due = true;
			if (sync)
				queue_sync(b);
			if (brain__cycle_due(b)) {
				atomic_store(&b->last_cycle_ms, mono_ms());
				b->cycle_due = true;
			}
			if (due || tail || b->cycle_due)
				queue_job(b);
			pthread_cond_broadcast(&g_idle);
			i = (size_t)-1; /* the list may have changed meanwhile: again */
			now = mono_ms();
			next = now + 1000;
		}
		if (g_stop)
			break;
		struct timespec until = brain__deadline_ms(BRAIN_MAX(next - mono_ms(), (int64_t)1));
		pthread_cond_timedwait(&g_cv, &g_mu, &until);
	}
	pthread_mutex_unlock(&g_mu);
	return NULL;
}

/* The worker: each brain's job in turn, a due checkpoint and then a slice
 * of building. */
static void *worker_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&g_mu);
	while (!g_stop) {
		if (g_njobs == 0) {
			pthread_cond_wait(&g_cv, &g_mu);
			continue;
		}
		brain_t *b = take_first(g_jobs, &g_njobs);
		b->job_queued = false;
		b->job_running = true;
		b->job_started_ms = mono_ms();
		bool checkpoint = b->checkpoint_due, cycle = b->cycle_due;
		b->checkpoint_due = false;
		b->cycle_due = false;
		pthread_mutex_unlock(&g_mu);
		if (cycle && brain__circadian_cycle(b))
			BRAIN_LOG(BRAIN_LOG_WARN, "%s", brain_errmsg());
		if (cycle && has_work(b))
			atomic_store(&b->build_wanted, true); /* the cycle left some (a compaction) */
		if (checkpoint)
			brain__checkpoint_due(b);
		if (atomic_load(&b->build_wanted))
			work_slice(b);
		pthread_mutex_lock(&g_mu);
		b->job_running = false;
		b->stall_reported = false;
		if (atomic_load(&b->build_wanted) || b->checkpoint_due)
			queue_job(b); /* to the back: other brains first */
		pthread_cond_broadcast(&g_idle);
	}
	pthread_mutex_unlock(&g_mu);
	return NULL;
}

/* The syncer: each due NORMAL fsync in turn. A disk that hangs holds
 * this thread only, which the Watchdog sees; beats and background jobs go
 * on. */
static void *syncer_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&g_mu);
	while (!g_stop) {
		if (g_nsyncs == 0) {
			pthread_cond_wait(&g_cv, &g_mu);
			continue;
		}
		brain_t *b = take_first(g_syncs, &g_nsyncs);
		b->sync_queued = false;
		b->syncing = true;
		g_sync_brain = b;
		g_sync_started_ms = mono_ms();
		g_sync_reported = false;
		pthread_mutex_unlock(&g_mu);
		if (brain_sync(b))
			BRAIN_LOG(BRAIN_LOG_ERROR, "lungs: background fsync failed: %s", brain_errmsg());
		pthread_mutex_lock(&g_mu);
		b->syncing = false;
		g_sync_brain = NULL;
		pthread_cond_broadcast(&g_idle);
	}
	pthread_mutex_unlock(&g_mu);
	return NULL;
}

int brain__heart_join(brain_t *b)
{
	pthread_once(&g_once, init_once);
	pthread_mutex_lock(&g_life);
	pthread_mutex_lock(&g_mu);
	int rc = BRAIN_OK;
	if (g_n == g_cap) {
		size_t cap = g_cap ? 2 * g_cap : 8;
		brain_mem_scope outer = brain__mem_enter(NULL, BRAIN_MEM_ENGINE); /* the process's */
		brain_t **brains = brain__realloc(g_brains, cap * sizeof *brains);
		brain_t **jobs = brains ? brain__realloc(g_jobs, cap * sizeof *jobs) : NULL;
		brain_t **syncs = jobs ? brain__realloc(g_syncs, cap * sizeof *syncs) : NULL;
		brain__mem_leave(outer);
		if (brains)
			g_brains = brains;
		if (jobs)
			g_jobs = jobs;
		if (syncs)
			g_syncs = syncs;
		if (brains && jobs && syncs)
			g_cap = cap;
		else
			rc = brain__oom(cap * sizeof *brains, "heart: brain list");
	}
	if (rc == BRAIN_OK) {
		b->next_beat_ms = mono_ms() + period_ms(b);
		b->leaving = false;
		g_brains[g_n++] = b;
	}
	bool start = rc == BRAIN_OK && !g_running;
	pthread_mutex_unlock(&g_mu);
	if (start) {
		g_stop = false;
		/* the clock, the worker and the syncer, or none of them */
		pthread_t *threads[3] = {&g_clock, &g_worker, &g_syncer};
		void *(*mains[3])(void *) = {clock_main, worker_main, syncer_main};
		int err = 0, started = 0;
		while (started < 3 && (err = pthread_create(threads[started], NULL, mains[started],
		                                            NULL)) == 0)
			started++;
		if (err && started) {
			pthread_mutex_lock(&g_mu);
			g_stop = true;
			pthread_cond_broadcast(&g_cv);
			pthread_mutex_unlock(&g_mu);
			for (int i = 0; i < started; i++)
				pthread_join(*threads[i], NULL);
		}
		if (err) {
			pthread_mutex_lock(&g_mu);
			g_n--; /* b is the last one added, and the only one */
			brain__free(g_brains);
			brain__free(g_jobs);
			brain__free(g_syncs);
			g_brains = g_jobs = g_syncs = NULL;
			g_cap = 0;
			pthread_mutex_unlock(&g_mu);
			rc = brain__err(err == EAGAIN ? BRAIN_ENOMEM : BRAIN_EINTERNAL,
			                "heart: cannot start the background threads (error %d)", err);
		} else {
			g_running = true;
		}
	}
	pthread_mutex_unlock(&g_life);
	return rc;
}

void brain__heart_leave(brain_t *b)
{
	pthread_once(&g_once, init_once);
	pthread_mutex_lock(&g_life);
	pthread_mutex_lock(&g_mu);
	/* no new job for b from here on (a beat under way may find one due) */
	b->leaving = true;
	for (size_t i = 0; i < g_n; i++) {
		if (g_brains[i] == b) {
			g_brains[i] = g_brains[--g_n];
			break;
		}
	}
	while (b->beating || b->job_running || b->syncing)
		pthread_cond_wait(&g_idle, &g_mu);
	take_out(g_jobs, &g_njobs, b);
	take_out(g_syncs, &g_nsyncs, b);
	b->sync_queued = false; /* the close fsyncs itself */
	b->job_queued = false;
	b->checkpoint_due = false;
	b->cycle_due = false;
	atomic_store(&b->build_wanted, false);
	bool stop = g_n == 0 && g_running;
	if (stop) {
		g_stop = true;
		pthread_cond_broadcast(&g_cv);
	}
	pthread_mutex_unlock(&g_mu);
	if (stop) {
		pthread_join(g_clock, NULL);
		pthread_join(g_worker, NULL);
		pthread_join(g_syncer, NULL);
		if (g_spare_running)
			pthread_join(g_spare, NULL);
		pthread_mutex_lock(&g_mu);
		g_running = false;
		g_spare_running = false;
		g_stop = false;
		/* nothing of the library stays behind the last brain (an
		 * allocator may be switched then) */
		brain__free(g_brains);
		brain__free(g_jobs);
		brain__free(g_syncs);
		g_brains = g_jobs = g_syncs = NULL;
		g_cap = 0;
		pthread_mutex_unlock(&g_mu);
	}
	pthread_mutex_unlock(&g_life);
}

BRAIN_EXPORT int brain_tick(brain_t *b)
{
	if (!b)
		return brain__err(BRAIN_ENULL, "tick: brain is NULL");
	uint64_t pending = 0;
	if (b->disk.readonly) {
		/* nothing periodic to do, but a graph to build in memory (an
		 * index rebuilt from a damaged image: a reader cannot write it) */
		int rc = brain__index_pending(b) > 0 ? brain__index_build_for(b, 0, &pending)
		                                      : BRAIN_OK;
		return brain__err_prefix(rc, "tick");
	}
	bool due = false;
	int rc = brain__beat(b, &due, NULL);
	int (*digest)(brain_t *, uint64_t) = atomic_load(&b->ingest_fn);
	if (rc == BRAIN_OK && digest)
		rc = digest(b, 0); /* every queued write */
	if (rc == BRAIN_OK && brain__cycle_due(b)) {
		atomic_store(&b->last_cycle_ms, mono_ms());
		rc = brain__circadian_cycle(b);
	}
	if (rc == BRAIN_OK && brain__index_pending(b) > 0)
		rc = brain__index_build_for(b, 0, &pending); /* all of the tail */
	/* all of a compaction asked for, with the tail it leaves built; one
	 * that fails is background work nobody waits for: said, and asked
	 * again by a later cycle, and the checkpoint still comes */
	while (rc == BRAIN_OK && atomic_load(&b->compact_wanted)) {
		if (brain__compact_for(b, 0) != BRAIN_OK) {
			BRAIN_LOG(BRAIN_LOG_WARN, "%s", brain_errmsg());
			atomic_store(&b->compact_wanted, false);
		}
		if (brain__index_pending(b) > 0)
			rc = brain__index_build_for(b, 0, &pending);
	}
	if (rc == BRAIN_OK && due)
		rc = brain__checkpoint(b);
	if (rc == BRAIN_OK && brain__release_wanted(b))
		brain__release_for(b, 0);
	return brain__err_prefix(rc, "tick");
}
