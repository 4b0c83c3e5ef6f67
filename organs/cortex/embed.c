/*
 * organs/cortex/embed.c - the Cortex's embedding: the built-in embedder,
 * its features and document frequencies (EMBED, LEARN), and user
 * embedders (SET_EMBEDDER, EMBED_EPOCH).
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
 * The semantic lift. A brain made with the word table (lift.h) gives its
 * last 100 dimensions (the table's) to the sum of its words' vectors, and
 * hashes the lexical features into the dimensions before them:
 *
 *   memory: [ sqrt(A) lexical ; sqrt(1 - A) lift ]   each part unit length
 *   query:  [ sqrt(A) s^G lexical ; sqrt(1 - A) lift ]   then unit length
 *
 * so that a cosine is A times the lexical cosine plus (1 - A) times the
 * words' (for a query, up to the factor s^G). A memory's word vectors are
 * summed as the table has them (their SIF weights are in the table), a
 * query's multiplied by their IDF in the brain; a text with no word in the
 * table has the lexical part alone. s is the share of the query's word
 * weight (tf * idf) in words some memory has: lexical features can only
 * match through those, so a question in words the brain has never seen
 * leans on the lift. A memory's vector is still a function of its text
 * (and the table) alone. A, G and the table's contents were chosen on the
 * development splits (docs/embedder.md).
 */
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "organs/cortex/cortex_internal.h"
#include "organs/cortex/lift.h"
#include "organs/cortex/model.h"
#include "index/distance.h"

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

/* The lift: the lexical features' share A of a cosine, and the power G of
 * the seen share of a query's words (see the top of this file). */
#define LIFT_LEXICAL_SHARE 0.6f
#define LIFT_SEEN_POWER 2

typedef struct feature {
	uint64_t key;
	float weight; /* class weight, then the final weight */
	uint32_t tf;
	int32_t row;   /* a word's row in the lift's table, else -1 */
	uint32_t word; /* 1 for a word, 0 for a pair or a gram */
} feature;

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
 * one is appended to `order` (cell numbers in order of first appearance).
 * Returns its cell. */
static inline feature *add_feature(feature *table, size_t mask, uint32_t *order, size_t *m,
                                   uint64_t key, float weight)
{
	size_t i = (size_t)brain__mix64(key) & mask;
	while (table[i].tf && table[i].key != key)
		i = (i + 1) & mask;
	if (table[i].tf++ == 0) {
		table[i].key = key;
		table[i].weight = weight;
		table[i].row = -1;
		table[i].word = 0;
		order[(*m)++] = (uint32_t)i;
	}
	return &table[i];
}

/* The distinct features of an analysed text with their class weight and
 * count, in order of first appearance, and (lift not NULL) each word's row
 * in the lift's table. Counted in a small open-addressing
 * table, which costs a fraction of sorting. One block holds the table, the
 * list of the cells in use and, at the end, the result moved to its front;
 * *out is that block, brain__malloc'ed (NULL when the text has none). */
static int features_of(const brain_analysis *a, const brain_lift *lift, feature **out,
                       size_t *n_out)
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
		const brain_word_span *w = &a->words[i];
		feature *word = add_feature(f, mask, order, &m,
		                            feature_key(a->text + w->off, w->len,
		                                        g_class_seed[CLASS_WORD]),
		                            g_class_weight[CLASS_WORD]);
		if (word->tf == 1) {
			word->word = 1;
			if (lift)
				word->row = brain__lift_find(lift, a->text + w->off, w->len);
		}
		if (i + 1 < a->nwords) {
			/* "w1 w2" is contiguous in the normalised text */
			const brain_word_span *w2 = &a->words[i + 1];
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

/* The distinct features of a text (with their rows in the lift's table, if
 * lift is not NULL), and (terms not NULL) its keyword terms. */
static int text_features(cortex *c, const char *text, size_t len, const brain_lift *lift,
                         feature **f, size_t *n, uint64_t **terms, size_t *nterms)
{
	brain_analysis a;
	brain__analysis_init(&a);
	int rc = analyze(c, text, len, &a);
	if (rc == BRAIN_OK)
		rc = features_of(&a, lift, f, n);
	if (rc == BRAIN_OK && terms) {
		rc = brain__analysis_terms(&a, terms);
		if (rc == BRAIN_OK)
			*nterms = a.nwords;
		else
			brain__free(*f);
	}
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

/* Put the lexical part (vec[0 .. lexdims), unit length) and the lift's
 * (vec[lexdims .. dims), the sum of the words' vectors) together, as the
 * top of this file says; `seen` is the query's s (1 for a memory). */
static void combine(cortex *c, float *vec, uint32_t lexdims, float seen)
{
	float *lift = vec + lexdims;
	uint32_t ldims = c->dims - lexdims;
	if (brain__normalize(lift, ldims) == 0.0f) {
		brain__normalize(vec, c->dims); /* no word in the table: lexical alone */
		return;
	}
	float lex = sqrtf(LIFT_LEXICAL_SHARE), sem = sqrtf(1.0f - LIFT_LEXICAL_SHARE);
	for (int i = 0; i < LIFT_SEEN_POWER; i++)
		lex *= seen;
	for (uint32_t d = 0; d < lexdims; d++)
		vec[d] *= lex;
	for (uint32_t d = 0; d < ldims; d++)
		lift[d] *= sem;
	brain__normalize(vec, c->dims);
}

static int embed_builtin(cortex *c, brain_msg_embed *m)
{
	feature *f = NULL;
	size_t n = 0;
	float *vec = m->vector;
	const brain_lift *lift = c->lift;
	/* the lift's dimensions come last; the lexical features hash into the rest */
	uint32_t lexdims = lift ? c->dims - brain__lift_dims(lift) : c->dims;
	bool query = m->purpose == BRAIN_EMBED_QUERY;
	int rc = text_features(c, m->text, m->len, lift, &f, &n,
	                       m->want_features ? &m->terms : NULL, &m->nterms);
	if (rc)
		return rc;
	if (n == 0) {
		brain__free(f);
		brain__free(m->terms);
		m->terms = NULL;
		m->nterms = 0;
		return brain__err(BRAIN_EEMPTY, "text has no words or numbers to index");
	}
	pthread_once(&g_log_once, log_table_init);
	memset(vec, 0, c->dims * sizeof *vec);
	pthread_rwlock_rdlock(&c->lock);
	/* idf = ln((N + 1) / (df + 1)) + 1 = ln(N + 1) - ln(df + 1) + 1 */
	float idf_base = logf((float)c->ndocs + 1.0f) + 1.0f;
	float words_seen = 0.0f, words_all = 0.0f; /* a query's word weight (the lift's s) */
	for (size_t i = 0; i < n; i++) {
		float w = f[i].weight * (1.0f + log1p_u32(f[i].tf - 1));
		float idf = 1.0f;
		if (query) {
			uint32_t df = 0;
			if (brain__map32_get(&c->df, brain__cortex_df_key(f[i].key), &df)) {
				idf = idf_base - log1p_u32(df);
				w *= idf;
				words_seen += f[i].word ? (float)f[i].tf * idf : 0.0f;
			} else {
				idf = idf_base;
				w *= idf_base * UNSEEN_QUERY_WEIGHT;
			}
			words_all += f[i].word ? (float)f[i].tf * idf : 0.0f;
		}
		f[i].weight = w;
		vec[dim_of(f[i].key, lexdims)] += (f[i].key & 1) ? -w : w;
		if (f[i].row >= 0)
			brain__lift_add(lift, (uint32_t)f[i].row, (float)f[i].tf * idf, vec + lexdims);
	}
	pthread_rwlock_unlock(&c->lock);
	if (brain__normalize(vec, lexdims) == 0.0f) {
		/* Every feature cancelled another out in its dimension (a word of
		 * one character has two features: at 1 in (2 * dims) texts they
		 * collide with opposite signs). Without the signs the sum cannot
		 * cancel, and the vector is still a function of the text alone. */
		for (size_t i = 0; i < n; i++)
			vec[dim_of(f[i].key, lexdims)] += f[i].weight;
		brain__normalize(vec, lexdims);
	}
	if (lift)
		combine(c, vec, lexdims, query && words_all > 0.0f ? words_seen / words_all : 1.0f);
	if (m->want_features) {
		/* the keys, in place of the features (8 of 24 bytes each) */
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

int brain__cortex_EMBED(cortex *c, brain_msg_embed *m)
{
	m->features = NULL;
	m->nfeatures = 0;
	m->terms = NULL;
	m->nterms = 0;
	pthread_rwlock_rdlock(&c->lock);
	brain_embed_fn fn = c->user_fn;
	void *payload = c->user_payload;
	m->epoch = c->epoch;
	pthread_rwlock_unlock(&c->lock);
	if (fn)
		return call_user_embedder(c, fn, payload, m->text, m->len, m->vector);
	if (c->env->opts.embedder == BRAIN_EMBEDDER_MODEL && !c->env->model)
		return brain__err(BRAIN_ENOEMBEDDER, "the brain's model is not loaded: open it with "
		                  "brain_options.model_path to embed text");
	if (c->env->opts.embedder == BRAIN_EMBEDDER_MODEL)
		return brain__model_embed(c->env->model, m->text, m->len, m->vector);
	if (c->env->opts.embedder == BRAIN_EMBEDDER_NONE)
		return brain__err(BRAIN_ENOEMBEDDER,
		                  "brain was opened without an embedder: pass a vector or install "
		                  "one with brain_set_embedder()");
	return embed_builtin(c, m);
}

int brain__cortex_EMBED_EPOCH(cortex *c, brain_msg_embed_epoch *m)
{
	pthread_rwlock_rdlock(&c->lock);
	m->epoch = c->epoch;
	m->can_embed = c->user_fn || (c->env->opts.embedder != BRAIN_EMBEDDER_NONE &&
	                               (c->env->opts.embedder != BRAIN_EMBEDDER_MODEL ||
	                                c->env->model));
	pthread_rwlock_unlock(&c->lock);
	return BRAIN_OK;
}

int brain__cortex_LEARN(cortex *c, brain_msg_learn *m)
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
		int rc = text_features(c, m->text, m->len, NULL, &f, &n, NULL, NULL);
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
		rc = brain__map32_reserve(&c->df, brain__map32_count(&c->df) + n);
		for (size_t i = 0; rc == BRAIN_OK && i < n; i++) {
			uint32_t *v = NULL;
			brain__map32_upsert(&c->df, brain__cortex_df_key(keys[i]), &v, NULL);
			(*v)++;
		}
		if (rc == BRAIN_OK)
			c->ndocs++;
	} else {
		for (size_t i = 0; i < n; i++) {
			uint32_t *v = NULL, key = brain__cortex_df_key(keys[i]);
			if (!brain__map32_get(&c->df, key, NULL))
				continue;
			brain__map32_upsert(&c->df, key, &v, NULL); /* present: no allocation */
			if (--(*v) == 0)
				brain__map32_remove(&c->df, key);
		}
		if (c->ndocs > 0)
			c->ndocs--;
	}
	pthread_rwlock_unlock(&c->lock);
	brain__free(own);
	return rc;
}

int brain__cortex_SET_EMBEDDER(cortex *c, brain_msg_set_embedder *m)
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
