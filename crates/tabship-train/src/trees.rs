//! Decision trees, random forests and extra trees fitted with smartcore and exported into
//! [`tabship::model::TreeEnsemble`].
//!
//! smartcore keeps fitted nodes private; with its `serde` feature a fitted model serialises, so each
//! tree is read once through `serde_json::Value` (exact for `f64`, no text round trip) into the
//! mirror structs below and converted to tabship's struct-of-arrays trees. smartcore's layout never
//! leaves this module.
//!
//! Forests are fitted as consecutive chunks of [`CHUNK_TREES`] trees, each chunk a genuine smartcore
//! forest with seed `seed + first tree index`, `threads` chunks at a time. The split into chunks
//! does not depend on the thread count, so a seed always gives the same forest; each chunk is exactly
//! the forest smartcore fits with that seed (bootstraps, `m` features tried per split), and the
//! ensemble combines all trees with smartcore's rules (majority vote with ties to the lowest class;
//! mean of the trees' values). smartcore sorts every feature once per regression forest, which a
//! chunk amortises over its trees.
//!
//! Binary classification forests are smartcore regression forests on 0/1 labels: squared-error
//! splits on 0/1 rank exactly as Gini splits (a 0/1 node's variance is half its Gini impurity), and
//! they are grown on presorted columns instead of smartcore's classification trees, which rescan
//! every row at every node. A leaf's value is the bootstrap-weighted share of class 1, i.e. its class
//! distribution, as scikit-learn keeps it.

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

/// Trees per smartcore forest fitted in one piece.
pub const CHUNK_TREES: usize = 10;

/// The chunks of a forest of `n_trees`: `(first tree index, trees)`.
pub fn chunks(n_trees: usize) -> Vec<(usize, usize)> {
    (0..n_trees)
        .step_by(CHUNK_TREES)
        .map(|first| (first, CHUNK_TREES.min(n_trees - first)))
        .collect()
}

/// Fits every chunk of a forest (`fit(first, trees)`) on `threads` threads and concatenates the
/// trees in order.
fn fit_chunks(
    n_trees: usize,
    threads: usize,
    fit: impl Fn(usize, usize) -> Result<Vec<TreeSpec>> + Sync,
) -> Result<Vec<TreeSpec>> {
    let plan = chunks(n_trees);
    let fitted = in_parallel(plan.len(), threads, |c| fit(plan[c].0, plan[c].1))?;
    Ok(fitted.into_iter().flatten().collect())
}

/// Runs `fit(t)` for `t in 0..n` on `threads` threads; results come back in tree order.
pub(crate) fn in_parallel<T: Send>(
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
                max_depth: params.smartcore_max_depth(),
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
        ModelKind::RandomForest if n_classes == 2 => {
            // Binary targets: smartcore's regression trees on 0/1 labels. Their squared-error
            // splits rank exactly as Gini splits do (the variance of a 0/1 node is half its Gini
            // impurity), but they are grown on presorted columns instead of rescanning every row
            // at every node as smartcore's classification trees do. A leaf's value is the
            // bootstrap-weighted share of class 1: its class distribution, as scikit-learn keeps it.
            let y01: Vec<f64> = y.iter().map(|&c| c as f64).collect();
            let m = m_for(params.max_features, x.ncols());
            let trees = fit_chunks(params.n_trees, params.threads, |first, n| {
                fit_regressor_chunk(ModelKind::RandomForest, &matrix, &y01, params, m, first, n)
            })?;
            let trees = trees.into_iter().map(binary_classifier_tree).collect();
            return Ok(TreeEnsemble::new(Task::Classification, trees));
        }
        ModelKind::RandomForest => {
            let m = m_for(params.max_features, x.ncols());
            fit_chunks(params.n_trees, params.threads, |first, n| {
                let model = RandomForestClassifier::fit(
                    &matrix,
                    &labels,
                    classifier_forest_parameters(params, m, first, n),
                )
                .map_err(fit_error("random-forest"))?;
                let forest: MirrorClassifierForest = mirror(&model, "random-forest")?;
                let trees = forest.trees.unwrap_or_default();
                if trees.len() != n {
                    return Err(Error::Fit {
                        model: "random-forest",
                        message: format!("smartcore returned {} of {n} trees", trees.len()),
                    });
                }
                trees
                    .iter()
                    .map(|tree| {
                        check_classes(&tree.classes, n_classes)?;
                        to_spec(&tree.nodes, true, |o| o as f64)
                    })
                    .collect()
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

/// smartcore's parameters of the classification forest chunk starting at tree `first`.
fn classifier_forest_parameters(
    params: &TreeParams,
    m: Option<usize>,
    first: usize,
    n: usize,
) -> RandomForestClassifierParameters {
    RandomForestClassifierParameters {
        criterion: SplitCriterion::Gini,
        max_depth: params.smartcore_max_depth(),
        min_samples_leaf: params.min_samples_leaf,
        min_samples_split: params.min_samples_split,
        n_trees: n as u16,
        m,
        keep_samples: false,
        seed: params.seed.wrapping_add(first as u64),
    }
}

/// smartcore's parameters of the regression forest chunk starting at tree `first`.
fn regressor_forest_parameters(
    params: &TreeParams,
    m: Option<usize>,
    first: usize,
    n: usize,
) -> RandomForestRegressorParameters {
    RandomForestRegressorParameters {
        max_depth: params.smartcore_max_depth(),
        min_samples_leaf: params.min_samples_leaf,
        min_samples_split: params.min_samples_split,
        n_trees: n,
        m,
        keep_samples: false,
        seed: params.seed.wrapping_add(first as u64),
    }
}

/// smartcore's parameters of the extra-trees chunk starting at tree `first`.
fn extra_trees_parameters(
    params: &TreeParams,
    m: Option<usize>,
    first: usize,
    n: usize,
) -> ExtraTreesRegressorParameters {
    ExtraTreesRegressorParameters {
        max_depth: params.smartcore_max_depth(),
        min_samples_leaf: params.min_samples_leaf,
        min_samples_split: params.min_samples_split,
        n_trees: n,
        m,
        keep_samples: false,
        seed: params.seed.wrapping_add(first as u64),
    }
}

/// The `n` trees of the regression forest chunk starting at tree `first`.
fn fit_regressor_chunk(
    kind: ModelKind,
    matrix: &Matrix,
    y: &Vec<f64>,
    params: &TreeParams,
    m: Option<usize>,
    first: usize,
    n: usize,
) -> Result<Vec<TreeSpec>> {
    let name = if kind == ModelKind::RandomForest {
        "random-forest"
    } else {
        "extra-trees"
    };
    let forest: MirrorRegressorForest = if kind == ModelKind::RandomForest {
        let model =
            RandomForestRegressor::fit(matrix, y, regressor_forest_parameters(params, m, first, n))
                .map_err(fit_error(name))?;
        mirror(&model, name)?
    } else {
        let model =
            ExtraTreesRegressor::fit(matrix, y, extra_trees_parameters(params, m, first, n))
                .map_err(fit_error(name))?;
        mirror(&model, name)?
    };
    let trees = forest
        .forest_regressor
        .and_then(|f| f.trees)
        .unwrap_or_default();
    if trees.len() != n {
        return Err(Error::Fit {
            model: name,
            message: format!("smartcore returned {} of {n} trees", trees.len()),
        });
    }
    trees
        .iter()
        .map(|tree| to_spec(&tree.nodes, false, |o| o))
        .collect()
}

/// A regression tree on 0/1 labels as a binary classifier tree: leaf distribution `[1 - v, v]`,
/// and the tree votes class 1 when `v > 0.5` (the majority; a tie goes to class 0 as in
/// smartcore's `which_max`).
fn binary_classifier_tree(mut tree: TreeSpec) -> TreeSpec {
    let shares = std::mem::take(&mut tree.leaf_values.0);
    tree.leaf_class.0 = shares.iter().map(|&v| u32::from(v > 0.5)).collect();
    tree.leaf_values.0 = shares.iter().flat_map(|&v| [1.0 - v, v]).collect();
    tree
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
                max_depth: params.smartcore_max_depth(),
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
            fit_chunks(params.n_trees, params.threads, |first, n| {
                fit_regressor_chunk(kind, &matrix, &y, params, m, first, n)
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

/// smartcore's own predictions of the same models, for parity checks.
pub mod reference {
    use super::*;

    /// A decision tree classifier's predicted class indices, from smartcore.
    pub fn decision_tree_classes(
        x_train: &Array2<f64>,
        y_train: &[usize],
        x_test: &Array2<f64>,
        params: &TreeParams,
    ) -> Result<Vec<usize>> {
        let labels: Vec<i32> = y_train.iter().map(|&c| c as i32).collect();
        let parameters = DecisionTreeClassifierParameters {
            criterion: SplitCriterion::Gini,
            max_depth: params.smartcore_max_depth(),
            min_samples_leaf: params.min_samples_leaf,
            min_samples_split: params.min_samples_split,
            seed: Some(params.seed),
        };
        let model = DecisionTreeClassifier::fit(&to_smartcore(x_train)?, &labels, parameters)
            .map_err(fit_error("decision-tree"))?;
        let predicted = model
            .predict(&to_smartcore(x_test)?)
            .map_err(fit_error("decision-tree"))?;
        Ok(predicted.into_iter().map(|c| c as usize).collect())
    }

    /// A decision tree regressor's predictions, from smartcore.
    pub fn decision_tree_values(
        x_train: &Array2<f64>,
        y_train: &[f64],
        x_test: &Array2<f64>,
        params: &TreeParams,
    ) -> Result<Vec<f64>> {
        let parameters = DecisionTreeRegressorParameters {
            max_depth: params.smartcore_max_depth(),
            min_samples_leaf: params.min_samples_leaf,
            min_samples_split: params.min_samples_split,
            seed: Some(params.seed),
        };
        let model =
            DecisionTreeRegressor::fit(&to_smartcore(x_train)?, &y_train.to_vec(), parameters)
                .map_err(fit_error("decision-tree"))?;
        model
            .predict(&to_smartcore(x_test)?)
            .map_err(fit_error("decision-tree"))
    }

    /// Per chunk of a multiclass forest (see [`chunks`]), smartcore's own forest's predicted
    /// class indices.
    pub fn classifier_chunk_classes(
        x_train: &Array2<f64>,
        y_train: &[usize],
        x_test: &Array2<f64>,
        params: &TreeParams,
    ) -> Result<Vec<Vec<usize>>> {
        let (matrix, test) = (to_smartcore(x_train)?, to_smartcore(x_test)?);
        let labels: Vec<i32> = y_train.iter().map(|&c| c as i32).collect();
        let m = m_for(params.max_features, x_train.ncols());
        chunks(params.n_trees)
            .into_iter()
            .map(|(first, n)| {
                let model = RandomForestClassifier::fit(
                    &matrix,
                    &labels,
                    classifier_forest_parameters(params, m, first, n),
                )
                .map_err(fit_error("random-forest"))?;
                let predicted = model.predict(&test).map_err(fit_error("random-forest"))?;
                Ok(predicted.into_iter().map(|c| c as usize).collect())
            })
            .collect()
    }

    /// Per chunk of a regression forest (or of a binary classification forest, with 0/1 targets),
    /// smartcore's own forest's predictions.
    pub fn regressor_chunk_values(
        kind: ModelKind,
        x_train: &Array2<f64>,
        y_train: &[f64],
        x_test: &Array2<f64>,
        params: &TreeParams,
    ) -> Result<Vec<Vec<f64>>> {
        let (matrix, test) = (to_smartcore(x_train)?, to_smartcore(x_test)?);
        let y = y_train.to_vec();
        let m = m_for(params.max_features, x_train.ncols());
        chunks(params.n_trees)
            .into_iter()
            .map(|(first, n)| {
                if kind == ModelKind::ExtraTrees {
                    ExtraTreesRegressor::fit(
                        &matrix,
                        &y,
                        extra_trees_parameters(params, m, first, n),
                    )
                    .and_then(|model| model.predict(&test))
                    .map_err(fit_error("extra-trees"))
                } else {
                    RandomForestRegressor::fit(
                        &matrix,
                        &y,
                        regressor_forest_parameters(params, m, first, n),
                    )
                    .and_then(|model| model.predict(&test))
                    .map_err(fit_error("random-forest"))
                }
            })
            .collect()
    }
}
