/*
 * base/meta.h - a memory's metadata: typed fields, read from a JSON object,
 * kept as one self-contained blob, written back as JSON.
 *
 * The JSON a caller gives is one object whose members are the fields:
 *
 *     {"kind":"note","ts":1700000000,"score":0.5,"done":false,"tags":["billing"]}
 *
 * Each value is a string, an integer (int64), a number with a fraction or
 * exponent (double, finite), true/false (bool), or an array of strings
 * (list; may be empty). Anything else is refused with BRAIN_EJSON and a
 * message naming the byte offset and the field: nested objects, arrays of
 * other values, null (except in a patch, where it removes the field),
 * integers outside int64, duplicate names, invalid UTF-8 (in names and
 * strings, after escapes are decoded: a lone surrogate is invalid), an
 * empty name, text after the object. Limits (BRAIN_ETOOLONG): a name of at
 * most BRAIN_META_NAME_MAX bytes, at most BRAIN_META_FIELDS_MAX fields, at
 * most BRAIN_META_ITEMS_MAX items in one list, and a blob of at most
 * BRAIN_META_BYTES_MAX bytes. The parser does not recurse (depth is at most
 * two by construction), so deep nesting cannot exhaust the stack.
 *
 * The blob (little-endian, no alignment; read with memcpy):
 *
 *     u32 count                       number of fields, 0..FIELDS_MAX
 *     count times, names in strictly increasing byte order (memcmp, then
 *     the shorter first):
 *       u8  type                      enum brain_meta_type (not NONE)
 *       u32 name_len, name bytes      1..NAME_MAX bytes, valid UTF-8, no NUL
 *       value:
 *         STRING  u32 len, bytes      valid UTF-8 (may hold NUL)
 *         INT     i64
 *         DOUBLE  f64                 finite
 *         BOOL    u8                  0 or 1
 *         LIST    u32 n, n times (u32 len, bytes)   n <= ITEMS_MAX
 *         NONE    (patch blobs only: the field is removed)
 *
 * The same metadata always gives the same bytes (fields sorted; numbers as
 * parsed), so blobs compare with memcmp. The blob is what the log and the
 * checkpoint hold (docs/file-format.md); brain__meta_check validates one
 * read from a file, and every other function here takes a checked blob
 * only. The JSON input may be at most 16 x BRAIN_META_BYTES_MAX bytes.
 * The helpers that copy integers with memcpy (brain__meta_item,
 * brain__meta_heap, brain__meta_widen) assume a little-endian host, as the
 * rest of the file formats do.
 */
#ifndef BRAIN_BASE_META_H
#define BRAIN_BASE_META_H

#include "base/base.h"

#define BRAIN_META_NAME_MAX 128
#define BRAIN_META_FIELDS_MAX 256
#define BRAIN_META_ITEMS_MAX 4096
#define BRAIN_META_BYTES_MAX 65536

enum brain_meta_type {
	BRAIN_META_NONE = 0, /* in a patch: remove the field */
	BRAIN_META_STRING = 1,
	BRAIN_META_INT = 2,
	BRAIN_META_DOUBLE = 3,
	BRAIN_META_BOOL = 4,
	BRAIN_META_LIST = 5
};

/* One field, decoded in place: pointers into the blob. */
typedef struct brain_meta_field {
	int type;              /* enum brain_meta_type */
	const char *name;
	uint32_t name_len;
	const char *str;       /* STRING */
	uint32_t str_len;
	int64_t i;             /* INT */
	double d;              /* DOUBLE */
	bool b;                /* BOOL */
	uint32_t n_items;      /* LIST: items follow at `items` */
	const uint8_t *items;  /* LIST: n_items times (u32 len, bytes) */
} brain_meta_field;

/* A blob on the heap (brain__malloc), owned by whoever holds it. An empty
 * metadata set is a blob of 4 bytes (count 0). */
typedef struct brain_meta_blob {
	uint8_t *data;
	size_t len;
} brain_meta_blob;

/* Parse `len` bytes of JSON into a new blob in *out. With `patch`, a member
 * whose value is null becomes a NONE field (remove it, brain__meta_patch).
 * Returns 0, BRAIN_EJSON (what is wrong and the byte offset), BRAIN_ETOOLONG
 * (a limit above), BRAIN_ENOMEM; *out is untouched on failure. */
int brain__meta_from_json(const char *json, size_t len, bool patch, brain_meta_blob *out);

/* Check a blob read from a file (or the log): every length within `len`,
 * types known, names sorted and unique, UTF-8 valid, doubles finite,
 * limits held, nothing after the last field. `patch`: NONE fields allowed.
 * Returns 0 or BRAIN_ECORRUPT with a message. */
int brain__meta_check(const void *blob, size_t len, bool patch);

/* Number of fields of a checked blob. */
uint32_t brain__meta_count(const void *blob);

/* Iterate a checked blob: *pos starts at 0; each call fills *f with the next
 * field and returns true, false at the end. */
bool brain__meta_next(const void *blob, size_t len, size_t *pos, brain_meta_field *f);

/* Find a field by name in a checked blob: true and *f, or false. */
bool brain__meta_find(const void *blob, size_t len, const char *name, size_t name_len,
                      brain_meta_field *f);

/* Item *pos of a LIST field: advance through f->items (pos starts at 0,
 * at most f->n_items calls). */
static inline void brain__meta_item(const brain_meta_field *f, size_t *pos, const char **s,
                                    uint32_t *len)
{
	uint32_t l;
	__builtin_memcpy(&l, f->items + *pos, 4);
	*s = (const char *)f->items + *pos + 4;
	*len = l;
	*pos += 4 + (size_t)l;
}

/* Write a checked blob as a JSON object (fields in blob order; strings
 * escaped: ", \, \n \r \t \b \f, other control characters and NUL as
 * \u00XX, everything else as UTF-8; a NONE field as null;
 * doubles with 17 significant digits and always a '.' or exponent so they
 * read back as doubles). snprintf's contract: writes at most size bytes
 * including the NUL (nothing when size is 0, buf may then be NULL) and
 * returns the length the whole document needs, without the NUL. Never a
 * cut document: if it does not fit, buf holds "" (size >= 1). */
size_t brain__meta_to_json(const void *blob, size_t len, char *buf, size_t size);

/* Apply a patch blob (RFC 7386 merge patch, flat): each field of `patch`
 * replaces the field of that name in `old` (old may be NULL, len 0: none),
 * a NONE field removes it. The result, a blob without NONE fields, goes to
 * *out. Returns 0, BRAIN_ETOOLONG (the result passes a limit), BRAIN_ENOMEM. */
int brain__meta_patch(const void *old, size_t old_len, const void *patch, size_t patch_len,
                      brain_meta_blob *out);

/* A copy of a checked blob in which the INT fields i (in blob order) with
 * to_double[i] set become DOUBLE fields of the same value (rounded to the
 * nearest double), for a field whose holders are doubles. 0 or
 * BRAIN_ENOMEM; *out untouched on failure. */
int brain__meta_widen(const void *blob, size_t len, const bool *to_double, brain_meta_blob *out);

/* A type in words, for messages: "strings", "integers", "doubles",
 * "true/false", "lists of strings"; and one value of it: "a string", "an
 * integer", "a double", "true/false", "a list of strings". */
const char *brain__meta_type_plural(int type);
const char *brain__meta_type_one(int type);

/* A copy of a checked blob (NULL, 0: none) with only the fields keep()
 * takes (sorted still). 0 or BRAIN_ENOMEM. */
int brain__meta_keep(const void *blob, size_t len, bool (*keep)(const brain_meta_field *f),
                     brain_meta_blob *out);

/* A copy of a checked blob (NULL, 0: none) with the string field `sname`
 * set to s[0..slen) and, if iname is not NULL, the integer field `iname`
 * set to i (the library's '@key', '@doc' and '@part'). 0, BRAIN_ETOOLONG,
 * BRAIN_ENOMEM; *out untouched on failure. */
int brain__meta_with(const void *blob, size_t len, const char *sname, const char *s,
                     size_t slen, const char *iname, int64_t i, brain_meta_blob *out);

/* The library's reserved fields: a memory's validity times, its key
 * (brain_upsert), and a passage's document and place in it. */
#define BRAIN_META_VALID_FROM "@valid_from"
#define BRAIN_META_VALID_UNTIL "@valid_until"
#define BRAIN_META_KEY "@key"
#define BRAIN_META_DOC "@doc"
#define BRAIN_META_PART "@part"

/* Names starting with '@' are the library's (validity times): a caller's
 * metadata may not use them, and replacing a memory's metadata keeps
 * them. */
static inline bool brain__meta_reserved(const char *name, size_t len)
{
	return len > 0 && name[0] == '@';
}

/* A blob on the heap with its u32 length in front, as the memory store
 * keeps one (NULL: out of memory, reported). */
static inline uint8_t *brain__meta_heap(const void *blob, size_t len)
{
	uint8_t *b = len <= UINT32_MAX - 4 ? (uint8_t *)brain__malloc(len + 4) : NULL;
	if (!b) {
		brain__oom(len + 4, "metadata");
		return NULL;
	}
	uint32_t l = (uint32_t)len;
	__builtin_memcpy(b, &l, 4);
	__builtin_memcpy(b + 4, blob, len);
	return b;
}

/* The order-preserving 64-bit keys of numbers (unsigned comparison of keys
 * = numeric comparison of values): int64 with its sign bit flipped; doubles
 * by their bits (negatives inverted), -0.0 as +0.0. */
static inline uint64_t brain__meta_int_key(int64_t v)
{
	return (uint64_t)v ^ (1ull << 63);
}

static inline uint64_t brain__meta_double_key(double v)
{
	if (v == 0)
		v = 0; /* -0.0 and +0.0 are one value */
	uint64_t u;
	__builtin_memcpy(&u, &v, 8);
	return (u >> 63) ? ~u : u | (1ull << 63);
}

#endif /* BRAIN_BASE_META_H */
