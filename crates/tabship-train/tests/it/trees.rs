//! Exported trees and forests predict exactly what smartcore predicts: every label equal (each tree
//! and the vote), regression values bit-identical.

use tabship::model::TreeEnsemble;
use tabship::{Batch, Model, Pipeline, PipelineParts, Predictions};
use tabship_train::target::{Target, prepare};
use tabship_train::trees::reference;
use tabship_train::{ModelKind, TrainOptions, Trained, train};

use crate::testdata;

fn options(target: &str, kind: ModelKind) -> TrainOptions {
    let mut o = TrainOptions::new(target);
    o.model = Some(kind);
    o.trees.n_trees = 12;
    o.trees.max_depth = Some(8);
    o.trees.threads = 2;
    o
}

/// One pipeline per tree of `trained`, to look at each tree's own predictions.
fn single_tree_pipelines(trained: &Trained) -> Vec<Pipeline> {
    let parts: PipelineParts = trained.pipeline.to_parts();
    let Model::TreeEnsemble(ensemble) = &parts.model else {
        panic!("a tree model")
    };
    ensemble
        .trees
        .iter()
        .map(|tree| {
            let mut p = parts.clone();
            p.model = Model::TreeEnsemble(TreeEnsemble::new(ensemble.task, vec![tree.clone()]));
            Pipeline::from_parts(p).expect("one-tree pipeline is valid")
        })
        .collect()
}

fn classes(p: &Pipeline, batch: &Batch) -> Vec<usize> {
    match p.predict_batch(batch).expect("predicts") {
        Predictions::Classes(c) => c,
        Predictions::Values(_) => panic!("classifier"),
    }
}

fn values(p: &Pipeline, batch: &Batch) -> Vec<f64> {
    match p.predict_batch(batch).expect("predicts") {
        Predictions::Values(v) => v,
        Predictions::Classes(_) => panic!("regressor"),
    }
}

#[test]
fn tree_classifiers_match_smartcore_tree_by_tree_and_by_vote() {
    let data = testdata("adult_sample.csv");
    let target = prepare("income", data.column("income").unwrap(), None).unwrap();
    let Target::Classes { y, classes: labels } = &target.target else {
        panic!()
    };
    for kind in [ModelKind::DecisionTree, ModelKind::RandomForest] {
        let options = options("income", kind);
        let trained = train(&data, &options).expect("trains");
        let split = &trained.report.split;
        assert!(split.test.len() >= 1000);
        let encoder = trained.pipeline.encoder();
        let x_train = encoder.encode_dense(&data.take(&split.train)).unwrap();
        let y_train: Vec<usize> = split.train.iter().map(|&r| y[r]).collect();
        let test = data.take(&split.test);
        let x_test = encoder.encode_dense(&test).unwrap();
        let mut params = options.trees.clone();
        params.seed = options.seed;
        let per_tree =
            reference::classifier_tree_votes(kind, &x_train, &y_train, &x_test, &params).unwrap();

        for (t, (pipeline, expected)) in single_tree_pipelines(&trained)
            .iter()
            .zip(&per_tree)
            .enumerate()
        {
            assert_eq!(&classes(pipeline, &test), expected, "{kind}: tree {t}");
        }
        let votes: Vec<usize> = (0..split.test.len())
            .map(|r| {
                let mut count = vec![0u32; labels.len()];
                for tree in &per_tree {
                    count[tree[r]] += 1;
                }
                // smartcore's which_max: the first class with the most votes.
                (0..count.len()).fold(0, |best, k| if count[k] > count[best] { k } else { best })
            })
            .collect();
        assert_eq!(
            classes(&trained.pipeline, &test),
            votes,
            "{kind}: ensemble vote"
        );
        let proba = trained.pipeline.predict_proba_batch(&test).unwrap();
        assert!(
            proba
                .rows()
                .into_iter()
                .all(|p| (p.sum() - 1.0).abs() < 1e-9)
        );
        assert!(
            trained.report.metrics["accuracy"] > 0.8,
            "{kind}: {:?}",
            trained.report.metrics
        );
    }
}

#[test]
fn tree_regressors_match_smartcore_bit_for_bit() {
    let data = testdata("diamonds_sample.csv");
    let Target::Values(y) = prepare("price", data.column("price").unwrap(), None)
        .unwrap()
        .target
    else {
        panic!()
    };
    for kind in [
        ModelKind::DecisionTree,
        ModelKind::RandomForest,
        ModelKind::ExtraTrees,
    ] {
        let options = options("price", kind);
        let trained = train(&data, &options).expect("trains");
        let split = &trained.report.split;
        assert!(split.test.len() >= 1000);
        let encoder = trained.pipeline.encoder();
        let x_train = encoder.encode_dense(&data.take(&split.train)).unwrap();
        let y_train: Vec<f64> = split.train.iter().map(|&r| y[r]).collect();
        let test = data.take(&split.test);
        let x_test = encoder.encode_dense(&test).unwrap();
        let mut params = options.trees.clone();
        params.seed = options.seed;
        let ours = values(&trained.pipeline, &test);
        let expected: Vec<f64> = if kind == ModelKind::ExtraTrees {
            // The one-tree fits reproduce smartcore's own multi-tree extra-trees forest.
            reference::extra_trees_forest(&x_train, &y_train, &x_test, &params).unwrap()
        } else {
            let per_tree =
                reference::regressor_tree_values(kind, &x_train, &y_train, &x_test, &params)
                    .unwrap();
            for (t, (p, want)) in single_tree_pipelines(&trained)
                .iter()
                .zip(&per_tree)
                .enumerate()
            {
                let got = values(p, &test);
                assert!(
                    got.iter()
                        .zip(want)
                        .all(|(a, b)| a.to_bits() == b.to_bits()),
                    "{kind}: tree {t}"
                );
            }
            (0..split.test.len())
                .map(|r| per_tree.iter().fold(0.0, |s, tree| s + tree[r]) / per_tree.len() as f64)
                .collect()
        };
        for (i, (a, b)) in ours.iter().zip(&expected).enumerate() {
            assert_eq!(
                a.to_bits(),
                b.to_bits(),
                "{kind}: row {i}: ours {a}, smartcore {b}"
            );
        }
        assert!(
            trained.report.metrics["r2"] > 0.85,
            "{kind}: {:?}",
            trained.report.metrics
        );
    }
}

#[test]
fn the_seed_makes_forests_reproducible() {
    let data = testdata("iris.csv");
    let mut a = options("species", ModelKind::RandomForest);
    a.trees.threads = 1;
    let mut b = options("species", ModelKind::RandomForest);
    b.trees.threads = 2;
    let pa = train(&data, &a).unwrap().pipeline.to_parts();
    let pb = train(&data, &b).unwrap().pipeline.to_parts();
    assert_eq!(pa.model, pb.model, "thread count does not change the trees");
    let mut c = a.clone();
    c.seed = 7;
    assert_ne!(
        train(&data, &c).unwrap().pipeline.to_parts().model,
        pa.model
    );
}

#[test]
fn extra_trees_classification_is_refused_clearly() {
    let data = testdata("iris.csv");
    let err = train(&data, &options("species", ModelKind::ExtraTrees))
        .unwrap_err()
        .to_string();
    assert!(err.contains("extra-trees"), "{err}");
}
