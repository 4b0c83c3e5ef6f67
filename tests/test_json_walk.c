/*
 * tests/test_json_walk.c - the read-only JSON walker (base/json_walk.h):
 * the edge cases of strict JSON accepted and refused (with the message's
 * offset and words), each read from a buffer that ends at an unreadable
 * page; the accessors by hand; the files the model loaders read (a
 * tokenizer with a 30,000-entry vocabulary, a config, a safetensors
 * header); nesting at the depth limit; random documents written by this
 * file's own writer and walked back to the same values; random byte
 * mutations of valid documents, in buffers of exactly their size, judged
 * by a validator written here the simple way (recursive descent) and
 * walked whatever they are; and megabytes of pathological input that a
 * walker slower than linear would not finish under the test's timeout.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <inttypes.h>
#include <math.h>
#include <sys/mman.h>

#include "base/json_walk.h"
#include "test_util.h"

/* ---- buffers ------------------------------------------------------------- */

/* n bytes that end where an unreadable page begins: a read past the end
 * crashes, in any build. */
typedef struct fenced {
	char *map;
	size_t mapped;
} fenced;

static char *fence(fenced *f, const void *s, size_t n)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	f->mapped = (n + page - 1) / page * page + page;
	/* /dev/zero rather than MAP_ANONYMOUS, which strict POSIX 2008 lacks */
	int fd = open("/dev/zero", O_RDWR);
	assert_true(fd >= 0);
	f->map = mmap(NULL, f->mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	close(fd);
	assert_true(f->map != MAP_FAILED);
	char *p = f->map + f->mapped - page - n;
	if (n)
		memcpy(p, s, n);
	assert_int_equal(mprotect(f->map + f->mapped - page, page, PROT_NONE), 0);
	return p;
}

static void unfence(fenced *f)
{
	munmap(f->map, f->mapped);
}

/* A growing text. */
typedef struct text {
	char *p;
	size_t len, cap;
} text;

static void put(text *t, const void *s, size_t n)
{
	if (t->len + n > t->cap) {
		t->cap = (t->len + n) * 2 + 64;
		t->p = realloc(t->p, t->cap);
		assert_non_null(t->p);
	}
	if (n)
		memcpy(t->p + t->len, s, n);
	t->len += n;
}

static void puts_(text *t, const char *s)
{
	put(t, s, strlen(s));
}

static void putf(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(text *t, const char *fmt, ...)
{
	char b[128];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b, sizeof b, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && n < (int)sizeof b);
	put(t, b, (size_t)n);
}

/* ---- a validator written the simple way ---------------------------------- */

typedef struct ref {
	const unsigned char *s;
	size_t n, i;
} ref;

static void ref_ws(ref *r)
{
	while (r->i < r->n && (r->s[r->i] == ' ' || r->s[r->i] == '\t' || r->s[r->i] == '\n' ||
	                       r->s[r->i] == '\r'))
		r->i++;
}

static bool ref_eat(ref *r, char c)
{
	if (r->i < r->n && r->s[r->i] == (unsigned char)c) {
		r->i++;
		return true;
	}
	return false;
}

static bool ref_digits(ref *r)
{
	size_t from = r->i;
	while (r->i < r->n && r->s[r->i] >= '0' && r->s[r->i] <= '9')
		r->i++;
	return r->i > from;
}

static bool ref_hex4(ref *r, unsigned *cp)
{
	if (r->n - r->i < 4)
		return false;
	char b[5] = {0};
	for (int k = 0; k < 4; k++) {
		b[k] = (char)r->s[r->i + (size_t)k];
		if (!strchr("0123456789abcdefABCDEF", b[k]) || !b[k])
			return false;
	}
	*cp = (unsigned)strtoul(b, NULL, 16);
	r->i += 4;
	return true;
}

static bool ref_string(ref *r)
{
	if (!ref_eat(r, '"'))
		return false;
	for (;;) {
		if (r->i >= r->n)
			return false;
		unsigned c = r->s[r->i++];
		if (c == '"')
			return true;
		if (c < 0x20)
			return false;
		if (c == '\\') {
			if (r->i >= r->n)
				return false;
			c = r->s[r->i++];
			if (c == 'u') {
				unsigned cp, lo;
				if (!ref_hex4(r, &cp) || (cp >= 0xDC00 && cp <= 0xDFFF))
					return false;
				if (cp >= 0xD800 && cp <= 0xDBFF &&
				    (!ref_eat(r, '\\') || !ref_eat(r, 'u') || !ref_hex4(r, &lo) || lo < 0xDC00 ||
				     lo > 0xDFFF))
					return false;
			} else if (!c || !strchr("\"\\/bfnrt", (int)c)) {
				return false;
			}
			continue;
		}
		if (c < 0x80)
			continue;
		/* decode the character, then judge the code point */
		size_t len;
		unsigned cp;
		if ((c & 0xE0) == 0xC0)
			len = 2, cp = c & 0x1F;
		else if ((c & 0xF0) == 0xE0)
			len = 3, cp = c & 0x0F;
		else if ((c & 0xF8) == 0xF0)
			len = 4, cp = c & 0x07;
		else
			return false;
		for (size_t k = 1; k < len; k++) {
			if (r->i >= r->n || (r->s[r->i] & 0xC0) != 0x80)
				return false;
			cp = cp << 6 | (r->s[r->i++] & 0x3F);
		}
		static const unsigned least[] = {0, 0, 0x80, 0x800, 0x10000};
		if (cp < least[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
	}
}

static bool ref_number(ref *r)
{
	ref_eat(r, '-');
	if (!ref_eat(r, '0')) {
		if (r->i >= r->n || r->s[r->i] < '1' || r->s[r->i] > '9')
			return false;
		ref_digits(r);
	}
	if (ref_eat(r, '.') && !ref_digits(r))
		return false;
	if (ref_eat(r, 'e') || ref_eat(r, 'E')) {
		if (!ref_eat(r, '+'))
			ref_eat(r, '-');
		if (!ref_digits(r))
			return false;
	}
	return true;
}

static bool ref_word(ref *r, const char *w)
{
	size_t n = strlen(w);
	if (r->n - r->i < n || memcmp(r->s + r->i, w, n) != 0)
		return false;
	r->i += n;
	return true;
}

/* A value at r->i inside `open` containers. */
static bool ref_value(ref *r, int open)
{
	if (r->i >= r->n)
		return false;
	switch (r->s[r->i]) {
	case '{':
		if (open == 128)
			return false;
		r->i++;
		ref_ws(r);
		if (ref_eat(r, '}'))
			return true;
		for (;;) {
			ref_ws(r);
			if (!ref_string(r))
				return false;
			ref_ws(r);
			if (!ref_eat(r, ':'))
				return false;
			ref_ws(r);
			if (!ref_value(r, open + 1))
				return false;
			ref_ws(r);
			if (ref_eat(r, ','))
				continue;
			return ref_eat(r, '}');
		}
	case '[':
		if (open == 128)
			return false;
		r->i++;
		ref_ws(r);
		if (ref_eat(r, ']'))
			return true;
		for (;;) {
			ref_ws(r);
			if (!ref_value(r, open + 1))
				return false;
			ref_ws(r);
			if (ref_eat(r, ','))
				continue;
			return ref_eat(r, ']');
		}
	case '"':
		return ref_string(r);
	case 't':
		return ref_word(r, "true");
	case 'f':
		return ref_word(r, "false");
	case 'n':
		return ref_word(r, "null");
	default:
		return ref_number(r);
	}
}

static bool ref_valid(const char *s, size_t n)
{
	ref r = {(const unsigned char *)s, n, 0};
	ref_ws(&r);
	if (!ref_value(&r, 0))
		return false;
	ref_ws(&r);
	return r.i == n;
}

/* ---- accepted and refused ------------------------------------------------ */

typedef struct jcase {
	const char *json;
	size_t len;
	const char *error; /* NULL: accepted; else words of the message */
} jcase;

#define OK(s) {s, sizeof s - 1, NULL}
#define BAD(s, msg) {s, sizeof s - 1, msg}

static const jcase cases[] = {
	OK("0"),
	OK("-0"),
	OK("1"),
	OK("-1"),
	OK("123456789"),
	OK("-1.5e+10"),
	OK("1E-2"),
	OK("0.5"),
	OK("0e0"),
	OK("-0.0e-0"),
	OK("1e400"),
	OK("1e-400"),
	OK("99999999999999999999999999999"),
	OK("[]"),
	OK("{}"),
	OK(" \t\n\r[ ] \r\n\t "),
	OK("\"\""),
	OK("\"\\u0000\""),
	OK("\"\\uD83D\\uDE00\""),
	OK("\"\\ud83d\\ude00\""),
	OK("\"\\uDBFF\\uDFFF\""),
	OK("\"\\u00e9\\u00E9\\uFFFF\\uFFFE\""),
	OK("\"\xC3\xA9\""),
	OK("\"\xE2\x82\xAC\""),
	OK("\"\xF0\x9F\x98\x80\""),
	OK("\"\xED\x9F\xBF\""), /* U+D7FF, just before the surrogates */
	OK("\"\xEE\x80\x80\""), /* U+E000, just after */
	OK("\"\xEF\xBF\xBF\""),
	OK("\"\xF4\x8F\xBF\xBF\""), /* U+10FFFF */
	OK("\"\x7F\""),             /* DEL is not a control character to JSON */
	OK("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\""),
	OK("true"),
	OK("false"),
	OK("null"),
	OK("[1,2,3]"),
	OK("[1 , 2 ,3 ]"),
	OK("{\"a\":1}"),
	OK("{ \"a\" : [ { \"b\" : null } ] , \"c\" : \"\" }"),
	OK("[[],{},[[]],{\"\":{}}]"),
	OK("{\"a\":1,\"a\":2}"),
	OK("[\"]\", \"[\", \"\\\"]\", {\"}\":\"{\"}]"),

	BAD("", "offset 0: expected a value, found the end of the input"),
	BAD(" \t\n ", "offset 4: expected a value, found the end of the input"),
	BAD("\xEF\xBB\xBF{}", "offset 0: a byte order mark"),
	BAD("\xEF\xBB\xBF", "offset 0: a byte order mark"),
	BAD("01", "offset 0: a number with a leading zero"),
	BAD("-01", "offset 1: a number with a leading zero"),
	BAD("[00]", "offset 1: a number with a leading zero"),
	BAD("1.", "offset 2: expected a digit after '.', found the end of the input"),
	BAD("1.e5", "offset 2: expected a digit after '.', found 'e'"),
	BAD(".5", "offset 0: expected a value, found '.'"),
	BAD("[.5]", "offset 1: expected a value or ']', found '.'"),
	BAD("-", "offset 1: expected a digit, found the end of the input"),
	BAD("-a", "offset 1: expected a digit, found 'a'"),
	BAD("- 1", "offset 1: expected a digit, found ' '"),
	BAD("+1", "offset 0: expected a value, found '+'"),
	BAD("1e", "offset 2: expected a digit in the exponent, found the end of the input"),
	BAD("1e+", "offset 3: expected a digit in the exponent"),
	BAD("1E-x", "offset 3: expected a digit in the exponent, found 'x'"),
	BAD("1e1.5", "offset 3: expected the end of the document, found '.'"),
	BAD("1.5.2", "offset 3: expected the end of the document, found '.'"),
	BAD("0x10", "offset 1: expected the end of the document, found 'x'"),
	BAD("NaN", "offset 0: expected a value, found 'N'"),
	BAD("-Infinity", "offset 1: expected a digit, found 'I'"),
	BAD("tru", "offset 0: expected a value, found 't'"),
	BAD("True", "offset 0: expected a value, found 'T'"),
	BAD("nulll", "offset 4: expected the end of the document, found 'l'"),
	BAD("\"a\x01\"", "offset 2: an unescaped control character 0x01 in a string"),
	BAD("\"a\nb\"", "offset 2: an unescaped control character 0x0a in a string"),
	BAD("\"\t\"", "offset 1: an unescaped control character 0x09"),
	BAD("\"\x1f\"", "offset 1: an unescaped control character 0x1f"),
	BAD("\"\\ud800\"", "offset 1: a high surrogate \\ud800 not followed by a low surrogate"),
	BAD("\"\\ud800\\u0041\"", "offset 1: a high surrogate \\ud800 not followed"),
	BAD("\"\\uD800\\uD800\"", "offset 1: a high surrogate \\ud800 not followed"),
	BAD("\"x\\ud800", "offset 2: a high surrogate \\ud800 not followed"),
	BAD("\"\\udc00\"", "offset 1: a lone low surrogate \\udc00"),
	BAD("\"\\uDFFF\\uD800\"", "offset 1: a lone low surrogate \\udfff"),
	BAD("\"\\u12\"", "offset 3: expected four hex digits after \\u"),
	BAD("\"\\u12G4\"", "offset 3: expected four hex digits after \\u"),
	BAD("\"\\x\"", "offset 2: expected one of \" \\ / b f n r t u after '\\', found 'x'"),
	BAD("\"\\U0041\"", "offset 2: expected one of \" \\ / b f n r t u after '\\', found 'U'"),
	BAD("\"\\'\"", "found '''"),
	BAD("\"\\", "offset 2: expected an escape after '\\', found the end of the input"),
	BAD("\"\xFF\"", "offset 1: invalid UTF-8 in a string (byte 0xff)"),
	BAD("\"ab\x80\"", "offset 3: invalid UTF-8 in a string (byte 0x80)"),
	BAD("\"\xC0\xAF\"", "offset 1: invalid UTF-8"),         /* overlong '/' */
	BAD("\"\xC1\xBF\"", "offset 1: invalid UTF-8"),         /* overlong U+007F */
	BAD("\"\xE0\x80\xAF\"", "offset 1: invalid UTF-8"),     /* overlong, 3 bytes */
	BAD("\"\xE0\x9F\xBF\"", "offset 1: invalid UTF-8"),     /* overlong U+07FF */
	BAD("\"\xF0\x80\x80\xAF\"", "offset 1: invalid UTF-8"), /* overlong, 4 bytes */
	BAD("\"\xF0\x8F\xBF\xBF\"", "offset 1: invalid UTF-8"), /* overlong U+FFFF */
	BAD("\"\xED\xA0\x80\"", "offset 1: invalid UTF-8"),     /* U+D800 encoded */
	BAD("\"\xED\xBF\xBF\"", "offset 1: invalid UTF-8"),     /* U+DFFF encoded */
	BAD("\"\xF4\x90\x80\x80\"", "offset 1: invalid UTF-8"), /* U+110000 */
	BAD("\"\xF5\x80\x80\x80\"", "offset 1: invalid UTF-8"),
	BAD("\"\xC3\"", "offset 1: invalid UTF-8"),             /* cut short */
	BAD("\"\xE2\x82\"", "offset 1: invalid UTF-8"),
	BAD("\"\xC3", "offset 1: invalid UTF-8"),
	BAD("\"abc", "offset 4: expected '\"' (the end of the string opened at offset 0), found the "
	             "end of the input"),
	BAD("[1,]", "offset 3: expected a value, found ']'"),
	BAD("[,1]", "offset 1: expected a value or ']', found ','"),
	BAD("{\"a\":1,}", "offset 7: expected '\"' (a member's name), found '}'"),
	BAD("{,}", "offset 1: expected '\"' (a member's name) or '}', found ','"),
	BAD("[1 2]", "offset 3: expected ',' or ']', found '2'"),
	BAD("{\"a\":1 \"b\":2}", "offset 7: expected ',' or '}', found '\"'"),
	BAD("{\"a\" 1}", "offset 5: expected ':', found '1'"),
	BAD("{\"a\"}", "offset 4: expected ':', found '}'"),
	BAD("{1:2}", "offset 1: expected '\"' (a member's name) or '}', found '1'"),
	BAD("{'a':1}", "offset 1: expected '\"' (a member's name) or '}', found '''"),
	BAD("[1]x", "offset 3: expected the end of the document, found 'x'"),
	BAD("[1] [2]", "offset 4: expected the end of the document, found '['"),
	BAD("1 2", "offset 2: expected the end of the document, found '2'"),
	BAD("{}}", "offset 2: expected the end of the document, found '}'"),
	BAD("[1]]", "offset 3: expected the end of the document, found ']'"),
	BAD("[", "offset 1: expected a value or ']', found the end of the input"),
	BAD("[1", "offset 2: expected ',' or ']', found the end of the input"),
	BAD("{", "offset 1: expected '\"' (a member's name) or '}', found the end of the input"),
	BAD("{\"a\":", "offset 5: expected a value, found the end of the input"),
	BAD("[1}", "offset 2: expected ',' or ']', found '}'"),
	BAD("{\"a\":1]", "offset 6: expected ',' or '}', found ']'"),
	BAD("\0", "offset 0: expected a value, found a NUL byte"),
	BAD("[1,\0 2]", "offset 3: expected a value, found a NUL byte"),
	BAD("\"a\0b\"", "offset 2: a NUL byte in a string"),
	BAD("1\0", "offset 1: expected the end of the document, found a NUL byte"),
	BAD("[]\0", "offset 2: expected the end of the document, found a NUL byte"),
	BAD("[\f]", "offset 1: expected a value or ']', found byte 0x0c"),
	BAD("\xC2\xA0" "1", "offset 0: expected a value, found byte 0xc2"),
	BAD("[\"a\",\x80]", "offset 5: expected a value, found byte 0x80"),
	BAD("//c\n1", "offset 0: expected a value, found '/'"),
};

/* Every case, from a buffer that ends at an unreadable page; the simple
 * validator agrees on each. */
static void test_json_walk__cases(void **state)
{
	(void)state;
	for (size_t k = 0; k < BRAIN_ARRAY_LEN(cases); k++) {
		const jcase *c = &cases[k];
		fenced f;
		char *p = fence(&f, c->json, c->len);
		brain_jv root = {NULL, 0, -1};
		int rc = brain__jv_parse(p, c->len, &root);
		if (!c->error) {
			if (rc != BRAIN_OK)
				print_error("case %zu: refused: %s\n", k, brain_errmsg());
			assert_int_equal(rc, BRAIN_OK);
			size_t a = 0, b = c->len;
			while (a < b && strchr(" \t\n\r", p[a]))
				a++;
			while (b > a && strchr(" \t\n\r", p[b - 1]))
				b--;
			assert_ptr_equal(root.p, p + a);
			assert_int_equal(root.n, b - a);
		} else {
			if (rc != BRAIN_EINVAL || !strstr(brain_errmsg(), c->error))
				print_error("case %zu: got %d \"%s\", want \"%s\"\n", k, rc, brain_errmsg(),
				            c->error);
			assert_int_equal(rc, BRAIN_EINVAL);
			assert_non_null(strstr(brain_errmsg(), c->error));
			assert_true(strncmp(brain_errmsg(), "json: offset ", 13) == 0);
			assert_null(root.p); /* untouched */
			assert_int_equal(root.type, -1);
		}
		assert_int_equal(ref_valid(p, c->len), c->error == NULL);
		unfence(&f);
	}

	brain_jv root;
	assert_int_equal(brain__jv_parse(NULL, 1, &root), BRAIN_ENULL);
	assert_int_equal(brain__jv_parse("1", 1, NULL), BRAIN_ENULL);
	assert_int_equal(brain__jv_parse(NULL, 0, &root), BRAIN_EINVAL);
	assert_non_null(strstr(brain_errmsg(), "offset 0: expected a value"));
	/* the length given is the document: what follows is not looked at */
	assert_int_equal(brain__jv_parse("[1]xyz", 3, &root), BRAIN_OK);
	assert_int_equal(root.n, 3);
	assert_int_equal(brain__jv_parse("12", 1, &root), BRAIN_OK);
	assert_int_equal(root.n, 1);
}

/* ---- the accessors ------------------------------------------------------- */

/* The document s parsed (from its own NUL-terminated literal). */
static brain_jv doc(const char *s)
{
	brain_jv v;
	int rc = brain__jv_parse(s, strlen(s), &v);
	if (rc)
		print_error("%s\n", brain_errmsg());
	assert_int_equal(rc, BRAIN_OK);
	return v;
}

static brain_jv member(const brain_jv *obj, const char *key)
{
	brain_jv v;
	if (!brain__jv_get(obj, key, &v))
		print_error("no member \"%s\"\n", key);
	assert_true(brain__jv_get(obj, key, &v));
	return v;
}

static int64_t int_of(const brain_jv *v)
{
	int64_t i = -12345;
	assert_int_equal(brain__jv_int(v, &i), BRAIN_OK);
	return i;
}

static double double_of(const brain_jv *v)
{
	double d = -12345;
	assert_int_equal(brain__jv_double(v, &d), BRAIN_OK);
	return d;
}

static void assert_string(const brain_jv *v, const char *want)
{
	char buf[256];
	size_t len = 0;
	assert_int_equal(brain__jv_string(v, buf, sizeof buf, &len), BRAIN_OK);
	assert_int_equal(len, strlen(want));
	assert_string_equal(buf, want);
	assert_true(brain__jv_string_eq(v, want, strlen(want)));
}

/* The raw bytes of v are `want`. */
static void assert_raw(const brain_jv *v, const char *want)
{
	assert_int_equal(v->n, strlen(want));
	assert_memory_equal(v->p, want, v->n);
}

static void test_json_walk__get(void **state)
{
	(void)state;
	brain_jv o = doc(" {\"a\":1, \"b\" : [2] ,\"a\":3 , \"c\":{\"a\":4}} "), v;
	assert_int_equal(o.type, BRAIN_JV_OBJECT);
	assert_int_equal(brain__jv_count(&o), 4);
	assert_int_equal(int_of(&(brain_jv){member(&o, "a").p, 1, BRAIN_JV_NUMBER}), 3); /* the last */
	assert_int_equal(int_of((v = member(&o, "a"), &v)), 3);
	v = member(&o, "b");
	assert_int_equal(v.type, BRAIN_JV_ARRAY);
	assert_raw(&v, "[2]");
	v = member(&o, "c");
	assert_raw(&v, "{\"a\":4}");
	assert_false(brain__jv_get(&o, "d", &v));
	assert_false(brain__jv_get(&o, "", &v));
	assert_false(brain__jv_get(&o, "aa", &v));
	brain_jv a = doc("[\"a\", 1]");
	assert_false(brain__jv_get(&a, "a", &v)); /* not an object */
	brain_jv s = doc("\"a\"");
	assert_false(brain__jv_get(&s, "a", &v));

	/* names compared unescaped */
	brain_jv e = doc("{\"\\u0061\":1, \"a\\\"b\":2, \"a\\\\b\":3, \"\\ud83d\\ude00\":4, \"\\/\":5,"
	                 " \"\":6, \"\\u00e9t\\u00E9\":7, \"\xC3\xA9\":8, \"tab\\t\":9}");
	assert_int_equal(int_of((v = member(&e, "a"), &v)), 1);
	assert_int_equal(int_of((v = member(&e, "a\"b"), &v)), 2);
	assert_int_equal(int_of((v = member(&e, "a\\b"), &v)), 3);
	assert_int_equal(int_of((v = member(&e, "\xF0\x9F\x98\x80"), &v)), 4);
	assert_int_equal(int_of((v = member(&e, "/"), &v)), 5);
	assert_int_equal(int_of((v = member(&e, ""), &v)), 6);
	assert_int_equal(int_of((v = member(&e, "\xC3\xA9t\xC3\xA9"), &v)), 7);
	assert_int_equal(int_of((v = member(&e, "\xC3\xA9"), &v)), 8);
	assert_int_equal(int_of((v = member(&e, "tab\t"), &v)), 9);
	assert_false(brain__jv_get(&e, "a\"", &v));
	assert_false(brain__jv_get(&e, "\\u0061", &v));
	assert_false(brain__jv_get(&e, "tab", &v));
}

static void test_json_walk__iterate(void **state)
{
	(void)state;
	/* strings holding brackets, quotes and backslashes are skipped whole */
	const char *src = "[ \"]\\\"[\" , \"\\\\\",{\"}\" : \"\\\\\\\"\", \"x\": [1, [2, \"]\"]]}, 3 ,"
	                  "\"\\\\\\\\\\\"]\", -1.5e3 ,true,false,null, [] ,{}]";
	brain_jv arr = doc(src), k, v;
	assert_int_equal(brain__jv_count(&arr), 11);
	static const char *const raw[] = {
		"\"]\\\"[\"", "\"\\\\\"", "{\"}\" : \"\\\\\\\"\", \"x\": [1, [2, \"]\"]]}", "3",
		"\"\\\\\\\\\\\"]\"", "-1.5e3", "true", "false", "null", "[]", "{}",
	};
	static const int types[] = {
		BRAIN_JV_STRING, BRAIN_JV_STRING, BRAIN_JV_OBJECT, BRAIN_JV_NUMBER,
		BRAIN_JV_STRING, BRAIN_JV_NUMBER, BRAIN_JV_TRUE, BRAIN_JV_FALSE,
		BRAIN_JV_NULL, BRAIN_JV_ARRAY, BRAIN_JV_OBJECT,
	};
	brain_jv_iter it;
	brain__jv_iter_init(&it, &arr);
	for (size_t i = 0; i < BRAIN_ARRAY_LEN(raw); i++) {
		k = (brain_jv){"x", 1, 3};
		assert_true(brain__jv_next(&it, &k, &v));
		assert_null(k.p); /* array elements have no name */
		assert_int_equal(k.n, 0);
		assert_raw(&v, raw[i]);
		assert_int_equal(v.type, types[i]);
	}
	assert_false(brain__jv_next(&it, &k, &v));
	assert_false(brain__jv_next(&it, &k, &v)); /* and stays at the end */

	brain__jv_iter_init(&it, &arr);
	assert_true(brain__jv_next(&it, NULL, &v));
	assert_string(&v, "]\"[");
	assert_true(brain__jv_next(&it, NULL, NULL));
	assert_true(brain__jv_next(&it, NULL, &v));
	brain_jv inner = v;
	assert_true(brain__jv_next(&it, NULL, &v));
	assert_int_equal(int_of(&v), 3);
	assert_true(brain__jv_next(&it, NULL, &v));
	assert_string(&v, "\\\\\"]");

	/* members: names and values */
	brain__jv_iter_init(&it, &inner);
	assert_true(brain__jv_next(&it, &k, &v));
	assert_int_equal(k.type, BRAIN_JV_STRING);
	assert_raw(&k, "\"}\"");
	assert_string(&k, "}");
	assert_string(&v, "\\\"");
	assert_true(brain__jv_next(&it, &k, NULL));
	assert_raw(&k, "\"x\"");
	assert_false(brain__jv_next(&it, &k, &v));
	v = member(&inner, "x");
	assert_int_equal(brain__jv_count(&v), 2);

	/* a scalar iterates as empty; so do the empty containers */
	brain_jv sc = doc("42");
	brain__jv_iter_init(&it, &sc);
	assert_false(brain__jv_next(&it, &k, &v));
	assert_int_equal(brain__jv_count(&sc), 0);
	brain_jv e = doc("[ \n ]");
	assert_int_equal(brain__jv_count(&e), 0);
	e = doc("{\t}");
	assert_int_equal(brain__jv_count(&e), 0);
	brain__jv_iter_init(&it, &e);
	assert_false(brain__jv_next(&it, &k, &v));

	assert_string_equal(brain__jv_type_name(BRAIN_JV_NULL), "null");
	assert_string_equal(brain__jv_type_name(BRAIN_JV_OBJECT), "object");
	assert_string_equal(brain__jv_type_name(BRAIN_JV_NUMBER), "number");
	assert_string_equal(brain__jv_type_name(99), "value");
	assert_string_equal(brain__jv_type_name(-1), "value");
}

static void test_json_walk__strings(void **state)
{
	(void)state;
	brain_jv s = doc("\"a\\u00e9\\n\\ud83d\\ude00/\\/\\b\\f\\r\\t\\\"\\\\z\"");
	static const char want[] = "a\xC3\xA9\n\xF0\x9F\x98\x80//\b\f\r\t\"\\z";
	size_t wl = sizeof want - 1, len = 0;
	char buf[64];
	assert_string(&s, want);
	/* exactly the room it needs, then one byte less */
	assert_int_equal(brain__jv_string(&s, buf, wl + 1, &len), BRAIN_OK);
	assert_int_equal(len, wl);
	memset(buf, 'x', sizeof buf);
	assert_int_equal(brain__jv_string(&s, buf, wl, &len), BRAIN_ETOOLONG);
	assert_int_equal(len, wl + 1);
	assert_int_equal(buf[0], '\0');
	assert_non_null(strstr(brain_errmsg(), "does not fit"));
	assert_int_equal(brain__jv_string(&s, NULL, 0, &len), BRAIN_ETOOLONG);
	assert_int_equal(len, wl + 1);
	assert_int_equal(brain__jv_string(&s, buf, 1, NULL), BRAIN_ETOOLONG);
	/* compared without a copy */
	assert_true(brain__jv_string_eq(&s, want, wl));
	assert_false(brain__jv_string_eq(&s, want, wl - 1));
	assert_false(brain__jv_string_eq(&s, "a\xC3\xA9\n", 4));
	char other[sizeof want];
	memcpy(other, want, sizeof want);
	other[wl - 1] = 'y';
	assert_false(brain__jv_string_eq(&s, other, wl));
	other[wl - 1] = 'z';
	other[3] = 'N'; /* the decoded \n */
	assert_false(brain__jv_string_eq(&s, other, wl));

	/* the empty string; a NUL inside */
	brain_jv e = doc("\"\"");
	assert_int_equal(brain__jv_string(&e, buf, 1, &len), BRAIN_OK);
	assert_int_equal(len, 0);
	assert_int_equal(brain__jv_string(&e, NULL, 0, &len), BRAIN_ETOOLONG);
	assert_int_equal(len, 1);
	assert_true(brain__jv_string_eq(&e, "", 0));
	assert_true(brain__jv_string_eq(&e, NULL, 0));
	assert_false(brain__jv_string_eq(&e, "a", 1));
	brain_jv z = doc("\"a\\u0000b\"");
	assert_int_equal(brain__jv_string(&z, buf, sizeof buf, &len), BRAIN_OK);
	assert_int_equal(len, 3);
	assert_memory_equal(buf, "a\0b", 4);
	assert_true(brain__jv_string_eq(&z, "a\0b", 3));
	assert_false(brain__jv_string_eq(&z, "a", 1));

	/* not a string */
	brain_jv n = doc("12");
	assert_int_equal(brain__jv_string(&n, buf, sizeof buf, &len), BRAIN_EINVAL);
	assert_string_equal(brain_errmsg(), "json: expected a string, found a number");
	assert_false(brain__jv_string_eq(&n, "12", 2));
	brain_jv o = doc("{}");
	assert_int_equal(brain__jv_string(&o, buf, sizeof buf, &len), BRAIN_EINVAL);
	assert_string_equal(brain_errmsg(), "json: expected a string, found an object");
}

static void test_json_walk__numbers(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		int64_t v;
	} ints[] = {
		{"0", 0}, {"-0", 0}, {"7", 7}, {"-42", -42},
		{"9223372036854775807", INT64_MAX}, {"-9223372036854775808", INT64_MIN},
	};
	for (size_t k = 0; k < BRAIN_ARRAY_LEN(ints); k++) {
		brain_jv v = doc(ints[k].s);
		assert_int_equal(v.type, BRAIN_JV_NUMBER);
		assert_true(int_of(&v) == ints[k].v);
		assert_true(double_of(&v) == (double)ints[k].v);
	}
	static const struct {
		const char *s;
		const char *msg;
	} not_int[] = {
		{"9223372036854775808", "json: the integer 9223372036854775808 does not fit 64 bits"},
		{"-9223372036854775809", "does not fit 64 bits"},
		{"100000000000000000000000000000", "does not fit 64 bits"},
		{"1.0", "json: the number 1.0 is not an integer"},
		{"1e2", "json: the number 1e2 is not an integer"},
		{"-0E0", "is not an integer"},
	};
	for (size_t k = 0; k < BRAIN_ARRAY_LEN(not_int); k++) {
		brain_jv v = doc(not_int[k].s);
		int64_t i = 77;
		assert_int_equal(brain__jv_int(&v, &i), BRAIN_ERANGE);
		assert_non_null(strstr(brain_errmsg(), not_int[k].msg));
		assert_true(i == 77);
	}
	brain_jv v = doc("0.1");
	assert_true(double_of(&v) == 0.1);
	v = doc("-0.0");
	assert_true(double_of(&v) == 0.0 && signbit(double_of(&v)));
	v = doc("1E-2");
	assert_true(double_of(&v) == 0.01);
	v = doc("2.5e+3");
	assert_true(double_of(&v) == 2500.0);
	v = doc("1e-400"); /* too small: zero, not an error */
	assert_true(double_of(&v) == 0.0);
	v = doc("4.9406564584124654e-324");
	assert_true(double_of(&v) > 0.0);
	v = doc("1.7976931348623157e308");
	assert_true(double_of(&v) == 1.7976931348623157e308);
	v = doc("123456789012345678901234567890");
	assert_true(double_of(&v) == 123456789012345678901234567890.0);
	double d = 5;
	v = doc("1e400"); /* valid JSON, but no finite double */
	assert_int_equal(brain__jv_double(&v, &d), BRAIN_ERANGE);
	assert_string_equal(brain_errmsg(), "json: the number 1e400 is not finite as a double");
	assert_true(d == 5);
	v = doc("-1e400");
	assert_int_equal(brain__jv_double(&v, &d), BRAIN_ERANGE);
	v = doc("1.8e308");
	assert_int_equal(brain__jv_double(&v, &d), BRAIN_ERANGE);
	int64_t i;
	assert_int_equal(brain__jv_int(&v, &i), BRAIN_ERANGE);

	/* a token longer than the converter's stack buffer: 1 and 299 zeros */
	text t = {NULL, 0, 0};
	puts_(&t, "1");
	for (int k = 0; k < 299; k++)
		puts_(&t, "0");
	puts_(&t, ".0");
	assert_int_equal(brain__jv_parse(t.p, t.len, &v), BRAIN_OK);
	assert_true(double_of(&v) == 1e299);
	assert_int_equal(brain__jv_int(&v, &i), BRAIN_ERANGE);
	assert_non_null(strstr(brain_errmsg(), "...")); /* a long token is shown cut */
	free(t.p);

	/* other types */
	bool b = false;
	v = doc("\"1\"");
	assert_int_equal(brain__jv_int(&v, &i), BRAIN_EINVAL);
	assert_string_equal(brain_errmsg(), "json: expected a number, found a string");
	assert_int_equal(brain__jv_double(&v, &d), BRAIN_EINVAL);
	assert_int_equal(brain__jv_bool(&v, &b), BRAIN_EINVAL);
	assert_string_equal(brain_errmsg(), "json: expected true or false, found a string");
	v = doc("true");
	assert_int_equal(brain__jv_bool(&v, &b), BRAIN_OK);
	assert_true(b);
	assert_int_equal(brain__jv_int(&v, &i), BRAIN_EINVAL);
	assert_string_equal(brain_errmsg(), "json: expected a number, found true");
	v = doc("false");
	assert_int_equal(brain__jv_bool(&v, &b), BRAIN_OK);
	assert_false(b);
	v = doc("null");
	assert_int_equal(brain__jv_bool(&v, &b), BRAIN_EINVAL);
	assert_string_equal(brain_errmsg(), "json: expected true or false, found null");
	v = doc("[1]");
	assert_int_equal(brain__jv_double(&v, &d), BRAIN_EINVAL);
	assert_string_equal(brain_errmsg(), "json: expected a number, found an array");
}

/* ---- the files the model loaders read ------------------------------------ */

/* tokenizer.json as the HF tokenizers library writes it, cut short, with a
 * name or two escaped as other writers may. */
static const char tokenizer_json[] =
	"{\n"
	"  \"version\": \"1.0\",\n"
	"  \"truncation\": null,\n"
	"  \"padding\": null,\n"
	"  \"added_tokens\": [\n"
	"    {\"id\": 0, \"content\": \"[PAD]\", \"single_word\": false, \"lstrip\": false,\n"
	"     \"rstrip\": false, \"normalized\": false, \"special\": true},\n"
	"    {\"id\": 100, \"content\": \"[UNK]\", \"single_word\": false, \"lstrip\": false,\n"
	"     \"rstrip\": false, \"normalized\": false, \"special\": true}\n"
	"  ],\n"
	"  \"normalizer\": {\"type\": \"BertNormalizer\", \"clean_text\": true,\n"
	"                 \"handle_chinese_chars\": true, \"strip_accents\": null,\n"
	"                 \"lowercase\": true},\n"
	"  \"model\": {\n"
	"    \"type\": \"WordPiece\",\n"
	"    \"unk_token\": \"[UNK]\",\n"
	"    \"continuing_subword_prefix\": \"##\",\n"
	"    \"max_input_chars_per_word\": 100,\n"
	"    \"vocab\": {\n"
	"      \"[PAD]\": 0, \"[UNK]\": 100, \"the\": 1996, \"\\u00e9t\\u00e9\": 2001,\n"
	"      \"##s\": 2015, \"\\\"\": 1000, \"\\\\\": 1032, \"\\ud83d\\ude00\": 1002,\n"
	"      \"\xE4\xB8\xAD\": 1746\n"
	"    }\n"
	"  }\n"
	"}\n";

static const char config_json[] =
	"{\"_name_or_path\": \"sentence-transformers/all-MiniLM-L6-v2\",\n"
	" \"architectures\": [\"BertModel\"], \"attention_probs_dropout_prob\": 0.1,\n"
	" \"hidden_act\": \"gelu\", \"hidden_size\": 384, \"layer_norm_eps\": 1e-12,\n"
	" \"max_position_embeddings\": 512, \"num_attention_heads\": 12,\n"
	" \"num_hidden_layers\": 6, \"torch_dtype\": \"float32\", \"use_cache\": true,\n"
	" \"vocab_size\": 30522}";

static const char safetensors_header[] =
	"{\"__metadata__\":{\"format\":\"pt\"},"
	"\"embeddings.word_embeddings.weight\":{\"dtype\":\"F32\",\"shape\":[30522,384],"
	"\"data_offsets\":[0,46881792]},"
	"\"encoder.layer.0.attention.self.query.bias\":{\"dtype\":\"F32\",\"shape\":[384],"
	"\"data_offsets\":[46881792,46883328]},"
	"\"pooler.dense.weight\":{\"dtype\":\"F16\",\"shape\":[384,384],"
	"\"data_offsets\":[46883328,47178240]}}    ";

static void test_json_walk__model_files(void **state)
{
	(void)state;
	fenced f;
	const char *p = fence(&f, tokenizer_json, sizeof tokenizer_json - 1);
	brain_jv root, v, k;
	assert_int_equal(brain__jv_parse(p, sizeof tokenizer_json - 1, &root), BRAIN_OK);
	assert_int_equal(root.type, BRAIN_JV_OBJECT);
	assert_int_equal(brain__jv_count(&root), 6);
	assert_string((v = member(&root, "version"), &v), "1.0");
	assert_int_equal(member(&root, "truncation").type, BRAIN_JV_NULL);
	brain_jv added = member(&root, "added_tokens");
	assert_int_equal(brain__jv_count(&added), 2);
	static const struct {
		int64_t id;
		const char *content;
	} want_added[] = {{0, "[PAD]"}, {100, "[UNK]"}};
	brain_jv_iter it;
	brain__jv_iter_init(&it, &added);
	for (size_t i = 0; i < 2; i++) {
		assert_true(brain__jv_next(&it, NULL, &v));
		assert_true(int_of((k = member(&v, "id"), &k)) == want_added[i].id);
		assert_string((k = member(&v, "content"), &k), want_added[i].content);
		bool b;
		assert_int_equal(brain__jv_bool((k = member(&v, "special"), &k), &b), BRAIN_OK);
		assert_true(b);
		assert_int_equal(brain__jv_bool((k = member(&v, "lstrip"), &k), &b), BRAIN_OK);
		assert_false(b);
	}
	assert_false(brain__jv_next(&it, NULL, &v));
	brain_jv norm = member(&root, "normalizer");
	assert_string((v = member(&norm, "type"), &v), "BertNormalizer");
	assert_int_equal(member(&norm, "strip_accents").type, BRAIN_JV_NULL);
	brain_jv model = member(&root, "model");
	assert_string((v = member(&model, "type"), &v), "WordPiece");
	assert_string((v = member(&model, "continuing_subword_prefix"), &v), "##");
	assert_true(int_of((v = member(&model, "max_input_chars_per_word"), &v)) == 100);
	brain_jv vocab = member(&model, "vocab");
	static const struct {
		const char *token;
		int64_t id;
	} want_vocab[] = {
		{"[PAD]", 0}, {"[UNK]", 100}, {"the", 1996}, {"\xC3\xA9t\xC3\xA9", 2001},
		{"##s", 2015}, {"\"", 1000}, {"\\", 1032}, {"\xF0\x9F\x98\x80", 1002},
		{"\xE4\xB8\xAD", 1746},
	};
	assert_int_equal(brain__jv_count(&vocab), BRAIN_ARRAY_LEN(want_vocab));
	brain__jv_iter_init(&it, &vocab);
	for (size_t i = 0; i < BRAIN_ARRAY_LEN(want_vocab); i++) {
		assert_true(brain__jv_next(&it, &k, &v));
		assert_string(&k, want_vocab[i].token);
		assert_true(int_of(&v) == want_vocab[i].id);
		brain_jv g = member(&vocab, want_vocab[i].token);
		assert_ptr_equal(g.p, v.p);
	}
	assert_false(brain__jv_next(&it, &k, &v));
	unfence(&f);

	p = fence(&f, config_json, sizeof config_json - 1);
	assert_int_equal(brain__jv_parse(p, sizeof config_json - 1, &root), BRAIN_OK);
	assert_true(int_of((v = member(&root, "hidden_size"), &v)) == 384);
	assert_true(int_of((v = member(&root, "vocab_size"), &v)) == 30522);
	assert_true(double_of((v = member(&root, "layer_norm_eps"), &v)) == 1e-12);
	assert_true(double_of((v = member(&root, "attention_probs_dropout_prob"), &v)) == 0.1);
	assert_string((v = member(&root, "hidden_act"), &v), "gelu");
	v = member(&root, "architectures");
	assert_int_equal(brain__jv_count(&v), 1);
	brain__jv_iter_init(&it, &v);
	assert_true(brain__jv_next(&it, NULL, &k));
	assert_string(&k, "BertModel");
	unfence(&f);

	p = fence(&f, safetensors_header, sizeof safetensors_header - 1);
	assert_int_equal(brain__jv_parse(p, sizeof safetensors_header - 1, &root), BRAIN_OK);
	static const struct {
		const char *name, *dtype;
		int64_t shape[2], begin, end;
	} tensors[] = {
		{"embeddings.word_embeddings.weight", "F32", {30522, 384}, 0, 46881792},
		{"encoder.layer.0.attention.self.query.bias", "F32", {384, -1}, 46881792, 46883328},
		{"pooler.dense.weight", "F16", {384, 384}, 46883328, 47178240},
	};
	brain__jv_iter_init(&it, &root);
	assert_true(brain__jv_next(&it, &k, &v));
	assert_string(&k, "__metadata__");
	assert_string((k = member(&v, "format"), &k), "pt");
	for (size_t i = 0; i < BRAIN_ARRAY_LEN(tensors); i++) {
		assert_true(brain__jv_next(&it, &k, &v));
		assert_string(&k, tensors[i].name);
		brain_jv t = member(&v, "dtype");
		assert_true(brain__jv_string_eq(&t, tensors[i].dtype, 3));
		brain_jv shape = member(&v, "shape"), offs = member(&v, "data_offsets"), e;
		brain_jv_iter si;
		brain__jv_iter_init(&si, &shape);
		for (size_t d = 0; d < 2 && tensors[i].shape[d] >= 0; d++) {
			assert_true(brain__jv_next(&si, NULL, &e));
			assert_true(int_of(&e) == tensors[i].shape[d]);
		}
		assert_false(brain__jv_next(&si, NULL, &e));
		assert_int_equal(brain__jv_count(&offs), 2);
		brain__jv_iter_init(&si, &offs);
		assert_true(brain__jv_next(&si, NULL, &e) && int_of(&e) == tensors[i].begin);
		assert_true(brain__jv_next(&si, NULL, &e) && int_of(&e) == tensors[i].end);
	}
	assert_false(brain__jv_next(&it, &k, &v));
	unfence(&f);
}

/* A vocabulary of 30,000 entries, as tokenizer.json has: every entry
 * walked, and looked up by name (one of them escaped). */
static void test_json_walk__vocab(void **state)
{
	(void)state;
	enum { N = 30000 };
	text t = {NULL, 0, 0};
	puts_(&t, "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {");
	for (int i = 0; i < N; i++) {
		if (i == 12345)
			putf(&t, "%s\"\\u0074ok%d\": %d", i ? ", " : "", i, i);
		else
			putf(&t, "%s\"tok%d\": %d", i ? ", " : "", i, i);
	}
	puts_(&t, "}}}");
	char *buf = malloc(t.len);
	assert_non_null(buf);
	memcpy(buf, t.p, t.len);
	brain_jv root, model, vocab, k, v;
	assert_int_equal(brain__jv_parse(buf, t.len, &root), BRAIN_OK);
	assert_true(brain__jv_get(&root, "model", &model));
	assert_true(brain__jv_get(&model, "vocab", &vocab));
	assert_int_equal(brain__jv_count(&vocab), N);
	brain_jv_iter it;
	brain__jv_iter_init(&it, &vocab);
	char name[32], got[32];
	for (int i = 0; i < N; i++) {
		assert_true(brain__jv_next(&it, &k, &v));
		int nl = snprintf(name, sizeof name, "tok%d", i);
		size_t len;
		assert_int_equal(brain__jv_string(&k, got, sizeof got, &len), BRAIN_OK);
		assert_int_equal(len, (size_t)nl);
		assert_string_equal(got, name);
		assert_true(int_of(&v) == i);
	}
	assert_false(brain__jv_next(&it, &k, &v));
	static const int look[] = {0, 1, 12345, 29999, 15000};
	for (size_t i = 0; i < BRAIN_ARRAY_LEN(look); i++) {
		snprintf(name, sizeof name, "tok%d", look[i]);
		assert_true(brain__jv_get(&vocab, name, &v));
		assert_true(int_of(&v) == look[i]);
	}
	assert_false(brain__jv_get(&vocab, "tok30000", &v));
	assert_false(brain__jv_get(&vocab, "\\u0074ok12345", &v));
	free(buf);
	free(t.p);
}

/* ---- nesting ------------------------------------------------------------- */

static void test_json_walk__depth(void **state)
{
	(void)state;
	text t = {NULL, 0, 0};
	brain_jv root, v;
	for (int depth = 127; depth <= 130; depth++) {
		/* arrays */
		t.len = 0;
		for (int i = 0; i < depth; i++)
			puts_(&t, i % 2 ? "[ " : "[");
		puts_(&t, "7");
		for (int i = 0; i < depth; i++)
			puts_(&t, "]");
		fenced f;
		char *p = fence(&f, t.p, t.len);
		int rc = brain__jv_parse(p, t.len, &root);
		assert_int_equal(ref_valid(p, t.len), depth <= BRAIN_JV_DEPTH_MAX);
		if (depth <= BRAIN_JV_DEPTH_MAX) {
			assert_int_equal(rc, BRAIN_OK);
			v = root;
			for (int i = 0; i < depth; i++) {
				assert_int_equal(v.type, BRAIN_JV_ARRAY);
				assert_int_equal(brain__jv_count(&v), 1);
				brain_jv_iter it;
				brain__jv_iter_init(&it, &v);
				assert_true(brain__jv_next(&it, NULL, &v));
			}
			assert_true(int_of(&v) == 7);
		} else {
			assert_int_equal(rc, BRAIN_EINVAL);
			/* the 129th opening bracket: 128 brackets and 64 spaces before it */
			assert_non_null(strstr(brain_errmsg(),
			                       "offset 192: arrays and objects nested deeper than 128"));
		}
		unfence(&f);

		/* objects in arrays */
		t.len = 0;
		for (int i = 0; i < depth; i++)
			puts_(&t, i % 2 ? "[" : "{\"k\":");
		puts_(&t, "\"]}\"");
		for (int i = depth - 1; i >= 0; i--)
			puts_(&t, i % 2 ? "]" : "}");
		p = fence(&f, t.p, t.len);
		rc = brain__jv_parse(p, t.len, &root);
		assert_int_equal(rc, depth <= BRAIN_JV_DEPTH_MAX ? BRAIN_OK : BRAIN_EINVAL);
		assert_int_equal(ref_valid(p, t.len), depth <= BRAIN_JV_DEPTH_MAX);
		if (rc == BRAIN_OK) {
			v = root;
			for (int i = 0; i < depth; i++) {
				brain_jv_iter it;
				brain__jv_iter_init(&it, &v);
				if (i % 2 == 0)
					v = member(&v, "k");
				else
					assert_true(brain__jv_next(&it, NULL, &v));
			}
			assert_string(&v, "]}");
		}
		unfence(&f);
	}
	/* brackets inside strings do not nest */
	t.len = 0;
	for (int i = 0; i < 128; i++)
		puts_(&t, "[");
	puts_(&t, "\"[[[{{{\"");
	for (int i = 0; i < 128; i++)
		puts_(&t, "]");
	assert_int_equal(brain__jv_parse(t.p, t.len, &root), BRAIN_OK);
	/* depth comes back down: many deep values one after another */
	t.len = 0;
	puts_(&t, "[");
	for (int k = 0; k < 100; k++) {
		puts_(&t, k ? "," : "");
		for (int i = 0; i < 127; i++)
			puts_(&t, "[");
		for (int i = 0; i < 127; i++)
			puts_(&t, "]");
	}
	puts_(&t, "]");
	assert_int_equal(brain__jv_parse(t.p, t.len, &root), BRAIN_OK);
	assert_int_equal(brain__jv_count(&root), 100);
	free(t.p);
}

/* ---- random documents ---------------------------------------------------- */

typedef struct tnode {
	int type;
	bool is_int;
	int64_t i;
	double d;
	char *s; /* a string's bytes: UTF-8, NUL and control characters included */
	size_t len;
	size_t count;
	struct tnode *kids; /* elements, or the members' values */
	char **keys;        /* the members' names */
	size_t *klens;
} tnode;

static uint64_t rnd(test_rng *r, uint64_t n)
{
	return test_rng_next(r) % n;
}

static size_t utf8_put(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* A random string of characters of every kind (a few names only, when
 * `name`, so that objects repeat them). */
static void gen_string(test_rng *r, bool name, char **out, size_t *len)
{
	text t = {NULL, 0, 0};
	if (name && rnd(r, 2)) {
		static const char *const names[] = {"a", "b", "ab", "", "\xC3\xA9", "x/y", "q\"", "\\"};
		puts_(&t, names[rnd(r, BRAIN_ARRAY_LEN(names))]);
	} else {
		size_t n = rnd(r, 20) == 0 ? rnd(r, 2000) : rnd(r, 12);
		for (size_t k = 0; k < n; k++) {
			uint32_t cp;
			switch (rnd(r, 10)) {
			case 5: cp = (uint32_t)"\"\\/"[rnd(r, 3)]; break;
			case 6: cp = (uint32_t)(rnd(r, 5) ? rnd(r, 0x20) : 0x7F); break;
			case 7: cp = (uint32_t)(0x80 + rnd(r, 0x800 - 0x80)); break;
			case 8:
				do
					cp = (uint32_t)(0x800 + rnd(r, 0x10000 - 0x800));
				while (cp >= 0xD800 && cp <= 0xDFFF);
				break;
			case 9: cp = (uint32_t)(0x10000 + rnd(r, 0x110000 - 0x10000)); break;
			default: cp = (uint32_t)(0x20 + rnd(r, 0x5F)); break;
			}
			char b[4];
			put(&t, b, utf8_put(b, cp));
		}
	}
	*out = malloc(t.len + 1);
	assert_non_null(*out);
	if (t.len)
		memcpy(*out, t.p, t.len);
	*len = t.len;
	free(t.p);
}

static void gen_node(test_rng *r, tnode *t, int depth)
{
	memset(t, 0, sizeof *t);
	uint64_t pick = depth >= 6 ? rnd(r, 5) : rnd(r, depth < 2 ? 9 : 7);
	static const int types[] = {BRAIN_JV_NULL, BRAIN_JV_TRUE, BRAIN_JV_NUMBER, BRAIN_JV_STRING,
	                            BRAIN_JV_FALSE, BRAIN_JV_ARRAY, BRAIN_JV_OBJECT,
	                            BRAIN_JV_ARRAY, BRAIN_JV_OBJECT};
	t->type = types[pick];
	if (rnd(r, 3) == 0 && pick < 5)
		t->type = BRAIN_JV_NUMBER;
	switch (t->type) {
	case BRAIN_JV_NUMBER:
		t->is_int = rnd(r, 2);
		if (t->is_int) {
			switch (rnd(r, 4)) {
			case 0: t->i = (int64_t)rnd(r, 2001) - 1000; break;
			case 1: t->i = (int64_t)test_rng_next(r); break;
			case 2: t->i = rnd(r, 2) ? INT64_MAX : INT64_MIN; break;
			default: t->i = (int64_t)(test_rng_next(r) >> rnd(r, 64)); break;
			}
		} else {
			switch (rnd(r, 4)) {
			case 0: t->d = (double)((int64_t)rnd(r, 20001) - 10000) / 100.0; break;
			case 1: t->d = test_rng_unit(r) * pow(10.0, (double)((int)rnd(r, 601) - 300)); break;
			case 2: t->d = rnd(r, 2) ? -0.0 : 0.0; break;
			default: {
				uint64_t bits;
				do {
					bits = test_rng_next(r);
					memcpy(&t->d, &bits, sizeof t->d);
				} while (!isfinite(t->d));
				break;
			}
			}
		}
		break;
	case BRAIN_JV_STRING:
		gen_string(r, false, &t->s, &t->len);
		break;
	case BRAIN_JV_ARRAY:
	case BRAIN_JV_OBJECT:
		t->count = rnd(r, 10) == 0 ? rnd(r, 40) : rnd(r, 6);
		t->kids = calloc(t->count + 1, sizeof *t->kids);
		assert_non_null(t->kids);
		if (t->type == BRAIN_JV_OBJECT) {
			t->keys = calloc(t->count + 1, sizeof *t->keys);
			t->klens = calloc(t->count + 1, sizeof *t->klens);
			assert_true(t->keys && t->klens);
		}
		for (size_t k = 0; k < t->count; k++) {
			if (t->keys)
				gen_string(r, true, &t->keys[k], &t->klens[k]);
			gen_node(r, &t->kids[k], depth + 1);
		}
		break;
	default:
		break;
	}
}

static void free_node(tnode *t)
{
	for (size_t k = 0; k < t->count; k++) {
		free_node(&t->kids[k]);
		if (t->keys)
			free(t->keys[k]);
	}
	free(t->kids);
	free(t->keys);
	free(t->klens);
	free(t->s);
}

static void ser_ws(test_rng *r, text *out)
{
	if (rnd(r, 4) == 0)
		for (uint64_t k = 1 + rnd(r, 3); k > 0; k--)
			put(out, &" \t\n\r"[rnd(r, 4)], 1);
}

/* s[0..len) as a JSON string, each character written one of the ways
 * JSON allows, chosen at random. */
static void ser_string(test_rng *r, text *out, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	const char *hex = rnd(r, 2) ? "0123456789abcdef" : "0123456789ABCDEF";
	puts_(out, "\"");
	for (size_t i = 0; i < len;) {
		unsigned c = u[i];
		size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
		uint32_t cp = n == 1 ? c : c & (0x7F >> n);
		for (size_t k = 1; k < n; k++)
			cp = cp << 6 | (u[i + k] & 0x3F);
		bool must = c < 0x20 || c == '"' || c == '\\';
		const char *short_esc = strchr("\"\\/\b\f\n\r\t", (int)c);
		if (c && short_esc && (must || (c == '/' && rnd(r, 2))) && rnd(r, 4)) {
			char e[2] = {'\\', "\"\\/bfnrt"[short_esc - "\"\\/\b\f\n\r\t"]};
			put(out, e, 2);
		} else if (must || rnd(r, 8) == 0) {
			uint32_t units[2] = {cp, 0};
			int nu = 1;
			if (cp >= 0x10000) {
				units[0] = 0xD800 + ((cp - 0x10000) >> 10);
				units[1] = 0xDC00 + ((cp - 0x10000) & 0x3FF);
				nu = 2;
			}
			for (int k = 0; k < nu; k++) {
				char e[6] = {'\\', 'u', hex[units[k] >> 12], hex[units[k] >> 8 & 15],
				             hex[units[k] >> 4 & 15], hex[units[k] & 15]};
				put(out, e, 6);
			}
		} else {
			put(out, s + i, n);
		}
		i += n;
	}
	puts_(out, "\"");
}

static void ser_node(test_rng *r, text *out, const tnode *t)
{
	switch (t->type) {
	case BRAIN_JV_NULL: puts_(out, "null"); break;
	case BRAIN_JV_TRUE: puts_(out, "true"); break;
	case BRAIN_JV_FALSE: puts_(out, "false"); break;
	case BRAIN_JV_NUMBER:
		if (t->is_int) {
			putf(out, "%" PRId64, t->i);
		} else {
			char b[64];
			snprintf(b, sizeof b, "%.17g", t->d);
			if (!strpbrk(b, ".e"))
				strcat(b, ".0");
			char *e = strchr(b, 'e');
			if (e && rnd(r, 2))
				*e = 'E';
			if (e && e[1] == '+' && rnd(r, 2))
				memmove(e + 1, e + 2, strlen(e + 2) + 1);
			puts_(out, b);
		}
		break;
	case BRAIN_JV_STRING: ser_string(r, out, t->s, t->len); break;
	default: {
		bool obj = t->type == BRAIN_JV_OBJECT;
		puts_(out, obj ? "{" : "[");
		for (size_t k = 0; k < t->count; k++) {
			ser_ws(r, out);
			if (obj) {
				ser_string(r, out, t->keys[k], t->klens[k]);
				ser_ws(r, out);
				puts_(out, ":");
				ser_ws(r, out);
			}
			ser_node(r, out, &t->kids[k]);
			ser_ws(r, out);
			if (k + 1 < t->count)
				puts_(out, ",");
		}
		ser_ws(r, out);
		puts_(out, obj ? "}" : "]");
	}
	}
}

/* The string value v is s[0..len), every way of asking. */
static void check_string(const brain_jv *v, const char *s, size_t len)
{
	assert_int_equal(v->type, BRAIN_JV_STRING);
	char *buf = malloc(len + 1);
	assert_non_null(buf);
	size_t got = 0;
	assert_int_equal(brain__jv_string(v, buf, len + 1, &got), BRAIN_OK);
	assert_int_equal(got, len);
	assert_memory_equal(buf, s, len);
	assert_int_equal(buf[len], '\0');
	assert_int_equal(brain__jv_string(v, buf, len, &got), BRAIN_ETOOLONG);
	assert_int_equal(got, len + 1);
	assert_true(brain__jv_string_eq(v, s, len));
	if (len) {
		assert_false(brain__jv_string_eq(v, s, len - 1));
		memcpy(buf, s, len);
		buf[len - 1] ^= 1;
		assert_false(brain__jv_string_eq(v, buf, len));
	}
	free(buf);
}

/* The value v is t, all the way down. */
static void check_node(const brain_jv *v, const tnode *t)
{
	if (v->type != t->type)
		print_error("type %d, want %d: %.*s\n", v->type, t->type, (int)TEST_MIN(v->n, 200), v->p);
	assert_int_equal(v->type, t->type);
	int64_t i;
	double d;
	bool b;
	switch (t->type) {
	case BRAIN_JV_NUMBER:
		if (t->is_int) {
			assert_true(int_of(v) == t->i);
			assert_true(double_of(v) == (double)t->i);
		} else {
			assert_int_equal(brain__jv_int(v, &i), BRAIN_ERANGE);
			d = double_of(v);
			assert_memory_equal(&d, &t->d, sizeof d); /* the same bits, -0 too */
		}
		assert_int_equal(brain__jv_bool(v, &b), BRAIN_EINVAL);
		break;
	case BRAIN_JV_STRING:
		check_string(v, t->s, t->len);
		assert_int_equal(brain__jv_double(v, &d), BRAIN_EINVAL);
		break;
	case BRAIN_JV_TRUE:
	case BRAIN_JV_FALSE:
		assert_int_equal(brain__jv_bool(v, &b), BRAIN_OK);
		assert_int_equal(b, t->type == BRAIN_JV_TRUE);
		break;
	case BRAIN_JV_NULL:
		assert_int_equal(brain__jv_bool(v, &b), BRAIN_EINVAL);
		assert_int_equal(brain__jv_int(v, &i), BRAIN_EINVAL);
		break;
	default: {
		assert_int_equal(brain__jv_count(v), t->count);
		brain_jv *vals = calloc(t->count + 1, sizeof *vals);
		assert_non_null(vals);
		brain_jv_iter it;
		brain__jv_iter_init(&it, v);
		brain_jv k;
		for (size_t n = 0; n < t->count; n++) {
			assert_true(brain__jv_next(&it, &k, &vals[n]));
			assert_true(vals[n].p >= v->p && vals[n].p + vals[n].n <= v->p + v->n);
			if (t->keys)
				check_string(&k, t->keys[n], t->klens[n]);
			else
				assert_null(k.p);
			check_node(&vals[n], &t->kids[n]);
		}
		assert_false(brain__jv_next(&it, &k, NULL));
		/* each name finds its last member */
		for (size_t n = 0; t->keys && n < t->count; n++) {
			if (memchr(t->keys[n], 0, t->klens[n]))
				continue; /* brain__jv_get takes a C string */
			size_t last = n;
			for (size_t m = n + 1; m < t->count; m++)
				if (t->klens[m] == t->klens[n] && memcmp(t->keys[m], t->keys[n], t->klens[n]) == 0)
					last = m;
			char *name = t->keys[n]; /* gen_string left room for a NUL */
			name[t->klens[n]] = '\0';
			brain_jv got;
			assert_true(brain__jv_get(v, name, &got));
			assert_ptr_equal(got.p, vals[last].p);
			assert_int_equal(got.n, vals[last].n);
		}
		free(vals);
	}
	}
}

/* Random documents written with every freedom JSON gives (white space,
 * escapes, number forms), parsed from buffers of exactly their size and
 * walked back to the values they were written from. */
static void test_json_walk__random_documents(void **state)
{
	(void)state;
	test_rng r = {20240611};
	text out = {NULL, 0, 0};
	for (int round = 0; round < 1500; round++) {
		tnode t;
		gen_node(&r, &t, 0);
		out.len = 0;
		ser_ws(&r, &out);
		ser_node(&r, &out, &t);
		ser_ws(&r, &out);
		char *buf = malloc(out.len);
		assert_non_null(buf);
		memcpy(buf, out.p, out.len);
		brain_jv root;
		int rc = brain__jv_parse(buf, out.len, &root);
		if (rc)
			print_error("round %d: %s\n%.*s\n", round, brain_errmsg(), (int)out.len, out.p);
		assert_int_equal(rc, BRAIN_OK);
		assert_true(ref_valid(buf, out.len));
		check_node(&root, &t);
		free(buf);
		free_node(&t);
	}
	free(out.p);
}

/* ---- mutations ----------------------------------------------------------- */

/* A value of an accepted document: within its container, parsed alone it
 * is itself, and every accessor answers without reading outside it. */
static void walk_accepted(const brain_jv *v, const char *lo, const char *hi)
{
	assert_true(v->n > 0 && v->p >= lo && v->p + v->n <= hi);
	brain_jv alone;
	assert_int_equal(brain__jv_parse(v->p, v->n, &alone), BRAIN_OK);
	assert_ptr_equal(alone.p, v->p);
	assert_int_equal(alone.n, v->n);
	assert_int_equal(alone.type, v->type);
	char small[16];
	size_t len;
	int64_t i;
	double d;
	switch (v->type) {
	case BRAIN_JV_STRING: {
		int rc = brain__jv_string(v, small, sizeof small, &len);
		if (rc == BRAIN_OK) {
			assert_true(brain__jv_string_eq(v, small, len));
		} else {
			assert_int_equal(rc, BRAIN_ETOOLONG);
			assert_true(len > sizeof small);
			char *big = malloc(len);
			assert_non_null(big);
			size_t need = len;
			assert_int_equal(brain__jv_string(v, big, need, &len), BRAIN_OK);
			assert_int_equal(len, need - 1);
			assert_true(brain__jv_string_eq(v, big, len));
			free(big);
		}
		break;
	}
	case BRAIN_JV_NUMBER: {
		int rc = brain__jv_int(v, &i);
		assert_true(rc == BRAIN_OK || rc == BRAIN_ERANGE);
		rc = brain__jv_double(v, &d);
		assert_true(rc == BRAIN_OK || rc == BRAIN_ERANGE);
		break;
	}
	case BRAIN_JV_ARRAY:
	case BRAIN_JV_OBJECT: {
		size_t count = brain__jv_count(v), n = 0;
		brain_jv_iter it;
		brain__jv_iter_init(&it, v);
		brain_jv k, e;
		while (brain__jv_next(&it, &k, &e)) {
			n++;
			if (v->type == BRAIN_JV_OBJECT) {
				walk_accepted(&k, v->p, v->p + v->n);
				assert_int_equal(k.type, BRAIN_JV_STRING);
				char name[64];
				if (brain__jv_string(&k, name, sizeof name, &len) == BRAIN_OK &&
				    strlen(name) == len) {
					brain_jv got;
					assert_true(brain__jv_get(v, name, &got));
				}
			}
			walk_accepted(&e, v->p, v->p + v->n);
		}
		assert_int_equal(n, count);
		break;
	}
	default:
		break;
	}
}

/* Bytes never validated, taken as a value of any type: the walker's
 * answers are unspecified, but it ends and reads only inside. */
static void walk_raw(const brain_jv *v, int depth)
{
	char small[8];
	size_t len;
	int64_t i;
	double d;
	bool b;
	brain__jv_string(v, small, sizeof small, &len);
	brain__jv_string_eq(v, "a", 1);
	brain__jv_int(v, &i);
	brain__jv_double(v, &d);
	brain__jv_bool(v, &b);
	brain_jv got;
	if (brain__jv_get(v, "a", &got))
		assert_true(got.p >= v->p && got.p + got.n <= v->p + v->n);
	size_t count = brain__jv_count(v), n = 0;
	brain_jv_iter it;
	brain__jv_iter_init(&it, v);
	brain_jv k, e;
	while (brain__jv_next(&it, &k, &e)) {
		n++;
		assert_true(e.p >= v->p && e.p + e.n <= v->p + v->n && e.n > 0);
		if (k.p) {
			assert_true(k.p >= v->p && k.p + k.n <= v->p + v->n);
			brain__jv_string(&k, small, sizeof small, &len);
		}
		if (depth < 64)
			walk_raw(&e, depth + 1);
	}
	assert_int_equal(n, count);
}

static const char interesting[] = "\"\\[]{},:0123456789-+.eEtfnu \t\n\r\0\x01\x1f\x7f\x80\xbf"
                                  "\xc0\xc1\xc2\xdf\xe0\xed\xef\xf0\xf4\xf5\xff";

/* One random change of t[0..len) (room for len + 64 bytes): the new
 * length. */
static size_t mutate(test_rng *r, char *t, size_t len)
{
	size_t at = len ? (size_t)rnd(r, len) : 0;
	char c = interesting[rnd(r, sizeof interesting - 1)];
	switch (rnd(r, 7)) {
	case 0: /* flip a bit */
		if (len)
			t[at] ^= (char)(1 << rnd(r, 8));
		return len;
	case 1: /* replace a byte */
		if (len)
			t[at] = c;
		return len;
	case 2: /* insert a byte */
		memmove(t + at + 1, t + at, len - at);
		t[at] = c;
		return len + 1;
	case 3: /* delete a byte */
		if (len)
			memmove(t + at, t + at + 1, len - at - 1);
		return len ? len - 1 : 0;
	case 4: /* cut the end */
		return at;
	case 5: { /* insert a short escape or UTF-8 sequence */
		static const char *const bits[] = {"\\u", "\\ud800", "\\udc00", "\\ud800\\udc00", "\\",
		                                   "\xc3", "\xe2\x82", "\xf0\x9f\x98", "\xed\xa0\x80"};
		const char *s = bits[rnd(r, BRAIN_ARRAY_LEN(bits))];
		size_t n = strlen(s);
		memmove(t + at + n, t + at, len - at);
		memcpy(t + at, s, n);
		return len + n;
	}
	default: /* swap two bytes */
		if (len) {
			size_t b2 = (size_t)rnd(r, len);
			char x = t[at];
			t[at] = t[b2];
			t[b2] = x;
		}
		return len;
	}
}

/* Valid documents changed a byte or a few at a time: the parser agrees
 * with the simple validator on every one, an accepted one walks
 * consistently, and any bytes walk without a read outside them (each
 * buffer is allocated at exactly its size: ASan sees the first byte
 * past it). */
static void test_json_walk__mutations(void **state)
{
	(void)state;
	test_rng r = {8675309};
	text out = {NULL, 0, 0};
	size_t accepted = 0, refused = 0;
	for (int round = 0; round < 400; round++) {
		tnode t;
		do {
			gen_node(&r, &t, 2);
			out.len = 0;
			ser_ws(&r, &out);
			ser_node(&r, &out, &t);
			ser_ws(&r, &out);
			free_node(&t);
		} while (out.len > 2000);
		char *work = malloc(out.len + 64 * 4);
		assert_non_null(work);
		for (int m = 0; m < 40; m++) {
			memcpy(work, out.p, out.len);
			size_t len = out.len;
			for (uint64_t k = 1 + rnd(&r, m % 4 == 0 ? 4 : 1); k > 0; k--)
				len = mutate(&r, work, len);
			char *buf = malloc(len ? len : 1);
			assert_non_null(buf);
			memcpy(buf, work, len);
			brain_jv root = {NULL, 0, -1};
			int rc = brain__jv_parse(buf, len, &root);
			bool want = ref_valid(buf, len);
			if ((rc == BRAIN_OK) != want)
				print_error("round %d.%d: parser %d (%s), reference %d:\n%.*s\n", round, m, rc,
				            rc ? brain_errmsg() : "", want, (int)len, buf);
			assert_int_equal(rc == BRAIN_OK, want);
			if (rc == BRAIN_OK) {
				accepted++;
				walk_accepted(&root, buf, buf + len);
			} else {
				refused++;
				assert_int_equal(rc, BRAIN_EINVAL);
				assert_true(strncmp(brain_errmsg(), "json: offset ", 13) == 0);
				/* the offset named is within the input or its end */
				unsigned long long off = strtoull(brain_errmsg() + 13, NULL, 10);
				assert_true(off <= len);
			}
			/* unvalidated, from a few starts, taken as each type */
			for (int s = 0; s < 3 && len; s++) {
				size_t from = s ? (size_t)rnd(&r, len) : 0;
				brain_jv raw = {buf + from, len - from, (int)rnd(&r, 7)};
				walk_raw(&raw, 0);
			}
			free(buf);
		}
		free(work);
	}
	/* both kinds were seen in numbers */
	assert_true(accepted > 1000 && refused > 1000);
	free(out.p);
}

/* ---- megabytes ------------------------------------------------------------ */

/* Inputs that make a careless parser or walker quadratic: no clock is read,
 * the test's timeout is the judge. */
static void test_json_walk__large(void **state)
{
	(void)state;
	const size_t mb = (size_t)1 << 20;
	text t = {NULL, 0, 0};
	brain_jv root, v;
	brain_jv_iter it;

	/* a string of 4 MB of escaped backslashes, then an escaped quote: the
	 * walker counts each backslash run once */
	puts_(&t, "[\"");
	while (t.len < 4 * mb)
		puts_(&t, "\\\\");
	puts_(&t, "\\\"\", 1]");
	char *buf = malloc(t.len);
	assert_non_null(buf);
	memcpy(buf, t.p, t.len);
	assert_int_equal(brain__jv_parse(buf, t.len, &root), BRAIN_OK);
	assert_int_equal(brain__jv_count(&root), 2);
	brain__jv_iter_init(&it, &root);
	assert_true(brain__jv_next(&it, NULL, &v));
	assert_int_equal(v.n, t.len - 5);
	size_t len;
	assert_int_equal(brain__jv_string(&v, NULL, 0, &len), BRAIN_ETOOLONG);
	assert_int_equal(len, (4 * mb - 2) / 2 + 1 + 1);
	free(buf);

	/* 2 MB of escaped quotes */
	t.len = 0;
	puts_(&t, "{\"k\":\"");
	while (t.len < 2 * mb)
		puts_(&t, "\\\"");
	puts_(&t, "\",\"z\":true}");
	assert_int_equal(brain__jv_parse(t.p, t.len, &root), BRAIN_OK);
	assert_int_equal(brain__jv_count(&root), 2);
	assert_int_equal(member(&root, "z").type, BRAIN_JV_TRUE);

	/* 4 MB of deep values side by side */
	t.len = 0;
	puts_(&t, "[");
	size_t n = 0;
	while (t.len < 4 * mb) {
		puts_(&t, n++ ? "," : "");
		for (int i = 0; i < 63; i++) /* 127 deep, with the outer array */
			puts_(&t, "[{\"a\":");
		puts_(&t, "\"]\"");
		for (int i = 0; i < 63; i++)
			puts_(&t, "}]");
	}
	puts_(&t, "]");
	assert_int_equal(brain__jv_parse(t.p, t.len, &root), BRAIN_OK);
	assert_int_equal(brain__jv_count(&root), n);

	/* an object of 200,000 members, the name asked for last in it */
	t.len = 0;
	puts_(&t, "{");
	for (int i = 0; i < 200000; i++)
		putf(&t, "%s\"m%d\":[%d,\"x\"]", i ? "," : "", i, i);
	puts_(&t, "}");
	assert_int_equal(brain__jv_parse(t.p, t.len, &root), BRAIN_OK);
	assert_true(brain__jv_get(&root, "m199999", &v));
	assert_raw(&v, "[199999,\"x\"]");
	assert_int_equal(brain__jv_count(&root), 200000);

	/* 4 MB of numbers and of multi-byte characters */
	t.len = 0;
	puts_(&t, "[");
	for (n = 0; t.len < 4 * mb; n++)
		puts_(&t, n ? ",-12345.678e-9" : "0");
	puts_(&t, "]");
	assert_int_equal(brain__jv_parse(t.p, t.len, &root), BRAIN_OK);
	assert_int_equal(brain__jv_count(&root), n);
	t.len = 0;
	puts_(&t, "\"");
	while (t.len < 4 * mb)
		puts_(&t, "\xE4\xB8\xAD\xC3\xA9\xF0\x9F\x98\x80 a");
	puts_(&t, "\"");
	assert_int_equal(brain__jv_parse(t.p, t.len, &root), BRAIN_OK);
	assert_true(brain__jv_string_eq(&root, t.p + 1, t.len - 2));
	free(t.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_walk__cases),
		cmocka_unit_test(test_json_walk__get),
		cmocka_unit_test(test_json_walk__iterate),
		cmocka_unit_test(test_json_walk__strings),
		cmocka_unit_test(test_json_walk__numbers),
		cmocka_unit_test(test_json_walk__model_files),
		cmocka_unit_test(test_json_walk__vocab),
		cmocka_unit_test(test_json_walk__depth),
		cmocka_unit_test(test_json_walk__random_documents),
		cmocka_unit_test(test_json_walk__mutations),
		cmocka_unit_test(test_json_walk__large),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
