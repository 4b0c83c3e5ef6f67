/*
 * braincore/health.h - what a running brain is doing: how many memories,
 * the heap it holds by structure, the latency of each kind of call (p50,
 * p95, p99 and the worst since open), its log and its last checkpoint, as
 * one JSON document. The same numbers are in brain_stats (version 4).
 */
#ifndef BRAINCORE_HEALTH_H
#define BRAINCORE_HEALTH_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Write the brain's health as a JSON object into out (out_size bytes, NUL
 * included), as snprintf does: the return value is the length of the whole
 * document (without the NUL), whatever out_size is. If it does not fit,
 * out gets an empty string (never a cut document); call again with a
 * buffer of the returned length + 1. out may be NULL when out_size is 0.
 * The document: memories, text_memories, dimensions, metric, on_disk,
 * heap_bytes {total, peak, records, index, embedder, log, results, other},
 * index_bytes, latency_ns {remember, recall, think, search: {count, mean,
 * p50, p95, p99, max}} (successful calls since open, each within 12.5%:
 * fixed buckets), log {bytes, last_lsn, durable_lsn}, checkpoint
 * {generation, lsn, bytes, count, age_ms} (age since the last checkpoint
 * this process wrote or opened), heart {background ("threads" or
 * "manual"), beats (since open, by the Heart or brain_tick)}. Numbers are
 * integers.
 * Returns the length (>= 0) or: BRAIN_ENULL (b, or out with out_size > 0),
 * BRAIN_ERANGE (the document would pass INT_MAX bytes).
 * Thread-safe (takes the brain's read lock briefly).
 */
int brain_health_json(brain_t *b, char *out, size_t out_size);

#ifdef __cplusplus
}
#endif

#endif /* BRAINCORE_HEALTH_H */
