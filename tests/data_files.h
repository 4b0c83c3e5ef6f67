/*
 * tests/data_files.h - readers of the evaluation data in ../shared/data
 * (see its README), shared by the tests and the benchmarks: STS-B pairs
 * and .fvecs/.ivecs matrices.
 */
#ifndef BRAIN_TEST_DATA_FILES_H
#define BRAIN_TEST_DATA_FILES_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/* One STS Benchmark pair and its gold similarity (0..5). */
typedef struct sts_pair {
	char *a, *b;
	double score;
} sts_pair;

/* The pairs of dir/stsb/file (tab-separated: genre, file, year, id,
 * score, sentence 1, sentence 2, ...) into *out; 0 if it cannot be read. */
static inline size_t sts_load(const char *dir, const char *file, sts_pair **out)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/stsb/%s", dir, file);
	*out = NULL;
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = 0, cap = 2048;
	sts_pair *p = malloc(cap * sizeof *p);
	char *line = NULL;
	size_t lcap = 0;
	ssize_t len;
	while (p && (len = getline(&line, &lcap, f)) > 0) {
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		char *col[7], *s = line;
		int c;
		for (c = 0; c < 7 && s; c++) {
			col[c] = s;
			s = strchr(s, '\t');
			if (s)
				*s++ = '\0';
		}
		if (c < 7)
			continue;
		if (n == cap) {
			sts_pair *q = realloc(p, (cap *= 2) * sizeof *p);
			if (!q)
				break;
			p = q;
		}
		p[n].score = atof(col[4]);
		p[n].a = strdup(col[5]);
		p[n].b = strdup(col[6]);
		n++;
	}
	free(line);
	fclose(f);
	*out = p;
	return n;
}

static inline void sts_free(sts_pair *p, size_t n)
{
	for (size_t i = 0; p && i < n; i++) {
		free(p[i].a);
		free(p[i].b);
	}
	free(p);
}

/* The rows of an .fvecs or .ivecs file (each row: int32 d, then d 4-byte
 * values), or NULL if it cannot be read or its rows differ in size. */
static inline void *vecs_read(const char *path, size_t *rows, size_t *dim)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	int32_t d;
	if (fread(&d, 4, 1, f) != 1 || d <= 0) {
		fclose(f);
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	fseek(f, 0, SEEK_SET);
	size_t n = (size_t)size / (4 + 4 * (size_t)d);
	char *data = malloc(n * 4 * (size_t)d);
	for (size_t i = 0; data && i < n; i++) {
		int32_t rd;
		if (fread(&rd, 4, 1, f) != 1 || rd != d ||
		    fread(data + i * 4 * (size_t)d, 4, (size_t)d, f) != (size_t)d) {
			free(data);
			data = NULL;
		}
	}
	fclose(f);
	*rows = n;
	*dim = (size_t)d;
	return data;
}

#endif /* BRAIN_TEST_DATA_FILES_H */
