//! The exported model, run by tabship's own code on raw rows, predicts exactly what the smartcore
//! model predicts on the same encoded rows: every label equal, regression within 1e-9 relative.

use tabship::{Model, Pipeline, Predictions};
use tabship_train::linear::{FittedLogistic, FittedRegressor};
use tabship_train::target::{Target, prepare};
use tabship_train::{ModelKind, TrainOptions, train};

use crate::testdata;

/// Trains through the public entry point, then refits smartcore on the same encoded training rows
/// and checks that (a) the refit exports the same parameters and (b) predictions agree on the
/// held-out rows.
fn check_classifier(file: &str, target: &str, min_rows: usize, eval_on_all: bool) {
    let data = testdata(file);
    let trained = train(&data, &TrainOptions::new(target)).expect("trains");
    let pipeline = &trained.pipeline;
    let prepared = prepare(target, data.column(target).expect("target"), None).expect("target");
    let Target::Classes { y, classes } = &prepared.target else {
        panic!("classification")
    };
    let train_x = pipeline
        .encoder()
        .encode_dense(&data.take(&trained.report.split.train))
        .expect("encodes");
    let train_y: Vec<usize> = trained.report.split.train.iter().map(|&r| y[r]).collect();
    let fitted =
        FittedLogistic::fit(&train_x, &train_y, classes.len(), &Default::default()).expect("fits");
    assert_eq!(
        &Model::LogisticRegression(fitted.export()),
        pipeline.model(),
        "export is deterministic"
    );

    let rows: Vec<usize> = if eval_on_all {
        (0..data.n_rows()).collect()
    } else {
        trained.report.split.test.clone()
    };
    assert!(rows.len() >= min_rows, "{} rows", rows.len());
    let held_out = data.take(&rows);
    let expected = fitted
        .smartcore_predict(&pipeline.encoder().encode_dense(&held_out).expect("encodes"))
        .expect("smartcore predicts");
    let Predictions::Classes(ours) = pipeline.predict_batch(&held_out).expect("predicts") else {
        panic!()
    };
    assert_eq!(ours, expected, "{file}: labels differ from smartcore");
}

#[test]
fn adult_logistic_matches_smartcore_on_held_out_rows() {
    check_classifier("adult_sample.csv", "income", 1000, false);
}

#[test]
fn iris_multiclass_logistic_matches_smartcore() {
    check_classifier("iris.csv", "species", 150, true);
}

#[test]
fn regressors_match_smartcore_within_1e_9() {
    let data = testdata("diamonds_sample.csv");
    for kind in [
        ModelKind::Linear,
        ModelKind::Ridge,
        ModelKind::Lasso,
        ModelKind::ElasticNet,
    ] {
        let mut options = TrainOptions::new("price");
        options.model = Some(kind);
        // smartcore's interior-point lasso does not converge here for small penalties.
        options.linear.alpha = match kind {
            ModelKind::Lasso => 10.0,
            ModelKind::ElasticNet => 0.01,
            _ => 0.5,
        };
        let trained = train(&data, &options).expect("trains");
        let pipeline: &Pipeline = &trained.pipeline;
        let split = &trained.report.split;
        let Target::Values(y) = prepare("price", data.column("price").unwrap(), None)
            .unwrap()
            .target
        else {
            panic!("regression")
        };
        let train_x = pipeline
            .encoder()
            .encode_dense(&data.take(&split.train))
            .unwrap();
        let train_y: Vec<f64> = split.train.iter().map(|&r| y[r]).collect();
        let fitted = FittedRegressor::fit(kind, &train_x, &train_y, &options.linear).expect("fits");
        assert_eq!(&Model::LinearRegression(fitted.export()), pipeline.model());

        assert!(split.test.len() >= 1000);
        let held_out = data.take(&split.test);
        let expected = fitted
            .smartcore_predict(&pipeline.encoder().encode_dense(&held_out).unwrap())
            .unwrap();
        let Predictions::Values(ours) = pipeline.predict_batch(&held_out).unwrap() else {
            panic!()
        };
        for (i, (a, b)) in ours.iter().zip(&expected).enumerate() {
            let rel = (a - b).abs() / b.abs().max(1.0);
            assert!(
                rel <= 1e-9,
                "{kind}: row {i}: ours {a}, smartcore {b}, relative {rel:e}"
            );
        }
        let r2 = trained.report.metrics["r2"];
        assert!(r2 > 0.85, "{kind}: r2 {r2}");
    }
}
