//! Plain data the API takes and returns. No unsafe code.

use crate::error::{Error, Result};
use braincore_sys as sys;
use std::os::raw::c_int;
use std::str::FromStr;

macro_rules! c_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $c:path, $text:literal;)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
        }
        impl $name {
            /// The C value (`braincore_sys::BRAIN_*`).
            pub fn raw(self) -> c_int {
                match self { $($name::$variant => $c as c_int,)* }
            }
            /// The variant of a C value, if it is one.
            pub fn from_raw(v: c_int) -> Option<$name> {
                $(if v == $c as c_int { return Some($name::$variant); })*
                None
            }
            /// The name the spec uses (`"cosine"`, `"hnsw"`, ...).
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)* }
            }
        }
        impl FromStr for $name {
            type Err = Error;
            /// Case-insensitive.
            fn from_str(s: &str) -> Result<$name> {
                $(if s.eq_ignore_ascii_case($text) { return Ok($name::$variant); })*
                Err(Error::new(
                    sys::BRAIN_EINVAL,
                    format!(concat!("unknown ", stringify!($name), " {:?} (one of: {})"), s,
                            [$($text),*].join(", ")),
                ))
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

c_enum! {
    /// Distance between vectors; smaller is closer for every metric.
    Metric {
        /// 1 - cosine similarity (vectors stored unit length; zero vectors refused).
        #[default]
        Cosine = sys::BRAIN_METRIC_COSINE, "cosine";
        /// Squared Euclidean distance.
        L2 = sys::BRAIN_METRIC_L2, "l2";
        /// 1 - inner product.
        Ip = sys::BRAIN_METRIC_IP, "ip";
    }
}

c_enum! {
    /// Index backend.
    IndexKind {
        /// Exact below HNSW_EXACT_BELOW vectors, then an HNSW graph.
        #[default]
        Auto = sys::BRAIN_INDEX_AUTO, "auto";
        /// Exact search over every vector.
        Flat = sys::BRAIN_INDEX_FLAT, "flat";
        /// An HNSW graph from the first vector on.
        Hnsw = sys::BRAIN_INDEX_HNSW, "hnsw";
    }
}

c_enum! {
    /// How text becomes a vector.
    Embedder {
        /// The built-in hashing embedder.
        #[default]
        Builtin = sys::BRAIN_EMBEDDER_BUILTIN, "builtin";
        /// None: the application gives the vectors.
        None = sys::BRAIN_EMBEDDER_NONE, "none";
        /// A BERT-family model from `Options::model_path`.
        Model = sys::BRAIN_EMBEDDER_MODEL, "model";
    }
}

c_enum! {
    /// When a change to an on-disk brain counts as done (docs/durability.md).
    SyncMode {
        /// Every change is fsynced before the call returns.
        #[default]
        Full = sys::BRAIN_SYNC_FULL, "full";
        /// fsynced in the background within SYNC_INTERVAL_MS.
        Normal = sys::BRAIN_SYNC_NORMAL, "normal";
        /// fsynced only by checkpoints, sync() and close.
        Off = sys::BRAIN_SYNC_OFF, "off";
    }
}

c_enum! {
    /// How a recall ranks.
    RecallMode {
        /// By meaning (the embedder's vectors).
        #[default]
        Semantic = sys::BRAIN_SEMANTIC, "semantic";
        /// By words (BM25).
        Keyword = sys::BRAIN_KEYWORD, "keyword";
        /// Both, fused by reciprocal rank.
        Hybrid = sys::BRAIN_HYBRID, "hybrid";
    }
}

c_enum! {
    /// Which edges of a memory.
    Direction {
        /// Edges leaving it.
        #[default]
        Out = sys::BRAIN_DIR_OUT, "out";
        /// Edges entering it.
        In = sys::BRAIN_DIR_IN, "in";
        /// Both.
        Both = sys::BRAIN_DIR_BOTH, "both";
    }
}

/// One memory as a recall, think, get or list returns it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Memory {
    /// Its id.
    pub id: u64,
    /// Its text; empty for a vector added with `add` (no text).
    pub text: String,
    /// Score of the recall (1 for `get` and `list`).
    pub score: f32,
    /// Importance in [0, 1].
    pub importance: f32,
    /// Creation time, ms since the Unix epoch.
    pub created: i64,
    /// Last access time, ms since the Unix epoch.
    pub accessed: i64,
    /// Its metadata as a JSON object, or `None` when it has none (`{}`).
    pub metadata: Option<String>,
    /// Its key (`upsert`), if any.
    pub key: Option<String>,
    /// The key of the document it is a passage of, if any.
    pub document: Option<String>,
}

/// The answer of a think and the memories it drew on, best first.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Thought {
    /// The answer.
    pub answer: String,
    /// The memories used (none when the brain did not know).
    pub memories: Vec<Memory>,
}

/// A relation between two memories.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Edge {
    /// The memory it leaves.
    pub from: u64,
    /// The memory it enters.
    pub to: u64,
    /// Its verb.
    pub verb: String,
    /// Its weight.
    pub weight: f32,
    /// Hops from the start (`traverse`); 1 for `neighbors`.
    pub hops: u32,
}

/// How to remember a text ([`crate::Brain::remember_with`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RememberOptions<'a> {
    /// Importance in [0, 1]; default 0.5.
    pub importance: f32,
    /// Metadata: a JSON object of typed fields, e.g. `{"kind":"note"}`.
    pub metadata: Option<&'a str>,
    /// The caller's embedding of the text (the brain's dimensions).
    pub vector: Option<&'a [f32]>,
    /// A key: remember or replace the one memory holding it (upsert).
    pub key: Option<&'a str>,
}

impl Default for RememberOptions<'_> {
    fn default() -> Self {
        RememberOptions { importance: 0.5, metadata: None, vector: None, key: None }
    }
}

/// How to recall ([`crate::Brain::recall_with`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecallOptions<'a> {
    /// How many memories at most; default 5.
    pub k: usize,
    /// A filter over metadata, e.g. `kind = "note" AND ts >= 1700000000`.
    pub filter: Option<&'a str>,
    /// The ranking; default semantic.
    pub mode: RecallMode,
}

impl Default for RecallOptions<'_> {
    fn default() -> Self {
        RecallOptions { k: 5, filter: None, mode: RecallMode::Semantic }
    }
}

/// What to change in a memory ([`crate::Brain::update`]); `None` keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct UpdateOptions<'a> {
    /// A new text.
    pub text: Option<&'a str>,
    /// The caller's embedding of the new text (needs `text`).
    pub vector: Option<&'a [f32]>,
    /// A new importance.
    pub importance: Option<f32>,
    /// New metadata (replaces the caller's fields).
    pub metadata: Option<&'a str>,
}

/// How to remember a document ([`crate::Brain::remember_document`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DocumentOptions<'a> {
    /// Importance of every passage; default 0.5.
    pub importance: f32,
    /// Metadata of every passage.
    pub metadata: Option<&'a str>,
    /// Largest passage in bytes; 0 = 1000.
    pub max_bytes: usize,
}

impl Default for DocumentOptions<'_> {
    fn default() -> Self {
        DocumentOptions { importance: 0.5, metadata: None, max_bytes: 0 }
    }
}

/// Latency of one kind of call, in nanoseconds (within 12.5%).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Latency {
    /// Successful calls since open.
    pub count: u64,
    /// Median.
    pub p50_ns: u64,
    /// 99th percentile.
    pub p99_ns: u64,
    /// Worst.
    pub max_ns: u64,
}

/// The counters of a brain (`brain_stats` version 7, [`crate::Brain::stats`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[allow(missing_docs)] // the fields are documented in braincore/storage.h
pub struct Stats {
    pub memories: u64,
    pub text_memories: u64,
    pub dimensions: u32,
    pub metric: Option<Metric>,
    pub sync: Option<SyncMode>,
    pub on_disk: bool,
    pub read_only: bool,
    pub index_bytes: u64,
    pub last_lsn: u64,
    pub durable_lsn: u64,
    pub checkpoint_lsn: u64,
    pub generation: u64,
    pub checkpoint_bytes: u64,
    pub wal_bytes: u64,
    pub checkpoints: u64,
    pub heap_bytes: u64,
    pub heap_peak_bytes: u64,
    pub heap_records_bytes: u64,
    pub heap_index_bytes: u64,
    pub heap_embedder_bytes: u64,
    pub heap_log_bytes: u64,
    pub heap_results_bytes: u64,
    pub heap_other_bytes: u64,
    pub remember: Latency,
    pub recall: Latency,
    pub think: Latency,
    pub search: Latency,
    pub index_pending: u64,
    pub index_builds: u64,
    pub ingest_queued: u64,
    pub ingest_done: u64,
    pub ingest_waited: u64,
    pub memory_budget: u64,
    /// 0 normal, 1 elevated, 2 critical.
    pub memory_pressure: i32,
    pub circadian_cycles: u64,
    pub circadian_forgotten: u64,
    pub circadian_consolidated: u64,
    pub circadian_compacted: u64,
    pub circadian_slots_released: u64,
    pub meta_memories: u64,
    pub meta_fields: u64,
    pub meta_bytes: u64,
    pub meta_postings_broken: bool,
    pub relations: u64,
}

impl From<&sys::brain_stats> for Stats {
    fn from(s: &sys::brain_stats) -> Stats {
        let lat = |count, p50_ns, p99_ns, max_ns| Latency { count, p50_ns, p99_ns, max_ns };
        Stats {
            memories: s.memories,
            text_memories: s.text_memories,
            dimensions: s.dimensions,
            metric: Metric::from_raw(s.metric),
            sync: SyncMode::from_raw(s.sync),
            on_disk: s.on_disk != 0,
            read_only: s.read_only != 0,
            index_bytes: s.index_bytes,
            last_lsn: s.last_lsn,
            durable_lsn: s.durable_lsn,
            checkpoint_lsn: s.checkpoint_lsn,
            generation: s.generation,
            checkpoint_bytes: s.checkpoint_bytes,
            wal_bytes: s.wal_bytes,
            checkpoints: s.checkpoints,
            heap_bytes: s.heap_bytes,
            heap_peak_bytes: s.heap_peak_bytes,
            heap_records_bytes: s.heap_records_bytes,
            heap_index_bytes: s.heap_index_bytes,
            heap_embedder_bytes: s.heap_embedder_bytes,
            heap_log_bytes: s.heap_log_bytes,
            heap_results_bytes: s.heap_results_bytes,
            heap_other_bytes: s.heap_other_bytes,
            remember: lat(s.remember_count, s.remember_p50_ns, s.remember_p99_ns, s.remember_max_ns),
            recall: lat(s.recall_count, s.recall_p50_ns, s.recall_p99_ns, s.recall_max_ns),
            think: lat(s.think_count, s.think_p50_ns, s.think_p99_ns, s.think_max_ns),
            search: lat(s.search_count, s.search_p50_ns, s.search_p99_ns, s.search_max_ns),
            index_pending: s.index_pending,
            index_builds: s.index_builds,
            ingest_queued: s.ingest_queued,
            ingest_done: s.ingest_done,
            ingest_waited: s.ingest_waited,
            memory_budget: s.memory_budget,
            memory_pressure: s.memory_pressure,
            circadian_cycles: s.circadian_cycles,
            circadian_forgotten: s.circadian_forgotten,
            circadian_consolidated: s.circadian_consolidated,
            circadian_compacted: s.circadian_compacted,
            circadian_slots_released: s.circadian_slots_released,
            meta_memories: s.meta_memories,
            meta_fields: s.meta_fields,
            meta_bytes: s.meta_bytes,
            meta_postings_broken: s.meta_postings_broken != 0,
            relations: s.relations,
        }
    }
}
