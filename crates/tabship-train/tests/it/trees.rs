//! Exported trees and forests predict exactly what smartcore predicts. A forest is fitted as
//! chunks of `CHUNK_TREES` trees, each exactly the forest smartcore fits with the chunk's seed, so
//! every chunk of the exported ensemble is compared with smartcore's own forest: labels equal,
//! values and probabilities bit-identical.

use tabship::model::TreeEnsemble;
use tabship::{Batch, Model, Pipeline, Predictions};
use tabship_train::target::{Target, prepare};
use tabship_train::trees::{chunks, reference};
use tabship_train::{ModelKind, TrainOptions, Trained, TreeParams, train};

use crate::testdata;

fn options(target: &str, kind: ModelKind) -> TrainOptions {
    let mut o = TrainOptions::new(target);
    o.model = Some(kind);
    o.trees.n_trees = 25;
    o.trees.max_depth = Some(8);
    o.trees.threads = 2;
    o
}

fn tree_params(o: &TrainOptions) -> TreeParams {
    TreeParams {
        seed: o.seed,
        ..o.trees.clone()
    }
}

/// One pipeline per chunk of `trained`'s forest.
fn chunk_pipelines(trained: &Trained) -> Vec<Pipeline> {
    let parts = trained.pipeline.to_parts();
    let Model::TreeEnsemble(ensemble) = &parts.model else {
        panic!("a tree model")
    };
    chunks(ensemble.trees.len())
        .into_iter()
        .map(|(first, n)| {
            let mut p = parts.clone();
            let trees = ensemble.trees[first..first + n].to_vec();
            p.model = Model::TreeEnsemble(TreeEnsemble::new(ensemble.task, trees));
            Pipeline::from_parts(p).expect("a chunk is a valid pipeline")
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

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// Trains, then returns the pipeline, the encoded train/test matrices and the test batch.
struct Fitted {
    trained: Trained,
    x_train: ndarray::Array2<f64>,
    x_test: ndarray::Array2<f64>,
    test: Batch,
    train_rows: Vec<usize>,
}

fn fit(file: &str, options: &TrainOptions) -> Fitted {
    let data = testdata(file);
    let trained = train(&data, options).expect("trains");
    let split = trained.report.split.clone();
    assert!(split.test.len() >= 1000 || file == "iris.csv");
    let encoder = trained.pipeline.encoder();
    let x_train = encoder
        .encode_dense(&data.take(&split.train))
        .expect("encodes the training rows");
    let test = if file == "iris.csv" {
        data.clone()
    } else {
        data.take(&split.test)
    };
    let x_test = encoder.encode_dense(&test).expect("encodes the test rows");
    Fitted {
        trained,
        x_train,
        x_test,
        test,
        train_rows: split.train,
    }
}

#[test]
fn decision_tree_classifier_matches_smartcore() {
    let options = options("income", ModelKind::DecisionTree);
    let f = fit("adult_sample.csv", &options);
    let data = testdata("adult_sample.csv");
    let Target::Classes { y, .. } = prepare("income", data.column("income").unwrap(), None)
        .unwrap()
        .target
    else {
        panic!()
    };
    let y_train: Vec<usize> = f.train_rows.iter().map(|&r| y[r]).collect();
    let expected =
        reference::decision_tree_classes(&f.x_train, &y_train, &f.x_test, &tree_params(&options))
            .unwrap();
    assert_eq!(classes(&f.trained.pipeline, &f.test), expected);
}

#[test]
fn binary_forest_matches_smartcore_forests_chunk_by_chunk() {
    let options = options("income", ModelKind::RandomForest);
    let f = fit("adult_sample.csv", &options);
    let data = testdata("adult_sample.csv");
    let Target::Classes { y, .. } = prepare("income", data.column("income").unwrap(), None)
        .unwrap()
        .target
    else {
        panic!()
    };
    let y01: Vec<f64> = f.train_rows.iter().map(|&r| y[r] as f64).collect();
    let expected = reference::regressor_chunk_values(
        ModelKind::RandomForest,
        &f.x_train,
        &y01,
        &f.x_test,
        &tree_params(&options),
    )
    .unwrap();
    let pipelines = chunk_pipelines(&f.trained);
    assert_eq!(pipelines.len(), 3, "25 trees: chunks of 10, 10 and 5");
    for (c, (p, want)) in pipelines.iter().zip(&expected).enumerate() {
        let proba = p.predict_proba_batch(&f.test).unwrap();
        assert_eq!(
            bits(&proba.column(1).to_vec()),
            bits(want),
            "chunk {c}: share of class 1"
        );
    }
    let proba = f.trained.pipeline.predict_proba_batch(&f.test).unwrap();
    assert!(
        proba
            .rows()
            .into_iter()
            .all(|p| (p.sum() - 1.0).abs() < 1e-9)
    );
    assert!(
        f.trained.report.metrics["accuracy"] > 0.8,
        "{:?}",
        f.trained.report.metrics
    );
}

#[test]
fn multiclass_forest_matches_smartcore_forests_chunk_by_chunk() {
    let options = options("species", ModelKind::RandomForest);
    let f = fit("iris.csv", &options);
    let data = testdata("iris.csv");
    let Target::Classes { y, .. } = prepare("species", data.column("species").unwrap(), None)
        .unwrap()
        .target
    else {
        panic!()
    };
    let y_train: Vec<usize> = f.train_rows.iter().map(|&r| y[r]).collect();
    let expected = reference::classifier_chunk_classes(
        &f.x_train,
        &y_train,
        &f.x_test,
        &tree_params(&options),
    )
    .unwrap();
    for (c, (p, want)) in chunk_pipelines(&f.trained)
        .iter()
        .zip(&expected)
        .enumerate()
    {
        assert_eq!(&classes(p, &f.test), want, "chunk {c}");
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
        let f = fit("diamonds_sample.csv", &options);
        let y_train: Vec<f64> = f.train_rows.iter().map(|&r| y[r]).collect();
        let params = tree_params(&options);
        if kind == ModelKind::DecisionTree {
            let expected =
                reference::decision_tree_values(&f.x_train, &y_train, &f.x_test, &params).unwrap();
            assert_eq!(
                bits(&values(&f.trained.pipeline, &f.test)),
                bits(&expected),
                "{kind}"
            );
        } else {
            let expected =
                reference::regressor_chunk_values(kind, &f.x_train, &y_train, &f.x_test, &params)
                    .unwrap();
            for (c, (p, want)) in chunk_pipelines(&f.trained)
                .iter()
                .zip(&expected)
                .enumerate()
            {
                assert_eq!(bits(&values(p, &f.test)), bits(want), "{kind}: chunk {c}");
            }
        }
        assert!(
            f.trained.report.metrics["r2"] > 0.85,
            "{kind}: {:?}",
            f.trained.report.metrics
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
