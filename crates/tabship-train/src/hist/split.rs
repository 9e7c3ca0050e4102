//! Split finding on one feature's histogram.
//!
//! A split sends value bins `≤ b` left and the missing bin to its learned side: both sides are
//! tried when the node has missing rows. With none, the gain does not depend on the side, and
//! missing values (met only at prediction) go to the child with the larger hessian (for forests:
//! more rows, counting repeats), the left one on a tie. The gain is the second-order one summed
//! over the channels, `Σ G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ)`; a side needs at least
//! `min_samples_leaf` rows and `min_child_weight` hessian.

/// The limits every child of a split must respect.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Constraints {
    /// Statistic channels per bin (then the hessian and the count).
    pub channels: usize,
    /// Fewest rows (counting repeats) in a child; at least 1.
    pub min_samples_leaf: f64,
    /// Fewest summed hessian in a child.
    pub min_child_weight: f64,
    /// L2 on leaf values.
    pub l2: f64,
}

/// The best split found in one feature.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct FeatureSplit {
    /// Value bins `≤ bin` go left.
    pub bin: usize,
    /// Whether the missing bin goes left.
    pub missing_left: bool,
    /// The split's gain.
    pub gain: f64,
}

impl Constraints {
    /// `Σ_c G_c² / (H + λ)` of a node's statistics (0 without hessian).
    pub(crate) fn score(&self, stats: &[f64]) -> f64 {
        let h = stats[self.channels] + self.l2;
        if h <= 0.0 {
            return 0.0;
        }
        stats[..self.channels].iter().map(|g| g * g).sum::<f64>() / h
    }

    /// The best split of one feature's bins (`value_bins` value bins, then the missing bin) in a
    /// node with statistics `totals`; only the split at `only_bin` when given (extra trees).
    /// Ties keep the first found: the lowest bin, missing right before left.
    pub(crate) fn best_in_feature(
        &self,
        bins: &[f64],
        value_bins: usize,
        totals: &[f64],
        only_bin: Option<usize>,
    ) -> Option<FeatureSplit> {
        let stride = self.channels + 2;
        let (count, hess) = (self.channels + 1, self.channels);
        let missing = &bins[value_bins * stride..(value_bins + 1) * stride];
        let has_missing = missing[count] > 0.0;
        let parent = self.score(totals);
        let mut left = vec![0.0; stride];
        let mut trial = vec![0.0; stride];
        let mut right = vec![0.0; stride];
        let mut best: Option<FeatureSplit> = None;
        let bins_to_try = match only_bin {
            Some(b) => b.min(value_bins - 1) + 1,
            None => value_bins,
        };
        for b in 0..bins_to_try {
            for (l, v) in left.iter_mut().zip(&bins[b * stride..(b + 1) * stride]) {
                *l += v;
            }
            if only_bin.is_some_and(|o| o != b) {
                continue;
            }
            for missing_left in [false, true] {
                if missing_left && !has_missing {
                    break;
                }
                for i in 0..stride {
                    trial[i] = left[i] + if missing_left { missing[i] } else { 0.0 };
                    right[i] = totals[i] - trial[i];
                }
                if trial[count] < self.min_samples_leaf
                    || right[count] < self.min_samples_leaf
                    || trial[hess] < self.min_child_weight
                    || right[hess] < self.min_child_weight
                {
                    continue;
                }
                let gain = self.score(&trial) + self.score(&right) - parent;
                if best.is_none_or(|s| gain > s.gain) {
                    best = Some(FeatureSplit {
                        bin: b,
                        missing_left: if has_missing {
                            missing_left
                        } else {
                            trial[hess] >= right[hess]
                        },
                        gain,
                    });
                }
            }
        }
        best
    }
}

/// How a node's rows spread over one feature's bins: the lowest and highest occupied value bins
/// (`None` when every row is missing) and whether any row is missing.
pub(crate) fn occupancy(
    bins: &[f64],
    value_bins: usize,
    stride: usize,
) -> (Option<(usize, usize)>, bool) {
    let count = |b: usize| bins[b * stride + stride - 1];
    let lo = (0..value_bins).find(|&b| count(b) > 0.0);
    let hi = (0..value_bins).rev().find(|&b| count(b) > 0.0);
    (lo.zip(hi), count(value_bins) > 0.0)
}
