/*
 * bench/bench_checkpoint.c - what a checkpoint costs as a brain grows: the
 * stall (brain_checkpoint() holds the write lock for its whole length) and
 * the bytes written, for the first checkpoint after a bulk load and for
 * one after a small change (1% of the vectors added, or 100 updated), per
 * index backend and size.
 *
 *   bench_checkpoint [--dir DIR] [--dim D] [--sizes 1000,100000,1000000]
 *                    [--index flat|hnsw|both]
 *
 * The index backends keep their rows in segment files of their own and a
 * checkpoint writes only the row chunks that changed (index vtable
 * version 4); the records, ids and the hnsw upper layers are rewritten in
 * the image each time. Bytes written are the growth of the directory's
 * files (segments and image) that the checkpoint made.
 */
#include <braincore.h>

#include "bench_files.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static unsigned long long g_rng = 0x9e3779b97f4a7c15ull;

static float rnd(void)
{
	g_rng ^= g_rng << 13;
	g_rng ^= g_rng >> 7;
	g_rng ^= g_rng << 17;
	return (float)(g_rng >> 40) / (float)(1u << 24) - 0.5f;
}

/* Bytes of the files in dir whose names begin with "ckpt-" or "index-"
 * and that are newer than `since` (a set of names seen before). */
typedef struct seen {
	char names[256][256];
	size_t n;
} seen;

static bool was_seen(const seen *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->names[i], name) == 0)
			return true;
	return false;
}

/* Bytes in files not in *s (then added to it). */
static unsigned long long new_bytes(const char *dir, seen *s)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	unsigned long long total = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "ckpt-", 5) != 0 && strncmp(e->d_name, "index-", 6) != 0)
			continue;
		if (was_seen(s, e->d_name))
			continue;
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		struct stat st;
		if (stat(path, &st) == 0)
			total += (unsigned long long)st.st_size;
		if (s->n < 256)
			snprintf(s->names[s->n++], sizeof s->names[0], "%s", e->d_name);
	}
	closedir(d);
	return total;
}


static void die(const char *what)
{
	fprintf(stderr, "bench_checkpoint: %s: %s\n", what, brain_errmsg());
	exit(1);
}

static void run(const char *root, const char *index, size_t n, uint32_t dim)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/bench_checkpoint.%s.%zu.%ld", root, index, n, (long)getpid());
	bench_remove_tree(dir);
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.dimensions = dim;
	o.metric = BRAIN_METRIC_L2;
	o.embedder = BRAIN_EMBEDDER_NONE;
	o.index = strcmp(index, "flat") == 0 ? BRAIN_INDEX_FLAT : BRAIN_INDEX_HNSW;
	o.sync = BRAIN_SYNC_NORMAL;
	o.max_memories = n + n / 50 + 16;
	brain_t *b = NULL;
	if (brain_open(dir, &o, &b))
		die("open");
	seen s = {.n = 0};
	new_bytes(dir, &s); /* the new brain's first files */
	size_t more = n / 100 ? n / 100 : 1;
	float *rows = malloc((n + more) * dim * sizeof *rows);
	uint64_t *ids = malloc((n + more) * sizeof *ids);
	if (!rows || !ids) {
		fprintf(stderr, "bench_checkpoint: out of memory\n");
		exit(1);
	}
	for (size_t i = 0; i < (n + more) * dim; i++)
		rows[i] = rnd();
	for (size_t i = 0; i < n + more; i++)
		ids[i] = i + 1;
	double t = now_s();
	if (brain_add_batch(b, ids, rows, n))
		die("add_batch");
	double load = now_s() - t;
	t = now_s();
	if (brain_checkpoint(b))
		die("checkpoint");
	double first = now_s() - t;
	unsigned long long first_bytes = new_bytes(dir, &s);

	/* 1% more, appended */
	if (brain_add_batch(b, ids + n, rows + n * dim, more))
		die("add_batch (more)");
	t = now_s();
	if (brain_checkpoint(b))
		die("checkpoint (after adds)");
	double after_add = now_s() - t;
	unsigned long long add_bytes = new_bytes(dir, &s);

	/* 100 vectors updated, spread over the brain */
	size_t nup = n < 100 ? n : 100;
	for (size_t i = 0; i < nup; i++) {
		size_t id = 1 + (i * 7919) % n;
		if (brain_update_vector(b, id, rows + ((id + 1) % n) * dim))
			die("update_vector");
	}
	t = now_s();
	if (brain_checkpoint(b))
		die("checkpoint (after updates)");
	double after_update = now_s() - t;
	unsigned long long update_bytes = new_bytes(dir, &s);

	t = now_s();
	if (brain_close(b))
		die("close");
	double close_s = now_s() - t;
	t = now_s();
	if (brain_open(dir, &o, &b))
		die("reopen");
	double reopen = now_s() - t;
	brain_close(b);
	printf("| %s | %zu | %.2f | %.3f (%.1f MB) | %.3f (%.1f MB) | %.3f (%.1f MB) | %.3f | %.3f |\n",
	       index, n, load, first, first_bytes / 1e6, after_add, add_bytes / 1e6, after_update,
	       update_bytes / 1e6, close_s, reopen);
	fflush(stdout);
	free(rows);
	free(ids);
	bench_remove_tree(dir);
}

int main(int argc, char **argv)
{
	const char *root = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	const char *sizes = "1000,100000,1000000";
	const char *which = "both";
	uint32_t dim = 128;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			root = argv[++i];
		else if (strcmp(argv[i], "--sizes") == 0 && i + 1 < argc)
			sizes = argv[++i];
		else if (strcmp(argv[i], "--index") == 0 && i + 1 < argc)
			which = argv[++i];
		else if (strcmp(argv[i], "--dim") == 0 && i + 1 < argc)
			dim = (uint32_t)strtoul(argv[++i], NULL, 10);
		else {
			fprintf(stderr, "usage: bench_checkpoint [--dir DIR] [--dim D] [--sizes LIST] "
			                "[--index flat|hnsw|both]\n");
			return 2;
		}
	}
	printf("%u-d float vectors, L2, sync NORMAL; seconds (and MB written) of each "
	       "brain_checkpoint()\n\n",
	       dim);
	printf("| index | n | load s | first checkpoint | after +1%% | after 100 updates | close s "
	       "| reopen s |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
	char list[256];
	snprintf(list, sizeof list, "%s", sizes);
	for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
		size_t n = (size_t)strtoull(tok, NULL, 10);
		if (strcmp(which, "hnsw") != 0)
			run(root, "flat", n, dim);
		if (strcmp(which, "flat") != 0)
			run(root, "hnsw", n, dim);
	}
	return 0;
}
