//! Fuzz target for the JSON bodies of `/predict`: one record, a list of records,
//! `{"instances": [...]}` and `{"features": [...]}` (one row or a list of rows), decoded with the
//! server's own parser and checked against a golden model's schema, then scored.
//!
//! Input: the first byte picks the model (low bits) and `absent_as_missing` (high bit); the rest
//! is the request body. Must hold: never a panic; a malformed or invalid body is a 4xx naming what
//! is wrong (offending values cut short); a valid one has at least one row (exactly one when the
//! request was a single record) and scores to one finite output per row (probabilities in [0, 1]
//! summing to 1), or fails on a named row.

#![no_main]

#[path = "../common/mod.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use tabship_serve::fuzzing::{ParseOptions, parse_json, parse_rows, score};

fuzz_target!(|data: &[u8]| {
    let Some((&control, body)) = data.split_first() else {
        return;
    };
    let pipeline = common::model(control);
    let options = ParseOptions {
        absent_is_missing: control & 0x80 != 0,
    };
    let json = match parse_json(body) {
        Ok(json) => json,
        Err(e) => return common::check_client_error(&e),
    };
    let rows = match parse_rows(&json, pipeline.schema(), options) {
        Ok(rows) => rows,
        Err(e) => return common::check_client_error(&e),
    };
    assert!(!rows.rows.is_empty(), "a valid request without rows");
    assert!(
        !rows.single || rows.rows.len() == 1,
        "one record read as {} rows",
        rows.rows.len()
    );
    match score(pipeline, &rows.rows) {
        Ok(scores) => common::check_scores(pipeline, &scores, rows.rows.len()),
        Err((row, _)) => assert!(
            row < rows.rows.len(),
            "error on row {row} of {}",
            rows.rows.len()
        ),
    }
});
