/*
 * tests/test_crashloop.c - fault loops that end in a crash, in the manner of
 * SQLite's crash VFS and RocksDB's db_crashtest.
 *
 * The loops of test_storage.c end in a clean close, whose checkpoint writes
 * the whole brain again and so hides what a fault left in the log. Here,
 * for every public operation that touches the disk (open of an existing
 * brain with a log to replay, open of a new one, remember, add, add_batch,
 * forget, update_vector, update (a new text), checkpoint, a background
 * checkpoint by the Lungs, close) and for N = 1, 2, ... until the fault no longer fires:
 *
 *  1. start from a brain with memories, vectors, a checkpoint and a log of
 *     changes since (BRAIN_SYNC_FULL, 8 dimensions, L2, so that vectors
 *     come back bit for bit);
 *  2. fail the Nth allocation (tests/test_alloc.h), or the Nth io call with
 *     BRAIN_EIO or BRAIN_ENOSPC, during the operation; it must return 0 or
 *     the injected error, and the brain in memory must hold what was
 *     acknowledged, with or without the failed operation;
 *  3. make more changes (remember, add, forget, update_vector); each
 *     returns 0 or, after an io fault, the injected error (a failed log
 *     refuses changes until the brain is reopened);
 *  4. crash without closing: a power loss on tests/memfs.c, three ways (the
 *     writes not yet fsynced dropped, torn, or kept, directory entries
 *     not yet synced lost or kept), or SIGKILL of a child process that
 *     worked on the real file system through an io layer that fails its
 *     Nth call (a sample of N there);
 *  5. check that the files pass brain_check, that the brain opens, and
 *     that it holds exactly what was acknowledged: every change that
 *     returned 0 with its text, importance and vector, no memory whose
 *     forget returned 0, nothing that never returned 0, and the failed
 *     operation wholly or not at all. A forget that failed with
 *     BRAIN_ENOMEM must leave the memory (include/braincore/memory.h).
 *
 * A loop stops at the first N that fails and names the operation, the
 * fault, N, what the operation returned and logged, the crash and what is
 * wrong. Cases are test_crashloop__<op>_<fault>, the fault being alloc, eio
 * or enospc on memfs and kill_alloc, kill_eio or kill_enospc for the child
 * killed on the real file system (under $TMPDIR, else /tmp).
 * BRAINCORE_CRASHLOOP_FILTER runs the cases matching a cmocka pattern
 * ('*forget_alloc').
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "braincore.h"
#include "braincore/sys/io.h"
#include "memfs.h"
#include "base/base.h"
#include "test_alloc.h"
#include "test_util.h"

#define DIMS 8
#define TEXT_MAX 96
#define MODEL_MAX 128
#define BATCH 4
/* In a directory of its own: memfs makes top-level entries durable at
 * once, so a brain at the top would never show a directory left unsynced */
#define MEMFS_DIR "data"
#define MEMFS_PATH MEMFS_DIR "/b"
/* A small brain has a small checkpoint image (its row chunks are sized by
 * max_memories), and the Lungs checkpoint only once the log has passed a
 * quarter of the image: so the log that every open replays stays short. */
#define MAX_MEMORIES 64
_Static_assert(MODEL_MAX >= MAX_MEMORIES, "a model holds what a brain can");
/* a loop stops here even if the fault still fires (it never should) */
#define MAX_N 20000
/* ids the brain never gives: a failed remember's id is not known */
#define ID_UNKNOWN 0
/* how long the Lungs get to start a background checkpoint */
#define BACKGROUND_WAIT_MS 10000

/* Messages are cut to fit their buffers. */
static void say(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------------ */
/* What the library logged (the Lungs report a failed background            */
/* checkpoint only there)                                                   */
/* ------------------------------------------------------------------------ */

static pthread_mutex_t g_log_mu = PTHREAD_MUTEX_INITIALIZER;
static char g_log_last[256];
static unsigned long g_log_count;

static void log_capture(int level, const char *message, void *payload)
{
	(void)level;
	(void)payload;
	pthread_mutex_lock(&g_log_mu);
	say(g_log_last, sizeof g_log_last, "%s", message);
	g_log_count++;
	pthread_mutex_unlock(&g_log_mu);
}

static unsigned long log_mark(void)
{
	pthread_mutex_lock(&g_log_mu);
	unsigned long n = g_log_count;
	pthread_mutex_unlock(&g_log_mu);
	return n;
}

/* The last message logged after mark, or "" */
static void log_since(unsigned long mark, char *buf, size_t size)
{
	pthread_mutex_lock(&g_log_mu);
	say(buf, size, "%s", g_log_count > mark ? g_log_last : "");
	pthread_mutex_unlock(&g_log_mu);
}

/* ------------------------------------------------------------------------ */
/* The model: what the brain must hold                                      */
/* ------------------------------------------------------------------------ */

typedef struct entry {
	uint64_t id; /* ID_UNKNOWN: the failed remember's */
	float importance;
	bool has_text;
	char text[TEXT_MAX];
	float vec[DIMS];
} entry;

typedef struct model {
	entry e[MODEL_MAX];
	size_t n;
} model;

/* One run: the changes acknowledged, and the same with the failed
 * operation applied (the brain may hold either). */
typedef struct outcome {
	model acked;
	model maybe;
	bool has_maybe;
	bool must_stay;       /* forget failed with BRAIN_ENOMEM: the memory stays */
	bool ran;             /* the operation ran (the fields below tell how) */
	bool fired;           /* the fault fired */
	int rc;               /* of the operation */
	long calls;           /* allocations or io calls the operation made */
	int after_failed;     /* later changes refused (the log had failed) */
	char err[256];        /* brain_errmsg() of the failed operation */
	char log[256];        /* what the library logged during it, or "" */
	char why[512];        /* what went wrong in the run, or "" */
} outcome;

/* The run went wrong before any crash: say why. */
#define run_failed(oc, ...) say((oc)->why, sizeof (oc)->why, __VA_ARGS__)

static entry *model_find(model *m, uint64_t id)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->e[i].id == id)
			return &m->e[i];
	return NULL;
}

static void model_put(model *m, const entry *e)
{
	if (m->n < MODEL_MAX)
		m->e[m->n++] = *e;
}

static void model_del(model *m, uint64_t id)
{
	entry *e = model_find(m, id);
	if (e)
		*e = m->e[--m->n];
}

/* The first memory with (or without) text that is not one of the skipped
 * ids; 0 if none. */
static uint64_t model_pick(const model *m, bool text, uint64_t skip1, uint64_t skip2)
{
	for (size_t i = 0; i < m->n; i++) {
		const entry *e = &m->e[i];
		if (e->has_text == text && e->id != ID_UNKNOWN && e->id != skip1 && e->id != skip2)
			return e->id;
	}
	return 0;
}

static const char *const g_words[] = {
	"lantern", "copper", "river",  "meadow", "falcon", "quartz", "willow", "harbor",
	"glacier", "ember",  "orchid", "basalt", "violet", "tundra", "cobalt", "juniper",
};
#define NWORDS (sizeof g_words / sizeof g_words[0])

static void text_for(int k, char *buf)
{
	unsigned u = (unsigned)k;
	snprintf(buf, TEXT_MAX, "note %d: the %s %s by the %s %s", k, g_words[u % NWORDS],
	         g_words[(u * 7 + 3) % NWORDS], g_words[(u * 5 + 1) % NWORDS],
	         g_words[(u * 3 + 2) % NWORDS]);
}

static float importance_for(int k)
{
	return (float)(k % 97 + 1) / 100.0f;
}

static void vec_for(uint64_t id, int salt, float *v)
{
	for (int i = 0; i < DIMS; i++)
		v[i] = (float)((id * 31 + (uint64_t)i * 7 + (uint64_t)salt * 11) % 17) - 8.0f +
		       0.25f * (float)i;
}

/* The built-in embedder's document vector is a function of the text alone:
 * an in-memory brain of the same shape computes what a remember stores. */
static brain_t *g_embedder;

static brain_options options_for(const brain_io *io)
{
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.dimensions = DIMS;
	o.metric = BRAIN_METRIC_L2; /* vectors are kept exactly as given */
	o.index = BRAIN_INDEX_FLAT;
	o.sync = BRAIN_SYNC_FULL;
	o.max_memories = MAX_MEMORIES;
	o.io = io;
	return o;
}

static int entry_text(entry *e, int k)
{
	memset(e, 0, sizeof *e);
	e->id = ID_UNKNOWN;
	e->has_text = true;
	e->importance = importance_for(k);
	text_for(k, e->text);
	brain_id id = BRAIN_ID_NONE;
	int rc = brain_remember_ex(g_embedder, e->text, NULL, 0.5f, &id);
	if (rc == BRAIN_OK)
		rc = brain_get_vector(g_embedder, id, e->vec);
	if (rc == BRAIN_OK)
		rc = brain_forget(g_embedder, id);
	return rc;
}

static void entry_vector(entry *e, uint64_t id, int salt)
{
	memset(e, 0, sizeof *e);
	e->id = id;
	vec_for(id, salt, e->vec);
}

/* ------------------------------------------------------------------------ */
/* Comparing the brain with the model                                       */
/* ------------------------------------------------------------------------ */

static const char *describe(const entry *e)
{
	return e->has_text ? e->text : "a vector";
}

/* Read every memory of the brain: the ids from a search that returns all,
 * then each one's text, importance and vector. */
static bool read_brain(brain_t *b, model *have, char *why_buf, size_t size)
{
	memset(have, 0, sizeof *have);
	uint64_t count = brain_count(b);
	if (count > MODEL_MAX) {
		say(why_buf, size, "the brain holds %llu memories, more than were ever made",
		    (unsigned long long)count);
		return false;
	}
	if (count == 0)
		return true;
	uint64_t ids[MODEL_MAX];
	float zero[DIMS] = {0};
	size_t found = 0;
	int rc = brain_search(b, zero, (size_t)count, ids, NULL, &found);
	if (rc || found != count) {
		say(why_buf, size, "search for all %llu memories: %s, %zu found: %s",
		    (unsigned long long)count, brain_error_name(rc), found, brain_errmsg());
		return false;
	}
	for (size_t i = 0; i < found; i++) {
		entry *e = &have->e[have->n++];
		e->id = ids[i];
		brain_results *r = NULL;
		rc = brain_get(b, ids[i], &r);
		if (rc == BRAIN_OK) {
			const char *text = brain_results_text(r, 0);
			e->has_text = text != NULL;
			snprintf(e->text, sizeof e->text, "%s", text ? text : "");
			e->importance = brain_results_importance(r, 0);
			brain_results_free(r);
			rc = brain_get_vector(b, ids[i], e->vec);
		}
		if (rc) {
			say(why_buf, size, "id %llu, found by search: %s: %s",
			    (unsigned long long)ids[i], brain_error_name(rc), brain_errmsg());
			return false;
		}
	}
	return true;
}

/* Whether the brain holds exactly the model; if not, why. */
static bool same(const model *want, const model *have, char *why_buf, size_t size)
{
	bool used[MODEL_MAX] = {false};
	for (size_t i = 0; i < want->n; i++) {
		const entry *w = &want->e[i];
		size_t j = 0;
		for (; j < have->n; j++) {
			const entry *h = &have->e[j];
			if (used[j])
				continue;
			if (w->id == ID_UNKNOWN ? h->has_text && !strcmp(h->text, w->text) : h->id == w->id)
				break;
		}
		if (j == have->n) {
			say(why_buf, size, "acknowledged memory %llu (%s) is missing",
			    (unsigned long long)w->id, describe(w));
			return false;
		}
		const entry *h = &have->e[j];
		used[j] = true;
		if (w->has_text != h->has_text || (w->has_text && strcmp(w->text, h->text) != 0)) {
			say(why_buf, size, "memory %llu holds \"%s\", not \"%s\"",
			    (unsigned long long)h->id, h->has_text ? h->text : "(no text)",
			    describe(w));
			return false;
		}
		if (w->has_text && w->importance != h->importance) {
			say(why_buf, size, "memory %llu (%s) has importance %g, not %g",
			    (unsigned long long)h->id, describe(w), (double)h->importance,
			    (double)w->importance);
			return false;
		}
		if (memcmp(w->vec, h->vec, sizeof w->vec) != 0) {
			say(why_buf, size, "memory %llu (%s) lacks its acknowledged vector ([0] is %g, "
			    "not %g)", (unsigned long long)h->id, describe(w), (double)h->vec[0],
			    (double)w->vec[0]);
			return false;
		}
	}
	for (size_t j = 0; j < have->n; j++)
		if (!used[j]) {
			say(why_buf, size, "memory %llu (%s) was never acknowledged",
			    (unsigned long long)have->e[j].id, describe(&have->e[j]));
			return false;
		}
	return true;
}

/* The brain holds what was acknowledged, with or without the failed
 * operation. */
static bool matches(brain_t *b, const outcome *oc, char *why_buf, size_t size)
{
	static model have; /* one thread reads brains; keeps large frames off the stack */
	if (!read_brain(b, &have, why_buf, size))
		return false;
	char w1[256], w2[256];
	if (same(&oc->acked, &have, w1, sizeof w1))
		return true;
	if (oc->has_maybe && !oc->must_stay && same(&oc->maybe, &have, w2, sizeof w2))
		return true;
	if (oc->has_maybe && !oc->must_stay)
		say(why_buf, size, "%s; with the failed operation: %s", w1, w2);
	else if (oc->must_stay)
		say(why_buf, size, "%s (the forget failed with ENOMEM: \"the memory then "
		    "stays\")", w1);
	else
		say(why_buf, size, "%s", w1);
	return false;
}

/* ------------------------------------------------------------------------ */
/* Faults                                                                   */
/* ------------------------------------------------------------------------ */

enum fault { FAULT_ALLOC, FAULT_EIO, FAULT_ENOSPC };

static const char *const g_fault_names[] = {"alloc", "eio", "enospc"};

static int fault_code(int fault)
{
	return fault == FAULT_ALLOC ? BRAIN_ENOMEM : fault == FAULT_EIO ? BRAIN_EIO : BRAIN_ENOSPC;
}

/* The real file system: brain_io_posix() behind a layer that fails its
 * nth counted call (every call but close and unmap, as memfs counts). */
static atomic_long g_wrap_calls; /* counted calls so far */
static atomic_long g_wrap_left;  /* the call that brings this to 0 fails */
static atomic_int g_wrap_code;

static int wrap_gate(const char *op)
{
	atomic_fetch_add(&g_wrap_calls, 1);
	long left = atomic_load(&g_wrap_left);
	while (left > 0) {
		if (atomic_compare_exchange_weak(&g_wrap_left, &left, left - 1)) {
			if (left > 1)
				return BRAIN_OK;
			return brain__err(atomic_load(&g_wrap_code), "crashloop io: %s: injected failure",
			                  op);
		}
	}
	return BRAIN_OK;
}

static const brain_io *posix(void)
{
	return brain_io_posix();
}

static int wrap_open(void *payload, const char *path, unsigned int flags, brain_io_file **out)
{
	(void)payload;
	int rc = wrap_gate("open");
	if (rc) {
		*out = NULL;
		return rc;
	}
	return posix()->open(posix()->payload, path, flags, out);
}

static int wrap_close(brain_io_file *file)
{
	return posix()->close(file);
}

static int wrap_pread(brain_io_file *file, void *buf, size_t len, uint64_t offset, size_t *done)
{
	int rc = wrap_gate("pread");
	if (rc) {
		*done = 0;
		return rc;
	}
	return posix()->pread(file, buf, len, offset, done);
}

static int wrap_pwrite(brain_io_file *file, const void *buf, size_t len, uint64_t offset)
{
	int rc = wrap_gate("pwrite");
	return rc ? rc : posix()->pwrite(file, buf, len, offset);
}

static int wrap_fsync(brain_io_file *file)
{
	int rc = wrap_gate("fsync");
	return rc ? rc : posix()->fsync(file);
}

static int wrap_size(brain_io_file *file, uint64_t *size)
{
	int rc = wrap_gate("size");
	return rc ? rc : posix()->size(file, size);
}

static int wrap_truncate(brain_io_file *file, uint64_t size)
{
	int rc = wrap_gate("truncate");
	return rc ? rc : posix()->truncate(file, size);
}

static int wrap_allocate(brain_io_file *file, uint64_t offset, uint64_t len)
{
	int rc = wrap_gate("allocate");
	return rc ? rc : posix()->allocate(file, offset, len);
}

static int wrap_map(brain_io_file *file, uint64_t offset, size_t len, void **addr)
{
	int rc = wrap_gate("map");
	return rc ? rc : posix()->map(file, offset, len, addr);
}

static int wrap_unmap(void *payload, void *addr, size_t len)
{
	(void)payload;
	return posix()->unmap(posix()->payload, addr, len);
}

static int wrap_lock(brain_io_file *file, int exclusive)
{
	int rc = wrap_gate("lock");
	return rc ? rc : posix()->lock(file, exclusive);
}

static int wrap_mkdir(void *payload, const char *path)
{
	(void)payload;
	int rc = wrap_gate("mkdir");
	return rc ? rc : posix()->mkdir(posix()->payload, path);
}

static int wrap_rename(void *payload, const char *from, const char *to)
{
	(void)payload;
	int rc = wrap_gate("rename");
	return rc ? rc : posix()->rename(posix()->payload, from, to);
}

static int wrap_unlink(void *payload, const char *path)
{
	(void)payload;
	int rc = wrap_gate("unlink");
	return rc ? rc : posix()->unlink(posix()->payload, path);
}

static int wrap_sync_dir(void *payload, const char *path)
{
	(void)payload;
	int rc = wrap_gate("sync_dir");
	return rc ? rc : posix()->sync_dir(posix()->payload, path);
}

static int wrap_list(void *payload, const char *path, int (*fn)(const char *name, void *ctx),
                     void *ctx)
{
	(void)payload;
	int rc = wrap_gate("list");
	return rc ? rc : posix()->list(posix()->payload, path, fn, ctx);
}

static const brain_io g_wrap_io = {
	.version = BRAIN_IO_VERSION,
	.payload = NULL,
	.open = wrap_open,
	.close = wrap_close,
	.pread = wrap_pread,
	.pwrite = wrap_pwrite,
	.fsync = wrap_fsync,
	.size = wrap_size,
	.truncate = wrap_truncate,
	.allocate = wrap_allocate,
	.map = wrap_map,
	.unmap = wrap_unmap,
	.lock = wrap_lock,
	.mkdir = wrap_mkdir,
	.rename = wrap_rename,
	.unlink = wrap_unlink,
	.sync_dir = wrap_sync_dir,
	.list = wrap_list,
};

/* Where a run works: a memfs, or the real file system through g_wrap_io. */
typedef struct target {
	memfs *fs; /* NULL: the real file system */
	const char *path;
	long calls_at_arm;
} target;

static long io_calls(const target *t)
{
	return t->fs ? memfs_calls(t->fs) : atomic_load(&g_wrap_calls);
}

static void fault_arm(target *t, int fault, long n)
{
	if (fault == FAULT_ALLOC) {
		test_alloc_arm(n);
		return;
	}
	t->calls_at_arm = io_calls(t);
	if (t->fs) {
		memfs_fail_at(t->fs, n, fault_code(fault));
	} else {
		atomic_store(&g_wrap_code, fault_code(fault));
		atomic_store(&g_wrap_left, n);
	}
}

/* Allocations or io calls since the fault was armed. */
static long fault_calls(const target *t, int fault)
{
	return fault == FAULT_ALLOC ? test_alloc_calls : io_calls(t) - t->calls_at_arm;
}

/* Disarm; whether the fault fired. */
static bool fault_disarm(target *t, int fault, long n)
{
	bool fired;
	if (fault == FAULT_ALLOC) {
		fired = test_alloc_calls >= n;
		test_alloc_disarm();
	} else if (t->fs) {
		fired = !memfs_armed(t->fs);
		memfs_fail_at(t->fs, 0, 0);
	} else {
		fired = atomic_exchange(&g_wrap_left, 0) == 0;
	}
	return fired;
}

/* ------------------------------------------------------------------------ */
/* Changes that apply themselves to the model when acknowledged             */
/* ------------------------------------------------------------------------ */

static void both_put(outcome *oc, const entry *e)
{
	model_put(&oc->acked, e);
	model_put(&oc->maybe, e);
}

static int change_remember(brain_t *b, outcome *oc, int k)
{
	entry e;
	int rc = entry_text(&e, k);
	if (rc)
		return rc;
	brain_id id = BRAIN_ID_NONE;
	rc = brain_remember_ex(b, e.text, NULL, e.importance, &id);
	if (rc == BRAIN_OK) {
		e.id = id;
		both_put(oc, &e);
	}
	return rc;
}

static int change_add(brain_t *b, outcome *oc, uint64_t id, int salt)
{
	entry e;
	entry_vector(&e, id, salt);
	int rc = brain_add(b, id, e.vec);
	if (rc == BRAIN_OK)
		both_put(oc, &e);
	return rc;
}

static int change_add_batch(brain_t *b, outcome *oc, uint64_t first)
{
	entry e[BATCH];
	uint64_t ids[BATCH];
	float vecs[BATCH * DIMS];
	for (size_t i = 0; i < BATCH; i++) {
		ids[i] = first + i;
		entry_vector(&e[i], ids[i], 0);
		memcpy(vecs + i * DIMS, e[i].vec, sizeof e[i].vec);
	}
	int rc = brain_add_batch(b, ids, vecs, BATCH);
	for (size_t i = 0; rc == BRAIN_OK && i < BATCH; i++)
		both_put(oc, &e[i]);
	return rc;
}

static int change_forget(brain_t *b, outcome *oc, uint64_t id)
{
	int rc = brain_forget(b, id);
	if (rc == BRAIN_OK) {
		model_del(&oc->acked, id);
		model_del(&oc->maybe, id);
	}
	return rc;
}

static int change_update(brain_t *b, outcome *oc, uint64_t id, int salt)
{
	float v[DIMS];
	vec_for(id, salt, v);
	int rc = brain_update_vector(b, id, v);
	entry *a = model_find(&oc->acked, id), *m = model_find(&oc->maybe, id);
	if (rc == BRAIN_OK && a && m) {
		memcpy(a->vec, v, sizeof v);
		memcpy(m->vec, v, sizeof v);
	}
	return rc;
}

/* The starting brain: memories, vectors and a batch, forgets and updates,
 * a checkpoint, then more of each in the log. */
static bool build_base(brain_t *b, outcome *oc)
{
	int rc = BRAIN_OK;
	for (int k = 0; rc == BRAIN_OK && k < 10; k++)
		rc = change_remember(b, oc, k);
	for (uint64_t id = 1000; rc == BRAIN_OK && id < 1010; id++)
		rc = change_add(b, oc, id, 0);
	if (rc == BRAIN_OK)
		rc = change_add_batch(b, oc, 2000);
	if (rc == BRAIN_OK)
		rc = change_forget(b, oc, model_pick(&oc->acked, true, 0, 0));
	if (rc == BRAIN_OK)
		rc = change_forget(b, oc, 1003);
	if (rc == BRAIN_OK)
		rc = change_update(b, oc, 1005, 1);
	if (rc == BRAIN_OK)
		rc = brain_checkpoint(b);
	for (int k = 10; rc == BRAIN_OK && k < 20; k++)
		rc = change_remember(b, oc, k);
	for (uint64_t id = 1010; rc == BRAIN_OK && id < 1020; id++)
		rc = change_add(b, oc, id, 0);
	if (rc == BRAIN_OK)
		rc = change_add_batch(b, oc, 2100);
	if (rc == BRAIN_OK)
		rc = change_forget(b, oc, model_pick(&oc->acked, true, 0, 0));
	if (rc == BRAIN_OK)
		rc = change_forget(b, oc, 1001);
	if (rc == BRAIN_OK)
		rc = change_update(b, oc, 1006, 1);
	/* The Lungs checkpoint once the log passes a quarter of the last
	 * checkpoint: updates of one vector make it that long */
	brain_stats st;
	brain_stats_init(&st, BRAIN_STATS_VERSION);
	for (int salt = 10; rc == BRAIN_OK && salt < 100000; salt++) {
		rc = brain_get_stats(b, &st);
		if (rc || st.wal_bytes > st.checkpoint_bytes / 4 + 1024)
			break;
		rc = change_update(b, oc, 1007, salt);
	}
	if (rc)
		run_failed(oc, "building the brain: %s: %s", brain_error_name(rc), brain_errmsg());
	return rc == BRAIN_OK;
}

/* ------------------------------------------------------------------------ */
/* The operations                                                           */
/* ------------------------------------------------------------------------ */

#define CRASHLOOP_OPS(X)                                                       \
	X(open, OP_OPEN)                                                           \
	X(open_new, OP_OPEN_NEW)                                                   \
	X(remember, OP_REMEMBER)                                                   \
	X(add, OP_ADD)                                                             \
	X(add_batch, OP_ADD_BATCH)                                                 \
	X(forget, OP_FORGET)                                                       \
	X(update_vector, OP_UPDATE_VECTOR)                                         \
	X(update, OP_UPDATE)                                                       \
	X(checkpoint, OP_CHECKPOINT)                                               \
	X(background_checkpoint, OP_BACKGROUND_CHECKPOINT)                         \
	X(close, OP_CLOSE)

enum op {
#define CRASHLOOP_ENUM(name, OP) OP,
	CRASHLOOP_OPS(CRASHLOOP_ENUM)
#undef CRASHLOOP_ENUM
	OP_COUNT
};

static const char *const g_op_names[OP_COUNT] = {
#define CRASHLOOP_NAME(name, OP) [OP] = #name,
	CRASHLOOP_OPS(CRASHLOOP_NAME)
#undef CRASHLOOP_NAME
};

/* Results of a background checkpoint, which has no return value. */
#define BACKGROUND_FAILED 1 /* it ran and failed: see the log */
#define BACKGROUND_NEVER 2  /* it never started */

typedef struct op_input {
	entry e[BATCH];
	uint64_t target; /* forget, update_vector */
	brain_id id_out; /* remember */
	long calls_before; /* background checkpoint */
	unsigned long log_mark;
} op_input;

/* Inputs of the operation, and the model with it applied (oc->maybe);
 * everything that allocates happens here, before the fault is armed. */
static bool op_prepare(int op, const target *t, op_input *in, outcome *oc)
{
	memset(in, 0, sizeof *in);
	in->log_mark = log_mark();
	switch (op) {
	case OP_REMEMBER: {
		int rc = entry_text(&in->e[0], 100);
		if (rc) {
			run_failed(oc, "embedding: %s: %s", brain_error_name(rc), brain_errmsg());
			return false;
		}
		model_put(&oc->maybe, &in->e[0]);
		break;
	}
	case OP_ADD:
		entry_vector(&in->e[0], 5000, 0);
		model_put(&oc->maybe, &in->e[0]);
		break;
	case OP_ADD_BATCH:
		for (size_t i = 0; i < BATCH; i++) {
			entry_vector(&in->e[i], 6000 + i, 0);
			model_put(&oc->maybe, &in->e[i]);
		}
		break;
	case OP_FORGET: /* a text: forgetting it updates the word statistics */
		in->target = model_pick(&oc->acked, true, 0, 0);
		model_del(&oc->maybe, in->target);
		break;
	case OP_UPDATE_VECTOR: {
		in->target = model_pick(&oc->acked, false, 0, 0);
		entry *e = model_find(&oc->maybe, in->target);
		if (!e) {
			run_failed(oc, "the brain holds no vector to update");
			return false;
		}
		vec_for(in->target, 5, e->vec);
		memcpy(in->e[0].vec, e->vec, sizeof e->vec);
		break;
	}
	case OP_UPDATE: { /* a new text and importance: the memory moves to a new slot */
		in->target = model_pick(&oc->acked, true, 0, 0);
		entry *e = model_find(&oc->maybe, in->target);
		int rc = e ? entry_text(&in->e[0], 300) : BRAIN_ENOTFOUND;
		if (rc) {
			run_failed(oc, "no text to update, or embedding: %s", brain_error_name(rc));
			return false;
		}
		in->e[0].id = in->target;
		*e = in->e[0];
		break;
	}
	case OP_BACKGROUND_CHECKPOINT:
		in->calls_before = io_calls(t);
		break;
	default:
		break;
	}
	return true;
}

static void nap_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Make the Lungs checkpoint: a tiny threshold until the checkpoint has
 * started (its first io call), then none, so that it does not run again.
 * The fault is armed in this thread and fires in the Heart's worker; then
 * wait until the checkpoint has committed or logged its failure (a
 * checkpoint holds no lock a reader waits for, so the stats do not wait
 * for it). */
static bool logged_failure(void)
{
	pthread_mutex_lock(&g_log_mu);
	bool failed = strstr(g_log_last, "background checkpoint failed") != NULL;
	pthread_mutex_unlock(&g_log_mu);
	return failed;
}

static int background_checkpoint(brain_t *b, const target *t, const op_input *in)
{
	brain_stats st;
	brain_stats_init(&st, BRAIN_STATS_VERSION);
	int rc = brain_get_stats(b, &st); /* allocates nothing */
	uint64_t before = st.checkpoints;
	if (rc == BRAIN_OK)
		rc = brain_set_param(b, BRAIN_PARAM_CHECKPOINT_WAL_BYTES, 1);
	if (rc)
		return rc;
	bool started = false;
	for (long ms = 0; !started && ms < BACKGROUND_WAIT_MS; ms++) {
		started = io_calls(t) > in->calls_before;
		if (!started)
			nap_ms(1);
	}
	rc = brain_set_param(b, BRAIN_PARAM_CHECKPOINT_WAL_BYTES, 0);
	if (rc)
		return rc;
	if (!started)
		return BACKGROUND_NEVER;
	for (long ms = 0; ms < BACKGROUND_WAIT_MS; ms++) {
		if ((rc = brain_get_stats(b, &st)) != 0)
			return rc;
		if (st.checkpoints > before)
			return BRAIN_OK;
		if (in->log_mark != log_mark() && logged_failure())
			break;
		nap_ms(1);
	}
	return BACKGROUND_FAILED;
}

static int op_run(int op, brain_t **bp, const brain_options *o, const target *t, op_input *in)
{
	brain_t *b = *bp;
	switch (op) {
	case OP_OPEN:
	case OP_OPEN_NEW:
		return brain_open(t->path, o, bp);
	case OP_REMEMBER:
		return brain_remember_ex(b, in->e[0].text, NULL, in->e[0].importance, &in->id_out);
	case OP_ADD:
		return brain_add(b, in->e[0].id, in->e[0].vec);
	case OP_ADD_BATCH: {
		uint64_t ids[BATCH];
		float vecs[BATCH * DIMS];
		for (size_t i = 0; i < BATCH; i++) {
			ids[i] = in->e[i].id;
			memcpy(vecs + i * DIMS, in->e[i].vec, sizeof in->e[i].vec);
		}
		return brain_add_batch(b, ids, vecs, BATCH);
	}
	case OP_FORGET:
		return brain_forget(b, in->target);
	case OP_UPDATE_VECTOR:
		return brain_update_vector(b, in->target, in->e[0].vec);
	case OP_UPDATE:
		return brain_update(b, in->target, in->e[0].text, strlen(in->e[0].text), NULL,
		                    in->e[0].importance, NULL);
	case OP_CHECKPOINT:
		return brain_checkpoint(b);
	case OP_BACKGROUND_CHECKPOINT:
		return background_checkpoint(b, t, in);
	default: /* OP_CLOSE */
		*bp = NULL;
		return brain_close(b);
	}
}

static bool op_changes(int op)
{
	return op == OP_REMEMBER || op == OP_ADD || op == OP_ADD_BATCH || op == OP_FORGET ||
	       op == OP_UPDATE_VECTOR || op == OP_UPDATE;
}

/* A later change returned rc: 0, or `refused` (the injected io error), or
 * BRAIN_EIO after an io fault (a failed fsync is BRAIN_EIO whatever the
 * device said, and a failed log refuses every change with it until the
 * brain is reopened). */
static bool later_ok(outcome *oc, int refused, const char *what, int rc)
{
	if (rc == BRAIN_OK)
		return true;
	if (rc == refused || (refused != BRAIN_OK && rc == BRAIN_EIO)) {
		oc->after_failed++;
		return true;
	}
	run_failed(oc, "a later %s returned %s: %s", what, brain_error_name(rc), brain_errmsg());
	return false;
}

/* More changes after the fault: each acknowledged one must survive. */
static bool later_changes(brain_t *b, outcome *oc, int fault, uint64_t op_target)
{
	int no = fault == FAULT_ALLOC ? BRAIN_OK : fault_code(fault);
	if (!later_ok(oc, no, "remember", change_remember(b, oc, 200)) ||
	    !later_ok(oc, no, "add", change_add(b, oc, 7001, 0)) ||
	    !later_ok(oc, no, "add", change_add(b, oc, 7002, 0)))
		return false;
	if (model_find(&oc->acked, 7001) &&
	    !later_ok(oc, no, "forget", change_forget(b, oc, 7001)))
		return false;
	if (model_find(&oc->acked, 7002) &&
	    !later_ok(oc, no, "update_vector", change_update(b, oc, 7002, 3)))
		return false;
	uint64_t text = model_pick(&oc->acked, true, op_target, 0);
	if (text && !later_ok(oc, no, "forget", change_forget(b, oc, text)))
		return false;
	uint64_t vec = model_pick(&oc->acked, false, op_target, 7002);
	if (vec && !later_ok(oc, no, "update_vector", change_update(b, oc, vec, 4)))
		return false;
	return later_ok(oc, no, "remember", change_remember(b, oc, 201));
}

/* The files a memfs still has open or mapped once no brain is open. */
static bool memfs_released(const target *t, outcome *oc, const char *when)
{
	if (!t->fs || (memfs_open_files(t->fs) == 0 && memfs_live_maps(t->fs) == 0))
		return true;
	run_failed(oc, "%s: %zu files and %zu mappings still open", when,
	           memfs_open_files(t->fs), memfs_live_maps(t->fs));
	return false;
}

/*
 * One run: open the brain at t (unless the operation is an open), run the
 * operation with the fault armed at n, make more changes. On return *bp is
 * the open brain (or NULL), to be crashed by the caller; false (with
 * oc->why) if something went wrong before the crash.
 */
static bool run_case(target *t, int op, int fault, long n, const model *base, brain_t **bp,
                     outcome *oc)
{
	memset(oc, 0, sizeof *oc);
	oc->acked = *base;
	oc->maybe = *base;
	brain_options o = options_for(t->fs ? memfs_io(t->fs) : &g_wrap_io);
	*bp = NULL;
	if (op != OP_OPEN && op != OP_OPEN_NEW) {
		int rc = brain_open(t->path, &o, bp);
		if (rc) {
			run_failed(oc, "open before the operation: %s: %s", brain_error_name(rc),
			           brain_errmsg());
			return false;
		}
	}
	op_input in;
	if (!op_prepare(op, t, &in, oc))
		return false;

	fault_arm(t, fault, n);
	int rc = op_run(op, bp, &o, t, &in);
	oc->ran = true;
	oc->calls = fault_calls(t, fault);
	oc->fired = fault_disarm(t, fault, n);
	oc->rc = rc;
	log_since(in.log_mark, oc->log, sizeof oc->log);
	if (rc && op != OP_BACKGROUND_CHECKPOINT)
		say(oc->err, sizeof oc->err, "%s", brain_errmsg());

	if (op == OP_BACKGROUND_CHECKPOINT && rc == BACKGROUND_NEVER) {
		run_failed(oc, "the Lungs did not start a checkpoint within %d ms", BACKGROUND_WAIT_MS);
		return false;
	}
	/* an injected ENOSPC from an fsync comes back as BRAIN_EIO: the
	 * change may or may not be durable (include/braincore/memory.h) */
	bool fsync_eio = fault != FAULT_ALLOC && rc == BRAIN_EIO && strstr(oc->err, "fsync");
	if (op != OP_BACKGROUND_CHECKPOINT && rc != BRAIN_OK && rc != fault_code(fault) &&
	    !fsync_eio) {
		run_failed(oc, "returned %s (%s), neither 0 nor the injected %s",
		           brain_error_name(rc), oc->err, brain_error_name(fault_code(fault)));
		return false;
	}
	if (rc != BRAIN_OK && !oc->fired) {
		run_failed(oc, "failed (%s: %s) though the fault never fired", brain_error_name(rc),
		           oc->err);
		return false;
	}
	if (rc == BRAIN_OK) {
		entry *e = op == OP_REMEMBER ? model_find(&oc->maybe, ID_UNKNOWN) : NULL;
		if (e)
			e->id = in.id_out;
		oc->acked = oc->maybe;
	} else {
		oc->has_maybe = op_changes(op);
		oc->must_stay = op == OP_FORGET && rc == BRAIN_ENOMEM;
	}

	if (!*bp) { /* an open failed, or the operation was close: open again */
		if (!memfs_released(t, oc, "after the operation"))
			return false;
		rc = brain_open(t->path, &o, bp);
		if (rc) {
			run_failed(oc, "open after the operation: %s: %s", brain_error_name(rc),
			           brain_errmsg());
			return false;
		}
	}
	char w[512];
	if (!matches(*bp, oc, w, sizeof w)) {
		run_failed(oc, "in memory after the operation: %s", w);
		return false;
	}
	if (!oc->fired) /* nothing more to learn: the caller stops */
		return true;
	if (!later_changes(*bp, oc, fault, in.target))
		return false;
	if (!matches(*bp, oc, w, sizeof w)) {
		run_failed(oc, "in memory after the later changes: %s", w);
		return false;
	}
	return true;
}

/* The run and what the operation did, for messages. */
static void describe_run(char *buf, size_t size, int op, int fault, long n, const outcome *oc)
{
	char result[320] = "", logged[300] = "";
	if (oc->ran && op == OP_BACKGROUND_CHECKPOINT)
		say(result, sizeof result, ": the checkpoint %s", oc->rc == BRAIN_OK ? "ran" : "failed");
	else if (oc->ran && oc->rc)
		say(result, sizeof result, ": it returned %s (\"%s\")", brain_error_name(oc->rc),
		    oc->err);
	else if (oc->ran)
		say(result, sizeof result, ": it returned OK");
	if (oc->ran && oc->log[0])
		say(logged, sizeof logged, ", logging \"%s\"", oc->log);
	say(buf, size, "%s, %s at n=%ld%s%s; %d later changes refused", g_op_names[op],
	    g_fault_names[fault], n, result, logged, oc->after_failed);
}

/* The surviving files pass brain_check, open, and hold what oc says. */
static bool verify_on_disk(const char *path, const brain_io *io, const outcome *oc, char *w,
                           size_t size)
{
	brain_options o = options_for(io);
	brain_check_report rep;
	brain_check_report_init(&rep, BRAIN_CHECK_REPORT_VERSION);
	int rc = brain_check(path, &o, &rep);
	if (rc) {
		say(w, size, "brain_check: %s: %s", brain_error_name(rc), brain_errmsg());
		return false;
	}
	brain_t *b = NULL;
	rc = brain_open(path, &o, &b);
	if (rc) {
		say(w, size, "reopen: %s: %s", brain_error_name(rc), brain_errmsg());
		return false;
	}
	char m[512];
	bool ok = matches(b, oc, m, sizeof m);
	if (!ok)
		say(w, size, "after the crash: %s", m);
	rc = brain_close(b);
	if (ok && rc) {
		say(w, size, "close after the crash: %s: %s", brain_error_name(rc),
		    brain_errmsg());
		ok = false;
	}
	return ok;
}

/* ------------------------------------------------------------------------ */
/* On memfs: every n, three kinds of power loss                             */
/* ------------------------------------------------------------------------ */

static memfs *g_base_fs;      /* the starting brain, after a power loss */
static model g_base_model;    /* what it holds */
static const model g_empty;   /* what a new brain holds */

static const enum memfs_crash_mode g_crash_modes[] = {MEMFS_CRASH_DROP, MEMFS_CRASH_TEAR,
                                                      MEMFS_CRASH_KEEP};
static const char *const g_crash_names[] = {"power loss dropping the unsynced writes",
                                            "power loss tearing the unsynced writes",
                                            "power loss keeping the unsynced writes"};

/* Power losses of the snapshot; false with w set at the first failure. */
static bool crash_and_verify(const memfs *snap, const outcome *oc, uint64_t seed, size_t *mode,
                             char *w, size_t size)
{
	for (*mode = 0; *mode < sizeof g_crash_modes / sizeof g_crash_modes[0]; (*mode)++) {
		memfs *fs = memfs_clone(snap);
		if (!fs || memfs_crash(fs, g_crash_modes[*mode], seed) != 0) {
			say(w, size, "memfs out of memory");
			memfs_free(fs);
			return false;
		}
		bool ok = verify_on_disk(MEMFS_PATH, memfs_io(fs), oc, w, size);
		memfs_free(fs);
		if (!ok)
			return false;
	}
	return true;
}

/* A file system holding the (durable) directory the brains go in. */
static memfs *memfs_fresh(void)
{
	memfs *fs = memfs_new();
	if (fs && memfs_io(fs)->mkdir(memfs_io(fs)->payload, MEMFS_DIR) != BRAIN_OK) {
		memfs_free(fs);
		fs = NULL;
	}
	return fs;
}

static void memfs_loop(int op, int fault)
{
	const model *base = op == OP_OPEN_NEW ? &g_empty : &g_base_model;
	outcome *oc = calloc(1, sizeof *oc);
	assert_non_null(oc);
	long n = 1, total_calls = 0;
	char msg[1024], w[512];
	for (; n <= MAX_N; n++) {
		memfs *fs = op == OP_OPEN_NEW ? memfs_fresh() : memfs_clone(g_base_fs);
		assert_non_null(fs);
		target t = {fs, MEMFS_PATH, 0};
		brain_t *b = NULL;
		bool ok = run_case(&t, op, fault, n, base, &b, oc);
		total_calls = oc->calls;
		/* the crash: what the files hold now, before any close */
		memfs *snap = ok && oc->fired ? memfs_clone(fs) : NULL;
		memfs_crash_at(fs, 1); /* the world stops: the close below writes nothing */
		brain_close(b);
		if (ok && !memfs_released(&t, oc, "after close"))
			ok = false;
		memfs_free(fs);
		if (!ok) {
			describe_run(msg, sizeof msg, op, fault, n, oc);
			say(w, sizeof w, "%s", oc->why);
			free(oc);
			memfs_free(snap);
			fail_msg("%s: %s", msg, w);
		}
		if (!oc->fired) {
			memfs_free(snap);
			break;
		}
		assert_non_null(snap);
		size_t mode = 0;
		ok = crash_and_verify(snap, oc, (uint64_t)n * 131 + (uint64_t)op, &mode, w, sizeof w);
		memfs_free(snap);
		if (!ok) {
			describe_run(msg, sizeof msg, op, fault, n, oc);
			free(oc);
			fail_msg("%s; then a %s: %s", msg, g_crash_names[mode], w);
		}
	}
	free(oc);
	if (n > MAX_N)
		fail_msg("%s, %s: the fault still fires at n=%d", g_op_names[op], g_fault_names[fault],
		         MAX_N);
	print_message("%s, %s: %ld fault points, each crashed 3 ways (the operation makes %ld %s)\n",
	              g_op_names[op], g_fault_names[fault], n - 1, total_calls,
	              fault == FAULT_ALLOC ? "allocations" : "io calls");
}

/* ------------------------------------------------------------------------ */
/* On the real file system: a child that fails, changes more and is killed  */
/* ------------------------------------------------------------------------ */

static char g_root[4096];     /* mkdtemp directory */
static char g_kill_base[4200]; /* the starting brain, as a killed writer left it */
static char g_kill_run[4200];  /* each run's copy */
static model g_kill_base_model;

static bool write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		len -= (size_t)w;
	}
	return true;
}

static size_t read_all(int fd, void *data, size_t len)
{
	char *p = data;
	size_t got = 0;
	while (got < len) {
		ssize_t r = read(fd, p + got, len - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

/* Runs in the child: report oc on fd, then wait for SIGKILL. */
static void child_report(int fd, const outcome *oc) __attribute__((noreturn));

static void child_report(int fd, const outcome *oc)
{
	if (!write_all(fd, oc, sizeof *oc))
		_exit(3);
	close(fd);
	for (;;)
		pause();
}

/* Fork a child that runs body(op, fault, n, oc) and reports oc; kill it
 * once it has. false with w set if the child did not report. */
typedef void (*child_body)(int op, int fault, long n, outcome *oc);

static bool run_child(child_body body, int op, int fault, long n, outcome *oc, char *w,
                      size_t size)
{
	int p[2];
	if (pipe(p) != 0) {
		say(w, size, "pipe: %s", strerror(errno));
		return false;
	}
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		say(w, size, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return false;
	}
	if (pid == 0) {
		close(p[0]);
		alarm(120); /* never outlive a lost parent for long */
		static outcome child_oc;
		body(op, fault, n, &child_oc);
		child_report(p[1], &child_oc);
	}
	close(p[1]);
	size_t got = read_all(p[0], oc, sizeof *oc);
	close(p[0]);
	kill(pid, SIGKILL);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
	}
	if (got == sizeof *oc)
		return true;
	if (WIFEXITED(status))
		say(w, size, "the child exited with %d before reporting", WEXITSTATUS(status));
	else
		say(w, size, "the child died of signal %d before reporting", WTERMSIG(status));
	return false;
}

static void build_body(int op, int fault, long n, outcome *oc)
{
	(void)op;
	(void)fault;
	(void)n;
	memset(oc, 0, sizeof *oc);
	brain_options o = options_for(&g_wrap_io);
	brain_t *b = NULL;
	int rc = brain_open(g_kill_base, &o, &b);
	if (rc)
		run_failed(oc, "open: %s: %s", brain_error_name(rc), brain_errmsg());
	else
		build_base(b, oc);
}

static void case_body(int op, int fault, long n, outcome *oc)
{
	target t = {NULL, g_kill_run, 0};
	brain_t *b = NULL;
	run_case(&t, op, fault, n, op == OP_OPEN_NEW ? &g_empty : &g_kill_base_model, &b, oc);
}

/* A fresh copy of the starting brain (none for open_new). */
static bool kill_prepare(int op, char *w, size_t size)
{
	if (test_remove_tree(g_kill_run) != 0 ||
	    (op != OP_OPEN_NEW && test_copy_tree(g_kill_base, g_kill_run) != 0)) {
		say(w, size, "cannot prepare %s: %s", g_kill_run, strerror(errno));
		return false;
	}
	return true;
}

/* n to try out of 1..total: the first few, some in between, the last few
 * (where a checkpoint resets the log). */
static size_t kill_samples(long total, long *out)
{
	long want[] = {1, 2, 3, total / 4, total / 2, 3 * total / 4, total - 2, total - 1, total};
	size_t k = 0;
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		bool seen = false;
		for (size_t j = 0; j < k; j++)
			seen |= out[j] == want[i];
		if (want[i] >= 1 && want[i] <= total && !seen)
			out[k++] = want[i];
	}
	return k;
}

static void kill_loop(int op, int fault)
{
	outcome *oc = calloc(1, sizeof *oc);
	assert_non_null(oc);
	char w[512], msg[1024];
	/* how many calls the operation makes: a fault that never fires */
	bool ok = kill_prepare(op, w, sizeof w) && run_child(case_body, op, fault, LONG_MAX, oc, w,
	                                                      sizeof w);
	if (ok && oc->why[0]) {
		say(w, sizeof w, "%s", oc->why);
		ok = false;
	}
	if (!ok) {
		free(oc);
		fail_msg("%s, %s, counting calls: %s", g_op_names[op], g_fault_names[fault], w);
	}
	long total = oc->calls;
	long samples[16];
	size_t ns = kill_samples(total, samples);
	for (size_t i = 0; i < ns; i++) {
		long n = samples[i];
		ok = kill_prepare(op, w, sizeof w) && run_child(case_body, op, fault, n, oc, w, sizeof w);
		if (ok && oc->why[0]) {
			say(w, sizeof w, "%s", oc->why);
			ok = false;
		}
		bool killed = ok;
		if (ok && oc->fired)
			ok = verify_on_disk(g_kill_run, NULL, oc, w, sizeof w);
		if (!ok) {
			describe_run(msg, sizeof msg, op, fault, n, oc);
			free(oc);
			fail_msg("%s%s: %s", msg, killed ? "; then SIGKILL" : "", w);
		}
	}
	free(oc);
	print_message("%s, %s: %zu of %ld fault points, each killed\n", g_op_names[op],
	              g_fault_names[fault], ns, total);
}

/* ------------------------------------------------------------------------ */
/* Setup                                                                    */
/* ------------------------------------------------------------------------ */

/* The starting brain on memfs: built, then a crash without close that keeps
 * all the OS had (a starting point, not a test). */
static int setup_memfs_base(void)
{
	outcome *oc = calloc(1, sizeof *oc);
	memfs *fs = memfs_fresh();
	if (!oc || !fs)
		return -1;
	brain_options o = options_for(memfs_io(fs));
	brain_t *b = NULL;
	int rc = brain_open(MEMFS_PATH, &o, &b);
	bool ok = rc == BRAIN_OK && build_base(b, oc);
	if (ok)
		g_base_fs = memfs_clone(fs);
	memfs_crash_at(fs, 1);
	brain_close(b);
	memfs_free(fs);
	if (!ok || !g_base_fs || memfs_crash(g_base_fs, MEMFS_CRASH_KEEP, 1) != 0) {
		fprintf(stderr, "test_crashloop: building the brain: %s %s\n", oc->why,
		        rc ? brain_errmsg() : "");
		free(oc);
		return -1;
	}
	g_base_model = oc->acked;

	/* it opens with a log to replay, long enough for the Lungs'
	 * threshold (a quarter of the checkpoint) */
	memfs *copy = memfs_clone(g_base_fs);
	o = options_for(memfs_io(copy));
	rc = brain_open(MEMFS_PATH, &o, &b);
	brain_stats st;
	brain_stats_init(&st, BRAIN_STATS_VERSION);
	char w[512] = "";
	ok = rc == BRAIN_OK && brain_get_stats(b, &st) == BRAIN_OK && matches(b, oc, w, sizeof w);
	brain_close(b);
	memfs_free(copy);
	free(oc);
	if (!ok || st.wal_bytes == 0 || st.wal_bytes < st.checkpoint_bytes / 4) {
		fprintf(stderr, "test_crashloop: the starting brain: %s (log %llu bytes, checkpoint "
		        "%llu bytes)\n", w, (unsigned long long)st.wal_bytes,
		        (unsigned long long)st.checkpoint_bytes);
		return -1;
	}
	return 0;
}

/* The starting brain on the real file system, left by a killed writer. */
static int setup_kill_base(void)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(g_root, sizeof g_root, "%s/braincore-crashloop-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(g_root)) {
		fprintf(stderr, "test_crashloop: mkdtemp %s: %s\n", g_root, strerror(errno));
		g_root[0] = '\0';
		return -1;
	}
	snprintf(g_kill_base, sizeof g_kill_base, "%s/base", g_root);
	snprintf(g_kill_run, sizeof g_kill_run, "%s/run", g_root);
	outcome *oc = calloc(1, sizeof *oc);
	char w[512] = "";
	bool ok = oc && run_child(build_body, 0, 0, 0, oc, w, sizeof w) && !oc->why[0];
	if (!ok) {
		fprintf(stderr, "test_crashloop: building %s: %s%s\n", g_kill_base, w,
		        oc ? oc->why : "");
		free(oc);
		return -1;
	}
	g_kill_base_model = oc->acked;
	free(oc);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	if (test_alloc_install() != BRAIN_OK)
		return -1;
	brain_set_log(log_capture, NULL);
	brain_options o = options_for(NULL);
	/* no thread in the parent, which forks the kill runs' children
	 * (threads after a multi-threaded fork are not supported by TSan) */
	o.background = BRAIN_BACKGROUND_MANUAL;
	if (brain_open(NULL, &o, &g_embedder) != BRAIN_OK)
		return -1;
	return setup_memfs_base() || setup_kill_base() ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	if (g_root[0] && test_remove_tree(g_root) != 0)
		fprintf(stderr, "test_crashloop: cannot remove %s\n", g_root);
	brain_close(g_embedder);
	memfs_free(g_base_fs);
	brain_set_log(NULL, NULL);
	return test_alloc_remove();
}

/* ------------------------------------------------------------------------ */
/* Cases                                                                    */
/* ------------------------------------------------------------------------ */

#define CRASHLOOP_CASES(name, OP)                                                          \
	static void test_crashloop__##name##_alloc(void **state)                               \
	{                                                                                      \
		(void)state;                                                                       \
		memfs_loop(OP, FAULT_ALLOC);                                                       \
	}                                                                                      \
	static void test_crashloop__##name##_eio(void **state)                                 \
	{                                                                                      \
		(void)state;                                                                       \
		memfs_loop(OP, FAULT_EIO);                                                         \
	}                                                                                      \
	static void test_crashloop__##name##_enospc(void **state)                              \
	{                                                                                      \
		(void)state;                                                                       \
		memfs_loop(OP, FAULT_ENOSPC);                                                      \
	}                                                                                      \
	static void test_crashloop__##name##_kill_alloc(void **state)                          \
	{                                                                                      \
		(void)state;                                                                       \
		kill_loop(OP, FAULT_ALLOC);                                                        \
	}                                                                                      \
	static void test_crashloop__##name##_kill_eio(void **state)                            \
	{                                                                                      \
		(void)state;                                                                       \
		kill_loop(OP, FAULT_EIO);                                                          \
	}                                                                                      \
	static void test_crashloop__##name##_kill_enospc(void **state)                         \
	{                                                                                      \
		(void)state;                                                                       \
		kill_loop(OP, FAULT_ENOSPC);                                                       \
	}
CRASHLOOP_OPS(CRASHLOOP_CASES)
#undef CRASHLOOP_CASES

int main(void)
{
#define CRASHLOOP_ENTRIES(name, OP)                                                        \
	cmocka_unit_test(test_crashloop__##name##_alloc),                                      \
	cmocka_unit_test(test_crashloop__##name##_eio),                                        \
	cmocka_unit_test(test_crashloop__##name##_enospc),                                     \
	cmocka_unit_test(test_crashloop__##name##_kill_alloc),                                 \
	cmocka_unit_test(test_crashloop__##name##_kill_eio),                                   \
	cmocka_unit_test(test_crashloop__##name##_kill_enospc),
	const struct CMUnitTest tests[] = {CRASHLOOP_OPS(CRASHLOOP_ENTRIES)};
#undef CRASHLOOP_ENTRIES
	/* e.g. BRAINCORE_CRASHLOOP_FILTER='*forget_alloc' runs one case */
	const char *filter = getenv("BRAINCORE_CRASHLOOP_FILTER");
	if (filter && *filter)
		cmocka_set_test_filter(filter);
	return cmocka_run_group_tests(tests, setup, teardown);
}
