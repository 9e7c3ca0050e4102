//! Imbalanced classes and skewed targets: class weights, a stored decision threshold and a
//! log-transformed target, end to end through `train`.

use ndarray::Array2;
use tabship::{
    Batch, ClassLabel, ColumnValues, ParamValue, Pipeline, Predictions, TargetTransform,
};
use tabship_train::logistic::FittedLogistic;
use tabship_train::{ClassWeight, LinearParams, ModelKind, ThresholdRule, TrainOptions, train};

use crate::testdata;

/// adult with five of every six `>50K` rows left out: about 5% positives, like a loan-default
/// table.
fn imbalanced_adult() -> Batch {
    let data = testdata("adult_sample.csv");
    let Some(ColumnValues::Categorical(income)) = data.column("income") else {
        panic!("income is categorical");
    };
    let mut seen_positive = 0;
    let keep: Vec<usize> = (0..data.n_rows())
        .filter(|&i| {
            if income.get(i) != Some(">50K") {
                return true;
            }
            seen_positive += 1;
            seen_positive % 6 == 0
        })
        .collect();
    data.take(&keep)
}

/// Recall of `>50K` on the holdout rows of a trained pipeline.
fn minority_recall(data: &Batch, trained: &tabship_train::Trained) -> f64 {
    let rows = &trained.report.split.test;
    let Some(ColumnValues::Categorical(income)) = data.column("income") else {
        panic!("income is categorical");
    };
    let Predictions::Classes(predicted) = trained
        .pipeline
        .predict_batch(&data.take(rows))
        .expect("predicts")
    else {
        panic!("classes");
    };
    let positive = trained.pipeline.class_index(">50K").expect("class exists");
    let (mut hits, mut total) = (0, 0);
    for (&row, &p) in rows.iter().zip(&predicted) {
        if income.get(row) == Some(">50K") {
            total += 1;
            hits += usize::from(p == positive);
        }
    }
    hits as f64 / total as f64
}

#[test]
fn balanced_class_weights_raise_minority_recall_and_are_recorded() {
    let data = imbalanced_adult();
    let plain = train(&data, &TrainOptions::new("income")).expect("trains");
    let mut options = TrainOptions::new("income");
    options.class_weight = Some(ClassWeight::Balanced);
    let weighted = train(&data, &options).expect("trains");
    let (before, after) = (
        minority_recall(&data, &plain),
        minority_recall(&data, &weighted),
    );
    assert!(before < 0.5 && after > before + 0.3, "{before} -> {after}");
    let h = &weighted.pipeline.training().hyperparameters;
    assert_eq!(
        h.get("class_weight"),
        Some(&ParamValue::Text("balanced".into()))
    );
    let Some(ParamValue::Text(resolved)) = h.get("class_weights") else {
        panic!("resolved weights recorded: {h:?}");
    };
    assert!(
        resolved.starts_with("<=50K=0.5") && resolved.contains(",>50K="),
        "{resolved}"
    );
}

/// Integer class weights are the same objective as repeating each row that many times, so the
/// weighted fit equals the fit on repeated rows (the rows of scikit-learn's definition).
#[test]
fn class_weights_equal_repeated_rows() {
    let x = ndarray::array![
        [0.0, 1.0],
        [1.0, 0.5],
        [2.0, -1.0],
        [3.0, 0.0],
        [0.5, 2.0],
        [2.5, -0.5],
        [1.5, 0.3],
        [0.2, 0.1]
    ];
    let y = [0usize, 0, 1, 1, 0, 1, 2, 2];
    let weights = [1.0, 3.0, 2.0];
    for k in [2, 3] {
        let y: Vec<usize> = y.iter().map(|&c| c.min(k - 1)).collect();
        let mut rows = Vec::new();
        for (i, &c) in y.iter().enumerate() {
            rows.extend(std::iter::repeat_n(i, weights[c] as usize));
        }
        let repeated_x = Array2::from_shape_fn((rows.len(), 2), |(r, j)| x[[rows[r], j]]);
        let repeated_y: Vec<usize> = rows.iter().map(|&r| y[r]).collect();
        let params = LinearParams {
            tol: 1e-10,
            ..LinearParams::default()
        };
        let weighted =
            FittedLogistic::fit_weighted(&x, &y, k, &params, Some(&weights[..k])).expect("fits");
        let repeated = FittedLogistic::fit(&repeated_x, &repeated_y, k, &params).expect("fits");
        assert!(weighted.converged && repeated.converged);
        let (weighted, repeated) = (weighted.export(), repeated.export());
        for (a, b) in weighted
            .coefficients
            .iter()
            .flatten()
            .chain(&weighted.intercepts)
            .zip(
                repeated
                    .coefficients
                    .iter()
                    .flatten()
                    .chain(&repeated.intercepts),
            )
        {
            assert!((a - b).abs() < 1e-6, "k={k}: {a} vs {b}");
        }
        let unweighted = FittedLogistic::fit(&x, &y, k, &params)
            .expect("fits")
            .export();
        assert!(
            (unweighted.intercepts[0] - weighted.intercepts[0]).abs() > 1e-3,
            "the weights change the fit"
        );
    }
}

#[test]
fn trees_refuse_class_weights_naming_the_model() {
    let data = testdata("adult_sample.csv");
    for model in [ModelKind::RandomForest, ModelKind::DecisionTree] {
        let mut options = TrainOptions::new("income");
        options.model = Some(model);
        options.class_weight = Some(ClassWeight::Balanced);
        let err = train(&data, &options).expect_err("refused").to_string();
        assert!(
            err.contains(&format!("`{model}` cannot weight classes"))
                && err.contains("--model logistic"),
            "{err}"
        );
    }
    let mut options = TrainOptions::new("price");
    options.class_weight = Some(ClassWeight::Balanced);
    let err = train(&testdata("diamonds_sample.csv"), &options)
        .expect_err("refused")
        .to_string();
    assert!(err.contains("apply to classification"), "{err}");
}

#[test]
fn an_f1_threshold_is_chosen_on_the_holdout_stored_and_applied() {
    let data = imbalanced_adult();
    let plain = train(&data, &TrainOptions::new("income")).expect("trains");
    let mut options = TrainOptions::new("income");
    options.threshold = Some(ThresholdRule::F1);
    let tuned = train(&data, &options).expect("trains");
    let t = tuned
        .pipeline
        .decision_threshold()
        .expect("a threshold is stored");
    assert_eq!(t.positive_class, ClassLabel::Text(">50K".into()));
    assert!(t.threshold < 0.5, "{}", t.threshold);
    // The same model, only the labels move: probabilities equal the plain fit's.
    let holdout = data.take(&tuned.report.split.test);
    assert_eq!(
        tuned.pipeline.predict_proba_batch(&holdout).expect("proba"),
        plain.pipeline.predict_proba_batch(&holdout).expect("proba")
    );
    assert!(minority_recall(&data, &tuned) > minority_recall(&data, &plain) + 0.1);
    assert!(tuned.report.metrics["f1_macro"] > plain.report.metrics["f1_macro"]);
    let h = &tuned.pipeline.training().hyperparameters;
    assert_eq!(h.get("threshold"), Some(&ParamValue::Text("f1".into())));
    assert_eq!(
        h.get("decision_threshold"),
        Some(&ParamValue::Float(t.threshold))
    );
    let loaded = Pipeline::from_bytes(&tuned.pipeline.to_bytes().expect("encodes")).expect("loads");
    assert_eq!(loaded.decision_threshold(), Some(t));
    assert_eq!(loaded.header().map(|h| h.format_minor), Some(3));
}

#[test]
fn precision_and_recall_targets_and_an_explicit_positive_class() {
    let data = imbalanced_adult();
    let mut options = TrainOptions::new("income");
    options.threshold = Some(ThresholdRule::Recall(0.8));
    let recall = train(&data, &options).expect("trains");
    assert!(minority_recall(&data, &recall) >= 0.8);
    options.threshold = Some(ThresholdRule::Precision(0.9));
    options.positive_class = Some("<=50K".into());
    let precise = train(&data, &options).expect("trains");
    let t = precise.pipeline.decision_threshold().expect("stored");
    assert_eq!(t.positive_class, ClassLabel::Text("<=50K".into()));
    options.positive_class = Some("rich".into());
    let err = train(&data, &options)
        .expect_err("unknown class")
        .to_string();
    assert!(
        err.contains("`rich` is not a class") && err.contains("`<=50K`, `>50K`"),
        "{err}"
    );
}

#[test]
fn thresholds_need_a_binary_target_and_a_holdout() {
    let mut options = TrainOptions::new("species");
    options.threshold = Some(ThresholdRule::F1);
    let err = train(&testdata("iris.csv"), &options)
        .expect_err("multiclass")
        .to_string();
    assert!(err.contains("needs two classes, the target has 3"), "{err}");
    options.threshold = Some(ThresholdRule::F1);
    options.test_fraction = 0.0;
    let err = options.validate().expect_err("no holdout").to_string();
    assert!(err.contains("--test-fraction is 0"), "{err}");
    options.threshold = None;
    options.positive_class = Some("setosa".into());
    let err = options.validate().expect_err("no threshold").to_string();
    assert!(err.contains("give a --threshold"), "{err}");
}

#[test]
fn a_log1p_target_is_fitted_on_the_log_and_predicts_the_original_scale() {
    let data = testdata("diamonds_sample.csv");
    let mut options = TrainOptions::new("price");
    options.target_transform = Some(TargetTransform::Log1p);
    let trained = train(&data, &options).expect("trains");
    let pipeline = &trained.pipeline;
    assert_eq!(pipeline.target_transform(), Some(TargetTransform::Log1p));
    let rows = &trained.report.split.test;
    let Predictions::Values(predicted) =
        pipeline.predict_batch(&data.take(rows)).expect("predicts")
    else {
        panic!("values");
    };
    let Some(ColumnValues::Numeric(price)) = data.column("price") else {
        panic!("price is numeric");
    };
    // Metrics are on the original scale: the MAE of the predictions in dollars.
    let mae = rows
        .iter()
        .zip(&predicted)
        .map(|(&r, p)| (price[r] - p).abs())
        .sum::<f64>()
        / rows.len() as f64;
    assert!((mae - trained.report.metrics["mae"]).abs() < 1e-6 * mae);
    assert!(
        predicted.iter().all(|p| *p > 0.0),
        "exp keeps prices positive"
    );
    // The stored linear model predicts the log: without the transform it gives ln(1 + price).
    let mut parts = pipeline.to_parts();
    parts.target_transform = None;
    let raw = Pipeline::from_parts(parts).expect("valid");
    let Predictions::Values(logs) = raw.predict_batch(&data.take(rows)).expect("predicts") else {
        panic!("values");
    };
    for (l, p) in logs.iter().zip(&predicted) {
        assert_eq!(l.exp_m1(), *p);
    }
    assert_eq!(
        pipeline.training().hyperparameters.get("target_transform"),
        Some(&ParamValue::Text("log1p".into()))
    );
}

#[test]
fn a_log1p_target_refuses_values_at_or_below_minus_one_naming_the_row() {
    let data = Batch::new(vec![
        ("x".into(), ColumnValues::Numeric(vec![1.0, 2.0, 3.0, 4.0])),
        ("y".into(), ColumnValues::Numeric(vec![0.5, 2.0, -1.0, 7.5])),
    ])
    .expect("batch");
    let mut options = TrainOptions::new("y");
    options.target_transform = Some(TargetTransform::Log1p);
    let err = train(&data, &options).expect_err("refused").to_string();
    assert!(
        err.contains("target column `y`") && err.contains("row 3 has `-1`"),
        "{err}"
    );
    let mut options = TrainOptions::new("income");
    options.target_transform = Some(TargetTransform::Log1p);
    let err = train(&testdata("adult_sample.csv"), &options)
        .expect_err("classification")
        .to_string();
    assert!(err.contains("applies to regression"), "{err}");
}
