/*
 * braincore/filter.h - filters over the metadata of memories.
 *
 * Part of the public API of libbraincore. Compiles alone as C11 and as C++.
 *
 * Every memory and vector may carry metadata: a JSON object of typed
 * fields (brain_remember_with(), brain_add_with(), brain_set_metadata()):
 *
 *     {"kind":"note","ts":1700000000,"score":0.5,"done":false,"tags":["billing"]}
 *
 * A field holds a string, an integer (int64), a double, a bool or a list of
 * strings. A field's type is set by the first value a brain stores under
 * its name and stays (a later value of another type is BRAIN_ETYPE; an
 * integer is taken by a double field).
 *
 * A filter says which memories a call may see. It is written as text
 * (brain_filter_parse(), the CLI's --where, the bindings) or built with the
 * functions below; both give the same object. The text syntax:
 *
 *     kind = "note" AND ts >= 1700000000 AND tags CONTAINS "billing"
 *     NOT (status IN ("done", "dropped") OR archived = true)
 *     `odd name` EXISTS
 *
 *   expr     := term { OR term }
 *   term     := factor { AND factor }
 *   factor   := NOT factor | "(" expr ")" | field cond
 *   cond     := op value | IN list | CONTAINS value | EXISTS
 *   op       := = | == | != | < | <= | > | >=
 *   list     := "(" value { "," value } ")" | "[" value { "," value } "]"
 *   value    := a JSON string | a JSON number | true | false
 *   field    := [A-Za-z_][A-Za-z0-9_.]*  or  `any text` (`` for a backtick)
 *
 * Keywords are case-insensitive; white space is free. A number without a
 * fraction or exponent is an integer, others are doubles.
 *
 * What each condition matches (a memory without the field never matches a
 * condition on it; NOT inverts the whole expression, so
 * `NOT kind = "x"` matches memories without `kind`, and `kind != "x"` does
 * not):
 *
 *   = !=            the value equals (differs); a list field: contains
 *                   (does not contain) the string
 *   < <= > >=       numbers: integers and doubles compare exactly by value
 *   IN              equals one of the values (a list: contains one)
 *   CONTAINS        a list field holds the string; a string field holds it
 *                   as a substring (bytes)
 *   EXISTS          the memory has the field
 *
 * A field no memory of the brain has ever had matches nothing. A condition
 * whose value cannot compare with its field's type (a number against a
 * string field, `<` on a list) is BRAIN_EFILTER when the call runs, naming
 * the condition's position. A syntax error is BRAIN_EFILTER at once, with
 * the byte position and what was expected in brain_errmsg().
 */
#ifndef BRAINCORE_FILTER_H
#define BRAINCORE_FILTER_H

#include <stddef.h>
#include <stdint.h>

#include "braincore/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A filter. Opaque; immutable once made, so one may be used by many
 * threads at once, with any brain. Released by brain_filter_free() (with
 * the allocator it was made with: free every filter before
 * brain_set_allocator()). */
typedef struct brain_filter brain_filter;

/** Comparison operators of the builder calls. Pinned values. */
enum brain_filter_op {
	BRAIN_FILTER_EQ = 1,
	BRAIN_FILTER_NE = 2,
	BRAIN_FILTER_LT = 3,
	BRAIN_FILTER_LE = 4,
	BRAIN_FILTER_GT = 5,
	BRAIN_FILTER_GE = 6
};

/** Longest filter text accepted (bytes). */
#define BRAIN_FILTER_TEXT_MAX (1u << 20)
/** Deepest nesting of parentheses and NOTs accepted. */
#define BRAIN_FILTER_DEPTH_MAX 64

/**
 * Parse a filter text (NUL-terminated, at most BRAIN_FILTER_TEXT_MAX bytes,
 * valid UTF-8) into *out. Returns 0; BRAIN_ENULL; BRAIN_ETOOLONG; BRAIN_EUTF8
 * (the offset of the bad byte in brain_errmsg()); BRAIN_EFILTER
 * with "filter: at byte N: expected ..., found ..." in brain_errmsg();
 * BRAIN_ENOMEM. *out is set to NULL on failure. Thread-safe.
 */
int brain_filter_parse(const char *text, brain_filter **out);

/**
 * Same as brain_filter_parse() for `len` bytes that need not end in a NUL
 * (an embedded NUL is a syntax error). Returns as brain_filter_parse().
 * Thread-safe.
 */
int brain_filter_parse_len(const char *text, size_t len, brain_filter **out);

/**
 * The condition `field op "value"` (op BRAIN_FILTER_EQ or BRAIN_FILTER_NE;
 * strings are not ordered). Returns a new filter, or NULL with the reason in
 * brain_errmsg() (a NULL argument, an operator out of range, invalid UTF-8,
 * a name over 128 bytes, out of memory). Thread-safe; so are all builders.
 */
brain_filter *brain_filter_string(const char *field, int op, const char *value);

/**
 * The condition `field op value` for an integer. Returns a new filter or
 * NULL (see brain_filter_string()). Thread-safe.
 */
brain_filter *brain_filter_int(const char *field, int op, int64_t value);

/**
 * The condition `field op value` for a double (finite: NaN and infinities
 * give NULL). Returns a new filter or NULL (see brain_filter_string()). Thread-safe.
 */
brain_filter *brain_filter_double(const char *field, int op, double value);

/**
 * The condition `field op value` for a bool (value 0 or 1; op
 * BRAIN_FILTER_EQ or BRAIN_FILTER_NE). Returns a new filter or NULL. Thread-safe.
 */
brain_filter *brain_filter_bool(const char *field, int op, int value);

/**
 * `field IN (values...)` for n strings (n >= 1). Returns a new filter or
 * NULL (see brain_filter_string()). Thread-safe.
 */
brain_filter *brain_filter_in_strings(const char *field, const char *const *values, size_t n);

/**
 * `field IN (values...)` for n integers (n >= 1). Returns a new filter or
 * NULL. Thread-safe.
 */
brain_filter *brain_filter_in_ints(const char *field, const int64_t *values, size_t n);

/**
 * `field CONTAINS "value"`. Returns a new filter or NULL. Thread-safe.
 */
brain_filter *brain_filter_contains(const char *field, const char *value);

/**
 * `field EXISTS`. Returns a new filter or NULL. Thread-safe.
 */
brain_filter *brain_filter_exists(const char *field);

/**
 * The memories valid at `at_ms` (milliseconds since the Unix epoch): no
 * "@valid_from" or one at or before it, and no "@valid_until" or one after
 * it (brain_set_valid(), brain_supersede()). AND it with a filter of your
 * own for "what did we believe on 1 March about billing". Returns a new
 * filter or NULL (out of memory). Thread-safe.
 */
brain_filter *brain_filter_valid_at(int64_t at_ms);

/**
 * `a AND b`. Takes ownership of both (a NULL operand frees the other and
 * gives NULL, so a chain of builders reports the first failure). Returns a
 * new filter or NULL. Thread-safe.
 */
brain_filter *brain_filter_and(brain_filter *a, brain_filter *b);

/**
 * `a OR b`; ownership as brain_filter_and(). Returns a new filter or NULL. Thread-safe.
 */
brain_filter *brain_filter_or(brain_filter *a, brain_filter *b);

/**
 * `NOT a`; takes ownership of a. Returns a new filter or NULL (a NULL a, or
 * nesting deeper than BRAIN_FILTER_DEPTH_MAX). Thread-safe.
 */
brain_filter *brain_filter_not(brain_filter *a);

/**
 * Write the filter as text that brain_filter_parse() reads back to the same
 * filter (snprintf's contract: at most size bytes with the NUL, never a cut
 * text: "" when it does not fit and size >= 1). Returns the length the
 * whole text needs, without the NUL; 0 for a NULL f. Thread-safe.
 */
size_t brain_filter_to_string(const brain_filter *f, char *buf, size_t size);

/**
 * Release a filter. NULL is a no-op. Returns nothing. Not thread-safe with
 * other calls on the same f.
 */
void brain_filter_free(brain_filter *f);

#ifdef __cplusplus
}
#endif

#endif /* BRAINCORE_FILTER_H */
