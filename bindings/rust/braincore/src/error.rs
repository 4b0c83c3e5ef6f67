//! Errors: the C code, its family, its name and the detail message.
//!
//! Unsafe concern of this module: reading the C library's error state
//! (`brain_errmsg`, `brain_errcode`, `brain_strerror`), which is thread-local
//! and must be read on the failing thread right after the failing call.
//! Every C error goes through [`check`] → [`Error::last`]; errors the binding
//! finds itself (a vector of the wrong length) through [`Error::new`].

use braincore_sys as sys;
use std::ffi::CStr;
use std::fmt;
use std::os::raw::c_int;

/// The family of an error, as every braincore binding groups the C codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// EINVAL ENULL ERANGE EPARAM EVERSION EBUFSIZE
    InvalidArgument,
    /// EEMPTY EUTF8 ETOOLONG
    Text,
    /// EDIM ENONFINITE EZEROVEC
    Vector,
    /// ENOTFOUND
    NotFound,
    /// EEXISTS
    Exists,
    /// EFULL
    Capacity,
    /// ENOMEM
    OutOfMemory,
    /// ENOEMBEDDER EEMBEDDER EGENERATOR
    Embedder,
    /// ENOTSUP ESTATE EBUSY EREADONLY
    State,
    /// EIO ECORRUPT ENOSPC EMISMATCH
    Storage,
    /// EJSON EFILTER ETYPE
    Metadata,
    /// EINTERNAL
    Internal,
    /// A code this binding does not know (from a newer library).
    Unknown,
}

/// An error of libbraincore, or one the binding found before calling it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Error {
    /// The C error code (negative; `braincore_sys::BRAIN_E*`).
    pub code: i32,
    /// Its family.
    pub kind: ErrorKind,
    /// Its name, such as `"BRAIN_ENOTFOUND"`.
    pub name: &'static str,
    /// The detail message (`brain_errmsg()` of the failing call), such as
    /// `"vector dimension 128 does not match brain dimension 384"`.
    pub message: String,
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

macro_rules! error_table {
    ($($code:ident => $kind:ident,)*) => {
        fn lookup(code: c_int) -> Option<(&'static str, ErrorKind)> {
            match code {
                $(sys::$code => Some((stringify!($code), ErrorKind::$kind)),)*
                _ => None,
            }
        }
        /// Every code the binding knows, for tests.
        #[cfg(test)]
        pub(crate) const KNOWN: &[c_int] = &[$(sys::$code,)*];
    };
}

error_table! {
    BRAIN_EINVAL => InvalidArgument,
    BRAIN_ENOMEM => OutOfMemory,
    BRAIN_ENULL => InvalidArgument,
    BRAIN_EEMPTY => Text,
    BRAIN_EUTF8 => Text,
    BRAIN_ETOOLONG => Text,
    BRAIN_EDIM => Vector,
    BRAIN_ENONFINITE => Vector,
    BRAIN_EZEROVEC => Vector,
    BRAIN_ERANGE => InvalidArgument,
    BRAIN_ENOTFOUND => NotFound,
    BRAIN_EEXISTS => Exists,
    BRAIN_EBUFSIZE => InvalidArgument,
    BRAIN_ENOEMBEDDER => Embedder,
    BRAIN_EEMBEDDER => Embedder,
    BRAIN_EGENERATOR => Embedder,
    BRAIN_EVERSION => InvalidArgument,
    BRAIN_EPARAM => InvalidArgument,
    BRAIN_EFULL => Capacity,
    BRAIN_ENOTSUP => State,
    BRAIN_ESTATE => State,
    BRAIN_EBUSY => State,
    BRAIN_EINTERNAL => Internal,
    BRAIN_EIO => Storage,
    BRAIN_ECORRUPT => Storage,
    BRAIN_ENOSPC => Storage,
    BRAIN_EMISMATCH => Storage,
    BRAIN_EREADONLY => State,
    BRAIN_EJSON => Metadata,
    BRAIN_EFILTER => Metadata,
    BRAIN_ETYPE => Metadata,
}

impl Error {
    /// An error with `code` and a message of the binding's own.
    pub(crate) fn new(code: c_int, message: impl Into<String>) -> Error {
        let (name, kind) = lookup(code).unwrap_or(("BRAIN_UNKNOWN", ErrorKind::Unknown));
        Error { code, kind, name, message: message.into() }
    }

    /// The error of the C call that just returned `code`, on this thread.
    ///
    /// The message is `brain_errmsg()` when the library recorded this code
    /// as its last error (`brain_errcode()`); otherwise (a call that failed
    /// without leaving a message) the code's description, so a stale
    /// message of an earlier failure is never shown.
    pub(crate) fn last(code: c_int) -> Error {
        // SAFETY: no arguments; reads this thread's error state.
        let recorded = unsafe { sys::brain_errcode() };
        let msg = if recorded == code {
            // SAFETY: never NULL; valid until this thread's next call into
            // the library, and copied before that.
            unsafe { CStr::from_ptr(sys::brain_errmsg()) }
        } else {
            // SAFETY: a static string for any code.
            unsafe { CStr::from_ptr(sys::brain_strerror(code)) }
        };
        Error::new(code, msg.to_string_lossy().into_owned())
    }

    /// True if this error has the C code `code` (`braincore_sys::BRAIN_E*`).
    pub fn is(&self, code: i32) -> bool {
        self.code == code
    }
}

/// `Ok(rc)` for a non-negative return code, the thread's last error otherwise.
pub(crate) fn check(rc: c_int) -> Result<c_int> {
    if rc < 0 {
        Err(Error::last(rc))
    } else {
        Ok(rc)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.message.is_empty() {
            write!(f, "{} ({})", self.name, self.code)
        } else {
            write!(f, "{}: {}", self.name, self.message)
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_match_brain_error_name() {
        for &code in KNOWN {
            let e = Error::new(code, "");
            // SAFETY: a static string for any code.
            let c = unsafe { CStr::from_ptr(sys::brain_error_name(code)) }.to_str().unwrap();
            assert_eq!(e.name, format!("BRAIN_{c}"));
            assert_ne!(e.kind, ErrorKind::Unknown);
        }
        // Every code from -1 down to the last the library knows is in the table.
        let mut code = -1;
        // SAFETY: as above.
        while unsafe { CStr::from_ptr(sys::brain_error_name(code)) }.to_bytes() != b"UNKNOWN" {
            assert!(KNOWN.contains(&code), "code {code} is missing from the table");
            code -= 1;
        }
        assert_eq!(KNOWN.len() as c_int, -code - 1);
    }

    #[test]
    fn families_are_the_spec_s() {
        // Copied from the bindings' shared spec (issue 16).
        const SPEC: &str =
            "InvalidArgument: EINVAL ENULL ERANGE EPARAM EVERSION EBUFSIZE | Text: EEMPTY EUTF8 ETOOLONG | \
            Vector: EDIM ENONFINITE EZEROVEC | NotFound: ENOTFOUND | Exists: EEXISTS | Capacity: EFULL | \
            OutOfMemory: ENOMEM | Embedder: ENOEMBEDDER EEMBEDDER EGENERATOR | State: ENOTSUP ESTATE EBUSY EREADONLY | \
            Storage: EIO ECORRUPT ENOSPC EMISMATCH | Metadata: EJSON EFILTER ETYPE | Internal: EINTERNAL";
        let mut seen = 0;
        for family in SPEC.split('|') {
            let (kind, names) = family.split_once(':').unwrap();
            for name in names.split_whitespace() {
                let code = *KNOWN.iter().find(|&&c| Error::new(c, "").name == format!("BRAIN_{name}")).unwrap();
                assert_eq!(format!("{:?}", Error::new(code, "").kind), kind.trim(), "{name}");
                seen += 1;
            }
        }
        assert_eq!(seen, KNOWN.len());
    }

    #[test]
    fn unknown_codes_map_to_the_base() {
        let e = Error::new(-999, "x");
        assert_eq!((e.kind, e.name), (ErrorKind::Unknown, "BRAIN_UNKNOWN"));
        assert_eq!(e.to_string(), "BRAIN_UNKNOWN: x");
    }
}
