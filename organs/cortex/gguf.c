/*
 * organs/cortex/gguf.c - see gguf.h.
 *
 * The parse is one pass over the header, the pairs and the tensor
 * descriptions with a cursor that refuses to move past the end; the data
 * section's start is the cursor rounded up to the alignment, and each
 * tensor's bytes must lie inside the buffer after it. Counts are checked
 * against what the remaining bytes could hold before anything is
 * allocated for them, so a count of 2^60 is an error, not an allocation.
 */
#include <string.h>

#include "organs/cortex/gguf.h"

#define GGUF_MAX_DIMS 4
#define GGUF_DEFAULT_ALIGNMENT 32u

typedef struct cursor {
	const unsigned char *base, *p, *end;
} cursor;

static uint64_t off(const cursor *c)
{
	return (uint64_t)(c->p - c->base);
}

static int need(const cursor *c, uint64_t n, const char *what)
{
	if ((uint64_t)(c->end - c->p) < n)
		return brain__err(BRAIN_ECORRUPT, "gguf: offset %llu: the file ends inside %s "
		                  "(%llu bytes needed, %llu left)", (unsigned long long)off(c), what,
		                  (unsigned long long)n, (unsigned long long)(c->end - c->p));
	return BRAIN_OK;
}

static uint32_t rd32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const unsigned char *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static int get32(cursor *c, uint32_t *v, const char *what)
{
	int rc = need(c, 4, what);
	if (rc)
		return rc;
	*v = rd32(c->p);
	c->p += 4;
	return BRAIN_OK;
}

static int get64(cursor *c, uint64_t *v, const char *what)
{
	int rc = need(c, 8, what);
	if (rc)
		return rc;
	*v = rd64(c->p);
	c->p += 8;
	return BRAIN_OK;
}

static int get_string(cursor *c, const char **s, size_t *len, const char *what)
{
	uint64_t n;
	int rc = get64(c, &n, what);
	if (rc == BRAIN_OK)
		rc = need(c, n, what);
	if (rc)
		return rc;
	*s = (const char *)c->p;
	*len = (size_t)n;
	c->p += n;
	return BRAIN_OK;
}

/* Size of a scalar value type; 0 for a string, an array or unknown. */
static uint64_t scalar_size(uint32_t type)
{
	switch (type) {
	case BRAIN_GGUF_U8:
	case BRAIN_GGUF_I8:
	case BRAIN_GGUF_BOOL:
		return 1;
	case BRAIN_GGUF_U16:
	case BRAIN_GGUF_I16:
		return 2;
	case BRAIN_GGUF_U32:
	case BRAIN_GGUF_I32:
	case BRAIN_GGUF_F32:
		return 4;
	case BRAIN_GGUF_U64:
	case BRAIN_GGUF_I64:
	case BRAIN_GGUF_F64:
		return 8;
	default:
		return 0;
	}
}

/* Step over one value of `type`; arrays of arrays are not used by any
 * model this runtime reads and are refused (no recursion to bound). */
static int skip_value(cursor *c, uint32_t type, bool in_array, brain_gguf_kv *kv)
{
	uint64_t size = scalar_size(type);
	if (size) {
		if (kv) {
			kv->value = c->p;
			kv->count = 1;
		}
		int rc = need(c, size, "a value");
		if (rc == BRAIN_OK)
			c->p += size;
		return rc;
	}
	if (type == BRAIN_GGUF_STRING) {
		const char *s;
		size_t n;
		if (kv)
			kv->value = c->p;
		if (kv)
			kv->count = 1;
		return get_string(c, &s, &n, "a string value");
	}
	if (type != BRAIN_GGUF_ARRAY || in_array)
		return brain__err(BRAIN_ECORRUPT, "gguf: offset %llu: value type %u is not known%s",
		                  (unsigned long long)off(c), type,
		                  type == BRAIN_GGUF_ARRAY ? " inside an array" : "");
	uint32_t et;
	uint64_t n;
	int rc = get32(c, &et, "an array's type");
	if (rc == BRAIN_OK)
		rc = get64(c, &n, "an array's length");
	if (rc)
		return rc;
	if (kv) {
		kv->elem_type = et;
		kv->count = n;
		kv->value = c->p;
	}
	uint64_t es = scalar_size(et);
	if (es) {
		if (n > UINT64_MAX / es)
			return brain__err(BRAIN_ECORRUPT, "gguf: offset %llu: an array of %llu elements",
			                  (unsigned long long)off(c), (unsigned long long)n);
		rc = need(c, n * es, "an array");
		if (rc == BRAIN_OK)
			c->p += n * es;
		return rc;
	}
	if (et != BRAIN_GGUF_STRING)
		return brain__err(BRAIN_ECORRUPT, "gguf: offset %llu: array element type %u is not "
		                  "supported", (unsigned long long)off(c), et);
	/* each string is at least its 8-byte length */
	if (n > (uint64_t)(c->end - c->p) / 8)
		return brain__err(BRAIN_ECORRUPT, "gguf: offset %llu: an array of %llu strings does "
		                  "not fit in the file", (unsigned long long)off(c),
		                  (unsigned long long)n);
	for (uint64_t i = 0; i < n; i++) {
		const char *s;
		size_t len;
		rc = get_string(c, &s, &len, "a string of an array");
		if (rc)
			return rc;
	}
	return BRAIN_OK;
}

uint64_t brain__ggml_bytes(uint32_t type, uint64_t ne0, uint64_t n)
{
	switch (type) {
	case BRAIN_GGML_F32:
		return n > UINT64_MAX / 4 ? 0 : n * 4;
	case BRAIN_GGML_F16:
		return n > UINT64_MAX / 2 ? 0 : n * 2;
	case BRAIN_GGML_Q8_0:
		if (ne0 % 32 || n / 32 > UINT64_MAX / 34)
			return 0;
		return n / 32 * 34;
	default:
		return 0;
	}
}

const char *brain__ggml_type_name(uint32_t type)
{
	switch (type) {
	case BRAIN_GGML_F32:
		return "f32";
	case BRAIN_GGML_F16:
		return "f16";
	case BRAIN_GGML_Q8_0:
		return "q8_0";
	case 2:
		return "q4_0";
	case 3:
		return "q4_1";
	case 6:
		return "q5_0";
	case 7:
		return "q5_1";
	case 30:
		return "bf16";
	default:
		return "an unsupported type";
	}
}

void brain__gguf_free(brain_gguf *g)
{
	if (!g)
		return;
	brain__free(g->kv);
	brain__free(g->tensors);
	memset(g, 0, sizeof *g);
}

static int parse(cursor *c, brain_gguf *g)
{
	int rc = need(c, 4, "the magic");
	if (rc)
		return rc;
	if (memcmp(c->p, "GGUF", 4) != 0)
		return brain__err(BRAIN_ECORRUPT, "gguf: not a GGUF file (no \"GGUF\" at offset 0)");
	c->p += 4;
	uint32_t version;
	rc = get32(c, &version, "the version");
	if (rc)
		return rc;
	if (version != 2 && version != 3) {
		if ((version & 0xffff) == 0 && version)
			return brain__err(BRAIN_ENOTSUP, "gguf: a big-endian file; this runtime reads "
			                  "little-endian GGUF");
		return brain__err(BRAIN_ENOTSUP, "gguf: version %u; this runtime reads versions 2 "
		                  "and 3", version);
	}
	g->version = version;
	uint64_t nt, nkv;
	rc = get64(c, &nt, "the tensor count");
	if (rc == BRAIN_OK)
		rc = get64(c, &nkv, "the key-value count");
	if (rc)
		return rc;
	/* a pair is at least 8 (key length) + 4 (type) + 1 bytes; a tensor
	 * description 8 + 4 + 4 + 8 */
	uint64_t left = (uint64_t)(c->end - c->p);
	if (nkv > left / 13 || nt > left / 24)
		return brain__err(BRAIN_ECORRUPT, "gguf: %llu pairs and %llu tensors do not fit in a "
		                  "file of %llu bytes", (unsigned long long)nkv,
		                  (unsigned long long)nt, (unsigned long long)(c->end - c->base));
	g->kv = nkv ? brain__calloc((size_t)nkv, sizeof *g->kv) : NULL;
	g->tensors = nt ? brain__calloc((size_t)nt, sizeof *g->tensors) : NULL;
	if ((nkv && !g->kv) || (nt && !g->tensors))
		return brain__oom((size_t)(nkv * sizeof *g->kv + nt * sizeof *g->tensors),
		                  "gguf tables");
	uint64_t alignment = GGUF_DEFAULT_ALIGNMENT;
	for (uint64_t i = 0; i < nkv; i++) {
		brain_gguf_kv *kv = &g->kv[i];
		rc = get_string(c, &kv->key, &kv->key_len, "a key");
		if (rc == BRAIN_OK)
			rc = get32(c, &kv->type, "a value's type");
		if (rc == BRAIN_OK)
			rc = skip_value(c, kv->type, false, kv);
		if (rc)
			return rc;
		g->nkv++;
		if (kv->key_len == 17 && memcmp(kv->key, "general.alignment", 17) == 0) {
			if (kv->type != BRAIN_GGUF_U32)
				return brain__err(BRAIN_ECORRUPT, "gguf: general.alignment is not a u32");
			alignment = rd32(kv->value);
			if (alignment == 0 || (alignment & (alignment - 1)) || alignment > 65536)
				return brain__err(BRAIN_ECORRUPT, "gguf: general.alignment %llu is not a "
				                  "power of two up to 65536", (unsigned long long)alignment);
		}
	}
	uint64_t *offsets = nt ? brain__malloc_array((size_t)nt, sizeof *offsets) : NULL;
	if (nt && !offsets)
		return brain__oom((size_t)nt * sizeof *offsets, "gguf offsets");
	for (uint64_t i = 0; i < nt && rc == BRAIN_OK; i++) {
		brain_gguf_tensor *t = &g->tensors[i];
		rc = get_string(c, &t->name, &t->name_len, "a tensor's name");
		if (rc == BRAIN_OK)
			rc = get32(c, &t->ndims, "a tensor's dimension count");
		if (rc)
			break;
		if (t->ndims == 0 || t->ndims > GGUF_MAX_DIMS) {
			rc = brain__err(BRAIN_ECORRUPT, "gguf: tensor \"%.*s\" has %u dimensions (1 to %d)",
			                (int)(t->name_len > 200 ? 200 : t->name_len), t->name, t->ndims,
			                GGUF_MAX_DIMS);
			break;
		}
		uint64_t n = 1;
		for (uint32_t d = 0; d < GGUF_MAX_DIMS; d++)
			t->ne[d] = 1;
		for (uint32_t d = 0; d < t->ndims && rc == BRAIN_OK; d++) {
			rc = get64(c, &t->ne[d], "a tensor's shape");
			if (rc == BRAIN_OK && (t->ne[d] == 0 || n > (UINT64_MAX >> 8) / t->ne[d]))
				rc = brain__err(BRAIN_ECORRUPT, "gguf: tensor \"%.*s\": dimension %u is %llu",
				                (int)(t->name_len > 200 ? 200 : t->name_len), t->name, d,
				                (unsigned long long)t->ne[d]);
			if (rc == BRAIN_OK)
				n *= t->ne[d];
		}
		if (rc == BRAIN_OK)
			rc = get32(c, &t->type, "a tensor's type");
		if (rc == BRAIN_OK)
			rc = get64(c, &offsets[i], "a tensor's offset");
		if (rc == BRAIN_OK) {
			t->bytes = brain__ggml_bytes(t->type, t->ne[0], n);
			g->ntensors++;
		}
	}
	if (rc == BRAIN_OK) {
		uint64_t start = (off(c) + alignment - 1) / alignment * alignment;
		uint64_t size = (uint64_t)(c->end - c->base);
		for (uint64_t i = 0; i < nt; i++) {
			brain_gguf_tensor *t = &g->tensors[i];
			if (offsets[i] % alignment) {
				rc = brain__err(BRAIN_ECORRUPT, "gguf: tensor \"%.*s\": offset %llu is not "
				                "aligned to %llu", (int)(t->name_len > 200 ? 200 : t->name_len),
				                t->name, (unsigned long long)offsets[i],
				                (unsigned long long)alignment);
				break;
			}
			if (!t->bytes)
				continue; /* not ours: refused if a model needs it */
			if (start > size || offsets[i] > size - start || t->bytes > size - start - offsets[i]) {
				rc = brain__err(BRAIN_ECORRUPT, "gguf: tensor \"%.*s\" (%llu bytes at data "
				                "offset %llu) runs past the end of the file (%llu bytes): "
				                "truncated?", (int)(t->name_len > 200 ? 200 : t->name_len),
				                t->name, (unsigned long long)t->bytes,
				                (unsigned long long)offsets[i], (unsigned long long)size);
				break;
			}
			t->data = c->base + start + offsets[i];
		}
	}
	brain__free(offsets);
	return rc;
}

int brain__gguf_parse(const void *data, size_t len, brain_gguf *g)
{
	memset(g, 0, sizeof *g);
	cursor c = {data, data, (const unsigned char *)data + len};
	int rc = parse(&c, g);
	if (rc)
		brain__gguf_free(g);
	return rc;
}

const brain_gguf_kv *brain__gguf_find(const brain_gguf *g, const char *key)
{
	size_t n = strlen(key);
	for (size_t i = g->nkv; i-- > 0;)
		if (g->kv[i].key_len == n && memcmp(g->kv[i].key, key, n) == 0)
			return &g->kv[i];
	return NULL;
}

const brain_gguf_tensor *brain__gguf_tensor(const brain_gguf *g, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < g->ntensors; i++)
		if (g->tensors[i].name_len == n && memcmp(g->tensors[i].name, name, n) == 0)
			return &g->tensors[i];
	return NULL;
}

int brain__gguf_u32(const brain_gguf *g, const char *key, uint32_t *out)
{
	const brain_gguf_kv *kv = brain__gguf_find(g, key);
	if (!kv)
		return brain__err(BRAIN_ENOTFOUND, "gguf: no key %s", key);
	const unsigned char *p = kv->value;
	int64_t v;
	switch (kv->type) {
	case BRAIN_GGUF_U8:
	case BRAIN_GGUF_BOOL:
		v = p[0];
		break;
	case BRAIN_GGUF_I8:
		v = (int8_t)p[0];
		break;
	case BRAIN_GGUF_U16:
		v = (int64_t)(p[0] | p[1] << 8);
		break;
	case BRAIN_GGUF_I16:
		v = (int16_t)(uint16_t)(p[0] | p[1] << 8);
		break;
	case BRAIN_GGUF_U32:
		v = rd32(p);
		break;
	case BRAIN_GGUF_I32:
		v = (int32_t)rd32(p);
		break;
	case BRAIN_GGUF_U64:
		v = rd64(p) > UINT32_MAX ? -1 : (int64_t)rd64(p);
		break;
	case BRAIN_GGUF_I64:
		v = (int64_t)rd64(p);
		break;
	default:
		return brain__err(BRAIN_ECORRUPT, "gguf: %s is not an integer (type %u)", key,
		                  kv->type);
	}
	if (v < 0 || v > UINT32_MAX)
		return brain__err(BRAIN_ECORRUPT, "gguf: %s is out of range", key);
	*out = (uint32_t)v;
	return BRAIN_OK;
}

int brain__gguf_f32(const brain_gguf *g, const char *key, float *out)
{
	const brain_gguf_kv *kv = brain__gguf_find(g, key);
	if (!kv)
		return brain__err(BRAIN_ENOTFOUND, "gguf: no key %s", key);
	if (kv->type == BRAIN_GGUF_F32) {
		uint32_t u = rd32(kv->value);
		memcpy(out, &u, 4);
	} else if (kv->type == BRAIN_GGUF_F64) {
		uint64_t u = rd64(kv->value);
		double d;
		memcpy(&d, &u, 8);
		*out = (float)d;
	} else {
		return brain__err(BRAIN_ECORRUPT, "gguf: %s is not a float (type %u)", key, kv->type);
	}
	return BRAIN_OK;
}

int brain__gguf_string(const brain_gguf *g, const char *key, const char **s, size_t *len)
{
	const brain_gguf_kv *kv = brain__gguf_find(g, key);
	if (!kv)
		return brain__err(BRAIN_ENOTFOUND, "gguf: no key %s", key);
	if (kv->type != BRAIN_GGUF_STRING)
		return brain__err(BRAIN_ECORRUPT, "gguf: %s is not a string (type %u)", key, kv->type);
	*len = (size_t)rd64(kv->value);
	*s = (const char *)kv->value + 8;
	return BRAIN_OK;
}

void brain__gguf_strings_init(brain_gguf_strings *it, const brain_gguf_kv *kv)
{
	bool ok = kv && kv->type == BRAIN_GGUF_ARRAY && kv->elem_type == BRAIN_GGUF_STRING;
	it->p = ok ? kv->value : NULL;
	it->left = ok ? kv->count : 0;
}

bool brain__gguf_strings_next(brain_gguf_strings *it, const char **s, size_t *len)
{
	if (!it->left)
		return false;
	uint64_t n = rd64(it->p);
	*s = (const char *)it->p + 8;
	*len = (size_t)n;
	it->p += 8 + n;
	it->left--;
	return true;
}
