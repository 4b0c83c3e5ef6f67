//! Objects the C library hands out and the caller frees: results, edges and
//! filters, each in an RAII guard that frees it on every path, and the one
//! conversion of their contents into owned Rust values.
//!
//! Unsafe concern of this module: owning those C objects and reading the
//! borrowed strings they hold (valid until the object is freed, which the
//! guard does only in Drop, after every read).

use crate::error::{check, Error, Result};
use crate::types::{Edge, Memory};
use braincore_sys as sys;
use std::ffi::CStr;
use std::os::raw::{c_char, c_int};
use std::ptr::{self, NonNull};

/// A borrowed C string as an owned String (None for NULL).
///
/// # Safety
/// `p` is NULL or a NUL-terminated string that stays valid during the call.
unsafe fn owned(p: *const c_char) -> Option<String> {
    // SAFETY: by the function's contract.
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

/// Runs a C call that returns an object through `*out`, and takes ownership
/// of it. Whatever the call returns, an object it left in `*out` is freed.
fn take<T>(call: impl FnOnce(*mut *mut T) -> c_int, free: unsafe extern "C" fn(*mut T)) -> Result<NonNull<T>> {
    let mut out: *mut T = ptr::null_mut();
    let rc = call(&mut out);
    let err = check(rc).err();
    match (err, NonNull::new(out)) {
        (None, Some(p)) => Ok(p),
        (Some(e), p) => {
            if let Some(p) = p {
                // SAFETY: the call gave us this object; nobody else holds it.
                unsafe { free(p.as_ptr()) };
            }
            Err(e)
        }
        (None, None) => Err(Error::new(sys::BRAIN_EINTERNAL, "the call succeeded but returned no object")),
    }
}

/// A results object (`brain_results`), freed on drop.
pub(crate) struct Results(NonNull<sys::brain_results>);

impl Results {
    /// Runs `call(out)` and owns what it leaves in `*out`.
    pub(crate) fn fetch(call: impl FnOnce(*mut *mut sys::brain_results) -> c_int) -> Result<Results> {
        take(call, sys::brain_results_free).map(Results)
    }

    /// Every entry, best first: copied out in one call (brain_results_read).
    pub(crate) fn memories(&self) -> Vec<Memory> {
        let r = self.0.as_ptr();
        // SAFETY: r is a live results object (freed only in Drop).
        let n = unsafe { sys::brain_results_count(r) };
        let mut entries: Vec<sys::brain_result> = Vec::with_capacity(n);
        let mut filled = 0usize;
        // SAFETY: entries has room for n structs of BRAIN_RESULT_VERSION.
        let rc =
            unsafe { sys::brain_results_read(r, 0, n, sys::BRAIN_RESULT_VERSION, entries.as_mut_ptr(), &mut filled) };
        // It fails only for NULL arguments or another version, neither of
        // which can happen here: then there is nothing to read.
        let filled = if rc == 0 { filled.min(n) } else { 0 };
        // SAFETY: the library wrote `filled` whole structs.
        unsafe { entries.set_len(filled) };
        entries
            .iter()
            .map(|e| {
                // SAFETY: the strings are borrowed from r, live until Drop,
                // and copied here; text holds text_len bytes.
                unsafe {
                    let text = if e.text.is_null() {
                        String::new()
                    } else {
                        String::from_utf8_lossy(std::slice::from_raw_parts(e.text.cast::<u8>(), e.text_len))
                            .into_owned()
                    };
                    Memory {
                        id: e.id,
                        text,
                        score: e.score,
                        importance: e.importance,
                        created: e.created_ms,
                        accessed: e.accessed_ms,
                        metadata: owned(e.metadata).filter(|m| m != "{}"),
                        key: owned(e.key),
                        document: owned(e.document),
                    }
                }
            })
            .collect()
    }

    /// The answer of a think (None for other results).
    pub(crate) fn answer(&self) -> Option<String> {
        // SAFETY: live object; the answer is copied before it can be freed.
        unsafe { owned(sys::brain_results_answer(self.0.as_ptr())) }
    }
}

impl Drop for Results {
    fn drop(&mut self) {
        // SAFETY: we own the object; it is not used after this.
        unsafe { sys::brain_results_free(self.0.as_ptr()) }
    }
}

/// An edges object (`brain_edges`), freed on drop.
pub(crate) struct Edges(NonNull<sys::brain_edges>);

impl Edges {
    /// Runs `call(out)` and owns what it leaves in `*out`.
    pub(crate) fn fetch(call: impl FnOnce(*mut *mut sys::brain_edges) -> c_int) -> Result<Edges> {
        take(call, sys::brain_edges_free).map(Edges)
    }

    /// Every edge, in the order the library gives them.
    pub(crate) fn edges(&self) -> Vec<Edge> {
        let e = self.0.as_ptr();
        // SAFETY: e is live until Drop; verbs are copied.
        unsafe {
            (0..sys::brain_edges_count(e))
                .map(|i| Edge {
                    from: sys::brain_edges_from(e, i),
                    to: sys::brain_edges_to(e, i),
                    verb: owned(sys::brain_edges_verb(e, i)).unwrap_or_default(),
                    weight: sys::brain_edges_weight(e, i),
                    hops: sys::brain_edges_hops(e, i),
                })
                .collect()
        }
    }
}

impl Drop for Edges {
    fn drop(&mut self) {
        // SAFETY: we own the object; it is not used after this.
        unsafe { sys::brain_edges_free(self.0.as_ptr()) }
    }
}

/// A parsed filter (`brain_filter`), freed on drop.
pub(crate) struct Filter(NonNull<sys::brain_filter>);

impl Filter {
    /// Parses a filter text (its bytes with their length: a NUL in it is a
    /// syntax error, never an end).
    pub(crate) fn parse(text: &str) -> Result<Filter> {
        take(
            // SAFETY: text.len() readable bytes; out is a valid pointer.
            |out| unsafe { sys::brain_filter_parse_len(text.as_ptr().cast(), text.len(), out) },
            sys::brain_filter_free,
        )
        .map(Filter)
    }

    /// Parses an optional filter.
    pub(crate) fn parse_opt(text: Option<&str>) -> Result<Option<Filter>> {
        text.map(Filter::parse).transpose()
    }

    pub(crate) fn as_ptr(&self) -> *const sys::brain_filter {
        self.0.as_ptr()
    }
}

/// The filter pointer of an optional filter (NULL for none).
pub(crate) fn filter_ptr(f: Option<&Filter>) -> *const sys::brain_filter {
    f.map_or(ptr::null(), Filter::as_ptr)
}

impl Drop for Filter {
    fn drop(&mut self) {
        // SAFETY: we own the filter; it is not used after this.
        unsafe { sys::brain_filter_free(self.0.as_ptr()) }
    }
}
