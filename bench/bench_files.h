/*
 * bench/bench_files.h - what the C benchmarks share: removing the brains
 * they wrote, the clock, the CPU's name, and latencies as percentiles.
 */
#ifndef BENCH_FILES_H
#define BENCH_FILES_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t bench_now_ns(void);

/* The CPU's model name (/proc/cpuinfo), for every figure printed. */
void bench_cpu_model(char *out, size_t size);

/* A "Key: N kB" line of /proc/self/status (VmHWM, RssAnon, ...), or -1. */
long bench_status_kb(const char *key);

/* Latencies of many calls, from any number of threads. */
typedef struct bench_lat {
	uint64_t *ns;
	size_t n, cap;
	size_t worst_at; /* which call was the slowest (its number) */
	pthread_mutex_t mu;
} bench_lat;

typedef struct bench_pct {
	double p50, p99, max, mean; /* microseconds */
	size_t n, worst_at;
} bench_pct;

void bench_lat_init(bench_lat *l);
/* Record one call (exits on out of memory). */
void bench_lat_add(bench_lat *l, uint64_t ns);
/* The percentiles of what was recorded, which is then forgotten. */
bench_pct bench_lat_take(bench_lat *l);
void bench_lat_free(bench_lat *l);

/* Remove a directory and everything under it (best effort; links are
 * removed, never followed). */
void bench_remove_tree(const char *path);

#endif /* BENCH_FILES_H */
