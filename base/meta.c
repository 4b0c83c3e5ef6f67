/*
 * base/meta.c - a memory's metadata: strict JSON in, one canonical blob,
 * JSON out (see base/meta.h for the blob's layout).
 *
 * from_json reads the object in one pass without recursion: each member's
 * decoded name and value go to a scratch arena (list items already as
 * u32 len + bytes), a descriptor per member to an array; the array is then
 * sorted by name, checked for duplicates and written out in one allocation
 * of the exact size. Limits are checked as the members are read, so a huge
 * input stops early.
 *
 * Numbers: validated against the JSON grammar here, then converted by
 * base/json_lex.c (shared with the filter parser): integers by hand (exact
 * int64 range), others through strtod on the digits without their '.', so
 * the result does not depend on LC_NUMERIC. Printing writes "%.17g" with
 * the locale's decimal point turned back into '.' (learnt from snprintf
 * rather than localeconv(), whose result other threads may overwrite), and
 * 17 significant digits read back as the same double.
 *
 * The blob's integers are little-endian, read and written byte by byte
 * here; brain__meta_item (meta.h) reads them with memcpy, which assumes a
 * little-endian host like the rest of the file formats.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json_lex.h"
#include "base/meta.h"

/* JSON text longer than this is refused before it is read. */
#define JSON_MAX ((size_t)16 * BRAIN_META_BYTES_MAX)

/* ---- little-endian fields ---------------------------------------------- */

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void wr64(uint8_t *p, uint64_t v)
{
	wr32(p, (uint32_t)v);
	wr32(p + 4, (uint32_t)(v >> 32));
}

static double bits_double(uint64_t u)
{
	double d;
	memcpy(&d, &u, sizeof d);
	return d;
}

static uint64_t double_bits(double d)
{
	uint64_t u;
	memcpy(&u, &d, sizeof u);
	return u;
}

/* memcmp on the common length, then the shorter first: the blob's order. */
static int name_cmp(const void *a, size_t alen, const void *b, size_t blen)
{
	size_t n = BRAIN_MIN(alen, blen);
	int c = n ? memcmp(a, b, n) : 0;
	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

/* A name for a message: at most NAME_MAX bytes, control characters shown
 * as '?' so the message stays one printable line. */
static void show_name(char out[BRAIN_META_NAME_MAX + 1], const void *name, size_t len)
{
	const unsigned char *u = name;
	len = BRAIN_MIN(len, (size_t)BRAIN_META_NAME_MAX);
	for (size_t i = 0; i < len; i++)
		out[i] = u[i] < 0x20 ? '?' : (char)u[i];
	out[len] = '\0';
}

/* ---- the parser -------------------------------------------------------- */

/* One member as read: name and string/list value live in the arena. */
typedef struct member {
	size_t at;            /* byte offset of its name in the JSON */
	size_t name_off;      /* in the arena */
	uint32_t name_len;
	int type;
	size_t val_off;       /* STRING: the bytes; LIST: the encoded items */
	uint32_t val_len;     /* STRING: bytes; LIST: bytes of the items */
	uint32_t n_items;     /* LIST */
	uint64_t bits;        /* INT, DOUBLE: the value's bits; BOOL: 0/1 */
	const uint8_t *name;  /* set once the arena stops moving, for sorting */
} member;

typedef struct parser {
	const char *s;
	size_t len, pos;
	bool patch;
	uint8_t *arena;
	size_t arena_len, arena_cap;
	member *m;
	size_t n, cap;
	size_t bytes;         /* the blob's size so far */
	bool in_field;        /* messages name the member being read */
	size_t field_off;
	uint32_t field_len;
} parser;

static int fail(const parser *p, int code, size_t at, const char *fmt, ...) BRAIN_PRINTF(4, 5);

static int fail(const parser *p, int code, size_t at, const char *fmt, ...)
{
	char what[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	if (p->in_field) {
		char name[BRAIN_META_NAME_MAX + 1];
		show_name(name, p->arena + p->field_off, p->field_len);
		return brain__err(code, "metadata: at byte %zu (field \"%s\"): %s", at, name, what);
	}
	return brain__err(code, "metadata: at byte %zu: %s", at, what);
}

/* What is at the current position, for "expected X, found Y". */
static const char *found(const parser *p, char tmp[16])
{
	if (p->pos >= p->len)
		return "the end of the input";
	unsigned char c = (unsigned char)p->s[p->pos];
	switch (c) {
	case '"':
		return "a string";
	case '{':
		return "an object";
	case '[':
		return "a list";
	case 't':
	case 'f':
		return "a boolean";
	case 'n':
		return "null";
	default:
		break;
	}
	if (c == '-' || (c >= '0' && c <= '9'))
		return "a number";
	if (c > 0x20 && c < 0x7f)
		snprintf(tmp, 16, "'%c'", c);
	else
		snprintf(tmp, 16, "byte 0x%02x", c);
	return tmp;
}

static void skip_ws(parser *p)
{
	while (p->pos < p->len) {
		char c = p->s[p->pos];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		p->pos++;
	}
}

/* Room for n more bytes in the arena. */
static int arena_reserve(parser *p, size_t n)
{
	size_t need;
	if (!brain__add_ok(p->arena_len, n, &need))
		return brain__oom(SIZE_MAX, "metadata");
	if (need <= p->arena_cap)
		return BRAIN_OK;
	size_t cap = p->arena_cap ? p->arena_cap : 256;
	while (cap < need)
		if (!brain__mul_ok(cap, 2, &cap))
			return brain__oom(need, "metadata");
	uint8_t *a = brain__realloc(p->arena, cap);
	if (!a)
		return brain__oom(cap, "metadata");
	p->arena = a;
	p->arena_cap = cap;
	return BRAIN_OK;
}

static int unicode_escape(parser *p, size_t i, uint32_t *cp, size_t *used)
{
	const char *s = p->s;
	uint32_t hi, lo;
	if (p->len - i < 6 || brain__json_hex4(s + i + 2, &hi) != 0)
		return fail(p, BRAIN_EJSON, i, "bad escape: \\u must be followed by four hex digits");
	if (hi >= 0xDC00 && hi <= 0xDFFF)
		return fail(p, BRAIN_EJSON, i, "lone surrogate \\u%04X (invalid UTF-8)", (unsigned)hi);
	if (hi < 0xD800 || hi > 0xDBFF) {
		*cp = hi;
		*used = 6;
		return BRAIN_OK;
	}
	if (p->len - i < 12 || s[i + 6] != '\\' || s[i + 7] != 'u' || brain__json_hex4(s + i + 8, &lo) != 0 ||
	    lo < 0xDC00 || lo > 0xDFFF)
		return fail(p, BRAIN_EJSON, i, "lone surrogate \\u%04X (invalid UTF-8)", (unsigned)hi);
	*cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
	*used = 12;
	return BRAIN_OK;
}

/* The string whose opening quote is at p->pos, decoded onto the arena's
 * end: *off and *len say where. */
static int parse_string(parser *p, size_t *off, size_t *len)
{
	size_t open = p->pos, i = open + 1;
	const char *s = p->s;
	size_t start = p->arena_len;
	for (;;) {
		/* a run of plain bytes: '"', '\\' and controls never occur inside
		 * a multi-byte character, so each run is checked on its own */
		size_t run = i;
		while (i < p->len) {
			unsigned char c = (unsigned char)s[i];
			if (c == '"' || c == '\\' || c < 0x20)
				break;
			i++;
		}
		if (i > run) {
			size_t bad;
			if (!brain__utf8_valid(s + run, i - run, &bad))
				return fail(p, BRAIN_EJSON, run + bad, "invalid UTF-8 in a string");
			int rc = arena_reserve(p, i - run);
			if (rc)
				return rc;
			memcpy(p->arena + p->arena_len, s + run, i - run);
			p->arena_len += i - run;
		}
		if (i >= p->len)
			return fail(p, BRAIN_EJSON, open, "unterminated string");
		unsigned char c = (unsigned char)s[i];
		if (c == '"')
			break;
		if (c < 0x20)
			return fail(p, BRAIN_EJSON, i,
			            "control character 0x%02x in a string (it must be escaped)", c);
		/* an escape */
		if (i + 1 >= p->len)
			return fail(p, BRAIN_EJSON, open, "unterminated string");
		uint8_t out[4];
		size_t n = 1, used = 2;
		switch (s[i + 1]) {
		case '"':
			out[0] = '"';
			break;
		case '\\':
			out[0] = '\\';
			break;
		case '/':
			out[0] = '/';
			break;
		case 'b':
			out[0] = '\b';
			break;
		case 'f':
			out[0] = '\f';
			break;
		case 'n':
			out[0] = '\n';
			break;
		case 'r':
			out[0] = '\r';
			break;
		case 't':
			out[0] = '\t';
			break;
		case 'u': {
			uint32_t cp = 0;
			int rc = unicode_escape(p, i, &cp, &used);
			if (rc)
				return rc;
			n = brain__utf8_put((char *)out, cp);
			break;
		}
		default: {
			char tmp[16];
			unsigned char e = (unsigned char)s[i + 1];
			if (e > 0x20 && e < 0x7f)
				snprintf(tmp, sizeof tmp, "'%c'", e);
			else
				snprintf(tmp, sizeof tmp, "byte 0x%02x", e);
			return fail(p, BRAIN_EJSON, i, "bad escape: \\ followed by %s", tmp);
		}
		}
		int rc = arena_reserve(p, n);
		if (rc)
			return rc;
		memcpy(p->arena + p->arena_len, out, n);
		p->arena_len += n;
		i += used;
	}
	p->pos = i + 1;
	*off = start;
	*len = p->arena_len - start; /* at most JSON_MAX: fits a u32 */
	return BRAIN_OK;
}

static bool is_digit(const parser *p, size_t i)
{
	return i < p->len && p->s[i] >= '0' && p->s[i] <= '9';
}

/* A number at p->pos (a '-' or a digit there): INT or DOUBLE. */
static int parse_number(parser *p, member *m)
{
	size_t start = p->pos, i = start;
	bool is_int = true;
	if (p->s[i] == '-')
		i++;
	if (!is_digit(p, i))
		return fail(p, BRAIN_EJSON, start, "bad number: '-' must be followed by a digit");
	if (p->s[i] == '0') {
		i++;
		if (is_digit(p, i))
			return fail(p, BRAIN_EJSON, start, "bad number: leading zero");
	} else {
		while (is_digit(p, i))
			i++;
	}
	size_t int_end = i;
	if (i < p->len && p->s[i] == '.') {
		is_int = false;
		i++;
		if (!is_digit(p, i))
			return fail(p, BRAIN_EJSON, start, "bad number: '.' must be followed by a digit");
		while (is_digit(p, i))
			i++;
	}
	if (i < p->len && (p->s[i] == 'e' || p->s[i] == 'E')) {
		is_int = false;
		i++;
		if (i < p->len && (p->s[i] == '+' || p->s[i] == '-'))
			i++;
		if (!is_digit(p, i))
			return fail(p, BRAIN_EJSON, start, "bad number: the exponent has no digits");
		while (is_digit(p, i))
			i++;
	}
	if (is_int) {
		int64_t v;
		if (brain__json_int(p->s + start, int_end - start, &v) != 0)
			return fail(p, BRAIN_EJSON, start, "integer out of range (int64)");
		m->type = BRAIN_META_INT;
		m->bits = (uint64_t)v; /* two's complement, INT64_MIN included */
	} else {
		double d = 0;
		int rc = brain__json_double(p->s + start, i - start, &d);
		if (rc == -1)
			return fail(p, BRAIN_EJSON, start, "number out of range (not a finite double)");
		if (rc)
			return rc;
		m->type = BRAIN_META_DOUBLE;
		m->bits = double_bits(d);
	}
	p->pos = i;
	return BRAIN_OK;
}

static bool literal(const parser *p, const char *word, size_t n)
{
	return p->len - p->pos >= n && memcmp(p->s + p->pos, word, n) == 0;
}

/* A list of strings at p->pos ('['), its items encoded onto the arena. */
static int parse_list(parser *p, member *m)
{
	p->pos++;
	size_t off = p->arena_len;
	uint32_t n = 0;
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == ']') {
		p->pos++;
	} else {
		for (;;) {
			skip_ws(p);
			char tmp[16];
			if (p->pos >= p->len || p->s[p->pos] != '"')
				return fail(p, BRAIN_EJSON, p->pos, "a list holds strings only, found %s",
				            found(p, tmp));
			if (n == BRAIN_META_ITEMS_MAX)
				return fail(p, BRAIN_ETOOLONG, p->pos, "a list of more than %d items",
				            BRAIN_META_ITEMS_MAX);
			int rc = arena_reserve(p, 4);
			if (rc)
				return rc;
			size_t head = p->arena_len;
			p->arena_len += 4;
			size_t soff, slen;
			rc = parse_string(p, &soff, &slen);
			if (rc)
				return rc;
			wr32(p->arena + head, (uint32_t)slen);
			n++;
			skip_ws(p);
			if (p->pos < p->len && p->s[p->pos] == ',') {
				p->pos++;
				continue;
			}
			if (p->pos < p->len && p->s[p->pos] == ']') {
				p->pos++;
				break;
			}
			return fail(p, BRAIN_EJSON, p->pos, "expected ',' or ']' in a list, found %s",
			            found(p, tmp));
		}
	}
	m->type = BRAIN_META_LIST;
	m->val_off = off;
	m->val_len = (uint32_t)(p->arena_len - off); /* below 2 * JSON_MAX */
	m->n_items = n;
	return BRAIN_OK;
}

static int parse_value(parser *p, member *m)
{
	char tmp[16];
	if (p->pos >= p->len)
		return fail(p, BRAIN_EJSON, p->pos, "expected a value, found the end of the input");
	char c = p->s[p->pos];
	if (c == '"') {
		size_t off, len;
		int rc = parse_string(p, &off, &len);
		if (rc)
			return rc;
		m->type = BRAIN_META_STRING;
		m->val_off = off;
		m->val_len = (uint32_t)len;
		return BRAIN_OK;
	}
	if (c == '-' || (c >= '0' && c <= '9'))
		return parse_number(p, m);
	if (c == '+' || c == '.')
		return fail(p, BRAIN_EJSON, p->pos, "bad number: it must start with '-' or a digit");
	if (c == '[')
		return parse_list(p, m);
	if (c == '{')
		return fail(p, BRAIN_EJSON, p->pos, "nested objects are not supported");
	if (literal(p, "true", 4) || literal(p, "false", 5)) {
		m->type = BRAIN_META_BOOL;
		m->bits = c == 't';
		p->pos += c == 't' ? 4 : 5;
		return BRAIN_OK;
	}
	if (literal(p, "null", 4)) {
		if (!p->patch)
			return fail(p, BRAIN_EJSON, p->pos, "null is allowed only in a patch");
		m->type = BRAIN_META_NONE;
		p->pos += 4;
		return BRAIN_OK;
	}
	if (c == 't' || c == 'f' || c == 'n')
		return fail(p, BRAIN_EJSON, p->pos, "invalid literal (expected true, false or null)");
	return fail(p, BRAIN_EJSON, p->pos, "expected a value, found %s", found(p, tmp));
}

/* One member "name": value, its name's quote at p->pos. */
static int parse_member(parser *p)
{
	size_t at = p->pos;
	if (p->n == BRAIN_META_FIELDS_MAX)
		return fail(p, BRAIN_ETOOLONG, at, "more than %d fields", BRAIN_META_FIELDS_MAX);
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		member *m = brain__realloc(p->m, cap * sizeof *m);
		if (!m)
			return brain__oom(cap * sizeof *m, "metadata");
		p->m = m;
		p->cap = cap;
	}
	member *m = &p->m[p->n];
	memset(m, 0, sizeof *m);
	m->at = at;
	size_t off, len;
	int rc = parse_string(p, &off, &len);
	if (rc)
		return rc;
	if (len == 0)
		return fail(p, BRAIN_EJSON, at, "empty name");
	if (len > BRAIN_META_NAME_MAX)
		return fail(p, BRAIN_ETOOLONG, at, "a name of %zu bytes, longer than the limit of %d",
		            len, BRAIN_META_NAME_MAX);
	if (memchr(p->arena + off, 0, len))
		return fail(p, BRAIN_EJSON, at, "a name must not contain NUL (\\u0000)");
	m->name_off = off;
	m->name_len = (uint32_t)len;
	p->in_field = true;
	p->field_off = off;
	p->field_len = (uint32_t)len;
	skip_ws(p);
	char tmp[16];
	if (p->pos >= p->len || p->s[p->pos] != ':')
		return fail(p, BRAIN_EJSON, p->pos, "expected ':' after the name, found %s",
		            found(p, tmp));
	p->pos++;
	skip_ws(p);
	size_t value_at = p->pos;
	rc = parse_value(p, m);
	if (rc)
		return rc;
	size_t value = 0;
	switch (m->type) {
	case BRAIN_META_STRING:
	case BRAIN_META_LIST: /* u32 length or count, then the bytes */
		value = 4 + (size_t)m->val_len;
		break;
	case BRAIN_META_INT:
	case BRAIN_META_DOUBLE:
		value = 8;
		break;
	case BRAIN_META_BOOL:
		value = 1;
		break;
	default: /* NONE */
		break;
	}
	/* every term is below JSON_MAX * 2, so the sum cannot wrap */
	p->bytes += 1 + 4 + (size_t)m->name_len + value;
	if (p->bytes > BRAIN_META_BYTES_MAX)
		return fail(p, BRAIN_ETOOLONG, value_at, "the metadata takes more than %d bytes",
		            BRAIN_META_BYTES_MAX);
	p->n++;
	return BRAIN_OK;
}

static int parse_object(parser *p)
{
	char tmp[16];
	skip_ws(p);
	if (p->pos >= p->len)
		return fail(p, BRAIN_EJSON, p->pos, "empty input (expected a JSON object)");
	if (p->s[p->pos] != '{')
		return fail(p, BRAIN_EJSON, p->pos, "the top level must be an object, found %s",
		            found(p, tmp));
	p->pos++;
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == '}') {
		p->pos++;
	} else {
		for (;;) {
			skip_ws(p);
			if (p->pos >= p->len || p->s[p->pos] != '"')
				return fail(p, BRAIN_EJSON, p->pos,
				            "expected a member name (a string), found %s", found(p, tmp));
			int rc = parse_member(p);
			if (rc)
				return rc;
			skip_ws(p);
			if (p->pos < p->len && p->s[p->pos] == ',') {
				p->pos++;
				p->in_field = false;
				continue;
			}
			if (p->pos < p->len && p->s[p->pos] == '}') {
				p->pos++;
				p->in_field = false;
				break;
			}
			return fail(p, BRAIN_EJSON, p->pos, "expected ',' or '}' after a value, found %s",
			            found(p, tmp));
		}
	}
	skip_ws(p);
	if (p->pos < p->len)
		return fail(p, BRAIN_EJSON, p->pos, "trailing text after the object (%s)",
		            found(p, tmp));
	return BRAIN_OK;
}

/* By name, then by position in the input (so the first duplicate pair is
 * the same whatever qsort does with equal keys). */
static int member_cmp(const void *a, const void *b)
{
	const member *x = a, *y = b;
	int c = name_cmp(x->name, x->name_len, y->name, y->name_len);
	if (c)
		return c;
	return x->at < y->at ? -1 : x->at > y->at;
}

static void encode(const parser *p, uint8_t *o)
{
	wr32(o, (uint32_t)p->n);
	o += 4;
	for (size_t k = 0; k < p->n; k++) {
		const member *m = &p->m[k];
		*o++ = (uint8_t)m->type;
		wr32(o, m->name_len);
		memcpy(o + 4, m->name, m->name_len);
		o += 4 + m->name_len;
		switch (m->type) {
		case BRAIN_META_STRING:
			wr32(o, m->val_len);
			memcpy(o + 4, p->arena + m->val_off, m->val_len);
			o += 4 + (size_t)m->val_len;
			break;
		case BRAIN_META_INT:
		case BRAIN_META_DOUBLE:
			wr64(o, m->bits);
			o += 8;
			break;
		case BRAIN_META_BOOL:
			*o++ = (uint8_t)m->bits;
			break;
		case BRAIN_META_LIST:
			wr32(o, m->n_items);
			memcpy(o + 4, p->arena + m->val_off, m->val_len);
			o += 4 + (size_t)m->val_len;
			break;
		default: /* NONE: the name alone */
			break;
		}
	}
}

int brain__meta_from_json(const char *json, size_t len, bool patch, brain_meta_blob *out)
{
	if (!out || (!json && len))
		return brain__err(BRAIN_ENULL, "metadata: %s is NULL", out ? "json" : "out");
	if (len > JSON_MAX)
		return brain__err(BRAIN_ETOOLONG, "metadata: the JSON is %zu bytes, more than the limit "
		                  "of %zu", len, JSON_MAX);
	parser p = {.s = json, .len = len, .patch = patch, .bytes = 4};
	int rc = parse_object(&p);
	if (rc == BRAIN_OK) {
		for (size_t k = 0; k < p.n; k++)
			p.m[k].name = p.arena + p.m[k].name_off;
		if (p.n > 1)
			qsort(p.m, p.n, sizeof *p.m, member_cmp);
		/* report the duplicate that comes first in the input */
		size_t dup = 0;
		for (size_t k = 1; k < p.n; k++)
			if (name_cmp(p.m[k - 1].name, p.m[k - 1].name_len, p.m[k].name,
			             p.m[k].name_len) == 0 &&
			    (!dup || p.m[k].at < p.m[dup].at))
				dup = k;
		if (dup) {
			p.in_field = true;
			p.field_off = p.m[dup].name_off;
			p.field_len = p.m[dup].name_len;
			rc = fail(&p, BRAIN_EJSON, p.m[dup].at, "duplicate name (first at byte %zu)",
			          p.m[dup - 1].at);
		}
	}
	if (rc == BRAIN_OK) {
		uint8_t *blob = brain__malloc(p.bytes);
		if (!blob) {
			rc = brain__oom(p.bytes, "metadata");
		} else {
			encode(&p, blob);
			out->data = blob;
			out->len = p.bytes;
		}
	}
	brain__free(p.arena);
	brain__free(p.m);
	return rc;
}

/* ---- reading blobs ----------------------------------------------------- */

static int corrupt(size_t at, const char *fmt, ...) BRAIN_PRINTF(2, 3);

static int corrupt(size_t at, const char *fmt, ...)
{
	char what[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	return brain__err(BRAIN_ECORRUPT, "metadata blob: at byte %zu: %s", at, what);
}

/* A u32 length at b[*pos] and that many bytes after it, within len. */
static bool take_bytes(const uint8_t *b, size_t len, size_t *pos, uint32_t *n)
{
	if (len - *pos < 4)
		return false;
	*n = rd32(b + *pos);
	if (len - *pos - 4 < *n)
		return false;
	*pos += 4 + (size_t)*n;
	return true;
}

int brain__meta_check(const void *blob, size_t len, bool patch)
{
	const uint8_t *b = blob;
	if (!b || len < 4)
		return corrupt(0, "%zu bytes, too short for the field count", b ? len : 0);
	if (len > BRAIN_META_BYTES_MAX)
		return corrupt(0, "%zu bytes, more than the limit of %d", len, BRAIN_META_BYTES_MAX);
	uint32_t count = rd32(b);
	if (count > BRAIN_META_FIELDS_MAX)
		return corrupt(0, "%u fields, more than the limit of %d", count,
		               BRAIN_META_FIELDS_MAX);
	size_t pos = 4, bad;
	const uint8_t *prev = NULL;
	uint32_t prev_len = 0;
	for (uint32_t k = 0; k < count; k++) {
		size_t at = pos;
		if (len - pos < 1)
			return corrupt(at, "field %u of %u is missing", k, count);
		unsigned type = b[pos++];
		if (type > BRAIN_META_LIST || (type == BRAIN_META_NONE && !patch))
			return corrupt(at, "field %u: unknown type %u", k, type);
		uint32_t nl;
		size_t name_at = pos;
		if (!take_bytes(b, len, &pos, &nl))
			return corrupt(at, "field %u: name truncated", k);
		const uint8_t *name = b + name_at + 4;
		if (nl == 0 || nl > BRAIN_META_NAME_MAX)
			return corrupt(at, "field %u: name of %u bytes", k, nl);
		if (!brain__utf8_valid((const char *)name, nl, &bad) || memchr(name, 0, nl))
			return corrupt(at, "field %u: name is not valid UTF-8 without NUL", k);
		if (prev && name_cmp(prev, prev_len, name, nl) >= 0)
			return corrupt(at, "field %u: names not sorted or not unique", k);
		prev = name;
		prev_len = nl;
		size_t vat = pos;
		uint32_t n;
		switch (type) {
		case BRAIN_META_STRING:
			if (!take_bytes(b, len, &pos, &n))
				return corrupt(vat, "field %u: string truncated", k);
			if (!brain__utf8_valid((const char *)b + vat + 4, n, &bad))
				return corrupt(vat + 4 + bad, "field %u: string is not valid UTF-8", k);
			break;
		case BRAIN_META_INT:
		case BRAIN_META_DOUBLE:
			if (len - pos < 8)
				return corrupt(vat, "field %u: number truncated", k);
			if (type == BRAIN_META_DOUBLE && !isfinite(bits_double(rd64(b + pos))))
				return corrupt(vat, "field %u: double is not finite", k);
			pos += 8;
			break;
		case BRAIN_META_BOOL:
			if (len - pos < 1)
				return corrupt(vat, "field %u: bool truncated", k);
			if (b[pos] > 1)
				return corrupt(vat, "field %u: bool is %u", k, b[pos]);
			pos++;
			break;
		case BRAIN_META_LIST:
			if (len - pos < 4)
				return corrupt(vat, "field %u: list truncated", k);
			n = rd32(b + pos);
			pos += 4;
			if (n > BRAIN_META_ITEMS_MAX)
				return corrupt(vat, "field %u: list of %u items", k, n);
			for (uint32_t j = 0; j < n; j++) {
				size_t iat = pos;
				uint32_t il;
				if (!take_bytes(b, len, &pos, &il))
					return corrupt(iat, "field %u: list item %u truncated", k, j);
				if (!brain__utf8_valid((const char *)b + iat + 4, il, &bad))
					return corrupt(iat + 4 + bad, "field %u: list item %u is not valid "
					               "UTF-8", k, j);
			}
			break;
		default: /* NONE: no value */
			break;
		}
	}
	if (pos != len)
		return corrupt(pos, "%zu bytes after the last field", len - pos);
	return BRAIN_OK;
}

uint32_t brain__meta_count(const void *blob)
{
	return blob ? rd32(blob) : 0;
}

bool brain__meta_next(const void *blob, size_t len, size_t *pos, brain_meta_field *f)
{
	const uint8_t *b = blob;
	size_t i = *pos ? *pos : 4;
	if (!b || i >= len)
		return false;
	memset(f, 0, sizeof *f);
	f->type = b[i];
	f->name_len = rd32(b + i + 1);
	f->name = (const char *)b + i + 5;
	i += 5 + (size_t)f->name_len;
	switch (f->type) {
	case BRAIN_META_STRING:
		f->str_len = rd32(b + i);
		f->str = (const char *)b + i + 4;
		i += 4 + (size_t)f->str_len;
		break;
	case BRAIN_META_INT:
		f->i = (int64_t)rd64(b + i);
		i += 8;
		break;
	case BRAIN_META_DOUBLE:
		f->d = bits_double(rd64(b + i));
		i += 8;
		break;
	case BRAIN_META_BOOL:
		f->b = b[i] != 0;
		i++;
		break;
	case BRAIN_META_LIST:
		f->n_items = rd32(b + i);
		i += 4;
		f->items = b + i;
		for (uint32_t k = 0; k < f->n_items; k++)
			i += 4 + (size_t)rd32(b + i);
		break;
	default: /* NONE */
		break;
	}
	*pos = i;
	return true;
}

bool brain__meta_find(const void *blob, size_t len, const char *name, size_t name_len,
                      brain_meta_field *f)
{
	size_t pos = 0;
	brain_meta_field g;
	while (brain__meta_next(blob, len, &pos, &g)) {
		int c = name_cmp(g.name, g.name_len, name, name_len);
		if (c == 0) {
			*f = g;
			return true;
		}
		if (c > 0) /* sorted: it would have come already */
			break;
	}
	return false;
}

/* ---- writing JSON ------------------------------------------------------ */

/* Under snprintf's contract (base/json_lex.h). */
size_t brain__meta_to_json(const void *blob, size_t len, char *buf, size_t size)
{
	brain_json_out w = {buf, buf ? size : 0, 0, false};
	size_t pos = 0;
	brain_meta_field f;
	bool first = true;
	brain__json_put(&w, "{", 1);
	while (brain__meta_next(blob, len, &pos, &f)) {
		if (!first)
			brain__json_put(&w, ",", 1);
		first = false;
		brain__json_put_string(&w, f.name, f.name_len);
		brain__json_put(&w, ":", 1);
		char num[64];
		switch (f.type) {
		case BRAIN_META_STRING:
			brain__json_put_string(&w, f.str, f.str_len);
			break;
		case BRAIN_META_INT: {
			int n = snprintf(num, sizeof num, "%" PRId64, f.i);
			brain__json_put(&w, num, n > 0 ? (size_t)n : 0);
			break;
		}
		case BRAIN_META_DOUBLE:
			brain__json_put_double(&w, f.d);
			break;
		case BRAIN_META_BOOL:
			if (f.b)
				brain__json_put(&w, "true", 4);
			else
				brain__json_put(&w, "false", 5);
			break;
		case BRAIN_META_LIST: {
			size_t ip = 0;
			brain__json_put(&w, "[", 1);
			for (uint32_t k = 0; k < f.n_items; k++) {
				const char *s;
				uint32_t sl;
				brain__meta_item(&f, &ip, &s, &sl);
				if (k)
					brain__json_put(&w, ",", 1);
				brain__json_put_string(&w, s, sl);
			}
			brain__json_put(&w, "]", 1);
			break;
		}
		default: /* NONE, in a patch */
			brain__json_put(&w, "null", 4);
			break;
		}
	}
	brain__json_put(&w, "}", 1);
	return brain__json_end(&w);
}

/* ---- merge patch ------------------------------------------------------- */

/* A field of a blob and the bytes it spans there. */
typedef struct cursor {
	const void *blob;
	size_t len, pos, start;
	bool have;
	brain_meta_field f;
} cursor;

static void advance(cursor *c, bool skip_none)
{
	do {
		c->start = c->pos ? c->pos : 4; /* next() starts after the count */
		c->have = brain__meta_next(c->blob, c->len, &c->pos, &c->f);
	} while (c->have && skip_none && c->f.type == BRAIN_META_NONE);
}

/* Merge old and patch; with o, write the fields after a count. The blob's
 * size and field count either way. */
static size_t merge(const void *old, size_t old_len, const void *patch, size_t patch_len,
                    uint8_t *o, uint32_t *count)
{
	cursor a = {.blob = old, .len = old_len}, b = {.blob = patch, .len = patch_len};
	advance(&a, true);
	advance(&b, false);
	size_t bytes = 4;
	uint32_t n = 0;
	while (a.have || b.have) {
		int c = !a.have ? 1 : !b.have ? -1 : name_cmp(a.f.name, a.f.name_len, b.f.name,
		                                                b.f.name_len);
		cursor *from = NULL;
		if (c < 0) {
			from = &a;
		} else {
			if (c == 0)
				advance(&a, true); /* replaced or removed */
			if (b.f.type != BRAIN_META_NONE)
				from = &b;
			else
				advance(&b, false);
		}
		if (from) {
			size_t span = from->pos - from->start;
			if (o)
				memcpy(o + bytes, (const uint8_t *)from->blob + from->start, span);
			bytes += span;
			n++;
			advance(from, from == &a);
		}
	}
	if (o)
		wr32(o, n);
	*count = n;
	return bytes;
}

int brain__meta_patch(const void *old, size_t old_len, const void *patch, size_t patch_len,
                      brain_meta_blob *out)
{
	if (!out || !patch || (!old && old_len))
		return brain__err(BRAIN_ENULL, "metadata patch: a required pointer is NULL");
	uint32_t count;
	size_t bytes = merge(old, old_len, patch, patch_len, NULL, &count);
	if (count > BRAIN_META_FIELDS_MAX)
		return brain__err(BRAIN_ETOOLONG, "metadata patch: the result has %u fields, more "
		                  "than the limit of %d", count, BRAIN_META_FIELDS_MAX);
	if (bytes > BRAIN_META_BYTES_MAX)
		return brain__err(BRAIN_ETOOLONG, "metadata patch: the result takes %zu bytes, more "
		                  "than the limit of %d", bytes, BRAIN_META_BYTES_MAX);
	uint8_t *blob = brain__malloc(bytes);
	if (!blob)
		return brain__oom(bytes, "metadata patch");
	merge(old, old_len, patch, patch_len, blob, &count);
	out->data = blob;
	out->len = bytes;
	return BRAIN_OK;
}

int brain__meta_widen(const void *blob, size_t len, const bool *to_double, brain_meta_blob *out)
{
	/* an INT field (u8 type, name, i64) and a DOUBLE (u8 type, name, f64)
	 * take the same bytes: the copy differs only in those fields */
	uint8_t *copy = brain__malloc(len ? len : 1);
	if (!copy)
		return brain__oom(len, "metadata");
	memcpy(copy, blob, len);
	size_t pos = 0, i = 0, at = 4; /* past the count */
	brain_meta_field f;
	while (brain__meta_next(blob, len, &pos, &f)) {
		/* each field starts at `at`: its type byte, then the name */
		size_t value = at + 1 + 4 + f.name_len;
		if (f.type == BRAIN_META_INT && to_double[i]) {
			double d = (double)f.i;
			copy[at] = BRAIN_META_DOUBLE;
			memcpy(copy + value, &d, 8);
		}
		at = pos;
		i++;
	}
	out->data = copy;
	out->len = len;
	return BRAIN_OK;
}

int brain__meta_keep(const void *blob, size_t len, bool (*keep)(const brain_meta_field *f),
                     brain_meta_blob *out)
{
	/* a subset of sorted fields is sorted: the kept fields' bytes as they
	 * are, after a new count */
	const uint8_t *b = blob;
	uint8_t *copy = brain__malloc(len >= 4 ? len : 4);
	if (!copy)
		return brain__oom(len, "metadata");
	size_t pos = 0, at = 4, w = 4;
	uint32_t n = 0;
	brain_meta_field f;
	while (b && brain__meta_next(blob, len, &pos, &f)) {
		if (keep(&f)) {
			memcpy(copy + w, b + at, pos - at);
			w += pos - at;
			n++;
		}
		at = pos;
	}
	memcpy(copy, &n, 4);
	out->data = copy;
	out->len = w;
	return BRAIN_OK;
}

const char *brain__meta_type_plural(int type)
{
	switch (type) {
	case BRAIN_META_STRING: return "strings";
	case BRAIN_META_INT: return "integers";
	case BRAIN_META_DOUBLE: return "doubles";
	case BRAIN_META_BOOL: return "true/false";
	case BRAIN_META_LIST: return "lists of strings";
	default: return "nothing";
	}
}

const char *brain__meta_type_one(int type)
{
	switch (type) {
	case BRAIN_META_STRING: return "a string";
	case BRAIN_META_INT: return "an integer";
	case BRAIN_META_DOUBLE: return "a double";
	case BRAIN_META_BOOL: return "true/false";
	case BRAIN_META_LIST: return "a list of strings";
	default: return "nothing";
	}
}

int brain__meta_with(const void *blob, size_t len, const char *sname, const char *s,
                     size_t slen, const char *iname, int64_t i, brain_meta_blob *out)
{
	/* {"<sname>":"<s>","<iname>":<i>} as JSON (a string escapes to at most
	 * six bytes a byte), read as a patch of the caller's fields */
	size_t cap = 64 + strlen(sname) + (iname ? strlen(iname) : 0) + 6 * slen;
	char *json = brain__malloc(cap);
	if (!json)
		return brain__oom(cap, "metadata");
	brain_json_out w = {json, cap, 0, false};
	brain__json_put(&w, "{", 1);
	brain__json_put_string(&w, sname, strlen(sname));
	brain__json_put(&w, ":", 1);
	brain__json_put_string(&w, s, slen);
	if (iname) {
		char num[32];
		brain__json_put(&w, ",", 1);
		brain__json_put_string(&w, iname, strlen(iname));
		int n = snprintf(num, sizeof num, ":%" PRId64, i);
		brain__json_put(&w, num, (size_t)n);
	}
	brain__json_put(&w, "}", 1);
	size_t n = brain__json_end(&w);
	brain_meta_blob fields = {NULL, 0};
	int rc = brain__meta_from_json(json, n, false, &fields);
	brain__free(json);
	if (rc == BRAIN_OK && blob) {
		rc = brain__meta_patch(blob, len, fields.data, fields.len, out);
		brain__free(fields.data);
	} else if (rc == BRAIN_OK) {
		*out = fields;
	}
	return rc;
}
