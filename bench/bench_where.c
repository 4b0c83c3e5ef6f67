/*
 * bench/bench_where.c - filters over metadata, against SQLite and against
 * brute force, in one run.
 *
 *   filters  N memories with the same four fields in braincore (posting
 *            lists, ordered numbers) and in an SQLite table with an index
 *            on each column (tags in a second table, indexed): the time of
 *            counting what each filter passes, both answers checked equal.
 *   recall   an HNSW brain of M random vectors with a field p in [0, 1000):
 *            filtered search at 50%, 10%, 1% and 0.1% against unfiltered
 *            search (latency: median, p99, worst) and against brute force
 *            over the passing vectors (recall@10).
 *
 * usage: bench_where [N [M [DATA_DIR|none]]]   (default 1000000, 100000 and
 * ../shared/data: GloVe-100 when there, else M random vectors)
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "bench_files.h"
#include "data_files.h"
#include "braincore.h"

#define KINDS 10
#define TAGS 20
#define RUNS 15

static uint64_t rng_state = 12345;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void die(const char *what, const char *why)
{
	fprintf(stderr, "bench_where: %s: %s\n", what, why);
	exit(1);
}

static void sql(sqlite3 *db, const char *q)
{
	char *err = NULL;
	if (sqlite3_exec(db, q, NULL, NULL, &err) != SQLITE_OK)
		die(q, err ? err : "?");
}

typedef struct query {
	const char *name;
	const char *filter;
	const char *where; /* SQL */
} query;

static const query queries[] = {
	{"kind = (10%)", "kind = \"k3\"", "kind = 'k3'"},
	{"ts >= (1%)", "ts >= 990000", "ts >= 990000"},
	{"ts >= (10%)", "ts >= 900000", "ts >= 900000"},
	{"ts >= (50%)", "ts >= 500000", "ts >= 500000"},
	{"score < (5%)", "score < 0.05", "score < 0.05"},
	{"kind AND ts (1%)", "kind = \"k3\" AND ts >= 900000", "kind = 'k3' AND ts >= 900000"},
	{"tags CONTAINS (10%)", "tags CONTAINS \"t7\"",
	 "id IN (SELECT id FROM tags WHERE tag = 't7')"},
	{"tag AND kind (1%)", "tags CONTAINS \"t7\" AND kind = \"k1\"",
	 "kind = 'k1' AND id IN (SELECT id FROM tags WHERE tag = 't7')"},
	{"IN OR range (~29%)", "kind IN (\"k1\", \"k2\") OR ts < 100000",
	 "kind IN ('k1', 'k2') OR ts < 100000"},
	{"NOT kind (90%)", "NOT kind = \"k3\"", "NOT (kind = 'k3')"},
};

static int by_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static double median_ms(uint64_t *ns, size_t n)
{
	qsort(ns, n, sizeof *ns, by_u64);
	return (double)ns[n / 2] / 1e6;
}

static void filters(size_t n)
{
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.dimensions = 4;
	o.metric = BRAIN_METRIC_L2;
	o.embedder = BRAIN_EMBEDDER_NONE;
	o.index = BRAIN_INDEX_FLAT;
	o.background = BRAIN_BACKGROUND_MANUAL;
	brain_t *b = NULL;
	if (brain_open(NULL, &o, &b))
		die("open", brain_errmsg());
	sqlite3 *db = NULL;
	if (sqlite3_open(":memory:", &db) != SQLITE_OK)
		die("sqlite", "open");
	sql(db, "CREATE TABLE m(id INTEGER PRIMARY KEY, kind TEXT, ts INTEGER, score REAL)");
	sql(db, "CREATE TABLE tags(id INTEGER, tag TEXT)");
	sql(db, "BEGIN");
	sqlite3_stmt *ins = NULL, *tag = NULL;
	sqlite3_prepare_v2(db, "INSERT INTO m VALUES(?,?,?,?)", -1, &ins, NULL);
	sqlite3_prepare_v2(db, "INSERT INTO tags VALUES(?,?)", -1, &tag, NULL);
	uint64_t t_brain = 0, t_sql = 0;
	for (size_t i = 0; i < n; i++) {
		char kind[8], t1[8], t2[8], json[160];
		snprintf(kind, sizeof kind, "k%u", (unsigned)(rnd() % KINDS));
		int64_t ts = (int64_t)(rnd() % 1000000);
		double score = (double)(rnd() % 1000000) / 1e6;
		unsigned a = (unsigned)(rnd() % TAGS), c = (unsigned)((a + 1 + rnd() % (TAGS - 1)) % TAGS);
		snprintf(t1, sizeof t1, "t%u", a);
		snprintf(t2, sizeof t2, "t%u", c);
		snprintf(json, sizeof json,
		         "{\"kind\":\"%s\",\"ts\":%" PRId64 ",\"score\":%.6f,\"tags\":[\"%s\",\"%s\"]}",
		         kind, ts, score, t1, t2);
		float v[4] = {(float)(rnd() % 100), 1, 2, 3};
		uint64_t t0 = bench_now_ns();
		if (brain_add_with(b, i + 1, v, json))
			die("add_with", brain_errmsg());
		uint64_t t1n = bench_now_ns();
		sqlite3_bind_int64(ins, 1, (sqlite3_int64)(i + 1));
		sqlite3_bind_text(ins, 2, kind, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(ins, 3, ts);
		sqlite3_bind_double(ins, 4, score);
		if (sqlite3_step(ins) != SQLITE_DONE)
			die("sqlite", "insert");
		sqlite3_reset(ins);
		for (int k = 0; k < 2; k++) {
			sqlite3_bind_int64(tag, 1, (sqlite3_int64)(i + 1));
			sqlite3_bind_text(tag, 2, k ? t2 : t1, -1, SQLITE_TRANSIENT);
			if (sqlite3_step(tag) != SQLITE_DONE)
				die("sqlite", "insert tag");
			sqlite3_reset(tag);
		}
		t_sql += bench_now_ns() - t1n;
		t_brain += t1n - t0;
	}
	uint64_t t0 = bench_now_ns();
	sql(db, "COMMIT");
	sql(db, "CREATE INDEX m_kind ON m(kind)");
	sql(db, "CREATE INDEX m_ts ON m(ts)");
	sql(db, "CREATE INDEX m_score ON m(score)");
	sql(db, "CREATE INDEX tags_tag ON tags(tag, id)");
	sql(db, "ANALYZE");
	t_sql += bench_now_ns() - t0;
	sqlite3_finalize(ins);
	sqlite3_finalize(tag);
	printf("filters over %zu memories (kind: 10 values, ts: int, score: double, tags: 2 of "
	       "20)\n",
	       n);
	printf("  load: braincore %.2f s (add_with, one change each), SQLite %.2f s (one "
	       "transaction, then 4 indexes)\n",
	       (double)t_brain / 1e9, (double)t_sql / 1e9);
	printf("  %-22s %10s %12s %12s %8s\n", "filter", "passing", "braincore ms", "SQLite ms",
	       "ratio");
	for (size_t q = 0; q < sizeof queries / sizeof queries[0]; q++) {
		brain_filter *f = NULL;
		if (brain_filter_parse(queries[q].filter, &f))
			die(queries[q].filter, brain_errmsg());
		char text[512];
		snprintf(text, sizeof text, "SELECT count(*) FROM m WHERE %s", queries[q].where);
		sqlite3_stmt *st = NULL;
		if (sqlite3_prepare_v2(db, text, -1, &st, NULL) != SQLITE_OK)
			die(text, sqlite3_errmsg(db));
		uint64_t bn[RUNS], sn[RUNS], count = 0;
		int64_t want = 0;
		for (int r = 0; r < RUNS; r++) {
			uint64_t a = bench_now_ns();
			if (brain_count_where(b, f, &count))
				die("count_where", brain_errmsg());
			uint64_t m = bench_now_ns();
			if (sqlite3_step(st) != SQLITE_ROW)
				die(text, sqlite3_errmsg(db));
			want = sqlite3_column_int64(st, 0);
			sqlite3_reset(st);
			uint64_t e = bench_now_ns();
			bn[r] = m - a;
			sn[r] = e - m;
		}
		if ((int64_t)count != want) {
			fprintf(stderr, "bench_where: %s: braincore counts %" PRIu64 ", SQLite %" PRId64
			        "\n", queries[q].filter, count, want);
			exit(1);
		}
		double mb = median_ms(bn, RUNS), ms = median_ms(sn, RUNS);
		printf("  %-22s %10" PRIu64 " %12.3f %12.3f %7.1fx\n", queries[q].name, count, mb, ms,
		       ms / mb);
		sqlite3_finalize(st);
		brain_filter_free(f);
	}
	brain_stats s;
	brain_stats_init(&s, BRAIN_STATS_VERSION);
	if (brain_get_stats(b, &s) == 0)
		printf("  braincore heap: %.1f MB (posting lists are CRoaring's, outside it)\n",
		       (double)s.heap_bytes / 1e6);
	sqlite3_close(db);
	brain_destroy(b);
}

static double dist_of(int metric, const float *a, const float *b, size_t d)
{
	double s = 0, na = 0, nb = 0;
	for (size_t i = 0; i < d; i++) {
		if (metric == BRAIN_METRIC_L2)
			s += ((double)a[i] - (double)b[i]) * ((double)a[i] - (double)b[i]);
		else
			s += (double)a[i] * (double)b[i];
		na += (double)a[i] * (double)a[i];
		nb += (double)b[i] * (double)b[i];
	}
	return metric == BRAIN_METRIC_L2 ? s : 1.0 - s / (sqrt(na) * sqrt(nb));
}

/* Filtered search at each selectivity against unfiltered search and brute
 * force: on GloVe-100 (cosine, the second half of its own queries, the
 * first kept for tuning) when ../shared/data has it, else on m uniform
 * random vectors of 64 dimensions (L2; harder for any graph than real
 * data). */
static void recall(size_t m, const char *data_dir)
{
	size_t dims = 64, nq = 200, qd = 0;
	int metric = BRAIN_METRIC_L2;
	float *v = NULL, *qalloc = NULL, *qs = NULL;
	const char *source = "uniform random";
	char path[1024];
	if (data_dir) {
		snprintf(path, sizeof path, "%s/glove100-100k/base.fvecs", data_dir);
		v = vecs_read(path, &m, &dims);
		snprintf(path, sizeof path, "%s/glove100-100k/query.fvecs", data_dir);
		qalloc = v ? vecs_read(path, &nq, &qd) : NULL;
		if (v && qalloc && qd == dims) {
			metric = BRAIN_METRIC_COSINE;
			source = "GloVe-100 (second half of its queries)";
			qs = qalloc + (nq / 2) * dims; /* the test half */
			nq = nq - nq / 2 < 200 ? nq - nq / 2 : 200;
		} else {
			free(v);
			free(qalloc);
			v = qalloc = NULL;
		}
	}
	if (!v) {
		v = malloc(m * dims * sizeof *v);
		qs = qalloc = malloc(nq * dims * sizeof *qalloc);
		if (!v || !qalloc)
			die("bench", "out of memory");
		for (size_t i = 0; i < m * dims; i++)
			v[i] = (float)((double)(rnd() >> 11) / 9007199254740992.0);
		for (size_t i = 0; i < nq * dims; i++)
			qalloc[i] = (float)((double)(rnd() >> 11) / 9007199254740992.0);
	}
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.dimensions = (uint32_t)dims;
	o.metric = metric;
	o.embedder = BRAIN_EMBEDDER_NONE;
	o.index = BRAIN_INDEX_HNSW;
	o.background = BRAIN_BACKGROUND_MANUAL;
	brain_t *b = NULL;
	if (brain_open(NULL, &o, &b))
		die("open", brain_errmsg());
	uint32_t *p = malloc(m * sizeof *p);
	if (!p)
		die("bench", "out of memory");
	uint64_t t0 = bench_now_ns();
	for (size_t i = 0; i < m; i++) {
		p[i] = (uint32_t)(rnd() % 1000);
		char json[32];
		snprintf(json, sizeof json, "{\"p\":%u}", p[i]);
		if (brain_add_with(b, i + 1, v + i * dims, json))
			die("add_with", brain_errmsg());
	}
	while (brain_tick(b) == 0) {
		brain_stats s;
		brain_stats_init(&s, BRAIN_STATS_VERSION);
		if (brain_get_stats(b, &s) || s.index_pending == 0)
			break;
	}
	printf("\nfiltered search, HNSW, %zu vectors of %zu dimensions, %s (built in %.1f s), "
	       "k = 10, %zu queries each\n",
	       m, dims, source, (double)(bench_now_ns() - t0) / 1e9, nq);
	printf("  %-12s %9s %9s %9s %9s %10s\n", "passing", "p50 us", "p99 us", "worst us",
	       "vs none", "recall@10");
	static const unsigned per_mille[] = {1000, 500, 100, 10, 1};
	double base_p50 = 0;
	for (size_t s = 0; s < 5; s++) {
		char text[32];
		snprintf(text, sizeof text, "p < %u", per_mille[s]);
		brain_filter *f = NULL;
		if (brain_filter_parse(text, &f))
			die(text, brain_errmsg());
		bench_lat lat;
		bench_lat_init(&lat);
		size_t hit = 0, total = 0;
		/* every query timed back to back, then each checked by brute force
		 * (between timed queries, its pass over all the vectors would leave
		 * each query a cold cache: p99 then read 5 ms where it is 0.35) */
		uint64_t *gots = malloc(nq * 10 * sizeof *gots);
		size_t *founds = malloc(nq * sizeof *founds);
		if (!gots || !founds)
			die("bench", "out of memory");
		for (size_t q = 0; q < nq; q++) {
			const float *qv = qs + q * dims;
			float dist[10];
			uint64_t a = bench_now_ns();
			int rc = per_mille[s] == 1000
			                 ? brain_search(b, qv, 10, gots + q * 10, dist, &founds[q])
			                 : brain_search_where(b, qv, 10, f, gots + q * 10, dist,
			                                      &founds[q]);
			bench_lat_add(&lat, bench_now_ns() - a);
			if (rc)
				die("search", brain_errmsg());
		}
		for (size_t q = 0; q < nq; q++) {
			const float *qv = qs + q * dims;
			const uint64_t *got = gots + q * 10;
			size_t found = founds[q];
			/* brute force over the passing */
			uint64_t best[10];
			double bd[10];
			size_t nb = 0;
			for (size_t i = 0; i < m; i++) {
				if (p[i] >= per_mille[s])
					continue;
				double d = dist_of(metric, qv, v + i * dims, dims);
				if (nb == 10 && d >= bd[9])
					continue;
				size_t at = nb < 10 ? nb++ : 9;
				while (at > 0 && bd[at - 1] > d) {
					bd[at] = bd[at - 1];
					best[at] = best[at - 1];
					at--;
				}
				bd[at] = d;
				best[at] = i + 1;
			}
			for (size_t i = 0; i < nb; i++)
				for (size_t j = 0; j < found; j++)
					hit += got[j] == best[i];
			total += nb;
		}
		free(gots);
		free(founds);
		bench_pct pc = bench_lat_take(&lat);
		if (s == 0)
			base_p50 = pc.p50;
		char name[32];
		snprintf(name, sizeof name, "%.1f%%%s", per_mille[s] / 10.0,
		         per_mille[s] == 1000 ? " (none)" : "");
		printf("  %-12s %9.1f %9.1f %9.1f %8.2fx %10.3f\n", name, pc.p50, pc.p99, pc.max,
		       pc.p50 / base_p50, (double)hit / (double)total);
		bench_lat_free(&lat);
		brain_filter_free(f);
	}
	free(v);
	free(qalloc);
	free(p);
	brain_destroy(b);
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 1000000;
	size_t m = argc > 2 ? (size_t)strtoull(argv[2], NULL, 10) : 100000;
	const char *data = argc > 3 ? argv[3] : getenv("BRAINCORE_SHARED_DATA");
	if (!data)
		data = BRAIN_SHARED_DATA_DIR;
	char cpu[128];
	bench_cpu_model(cpu, sizeof cpu);
	printf("bench_where on %s, SQLite %s\n\n", cpu, sqlite3_libversion());
	if (n)
		filters(n);
	if (m)
		recall(m, strcmp(data, "none") ? data : NULL);
	return 0;
}
