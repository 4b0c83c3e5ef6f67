/*
 * tests/test_relations.c - relations between memories through the public
 * API, against a plain list of edges this test keeps (the reference):
 * neighbours in each direction and verb, breadth-first walks against a
 * reference walk, forgets, the log and checkpoints, recall within hops,
 * and bad input.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "braincore.h"
#include "test_util.h"

#define DIMS 8
#define MAXE 4096

typedef struct ref_edge {
	uint64_t from, to;
	char verb[16];
	float weight;
	bool live;
} ref_edge;

typedef struct ref_graph {
	ref_edge e[MAXE];
	size_t n;
	bool alive[256];
} ref_graph;

static const char *verbs[] = {"knows", "part_of", "mentions", "zählt"};

static brain_t *open_brain(const char *dir)
{
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.dimensions = DIMS;
	o.metric = BRAIN_METRIC_L2;
	o.embedder = BRAIN_EMBEDDER_NONE;
	o.background = BRAIN_BACKGROUND_MANUAL;
	brain_t *b = NULL;
	assert_int_equal(brain_open(dir, &o, &b), 0);
	return b;
}

static ref_edge *ref_find(ref_graph *g, uint64_t from, uint64_t to, const char *verb)
{
	for (size_t i = 0; i < g->n; i++)
		if (g->e[i].live && g->e[i].from == from && g->e[i].to == to &&
		    strcmp(g->e[i].verb, verb) == 0)
			return &g->e[i];
	return NULL;
}

/* The brain's neighbours of id equal the reference's, as multisets. */
static void check_neighbors(brain_t *b, ref_graph *g, uint64_t id, const char *verb, int dir)
{
	brain_edges *e = NULL;
	assert_int_equal(brain_neighbors(b, id, verb, dir, &e), 0);
	size_t want = 0;
	for (size_t i = 0; i < g->n; i++) {
		const ref_edge *r = &g->e[i];
		if (!r->live || (verb && strcmp(r->verb, verb)))
			continue;
		bool out = (dir & BRAIN_DIR_OUT) && r->from == id;
		bool in = (dir & BRAIN_DIR_IN) && r->to == id;
		if (!out && !in)
			continue;
		want++;
		bool found = false;
		for (size_t j = 0; j < brain_edges_count(e) && !found; j++)
			found = brain_edges_from(e, j) == r->from && brain_edges_to(e, j) == r->to &&
			        strcmp(brain_edges_verb(e, j), r->verb) == 0 &&
			        brain_edges_weight(e, j) == r->weight && brain_edges_hops(e, j) == 1;
		if (!found)
			fail_msg("neighbors(%llu): edge %llu -%s-> %llu missing", (unsigned long long)id,
			         (unsigned long long)r->from, r->verb, (unsigned long long)r->to);
	}
	assert_int_equal(brain_edges_count(e), want);
	brain_edges_free(e);
}

/* A reference breadth-first walk: hops of every memory reached. */
static void ref_walk(const ref_graph *g, uint64_t start, unsigned depth, const char *verb, int dir,
                     unsigned *hops)
{
	for (int i = 0; i < 256; i++)
		hops[i] = UINT32_MAX;
	hops[start] = 0;
	for (unsigned d = 0; d < depth; d++)
		for (int v = 0; v < 256; v++) {
			if (hops[v] != d)
				continue;
			for (size_t i = 0; i < g->n; i++) {
				const ref_edge *r = &g->e[i];
				if (!r->live || (verb && strcmp(r->verb, verb)))
					continue;
				if ((dir & BRAIN_DIR_OUT) && r->from == (uint64_t)v && hops[r->to] == UINT32_MAX)
					hops[r->to] = d + 1;
				if ((dir & BRAIN_DIR_IN) && r->to == (uint64_t)v && hops[r->from] == UINT32_MAX)
					hops[r->from] = d + 1;
			}
		}
}

static void check_walk(brain_t *b, const ref_graph *g, uint64_t start, unsigned depth,
                       const char *verb, int dir)
{
	unsigned hops[256];
	ref_walk(g, start, depth, verb, dir, hops);
	brain_edges *e = NULL;
	assert_int_equal(brain_traverse(b, start, depth, verb, dir, &e), 0);
	size_t want = 0;
	for (int v = 0; v < 256; v++)
		want += v != (int)start && hops[v] != UINT32_MAX;
	assert_int_equal(brain_edges_count(e), want);
	unsigned last = 0;
	for (size_t j = 0; j < brain_edges_count(e); j++) {
		/* the memory reached is the end one hop further than the other */
		uint64_t a = brain_edges_from(e, j), c = brain_edges_to(e, j);
		unsigned h = brain_edges_hops(e, j);
		assert_true(a < 256 && c < 256);
		uint64_t reached = hops[c] == h && hops[a] == h - 1 ? c : a;
		assert_int_equal(hops[reached], brain_edges_hops(e, j));
		assert_true(brain_edges_hops(e, j) >= last); /* nearest first */
		last = brain_edges_hops(e, j);
	}
	brain_edges_free(e);
}

static void random_ops(brain_t *b, ref_graph *g, test_rng *r, int n)
{
	for (int k = 0; k < n; k++) {
		uint64_t from = 1 + test_rng_next(r) % 60, to = 1 + test_rng_next(r) % 60;
		const char *verb = verbs[test_rng_next(r) % 4];
		unsigned what = (unsigned)(test_rng_next(r) % 10);
		if (what < 6) {
			float w = (float)(test_rng_next(r) % 100) / 10.0f;
			int rc = brain_relate(b, from, to, verb, w);
			if (!g->alive[from] || !g->alive[to]) {
				assert_int_equal(rc, BRAIN_ENOTFOUND);
				continue;
			}
			assert_int_equal(rc, 0);
			ref_edge *e = ref_find(g, from, to, verb);
			if (e) {
				e->weight = w;
			} else if (g->n < MAXE) {
				g->e[g->n] = (ref_edge){from, to, "", w, true};
				snprintf(g->e[g->n].verb, sizeof g->e[g->n].verb, "%s", verb);
				g->n++;
			}
		} else if (what < 8) {
			bool all = what == 7;
			int rc = brain_unrelate(b, from, to, all ? NULL : verb);
			size_t gone = 0;
			for (size_t i = 0; i < g->n; i++)
				if (g->e[i].live && g->e[i].from == from && g->e[i].to == to &&
				    (all || strcmp(g->e[i].verb, verb) == 0)) {
					g->e[i].live = false;
					gone++;
				}
			assert_int_equal(rc, gone ? 0 : BRAIN_ENOTFOUND);
		} else if (what == 8 && g->alive[from]) {
			assert_int_equal(brain_forget(b, from), 0);
			g->alive[from] = false;
			for (size_t i = 0; i < g->n; i++)
				if (g->e[i].from == from || g->e[i].to == from)
					g->e[i].live = false;
		} else if (what == 9 && !g->alive[from]) {
			float v[DIMS] = {(float)from, 1};
			assert_int_equal(brain_add(b, from, v), 0);
			g->alive[from] = true;
		}
	}
}

static void check_all(brain_t *b, ref_graph *g, test_rng *r)
{
	for (uint64_t id = 1; id <= 60; id++) {
		if (!g->alive[id]) {
			brain_edges *e = NULL;
			assert_int_equal(brain_neighbors(b, id, NULL, BRAIN_DIR_BOTH, &e), BRAIN_ENOTFOUND);
			assert_null(e);
			continue;
		}
		for (int dir = 1; dir <= 3; dir++) {
			check_neighbors(b, g, id, NULL, dir);
			check_neighbors(b, g, id, verbs[test_rng_next(r) % 4], dir);
			check_walk(b, g, id, (unsigned)(test_rng_next(r) % 4), NULL, dir);
			check_walk(b, g, id, 1 + (unsigned)(test_rng_next(r) % 3),
			           verbs[test_rng_next(r) % 4], dir);
		}
	}
}

static ref_graph *new_graph(brain_t *b)
{
	ref_graph *g = calloc(1, sizeof *g);
	assert_non_null(g);
	for (uint64_t id = 1; id <= 60; id++) {
		float v[DIMS] = {(float)id, 1};
		assert_int_equal(brain_add(b, id, v), 0);
		g->alive[id] = true;
	}
	return g;
}

static void relations_match_a_reference(void **state)
{
	(void)state;
	test_rng r = {11};
	brain_t *b = open_brain(NULL);
	ref_graph *g = new_graph(b);
	for (int round = 0; round < 5; round++) {
		random_ops(b, g, &r, 800);
		check_all(b, g, &r);
	}
	brain_destroy(b);
	free(g);
}

/* Edges survive the log alone, a checkpoint, and the log after it. */
static void relations_survive_reopen(void **state)
{
	(void)state;
	char dir[] = "/tmp/braincore-rel-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[64];
	snprintf(path, sizeof path, "%s/b", dir);
	test_rng r = {12};
	brain_t *b = open_brain(path);
	ref_graph *g = new_graph(b);
	random_ops(b, g, &r, 1500);
	assert_int_equal(brain_close(b), 0);
	b = open_brain(path);
	check_all(b, g, &r);
	assert_int_equal(brain_checkpoint(b), 0);
	random_ops(b, g, &r, 500);
	assert_int_equal(brain_close(b), 0);
	b = open_brain(path);
	check_all(b, g, &r);
	assert_int_equal(brain_checkpoint(b), 0);
	assert_int_equal(brain_close(b), 0);
	b = open_brain(path);
	check_all(b, g, &r);
	brain_destroy(b);
	free(g);
	assert_int_equal(test_remove_tree(dir), 0);
}

static void bad_input(void **state)
{
	(void)state;
	brain_t *b = open_brain(NULL);
	float v[DIMS] = {1};
	assert_int_equal(brain_add(b, 1, v), 0);
	assert_int_equal(brain_add(b, 2, v), 0);
	assert_int_equal(brain_relate(b, 1, 2, "knows", 0.5f), 0);
	assert_int_equal(brain_relate(b, 1, 3, "knows", 0.5f), BRAIN_ENOTFOUND);
	assert_non_null(strstr(brain_errmsg(), "3"));
	assert_int_equal(brain_relate(b, 9, 1, "knows", 0.5f), BRAIN_ENOTFOUND);
	assert_int_equal(brain_relate(b, 1, 2, NULL, 0.5f), BRAIN_ENULL);
	assert_int_equal(brain_relate(b, 1, 2, "", 0.5f), BRAIN_EINVAL);
	assert_int_equal(brain_relate(b, 1, 2, "\xff", 0.5f), BRAIN_EUTF8);
	char longv[200];
	memset(longv, 'v', sizeof longv - 1);
	longv[sizeof longv - 1] = '\0';
	assert_int_equal(brain_relate(b, 1, 2, longv, 0.5f), BRAIN_ETOOLONG);
	assert_int_equal(brain_relate(b, 1, 2, "knows", NAN), BRAIN_ENONFINITE);
	assert_int_equal(brain_relate(b, 1, 2, "knows", INFINITY), BRAIN_ENONFINITE);
	assert_int_equal(brain_relate(NULL, 1, 2, "knows", 1), BRAIN_ENULL);
	assert_int_equal(brain_unrelate(b, 2, 1, "knows"), BRAIN_ENOTFOUND);
	assert_int_equal(brain_unrelate(b, 1, 2, "likes"), BRAIN_ENOTFOUND);
	brain_edges *e = NULL;
	assert_int_equal(brain_neighbors(b, 1, NULL, 0, &e), BRAIN_ERANGE);
	assert_int_equal(brain_neighbors(b, 1, NULL, 4, &e), BRAIN_ERANGE);
	assert_int_equal(brain_neighbors(b, 1, NULL, BRAIN_DIR_OUT, NULL), BRAIN_ENULL);
	assert_int_equal(brain_neighbors(b, 77, NULL, BRAIN_DIR_OUT, &e), BRAIN_ENOTFOUND);
	/* nothing changed */
	assert_int_equal(brain_neighbors(b, 1, NULL, BRAIN_DIR_BOTH, &e), 0);
	assert_int_equal(brain_edges_count(e), 1);
	assert_string_equal(brain_edges_verb(e, 0), "knows");
	assert_true(brain_edges_weight(e, 0) == 0.5f);
	assert_null(brain_edges_verb(e, 1));
	assert_true(isnan(brain_edges_weight(e, 1)));
	brain_edges_free(e);
	/* a loop is listed once, both ways */
	assert_int_equal(brain_relate(b, 2, 2, "self", 1), 0);
	assert_int_equal(brain_neighbors(b, 2, "self", BRAIN_DIR_BOTH, &e), 0);
	assert_int_equal(brain_edges_count(e), 1);
	brain_edges_free(e);
	brain_destroy(b);
}

/* Recall among the memories near one: texts related in two clusters. */
static void recall_near_stays_near(void **state)
{
	(void)state;
	brain_t *b = brain_create();
	assert_non_null(b);
	uint64_t ana, acme, inv1, globex, inv2;
	assert_int_equal(brain_remember_with(b, "Ana is a customer.", 0.5f, NULL, &ana), 0);
	assert_int_equal(brain_remember_with(b, "Acme Corp buys our product.", 0.5f, NULL, &acme), 0);
	assert_int_equal(brain_remember_with(b, "The invoice for Acme is overdue.", 0.5f, NULL, &inv1),
	                 0);
	assert_int_equal(brain_remember_with(b, "Globex pays on time.", 0.5f, NULL, &globex), 0);
	assert_int_equal(brain_remember_with(b, "The invoice for Globex was paid.", 0.5f,
	                                     "{\"kind\":\"invoice\"}", &inv2), 0);
	assert_int_equal(brain_relate(b, ana, acme, "works_at", 1), 0);
	assert_int_equal(brain_relate(b, inv1, acme, "billed_to", 1), 0);
	assert_int_equal(brain_relate(b, inv2, globex, "billed_to", 1), 0);
	brain_results *r = NULL;
	assert_int_equal(brain_recall_near(b, "invoice", 5, ana, 2, NULL, &r), 0);
	assert_int_equal(brain_results_count(r), 1);
	assert_int_equal(brain_results_id(r, 0), inv1);
	brain_results_free(r);
	assert_int_equal(brain_recall_near(b, "invoice", 5, ana, 1, NULL, &r), 0);
	assert_int_equal(brain_results_count(r), 0); /* two hops away */
	brain_results_free(r);
	assert_int_equal(brain_recall_near(b, "invoice", 5, globex, 1, NULL, &r), 0);
	assert_int_equal(brain_results_count(r), 1);
	assert_int_equal(brain_results_id(r, 0), inv2);
	brain_results_free(r);
	brain_filter *f = brain_filter_string("kind", BRAIN_FILTER_EQ, "invoice");
	assert_int_equal(brain_recall_near(b, "invoice", 5, acme, 3, f, &r), 0);
	assert_int_equal(brain_results_count(r), 0); /* inv2 is not near acme */
	brain_results_free(r);
	brain_filter_free(f);
	/* forgetting a memory cuts its edges */
	assert_int_equal(brain_forget(b, acme), 0);
	assert_int_equal(brain_recall_near(b, "invoice", 5, ana, 3, NULL, &r), 0);
	assert_int_equal(brain_results_count(r), 0);
	brain_results_free(r);
	assert_int_equal(brain_recall_near(b, "invoice", 5, acme, 3, NULL, &r), BRAIN_ENOTFOUND);
	brain_destroy(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bad_input),
		cmocka_unit_test(recall_near_stays_near),
		cmocka_unit_test(relations_match_a_reference),
		cmocka_unit_test(relations_survive_reopen),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
