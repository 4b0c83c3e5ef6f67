'use strict';
// The C library, loaded once through koffi: its types and functions, and the
// tables (error codes, parameters) read from the library itself so that no
// list here can drift from the headers.

const koffi = require('koffi');

const DEFAULT_NAMES = { darwin: 'libbraincore.0.dylib', win32: 'braincore.dll' };
const path = process.env.BRAINCORE_LIBRARY || DEFAULT_NAMES[process.platform] || 'libbraincore.so.0';

let lib;
try {
  lib = koffi.load(path);
} catch (cause) {
  throw new Error(
    `braincore: cannot load the C library '${path}' (set BRAINCORE_LIBRARY to the path of ` +
      `libbraincore.so.0, or install it where the loader looks): ${cause.message}`,
    { cause }
  );
}

koffi.opaque('brain_t');
koffi.opaque('brain_results');
koffi.opaque('brain_edges');
koffi.opaque('brain_filter');

// Mirrors of the versioned structs (options.h version 4, storage.h version 7).
const OPTIONS_VERSION = 4;
koffi.struct('brain_options', {
  version: 'unsigned int',
  dimensions: 'uint32_t',
  metric: 'int',
  index: 'int',
  embedder: 'int',
  max_text_bytes: 'uint32_t',
  max_memories: 'uint64_t',
  index_name: 'const char *',
  sync: 'int',
  flags: 'unsigned int',
  io: 'const void *',
  background: 'int',
  model_path: 'const char *',
});

const STATS_VERSION = 7;
const u64 = 'uint64_t';
koffi.struct('brain_stats', {
  version: 'unsigned int',
  memories: u64,
  text_memories: u64,
  dimensions: 'uint32_t',
  metric: 'int',
  sync: 'int',
  on_disk: 'int',
  read_only: 'int',
  index_bytes: u64,
  last_lsn: u64,
  durable_lsn: u64,
  checkpoint_lsn: u64,
  generation: u64,
  checkpoint_bytes: u64,
  wal_bytes: u64,
  checkpoints: u64,
  heap_bytes: u64,
  heap_peak_bytes: u64,
  heap_records_bytes: u64,
  heap_index_bytes: u64,
  heap_embedder_bytes: u64,
  heap_log_bytes: u64,
  heap_results_bytes: u64,
  heap_other_bytes: u64,
  remember_count: u64,
  remember_p50_ns: u64,
  remember_p99_ns: u64,
  remember_max_ns: u64,
  recall_count: u64,
  recall_p50_ns: u64,
  recall_p99_ns: u64,
  recall_max_ns: u64,
  think_count: u64,
  think_p50_ns: u64,
  think_p99_ns: u64,
  think_max_ns: u64,
  search_count: u64,
  search_p50_ns: u64,
  search_p99_ns: u64,
  search_max_ns: u64,
  index_pending: u64,
  index_builds: u64,
  ingest_queued: u64,
  ingest_done: u64,
  ingest_waited: u64,
  memory_budget: u64,
  memory_pressure: 'int',
  circadian_cycles: u64,
  circadian_forgotten: u64,
  circadian_consolidated: u64,
  circadian_compacted: u64,
  circadian_slots_released: u64,
  meta_memories: u64,
  meta_fields: u64,
  meta_bytes: u64,
  meta_postings_broken: 'int',
  relations: u64,
});

const WriteFn = koffi.proto('int brain_write_fn(const void *data, size_t len, void *payload)');
const ReadFn = koffi.proto('int brain_read_fn(void *buf, size_t len, void *payload)');
const AcceptFn = koffi.proto('int brain_accept_fn(uint64_t id, void *payload)');

// Pointers the C side writes through (ids, counts) are passed as typed arrays.
const PROTOTYPES = [
  'int brain_version(void)',
  'const char *brain_version_string(void)',
  'const char *brain_strerror(int code)',
  'const char *brain_error_name(int code)',
  'const char *brain_errmsg(void)',
  'int brain_options_init(_Out_ brain_options *opts, unsigned int version)',
  'int brain_open(const char *path, const brain_options *opts, _Out_ brain_t **out)',
  'int brain_close(brain_t *b)',
  'uint64_t brain_count(brain_t *b)',
  'uint32_t brain_dimensions(brain_t *b)',
  'int brain_set_param(brain_t *b, int param, int64_t value)',
  'int brain_get_param(brain_t *b, int param, _Out_ int64_t *value)',
  'const char *brain_param_name(int param)',
  // memory.h
  'int brain_remember_n(brain_t *b, const char *text, size_t len, float importance, const char *meta, uint64_t *id)',
  'int brain_remember_full(brain_t *b, const char *text, size_t len, const float *vector, float importance, const char *meta, uint64_t *id)',
  'int brain_remember_batch(brain_t *b, const char **texts, size_t n, float importance, const char **meta, uint64_t *ids)',
  'int brain_recall_mode(brain_t *b, const char *query, size_t k, int mode, brain_filter *filter, _Out_ brain_results **out)',
  'int brain_think_ex(brain_t *b, const char *input, _Out_ brain_results **out)',
  'int brain_get(brain_t *b, uint64_t id, _Out_ brain_results **out)',
  'int brain_list(brain_t *b, brain_filter *filter, uint64_t after, size_t max, _Out_ brain_results **out)',
  'int brain_forget(brain_t *b, uint64_t id)',
  'int brain_forget_where(brain_t *b, brain_filter *filter, uint64_t *forgotten)',
  'int brain_count_where(brain_t *b, brain_filter *filter, uint64_t *count)',
  'int brain_update(brain_t *b, uint64_t id, const char *text, size_t len, const float *vector, float importance, const char *meta)',
  'int brain_upsert(brain_t *b, const char *key, const char *text, size_t len, const float *vector, float importance, const char *meta, uint64_t *id)',
  'int brain_key_id(brain_t *b, const char *key, uint64_t *id)',
  'int brain_forget_key(brain_t *b, const char *key)',
  'int brain_set_metadata(brain_t *b, uint64_t id, const char *meta)',
  'int brain_patch_metadata(brain_t *b, uint64_t id, const char *patch)',
  'int brain_get_metadata(brain_t *b, uint64_t id, uint8_t *buf, size_t size, uint64_t *len)',
  'size_t brain_results_count(brain_results *r)',
  'const char *brain_results_answer(brain_results *r)',
  'uint64_t brain_results_id(brain_results *r, size_t i)',
  'float brain_results_score(brain_results *r, size_t i)',
  'const char *brain_results_text(brain_results *r, size_t i)',
  'float brain_results_importance(brain_results *r, size_t i)',
  'int64_t brain_results_created(brain_results *r, size_t i)',
  'int64_t brain_results_accessed(brain_results *r, size_t i)',
  'const char *brain_results_metadata(brain_results *r, size_t i)',
  'const char *brain_results_key(brain_results *r, size_t i)',
  'const char *brain_results_document(brain_results *r, size_t i)',
  'void brain_results_free(brain_results *r)',
  // filter.h
  'int brain_filter_parse_len(const char *text, size_t len, _Out_ brain_filter **out)',
  'void brain_filter_free(brain_filter *f)',
  // vector.h
  'int brain_add(brain_t *b, uint64_t id, const float *vector)',
  'int brain_add_with(brain_t *b, uint64_t id, const float *vector, const char *meta)',
  'int brain_add_batch(brain_t *b, const uint64_t *ids, const float *vectors, size_t n)',
  'int brain_search(brain_t *b, const float *query, size_t k, uint64_t *ids, float *distances, uint64_t *found)',
  'int brain_search_batch(brain_t *b, const float *queries, size_t nq, size_t k, uint64_t *ids, float *distances, uint64_t *found)',
  'int brain_search_where(brain_t *b, const float *query, size_t k, brain_filter *filter, uint64_t *ids, float *distances, uint64_t *found)',
  'int brain_search_filter(brain_t *b, const float *query, size_t k, brain_accept_fn *accept, void *payload, uint64_t *ids, float *distances, uint64_t *found)',
  'int brain_recall_vector(brain_t *b, const float *vector, size_t k, brain_filter *filter, _Out_ brain_results **out)',
  'int brain_update_vector(brain_t *b, uint64_t id, const float *vector)',
  'int brain_get_vector(brain_t *b, uint64_t id, float *vector)',
  // relations.h
  'int brain_relate(brain_t *b, uint64_t from, uint64_t to, const char *verb, float weight)',
  'int brain_unrelate(brain_t *b, uint64_t from, uint64_t to, const char *verb)',
  'int brain_neighbors(brain_t *b, uint64_t id, const char *verb, int direction, _Out_ brain_edges **out)',
  'int brain_traverse(brain_t *b, uint64_t start, unsigned int depth, const char *verb, int direction, _Out_ brain_edges **out)',
  'size_t brain_edges_count(brain_edges *e)',
  'uint64_t brain_edges_from(brain_edges *e, size_t i)',
  'uint64_t brain_edges_to(brain_edges *e, size_t i)',
  'const char *brain_edges_verb(brain_edges *e, size_t i)',
  'float brain_edges_weight(brain_edges *e, size_t i)',
  'unsigned int brain_edges_hops(brain_edges *e, size_t i)',
  'void brain_edges_free(brain_edges *e)',
  // document.h
  'int brain_remember_document(brain_t *b, const char *key, const char *text, size_t len, float importance, const char *meta, size_t max_bytes, uint64_t *passages)',
  'int brain_forget_document(brain_t *b, const char *key, uint64_t *forgotten)',
  // ingest.h
  'int brain_remember_async(brain_t *b, const char *text, float importance)',
  'int brain_flush(brain_t *b)',
  // storage.h, health.h
  'int brain_checkpoint(brain_t *b)',
  'int brain_sync(brain_t *b)',
  'int brain_backup(brain_t *b, const char *dir)',
  'int brain_save(brain_t *b, brain_write_fn *write, void *payload)',
  'int brain_load(brain_read_fn *read, void *payload, const char *path, const brain_options *opts, _Out_ brain_t **out)',
  'int brain_stats_init(_Out_ brain_stats *stats, unsigned int version)',
  'int brain_get_stats(brain_t *b, _Inout_ brain_stats *stats)',
  'int brain_health_json(brain_t *b, uint8_t *out, size_t size)',
];

const C = {};
for (const proto of PROTOTYPES) {
  const fn = lib.func(proto);
  C[fn.info.name] = fn;
}

const version = C.brain_version();
if (Math.floor(version / 10000) !== 0 || version < 100) {
  throw new Error(
    `braincore: the C library at '${path}' is version ${C.brain_version_string()}; ` +
      'this binding needs 0.x from 0.1.0 on'
  );
}

// Error codes by name ('BRAIN_ENOTFOUND' -> -11), from brain_error_name().
// Codes are only ever appended, so scanning past the last known one is safe.
const codes = {};
for (let code = -1; code >= -1024; code--) {
  const name = C.brain_error_name(code);
  if (name === 'UNKNOWN') break;
  codes[`BRAIN_${name}`] = code;
}

// Parameters by lower-case name ('hnsw_ef_search' -> 302), from brain_param_name().
const params = {};
for (let p = 1; p < 1000; p++) {
  const name = C.brain_param_name(p);
  if (name) params[name.toLowerCase()] = p;
}

module.exports = {
  koffi,
  C,
  path,
  codes,
  params,
  OPTIONS_VERSION,
  STATS_VERSION,
  WriteFn,
  ReadFn,
  AcceptFn,
  ID_NONE: 0xffffffffffffffffn,
};
