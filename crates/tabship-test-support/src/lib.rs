//! Fixtures shared by the test suites of the workspace (a dev-dependency only, never
//! published): paths of the committed `testdata/`, golden CSV readers, keys files written by the
//! `tabship` binary, and the log and exit of a `tabship serve` child.
//!
//! It depends on neither `tabship` nor any other workspace crate, so every crate (the core
//! included) can use it without a second copy of its own types in its tests.

mod data;
mod keys;
mod server;

pub use data::{golden, golden_rows, read_csv, testdata};
pub use keys::add_key;
pub use server::{PATIENCE, ServerLog, wait_exit};
