/*
 * tools/cli_jread.h - a small strict JSON reader for the braincore
 * command-line tool (the lines `import` reads, the metadata `export`
 * writes back without the library's '@' fields).
 *
 * RFC 8259 and nothing more: one value with white space around it, UTF-8
 * only (strings are checked: overlong forms, surrogates and bytes that
 * are no character are refused), no comments, no trailing commas, no
 * leading zeros, no NaN or Infinity, escapes \" \\ \/ \b \f \n \r \t and
 * \uXXXX (a surrogate must be one half of a pair). Nesting deeper than
 * CLI_JREAD_MAX_DEPTH is refused. Duplicate member names are not looked
 * for here (the caller that cares does).
 *
 * The value is read into a flat array of nodes in document order: an
 * object's node is followed by each member's name (a string node) and
 * value, an array's by its items; `next` of a node is the index just past
 * the node and everything inside it.
 */
#ifndef BRAINCORE_CLI_JREAD_H
#define BRAINCORE_CLI_JREAD_H

#include <stddef.h>
#include <stdint.h>

#define CLI_JREAD_MAX_DEPTH 64

typedef enum cli_jtype {
	CLI_J_NULL,
	CLI_J_FALSE,
	CLI_J_TRUE,
	CLI_J_NUMBER,
	CLI_J_STRING,
	CLI_J_ARRAY,
	CLI_J_OBJECT
} cli_jtype;

typedef struct cli_jnode {
	cli_jtype type;
	size_t start, end; /* the value's bytes in the text (a string's with its quotes) */
	size_t count;      /* members of an object, items of an array */
	size_t next;       /* the node after this value and all it holds */
} cli_jnode;

typedef struct cli_jdoc {
	const char *text; /* borrowed from the caller of cli_jparse() */
	size_t len;
	cli_jnode *nodes;
	size_t n, cap;
	char error[192]; /* why cli_jparse() refused: "at byte 7: expected ..." */
	int bad_utf8;    /* ... because a string is not valid UTF-8 */
} cli_jdoc;

void cli_jdoc_init(cli_jdoc *d);
void cli_jdoc_free(cli_jdoc *d);

/* Read text[0..len) (borrowed until the next parse or free; need not end
 * in a NUL; a NUL byte in it is an error) as one JSON value: node 0.
 * Returns 0; -1 if it is not JSON (d->error says where and why, the byte
 * offset counted from 0); -2 out of memory. */
int cli_jparse(cli_jdoc *d, const char *text, size_t len);

/* The value of string node i, unescaped, in a new buffer with a NUL after
 * it (*out, free() it; *len its bytes, which may hold a NUL from \u0000).
 * Returns 0, or -1 out of memory. */
int cli_jstring(const cli_jdoc *d, size_t i, char **out, size_t *len);

/* Whether string node i spells exactly `name` (after unescaping). */
int cli_jstring_is(const cli_jdoc *d, size_t i, const char *name);

/* Number node i as a double (may be infinite: 1e999). 0, or -1 if i is no
 * number or out of memory. */
int cli_jdouble(const cli_jdoc *d, size_t i, double *out);

/* Number node i as a whole number without a fraction or exponent, in
 * range. 0, or -1. */
int cli_juint64(const cli_jdoc *d, size_t i, uint64_t *out);
int cli_jint64(const cli_jdoc *d, size_t i, int64_t *out);

#endif /* BRAINCORE_CLI_JREAD_H */
