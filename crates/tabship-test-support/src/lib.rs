//! Fixtures shared by the test suites of the workspace (a dev-dependency only, never
//! published): paths of the committed `testdata/`, golden CSV readers, keys files written by the
//! `tabship` binary, a `tabship serve` child (started, asked over a minimal HTTP/1.1 client,
//! signalled, its log and exit), and what its model descriptions list.
//!
//! It depends on neither `tabship` nor any other workspace crate, so every crate (the core
//! included) can use it without a second copy of its own types in its tests.

mod data;
mod http;
mod keys;
mod models;
mod served;
mod server;

pub use data::{fixture_names, golden, golden_rows, lightgbm_fixtures, read_csv, testdata};
pub use http::{connect, exchange, head, json_body, read_response, request, wait_ready};
pub use keys::add_key;
pub use models::version_names;
pub use served::{Served, listening_address, signal, spawn_json_logs};
pub use server::{PATIENCE, ServerLog, wait_exit};
