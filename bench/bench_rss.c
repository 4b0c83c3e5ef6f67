/*
 * bench/bench_rss.c - what a small text brain costs a process in memory:
 * the peak resident set (VmHWM) of a statically linked process that holds
 * N text memories (default 1,000) in an in-memory brain with the defaults
 * (384-d, built-in embedder), split into the binary's own pages (RssFile)
 * and the heap (RssAnon), beside the brain's own account of its heap by
 * structure (brain_get_stats). It checks that the memories are really
 * held: each of 100 of them, asked for by its own text, must come first.
 *
 *   bench_rss                     the table: baseline, manual, threads,
 *                                 and float rows (HNSW_ELEMENT 0) to compare
 *   bench_rss --one MODE ELEMENT N  one process (MODE manual|threads|none)
 *
 * Each configuration runs in a fresh process (posix_spawn of itself),
 * since a process's peak cannot be reset. Linked with -static, as the
 * issue's figure is: the binary's pages count, shared libraries' would not.
 */
#include <braincore.h>

#include "bench_files.h"
#include "bench_sentences.h"

#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int fail(const char *what, int rc)
{
	printf("FAILED %s: %s: %s\n", what, brain_error_name(rc), brain_errmsg());
	return 1;
}

/* One configuration; prints one line of the table's fields. */
static int one(const char *mode, long element, long n)
{
	long hits = 0, file_kb = bench_status_kb("RssFile"), anon_kb = bench_status_kb("RssAnon");
	brain_stats st;
	memset(&st, 0, sizeof st);
	if (strcmp(mode, "none") != 0) {
		brain_options o;
		brain_options_init(&o, BRAIN_OPTIONS_VERSION);
		o.background =
		    strcmp(mode, "threads") == 0 ? BRAIN_BACKGROUND_THREADS : BRAIN_BACKGROUND_MANUAL;
		brain_t *b = NULL;
		int rc = brain_open(NULL, &o, &b);
		if (rc)
			return fail("open", rc);
		if (element != -1 && (rc = brain_set_param(b, BRAIN_PARAM_HNSW_ELEMENT, element)))
			return fail("HNSW_ELEMENT", rc);
		uint64_t seed = 7;
		char text[512];
		for (long i = 0; i < n; i++) {
			bench_sentence(&seed, text, sizeof text);
			/* distinct texts: the generator may repeat itself */
			size_t len = strlen(text);
			snprintf(text + len, sizeof text - len, " (%ld)", i);
			if ((rc = brain_remember(b, text, 0.5f)))
				return fail("remember", rc);
		}
		if (strcmp(mode, "manual") == 0 && (rc = brain_tick(b)))
			return fail("tick", rc);
		/* really held: 100 of them, each asked for by its own text */
		seed = 7;
		for (long i = 0; i < n; i++) {
			bench_sentence(&seed, text, sizeof text);
			size_t len = strlen(text);
			snprintf(text + len, sizeof text - len, " (%ld)", i);
			if (i % (n / 100 > 0 ? n / 100 : 1) != 0)
				continue;
			brain_id id = 0;
			size_t found = 0;
			if ((rc = brain_recall_ids(b, text, 1, &id, NULL, &found)))
				return fail("recall", rc);
			hits += found == 1 && id == (brain_id)(i + 1);
		}
		brain_stats_init(&st, BRAIN_STATS_VERSION);
		if ((rc = brain_get_stats(b, &st)))
			return fail("stats", rc);
		file_kb = bench_status_kb("RssFile"); /* while it holds them */
		anon_kb = bench_status_kb("RssAnon");
		brain_close(b);
	}
	printf("%-8s %7ld %7ld %6ld %8ld %8ld %8ld %7.2f %7.2f %7.2f %7.2f %5ld\n", mode, element, n,
	       bench_status_kb("VmHWM"), file_kb, anon_kb,
	       (long)(st.heap_peak_bytes / 1024), (double)st.heap_index_bytes / 1048576.0,
	       (double)st.heap_embedder_bytes / 1048576.0, (double)st.heap_records_bytes / 1048576.0,
	       (double)(st.heap_bytes - st.heap_index_bytes - st.heap_embedder_bytes -
	                st.heap_records_bytes) / 1048576.0,
	       hits);
	return 0;
}

static int spawn(const char *self, const char *mode, const char *element, const char *n)
{
	char a0[4096], a1[] = "--one", a2[16], a3[16], a4[32];
	snprintf(a0, sizeof a0, "%s", self);
	snprintf(a2, sizeof a2, "%s", mode);
	snprintf(a3, sizeof a3, "%s", element);
	snprintf(a4, sizeof a4, "%s", n);
	char *argv[] = {a0, a1, a2, a3, a4, NULL};
	pid_t pid;
	if (posix_spawn(&pid, self, NULL, NULL, argv, environ) != 0)
		return 1;
	int st = 0;
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return 1;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "--one") == 0)
		return one(argv[2], strtol(argv[3], NULL, 10), strtol(argv[4], NULL, 10));
	const char *n = "1000";
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "--memories") == 0)
			n = argv[++i];
	char cpu[128];
	bench_cpu_model(cpu, sizeof cpu);
#ifdef BENCH_RSS_DYNAMIC
	printf("bench_rss: a DYNAMICALLY linked process (CRoaring is a shared library here, and "
	       "-static cannot take one: shared libraries' pages count in file) holding %s text "
	       "memories (384-d, built-in embedder, in memory); %s\n",
	       n, cpu);
#else
	printf("bench_rss: a static process holding %s text memories (384-d, built-in embedder, "
	       "in memory); %s\n", n, cpu);
#endif
	printf("peak = VmHWM; file = the binary's pages, anon = the heap, both while holding "
	       "them; brain = the brain's peak heap by its own account, then by structure in MB\n");
	printf("%-8s %7s %7s %6s %8s %8s %8s %7s %7s %7s %7s %5s\n", "mode", "element", "n",
	       "peak kB", "file kB", "anon kB", "brain kB", "index", "embed", "records", "other",
	       "held");
	fflush(stdout);
	const char *self = "/proc/self/exe"; /* (argv[0] may be a name on PATH) */
	if (access(self, X_OK) != 0)
		self = argv[0];
	int rc = spawn(self, "none", "-1", "0");
	rc |= spawn(self, "manual", "-1", n);
	rc |= spawn(self, "threads", "-1", n);
	rc |= spawn(self, "manual", "0", n);
	printf("held: of 100 memories asked for by their own text, how many came first "
	       "(100: all)\n");
	return rc;
}
