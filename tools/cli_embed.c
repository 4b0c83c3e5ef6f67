/*
 * tools/cli_embed.c - `braincore embed-check MODEL [STS_FILE]`: load a
 * sentence-encoder model as a brain's embedder (BRAIN_EMBEDDER_MODEL),
 * say its size and speed, and with an STS Benchmark file (tab-separated:
 * genre, file, year, id, score, sentence 1, sentence 2; the default is
 * $BRAINCORE_SHARED_DATA/stsb/sts-test.csv when that exists) the Spearman
 * correlation of its cosine similarities with the human scores, the figure
 * model cards quote (all-MiniLM-L6-v2: 82.0 on STS-B test).
 *
 * Public API only: each sentence is remembered in an in-memory brain and
 * its vector read back with brain_get_vector().
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <braincore.h>

#include "cli_json.h"
#include "cli_output.h"

/* What embed-check found, for text or JSON. */
typedef struct embed_report {
	uint32_t dims;
	double load_s;
	double speed;       /* sentences/s */
	size_t speed_count; /* sentences timed */
	const char *sts_file;
	double spearman;
	size_t pairs;
	unsigned long skipped;
	double sts_speed;
} embed_report;

typedef struct pair {
	double score, cosine;
} pair;

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Ranks of v[0..n) (ties share their mean rank) into r; -1 if out of
 * memory. */
static int ranks(const double *v, size_t n, double *r, size_t *order)
{
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	/* a merge sort, bottom up */
	size_t *tmp = calloc(n, sizeof *tmp);
	if (!tmp)
		return -1;
	for (size_t w = 1; w < n; w *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * w) {
			size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
			size_t a = lo, b = mid, k = lo;
			while (a < mid || b < hi)
				tmp[k++] = (b >= hi || (a < mid && v[order[a]] <= v[order[b]])) ? order[a++]
				                                                                   : order[b++];
		}
		memcpy(order, tmp, n * sizeof *tmp);
	}
	free(tmp);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j + 1 < n && v[order[j + 1]] == v[order[i]])
			j++;
		double mean = (double)(i + j) / 2.0 + 1.0;
		for (size_t k = i; k <= j; k++)
			r[order[k]] = mean;
		i = j + 1;
	}
	return 0;
}

static double spearman(const pair *p, size_t n)
{
	double *a = calloc(n, sizeof *a), *b = calloc(n, sizeof *b);
	double *ra = calloc(n, sizeof *ra), *rb = calloc(n, sizeof *rb);
	size_t *order = calloc(n, sizeof *order);
	double rho = (double)NAN;
	if (a && b && ra && rb && order) {
		for (size_t i = 0; i < n; i++) {
			a[i] = p[i].score;
			b[i] = p[i].cosine;
		}
	}
	if (a && b && ra && rb && order && ranks(a, n, ra, order) == 0 &&
	    ranks(b, n, rb, order) == 0) {
		double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
		for (size_t i = 0; i < n; i++) {
			ma += ra[i];
			mb += rb[i];
		}
		ma /= (double)n;
		mb /= (double)n;
		for (size_t i = 0; i < n; i++) {
			sab += (ra[i] - ma) * (rb[i] - mb);
			saa += (ra[i] - ma) * (ra[i] - ma);
			sbb += (rb[i] - mb) * (rb[i] - mb);
		}
		rho = sab / sqrt(saa * sbb);
	}
	free(a);
	free(b);
	free(ra);
	free(rb);
	free(order);
	return rho;
}

/* The vector of `text` by the brain's model into v. */
static int embed(brain_t *b, const char *text, float *v)
{
	brain_id id;
	int rc = brain_remember_ex(b, text, NULL, 0.5f, &id);
	if (rc == BRAIN_OK)
		rc = brain_get_vector(b, id, v);
	return rc;
}

static int sts(brain_t *b, const char *file, uint32_t dims, embed_report *rep)
{
	FILE *f = fopen(file, "r");
	if (!f) {
		fprintf(stderr, "braincore: %s: %s\n", file, strerror(errno));
		return CLI_EXIT_REFUSED;
	}
	size_t cap = 2048, n = 0;
	pair *p = malloc(cap * sizeof *p);
	float *v1 = malloc(dims * sizeof *v1), *v2 = malloc(dims * sizeof *v2);
	char *line = NULL;
	size_t lcap = 0;
	int ex = CLI_EXIT_OK;
	unsigned long lineno = 0, skipped = 0;
	double t0 = now_s();
	while (p && v1 && v2 && getline(&line, &lcap, f) > 0) {
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		char *col[7];
		size_t nc = 0;
		for (char *s = line; nc < 7; nc++) {
			col[nc] = s;
			char *tab = strchr(s, '\t');
			if (!tab) {
				nc++;
				break;
			}
			*tab = '\0';
			s = tab + 1;
		}
		char *end = NULL;
		double score = nc >= 7 ? strtod(col[4], &end) : (double)NAN;
		if (nc < 7 || end == col[4] || !(score >= 0 && score <= 5)) {
			skipped++;
			continue;
		}
		int rc = embed(b, col[5], v1);
		if (rc == BRAIN_OK)
			rc = embed(b, col[6], v2);
		if (rc) {
			char where[64];
			snprintf(where, sizeof where, "line %lu", lineno);
			ex = cli_refused(rc, where);
			break;
		}
		double dot = 0;
		for (uint32_t i = 0; i < dims; i++)
			dot += (double)v1[i] * (double)v2[i];
		if (n == cap) {
			pair *q = realloc(p, 2 * cap * sizeof *p);
			if (!q)
				break;
			p = q;
			cap *= 2;
		}
		p[n].score = score;
		p[n].cosine = dot;
		n++;
	}
	double secs = now_s() - t0;
	if (!p || !v1 || !v2)
		ex = cli_out_of_memory();
	if (ex == CLI_EXIT_OK && n < 2) {
		fprintf(stderr, "braincore: %s: no sentence pairs (tab-separated STS-B lines)\n", file);
		ex = CLI_EXIT_REFUSED;
	}
	if (ex == CLI_EXIT_OK) {
		rep->sts_file = file;
		rep->spearman = spearman(p, n);
		rep->pairs = n;
		rep->skipped = skipped;
		rep->sts_speed = (double)(2 * n) / secs;
	}
	free(line);
	free(p);
	free(v1);
	free(v2);
	fclose(f);
	return ex;
}

static void report_text(const char *model, const embed_report *r)
{
	printf("model %s: %u-d vectors, loaded in %.3f s\n", model, r->dims, r->load_s);
	printf("speed: %.1f sentences/s on one thread (%zu short sentences, remember included)\n",
	       r->speed, r->speed_count);
	if (r->sts_file)
		printf("STS-B %s: Spearman %.4f over %zu pairs (%lu lines skipped); %.1f sentences/s "
		       "on one thread\n", r->sts_file, r->spearman, r->pairs, r->skipped, r->sts_speed);
	else
		printf("STS-B: no file (give one, or set BRAINCORE_SHARED_DATA to a folder with "
		       "stsb/sts-test.csv)\n");
}

static int report_json(const char *model, const embed_report *r)
{
	cli_json j;
	cli_json_init(&j);
	cli_json_begin_object(&j);
	cli_json_key(&j, "model");
	cli_json_string(&j, model);
	cli_json_key(&j, "dimensions");
	cli_json_uint(&j, r->dims);
	cli_json_key(&j, "load_seconds");
	cli_json_number(&j, r->load_s, 3);
	cli_json_key(&j, "sentences_per_second");
	cli_json_number(&j, r->speed, 1);
	cli_json_key(&j, "sts");
	if (r->sts_file) {
		cli_json_begin_object(&j);
		cli_json_key(&j, "file");
		cli_json_string(&j, r->sts_file);
		cli_json_key(&j, "spearman");
		cli_json_number(&j, r->spearman, 4);
		cli_json_key(&j, "pairs");
		cli_json_uint(&j, r->pairs);
		cli_json_key(&j, "skipped_lines");
		cli_json_uint(&j, r->skipped);
		cli_json_key(&j, "sentences_per_second");
		cli_json_number(&j, r->sts_speed, 1);
		cli_json_end_object(&j);
	} else {
		cli_json_null(&j);
	}
	cli_json_end_object(&j);
	int ex = cli_finish_output(&j);
	cli_json_free(&j);
	return ex;
}

int cli_embed_check(const char *model, const char *sts_file, int json)
{
	brain_options o;
	embed_report rep;
	memset(&rep, 0, sizeof rep);
	int rc = brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	if (rc)
		return cli_refused(rc, NULL);
	o.embedder = BRAIN_EMBEDDER_MODEL;
	o.model_path = model;
	o.dimensions = 0;
	o.index = BRAIN_INDEX_FLAT;
	o.background = BRAIN_BACKGROUND_MANUAL;
	brain_t *b = NULL;
	double t0 = now_s();
	rc = brain_open(NULL, &o, &b);
	if (rc)
		return cli_refused(rc, "loading the model");
	rep.load_s = now_s() - t0;
	uint32_t dims = rep.dims = brain_dimensions(b);
	/* a fixed sample: speed without data files */
	static const char *const sample[] = {
		"The cat sat on the mat.",
		"Leonardo da Vinci painted the Mona Lisa in Florence.",
		"Which Renaissance artist created La Gioconda?",
		"A memory engine keeps what an application remembers on disk.",
		"The quarterly report is due on Friday afternoon.",
		"She plays the violin in the city orchestra every weekend.",
		"Water boils at one hundred degrees Celsius at sea level.",
		"How do I reset my password if I forgot my email address?",
	};
	float *v = malloc(dims * sizeof *v);
	if (!v) {
		brain_close(b);
		return cli_out_of_memory();
	}
	int ex = CLI_EXIT_OK;
	size_t reps = 16, count = 0;
	t0 = now_s();
	for (size_t r = 0; r < reps && ex == CLI_EXIT_OK; r++) {
		for (size_t i = 0; i < sizeof sample / sizeof *sample; i++) {
			rc = embed(b, sample[i], v);
			if (rc) {
				ex = cli_refused(rc, "embedding");
				break;
			}
			count++;
		}
	}
	rep.speed = (double)count / (now_s() - t0);
	rep.speed_count = count;
	free(v);
	char def[4096]; /* the default STS file's name, which rep may point to */
	if (ex == CLI_EXIT_OK) {
		const char *data = getenv("BRAINCORE_SHARED_DATA");
		if (!sts_file && data && *data) {
			snprintf(def, sizeof def, "%s/stsb/sts-test.csv", data);
			FILE *f = fopen(def, "r");
			if (f) {
				fclose(f);
				sts_file = def;
			}
		}
		if (sts_file)
			ex = sts(b, sts_file, dims, &rep);
	}
	rc = brain_close(b);
	if (rc && ex == CLI_EXIT_OK)
		ex = cli_refused(rc, "closing the brain");
	if (ex == CLI_EXIT_OK) {
		if (json) {
			ex = report_json(model, &rep);
		} else {
			report_text(model, &rep);
			ex = cli_finish_output(NULL);
		}
	}
	return ex;
}
