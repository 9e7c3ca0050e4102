//! Prediction from records: the documented input policy, with errors that name the column.

use std::collections::HashMap;

use tabship::{Error, Pipeline, Prediction, Value};

use crate::common::{adult_person, golden};

fn adult() -> Pipeline {
    Pipeline::load(golden("adult_logistic.tabship")).expect("loads")
}

/// [`adult_person`] with a column the model does not know.
fn person() -> HashMap<String, Value> {
    let mut record = adult_person();
    record.insert("an_extra_column".to_owned(), Value::from("ignored"));
    record
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

#[test]
fn usual_na_spellings_are_missing_in_numeric_columns() {
    let p = adult();
    let mut expected = person();
    expected.insert("age".into(), Value::Null);
    let imputed = p.predict_proba_one(&expected).expect("null age");
    for na in [
        "NA", "null", "NULL", "None", "?", "-", "N/A", "nan", "#N/A", "<NA>",
    ] {
        let mut r = person();
        r.insert("age".into(), Value::from(na));
        let proba = p.predict_proba_one(&r).expect(na);
        assert_eq!(proba, imputed, "`{na}` is missing, as null is");
    }
    assert_eq!(p.encoding_stats().column("age").expect("age").missing, 11);
    // Text that is no spelling of missing stays an error.
    let mut r = person();
    r.insert("age".into(), Value::from("n.a."));
    assert!(p.predict_one(&r).is_err());
}

#[test]
fn a_pipeline_reads_input_with_its_own_na_values() {
    let mut parts = adult().to_parts();
    parts.schema = parts
        .schema
        .with_na_values(tabship::NaValues::new(false, ["n.a.", "Private"]))
        .expect("a valid policy");
    let p = Pipeline::from_bytes(
        &Pipeline::from_parts(parts)
            .expect("valid")
            .to_bytes()
            .expect("bytes"),
    )
    .expect("reloads");
    assert_eq!(
        p.header().map(|h| h.format_version()),
        Some("1.3".to_owned())
    );
    assert_eq!(p.schema().na_values.values, ["Private", "n.a."]);
    let mut r = person();
    r.insert("age".into(), Value::from("n.a."));
    r.insert("workclass".into(), Value::from("Private"));
    p.predict_one(&r).expect("both are missing");
    let stats = p.encoding_stats();
    assert_eq!(
        (
            stats.column("age").expect("age").missing,
            stats.column("workclass").expect("w").missing
        ),
        (1, 1)
    );
    // Without the defaults, `NA` is text again.
    r.insert("age".into(), Value::from("NA"));
    assert!(p.predict_one(&r).is_err());
    // The same policy applies to batches built from text.
    let header = [
        "age",
        "workclass",
        "education",
        "education_num",
        "marital_status",
        "occupation",
        "relationship",
        "race",
        "gender",
        "capital_gain",
        "capital_loss",
        "hours_per_week",
        "native_country",
    ];
    let mut builder = tabship::TextBatchBuilder::new(p.schema(), &header).expect("header");
    builder
        .push_row([
            "n.a.",
            "Private",
            "Bachelors",
            "13",
            "Never-married",
            "Adm-clerical",
            "Not-in-family",
            "White",
            "Male",
            "2174",
            "0",
            "40",
            "United-States",
        ])
        .expect("n.a. is missing");
    assert_eq!(
        p.predict_batch(&builder.finish()).expect("predicts").len(),
        1
    );
}

#[test]
fn default_na_spellings_stay_categories() {
    // `NA` (Namibia) or `None` can be real categories: the defaults only apply to numbers.
    let p = adult();
    let mut r = person();
    r.insert("native_country".into(), Value::from("NA"));
    p.predict_one(&r).expect("predicts");
    let stats = p.encoding_stats();
    assert_eq!(stats.column("native_country").expect("n").unknown, 1);
    assert_eq!(stats.column("native_country").expect("n").missing, 0);
}
