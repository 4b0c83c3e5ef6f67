/*
 * base/histogram.h - a latency histogram with fixed buckets: recording is
 * one relaxed atomic add, with no allocation and no lock, so the hot path
 * can afford it; percentiles are read from the counts at any time.
 *
 * Buckets are log-linear: each power of two of nanoseconds from 2^6 (64 ns)
 * to 2^38 (about 275 s) is cut into 8 equal parts, so a value is placed
 * within 12.5% of itself; below 64 ns is one bucket, above 2^38 another.
 * A percentile is reported as the upper bound of its bucket (never below
 * the true value), the maximum exactly.
 */
#ifndef BRAIN_BASE_HISTOGRAM_H
#define BRAIN_BASE_HISTOGRAM_H

#include <stdatomic.h>
#include <stdint.h>

#define BRAIN_HIST_MIN_LOG2 6
#define BRAIN_HIST_MAX_LOG2 38
#define BRAIN_HIST_SUB 8
#define BRAIN_HIST_BUCKETS ((BRAIN_HIST_MAX_LOG2 - BRAIN_HIST_MIN_LOG2) * BRAIN_HIST_SUB + 2)

typedef struct brain_histogram {
	_Atomic uint64_t counts[BRAIN_HIST_BUCKETS];
	_Atomic uint64_t total;
	_Atomic uint64_t sum_ns;
	_Atomic uint64_t max_ns;
} brain_histogram;

/* What a histogram says (percentiles in nanoseconds; all 0 when empty). */
typedef struct brain_histogram_summary {
	uint64_t count;
	uint64_t mean_ns;
	uint64_t p50_ns, p95_ns, p99_ns;
	uint64_t max_ns;
} brain_histogram_summary;

/* Count one value (a zeroed histogram is empty). Thread-safe. */
void brain__hist_record(brain_histogram *h, uint64_t ns);

/* The percentiles of what was recorded so far. Thread-safe; concurrent
 * records may or may not be seen. */
void brain__hist_summary(const brain_histogram *h, brain_histogram_summary *out);

/* The bucket of a value, and the largest value a bucket holds (for the
 * tests). */
unsigned brain__hist_bucket(uint64_t ns);
uint64_t brain__hist_upper(unsigned bucket);

#endif /* BRAIN_BASE_HISTOGRAM_H */
