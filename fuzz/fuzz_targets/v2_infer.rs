//! Fuzz target for Open Inference Protocol V2 bodies (`/v2/models/{name}/infer`): bare `NaN`
//! tokens turned into `null`, the JSON parsed, the `inputs` tensors (name, datatype, shape, nested
//! `data`) checked against a golden model's schema and turned into rows, then scored.
//!
//! Input: the first byte picks the model; the rest is the request body. Must hold: never a panic;
//! a body without `NaN` reads exactly as plain JSON; a refused body is a 4xx; decoded tensors give
//! `n > 0` rows of one value per schema column, which the `/predict` decoder accepts as `n` rows
//! and which score to finite outputs (or fail on a named row).

#![no_main]

#[path = "../common/mod.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use tabship_serve::fuzzing::{
    ParseOptions, decode_v2_inputs, parse_json, parse_rows, parse_v2_json, score,
};

fuzz_target!(|data: &[u8]| {
    let Some((&control, body)) = data.split_first() else {
        return;
    };
    let pipeline = common::model(control);
    let schema = pipeline.schema();
    let request = match parse_v2_json(body) {
        Ok(request) => request,
        Err(e) => return common::check_client_error(&e),
    };
    if !body.windows(3).any(|w| w == b"NaN") {
        let plain = parse_json(body).expect("a body without NaN parses as plain JSON");
        assert_eq!(plain, request, "NaN replacement changed a body without NaN");
    }
    let (features, n) = match decode_v2_inputs(&request, schema) {
        Ok(decoded) => decoded,
        Err(e) => return common::check_client_error(&e),
    };
    assert!(n > 0, "decoded tensors without rows");
    let table = features["features"].as_array().expect("a features table");
    assert_eq!(table.len(), n);
    for row in table {
        assert_eq!(
            row.as_array().map(Vec::len),
            Some(schema.len()),
            "row {row}"
        );
    }
    let rows = match parse_rows(&features, schema, ParseOptions::default()) {
        Ok(rows) => rows,
        // A tensor of the right shape may still hold values of the wrong type.
        Err(e) => return common::check_client_error(&e),
    };
    assert_eq!(rows.rows.len(), n);
    assert!(!rows.single);
    match score(pipeline, &rows.rows) {
        Ok(scores) => common::check_scores(pipeline, &scores, n),
        Err((row, _)) => assert!(row < n, "error on row {row} of {n}"),
    }
});
