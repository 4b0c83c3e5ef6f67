/*
 * organs/lungs.c - the write-ahead log of an on-disk brain: append, group
 * commit, replay, reset after checkpoints, and a breath at each beat of
 * the Heart (engine/heart.c, or brain_tick in manual mode).
 *
 * The log itself is storage/wal.c; the Lungs decide when it is synced.
 * FULL: the writer's own call fsyncs before it returns (writers waiting at
 * the same time share one fsync). NORMAL: a breath fsyncs what was
 * appended once SYNC_INTERVAL_MS has passed since the last one. OFF: only
 * checkpoints and brain_sync() fsync. A breath also says when a checkpoint
 * is due: the log has passed CHECKPOINT_WAL_BYTES and a quarter of the
 * last checkpoint's size.
 */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "spine/spine.h"
#include "storage/wal.h"

typedef struct lungs {
	const brain_env *env;
	brain_wal *wal; /* NULL for an in-memory brain */
	pthread_mutex_t mu; /* guards the fields below (a breath may overlap a reset) */
	uint64_t checkpoint_bytes;
	int64_t last_sync_ms;
} lungs;

static int create(const brain_env *env, brain_spine *spine, const brain_organ_args *args,
                  void **state)
{
	lungs *l = brain__calloc(1, sizeof *l);
	if (!l)
		return brain__oom(sizeof *l, "lungs");
	(void)spine;
	l->env = env;
	l->last_sync_ms = brain__now_ms();
	if (env->storage.dir && args->open_log) {
		brain_identity id;
		brain__identity_make(&id, env->opts.dimensions, env->opts.metric, env->opts.embedder,
		                     env->embedder_id, env->index_vt->name);
		int rc = brain__wal_open(env->storage.io, env->storage.dir, &id, env->storage.writable,
		                         &l->wal);
		if (rc) {
			brain__free(l);
			return rc;
		}
	}
	pthread_mutex_init(&l->mu, NULL);
	*state = l;
	return BRAIN_OK;
}

static void destroy(void *state)
{
	lungs *l = state;
	if (!l)
		return;
	brain__wal_close(l->wal);
	pthread_mutex_destroy(&l->mu);
	brain__free(l);
}

/* One breath: the NORMAL fsync once its interval has passed (or, with
 * defer_sync, whether it is due), and whether a checkpoint is due. */
static int breathe(lungs *l, brain_msg_breathe *m)
{
	const brain_env *env = l->env;
	m->checkpoint_due = false;
	m->sync_due = false;
	if (!l->wal || !env->storage.writable)
		return BRAIN_OK;
	int rc = BRAIN_OK;
	uint64_t last = brain__wal_last_lsn(l->wal);
	pthread_mutex_lock(&l->mu);
	bool sync_due = env->opts.sync == BRAIN_SYNC_NORMAL &&
	                m->now_ms - l->last_sync_ms >= brain__param(env, BRAIN_PIDX_SYNC_INTERVAL_MS) &&
	                brain__wal_synced_lsn(l->wal) < last && !brain__wal_failed(l->wal);
	if (sync_due)
		l->last_sync_ms = m->now_ms;
	uint64_t bytes_due = l->checkpoint_bytes / 4;
	pthread_mutex_unlock(&l->mu);
	if (sync_due && m->defer_sync) {
		m->sync_due = true;
	} else if (sync_due) {
		rc = brain__wal_sync(l->wal, last);
		if (rc)
			BRAIN_LOG(BRAIN_LOG_ERROR, "lungs: background fsync failed: %s", brain_errmsg());
	}
	int64_t at = brain__param(env, BRAIN_PIDX_CHECKPOINT_WAL_BYTES);
	m->checkpoint_due = at > 0 && brain__wal_bytes(l->wal) >= BRAIN_MAX((uint64_t)at, bytes_due);
	return rc;
}

static int start(lungs *l, brain_msg_lungs_start *m)
{
	pthread_mutex_lock(&l->mu);
	l->checkpoint_bytes = m->checkpoint_bytes;
	pthread_mutex_unlock(&l->mu);
	return BRAIN_OK;
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
	return m->keep ? brain__wal_reset_keeping(l->wal, m->generation, m->lsn, m->keep_from)
	               : brain__wal_reset(l->wal, m->generation, m->lsn);
}

static int on_WAL_STATUS(lungs *l, brain_msg_wal_status *m)
{
	memset(m, 0, sizeof *m);
	if (l->wal) {
		m->open = true;
		brain__wal_position(l->wal, &m->last_lsn, &m->end);
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

static int on_BREATHE(lungs *l, brain_msg_breathe *m)
{
	return breathe(l, m);
}

BRAIN_ORGAN_HANDLERS(LUNGS, handlers);

const brain_organ brain__organ_lungs = {
	.name = "lungs",
	.id = BRAIN_ORGAN_LUNGS,
	.create = create,
	.destroy = destroy,
	.handlers = handlers,
};
