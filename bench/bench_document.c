/*
 * bench/bench_document.c - what one long text costs: time and peak memory
 * of brain_remember_document (passages) against one brain_remember of the
 * whole text (the brain's max_text_bytes raised to take it), each in a
 * process of its own so that the peak resident size is the call's.
 *
 *   bench_document [--mb 10] [--way document|whole|both] [--size BYTES]
 *                  [--dir DIR]
 *
 * The text: deterministic English-like sentences (bench_sentences.c), a
 * blank line every eight. The brain: on disk (DIR, else $TMPDIR or /tmp),
 * 384-d, the built-in embedder, NORMAL sync. Printed per way: seconds,
 * the peak resident size of the process (ru_maxrss) and its growth over
 * the resident size before the call, passages, and the brain's heap
 * after (brain_stats).
 */
#include <braincore.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_files.h"
#include "bench_sentences.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long pages = 0, rss = 0;
	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

static char *make_text(size_t bytes, size_t *len)
{
	char *t = malloc(bytes + 512);
	if (!t)
		return NULL;
	uint64_t s = 42;
	size_t n = 0;
	for (int i = 0; n < bytes; i++) {
		char sent[400];
		size_t k = bench_sentence(&s, sent, sizeof sent);
		memcpy(t + n, sent, k);
		n += k;
		const char *gap = i % 8 == 7 ? ".\n\n" : ". ";
		memcpy(t + n, gap, strlen(gap));
		n += strlen(gap);
	}
	t[n] = '\0';
	*len = n;
	return t;
}

static int run(const char *way, size_t mb, size_t size, const char *dir)
{
	size_t len = 0;
	char *text = make_text(mb << 20, &len);
	if (!text)
		return 1;
	char path[4096];
	snprintf(path, sizeof path, "%s/doc-%s", dir, way);
	bench_remove_tree(path);
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.sync = BRAIN_SYNC_NORMAL;
	bool whole = strcmp(way, "whole") == 0;
	if (whole)
		o.max_text_bytes = (uint32_t)(len + 1 < BRAIN_MAX_TEXT_BYTES_LIMIT
		                                  ? len + 1
		                                  : BRAIN_MAX_TEXT_BYTES_LIMIT);
	brain_t *b = NULL;
	int rc = brain_open(path, &o, &b);
	if (rc) {
		fprintf(stderr, "open: %s\n", brain_errmsg());
		return 1;
	}
	long before = rss_kb();
	double t0 = now_s();
	size_t parts = 1;
	if (whole)
		rc = brain_remember_n(b, text, len, 0.5f, NULL, NULL);
	else
		rc = brain_remember_document(b, "bench", text, len, 0.5f, NULL, size, &parts);
	double t1 = now_s();
	if (rc) {
		fprintf(stderr, "%s: %s\n", way, brain_errmsg());
		return 1;
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	brain_stats st;
	brain_stats_init(&st, BRAIN_STATS_VERSION);
	brain_get_stats(b, &st);
	printf("%-8s  %6zu MB text  %8.2f s  peak RSS %7.1f MB (+%7.1f MB over before)  "
	       "%7zu passages  brain heap %7.1f MB, its peak %7.1f MB\n",
	       way, mb, t1 - t0, (double)ru.ru_maxrss / 1024.0,
	       (double)(ru.ru_maxrss - before) / 1024.0, parts, (double)st.heap_bytes / 1048576.0,
	       (double)st.heap_peak_bytes / 1048576.0);
	fflush(stdout); /* the child leaves by _exit */
	brain_close(b);
	bench_remove_tree(path);
	free(text);
	return 0;
}

int main(int argc, char **argv)
{
	size_t mb = 10, size = 0;
	const char *way = "both";
	const char *dir = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--mb") == 0 && i + 1 < argc)
			mb = (size_t)atol(argv[++i]);
		else if (strcmp(argv[i], "--way") == 0 && i + 1 < argc)
			way = argv[++i];
		else if (strcmp(argv[i], "--size") == 0 && i + 1 < argc)
			size = (size_t)atol(argv[++i]);
		else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			dir = argv[++i];
		else {
			fprintf(stderr, "usage: bench_document [--mb N] [--way document|whole|both] "
			                "[--size BYTES] [--dir DIR]\n");
			return 2;
		}
	}
	if (!dir)
		dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	printf("bench_document: %zu MB of sentences, passages of %zu bytes\n", mb,
	       size ? size : (size_t)BRAIN_CHUNK_DEFAULT);
	if (strcmp(way, "both") != 0)
		return run(way, mb, size, dir);
	static const char *const ways[] = {"document", "whole"};
	int status = 0;
	for (int w = 0; w < 2; w++) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0)
			_exit(run(ways[w], mb, size, dir));
		int st = 0;
		waitpid(pid, &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			status = 1;
	}
	return status;
}
