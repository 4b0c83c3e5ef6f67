/*
 * bench/bench_live.c - a brain at work while its background runs: the
 * figures issue 13 asks for, each as a ratio within one run.
 *
 *   bench_live [--dir DIR] [--part writers|checkpoint|async|heart|floor|compact|reopen|all]
 *              [--memories N] [--vectors N] [--dim D] [--sync normal|off]
 *
 * writers     recall latency (p50, p99, worst) of one thread on a text
 *             brain of --memories (default 20,000), with no writer and
 *             with 4 threads remembering all along; and the writers' own
 *             remember latency.
 * checkpoint  a vector brain of --vectors (default 1,000,000) of --dim
 *             (default 128) on disk: search latency of one thread with
 *             nothing else running, and while brain_checkpoint() runs after
 *             1% of the vectors changed; the latency of one writer adding
 *             all along the checkpoint (it waits at the writers' gate for
 *             the checkpoint's two short steps); sync NORMAL, or --sync.
 * async       remembers per second into an on-disk text brain:
 *             brain_remember against brain_remember_async then brain_flush,
 *             in FULL and NORMAL sync (--memories each).
 * heart       recall and think latency on the same text brain opened with
 *             the Heart's threads and with BRAIN_BACKGROUND_MANUAL.
 * compact     a vector brain of --vectors (HNSW, --dim, in memory) with
 *             every other vector forgotten: search latency of one thread
 *             before, during and after the compaction the Circadian then
 *             runs in the background (COMPACT_FREE), its duration, and the
 *             index's heap before and after. Not in "all".
 *
 * One process, the same data for both sides of each ratio; the CPU model
 * is printed with the figures.
 */
#include <braincore.h>

#include "bench_files.h"
#include "bench_sentences.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>

static void die(const char *what, int rc)
{
	fprintf(stderr, "bench_live: %s: %s: %s\n", what, brain_error_name(rc), brain_errmsg());
	exit(1);
}

static void print_row(const char *what, bench_pct p)
{
	printf("| %s | %zu | %.1f | %.1f | %.0f |\n", what, p.n, p.p50, p.p99, p.max);
}

static brain_t *open_brain(const char *path, int sync, int background, uint32_t dim)
{
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.sync = sync;
	o.background = background;
	if (dim) {
		o.dimensions = dim;
		o.embedder = BRAIN_EMBEDDER_NONE;
		o.metric = BRAIN_METRIC_L2;
	}
	brain_t *b = NULL;
	int rc = brain_open(path, &o, &b);
	if (rc)
		die("open", rc);
	return b;
}

static void settle(brain_t *b)
{
	for (;;) {
		brain_stats st;
		brain_stats_init(&st, BRAIN_STATS_VERSION);
		brain_get_stats(b, &st);
		if (st.index_pending == 0 && st.ingest_queued == 0)
			return;
		struct timespec t = {0, 5000000L};
		nanosleep(&t, NULL);
	}
}

static void fill_text(brain_t *b, size_t n, uint64_t seed)
{
	char text[512];
	for (size_t i = 0; i < n; i++) {
		bench_sentence(&seed, text, sizeof text);
		int rc = brain_remember(b, text, 0.5f);
		if (rc)
			die("remember", rc);
	}
}

static void recall_timed(brain_t *b, size_t n, uint64_t seed, bench_lat *l)
{
	char q[512];
	brain_id ids[5];
	float scores[5];
	size_t found;
	for (size_t i = 0; i < n; i++) {
		bench_sentence(&seed, q, sizeof q);
		uint64_t t0 = bench_now_ns();
		int rc = brain_recall_ids(b, q, 5, ids, scores, &found);
		bench_lat_add(l, bench_now_ns() - t0);
		if (rc)
			die("recall", rc);
	}
}

/* ---- writers -------------------------------------------------------------- */

typedef struct writer_arg {
	brain_t *b;
	atomic_int *stop;
	uint64_t seed;
	bench_lat *l;
	long gap_us; /* between remembers; 0: as fast as it can */
} writer_arg;

static void *writer_main(void *p)
{
	writer_arg *a = p;
	char text[512];
	while (!atomic_load(a->stop)) {
		bench_sentence(&a->seed, text, sizeof text);
		uint64_t t0 = bench_now_ns();
		int rc = brain_remember(a->b, text, 0.5f);
		bench_lat_add(a->l, bench_now_ns() - t0);
		if (rc)
			die("remember (writer)", rc);
		if (a->gap_us) {
			struct timespec t = {0, a->gap_us * 1000L};
			nanosleep(&t, NULL);
		}
	}
	return NULL;
}

/* Recall latency while 4 writers remember, each gap_us apart. */
static void with_writers(brain_t *b, long gap_us, bench_lat *r, bench_lat *w)
{
	atomic_int stop = 0;
	pthread_t t[4];
	writer_arg wa[4];
	for (int i = 0; i < 4; i++) {
		wa[i] = (writer_arg){b, &stop, 1000 + (uint64_t)i + (uint64_t)gap_us, w, gap_us};
		pthread_create(&t[i], NULL, writer_main, &wa[i]);
	}
	recall_timed(b, 2000, 99, r);
	atomic_store(&stop, 1);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
}

static void part_writers(size_t memories)
{
	printf("\n### Recall beside writers (in memory, %zu text memories, 384-d)\n\n", memories);
	brain_t *b = open_brain(NULL, BRAIN_SYNC_NORMAL, BRAIN_BACKGROUND_THREADS, 0);
	fill_text(b, memories, 1);
	settle(b);
	bench_lat r, w;
	bench_lat_init(&r);
	bench_lat_init(&w);
	recall_timed(b, 2000, 99, &r);
	bench_pct alone = bench_lat_take(&r);
	with_writers(b, 2000, &r, &w); /* 4 x 500 a second: the graph keeps up */
	bench_pct paced = bench_lat_take(&r), wpaced = bench_lat_take(&w);
	uint64_t grown = brain_count(b);
	settle(b);
	with_writers(b, 0, &r, &w); /* as fast as they can: the tail fills */
	bench_pct busy = bench_lat_take(&r), wr = bench_lat_take(&w);
	printf("| calls | n | p50 us | p99 us | worst us |\n|---|---:|---:|---:|---:|\n");
	print_row("recall, no writer", alone);
	print_row("recall, 4 writers at 500/s each", paced);
	print_row("remember, 4 writers at 500/s each", wpaced);
	print_row("recall, 4 writers flat out", busy);
	print_row("remember, 4 writers flat out", wr);
	printf("\nrecall p99 with 4 paced writers / without: %.2f (p50 %.2f; the brain grew to "
	       "%llu); with 4 writers flat out: %.1f (p50 %.1f; it grew to %llu, past what the "
	       "graph builds, so recalls scan the tail)\n",
	       paced.p99 / alone.p99, paced.p50 / alone.p50, (unsigned long long)grown,
	       busy.p99 / alone.p99, busy.p50 / alone.p50, (unsigned long long)brain_count(b));
	brain_close(b);
}

/* dim components uniform in [-1, 1) (steps of 1/1000), from *seed. */
static void random_vector(uint64_t *seed, float *v, uint32_t dim)
{
	for (uint32_t i = 0; i < dim; i++)
		v[i] = (float)(bench_splitmix64(seed) % 2000) / 1000.0f - 1.0f;
}

/* The number after "key": in the brain's health document, or -1. */
static double health_number(brain_t *b, const char *key)
{
	char doc[8192], pat[64];
	snprintf(pat, sizeof pat, "\"%s\":", key);
	const char *at = brain_health_json(b, doc, sizeof doc) > 0 ? strstr(doc, pat) : NULL;
	return at ? strtod(at + strlen(pat), NULL) : -1;
}

/* n random vectors of `dim` with ids 1..n, by brain_add_batch in batches
 * of 50,000. */
static void fill_random(brain_t *b, size_t n, uint32_t dim, uint64_t *seed)
{
	size_t batch = 50000;
	uint64_t *ids = malloc(batch * sizeof *ids);
	float *rows = malloc(batch * dim * sizeof *rows);
	if (!ids || !rows)
		die("fill: out of memory", -1);
	for (size_t at = 0; at < n; at += batch) {
		size_t m = at + batch <= n ? batch : n - at;
		for (size_t i = 0; i < m; i++) {
			ids[i] = at + i + 1;
			random_vector(seed, rows + i * dim, dim);
		}
		int rc = brain_add_batch(b, ids, rows, m);
		if (rc)
			die("add_batch", rc);
	}
	free(ids);
	free(rows);
}

/* ---- checkpoint ----------------------------------------------------------- */

static int g_ckpt_sync = BRAIN_SYNC_NORMAL; /* --sync */

typedef struct search_arg {
	brain_t *b;
	uint32_t dim;
	atomic_int *stop;
	atomic_int *phase; /* 0 baseline, 1 during the checkpoint, 2 after */
	bench_lat *l[3];
} search_arg;

static void *searcher_main(void *p)
{
	search_arg *a = p;
	float *q = malloc(a->dim * sizeof *q);
	uint64_t seed = 7;
	uint64_t ids[10];
	float d[10];
	size_t found;
	while (!atomic_load(a->stop)) {
		random_vector(&seed, q, a->dim);
		int ph = atomic_load(a->phase);
		uint64_t t0 = bench_now_ns();
		int rc = brain_search(a->b, q, 10, ids, d, &found);
		uint64_t t1 = bench_now_ns();
		if (rc)
			die("search", rc);
		/* a search counts for the phase it ran wholly in */
		if (atomic_load(a->phase) == ph)
			bench_lat_add(a->l[ph], t1 - t0);
	}
	free(q);
	return NULL;
}

typedef struct adder_arg {
	brain_t *b;
	uint32_t dim;
	atomic_int *stop;
	atomic_int *phase;
	uint64_t next_id;
	bench_lat *l[3];
} adder_arg;

static void *adder_main(void *p)
{
	adder_arg *a = p;
	float *v = malloc(a->dim * sizeof *v);
	uint64_t seed = 11;
	while (!atomic_load(a->stop)) {
		random_vector(&seed, v, a->dim);
		int ph = atomic_load(a->phase);
		uint64_t t0 = bench_now_ns();
		int rc = brain_add(a->b, a->next_id++, v);
		uint64_t t1 = bench_now_ns();
		if (rc)
			die("add (writer)", rc);
		bench_lat_add(a->l[ph], t1 - t0);
		struct timespec t = {0, 200000L}; /* 5,000 adds a second at most */
		nanosleep(&t, NULL);
	}
	free(v);
	return NULL;
}

static void part_checkpoint(const char *root, size_t n, uint32_t dim)
{
	printf("\n### Searches and a writer during a checkpoint (%zu vectors of %u-d, on disk, "
	       "%s)\n\n", n, dim, g_ckpt_sync == BRAIN_SYNC_OFF ? "OFF" : "NORMAL");
	char path[4096];
	snprintf(path, sizeof path, "%s/bench-live-%d", root, (int)getpid());
	bench_remove_tree(path);
	brain_t *b = open_brain(path, g_ckpt_sync, BRAIN_BACKGROUND_THREADS, dim);
	if (brain_set_param(b, BRAIN_PARAM_CHECKPOINT_WAL_BYTES, 0))
		die("set CHECKPOINT_WAL_BYTES", -1);
	float *rows = malloc(dim * sizeof *rows);
	uint64_t seed = 3;
	uint64_t t0 = bench_now_ns();
	fill_random(b, n, dim, &seed);
	double build_s = (double)(bench_now_ns() - t0) / 1e9;
	t0 = bench_now_ns();
	int rc = brain_checkpoint(b);
	if (rc)
		die("checkpoint", rc);
	double first_s = (double)(bench_now_ns() - t0) / 1e9;
	/* 1% changed: the checkpoint that follows writes what changed */
	for (size_t i = 0; i < n / 100; i++) {
		float *v = rows;
		random_vector(&seed, v, dim);
		rc = brain_update_vector(b, (uint64_t)(bench_splitmix64(&seed) % n) + 1, v);
		if (rc)
			die("update_vector", rc);
	}
	settle(b);
	bench_lat s0, s1, s2, w0, w1, w2;
	bench_lat_init(&s0);
	bench_lat_init(&s1);
	bench_lat_init(&s2);
	bench_lat_init(&w0);
	bench_lat_init(&w1);
	bench_lat_init(&w2);
	atomic_int stop = 0, phase = 0;
	search_arg sa = {b, dim, &stop, &phase, {&s0, &s1, &s2}};
	adder_arg aa = {b, dim, &stop, &phase, n + 1, {&w0, &w1, &w2}};
	pthread_t ts, ta;
	pthread_create(&ts, NULL, searcher_main, &sa);
	pthread_create(&ta, NULL, adder_main, &aa);
	struct timespec pause = {2, 0};
	nanosleep(&pause, NULL);
	atomic_store(&phase, 1);
	t0 = bench_now_ns();
	rc = brain_checkpoint(b);
	double ck_s = (double)(bench_now_ns() - t0) / 1e9;
	atomic_store(&phase, 2);
	if (rc)
		die("checkpoint", rc);
	nanosleep(&pause, NULL);
	atomic_store(&stop, 1);
	pthread_join(ts, NULL);
	pthread_join(ta, NULL);
	bench_pct b0 = bench_lat_take(&s0), b1 = bench_lat_take(&s1), a0 = bench_lat_take(&w0), a1 = bench_lat_take(&w1);
	printf("built by add_batch in %.1f s; first checkpoint %.2f s; the checkpoint after 1%% "
	       "changed %.2f s\n\n", build_s, first_s, ck_s);
	printf("| calls | n | p50 us | p99 us | worst us |\n|---|---:|---:|---:|---:|\n");
	print_row("search, no checkpoint", b0);
	print_row("search, during the checkpoint", b1);
	print_row("add, no checkpoint", a0);
	print_row("add, during the checkpoint", a1);
	printf("\nsearch p99 during / without: %.2f; worst search during / p50 without: %.1f; "
	       "worst add during: %.1f ms\n", b1.p99 / b0.p99, b1.max / b0.p50, a1.max / 1e3);
	double held = health_number(b, "writers_held_us_max");
	if (held >= 0)
		printf("writers held at the gate by a checkpoint, longest: %.1f ms (health "
		       "checkpoint.writers_held_us_max)\n", held / 1e3);
	free(rows);
	brain_close(b);
	bench_remove_tree(path);
}

/* ---- the machine's own floor ------------------------------------------------ */

/* A fixed piece of work (~80 us of float arithmetic), nothing of braincore
 * in it: how long its worst run takes against its median says what the
 * machine's scheduler (and, on a VM, the host) adds, and so the floor
 * under any "worst call / median" figure measured here. */
static float floor_unit(const float *v)
{
	float acc = 0.0f;
	for (int r = 0; r < 36; r++)
		for (int i = 0; i < 4096; i++)
			acc += v[i] * v[(i * 7) & 4095];
	return acc;
}

static void *busy_main(void *p)
{
	atomic_int *stop = p;
	/* as the index's builders run (on Linux this thread's own nice) */
	(void)setpriority(PRIO_PROCESS, 0, getpriority(PRIO_PROCESS, 0) + 10);
	volatile unsigned long x = 0;
	while (!atomic_load_explicit(stop, memory_order_relaxed))
		x++;
	return NULL;
}

static void part_floor(void)
{
	printf("\n### The machine's floor: a fixed ~80 us CPU task, no braincore in it, 5 s each\n\n");
	printf("| beside it | n | p50 us | p99 us | worst us | worst / p50 |\n"
	       "|---|---:|---:|---:|---:|---:|\n");
	static float v[4096];
	for (int i = 0; i < 4096; i++)
		v[i] = (float)i * 1e-3f;
	static const char *const names[] = {"nothing", "1 busy thread at nice 10",
	                                    "2 busy threads at nice 10"};
	for (int busy = 0; busy <= 2; busy++) {
		atomic_int stop = 0;
		pthread_t t[2];
		for (int i = 0; i < busy; i++)
			pthread_create(&t[i], NULL, busy_main, &stop);
		bench_lat l;
		bench_lat_init(&l);
		volatile float sink = 0.0f;
		uint64_t end = bench_now_ns() + UINT64_C(5000000000);
		while (bench_now_ns() < end) {
			uint64_t t0 = bench_now_ns();
			sink += floor_unit(v);
			bench_lat_add(&l, bench_now_ns() - t0);
		}
		atomic_store(&stop, 1);
		for (int i = 0; i < busy; i++)
			pthread_join(t[i], NULL);
		bench_pct p = bench_lat_take(&l);
		printf("| %s | %zu | %.1f | %.1f | %.0f | %.1f |\n", names[busy], p.n, p.p50, p.p99,
		       p.max, p.max / p.p50);
	}
}

/* ---- letting go of the image opened ---------------------------------------- */

/* Checkpoint images of `path` mapped by this process. */
static int images_mapped(const char *path)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[4096];
	int n = 0;
	while (f && fgets(line, sizeof line, f))
		n += strstr(line, path) && strstr(line, "/ckpt-");
	if (f)
		fclose(f);
	return n;
}

/* A brain reopened, then its first checkpoint: the image it opened is let
 * go in the background (docs/durability.md, step 5) while a searcher and a
 * writer run. Phase 1 is the checkpoint, phase 2 from its end until the
 * image is unmapped. */
static void part_reopen(const char *root, size_t n, uint32_t dim)
{
	printf("\n### The image a reopened brain maps, let go after its first checkpoint (%zu "
	       "vectors of %u-d, on disk, NORMAL)\n\n", n, dim);
	char path[4096];
	snprintf(path, sizeof path, "%s/bench-live-%d", root, (int)getpid());
	bench_remove_tree(path);
	brain_t *b = open_brain(path, BRAIN_SYNC_NORMAL, BRAIN_BACKGROUND_THREADS, dim);
	uint64_t seed = 5;
	fill_random(b, n, dim, &seed);
	settle(b);
	brain_close(b);
	b = open_brain(path, BRAIN_SYNC_NORMAL, BRAIN_BACKGROUND_THREADS, dim);
	if (brain_set_param(b, BRAIN_PARAM_CHECKPOINT_WAL_BYTES, 0))
		die("set CHECKPOINT_WAL_BYTES", -1);
	bench_lat s[3], w[3];
	for (int i = 0; i < 3; i++) {
		bench_lat_init(&s[i]);
		bench_lat_init(&w[i]);
	}
	atomic_int stop = 0, phase = 0;
	search_arg sa = {b, dim, &stop, &phase, {&s[0], &s[1], &s[2]}};
	adder_arg aa = {b, dim, &stop, &phase, n + 1, {&w[0], &w[1], &w[2]}};
	pthread_t ts, ta;
	pthread_create(&ts, NULL, searcher_main, &sa);
	pthread_create(&ta, NULL, adder_main, &aa);
	struct timespec pause = {2, 0}, step = {0, 1000000L};
	nanosleep(&pause, NULL);
	long anon0 = bench_status_kb("RssAnon"), file0 = bench_status_kb("RssFile");
	int mapped0 = images_mapped(path);
	atomic_store(&phase, 1);
	uint64_t t0 = bench_now_ns();
	int rc = brain_checkpoint(b);
	if (rc)
		die("checkpoint", rc);
	uint64_t t1 = bench_now_ns();
	atomic_store(&phase, 2);
	while (images_mapped(path) > 0 && bench_now_ns() - t1 < UINT64_C(600000000000))
		nanosleep(&step, NULL);
	uint64_t t2 = bench_now_ns();
	int mapped2 = images_mapped(path);
	long anon2 = bench_status_kb("RssAnon"), file2 = bench_status_kb("RssFile");
	atomic_store(&phase, 0);
	nanosleep(&pause, NULL);
	atomic_store(&stop, 1);
	pthread_join(ts, NULL);
	pthread_join(ta, NULL);
	bench_pct p[3], q[3];
	for (int i = 0; i < 3; i++) {
		p[i] = bench_lat_take(&s[i]);
		q[i] = bench_lat_take(&w[i]);
	}
	printf("checkpoint %.2f s; the image let go %.2f s after it (mappings of it: %d before, "
	       "%d after)\n", (double)(t1 - t0) / 1e9, (double)(t2 - t1) / 1e9, mapped0, mapped2);
	printf("RssAnon %ld -> %ld kB, RssFile %ld -> %ld kB\n\n", anon0, anon2, file0, file2);
	printf("| calls | n | p50 us | p99 us | worst us |\n|---|---:|---:|---:|---:|\n");
	print_row("search, before and after", p[0]);
	print_row("search, during the checkpoint", p[1]);
	print_row("search, while the image is let go", p[2]);
	print_row("add, before and after", q[0]);
	print_row("add, during the checkpoint", q[1]);
	print_row("add, while the image is let go", q[2]);
	printf("\nwhile let go: search p99 / p99 outside %.2f, worst / p50 outside %.1f; worst add "
	       "%.1f ms\n", p[2].p99 / p[0].p99, p[2].max / p[0].p50, q[2].max / 1e3);
	brain_close(b);
	bench_remove_tree(path);
}

/* ---- compact -------------------------------------------------------------- */

static brain_stats stats_now(brain_t *b)
{
	brain_stats st;
	brain_stats_init(&st, BRAIN_STATS_VERSION);
	brain_get_stats(b, &st);
	return st;
}

static void part_compact(size_t n, uint32_t dim)
{
	printf("\n### Searches during a compaction (%zu vectors of %u-d, HNSW, in memory, every "
	       "other one forgotten)\n\n", n, dim);
	brain_t *b = open_brain(NULL, BRAIN_SYNC_NORMAL, BRAIN_BACKGROUND_THREADS, dim);
	if (brain_set_param(b, BRAIN_PARAM_COMPACT_FREE, 0))
		die("set COMPACT_FREE", -1);
	uint64_t seed = 5;
	fill_random(b, n, dim, &seed);
	uint64_t full = stats_now(b).heap_index_bytes;
	uint64_t t0 = bench_now_ns(), forget_max = 0;
	for (size_t i = 0; i < n; i += 2) {
		uint64_t f0 = bench_now_ns();
		int rc = brain_forget(b, i + 1);
		if (rc)
			die("forget", rc);
		uint64_t took = bench_now_ns() - f0;
		forget_max = took > forget_max ? took : forget_max;
	}
	double forget_s = (double)(bench_now_ns() - t0) / 1e9;
	settle(b);
	uint64_t holey = stats_now(b).heap_index_bytes;
	bench_lat s0, s1, s2;
	bench_lat_init(&s0);
	bench_lat_init(&s1);
	bench_lat_init(&s2);
	atomic_int stop = 0, phase = 0;
	search_arg sa = {b, dim, &stop, &phase, {&s0, &s1, &s2}};
	pthread_t ts;
	pthread_create(&ts, NULL, searcher_main, &sa);
	struct timespec pause = {2, 0};
	nanosleep(&pause, NULL);
	atomic_store(&phase, 1);
	t0 = bench_now_ns();
	if (brain_set_param(b, BRAIN_PARAM_CIRCADIAN_MS, 0) ||
	    brain_set_param(b, BRAIN_PARAM_COMPACT_FREE, 250))
		die("set COMPACT_FREE", -1);
	/* done once it has moved memories, wants no more and the graph has
	 * taken in what moved */
	for (;;) {
		brain_stats st = stats_now(b);
		char doc[8192];
		bool compacting = brain_health_json(b, doc, sizeof doc) > 0 &&
		                  strstr(doc, "\"compacting\":true") != NULL;
		if (st.circadian_compacted > 0 && !compacting && st.index_pending == 0)
			break;
		struct timespec t = {0, 2000000L};
		nanosleep(&t, NULL);
	}
	double compact_s = (double)(bench_now_ns() - t0) / 1e9;
	atomic_store(&phase, 2);
	nanosleep(&pause, NULL);
	atomic_store(&stop, 1);
	pthread_join(ts, NULL);
	brain_stats st = stats_now(b);
	bench_pct b0 = bench_lat_take(&s0), b1 = bench_lat_take(&s1), b2 = bench_lat_take(&s2);
	printf("forgetting %zu took %.1f s (the worst forget %.1f ms); the compaction moved %llu memories and handed back "
	       "%llu slots in %.1f s (with the graph inserts of what moved)\n", n / 2, forget_s,
	       (double)forget_max / 1e6,
	       (unsigned long long)st.circadian_compacted,
	       (unsigned long long)st.circadian_slots_released, compact_s);
	printf("index heap: %.1f MB full, %.1f MB with half forgotten, %.1f MB compacted\n\n",
	       (double)full / 1e6, (double)holey / 1e6, (double)st.heap_index_bytes / 1e6);
	printf("| calls | n | p50 us | p99 us | worst us |\n|---|---:|---:|---:|---:|\n");
	print_row("search, before", b0);
	print_row("search, during the compaction", b1);
	print_row("search, after", b2);
	printf("\nsearch p99 during / before: %.2f; worst search during / p50 before: %.1f\n",
	       b1.p99 / b0.p99, b1.max / b0.p50);
	double held = health_number(b, "compact_held_us_max");
	if (held >= 0)
		printf("longest pass of the compaction under the write lock: %.0f us (health "
		       "circadian.compact_held_us_max)\n", held);
	brain_close(b);
}

/* ---- async ---------------------------------------------------------------- */

static void part_async(const char *root, size_t n)
{
	printf("\n### Asynchronous against synchronous remember (on disk, %zu texts each)\n\n", n);
	printf("| sync | brain_remember /s | brain_remember_async + brain_flush /s | ratio |\n"
	       "|---|---:|---:|---:|\n");
	int modes[2] = {BRAIN_SYNC_FULL, BRAIN_SYNC_NORMAL};
	for (int m = 0; m < 2; m++) {
		double rate[2];
		for (int async = 0; async < 2; async++) {
			char path[4096];
			snprintf(path, sizeof path, "%s/bench-live-a%d-%d", root, async, (int)getpid());
			bench_remove_tree(path);
			brain_t *b = open_brain(path, modes[m], BRAIN_BACKGROUND_THREADS, 0);
			char text[512];
			uint64_t seed = 5;
			uint64_t t0 = bench_now_ns();
			for (size_t i = 0; i < n; i++) {
				bench_sentence(&seed, text, sizeof text);
				int rc = async ? brain_remember_async(b, text, 0.5f)
				               : brain_remember(b, text, 0.5f);
				if (rc)
					die(async ? "remember_async" : "remember", rc);
			}
			int rc = brain_flush(b);
			if (rc)
				die("flush", rc);
			rate[async] = (double)n / ((double)(bench_now_ns() - t0) / 1e9);
			brain_close(b);
			bench_remove_tree(path);
		}
		printf("| %s | %.0f | %.0f | %.1f |\n", m == 0 ? "FULL" : "NORMAL", rate[0], rate[1],
		       rate[1] / rate[0]);
	}
}

/* ---- heart ---------------------------------------------------------------- */

static void part_heart(const char *root, size_t memories)
{
	printf("\n### Recall and think with the Heart's threads and by hand (on disk, %zu text "
	       "memories)\n\n", memories);
	char path[4096];
	snprintf(path, sizeof path, "%s/bench-live-h-%d", root, (int)getpid());
	bench_remove_tree(path);
	brain_t *b = open_brain(path, BRAIN_SYNC_NORMAL, BRAIN_BACKGROUND_MANUAL, 0);
	fill_text(b, memories, 1);
	brain_tick(b);
	brain_close(b);
	printf("| background | recall p50 us | p99 us | worst us | think p50 us | p99 us | worst us "
	       "|\n|---|---:|---:|---:|---:|---:|---:|\n");
	for (int manual = 0; manual < 2; manual++) {
		b = open_brain(path, BRAIN_SYNC_NORMAL,
		               manual ? BRAIN_BACKGROUND_MANUAL : BRAIN_BACKGROUND_THREADS, 0);
		bench_lat r, t;
		bench_lat_init(&r);
		bench_lat_init(&t);
		recall_timed(b, 3000, 99, &r);
		char q[512], out[2048];
		uint64_t seed = 1234;
		for (int i = 0; i < 1000; i++) {
			bench_sentence(&seed, q, sizeof q);
			uint64_t t0 = bench_now_ns();
			int rc = brain_think(b, q, out, sizeof out);
			bench_lat_add(&t, bench_now_ns() - t0);
			if (rc < 0)
				die("think", rc);
		}
		bench_pct pr = bench_lat_take(&r), pt = bench_lat_take(&t);
		printf("| %s | %.1f | %.1f | %.0f | %.1f | %.1f | %.0f |\n",
		       manual ? "manual" : "threads", pr.p50, pr.p99, pr.max, pt.p50, pt.p99, pt.max);
		brain_close(b);
	}
	bench_remove_tree(path);
}

int main(int argc, char **argv)
{
	const char *root = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	const char *part = "all";
	size_t memories = 20000, vectors = 1000000;
	uint32_t dim = 128;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			root = argv[++i];
		else if (strcmp(argv[i], "--part") == 0 && i + 1 < argc)
			part = argv[++i];
		else if (strcmp(argv[i], "--memories") == 0 && i + 1 < argc)
			memories = (size_t)strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--vectors") == 0 && i + 1 < argc)
			vectors = (size_t)strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--dim") == 0 && i + 1 < argc)
			dim = (uint32_t)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--sync") == 0 && i + 1 < argc && strcmp(argv[i + 1], "off") == 0)
			g_ckpt_sync = BRAIN_SYNC_OFF, i++;
		else if (strcmp(argv[i], "--sync") == 0 && i + 1 < argc &&
		         strcmp(argv[i + 1], "normal") == 0)
			g_ckpt_sync = BRAIN_SYNC_NORMAL, i++;
		else {
			fprintf(stderr, "usage: bench_live [--dir DIR] [--part writers|checkpoint|async|"
			                "heart|floor|compact|reopen|all] [--memories N] [--vectors N] [--dim D] "
			                "[--sync normal|off (checkpoint)]\n");
			return 2;
		}
	}
	char cpu[256];
	bench_cpu_model(cpu, sizeof cpu);
	printf("bench_live: %s, %ld cores online\n", cpu, sysconf(_SC_NPROCESSORS_ONLN));
	bool all = strcmp(part, "all") == 0;
	if (all || strcmp(part, "writers") == 0)
		part_writers(memories);
	if (all || strcmp(part, "async") == 0)
		part_async(root, memories);
	if (all || strcmp(part, "heart") == 0)
		part_heart(root, memories);
	if (all || strcmp(part, "floor") == 0)
		part_floor();
	if (all || strcmp(part, "checkpoint") == 0)
		part_checkpoint(root, vectors, dim);
	if (strcmp(part, "compact") == 0)
		part_compact(vectors, dim);
	if (strcmp(part, "reopen") == 0)
		part_reopen(root, vectors, dim);
	return 0;
}
