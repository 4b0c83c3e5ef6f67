/*
 * index/graph.c - the per-thread search scratch of a graph index (graph.h):
 * making, growing, lending and freeing the arrays one walk needs.
 */
#include "index/graph.h"

int brain__graph_grow(void **p, size_t *cap, size_t need, size_t elem, const char *what)
{
	if (need <= *cap)
		return BRAIN_OK;
	size_t n = BRAIN_MAX(need, *cap * 2);
	void *q = brain__realloc(*p, n * elem);
	if (!q)
		return brain__oom(n * elem, what);
	*p = q;
	*cap = n;
	return BRAIN_OK;
}

int brain__visited_reserve(brain_visited *v, size_t slots, const char *what)
{
	if (slots <= v->cap)
		return BRAIN_OK;
	uint16_t *t = brain__realloc(v->tag, slots * sizeof *t);
	if (!t)
		return brain__oom(slots * sizeof *t, what);
	memset(t + v->cap, 0, (slots - v->cap) * sizeof *t);
	v->tag = t;
	v->cap = slots;
	return BRAIN_OK;
}

static void scratch_free(brain_graph_scratch *s)
{
	if (!s)
		return;
	brain__free(s->vis.tag);
	brain__free(s->cand);
	brain__free(s->res);
	brain__free(s->ids);
	brain__free(s->dists);
	brain__free(s->rows);
	brain__free(s->wide);
	brain__free(s->qcode);
	brain__free(s->done);
	brain__free(s);
}

void brain__graph_spares_init(brain_graph_spares *sp, const char *what, const char *what_vis)
{
	memset(sp, 0, sizeof *sp);
	pthread_mutex_init(&sp->lock, NULL);
	sp->what = what;
	sp->what_vis = what_vis;
}

void brain__graph_spares_destroy(brain_graph_spares *sp)
{
	for (size_t i = 0; i < sp->n; i++)
		scratch_free(sp->spare[i]);
	brain__free(sp->spare);
	sp->spare = NULL;
	sp->n = sp->cap = 0;
	pthread_mutex_destroy(&sp->lock);
}

size_t brain__graph_spares_bytes(brain_graph_spares *sp)
{
	size_t bytes = 0;
	pthread_mutex_lock(&sp->lock);
	for (size_t i = 0; i < sp->n; i++) {
		const brain_graph_scratch *s = sp->spare[i];
		bytes += sizeof *s + s->vis.cap * sizeof *s->vis.tag +
		         (s->cand_cap + s->res_cap) * sizeof(brain_cand) + s->ids_cap * sizeof *s->ids +
		         s->dists_cap * (sizeof *s->dists + sizeof *s->rows) + s->done_cap +
		         s->qcode_cap + s->wide_cap * sizeof *s->wide;
	}
	pthread_mutex_unlock(&sp->lock);
	return bytes;
}

/* dists and rows as long as ids. */
static int grow_side(brain_graph_scratch *s)
{
	if (s->dists_cap >= s->ids_cap)
		return BRAIN_OK;
	float *d = brain__realloc(s->dists, s->ids_cap * sizeof *d);
	if (!d)
		return brain__oom(s->ids_cap * sizeof *d, s->what);
	s->dists = d;
	const void **r = brain__realloc(s->rows, s->ids_cap * sizeof *r);
	if (!r)
		return brain__oom(s->ids_cap * sizeof *r, s->what);
	s->rows = r;
	s->dists_cap = s->ids_cap;
	return BRAIN_OK;
}

int brain__graph_scratch_get(brain_graph_spares *sp, const brain_graph_need *need,
                             brain_graph_scratch **out)
{
	brain_graph_scratch *s = NULL;
	pthread_mutex_lock(&sp->lock);
	if (sp->n)
		s = sp->spare[--sp->n];
	pthread_mutex_unlock(&sp->lock);
	if (!s) {
		s = brain__calloc(1, sizeof *s);
		if (!s)
			return brain__oom(sizeof *s, sp->what);
		s->what = sp->what;
	}
	int rc = brain__visited_reserve(&s->vis, need->slots, sp->what_vis);
	if (rc == BRAIN_OK)
		rc = brain__graph_grow((void **)&s->res, &s->res_cap, need->ef + 1, sizeof *s->res,
		                       s->what);
	if (rc == BRAIN_OK)
		rc = brain__graph_grow((void **)&s->cand, &s->cand_cap, need->ef + 64, sizeof *s->cand,
		                       s->what);
	if (rc == BRAIN_OK)
		rc = brain__graph_grow((void **)&s->ids, &s->ids_cap, need->degree, sizeof *s->ids,
		                       s->what);
	if (rc == BRAIN_OK)
		rc = brain__graph_grow((void **)&s->done, &s->done_cap, need->ef + 1, 1, s->what);
	if (rc == BRAIN_OK && need->code_bytes)
		rc = brain__graph_grow((void **)&s->qcode, &s->qcode_cap, need->code_bytes, 1, s->what);
	if (rc == BRAIN_OK)
		rc = grow_side(s);
	if (rc == BRAIN_OK && need->wide_floats)
		rc = brain__graph_grow((void **)&s->wide, &s->wide_cap, need->wide_floats,
		                       sizeof *s->wide, s->what);
	if (rc) {
		scratch_free(s);
		return rc;
	}
	brain__visited_clear(&s->vis);
	*out = s;
	return BRAIN_OK;
}

void brain__graph_scratch_put(brain_graph_spares *sp, brain_graph_scratch *s)
{
	pthread_mutex_lock(&sp->lock);
	if (sp->n == sp->cap) {
		size_t cap = sp->cap ? sp->cap * 2 : 4;
		brain_graph_scratch **n = brain__realloc(sp->spare, cap * sizeof *n);
		if (!n) {
			pthread_mutex_unlock(&sp->lock);
			scratch_free(s); /* not kept; nothing lost */
			return;
		}
		sp->spare = n;
		sp->cap = cap;
	}
	sp->spare[sp->n++] = s;
	pthread_mutex_unlock(&sp->lock);
}
