//! Forests of the histogram learner end to end: they train for every task and tree model, a
//! seed gives the same forest whatever the thread count, missing numbers can reach them as NaN,
//! and the options they need are refused elsewhere with the reason.

use tabship::{Model, Pipeline};
use tabship_train::{ModelKind, TrainOptions, TreeLearner, train};

use crate::testdata;

fn options(target: &str, kind: ModelKind, threads: usize) -> TrainOptions {
    let mut o = TrainOptions::new(target);
    o.model = Some(kind);
    o.trees.learner = TreeLearner::Hist;
    o.trees.n_trees = 12;
    // A single unlimited tree overfits adult (about 0.80); 10 levels keep the bar meaningful.
    o.trees.max_depth = Some(10);
    o.trees.threads = threads;
    o
}

fn trees(p: &Pipeline) -> Vec<tabship::model::TreeSpec> {
    match &p.to_parts().model {
        Model::TreeEnsemble(e) => e.trees.clone(),
        _ => panic!("a tree model"),
    }
}

#[test]
fn every_tree_model_trains_and_beats_a_constant_guess() {
    for kind in [
        ModelKind::DecisionTree,
        ModelKind::RandomForest,
        ModelKind::ExtraTrees,
    ] {
        let adult = train(&testdata("adult_sample.csv"), &options("income", kind, 2))
            .unwrap_or_else(|e| panic!("{kind}: {e}"));
        // About 76% of adult earns <=50K: a forest must do clearly better.
        let accuracy = adult.report.metrics["accuracy"];
        assert!(accuracy > 0.8, "{kind} adult accuracy {accuracy}");
        let diamonds = train(&testdata("diamonds_sample.csv"), &options("price", kind, 2))
            .unwrap_or_else(|e| panic!("{kind}: {e}"));
        let r2 = diamonds.report.metrics["r2"];
        assert!(r2 > 0.9, "{kind} diamonds r2 {r2}");
        let iris = train(&testdata("iris.csv"), &options("species", kind, 2))
            .unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert!(iris.report.metrics["accuracy"] > 0.85, "{kind} iris");
        // Leaves of classifiers hold class distributions that sum to one.
        for tree in trees(&iris.pipeline) {
            for leaf in tree.leaf_values.0.chunks_exact(3) {
                assert!((leaf.iter().sum::<f64>() - 1.0).abs() < 1e-12, "{leaf:?}");
            }
        }
    }
}

#[test]
fn a_seed_gives_the_same_forest_whatever_the_thread_count() {
    let data = testdata("adult_sample.csv");
    for kind in [ModelKind::RandomForest, ModelKind::ExtraTrees] {
        let one = train(&data, &options("income", kind, 1)).expect("trains");
        let three = train(&data, &options("income", kind, 3)).expect("trains");
        assert_eq!(trees(&one.pipeline), trees(&three.pipeline), "{kind}");
        let mut other_seed = options("income", kind, 1);
        other_seed.seed = 43;
        let other = train(&data, &other_seed).expect("trains");
        assert_ne!(trees(&one.pipeline), trees(&other.pipeline), "{kind}");
    }
}

#[test]
fn missing_numbers_reach_hist_trees_and_are_refused_elsewhere() {
    let data = testdata("adult_sample.csv");
    let mut o = options("income", ModelKind::RandomForest, 2);
    o.encoders.numeric_impute = Some(tabship::encode::ImputeStrategy::Nan);
    let trained = train(&data, &o).expect("hist trees take NaN");
    assert!(trained.report.metrics["accuracy"] > 0.8);
    o.trees.learner = TreeLearner::Smartcore;
    let e = train(&data, &o).unwrap_err().to_string();
    assert!(
        e.contains("invalid option `impute`") && e.contains("--tree-learner smartcore"),
        "{e}"
    );
    o.model = Some(ModelKind::Logistic);
    let e = train(&data, &o).unwrap_err().to_string();
    assert!(e.contains("`logistic`"), "{e}");
}

#[test]
fn extra_trees_classify_only_with_the_hist_learner() {
    let mut o = options("income", ModelKind::ExtraTrees, 2);
    o.trees.learner = TreeLearner::Smartcore;
    let e = train(&testdata("adult_sample.csv"), &o)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no extra-trees classifier") && e.contains("hist"),
        "{e}"
    );
}
