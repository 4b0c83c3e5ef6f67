//! [`Index`]: hnswlib's shape over a brain of vectors. No unsafe code: it is
//! built on [`Brain`]'s safe API.

use crate::brain::Brain;
use crate::error::{Error, Result};
use crate::index_file::{self, Header, ReadError};
use crate::options::Options;
use crate::text;
use crate::types::{Embedder, IndexKind, Memory, Metric};
use braincore_sys as sys;
use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The space of an [`Index`], as hnswlib names it.
pub type Space = Metric;

/// An approximate nearest-neighbour index with hnswlib's calls, over an
/// in-memory brain with embedder "none" and index "hnsw".
///
/// Distances are the C library's, which are hnswlib's: `l2` squared
/// Euclidean, `ip` 1 - dot, `cosine` 1 - cosine similarity.
///
/// ```
/// use braincore::{Index, Space};
/// let mut index = Index::new(Space::L2, 4);
/// index.init_index(1000, 16, 200, 100)?;
/// index.add_items(&[0.0, 1.0, 2.0, 3.0, 1.0, 1.0, 1.0, 1.0], None)?;
/// let (labels, distances) = index.knn_query(&[0.0, 1.0, 2.0, 3.0], 1)?;
/// assert_eq!(labels, [0]);
/// # Ok::<(), braincore::Error>(())
/// ```
#[derive(Debug)]
pub struct Index {
    space: Space,
    dim: usize,
    max_elements: usize,
    m: usize,
    ef_construction: usize,
    ef: Option<usize>,
    threads: usize,
    /// The next default label: one more than the largest label this index
    /// has held since [`Index::init_index`] (or in the file
    /// [`Index::load_index`] read), so that a default label never lands on
    /// a point the index has, whatever was deleted.
    next_label: AtomicU64,
    brain: Option<Brain>,
}

impl Index {
    /// An index of `dim`-dimensional vectors in `space`; call
    /// [`Index::init_index`] or [`Index::load_index`] before anything else.
    pub fn new(space: Space, dim: usize) -> Index {
        Index {
            space,
            dim,
            max_elements: 0,
            m: 16,
            ef_construction: 200,
            ef: None,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            next_label: AtomicU64::new(0),
            brain: None,
        }
    }

    /// The space.
    pub fn space(&self) -> Space {
        self.space
    }

    /// The dimensions.
    pub fn dim(&self) -> usize {
        self.dim
    }

    fn options(&self, max_elements: usize) -> Result<Options> {
        let dims = u32::try_from(self.dim).ok().filter(|&d| d > 0 && d <= sys::BRAIN_MAX_DIMENSIONS);
        let dims = dims.ok_or_else(|| {
            Error::new(
                sys::BRAIN_ERANGE,
                format!("index: dim {} is outside 1..{}", self.dim, sys::BRAIN_MAX_DIMENSIONS),
            )
        })?;
        Ok(Options::new()
            .dimensions(dims)
            .metric(self.space)
            .index(IndexKind::Hnsw)
            .embedder(Embedder::None)
            .max_memories(max_elements as u64))
    }

    /// Makes the index empty, for at most `max_elements` vectors, with HNSW
    /// parameters `m` (hnswlib's default 16), `ef_construction` (200) and
    /// `random_seed` (100).
    pub fn init_index(
        &mut self,
        max_elements: usize,
        m: usize,
        ef_construction: usize,
        random_seed: u64,
    ) -> Result<()> {
        if max_elements == 0 {
            return Err(Error::new(sys::BRAIN_EINVAL, "init_index: max_elements must be at least 1"));
        }
        let brain = Brain::in_memory(&self.options(max_elements)?)?;
        brain.set_param(sys::BRAIN_PARAM_HNSW_M, to_i64(m))?;
        brain.set_param(sys::BRAIN_PARAM_HNSW_EF_CONSTRUCTION, to_i64(ef_construction))?;
        brain.set_param(sys::BRAIN_PARAM_HNSW_SEED, i64::try_from(random_seed).unwrap_or(i64::MAX))?;
        self.install(brain, max_elements, 0)?;
        self.m = m;
        self.ef_construction = ef_construction;
        Ok(())
    }

    fn install(&mut self, brain: Brain, max_elements: usize, next_label: u64) -> Result<()> {
        if let Some(ef) = self.ef {
            brain.set_param(sys::BRAIN_PARAM_HNSW_EF_SEARCH, to_i64(ef))?;
        }
        self.brain = Some(brain);
        self.max_elements = max_elements;
        self.next_label = AtomicU64::new(next_label);
        Ok(())
    }

    /// Records that the index holds `ids`: the next default label follows
    /// the largest.
    fn held(&self, ids: &[u64]) {
        if let Some(&max) = ids.iter().max() {
            self.next_label.fetch_max(max.saturating_add(1), Ordering::Relaxed);
        }
    }

    /// The brain under the index (for its stats, say).
    pub fn brain(&self) -> Result<&Brain> {
        self.brain.as_ref().ok_or_else(|| Error::new(sys::BRAIN_ESTATE, "index: call init_index or load_index first"))
    }

    /// Adds `data.len() / dim` rows. `ids` (one per row) default to one
    /// more than the largest label the index has held (0 in a new index;
    /// after [`Index::load_index`], the largest label in the file), then
    /// on: never a label the index has, even after
    /// [`Index::mark_deleted`]. A given id already in the index gets its
    /// vector replaced, as hnswlib does. New ids go to the library in one
    /// batch (all or nothing); a refused batch gives its default labels back.
    pub fn add_items(&self, data: &[f32], ids: Option<&[u64]>) -> Result<()> {
        let brain = self.brain()?;
        let n = text::rows(data, self.dim, "add_items")?;
        if n == 0 {
            return Ok(());
        }
        match ids {
            Some(ids) if ids.len() != n => {
                Err(Error::new(sys::BRAIN_EINVAL, format!("add_items: {} ids for {n} rows", ids.len())))
            }
            Some(ids) => self.add_or_replace(brain, data, ids),
            None => {
                // Taken at once, so that adds on other threads get others.
                // The last label is at most u64::MAX - 1 (u64::MAX is
                // BRAIN_ID_NONE, no id).
                let n = n as u64;
                let first = self
                    .next_label
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |first| first.checked_add(n))
                    .map_err(|first| {
                        Error::new(
                            sys::BRAIN_ERANGE,
                            format!("add_items: no {n} default labels left from {first} on; pass ids"),
                        )
                    })?;
                let ids: Vec<u64> = (first..first + n).collect();
                // Labels above every one the index has held: a plain add,
                // which never replaces (a point added through brain() with
                // one of them is BRAIN_EEXISTS, not overwritten).
                brain.add_many(&ids, data).map_err(|e| {
                    // Give the labels back unless another add took more meanwhile.
                    let _ = self.next_label.compare_exchange(first + n, first, Ordering::Relaxed, Ordering::Relaxed);
                    e
                })
            }
        }
    }

    /// Adds the rows as one batch or, when some ids exist (or repeat),
    /// adds the new ones as a batch and replaces the others' vectors in
    /// order. Every id added counts for the next default label.
    fn add_or_replace(&self, brain: &Brain, data: &[f32], ids: &[u64]) -> Result<()> {
        match brain.add_many(ids, data) {
            Err(e) if e.is(sys::BRAIN_EEXISTS) => {}
            other => return other.map(|()| self.held(ids)),
        }
        let mut scratch = vec![0f32; self.dim];
        let mut seen = std::collections::HashSet::new();
        let (mut new_ids, mut new_rows, mut replace) = (Vec::new(), Vec::new(), Vec::new());
        for (&id, row) in ids.iter().zip(data.chunks_exact(self.dim)) {
            let exists = match brain.get_vector_into(id, &mut scratch) {
                Ok(()) => true,
                Err(e) if e.is(sys::BRAIN_ENOTFOUND) => false,
                Err(e) => return Err(e),
            };
            if exists || !seen.insert(id) {
                replace.push((id, row));
            } else {
                new_ids.push(id);
                new_rows.extend_from_slice(row);
            }
        }
        brain.add_many(&new_ids, &new_rows)?;
        self.held(&new_ids);
        for (id, row) in replace {
            brain.update_vector(id, row)?;
        }
        Ok(())
    }

    /// The `k` nearest labels and their distances for each row of `data`,
    /// row-major (`rows * k` of each). Rows are searched on
    /// [`Index::set_num_threads`] threads. Fewer than `k` found for a row
    /// is an error, as in hnswlib.
    pub fn knn_query(&self, data: &[f32], k: usize) -> Result<(Vec<u64>, Vec<f32>)> {
        let brain = self.brain()?;
        let rows = text::rows(data, self.dim, "knn_query")?;
        let count = brain.count();
        if k == 0 || k as u64 > count {
            return Err(Error::new(
                sys::BRAIN_ERANGE,
                format!("knn_query: k = {k}, but the index holds {count} elements (k must be 1..={count})"),
            ));
        }
        let mut labels = vec![0u64; rows * k];
        let mut distances = vec![0f32; rows * k];
        let search = |first_row: usize, data: &[f32], labels: &mut [u64], distances: &mut [f32]| -> Result<()> {
            let chunks = data.chunks_exact(self.dim).zip(labels.chunks_exact_mut(k).zip(distances.chunks_exact_mut(k)));
            for (r, (row, (l, d))) in chunks.enumerate() {
                let found = brain.search_into(row, None, l, d)?;
                if found < k {
                    return Err(Error::new(
                        sys::BRAIN_ERANGE,
                        format!(
                            "knn_query: row {}: found {found} of k = {k} neighbours; raise ef (set_ef) or lower k",
                            first_row + r
                        ),
                    ));
                }
            }
            Ok(())
        };
        let threads = self.threads.clamp(1, rows.max(1));
        if threads == 1 {
            search(0, data, &mut labels, &mut distances)?;
        } else {
            let per = (rows + threads - 1) / threads;
            std::thread::scope(|s| {
                let jobs: Vec<_> = data
                    .chunks(per * self.dim)
                    .zip(labels.chunks_mut(per * k).zip(distances.chunks_mut(per * k)))
                    .enumerate()
                    .map(|(t, (d, (l, dist)))| s.spawn(move || search(t * per, d, l, dist)))
                    .collect();
                jobs.into_iter().try_for_each(|j| j.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            })?;
        }
        Ok((labels, distances))
    }

    /// Threads [`Index::knn_query`] uses (default: one per core).
    pub fn set_num_threads(&mut self, n: usize) {
        self.threads = n.max(1);
    }

    /// The size of the search's candidate list (HNSW_EF_SEARCH; the
    /// library's default is 64). Kept across [`Index::init_index`];
    /// [`Index::load_index`] applies the file's.
    pub fn set_ef(&mut self, ef: usize) -> Result<()> {
        self.brain()?.set_param(sys::BRAIN_PARAM_HNSW_EF_SEARCH, to_i64(ef))?;
        self.ef = Some(ef);
        Ok(())
    }

    /// The current ef.
    pub fn ef(&self) -> Result<usize> {
        let ef = self.brain()?.get_param(sys::BRAIN_PARAM_HNSW_EF_SEARCH)?;
        Ok(usize::try_from(ef).unwrap_or(usize::MAX))
    }

    /// Removes `label` from the index (hnswlib marks it deleted; here it is
    /// forgotten, and its label may be added again).
    pub fn mark_deleted(&self, label: u64) -> Result<()> {
        self.brain()?.forget(label)
    }

    /// The stored vectors of `ids`, row after row (under cosine, unit length).
    pub fn get_items(&self, ids: &[u64]) -> Result<Vec<f32>> {
        let brain = self.brain()?;
        let mut out = vec![0f32; ids.len() * self.dim];
        for (&id, row) in ids.iter().zip(out.chunks_exact_mut(self.dim)) {
            brain.get_vector_into(id, row)?;
        }
        Ok(out)
    }

    /// Every label in the index, in increasing order.
    pub fn get_ids_list(&self) -> Result<Vec<u64>> {
        let mut ids = Vec::new();
        each_page(self.brain()?, |page| ids.extend(page.iter().map(|m| m.id)))?;
        Ok(ids)
    }

    /// Number of elements in the index (deleted ones are gone).
    pub fn current_count(&self) -> Result<usize> {
        Ok(usize::try_from(self.brain()?.count()).unwrap_or(usize::MAX))
    }

    /// Most elements the index may hold (0 before init).
    pub fn max_elements(&self) -> usize {
        self.max_elements
    }

    /// M of the graph: as given to [`Index::init_index`], or as recorded in
    /// the file [`Index::load_index`] read (16 before either).
    pub fn m(&self) -> usize {
        self.m
    }

    /// ef_construction of the graph: as given to [`Index::init_index`], or
    /// as recorded in the file [`Index::load_index`] read (200 before either).
    pub fn ef_construction(&self) -> usize {
        self.ef_construction
    }

    /// Writes the index to `path` in the format every braincore binding
    /// reads (docs/bindings.md, "Index files"): the line
    /// `braincore-index 1`, a JSON line `{"space": "l2", "dim": 8,
    /// "max_elements": 100, "M": 8, "ef_construction": 50, "ef": 33}`, then
    /// the brain's snapshot as [`Brain::save_to`] writes it. Written to
    /// `path.tmp` first, fsynced, then renamed over `path`.
    pub fn save_index(&self, path: impl AsRef<Path>) -> Result<()> {
        let brain = self.brain()?;
        let header = Header {
            space: self.space.as_str().to_string(),
            dim: self.dim,
            max_elements: self.max_elements,
            m: self.m,
            ef_construction: self.ef_construction,
            ef: self.ef()?,
        };
        let path = path.as_ref();
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let written = (|| {
            let file = File::create(&tmp).map_err(|e| io_error("create", &tmp, e))?;
            let mut w = BufWriter::new(file);
            w.write_all(&header.to_bytes()).map_err(|e| io_error("write", &tmp, e))?;
            brain.save_to(&mut w)?;
            let file = w.into_inner().map_err(|e| io_error("write", &tmp, e.into_error()))?;
            file.sync_all().map_err(|e| io_error("fsync", &tmp, e))?;
            fs::rename(&tmp, path).map_err(|e| io_error("rename", path, e))?;
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                File::open(dir).and_then(|d| d.sync_all()).map_err(|e| io_error("fsync", dir, e))?;
            }
            Ok(())
        })();
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        written
    }

    /// Replaces the index with the one [`Index::save_index`] (of any
    /// binding) wrote to `path`. Its space and dim must be this index's
    /// (`BRAIN_EINVAL` otherwise). `max_elements` 0 keeps the file's; M and
    /// ef_construction are the file's ([`Index::m`],
    /// [`Index::ef_construction`]) and so is ef, which is applied. A file
    /// that is not in the format is `BRAIN_ECORRUPT`; a damaged snapshot is
    /// the library's error (`BRAIN_ECORRUPT`, `BRAIN_EIO`). On failure the
    /// index is unchanged.
    pub fn load_index(&mut self, path: impl AsRef<Path>, max_elements: usize) -> Result<()> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|e| io_error("open", path, e))?;
        let mut r = BufReader::new(file);
        let header = index_file::read_header(&mut r).map_err(|e| match e {
            ReadError::Io(e) => io_error("read", path, e),
            ReadError::Corrupt(why) => Error::new(
                sys::BRAIN_ECORRUPT,
                format!("load_index: {} is not an index file written by save_index: {why}", path.display()),
            ),
        })?;
        if header.space != self.space.as_str() || header.dim != self.dim {
            return Err(Error::new(
                sys::BRAIN_EINVAL,
                format!(
                    "load_index: {} holds a {:?} index of {} dimensions, not {} of {}",
                    path.display(),
                    header.space,
                    header.dim,
                    self.space,
                    self.dim
                ),
            ));
        }
        let max_elements = if max_elements == 0 { header.max_elements } else { max_elements };
        let brain = Brain::load_from(&mut r, None, &self.options(max_elements)?)?;
        brain.set_param(sys::BRAIN_PARAM_HNSW_EF_SEARCH, to_i64(header.ef))?;
        let next_label = next_label(&brain)?;
        self.ef = Some(header.ef);
        self.m = header.m;
        self.ef_construction = header.ef_construction;
        self.install(brain, max_elements, next_label)
    }
}

/// One more than the largest id in `brain` (0 when it is empty), read page
/// by page in id order.
fn next_label(brain: &Brain) -> Result<u64> {
    let mut last: Option<u64> = None;
    each_page(brain, |page| last = page.last().map(|m| m.id))?;
    Ok(last.map_or(0, |id| id.saturating_add(1)))
}

/// `f(page)` for every page of the memories of `brain`, in id order.
fn each_page(brain: &Brain, mut f: impl FnMut(&[Memory])) -> Result<()> {
    let mut after = None;
    loop {
        let page = brain.list(None, after, 4096)?;
        match page.last() {
            Some(m) => after = Some(m.id),
            None => return Ok(()),
        }
        f(&page);
    }
}

fn io_error(op: &str, path: &Path, e: std::io::Error) -> Error {
    Error::new(sys::BRAIN_EIO, format!("{op} {}: {e}", path.display()))
}

fn to_i64(v: usize) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}
