//! Fuzz target for the XGBoost importer (`tabship_import::xgboost::read_bytes`): JSON and UBJSON
//! model files, which are untrusted input like artifacts.
//!
//! Must hold: never a panic; a model that imports assembles with synthetic reference rows (a
//! value, a missing value and a huge value per feature; categories `a` and `b`) or is refused
//! with an error, and an assembled pipeline (format 1.5: `f32` comparisons and sums, missing
//! directions, categorical bitsets) re-encodes, loads again to equal parts and re-encodes to the
//! same bytes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tabship::Pipeline;
use tabship_import::reference::{ReferenceData, ReferenceOptions, assemble};
use tabship_import::{FeatureKind, xgboost};

/// A CSV field, quoted.
fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

fuzz_target!(|data: &[u8]| {
    let Ok(imported) = xgboost::read_bytes(data) else {
        return;
    };
    let names: Vec<String> = imported
        .features
        .iter()
        .enumerate()
        .map(|(i, f)| f.name.clone().unwrap_or_else(|| format!("f{i}")))
        .collect();
    let mut csv = names.iter().map(|n| quote(n)).collect::<Vec<_>>().join(",") + "\n";
    for (number, category) in [("0.5", "a"), ("", ""), ("-1e30", "b")] {
        let row: Vec<&str> = imported
            .features
            .iter()
            .map(|f| match f.kind {
                FeatureKind::Numeric => number,
                FeatureKind::Categorical { .. } => category,
            })
            .collect();
        csv.push_str(&row.join(","));
        csv.push('\n');
    }
    let Ok(reference) = ReferenceData::from_csv_bytes(csv.as_bytes()) else {
        return;
    };
    let Ok(pipeline) = assemble(imported, &reference, &ReferenceOptions::default()) else {
        return;
    };
    let bytes = pipeline.to_bytes().expect("an imported pipeline encodes");
    let reloaded = Pipeline::from_bytes(&bytes).expect("its bytes load again");
    assert!(
        reloaded.to_parts() == pipeline.to_parts()
            || format!("{:?}", reloaded.to_parts()) == format!("{:?}", pipeline.to_parts()),
        "reloaded parts differ"
    );
    assert_eq!(reloaded.to_bytes().expect("re-encodes"), bytes);
});
