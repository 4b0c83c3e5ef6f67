/*
 * tests/test_words.c - keyword and hybrid recall through the public API:
 * BM25 against a brute-force reference over the same words, phrases,
 * filters, forgets and compaction, the log and checkpoints, and hybrid
 * fusion against its definition.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "braincore.h"
#include "test_util.h"

#define N_DOCS 1500
#define VOCAB 120
#define MAXW 24

typedef struct doc {
	uint64_t id;
	bool live;
	int n;
	int w[MAXW]; /* word numbers */
	char text[MAXW * 8];
	int kind;
} doc;

static void word(int i, char *out)
{
	/* lower-case ASCII words the Pancreas keeps as they are */
	static const char *syll[] = {"ka", "lo", "mi", "ne", "su", "ta", "vo", "zu", "ri", "pe",
	                             "do", "fa"};
	snprintf(out, 8, "%s%s", syll[i % 12], syll[(i / 12) % 12]);
}

/* Zipf-ish: small numbers more often. */
static int pick(test_rng *r)
{
	double u = test_rng_unit(r);
	return (int)(VOCAB * u * u) % VOCAB;
}

static void make_doc(doc *d, test_rng *r)
{
	d->n = 1 + (int)(test_rng_next(r) % MAXW);
	size_t at = 0;
	for (int i = 0; i < d->n; i++) {
		d->w[i] = pick(r);
		char wd[8];
		word(d->w[i], wd);
		at += (size_t)snprintf(d->text + at, sizeof d->text - at, "%s%s", i ? " " : "", wd);
	}
	d->kind = (int)(test_rng_next(r) % 3);
}

/* BM25 as FTS5 computes it, over the test's own words. */
static double ref_score(const doc *docs, size_t n, const doc *d, const int *q, int nq)
{
	size_t N = 0, total = 0;
	for (size_t i = 0; i < n; i++)
		if (docs[i].live) {
			N++;
			total += (size_t)docs[i].n;
		}
	double avgdl = (double)total / (double)N, s = 0;
	for (int t = 0; t < nq; t++) {
		size_t df = 0;
		for (size_t i = 0; i < n; i++) {
			if (!docs[i].live)
				continue;
			bool has = false;
			for (int j = 0; j < docs[i].n && !has; j++)
				has = docs[i].w[j] == q[t];
			df += has;
		}
		double tf = 0;
		for (int j = 0; j < d->n; j++)
			tf += d->w[j] == q[t];
		if (tf == 0)
			continue;
		double idf = log(((double)N - (double)df + 0.5) / ((double)df + 0.5));
		if (idf <= 0)
			idf = 1e-6;
		s += idf * ((tf * 2.2) / (tf + 1.2 * (1 - 0.75 + 0.75 * (double)d->n / avgdl)));
	}
	return s;
}

static brain_t *text_brain(const char *dir)
{
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.dimensions = 64;
	o.background = BRAIN_BACKGROUND_MANUAL;
	brain_t *b = NULL;
	assert_int_equal(brain_open(dir, &o, &b), 0);
	return b;
}

static void check_keyword(brain_t *b, const doc *docs, size_t n, test_rng *r, int rounds,
                          bool with_filter)
{
	for (int t = 0; t < rounds; t++) {
		int q[3], nq = 1 + (int)(test_rng_next(r) % 3);
		char text[64] = "";
		size_t at = 0;
		for (int i = 0; i < nq; i++) {
			q[i] = pick(r);
			char wd[8];
			word(q[i], wd);
			at += (size_t)snprintf(text + at, sizeof text - at, "%s%s", i ? " " : "", wd);
		}
		int kind = (int)(test_rng_next(r) % 3);
		brain_filter *f = with_filter ? brain_filter_int("kind", BRAIN_FILTER_EQ, kind) : NULL;
		brain_results *res = NULL;
		assert_int_equal(brain_recall_mode(b, text, 10, BRAIN_KEYWORD, f, &res), 0);
		/* the reference: every live document holding a query word */
		typedef struct {
			uint64_t id;
			double s;
		} cand;
		cand best[N_DOCS];
		size_t nb = 0;
		for (size_t i = 0; i < n; i++) {
			if (!docs[i].live || (f && docs[i].kind != kind))
				continue;
			double s = ref_score(docs, n, &docs[i], q, nq);
			if (s > 0)
				best[nb++] = (cand){docs[i].id, s};
		}
		/* order: score, then the smaller id (ids rise with slots here) */
		for (size_t i = 1; i < nb; i++)
			for (size_t j = i; j > 0 && (best[j].s > best[j - 1].s ||
			                             (best[j].s == best[j - 1].s && best[j].id < best[j - 1].id));
			     j--) {
				cand x = best[j];
				best[j] = best[j - 1];
				best[j - 1] = x;
			}
		size_t want = TEST_MIN(nb, (size_t)10);
		assert_int_equal(brain_results_count(res), want);
		for (size_t i = 0; i < want; i++) {
			double got = (double)brain_results_score(res, i);
			if (fabs(got - best[i].s) > 1e-4 * fabs(best[i].s) + 1e-6)
				fail_msg("'%s' #%zu: score %g, the reference %g", text, i, got, best[i].s);
			/* the same memory, unless two scores tie within float */
			if (brain_results_id(res, i) != best[i].id &&
			    fabs(best[i].s - (double)brain_results_score(res, i)) > 1e-5)
				fail_msg("'%s' #%zu: memory %llu, the reference %llu", text, i,
				         (unsigned long long)brain_results_id(res, i),
				         (unsigned long long)best[i].id);
		}
		brain_results_free(res);
		brain_filter_free(f);
	}
}

static doc *fill(brain_t *b, test_rng *r)
{
	doc *docs = calloc(N_DOCS, sizeof *docs);
	assert_non_null(docs);
	for (size_t i = 0; i < N_DOCS; i++) {
		make_doc(&docs[i], r);
		char json[32];
		snprintf(json, sizeof json, "{\"kind\":%d}", docs[i].kind);
		assert_int_equal(brain_remember_with(b, docs[i].text, 0.5f, json, &docs[i].id), 0);
		docs[i].live = true;
	}
	return docs;
}

static void churn(brain_t *b, doc *docs, test_rng *r)
{
	for (size_t i = 0; i < N_DOCS; i++)
		if (test_rng_next(r) % 4 == 0) {
			assert_int_equal(brain_forget(b, docs[i].id), 0);
			docs[i].live = false;
		}
}

static void keyword_matches_bm25(void **state)
{
	(void)state;
	test_rng r = {3};
	brain_t *b = text_brain(NULL);
	doc *docs = fill(b, &r);
	check_keyword(b, docs, N_DOCS, &r, 150, false);
	check_keyword(b, docs, N_DOCS, &r, 80, true);
	churn(b, docs, &r);
	/* compaction moves memories (and their words) into the freed slots */
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_COMPACT_FREE, 1), 0);
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_CIRCADIAN_MS, 0), 0);
	for (int i = 0; i < 4; i++)
		brain_tick(b);
	check_keyword(b, docs, N_DOCS, &r, 150, false);
	brain_destroy(b);
	free(docs);
}

static void keyword_survives_reopen(void **state)
{
	(void)state;
	char dir[] = "/tmp/braincore-words-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[64];
	snprintf(path, sizeof path, "%s/b", dir);
	test_rng r = {4};
	brain_t *b = text_brain(path);
	doc *docs = fill(b, &r);
	churn(b, docs, &r);
	assert_int_equal(brain_close(b), 0); /* the log */
	b = text_brain(path);
	check_keyword(b, docs, N_DOCS, &r, 60, false);
	assert_int_equal(brain_checkpoint(b), 0);
	assert_int_equal(brain_close(b), 0); /* the checkpoint's section */
	b = text_brain(path);
	check_keyword(b, docs, N_DOCS, &r, 60, true);
	brain_destroy(b);
	free(docs);
	assert_int_equal(test_remove_tree(dir), 0);
}

static void phrases_and_hybrid(void **state)
{
	(void)state;
	brain_t *b = brain_create();
	assert_non_null(b);
	static const char *texts[] = {
		"The quick brown fox jumps over the lazy dog.",
		"A brown and quick fox was seen.",
		"Quick! Brown paint on the fox statue.",
		"Order XK-42 shipped to Lisbon on Monday.",
		"Order XK-43 was cancelled.",
		"The parcel left the warehouse for Portugal.",
	};
	uint64_t id[6];
	for (int i = 0; i < 6; i++)
		assert_int_equal(brain_remember_with(b, texts[i], 0.5f, NULL, &id[i]), 0);
	brain_results *r = NULL;
	/* the phrase, as such: only the first (case and punctuation folded) */
	assert_int_equal(brain_recall_mode(b, "\"QUICK brown\" fox", 5, BRAIN_KEYWORD, NULL, &r), 0);
	assert_int_equal(brain_results_count(r), 2);
	assert_true(brain_results_id(r, 0) == id[0] || brain_results_id(r, 1) == id[0]);
	assert_true(brain_results_id(r, 0) == id[2] || brain_results_id(r, 1) == id[2]);
	brain_results_free(r);
	assert_int_equal(brain_recall_mode(b, "\"brown fox\"", 5, BRAIN_KEYWORD, NULL, &r), 0);
	assert_int_equal(brain_results_count(r), 1);
	assert_int_equal(brain_results_id(r, 0), id[0]);
	brain_results_free(r);
	/* a phrase with other words: the phrase is required, the others rank */
	assert_int_equal(brain_recall_mode(b, "\"brown fox\" harbour", 5, BRAIN_KEYWORD, NULL, &r), 0);
	assert_int_equal(brain_results_count(r), 1);
	assert_int_equal(brain_results_id(r, 0), id[0]);
	brain_results_free(r);
	/* an exact identifier: keyword finds it first */
	assert_int_equal(brain_recall_mode(b, "xk 42", 3, BRAIN_KEYWORD, NULL, &r), 0);
	assert_true(brain_results_count(r) >= 1);
	assert_int_equal(brain_results_id(r, 0), id[3]);
	brain_results_free(r);
	/* words no memory has: nothing, not an error */
	assert_int_equal(brain_recall_mode(b, "zebra", 3, BRAIN_KEYWORD, NULL, &r), 0);
	assert_int_equal(brain_results_count(r), 0);
	brain_results_free(r);
	/* hybrid: the fused score of each result is its definition's */
	brain_results *kw = NULL, *sem = NULL, *hy = NULL;
	const char *q = "order shipped to Portugal";
	assert_int_equal(brain_recall_mode(b, q, 6, BRAIN_KEYWORD, NULL, &kw), 0);
	assert_int_equal(brain_recall_mode(b, q, 6, BRAIN_SEMANTIC, NULL, &sem), 0);
	assert_int_equal(brain_recall_mode(b, q, 6, BRAIN_HYBRID, NULL, &hy), 0);
	assert_true(brain_results_count(hy) >= brain_results_count(kw));
	for (size_t i = 0; i < brain_results_count(hy); i++) {
		double want = 0;
		for (size_t j = 0; j < brain_results_count(kw); j++)
			if (brain_results_id(kw, j) == brain_results_id(hy, i))
				want += 0.5 / (60.0 + (double)(j + 1));
		for (size_t j = 0; j < brain_results_count(sem); j++)
			if (brain_results_id(sem, j) == brain_results_id(hy, i))
				want += 0.5 / (60.0 + (double)(j + 1));
		assert_true(fabs((double)brain_results_score(hy, i) - want) < 1e-6);
		if (i)
			assert_true(brain_results_score(hy, i) <= brain_results_score(hy, i - 1));
	}
	brain_results_free(kw);
	brain_results_free(sem);
	brain_results_free(hy);
	assert_int_equal(brain_recall_mode(b, q, 3, 7, NULL, &r), BRAIN_ERANGE);
	assert_null(r);
	brain_destroy(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(phrases_and_hybrid),
		cmocka_unit_test(keyword_matches_bm25),
		cmocka_unit_test(keyword_survives_reopen),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
