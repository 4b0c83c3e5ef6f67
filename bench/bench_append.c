/*
 * bench/bench_append.c - the latency of each durable write as a user sees
 * it: brain_add() of 384-d vectors into an on-disk brain (flat index, no
 * embedder), every call timed, in each sync mode; mean, p50, p99 and the
 * worst call, and the close (final checkpoint). What the log's own work
 * costs (reserving space, end stamps, fsyncs), without the embedder.
 *
 *   bench_append [--dir DIR] [--n N] [--n-full N] [--reps R]
 *
 * DIR (default $TMPDIR or /tmp) gets a fresh brain per run, removed after.
 * N writes per NORMAL and OFF run (default 20000), --n-full per FULL run
 * (default 3000: one fsync each). Each mode runs R times (default 2).
 */
#include <braincore.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int by_value(const void *pa, const void *pb)
{
	double a = *(const double *)pa, b = *(const double *)pb;
	return (a > b) - (a < b);
}

static int run(const char *dir, int sync, int n)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/bench_append.%ld", dir, (long)time(NULL));
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.dimensions = 384;
	o.embedder = BRAIN_EMBEDDER_NONE;
	o.index = BRAIN_INDEX_FLAT;
	o.sync = sync;
	brain_t *b = NULL;
	if (brain_open(path, &o, &b)) {
		fprintf(stderr, "bench_append: open %s: %s\n", path, brain_errmsg());
		return 1;
	}
	float v[384];
	double *lat = malloc(sizeof *lat * (size_t)n);
	if (!lat)
		return 1;
	for (int i = 0; i < n; i++) {
		for (int d = 0; d < 384; d++)
			v[d] = (float)((i * 31 + d * 7) % 17) - 8.0f + 0.01f * (float)d;
		double t0 = now_s();
		if (brain_add(b, (uint64_t)i + 1, v)) {
			fprintf(stderr, "bench_append: add: %s\n", brain_errmsg());
			return 1;
		}
		lat[i] = now_s() - t0;
	}
	double sum = 0;
	for (int i = 0; i < n; i++)
		sum += lat[i];
	qsort(lat, (size_t)n, sizeof *lat, by_value);
	double t0 = now_s();
	int rc = brain_close(b);
	double close_ms = (now_s() - t0) * 1e3;
	const char *names[] = {"FULL", "NORMAL", "OFF"};
	printf("| %s | %d | %.1f | %.1f | %.1f | %.1f | %.1f |\n", names[sync], n,
	       sum / n * 1e6, lat[n / 2] * 1e6, lat[(size_t)n * 99 / 100] * 1e6,
	       lat[n - 1] * 1e6, close_ms);
	free(lat);
	char cmd[4200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_append: could not remove %s\n", path);
	return rc != 0;
}

int main(int argc, char **argv)
{
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	int n = 20000, n_full = 3000, reps = 2;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--dir"))
			dir = argv[i + 1];
		else if (!strcmp(argv[i], "--n"))
			n = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--n-full"))
			n_full = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--reps"))
			reps = atoi(argv[i + 1]);
		else {
			fprintf(stderr, "usage: bench_append [--dir DIR] [--n N] [--n-full N] "
			        "[--reps R]\n");
			return 2;
		}
	}
	if (n < 100 || n_full < 100 || reps < 1) {
		fprintf(stderr, "bench_append: --n and --n-full at least 100, --reps at least 1\n");
		return 2;
	}
	printf("| sync | writes | mean us | p50 us | p99 us | worst us | close ms |\n");
	printf("|---|---|---|---|---|---|---|\n");
	int fails = 0;
	for (int r = 0; r < reps; r++)
		for (int sync = 0; sync < 3; sync++)
			fails += run(dir, sync, sync == BRAIN_SYNC_FULL ? n_full : n);
	return fails ? 1 : 0;
}
