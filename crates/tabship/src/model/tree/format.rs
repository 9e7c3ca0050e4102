//! The stored form of a tree ensemble: one struct-of-arrays per tree, how the trees combine, and
//! how each split treats a missing value and compares. Every field added after format 1.1 has a
//! default that is today's behaviour and is not written when it holds that default, so a
//! random forest's bytes are those of format 1.1.
//!
//! A node decides for a row's value `x` (already rounded to `f32` when the ensemble says
//! `features_f32`) in this order, which is [`TreeSpec::goes_left`]:
//!
//! 1. `x` is NaN: under [`MISSING_NAN`] (the default) the node's missing side
//!    ([`TreeSpec::missing_left`]) decides; under [`MISSING_NONE`] and [`MISSING_ZERO`] `x`
//!    becomes `0.0` and the node goes on (LightGBM's rule).
//! 2. Under [`MISSING_ZERO`], `|x| <= 1e-35` (LightGBM's `kZeroThreshold`, an `f32`) is missing:
//!    the missing side decides.
//! 3. A categorical node ([`TreeSpec::categorical`]) sends the codes its bitset lists to its
//!    listed side and every other value (negative, infinite, beyond the bitset) to the other;
//!    a non-negative value is truncated to its integer code first, as XGBoost and LightGBM do.
//! 4. A numeric node compares `x <= threshold`, or `x < threshold` when [`TreeSpec::strict`].

use serde::{Deserialize, Serialize};

use crate::artifact::packed::{PackedF64, PackedU8, PackedU32};

/// `left[i]` of a leaf.
pub const LEAF: u32 = u32::MAX;

/// [`TreeSpec::missing_type`]: NaN is missing and goes to the node's missing side (the default).
pub const MISSING_NAN: u8 = 0;
/// [`TreeSpec::missing_type`]: nothing is missing; NaN becomes `0.0` and is compared (LightGBM's
/// `MissingType::None`).
pub const MISSING_NONE: u8 = 1;
/// [`TreeSpec::missing_type`]: NaN becomes `0.0`, and a value with `|x| <= 1e-35` goes to the
/// node's missing side (LightGBM's `MissingType::Zero`).
pub const MISSING_ZERO: u8 = 2;

/// [`TreeSpec::categorical`]: a numeric split (the default).
pub const SPLIT_NUMERIC: u8 = 0;
/// [`TreeSpec::categorical`]: the listed codes go left, every other value right (LightGBM).
pub const SPLIT_LISTED_LEFT: u8 = 1;
/// [`TreeSpec::categorical`]: the listed codes go right, every other value left (XGBoost).
pub const SPLIT_LISTED_RIGHT: u8 = 2;

/// LightGBM's `kZeroThreshold`: the `f32` literal `1e-35f` widened to `f64`.
pub const ZERO_THRESHOLD: f64 = 1e-35_f32 as f64;

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
    /// Per node, how a NaN and values near zero are treated: [`MISSING_NAN`] (the default),
    /// [`MISSING_NONE`] or [`MISSING_ZERO`] (format 1.5). Empty: every node is [`MISSING_NAN`].
    #[serde(default, skip_serializing_if = "PackedU8::is_empty")]
    pub missing_type: PackedU8,
    /// Per node, [`SPLIT_NUMERIC`], or a categorical split that sends the codes its bitset lists
    /// left ([`SPLIT_LISTED_LEFT`]) or right ([`SPLIT_LISTED_RIGHT`]) (format 1.5). Empty: every
    /// split is numeric. A categorical node's `threshold` is unused and stored as `0`.
    #[serde(default, skip_serializing_if = "PackedU8::is_empty")]
    pub categorical: PackedU8,
    /// With [`categorical`](Self::categorical): `n + 1` offsets into
    /// [`category_bits`](Self::category_bits), node `i`'s bitset being
    /// `category_bits[category_offsets[i]..category_offsets[i + 1]]` (empty for numeric nodes).
    #[serde(default, skip_serializing_if = "PackedU32::is_empty")]
    pub category_offsets: PackedU32,
    /// The bitsets of every categorical node, 32 codes per word: code `c` is listed when bit
    /// `c % 32` (least significant first) of word `c / 32` is set, as LightGBM stores them.
    #[serde(default, skip_serializing_if = "PackedU32::is_empty")]
    pub category_bits: PackedU32,
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

    /// Node `i`'s [`missing_type`](Self::missing_type).
    #[inline]
    pub(crate) fn missing_type_of(&self, i: usize) -> u8 {
        self.missing_type.0.get(i).copied().unwrap_or(MISSING_NAN)
    }

    /// Node `i`'s kind of split ([`categorical`](Self::categorical)).
    #[inline]
    pub(crate) fn split_kind(&self, i: usize) -> u8 {
        self.categorical.0.get(i).copied().unwrap_or(SPLIT_NUMERIC)
    }

    /// Whether value `x` (already rounded when the ensemble compares in `f32`) goes left at
    /// node `i`, by the rules of the module documentation.
    #[inline]
    pub(crate) fn goes_left(&self, i: usize, x: f64) -> bool {
        let missing = self.missing_type_of(i);
        let x = if x.is_nan() {
            if missing == MISSING_NAN {
                return self.goes_left_when_missing(i);
            }
            0.0
        } else {
            x
        };
        if missing == MISSING_ZERO && (-ZERO_THRESHOLD..=ZERO_THRESHOLD).contains(&x) {
            return self.goes_left_when_missing(i);
        }
        match self.split_kind(i) {
            SPLIT_NUMERIC if self.is_strict(i) => x < self.threshold.0[i],
            SPLIT_NUMERIC => x <= self.threshold.0[i],
            kind => self.lists(i, x) == (kind == SPLIT_LISTED_LEFT),
        }
    }

    /// Whether categorical node `i`'s bitset lists value `x` (not NaN): `x >= 0` (so `-0.0`
    /// is code 0), truncated to an integer code below the bitset's length, with its bit set.
    #[inline]
    pub(crate) fn lists(&self, i: usize, x: f64) -> bool {
        // Never NaN here: NaN took its missing side or became 0.0.
        if x < 0.0 {
            return false;
        }
        let start = self.category_offsets.0[i] as usize;
        let words = &self.category_bits.0[start..self.category_offsets.0[i + 1] as usize];
        // `as` saturates: infinity becomes u64::MAX, beyond every bitset.
        let code = x as u64;
        usize::try_from(code / 32)
            .ok()
            .and_then(|w| words.get(w))
            .is_some_and(|&word| (word >> (code % 32)) & 1 == 1)
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

    /// Whether the tree stores LightGBM's missing types or categorical splits (format 1.5).
    pub(crate) fn has_format_1_5_rules(&self) -> bool {
        !self.missing_type.is_empty()
            || !self.categorical.is_empty()
            || !self.category_offsets.is_empty()
            || !self.category_bits.is_empty()
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
