/*
 * base/histogram.c - fixed-bucket latency histograms (histogram.h).
 */
#include <string.h>

#include "base/base.h"
#include "base/histogram.h"

unsigned brain__hist_bucket(uint64_t ns)
{
	if (ns < ((uint64_t)1 << BRAIN_HIST_MIN_LOG2))
		return 0;
	unsigned log2 = 63u - (unsigned)__builtin_clzll(ns);
	if (log2 >= BRAIN_HIST_MAX_LOG2)
		return BRAIN_HIST_BUCKETS - 1;
	/* the 3 bits after the leading one pick the eighth */
	unsigned sub = (unsigned)((ns >> (log2 - 3)) & (BRAIN_HIST_SUB - 1));
	return 1 + (log2 - BRAIN_HIST_MIN_LOG2) * BRAIN_HIST_SUB + sub;
}

uint64_t brain__hist_upper(unsigned bucket)
{
	if (bucket == 0)
		return ((uint64_t)1 << BRAIN_HIST_MIN_LOG2) - 1;
	if (bucket >= BRAIN_HIST_BUCKETS - 1)
		return UINT64_MAX;
	unsigned log2 = BRAIN_HIST_MIN_LOG2 + (bucket - 1) / BRAIN_HIST_SUB;
	unsigned sub = (bucket - 1) % BRAIN_HIST_SUB;
	uint64_t base = (uint64_t)1 << log2, step = base / BRAIN_HIST_SUB;
	return base + (uint64_t)(sub + 1) * step - 1;
}

void brain__hist_record(brain_histogram *h, uint64_t ns)
{
	atomic_fetch_add_explicit(&h->counts[brain__hist_bucket(ns)], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->total, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_ns, ns, memory_order_relaxed);
	uint64_t max = atomic_load_explicit(&h->max_ns, memory_order_relaxed);
	while (ns > max && !atomic_compare_exchange_weak_explicit(&h->max_ns, &max, ns,
	                                                          memory_order_relaxed,
	                                                          memory_order_relaxed))
		;
}

/* The value at rank `rank` (1-based) of the counts. */
static uint64_t at_rank(const uint64_t *counts, uint64_t rank, uint64_t max)
{
	uint64_t seen = 0;
	for (unsigned b = 0; b < BRAIN_HIST_BUCKETS; b++) {
		seen += counts[b];
		if (seen >= rank)
			return BRAIN_MIN(brain__hist_upper(b), max);
	}
	return max;
}

void brain__hist_summary(const brain_histogram *h, brain_histogram_summary *out)
{
	memset(out, 0, sizeof *out);
	uint64_t counts[BRAIN_HIST_BUCKETS], n = 0;
	brain_histogram *w = (brain_histogram *)h;
	for (unsigned b = 0; b < BRAIN_HIST_BUCKETS; b++) {
		counts[b] = atomic_load_explicit(&w->counts[b], memory_order_relaxed);
		n += counts[b];
	}
	if (n == 0)
		return;
	uint64_t max = atomic_load_explicit(&w->max_ns, memory_order_relaxed);
	out->count = n;
	out->mean_ns = atomic_load_explicit(&w->sum_ns, memory_order_relaxed) / n;
	/* the smallest value with at least p% of the counts at or below it */
	out->p50_ns = at_rank(counts, (n * 50 + 99) / 100, max);
	out->p95_ns = at_rank(counts, (n * 95 + 99) / 100, max);
	out->p99_ns = at_rank(counts, (n * 99 + 99) / 100, max);
	out->max_ns = max;
}
