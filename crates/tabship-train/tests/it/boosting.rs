//! Gradient boosting end to end: holdout metrics on the repo's datasets, early stopping,
//! class weights, cross-validation, retraining and the saved model's round trip.

use tabship::model::{Combination, Link};
use tabship::{Model, ParamValue, Pipeline, Predictions};
use tabship_train::{
    ClassWeight, ModelKind, RetrainOptions, TrainOptions, cross_validate,
    retrain::recorded_options, train,
};

use crate::testdata;

fn boosting(target: &str) -> TrainOptions {
    let mut o = TrainOptions::new(target);
    o.model = Some(ModelKind::GradientBoosting);
    o.trees.threads = 2;
    o
}

fn combination(p: &Pipeline) -> Combination {
    match &p.to_parts().model {
        Model::TreeEnsemble(e) => e.combination,
        other => panic!("a tree ensemble, got {other:?}"),
    }
}

#[test]
fn adult_binary_holdout_is_sane_and_saved_as_a_logistic_sum() {
    let trained = train(&testdata("adult_sample.csv"), &boosting("income")).unwrap();
    let m = &trained.report.metrics;
    assert!(m["accuracy"] > 0.85, "{m:?}");
    assert!(m["log_loss"] < 0.33, "{m:?}");
    let Combination::Sum { link, base_score } = combination(&trained.pipeline) else {
        panic!("summed")
    };
    assert_eq!(link, Link::Logistic);
    assert!(
        base_score < 0.0,
        "fewer rows earn >50K: negative log-odds, got {base_score}"
    );
    let h = &trained.pipeline.training().hyperparameters;
    assert_eq!(h["learning_rate"], ParamValue::Float(0.1));
    assert_eq!(h["max_leaves"], ParamValue::Int(31));
    assert_eq!(h["min_samples_leaf"], ParamValue::Int(20));
    assert_eq!(trained.pipeline.training().algorithm, "gradient-boosting");
    let back = Pipeline::from_bytes(&trained.pipeline.to_bytes().unwrap()).unwrap();
    assert_eq!(back.to_parts().model, trained.pipeline.to_parts().model);
}

#[test]
fn iris_multiclass_holdout_is_sane_with_one_tree_per_class_and_round() {
    let mut o = boosting("species");
    o.trees.n_trees = 50;
    o.boosting.min_samples_leaf = 5;
    let trained = train(&testdata("iris.csv"), &o).unwrap();
    assert!(
        trained.report.metrics["accuracy"] > 0.9,
        "{:?}",
        trained.report.metrics
    );
    let Model::TreeEnsemble(e) = &trained.pipeline.to_parts().model else {
        panic!("trees")
    };
    assert_eq!(e.trees.len(), 50 * 3);
    assert!(matches!(
        e.combination,
        Combination::Sum { link: Link::Softmax, base_score } if base_score == 0.0
    ));
}

#[test]
fn diamonds_regression_holdout_is_sane() {
    let trained = train(&testdata("diamonds_sample.csv"), &boosting("price")).unwrap();
    assert!(
        trained.report.metrics["r2"] > 0.95,
        "{:?}",
        trained.report.metrics
    );
    assert!(matches!(
        combination(&trained.pipeline),
        Combination::Sum {
            link: Link::Identity,
            ..
        }
    ));
}

#[test]
fn early_stopping_reports_the_kept_round_and_keeps_its_trees() {
    let mut o = boosting("income");
    o.trees.n_trees = 400;
    o.boosting.learning_rate = 0.5;
    o.boosting.early_stopping_rounds = Some(5);
    let trained = train(&testdata("adult_sample.csv"), &o).unwrap();
    let b = trained.report.boosting.clone().expect("a boosting summary");
    assert!(
        b.rounds_kept < b.rounds_fitted && b.rounds_fitted < 400,
        "{b:?}"
    );
    assert_eq!(b.rounds_fitted, b.rounds_kept + 5);
    assert!(
        b.validation_loss.is_some_and(|l| l > 0.0 && l < 0.4),
        "{b:?}"
    );
    let Model::TreeEnsemble(e) = &trained.pipeline.to_parts().model else {
        panic!("trees")
    };
    assert_eq!(e.trees.len(), b.rounds_kept);
    assert!(b.early_stopping_note().unwrap().contains("log loss"));
}

#[test]
fn class_weights_predict_the_minority_more_often() {
    let data = testdata("adult_sample.csv");
    let plain = train(&data, &boosting("income")).unwrap();
    let mut o = boosting("income");
    o.class_weight = Some("balanced".parse::<ClassWeight>().unwrap());
    o.validate().unwrap();
    let weighted = train(&data, &o).unwrap();
    // Balanced weights make the rarer `>50K` predicted far more often.
    let positives = |p: &Pipeline| match p.predict_batch(&data).unwrap() {
        Predictions::Classes(c) => c.iter().filter(|&&k| k == 1).count(),
        Predictions::Values(_) => panic!("a classifier"),
    };
    let (before, after) = (positives(&plain.pipeline), positives(&weighted.pipeline));
    assert!(after as f64 > 1.3 * before as f64, "{before} -> {after}");
    assert!(
        matches!(
            weighted.pipeline.training().hyperparameters.get("class_weights"),
            Some(ParamValue::Text(t)) if t.contains("<=50K=")
        ),
        "{:?}",
        weighted.pipeline.training().hyperparameters
    );
}

#[test]
fn cross_validation_and_retraining_work() {
    let data = testdata("iris.csv");
    let mut o = boosting("species");
    o.trees.n_trees = 20;
    o.boosting.min_samples_leaf = 5;
    let cv = cross_validate(&data, &o, 3).unwrap();
    assert!(cv["accuracy"].0 > 0.9, "{cv:?}");
    let trained = train(&data, &o).unwrap();
    let recorded = recorded_options(&trained.pipeline, &RetrainOptions::default()).unwrap();
    assert_eq!(recorded.model, Some(ModelKind::GradientBoosting));
    assert_eq!(recorded.boosting, o.boosting);
    assert_eq!(recorded.trees.n_trees, 20);
}

#[test]
fn bad_boosting_options_name_the_option() {
    for (set, option) in [
        (
            Box::new(|o: &mut TrainOptions| o.boosting.learning_rate = 0.0)
                as Box<dyn Fn(&mut TrainOptions)>,
            "learning-rate",
        ),
        (Box::new(|o| o.boosting.max_leaves = 1), "max-leaves"),
        (Box::new(|o| o.boosting.l2 = -1.0), "l2"),
        (
            Box::new(|o| o.boosting.min_child_weight = f64::NAN),
            "min-child-weight",
        ),
        (
            Box::new(|o| o.boosting.validation_fraction = 1.0),
            "validation-fraction",
        ),
        (
            Box::new(|o| o.boosting.early_stopping_rounds = Some(0)),
            "early-stopping-rounds",
        ),
    ] {
        let mut o = boosting("y");
        set(&mut o);
        let e = o.validate().unwrap_err().to_string();
        assert!(e.contains(&format!("`{option}`")), "{option}: {e}");
    }
}
