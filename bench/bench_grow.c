/*
 * bench/bench_grow.c - a text brain growing as a new user's would: one
 * thread remembering sentences (384-d, the built-in embedder, the default
 * index, AUTO), timed call by call, and at each size a burst of remembers
 * and a run of recalls, the user's view of a brain's life.
 *
 *   bench_grow [--sizes 1000,9999,10001,100000] [--burst 50000]
 *              [--recalls 1000] [--dir DIR | --memory] [--sync normal|full]
 *              [--tail N] [--manual]
 *
 * For each size S in turn (the brain grows from one to the next):
 *   fill    remember until the brain holds S memories; every call timed.
 *           The sustained rate: once the index's tail (vectors not yet in
 *           its graph) reaches INDEX_TAIL_MAX, a remember inserts its own
 *           vector, so the fill runs at the rate the graph can be built;
 *   settle  wait until the tail is built (the background's work; with
 *           --manual, brain_tick), timed: the build rate;
 *   recall  --recalls brain_recall_ids(k = 5) of other sentences, each timed;
 *   burst   --burst remembers more (the brain then holds S + burst), each
 *           timed, then settles again (not counted in the next fill).
 * Figures: p50, p99 and the worst call of each, and where the worst fill
 * call happened. Defaults: an on-disk brain in $TMPDIR or /tmp with
 * NORMAL sync, sizes 1,000 / 9,999 / 10,001 / 100,000, bursts of 50,000
 * (bounded by the size), 1,000 recalls.
 */
#include <braincore.h>

#include "bench_files.h"
#include "bench_sentences.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what, int rc)
{
	fprintf(stderr, "bench_grow: %s: %s: %s\n", what, brain_error_name(rc), brain_errmsg());
	exit(1);
}

static uint64_t pending(brain_t *b)
{
	brain_stats st;
	brain_stats_init(&st, BRAIN_STATS_VERSION);
	int rc = brain_get_stats(b, &st);
	if (rc)
		die("stats", rc);
	return st.index_pending;
}

/* Wait until the tail is built; seconds. */
static double settle(brain_t *b, int manual)
{
	uint64_t t0 = bench_now_ns();
	if (manual) {
		int rc = brain_tick(b);
		if (rc)
			die("tick", rc);
	}
	while (pending(b) > 0) {
		struct timespec t = {0, 2000000L};
		nanosleep(&t, NULL);
	}
	return (double)(bench_now_ns() - t0) / 1e9;
}

static void remember_timed(brain_t *b, uint64_t *rng, bench_lat *t)
{
	char text[512];
	bench_sentence(rng, text, sizeof text);
	uint64_t t0 = bench_now_ns();
	int rc = brain_remember(b, text, 0.5f);
	uint64_t t1 = bench_now_ns();
	if (rc)
		die("remember", rc);
	bench_lat_add(t, t1 - t0);
}

int main(int argc, char **argv)
{
	const char *root = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	const char *sizes_arg = "1000,9999,10001,100000";
	size_t burst = 50000, recalls = 1000;
	int memory = 0, manual = 0, sync = BRAIN_SYNC_NORMAL;
	long long tail = -1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--sizes") == 0 && i + 1 < argc)
			sizes_arg = argv[++i];
		else if (strcmp(argv[i], "--burst") == 0 && i + 1 < argc)
			burst = (size_t)strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--recalls") == 0 && i + 1 < argc)
			recalls = (size_t)strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			root = argv[++i];
		else if (strcmp(argv[i], "--memory") == 0)
			memory = 1;
		else if (strcmp(argv[i], "--manual") == 0)
			manual = 1;
		else if (strcmp(argv[i], "--tail") == 0 && i + 1 < argc)
			tail = atoll(argv[++i]);
		else if (strcmp(argv[i], "--sync") == 0 && i + 1 < argc)
			sync = strcmp(argv[++i], "full") == 0 ? BRAIN_SYNC_FULL : BRAIN_SYNC_NORMAL;
		else {
			fprintf(stderr, "usage: bench_grow [--sizes A,B,..] [--burst N] [--recalls N] "
			                "[--dir DIR | --memory] [--sync normal|full] [--tail N] "
			                "[--manual]\n");
			return 2;
		}
	}
	char path[4096] = "";
	if (!memory) {
		snprintf(path, sizeof path, "%s/bench-grow-%d", root, (int)getpid());
		bench_remove_tree(path);
	}
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.sync = sync;
	o.background = manual ? BRAIN_BACKGROUND_MANUAL : BRAIN_BACKGROUND_THREADS;
	brain_t *b = NULL;
	int rc = brain_open(memory ? NULL : path, &o, &b);
	if (rc)
		die("open", rc);
	if (tail >= 0 && (rc = brain_set_param(b, BRAIN_PARAM_INDEX_TAIL_MAX, tail)) != 0)
		die("set INDEX_TAIL_MAX", rc);
	int64_t tail_max = 0;
	brain_get_param(b, BRAIN_PARAM_INDEX_TAIL_MAX, &tail_max);
	char cpu[256];
	bench_cpu_model(cpu, sizeof cpu);
	printf("bench_grow: %s brain%s, 384-d built-in embedder, index AUTO, INDEX_TAIL_MAX %lld, "
	       "background %s; %s, %ld cores online\n",
	       memory ? "in-memory" : "on-disk",
	       memory ? "" : sync == BRAIN_SYNC_FULL ? " (FULL sync)" : " (NORMAL sync)",
	       (long long)tail_max, manual ? "manual (brain_tick)" : "threads", cpu,
	       sysconf(_SC_NPROCESSORS_ONLN));
	printf("| size | fill: remembers | fill/s | p50 us | p99 us | worst us (at) | settle s | "
	       "recall p50 us | p99 us | worst us | burst | burst p50 us | p99 us | worst us | "
	       "burst/s | settle s |\n");
	printf("|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	fflush(stdout);
	bench_lat t;
	bench_lat_init(&t);
	uint64_t rng = 42, qrng = 4242;
	const char *p = sizes_arg;
	while (*p) {
		size_t size = (size_t)strtoull(p, NULL, 10);
		const char *comma = strchr(p, ',');
		p = comma ? comma + 1 : p + strlen(p);
		uint64_t have = brain_count(b);
		if (size < have)
			continue;
		/* fill */
		uint64_t t0 = bench_now_ns();
		size_t filled = (size_t)(size - have);
		for (size_t i = 0; i < filled; i++)
			remember_timed(b, &rng, &t);
		double fill_s = (double)(bench_now_ns() - t0) / 1e9;
		bench_pct fill = bench_lat_take(&t);
		double settle1 = settle(b, manual);
		/* recall */
		char q[512];
		for (size_t i = 0; i < recalls; i++) {
			bench_sentence(&qrng, q, sizeof q);
			brain_id ids[5];
			float scores[5];
			size_t found;
			uint64_t r0 = bench_now_ns();
			rc = brain_recall_ids(b, q, 5, ids, scores, &found);
			uint64_t r1 = bench_now_ns();
			if (rc)
				die("recall", rc);
			bench_lat_add(&t, r1 - r0);
		}
		bench_pct rec = bench_lat_take(&t);
		/* burst */
		size_t nb = burst < size ? burst : size;
		t0 = bench_now_ns();
		for (size_t i = 0; i < nb; i++)
			remember_timed(b, &rng, &t);
		double burst_s = (double)(bench_now_ns() - t0) / 1e9;
		bench_pct bu = bench_lat_take(&t);
		double settle2 = settle(b, manual);
		printf("| %zu | %zu | %.0f | %.1f | %.1f | %.0f (#%zu) | %.2f | %.1f | %.1f | %.0f | "
		       "%zu | %.1f | %.1f | %.0f | %.0f | %.2f |\n",
		       size, filled, filled ? (double)filled / fill_s : 0.0, fill.p50, fill.p99,
		       fill.max, (size_t)have + fill.worst_at + 1, settle1, rec.p50, rec.p99,
		       rec.max, nb, bu.p50, bu.p99, bu.max,
		       nb ? (double)nb / burst_s : 0.0, settle2);
		fflush(stdout);
	}
	bench_lat_free(&t);
	rc = brain_close(b);
	if (rc)
		die("close", rc);
	if (!memory)
		bench_remove_tree(path);
	return 0;
}
