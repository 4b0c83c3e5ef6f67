/*
 * tests/fuzz/fuzz_model.c - libFuzzer target: a model-based check of the
 * durability promise (docs/durability.md, docs/errors.md).
 *
 * The input is a program: a sequence of at most MAX_OPS operations on an
 * on-disk brain kept in the crash-simulating file system of the tests
 * (tests/memfs.c): 4 dimensions, L2 metric (vectors round-trip exactly),
 * BRAIN_SYNC_FULL, the index BRAIN_INDEX_AUTO (first byte even) or
 * BRAIN_INDEX_FLAT (odd). Each operation is an opcode byte (mod 16) and a
 * few argument bytes; a missing byte reads as 0.
 *
 *   0, 1  remember_ex   text (b < 200: a table entry; else 1 + b % 16 bytes
 *                       of generated words), importance (b % 9) / 8, flag
 *                       (b & 1: 4 vector bytes follow; else the built-in
 *                       embedder makes the vector)
 *   2, 3  add           id (1 + b % 40), 4 vector bytes
 *   4     add_batch     n (1 + b % 4), then n times: id, 4 vector bytes
 *   5     forget        id selector (b & 0x80: a live memory; else 1 + b % 48)
 *   6     update_vector id selector, 4 vector bytes
 *   7     checkpoint
 *   8     close and reopen (crash mode, seed: used if the world had stopped)
 *   9     a read-only open beside the writer, checked, then closed
 *  10     arm an io fault: kind (b % 4: EIO, ENOSPC, a torn pwrite, the
 *         world stops), at the nth io call from now (1 + b % 48)
 *  11     crash: the world stops, the handle is closed (its calls fail),
 *         memfs_crash(mode b % 3: DROP, TEAR, KEEP; 16-bit seed), reopen
 *  12     search: query (b & 0x80: a live memory's vector; else 4 vector
 *         bytes), k (1 + b % 6)
 *  13     the next operation's first library call fails its nth
 *         allocation (1 + b % 32): BRAIN_ENOMEM
 *  14     brain_sync
 *  15     check the live brain against the model
 *
 * A vector byte b is (int8_t)b / 4 (0x80: NaN), so distances are exact.
 * Ops 7, 8, 9 and 11 cost a whole checkpoint or open: after MAX_HEAVY of
 * them an input's further ones become op 15. At the end the brain is
 * closed with no fault armed, reopened and checked once more.
 *
 * The model keeps, per id, the live state (what the open brain shows) and
 * the acknowledged state (what must survive), and the changes whose call
 * failed with BRAIN_EIO but which the live brain shows applied (the
 * "change in flight": after a failed FULL-mode fsync its outcome is
 * unknown; the headers allow this for BRAIN_EIO only, so a change that
 * fails with any other error and shows applied is a finding). After
 * every reopen (a crash or a clean close) each id must be in its
 * acknowledged state or in the state a change in flight gave it, each
 * change in flight wholly or not at all, brain_count must match, no id
 * may appear that was never acknowledged, and searching each stored vector
 * must find it at distance 0. A change that failed with an io error and
 * that the live brain shows taken back (the append failed), and one that
 * failed with BRAIN_ENOMEM, must be absent, in memory and after a crash; a
 * forget that failed with BRAIN_ENOMEM leaves the memory in place
 * (memory.h), also after a crash. A read-only open must see exactly the
 * live brain. Errors must be the ones each call documents (brain_sync:
 * BRAIN_EIO, not BRAIN_ENOSPC): io errors only once an injected fault has
 * fired, BRAIN_ENOMEM only once an allocation failed.
 *
 * Seeds: tests/fuzz/corpus_model, hand-made programs: the basic calls and
 * a crash, a failed fsync and a torn pwrite before a crash in each mode,
 * faults at the io calls of a checkpoint (its log reset among them), an
 * allocation failure in a forget, and three long mixed programs.
 *
 * Unlike the other targets, this one links a copy of the library built
 * with its checksums (tests/fuzz/CMakeLists.txt): telling a torn log record
 * from a whole one is what the checksums are for.
 *
 * A broken promise aborts with a message and the operations run so far;
 * FUZZ_MODEL_TRACE=1 in the environment prints them for every input (2:
 * and the brain's files after each one).
 */
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "braincore.h"
#include "braincore/storage.h"
#include "braincore/sys/alloc.h"
#include "tests/memfs.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DIMS 4
#define MAX_OPS 64
/* checkpoints, reopens, crashes and read-only opens per input */
#define MAX_HEAVY 8
#define MAX_ENTS 256
#define MAX_PENDING 8
#define BATCH_MAX 4
#define TEXT_CAP 64
/* ids above the largest the model knows that a check looks up */
#define SCAN_IDS 8
#define TRACE_CAP 8192

static const char *const g_texts[] = {
	"The Eiffel Tower is 330 metres tall.",
	"Octopuses have three hearts and blue blood.",
	"Espresso is brewed by forcing hot water through coffee.",
	"Caf\xc3\xa9 au lait, na\xc3\xafve r\xc3\xa9sum\xc3\xa9",
	"Mount Everest is 8849 metres high.",
	"The cat sat on the mat.",
	"Water boils at 100 degrees at sea level.",
	"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e text with words",
};
#define NTEXTS (sizeof g_texts / sizeof g_texts[0])

/* ---- the allocator hook: fail the nth allocation ------------------------ */

static atomic_long g_alloc_left;  /* 0: disarmed */
static atomic_bool g_alloc_fired; /* the armed allocation failed */

static bool alloc_fail_now(void)
{
	long left = atomic_load(&g_alloc_left);
	while (left > 0) {
		if (atomic_compare_exchange_weak(&g_alloc_left, &left, left - 1)) {
			if (left == 1) {
				atomic_store(&g_alloc_fired, true);
				return true;
			}
			return false;
		}
	}
	return false;
}

static void *fa_malloc(size_t size, void *payload)
{
	(void)payload;
	return alloc_fail_now() ? NULL : malloc(size);
}

static void *fa_realloc(void *p, size_t size, void *payload)
{
	(void)payload;
	return alloc_fail_now() ? NULL : realloc(p, size);
}

static void fa_free(void *p, void *payload)
{
	(void)payload;
	free(p);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	brain_allocator a;
	brain_allocator_init(&a, BRAIN_ALLOCATOR_VERSION);
	a.malloc = fa_malloc;
	a.realloc = fa_realloc;
	a.free = fa_free;
	if (brain_set_allocator(&a) != 0) {
		fprintf(stderr, "fuzz_model: cannot install the allocator hook: %s\n", brain_errmsg());
		abort();
	}
	return 0;
}

/* ---- the model ----------------------------------------------------------- */

typedef struct mstate {
	bool present;
	float vec[DIMS];
	bool has_text;
	char text[TEXT_CAP];
	float importance;
} mstate;

typedef struct ment {
	uint64_t id;
	mstate live;  /* what the open brain shows */
	mstate acked; /* what must survive a crash */
	char note[128]; /* the last failed change of this id, for messages */
} ment;

/* A change whose call failed but which the live brain shows applied. */
typedef struct pending {
	char what[64];
	size_t n;
	uint64_t ids[BATCH_MAX];
	mstate after[BATCH_MAX];
} pending;

typedef struct fz {
	const uint8_t *p;
	size_t left;
	memfs *fs;
	brain_options o;
	brain_t *b;
	ment ents[MAX_ENTS];
	size_t nents;
	uint64_t max_id; /* the largest id the model has seen */
	pending pend[MAX_PENDING];
	size_t npend;
	bool io_armed;   /* a memfs fault is armed and has not fired */
	bool faulted;    /* a memfs fault fired since the writer was opened */
	long nomem_next; /* arm an allocation failure for the next op's first call */
	bool nomem;      /* an allocation failure fired in this op */
	bool fired;      /* the memfs fault fired in this op */
	int op;
	char trace[TRACE_CAP];
	size_t trace_len;
} fz;

static void trace(fz *z, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail_at(fz *z, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));

static void trace(fz *z, const char *fmt, ...)
{
	if (z->trace_len >= TRACE_CAP - 1)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(z->trace + z->trace_len, TRACE_CAP - z->trace_len, fmt, ap);
	va_end(ap);
	if (n > 0)
		z->trace_len += (size_t)n;
	if (z->trace_len > TRACE_CAP - 1)
		z->trace_len = TRACE_CAP - 1;
}

#define fail(z, ...) fail_at(z, __LINE__, __VA_ARGS__)

static void fail_at(fz *z, int line, const char *fmt, ...)
{
	const char *msg = brain_errmsg();
	char last[512];
	snprintf(last, sizeof last, "%s: %s", brain_error_name(brain_errcode()), msg);
	fprintf(stderr, "fuzz_model.c:%d: op %d: ", line, z->op);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr,
	        "\n  (the last library error, maybe from an unrelated call: %s)\n"
	        "  operations:\n%s%s%s\n",
	        last, z->trace, z->fired ? "    (this op: the io fault fired)\n" : "",
	        z->nomem ? "    (this op: an allocation failed)\n" : "");
	abort();
}

static uint8_t u8(fz *z)
{
	if (!z->left)
		return 0;
	z->left--;
	return *z->p++;
}

static void get_vec(fz *z, float *v)
{
	for (int i = 0; i < DIMS; i++) {
		uint8_t b = u8(z);
		v[i] = b == 0x80 ? NAN : (float)(int8_t)b / 4.0f;
	}
}

static bool has_nan(const float *v)
{
	for (int i = 0; i < DIMS; i++)
		if (isnan(v[i]))
			return true;
	return false;
}

static ment *find(fz *z, uint64_t id)
{
	for (size_t i = 0; i < z->nents; i++)
		if (z->ents[i].id == id)
			return &z->ents[i];
	return NULL;
}

static ment *ent(fz *z, uint64_t id)
{
	ment *e = find(z, id);
	if (e)
		return e;
	if (z->nents == MAX_ENTS)
		fail(z, "model: more than %d ids", MAX_ENTS);
	e = &z->ents[z->nents++];
	memset(e, 0, sizeof *e);
	e->id = id;
	if (id > z->max_id)
		z->max_id = id;
	return e;
}

static size_t live_count(const fz *z)
{
	size_t n = 0;
	for (size_t i = 0; i < z->nents; i++)
		n += z->ents[i].live.present;
	return n;
}

static bool state_eq(const mstate *a, const mstate *b)
{
	if (a->present != b->present)
		return false;
	if (!a->present)
		return true;
	for (int i = 0; i < DIMS; i++)
		if (!(a->vec[i] == b->vec[i]))
			return false;
	if (a->has_text != b->has_text)
		return false;
	if (a->has_text && (strcmp(a->text, b->text) != 0 || a->importance != b->importance))
		return false;
	return true;
}

static const char *show(const mstate *s, char *buf, size_t cap)
{
	if (!s->present) {
		snprintf(buf, cap, "absent");
		return buf;
	}
	int n = snprintf(buf, cap, "vector (%g, %g, %g, %g)", (double)s->vec[0], (double)s->vec[1],
	                 (double)s->vec[2], (double)s->vec[3]);
	if (s->has_text && n > 0 && (size_t)n < cap)
		snprintf(buf + n, cap - (size_t)n, ", text \"%s\", importance %g", s->text,
		         (double)s->importance);
	return buf;
}

/* Everything acknowledged so far is durable, with the live brain's state:
 * after a call returned 0 (its fsync covered the earlier records), a
 * checkpoint, a sync or a close. */
static void settle(fz *z)
{
	for (size_t i = 0; i < z->nents; i++)
		z->ents[i].acked = z->ents[i].live;
	z->npend = 0;
}

/* ---- errors -------------------------------------------------------------- */

static bool is_io(int rc)
{
	return rc == BRAIN_EIO || rc == BRAIN_ENOSPC;
}

/* Note a memfs fault that fired. */
static void poll_fault(fz *z)
{
	if (z->io_armed && !memfs_armed(z->fs)) {
		z->io_armed = false;
		z->faulted = true;
		z->fired = true;
	}
}

/* Arm the allocation failure asked for by op 13, around one call. */
static void call_begin(fz *z)
{
	if (z->nomem_next > 0) {
		atomic_store(&g_alloc_fired, false);
		atomic_store(&g_alloc_left, z->nomem_next);
		z->nomem_next = 0;
	}
}

static void call_end(fz *z)
{
	atomic_store(&g_alloc_left, 0);
	if (atomic_exchange(&g_alloc_fired, false))
		z->nomem = true;
	poll_fault(z);
}

/* The io errors a call documents (bits). */
enum { IO_EIO = 1, IO_ENOSPC = 2, IO_BOTH = 3 };

/* An error that is not the predicted one: allowed if it is an io error the
 * call documents, after an injected fault, or BRAIN_ENOMEM after a failed
 * allocation. */
static void check_unpredicted(fz *z, int rc, const char *call, int io)
{
	bool documented =
		(rc == BRAIN_EIO && (io & IO_EIO)) || (rc == BRAIN_ENOSPC && (io & IO_ENOSPC));
	if (documented && z->faulted)
		return;
	if (rc == BRAIN_ENOMEM && z->nomem)
		return;
	if (documented)
		fail(z, "%s returned %s with no io fault injected", call, brain_error_name(rc));
	if (rc == BRAIN_ENOMEM)
		fail(z, "%s returned ENOMEM with no allocation failed", call);
	fail(z, "%s returned %s (%d), which it does not document", call, brain_error_name(rc), rc);
}

static void check_count(fz *z, const char *after)
{
	uint64_t c = brain_count(z->b);
	if (c != live_count(z))
		fail(z, "after %s: brain_count is %llu, the model has %zu", after,
		     (unsigned long long)c, live_count(z));
}

/* ---- reading the brain --------------------------------------------------- */

static void observe(fz *z, brain_t *b, uint64_t id, mstate *out, const char *who)
{
	memset(out, 0, sizeof *out);
	int rc = brain_get_vector(b, id, out->vec);
	if (rc == BRAIN_ENOTFOUND)
		return;
	if (rc)
		fail(z, "%s: get_vector(%llu) returned %s", who, (unsigned long long)id,
		     brain_error_name(rc));
	out->present = true;
	brain_results *r = NULL;
	rc = brain_get(b, id, &r);
	if (rc)
		fail(z, "%s: get(%llu) returned %s after get_vector found it", who,
		     (unsigned long long)id, brain_error_name(rc));
	if (brain_results_count(r) != 1 || brain_results_id(r, 0) != id)
		fail(z, "%s: get(%llu) gave %zu entries, id %llu", who, (unsigned long long)id,
		     brain_results_count(r), (unsigned long long)brain_results_id(r, 0));
	const char *t = brain_results_text(r, 0);
	if (t) {
		size_t len = brain_results_text_len(r, 0);
		if (len >= TEXT_CAP || strlen(t) != len)
			fail(z, "%s: get(%llu): a text of %zu bytes (strlen %zu)", who,
			     (unsigned long long)id, len, strlen(t));
		out->has_text = true;
		memcpy(out->text, t, len + 1);
		out->importance = brain_results_importance(r, 0);
	}
	brain_results_free(r);
}

/* Searching a stored vector finds it (or an equal one, with a smaller id) at
 * distance 0. */
static void check_found(fz *z, brain_t *b, uint64_t id, const mstate *s, size_t count,
                        const char *who)
{
	uint64_t ids[3];
	float dist[3];
	size_t found = 0;
	size_t k = count < 3 ? count : 3;
	int rc = brain_search(b, s->vec, k, ids, dist, &found);
	if (rc)
		fail(z, "%s: search for the vector of %llu returned %s", who, (unsigned long long)id,
		     brain_error_name(rc));
	if (found != k)
		fail(z, "%s: search for the vector of %llu: found %zu of k=%zu (%zu memories)", who,
		     (unsigned long long)id, found, k, count);
	if (dist[0] != 0.0f || ids[0] > id)
		fail(z, "%s: search for the vector of %llu: top hit %llu at distance %g", who,
		     (unsigned long long)id, (unsigned long long)ids[0], (double)dist[0]);
	float v[DIMS];
	if (ids[0] != id && (brain_get_vector(b, ids[0], v) != 0 || memcmp(v, s->vec, sizeof v) != 0))
		fail(z, "%s: search for the vector of %llu: top hit %llu at distance 0 has another "
		     "vector", who, (unsigned long long)id, (unsigned long long)ids[0]);
}

enum verify_mode {
	VERIFY_LIVE,    /* exactly the live model */
	VERIFY_DURABLE, /* acknowledged, or a change in flight wholly applied */
};

/* Check brain b against the model; for VERIFY_DURABLE the model then takes
 * what the brain holds. */
static void verify(fz *z, brain_t *b, enum verify_mode mode, const char *who)
{
	static mstate obs[MAX_ENTS];
	size_t present = 0;
	for (size_t i = 0; i < z->nents; i++) {
		observe(z, b, z->ents[i].id, &obs[i], who);
		present += obs[i].present;
	}
	/* ids the model does not know must be absent (brain_count below
	 * catches any beyond these) */
	for (uint64_t id = 1; id <= z->max_id + SCAN_IDS; id++) {
		if (find(z, id))
			continue;
		float v[DIMS];
		int rc = brain_get_vector(b, id, v);
		if (rc == 0)
			fail(z, "%s: id %llu is in the brain (vector %g, %g, %g, %g) but no change "
			     "that made it was ever acknowledged or in flight", who,
			     (unsigned long long)id, (double)v[0], (double)v[1], (double)v[2],
			     (double)v[3]);
		if (rc != BRAIN_ENOTFOUND)
			fail(z, "%s: get_vector(%llu) returned %s", who, (unsigned long long)id,
			     brain_error_name(rc));
	}
	for (size_t i = 0; i < z->nents; i++) {
		const ment *e = &z->ents[i];
		const mstate *want = mode == VERIFY_LIVE ? &e->live : &e->acked;
		if (state_eq(&obs[i], want))
			continue;
		bool ok = false;
		for (size_t j = 0; mode == VERIFY_DURABLE && j < z->npend && !ok; j++)
			for (size_t k = 0; k < z->pend[j].n && !ok; k++)
				ok = z->pend[j].ids[k] == e->id && state_eq(&obs[i], &z->pend[j].after[k]);
		if (ok)
			continue;
		char got[160], exp[160];
		fail(z, "%s: id %llu is %s; it should be %s (%s)%s%s", who, (unsigned long long)e->id,
		     show(&obs[i], got, sizeof got), show(want, exp, sizeof exp),
		     mode == VERIFY_LIVE ? "the live brain" : "acknowledged",
		     e->note[0] ? "; last failed change of it: " : "", e->note);
	}
	/* a change in flight is there wholly or not at all */
	for (size_t j = 0; mode == VERIFY_DURABLE && j < z->npend; j++) {
		const pending *p = &z->pend[j];
		size_t applied = 0, differs = 0;
		for (size_t k = 0; k < p->n; k++) {
			const ment *e = find(z, p->ids[k]);
			const mstate *o = &obs[e - z->ents];
			if (state_eq(&p->after[k], &e->acked))
				continue; /* tells nothing */
			differs++;
			applied += state_eq(o, &p->after[k]);
		}
		if (applied && applied != differs)
			fail(z, "%s: the change in flight \"%s\" is there in part: %zu of %zu ids", who,
			     p->what, applied, differs);
	}
	uint64_t c = brain_count(b);
	if (c != present)
		fail(z, "%s: brain_count is %llu but %zu memories are there", who,
		     (unsigned long long)c, present);
	for (size_t i = 0; i < z->nents; i++)
		if (obs[i].present)
			check_found(z, b, z->ents[i].id, &obs[i], present, who);
	if (mode == VERIFY_DURABLE) {
		for (size_t i = 0; i < z->nents; i++) {
			z->ents[i].live = z->ents[i].acked = obs[i];
			z->ents[i].note[0] = '\0';
		}
		z->npend = 0;
	}
}

/* ---- opening ------------------------------------------------------------- */

static void disarm(fz *z)
{
	memfs_fail_at(z->fs, 0, 0);
	memfs_tear_at(z->fs, 0);
	memfs_crash_at(z->fs, 0);
	z->io_armed = false;
}

/* Open the writer on what the files hold now (after a crash or a close),
 * check it against the model and adopt what it holds. */
static void reopen(fz *z, const char *who)
{
	brain_t *b = NULL;
	z->faulted = false;
	call_begin(z);
	int rc = brain_open("b", &z->o, &b);
	call_end(z);
	if (rc) {
		if (b)
			fail(z, "%s: open failed with %s but set *out", who, brain_error_name(rc));
		if (!(is_io(rc) && z->faulted) && !(rc == BRAIN_ENOMEM && z->nomem))
			fail(z, "%s: open returned %s: the brain does not open", who,
			     brain_error_name(rc));
		trace(z, "    open: %s (injected), again\n", brain_error_name(rc));
		/* the fault fired in the open: a second open must work */
		disarm(z);
		if (memfs_stopped(z->fs) && memfs_crash(z->fs, MEMFS_CRASH_KEEP, 0) != 0)
			fail(z, "memfs_crash: out of memory");
		rc = brain_open("b", &z->o, &b);
		if (rc)
			fail(z, "%s: open returned %s after a failed open: the brain does not open", who,
			     brain_error_name(rc));
	}
	z->b = b;
	/* A world stop can fire at one of the open's best-effort calls (the
	 * removal of leftovers) and the open still succeed: every later io
	 * call then fails, as injected. */
	z->faulted = memfs_stopped(z->fs);
	verify(z, b, VERIFY_DURABLE, who);
	trace(z, "    reopened: %llu memories, as the model allows\n",
	      (unsigned long long)brain_count(b));
}

static void close_writer(fz *z, const char *who)
{
	call_begin(z);
	int rc = brain_close(z->b);
	call_end(z);
	z->b = NULL;
	trace(z, "    close: %s\n", brain_error_name(rc));
	if (rc == 0)
		settle(z); /* its checkpoint holds the live brain */
	else
		check_unpredicted(z, rc, who, IO_BOTH);
}

/* ---- operations ---------------------------------------------------------- */

/* After a change failed with an io error: the live brain shows it applied
 * (a change in flight: its fsync failed) or not (taken back). The headers
 * allow the first for BRAIN_EIO only ("BRAIN_EIO from a FULL-mode fsync");
 * on any other error nothing changed. */
static void in_flight(fz *z, const char *what, size_t n, const uint64_t *ids,
                      const mstate *after, bool applied, int rc)
{
	if (applied && rc != BRAIN_EIO)
		fail(z, "%s failed with %s but is applied in memory: only BRAIN_EIO from a FULL-mode "
		     "fsync may leave a change", what, brain_error_name(rc));
	for (size_t k = 0; k < n; k++) {
		ment *e = ent(z, ids[k]);
		snprintf(e->note, sizeof e->note, "op %d: %s failed (%s)", z->op, what,
		         applied ? "applied in memory" : "not applied in memory");
		if (applied)
			e->live = after[k];
	}
	trace(z, "    %s\n", applied ? "applied in memory: in flight" : "not applied in memory");
	if (!applied)
		return;
	if (z->npend == MAX_PENDING)
		fail(z, "model: more than %d changes in flight", MAX_PENDING);
	pending *p = &z->pend[z->npend++];
	snprintf(p->what, sizeof p->what, "op %d: %s", z->op, what);
	p->n = n;
	memcpy(p->ids, ids, n * sizeof *ids);
	memcpy(p->after, after, n * sizeof *after);
}

/* Whether the live brain shows ids[0..n) as `after` (true), as the live
 * model (false); anything else, or a mix, is a broken promise. */
static bool inspect(fz *z, const char *what, size_t n, const uint64_t *ids, const mstate *after)
{
	size_t applied = 0, kept = 0;
	for (size_t k = 0; k < n; k++) {
		mstate o;
		observe(z, z->b, ids[k], &o, what);
		ment *e = ent(z, ids[k]);
		bool is_after = state_eq(&o, &after[k]), is_before = state_eq(&o, &e->live);
		if (is_after && !is_before)
			applied++;
		else if (is_before && !is_after)
			kept++;
		else if (!is_after) {
			char got[160], a[160], bf[160];
			fail(z, "%s failed; id %llu is now %s: neither before (%s) nor after (%s)", what,
			     (unsigned long long)ids[k], show(&o, got, sizeof got),
			     show(&e->live, bf, sizeof bf), show(&after[k], a, sizeof a));
		}
	}
	if (applied && kept)
		fail(z, "%s failed and is applied in memory in part: %zu ids changed, %zu not", what,
		     applied, kept);
	return applied > 0;
}

static void op_remember(fz *z)
{
	uint8_t sel = u8(z);
	char text[TEXT_CAP];
	if (sel < 200) {
		snprintf(text, sizeof text, "%s", g_texts[sel % NTEXTS]);
	} else {
		size_t len = 1 + sel % 16;
		for (size_t i = 0; i < len; i++) {
			uint8_t c = u8(z);
			text[i] = i > 0 && c % 7 == 0 ? ' ' : (char)('a' + c % 26);
		}
		text[len] = '\0';
	}
	float importance = (float)(u8(z) % 9) / 8.0f;
	bool with_vec = u8(z) & 1;
	float vec[DIMS];
	if (with_vec)
		get_vec(z, vec);
	int predicted = with_vec && has_nan(vec) ? BRAIN_ENONFINITE : 0;
	size_t before = live_count(z);
	brain_id id = BRAIN_ID_NONE;
	call_begin(z);
	int rc = brain_remember_ex(z->b, text, with_vec ? vec : NULL, importance, &id);
	call_end(z);
	trace(z, "%2d remember \"%s\" %g%s: %s", z->op, text, (double)importance,
	      with_vec ? " +vector" : "", brain_error_name(rc));
	if (rc == 0) {
		trace(z, " id %llu\n", (unsigned long long)id);
		if (predicted)
			fail(z, "remember_ex succeeded; expected %s", brain_error_name(predicted));
		ment *e = find(z, id);
		if (id == BRAIN_ID_NONE || id == 0 || (e && e->live.present))
			fail(z, "remember_ex gave id %llu, which is in use", (unsigned long long)id);
		for (size_t i = 0; i < z->nents; i++)
			if (z->ents[i].live.present && z->ents[i].id >= id)
				fail(z, "remember_ex gave id %llu, not above id %llu in the brain",
				     (unsigned long long)id, (unsigned long long)z->ents[i].id);
		e = ent(z, id);
		mstate s = {.present = true, .has_text = true, .importance = importance};
		snprintf(s.text, sizeof s.text, "%s", text);
		if (with_vec)
			memcpy(s.vec, vec, sizeof vec);
		else if (brain_get_vector(z->b, id, s.vec) != 0)
			fail(z, "get_vector of the memory just remembered failed");
		e->live = s;
		settle(z);
		check_count(z, "remember");
		return;
	}
	trace(z, "\n");
	if (rc != predicted)
		check_unpredicted(z, rc, "remember_ex", IO_BOTH);
	uint64_t c = brain_count(z->b);
	if (is_io(rc) && c == before + 1) {
		/* applied in memory: find it */
		uint64_t nid = BRAIN_ID_NONE;
		for (uint64_t i = 1; i <= z->max_id + 64 && nid == BRAIN_ID_NONE; i++) {
			ment *e = find(z, i);
			float v[DIMS];
			if ((!e || !e->live.present) && brain_get_vector(z->b, i, v) == 0)
				nid = i;
		}
		if (nid == BRAIN_ID_NONE)
			fail(z, "remember_ex failed with %s, the count grew, the memory is not found",
			     brain_error_name(rc));
		mstate s = {.present = true, .has_text = true, .importance = importance};
		snprintf(s.text, sizeof s.text, "%s", text);
		mstate o;
		observe(z, z->b, nid, &o, "remember_ex");
		if (with_vec)
			memcpy(s.vec, vec, sizeof vec);
		else
			memcpy(s.vec, o.vec, sizeof o.vec);
		char got[160];
		if (!state_eq(&o, &s))
			fail(z, "remember_ex failed with %s; memory %llu it left is %s", brain_error_name(rc),
			     (unsigned long long)nid, show(&o, got, sizeof got));
		in_flight(z, "remember_ex", 1, &nid, &s, true, rc);
		return;
	}
	if (c != before)
		fail(z, "remember_ex failed with %s and the count went from %zu to %llu",
		     brain_error_name(rc), before, (unsigned long long)c);
}

static void op_add(fz *z)
{
	uint64_t id = 1 + u8(z) % 40;
	float vec[DIMS];
	get_vec(z, vec);
	ment *e = find(z, id);
	bool exists = e && e->live.present, nan = has_nan(vec);
	mstate after = {.present = true};
	memcpy(after.vec, vec, sizeof vec);
	call_begin(z);
	int rc = brain_add(z->b, id, vec);
	call_end(z);
	trace(z, "%2d add %llu (%g, %g, %g, %g): %s\n", z->op, (unsigned long long)id,
	      (double)vec[0], (double)vec[1], (double)vec[2], (double)vec[3], brain_error_name(rc));
	if (rc == 0) {
		if (exists || nan)
			fail(z, "add of %llu succeeded; expected %s", (unsigned long long)id,
			     exists ? "EEXISTS" : "ENONFINITE");
		ent(z, id)->live = after;
		settle(z);
	} else if ((rc == BRAIN_EEXISTS && exists) || (rc == BRAIN_ENONFINITE && nan)) {
		/* nothing changed: checked by the count and later reads */
	} else {
		check_unpredicted(z, rc, "add", IO_BOTH);
		if (is_io(rc) && !exists && !nan)
			in_flight(z, "add", 1, &id, &after, inspect(z, "add", 1, &id, &after), rc);
		else if (inspect(z, "add", 1, &id, &after))
			fail(z, "add of %llu failed with %s but took effect", (unsigned long long)id,
			     brain_error_name(rc));
	}
	check_count(z, "add");
}

static void op_batch(fz *z)
{
	size_t n = 1 + u8(z) % BATCH_MAX;
	uint64_t ids[BATCH_MAX];
	float vecs[BATCH_MAX * DIMS];
	mstate after[BATCH_MAX];
	bool exists = false, nan = false;
	for (size_t i = 0; i < n; i++) {
		ids[i] = 1 + u8(z) % 40;
		get_vec(z, vecs + i * DIMS);
		nan |= has_nan(vecs + i * DIMS);
		ment *e = find(z, ids[i]);
		exists |= e && e->live.present;
		for (size_t j = 0; j < i; j++)
			exists |= ids[j] == ids[i];
		memset(&after[i], 0, sizeof after[i]);
		after[i].present = true;
		memcpy(after[i].vec, vecs + i * DIMS, sizeof after[i].vec);
	}
	call_begin(z);
	int rc = brain_add_batch(z->b, ids, vecs, n);
	call_end(z);
	trace(z, "%2d add_batch", z->op);
	for (size_t i = 0; i < n; i++)
		trace(z, " %llu", (unsigned long long)ids[i]);
	trace(z, ": %s\n", brain_error_name(rc));
	if (rc == 0) {
		if (exists || nan)
			fail(z, "add_batch succeeded; expected %s", exists ? "EEXISTS" : "ENONFINITE");
		for (size_t i = 0; i < n; i++)
			ent(z, ids[i])->live = after[i];
		settle(z);
	} else if ((rc == BRAIN_EEXISTS && exists) || (rc == BRAIN_ENONFINITE && nan)) {
		/* all or nothing: nothing */
	} else {
		check_unpredicted(z, rc, "add_batch", IO_BOTH);
		if (is_io(rc) && !exists && !nan)
			in_flight(z, "add_batch", n, ids, after, inspect(z, "add_batch", n, ids, after),
			          rc);
		else if (inspect(z, "add_batch", n, ids, after))
			fail(z, "add_batch failed with %s but took effect", brain_error_name(rc));
	}
	check_count(z, "add_batch");
}

static uint64_t pick_id(fz *z)
{
	uint8_t b = u8(z);
	size_t live = live_count(z);
	if ((b & 0x80) && live) {
		size_t k = (b & 0x7f) % live;
		for (size_t i = 0; i < z->nents; i++)
			if (z->ents[i].live.present && k-- == 0)
				return z->ents[i].id;
	}
	return 1 + b % 48;
}

static void op_forget(fz *z)
{
	uint64_t id = pick_id(z);
	ment *e = find(z, id);
	bool exists = e && e->live.present;
	mstate after = {.present = false};
	call_begin(z);
	int rc = brain_forget(z->b, id);
	call_end(z);
	trace(z, "%2d forget %llu: %s\n", z->op, (unsigned long long)id, brain_error_name(rc));
	if (rc == 0) {
		if (!exists)
			fail(z, "forget of %llu succeeded; expected ENOTFOUND", (unsigned long long)id);
		e->live = after;
		settle(z);
	} else if (rc == BRAIN_ENOTFOUND && !exists) {
	} else {
		check_unpredicted(z, rc, "forget", IO_BOTH);
		if (is_io(rc) && exists) {
			in_flight(z, "forget", 1, &id, &after, inspect(z, "forget", 1, &id, &after),
			          rc);
		} else if (exists) { /* BRAIN_ENOMEM */
			/* memory.h: a forget that fails with ENOMEM leaves the memory */
			if (inspect(z, "forget", 1, &id, &after))
				fail(z, "forget of %llu failed with %s but the memory is gone",
				     (unsigned long long)id, brain_error_name(rc));
			snprintf(e->note, sizeof e->note,
			         "op %d: forget failed with %s; memory.h: the memory then stays", z->op,
			         brain_error_name(rc));
		}
	}
	check_count(z, "forget");
}

static void op_update(fz *z)
{
	uint64_t id = pick_id(z);
	float vec[DIMS];
	get_vec(z, vec);
	ment *e = find(z, id);
	bool exists = e && e->live.present, nan = has_nan(vec);
	mstate after;
	memset(&after, 0, sizeof after);
	if (exists) {
		after = e->live;
		memcpy(after.vec, vec, sizeof vec);
	}
	call_begin(z);
	int rc = brain_update_vector(z->b, id, vec);
	call_end(z);
	trace(z, "%2d update %llu (%g, %g, %g, %g): %s\n", z->op, (unsigned long long)id,
	      (double)vec[0], (double)vec[1], (double)vec[2], (double)vec[3], brain_error_name(rc));
	if (rc == 0) {
		if (!exists || nan)
			fail(z, "update of %llu succeeded; expected %s", (unsigned long long)id,
			     nan ? "ENONFINITE" : "ENOTFOUND");
		e->live = after;
		settle(z);
	} else if ((rc == BRAIN_ENOTFOUND && !exists) || (rc == BRAIN_ENONFINITE && nan)) {
	} else {
		check_unpredicted(z, rc, "update_vector", IO_BOTH);
		if (!exists)
			; /* ENOMEM before the lookup: nothing to change */
		else if (is_io(rc) && !nan)
			in_flight(z, "update_vector", 1, &id, &after,
			          inspect(z, "update_vector", 1, &id, &after), rc);
		else if (inspect(z, "update_vector", 1, &id, &after))
			fail(z, "update of %llu failed with %s but took effect", (unsigned long long)id,
			     brain_error_name(rc));
	}
	check_count(z, "update");
}

static void op_checkpoint(fz *z)
{
	call_begin(z);
	int rc = brain_checkpoint(z->b);
	call_end(z);
	trace(z, "%2d checkpoint: %s\n", z->op, brain_error_name(rc));
	if (rc == 0)
		settle(z);
	else
		check_unpredicted(z, rc, "checkpoint", IO_BOTH);
	check_count(z, "checkpoint");
}

static void op_sync(fz *z)
{
	call_begin(z);
	int rc = brain_sync(z->b);
	call_end(z);
	trace(z, "%2d sync: %s\n", z->op, brain_error_name(rc));
	if (rc == 0)
		settle(z);
	else
		check_unpredicted(z, rc, "sync", IO_EIO);
}

static enum memfs_crash_mode crash_mode(uint8_t b)
{
	return b % 3 == 0 ? MEMFS_CRASH_DROP : b % 3 == 1 ? MEMFS_CRASH_TEAR : MEMFS_CRASH_KEEP;
}

static const char *const g_mode_names[] = {"DROP", "TEAR", "KEEP"};

static void do_crash(fz *z, enum memfs_crash_mode mode, uint64_t seed)
{
	if (memfs_crash(z->fs, mode, seed) != 0)
		fail(z, "memfs_crash: out of memory");
	z->io_armed = false;
}

static void op_reopen(fz *z)
{
	uint8_t m = u8(z);
	uint64_t seed = u8(z);
	trace(z, "%2d close and reopen\n", z->op);
	close_writer(z, "close");
	poll_fault(z);
	if (memfs_stopped(z->fs)) {
		trace(z, "    the world had stopped: crash %s seed %llu\n", g_mode_names[m % 3],
		      (unsigned long long)seed);
		do_crash(z, crash_mode(m), seed);
	}
	reopen(z, "reopen after close");
}

static void op_crash(fz *z)
{
	uint8_t m = u8(z);
	uint64_t seed = u8(z);
	seed |= (uint64_t)u8(z) << 8;
	trace(z, "%2d crash %s seed %llu\n", z->op, g_mode_names[m % 3], (unsigned long long)seed);
	/* stop the world, so that closing the handle writes nothing */
	memfs_crash_at(z->fs, 1);
	int rc = brain_close(z->b);
	z->b = NULL;
	if (rc != 0 && !is_io(rc))
		fail(z, "close with the world stopped returned %s", brain_error_name(rc));
	do_crash(z, crash_mode(m), seed);
	reopen(z, "reopen after crash");
}

static void op_reader(fz *z)
{
	bool try_write = u8(z) & 1;
	brain_options o = z->o;
	o.flags = BRAIN_OPEN_READONLY;
	brain_t *r = NULL;
	call_begin(z);
	int rc = brain_open("b", &o, &r);
	call_end(z);
	trace(z, "%2d read-only open: %s\n", z->op, brain_error_name(rc));
	if (rc) {
		if (r)
			fail(z, "read-only open failed with %s but set *out", brain_error_name(rc));
		check_unpredicted(z, rc, "read-only open", IO_BOTH);
		return;
	}
	/* it replays the log as it is: what the live brain shows */
	verify(z, r, VERIFY_LIVE, "read-only open");
	if (try_write) {
		float v[DIMS] = {1, 2, 3, 4};
		rc = brain_add(r, 1000, v);
		if (rc != BRAIN_EREADONLY)
			fail(z, "add on a read-only brain returned %s", brain_error_name(rc));
		rc = brain_checkpoint(r);
		if (rc != BRAIN_EREADONLY)
			fail(z, "checkpoint of a read-only brain returned %s", brain_error_name(rc));
	}
	rc = brain_close(r);
	poll_fault(z);
	if (rc)
		fail(z, "close of a read-only brain returned %s", brain_error_name(rc));
}

static void op_fault(fz *z)
{
	uint8_t kind = u8(z) % 4;
	long n = 1 + u8(z) % 48;
	static const char *const names[] = {"EIO", "ENOSPC", "torn pwrite", "world stops"};
	trace(z, "%2d fault: %s at io call %ld from now\n", z->op, names[kind], n);
	disarm(z);
	if (kind == 0)
		memfs_fail_at(z->fs, n, BRAIN_EIO);
	else if (kind == 1)
		memfs_fail_at(z->fs, n, BRAIN_ENOSPC);
	else if (kind == 2)
		memfs_tear_at(z->fs, n);
	else
		memfs_crash_at(z->fs, n);
	z->io_armed = true;
}

static double l2(const float *a, const float *b)
{
	double d = 0;
	for (int i = 0; i < DIMS; i++)
		d += ((double)a[i] - (double)b[i]) * ((double)a[i] - (double)b[i]);
	return d;
}

static bool near(double a, double b)
{
	return fabs(a - b) <= 1e-4 * (1 + fabs(b));
}

static void op_search(fz *z)
{
	uint8_t sel = u8(z);
	float q[DIMS];
	uint64_t from = 0;
	size_t live = live_count(z);
	if ((sel & 0x80) && live) {
		size_t k = (sel & 0x7f) % live;
		for (size_t i = 0; i < z->nents; i++)
			if (z->ents[i].live.present && k-- == 0) {
				memcpy(q, z->ents[i].live.vec, sizeof q);
				from = z->ents[i].id;
				break;
			}
	} else {
		get_vec(z, q);
	}
	size_t k = 1 + u8(z) % 6;
	uint64_t ids[6];
	float dist[6];
	size_t found = 0;
	call_begin(z);
	int rc = brain_search(z->b, q, k, ids, dist, &found);
	call_end(z);
	trace(z, "%2d search k=%zu%s: %s, %zu found\n", z->op, k, from ? " (a stored vector)" : "",
	      brain_error_name(rc), found);
	if (has_nan(q)) {
		if (rc != BRAIN_ENONFINITE && !(rc == BRAIN_ENOMEM && z->nomem))
			fail(z, "search with NaN returned %s", brain_error_name(rc));
		return;
	}
	if (rc) {
		if (rc != BRAIN_ENOMEM || !z->nomem)
			fail(z, "search returned %s", brain_error_name(rc));
		return;
	}
	/* the model's k nearest */
	double best[6];
	size_t nb = 0;
	for (size_t i = 0; i < z->nents; i++) {
		if (!z->ents[i].live.present)
			continue;
		double d = l2(q, z->ents[i].live.vec);
		size_t at = nb < k ? nb++ : k;
		if (at == k && d >= best[k - 1])
			continue;
		if (at == k)
			at = k - 1;
		while (at > 0 && best[at - 1] > d) {
			best[at] = best[at - 1];
			at--;
		}
		best[at] = d;
	}
	if (found != nb)
		fail(z, "search k=%zu found %zu; the model has %zu memories", k, found, live);
	for (size_t i = 0; i < found; i++) {
		ment *e = find(z, ids[i]);
		if (!e || !e->live.present)
			fail(z, "search returned id %llu, which is not in the brain",
			     (unsigned long long)ids[i]);
		if (!near((double)dist[i], l2(q, e->live.vec)) || !near((double)dist[i], best[i]))
			fail(z, "search: hit %zu is %llu at %g; its distance is %g, the %zuth nearest "
			     "is at %g", i, (unsigned long long)ids[i], (double)dist[i],
			     l2(q, e->live.vec), i + 1, best[i]);
		if (i > 0 && (dist[i] < dist[i - 1] || (dist[i] == dist[i - 1] && ids[i] < ids[i - 1])))
			fail(z, "search: hits %zu and %zu out of order", i - 1, i);
	}
	if (from && (found == 0 || dist[0] != 0.0f || ids[0] > from))
		fail(z, "search for the vector of %llu: top hit %llu at distance %g",
		     (unsigned long long)from, (unsigned long long)(found ? ids[0] : 0),
		     found ? (double)dist[0] : -1.0);
}

/* FUZZ_MODEL_TRACE=2: the brain's files after each op (current state),
 * with the generation of the manifest and of the log. */
static void dump_files(fz *z)
{
	static int on = -1;
	if (on < 0)
		on = getenv("FUZZ_MODEL_TRACE") && atoi(getenv("FUZZ_MODEL_TRACE")) >= 2;
	char **names = NULL;
	size_t n = 0;
	if (!on || memfs_list(z->fs, "b", &names, &n) != 0)
		return;
	trace(z, "    files:");
	for (size_t i = 0; i < n; i++) {
		char path[64];
		snprintf(path, sizeof path, "b/%s", names[i]);
		unsigned char *d = NULL;
		size_t len = 0;
		if (memfs_read_file(z->fs, path, &d, &len) != 0)
			continue;
		uint64_t g = 0, start = 0;
		if (strcmp(names[i], "MANIFEST") == 0 && len >= 104)
			memcpy(&g, d + 96, sizeof g);
		if (strncmp(names[i], "wal", 3) == 0 && len >= 32) {
			memcpy(&g, d + 16, sizeof g);
			memcpy(&start, d + 24, sizeof start);
		}
		trace(z, " %s(%zu", names[i], len);
		if (g)
			trace(z, ", gen %llu", (unsigned long long)g);
		if (start)
			trace(z, ", from lsn %llu", (unsigned long long)start);
		trace(z, ")");
		free(d);
	}
	trace(z, "\n");
	memfs_free_list(names, n);
}

/* Say in the trace what fired during the last op. */
static void flush_notes(fz *z)
{
	if (z->op > 0)
		dump_files(z);
	if (z->fired)
		trace(z, "    (op %d: the io fault fired)\n", z->op - 1);
	if (z->nomem)
		trace(z, "    (op %d: an allocation failed)\n", z->op - 1);
	z->nomem = z->fired = false;
}

static void op_nomem(fz *z)
{
	z->nomem_next = 1 + u8(z) % 32;
	trace(z, "%2d the next call fails allocation %ld\n", z->op, z->nomem_next);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static fz z;
	memset(&z, 0, sizeof z);
	z.p = data;
	z.left = size;
	z.fs = memfs_new();
	if (!z.fs)
		fail(&z, "memfs_new: out of memory");
	brain_options_init(&z.o, BRAIN_OPTIONS_VERSION);
	z.o.dimensions = DIMS;
	z.o.metric = BRAIN_METRIC_L2;
	z.o.sync = BRAIN_SYNC_FULL;
	/* AUTO (exact below 10000 vectors, through the HNSW backend) or FLAT */
	z.o.index = u8(&z) & 1 ? BRAIN_INDEX_FLAT : BRAIN_INDEX_AUTO;
	z.o.max_text_bytes = TEXT_CAP - 1;
	z.o.io = memfs_io(z.fs);
	int rc = brain_open("b", &z.o, &z.b);
	if (rc)
		fail(&z, "creating the brain: %s", brain_error_name(rc));
	int heavy = 0;
	for (z.op = 0; z.op < MAX_OPS && z.left; z.op++) {
		flush_notes(&z);
		uint8_t code = u8(&z) % 16;
		bool is_heavy = code == 7 || code == 8 || code == 9 || code == 11;
		if (is_heavy && ++heavy > MAX_HEAVY)
			code = 15;
		switch (code) {
		case 0:
		case 1:
			op_remember(&z);
			break;
		case 2:
		case 3:
			op_add(&z);
			break;
		case 4:
			op_batch(&z);
			break;
		case 5:
			op_forget(&z);
			break;
		case 6:
			op_update(&z);
			break;
		case 7:
			op_checkpoint(&z);
			break;
		case 8:
			op_reopen(&z);
			break;
		case 9:
			op_reader(&z);
			break;
		case 10:
			op_fault(&z);
			break;
		case 11:
			op_crash(&z);
			break;
		case 12:
			op_search(&z);
			break;
		case 13:
			op_nomem(&z);
			break;
		case 14:
			op_sync(&z);
			break;
		default:
			trace(&z, "%2d check the live brain\n", z.op);
			verify(&z, z.b, VERIFY_LIVE, "live brain");
			break;
		}
	}
	flush_notes(&z);
	/* last: a clean close, and what it left must open as the model says */
	z.op = -1;
	disarm(&z);
	z.nomem_next = 0;
	trace(&z, "end: close and reopen\n");
	close_writer(&z, "final close");
	if (memfs_stopped(z.fs))
		do_crash(&z, MEMFS_CRASH_DROP, 0);
	reopen(&z, "final reopen");
	rc = brain_close(z.b);
	if (rc)
		fail(&z, "close without faults returned %s", brain_error_name(rc));
	if (getenv("FUZZ_MODEL_TRACE"))
		fprintf(stderr, "%s", z.trace);
	if (memfs_open_files(z.fs) != 0 || memfs_live_maps(z.fs) != 0)
		fail(&z, "closed brains left %zu files open and %zu mappings", memfs_open_files(z.fs),
		     memfs_live_maps(z.fs));
	memfs_free(z.fs);
	return 0;
}
