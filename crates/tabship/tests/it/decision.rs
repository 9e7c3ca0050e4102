//! Format 1.3: a stored decision threshold and a target transform change every prediction path
//! (single record, batch, batch with probabilities) and survive the artifact; probabilities do not
//! change; pipelines without them keep their older format.

use tabship::{
    ClassLabel, DecisionThreshold, Pipeline, Prediction, Predictions, TargetTransform, Value,
};

use crate::common::{batch_for, golden, read_csv};

fn record(header: &[String], row: &csv::StringRecord) -> Vec<(String, Value)> {
    header
        .iter()
        .zip(row.iter())
        .map(|(h, v)| (h.clone(), Value::from(v)))
        .collect()
}

#[test]
fn a_stored_threshold_decides_every_label_and_round_trips() {
    let plain = Pipeline::load(golden("adult_logistic.tabship")).expect("golden loads");
    let (header, records) = read_csv(&golden("adult_inputs.csv"));
    let batch = batch_for(&plain, &header, &records);
    let proba = plain.predict_proba_batch(&batch).expect("proba");
    let mut parts = plain.to_parts();
    parts.decision_threshold = Some(DecisionThreshold {
        positive_class: ClassLabel::Text(">50K".into()),
        threshold: 0.3,
    });
    let bytes = Pipeline::from_parts(parts)
        .expect("valid")
        .to_bytes()
        .expect("encodes");
    let loaded = Pipeline::from_bytes(&bytes).expect("loads");
    assert_eq!(
        loaded.header().map(|h| h.format_version()),
        Some("1.3".into())
    );
    assert_eq!(loaded.decision_threshold().map(|t| t.threshold), Some(0.3));
    let expected: Vec<usize> = proba
        .rows()
        .into_iter()
        .map(|p| usize::from(p[1] >= 0.3))
        .collect();
    assert!(
        expected
            .iter()
            .zip(proba.rows())
            .any(|(&e, p)| e == 1 && p[1] < 0.5),
        "the inputs must hold a row the threshold flips"
    );
    assert_eq!(
        loaded.predict_batch(&batch).expect("predicts"),
        Predictions::Classes(expected.clone())
    );
    let (labels, with_proba) = loaded.predict_batch_with_proba(&batch).expect("predicts");
    assert_eq!(labels, Predictions::Classes(expected.clone()));
    assert_eq!(with_proba, proba, "probabilities do not change");
    for (i, row) in records.iter().enumerate() {
        let Prediction::Class { index, .. } =
            loaded.predict_one(&record(&header, row)).expect("predicts")
        else {
            panic!("a classifier predicts classes");
        };
        assert_eq!(index, expected[i], "row {i}");
    }
}

#[test]
fn a_threshold_on_the_first_class_is_honoured() {
    let plain = Pipeline::load(golden("adult_logistic.tabship")).expect("golden loads");
    let (header, records) = read_csv(&golden("adult_inputs.csv"));
    let batch = batch_for(&plain, &header, &records);
    let proba = plain.predict_proba_batch(&batch).expect("proba");
    let mut parts = plain.to_parts();
    parts.decision_threshold = Some(DecisionThreshold {
        positive_class: ClassLabel::Text("<=50K".into()),
        threshold: 0.9,
    });
    let pipeline = Pipeline::from_parts(parts).expect("valid");
    let expected: Vec<usize> = proba
        .rows()
        .into_iter()
        .map(|p| if p[0] >= 0.9 { 0 } else { 1 })
        .collect();
    assert_eq!(
        pipeline.predict_batch(&batch).expect("predicts"),
        Predictions::Classes(expected)
    );
}

#[test]
fn thresholds_that_do_not_fit_the_classes_are_refused_at_load() {
    let iris = Pipeline::load(golden("iris_logistic.tabship")).expect("golden loads");
    let mut parts = iris.to_parts();
    parts.decision_threshold = Some(DecisionThreshold {
        positive_class: ClassLabel::Text("setosa".into()),
        threshold: 0.5,
    });
    let err = Pipeline::from_parts(parts).expect_err("multiclass refused");
    assert!(err.to_string().contains("binary classifier"), "{err}");
    let ridge = Pipeline::load(golden("diamonds_ridge.tabship")).expect("golden loads");
    let mut parts = ridge.to_parts();
    parts.decision_threshold = Some(DecisionThreshold {
        positive_class: ClassLabel::Integer(1),
        threshold: 0.5,
    });
    let err = Pipeline::from_parts(parts).expect_err("regressor refused");
    assert!(err.to_string().contains("decision_threshold"), "{err}");
    let adult = Pipeline::load(golden("adult_logistic.tabship")).expect("golden loads");
    let mut parts = adult.to_parts();
    parts.target_transform = Some(TargetTransform::Log1p);
    let err = Pipeline::from_parts(parts).expect_err("classifier refused");
    assert!(err.to_string().contains("target_transform"), "{err}");
}

#[test]
fn a_target_transform_is_inverted_on_every_prediction() {
    let plain = Pipeline::load(golden("diamonds_ridge.tabship")).expect("golden loads");
    let (header, records) = read_csv(&golden("diamonds_inputs.csv"));
    let batch = batch_for(&plain, &header, &records);
    let Predictions::Values(raw) = plain.predict_batch(&batch).expect("predicts") else {
        panic!("a regressor predicts values");
    };
    let mut parts = plain.to_parts();
    parts.target_transform = Some(TargetTransform::Log1p);
    let bytes = Pipeline::from_parts(parts)
        .expect("valid")
        .to_bytes()
        .expect("encodes");
    let loaded = Pipeline::from_bytes(&bytes).expect("loads");
    assert_eq!(
        loaded.header().map(|h| h.format_version()),
        Some("1.3".into())
    );
    assert_eq!(loaded.target_transform(), Some(TargetTransform::Log1p));
    let expected: Vec<f64> = raw.iter().map(|z| z.exp_m1()).collect();
    assert_eq!(
        loaded.predict_batch(&batch).expect("predicts"),
        Predictions::Values(expected.clone())
    );
    for (i, row) in records.iter().enumerate() {
        assert_eq!(
            loaded.predict_one(&record(&header, row)).expect("predicts"),
            Prediction::Value(expected[i]),
            "row {i}"
        );
    }
}
