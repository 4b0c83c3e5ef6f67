/*
 * organs/cortex/think.c - the Cortex's thinking: a think's query
 * (THINK_QUERY), composing its answer (COMPOSE, or the user's generator,
 * SET_GENERATOR) and working memory (WORKING_ADD; WORKING_TAKE and
 * WORKING_RETURN for the Circadian's consolidation).
 *
 * Thinking. A think recalls with the input's embedding. When that finds
 * nothing relevant and the input refers back ("when was it built?"), the
 * input is read as a follow-up: the query of the previous exchange is
 * blended in and the recall is tried again. The answer names each memory
 * used and how well it matches, or says that nothing is known; a user
 * generator may compose it instead. Working memory keeps recent exchanges.
 *
 * Consolidation (CONSOLIDATE_WORKING, engine/circadian.c) takes each
 * exchange at most once and keeps only statements: an input that, after
 * trailing white space, is empty or ends in a question mark ('?', or the
 * full-width and Arabic ones) is a question, not a fact to remember.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "organs/cortex/cortex_internal.h"
#include "organs/cortex/calibration.h"
#include "index/distance.h"

/* Words that refer back to what was said before; an input with one of them
 * is read in the context of working memory. English only for now. */
static const char *const g_back_refs[] = {
	"it",    "its",   "they", "them", "their", "this", "that", "these",
	"those", "he",    "him",  "his",  "she",   "her",  "there"};

/* ---- a think's query ---------------------------------------------------- */

static bool refers_back(cortex *c, const char *text, size_t len)
{
	brain_analysis a;
	brain__analysis_init(&a);
	brain_msg_text_analyze m = {text, len, 0, 0, &a};
	bool found = false;
	if (brain__call_TEXT_ANALYZE(c->spine, &m) == BRAIN_OK) {
		for (size_t i = 0; i < a.nwords && !found; i++) {
			for (size_t j = 0; j < BRAIN_ARRAY_LEN(g_back_refs) && !found; j++) {
				size_t rl = strlen(g_back_refs[j]);
				found = a.words[i].len == rl &&
				        memcmp(a.text + a.words[i].off, g_back_refs[j], rl) == 0;
			}
		}
	}
	brain__analysis_free(&a);
	return found;
}

/* The query of a follow-up: the input's own embedding plus, with `weight`,
 * the query of the previous exchange, at unit length. Returns whether there
 * was a previous exchange. */
static bool blend_context(cortex *c, const float *own, float *out, float weight)
{
	bool used = false;
	/* a working memory of size 0 keeps nothing, even before the ring has
	 * been trimmed by the next exchange */
	bool keeps = brain__param(c->env, BRAIN_PIDX_WORKING_MEMORY_SIZE) > 0;
	pthread_mutex_lock(&c->wm_lock);
	if (keeps && c->wm_count > 0) {
		const float *past = c->wm[(c->wm_head + c->wm_cap - 1) % c->wm_cap].vector;
		for (uint32_t d = 0; d < c->dims; d++)
			out[d] = own[d] + weight * past[d];
		used = true;
	}
	pthread_mutex_unlock(&c->wm_lock);
	return used && brain__normalize(out, c->dims) != 0.0f;
}

int brain__cortex_THINK_QUERY(cortex *c, brain_msg_think_query *m)
{
	brain_msg_embed e = {.text = m->input, .len = m->len, .purpose = BRAIN_EMBED_QUERY,
	                     .vector = m->own};
	int rc = brain__cortex_EMBED(c, &e);
	if (rc)
		return rc;
	m->epoch = e.epoch;
	float weight = (float)brain__param(c->env, BRAIN_PIDX_THINK_CONTEXT_WEIGHT) / 1000.0f;
	m->has_context = weight > 0 && refers_back(c, m->input, m->len) &&
	                 blend_context(c, m->own, m->context, weight);
	return BRAIN_OK;
}

/* ---- composing answers -------------------------------------------------- */

/* A growable string for composing answers. */
typedef struct strbuf {
	char *s;
	size_t len, cap;
	int rc;
} strbuf;

static void sb_append(strbuf *b, const char *s, size_t n)
{
	if (b->rc)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = BRAIN_MAX(b->cap * 2, b->len + n + 1);
		cap = BRAIN_MAX(cap, (size_t)256);
		char *p = brain__realloc(b->s, cap);
		if (!p) {
			b->rc = brain__oom(cap, "answer");
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void sb_printf(strbuf *b, const char *fmt, ...) BRAIN_PRINTF(2, 3);
static void sb_printf(strbuf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n > 0)
		sb_append(b, tmp, BRAIN_MIN((size_t)n, sizeof tmp - 1));
}

/* Append at most `max` bytes of s (cut on a character boundary, marked with
 * an ellipsis), for quoting the input inside an answer. */
static void sb_excerpt(strbuf *b, const char *s, size_t len, size_t max)
{
	if (len <= max) {
		sb_append(b, s, len);
		return;
	}
	sb_append(b, s, brain__utf8_floor(s, max));
	sb_append(b, "\xE2\x80\xA6", 3);
}

/* The label of a memory's score: what calibration measured for this
 * embedder (calibration.h). */
static const char *strength(const cortex *c, float score)
{
	const brain_calibration *k = c->lift ? &brain_calibration_lift : &brain_calibration_lexical;
	return score >= k->strong ? "strong" : score >= k->good ? "good" : "weak";
}

static int compose_builtin(cortex *c, brain_msg_compose *m)
{
	strbuf b = {0};
	size_t n = brain_results_count(m->memories);
	if (m->used_context) {
		pthread_mutex_lock(&c->wm_lock);
		if (c->wm_count > 0) {
			const char *prev = c->wm[(c->wm_head + c->wm_cap - 1) % c->wm_cap].input;
			sb_append(&b, "Taking this as a follow-up to \"", 31);
			sb_excerpt(&b, prev, strlen(prev), 80);
			sb_append(&b, "\".\n", 3);
		}
		pthread_mutex_unlock(&c->wm_lock);
	}
	if (n == 0) {
		sb_append(&b, "I don't know: nothing I remember matches \"", 42);
		sb_excerpt(&b, m->input, m->input_len, 80);
		sb_append(&b, "\".", 2);
	} else {
		sb_printf(&b, "From what I remember (%zu %s):", n, n == 1 ? "memory" : "memories");
		for (size_t i = 0; i < n; i++) {
			const char *t = brain_results_text(m->memories, i);
			float s = brain_results_score(m->memories, i);
			sb_printf(&b, "\n%zu. ", i + 1);
			sb_append(&b, t, brain_results_text_len(m->memories, i));
			sb_printf(&b, " [memory %llu, match %.2f, %s]",
			          (unsigned long long)brain_results_id(m->memories, i), (double)s,
			          strength(c, s));
		}
	}
	if (b.rc) {
		brain__free(b.s);
		return b.rc;
	}
	m->answer = b.s;
	m->answer_len = b.len;
	return BRAIN_OK;
}

static int compose_generated(cortex *c, brain_msg_compose *m, brain_generate_fn fn,
                             void *payload)
{
	size_t size = (size_t)c->env->opts.max_text_bytes + 1;
	char *out = brain__malloc(size);
	if (!out)
		return brain__oom(size, "generator answer");
	out[0] = '\0';
	int n = fn(m->input, m->memories, out, size, payload);
	int rc = BRAIN_OK;
	brain_msg_text_check check = {out, size - 1, "generator answer", 0};
	if (n < 0)
		rc = brain__err(BRAIN_EGENERATOR, "generator failed with its own code %d", n);
	else if ((size_t)n >= size)
		rc = brain__err(BRAIN_EGENERATOR,
		                "generator answer of %d bytes does not fit the limit of %zu", n,
		                size - 1);
	else if (strnlen(out, size) != (size_t)n)
		rc = brain__err(BRAIN_EGENERATOR, "generator returned length %d but wrote %zu bytes", n,
		                strnlen(out, size));
	else if (brain__call_TEXT_CHECK(c->spine, &check) != BRAIN_OK)
		rc = brain__err_context(BRAIN_EGENERATOR, "");
	if (rc) {
		brain__free(out);
		return rc;
	}
	m->answer = out;
	m->answer_len = (size_t)n;
	return BRAIN_OK;
}

int brain__cortex_SET_GENERATOR(cortex *c, brain_msg_set_generator *m)
{
	pthread_mutex_lock(&c->gen_lock);
	c->gen_fn = m->fn;
	c->gen_payload = m->payload;
	pthread_mutex_unlock(&c->gen_lock);
	return BRAIN_OK;
}

int brain__cortex_COMPOSE(cortex *c, brain_msg_compose *m)
{
	pthread_mutex_lock(&c->gen_lock);
	brain_generate_fn fn = c->gen_fn;
	void *payload = c->gen_payload;
	pthread_mutex_unlock(&c->gen_lock);
	m->answer = NULL;
	m->answer_len = 0;
	return fn ? compose_generated(c, m, fn, payload) : compose_builtin(c, m);
}

/* ---- working memory ----------------------------------------------------- */

static void exchange_free(exchange *e)
{
	brain__free(e->input);
	brain__free(e->answer);
	brain__free(e->vector);
	memset(e, 0, sizeof *e);
}

void brain__cortex_working_free(cortex *c)
{
	for (size_t i = 0; i < c->wm_cap; i++)
		exchange_free(&c->wm[i]);
	brain__free(c->wm);
}

/* Resize the ring to `cap`, keeping the newest exchanges. Called with
 * wm_lock held. */
static int wm_resize(cortex *c, size_t cap)
{
	if (cap == c->wm_cap)
		return BRAIN_OK;
	exchange *ring = NULL;
	if (cap > 0) {
		ring = brain__calloc(cap, sizeof *ring);
		if (!ring)
			return brain__oom(cap * sizeof *ring, "working memory");
	}
	size_t keep = BRAIN_MIN(c->wm_count, cap);
	/* oldest kept first, so the newest ends at keep - 1 */
	for (size_t j = 0; j < c->wm_count; j++) {
		size_t i = (c->wm_head + c->wm_cap - c->wm_count + j) % c->wm_cap;
		if (j >= c->wm_count - keep)
			ring[j - (c->wm_count - keep)] = c->wm[i];
		else
			exchange_free(&c->wm[i]);
	}
	brain__free(c->wm);
	c->wm = ring;
	c->wm_cap = cap;
	c->wm_count = keep;
	c->wm_head = cap ? keep % cap : 0;
	return BRAIN_OK;
}

int brain__cortex_WORKING_ADD(cortex *c, brain_msg_working_add *m)
{
	size_t cap = (size_t)brain__param(c->env, BRAIN_PIDX_WORKING_MEMORY_SIZE);
	exchange e = {0};
	if (cap > 0) {
		e.input = brain__strndup(m->input, m->input_len);
		e.answer = brain__strndup(m->answer, m->answer_len);
		e.vector = brain__malloc_array(c->dims, sizeof(float));
		if (!e.input || !e.answer || !e.vector) {
			exchange_free(&e);
			return brain__oom(m->input_len + m->answer_len + c->dims * sizeof(float),
			                  "working memory");
		}
		memcpy(e.vector, m->vector, c->dims * sizeof(float));
	}
	pthread_mutex_lock(&c->wm_lock);
	int rc = wm_resize(c, cap);
	if (rc == BRAIN_OK && cap > 0) {
		exchange_free(&c->wm[c->wm_head]); /* the oldest, when full */
		e.seq = ++c->wm_seq;
		c->wm[c->wm_head] = e;
		c->wm_head = (c->wm_head + 1) % cap;
		if (c->wm_count < cap)
			c->wm_count++;
		e = (exchange){0};
	}
	pthread_mutex_unlock(&c->wm_lock);
	exchange_free(&e);
	return rc;
}

/* ---- consolidation ------------------------------------------------------ */

/* Is the input a statement: not empty and not a question once trailing
 * white space is cut? */
static bool is_statement(const char *s, size_t len)
{
	while (len > 0 && (s[len - 1] == ' ' || (s[len - 1] >= '\t' && s[len - 1] <= '\r')))
		len--;
	if (len == 0 || s[len - 1] == '?')
		return false;
	/* U+FF1F FULLWIDTH QUESTION MARK, U+061F ARABIC QUESTION MARK */
	if (len >= 3 && memcmp(s + len - 3, "\xEF\xBC\x9F", 3) == 0)
		return false;
	return !(len >= 2 && memcmp(s + len - 2, "\xD8\x9F", 2) == 0);
}

/* The exchange at age j (0 the oldest held). Called with wm_lock held. */
static exchange *wm_at(cortex *c, size_t j)
{
	return &c->wm[(c->wm_head + c->wm_cap - c->wm_count + j) % c->wm_cap];
}

int brain__cortex_WORKING_TAKE(cortex *c, brain_msg_working_take *m)
{
	m->items = NULL;
	m->n = 0;
	bool keeps = brain__param(c->env, BRAIN_PIDX_WORKING_MEMORY_SIZE) > 0;
	pthread_mutex_lock(&c->wm_lock);
	size_t n = 0, bytes = 0;
	for (size_t j = 0; keeps && j < c->wm_count; j++) {
		exchange *e = wm_at(c, j);
		if (e->taken)
			continue;
		if (!is_statement(e->input, strlen(e->input))) {
			e->taken = true; /* a question: never a memory */
			continue;
		}
		n++;
		bytes += strlen(e->input) + 1;
	}
	int rc = BRAIN_OK;
	if (n > 0) {
		size_t head = n * sizeof(brain_working_item);
		m->items = brain__malloc(head + bytes);
		if (!m->items)
			rc = brain__oom(head + bytes, "working memory taken");
		char *text = (char *)m->items + head;
		for (size_t j = 0; rc == BRAIN_OK && j < c->wm_count; j++) {
			exchange *e = wm_at(c, j);
			if (e->taken)
				continue;
			size_t len = strlen(e->input);
			memcpy(text, e->input, len + 1);
			m->items[m->n++] = (brain_working_item){e->seq, text, len};
			text += len + 1;
			e->taken = true;
		}
	}
	pthread_mutex_unlock(&c->wm_lock);
	return rc;
}

int brain__cortex_WORKING_RETURN(cortex *c, brain_msg_working_return *m)
{
	pthread_mutex_lock(&c->wm_lock);
	for (size_t j = 0; j < c->wm_count; j++) {
		exchange *e = wm_at(c, j);
		for (size_t i = 0; i < m->n; i++)
			if (e->seq == m->seqs[i])
				e->taken = false;
	}
	pthread_mutex_unlock(&c->wm_lock);
	return BRAIN_OK;
}
