//! Options for opening a brain, and their C form (`brain_options` version 4).
//!
//! Unsafe concern of this module: `brain_options_init` on the C struct.

use crate::error::{check, Result};
use crate::text;
use crate::types::{Embedder, IndexKind, Metric, SyncMode};
use braincore_sys as sys;
use std::ffi::CString;
use std::mem::MaybeUninit;
use std::path::PathBuf;

/// Options for [`crate::Brain::open`] and [`crate::Brain::in_memory`].
///
/// Every field starts at the library's default; set what you need:
///
/// ```
/// use braincore::{Brain, Metric, Options};
/// let opts = Options::new().dimensions(64).metric(Metric::L2).param("hnsw_ef_search", 128);
/// let brain = Brain::in_memory(&opts)?;
/// assert_eq!(brain.dimensions(), 64);
/// assert_eq!(brain.get_param("HNSW_EF_SEARCH")?, 128);
/// # Ok::<(), braincore::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    dimensions: u32,
    metric: Metric,
    index: IndexKind,
    embedder: Embedder,
    model_path: Option<PathBuf>,
    max_text_bytes: u32,
    max_memories: u64,
    sync: SyncMode,
    read_only: bool,
    create: bool,
    params: Vec<(String, i64)>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            dimensions: 0,
            metric: Metric::Cosine,
            index: IndexKind::Auto,
            embedder: Embedder::Builtin,
            model_path: None,
            max_text_bytes: 0,
            max_memories: 0,
            sync: SyncMode::Full,
            read_only: false,
            create: true,
            params: Vec::new(),
        }
    }
}

impl Options {
    /// The defaults: 384-d cosine, index auto, built-in embedder, sync full,
    /// read-write, create if missing.
    pub fn new() -> Options {
        Options::default()
    }
    /// Vector dimensions, 1..65536 (0: 384, or the model's).
    pub fn dimensions(mut self, n: u32) -> Self {
        self.dimensions = n;
        self
    }
    /// Distance metric.
    pub fn metric(mut self, m: Metric) -> Self {
        self.metric = m;
        self
    }
    /// Index backend.
    pub fn index(mut self, i: IndexKind) -> Self {
        self.index = i;
        self
    }
    /// How text becomes a vector.
    pub fn embedder(mut self, e: Embedder) -> Self {
        self.embedder = e;
        self
    }
    /// The model of [`Embedder::Model`] (a .gguf file or a model directory).
    pub fn model_path(mut self, p: impl Into<PathBuf>) -> Self {
        self.model_path = Some(p.into());
        self
    }
    /// Longest text accepted, in bytes (0: 65536).
    pub fn max_text_bytes(mut self, n: u32) -> Self {
        self.max_text_bytes = n;
        self
    }
    /// Most memories the brain may hold (0: the limit, 2^32 - 2).
    pub fn max_memories(mut self, n: u64) -> Self {
        self.max_memories = n;
        self
    }
    /// When a change to an on-disk brain is durable.
    pub fn sync(mut self, s: SyncMode) -> Self {
        self.sync = s;
        self
    }
    /// Open an existing on-disk brain for reading only.
    pub fn read_only(mut self, yes: bool) -> Self {
        self.read_only = yes;
        self
    }
    /// Create the brain if it is missing (default true; false: NotFound).
    pub fn create(mut self, yes: bool) -> Self {
        self.create = yes;
        self
    }
    /// A parameter set right after opening (name as in params.h without
    /// the prefix, any case: `"hnsw_ef_search"`).
    pub fn param(mut self, name: impl Into<String>, value: i64) -> Self {
        self.params.push((name.into(), value));
        self
    }

    pub(crate) fn params(&self) -> &[(String, i64)] {
        &self.params
    }

    /// The C struct, with the strings it points to.
    pub(crate) fn to_c(&self) -> Result<COptions> {
        let model_path = self.model_path.as_deref().map(text::path).transpose()?;
        let mut raw = MaybeUninit::<sys::brain_options>::uninit();
        // SAFETY: raw is a writable brain_options of version 4 (this crate's
        // mirror; tests/layout.rs in braincore-sys checks it).
        check(unsafe { sys::brain_options_init(raw.as_mut_ptr(), sys::BRAIN_OPTIONS_VERSION) })?;
        // SAFETY: brain_options_init returned 0, so every field is set.
        let mut raw = unsafe { raw.assume_init() };
        raw.dimensions = if self.dimensions == 0 { raw.dimensions } else { self.dimensions };
        raw.metric = self.metric.raw();
        raw.index = self.index.raw();
        raw.embedder = self.embedder.raw();
        if self.max_text_bytes != 0 {
            raw.max_text_bytes = self.max_text_bytes;
        }
        if self.max_memories != 0 {
            raw.max_memories = self.max_memories;
        }
        raw.sync = self.sync.raw();
        if self.read_only {
            raw.flags |= sys::BRAIN_OPEN_READONLY;
        }
        if !self.create {
            raw.flags |= sys::BRAIN_OPEN_NOCREATE;
        }
        if self.embedder == Embedder::Model && self.dimensions == 0 {
            raw.dimensions = 0; // the model's
        }
        raw.model_path = model_path.as_ref().map_or(std::ptr::null(), |p| p.as_ptr());
        Ok(COptions { raw, _model_path: model_path })
    }
}

/// `brain_options` and what its pointers point to (kept alive with it).
pub(crate) struct COptions {
    pub(crate) raw: sys::brain_options,
    _model_path: Option<CString>,
}
