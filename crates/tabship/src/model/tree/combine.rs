//! How the trees' leaves become a prediction: averaged and voted (forests, format 1.1) or summed
//! as margins through a link (boosting, format 1.4).

use super::TreeEnsemble;
use super::buffers::Buffers;
use super::format::{Combination, Link};
use super::walk::RowValues;
use crate::model::Outputs;

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
            Combination::Average if self.soft_vote => self.average_soft(rows, buffers, sums, out),
            Combination::Average => self.average(rows, buffers, sums, out),
            Combination::Sum { base_score, link } if self.accumulate_f32 => {
                self.sum_f32(rows, buffers, sums, out, base_score, link);
            }
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

    /// [`average`](Self::average) of a soft-voting classifier: the class distributions summed
    /// in tree order and divided by the number of trees, and the predicted class the first
    /// highest of those means (scikit-learn's forests: `argmax(predict_proba)`, after the
    /// division, which may round two sums to equal means).
    fn average_soft(
        &self,
        rows: &impl RowValues,
        buffers: &mut Buffers,
        sums: &mut Vec<f64>,
        out: Outputs<'_>,
    ) {
        let n = rows.n_rows();
        let k = self.outputs;
        let n_trees = self.trees.len() as f64;
        let leaf_values = &self.layout.leaf_values;
        sums.clear();
        sums.resize(n * k, 0.0);
        let s = &mut sums[..];
        self.layout
            .for_each_leaf(rows, &mut buffers.walk, |r, leaf| {
                let dist = &leaf_values[leaf * k..][..k];
                for (s, p) in s[r * k..][..k].iter_mut().zip(dist) {
                    *s += p;
                }
            });
        for s in sums.iter_mut() {
            *s /= n_trees;
        }
        if let Some(proba) = out.proba {
            proba.copy_from_slice(&sums[..proba.len()]);
        }
        if let Some(classes) = out.classes {
            for (r, c) in classes.iter_mut().enumerate() {
                *c = first_max_f64(&sums[r * k..(r + 1) * k]);
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

    /// Every row's margins into `sums` (one per class under softmax, else one per row):
    /// `base_score`, then each tree's leaf in tree order (into its class), each addition made
    /// by `add` (in `f64`, or in `f32` as XGBoost adds). Returns the margins per row.
    #[inline]
    fn margins(
        &self,
        rows: &impl RowValues,
        buffers: &mut Buffers,
        sums: &mut Vec<f64>,
        (base_score, link): (f64, Link),
        add: impl Fn(&mut f64, f64),
    ) -> usize {
        let groups = if link == Link::Softmax {
            self.outputs
        } else {
            1
        };
        sums.clear();
        sums.resize(rows.n_rows() * groups, base_score);
        let (leaf_values, leaf_group) = (&self.layout.leaf_values, &self.leaf_group);
        let s = &mut sums[..];
        self.layout
            .for_each_leaf(rows, &mut buffers.walk, |r, leaf| match groups {
                1 => add(&mut s[r], leaf_values[leaf]),
                _ => add(
                    &mut s[r * groups + leaf_group[leaf] as usize],
                    leaf_values[leaf],
                ),
            });
        groups
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
        let groups = self.margins(rows, buffers, sums, (base_score, link), |s, leaf| {
            *s += leaf
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
                    let p = logistic(margins[0]);
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

impl TreeEnsemble {
    /// [`sum`](Self::sum) as XGBoost computes it: every margin is an `f32` (held in `sums` as
    /// an exactly widened `f64`), added up in tree order from the `f32` base score, and the link
    /// is XGBoost's `f32` sigmoid or softmax. Validation made the base score and every leaf an
    /// `f32` value, so the narrowing casts below are exact.
    fn sum_f32(
        &self,
        rows: &impl RowValues,
        buffers: &mut Buffers,
        sums: &mut Vec<f64>,
        out: Outputs<'_>,
        base_score: f64,
        link: Link,
    ) {
        let groups = self.margins(rows, buffers, sums, (base_score, link), |s, leaf| {
            *s = f64::from(*s as f32 + leaf as f32);
        });
        let Outputs {
            mut classes,
            mut values,
            mut proba,
        } = out;
        let k = self.outputs;
        let mut margins = vec![0f32; groups];
        for (r, row) in sums.chunks_exact(groups).enumerate() {
            for (m, &s) in margins.iter_mut().zip(row) {
                *m = s as f32;
            }
            match link {
                Link::Identity => {
                    if let Some(v) = values.as_deref_mut() {
                        v[r] = f64::from(margins[0]);
                    }
                }
                Link::Logistic => {
                    let p = sigmoid_f32(margins[0]);
                    if let Some(c) = classes.as_deref_mut() {
                        c[r] = usize::from(p > 0.5);
                    }
                    if let Some(proba) = proba.as_deref_mut() {
                        // scikit-learn's wrapper: `1.0 - p` on a float32 array.
                        proba[r * 2] = f64::from(1.0 - p);
                        proba[r * 2 + 1] = f64::from(p);
                    }
                }
                Link::Softmax => {
                    softmax_f32(&mut margins);
                    if let Some(c) = classes.as_deref_mut() {
                        // `XGBClassifier.predict`: the first largest probability.
                        c[r] = first_max_f32(&margins);
                    }
                    if let Some(proba) = proba.as_deref_mut() {
                        for (p, &m) in proba[r * k..(r + 1) * k].iter_mut().zip(&margins) {
                            *p = f64::from(m);
                        }
                    }
                }
            }
        }
    }
}

/// The summed ensembles' `f64` logistic link, `1 / (1 + exp(-m))` computed as written: LightGBM's
/// binary `ConvertOutput` (with `sigmoid:1`) and SciPy's `expit`, whose results importers
/// reproduce bit for bit. (The linear models' [`sigmoid`](crate::model::sigmoid) rewrites negative
/// margins as `e / (1 + e)`, which rounds differently.) A margin below about -709 gives
/// `1 / (1 + inf) = 0`, never NaN.
#[inline]
pub(crate) fn logistic(m: f64) -> f64 {
    1.0 / (1.0 + (-m).exp())
}

/// XGBoost's `common::Sigmoid(float)` (`src/common/math.h`): the exponent clamped at 88.7 so
/// that `expf` does not overflow, and its `1e-16` epsilon (which an `f32` sum with 1 absorbs,
/// kept so the operations are XGBoost's).
pub(crate) fn sigmoid_f32(x: f32) -> f32 {
    const EPS: f32 = 1e-16;
    // `std::min(-x, 88.7f)`: the first argument unless the second is smaller.
    let x = if 88.7_f32 < -x { 88.7_f32 } else { -x };
    let denom = x.exp() + 1.0 + EPS;
    1.0 / denom
}

/// XGBoost's `common::Softmax` (`src/common/math.h`), in place: `expf(m - max)` in `f32`,
/// summed in `f64`, each divided by the sum narrowed to `f32`.
pub(crate) fn softmax_f32(margins: &mut [f32]) {
    let Some(&first) = margins.first() else {
        return;
    };
    let wmax = margins[1..].iter().fold(first, |w, &m| m.max(w));
    let mut wsum = 0.0_f64;
    for m in margins.iter_mut() {
        *m = (*m - wmax).exp();
        wsum += f64::from(*m);
    }
    let total = wsum as f32;
    for m in margins.iter_mut() {
        *m /= total;
    }
}

/// The first index of the largest `f32` value (`numpy.argmax`).
fn first_max_f32(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
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
pub(super) fn first_max_f64(values: &[f64]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}
