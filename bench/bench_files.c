/*
 * bench/bench_files.c - see bench_files.h.
 */
#include "bench_files.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

void bench_remove_tree(const char *path)
{
	DIR *d = opendir(path);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			char p[4096];
			snprintf(p, sizeof p, "%s/%s", path, e->d_name);
			struct stat st;
			if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
				bench_remove_tree(p);
			else
				unlink(p);
		}
		closedir(d);
	}
	rmdir(path);
}

uint64_t bench_now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

void bench_cpu_model(char *out, size_t size)
{
	snprintf(out, size, "unknown CPU");
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512];
	while (f && fgets(line, sizeof line, f)) {
		if (strncmp(line, "model name", 10) == 0) {
			char *c = strchr(line, ':');
			if (c) {
				c += 2;
				c[strcspn(c, "\n")] = '\0';
				snprintf(out, size, "%s", c);
			}
			break;
		}
	}
	if (f)
		fclose(f);
}

void bench_lat_init(bench_lat *l)
{
	memset(l, 0, sizeof *l);
	pthread_mutex_init(&l->mu, NULL);
}

void bench_lat_add(bench_lat *l, uint64_t ns)
{
	pthread_mutex_lock(&l->mu);
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 4096;
		l->ns = realloc(l->ns, l->cap * sizeof *l->ns);
		if (!l->ns) {
			fprintf(stderr, "bench: out of memory for latencies\n");
			exit(1);
		}
	}
	if (l->n == 0 || ns > l->ns[l->worst_at])
		l->worst_at = l->n;
	l->ns[l->n++] = ns;
	pthread_mutex_unlock(&l->mu);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

bench_pct bench_lat_take(bench_lat *l)
{
	pthread_mutex_lock(&l->mu);
	bench_pct p = {0, 0, 0, 0, l->n, l->worst_at};
	if (l->n) {
		double sum = 0;
		for (size_t i = 0; i < l->n; i++)
			sum += (double)l->ns[i];
		p.mean = sum / (double)l->n / 1e3;
		qsort(l->ns, l->n, sizeof *l->ns, cmp_u64);
		p.p50 = (double)l->ns[l->n / 2] / 1e3;
		p.p99 = (double)l->ns[(size_t)((double)(l->n - 1) * 0.99)] / 1e3;
		p.max = (double)l->ns[l->n - 1] / 1e3;
	}
	l->n = 0;
	l->worst_at = 0;
	pthread_mutex_unlock(&l->mu);
	return p;
}

void bench_lat_free(bench_lat *l)
{
	free(l->ns);
	pthread_mutex_destroy(&l->mu);
	memset(l, 0, sizeof *l);
}

long bench_status_kb(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;
	size_t n = strlen(key);
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, key, n) == 0 && line[n] == ':')
			v = strtol(line + n + 1, NULL, 10);
	if (f)
		fclose(f);
	return v;
}
