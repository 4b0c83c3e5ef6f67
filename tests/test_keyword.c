/*
 * tests/test_keyword.c - the keyword index (index/keyword.c) against BM25
 * computed here by brute force from the documents' own terms: a hand
 * example, a random corpus under churn (removes, moves, re-adds), save and
 * load (round trip, truncations, flipped bytes, hand-made defects), and
 * allocation failures.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "index/keyword.h"
#include "test_alloc.h"
#include "test_util.h"

/* ---- a growable byte buffer for save ------------------------------------ */

typedef struct buf {
	unsigned char *p;
	size_t n, cap;
	long writes_left; /* < 0: no limit; else fail after this many writes */
} buf;

static int buf_write(void *ctx, const void *p, size_t n)
{
	buf *b = ctx;
	if (b->writes_left == 0)
		return BRAIN_EIO;
	if (b->writes_left > 0)
		b->writes_left--;
	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		while (cap < b->n + n)
			cap *= 2;
		b->p = realloc(b->p, cap);
		assert_non_null(b->p);
		b->cap = cap;
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
	return 0;
}

static buf save_of(const brain_keyword *k)
{
	buf b = {NULL, 0, 0, -1};
	if (brain__kw_save(k, buf_write, &b) != 0)
		fail_msg("save: %s", brain_errmsg());
	return b;
}

/* ---- the reference: BM25 from each document's own terms ----------------- */

#define MAX_SLOTS 3000

typedef struct ref_doc {
	bool live;
	uint32_t n;
	uint64_t *terms;
} ref_doc;

static ref_doc ref[MAX_SLOTS];

static void ref_clear(void)
{
	for (size_t s = 0; s < MAX_SLOTS; s++)
		free(ref[s].terms);
	memset(ref, 0, sizeof ref);
}

static void ref_add(uint32_t slot, const uint64_t *t, uint32_t n)
{
	assert_false(ref[slot].live);
	ref[slot].live = true;
	ref[slot].n = n;
	ref[slot].terms = malloc((n ? n : 1) * sizeof *t);
	assert_non_null(ref[slot].terms);
	if (n)
		memcpy(ref[slot].terms, t, n * sizeof *t);
}

static void ref_remove(uint32_t slot)
{
	free(ref[slot].terms);
	memset(&ref[slot], 0, sizeof ref[slot]);
}

static void ref_move(uint32_t from, uint32_t to)
{
	assert_true(ref[from].live);
	assert_false(ref[to].live);
	ref[to] = ref[from];
	memset(&ref[from], 0, sizeof ref[from]);
}

static uint32_t ref_tf(const ref_doc *d, uint64_t t)
{
	uint32_t tf = 0;
	for (uint32_t i = 0; i < d->n; i++)
		tf += d->terms[i] == t;
	return tf;
}

/* The scores of every slot for a query (0: holds no query term), and per
 * slot how many distinct query terms it holds. */
static void ref_scores(const uint64_t *q, size_t nq, double *score, uint32_t *hits)
{
	double n_docs = 0, total = 0;
	for (size_t s = 0; s < MAX_SLOTS; s++)
		if (ref[s].live) {
			n_docs++;
			total += ref[s].n;
		}
	double avgdl = total / n_docs;
	double idf[8];
	for (size_t i = 0; i < nq; i++) {
		double df = 0;
		for (size_t s = 0; s < MAX_SLOTS; s++)
			df += ref[s].live && ref_tf(&ref[s], q[i]) > 0;
		idf[i] = log((n_docs - df + 0.5) / (df + 0.5));
		if (idf[i] <= 0.0)
			idf[i] = 1e-6;
	}
	for (size_t s = 0; s < MAX_SLOTS; s++) {
		score[s] = 0.0;
		hits[s] = 0;
		if (!ref[s].live)
			continue;
		for (size_t i = 0; i < nq; i++) {
			double tf = ref_tf(&ref[s], q[i]);
			if (tf == 0)
				continue;
			score[s] += idf[i] * ((tf * (1.2 + 1.0)) /
			                      (tf + 1.2 * (1.0 - 0.75 + 0.75 * ref[s].n / avgdl)));
			bool first = true;
			for (size_t j = 0; j < i; j++)
				first &= q[j] != q[i];
			hits[s] += first;
		}
	}
}

static size_t distinct_of(const uint64_t *q, size_t nq)
{
	size_t d = 0;
	for (size_t i = 0; i < nq; i++) {
		bool first = true;
		for (size_t j = 0; j < i; j++)
			first &= q[j] != q[i];
		d += first;
	}
	return d;
}

static bool accept_mod3(uint32_t slot, void *payload)
{
	(*(long *)payload)++;
	return slot % 3 != 0;
}

/* The reference's top `topk`, best first, ties by the smaller slot. */
static size_t ref_top(const double *score, const uint32_t *hits, size_t need, bool mod3,
                      size_t topk, uint32_t *slots, double *scores)
{
	size_t n = 0;
	for (uint32_t s = 0; s < MAX_SLOTS; s++) {
		if (hits[s] == 0 || hits[s] < need || (mod3 && s % 3 == 0))
			continue;
		/* insertion into the sorted list, cut at topk */
		size_t at = n;
		while (at > 0 && (scores[at - 1] < score[s]))
			at--;
		if (at >= topk)
			continue;
		size_t last = n < topk ? n : topk - 1;
		for (size_t j = last; j > at; j--) {
			slots[j] = slots[j - 1];
			scores[j] = scores[j - 1];
		}
		slots[at] = s;
		scores[at] = score[s];
		if (n < topk)
			n++;
	}
	return n;
}

/* The search against the reference for one query: plain, require_all,
 * with a filter; topk 10 and everything. */
static void check_query(const brain_keyword *k, const uint64_t *q, size_t nq)
{
	static double score[MAX_SLOTS];
	static uint32_t hits[MAX_SLOTS];
	ref_scores(q, nq, score, hits);
	size_t distinct = distinct_of(q, nq);
	static uint32_t want_slots[MAX_SLOTS], got_slots[MAX_SLOTS];
	static double want_scores[MAX_SLOTS];
	static float got_scores[MAX_SLOTS];
	for (int variant = 0; variant < 6; variant++) {
		bool all = variant & 1, mod3 = variant & 2;
		size_t topk = variant & 4 ? MAX_SLOTS : 10;
		size_t want = ref_top(score, hits, all ? distinct : 1, mod3, topk, want_slots,
		                      want_scores);
		long calls = 0;
		size_t found = 99;
		int rc = brain__kw_search(k, q, nq, topk, all, mod3 ? accept_mod3 : NULL, &calls,
		                          got_slots, got_scores, &found);
		if (rc)
			fail_msg("search: %s", brain_errmsg());
		if (found != want)
			fail_msg("variant %d of a %zu-term query: found %zu, the reference %zu", variant,
			         nq, found, want);
		for (size_t i = 0; i < found; i++) {
			if (got_slots[i] != want_slots[i])
				fail_msg("variant %d, rank %zu: slot %u (%.9g), the reference slot %u (%.9g)",
				         variant, i, got_slots[i], got_scores[i], want_slots[i],
				         want_scores[i]);
			double rel = fabs(got_scores[i] - want_scores[i]) / want_scores[i];
			if (!(rel <= 1e-4) || !(got_scores[i] > 0))
				fail_msg("variant %d, rank %zu: score %.9g, the reference %.9g", variant, i,
				         got_scores[i], want_scores[i]);
			/* the search's score is kw_score's, rounded to float */
			float exact = (float)brain__kw_score(k, got_slots[i], q, nq);
			if (exact != got_scores[i])
				fail_msg("rank %zu: search %.9g, score %.9g", i, got_scores[i], exact);
		}
		if (mod3 && topk == MAX_SLOTS)
			assert_true(calls >= (long)found);
	}
}

/* ---- a random corpus ----------------------------------------------------- */

#define VOCAB 500

static uint64_t vocab[VOCAB];
static double zipf_cdf[VOCAB];

static void vocab_init(test_rng *rng)
{
	double sum = 0;
	for (size_t r = 0; r < VOCAB; r++) {
		vocab[r] = test_rng_next(rng);
		sum += 1.0 / (double)(r + 1);
		zipf_cdf[r] = sum;
	}
	for (size_t r = 0; r < VOCAB; r++)
		zipf_cdf[r] /= sum;
	/* the map's reserved key is a term like any other */
	vocab[7] = UINT64_MAX;
	vocab[300] = 0;
}

static uint64_t zipf_term(test_rng *rng)
{
	double u = test_rng_unit(rng);
	size_t lo = 0, hi = VOCAB - 1;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (zipf_cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return vocab[lo];
}

static uint32_t random_doc(test_rng *rng, uint64_t *t)
{
	uint32_t n = 1 + (uint32_t)(test_rng_next(rng) % 40);
	for (uint32_t i = 0; i < n; i++)
		t[i] = zipf_term(rng);
	return n;
}

static size_t random_query(test_rng *rng, uint64_t *q)
{
	size_t nq = 1 + (size_t)(test_rng_next(rng) % 5);
	for (size_t i = 0; i < nq; i++) {
		uint64_t r = test_rng_next(rng) % 10;
		if (r < 5)
			q[i] = zipf_term(rng);
		else if (r < 8)
			q[i] = vocab[test_rng_next(rng) % VOCAB];
		else if (r < 9 && i > 0)
			q[i] = q[test_rng_next(rng) % i]; /* a repeat */
		else
			q[i] = test_rng_next(rng); /* in no document */
	}
	return nq;
}

static void add_both(brain_keyword *k, uint32_t slot, const uint64_t *t, uint32_t n)
{
	if (brain__kw_add(k, slot, t, n))
		fail_msg("add %u: %s", slot, brain_errmsg());
	ref_add(slot, t, n);
}

static void check_corpus(const brain_keyword *k, test_rng *rng, int queries)
{
	uint64_t live = 0;
	for (uint32_t s = 0; s < MAX_SLOTS; s++) {
		live += ref[s].live;
		assert_int_equal(brain__kw_has(k, s), ref[s].live);
	}
	assert_int_equal(brain__kw_docs(k), live);
	uint64_t q[8];
	for (int i = 0; i < queries; i++) {
		size_t nq = random_query(rng, q);
		check_query(k, q, nq);
	}
	/* kw_score for random (document, query) pairs */
	static double score[MAX_SLOTS];
	static uint32_t hits[MAX_SLOTS];
	for (int i = 0; i < 40; i++) {
		size_t nq = random_query(rng, q);
		ref_scores(q, nq, score, hits);
		for (int j = 0; j < 25; j++) {
			uint32_t s = (uint32_t)(test_rng_next(rng) % MAX_SLOTS);
			double got = brain__kw_score(k, s, q, nq);
			if (score[s] == 0.0)
				assert_true(got == 0.0);
			else if (!(fabs(got - score[s]) <= 1e-12 * score[s]))
				fail_msg("score of slot %u: %.17g, the reference %.17g", s, got, score[s]);
		}
	}
}

static uint32_t free_slot(test_rng *rng, uint32_t below)
{
	for (;;) {
		uint32_t s = (uint32_t)(test_rng_next(rng) % below);
		if (!ref[s].live)
			return s;
	}
}

static uint32_t live_slot(test_rng *rng)
{
	for (;;) {
		uint32_t s = (uint32_t)(test_rng_next(rng) % MAX_SLOTS);
		if (ref[s].live)
			return s;
	}
}

/* A corpus of `docs` documents in slots 0..docs-1. */
static brain_keyword *build_corpus(test_rng *rng, uint32_t docs)
{
	brain_keyword *k;
	assert_int_equal(brain__kw_new(&k), 0);
	uint64_t t[64];
	for (uint32_t s = 0; s < docs; s++)
		add_both(k, s, t, random_doc(rng, t));
	return k;
}

/* ---- tests --------------------------------------------------------------- */

static double part(double idf, double tf, double len, double avgdl)
{
	return idf * ((tf * 2.2) / (tf + 1.2 * (0.25 + 0.75 * len / avgdl)));
}

static void expect(const brain_keyword *k, const uint64_t *q, size_t nq, bool all, size_t n,
                   const uint32_t *slots, const double *scores)
{
	uint32_t got[8];
	float sc[8];
	size_t found = 99;
	assert_int_equal(brain__kw_search(k, q, nq, 8, all, NULL, NULL, got, sc, &found), 0);
	assert_int_equal(found, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(got[i], slots[i]);
		if (sc[i] != (float)scores[i])
			fail_msg("rank %zu: %.9g, expected %.9g", i, sc[i], scores[i]);
		double s = brain__kw_score(k, slots[i], q, nq);
		if (!(fabs(s - scores[i]) <= 1e-15 * scores[i]))
			fail_msg("score of slot %u: %.17g, expected %.17g", slots[i], s, scores[i]);
	}
}

/* Three documents worked out by the formula. */
static void test_keyword__hand_computed_bm25(void **state)
{
	(void)state;
	enum { A = 11, B = 22, C = 33, D = 44 };
	brain_keyword *k;
	assert_int_equal(brain__kw_new(&k), 0);
	const uint64_t d0[] = {A, B, A}, d1[] = {B, C}, d2[] = {C, C, C, D};
	assert_int_equal(brain__kw_add(k, 0, d0, 3), 0);
	assert_int_equal(brain__kw_add(k, 5, d1, 2), 0);
	assert_int_equal(brain__kw_add(k, 9, d2, 4), 0);
	assert_int_equal(brain__kw_add(k, 9, d2, 4), BRAIN_EEXISTS);
	assert_int_equal(brain__kw_docs(k), 3);
	/* N = 3, avgdl = 9 / 3 */
	double idf1 = log(2.5 / 1.5), idf2 = 1e-6; /* n = 2 of 3: log(1.5 / 2.5) < 0 */
	{
		const uint64_t q[] = {A};
		const uint32_t s[] = {0};
		const double sc[] = {idf1 * 4.4 / 3.2};
		assert_true(fabs(sc[0] - part(idf1, 2, 3, 3)) < 1e-15);
		expect(k, q, 1, false, 1, s, sc);
	}
	{
		const uint64_t q[] = {B};
		const uint32_t s[] = {5, 0};
		const double sc[] = {part(idf2, 1, 2, 3), part(idf2, 1, 3, 3)};
		expect(k, q, 1, false, 2, s, sc);
	}
	{
		/* repeated terms count again; C in d1 and d2, A in d0 */
		const uint64_t q[] = {C, A, C};
		const uint32_t s[] = {0, 9, 5};
		double c9 = part(idf2, 3, 4, 3), c5 = part(idf2, 1, 2, 3);
		const double sc[] = {part(idf1, 2, 3, 3), c9 + c9, c5 + c5};
		expect(k, q, 3, false, 3, s, sc);
		/* nobody holds both */
		expect(k, q, 3, true, 0, s, sc);
	}
	{
		const uint64_t q[] = {D, C, 12345};
		const uint32_t s[] = {9, 5};
		const double sc[] = {part(idf1, 1, 4, 3) + part(idf2, 3, 4, 3), part(idf2, 1, 2, 3)};
		expect(k, q, 3, false, 2, s, sc);
		/* 12345 is in no document: require_all finds nothing */
		expect(k, q, 3, true, 0, s, sc);
		expect(k, q, 2, true, 1, s, sc);
		assert_true(brain__kw_score(k, 0, q, 3) == 0.0);
		assert_true(brain__kw_score(k, 77, q, 3) == 0.0);
	}
	/* an empty document counts in N and in avgdl; a twin of d1 ties with
	 * it and ranks after it (larger slot) */
	assert_int_equal(brain__kw_add(k, 20, NULL, 0), 0);
	assert_int_equal(brain__kw_add(k, 3, d1, 2), 0);
	assert_true(brain__kw_has(k, 20));
	assert_int_equal(brain__kw_docs(k), 5);
	{
		/* N = 5, avgdl = 11 / 5; B in 3 of 5: log(2.5 / 3.5) < 0 */
		const uint64_t q[] = {B};
		double avg = 11.0 / 5;
		const uint32_t s[] = {3, 5, 0};
		const double sc[] = {part(1e-6, 1, 2, avg), part(1e-6, 1, 2, avg), part(1e-6, 1, 3, avg)};
		expect(k, q, 1, false, 3, s, sc);
		const uint64_t q2[] = {D};
		const uint32_t s2[] = {9};
		const double sc2[] = {part(log(4.5 / 1.5), 1, 4, avg)};
		expect(k, q2, 1, false, 1, s2, sc2);
	}
	/* removing and moving keep the numbers right */
	brain__kw_remove(k, 3);
	brain__kw_remove(k, 3);
	brain__kw_remove(k, 20);
	brain__kw_move(k, 9, 1);
	assert_false(brain__kw_has(k, 9));
	assert_true(brain__kw_has(k, 1));
	{
		const uint64_t q[] = {D, C, 12345};
		const uint32_t s[] = {1, 5};
		const double sc[] = {part(idf1, 1, 4, 3) + part(idf2, 3, 4, 3), part(idf2, 1, 2, 3)};
		expect(k, q, 3, false, 2, s, sc);
	}
	/* topk bounds the answer; nothing asked, nothing found */
	{
		const uint64_t q[] = {C};
		uint32_t slot = 0;
		float sc = 0;
		size_t found = 9;
		assert_int_equal(brain__kw_search(k, q, 1, 1, false, NULL, NULL, &slot, &sc, &found), 0);
		assert_int_equal(found, 1);
		assert_int_equal(slot, 1);
		assert_int_equal(brain__kw_search(k, q, 0, 1, false, NULL, NULL, &slot, &sc, &found), 0);
		assert_int_equal(found, 0);
		assert_int_equal(brain__kw_search(k, q, 1, 0, false, NULL, NULL, NULL, NULL, &found), 0);
		assert_int_equal(found, 0);
		assert_int_equal(brain__kw_search(k, q, 1, 1, false, NULL, NULL, NULL, &sc, &found),
		                 BRAIN_ENULL);
	}
	brain__kw_free(k);
}

/* UINT64_MAX (the map's empty key) is the same term as UINT64_MAX - 1. */
static void test_keyword__reserved_hash_is_remapped(void **state)
{
	(void)state;
	brain_keyword *k;
	assert_int_equal(brain__kw_new(&k), 0);
	const uint64_t d0[] = {UINT64_MAX, 5}, d1[] = {UINT64_MAX - 1, UINT64_MAX - 1, 6};
	assert_int_equal(brain__kw_add(k, 0, d0, 2), 0);
	assert_int_equal(brain__kw_add(k, 1, d1, 3), 0);
	const uint64_t q[] = {UINT64_MAX};
	uint32_t slots[4];
	float sc[4];
	size_t found;
	assert_int_equal(brain__kw_search(k, q, 1, 4, true, NULL, NULL, slots, sc, &found), 0);
	assert_int_equal(found, 2);
	assert_int_equal(slots[0], 1); /* tf 2 */
	assert_true(brain__kw_score(k, 0, q, 1) > 0);
	buf b = save_of(k);
	brain_keyword *k2;
	assert_int_equal(brain__kw_new(&k2), 0);
	assert_int_equal(brain__kw_load(k2, b.p, b.n), 0);
	assert_true(brain__kw_score(k2, 1, q, 1) == brain__kw_score(k, 1, q, 1));
	free(b.p);
	brain__kw_free(k2);
	brain__kw_free(k);
}

/* THE property: search and score equal the brute-force reference on a
 * random corpus, and still do after removes, moves and re-adds. */
static void test_keyword__matches_brute_force_under_churn(void **state)
{
	(void)state;
	test_rng rng = {2024};
	vocab_init(&rng);
	ref_clear();
	brain_keyword *k = build_corpus(&rng, 2000);
	check_corpus(k, &rng, 150);
	uint64_t t[64];
	size_t bytes = brain__kw_bytes(k);
	assert_true(bytes > 2000 * 16);
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 300; i++) {
			uint32_t s = live_slot(&rng);
			brain__kw_remove(k, s);
			ref_remove(s);
		}
		for (int i = 0; i < 200; i++) {
			uint32_t from = live_slot(&rng), to = free_slot(&rng, 2600);
			brain__kw_move(k, from, to);
			ref_move(from, to);
		}
		for (int i = 0; i < 300; i++)
			add_both(k, free_slot(&rng, 2600), t, random_doc(&rng, t));
		/* documents with no words and documents of one word */
		for (int i = 0; i < 10; i++) {
			add_both(k, free_slot(&rng, 2600), t, 0);
			t[0] = zipf_term(&rng);
			add_both(k, free_slot(&rng, 2600), t, 1);
		}
		check_corpus(k, &rng, 100);
	}
	/* empty it: every term gone; then fill again */
	for (uint32_t s = 0; s < MAX_SLOTS; s++)
		if (ref[s].live) {
			brain__kw_remove(k, s);
			ref_remove(s);
		}
	assert_int_equal(brain__kw_docs(k), 0);
	assert_true(brain__kw_bytes(k) < bytes);
	uint64_t q[] = {vocab[0]};
	size_t found = 9;
	uint32_t slot;
	float sc;
	assert_int_equal(brain__kw_search(k, q, 1, 1, false, NULL, NULL, &slot, &sc, &found), 0);
	assert_int_equal(found, 0);
	for (uint32_t s = 0; s < 500; s++)
		add_both(k, s * 5, t, random_doc(&rng, t));
	check_corpus(k, &rng, 50);
	brain__kw_free(k);
	ref_clear();
}

/* Save then load gives the same answers, and saves the same bytes. */
static void test_keyword__save_load_round_trip(void **state)
{
	(void)state;
	test_rng rng = {77};
	vocab_init(&rng);
	ref_clear();
	brain_keyword *k = build_corpus(&rng, 1500);
	/* churn, so that the saved index has free terms and holes */
	for (int i = 0; i < 400; i++) {
		uint32_t s = live_slot(&rng);
		brain__kw_remove(k, s);
		ref_remove(s);
	}
	uint64_t t[64];
	for (int i = 0; i < 100; i++)
		add_both(k, free_slot(&rng, MAX_SLOTS), t, random_doc(&rng, t));
	add_both(k, free_slot(&rng, MAX_SLOTS), t, 0);
	buf b = save_of(k);
	brain_keyword *k2;
	assert_int_equal(brain__kw_new(&k2), 0);
	assert_int_equal(brain__kw_load(k2, b.p, b.n), 0);
	assert_int_equal(brain__kw_docs(k2), brain__kw_docs(k));
	check_corpus(k2, &rng, 100);
	/* identical answers, to the bit */
	uint64_t q[8];
	for (int i = 0; i < 200; i++) {
		size_t nq = random_query(&rng, q);
		uint32_t s1[20], s2[20];
		float c1[20], c2[20];
		size_t f1, f2;
		bool all = i % 2;
		assert_int_equal(brain__kw_search(k, q, nq, 20, all, NULL, NULL, s1, c1, &f1), 0);
		assert_int_equal(brain__kw_search(k2, q, nq, 20, all, NULL, NULL, s2, c2, &f2), 0);
		assert_int_equal(f1, f2);
		assert_memory_equal(s1, s2, f1 * sizeof *s1);
		assert_memory_equal(c1, c2, f1 * sizeof *c1);
	}
	buf b2 = save_of(k2);
	assert_int_equal(b2.n, b.n);
	assert_memory_equal(b2.p, b.p, b.n);
	/* the loaded index goes on working */
	for (int i = 0; i < 100; i++) {
		uint32_t s = live_slot(&rng);
		brain__kw_remove(k2, s);
		ref_remove(s);
		uint32_t from = live_slot(&rng), to = free_slot(&rng, MAX_SLOTS);
		brain__kw_move(k2, from, to);
		ref_move(from, to);
		add_both(k2, free_slot(&rng, MAX_SLOTS), t, random_doc(&rng, t));
	}
	check_corpus(k2, &rng, 50);
	/* a non-empty index refuses a load; a failing write is passed on */
	assert_int_equal(brain__kw_load(k2, b.p, b.n), BRAIN_EINVAL);
	buf bad = {NULL, 0, 0, 1};
	assert_int_equal(brain__kw_save(k, buf_write, &bad), BRAIN_EIO);
	free(bad.p);
	/* an empty index round-trips too */
	brain_keyword *e1, *e2;
	assert_int_equal(brain__kw_new(&e1), 0);
	assert_int_equal(brain__kw_new(&e2), 0);
	buf be = save_of(e1);
	assert_int_equal(be.n, 40);
	assert_int_equal(brain__kw_load(e2, be.p, be.n), 0);
	assert_int_equal(brain__kw_docs(e2), 0);
	free(be.p);
	brain__kw_free(e1);
	brain__kw_free(e2);
	free(b.p);
	free(b2.p);
	brain__kw_free(k);
	brain__kw_free(k2);
	ref_clear();
}

/* A loaded index, whatever it is, answers without crashing. */
static void exercise(brain_keyword *k, test_rng *rng)
{
	uint64_t q[8], t[64];
	for (int i = 0; i < 4; i++) {
		size_t nq = random_query(rng, q);
		uint32_t slots[10];
		float sc[10];
		size_t found;
		assert_int_equal(brain__kw_search(k, q, nq, 10, i & 1, NULL, NULL, slots, sc, &found),
		                 0);
		for (size_t j = 0; j < found; j++) {
			assert_true(sc[j] > 0);
			assert_true(brain__kw_has(k, slots[j]));
			(void)brain__kw_score(k, slots[j], q, nq);
		}
		if (found) {
			brain__kw_move(k, slots[0], 2999);
			brain__kw_remove(k, slots[found - 1]);
		}
	}
	if (!brain__kw_has(k, 2998))
		assert_int_equal(brain__kw_add(k, 2998, t, random_doc(rng, t)), 0);
	buf b = save_of(k);
	free(b.p);
	(void)brain__kw_bytes(k);
}

static void expect_corrupt(const unsigned char *p, size_t n, const char *says)
{
	brain_keyword *k;
	assert_int_equal(brain__kw_new(&k), 0);
	int rc = brain__kw_load(k, p, n);
	if (rc != BRAIN_ECORRUPT)
		fail_msg("load of %zu bytes: %d, expected BRAIN_ECORRUPT (%s)", n, rc, says);
	if (!strstr(brain_errmsg(), "keyword index") || !strstr(brain_errmsg(), says))
		fail_msg("message `%s` does not say `%s`", brain_errmsg(), says);
	assert_int_equal(brain__kw_docs(k), 0);
	brain__kw_free(k);
}

/* a hand-made file */
typedef struct hand {
	unsigned char p[512];
	size_t n;
} hand;

static void h32(hand *h, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		h->p[h->n++] = (unsigned char)(v >> (8 * i));
}

static void h64(hand *h, uint64_t v)
{
	h32(h, (uint32_t)v);
	h32(h, (uint32_t)(v >> 32));
}

/* docs: pairs (slot, len); terms: hash, df, then df pairs (slot, tf) */
static hand make(uint32_t nd, const uint32_t *docs, uint32_t nt, const uint64_t *terms,
                 int64_t fix_total)
{
	hand h = {{0}, 0};
	h32(&h, 0x5849574bu);
	h32(&h, 1);
	uint64_t np = 0, total = 0;
	const uint64_t *t = terms;
	for (uint32_t i = 0; i < nt; i++) {
		np += t[1];
		t += 2 + 2 * t[1];
	}
	for (uint32_t i = 0; i < nd; i++)
		total += docs[2 * i + 1];
	h64(&h, nd);
	h64(&h, nt);
	h64(&h, np);
	h64(&h, (uint64_t)((int64_t)total + fix_total));
	for (uint32_t i = 0; i < 2 * nd; i++)
		h32(&h, docs[i]);
	t = terms;
	for (uint32_t i = 0; i < nt; i++) {
		h64(&h, t[0]);
		h32(&h, (uint32_t)t[1]);
		for (uint64_t j = 0; j < t[1]; j++) {
			h32(&h, (uint32_t)t[2 + 2 * j]);
			h32(&h, (uint32_t)t[3 + 2 * j]);
		}
		t += 2 + 2 * t[1];
	}
	return h;
}

/* Damaged bytes: refused with ECORRUPT, or loaded into an index that
 * works. Run under ASan. */
static void test_keyword__damaged_bytes_are_refused(void **state)
{
	(void)state;
	test_rng rng = {99};
	vocab_init(&rng);
	ref_clear();
	brain_keyword *k = build_corpus(&rng, 300);
	brain__kw_remove(k, 17);
	buf b = save_of(k);
	brain__kw_free(k);
	ref_clear();
	/* every truncation */
	for (size_t n = 0; n < b.n; n++) {
		brain_keyword *x;
		assert_int_equal(brain__kw_new(&x), 0);
		assert_int_equal(brain__kw_load(x, b.p, n), BRAIN_ECORRUPT);
		brain__kw_free(x);
	}
	/* bytes flipped anywhere */
	unsigned char *p = malloc(b.n);
	assert_non_null(p);
	int loaded = 0, refused = 0;
	for (int trial = 0; trial < 3000; trial++) {
		memcpy(p, b.p, b.n);
		int flips = 1 + (int)(test_rng_next(&rng) % 3);
		for (int f = 0; f < flips; f++) {
			/* half of them in the documents and the first terms, where the
			 * checks are */
			size_t at = test_rng_next(&rng) % (trial % 2 ? b.n : TEST_MIN(b.n, 4000));
			p[at] ^= (unsigned char)(1u << (test_rng_next(&rng) % 8));
			if (test_rng_next(&rng) % 4 == 0)
				p[at] = (unsigned char)test_rng_next(&rng);
		}
		brain_keyword *x;
		assert_int_equal(brain__kw_new(&x), 0);
		int rc = brain__kw_load(x, p, b.n);
		if (rc == 0) {
			loaded++;
			exercise(x, &rng);
		} else {
			if (rc != BRAIN_ECORRUPT)
				fail_msg("trial %d: %d (%s)", trial, rc, brain_errmsg());
			refused++;
			assert_int_equal(brain__kw_docs(x), 0);
		}
		brain__kw_free(x);
	}
	assert_true(refused > 1000);
	assert_true(loaded > 10); /* a flipped hash is another term */
	free(p);
	free(b.p);

	/* hand-made: a valid one, then one defect at a time */
	const uint32_t docs[] = {2, 3, 7, 1, 9, 0};
	const uint64_t terms[] = {100, 2, 2, 2, 7, 1, 200, 1, 2, 1};
	hand h = make(3, docs, 2, terms, 0);
	assert_int_equal(brain__kw_new(&k), 0);
	assert_int_equal(brain__kw_load(k, h.p, h.n), 0);
	assert_int_equal(brain__kw_docs(k), 3);
	assert_true(brain__kw_has(k, 9));
	const uint64_t q[] = {100};
	double avg = 4.0 / 3; /* 100 in 2 of 3: idf 1e-6 */
	assert_true(brain__kw_score(k, 2, q, 1) == part(1e-6, 2, 3, avg));
	assert_true(brain__kw_score(k, 7, q, 1) == part(1e-6, 1, 1, avg));
	assert_true(brain__kw_score(k, 9, q, 1) == 0.0);
	brain__kw_free(k);

	const uint32_t dup_slot[] = {2, 3, 2, 1, 9, 0};
	h = make(3, dup_slot, 2, terms, 0);
	expect_corrupt(h.p, h.n, "slot 2 is there twice");
	const uint32_t bad_slot[] = {2, 3, UINT32_MAX, 1, 9, 0};
	h = make(3, bad_slot, 2, terms, 0);
	expect_corrupt(h.p, h.n, "reserved");
	h = make(3, docs, 2, terms, 1);
	expect_corrupt(h.p, h.n, "lengths add up");
	const uint64_t tf0[] = {100, 2, 2, 0, 7, 1, 200, 1, 2, 3};
	h = make(3, docs, 2, tf0, 0);
	expect_corrupt(h.p, h.n, "tf 0");
	const uint64_t tf_big[] = {100, 2, 2, 4, 7, 1, 200, 1, 2, 1};
	h = make(3, docs, 2, tf_big, 0);
	expect_corrupt(h.p, h.n, "more than its length");
	const uint64_t tf_short[] = {100, 2, 2, 1, 7, 1, 200, 1, 2, 1};
	h = make(3, docs, 2, tf_short, 0);
	expect_corrupt(h.p, h.n, "short of its length");
	const uint64_t no_doc[] = {100, 2, 2, 2, 8, 1, 200, 1, 2, 1};
	h = make(3, docs, 2, no_doc, 0);
	expect_corrupt(h.p, h.n, "slot 8 is not a document");
	const uint64_t twice[] = {100, 2, 2, 1, 2, 1, 200, 1, 2, 1};
	const uint32_t docs_b[] = {2, 3, 9, 0};
	h = make(2, docs_b, 2, twice, 0);
	expect_corrupt(h.p, h.n, "there twice");
	const uint64_t same_hash[] = {100, 2, 2, 2, 7, 1, 100, 1, 2, 1};
	h = make(3, docs, 2, same_hash, 0);
	expect_corrupt(h.p, h.n, "there twice");
	const uint64_t reserved[] = {100, 2, 2, 2, 7, 1, UINT64_MAX, 1, 2, 1};
	h = make(3, docs, 2, reserved, 0);
	expect_corrupt(h.p, h.n, "reserved hash");
	const uint64_t df0[] = {100, 2, 2, 3, 7, 1, 200, 0};
	h = make(3, docs, 2, df0, 0);
	expect_corrupt(h.p, h.n, "documents cannot be");
	h = make(3, docs, 2, terms, 0);
	h.p[4] = 2;
	expect_corrupt(h.p, h.n, "version 2");
	h = make(3, docs, 2, terms, 0);
	h.p[0] = 'X';
	expect_corrupt(h.p, h.n, "magic");
	h = make(3, docs, 2, terms, 0);
	h.p[16] = 3; /* three terms */
	expect_corrupt(h.p, h.n, "cannot hold");
	h = make(3, docs, 2, terms, 0);
	h.p[h.n++] = 0;
	expect_corrupt(h.p, h.n, "cannot hold");
	/* a df that runs into the next term */
	h = make(3, docs, 2, terms, 0);
	h.p[40 + 24 + 8] = 3;
	expect_corrupt(h.p, h.n, "");
	assert_int_equal(brain__kw_load(NULL, h.p, h.n), BRAIN_ENULL);
}

/* Every allocation of an add fails in turn: ENOMEM, and the index is as
 * before (its saved bytes and its answers). Remove and move allocate
 * nothing. */
static void test_keyword__failed_add_changes_nothing(void **state)
{
	(void)state;
	assert_int_equal(test_alloc_install(), 0);
	long base = test_alloc_live;
	test_rng rng = {5};
	vocab_init(&rng);
	ref_clear();
	brain_keyword *k = build_corpus(&rng, 300);
	uint64_t t[400];
	uint64_t queries[20][8];
	size_t nqs[20];
	for (int i = 0; i < 20; i++)
		nqs[i] = random_query(&rng, queries[i]);
	for (int scenario = 0; scenario < 6; scenario++) {
		uint32_t slot, n;
		switch (scenario) {
		case 0: /* common terms: postings arrays grow */
			slot = 400;
			n = random_doc(&rng, t);
			break;
		case 1: /* many new terms: the map and the term array grow */
			slot = 401;
			n = 400;
			for (uint32_t i = 0; i < n; i++)
				t[i] = test_rng_next(&rng);
			break;
		case 2: /* a far slot */
			slot = 2900;
			n = random_doc(&rng, t);
			break;
		case 3: /* terms held by one document: out of the term into an array */
			slot = 402;
			memcpy(t, ref[401].terms, 30 * sizeof *t);
			n = 30;
			break;
		case 4: /* no words at all */
			slot = 403;
			n = 0;
			break;
		default: /* a repeat of everything */
			slot = 404;
			n = 200;
			for (uint32_t i = 0; i < n; i++)
				t[i] = i % 2 ? vocab[i % 50] : ref[401].terms[i];
			break;
		}
		buf before = save_of(k);
		long n_fail;
		int rc;
		for (n_fail = 1;; n_fail++) {
			test_alloc_arm(n_fail);
			rc = brain__kw_add(k, slot, t, n);
			test_alloc_disarm();
			if (rc == 0)
				break;
			if (rc != BRAIN_ENOMEM)
				fail_msg("scenario %d, allocation %ld: %d (%s)", scenario, n_fail, rc,
				         brain_errmsg());
			assert_false(brain__kw_has(k, slot));
			buf after = save_of(k);
			assert_int_equal(after.n, before.n);
			assert_memory_equal(after.p, before.p, before.n);
			free(after.p);
			check_query(k, queries[n_fail % 20], nqs[n_fail % 20]);
		}
		free(before.p);
		ref_add(slot, t, n);
		if (scenario != 4)
			assert_true(n_fail > 1);
		check_corpus(k, &rng, 20);
	}

	/* removes and moves with every allocation failing */
	test_alloc_arm(-1);
	for (int i = 0; i < 100; i++) {
		uint32_t s = live_slot(&rng);
		brain__kw_remove(k, s);
		ref_remove(s);
		uint32_t from = live_slot(&rng), to = free_slot(&rng, 1000);
		brain__kw_move(k, from, to);
		ref_move(from, to);
	}
	/* search reports ENOMEM */
	size_t found = 9;
	uint32_t slots[10];
	float sc[10];
	assert_int_equal(brain__kw_search(k, queries[0], nqs[0], 10, false, NULL, NULL, slots, sc,
	                                  &found),
	                 BRAIN_ENOMEM);
	assert_int_equal(found, 0);
	test_alloc_disarm();
	check_corpus(k, &rng, 30);
	for (long n_fail = 1;; n_fail++) {
		test_alloc_arm(n_fail);
		int rc = brain__kw_search(k, queries[1], nqs[1], 10, false, NULL, NULL, slots, sc,
		                          &found);
		test_alloc_disarm();
		if (rc == 0)
			break;
		assert_int_equal(rc, BRAIN_ENOMEM);
	}

	/* every allocation of a load fails in turn, leaving nothing */
	buf b = save_of(k);
	brain_keyword *k2;
	assert_int_equal(brain__kw_new(&k2), 0);
	long live = test_alloc_live;
	for (long n_fail = 1;; n_fail++) {
		test_alloc_arm(n_fail);
		int rc = brain__kw_load(k2, b.p, b.n);
		test_alloc_disarm();
		if (rc == 0)
			break;
		assert_int_equal(rc, BRAIN_ENOMEM);
		assert_int_equal(brain__kw_docs(k2), 0);
		assert_int_equal(test_alloc_live, live);
	}
	check_corpus(k2, &rng, 30);
	free(b.p);
	brain__kw_free(k2);
	brain__kw_free(k);
	assert_int_equal(test_alloc_live, base);
	assert_int_equal(test_alloc_remove(), 0);
	ref_clear();
}

/* Moves go anywhere free, however far; a move onto a document, or of no
 * document, does nothing; UINT32_MAX is no slot; NULLs do not crash. */
static void test_keyword__moves_far_and_odd(void **state)
{
	(void)state;
	brain_keyword *k;
	assert_int_equal(brain__kw_new(&k), 0);
	const uint64_t a[] = {1, 2, 3}, b[] = {2, 3, 4};
	assert_int_equal(brain__kw_add(k, 0, a, 3), 0);
	assert_int_equal(brain__kw_add(k, 1, b, 3), 0);
	assert_int_equal(brain__kw_add(k, 2, a, 2), 0);
	assert_int_equal(brain__kw_add(k, UINT32_MAX, a, 2), BRAIN_ERANGE);
	brain__kw_move(k, 0, 1); /* onto a document */
	assert_true(brain__kw_has(k, 0));
	brain__kw_move(k, 7, 8); /* no document */
	assert_false(brain__kw_has(k, 8));
	brain__kw_move(k, 0, 0);
	assert_true(brain__kw_has(k, 0));
	brain__kw_move(k, 0, UINT32_MAX);
	assert_true(brain__kw_has(k, 0));
	assert_false(brain__kw_has(k, UINT32_MAX));
	brain__kw_remove(k, UINT32_MAX);
	/* far, with every allocation failing */
	assert_int_equal(test_alloc_install(), 0);
	test_alloc_arm(-1);
	brain__kw_move(k, 0, 50000);
	brain__kw_move(k, 1, UINT32_MAX - 1);
	brain__kw_move(k, 2, 4000000000u);
	test_alloc_disarm();
	assert_true(brain__kw_has(k, 50000));
	assert_true(brain__kw_has(k, UINT32_MAX - 1));
	assert_true(brain__kw_has(k, 4000000000u));
	assert_false(brain__kw_has(k, 0) || brain__kw_has(k, 1) || brain__kw_has(k, 2));
	assert_int_equal(brain__kw_docs(k), 3);
	const uint64_t q[] = {4, 1};
	uint32_t slots[4];
	float sc[4];
	size_t found;
	assert_int_equal(brain__kw_search(k, q, 2, 4, false, NULL, NULL, slots, sc, &found), 0);
	assert_int_equal(found, 3);
	assert_int_equal(slots[0], UINT32_MAX - 1); /* 4 is rarer */
	assert_int_equal(slots[1], 4000000000u);   /* shorter than 50000 */
	assert_int_equal(slots[2], 50000);
	/* and the far slots survive a round trip */
	buf bb = save_of(k);
	brain_keyword *k2;
	assert_int_equal(brain__kw_new(&k2), 0);
	assert_int_equal(brain__kw_load(k2, bb.p, bb.n), 0);
	assert_true(brain__kw_has(k2, UINT32_MAX - 1));
	free(bb.p);
	brain__kw_free(k2);
	/* NULLs do not crash */
	brain__kw_remove(NULL, 1);
	brain__kw_move(NULL, 1, 2);
	assert_false(brain__kw_has(NULL, 1));
	assert_int_equal(brain__kw_docs(NULL), 0);
	assert_int_equal(brain__kw_bytes(NULL), 0);
	assert_true(brain__kw_score(NULL, 1, q, 2) == 0.0);
	assert_true(brain__kw_score(k, 50000, NULL, 2) == 0.0);
	assert_int_equal(brain__kw_add(k, 3, NULL, 2), BRAIN_ENULL);
	assert_int_equal(brain__kw_add(NULL, 3, a, 2), BRAIN_ENULL);
	assert_int_equal(brain__kw_new(NULL), BRAIN_ENULL);
	assert_int_equal(brain__kw_save(k, NULL, NULL), BRAIN_ENULL);
	assert_int_equal(brain__kw_search(k, q, 2, 4, false, NULL, NULL, slots, sc, NULL),
	                 BRAIN_ENULL);
	brain__kw_free(NULL);
	brain__kw_free(k);
	assert_int_equal(test_alloc_remove(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keyword__hand_computed_bm25),
		cmocka_unit_test(test_keyword__reserved_hash_is_remapped),
		cmocka_unit_test(test_keyword__matches_brute_force_under_churn),
		cmocka_unit_test(test_keyword__save_load_round_trip),
		cmocka_unit_test(test_keyword__damaged_bytes_are_refused),
		cmocka_unit_test(test_keyword__failed_add_changes_nothing),
		cmocka_unit_test(test_keyword__moves_far_and_odd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
