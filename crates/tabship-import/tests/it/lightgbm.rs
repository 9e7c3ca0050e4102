//! Imported LightGBM models predict, through a tabship pipeline, exactly what LightGBM's own
//! `predict` gave on every fixture row (`testdata/import/lightgbm/`), bit for bit.

use std::collections::BTreeMap;

use tabship::encode::{
    CategoricalEncoderSpec, CategoricalMissing, CategoryEncoding, ColumnEncoderSpec, Imputation,
    ImputeStrategy, NumericEncoderSpec,
};
use tabship::{
    ClassLabel, ColumnKind, ColumnSpec, Pipeline, PipelineParts, Schema, Scores, TrainingInfo,
    Value,
};
use tabship_import::lightgbm::{FeatureSource, LightgbmModel, convert, parse};
use tabship_test_support::{read_csv, testdata};

fn fixture(name: &str, ext: &str) -> std::path::PathBuf {
    testdata(&format!("import/lightgbm/{name}.{ext}"))
}

fn model(name: &str) -> LightgbmModel {
    let text = std::fs::read_to_string(fixture(name, "model.txt")).expect("model file");
    parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A pipeline of the model: one column per model feature, categorical ones with the reference
/// data's categories (sorted) as ordinal codes, numeric ones as they are.
fn pipeline(name: &str, m: &LightgbmModel) -> Pipeline {
    let (header, records) = read_csv(&fixture(name, "reference.csv"));
    let categorical = m.categorical_features.clone().unwrap_or_default();
    let mut categories: Vec<Vec<String>> = vec![Vec::new(); m.feature_names.len()];
    for &f in &categorical {
        let col = header
            .iter()
            .position(|h| *h == m.feature_names[f])
            .expect("column");
        let mut seen: Vec<String> = records
            .iter()
            .map(|r| r[col].to_string())
            .filter(|v| !v.is_empty())
            .collect();
        seen.sort();
        seen.dedup();
        categories[f] = seen;
    }
    let sources: Vec<FeatureSource<'_>> = (0..m.feature_names.len())
        .map(|f| {
            if categorical.contains(&f) {
                FeatureSource::Categorical(&categories[f])
            } else {
                FeatureSource::Numeric
            }
        })
        .collect();
    let converted = convert(m, &sources).unwrap_or_else(|e| panic!("{name}: {e}"));
    let columns = m
        .feature_names
        .iter()
        .enumerate()
        .map(|(f, n)| ColumnSpec {
            name: n.clone(),
            kind: if categorical.contains(&f) {
                ColumnKind::Categorical
            } else {
                ColumnKind::Numeric
            },
            nullable: true,
        })
        .collect();
    let encoders = (0..m.feature_names.len())
        .map(|f| {
            if categorical.contains(&f) {
                ColumnEncoderSpec::Categorical(CategoricalEncoderSpec {
                    encoding: CategoryEncoding::Ordinal,
                    categories: categories[f].clone(),
                    other_categories: Vec::new(),
                    missing: CategoricalMissing::Nan,
                    missing_slot: false,
                    fill_category: None,
                })
            } else {
                ColumnEncoderSpec::Numeric(NumericEncoderSpec {
                    imputation: Imputation {
                        strategy: ImputeStrategy::Nan,
                        value: 0.0,
                    },
                    missing_indicator: false,
                    scaling: None,
                })
            }
        })
        .collect();
    let classes = match converted.n_classes {
        Some(k) => (0..k as i64).map(ClassLabel::Integer).collect(),
        None => Vec::new(),
    };
    let parts = PipelineParts {
        schema: Schema::new(columns).expect("schema"),
        encoders,
        task: converted.task,
        classes,
        model: tabship::Model::TreeEnsemble(converted.ensemble),
        training: TrainingInfo {
            name: name.to_string(),
            version: "1".into(),
            created_at: "2026-11-30T00:00:00Z".into(),
            target: "target".into(),
            algorithm: "lightgbm".into(),
            hyperparameters: BTreeMap::new(),
            data_fingerprint: String::new(),
            train_rows: records.len() as u64,
            test_rows: 0,
            library_version: "test".into(),
        },
        metrics: BTreeMap::new(),
        drift_profile: None,
        decision_threshold: None,
        target_transform: None,
    };
    Pipeline::from_parts(parts).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// LightGBM's predictions per row, from the hex f64 bits.
fn expected(name: &str) -> Vec<Vec<f64>> {
    let (header, records) = read_csv(&fixture(name, "expected.csv"));
    let k = header.len() / 2;
    records
        .iter()
        .map(|r| {
            r.iter()
                .skip(k)
                .map(|s| f64::from_bits(u64::from_str_radix(s, 16).expect("hex")))
                .collect()
        })
        .collect()
}

/// Fixture rows as records (empty cells missing) and whether a numeric cell is missing.
fn inputs(name: &str, m: &LightgbmModel) -> Vec<(Vec<(String, Value)>, bool)> {
    let (header, records) = read_csv(&fixture(name, "inputs.csv"));
    let categorical = m.categorical_features.clone().unwrap_or_default();
    records
        .iter()
        .map(|r| {
            let mut numeric_missing = false;
            let record = header
                .iter()
                .zip(r.iter())
                .enumerate()
                .map(|(f, (h, v))| {
                    let value = if v.is_empty() {
                        numeric_missing |= !categorical.contains(&f);
                        Value::Null
                    } else if categorical.contains(&f) {
                        Value::Text(v.to_string())
                    } else {
                        Value::Number(v.parse().expect("number"))
                    };
                    (h.clone(), value)
                })
                .collect();
            (record, numeric_missing)
        })
        .collect()
}

/// (rows compared, of which with a missing number) for one fixture; panics on the first
/// differing bit.
fn compare(name: &str) -> (usize, usize) {
    let m = model(name);
    let p = pipeline(name, &m);
    let rows = inputs(name, &m);
    let expected = expected(name);
    assert_eq!(rows.len(), expected.len());
    let (mut compared, mut with_missing) = (0, 0);
    for (r, ((record, numeric_missing), want)) in rows.iter().zip(&expected).enumerate() {
        if *numeric_missing {
            with_missing += 1;
        }
        let got = match p.score_records(std::slice::from_ref(record)) {
            Ok(Scores::Values(v)) => v,
            Ok(Scores::Classes { proba, .. }) if proba.len() == 2 => vec![proba[1]],
            Ok(Scores::Classes { proba, .. }) => proba,
            Err((_, e)) => panic!("{name} row {r}: {e}"),
        };
        let same = got.len() == want.len()
            && got
                .iter()
                .zip(want)
                .all(|(a, b)| a.to_bits() == b.to_bits());
        assert!(same, "{name} row {r}: tabship {got:?}, LightGBM {want:?}");
        compared += 1;
    }
    (compared, with_missing)
}

#[test]
fn imported_models_predict_lightgbm_bit_for_bit() {
    for name in [
        "binary_adult",
        "regression_diamonds",
        "multiclass_iris",
        "binary_nan",
        "regression_zero_missing",
        "multiclass_categorical",
        "rf_regression",
        "binary_nan_v400",
    ] {
        let (compared, with_missing) = compare(name);
        eprintln!(
            "{name}: {compared} rows equal bit for bit ({with_missing} with a missing number)"
        );
        assert!(compared > 0);
    }
}
