/*
 * base/filter.c - the filter language of braincore/filter.h: the parser of
 * the text syntax, the builders, brain_filter_to_string(), and the
 * reference matcher and type check of base/filter_tree.h.
 *
 * The parser is a recursive descent over the grammar of the header. Its
 * recursion is bounded: each level of it is a parenthesis or a NOT, and
 * more than BRAIN_FILTER_DEPTH_MAX of those open at once is refused before
 * the next level is entered; chains of AND/OR are loops that collect the
 * kids into one wide node. Every node also keeps its depth, and no node
 * deeper than BRAIN_FILTER_DEPTH_MAX is ever made (by the parser or the
 * builders), so the functions that walk a finished tree may recurse.
 *
 * Lexing: white space is JSON's (space, tab, LF, CR). A number must not be
 * followed by a letter, digit, '_' or '.', so `01`, `1.` and `1x` are one
 * bad number rather than two tokens. The whole text is checked for UTF-8
 * and NUL bytes first, so the lexer may step over whole characters.
 *
 * brain_filter_to_string() writes keywords upper-case, true/false as the
 * header spells them, and parentheses only where the grammar needs them;
 * the result parses back to the same tree and is its own fixed point.
 *
 * Numbers: the integer grammar is converted by hand (exact int64 range). A
 * number with a fraction or exponent is rewritten without its '.' (all its
 * digits, then "e" and the exponent less the count of fraction digits) and
 * given to strtod: with no decimal point in the text, LC_NUMERIC cannot
 * change what strtod reads, and strtod rounds correctly. Printing uses
 * "%.17g" (which reads back as the same double) and turns whatever decimal
 * point the locale wrote back into '.'.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/filter_tree.h"
#include "base/json_lex.h"

/* ---- nodes -------------------------------------------------------------- */

BRAIN_EXPORT void brain_filter_free(brain_filter *f)
{
	if (!f)
		return;
	/* recursion is bounded by the depth every node keeps (<= DEPTH_MAX) */
	for (uint32_t i = 0; i < f->n_kids; i++)
		brain_filter_free(f->kids[i]);
	brain__free(f->kids);
	for (uint32_t i = 0; i < f->n_values; i++)
		brain__free(f->values[i].s);
	brain__free(f->values);
	brain__free(f->field);
	brain__free(f);
}

static brain_filter *node_new(int node, uint32_t pos)
{
	brain_filter *f = brain__calloc(1, sizeof *f);
	if (!f) {
		brain__oom(sizeof *f, "a filter");
		return NULL;
	}
	f->node = node;
	f->pos = pos;
	f->depth = 1;
	return f;
}

static void values_free(brain_filter_value *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		brain__free(v[i].s);
	brain__free(v);
}

/* A condition on field[0..field_len) with the n values (heap, taken over
 * whatever happens). NULL on out of memory, with the message set. */
static brain_filter *cond_new(int node, int op, size_t pos, const char *field, size_t field_len,
                              brain_filter_value *values, uint32_t n)
{
	brain_filter *f = node_new(node, (uint32_t)pos);
	char *name = f ? brain__strndup(field, field_len) : NULL;
	if (!name) {
		if (f)
			brain__oom(field_len + 1, "a filter's field name");
		brain__free(f);
		values_free(values, n);
		return NULL;
	}
	f->op = op;
	f->field = name;
	f->field_len = (uint32_t)field_len; /* at most BRAIN_META_NAME_MAX */
	f->values = values;
	f->n_values = n;
	return f;
}

/* Every kids array has room for at least kids_cap(n_kids) pointers (the
 * parser's and the builders' alike), so a chain of brain_filter_and()
 * calls appends in amortised constant time without a capacity field. */
static size_t kids_cap(size_t n)
{
	size_t cap = 2;
	while (cap < n)
		cap *= 2; /* n <= UINT32_MAX: no overflow in a size_t of 64 bits */
	return cap;
}

/* Make f->kids hold at least n pointers; false (message set) on failure. */
static bool kids_grow(brain_filter *f, size_t n)
{
	size_t have = f->kids ? kids_cap(f->n_kids) : 0;
	if (n <= have)
		return true;
	size_t cap = kids_cap(n), bytes;
	if (!brain__mul_ok(cap, sizeof *f->kids, &bytes)) {
		brain__oom(SIZE_MAX, "a filter's kids");
		return false;
	}
	brain_filter **k = brain__realloc(f->kids, bytes);
	if (!k) {
		brain__oom(bytes, "a filter's kids");
		return false;
	}
	f->kids = k;
	return true;
}

/* ---- text helpers -------------------------------------------------------- */

static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_name_char(unsigned char c)
{
	return is_alpha(c) || is_digit(c) || c == '.';
}

enum keyword { K_NONE, K_AND, K_OR, K_NOT, K_IN, K_CONTAINS, K_EXISTS, K_TRUE, K_FALSE };

static const char *const keywords[] = {
	NULL, "AND", "OR", "NOT", "IN", "CONTAINS", "EXISTS", "TRUE", "FALSE",
};

/* The keyword s[0..n) spells, in any case, or K_NONE. Plain ASCII folding:
 * <ctype.h> would follow the locale. */
static int keyword_of(const char *s, size_t n)
{
	for (int k = K_AND; k <= K_FALSE; k++) {
		const char *w = keywords[k];
		if (strlen(w) != n)
			continue;
		size_t i = 0;
		while (i < n) {
			unsigned char c = (unsigned char)s[i];
			if (c >= 'a' && c <= 'z')
				c = (unsigned char)(c - 'a' + 'A');
			if (c != (unsigned char)w[i])
				break;
			i++;
		}
		if (i == n)
			return k;
	}
	return K_NONE;
}

/* Can the name be written without backticks and read back as itself? */
static bool is_bare_name(const char *s, size_t n)
{
	if (n == 0 || !is_alpha((unsigned char)s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!is_name_char((unsigned char)s[i]))
			return false;
	return keyword_of(s, n) == K_NONE;
}

/* s[0..n) for a message: in backticks, at most `max` bytes of it (cut on a
 * character boundary, then "..."), control characters as \u00XX so the
 * message stays on one line. s is valid UTF-8; out has QUOTE_SIZE bytes
 * (the guard on room is a second line of defence, never reached). */
static void quote(char *out, size_t size, const char *s, size_t n, size_t max)
{
	static const char hex[] = "0123456789ABCDEF";
	bool cut = n > max;
	if (cut)
		n = brain__utf8_floor(s, max);
	size_t k = 0;
	/* room for the closing part: "...`" and the NUL */
	size_t room = size - 5;
	out[k++] = '`';
	for (size_t i = 0; i < n && k + 6 <= room; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7F) {
			memcpy(out + k, "\\u00", 4);
			out[k + 4] = hex[c >> 4];
			out[k + 5] = hex[c & 15];
			k += 6;
		} else {
			out[k++] = (char)c;
		}
	}
	if (cut) {
		memcpy(out + k, "...", 3);
		k += 3;
	}
	out[k++] = '`';
	out[k] = '\0';
}

/* Size of the buffers quote() writes: 48 bytes of text, each at most six
 * when escaped, and the frame. */
#define QUOTE_MAX 48
#define QUOTE_SIZE (QUOTE_MAX * 6 + 16)

/* ---- the lexer ----------------------------------------------------------- */

enum token_kind {
	T_END,
	T_WORD,    /* [A-Za-z_][A-Za-z0-9_.]*: a name or a keyword */
	T_NAME,    /* `...` */
	T_STRING,  /* "..." */
	T_NUMBER,
	T_OP,      /* = == != < <= > >= */
	T_LPAREN,
	T_RPAREN,
	T_LBRACKET,
	T_RBRACKET,
	T_COMMA,
	T_OTHER    /* one character that starts no token */
};

typedef struct token {
	int kind;
	int kw;        /* T_WORD: enum keyword */
	int op;        /* T_OP: enum brain_filter_op */
	bool is_int;   /* T_NUMBER: no fraction, no exponent */
	size_t start, end;
} token;

typedef struct parser {
	const char *s;
	size_t len;
	size_t at;      /* where the token after tok starts to be looked for */
	token tok;      /* the current token, not yet consumed */
	unsigned nest;  /* parentheses and NOTs open around the current token */
} parser;

static int fail_at(size_t pos, const char *fmt, ...) BRAIN_PRINTF(2, 3);

static int fail_at(size_t pos, const char *fmt, ...)
{
	char what[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	return brain__err(BRAIN_EFILTER, "filter: at byte %zu: %s", pos, what);
}

/* "the end" or the token in backticks. */
static const char *found(const parser *p, const token *t, char out[QUOTE_SIZE])
{
	if (t->kind == T_END)
		return "the end";
	quote(out, QUOTE_SIZE, p->s + t->start, t->end - t->start, QUOTE_MAX);
	return out;
}

/* "expected <what>, found <the current token>" at the current token. */
static int fail_expected(const parser *p, const char *what)
{
	char tmp[QUOTE_SIZE];
	const token *t = &p->tok;
	if (t->kind == T_WORD && t->kw != K_NONE)
		return fail_at(t->start, "expected %s, found the keyword %s", what, found(p, t, tmp));
	return fail_at(t->start, "expected %s, found %s", what, found(p, t, tmp));
}

/* Length of the character whose lead byte is c (the text is valid UTF-8). */
static size_t utf8_len(unsigned char c)
{
	return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

/* A number at s[i] ('-' or a digit): the JSON grammar, then a character
 * that cannot continue a name or a number, so that `01`, `1.` and `1x` are
 * refused whole instead of splitting into two tokens. */
static int lex_number(parser *p, size_t i, token *t)
{
	const unsigned char *u = (const unsigned char *)p->s;
	size_t len = p->len, j = i;
	bool ok = true, is_int = true;
	if (u[j] == '-')
		j++;
	if (j < len && u[j] == '0') {
		j++;
	} else if (j < len && is_digit(u[j])) {
		while (j < len && is_digit(u[j]))
			j++;
	} else {
		ok = false;
	}
	if (ok && j < len && u[j] == '.') {
		is_int = false;
		j++;
		if (j < len && is_digit(u[j]))
			while (j < len && is_digit(u[j]))
				j++;
		else
			ok = false;
	}
	if (ok && j < len && (u[j] == 'e' || u[j] == 'E')) {
		is_int = false;
		j++;
		if (j < len && (u[j] == '+' || u[j] == '-'))
			j++;
		if (j < len && is_digit(u[j]))
			while (j < len && is_digit(u[j]))
				j++;
		else
			ok = false;
	}
	if (ok && j < len && is_name_char(u[j]))
		ok = false;
	if (!ok) {
		/* show the whole run the reader would take for the number */
		size_t e = i + 1;
		while (e < len && (is_name_char(u[e]) || u[e] == '+' || u[e] == '-'))
			e++;
		char tmp[QUOTE_SIZE];
		quote(tmp, sizeof tmp, p->s + i, e - i, QUOTE_MAX);
		return fail_at(i, "expected a number (JSON: -?(0|[1-9][0-9]*)(.[0-9]+)?"
		               "([eE][+-]?[0-9]+)?), found %s", tmp);
	}
	t->kind = T_NUMBER;
	t->is_int = is_int;
	t->end = j;
	return BRAIN_OK;
}

/* Read the token after the current one into p->tok. */
static int advance(parser *p)
{
	const char *s = p->s;
	const unsigned char *u = (const unsigned char *)s;
	size_t len = p->len, i = p->at;
	while (i < len && (u[i] == ' ' || u[i] == '\t' || u[i] == '\n' || u[i] == '\r'))
		i++;
	token *t = &p->tok;
	memset(t, 0, sizeof *t);
	t->start = i;
	t->end = i;
	if (i == len) {
		t->kind = T_END;
		p->at = i;
		return BRAIN_OK;
	}
	unsigned char c = u[i];
	size_t j = i + 1;
	if (is_alpha(c)) {
		while (j < len && is_name_char(u[j]))
			j++;
		t->kind = T_WORD;
		t->kw = keyword_of(s + i, j - i);
	} else if (c == '`') {
		for (;;) {
			if (j >= len)
				return fail_at(i, "unterminated name: expected a closing backtick, "
				               "found the end");
			if (u[j] == '`') {
				if (j + 1 < len && u[j + 1] == '`') {
					j += 2; /* `` stands for one backtick */
					continue;
				}
				j++;
				break;
			}
			j++;
		}
		t->kind = T_NAME;
	} else if (c == '"') {
		/* only the extent here; the escapes are decoded (and checked)
		 * when the string is taken as a value */
		for (;;) {
			if (j >= len)
				return fail_at(i, "unterminated string: expected a closing `\"`, "
				               "found the end");
			if (u[j] == '\\') {
				j += 2;
				if (j > len)
					j = len;
				continue;
			}
			j++;
			if (u[j - 1] == '"')
				break;
		}
		t->kind = T_STRING;
	} else if (c == '-' || is_digit(c)) {
		int rc = lex_number(p, i, t);
		if (rc)
			return rc;
		j = t->end;
	} else if (c == '=' || c == '<' || c == '>' || (c == '!' && j < len && u[j] == '=')) {
		bool eq = j < len && u[j] == '=';
		t->kind = T_OP;
		t->op = c == '=' ? BRAIN_FILTER_EQ
		      : c == '!' ? BRAIN_FILTER_NE
		      : c == '<' ? (eq ? BRAIN_FILTER_LE : BRAIN_FILTER_LT)
		                 : (eq ? BRAIN_FILTER_GE : BRAIN_FILTER_GT);
		if (eq)
			j++;
	} else if (c == '(' || c == ')' || c == '[' || c == ']' || c == ',') {
		t->kind = c == '(' ? T_LPAREN : c == ')' ? T_RPAREN : c == '[' ? T_LBRACKET
		        : c == ']' ? T_RBRACKET : T_COMMA;
	} else {
		t->kind = T_OTHER;
		j = i + utf8_len(c);
		if (j > len)
			j = len;
	}
	t->end = j;
	p->at = j;
	return BRAIN_OK;
}

static bool is_kw(const token *t, int kw)
{
	return t->kind == T_WORD && t->kw == kw;
}

/* ---- literals ------------------------------------------------------------ */

/* Decode the string token t (quotes included) as JSON: a new buffer, NUL
 * terminated, that may hold NULs of its own. Escapes only shrink, so the
 * body's length bounds the result. The text is valid UTF-8 and escapes
 * give whole scalar values, so the result is valid UTF-8 too. */
static int decode_string(const parser *p, const token *t, char **out, uint32_t *out_len)
{
	const char *s = p->s;
	size_t body = t->start + 1, end = t->end - 1; /* the closing quote */
	char *d = brain__malloc(end - body + 1);
	if (!d)
		return brain__oom(end - body + 1, "a filter string");
	size_t k = 0, i = body;
	int rc = BRAIN_OK;
	while (i < end && rc == BRAIN_OK) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20) {
			rc = fail_at(i, "expected a character or an escape in a string, found the "
			             "control character U+%04X (write it as an escape)", c);
			break;
		}
		if (c != '\\') {
			d[k++] = (char)c;
			i++;
			continue;
		}
		/* the lexer skipped the byte after every backslash, so one is here */
		char e = s[i + 1];
		const char *simple = strchr("\"\\/bfnrt", e);
		if (e != '\0' && simple) {
			static const char to[] = "\"\\/\b\f\n\r\t";
			d[k++] = to[simple - "\"\\/bfnrt"];
			i += 2;
			continue;
		}
		uint32_t cp, lo;
		if (e != 'u') {
			char tmp[QUOTE_SIZE];
			quote(tmp, sizeof tmp, s + i, 1 + utf8_len((unsigned char)e), QUOTE_MAX);
			rc = fail_at(i, "expected an escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX), "
			             "found %s", tmp);
			break;
		}
		if (end - i < 6 || brain__json_hex4(s + i + 2, &cp) != 0) {
			char tmp[QUOTE_SIZE];
			quote(tmp, sizeof tmp, s + i, BRAIN_MIN(end - i, (size_t)6), QUOTE_MAX);
			rc = fail_at(i, "expected four hex digits after \\u, found %s", tmp);
			break;
		}
		size_t used = 6;
		if (cp >= 0xDC00 && cp <= 0xDFFF) {
			rc = fail_at(i, "expected a Unicode scalar value, found the lone low "
			             "surrogate \\u%04X", (unsigned)cp);
			break;
		}
		if (cp >= 0xD800 && cp <= 0xDBFF) {
			if (end - i < 12 || s[i + 6] != '\\' || s[i + 7] != 'u' ||
			    brain__json_hex4(s + i + 8, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF) {
				rc = fail_at(i, "expected a low surrogate escape (\\uDC00-\\uDFFF) after "
				             "the high surrogate \\u%04X, found none", (unsigned)cp);
				break;
			}
			cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			used = 12;
		}
		k += brain__utf8_put(d + k, cp);
		i += used;
	}
	if (rc) {
		brain__free(d);
		return rc;
	}
	d[k] = '\0';
	*out = d;
	*out_len = (uint32_t)k; /* below BRAIN_FILTER_TEXT_MAX */
	return BRAIN_OK;
}

/* The integer token t, exactly, or "out of range". */
static int number_int(const parser *p, const token *t, int64_t *out)
{
	if (brain__json_int(p->s + t->start, t->end - t->start, out) == 0)
		return BRAIN_OK;
	char tmp[QUOTE_SIZE];
	return fail_at(t->start, "integer out of range: expected -9223372036854775808"
	               "..9223372036854775807, found %s", found(p, t, tmp));
}

/* The double token t (base/json_lex.c: whatever the locale). */
static int number_double(const parser *p, const token *t, double *out)
{
	int rc = brain__json_double(p->s + t->start, t->end - t->start, out);
	if (rc == 0)
		return BRAIN_OK;
	if (rc != -1)
		return rc;
	char tmp[QUOTE_SIZE];
	return fail_at(t->start, "expected a finite number, found %s", found(p, t, tmp));
}

/* The current token as a value; consumes it. */
static int parse_value(parser *p, brain_filter_value *v)
{
	const token *t = &p->tok;
	memset(v, 0, sizeof *v);
	int rc;
	if (t->kind == T_STRING) {
		v->type = BRAIN_META_STRING;
		rc = decode_string(p, t, &v->s, &v->len);
	} else if (t->kind == T_NUMBER && t->is_int) {
		v->type = BRAIN_META_INT;
		rc = number_int(p, t, &v->i);
	} else if (t->kind == T_NUMBER) {
		v->type = BRAIN_META_DOUBLE;
		rc = number_double(p, t, &v->d);
	} else if (is_kw(t, K_TRUE) || is_kw(t, K_FALSE)) {
		v->type = BRAIN_META_BOOL;
		v->b = t->kw == K_TRUE;
		rc = BRAIN_OK;
	} else {
		return fail_expected(p, "a value (a string, a number, true or false)");
	}
	if (rc == BRAIN_OK)
		rc = advance(p);
	if (rc) {
		brain__free(v->s);
		v->s = NULL;
	}
	return rc;
}

/* ---- the parser ---------------------------------------------------------- */

/* The field name of the current token (a word that is no keyword, or a
 * backticked name): a new string in *name. Does not consume it. */
static int parse_field(const parser *p, char **name, size_t *len)
{
	const token *t = &p->tok;
	const char *s = p->s;
	size_t n;
	char *d;
	if (t->kind == T_WORD && t->kw == K_NONE) {
		n = t->end - t->start;
		if (n > BRAIN_META_NAME_MAX)
			return fail_at(t->start, "expected a field name of at most %d bytes, found "
			               "%zu bytes", BRAIN_META_NAME_MAX, n);
		d = brain__strndup(s + t->start, n);
		if (!d)
			return brain__oom(n + 1, "a filter's field name");
	} else if (t->kind == T_NAME) {
		size_t body = t->start + 1, end = t->end - 1;
		d = brain__malloc(end - body + 1);
		if (!d)
			return brain__oom(end - body + 1, "a filter's field name");
		n = 0;
		for (size_t i = body; i < end; i++) {
			d[n++] = s[i];
			if (s[i] == '`')
				i++; /* the second of a doubled backtick */
		}
		d[n] = '\0';
		if (n == 0 || n > BRAIN_META_NAME_MAX) {
			brain__free(d);
			return fail_at(t->start, "expected a field name of 1 to %d bytes in backticks, "
			               "found %zu bytes", BRAIN_META_NAME_MAX, n);
		}
	} else if (t->kind == T_WORD) {
		char tmp[QUOTE_SIZE];
		return fail_at(t->start, "expected a field, NOT or `(`, found the keyword %s (a "
		               "field of that name needs backticks)", found(p, t, tmp));
	} else {
		return fail_expected(p, "a field, NOT or `(`");
	}
	*name = d;
	*len = n;
	return BRAIN_OK;
}

/* The values of an IN list; the current token is its opening bracket. */
static int parse_in_list(parser *p, brain_filter_value **out, uint32_t *out_n)
{
	bool paren = p->tok.kind == T_LPAREN;
	int close = paren ? T_RPAREN : T_RBRACKET;
	brain_filter_value *v = NULL;
	size_t n = 0, cap = 0;
	int rc = advance(p);
	while (rc == BRAIN_OK) {
		if (n == BRAIN_FILTER_IN_MAX) {
			rc = fail_at(p->tok.start, "expected at most %d values in an IN list, found "
			             "more", BRAIN_FILTER_IN_MAX);
			break;
		}
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 4;
			brain_filter_value *g = brain__realloc(v, ncap * sizeof *v);
			if (!g) {
				rc = brain__oom(ncap * sizeof *v, "a filter's IN list");
				break;
			}
			v = g;
			cap = ncap;
		}
		rc = parse_value(p, &v[n]);
		if (rc)
			break;
		n++;
		if (p->tok.kind == T_COMMA) {
			rc = advance(p);
		} else if (p->tok.kind == close) {
			rc = advance(p);
			break;
		} else {
			rc = fail_expected(p, paren ? "`,` or `)`" : "`,` or `]`");
		}
	}
	if (rc) {
		values_free(v, n);
		return rc;
	}
	*out = v;
	*out_n = (uint32_t)n;
	return BRAIN_OK;
}

/* field cond, the field at the current token. */
static int parse_condition(parser *p, brain_filter **out)
{
	size_t pos = p->tok.start, field_len = 0;
	char *field = NULL;
	int rc = parse_field(p, &field, &field_len);
	if (rc == BRAIN_OK)
		rc = advance(p);
	if (rc) {
		brain__free(field);
		return rc;
	}
	const token *t = &p->tok;
	int node, op = 0;
	brain_filter_value *values = NULL;
	uint32_t n = 0;
	if (t->kind == T_OP || is_kw(t, K_CONTAINS)) {
		node = t->kind == T_OP ? BRAIN_FILTER_CMP : BRAIN_FILTER_CONTAINS;
		op = t->op;
		rc = advance(p);
		if (rc == BRAIN_OK && node == BRAIN_FILTER_CONTAINS && t->kind != T_STRING)
			rc = fail_expected(p, "a string after CONTAINS");
		if (rc == BRAIN_OK) {
			values = brain__calloc(1, sizeof *values);
			rc = values ? parse_value(p, values) : brain__oom(sizeof *values, "a filter");
			if (rc == BRAIN_OK)
				n = 1;
		}
	} else if (is_kw(t, K_IN)) {
		node = BRAIN_FILTER_IN;
		rc = advance(p);
		if (rc == BRAIN_OK) {
			if (t->kind == T_LPAREN || t->kind == T_LBRACKET)
				rc = parse_in_list(p, &values, &n);
			else
				rc = fail_expected(p, "`(` or `[` after IN");
		}
	} else if (is_kw(t, K_EXISTS)) {
		node = BRAIN_FILTER_EXISTS;
		rc = advance(p);
	} else {
		char name[QUOTE_SIZE];
		quote(name, sizeof name, field, field_len, QUOTE_MAX);
		char tmp[QUOTE_SIZE];
		rc = fail_at(t->start, "expected a comparison (= != < <= > >= IN CONTAINS EXISTS) "
		             "after field %s, found %s", name, found(p, t, tmp));
		node = 0;
	}
	if (rc) {
		brain__free(field);
		values_free(values, n);
		return rc;
	}
	brain_filter *f = cond_new(node, op, pos, field, field_len, values, n);
	brain__free(field);
	if (!f)
		return BRAIN_ENOMEM;
	*out = f;
	return BRAIN_OK;
}

/* The kids of one AND or OR being collected. */
typedef struct kid_list {
	brain_filter **v;
	size_t n, cap;
} kid_list;

/* Add k to the list (k's own kids instead when k is of the list's node:
 * flattened); takes k over whatever happens. */
static int kids_add(kid_list *l, brain_filter *k, int node)
{
	size_t add = k->node == node ? k->n_kids : 1, need;
	if (!brain__add_ok(l->n, add, &need) || need > UINT32_MAX) {
		brain_filter_free(k);
		return brain__err(BRAIN_ETOOLONG, "filter: more than %u kids in one node", UINT32_MAX);
	}
	if (need > l->cap) {
		size_t cap = kids_cap(need);
		brain_filter **g = brain__realloc(l->v, cap * sizeof *g);
		if (!g) {
			brain_filter_free(k);
			return brain__oom(cap * sizeof *g, "a filter's kids");
		}
		l->v = g;
		l->cap = cap;
	}
	if (k->node == node) {
		memcpy(l->v + l->n, k->kids, add * sizeof *k->kids);
		brain__free(k->kids);
		brain__free(k);
	} else {
		l->v[l->n] = k;
	}
	l->n = need;
	return BRAIN_OK;
}

static int parse_factor(parser *p, brain_filter **out);
static int parse_chain(parser *p, int node, brain_filter **out);

/* expr (node OR): terms joined by OR; term (node AND): factors joined by
 * AND. A loop, not a recursion, so a long chain makes one wide node. */
static int parse_chain(parser *p, int node, brain_filter **out)
{
	int kw = node == BRAIN_FILTER_OR ? K_OR : K_AND;
	size_t start = p->tok.start;
	brain_filter *k = NULL;
	int rc = node == BRAIN_FILTER_OR ? parse_chain(p, BRAIN_FILTER_AND, &k) : parse_factor(p, &k);
	if (rc)
		return rc;
	if (!is_kw(&p->tok, kw)) {
		*out = k;
		return BRAIN_OK;
	}
	kid_list l = {NULL, 0, 0};
	rc = kids_add(&l, k, node);
	while (rc == BRAIN_OK && is_kw(&p->tok, kw)) {
		rc = advance(p);
		if (rc == BRAIN_OK)
			rc = node == BRAIN_FILTER_OR ? parse_chain(p, BRAIN_FILTER_AND, &k)
			                             : parse_factor(p, &k);
		if (rc == BRAIN_OK)
			rc = kids_add(&l, k, node);
	}
	uint32_t depth = 0;
	for (size_t i = 0; rc == BRAIN_OK && i < l.n; i++)
		depth = BRAIN_MAX(depth, l.v[i]->depth);
	if (rc == BRAIN_OK && depth + 1 > BRAIN_FILTER_DEPTH_MAX)
		rc = fail_at(start, "expected at most %d levels of nesting, found more",
		             BRAIN_FILTER_DEPTH_MAX);
	brain_filter *f = NULL;
	if (rc == BRAIN_OK) {
		f = node_new(node, (uint32_t)start);
		if (!f)
			rc = BRAIN_ENOMEM;
	}
	if (rc) {
		for (size_t i = 0; i < l.n; i++)
			brain_filter_free(l.v[i]);
		brain__free(l.v);
		return rc;
	}
	f->kids = l.v;
	f->n_kids = (uint32_t)l.n;
	f->depth = depth + 1;
	*out = f;
	return BRAIN_OK;
}

/* NOT factor | ( expr ) | field cond. Each NOT and parenthesis is one
 * level of recursion, counted in p->nest and refused past DEPTH_MAX. */
static int parse_factor(parser *p, brain_filter **out)
{
	const token *t = &p->tok;
	size_t start = t->start;
	bool is_not = is_kw(t, K_NOT);
	if (!is_not && t->kind != T_LPAREN)
		return parse_condition(p, out);
	if (p->nest >= BRAIN_FILTER_DEPTH_MAX)
		return fail_at(start, "expected at most %d nested parentheses and NOTs, found more",
		               BRAIN_FILTER_DEPTH_MAX);
	p->nest++;
	brain_filter *k = NULL;
	int rc = advance(p);
	if (rc == BRAIN_OK)
		rc = is_not ? parse_factor(p, &k) : parse_chain(p, BRAIN_FILTER_OR, &k);
	if (rc == BRAIN_OK && !is_not)
		rc = t->kind == T_RPAREN ? advance(p) : fail_expected(p, "AND, OR or `)`");
	p->nest--;
	if (rc == BRAIN_OK && is_not && k->depth + 1 > BRAIN_FILTER_DEPTH_MAX)
		rc = fail_at(start, "expected at most %d levels of nesting, found more",
		             BRAIN_FILTER_DEPTH_MAX);
	if (rc) {
		brain_filter_free(k);
		return rc;
	}
	if (!is_not) {
		*out = k;
		return BRAIN_OK;
	}
	brain_filter *f = node_new(BRAIN_FILTER_NOT, (uint32_t)start);
	brain_filter **kids = f ? brain__malloc(kids_cap(1) * sizeof *kids) : NULL;
	if (!kids) {
		if (f)
			brain__oom(kids_cap(1) * sizeof *kids, "a filter");
		brain__free(f);
		brain_filter_free(k);
		return BRAIN_ENOMEM;
	}
	kids[0] = k;
	f->kids = kids;
	f->n_kids = 1;
	f->depth = k->depth + 1;
	*out = f;
	return BRAIN_OK;
}

BRAIN_EXPORT int brain_filter_parse_len(const char *text, size_t len, brain_filter **out)
{
	if (out)
		*out = NULL;
	if (!text || !out)
		return brain__err(BRAIN_ENULL, "filter: %s is NULL", text ? "out" : "text");
	if (len > BRAIN_FILTER_TEXT_MAX)
		return brain__err(BRAIN_ETOOLONG, "filter: the text is %zu bytes, over the limit of %u",
		                  len, BRAIN_FILTER_TEXT_MAX);
	size_t bad = 0;
	if (!brain__utf8_valid(text, len, &bad))
		return brain__err(BRAIN_EUTF8, "filter: at byte %zu: expected UTF-8, found the byte "
		                  "0x%02X", bad, (unsigned char)text[bad]);
	const char *nul = memchr(text, '\0', len);
	if (nul)
		return brain__err(BRAIN_EFILTER, "filter: at byte %zu: expected text, found a NUL byte",
		                  (size_t)(nul - text));
	parser p = {.s = text, .len = len};
	brain_filter *f = NULL;
	int rc = advance(&p);
	if (rc == BRAIN_OK)
		rc = parse_chain(&p, BRAIN_FILTER_OR, &f);
	if (rc == BRAIN_OK && p.tok.kind != T_END)
		rc = fail_expected(&p, "AND, OR or the end");
	if (rc) {
		brain_filter_free(f);
		return rc;
	}
	*out = f;
	return BRAIN_OK;
}

BRAIN_EXPORT int brain_filter_parse(const char *text, brain_filter **out)
{
	if (out)
		*out = NULL;
	if (!text || !out)
		return brain__err(BRAIN_ENULL, "filter: %s is NULL", text ? "out" : "text");
	/* strnlen: a text past the limit is not walked to its end */
	size_t len = strnlen(text, (size_t)BRAIN_FILTER_TEXT_MAX + 1);
	if (len > BRAIN_FILTER_TEXT_MAX)
		return brain__err(BRAIN_ETOOLONG, "filter: the text is over the limit of %u bytes",
		                  BRAIN_FILTER_TEXT_MAX);
	return brain_filter_parse_len(text, len, out);
}

/* ---- builders ------------------------------------------------------------ */

/* The field argument of a builder: not NULL, 1..NAME_MAX bytes, UTF-8. */
static bool builder_field(const char *verb, const char *field, size_t *len)
{
	if (!field) {
		brain__err(BRAIN_ENULL, "%s: the field is NULL", verb);
		return false;
	}
	size_t n = strnlen(field, (size_t)BRAIN_META_NAME_MAX + 1), bad = 0;
	if (n == 0) {
		brain__err(BRAIN_EINVAL, "%s: the field name is empty", verb);
		return false;
	}
	if (n > BRAIN_META_NAME_MAX) {
		brain__err(BRAIN_ETOOLONG, "%s: the field name is over %d bytes", verb,
		           BRAIN_META_NAME_MAX);
		return false;
	}
	if (!brain__utf8_valid(field, n, &bad)) {
		brain__err(BRAIN_EUTF8, "%s: the field name is not valid UTF-8 (at byte %zu)", verb, bad);
		return false;
	}
	*len = n;
	return true;
}

/* A string argument as a literal (a copy in v->s). */
static bool builder_string(const char *verb, const char *value, brain_filter_value *v)
{
	if (!value) {
		brain__err(BRAIN_ENULL, "%s: the value is NULL", verb);
		return false;
	}
	size_t n = strlen(value), bad = 0;
	if (n > UINT32_MAX) {
		brain__err(BRAIN_ETOOLONG, "%s: the value is over %u bytes", verb, UINT32_MAX);
		return false;
	}
	if (!brain__utf8_valid(value, n, &bad)) {
		brain__err(BRAIN_EUTF8, "%s: the value is not valid UTF-8 (at byte %zu)", verb, bad);
		return false;
	}
	memset(v, 0, sizeof *v);
	v->type = BRAIN_META_STRING;
	v->s = brain__strndup(value, n);
	if (!v->s) {
		brain__oom(n + 1, "a filter string");
		return false;
	}
	v->len = (uint32_t)n;
	return true;
}

/* The op argument; `unordered` names the values that only take = and !=
 * (NULL: numbers, any op). */
static bool builder_op(const char *verb, int op, const char *unordered)
{
	if (op < BRAIN_FILTER_EQ || op > BRAIN_FILTER_GE) {
		brain__err(BRAIN_EINVAL, "%s: op %d is not a comparison (BRAIN_FILTER_EQ..GE)", verb, op);
		return false;
	}
	if (unordered && op != BRAIN_FILTER_EQ && op != BRAIN_FILTER_NE) {
		brain__err(BRAIN_EFILTER, "%s: %s are not ordered: the op must be BRAIN_FILTER_EQ or "
		           "BRAIN_FILTER_NE", verb, unordered);
		return false;
	}
	return true;
}

/* A condition with one value (its string, if any, taken over). */
static brain_filter *cond_one(int node, int op, const char *field, size_t field_len,
                              brain_filter_value *v)
{
	brain_filter_value *values = brain__malloc(sizeof *values);
	if (!values) {
		brain__free(v->s);
		brain__oom(sizeof *values, "a filter");
		return NULL;
	}
	values[0] = *v;
	return cond_new(node, op, 0, field, field_len, values, 1);
}

BRAIN_EXPORT brain_filter *brain_filter_string(const char *field, int op, const char *value)
{
	const char *verb = "filter_string";
	size_t n;
	brain_filter_value v;
	if (!builder_field(verb, field, &n) || !builder_op(verb, op, "strings") ||
	    !builder_string(verb, value, &v))
		return NULL;
	return cond_one(BRAIN_FILTER_CMP, op, field, n, &v);
}

BRAIN_EXPORT brain_filter *brain_filter_int(const char *field, int op, int64_t value)
{
	const char *verb = "filter_int";
	size_t n;
	if (!builder_field(verb, field, &n) || !builder_op(verb, op, NULL))
		return NULL;
	brain_filter_value v = {.type = BRAIN_META_INT, .i = value};
	return cond_one(BRAIN_FILTER_CMP, op, field, n, &v);
}

BRAIN_EXPORT brain_filter *brain_filter_double(const char *field, int op, double value)
{
	const char *verb = "filter_double";
	size_t n;
	if (!builder_field(verb, field, &n) || !builder_op(verb, op, NULL))
		return NULL;
	if (!isfinite(value)) {
		brain__err(BRAIN_EINVAL, "%s: the value is not finite", verb);
		return NULL;
	}
	brain_filter_value v = {.type = BRAIN_META_DOUBLE, .d = value};
	return cond_one(BRAIN_FILTER_CMP, op, field, n, &v);
}

BRAIN_EXPORT brain_filter *brain_filter_bool(const char *field, int op, int value)
{
	const char *verb = "filter_bool";
	size_t n;
	if (!builder_field(verb, field, &n) || !builder_op(verb, op, "bools"))
		return NULL;
	if (value != 0 && value != 1) {
		brain__err(BRAIN_EINVAL, "%s: the value is %d, not 0 or 1", verb, value);
		return NULL;
	}
	brain_filter_value v = {.type = BRAIN_META_BOOL, .b = value == 1};
	return cond_one(BRAIN_FILTER_CMP, op, field, n, &v);
}

/* The values array of an IN builder, n checked. */
static brain_filter_value *builder_in(const char *verb, const void *values, size_t n)
{
	if (!values) {
		brain__err(BRAIN_ENULL, "%s: the values are NULL", verb);
		return NULL;
	}
	if (n == 0 || n > BRAIN_FILTER_IN_MAX) {
		brain__err(n ? BRAIN_ETOOLONG : BRAIN_EINVAL, "%s: %zu values (an IN list holds 1 to %d)",
		           verb, n, BRAIN_FILTER_IN_MAX);
		return NULL;
	}
	brain_filter_value *v = brain__calloc(n, sizeof *v);
	if (!v)
		brain__oom(n * sizeof *v, "a filter's IN list");
	return v;
}

BRAIN_EXPORT brain_filter *brain_filter_in_strings(const char *field, const char *const *values,
                                                   size_t n)
{
	const char *verb = "filter_in_strings";
	size_t len;
	if (!builder_field(verb, field, &len))
		return NULL;
	brain_filter_value *v = builder_in(verb, values, n);
	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (!builder_string(verb, values[i], &v[i])) {
			values_free(v, i);
			return NULL;
		}
	}
	return cond_new(BRAIN_FILTER_IN, 0, 0, field, len, v, (uint32_t)n);
}

BRAIN_EXPORT brain_filter *brain_filter_in_ints(const char *field, const int64_t *values, size_t n)
{
	const char *verb = "filter_in_ints";
	size_t len;
	if (!builder_field(verb, field, &len))
		return NULL;
	brain_filter_value *v = builder_in(verb, values, n);
	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		v[i].type = BRAIN_META_INT;
		v[i].i = values[i];
	}
	return cond_new(BRAIN_FILTER_IN, 0, 0, field, len, v, (uint32_t)n);
}

BRAIN_EXPORT brain_filter *brain_filter_contains(const char *field, const char *value)
{
	const char *verb = "filter_contains";
	size_t n;
	brain_filter_value v;
	if (!builder_field(verb, field, &n) || !builder_string(verb, value, &v))
		return NULL;
	return cond_one(BRAIN_FILTER_CONTAINS, 0, field, n, &v);
}

BRAIN_EXPORT brain_filter *brain_filter_exists(const char *field)
{
	size_t n;
	if (!builder_field("filter_exists", field, &n))
		return NULL;
	return cond_new(BRAIN_FILTER_EXISTS, 0, 0, field, n, NULL, 0);
}

/* a AND b / a OR b, flattened: a kid of the same node gives its kids. A
 * NULL operand leaves the message of the builder that failed. */
static brain_filter *combine(const char *verb, int node, brain_filter *a, brain_filter *b)
{
	if (!a || !b) {
		brain_filter_free(a);
		brain_filter_free(b);
		return NULL;
	}
	if (a == b) {
		/* owning one filter twice would free it twice */
		brain_filter_free(a);
		brain__err(BRAIN_EINVAL, "%s: both operands are the same filter", verb);
		return NULL;
	}
	size_t na = a->node == node ? a->n_kids : 1, nb = b->node == node ? b->n_kids : 1;
	uint32_t da = a->node == node ? a->depth : a->depth + 1;
	uint32_t db = b->node == node ? b->depth : b->depth + 1;
	uint32_t depth = BRAIN_MAX(da, db);
	if (depth > BRAIN_FILTER_DEPTH_MAX || na + nb > UINT32_MAX) {
		brain_filter_free(a);
		brain_filter_free(b);
		if (depth > BRAIN_FILTER_DEPTH_MAX)
			brain__err(BRAIN_EFILTER, "%s: nesting deeper than BRAIN_FILTER_DEPTH_MAX (%d)", verb,
			           BRAIN_FILTER_DEPTH_MAX);
		else
			brain__err(BRAIN_ETOOLONG, "%s: more than %u kids in one node", verb, UINT32_MAX);
		return NULL;
	}
	brain_filter *f;
	if (a->node == node) {
		/* append b (or its kids) to a */
		f = a;
		if (!kids_grow(f, na + nb))
			goto oom;
		if (b->node == node) {
			memcpy(f->kids + na, b->kids, nb * sizeof *b->kids);
			brain__free(b->kids);
			brain__free(b);
		} else {
			f->kids[na] = b;
		}
	} else if (b->node == node) {
		/* a goes first among b's kids */
		f = b;
		if (!kids_grow(f, na + nb))
			goto oom;
		memmove(f->kids + 1, f->kids, nb * sizeof *f->kids);
		f->kids[0] = a;
	} else {
		f = node_new(node, 0);
		if (!f)
			goto oom;
		if (!kids_grow(f, 2)) {
			brain__free(f);
			goto oom;
		}
		f->kids[0] = a;
		f->kids[1] = b;
	}
	f->n_kids = (uint32_t)(na + nb);
	f->depth = depth;
	return f;
oom:
	brain_filter_free(a);
	brain_filter_free(b);
	return NULL;
}

BRAIN_EXPORT brain_filter *brain_filter_and(brain_filter *a, brain_filter *b)
{
	return combine("filter_and", BRAIN_FILTER_AND, a, b);
}

BRAIN_EXPORT brain_filter *brain_filter_or(brain_filter *a, brain_filter *b)
{
	return combine("filter_or", BRAIN_FILTER_OR, a, b);
}

BRAIN_EXPORT brain_filter *brain_filter_not(brain_filter *a)
{
	if (!a)
		return NULL; /* the failed builder's message stays */
	if (a->depth + 1 > BRAIN_FILTER_DEPTH_MAX) {
		brain_filter_free(a);
		brain__err(BRAIN_EFILTER, "filter_not: nesting deeper than BRAIN_FILTER_DEPTH_MAX (%d)",
		           BRAIN_FILTER_DEPTH_MAX);
		return NULL;
	}
	brain_filter *f = node_new(BRAIN_FILTER_NOT, 0);
	if (!f || !kids_grow(f, 1)) {
		brain__free(f);
		brain_filter_free(a);
		return NULL;
	}
	f->kids[0] = a;
	f->n_kids = 1;
	f->depth = a->depth + 1;
	return f;
}

/* ---- to_string ----------------------------------------------------------- */

/* snprintf-like output: bytes are copied while the whole text still fits
 * with its NUL; the length is counted regardless. */
typedef brain_json_out writer;

static void put(writer *w, const char *s, size_t n)
{
	brain__json_put(w, s, n);
}

static void put_s(writer *w, const char *s)
{
	put(w, s, strlen(s));
}

static void put_field(writer *w, const char *name, size_t n)
{
	if (is_bare_name(name, n)) {
		put(w, name, n);
		return;
	}
	put(w, "`", 1);
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		if (name[i] != '`')
			continue;
		put(w, name + run, i + 1 - run); /* up to and with the backtick */
		put(w, "`", 1);                  /* doubled */
		run = i + 1;
	}
	put(w, name + run, n - run);
	put(w, "`", 1);
}

static void put_value(writer *w, const brain_filter_value *v)
{
	char num[32];
	switch (v->type) {
	case BRAIN_META_STRING:
		brain__json_put_string(w, v->s, v->len);
		break;
	case BRAIN_META_INT: {
		int n = snprintf(num, sizeof num, "%" PRId64, v->i);
		put(w, num, n > 0 ? (size_t)n : 0);
		break;
	}
	case BRAIN_META_DOUBLE:
		brain__json_put_double(w, v->d);
		break;
	default:
		put_s(w, v->b ? "true" : "false");
		break;
	}
}

static const char *op_text(int op)
{
	switch (op) {
	case BRAIN_FILTER_EQ:
		return "=";
	case BRAIN_FILTER_NE:
		return "!=";
	case BRAIN_FILTER_LT:
		return "<";
	case BRAIN_FILTER_LE:
		return "<=";
	case BRAIN_FILTER_GT:
		return ">";
	default:
		return ">=";
	}
}

/* Parentheses only where the grammar needs them: an OR inside an AND, an
 * AND or OR under NOT. Each of them belongs to a node deeper than the
 * root, so the text never nests more than the tree is deep and always
 * reads back (the parser's limit on parentheses and NOTs is the tree's). */
static void put_filter(writer *w, const brain_filter *f)
{
	switch (f->node) {
	case BRAIN_FILTER_AND:
	case BRAIN_FILTER_OR:
		for (uint32_t i = 0; i < f->n_kids; i++) {
			const brain_filter *k = f->kids[i];
			if (i)
				put_s(w, f->node == BRAIN_FILTER_AND ? " AND " : " OR ");
			bool paren = f->node == BRAIN_FILTER_AND && k->node == BRAIN_FILTER_OR;
			if (paren)
				put(w, "(", 1);
			put_filter(w, k);
			if (paren)
				put(w, ")", 1);
		}
		return;
	case BRAIN_FILTER_NOT: {
		const brain_filter *k = f->kids[0];
		bool paren = k->node == BRAIN_FILTER_AND || k->node == BRAIN_FILTER_OR;
		put_s(w, paren ? "NOT (" : "NOT ");
		put_filter(w, k);
		if (paren)
			put(w, ")", 1);
		return;
	}
	default:
		break;
	}
	put_field(w, f->field, f->field_len);
	switch (f->node) {
	case BRAIN_FILTER_CMP:
		put(w, " ", 1);
		put_s(w, op_text(f->op));
		put(w, " ", 1);
		put_value(w, &f->values[0]);
		break;
	case BRAIN_FILTER_IN:
		put_s(w, " IN (");
		for (uint32_t i = 0; i < f->n_values; i++) {
			if (i)
				put(w, ", ", 2);
			put_value(w, &f->values[i]);
		}
		put(w, ")", 1);
		break;
	case BRAIN_FILTER_CONTAINS:
		put_s(w, " CONTAINS ");
		put_value(w, &f->values[0]);
		break;
	default:
		put_s(w, " EXISTS");
		break;
	}
}

BRAIN_EXPORT size_t brain_filter_to_string(const brain_filter *f, char *buf, size_t size)
{
	writer w = {buf, buf ? size : 0, 0, false};
	if (!f) {
		if (w.size)
			buf[0] = '\0';
		return 0;
	}
	put_filter(&w, f);
	return brain__json_end(&w);
}

/* ---- matching ------------------------------------------------------------ */

int brain__cmp_int_double(int64_t a, double b)
{
	/* 2^63 and -2^63 are exact doubles; outside [-2^63, 2^63) b is beyond
	 * every int64 */
	if (b >= 9223372036854775808.0)
		return -1;
	if (b < -9223372036854775808.0)
		return 1;
	/* b's integer part fits an int64 exactly; the cast truncates to it */
	int64_t t = (int64_t)b;
	if (a != t)
		return a < t ? -1 : 1;
	double td = (double)t; /* exact: t came from a double */
	return b > td ? -1 : b < td ? 1 : 0;
}

/* x * y mod 2^61-1 for x, y < 2^61, in 64-bit halves. */
static uint64_t mulmod61(uint64_t x, uint64_t y)
{
	const uint64_t mod = (1ull << 61) - 1;
	uint64_t xl = x & 0xFFFFFFFFu, xh = x >> 32, yl = y & 0xFFFFFFFFu, yh = y >> 32;
	/* x*y = xh*yh*2^64 + (xh*yl + xl*yh)*2^32 + xl*yl; 2^61 = 1 (mod) */
	uint64_t hh = xh * yh;           /* < 2^58 */
	uint64_t mid = xh * yl + xl * yh; /* < 2^62 */
	uint64_t ll = xl * yl;           /* < 2^64 */
	/* 2^64 = 8 (mod); mid*2^32 = (mid >> 29)*2^61 + (mid & (2^29-1))*2^32 */
	uint64_t r = (hh << 3) % mod;
	r += (mid >> 29) + ((mid & ((1u << 29) - 1)) << 32);
	r = (r & mod) + (r >> 61);
	r += (ll & mod) + (ll >> 61);
	r = (r & mod) + (r >> 61);
	r = (r & mod) + (r >> 61);
	return r >= mod ? r - mod : r;
}

/* Does hay[0..hn) hold needle[0..nn)? Short needles: memchr on the first
 * byte and memcmp. Long ones: a rolling hash modulo 2^61-1, so a crafted
 * needle cannot make a scan quadratic by accident (candidates are checked
 * with memcmp, so a collision costs time, never a wrong answer). */
static bool bytes_contain(const char *hay, size_t hn, const char *needle, size_t nn)
{
	if (nn == 0)
		return true;
	if (nn > hn)
		return false;
	if (nn <= 16) {
		const char *p = hay, *end = hay + (hn - nn) + 1;
		while (p < end) {
			p = memchr(p, needle[0], (size_t)(end - p));
			if (!p)
				return false;
			if (memcmp(p, needle, nn) == 0)
				return true;
			p++;
		}
		return false;
	}
	const uint64_t mod = (1ull << 61) - 1, base = 1000003;
	uint64_t hn_hash = 0, hh = 0, top = 1;
	for (size_t i = 0; i < nn; i++) {
		hn_hash = (mulmod61(hn_hash, base) + (unsigned char)needle[i]) % mod;
		hh = (mulmod61(hh, base) + (unsigned char)hay[i]) % mod;
		if (i)
			top = mulmod61(top, base);
	}
	for (size_t i = 0;; i++) {
		if (hh == hn_hash && memcmp(hay + i, needle, nn) == 0)
			return true;
		if (i + nn >= hn)
			return false;
		/* drop hay[i], add hay[i + nn] */
		uint64_t drop = mulmod61((unsigned char)hay[i], top);
		hh = (hh + mod - drop) % mod;
		hh = (mulmod61(hh, base) + (unsigned char)hay[i + nn]) % mod;
	}
}

/* Does the list field hold the string s[0..n)? */
static bool list_has(const brain_meta_field *m, const char *s, size_t n)
{
	size_t at = 0;
	for (uint32_t k = 0; k < m->n_items; k++) {
		const char *item;
		uint32_t il;
		brain__meta_item(m, &at, &item, &il);
		if (il == n && memcmp(item, s, n) == 0)
			return true;
	}
	return false;
}

/* `field = v`: 1 equal, 0 not, -1 the value cannot compare with the field
 * (then both = and != are false). */
static int equals(const brain_meta_field *m, const brain_filter_value *v)
{
	switch (m->type) {
	case BRAIN_META_STRING:
		if (v->type != BRAIN_META_STRING)
			return -1;
		return m->str_len == v->len && memcmp(m->str, v->s, v->len) == 0;
	case BRAIN_META_INT:
		if (v->type == BRAIN_META_INT)
			return m->i == v->i;
		if (v->type == BRAIN_META_DOUBLE)
			return brain__cmp_int_double(m->i, v->d) == 0;
		return -1;
	case BRAIN_META_DOUBLE:
		if (v->type == BRAIN_META_DOUBLE)
			return m->d == v->d;
		if (v->type == BRAIN_META_INT)
			return brain__cmp_int_double(v->i, m->d) == 0;
		return -1;
	case BRAIN_META_BOOL:
		if (v->type != BRAIN_META_BOOL)
			return -1;
		return m->b == v->b;
	case BRAIN_META_LIST:
		if (v->type != BRAIN_META_STRING)
			return -1;
		return list_has(m, v->s, v->len);
	default:
		return -1;
	}
}

/* field <=> v for numbers: true and *c (<0, 0, >0), or false. */
static bool compare_numbers(const brain_meta_field *m, const brain_filter_value *v, int *c)
{
	if (m->type == BRAIN_META_INT && v->type == BRAIN_META_INT)
		*c = m->i < v->i ? -1 : m->i > v->i;
	else if (m->type == BRAIN_META_INT && v->type == BRAIN_META_DOUBLE)
		*c = brain__cmp_int_double(m->i, v->d);
	else if (m->type == BRAIN_META_DOUBLE && v->type == BRAIN_META_INT)
		*c = -brain__cmp_int_double(v->i, m->d);
	else if (m->type == BRAIN_META_DOUBLE && v->type == BRAIN_META_DOUBLE)
		*c = m->d < v->d ? -1 : m->d > v->d;
	else
		return false;
	return true;
}

static bool match_condition(const brain_filter *f, const brain_meta_field *m)
{
	const brain_filter_value *v = f->values;
	int c = 0;
	switch (f->node) {
	case BRAIN_FILTER_EXISTS:
		return true;
	case BRAIN_FILTER_CONTAINS:
		if (m->type == BRAIN_META_LIST)
			return list_has(m, v->s, v->len);
		if (m->type == BRAIN_META_STRING)
			return bytes_contain(m->str, m->str_len, v->s, v->len);
		return false;
	case BRAIN_FILTER_IN:
		for (uint32_t i = 0; i < f->n_values; i++)
			if (equals(m, &v[i]) == 1)
				return true;
		return false;
	default:
		break;
	}
	switch (f->op) {
	case BRAIN_FILTER_EQ:
		return equals(m, v) == 1;
	case BRAIN_FILTER_NE:
		return equals(m, v) == 0;
	default:
		break;
	}
	if (!compare_numbers(m, v, &c))
		return false;
	switch (f->op) {
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

bool brain__filter_match(const brain_filter *f, const void *blob, size_t len)
{
	if (!f)
		return false;
	switch (f->node) {
	case BRAIN_FILTER_AND:
		for (uint32_t i = 0; i < f->n_kids; i++)
			if (!brain__filter_match(f->kids[i], blob, len))
				return false;
		return true;
	case BRAIN_FILTER_OR:
		for (uint32_t i = 0; i < f->n_kids; i++)
			if (brain__filter_match(f->kids[i], blob, len))
				return true;
		return false;
	case BRAIN_FILTER_NOT:
		return !brain__filter_match(f->kids[0], blob, len);
	default:
		break;
	}
	brain_meta_field m;
	if (!blob || len < 4 || !brain__meta_find(blob, len, f->field, f->field_len, &m))
		return false;
	return match_condition(f, &m);
}

/* ---- the type check ------------------------------------------------------ */

/* What = needs against a field of the type. */
static const char *eq_needs(int type)
{
	switch (type) {
	case BRAIN_META_STRING:
		return "a string";
	case BRAIN_META_INT:
	case BRAIN_META_DOUBLE:
		return "a number";
	case BRAIN_META_BOOL:
		return "true or false";
	default:
		return "a string (an item of the list)";
	}
}

static bool eq_allowed(int type, const brain_filter_value *v)
{
	switch (type) {
	case BRAIN_META_STRING:
	case BRAIN_META_LIST:
		return v->type == BRAIN_META_STRING;
	case BRAIN_META_INT:
	case BRAIN_META_DOUBLE:
		return v->type == BRAIN_META_INT || v->type == BRAIN_META_DOUBLE;
	default:
		return v->type == BRAIN_META_BOOL;
	}
}

static int type_error(const brain_filter *f, int type, const char *fmt, ...) BRAIN_PRINTF(3, 4);

static int type_error(const brain_filter *f, int type, const char *fmt, ...)
{
	char what[512], name[QUOTE_SIZE];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	quote(name, sizeof name, f->field, f->field_len, QUOTE_MAX);
	return brain__err(BRAIN_EFILTER, "filter: at byte %u: field %s holds %s; %s",
	                  (unsigned)f->pos, name, brain__meta_type_plural(type), what);
}

static int check_condition(const brain_filter *f, int type)
{
	if (type < BRAIN_META_STRING || type > BRAIN_META_LIST)
		return BRAIN_OK; /* never seen: matches nothing, no error */
	bool number = type == BRAIN_META_INT || type == BRAIN_META_DOUBLE;
	switch (f->node) {
	case BRAIN_FILTER_EXISTS:
		return BRAIN_OK;
	case BRAIN_FILTER_CONTAINS:
		if (type != BRAIN_META_LIST && type != BRAIN_META_STRING)
			return type_error(f, type, "CONTAINS needs a list or a string field");
		return BRAIN_OK;
	case BRAIN_FILTER_IN:
		for (uint32_t i = 0; i < f->n_values; i++)
			if (!eq_allowed(type, &f->values[i]))
				return type_error(f, type, "IN needs each value to be %s, found %s (value "
				                  "%u of the list)", eq_needs(type), brain__meta_type_one(f->values[i].type),
				                  (unsigned)i + 1);
		return BRAIN_OK;
	default:
		break;
	}
	const brain_filter_value *v = &f->values[0];
	if (f->op == BRAIN_FILTER_EQ || f->op == BRAIN_FILTER_NE) {
		if (!eq_allowed(type, v))
			return type_error(f, type, "%s needs %s, found %s", op_text(f->op), eq_needs(type),
			                  brain__meta_type_one(v->type));
		return BRAIN_OK;
	}
	if (!number)
		return type_error(f, type, "%s needs a field of numbers", op_text(f->op));
	if (v->type != BRAIN_META_INT && v->type != BRAIN_META_DOUBLE)
		return type_error(f, type, "%s needs a number, found %s", op_text(f->op),
		                  brain__meta_type_one(v->type));
	return BRAIN_OK;
}

int brain__filter_check_types(const brain_filter *f,
                              int (*type_of)(const char *name, size_t len, void *payload),
                              void *payload)
{
	if (!f || !type_of)
		return BRAIN_OK;
	if (f->node == BRAIN_FILTER_AND || f->node == BRAIN_FILTER_OR ||
	    f->node == BRAIN_FILTER_NOT) {
		for (uint32_t i = 0; i < f->n_kids; i++) {
			int rc = brain__filter_check_types(f->kids[i], type_of, payload);
			if (rc)
				return rc;
		}
		return BRAIN_OK;
	}
	return check_condition(f, type_of(f->field, f->field_len, payload));
}
