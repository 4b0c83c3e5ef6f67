/*
 * bench/bench_words.c - keyword recall against SQLite FTS5 on the same
 * texts, and semantic, keyword and hybrid recall on STS-B, in one run.
 *
 *   modes   STS-B (../shared/data/stsb; skipped, loudly, without it): the
 *           second sentences of a split are the memories, each pair's first
 *           sentence asks for its own second; hit@1 and hit@10 of each mode,
 *           over all pairs and over the close paraphrases (score >= 4), and
 *           the median latency. Nothing here was tuned on these splits (RRF
 *           k = 60 and the 0.5 weight are the usual defaults).
 *   fts5    the same memories in an FTS5 table (unicode61, diacritics
 *           removed); each first sentence as a query of its words joined by
 *           OR (keyword recall ranks every memory holding any word): how
 *           often the best is the same memory, the overlap of the top 10,
 *           and the time of each.
 *
 * usage: bench_words [DATA_DIR]   (default: BRAIN_SHARED_DATA_DIR)
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "bench_files.h"
#include "data_files.h"
#include "braincore.h"

typedef sts_pair pair;

static int by_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static double median_us(uint64_t *ns, size_t n)
{
	qsort(ns, n, sizeof *ns, by_u64);
	return n ? (double)ns[n / 2] / 1e3 : 0;
}

/* "w1" OR "w2" ... of the ASCII-folded words of s (FTS5 query syntax). */
static void fts_query(const char *s, char *out, size_t size)
{
	size_t at = 0;
	out[0] = '\0';
	while (*s) {
		while (*s && !isalnum((unsigned char)*s) && !((unsigned char)*s & 0x80))
			s++;
		const char *w = s;
		while (*s && (isalnum((unsigned char)*s) || ((unsigned char)*s & 0x80)))
			s++;
		if (s > w && at + (size_t)(s - w) + 8 < size)
			at += (size_t)snprintf(out + at, size - at, "%s\"%.*s\"", at ? " OR " : "",
			                       (int)(s - w), w);
	}
}

static void split(const char *dir, const char *file)
{
	pair *p = NULL;
	size_t n = sts_load(dir, file, &p);
	if (!n) {
		printf("  %s: not found under %s/stsb: skipped\n", file, dir);
		return;
	}
	brain_t *b = brain_create();
	brain_id *id = malloc(n * sizeof *id);
	sqlite3 *db = NULL;
	if (!b || !id || sqlite3_open(":memory:", &db) != SQLITE_OK) {
		fprintf(stderr, "bench_words: out of memory\n");
		exit(1);
	}
	sqlite3_exec(db, "CREATE VIRTUAL TABLE t USING fts5(body, tokenize = "
	                 "'unicode61 remove_diacritics 2')",
	             NULL, NULL, NULL);
	sqlite3_stmt *ins = NULL;
	sqlite3_prepare_v2(db, "INSERT INTO t(rowid, body) VALUES(?, ?)", -1, &ins, NULL);
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	for (size_t i = 0; i < n; i++) {
		if (brain_remember_with(b, p[i].b, 0.5f, NULL, &id[i]) != 0) {
			id[i] = BRAIN_ID_NONE;
			continue;
		}
		sqlite3_bind_int64(ins, 1, (sqlite3_int64)id[i]);
		sqlite3_bind_text(ins, 2, p[i].b, -1, SQLITE_STATIC);
		sqlite3_step(ins);
		sqlite3_reset(ins);
	}
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_finalize(ins);
	brain_set_param(b, BRAIN_PARAM_RECALL_MIN_SCORE, -1000);

	static const char *names[] = {"semantic", "keyword", "hybrid"};
	printf("  %s: %zu memories, %zu queries\n", file, n, n);
	printf("    %-9s %8s %8s %12s %12s %9s\n", "mode", "hit@1", "hit@10", "hit@1 >=4",
	       "hit@10 >=4", "p50 us");
	uint64_t *ns = malloc(n * sizeof *ns);
	for (int mode = 0; mode < 3; mode++) {
		size_t q = 0, h1 = 0, h10 = 0, c = 0, c1 = 0, c10 = 0, t = 0;
		for (size_t i = 0; i < n; i++) {
			if (id[i] == BRAIN_ID_NONE)
				continue;
			brain_results *r = NULL;
			uint64_t a = bench_now_ns();
			if (brain_recall_mode(b, p[i].a, 10, mode, NULL, &r) != 0)
				continue;
			ns[t++] = bench_now_ns() - a;
			size_t rank = SIZE_MAX;
			for (size_t j = 0; j < brain_results_count(r) && rank == SIZE_MAX; j++)
				if (brain_results_id(r, j) == id[i] ||
				    strcmp(brain_results_text(r, j), p[i].b) == 0)
					rank = j;
			brain_results_free(r);
			q++;
			h1 += rank == 0;
			h10 += rank < 10;
			if (p[i].score >= 4.0) {
				c++;
				c1 += rank == 0;
				c10 += rank < 10;
			}
		}
		printf("    %-9s %8.4f %8.4f %12.4f %12.4f %9.1f\n", names[mode], (double)h1 / (double)q,
		       (double)h10 / (double)q, (double)c1 / (double)c, (double)c10 / (double)c,
		       median_us(ns, t));
	}

	/* keyword recall against FTS5's bm25 on the same texts */
	sqlite3_stmt *st = NULL;
	sqlite3_prepare_v2(db, "SELECT rowid FROM t WHERE t MATCH ? ORDER BY bm25(t), rowid LIMIT 10",
	                   -1, &st, NULL);
	size_t q = 0, same1 = 0, overlap = 0, both = 0, t1 = 0, t2 = 0;
	uint64_t *ns2 = malloc(n * sizeof *ns2);
	for (size_t i = 0; i < n; i++) {
		char query[4096];
		fts_query(p[i].a, query, sizeof query);
		if (!query[0])
			continue;
		uint64_t fts[10];
		size_t nf = 0;
		uint64_t a = bench_now_ns();
		sqlite3_bind_text(st, 1, query, -1, SQLITE_STATIC);
		while (sqlite3_step(st) == SQLITE_ROW && nf < 10)
			fts[nf++] = (uint64_t)sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		uint64_t m = bench_now_ns();
		brain_results *r = NULL;
		if (brain_recall_mode(b, p[i].a, 10, BRAIN_KEYWORD, NULL, &r) != 0)
			continue;
		uint64_t e = bench_now_ns();
		ns[t1++] = m - a;
		ns2[t2++] = e - m;
		q++;
		size_t nb = brain_results_count(r);
		if (nb && nf && brain_results_id(r, 0) == fts[0])
			same1++;
		for (size_t x = 0; x < nb; x++)
			for (size_t y = 0; y < nf; y++)
				overlap += brain_results_id(r, x) == fts[y];
		both += nb < nf ? nb : nf;
		brain_results_free(r);
	}
	double mf = median_us(ns, t1), mb = median_us(ns2, t2);
	printf("    against FTS5 bm25 (query words OR'ed): same best %.4f, top-10 overlap %.4f; "
	       "p50 FTS5 %.1f us, braincore %.1f us (%.1fx)\n",
	       (double)same1 / (double)q, both ? (double)overlap / (double)both : 0.0, mf, mb,
	       mf / mb);
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(ns);
	free(ns2);
	free(id);
	sts_free(p, n);
	brain_destroy(b);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : BRAIN_SHARED_DATA_DIR;
	char cpu[128];
	bench_cpu_model(cpu, sizeof cpu);
	printf("bench_words on %s, SQLite %s\n", cpu, sqlite3_libversion());
	printf("STS-B: semantic, keyword and hybrid recall; keyword against FTS5\n");
	split(dir, "sts-dev.csv");
	split(dir, "sts-test.csv");
	return 0;
}
