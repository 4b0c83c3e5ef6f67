/*
 * bench/bench_embed.c - the transformer runtime's speed: sentences per
 * second of one forward pass per sentence (batch 1, as remember does), on
 * one thread at each SIMD level and on all cores, with the latency a
 * caller sees (median, p99, worst) and the memory the model costs.
 *
 *   tools/bert_model.py write M --layers 6 --hidden 384 --heads 12 \
 *       --inter 1536 --max-pos 512 --vocab-words 30522
 *   tools/bert_model.py sentences M 1000 S.txt
 *   bench_embed M/model-f32.gguf S.txt [--n 1000] [--warmup 50]
 *
 * The peer in the same run is ONNX Runtime on the same weights
 * (bench/bench_embed_ort.js; bench/README.md has both and their ratio).
 * MODEL is anything BRAIN_EMBEDDER_MODEL loads (a .gguf file or a model
 * directory); SENTENCES one per line.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"
#include "organs/cortex/bert_kernels.h"
#include "organs/cortex/model.h"

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long pages = 0, res = 0;
	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &res) != 2)
			res = 0;
		fclose(f);
	}
	return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: bench_embed MODEL SENTENCES [--n N] [--warmup N]\n");
		return 2;
	}
	size_t n = 1000, warm = 50;
	for (int i = 3; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--n") == 0)
			n = (size_t)strtoul(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--warmup") == 0)
			warm = (size_t)strtoul(argv[i + 1], NULL, 10);
	}
	FILE *f = fopen(argv[2], "r");
	if (!f) {
		perror(argv[2]);
		return 1;
	}
	size_t cap = 1024, ns = 0;
	char **sent = malloc(cap * sizeof *sent);
	size_t *lens = malloc(cap * sizeof *lens);
	char *line = NULL;
	size_t lcap = 0;
	ssize_t got;
	while (sent && lens && (got = getline(&line, &lcap, f)) > 0) {
		if (line[got - 1] == '\n')
			line[--got] = '\0';
		if (!got)
			continue;
		if (ns == cap) {
			cap *= 2;
			sent = realloc(sent, cap * sizeof *sent);
			lens = realloc(lens, cap * sizeof *lens);
			if (!sent || !lens)
				return 1;
		}
		sent[ns] = strdup(line);
		lens[ns++] = (size_t)got;
	}
	free(line);
	fclose(f);
	if (!ns) {
		fprintf(stderr, "bench_embed: no sentences in %s\n", argv[2]);
		return 1;
	}
	long rss0 = rss_kb();
	double t0 = now_s();
	brain_model *m = NULL;
	if (brain__model_acquire(argv[1], &m)) {
		fprintf(stderr, "bench_embed: %s\n", brain_errmsg());
		return 1;
	}
	double load = now_s() - t0;
	size_t dims = brain__model_dimensions(m);
	float *out = malloc(n * dims * sizeof *out);
	double *lat = malloc(n * sizeof *lat);
	if (!out || !lat)
		return 1;
	size_t tokens = 0;
	for (size_t i = 0; i < n; i++) {
		int32_t *ids = NULL;
		size_t k = 0;
		if (brain__model_tokens(m, sent[i % ns], lens[i % ns], &ids, &k) == 0)
			tokens += k;
		brain__free(ids);
	}
	printf("{\"model\": \"%s\", \"describe\": \"%s\", \"load_s\": %.3f, \"rss_after_load_mb\": "
	       "%.1f, \"sentences\": %zu, \"mean_tokens\": %.1f,\n", argv[1], brain__model_describe(m),
	       load, (double)(rss_kb() - rss0) / 1024.0, n, (double)tokens / (double)n);
	printf(" \"one_thread\": {");
	/* --level NAME: that level alone (for a profile) */
	const char *only = NULL;
	for (int i = 3; i + 1 < argc; i += 2)
		if (strcmp(argv[i], "--level") == 0)
			only = argv[i + 1];
	bool first = true;
	for (int level = 0; level < BRAIN_MATK__COUNT; level++) {
		if (!brain__matk_supported(level) || (only && strcmp(only, brain__matk_name(level))))
			continue;
		brain__model_set_level(m, level);
		/* the scalar level is slow: fewer sentences */
		size_t runs = level == 0 ? (n < 100 ? n : 100) : n;
		for (size_t i = 0; i < warm && i < runs; i++)
			(void)brain__model_embed(m, sent[i % ns], lens[i % ns], out);
		double start = now_s();
		for (size_t i = 0; i < runs; i++) {
			double a = now_s();
			if (brain__model_embed(m, sent[i % ns], lens[i % ns], out + i * dims)) {
				fprintf(stderr, "bench_embed: %s\n", brain_errmsg());
				return 1;
			}
			lat[i] = now_s() - a;
		}
		double secs = now_s() - start;
		qsort(lat, runs, sizeof *lat, cmp_double);
		printf("%s\"%s\": {\"per_s\": %.1f, \"p50_ms\": %.3f, \"p99_ms\": %.3f, \"max_ms\": "
		       "%.3f}", first ? "" : ", ", brain__matk_name(level), (double)runs / secs,
		       lat[runs / 2] * 1e3, lat[runs * 99 / 100] * 1e3, lat[runs - 1] * 1e3);
		first = false;
	}
	brain__model_set_level(m, -1);
	printf("},\n");
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	const char **texts = malloc(n * sizeof *texts);
	size_t *tl = malloc(n * sizeof *tl);
	if (!texts || !tl)
		return 1;
	for (size_t i = 0; i < n; i++) {
		texts[i] = sent[i % ns];
		tl[i] = lens[i % ns];
	}
	double start = now_s();
	if (brain__model_embed_batch(m, texts, tl, n, 0, out)) {
		fprintf(stderr, "bench_embed: %s\n", brain_errmsg());
		return 1;
	}
	double secs = now_s() - start;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf(" \"all_cores\": {\"threads\": %ld, \"per_s\": %.1f}, \"peak_rss_mb\": %.1f}\n", cores,
	       (double)n / secs, (double)ru.ru_maxrss / 1024.0);
	brain__model_release(m);
	for (size_t i = 0; i < ns; i++)
		free(sent[i]);
	free(sent);
	free(lens);
	free(out);
	free(lat);
	free(texts);
	free(tl);
	return 0;
}
