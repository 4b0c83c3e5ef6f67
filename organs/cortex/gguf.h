/*
 * organs/cortex/gguf.h - a reader of GGUF files (the format llama.cpp and
 * ggml write models in), for the transformer runtime (model.c).
 *
 * A GGUF file is a header (magic "GGUF", version 2 or 3, the number of
 * tensors and of key-value pairs), the key-value pairs (typed: integers,
 * floats, bools, strings, arrays of those), the tensor descriptions (name,
 * up to 4 dimensions with ne[0] the fastest varying, ggml type, offset in
 * the data section) and the data section, aligned to general.alignment
 * (32 by default). Everything is little-endian.
 *
 * The reader works on the bytes of a mapped file and never trusts them:
 * every length, count and offset is checked against the end of the
 * buffer before it is used, so a truncated or crafted file is a clear
 * BRAIN_ECORRUPT, never a read out of bounds. Nothing is copied: keys,
 * strings and tensor data point into the buffer.
 */
#ifndef BRAIN_ORGANS_CORTEX_GGUF_H
#define BRAIN_ORGANS_CORTEX_GGUF_H

#include "base/base.h"

/* Value types of the key-value pairs (pinned by the format). */
enum brain_gguf_type {
	BRAIN_GGUF_U8 = 0,
	BRAIN_GGUF_I8 = 1,
	BRAIN_GGUF_U16 = 2,
	BRAIN_GGUF_I16 = 3,
	BRAIN_GGUF_U32 = 4,
	BRAIN_GGUF_I32 = 5,
	BRAIN_GGUF_F32 = 6,
	BRAIN_GGUF_BOOL = 7,
	BRAIN_GGUF_STRING = 8,
	BRAIN_GGUF_ARRAY = 9,
	BRAIN_GGUF_U64 = 10,
	BRAIN_GGUF_I64 = 11,
	BRAIN_GGUF_F64 = 12
};

/* The ggml tensor types this runtime computes with (pinned by ggml). */
enum brain_ggml_type {
	BRAIN_GGML_F32 = 0,
	BRAIN_GGML_F16 = 1,
	BRAIN_GGML_Q8_0 = 8
};

typedef struct brain_gguf_kv {
	const char *key;
	size_t key_len;
	uint32_t type;              /* enum brain_gguf_type */
	const unsigned char *value; /* its bytes; an array's are its elements */
	uint32_t elem_type;         /* an array's element type */
	uint64_t count;             /* an array's element count (1 for a scalar) */
} brain_gguf_kv;

typedef struct brain_gguf_tensor {
	const char *name;
	size_t name_len;
	uint32_t ndims;
	uint64_t ne[4];   /* ne[0] varies fastest; 1 past ndims */
	uint32_t type;    /* enum brain_ggml_type, or another ggml type */
	const void *data; /* NULL when the type is not one of ours */
	uint64_t bytes;   /* of data (0 for a type not ours) */
} brain_gguf_tensor;

typedef struct brain_gguf {
	uint32_t version;
	brain_gguf_kv *kv;
	size_t nkv;
	brain_gguf_tensor *tensors;
	size_t ntensors;
} brain_gguf;

/* Read the file's bytes data[0..len) into g (arrays brain__malloc'ed; free
 * with brain__gguf_free). BRAIN_ECORRUPT naming the byte offset of what
 * is wrong; BRAIN_ENOTSUP for a version other than 2 or 3 or a big-endian
 * file; BRAIN_ENOMEM. */
int brain__gguf_parse(const void *data, size_t len, brain_gguf *g);
void brain__gguf_free(brain_gguf *g);

/* The pair with this key, or NULL. */
const brain_gguf_kv *brain__gguf_find(const brain_gguf *g, const char *key);
/* The tensor with this name, or NULL. */
const brain_gguf_tensor *brain__gguf_tensor(const brain_gguf *g, const char *name);

/* A scalar integer value (any integer type, or a bool) that fits in
 * [0, UINT32_MAX]: BRAIN_OK; BRAIN_ENOTFOUND if absent (the message names
 * the key), BRAIN_ECORRUPT if of another type or out of range. */
int brain__gguf_u32(const brain_gguf *g, const char *key, uint32_t *out);
/* A scalar float (F32 or F64) value. */
int brain__gguf_f32(const brain_gguf *g, const char *key, float *out);
/* A string value (not NUL-terminated). */
int brain__gguf_string(const brain_gguf *g, const char *key, const char **s, size_t *len);

/* An array of strings, walked in order: init with the pair, then next
 * gives each string (all were bounds-checked by the parse). */
typedef struct brain_gguf_strings {
	const unsigned char *p;
	uint64_t left;
} brain_gguf_strings;
void brain__gguf_strings_init(brain_gguf_strings *it, const brain_gguf_kv *kv);
bool brain__gguf_strings_next(brain_gguf_strings *it, const char **s, size_t *len);

/* Bytes of n elements of a ggml type whose rows are ne0 long; 0 for a type
 * this runtime does not compute with (or a Q8_0 row not a multiple of 32). */
uint64_t brain__ggml_bytes(uint32_t type, uint64_t ne0, uint64_t n);
const char *brain__ggml_type_name(uint32_t type);

#endif /* BRAIN_ORGANS_CORTEX_GGUF_H */
