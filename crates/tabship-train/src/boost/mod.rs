//! Gradient-boosted trees on the histogram learner ([`crate::hist`]), exported as the core's
//! summed [`tabship::model::TreeEnsemble`].
//!
//! - [`loss`]: the objectives — logistic (two classes), softmax (three or more), squared error
//!   (regression); no others.
//! - [`rounds`]: the boosting loop and early stopping.
//! - [`export`]: the kept rounds as a `Combination::Sum` ensemble.
//!
//! Each round computes every training row's gradient and hessian at the current margins (times
//! its class weight), grows one tree per group on them with [`crate::hist::grow`], and adds the
//! learning rate times each leaf's Newton step to the margins of the rows that reached it (read
//! from the grown tree's `row_leaf`, not walked). The trees' leaves hold exactly those `f64`
//! margins, so the saved model predicts the training rows' margins the booster accumulated.

pub(crate) mod export;
pub(crate) mod loss;
pub(crate) mod rounds;
#[cfg(test)]
mod tests;

use tabship::model::TreeEnsemble;

use crate::Result;
use crate::hist::{Features, GrowOptions};
use crate::options::TrainOptions;
use crate::split::{Split, stratified_split, train_test_split};
use loss::{Labels, Objective};
use rounds::{RoundOptions, Rounds, Validation, boost};

/// How a boosted fit went, for the training report.
#[derive(Debug, Clone, PartialEq)]
pub struct BoostSummary {
    /// Rounds fitted.
    pub rounds_fitted: usize,
    /// Rounds kept in the model (the best round's, when early stopping).
    pub rounds_kept: usize,
    /// The loss early stopping watched (`log loss`, `multiclass log loss`, `mean squared error`).
    pub loss: &'static str,
    /// That loss on the held-out validation rows at the kept round, when early stopping.
    pub validation_loss: Option<f64>,
}

impl BoostSummary {
    /// One sentence for the report, when early stopping ran.
    pub fn early_stopping_note(&self) -> Option<String> {
        self.validation_loss.map(|loss| {
            format!(
                "gradient boosting kept {} of {} rounds fitted: the best validation {} was {loss:.6} \
                 (early stopping)",
                self.rounds_kept, self.rounds_fitted, self.loss
            )
        })
    }
}

/// A fitted booster.
#[derive(Debug, Clone)]
pub(crate) struct Boosted {
    /// The model, ready for the pipeline.
    pub ensemble: TreeEnsemble,
    /// How it went.
    pub summary: BoostSummary,
    /// The fitted rounds (the training rows' margins among them, which the tests check the
    /// saved model against).
    #[cfg_attr(not(test), allow(dead_code))]
    pub rounds: Rounds,
}

/// The round settings from the training options.
fn round_options(options: &TrainOptions) -> RoundOptions {
    let (t, b) = (&options.trees, &options.boosting);
    RoundOptions {
        rounds: t.n_trees,
        learning_rate: b.learning_rate,
        max_bins: t.max_bins,
        grow: GrowOptions {
            max_depth: t.max_depth,
            max_leaves: Some(b.max_leaves),
            min_samples_leaf: b.min_samples_leaf,
            min_child_weight: b.min_child_weight,
            l2: b.l2,
            min_split_gain: 0.0,
            features_per_split: None,
            random_thresholds: false,
            seed: options.seed,
            threads: t.threads.max(1),
        },
        early_stopping_rounds: b.early_stopping_rounds,
    }
}

/// Fits `objective` on `x`, holding out the validation rows `split` names when early stopping.
fn fit(
    x: Features<'_>,
    labels: Labels<'_>,
    weights: Option<&[f64]>,
    objective: Objective,
    split: Option<Split>,
    options: &TrainOptions,
) -> Result<Boosted> {
    let settings = round_options(options);
    let rounds = match split {
        None => x.with_columns(|c| boost(c, labels, weights, objective, &settings, None))?,
        Some(mut split) => {
            split.train.sort_unstable();
            split.test.sort_unstable();
            let pick_weights =
                |rows: &[usize]| weights.map(|w| rows.iter().map(|&r| w[r]).collect::<Vec<_>>());
            let (fit_weights, held_weights) =
                (pick_weights(&split.train), pick_weights(&split.test));
            let fit_x = x.take(&split.train);
            // The held-out rows are walked through each new tree: dense, and few.
            let held_x = x.take(&split.test).into_dense()?;
            let (fit_y, held_y) = (labels.take(&split.train), labels.take(&split.test));
            fit_x.view().with_columns(|c| {
                boost(
                    c,
                    fit_y.view(),
                    fit_weights.as_deref(),
                    objective,
                    &settings,
                    Some(Validation {
                        x: held_x.view(),
                        labels: held_y.view(),
                        weights: held_weights.as_deref(),
                    }),
                )
            })?
        }
    };
    Ok(Boosted {
        ensemble: export::to_ensemble(&rounds, objective),
        summary: BoostSummary {
            rounds_fitted: rounds.rounds_fitted,
            rounds_kept: rounds.rounds_kept,
            loss: objective.loss_name(),
            validation_loss: rounds.validation_loss,
        },
        rounds,
    })
}

/// The validation rows of an early-stopped fit, or `None` without early stopping.
fn validation_split(
    options: &TrainOptions,
    n: usize,
    classes: Option<&[usize]>,
) -> Result<Option<Split>> {
    let b = &options.boosting;
    if b.early_stopping_rounds.is_none() {
        return Ok(None);
    }
    let split = match classes {
        Some(y) => stratified_split(y, b.validation_fraction, options.seed),
        None => train_test_split(n, b.validation_fraction, options.seed),
    };
    if split.test.is_empty() || split.train.is_empty() {
        return Err(crate::Error::InvalidOption {
            option: "validation-fraction",
            reason: format!(
                "{} of {n} training rows leaves {} to fit and {} to validate; early stopping \
                 needs both",
                b.validation_fraction,
                split.train.len(),
                split.test.len()
            ),
        });
    }
    Ok(Some(split))
}

/// Fits a boosted classifier on encoded rows `x` and class indices `y` (`n_classes ≥ 2`),
/// each row's gradient weighted by its class's weight when `class_weights` is given.
pub(crate) fn fit_classifier<'a>(
    x: impl Into<Features<'a>>,
    y: &[usize],
    n_classes: usize,
    class_weights: Option<&[f64]>,
    options: &TrainOptions,
) -> Result<Boosted> {
    let objective = if n_classes == 2 {
        Objective::Logistic
    } else {
        Objective::Softmax { classes: n_classes }
    };
    let weights: Option<Vec<f64>> = class_weights.map(|w| y.iter().map(|&c| w[c]).collect());
    let split = validation_split(options, y.len(), Some(y))?;
    fit(
        x.into(),
        Labels::Classes(y),
        weights.as_deref(),
        objective,
        split,
        options,
    )
}

/// Fits a boosted regressor (squared error) on encoded rows `x` and targets `y`.
pub(crate) fn fit_regressor<'a>(
    x: impl Into<Features<'a>>,
    y: &[f64],
    options: &TrainOptions,
) -> Result<Boosted> {
    let split = validation_split(options, y.len(), None)?;
    fit(
        x.into(),
        Labels::Values(y),
        None,
        Objective::SquaredError,
        split,
        options,
    )
}
