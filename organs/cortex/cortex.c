/*
 * organs/cortex/cortex.c - embedding, composing answers, working memory.
 *
 * Built-in embedder. A text is analysed by the Pancreas into normalised
 * words and character n-grams. Its features are the words, the pairs of
 * adjacent words and the 3- to 5-grams of each word, each hashed to 64
 * bits. Each feature adds its weight, with a sign taken from its hash, to
 * one dimension chosen by its hash ("signed feature hashing"); the sum is
 * scaled to unit length. The weights differ by side, as in BM25:
 *
 *   memory: class weight * (1 + ln tf)
 *   query:  class weight * (1 + ln tf) * idf,  idf = ln((N + 1) / (df + 1)) + 1
 *
 * with tf the feature's count in the text, N the number of texts the brain
 * holds and df how many of them have the feature (the Cortex keeps these
 * document frequencies in step with the Hippocampus through LEARN). A
 * memory's vector is a pure function of its text: it does not depend on
 * what else the brain held when it was stored, so it never goes stale and
 * two brains given the same texts in any order hold the same vectors. The
 * rarity of words weighs in when a question is asked, with the statistics
 * of that moment. Weights and the treatment of unseen query features were
 * chosen on the STS Benchmark dev set and a small labelled question set
 * (docs/embedder.md).
 *
 * Thinking. A think recalls with the input's embedding. When that finds
 * nothing relevant and the input refers back ("when was it built?"), the
 * input is read as a follow-up: the query of the previous exchange is
 * blended in and the recall is tried again. The answer names each memory
 * used and how well it matches, or says that nothing is known; a user
 * generator may compose it instead. Working memory keeps recent exchanges.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spine/spine.h"
#include "index/distance.h"
#include "base/hashmap.h"
#include "storage/image.h"

/* Feature classes: hashing seed and weight. The weights were chosen on the
 * STS Benchmark dev set and the demo's questions (docs/embedder.md). */
enum { CLASS_WORD, CLASS_BIGRAM, CLASS_GRAM, CLASS__COUNT };
static const uint64_t g_class_seed[CLASS__COUNT] = {
	0x5bd1e9955bd1e995ull, 0x27d4eb2f165667c5ull, 0x9e3779b185ebca87ull};
static const float g_class_weight[CLASS__COUNT] = {1.0f, 0.5f, 1.0f};

/* A query feature that no memory has: it cannot match anything, but it
 * still says what the question is about, so it keeps half its weight (and
 * a question about unknown things scores low everywhere). */
#define UNSEEN_QUERY_WEIGHT 0.5f

#define GRAM_MIN 3
#define GRAM_MAX 5

/* Words that refer back to what was said before; an input with one of them
 * is read in the context of working memory. English only for now. */
static const char *const g_back_refs[] = {
	"it",    "its",   "they", "them", "their", "this", "that", "these",
	"those", "he",    "him",  "his",  "she",   "her",  "there"};

typedef struct exchange {
	char *input;
	char *answer;
	float *vector; /* the query its answer was recalled with */
} exchange;

typedef struct cortex {
	const brain_env *env;
	brain_spine *spine;
	uint32_t dims;

	/* lock guards df, ndocs and the embedder choice */
	pthread_rwlock_t lock;
	brain_map df;
	uint64_t ndocs;
	brain_image *image; /* df's cells may live in it (a reference) */
	brain_embed_fn user_fn;
	void *user_payload;
	uint64_t epoch;

	pthread_mutex_t gen_lock;
	brain_generate_fn gen_fn;
	void *gen_payload;

	pthread_mutex_t wm_lock;
	exchange *wm;       /* ring of wm_cap exchanges, newest at wm_head - 1 */
	size_t wm_head;
	size_t wm_count;
	size_t wm_cap;
} cortex;

typedef struct feature {
	uint64_t key;
	float weight; /* class weight, then the final weight */
	uint32_t tf;
} feature;

/* ---- lifetime ----------------------------------------------------------- */

static int load(cortex *c, brain_image *img);
static void destroy(void *state);

static int create(const brain_env *env, brain_spine *spine, const brain_organ_args *args,
                  void **state)
{
	cortex *c = brain__calloc(1, sizeof *c);
	if (!c)
		return brain__oom(sizeof *c, "cortex");
	c->env = env;
	c->spine = spine;
	c->dims = env->opts.dimensions;
	brain__map_init(&c->df);
	if (args->image) {
		int rc = load(c, args->image);
		if (rc) {
			brain__map_free(&c->df);
			brain__image_unref(c->image);
			brain__free(c);
			return rc;
		}
	}
	pthread_rwlock_init(&c->lock, NULL);
	pthread_mutex_init(&c->gen_lock, NULL);
	pthread_mutex_init(&c->wm_lock, NULL);
	*state = c;
	return BRAIN_OK;
}

static void exchange_free(exchange *e)
{
	brain__free(e->input);
	brain__free(e->answer);
	brain__free(e->vector);
	memset(e, 0, sizeof *e);
}

static void destroy(void *state)
{
	cortex *c = state;
	if (!c)
		return;
	for (size_t i = 0; i < c->wm_cap; i++)
		exchange_free(&c->wm[i]);
	brain__free(c->wm);
	brain__map_free(&c->df);
	brain__image_unref(c->image);
	pthread_rwlock_destroy(&c->lock);
	pthread_mutex_destroy(&c->gen_lock);
	pthread_mutex_destroy(&c->wm_lock);
	brain__free(c);
}

/* ---- features ----------------------------------------------------------- */

static int analyze(cortex *c, const char *text, size_t len, brain_analysis *a)
{
	brain_msg_text_analyze m = {text, len, GRAM_MIN, GRAM_MAX, a};
	return brain__call_TEXT_ANALYZE(c->spine, &m);
}

static inline uint64_t feature_key(const void *bytes, size_t len, uint64_t seed)
{
	uint64_t k = brain__hash64(bytes, len, seed);
	return k == BRAIN_MAP_EMPTY ? k - 1 : k;
}

/* Count one occurrence of a feature in the open-addressing table; a new
 * one is appended to `order` (cell numbers in order of first appearance). */
static inline void add_feature(feature *table, size_t mask, uint32_t *order, size_t *m,
                               uint64_t key, float weight)
{
	size_t i = (size_t)brain__mix64(key) & mask;
	while (table[i].tf && table[i].key != key)
		i = (i + 1) & mask;
	if (table[i].tf++ == 0) {
		table[i].key = key;
		table[i].weight = weight;
		order[(*m)++] = (uint32_t)i;
	}
}

/* The distinct features of an analysed text with their class weight and
 * count, in order of first appearance. Counted in a small open-addressing
 * table, which costs a fraction of sorting. One block holds the table, the
 * list of the cells in use and, at the end, the result moved to its front;
 * *out is that block, brain__malloc'ed (NULL when the text has none). */
static int features_of(const brain_analysis *a, feature **out, size_t *n_out)
{
	*out = NULL;
	*n_out = 0;
	size_t bigrams = a->nwords ? a->nwords - 1 : 0;
	size_t n = a->nwords + bigrams + a->ngrams;
	if (n == 0)
		return BRAIN_OK;
	if (n > UINT32_MAX / 4)
		return brain__err(BRAIN_ETOOLONG, "text has %zu features, too many to count", n);
	size_t cap = 16;
	while (cap < 2 * n)
		cap <<= 1;
	size_t bytes = (cap + n) * sizeof(feature) + n * sizeof(uint32_t);
	feature *f = brain__malloc(bytes);
	if (!f)
		return brain__oom(bytes, "text features");
	memset(f, 0, cap * sizeof *f);
	feature *result = f + cap;
	uint32_t *order = (uint32_t *)(void *)(result + n);
	size_t mask = cap - 1, m = 0;
	for (size_t i = 0; i < a->nwords; i++) {
		const brain_span *w = &a->words[i];
		add_feature(f, mask, order, &m,
		            feature_key(a->text + w->off, w->len, g_class_seed[CLASS_WORD]),
		            g_class_weight[CLASS_WORD]);
		if (i + 1 < a->nwords) {
			/* "w1 w2" is contiguous in the normalised text */
			const brain_span *w2 = &a->words[i + 1];
			add_feature(f, mask, order, &m,
			            feature_key(a->text + w->off, w2->off + w2->len - w->off,
			                        g_class_seed[CLASS_BIGRAM]),
			            g_class_weight[CLASS_BIGRAM]);
		}
	}
	for (size_t i = 0; i < a->ngrams; i++) {
		const brain_gram *g = &a->grams[i];
		uint64_t seed = g_class_seed[CLASS_GRAM] ^ ((uint64_t)g->flags << 56) ^
		                ((uint64_t)g->n << 48);
		add_feature(f, mask, order, &m, feature_key(a->text + g->off, g->len, seed),
		            g_class_weight[CLASS_GRAM]);
	}
	for (size_t j = 0; j < m; j++)
		result[j] = f[order[j]];
	memcpy(f, result, m * sizeof *f); /* m <= n <= cap / 2: no overlap */
	*out = f;
	*n_out = m;
	return BRAIN_OK;
}

/* Fast range reduction of the key's high half onto [0, dims). */
static inline uint32_t dim_of(uint64_t key, uint32_t dims)
{
	return (uint32_t)(((key >> 32) * (uint64_t)dims) >> 32);
}

/* The distinct features of a text. */
static int text_features(cortex *c, const char *text, size_t len, feature **f, size_t *n)
{
	brain_analysis a;
	brain__analysis_init(&a);
	int rc = analyze(c, text, len, &a);
	if (rc == BRAIN_OK)
		rc = features_of(&a, f, n);
	brain__analysis_free(&a);
	return rc;
}

/* ln(1 + tf) for small tf, and ln(df + 1) for small df: a table lookup
 * instead of logf for almost every feature. */
#define LOG_TABLE 256
static float g_log1p_table[LOG_TABLE];
static pthread_once_t g_log_once = PTHREAD_ONCE_INIT;

static void log_table_init(void)
{
	for (int i = 0; i < LOG_TABLE; i++)
		g_log1p_table[i] = logf((float)i + 1.0f);
}

static inline float log1p_u32(uint32_t x)
{
	return x < LOG_TABLE ? g_log1p_table[x] : logf((float)x + 1.0f);
}

static int embed_builtin(cortex *c, brain_msg_embed *m)
{
	feature *f = NULL;
	size_t n = 0;
	float *vec = m->vector;
	int rc = text_features(c, m->text, m->len, &f, &n);
	if (rc)
		return rc;
	if (n == 0)
		return brain__err(BRAIN_EEMPTY, "text has no words or numbers to index");
	pthread_once(&g_log_once, log_table_init);
	memset(vec, 0, c->dims * sizeof *vec);
	pthread_rwlock_rdlock(&c->lock);
	/* idf = ln((N + 1) / (df + 1)) + 1 = ln(N + 1) - ln(df + 1) + 1 */
	float idf_base = logf((float)c->ndocs + 1.0f) + 1.0f;
	for (size_t i = 0; i < n; i++) {
		float w = f[i].weight * (1.0f + log1p_u32(f[i].tf - 1));
		if (m->purpose == BRAIN_EMBED_QUERY) {
			uint32_t df = 0;
			if (brain__map_get(&c->df, f[i].key, &df))
				w *= idf_base - log1p_u32(df);
			else
				w *= idf_base * UNSEEN_QUERY_WEIGHT;
		}
		f[i].weight = w;
		vec[dim_of(f[i].key, c->dims)] += (f[i].key & 1) ? -w : w;
	}
	pthread_rwlock_unlock(&c->lock);
	if (brain__normalize(vec, c->dims) == 0.0f) {
		/* Every feature cancelled another out in its dimension (a word of
		 * one character has two features: at 1 in (2 * dims) texts they
		 * collide with opposite signs). Without the signs the sum cannot
		 * cancel, and the vector is still a function of the text alone. */
		for (size_t i = 0; i < n; i++)
			vec[dim_of(f[i].key, c->dims)] += f[i].weight;
		brain__normalize(vec, c->dims);
	}
	if (m->want_features) {
		/* the keys, in place of the features (8 of 16 bytes each) */
		uint64_t *keys = (uint64_t *)(void *)f;
		for (size_t i = 0; i < n; i++)
			keys[i] = f[i].key;
		m->features = keys;
		m->nfeatures = n;
		return BRAIN_OK;
	}
	brain__free(f);
	return BRAIN_OK;
}

/* ---- embedding messages ------------------------------------------------- */

static int call_user_embedder(cortex *c, brain_embed_fn fn, void *payload, const char *text,
                              size_t len, float *vec)
{
	int got = fn(text, len, vec, c->dims, payload);
	if (got < 0)
		return brain__err(BRAIN_EEMBEDDER, "embedder failed with its own code %d", got);
	if ((uint32_t)got != c->dims)
		return brain__err(BRAIN_EDIM, "embedder produced %d dimensions; brain has %u", got,
		                  c->dims);
	return brain__vector_prepare(vec, c->dims, c->env->opts.metric, vec, "embedder output");
}

static int on_EMBED(cortex *c, brain_msg_embed *m)
{
	m->features = NULL;
	m->nfeatures = 0;
	pthread_rwlock_rdlock(&c->lock);
	brain_embed_fn fn = c->user_fn;
	void *payload = c->user_payload;
	m->epoch = c->epoch;
	pthread_rwlock_unlock(&c->lock);
	if (fn)
		return call_user_embedder(c, fn, payload, m->text, m->len, m->vector);
	if (c->env->opts.embedder == BRAIN_EMBEDDER_NONE)
		return brain__err(BRAIN_ENOEMBEDDER,
		                  "brain was opened without an embedder: pass a vector or install "
		                  "one with brain_set_embedder()");
	return embed_builtin(c, m);
}

static int on_EMBED_EPOCH(cortex *c, brain_msg_embed_epoch *m)
{
	pthread_rwlock_rdlock(&c->lock);
	m->epoch = c->epoch;
	pthread_rwlock_unlock(&c->lock);
	return BRAIN_OK;
}

static int on_LEARN(cortex *c, brain_msg_learn *m)
{
	/* Document frequencies serve the built-in embedder only. */
	pthread_rwlock_rdlock(&c->lock);
	bool builtin = !c->user_fn && c->env->opts.embedder == BRAIN_EMBEDDER_BUILTIN;
	pthread_rwlock_unlock(&c->lock);
	if (m->delta == 0) {
		m->prepared = NULL;
		m->nfeatures = 0;
	}
	if (!builtin)
		return BRAIN_OK;
	const uint64_t *keys = m->features;
	size_t n = m->nfeatures;
	uint64_t *own = NULL;
	if (!keys) {
		feature *f = NULL;
		int rc = text_features(c, m->text, m->len, &f, &n);
		if (rc)
			return rc;
		own = (uint64_t *)(void *)f;
		for (size_t i = 0; i < n; i++)
			own[i] = f[i].key;
		keys = own;
		if (m->delta == 0) {
			m->prepared = own;
			m->nfeatures = n;
			return BRAIN_OK;
		}
	}
	int rc = BRAIN_OK;
	pthread_rwlock_wrlock(&c->lock);
	if (m->delta > 0) {
		/* Room for every feature first: then counting cannot fail halfway. */
		rc = brain__map_reserve(&c->df, brain__map_count(&c->df) + n);
		for (size_t i = 0; rc == BRAIN_OK && i < n; i++) {
			uint32_t *v = NULL;
			brain__map_upsert(&c->df, keys[i], &v, NULL);
			(*v)++;
		}
		if (rc == BRAIN_OK)
			c->ndocs++;
	} else {
		for (size_t i = 0; i < n; i++) {
			uint32_t *v = NULL;
			if (!brain__map_get(&c->df, keys[i], NULL))
				continue;
			brain__map_upsert(&c->df, keys[i], &v, NULL); /* present: no allocation */
			if (--(*v) == 0)
				brain__map_remove(&c->df, keys[i]);
		}
		if (c->ndocs > 0)
			c->ndocs--;
	}
	pthread_rwlock_unlock(&c->lock);
	brain__free(own);
	return rc;
}

static int on_SET_EMBEDDER(cortex *c, brain_msg_set_embedder *m)
{
	if (m->probe) {
		/* Probe before switching, so a broken embedder is refused whole. */
		static const char probe[] = "braincore embedder probe";
		if (!m->fn)
			return BRAIN_OK;
		float *vec = brain__malloc_array(c->dims, sizeof *vec);
		if (!vec)
			return brain__oom(c->dims * sizeof *vec, "embedder probe");
		int rc = call_user_embedder(c, m->fn, m->payload, probe, sizeof probe - 1, vec);
		brain__free(vec);
		if (rc)
			return brain__err_context(rc, "probe: ");
		return BRAIN_OK;
	}
	pthread_rwlock_wrlock(&c->lock);
	c->user_fn = m->fn;
	c->user_payload = m->payload;
	c->epoch++;
	pthread_rwlock_unlock(&c->lock);
	return BRAIN_OK;
}

static int on_SET_GENERATOR(cortex *c, brain_msg_set_generator *m)
{
	pthread_mutex_lock(&c->gen_lock);
	c->gen_fn = m->fn;
	c->gen_payload = m->payload;
	pthread_mutex_unlock(&c->gen_lock);
	return BRAIN_OK;
}

/* ---- thinking ----------------------------------------------------------- */

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

static int on_THINK_QUERY(cortex *c, brain_msg_think_query *m)
{
	brain_msg_embed e = {.text = m->input, .len = m->len, .purpose = BRAIN_EMBED_QUERY,
	                     .vector = m->own};
	int rc = on_EMBED(c, &e);
	if (rc)
		return rc;
	m->epoch = e.epoch;
	float weight = (float)brain__param(c->env, BRAIN_PIDX_THINK_CONTEXT_WEIGHT) / 1000.0f;
	m->has_context = weight > 0 && refers_back(c, m->input, m->len) &&
	                 blend_context(c, m->own, m->context, weight);
	return BRAIN_OK;
}

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

static const char *strength(float score)
{
	return score >= 0.5f ? "strong" : score >= 0.3f ? "good" : "weak";
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
			          strength(s));
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

static int on_COMPOSE(cortex *c, brain_msg_compose *m)
{
	pthread_mutex_lock(&c->gen_lock);
	brain_generate_fn fn = c->gen_fn;
	void *payload = c->gen_payload;
	pthread_mutex_unlock(&c->gen_lock);
	m->answer = NULL;
	m->answer_len = 0;
	return fn ? compose_generated(c, m, fn, payload) : compose_builtin(c, m);
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

static int on_WORKING_ADD(cortex *c, brain_msg_working_add *m)
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

/* ---- persistence --------------------------------------------------------- */

/* The document frequencies: ndocs, the table's capacity and count, then
 * its cells as they are (adopted in place on open). */
static int save(void *state, brain_image_writer *w)
{
	cortex *c = state;
	pthread_rwlock_rdlock(&c->lock);
	uint64_t head[3] = {c->ndocs, c->df.cells ? c->df.mask + 1 : 0, c->df.count};
	int rc = brain__imgw_section_begin(w, BRAIN_SECTION_CORTEX_DF);
	if (rc == BRAIN_OK)
		rc = brain__imgw_write(w, head, sizeof head);
	if (rc == BRAIN_OK && c->df.cells)
		rc = brain__imgw_write(w, c->df.cells, (c->df.mask + 1) * sizeof *c->df.cells);
	if (rc == BRAIN_OK)
		rc = brain__imgw_section_end(w);
	pthread_rwlock_unlock(&c->lock);
	return rc;
}

static int load(cortex *c, brain_image *img)
{
	void *data;
	size_t len;
	if (!brain__image_section(img, BRAIN_SECTION_CORTEX_DF, &data, &len))
		return brain__err(BRAIN_ECORRUPT, "%s: the embedder's statistics are missing",
		                  brain__image_name(img));
	int rc = brain__image_verify(img, BRAIN_SECTION_CORTEX_DF, 0, len);
	if (rc)
		return rc;
	uint64_t head[3];
	if (len < sizeof head)
		return brain__err(BRAIN_ECORRUPT, "%s: the embedder's statistics are too short",
		                  brain__image_name(img));
	memcpy(head, data, sizeof head);
	c->ndocs = head[0];
	if (head[1] == 0)
		return head[2] == 0 ? BRAIN_OK
		                    : brain__err(BRAIN_ECORRUPT, "%s: the embedder's statistics are "
		                                 "empty but count %llu words", brain__image_name(img),
		                                 (unsigned long long)head[2]);
	if (head[1] > (len - sizeof head) / sizeof(brain_map_cell))
		return brain__err(BRAIN_ECORRUPT, "%s: the embedder's statistics are larger than "
		                  "their section", brain__image_name(img));
	brain_map_cell *cells = (brain_map_cell *)(void *)((unsigned char *)data + sizeof head);
	rc = brain__map_adopt(&c->df, cells, (size_t)head[1], (size_t)head[2]);
	if (rc)
		return brain__err_context(rc, "embedder statistics: ");
	brain__image_ref(img);
	c->image = img;
	return BRAIN_OK;
}

BRAIN_ORGAN_HANDLERS(CORTEX, handlers);

const brain_organ brain__organ_cortex = {
	.name = "cortex",
	.id = BRAIN_ORGAN_CORTEX,
	.create = create,
	.destroy = destroy,
	.handlers = handlers,
	.save = save,
};
