//! Evaluation in the core: labels read once (missing and unknown skipped and counted), and the
//! metrics the trainer stores, bit for bit those of `metrics::classification_metrics`.

use tabship::{
    CategoricalValues, ColumnValues, Error, Evaluation, Label, Pipeline, Predictions, Skipped,
    Truth, metrics,
};

use crate::common::{batch_for, golden, read_csv};

#[test]
fn a_classifier_is_scored_as_the_trainer_scores_its_holdout() {
    let pipeline = Pipeline::load(golden("adult_forest.tabship")).expect("loads");
    let (header, records) = read_csv(&golden("adult_inputs.csv"));
    let at = header.iter().position(|h| h == "income").expect("target");
    let mut texts: Vec<Option<&str>> = records.iter().map(|r| r.get(at)).collect();
    // Empty is missing; `NA` is a category like any other unless the policy names it.
    texts[1] = Some(" ");
    texts[2] = None;
    texts[3] = Some("a label never seen");
    let column = ColumnValues::Categorical(CategoricalValues::from_options(texts));
    let labels = pipeline.labels("income", &column).expect("reads");
    assert_eq!(
        labels.skipped,
        Skipped {
            missing_target: 2,
            unknown_labels: 1
        }
    );
    assert_eq!(labels.rows.len(), records.len() - 3);
    assert_eq!(&labels.rows[..2], &[0, 4]);
    let batch = batch_for(&pipeline, &header, &records).take(&labels.rows);
    let evaluation = pipeline.evaluate(&batch, &labels.truth).expect("evaluates");
    let Truth::Classes(truth) = &labels.truth else {
        panic!("a classifier's truth is classes");
    };
    let (predicted, proba) = pipeline.predict_batch_with_proba(&batch).expect("predicts");
    let Predictions::Classes(predicted) = predicted else {
        panic!("a classifier predicts classes");
    };
    let want = metrics::classification_metrics(truth, &predicted, &proba);
    let got = evaluation.metrics();
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>()
    );
    for (name, value) in &want {
        assert_eq!(got[name].to_bits(), value.to_bits(), "{name}");
    }
    assert!(
        matches!(evaluation, Evaluation::Classification(ref r) if r.rows == truth.len() as u64)
    );
    assert!(matches!(
        pipeline.evaluate(&batch, &Truth::Values(vec![0.0; batch.n_rows()])),
        Err(Error::WrongTask { .. })
    ));
    assert!(matches!(
        pipeline.evaluate(&batch, &Truth::Classes(vec![0])),
        Err(Error::InvalidBatch(_))
    ));
}

#[test]
fn a_regressor_reads_numbers_and_names_the_row_of_text() {
    let pipeline = Pipeline::load(golden("diamonds_ridge.tabship")).expect("loads");
    assert_eq!(
        pipeline.label("price", " 12.5 ").expect("reads"),
        Label::Value(12.5)
    );
    assert_eq!(
        pipeline.label("price", "NA").expect("reads"),
        Label::Missing
    );
    let column =
        ColumnValues::Categorical(CategoricalValues::from_options([Some("1"), Some("heavy")]));
    let err = pipeline.labels("price", &column).expect_err("text");
    assert!(
        matches!(&err, Error::InvalidValue { column, row: Some(2), .. } if column == "price"),
        "{err}"
    );
    let numbers = ColumnValues::Numeric(vec![1.0, f64::NAN, 3.0]);
    let labels = pipeline.labels("price", &numbers).expect("reads");
    assert_eq!(labels.truth, Truth::Values(vec![1.0, 3.0]));
    assert_eq!(labels.skipped.missing_target, 1);
}
