/*
 * base/json_walk.h - a read-only JSON walker over a byte buffer, for the
 * readers of files that come from elsewhere (safetensors headers, a
 * model's config.json, tokenizer.json, modules.json).
 *
 * brain__jv_parse validates a whole document once (strict RFC 8259), with
 * no allocation and no recursion, and gives its root. Every other call
 * walks the validated bytes where they lie: a value is the span of its
 * bytes in the document, an iterator skips a nested value by scanning for
 * its end (without validating it again), and strings are unescaped only
 * when asked, into the caller's buffer or compared in place. The document
 * must stay alive and unchanged while its values are used.
 *
 * The walking calls assume a document that brain__jv_parse accepted; given
 * other bytes they still read nothing outside the value they are handed,
 * but what they answer is unspecified.
 *
 * Thread-safety: none of these calls writes shared state (errors go to
 * the calling thread's message), so a document may be walked by several
 * threads at once.
 */
#ifndef BRAIN_BASE_JSON_WALK_H
#define BRAIN_BASE_JSON_WALK_H

#include "base/base.h"

/* The deepest nesting of arrays and objects a document may have: 128
 * opening brackets, one inside the other, are accepted, 129 are not. */
#define BRAIN_JV_DEPTH_MAX 128

enum brain_jv_type {
	BRAIN_JV_NULL,
	BRAIN_JV_FALSE,
	BRAIN_JV_TRUE,
	BRAIN_JV_NUMBER,
	BRAIN_JV_STRING,
	BRAIN_JV_ARRAY,
	BRAIN_JV_OBJECT
};

/* A value: its bytes p[0..n) in the document (a string's quotes and a
 * container's brackets included, no white space around it) and its type
 * (enum brain_jv_type). */
typedef struct brain_jv {
	const char *p;
	size_t n;
	int type;
} brain_jv;

/* Validate the document s[0..n) and give its root value in *root.
 *
 * The document is one value with optional white space (space, \t, \n, \r)
 * around it: strings of valid UTF-8 (no overlong forms, surrogates or code
 * points past U+10FFFF) with no raw control characters, the escapes of
 * RFC 8259 only (a \u escape of a surrogate must be a high one followed by
 * a low one; \u0000 is accepted), numbers of the grammar (no leading zero,
 * no '.' without digits on both sides, no empty exponent; any magnitude),
 * nesting at most BRAIN_JV_DEPTH_MAX deep. A NUL byte anywhere and a byte
 * order mark at the start are refused. s need not be NUL-terminated and
 * nothing past s[n - 1] is read.
 *
 * Linear time, no allocation, no recursion. Returns BRAIN_OK, or
 * BRAIN_EINVAL (root unchanged) with a message naming the byte offset and
 * what was wrong or expected, e.g. "json: offset 1234: expected ',' or
 * '}', found ']'"; BRAIN_ENULL if root is NULL, or s is NULL and n is not
 * 0. */
int brain__jv_parse(const char *s, size_t n, brain_jv *root);

/* An iterator over the elements of an array or the members of an object,
 * in document order. */
typedef struct brain_jv_iter {
	const char *p, *end;
	int type;
} brain_jv_iter;

/* Start iterating `container` (which must outlive the iterator). A value
 * that is neither an array nor an object iterates as empty. */
void brain__jv_iter_init(brain_jv_iter *it, const brain_jv *container);

/* The next element or member: true with *key (an object member's name, a
 * BRAIN_JV_STRING value; for an array element key->p is NULL and key->n
 * 0) and *value set, or false at the end. key and value may be NULL. Time
 * linear in the bytes of the value skipped, which is not validated again.
 */
bool brain__jv_next(brain_jv_iter *it, brain_jv *key, brain_jv *value);

/* The member of object `obj` whose name, unescaped, equals the
 * NUL-terminated `key` ("\u0061" matches "a"): true and *out, or false
 * (also when obj is not an object). When a name appears more than once,
 * the last member with it wins, as in most JSON readers. Time linear in
 * the object's bytes (every member is looked at, for the last one). */
bool brain__jv_get(const brain_jv *obj, const char *key, brain_jv *out);

/* The string value v unescaped into buf, cap bytes with the NUL: BRAIN_OK
 * with *len its length (without the NUL; a \u0000 escape puts a NUL byte
 * inside, counted). BRAIN_ETOOLONG if it does not fit, with *len the
 * buffer size it needs (its length + 1) and buf (if cap > 0) holding "":
 * cap 0 and buf NULL ask for the size. BRAIN_EINVAL naming the type if v
 * is not a string. len may be NULL. */
int brain__jv_string(const brain_jv *v, char *buf, size_t cap, size_t *len);

/* Whether the string value v, unescaped, equals s[0..len) (no copy, no
 * allocation). False when v is not a string. */
bool brain__jv_string_eq(const brain_jv *v, const char *s, size_t len);

/* The number v as an int64: BRAIN_OK and *out; BRAIN_ERANGE if it is
 * written with a fraction or an exponent (even 1.0 or 1e2) or does not fit
 * int64; BRAIN_EINVAL naming the type if v is not a number (and if its
 * bytes are not one number token, which no validated document gives). */
int brain__jv_int(const brain_jv *v, int64_t *out);

/* The number v as the nearest double (base/json_lex.c, whatever the
 * locale): BRAIN_OK and *out; BRAIN_ERANGE if that is not finite (1e400;
 * a value too small for a double reads as 0 or a subnormal);
 * BRAIN_ENOMEM for a token too long for the converter's stack buffer
 * (over 96 bytes) whose copy could not be allocated; BRAIN_EINVAL as for
 * brain__jv_int. */
int brain__jv_double(const brain_jv *v, double *out);

/* true or false: BRAIN_OK and *out; BRAIN_EINVAL naming the type
 * otherwise. */
int brain__jv_bool(const brain_jv *v, bool *out);

/* The number of elements of an array or members of an object (duplicate
 * names counted each time); 0 for any other value. Linear in its bytes. */
size_t brain__jv_count(const brain_jv *container);

/* "null", "false", "true", "number", "string", "array", "object" (or
 * "value" for a type out of range), for messages. */
const char *brain__jv_type_name(int type);

#endif /* BRAIN_BASE_JSON_WALK_H */
