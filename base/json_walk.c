/*
 * base/json_walk.c - the read-only JSON walker (see json_walk.h).
 *
 * Validation is one loop over the bytes in one of three states (a value
 * is wanted, a member's name is wanted, a value has just ended), with the
 * open containers on an explicit stack of BRAIN_JV_DEPTH_MAX bytes (each
 * its opening bracket): no recursion, no allocation, each byte looked at
 * a bounded number of times. Messages name the byte offset and what was
 * expected there, and what was found.
 *
 * Walking trusts the validation: the end of a string is the first '"'
 * (memchr) not preceded by an odd run of backslashes, the end of a number
 * or literal the first delimiter, the end of a container the bracket that
 * brings the depth back to zero (strings inside skipped as strings). Every
 * scan is bounded by the value it was handed, so bytes that were never
 * validated give wrong answers but no read outside the value.
 */
#include <stdio.h>
#include <string.h>

#include "base/json_lex.h"
#include "base/json_walk.h"

static bool is_ws(unsigned char c)
{
	return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

const char *brain__jv_type_name(int type)
{
	static const char *const names[] = {"null", "false", "true", "number", "string", "array", "object"};
	return type >= 0 && type < (int)BRAIN_ARRAY_LEN(names) ? names[type] : "value";
}

/* The type of the value whose first byte is c. */
static int type_of(char c)
{
	switch (c) {
	case '{': return BRAIN_JV_OBJECT;
	case '[': return BRAIN_JV_ARRAY;
	case '"': return BRAIN_JV_STRING;
	case 't': return BRAIN_JV_TRUE;
	case 'f': return BRAIN_JV_FALSE;
	case 'n': return BRAIN_JV_NULL;
	default: return BRAIN_JV_NUMBER;
	}
}

/* ---- validation ---------------------------------------------------------- */

static size_t skip_ws(const unsigned char *u, size_t n, size_t i)
{
	while (i < n && is_ws(u[i]))
		i++;
	return i;
}

/* "expected <what>, found <what is at u[i]>" at offset i. */
static int expected(const unsigned char *u, size_t n, size_t i, const char *what)
{
	char byte[16];
	const char *found = byte;
	if (i >= n)
		found = "the end of the input";
	else if (u[i] == 0)
		found = "a NUL byte";
	else if (u[i] >= 0x20 && u[i] < 0x7F)
		snprintf(byte, sizeof byte, "'%c'", u[i]);
	else
		snprintf(byte, sizeof byte, "byte 0x%02x", (unsigned)u[i]);
	return brain__err(BRAIN_EINVAL, "json: offset %zu: expected %s, found %s", i, what, found);
}

/* The length of the strict UTF-8 character at u[i] (a lead byte >= 0x80),
 * or 0 if it is not one: no overlong forms, surrogates or code points past
 * U+10FFFF (the rules of brain__utf8_valid). */
static size_t utf8_len(const unsigned char *u, size_t n, size_t i)
{
	unsigned c = u[i];
	size_t need = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3
	            : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
	if (need == 0 || n - i < need)
		return 0;
	/* the second byte's range excludes overlongs, surrogates and code
	 * points past U+10FFFF */
	unsigned lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;
	unsigned hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
	if (u[i + 1] < lo || u[i + 1] > hi)
		return 0;
	for (size_t k = 2; k < need; k++)
		if ((u[i + k] & 0xC0) != 0x80)
			return 0;
	return need;
}

/* The escape at u[*pi] ('\\'): checked, *pi moved past it (a surrogate
 * pair is one escape). */
static int scan_escape(const unsigned char *u, size_t n, size_t *pi)
{
	size_t i = *pi;
	if (i + 1 >= n)
		return expected(u, n, i + 1, "an escape after '\\'");
	unsigned char c = u[i + 1];
	if (c != 'u') {
		if (!c || !strchr("\"\\/bfnrt", c))
			return expected(u, n, i + 1, "one of \" \\ / b f n r t u after '\\'");
		*pi = i + 2;
		return BRAIN_OK;
	}
	uint32_t cp, lo;
	if (n - i < 6 || brain__json_hex4((const char *)u + i + 2, &cp) != 0)
		return brain__err(BRAIN_EINVAL, "json: offset %zu: expected four hex digits after \\u", i + 2);
	if (cp >= 0xDC00 && cp <= 0xDFFF)
		return brain__err(BRAIN_EINVAL, "json: offset %zu: a lone low surrogate \\u%04x", i, (unsigned)cp);
	if (cp >= 0xD800 && cp <= 0xDBFF) {
		if (n - i < 12 || u[i + 6] != '\\' || u[i + 7] != 'u' ||
		    brain__json_hex4((const char *)u + i + 8, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF)
			return brain__err(BRAIN_EINVAL,
			                  "json: offset %zu: a high surrogate \\u%04x not followed by "
			                  "a low surrogate escape (\\udc00 to \\udfff)",
			                  i, (unsigned)cp);
		*pi = i + 12;
		return BRAIN_OK;
	}
	*pi = i + 6;
	return BRAIN_OK;
}

/* The string whose opening quote is at u[*pi]: checked, *pi moved past
 * its closing quote. */
static int scan_string(const unsigned char *u, size_t n, size_t *pi)
{
	size_t open = *pi, i = open + 1;
	for (;;) {
		/* the plain run: printable ASCII but the quote and backslash */
		while (i < n && u[i] >= 0x20 && u[i] < 0x80 && u[i] != '"' && u[i] != '\\')
			i++;
		if (i >= n)
			return brain__err(BRAIN_EINVAL,
			                  "json: offset %zu: expected '\"' (the end of the string opened at "
			                  "offset %zu), found the end of the input",
			                  n, open);
		unsigned char c = u[i];
		if (c == '"') {
			*pi = i + 1;
			return BRAIN_OK;
		}
		if (c == '\\') {
			int rc = scan_escape(u, n, &i);
			if (rc)
				return rc;
			continue;
		}
		if (c == 0)
			return brain__err(BRAIN_EINVAL, "json: offset %zu: a NUL byte in a string", i);
		if (c < 0x20)
			return brain__err(BRAIN_EINVAL,
			                  "json: offset %zu: an unescaped control character 0x%02x in a "
			                  "string",
			                  i, (unsigned)c);
		size_t k = utf8_len(u, n, i);
		if (k == 0)
			return brain__err(BRAIN_EINVAL, "json: offset %zu: invalid UTF-8 in a string (byte 0x%02x)",
			                  i, (unsigned)c);
		i += k;
	}
}

/* The number starting at u[*pi] ('-' or a digit): checked against the
 * grammar, *pi moved past it. What follows it is the caller's to check. */
static int scan_number(const unsigned char *u, size_t n, size_t *pi)
{
	size_t i = *pi;
	if (u[i] == '-')
		i++;
	if (i >= n || !is_digit(u[i]))
		return expected(u, n, i, "a digit");
	if (u[i] == '0') {
		i++;
		if (i < n && is_digit(u[i]))
			return brain__err(BRAIN_EINVAL, "json: offset %zu: a number with a leading zero", i - 1);
	} else {
		while (i < n && is_digit(u[i]))
			i++;
	}
	if (i < n && u[i] == '.') {
		i++;
		if (i >= n || !is_digit(u[i]))
			return expected(u, n, i, "a digit after '.'");
		while (i < n && is_digit(u[i]))
			i++;
	}
	if (i < n && (u[i] == 'e' || u[i] == 'E')) {
		i++;
		if (i < n && (u[i] == '+' || u[i] == '-'))
			i++;
		if (i >= n || !is_digit(u[i]))
			return expected(u, n, i, "a digit in the exponent");
		while (i < n && is_digit(u[i]))
			i++;
	}
	*pi = i;
	return BRAIN_OK;
}

/* What the loop of brain__jv_parse wants next. */
enum want {
	WANT_VALUE,       /* a value (the root, after ':' or after ',' in an array) */
	WANT_FIRST_VALUE, /* a value or ']' */
	WANT_KEY,         /* a member's name (after ',' in an object) */
	WANT_FIRST_KEY,   /* a member's name or '}' */
	WANT_AFTER        /* a value has ended: ',', the closing bracket, or the end */
};

int brain__jv_parse(const char *s, size_t n, brain_jv *root)
{
	if (!root || (!s && n))
		return brain__err(BRAIN_ENULL, "json: %s is NULL", root ? "the document" : "root");
	const unsigned char *u = (const unsigned char *)s;
	if (n >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF)
		return brain__err(BRAIN_EINVAL,
		                  "json: offset 0: a byte order mark (EF BB BF) is not allowed; the "
		                  "document must start with its value");
	unsigned char stack[BRAIN_JV_DEPTH_MAX]; /* the open containers' brackets */
	size_t depth = 0;
	size_t i = skip_ws(u, n, 0), start = i;
	enum want want = WANT_VALUE;
	int rc;
	for (;;) {
		switch (want) {
		case WANT_VALUE:
		case WANT_FIRST_VALUE: {
			const char *what = want == WANT_FIRST_VALUE ? "a value or ']'" : "a value";
			if (i >= n)
				return expected(u, n, i, what);
			unsigned char c = u[i];
			if (c == '{' || c == '[') {
				if (depth == BRAIN_JV_DEPTH_MAX)
					return brain__err(BRAIN_EINVAL,
					                  "json: offset %zu: arrays and objects nested deeper than %d",
					                  i, BRAIN_JV_DEPTH_MAX);
				stack[depth++] = c;
				i = skip_ws(u, n, i + 1);
				if (i < n && u[i] == c + 2) { /* '{' + 2 == '}', '[' + 2 == ']' */
					depth--;
					i++;
					want = WANT_AFTER;
				} else {
					want = c == '{' ? WANT_FIRST_KEY : WANT_FIRST_VALUE;
				}
				continue;
			}
			if (c == '"') {
				rc = scan_string(u, n, &i);
			} else if (c == '-' || is_digit(c)) {
				rc = scan_number(u, n, &i);
			} else {
				static const char *const words[] = {"true", "false", "null"};
				size_t k = 0;
				while (k < BRAIN_ARRAY_LEN(words) && words[k][0] != (char)c)
					k++;
				size_t wl = k < BRAIN_ARRAY_LEN(words) ? strlen(words[k]) : 0;
				if (!wl || n - i < wl || memcmp(u + i, words[k], wl) != 0)
					return expected(u, n, i, what);
				i += wl;
				rc = BRAIN_OK;
			}
			if (rc)
				return rc;
			want = WANT_AFTER;
			continue;
		}
		case WANT_KEY:
		case WANT_FIRST_KEY:
			if (i >= n || u[i] != '"')
				return expected(u, n, i,
				                want == WANT_FIRST_KEY ? "'\"' (a member's name) or '}'"
				                                       : "'\"' (a member's name)");
			rc = scan_string(u, n, &i);
			if (rc)
				return rc;
			i = skip_ws(u, n, i);
			if (i >= n || u[i] != ':')
				return expected(u, n, i, "':'");
			i = skip_ws(u, n, i + 1);
			want = WANT_VALUE;
			continue;
		case WANT_AFTER:
			break;
		}
		/* a value has ended at i */
		if (depth == 0) {
			size_t end = i;
			i = skip_ws(u, n, i);
			if (i < n)
				return expected(u, n, i, "the end of the document");
			root->p = s + start;
			root->n = end - start;
			root->type = type_of(s[start]);
			return BRAIN_OK;
		}
		i = skip_ws(u, n, i);
		bool object = stack[depth - 1] == '{';
		if (i < n && u[i] == ',') {
			i = skip_ws(u, n, i + 1);
			want = object ? WANT_KEY : WANT_VALUE;
		} else if (i < n && u[i] == (object ? '}' : ']')) {
			i++;
			depth--;
		} else {
			return expected(u, n, i, object ? "',' or '}'" : "',' or ']'");
		}
	}
}

/* ---- walking ------------------------------------------------------------- */

static const char *skip_ws_p(const char *p, const char *end)
{
	while (p < end && is_ws((unsigned char)*p))
		p++;
	return p;
}

/* Past the closing quote of the string whose opening quote is at p (or
 * end): the first '"' not escaped by an odd run of backslashes. Each
 * backslash is counted back over at most once, so this stays linear. */
static const char *skip_string(const char *p, const char *end)
{
	const char *q = p + 1;
	while (q < end) {
		q = memchr(q, '"', (size_t)(end - q));
		if (!q)
			return end;
		const char *b = q;
		while (b > p + 1 && b[-1] == '\\')
			b--;
		if (((q - b) & 1) == 0)
			return q + 1;
		q++;
	}
	return end;
}

/* The bytes a container's scan stops at: 1 for a quote, 2 opening, 3
 * closing. */
static const unsigned char bracket[256] = {
	['"'] = 1, ['['] = 2, ['{'] = 2, [']'] = 3, ['}'] = 3,
};

/* The bytes that end a number or a literal. */
static const unsigned char delim[256] = {
	[' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1, [','] = 1, [':'] = 1, [']'] = 1, ['}'] = 1,
};

/* Past the value that starts at p (or end). */
static const char *skip_value(const char *p, const char *end)
{
	if (p >= end)
		return end;
	if (*p == '"')
		return skip_string(p, end);
	if (*p != '[' && *p != '{') {
		while (p < end && !delim[(unsigned char)*p])
			p++;
		return p;
	}
	size_t depth = 0;
	while (p < end) {
		unsigned char k = bracket[(unsigned char)*p];
		if (k == 1) {
			p = skip_string(p, end);
			continue;
		}
		if (k == 2) {
			depth++;
		} else if (k == 3 && --depth == 0) {
			return p + 1;
		}
		p++;
	}
	return end;
}

void brain__jv_iter_init(brain_jv_iter *it, const brain_jv *container)
{
	it->type = container->type;
	if ((container->type == BRAIN_JV_ARRAY || container->type == BRAIN_JV_OBJECT) &&
	    container->n >= 2) {
		it->p = container->p + 1;
		it->end = container->p + container->n - 1; /* the closing bracket */
	} else {
		it->p = it->end = container->p;
	}
}

bool brain__jv_next(brain_jv_iter *it, brain_jv *key, brain_jv *value)
{
	const char *end = it->end, *p = skip_ws_p(it->p, end);
	if (p < end && *p == ',')
		p = skip_ws_p(p + 1, end);
	brain_jv k = {NULL, 0, BRAIN_JV_NULL};
	if (p < end && it->type == BRAIN_JV_OBJECT) {
		const char *kp = p;
		p = skip_string(p, end);
		k = (brain_jv){kp, (size_t)(p - kp), BRAIN_JV_STRING};
		p = skip_ws_p(p, end);
		if (p < end && *p == ':')
			p = skip_ws_p(p + 1, end);
	}
	const char *vp = p;
	p = skip_value(p, end);
	if (p == vp) { /* the end (or bytes that were never validated) */
		it->p = end;
		return false;
	}
	it->p = p;
	if (key)
		*key = k;
	if (value)
		*value = (brain_jv){vp, (size_t)(p - vp), type_of(*vp)};
	return true;
}

size_t brain__jv_count(const brain_jv *container)
{
	brain_jv_iter it;
	brain__jv_iter_init(&it, container);
	size_t count = 0;
	while (brain__jv_next(&it, NULL, NULL))
		count++;
	return count;
}

/* ---- strings ------------------------------------------------------------- */

/* The bytes between a string value's quotes, or false. */
static bool string_body(const brain_jv *v, const char **p, const char **end)
{
	if (v->type != BRAIN_JV_STRING || v->n < 2)
		return false;
	*p = v->p + 1;
	*end = v->p + v->n - 1;
	return true;
}

/* The next piece of a string's body [*pp, end) (*pp < end), unescaped: a
 * run with no backslash (in place) or one escape (decoded into tmp). Its
 * bytes in *out, its length returned (at least 1), *pp moved past it. */
static size_t next_piece(const char **pp, const char *end, char tmp[4], const char **out)
{
	const char *p = *pp;
	if (*p != '\\') {
		const char *b = memchr(p, '\\', (size_t)(end - p));
		*pp = b ? b : end;
		*out = p;
		return (size_t)(*pp - p);
	}
	*out = tmp;
	if (end - p < 2) { /* never after validation */
		*pp = end;
		tmp[0] = '\\';
		return 1;
	}
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *at = memchr(from, p[1], sizeof from - 1);
	uint32_t cp, lo;
	if (at || p[1] != 'u' || end - p < 6 || brain__json_hex4(p + 2, &cp) != 0) {
		tmp[0] = at ? to[at - from] : p[1];
		*pp = p + 2;
		return 1;
	}
	*pp = p + 6;
	if (cp >= 0xD800 && cp <= 0xDFFF) {
		if (cp <= 0xDBFF && end - p >= 12 && p[6] == '\\' && p[7] == 'u' &&
		    brain__json_hex4(p + 8, &lo) == 0 && lo >= 0xDC00 && lo <= 0xDFFF) {
			cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			*pp = p + 12;
		} else {
			cp = 0xFFFD; /* never after validation */
		}
	}
	return brain__utf8_put(tmp, cp);
}

/* BRAIN_EINVAL: "json: expected <want>, found <v's type>". */
static int type_err(const brain_jv *v, const char *want)
{
	static const char *const found[] = {"null", "false", "true", "a number",
	                                    "a string", "an array", "an object"};
	int t = v->type;
	return brain__err(BRAIN_EINVAL, "json: expected %s, found %s", want,
	                  t >= 0 && t < (int)BRAIN_ARRAY_LEN(found) ? found[t] : "an unknown value");
}

int brain__jv_string(const brain_jv *v, char *buf, size_t cap, size_t *len)
{
	const char *p, *end;
	if (!string_body(v, &p, &end))
		return type_err(v, "a string");
	size_t k = 0;
	bool fits = true;
	while (p < end) {
		char tmp[4];
		const char *piece;
		size_t m = next_piece(&p, end, tmp, &piece);
		if (fits && m < cap - k) /* k < cap while it fits */
			memcpy(buf + k, piece, m);
		else
			fits = false;
		k += m;
	}
	if (!fits || k >= cap) {
		if (cap)
			buf[0] = '\0';
		if (len)
			*len = k + 1;
		return brain__err(BRAIN_ETOOLONG,
		                  "json: a string of %zu bytes does not fit in a buffer of %zu", k, cap);
	}
	buf[k] = '\0';
	if (len)
		*len = k;
	return BRAIN_OK;
}

bool brain__jv_string_eq(const brain_jv *v, const char *s, size_t len)
{
	const char *p, *end;
	if (!string_body(v, &p, &end))
		return false;
	size_t k = 0;
	while (p < end) {
		char tmp[4];
		const char *piece;
		size_t m = next_piece(&p, end, tmp, &piece);
		if (m > len - k || memcmp(piece, s + k, m) != 0)
			return false;
		k += m;
	}
	return k == len;
}

bool brain__jv_get(const brain_jv *obj, const char *key, brain_jv *out)
{
	if (obj->type != BRAIN_JV_OBJECT)
		return false;
	size_t klen = strlen(key);
	brain_jv_iter it;
	brain__jv_iter_init(&it, obj);
	brain_jv k, v;
	bool found = false;
	while (brain__jv_next(&it, &k, &v)) {
		/* an escape is never shorter than what it stands for */
		if (k.n - 2 >= klen && brain__jv_string_eq(&k, key, klen)) {
			*out = v;
			found = true;
		}
	}
	return found;
}

/* ---- numbers and booleans ------------------------------------------------ */

/* The first bytes of a number token, for messages. */
#define NUMBER_SHOWN 40

/* v is a number whose bytes are one number token of the grammar, which
 * base/json_lex.c's converters assume (cheap next to the conversion, and
 * it keeps bytes that were never validated away from them). */
static int number_check(const brain_jv *v)
{
	if (v->type != BRAIN_JV_NUMBER || v->n == 0)
		return type_err(v, "a number");
	size_t i = 0;
	const unsigned char *u = (const unsigned char *)v->p;
	if ((u[0] != '-' && !is_digit(u[0])) || scan_number(u, v->n, &i) != 0 || i != v->n)
		return brain__err(BRAIN_EINVAL, "json: a number's bytes are not a number");
	return BRAIN_OK;
}

int brain__jv_int(const brain_jv *v, int64_t *out)
{
	int rc = number_check(v);
	if (rc)
		return rc;
	int shown = (int)BRAIN_MIN(v->n, NUMBER_SHOWN);
	for (size_t i = 0; i < v->n; i++)
		if (v->p[i] == '.' || v->p[i] == 'e' || v->p[i] == 'E')
			return brain__err(BRAIN_ERANGE, "json: the number %.*s%s is not an integer", shown,
			                  v->p, v->n > NUMBER_SHOWN ? "..." : "");
	if (brain__json_int(v->p, v->n, out) != 0)
		return brain__err(BRAIN_ERANGE, "json: the integer %.*s%s does not fit 64 bits", shown,
		                  v->p, v->n > NUMBER_SHOWN ? "..." : "");
	return BRAIN_OK;
}

int brain__jv_double(const brain_jv *v, double *out)
{
	int rc = number_check(v);
	if (rc)
		return rc;
	rc = brain__json_double(v->p, v->n, out);
	if (rc == BRAIN_ENOMEM)
		return rc;
	if (rc != 0)
		return brain__err(BRAIN_ERANGE, "json: the number %.*s%s is not finite as a double",
		                  (int)BRAIN_MIN(v->n, NUMBER_SHOWN), v->p,
		                  v->n > NUMBER_SHOWN ? "..." : "");
	return BRAIN_OK;
}

int brain__jv_bool(const brain_jv *v, bool *out)
{
	if (v->type != BRAIN_JV_TRUE && v->type != BRAIN_JV_FALSE)
		return type_err(v, "true or false");
	*out = v->type == BRAIN_JV_TRUE;
	return BRAIN_OK;
}
