//! Raw declarations of libbraincore's C API (`include/braincore/*.h`,
//! version 0.1.0), written by hand: every function of the public headers
//! except the extension points of `braincore/sys/`, the versioned structs
//! mirrored field for field, and the constants the headers define.
//!
//! Nothing here is safe to call without reading the header's comment for
//! that function; the `braincore` crate is the safe API. The library is
//! found by `build.rs` through `pkg-config --libs braincore`.
//!
//! `tests/layout.rs` checks the structs against the C compiler's layout.

// Lints in the crates rather than [lints] in Cargo.toml, which Debian 12's
// cargo (1.65) does not read.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_debug_implementations, clippy::undocumented_unsafe_blocks)]
#![allow(non_camel_case_types)]

use std::ffi::c_void;
use std::marker::{PhantomData, PhantomPinned};
use std::os::raw::{c_char, c_int, c_uint};

macro_rules! opaque {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[repr(C)]
        pub struct $name {
            _data: [u8; 0],
            _marker: PhantomData<(*mut u8, PhantomPinned)>,
        }
        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(stringify!($name))
            }
        }
    )*};
}

opaque! {
    /// A brain (`brain_t`): one memory, with its records, vectors and index.
    brain_t;
    /// An immutable list of memories (`brain_results`).
    brain_results;
    /// An immutable list of edges (`brain_edges`).
    brain_edges;
    /// A parsed or built metadata filter (`brain_filter`).
    brain_filter;
    /// The io layer of an on-disk brain (`struct brain_io`, braincore/sys/io.h).
    brain_io;
}

/// Identifier of a memory.
pub type brain_id = u64;

// ---- common.h ----------------------------------------------------------

pub const BRAIN_VERSION_MAJOR: c_int = 0;
pub const BRAIN_VERSION_MINOR: c_int = 1;
pub const BRAIN_VERSION_PATCH: c_int = 0;
pub const BRAIN_VERSION_NUMBER: c_int = BRAIN_VERSION_MAJOR * 10000 + BRAIN_VERSION_MINOR * 100 + BRAIN_VERSION_PATCH;
pub const BRAIN_VERSION_STRING: &str = "0.1.0";
pub const BRAIN_ID_NONE: brain_id = u64::MAX;

// ---- errors.h ----------------------------------------------------------

pub const BRAIN_OK: c_int = 0;
pub const BRAIN_EINVAL: c_int = -1;
pub const BRAIN_ENOMEM: c_int = -2;
pub const BRAIN_ENULL: c_int = -3;
pub const BRAIN_EEMPTY: c_int = -4;
pub const BRAIN_EUTF8: c_int = -5;
pub const BRAIN_ETOOLONG: c_int = -6;
pub const BRAIN_EDIM: c_int = -7;
pub const BRAIN_ENONFINITE: c_int = -8;
pub const BRAIN_EZEROVEC: c_int = -9;
pub const BRAIN_ERANGE: c_int = -10;
pub const BRAIN_ENOTFOUND: c_int = -11;
pub const BRAIN_EEXISTS: c_int = -12;
pub const BRAIN_EBUFSIZE: c_int = -13;
pub const BRAIN_ENOEMBEDDER: c_int = -14;
pub const BRAIN_EEMBEDDER: c_int = -15;
pub const BRAIN_EGENERATOR: c_int = -16;
pub const BRAIN_EVERSION: c_int = -17;
pub const BRAIN_EPARAM: c_int = -18;
pub const BRAIN_EFULL: c_int = -19;
pub const BRAIN_ENOTSUP: c_int = -20;
pub const BRAIN_ESTATE: c_int = -21;
pub const BRAIN_EBUSY: c_int = -22;
pub const BRAIN_EINTERNAL: c_int = -23;
pub const BRAIN_EIO: c_int = -24;
pub const BRAIN_ECORRUPT: c_int = -25;
pub const BRAIN_ENOSPC: c_int = -26;
pub const BRAIN_EMISMATCH: c_int = -27;
pub const BRAIN_EREADONLY: c_int = -28;
pub const BRAIN_EJSON: c_int = -29;
pub const BRAIN_EFILTER: c_int = -30;
pub const BRAIN_ETYPE: c_int = -31;

pub const BRAIN_LOG_ERROR: c_int = 0;
pub const BRAIN_LOG_WARN: c_int = 1;
pub const BRAIN_LOG_INFO: c_int = 2;
pub const BRAIN_LOG_DEBUG: c_int = 3;

pub type brain_log_fn = Option<unsafe extern "C" fn(level: c_int, message: *const c_char, payload: *mut c_void)>;

// ---- options.h ---------------------------------------------------------

pub const BRAIN_METRIC_COSINE: c_int = 0;
pub const BRAIN_METRIC_L2: c_int = 1;
pub const BRAIN_METRIC_IP: c_int = 2;

pub const BRAIN_INDEX_AUTO: c_int = 0;
pub const BRAIN_INDEX_FLAT: c_int = 1;
pub const BRAIN_INDEX_HNSW: c_int = 2;

pub const BRAIN_EMBEDDER_BUILTIN: c_int = 0;
pub const BRAIN_EMBEDDER_NONE: c_int = 1;
pub const BRAIN_EMBEDDER_MODEL: c_int = 2;

pub const BRAIN_SYNC_FULL: c_int = 0;
pub const BRAIN_SYNC_NORMAL: c_int = 1;
pub const BRAIN_SYNC_OFF: c_int = 2;

pub const BRAIN_BACKGROUND_THREADS: c_int = 0;
pub const BRAIN_BACKGROUND_MANUAL: c_int = 1;

pub const BRAIN_OPEN_READONLY: c_uint = 1 << 0;
pub const BRAIN_OPEN_NOCREATE: c_uint = 1 << 1;
pub const BRAIN_OPEN_STORED_OPTIONS: c_uint = 1 << 2;

pub const BRAIN_OPTIONS_VERSION: c_uint = 4;
pub const BRAIN_DEFAULT_DIMENSIONS: u32 = 384;
pub const BRAIN_MAX_DIMENSIONS: u32 = 65536;
pub const BRAIN_DEFAULT_MAX_TEXT_BYTES: u32 = 65536;
pub const BRAIN_MAX_TEXT_BYTES_LIMIT: u32 = 64 * 1024 * 1024;
pub const BRAIN_MAX_MEMORIES_LIMIT: u64 = 4294967294;

/// `brain_options`, version 4. Initialise with [`brain_options_init`].
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct brain_options {
    pub version: c_uint,
    pub dimensions: u32,
    pub metric: c_int,
    pub index: c_int,
    pub embedder: c_int,
    pub max_text_bytes: u32,
    pub max_memories: u64,
    pub index_name: *const c_char,
    // version 2
    pub sync: c_int,
    pub flags: c_uint,
    pub io: *const brain_io,
    // version 3
    pub background: c_int,
    // version 4
    pub model_path: *const c_char,
}

// ---- memory.h ----------------------------------------------------------

pub const BRAIN_SEMANTIC: c_int = 0;
pub const BRAIN_KEYWORD: c_int = 1;
pub const BRAIN_HYBRID: c_int = 2;
pub const BRAIN_TIME_NONE: i64 = i64::MIN;
pub const BRAIN_KEEP_IMPORTANCE: f32 = -1.0;
pub const BRAIN_KEY_MAX: usize = 1024;

pub type brain_embed_fn = Option<
    unsafe extern "C" fn(
        text: *const c_char,
        text_len: usize,
        vector: *mut f32,
        dimensions: usize,
        payload: *mut c_void,
    ) -> c_int,
>;

pub type brain_generate_fn = Option<
    unsafe extern "C" fn(
        input: *const c_char,
        memories: *const brain_results,
        output: *mut c_char,
        output_size: usize,
        payload: *mut c_void,
    ) -> c_int,
>;

// ---- vector.h ----------------------------------------------------------

pub type brain_accept_fn = Option<unsafe extern "C" fn(id: u64, payload: *mut c_void) -> c_int>;

// ---- filter.h ----------------------------------------------------------

pub const BRAIN_FILTER_EQ: c_int = 1;
pub const BRAIN_FILTER_NE: c_int = 2;
pub const BRAIN_FILTER_LT: c_int = 3;
pub const BRAIN_FILTER_LE: c_int = 4;
pub const BRAIN_FILTER_GT: c_int = 5;
pub const BRAIN_FILTER_GE: c_int = 6;
pub const BRAIN_FILTER_TEXT_MAX: usize = 1 << 20;
pub const BRAIN_FILTER_DEPTH_MAX: usize = 64;

// ---- relations.h -------------------------------------------------------

pub const BRAIN_VERB_MAX: usize = 128;
pub const BRAIN_DIR_OUT: c_int = 1;
pub const BRAIN_DIR_IN: c_int = 2;
pub const BRAIN_DIR_BOTH: c_int = 3;

// ---- document.h --------------------------------------------------------

pub const BRAIN_CHUNK_DEFAULT: usize = 1000;
pub const BRAIN_CHUNK_MIN: usize = 32;
pub const BRAIN_CHUNK_MAX: usize = 1 << 20;
pub const BRAIN_DOCUMENT_MAX: usize = 256 << 20;

/// `BRAIN_RESULT_VERSION`: the version of [`brain_result`] declared here.
pub const BRAIN_RESULT_VERSION: c_uint = 1;

/// One entry of a results object, as `brain_results_read` copies it
/// (memory.h); the pointers are borrowed from the results object.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct brain_result {
    pub id: u64,
    pub score: f32,
    pub importance: f32,
    pub created_ms: i64,
    pub accessed_ms: i64,
    pub text: *const c_char,
    pub text_len: usize,
    pub metadata: *const c_char,
    pub key: *const c_char,
    pub document: *const c_char,
}

/// A passage of a text: `len` bytes from byte `start`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct brain_span {
    pub start: usize,
    pub len: usize,
}

// ---- params.h ----------------------------------------------------------

pub const BRAIN_PARAM_SYNC_INTERVAL_MS: c_int = 10;
pub const BRAIN_PARAM_CHECKPOINT_WAL_BYTES: c_int = 11;
pub const BRAIN_PARAM_THREADS: c_int = 12;
pub const BRAIN_PARAM_TICK_MS: c_int = 13;
pub const BRAIN_PARAM_INDEX_TAIL_MAX: c_int = 14;
pub const BRAIN_PARAM_INGEST_QUEUE: c_int = 15;
pub const BRAIN_PARAM_INGEST_WAIT_MS: c_int = 16;
pub const BRAIN_PARAM_MEMORY_BUDGET: c_int = 17;
pub const BRAIN_PARAM_CIRCADIAN_MS: c_int = 18;
pub const BRAIN_PARAM_FORGET_OVER: c_int = 19;
pub const BRAIN_PARAM_FORGET_ON_PRESSURE: c_int = 20;
pub const BRAIN_PARAM_MERGE_SIMILAR: c_int = 21;
pub const BRAIN_PARAM_WATCHDOG_MS: c_int = 22;
pub const BRAIN_PARAM_COMPACT_FREE: c_int = 23;
pub const BRAIN_PARAM_BACKGROUND_NICE: c_int = 24;
pub const BRAIN_PARAM_RECALL_MIN_SCORE: c_int = 100;
pub const BRAIN_PARAM_RECALL_IMPORTANCE_WEIGHT: c_int = 101;
pub const BRAIN_PARAM_DECAY_HALF_LIFE_H: c_int = 102;
pub const BRAIN_PARAM_HYBRID_KEYWORD_WEIGHT: c_int = 103;
pub const BRAIN_PARAM_THINK_MIN_SCORE: c_int = 200;
pub const BRAIN_PARAM_THINK_MAX_MEMORIES: c_int = 201;
pub const BRAIN_PARAM_THINK_CONTEXT_WEIGHT: c_int = 202;
pub const BRAIN_PARAM_WORKING_MEMORY_SIZE: c_int = 203;
pub const BRAIN_PARAM_THINK_RELATIVE_SCORE: c_int = 204;
pub const BRAIN_PARAM_CONSOLIDATE_WORKING: c_int = 205;
pub const BRAIN_PARAM_HNSW_M: c_int = 300;
pub const BRAIN_PARAM_HNSW_EF_CONSTRUCTION: c_int = 301;
pub const BRAIN_PARAM_HNSW_EF_SEARCH: c_int = 302;
pub const BRAIN_PARAM_HNSW_SQ8: c_int = 303;
pub const BRAIN_PARAM_HNSW_SEED: c_int = 304;
pub const BRAIN_PARAM_HNSW_EXACT_BELOW: c_int = 305;
pub const BRAIN_PARAM_HNSW_ELEMENT: c_int = 306;

// ---- storage.h ---------------------------------------------------------

pub type brain_write_fn = Option<unsafe extern "C" fn(data: *const c_void, len: usize, payload: *mut c_void) -> c_int>;
pub type brain_read_fn = Option<unsafe extern "C" fn(buf: *mut c_void, len: usize, payload: *mut c_void) -> c_int>;

pub const BRAIN_CHECK_REPORT_VERSION: c_uint = 1;

/// `brain_check_report`, version 1.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct brain_check_report {
    pub version: c_uint,
    pub memories: u64,
    pub generation: u64,
    pub checkpoint_lsn: u64,
    pub checkpoint_bytes: u64,
    pub bytes_verified: u64,
    pub wal_records: u64,
    pub wal_bytes: u64,
    pub wal_torn_bytes: u64,
    pub dropped_records: u64,
}

pub const BRAIN_STATS_VERSION: c_uint = 7;

/// `brain_stats`, version 7. Initialise with [`brain_stats_init`].
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct brain_stats {
    pub version: c_uint,
    pub memories: u64,
    pub text_memories: u64,
    pub dimensions: u32,
    pub metric: c_int,
    pub sync: c_int,
    pub on_disk: c_int,
    pub read_only: c_int,
    pub index_bytes: u64,
    pub last_lsn: u64,
    pub durable_lsn: u64,
    pub checkpoint_lsn: u64,
    pub generation: u64,
    pub checkpoint_bytes: u64,
    pub wal_bytes: u64,
    pub checkpoints: u64,
    // version 2
    pub heap_bytes: u64,
    pub heap_peak_bytes: u64,
    pub heap_records_bytes: u64,
    pub heap_index_bytes: u64,
    pub heap_embedder_bytes: u64,
    pub heap_log_bytes: u64,
    pub heap_results_bytes: u64,
    pub heap_other_bytes: u64,
    // version 3
    pub remember_count: u64,
    pub remember_p50_ns: u64,
    pub remember_p99_ns: u64,
    pub remember_max_ns: u64,
    pub recall_count: u64,
    pub recall_p50_ns: u64,
    pub recall_p99_ns: u64,
    pub recall_max_ns: u64,
    pub think_count: u64,
    pub think_p50_ns: u64,
    pub think_p99_ns: u64,
    pub think_max_ns: u64,
    pub search_count: u64,
    pub search_p50_ns: u64,
    pub search_p99_ns: u64,
    pub search_max_ns: u64,
    // version 4
    pub index_pending: u64,
    pub index_builds: u64,
    pub ingest_queued: u64,
    pub ingest_done: u64,
    pub ingest_waited: u64,
    pub memory_budget: u64,
    pub memory_pressure: c_int,
    pub circadian_cycles: u64,
    pub circadian_forgotten: u64,
    // version 5
    pub circadian_consolidated: u64,
    // version 6
    pub circadian_compacted: u64,
    pub circadian_slots_released: u64,
    // version 7
    pub meta_memories: u64,
    pub meta_fields: u64,
    pub meta_bytes: u64,
    pub meta_postings_broken: c_int,
    pub relations: u64,
}

extern "C" {
    // common.h
    pub fn brain_version() -> c_int;
    pub fn brain_version_string() -> *const c_char;

    // errors.h
    pub fn brain_strerror(code: c_int) -> *const c_char;
    pub fn brain_error_name(code: c_int) -> *const c_char;
    pub fn brain_errmsg() -> *const c_char;
    pub fn brain_errcode() -> c_int;
    pub fn brain_set_log(f: brain_log_fn, payload: *mut c_void);
    pub fn brain_set_log_level(level: c_int) -> c_int;

    // options.h
    pub fn brain_options_init(opts: *mut brain_options, version: c_uint) -> c_int;
    pub fn brain_metric_name(metric: c_int) -> *const c_char;

    // brain.h
    pub fn brain_open(path: *const c_char, opts: *const brain_options, out: *mut *mut brain_t) -> c_int;
    pub fn brain_close(b: *mut brain_t) -> c_int;
    pub fn brain_count(b: *const brain_t) -> u64;
    pub fn brain_create() -> *mut brain_t;
    pub fn brain_destroy(b: *mut brain_t);
    pub fn brain_dimensions(b: *const brain_t) -> u32;
    pub fn brain_tick(b: *mut brain_t) -> c_int;

    // filter.h
    pub fn brain_filter_parse(text: *const c_char, out: *mut *mut brain_filter) -> c_int;
    pub fn brain_filter_parse_len(text: *const c_char, len: usize, out: *mut *mut brain_filter) -> c_int;
    pub fn brain_filter_string(field: *const c_char, op: c_int, value: *const c_char) -> *mut brain_filter;
    pub fn brain_filter_int(field: *const c_char, op: c_int, value: i64) -> *mut brain_filter;
    pub fn brain_filter_double(field: *const c_char, op: c_int, value: f64) -> *mut brain_filter;
    pub fn brain_filter_bool(field: *const c_char, op: c_int, value: c_int) -> *mut brain_filter;
    pub fn brain_filter_in_strings(field: *const c_char, values: *const *const c_char, n: usize) -> *mut brain_filter;
    pub fn brain_filter_in_ints(field: *const c_char, values: *const i64, n: usize) -> *mut brain_filter;
    pub fn brain_filter_contains(field: *const c_char, value: *const c_char) -> *mut brain_filter;
    pub fn brain_filter_exists(field: *const c_char) -> *mut brain_filter;
    pub fn brain_filter_valid_at(at_ms: i64) -> *mut brain_filter;
    pub fn brain_filter_and(a: *mut brain_filter, b: *mut brain_filter) -> *mut brain_filter;
    pub fn brain_filter_or(a: *mut brain_filter, b: *mut brain_filter) -> *mut brain_filter;
    pub fn brain_filter_not(a: *mut brain_filter) -> *mut brain_filter;
    pub fn brain_filter_to_string(f: *const brain_filter, buf: *mut c_char, size: usize) -> usize;
    pub fn brain_filter_free(f: *mut brain_filter);

    // memory.h
    pub fn brain_remember(b: *mut brain_t, text: *const c_char, importance: f32) -> c_int;
    pub fn brain_recall(b: *mut brain_t, query: *const c_char, top_k: c_int) -> *mut *mut c_char;
    pub fn brain_strings_free(strings: *mut *mut c_char);
    pub fn brain_think(b: *mut brain_t, input: *const c_char, output: *mut c_char, output_size: usize) -> c_int;
    pub fn brain_remember_ex(
        b: *mut brain_t,
        text: *const c_char,
        vector: *const f32,
        importance: f32,
        id_out: *mut brain_id,
    ) -> c_int;
    pub fn brain_recall_ids(
        b: *mut brain_t,
        query: *const c_char,
        k: usize,
        ids: *mut brain_id,
        scores: *mut f32,
        found: *mut usize,
    ) -> c_int;
    pub fn brain_recall_results(b: *mut brain_t, query: *const c_char, k: usize, out: *mut *mut brain_results)
        -> c_int;
    pub fn brain_remember_with(
        b: *mut brain_t,
        text: *const c_char,
        importance: f32,
        metadata_json: *const c_char,
        id: *mut u64,
    ) -> c_int;
    pub fn brain_remember_n(
        b: *mut brain_t,
        text: *const c_char,
        text_len: usize,
        importance: f32,
        metadata_json: *const c_char,
        id: *mut u64,
    ) -> c_int;
    pub fn brain_remember_full(
        b: *mut brain_t,
        text: *const c_char,
        text_len: usize,
        vector: *const f32,
        importance: f32,
        metadata_json: *const c_char,
        id: *mut u64,
    ) -> c_int;
    pub fn brain_recall_where(
        b: *mut brain_t,
        query: *const c_char,
        filter: *const c_char,
        top_k: c_int,
    ) -> *mut *mut c_char;
    pub fn brain_recall_filter(
        b: *mut brain_t,
        query: *const c_char,
        k: usize,
        filter: *const brain_filter,
        out: *mut *mut brain_results,
    ) -> c_int;
    pub fn brain_recall_mode(
        b: *mut brain_t,
        query: *const c_char,
        k: usize,
        mode: c_int,
        filter: *const brain_filter,
        out: *mut *mut brain_results,
    ) -> c_int;
    pub fn brain_set_metadata(b: *mut brain_t, id: brain_id, metadata_json: *const c_char) -> c_int;
    pub fn brain_patch_metadata(b: *mut brain_t, id: brain_id, patch_json: *const c_char) -> c_int;
    pub fn brain_get_metadata(b: *mut brain_t, id: brain_id, buf: *mut c_char, size: usize, len: *mut usize) -> c_int;
    pub fn brain_count_where(b: *mut brain_t, filter: *const brain_filter, count: *mut u64) -> c_int;
    pub fn brain_remember_batch(
        b: *mut brain_t,
        texts: *const *const c_char,
        n: usize,
        importance: f32,
        metadata_json: *const *const c_char,
        ids: *mut u64,
    ) -> c_int;
    pub fn brain_recall_batch(
        b: *mut brain_t,
        queries: *const *const c_char,
        n: usize,
        k: usize,
        filter: *const brain_filter,
        out: *mut *mut brain_results,
    ) -> c_int;
    pub fn brain_set_valid(b: *mut brain_t, id: brain_id, valid_from_ms: i64, valid_until_ms: i64) -> c_int;
    pub fn brain_supersede(b: *mut brain_t, old_id: brain_id, new_id: brain_id, at_ms: i64) -> c_int;
    pub fn brain_forget_where(b: *mut brain_t, filter: *const brain_filter, forgotten: *mut u64) -> c_int;
    pub fn brain_list(
        b: *mut brain_t,
        filter: *const brain_filter,
        after: brain_id,
        max: usize,
        out: *mut *mut brain_results,
    ) -> c_int;
    pub fn brain_think_ex(b: *mut brain_t, input: *const c_char, out: *mut *mut brain_results) -> c_int;
    pub fn brain_get(b: *mut brain_t, id: brain_id, out: *mut *mut brain_results) -> c_int;
    pub fn brain_update(
        b: *mut brain_t,
        id: u64,
        text: *const c_char,
        text_len: usize,
        vector: *const f32,
        importance: f32,
        metadata_json: *const c_char,
    ) -> c_int;
    pub fn brain_upsert(
        b: *mut brain_t,
        key: *const c_char,
        text: *const c_char,
        text_len: usize,
        vector: *const f32,
        importance: f32,
        metadata_json: *const c_char,
        id: *mut u64,
    ) -> c_int;
    pub fn brain_key_id(b: *mut brain_t, key: *const c_char, id: *mut u64) -> c_int;
    pub fn brain_forget_key(b: *mut brain_t, key: *const c_char) -> c_int;
    pub fn brain_forget(b: *mut brain_t, id: brain_id) -> c_int;
    pub fn brain_set_embedder(b: *mut brain_t, f: brain_embed_fn, payload: *mut c_void) -> c_int;
    pub fn brain_set_generator(b: *mut brain_t, f: brain_generate_fn, payload: *mut c_void) -> c_int;
    pub fn brain_results_count(r: *const brain_results) -> usize;
    pub fn brain_results_id(r: *const brain_results, i: usize) -> brain_id;
    pub fn brain_results_score(r: *const brain_results, i: usize) -> f32;
    pub fn brain_results_text(r: *const brain_results, i: usize) -> *const c_char;
    pub fn brain_results_text_len(r: *const brain_results, i: usize) -> usize;
    pub fn brain_results_importance(r: *const brain_results, i: usize) -> f32;
    pub fn brain_results_created(r: *const brain_results, i: usize) -> i64;
    pub fn brain_results_accessed(r: *const brain_results, i: usize) -> i64;
    pub fn brain_results_metadata(r: *const brain_results, i: usize) -> *const c_char;
    pub fn brain_results_key(r: *const brain_results, i: usize) -> *const c_char;
    pub fn brain_results_document(r: *const brain_results, i: usize) -> *const c_char;
    pub fn brain_results_answer(r: *const brain_results) -> *const c_char;
    pub fn brain_results_read(
        r: *const brain_results,
        first: usize,
        n: usize,
        version: c_uint,
        out: *mut brain_result,
        filled: *mut usize,
    ) -> c_int;
    pub fn brain_results_free(r: *mut brain_results);

    // vector.h
    pub fn brain_add(b: *mut brain_t, id: u64, vector: *const f32) -> c_int;
    pub fn brain_add_with(b: *mut brain_t, id: u64, vector: *const f32, metadata_json: *const c_char) -> c_int;
    pub fn brain_add_batch(b: *mut brain_t, ids: *const u64, vectors: *const f32, n: usize) -> c_int;
    pub fn brain_search(
        b: *mut brain_t,
        query: *const f32,
        k: usize,
        ids: *mut u64,
        distances: *mut f32,
        found: *mut usize,
    ) -> c_int;
    pub fn brain_search_batch(
        b: *mut brain_t,
        queries: *const f32,
        nq: usize,
        k: usize,
        ids: *mut u64,
        distances: *mut f32,
        found: *mut usize,
    ) -> c_int;
    pub fn brain_search_filter(
        b: *mut brain_t,
        query: *const f32,
        k: usize,
        accept: brain_accept_fn,
        payload: *mut c_void,
        ids: *mut u64,
        distances: *mut f32,
        found: *mut usize,
    ) -> c_int;
    pub fn brain_search_where(
        b: *mut brain_t,
        query: *const f32,
        k: usize,
        filter: *const brain_filter,
        ids: *mut u64,
        distances: *mut f32,
        found: *mut usize,
    ) -> c_int;
    pub fn brain_recall_vector(
        b: *mut brain_t,
        vector: *const f32,
        k: usize,
        filter: *const brain_filter,
        out: *mut *mut brain_results,
    ) -> c_int;
    pub fn brain_search_ids(
        b: *mut brain_t,
        query: *const f32,
        k: usize,
        allowed: *const u64,
        n_allowed: usize,
        ids: *mut u64,
        distances: *mut f32,
        found: *mut usize,
    ) -> c_int;
    pub fn brain_update_vector(b: *mut brain_t, id: u64, vector: *const f32) -> c_int;
    pub fn brain_get_vector(b: *mut brain_t, id: u64, vector: *mut f32) -> c_int;

    // relations.h
    pub fn brain_relate(b: *mut brain_t, from: u64, to: u64, verb: *const c_char, weight: f32) -> c_int;
    pub fn brain_unrelate(b: *mut brain_t, from: u64, to: u64, verb: *const c_char) -> c_int;
    pub fn brain_neighbors(
        b: *mut brain_t,
        id: brain_id,
        verb: *const c_char,
        direction: c_int,
        out: *mut *mut brain_edges,
    ) -> c_int;
    pub fn brain_traverse(
        b: *mut brain_t,
        start: brain_id,
        depth: c_uint,
        verb: *const c_char,
        direction: c_int,
        out: *mut *mut brain_edges,
    ) -> c_int;
    pub fn brain_recall_near(
        b: *mut brain_t,
        query: *const c_char,
        k: usize,
        around: brain_id,
        depth: c_uint,
        filter: *const brain_filter,
        out: *mut *mut brain_results,
    ) -> c_int;
    pub fn brain_edges_count(e: *const brain_edges) -> usize;
    pub fn brain_edges_from(e: *const brain_edges, i: usize) -> brain_id;
    pub fn brain_edges_to(e: *const brain_edges, i: usize) -> brain_id;
    pub fn brain_edges_verb(e: *const brain_edges, i: usize) -> *const c_char;
    pub fn brain_edges_weight(e: *const brain_edges, i: usize) -> f32;
    pub fn brain_edges_hops(e: *const brain_edges, i: usize) -> c_uint;
    pub fn brain_edges_free(e: *mut brain_edges);

    // document.h
    pub fn brain_chunk(
        text: *const c_char,
        len: usize,
        max_bytes: usize,
        spans: *mut brain_span,
        cap: usize,
        n: *mut usize,
    ) -> c_int;
    pub fn brain_remember_document(
        b: *mut brain_t,
        key: *const c_char,
        text: *const c_char,
        text_len: usize,
        importance: f32,
        metadata_json: *const c_char,
        max_bytes: usize,
        passages: *mut usize,
    ) -> c_int;
    pub fn brain_forget_document(b: *mut brain_t, key: *const c_char, forgotten: *mut u64) -> c_int;

    // params.h
    pub fn brain_set_param(b: *mut brain_t, param: c_int, value: i64) -> c_int;
    pub fn brain_get_param(b: *const brain_t, param: c_int, value: *mut i64) -> c_int;
    pub fn brain_param_bounds(param: c_int, min: *mut i64, max: *mut i64, def: *mut i64) -> c_int;
    pub fn brain_param_name(param: c_int) -> *const c_char;

    // storage.h
    pub fn brain_checkpoint(b: *mut brain_t) -> c_int;
    pub fn brain_sync(b: *mut brain_t) -> c_int;
    pub fn brain_save(b: *mut brain_t, write: brain_write_fn, payload: *mut c_void) -> c_int;
    pub fn brain_load(
        read: brain_read_fn,
        payload: *mut c_void,
        path: *const c_char,
        opts: *const brain_options,
        out: *mut *mut brain_t,
    ) -> c_int;
    pub fn brain_backup(b: *mut brain_t, dir: *const c_char) -> c_int;
    pub fn brain_check_report_init(report: *mut brain_check_report, version: c_uint) -> c_int;
    pub fn brain_check(path: *const c_char, opts: *const brain_options, report: *mut brain_check_report) -> c_int;
    pub fn brain_repair(path: *const c_char, opts: *const brain_options, report: *mut brain_check_report) -> c_int;
    pub fn brain_stats_init(stats: *mut brain_stats, version: c_uint) -> c_int;
    pub fn brain_get_stats(b: *mut brain_t, stats: *mut brain_stats) -> c_int;

    // health.h
    pub fn brain_health_json(b: *mut brain_t, out: *mut c_char, out_size: usize) -> c_int;

    // ingest.h
    pub fn brain_remember_async(b: *mut brain_t, text: *const c_char, importance: f32) -> c_int;
    pub fn brain_add_async(b: *mut brain_t, id: u64, vector: *const f32) -> c_int;
    pub fn brain_flush(b: *mut brain_t) -> c_int;
}
