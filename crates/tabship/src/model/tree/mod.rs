//! Tree ensembles: decision trees, random forests and extra trees (and, from format 1.4, the
//! layout gradient-boosted trees need; from 1.5, what exact imports of XGBoost and LightGBM
//! need: `f32` comparisons and sums, missing types, categorical splits), one struct-of-arrays
//! per tree.
//!
//! Node `i` is a leaf when `left[i] == LEAF`; then `right[i]` is its row in `leaf_values` (and
//! `leaf_class`). Otherwise a row goes to `left[i]` when `x[feature[i]] <= threshold[i]` and to
//! `right[i]` else (NaN goes right), exactly as smartcore decides; a node may instead compare
//! `x < threshold` or send NaN left ([`TreeSpec::strict`], [`TreeSpec::missing_left`]). Children
//! always have larger indices than their parent, so every walk ends.
//!
//! The files, by purpose: [`format`] the stored form (trees, [`Combination`], [`Link`]),
//! `validate` the checks of an artifact's trees, `walk` the prediction layout derived at load
//! time, `combine` how leaves become predictions, `buffers` what prediction reuses.

mod buffers;
mod combine;
mod format;
#[cfg(test)]
mod tests;
mod validate;
mod walk;

use serde::{Deserialize, Serialize};

pub use format::{
    Combination, LEAF, Link, MISSING_NAN, MISSING_NONE, MISSING_ZERO, SPLIT_LISTED_LEFT,
    SPLIT_LISTED_RIGHT, SPLIT_NUMERIC, TreeSpec, ZERO_THRESHOLD,
};

use crate::Result;
use crate::encode::Entry;
use crate::model::{Outputs, Task};
use buffers::{BUFFERS, Entries, MAX_ROWS_AT_ONCE, part};
use walk::Layout;

/// A tree ensemble: one tree is a decision tree; forests combine their trees.
///
/// Under [`Combination::Average`] (the default) classifiers predict the class with most votes
/// (ties to the lowest class index) and average the leaves' class distributions for
/// probabilities; regressors sum leaf values in tree order and divide by the number of trees.
/// Under [`Combination::Sum`] leaves hold margins that add up from a base score through a link.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TreeEnsemble {
    /// Classification (trees vote and carry class distributions) or regression.
    pub task: Task,
    /// The trees.
    pub trees: Vec<TreeSpec>,
    /// How the trees combine (format 1.4 when not [`Combination::Average`], which is not
    /// written).
    #[serde(default, skip_serializing_if = "Combination::is_average")]
    pub combination: Combination,
    /// Each feature value is rounded to `f32` (`x as f32 as f64`) before every comparison, as
    /// XGBoost (f32 values and thresholds) and scikit-learn's trees (f32 values, f64
    /// thresholds) compare (format 1.5 when true; false is not written).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub features_f32: bool,
    /// Margins are summed in `f32`, in tree order from the `f32` base score, and the link is
    /// computed in `f32` as XGBoost computes it (format 1.5 when true; false is not written).
    /// Requires [`Combination::Sum`] with a base score and leaf margins that are `f32` values.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub accumulate_f32: bool,
    /// Averaged classifiers predict the first class of highest mean probability (scikit-learn's
    /// forests: the argmax of `predict_proba`) instead of the majority vote of `leaf_class`
    /// (format 1.5 when true; false is not written). Requires [`Combination::Average`] and a
    /// classifier.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub soft_vote: bool,
    /// Boxed: derived at load, read once per prediction call, and large next to the other
    /// model types.
    #[serde(skip)]
    layout: Box<Layout>,
    /// Outputs per row: the number of classes, or 1 for a regressor.
    #[serde(skip)]
    outputs: usize,
    /// Summed softmax ensembles: per leaf (numbered across trees), the class its tree adds to.
    #[serde(skip)]
    leaf_group: Vec<u32>,
}

impl PartialEq for TreeEnsemble {
    fn eq(&self, other: &Self) -> bool {
        self.task == other.task
            && self.trees == other.trees
            && self.combination == other.combination
            && self.features_f32 == other.features_f32
            && self.accumulate_f32 == other.accumulate_f32
            && self.soft_vote == other.soft_vote
    }
}

impl TreeEnsemble {
    /// An ensemble of `trees` averaged as a forest (validated when the pipeline is assembled).
    pub fn new(task: Task, trees: Vec<TreeSpec>) -> Self {
        TreeEnsemble {
            task,
            trees,
            combination: Combination::Average,
            features_f32: false,
            accumulate_f32: false,
            soft_vote: false,
            layout: Box::default(),
            outputs: 0,
            leaf_group: Vec::new(),
        }
    }

    /// The same trees combined by `combination`.
    pub fn with_combination(mut self, combination: Combination) -> Self {
        self.combination = combination;
        self
    }

    /// The same ensemble, comparing feature values rounded to `f32` when `on`
    /// ([`features_f32`](Self::features_f32)).
    pub fn with_features_f32(mut self, on: bool) -> Self {
        self.features_f32 = on;
        self
    }

    /// The same ensemble, summing margins and computing the link in `f32` when `on`
    /// ([`accumulate_f32`](Self::accumulate_f32)).
    pub fn with_accumulate_f32(mut self, on: bool) -> Self {
        self.accumulate_f32 = on;
        self
    }

    /// The same ensemble, predicting the class of highest mean probability when `on`
    /// ([`soft_vote`](Self::soft_vote)).
    pub fn with_soft_vote(mut self, on: bool) -> Self {
        self.soft_vote = on;
        self
    }

    /// Total number of nodes.
    pub fn n_nodes(&self) -> usize {
        self.trees.iter().map(|t| t.left.len()).sum()
    }

    /// The lowest artifact format minor that holds this ensemble: 1; 4 when it uses the
    /// boosting layout (a sum combination, or per-node `missing_left`/`strict` rules); 5 when it
    /// compares or sums in `f32`, votes softly, or has missing types or categorical splits.
    pub fn format_minor(&self) -> u16 {
        if self.features_f32
            || self.accumulate_f32
            || self.soft_vote
            || self.trees.iter().any(TreeSpec::has_format_1_5_rules)
        {
            5
        } else if self.combination.is_average() && !self.trees.iter().any(TreeSpec::has_split_rules)
        {
            1
        } else {
            4
        }
    }

    /// Validates every tree against `width` features and `n_classes` (None: regression) and
    /// builds the traversal layout.
    pub(crate) fn prepare(&mut self, width: usize, n_classes: Option<usize>) -> Result<()> {
        if self.soft_vote && !(self.combination.is_average() && n_classes.is_some()) {
            return Err(crate::Error::field(
                "model.soft_vote",
                "only an averaged classifier votes softly",
            ));
        }
        validate::validate_ensemble(
            &self.trees,
            self.combination,
            self.accumulate_f32,
            self.task,
            width,
            n_classes,
        )?;
        *self.layout = Layout::new(&self.trees, width, self.features_f32);
        self.outputs = n_classes.unwrap_or(1);
        self.leaf_group = match self.combination {
            Combination::Sum {
                link: Link::Softmax,
                ..
            } => self
                .trees
                .iter()
                .enumerate()
                .flat_map(|(t, tree)| {
                    let leaves = tree.left.0.iter().filter(|&&l| l == LEAF).count();
                    std::iter::repeat_n((t % self.outputs) as u32, leaves)
                })
                .collect(),
            _ => Vec::new(),
        };
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
        mut out: Outputs<'_>,
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
                let out = Outputs {
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
    fn predict_dense(&self, x: &[f64], width: usize, out: Outputs<'_>) {
        let source = buffers::Dense { x, width };
        self.predict_source(
            &source,
            &mut buffers::Buffers::default(),
            &mut Vec::new(),
            out,
        );
    }
}
