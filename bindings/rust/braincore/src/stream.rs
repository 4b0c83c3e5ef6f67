//! Snapshots to and from any `Write`/`Read` (brain_save / brain_load).
//!
//! Unsafe concern of this module: the C callbacks and the payload pointer
//! they receive. The payload is a `&mut Stream<_>` that lives on the stack
//! of `save_to`/`load_from` for the whole C call; the callbacks run on the
//! calling thread during that call only, and never unwind into C (a panic
//! is caught and resumed after the call returns).

use crate::brain::Brain;
use crate::error::{check, Error, Result};
use crate::options::Options;
use crate::text;
use braincore_sys as sys;
use std::any::Any;
use std::ffi::c_void;
use std::io::{self, Read, Write};
use std::os::raw::c_int;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::ptr;

/// The payload of the callbacks: the stream and what went wrong in it.
struct Stream<'a, T: ?Sized> {
    inner: &'a mut T,
    io_error: Option<io::Error>,
    panic: Option<Box<dyn Any + Send>>,
}

impl<'a, T: ?Sized> Stream<'a, T> {
    fn new(inner: &'a mut T) -> Self {
        Stream { inner, io_error: None, panic: None }
    }

    /// Runs `f` on the stream; 0 if it succeeded, 1 (stop) otherwise.
    fn step(&mut self, f: impl FnOnce(&mut T) -> io::Result<()>) -> c_int {
        if self.io_error.is_some() || self.panic.is_some() {
            return 1;
        }
        match panic::catch_unwind(AssertUnwindSafe(|| f(self.inner))) {
            Ok(Ok(())) => 0,
            Ok(Err(e)) => {
                self.io_error = Some(e);
                1
            }
            Err(p) => {
                self.panic = Some(p);
                1
            }
        }
    }

    /// The result of the C call that used this stream: a panic in the
    /// stream is resumed; an io error becomes the message of the C error.
    fn finish(self, rc: c_int) -> Result<()> {
        if let Some(p) = self.panic {
            panic::resume_unwind(p);
        }
        check(rc).map(drop).map_err(|mut e| {
            if let Some(io) = self.io_error {
                e.message = format!("{}: {io}", e.message);
            }
            e
        })
    }
}

unsafe extern "C" fn write_cb<W: Write>(data: *const c_void, len: usize, payload: *mut c_void) -> c_int {
    // SAFETY: payload is the &mut Stream<W> save_to passed, alive and not
    // otherwise borrowed during the C call; data holds len bytes.
    let (stream, bytes) =
        unsafe { (&mut *payload.cast::<Stream<'_, W>>(), std::slice::from_raw_parts(data.cast::<u8>(), len)) };
    stream.step(|w| w.write_all(bytes))
}

unsafe extern "C" fn read_cb<R: Read>(buf: *mut c_void, len: usize, payload: *mut c_void) -> c_int {
    // SAFETY: payload is the &mut Stream<R> load_from passed; buf holds len
    // writable bytes.
    let (stream, bytes) =
        unsafe { (&mut *payload.cast::<Stream<'_, R>>(), std::slice::from_raw_parts_mut(buf.cast::<u8>(), len)) };
    stream.step(|r| r.read_exact(bytes))
}

impl Brain {
    /// Writes a consistent snapshot of the brain (memories, vectors, the
    /// embedder's statistics; not working memory or parameters) to `w`.
    /// Readers of the brain go on meanwhile.
    pub fn save_to<W: Write>(&self, w: &mut W) -> Result<()> {
        let mut stream = Stream::new(w);
        // SAFETY: live handle (see brain.rs); the callback and its payload
        // as described at the top of this module.
        let rc = unsafe { sys::brain_save(self.as_ptr(), Some(write_cb::<W>), (&mut stream as *mut Stream<_>).cast()) };
        stream.finish(rc)?;
        stream_flush(w)
    }

    /// Makes a brain from a snapshot written by [`Brain::save_to`]: in
    /// memory (`path` None) or as a new on-disk brain in `path`. `opts`'
    /// dimensions, metric, embedder and index must match the snapshot's.
    pub fn load_from<R: Read>(r: &mut R, path: Option<&Path>, opts: &Options) -> Result<Brain> {
        let c_path = path.map(text::path).transpose()?;
        let c_opts = opts.to_c()?;
        let mut out = ptr::null_mut();
        let mut stream = Stream::new(r);
        // SAFETY: the callback and payload as described above; path NULL or
        // NUL-terminated; options valid with their strings alive; out valid.
        let rc = unsafe {
            sys::brain_load(
                Some(read_cb::<R>),
                (&mut stream as *mut Stream<_>).cast(),
                c_path.as_ref().map_or(ptr::null(), |p| p.as_ptr()),
                &c_opts.raw,
                &mut out,
            )
        };
        stream.finish(rc)?;
        Brain::adopt(out, opts)
    }
}

fn stream_flush<W: Write>(w: &mut W) -> Result<()> {
    w.flush().map_err(|e| Error::new(sys::BRAIN_EIO, format!("save: flush: {e}")))
}
