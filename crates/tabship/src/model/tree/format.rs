//! The stored form of a tree ensemble: one struct-of-arrays per tree, how the trees combine, and
//! how each split treats a missing value and compares. Every field added after format 1.1 has a
//! default that is today's behaviour and is not written when it holds that default, so a
//! random forest's bytes are those of format 1.1.

use serde::{Deserialize, Serialize};

use crate::artifact::packed::{PackedF64, PackedU8, PackedU32};

/// `left[i]` of a leaf.
pub const LEAF: u32 = u32::MAX;

/// One tree as stored: parallel arrays over its nodes, plus its leaves' outputs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TreeSpec {
    /// Split feature of each node (0 for leaves).
    pub feature: PackedU32,
    /// Split threshold of each node (0 for leaves).
    pub threshold: PackedF64,
    /// Left child (`x <= threshold`, or `x < threshold` for a [`strict`](Self::strict) node), or
    /// [`LEAF`].
    pub left: PackedU32,
    /// Right child, or for a leaf its index into the leaf arrays.
    pub right: PackedU32,
    /// Per leaf, its outputs: under [`Combination::Average`] a regressor's value or a
    /// classifier's class probabilities (the class frequencies of the training rows that reach
    /// the leaf); under [`Combination::Sum`] one margin.
    pub leaf_values: PackedF64,
    /// Classifiers combined by [`Combination::Average`]: per leaf, the class the tree votes for
    /// (its majority class as fitted). Empty otherwise.
    #[serde(default)]
    pub leaf_class: PackedU32,
    /// Per node, 1 when a missing value (NaN) goes to the left child, 0 when it goes right
    /// (format 1.4). Empty: every missing value goes right, as smartcore decides.
    #[serde(default, skip_serializing_if = "PackedU8::is_empty")]
    pub missing_left: PackedU8,
    /// Per node, 1 when the split is `x < threshold` (XGBoost's rule), 0 when it is
    /// `x <= threshold` (format 1.4). Empty: every split is `x <= threshold`.
    #[serde(default, skip_serializing_if = "PackedU8::is_empty")]
    pub strict: PackedU8,
}

impl TreeSpec {
    /// Whether a missing value goes left at node `i`.
    #[inline]
    pub(crate) fn goes_left_when_missing(&self, i: usize) -> bool {
        self.missing_left.0.get(i).is_some_and(|&m| m != 0)
    }

    /// Whether node `i` splits on `x < threshold`.
    #[inline]
    pub(crate) fn is_strict(&self, i: usize) -> bool {
        self.strict.0.get(i).is_some_and(|&s| s != 0)
    }

    /// Whether a present value `x` goes left at node `i`.
    #[inline]
    pub(crate) fn goes_left(&self, i: usize, x: f64) -> bool {
        if x.is_nan() {
            self.goes_left_when_missing(i)
        } else if self.is_strict(i) {
            x < self.threshold.0[i]
        } else {
            x <= self.threshold.0[i]
        }
    }

    /// The threshold `u` of node `i` under `x <= u`: a strict split `x < t` is `x <= u` for the
    /// largest `u` below `t`, for every value but NaN, so one comparison serves both rules.
    pub(crate) fn inclusive_threshold(&self, i: usize) -> f64 {
        let t = self.threshold.0[i];
        if self.is_strict(i) { next_down(t) } else { t }
    }

    /// Whether the tree stores per-node split rules (written, so format 1.4, when present).
    pub(crate) fn has_split_rules(&self) -> bool {
        !self.missing_left.is_empty() || !self.strict.is_empty()
    }
}

/// The largest `f64` below finite or infinite `x` (`f64::next_down`, stable only from Rust 1.86).
fn next_down(x: f64) -> f64 {
    if x.is_nan() || x == f64::NEG_INFINITY {
        return x;
    }
    if x == 0.0 {
        // Below both zeros: the negative subnormal closest to zero.
        return -f64::from_bits(1);
    }
    let bits = x.to_bits();
    f64::from_bits(if x > 0.0 { bits - 1 } else { bits + 1 })
}

/// How an ensemble's trees make one prediction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Combination {
    /// Random forests and single trees (format 1.1): regressors average the leaf values,
    /// classifiers vote with `leaf_class` and average the leaves' class distributions.
    #[default]
    Average,
    /// Gradient boosting (format 1.4): each leaf holds one margin; a row's margin is
    /// `base_score` plus its leaves' margins in tree order, and `link` turns margins into the
    /// prediction. Under [`Link::Softmax`] tree `t` adds to class `t % classes`.
    Sum {
        /// The margin before any tree.
        base_score: f64,
        /// From margins to the prediction.
        link: Link,
    },
}

impl Combination {
    /// True for [`Combination::Average`], which is not written.
    pub fn is_average(&self) -> bool {
        matches!(self, Combination::Average)
    }
}

/// From a summed margin to a prediction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Link {
    /// Regression: the margin is the value.
    Identity,
    /// Two classes: `p(classes[1]) = 1 / (1 + exp(-margin))`.
    Logistic,
    /// `K ≥ 2` classes, one margin each: probabilities `softmax(margins)`.
    Softmax,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_down_is_the_largest_value_below() {
        assert_eq!(next_down(1.0), 1.0 - f64::EPSILON / 2.0);
        assert_eq!(next_down(-1.0), -1.0 - f64::EPSILON);
        assert_eq!(next_down(0.0), -f64::from_bits(1));
        assert_eq!(next_down(-0.0), -f64::from_bits(1));
        assert_eq!(next_down(f64::from_bits(1)), 0.0);
        assert_eq!(next_down(-f64::MAX), f64::NEG_INFINITY);
        assert_eq!(next_down(f64::INFINITY), f64::MAX);
    }
}
