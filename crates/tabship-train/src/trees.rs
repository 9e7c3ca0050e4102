//! Decision trees, random forests and extra trees fitted with smartcore and exported into
//! [`tabship::model::TreeEnsemble`].
//!
//! smartcore keeps fitted nodes private; with its `serde` feature a fitted model serialises, so each
//! tree is read once through `serde_json::Value` (exact for `f64`, no text round trip) into the
//! mirror structs below and converted to tabship's struct-of-arrays trees. smartcore's layout never
//! leaves this module.
//!
//! Forests are fitted as independent one-tree smartcore forests with seeds `seed + t`, `threads` at a
//! time: each tree is a genuine smartcore random-forest tree (stratified bootstrap for classifiers,
//! `m` features tried per split), and the ensemble combines them with smartcore's rules (majority
//! vote with ties to the lowest class; mean of tree values). For extra trees (no bootstrap) this is
//! exactly smartcore's `ExtraTreesRegressor` with `n_trees` trees and seed `seed`.

use std::sync::atomic::{AtomicUsize, Ordering};

use ndarray::Array2;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use smartcore::ensemble::extra_trees_regressor::{
    ExtraTreesRegressor, ExtraTreesRegressorParameters,
};
use smartcore::ensemble::random_forest_classifier::{
    RandomForestClassifier, RandomForestClassifierParameters,
};
use smartcore::ensemble::random_forest_regressor::{
    RandomForestRegressor, RandomForestRegressorParameters,
};
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::tree::decision_tree_classifier::{
    DecisionTreeClassifier, DecisionTreeClassifierParameters, SplitCriterion,
};
use smartcore::tree::decision_tree_regressor::{
    DecisionTreeRegressor, DecisionTreeRegressorParameters,
};
use tabship::Task;
use tabship::artifact::packed::PackedF64;
use tabship::model::{LEAF, TreeEnsemble, TreeSpec};

use crate::linear::to_smartcore;
use crate::options::{MaxFeatures, ModelKind, TreeParams};
use crate::{Error, Result};

type Matrix = DenseMatrix<f64>;

#[derive(Deserialize)]
struct MirrorNode<O> {
    output: O,
    split_feature: usize,
    split_value: Option<f64>,
    true_child: Option<usize>,
    false_child: Option<usize>,
}

#[derive(Deserialize)]
struct MirrorClassifierTree {
    nodes: Vec<MirrorNode<usize>>,
    classes: Vec<i32>,
}

#[derive(Deserialize)]
struct MirrorClassifierForest {
    trees: Option<Vec<MirrorClassifierTree>>,
}

#[derive(Deserialize)]
struct MirrorBaseTree {
    nodes: Vec<MirrorNode<f64>>,
}

#[derive(Deserialize)]
struct MirrorRegressorTree {
    tree_regressor: Option<MirrorBaseTree>,
}

#[derive(Deserialize)]
struct MirrorBaseForest {
    trees: Option<Vec<MirrorBaseTree>>,
}

#[derive(Deserialize)]
struct MirrorRegressorForest {
    forest_regressor: Option<MirrorBaseForest>,
}

fn fit_error(model: &'static str) -> impl Fn(smartcore::error::Failed) -> Error {
    move |e| Error::Fit {
        model,
        message: e.to_string(),
    }
}

/// Reads a fitted smartcore model's private fields through its serde form.
fn mirror<T: serde::Serialize, M: DeserializeOwned>(model: &T, what: &'static str) -> Result<M> {
    let value = serde_json::to_value(model).map_err(|e| Error::Fit {
        model: what,
        message: format!("could not read the fitted tree: {e}"),
    })?;
    serde_json::from_value(value).map_err(|e| Error::Fit {
        model: what,
        message: format!("unexpected smartcore tree layout: {e}"),
    })
}

/// Converts mirrored nodes to a tree spec. `leaf_output` gives a leaf's class (classifiers) or
/// value (regressors); classifier leaf distributions are filled in later from the training rows.
fn to_spec<O: Copy>(
    nodes: &[MirrorNode<O>],
    classifier: bool,
    leaf_output: impl Fn(O) -> f64,
) -> Result<TreeSpec> {
    let mut spec = TreeSpec::default();
    let mut leaves = 0u32;
    for node in nodes {
        match (node.true_child, node.false_child) {
            (Some(left), Some(right)) => {
                spec.feature.0.push(node.split_feature as u32);
                spec.threshold.0.push(node.split_value.unwrap_or(f64::NAN));
                spec.left.0.push(left as u32);
                spec.right.0.push(right as u32);
            }
            (None, _) => {
                spec.feature.0.push(0);
                spec.threshold.0.push(0.0);
                spec.left.0.push(LEAF);
                spec.right.0.push(leaves);
                leaves += 1;
                if classifier {
                    spec.leaf_class.0.push(leaf_output(node.output) as u32);
                } else {
                    spec.leaf_values.0.push(leaf_output(node.output));
                }
            }
            (Some(_), None) => {
                return Err(Error::Fit {
                    model: "tree",
                    message: "a smartcore node has a left child but no right child".into(),
                });
            }
        }
    }
    Ok(spec)
}

/// The leaf index `x` reaches in `tree` (the same walk as tabship's predictor).
fn leaf_of(tree: &TreeSpec, x: ndarray::ArrayView1<'_, f64>) -> usize {
    let mut i = 0usize;
    loop {
        if tree.left.0[i] == LEAF {
            return tree.right.0[i] as usize;
        }
        let go_left = x[tree.feature.0[i] as usize] <= tree.threshold.0[i];
        i = if go_left {
            tree.left.0[i]
        } else {
            tree.right.0[i]
        } as usize;
    }
}

/// Fills each leaf's class distribution with the class frequencies of the training rows that reach
/// it. A leaf no training row reaches (not expected) gets its own class with probability 1.
fn fill_distributions(tree: &mut TreeSpec, x: &Array2<f64>, y: &[usize], n_classes: usize) {
    let n_leaves = tree.leaf_class.len();
    let mut counts = vec![0u64; n_leaves * n_classes];
    for (row, &class) in x.rows().into_iter().zip(y) {
        counts[leaf_of(tree, row) * n_classes + class] += 1;
    }
    let mut values = Vec::with_capacity(counts.len());
    for (leaf, c) in counts.chunks_exact(n_classes).enumerate() {
        let total: u64 = c.iter().sum();
        if total == 0 {
            values.extend(
                (0..n_classes).map(|k| f64::from(u8::from(k as u32 == tree.leaf_class.0[leaf]))),
            );
        } else {
            values.extend(c.iter().map(|&n| n as f64 / total as f64));
        }
    }
    tree.leaf_values = PackedF64(values);
}

fn m_for(max_features: MaxFeatures, n_features: usize) -> Option<usize> {
    let m = match max_features {
        MaxFeatures::Sqrt => return None, // smartcore's default: floor(sqrt(p))
        MaxFeatures::All => n_features,
        MaxFeatures::Count(c) => c,
        MaxFeatures::Fraction(f) => (f * n_features as f64).ceil() as usize,
    };
    Some(m.clamp(1, n_features.max(1)))
}

/// Runs `fit(t)` for `t in 0..n` on `threads` threads; results come back in tree order.
fn in_parallel<T: Send>(
    n: usize,
    threads: usize,
    fit: impl Fn(usize) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    let next = AtomicUsize::new(0);
    let threads = threads.clamp(1, n.max(1));
    let mut slots: Vec<Option<Result<T>>> = (0..n).map(|_| None).collect();
    let results: Vec<Vec<(usize, Result<T>)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let t = next.fetch_add(1, Ordering::Relaxed);
                        if t >= n {
                            break done;
                        }
                        done.push((t, fit(t)));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    for (t, result) in results.into_iter().flatten() {
        slots[t] = Some(result);
    }
    slots
        .into_iter()
        .map(|s| {
            s.unwrap_or_else(|| {
                Err(Error::Fit {
                    model: "forest",
                    message: "a training thread stopped early".into(),
                })
            })
        })
        .collect()
}

fn check_classes(classes: &[i32], n_classes: usize) -> Result<()> {
    if classes.iter().copied().eq(0..n_classes as i32) {
        Ok(())
    } else {
        Err(Error::Data(format!(
            "the tree saw {} of {n_classes} classes in its training rows",
            classes.len()
        )))
    }
}

/// Fits a tree classifier (`decision-tree` or `random-forest`) on encoded rows and class indices.
pub fn fit_classifier(
    kind: ModelKind,
    x: &Array2<f64>,
    y: &[usize],
    n_classes: usize,
    params: &TreeParams,
) -> Result<TreeEnsemble> {
    let matrix: Matrix = to_smartcore(x)?;
    let labels: Vec<i32> = y.iter().map(|&c| c as i32).collect();
    let mut trees: Vec<TreeSpec> = match kind {
        ModelKind::DecisionTree => {
            let parameters = DecisionTreeClassifierParameters {
                criterion: SplitCriterion::Gini,
                max_depth: params.max_depth,
                min_samples_leaf: params.min_samples_leaf,
                min_samples_split: params.min_samples_split,
                seed: Some(params.seed),
            };
            let model = DecisionTreeClassifier::fit(&matrix, &labels, parameters)
                .map_err(fit_error("decision-tree"))?;
            let m: MirrorClassifierTree = mirror(&model, "decision-tree")?;
            check_classes(&m.classes, n_classes)?;
            vec![to_spec(&m.nodes, true, |o| o as f64)?]
        }
        ModelKind::RandomForest => {
            let m = m_for(params.max_features, x.ncols());
            in_parallel(params.n_trees, params.threads, |t| {
                let parameters = RandomForestClassifierParameters {
                    criterion: SplitCriterion::Gini,
                    max_depth: params.max_depth,
                    min_samples_leaf: params.min_samples_leaf,
                    min_samples_split: params.min_samples_split,
                    n_trees: 1,
                    m,
                    keep_samples: false,
                    seed: params.seed.wrapping_add(t as u64),
                };
                let model = RandomForestClassifier::fit(&matrix, &labels, parameters)
                    .map_err(fit_error("random-forest"))?;
                let forest: MirrorClassifierForest = mirror(&model, "random-forest")?;
                let tree = forest
                    .trees
                    .and_then(|mut t| t.pop())
                    .ok_or_else(|| Error::Fit {
                        model: "random-forest",
                        message: "smartcore returned no tree".into(),
                    })?;
                check_classes(&tree.classes, n_classes)?;
                to_spec(&tree.nodes, true, |o| o as f64)
            })?
        }
        other => {
            return Err(Error::InvalidOption {
                option: "model",
                reason: format!(
                    "`{other}` is not a tree classifier (smartcore has extra trees for regression only)"
                ),
            });
        }
    };
    for tree in &mut trees {
        fill_distributions(tree, x, y, n_classes);
    }
    Ok(TreeEnsemble::new(Task::Classification, trees))
}

/// Fits a tree regressor (`decision-tree`, `random-forest` or `extra-trees`).
pub fn fit_regressor(
    kind: ModelKind,
    x: &Array2<f64>,
    y: &[f64],
    params: &TreeParams,
) -> Result<TreeEnsemble> {
    let matrix: Matrix = to_smartcore(x)?;
    let y = y.to_vec();
    let trees = match kind {
        ModelKind::DecisionTree => {
            let parameters = DecisionTreeRegressorParameters {
                max_depth: params.max_depth,
                min_samples_leaf: params.min_samples_leaf,
                min_samples_split: params.min_samples_split,
                seed: Some(params.seed),
            };
            let model = DecisionTreeRegressor::fit(&matrix, &y, parameters)
                .map_err(fit_error("decision-tree"))?;
            let m: MirrorRegressorTree = mirror(&model, "decision-tree")?;
            let tree = m.tree_regressor.ok_or_else(|| Error::Fit {
                model: "decision-tree",
                message: "smartcore returned no tree".into(),
            })?;
            vec![to_spec(&tree.nodes, false, |o| o)?]
        }
        ModelKind::RandomForest | ModelKind::ExtraTrees => {
            let m = m_for(params.max_features, x.ncols());
            let name = if kind == ModelKind::RandomForest {
                "random-forest"
            } else {
                "extra-trees"
            };
            in_parallel(params.n_trees, params.threads, |t| {
                let seed = params.seed.wrapping_add(t as u64);
                let forest: MirrorRegressorForest = if kind == ModelKind::RandomForest {
                    let parameters = RandomForestRegressorParameters {
                        max_depth: params.max_depth,
                        min_samples_leaf: params.min_samples_leaf,
                        min_samples_split: params.min_samples_split,
                        n_trees: 1,
                        m,
                        keep_samples: false,
                        seed,
                    };
                    let model = RandomForestRegressor::fit(&matrix, &y, parameters)
                        .map_err(fit_error("random-forest"))?;
                    mirror(&model, "random-forest")?
                } else {
                    let parameters = ExtraTreesRegressorParameters {
                        max_depth: params.max_depth,
                        min_samples_leaf: params.min_samples_leaf,
                        min_samples_split: params.min_samples_split,
                        n_trees: 1,
                        m,
                        keep_samples: false,
                        seed,
                    };
                    let model = ExtraTreesRegressor::fit(&matrix, &y, parameters)
                        .map_err(fit_error("extra-trees"))?;
                    mirror(&model, "extra-trees")?
                };
                let tree = forest
                    .forest_regressor
                    .and_then(|f| f.trees)
                    .and_then(|mut t| t.pop())
                    .ok_or_else(|| Error::Fit {
                        model: name,
                        message: "smartcore returned no tree".into(),
                    })?;
                to_spec(&tree.nodes, false, |o| o)
            })?
        }
        other => {
            return Err(Error::InvalidOption {
                option: "model",
                reason: format!("`{other}` is not a tree model"),
            });
        }
    };
    Ok(TreeEnsemble::new(Task::Regression, trees))
}

/// smartcore's own predictions of the same model, for parity checks: every tree of a forest is
/// refitted as smartcore fitted it and its prediction taken from smartcore's `predict`.
pub mod reference {
    use super::*;

    /// Per tree, smartcore's predicted class index for every row of `x_test`.
    pub fn classifier_tree_votes(
        kind: ModelKind,
        x_train: &Array2<f64>,
        y_train: &[usize],
        x_test: &Array2<f64>,
        params: &TreeParams,
    ) -> Result<Vec<Vec<usize>>> {
        let matrix = to_smartcore(x_train)?;
        let test = to_smartcore(x_test)?;
        let labels: Vec<i32> = y_train.iter().map(|&c| c as i32).collect();
        let to_idx = |v: Vec<i32>| v.into_iter().map(|c| c as usize).collect::<Vec<_>>();
        if kind == ModelKind::DecisionTree {
            let parameters = DecisionTreeClassifierParameters {
                criterion: SplitCriterion::Gini,
                max_depth: params.max_depth,
                min_samples_leaf: params.min_samples_leaf,
                min_samples_split: params.min_samples_split,
                seed: Some(params.seed),
            };
            let model = DecisionTreeClassifier::fit(&matrix, &labels, parameters)
                .map_err(fit_error("decision-tree"))?;
            return Ok(vec![to_idx(
                model.predict(&test).map_err(fit_error("decision-tree"))?,
            )]);
        }
        let m = m_for(params.max_features, x_train.ncols());
        (0..params.n_trees)
            .map(|t| {
                let parameters = RandomForestClassifierParameters {
                    criterion: SplitCriterion::Gini,
                    max_depth: params.max_depth,
                    min_samples_leaf: params.min_samples_leaf,
                    min_samples_split: params.min_samples_split,
                    n_trees: 1,
                    m,
                    keep_samples: false,
                    seed: params.seed.wrapping_add(t as u64),
                };
                let model = RandomForestClassifier::fit(&matrix, &labels, parameters)
                    .map_err(fit_error("random-forest"))?;
                Ok(to_idx(
                    model.predict(&test).map_err(fit_error("random-forest"))?,
                ))
            })
            .collect()
    }

    /// smartcore's own `ExtraTreesRegressor` with `n_trees` trees and seed `seed`, predicting `x_test`.
    pub fn extra_trees_forest(
        x_train: &Array2<f64>,
        y_train: &[f64],
        x_test: &Array2<f64>,
        params: &TreeParams,
    ) -> Result<Vec<f64>> {
        let parameters = ExtraTreesRegressorParameters {
            max_depth: params.max_depth,
            min_samples_leaf: params.min_samples_leaf,
            min_samples_split: params.min_samples_split,
            n_trees: params.n_trees,
            m: m_for(params.max_features, x_train.ncols()),
            keep_samples: false,
            seed: params.seed,
        };
        let model =
            ExtraTreesRegressor::fit(&to_smartcore(x_train)?, &y_train.to_vec(), parameters)
                .map_err(fit_error("extra-trees"))?;
        model
            .predict(&to_smartcore(x_test)?)
            .map_err(fit_error("extra-trees"))
    }

    /// Per tree, smartcore's predicted value for every row of `x_test` (random forest or decision
    /// tree regressor).
    pub fn regressor_tree_values(
        kind: ModelKind,
        x_train: &Array2<f64>,
        y_train: &[f64],
        x_test: &Array2<f64>,
        params: &TreeParams,
    ) -> Result<Vec<Vec<f64>>> {
        let matrix = to_smartcore(x_train)?;
        let test = to_smartcore(x_test)?;
        let y = y_train.to_vec();
        if kind == ModelKind::DecisionTree {
            let parameters = DecisionTreeRegressorParameters {
                max_depth: params.max_depth,
                min_samples_leaf: params.min_samples_leaf,
                min_samples_split: params.min_samples_split,
                seed: Some(params.seed),
            };
            let model = DecisionTreeRegressor::fit(&matrix, &y, parameters)
                .map_err(fit_error("decision-tree"))?;
            return Ok(vec![
                model.predict(&test).map_err(fit_error("decision-tree"))?,
            ]);
        }
        let m = m_for(params.max_features, x_train.ncols());
        (0..params.n_trees)
            .map(|t| {
                let parameters = RandomForestRegressorParameters {
                    max_depth: params.max_depth,
                    min_samples_leaf: params.min_samples_leaf,
                    min_samples_split: params.min_samples_split,
                    n_trees: 1,
                    m,
                    keep_samples: false,
                    seed: params.seed.wrapping_add(t as u64),
                };
                let model = RandomForestRegressor::fit(&matrix, &y, parameters)
                    .map_err(fit_error("random-forest"))?;
                model.predict(&test).map_err(fit_error("random-forest"))
            })
            .collect()
    }
}
