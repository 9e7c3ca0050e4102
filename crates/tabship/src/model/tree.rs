//! Tree ensembles: decision trees, random forests and extra trees, one struct-of-arrays per tree.
//!
//! Node `i` is a leaf when `left[i] == LEAF`; then `right[i]` is its row in `leaf_values` (and
//! `leaf_class`). Otherwise a row goes to `left[i]` when `x[feature[i]] <= threshold[i]` and to
//! `right[i]` else (NaN goes right), exactly as smartcore decides. Children always have larger
//! indices than their parent, so every walk ends.
//!
//! Prediction walks a layout derived from these arrays at load time (see [`walk`]).

mod walk;

use std::cell::RefCell;

use serde::{Deserialize, Serialize};

use crate::artifact::limits::{MAX_NODES_PER_TREE, MAX_TOTAL_NODES, MAX_TREES};
use crate::artifact::packed::{PackedF64, PackedU32};
use crate::encode::Entry;
use crate::model::Task;
use crate::{Error, Result};
use walk::{Layout, RowValues, Scratch};

thread_local! {
    /// Per-thread buffers, so that predicting allocates nothing once a thread has predicted a
    /// block of the same size.
    static BUFFERS: RefCell<Buffers> = const {
        RefCell::new(Buffers {
            walk: Scratch::new(),
            votes: Vec::new(),
            leaves: Vec::new(),
        })
    };
}

/// Buffers reused between predictions.
#[derive(Debug, Default)]
struct Buffers {
    /// Ranked rows.
    walk: Scratch,
    /// Per row and class, the trees voting for it.
    votes: Vec<u32>,
    /// A single row's leaf in every tree.
    leaves: Vec<u32>,
}

/// `left[i]` of a leaf.
pub const LEAF: u32 = u32::MAX;

/// One tree as stored: parallel arrays over its nodes, plus its leaves' outputs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TreeSpec {
    /// Split feature of each node (0 for leaves).
    pub feature: PackedU32,
    /// Split threshold of each node (0 for leaves).
    pub threshold: PackedF64,
    /// Left child (`x <= threshold`), or [`LEAF`].
    pub left: PackedU32,
    /// Right child, or for a leaf its index into the leaf arrays.
    pub right: PackedU32,
    /// Per leaf, `outputs` values: a regressor's value, or a classifier's class probabilities
    /// (the class frequencies of the training rows that reach the leaf).
    pub leaf_values: PackedF64,
    /// Classifiers: per leaf, the class the tree votes for (its majority class as fitted).
    #[serde(default)]
    pub leaf_class: PackedU32,
}

/// A tree ensemble: one tree is a decision tree; forests combine their trees.
///
/// Classifiers predict the class with most votes (ties to the lowest class index) and average the
/// leaves' class distributions for probabilities. Regressors sum leaf values in tree order and
/// divide by the number of trees.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TreeEnsemble {
    /// Classification (trees vote and carry class distributions) or regression.
    pub task: Task,
    /// The trees.
    pub trees: Vec<TreeSpec>,
    #[serde(skip)]
    layout: Layout,
    #[serde(skip)]
    outputs: usize,
}

impl PartialEq for TreeEnsemble {
    fn eq(&self, other: &Self) -> bool {
        self.task == other.task && self.trees == other.trees
    }
}

impl TreeEnsemble {
    /// An ensemble of `trees` (validated when the pipeline is assembled).
    pub fn new(task: Task, trees: Vec<TreeSpec>) -> Self {
        TreeEnsemble {
            task,
            trees,
            layout: Layout::default(),
            outputs: 0,
        }
    }

    /// Total number of nodes.
    pub fn n_nodes(&self) -> usize {
        self.trees.iter().map(|t| t.left.len()).sum()
    }

    /// Validates every tree against `width` features and `n_classes` (None: regression) and
    /// builds the traversal layout.
    pub(crate) fn prepare(&mut self, width: usize, n_classes: Option<usize>) -> Result<()> {
        if self.trees.is_empty() || self.trees.len() > MAX_TREES {
            return Err(Error::field(
                "model.trees",
                format!("{} trees (1 to {MAX_TREES} allowed)", self.trees.len()),
            ));
        }
        let total: usize = self.n_nodes();
        if total > MAX_TOTAL_NODES {
            return Err(Error::field(
                "model.trees",
                format!("{total} nodes in all (at most {MAX_TOTAL_NODES})"),
            ));
        }
        let outputs = n_classes.unwrap_or(1);
        for (t, tree) in self.trees.iter().enumerate() {
            validate_tree(
                tree,
                &format!("model.trees[{t}]"),
                width,
                n_classes,
                outputs,
            )?;
        }
        self.layout = Layout::new(&self.trees, width);
        self.outputs = outputs;
        Ok(())
    }

    /// Predicts encoded rows (`entries` holds `stride` entries per row; features no entry names
    /// are zero). Classifiers write the voted class into `classes` and, when given,
    /// probabilities into `proba` (`rows × n_classes`); regressors write `values`. `sums` is
    /// reused between calls.
    pub(crate) fn predict_entries(
        &self,
        entries: &[Entry],
        stride: usize,
        sums: &mut Vec<f64>,
        out: super::Outputs<'_>,
    ) {
        BUFFERS.with_borrow_mut(|buffers| {
            self.predict_source(&Entries { entries, stride }, buffers, sums, out);
        });
    }

    /// Predicts dense rows (`rows × width`, row-major) like
    /// [`predict_entries`](Self::predict_entries).
    #[cfg(test)]
    fn predict_dense(&self, x: &[f64], width: usize, out: super::Outputs<'_>) {
        let source = Dense { x, width };
        self.predict_source(&source, &mut Buffers::default(), &mut Vec::new(), out);
    }

    /// Combines the trees' leaves for every row of `source`. Trees are visited in order for each
    /// row, so sums add up in smartcore's order.
    fn predict_source(
        &self,
        rows: &impl RowValues,
        buffers: &mut Buffers,
        sums: &mut Vec<f64>,
        out: super::Outputs<'_>,
    ) {
        let n = rows.n_rows();
        if n == 1 {
            return self.predict_one(rows, buffers, out);
        }
        let Buffers {
            walk: scratch,
            votes,
            ..
        } = buffers;
        let n_trees = self.trees.len() as f64;
        if let Some(values) = out.values {
            // smartcore's order: sum the trees' values in tree order, then divide.
            sums.clear();
            sums.resize(n, 0.0);
            let leaf_values = &self.layout.leaf_values;
            self.layout
                .for_each_leaf(rows, scratch, |r, leaf| sums[r] += leaf_values[leaf]);
            for (v, s) in values.iter_mut().zip(sums.iter()) {
                *v = s / n_trees;
            }
            return;
        }
        let k = self.outputs;
        let (leaf_class, leaf_values) = (&self.layout.leaf_class, &self.layout.leaf_values);
        votes.clear();
        votes.resize(n * k, 0);
        match out.proba {
            Some(proba) => {
                sums.clear();
                sums.resize(n * k, 0.0);
                self.layout.for_each_leaf(rows, scratch, |r, leaf| {
                    votes[r * k + leaf_class[leaf] as usize] += 1;
                    let dist = &leaf_values[leaf * k..(leaf + 1) * k];
                    for (s, p) in sums[r * k..(r + 1) * k].iter_mut().zip(dist) {
                        *s += p;
                    }
                });
                for (p, s) in proba.iter_mut().zip(sums.iter()) {
                    *p = s / n_trees;
                }
            }
            None => self.layout.for_each_leaf(rows, scratch, |r, leaf| {
                votes[r * k + leaf_class[leaf] as usize] += 1;
            }),
        }
        if let Some(classes) = out.classes {
            for (r, c) in classes.iter_mut().enumerate() {
                *c = first_max(&votes[r * k..(r + 1) * k]);
            }
        }
    }
}

impl TreeEnsemble {
    /// [`predict_source`](Self::predict_source) for a single row. Its leaves are collected first,
    /// then each output is summed over the trees in a register: one dependent addition per tree
    /// instead of a load, an addition and a store through memory.
    fn predict_one(&self, row: &impl RowValues, buffers: &mut Buffers, out: super::Outputs<'_>) {
        let Buffers {
            walk,
            votes,
            leaves,
        } = buffers;
        leaves.clear();
        self.layout
            .for_each_leaf(row, walk, |_, leaf| leaves.push(leaf as u32));
        let n_trees = self.trees.len() as f64;
        let leaf_values = &self.layout.leaf_values;
        let k = self.outputs;
        // smartcore's order: sum the trees' values in tree order, then divide.
        let mean = |c: usize| {
            let mut s = 0.0;
            for &leaf in leaves.iter() {
                s += leaf_values[leaf as usize * k + c];
            }
            s / n_trees
        };
        if let Some(values) = out.values {
            values[0] = mean(0);
        }
        if let Some(proba) = out.proba {
            for (c, p) in proba.iter_mut().enumerate() {
                *p = mean(c);
            }
        }
        if let Some(classes) = out.classes {
            votes.clear();
            votes.resize(k, 0);
            for &leaf in leaves.iter() {
                votes[self.layout.leaf_class[leaf as usize] as usize] += 1;
            }
            classes[0] = first_max(votes);
        }
    }
}

/// Encoded rows: `stride` entries per row.
struct Entries<'a> {
    entries: &'a [Entry],
    stride: usize,
}

impl RowValues for Entries<'_> {
    fn n_rows(&self) -> usize {
        self.entries.len().checked_div(self.stride).unwrap_or(0)
    }

    #[inline]
    fn for_each_value(&self, row: usize, mut set: impl FnMut(usize, f64)) {
        for &(f, x) in &self.entries[row * self.stride..(row + 1) * self.stride] {
            set(f as usize, x);
        }
    }
}

/// Dense rows: `width` values per row.
#[cfg(test)]
struct Dense<'a> {
    x: &'a [f64],
    width: usize,
}

#[cfg(test)]
impl RowValues for Dense<'_> {
    fn n_rows(&self) -> usize {
        self.x.len().checked_div(self.width).unwrap_or(0)
    }

    fn for_each_value(&self, row: usize, mut set: impl FnMut(usize, f64)) {
        for (f, &x) in self.x[row * self.width..(row + 1) * self.width]
            .iter()
            .enumerate()
        {
            set(f, x);
        }
    }
}

/// The first index of the largest count (smartcore's `which_max`).
fn first_max(votes: &[u32]) -> usize {
    let mut best = 0;
    for (i, &v) in votes.iter().enumerate() {
        if v > votes[best] {
            best = i;
        }
    }
    best
}

fn validate_tree(
    tree: &TreeSpec,
    field: &str,
    width: usize,
    n_classes: Option<usize>,
    outputs: usize,
) -> Result<()> {
    let n = tree.left.len();
    if n == 0 || n > MAX_NODES_PER_TREE {
        return Err(Error::field(
            field,
            format!("{n} nodes (1 to {MAX_NODES_PER_TREE} allowed)"),
        ));
    }
    for (name, len) in [
        ("feature", tree.feature.len()),
        ("threshold", tree.threshold.len()),
        ("right", tree.right.len()),
    ] {
        if len != n {
            return Err(Error::field(
                format!("{field}.{name}"),
                format!("{len} values for {n} nodes"),
            ));
        }
    }
    let n_leaves = tree.left.0.iter().filter(|&&l| l == LEAF).count();
    if tree.leaf_values.len() != n_leaves * outputs {
        return Err(Error::field(
            format!("{field}.leaf_values"),
            format!(
                "{} values for {n_leaves} leaves of {outputs} outputs",
                tree.leaf_values.len()
            ),
        ));
    }
    if let Some(i) = tree.leaf_values.0.iter().position(|v| !v.is_finite()) {
        return Err(Error::field(
            format!("{field}.leaf_values"),
            format!("value {i} is not finite"),
        ));
    }
    match n_classes {
        Some(k) => {
            if tree.leaf_class.len() != n_leaves {
                return Err(Error::field(
                    format!("{field}.leaf_class"),
                    format!("{} values for {n_leaves} leaves", tree.leaf_class.len()),
                ));
            }
            if let Some(c) = tree.leaf_class.0.iter().find(|&&c| c as usize >= k) {
                return Err(Error::field(
                    format!("{field}.leaf_class"),
                    format!("class {c} of {k}"),
                ));
            }
            for (l, row) in tree.leaf_values.0.chunks_exact(k).enumerate() {
                let total: f64 = row.iter().sum();
                if row.iter().any(|p| *p < 0.0) || (total - 1.0).abs() > 1e-9 {
                    return Err(Error::field(
                        format!("{field}.leaf_values"),
                        format!("leaf {l}: probabilities must be >= 0 and sum to 1"),
                    ));
                }
            }
        }
        None if !tree.leaf_class.is_empty() => {
            return Err(Error::field(
                format!("{field}.leaf_class"),
                "a regressor has no leaf classes",
            ));
        }
        None => {}
    }
    let mut leaf_seen = vec![false; n_leaves];
    let mut has_parent = vec![false; n];
    for i in 0..n {
        let (left, right) = (tree.left.0[i], tree.right.0[i]);
        if left == LEAF {
            let leaf = right as usize;
            if leaf >= n_leaves || std::mem::replace(&mut leaf_seen[leaf], true) {
                return Err(Error::field(
                    format!("{field}.right[{i}]"),
                    format!("leaf index {leaf} is out of range or used twice"),
                ));
            }
        } else {
            // Children after their parent: every walk from the root ends.
            if left as usize <= i
                || left as usize >= n
                || right as usize <= i
                || right as usize >= n
            {
                return Err(Error::field(
                    format!("{field}.left[{i}]"),
                    format!("children {left} and {right} must lie after node {i} and before {n}"),
                ));
            }
            // One parent per node: the nodes form a tree, not a graph that expands exponentially.
            for child in [left as usize, right as usize] {
                if std::mem::replace(&mut has_parent[child], true) {
                    return Err(Error::field(
                        format!("{field}.left[{i}]"),
                        format!("node {child} has two parents"),
                    ));
                }
            }
            if tree.feature.0[i] as usize >= width {
                return Err(Error::field(
                    format!("{field}.feature[{i}]"),
                    format!("feature {} of {width}", tree.feature.0[i]),
                ));
            }
            if !tree.threshold.0[i].is_finite() {
                return Err(Error::field(
                    format!("{field}.threshold[{i}]"),
                    "not finite",
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Outputs;

    /// x0 <= 0.5 ? leaf 0 (class 0, p = [0.9, 0.1]) : leaf 1 (class 1, p = [0.2, 0.8])
    fn stump() -> TreeSpec {
        TreeSpec {
            feature: PackedU32(vec![0, 0, 0]),
            threshold: PackedF64(vec![0.5, 0.0, 0.0]),
            left: PackedU32(vec![1, LEAF, LEAF]),
            right: PackedU32(vec![2, 0, 1]),
            leaf_values: PackedF64(vec![0.9, 0.1, 0.2, 0.8]),
            leaf_class: PackedU32(vec![0, 1]),
        }
    }

    #[test]
    fn votes_and_probabilities() {
        let mut e = TreeEnsemble::new(Task::Classification, vec![stump(), stump()]);
        e.prepare(1, Some(2)).unwrap();
        let x = [0.5, 0.7, -3.0];
        let mut classes = [9; 3];
        let mut proba = [0.0; 6];
        e.predict_dense(
            &x,
            1,
            Outputs {
                classes: Some(&mut classes),
                proba: Some(&mut proba),
                ..Outputs::default()
            },
        );
        assert_eq!(classes, [0, 1, 0], "<= goes left");
        let mut one = [9];
        e.predict_dense(
            &[0.7],
            1,
            Outputs {
                classes: Some(&mut one),
                ..Outputs::default()
            },
        );
        assert_eq!(one, [1], "a single row walks the trees in lockstep");
        assert_eq!(&proba[..2], &[0.9, 0.1]);
    }

    #[test]
    fn hostile_trees_are_refused() {
        let mut cycle = stump();
        cycle.left.0[0] = 0;
        assert!(
            TreeEnsemble::new(Task::Classification, vec![cycle])
                .prepare(1, Some(2))
                .is_err()
        );
        let mut wide = stump();
        wide.feature.0[0] = 5;
        assert!(
            TreeEnsemble::new(Task::Classification, vec![wide])
                .prepare(1, Some(2))
                .is_err()
        );
        let mut shared = stump();
        shared.right.0[0] = 1;
        assert!(
            TreeEnsemble::new(Task::Classification, vec![shared])
                .prepare(1, Some(2))
                .is_err()
        );
        let mut twice = stump();
        twice.right.0[2] = 0;
        assert!(
            TreeEnsemble::new(Task::Classification, vec![twice])
                .prepare(1, Some(2))
                .is_err()
        );
        let mut bad_class = stump();
        bad_class.leaf_class.0[1] = 2;
        assert!(
            TreeEnsemble::new(Task::Classification, vec![bad_class])
                .prepare(1, Some(2))
                .is_err()
        );
        assert!(
            TreeEnsemble::new(Task::Classification, vec![])
                .prepare(1, Some(2))
                .is_err()
        );
    }

    #[test]
    fn regression_averages_in_tree_order() {
        let mut a = stump();
        a.leaf_values = PackedF64(vec![1.0, 3.0]);
        a.leaf_class = PackedU32(vec![]);
        let mut b = a.clone();
        b.leaf_values = PackedF64(vec![2.0, 6.0]);
        let mut e = TreeEnsemble::new(Task::Regression, vec![a, b]);
        e.prepare(1, None).unwrap();
        let mut values = [0.0; 2];
        e.predict_dense(
            &[0.0, 1.0],
            1,
            Outputs {
                values: Some(&mut values),
                ..Outputs::default()
            },
        );
        assert_eq!(values, [1.5, 4.5]);
    }
}
