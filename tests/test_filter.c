/*
 * tests/test_filter.c - the filter language (base/filter.c): the parser's
 * trees and errors, brain_filter_to_string() read back, the builders
 * against the parser, brain__cmp_int_double(), the type check, and the
 * reference matcher against an evaluator of its own over plain structs,
 * for random memories and random filters written both as builder calls
 * and as text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <float.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>

#include "base/filter_tree.h"
#include "test_alloc.h"
#include "test_util.h"

/* ---- helpers ------------------------------------------------------------- */

/* Same tree (positions aside): node kinds, ops, fields, values to the bit,
 * kids in order, depths. */
static bool tree_equal(const brain_filter *a, const brain_filter *b)
{
	if (!a || !b)
		return a == b;
	if (a->node != b->node || a->depth != b->depth || a->n_kids != b->n_kids ||
	    a->n_values != b->n_values)
		return false;
	if (a->node == BRAIN_FILTER_CMP && a->op != b->op)
		return false;
	if ((a->field == NULL) != (b->field == NULL))
		return false;
	if (a->field && (a->field_len != b->field_len || memcmp(a->field, b->field, a->field_len) ||
	                 strlen(a->field) != a->field_len))
		return false;
	for (uint32_t i = 0; i < a->n_values; i++) {
		const brain_filter_value *x = &a->values[i], *y = &b->values[i];
		if (x->type != y->type)
			return false;
		switch (x->type) {
		case BRAIN_META_STRING:
			if (x->len != y->len || memcmp(x->s, y->s, x->len) || x->s[x->len] || y->s[y->len])
				return false;
			break;
		case BRAIN_META_INT:
			if (x->i != y->i)
				return false;
			break;
		case BRAIN_META_DOUBLE:
			if (memcmp(&x->d, &y->d, sizeof x->d))
				return false;
			break;
		default:
			if (x->b != y->b)
				return false;
			break;
		}
	}
	for (uint32_t i = 0; i < a->n_kids; i++)
		if (!tree_equal(a->kids[i], b->kids[i]))
			return false;
	return true;
}

/* The invariants of base/filter_tree.h hold for every node. */
static void check_shape(const brain_filter *f)
{
	assert_non_null(f);
	assert_true(f->depth >= 1 && f->depth <= BRAIN_FILTER_DEPTH_MAX);
	switch (f->node) {
	case BRAIN_FILTER_AND:
	case BRAIN_FILTER_OR: {
		assert_true(f->n_kids >= 2);
		uint32_t d = 0;
		for (uint32_t i = 0; i < f->n_kids; i++) {
			assert_int_not_equal(f->kids[i]->node, f->node);
			check_shape(f->kids[i]);
			if (f->kids[i]->depth > d)
				d = f->kids[i]->depth;
		}
		assert_int_equal(f->depth, d + 1);
		break;
	}
	case BRAIN_FILTER_NOT:
		assert_int_equal(f->n_kids, 1);
		check_shape(f->kids[0]);
		assert_int_equal(f->depth, f->kids[0]->depth + 1);
		break;
	default:
		assert_int_equal(f->depth, 1);
		assert_int_equal(f->n_kids, 0);
		assert_non_null(f->field);
		assert_true(f->field_len >= 1 && f->field_len <= BRAIN_META_NAME_MAX);
		if (f->node == BRAIN_FILTER_EXISTS)
			assert_int_equal(f->n_values, 0);
		else if (f->node == BRAIN_FILTER_IN)
			assert_true(f->n_values >= 1 && f->n_values <= BRAIN_FILTER_IN_MAX);
		else
			assert_int_equal(f->n_values, 1);
		if (f->node == BRAIN_FILTER_CONTAINS)
			assert_int_equal(f->values[0].type, BRAIN_META_STRING);
		break;
	}
}

static brain_filter *parse_ok(const char *text)
{
	brain_filter *f = (brain_filter *)1;
	int rc = brain_filter_parse(text, &f);
	if (rc != 0)
		fail_msg("parse of `%s` failed: %s", text, brain_errmsg());
	check_shape(f);
	return f;
}

/* to_string into a new heap string. */
static char *text_of(const brain_filter *f)
{
	size_t n = brain_filter_to_string(f, NULL, 0);
	char *s = malloc(n + 1);
	assert_non_null(s);
	memset(s, 'x', n + 1);
	assert_int_equal(brain_filter_to_string(f, s, n + 1), n);
	assert_int_equal(strlen(s), n);
	return s;
}

static bool field_is(const brain_filter *f, const char *name)
{
	return f->field && f->field_len == strlen(name) && memcmp(f->field, name, f->field_len) == 0;
}

static void assert_cmp_int(const brain_filter *f, const char *field, int op, int64_t v)
{
	assert_int_equal(f->node, BRAIN_FILTER_CMP);
	assert_true(field_is(f, field));
	assert_int_equal(f->op, op);
	assert_int_equal(f->n_values, 1);
	assert_int_equal(f->values[0].type, BRAIN_META_INT);
	assert_true(f->values[0].i == v);
}

/* parse(text) == parse(to_string(parse(text))) and to_string is a fixed
 * point; returns the canonical text (heap). */
static char *round_trip(const char *text, size_t len)
{
	brain_filter *a = NULL, *b = NULL;
	if (brain_filter_parse_len(text, len, &a) != 0)
		fail_msg("parse of `%.*s` failed: %s", (int)len, text, brain_errmsg());
	check_shape(a);
	char *s1 = text_of(a);
	if (brain_filter_parse(s1, &b) != 0)
		fail_msg("reparse of `%s` failed: %s", s1, brain_errmsg());
	if (!tree_equal(a, b))
		fail_msg("`%.*s` -> `%s` gives another tree", (int)len, text, s1);
	char *s2 = text_of(b);
	assert_string_equal(s1, s2);
	free(s2);
	brain_filter_free(a);
	brain_filter_free(b);
	return s1;
}

/* ---- parsing: the trees -------------------------------------------------- */

static void test_filter__parses_each_operator(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int op;
	} ops[] = {
		{"a = 7", BRAIN_FILTER_EQ},  {"a == 7", BRAIN_FILTER_EQ}, {"a != 7", BRAIN_FILTER_NE},
		{"a < 7", BRAIN_FILTER_LT},  {"a <= 7", BRAIN_FILTER_LE}, {"a > 7", BRAIN_FILTER_GT},
		{"a >= 7", BRAIN_FILTER_GE}, {"a>=7", BRAIN_FILTER_GE},   {"a<7", BRAIN_FILTER_LT},
		{"a!=7", BRAIN_FILTER_NE},   {"\ta\n==\r\n7 ", BRAIN_FILTER_EQ},
	};
	for (size_t i = 0; i < BRAIN_ARRAY_LEN(ops); i++) {
		brain_filter *f = parse_ok(ops[i].text);
		assert_cmp_int(f, "a", ops[i].op, 7);
		brain_filter_free(f);
	}
	/* every literal type */
	brain_filter *f = parse_ok("kind = \"note\"");
	assert_int_equal(f->values[0].type, BRAIN_META_STRING);
	assert_int_equal(f->values[0].len, 4);
	assert_string_equal(f->values[0].s, "note");
	brain_filter_free(f);
	f = parse_ok("x = -2.5e-3");
	assert_int_equal(f->values[0].type, BRAIN_META_DOUBLE);
	assert_true(f->values[0].d == -2.5e-3);
	brain_filter_free(f);
	f = parse_ok("x = 1.0");
	assert_int_equal(f->values[0].type, BRAIN_META_DOUBLE);
	assert_true(f->values[0].d == 1.0);
	brain_filter_free(f);
	f = parse_ok("x = 1E2");
	assert_int_equal(f->values[0].type, BRAIN_META_DOUBLE);
	assert_true(f->values[0].d == 100.0);
	brain_filter_free(f);
	f = parse_ok("x = -0.0");
	assert_int_equal(f->values[0].type, BRAIN_META_DOUBLE);
	assert_true(f->values[0].d == 0 && signbit(f->values[0].d));
	brain_filter_free(f);
	f = parse_ok("x = -0");
	assert_cmp_int(f, "x", BRAIN_FILTER_EQ, 0);
	brain_filter_free(f);
	f = parse_ok("x = 0.1");
	assert_true(f->values[0].d == 0.1);
	brain_filter_free(f);
	/* correctly rounded: the halfway case between 1 and the next double,
	 * plus a little, rounds up */
	f = parse_ok("x = 1.00000000000000011102230246251565404236316680908203126");
	assert_true(f->values[0].d == 1.0000000000000002);
	brain_filter_free(f);
	f = parse_ok("x = 4.9e-324");
	assert_true(f->values[0].d == 4.9406564584124654e-324);
	brain_filter_free(f);
	f = parse_ok("x = 1e-400"); /* underflow is zero, not an error */
	assert_true(f->values[0].d == 0);
	brain_filter_free(f);
	f = parse_ok("x = 1.7976931348623157e308");
	assert_true(f->values[0].d == DBL_MAX);
	brain_filter_free(f);
	f = parse_ok("x = 9223372036854775807");
	assert_cmp_int(f, "x", BRAIN_FILTER_EQ, INT64_MAX);
	brain_filter_free(f);
	f = parse_ok("x = -9223372036854775808");
	assert_cmp_int(f, "x", BRAIN_FILTER_EQ, INT64_MIN);
	brain_filter_free(f);
	f = parse_ok("done = TRUE");
	assert_int_equal(f->values[0].type, BRAIN_META_BOOL);
	assert_true(f->values[0].b);
	brain_filter_free(f);
	f = parse_ok("done != false");
	assert_int_equal(f->op, BRAIN_FILTER_NE);
	assert_int_equal(f->values[0].type, BRAIN_META_BOOL);
	assert_false(f->values[0].b);
	brain_filter_free(f);
}

static void test_filter__parses_in_contains_exists(void **state)
{
	(void)state;
	const char *texts[] = {"s IN (\"a\", 2, 2.5, true)", "s in [\"a\",2,2.5,TRUE]"};
	for (int k = 0; k < 2; k++) {
		brain_filter *f = parse_ok(texts[k]);
		assert_int_equal(f->node, BRAIN_FILTER_IN);
		assert_true(field_is(f, "s"));
		assert_int_equal(f->n_values, 4);
		assert_int_equal(f->values[0].type, BRAIN_META_STRING);
		assert_string_equal(f->values[0].s, "a");
		assert_int_equal(f->values[1].type, BRAIN_META_INT);
		assert_true(f->values[1].i == 2);
		assert_int_equal(f->values[2].type, BRAIN_META_DOUBLE);
		assert_true(f->values[2].d == 2.5);
		assert_int_equal(f->values[3].type, BRAIN_META_BOOL);
		assert_true(f->values[3].b);
		brain_filter_free(f);
	}
	brain_filter *f = parse_ok("s IN (1)");
	assert_int_equal(f->n_values, 1);
	brain_filter_free(f);
	f = parse_ok("tags CONTAINS \"billing\"");
	assert_int_equal(f->node, BRAIN_FILTER_CONTAINS);
	assert_true(field_is(f, "tags"));
	assert_string_equal(f->values[0].s, "billing");
	brain_filter_free(f);
	f = parse_ok("tags contains \"\"");
	assert_int_equal(f->values[0].len, 0);
	brain_filter_free(f);
	f = parse_ok("a.b_c9 EXISTS");
	assert_int_equal(f->node, BRAIN_FILTER_EXISTS);
	assert_true(field_is(f, "a.b_c9"));
	assert_int_equal(f->n_values, 0);
	brain_filter_free(f);
	/* the IN list at its limit */
	size_t cap = (size_t)BRAIN_FILTER_IN_MAX * 3 + 64, n = 0;
	char *text = malloc(cap);
	assert_non_null(text);
	n += (size_t)sprintf(text, "a IN (");
	for (int i = 0; i < BRAIN_FILTER_IN_MAX; i++)
		n += (size_t)sprintf(text + n, i ? ",%d" : "%d", i % 10);
	strcpy(text + n, ")");
	f = parse_ok(text);
	assert_int_equal(f->n_values, BRAIN_FILTER_IN_MAX);
	brain_filter_free(f);
	strcpy(text + n, ",1)");
	f = (brain_filter *)1;
	assert_int_equal(brain_filter_parse(text, &f), BRAIN_EFILTER);
	assert_null(f);
	char want[64];
	snprintf(want, sizeof want, "at byte %zu:", n + 1);
	assert_non_null(strstr(brain_errmsg(), want));
	free(text);
}

static void test_filter__precedence_nesting_and_flattening(void **state)
{
	(void)state;
	/* AND binds tighter than OR */
	brain_filter *f = parse_ok("a = 1 OR b = 2 AND c = 3");
	assert_int_equal(f->node, BRAIN_FILTER_OR);
	assert_int_equal(f->n_kids, 2);
	assert_cmp_int(f->kids[0], "a", BRAIN_FILTER_EQ, 1);
	assert_int_equal(f->kids[1]->node, BRAIN_FILTER_AND);
	assert_cmp_int(f->kids[1]->kids[0], "b", BRAIN_FILTER_EQ, 2);
	assert_cmp_int(f->kids[1]->kids[1], "c", BRAIN_FILTER_EQ, 3);
	assert_int_equal(f->depth, 3);
	brain_filter_free(f);
	/* NOT binds tighter than AND */
	f = parse_ok("NOT a = 1 AND b = 2");
	assert_int_equal(f->node, BRAIN_FILTER_AND);
	assert_int_equal(f->kids[0]->node, BRAIN_FILTER_NOT);
	assert_cmp_int(f->kids[0]->kids[0], "a", BRAIN_FILTER_EQ, 1);
	assert_cmp_int(f->kids[1], "b", BRAIN_FILTER_EQ, 2);
	brain_filter_free(f);
	f = parse_ok("NOT (a = 1 AND b = 2)");
	assert_int_equal(f->node, BRAIN_FILTER_NOT);
	assert_int_equal(f->kids[0]->node, BRAIN_FILTER_AND);
	assert_int_equal(f->depth, 3);
	brain_filter_free(f);
	f = parse_ok("NOT NOT a EXISTS");
	assert_int_equal(f->node, BRAIN_FILTER_NOT);
	assert_int_equal(f->kids[0]->node, BRAIN_FILTER_NOT);
	assert_int_equal(f->kids[0]->kids[0]->node, BRAIN_FILTER_EXISTS);
	assert_int_equal(f->depth, 3);
	brain_filter_free(f);
	/* parentheses override */
	f = parse_ok("(a = 1 OR b = 2) AND c = 3");
	assert_int_equal(f->node, BRAIN_FILTER_AND);
	assert_int_equal(f->kids[0]->node, BRAIN_FILTER_OR);
	assert_cmp_int(f->kids[1], "c", BRAIN_FILTER_EQ, 3);
	brain_filter_free(f);
	/* chains are one wide node; parenthesised kids of the same node are
	 * flattened into it, in order */
	f = parse_ok("a = 1 AND (b = 2 AND c = 3) AND ((d = 4)) AND (e = 5 AND (f = 6 AND g = 7))");
	assert_int_equal(f->node, BRAIN_FILTER_AND);
	assert_int_equal(f->n_kids, 7);
	assert_int_equal(f->depth, 2);
	const char *names = "abcdefg";
	for (int i = 0; i < 7; i++) {
		char nm[2] = {names[i], 0};
		assert_cmp_int(f->kids[i], nm, BRAIN_FILTER_EQ, i + 1);
	}
	brain_filter_free(f);
	f = parse_ok("(a = 1 OR b = 2) OR (c = 3 OR d = 4 AND e = 5)");
	assert_int_equal(f->node, BRAIN_FILTER_OR);
	assert_int_equal(f->n_kids, 4);
	assert_int_equal(f->kids[3]->node, BRAIN_FILTER_AND);
	brain_filter_free(f);
	/* NOT is not flattened or simplified */
	f = parse_ok("NOT (NOT (a = 1))");
	assert_int_equal(f->depth, 3);
	brain_filter_free(f);
	/* positions: the byte of each condition's field name */
	f = parse_ok("  kind = 1 AND `x y` EXISTS OR\n(NOT z CONTAINS \"q\")");
	assert_int_equal(f->node, BRAIN_FILTER_OR);
	assert_int_equal(f->kids[0]->kids[0]->pos, 2);
	assert_int_equal(f->kids[0]->kids[1]->pos, 15);
	assert_int_equal(f->kids[1]->kids[0]->pos, 36);
	brain_filter_free(f);
}

static void test_filter__keywords_names_and_escapes(void **state)
{
	(void)state;
	/* keywords in any case; a word that only starts like one is a name */
	brain_filter *f = parse_ok("a = 1 and b In (2) Or not c ExIsTs AND d cOnTaInS \"x\" "
	                           "AND e = tRuE AND f = False");
	assert_int_equal(f->node, BRAIN_FILTER_OR);
	assert_int_equal(f->kids[0]->node, BRAIN_FILTER_AND);
	assert_int_equal(f->kids[1]->node, BRAIN_FILTER_AND);
	assert_int_equal(f->kids[1]->n_kids, 4);
	brain_filter_free(f);
	f = parse_ok("ANDx = 1 AND ORDER = 2 AND nota = 3 AND INx EXISTS AND true_ = 1");
	assert_int_equal(f->n_kids, 5);
	assert_true(field_is(f->kids[0], "ANDx"));
	assert_true(field_is(f->kids[1], "ORDER"));
	assert_true(field_is(f->kids[3], "INx"));
	brain_filter_free(f);
	/* backticks: any text, a keyword, a doubled backtick */
	f = parse_ok("`a b` = 1 AND `AND` = 2 AND `x``y` = 3 AND `\xc3\xa9t\xc3\xa9` = 4 AND "
	             "```` = 5 AND `(1)` = 6 AND `a\nb` EXISTS");
	assert_int_equal(f->n_kids, 7);
	assert_true(field_is(f->kids[0], "a b"));
	assert_true(field_is(f->kids[1], "AND"));
	assert_true(field_is(f->kids[2], "x`y"));
	assert_true(field_is(f->kids[3], "\xc3\xa9t\xc3\xa9"));
	assert_true(field_is(f->kids[4], "`"));
	assert_true(field_is(f->kids[5], "(1)"));
	assert_true(field_is(f->kids[6], "a\nb"));
	brain_filter_free(f);
	/* names of 128 bytes, bare and in backticks */
	char name[200];
	memset(name, 'n', 128);
	strcpy(name + 128, " EXISTS");
	f = parse_ok(name);
	assert_int_equal(f->field_len, 128);
	brain_filter_free(f);
	name[0] = '`';
	name[129] = '`';
	memset(name + 1, 'm', 128);
	strcpy(name + 130, " EXISTS");
	f = parse_ok(name);
	assert_int_equal(f->field_len, 128);
	brain_filter_free(f);
	/* every JSON escape; the decoded string may hold NUL */
	f = parse_ok("s = \"q\\\"b\\\\s\\/\\b\\f\\n\\r\\t\\u00e9\\u20AC\\ud83d\\ude00\\u0000z\"");
	const char want[] = "q\"b\\s/\b\f\n\r\t\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\0z";
	assert_int_equal(f->values[0].len, sizeof want - 1);
	assert_memory_equal(f->values[0].s, want, sizeof want);
	brain_filter_free(f);
	/* raw UTF-8 and DEL are taken as they are */
	f = parse_ok("s = \"\xe6\x97\xa5\x7f\"");
	assert_int_equal(f->values[0].len, 4);
	brain_filter_free(f);
}

static void test_filter__long_chains_are_wide_not_deep(void **state)
{
	(void)state;
	size_t terms = 100000, cap = terms * 12 + 16;
	char *text = malloc(cap);
	assert_non_null(text);
	size_t n = 0;
	for (size_t i = 0; i < terms; i++) {
		memcpy(text + n, i ? " AND a=1" : "a=1", i ? 8 : 3);
		n += i ? 8 : 3;
	}
	text[n] = '\0';
	brain_filter *f = parse_ok(text);
	assert_int_equal(f->node, BRAIN_FILTER_AND);
	assert_int_equal(f->n_kids, terms);
	assert_int_equal(f->depth, 2);
	brain_filter_free(f);
	/* and OR chains, of AND chains */
	n = 0;
	for (size_t i = 0; i < terms; i++) {
		const char *t = i == 0 ? "a=1" : i % 2 ? " OR b=2" : " AND c=3";
		memcpy(text + n, t, strlen(t));
		n += strlen(t);
	}
	text[n] = '\0';
	f = parse_ok(text);
	assert_int_equal(f->node, BRAIN_FILTER_OR);
	assert_int_equal(f->depth, 3);
	brain_filter_free(f);
	free(text);
	/* 64 parentheses and 63 NOTs are the most accepted */
	char deep[1024];
	n = 0;
	for (int i = 0; i < 64; i++)
		deep[n++] = '(';
	n += (size_t)sprintf(deep + n, "a = 1");
	for (int i = 0; i < 64; i++)
		deep[n++] = ')';
	deep[n] = '\0';
	f = parse_ok(deep);
	assert_int_equal(f->depth, 1);
	brain_filter_free(f);
	n = 0;
	for (int i = 0; i < 63; i++)
		n += (size_t)sprintf(deep + n, "NOT ");
	sprintf(deep + n, "a = 1");
	f = parse_ok(deep);
	assert_int_equal(f->depth, BRAIN_FILTER_DEPTH_MAX);
	char *canon = round_trip(deep, strlen(deep));
	free(canon);
	brain_filter_free(f);
}

/* ---- parsing: the errors ------------------------------------------------- */

typedef struct bad_case {
	const char *text;
	int len; /* -1: strlen */
	int code;
	int pos; /* the byte in the message; -1: none */
	const char *says;
} bad_case;

static void expect_error(const char *text, size_t len, int code, int pos, const char *says)
{
	brain_filter *f = (brain_filter *)1;
	int rc = brain_filter_parse_len(text, len, &f);
	if (rc != code)
		fail_msg("`%.*s`: rc %d, expected %d (%s)", (int)len, text, rc, code,
		         rc ? brain_errmsg() : "parsed");
	assert_null(f);
	assert_int_equal(brain_errcode(), code);
	const char *msg = brain_errmsg();
	if (pos >= 0) {
		char want[64];
		snprintf(want, sizeof want, "filter: at byte %d: ", pos);
		if (strncmp(msg, want, strlen(want)) != 0)
			fail_msg("`%.*s`: message `%s`, expected it to start with `%s`", (int)len, text,
			         msg, want);
	}
	if (says && !strstr(msg, says))
		fail_msg("`%.*s`: message `%s` does not say `%s`", (int)len, text, msg, says);
}

static void test_filter__syntax_errors_name_the_byte(void **state)
{
	(void)state;
	static const bad_case cases[] = {
		{"kind =", -1, BRAIN_EFILTER, 6, "expected a value (a string, a number, true or false), "
		                                  "found the end"},
		{"kind = \"x", -1, BRAIN_EFILTER, 7, "unterminated string"},
		{"kind = \"x\\\"", -1, BRAIN_EFILTER, 7, "unterminated string"},
		{"kind = \"x\\", -1, BRAIN_EFILTER, 7, "unterminated string"},
		{"= 5", -1, BRAIN_EFILTER, 0, "expected a field, NOT or `(`, found `=`"},
		{"(a = 1", -1, BRAIN_EFILTER, 6, "expected AND, OR or `)`, found the end"},
		{"(a = 1]", -1, BRAIN_EFILTER, 6, "expected AND, OR or `)`, found `]`"},
		{"a = 1)", -1, BRAIN_EFILTER, 5, "expected AND, OR or the end, found `)`"},
		{"a IN ()", -1, BRAIN_EFILTER, 6, "expected a value"},
		{"a IN (1,)", -1, BRAIN_EFILTER, 8, "expected a value"},
		{"a IN (1 2)", -1, BRAIN_EFILTER, 8, "expected `,` or `)`, found `2`"},
		{"a IN [1)", -1, BRAIN_EFILTER, 7, "expected `,` or `]`, found `)`"},
		{"a IN 1", -1, BRAIN_EFILTER, 5, "expected `(` or `[` after IN"},
		{"a IN", -1, BRAIN_EFILTER, 4, "found the end"},
		{"a == ", -1, BRAIN_EFILTER, 5, "expected a value"},
		{"a = 01", -1, BRAIN_EFILTER, 4, "expected a number"},
		{"a = 1.", -1, BRAIN_EFILTER, 4, "expected a number"},
		{"a = 1.5e", -1, BRAIN_EFILTER, 4, "expected a number"},
		{"a = 1e+", -1, BRAIN_EFILTER, 4, "expected a number"},
		{"a = -", -1, BRAIN_EFILTER, 4, "expected a number"},
		{"a = -x", -1, BRAIN_EFILTER, 4, "found `-x`"},
		{"a = 1x", -1, BRAIN_EFILTER, 4, "found `1x`"},
		{"a = 1.5.3", -1, BRAIN_EFILTER, 4, "found `1.5.3`"},
		{"a = .5", -1, BRAIN_EFILTER, 4, "expected a value"},
		{"a = +1", -1, BRAIN_EFILTER, 4, "expected a value (a string, a number, true or false), "
		                                  "found `+`"},
		{"a = 1e999", -1, BRAIN_EFILTER, 4, "expected a finite number, found `1e999`"},
		{"a = -1e99999999999999999999", -1, BRAIN_EFILTER, 4, "finite"},
		{"a = 99999999999999999999", -1, BRAIN_EFILTER, 4, "integer out of range"},
		{"a = 9223372036854775808", -1, BRAIN_EFILTER, 4, "integer out of range"},
		{"a = -9223372036854775809", -1, BRAIN_EFILTER, 4, "integer out of range"},
		{"a = \"\\ud800\"", -1, BRAIN_EFILTER, 5, "surrogate"},
		{"a = \"\\ud800\\u0041\"", -1, BRAIN_EFILTER, 5, "surrogate"},
		{"a = \"\\udc00\"", -1, BRAIN_EFILTER, 5, "lone low surrogate"},
		{"a = \"\\x\"", -1, BRAIN_EFILTER, 5, "expected an escape"},
		{"a = \"\\u12\"", -1, BRAIN_EFILTER, 5, "four hex digits"},
		{"a = \"\\u12g4\"", -1, BRAIN_EFILTER, 5, "four hex digits"},
		{"a = \"x\ty\"", -1, BRAIN_EFILTER, 6, "control character U+0009"},
		{"a = 'x'", -1, BRAIN_EFILTER, 4, "expected a value"},
		{"a ~ 1", -1, BRAIN_EFILTER, 2, "expected a comparison (= != < <= > >= IN CONTAINS "
		                                "EXISTS) after field `a`, found `~`"},
		{"a = = 1", -1, BRAIN_EFILTER, 4, "expected a value"},
		{"a < > 1", -1, BRAIN_EFILTER, 4, "found `>`"},
		{"a ! 1", -1, BRAIN_EFILTER, 2, "found `!`"},
		{"a", -1, BRAIN_EFILTER, 1, "after field `a`, found the end"},
		{"a = foo", -1, BRAIN_EFILTER, 4, "found `foo`"},
		{"a = true1", -1, BRAIN_EFILTER, 4, "found `true1`"},
		{"a = NaN", -1, BRAIN_EFILTER, 4, "expected a value"},
		{"AND a = 1", -1, BRAIN_EFILTER, 0, "found the keyword `AND`"},
		{"exists EXISTS", -1, BRAIN_EFILTER, 0, "keyword"},
		{"a = 1 AND", -1, BRAIN_EFILTER, 9, "expected a field, NOT or `(`, found the end"},
		{"a = 1 AND AND b = 1", -1, BRAIN_EFILTER, 10, "keyword `AND`"},
		{"a = 1 OR", -1, BRAIN_EFILTER, 8, "found the end"},
		{"a = 1 b = 2", -1, BRAIN_EFILTER, 6, "expected AND, OR or the end, found `b`"},
		{"a = 1 ANDx", -1, BRAIN_EFILTER, 6, "found `ANDx`"},
		{"a EXISTS 1", -1, BRAIN_EFILTER, 9, "expected AND, OR or the end"},
		{"a CONTAINS 5", -1, BRAIN_EFILTER, 11, "expected a string after CONTAINS, found `5`"},
		{"a CONTAINS true", -1, BRAIN_EFILTER, 11, "expected a string after CONTAINS"},
		{"\"x\" = 1", -1, BRAIN_EFILTER, 0, "expected a field, NOT or `(`, found `\"x\"`"},
		{"NOT", -1, BRAIN_EFILTER, 3, "found the end"},
		{"()", -1, BRAIN_EFILTER, 1, "expected a field"},
		{"`` = 1", -1, BRAIN_EFILTER, 0, "found 0 bytes"},
		{"`abc = 1", -1, BRAIN_EFILTER, 0, "unterminated name"},
		{"", -1, BRAIN_EFILTER, 0, "found the end"},
		{"   \t\n ", -1, BRAIN_EFILTER, 6, "found the end"},
		{"a = \"\xff\"", -1, BRAIN_EUTF8, -1, "at byte 5"},
		{"a = \"\xc0\x80\"", -1, BRAIN_EUTF8, -1, "at byte 5"},
		{"a = \"\xed\xa0\x80\"", -1, BRAIN_EUTF8, -1, "at byte 5"},
		{"\xe2\x82", -1, BRAIN_EUTF8, -1, "at byte 0"},
		{"a = 1\0", 6, BRAIN_EFILTER, 5, "NUL"},
		{"a = \"\0\"", 7, BRAIN_EFILTER, 5, "NUL"},
		{"a \x01 1", -1, BRAIN_EFILTER, 2, "found `\\u0001`"},
		{"a \xe2\x82\xac 1", -1, BRAIN_EFILTER, 2, "found `\xe2\x82\xac`"},
	};
	for (size_t i = 0; i < BRAIN_ARRAY_LEN(cases); i++) {
		const bad_case *c = &cases[i];
		size_t len = c->len < 0 ? strlen(c->text) : (size_t)c->len;
		expect_error(c->text, len, c->code, c->pos, c->says);
	}
	/* a long token is cut in the message */
	char big[400];
	memset(big, 'q', sizeof big);
	memcpy(big, "a = ", 4);
	big[sizeof big - 1] = '\0';
	expect_error(big, strlen(big), BRAIN_EFILTER, 4, "qqq...`");
	assert_true(strlen(brain_errmsg()) < 300);
	/* names over 128 bytes, bare and in backticks */
	memset(big, 'n', 129);
	strcpy(big + 129, " EXISTS");
	expect_error(big, strlen(big), BRAIN_EFILTER, 0, "at most 128 bytes, found 129 bytes");
	big[0] = '`';
	memset(big + 1, 'n', 129);
	big[130] = '`';
	strcpy(big + 131, " EXISTS");
	expect_error(big, strlen(big), BRAIN_EFILTER, 0, "found 129 bytes");
	/* NULL arguments */
	brain_filter *f = (brain_filter *)1;
	assert_int_equal(brain_filter_parse(NULL, &f), BRAIN_ENULL);
	assert_null(f);
	assert_int_equal(brain_filter_parse("a EXISTS", NULL), BRAIN_ENULL);
	assert_int_equal(brain_filter_parse_len(NULL, 0, &f), BRAIN_ENULL);
}

static void test_filter__limits_fail_cleanly(void **state)
{
	(void)state;
	size_t n = 100000;
	char *text = malloc(n * 4 + 64);
	assert_non_null(text);
	/* 100000 open parentheses: refused at the 65th */
	memset(text, '(', n);
	strcpy(text + n, "a = 1");
	expect_error(text, strlen(text), BRAIN_EFILTER, 64, "at most 64 nested parentheses and NOTs");
	/* 100000 NOTs: the 65th is refused */
	for (size_t i = 0; i < n; i++)
		memcpy(text + 4 * i, "NOT ", 4);
	strcpy(text + 4 * n, "a = 1");
	expect_error(text, strlen(text), BRAIN_EFILTER, 256, "at most 64 nested");
	/* 64 NOTs make a tree of 65 levels: the outermost NOT is refused */
	strcpy(text + 4 * 64, "a = 1");
	expect_error(text, strlen(text), BRAIN_EFILTER, 0, "at most 64 levels of nesting");
	/* an OR of an AND in each of 40 parentheses: 81 levels of tree */
	size_t k = 0;
	for (int i = 0; i < 40; i++)
		k += (size_t)sprintf(text + k, "a = 1 OR a = 1 AND (");
	k += (size_t)sprintf(text + k, "a = 1");
	for (int i = 0; i < 40; i++)
		text[k++] = ')';
	text[k] = '\0';
	expect_error(text, k, BRAIN_EFILTER, -1, "at most 64 levels of nesting");
	free(text);
	/* the length limit */
	size_t big = (size_t)BRAIN_FILTER_TEXT_MAX + 1;
	char *huge = malloc(big + 1);
	assert_non_null(huge);
	memset(huge, ' ', big);
	memcpy(huge, "a EXISTS", 8);
	huge[big] = '\0';
	brain_filter *f = (brain_filter *)1;
	assert_int_equal(brain_filter_parse(huge, &f), BRAIN_ETOOLONG);
	assert_null(f);
	assert_int_equal(brain_filter_parse_len(huge, big, &f), BRAIN_ETOOLONG);
	huge[big - 1] = '\0'; /* exactly the limit: fine */
	assert_int_equal(brain_filter_parse(huge, &f), 0);
	brain_filter_free(f);
	free(huge);
}

/* ---- to_string ----------------------------------------------------------- */

static void test_filter__to_string_is_canonical(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"a=1", "a = 1"},
		{"a == 1", "a = 1"},
		{"a != -5", "a != -5"},
		{"a<1.5", "a < 1.5"},
		{"a <= 2.0", "a <= 2.0"},
		{"a > 1e2", "a > 100.0"},
		{"a >= -0.0", "a >= -0.0"},
		{"a = 1e300", "a = 1.0000000000000001e+300"},
		{"a = 0.1", "a = 0.10000000000000001"},
		{"a = 1e16", "a = 10000000000000000.0"},
		{"a = 5e-324", "a = 4.9406564584124654e-324"},
		{"a = true", "a = true"},
		{"a = FALSE", "a = false"},
		{"s = \"x\\u0041\\n\\u0001\\/\\\"\\\\\"", "s = \"xA\\n\\u0001/\\\"\\\\\""},
		{"s = \"\\b\\f\\r\\t\\u0000\\u001f\\u007f\"", "s = \"\\b\\f\\r\\t\\u0000\\u001f\x7f\""},
		{"s in [1,\"b\" , 2.5,true]", "s IN (1, \"b\", 2.5, true)"},
		{"t contains \"x\"", "t CONTAINS \"x\""},
		{"t exists", "t EXISTS"},
		{"`and` EXISTS", "`and` EXISTS"},
		{"`a b` EXISTS", "`a b` EXISTS"},
		{"`a``b` EXISTS", "`a``b` EXISTS"},
		{"`x` EXISTS", "x EXISTS"},
		{"`1x` EXISTS", "`1x` EXISTS"},
		{"`.x` EXISTS", "`.x` EXISTS"},
		{"`x.y_9` EXISTS", "x.y_9 EXISTS"},
		{"`\xc3\xa9` EXISTS", "`\xc3\xa9` EXISTS"},
		{"a=1 and b=2 or c=3", "a = 1 AND b = 2 OR c = 3"},
		{"a=1 and (b=2 or c=3)", "a = 1 AND (b = 2 OR c = 3)"},
		{"(a=1 or b=2) and (c=3 or d=4) and e=5", "(a = 1 OR b = 2) AND (c = 3 OR d = 4) AND e = 5"},
		{"not a=1", "NOT a = 1"},
		{"not (a=1)", "NOT a = 1"},
		{"not not a=1", "NOT NOT a = 1"},
		{"not (a=1 and b=2)", "NOT (a = 1 AND b = 2)"},
		{"not (a=1 or b=2) and c=1", "NOT (a = 1 OR b = 2) AND c = 1"},
		{"(((a=1)))", "a = 1"},
		{"a=1 or (b=2 or (c=3 and (d=4 or e=5)))", "a = 1 OR b = 2 OR c = 3 AND (d = 4 OR e = 5)"},
	};
	for (size_t i = 0; i < BRAIN_ARRAY_LEN(cases); i++) {
		char *s = round_trip(cases[i].in, strlen(cases[i].in));
		if (strcmp(s, cases[i].out) != 0)
			fail_msg("`%s` -> `%s`, expected `%s`", cases[i].in, s, cases[i].out);
		free(s);
	}
	/* a string with NUL */
	const char nul[] = "s = \"a\\u0000b\"";
	char *s = round_trip(nul, sizeof nul - 1);
	assert_string_equal(s, nul);
	free(s);
	/* the snprintf contract: never a cut text */
	brain_filter *f = parse_ok("kind = \"note\" AND ts >= 5");
	const char *want = "kind = \"note\" AND ts >= 5";
	size_t n = strlen(want);
	char buf[64];
	for (size_t size = 1; size <= n + 1; size++) {
		memset(buf, 'x', sizeof buf);
		assert_int_equal(brain_filter_to_string(f, buf, size), n);
		if (size == n + 1)
			assert_string_equal(buf, want);
		else
			assert_string_equal(buf, "");
		assert_int_equal(buf[size], 'x'); /* nothing written past size */
	}
	assert_int_equal(brain_filter_to_string(f, NULL, 0), n);
	memset(buf, 'x', sizeof buf);
	assert_int_equal(brain_filter_to_string(f, buf, 0), n);
	assert_int_equal(buf[0], 'x');
	brain_filter_free(f);
	memset(buf, 'x', sizeof buf);
	assert_int_equal(brain_filter_to_string(NULL, buf, sizeof buf), 0);
	assert_string_equal(buf, "");
}

static void test_filter__numbers_ignore_the_locale(void **state)
{
	(void)state;
	const char *names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "de_DE", "ru_RU.UTF-8"};
	const char *got = NULL;
	for (size_t i = 0; i < BRAIN_ARRAY_LEN(names) && !got; i++)
		got = setlocale(LC_NUMERIC, names[i]);
	if (!got)
		skip();
	char *s = round_trip("a = 2.5 OR a = -1.25e-3 OR a = 3.0", 34);
	setlocale(LC_NUMERIC, "C");
	assert_string_equal(s, "a = 2.5 OR a = -0.00125 OR a = 3.0");
	free(s);
}

/* ---- builders ------------------------------------------------------------ */

static void expect_same(brain_filter *built, const char *text)
{
	if (!built)
		fail_msg("builder for `%s` failed: %s", text, brain_errmsg());
	check_shape(built);
	brain_filter *parsed = parse_ok(text);
	assert_true(tree_equal(built, parsed));
	char *a = text_of(built), *b = text_of(parsed);
	assert_string_equal(a, b);
	free(a);
	free(b);
	brain_filter_free(built);
	brain_filter_free(parsed);
}

static void test_filter__builders_match_the_parser(void **state)
{
	(void)state;
	expect_same(brain_filter_string("kind", BRAIN_FILTER_EQ, "note"), "kind = \"note\"");
	expect_same(brain_filter_string("a b", BRAIN_FILTER_NE, "x\"\n"), "`a b` != \"x\\\"\\n\"");
	for (int op = BRAIN_FILTER_EQ; op <= BRAIN_FILTER_GE; op++) {
		static const char *ops[] = {"", "=", "!=", "<", "<=", ">", ">="};
		char t[64];
		snprintf(t, sizeof t, "ts %s -9223372036854775808", ops[op]);
		expect_same(brain_filter_int("ts", op, INT64_MIN), t);
		snprintf(t, sizeof t, "ts %s 2.5", ops[op]);
		expect_same(brain_filter_double("ts", op, 2.5), t);
	}
	expect_same(brain_filter_double("x", BRAIN_FILTER_EQ, -0.0), "x = -0.0");
	expect_same(brain_filter_double("x", BRAIN_FILTER_EQ, 3.0), "x = 3.0");
	expect_same(brain_filter_bool("done", BRAIN_FILTER_EQ, 1), "done = true");
	expect_same(brain_filter_bool("done", BRAIN_FILTER_NE, 0), "done != false");
	const char *strs[] = {"a", "", "c"};
	expect_same(brain_filter_in_strings("s", strs, 3), "s IN (\"a\", \"\", \"c\")");
	const int64_t ints[] = {1, -2, INT64_MAX};
	expect_same(brain_filter_in_ints("i", ints, 3), "i IN [1, -2, 9223372036854775807]");
	expect_same(brain_filter_contains("tags", "billing"), "tags CONTAINS \"billing\"");
	expect_same(brain_filter_exists("AND"), "`AND` EXISTS");
	/* combining flattens like the parser */
	brain_filter *a = brain_filter_and(brain_filter_int("a", BRAIN_FILTER_EQ, 1),
	                                   brain_filter_int("b", BRAIN_FILTER_EQ, 2));
	a = brain_filter_and(a, brain_filter_int("c", BRAIN_FILTER_EQ, 3));
	brain_filter *b = brain_filter_and(brain_filter_int("d", BRAIN_FILTER_EQ, 4),
	                                   brain_filter_int("e", BRAIN_FILTER_EQ, 5));
	a = brain_filter_and(a, b);
	a = brain_filter_and(brain_filter_int("z", BRAIN_FILTER_EQ, 0), a);
	expect_same(a, "z = 0 AND a = 1 AND b = 2 AND c = 3 AND d = 4 AND e = 5");
	a = brain_filter_or(brain_filter_and(brain_filter_exists("a"), brain_filter_exists("b")),
	                    brain_filter_not(brain_filter_or(brain_filter_exists("c"),
	                                                     brain_filter_exists("d"))));
	a = brain_filter_or(brain_filter_exists("e"), a);
	expect_same(a, "e EXISTS OR a EXISTS AND b EXISTS OR NOT (c EXISTS OR d EXISTS)");
	a = brain_filter_and(brain_filter_or(brain_filter_exists("a"), brain_filter_exists("b")),
	                     brain_filter_exists("c"));
	expect_same(a, "(a EXISTS OR b EXISTS) AND c EXISTS");
	/* a parsed filter combines with built ones */
	brain_filter *p = parse_ok("x = 1 AND y = 2");
	expect_same(brain_filter_and(p, brain_filter_exists("q")), "x = 1 AND y = 2 AND q EXISTS");
	/* a chain of 100000 calls stays one wide node, and fast */
	a = brain_filter_exists("f0");
	for (int i = 1; i < 100000; i++)
		a = brain_filter_and(a, brain_filter_int("f", BRAIN_FILTER_EQ, i));
	assert_non_null(a);
	assert_int_equal(a->n_kids, 100000);
	assert_int_equal(a->depth, 2);
	assert_true(a->values == NULL && a->kids[99999]->values[0].i == 99999);
	brain_filter_free(a);
	/* prepending to a wide node keeps the order */
	a = brain_filter_exists("last");
	for (int i = 0; i < 300; i++) {
		char nm[16];
		snprintf(nm, sizeof nm, "f%d", i);
		a = brain_filter_or(brain_filter_exists(nm), a);
	}
	assert_int_equal(a->n_kids, 301);
	assert_true(field_is(a->kids[0], "f299") && field_is(a->kids[300], "last"));
	brain_filter_free(a);
}

static void expect_null(brain_filter *f, int code, const char *says)
{
	assert_null(f);
	assert_int_equal(brain_errcode(), code);
	if (says && !strstr(brain_errmsg(), says))
		fail_msg("message `%s` does not say `%s`", brain_errmsg(), says);
}

static void test_filter__builders_refuse_and_free(void **state)
{
	(void)state;
	char long_name[200];
	memset(long_name, 'n', 129);
	long_name[129] = '\0';
	expect_null(brain_filter_string(NULL, BRAIN_FILTER_EQ, "x"), BRAIN_ENULL, "field is NULL");
	expect_null(brain_filter_string("a", BRAIN_FILTER_EQ, NULL), BRAIN_ENULL, "value is NULL");
	expect_null(brain_filter_string("a", BRAIN_FILTER_LT, "x"), BRAIN_EFILTER,
	            "strings are not ordered");
	expect_null(brain_filter_string("a", 0, "x"), BRAIN_EINVAL, "op 0");
	expect_null(brain_filter_string("a", 7, "x"), BRAIN_EINVAL, "op 7");
	expect_null(brain_filter_string("", BRAIN_FILTER_EQ, "x"), BRAIN_EINVAL, "empty");
	expect_null(brain_filter_string(long_name, BRAIN_FILTER_EQ, "x"), BRAIN_ETOOLONG, "128");
	expect_null(brain_filter_string("a\xff", BRAIN_FILTER_EQ, "x"), BRAIN_EUTF8, "at byte 1");
	expect_null(brain_filter_string("a", BRAIN_FILTER_EQ, "x\xc3"), BRAIN_EUTF8, "at byte 1");
	expect_null(brain_filter_int(NULL, BRAIN_FILTER_EQ, 1), BRAIN_ENULL, NULL);
	expect_null(brain_filter_int("a", -1, 1), BRAIN_EINVAL, NULL);
	expect_null(brain_filter_double("a", BRAIN_FILTER_EQ, NAN), BRAIN_EINVAL, "finite");
	expect_null(brain_filter_double("a", BRAIN_FILTER_LT, INFINITY), BRAIN_EINVAL, "finite");
	expect_null(brain_filter_double("a", BRAIN_FILTER_LT, -INFINITY), BRAIN_EINVAL, "finite");
	expect_null(brain_filter_bool("a", BRAIN_FILTER_EQ, 2), BRAIN_EINVAL, "0 or 1");
	expect_null(brain_filter_bool("a", BRAIN_FILTER_GT, 1), BRAIN_EFILTER, "not ordered");
	expect_null(brain_filter_in_strings("a", NULL, 1), BRAIN_ENULL, NULL);
	const char *strs[] = {"a", NULL};
	expect_null(brain_filter_in_strings("a", strs, 0), BRAIN_EINVAL, "1 to 65536");
	expect_null(brain_filter_in_strings("a", strs, 2), BRAIN_ENULL, "value is NULL");
	const char *bad[] = {"a", "b", "\xff"};
	expect_null(brain_filter_in_strings("a", bad, 3), BRAIN_EUTF8, NULL);
	int64_t *many = calloc((size_t)BRAIN_FILTER_IN_MAX + 1, sizeof *many);
	assert_non_null(many);
	expect_null(brain_filter_in_ints("a", many, (size_t)BRAIN_FILTER_IN_MAX + 1), BRAIN_ETOOLONG,
	            NULL);
	brain_filter *f = brain_filter_in_ints("a", many, BRAIN_FILTER_IN_MAX);
	assert_non_null(f);
	assert_int_equal(f->n_values, BRAIN_FILTER_IN_MAX);
	brain_filter_free(f);
	free(many);
	expect_null(brain_filter_in_ints("a", NULL, 1), BRAIN_ENULL, NULL);
	expect_null(brain_filter_contains("a", NULL), BRAIN_ENULL, NULL);
	expect_null(brain_filter_contains(NULL, "x"), BRAIN_ENULL, NULL);
	expect_null(brain_filter_exists(NULL), BRAIN_ENULL, NULL);
	expect_null(brain_filter_exists(long_name), BRAIN_ETOOLONG, NULL);
	/* a NULL operand frees the other and keeps the first failure's message */
	expect_null(brain_filter_and(brain_filter_exists(NULL), brain_filter_exists("x")),
	            BRAIN_ENULL, "filter_exists: the field is NULL");
	expect_null(brain_filter_or(brain_filter_exists("x"), brain_filter_int("a", 9, 1)),
	            BRAIN_EINVAL, "filter_int: op 9");
	expect_null(brain_filter_not(brain_filter_bool("a", BRAIN_FILTER_EQ, 5)), BRAIN_EINVAL,
	            "filter_bool");
	assert_null(brain_filter_and(NULL, NULL));
	assert_null(brain_filter_not(NULL));
	/* one filter as both operands */
	f = brain_filter_exists("x");
	expect_null(brain_filter_and(f, f), BRAIN_EINVAL, "same filter");
	/* nesting: 63 NOTs fit, the 64th is refused and frees */
	f = brain_filter_exists("x");
	for (int i = 0; i < 63; i++)
		f = brain_filter_not(f);
	assert_non_null(f);
	assert_int_equal(f->depth, 64);
	brain_filter *g = brain_filter_exists("y");
	for (int i = 0; i < 62; i++)
		g = brain_filter_not(g);
	assert_int_equal(g->depth, 63);
	brain_filter *h = brain_filter_and(g, brain_filter_exists("z")); /* depth 64 */
	assert_non_null(h);
	assert_int_equal(h->depth, 64);
	expect_null(brain_filter_and(f, h), BRAIN_EFILTER, "nesting deeper");
	f = brain_filter_exists("x");
	for (int i = 0; i < 63; i++)
		f = brain_filter_not(f);
	expect_null(brain_filter_not(f), BRAIN_EFILTER, "nesting deeper");
	/* a deep kid combined into a wide node of its own kind stays in */
	f = brain_filter_exists("x");
	for (int i = 0; i < 62; i++)
		f = brain_filter_not(f);
	g = brain_filter_and(f, brain_filter_exists("y"));
	assert_int_equal(g->depth, 64);
	g = brain_filter_and(g, brain_filter_and(brain_filter_exists("p"), brain_filter_exists("q")));
	assert_non_null(g);
	assert_int_equal(g->n_kids, 4);
	char *s = text_of(g);
	brain_filter *back = parse_ok(s);
	assert_true(tree_equal(g, back));
	free(s);
	brain_filter_free(back);
	brain_filter_free(g);
}

/* ---- brain__cmp_int_double ------------------------------------------------ */

static int sign(int c)
{
	return c < 0 ? -1 : c > 0;
}

static void test_filter__cmp_int_double_is_exact(void **state)
{
	(void)state;
	const double two63 = 9223372036854775808.0, two53 = 9007199254740992.0;
	static const struct {
		int64_t a;
		double b;
		int want;
	} cases[] = {
		{0, 0.0, 0},
		{0, -0.0, 0},
		{0, 0.5, -1},
		{0, -0.5, 1},
		{0, 4.9406564584124654e-324, -1},
		{0, -4.9406564584124654e-324, 1},
		{-1, -4.9406564584124654e-324, -1},
		{1, 0.99999999999999989, 1},
		{1, 1.0000000000000002, -1},
		{-1, -0.5, -1},
		{-1, -1.5, 1},
		{-1, -1.0, 0},
		{-3, -2.9999999999999996, -1},
		{5, 5.0000000000000009, -1},
		{INT64_MAX, 9223372036854775808.0, -1},
		{INT64_MAX, 9223372036854774784.0, 1}, /* the largest double below 2^63 */
		{9223372036854774784, 9223372036854774784.0, 0},
		{9223372036854774785, 9223372036854774784.0, 1},
		{9223372036854774783, 9223372036854774784.0, -1},
		{INT64_MIN, -9223372036854775808.0, 0},
		{INT64_MIN, -9223372036854777856.0, 1}, /* the next double below -2^63 */
		{INT64_MIN + 1, -9223372036854775808.0, 1},
		{INT64_MIN, -9223372036854774784.0, -1},
		{9007199254740993, 9007199254740992.0, 1},
		{9007199254740992, 9007199254740992.0, 0},
		{9007199254740991, 9007199254740992.0, -1},
		{9007199254740993, 9007199254740994.0, -1},
		{-9007199254740993, -9007199254740992.0, -1},
		{INT64_MAX, 1e300, -1},
		{INT64_MIN, -1e300, 1},
		{0, DBL_MAX, -1},
		{0, -DBL_MAX, 1},
		{INT64_MAX, DBL_MAX, -1},
		{123456789, 123456789.5, -1},
		{123456790, 123456789.5, 1},
		{-123456789, -123456789.5, 1},
		{-123456790, -123456789.5, -1},
	};
	for (size_t i = 0; i < BRAIN_ARRAY_LEN(cases); i++) {
		int got = sign(brain__cmp_int_double(cases[i].a, cases[i].b));
		if (got != cases[i].want)
			fail_msg("cmp(%" PRId64 ", %.17g) = %d, expected %d", cases[i].a, cases[i].b, got,
			         cases[i].want);
	}
	assert_true(brain__cmp_int_double(INT64_MAX, two63) < 0);
	assert_true(brain__cmp_int_double((int64_t)two53 + 1, two53) > 0);
	/* against long double, exact for both on this platform if it has a
	 * 64-bit significand */
#if LDBL_MANT_DIG >= 64
	test_rng rng = {7};
	for (int i = 0; i < 2000000; i++) {
		uint64_t r = test_rng_next(&rng);
		int64_t a;
		double b;
		switch (i % 4) {
		case 0: /* near each other, any magnitude */
			a = (int64_t)test_rng_next(&rng) >> (r % 64);
			b = (double)a + (double)((int)(r >> 8 & 7) - 3) * (i % 8 == 0 ? 0.25 : 1.0);
			break;
		case 1: { /* a double's neighbours */
			uint64_t bits = test_rng_next(&rng);
			memcpy(&b, &bits, sizeof b);
			if (!isfinite(b))
				b = 1.5;
			a = fabs(b) < two63 / 2 ? (int64_t)b + (int64_t)(r % 5) - 2 : (int64_t)r;
			break;
		}
		case 2:
			a = (int64_t)r;
			b = (double)a;
			b = nextafter(b, r & 1 ? INFINITY : -INFINITY);
			break;
		default:
			a = (int64_t)(r % 2001) - 1000;
			b = (double)((int64_t)(test_rng_next(&rng) % 8001) - 4000) / 4.0;
			break;
		}
		long double x = (long double)a, y = (long double)b;
		int want = x < y ? -1 : x > y;
		if (sign(brain__cmp_int_double(a, b)) != want)
			fail_msg("cmp(%" PRId64 ", %.17g) != %d", a, b, want);
	}
#endif
}

/* ---- the type check ------------------------------------------------------ */

static int schema_type(const char *name, size_t len, void *payload)
{
	(void)payload;
	static const struct {
		const char *name;
		int type;
	} schema[] = {
		{"s", BRAIN_META_STRING}, {"i", BRAIN_META_INT},  {"d", BRAIN_META_DOUBLE},
		{"b", BRAIN_META_BOOL},   {"l", BRAIN_META_LIST},
	};
	for (size_t k = 0; k < BRAIN_ARRAY_LEN(schema); k++)
		if (strlen(schema[k].name) == len && memcmp(schema[k].name, name, len) == 0)
			return schema[k].type;
	return BRAIN_META_NONE;
}

static void test_filter__check_types(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int pos; /* -1: passes */
		const char *says;
	} cases[] = {
		{"s = \"x\" AND s != \"y\" AND s IN (\"a\") AND s CONTAINS \"q\" AND s EXISTS", -1, NULL},
		{"i = 1 AND i = 1.5 AND i != 2 AND i < 2.5 AND i >= -1 AND i IN (1, 2.0)", -1, NULL},
		{"d = 1 AND d = 1.5 AND d < 2 AND d > -1e9 AND d IN (1.5, 7)", -1, NULL},
		{"b = true AND b != false AND b IN (true, false)", -1, NULL},
		{"l = \"x\" AND l != \"y\" AND l IN (\"a\", \"b\") AND l CONTAINS \"z\"", -1, NULL},
		{"u = 1 AND u < \"x\" AND u CONTAINS \"x\" AND u = true AND u IN (1, \"a\")", -1, NULL},
		{"NOT (i EXISTS OR b EXISTS OR l EXISTS OR d EXISTS)", -1, NULL},
		{"s = 1", 0, "field `s` holds strings; = needs a string, found an integer"},
		{"s != true", 0, "field `s` holds strings; != needs a string, found true/false"},
		{"s < \"x\"", 0, "field `s` holds strings; < needs a field of numbers"},
		{"i = \"1\"", 0, "field `i` holds integers; = needs a number, found a string"},
		{"i <= true", 0, "field `i` holds integers; <= needs a number, found true/false"},
		{"d > \"x\"", 0, "field `d` holds doubles; > needs a number, found a string"},
		{"d = false", 0, "field `d` holds doubles"},
		{"b = 1", 0, "field `b` holds true/false; = needs true or false, found an integer"},
		{"b >= true", 0, "field `b` holds true/false; >= needs a field of numbers"},
		{"l = 1.5", 0, "field `l` holds lists of strings; = needs a string (an item of the list), "
		               "found a double"},
		{"l < 1", 0, "field `l` holds lists of strings; < needs a field of numbers"},
		{"i CONTAINS \"x\"", 0, "field `i` holds integers; CONTAINS needs a list or a string field"},
		{"b CONTAINS \"x\"", 0, "holds true/false; CONTAINS needs a list or a string field"},
		{"d CONTAINS \"x\"", 0, "holds doubles; CONTAINS"},
		{"s IN (\"a\", 2)", 0, "field `s` holds strings; IN needs each value to be a string, "
		                       "found an integer (value 2 of the list)"},
		{"i IN (1, \"x\")", 0, "IN needs each value to be a number, found a string (value 2"},
		{"b IN (true, 0)", 0, "holds true/false; IN needs each value to be true or false"},
		{"l IN (\"a\", false)", 0, "holds lists of strings; IN"},
		{"s EXISTS AND (u = 1 OR NOT i = \"x\")", 27, "field `i` holds integers"},
		{"i = 1 AND\n  d CONTAINS \"x\" AND s = 1", 12, "field `d`"},
	};
	for (size_t k = 0; k < BRAIN_ARRAY_LEN(cases); k++) {
		brain_filter *f = parse_ok(cases[k].text);
		int rc = brain__filter_check_types(f, schema_type, NULL);
		if (cases[k].pos < 0) {
			if (rc != 0)
				fail_msg("`%s`: %s", cases[k].text, brain_errmsg());
		} else {
			assert_int_equal(rc, BRAIN_EFILTER);
			char want[64];
			snprintf(want, sizeof want, "filter: at byte %d: ", cases[k].pos);
			const char *msg = brain_errmsg();
			if (strncmp(msg, want, strlen(want)) != 0 || !strstr(msg, cases[k].says))
				fail_msg("`%s`: message `%s`, expected `%s...%s`", cases[k].text, msg, want,
				         cases[k].says);
		}
		brain_filter_free(f);
	}
	assert_int_equal(brain__filter_check_types(NULL, schema_type, NULL), 0);
}

/* ---- matching: hand-picked cases ------------------------------------------ */

static brain_meta_blob blob_of(const char *json)
{
	brain_meta_blob b = {NULL, 0};
	if (brain__meta_from_json(json, strlen(json), false, &b) != 0)
		fail_msg("meta_from_json(%s): %s", json, brain_errmsg());
	return b;
}

static void test_filter__match_semantics(void **state)
{
	(void)state;
	brain_meta_blob m = blob_of("{\"s\":\"hello world\",\"i\":5,\"d\":2.5,\"b\":true,"
	                            "\"l\":[\"x\",\"y\"],\"z\":-0.0,\"big\":9007199254740993,"
	                            "\"n\":\"a\\u0000b\",\"e\":[],\"odd name\":1}");
	brain_meta_blob empty = blob_of("{}");
	static const struct {
		const char *text;
		bool want;
	} cases[] = {
		{"s = \"hello world\"", true},
		{"s = \"hello\"", false},
		{"s != \"hello\"", true},
		{"s != \"hello world\"", false},
		{"s = 1", false},
		{"s != 1", false},
		{"NOT s = 1", true},
		{"s < \"z\"", false},
		{"s CONTAINS \"lo w\"", true},
		{"s CONTAINS \"\"", true},
		{"s CONTAINS \"hello world!\"", false},
		{"s CONTAINS \"world\"", true},
		{"s CONTAINS \"hello world\"", true},
		{"s CONTAINS \"wx\"", false},
		{"s IN (1, \"x\", \"hello world\")", true},
		{"s IN (1, true)", false},
		{"n = \"a\"", false},
		{"n = \"a\\u0000b\"", true},
		{"n CONTAINS \"\\u0000\"", true},
		{"i = 5", true},
		{"i = 5.0", true},
		{"i = 5.5", false},
		{"i != 5.5", true},
		{"i != 5.0", false},
		{"i < 5.5", true},
		{"i > 4.9999999999999991", true},
		{"i <= 5", true},
		{"i < 5", false},
		{"i >= 5.0", true},
		{"i = \"5\"", false},
		{"i != \"5\"", false},
		{"i IN (1, 5.0)", true},
		{"i CONTAINS \"5\"", false},
		{"big = 9007199254740992.0", false},
		{"big > 9007199254740992.0", true},
		{"big = 9007199254740993", true},
		{"big < 9007199254740994.0", true},
		{"d = 2.5", true},
		{"d = 2", false},
		{"d > 2", true},
		{"d < 3", true},
		{"d >= 2.5", true},
		{"d != 2.5", false},
		{"d = true", false},
		{"z = 0", true},
		{"z = 0.0", true},
		{"z = -0.0", true},
		{"z >= 0", true},
		{"z < 0.0", false},
		{"b = true", true},
		{"b != false", true},
		{"b = false", false},
		{"b = 1", false},
		{"b != 1", false},
		{"b < true", false},
		{"b IN (false, true)", true},
		{"l = \"x\"", true},
		{"l = \"z\"", false},
		{"l != \"z\"", true},
		{"l != \"x\"", false},
		{"l CONTAINS \"y\"", true},
		{"l CONTAINS \"\"", false},
		{"l IN (\"q\", \"y\")", true},
		{"l IN (\"q\")", false},
		{"l = 1", false},
		{"l != 1", false},
		{"e = \"x\"", false},
		{"e != \"x\"", true},
		{"e EXISTS", true},
		{"`odd name` = 1", true},
		{"missing EXISTS", false},
		{"missing != 1", false},
		{"NOT missing = 1", true},
		{"i = 5 AND d = 2.5 AND b = true", true},
		{"i = 5 AND d = 2.5 AND b = false", false},
		{"i = 6 OR d = 7 OR l CONTAINS \"x\"", true},
		{"i = 6 OR d = 7 OR l CONTAINS \"q\"", false},
		{"NOT (i = 6 OR d = 7)", true},
	};
	for (size_t k = 0; k < BRAIN_ARRAY_LEN(cases); k++) {
		brain_filter *f = parse_ok(cases[k].text);
		bool got = brain__filter_match(f, m.data, m.len);
		if (got != cases[k].want)
			fail_msg("`%s` gives %d, expected %d", cases[k].text, got, cases[k].want);
		/* no metadata: every condition is false, its NOT true */
		bool cond = f->node != BRAIN_FILTER_AND && f->node != BRAIN_FILTER_OR &&
		            f->node != BRAIN_FILTER_NOT;
		if (cond) {
			assert_false(brain__filter_match(f, NULL, 0));
			assert_false(brain__filter_match(f, empty.data, empty.len));
		}
		brain_filter_free(f);
	}
	brain_filter *f = parse_ok("NOT kind EXISTS");
	assert_true(brain__filter_match(f, NULL, 0));
	assert_true(brain__filter_match(f, empty.data, empty.len));
	brain_filter_free(f);
	/* substrings of long needles (the rolling-hash path) */
	char json[1200], lit[700];
	char hay[1001];
	for (int i = 0; i < 1000; i++)
		hay[i] = (char)('a' + (i * 7 + i / 13) % 3);
	hay[1000] = '\0';
	snprintf(json, sizeof json, "{\"s\":\"%s\"}", hay);
	brain_meta_blob h = blob_of(json);
	test_rng rng = {99};
	for (int t = 0; t < 3000; t++) {
		size_t at = test_rng_next(&rng) % 1000, n = 1 + test_rng_next(&rng) % 600;
		if (at + n > 1000)
			n = 1000 - at;
		memcpy(lit, hay + at, n);
		lit[n] = '\0';
		if (t % 2) /* perturb one byte: usually no longer contained */
			lit[test_rng_next(&rng) % n] = 'b';
		bool want = false;
		for (size_t i = 0; i + n <= 1000 && !want; i++)
			want = memcmp(hay + i, lit, n) == 0;
		f = brain_filter_contains("s", lit);
		assert_non_null(f);
		assert_int_equal(brain__filter_match(f, h.data, h.len), want);
		brain_filter_free(f);
	}
	brain__free(h.data);
	brain__free(m.data);
	brain__free(empty.data);
}

/* ---- matching: the property test ------------------------------------------ */

/* The schema: kind (string), ts (int), score (double), done (bool), tags
 * (list of strings); a field no memory has; a name that needs backticks. */
enum { F_KIND, F_TS, F_SCORE, F_DONE, F_TAGS, F_NONE, F_ODD, N_FIELDS };
static const char *const field_names[N_FIELDS] = {"kind", "ts", "score", "done", "tags",
                                                  "nope", "not here"};

typedef struct str {
	const char *s;
	size_t len;
} str;

#define S(lit) {lit, sizeof lit - 1}
/* the values memories hold, and some that none holds */
static const str kinds[] = {S("note"), S("task"), S("idea"), S("nu\0ll"), S("\xc3\xa9t\xc3\xa9"),
                            S("zzz"), S(""), S("no"), S("t"), S("nu")};
#define KINDS_HELD 5
static const str tag_values[] = {S("billing"), S("ops"), S("x"), S("y z"), S("q\"\\"), S("a`b"),
                                 S("nope"), S(""), S("bill")};
#define TAGS_HELD 6
static const int64_t ts_values[] = {-3, -2, -1, 0, 1, 2, 3, 9007199254740993, INT64_MIN,
                                    INT64_MAX, 4, -4};
#define TS_HELD 10
static const double score_values[] = {-1.5, -0.0, 0.0, 0.5, 1.0, 2.0, 3.0, -2.0,
                                      9007199254740992.0, 1e300, 0.25, 2.5, -7.0};
#define SCORES_HELD 10

typedef struct memory {
	bool has[N_FIELDS];
	int kind;     /* index into kinds */
	int64_t ts;
	double score;
	bool done;
	int n_tags;
	int tags[3];  /* indices into tag_values */
} memory;

/* A literal of the test's own: type as brain_meta_type. */
typedef struct lit {
	int type;
	str s;
	int64_t i;
	double d;
	bool b;
} lit;

#define MAX_KIDS 4
#define MAX_IN 4
typedef struct gnode {
	int node, op, field;
	lit values[MAX_IN];
	int n_values;
	struct gnode *kids[MAX_KIDS];
	int n_kids;
	bool well_typed; /* the condition and all below it */
} gnode;

static int field_type(int field)
{
	switch (field) {
	case F_KIND:
		return BRAIN_META_STRING;
	case F_TS:
		return BRAIN_META_INT;
	case F_SCORE:
		return BRAIN_META_DOUBLE;
	case F_DONE:
		return BRAIN_META_BOOL;
	case F_TAGS:
		return BRAIN_META_LIST;
	default:
		return BRAIN_META_NONE;
	}
}

static int prop_type_of(const char *name, size_t len, void *payload)
{
	(void)payload;
	for (int k = 0; k < N_FIELDS; k++)
		if (strlen(field_names[k]) == len && memcmp(field_names[k], name, len) == 0)
			return field_type(k);
	return BRAIN_META_NONE;
}

/* exact int <=> double, independently of the library */
static int ref_cmp_int_double(int64_t a, double b)
{
#if LDBL_MANT_DIG >= 64
	long double x = (long double)a, y = (long double)b;
	return x < y ? -1 : x > y;
#else
	if (b >= 9223372036854775808.0)
		return -1;
	if (b < -9223372036854775808.0)
		return 1;
	double fl = floor(b);
	int64_t t = (int64_t)fl; /* fl in [-2^63, 2^63) */
	if (a != t)
		return a < t ? -1 : 1;
	return fl == b ? 0 : -1; /* a = floor(b) <= b */
#endif
}

static bool str_eq(str a, str b)
{
	return a.len == b.len && memcmp(a.s, b.s, a.len) == 0;
}

static bool str_has(str hay, str needle)
{
	if (needle.len > hay.len)
		return false;
	for (size_t i = 0; i + needle.len <= hay.len; i++)
		if (memcmp(hay.s + i, needle.s, needle.len) == 0)
			return true;
	return false;
}

/* field = literal: 1, 0, or -1 (cannot compare) */
static int ref_eq(const memory *m, int field, const lit *v)
{
	switch (field) {
	case F_KIND:
		return v->type == BRAIN_META_STRING ? str_eq(kinds[m->kind], v->s) : -1;
	case F_TS:
		if (v->type == BRAIN_META_INT)
			return m->ts == v->i;
		return v->type == BRAIN_META_DOUBLE ? ref_cmp_int_double(m->ts, v->d) == 0 : -1;
	case F_SCORE:
		if (v->type == BRAIN_META_DOUBLE)
			return m->score == v->d;
		return v->type == BRAIN_META_INT ? ref_cmp_int_double(v->i, m->score) == 0 : -1;
	case F_DONE:
		return v->type == BRAIN_META_BOOL ? m->done == v->b : -1;
	default: /* F_TAGS */
		if (v->type != BRAIN_META_STRING)
			return -1;
		for (int k = 0; k < m->n_tags; k++)
			if (str_eq(tag_values[m->tags[k]], v->s))
				return 1;
		return 0;
	}
}

static bool ref_eval(const gnode *g, const memory *m)
{
	switch (g->node) {
	case BRAIN_FILTER_AND:
		for (int k = 0; k < g->n_kids; k++)
			if (!ref_eval(g->kids[k], m))
				return false;
		return true;
	case BRAIN_FILTER_OR:
		for (int k = 0; k < g->n_kids; k++)
			if (ref_eval(g->kids[k], m))
				return true;
		return false;
	case BRAIN_FILTER_NOT:
		return !ref_eval(g->kids[0], m);
	default:
		break;
	}
	if (!m->has[g->field])
		return false;
	const lit *v = &g->values[0];
	switch (g->node) {
	case BRAIN_FILTER_EXISTS:
		return true;
	case BRAIN_FILTER_CONTAINS:
		if (g->field == F_KIND)
			return str_has(kinds[m->kind], v->s);
		if (g->field == F_TAGS)
			return ref_eq(m, F_TAGS, v) == 1;
		return false;
	case BRAIN_FILTER_IN:
		for (int k = 0; k < g->n_values; k++)
			if (ref_eq(m, g->field, &g->values[k]) == 1)
				return true;
		return false;
	default:
		break;
	}
	if (g->op == BRAIN_FILTER_EQ)
		return ref_eq(m, g->field, v) == 1;
	if (g->op == BRAIN_FILTER_NE)
		return ref_eq(m, g->field, v) == 0;
	int c;
	if (g->field == F_TS && v->type == BRAIN_META_INT)
		c = m->ts < v->i ? -1 : m->ts > v->i;
	else if (g->field == F_TS && v->type == BRAIN_META_DOUBLE)
		c = ref_cmp_int_double(m->ts, v->d);
	else if (g->field == F_SCORE && v->type == BRAIN_META_DOUBLE)
		c = m->score < v->d ? -1 : m->score > v->d;
	else if (g->field == F_SCORE && v->type == BRAIN_META_INT)
		c = -ref_cmp_int_double(v->i, m->score);
	else
		return false;
	switch (g->op) {
	case BRAIN_FILTER_LT:
		return c < 0;
	case BRAIN_FILTER_LE:
		return c <= 0;
	case BRAIN_FILTER_GT:
		return c > 0;
	default:
		return c >= 0;
	}
}

/* A literal for the field: mostly of a type that compares with it, some
 * not (and the reference says what they give). */
static lit random_lit(test_rng *r, int field, bool *typed)
{
	lit v;
	memset(&v, 0, sizeof v);
	int type = field_type(field);
	if (type == BRAIN_META_NONE || test_rng_next(r) % 12 == 0)
		type = 1 + (int)(test_rng_next(r) % 5);
	if (type == BRAIN_META_LIST)
		type = BRAIN_META_STRING;
	/* the other number type, half the time */
	if ((type == BRAIN_META_INT || type == BRAIN_META_DOUBLE) && test_rng_next(r) % 2)
		type = type == BRAIN_META_INT ? BRAIN_META_DOUBLE : BRAIN_META_INT;
	v.type = type;
	switch (type) {
	case BRAIN_META_STRING:
		if (field == F_TAGS)
			v.s = tag_values[test_rng_next(r) % BRAIN_ARRAY_LEN(tag_values)];
		else
			v.s = kinds[test_rng_next(r) % BRAIN_ARRAY_LEN(kinds)];
		break;
	case BRAIN_META_INT:
		v.i = ts_values[test_rng_next(r) % BRAIN_ARRAY_LEN(ts_values)];
		break;
	case BRAIN_META_DOUBLE:
		v.d = score_values[test_rng_next(r) % BRAIN_ARRAY_LEN(score_values)];
		break;
	default:
		v.b = test_rng_next(r) % 2;
		break;
	}
	int ft = field_type(field);
	bool ok = ft == BRAIN_META_NONE ||
	          (ft == BRAIN_META_STRING || ft == BRAIN_META_LIST ? type == BRAIN_META_STRING
	           : ft == BRAIN_META_BOOL ? type == BRAIN_META_BOOL
	                                   : type == BRAIN_META_INT || type == BRAIN_META_DOUBLE);
	*typed = ok;
	return v;
}

static gnode *random_tree(test_rng *r, int depth)
{
	gnode *g = calloc(1, sizeof *g);
	assert_non_null(g);
	g->well_typed = true;
	if (depth <= 1 || test_rng_next(r) % 5 < 2) {
		g->field = (int)(test_rng_next(r) % N_FIELDS);
		int ft = field_type(g->field);
		int pick = (int)(test_rng_next(r) % 10);
		bool typed = true;
		if (pick < 5) {
			g->node = BRAIN_FILTER_CMP;
			g->op = BRAIN_FILTER_EQ + (int)(test_rng_next(r) % 6);
			g->values[0] = random_lit(r, g->field, &typed);
			g->n_values = 1;
			if (g->op >= BRAIN_FILTER_LT)
				typed = ft == BRAIN_META_NONE ||
				        ((ft == BRAIN_META_INT || ft == BRAIN_META_DOUBLE) &&
				         (g->values[0].type == BRAIN_META_INT ||
				          g->values[0].type == BRAIN_META_DOUBLE));
		} else if (pick < 7) {
			g->node = BRAIN_FILTER_IN;
			g->n_values = 1 + (int)(test_rng_next(r) % MAX_IN);
			for (int k = 0; k < g->n_values; k++) {
				bool t;
				g->values[k] = random_lit(r, g->field, &t);
				typed = typed && t;
			}
		} else if (pick < 9) {
			g->node = BRAIN_FILTER_CONTAINS;
			g->values[0].type = BRAIN_META_STRING;
			g->values[0].s = g->field == F_TAGS
			                     ? tag_values[test_rng_next(r) % BRAIN_ARRAY_LEN(tag_values)]
			                     : kinds[test_rng_next(r) % BRAIN_ARRAY_LEN(kinds)];
			g->n_values = 1;
			typed = ft == BRAIN_META_NONE || ft == BRAIN_META_STRING || ft == BRAIN_META_LIST;
		} else {
			g->node = BRAIN_FILTER_EXISTS;
		}
		g->well_typed = typed;
		return g;
	}
	int pick = (int)(test_rng_next(r) % 5);
	if (pick == 0) {
		g->node = BRAIN_FILTER_NOT;
		g->n_kids = 1;
	} else {
		g->node = pick < 3 ? BRAIN_FILTER_AND : BRAIN_FILTER_OR;
		g->n_kids = 2 + (int)(test_rng_next(r) % (MAX_KIDS - 1));
	}
	for (int k = 0; k < g->n_kids; k++) {
		g->kids[k] = random_tree(r, depth - 1);
		g->well_typed = g->well_typed && g->kids[k]->well_typed;
	}
	return g;
}

static void gnode_free(gnode *g)
{
	for (int k = 0; k < g->n_kids; k++)
		gnode_free(g->kids[k]);
	free(g);
}

/* A growable text. */
typedef struct sbuf {
	char *s;
	size_t len, cap;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = realloc(b->s, b->cap);
		assert_non_null(b->s);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void sb_puts(sbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

static void sb_printf(sbuf *b, const char *fmt, ...) BRAIN_PRINTF(2, 3);

static void sb_printf(sbuf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof tmp);
	sb_put(b, tmp, (size_t)n);
}

/* A JSON string, some ASCII letters written as \u escapes when `vary`. */
static void sb_json_string(sbuf *b, str s, test_rng *r)
{
	sb_put(b, "\"", 1);
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.s[i];
		if (c == '"' || c == '\\')
			sb_printf(b, "\\%c", c);
		else if (c < 0x20)
			sb_printf(b, "\\u%04x", c);
		else if (r && c < 0x80 && test_rng_next(r) % 4 == 0)
			sb_printf(b, "\\u%04X", c);
		else
			sb_put(b, (const char *)&c, 1);
	}
	sb_put(b, "\"", 1);
}

/* A double as JSON that reads back as a double (the C locale here). */
static void sb_double(sbuf *b, double d, test_rng *r)
{
	char tmp[64];
	snprintf(tmp, sizeof tmp, "%.17g", d);
	sb_puts(b, tmp);
	if (!strpbrk(tmp, ".e"))
		sb_puts(b, r && test_rng_next(r) % 2 ? "e0" : ".0");
}

static void sb_lit(sbuf *b, const lit *v, test_rng *r)
{
	switch (v->type) {
	case BRAIN_META_STRING:
		sb_json_string(b, v->s, r);
		break;
	case BRAIN_META_INT:
		sb_printf(b, "%" PRId64, v->i);
		break;
	case BRAIN_META_DOUBLE:
		sb_double(b, v->d, r);
		break;
	default:
		if (test_rng_next(r) % 2)
			sb_puts(b, v->b ? "true" : "false");
		else
			sb_puts(b, v->b ? "TRUE" : "False");
		break;
	}
}

static void sb_space(sbuf *b, test_rng *r)
{
	static const char *const spaces[] = {" ", " ", " ", "  ", "\n", "\t", " \r\n "};
	sb_puts(b, spaces[test_rng_next(r) % BRAIN_ARRAY_LEN(spaces)]);
}

/* A keyword in a random case. */
static void sb_kw(sbuf *b, const char *kw, test_rng *r)
{
	uint64_t bits = test_rng_next(r);
	for (size_t i = 0; kw[i]; i++) {
		char c = kw[i];
		if (bits >> (i % 64) & 1)
			c = (char)(c - 'A' + 'a');
		sb_put(b, &c, 1);
	}
}

static void write_text(sbuf *b, const gnode *g, test_rng *r)
{
	static const char *const ops[] = {"", "=", "!=", "<", "<=", ">", ">="};
	if (g->node == BRAIN_FILTER_AND || g->node == BRAIN_FILTER_OR) {
		for (int k = 0; k < g->n_kids; k++) {
			const gnode *kid = g->kids[k];
			if (k) {
				sb_space(b, r);
				sb_kw(b, g->node == BRAIN_FILTER_AND ? "AND" : "OR", r);
				sb_space(b, r);
			}
			bool paren = (g->node == BRAIN_FILTER_AND && kid->node == BRAIN_FILTER_OR) ||
			             test_rng_next(r) % 6 == 0;
			if (paren)
				sb_puts(b, "(");
			write_text(b, kid, r);
			if (paren)
				sb_puts(b, ")");
		}
		return;
	}
	if (g->node == BRAIN_FILTER_NOT) {
		const gnode *kid = g->kids[0];
		bool paren = kid->node == BRAIN_FILTER_AND || kid->node == BRAIN_FILTER_OR ||
		             test_rng_next(r) % 4 == 0;
		sb_kw(b, "NOT", r);
		sb_puts(b, paren ? "(" : " ");
		write_text(b, kid, r);
		if (paren)
			sb_puts(b, ")");
		return;
	}
	const char *name = field_names[g->field];
	if (g->field == F_ODD || test_rng_next(r) % 8 == 0)
		sb_printf(b, "`%s`", name);
	else
		sb_puts(b, name);
	sb_space(b, r);
	switch (g->node) {
	case BRAIN_FILTER_CMP:
		sb_puts(b, g->op == BRAIN_FILTER_EQ && test_rng_next(r) % 2 ? "==" : ops[g->op]);
		sb_space(b, r);
		sb_lit(b, &g->values[0], r);
		break;
	case BRAIN_FILTER_IN: {
		bool square = test_rng_next(r) % 2;
		sb_kw(b, "IN", r);
		sb_puts(b, square ? " [" : " (");
		for (int k = 0; k < g->n_values; k++) {
			if (k)
				sb_puts(b, ",");
			if (test_rng_next(r) % 2)
				sb_space(b, r);
			sb_lit(b, &g->values[k], r);
		}
		sb_puts(b, square ? "]" : ")");
		break;
	}
	case BRAIN_FILTER_CONTAINS:
		sb_kw(b, "CONTAINS", r);
		sb_space(b, r);
		sb_lit(b, &g->values[0], r);
		break;
	default:
		sb_kw(b, "EXISTS", r);
		break;
	}
}

static bool has_nul(const lit *v)
{
	return v->type == BRAIN_META_STRING && memchr(v->s.s, '\0', v->s.len) != NULL;
}

/* The same filter through the builders; what they cannot say (a string
 * with NUL, a mixed or double IN list, an order on a string or a bool)
 * comes from parsing that one condition. */
static brain_filter *build(const gnode *g, test_rng *r)
{
	switch (g->node) {
	case BRAIN_FILTER_AND:
	case BRAIN_FILTER_OR: {
		brain_filter *f = build(g->kids[0], r);
		for (int k = 1; k < g->n_kids; k++)
			f = g->node == BRAIN_FILTER_AND ? brain_filter_and(f, build(g->kids[k], r))
			                                : brain_filter_or(f, build(g->kids[k], r));
		return f;
	}
	case BRAIN_FILTER_NOT:
		return brain_filter_not(build(g->kids[0], r));
	default:
		break;
	}
	const char *name = field_names[g->field];
	const lit *v = &g->values[0];
	switch (g->node) {
	case BRAIN_FILTER_EXISTS:
		return brain_filter_exists(name);
	case BRAIN_FILTER_CONTAINS:
		if (!has_nul(v))
			return brain_filter_contains(name, v->s.s);
		break;
	case BRAIN_FILTER_CMP:
		if (has_nul(v))
			break;
		if (v->type == BRAIN_META_INT)
			return brain_filter_int(name, g->op, v->i);
		if (v->type == BRAIN_META_DOUBLE)
			return brain_filter_double(name, g->op, v->d);
		if (g->op != BRAIN_FILTER_EQ && g->op != BRAIN_FILTER_NE)
			break;
		if (v->type == BRAIN_META_STRING)
			return brain_filter_string(name, g->op, v->s.s);
		return brain_filter_bool(name, g->op, v->b);
	default: { /* IN */
		bool strs = true, ints = true;
		const char *sv[MAX_IN];
		int64_t iv[MAX_IN];
		for (int k = 0; k < g->n_values; k++) {
			strs = strs && g->values[k].type == BRAIN_META_STRING && !has_nul(&g->values[k]);
			ints = ints && g->values[k].type == BRAIN_META_INT;
			sv[k] = g->values[k].s.s;
			iv[k] = g->values[k].i;
		}
		if (strs)
			return brain_filter_in_strings(name, sv, (size_t)g->n_values);
		if (ints)
			return brain_filter_in_ints(name, iv, (size_t)g->n_values);
		break;
	}
	}
	sbuf b = {NULL, 0, 0};
	write_text(&b, g, r);
	brain_filter *f = NULL;
	if (brain_filter_parse(b.s, &f) != 0)
		fail_msg("parse of `%s`: %s", b.s, brain_errmsg());
	free(b.s);
	return f;
}

#define MEMORIES 500
#define FILTERS 3000

static void test_filter__matches_the_reference_evaluator(void **state)
{
	(void)state;
	test_rng rng = {20240601};
	static memory mem[MEMORIES];
	static brain_meta_blob blobs[MEMORIES];
	for (int k = 0; k < MEMORIES; k++) {
		memory *m = &mem[k];
		memset(m, 0, sizeof *m);
		for (int f = 0; f <= F_TAGS; f++)
			m->has[f] = test_rng_next(&rng) % 10 < 7;
		m->kind = (int)(test_rng_next(&rng) % KINDS_HELD);
		m->ts = ts_values[test_rng_next(&rng) % TS_HELD];
		m->score = score_values[test_rng_next(&rng) % SCORES_HELD];
		m->done = test_rng_next(&rng) % 2;
		m->n_tags = (int)(test_rng_next(&rng) % 4);
		for (int t = 0; t < m->n_tags; t++)
			m->tags[t] = (int)(test_rng_next(&rng) % TAGS_HELD);
		/* as JSON, then a blob; one memory in 25 has no metadata at all */
		if (k % 25 == 3) {
			memset(m->has, 0, sizeof m->has);
			blobs[k].data = NULL;
			blobs[k].len = 0;
			continue;
		}
		sbuf j = {NULL, 0, 0};
		sb_puts(&j, "{");
		bool first = true;
		for (int f = 0; f <= F_TAGS; f++) {
			if (!m->has[f])
				continue;
			if (!first)
				sb_puts(&j, ",");
			first = false;
			sb_printf(&j, "\"%s\":", field_names[f]);
			switch (f) {
			case F_KIND:
				sb_json_string(&j, kinds[m->kind], NULL);
				break;
			case F_TS:
				sb_printf(&j, "%" PRId64, m->ts);
				break;
			case F_SCORE:
				sb_double(&j, m->score, NULL);
				break;
			case F_DONE:
				sb_puts(&j, m->done ? "true" : "false");
				break;
			default:
				sb_puts(&j, "[");
				for (int t = 0; t < m->n_tags; t++) {
					if (t)
						sb_puts(&j, ",");
					sb_json_string(&j, tag_values[m->tags[t]], NULL);
				}
				sb_puts(&j, "]");
				break;
			}
		}
		sb_puts(&j, "}");
		blobs[k] = blob_of(j.s);
		free(j.s);
	}
	size_t matched = 0, pairs = 0, typed = 0;
	for (int n = 0; n < FILTERS; n++) {
		gnode *g = random_tree(&rng, 1 + (int)(test_rng_next(&rng) % 5));
		sbuf t = {NULL, 0, 0};
		write_text(&t, g, &rng);
		brain_filter *ft = NULL;
		if (brain_filter_parse(t.s, &ft) != 0)
			fail_msg("parse of `%s`: %s", t.s, brain_errmsg());
		check_shape(ft);
		brain_filter *fb = build(g, &rng);
		if (!fb)
			fail_msg("builders for `%s`: %s", t.s, brain_errmsg());
		check_shape(fb);
		if (!tree_equal(ft, fb))
			fail_msg("builders and parser differ for `%s`", t.s);
		char *canon = text_of(ft), *canon_b = text_of(fb);
		assert_string_equal(canon, canon_b);
		brain_filter *fr = NULL;
		if (brain_filter_parse(canon, &fr) != 0)
			fail_msg("reparse of `%s`: %s", canon, brain_errmsg());
		assert_true(tree_equal(ft, fr));
		char *again = text_of(fr);
		assert_string_equal(canon, again);
		/* the type check agrees with the generator */
		int rc = brain__filter_check_types(ft, prop_type_of, NULL);
		if ((rc == 0) != g->well_typed)
			fail_msg("`%s`: type check %d (%s), expected %s", canon, rc, rc ? brain_errmsg() : "",
			         g->well_typed ? "ok" : "an error");
		typed += g->well_typed;
		for (int k = 0; k < MEMORIES; k++) {
			bool want = ref_eval(g, &mem[k]);
			bool a = brain__filter_match(ft, blobs[k].data, blobs[k].len);
			bool b = brain__filter_match(fb, blobs[k].data, blobs[k].len);
			bool c = brain__filter_match(fr, blobs[k].data, blobs[k].len);
			if (a != want || b != want || c != want)
				fail_msg("`%s` on memory %d: parsed %d, built %d, reparsed %d, reference %d",
				         canon, k, a, b, c, want);
			matched += want;
			pairs++;
		}
		free(canon);
		free(canon_b);
		free(again);
		free(t.s);
		brain_filter_free(ft);
		brain_filter_free(fb);
		brain_filter_free(fr);
		gnode_free(g);
	}
	/* the test means something only if both answers are common */
	assert_true(matched > pairs / 10 && matched < pairs * 9 / 10);
	assert_true(typed > FILTERS / 3 && typed < FILTERS);
	for (int k = 0; k < MEMORIES; k++)
		brain__free(blobs[k].data);
}

/* random filters as text: to_string is a fixed point */
static void test_filter__random_round_trips(void **state)
{
	(void)state;
	test_rng rng = {31337};
	for (int n = 0; n < 5000; n++) {
		gnode *g = random_tree(&rng, 1 + (int)(test_rng_next(&rng) % 7));
		sbuf t = {NULL, 0, 0};
		write_text(&t, g, &rng);
		char *s = round_trip(t.s, t.len);
		free(s);
		free(t.s);
		gnode_free(g);
	}
}


/* ---- allocation failures ------------------------------------------------- */

static brain_filter *build_sample(void)
{
	const char *strs[] = {"a", "b"};
	const int64_t ints[] = {1, 2};
	brain_filter *f = brain_filter_and(brain_filter_string("kind", BRAIN_FILTER_EQ, "note"),
	                                   brain_filter_int("ts", BRAIN_FILTER_GE, 5));
	f = brain_filter_and(f, brain_filter_or(brain_filter_in_strings("s", strs, 2),
	                                        brain_filter_in_ints("i", ints, 2)));
	f = brain_filter_or(brain_filter_not(brain_filter_contains("tags", "x")), f);
	f = brain_filter_and(f, brain_filter_or(brain_filter_exists("e"),
	                                        brain_filter_bool("d", BRAIN_FILTER_EQ, 1)));
	f = brain_filter_and(brain_filter_double("score", BRAIN_FILTER_LT, 0.5), f);
	for (int i = 0; i < 5; i++)
		f = brain_filter_and(f, brain_filter_exists("more"));
	return f;
}

/* Every allocation of a parse and of a chain of builders fails in turn:
 * each failure is ENOMEM, leaves no filter and leaks nothing. */
static void test_filter__allocation_failures_are_clean(void **state)
{
	(void)state;
	assert_int_equal(test_alloc_install(), 0);
	char text[1024];
	snprintf(text, sizeof text, "kind = \"n\\u00e9\" AND (ts >= 5 OR `a b` IN (1, \"x\", 2.5, "
	         "true, 4, 5, 6)) AND NOT (t CONTAINS \"q\" OR e EXISTS OR x = 1.5e3 OR y = 1 OR "
	         "z = 2 OR w = 0.%0200d1)", 0);
	long n, live = test_alloc_live;
	for (n = 1;; n++) {
		test_alloc_arm(n);
		brain_filter *f = (brain_filter *)1;
		int rc = brain_filter_parse(text, &f);
		test_alloc_disarm();
		if (rc == 0) {
			brain_filter_free(f);
			assert_int_equal(test_alloc_live, live);
			break;
		}
		if (rc != BRAIN_ENOMEM)
			fail_msg("allocation %ld failed: %s", n, brain_errmsg());
		assert_null(f);
		assert_int_equal(test_alloc_live, live);
	}
	assert_true(n > 20);
	for (n = 1;; n++) {
		test_alloc_arm(n);
		brain_filter *f = build_sample();
		test_alloc_disarm();
		if (f) {
			char *s = text_of(f);
			brain_filter_free(f);
			assert_int_equal(test_alloc_live, live);
			brain_filter *p = parse_ok(s);
			free(s);
			brain_filter_free(p);
			break;
		}
		assert_int_equal(brain_errcode(), BRAIN_ENOMEM);
		assert_int_equal(test_alloc_live, live);
	}
	assert_true(n > 20);
	assert_int_equal(test_alloc_remove(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filter__parses_each_operator),
		cmocka_unit_test(test_filter__parses_in_contains_exists),
		cmocka_unit_test(test_filter__precedence_nesting_and_flattening),
		cmocka_unit_test(test_filter__keywords_names_and_escapes),
		cmocka_unit_test(test_filter__long_chains_are_wide_not_deep),
		cmocka_unit_test(test_filter__syntax_errors_name_the_byte),
		cmocka_unit_test(test_filter__limits_fail_cleanly),
		cmocka_unit_test(test_filter__to_string_is_canonical),
		cmocka_unit_test(test_filter__numbers_ignore_the_locale),
		cmocka_unit_test(test_filter__builders_match_the_parser),
		cmocka_unit_test(test_filter__builders_refuse_and_free),
		cmocka_unit_test(test_filter__cmp_int_double_is_exact),
		cmocka_unit_test(test_filter__check_types),
		cmocka_unit_test(test_filter__match_semantics),
		cmocka_unit_test(test_filter__matches_the_reference_evaluator),
		cmocka_unit_test(test_filter__random_round_trips),
		cmocka_unit_test(test_filter__allocation_failures_are_clean),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
