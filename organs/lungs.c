/*
 * organs/lungs.c - background I/O of an on-disk brain: the write-ahead
 * log (append, group commit, replay, reset after checkpoints) and the
 * thread that fsyncs within the NORMAL sync interval and asks for
 * checkpoints when the log has grown.
 *
 * The log itself is storage/wal.c; the Lungs decide when it is synced.
 * FULL: the writer's own call fsyncs before it returns (writers waiting at
 * the same time share one fsync). NORMAL: a background thread fsyncs what
 * was appended at most SYNC_INTERVAL_MS ago. OFF: only checkpoints and
 * brain_sync() fsync. The same thread asks the api layer for a checkpoint
 * when the log passes CHECKPOINT_WAL_BYTES and a quarter of the last
 * checkpoint's size.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "spine/spine.h"
#include "storage/wal.h"

typedef struct lungs {
	const brain_env *env;
	brain_wal *wal; /* NULL for an in-memory brain */

	pthread_mutex_t mu; /* guards the fields below */
	pthread_cond_t cv;
	pthread_t thread;
	bool running;
	bool stop;
	uint64_t checkpoint_bytes;
	brain_mem *mem; /* the brain's account, for the thread's allocations */
} lungs;

static int create(const brain_env *env, brain_spine *spine, const brain_organ_args *args,
                  void **state)
{
	lungs *l = brain__calloc(1, sizeof *l);
	if (!l)
		return brain__oom(sizeof *l, "lungs");
	l->env = env;
	l->mem = spine->mem;
	if (env->storage.dir && args->open_log) {
		brain_identity id;
		brain__identity_make(&id, env->opts.dimensions, env->opts.metric, env->opts.embedder,
		                     env->index_vt->name);
		int rc = brain__wal_open(env->storage.io, env->storage.dir, &id, env->storage.writable,
		                         &l->wal);
		if (rc) {
			brain__free(l);
			return rc;
		}
	}
	pthread_mutex_init(&l->mu, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cv, &attr);
	pthread_condattr_destroy(&attr);
	*state = l;
	return BRAIN_OK;
}

static void stop_thread(lungs *l)
{
	pthread_mutex_lock(&l->mu);
	bool running = l->running;
	l->stop = true;
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
	if (running) {
		pthread_join(l->thread, NULL);
		pthread_mutex_lock(&l->mu);
		l->running = false;
		pthread_mutex_unlock(&l->mu);
	}
}

static void destroy(void *state)
{
	lungs *l = state;
	if (!l)
		return;
	stop_thread(l);
	brain__wal_close(l->wal);
	pthread_mutex_destroy(&l->mu);
	pthread_cond_destroy(&l->cv);
	brain__free(l);
}

/* Wait until `ms` from now or until stopped; true if stopped. */
static bool nap(lungs *l, int64_t ms)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += (time_t)(ms / 1000);
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&l->mu);
	while (!l->stop) {
		if (pthread_cond_timedwait(&l->cv, &l->mu, &until) == ETIMEDOUT)
			break;
	}
	bool stop = l->stop;
	pthread_mutex_unlock(&l->mu);
	return stop;
}

static void *breathe(void *arg)
{
	lungs *l = arg;
	const brain_env *env = l->env;
	brain__mem_enter(l->mem, BRAIN_MEM_ORGAN0 + BRAIN_ORGAN_LUNGS); /* the thread's own */
	int64_t last_sync = brain__now_ms();
	for (;;) {
		/* the log's size is looked at every 100 ms at least, so a
		 * checkpoint starts soon after the threshold is passed */
		int64_t interval = env->opts.sync == BRAIN_SYNC_NORMAL
		                           ? BRAIN_MIN(brain__param(env, BRAIN_PIDX_SYNC_INTERVAL_MS), 100)
		                           : 100;
		if (nap(l, interval))
			break;
		uint64_t last = brain__wal_last_lsn(l->wal);
		int64_t now = brain__now_ms();
		if (env->opts.sync == BRAIN_SYNC_NORMAL &&
		    now - last_sync >= brain__param(env, BRAIN_PIDX_SYNC_INTERVAL_MS) - 1 &&
		    brain__wal_synced_lsn(l->wal) < last && !brain__wal_failed(l->wal)) {
			last_sync = now;
			if (brain__wal_sync(l->wal, last))
				BRAIN_LOG(BRAIN_LOG_ERROR, "lungs: background fsync failed: %s",
				          brain_errmsg());
		}
		int64_t at = brain__param(env, BRAIN_PIDX_CHECKPOINT_WAL_BYTES);
		pthread_mutex_lock(&l->mu);
		uint64_t due = BRAIN_MAX((uint64_t)at, l->checkpoint_bytes / 4);
		pthread_mutex_unlock(&l->mu);
		if (at > 0 && brain__wal_bytes(l->wal) >= due && env->storage.checkpoint_due)
			env->storage.checkpoint_due(env->storage.checkpoint_payload);
	}
	return NULL;
}

static int start(lungs *l, brain_msg_lungs_start *m)
{
	pthread_mutex_lock(&l->mu);
	l->checkpoint_bytes = m->checkpoint_bytes;
	int rc = BRAIN_OK;
	if (l->wal && l->env->storage.writable && !l->running && !l->stop) {
		int err = pthread_create(&l->thread, NULL, breathe, l);
		if (err)
			rc = brain__err(err == ENOMEM ? BRAIN_ENOMEM : BRAIN_EINTERNAL,
			                "lungs: cannot start the background thread (error %d)", err);
		else
			l->running = true;
	}
	pthread_mutex_unlock(&l->mu);
	return rc;
}

static int no_log(void)
{
	return brain__err(BRAIN_EINTERNAL, "lungs: an in-memory brain has no log");
}

static int on_WAL_APPEND(lungs *l, brain_msg_wal_append *m)
{
	return l->wal ? brain__wal_append(l->wal, m->op, m->parts, m->nparts, &m->lsn) : no_log();
}

static int on_WAL_COMMIT(lungs *l, brain_msg_wal_commit *m)
{
	if (!l->wal)
		return BRAIN_OK;
	if (m->force || l->env->opts.sync == BRAIN_SYNC_FULL)
		return brain__wal_sync(l->wal, m->lsn);
	return BRAIN_OK;
}

static int on_WAL_REPLAY(lungs *l, brain_msg_wal_replay *m)
{
	return l->wal ? brain__wal_replay(l->wal, m->after_lsn, m->repair, m->apply, m->payload,
	                                  m->info)
	              : no_log();
}

static int on_WAL_RESET(lungs *l, brain_msg_wal_reset *m)
{
	if (!l->wal)
		return no_log();
	/* the checkpoint stands even if its new log is not in place yet */
	pthread_mutex_lock(&l->mu);
	l->checkpoint_bytes = m->checkpoint_bytes;
	pthread_mutex_unlock(&l->mu);
	return brain__wal_reset(l->wal, m->generation, m->lsn);
}

static int on_WAL_STATUS(lungs *l, brain_msg_wal_status *m)
{
	memset(m, 0, sizeof *m);
	if (l->wal) {
		m->open = true;
		m->last_lsn = brain__wal_last_lsn(l->wal);
		m->synced_lsn = brain__wal_synced_lsn(l->wal);
		m->bytes = brain__wal_bytes(l->wal);
		m->failed = brain__wal_failed(l->wal);
	}
	return BRAIN_OK;
}

static int on_LUNGS_START(lungs *l, brain_msg_lungs_start *m)
{
	return start(l, m);
}

static int on_LUNGS_STOP(lungs *l, brain_msg_lungs_stop *m)
{
	(void)m;
	stop_thread(l);
	return BRAIN_OK;
}

BRAIN_ORGAN_HANDLERS(LUNGS, handlers);

const brain_organ brain__organ_lungs = {
	.name = "lungs",
	.id = BRAIN_ORGAN_LUNGS,
	.create = create,
	.destroy = destroy,
	.handlers = handlers,
};
