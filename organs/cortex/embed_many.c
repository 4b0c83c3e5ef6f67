/*
 * organs/cortex/embed_many.c - EMBED_MANY: a batch of texts embedded on
 * all cores by the brain's model (BRAIN_EMBEDDER_MODEL, model.c), for the
 * writes that come many at a time (brain_remember_batch, the digester of
 * queued writes). Other embedders say no (`done` false) and the caller
 * embeds text by text: a user embedder runs on the caller's thread, and
 * the built-in one is cheaper than the threads.
 */
#include "organs/cortex/cortex_internal.h"
#include "organs/cortex/model.h"

int brain__cortex_EMBED_MANY(cortex *c, brain_msg_embed_many *m)
{
	m->done = false;
	pthread_rwlock_rdlock(&c->lock);
	bool model = !c->user_fn && c->env->opts.embedder == BRAIN_EMBEDDER_MODEL && c->env->model;
	m->epoch = c->epoch;
	pthread_rwlock_unlock(&c->lock);
	if (!model || m->n < 2)
		return BRAIN_OK;
	int rc = brain__model_embed_batch(c->env->model, m->texts, m->lens, m->n, 0, m->vectors);
	m->done = rc == BRAIN_OK;
	return rc;
}
