/*
 * organs/cortex/lift.c - the word-vector table of the semantic lift: where
 * it is, opening and validating it, sharing it between brains, lookups.
 *
 * The file's layout is documented in tools/build_words.py, which writes
 * it. Everything the lookups read is checked once, at open: the header's
 * sizes and offsets against the file's length, the content hash, every
 * entry's word inside the strings, every bucket inside the entries, and
 * that each word is found at its own entry through the hash index (so a
 * probe always ends at an empty bucket, and no word is there twice).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "organs/cortex/lift.h"

#define MAGIC "BRNWORDS"
#define FORMAT_VERSION 1u
#define BYTE_ORDER_MARK 0x01020304u
#define HEADER_SIZE 128u
#define HASH_SEED 0x776F7264735F7631ull /* "words_v1" */
#define WORD_SEED 0x6C6966745F776F72ull /* "lift_wor" */
#define ENTRY_SIZE 12u
#define MAX_DIMS 1024u
#define MAX_COUNT (1u << 24)
#define MAX_BUCKETS (1u << 26)
#define MAX_WORD 64u
#define MAX_FILE ((uint64_t)1 << 32)

enum { HOLD_BORROWED, HOLD_MAPPED, HOLD_READ };

struct brain_lift {
	const unsigned char *data;
	size_t len;
	const unsigned char *buckets;
	const unsigned char *entries;
	const int8_t *vectors;
	const char *strings;
	uint32_t dims, count, mask;
	uint64_t id;
	char *name;
	int hold;
	bool shared; /* in the registry (acquired), else brain__lift_parse's */
	/* the registry's, under g_lifts_mu */
	dev_t dev;
	ino_t ino;
	int refs;
	struct brain_lift *next;
};

/* ---- reading the file's fields (little-endian, checked at open) ---------- */

static inline uint32_t load32(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

static inline uint64_t load64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

typedef struct entry {
	uint32_t off, len;
	float scale;
} entry;

static inline entry entry_at(const brain_lift *l, uint32_t row)
{
	entry e;
	const unsigned char *p = l->entries + (size_t)row * ENTRY_SIZE;
	e.off = load32(p);
	e.len = load32(p + 4);
	memcpy(&e.scale, p + 8, sizeof e.scale);
	return e;
}

static inline uint32_t bucket_at(const brain_lift *l, uint32_t b)
{
	return load32(l->buckets + (size_t)b * 4);
}

/* ---- lookups ------------------------------------------------------------- */

int32_t brain__lift_find(const brain_lift *l, const char *word, size_t len)
{
	if (len == 0 || len > MAX_WORD)
		return -1;
	uint32_t b = (uint32_t)brain__hash64(word, len, WORD_SEED) & l->mask;
	for (;;) {
		uint32_t v = bucket_at(l, b);
		if (v == 0)
			return -1;
		entry e = entry_at(l, v - 1);
		if (e.len == len && memcmp(l->strings + e.off, word, len) == 0)
			return (int32_t)(v - 1);
		b = (b + 1) & l->mask;
	}
}

const char *brain__lift_word(const brain_lift *l, uint32_t row, size_t *len)
{
	entry e = entry_at(l, row);
	*len = e.len;
	return l->strings + e.off;
}

void brain__lift_add(const brain_lift *l, uint32_t row, float weight, float *acc)
{
	float s = entry_at(l, row).scale * weight;
	const int8_t *q = l->vectors + (size_t)row * l->dims;
	for (uint32_t d = 0; d < l->dims; d++)
		acc[d] += s * (float)q[d];
}

uint64_t brain__lift_id(const brain_lift *l)
{
	return l->id;
}

uint32_t brain__lift_fingerprint(const brain_lift *l)
{
	uint32_t f = (uint32_t)(l->id ^ (l->id >> 32));
	return f ? f : 1;
}

uint32_t brain__lift_dims(const brain_lift *l)
{
	return l->dims;
}

uint32_t brain__lift_count(const brain_lift *l)
{
	return l->count;
}

const char *brain__lift_name(const brain_lift *l)
{
	return l->name;
}

/* ---- validation ------------------------------------------------------------ */

static int corrupt(const char *name, const char *fmt, ...) BRAIN_PRINTF(2, 3);
static int corrupt(const char *name, const char *fmt, ...)
{
	char why[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	return brain__err(BRAIN_ECORRUPT, "words table %s: %s", name, why);
}

/* A section [off, off + size) of the file: inside it, after `*end` (the
 * previous section's end: sections are in order and do not overlap), and
 * aligned to `align`. */
static int section(const char *name, const char *what, uint64_t off, uint64_t size,
                   uint64_t align, uint64_t len, uint64_t *end)
{
	if (off < *end || off % align != 0 || off > len || size > len - off)
		return corrupt(name, "its %s (%llu bytes at offset %llu) are not inside the file's "
		               "%llu bytes after the part before them", what,
		               (unsigned long long)size, (unsigned long long)off,
		               (unsigned long long)len);
	*end = off + size;
	return BRAIN_OK;
}

static bool hash_ok(uint64_t stored, const unsigned char *data, size_t len)
{
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	/* let the fuzzer reach the checks behind the hash */
	(void)stored;
	(void)data;
	(void)len;
	return true;
#else
	return brain__hash64(data + 24, len - 24, HASH_SEED) == stored;
#endif
}

/* Check the header and the sections and fill l's pointers. */
static int check_layout(brain_lift *l, const char *name)
{
	const unsigned char *d = l->data;
	uint64_t len = l->len;
	if (len < HEADER_SIZE)
		return corrupt(name, "%llu bytes, shorter than its %u-byte header",
		               (unsigned long long)len, HEADER_SIZE);
	if (memcmp(d, MAGIC, 8) != 0)
		return corrupt(name, "not a word table (its first bytes are not \"%s\")", MAGIC);
	uint32_t version = load32(d + 8);
	if (version != FORMAT_VERSION)
		return corrupt(name, "format version %u; this library reads version %u", version,
		               FORMAT_VERSION);
	if (load32(d + 12) != BYTE_ORDER_MARK)
		return corrupt(name, "written for a host of the other byte order");
	uint64_t size = load64(d + 24);
	if (size != len)
		return corrupt(name, "%s: its header says %llu bytes, the file has %llu",
		               size > len ? "truncated" : "longer than written",
		               (unsigned long long)size, (unsigned long long)len);
	if (load32(d + 32) != HEADER_SIZE)
		return corrupt(name, "header size %u, expected %u", load32(d + 32), HEADER_SIZE);
	uint32_t dims = load32(d + 36), count = load32(d + 40), buckets = load32(d + 44);
	if (dims == 0 || dims > MAX_DIMS)
		return corrupt(name, "%u dimensions (1 to %u)", dims, MAX_DIMS);
	if (count == 0 || count > MAX_COUNT)
		return corrupt(name, "%u words (1 to %u)", count, MAX_COUNT);
	if (buckets > MAX_BUCKETS || (buckets & (buckets - 1)) != 0 || buckets <= count)
		return corrupt(name, "%u hash buckets for %u words (a power of two, more than the "
		               "words, at most %u)", buckets, count, MAX_BUCKETS);
	if (!hash_ok(load64(d + 16), d, (size_t)len))
		return corrupt(name, "its contents do not match their hash %016llx (damaged or "
		               "changed after it was written)", (unsigned long long)load64(d + 16));
	uint64_t end = HEADER_SIZE, strings_size = load64(d + 80);
	int rc = section(name, "hash buckets", load64(d + 48), (uint64_t)buckets * 4, 4, len, &end);
	if (rc == BRAIN_OK)
		rc = section(name, "entries", load64(d + 56), (uint64_t)count * ENTRY_SIZE, 4, len,
		             &end);
	if (rc == BRAIN_OK)
		rc = section(name, "vectors", load64(d + 64), (uint64_t)count * dims, 1, len, &end);
	if (rc == BRAIN_OK)
		rc = section(name, "words", load64(d + 72), strings_size, 1, len, &end);
	if (rc)
		return rc;
	l->buckets = d + load64(d + 48);
	l->entries = d + load64(d + 56);
	l->vectors = (const int8_t *)(d + load64(d + 64));
	l->strings = (const char *)(d + load64(d + 72));
	l->dims = dims;
	l->count = count;
	l->mask = buckets - 1;
	l->id = load64(d + 16) ? load64(d + 16) : 1; /* 0 means "no table" */
	return BRAIN_OK;
}

/* Every entry's word inside the strings and its scale a number; every
 * bucket names an entry, each entry exactly one bucket; each word found at
 * its own entry. */
static int check_index(brain_lift *l, const char *name)
{
	uint64_t strings_size = load64(l->data + 80);
	for (uint32_t i = 0; i < l->count; i++) {
		entry e = entry_at(l, i);
		if (e.len == 0 || e.len > MAX_WORD || e.off > strings_size ||
		    e.len > strings_size - e.off)
			return corrupt(name, "word %u (%u bytes at %u) is not inside the words' %llu "
			               "bytes, or longer than %u", i, e.len, e.off,
			               (unsigned long long)strings_size, MAX_WORD);
		if (!isfinite(e.scale) || e.scale < 0.0f)
			return corrupt(name, "word %u has the scale %g", i, (double)e.scale);
	}
	size_t words = ((size_t)l->count + 63) / 64;
	uint64_t *seen = brain__calloc(words, sizeof *seen);
	if (!seen)
		return brain__oom(words * sizeof *seen, "words table check");
	int rc = BRAIN_OK;
	for (uint32_t b = 0; rc == BRAIN_OK && b <= l->mask; b++) {
		uint32_t v = bucket_at(l, b);
		if (v == 0)
			continue;
		if (v > l->count) {
			rc = corrupt(name, "hash bucket %u names word %u of %u", b, v - 1, l->count);
		} else if (seen[(v - 1) / 64] >> ((v - 1) % 64) & 1) {
			rc = corrupt(name, "word %u is in two hash buckets", v - 1);
		} else {
			seen[(v - 1) / 64] |= (uint64_t)1 << ((v - 1) % 64);
		}
	}
	brain__free(seen);
	/* Now every bucket names an entry and at most count < buckets are
	 * taken: a probe ends. */
	for (uint32_t i = 0; rc == BRAIN_OK && i < l->count; i++) {
		size_t len;
		const char *w = brain__lift_word(l, i, &len);
		int32_t found = brain__lift_find(l, w, len);
		if (found != (int32_t)i)
			rc = corrupt(name, "word %u (\"%.*s\") is %s through the hash index", i,
			             (int)len, w, found < 0 ? "not found" : "found at another entry");
	}
	return rc;
}

static int parse(brain_lift *l, const char *name)
{
	int rc = check_layout(l, name);
	if (rc == BRAIN_OK)
		rc = check_index(l, name);
	return rc;
}

static void lift_free(brain_lift *l)
{
	if (!l)
		return;
	if (l->hold == HOLD_MAPPED)
		munmap((void *)(uintptr_t)l->data, l->len);
	else if (l->hold == HOLD_READ)
		brain__free((void *)(uintptr_t)l->data);
	brain__free(l->name);
	brain__free(l);
}

int brain__lift_parse(const void *data, size_t len, const char *name, brain_lift **out)
{
	*out = NULL;
	if (!name)
		name = "(memory)";
	brain_lift *l = brain__calloc(1, sizeof *l);
	if (!l)
		return brain__oom(sizeof *l, "words table");
	l->data = data;
	l->len = len;
	l->hold = HOLD_BORROWED;
	l->name = brain__strndup(name, strlen(name));
	int rc = l->name ? parse(l, name) : brain__oom(strlen(name), "words table");
	if (rc) {
		lift_free(l);
		return rc;
	}
	*out = l;
	return BRAIN_OK;
}

/* ---- files and the registry ---------------------------------------------- */

/* The whole file into memory, when it cannot be mapped. */
static int read_all(int fd, size_t len, const char *path, unsigned char **out)
{
	unsigned char *buf = brain__malloc(len);
	if (!buf)
		return brain__oom(len, "words table");
	size_t got = 0;
	while (got < len) {
		ssize_t n = pread(fd, buf + got, len - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int err = errno;
			brain__free(buf);
			return n < 0 ? brain__err(BRAIN_EIO, "words table %s: read: %s", path,
			                          strerror(err))
			             : corrupt(path, "shorter than it was a moment ago");
		}
		got += (size_t)n;
	}
	*out = buf;
	return BRAIN_OK;
}

static int load_file(const char *path, int fd, const struct stat *st, brain_lift **out)
{
	if (!S_ISREG(st->st_mode))
		return brain__err(BRAIN_EIO, "words table %s: not a regular file", path);
	if (st->st_size < 0 || (uint64_t)st->st_size > MAX_FILE)
		return corrupt(path, "%lld bytes, larger than a table can be",
		               (long long)st->st_size);
	size_t len = (size_t)st->st_size;
	brain_lift *l = brain__calloc(1, sizeof *l);
	if (!l)
		return brain__oom(sizeof *l, "words table");
	l->name = brain__strndup(path, strlen(path));
	if (!l->name) {
		brain__free(l);
		return brain__oom(strlen(path), "words table");
	}
	l->dev = st->st_dev;
	l->ino = st->st_ino;
	l->len = len;
	int rc = BRAIN_OK;
	void *map = len ? mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
	if (map != MAP_FAILED) {
		l->data = map;
		l->hold = HOLD_MAPPED;
	} else if (len) {
		unsigned char *buf = NULL;
		rc = read_all(fd, len, path, &buf);
		l->data = buf;
		l->hold = HOLD_READ;
	} else {
		l->hold = HOLD_BORROWED; /* empty: parse says so */
		l->data = (const unsigned char *)"";
	}
	if (rc == BRAIN_OK)
		rc = parse(l, path);
	if (rc) {
		lift_free(l);
		return rc;
	}
	*out = l;
	return BRAIN_OK;
}

/* Tables open in this process, by device and inode. */
static pthread_mutex_t g_lifts_mu = PTHREAD_MUTEX_INITIALIZER;
static brain_lift *g_lifts;

int brain__lift_acquire(const char *path, brain_lift **out)
{
	*out = NULL;
	int fd;
	do
		fd = open(path, O_RDONLY | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return brain__err(errno == ENOENT ? BRAIN_ENOTFOUND : BRAIN_EIO,
		                  "words table %s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int err = errno;
		close(fd);
		return brain__err(BRAIN_EIO, "words table %s: %s", path, strerror(err));
	}
	/* a shared table belongs to no brain's memory account */
	brain_mem_scope scope = brain__mem_enter(NULL, BRAIN_MEM_ENGINE);
	pthread_mutex_lock(&g_lifts_mu);
	brain_lift *l = g_lifts;
	while (l && !(l->dev == st.st_dev && l->ino == st.st_ino))
		l = l->next;
	int rc = BRAIN_OK;
	if (l) {
		l->refs++;
	} else {
		/* loaded under the lock: brains opening together load it once */
		rc = load_file(path, fd, &st, &l);
		if (rc == BRAIN_OK) {
			l->shared = true;
			l->refs = 1;
			l->next = g_lifts;
			g_lifts = l;
		}
	}
	pthread_mutex_unlock(&g_lifts_mu);
	brain__mem_leave(scope);
	close(fd); /* a mapping outlives its descriptor */
	*out = rc == BRAIN_OK ? l : NULL;
	return rc;
}

void brain__lift_release(brain_lift *l)
{
	if (!l)
		return;
	brain_mem_scope scope = brain__mem_enter(NULL, BRAIN_MEM_ENGINE);
	if (!l->shared) {
		lift_free(l);
	} else {
		pthread_mutex_lock(&g_lifts_mu);
		if (--l->refs == 0) {
			brain_lift **p = &g_lifts;
			while (*p != l)
				p = &(*p)->next;
			*p = l->next;
			lift_free(l);
		}
		pthread_mutex_unlock(&g_lifts_mu);
	}
	brain__mem_leave(scope);
}

/* ---- where the table is -------------------------------------------------- */

const char *brain__lift_where(bool *explicit_path)
{
	*explicit_path = false;
	const char *env = getenv(BRAIN_LIFT_ENV);
	if (env && *env) {
		if (strcmp(env, "off") == 0)
			return NULL;
		*explicit_path = true;
		return env;
	}
#ifdef BRAIN_WORDS_PATH
	return BRAIN_WORDS_PATH;
#else
	return NULL;
#endif
}

int brain__lift_acquire_default(brain_lift **out)
{
	*out = NULL;
	bool named;
	const char *path = brain__lift_where(&named);
	if (!path)
		return BRAIN_OK;
	int rc = brain__lift_acquire(path, out);
	if (rc == BRAIN_ENOTFOUND && !named)
		return BRAIN_OK; /* not installed: the lexical embedder alone */
	if (rc == BRAIN_ENOTFOUND)
		return brain__err_context(rc, BRAIN_LIFT_ENV ": ");
	return rc;
}
