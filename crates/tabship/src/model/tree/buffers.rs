//! What prediction reuses and reads: per-thread buffers, and the rows it walks (encoded entries,
//! or dense rows in tests).

use std::cell::RefCell;

use super::walk::{RowValues, Scratch};
use crate::encode::Entry;

thread_local! {
    /// Per-thread buffers, so that predicting allocates nothing once a thread has predicted a
    /// block of the same size.
    pub(super) static BUFFERS: RefCell<Buffers> = const {
        RefCell::new(Buffers {
            walk: Scratch::new(),
            votes: Vec::new(),
            leaves: Vec::new(),
        })
    };
}

/// Buffers reused between predictions.
#[derive(Debug, Default)]
pub(super) struct Buffers {
    /// Ranked rows.
    pub(super) walk: Scratch,
    /// Per row and class, the trees voting for it.
    pub(super) votes: Vec<u32>,
    /// A single row's leaf in every tree.
    pub(super) leaves: Vec<u32>,
}

/// Rows ranked and walked in one piece by [`TreeEnsemble::predict_entries`](super::TreeEnsemble::predict_entries).
pub(super) const MAX_ROWS_AT_ONCE: usize = 1024;

/// Encoded rows: `stride` entries per row.
pub(super) struct Entries<'a> {
    pub(super) entries: &'a [Entry],
    pub(super) stride: usize,
}

impl RowValues for Entries<'_> {
    fn n_rows(&self) -> usize {
        self.entries.len().checked_div(self.stride).unwrap_or(0)
    }

    #[inline]
    fn for_each_value(&self, row: usize, mut set: impl FnMut(usize, f64)) {
        for &(f, x) in &self.entries[row * self.stride..(row + 1) * self.stride] {
            set(f as usize, x);
        }
    }
}

/// Dense rows: `width` values per row.
#[cfg(test)]
pub(super) struct Dense<'a> {
    pub(super) x: &'a [f64],
    pub(super) width: usize,
}

#[cfg(test)]
impl RowValues for Dense<'_> {
    fn n_rows(&self) -> usize {
        self.x.len().checked_div(self.width).unwrap_or(0)
    }

    fn for_each_value(&self, row: usize, mut set: impl FnMut(usize, f64)) {
        for (f, &x) in self.x[row * self.width..(row + 1) * self.width]
            .iter()
            .enumerate()
        {
            set(f, x);
        }
    }
}

/// `slice[start..end]`, cut to what `slice` holds (outputs shorter than the rows get what fits).
pub(super) fn part<T>(slice: &mut [T], start: usize, end: usize) -> &mut [T] {
    let end = end.min(slice.len());
    &mut slice[start.min(end)..end]
}
