/*
 * base/json_lex.h - the lexical pieces of JSON that the metadata reader
 * (base/meta.c) and the filter parser (base/filter.c) share: \uXXXX
 * digits, UTF-8 encoding of a scalar value, and numbers of the JSON
 * grammar (already checked by the caller) to int64 and double.
 */
#ifndef BRAIN_BASE_JSON_LEX_H
#define BRAIN_BASE_JSON_LEX_H

#include "base/base.h"

/* The four hex digits at s as a value: 0, or -1 if one is not a digit. */
int brain__json_hex4(const char *s, uint32_t *out);

/* A Unicode scalar value as UTF-8 into o (room for 4): its length. */
size_t brain__utf8_put(char *o, uint32_t cp);

/* The integer token s[0..len) ('-'? digits; checked): 0 and *out, or -1
 * if it does not fit int64. */
int brain__json_int(const char *s, size_t len, int64_t *out);

/* The number token s[0..len) (the JSON grammar; checked) as the nearest
 * double: its digits without the '.', the exponent adjusted, through
 * strtod, so that with no decimal point in the text LC_NUMERIC cannot
 * change what strtod reads (and strtod rounds correctly). 0 and *out; -1
 * if it is not finite; BRAIN_ENOMEM (reported) for a huge token. */
int brain__json_double(const char *s, size_t len, double *out);

/* Text written under snprintf's contract: at most `size` bytes with the
 * NUL into buf (NULL when size is 0); `len` counts all that was put, and
 * once one piece does not fit, `cut` is set and nothing more is copied
 * (the caller then writes "" and returns len: never a cut text). */
typedef struct brain_json_out {
	char *buf;
	size_t size, len;
	bool cut;
} brain_json_out;

void brain__json_put(brain_json_out *w, const void *s, size_t n);

/* s[0..n) as a JSON string: quotes; ", \ and \b \f \n \r \t escaped,
 * other control bytes and NUL as \u00XX; everything else as it is. */
void brain__json_put_string(brain_json_out *w, const char *s, size_t n);

/* A finite double as "%.17g" (reads back as the same double) with '.'
 * whatever the locale's decimal point, and ".0" added when it would read
 * back as an integer. */
void brain__json_put_double(brain_json_out *w, double d);

/* The end of a text: its NUL, or "" if it was cut (size >= 1). Returns
 * the length the whole text needs. */
size_t brain__json_end(brain_json_out *w);

#endif /* BRAIN_BASE_JSON_LEX_H */
