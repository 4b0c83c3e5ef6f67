/*
 * storage/image.c - see image.h.
 */
#include <stdio.h>
#include <string.h>

#include "storage/crc32c.h"
#include "storage/image.h"

static const char k_magic[8] = {'B', 'R', 'A', 'I', 'N', 'I', 'M', 'G'};
static const char k_trailer_magic[8] = {'B', 'R', 'A', 'I', 'N', 'E', 'N', 'D'};
#define BYTE_ORDER_MARK 0x01020304u
#define WRITE_BUF (1u << 20)

/* On-disk structs: fixed-width fields in little-endian order, explicit
 * padding, sizes pinned by static asserts. */
typedef struct image_header {
	char magic[8];
	uint32_t version;
	uint32_t header_bytes;
	uint32_t byte_order;
	uint32_t block_size;
	uint32_t dimensions;
	uint32_t metric;
	uint32_t embedder;
	uint32_t embedder_id;
	char index[BRAIN_IMAGE_NAME_MAX];
	uint64_t generation;
	uint64_t lsn;
	int64_t created_ms;
	uint32_t reserved1;
	uint32_t crc; /* of every byte before it */
} image_header;
_Static_assert(sizeof(image_header) == 136, "image header layout");

typedef struct section_entry {
	uint32_t kind;
	uint32_t flags;
	uint64_t offset;
	uint64_t length;
	uint64_t crc_offset;
} section_entry;
_Static_assert(sizeof(section_entry) == 32, "section entry layout");

typedef struct footer_head {
	uint32_t nsections;
	uint32_t reserved;
} footer_head;

typedef struct image_trailer {
	char magic[8];
	uint64_t footer_offset;
	uint64_t footer_bytes;
	uint64_t image_bytes;
	uint32_t footer_crc;
	uint32_t reserved[5];
	uint32_t reserved2;
	uint32_t crc; /* of every byte before it */
} image_trailer;
_Static_assert(sizeof(image_trailer) == 64, "image trailer layout");

static uint64_t align_up(uint64_t x, uint64_t a)
{
	return (x + a - 1) & ~(a - 1);
}

void brain__identity_make(brain_identity *id, uint32_t dimensions, int metric, int embedder,
                          uint32_t embedder_id, const char *index)
{
	memset(id, 0, sizeof *id);
	id->dimensions = dimensions;
	id->metric = (uint32_t)metric;
	id->embedder = (uint32_t)embedder;
	id->embedder_id = embedder_id;
	snprintf(id->index, sizeof id->index, "%s", index);
}

int brain__identity_check(const brain_identity *stored, const brain_identity *want,
                          const char *where)
{
	static const char *const metrics[] = {"cosine", "l2", "ip"};
	static const char *const embedders[] = {"builtin", "none", "model"};
	if (stored->dimensions != want->dimensions)
		return brain__err(BRAIN_EMISMATCH, "%s: dimensions: the brain has %u, the options ask "
		                  "for %u", where, stored->dimensions, want->dimensions);
	if (stored->metric != want->metric)
		return brain__err(BRAIN_EMISMATCH, "%s: metric: the brain has %s, the options ask for %s",
		                  where, stored->metric < 3 ? metrics[stored->metric] : "unknown",
		                  want->metric < 3 ? metrics[want->metric] : "unknown");
	if (stored->embedder != want->embedder)
		return brain__err(BRAIN_EMISMATCH, "%s: embedder: the brain has %s, the options ask "
		                  "for %s", where,
		                  stored->embedder < 3 ? embedders[stored->embedder] : "unknown",
		                  want->embedder < 3 ? embedders[want->embedder] : "unknown");
	if (stored->embedder_id != want->embedder_id) {
		const char *what = stored->embedder == 2 ? "model" : "word table";
		if (!want->embedder_id)
			return brain__err(BRAIN_EMISMATCH, "%s: embedder: the brain's vectors were made "
			                  "with %s %08x, and no %s is loaded (docs/embedder.md)", where,
			                  what, stored->embedder_id, what);
		if (!stored->embedder_id)
			return brain__err(BRAIN_EMISMATCH, "%s: embedder: the brain's vectors were made "
			                  "without a %s, and %s %08x is loaded (docs/embedder.md)", where,
			                  what, what, want->embedder_id);
		return brain__err(BRAIN_EMISMATCH, "%s: embedder: the brain's vectors were made with "
		                  "%s %08x, not with the %08x loaded: vectors of two models do not mix",
		                  where, what, stored->embedder_id, want->embedder_id);
	}
	if (strncmp(stored->index, want->index, BRAIN_IMAGE_NAME_MAX) != 0)
		return brain__err(BRAIN_EMISMATCH, "%s: index: the brain has \"%.63s\", the options ask "
		                  "for \"%.63s\"", where, stored->index, want->index);
	return BRAIN_OK;
}

/* ---- writing ----------------------------------------------------------- */

static int flush(brain_image_writer *w)
{
	if (w->err)
		return w->err;
	if (w->buf_len) {
		int rc = w->sink.write(w->sink.payload, w->buf, w->buf_len);
		w->buf_len = 0;
		if (rc)
			return w->err = rc;
	}
	return BRAIN_OK;
}

/* Append raw bytes (not part of any section checksum). */
static int put(brain_image_writer *w, const void *data, size_t len)
{
	if (w->err)
		return w->err;
	const unsigned char *p = data;
	while (len) {
		if (w->buf_len == w->buf_cap) {
			int rc = flush(w);
			if (rc)
				return rc;
		}
		size_t n = BRAIN_MIN(len, w->buf_cap - w->buf_len);
		if (p)
			memcpy(w->buf + w->buf_len, p, n);
		else
			memset(w->buf + w->buf_len, 0, n);
		w->buf_len += n;
		w->pos += n;
		len -= n;
		if (p)
			p += n;
	}
	return BRAIN_OK;
}

static int pad_to(brain_image_writer *w, uint64_t align)
{
	return put(w, NULL, (size_t)(align_up(w->pos, align) - w->pos));
}

int brain__imgw_begin(brain_image_writer *w, brain_sink sink, const brain_identity *id,
                      uint64_t generation, uint64_t lsn)
{
	memset(w, 0, sizeof *w);
	w->sink = sink;
	w->buf = brain__malloc(WRITE_BUF);
	if (!w->buf)
		return w->err = brain__oom(WRITE_BUF, "image write buffer");
	w->buf_cap = WRITE_BUF;
	image_header h;
	memset(&h, 0, sizeof h);
	memcpy(h.magic, k_magic, sizeof h.magic);
	h.version = BRAIN_IMAGE_VERSION;
	h.header_bytes = BRAIN_IMAGE_ALIGN;
	h.byte_order = BYTE_ORDER_MARK;
	h.block_size = BRAIN_IMAGE_BLOCK;
	h.dimensions = id->dimensions;
	h.metric = id->metric;
	h.embedder = id->embedder;
	h.embedder_id = id->embedder_id;
	memcpy(h.index, id->index, sizeof h.index);
	h.index[BRAIN_IMAGE_NAME_MAX - 1] = '\0';
	h.generation = generation;
	h.lsn = lsn;
	h.created_ms = brain__now_ms();
	h.crc = brain__crc32c(0, &h, offsetof(image_header, crc));
	int rc = put(w, &h, sizeof h);
	return rc ? rc : pad_to(w, BRAIN_IMAGE_ALIGN);
}

int brain__imgw_section_begin(brain_image_writer *w, uint32_t kind)
{
	if (w->err)
		return w->err;
	if (w->in_section || w->nsections == BRAIN_IMAGE_MAX_SECTIONS)
		return w->err = brain__err(BRAIN_EINTERNAL, "image: section %u begun out of order",
		                           kind);
	int rc = pad_to(w, BRAIN_IMAGE_ALIGN);
	if (rc)
		return rc;
	w->sections[w->nsections].kind = kind;
	w->sections[w->nsections].offset = w->pos;
	w->in_section = true;
	w->ncrcs = 0;
	w->block_crc = 0;
	w->block_fill = 0;
	return BRAIN_OK;
}

static int push_crc(brain_image_writer *w)
{
	if (w->ncrcs == w->crcs_cap) {
		size_t cap = w->crcs_cap ? w->crcs_cap * 2 : 64;
		uint32_t *c = brain__realloc(w->crcs, cap * sizeof *c);
		if (!c)
			return w->err = brain__oom(cap * sizeof *c, "image block checksums");
		w->crcs = c;
		w->crcs_cap = cap;
	}
	w->crcs[w->ncrcs++] = w->block_crc;
	w->block_crc = 0;
	w->block_fill = 0;
	return BRAIN_OK;
}

static int section_bytes(brain_image_writer *w, const void *data, size_t len)
{
	const unsigned char *p = data;
	static const unsigned char zeros[4096];
	while (len) {
		size_t n = BRAIN_MIN(len, (size_t)(BRAIN_IMAGE_BLOCK - w->block_fill));
		if (!p)
			n = BRAIN_MIN(n, sizeof zeros);
		int rc = put(w, p, n);
		if (rc)
			return rc;
		w->block_crc = brain__crc32c(w->block_crc, p ? p : zeros, n);
		w->block_fill += (uint32_t)n;
		if (w->block_fill == BRAIN_IMAGE_BLOCK && (rc = push_crc(w)) != 0)
			return rc;
		len -= n;
		if (p)
			p += n;
	}
	return BRAIN_OK;
}

int brain__imgw_write(brain_image_writer *w, const void *data, size_t len)
{
	if (w->err)
		return w->err;
	if (!w->in_section)
		return w->err = brain__err(BRAIN_EINTERNAL, "image: write outside a section");
	return data || !len ? section_bytes(w, data, len) : BRAIN_EINTERNAL;
}

int brain__imgw_zeros(brain_image_writer *w, size_t len)
{
	if (w->err)
		return w->err;
	if (!w->in_section)
		return w->err = brain__err(BRAIN_EINTERNAL, "image: write outside a section");
	return section_bytes(w, NULL, len);
}

int brain__imgw_section_end(brain_image_writer *w)
{
	if (w->err)
		return w->err;
	if (!w->in_section)
		return w->err = brain__err(BRAIN_EINTERNAL, "image: no section to end");
	int rc = BRAIN_OK;
	if (w->block_fill)
		rc = push_crc(w);
	if (rc)
		return rc;
	uint32_t i = w->nsections;
	w->sections[i].length = w->pos - w->sections[i].offset;
	rc = pad_to(w, 8);
	if (rc)
		return rc;
	w->sections[i].crc_offset = w->pos;
	rc = put(w, w->crcs, w->ncrcs * sizeof *w->crcs);
	if (rc)
		return rc;
	w->nsections++;
	w->in_section = false;
	return BRAIN_OK;
}

int brain__imgw_finish(brain_image_writer *w, uint64_t *size, uint32_t *crc)
{
	if (w->err)
		return w->err;
	if (w->in_section)
		return w->err = brain__err(BRAIN_EINTERNAL, "image: finished inside a section");
	int rc = pad_to(w, 8);
	if (rc)
		return rc;
	uint64_t footer_offset = w->pos;
	footer_head fh = {w->nsections, 0};
	uint32_t fcrc = brain__crc32c(0, &fh, sizeof fh);
	rc = put(w, &fh, sizeof fh);
	for (uint32_t i = 0; rc == BRAIN_OK && i < w->nsections; i++) {
		section_entry e = {w->sections[i].kind, 0, w->sections[i].offset,
		                   w->sections[i].length, w->sections[i].crc_offset};
		fcrc = brain__crc32c(fcrc, &e, sizeof e);
		rc = put(w, &e, sizeof e);
	}
	if (rc)
		return rc;
	image_trailer t;
	memset(&t, 0, sizeof t);
	memcpy(t.magic, k_trailer_magic, sizeof t.magic);
	t.footer_offset = footer_offset;
	t.footer_bytes = w->pos - footer_offset;
	t.image_bytes = w->pos + sizeof t;
	t.footer_crc = fcrc;
	t.crc = brain__crc32c(0, &t, offsetof(image_trailer, crc));
	rc = put(w, &t, sizeof t);
	if (rc == BRAIN_OK)
		rc = flush(w);
	if (rc)
		return rc;
	if (size)
		*size = t.image_bytes;
	if (crc)
		*crc = t.crc;
	return BRAIN_OK;
}

void brain__imgw_free(brain_image_writer *w)
{
	brain__free(w->buf);
	brain__free(w->crcs);
	w->buf = NULL;
	w->crcs = NULL;
}

int brain__membuf_write(void *payload, const void *data, size_t len)
{
	brain_membuf *m = payload;
	if (len > SIZE_MAX - m->len)
		return brain__oom(SIZE_MAX, "snapshot buffer");
	if (m->len + len > m->cap) {
		size_t cap = BRAIN_MAX(m->cap * 2, m->len + len);
		unsigned char *d = brain__realloc(m->data, cap);
		if (!d)
			return brain__oom(cap, "snapshot buffer");
		m->data = d;
		m->cap = cap;
	}
	memcpy(m->data + m->len, data, len);
	m->len += len;
	return BRAIN_OK;
}

/* ---- reading ----------------------------------------------------------- */

typedef struct image_section {
	uint32_t kind;
	unsigned char *data;
	size_t length;
	const uint32_t *crcs;
	size_t nblocks;
	_Atomic uint64_t *verified; /* bit per block */
	_Atomic bool all_verified;
} image_section;

struct brain_image {
	_Atomic size_t refs;
	unsigned char *data;
	size_t len;
	brain_image_release_fn release;
	void *ctx;
	char name[96];
	brain_identity identity;
	uint64_t generation, lsn;
	uint32_t crc;
	uint32_t nsections;
	image_section sections[BRAIN_IMAGE_MAX_SECTIONS];
};

static int corrupt(const char *name, uint64_t off, const char *what)
{
	return brain__err(BRAIN_ECORRUPT, "%s: %s (offset %llu)", name, what,
	                  (unsigned long long)off);
}

static bool crc_ok(uint32_t stored, const void *data, size_t len)
{
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	/* let the fuzzer reach the code behind the checksums */
	(void)stored;
	(void)data;
	(void)len;
	return true;
#else
	return brain__crc32c(0, data, len) == stored;
#endif
}

static int parse(brain_image *img)
{
	const char *nm = img->name;
	unsigned char *d = img->data;
	size_t len = img->len;
	image_trailer t;
	image_header h;
	if (len < BRAIN_IMAGE_ALIGN + sizeof t)
		return corrupt(nm, 0, "too short to be a checkpoint image");
	memcpy(&h, d, sizeof h);
	if (memcmp(h.magic, k_magic, sizeof h.magic) != 0)
		return corrupt(nm, 0, "not a braincore checkpoint image (bad magic)");
	if (!crc_ok(h.crc, &h, offsetof(image_header, crc)))
		return corrupt(nm, offsetof(image_header, crc), "header checksum mismatch");
	if (h.byte_order != BYTE_ORDER_MARK)
		return corrupt(nm, offsetof(image_header, byte_order),
		               "written on a machine of another byte order");
	if (h.version != BRAIN_IMAGE_VERSION)
		return brain__err(h.version > BRAIN_IMAGE_VERSION ? BRAIN_EVERSION : BRAIN_ECORRUPT,
		                  "%s: format version %u; this library reads version %u", nm,
		                  h.version, BRAIN_IMAGE_VERSION);
	if (h.header_bytes != BRAIN_IMAGE_ALIGN || h.block_size != BRAIN_IMAGE_BLOCK)
		return corrupt(nm, offsetof(image_header, header_bytes), "header geometry unknown");
	if (h.index[BRAIN_IMAGE_NAME_MAX - 1] != '\0' || h.index[0] == '\0')
		return corrupt(nm, offsetof(image_header, index), "index name is not a string");
	img->identity.dimensions = h.dimensions;
	img->identity.metric = h.metric;
	img->identity.embedder = h.embedder;
	img->identity.embedder_id = h.embedder_id;
	memcpy(img->identity.index, h.index, sizeof h.index);
	img->generation = h.generation;
	img->lsn = h.lsn;

	size_t toff = len - sizeof t;
	memcpy(&t, d + toff, sizeof t);
	if (memcmp(t.magic, k_trailer_magic, sizeof t.magic) != 0)
		return corrupt(nm, toff, "trailer missing (the image is truncated or overwritten)");
	if (!crc_ok(t.crc, &t, offsetof(image_trailer, crc)))
		return corrupt(nm, toff, "trailer checksum mismatch");
	if (t.image_bytes != len)
		return brain__err(BRAIN_ECORRUPT, "%s: image is %zu bytes, its trailer says %llu", nm,
		                  len, (unsigned long long)t.image_bytes);
	img->crc = t.crc;
	if (t.footer_offset < BRAIN_IMAGE_ALIGN || t.footer_offset > toff ||
	    t.footer_bytes != toff - t.footer_offset || t.footer_bytes < sizeof(footer_head) ||
	    t.footer_offset % 8)
		return corrupt(nm, toff, "trailer points outside the image");
	if (!crc_ok(t.footer_crc, d + t.footer_offset, (size_t)t.footer_bytes))
		return corrupt(nm, t.footer_offset, "section table checksum mismatch");
	footer_head fh;
	memcpy(&fh, d + t.footer_offset, sizeof fh);
	if (fh.nsections > BRAIN_IMAGE_MAX_SECTIONS ||
	    t.footer_bytes != sizeof fh + (uint64_t)fh.nsections * sizeof(section_entry))
		return corrupt(nm, t.footer_offset, "section table size is wrong");
	uint64_t prev_end = BRAIN_IMAGE_ALIGN;
	for (uint32_t i = 0; i < fh.nsections; i++) {
		section_entry e;
		uint64_t eoff = t.footer_offset + sizeof fh + (uint64_t)i * sizeof e;
		memcpy(&e, d + eoff, sizeof e);
		uint64_t nblocks = e.length / BRAIN_IMAGE_BLOCK + (e.length % BRAIN_IMAGE_BLOCK != 0);
		if (e.offset % BRAIN_IMAGE_ALIGN || e.offset < prev_end || e.offset > t.footer_offset ||
		    e.length > t.footer_offset - e.offset || e.crc_offset % 4 ||
		    e.crc_offset < e.offset + e.length || e.crc_offset > t.footer_offset ||
		    nblocks * 4 > t.footer_offset - e.crc_offset)
			return corrupt(nm, eoff, "section table entry points outside its place");
		for (uint32_t j = 0; j < i; j++)
			if (img->sections[j].kind == e.kind)
				return corrupt(nm, eoff, "section listed twice");
		prev_end = e.crc_offset + nblocks * 4;
		image_section *s = &img->sections[i];
		s->kind = e.kind;
		s->data = d + e.offset;
		s->length = (size_t)e.length;
		s->crcs = (const uint32_t *)(const void *)(d + e.crc_offset);
		s->nblocks = (size_t)nblocks;
		size_t words = s->nblocks / 64 + 1;
		s->verified = brain__calloc(words, sizeof *s->verified);
		if (!s->verified)
			return brain__oom(words * sizeof *s->verified, "image verified blocks");
		atomic_init(&s->all_verified, s->nblocks == 0);
		img->nsections = i + 1;
	}
	return BRAIN_OK;
}

static void image_free(brain_image *img)
{
	for (uint32_t i = 0; i < img->nsections; i++)
		brain__free(img->sections[i].verified);
	if (img->release)
		img->release(img->ctx, img->data, img->len);
	brain__free(img);
}

int brain__image_open(void *data, size_t len, brain_image_release_fn release, void *ctx,
                      const char *name, brain_image **out)
{
	*out = NULL;
	brain_image *img = brain__calloc(1, sizeof *img);
	if (!img) {
		if (release)
			release(ctx, data, len);
		return brain__oom(sizeof *img, "image");
	}
	atomic_init(&img->refs, 1);
	img->data = data;
	img->len = len;
	img->release = release;
	img->ctx = ctx;
	snprintf(img->name, sizeof img->name, "%s", name);
	int rc = parse(img);
	if (rc) {
		image_free(img);
		return rc;
	}
	*out = img;
	return BRAIN_OK;
}

void brain__image_ref(brain_image *img)
{
	atomic_fetch_add(&img->refs, 1);
}

void brain__image_unref(brain_image *img)
{
	if (img && atomic_fetch_sub(&img->refs, 1) == 1)
		image_free(img);
}

const brain_identity *brain__image_identity(const brain_image *img)
{
	return &img->identity;
}

uint64_t brain__image_generation(const brain_image *img)
{
	return img->generation;
}

uint64_t brain__image_lsn(const brain_image *img)
{
	return img->lsn;
}

uint64_t brain__image_size(const brain_image *img)
{
	return img->len;
}

const void *brain__image_data(const brain_image *img)
{
	return img->data;
}

uint32_t brain__image_crc(const brain_image *img)
{
	return img->crc;
}

const char *brain__image_name(const brain_image *img)
{
	return img->name;
}

static image_section *find(const brain_image *img, uint32_t kind)
{
	for (uint32_t i = 0; i < img->nsections; i++)
		if (img->sections[i].kind == kind)
			return (image_section *)&img->sections[i];
	return NULL;
}

bool brain__image_section(const brain_image *img, uint32_t kind, void **data, size_t *len)
{
	image_section *s = find(img, kind);
	if (!s)
		return false;
	*data = s->data;
	*len = s->length;
	return true;
}

static int verify_section(brain_image *img, image_section *s, size_t off, size_t len)
{
	if (atomic_load_explicit(&s->all_verified, memory_order_acquire))
		return BRAIN_OK;
	if (off > s->length)
		off = s->length;
	len = BRAIN_MIN(len, s->length - off);
	size_t first = off / BRAIN_IMAGE_BLOCK;
	size_t last = len ? (off + len - 1) / BRAIN_IMAGE_BLOCK : first;
	if (len == 0 && off == 0 && s->length == 0)
		return BRAIN_OK;
	for (size_t b = first; b <= last && b < s->nblocks; b++) {
		uint64_t bit = (uint64_t)1 << (b % 64);
		if (atomic_load_explicit(&s->verified[b / 64], memory_order_acquire) & bit)
			continue;
		size_t start = b * BRAIN_IMAGE_BLOCK;
		size_t n = BRAIN_MIN((size_t)BRAIN_IMAGE_BLOCK, s->length - start);
		uint32_t stored;
		memcpy(&stored, &s->crcs[b], sizeof stored);
		if (!crc_ok(stored, s->data + start, n))
			return brain__err(BRAIN_ECORRUPT, "%s: section %u, block %zu (image offset %llu, "
			                  "%zu bytes) fails its checksum", img->name, s->kind, b,
			                  (unsigned long long)(s->data + start - img->data), n);
		atomic_fetch_or_explicit(&s->verified[b / 64], bit, memory_order_release);
	}
	if (first == 0 && last + 1 >= s->nblocks)
		atomic_store_explicit(&s->all_verified, true, memory_order_release);
	return BRAIN_OK;
}

int brain__image_verify(brain_image *img, uint32_t kind, size_t off, size_t len)
{
	image_section *s = find(img, kind);
	return s ? verify_section(img, s, off, len) : BRAIN_OK;
}

int brain__image_verify_all(brain_image *img, uint64_t *bytes)
{
	uint64_t total = 0;
	for (uint32_t i = 0; i < img->nsections; i++) {
		int rc = verify_section(img, &img->sections[i], 0, img->sections[i].length);
		if (rc)
			return rc;
		total += img->sections[i].length;
	}
	if (bytes)
		*bytes = total;
	return BRAIN_OK;
}
