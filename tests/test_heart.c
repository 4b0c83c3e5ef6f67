/*
 * tests/test_heart.c - the Heart: one clock and one worker thread for every
 * brain of the process that changes, and brain_tick() for brains that run
 * without threads (BRAIN_BACKGROUND_MANUAL): fsyncs, checkpoints, and the
 * index's tail built into its graph. Each behaviour here would fail if the
 * Heart did nothing. Its slow cycle, the Circadian, forgets and
 * consolidates think's working memory when asked.
 */
#include <dirent.h>
#include <errno.h>
#include <stdatomic.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/decay.h"
#include "braincore.h"
#include "braincore/sys/io.h"
#include "test_util.h"

static size_t threads_now(void)
{
	DIR *d = opendir("/proc/self/task");
	assert_non_null(d);
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void sleep_ms(long ms)
{
	struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&t, NULL);
}

static brain_stats stats_of(brain_t *b)
{
	brain_stats st;
	assert_int_equal(brain_stats_init(&st, BRAIN_STATS_VERSION), 0);
	assert_int_equal(brain_get_stats(b, &st), 0);
	return st;
}

/* The log callback, counting the messages of one level that say `needle`
 * (log_heard() reads the count; log_stop() uninstalls it). */
static int g_log_level;
static const char *g_log_needle;
static atomic_int g_log_heard;

static void counting_log(int level, const char *message, void *payload)
{
	(void)payload;
	if (level == g_log_level && strstr(message, g_log_needle))
		atomic_fetch_add(&g_log_heard, 1);
}

static void log_listen(int level, const char *needle)
{
	brain_set_log(NULL, NULL);
	g_log_level = level;
	g_log_needle = needle;
	atomic_store(&g_log_heard, 0);
	brain_set_log(counting_log, NULL);
}

static int log_heard(void)
{
	return atomic_load(&g_log_heard);
}

/* A new directory from the mkdtemp template root, and the path of a brain
 * in it. */
static void new_dir(char *root, char path[64])
{
	assert_non_null(mkdtemp(root));
	snprintf(path, 64, "%s/b", root);
}

/* A vector brain (no embedder, NORMAL sync) of `dims`, `metric`, `index`. */
static brain_t *vector_brain(const char *path, uint32_t dims, int metric, int index,
                             int background)
{
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.dimensions = dims;
	o.embedder = BRAIN_EMBEDDER_NONE;
	o.metric = metric;
	o.index = index;
	o.sync = BRAIN_SYNC_NORMAL;
	o.background = background;
	brain_t *b = NULL;
	assert_int_equal(brain_open(path, &o, &b), 0);
	return b;
}

/* An in-memory flat brain: the exact reference answers are compared with. */
static brain_t *flat_reference(uint32_t dims, int metric)
{
	return vector_brain(NULL, dims, metric, BRAIN_INDEX_FLAT, BRAIN_BACKGROUND_THREADS);
}

static brain_options opts(int background)
{
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.dimensions = 8;
	o.embedder = BRAIN_EMBEDDER_NONE;
	o.sync = BRAIN_SYNC_NORMAL;
	o.background = background;
	return o;
}

static void add_some(brain_t *b, uint64_t from, int n)
{
	float v[8];
	for (int i = 0; i < n; i++) {
		for (int d = 0; d < 8; d++)
			v[d] = (float)((from + (uint64_t)i) * 7 % 13) + (float)d;
		assert_int_equal(brain_add(b, from + (uint64_t)i, v), 0);
	}
}

/* Manual: nothing happens by itself; brain_tick does the NORMAL fsync and
 * the checkpoint the log has grown into. */
static void test_heart__manual_brains_beat_by_tick(void **state)
{
	(void)state;
	char root[] = "/tmp/braincore-heart-XXXXXX", path[64];
	new_dir(root, path);
	size_t before = threads_now();
	brain_options o = opts(BRAIN_BACKGROUND_MANUAL);
	brain_t *b = NULL;
	assert_int_equal(brain_open(path, &o, &b), 0);
	assert_int_equal(threads_now(), before); /* no thread at all */
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_SYNC_INTERVAL_MS, 1), 0);
	add_some(b, 1, 10);
	sleep_ms(20);
	brain_stats st = stats_of(b);
	assert_int_equal(st.last_lsn, 10);
	assert_true(st.durable_lsn < 10); /* nobody fsynced */
	assert_int_equal(brain_tick(b), 0);
	st = stats_of(b);
	assert_int_equal(st.durable_lsn, 10);
	/* a checkpoint when the log has grown */
	/* (past a quarter of the last checkpoint's size, too) */
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_CHECKPOINT_WAL_BYTES, 1), 0);
	add_some(b, 100, 300);
	sleep_ms(20);
	assert_int_equal(stats_of(b).checkpoints, 0);
	assert_int_equal(brain_tick(b), 0);
	st = stats_of(b);
	assert_int_equal(st.checkpoints, 1);
	assert_int_equal(st.checkpoint_lsn, 310);
	char doc[2048];
	assert_true(brain_health_json(b, doc, sizeof doc) > 0);
	assert_non_null(strstr(doc, "\"heart\":{\"background\":\"manual\",\"beats\":2,\"late_ms_max\":0}"));
	assert_int_equal(brain_tick(NULL), BRAIN_ENULL);
	assert_int_equal(brain_close(b), 0);
	brain_t *m = brain_create();
	assert_int_equal(brain_tick(m), 0); /* in memory: nothing to do */
	brain_destroy(m);
	assert_int_equal(test_remove_tree(root), 0);
}

/* Threads: ten brains share one clock and one worker; their NORMAL writes
 * become durable and their logs get checkpointed without a tick; the last
 * close stops both threads. */
static void test_heart__one_heart_for_every_brain(void **state)
{
	(void)state;
	char root[] = "/tmp/braincore-heart-XXXXXX";
	assert_non_null(mkdtemp(root));
	brain_t *b[10];
	brain_options o = opts(BRAIN_BACKGROUND_THREADS);
	for (int i = 0; i < 10; i++) {
		char path[64];
		snprintf(path, sizeof path, "%s/b%d", root, i);
		assert_int_equal(brain_open(path, &o, &b[i]), 0);
		assert_int_equal(brain_set_param(b[i], BRAIN_PARAM_SYNC_INTERVAL_MS, 5), 0);
		assert_int_equal(brain_set_param(b[i], BRAIN_PARAM_TICK_MS, 5), 0);
	}
	size_t with_brains = threads_now();
	for (int i = 0; i < 10; i++)
		add_some(b[i], 1, 4);
	assert_int_equal(brain_set_param(b[3], BRAIN_PARAM_CHECKPOINT_WAL_BYTES, 1), 0);
	add_some(b[3], 10, 300); /* past a quarter of its first checkpoint */
	/* within a few beats (generous, a loaded machine) */
	bool durable = false, checkpointed = false;
	for (int tries = 0; tries < 500 && !(durable && checkpointed); tries++) {
		sleep_ms(10);
		durable = true;
		for (int i = 0; i < 10; i++)
			durable = durable && stats_of(b[i]).durable_lsn == stats_of(b[i]).last_lsn;
		checkpointed = stats_of(b[3]).checkpoints >= 1;
	}
	assert_true(durable);
	assert_true(checkpointed);
	assert_int_equal(stats_of(b[4]).checkpoints, 0); /* only the one asked */
	for (int i = 0; i < 10; i++)
		assert_int_equal(brain_close(b[i]), 0);
	/* three threads for ten brains (clock, worker, syncer), gone with the
	 * last (a sanitizer's own thread, if any, was there in both counts) */
	assert_int_equal(with_brains, threads_now() + 3);
	assert_int_equal(test_remove_tree(root), 0);
}

/* Brains closed while the Heart beats them and their checkpoints are due,
 * queued or running (under the sanitizers: nothing touches a closed
 * brain), with another brain beating all along. */
static void test_heart__close_while_work_is_due(void **state)
{
	(void)state;
	char root[] = "/tmp/braincore-heart-XXXXXX";
	assert_non_null(mkdtemp(root));
	char keep_path[64];
	snprintf(keep_path, sizeof keep_path, "%s/keep", root);
	brain_options o = opts(BRAIN_BACKGROUND_THREADS);
	brain_t *keep = NULL;
	assert_int_equal(brain_open(keep_path, &o, &keep), 0);
	assert_int_equal(brain_set_param(keep, BRAIN_PARAM_TICK_MS, 1), 0);
	for (int round = 0; round < 20; round++) {
		char path[64];
		snprintf(path, sizeof path, "%s/b%d", root, round);
		brain_t *b = NULL;
		assert_int_equal(brain_open(path, &o, &b), 0);
		assert_int_equal(brain_set_param(b, BRAIN_PARAM_TICK_MS, 1), 0);
		assert_int_equal(brain_set_param(b, BRAIN_PARAM_CHECKPOINT_WAL_BYTES, 1), 0);
		add_some(b, 1, 300);
		if (round % 2)
			sleep_ms(round % 5);
		add_some(keep, (uint64_t)round * 1000 + 1, 2);
		assert_int_equal(brain_close(b), 0);
		assert_int_equal(brain_open(path, &o, &b), 0);
		assert_int_equal(brain_count(b), 300);
		assert_int_equal(brain_close(b), 0);
	}
	assert_int_equal(brain_count(keep), 40);
	assert_int_equal(brain_close(keep), 0);
	assert_int_equal(test_remove_tree(root), 0);
}

/* ---- the index's tail -------------------------------------------------- */

#define TD 16   /* dimensions */
#define TN 3000 /* vectors */
#define TQ 40   /* queries */
#define TK 10

/* Vector i of `dims` components in [-1, 1] (a hash of i). */
static void hashed_vector(uint64_t i, float *v, int dims)
{
	uint64_t x = i * 0x9e3779b97f4a7c15ull + 12345;
	for (int d = 0; d < dims; d++) {
		x ^= x >> 29;
		x *= 0xbf58476d1ce4e5b9ull;
		x ^= x >> 32;
		v[d] = (float)(x % 2001) / 1000.0f - 1.0f;
	}
}

static void tail_vector(uint64_t i, float *v)
{
	hashed_vector(i, v, TD);
}

static brain_t *tail_brain(const char *path, int background)
{
	return vector_brain(path, TD, BRAIN_METRIC_L2, BRAIN_INDEX_HNSW, background);
}

/* Ids from + 1 .. to, vector i - 1 of gen each. */
static void add_vectors(brain_t *b, uint64_t from, uint64_t to, void (*gen)(uint64_t, float *),
                        uint32_t dims)
{
	float v[64];
	assert_true(dims <= 64);
	for (uint64_t i = from; i < to; i++) {
		gen(i, v);
		assert_int_equal(brain_add(b, i + 1, v), 0);
	}
}

static void tail_add(brain_t *b, uint64_t from, uint64_t to)
{
	add_vectors(b, from, to, tail_vector, TD);
}

/* Recall@TK over TQ queries (the vectors gen makes from qbase on) of b
 * against the exact answers of `flat`, and whether they are the same ids
 * in the same order. */
static double recall_against(brain_t *b, brain_t *flat, void (*gen)(uint64_t, float *),
                             uint32_t dims, uint64_t qbase, bool *identical)
{
	size_t hit = 0, all = 0;
	*identical = true;
	float v[64];
	assert_true(dims <= 64);
	for (uint64_t q = 0; q < TQ; q++) {
		gen(qbase + q, v);
		uint64_t a[TK], e[TK];
		float da[TK], de[TK];
		size_t na = 0, ne = 0;
		assert_int_equal(brain_search(b, v, TK, a, da, &na), 0);
		assert_int_equal(brain_search(flat, v, TK, e, de, &ne), 0);
		assert_int_equal(na, ne);
		*identical = *identical && memcmp(a, e, na * sizeof *a) == 0;
		for (size_t i = 0; i < ne; i++)
			for (size_t j = 0; j < na; j++)
				hit += e[i] == a[j];
		all += ne;
	}
	return (double)hit / (double)all;
}

static double tail_recall(brain_t *b, brain_t *flat, bool *identical)
{
	return recall_against(b, flat, tail_vector, TD, 1000000, identical);
}

/* Manual: adds leave their vectors in the tail, searched exactly (the
 * answers are the flat index's, id for id); a tick builds the graph
 * (then a walk answers, nearly as well); the tail is bounded by
 * INDEX_TAIL_MAX, and a checkpoint keeps it across a reopen. */
static void test_heart__tick_builds_the_tail(void **state)
{
	(void)state;
	char root[] = "/tmp/braincore-heart-XXXXXX", path[64];
	new_dir(root, path);
	brain_t *b = tail_brain(path, BRAIN_BACKGROUND_MANUAL);
	brain_t *flat = flat_reference(TD, BRAIN_METRIC_L2);

	tail_add(b, 0, TN);
	tail_add(flat, 0, TN);
	brain_stats st = stats_of(b);
	assert_int_equal(st.index_pending, TN);
	assert_int_equal(st.index_builds, 0);
	bool same;
	assert_true(tail_recall(b, flat, &same) == 1.0);
	assert_true(same); /* all in the tail: an exact scan */

	/* a reopen keeps the tail (the checkpoint lists it) */
	assert_int_equal(brain_close(b), 0);
	b = tail_brain(path, BRAIN_BACKGROUND_MANUAL);
	assert_int_equal(stats_of(b).index_pending, TN);
	assert_true(tail_recall(b, flat, &same) == 1.0);

	assert_int_equal(brain_tick(b), 0);
	st = stats_of(b);
	assert_int_equal(st.index_pending, 0);
	assert_true(st.index_builds > 0);
	double r = tail_recall(b, flat, &same);
	assert_true(r >= 0.9);
	char doc[2048];
	assert_true(brain_health_json(b, doc, sizeof doc) > 0);
	assert_non_null(strstr(doc, "\"index\":{\"pending\":0,"));

	/* new vectors: in the tail, each found first by itself */
	tail_add(b, TN, TN + 200);
	assert_int_equal(stats_of(b).index_pending, 200);
	for (uint64_t i = TN; i < TN + 200; i += 7) {
		float v[TD];
		tail_vector(i, v);
		uint64_t id;
		float d;
		size_t n;
		assert_int_equal(brain_search(b, v, 1, &id, &d, &n), 0);
		assert_int_equal(n, 1);
		assert_int_equal(id, i + 1);
	}
	/* forgotten while in the tail: gone, and the tail built without it */
	for (uint64_t i = TN; i < TN + 200; i += 2)
		assert_int_equal(brain_forget(b, i + 1), 0);
	assert_int_equal(brain_tick(b), 0);
	assert_int_equal(stats_of(b).index_pending, 0);
	assert_int_equal(brain_count(b), TN + 100);
	brain_check_report rep;
	assert_int_equal(brain_check_report_init(&rep, BRAIN_CHECK_REPORT_VERSION), 0);
	assert_int_equal(brain_close(b), 0);
	assert_int_equal(brain_check(path, NULL, &rep), 0);

	/* bounded: past INDEX_TAIL_MAX an add inserts its own vector */
	b = tail_brain(path, BRAIN_BACKGROUND_MANUAL);
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_INDEX_TAIL_MAX, 50), 0);
	tail_add(b, 10000, 10300);
	assert_int_equal(stats_of(b).index_pending, 50);
	assert_int_equal(brain_close(b), 0);
	assert_int_equal(brain_close(flat), 0);
	assert_int_equal(test_remove_tree(root), 0);
}

/* The named file of the brain directory `path` whose name starts with
 * `prefix` (one is expected), read whole. */
static unsigned char *read_prefixed(const char *path, const char *prefix, char *name,
                                    size_t name_size, size_t *len)
{
	DIR *d = opendir(path);
	assert_non_null(d);
	struct dirent *e;
	name[0] = '\0';
	while ((e = readdir(d)))
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			snprintf(name, name_size, "%s/%s", path, e->d_name);
	closedir(d);
	assert_true(name[0] != '\0');
	FILE *f = fopen(name, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	long n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	unsigned char *data = malloc((size_t)n);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return data;
}

/* The Watchdog's repair: the index section of a closed brain's
 * checkpoint is damaged (the graph's levels). The open rebuilds the index
 * from the stored vectors: no memory is lost, every search is the exact
 * search (all vectors wait in the tail), the log and health say so, a
 * tick builds the graph again (whose widest walk is again the exact
 * answer) and writes a whole checkpoint, which brain_check then finds
 * intact. */
static void test_heart__damaged_index_is_rebuilt(void **state)
{
	(void)state;
	char root[] = "/tmp/braincore-heart-XXXXXX", path[64];
	new_dir(root, path);
	brain_t *b = tail_brain(path, BRAIN_BACKGROUND_MANUAL);
	brain_t *flat = flat_reference(TD, BRAIN_METRIC_L2);
	tail_add(b, 0, TN);
	tail_add(flat, 0, TN);
	for (uint64_t id = 1; id <= TN; id += 9) {
		assert_int_equal(brain_forget(b, id), 0);
		assert_int_equal(brain_forget(flat, id), 0);
	}
	assert_int_equal(brain_tick(b), 0);
	assert_int_equal(stats_of(b).index_pending, 0);
	uint64_t count = brain_count(b);
	assert_int_equal(brain_close(b), 0);

	/* damage the graph's head: the levels right after the header of the
	 * index section (a page-aligned "HNSW" of version 4; its copy, at a
	 * 64 KiB boundary, comes later) */
	char name[512];
	size_t len = 0;
	unsigned char *img = read_prefixed(path, "ckpt-", name, sizeof name, &len);
	size_t at = 0;
	for (size_t o = 0; o + 8 <= len && !at; o += 4096) {
		uint32_t magic, version;
		memcpy(&magic, img + o, 4);
		memcpy(&version, img + o + 4, 4);
		if (magic == 0x57534e48u && version == 4)
			at = o;
	}
	assert_true(at > 0);
	for (size_t i = 96; i < 96 + 64; i++)
		img[at + i] ^= 0x5a;
	FILE *f = fopen(name, "r+b");
	assert_non_null(f);
	assert_int_equal(fwrite(img, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	free(img);
	brain_check_report rep;
	assert_int_equal(brain_check_report_init(&rep, BRAIN_CHECK_REPORT_VERSION), 0);
	assert_int_equal(brain_check(path, NULL, &rep), BRAIN_ECORRUPT);

	log_listen(BRAIN_LOG_WARN, "rebuilt from its stored vectors");
	b = tail_brain(path, BRAIN_BACKGROUND_MANUAL);
	assert_int_equal(log_heard(), 1);
	char doc[4096];
	assert_true(brain_health_json(b, doc, sizeof doc) > 0);
	assert_non_null(strstr(doc, "\"index_rebuilt\":true"));
	/* nothing lost: every memory, its very vector, and exact answers */
	assert_int_equal(brain_count(b), count);
	assert_int_equal(stats_of(b).index_pending, count);
	for (uint64_t id = 1; id <= TN; id++) {
		float got[TD], want[TD];
		int rc = brain_get_vector(b, id, got);
		if ((id - 1) % 9 == 0) {
			assert_int_equal(rc, BRAIN_ENOTFOUND);
			continue;
		}
		assert_int_equal(rc, 0);
		tail_vector(id - 1, want);
		assert_memory_equal(got, want, sizeof got);
	}
	bool same;
	assert_true(tail_recall(b, flat, &same) == 1.0);
	assert_true(same);
	/* a tick builds the graph again and writes a whole checkpoint */
	assert_int_equal(brain_tick(b), 0);
	assert_int_equal(stats_of(b).index_pending, 0);
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_HNSW_EF_SEARCH, TN), 0);
	assert_true(tail_recall(b, flat, &same) == 1.0);
	assert_true(same);
	assert_int_equal(brain_close(b), 0);
	brain_set_log(NULL, NULL);
	assert_int_equal(brain_check(path, NULL, &rep), 0);
	b = tail_brain(path, BRAIN_BACKGROUND_MANUAL);
	assert_true(brain_health_json(b, doc, sizeof doc) > 0);
	assert_non_null(strstr(doc, "\"index_rebuilt\":false"));
	assert_int_equal(brain_count(b), count);
	assert_int_equal(brain_close(b), 0);
	assert_int_equal(brain_close(flat), 0);
	assert_int_equal(test_remove_tree(root), 0);
}

/* Threads: the Heart's worker builds the tail by itself, in memory too. */
static void test_heart__background_builds_the_tail(void **state)
{
	(void)state;
	brain_t *b = tail_brain(NULL, BRAIN_BACKGROUND_THREADS);
	tail_add(b, 0, TN);
	bool built = false;
	for (int tries = 0; tries < 3000 && !built; tries++) {
		built = stats_of(b).index_pending == 0;
		if (!built)
			sleep_ms(10);
	}
	assert_true(built);
	assert_true(stats_of(b).index_builds > 0);
	assert_int_equal(brain_close(b), 0);
}

/* Close is prompt: with a long tail to build and writes queued, a close
 * makes the queued writes and saves the tail as it is (the reopened brain
 * still has it to build) rather than building it first. */
static void test_heart__close_is_prompt(void **state)
{
	(void)state;
	char root[] = "/tmp/braincore-heart-XXXXXX", path[64];
	new_dir(root, path);
	enum { N = 12000 };
	brain_t *b = tail_brain(path, BRAIN_BACKGROUND_THREADS);
	/* a slow build (half a second here), so that the close comes first */
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_HNSW_EF_CONSTRUCTION, 400), 0);
	tail_add(b, 0, N);
	float v[TD];
	for (uint64_t i = N; i < N + 200; i++) {
		tail_vector(i, v);
		assert_int_equal(brain_add_async(b, i + 1, v), 0);
	}
	assert_true(stats_of(b).index_pending > 0);
	assert_int_equal(brain_close(b), 0);
	/* nothing lost: the queued writes made, the tail kept to be built */
	b = tail_brain(path, BRAIN_BACKGROUND_MANUAL);
	assert_int_equal(brain_count(b), N + 200);
	assert_true(stats_of(b).index_pending > 0);
	assert_int_equal(brain_close(b), 0);
	assert_int_equal(test_remove_tree(root), 0);
}

/* A new on-disk text brain (built-in embedder) in a new directory under
 * root (a mkdtemp template), ticked by hand; *o: its options. */
static brain_t *manual_text_brain(char *root, char path[64], brain_options *o)
{
	new_dir(root, path);
	brain_options_init(o, BRAIN_OPTIONS_VERSION);
	o->background = BRAIN_BACKGROUND_MANUAL;
	brain_t *b = NULL;
	assert_int_equal(brain_open(path, o, &b), 0);
	return b;
}

/* The same with a Circadian cycle at every tick that consolidates. */
static brain_t *consolidating_brain(char *root, char path[64], brain_options *o)
{
	brain_t *b = manual_text_brain(root, path, o);
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_CIRCADIAN_MS, 0), 0);
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_CONSOLIDATE_WORKING, 1), 0);
	return b;
}

/* The Watchdog reports damage found at run time: a text in a closed
 * brain's checkpoint is damaged; the open (which checks texts on first
 * use) succeeds, reading that memory fails with BRAIN_ECORRUPT, the log
 * hears it once and health counts each failure; memories whose texts lie
 * in other checksum blocks are read. */
static void test_heart__watchdog_reports_damage_at_run_time(void **state)
{
	(void)state;
	char root[] = "/tmp/braincore-heart-XXXXXX", path[64];
	brain_options o;
	brain_t *b = manual_text_brain(root, path, &o);
	uint64_t hurt = 0, fine = 0;
	assert_int_equal(brain_remember_ex(b, "Quetzalcoatlus was a pterosaur as tall as a giraffe",
	                                   NULL, 0.5f, &hurt), 0);
	/* texts are checked in 64 KiB blocks: this one lies blocks further */
	for (int i = 0; i < 1500; i++) {
		char filler[96];
		snprintf(filler, sizeof filler, "filler number %d keeps the next text in a later "
		         "checksum block", i);
		assert_int_equal(brain_remember(b, filler, 0.5f), 0);
	}
	assert_int_equal(brain_remember_ex(b, "The kettle boils faster with the lid on", NULL,
	                                   0.5f, &fine), 0);
	assert_int_equal(brain_close(b), 0);
	char name[512];
	size_t len = 0;
	unsigned char *img = read_prefixed(path, "ckpt-", name, sizeof name, &len);
	const char *needle = "Quetzalcoatlus";
	size_t at = 0;
	for (size_t i = 0; i + strlen(needle) <= len && !at; i++)
		if (memcmp(img + i, needle, strlen(needle)) == 0)
			at = i;
	assert_true(at > 0);
	img[at + 3] ^= 0x20;
	FILE *f = fopen(name, "r+b");
	assert_non_null(f);
	assert_int_equal(fwrite(img, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	free(img);

	log_listen(BRAIN_LOG_ERROR, "checksum failure");
	assert_int_equal(brain_open(path, &o, &b), 0);
	brain_results *r = NULL;
	assert_int_equal(brain_get(b, hurt, &r), BRAIN_ECORRUPT);
	assert_int_equal(brain_get(b, hurt, &r), BRAIN_ECORRUPT);
	assert_int_equal(brain_get(b, fine, &r), 0);
	brain_results_free(r);
	assert_int_equal(log_heard(), 1);
	char doc[4096];
	assert_true(brain_health_json(b, doc, sizeof doc) > 0);
	assert_non_null(strstr(doc, "\"checksum_failures\":2,"));
	brain_set_log(NULL, NULL);
	assert_int_equal(brain_close(b), 0);
	assert_int_equal(test_remove_tree(root), 0);
}

/* ---- the Circadian ------------------------------------------------------ */

/* Asked to keep at most FORGET_OVER memories, a cycle forgets the least
 * valuable (lowest importance) through logged forgets; not asked, it
 * forgets nothing. Ticks drive it. */
static void test_heart__circadian_forgets_only_when_asked(void **state)
{
	(void)state;
	char root[] = "/tmp/braincore-heart-XXXXXX";
	char path[64];
	brain_options o;
	brain_t *b = manual_text_brain(root, path, &o);
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_CIRCADIAN_MS, 0), 0);
	char text[128];
	for (int i = 0; i < 80; i++) {
		snprintf(text, sizeof text, "Circadian note %d about the %d-th migrating goose.", i, i);
		assert_int_equal(brain_remember(b, text, (float)((i * 37) % 80) / 80.0f), 0);
	}
	assert_int_equal(brain_tick(b), 0);
	assert_int_equal(brain_count(b), 80); /* not asked: nothing forgotten */
	brain_stats st = stats_of(b);
	assert_true(st.circadian_cycles >= 1);
	assert_int_equal(st.circadian_forgotten, 0);
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_FORGET_OVER, 50), 0);
	assert_int_equal(brain_tick(b), 0);
	assert_int_equal(brain_count(b), 50);
	assert_int_equal(stats_of(b).circadian_forgotten, 30);
	/* the 30 least important went: importance (i * 37 % 80) / 80 < 30/80 */
	brain_results *r = NULL;
	for (int i = 0; i < 80; i++) {
		snprintf(text, sizeof text, "Circadian note %d about the %d-th migrating goose.", i, i);
		assert_int_equal(brain_recall_results(b, text, 1, &r), 0);
		bool kept = brain_results_count(r) == 1 && strcmp(brain_results_text(r, 0), text) == 0;
		assert_int_equal(kept, (i * 37) % 80 >= 30);
		brain_results_free(r);
	}
	char doc[4096];
	assert_true(brain_health_json(b, doc, sizeof doc) > 0);
	assert_non_null(strstr(doc, "\"circadian\":{\"cycles\":"));
	/* logged: a reopen has the same 50 */
	assert_int_equal(brain_close(b), 0);
	assert_int_equal(brain_open(path, &o, &b), 0);
	assert_int_equal(brain_count(b), 50);
	assert_int_equal(brain_close(b), 0);
	assert_int_equal(test_remove_tree(root), 0);
}

/* FORGET_ON_PRESSURE: at critical pressure a cycle forgets the least
 * valuable 1%, but only again once new memories came in: forgetting gives
 * no heap back, so the pressure stays, and the brain must not be eaten
 * away cycle after cycle. */
static void test_heart__pressure_forgets_once_per_growth(void **state)
{
	(void)state;
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.dimensions = 16;
	o.embedder = BRAIN_EMBEDDER_NONE;
	o.background = BRAIN_BACKGROUND_MANUAL;
	brain_t *b = NULL;
	assert_int_equal(brain_open(NULL, &o, &b), 0);
	float v[16];
	for (uint64_t id = 1; id <= 3000; id++) {
		for (int d = 0; d < 16; d++)
			v[d] = (float)((id * 13 + (uint64_t)d) % 29);
		assert_int_equal(brain_add(b, id, v), 0);
	}
	brain_stats st = stats_of(b);
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_MEMORY_BUDGET,
	                                 (int64_t)(st.heap_bytes + st.heap_bytes / 50)),
	                 0);
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_FORGET_ON_PRESSURE, 1), 0);
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_CIRCADIAN_MS, 0), 0);
	assert_int_equal(stats_of(b).memory_pressure, 2);
	assert_int_equal(brain_tick(b), 0);
	uint64_t after = brain_count(b);
	assert_int_equal(after, 3000 - 31); /* 1% + 1 */
	for (int i = 0; i < 300; i++)
		assert_int_equal(brain_tick(b), 0);
	assert_int_equal(brain_count(b), after); /* not eaten away */
	/* new memories (into the room left): the next cycle forgets again */
	for (uint64_t id = 5001; id <= 5010; id++) {
		for (int d = 0; d < 16; d++)
			v[d] = (float)((id * 7 + (uint64_t)d) % 31);
		assert_int_equal(brain_add(b, id, v), 0);
	}
	assert_int_equal(brain_tick(b), 0);
	assert_true(brain_count(b) < after + 10);
	assert_int_equal(brain_close(b), 0);
}

/* MERGE_SIMILAR: a remembered near-copy strengthens the memory there
 * (importance m + (1 - m) / 4) instead of adding a copy, through a logged
 * change that a reopen replays; off by default. */
static void test_heart__near_copies_strengthen_when_asked(void **state)
{
	(void)state;
	char root[] = "/tmp/braincore-heart-XXXXXX";
	char path[64];
	brain_options o;
	brain_t *b = manual_text_brain(root, path, &o);
	const char *fact = "The lighthouse at Hook Head is the oldest working one in Ireland.";
	brain_id a = 0, c = 0, d = 0;
	assert_int_equal(brain_remember_ex(b, fact, NULL, 0.4f, &a), 0);
	assert_int_equal(brain_remember_ex(b, fact, NULL, 0.2f, &c), 0);
	assert_true(c != a); /* off by default: a copy */
	assert_int_equal(brain_forget(b, c), 0);
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_MERGE_SIMILAR, 950), 0);
	assert_int_equal(brain_remember_ex(b, fact, NULL, 0.2f, &c), 0);
	assert_int_equal(c, a);
	assert_int_equal(brain_count(b), 1);
	brain_results *r = NULL;
	assert_int_equal(brain_get(b, a, &r), 0);
	assert_true(fabsf(brain_results_importance(r, 0) - 0.55f) < 1e-6f);
	brain_results_free(r);
	/* something else is stored */
	assert_int_equal(brain_remember_ex(b, "Penguins cannot fly but swim well.", NULL, 0.5f, &d),
	                 0);
	assert_true(d != a);
	assert_int_equal(brain_count(b), 2);
	/* the log has it (no checkpoint: closed without one is a crash here,
	 * so copy the directory as it is before closing) */
	assert_int_equal(brain_sync(b), 0);
	char copy[80];
	snprintf(copy, sizeof copy, "%s/c", root);
	char cmd[256];
	snprintf(cmd, sizeof cmd, "cp -r %s %s", path, copy);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(brain_close(b), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(brain_open(i ? copy : path, &o, &b), 0);
		assert_int_equal(brain_count(b), 2);
		assert_int_equal(brain_get(b, a, &r), 0);
		assert_true(fabsf(brain_results_importance(r, 0) - 0.55f) < 1e-6f);
		brain_results_free(r);
		assert_int_equal(brain_close(b), 0);
	}
	assert_int_equal(test_remove_tree(root), 0);
}

/* ---- consolidating working memory --------------------------------------- */

/* A think, whose input working memory keeps. */
static void say(brain_t *b, const char *input)
{
	char out[2048];
	assert_true(brain_think(b, input, out, sizeof out) > 0);
}

/* Whether the best memory recalled for `query` holds exactly `text`. */
static bool recalls(brain_t *b, const char *query, const char *text)
{
	brain_results *r = NULL;
	assert_int_equal(brain_recall_results(b, query, 1, &r), 0);
	bool found = brain_results_count(r) == 1 && strcmp(brain_results_text(r, 0), text) == 0;
	brain_results_free(r);
	return found;
}

/* Whether any memory holds exactly `text` (the 10 nearest to it). */
static bool holds(brain_t *b, const char *text)
{
	brain_results *r = NULL;
	assert_int_equal(brain_recall_results(b, text, 10, &r), 0);
	bool found = false;
	for (size_t i = 0; i < brain_results_count(r); i++)
		found |= strcmp(brain_results_text(r, i), text) == 0;
	brain_results_free(r);
	return found;
}

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *const g_statements[] = {
	"The lighthouse at Hook Head was built by monks in the twelfth century.",
	"Emperor penguins breed in the middle of the Antarctic winter.  ",
	"My sister Ana moved to Lisbon last spring to teach mathematics.",
};
static const char *const g_questions[] = {
	"Where do emperor penguins breed?",
	"   who built the lighthouse at Hook Head ?  \n",
	/* (one string: the hex escapes end where the next literal starts) */
	("\xC2\xBF" "Cu\xC3\xA1ndo se mud\xC3\xB3 Ana a Lisboa\xEF\xBC\x9F"), /* full-width '?' */
};

/* Off by default: thinks and cycles add no memory; nothing a user did not
 * ask for enters long-term memory. */
static void test_heart__consolidation_off_by_default(void **state)
{
	(void)state;
	char root[] = "/tmp/braincore-heart-XXXXXX";
	char path[64];
	brain_options o;
	brain_t *b = manual_text_brain(root, path, &o);
	int64_t on = -1;
	assert_int_equal(brain_get_param(b, BRAIN_PARAM_CONSOLIDATE_WORKING, &on), 0);
	assert_int_equal(on, 0);
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_CIRCADIAN_MS, 0), 0);
	assert_int_equal(brain_remember(b, "Otters hold hands while they sleep.", 0.5f), 0);
	for (size_t i = 0; i < NELEM(g_statements); i++)
		say(b, g_statements[i]);
	for (int i = 0; i < 3; i++)
		assert_int_equal(brain_tick(b), 0);
	assert_int_equal(brain_count(b), 1);
	brain_stats st = stats_of(b);
	assert_true(st.circadian_cycles >= 3); /* the cycles ran */
	assert_int_equal(st.circadian_consolidated, 0);
	assert_int_equal(brain_close(b), 0);
	assert_int_equal(test_remove_tree(root), 0);
}

/* On: a cycle remembers each statement think was told, once, as a memory
 * another wording recalls; questions are not remembered; what was said
 * after a cycle comes in at the next. Logged: a copy of the directory
 * taken before closing (the log, no checkpoint) has them, and so does a
 * reopen. */
static void test_heart__consolidation_remembers_statements_once(void **state)
{
	(void)state;
	char root[] = "/tmp/braincore-heart-XXXXXX";
	char path[64];
	brain_options o;
	brain_t *b = consolidating_brain(root, path, &o);
	for (size_t i = 0; i < NELEM(g_questions); i++) {
		say(b, g_statements[i]);
		say(b, g_questions[i]);
	}
	assert_int_equal(brain_count(b), 0); /* not before a cycle */
	for (int i = 0; i < 4; i++)
		assert_int_equal(brain_tick(b), 0);
	assert_int_equal(brain_count(b), 3); /* each once, over several cycles */
	assert_true(recalls(b, "When was the Hook Head lighthouse built, and by whom?", g_statements[0]));
	assert_true(recalls(b, "penguins breeding in Antarctica", g_statements[1]));
	assert_true(recalls(b, "Ana teaches maths in Lisbon", g_statements[2]));
	for (size_t i = 0; i < NELEM(g_questions); i++)
		assert_false(holds(b, g_questions[i]));
	brain_results *r = NULL;
	assert_int_equal(brain_recall_results(b, g_statements[2], 1, &r), 0);
	assert_true(fabsf(brain_results_importance(r, 0) - 0.5f) < 1e-6f);
	brain_results_free(r);
	/* said after the cycle: at the next one, and only that */
	say(b, "The ferry to Inis Mor leaves Rossaveel at half past ten.");
	say(b, "Is the ferry late?");
	assert_int_equal(brain_tick(b), 0);
	assert_int_equal(brain_tick(b), 0);
	assert_int_equal(brain_count(b), 4);
	assert_true(recalls(b, "When does the ferry leave Rossaveel?",
	                    "The ferry to Inis Mor leaves Rossaveel at half past ten."));
	brain_stats st = stats_of(b);
	assert_int_equal(st.circadian_consolidated, 4);
	char doc[4096];
	assert_true(brain_health_json(b, doc, sizeof doc) > 0);
	assert_non_null(strstr(doc, "\"forgotten\":0,\"consolidated\":4,"));
	/* a version-4 stats struct is filled only so far */
	memset(&st, 0xAB, sizeof st);
	assert_int_equal(brain_stats_init(&st, 4), 0);
	assert_int_equal(brain_get_stats(b, &st), 0);
	assert_true(st.circadian_cycles >= 6);
	const unsigned char *tail = (const unsigned char *)&st.circadian_consolidated;
	for (size_t i = 0; i < sizeof st - offsetof(brain_stats, circadian_consolidated); i++)
		assert_int_equal(tail[i], 0xAB);
	/* in the log: the directory as it is before closing */
	assert_int_equal(brain_sync(b), 0);
	char copy[80];
	snprintf(copy, sizeof copy, "%s/c", root);
	char cmd[256];
	snprintf(cmd, sizeof cmd, "cp -r %s %s", path, copy);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(brain_close(b), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(brain_open(i ? copy : path, &o, &b), 0);
		assert_int_equal(brain_count(b), 4);
		assert_true(recalls(b, "penguins breeding in Antarctica", g_statements[1]));
		assert_int_equal(brain_close(b), 0);
	}
	/* read-only: no cycle changes it */
	o.flags |= BRAIN_OPEN_READONLY;
	assert_int_equal(brain_open(path, &o, &b), 0);
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_CIRCADIAN_MS, 0), 0);
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_CONSOLIDATE_WORKING, 1), 0);
	say(b, "Read-only brains learn nothing from what they are told.");
	assert_int_equal(brain_tick(b), 0);
	assert_int_equal(brain_count(b), 4);
	assert_int_equal(brain_close(b), 0);
	assert_int_equal(test_remove_tree(root), 0);
}

/* With MERGE_SIMILAR, a statement nearly the same as a memory strengthens
 * it (importance m + (1 - m) / 4, m = max(0.4, 0.5)) instead of adding a
 * copy; a new one is still stored. */
static void test_heart__consolidation_merges_near_copies(void **state)
{
	(void)state;
	char root[] = "/tmp/braincore-heart-XXXXXX";
	char path[64];
	brain_options o;
	brain_t *b = manual_text_brain(root, path, &o);
	const char *fact = "The lighthouse at Hook Head is the oldest working one in Ireland.";
	brain_id a = 0;
	assert_int_equal(brain_remember_ex(b, fact, NULL, 0.4f, &a), 0);
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_CIRCADIAN_MS, 0), 0);
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_CONSOLIDATE_WORKING, 1), 0);
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_MERGE_SIMILAR, 900), 0);
	say(b, "the lighthouse at Hook Head is the oldest working one in Ireland!");
	say(b, "The lighthouse on Hook Head is the oldest working one in Ireland.");
	say(b, "Gannets dive into the sea from thirty metres.");
	assert_int_equal(brain_tick(b), 0);
	assert_int_equal(brain_count(b), 2); /* the lighthouse once, the gannets */
	brain_results *r = NULL;
	assert_int_equal(brain_get(b, a, &r), 0);
	float m = 0.5f + 0.5f / 4.0f; /* then strengthened again by the second */
	assert_true(fabsf(brain_results_importance(r, 0) - (m + (1.0f - m) / 4.0f)) < 1e-6f);
	assert_string_equal(brain_results_text(r, 0), fact);
	brain_results_free(r);
	assert_true(holds(b, "Gannets dive into the sea from thirty metres."));
	assert_int_equal(stats_of(b).circadian_consolidated, 3);
	assert_int_equal(brain_close(b), 0);
	assert_int_equal(test_remove_tree(root), 0);
}

/* Working memory keeps WORKING_MEMORY_SIZE exchanges: what it let go of
 * before a cycle is not consolidated; what it holds is, once. */
static void test_heart__consolidation_takes_what_the_ring_holds(void **state)
{
	(void)state;
	char root[] = "/tmp/braincore-heart-XXXXXX";
	char path[64];
	brain_options o;
	brain_t *b = consolidating_brain(root, path, &o);
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_WORKING_MEMORY_SIZE, 2), 0);
	char text[5][128];
	for (int i = 0; i < 5; i++) {
		snprintf(text[i], sizeof text[i], "Harbour log %d: the %s boat came in at dawn.", i,
		         (const char *[]){"red", "blue", "green", "yellow", "white"}[i]);
		say(b, text[i]);
	}
	assert_int_equal(brain_tick(b), 0);
	assert_int_equal(brain_count(b), 2);
	for (int i = 0; i < 5; i++)
		assert_int_equal(holds(b, text[i]), i >= 3);
	/* one more: the ring holds it and text[4], consolidated already */
	say(b, "Harbour log 5: the black boat stayed out all night.");
	assert_int_equal(brain_tick(b), 0);
	assert_int_equal(brain_count(b), 3);
	assert_true(holds(b, "Harbour log 5: the black boat stayed out all night."));
	/* 0 keeps nothing, so nothing is consolidated */
	say(b, "Harbour log 6: the grey boat needs a new mast.");
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_WORKING_MEMORY_SIZE, 0), 0);
	assert_int_equal(brain_tick(b), 0);
	assert_int_equal(brain_count(b), 3);
	assert_int_equal(brain_close(b), 0);
	assert_int_equal(test_remove_tree(root), 0);
}

/* A brain at its memory budget refuses the statements (BRAIN_EFULL, a
 * passing failure): the tick still succeeds, each cycle says so once, and
 * the statements wait in working memory until the budget is raised. */
static void test_heart__consolidation_waits_out_a_full_budget(void **state)
{
	(void)state;
	log_listen(BRAIN_LOG_WARN, "working memory");
	char root[] = "/tmp/braincore-heart-XXXXXX";
	char path[64];
	brain_options o;
	brain_t *b = consolidating_brain(root, path, &o);
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_MEMORY_BUDGET, 1), 0);
	for (size_t i = 0; i < NELEM(g_statements); i++)
		say(b, g_statements[i]);
	assert_int_equal(brain_tick(b), 0);
	assert_int_equal(brain_count(b), 0);
	assert_int_equal(log_heard(), 1); /* once for the three */
	assert_int_equal(brain_tick(b), 0);
	assert_int_equal(log_heard(), 2);
	assert_int_equal(stats_of(b).circadian_consolidated, 0);
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_MEMORY_BUDGET, 0), 0);
	assert_int_equal(brain_tick(b), 0);
	assert_int_equal(brain_count(b), 3);
	assert_int_equal(log_heard(), 2);
	assert_true(recalls(b, "penguins breeding in Antarctica", g_statements[1]));
	assert_int_equal(brain_tick(b), 0);
	assert_int_equal(brain_count(b), 3);
	brain_set_log(NULL, NULL);
	assert_int_equal(brain_close(b), 0);
	assert_int_equal(test_remove_tree(root), 0);
}

/* ---- the Watchdog ------------------------------------------------------- */

static atomic_int g_release;     /* the slow embedder returns once set */

static int slow_embedder(const char *text, size_t len, float *v, size_t dims, void *payload)
{
	(void)text;
	(void)payload;
	/* the probe at brain_set_embedder does not wait */
	bool probe = strncmp(text, "braincore", 9) == 0;
	for (int ms = 0; !probe && !atomic_load(&g_release) && ms < 20000; ms++)
		sleep_ms(1);
	for (size_t i = 0; i < dims; i++)
		v[i] = (float)(i % 7) + (float)len;
	return (int)dims;
}

/* A job stuck in a slow embedder is reported (log, health) once it has run
 * WATCHDOG_MS, and a spare worker makes another brain's queued writes
 * meanwhile; released, the stuck write is made. */
static void test_heart__watchdog_reports_a_stall(void **state)
{
	(void)state;
	atomic_store(&g_release, 0);
	log_listen(BRAIN_LOG_WARN, "watchdog");
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.dimensions = 16;
	o.embedder = BRAIN_EMBEDDER_NONE;
	brain_t *slow = NULL, *other = NULL;
	assert_int_equal(brain_open(NULL, &o, &slow), 0);
	assert_int_equal(brain_open(NULL, &o, &other), 0);
	assert_int_equal(brain_set_param(slow, BRAIN_PARAM_WATCHDOG_MS, 100), 0);
	assert_int_equal(brain_set_embedder(slow, slow_embedder, NULL), 0);
	assert_int_equal(brain_remember_async(slow, "a text the embedder sits on", 0.5f), 0);
	bool stalled = false;
	for (int i = 0; i < 2000 && !stalled; i++) {
		char doc[4096];
		assert_true(brain_health_json(slow, doc, sizeof doc) > 0);
		stalled = strstr(doc, "\"watchdog\":{\"stalls\":1,") != NULL;
		if (!stalled)
			sleep_ms(5);
	}
	assert_true(stalled);
	assert_true(log_heard() >= 1);
	/* the other brain's queued writes are made while the first job is stuck */
	float v[16] = {1.0f};
	for (uint64_t id = 1; id <= 10; id++) {
		v[1] = (float)id;
		assert_int_equal(brain_add_async(other, id, v), 0);
	}
	bool made = false;
	for (int i = 0; i < 2000 && !made; i++) {
		made = stats_of(other).ingest_queued == 0;
		if (!made)
			sleep_ms(5);
	}
	assert_true(made);
	assert_int_equal(brain_count(other), 10);
	assert_int_equal(brain_count(slow), 0); /* still stuck */
	atomic_store(&g_release, 1);
	assert_int_equal(brain_flush(slow), 0);
	assert_int_equal(brain_count(slow), 1);
	assert_int_equal(brain_close(slow), 0);
	assert_int_equal(brain_close(other), 0);
	brain_set_log(NULL, NULL);
}

static brain_io g_slow_io;      /* the POSIX io whose fsync (g_hold) or pwrite
                                   (g_hold_write) waits while set */
static atomic_int g_hold, g_hold_write;
static atomic_int g_held;       /* a call is waiting */

static int slow_fsync(brain_io_file *f)
{
	while (atomic_load(&g_hold)) {
		atomic_store(&g_held, 1);
		sleep_ms(5);
	}
	return brain_io_posix()->fsync(f);
}

static int slow_pwrite(brain_io_file *f, const void *buf, size_t len, uint64_t off)
{
	while (atomic_load(&g_hold_write)) {
		atomic_store(&g_held, 1);
		sleep_ms(5);
	}
	return brain_io_posix()->pwrite(f, buf, len, off);
}

static void *checkpoint_main(void *arg)
{
	return (void *)(intptr_t)brain_checkpoint(arg);
}

static void *add_main(void *arg)
{
	float v[8] = {9, 9, 9, 9, 9, 9, 9, 9};
	return (void *)(intptr_t)brain_add(arg, 999, v);
}

static brain_t *slow_brain(char *root, char path[64], int background, int sync)
{
	new_dir(root, path);
	g_slow_io = *brain_io_posix();
	g_slow_io.fsync = slow_fsync;
	g_slow_io.pwrite = slow_pwrite;
	atomic_store(&g_hold, 0);
	atomic_store(&g_hold_write, 0);
	atomic_store(&g_held, 0);
	brain_options o = opts(background);
	o.sync = sync;
	o.io = &g_slow_io;
	brain_t *b = NULL;
	assert_int_equal(brain_open(path, &o, &b), 0);
	return b;
}

/* The Watchdog sees a lock held too long: a change whose disk hangs in
 * its log write holds the writers' gate; it is reported once through the
 * log and health ("gate_held"), and the brain goes on once the disk
 * does. */
static void test_heart__watchdog_reports_a_held_gate(void **state)
{
	(void)state;
	char root[] = "/tmp/braincore-heart-XXXXXX", path[64];
	/* NORMAL: its fsyncs hang too, on the worker, never on the clock's
	 * thread the Watchdog runs on */
	brain_t *b = slow_brain(root, path, BRAIN_BACKGROUND_THREADS, BRAIN_SYNC_NORMAL);
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_WATCHDOG_MS, 100), 0);
	add_some(b, 1, 10);
	log_listen(BRAIN_LOG_WARN, "writers' gate");
	atomic_store(&g_hold_write, 1);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, add_main, b), 0);
	bool seen = false;
	for (int i = 0; i < 2000 && !seen; i++) {
		char doc[4096];
		assert_true(brain_health_json(b, doc, sizeof doc) > 0);
		seen = strstr(doc, "\"gate_held\":1,") != NULL;
		if (!seen)
			sleep_ms(5);
	}
	assert_true(atomic_load(&g_held));
	atomic_store(&g_hold_write, 0);
	void *ret = NULL;
	assert_int_equal(pthread_join(t, &ret), 0);
	assert_int_equal((int)(intptr_t)ret, 0);
	assert_true(seen);
	assert_int_equal(log_heard(), 1);
	add_some(b, 11, 10);
	assert_int_equal(brain_count(b), 21);
	brain_set_log(NULL, NULL);
	assert_int_equal(brain_close(b), 0);
	assert_int_equal(test_remove_tree(root), 0);
}

/* Copy the files of brain directory `from` into a new directory `to`
 * (what a crash would leave: the files as written). */
static void copy_dir(const char *from, const char *to)
{
	assert_int_equal(mkdir(to, 0700), 0);
	DIR *d = opendir(from);
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char a[512], b[512];
		snprintf(a, sizeof a, "%s/%s", from, e->d_name);
		snprintf(b, sizeof b, "%s/%s", to, e->d_name);
		FILE *in = fopen(a, "rb"), *out = fopen(b, "wb");
		assert_non_null(in);
		assert_non_null(out);
		char buf[65536];
		size_t n;
		while ((n = fread(buf, 1, sizeof buf, in)) > 0)
			assert_int_equal(fwrite(buf, 1, n, out), n);
		fclose(in);
		assert_int_equal(fclose(out), 0);
	}
	closedir(d);
}

/* Writers go on during a checkpoint: it holds them off only while it
 * notes the brain (the organs' state, the index frozen); its files are
 * written and fsynced while adds, forgets and moves go on. Here the disk
 * hangs in the checkpoint's first fsync, and a writer still adds, forgets
 * and moves vectors and searches find them. The checkpoint then commits;
 * a copy of the directory taken then (a crash) opens with every change,
 * those made during the checkpoint coming from the new log, and answers
 * exactly as a flat index of the same vectors. */
static void test_heart__writers_go_on_during_a_checkpoint(void **state)
{
	(void)state;
	char root[] = "/tmp/braincore-heart-XXXXXX", path[64];
	/* (sync OFF: the ticks below make no fsync of their own, which this
	 * disk would hold too) */
	brain_t *b = slow_brain(root, path, BRAIN_BACKGROUND_MANUAL, BRAIN_SYNC_OFF);
	brain_t *flat = flat_reference(8, BRAIN_METRIC_COSINE);
	float v[8];
	for (uint64_t id = 1; id <= 3000; id++) {
		for (int d = 0; d < 8; d++)
			v[d] = (float)((id * 2654435761u >> (d * 3)) % 1000) / 100.0f;
		assert_int_equal(brain_add(b, id, v), 0);
		assert_int_equal(brain_add(flat, id, v), 0);
	}
	assert_int_equal(brain_tick(b), 0); /* the graph built */
	atomic_store(&g_hold, 1);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, checkpoint_main, b), 0);
	for (int i = 0; i < 4000 && !atomic_load(&g_held); i++)
		sleep_ms(1);
	assert_true(atomic_load(&g_held)); /* the checkpoint waits on the disk */
	/* meanwhile: adds, forgets, moved vectors, and searches that see them */
	for (uint64_t id = 3001; id <= 3300; id++) {
		for (int d = 0; d < 8; d++)
			v[d] = (float)((id * 40503u >> (d * 2)) % 1000) / 100.0f;
		assert_int_equal(brain_add(b, id, v), 0);
		assert_int_equal(brain_add(flat, id, v), 0);
		uint64_t got = 0;
		float dist;
		size_t n = 0;
		assert_int_equal(brain_search(b, v, 1, &got, &dist, &n), 0);
		assert_true(n == 1 && dist < 1e-5f);
	}
	for (uint64_t id = 1; id <= 300; id += 3) {
		assert_int_equal(brain_forget(b, id), 0);
		assert_int_equal(brain_forget(flat, id), 0);
	}
	for (uint64_t id = 1000; id < 1100; id++) {
		for (int d = 0; d < 8; d++)
			v[d] = (float)((id * 7919u >> d) % 1000) / 100.0f;
		assert_int_equal(brain_update_vector(b, id, v), 0);
		assert_int_equal(brain_update_vector(flat, id, v), 0);
	}
	assert_int_equal(brain_tick(b), 0); /* builds the new vectors in, beside it */
	assert_true(atomic_load(&g_hold)); /* all while the checkpoint waited */
	atomic_store(&g_hold, 0);
	void *ret = NULL;
	assert_int_equal(pthread_join(t, &ret), 0);
	assert_int_equal((int)(intptr_t)ret, 0);

	char copy[80];
	snprintf(copy, sizeof copy, "%s/copy", root);
	copy_dir(path, copy);
	brain_options o = opts(BRAIN_BACKGROUND_MANUAL);
	brain_t *c = NULL;
	assert_int_equal(brain_open(copy, &o, &c), 0);
	assert_int_equal(brain_count(c), brain_count(flat));
	assert_int_equal(brain_set_param(c, BRAIN_PARAM_HNSW_EF_SEARCH, 4000), 0);
	for (uint64_t id = 1; id <= 3300; id++) {
		float a[8], e[8];
		int rc = brain_get_vector(flat, id, e);
		assert_int_equal(brain_get_vector(c, id, a), rc);
		if (rc == 0)
			assert_memory_equal(a, e, sizeof a);
	}
	for (uint64_t q = 0; q < 50; q++) {
		for (int d = 0; d < 8; d++)
			v[d] = (float)((q * 97u + (uint64_t)d * 31u) % 1000) / 100.0f;
		uint64_t ga[5], ge[5];
		float da[5], de[5];
		size_t na = 0, ne = 0;
		assert_int_equal(brain_search(c, v, 5, ga, da, &na), 0);
		assert_int_equal(brain_search(flat, v, 5, ge, de, &ne), 0);
		assert_int_equal(na, ne);
		assert_memory_equal(da, de, na * sizeof *da);
	}
	assert_int_equal(brain_close(c), 0);
	assert_int_equal(brain_close(b), 0);
	assert_int_equal(brain_close(flat), 0);
	assert_int_equal(test_remove_tree(root), 0);
}



/* BACKGROUND_NICE: the graph of the tail is built by threads whose nice
 * value is raised by it (Linux), while the caller's thread stays as it
 * was. A tick builds on another thread; this one samples the nice values
 * of the process's threads (/proc/self/task/N/stat, field 19) until the
 * tick returns. */
static atomic_int g_ticked, g_tick_rc;

static void *tick_main(void *arg)
{
	atomic_store(&g_tick_rc, brain_tick(arg));
	atomic_store(&g_ticked, 1);
	return NULL;
}

static bool a_thread_has_nice(long want)
{
	bool seen = false;
	DIR *d = opendir("/proc/self/task");
	if (!d)
		return false;
	struct dirent *e;
	while (!seen && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char p[320], line[1024];
		snprintf(p, sizeof p, "/proc/self/task/%s/stat", e->d_name);
		FILE *f = fopen(p, "r");
		if (!f)
			continue; /* gone meanwhile */
		size_t n = fread(line, 1, sizeof line - 1, f);
		fclose(f);
		line[n] = 0;
		/* after the ")" closing the name: state is field 3, nice 19 */
		char *at = strrchr(line, ')');
		long field = 2, value = 0;
		for (char *t = at ? strtok(at + 1, " ") : NULL; t; t = strtok(NULL, " ")) {
			if (++field == 19) {
				value = strtol(t, NULL, 10);
				break;
			}
		}
		seen = field == 19 && value == want;
	}
	closedir(d);
	return seen;
}

static void test_heart__background_build_runs_niced(void **state)
{
	(void)state;
#ifndef __linux__
	skip(); /* the nice value is the process's elsewhere: not used */
#else
	errno = 0;
	int base = getpriority(PRIO_PROCESS, 0);
	if ((base == -1 && errno) || base >= 19)
		skip(); /* cannot tell a raised value from this one */
	long want = base + 7 > 19 ? 19 : base + 7;
	brain_t *b = tail_brain(NULL, BRAIN_BACKGROUND_MANUAL);
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_BACKGROUND_NICE, 7), 0);
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_INDEX_TAIL_MAX, 100000), 0);
	tail_add(b, 0, 30000);
	assert_false(a_thread_has_nice(want));
	atomic_store(&g_ticked, 0);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, tick_main, b), 0);
	bool seen = false;
	while (!seen && !atomic_load(&g_ticked)) {
		seen = a_thread_has_nice(want);
		sleep_ms(1);
	}
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(atomic_load(&g_tick_rc), 0);
	assert_true(seen);
	assert_false(a_thread_has_nice(want)); /* gone, and this one was not raised */
	assert_int_equal(getpriority(PRIO_PROCESS, 0), base);
	assert_int_equal(stats_of(b).index_pending, 0);
	assert_int_equal(brain_close(b), 0);
#endif
}

/* ---- compaction ----------------------------------------------------------- */

#define CD 64   /* dimensions */
#define CN 6000 /* vectors added first */

static void compact_vector(uint64_t i, float *v)
{
	hashed_vector(i + (UINT64_C(1) << 40), v, CD);
}

static void compact_add(brain_t *b, uint64_t from, uint64_t to)
{
	add_vectors(b, from, to, compact_vector, CD);
}

/* Ids kept: every sixth of the first half (so the last slots all go). */
static bool compact_kept(uint64_t i)
{
	return i < CN / 2 && i % 6 == 0;
}

/* Every id of [0, to) kept (or added after) holds its vector bit for bit;
 * every one forgotten is gone. */
static void compact_check_vectors(brain_t *b, uint64_t to)
{
	float v[CD], got[CD];
	for (uint64_t i = 0; i < to; i++) {
		int rc = brain_get_vector(b, i + 1, got);
		if (i < CN && !compact_kept(i)) {
			assert_int_equal(rc, BRAIN_ENOTFOUND);
			continue;
		}
		assert_int_equal(rc, 0);
		compact_vector(i, v);
		assert_memory_equal(got, v, sizeof v);
	}
}

/* Every memory kept is found by its own vector, first, at distance 0:
 * each moved node is reachable in the graph (or in the tail). */
static void compact_find_each(brain_t *b, uint64_t to)
{
	float v[CD];
	for (uint64_t i = 0; i < to; i++) {
		if (i < CN && !compact_kept(i))
			continue;
		compact_vector(i, v);
		uint64_t id = 0;
		float d = 1;
		size_t n = 0;
		assert_int_equal(brain_search(b, v, 1, &id, &d, &n), 0);
		assert_int_equal(n, 1);
		assert_int_equal(id, i + 1);
		assert_true(d == 0.0f);
	}
}

/* b answers as the flat reference: the same ids in order (flat), or at
 * least min_recall of them (HNSW). */
static void compact_answers(brain_t *b, brain_t *flat, int index, double min_recall)
{
	bool same = false;
	double r = recall_against(b, flat, compact_vector, CD, 5000000, &same);
	if (index == BRAIN_INDEX_FLAT)
		assert_true(same);
	else
		assert_true(r >= min_recall);
}

/* Bytes of the regular files in a directory. */
static uint64_t dir_bytes(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	uint64_t total = 0;
	struct dirent *e;
	char p[512];
	struct stat st;
	while ((e = readdir(d)) != NULL) {
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
			total += (uint64_t)st.st_size;
	}
	closedir(d);
	return total;
}

static brain_t *compact_brain(const char *path, int index)
{
	return vector_brain(path, CD, BRAIN_METRIC_L2, index, BRAIN_BACKGROUND_MANUAL);
}

/* One case: CN vectors, then all but a sixth of the first half forgotten.
 * With COMPACT_FREE 0 a cycle moves nothing; with the default it moves the
 * memories of the last slots into the free ones and the rows go back: the
 * index's heap shrinks (and, on disk, the files after a checkpoint), and
 * every memory left keeps its id and vector, answers stay the flat
 * reference's (the same ids in order for flat; for HNSW the graph, with
 * the moved nodes inserted again, finds nearly all), new memories are
 * added after it, and a reopen holds the same. */
static void compaction_case(const char *path, const char *dir, int index)
{
	brain_t *b = compact_brain(path, index);
	brain_t *flat = flat_reference(CD, BRAIN_METRIC_L2);
	/* the reference's own background must not compact: its "compaction
	 * done" would be heard with b's (seen once under load) */
	assert_int_equal(brain_set_param(flat, BRAIN_PARAM_COMPACT_FREE, 0), 0);
	compact_add(b, 0, CN);
	compact_add(flat, 0, CN);
	assert_int_equal(brain_tick(b), 0);
	if (path)
		assert_int_equal(brain_checkpoint(b), 0);
	uint64_t heap_full = stats_of(b).heap_index_bytes;
	uint64_t disk_full = dir ? dir_bytes(dir) : 0;
	for (uint64_t i = 0; i < CN; i++) {
		if (compact_kept(i))
			continue;
		assert_int_equal(brain_forget(b, i + 1), 0);
		assert_int_equal(brain_forget(flat, i + 1), 0);
	}
	uint64_t kept = brain_count(b);
	assert_int_equal(kept, CN / 12);

	/* off: the cycle finds the free slots and leaves them */
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_COMPACT_FREE, 0), 0);
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_CIRCADIAN_MS, 0), 0);
	assert_int_equal(brain_tick(b), 0);
	brain_stats st = stats_of(b);
	assert_true(st.circadian_cycles >= 1);
	assert_int_equal(st.circadian_compacted, 0);
	assert_int_equal(st.circadian_slots_released, 0);
	uint64_t heap_holey = st.heap_index_bytes;

	/* on (the default): one tick does all of it */
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_COMPACT_FREE, 250), 0);
	log_listen(BRAIN_LOG_INFO, "compaction done");
	assert_int_equal(brain_set_log_level(BRAIN_LOG_INFO), 0);
	assert_int_equal(brain_tick(b), 0);
	brain_set_log(NULL, NULL);
	assert_int_equal(brain_set_log_level(BRAIN_LOG_WARN), 0);
	assert_int_equal(log_heard(), 1);
	st = stats_of(b);
	/* the memories past the first `kept` slots moved: at most all kept */
	assert_true(st.circadian_compacted > 0 && st.circadian_compacted <= kept);
	assert_true(st.circadian_slots_released >= CN - kept);
	assert_int_equal(st.index_pending, 0); /* the tick built what moved */
	assert_int_equal(brain_count(b), kept);
	/* the rows of 5,500 slots went back (chunks of ~512 rows) */
	assert_true(st.heap_index_bytes * 3 < heap_holey);
	assert_true(st.heap_index_bytes * 3 < heap_full || path); /* on disk: mapped rows */
	char doc[4096];
	assert_true(brain_health_json(b, doc, sizeof doc) > 0);
	assert_non_null(strstr(doc, "\"compacting\":false"));
	compact_check_vectors(b, CN);
	compact_answers(b, flat, index, 0.95);
	compact_find_each(b, CN);
	if (path) {
		/* a checkpoint right after it (the free slots past the end are
		 * not saved) opens again whole */
		assert_int_equal(brain_checkpoint(b), 0);
		assert_int_equal(brain_close(b), 0);
		b = compact_brain(path, index);
		assert_int_equal(brain_count(b), kept);
		compact_check_vectors(b, CN);
		compact_find_each(b, CN);
		assert_int_equal(brain_set_param(b, BRAIN_PARAM_CIRCADIAN_MS, 0), 0);
		st = stats_of(b); /* counted since this open */
	}

	/* nothing more to do: another cycle moves nothing */
	assert_int_equal(brain_tick(b), 0);
	assert_int_equal(stats_of(b).circadian_compacted, st.circadian_compacted);

	/* new memories take slots after the compacted ones */
	compact_add(b, CN, CN + 700);
	compact_add(flat, CN, CN + 700);
	assert_int_equal(brain_tick(b), 0);
	compact_check_vectors(b, CN + 700);
	compact_answers(b, flat, index, 0.95);
	if (path) {
		/* the next checkpoint writes only what is left: the old
		 * segments go once nothing names them */
		assert_int_equal(brain_checkpoint(b), 0);
		assert_int_equal(brain_checkpoint(b), 0);
		assert_true(dir_bytes(dir) * 2 < disk_full);
		assert_int_equal(brain_close(b), 0);
		b = compact_brain(path, index);
		assert_int_equal(brain_count(b), kept + 700);
		compact_check_vectors(b, CN + 700);
		compact_answers(b, flat, index, 0.95);
	}
	assert_int_equal(brain_close(b), 0);
	assert_int_equal(brain_close(flat), 0);
}


/* Mappings of index segments the directory no longer has ("(deleted)" in
 * /proc/self/maps, for files under `dir`): their disk space is held until
 * they are unmapped. */
static int deleted_segments_mapped(const char *dir)
{
	FILE *f = fopen("/proc/self/maps", "r");
	if (!f)
		return -1;
	char line[1024];
	int n = 0;
	while (fgets(line, sizeof line, f))
		if (strstr(line, dir) && strstr(line, "index-seg-") && strstr(line, "(deleted)"))
			n++;
	fclose(f);
	return n;
}

/* After a checkpoint that rewrote every chunk, the segments the open
 * mapped are removed but still mapped (the rows lay in them): the next
 * tick copies the rows still there to the heap and unmaps them, so the
 * disk space comes back; every vector stays bit for bit, answers stay the
 * flat reference's, and the brain reopens the same. */
static void release_case(int index)
{
	char root[] = "/tmp/braincore-heart-XXXXXX";
	char path[64];
	new_dir(root, path);
	brain_t *b = compact_brain(path, index);
	brain_t *flat = flat_reference(CD, BRAIN_METRIC_L2);
	compact_add(b, 0, 3000);
	compact_add(flat, 0, 3000);
	assert_int_equal(brain_tick(b), 0);
	assert_int_equal(brain_close(b), 0);
	b = compact_brain(path, index); /* rows adopted from the segments */
	float v[CD];
	for (uint64_t i = 0; i < 3000; i++) {
		compact_vector(700000 + i, v);
		assert_int_equal(brain_update_vector(b, i + 1, v), 0);
		assert_int_equal(brain_update_vector(flat, i + 1, v), 0);
	}
	assert_int_equal(brain_tick(b), 0);
	assert_int_equal(brain_checkpoint(b), 0);
	assert_true(deleted_segments_mapped(root) > 0); /* held until released */
	/* what searches answer now: the same after the release */
	uint64_t before[40][10];
	for (uint64_t q = 0; q < 40; q++) {
		float d[10];
		size_t n = 0;
		compact_vector(5000000 + q, v);
		assert_int_equal(brain_search(b, v, 10, before[q], d, &n), 0);
		assert_int_equal(n, 10);
	}
	assert_int_equal(brain_tick(b), 0);
	assert_int_equal(deleted_segments_mapped(root), 0);
	for (uint64_t q = 0; q < 40; q++) {
		uint64_t now[10];
		float d[10];
		size_t n = 0;
		compact_vector(5000000 + q, v);
		assert_int_equal(brain_search(b, v, 10, now, d, &n), 0);
		assert_memory_equal(now, before[q], sizeof now);
	}
	float got[CD];
	for (uint64_t i = 0; i < 3000; i++) {
		compact_vector(700000 + i, v);
		assert_int_equal(brain_get_vector(b, i + 1, got), 0);
		assert_memory_equal(got, v, sizeof v);
	}
	/* (a graph whose every node was moved finds a little less) */
	compact_answers(b, flat, index, 0.9);
	/* changes after it, another checkpoint, a reopen */
	compact_add(b, 3000, 3100);
	compact_add(flat, 3000, 3100);
	assert_int_equal(brain_tick(b), 0);
	assert_int_equal(brain_checkpoint(b), 0);
	assert_int_equal(brain_tick(b), 0);
	assert_int_equal(brain_close(b), 0);
	assert_int_equal(deleted_segments_mapped(root), 0);
	b = compact_brain(path, index);
	assert_int_equal(brain_count(b), 3100);
	compact_answers(b, flat, index, 0.9);
	assert_int_equal(brain_close(b), 0);
	assert_int_equal(brain_close(flat), 0);
	assert_int_equal(test_remove_tree(root), 0);
}

static void test_heart__retired_segments_are_unmapped(void **state)
{
	(void)state;
	release_case(BRAIN_INDEX_FLAT);
	release_case(BRAIN_INDEX_HNSW);
}

/* Mappings of checkpoint images under `dir`; with `deleted`, only of
 * images the directory no longer has. */
static int images_mapped(const char *dir, bool deleted)
{
	FILE *f = fopen("/proc/self/maps", "r");
	if (!f)
		return -1;
	char line[1024];
	int n = 0;
	while (fgets(line, sizeof line, f))
		if (strstr(line, dir) && strstr(line, "/ckpt-") &&
		    (!deleted || strstr(line, "(deleted)")))
			n++;
	fclose(f);
	return n;
}

static brain_t *text_brain_at(const char *path)
{
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.sync = BRAIN_SYNC_NORMAL;
	o.background = BRAIN_BACKGROUND_MANUAL;
	brain_t *b = NULL;
	assert_int_equal(brain_open(path, &o, &b), 0);
	return b;
}

#define IMG_N 2600 /* past HNSW_EXACT_BELOW: a graph, whose levels the image holds */

static void image_text(uint64_t i, char *buf, size_t size)
{
	snprintf(buf, size, "memo %llu: the %s crate for bay %llu holds %llu parts",
	         (unsigned long long)i, i % 3 ? "blue" : "grey", (unsigned long long)(i % 37),
	         (unsigned long long)(i * 13));
}

/* A closed text brain at path of IMG_N memories, its graph built. */
static void image_fill(const char *path)
{
	char text[128];
	brain_t *b = text_brain_at(path);
	for (uint64_t i = 0; i < IMG_N; i++) {
		image_text(i, text, sizeof text);
		assert_int_equal(brain_remember(b, text, 0.5f), 0);
	}
	assert_int_equal(brain_tick(b), 0); /* the graph built before it is saved */
	assert_int_equal(brain_close(b), 0);
}

/* What 30 questions recall: ids, distances and the first text. */
typedef struct image_answers {
	brain_id ids[30][5];
	float d[30][5];
	size_t n[30];
	char first[30][96];
} image_answers;

static void image_ask(brain_t *b, image_answers *a)
{
	char q[96];
	for (int i = 0; i < 30; i++) {
		snprintf(q, sizeof q, "which crate is for bay %d with %d parts?", i, i * 13 * 7);
		a->n[i] = 0;
		assert_int_equal(brain_recall_ids(b, q, 5, a->ids[i], a->d[i], &a->n[i]), 0);
		char **r = brain_recall(b, q, 1);
		assert_non_null(r);
		snprintf(a->first[i], sizeof a->first[i], "%s", r[0] ? r[0] : "");
		brain_strings_free(r);
	}
}

static void image_same(const image_answers *x, const image_answers *y)
{
	for (int i = 0; i < 30; i++) {
		assert_int_equal(x->n[i], y->n[i]);
		assert_memory_equal(x->ids[i], y->ids[i], x->n[i] * sizeof x->ids[i][0]);
		assert_memory_equal(x->d[i], y->d[i], x->n[i] * sizeof x->d[i][0]);
		assert_string_equal(x->first[i], y->first[i]);
	}
}

/* The checkpoint image a brain opens is used in place (records, texts, id
 * map, the embedder's statistics, the graph's levels). Once a checkpoint
 * has replaced it (the file is removed, still mapped), the next tick has
 * every organ copy what it uses and the image is unmapped, so its disk
 * space comes back; recall answers the same ids at the same distances
 * with the same texts, ids still find their memories, and a reopen holds
 * everything. */
static void test_heart__the_image_opened_is_let_go(void **state)
{
	(void)state;
	char root[] = "/tmp/braincore-heart-XXXXXX";
	char path[64], text[128];
	new_dir(root, path);
	image_fill(path);
	brain_t *b = text_brain_at(path);
	assert_true(images_mapped(root, false) > 0); /* used in place */
	assert_int_equal(images_mapped(root, true), 0);
	/* changes since the open: new memories, forgotten ones (ids found in
	 * the adopted map) */
	for (uint64_t i = IMG_N; i < IMG_N + 40; i++) {
		image_text(i, text, sizeof text);
		assert_int_equal(brain_remember(b, text, 0.5f), 0);
	}
	for (brain_id id = 1; id <= 200; id += 20)
		assert_int_equal(brain_forget(b, id), 0);
	assert_int_equal(brain_tick(b), 0); /* (the graph takes the new ones in) */
	assert_true(images_mapped(root, false) > 0);
	assert_int_equal(brain_checkpoint(b), 0);
	assert_true(images_mapped(root, true) > 0); /* removed, still mapped */
	image_answers before, after;
	image_ask(b, &before);
	assert_int_equal(brain_tick(b), 0);
	assert_int_equal(images_mapped(root, false), 0);
	image_ask(b, &after);
	image_same(&before, &after);
	/* every text readable, every id found, changes go on */
	for (brain_id id = 2; id <= IMG_N; id += 97) {
		float v[384];
		assert_int_equal(brain_get_vector(b, id, v), 0);
	}
	assert_int_equal(brain_forget(b, 202), 0);
	assert_int_equal(brain_forget(b, 181), BRAIN_ENOTFOUND); /* forgotten before */
	image_text(99999, text, sizeof text);
	assert_int_equal(brain_remember(b, text, 0.5f), 0);
	assert_int_equal(brain_count(b), IMG_N + 40 - 10 - 1 + 1);
	assert_int_equal(brain_tick(b), 0);
	image_ask(b, &before);
	assert_int_equal(brain_close(b), 0);
	b = text_brain_at(path);
	assert_int_equal(brain_count(b), IMG_N + 40 - 10);
	image_ask(b, &after);
	image_same(&before, &after);
	assert_int_equal(brain_close(b), 0);
	assert_int_equal(test_remove_tree(root), 0);
}

/* A reader recalling until told to stop, checking each answer. */
typedef struct image_reader {
	brain_t *b;
	atomic_bool stop;
	atomic_long asked, bad;
} image_reader;

static void *image_reader_main(void *arg)
{
	image_reader *r = arg;
	char q[96];
	for (long i = 0; !atomic_load(&r->stop); i++) {
		snprintf(q, sizeof q, "which crate is for bay %ld?", i % 37);
		char **t = brain_recall(r->b, q, 3);
		if (!t || !t[0] || strncmp(t[0], "memo ", 5) != 0)
			atomic_fetch_add(&r->bad, 1);
		brain_strings_free(t);
		atomic_fetch_add(&r->asked, 1);
	}
	return NULL;
}

/* The same with the Heart's threads: its worker lets the image go while a
 * reader recalls (the copies are made beside it; TSan watches). */
static void test_heart__the_image_opened_is_let_go_beside_readers(void **state)
{
	(void)state;
	char root[] = "/tmp/braincore-heart-XXXXXX";
	char path[64], text[128];
	new_dir(root, path);
	image_fill(path);
	brain_t *b = NULL;
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.sync = BRAIN_SYNC_NORMAL;
	assert_int_equal(brain_open(path, &o, &b), 0); /* the Heart's threads */
	image_reader r = {b, false, 0, 0};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, image_reader_main, &r), 0);
	for (uint64_t i = IMG_N; i < IMG_N + 40; i++) {
		image_text(i, text, sizeof text);
		assert_int_equal(brain_remember(b, text, 0.5f), 0);
	}
	assert_int_equal(brain_checkpoint(b), 0);
	for (int i = 0; i < 1000 && images_mapped(root, false) > 0; i++)
		sleep_ms(10);
	assert_int_equal(images_mapped(root, false), 0);
	for (int i = 0; i < 100 && atomic_load(&r.asked) < 20; i++)
		sleep_ms(10);
	atomic_store(&r.stop, true);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_true(atomic_load(&r.asked) > 0);
	assert_int_equal(atomic_load(&r.bad), 0);
	assert_int_equal(brain_count(b), IMG_N + 40);
	assert_int_equal(brain_close(b), 0);
	assert_int_equal(test_remove_tree(root), 0);
}

static void test_heart__compaction_hands_back_free_slots(void **state)
{
	(void)state;
	compaction_case(NULL, NULL, BRAIN_INDEX_FLAT);
	compaction_case(NULL, NULL, BRAIN_INDEX_HNSW);
	char root[] = "/tmp/braincore-heart-XXXXXX";
	char path[64];
	new_dir(root, path);
	compaction_case(path, path, BRAIN_INDEX_FLAT);
	assert_int_equal(test_remove_tree(path), 0);
	compaction_case(path, path, BRAIN_INDEX_HNSW);
	assert_int_equal(test_remove_tree(root), 0);
}

/* The curve a recall ranks by and the Circadian forgets by: halved every
 * half-life of disuse, untouched without a half-life. */
static void test_heart__decay_curve(void **state)
{
	(void)state;
	const int64_t hour = 3600000;
	assert_true(brain__importance_now(0.8f, 0, 10 * hour, 0) == 0.8f);
	assert_true(fabsf(brain__importance_now(0.8f, 0, 24 * hour, 24) - 0.4f) < 1e-6f);
	assert_true(fabsf(brain__importance_now(0.8f, 0, 48 * hour, 24) - 0.2f) < 1e-6f);
	assert_true(brain__importance_now(0.8f, 5 * hour, 4 * hour, 24) == 0.8f); /* clock skew */
	float last = 1.0f;
	for (int64_t h = 0; h < 200; h += 7) {
		float v = brain__importance_now(1.0f, 0, h * hour, 30);
		assert_true(v <= last && v >= 0.0f);
		last = v;
	}
}

/* The options field: checked, and absent from a version-2 struct. */
static void test_heart__background_option(void **state)
{
	(void)state;
	brain_options o = opts(7);
	brain_t *b = NULL;
	assert_int_equal(brain_open(NULL, &o, &b), BRAIN_EINVAL);
	assert_null(b);
	brain_options v2;
	assert_int_equal(brain_options_init(&v2, 2), 0);
	v2.dimensions = 8;
	assert_int_equal(brain_open(NULL, &v2, &b), 0);
	brain_close(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_heart__manual_brains_beat_by_tick),
		cmocka_unit_test(test_heart__one_heart_for_every_brain),
		cmocka_unit_test(test_heart__close_while_work_is_due),
		cmocka_unit_test(test_heart__background_option),
		cmocka_unit_test(test_heart__tick_builds_the_tail),
		cmocka_unit_test(test_heart__damaged_index_is_rebuilt),
		cmocka_unit_test(test_heart__background_builds_the_tail),
		cmocka_unit_test(test_heart__close_is_prompt),
		cmocka_unit_test(test_heart__circadian_forgets_only_when_asked),
		cmocka_unit_test(test_heart__decay_curve),
		cmocka_unit_test(test_heart__near_copies_strengthen_when_asked),
		cmocka_unit_test(test_heart__pressure_forgets_once_per_growth),
		cmocka_unit_test(test_heart__consolidation_off_by_default),
		cmocka_unit_test(test_heart__consolidation_remembers_statements_once),
		cmocka_unit_test(test_heart__consolidation_merges_near_copies),
		cmocka_unit_test(test_heart__consolidation_takes_what_the_ring_holds),
		cmocka_unit_test(test_heart__consolidation_waits_out_a_full_budget),
		cmocka_unit_test(test_heart__watchdog_reports_a_stall),
		cmocka_unit_test(test_heart__watchdog_reports_a_held_gate),
		cmocka_unit_test(test_heart__writers_go_on_during_a_checkpoint),
		cmocka_unit_test(test_heart__watchdog_reports_damage_at_run_time),
		cmocka_unit_test(test_heart__compaction_hands_back_free_slots),
		cmocka_unit_test(test_heart__background_build_runs_niced),
		cmocka_unit_test(test_heart__retired_segments_are_unmapped),
		cmocka_unit_test(test_heart__the_image_opened_is_let_go),
		cmocka_unit_test(test_heart__the_image_opened_is_let_go_beside_readers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
