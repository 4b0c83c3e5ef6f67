//! Run-time parameters by name or number.
//!
//! Names come from the library itself (`brain_param_name`), so a newer
//! library's parameters work without a new binding. Unsafe concern of this
//! module: the library's static tables (parameter names and bounds, its
//! version string).

use crate::error::{check, Error, Result};
use braincore_sys as sys;
use std::ffi::CStr;
use std::os::raw::c_int;
use std::sync::Mutex;

/// Parameter numbers are below this (families of 100: params.h).
const PARAM_NUMBER_END: c_int = 1000;

/// (name, number) of every parameter the library knows.
fn table() -> &'static [(&'static str, c_int)] {
    // a Mutex rather than OnceLock: Debian 12's rustc (1.63) predates OnceLock
    static TABLE: Mutex<Option<&'static [(&'static str, c_int)]>> = Mutex::new(None);
    let mut table = TABLE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(t) = *table {
        return t;
    }
    let names: Vec<(&'static str, c_int)> = (0..PARAM_NUMBER_END)
        .filter_map(|n| {
            // SAFETY: returns NULL or a static NUL-terminated string.
            let p = unsafe { sys::brain_param_name(n) };
            if p.is_null() {
                return None;
            }
            // SAFETY: non-NULL static string, lives for the process.
            let name: &'static CStr = unsafe { CStr::from_ptr(p) };
            name.to_str().ok().map(|s| (s, n))
        })
        .collect();
    let t: &'static [(&'static str, c_int)] = Box::leak(names.into_boxed_slice());
    *table = Some(t);
    t
}

/// Every parameter the library knows, as (name, number): `("HNSW_EF_SEARCH", 302)`.
pub fn param_names() -> &'static [(&'static str, i32)] {
    table()
}

/// Something naming a parameter: its name (`"hnsw_ef_search"`, any case,
/// with or without `BRAIN_PARAM_`) or its number (`302`).
pub trait ParamId: private::Sealed {
    /// The parameter's number; an unknown name is `BRAIN_EPARAM`.
    fn number(&self) -> Result<i32>;
}

mod private {
    pub trait Sealed {}
    impl Sealed for &str {}
    impl Sealed for String {}
    impl Sealed for &String {}
    impl Sealed for i32 {}
}

impl ParamId for &str {
    fn number(&self) -> Result<i32> {
        let bare = self.get(..12).filter(|p| p.eq_ignore_ascii_case("BRAIN_PARAM_")).map_or(*self, |_| &self[12..]);
        table()
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(bare))
            .map(|&(_, n)| n)
            .ok_or_else(|| Error::new(sys::BRAIN_EPARAM, format!("unknown parameter name {self:?}")))
    }
}

impl ParamId for String {
    fn number(&self) -> Result<i32> {
        self.as_str().number()
    }
}

impl ParamId for &String {
    fn number(&self) -> Result<i32> {
        self.as_str().number()
    }
}

impl ParamId for i32 {
    fn number(&self) -> Result<i32> {
        Ok(*self)
    }
}

/// Bounds (inclusive) and default of a parameter: `(min, max, default)`.
pub fn param_bounds(param: impl ParamId) -> Result<(i64, i64, i64)> {
    let n = param.number()?;
    let (mut min, mut max, mut def) = (0i64, 0i64, 0i64);
    // SAFETY: three valid out-pointers.
    check(unsafe { sys::brain_param_bounds(n, &mut min, &mut max, &mut def) })?;
    Ok((min, max, def))
}

/// The running library's version string.
pub(crate) fn version() -> &'static str {
    // SAFETY: a static NUL-terminated string that lives for the process.
    let v: &'static CStr = unsafe { CStr::from_ptr(sys::brain_version_string()) };
    v.to_str().unwrap_or("unknown")
}
