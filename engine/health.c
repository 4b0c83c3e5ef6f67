/*
 * engine/health.c - what a running brain is doing: brain_get_stats (every
 * version) and the same as one JSON document (brain_health_json): counts,
 * heap by structure, the latency of each kind of call (base/histogram.h),
 * the log and the last checkpoint.
 */
#include <limits.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "engine/handle.h"

/* A JSON document written as snprintf writes: what fits is written, the
 * whole length is counted. */
typedef struct jdoc {
	char *out;
	size_t cap;
	size_t len;
	bool first; /* no member yet in the object being written */
} jdoc;

static void jd_printf(jdoc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void jd_printf(jdoc *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *at = d->len < d->cap ? d->out + d->len : NULL;
	size_t room = d->len < d->cap ? d->cap - d->len : 0;
	int n = vsnprintf(at, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		d->len += (size_t)n;
}

static void jd_key(jdoc *d, const char *key)
{
	jd_printf(d, "%s\"%s\":", d->first ? "" : ",", key);
	d->first = false;
}

static void jd_open(jdoc *d, const char *key)
{
	if (key)
		jd_key(d, key);
	jd_printf(d, "{");
	d->first = true;
}

static void jd_close(jdoc *d)
{
	jd_printf(d, "}");
	d->first = false;
}

static void jd_uint(jdoc *d, const char *key, uint64_t v)
{
	jd_key(d, key);
	jd_printf(d, "%llu", (unsigned long long)v);
}

static void jd_bool(jdoc *d, const char *key, bool v)
{
	jd_key(d, key);
	jd_printf(d, "%s", v ? "true" : "false");
}

static const char *const g_op_names[BRAIN_OP__COUNT] = {"remember", "recall", "think",
                                                        "search"};

/* The latency fields of stats version 3. */
static void latency_stats(const brain_t *b, brain_stats *stats)
{
	brain_histogram_summary s[BRAIN_OP__COUNT];
	for (int op = 0; op < BRAIN_OP__COUNT; op++)
		brain__hist_summary(&b->latency[op], &s[op]);
	stats->remember_count = s[BRAIN_OP_REMEMBER].count;
	stats->remember_p50_ns = s[BRAIN_OP_REMEMBER].p50_ns;
	stats->remember_p99_ns = s[BRAIN_OP_REMEMBER].p99_ns;
	stats->remember_max_ns = s[BRAIN_OP_REMEMBER].max_ns;
	stats->recall_count = s[BRAIN_OP_RECALL].count;
	stats->recall_p50_ns = s[BRAIN_OP_RECALL].p50_ns;
	stats->recall_p99_ns = s[BRAIN_OP_RECALL].p99_ns;
	stats->recall_max_ns = s[BRAIN_OP_RECALL].max_ns;
	stats->think_count = s[BRAIN_OP_THINK].count;
	stats->think_p50_ns = s[BRAIN_OP_THINK].p50_ns;
	stats->think_p99_ns = s[BRAIN_OP_THINK].p99_ns;
	stats->think_max_ns = s[BRAIN_OP_THINK].max_ns;
	stats->search_count = s[BRAIN_OP_SEARCH].count;
	stats->search_p50_ns = s[BRAIN_OP_SEARCH].p50_ns;
	stats->search_p99_ns = s[BRAIN_OP_SEARCH].p99_ns;
	stats->search_max_ns = s[BRAIN_OP_SEARCH].max_ns;
}

/* A version-1 brain_stats ends where version 2's fields begin. */
static size_t stats_size(unsigned int version)
{
	return version == 1   ? offsetof(brain_stats, heap_bytes)
	       : version == 2 ? offsetof(brain_stats, remember_count)
	       : version == 3 ? offsetof(brain_stats, index_pending)
	       : version == 4 ? offsetof(brain_stats, circadian_consolidated)
	       : version == 5 ? offsetof(brain_stats, circadian_compacted)
	       : version == 6 ? offsetof(brain_stats, meta_memories)
	                      : sizeof(brain_stats);
}

BRAIN_EXPORT int brain_stats_init(brain_stats *stats, unsigned int version)
{
	if (!stats)
		return brain__err(BRAIN_ENULL, "stats_init: stats is NULL");
	if (version < 1 || version > BRAIN_STATS_VERSION)
		return brain__err(BRAIN_EVERSION, "stats_init: version %u unknown (this library "
		                  "knows 1 to %d)", version, BRAIN_STATS_VERSION);
	memset(stats, 0, stats_size(version));
	stats->version = version;
	return BRAIN_OK;
}

/* The heap by structure (version 2). */
static void heap_stats(const brain_t *b, brain_stats *stats)
{
	brain_mem_usage u;
	brain__mem_usage(b->mem, &u);
	stats->heap_bytes = u.total;
	stats->heap_peak_bytes = u.peak;
	stats->heap_records_bytes = u.bytes[BRAIN_MEM_ORGAN0 + BRAIN_ORGAN_HIPPOCAMPUS];
	stats->heap_index_bytes = u.bytes[BRAIN_MEM_INDEX];
	stats->heap_embedder_bytes = u.bytes[BRAIN_MEM_ORGAN0 + BRAIN_ORGAN_CORTEX];
	stats->heap_log_bytes = u.bytes[BRAIN_MEM_ORGAN0 + BRAIN_ORGAN_LUNGS];
	stats->heap_results_bytes = u.bytes[BRAIN_MEM_RESULTS];
	stats->heap_other_bytes = u.total - stats->heap_records_bytes - stats->heap_index_bytes -
	                          stats->heap_embedder_bytes - stats->heap_log_bytes -
	                          stats->heap_results_bytes;
}

bool brain__rdlock_within(brain_t *b, int ms)
{
	for (int i = 0;; i++) {
		if (pthread_rwlock_tryrdlock(&b->lock) == 0) {
#ifdef BRAIN_CHECK_LOCKS
			brain__lock_note(&b->spine, BRAIN_LOCK_READ);
#endif
			return true;
		}
		if (i >= ms)
			return false;
		struct timespec t = {0, 1000000L};
		nanosleep(&t, NULL);
	}
}

/* How long Health waits for the read lock before it reports without it. */
#define STATS_LOCK_WAIT_MS 20

BRAIN_EXPORT int brain_get_stats(brain_t *b, brain_stats *stats)
{
	if (!b || !stats)
		return brain__err(BRAIN_ENULL, "get_stats: %s is NULL", b ? "stats" : "brain");
	if (stats->version < 1 || stats->version > BRAIN_STATS_VERSION)
		return brain__err(BRAIN_EVERSION, "get_stats: stats version %u unknown; call "
		                  "brain_stats_init() first", stats->version);
	/* the index's bytes need the read lock: waited for a little, not
	 * behind a change a hung disk holds (then the last figure known) */
	bool locked = brain__rdlock_within(b, STATS_LOCK_WAIT_MS);
	brain_msg_status st = {0};
	st.want_bytes = locked;
	brain__call_STATUS(&b->spine, &st);
	if (locked)
		atomic_store(&b->index_bytes_seen, st.index_bytes);
	else
		st.index_bytes = atomic_load(&b->index_bytes_seen);
	brain_msg_wal_status w;
	brain__call_WAL_STATUS(&b->spine, &w);
	stats->memories = st.count;
	stats->text_memories = st.text_count;
	stats->dimensions = b->env.opts.dimensions;
	stats->metric = b->env.opts.metric;
	stats->sync = b->env.opts.sync;
	stats->on_disk = b->disk.dir != NULL;
	stats->read_only = b->disk.readonly;
	stats->index_bytes = st.index_bytes;
	stats->last_lsn = w.last_lsn;
	stats->durable_lsn = w.synced_lsn;
	stats->checkpoint_lsn = b->disk.checkpoint_lsn;
	stats->generation = b->disk.generation;
	stats->checkpoint_bytes = b->disk.checkpoint_bytes;
	stats->wal_bytes = w.bytes;
	stats->checkpoints = atomic_load(&b->disk.checkpoints);
	if (locked)
		brain__unlock(b);
	if (stats->version >= 2)
		heap_stats(b, stats); /* atomics: no lock */
	if (stats->version >= 3)
		latency_stats(b, stats);
	if (stats->version >= 4) {
		stats->index_pending = brain__index_pending(b); /* an atomic: no lock */
		stats->index_builds = atomic_load(&b->built_batches);
		brain_msg_ingest_status q;
		brain__call_INGEST_STATUS(&b->spine, &q);
		stats->ingest_queued = q.queued;
		stats->ingest_done = q.done;
		stats->ingest_waited = q.puts_waited;
		brain_msg_liver_status lv;
		brain__call_LIVER_STATUS(&b->spine, &lv);
		stats->memory_budget = lv.budget;
		stats->memory_pressure = lv.level;
		stats->circadian_cycles = atomic_load(&b->cycles);
		stats->circadian_forgotten = atomic_load(&b->forgotten);
	}
	if (stats->version >= 5)
		stats->circadian_consolidated = atomic_load(&b->consolidated);
	if (stats->version >= 6) {
		stats->circadian_compacted = atomic_load(&b->compacted);
		stats->circadian_slots_released = atomic_load(&b->slots_released);
	}
	if (stats->version >= 7 && locked) {
		stats->meta_memories = st.meta_memories;
		stats->meta_fields = st.meta_fields;
		stats->meta_bytes = st.meta_bytes;
		stats->meta_postings_broken = st.meta_broken;
		stats->relations = st.relations;
	}
	return BRAIN_OK;
}

BRAIN_EXPORT int brain_health_json(brain_t *b, char *out, size_t out_size)
{
	if (!b || (!out && out_size))
		return brain__err(BRAIN_ENULL, "health_json: %s is NULL", b ? "out" : "brain");
	brain_stats st;
	brain_stats_init(&st, BRAIN_STATS_VERSION);
	int rc = brain_get_stats(b, &st);
	if (rc)
		return brain__err_prefix(rc, "health_json");
	brain_histogram_summary lat[BRAIN_OP__COUNT];
	for (int op = 0; op < BRAIN_OP__COUNT; op++)
		brain__hist_summary(&b->latency[op], &lat[op]);
	int64_t since = atomic_load(&b->checkpoint_at_ms);

	jdoc d = {out, out_size, 0, true};
	jd_open(&d, NULL);
	jd_uint(&d, "memories", st.memories);
	jd_uint(&d, "text_memories", st.text_memories);
	jd_uint(&d, "dimensions", st.dimensions);
	jd_key(&d, "metric");
	jd_printf(&d, "\"%s\"", brain_metric_name(st.metric));
	jd_bool(&d, "on_disk", st.on_disk);
	jd_open(&d, "heap_bytes");
	jd_uint(&d, "total", st.heap_bytes);
	jd_uint(&d, "peak", st.heap_peak_bytes);
	jd_uint(&d, "records", st.heap_records_bytes);
	jd_uint(&d, "index", st.heap_index_bytes);
	jd_uint(&d, "embedder", st.heap_embedder_bytes);
	jd_uint(&d, "log", st.heap_log_bytes);
	jd_uint(&d, "results", st.heap_results_bytes);
	jd_uint(&d, "other", st.heap_other_bytes);
	jd_close(&d);
	jd_uint(&d, "index_bytes", st.index_bytes);
	jd_open(&d, "index");
	jd_uint(&d, "pending", st.index_pending);
	jd_uint(&d, "builds", st.index_builds);
	jd_close(&d);
	jd_open(&d, "memory");
	jd_uint(&d, "budget", st.memory_budget);
	jd_uint(&d, "used", st.heap_bytes);
	jd_key(&d, "pressure");
	jd_printf(&d, "\"%s\"", st.memory_pressure == 2   ? "critical"
	                        : st.memory_pressure == 1 ? "elevated"
	                                                  : "normal");
	jd_close(&d);
	jd_open(&d, "watchdog");
	jd_uint(&d, "stalls", atomic_load(&b->stalls));
	brain_msg_status hs = {0};
	brain__call_STATUS(&b->spine, &hs);
	jd_uint(&d, "gate_held", atomic_load(&b->gate_stalls));
	jd_uint(&d, "checksum_failures", hs.damage);
	jd_bool(&d, "index_rebuilt", hs.index_rebuilt);
	jd_close(&d);
	jd_open(&d, "circadian");
	jd_uint(&d, "cycles", st.circadian_cycles);
	jd_uint(&d, "forgotten", st.circadian_forgotten);
	jd_uint(&d, "consolidated", st.circadian_consolidated);
	jd_uint(&d, "compacted", st.circadian_compacted);
	jd_uint(&d, "slots_released", st.circadian_slots_released);
	jd_bool(&d, "compacting", atomic_load(&b->compact_wanted));
	jd_uint(&d, "compact_held_us_max", atomic_load(&b->compact_hold_ns_max) / 1000);
	jd_close(&d);
	jd_open(&d, "metadata");
	jd_uint(&d, "memories", st.meta_memories);
	jd_uint(&d, "fields", st.meta_fields);
	jd_uint(&d, "bytes", st.meta_bytes);
	jd_bool(&d, "postings_broken", st.meta_postings_broken);
	jd_close(&d);
	jd_uint(&d, "relations", st.relations);
	jd_open(&d, "ingest");
	jd_uint(&d, "queued", st.ingest_queued);
	jd_uint(&d, "done", st.ingest_done);
	jd_uint(&d, "waited", st.ingest_waited);
	jd_close(&d);
	jd_open(&d, "latency_ns");
	for (int op = 0; op < BRAIN_OP__COUNT; op++) {
		jd_open(&d, g_op_names[op]);
		jd_uint(&d, "count", lat[op].count);
		jd_uint(&d, "mean", lat[op].mean_ns);
		jd_uint(&d, "p50", lat[op].p50_ns);
		jd_uint(&d, "p95", lat[op].p95_ns);
		jd_uint(&d, "p99", lat[op].p99_ns);
		jd_uint(&d, "max", lat[op].max_ns);
		jd_close(&d);
	}
	jd_close(&d);
	jd_open(&d, "log");
	jd_uint(&d, "bytes", st.wal_bytes);
	jd_uint(&d, "last_lsn", st.last_lsn);
	jd_uint(&d, "durable_lsn", st.durable_lsn);
	jd_close(&d);
	jd_open(&d, "checkpoint");
	jd_uint(&d, "generation", st.generation);
	jd_uint(&d, "lsn", st.checkpoint_lsn);
	jd_uint(&d, "bytes", st.checkpoint_bytes);
	jd_uint(&d, "count", st.checkpoints);
	int64_t now = brain__now_ms();
	jd_uint(&d, "age_ms", st.on_disk && now > since ? (uint64_t)(now - since) : 0);
	/* the longest writers waited at the gate for one (its first step) */
	jd_uint(&d, "writers_held_us_max", atomic_load(&b->ckpt_gate_ns_max) / 1000u);
	jd_close(&d);
	jd_open(&d, "heart");
	jd_key(&d, "background");
	jd_printf(&d, "\"%s\"",
	          b->env.opts.background == BRAIN_BACKGROUND_MANUAL ? "manual" : "threads");
	jd_uint(&d, "beats", atomic_load(&b->beats));
	jd_uint(&d, "late_ms_max", (uint64_t)BRAIN_MAX(atomic_load(&b->beat_late_max_ms), 0));
	jd_close(&d);
	jd_close(&d);

	if (d.len > (size_t)INT_MAX)
		return brain__err(BRAIN_ERANGE, "health_json: %zu bytes do not fit an int", d.len);
	if (d.len >= out_size && out_size)
		out[0] = '\0'; /* never a cut document */
	return (int)d.len;
}
