//! How the trees' leaves become a prediction: averaged and voted (forests, format 1.1) or summed
//! as margins through a link (boosting, format 1.4).

use super::TreeEnsemble;
use super::buffers::Buffers;
use super::format::{Combination, Link};
use super::walk::RowValues;
use crate::model::Outputs;
use crate::model::linear::sigmoid;

impl TreeEnsemble {
    /// Combines the trees' leaves for every row of `rows`, as the ensemble's [`Combination`]
    /// says.
    pub(super) fn predict_source(
        &self,
        rows: &impl RowValues,
        buffers: &mut Buffers,
        sums: &mut Vec<f64>,
        out: Outputs<'_>,
    ) {
        match self.combination {
            Combination::Average => self.average(rows, buffers, sums, out),
            Combination::Sum { base_score, link } => {
                self.sum(rows, buffers, sums, out, base_score, link);
            }
        }
    }

    /// Averages (and votes) for every row. Trees are visited in order for each row, so sums add
    /// up in smartcore's order.
    fn average(
        &self,
        rows: &impl RowValues,
        buffers: &mut Buffers,
        sums: &mut Vec<f64>,
        out: Outputs<'_>,
    ) {
        let n = rows.n_rows();
        if n == 1 {
            return self.average_one(rows, buffers, out);
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

    /// [`average`](Self::average) for a single row. Its leaves are collected first,
    /// then each output is summed over the trees in a register: one dependent addition per tree
    /// instead of a load, an addition and a store through memory.
    fn average_one(&self, row: &impl RowValues, buffers: &mut Buffers, out: Outputs<'_>) {
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

    /// Sums margins for every row: `base_score`, then each tree's leaf in tree order (into its
    /// class under softmax), then `link`.
    fn sum(
        &self,
        rows: &impl RowValues,
        buffers: &mut Buffers,
        sums: &mut Vec<f64>,
        out: Outputs<'_>,
        base_score: f64,
        link: Link,
    ) {
        let n = rows.n_rows();
        let groups = if link == Link::Softmax {
            self.outputs
        } else {
            1
        };
        sums.clear();
        sums.resize(n * groups, base_score);
        let (leaf_values, leaf_group) = (&self.layout.leaf_values, &self.leaf_group);
        let s = &mut sums[..];
        self.layout
            .for_each_leaf(rows, &mut buffers.walk, |r, leaf| match groups {
                1 => s[r] += leaf_values[leaf],
                _ => s[r * groups + leaf_group[leaf] as usize] += leaf_values[leaf],
            });
        let Outputs {
            mut classes,
            mut values,
            mut proba,
        } = out;
        let k = self.outputs;
        for (r, margins) in sums.chunks_exact_mut(groups).enumerate() {
            match link {
                Link::Identity => {
                    if let Some(v) = values.as_deref_mut() {
                        v[r] = margins[0];
                    }
                }
                Link::Logistic => {
                    let p = sigmoid(margins[0]);
                    if let Some(c) = classes.as_deref_mut() {
                        c[r] = usize::from(p > 0.5);
                    }
                    if let Some(proba) = proba.as_deref_mut() {
                        proba[r * 2] = 1.0 - p;
                        proba[r * 2 + 1] = p;
                    }
                }
                Link::Softmax => {
                    if let Some(c) = classes.as_deref_mut() {
                        c[r] = first_max_f64(margins);
                    }
                    if let Some(proba) = proba.as_deref_mut() {
                        let max = margins.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                        let mut total = 0.0;
                        for m in margins.iter_mut() {
                            *m = (*m - max).exp();
                            total += *m;
                        }
                        for (p, m) in proba[r * k..(r + 1) * k].iter_mut().zip(margins.iter()) {
                            *p = m / total;
                        }
                    }
                }
            }
        }
    }
}

/// The first index of the largest count (smartcore's `which_max`).
pub(super) fn first_max(votes: &[u32]) -> usize {
    let mut best = 0;
    for (i, &v) in votes.iter().enumerate() {
        if v > votes[best] {
            best = i;
        }
    }
    best
}

/// The first index of the largest margin.
fn first_max_f64(values: &[f64]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}
