//! Committed artifacts must keep loading, keep their bytes and keep their predictions exactly.
//! These files are shared with the Python suite; regenerate them only on purpose
//! (`scripts/make-golden.sh`).

use tabship::{Pipeline, Predictions, Value};

use crate::common::{batch_for, golden, read_csv};

/// (name, inputs, format minor): linear pipelines are written as format 1.0, trees need 1.1, a
/// drift profile 1.2, models imported from XGBoost and LightGBM 1.5.
const GOLDEN: [(&str, &str, u16); 10] = [
    ("iris_logistic", "../iris.csv", 0),
    ("adult_logistic", "adult_inputs.csv", 0),
    ("diamonds_ridge", "diamonds_inputs.csv", 0),
    ("iris_tree", "../iris.csv", 1),
    ("adult_forest", "adult_inputs.csv", 1),
    ("diamonds_forest", "diamonds_inputs.csv", 1),
    ("adult_logistic_profile", "adult_inputs.csv", 2),
    ("diamonds_forest_profile", "diamonds_inputs.csv", 2),
    ("adult_xgboost", "adult_inputs.csv", 5),
    ("adult_lightgbm", "adult_inputs.csv", 5),
];

#[test]
fn golden_artifacts_reserialize_to_identical_bytes() {
    for (name, _, minor) in GOLDEN {
        let bytes = std::fs::read(golden(&format!("{name}.tabship"))).expect("golden exists");
        let pipeline = Pipeline::from_bytes(&bytes).expect("golden loads");
        assert_eq!(
            pipeline.header().map(|h| h.format_minor),
            Some(minor),
            "{name}"
        );
        assert_eq!(
            pipeline.to_bytes().expect("encodes"),
            bytes,
            "{name}: format drifted"
        );
        assert_eq!(pipeline.training().version, "golden");
    }
}

#[test]
fn golden_predictions_are_exact() {
    for (name, inputs, _) in GOLDEN {
        let pipeline = Pipeline::load(golden(&format!("{name}.tabship"))).expect("golden loads");
        let (header, records) = read_csv(&golden(inputs));
        let (expected_header, expected) = read_csv(&golden(&format!("{name}.expected.csv")));
        assert_eq!(records.len(), expected.len());
        let batch = batch_for(&pipeline, &header, &records);
        let prediction_col = header.len();
        match pipeline.predict_batch(&batch).expect("predicts") {
            Predictions::Classes(classes) => {
                let (_, proba) = pipeline.predict_batch_with_proba(&batch).expect("proba");
                for (i, row) in expected.iter().enumerate() {
                    assert_eq!(
                        pipeline.classes()[classes[i]].to_string(),
                        row[prediction_col],
                        "{name} row {i}"
                    );
                    for (k, p) in proba.row(i).iter().enumerate() {
                        let want: f64 = row[prediction_col + 1 + k].parse().expect("float");
                        assert_eq!(
                            p.to_bits(),
                            want.to_bits(),
                            "{name} row {i} {}",
                            expected_header[prediction_col + 1 + k]
                        );
                    }
                }
            }
            Predictions::Values(values) => {
                for (i, row) in expected.iter().enumerate() {
                    let want: f64 = row[prediction_col].parse().expect("float");
                    assert_eq!(values[i].to_bits(), want.to_bits(), "{name} row {i}");
                }
            }
        }
    }
}

#[test]
fn single_records_match_the_batch_exactly() {
    single_records_match_the_batch("adult_logistic");
    single_records_match_the_batch("adult_forest");
    single_records_match_the_batch("adult_xgboost");
    single_records_match_the_batch("adult_lightgbm");
}

fn single_records_match_the_batch(name: &str) {
    let pipeline = Pipeline::load(golden(&format!("{name}.tabship"))).expect("loads");
    let (header, records) = read_csv(&golden("adult_inputs.csv"));
    let batch = batch_for(&pipeline, &header, &records);
    let proba = pipeline.predict_proba_batch(&batch).expect("proba");
    for (i, r) in records.iter().enumerate() {
        let record: Vec<(&str, Value)> = header
            .iter()
            .map(String::as_str)
            .zip(r.iter().map(Value::from))
            .collect();
        let p = pipeline.predict_proba_one(&record).expect("predicts");
        assert_eq!(p, proba.row(i).to_vec(), "{name} row {i}");
    }
}

#[test]
fn unseen_categories_are_counted_not_refused() {
    let pipeline = Pipeline::load(golden("adult_logistic.tabship")).expect("loads");
    let (header, records) = read_csv(&golden("adult_inputs.csv"));
    let batch = batch_for(&pipeline, &header, &records);
    pipeline
        .predict_batch(&batch)
        .expect("unseen categories predict");
    let stats = pipeline.encoding_stats();
    assert_eq!(stats.rows, records.len() as u64);
    // Atlantis and Holand-Netherlands (absent from the training sample) are Unknown.
    assert_eq!(stats.column("native_country").expect("column").unknown, 2);
    assert_eq!(stats.column("workclass").expect("column").unknown, 1);
    // `bachelors` differs from `Bachelors` only in case: matching is exact.
    assert_eq!(stats.column("education").expect("column").unknown, 1);
    assert_eq!(stats.column("age").expect("column").missing, 1);
    pipeline.reset_encoding_stats();
    assert_eq!(pipeline.encoding_stats().rows, 0);
}
