//! The two prediction entries, the record path and the batch path, agree with each other and
//! with the per-row conveniences, for classifiers and regressors, bit for bit.

use std::collections::HashMap;

use tabship::{Error, Pipeline, Prediction, Predictions, Scores, Value};

use crate::common::{batch_for, golden, read_csv};

/// The golden inputs of `artifact` as records (every field as text, as a CSV gives it) and as a
/// batch.
fn inputs(
    pipeline: &Pipeline,
    csv: &str,
    rows: usize,
) -> (Vec<HashMap<String, Value>>, tabship::Batch) {
    let (header, records) = read_csv(&golden(csv));
    let records = &records[..rows.min(records.len())];
    let maps = records
        .iter()
        .map(|r| {
            header
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.clone(), Value::from(v)))
                .collect()
        })
        .collect();
    (maps, batch_for(pipeline, &header, records))
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn records_and_batches_score_alike_for_a_classifier() {
    let pipeline = Pipeline::load(golden("adult_forest.tabship")).expect("loads");
    // More records than one chunk of the record path.
    let (records, batch) = inputs(&pipeline, "adult_inputs.csv", 700);
    let Scores::Classes { classes, proba } = pipeline.score_records(&records).expect("scores")
    else {
        panic!("a classifier scores classes");
    };
    let Scores::Classes {
        classes: batch_classes,
        proba: batch_proba,
    } = pipeline.score_batch(&batch).expect("scores")
    else {
        panic!("a classifier scores classes");
    };
    assert_eq!(classes, batch_classes);
    assert_eq!(bits(&proba), bits(&batch_proba));
    let (labels, array) = pipeline.predict_batch_with_proba(&batch).expect("predicts");
    assert_eq!(labels, Predictions::Classes(classes.clone()));
    assert_eq!(bits(&proba), bits(array.as_slice().expect("contiguous")));
    let k = pipeline.classes().len();
    for (i, record) in records.iter().enumerate().step_by(97) {
        let Prediction::Class { index, .. } = pipeline.predict_one(record).expect("predicts")
        else {
            panic!("a classifier predicts classes");
        };
        assert_eq!(index, classes[i]);
        let one = pipeline.predict_proba_one(record).expect("predicts");
        assert_eq!(bits(&one), bits(&proba[i * k..(i + 1) * k]));
    }
}

#[test]
fn records_and_batches_score_alike_for_a_regressor() {
    let pipeline = Pipeline::load(golden("diamonds_forest.tabship")).expect("loads");
    let (records, batch) = inputs(&pipeline, "diamonds_inputs.csv", 300);
    let Scores::Values(values) = pipeline.score_records(&records).expect("scores") else {
        panic!("a regressor scores values");
    };
    assert_eq!(
        pipeline.score_batch(&batch).expect("scores"),
        Scores::Values(values.clone())
    );
    let Predictions::Values(batch_values) = pipeline.predict_batch(&batch).expect("predicts")
    else {
        panic!("a regressor predicts values");
    };
    assert_eq!(bits(&values), bits(&batch_values));
    assert_eq!(
        pipeline.predict_one(&records[3]).expect("predicts"),
        Prediction::Value(values[3])
    );
}

#[test]
fn the_record_path_names_the_first_bad_record() {
    let pipeline = Pipeline::load(golden("diamonds_forest.tabship")).expect("loads");
    let (mut records, _) = inputs(&pipeline, "diamonds_inputs.csv", 5);
    records[3].insert("carat".into(), Value::from("heavy"));
    records[4].remove("carat");
    let (index, error) = pipeline.score_records(&records).expect_err("a bad record");
    assert_eq!(index, 3);
    assert!(
        matches!(&error, Error::InvalidValue { column, received, .. } if column == "carat" && received == "heavy"),
        "{error}"
    );
    let (index, error) = pipeline
        .score_records(&records[4..])
        .expect_err("a bad record");
    assert_eq!(index, 0);
    assert!(matches!(error, Error::MissingColumn { .. }), "{error}");
}
