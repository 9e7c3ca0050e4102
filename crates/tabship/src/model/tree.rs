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

/// Rows ranked and walked in one piece by [`TreeEnsemble::predict_entries`].
const MAX_ROWS_AT_ONCE: usize = 1024;

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
        mut out: super::Outputs<'_>,
    ) {
        if stride == 0 {
            return;
        }
        let k = self.outputs;
        BUFFERS.with_borrow_mut(|buffers| {
            // Bounded pieces, so that the per-thread buffers stay small whatever the caller
            // passes (the pipeline passes 512 rows at a time).
            for (i, piece) in entries.chunks(MAX_ROWS_AT_ONCE * stride).enumerate() {
                let rows = i * MAX_ROWS_AT_ONCE..i * MAX_ROWS_AT_ONCE + piece.len() / stride;
                let out = super::Outputs {
                    classes: out
                        .classes
                        .as_deref_mut()
                        .map(|c| part(c, rows.start, rows.end)),
                    values: out
                        .values
                        .as_deref_mut()
                        .map(|v| part(v, rows.start, rows.end)),
                    proba: (out.proba.as_deref_mut())
                        .map(|p| part(p, rows.start * k, rows.end * k)),
                };
                self.predict_source(
                    &Entries {
                        entries: piece,
                        stride,
                    },
                    buffers,
                    sums,
                    out,
                );
            }
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
        // Votes only when labels are asked for; the closures below borrow slices, not the
        // vectors, so that lengths stay in registers.
        let count = out.classes.is_some();
        votes.clear();
        votes.resize(if count { n * k } else { 0 }, 0);
        let v = &mut votes[..];
        match out.proba {
            Some(proba) => {
                sums.clear();
                sums.resize(n * k, 0.0);
                let s = &mut sums[..];
                self.layout.for_each_leaf(rows, scratch, |r, leaf| {
                    if count {
                        v[r * k + leaf_class[leaf] as usize] += 1;
                    }
                    let dist = &leaf_values[leaf * k..][..k];
                    for (s, p) in s[r * k..][..k].iter_mut().zip(dist) {
                        *s += p;
                    }
                });
                for (p, s) in proba.iter_mut().zip(sums.iter()) {
                    *p = s / n_trees;
                }
            }
            None if count => self.layout.for_each_leaf(rows, scratch, |r, leaf| {
                v[r * k + leaf_class[leaf] as usize] += 1;
            }),
            None => {}
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

/// `slice[start..end]`, cut to what `slice` holds (outputs shorter than the rows get what fits).
fn part<T>(slice: &mut [T], start: usize, end: usize) -> &mut [T] {
    let end = end.min(slice.len());
    &mut slice[start.min(end)..end]
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
        // Nothing asked for: nothing written, nothing counted.
        e.predict_dense(&x, 1, Outputs::default());
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

    /// xorshift64*: random trees from one proptest-drawn seed.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
        }
    }

    /// Values that splits and rows share, so that ties, signed zeros and infinities all occur.
    const POOL: [f64; 9] = [
        -2.5,
        -1.0,
        -0.0,
        0.0,
        0.5,
        1.0,
        1.0 + f64::EPSILON,
        3.0,
        1e300,
    ];

    /// A random valid tree over `width` features: `k` classes, or regression when `k` is 1.
    fn random_tree(rng: &mut Rng, width: usize, k: usize, max_depth: usize) -> TreeSpec {
        fn grow(rng: &mut Rng, t: &mut TreeSpec, width: usize, k: usize, depth: usize) {
            let i = t.left.0.len();
            t.feature.0.push(0);
            t.threshold.0.push(0.0);
            t.left.0.push(LEAF);
            t.right.0.push(0);
            if depth == 0 || rng.below(4) == 0 {
                t.right.0[i] = t.leaf_class.0.len().max(t.leaf_values.0.len() / k) as u32;
                if k == 1 {
                    t.leaf_values.0.push(POOL[rng.below(POOL.len() - 1)] * 0.3);
                } else {
                    let counts: Vec<f64> = (0..k).map(|_| rng.below(5) as f64).collect();
                    let total: f64 = counts.iter().sum::<f64>() + 1.0;
                    let mut dist: Vec<f64> = counts.iter().map(|c| c / total).collect();
                    dist[0] += 1.0 / total;
                    t.leaf_class.0.push(first_max_f(&dist) as u32);
                    t.leaf_values.0.extend(dist);
                }
                return;
            }
            t.feature.0[i] = rng.below(width) as u32;
            t.threshold.0[i] = POOL[rng.below(POOL.len())];
            t.left.0[i] = t.left.0.len() as u32;
            grow(rng, t, width, k, depth - 1);
            t.right.0[i] = t.left.0.len() as u32;
            grow(rng, t, width, k, depth - 1);
        }
        let mut t = TreeSpec::default();
        grow(rng, &mut t, width, k, max_depth);
        t
    }

    fn first_max_f(v: &[f64]) -> usize {
        (0..v.len()).fold(0, |b, i| if v[i] > v[b] { i } else { b })
    }

    /// smartcore's prediction, written plainly: walk each tree with `x <= threshold`, add the
    /// trees' outputs in tree order, divide by the number of trees, vote for classes.
    fn reference(trees: &[TreeSpec], k: usize, row: &[f64]) -> (usize, Vec<f64>) {
        let mut sums = vec![0.0; k];
        let mut votes = vec![0u32; k];
        for t in trees {
            let mut i = 0;
            while t.left.0[i] != LEAF {
                let go_left = row[t.feature.0[i] as usize] <= t.threshold.0[i];
                i = if go_left { t.left.0[i] } else { t.right.0[i] } as usize;
            }
            let leaf = t.right.0[i] as usize;
            for (s, v) in sums
                .iter_mut()
                .zip(&t.leaf_values.0[leaf * k..(leaf + 1) * k])
            {
                *s += v;
            }
            if let Some(&c) = t.leaf_class.0.get(leaf) {
                votes[c as usize] += 1;
            }
        }
        let n = trees.len() as f64;
        (first_max(&votes), sums.iter().map(|s| s / n).collect())
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// Ranked walks, in blocks and one row at a time, in the `u16` and the `u32` layouts,
        /// give bit for bit what the plain `f64` walk gives.
        #[test]
        fn walks_match_the_plain_walk_bit_for_bit(
            seed in 1u64..,
            width in 1usize..6,
            k in 1usize..4,
            n_trees in 1usize..30,
            n_rows in 1usize..40,
        ) {
            let mut rng = Rng(seed);
            let trees: Vec<TreeSpec> =
                (0..n_trees).map(|_| { let depth = 1 + rng.below(7); random_tree(&mut rng, width, k, depth) }).collect();
            let task = if k == 1 { Task::Regression } else { Task::Classification };
            let mut e = TreeEnsemble::new(task, trees);
            e.prepare(width, (k > 1).then_some(k)).expect("valid trees");
            let specials = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.75, -1e-300];
            let x: Vec<f64> = (0..n_rows * width)
                .map(|_| match rng.below(POOL.len() + specials.len()) {
                    i if i < POOL.len() => POOL[i],
                    i => specials[i - POOL.len()],
                })
                .collect();
            let want: Vec<(usize, Vec<f64>)> =
                x.chunks(width).map(|row| reference(&e.trees, k, row)).collect();
            let narrow = e.layout.is_narrow();
            proptest::prop_assert!(narrow);
            for wide in [false, true] {
                if wide {
                    e.layout = Layout::new_wide(&e.trees, width);
                }
                // The whole block, then each row on its own (the single-row path).
                let blocks: Vec<&[f64]> =
                    std::iter::once(&x[..]).chain(x.chunks(width)).collect();
                let mut offset = 0;
                for block in blocks {
                    let rows = block.len() / width;
                    let expected = &want[offset % n_rows..][..rows];
                    offset += if rows == n_rows { 0 } else { 1 };
                    let mut classes = vec![usize::MAX; rows];
                    let mut out = vec![f64::NAN; rows * k];
                    if k == 1 {
                        e.predict_dense(block, width, Outputs {
                            values: Some(&mut out),
                            ..Outputs::default()
                        });
                    } else {
                        e.predict_dense(block, width, Outputs {
                            classes: Some(&mut classes),
                            proba: Some(&mut out),
                            ..Outputs::default()
                        });
                    }
                    for (r, (class, p)) in expected.iter().enumerate() {
                        let got: Vec<u64> = out[r * k..(r + 1) * k].iter().map(|v| v.to_bits()).collect();
                        let exp: Vec<u64> = p.iter().map(|v| v.to_bits()).collect();
                        proptest::prop_assert_eq!(got, exp, "row {} wide {}", r, wide);
                        if k > 1 {
                            proptest::prop_assert_eq!(classes[r], *class, "row {} wide {}", r, wide);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn long_inputs_are_predicted_in_pieces() {
        let mut rng = Rng(7);
        let trees: Vec<TreeSpec> = (0..5).map(|_| random_tree(&mut rng, 3, 2, 6)).collect();
        let mut e = TreeEnsemble::new(Task::Classification, trees);
        e.prepare(3, Some(2)).unwrap();
        let rows = 2 * MAX_ROWS_AT_ONCE + 3;
        let entries: Vec<Entry> = (0..rows * 3)
            .map(|i| ((i % 3) as u32, POOL[rng.below(POOL.len())]))
            .collect();
        let mut classes = vec![usize::MAX; rows];
        let mut proba = vec![f64::NAN; rows * 2];
        e.predict_entries(
            &entries,
            3,
            &mut Vec::new(),
            Outputs {
                classes: Some(&mut classes),
                proba: Some(&mut proba),
                ..Outputs::default()
            },
        );
        for (r, row) in entries.chunks(3).enumerate() {
            let dense: Vec<f64> = row.iter().map(|&(_, x)| x).collect();
            let (class, p) = reference(&e.trees, 2, &dense);
            assert_eq!(classes[r], class, "row {r}");
            assert_eq!(proba[2 * r..2 * r + 2], p[..], "row {r}");
        }
    }

    #[test]
    fn wide_models_use_the_u32_layout() {
        // A feature index past u16.
        let mut wide = stump();
        wide.feature.0[0] = 70_000;
        let mut e = TreeEnsemble::new(Task::Classification, vec![wide]);
        e.prepare(70_001, Some(2)).unwrap();
        assert!(!e.layout.is_narrow());
        let mut x = vec![0.0; 2 * 70_001];
        x[70_000] = 0.7;
        let mut classes = [9; 2];
        e.predict_dense(
            &x,
            70_001,
            Outputs {
                classes: Some(&mut classes),
                ..Outputs::default()
            },
        );
        assert_eq!(classes, [1, 0]);
        // More distinct thresholds on one feature than u16 ranks hold.
        let n = 70_000u32;
        let chain = TreeSpec {
            feature: PackedU32(vec![0; 2 * n as usize + 1]),
            threshold: PackedF64(
                (0..=2 * n)
                    .map(|i| if i % 2 == 0 { f64::from(i / 2) } else { 0.0 })
                    .collect(),
            ),
            left: PackedU32(
                (0..=2 * n)
                    .map(|i| if i % 2 == 0 && i < 2 * n { i + 1 } else { LEAF })
                    .collect(),
            ),
            right: PackedU32(
                (0..=2 * n)
                    .map(|i| {
                        if i % 2 == 0 && i < 2 * n {
                            i + 2
                        } else {
                            i / 2
                        }
                    })
                    .collect(),
            ),
            leaf_values: PackedF64((0..=n).map(f64::from).collect()),
            leaf_class: PackedU32(vec![]),
        };
        let mut e = TreeEnsemble::new(Task::Regression, vec![chain]);
        e.prepare(1, None).unwrap();
        assert!(!e.layout.is_narrow());
        let mut values = [0.0; 3];
        e.predict_dense(
            &[0.5, 69_998.5, 1e9],
            1,
            Outputs {
                values: Some(&mut values),
                ..Outputs::default()
            },
        );
        assert_eq!(values, [1.0, 69_999.0, 70_000.0]);
    }
}
