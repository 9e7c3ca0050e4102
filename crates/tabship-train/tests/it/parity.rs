//! The exported model, run by tabship's own code on raw rows, predicts exactly what the smartcore
//! model predicts on the same encoded rows: every label equal, regression within 1e-9 relative.
//! Logistic regression runs smartcore's objective and L-BFGS with a stopping rule of its own
//! (`tabship_train::logistic`): with smartcore's own rule every label equals smartcore's, and with
//! the default tolerance the labels still agree on at least 99% of the rows.

use tabship::{Model, Pipeline, Predictions};
use tabship_train::linear::FittedRegressor;
use tabship_train::logistic::{FittedLogistic, smartcore_reference};
use tabship_train::target::{Target, prepare};
use tabship_train::{ModelKind, TrainOptions, train};

use crate::testdata;

/// Trains through the public entry point, then checks that (a) refitting on the same encoded
/// training rows exports the same parameters, (b) with smartcore's stopping rule (absolute
/// gradient tolerance 1e-8 on the summed loss) every held-out label equals smartcore's
/// `LogisticRegression`'s and (c) with the default tolerance at least 99% do and the accuracy is
/// within 0.01.
fn check_classifier(file: &str, target: &str, min_rows: usize, eval_on_all: bool) {
    let data = testdata(file);
    let trained = train(&data, &TrainOptions::new(target)).expect("trains");
    let pipeline = &trained.pipeline;
    let prepared = prepare(target, data.column(target).expect("target"), None).expect("target");
    let Target::Classes { y, classes } = &prepared.target else {
        panic!("classification")
    };
    let split = &trained.report.split;
    let train_x = pipeline
        .encoder()
        .encode_dense(&data.take(&split.train))
        .expect("encodes");
    let train_y: Vec<usize> = split.train.iter().map(|&r| y[r]).collect();
    let fitted =
        FittedLogistic::fit(&train_x, &train_y, classes.len(), &Default::default()).expect("fits");
    assert!(fitted.converged, "{file}: {} iterations", fitted.iterations);
    assert_eq!(
        &Model::LogisticRegression(fitted.export()),
        pipeline.model(),
        "export is deterministic"
    );

    let mut strict_options = TrainOptions::new(target);
    strict_options.linear.tol = 1e-8 / split.train.len() as f64;
    let strict = train(&data, &strict_options).expect("trains").pipeline;

    let rows: Vec<usize> = if eval_on_all {
        (0..data.n_rows()).collect()
    } else {
        split.test.clone()
    };
    assert!(rows.len() >= min_rows, "{} rows", rows.len());
    let held_out = data.take(&rows);
    let expected = smartcore_reference(
        &train_x,
        &train_y,
        1.0,
        &pipeline.encoder().encode_dense(&held_out).expect("encodes"),
    )
    .expect("smartcore fits");
    let labels = |p: &Pipeline| {
        let Predictions::Classes(labels) = p.predict_batch(&held_out).expect("predicts") else {
            panic!("classes")
        };
        labels
    };
    assert_eq!(
        labels(&strict),
        expected,
        "{file}: labels differ from smartcore"
    );
    let ours = labels(pipeline);
    let agree = ours.iter().zip(&expected).filter(|(a, b)| a == b).count();
    assert!(
        agree as f64 >= 0.99 * rows.len() as f64,
        "{file}: {agree} of {} labels agree with smartcore",
        rows.len()
    );
    let accuracy = |predicted: &[usize]| {
        let right = predicted
            .iter()
            .zip(&rows)
            .filter(|(p, r)| **p == y[**r])
            .count();
        right as f64 / rows.len() as f64
    };
    let (a, b) = (accuracy(&ours), accuracy(&expected));
    assert!(
        (a - b).abs() <= 0.01,
        "{file}: accuracy {a} vs smartcore {b}"
    );
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

/// tabship's own Cholesky ridge gives smartcore's Cholesky and SVD coefficients within 1e-7
/// (relative to the largest coefficient), on one-hot encoded diamonds.
#[test]
fn own_ridge_matches_smartcores_solvers() {
    let data = testdata("diamonds_sample.csv");
    let options = TrainOptions::new("price");
    let trained = train(&data, &options).expect("trains");
    let x = trained
        .pipeline
        .encoder()
        .encode_dense(&data.take(&trained.report.split.train))
        .unwrap();
    let Target::Values(y) = prepare("price", data.column("price").unwrap(), None)
        .unwrap()
        .target
    else {
        panic!("regression")
    };
    let y: Vec<f64> = trained.report.split.train.iter().map(|&r| y[r]).collect();
    for alpha in [1e-3, 1.0, 50.0] {
        let params = tabship_train::LinearParams {
            alpha,
            ..Default::default()
        };
        let own = FittedRegressor::fit(ModelKind::Ridge, &x, &y, &params)
            .expect("fits")
            .export();
        let svd = FittedRegressor::fit(
            ModelKind::Ridge,
            &x,
            &y,
            &tabship_train::LinearParams {
                solver: Some("svd".into()),
                ..params.clone()
            },
        )
        .expect("fits")
        .export();
        let cholesky =
            tabship_train::linear::smartcore_ridge_cholesky(&x, &y, alpha).expect("fits");
        for reference in [&svd, &cholesky] {
            let scale = reference
                .coefficients
                .iter()
                .fold(0.0_f64, |m, w| m.max(w.abs()));
            for (a, b) in own.coefficients.iter().zip(&reference.coefficients) {
                assert!((a - b).abs() <= 1e-7 * scale, "alpha {alpha}: {a} vs {b}");
            }
            assert!((own.intercept - reference.intercept).abs() <= 1e-7 * scale.max(1.0));
        }
    }
}
