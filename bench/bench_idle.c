/*
 * bench/bench_idle.c - what open brains cost when nobody uses them: the
 * process's CPU time (user + system, getrusage) over a quiet interval with
 * N on-disk brains open (the Heart's clock and worker threads beating
 * them, NORMAL sync), against the same interval with none open, and its
 * threads.
 *
 *   bench_idle [--dir DIR] [--brains N] [--seconds S]
 *
 * Defaults: $TMPDIR or /tmp, 10 brains, 10 seconds.
 */
#include <braincore.h>

#include "bench_files.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static double cpu_s(void)
{
	struct rusage u;
	getrusage(RUSAGE_SELF, &u);
	return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec / 1e6 +
	       (double)u.ru_stime.tv_sec + (double)u.ru_stime.tv_usec / 1e6;
}

static int threads(void)
{
	DIR *d = opendir("/proc/self/task");
	int n = 0;
	struct dirent *e;
	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static void quiet(int seconds)
{
	struct timespec t = {seconds, 0};
	while (nanosleep(&t, &t) != 0)
		;
}


int main(int argc, char **argv)
{
	const char *root = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	int n = 10, seconds = 10;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			root = argv[++i];
		else if (strcmp(argv[i], "--brains") == 0 && i + 1 < argc)
			n = atoi(argv[++i]);
		else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
			seconds = atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: bench_idle [--dir DIR] [--brains N] [--seconds S]\n");
			return 2;
		}
	}
	if (n < 1 || n > 1000 || seconds < 1) {
		fprintf(stderr, "bench_idle: --brains 1..1000, --seconds >= 1\n");
		return 2;
	}
	double c0 = cpu_s();
	quiet(seconds);
	double none = cpu_s() - c0;
	int t0 = threads();

	brain_t **b = calloc((size_t)n, sizeof *b);
	char (*dirs)[4096] = calloc((size_t)n, sizeof *dirs);
	if (!b || !dirs)
		return 1;
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.dimensions = 64;
	o.embedder = BRAIN_EMBEDDER_NONE;
	o.sync = BRAIN_SYNC_NORMAL;
	for (int i = 0; i < n; i++) {
		snprintf(dirs[i], sizeof dirs[i], "%s/bench_idle.%ld.%d", root, (long)getpid(), i);
		if (brain_open(dirs[i], &o, &b[i])) {
			fprintf(stderr, "bench_idle: open %s: %s\n", dirs[i], brain_errmsg());
			return 1;
		}
		float v[64] = {1.0f};
		brain_add(b[i], 1, v); /* something to hold */
	}
	int t1 = threads();
	quiet(1); /* the first beats and the NORMAL fsync of the adds */
	c0 = cpu_s();
	quiet(seconds);
	double open_cpu = cpu_s() - c0;
	for (int i = 0; i < n; i++) {
		brain_close(b[i]);
		bench_remove_tree(dirs[i]);
	}
	int t2 = threads();
	printf("| brains | seconds | CPU s, none open | CPU s, open and idle | per brain per second | "
	       "threads before / open / after |\n|---:|---:|---:|---:|---:|---|\n");
	printf("| %d | %d | %.4f | %.4f | %.1f us | %d / %d / %d |\n", n, seconds, none, open_cpu,
	       open_cpu / n / seconds * 1e6, t0, t1, t2);
	free(b);
	free(dirs);
	return 0;
}
