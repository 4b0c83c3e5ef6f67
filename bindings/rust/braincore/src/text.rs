//! Turning Rust strings into the NUL-terminated strings some C calls take,
//! and checking slices whose length the C side takes on trust. No unsafe code.
//!
//! Where the C API takes a length (brain_remember_n, brain_update,
//! brain_upsert's text, brain_remember_document, brain_filter_parse_len)
//! the bytes go as they are. Where it takes only a NUL-terminated string
//! (queries, keys, verbs, metadata, paths), a NUL inside the Rust string
//! would silently cut it, so it is refused here with the error the C library
//! gives an embedded NUL in that kind of argument.

use crate::error::{Error, Result};
use braincore_sys as sys;
use std::ffi::CString;
use std::os::raw::c_int;
use std::path::Path;

/// `s` as a C string; a NUL byte in it is error `code` naming `what`.
pub(crate) fn c_string(s: &str, code: c_int, what: &str) -> Result<CString> {
    CString::new(s).map_err(|e| {
        Error::new(
            code,
            format!("{what}: NUL byte at offset {} (the C call takes a NUL-terminated string)", e.nul_position()),
        )
    })
}

/// A text (query, key, think input): a NUL is invalid text, as in C.
pub(crate) fn text(s: &str, what: &str) -> Result<CString> {
    c_string(s, sys::BRAIN_EUTF8, what)
}

/// Metadata JSON: a NUL is invalid JSON.
pub(crate) fn json(s: &str, what: &str) -> Result<CString> {
    c_string(s, sys::BRAIN_EJSON, what)
}

/// An optional string argument.
pub(crate) fn opt(s: Option<&str>, f: impl Fn(&str) -> Result<CString>) -> Result<Option<CString>> {
    s.map(f).transpose()
}

/// A path.
pub(crate) fn path(p: &Path) -> Result<CString> {
    #[cfg(unix)]
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(p.as_os_str()).to_vec();
    #[cfg(not(unix))]
    let bytes = p
        .to_str()
        .ok_or_else(|| Error::new(sys::BRAIN_EINVAL, format!("path {p:?} is not valid UTF-8")))?
        .as_bytes()
        .to_vec();
    CString::new(bytes).map_err(|_| Error::new(sys::BRAIN_EINVAL, format!("path {p:?} holds a NUL byte")))
}

/// Checks that `v` has exactly `dims` components (the C calls read that many).
pub(crate) fn vector(v: &[f32], dims: usize, what: &str) -> Result<()> {
    if v.len() == dims {
        Ok(())
    } else {
        Err(Error::new(
            sys::BRAIN_EDIM,
            format!("{what}: vector has {} components, the brain has {dims} dimensions", v.len()),
        ))
    }
}

/// Checks that `flat` holds whole rows of `dims` and returns how many.
pub(crate) fn rows(flat: &[f32], dims: usize, what: &str) -> Result<usize> {
    if dims > 0 && flat.len() % dims == 0 {
        Ok(flat.len() / dims)
    } else {
        Err(Error::new(
            sys::BRAIN_EDIM,
            format!("{what}: {} floats are not whole rows of {dims} dimensions", flat.len()),
        ))
    }
}
