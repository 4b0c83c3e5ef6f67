/*
 * base/filter_tree.h - the filter object of braincore/filter.h, inside: its
 * tree, the reference matcher over one memory's metadata blob, and the type
 * check against a brain's fields.
 *
 * base/filter.c parses the text syntax and implements the public builders,
 * brain_filter_to_string() and brain_filter_free(). The Hippocampus
 * evaluates a filter over its posting lists (organs/hippocampus/meta.c);
 * brain__filter_match() is the simple reference it is tested against, and
 * what a scan of the blobs uses.
 */
#ifndef BRAIN_BASE_FILTER_TREE_H
#define BRAIN_BASE_FILTER_TREE_H

#include "base/base.h"
#include "base/meta.h"
#include "braincore/filter.h"

enum brain_filter_node {
	BRAIN_FILTER_CMP = 1,      /* field op values[0] */
	BRAIN_FILTER_IN = 2,       /* field IN values[0..n) */
	BRAIN_FILTER_CONTAINS = 3, /* field CONTAINS values[0] (a string) */
	BRAIN_FILTER_EXISTS = 4,   /* field EXISTS */
	BRAIN_FILTER_AND = 5,      /* kids[0] AND kids[1] AND ... */
	BRAIN_FILTER_OR = 6,       /* kids[0] OR kids[1] OR ... */
	BRAIN_FILTER_NOT = 7       /* NOT kids[0] */
};

/* A literal: type is BRAIN_META_STRING, INT, DOUBLE (finite) or BOOL. */
typedef struct brain_filter_value {
	int type;
	char *s;       /* STRING: len bytes, NUL-terminated, valid UTF-8 */
	uint32_t len;
	int64_t i;
	double d;
	bool b;
} brain_filter_value;

struct brain_filter {
	int node;      /* enum brain_filter_node */
	int op;        /* CMP: enum brain_filter_op */
	uint32_t pos;  /* byte offset of the condition in its text (0 if built) */
	uint32_t depth; /* 1 for a condition, 1 + the deepest kid's otherwise
	                   (<= BRAIN_FILTER_DEPTH_MAX) */
	char *field;   /* conditions: the field's name, NUL-terminated */
	uint32_t field_len;
	brain_filter_value *values; /* CMP, CONTAINS: 1; IN: n_values >= 1 */
	uint32_t n_values;
	/* AND, OR: n_kids >= 2, none of them of the same node (a chain
	 * `a AND b AND c` is one node of three kids, so a long chain is wide,
	 * not deep: nothing that walks the tree recurses more than
	 * BRAIN_FILTER_DEPTH_MAX deep); NOT: n_kids 1 */
	struct brain_filter **kids;
	uint32_t n_kids;
};

/* Most values one IN list may hold. */
#define BRAIN_FILTER_IN_MAX 65536

/* Does the metadata blob (checked; NULL with len 0: a memory without
 * metadata) pass f? The reference semantics of braincore/filter.h: a
 * condition on a field the blob lacks is false; a literal that cannot
 * compare with the field's value is false (the type check reports those
 * before a call runs); integers and doubles compare exactly. */
bool brain__filter_match(const brain_filter *f, const void *blob, size_t len);

/* The type check a call runs before it evaluates f: type_of(name, len,
 * payload) gives a field's type (enum brain_meta_type, NONE: a field never
 * seen, which matches nothing and is no error). Returns 0, or BRAIN_EFILTER
 * naming the first condition that cannot compare: "filter: at byte N:
 * field `ts` holds integers; CONTAINS needs a list or a string field". */
int brain__filter_check_types(const brain_filter *f,
                              int (*type_of)(const char *name, size_t len, void *payload),
                              void *payload);

/* Exact comparison of an integer with a double: <0, 0, >0 as a <, =, > b
 * (b finite). */
int brain__cmp_int_double(int64_t a, double b);

#endif /* BRAIN_BASE_FILTER_TREE_H */
