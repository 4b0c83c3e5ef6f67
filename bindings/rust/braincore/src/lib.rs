//! Safe Rust API over libbraincore, an embedded AI memory engine.
//!
//! ```
//! use braincore::Brain;
//!
//! let brain = Brain::new()?; // in memory, built-in embedder
//! brain.remember("The Eiffel Tower is in Paris", 0.8)?;
//! brain.remember("Cats sleep most of the day", 0.5)?;
//! let found = brain.recall("where is the Eiffel Tower?", 1)?;
//! assert_eq!(found[0].text, "The Eiffel Tower is in Paris");
//! println!("{} {:.3} {}", found[0].id, found[0].score, found[0].text);
//! # Ok::<(), braincore::Error>(())
//! ```
//!
//! Every fallible call returns [`Result<T>`](Result) with an [`Error`]
//! carrying the C code, its family ([`ErrorKind`]), its name and the
//! library's message. [`Brain`] is `Send + Sync` (docs/threading.md: one
//! brain serves many threads) and closes on drop. [`Index`] gives hnswlib's
//! calls over a brain of vectors.
//!
//! Unsafe code lives in one module per concern (error state, the brain
//! handle, C-owned objects, snapshot callbacks, options, parameter names);
//! the crate denies it everywhere else.

// Lints in the crates rather than [lints] in Cargo.toml, which Debian 12's
// cargo (1.65) does not read.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_debug_implementations, clippy::undocumented_unsafe_blocks)]
#![deny(unsafe_code)]
#![warn(missing_docs)]

#[allow(unsafe_code)]
mod brain;
#[allow(unsafe_code)]
mod error;
mod index;
mod index_file;
#[allow(unsafe_code)]
mod options;
#[allow(unsafe_code)]
mod params;
#[allow(unsafe_code)]
mod results;
#[allow(unsafe_code)]
mod stream;
mod text;
mod types;

pub use brain::Brain;
pub use error::{Error, ErrorKind, Result};
pub use index::{Index, Space};
pub use options::Options;
pub use params::{param_bounds, param_names, ParamId};
pub use types::{
    Direction, DocumentOptions, Edge, Embedder, IndexKind, Latency, Memory, Metric, RecallMode, RecallOptions,
    RememberOptions, Stats, SyncMode, Thought, UpdateOptions,
};

/// The raw C declarations, for what this crate does not wrap.
pub use braincore_sys as sys;

/// The version of the library that is running, such as `"0.1.0"`.
pub fn version() -> &'static str {
    params::version()
}
