//! The histogram tree learner: features binned once into ≤ 255 u8 codes, per-node histograms of
//! gradient statistics, histogram subtraction, depth-wise or leaf-wise growth.
//!
//! The files, by purpose: [`bins`] the binning ([`BinnedMatrix`]), [`histogram`] the per-node
//! statistics, [`split`] split finding on one feature, [`grow`](mod@grow) growing one tree,
//! [`forest`] random forests and extra trees on it. Gradient boosting calls [`grow()`].
//!
//! Deterministic: a tree depends on its rows, statistics and options (the seed included), never
//! on the thread count. Threads take whole features when a histogram is built, and every sum runs
//! over a node's rows in their stored order.

pub(crate) mod bins;
pub(crate) mod columns;
pub mod forest;
mod grow;
pub(crate) mod histogram;
pub(crate) mod split;
#[cfg(test)]
mod tests;

pub(crate) use bins::BinnedMatrix;
pub(crate) use columns::{FeatureColumns, Features};

use histogram::Targets;

/// How one tree grows.
#[derive(Debug, Clone)]
pub(crate) struct GrowOptions {
    /// Most splits root→leaf (scikit-learn's max_depth).
    pub max_depth: Option<u16>,
    /// Some(n): leaf-wise (best-first) growth up to n leaves.
    pub max_leaves: Option<usize>,
    /// Fewest rows (counting repeats) in a leaf.
    pub min_samples_leaf: usize,
    /// Fewest summed hessian in a leaf.
    pub min_child_weight: f64,
    /// L2 on leaf values (lambda).
    pub l2: f64,
    /// A split must gain more than this.
    pub min_split_gain: f64,
    /// Forests: features sampled per node; None = all.
    pub features_per_split: Option<usize>,
    /// Extra trees: one random threshold per tried feature.
    pub random_thresholds: bool,
    /// Seed of the per-node draws.
    pub seed: u64,
    /// Threads building one histogram.
    pub threads: usize,
}

/// Per leaf: summed gradient, summed hessian, row count.
#[cfg_attr(
    not(test),
    allow(dead_code, reason = "called by gradient boosting (i17-boost)")
)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LeafSums {
    /// Summed gradient.
    pub grad: f64,
    /// Summed hessian.
    pub hess: f64,
    /// Rows (counting repeats).
    pub count: usize,
}

/// A grown tree. `spec` is a core TreeSpec on the ENCODED feature indices with real-valued
/// thresholds (`x <= threshold` goes left; `missing_left` set per node from the learned
/// direction), `leaf_values` = the Newton step −G/(H + l2) per leaf, `leaf_class` empty.
#[cfg_attr(
    not(test),
    allow(dead_code, reason = "called by gradient boosting (i17-boost)")
)]
#[derive(Debug, Clone)]
pub(crate) struct GrownTree {
    /// The tree.
    pub spec: tabship::model::TreeSpec,
    /// Per leaf (in the spec's leaf order): summed gradient, summed hessian, row count.
    pub leaves: Vec<LeafSums>,
    /// For each entry of `rows` passed to `grow` (same order), the leaf it reached.
    pub row_leaf: Vec<u32>,
}

/// Grows one tree on `rows` (may repeat a row: bootstrap) fitting the gradient statistics.
/// `grad` and `hess` hold one value per matrix row (`m.n_rows()`), indexed by row.
#[cfg_attr(
    not(test),
    allow(dead_code, reason = "called by gradient boosting (i17-boost)")
)]
pub(crate) fn grow(
    m: &BinnedMatrix,
    grad: &[f32],
    hess: &[f32],
    rows: &[u32],
    options: &GrowOptions,
) -> GrownTree {
    let grown = grow::grow_tree(
        m,
        Targets::Gradients { grad, hess },
        rows,
        options,
        grow::Extra {
            min_samples_split: 2,
            count_constant_features: false,
        },
    );
    let leaves: Vec<LeafSums> = grown
        .leaf_stats
        .chunks_exact(grown.stride)
        .map(|s| LeafSums {
            grad: s[0],
            hess: s[1],
            count: s[2] as usize,
        })
        .collect();
    let mut spec = grown.spec;
    spec.leaf_values.0 = leaves
        .iter()
        .map(|l| {
            let h = l.hess + options.l2;
            if h > 0.0 { -l.grad / h } else { 0.0 }
        })
        .collect();
    GrownTree {
        spec,
        leaves,
        row_leaf: grown.row_leaf,
    }
}
