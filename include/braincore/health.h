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
 * index_bytes, index {pending (vectors not yet in the graph), builds},
 * memory {budget, used, pressure ("normal", "elevated", "critical")},
 * watchdog {stalls (background jobs past WATCHDOG_MS), gate_held (the
 * writers' gate held past it), checksum_failures (found at run time),
 * index_rebuilt (the opened index was damaged and is rebuilt from its
 * vectors)}, circadian {cycles, forgotten, consolidated, compacted (memories
 * moved into free slots), slots_released (handed back at the end),
 * compacting (a compaction waits or runs), compact_held_us_max (its
 * longest hold of the write lock)}, ingest {queued,
 * done, waited}, latency_ns {remember, recall, think, search: {count, mean,
 * p50, p95, p99, max}} (successful calls since open, each within 12.5%:
 * fixed buckets; a query of brain_search_batch counts as a search, with
 * its share of the time of the scan it was answered by), log {bytes, last_lsn, durable_lsn}, checkpoint
 * {generation, lsn, bytes, count, age_ms (since the last checkpoint this
 * process wrote or opened), writers_held_us_max (the longest writers
 * waited for one)}, heart {background ("threads" or "manual"), beats
 * (since open, by the Heart or brain_tick), late_ms_max (the latest a beat
 * came)}. Numbers are integers; sections may gain keys.
 * Returns the length (>= 0) or: BRAIN_ENULL (b, or out with out_size > 0),
 * BRAIN_ERANGE (the document would pass INT_MAX bytes).
 * Thread-safe. It takes the brain's read lock only if it can within 20 ms
 * (a change a hung disk holds keeps it): then index_bytes is the last
 * figure known.
 */
int brain_health_json(brain_t *b, char *out, size_t out_size);

#ifdef __cplusplus
}
#endif

#endif /* BRAINCORE_HEALTH_H */
