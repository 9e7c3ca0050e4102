//! Counts of what the encoders saw at prediction time, for monitoring.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

/// Cumulative counts for one column since the pipeline was loaded (or last reset).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ColumnCounts {
    /// Values never seen in training (categorical columns only).
    pub unknown: u64,
    /// Values of rare training categories that went to the Other slot.
    pub other: u64,
    /// Missing values (null, empty, NaN).
    pub missing: u64,
}

/// A snapshot of the encoders' counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EncodingStats {
    /// Rows encoded.
    pub rows: u64,
    /// Per column, in schema order: `(name, counts)`.
    pub columns: Vec<(String, ColumnCounts)>,
}

impl EncodingStats {
    /// Counts of one column by name.
    pub fn column(&self, name: &str) -> Option<ColumnCounts> {
        self.columns
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| *c)
    }
}

#[derive(Debug, Default)]
struct AtomicCounts {
    unknown: AtomicU64,
    other: AtomicU64,
    missing: AtomicU64,
}

/// Lock-free counters shared by concurrent predictions.
#[derive(Debug)]
pub(crate) struct EncodingCounters {
    rows: AtomicU64,
    columns: Vec<AtomicCounts>,
}

/// Which counter an event increments.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Event {
    Unknown,
    Other,
    Missing,
}

impl EncodingCounters {
    pub(crate) fn new(n_columns: usize) -> Self {
        EncodingCounters {
            rows: AtomicU64::new(0),
            columns: (0..n_columns).map(|_| AtomicCounts::default()).collect(),
        }
    }

    #[inline]
    pub(crate) fn record(&self, column: usize, event: Event) {
        let c = &self.columns[column];
        let counter = match event {
            Event::Unknown => &c.unknown,
            Event::Other => &c.other,
            Event::Missing => &c.missing,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn add_rows(&self, rows: u64) {
        self.rows.fetch_add(rows, Ordering::Relaxed);
    }

    /// Adds counts gathered locally (one batch) in one go.
    pub(crate) fn add(&self, column: usize, counts: ColumnCounts) {
        let c = &self.columns[column];
        c.unknown.fetch_add(counts.unknown, Ordering::Relaxed);
        c.other.fetch_add(counts.other, Ordering::Relaxed);
        c.missing.fetch_add(counts.missing, Ordering::Relaxed);
    }

    pub(crate) fn snapshot<'a>(&self, names: impl Iterator<Item = &'a str>) -> EncodingStats {
        EncodingStats {
            rows: self.rows.load(Ordering::Relaxed),
            columns: names
                .zip(&self.columns)
                .map(|(name, c)| {
                    (
                        name.to_owned(),
                        ColumnCounts {
                            unknown: c.unknown.load(Ordering::Relaxed),
                            other: c.other.load(Ordering::Relaxed),
                            missing: c.missing.load(Ordering::Relaxed),
                        },
                    )
                })
                .collect(),
        }
    }

    pub(crate) fn reset(&self) {
        self.rows.store(0, Ordering::Relaxed);
        for c in &self.columns {
            c.unknown.store(0, Ordering::Relaxed);
            c.other.store(0, Ordering::Relaxed);
            c.missing.store(0, Ordering::Relaxed);
        }
    }
}

impl Clone for EncodingCounters {
    fn clone(&self) -> Self {
        let copy = EncodingCounters::new(self.columns.len());
        copy.add_rows(self.rows.load(Ordering::Relaxed));
        for (i, c) in self.columns.iter().enumerate() {
            copy.add(
                i,
                ColumnCounts {
                    unknown: c.unknown.load(Ordering::Relaxed),
                    other: c.other.load(Ordering::Relaxed),
                    missing: c.missing.load(Ordering::Relaxed),
                },
            );
        }
        copy
    }
}
