/*
 * engine/disk.c - on-disk brains: opening a directory (create, lock, map the
 * checkpoint, replay the log), checkpoints, and closing.
 *
 * A brain directory holds:
 *
 *   LOCK             an empty file; the writer holds an exclusive lock on it
 *   MANIFEST         which checkpoint is current (storage/manifest.h)
 *   ckpt-<gen>       the checkpoint image (storage/image.h), mapped on open
 *   wal              the write-ahead log since that checkpoint (storage/wal.h)
 *
 * The order of a checkpoint makes every crash point safe: the new image is
 * written and fsynced under a new name; the manifest is replaced
 * atomically (the commit point); then the log is replaced by an empty one
 * and the old image removed. A crash before the commit point leaves the
 * old manifest, image and log; after it, the new image and a log whose
 * records it already holds (replay skips them by lsn). docs/durability.md
 * and docs/file-format.md describe the whole.
 */
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "engine/change.h"
#include "engine/handle.h"
#include "organs/cortex/model.h"
#include "storage/image.h"
#include "storage/manifest.h"
#include "storage/wal.h"

#define PATH_MAX_BYTES 4096
/* A read-only open retries when a checkpoint replaced the image between
 * reading the manifest and opening the image. */
#define READONLY_ATTEMPTS 8
/* Space is reserved for a checkpoint file ahead of the writes, an eighth of
 * what is written so far at a time, within these bounds; where the device
 * has no room for a step, exactly what the write needs. */
#define CKPT_MIN_STEP ((uint64_t)64 << 10)
#define CKPT_MAX_STEP ((uint64_t)64 << 20)

brain_identity brain__identity_of(const brain_t *b)
{
	brain_identity id;
	brain__identity_make(&id, b->env.opts.dimensions, b->env.opts.metric, b->env.opts.embedder,
	                     b->env.embedder_id, b->env.index_vt->name);
	return id;
}

static int join(char *buf, const brain_t *b, const char *name)
{
	return brain__path_join(buf, PATH_MAX_BYTES, b->disk.dir, name);
}

static void image_path(char *buf, const brain_t *b, uint64_t generation)
{
	char name[32];
	brain__image_file_name(name, sizeof name, generation);
	join(buf, b, name);
}

/* Remove a file if it is there. */
static void unlink_quiet(const brain_t *b, const char *name)
{
	char path[PATH_MAX_BYTES];
	if (join(path, b, name) == BRAIN_OK)
		b->disk.io->unlink(b->disk.io->payload, path);
}

/* ---- leftovers ---------------------------------------------------------- */

typedef struct leftovers {
	brain_t *b;
	bool temporaries; /* MANIFEST.tmp and wal.tmp too (at open) */
} leftovers;

static int leftover(const char *name, void *ctx)
{
	leftovers *l = ctx;
	char mine[32];
	brain__image_file_name(mine, sizeof mine, l->b->disk.generation);
	bool image = strncmp(name, "ckpt-", 5) == 0 && strlen(name) == strlen(mine) &&
	             strspn(name + 5, "0123456789abcdef") == strlen(name + 5);
	bool temporary = strcmp(name, "MANIFEST.tmp") == 0 || strcmp(name, "wal.tmp") == 0;
	if ((image && strcmp(name, mine) != 0) || (temporary && l->temporaries))
		unlink_quiet(l->b, name);
	return BRAIN_OK;
}

/* Remove every checkpoint image but the current one: the one before it,
 * and those of attempts that failed (their generations lie in [lo, hi)).
 * An io layer without a listing (version 1) gets the range only. */
static void remove_leftovers(brain_t *b, uint64_t lo, uint64_t hi, bool temporaries)
{
	const brain_io *io = b->disk.io;
	leftovers l = {b, temporaries};
	if (io->version >= 2 && io->list && io->list(io->payload, b->disk.dir, leftover, &l) == 0)
		return;
	char name[32];
	for (uint64_t g = BRAIN_MAX(lo, 1); g < hi; g++) {
		if (g == b->disk.generation)
			continue;
		brain__image_file_name(name, sizeof name, g);
		unlink_quiet(b, name);
	}
	if (temporaries) {
		unlink_quiet(b, "MANIFEST.tmp");
		unlink_quiet(b, "wal.tmp");
	}
}

/* ---- the file sink: pwrite in order, space reserved ahead ------------- */

typedef struct file_sink {
	const brain_io *io;
	brain_io_file *f;
	uint64_t pos;
	uint64_t reserved;
} file_sink;

static int file_sink_write(void *payload, const void *data, size_t len)
{
	file_sink *s = payload;
	if (s->pos + len > s->reserved) {
		uint64_t step = BRAIN_MIN(BRAIN_MAX(CKPT_MIN_STEP, s->reserved / 8), CKPT_MAX_STEP);
		uint64_t want = BRAIN_MAX(s->pos + len, s->reserved + step);
		int rc = s->io->allocate(s->f, s->reserved, want - s->reserved);
		if (rc == BRAIN_ENOSPC && want > s->pos + len) {
			want = s->pos + len;
			rc = s->io->allocate(s->f, s->reserved, want - s->reserved);
		}
		if (rc)
			return rc;
		s->reserved = want;
	}
	int rc = s->io->pwrite(s->f, data, len, s->pos);
	if (rc == BRAIN_OK)
		s->pos += len;
	return rc;
}

brain_index_files brain__index_files(const brain_t *b, uint64_t generation)
{
	brain_index_files f = {b->disk.io, b->disk.dir, "index-", generation};
	return f;
}

void brain__index_retire(brain_t *b, uint64_t generation)
{
	if (!b->disk.dir || b->disk.readonly)
		return;
	brain_index_files files = brain__index_files(b, generation);
	brain_msg_index_retire m = {&files};
	brain__call_INDEX_RETIRE(&b->spine, &m);
	atomic_fetch_add(&b->release_asked, 1);
}

/* Chunks of rows copied out of a retired file's mapping per hold of the
 * write lock: a 256 KiB chunk copies in ~20-50 us. */
#define RELEASE_CHUNKS_PER_HOLD 4

/* A release pass that made no progress (the index waits for graph inserts
 * under way, on niced threads): the next try waits a beat. */
static void no_progress(brain_t *b)
{
	atomic_store(&b->release_retry_ms,
	             (int64_t)(brain__mono_ns() / 1000000u) +
	                     brain__param_number(&b->env, BRAIN_PARAM_TICK_MS));
}

/* Units (chunks of records, chunks of index rows) copied out of the image
 * the brain opened per hold of the write lock: a 12 KiB chunk of records
 * copies in a few us, a 256 KiB chunk of rows in ~20-50 us. */
#define IMAGE_UNITS_PER_HOLD 8

/* The image the brain opened, let go once a checkpoint replaced it. Under
 * one hold of the writers' gate (no change runs; readers go on) the
 * organs copy what a change could touch or what is one block, then, the
 * lock taken exclusively for a moment, take the copies into use; the
 * records' and the index's chunks follow a few per hold of the write
 * lock. Not beside a checkpoint (ckpt_mu: the next beat). */
static int release_image(brain_t *b, uint64_t until_ns)
{
	if (pthread_mutex_trylock(&b->ckpt_mu) != 0)
		return BRAIN_OK; /* a checkpoint runs: the next beat */
	brain_mem_scope outer = brain__enter(b);
	brain_msg_image_copy hc = {false}, cc = {false};
	brain__gate_rdlock(b);
	int rc = brain__call_IMAGE_COPY(&b->spine, &hc);
	if (rc == BRAIN_OK)
		rc = brain__call_CORTEX_IMAGE_COPY(&b->spine, &cc);
	brain__gate_upgrade(b);
	brain_msg_image_release hr = {IMAGE_UNITS_PER_HOLD, 0}, cr = {0, 0};
	if (rc == BRAIN_OK)
		rc = brain__call_CORTEX_IMAGE_RELEASE(&b->spine, &cr);
	if (rc == BRAIN_OK && !hc.kept)
		rc = brain__call_IMAGE_RELEASE(&b->spine, &hr);
	brain__wrunlock(b);
	size_t before = SIZE_MAX;
	while (rc == BRAIN_OK && !hc.kept && hr.left > 0 &&
	       !(until_ns && brain__mono_ns() >= until_ns)) {
		if (hr.left >= before) {
			no_progress(b); /* the index waits for inserts under way: later */
			break;
		}
		before = hr.left;
		sched_yield(); /* readers that queued behind the hold first */
		brain__wrlock(b);
		rc = brain__call_IMAGE_RELEASE(&b->spine, &hr);
		brain__wrunlock(b);
	}
	if (rc == BRAIN_OK && hc.kept) {
		BRAIN_LOG(BRAIN_LOG_WARN, "%s: the checkpoint opened stays mapped until close (damage "
		          "found in it, or an index backend that cannot let go of it)", b->disk.dir);
		atomic_store(&b->image_kept, true);
		atomic_store(&b->image_release_wanted, false);
	} else if (rc == BRAIN_OK && hr.left == 0 && cr.left == 0) {
		/* every organ let go: the last reference, and the mapping goes */
		brain__image_unref(b->disk.image);
		b->disk.image = NULL;
		atomic_store(&b->image_release_wanted, false);
	} else if (rc) {
		atomic_store(&b->image_release_wanted, false); /* the next checkpoint asks again */
	}
	brain__mem_leave(outer);
	pthread_mutex_unlock(&b->ckpt_mu);
	return brain__err_prefix(rc, "letting go of the checkpoint the brain opened");
}

/* What the release detached, unmapped with no lock held (a populated
 * mapping takes ~0.3 ms a MB to unmap: no call waits for it). */
static void unmap_detached(brain_t *b)
{
	brain_mem_scope outer = brain__enter(b);
	brain_msg_index_unmap m = {0};
	brain__call_INDEX_UNMAP(&b->spine, &m);
	brain__mem_leave(outer);
}

static int release_index(brain_t *b, uint64_t until_ns);

void brain__release_for(brain_t *b, uint64_t until_ns)
{
	int rc = BRAIN_OK;
	if (atomic_load(&b->image_release_wanted))
		rc = release_image(b, until_ns);
	if (rc == BRAIN_OK)
		rc = release_index(b, until_ns);
	unmap_detached(b);
	if (rc) {
		/* background work nobody waits for (a passing failure: memory):
		 * said, and the next checkpoint asks again */
		BRAIN_LOG(BRAIN_LOG_WARN, "%s", brain_errmsg());
		atomic_store(&b->release_done, atomic_load(&b->release_asked));
	}
}

static int release_index(brain_t *b, uint64_t until_ns)
{
	int rc = BRAIN_OK;
	/* the checkpoints asked for now: one asking later has a pass of its own */
	uint64_t asked = atomic_load(&b->release_asked);
	size_t before = SIZE_MAX;
	while (atomic_load(&b->release_done) != asked) {
		brain_msg_index_release m = {RELEASE_CHUNKS_PER_HOLD, 0};
		brain_mem_scope outer = brain__enter(b);
		brain__wrlock(b);
		rc = brain__call_INDEX_RELEASE(&b->spine, &m);
		brain__wrunlock(b);
		brain__mem_leave(outer);
		if (rc)
			break;
		if (m.left == 0)
			atomic_store(&b->release_done, asked);
		else if (until_ns && brain__mono_ns() >= until_ns)
			break;
		else if (m.left >= before) {
			no_progress(b); /* the index waits for inserts under way: later */
			break;
		}
		else
			sched_yield(); /* readers that queued behind the hold first */
		before = m.left;
	}
	return brain__err_prefix(rc, "releasing the mappings of retired index files");
}

int brain__write_image(brain_t *b, brain_sink sink, uint64_t generation, uint64_t lsn,
                       const brain_index_files *files, uint64_t *size, uint32_t *crc)
{
	brain_mem_scope outer = brain__enter(b);
	brain_image_writer w;
	brain_identity id = brain__identity_of(b);
	int rc = brain__imgw_begin(&w, sink, &id, generation, lsn);
	if (rc == BRAIN_OK)
		rc = brain__spine_save(&b->spine, &w, &(brain_organ_args){NULL, false, files, false});
	if (rc == BRAIN_OK)
		rc = brain__imgw_finish(&w, size, crc);
	brain__imgw_free(&w);
	brain__mem_leave(outer);
	return rc;
}

/* An image file being written, possibly in two steps (a checkpoint whose
 * index is frozen: image_begin with the gate held, image_end without). */
typedef struct image_job {
	const brain_io *io;
	const char *path;
	file_sink sink;
	brain_image_writer w;
	const brain_index_files *files;
	bool freeze;  /* the index section is left open, the index frozen */
	bool begun;   /* the writer holds state to free */
} image_job;

static int image_begin(brain_t *b, image_job *j, uint64_t generation, uint64_t lsn)
{
	brain_mem_scope outer = brain__enter(b);
	j->sink = (file_sink){j->io, NULL, 0, 0};
	int rc = brain__io_create_fresh(j->io, j->path, &j->sink.f);
	brain_identity id = brain__identity_of(b);
	if (rc == BRAIN_OK) {
		rc = brain__imgw_begin(&j->w, (brain_sink){file_sink_write, &j->sink}, &id, generation,
		                       lsn);
		j->begun = true;
	}
	if (rc == BRAIN_OK)
		rc = brain__spine_save(&b->spine, &j->w,
		                       &(brain_organ_args){NULL, false, j->files, j->freeze});
	brain__mem_leave(outer);
	return rc;
}

/* The rest of the image after image_begin (whose result is rc): the
 * frozen index's files and section (or, on an error, only the freeze
 * ended), the end, its size, its fsync. On an error nothing is left. */
static int image_end(brain_t *b, image_job *j, int rc, uint64_t *size, uint32_t *crc)
{
	brain_mem_scope outer = brain__enter(b);
	if (j->freeze) {
		brain_msg_index_finish m = {&j->w, j->files, rc != BRAIN_OK};
		int frc = brain__call_INDEX_FINISH(&b->spine, &m);
		if (rc == BRAIN_OK)
			rc = frc;
	}
	if (rc == BRAIN_OK)
		rc = brain__imgw_finish(&j->w, size, crc);
	if (j->begun)
		brain__imgw_free(&j->w);
	/* the space reserved ahead is given back: the size is the image's */
	if (rc == BRAIN_OK)
		rc = j->io->truncate(j->sink.f, *size);
	if (rc == BRAIN_OK)
		rc = j->io->fsync(j->sink.f);
	if (j->sink.f)
		rc = brain__io_close_keep(j->io, j->sink.f, rc);
	if (rc && j->sink.f)
		j->io->unlink(j->io->payload, j->path);
	brain__mem_leave(outer);
	return rc;
}

int brain__write_image_file(brain_t *b, const brain_io *io, const char *path,
                            uint64_t generation, uint64_t lsn, const brain_index_files *files,
                            uint64_t *size, uint32_t *crc)
{
	image_job j = {.io = io, .path = path, .files = files};
	return image_end(b, &j, image_begin(b, &j, generation, lsn), size, crc);
}

/* ---- checkpoints ------------------------------------------------------- */

/* Writers were held at the gate since t0: the longest such wait, for
 * Health. */
static void note_held(brain_t *b, uint64_t t0)
{
	uint64_t held = brain__mono_ns() - t0;
	if (held > atomic_load(&b->ckpt_gate_ns_max))
		atomic_store(&b->ckpt_gate_ns_max, held);
}

/* A checkpoint. With `two_step` (the caller holds only ckpt_mu) it takes
 * the writers' gate for its first step only: the log's position noted,
 * every organ saved, the index frozen. Then, while changes go on, the
 * index's files and the rest of the image are written and fsynced and the
 * manifest commits; the gate is taken again to start a log holding only
 * the records logged meanwhile. Without (the caller holds ckpt_mu and the
 * brain locked) it runs whole. */
static int checkpoint_run(brain_t *b, bool two_step)
{
	if (!b->disk.dir)
		return BRAIN_OK;
	if (b->disk.readonly)
		return brain__err(BRAIN_EREADONLY, "checkpoint: the brain is open read-only");
	if (two_step)
		brain__gate_rdlock(b);
	uint64_t t0 = brain__mono_ns();
	brain_msg_wal_status st;
	brain__call_WAL_STATUS(&b->spine, &st);
	uint64_t lsn = st.last_lsn;
	uint64_t gen = b->disk.next_generation++;
	char path[PATH_MAX_BYTES];
	image_path(path, b, gen);
	uint64_t size = 0;
	uint32_t crc = 0;
	brain_index_files files = brain__index_files(b, gen);
	image_job j = {.io = b->disk.io, .path = path, .files = &files, .freeze = two_step};
	int rc = image_begin(b, &j, gen, lsn);
	if (two_step) {
		note_held(b, t0);
		brain__gate_unlock(b);
	}
	rc = image_end(b, &j, rc, &size, &crc);
	if (rc)
		return brain__err_context(rc, "checkpoint: ");
	brain_manifest m = {brain__identity_of(b), gen, lsn, size, crc};
	rc = brain__manifest_write(b->disk.io, b->disk.dir, &m);
	if (rc) {
		/* The rename may or may not have happened: the image stays (the
		 * manifest might name it); the next attempt takes a new number. */
		return brain__err_context(rc, "checkpoint: ");
	}
	/* Committed. The log's records up to lsn are all in the image now. */
	uint64_t old = b->disk.generation;
	b->disk.generation = gen;
	b->disk.checkpoint_lsn = lsn;
	b->disk.checkpoint_bytes = size;
	atomic_fetch_add(&b->disk.checkpoints, 1);
	atomic_store(&b->checkpoint_at_ms, brain__now_ms());
	if (two_step)
		brain__gate_rdlock(b);
	t0 = brain__mono_ns();
	/* the records logged since the freeze go on in the new log (end 0:
	 * a new log was pending at the freeze) */
	brain_msg_wal_reset r = {gen, lsn, size, true, st.end};
	rc = brain__call_WAL_RESET(&b->spine, &r);
	if (two_step) {
		note_held(b, t0);
		brain__gate_unlock(b);
	}
	if (rc) {
		/* The checkpoint stands: it holds every change up to lsn, and
		 * replay skips whatever a log still holds of them. */
		BRAIN_LOG(BRAIN_LOG_WARN, "checkpoint: the log could not be replaced (the next "
		          "checkpoint tries again): %s", brain_errmsg());
	}
	/* unlinking old files (a large one can take a while) holds no writer:
	 * only checkpoints touch them, one at a time (ckpt_mu) */
	remove_leftovers(b, old, gen, false);
	brain__index_retire(b, gen);
	if (b->disk.image && !atomic_load(&b->image_kept))
		atomic_store(&b->image_release_wanted, true); /* removed, still mapped */
	return BRAIN_OK;
}

int brain__checkpoint_locked(brain_t *b)
{
	brain_mem_scope outer = brain__enter(b);
	int rc = checkpoint_run(b, false);
	brain__mem_leave(outer);
	return rc;
}

int brain__checkpoint(brain_t *b)
{
	pthread_mutex_lock(&b->ckpt_mu);
	brain_mem_scope outer = brain__enter(b);
	int rc = checkpoint_run(b, true);
	brain__mem_leave(outer);
	pthread_mutex_unlock(&b->ckpt_mu);
	return rc;
}

BRAIN_EXPORT int brain_checkpoint(brain_t *b)
{
	if (!b)
		return brain__err(BRAIN_ENULL, "checkpoint: brain is NULL");
	if (!b->disk.dir)
		return BRAIN_OK;
	return brain__err_prefix(brain__checkpoint(b), "checkpoint");
}

void brain__checkpoint_due(brain_t *b)
{
	if (brain__checkpoint(b))
		BRAIN_LOG(BRAIN_LOG_WARN, "background checkpoint failed: %s", brain_errmsg());
}

BRAIN_EXPORT int brain_sync(brain_t *b)
{
	if (!b)
		return brain__err(BRAIN_ENULL, "sync: brain is NULL");
	if (!b->disk.dir || b->disk.readonly)
		return BRAIN_OK;
	brain_msg_wal_status st;
	brain__call_WAL_STATUS(&b->spine, &st);
	brain_msg_wal_commit c = {st.last_lsn, true};
	return brain__err_prefix(brain__call_WAL_COMMIT(&b->spine, &c), "sync");
}

/* ---- writers --------------------------------------------------------------- */

int brain__check_writable(const brain_t *b, const char *fn)
{
	if (b->disk.readonly)
		return brain__err(BRAIN_EREADONLY, "%s: the brain is open read-only", fn);
	return BRAIN_OK;
}

/* ---- opening ----------------------------------------------------------- */

static void unmap_image(void *ctx, void *data, size_t len)
{
	const brain_io *io = ctx;
	io->unmap(io->payload, data, len);
}

/* Map the image the manifest names and check that the two agree. */
static int map_image(brain_t *b, const brain_manifest *m, brain_image **out)
{
	const brain_io *io = b->disk.io;
	char path[PATH_MAX_BYTES];
	image_path(path, b, m->generation);
	brain_io_file *f = NULL;
	int rc = io->open(io->payload, path, 0, &f);
	if (rc)
		return rc;
	uint64_t size = 0;
	rc = io->size(f, &size);
	if (rc == BRAIN_OK && size != m->image_bytes)
		rc = brain__err(BRAIN_ECORRUPT, "%s: %llu bytes, the manifest says %llu (offset %llu)",
		                path, (unsigned long long)size, (unsigned long long)m->image_bytes,
		                (unsigned long long)BRAIN_MIN(size, m->image_bytes));
	if (rc == BRAIN_OK && size > SIZE_MAX)
		rc = brain__err(BRAIN_ENOMEM, "%s: %llu bytes do not fit in the address space", path,
		                (unsigned long long)size);
	void *addr = NULL;
	if (rc == BRAIN_OK)
		rc = io->map(f, 0, (size_t)size, &addr);
	io->close(f);
	if (rc)
		return rc;
	brain_image *img = NULL;
	rc = brain__image_open(addr, (size_t)size, unmap_image, (void *)io, path, &img);
	if (rc)
		return rc;
	if (brain__image_generation(img) != m->generation || brain__image_lsn(img) != m->lsn ||
	    brain__image_crc(img) != m->image_crc) {
		brain__image_unref(img);
		return brain__err(BRAIN_ECORRUPT, "%s: generation, log position or checksum differ "
		                  "from the manifest's (offset 0)", path);
	}
	rc = brain__identity_check(brain__image_identity(img), &m->identity, path);
	if (rc) {
		brain__image_unref(img);
		return brain__err(BRAIN_ECORRUPT, "%s: does not match the manifest: %s", path,
		                  brain_errmsg());
	}
	*out = img;
	return BRAIN_OK;
}

/* Take the options of the brain on disk (BRAIN_OPEN_STORED_OPTIONS). */
static int adopt_identity(brain_t *b, const brain_identity *id)
{
	brain_options o = b->env.opts;
	o.dimensions = id->dimensions;
	o.metric = (int)id->metric;
	o.embedder = (int)id->embedder;
	o.index_name = NULL;
	bool model_absent = false;
	if (o.embedder == BRAIN_EMBEDDER_MODEL && !b->env.model) {
		/* a tool that opens any brain (check, stats, vectors) without its
		 * model: the brain works but for text, which is BRAIN_ENOEMBEDDER
		 * (the Cortex says to give model_path) */
		model_absent = true;
		o.embedder = BRAIN_EMBEDDER_NONE; /* for the check of the rest */
		b->env.embedder_id = id->embedder_id;
	} else if (o.embedder == BRAIN_EMBEDDER_MODEL) {
		if (brain__model_dimensions(b->env.model) != id->dimensions)
			return brain__err(BRAIN_EMISMATCH, "the model %s makes %u-d vectors, the brain "
			                  "holds %u-d ones", o.model_path,
			                  brain__model_dimensions(b->env.model), id->dimensions);
		b->env.embedder_id = brain__model_fingerprint(b->env.model);
		brain_identity want = *id;
		want.embedder_id = b->env.embedder_id;
		int rc = brain__identity_check(id, &want, "open");
		if (rc)
			return rc;
	} else if (b->env.model) {
		/* a model named for a brain that embeds otherwise: its texts would
		 * silently take the other embedder */
		static const char *const kinds[] = {"the built-in embedder", "no embedder"};
		return brain__err(BRAIN_EMISMATCH, "the brain's vectors were made by %s, and "
		                  "model_path names a model (leave model_path out for this brain)",
		                  id->embedder < 2 ? kinds[id->embedder] : "an unknown embedder");
	}
	brain_options checked;
	int rc = brain__options_resolve(&o, &checked);
	if (rc)
		return brain__err(BRAIN_ECORRUPT, "MANIFEST: stored options are not valid: %s",
		                  brain_errmsg());
	const brain_index_vtable *vt = brain_index_find(id->index);
	if (!vt)
		return brain__err(BRAIN_ENOTSUP, "the brain uses index backend \"%s\", which is not "
		                  "registered in this process (brain_index_register)", id->index);
	if (model_absent)
		checked.embedder = BRAIN_EMBEDDER_MODEL;
	b->env.opts = checked;
	b->env.opts.index_name = vt->name;
	b->env.index_vt = vt;
	return BRAIN_OK;
}

/* A directory without a manifest: a new brain, unless a log shows that
 * one was there. A creation that stopped before its manifest leaves a
 * first, empty log; any other log means the manifest was lost, and
 * starting afresh would throw the brain away. */
static int check_new(brain_t *b)
{
	uint64_t gen = 0, start = 0, wal_size = 0;
	int rc = brain__wal_peek(b->disk.io, b->disk.dir, &gen, &start, &wal_size);
	if (rc == BRAIN_ENOTFOUND)
		return BRAIN_OK;
	if (rc == BRAIN_ECORRUPT)
		return brain__err(BRAIN_ECORRUPT, "%s/MANIFEST is missing and %s/wal is not a new "
		                  "brain's: %s", b->disk.dir, b->disk.dir, brain_errmsg());
	if (rc)
		return rc;
	if (gen != 1 || start != 1 || wal_size > 0)
		return brain__err(BRAIN_ECORRUPT, "%s/MANIFEST is missing but %s/wal shows a brain "
		                  "(generation %llu, changes from %llu on): the brain is damaged; "
		                  "restore its manifest or a backup", b->disk.dir, b->disk.dir,
		                  (unsigned long long)gen, (unsigned long long)start);
	return BRAIN_OK;
}

int brain__disk_create(brain_t *b)
{
	const brain_io *io = b->disk.io;
	char path[PATH_MAX_BYTES];
	uint64_t size = 0;
	uint32_t crc = 0;
	image_path(path, b, 1);
	brain_index_files files = brain__index_files(b, 1);
	int rc = brain__write_image_file(b, io, path, 1, 0, &files, &size, &crc);
	brain_identity id = brain__identity_of(b);
	if (rc == BRAIN_OK)
		rc = brain__wal_create(io, b->disk.dir, &id, 1, 1);
	if (rc == BRAIN_OK) {
		brain_manifest m = {id, 1, 0, size, crc};
		rc = brain__manifest_write(io, b->disk.dir, &m);
	}
	if (rc)
		return rc;
	b->disk.generation = 1;
	b->disk.next_generation = 2;
	b->disk.checkpoint_lsn = 0;
	b->disk.checkpoint_bytes = size;
	BRAIN_LOG(BRAIN_LOG_INFO, "created brain %s", b->disk.dir);
	return BRAIN_OK;
}

/* The checkpoint the manifest names, mapped, and the log beside it. */
static int open_existing(brain_t *b, brain_manifest *m, brain_disk_plan *plan)
{
	const brain_io *io = b->disk.io;
	brain_image *img = NULL;
	int rc = BRAIN_OK;
	for (int attempt = 0;; attempt++) {
		rc = map_image(b, m, &img);
		if (rc != BRAIN_ENOTFOUND || !b->disk.readonly || attempt == READONLY_ATTEMPTS)
			break;
		/* a writer replaced the checkpoint meanwhile: read the manifest again */
		rc = brain__manifest_read(io, b->disk.dir, m);
		if (rc)
			break;
	}
	if (rc == BRAIN_ENOTFOUND) {
		char name[32];
		brain__image_file_name(name, sizeof name, m->generation);
		rc = brain__err(BRAIN_ECORRUPT, "%s/%s, the checkpoint %s/MANIFEST names, is missing",
		                b->disk.dir, name, b->disk.dir);
	}
	if (rc)
		return rc;
	b->disk.image = img;
	b->disk.generation = m->generation;
	b->disk.next_generation = m->generation + 1;
	b->disk.checkpoint_lsn = m->lsn;
	b->disk.checkpoint_bytes = m->image_bytes;
	plan->image = img;
	plan->manifest = *m;

	char path[PATH_MAX_BYTES];
	brain_io_file *f = NULL;
	rc = join(path, b, "wal");
	if (rc == BRAIN_OK) {
		rc = io->open(io->payload, path, 0, &f);
		io->close(f);
	}
	plan->has_log = rc == BRAIN_OK;
	if (rc != BRAIN_ENOTFOUND)
		return rc;
	/* only a brain whose creation stopped right after its manifest */
	if (m->generation != 1 || m->lsn != 0)
		return brain__err(BRAIN_ECORRUPT, "%s/wal is missing (%s/MANIFEST is at generation "
		                  "%llu)", b->disk.dir, b->disk.dir, (unsigned long long)m->generation);
	if (b->disk.readonly)
		return BRAIN_OK; /* nothing to replay; open without a log */
	rc = brain__wal_create(io, b->disk.dir, &m->identity, 1, 1);
	plan->has_log = rc == BRAIN_OK;
	return rc;
}

int brain__disk_recover(brain_t *b, brain_disk_plan *plan, int mode)
{
	const brain_manifest *m = &plan->manifest;
	if (plan->has_log) {
		brain_wal_replay_info info;
		memset(&info, 0, sizeof info);
		brain_msg_wal_replay r = {m->lsn, mode == BRAIN_DISK_REPAIR, brain__change_replay, b,
		                          &info};
		int rc = brain__call_WAL_REPLAY(&b->spine, &r);
		plan->log_ahead = info.log_ahead;
		if (rc)
			return rc;
		b->disk.torn_bytes = info.torn_bytes;
		b->disk.replayed = info.records;
		b->disk.dropped_after = info.dropped;
		if (!b->disk.readonly && info.last_lsn < m->lsn) {
			/* The log ends before the checkpoint: a crash came after the
			 * manifest named the image but before its new log was in place
			 * (and records the image holds were never made durable in the
			 * log). Appending here would leave a gap replay stops at: start
			 * the checkpoint's own log now (or, if that fails, before the
			 * first change). */
			brain_msg_wal_reset reset = {m->generation, m->lsn, m->image_bytes, false, 0};
			if (brain__call_WAL_RESET(&b->spine, &reset))
				BRAIN_LOG(BRAIN_LOG_WARN, "%s/wal ends before the checkpoint and could not be "
				          "replaced yet (the next change tries again): %s", b->disk.dir,
				          brain_errmsg());
		}
		if (info.torn_bytes)
			BRAIN_LOG(BRAIN_LOG_WARN, "%s/wal: dropped a torn last record (%llu bytes at offset "
			          "%llu)", b->disk.dir, (unsigned long long)info.torn_bytes,
			          (unsigned long long)info.bad_offset);
	}
	if (!b->disk.readonly) {
		/* leftovers of interrupted checkpoints and of the one before */
		uint64_t g = b->disk.generation;
		remove_leftovers(b, g - 1, g + 3, true);
		brain__index_retire(b, g);
	}
	return BRAIN_OK;
}

/* Make the brain directory's own entry (in its parent) and its entries
 * durable before a writer acknowledges anything: a creation, a checkpoint
 * or a log reset whose directory sync failed, or a power loss right after
 * mkdir, must never let a later acknowledged change sit in a file that a
 * crash takes away. */
static int sync_entries(brain_t *b)
{
	const brain_io *io = b->disk.io;
	char parent[PATH_MAX_BYTES];
	const char *slash = strrchr(b->disk.dir, '/');
	if (!slash)
		snprintf(parent, sizeof parent, ".");
	else if (slash == b->disk.dir)
		snprintf(parent, sizeof parent, "/");
	else
		snprintf(parent, sizeof parent, "%.*s", (int)(slash - b->disk.dir), b->disk.dir);
	int rc = io->sync_dir(io->payload, parent);
	if (rc == BRAIN_OK)
		rc = io->sync_dir(io->payload, b->disk.dir);
	return rc ? brain__err_context(rc, "open: making the directory durable: ") : BRAIN_OK;
}

int brain__disk_prepare(brain_t *b, const char *path, brain_disk_plan *plan)
{
	memset(plan, 0, sizeof *plan);
	const brain_options *o = &b->env.opts;
	const brain_io *io = o->io ? o->io : brain_io_posix();
	bool readonly = (o->flags & BRAIN_OPEN_READONLY) != 0;
	if (!*path)
		return brain__err(BRAIN_EINVAL, "open: path is empty");
	size_t len = strlen(path);
	if (len > PATH_MAX_BYTES - 32)
		return brain__err(BRAIN_EINVAL, "open: path of %zu bytes is too long", len);
	b->disk.dir = brain__strndup(path, len);
	if (!b->disk.dir)
		return brain__oom(len + 1, "open: path");
	while (len > 1 && b->disk.dir[len - 1] == '/')
		b->disk.dir[--len] = '\0';
	b->disk.io = io;
	b->disk.readonly = readonly;
	b->env.storage.io = io;
	b->env.storage.dir = b->disk.dir;
	b->env.storage.writable = !readonly;

	int rc = BRAIN_OK;
	if (!(o->flags & BRAIN_OPEN_NOCREATE)) {
		rc = io->mkdir(io->payload, b->disk.dir);
		if (rc == BRAIN_EEXISTS)
			rc = BRAIN_OK;
		if (rc)
			return brain__err_context(rc, "open: ");
	}
	char lock_path[PATH_MAX_BYTES];
	rc = join(lock_path, b, "LOCK");
	if (rc == BRAIN_OK && !readonly) {
		rc = io->open(io->payload, lock_path, BRAIN_IO_OPEN_WRITE | BRAIN_IO_OPEN_CREATE,
		              &b->disk.lock_file);
		if (rc == BRAIN_ENOTFOUND)
			rc = brain__err(BRAIN_ENOTFOUND, "open: no brain at \"%s\"", b->disk.dir);
		if (rc == BRAIN_OK) {
			rc = io->lock(b->disk.lock_file, 1);
			if (rc == BRAIN_EBUSY)
				rc = brain__err(BRAIN_EBUSY, "open: \"%s\" is open for writing elsewhere (in "
				                "this or another process); open it with "
				                "BRAIN_OPEN_READONLY to read it meanwhile", b->disk.dir);
		}
	}
	if (rc == BRAIN_OK && !readonly)
		rc = sync_entries(b);
	brain_manifest m;
	if (rc == BRAIN_OK)
		rc = brain__manifest_read(io, b->disk.dir, &m);
	if (rc == BRAIN_ENOTFOUND) {
		if (o->flags & BRAIN_OPEN_NOCREATE)
			return brain__err(BRAIN_ENOTFOUND, "open: no brain at \"%s\"", b->disk.dir);
		plan->create = true;
		rc = brain__use_lift(&b->env, NULL);
		return rc ? rc : check_new(b);
	}
	if (rc)
		return rc;
	if (o->flags & BRAIN_OPEN_STORED_OPTIONS) {
		rc = adopt_identity(b, &m.identity);
		if (rc == BRAIN_OK)
			rc = brain__use_lift(&b->env, &m.identity);
	} else if ((rc = brain__use_lift(&b->env,
	                                 b->env.opts.embedder == (int)m.identity.embedder
	                                     ? &m.identity
	                                     : NULL)) == BRAIN_OK) {
		brain_identity want = brain__identity_of(b);
		if (o->index == BRAIN_INDEX_AUTO && !o->index_name &&
		    strcmp(m.identity.index, want.index) != 0) {
			/* AUTO takes the index the brain was made with */
			const brain_index_vtable *vt = brain_index_find(m.identity.index);
			if (vt) {
				b->env.index_vt = vt;
				b->env.opts.index_name = vt->name;
				want = brain__identity_of(b);
			}
		}
		rc = brain__identity_check(&m.identity, &want, "open");
	}
	if (rc)
		return rc;
	return open_existing(b, &m, plan);
}

int brain__disk_close(brain_t *b)
{
	if (!b->disk.dir)
		return BRAIN_OK;
	/* the caller has taken it out of the Heart (engine/brain.c) */
	if (b->disk.readonly)
		return BRAIN_OK;
	pthread_mutex_lock(&b->ckpt_mu);
	brain__wrlock(b);
	int rc = BRAIN_OK;
	brain_msg_wal_status st;
	brain__call_WAL_STATUS(&b->spine, &st);
	/* nothing new since the last checkpoint: nothing to write */
	if (st.open && (st.last_lsn != b->disk.checkpoint_lsn || st.bytes))
		rc = brain__checkpoint_locked(b);
	if (rc) {
		int rc2 = brain_sync(b);
		(void)rc2;
	}
	brain__wrunlock(b);
	pthread_mutex_unlock(&b->ckpt_mu);
	return rc ? brain__err_prefix(rc, "close") : BRAIN_OK;
}

void brain__disk_release(brain_t *b)
{
	if (b->disk.lock_file)
		b->disk.io->close(b->disk.lock_file);
	brain__image_unref(b->disk.image);
	brain__free(b->disk.dir);
	memset(&b->disk, 0, sizeof b->disk);
}
