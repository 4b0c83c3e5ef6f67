/*
 * tests/test_meta.c - metadata (base/meta.h): JSON in, the canonical blob,
 * JSON out. Hand-written cases for every type, escape, error and limit;
 * every truncation and many byte changes of valid blobs through the check;
 * merge patches; the order-preserving number keys; and random metadata
 * written as JSON by a writer of this file's own, read back field by field.
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

#include "base/meta.h"
#include "test_alloc.h"
#include "test_util.h"

/* ---- helpers ----------------------------------------------------------- */

static brain_meta_blob parse_n(const char *json, size_t len, bool patch)
{
	brain_meta_blob b = {NULL, 0};
	int rc = brain__meta_from_json(json, len, patch, &b);
	if (rc)
		print_error("unexpected error %d: %s\n", rc, brain_errmsg());
	assert_int_equal(rc, 0);
	assert_non_null(b.data);
	assert_int_equal(brain__meta_check(b.data, b.len, patch), 0);
	return b;
}

static brain_meta_blob parse(const char *json, bool patch)
{
	return parse_n(json, strlen(json), patch);
}

static void blob_free(brain_meta_blob *b)
{
	brain__free(b->data);
	b->data = NULL;
	b->len = 0;
}

/* The blob as JSON (malloc'd), through the snprintf contract. */
static char *json_of(const void *blob, size_t len)
{
	size_t n = brain__meta_to_json(blob, len, NULL, 0);
	char *s = malloc(n + 1);
	assert_non_null(s);
	assert_int_equal(brain__meta_to_json(blob, len, s, n + 1), n);
	assert_int_equal(strlen(s), n); /* NUL is always escaped */
	return s;
}

/* to_json then from_json gives the same bytes. */
static void assert_round_trip(const void *blob, size_t len, bool patch)
{
	char *s = json_of(blob, len);
	brain_meta_blob again = parse(s, patch);
	assert_int_equal(again.len, len);
	assert_memory_equal(again.data, blob, len);
	blob_free(&again);
	free(s);
}

static void assert_same_blob(const brain_meta_blob *a, const brain_meta_blob *b)
{
	assert_int_equal(a->len, b->len);
	assert_memory_equal(a->data, b->data, a->len);
}

static bool field_named(const brain_meta_field *f, const char *name)
{
	return f->name_len == strlen(name) && memcmp(f->name, name, f->name_len) == 0;
}

static brain_meta_field find(const brain_meta_blob *b, const char *name)
{
	brain_meta_field f;
	assert_true(brain__meta_find(b->data, b->len, name, strlen(name), &f));
	assert_true(field_named(&f, name));
	return f;
}

static uint64_t bits(double d)
{
	uint64_t u;
	memcpy(&u, &d, sizeof u);
	return u;
}

static double from_bits(uint64_t u)
{
	double d;
	memcpy(&d, &u, sizeof d);
	return d;
}

/* ---- every type -------------------------------------------------------- */

static void test_meta__every_type_parses_and_iterates(void **state)
{
	(void)state;
	const char *json = "{\"kind\":\"note\",\"ts\":1700000000,\"score\":0.5,\"done\":false,"
	                   "\"tags\":[\"billing\",\"x\\u00e9\",\"billing\"],\"none\":[],"
	                   "\"yes\":true,\"neg\":-42,\"exp\":1e3}";
	brain_meta_blob b = parse(json, false);
	assert_int_equal(brain__meta_count(b.data), 9);

	static const char *order[] = {"done", "exp", "kind", "neg", "none",
	                              "score", "tags", "ts", "yes"};
	size_t pos = 0, k = 0;
	brain_meta_field f;
	while (brain__meta_next(b.data, b.len, &pos, &f)) {
		assert_true(k < BRAIN_ARRAY_LEN(order));
		assert_true(field_named(&f, order[k]));
		k++;
	}
	assert_int_equal(k, 9);
	assert_int_equal(pos, b.len);

	f = find(&b, "kind");
	assert_int_equal(f.type, BRAIN_META_STRING);
	assert_int_equal(f.str_len, 4);
	assert_memory_equal(f.str, "note", 4);
	f = find(&b, "ts");
	assert_int_equal(f.type, BRAIN_META_INT);
	assert_true(f.i == 1700000000);
	f = find(&b, "neg");
	assert_int_equal(f.type, BRAIN_META_INT);
	assert_true(f.i == -42);
	f = find(&b, "score");
	assert_int_equal(f.type, BRAIN_META_DOUBLE);
	assert_true(f.d == 0.5);
	f = find(&b, "exp");
	assert_int_equal(f.type, BRAIN_META_DOUBLE);
	assert_true(f.d == 1000.0);
	f = find(&b, "done");
	assert_int_equal(f.type, BRAIN_META_BOOL);
	assert_false(f.b);
	f = find(&b, "yes");
	assert_int_equal(f.type, BRAIN_META_BOOL);
	assert_true(f.b);
	f = find(&b, "none");
	assert_int_equal(f.type, BRAIN_META_LIST);
	assert_int_equal(f.n_items, 0);
	f = find(&b, "tags");
	assert_int_equal(f.type, BRAIN_META_LIST);
	assert_int_equal(f.n_items, 3);
	static const char *items[] = {"billing", "x\xc3\xa9", "billing"};
	size_t ip = 0;
	for (size_t i = 0; i < 3; i++) {
		const char *s;
		uint32_t sl;
		brain__meta_item(&f, &ip, &s, &sl);
		assert_int_equal(sl, strlen(items[i]));
		assert_memory_equal(s, items[i], sl);
	}

	/* absent names, before, between and after the present ones */
	static const char *absent[] = {"a", "kin", "kinds", "zzz", "t", "done2", "\xc3\xa9"};
	for (size_t i = 0; i < BRAIN_ARRAY_LEN(absent); i++)
		assert_false(brain__meta_find(b.data, b.len, absent[i], strlen(absent[i]), &f));
	blob_free(&b);

	/* the empty object: 4 bytes, nothing to find or visit */
	b = parse(" { \n } ", false);
	assert_int_equal(b.len, 4);
	assert_int_equal(brain__meta_count(b.data), 0);
	pos = 0;
	assert_false(brain__meta_next(b.data, b.len, &pos, &f));
	assert_false(brain__meta_find(b.data, b.len, "a", 1, &f));
	blob_free(&b);
	/* no metadata at all */
	assert_int_equal(brain__meta_count(NULL), 0);
	assert_false(brain__meta_find(NULL, 0, "a", 1, &f));
}

static void test_meta__blob_layout_is_canonical(void **state)
{
	(void)state;
	static const uint8_t want[] = {
		2, 0, 0, 0,                                          /* count */
		BRAIN_META_INT, 1, 0, 0, 0, 'a',                     /* "a": -1 */
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		BRAIN_META_BOOL, 1, 0, 0, 0, 'b', 1,                 /* "b": true */
	};
	static const char *same[] = {
		"{\"b\":true,\"a\":-1}",
		"{\"a\":-1,\"b\":true}",
		" \r\n\t{ \"b\" :\ttrue ,\n\"a\"\r: -1 } \n",
		"{\"\\u0062\":true,\"\\u0061\":-1}",
	};
	for (size_t i = 0; i < BRAIN_ARRAY_LEN(same); i++) {
		brain_meta_blob b = parse(same[i], false);
		assert_int_equal(b.len, sizeof want);
		assert_memory_equal(b.data, want, sizeof want);
		blob_free(&b);
	}

	/* every type's encoding, byte for byte */
	brain_meta_blob b = parse("{\"l\":[\"xy\",\"\"],\"s\":\"h\\u00e9\",\"d\":-2.0}", false);
	static const uint8_t want2[] = {
		3, 0, 0, 0,
		BRAIN_META_DOUBLE, 1, 0, 0, 0, 'd', 0, 0, 0, 0, 0, 0, 0, 0xc0,
		BRAIN_META_LIST, 1, 0, 0, 0, 'l', 2, 0, 0, 0, 2, 0, 0, 0, 'x', 'y', 0, 0, 0, 0,
		BRAIN_META_STRING, 1, 0, 0, 0, 's', 3, 0, 0, 0, 'h', 0xc3, 0xa9,
	};
	assert_int_equal(b.len, sizeof want2);
	assert_memory_equal(b.data, want2, sizeof want2);
	blob_free(&b);

	/* the order: bytes compared, a prefix first, UTF-8 after ASCII; the
	 * order of members in the text does not matter */
	static const char *names[] = {"A", "a", "aa", "ab", "b", "z", "\xc3\xa9"};
	const char *texts[] = {
		"{\"b\":1,\"ab\":1,\"a\":1,\"aa\":1,\"\xc3\xa9\":1,\"z\":1,\"A\":1}",
		"{\"\xc3\xa9\":1,\"z\":1,\"b\":1,\"ab\":1,\"aa\":1,\"a\":1,\"A\":1}",
		"{\"A\":1,\"a\":1,\"aa\":1,\"ab\":1,\"b\":1,\"z\":1,\"\\u00e9\":1}",
	};
	brain_meta_blob first = parse(texts[0], false);
	size_t pos = 0, k = 0;
	brain_meta_field f;
	while (brain__meta_next(first.data, first.len, &pos, &f))
		assert_true(field_named(&f, names[k++]));
	assert_int_equal(k, BRAIN_ARRAY_LEN(names));
	for (size_t i = 1; i < BRAIN_ARRAY_LEN(texts); i++) {
		b = parse(texts[i], false);
		assert_same_blob(&b, &first);
		blob_free(&b);
	}
	blob_free(&first);
}

/* ---- round trips and exact values ------------------------------------- */

static void test_meta__round_trips(void **state)
{
	(void)state;
	static const char *cases[] = {
		"{}",
		"{\"s\":\"plain\"}",
		"{\"s\":\"q\\\"b\\\\s\\/n\\nr\\rt\\tb\\bf\\f\"}",
		"{\"nul\":\"a\\u0000b\\u0000\",\"\\u00e9t\\u00e9\":\"\\u20ac\"}",
		"{\"pair\":\"\\ud83d\\ude00\",\"list\":[\"\\uD834\\uDD1E\",\"\",\"\\u0000\"]}",
		"{\"max\":9223372036854775807,\"min\":-9223372036854775808,\"zero\":0,\"nz\":-0}",
		"{\"d1\":0.1,\"d2\":1e-300,\"d3\":-0.0,\"d4\":1.7976931348623157e308,\"d5\":5e-324,"
		"\"d6\":-1.5E+10,\"d7\":2.2250738585072014e-308,\"d8\":123456789.125,\"d9\":1e300,"
		"\"d10\":100.0,\"d11\":-4.9406564584124654e-324,\"d12\":0.30000000000000004}",
		"{\"b1\":true,\"b2\":false,\"l\":[],\"l2\":[\"a\",\"b\",\"a\"]}",
		"{\"ctl\":\"\\u0001\\u001f\\u007f\\u0080\",\"raw\":\"\x7f\"}",
		"{\"k\":\"\xe6\x97\xa5\xe6\x9c\xac \xc3\xbc \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf\"}",
		"{\"\xf0\x9f\x98\x80\":\"emoji name\",\"\\\"\\\\\":\"quote name\",\"\\n\":1}",
	};
	for (size_t i = 0; i < BRAIN_ARRAY_LEN(cases); i++) {
		brain_meta_blob b = parse(cases[i], false);
		assert_round_trip(b.data, b.len, false);
		blob_free(&b);
	}
	/* a patch, with its null */
	brain_meta_blob b = parse("{\"gone\":null,\"kept\":1}", true);
	char *s = json_of(b.data, b.len);
	assert_string_equal(s, "{\"gone\":null,\"kept\":1}");
	free(s);
	assert_round_trip(b.data, b.len, true);
	/* not a valid blob outside a patch */
	assert_int_equal(brain__meta_check(b.data, b.len, false), BRAIN_ECORRUPT);
	blob_free(&b);
}

static void test_meta__numbers_are_exact(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		double want;
	} doubles[] = {
		{"0.1", 0.1},
		{"1e-300", 1e-300},
		{"1.7976931348623157e308", DBL_MAX},
		{"5e-324", 4.9406564584124654e-324},
		{"2.2250738585072014e-308", DBL_MIN},
		{"-1.5E+10", -1.5e10},
		{"1E2", 100.0},
		{"1e0", 1.0},
		{"1.0", 1.0},
		{"0.0", 0.0},
		{"1e-400", 0.0}, /* underflows to zero: finite, so accepted */
		{"123456789012345678901234567890.5", 123456789012345678901234567890.5},
	};
	char json[128];
	for (size_t i = 0; i < BRAIN_ARRAY_LEN(doubles); i++) {
		snprintf(json, sizeof json, "{\"d\":%s}", doubles[i].text);
		brain_meta_blob b = parse(json, false);
		brain_meta_field f = find(&b, "d");
		assert_int_equal(f.type, BRAIN_META_DOUBLE);
		assert_true(bits(f.d) == bits(doubles[i].want));
		blob_free(&b);
	}
	/* -0.0 keeps its sign: the blob holds numbers as parsed */
	brain_meta_blob b = parse("{\"d\":-0.0}", false);
	brain_meta_field f = find(&b, "d");
	assert_true(f.d == 0 && signbit(f.d));
	blob_free(&b);

	static const struct {
		const char *text;
		int64_t want;
	} ints[] = {
		{"0", 0},
		{"-0", 0},
		{"7", 7},
		{"-7", -7},
		{"9223372036854775807", INT64_MAX},
		{"-9223372036854775808", INT64_MIN},
		{"9223372036854775806", INT64_MAX - 1},
		{"-9223372036854775807", INT64_MIN + 1},
		{"1700000000000", 1700000000000},
	};
	for (size_t i = 0; i < BRAIN_ARRAY_LEN(ints); i++) {
		snprintf(json, sizeof json, "{\"i\":%s}", ints[i].text);
		b = parse(json, false);
		f = find(&b, "i");
		assert_int_equal(f.type, BRAIN_META_INT);
		assert_true(f.i == ints[i].want);
		blob_free(&b);
	}

	/* how numbers are written: a double always reads back as a double */
	static const struct {
		const char *in, *out;
	} written[] = {
		{"{\"d\":1E2}", "{\"d\":100.0}"},
		{"{\"d\":-0.0}", "{\"d\":-0.0}"},
		{"{\"d\":0.5}", "{\"d\":0.5}"},
		{"{\"d\":0.1}", "{\"d\":0.10000000000000001}"},
		{"{\"d\":5e-324}", "{\"d\":4.9406564584124654e-324}"},
		{"{\"d\":1e300}", "{\"d\":1.0000000000000001e+300}"},
		{"{\"d\":1e17}", "{\"d\":1e+17}"},
		{"{\"i\":-9223372036854775808}", "{\"i\":-9223372036854775808}"},
		{"{\"i\":-0}", "{\"i\":0}"},
	};
	for (size_t i = 0; i < BRAIN_ARRAY_LEN(written); i++) {
		b = parse(written[i].in, false);
		char *s = json_of(b.data, b.len);
		assert_string_equal(s, written[i].out);
		free(s);
		blob_free(&b);
	}
}

static void test_meta__to_json_escapes(void **state)
{
	(void)state;
	brain_meta_blob b = parse("{\"e\":\"q\\\"b\\\\s\\/n\\nr\\rt\\tb\\bf\\f\\u0001\\u001F"
	                          "\\u0000\\u007f\\u00e9\\ud83d\\ude00\",\"\\t\":[\"\\u0002\"]}",
	                          false);
	char *s = json_of(b.data, b.len);
	assert_string_equal(s, "{\"\\t\":[\"\\u0002\"],\"e\":\"q\\\"b\\\\s/n\\nr\\rt\\tb\\bf\\f"
	                       "\\u0001\\u001f\\u0000\x7f\xc3\xa9\xf0\x9f\x98\x80\"}");
	free(s);
	blob_free(&b);

	/* a NUL byte in a value decodes to one byte */
	b = parse("{\"z\":\"a\\u0000b\"}", false);
	brain_meta_field f = find(&b, "z");
	assert_int_equal(f.str_len, 3);
	assert_memory_equal(f.str, "a\0b", 3);
	blob_free(&b);
}

static void test_meta__to_json_snprintf_contract(void **state)
{
	(void)state;
	brain_meta_blob b = parse("{\"n\":12,\"a\":\"xyz\"}", false);
	const char *want = "{\"a\":\"xyz\",\"n\":12}";
	size_t len = strlen(want);
	assert_int_equal(brain__meta_to_json(b.data, b.len, NULL, 0), len);

	char buf[64];
	for (size_t size = 0; size <= len + 2; size++) {
		memset(buf, 'Z', sizeof buf);
		assert_int_equal(brain__meta_to_json(b.data, b.len, buf, size), len);
		if (size > len)
			assert_string_equal(buf, want);
		else if (size > 0)
			assert_int_equal(buf[0], '\0'); /* never a cut document */
		/* nothing written at or past size */
		for (size_t i = size; i < sizeof buf; i++)
			assert_int_equal(buf[i], 'Z');
	}
	blob_free(&b);

	/* the empty blob, and no blob */
	b = parse("{}", false);
	assert_int_equal(brain__meta_to_json(b.data, b.len, buf, sizeof buf), 2);
	assert_string_equal(buf, "{}");
	blob_free(&b);
	assert_int_equal(brain__meta_to_json(NULL, 0, buf, sizeof buf), 2);
	assert_string_equal(buf, "{}");
}

/* ---- errors ------------------------------------------------------------ */

typedef struct err_case {
	const char *json;
	size_t len; /* 0: strlen */
	bool patch;
	int code;
	const char *msg; /* must occur in brain_errmsg() */
} err_case;

static const err_case errors[] = {
	/* empty input and the top level */
	{"", 0, false, BRAIN_EJSON, "metadata: at byte 0: empty input"},
	{" \t\r\n", 0, false, BRAIN_EJSON, "at byte 4: empty input"},
	{"[1]", 0, false, BRAIN_EJSON, "at byte 0: the top level must be an object, found a list"},
	{"  \"a\"", 0, false, BRAIN_EJSON,
	 "at byte 2: the top level must be an object, found a string"},
	{"42", 0, false, BRAIN_EJSON, "at byte 0: the top level must be an object, found a number"},
	{"null", 0, true, BRAIN_EJSON, "at byte 0: the top level must be an object, found null"},
	{"\xef\xbb\xbf{}", 0, false, BRAIN_EJSON, "at byte 0: the top level must be an object"},
	{"\v{}", 0, false, BRAIN_EJSON, "at byte 0: the top level must be an object"},
	/* values that are not supported */
	{"{\"a\":{}}", 0, false, BRAIN_EJSON,
	 "at byte 5 (field \"a\"): nested objects are not supported"},
	{"{\"l\":[\"x\", true]}", 0, false, BRAIN_EJSON,
	 "at byte 11 (field \"l\"): a list holds strings only, found a boolean"},
	{"{\"l\":[null]}", 0, true, BRAIN_EJSON,
	 "at byte 6 (field \"l\"): a list holds strings only, found null"},
	{"{\"l\":[[]]}", 0, false, BRAIN_EJSON,
	 "at byte 6 (field \"l\"): a list holds strings only, found a list"},
	{"{\"l\":[{}]}", 0, false, BRAIN_EJSON,
	 "at byte 6 (field \"l\"): a list holds strings only, found an object"},
	{"{\"l\":[\"x\",]}", 0, false, BRAIN_EJSON,
	 "at byte 10 (field \"l\"): a list holds strings only, found ']'"},
	{"{\"l\":[\"x\"", 0, false, BRAIN_EJSON,
	 "at byte 9 (field \"l\"): expected ',' or ']' in a list, found the end of the input"},
	{"{\"l\":[\"x\" \"y\"]}", 0, false, BRAIN_EJSON,
	 "at byte 10 (field \"l\"): expected ',' or ']'"},
	{"{\"a\":null}", 0, false, BRAIN_EJSON,
	 "at byte 5 (field \"a\"): null is allowed only in a patch"},
	{"{\"a\":1,\"b\":[2]}", 0, false, BRAIN_EJSON,
	 "at byte 12 (field \"b\"): a list holds strings only"},
	/* names */
	{"{\"b\":1,\"a\":1,\"b\":2,\"c\":1,\"c\":2,\"a\":2}", 0, false, BRAIN_EJSON,
	 "at byte 13 (field \"b\"): duplicate name (first at byte 1)"},
	{"{\"\\u0061\":1,\"a\":2}", 0, false, BRAIN_EJSON,
	 "at byte 12 (field \"a\"): duplicate name (first at byte 1)"},
	{"{\"a\":null,\"a\":null}", 0, true, BRAIN_EJSON, "at byte 10 (field \"a\"): duplicate name"},
	{"{\"\":1}", 0, false, BRAIN_EJSON, "metadata: at byte 1: empty name"},
	{"{\"a\":1,\"\":2}", 0, false, BRAIN_EJSON, "metadata: at byte 7: empty name"},
	{"{\"a\\u0000b\":1}", 0, false, BRAIN_EJSON, "at byte 1: a name must not contain NUL"},
	{"{\"\xff\":1}", 0, false, BRAIN_EJSON, "metadata: at byte 2: invalid UTF-8"},
	{"{\"\\udc00\":1}", 0, false, BRAIN_EJSON, "at byte 2: lone surrogate"},
	{"{a:1}", 0, false, BRAIN_EJSON, "at byte 1: expected a member name (a string), found 'a'"},
	{"{'a':1}", 0, false, BRAIN_EJSON, "at byte 1: expected a member name (a string), found '''"},
	{"{\"a\":1,}", 0, false, BRAIN_EJSON,
	 "at byte 7: expected a member name (a string), found '}'"},
	{"{", 0, false, BRAIN_EJSON,
	 "at byte 1: expected a member name (a string), found the end of the input"},
	{"{\"a\":1,\f\"b\":2}", 0, false, BRAIN_EJSON,
	 "at byte 7: expected a member name (a string), found byte 0x0c"},
	{"{\"a\" 1}", 0, false, BRAIN_EJSON,
	 "at byte 5 (field \"a\"): expected ':' after the name, found a number"},
	{"{\"a\"", 0, false, BRAIN_EJSON,
	 "at byte 4 (field \"a\"): expected ':' after the name, found the end"},
	{"{\"a\":}", 0, false, BRAIN_EJSON, "at byte 5 (field \"a\"): expected a value, found '}'"},
	{"{\"a\":", 0, false, BRAIN_EJSON,
	 "at byte 5 (field \"a\"): expected a value, found the end of the input"},
	{"{\"a\":1", 0, false, BRAIN_EJSON,
	 "at byte 6 (field \"a\"): expected ',' or '}' after a value, found the end of the input"},
	{"{\"a\":\"x\"\"b\":1}", 0, false, BRAIN_EJSON,
	 "at byte 8 (field \"a\"): expected ',' or '}' after a value, found a string"},
	{"{\"a\":1 /*c*/}", 0, false, BRAIN_EJSON,
	 "at byte 7 (field \"a\"): expected ',' or '}' after a value, found '/'"},
	{"{\"a\":tru}", 0, false, BRAIN_EJSON, "at byte 5 (field \"a\"): invalid literal"},
	{"{\"a\":True}", 0, false, BRAIN_EJSON, "at byte 5 (field \"a\"): expected a value, found 'T'"},
	{"{\"a\":nul}", 0, true, BRAIN_EJSON, "at byte 5 (field \"a\"): invalid literal"},
	{"{\"a\":truex}", 0, false, BRAIN_EJSON,
	 "at byte 9 (field \"a\"): expected ',' or '}' after a value, found 'x'"},
	/* trailing text */
	{"{\"a\":1} x", 0, false, BRAIN_EJSON, "metadata: at byte 8: trailing text after the object"},
	{"{\"a\":1}{}", 0, false, BRAIN_EJSON, "metadata: at byte 7: trailing text after the object"},
	{"{}\0", 3, false, BRAIN_EJSON, "metadata: at byte 2: trailing text after the object"},
	{"{}]", 0, false, BRAIN_EJSON, "at byte 2: trailing text"},
	/* strings */
	{"{\"a\":\"abc", 0, false, BRAIN_EJSON, "at byte 5 (field \"a\"): unterminated string"},
	{"{\"ab", 0, false, BRAIN_EJSON, "metadata: at byte 1: unterminated string"},
	{"{\"a\":\"x\\", 0, false, BRAIN_EJSON, "at byte 5 (field \"a\"): unterminated string"},
	{"{\"a\":\"\\x\"}", 0, false, BRAIN_EJSON, "at byte 6 (field \"a\"): bad escape"},
	{"{\"a\":\"\\'\"}", 0, false, BRAIN_EJSON, "at byte 6 (field \"a\"): bad escape"},
	{"{\"a\":\"\\U0041\"}", 0, false, BRAIN_EJSON, "at byte 6 (field \"a\"): bad escape"},
	{"{\"a\":\"\\u12\"}", 0, false, BRAIN_EJSON, "at byte 6 (field \"a\"): bad escape"},
	{"{\"a\":\"\\u12G4\"}", 0, false, BRAIN_EJSON, "at byte 6 (field \"a\"): bad escape"},
	{"{\"a\":\"\\ud800\"}", 0, false, BRAIN_EJSON, "at byte 6 (field \"a\"): lone surrogate"},
	{"{\"a\":\"\\udc00\"}", 0, false, BRAIN_EJSON, "at byte 6 (field \"a\"): lone surrogate"},
	{"{\"a\":\"x\\ud800\\u0041\"}", 0, false, BRAIN_EJSON,
	 "at byte 7 (field \"a\"): lone surrogate"},
	{"{\"a\":\"\\ud800\\ud800\"}", 0, false, BRAIN_EJSON,
	 "at byte 6 (field \"a\"): lone surrogate"},
	{"{\"a\":\"\\ud800x\"}", 0, false, BRAIN_EJSON, "at byte 6 (field \"a\"): lone surrogate"},
	{"{\"a\":\"x\x01\"}", 0, false, BRAIN_EJSON, "at byte 7 (field \"a\"): control character 0x01"},
	{"{\"a\":\"\n\"}", 0, false, BRAIN_EJSON, "at byte 6 (field \"a\"): control character 0x0a"},
	{"{\"a\":\"\xff\"}", 0, false, BRAIN_EJSON, "at byte 6 (field \"a\"): invalid UTF-8"},
	{"{\"a\":\"ab\xc3\"}", 0, false, BRAIN_EJSON, "at byte 8 (field \"a\"): invalid UTF-8"},
	{"{\"a\":\"\xc0\x80\"}", 0, false, BRAIN_EJSON, "at byte 6 (field \"a\"): invalid UTF-8"},
	{"{\"a\":\"\xed\xa0\x80\"}", 0, false, BRAIN_EJSON, "at byte 6 (field \"a\"): invalid UTF-8"},
	{"{\"a\":\"ok\xf4\x90\x80\x80\"}", 0, false, BRAIN_EJSON,
	 "at byte 8 (field \"a\"): invalid UTF-8"},
	{"{\"a\":[\"ok\",\"\x80\"]}", 0, false, BRAIN_EJSON, "at byte 12 (field \"a\"): invalid UTF-8"},
	/* numbers */
	{"{\"a\":01}", 0, false, BRAIN_EJSON, "at byte 5 (field \"a\"): bad number: leading zero"},
	{"{\"a\":-01}", 0, false, BRAIN_EJSON, "at byte 5 (field \"a\"): bad number: leading zero"},
	{"{\"a\":00.5}", 0, false, BRAIN_EJSON, "at byte 5 (field \"a\"): bad number"},
	{"{\"a\":+1}", 0, false, BRAIN_EJSON, "at byte 5 (field \"a\"): bad number"},
	{"{\"a\":.5}", 0, false, BRAIN_EJSON, "at byte 5 (field \"a\"): bad number"},
	{"{\"a\":1.}", 0, false, BRAIN_EJSON, "at byte 5 (field \"a\"): bad number"},
	{"{\"a\":1.e5}", 0, false, BRAIN_EJSON, "at byte 5 (field \"a\"): bad number"},
	{"{\"a\":1e}", 0, false, BRAIN_EJSON, "at byte 5 (field \"a\"): bad number"},
	{"{\"a\":1e+}", 0, false, BRAIN_EJSON, "at byte 5 (field \"a\"): bad number"},
	{"{\"a\":-}", 0, false, BRAIN_EJSON, "at byte 5 (field \"a\"): bad number"},
	{"{\"a\":-x}", 0, false, BRAIN_EJSON, "at byte 5 (field \"a\"): bad number"},
	{"{\"a\":-Infinity}", 0, false, BRAIN_EJSON, "at byte 5 (field \"a\"): bad number"},
	{"{\"a\":NaN}", 0, false, BRAIN_EJSON, "at byte 5 (field \"a\"): expected a value, found 'N'"},
	{"{\"a\":Infinity}", 0, false, BRAIN_EJSON,
	 "at byte 5 (field \"a\"): expected a value, found 'I'"},
	{"{\"a\":0x10}", 0, false, BRAIN_EJSON,
	 "at byte 6 (field \"a\"): expected ',' or '}' after a value, found 'x'"},
	{"{\"a\":1.5.3}", 0, false, BRAIN_EJSON, "at byte 8 (field \"a\"): expected ',' or '}'"},
	{"{\"a\":1e999}", 0, false, BRAIN_EJSON, "at byte 5 (field \"a\"): number out of range"},
	{"{\"a\":-1e999}", 0, false, BRAIN_EJSON, "at byte 5 (field \"a\"): number out of range"},
	{"{\"a\":1.8e308}", 0, false, BRAIN_EJSON, "at byte 5 (field \"a\"): number out of range"},
	{"{\"a\":9223372036854775808}", 0, false, BRAIN_EJSON,
	 "at byte 5 (field \"a\"): integer out of range"},
	{"{\"a\":-9223372036854775809}", 0, false, BRAIN_EJSON,
	 "at byte 5 (field \"a\"): integer out of range"},
	{"{\"x\":1,\"a\":100000000000000000000}", 0, false, BRAIN_EJSON,
	 "at byte 11 (field \"a\"): integer out of range"},
};

static void test_meta__errors_name_code_and_offset(void **state)
{
	(void)state;
	for (size_t i = 0; i < BRAIN_ARRAY_LEN(errors); i++) {
		const err_case *c = &errors[i];
		size_t len = c->len ? c->len : strlen(c->json);
		brain_meta_blob b = {(uint8_t *)"untouched", 9};
		int rc = brain__meta_from_json(c->json, len, c->patch, &b);
		if (rc != c->code || !strstr(brain_errmsg(), c->msg))
			print_error("case %zu: %s\n  got %d \"%s\"\n  want %d \"%s\"\n", i, c->json, rc,
			            brain_errmsg(), c->code, c->msg);
		assert_int_equal(rc, c->code);
		assert_non_null(strstr(brain_errmsg(), c->msg));
		/* *out untouched on failure */
		assert_int_equal(b.len, 9);
		assert_memory_equal(b.data, "untouched", 9);
	}

	/* a few messages in full */
	brain_meta_blob b;
	const char *j = "{\"tags\":[1]}";
	assert_int_equal(brain__meta_from_json(j, strlen(j), false, &b), BRAIN_EJSON);
	assert_string_equal(brain_errmsg(),
	                    "metadata: at byte 9 (field \"tags\"): a list holds strings only, "
	                    "found a number");
	j = "{\"a\":1,\"b\":2,\"a\":3}";
	assert_int_equal(brain__meta_from_json(j, strlen(j), false, &b), BRAIN_EJSON);
	assert_string_equal(brain_errmsg(),
	                    "metadata: at byte 13 (field \"a\"): duplicate name (first at byte 1)");
	j = "{\"a\":1} x";
	assert_int_equal(brain__meta_from_json(j, strlen(j), false, &b), BRAIN_EJSON);
	assert_string_equal(brain_errmsg(),
	                    "metadata: at byte 8: trailing text after the object ('x')");

	/* a control character in a name is shown as '?' */
	j = "{\"a\\u0001\":{}}";
	assert_int_equal(brain__meta_from_json(j, strlen(j), false, &b), BRAIN_EJSON);
	assert_string_equal(brain_errmsg(),
	                    "metadata: at byte 11 (field \"a?\"): nested objects are not supported");

	/* pointers */
	assert_int_equal(brain__meta_from_json(NULL, 1, false, &b), BRAIN_ENULL);
	assert_int_equal(brain__meta_from_json("{}", 2, false, NULL), BRAIN_ENULL);
	assert_int_equal(brain__meta_from_json(NULL, 0, false, &b), BRAIN_EJSON);
	assert_non_null(strstr(brain_errmsg(), "empty input"));
}

/* ---- limits ------------------------------------------------------------ */

/* A growable text for building big inputs. */
typedef struct text {
	char *s;
	size_t len, cap;
} text;

static void text_add(text *t, const char *s, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		t->cap = (t->len + n + 1) * 2;
		t->s = realloc(t->s, t->cap);
		assert_non_null(t->s);
	}
	memcpy(t->s + t->len, s, n);
	t->len += n;
	t->s[t->len] = '\0';
}

static void text_puts(text *t, const char *s)
{
	text_add(t, s, strlen(s));
}

static void text_printf(text *t, const char *fmt, ...) BRAIN_PRINTF(2, 3);

static void text_printf(text *t, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof buf);
	text_add(t, buf, (size_t)n);
}

static int try_parse(const text *t, bool patch, brain_meta_blob *b)
{
	b->data = NULL;
	b->len = 0;
	return brain__meta_from_json(t->s, t->len, patch, b);
}

/* {"<name of n bytes of c>":1} */
static int parse_name_of(size_t n, const char *unit, size_t unit_len)
{
	text t = {0};
	text_puts(&t, "{\"");
	for (size_t i = 0; i < n; i++)
		text_add(&t, unit, unit_len);
	text_puts(&t, "\":1}");
	brain_meta_blob b;
	int rc = try_parse(&t, false, &b);
	blob_free(&b);
	free(t.s);
	return rc;
}

static void test_meta__limits(void **state)
{
	(void)state;
	brain_meta_blob b;
	/* a name: bytes after decoding, not characters or escapes */
	assert_int_equal(parse_name_of(BRAIN_META_NAME_MAX, "n", 1), 0);
	assert_int_equal(parse_name_of(BRAIN_META_NAME_MAX + 1, "n", 1), BRAIN_ETOOLONG);
	assert_non_null(strstr(brain_errmsg(), "at byte 1: a name of 129 bytes"));
	assert_int_equal(parse_name_of(BRAIN_META_NAME_MAX / 2, "\xc3\xa9", 2), 0);
	assert_int_equal(parse_name_of(BRAIN_META_NAME_MAX / 2, "\\u00e9", 6), 0);
	assert_int_equal(parse_name_of(BRAIN_META_NAME_MAX / 2 + 1, "\\u00e9", 6), BRAIN_ETOOLONG);

	/* fields */
	for (int extra = 0; extra <= 1; extra++) {
		text t = {0};
		text_puts(&t, "{");
		size_t at = 0;
		for (int i = 0; i < BRAIN_META_FIELDS_MAX + extra; i++) {
			if (i)
				text_puts(&t, ",");
			at = t.len;
			text_printf(&t, "\"f%03d\":%d", i, i);
		}
		text_puts(&t, "}");
		int rc = try_parse(&t, false, &b);
		if (!extra) {
			assert_int_equal(rc, 0);
			assert_int_equal(brain__meta_count(b.data), BRAIN_META_FIELDS_MAX);
			assert_int_equal(brain__meta_check(b.data, b.len, false), 0);
		} else {
			assert_int_equal(rc, BRAIN_ETOOLONG);
			char want[64];
			snprintf(want, sizeof want, "at byte %zu: more than 256 fields", at);
			assert_non_null(strstr(brain_errmsg(), want));
		}
		blob_free(&b);
		free(t.s);
	}

	/* items of one list */
	for (int extra = 0; extra <= 1; extra++) {
		text t = {0};
		text_puts(&t, "{\"l\":[");
		for (int i = 0; i < BRAIN_META_ITEMS_MAX + extra; i++)
			text_puts(&t, i ? ",\"\"" : "\"\"");
		text_puts(&t, "]}");
		int rc = try_parse(&t, false, &b);
		if (!extra) {
			assert_int_equal(rc, 0);
			brain_meta_field f = find(&b, "l");
			assert_int_equal(f.n_items, BRAIN_META_ITEMS_MAX);
			assert_int_equal(brain__meta_check(b.data, b.len, false), 0);
		} else {
			assert_int_equal(rc, BRAIN_ETOOLONG);
			char want[64];
			snprintf(want, sizeof want, "at byte %zu (field \"l\"): a list of more than 4096",
			         t.len - 4);
			assert_non_null(strstr(brain_errmsg(), want));
		}
		blob_free(&b);
		free(t.s);
	}

	/* the blob: 4 + 1 + 4 + 1 + 4 + n bytes for {"s":"<n bytes>"} */
	for (int extra = 0; extra <= 1; extra++) {
		size_t n = BRAIN_META_BYTES_MAX - 14 + (size_t)extra;
		text t = {0};
		text_puts(&t, "{\"s\":\"");
		char *fill = malloc(n);
		assert_non_null(fill);
		memset(fill, 'x', n);
		text_add(&t, fill, n);
		free(fill);
		text_puts(&t, "\"}");
		int rc = try_parse(&t, false, &b);
		if (!extra) {
			assert_int_equal(rc, 0);
			assert_int_equal(b.len, BRAIN_META_BYTES_MAX);
			assert_int_equal(brain__meta_check(b.data, b.len, false), 0);
			assert_round_trip(b.data, b.len, false);
		} else {
			assert_int_equal(rc, BRAIN_ETOOLONG);
			assert_non_null(strstr(brain_errmsg(), "(field \"s\"): the metadata takes more"));
		}
		blob_free(&b);
		free(t.s);
	}

	/* the blob again, from many small fields and a patch's removals
	 * (each "nNNN":null is 1 + 4 + 4 bytes) */
	for (int extra = 0; extra <= 1; extra++) {
		text t = {0};
		text_puts(&t, "{");
		size_t bytes = 4;
		for (int i = 0; i < 200; i++) {
			text_printf(&t, "\"n%03d\":null,", i);
			bytes += 9;
		}
		size_t n = BRAIN_META_BYTES_MAX - bytes - 10 + (size_t)extra;
		text_puts(&t, "\"s\":\"");
		for (size_t i = 0; i < n; i++)
			text_puts(&t, "y");
		text_puts(&t, "\"}");
		int rc = try_parse(&t, true, &b);
		if (!extra) {
			assert_int_equal(rc, 0);
			assert_int_equal(b.len, BRAIN_META_BYTES_MAX);
			assert_int_equal(brain__meta_check(b.data, b.len, true), 0);
		} else {
			assert_int_equal(rc, BRAIN_ETOOLONG);
		}
		blob_free(&b);
		free(t.s);
	}

	/* the JSON text: 16 times the blob's limit, checked before reading */
	size_t max = (size_t)16 * BRAIN_META_BYTES_MAX;
	char *big = malloc(max + 1);
	assert_non_null(big);
	memset(big, ' ', max + 1);
	memcpy(big, "{}", 2);
	assert_int_equal(brain__meta_from_json(big, max, false, &b), 0);
	assert_int_equal(b.len, 4);
	blob_free(&b);
	assert_int_equal(brain__meta_from_json(big, max + 1, false, &b), BRAIN_ETOOLONG);
	memset(big, 'x', max + 1); /* not JSON at all: the length is checked first */
	assert_int_equal(brain__meta_from_json(big, max + 1, false, &b), BRAIN_ETOOLONG);
	assert_int_equal(brain__meta_from_json(big, max, false, &b), BRAIN_EJSON);
	free(big);
}

/* ---- out of memory ----------------------------------------------------- */

/* Fail each allocation in turn: BRAIN_ENOMEM, *out untouched, nothing
 * left allocated; then the call that succeeds. */
static void test_meta__out_of_memory(void **state)
{
	(void)state;
	/* enough to grow the arena and the member array several times, and a
	 * number too long for the converter's stack buffer */
	text t = {0};
	text_puts(&t, "{\"l\":[");
	for (int i = 0; i < 60; i++)
		text_puts(&t, i ? ",\"item\"" : "\"item\"");
	text_puts(&t, "],\"d\":0.");
	for (int i = 0; i < 150; i++)
		text_puts(&t, "0");
	text_puts(&t, "1");
	for (int i = 0; i < 40; i++)
		text_printf(&t, ",\"f%02d\":\"a string of some length, to make the arena grow\"", i);
	text_puts(&t, "}");
	brain_meta_blob patch = parse("{\"f00\":null,\"new\":1}", true);

	assert_int_equal(test_alloc_install(), 0);
	int failures = 0;
	for (long n = 1;; n++) {
		brain_meta_blob b = {(uint8_t *)"untouched", 9};
		test_alloc_arm(n);
		int rc = brain__meta_from_json(t.s, t.len, false, &b);
		test_alloc_disarm();
		if (rc == 0) {
			brain_meta_blob r = {(uint8_t *)"untouched", 9};
			test_alloc_arm(1);
			assert_int_equal(brain__meta_patch(b.data, b.len, patch.data, patch.len, &r),
			                 BRAIN_ENOMEM);
			test_alloc_disarm();
			assert_int_equal(r.len, 9);
			assert_int_equal(brain__meta_patch(b.data, b.len, patch.data, patch.len, &r), 0);
			assert_int_equal(brain__meta_count(r.data), 42); /* l, d, f01..f39, new */
			blob_free(&r);
			blob_free(&b);
			break;
		}
		assert_int_equal(rc, BRAIN_ENOMEM);
		assert_int_equal(b.len, 9);
		assert_memory_equal(b.data, "untouched", 9);
		assert_int_equal(test_alloc_live, 0);
		failures++;
	}
	assert_int_equal(test_alloc_live, 0);
	assert_int_equal(test_alloc_remove(), 0);
	assert_true(failures >= 5);
	blob_free(&patch);
	free(t.s);
}

/* ---- check() ----------------------------------------------------------- */

static const struct {
	const char *json;
	bool patch;
} samples[] = {
	{"{}", false},
	{"{\"kind\":\"note\",\"ts\":1700000000,\"score\":0.5,\"done\":false,"
	 "\"tags\":[\"billing\",\"x\\u00e9\"],\"none\":[],\"yes\":true}", false},
	{"{\"a\":\"\\u0000\\ud83d\\ude00\",\"b\":[\"\",\"\\u00e9\",\"xyz\"],\"c\":-0.0}", false},
	{"{\"gone\":null,\"d\":1e-300,\"l\":[\"q\"],\"n\":-9223372036854775808}", true},
	{"{\"\\u00e9\\u00e9\":true,\"\\u00e9\":false}", false},
};

/* What a checked blob must allow: iteration over exactly its count of
 * fields up to its end, finding each, and a JSON round trip. */
static void assert_usable(const uint8_t *blob, size_t len, bool patch)
{
	size_t pos = 0, n = 0;
	brain_meta_field f, g;
	while (brain__meta_next(blob, len, &pos, &f)) {
		n++;
		assert_true(pos <= len);
		assert_true(brain__meta_find(blob, len, f.name, f.name_len, &g));
		assert_true(g.name == f.name);
		if (f.type == BRAIN_META_LIST) {
			size_t ip = 0;
			for (uint32_t i = 0; i < f.n_items; i++) {
				const char *s;
				uint32_t sl;
				brain__meta_item(&f, &ip, &s, &sl);
				assert_true(s + sl <= (const char *)blob + len);
			}
		}
	}
	assert_int_equal(n, brain__meta_count(blob));
	assert_int_equal(pos ? pos : 4, len);
	assert_round_trip(blob, len, patch);
}

static void test_meta__check_every_truncation(void **state)
{
	(void)state;
	for (size_t s = 0; s < BRAIN_ARRAY_LEN(samples); s++) {
		brain_meta_blob b = parse(samples[s].json, samples[s].patch);
		for (size_t len = 0; len < b.len; len++) {
			/* a copy of just len bytes, so ASan sees any read past it */
			uint8_t *cut = malloc(len ? len : 1);
			assert_non_null(cut);
			memcpy(cut, b.data, len);
			assert_int_equal(brain__meta_check(cut, len, true), BRAIN_ECORRUPT);
			assert_int_equal(brain__meta_check(cut, len, false), BRAIN_ECORRUPT);
			free(cut);
		}
		assert_int_equal(brain__meta_check(b.data, b.len, samples[s].patch), 0);
		assert_usable(b.data, b.len, samples[s].patch);
		blob_free(&b);
	}
	assert_int_equal(brain__meta_check(NULL, 0, false), BRAIN_ECORRUPT);
}

static void test_meta__check_every_byte_change(void **state)
{
	(void)state;
	static const uint8_t values[] = {0x00, 0xff, 0x7f, 0x80, 0x01, 0x05, 0x06};
	size_t passed = 0, refused = 0;
	for (size_t s = 0; s < BRAIN_ARRAY_LEN(samples); s++) {
		brain_meta_blob b = parse(samples[s].json, samples[s].patch);
		uint8_t *m = malloc(b.len);
		assert_non_null(m);
		for (size_t i = 0; i < b.len; i++) {
			for (size_t v = 0; v < 8 + BRAIN_ARRAY_LEN(values); v++) {
				memcpy(m, b.data, b.len);
				m[i] = v < 8 ? (uint8_t)(m[i] ^ (1u << v)) : values[v - 8];
				if (memcmp(m, b.data, b.len) == 0)
					continue;
				for (int patch = 0; patch <= 1; patch++) {
					int rc = brain__meta_check(m, b.len, patch);
					if (rc == 0) {
						passed++;
						assert_usable(m, b.len, patch);
					} else {
						refused++;
						assert_int_equal(rc, BRAIN_ECORRUPT);
					}
				}
				/* valid as metadata means valid as a patch too */
				if (brain__meta_check(m, b.len, false) == 0)
					assert_int_equal(brain__meta_check(m, b.len, true), 0);
			}
		}
		free(m);
		blob_free(&b);
	}
	/* both outcomes happen: the test is not vacuous */
	assert_true(passed > 100);
	assert_true(refused > 100);
}

/* A blob built by hand. */
typedef struct bb {
	uint8_t *d;
	size_t n;
} bb;

static void bb_init(bb *b)
{
	b->d = calloc(1, 2 * BRAIN_META_BYTES_MAX);
	assert_non_null(b->d);
	b->n = 0;
}

static void bb_bytes(bb *b, const void *s, size_t n)
{
	assert_true(b->n + n <= 2 * BRAIN_META_BYTES_MAX);
	if (n)
		memcpy(b->d + b->n, s, n);
	b->n += n;
}

static void bb_u8(bb *b, unsigned v)
{
	uint8_t x = (uint8_t)v;
	bb_bytes(b, &x, 1);
}

static void bb_u32(bb *b, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		bb_u8(b, v >> (8 * i) & 0xff);
}

static void bb_u64(bb *b, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		bb_u8(b, (unsigned)(v >> (8 * i) & 0xff));
}

static void bb_field(bb *b, unsigned type, const void *name, size_t len)
{
	bb_u8(b, type);
	bb_u32(b, (uint32_t)len);
	bb_bytes(b, name, len);
}

static void bb_str(bb *b, const void *s, size_t len)
{
	bb_u32(b, (uint32_t)len);
	bb_bytes(b, s, len);
}

/* count, then one field named name of type with the given value bytes */
static int check_one(unsigned type, const char *name, size_t name_len, const void *value,
                     size_t value_len, bool patch)
{
	bb b;
	bb_init(&b);
	bb_u32(&b, 1);
	bb_field(&b, type, name, name_len);
	bb_bytes(&b, value, value_len);
	int rc = brain__meta_check(b.d, b.n, patch);
	free(b.d);
	return rc;
}

static int check_two(const char *n1, size_t l1, const char *n2, size_t l2)
{
	bb b;
	bb_init(&b);
	bb_u32(&b, 2);
	bb_field(&b, BRAIN_META_BOOL, n1, l1);
	bb_u8(&b, 1);
	bb_field(&b, BRAIN_META_BOOL, n2, l2);
	bb_u8(&b, 0);
	int rc = brain__meta_check(b.d, b.n, false);
	free(b.d);
	return rc;
}

static void test_meta__check_refuses_hand_made_blobs(void **state)
{
	(void)state;
	/* the builder makes what the parser makes */
	bb b;
	bb_init(&b);
	bb_u32(&b, 2);
	bb_field(&b, BRAIN_META_STRING, "a", 1);
	bb_str(&b, "x", 1);
	bb_field(&b, BRAIN_META_INT, "b", 1);
	bb_u64(&b, 5);
	brain_meta_blob p = parse("{\"b\":5,\"a\":\"x\"}", false);
	assert_int_equal(p.len, b.n);
	assert_memory_equal(p.data, b.d, b.n);
	blob_free(&p);
	assert_int_equal(brain__meta_check(b.d, b.n, false), 0);
	/* a byte after the last field; a count too high or too low */
	b.d[b.n] = 0;
	assert_int_equal(brain__meta_check(b.d, b.n + 1, false), BRAIN_ECORRUPT);
	b.d[0] = 3;
	assert_int_equal(brain__meta_check(b.d, b.n, false), BRAIN_ECORRUPT);
	b.d[0] = 1;
	assert_int_equal(brain__meta_check(b.d, b.n, false), BRAIN_ECORRUPT);
	free(b.d);

	/* order of names */
	assert_int_equal(check_two("a", 1, "b", 1), 0);
	assert_int_equal(check_two("b", 1, "a", 1), BRAIN_ECORRUPT);
	assert_int_equal(check_two("a", 1, "a", 1), BRAIN_ECORRUPT);
	assert_int_equal(check_two("a", 1, "aa", 2), 0);
	assert_int_equal(check_two("aa", 2, "a", 1), BRAIN_ECORRUPT);
	assert_int_equal(check_two("z", 1, "\xc3\xa9", 2), 0);
	assert_int_equal(check_two("\xc3\xa9", 2, "z", 1), BRAIN_ECORRUPT);

	/* types */
	uint8_t one = 1;
	assert_int_equal(check_one(BRAIN_META_BOOL, "a", 1, &one, 1, false), 0);
	assert_int_equal(check_one(6, "a", 1, &one, 1, false), BRAIN_ECORRUPT);
	assert_int_equal(check_one(255, "a", 1, &one, 1, true), BRAIN_ECORRUPT);
	assert_int_equal(check_one(BRAIN_META_NONE, "a", 1, NULL, 0, false), BRAIN_ECORRUPT);
	assert_int_equal(check_one(BRAIN_META_NONE, "a", 1, NULL, 0, true), 0);
	/* bool 0/1 only */
	uint8_t two = 2;
	assert_int_equal(check_one(BRAIN_META_BOOL, "a", 1, &two, 1, false), BRAIN_ECORRUPT);
	/* doubles finite */
	static const double finite[] = {0.0, -0.0, DBL_MAX, -DBL_MAX, 4.9406564584124654e-324};
	for (size_t i = 0; i < BRAIN_ARRAY_LEN(finite); i++) {
		uint8_t v[8];
		uint64_t u = bits(finite[i]);
		for (int k = 0; k < 8; k++)
			v[k] = (uint8_t)(u >> (8 * k));
		assert_int_equal(check_one(BRAIN_META_DOUBLE, "d", 1, v, 8, false), 0);
	}
	static const uint64_t nonfinite[] = {0x7ff0000000000000ull, 0xfff0000000000000ull,
	                                     0x7ff8000000000000ull, 0xfff8000000000001ull,
	                                     0x7ff0000000000001ull};
	for (size_t i = 0; i < BRAIN_ARRAY_LEN(nonfinite); i++) {
		uint8_t v[8];
		for (int k = 0; k < 8; k++)
			v[k] = (uint8_t)(nonfinite[i] >> (8 * k));
		assert_int_equal(check_one(BRAIN_META_DOUBLE, "d", 1, v, 8, false), BRAIN_ECORRUPT);
	}
	/* strings: UTF-8, lengths within the blob */
	static const char *bad_utf8[] = {"\xff", "a\xc3", "\xc0\x80", "\xed\xa0\x80",
	                                 "\xf4\x90\x80\x80", "\x80"};
	for (size_t i = 0; i < BRAIN_ARRAY_LEN(bad_utf8); i++) {
		const char *s = bad_utf8[i];
		size_t n = strlen(s);
		uint8_t v[16];
		v[0] = (uint8_t)n;
		v[1] = v[2] = v[3] = 0;
		memcpy(v + 4, s, n);
		assert_int_equal(check_one(BRAIN_META_STRING, "s", 1, v, 4 + n, false), BRAIN_ECORRUPT);
		/* as a name */
		assert_int_equal(check_one(BRAIN_META_BOOL, s, n, &one, 1, false), BRAIN_ECORRUPT);
		/* as a list item */
		uint8_t l[24] = {1, 0, 0, 0};
		memcpy(l + 4, v, 4 + n);
		assert_int_equal(check_one(BRAIN_META_LIST, "l", 1, l, 8 + n, false), BRAIN_ECORRUPT);
	}
	uint8_t nul[] = {3, 0, 0, 0, 'a', 0, 'b'};
	assert_int_equal(check_one(BRAIN_META_STRING, "s", 1, nul, sizeof nul, false), 0);
	uint8_t huge[] = {0xff, 0xff, 0xff, 0xff, 'a'};
	assert_int_equal(check_one(BRAIN_META_STRING, "s", 1, huge, sizeof huge, false),
	                 BRAIN_ECORRUPT);
	uint8_t list_huge[] = {1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 'a'};
	assert_int_equal(check_one(BRAIN_META_LIST, "l", 1, list_huge, sizeof list_huge, false),
	                 BRAIN_ECORRUPT);
	uint8_t list_short[] = {2, 0, 0, 0, 1, 0, 0, 0, 'a'};
	assert_int_equal(check_one(BRAIN_META_LIST, "l", 1, list_short, sizeof list_short, false),
	                 BRAIN_ECORRUPT);
	/* names: 1..NAME_MAX bytes, no NUL */
	char name[BRAIN_META_NAME_MAX + 1];
	memset(name, 'n', sizeof name);
	assert_int_equal(check_one(BRAIN_META_BOOL, name, BRAIN_META_NAME_MAX, &one, 1, false), 0);
	assert_int_equal(check_one(BRAIN_META_BOOL, name, BRAIN_META_NAME_MAX + 1, &one, 1, false),
	                 BRAIN_ECORRUPT);
	assert_int_equal(check_one(BRAIN_META_BOOL, name, 0, &one, 1, false), BRAIN_ECORRUPT);
	assert_int_equal(check_one(BRAIN_META_BOOL, "a\0b", 3, &one, 1, false), BRAIN_ECORRUPT);
	bb_init(&b);
	bb_u32(&b, 1);
	bb_u8(&b, BRAIN_META_BOOL);
	bb_u32(&b, 0xffffffffu);
	bb_bytes(&b, "a", 1);
	assert_int_equal(brain__meta_check(b.d, b.n, false), BRAIN_ECORRUPT);
	free(b.d);

	/* counts: fields and items */
	bb_init(&b);
	bb_u32(&b, BRAIN_META_FIELDS_MAX + 1);
	assert_int_equal(brain__meta_check(b.d, b.n, false), BRAIN_ECORRUPT);
	free(b.d);
	for (uint32_t extra = 0; extra <= 1; extra++) {
		bb_init(&b);
		bb_u32(&b, 1);
		bb_field(&b, BRAIN_META_LIST, "l", 1);
		bb_u32(&b, BRAIN_META_ITEMS_MAX + extra);
		for (uint32_t i = 0; i < BRAIN_META_ITEMS_MAX + extra; i++)
			bb_u32(&b, 0);
		assert_int_equal(brain__meta_check(b.d, b.n, false), extra ? BRAIN_ECORRUPT : 0);
		free(b.d);
	}
	/* the size: BYTES_MAX at most */
	for (size_t extra = 0; extra <= 1; extra++) {
		bb_init(&b);
		bb_u32(&b, 1);
		bb_field(&b, BRAIN_META_STRING, "s", 1);
		size_t n = BRAIN_META_BYTES_MAX - 14 + extra;
		bb_u32(&b, (uint32_t)n);
		memset(b.d + b.n, 'x', n);
		b.n += n;
		assert_int_equal(brain__meta_check(b.d, b.n, false), extra ? BRAIN_ECORRUPT : 0);
		free(b.d);
	}
}

/* ---- patch ------------------------------------------------------------- */

static void assert_patch(const char *old, const char *patch, const char *want)
{
	brain_meta_blob o = {NULL, 0}, p = parse(patch, true), w = parse(want, false), r;
	if (old)
		o = parse(old, false);
	assert_int_equal(brain__meta_patch(o.data, o.len, p.data, p.len, &r), 0);
	assert_int_equal(brain__meta_check(r.data, r.len, false), 0);
	assert_same_blob(&r, &w);
	blob_free(&o);
	blob_free(&p);
	blob_free(&w);
	blob_free(&r);
}

static void test_meta__patch(void **state)
{
	(void)state;
	const char *old = "{\"a\":1,\"b\":\"x\",\"c\":[\"y\"]}";
	/* replace, set (before, between, after), remove, remove a missing one */
	assert_patch(old, "{\"b\":\"z\"}", "{\"a\":1,\"b\":\"z\",\"c\":[\"y\"]}");
	assert_patch(old, "{\"a\":\"now a string\"}",
	             "{\"a\":\"now a string\",\"b\":\"x\",\"c\":[\"y\"]}");
	assert_patch(old, "{\"0\":true}", "{\"0\":true,\"a\":1,\"b\":\"x\",\"c\":[\"y\"]}");
	assert_patch(old, "{\"bb\":[]}", "{\"a\":1,\"b\":\"x\",\"bb\":[],\"c\":[\"y\"]}");
	assert_patch(old, "{\"d\":false}", "{\"a\":1,\"b\":\"x\",\"c\":[\"y\"],\"d\":false}");
	assert_patch(old, "{\"b\":null}", "{\"a\":1,\"c\":[\"y\"]}");
	assert_patch(old, "{\"zz\":null,\"0\":null,\"ab\":null}", old);
	assert_patch(old, "{}", old);
	assert_patch(old, "{\"a\":null,\"b\":null,\"c\":null}", "{}");
	assert_patch(old, "{\"a\":2.5,\"b\":null,\"bb\":[],\"c\":null,\"e\":false}",
	             "{\"a\":2.5,\"bb\":[],\"e\":false}");
	assert_patch(old, old, old);
	/* no old metadata */
	assert_patch(NULL, "{\"x\":1,\"y\":null}", "{\"x\":1}");
	assert_patch(NULL, "{}", "{}");
	assert_patch("{}", "{\"y\":null}", "{}");

	/* the limits hold for the result: fields */
	for (int extra = 0; extra <= 1; extra++) {
		text o = {0}, p = {0};
		text_puts(&o, "{");
		for (int i = 0; i < 200; i++)
			text_printf(&o, "%s\"a%03d\":%d", i ? "," : "", i, i);
		text_puts(&o, "}");
		text_puts(&p, "{\"a000\":null,\"zzz\":null");
		for (int i = 0; i < 57 + extra; i++)
			text_printf(&p, ",\"b%03d\":%d", i, i);
		text_puts(&p, "}");
		brain_meta_blob ob = parse_n(o.s, o.len, false), pb = parse_n(p.s, p.len, true), r;
		int rc = brain__meta_patch(ob.data, ob.len, pb.data, pb.len, &r);
		if (!extra) {
			assert_int_equal(rc, 0);
			assert_int_equal(brain__meta_count(r.data), BRAIN_META_FIELDS_MAX);
			assert_int_equal(brain__meta_check(r.data, r.len, false), 0);
			blob_free(&r);
		} else {
			assert_int_equal(rc, BRAIN_ETOOLONG);
		}
		blob_free(&ob);
		blob_free(&pb);
		free(o.s);
		free(p.s);
	}
	/* and bytes: a 40000-byte string plus a 30000-byte one is too much,
	 * unless the second replaces the first */
	text o = {0}, p = {0}, q = {0};
	text_puts(&o, "{\"s\":\"");
	text_puts(&p, "{\"t\":\"");
	text_puts(&q, "{\"s\":\"");
	for (int i = 0; i < 40000; i++)
		text_puts(&o, "o");
	for (int i = 0; i < 30000; i++) {
		text_puts(&p, "p");
		text_puts(&q, "q");
	}
	text_puts(&o, "\"}");
	text_puts(&p, "\"}");
	text_puts(&q, "\"}");
	brain_meta_blob ob = parse_n(o.s, o.len, false), pb = parse_n(p.s, p.len, true),
	                qb = parse_n(q.s, q.len, true), r;
	assert_int_equal(brain__meta_patch(ob.data, ob.len, pb.data, pb.len, &r), BRAIN_ETOOLONG);
	assert_int_equal(brain__meta_patch(ob.data, ob.len, qb.data, qb.len, &r), 0);
	assert_same_blob(&r, &qb);
	blob_free(&r);
	blob_free(&ob);
	blob_free(&pb);
	blob_free(&qb);
	free(o.s);
	free(p.s);
	free(q.s);
}

/* ---- keys -------------------------------------------------------------- */

static int64_t random_int(test_rng *r)
{
	uint64_t u = test_rng_next(r);
	switch (u % 4) {
	case 0:
		return (int64_t)test_rng_next(r); /* anywhere */
	case 1:
		return (int64_t)(test_rng_next(r) % 2001) - 1000; /* near zero */
	case 2:
		return INT64_MAX - (int64_t)(test_rng_next(r) % 3);
	default:
		return INT64_MIN + (int64_t)(test_rng_next(r) % 3);
	}
}

static double random_double(test_rng *r)
{
	static const double special[] = {0.0, -0.0, 1.0, -1.0, DBL_MAX, -DBL_MAX, DBL_MIN,
	                                 -DBL_MIN, 4.9406564584124654e-324,
	                                 -4.9406564584124654e-324, 0.1, -0.1};
	uint64_t u = test_rng_next(r);
	switch (u % 5) {
	case 0:
		return special[test_rng_next(r) % BRAIN_ARRAY_LEN(special)];
	case 1: { /* any finite bit pattern: tiny, huge, subnormal */
		double d;
		do
			d = from_bits(test_rng_next(r));
		while (!isfinite(d));
		return d;
	}
	case 2:
		return (test_rng_unit(r) - 0.5) * 2e6;
	case 3:
		return (double)((int64_t)(test_rng_next(r) % 21) - 10); /* ties */
	default:
		return (test_rng_unit(r) - 0.5) * 1e-300;
	}
}

static void test_meta__keys_keep_the_order(void **state)
{
	(void)state;
	test_rng rng = {0x6d657461};
	for (int i = 0; i < 5000; i++) {
		int64_t a = random_int(&rng), b = random_int(&rng);
		uint64_t ka = brain__meta_int_key(a), kb = brain__meta_int_key(b);
		assert_int_equal(a < b, ka < kb);
		assert_int_equal(a == b, ka == kb);
	}
	for (int i = 0; i < 5000; i++) {
		double a = random_double(&rng), b = random_double(&rng);
		uint64_t ka = brain__meta_double_key(a), kb = brain__meta_double_key(b);
		if ((a < b) != (ka < kb) || (a == b) != (ka == kb))
			print_error("%.17g %.17g\n", a, b);
		assert_int_equal(a < b, ka < kb);
		assert_int_equal(a == b, ka == kb);
	}
	assert_true(brain__meta_double_key(0.0) == brain__meta_double_key(-0.0));
	assert_true(brain__meta_int_key(INT64_MIN) == 0);
	assert_true(brain__meta_int_key(INT64_MAX) == UINT64_MAX);
}

/* ---- random metadata, written by an independent writer ----------------- */

#define GEN_CPS 12
#define GEN_ITEMS 5

/* A string as code points, and its UTF-8. */
typedef struct gstr {
	uint32_t cp[GEN_CPS];
	size_t n;
	uint8_t u8[GEN_CPS * 4];
	size_t len;
} gstr;

typedef struct gfield {
	gstr name;
	int type;
	gstr s;               /* STRING */
	int64_t i;            /* INT */
	double d;             /* DOUBLE */
	bool b;               /* BOOL */
	gstr items[GEN_ITEMS]; /* LIST */
	size_t n_items;
} gfield;

static void gen_str(test_rng *r, gstr *s, size_t min, size_t max, bool name)
{
	/* names from a small alphabet, so they collide */
	static const uint32_t names[] = {'a', 'b', 'c', 0xe9, '"', 0x1f600, '\\', 0x01};
	static const uint32_t values[] = {'a', 'b', ' ', '"', '\\', '/', 0x00, 0x01, '\n',
	                                  0x1f, 0x7f, 0x80, 0xe9, 0x7ff, 0x800, 0x20ac,
	                                  0xfffd, 0xffff, 0x10000, 0x1f600, 0x10ffff};
	s->n = min + (size_t)(test_rng_next(r) % (max - min + 1));
	s->len = 0;
	for (size_t k = 0; k < s->n; k++) {
		uint32_t cp = name ? names[test_rng_next(r) % BRAIN_ARRAY_LEN(names)]
		                   : values[test_rng_next(r) % BRAIN_ARRAY_LEN(values)];
		s->cp[k] = cp;
		uint8_t *o = s->u8 + s->len;
		if (cp < 0x80) {
			o[0] = (uint8_t)cp;
			s->len += 1;
		} else if (cp < 0x800) {
			o[0] = (uint8_t)(0xc0 | cp >> 6);
			o[1] = (uint8_t)(0x80 | (cp & 0x3f));
			s->len += 2;
		} else if (cp < 0x10000) {
			o[0] = (uint8_t)(0xe0 | cp >> 12);
			o[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
			o[2] = (uint8_t)(0x80 | (cp & 0x3f));
			s->len += 3;
		} else {
			o[0] = (uint8_t)(0xf0 | cp >> 18);
			o[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
			o[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
			o[3] = (uint8_t)(0x80 | (cp & 0x3f));
			s->len += 4;
		}
	}
}

static void w_ws(text *t, test_rng *r)
{
	static const char *ws[] = {"", "", "", " ", "\t", "\r\n", "  \n"};
	text_puts(t, ws[test_rng_next(r) % BRAIN_ARRAY_LEN(ws)]);
}

/* Each code point raw or as an escape, chosen at random (controls, '"' and
 * '\\' always escaped; beyond the BMP as a surrogate pair). */
static void w_str(text *t, test_rng *r, const gstr *s)
{
	text_puts(t, "\"");
	size_t off = 0;
	for (size_t k = 0; k < s->n; k++) {
		uint32_t cp = s->cp[k];
		size_t bytes = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
		bool upper = test_rng_next(r) & 1;
		if (cp == '"') {
			text_puts(t, "\\\"");
		} else if (cp == '\\') {
			text_puts(t, "\\\\");
		} else if (cp == '/' && (test_rng_next(r) & 1)) {
			text_puts(t, "\\/");
		} else if (cp < 0x20 || test_rng_next(r) % 4 == 0) {
			if (cp >= 0x10000) {
				uint32_t v = cp - 0x10000;
				text_printf(t, upper ? "\\u%04X\\u%04X" : "\\u%04x\\u%04x",
				            (unsigned)(0xd800 + (v >> 10)), (unsigned)(0xdc00 + (v & 0x3ff)));
			} else {
				text_printf(t, upper ? "\\u%04X" : "\\u%04x", (unsigned)cp);
			}
		} else {
			text_add(t, (const char *)s->u8 + off, bytes);
		}
		off += bytes;
	}
	text_puts(t, "\"");
}

static void w_double(text *t, test_rng *r, double d)
{
	char buf[64];
	if (test_rng_next(r) & 1) {
		snprintf(buf, sizeof buf, "%.17e", d);
	} else {
		snprintf(buf, sizeof buf, "%.17g", d);
		if (!strpbrk(buf, ".eE"))
			strcat(buf, ".0");
	}
	text_puts(t, buf);
}

static int gfield_cmp(const void *a, const void *b)
{
	const gfield *x = a, *y = b;
	size_t n = TEST_MIN(x->name.len, y->name.len);
	int c = memcmp(x->name.u8, y->name.u8, n);
	if (c)
		return c;
	return x->name.len < y->name.len ? -1 : x->name.len > y->name.len;
}

static void test_meta__random_metadata_reads_back(void **state)
{
	(void)state;
	test_rng rng = {20240601};
	static gfield g[40];
	size_t none_seen = 0, lists_seen = 0;
	for (int doc = 0; doc < 2000; doc++) {
		bool patch = doc % 5 == 4;
		size_t want = (size_t)(test_rng_next(&rng) % 40), n = 0;
		for (size_t k = 0; k < want; k++) {
			gfield *f = &g[n];
			memset(f, 0, sizeof *f);
			gen_str(&rng, &f->name, 1, 3, true);
			bool dup = false;
			for (size_t j = 0; j < n; j++)
				if (g[j].name.len == f->name.len &&
				    memcmp(g[j].name.u8, f->name.u8, f->name.len) == 0)
					dup = true;
			if (dup)
				continue;
			f->type = 1 + (int)(test_rng_next(&rng) % 5);
			if (patch && test_rng_next(&rng) % 4 == 0)
				f->type = BRAIN_META_NONE;
			switch (f->type) {
			case BRAIN_META_STRING:
				gen_str(&rng, &f->s, 0, GEN_CPS, false);
				break;
			case BRAIN_META_INT:
				f->i = random_int(&rng);
				break;
			case BRAIN_META_DOUBLE:
				f->d = random_double(&rng);
				break;
			case BRAIN_META_BOOL:
				f->b = test_rng_next(&rng) & 1;
				break;
			case BRAIN_META_LIST:
				f->n_items = (size_t)(test_rng_next(&rng) % (GEN_ITEMS + 1));
				for (size_t j = 0; j < f->n_items; j++)
					gen_str(&rng, &f->items[j], 0, 4, false);
				break;
			default:
				break;
			}
			n++;
		}
		/* the text, members in generated (unsorted) order */
		text t = {0};
		w_ws(&t, &rng);
		text_puts(&t, "{");
		for (size_t k = 0; k < n; k++) {
			const gfield *f = &g[k];
			w_ws(&t, &rng);
			if (k)
				text_puts(&t, ",");
			w_ws(&t, &rng);
			w_str(&t, &rng, &f->name);
			w_ws(&t, &rng);
			text_puts(&t, ":");
			w_ws(&t, &rng);
			switch (f->type) {
			case BRAIN_META_STRING:
				w_str(&t, &rng, &f->s);
				break;
			case BRAIN_META_INT:
				text_printf(&t, "%" PRId64, f->i);
				break;
			case BRAIN_META_DOUBLE:
				w_double(&t, &rng, f->d);
				break;
			case BRAIN_META_BOOL:
				text_puts(&t, f->b ? "true" : "false");
				break;
			case BRAIN_META_LIST:
				text_puts(&t, "[");
				for (size_t j = 0; j < f->n_items; j++) {
					w_ws(&t, &rng);
					if (j)
						text_puts(&t, ",");
					w_str(&t, &rng, &f->items[j]);
				}
				w_ws(&t, &rng);
				text_puts(&t, "]");
				break;
			default:
				text_puts(&t, "null");
				break;
			}
		}
		w_ws(&t, &rng);
		text_puts(&t, "}");
		w_ws(&t, &rng);

		brain_meta_blob b = parse_n(t.s ? t.s : "", t.len, patch);
		qsort(g, n, sizeof *g, gfield_cmp);
		assert_int_equal(brain__meta_count(b.data), n);
		size_t pos = 0, k = 0;
		brain_meta_field f;
		while (brain__meta_next(b.data, b.len, &pos, &f)) {
			assert_true(k < n);
			const gfield *e = &g[k++];
			assert_int_equal(f.name_len, e->name.len);
			assert_memory_equal(f.name, e->name.u8, e->name.len);
			assert_int_equal(f.type, e->type);
			switch (e->type) {
			case BRAIN_META_STRING:
				assert_int_equal(f.str_len, e->s.len);
				if (e->s.len)
					assert_memory_equal(f.str, e->s.u8, e->s.len);
				break;
			case BRAIN_META_INT:
				assert_true(f.i == e->i);
				break;
			case BRAIN_META_DOUBLE:
				assert_true(bits(f.d) == bits(e->d));
				break;
			case BRAIN_META_BOOL:
				assert_int_equal(f.b, e->b);
				break;
			case BRAIN_META_LIST: {
				lists_seen++;
				assert_int_equal(f.n_items, e->n_items);
				size_t ip = 0;
				for (size_t j = 0; j < e->n_items; j++) {
					const char *s;
					uint32_t sl;
					brain__meta_item(&f, &ip, &s, &sl);
					assert_int_equal(sl, e->items[j].len);
					if (sl)
						assert_memory_equal(s, e->items[j].u8, sl);
				}
				break;
			}
			default:
				none_seen++;
				break;
			}
		}
		assert_int_equal(k, n);
		assert_round_trip(b.data, b.len, patch);
		blob_free(&b);
		free(t.s);
	}
	assert_true(none_seen > 100);
	assert_true(lists_seen > 100);
}

/* ---- the locale -------------------------------------------------------- */

/* With another decimal point in LC_NUMERIC (a comma; ps_AF's is two bytes
 * of UTF-8), numbers still read and print with a '.'. Each such locale the
 * machine has is tried; skipped when it has none. */
static void test_meta__numbers_ignore_the_locale(void **state)
{
	(void)state;
	static const char *locales[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8",
	                                "ru_RU.UTF-8", "ps_AF.UTF-8", "ps_AF.utf8"};
	int tried = 0;
	for (size_t i = 0; i < BRAIN_ARRAY_LEN(locales); i++) {
		if (!setlocale(LC_NUMERIC, locales[i]))
			continue;
		char probe[16];
		snprintf(probe, sizeof probe, "%.1f", 0.5);
		if (strcmp(probe, "0.5") == 0) {
			setlocale(LC_NUMERIC, "C");
			continue;
		}
		tried++;
		brain_meta_blob b = parse("{\"a\":0.5,\"b\":-1.25e2,\"c\":1e3,\"d\":0.1,\"e\":-0.0}",
		                          false);
		assert_true(find(&b, "a").d == 0.5);
		assert_true(find(&b, "b").d == -125.0);
		assert_true(find(&b, "c").d == 1000.0);
		assert_true(find(&b, "d").d == 0.1);
		char *s = json_of(b.data, b.len);
		assert_string_equal(s, "{\"a\":0.5,\"b\":-125.0,\"c\":1000.0,"
		                       "\"d\":0.10000000000000001,\"e\":-0.0}");
		free(s);
		blob_free(&b);
		setlocale(LC_NUMERIC, "C");
	}
	if (!tried)
		skip();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_meta__every_type_parses_and_iterates),
		cmocka_unit_test(test_meta__blob_layout_is_canonical),
		cmocka_unit_test(test_meta__round_trips),
		cmocka_unit_test(test_meta__numbers_are_exact),
		cmocka_unit_test(test_meta__to_json_escapes),
		cmocka_unit_test(test_meta__to_json_snprintf_contract),
		cmocka_unit_test(test_meta__errors_name_code_and_offset),
		cmocka_unit_test(test_meta__limits),
		cmocka_unit_test(test_meta__out_of_memory),
		cmocka_unit_test(test_meta__check_every_truncation),
		cmocka_unit_test(test_meta__check_every_byte_change),
		cmocka_unit_test(test_meta__check_refuses_hand_made_blobs),
		cmocka_unit_test(test_meta__patch),
		cmocka_unit_test(test_meta__keys_keep_the_order),
		cmocka_unit_test(test_meta__random_metadata_reads_back),
		cmocka_unit_test(test_meta__numbers_ignore_the_locale),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
