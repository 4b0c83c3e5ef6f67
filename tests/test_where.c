/*
 * tests/test_where.c - metadata and filters through the public API: every
 * answer compared with a scan of the memories this test keeps itself
 * (the reference: brain__filter_match over the same metadata), on the
 * exact backend and on HNSW, through updates, forgets, compaction, the log
 * and checkpoints; filtered search against brute force at each
 * selectivity; bad input of every kind.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "braincore.h"
#include "base/filter_tree.h"
#include "base/meta.h"
#include "base/slotset.h"
#include "organs/hippocampus/postings.h"
#include "test_util.h"

#define DIMS 16

/* A memory as the test knows it. */
typedef struct ref_mem {
	uint64_t id;
	bool live;
	float v[DIMS];
	char json[256];     /* its metadata ("" for none) */
	brain_meta_blob blob;
} ref_mem;

static brain_t *vector_brain(int index, const char *dir)
{
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.dimensions = DIMS;
	o.metric = BRAIN_METRIC_L2;
	o.embedder = BRAIN_EMBEDDER_NONE;
	o.index = index;
	o.background = BRAIN_BACKGROUND_MANUAL;
	brain_t *b = NULL;
	assert_int_equal(brain_open(dir, &o, &b), 0);
	return b;
}

static const char *kinds[] = {"note", "todo", "mail", "call", "idea"};
static const char *tagset[] = {"billing", "bug", "urgent", "eu", "us", "vip"};

/* Random metadata as JSON; each field present with probability 0.7. */
static void random_json(test_rng *r, char *out, size_t size)
{
	size_t n = 0;
	n += (size_t)snprintf(out + n, size - n, "{");
	bool first = true;
#define SEP() (first ? (first = false, "") : ",")
	if (test_rng_unit(r) < 0.7)
		n += (size_t)snprintf(out + n, size - n, "%s\"kind\":\"%s\"", SEP(),
		                      kinds[test_rng_next(r) % 5]);
	if (test_rng_unit(r) < 0.7)
		n += (size_t)snprintf(out + n, size - n, "%s\"ts\":%lld", SEP(),
		                      (long long)(test_rng_next(r) % 1000) - 300);
	if (test_rng_unit(r) < 0.7)
		n += (size_t)snprintf(out + n, size - n, "%s\"score\":%.3f", SEP(),
		                      (double)(test_rng_next(r) % 200) / 8.0 - 5.0);
	if (test_rng_unit(r) < 0.7)
		n += (size_t)snprintf(out + n, size - n, "%s\"done\":%s", SEP(),
		                      test_rng_next(r) % 2 ? "true" : "false");
	if (test_rng_unit(r) < 0.7) {
		n += (size_t)snprintf(out + n, size - n, "%s\"tags\":[", SEP());
		unsigned k = (unsigned)(test_rng_next(r) % 4);
		for (unsigned i = 0; i < k; i++)
			n += (size_t)snprintf(out + n, size - n, "%s\"%s\"", i ? "," : "",
			                      tagset[test_rng_next(r) % 6]);
		n += (size_t)snprintf(out + n, size - n, "]");
	}
#undef SEP
	snprintf(out + n, size - n, "}");
}

/* A random filter text over the same fields (and one no memory has). */
static void random_cond(test_rng *r, char *out, size_t size)
{
	static const char *ops[] = {"=", "!=", "<", "<=", ">", ">="};
	switch (test_rng_next(r) % 9) {
	case 0:
		snprintf(out, size, "kind %s \"%s\"", ops[test_rng_next(r) % 2], kinds[test_rng_next(r) % 5]);
		break;
	case 1:
		snprintf(out, size, "ts %s %lld", ops[test_rng_next(r) % 6],
		         (long long)(test_rng_next(r) % 1100) - 350);
		break;
	case 2:
		snprintf(out, size, "score %s %.2f", ops[test_rng_next(r) % 6],
		         (double)(test_rng_next(r) % 240) / 8.0 - 6.0);
		break;
	case 3:
		snprintf(out, size, "tags CONTAINS \"%s\"", tagset[test_rng_next(r) % 6]);
		break;
	case 4:
		snprintf(out, size, "kind IN (\"%s\", \"%s\")", kinds[test_rng_next(r) % 5],
		         kinds[test_rng_next(r) % 5]);
		break;
	case 5:
		snprintf(out, size, "done = %s", test_rng_next(r) % 2 ? "true" : "false");
		break;
	case 6:
		snprintf(out, size, "%s EXISTS", (const char *[]){"kind", "ts", "tags", "nope"}
		                                     [test_rng_next(r) % 4]);
		break;
	case 7:
		snprintf(out, size, "score >= %lld", (long long)(test_rng_next(r) % 30) - 6);
		break;
	default:
		snprintf(out, size, "kind CONTAINS \"%c\"", "otaie"[test_rng_next(r) % 5]);
		break;
	}
}

static void random_filter(test_rng *r, char *out, size_t size, int depth)
{
	unsigned pick = depth > 2 ? 0 : (unsigned)(test_rng_next(r) % 5);
	char a[512], b[512];
	if (pick <= 1) {
		random_cond(r, out, size);
	} else if (pick == 2) {
		random_filter(r, a, sizeof a, depth + 1);
		snprintf(out, size, "NOT (%s)", a);
	} else {
		random_filter(r, a, sizeof a, depth + 1);
		random_filter(r, b, sizeof b, depth + 1);
		snprintf(out, size, "(%s) %s (%s)", a, pick == 3 ? "AND" : "OR", b);
	}
}

static void ref_set_meta(ref_mem *m, const char *json)
{
	brain__free(m->blob.data);
	m->blob.data = NULL;
	m->blob.len = 0;
	snprintf(m->json, sizeof m->json, "%s", json ? json : "");
	if (json)
		assert_int_equal(brain__meta_from_json(json, strlen(json), false, &m->blob), 0);
}

static uint64_t ref_count(const ref_mem *mem, size_t n, const brain_filter *f)
{
	uint64_t c = 0;
	for (size_t i = 0; i < n; i++)
		c += mem[i].live && brain__filter_match(f, mem[i].blob.data, mem[i].blob.len);
	return c;
}

static double l2(const float *a, const float *b)
{
	double s = 0;
	for (int i = 0; i < DIMS; i++)
		s += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
	return s;
}

/* Each filter's count and exact top-k against the reference. */
static void check_filters(brain_t *b, const ref_mem *mem, size_t n, test_rng *r, int rounds,
                          bool exact_search)
{
	for (int t = 0; t < rounds; t++) {
		char text[4096];
		random_filter(r, text, sizeof text, 0);
		brain_filter *f = NULL;
		int rc = brain_filter_parse(text, &f);
		if (rc) {
			fail_msg("%s: %s", text, brain_errmsg());
		}
		uint64_t count = 0;
		rc = brain_count_where(b, f, &count);
		if (rc)
			fail_msg("%s: %s", text, brain_errmsg());
		uint64_t want = ref_count(mem, n, f);
		if (count != want)
			fail_msg("%s: count %llu, the scan says %llu", text, (unsigned long long)count,
			         (unsigned long long)want);
		/* the nearest 10 that pass */
		const float *q = mem[test_rng_next(r) % n].v;
		uint64_t ids[10];
		float dist[10];
		size_t found = 0;
		assert_int_equal(brain_search_where(b, q, 10, f, ids, dist, &found), 0);
		assert_int_equal(found, TEST_MIN(want, (uint64_t)10));
		for (size_t i = 0; i < found; i++) {
			const ref_mem *m = NULL;
			for (size_t j = 0; j < n && !m; j++)
				if (mem[j].live && mem[j].id == ids[i])
					m = &mem[j];
			if (!m)
				fail_msg("%s: id %llu is not a live memory", text, (unsigned long long)ids[i]);
			else
				assert_true(brain__filter_match(f, m->blob.data, m->blob.len));
		}
		if (exact_search && found) {
			/* nothing passing is nearer than the last found */
			size_t nearer = 0;
			for (size_t j = 0; j < n; j++)
				if (mem[j].live && brain__filter_match(f, mem[j].blob.data, mem[j].blob.len) &&
				    l2(q, mem[j].v) < (double)dist[found - 1] * (1 - 1e-5) - 1e-6)
					nearer++;
			assert_true(nearer < found);
		}
		brain_filter_free(f);
	}
}

static void random_vector(test_rng *r, float *v)
{
	for (int i = 0; i < DIMS; i++)
		v[i] = test_rng_float(r, -1, 1);
}

/* Add n memories with random metadata (a few without). */
static ref_mem *fill(brain_t *b, size_t n, test_rng *r)
{
	ref_mem *mem = calloc(n, sizeof *mem);
	assert_non_null(mem);
	for (size_t i = 0; i < n; i++) {
		mem[i].id = 1000 + i;
		mem[i].live = true;
		random_vector(r, mem[i].v);
		char json[256];
		random_json(r, json, sizeof json);
		bool none = test_rng_next(r) % 10 == 0;
		ref_set_meta(&mem[i], none ? NULL : json);
		int rc = brain_add_with(b, mem[i].id, mem[i].v, none ? NULL : json);
		if (rc)
			fail_msg("%s: %s", json, brain_errmsg());
	}
	return mem;
}

static void free_mem(ref_mem *mem, size_t n)
{
	for (size_t i = 0; i < n; i++)
		brain__free(mem[i].blob.data);
	free(mem);
}

/* Change the brain and the reference alike: patches, replacements,
 * forgets. */
static void churn(brain_t *b, ref_mem *mem, size_t n, test_rng *r, int changes)
{
	for (int c = 0; c < changes; c++) {
		ref_mem *m = &mem[test_rng_next(r) % n];
		if (!m->live)
			continue;
		unsigned what = (unsigned)(test_rng_next(r) % 4);
		if (what == 0) {
			assert_int_equal(brain_forget(b, m->id), 0);
			m->live = false;
		} else if (what == 1) {
			char json[256];
			random_json(r, json, sizeof json);
			assert_int_equal(brain_set_metadata(b, m->id, json), 0);
			ref_set_meta(m, strcmp(json, "{}") ? json : NULL);
		} else {
			/* a patch: a kind set, a tag list replaced, ts removed */
			const char *patch = what == 2 ? "{\"kind\":\"idea\",\"ts\":null}"
			                              : "{\"tags\":[\"vip\"],\"done\":true}";
			assert_int_equal(brain_patch_metadata(b, m->id, patch), 0);
			char out[512];
			size_t len = 0;
			assert_int_equal(brain_get_metadata(b, m->id, out, sizeof out, &len), 0);
			assert_int_equal(len, strlen(out));
			ref_set_meta(m, strcmp(out, "{}") ? out : NULL);
			brain_meta_field f;
			assert_true(m->blob.data != NULL);
			if (what == 2) {
				assert_true(brain__meta_find(m->blob.data, m->blob.len, "kind", 4, &f));
				assert_false(brain__meta_find(m->blob.data, m->blob.len, "ts", 2, &f));
			} else {
				assert_true(brain__meta_find(m->blob.data, m->blob.len, "done", 4, &f) && f.b);
			}
		}
	}
}

/* brain_list pages through what a filter passes, in id order; recall by
 * vector gives search_where's answer with texts and metadata. */
static void pages_and_vector_recall(brain_t *b, const ref_mem *mem, size_t n, test_rng *r)
{
	for (int t = 0; t < 20; t++) {
		char text[4096];
		random_filter(r, text, sizeof text, 0);
		brain_filter *f = NULL;
		assert_int_equal(brain_filter_parse(text, &f), 0);
		uint64_t want = ref_count(mem, n, f), seen = 0;
		brain_id after = BRAIN_ID_NONE;
		for (;;) {
			brain_results *page = NULL;
			assert_int_equal(brain_list(b, f, after, 97, &page), 0);
			size_t c = brain_results_count(page);
			for (size_t i = 0; i < c; i++) {
				brain_id id = brain_results_id(page, i);
				assert_true(after == BRAIN_ID_NONE || id > after);
				after = id;
				bool ok = false;
				for (size_t j = 0; j < n && !ok; j++)
					ok = mem[j].live && mem[j].id == id &&
					     brain__filter_match(f, mem[j].blob.data, mem[j].blob.len);
				assert_true(ok);
			}
			seen += c;
			brain_results_free(page);
			if (c == 0)
				break;
		}
		assert_int_equal(seen, want);
		const float *q = mem[test_rng_next(r) % n].v;
		uint64_t ids[10];
		float dist[10];
		size_t found = 0;
		brain_results *res = NULL;
		assert_int_equal(brain_search_where(b, q, 10, f, ids, dist, &found), 0);
		assert_int_equal(brain_recall_vector(b, q, 10, f, &res), 0);
		assert_int_equal(brain_results_count(res), found);
		for (size_t i = 0; i < found; i++)
			assert_int_equal(brain_results_id(res, i), ids[i]);
		brain_results_free(res);
		brain_filter_free(f);
	}
}

static void filters_match_a_scan_on(int index)
{
	test_rng r = {42 + (uint64_t)index};
	size_t n = 3000;
	brain_t *b = vector_brain(index, NULL);
	ref_mem *mem = fill(b, n, &r);
	brain_tick(b);
	check_filters(b, mem, n, &r, 300, index == BRAIN_INDEX_FLAT);
	churn(b, mem, n, &r, 1500);
	check_filters(b, mem, n, &r, 200, index == BRAIN_INDEX_FLAT);
	/* compaction moves memories into the slots forgets left */
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_COMPACT_FREE, 1), 0);
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_CIRCADIAN_MS, 0), 0);
	for (int i = 0; i < 4; i++)
		brain_tick(b);
	check_filters(b, mem, n, &r, 200, index == BRAIN_INDEX_FLAT);
	/* new memories take the freed slots: their old postings must be gone */
	for (size_t i = 0; i < n; i++) {
		if (mem[i].live)
			continue;
		char json[256];
		random_json(&r, json, sizeof json);
		mem[i].id += 100000;
		mem[i].live = true;
		ref_set_meta(&mem[i], json);
		assert_int_equal(brain_add_with(b, mem[i].id, mem[i].v, json), 0);
	}
	check_filters(b, mem, n, &r, 200, index == BRAIN_INDEX_FLAT);
	pages_and_vector_recall(b, mem, n, &r);
	/* forget by filter: exactly what passes goes */
	brain_filter *f = NULL;
	assert_int_equal(brain_filter_parse("kind = \"todo\" OR ts < -200", &f), 0);
	uint64_t before = 0, gone = 0, after = 0;
	assert_int_equal(brain_count_where(b, f, &before), 0);
	assert_int_equal(before, ref_count(mem, n, f));
	assert_true(before > 0);
	assert_int_equal(brain_forget_where(b, f, &gone), 0);
	assert_int_equal(gone, before);
	assert_int_equal(brain_count_where(b, f, &after), 0);
	assert_int_equal(after, 0);
	for (size_t i = 0; i < n; i++)
		if (mem[i].live && brain__filter_match(f, mem[i].blob.data, mem[i].blob.len))
			mem[i].live = false;
	brain_filter_free(f);
	check_filters(b, mem, n, &r, 100, index == BRAIN_INDEX_FLAT);
	brain_destroy(b);
	free_mem(mem, n);
}

static void filters_match_a_scan_flat(void **state)
{
	(void)state;
	filters_match_a_scan_on(BRAIN_INDEX_FLAT);
}

static void filters_match_a_scan_hnsw(void **state)
{
	(void)state;
	filters_match_a_scan_on(BRAIN_INDEX_HNSW);
}

/* The same answers after the log is replayed, and after a checkpoint. */
static void metadata_survives_reopen(void **state)
{
	(void)state;
	char dir[] = "/tmp/braincore-where-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[64];
	snprintf(path, sizeof path, "%s/b", dir);
	test_rng r = {7};
	size_t n = 600;
	brain_t *b = vector_brain(BRAIN_INDEX_FLAT, path);
	ref_mem *mem = fill(b, n, &r);
	churn(b, mem, n, &r, 300);
	assert_int_equal(brain_close(b), 0); /* the log alone */
	b = vector_brain(BRAIN_INDEX_FLAT, path);
	test_rng same = r;
	check_filters(b, mem, n, &r, 100, true);
	assert_int_equal(brain_checkpoint(b), 0);
	churn(b, mem, n, &r, 200); /* after the checkpoint: in the log */
	assert_int_equal(brain_close(b), 0);
	b = vector_brain(BRAIN_INDEX_FLAT, path);
	check_filters(b, mem, n, &same, 100, true);
	/* metadata comes back with results */
	for (size_t i = 0; i < n; i++) {
		if (!mem[i].live)
			continue;
		brain_results *res = NULL;
		assert_int_equal(brain_get(b, mem[i].id, &res), 0);
		char want[512];
		if (mem[i].blob.data)
			brain__meta_to_json(mem[i].blob.data, mem[i].blob.len, want, sizeof want);
		else
			strcpy(want, "{}");
		assert_string_equal(brain_results_metadata(res, 0), want);
		brain_results_free(res);
	}
	brain_destroy(b);
	free_mem(mem, n);
	assert_int_equal(test_remove_tree(dir), 0);
}

/* Recall@10 of filtered search against brute force at each selectivity,
 * on a graph large enough to be walked. */
static void filtered_recall_at_every_selectivity(void **state)
{
	(void)state;
	test_rng r = {99};
	size_t n = 20000;
	brain_t *b = vector_brain(BRAIN_INDEX_HNSW, NULL);
	float *v = malloc(n * DIMS * sizeof *v);
	uint32_t *bucket = malloc(n * sizeof *bucket);
	assert_non_null(v);
	assert_non_null(bucket);
	for (size_t i = 0; i < n; i++) {
		random_vector(&r, v + i * DIMS);
		bucket[i] = (uint32_t)(test_rng_next(&r) % 1000);
		char json[64];
		snprintf(json, sizeof json, "{\"p\":%u}", bucket[i]);
		assert_int_equal(brain_add_with(b, i + 1, v + i * DIMS, json), 0);
	}
	brain_tick(b);
	static const unsigned per_mille[] = {500, 100, 10, 1};
	for (size_t s = 0; s < 4; s++) {
		char text[32];
		snprintf(text, sizeof text, "p < %u", per_mille[s]);
		brain_filter *f = NULL;
		assert_int_equal(brain_filter_parse(text, &f), 0);
		size_t hit = 0, total = 0;
		for (int q = 0; q < 50; q++) {
			float query[DIMS];
			random_vector(&r, query);
			uint64_t ids[10];
			float dist[10];
			size_t found = 0;
			assert_int_equal(brain_search_where(b, query, 10, f, ids, dist, &found), 0);
			/* brute force over the passing */
			uint64_t best[10];
			double bd[10];
			size_t nb = 0;
			for (size_t i = 0; i < n; i++) {
				if (bucket[i] >= per_mille[s])
					continue;
				double d = l2(query, v + i * DIMS);
				size_t at = nb < 10 ? nb++ : 10;
				if (at == 10 && d >= bd[9])
					continue;
				if (at == 10)
					at = 9;
				while (at > 0 && bd[at - 1] > d) {
					bd[at] = bd[at - 1];
					best[at] = best[at - 1];
					at--;
				}
				bd[at] = d;
				best[at] = i + 1;
			}
			assert_int_equal(found, nb);
			for (size_t i = 0; i < nb; i++)
				for (size_t j = 0; j < found; j++)
					hit += ids[j] == best[i];
			total += nb;
		}
		double recall = (double)hit / (double)total;
		print_message("filter %-9s recall@10 %.3f\n", text, recall);
		assert_true(recall >= 0.95);
		brain_filter_free(f);
	}
	brain_destroy(b);
	free(v);
	free(bucket);
}

/* Text memories: remember_with, recall_where, results with metadata. */
static void text_recall_where(void **state)
{
	(void)state;
	brain_t *b = brain_create();
	assert_non_null(b);
	uint64_t id = 0;
	assert_int_equal(brain_remember_with(b, "The invoice for March was paid late.", 0.5f,
	                                     "{\"kind\":\"note\",\"ts\":1700000000,"
	                                     "\"tags\":[\"billing\"]}", &id), 0);
	assert_int_equal(brain_remember_with(b, "The invoice for April is still open.", 0.5f,
	                                     "{\"kind\":\"todo\",\"ts\":1700500000,"
	                                     "\"tags\":[\"billing\",\"urgent\"]}", NULL), 0);
	assert_int_equal(brain_remember_with(b, "Lunch with Ana on Friday.", 0.5f,
	                                     "{\"kind\":\"note\",\"ts\":1700600000}", NULL), 0);
	assert_int_equal(brain_remember(b, "An invoice without metadata.", 0.5f), 0);
	char **hits = brain_recall_where(b, "invoice", "kind = \"note\" AND tags CONTAINS \"billing\"", 5);
	assert_non_null(hits);
	assert_non_null(hits[0]);
	assert_string_equal(hits[0], "The invoice for March was paid late.");
	assert_null(hits[1]);
	brain_strings_free(hits);
	hits = brain_recall_where(b, "invoice", "ts >= 1700400000", 5);
	assert_non_null(hits);
	assert_string_equal(hits[0], "The invoice for April is still open.");
	brain_strings_free(hits);
	/* nothing passes: an empty array, not an error */
	hits = brain_recall_where(b, "invoice", "nosuchfield = 1", 5);
	assert_non_null(hits);
	assert_null(hits[0]);
	brain_strings_free(hits);
	/* NOT matches the memories without the field too */
	hits = brain_recall_where(b, "invoice", "NOT kind EXISTS", 5);
	assert_non_null(hits);
	assert_string_equal(hits[0], "An invoice without metadata.");
	assert_null(hits[1]);
	brain_strings_free(hits);
	brain_results *res = NULL;
	brain_filter *f = brain_filter_and(brain_filter_string("kind", BRAIN_FILTER_EQ, "note"),
	                                   brain_filter_int("ts", BRAIN_FILTER_LT, 1700100000));
	assert_non_null(f);
	assert_int_equal(brain_recall_filter(b, "invoice", 3, f, &res), 0);
	assert_int_equal(brain_results_count(res), 1);
	assert_int_equal(brain_results_id(res, 0), id);
	assert_string_equal(brain_results_metadata(res, 0),
	                    "{\"kind\":\"note\",\"tags\":[\"billing\"],\"ts\":1700000000}");
	brain_results_free(res);
	brain_filter_free(f);
	brain_destroy(b);
}

/* Each bad input: its code, a message, and nothing changed. */
static void bad_input_changes_nothing(void **state)
{
	(void)state;
	brain_t *b = vector_brain(BRAIN_INDEX_FLAT, NULL);
	float v[DIMS] = {1};
	assert_int_equal(brain_add_with(b, 1, v, "{\"ts\":5,\"kind\":\"x\",\"score\":1.5}"), 0);
	/* a second holder of each field: memory 1 alone could change their types */
	assert_int_equal(brain_add_with(b, 10, v, "{\"ts\":6,\"kind\":\"y\",\"score\":2.5}"), 0);
	static const struct {
		const char *json;
		int code;
	} bad[] = {
		{"", BRAIN_EJSON},
		{"[]", BRAIN_EJSON},
		{"{\"a\":{\"b\":1}}", BRAIN_EJSON},
		{"{\"a\":[1]}", BRAIN_EJSON},
		{"{\"a\":null}", BRAIN_EJSON},
		{"{\"a\":1,\"a\":2}", BRAIN_EJSON},
		{"{\"a\":\"\xff\"}", BRAIN_EJSON},
		{"{\"a\":1} x", BRAIN_EJSON},
		{"{\"a\":99999999999999999999}", BRAIN_EJSON},
		{"{\"ts\":\"yesterday\"}", BRAIN_ETYPE},
		{"{\"ts\":1.5}", BRAIN_ETYPE},
		{"{\"kind\":[\"x\"]}", BRAIN_ETYPE},
		{"{\"score\":true}", BRAIN_ETYPE},
	};
	for (size_t i = 0; i < BRAIN_ARRAY_LEN(bad); i++) {
		int rc = brain_add_with(b, 2, v, bad[i].json);
		if (rc != bad[i].code)
			fail_msg("%s: %d (%s), wanted %d", bad[i].json, rc, brain_errmsg(), bad[i].code);
		assert_true(strlen(brain_errmsg()) > 10);
		assert_int_equal(brain_count(b), 2);
		assert_int_equal(brain_set_metadata(b, 1, bad[i].json), bad[i].code);
	}
	char out[128];
	assert_int_equal(brain_get_metadata(b, 1, out, sizeof out, NULL), 0);
	assert_string_equal(out, "{\"kind\":\"x\",\"score\":1.5,\"ts\":5}");
	/* an integer goes into a double field as a double */
	assert_int_equal(brain_add_with(b, 3, v, "{\"score\":2}"), 0);
	assert_int_equal(brain_get_metadata(b, 3, out, sizeof out, NULL), 0);
	assert_string_equal(out, "{\"score\":2.0}");
	/* deep nesting is refused without recursion */
	size_t deep = 200000;
	char *nest = malloc(2 * deep + 16);
	assert_non_null(nest);
	strcpy(nest, "{\"a\":");
	memset(nest + 5, '[', deep);
	memset(nest + 5 + deep, ']', deep);
	strcpy(nest + 5 + 2 * deep, "}");
	assert_int_equal(brain_add_with(b, 2, v, nest), BRAIN_EJSON);
	/* huge metadata */
	size_t big = 100000;
	char *huge = malloc(big + 16);
	assert_non_null(huge);
	strcpy(huge, "{\"a\":\"");
	memset(huge + 6, 'x', big);
	strcpy(huge + 6 + big, "\"}");
	assert_int_equal(brain_add_with(b, 2, v, huge), BRAIN_ETOOLONG);
	assert_int_equal(brain_count(b), 3);
	free(nest);
	free(huge);
	/* filters: a syntax error names the position; types are checked */
	brain_filter *f = NULL;
	assert_int_equal(brain_filter_parse("kind = ", &f), BRAIN_EFILTER);
	assert_null(f);
	assert_non_null(strstr(brain_errmsg(), "byte 7"));
	assert_int_equal(brain_filter_parse("ts CONTAINS \"x\"", &f), 0);
	uint64_t count = 0;
	assert_int_equal(brain_count_where(b, f, &count), BRAIN_EFILTER);
	assert_non_null(strstr(brain_errmsg(), "ts"));
	brain_filter_free(f);
	assert_null(brain_recall_where(b, "x", "kind = ", 3));
	assert_int_equal(brain_errcode(), BRAIN_EFILTER);
	/* unknown fields match nothing; NOT of them everything */
	assert_int_equal(brain_filter_parse("nope = 1", &f), 0);
	assert_int_equal(brain_count_where(b, f, &count), 0);
	assert_int_equal(count, 0);
	brain_filter_free(f);
	assert_int_equal(brain_filter_parse("NOT nope = 1", &f), 0);
	assert_int_equal(brain_count_where(b, f, &count), 0);
	assert_int_equal(count, 3);
	brain_filter_free(f);
	/* NULLs */
	assert_int_equal(brain_count_where(b, NULL, &count), BRAIN_ENULL);
	assert_int_equal(brain_set_metadata(b, 99, "{}"), BRAIN_ENOTFOUND);
	assert_int_equal(brain_patch_metadata(b, 1, NULL), BRAIN_ENULL);
	assert_int_equal(brain_get_metadata(b, 1, NULL, 0, NULL), BRAIN_EBUFSIZE);
	assert_null(brain_recall_where(b, "x", NULL, 3));
	assert_int_equal(brain_errcode(), BRAIN_ENULL);
	brain_destroy(b);
}

/* Validity in time against a reference of intervals, through replaced
 * metadata, supersedes and a reopen from the log. */
static void validity_in_time(void **state)
{
	(void)state;
	enum { M = 400 };
	char dir[] = "/tmp/braincore-time-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[64];
	snprintf(path, sizeof path, "%s/b", dir);
	test_rng r = {21};
	brain_t *b = vector_brain(BRAIN_INDEX_FLAT, path);
	static int64_t from[M + 1], until[M + 1];
	for (uint64_t id = 1; id <= M; id++) {
		float v[DIMS] = {(float)id, 1};
		assert_int_equal(brain_add_with(b, id, v, "{\"kind\":\"fact\"}"), 0);
		from[id] = until[id] = BRAIN_TIME_NONE;
		unsigned what = (unsigned)(test_rng_next(&r) % 4);
		if (what == 0)
			continue;
		int64_t a = (int64_t)(test_rng_next(&r) % 1000), c = a + 1 + (int64_t)(test_rng_next(&r) % 500);
		from[id] = what & 1 ? a : BRAIN_TIME_NONE;
		until[id] = what & 2 ? c : BRAIN_TIME_NONE;
		assert_int_equal(brain_set_valid(b, id, from[id], until[id]), 0);
	}
	/* a replacement of the metadata keeps the validity */
	assert_int_equal(brain_set_metadata(b, 5, "{\"kind\":\"rumour\"}"), 0);
	assert_int_equal(brain_set_metadata(b, 6, NULL), 0);
	/* a newer fact supersedes an older one */
	assert_int_equal(brain_set_valid(b, 7, BRAIN_TIME_NONE, BRAIN_TIME_NONE), 0);
	assert_int_equal(brain_supersede(b, 7, 8, 700), 0);
	until[7] = 700;
	from[7] = BRAIN_TIME_NONE;
	brain_edges *e = NULL;
	assert_int_equal(brain_neighbors(b, 8, "supersedes", BRAIN_DIR_OUT, &e), 0);
	assert_int_equal(brain_edges_count(e), 1);
	assert_int_equal(brain_edges_to(e, 0), 7);
	brain_edges_free(e);
	assert_int_equal(brain_close(b), 0);
	b = vector_brain(BRAIN_INDEX_FLAT, path);
	for (int t = 0; t < 60; t++) {
		int64_t at = (int64_t)(test_rng_next(&r) % 1700) - 100;
		brain_filter *f = brain_filter_valid_at(at);
		assert_non_null(f);
		uint64_t count = 0, want = 0;
		assert_int_equal(brain_count_where(b, f, &count), 0);
		for (uint64_t id = 1; id <= M; id++)
			want += (from[id] == BRAIN_TIME_NONE || from[id] <= at) &&
			        (until[id] == BRAIN_TIME_NONE || until[id] > at);
		assert_int_equal(count, want);
		brain_filter_free(f);
	}
	char out[256];
	assert_int_equal(brain_get_metadata(b, 7, out, sizeof out, NULL), 0);
	assert_string_equal(out, "{\"@valid_until\":700,\"kind\":\"fact\"}");
	/* the library's names are its own */
	float v[DIMS] = {1};
	assert_int_equal(brain_add_with(b, 9999, v, "{\"@valid_from\":1}"), BRAIN_EJSON);
	assert_int_equal(brain_patch_metadata(b, 1, "{\"@valid_until\":null}"), BRAIN_EJSON);
	assert_int_equal(brain_set_valid(b, 1, 10, 10), BRAIN_ERANGE);
	assert_int_equal(brain_supersede(b, 1, 1, 0), BRAIN_EINVAL);
	assert_int_equal(brain_supersede(b, 1, 2, BRAIN_TIME_NONE), BRAIN_ERANGE);
	assert_int_equal(brain_set_valid(b, 3, 500, BRAIN_TIME_NONE), 0);
	assert_int_equal(brain_supersede(b, 3, 2, 400), BRAIN_ERANGE); /* before it began */
	assert_int_equal(brain_supersede(b, 1, 99999, 0), BRAIN_ENOTFOUND);
	brain_destroy(b);
	assert_int_equal(test_remove_tree(dir), 0);
}

/* Batches: checked whole before any change; the same answers as one by
 * one. */
static void batches(void **state)
{
	(void)state;
	brain_t *b = brain_create();
	assert_non_null(b);
	const char *texts[] = {"Invoice 1 was paid.", "Invoice 2 is late.", "Lunch on Friday."};
	const char *bad[] = {"{\"kind\":\"a\"}", "{\"kind\":", NULL};
	uint64_t ids[3];
	assert_int_equal(brain_remember_batch(b, texts, 3, 0.5f, bad, ids), BRAIN_EJSON);
	assert_non_null(strstr(brain_errmsg(), "text 1"));
	assert_int_equal(brain_count(b), 0);
	assert_int_equal(ids[0], BRAIN_ID_NONE);
	const char *good[] = {"{\"kind\":\"bill\"}", "{\"kind\":\"bill\"}", NULL};
	assert_int_equal(brain_remember_batch(b, texts, 3, 0.5f, good, ids), 0);
	assert_int_equal(brain_count(b), 3);
	brain_filter *f = brain_filter_string("kind", BRAIN_FILTER_EQ, "bill");
	const char *queries[] = {"invoice", "friday lunch"};
	brain_results *out[2];
	assert_int_equal(brain_recall_batch(b, queries, 2, 5, f, out), 0);
	for (int i = 0; i < 2; i++) {
		brain_results *one = NULL;
		assert_int_equal(brain_recall_filter(b, queries[i], 5, f, &one), 0);
		assert_int_equal(brain_results_count(out[i]), brain_results_count(one));
		for (size_t j = 0; j < brain_results_count(one); j++)
			assert_int_equal(brain_results_id(out[i], j), brain_results_id(one, j));
		brain_results_free(one);
		brain_results_free(out[i]);
	}
	brain_filter_free(f);
	brain_destroy(b);
}

/* brain_remember_full: a text with its length, the caller's vector and
 * metadata in one change; any bad part stores nothing. */
static void remember_full_in_one_change(void **state)
{
	(void)state;
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.dimensions = 4;
	brain_t *b = NULL;
	assert_int_equal(brain_open(NULL, &o, &b), 0);
	char buf[32];
	memcpy(buf, "Ships leave at noon.XXXX", 24); /* no NUL after 20 */
	const float v[4] = {0.0f, 3.0f, 0.0f, 4.0f};
	uint64_t id = 0;
	assert_int_equal(brain_remember_full(b, buf, 20, v, 0.75f, "{\"port\":\"Leith\"}", &id), 0);
	brain_results *r = NULL;
	assert_int_equal(brain_get(b, id, &r), 0);
	assert_string_equal(brain_results_text(r, 0), "Ships leave at noon.");
	assert_string_equal(brain_results_metadata(r, 0), "{\"port\":\"Leith\"}");
	assert_true(brain_results_importance(r, 0) == 0.75f);
	brain_results_free(r);
	float got[4];
	/* cosine: stored normalised; a text brain keeps 8 bits a component
	 * (HNSW_ELEMENT, within 1.5/254) */
	assert_int_equal(brain_get_vector(b, id, got), 0);
	assert_true(fabsf(got[1] - 0.6f) < 0.01f && fabsf(got[3] - 0.8f) < 0.01f);
	assert_true(fabsf(got[0]) < 0.01f && fabsf(got[2]) < 0.01f);
	/* without a vector: the embedder's, as brain_remember_n */
	assert_int_equal(brain_remember_full(b, "Tides turn twice a day.", 23, NULL, 0.5f, NULL, &id),
	                 0);
	/* each bad part: nothing stored */
	const float nan4[4] = {0.0f, NAN, 0.0f, 1.0f}, zero4[4] = {0};
	assert_int_equal(brain_remember_full(b, "a", 1, nan4, 0.5f, NULL, NULL), BRAIN_ENONFINITE);
	assert_int_equal(brain_remember_full(b, "a", 1, zero4, 0.5f, NULL, NULL), BRAIN_EZEROVEC);
	assert_int_equal(brain_remember_full(b, "a", 1, v, 0.5f, "{\"port\":", NULL), BRAIN_EJSON);
	assert_int_equal(brain_remember_full(b, "a", 1, v, 0.5f, "{\"port\":7}", NULL), BRAIN_ETYPE);
	assert_int_equal(brain_remember_full(b, "a\0b", 3, v, 0.5f, NULL, NULL), BRAIN_EUTF8);
	assert_int_equal(brain_remember_full(b, "a", 0, v, 0.5f, NULL, NULL), BRAIN_EEMPTY);
	assert_int_equal(brain_remember_full(b, "a", 1, v, 1.5f, NULL, NULL), BRAIN_ERANGE);
	assert_int_equal(brain_remember_full(b, NULL, 1, v, 0.5f, NULL, NULL), BRAIN_ENULL);
	assert_int_equal(brain_remember_full(NULL, "a", 1, v, 0.5f, NULL, NULL), BRAIN_ENULL);
	assert_int_equal(brain_count(b), 2);
	brain_destroy(b);
}

/* A text given with its length: every byte counts. */
static void texts_with_a_length(void **state)
{
	(void)state;
	brain_t *b = brain_create();
	assert_non_null(b);
	char buf[64];
	memcpy(buf, "The harbour opens at dawn.XXXX", 30); /* no NUL after 26 */
	uint64_t id = 0;
	assert_int_equal(brain_remember_n(b, buf, 26, 0.5f, "{\"kind\":\"note\"}", &id), 0);
	brain_results *r = NULL;
	assert_int_equal(brain_get(b, id, &r), 0);
	assert_string_equal(brain_results_text(r, 0), "The harbour opens at dawn.");
	assert_string_equal(brain_results_metadata(r, 0), "{\"kind\":\"note\"}");
	brain_results_free(r);
	/* an embedded NUL is refused, not an end */
	assert_int_equal(brain_remember_n(b, "cut\0here", 8, 0.5f, NULL, NULL), BRAIN_EUTF8);
	assert_non_null(strstr(brain_errmsg(), "byte 3"));
	assert_int_equal(brain_remember_n(b, "x", 0, 0.5f, NULL, NULL), BRAIN_EEMPTY);
	assert_int_equal(brain_remember_n(b, NULL, 3, 0.5f, NULL, NULL), BRAIN_ENULL);
	assert_int_equal(brain_count(b), 1);
	brain_destroy(b);

	/* on disk: the log holds the text alone, and replays (a child that
	 * dies without closing) */
	char dir[] = "/tmp/braincore-len-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[64];
	snprintf(path, sizeof path, "%s/b", dir);
	char *exact = malloc(26); /* no byte after the text: ASan sees a read past it */
	assert_non_null(exact);
	memcpy(exact, "The harbour opens at dawn.", 26);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		brain_options o;
		brain_options_init(&o, BRAIN_OPTIONS_VERSION);
		brain_t *c = NULL;
		int rc = brain_open(path, &o, &c);
		if (rc == 0)
			rc = brain_remember_n(c, exact, 26, 0.5f, NULL, NULL);
		_exit(rc == 0 ? 0 : 1);
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	free(exact);
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	assert_int_equal(brain_open(path, &o, &b), 0);
	assert_int_equal(brain_count(b), 1);
	char **hits = brain_recall(b, "harbour dawn", 1);
	assert_non_null(hits);
	assert_string_equal(hits[0], "The harbour opens at dawn.");
	brain_strings_free(hits);
	brain_destroy(b);
	assert_int_equal(test_remove_tree(dir), 0);
}

/* A field's type is free again once no memory holds it. */
static void a_field_type_follows_its_holders(void **state)
{
	(void)state;
	brain_t *b = vector_brain(BRAIN_INDEX_FLAT, NULL);
	float v[DIMS] = {1};
	assert_int_equal(brain_add_with(b, 1, v, "{\"x\":5}"), 0);
	assert_int_equal(brain_add_with(b, 2, v, "{\"x\":\"five\"}"), BRAIN_ETYPE);
	/* the one holder may change its own type */
	assert_int_equal(brain_set_metadata(b, 1, "{\"x\":\"five\"}"), 0);
	assert_int_equal(brain_add_with(b, 2, v, "{\"x\":\"six\"}"), 0);
	assert_int_equal(brain_forget(b, 1), 0);
	assert_int_equal(brain_forget(b, 2), 0);
	assert_int_equal(brain_add_with(b, 3, v, "{\"x\":[\"a\"]}"), 0);
	brain_filter *f = NULL;
	uint64_t count = 0;
	assert_int_equal(brain_filter_parse("x = \"five\"", &f), 0);
	assert_int_equal(brain_count_where(b, f, &count), 0);
	assert_int_equal(count, 0);
	brain_filter_free(f);
	assert_int_equal(brain_filter_parse("x CONTAINS \"a\"", &f), 0);
	assert_int_equal(brain_count_where(b, f, &count), 0);
	assert_int_equal(count, 1);
	brain_filter_free(f);
	brain_destroy(b);
}

static bool live_of(uint32_t slot, void *payload)
{
	return ((const bool *)payload)[slot];
}

static int type_of(const char *name, size_t len, void *payload)
{
	return brain__meta_field_type(payload, name, len);
}

/* The posting lists against the scan they fall back to (and the
 * reference), directly on the store, through puts, drops and moves. */
static void postings_match_their_scan(void **state)
{
	(void)state;
	enum { SLOTS = 2000 };
	test_rng r = {5};
	meta_store ms;
	assert_int_equal(brain__meta_store_init(&ms), 0);
	static bool live[SLOTS];
	static brain_meta_blob ref[SLOTS];
	memset(live, 0, sizeof live);
	for (int step = 0; step < 12000; step++) {
		uint32_t slot = (uint32_t)(test_rng_next(&r) % SLOTS);
		unsigned what = (unsigned)(test_rng_next(&r) % 4);
		if (live[slot] && what == 0) {
			brain__meta_store_drop(&ms, slot);
			live[slot] = false;
			brain__free(ref[slot].data);
			ref[slot].data = NULL;
			continue;
		}
		if (live[slot] && what == 1) {
			/* compaction: into a free slot */
			uint32_t to = (uint32_t)(test_rng_next(&r) % SLOTS);
			if (live[to])
				continue;
			assert_int_equal(brain__meta_store_prepare(&ms, ref[slot].data, ref[slot].len, to), 0);
			brain__meta_store_move(&ms, slot, to);
			live[to] = true;
			live[slot] = false;
			ref[to] = ref[slot];
			ref[slot].data = NULL;
			continue;
		}
		char json[256];
		random_json(&r, json, sizeof json);
		brain_meta_blob b, w;
		assert_int_equal(brain__meta_from_json(json, strlen(json), false, &b), 0);
		assert_int_equal(brain__meta_store_check(&ms, b.data, b.len,
		                                         live[slot] ? slot : UINT32_MAX, &w), 0);
		assert_null(w.data);
		assert_int_equal(brain__meta_store_prepare(&ms, b.data, b.len, slot), 0);
		if (live[slot])
			brain__meta_store_drop(&ms, slot);
		brain__meta_store_put(&ms, slot, brain__meta_heap(b.data, b.len));
		brain__free(ref[slot].data);
		ref[slot] = b;
		live[slot] = true;
	}
	for (int t = 0; t < 400; t++) {
		char text[4096];
		random_filter(&r, text, sizeof text, 0);
		brain_filter *f = NULL;
		assert_int_equal(brain_filter_parse(text, &f), 0);
		assert_int_equal(brain__filter_check_types(f, type_of, &ms), 0);
		brain_slotset *fast = NULL, *scan = NULL;
		assert_int_equal(brain__meta_store_eval(&ms, f, SLOTS, live_of, live, &fast), 0);
		ms.broken = true;
		assert_int_equal(brain__meta_store_eval(&ms, f, SLOTS, live_of, live, &scan), 0);
		ms.broken = false;
		for (uint32_t s = 0; s < SLOTS; s++) {
			bool want = live[s] && brain__filter_match(f, ref[s].data, ref[s].len);
			if (brain__slotset_contains(fast, s) != want ||
			    brain__slotset_contains(scan, s) != want)
				fail_msg("%s: slot %u: postings %d, scan %d, reference %d", text, s,
				         brain__slotset_contains(fast, s), brain__slotset_contains(scan, s),
				         want);
		}
		brain__slotset_free(fast);
		brain__slotset_free(scan);
		brain_filter_free(f);
	}
	for (uint32_t s = 0; s < SLOTS; s++)
		brain__free(ref[s].data);
	brain__meta_store_free(&ms);
}

/* A set built whole from a bitset (CRoaring's portable format, written
 * here) holds what one built slot by slot holds: densities from none to
 * all, sizes across several 65,536-slot containers and a partial last
 * one, added into an empty set and into one that has slots already. */
static void slot_sets_from_bits(void **state)
{
	(void)state;
	test_rng r = {5};
	static const size_t sizes[] = {1, 64, 1000, 65536, 65537, 200000};
	static const double shares[] = {0.0, 0.001, 0.05, 0.5, 1.0};
	for (size_t a = 0; a < BRAIN_ARRAY_LEN(sizes); a++)
		for (size_t d = 0; d < BRAIN_ARRAY_LEN(shares); d++)
			for (int pre = 0; pre < 2; pre++) {
				size_t n = sizes[a], words = (n + 63) / 64;
				uint64_t *bits = calloc(words, sizeof *bits);
				uint32_t *list = malloc((n + 2) * sizeof *list);
				assert_non_null(bits);
				assert_non_null(list);
				size_t k = 0;
				for (size_t i = 0; i < n; i++)
					if (test_rng_unit(&r) < shares[d] || (shares[d] >= 1.0)) {
						bits[i / 64] |= UINT64_C(1) << (i % 64);
						list[k++] = (uint32_t)i;
					}
				brain_slotset *x = brain__slotset_new(), *y = brain__slotset_new();
				if (pre) { /* slots there before, some inside, one beyond */
					uint32_t extra[2] = {0, (uint32_t)n + 70000};
					assert_int_equal(brain__slotset_add_many(x, extra, 2), 0);
					assert_int_equal(brain__slotset_add_many(y, extra, 2), 0);
				}
				assert_int_equal(brain__slotset_add_bits(x, bits, words), 0);
				if (k)
					assert_int_equal(brain__slotset_add_many(y, list, k), 0);
				assert_int_equal(brain__slotset_count(x), brain__slotset_count(y));
				size_t m = (size_t)brain__slotset_count(y);
				uint32_t *ox = malloc((m + 1) * sizeof *ox), *oy = malloc((m + 1) * sizeof *oy);
				assert_int_equal(brain__slotset_read(x, 0, ox, m), m);
				assert_int_equal(brain__slotset_read(y, 0, oy, m), m);
				assert_memory_equal(ox, oy, m * sizeof *ox);
				free(ox);
				free(oy);
				brain__slotset_free(x);
				brain__slotset_free(y);
				free(bits);
				free(list);
			}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(text_recall_where),
		cmocka_unit_test(bad_input_changes_nothing),
		cmocka_unit_test(a_field_type_follows_its_holders),
		cmocka_unit_test(texts_with_a_length),
		cmocka_unit_test(remember_full_in_one_change),
		cmocka_unit_test(batches),
		cmocka_unit_test(validity_in_time),
		cmocka_unit_test(slot_sets_from_bits),
		cmocka_unit_test(postings_match_their_scan),
		cmocka_unit_test(filters_match_a_scan_flat),
		cmocka_unit_test(filters_match_a_scan_hnsw),
		cmocka_unit_test(metadata_survives_reopen),
		cmocka_unit_test(filtered_recall_at_every_selectivity),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
