/*
 * tests/fuzz/fuzz_filter.c - libFuzzer target: arbitrary bytes as a filter
 * text. A text that parses must give a tree within the depth limit whose
 * brain_filter_to_string() reads back to a filter with the same text (a
 * fixed point) and the same answers on a few fixed metadata blobs; the
 * type check must run on it. A text that does not parse must fail with
 * one of the documented codes and leave no filter.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/filter_tree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

/* Blobs whose fields the usual seeds name, made once. */
static const char *const blob_json[] = {
	"{}",
	"{\"kind\":\"note\",\"ts\":1700000000,\"score\":0.5,\"done\":false,"
	"\"tags\":[\"billing\",\"ops\"],\"a\":1,\"b\":-0.0,\"s\":\"hello\\u0000world\"}",
	"{\"kind\":\"task\",\"ts\":-5,\"score\":9007199254740992.0,\"done\":true,\"tags\":[],"
	"\"a\":9007199254740993,\"x\":\"\",\"odd name\":[\"\"],\"AND\":2.5}",
	"{\"a\":\"1\",\"b\":true,\"c\":[\"a\",\"b\",\"c\"],\"kind\":[\"note\"],\"ts\":1.5,"
	"\"score\":-9223372036854775808}",
};
#define N_BLOBS (sizeof blob_json / sizeof blob_json[0])

static brain_meta_blob blobs[N_BLOBS];
static bool blobs_made;

static void make_blobs(void)
{
	if (blobs_made)
		return;
	for (size_t k = 0; k < N_BLOBS; k++)
		check(brain__meta_from_json(blob_json[k], strlen(blob_json[k]), false, &blobs[k]) == 0);
	blobs_made = true;
}

/* A fixed type table: a few names of each type, the rest never seen. */
static int type_of(const char *name, size_t len, void *payload)
{
	(void)payload;
	static const struct {
		const char *name;
		int type;
	} table[] = {
		{"kind", BRAIN_META_STRING}, {"s", BRAIN_META_STRING}, {"ts", BRAIN_META_INT},
		{"a", BRAIN_META_INT},       {"score", BRAIN_META_DOUBLE}, {"b", BRAIN_META_DOUBLE},
		{"done", BRAIN_META_BOOL},   {"tags", BRAIN_META_LIST}, {"c", BRAIN_META_LIST},
	};
	for (size_t k = 0; k < sizeof table / sizeof table[0]; k++)
		if (strlen(table[k].name) == len && memcmp(table[k].name, name, len) == 0)
			return table[k].type;
	return BRAIN_META_NONE;
}

/* Depth and shape invariants of base/filter_tree.h. */
static uint32_t check_tree(const brain_filter *f)
{
	check(f != NULL);
	check(f->depth >= 1 && f->depth <= BRAIN_FILTER_DEPTH_MAX);
	uint32_t d = 0;
	switch (f->node) {
	case BRAIN_FILTER_AND:
	case BRAIN_FILTER_OR:
	case BRAIN_FILTER_NOT:
		check(f->node == BRAIN_FILTER_NOT ? f->n_kids == 1 : f->n_kids >= 2);
		for (uint32_t i = 0; i < f->n_kids; i++) {
			check(f->node == BRAIN_FILTER_NOT || f->kids[i]->node != f->node);
			uint32_t k = check_tree(f->kids[i]);
			if (k > d)
				d = k;
		}
		check(f->depth == d + 1);
		break;
	default:
		check(f->depth == 1 && f->n_kids == 0);
		check(f->field_len >= 1 && f->field_len <= BRAIN_META_NAME_MAX);
		check(strlen(f->field) == f->field_len);
		check(brain__utf8_valid(f->field, f->field_len, NULL));
		for (uint32_t i = 0; i < f->n_values; i++)
			if (f->values[i].type == BRAIN_META_STRING)
				check(brain__utf8_valid(f->values[i].s, f->values[i].len, NULL));
		break;
	}
	return f->depth;
}

static char *text_of(const brain_filter *f, size_t *len)
{
	size_t n = brain_filter_to_string(f, NULL, 0);
	char *s = malloc(n + 1);
	check(s != NULL);
	check(brain_filter_to_string(f, s, n + 1) == n);
	check(strlen(s) == n);
	/* one byte short: "" and the same length */
	if (n) {
		check(brain_filter_to_string(f, s, n) == n);
		check(s[0] == '\0');
		check(brain_filter_to_string(f, s, n + 1) == n);
	}
	*len = n;
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	make_blobs();
	brain_filter *f = (brain_filter *)1;
	int rc = brain_filter_parse_len((const char *)data, size, &f);
	if (rc != 0) {
		check(f == NULL);
		check(rc == BRAIN_EFILTER || rc == BRAIN_EUTF8 || rc == BRAIN_ETOOLONG ||
		      rc == BRAIN_ENOMEM);
		check(brain_errcode() == rc);
		return 0;
	}
	check_tree(f);
	size_t len1, len2;
	char *s1 = text_of(f, &len1);
	brain_filter *g = NULL;
	check(brain_filter_parse_len(s1, len1, &g) == 0);
	check_tree(g);
	char *s2 = text_of(g, &len2);
	check(len1 == len2 && memcmp(s1, s2, len1) == 0);
	check(f->depth == g->depth && f->node == g->node);
	check(brain__filter_match(f, NULL, 0) == brain__filter_match(g, NULL, 0));
	for (size_t k = 0; k < N_BLOBS; k++)
		check(brain__filter_match(f, blobs[k].data, blobs[k].len) ==
		      brain__filter_match(g, blobs[k].data, blobs[k].len));
	int t1 = brain__filter_check_types(f, type_of, NULL);
	int t2 = brain__filter_check_types(g, type_of, NULL);
	check(t1 == 0 || t1 == BRAIN_EFILTER);
	check(t1 == t2);
	/* combined with itself through the builders: still within limits or
	 * refused cleanly */
	brain_filter *n = brain_filter_not(g);
	if (n)
		check_tree(n);
	brain_filter *both = brain_filter_and(f, n);
	if (both)
		check_tree(both);
	brain_filter_free(both);
	free(s1);
	free(s2);
	return 0;
}
