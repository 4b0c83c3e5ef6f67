/*
 * tools/cli_bench.c - `bench`: how fast and how right recall is on the
 * user's own brain, opened read-only.
 *
 * The queries are a sample of the brain's own texts (N memories with
 * text, chosen by a fixed seed, so every run asks the same), each recalled
 * as an application would (brain_recall_results, k results). The exact
 * answer of each is the same recall with HNSW_EXACT_BELOW raised past the
 * brain's size, which the Thalamus plans as a scan of every vector: the
 * library's exact reference, ranked the same way (opening the brain a
 * second time with BRAIN_INDEX_FLAT is no way to it: with
 * BRAIN_OPEN_STORED_OPTIONS the stored index wins, and without, FLAT does
 * not match the brain's HNSW index). Then, for HNSW_EF_SEARCH 16 to 256,
 * every query once: latency percentiles and recall@k against the exact
 * answers. A brain whose embedder is not at hand (a model's brain without
 * --model) is asked with the sampled memories' stored vectors instead
 * (brain_search).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <braincore.h>

#include "cli.h"
#include "cli_json.h"
#include "cli_output.h"
#include "cli_progress.h"

#define DEFAULT_QUERIES 200
#define DEFAULT_K 10
#define SAMPLE_SEED 42
#define LIST_PAGE 4096

static const int64_t g_efs[] = {16, 32, 64, 128, 256};
#define NEFS (sizeof g_efs / sizeof g_efs[0])

/* One pass of every query. */
typedef struct pass {
	int64_t ef; /* -1: the exact scan */
	double recall;
	double p50, p90, p99, max, mean; /* milliseconds */
} pass;

typedef struct bench {
	brain_t *b;
	size_t k, nq;
	int vectors;     /* queries are stored vectors, not texts */
	char **texts;    /* nq texts */
	float *vecs;     /* nq vectors of dims */
	uint32_t dims;
	brain_id *exact; /* nq * k: the exact answers */
	size_t *nexact;
	brain_id *got;   /* nq * k: a pass's answers */
	size_t *ngot;
	double *lat;     /* nq latencies of a pass, seconds */
} bench;

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static int by_id(const void *a, const void *b)
{
	brain_id x = *(const brain_id *)a, y = *(const brain_id *)b;
	return (x > y) - (x < y);
}

static int by_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The ids of the memories with text (every memory with all), in id order. */
static int collect_ids(brain_t *b, int all, brain_id **out, size_t *n)
{
	size_t cap = 1024;
	brain_id *ids = malloc(cap * sizeof *ids), after = BRAIN_ID_NONE;
	*n = 0;
	if (!ids)
		return cli_out_of_memory();
	for (;;) {
		brain_results *r = NULL;
		int rc = brain_list(b, NULL, after, LIST_PAGE, &r);
		if (rc) {
			free(ids);
			return cli_refused(rc, NULL);
		}
		size_t got = brain_results_count(r);
		for (size_t i = 0; i < got; i++) {
			after = brain_results_id(r, i);
			if (!all && !brain_results_text(r, i))
				continue;
			if (*n == cap) {
				brain_id *more = realloc(ids, 2 * cap * sizeof *ids);
				if (!more) {
					brain_results_free(r);
					free(ids);
					return cli_out_of_memory();
				}
				ids = more;
				cap *= 2;
			}
			ids[(*n)++] = after;
		}
		brain_results_free(r);
		if (got < LIST_PAGE)
			break;
	}
	*out = ids;
	return CLI_EXIT_OK;
}

/* The first `want` of a Fisher-Yates shuffle of ids[0..n) by the fixed
 * seed, in id order. */
static size_t sample(brain_id *ids, size_t n, size_t want)
{
	uint64_t s = SAMPLE_SEED;
	if (want > n)
		want = n;
	for (size_t i = 0; i < want; i++) {
		size_t j = i + (size_t)(splitmix64(&s) % (n - i));
		brain_id t = ids[i];
		ids[i] = ids[j];
		ids[j] = t;
	}
	qsort(ids, want, sizeof *ids, by_id);
	return want;
}

/* The texts (or vectors) of the sampled memories. */
static int load_queries(bench *bn, const brain_id *ids)
{
	for (size_t q = 0; q < bn->nq; q++) {
		int rc;
		if (bn->vectors) {
			rc = brain_get_vector(bn->b, ids[q], bn->vecs + q * bn->dims);
		} else {
			brain_results *r = NULL;
			rc = brain_get(bn->b, ids[q], &r);
			if (rc == BRAIN_OK) {
				size_t len = brain_results_text_len(r, 0);
				bn->texts[q] = malloc(len + 1);
				if (bn->texts[q]) {
					memcpy(bn->texts[q], brain_results_text(r, 0), len);
					bn->texts[q][len] = '\0';
				}
			}
			brain_results_free(r);
			if (rc == BRAIN_OK && !bn->texts[q])
				return cli_out_of_memory();
		}
		if (rc)
			return cli_refused(rc, "reading the queries");
	}
	return CLI_EXIT_OK;
}

/* Query q once: its answers into ids (k), how many into *found. */
static int ask(bench *bn, size_t q, brain_id *ids, size_t *found)
{
	if (bn->vectors)
		return brain_search(bn->b, bn->vecs + q * bn->dims, bn->k, ids, NULL, found);
	brain_results *r = NULL;
	int rc = brain_recall_results(bn->b, bn->texts[q], bn->k, &r);
	if (rc == BRAIN_OK) {
		*found = brain_results_count(r);
		for (size_t i = 0; i < *found; i++)
			ids[i] = brain_results_id(r, i);
	}
	brain_results_free(r);
	return rc;
}

/* Every query once at the brain's settings now: answers into ids/found,
 * latencies into bn->lat, their figures (and recall against the exact
 * answers, unless this is the exact pass) into *p. */
static int run_pass(bench *bn, brain_id *ids, size_t *found, pass *p)
{
	for (size_t q = 0; q < bn->nq; q++) {
		double t0 = cli_now();
		int rc = ask(bn, q, ids + q * bn->k, &found[q]);
		bn->lat[q] = cli_now() - t0;
		if (rc)
			return cli_refused(rc, "recall");
	}
	double sum = 0, hits = 0;
	size_t judged = 0;
	for (size_t q = 0; q < bn->nq; q++) {
		sum += bn->lat[q];
		if (ids == bn->exact || bn->nexact[q] == 0)
			continue;
		size_t h = 0;
		for (size_t i = 0; i < found[q]; i++)
			for (size_t e = 0; e < bn->nexact[q]; e++)
				h += ids[q * bn->k + i] == bn->exact[q * bn->k + e];
		hits += (double)h / (double)bn->nexact[q];
		judged++;
	}
	p->recall = ids == bn->exact ? 1.0 : judged ? hits / (double)judged : 1.0;
	qsort(bn->lat, bn->nq, sizeof *bn->lat, by_double);
	/* nearest rank: the smallest latency with at least that share at or below it */
	const double shares[] = {0.50, 0.90, 0.99};
	double *out[] = {&p->p50, &p->p90, &p->p99};
	for (int i = 0; i < 3; i++) {
		size_t rank = (size_t)(shares[i] * (double)bn->nq + 0.999999);
		*out[i] = bn->lat[rank ? rank - 1 : 0] * 1e3;
	}
	p->max = bn->lat[bn->nq - 1] * 1e3;
	p->mean = sum / (double)bn->nq * 1e3;
	return CLI_EXIT_OK;
}

/* "Intel(R) Xeon(R) ..." from /proc/cpuinfo, or "unknown". */
static void cpu_model(char *buf, size_t size)
{
	snprintf(buf, size, "unknown");
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return;
	char line[512];
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, "model name", 10) == 0) {
			char *v = strchr(line, ':');
			if (v) {
				v += 1 + strspn(v + 1, " \t");
				v[strcspn(v, "\n")] = '\0';
				snprintf(buf, size, "%s", v);
			}
			break;
		}
	}
	fclose(f);
}

static void pass_json(cli_json *j, const pass *p)
{
	cli_json_begin_object(j);
	cli_json_key(j, "ef_search");
	if (p->ef < 0)
		cli_json_null(j);
	else
		cli_json_int(j, p->ef);
	cli_json_key(j, "recall_at_k");
	cli_json_number(j, p->recall, 4);
	static const char *const names[] = {"p50_ms", "p90_ms", "p99_ms", "max_ms", "mean_ms"};
	const double v[] = {p->p50, p->p90, p->p99, p->max, p->mean};
	for (int i = 0; i < 5; i++) {
		cli_json_key(j, names[i]);
		cli_json_number(j, v[i], 4);
	}
	cli_json_end_object(j);
}

static void pass_row(const char *label, const pass *p)
{
	printf("%14s  %9.4f  %8.3f  %8.3f  %8.3f  %8.3f\n", label, p->recall, p->p50, p->p90, p->p99,
	       p->max);
}

typedef struct report {
	const char *dir;
	char cpu[256];
	long cpus;
	brain_stats st;
	size_t of; /* memories the sample was taken from */
	int64_t ef0, exact_below;
	uint64_t backlog; /* vectors built into the graph before the bench */
	pass at_ef0, table[NEFS], exact;
} report;

static int print_report(const cli *c, const bench *bn, const report *rp)
{
	int graph = rp->st.memories >= (uint64_t)rp->exact_below;
	if (c->json) {
		cli_json j;
		cli_json_init(&j);
		cli_json_begin_object(&j);
		cli_json_key(&j, "brain");
		cli_json_string(&j, rp->dir);
		cli_json_key(&j, "cpu");
		cli_json_string(&j, rp->cpu);
		cli_json_key(&j, "cpus");
		cli_json_int(&j, rp->cpus);
		cli_json_key(&j, "memories");
		cli_json_uint(&j, rp->st.memories);
		cli_json_key(&j, "text_memories");
		cli_json_uint(&j, rp->st.text_memories);
		cli_json_key(&j, "dimensions");
		cli_json_uint(&j, rp->st.dimensions);
		cli_json_key(&j, "metric");
		cli_json_string(&j, brain_metric_name(rp->st.metric));
		cli_json_key(&j, "built_first");
		cli_json_uint(&j, rp->backlog);
		cli_json_key(&j, "hnsw_exact_below");
		cli_json_int(&j, rp->exact_below);
		cli_json_key(&j, "walks_graph");
		cli_json_bool(&j, graph);
		cli_json_key(&j, "queries");
		cli_json_begin_object(&j);
		cli_json_key(&j, "count");
		cli_json_uint(&j, bn->nq);
		cli_json_key(&j, "of");
		cli_json_uint(&j, rp->of);
		cli_json_key(&j, "kind");
		cli_json_string(&j, bn->vectors ? "vector" : "text");
		cli_json_key(&j, "seed");
		cli_json_uint(&j, SAMPLE_SEED);
		cli_json_end_object(&j);
		cli_json_key(&j, "k");
		cli_json_uint(&j, bn->k);
		cli_json_key(&j, "ef_search");
		cli_json_int(&j, rp->ef0);
		cli_json_key(&j, "at_ef_search");
		pass_json(&j, &rp->at_ef0);
		cli_json_key(&j, "table");
		cli_json_begin_array(&j);
		for (size_t i = 0; i < NEFS; i++)
			pass_json(&j, &rp->table[i]);
		cli_json_end_array(&j);
		cli_json_key(&j, "exact");
		pass_json(&j, &rp->exact);
		cli_json_end_object(&j);
		int ex = cli_finish_output(&j);
		cli_json_free(&j);
		return ex;
	}
	fputs("braincore bench: ", stdout);
	cli_put_text(stdout, rp->dir, strlen(rp->dir));
	printf("\ncpu         %s (%ld logical CPUs; the bench asks on one thread)\n", rp->cpu,
	       rp->cpus);
	printf("brain       %" PRIu64 " memories (%" PRIu64 " with text), %" PRIu32 "-d %s\n",
	       rp->st.memories, rp->st.text_memories, rp->st.dimensions,
	       brain_metric_name(rp->st.metric));
	if (rp->backlog)
		printf("built       %" PRIu64 " vectors a writer had not yet put into the graph, in "
		       "memory first (as its background would; the brain on disk is unchanged)\n",
		       rp->backlog);
	printf("queries     %zu of its %zu %s, a fixed sample (seed %d: the same every run); "
	       "k = %zu\n", bn->nq, rp->of, bn->vectors ? "stored vectors (brain_search)" : "texts",
	       SAMPLE_SEED, bn->k);
	printf("reference   an exact scan of every vector (HNSW_EXACT_BELOW raised past the size)\n");
	if (!graph)
		printf("note        the brain holds fewer vectors than HNSW_EXACT_BELOW (%" PRId64
		       "): every recall scans exactly, whatever HNSW_EF_SEARCH\n", rp->exact_below);
	printf("\nat HNSW_EF_SEARCH %" PRId64 " (the brain's): p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, "
	       "max %.3f ms; recall@%zu %.4f\n\n", rp->ef0, rp->at_ef0.p50, rp->at_ef0.p90,
	       rp->at_ef0.p99, rp->at_ef0.max, bn->k, rp->at_ef0.recall);
	char head[32];
	snprintf(head, sizeof head, "recall@%zu", bn->k);
	printf("%14s  %9s  %8s  %8s  %8s  %8s\n", "HNSW_EF_SEARCH", head, "p50 ms", "p90 ms",
	       "p99 ms", "max ms");
	for (size_t i = 0; i < NEFS; i++) {
		char label[32];
		snprintf(label, sizeof label, "%" PRId64, rp->table[i].ef);
		pass_row(label, &rp->table[i]);
	}
	pass_row("exact", &rp->exact);
	return cli_finish_output(NULL);
}

static int measure(bench *bn, report *rp)
{
	brain_t *b = bn->b;
	int rc = brain_set_param(b, BRAIN_PARAM_HNSW_EXACT_BELOW, UINT32_MAX);
	if (rc)
		return cli_refused(rc, "raising HNSW_EXACT_BELOW for the exact reference");
	int ex = run_pass(bn, bn->exact, bn->nexact, &rp->exact);
	rp->exact.ef = -1;
	rc = brain_set_param(b, BRAIN_PARAM_HNSW_EXACT_BELOW, rp->exact_below);
	if (rc && !ex)
		ex = cli_refused(rc, "HNSW_EXACT_BELOW");
	for (size_t i = 0; i < NEFS && !ex; i++) {
		rc = brain_set_param(b, BRAIN_PARAM_HNSW_EF_SEARCH, g_efs[i]);
		if (rc)
			return cli_refused(rc, "HNSW_EF_SEARCH");
		rp->table[i].ef = g_efs[i];
		ex = run_pass(bn, bn->got, bn->ngot, &rp->table[i]);
		if (!ex && g_efs[i] == rp->ef0)
			rp->at_ef0 = rp->table[i];
	}
	if (!ex && rp->at_ef0.ef != rp->ef0) {
		rc = brain_set_param(b, BRAIN_PARAM_HNSW_EF_SEARCH, rp->ef0);
		if (rc)
			return cli_refused(rc, "HNSW_EF_SEARCH");
		rp->at_ef0.ef = rp->ef0;
		ex = run_pass(bn, bn->got, bn->ngot, &rp->at_ef0);
	}
	return ex;
}

int cli_cmd_bench(const cli *c, brain_t *b)
{
	bench bn;
	report rp;
	memset(&bn, 0, sizeof bn);
	memset(&rp, 0, sizeof rp);
	bn.b = b;
	bn.k = CLI_HAS(c, K) ? c->k : DEFAULT_K;
	bn.dims = brain_dimensions(b);
	rp.dir = c->db;
	cpu_model(rp.cpu, sizeof rp.cpu);
	rp.cpus = sysconf(_SC_NPROCESSORS_ONLN);
	rp.ef0 = cli_get_param(b, BRAIN_PARAM_HNSW_EF_SEARCH);
	rp.exact_below = cli_get_param(b, BRAIN_PARAM_HNSW_EXACT_BELOW);
	rp.at_ef0.ef = -2;
	int rc = brain_stats_init(&rp.st, BRAIN_STATS_VERSION);
	if (!rc)
		rc = brain_get_stats(b, &rp.st);
	if (!rc && rp.st.index_pending > 0) {
		/* vectors a writer had not yet built into the graph: a writer's
		 * background would, so the bench does, in memory (the brain on
		 * disk stays as it is) */
		rp.backlog = rp.st.index_pending;
		cli_progress note;
		char text[96];
		cli_progress_start(&note, 0);
		snprintf(text, sizeof text, "building %" PRIu64 " vectors into the graph first...",
		         rp.backlog);
		cli_progress_note(&note, text);
		rc = brain_tick(b);
		cli_progress_clear(&note);
		if (!rc)
			rc = brain_get_stats(b, &rp.st);
	}
	if (rc)
		return cli_refused(rc, NULL);
	if (rp.st.memories == 0) {
		fputs("braincore: the brain is empty: nothing to measure\n", stderr);
		return CLI_EXIT_REFUSED;
	}
	/* text queries need the embedder: a model's brain opened without its
	 * model is asked with stored vectors */
	bn.vectors = rp.st.text_memories == 0;
	if (!bn.vectors) {
		brain_results *probe = NULL;
		rc = brain_recall_results(b, "probe", 1, &probe);
		brain_results_free(probe);
		if (rc == BRAIN_ENOEMBEDDER) {
			fputs("braincore: note: the brain's embedder is not at hand (a model's brain needs "
			      "--model PATH); asking with stored vectors instead\n", stderr);
			bn.vectors = 1;
		}
	}
	brain_id *ids = NULL;
	int ex = collect_ids(b, bn.vectors, &ids, &rp.of);
	if (ex || !ids)
		return ex ? ex : CLI_EXIT_REFUSED;
	bn.nq = sample(ids, rp.of, CLI_HAS(c, QUERIES) ? c->queries : DEFAULT_QUERIES);
	size_t nk = bn.nq * bn.k; /* at most 2^24 queries times 10^6: no overflow */
	bn.texts = calloc(bn.nq, sizeof *bn.texts);
	bn.vecs = bn.vectors ? calloc(bn.nq * bn.dims, sizeof *bn.vecs) : NULL;
	bn.exact = calloc(nk, sizeof *bn.exact);
	bn.got = calloc(nk, sizeof *bn.got);
	bn.nexact = calloc(bn.nq, sizeof *bn.nexact);
	bn.ngot = calloc(bn.nq, sizeof *bn.ngot);
	bn.lat = calloc(bn.nq, sizeof *bn.lat);
	if (!bn.texts || (bn.vectors && !bn.vecs) || !bn.exact || !bn.got || !bn.nexact ||
	    !bn.ngot || !bn.lat)
		ex = cli_out_of_memory();
	if (!ex)
		ex = load_queries(&bn, ids);
	free(ids);
	if (!ex)
		ex = measure(&bn, &rp);
	if (!ex)
		ex = print_report(c, &bn, &rp);
	for (size_t q = 0; bn.texts && q < bn.nq; q++)
		free(bn.texts[q]);
	free(bn.texts);
	free(bn.vecs);
	free(bn.exact);
	free(bn.got);
	free(bn.nexact);
	free(bn.ngot);
	free(bn.lat);
	return ex;
}
