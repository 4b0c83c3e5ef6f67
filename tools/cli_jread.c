/*
 * tools/cli_jread.c - the strict JSON reader of the braincore command-line
 * tool (see cli_jread.h): recursive descent into a flat array of nodes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_jread.h"
#include "cli_json.h"

typedef struct reader {
	cli_jdoc *d;
	size_t pos;
	int depth;
	int oom;
} reader;

void cli_jdoc_init(cli_jdoc *d)
{
	memset(d, 0, sizeof *d);
}

void cli_jdoc_free(cli_jdoc *d)
{
	free(d->nodes);
	memset(d, 0, sizeof *d);
}

/* What is at byte pos, for a message: 'x', the byte's value, or the end. */
static void describe(const reader *r, char *buf, size_t size)
{
	const cli_jdoc *d = r->d;
	if (r->pos >= d->len) {
		snprintf(buf, size, "the end of the line");
		return;
	}
	unsigned char c = (unsigned char)d->text[r->pos];
	if (c >= 0x21 && c < 0x7F)
		snprintf(buf, size, "'%c'", c);
	else if (c == ' ')
		snprintf(buf, size, "a space");
	else
		snprintf(buf, size, "byte 0x%02x", (unsigned)c);
}

static int fail(reader *r, const char *what)
{
	char found[32];
	describe(r, found, sizeof found);
	snprintf(r->d->error, sizeof r->d->error, "at byte %zu: %s, found %s", r->pos, what, found);
	return -1;
}

static int fail_at(reader *r, size_t at, const char *what)
{
	snprintf(r->d->error, sizeof r->d->error, "at byte %zu: %s", at, what);
	return -1;
}

static void skip_space(reader *r)
{
	const char *s = r->d->text;
	while (r->pos < r->d->len &&
	       (s[r->pos] == ' ' || s[r->pos] == '\t' || s[r->pos] == '\n' || s[r->pos] == '\r'))
		r->pos++;
}

/* A new node of `type` at the current position; its index, or (size_t)-1. */
static size_t push(reader *r, cli_jtype type)
{
	cli_jdoc *d = r->d;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		cli_jnode *nodes = cap < SIZE_MAX / sizeof *nodes ? realloc(d->nodes, cap * sizeof *nodes)
		                                                  : NULL;
		if (!nodes) {
			r->oom = 1;
			return (size_t)-1;
		}
		d->nodes = nodes;
		d->cap = cap;
	}
	cli_jnode *n = &d->nodes[d->n];
	n->type = type;
	n->start = r->pos;
	n->end = r->pos;
	n->count = 0;
	n->next = d->n + 1;
	return d->n++;
}

static int hex4(const char *s, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		char c = s[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static int parse_string(reader *r)
{
	const cli_jdoc *d = r->d;
	const char *s = d->text;
	size_t i = push(r, CLI_J_STRING);
	if (i == (size_t)-1)
		return -2;
	r->pos++; /* the opening quote */
	for (;;) {
		if (r->pos >= d->len)
			return fail(r, "expected the string's closing '\"'");
		unsigned char c = (unsigned char)s[r->pos];
		if (c == '"')
			break;
		if (c < 0x20)
			return fail(r, "a control character in a string must be escaped (\\n, \\t, \\u0000)");
		if (c == '\\') {
			size_t at = r->pos;
			if (r->pos + 1 >= d->len)
				return fail_at(r, at, "a string ends inside an escape");
			char e = s[r->pos + 1];
			if (strchr("\"\\/bfnrt", e) && e) {
				r->pos += 2;
				continue;
			}
			unsigned u, lo;
			if (e != 'u' || r->pos + 6 > d->len || hex4(s + r->pos + 2, &u))
				return fail_at(r, at, "an invalid escape in a string (\\\" \\\\ \\/ \\b \\f \\n "
				                      "\\r \\t \\uXXXX)");
			r->pos += 6;
			if (u >= 0xDC00 && u <= 0xDFFF)
				return fail_at(r, at, "a \\u escape of a lone low surrogate");
			if (u >= 0xD800 && u <= 0xDBFF) {
				if (r->pos + 6 > d->len || s[r->pos] != '\\' || s[r->pos + 1] != 'u' ||
				    hex4(s + r->pos + 2, &lo) || lo < 0xDC00 || lo > 0xDFFF)
					return fail_at(r, at, "a \\u escape of a high surrogate without its low half");
				r->pos += 6;
			}
			continue;
		}
		size_t n = cli_utf8_seq((const unsigned char *)s + r->pos, d->len - r->pos);
		if (n == 0) {
			r->d->bad_utf8 = 1;
			return fail(r, "invalid UTF-8 in a string");
		}
		r->pos += n;
	}
	r->pos++;
	r->d->nodes[i].end = r->pos;
	return 0;
}

static int digits(reader *r)
{
	size_t from = r->pos;
	while (r->pos < r->d->len && r->d->text[r->pos] >= '0' && r->d->text[r->pos] <= '9')
		r->pos++;
	return r->pos > from ? 0 : -1;
}

static int parse_number(reader *r)
{
	const char *s = r->d->text;
	size_t i = push(r, CLI_J_NUMBER);
	if (i == (size_t)-1)
		return -2;
	if (s[r->pos] == '-')
		r->pos++;
	if (r->pos < r->d->len && s[r->pos] == '0') {
		r->pos++;
		if (r->pos < r->d->len && s[r->pos] >= '0' && s[r->pos] <= '9')
			return fail(r, "a number has no leading zeros");
	} else if (digits(r)) {
		return fail(r, "expected a digit");
	}
	if (r->pos < r->d->len && s[r->pos] == '.') {
		r->pos++;
		if (digits(r))
			return fail(r, "expected a digit after the decimal point");
	}
	if (r->pos < r->d->len && (s[r->pos] == 'e' || s[r->pos] == 'E')) {
		r->pos++;
		if (r->pos < r->d->len && (s[r->pos] == '+' || s[r->pos] == '-'))
			r->pos++;
		if (digits(r))
			return fail(r, "expected a digit in the exponent");
	}
	r->d->nodes[i].end = r->pos;
	return 0;
}

static int parse_word(reader *r, const char *word, cli_jtype type)
{
	size_t n = strlen(word);
	if (r->d->len - r->pos < n || memcmp(r->d->text + r->pos, word, n) != 0)
		return fail(r, "expected a value (an object, array, string, number, true, false or "
		               "null)");
	size_t i = push(r, type);
	if (i == (size_t)-1)
		return -2;
	r->pos += n;
	r->d->nodes[i].end = r->pos;
	return 0;
}

static int parse_value(reader *r);

/* An object or an array: members "name": value, or items, between the
 * brackets, separated by commas. */
static int parse_container(reader *r, int object)
{
	const char close = object ? '}' : ']';
	size_t i = push(r, object ? CLI_J_OBJECT : CLI_J_ARRAY);
	if (i == (size_t)-1)
		return -2;
	if (++r->depth > CLI_JREAD_MAX_DEPTH)
		return fail_at(r, r->pos, "nested deeper than 64 levels");
	r->pos++;
	skip_space(r);
	size_t count = 0;
	if (r->pos < r->d->len && r->d->text[r->pos] == close) {
		r->pos++;
	} else {
		for (;;) {
			int rc;
			if (object) {
				if (r->pos >= r->d->len || r->d->text[r->pos] != '"')
					return fail(r, count ? "expected the next member's name (a string)"
					                     : "expected a member's name (a string) or '}'");
				if ((rc = parse_string(r)) != 0)
					return rc;
				skip_space(r);
				if (r->pos >= r->d->len || r->d->text[r->pos] != ':')
					return fail(r, "expected ':' after a member's name");
				r->pos++;
				skip_space(r);
			}
			if ((rc = parse_value(r)) != 0)
				return rc;
			count++;
			skip_space(r);
			if (r->pos < r->d->len && r->d->text[r->pos] == ',') {
				r->pos++;
				skip_space(r);
				continue;
			}
			if (r->pos < r->d->len && r->d->text[r->pos] == close) {
				r->pos++;
				break;
			}
			return fail(r, object ? "expected ',' or '}'" : "expected ',' or ']'");
		}
	}
	r->depth--;
	cli_jnode *n = &r->d->nodes[i];
	n->count = count;
	n->end = r->pos;
	n->next = r->d->n;
	return 0;
}

static int parse_value(reader *r)
{
	if (r->pos >= r->d->len)
		return fail(r, "expected a value");
	switch (r->d->text[r->pos]) {
	case '{':
		return parse_container(r, 1);
	case '[':
		return parse_container(r, 0);
	case '"':
		return parse_string(r);
	case 't':
		return parse_word(r, "true", CLI_J_TRUE);
	case 'f':
		return parse_word(r, "false", CLI_J_FALSE);
	case 'n':
		return parse_word(r, "null", CLI_J_NULL);
	default:
		if (r->d->text[r->pos] == '-' ||
		    (r->d->text[r->pos] >= '0' && r->d->text[r->pos] <= '9'))
			return parse_number(r);
		return fail(r, "expected a value (an object, array, string, number, true, false or "
		               "null)");
	}
}

int cli_jparse(cli_jdoc *d, const char *text, size_t len)
{
	reader r = {d, 0, 0, 0};
	d->text = text;
	d->len = len;
	d->n = 0;
	d->error[0] = '\0';
	d->bad_utf8 = 0;
	skip_space(&r);
	int rc = parse_value(&r);
	if (rc == 0) {
		skip_space(&r);
		if (r.pos < len)
			rc = fail(&r, "expected the end after the value");
	}
	if (r.oom) {
		snprintf(d->error, sizeof d->error, "out of memory");
		return -2;
	}
	return rc ? -1 : 0;
}

/* Append the UTF-8 bytes of code point u to out. */
static size_t put_utf8(char *out, unsigned long u)
{
	if (u < 0x80) {
		out[0] = (char)u;
		return 1;
	}
	if (u < 0x800) {
		out[0] = (char)(0xC0 | (u >> 6));
		out[1] = (char)(0x80 | (u & 0x3F));
		return 2;
	}
	if (u < 0x10000) {
		out[0] = (char)(0xE0 | (u >> 12));
		out[1] = (char)(0x80 | ((u >> 6) & 0x3F));
		out[2] = (char)(0x80 | (u & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (u >> 18));
	out[1] = (char)(0x80 | ((u >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((u >> 6) & 0x3F));
	out[3] = (char)(0x80 | (u & 0x3F));
	return 4;
}

int cli_jstring(const cli_jdoc *d, size_t i, char **out, size_t *len)
{
	const cli_jnode *n = &d->nodes[i];
	const char *s = d->text + n->start + 1;
	size_t raw = n->end - n->start - 2, o = 0;
	/* an escape never grows: \uXXXX (6 bytes) is at most 3, a pair (12) 4 */
	char *buf = malloc(raw + 1);
	if (!buf)
		return -1;
	for (size_t k = 0; k < raw;) {
		if (s[k] != '\\') {
			buf[o++] = s[k++];
			continue;
		}
		char e = s[k + 1];
		k += 2;
		switch (e) {
		case 'b': buf[o++] = '\b'; break;
		case 'f': buf[o++] = '\f'; break;
		case 'n': buf[o++] = '\n'; break;
		case 'r': buf[o++] = '\r'; break;
		case 't': buf[o++] = '\t'; break;
		case 'u': {
			unsigned hi = 0, lo = 0;
			hex4(s + k, &hi);
			k += 4;
			unsigned long u = hi;
			if (hi >= 0xD800 && hi <= 0xDBFF) {
				hex4(s + k + 2, &lo); /* checked by the parse: "\uDC00".."\uDFFF" */
				k += 6;
				u = 0x10000 + (((unsigned long)hi - 0xD800) << 10) + (lo - 0xDC00);
			}
			o += put_utf8(buf + o, u);
			break;
		}
		default: /* " \ / */
			buf[o++] = e;
			break;
		}
	}
	buf[o] = '\0';
	*out = buf;
	*len = o;
	return 0;
}

int cli_jstring_is(const cli_jdoc *d, size_t i, const char *name)
{
	const cli_jnode *n = &d->nodes[i];
	size_t raw = n->end - n->start - 2, want = strlen(name);
	if (n->type != CLI_J_STRING)
		return 0;
	if (!memchr(d->text + n->start + 1, '\\', raw))
		return raw == want && memcmp(d->text + n->start + 1, name, want) == 0;
	char *s;
	size_t len;
	if (cli_jstring(d, i, &s, &len))
		return 0;
	int same = len == want && memcmp(s, name, want) == 0;
	free(s);
	return same;
}

int cli_jdouble(const cli_jdoc *d, size_t i, double *out)
{
	const cli_jnode *n = &d->nodes[i];
	if (n->type != CLI_J_NUMBER)
		return -1;
	size_t len = n->end - n->start;
	char small[64];
	char *buf = len < sizeof small ? small : malloc(len + 1);
	if (!buf)
		return -1;
	memcpy(buf, d->text + n->start, len);
	buf[len] = '\0';
	*out = strtod(buf, NULL); /* the C locale: the tool never calls setlocale */
	if (buf != small)
		free(buf);
	return 0;
}

int cli_juint64(const cli_jdoc *d, size_t i, uint64_t *out)
{
	const cli_jnode *n = &d->nodes[i];
	if (n->type != CLI_J_NUMBER)
		return -1;
	uint64_t v = 0;
	for (size_t k = n->start; k < n->end; k++) {
		char c = d->text[k];
		if (c < '0' || c > '9')
			return -1; /* a sign, a fraction or an exponent */
		unsigned digit = (unsigned)(c - '0');
		if (v > (UINT64_MAX - digit) / 10)
			return -1;
		v = v * 10 + digit;
	}
	*out = v;
	return 0;
}

int cli_jint64(const cli_jdoc *d, size_t i, int64_t *out)
{
	const cli_jnode *n = &d->nodes[i];
	if (n->type != CLI_J_NUMBER)
		return -1;
	int neg = d->text[n->start] == '-';
	uint64_t v = 0;
	for (size_t k = n->start + (size_t)neg; k < n->end; k++) {
		char c = d->text[k];
		if (c < '0' || c > '9')
			return -1;
		unsigned digit = (unsigned)(c - '0');
		if (v > (UINT64_MAX - digit) / 10)
			return -1;
		v = v * 10 + digit;
	}
	if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
		return -1;
	*out = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
	return 0;
}
