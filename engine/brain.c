/*
 * engine/brain.c - opening and closing brains.
 */
#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np: writers must not starve */
#include <stdio.h>
#include <string.h>

#include "engine/handle.h"
#include "organs/organs.h"
#include "organs/cortex/lift.h"
#include "organs/cortex/model.h"

/* The organs of a brain, from the one list (spine/spine.h), in the order
 * they are created (destroyed in reverse). */
static const brain_organ *const g_organs[BRAIN_ORGAN__COUNT] = {
#define ORGAN(id, name, arg) [BRAIN_ORGAN_##id] = &brain__organ_##name,
	BRAIN_ORGAN_LIST(ORGAN, _)
#undef ORGAN
};

/* What the index kind itself sets. HNSW: a graph from the first vector;
 * AUTO: exact until the size where the graph pays (the parameter's
 * default, or the value a reopened graph was saved with). */
static void index_kind_params(brain_env *env)
{
	if (env->opts.index == BRAIN_INDEX_HNSW)
		atomic_store(&env->params[BRAIN_PIDX_HNSW_EXACT_BELOW], 0);
}

static int choose_index(brain_env *env)
{
	const char *name = brain__options_index_name(&env->opts);
	index_kind_params(env);
	const brain_index_vtable *vt = brain_index_find(name);
	if (!vt)
		return brain__err(BRAIN_EINVAL, "options: index backend \"%s\" is not registered",
		                  name);
	env->index_vt = vt;
	env->opts.index_name = vt->name; /* the caller's string need not outlive open */
	return BRAIN_OK;
}

/* A loaded index brings the parameters it was built with: a reopened
 * brain reports the graph's M (not the default) and keeps the graph it
 * was using, HNSW_EXACT_BELOW included (AUTO with the threshold it had;
 * a brain made with BRAIN_INDEX_HNSW goes on searching its graph). The
 * index kind asked for at open still has the last word. Values out of
 * range are left at their defaults (the index checked what it uses
 * itself). */
static void take_saved_params(brain_t *b)
{
	brain_msg_index_info m;
	memset(&m, 0, sizeof m);
	if (brain__call_INDEX_INFO(&b->spine, &m) != BRAIN_OK)
		return;
	for (unsigned i = 0; i < m.info.nbuilt && i < BRAIN_ARRAY_LEN(m.info.built); i++) {
		int param = m.info.built[i].param;
		int64_t v = m.info.built[i].value, lo = 0, hi = 0;
		int at = brain__param_index(param);
		if (at < 0 || brain_param_bounds(param, &lo, &hi, NULL) || v < lo || v > hi)
			continue;
		atomic_store(&b->env.params[at], v);
	}
	index_kind_params(&b->env);
}

/* Create every organ; the Lungs open the log only if told. */
static int attach_organs(brain_t *b, brain_image *image, bool open_log,
                         const brain_index_files *files)
{
	brain_organ_args args = {image, open_log, files, false};
	int rc = BRAIN_OK;
	for (size_t i = 0; rc == BRAIN_OK && i < BRAIN_ARRAY_LEN(g_organs); i++)
		rc = brain__spine_attach(&b->spine, g_organs[i], &args);
	if (rc == BRAIN_OK)
		take_saved_params(b);
	return rc;
}

/* An on-disk brain, in order: the directory, the organs (adopting the
 * checkpoint), a new brain's first files or the log's replay. */
/* A read-only open tries again this often when a writer replaced the
 * checkpoint (and removed the index files it named) while it opened. */
#define READONLY_ATTEMPTS 8

static int open_disk(brain_t *b, const char *path, int mode)
{
	brain_disk_plan plan;
	int rc = BRAIN_OK;
	for (int attempt = 0;; attempt++) {
		rc = brain__disk_prepare(b, path, &plan);
		if (rc)
			return rc;
		brain__wrlock(b); /* nobody else sees the brain yet; the messages ask for it */
		brain_index_files files = brain__index_files(b, b->disk.generation);
		rc = attach_organs(b, plan.image, plan.has_log && !plan.create, &files);
		bool gone = rc == BRAIN_ENOTFOUND; /* a file the checkpoint names */
		if (rc == BRAIN_OK && plan.create) {
			rc = brain__disk_create(b);
			/* the log exists now: the Lungs open it */
			brain_organ_args args = {NULL, true, NULL, false};
			if (rc == BRAIN_OK)
				rc = brain__spine_attach(&b->spine, g_organs[BRAIN_ORGAN_LUNGS], &args);
		} else if (rc == BRAIN_OK) {
			rc = brain__disk_recover(b, &plan, mode);
		}
		brain__wrunlock(b);
		/* A reader that finds a file of its checkpoint gone, or a log that
		 * starts after it, met a writer's checkpoint: it tries again with
		 * the newer one. For a writer (who holds the lock) it is damage. */
		bool raced = gone || (rc == BRAIN_ECORRUPT && plan.log_ahead);
		if (!raced)
			break;
		if (!b->disk.readonly || attempt + 1 == READONLY_ATTEMPTS) {
			if (gone) {
				char why[512];
				snprintf(why, sizeof why, "%s", brain_errmsg());
				rc = brain__err(BRAIN_ECORRUPT, "%s", why);
			}
			break;
		}
		brain__spine_fini(&b->spine);
		brain__spine_init(&b->spine, &b->env, b->mem);
		brain__disk_release(b);
	}
	return rc;
}

static void release(brain_t *b)
{
	brain__spine_fini(&b->spine);
	brain__disk_release(b);
	brain__model_release(b->env.model);
	brain__lift_release(b->env.lift);
	pthread_rwlock_destroy(&b->lock);
	pthread_mutex_destroy(&b->gate);
	pthread_mutex_destroy(&b->ckpt_mu);
	pthread_mutex_destroy(&b->ingest_mu);
	brain_mem *mem = b->mem;
	brain__free(b);
	brain__mem_release(mem); /* freed with the last block counted against it */
	brain__objects_dec();
}

/* BRAIN_EMBEDDER_MODEL: the model (shared by the process), whose size is
 * the brain's dimensions and whose fingerprint goes into its identity. A
 * model_path with BRAIN_OPEN_STORED_OPTIONS is loaded too: the brain on
 * disk may need it (engine/disk.c). */
static int use_model(brain_env *env)
{
	if (!env->opts.model_path)
		return BRAIN_OK;
	int rc = brain__model_acquire(env->opts.model_path, &env->model);
	if (rc)
		return rc;
	uint32_t dims = brain__model_dimensions(env->model);
	env->opts.model_path = brain__model_path(env->model); /* the caller's is not kept */
	if (env->opts.embedder != BRAIN_EMBEDDER_MODEL)
		return BRAIN_OK;
	if (env->opts.dimensions && env->opts.dimensions != dims)
		return brain__err(BRAIN_EDIM, "the model %s makes %u-d vectors, the options ask for %u "
		                  "(set dimensions to %u or 0)", env->opts.model_path, dims,
		                  env->opts.dimensions, dims);
	env->opts.dimensions = dims;
	env->embedder_id = brain__model_fingerprint(env->model);
	return BRAIN_OK;
}

int brain__open(const char *path, const brain_options *opts, struct brain_image *image,
                int mode, brain_t **out)
{
	if (!out)
		return brain__err(BRAIN_ENULL, "open: out is NULL");
	*out = NULL;
	brain_options resolved;
	int rc = brain__options_resolve(opts, &resolved);
	if (rc)
		return rc;
	brain__objects_inc(); /* before the first allocation: see base/alloc.c */
	brain_mem *mem = brain__mem_new();
	brain_mem_scope outer = brain__mem_enter(mem, BRAIN_MEM_ENGINE);
	brain_t *b = mem ? brain__calloc(1, sizeof *b) : NULL;
	if (!b) {
		brain__mem_leave(outer);
		brain__mem_release(mem);
		brain__objects_dec();
		return brain__oom(sizeof *b, "brain");
	}
	b->mem = mem;
	b->env.opts = resolved;
	brain__params_defaults(&b->env);
	atomic_store(&b->last_cycle_ms, (int64_t)(brain__mono_ns() / 1000000u));

	pthread_rwlockattr_t attr;
	pthread_rwlockattr_init(&attr);
#ifdef __GLIBC__
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
#endif
	pthread_rwlock_init(&b->lock, &attr);
	pthread_mutex_init(&b->gate, NULL);
	pthread_mutex_init(&b->ckpt_mu, NULL);
	pthread_mutex_init(&b->ingest_mu, NULL);
	pthread_rwlockattr_destroy(&attr);

	brain__spine_init(&b->spine, &b->env, mem);
	rc = use_model(&b->env);
	/* an on-disk brain's is chosen once its identity is read (engine/disk.c) */
	if (rc == BRAIN_OK && !path)
		rc = brain__use_lift(&b->env, image ? brain__image_identity(image) : NULL);
	if (rc == BRAIN_OK)
		rc = choose_index(&b->env);
	if (rc == BRAIN_OK && path) {
		rc = open_disk(b, path, mode);
	} else if (rc == BRAIN_OK) {
		brain__wrlock(b);
		rc = attach_organs(b, image, false, NULL);
		brain__wrunlock(b);
	}
	if (rc == BRAIN_OK && path) {
		brain__wrlock(b);
		brain_msg_lungs_start st = {b->disk.checkpoint_bytes};
		rc = brain__call_LUNGS_START(&b->spine, &st);
		brain__wrunlock(b);
	}
	/* an index rebuilt from a damaged image (organs/hippocampus/sections.c):
	 * the next beat writes a whole one (the open already told the log) */
	if (rc == BRAIN_OK && path && !b->disk.readonly) {
		brain_msg_status st = {0};
		brain__call_STATUS(&b->spine, &st);
		atomic_store(&b->checkpoint_asked, st.index_rebuilt);
	}
	/* every brain that changes runs in the background (in memory too: the
	 * index's tail is built there) */
	if (rc == BRAIN_OK && !b->disk.readonly &&
	    b->env.opts.background == BRAIN_BACKGROUND_THREADS) {
		rc = brain__heart_join(b);
		b->in_heart = rc == BRAIN_OK;
	}
	brain__mem_leave(outer);
	if (rc) {
		release(b);
		return path ? brain__err_prefix(rc, "open") : rc;
	}
	atomic_store(&b->checkpoint_at_ms, brain__now_ms());
	BRAIN_LOG(BRAIN_LOG_DEBUG, "opened %s brain%s%s: %u-d, metric %d, index %s",
	          path ? "on-disk" : "in-memory", path ? " " : "", path ? path : "",
	          b->env.opts.dimensions, b->env.opts.metric, b->env.index_vt->name);
	*out = b;
	return BRAIN_OK;
}

BRAIN_EXPORT int brain_open(const char *path, const brain_options *opts, brain_t **out)
{
	return brain__open(path, opts, NULL, BRAIN_DISK_NORMAL, out);
}

BRAIN_EXPORT int brain_close(brain_t *b)
{
	if (!b)
		return BRAIN_OK;
	if (b->in_heart) {
		brain__heart_leave(b); /* no beat or checkpoint of b under way after this */
		b->in_heart = false;
	}
	brain_mem_scope outer = brain__enter(b);
	/* the writes still queued are made (the queue is bounded, so is this) */
	int (*digest)(brain_t *, uint64_t) = atomic_load(&b->ingest_fn);
	int drc = digest ? digest(b, 0) : BRAIN_OK;
	if (drc)
		BRAIN_LOG(BRAIN_LOG_ERROR, "close: queued writes could not be made: %s",
		          brain_errmsg());
	int rc = brain__disk_close(b);
	if (rc == BRAIN_OK)
		rc = drc;
	brain__mem_leave(outer);
	release(b);
	return rc;
}

BRAIN_EXPORT brain_t *brain_create(void)
{
	brain_t *b = NULL;
	if (brain_open(NULL, NULL, &b) != BRAIN_OK)
		return NULL;
	return b;
}

BRAIN_EXPORT void brain_destroy(brain_t *b)
{
	brain_close(b);
}

BRAIN_EXPORT uint64_t brain_count(const brain_t *b)
{
	if (!b)
		return 0;
	brain_msg_status st = {0};
	/* STATUS reads atomics; it needs no lock and cannot fail. */
	brain__call_STATUS(&((brain_t *)b)->spine, &st);
	return st.count;
}

BRAIN_EXPORT uint32_t brain_dimensions(const brain_t *b)
{
	return b ? b->env.opts.dimensions : 0;
}
