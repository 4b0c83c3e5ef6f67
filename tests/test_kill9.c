/*
 * tests/test_kill9.c - kill -9 durability of an on-disk brain.
 *
 * A standalone driver (plain main(), exit 0 pass, 1 fail). Each round the
 * parent forks a child that opens one brain directory with BRAIN_SYNC_FULL
 * and changes it as fast as it can: remembers texts, adds vectors one at a
 * time and in batches, re-adds forgotten vector ids, forgets memories,
 * checkpoints now and then and sometimes closes and reopens the brain.
 * Before each call the child writes an "intent" record to a pipe and after
 * the call returns 0 an "ack" record, so the parent always knows every
 * acknowledged change and the one change that may have been in flight.
 * After a random 0..40 ms the parent kills the child with SIGKILL, opens
 * the brain itself (read-write or, some rounds, read-only) and checks:
 *
 *  - brain_check() finds the brain intact and brain_open() succeeds;
 *  - every acknowledged memory is there, texts and importances exact,
 *    vectors bit for bit (the brain is BRAIN_METRIC_L2, which stores
 *    vectors as given);
 *  - every acknowledged forget is absent;
 *  - the change in flight is there or not (a batch wholly or not at all);
 *  - brain_count() equals the model after that, so nothing else appeared;
 *  - a recall of a known text and a search for a known vector find them;
 *  - brain_close() returns 0 (and, read-write, its checkpoint checks out).
 *
 * Everything the child does follows from (seed, round) and what was
 * acknowledged before, and every text and vector is rebuilt from (seed,
 * round, seq), so records stay small. Texts get brain-assigned ids, which
 * must rise forever; vectors get ids counting down from 2^60, so the two
 * never meet.
 *
 * Rounds: argv[1], else $BRAINCORE_KILL9_ROUNDS, else 300. Seed:
 * $BRAINCORE_KILL9_SEED (else from the clock; printed). The brain lives in
 * a mkdtemp() directory under $TMPDIR (else /tmp), removed on success and
 * kept on failure; "pre-open" next to it holds the files exactly as the
 * kill left them, before the parent's open touched them.
 */
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "braincore.h"
#include "test_util.h"

#define KILL9_PRINTF(f, a) __attribute__((format(printf, f, a)))

#define DIMS 64
#define DEFAULT_ROUNDS 300u
#define VEC_TOP (UINT64_C(1) << 60) /* vector ids count down from here */
#define LIVE_TARGET 5000            /* above it the child forgets more */
#define FORGOTTEN_RING 1024         /* forgotten ids checked for absence */
#define READD_MAX 256               /* forgotten vector ids to add again */
#define TEXT_CAP 8192
#define BATCH_MAX 8
#define CHECKPOINT_WAL_SMALL 4096 /* some rounds: background checkpoints */

/* ------------------------------------------------------------------------ */
/* Deterministic content                                                    */
/* ------------------------------------------------------------------------ */

static uint64_t g_seed;
static bool g_verbose; /* $BRAINCORE_KILL9_VERBOSE: a line per round */

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

enum salt { SALT_CHILD = 1, SALT_PARENT, SALT_TEXT, SALT_IMPORTANCE, SALT_VECTOR };

static uint64_t seed_of(uint64_t salt, uint64_t round, uint64_t seq, uint64_t row)
{
	uint64_t h = mix64(g_seed ^ mix64(salt));
	h = mix64(h ^ round);
	h = mix64(h ^ seq);
	return mix64(h ^ row);
}

static const char *const g_words[] = {
	"apple",  "river",  "stone",   "cloud",   "ember",  "violet", "harbor", "lantern",
	"meadow", "copper", "falcon",  "quartz",  "willow", "saffron", "glacier", "thunder",
	"café",   "naïve",  "Straße",  "日本語",  "Ωmega",  "crème",  "fjord",  "zephyr",
	"basalt", "orchid", "tundra",  "cobalt",  "prairie", "nebula", "juniper", "marble",
};
#define NWORDS (sizeof g_words / sizeof g_words[0])

/* Append to buf (capacity TEXT_CAP) at *len; always leaves room for NUL. */
static void text_append(char *buf, size_t *len, const char *s)
{
	size_t n = strlen(s);
	if (*len + n + 1 < TEXT_CAP) {
		memcpy(buf + *len, s, n);
		*len += n;
		buf[*len] = '\0';
	}
}

/* The text of the memory remembered at (round, seq); returns its length.
 * A unique token first, then a few common words; 2% are a few kilobytes
 * long so that log records span pages. */
static size_t make_text(uint32_t round, uint64_t seq, char *buf)
{
	test_rng r = {seed_of(SALT_TEXT, round, seq, 0)};
	int n = snprintf(buf, TEXT_CAP, "kill9 r%" PRIu32 " s%" PRIu64 " u%016" PRIx64, round, seq,
	                 test_rng_next(&r));
	size_t len = (size_t)n;
	size_t words = 1 + (size_t)(test_rng_next(&r) % 6);
	if (test_rng_next(&r) % 50 == 0)
		words += 200 + (size_t)(test_rng_next(&r) % 400);
	for (size_t i = 0; i < words; i++) {
		text_append(buf, &len, " ");
		text_append(buf, &len, g_words[test_rng_next(&r) % NWORDS]);
	}
	return len;
}

static float make_importance(uint32_t round, uint64_t seq)
{
	test_rng r = {seed_of(SALT_IMPORTANCE, round, seq, 0)};
	return test_rng_float(&r, 0.0f, 1.0f);
}

/* The vector of row `row` of the add at (round, seq): mostly uniform in
 * [-1, 1), with some -0, subnormals and large values, all finite. */
static void make_vector(uint32_t round, uint64_t seq, uint32_t row, float *v)
{
	test_rng r = {seed_of(SALT_VECTOR, round, seq, row)};
	for (size_t i = 0; i < DIMS; i++) {
		uint64_t u = test_rng_next(&r);
		switch (u % 64) {
		case 0:
			v[i] = -0.0f;
			break;
		case 1: {
			uint32_t bits = (uint32_t)(u >> 8) & 0x807fffffu; /* subnormal (or 0) */
			memcpy(&v[i], &bits, sizeof bits);
			break;
		}
		case 2:
			v[i] = test_rng_float(&r, -1000.0f, 1000.0f);
			break;
		default:
			v[i] = test_rng_float(&r, -1.0f, 1.0f);
			break;
		}
	}
}

/* ------------------------------------------------------------------------ */
/* The model: what the brain must hold                                      */
/* ------------------------------------------------------------------------ */

enum kind { KIND_TEXT = 1, KIND_VECTOR = 2 };

typedef struct entry {
	uint64_t id; /* BRAIN_ID_NONE: empty slot */
	uint64_t seq;
	uint32_t round;
	uint32_t kind;
	uint32_t row;
	size_t pos; /* index in model.live */
} entry;

typedef struct model {
	entry *slots; /* open addressing, linear probing */
	size_t cap;
	uint64_t *live; /* ids of live memories, for random picks */
	size_t nlive, live_cap;
	uint64_t max_text_id;  /* highest text id known durable */
	uint64_t next_vec_id;  /* next new vector id (counts down) */
	uint64_t forgotten[FORGOTTEN_RING];
	size_t nforgotten; /* total ever; ring index = n % FORGOTTEN_RING */
	uint64_t readd[READD_MAX];
	size_t nreadd;
} model;

static void *xalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);
	if (!p) {
		fprintf(stderr, "test_kill9: out of memory (%zu bytes)\n", n);
		exit(1);
	}
	return p;
}

static size_t home_of(uint64_t id, size_t cap)
{
	return (size_t)(mix64(id) & (cap - 1));
}

static entry *model_find(const model *m, uint64_t id)
{
	if (!m->cap || id == BRAIN_ID_NONE)
		return NULL;
	for (size_t i = home_of(id, m->cap);; i = (i + 1) & (m->cap - 1)) {
		if (m->slots[i].id == id)
			return &m->slots[i];
		if (m->slots[i].id == BRAIN_ID_NONE)
			return NULL;
	}
}

/* An id the model holds as live: the model's own invariant. */
static entry *model_must(const model *m, uint64_t id)
{
	entry *e = model_find(m, id);
	if (!e) {
		fprintf(stderr, "test_kill9: model lost live id %llu (a bug in the test)\n",
		        (unsigned long long)id);
		abort();
	}
	return e;
}

static void model_place(model *m, const entry *e)
{
	size_t i = home_of(e->id, m->cap);
	while (m->slots[i].id != BRAIN_ID_NONE)
		i = (i + 1) & (m->cap - 1);
	m->slots[i] = *e;
}

static void model_grow(model *m)
{
	size_t old_cap = m->cap;
	entry *old = m->slots;
	m->cap = old_cap ? old_cap * 2 : 1024;
	m->slots = xalloc(m->cap * sizeof *m->slots);
	for (size_t i = 0; i < m->cap; i++)
		m->slots[i].id = BRAIN_ID_NONE;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].id != BRAIN_ID_NONE)
			model_place(m, &old[i]);
	free(old);
}

static void model_init(model *m)
{
	memset(m, 0, sizeof *m);
	m->next_vec_id = VEC_TOP;
	model_grow(m);
}

/* Returns false if id is live already. */
static bool model_put(model *m, uint64_t id, uint32_t kind, uint32_t round, uint64_t seq,
                      uint32_t row)
{
	if (model_find(m, id))
		return false;
	if ((m->nlive + 1) * 2 > m->cap)
		model_grow(m);
	if (m->nlive == m->live_cap) {
		m->live_cap = m->live_cap ? m->live_cap * 2 : 1024;
		uint64_t *nl = realloc(m->live, m->live_cap * sizeof *nl);
		if (!nl) {
			fprintf(stderr, "test_kill9: out of memory\n");
			exit(1);
		}
		m->live = nl;
	}
	entry e = {id, seq, round, kind, row, m->nlive};
	m->live[m->nlive++] = id;
	model_place(m, &e);
	if (kind == KIND_TEXT && id > m->max_text_id)
		m->max_text_id = id;
	return true;
}

/* Returns false if id is not live. */
static bool model_del(model *m, uint64_t id)
{
	entry *e = model_find(m, id);
	if (!e)
		return false;
	size_t pos = e->pos;
	uint64_t last = m->live[--m->nlive];
	if (last != id) {
		m->live[pos] = last;
		model_must(m, last)->pos = pos;
	}
	/* backward-shift deletion */
	size_t mask = m->cap - 1, i = (size_t)(e - m->slots), j = i;
	for (;;) {
		j = (j + 1) & mask;
		if (m->slots[j].id == BRAIN_ID_NONE)
			break;
		size_t k = home_of(m->slots[j].id, m->cap);
		bool movable = (j > i) ? (k <= i || k > j) : (k <= i && k > j);
		if (movable) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->slots[i].id = BRAIN_ID_NONE;
	return true;
}

static void readd_remove(model *m, uint64_t id)
{
	for (size_t i = 0; i < m->nreadd; i++)
		if (m->readd[i] == id) {
			m->readd[i] = m->readd[--m->nreadd];
			return;
		}
}

/* ------------------------------------------------------------------------ */
/* Records on the pipe                                                      */
/* ------------------------------------------------------------------------ */

#define REC_MAGIC 0x4b494c39u /* "KIL9" */

enum rec_type { REC_INTENT = 1, REC_ACK = 2, REC_ERR = 3 };

enum op {
	OP_OPEN = 1,
	OP_REMEMBER,
	OP_ADD, /* a new vector id or a forgotten one again */
	OP_BATCH,
	OP_FORGET,
	OP_CHECKPOINT,
	OP_REOPEN,
	OP_ASYNC, /* brain_add_async of a few rows, then brain_flush */
	OP_COUNT_
};

static const char *const g_op_names[OP_COUNT_] = {
	[OP_OPEN] = "open",       [OP_REMEMBER] = "remember",     [OP_ADD] = "add",
	[OP_BATCH] = "add_batch", [OP_FORGET] = "forget",         [OP_CHECKPOINT] = "checkpoint",
	[OP_REOPEN] = "close+reopen", [OP_ASYNC] = "add_async+flush",
};

static const char *op_name(uint32_t op)
{
	return op > 0 && op < OP_COUNT_ ? g_op_names[op] : "?";
}

/* One fixed-size record, written with one write() (atomic: < PIPE_BUF). */
typedef struct rec {
	uint32_t magic;
	uint32_t type;
	uint32_t op;
	uint32_t n;   /* rows of a batch */
	uint64_t seq; /* op number within the round */
	uint64_t id;  /* remember (ack): assigned id; add, forget: the id;
	                 batch: first id (the others count down from it) */
	int32_t code; /* REC_ERR: the error */
	char msg[196];
} rec;

_Static_assert(sizeof(rec) < 512, "records must be written atomically");

/* Shared by child and parent, so both keep the same model. */
static void apply_intent(model *m, const rec *r)
{
	if (r->op == OP_ADD || r->op == OP_BATCH || r->op == OP_ASYNC) {
		uint32_t n = r->op == OP_ADD ? 1 : r->n;
		uint64_t lowest = r->id - (n - 1);
		if (lowest <= m->next_vec_id)
			m->next_vec_id = lowest - 1;
	}
}

/* Returns NULL or what is wrong. */
static const char *apply_ack(model *m, const rec *r, uint32_t round)
{
	static char why[256];
	switch (r->op) {
	case OP_REMEMBER:
		if (r->id == BRAIN_ID_NONE || r->id <= m->max_text_id) {
			snprintf(why, sizeof why,
			         "remember returned id %" PRIu64 ", but ids rise and %" PRIu64
			         " was given before (text ids must never be reused)",
			         r->id, m->max_text_id);
			return why;
		}
		if (!model_put(m, r->id, KIND_TEXT, round, r->seq, 0)) {
			snprintf(why, sizeof why, "remember returned id %" PRIu64 ", which is live", r->id);
			return why;
		}
		return NULL;
	case OP_ADD:
		if (!model_put(m, r->id, KIND_VECTOR, round, r->seq, 0)) {
			snprintf(why, sizeof why, "add of id %" PRIu64 " succeeded, but it was live", r->id);
			return why;
		}
		readd_remove(m, r->id);
		return NULL;
	case OP_BATCH:
	case OP_ASYNC:
		for (uint32_t j = 0; j < r->n; j++)
			if (!model_put(m, r->id - j, KIND_VECTOR, round, r->seq, j)) {
				snprintf(why, sizeof why,
				         "add_batch of id %" PRIu64 " succeeded, but it was live", r->id - j);
				return why;
			}
		return NULL;
	case OP_FORGET: {
		entry *e = model_find(m, r->id);
		if (!e) {
			snprintf(why, sizeof why, "forget of id %" PRIu64 " succeeded, but it was not live",
			         r->id);
			return why;
		}
		if (e->kind == KIND_VECTOR && m->nreadd < READD_MAX)
			m->readd[m->nreadd++] = r->id;
		model_del(m, r->id);
		m->forgotten[m->nforgotten++ % FORGOTTEN_RING] = r->id;
		return NULL;
	}
	default:
		return NULL;
	}
}

/* ------------------------------------------------------------------------ */
/* The child                                                                */
/* ------------------------------------------------------------------------ */

static int g_fd = -1; /* child: write end of the pipe */

static void child_send(const rec *r)
{
	ssize_t w;
	do
		w = write(g_fd, r, sizeof *r);
	while (w < 0 && errno == EINTR);
	if (w != (ssize_t)sizeof *r)
		_exit(4);
}

static void child_fail(uint32_t op, uint64_t seq, int code, const char *fmt, ...)
	KILL9_PRINTF(4, 5) __attribute__((noreturn));

static void child_fail(uint32_t op, uint64_t seq, int code, const char *fmt, ...)
{
	rec r;
	memset(&r, 0, sizeof r);
	r.magic = REC_MAGIC;
	r.type = REC_ERR;
	r.op = op;
	r.seq = seq;
	r.code = code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r.msg, sizeof r.msg, fmt, ap);
	va_end(ap);
	child_send(&r);
	_exit(3);
}

/* Fail the child unless rc is 0. */
static void child_check(int rc, uint32_t op, uint64_t seq)
{
	if (rc != BRAIN_OK)
		child_fail(op, seq, rc, "%s returned %s: %s", op_name(op), brain_error_name(rc),
		           brain_errmsg());
}

static rec child_rec(uint32_t type, uint32_t op, uint64_t seq, uint64_t id, uint32_t n)
{
	rec r;
	memset(&r, 0, sizeof r);
	r.magic = REC_MAGIC;
	r.type = type;
	r.op = op;
	r.n = n;
	r.seq = seq;
	r.id = id;
	return r;
}

static brain_t *child_open(const char *path, const brain_options *opts, bool small_wal,
                           uint32_t op, uint64_t seq)
{
	brain_t *b = NULL;
	child_check(brain_open(path, opts, &b), op, seq);
	if (small_wal)
		child_check(brain_set_param(b, BRAIN_PARAM_CHECKPOINT_WAL_BYTES, CHECKPOINT_WAL_SMALL),
		            op, seq);
	return b;
}

static void child_main(uint32_t round, model *m, const char *path, const brain_options *opts)
	__attribute__((noreturn));

static void child_main(uint32_t round, model *m, const char *path, const brain_options *opts)
{
	alarm(120); /* never outlive a lost parent for long */
	test_rng rng = {seed_of(SALT_CHILD, round, 0, 0)};
	bool small_wal = test_rng_next(&rng) % 2 == 0;
	uint64_t seq = 0;
	char text[TEXT_CAP];
	float vec[BATCH_MAX * DIMS];
	uint64_t ids[BATCH_MAX];

	rec r = child_rec(REC_INTENT, OP_OPEN, seq, 0, 0);
	child_send(&r);
	brain_t *b = child_open(path, opts, small_wal, OP_OPEN, seq);
	r.type = REC_ACK;
	child_send(&r);

	for (seq = 1;; seq++) {
		uint64_t x = test_rng_next(&rng) % 1000;
		double u = test_rng_unit(&rng);
		double p_forget = m->nlive > LIVE_TARGET ? 0.7 : 0.2;
		uint32_t op;
		bool readd = false; /* OP_ADD of a forgotten vector id */
		if (x < 2)
			op = OP_REOPEN;
		else if (x < 7)
			op = OP_CHECKPOINT;
		else if (u < p_forget)
			op = m->nlive > 0 ? OP_FORGET : OP_REMEMBER;
		else if (u < p_forget + 0.03)
			op = m->nreadd > 0 ? (readd = true, OP_ADD) : OP_BATCH;
		else if (u < p_forget + 0.065)
			op = OP_BATCH;
		else if (u < p_forget + 0.08)
			op = OP_ASYNC;
		else if (u < p_forget + 0.35)
			op = OP_ADD;
		else
			op = OP_REMEMBER;

		int rc;
		switch (op) {
		case OP_REOPEN:
			r = child_rec(REC_INTENT, op, seq, 0, 0);
			child_send(&r);
			rc = brain_close(b);
			b = NULL;
			child_check(rc, op, seq);
			b = child_open(path, opts, small_wal, op, seq);
			break;
		case OP_CHECKPOINT:
			r = child_rec(REC_INTENT, op, seq, 0, 0);
			child_send(&r);
			child_check(brain_checkpoint(b), op, seq);
			break;
		case OP_FORGET:
			r = child_rec(REC_INTENT, op, seq, m->live[test_rng_next(&rng) % m->nlive], 0);
			child_send(&r);
			child_check(brain_forget(b, r.id), op, seq);
			break;
		case OP_ADD: {
			uint64_t id;
			if (readd)
				id = m->readd[test_rng_next(&rng) % m->nreadd];
			else
				id = m->next_vec_id;
			r = child_rec(REC_INTENT, op, seq, id, 1);
			child_send(&r);
			apply_intent(m, &r);
			make_vector(round, seq, 0, vec);
			child_check(brain_add(b, id, vec), op, seq);
			break;
		}
		case OP_BATCH: {
			uint32_t n = 2 + (uint32_t)(test_rng_next(&rng) % (BATCH_MAX - 1));
			r = child_rec(REC_INTENT, op, seq, m->next_vec_id, n);
			child_send(&r);
			apply_intent(m, &r);
			for (uint32_t j = 0; j < n; j++) {
				ids[j] = r.id - j;
				make_vector(round, seq, j, vec + (size_t)j * DIMS);
			}
			child_check(brain_add_batch(b, ids, vec, n), op, seq);
			break;
		}
		case OP_ASYNC: {
			/* queued in order, made in order: a kill leaves a prefix */
			uint32_t n = 2 + (uint32_t)(test_rng_next(&rng) % (BATCH_MAX - 1));
			r = child_rec(REC_INTENT, op, seq, m->next_vec_id, n);
			child_send(&r);
			apply_intent(m, &r);
			for (uint32_t j = 0; j < n; j++) {
				make_vector(round, seq, j, vec);
				child_check(brain_add_async(b, r.id - j, vec), op, seq);
			}
			child_check(brain_flush(b), op, seq);
			break;
		}
		default: { /* OP_REMEMBER */
			r = child_rec(REC_INTENT, op, seq, 0, 0);
			child_send(&r);
			make_text(round, seq, text);
			brain_id id = BRAIN_ID_NONE;
			child_check(brain_remember_ex(b, text, NULL, make_importance(round, seq), &id), op,
			            seq);
			r.id = id;
			break;
		}
		}
		r.type = REC_ACK;
		const char *why = apply_ack(m, &r, round);
		if (why)
			child_fail(op, seq, 0, "%s", why);
		child_send(&r);
	}
}

/* ------------------------------------------------------------------------ */
/* The parent                                                               */
/* ------------------------------------------------------------------------ */

static char g_root[4096], g_brain_dir[4200], g_pre_dir[4200];

/* What the failure report tells besides the failure itself. */
static struct {
	uint32_t round, rounds;
	unsigned delay_us;
	bool read_only;
	bool pending;
	rec pending_rec;
	uint64_t acked_this_round;
} g_ctx;

static void fail(const char *fmt, ...) KILL9_PRINTF(1, 2) __attribute__((noreturn));

static void fail(const char *fmt, ...)
{
	fflush(stdout);
	fprintf(stderr, "test_kill9: FAIL in round %" PRIu32 " of %" PRIu32 " (seed 0x%016" PRIx64
	                "): ",
	        g_ctx.round, g_ctx.rounds, g_seed);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	fprintf(stderr, "  kill after %u us; %" PRIu64 " ops acknowledged this round; ", g_ctx.delay_us,
	        g_ctx.acked_this_round);
	if (g_ctx.pending)
		fprintf(stderr, "in flight: %s seq %" PRIu64 " id %" PRIu64 " n %" PRIu32 "\n",
		        op_name(g_ctx.pending_rec.op), g_ctx.pending_rec.seq, g_ctx.pending_rec.id,
		        g_ctx.pending_rec.n);
	else
		fprintf(stderr, "nothing in flight\n");
	fprintf(stderr, "  parent opened %s\n", g_ctx.read_only ? "read-only" : "read-write");
	fprintf(stderr, "  brain kept in %s\n", g_brain_dir);
	fprintf(stderr, "  as the kill left it (before the parent's open): %s\n", g_pre_dir);
	fprintf(stderr, "  replay the same choices with BRAINCORE_KILL9_SEED=0x%016" PRIx64 "\n",
	        g_seed);
	exit(1);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct buffer {
	unsigned char *data;
	size_t len, cap;
} buffer;

/* Read what is there; returns 0 at end of file, 1 if read, -1 on error. */
static int read_some(int fd, buffer *buf)
{
	if (buf->cap - buf->len < 65536) {
		buf->cap = buf->cap ? buf->cap * 2 : 1 << 20;
		unsigned char *nd = realloc(buf->data, buf->cap);
		if (!nd) {
			fprintf(stderr, "test_kill9: out of memory\n");
			exit(1);
		}
		buf->data = nd;
	}
	ssize_t n = read(fd, buf->data + buf->len, buf->cap - buf->len);
	if (n < 0)
		return errno == EINTR ? 1 : -1;
	buf->len += (size_t)n;
	return n > 0;
}

/* Fork the child, kill it after delay_us, collect its records. Returns the
 * wait status. */
static int run_child(uint32_t round, model *m, const brain_options *opts, unsigned delay_us,
                     buffer *buf)
{
	int p[2];
	if (pipe(p) != 0)
		fail("pipe: %s", strerror(errno));
	fflush(stdout);
	fflush(stderr);
	double start = now_s();
	pid_t pid = fork();
	if (pid < 0)
		fail("fork: %s", strerror(errno));
	if (pid == 0) {
		close(p[0]);
		g_fd = p[1];
		child_main(round, m, g_brain_dir, opts);
	}
	close(p[1]);
	buf->len = 0;
	double deadline = start + (double)delay_us * 1e-6;
	bool eof = false;
	for (;;) {
		double left = deadline - now_s();
		if (left <= 0)
			break;
		fd_set rd;
		FD_ZERO(&rd);
		FD_SET(p[0], &rd);
		struct timeval tv = {(time_t)left, (suseconds_t)((left - (double)(time_t)left) * 1e6)};
		int s = select(p[0] + 1, &rd, NULL, NULL, &tv);
		if (s < 0 && errno != EINTR)
			fail("select: %s", strerror(errno));
		if (s > 0) {
			int rr = read_some(p[0], buf);
			if (rr < 0)
				fail("read from the pipe: %s", strerror(errno));
			if (rr == 0) {
				eof = true; /* the child died on its own */
				break;
			}
		}
	}
	kill(pid, SIGKILL);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			fail("waitpid: %s", strerror(errno));
	while (!eof) {
		int rr = read_some(p[0], buf);
		if (rr < 0)
			fail("read from the pipe: %s", strerror(errno));
		eof = rr == 0;
	}
	close(p[0]);
	return status;
}

typedef struct totals {
	uint64_t acked[OP_COUNT_];
	uint64_t acked_changes;
	unsigned kills;
	unsigned in_flight_applied, in_flight_dropped, in_flight_other;
	unsigned read_only_rounds;
	unsigned checks_unsupported;
} totals;

static const char *kind_name(uint32_t kind)
{
	return kind == KIND_TEXT ? "text" : "vector";
}

/* Check one live memory of the model against the brain. */
static void verify_entry(brain_t *b, const entry *e, char *text, float *vec, float *got)
{
	brain_results *res = NULL;
	int rc = brain_get(b, e->id, &res);
	if (rc != BRAIN_OK)
		fail("acknowledged %s memory id %" PRIu64 " (round %" PRIu32 " seq %" PRIu64
		     " row %" PRIu32 "): brain_get returned %s (%s), expected it present",
		     kind_name(e->kind), e->id, e->round, e->seq, e->row, brain_error_name(rc),
		     brain_errmsg());
	if (brain_results_count(res) != 1 || brain_results_id(res, 0) != e->id)
		fail("brain_get(%" PRIu64 ") gave %zu entries, first id %" PRIu64, e->id,
		     brain_results_count(res), brain_results_id(res, 0));
	const char *t = brain_results_text(res, 0);
	if (e->kind == KIND_TEXT) {
		size_t len = make_text(e->round, e->seq, text);
		float imp = make_importance(e->round, e->seq);
		if (!t || brain_results_text_len(res, 0) != len || memcmp(t, text, len + 1) != 0)
			fail("text memory id %" PRIu64 " (round %" PRIu32 " seq %" PRIu64
			     "): expected text (%zu bytes) \"%.200s\", found (%zu bytes) \"%.200s\"",
			     e->id, e->round, e->seq, len, text, brain_results_text_len(res, 0),
			     t ? t : "(null)");
		float gi = brain_results_importance(res, 0);
		if (memcmp(&gi, &imp, sizeof gi) != 0)
			fail("text memory id %" PRIu64 " (round %" PRIu32 " seq %" PRIu64
			     "): expected importance %.9g, found %.9g",
			     e->id, e->round, e->seq, (double)imp, (double)gi);
	} else {
		if (t)
			fail("vector memory id %" PRIu64 " (round %" PRIu32 " seq %" PRIu64
			     "): expected no text, found \"%.200s\"",
			     e->id, e->round, e->seq, t);
		make_vector(e->round, e->seq, e->row, vec);
		rc = brain_get_vector(b, e->id, got);
		if (rc != BRAIN_OK)
			fail("vector memory id %" PRIu64 ": brain_get_vector returned %s (%s)", e->id,
			     brain_error_name(rc), brain_errmsg());
		for (size_t i = 0; i < DIMS; i++) {
			uint32_t wb, gb;
			memcpy(&wb, &vec[i], sizeof wb);
			memcpy(&gb, &got[i], sizeof gb);
			if (wb != gb)
				fail("vector memory id %" PRIu64 " (round %" PRIu32 " seq %" PRIu64
				     " row %" PRIu32 "): component %zu expected %.9g (0x%08" PRIx32
				     "), found %.9g (0x%08" PRIx32 ")",
				     e->id, e->round, e->seq, e->row, i, (double)vec[i], wb, (double)got[i], gb);
		}
	}
	brain_results_free(res);
}

/* Is id in the brain? Fails on anything but found / not found. */
static bool present(brain_t *b, uint64_t id)
{
	brain_results *res = NULL;
	int rc = brain_get(b, id, &res);
	brain_results_free(res);
	if (rc != BRAIN_OK && rc != BRAIN_ENOTFOUND)
		fail("brain_get(%" PRIu64 ") returned %s (%s)", id, brain_error_name(rc), brain_errmsg());
	return rc == BRAIN_OK;
}

/* Find the memory the in-flight remember made, if it is there: by its
 * exact text, first through recall, then among the next few ids. */
static uint64_t find_text(brain_t *b, const model *m, const char *text)
{
	brain_id ids[16];
	size_t found = 0;
	int rc = brain_recall_ids(b, text, 16, ids, NULL, &found);
	if (rc != BRAIN_OK)
		fail("brain_recall_ids for the in-flight text returned %s (%s)", brain_error_name(rc),
		     brain_errmsg());
	for (size_t i = 0; i < found; i++) {
		brain_results *res = NULL;
		if (brain_get(b, ids[i], &res) == BRAIN_OK && brain_results_text(res, 0) &&
		    strcmp(brain_results_text(res, 0), text) == 0 && !model_find(m, ids[i])) {
			brain_results_free(res);
			return ids[i];
		}
		brain_results_free(res);
	}
	for (uint64_t id = m->max_text_id + 1; id <= m->max_text_id + 8; id++) {
		brain_results *res = NULL;
		if (brain_get(b, id, &res) == BRAIN_OK && brain_results_text(res, 0) &&
		    strcmp(brain_results_text(res, 0), text) == 0) {
			brain_results_free(res);
			return id;
		}
		brain_results_free(res);
	}
	return BRAIN_ID_NONE;
}

/* Fold the change in flight at the kill into the model, if it landed. */
static void resolve_in_flight(brain_t *b, model *m, uint32_t round, rec *p, totals *t)
{
	char text[TEXT_CAP];
	const char *why = NULL;
	switch (p->op) {
	case OP_REMEMBER: {
		make_text(round, p->seq, text);
		uint64_t id = find_text(b, m, text);
		if (id == BRAIN_ID_NONE) {
			t->in_flight_dropped++;
			return;
		}
		p->id = id;
		why = apply_ack(m, p, round);
		t->in_flight_applied++;
		break;
	}
	case OP_ADD:
		if (!present(b, p->id)) {
			t->in_flight_dropped++;
			return;
		}
		why = apply_ack(m, p, round);
		t->in_flight_applied++;
		break;
	case OP_BATCH: {
		uint32_t there = 0;
		for (uint32_t j = 0; j < p->n; j++)
			there += present(b, p->id - j);
		if (there != 0 && there != p->n)
			fail("add_batch in flight (ids %" PRIu64 " down to %" PRIu64
			     "): %" PRIu32 " of %" PRIu32 " rows are in the brain, expected all or none",
			     p->id, p->id - (p->n - 1), there, p->n);
		if (!there) {
			t->in_flight_dropped++;
			return;
		}
		why = apply_ack(m, p, round);
		t->in_flight_applied++;
		break;
	}
	case OP_ASYNC: {
		/* made in the order queued: the rows present are a prefix */
		uint32_t there = 0;
		while (there < p->n && present(b, p->id - there))
			there++;
		for (uint32_t j = there; j < p->n; j++)
			if (present(b, p->id - j))
				fail("add_async+flush in flight (ids %" PRIu64 " down to %" PRIu64 "): row %"
				     PRIu32 " is in the brain but row %" PRIu32 ", queued before it, is not",
				     p->id, p->id - (p->n - 1), j, there);
		if (!there) {
			t->in_flight_dropped++;
			return;
		}
		p->n = there;
		why = apply_ack(m, p, round);
		t->in_flight_applied++;
		break;
	}
	case OP_FORGET:
		if (present(b, p->id)) {
			t->in_flight_dropped++;
			return;
		}
		why = apply_ack(m, p, round);
		t->in_flight_applied++;
		break;
	default:
		t->in_flight_other++;
		return;
	}
	if (why)
		fail("in-flight %s seq %" PRIu64 ": %s", op_name(p->op), p->seq, why);
}

static void verify(brain_t *b, model *m, test_rng *rng)
{
	char text[TEXT_CAP];
	float vec[DIMS], got[DIMS];
	for (size_t i = 0; i < m->nlive; i++)
		verify_entry(b, model_must(m, m->live[i]), text, vec, got);
	size_t ring = TEST_MIN(m->nforgotten, (size_t)FORGOTTEN_RING);
	for (size_t i = 0; i < ring; i++) {
		uint64_t id = m->forgotten[i];
		if (!model_find(m, id) && present(b, id))
			fail("id %" PRIu64 " was forgotten (acknowledged), but brain_get finds it", id);
	}
	uint64_t count = brain_count(b);
	if (count != m->nlive)
		fail("brain_count is %" PRIu64 ", expected %zu (every acknowledged memory is there, so "
		     "%s)",
		     count, m->nlive,
		     count > m->nlive ? "the brain has memories nobody acknowledged"
		                      : "the count is wrong");

	/* recall a few known texts, search a few known vectors */
	unsigned texts = 0, vectors = 0;
	for (unsigned tries = 0; tries < 64 && m->nlive && (texts < 3 || vectors < 3); tries++) {
		const entry *e = model_must(m, m->live[test_rng_next(rng) % m->nlive]);
		/* Long texts are mostly common words: their vectors, made with
		 * the word statistics of their day, may lose to a later long
		 * text, so only short ones (led by their unique token) are
		 * recalled. */
		if (e->kind == KIND_TEXT && texts < 3 && make_text(e->round, e->seq, text) < 200) {
			texts++;
			char **hits = brain_recall(b, text, 10);
			if (!hits)
				fail("brain_recall of the text of id %" PRIu64 " failed: %s (%s)", e->id,
				     brain_error_name(brain_errcode()), brain_errmsg());
			bool found = false;
			for (char **h = hits; *h; h++)
				found = found || strcmp(*h, text) == 0;
			if (!found)
				fail("brain_recall(\"%.120s\", 10) does not return that text (id %" PRIu64
				     "); first hit: \"%.120s\"",
				     text, e->id, hits[0] ? hits[0] : "(none)");
			free(hits);
		} else if (e->kind == KIND_VECTOR && vectors < 3) {
			vectors++;
			make_vector(e->round, e->seq, e->row, vec);
			uint64_t id = BRAIN_ID_NONE;
			float dist = -1.0f;
			size_t found = 0;
			int rc = brain_search(b, vec, 1, &id, &dist, &found);
			if (rc != BRAIN_OK)
				fail("brain_search for the vector of id %" PRIu64 " returned %s (%s)", e->id,
				     brain_error_name(rc), brain_errmsg());
			if (found != 1 || id != e->id || dist != 0.0f)
				fail("brain_search for the exact vector of id %" PRIu64
				     ": expected it at distance 0, found %zu hit(s), id %" PRIu64
				     " at distance %g",
				     e->id, found, id, (double)dist);
		}
	}
}

/* brain_check(); returns 1 if it ran (report filled), 0 if unsupported. */
static int check_brain(const brain_options *opts, brain_check_report *rep, bool may_be_missing,
                       const char *when, totals *t)
{
	brain_check_report_init(rep, BRAIN_CHECK_REPORT_VERSION);
	int rc = brain_check(g_brain_dir, opts, rep);
	if (rc == BRAIN_ENOTSUP) {
		t->checks_unsupported++;
		return 0;
	}
	if (rc == BRAIN_ENOTFOUND && may_be_missing)
		return 0;
	if (rc != BRAIN_OK)
		fail("brain_check %s returned %s: %s", when, brain_error_name(rc), brain_errmsg());
	return 1;
}

static unsigned parse_rounds(int argc, char **argv)
{
	const char *s = argc > 1 ? argv[1] : getenv("BRAINCORE_KILL9_ROUNDS");
	if (!s || !*s)
		return DEFAULT_ROUNDS;
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v == 0 || v > 1000000) {
		fprintf(stderr, "test_kill9: rounds \"%s\" is not a number in 1..1000000\n", s);
		exit(2);
	}
	return (unsigned)v;
}

static uint64_t parse_seed(void)
{
	const char *s = getenv("BRAINCORE_KILL9_SEED");
	if (s && *s) {
		char *end;
		errno = 0;
		unsigned long long v = strtoull(s, &end, 0);
		if (errno || *end) {
			fprintf(stderr, "test_kill9: BRAINCORE_KILL9_SEED \"%s\" is not a number\n", s);
			exit(2);
		}
		return (uint64_t)v;
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return mix64((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) ^ (uint64_t)getpid();
}

int main(int argc, char **argv)
{
	unsigned rounds = parse_rounds(argc, argv);
	g_seed = parse_seed();
	g_verbose = getenv("BRAINCORE_KILL9_VERBOSE") && *getenv("BRAINCORE_KILL9_VERBOSE");
	g_ctx.rounds = rounds;
	const char *tmp = getenv("TMPDIR");
	if (!tmp || !*tmp)
		tmp = "/tmp";
	snprintf(g_root, sizeof g_root, "%s/braincore-kill9-XXXXXX", tmp);
	if (!mkdtemp(g_root)) {
		fprintf(stderr, "test_kill9: mkdtemp(%s): %s\n", g_root, strerror(errno));
		return 1;
	}
	snprintf(g_brain_dir, sizeof g_brain_dir, "%s/brain", g_root);
	snprintf(g_pre_dir, sizeof g_pre_dir, "%s/pre-open", g_root);
	printf("test_kill9: %u rounds, seed 0x%016" PRIx64 ", brain in %s\n", rounds, g_seed,
	       g_brain_dir);

	brain_options opts;
	if (brain_options_init(&opts, BRAIN_OPTIONS_VERSION) != BRAIN_OK)
		fail("brain_options_init: %s", brain_errmsg());
	opts.dimensions = DIMS;
	opts.metric = BRAIN_METRIC_L2;
	opts.embedder = BRAIN_EMBEDDER_BUILTIN;
	opts.sync = BRAIN_SYNC_FULL;

	model m;
	model_init(&m);
	totals t;
	memset(&t, 0, sizeof t);
	buffer buf = {NULL, 0, 0};
	bool exists = false; /* a brain was created (an open was acknowledged) */
	double start = now_s(), last_progress = start;

	for (uint32_t round = 0; round < rounds; round++) {
		double round_start = now_s();
		memset(&g_ctx, 0, sizeof g_ctx);
		g_ctx.round = round;
		g_ctx.rounds = rounds;
		test_rng prng = {seed_of(SALT_PARENT, round, 0, 0)};
		double u = test_rng_unit(&prng);
		unsigned delay_us;
		if (u < 0.08)
			delay_us = 0; /* during fork and open */
		else if (u < 0.2)
			delay_us = (unsigned)(test_rng_next(&prng) % 3000); /* open and replay */
		else
			delay_us = 1000 + (unsigned)(test_rng_next(&prng) % 39001);
		g_ctx.delay_us = delay_us;

		int status = run_child(round, &m, &opts, delay_us, &buf);

		/* replay the records into the model */
		size_t nrec = buf.len / sizeof(rec);
		for (size_t i = 0; i < nrec; i++) {
			rec r;
			memcpy(&r, buf.data + i * sizeof r, sizeof r);
			if (r.magic != REC_MAGIC)
				fail("record %zu from the child is garbled (magic 0x%08" PRIx32 ")", i, r.magic);
			if (r.type == REC_ERR) {
				r.msg[sizeof r.msg - 1] = '\0';
				fail("the child failed at %s seq %" PRIu64 ": %s", op_name(r.op), r.seq, r.msg);
			} else if (r.type == REC_INTENT) {
				if (g_ctx.pending)
					fail("record %zu: intent of %s seq %" PRIu64 " while %s seq %" PRIu64
					     " is unanswered",
					     i, op_name(r.op), r.seq, op_name(g_ctx.pending_rec.op),
					     g_ctx.pending_rec.seq);
				apply_intent(&m, &r);
				g_ctx.pending = true;
				g_ctx.pending_rec = r;
			} else if (r.type == REC_ACK) {
				if (!g_ctx.pending || g_ctx.pending_rec.op != r.op ||
				    g_ctx.pending_rec.seq != r.seq)
					fail("record %zu: ack of %s seq %" PRIu64 " without its intent", i,
					     op_name(r.op), r.seq);
				const char *why = apply_ack(&m, &r, round);
				if (why)
					fail("%s", why);
				g_ctx.pending = false;
				g_ctx.acked_this_round++;
				t.acked[r.op]++;
				if (r.op != OP_OPEN && r.op != OP_CHECKPOINT && r.op != OP_REOPEN)
					t.acked_changes++;
				if (r.op == OP_OPEN || r.op == OP_REOPEN)
					exists = true;
			} else {
				fail("record %zu has type %" PRIu32, i, r.type);
			}
		}
		if (WIFEXITED(status))
			fail("the child exited by itself with status %d (4: pipe write failed, 5: returned)",
			     WEXITSTATUS(status));
		if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
			fail("the child died of signal %d (%s), not of our SIGKILL",
			     WIFSIGNALED(status) ? WTERMSIG(status) : -1,
			     WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "?");
		t.kills++;

		/* keep the files as the kill left them */
		if (test_remove_tree(g_pre_dir) != 0 || test_copy_tree(g_brain_dir, g_pre_dir) != 0)
			fail("cannot copy %s to %s: %s", g_brain_dir, g_pre_dir, strerror(errno));

		brain_check_report rep;
		int checked = check_brain(&opts, &rep, !exists, "after the kill", &t);

		/* open it ourselves */
		g_ctx.read_only = exists && test_rng_next(&prng) % 2 == 0;
		t.read_only_rounds += g_ctx.read_only;
		brain_options o = opts;
		o.flags = g_ctx.read_only ? BRAIN_OPEN_READONLY : 0;
		brain_t *b = NULL;
		int rc = brain_open(g_brain_dir, &o, &b);
		if (rc != BRAIN_OK)
			fail("brain_open(%s) after the kill returned %s: %s", g_ctx.read_only ?
			     "read-only" : "read-write", brain_error_name(rc), brain_errmsg());
		exists = true;
		/* this test is about durability, its searches expect the exact
		 * answer: past HNSW_EXACT_BELOW the brain walks its graph, which
		 * may miss (test_hnsw measures how often), so search exactly
		 * here, and put the threshold back before the close saves it */
		int64_t below = 0;
		if ((rc = brain_get_param(b, BRAIN_PARAM_HNSW_EXACT_BELOW, &below)) != BRAIN_OK ||
		    (rc = brain_set_param(b, BRAIN_PARAM_HNSW_EXACT_BELOW, UINT32_MAX)) != BRAIN_OK)
			fail("brain_set_param: %s", brain_errmsg());
		if (g_ctx.pending) {
			rec p = g_ctx.pending_rec;
			resolve_in_flight(b, &m, round, &p, &t);
		}
		verify(b, &m, &prng);
		if (checked && rep.memories != brain_count(b))
			fail("brain_check reported %" PRIu64 " memories, brain_open gives %" PRIu64,
			     rep.memories, brain_count(b));
		if ((rc = brain_set_param(b, BRAIN_PARAM_HNSW_EXACT_BELOW, below)) != BRAIN_OK)
			fail("brain_set_param: %s", brain_errmsg());
		rc = brain_close(b);
		if (rc != BRAIN_OK)
			fail("brain_close (%s) returned %s: %s",
			     g_ctx.read_only ? "read-only" : "read-write", brain_error_name(rc),
			     brain_errmsg());
		if (!g_ctx.read_only && check_brain(&opts, &rep, false, "after the parent's close", &t)) {
			if (rep.memories != m.nlive || rep.wal_records != 0 || rep.wal_torn_bytes != 0)
				fail("after the parent's close, brain_check reports %" PRIu64
				     " memories, %" PRIu64 " log records and %" PRIu64
				     " torn bytes; expected %zu, 0 and 0",
				     rep.memories, rep.wal_records, rep.wal_torn_bytes, m.nlive);
		}

		double now = now_s();
		if (g_verbose)
			printf("round %" PRIu32 ": kill after %u us, %" PRIu64 " acked, in flight %s, %s, "
			       "%zu memories, round took %.1f ms\n",
			       round, delay_us, g_ctx.acked_this_round,
			       g_ctx.pending ? op_name(g_ctx.pending_rec.op) : "-",
			       g_ctx.read_only ? "ro" : "rw", m.nlive, (now - round_start) * 1e3);
		if (rounds >= 1000 && now - last_progress >= 60) {
			last_progress = now;
			printf("test_kill9: round %" PRIu32 "/%u, %zu memories, %" PRIu64
			       " acknowledged changes, %.0f s\n",
			       round + 1, rounds, m.nlive, t.acked_changes, now - start);
			fflush(stdout);
		}
	}

	double secs = now_s() - start;
	printf("test_kill9: PASS %u rounds, %u kills, %" PRIu64 " acknowledged ops (%" PRIu64
	       " changes: %" PRIu64 " remember, %" PRIu64 " add, %" PRIu64 " add_batch, %" PRIu64
	       " add_async+flush, %" PRIu64 " forget; %" PRIu64 " checkpoint, %" PRIu64
	       " close+reopen, %" PRIu64 " open), "
	       "in flight at the kill: %u landed, %u did not, %u not a change; "
	       "%u read-only verifications; %zu memories at end; %.1f s\n",
	       rounds, t.kills,
	       t.acked_changes + t.acked[OP_CHECKPOINT] + t.acked[OP_REOPEN] + t.acked[OP_OPEN],
	       t.acked_changes, t.acked[OP_REMEMBER], t.acked[OP_ADD], t.acked[OP_BATCH],
	       t.acked[OP_ASYNC], t.acked[OP_FORGET], t.acked[OP_CHECKPOINT], t.acked[OP_REOPEN], t.acked[OP_OPEN],
	       t.in_flight_applied, t.in_flight_dropped, t.in_flight_other, t.read_only_rounds,
	       m.nlive, secs);
	if (t.checks_unsupported)
		printf("test_kill9: note: brain_check returned BRAIN_ENOTSUP %u times (not checked)\n",
		       t.checks_unsupported);
	free(buf.data);
	free(m.slots);
	free(m.live);
	if (test_remove_tree(g_root) != 0) {
		fprintf(stderr, "test_kill9: could not remove %s: %s\n", g_root, strerror(errno));
		return 1;
	}
	return 0;
}
