//! The one helper that releases the GIL around Rust work (train, load, batch predict), so that
//! other Python threads run meanwhile.
//!
//! Single-record prediction keeps the GIL: it takes about a microsecond, less than giving the
//! GIL up and taking it back again, and its input borrows Python strings.

use pyo3::marker::Ungil;
use pyo3::prelude::*;

/// Runs `work` without the GIL. `work` must not touch Python objects (the compiler checks that
/// it captures nothing tied to the GIL).
pub(crate) fn without_gil<T, F>(py: Python<'_>, work: F) -> T
where
    F: Ungil + FnOnce() -> T,
    T: Ungil,
{
    py.detach(work)
}
