/*
 * index/flat_files.c - the flat store's own files (index vtable version 4):
 * at a checkpoint, only the chunks of rows that changed since the last one
 * are written, into a new segment file; a descriptor, kept in the
 * checkpoint image, names for every chunk the segment and place that hold
 * it, with the occupancy bits.
 *
 *   <prefix>seg-<generation as 16 hex digits>
 *
 * A segment: a head (seg_head), a table of {chunk, hash} for each chunk it
 * holds, zeros up to a 4096-byte boundary, then the chunks, each `pitch`
 * bytes (its size rounded up to 64). A segment is written whole, fsynced,
 * and never changed; it is removed (retire) once no committed descriptor
 * names it. The hash of a chunk (brain__hash64 of its bytes, keyed by a
 * random key each segment draws and keeps in its head) checks the chunk
 * when its segment is opened, and tells at the next flush whether the
 * chunk changed since: a chunk whose hash is the one its segment holds is
 * not written again. The key is unknown outside the files, so rows a
 * caller chooses cannot be made to keep a chunk's hash. Opening maps each
 * segment privately (copy on write) and the rows adopt the chunks where
 * they lie.
 *
 * Space: a flush also rewrites the chunks still living in any older
 * segment of which less than half is still named, so every segment a
 * descriptor names is at least half live and the segments take at most
 * twice the index (plus the newest).
 *
 * The hnsw backend keeps its rows (vectors, bottom-layer links, codes) in
 * a flat store, so its rows go the same way (index/hnsw_file.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "braincore/sys/io.h"
#include "index/flat_internal.h"
#include "storage/crc32c.h"
#include "storage/manifest.h"

#define SEG_MAGIC 0x31474553584e5242ull /* "BRNXSEG1" */
#define SEG_VERSION 1u
#define FILES_MAGIC 0x53464c46u /* "FLFS" */
#define FILES_VERSION 1u
#define PAGE 4096u
#define PATH_BYTES 4096

typedef struct seg_head {
	uint64_t magic;
	uint32_t version;
	uint32_t crc;         /* CRC-32C of the head (this field 0) and its table */
	uint64_t generation;
	uint64_t chunk_bytes;
	uint64_t pitch;       /* chunk_bytes rounded up to 64 */
	uint64_t nchunks;
	uint64_t data_offset; /* of the first chunk; a multiple of 4096 */
	uint64_t key;         /* of the chunk hashes */
} seg_head;
_Static_assert(sizeof(seg_head) == 64, "segment head layout");

typedef struct seg_entry {
	uint64_t chunk; /* which chunk of the index */
	uint64_t hash;  /* of its bytes */
} seg_entry;

/* The descriptor: this head, the occupancy words, the segments'
 * generations, then one seg_ref per chunk. */
typedef struct files_head {
	uint32_t magic;
	uint32_t version;
	uint32_t dimensions;
	uint32_t metric;
	uint32_t elem;
	uint32_t chunk_log2;
	uint64_t stride_bytes;
	uint64_t chunk_bytes;
	uint64_t count;
	uint64_t used_words;
	uint64_t nchunks;
	uint64_t nsegs;
} files_head;
_Static_assert(sizeof(files_head) == 72, "flat files descriptor layout");

typedef struct seg_ref {
	uint32_t seg; /* index into the descriptor's segments */
	uint32_t pos; /* the chunk's place in that segment */
} seg_ref;

static size_t pitch_of(size_t chunk_bytes)
{
	return (chunk_bytes + 63) & ~(size_t)63;
}

static int seg_path(char *buf, const brain_index_files *files, uint64_t generation)
{
	int n = snprintf(buf, PATH_BYTES, "%s/%sseg-%016llx", files->dir, files->prefix,
	                 (unsigned long long)generation);
	if (n < 0 || n >= PATH_BYTES)
		return brain__err(BRAIN_EINVAL, "flat: path of %s/%sseg-... is too long", files->dir,
		                  files->prefix);
	return BRAIN_OK;
}

/* The segment `gen` among those the homes name (sorted), or NULL. */
static flat_seg *seg_of(const flat_index *f, uint64_t gen)
{
	size_t lo = 0, hi = f->nsegs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (f->segs[mid].gen < gen)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < f->nsegs && f->segs[lo].gen == gen ? &f->segs[lo] : NULL;
}

/* Chunks worth keeping: none past the last occupied slot. */
static size_t chunks_in_use(const flat_index *f, size_t *words_out)
{
	size_t words = f->used_words;
	while (words && f->used[words - 1] == 0)
		words--;
	size_t per = (size_t)1 << f->rows.chunk_log2;
	*words_out = words;
	return BRAIN_MIN((words * 64 + per - 1) / per, f->rows.nchunks);
}

/* ---- freezing ------------------------------------------------------------
 *
 * A checkpoint freezes the rows (beside no change: the brain's writers
 * and the backend's builder are held off), then writes them while changes
 * go on. A chunk is FRZ_LIVE until the flush has read it: a change of one
 * of its rows first copies the chunk (FRZ_COPY), so the flush reads the
 * bytes of the freeze either way. The flush copies a chunk out under its
 * stripe of frz_mu (and hashes and writes the copy outside it), or takes
 * the writer's copy. */

typedef struct flat_frozen {
	size_t n;               /* chunks kept */
	size_t words;           /* occupancy words kept */
	uint64_t *used;         /* the occupancy bits at the freeze */
	uint64_t count;
	unsigned char **chunks; /* where chunks [0, n) lie (they never move) */
	size_t chunk_bytes;
} flat_frozen;

void brain__flat_will_write(brain_index *index, size_t slot)
{
	flat_index *f = flat_of(index);
	size_t c = slot >> f->rows.chunk_log2;
	if (c >= atomic_load_explicit(&f->nfrz, memory_order_acquire) ||
	    atomic_load_explicit(&f->frz[c], memory_order_acquire) != FRZ_LIVE)
		return;
	/* the copy's memory first, outside the lock */
	size_t bytes = brain__rows_chunk_bytes(&f->rows);
	unsigned char *copy = brain__malloc(bytes);
	pthread_mutex_t *mu = &f->frz_mu[c % FRZ_STRIPES];
	pthread_mutex_lock(mu);
	while (atomic_load_explicit(&f->frz[c], memory_order_relaxed) == FRZ_LIVE) {
		if (copy) {
			memcpy(copy, f->rows.chunks[c], bytes);
			f->frz_copy[c] = copy;
			copy = NULL;
			atomic_store_explicit(&f->frz[c], FRZ_COPY, memory_order_release);
			break;
		}
		/* no memory for the copy: wait until the flush has read it */
		pthread_cond_wait(&f->frz_cv[c % FRZ_STRIPES], mu);
	}
	pthread_mutex_unlock(mu);
	brain__free(copy); /* another writer copied it first */
}

int brain__flat_freeze(brain_index *index, void **out)
{
	flat_index *f = flat_of(index);
	*out = NULL;
	flat_frozen *z = brain__calloc(1, sizeof *z);
	if (!z)
		return brain__oom(sizeof *z, "flat: freeze");
	z->n = chunks_in_use(f, &z->words);
	z->count = f->count;
	z->chunk_bytes = brain__rows_chunk_bytes(&f->rows);
	z->used = brain__malloc_array(BRAIN_MAX(z->words, (size_t)1), sizeof *z->used);
	z->chunks = brain__malloc_array(BRAIN_MAX(z->n, (size_t)1), sizeof *z->chunks);
	int rc = z->used && z->chunks ? BRAIN_OK : brain__oom((z->words + z->n) * 8, "flat: freeze");
	if (rc == BRAIN_OK && z->n > f->frz_cap) {
		_Atomic unsigned char *frz = brain__realloc((void *)f->frz, z->n);
		if (frz)
			f->frz = frz;
		unsigned char **copy = frz ? brain__realloc(f->frz_copy, z->n * sizeof *copy) : NULL;
		if (copy) {
			f->frz_copy = copy;
			for (size_t i = f->frz_cap; i < z->n; i++) {
				atomic_init(&f->frz[i], FRZ_NONE);
				f->frz_copy[i] = NULL;
			}
			f->frz_cap = z->n;
		} else {
			rc = brain__oom(z->n * (1 + sizeof *copy), "flat: freeze");
		}
	}
	if (rc) {
		brain__free(z->used);
		brain__free(z->chunks);
		brain__free(z);
		return rc;
	}
	for (size_t i = 0; i < z->words; i++)
		z->used[i] = atomic_load_explicit(&f->used[i], memory_order_relaxed);
	for (size_t i = 0; i < z->n; i++) {
		z->chunks[i] = f->rows.chunks[i];
		atomic_store_explicit(&f->frz[i], FRZ_LIVE, memory_order_relaxed);
	}
	atomic_store_explicit(&f->nfrz, z->n, memory_order_release);
	atomic_store_explicit(&f->freezing, true, memory_order_release);
	*out = z;
	return BRAIN_OK;
}

/* Chunk i's frozen bytes copied into `into` (its stripe held only for
 * the copy). With `release`, the chunk is done with: its rows may change
 * freely again, and a writer's copy of it is freed (or read instead of
 * copied). */
static void frozen_take(flat_index *f, const flat_frozen *z, size_t i, unsigned char *into,
                        bool release)
{
	pthread_mutex_t *mu = &f->frz_mu[i % FRZ_STRIPES];
	unsigned char *own = NULL;
	pthread_mutex_lock(mu);
	unsigned char st = atomic_load_explicit(&f->frz[i], memory_order_relaxed);
	if (st == FRZ_COPY && release) {
		own = f->frz_copy[i];
		f->frz_copy[i] = NULL;
	} else if (into && st != FRZ_NONE) {
		memcpy(into, st == FRZ_COPY ? f->frz_copy[i] : z->chunks[i], z->chunk_bytes);
	}
	if (release) {
		atomic_store_explicit(&f->frz[i], FRZ_NONE, memory_order_release);
		pthread_cond_broadcast(&f->frz_cv[i % FRZ_STRIPES]);
	}
	pthread_mutex_unlock(mu);
	if (own && into)
		memcpy(into, own, z->chunk_bytes);
	brain__free(own);
}

void brain__flat_thaw(brain_index *index, void *frozen)
{
	flat_index *f = flat_of(index);
	flat_frozen *z = frozen;
	if (!z)
		return;
	for (size_t i = 0; i < z->n; i++)
		frozen_take(f, z, i, NULL, true);
	atomic_store_explicit(&f->nfrz, 0, memory_order_release);
	atomic_store_explicit(&f->freezing, false, memory_order_release);
	brain__free(z->used);
	brain__free(z->chunks);
	brain__free(z);
}

/* ---- flush ------------------------------------------------------------- */

/* Write the frozen chunks dirty[0..n) into a new segment of this
 * generation, durably, releasing each once it is written; hashes[] gets
 * theirs. Nothing is left behind on error. */
static int write_segment(flat_index *f, const flat_frozen *z, const brain_index_files *files,
                         const size_t *dirty, uint64_t *hashes, size_t n, uint64_t key)
{
	const brain_io *io = files->io;
	char path[PATH_BYTES];
	int rc = seg_path(path, files, files->generation);
	if (rc)
		return rc;
	size_t chunk_bytes = z->chunk_bytes, pitch = pitch_of(chunk_bytes);
	size_t head_bytes = sizeof(seg_head) + n * sizeof(seg_entry);
	size_t data_offset = (head_bytes + PAGE - 1) & ~(size_t)(PAGE - 1);
	unsigned char *head = brain__calloc(1, head_bytes);
	unsigned char *buf = brain__malloc(chunk_bytes);
	if (!head || !buf) {
		brain__free(head);
		brain__free(buf);
		return brain__oom(head_bytes + chunk_bytes, "flat: segment head");
	}
	brain_io_file *file = NULL;
	rc = brain__io_create_fresh(io, path, &file);
	/* the whole size first: a full device fails here, before any write */
	if (rc == BRAIN_OK)
		rc = io->allocate(file, 0, (uint64_t)data_offset + (uint64_t)n * pitch);
	/* the chunks (each released once copied out), then the head and its
	 * table of their hashes */
	seg_entry *table = (seg_entry *)(void *)(head + sizeof(seg_head));
	for (size_t j = 0; rc == BRAIN_OK && j < n; j++) {
		frozen_take(f, z, dirty[j], buf, true);
		hashes[dirty[j]] = brain__hash64(buf, chunk_bytes, key);
		table[j].chunk = dirty[j];
		table[j].hash = hashes[dirty[j]];
		rc = io->pwrite(file, buf, chunk_bytes, (uint64_t)data_offset + (uint64_t)j * pitch);
	}
	seg_head h = {SEG_MAGIC, SEG_VERSION, 0, files->generation, chunk_bytes, pitch, n,
	              data_offset, key};
	memcpy(head, &h, sizeof h);
	h.crc = brain__crc32c(0, head, head_bytes);
	memcpy(head, &h, sizeof h);
	if (rc == BRAIN_OK)
		rc = io->pwrite(file, head, head_bytes, 0);
	if (rc == BRAIN_OK)
		rc = io->fsync(file);
	rc = brain__io_close_keep(io, file, rc);
	if (rc && file)
		io->unlink(io->payload, path);
	brain__free(head);
	brain__free(buf);
	return rc ? brain__err_context(rc, "flat: writing an index segment: ") : BRAIN_OK;
}

static int by_u64(const void *pa, const void *pb)
{
	uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;
	return (a > b) - (a < b);
}

/* The segments the chunks [0, n) live in, sorted, unique; *nsegs of them. */
static int referenced_segments(const flat_index *f, size_t n, uint64_t **out, size_t *nsegs)
{
	uint64_t *segs = brain__malloc_array(BRAIN_MAX(n, (size_t)1), sizeof *segs);
	if (!segs)
		return brain__oom(n * sizeof *segs, "flat: segment list");
	for (size_t i = 0; i < n; i++)
		segs[i] = f->home[i].seg;
	qsort(segs, n, sizeof *segs, by_u64);
	size_t u = 0;
	for (size_t i = 0; i < n; i++)
		if (u == 0 || segs[u - 1] != segs[i])
			segs[u++] = segs[i];
	*out = segs;
	*nsegs = u;
	return BRAIN_OK;
}

static uint32_t segment_index(const uint64_t *segs, size_t nsegs, uint64_t gen)
{
	size_t lo = 0, hi = nsegs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (segs[mid] < gen)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (uint32_t)lo;
}

/* The segments the homes [0, n) name, one entry each (with the new one
 * if chunks went there), replacing f->segs. */
static int keep_segments(flat_index *f, size_t n, const flat_seg *added)
{
	uint64_t *gens = NULL;
	size_t ngens = 0;
	int rc = referenced_segments(f, n, &gens, &ngens);
	flat_seg *segs = rc ? NULL : brain__malloc_array(BRAIN_MAX(ngens, (size_t)1), sizeof *segs);
	if (!rc && !segs)
		rc = brain__oom(ngens * sizeof *segs, "flat: segment list");
	for (size_t i = 0; rc == BRAIN_OK && i < ngens; i++) {
		const flat_seg *s = added && added->gen == gens[i] ? added : seg_of(f, gens[i]);
		segs[i] = s ? *s : (flat_seg){gens[i], 0, 0};
	}
	brain__free(gens);
	if (rc)
		return rc;
	brain__free(f->segs);
	f->segs = segs;
	f->nsegs = ngens;
	return BRAIN_OK;
}

int brain__flat_flush_frozen(brain_index *index, void *frozen, const brain_index_files *files,
                             const brain_index_writer *w)
{
	flat_index *f = flat_of(index);
	flat_frozen *z = frozen;
	size_t n = z->n, words = z->words;
	uint64_t *hashes = brain__malloc_array(BRAIN_MAX(n, (size_t)1), sizeof *hashes);
	size_t *dirty = brain__malloc_array(BRAIN_MAX(n, (size_t)1), sizeof *dirty);
	uint64_t *live = brain__calloc(BRAIN_MAX(f->nsegs, (size_t)1), sizeof *live);
	int rc = hashes && dirty && live ? BRAIN_OK : brain__oom(n * 16, "flat: flush");
	if (rc == BRAIN_OK && n > f->nhome) {
		flat_home *home = brain__realloc(f->home, n * sizeof *home);
		if (!home) {
			rc = brain__oom(n * sizeof *home, "flat: chunk homes");
		} else {
			memset(home + f->nhome, 0, (n - f->nhome) * sizeof *home);
			f->home = home;
			f->nhome = n;
		}
	}
	/* a chunk changed if its hash under its segment's key did */
	size_t ndirty = 0;
	bool *is_dirty = rc ? NULL : brain__calloc(BRAIN_MAX(n, (size_t)1), sizeof *is_dirty);
	if (rc == BRAIN_OK && !is_dirty)
		rc = brain__oom(n, "flat: flush");
	unsigned char *scratch = rc ? NULL : brain__malloc(z->chunk_bytes);
	if (rc == BRAIN_OK && !scratch)
		rc = brain__oom(z->chunk_bytes, "flat: flush");
	for (size_t i = 0; rc == BRAIN_OK && i < n; i++) {
		const flat_seg *s = f->home[i].seg ? seg_of(f, f->home[i].seg) : NULL;
		if (s)
			frozen_take(f, z, i, scratch, false);
		is_dirty[i] = !s || brain__hash64(scratch, z->chunk_bytes, s->key) != f->home[i].hash;
		if (!is_dirty[i])
			live[s - f->segs]++;
	}
	brain__free(scratch);
	/* a segment less than half named: its chunks move to the new one */
	for (size_t i = 0; rc == BRAIN_OK && i < n; i++) {
		const flat_seg *s = is_dirty[i] ? NULL : seg_of(f, f->home[i].seg);
		if (s && live[s - f->segs] * 2 < s->nchunks)
			is_dirty[i] = true;
	}
	for (size_t i = 0; rc == BRAIN_OK && i < n; i++) {
		if (is_dirty[i])
			dirty[ndirty++] = i;
		else
			frozen_take(f, z, i, NULL, true); /* its rows may change again */
	}
	brain__free(is_dirty);
	brain__free(live);
	flat_seg added = {files->generation, brain__random64(), ndirty};
	if (rc == BRAIN_OK && ndirty)
		rc = write_segment(f, z, files, dirty, hashes, ndirty, added.key);
	if (rc == BRAIN_OK) {
		/* the segment is durable: those chunks live there now (a crash
		 * before the checkpoint commits leaves it to the next open's
		 * retire) */
		for (size_t j = 0; j < ndirty; j++)
			f->home[dirty[j]] = (flat_home){files->generation, j, hashes[dirty[j]]};
		f->nhome = n; /* chunks past the last occupied slot are not kept */
		rc = keep_segments(f, n, ndirty ? &added : NULL);
	}
	brain__free(dirty);
	brain__free(hashes);
	uint64_t *segs = NULL;
	size_t nsegs = 0;
	if (rc == BRAIN_OK)
		rc = referenced_segments(f, n, &segs, &nsegs);
	files_head h = {FILES_MAGIC, FILES_VERSION, f->dim, (uint32_t)f->metric, (uint32_t)f->elem,
	                f->rows.chunk_log2, f->rows.stride, z->chunk_bytes,
	                z->count, words, n, nsegs};
	if (rc == BRAIN_OK)
		rc = w->write(w->payload, &h, sizeof h);
	if (rc == BRAIN_OK && words)
		rc = w->write(w->payload, z->used, words * sizeof *z->used);
	if (rc == BRAIN_OK && nsegs)
		rc = w->write(w->payload, segs, nsegs * sizeof *segs);
	for (size_t i = 0; rc == BRAIN_OK && i < n; i++) {
		seg_ref r = {segment_index(segs, nsegs, f->home[i].seg), (uint32_t)f->home[i].pos};
		rc = w->write(w->payload, &r, sizeof r);
	}
	brain__free(segs);
	return rc;
}

int brain__flat_flush(brain_index *index, const brain_index_files *files,
                      const brain_index_writer *w)
{
	void *z = NULL;
	int rc = brain__flat_freeze(index, &z);
	if (rc == BRAIN_OK)
		rc = brain__flat_flush_frozen(index, z, files, w);
	brain__flat_thaw(index, z);
	return rc;
}

/* ---- open -------------------------------------------------------------- */

/* Map segment `gen` and check its head; *head and *table point into the
 * mapping, which is added to f->maps. */
static int map_segment(flat_index *f, const brain_index_files *files, uint64_t gen,
                       size_t chunk_bytes, seg_head *head, const seg_entry **table,
                       unsigned char **base)
{
	const brain_io *io = files->io;
	char path[PATH_BYTES];
	int rc = seg_path(path, files, gen);
	if (rc)
		return rc;
	brain_io_file *file = NULL;
	rc = io->open(io->payload, path, 0, &file);
	if (rc == BRAIN_ENOTFOUND)
		return brain__err(BRAIN_ENOTFOUND, "%s, which the checkpoint names, is missing", path);
	uint64_t size = 0;
	if (rc == BRAIN_OK)
		rc = io->size(file, &size);
	if (rc == BRAIN_OK && (size < sizeof *head || size > SIZE_MAX))
		rc = brain__err(BRAIN_ECORRUPT, "%s: %llu bytes cannot be a segment (offset 0)", path,
		                (unsigned long long)size);
	void *addr = NULL;
	if (rc == BRAIN_OK)
		rc = io->map(file, 0, (size_t)size, &addr);
	io->close(file);
	if (rc)
		return rc;
	f->maps[f->nmaps++] = (flat_mapping){addr, (size_t)size, gen};
	unsigned char *p = addr;
	memcpy(head, p, sizeof *head);
	size_t pitch = pitch_of(chunk_bytes);
	/* the checksum first (a damaged version field is damage, not a newer
	 * format), over as much of a table as the file can hold */
	if (head->magic != SEG_MAGIC || head->nchunks > (size - sizeof *head) / sizeof(seg_entry))
		return brain__err(BRAIN_ECORRUPT, "%s: not an index segment, or its head is damaged "
		                  "(offset 0)", path);
	uint64_t table_bytes = head->nchunks * sizeof(seg_entry);
	seg_head zeroed = *head;
	zeroed.crc = 0;
	uint32_t crc = brain__crc32c(0, &zeroed, sizeof zeroed);
	crc = brain__crc32c(crc, p + sizeof *head, (size_t)table_bytes);
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	if (crc != head->crc)
		return brain__err(BRAIN_ECORRUPT, "%s: the segment head fails its checksum (offset 0)",
		                  path);
#endif
	if (head->version > SEG_VERSION)
		return brain__err(BRAIN_EVERSION, "%s: segment version %u; this library reads %u",
		                  path, head->version, SEG_VERSION);
	if (head->version != SEG_VERSION || head->generation != gen ||
	    head->chunk_bytes != chunk_bytes || head->pitch != pitch ||
	    head->nchunks > size / pitch || head->data_offset % PAGE ||
	    sizeof *head + table_bytes > head->data_offset || head->data_offset > size ||
	    head->nchunks * pitch > size - head->data_offset)
		return brain__err(BRAIN_ECORRUPT, "%s: the segment head does not fit (offset 0)",
		                  path);
	*table = (const seg_entry *)(const void *)(p + sizeof *head);
	*base = p + head->data_offset;
	return BRAIN_OK;
}

int brain__flat_open_files(const brain_index_config *config, size_t extra, size_t align,
                           brain_elem elem, const brain_index_files *files, void *desc,
                           size_t len, brain_index **out)
{
	int rc = brain__flat_check_config("flat", config, out);
	if (rc == BRAIN_OK)
		rc = brain__flat_check_elem(config, elem);
	if (rc)
		return rc;
	files_head h;
	if (len < sizeof h)
		return brain__err(BRAIN_ECORRUPT, "flat: index descriptor of %zu bytes is too short",
		                  len);
	memcpy(&h, desc, sizeof h);
	if (h.magic == FILES_MAGIC && h.version > FILES_VERSION)
		return brain__err(BRAIN_EVERSION, "flat: index descriptor version %u; this library "
		                  "reads %u", h.version, FILES_VERSION);
	if (h.magic != FILES_MAGIC || h.version != FILES_VERSION || h.elem != (uint32_t)elem ||
	    h.dimensions != config->dimensions || h.metric != (uint32_t)config->metric ||
	    h.chunk_log2 > CHUNK_MAX_LOG2 || h.used_words > ((uint64_t)UINT32_MAX + 1) / 64 ||
	    h.count > h.used_words * 64 || h.nsegs > h.nchunks)
		return brain__err(BRAIN_ECORRUPT, "flat: index descriptor is out of range");
	flat_index *f = brain__flat_make(config, h.chunk_log2, extra, align, elem);
	if (!f)
		return brain_errcode() ? brain_errcode() : BRAIN_ENOMEM;
	size_t per = (size_t)1 << h.chunk_log2, chunk_bytes = brain__rows_chunk_bytes(&f->rows);
	uint64_t need = sizeof h + h.used_words * 8 + h.nsegs * 8 + h.nchunks * sizeof(seg_ref);
	if (h.stride_bytes != f->rows.stride || h.chunk_bytes != chunk_bytes || need != len ||
	    h.nchunks > (h.used_words * 64 + per - 1) / per) {
		brain__free(f);
		return brain__err(BRAIN_ECORRUPT, "flat: index descriptor of %zu bytes does not hold "
		                  "its %llu chunks", len, (unsigned long long)h.nchunks);
	}
	unsigned char *bytes = desc;
	f->used = h.used_words ? (_Atomic uint64_t *)(void *)(bytes + sizeof h) : NULL;
	f->used_words = (size_t)h.used_words;
	f->used_borrowed = true;
	size_t count = 0, top = 0;
	for (size_t i = 0; i < f->used_words; i++) {
		count += (size_t)__builtin_popcountll(f->used[i]);
		if (f->used[i])
			top = i * 64 + 64 - (size_t)__builtin_clzll(f->used[i]);
	}
	f->count = count;
	const uint64_t *segs = (const uint64_t *)(const void *)(bytes + sizeof h + h.used_words * 8);
	const seg_ref *refs = (const seg_ref *)(const void *)(segs + h.nsegs);
	size_t n = (size_t)h.nchunks, nsegs = (size_t)h.nsegs;
	if (count != h.count || top > n * per)
		rc = brain__err(BRAIN_ECORRUPT, "flat: index descriptor holds %zu vectors (up to slot "
		                "%zu) for %llu in %zu chunks", count, top, (unsigned long long)h.count,
		                n);
	unsigned char **chunks = NULL;
	seg_head *heads = NULL;
	const seg_entry **tables = NULL;
	unsigned char **bases = NULL;
	if (rc == BRAIN_OK) {
		chunks = brain__malloc_array(BRAIN_MAX(n, (size_t)1), sizeof *chunks);
		f->home = brain__calloc(BRAIN_MAX(n, (size_t)1), sizeof *f->home);
		f->maps = brain__calloc(BRAIN_MAX(nsegs, (size_t)1), sizeof *f->maps);
		heads = brain__malloc_array(BRAIN_MAX(nsegs, (size_t)1), sizeof *heads);
		tables = brain__malloc_array(BRAIN_MAX(nsegs, (size_t)1), sizeof *tables);
		bases = brain__malloc_array(BRAIN_MAX(nsegs, (size_t)1), sizeof *bases);
		if (!chunks || !f->home || !f->maps || !heads || !tables || !bases)
			rc = brain__oom(n * 40 + nsegs * 96, "flat: open files");
	}
	f->io = files->io;
	for (size_t s = 0; rc == BRAIN_OK && s < nsegs; s++) {
		if (segs[s] == 0 || (s && segs[s] <= segs[s - 1]))
			rc = brain__err(BRAIN_ECORRUPT, "flat: index descriptor names segment %llu out "
			                "of order", (unsigned long long)segs[s]);
		else
			rc = map_segment(f, files, segs[s], chunk_bytes, &heads[s], &tables[s], &bases[s]);
	}
	for (size_t i = 0; rc == BRAIN_OK && i < n; i++) {
		seg_ref r = refs[i];
		if (r.seg >= nsegs || r.pos >= heads[r.seg].nchunks || tables[r.seg][r.pos].chunk != i) {
			rc = brain__err(BRAIN_ECORRUPT, "flat: index descriptor places chunk %zu where "
			                "no segment holds it", i);
			break;
		}
		chunks[i] = bases[r.seg] + (size_t)r.pos * pitch_of(chunk_bytes);
		uint64_t hash = brain__hash64(chunks[i], chunk_bytes, heads[r.seg].key);
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
		if (hash != tables[r.seg][r.pos].hash) {
			char path[PATH_BYTES];
			seg_path(path, files, segs[r.seg]);
			rc = brain__err(BRAIN_ECORRUPT, "%s: chunk %zu fails its checksum (offset %llu)",
			                path, i,
			                (unsigned long long)(heads[r.seg].data_offset +
			                                     (uint64_t)r.pos * pitch_of(chunk_bytes)));
			break;
		}
#endif
		f->home[i] = (flat_home){segs[r.seg], r.pos, hash};
	}
	f->nhome = n;
	if (rc == BRAIN_OK) {
		f->segs = brain__malloc_array(BRAIN_MAX(nsegs, (size_t)1), sizeof *f->segs);
		if (!f->segs)
			rc = brain__oom(nsegs * sizeof *f->segs, "flat: segment list");
		for (size_t s = 0; rc == BRAIN_OK && s < nsegs; s++)
			f->segs[s] = (flat_seg){segs[s], heads[s].key, heads[s].nchunks};
		f->nsegs = nsegs;
	}
	if (rc == BRAIN_OK)
		rc = brain__rows_adopt_chunks(&f->rows, chunks, n);
	brain__free(chunks);
	brain__free(heads);
	brain__free(tables);
	brain__free(bases);
	if (rc) {
		brain__flat_files_release(f);
		brain__rows_free(&f->rows);
		brain__free(f);
		return rc;
	}
	*out = (brain_index *)(void *)f;
	return BRAIN_OK;
}

/* ---- retire ------------------------------------------------------------ */

typedef struct retiring {
	const flat_index *f;
	const brain_index_files *files;
	size_t prefix_len;
} retiring;

static bool referenced(const flat_index *f, uint64_t gen)
{
	for (size_t i = 0; i < f->nhome; i++)
		if (f->home[i].seg == gen)
			return true;
	return false;
}

static int retire_entry(const char *name, void *ctx)
{
	const retiring *r = ctx;
	if (strncmp(name, r->files->prefix, r->prefix_len) != 0 ||
	    strncmp(name + r->prefix_len, "seg-", 4) != 0)
		return BRAIN_OK;
	const char *hex = name + r->prefix_len + 4;
	if (strlen(hex) != 16 || strspn(hex, "0123456789abcdef") != 16)
		return BRAIN_OK;
	uint64_t gen = strtoull(hex, NULL, 16);
	if (referenced(r->f, gen))
		return BRAIN_OK;
	char path[PATH_BYTES];
	if (seg_path(path, r->files, gen) == BRAIN_OK)
		r->files->io->unlink(r->files->io->payload, path); /* best effort */
	return BRAIN_OK;
}

void brain__flat_retire(brain_index *index, const brain_index_files *files)
{
	const flat_index *f = cflat_of(index);
	const brain_io *io = files->io;
	if (io->version < 2 || !io->list)
		return; /* without a listing, leftovers stay (an io of version 1) */
	retiring r = {f, files, strlen(files->prefix)};
	if (io->list(io->payload, files->dir, retire_entry, &r))
		BRAIN_LOG(BRAIN_LOG_WARN, "flat: old index segments in %s stay for now: %s",
		          files->dir, brain_errmsg());
}

/* ---- handing back the mappings of files no descriptor names ------------ */

/* A mapping no row lies in any more, to unmap outside the brain lock
 * (brain__flat_unmap_detached); here if there is no room to note it. */
static void detach(flat_index *f, const flat_mapping *m)
{
	pthread_mutex_lock(&f->detached_mu);
	if (f->ndetached == f->detached_cap) {
		size_t cap = f->detached_cap ? 2 * f->detached_cap : 4;
		flat_mapping *d = brain__realloc(f->detached, cap * sizeof *d);
		if (d) {
			f->detached = d;
			f->detached_cap = cap;
		}
	}
	bool noted = f->ndetached < f->detached_cap;
	if (noted)
		f->detached[f->ndetached++] = *m;
	pthread_mutex_unlock(&f->detached_mu);
	if (!noted)
		f->io->unmap(f->io->payload, m->addr, m->len);
}

void brain__flat_unmap_detached(brain_index *index)
{
	flat_index *f = flat_of(index);
	pthread_mutex_lock(&f->detached_mu);
	flat_mapping *d = f->detached;
	size_t n = f->ndetached;
	f->detached = NULL;
	f->ndetached = f->detached_cap = 0;
	pthread_mutex_unlock(&f->detached_mu);
	for (size_t i = 0; i < n; i++)
		f->io->unmap(f->io->payload, d[i].addr, d[i].len);
	brain__free(d);
}

static bool in_map(const unsigned char *chunk, const void *ctx)
{
	const flat_mapping *m = ctx;
	return chunk >= (const unsigned char *)m->addr &&
	       chunk < (const unsigned char *)m->addr + m->len;
}

/* Does `chunk` lie in none of the segment mappings (so, adopted, in the
 * image the index was loaded from)? */
static bool in_no_segment(const unsigned char *chunk, const void *ctx)
{
	const flat_index *f = ctx;
	for (size_t m = 0; m < f->nmaps; m++)
		if (in_map(chunk, &f->maps[m]))
			return false;
	return true;
}

bool brain__flat_would_release(const brain_index *index)
{
	const flat_index *f = cflat_of(index);
	if (atomic_load_explicit(&f->freezing, memory_order_acquire))
		return false;
	if (f->used_borrowed)
		return true;
	for (size_t m = 0; m < f->nmaps; m++)
		if (!referenced(f, f->maps[m].gen))
			return true;
	size_t n = BRAIN_MIN(f->rows.nlent, f->rows.nchunks);
	for (size_t c = 0; c < n; c++)
		if (brain__rows_borrowed(&f->rows, c) && in_no_segment(f->rows.chunks[c], f))
			return true;
	return false;
}

int brain__flat_release(brain_index *index, size_t max_chunks, size_t *left)
{
	flat_index *f = flat_of(index);
	*left = 0;
	if (atomic_load_explicit(&f->freezing, memory_order_acquire))
		return BRAIN_OK; /* a checkpoint's freeze holds chunk pointers and its
		                    flush moves the homes: its own retire asks again */
	size_t budget = max_chunks;
	for (size_t m = f->nmaps; m-- > 0;) {
		if (referenced(f, f->maps[m].gen))
			continue; /* the committed descriptor (or the one being written) names it */
		size_t still = 0;
		int rc = brain__rows_own_some(&f->rows, &budget, in_map, &f->maps[m], &still);
		if (rc)
			return rc;
		*left += still;
		if (still == 0) {
			detach(f, &f->maps[m]);
			f->maps[m] = f->maps[--f->nmaps];
		}
	}
	/* what was adopted from the image the index was loaded from (rows of
	 * an index saved inside it, the occupancy bits): a checkpoint has
	 * replaced that image, which the brain unmaps once nothing lies in it */
	size_t still = 0;
	int rc = brain__rows_own_some(&f->rows, &budget, in_no_segment, f, &still);
	if (rc)
		return rc;
	*left += still;
	return f->used_borrowed ? brain__flat_used_resize(f, f->used_words) : BRAIN_OK;
}

void brain__flat_files_release(flat_index *f)
{
	brain__flat_unmap_detached((brain_index *)(void *)f);
	for (size_t i = 0; i < f->nmaps; i++)
		f->io->unmap(f->io->payload, f->maps[i].addr, f->maps[i].len);
	brain__free(f->maps);
	brain__free(f->home);
	brain__free(f->segs);
	f->maps = NULL;
	f->nmaps = 0;
	f->home = NULL;
	f->nhome = 0;
	f->segs = NULL;
	f->nsegs = 0;
}
