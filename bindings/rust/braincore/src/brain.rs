//! [`Brain`]: a safe handle on a `brain_t`.
//!
//! Unsafe concern of this module: calls on the brain handle. Every call
//! below follows the same argument, which each `// SAFETY:` line refers to
//! as "live handle":
//! - `self.raw` is a brain from `brain_open`/`brain_load`, closed only by
//!   `Drop` or [`Brain::close`], which take the Brain by `&mut`/value, so no
//!   call can run on a closed brain or race with its close;
//! - every pointer passed points to memory that outlives the call (locals,
//!   slices, `CString`s), of the length the C function reads: vectors are
//!   checked against the brain's dimensions by `text::vector`/`text::rows`
//!   before the call, output buffers are sized to the `k` passed;
//! - the error state is read by `check` right after the call, on this thread.

use crate::error::{check, Error, Result};
use crate::options::Options;
use crate::params::ParamId;
use crate::results::{filter_ptr, Edges, Filter, Results};
use crate::text;
use crate::types::{
    Direction, DocumentOptions, Edge, Memory, RecallOptions, RememberOptions, Stats, Thought, UpdateOptions,
};
use braincore_sys as sys;
use std::ffi::CString;
use std::mem::MaybeUninit;
use std::os::raw::{c_char, c_int};
use std::path::Path;
use std::ptr::{self, NonNull};

/// A brain: text memories and vectors with one index, in memory or on disk.
///
/// `Brain` is `Send` and `Sync`: share it between threads by reference
/// (`std::thread::scope`) or in an `Arc`. Dropping it closes it;
/// [`Brain::close`] does the same and returns the close's error.
#[derive(Debug)]
pub struct Brain {
    raw: NonNull<sys::brain_t>,
    dims: usize,
}

// SAFETY: docs/threading.md, "The promise": "Any public call may run
// concurrently with any other on the same brain, except brain_close() /
// brain_destroy(), which the caller must not race with other calls on that
// brain." Nothing in a brain is tied to the thread that opened it (the error
// message is per thread, and every method reads it on its own thread), so a
// Brain may move to another thread (Send), and `&Brain` may be used from many
// at once (Sync): every method but close takes `&self`, and close/Drop take
// the Brain by value/`&mut`, which no other thread can hold a `&` to then.
unsafe impl Send for Brain {}
// SAFETY: see the Send impl above.
unsafe impl Sync for Brain {}

impl Drop for Brain {
    fn drop(&mut self) {
        // SAFETY: live handle, exclusively ours (&mut self); never used again.
        // An error is dropped: use close() to see it.
        unsafe { sys::brain_close(self.raw.as_ptr()) };
    }
}

impl Brain {
    /// An in-memory brain with the default options (384-d, cosine, the
    /// built-in embedder).
    pub fn new() -> Result<Brain> {
        Brain::in_memory(&Options::default())
    }

    /// An in-memory brain with `opts`.
    pub fn in_memory(opts: &Options) -> Result<Brain> {
        Brain::open_path(None, opts)
    }

    /// Opens (creating unless `opts.create(false)`) the on-disk brain in
    /// directory `path`.
    pub fn open(path: impl AsRef<Path>, opts: &Options) -> Result<Brain> {
        Brain::open_path(Some(path.as_ref()), opts)
    }

    fn open_path(path: Option<&Path>, opts: &Options) -> Result<Brain> {
        let c_path = path.map(text::path).transpose()?;
        let c_opts = opts.to_c()?;
        let mut out = ptr::null_mut();
        // SAFETY: path NULL or NUL-terminated, options a valid version-4
        // struct whose strings c_opts keeps alive, out a valid pointer.
        check(unsafe { sys::brain_open(c_path.as_ref().map_or(ptr::null(), |p| p.as_ptr()), &c_opts.raw, &mut out) })?;
        Brain::adopt(out, opts)
    }

    /// Takes ownership of a brain the library just made, and sets `opts`'
    /// parameters on it (closing it again if one is refused).
    pub(crate) fn adopt(raw: *mut sys::brain_t, opts: &Options) -> Result<Brain> {
        let raw = NonNull::new(raw).ok_or_else(|| Error::new(sys::BRAIN_EINTERNAL, "the library returned no brain"))?;
        // SAFETY: a brain just opened, live and ours.
        let dims = unsafe { sys::brain_dimensions(raw.as_ptr()) } as usize;
        let brain = Brain { raw, dims };
        for (name, value) in opts.params() {
            brain.set_param(name, *value)?;
        }
        Ok(brain)
    }

    pub(crate) fn as_ptr(&self) -> *mut sys::brain_t {
        self.raw.as_ptr()
    }

    /// The C handle, for calls of [`crate::sys`] this crate does not wrap.
    /// It stays valid while this Brain lives; do not close it.
    pub fn as_raw(&self) -> *mut sys::brain_t {
        self.raw.as_ptr()
    }

    /// Closes the brain (an on-disk brain writes a checkpoint first) and
    /// returns the error of that last checkpoint or sync, if any. The brain
    /// is closed either way.
    pub fn close(self) -> Result<()> {
        let raw = self.raw.as_ptr();
        std::mem::forget(self);
        // SAFETY: live handle, owned by value and forgotten, so Drop will
        // not close it again.
        check(unsafe { sys::brain_close(raw) }).map(drop)
    }

    /// The dimensions of the brain's vectors.
    pub fn dimensions(&self) -> usize {
        self.dims
    }

    // ---- remembering ------------------------------------------------------

    /// Remembers `text` with `importance` in [0, 1]; returns its id.
    pub fn remember(&self, text: &str, importance: f32) -> Result<u64> {
        self.remember_with(text, &RememberOptions { importance, ..Default::default() })
    }

    /// Remembers raw bytes as text: invalid UTF-8 or a NUL reaches the
    /// library and comes back as its `BRAIN_EUTF8` error, never cut.
    pub fn remember_bytes(&self, text: &[u8], importance: f32) -> Result<u64> {
        let mut id = 0;
        // SAFETY: live handle; text.len() readable bytes; id writable.
        check(unsafe {
            sys::brain_remember_n(self.as_ptr(), text.as_ptr().cast(), text.len(), importance, ptr::null(), &mut id)
        })?;
        Ok(id)
    }

    /// Remembers `text` with importance, metadata, the caller's vector or a
    /// key (then as [`Brain::upsert`]); returns its id. Text, vector and
    /// metadata are stored as one change (`brain_remember_full`): nothing is
    /// stored if any of them is refused.
    pub fn remember_with(&self, text: &str, opts: &RememberOptions<'_>) -> Result<u64> {
        if let Some(v) = opts.vector {
            text::vector(v, self.dims, "remember")?;
        }
        let meta = text::opt(opts.metadata, |m| text::json(m, "remember: metadata"))?;
        let meta_ptr = meta.as_ref().map_or(ptr::null(), |m| m.as_ptr());
        let vec_ptr = opts.vector.map_or(ptr::null(), <[f32]>::as_ptr);
        let mut id = 0;
        match (opts.key, opts.vector) {
            (Some(key), _) => {
                let key = text::text(key, "upsert: key")?;
                // SAFETY: live handle; key NUL-terminated; text with its
                // length; vector NULL or of the brain's dimensions; meta NULL
                // or NUL-terminated; id writable.
                check(unsafe {
                    sys::brain_upsert(
                        self.as_ptr(),
                        key.as_ptr(),
                        text.as_ptr().cast(),
                        text.len(),
                        vec_ptr,
                        opts.importance,
                        meta_ptr,
                        &mut id,
                    )
                })?;
            }
            (None, _) => {
                // SAFETY: live handle; text with its length; vector NULL or
                // of the brain's dimensions; meta NULL or NUL-terminated; id
                // writable. One change: the text, vector and metadata together.
                check(unsafe {
                    sys::brain_remember_full(
                        self.as_ptr(),
                        text.as_ptr().cast(),
                        text.len(),
                        vec_ptr,
                        opts.importance,
                        meta_ptr,
                        &mut id,
                    )
                })?;
            }
        }
        Ok(id)
    }

    /// Remembers every text with importance 0.5, all or none (each is
    /// checked before any is remembered); returns their ids in order.
    pub fn remember_many<S: AsRef<str>>(&self, texts: &[S]) -> Result<Vec<u64>> {
        self.remember_many_with(texts, 0.5, None)
    }

    /// [`Brain::remember_many`] with one importance and, if given, the
    /// metadata of each text (`metadata.len() == texts.len()`).
    pub fn remember_many_with<S: AsRef<str>>(
        &self,
        texts: &[S],
        importance: f32,
        metadata: Option<&[&str]>,
    ) -> Result<Vec<u64>> {
        if let Some(m) = metadata {
            if m.len() != texts.len() {
                return Err(Error::new(
                    sys::BRAIN_EINVAL,
                    format!("remember_many: {} metadata for {} texts", m.len(), texts.len()),
                ));
            }
        }
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let c_texts = texts
            .iter()
            .enumerate()
            .map(|(i, t)| text::text(t.as_ref(), &format!("remember_many: text {i}")))
            .collect::<Result<Vec<CString>>>()?;
        let c_meta = metadata
            .map(|m| {
                m.iter()
                    .enumerate()
                    .map(|(i, j)| text::json(j, &format!("remember_many: metadata {i}")))
                    .collect::<Result<Vec<CString>>>()
            })
            .transpose()?;
        let text_ptrs: Vec<*const c_char> = c_texts.iter().map(|c| c.as_ptr()).collect();
        let meta_ptrs: Option<Vec<*const c_char>> = c_meta.as_ref().map(|m| m.iter().map(|c| c.as_ptr()).collect());
        let mut ids = vec![sys::BRAIN_ID_NONE; texts.len()];
        // SAFETY: live handle; n NUL-terminated texts (and n metadata, or
        // NULL) kept alive by c_texts/c_meta; ids holds n entries.
        check(unsafe {
            sys::brain_remember_batch(
                self.as_ptr(),
                text_ptrs.as_ptr(),
                text_ptrs.len(),
                importance,
                meta_ptrs.as_ref().map_or(ptr::null(), |m| m.as_ptr()),
                ids.as_mut_ptr(),
            )
        })?;
        Ok(ids)
    }

    /// Remembers `text` under `key`: replaces the memory holding the key, or
    /// makes one. `opts.key` is ignored. Returns the memory's id.
    pub fn upsert(&self, key: &str, text: &str, opts: &RememberOptions<'_>) -> Result<u64> {
        self.remember_with(text, &RememberOptions { key: Some(key), ..*opts })
    }

    /// Queues `text` to be remembered in the background (see [`Brain::flush`]).
    pub fn remember_async(&self, text: &str, importance: f32) -> Result<()> {
        let c = text::text(text, "remember_async")?;
        // SAFETY: live handle; c NUL-terminated.
        check(unsafe { sys::brain_remember_async(self.as_ptr(), c.as_ptr(), importance) }).map(drop)
    }

    /// Queues `vector` to be added under `id` in the background.
    pub fn add_async(&self, id: u64, vector: &[f32]) -> Result<()> {
        text::vector(vector, self.dims, "add_async")?;
        // SAFETY: live handle; vector of the brain's dimensions.
        check(unsafe { sys::brain_add_async(self.as_ptr(), id, vector.as_ptr()) }).map(drop)
    }

    /// Makes every queued write, and waits until they are searchable and durable.
    pub fn flush(&self) -> Result<()> {
        // SAFETY: live handle.
        check(unsafe { sys::brain_flush(self.as_ptr()) }).map(drop)
    }

    /// Remembers a long text as the document `key`: cut into passages, each
    /// a memory. Returns how many passages.
    pub fn remember_document(&self, key: &str, text: &str, opts: &DocumentOptions<'_>) -> Result<usize> {
        let key = text::text(key, "remember_document: key")?;
        let meta = text::opt(opts.metadata, |m| text::json(m, "remember_document: metadata"))?;
        let mut passages = 0;
        // SAFETY: live handle; key NUL-terminated; text with its length;
        // meta NULL or NUL-terminated; passages writable.
        check(unsafe {
            sys::brain_remember_document(
                self.as_ptr(),
                key.as_ptr(),
                text.as_ptr().cast(),
                text.len(),
                opts.importance,
                meta.as_ref().map_or(ptr::null(), |m| m.as_ptr()),
                opts.max_bytes,
                &mut passages,
            )
        })?;
        Ok(passages)
    }

    /// Forgets every passage of the document `key`; returns how many.
    pub fn forget_document(&self, key: &str) -> Result<u64> {
        let key = text::text(key, "forget_document: key")?;
        let mut n = 0;
        // SAFETY: live handle; key NUL-terminated; n writable.
        check(unsafe { sys::brain_forget_document(self.as_ptr(), key.as_ptr(), &mut n) })?;
        Ok(n)
    }

    // ---- recalling --------------------------------------------------------

    /// The `k` memories most relevant to `query`, best first.
    pub fn recall(&self, query: &str, k: usize) -> Result<Vec<Memory>> {
        self.recall_with(query, &RecallOptions { k, ..Default::default() })
    }

    /// Recall with a filter over metadata and a ranking mode.
    pub fn recall_with(&self, query: &str, opts: &RecallOptions<'_>) -> Result<Vec<Memory>> {
        let q = text::text(query, "recall: query")?;
        let filter = Filter::parse_opt(opts.filter)?;
        Results::fetch(|out| {
            // SAFETY: live handle; q NUL-terminated; filter NULL or live; out valid.
            unsafe {
                sys::brain_recall_mode(
                    self.as_ptr(),
                    q.as_ptr(),
                    opts.k,
                    opts.mode.raw(),
                    filter_ptr(filter.as_ref()),
                    out,
                )
            }
        })
        .map(|r| r.memories())
    }

    /// The `k` memories nearest `vector` (passing `filter`), with their texts.
    pub fn recall_vector(&self, vector: &[f32], k: usize, filter: Option<&str>) -> Result<Vec<Memory>> {
        text::vector(vector, self.dims, "recall_vector")?;
        let filter = Filter::parse_opt(filter)?;
        Results::fetch(|out| {
            // SAFETY: live handle; vector of the brain's dimensions; filter NULL or live.
            unsafe { sys::brain_recall_vector(self.as_ptr(), vector.as_ptr(), k, filter_ptr(filter.as_ref()), out) }
        })
        .map(|r| r.memories())
    }

    /// Recall among the memories within `depth` hops of `around`.
    pub fn recall_near(
        &self,
        query: &str,
        k: usize,
        around: u64,
        depth: u32,
        filter: Option<&str>,
    ) -> Result<Vec<Memory>> {
        let q = text::text(query, "recall_near: query")?;
        let filter = Filter::parse_opt(filter)?;
        Results::fetch(|out| {
            // SAFETY: live handle; q NUL-terminated; filter NULL or live.
            unsafe {
                sys::brain_recall_near(self.as_ptr(), q.as_ptr(), k, around, depth, filter_ptr(filter.as_ref()), out)
            }
        })
        .map(|r| r.memories())
    }

    /// Thinks over `question`: an answer composed from the relevant
    /// memories, and those memories.
    pub fn think(&self, question: &str) -> Result<Thought> {
        let q = text::text(question, "think")?;
        // SAFETY: live handle; q NUL-terminated; out valid.
        let r = Results::fetch(|out| unsafe { sys::brain_think_ex(self.as_ptr(), q.as_ptr(), out) })?;
        Ok(Thought { answer: r.answer().unwrap_or_default(), memories: r.memories() })
    }

    /// One memory by id (NotFound when absent). Does not change its access time.
    pub fn get(&self, id: u64) -> Result<Memory> {
        // SAFETY: live handle; out valid.
        let r = Results::fetch(|out| unsafe { sys::brain_get(self.as_ptr(), id, out) })?;
        r.memories()
            .into_iter()
            .next()
            .ok_or_else(|| Error::new(sys::BRAIN_EINTERNAL, format!("get: {id}: empty results")))
    }

    /// A page of memories in increasing id order: at most `limit` with an
    /// id above `after` (None: from the first), passing `filter` if given.
    pub fn list(&self, filter: Option<&str>, after: Option<u64>, limit: usize) -> Result<Vec<Memory>> {
        let filter = Filter::parse_opt(filter)?;
        Results::fetch(|out| {
            // SAFETY: live handle; filter NULL or live; out valid.
            unsafe {
                sys::brain_list(
                    self.as_ptr(),
                    filter_ptr(filter.as_ref()),
                    after.unwrap_or(sys::BRAIN_ID_NONE),
                    limit,
                    out,
                )
            }
        })
        .map(|r| r.memories())
    }

    /// Number of memories (text and vectors).
    pub fn count(&self) -> u64 {
        // SAFETY: live handle.
        unsafe { sys::brain_count(self.as_ptr()) }
    }

    /// Number of memories whose metadata passes `filter`.
    pub fn count_where(&self, filter: &str) -> Result<u64> {
        let f = Filter::parse(filter)?;
        let mut n = 0;
        // SAFETY: live handle; live filter; n writable.
        check(unsafe { sys::brain_count_where(self.as_ptr(), f.as_ptr(), &mut n) })?;
        Ok(n)
    }

    // ---- changing and forgetting -----------------------------------------

    /// Forgets memory `id`.
    pub fn forget(&self, id: u64) -> Result<()> {
        // SAFETY: live handle.
        check(unsafe { sys::brain_forget(self.as_ptr(), id) }).map(drop)
    }

    /// Forgets every memory whose metadata passes `filter`; returns how many.
    pub fn forget_where(&self, filter: &str) -> Result<u64> {
        let f = Filter::parse(filter)?;
        let mut n = 0;
        // SAFETY: live handle; live filter; n writable.
        check(unsafe { sys::brain_forget_where(self.as_ptr(), f.as_ptr(), &mut n) })?;
        Ok(n)
    }

    /// Changes memory `id` in place, all at once or not at all.
    pub fn update(&self, id: u64, opts: &UpdateOptions<'_>) -> Result<()> {
        if let Some(v) = opts.vector {
            text::vector(v, self.dims, "update")?;
        }
        let meta = text::opt(opts.metadata, |m| text::json(m, "update: metadata"))?;
        let (text_ptr, text_len) = opts.text.map_or((ptr::null(), 0), |t| (t.as_ptr().cast::<c_char>(), t.len()));
        // SAFETY: live handle; text NULL or with its length; vector NULL or
        // of the brain's dimensions; meta NULL or NUL-terminated.
        check(unsafe {
            sys::brain_update(
                self.as_ptr(),
                id,
                text_ptr,
                text_len,
                opts.vector.map_or(ptr::null(), <[f32]>::as_ptr),
                opts.importance.unwrap_or(sys::BRAIN_KEEP_IMPORTANCE),
                meta.as_ref().map_or(ptr::null(), |m| m.as_ptr()),
            )
        })
        .map(drop)
    }

    /// The id of the memory holding `key`.
    pub fn key_id(&self, key: &str) -> Result<u64> {
        let key = text::text(key, "key_id")?;
        let mut id = 0;
        // SAFETY: live handle; key NUL-terminated; id writable.
        check(unsafe { sys::brain_key_id(self.as_ptr(), key.as_ptr(), &mut id) })?;
        Ok(id)
    }

    /// Forgets the memory holding `key`.
    pub fn forget_key(&self, key: &str) -> Result<()> {
        let key = text::text(key, "forget_key")?;
        // SAFETY: live handle; key NUL-terminated.
        check(unsafe { sys::brain_forget_key(self.as_ptr(), key.as_ptr()) }).map(drop)
    }

    // ---- metadata ---------------------------------------------------------

    /// The metadata of memory `id` as a JSON object (`{}` for none).
    pub fn get_metadata(&self, id: u64) -> Result<String> {
        let mut buf = vec![0u8; 256];
        loop {
            let mut len = 0usize;
            // SAFETY: live handle; buf holds buf.len() bytes; len writable.
            let rc =
                unsafe { sys::brain_get_metadata(self.as_ptr(), id, buf.as_mut_ptr().cast(), buf.len(), &mut len) };
            if rc == sys::BRAIN_EBUFSIZE && len >= buf.len() {
                buf.resize(len + 1, 0); // changed meanwhile: loop until it fits
                continue;
            }
            check(rc)?;
            buf.truncate(len);
            return Ok(String::from_utf8_lossy(&buf).into_owned());
        }
    }

    /// Replaces the metadata of memory `id` (None: removes it).
    pub fn set_metadata(&self, id: u64, json: Option<&str>) -> Result<()> {
        let meta = text::opt(json, |m| text::json(m, "set_metadata"))?;
        // SAFETY: live handle; meta NULL or NUL-terminated.
        check(unsafe { sys::brain_set_metadata(self.as_ptr(), id, meta.as_ref().map_or(ptr::null(), |m| m.as_ptr())) })
            .map(drop)
    }

    /// Merges `patch` (RFC 7386 on a flat object) into the metadata of `id`.
    pub fn patch_metadata(&self, id: u64, patch: &str) -> Result<()> {
        let p = text::json(patch, "patch_metadata")?;
        // SAFETY: live handle; p NUL-terminated.
        check(unsafe { sys::brain_patch_metadata(self.as_ptr(), id, p.as_ptr()) }).map(drop)
    }

    // ---- relations --------------------------------------------------------

    /// Relates `from` to `to` by `verb` with `weight` (sets the weight if
    /// the edge exists).
    pub fn relate(&self, from: u64, to: u64, verb: &str, weight: f32) -> Result<()> {
        let v = text::c_string(verb, sys::BRAIN_EINVAL, "relate: verb")?;
        // SAFETY: live handle; v NUL-terminated.
        check(unsafe { sys::brain_relate(self.as_ptr(), from, to, v.as_ptr(), weight) }).map(drop)
    }

    /// Removes the edge (from, to, verb), or every edge from `from` to `to`
    /// when `verb` is None.
    pub fn unrelate(&self, from: u64, to: u64, verb: Option<&str>) -> Result<()> {
        let v = text::opt(verb, |v| text::c_string(v, sys::BRAIN_EINVAL, "unrelate: verb"))?;
        // SAFETY: live handle; v NULL or NUL-terminated.
        check(unsafe { sys::brain_unrelate(self.as_ptr(), from, to, v.as_ref().map_or(ptr::null(), |v| v.as_ptr())) })
            .map(drop)
    }

    /// The edges of memory `id` in `direction` (of `verb` only, if given).
    pub fn neighbors(&self, id: u64, verb: Option<&str>, direction: Direction) -> Result<Vec<Edge>> {
        let v = text::opt(verb, |v| text::c_string(v, sys::BRAIN_EINVAL, "neighbors: verb"))?;
        Edges::fetch(|out| {
            // SAFETY: live handle; v NULL or NUL-terminated; out valid.
            unsafe {
                sys::brain_neighbors(
                    self.as_ptr(),
                    id,
                    v.as_ref().map_or(ptr::null(), |v| v.as_ptr()),
                    direction.raw(),
                    out,
                )
            }
        })
        .map(|e| e.edges())
    }

    /// The memories within `depth` hops of `start`, nearest first, each with
    /// the edge that first reached it.
    pub fn traverse(&self, start: u64, depth: u32, verb: Option<&str>, direction: Direction) -> Result<Vec<Edge>> {
        let v = text::opt(verb, |v| text::c_string(v, sys::BRAIN_EINVAL, "traverse: verb"))?;
        Edges::fetch(|out| {
            // SAFETY: live handle; v NULL or NUL-terminated; out valid.
            unsafe {
                sys::brain_traverse(
                    self.as_ptr(),
                    start,
                    depth,
                    v.as_ref().map_or(ptr::null(), |v| v.as_ptr()),
                    direction.raw(),
                    out,
                )
            }
        })
        .map(|e| e.edges())
    }

    // ---- vectors ----------------------------------------------------------

    /// Adds `vector` under the caller's `id`.
    pub fn add(&self, id: u64, vector: &[f32]) -> Result<()> {
        self.add_with(id, vector, None)
    }

    /// Adds `vector` under `id` with metadata.
    pub fn add_with(&self, id: u64, vector: &[f32], metadata: Option<&str>) -> Result<()> {
        text::vector(vector, self.dims, "add")?;
        let meta = text::opt(metadata, |m| text::json(m, "add: metadata"))?;
        // SAFETY: live handle; vector of the brain's dimensions; meta NULL or NUL-terminated.
        check(unsafe {
            sys::brain_add_with(self.as_ptr(), id, vector.as_ptr(), meta.as_ref().map_or(ptr::null(), |m| m.as_ptr()))
        })
        .map(drop)
    }

    /// Adds `ids.len()` vectors at once, all or nothing: `vectors` holds
    /// the rows one after another.
    pub fn add_many(&self, ids: &[u64], vectors: &[f32]) -> Result<()> {
        let n = text::rows(vectors, self.dims, "add_many")?;
        if n != ids.len() {
            return Err(Error::new(sys::BRAIN_EINVAL, format!("add_many: {} ids for {n} rows", ids.len())));
        }
        // SAFETY: live handle; n ids and n rows of the brain's dimensions.
        check(unsafe { sys::brain_add_batch(self.as_ptr(), ids.as_ptr(), vectors.as_ptr(), n) }).map(drop)
    }

    /// Replaces the vector of memory `id`.
    pub fn update_vector(&self, id: u64, vector: &[f32]) -> Result<()> {
        text::vector(vector, self.dims, "update_vector")?;
        // SAFETY: live handle; vector of the brain's dimensions.
        check(unsafe { sys::brain_update_vector(self.as_ptr(), id, vector.as_ptr()) }).map(drop)
    }

    /// The stored vector of memory `id` (unit length under cosine).
    pub fn get_vector(&self, id: u64) -> Result<Vec<f32>> {
        let mut v = vec![0f32; self.dims];
        self.get_vector_into(id, &mut v)?;
        Ok(v)
    }

    /// [`Brain::get_vector`] into `out` (the brain's dimensions).
    pub fn get_vector_into(&self, id: u64, out: &mut [f32]) -> Result<()> {
        text::vector(out, self.dims, "get_vector")?;
        // SAFETY: live handle; out holds the brain's dimensions.
        check(unsafe { sys::brain_get_vector(self.as_ptr(), id, out.as_mut_ptr()) }).map(drop)
    }

    /// The `k` nearest vectors to `query`: (id, distance), nearest first.
    pub fn search(&self, query: &[f32], k: usize) -> Result<Vec<(u64, f32)>> {
        self.search_where(query, k, None)
    }

    /// [`Brain::search`] of many queries at once: `queries` holds whole
    /// rows of the brain's dimensions, spread over the brain's THREADS
    /// threads in C. One list of `(id, distance)` per query, nearest first.
    pub fn search_batch(&self, queries: &[f32], k: usize) -> Result<Vec<Vec<(u64, f32)>>> {
        let nq = text::rows(queries, self.dims, "search_batch")?;
        if k == 0 {
            return Err(Error::new(sys::BRAIN_ERANGE, "search_batch: k is 0; ask for at least 1 neighbour"));
        }
        let k = self.clamp_k(k).max(1);
        let cells =
            nq.checked_mul(k).ok_or_else(|| Error::new(sys::BRAIN_ERANGE, "search_batch: queries x k overflow"))?;
        let mut ids = vec![0u64; cells];
        let mut dists = vec![0f32; cells];
        let mut found = vec![0usize; nq];
        if nq > 0 {
            // SAFETY: live handle; nq rows of the brain's dimensions; ids and
            // dists hold nq x k entries, found nq.
            check(unsafe {
                sys::brain_search_batch(
                    self.as_ptr(),
                    queries.as_ptr(),
                    nq,
                    k,
                    ids.as_mut_ptr(),
                    dists.as_mut_ptr(),
                    found.as_mut_ptr(),
                )
            })?;
        }
        Ok((0..nq)
            .map(|q| {
                let row = q * k..q * k + found[q].min(k);
                ids[row.clone()].iter().copied().zip(dists[row].iter().copied()).collect()
            })
            .collect())
    }

    /// [`Brain::search`] among the memories whose metadata passes `filter`.
    pub fn search_where(&self, query: &[f32], k: usize, filter: Option<&str>) -> Result<Vec<(u64, f32)>> {
        let k = self.clamp_k(k);
        let mut ids = vec![0u64; k];
        let mut dists = vec![0f32; k];
        let found = self.search_into(query, filter, &mut ids, &mut dists)?;
        Ok(ids.into_iter().zip(dists).take(found).collect())
    }

    /// Search into caller buffers: up to `ids.len()` nearest (`ids` and
    /// `distances` of the same length); returns how many were found.
    pub fn search_into(
        &self,
        query: &[f32],
        filter: Option<&str>,
        ids: &mut [u64],
        distances: &mut [f32],
    ) -> Result<usize> {
        text::vector(query, self.dims, "search")?;
        if ids.len() != distances.len() {
            return Err(Error::new(sys::BRAIN_EINVAL, "search: ids and distances differ in length"));
        }
        let filter = Filter::parse_opt(filter)?;
        let mut found = 0;
        // SAFETY: live handle; query of the brain's dimensions; both output
        // buffers hold k = ids.len() entries; filter NULL or live.
        check(unsafe {
            match &filter {
                None => sys::brain_search(
                    self.as_ptr(),
                    query.as_ptr(),
                    ids.len(),
                    ids.as_mut_ptr(),
                    distances.as_mut_ptr(),
                    &mut found,
                ),
                Some(f) => sys::brain_search_where(
                    self.as_ptr(),
                    query.as_ptr(),
                    ids.len(),
                    f.as_ptr(),
                    ids.as_mut_ptr(),
                    distances.as_mut_ptr(),
                    &mut found,
                ),
            }
        })?;
        Ok(found.min(ids.len()))
    }

    /// `k` capped at the brain's size (at least 1, so that 0 stays the C
    /// library's ERANGE): buffers of `k` entries are allocated for C to
    /// fill, and a search never finds more than the brain holds.
    fn clamp_k(&self, k: usize) -> usize {
        if k == 0 {
            0
        } else {
            k.min(usize::try_from(self.count()).unwrap_or(usize::MAX)).max(1)
        }
    }

    // ---- durability and introspection -------------------------------------

    /// The brain's counters (`brain_stats` version 7).
    pub fn stats(&self) -> Result<Stats> {
        let mut s = MaybeUninit::<sys::brain_stats>::uninit();
        // SAFETY: s is a writable brain_stats of version 7 (checked by
        // braincore-sys's layout test); live handle.
        let s = unsafe {
            check(sys::brain_stats_init(s.as_mut_ptr(), sys::BRAIN_STATS_VERSION))?;
            check(sys::brain_get_stats(self.as_ptr(), s.as_mut_ptr()))?;
            s.assume_init()
        };
        Ok(Stats::from(&s))
    }

    /// The brain's health as a JSON object (braincore/health.h).
    pub fn health(&self) -> Result<String> {
        // SAFETY: live handle; NULL with size 0 asks for the length.
        let mut need = check(unsafe { sys::brain_health_json(self.as_ptr(), ptr::null_mut(), 0) })? as usize;
        loop {
            let mut buf = vec![0u8; need + 1];
            // SAFETY: live handle; buf holds buf.len() bytes.
            let len =
                check(unsafe { sys::brain_health_json(self.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) })? as usize;
            if len < buf.len() {
                buf.truncate(len);
                return Ok(String::from_utf8_lossy(&buf).into_owned());
            }
            need = len; // grew meanwhile
        }
    }

    /// Writes a checkpoint now (on-disk brains; in memory a no-op).
    pub fn checkpoint(&self) -> Result<()> {
        // SAFETY: live handle.
        check(unsafe { sys::brain_checkpoint(self.as_ptr()) }).map(drop)
    }

    /// Makes every acknowledged change durable, whatever the sync mode.
    pub fn sync(&self) -> Result<()> {
        // SAFETY: live handle.
        check(unsafe { sys::brain_sync(self.as_ptr()) }).map(drop)
    }

    /// Writes a consistent copy of the brain as a new on-disk brain in `dir`.
    pub fn backup(&self, dir: impl AsRef<Path>) -> Result<()> {
        let d = text::path(dir.as_ref())?;
        // SAFETY: live handle; d NUL-terminated.
        check(unsafe { sys::brain_backup(self.as_ptr(), d.as_ptr()) }).map(drop)
    }

    /// Runs the brain's periodic work on this thread (brain_tick).
    pub fn tick(&self) -> Result<()> {
        // SAFETY: live handle.
        check(unsafe { sys::brain_tick(self.as_ptr()) }).map(drop)
    }

    /// Sets a parameter by name (`"hnsw_ef_search"`) or number (`302`).
    pub fn set_param(&self, param: impl ParamId, value: i64) -> Result<()> {
        let n: c_int = param.number()?;
        // SAFETY: live handle.
        check(unsafe { sys::brain_set_param(self.as_ptr(), n, value) }).map(drop)
    }

    /// Reads a parameter by name or number.
    pub fn get_param(&self, param: impl ParamId) -> Result<i64> {
        let n: c_int = param.number()?;
        let mut v = 0;
        // SAFETY: live handle; v writable.
        check(unsafe { sys::brain_get_param(self.as_ptr(), n, &mut v) })?;
        Ok(v)
    }
}
