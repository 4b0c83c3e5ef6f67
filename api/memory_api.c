/*
 * api/memory_api.c - the text calls: remember, recall, think, get, forget.
 *
 * Each call checks its arguments, does the work that needs no lock
 * (checking and embedding text, which may call a user embedder), then takes
 * the brain lock only around what touches the memories: shared for
 * recalls, exclusive for changes. User callbacks never run under the lock.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/change_api.h"
#include "base/slotset.h"
#include "engine/handle.h"
#include "index/distance.h"

static int check_brain(const brain_t *b, const char *fn)
{
	return b ? BRAIN_OK : brain__err(BRAIN_ENULL, "%s: brain is NULL", fn);
}

static int check_text(brain_t *b, const char *text, const char *what, size_t *len)
{
	brain_msg_text_check m = {text, b->env.opts.max_text_bytes, what, 0};
	int rc = brain__call_TEXT_CHECK(&b->spine, &m);
	*len = m.len;
	return rc;
}

static int check_importance(float importance, const char *fn)
{
	if (!(importance >= 0.0f && importance <= 1.0f)) /* also false for NaN */
		return brain__err(BRAIN_ERANGE, "%s: importance %g is outside [0, 1]", fn,
		                  (double)importance);
	return BRAIN_OK;
}

static float *vector_alloc(const brain_t *b, size_t count)
{
	return brain__malloc_array((size_t)b->env.opts.dimensions * count, sizeof(float));
}

/* ---- remember ------------------------------------------------------------ */

int brain__api_remember_check(brain_t *b, const char *text, float importance, size_t *len)
{
	int rc = check_brain(b, "remember");
	if (rc == BRAIN_OK)
		rc = brain__check_writable(b, "remember");
	if (rc == BRAIN_OK)
		rc = check_text(b, text, "remember: text", len);
	if (rc == BRAIN_OK)
		rc = check_importance(importance, "remember");
	return rc;
}

static int remember_ex(brain_t *b, const char *text, size_t given, const float *vector,
                       float importance, const char *json, brain_id *id_out)
{
	size_t len = 0;
	int rc = check_brain(b, "remember");
	if (rc == BRAIN_OK)
		rc = brain__check_writable(b, "remember");
	if (rc == BRAIN_OK && given) {
		brain_msg_text_check m = {text, b->env.opts.max_text_bytes, "remember: text", given};
		rc = brain__call_TEXT_CHECK(&b->spine, &m);
		len = given;
	} else if (rc == BRAIN_OK) {
		rc = check_text(b, text, "remember: text", &len);
	}
	if (rc == BRAIN_OK)
		rc = check_importance(importance, "remember");
	if (rc)
		return rc;
	brain_meta_blob meta = {NULL, 0};
	brain_mem_scope outer = brain__enter(b);
	if (json)
		rc = brain__api_meta_parse(json, false, &meta);
	if (rc == BRAIN_OK)
		rc = brain__api_remember_made(b, text, len, vector, importance, meta.data, meta.len,
		                              id_out, false, NULL);
	brain__free(meta.data);
	brain__mem_leave(outer);
	return brain__err_prefix(rc, "remember");
}

int brain__api_remember_made(brain_t *b, const char *text, size_t len, const float *vector,
                             float importance, const void *meta, size_t meta_len,
                             brain_id *id_out, bool defer, uint64_t *lsn)
{
	brain_change c;
	int rc = brain__change_remember(b, text, len, vector, importance, meta, meta_len, defer,
	                                &c);
	if (rc == BRAIN_OK) {
		brain__heart_kick(b);
		if (id_out)
			*id_out = c.out_id;
	}
	if (lsn)
		*lsn = c.out_lsn;
	return brain__err_prefix(rc, "remember");
}

int brain__api_remember_embedded(brain_t *b, const char *text, size_t len, const float *embedded,
                                 uint64_t epoch, float importance, const void *meta,
                                 size_t meta_len, brain_id *id_out, bool defer, uint64_t *lsn)
{
	brain_change c;
	int rc = brain__change_remember_embedded(b, text, len, embedded, epoch, importance, meta,
	                                         meta_len, defer, &c);
	if (rc == BRAIN_OK) {
		brain__heart_kick(b);
		if (id_out)
			*id_out = c.out_id;
	}
	if (lsn)
		*lsn = c.out_lsn;
	return brain__err_prefix(rc, "remember");
}

/* Texts embedded a batch at a time on all cores (EMBED_MANY) when the
 * brain's embedder can: *vectors (brain__malloc'ed) and *epoch, or NULL
 * when it cannot (then each text is embedded when it is made). */
int brain__api_embed_many(brain_t *b, const char *const *texts, const size_t *lens, size_t n,
                          float **vectors, uint64_t *epoch)
{
	*vectors = NULL;
	if (n < 2)
		return BRAIN_OK;
	brain_msg_embed_epoch can = {0, false};
	brain__call_EMBED_EPOCH(&b->spine, &can);
	if (b->env.opts.embedder != BRAIN_EMBEDDER_MODEL || !can.can_embed)
		return BRAIN_OK;
	float *v = brain__malloc_array(n, b->env.opts.dimensions * sizeof(float));
	if (!v)
		return BRAIN_OK; /* text by text, in less memory */
	brain_msg_embed_many m = {texts, lens, n, v, 0, false};
	int rc = brain__call_EMBED_MANY(&b->spine, &m);
	if (rc || !m.done) {
		brain__free(v);
		return rc;
	}
	*vectors = v;
	*epoch = m.epoch;
	return BRAIN_OK;
}

BRAIN_EXPORT int brain_remember_ex(brain_t *b, const char *text, const float *vector,
                                   float importance, brain_id *id_out)
{
	brain_timed t = brain__timed_begin(b);
	return brain__timed_end(b, BRAIN_OP_REMEMBER, t,
	                        remember_ex(b, text, 0, vector, importance, NULL, id_out));
}

BRAIN_EXPORT int brain_remember_with(brain_t *b, const char *text, float importance,
                                     const char *metadata_json, uint64_t *id)
{
	brain_timed t = brain__timed_begin(b);
	return brain__timed_end(b, BRAIN_OP_REMEMBER, t,
	                        remember_ex(b, text, 0, NULL, importance, metadata_json, id));
}

BRAIN_EXPORT int brain_remember_n(brain_t *b, const char *text, size_t text_len,
                                  float importance, const char *metadata_json, uint64_t *id)
{
	if (b && text && text_len == 0)
		return brain__err(BRAIN_EEMPTY, "remember: text is empty");
	brain_timed t = brain__timed_begin(b);
	return brain__timed_end(b, BRAIN_OP_REMEMBER, t,
	                        remember_ex(b, text, text_len, NULL, importance, metadata_json, id));
}

BRAIN_EXPORT int brain_remember_full(brain_t *b, const char *text, size_t text_len,
                                     const float *vector, float importance,
                                     const char *metadata_json, uint64_t *id)
{
	if (b && text && text_len == 0)
		return brain__err(BRAIN_EEMPTY, "remember: text is empty");
	brain_timed t = brain__timed_begin(b);
	return brain__timed_end(b, BRAIN_OP_REMEMBER, t,
	                        remember_ex(b, text, text_len, vector, importance, metadata_json, id));
}

BRAIN_EXPORT int brain_remember(brain_t *b, const char *text, float importance)
{
	return brain_remember_ex(b, text, NULL, importance, NULL);
}

/* ---- recall -------------------------------------------------------------- */

/* Receives the hits of a recall while the brain lock is still held (their
 * texts are borrowed) and packs them into the caller's shape. */
typedef int (*pack_fn)(const brain_hit *hits, size_t n, void *ctx);

/* What a recall is narrowed to (NULL: nothing): a filter, and/or the
 * memories within `depth` hops of `around`; and how it ranks (mode: enum
 * brain_recall_kind, with the query's text for the keyword ranking). */
typedef struct recall_scope {
	const brain_filter *filter;
	bool near;
	brain_id around;
	uint32_t depth;
	int mode;
	const char *text;
	size_t text_len;
} recall_scope;

/* Run a text recall with a prepared query vector (and, optionally, a
 * vector that orders what it recalls). */

static int recall_vector(brain_t *b, const float *vec, const float *rerank, size_t k,
                         float min_score, const recall_scope *scope, pack_fn pack, void *ctx)
{
	brain__rdlock(b);
	brain_msg_status st = {0};
	brain__call_STATUS(&b->spine, &st);
	size_t cap = (size_t)BRAIN_MIN((uint64_t)k, st.text_count);
	brain_hit *hits = NULL;
	int rc = BRAIN_OK;
	if (cap) {
		hits = brain__malloc_array(cap, sizeof *hits);
		if (!hits)
			rc = brain__oom(cap * sizeof *hits, "recall: results");
	}
	brain_msg_related near = {0};
	if (rc == BRAIN_OK && scope && scope->near) {
		near.start = scope->around;
		near.depth = scope->depth;
		near.direction = BRAIN_REL_BOTH;
		near.want_slots = true;
		rc = brain__call_RELATED(&b->spine, &near);
	}
	int mode = !scope || scope->mode == BRAIN_SEMANTIC ? BRAIN_RECALL_TEXT
	           : scope->mode == BRAIN_KEYWORD         ? BRAIN_RECALL_KEYWORD
	                                                  : BRAIN_RECALL_HYBRID;
	brain_msg_recall m = {vec, cap, mode, min_score, rerank, hits, 0, NULL, NULL, NULL, 0,
	                      scope ? scope->filter : NULL, near.slots,
	                      scope ? scope->text : NULL, scope ? scope->text_len : 0, false};
	/* with cap 0 too: a filter that cannot compare is an error */
	if (rc == BRAIN_OK)
		rc = brain__call_RECALL(&b->spine, &m);
	brain__slotset_free(near.slots);
	if (rc == BRAIN_OK)
		rc = pack(hits, m.found, ctx);
	brain__unlock(b);
	brain__free(hits);
	return rc;
}

static int recall_text_in(brain_t *b, const char *query, size_t k, const recall_scope *scope,
                          const char *fn, pack_fn pack, void *ctx)
{
	size_t len = 0;
	char what[48];
	int rc = check_brain(b, fn);
	if (rc)
		return rc;
	snprintf(what, sizeof what, "%s: query", fn);
	rc = check_text(b, query, what, &len);
	if (rc)
		return rc;
	if (k == 0)
		return brain__err(BRAIN_ERANGE, "%s: k is 0; ask for at least 1 memory", fn);
	recall_scope sc = scope ? *scope : (recall_scope){0};
	sc.text = query;
	sc.text_len = len;
	float *vec = vector_alloc(b, 1);
	if (!vec)
		return brain__oom(b->env.opts.dimensions * sizeof(float), "recall: query vector");
	/* a keyword recall needs no vector (nor an embedder) */
	brain_msg_embed e = {.text = query, .len = len, .purpose = BRAIN_EMBED_QUERY, .vector = vec};
	if (sc.mode != BRAIN_KEYWORD)
		rc = brain__call_EMBED(&b->spine, &e);
	if (rc == BRAIN_OK) {
		float min_score = (float)brain__param(&b->env, BRAIN_PIDX_RECALL_MIN_SCORE) / 1000.0f;
		rc = recall_vector(b, vec, NULL, k, min_score, &sc, pack, ctx);
	}
	brain__free(vec);
	return brain__err_prefix(rc, fn);
}

static int recall_text(brain_t *b, const char *query, size_t k, const recall_scope *scope,
                       const char *fn, pack_fn pack, void *ctx)
{
	brain_timed t = brain__timed_begin(b);
	return brain__timed_end(b, BRAIN_OP_RECALL, t,
	                        recall_text_in(b, query, k, scope, fn, pack, ctx));
}

/* brain_recall: one malloc() block, pointers first, then the texts. */
static int pack_strings(const brain_hit *hits, size_t n, void *ctx)
{
	size_t bytes = (n + 1) * sizeof(char *);
	for (size_t i = 0; i < n; i++)
		bytes += (size_t)hits[i].text_len + 1;
	char **out = malloc(bytes);
	if (!out)
		return brain__oom(bytes, "recall: result array");
	char *text = (char *)(out + n + 1);
	for (size_t i = 0; i < n; i++) {
		memcpy(text, hits[i].text, hits[i].text_len);
		text[hits[i].text_len] = '\0';
		out[i] = text;
		text += hits[i].text_len + 1;
	}
	out[n] = NULL;
	*(char ***)ctx = out;
	return BRAIN_OK;
}

BRAIN_EXPORT void brain_strings_free(char **strings)
{
	free(strings); /* one malloc() (the seed API promises free() works) */
}

BRAIN_EXPORT char **brain_recall(brain_t *b, const char *query, int top_k)
{
	char **out = NULL;
	if (b && top_k <= 0) {
		brain__err(BRAIN_ERANGE, "recall: top_k is %d; ask for at least 1 memory", top_k);
		return NULL;
	}
	if (recall_text(b, query, top_k > 0 ? (size_t)top_k : 0, NULL, "recall", pack_strings, &out))
		return NULL;
	return out;
}

BRAIN_EXPORT char **brain_recall_where(brain_t *b, const char *query, const char *filter,
                                       int top_k)
{
	char **out = NULL;
	if (check_brain(b, "recall_where"))
		return NULL;
	if (top_k <= 0) {
		brain__err(BRAIN_ERANGE, "recall_where: top_k is %d; ask for at least 1 memory", top_k);
		return NULL;
	}
	brain_filter *f = NULL;
	if (!filter) {
		brain__err(BRAIN_ENULL, "recall_where: filter is NULL (use brain_recall for none)");
		return NULL;
	}
	brain_mem_scope outer = brain__enter(b);
	int rc = brain_filter_parse(filter, &f);
	brain__mem_leave(outer);
	if (rc) {
		brain__err_prefix(rc, "recall_where");
		return NULL;
	}
	recall_scope scope = {f, false, 0, 0, BRAIN_SEMANTIC, NULL, 0};
	rc = recall_text(b, query, (size_t)top_k, &scope, "recall_where", pack_strings, &out);
	outer = brain__enter(b);
	brain_filter_free(f);
	brain__mem_leave(outer);
	return rc ? NULL : out;
}

typedef struct ids_sink {
	brain_id *ids;
	float *scores;
	size_t *found;
} ids_sink;

static int pack_ids(const brain_hit *hits, size_t n, void *ctx)
{
	ids_sink *s = ctx;
	for (size_t i = 0; i < n; i++) {
		s->ids[i] = hits[i].id;
		if (s->scores)
			s->scores[i] = hits[i].score;
	}
	*s->found = n;
	return BRAIN_OK;
}

BRAIN_EXPORT int brain_recall_ids(brain_t *b, const char *query, size_t k, brain_id *ids,
                                  float *scores, size_t *found)
{
	if (found)
		*found = 0;
	if (b && (!ids || !found))
		return brain__err(BRAIN_ENULL, "recall_ids: %s is NULL", ids ? "found" : "ids");
	ids_sink s = {ids, scores, found};
	return recall_text(b, query, k, NULL, "recall_ids", pack_ids, &s);
}

static int pack_results(const brain_hit *hits, size_t n, void *ctx)
{
	return brain__results_make(hits, n, NULL, 0, ctx);
}

BRAIN_EXPORT int brain_recall_results(brain_t *b, const char *query, size_t k,
                                      brain_results **out)
{
	if (!out)
		return brain__err(BRAIN_ENULL, "recall_results: out is NULL");
	*out = NULL;
	return recall_text(b, query, k, NULL, "recall_results", pack_results, out);
}

BRAIN_EXPORT int brain_recall_filter(brain_t *b, const char *query, size_t k,
                                     const brain_filter *filter, brain_results **out)
{
	if (!out)
		return brain__err(BRAIN_ENULL, "recall_filter: out is NULL");
	*out = NULL;
	if (b && !filter)
		return brain__err(BRAIN_ENULL, "recall_filter: filter is NULL");
	recall_scope scope = {filter, false, 0, 0, BRAIN_SEMANTIC, NULL, 0};
	return recall_text(b, query, k, &scope, "recall_filter", pack_results, out);
}

BRAIN_EXPORT int brain_recall_mode(brain_t *b, const char *query, size_t k, int mode,
                                   const brain_filter *filter, brain_results **out)
{
	if (!out)
		return brain__err(BRAIN_ENULL, "recall_mode: out is NULL");
	*out = NULL;
	if (mode != BRAIN_SEMANTIC && mode != BRAIN_KEYWORD && mode != BRAIN_HYBRID)
		return brain__err(BRAIN_ERANGE, "recall_mode: mode %d is not BRAIN_SEMANTIC, "
		                  "BRAIN_KEYWORD or BRAIN_HYBRID", mode);
	recall_scope scope = {filter, false, 0, 0, mode, NULL, 0};
	return recall_text(b, query, k, &scope, "recall_mode", pack_results, out);
}

BRAIN_EXPORT int brain_recall_near(brain_t *b, const char *query, size_t k, brain_id around,
                                   unsigned depth, const brain_filter *filter,
                                   brain_results **out)
{
	if (!out)
		return brain__err(BRAIN_ENULL, "recall_near: out is NULL");
	*out = NULL;
	recall_scope scope = {filter, true, around, depth > UINT32_MAX ? UINT32_MAX : depth,
	                      BRAIN_SEMANTIC, NULL, 0};
	return recall_text(b, query, k, &scope, "recall_near", pack_results, out);
}

/* ---- think --------------------------------------------------------------- */

/* The memories a think draws on: the recall's best, without those far
 * below the best one (THINK_RELATIVE_SCORE). */
static int pack_think(const brain_hit *hits, size_t n, void *ctx)
{
	brain_t *b = ((void **)ctx)[0];
	float share = (float)brain__param(&b->env, BRAIN_PIDX_THINK_RELATIVE_SCORE) / 1000.0f;
	size_t keep = n;
	if (share > 0 && n > 0 && hits[0].score > 0)
		for (keep = 1; keep < n && hits[keep].score >= share * hits[0].score;)
			keep++;
	return brain__results_make(hits, keep, NULL, 0, ((void **)ctx)[1]);
}

static int think_recall(brain_t *b, const float *vec, const float *rerank, brain_results **mem)
{
	size_t k = (size_t)brain__param(&b->env, BRAIN_PIDX_THINK_MAX_MEMORIES);
	float min_score = (float)brain__param(&b->env, BRAIN_PIDX_THINK_MIN_SCORE) / 1000.0f;
	void *ctx[2] = {b, mem};
	return recall_vector(b, vec, rerank, k, min_score, NULL, pack_think, ctx);
}

/* Recall for `input`, compose the answer, keep the exchange. An input that
 * refers back ("how tall is it?") is also read as a follow-up of the
 * previous exchange: what it recalls is ordered by the follow-up query, or,
 * when alone it recalls nothing, the follow-up query recalls. The context
 * counts (and the answer says so) only when it changes the best memory.
 * On success *memories holds what was used and *answer (brain__malloc'ed)
 * the answer. */
static int think_in(brain_t *b, const char *input, const char *fn, brain_results **memories,
                    char **answer, size_t *answer_len)
{
	size_t len = 0;
	char what[48];
	snprintf(what, sizeof what, "%s: input", fn);
	int rc = check_text(b, input, what, &len);
	if (rc)
		return rc;
	float *own = vector_alloc(b, 2);
	if (!own)
		return brain__oom(2 * b->env.opts.dimensions * sizeof(float), "think: query vectors");
	brain_msg_think_query q = {input, len, own, own + b->env.opts.dimensions, 0, false};
	rc = brain__call_THINK_QUERY(&b->spine, &q);
	brain_results *mem = NULL, *ctx = NULL;
	const float *used = own;
	if (rc == BRAIN_OK)
		rc = think_recall(b, own, NULL, &mem);
	if (rc == BRAIN_OK && q.has_context) {
		bool alone = brain_results_count(mem) > 0;
		rc = alone ? think_recall(b, own, q.context, &ctx) : think_recall(b, q.context, NULL, &ctx);
		if (rc == BRAIN_OK && brain_results_count(ctx) > 0 &&
		    (!alone || brain_results_id(ctx, 0) != brain_results_id(mem, 0))) {
			brain_results_free(mem);
			mem = ctx;
			ctx = NULL;
			used = q.context;
		}
		brain_results_free(ctx);
	}
	brain_msg_compose c = {input, len, mem, used != own, NULL, 0};
	if (rc == BRAIN_OK)
		rc = brain__call_COMPOSE(&b->spine, &c);
	if (rc == BRAIN_OK) {
		brain_msg_working_add w = {input, len, c.answer, c.answer_len, used};
		rc = brain__call_WORKING_ADD(&b->spine, &w);
	}
	brain__free(own);
	if (rc) {
		brain__free(c.answer);
		brain_results_free(mem);
		return rc;
	}
	*memories = mem;
	*answer = c.answer;
	*answer_len = c.answer_len;
	return BRAIN_OK;
}

static int think_core(brain_t *b, const char *input, const char *fn, brain_results **memories,
                      char **answer, size_t *answer_len)
{
	brain_timed t = brain__timed_begin(b);
	return brain__timed_end(b, BRAIN_OP_THINK, t,
	                        think_in(b, input, fn, memories, answer, answer_len));
}

BRAIN_EXPORT int brain_think(brain_t *b, const char *input, char *output, size_t output_size)
{
	int rc = check_brain(b, "think");
	if (rc)
		return rc;
	if (!input || !output)
		return brain__err(BRAIN_ENULL, "think: %s is NULL", input ? "output" : "input");
	if (output_size == 0)
		return brain__err(BRAIN_EBUFSIZE,
		                  "think: output_size is 0: no room even for the terminating NUL");
	if (output_size == 1) {
		output[0] = '\0';
		return brain__err(BRAIN_EBUFSIZE,
		                  "think: output_size is 1: room for the terminating NUL only");
	}
	brain_results *mem = NULL;
	char *answer = NULL;
	size_t len = 0;
	rc = think_core(b, input, "think", &mem, &answer, &len);
	if (rc) {
		output[0] = '\0';
		return brain__err_prefix(rc, "think");
	}
	if (len > (size_t)INT_MAX) {
		brain__free(answer);
		brain_results_free(mem);
		output[0] = '\0';
		return brain__err(BRAIN_ERANGE, "think: answer of %zu bytes is too long for an int; "
		                  "use brain_think_ex()",
		                  len);
	}
	size_t n = len < output_size ? len : brain__utf8_floor(answer, output_size - 1);
	memcpy(output, answer, n);
	output[n] = '\0';
	brain__free(answer);
	brain_results_free(mem);
	return (int)len;
}

BRAIN_EXPORT int brain_think_ex(brain_t *b, const char *input, brain_results **out)
{
	if (!out)
		return brain__err(BRAIN_ENULL, "think_ex: out is NULL");
	*out = NULL;
	int rc = check_brain(b, "think_ex");
	if (rc)
		return rc;
	brain_results *mem = NULL;
	char *answer = NULL;
	size_t len = 0;
	rc = think_core(b, input, "think_ex", &mem, &answer, &len);
	brain_mem_scope outer = brain__enter(b);
	if (rc == BRAIN_OK)
		rc = brain__results_with_answer(mem, answer, len, out);
	brain__mem_leave(outer);
	brain__free(answer);
	brain_results_free(mem);
	return brain__err_prefix(rc, "think_ex");
}

/* ---- get, forget, embedder, generator ------------------------------------ */

BRAIN_EXPORT int brain_get(brain_t *b, brain_id id, brain_results **out)
{
	if (!out)
		return brain__err(BRAIN_ENULL, "get: out is NULL");
	*out = NULL;
	int rc = check_brain(b, "get");
	if (rc)
		return rc;
	brain_mem_scope outer = brain__enter(b);
	brain__rdlock(b);
	brain_msg_lookup m = {.id = id};
	rc = brain__call_LOOKUP(&b->spine, &m);
	if (rc == BRAIN_OK) {
		m.hit.score = 1.0f;
		rc = brain__results_make(&m.hit, 1, NULL, 0, out);
	}
	brain__unlock(b);
	brain__mem_leave(outer);
	return brain__err_prefix(rc, "get");
}

BRAIN_EXPORT int brain_forget(brain_t *b, brain_id id)
{
	int rc = check_brain(b, "forget");
	if (rc == BRAIN_OK)
		rc = brain__check_writable(b, "forget");
	if (rc == BRAIN_OK) {
		brain_change c = {.op = BRAIN_CHANGE_FORGET};
		c.u.forget.id = id;
		rc = brain__api_change(b, &c);
	}
	return brain__err_prefix(rc, "forget");
}

BRAIN_EXPORT int brain_set_embedder(brain_t *b, brain_embed_fn fn, void *payload)
{
	int rc = check_brain(b, "set_embedder");
	if (rc)
		return rc;
	brain_msg_set_embedder probe = {fn, payload, true};
	rc = brain__call_SET_EMBEDDER(&b->spine, &probe); /* user code: no lock held */
	if (rc)
		return brain__err_prefix(rc, "set_embedder");
	brain__wrlock(b);
	brain_msg_status st = {0};
	brain__call_STATUS(&b->spine, &st);
	if (st.count > 0) {
		rc = brain__err(BRAIN_ESTATE,
		                "set_embedder: the brain holds %llu memories made by the current "
		                "embedder; vectors of two embedders do not mix",
		                (unsigned long long)st.count);
	} else {
		brain_msg_set_embedder m = {fn, payload, false};
		rc = brain__call_SET_EMBEDDER(&b->spine, &m);
	}
	brain__wrunlock(b);
	return brain__err_prefix(rc, "set_embedder");
}

BRAIN_EXPORT int brain_set_generator(brain_t *b, brain_generate_fn fn, void *payload)
{
	int rc = check_brain(b, "set_generator");
	if (rc)
		return rc;
	brain_msg_set_generator m = {fn, payload};
	return brain__call_SET_GENERATOR(&b->spine, &m);
}

/* ---- batches ---------------------------------------------------------------- */

BRAIN_EXPORT int brain_remember_batch(brain_t *b, const char *const *texts, size_t n,
                                      float importance, const char *const *metadata_json,
                                      uint64_t *ids)
{
	for (size_t i = 0; ids && i < n; i++)
		ids[i] = BRAIN_ID_NONE;
	int rc = check_brain(b, "remember_batch");
	if (rc == BRAIN_OK && n && !texts)
		rc = brain__err(BRAIN_ENULL, "remember_batch: texts is NULL");
	if (rc == BRAIN_OK)
		rc = brain__check_writable(b, "remember_batch");
	if (rc == BRAIN_OK)
		rc = check_importance(importance, "remember_batch");
	if (rc || n == 0)
		return rc;
	/* every text and every metadata checked before any is remembered */
	brain_mem_scope outer = brain__enter(b);
	size_t *lens = brain__malloc_array(n, sizeof *lens);
	brain_meta_blob *meta = brain__calloc(n, sizeof *meta);
	if (!lens || !meta)
		rc = brain__oom(n * (sizeof *lens + sizeof *meta), "remember_batch");
	char what[64];
	for (size_t i = 0; rc == BRAIN_OK && i < n; i++) {
		snprintf(what, sizeof what, "remember_batch: text %zu", i);
		rc = check_text(b, texts[i], what, &lens[i]);
		if (rc == BRAIN_OK && metadata_json && metadata_json[i]) {
			rc = brain__api_meta_parse(metadata_json[i], false, &meta[i]);
			if (rc)
				brain__err_context(rc, what);
		}
	}
	/* one change each, made durable once at the end; a model embeds them
	 * a chunk at a time on all cores */
	uint64_t lsn = 0, epoch = 0;
	float *pre = NULL;
	size_t dims = b->env.opts.dimensions;
	for (size_t i = 0; rc == BRAIN_OK && i < n; i++) {
		brain_id id = BRAIN_ID_NONE;
		uint64_t one = 0;
		if (i % BATCH_EMBED_CHUNK == 0) {
			brain__free(pre);
			/* a failure (a text the model refuses) is found again text by
			 * text, after the ones before it are made */
			(void)brain__api_embed_many(b, texts + i, lens + i,
			                            BRAIN_MIN(BATCH_EMBED_CHUNK, n - i), &pre, &epoch);
		}
		if (pre)
			rc = brain__api_remember_embedded(b, texts[i], lens[i],
			                                  pre + (i % BATCH_EMBED_CHUNK) * dims, epoch,
			                                  importance, meta[i].data, meta[i].len, &id, true,
			                                  &one);
		else
			rc = brain__api_remember_made(b, texts[i], lens[i], NULL, importance, meta[i].data,
			                              meta[i].len, &id, true, &one);
		if (rc == BRAIN_OK) {
			lsn = one ? one : lsn;
			if (ids)
				ids[i] = id;
		}
	}
	brain__free(pre);
	int crc = brain__change_commit(b, lsn);
	if (rc == BRAIN_OK)
		rc = crc;
	for (size_t i = 0; meta && i < n; i++)
		brain__free(meta[i].data);
	brain__free(meta);
	brain__free(lens);
	brain__mem_leave(outer);
	return brain__err_prefix(rc, "remember_batch");
}

BRAIN_EXPORT int brain_recall_batch(brain_t *b, const char *const *queries, size_t n, size_t k,
                                    const brain_filter *filter, brain_results **out)
{
	for (size_t i = 0; out && i < n; i++)
		out[i] = NULL;
	if (!b || (n && (!queries || !out)))
		return brain__err(BRAIN_ENULL, "recall_batch: %s is NULL",
		                  !b ? "brain" : !queries ? "queries" : "out");
	int rc = BRAIN_OK;
	for (size_t i = 0; rc == BRAIN_OK && i < n; i++) {
		recall_scope scope = {filter, false, 0, 0, BRAIN_SEMANTIC, NULL, 0};
		rc = recall_text(b, queries[i], k, &scope, "recall_batch", pack_results, &out[i]);
	}
	if (rc)
		for (size_t i = 0; i < n; i++) {
			brain_results_free(out[i]);
			out[i] = NULL;
		}
	return rc;
}
