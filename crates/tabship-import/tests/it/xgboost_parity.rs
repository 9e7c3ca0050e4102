//! Every XGBoost fixture (`testdata/import/xgboost/v<version>/<case>/`, written by
//! `scripts/import-fixtures/xgboost_fixtures.py` with that version of XGBoost) imported from
//! JSON and from UBJSON predicts what XGBoost predicted, bit for bit: float32 values and
//! probabilities, and classes, on the training rows, rows exactly on every split threshold,
//! rows with missing values and categorical columns.

use std::path::{Path, PathBuf};

use tabship::{Pipeline, Predictions, TextBatchBuilder};
use tabship_import::reference::{ReferenceData, ReferenceOptions, assemble};
use tabship_import::xgboost;

/// What XGBoost predicted for one row.
#[derive(Debug)]
enum Expected {
    Value(u32),
    Class(usize, Vec<u32>),
}

fn read_expected(path: &Path) -> Vec<Expected> {
    let (header, rows) = tabship_test_support::read_csv(path);
    let hex = |s: &str| u32::from_str_radix(s, 16).expect("hex float32 bits");
    rows.iter()
        .map(|r| match header[0].as_str() {
            "value" => Expected::Value(hex(&r[0])),
            _ => Expected::Class(
                r[0].parse().expect("class index"),
                r.iter().skip(1).map(hex).collect(),
            ),
        })
        .collect()
}

/// Predicts `rows.csv` with the pipeline imported from `model` and compares; returns the rows
/// compared.
fn check(case: &Path, model: &str) -> usize {
    let what = format!("{} {model}", case.display());
    let imported = xgboost::read_file(&case.join(model)).unwrap_or_else(|e| panic!("{what}: {e}"));
    let data = ReferenceData::read_csv(&case.join("rows.csv")).expect("rows.csv");
    let options = ReferenceOptions {
        target: Some("target".into()),
        ..ReferenceOptions::default()
    };
    let pipeline = assemble(imported, &data, &options).unwrap_or_else(|e| panic!("{what}: {e}"));
    // Through the artifact, as it is served.
    let pipeline = Pipeline::from_bytes(&pipeline.to_bytes().expect("encode")).expect("reload");
    assert_eq!(pipeline.header().map(|h| h.format_minor), Some(5), "{what}");
    let (header, rows) = tabship_test_support::read_csv(&case.join("rows.csv"));
    let mut builder = TextBatchBuilder::new(pipeline.schema(), &header).expect("header");
    for row in &rows {
        builder.push_row(row.iter()).expect("row");
    }
    let batch = builder.finish();
    let expected = read_expected(&case.join("expected.csv"));
    assert_eq!(expected.len(), rows.len(), "{what}");
    let f32_bits = |v: f64, r: usize| {
        let bits = (v as f32).to_bits();
        assert_eq!(
            f64::from(v as f32),
            v,
            "{what} row {r}: {v} is not a float32 value"
        );
        bits
    };
    match &expected[0] {
        Expected::Value(_) => {
            let Predictions::Values(values) = pipeline.predict_batch(&batch).expect("predict")
            else {
                panic!("{what}: not a regressor");
            };
            for (r, (v, e)) in values.iter().zip(&expected).enumerate() {
                let Expected::Value(bits) = e else {
                    unreachable!()
                };
                assert_eq!(
                    f32_bits(*v, r),
                    *bits,
                    "{what} row {r}: {v} vs {}",
                    f32::from_bits(*bits)
                );
            }
        }
        Expected::Class(..) => {
            let (predictions, proba) = pipeline.predict_batch_with_proba(&batch).expect("predict");
            let Predictions::Classes(classes) = predictions else {
                panic!("{what}: not a classifier");
            };
            for (r, e) in expected.iter().enumerate() {
                let Expected::Class(class, p) = e else {
                    unreachable!()
                };
                assert_eq!(classes[r], *class, "{what} row {r}: class");
                for (c, bits) in p.iter().enumerate() {
                    let got = proba[[r, c]];
                    assert_eq!(
                        f32_bits(got, r),
                        *bits,
                        "{what} row {r} p{c}: {got} vs {}",
                        f32::from_bits(*bits)
                    );
                }
            }
        }
    }
    rows.len()
}

fn cases() -> Vec<PathBuf> {
    let root = tabship_test_support::testdata("import/xgboost");
    let mut cases = Vec::new();
    for version in std::fs::read_dir(&root).expect("testdata/import/xgboost") {
        for case in std::fs::read_dir(version.expect("entry").path()).expect("version dir") {
            cases.push(case.expect("entry").path());
        }
    }
    cases.sort();
    cases
}

#[test]
fn xgboost_models_predict_bit_for_bit() {
    let mut compared = 0;
    let cases = cases();
    assert!(cases.len() >= 6, "fixtures missing: {cases:?}");
    for case in &cases {
        for model in ["model.json", "model.ubj"] {
            if case.join(model).exists() {
                compared += check(case, model);
            }
        }
    }
    eprintln!(
        "{} fixtures, {compared} rows compared bit for bit",
        cases.len()
    );
}
