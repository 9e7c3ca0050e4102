//! Prediction from records: the documented input policy, with errors that name the column.

use std::collections::HashMap;

use tabship::{Error, Pipeline, Prediction, Value};

use crate::common::golden;

fn adult() -> Pipeline {
    Pipeline::load(golden("adult_logistic.tabship")).expect("loads")
}

fn person() -> HashMap<String, Value> {
    [
        ("age", Value::from(39.0)),
        ("workclass", Value::from("State-gov")),
        ("education", Value::from("Bachelors")),
        ("education_num", Value::from(13.0)),
        ("marital_status", Value::from("Never-married")),
        ("occupation", Value::from("Adm-clerical")),
        ("relationship", Value::from("Not-in-family")),
        ("race", Value::from("White")),
        ("gender", Value::from("Male")),
        ("capital_gain", Value::from(2174.0)),
        ("capital_loss", Value::from(0.0)),
        ("hours_per_week", Value::from(40.0)),
        ("native_country", Value::from("United-States")),
        ("an_extra_column", Value::from("ignored")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

#[test]
fn a_record_predicts_a_label() {
    let p = adult();
    match p.predict_one(&person()).expect("predicts") {
        Prediction::Class { label, index } => {
            assert_eq!(label, &p.classes()[index]);
            assert_eq!(label.to_string(), "<=50K");
        }
        Prediction::Value(v) => panic!("classifier returned {v}"),
    }
}

#[test]
fn missing_column_is_named() {
    let mut r = person();
    r.remove("hours_per_week");
    let err = adult().predict_one(&r).unwrap_err();
    assert!(matches!(err, Error::MissingColumn { .. }));
    assert_eq!(
        err.to_string(),
        "missing column `hours_per_week`: the pipeline needs it as a number"
    );
}

#[test]
fn text_in_a_numeric_column_is_named_with_the_value() {
    let mut r = person();
    r.insert("age".into(), Value::from("forty"));
    let err = adult().predict_one(&r).unwrap_err().to_string();
    assert_eq!(err, "column `age`: expected a number, got `forty`");
    // Numeric text is accepted.
    r.insert("age".into(), Value::from("39"));
    let p = adult();
    assert_eq!(
        p.predict_proba_one(&r).unwrap(),
        p.predict_proba_one(&person()).unwrap()
    );
}

#[test]
fn nan_and_null_are_missing_infinity_is_refused() {
    let p = adult();
    let mut r = person();
    r.insert("age".into(), Value::Number(f64::NAN));
    let nan = p.predict_proba_one(&r).expect("NaN is missing");
    r.insert("age".into(), Value::Null);
    assert_eq!(p.predict_proba_one(&r).expect("null is missing"), nan);
    r.insert("age".into(), Value::Number(37.0)); // the training median
    assert_eq!(p.predict_proba_one(&r).expect("median"), nan);
    r.insert("age".into(), Value::Number(f64::INFINITY));
    let err = p.predict_one(&r).unwrap_err().to_string();
    assert!(
        err.starts_with("column `age`: expected a finite number"),
        "{err}"
    );
}

#[test]
fn probabilities_from_a_regressor_are_refused() {
    let p = Pipeline::load(golden("diamonds_ridge.tabship")).expect("loads");
    let r = [("carat", Value::from(0.5))];
    let err = p.predict_proba_one(&r).unwrap_err();
    assert!(matches!(err, Error::WrongTask { .. }));
}

#[test]
fn unknown_categories_give_a_prediction_and_a_count() {
    let p = adult();
    let mut r = person();
    r.insert("native_country".into(), Value::from("Atlantis"));
    r.insert("occupation".into(), Value::from(7.0)); // a number in a categorical column
    p.predict_one(&r).expect("unknowns predict");
    let stats = p.encoding_stats();
    assert_eq!(stats.column("native_country").unwrap().unknown, 1);
    assert_eq!(stats.column("occupation").unwrap().unknown, 1);
    assert_eq!(stats.rows, 1);
}

#[test]
fn concurrent_predictions_agree_and_count_every_row() {
    let p = std::sync::Arc::new(adult());
    let expected = p.predict_proba_one(&person()).unwrap();
    p.reset_encoding_stats();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let p = p.clone();
            std::thread::spawn(move || {
                let r = person();
                (0..250)
                    .all(|_| p.predict_proba_one(&r).unwrap() == p.predict_proba_one(&r).unwrap())
            })
        })
        .collect();
    for h in handles {
        assert!(h.join().unwrap());
    }
    assert_eq!(p.encoding_stats().rows, 2000);
    assert_eq!(p.predict_proba_one(&person()).unwrap(), expected);
}
