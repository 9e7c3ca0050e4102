//! The boosting loop: rounds of trees grown on the gradients of the current margins, the
//! training rows' margins updated from the leaves they reached (no walk), and early stopping on
//! held-out rows.

use ndarray::{ArrayView2, Axis};
use tabship::model::{LEAF, TreeSpec};

use super::loss::{Labels, Objective};
use crate::hist::{BinnedMatrix, FeatureColumns, GrowOptions, grow};
use crate::{Error, Result};

/// How the rounds run.
#[derive(Debug, Clone)]
pub(crate) struct RoundOptions {
    /// Rounds at most (each adds one tree per group).
    pub rounds: usize,
    /// A leaf's value is this times its Newton step.
    pub learning_rate: f64,
    /// Bins per feature (2..=255).
    pub max_bins: usize,
    /// How each tree grows (its `seed` is offset by the tree's index).
    pub grow: GrowOptions,
    /// Stop after this many rounds without a lower validation loss.
    pub early_stopping_rounds: Option<usize>,
}

/// Rows held out of the fit and scored every round.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Validation<'a> {
    /// Their encoded features.
    pub x: ArrayView2<'a, f64>,
    /// Their targets.
    pub labels: Labels<'a>,
    /// Their weights (class weights), if any.
    pub weights: Option<&'a [f64]>,
}

/// The fitted rounds.
#[derive(Debug, Clone)]
pub(crate) struct Rounds {
    /// The margin before any tree.
    pub base_score: f64,
    /// The kept trees, `groups` per round in group order, leaves holding their margins.
    pub trees: Vec<TreeSpec>,
    /// The training rows' margins after the kept trees (`margins[row * groups + group]`), summed
    /// as the core sums: the base score, then each tree's leaf in tree order, in `f64`.
    #[cfg_attr(not(test), allow(dead_code))]
    pub margins: Vec<f64>,
    /// Rounds fitted (more than kept when early stopping went past the best round).
    pub rounds_fitted: usize,
    /// Rounds kept.
    pub rounds_kept: usize,
    /// The validation loss of the kept rounds, when early stopping.
    pub validation_loss: Option<f64>,
}

/// The leaf `x` reaches in `tree`, by the core's rule for the nodes the histogram learner
/// grows (numeric `x <= threshold`, NaN to the node's missing side).
pub(crate) fn leaf_of(tree: &TreeSpec, x: ndarray::ArrayView1<'_, f64>) -> usize {
    let mut i = 0usize;
    loop {
        if tree.left.0[i] == LEAF {
            return tree.right.0[i] as usize;
        }
        let v = x[tree.feature.0[i] as usize];
        let left = if v.is_nan() {
            tree.missing_left.0.get(i).is_some_and(|&m| m != 0)
        } else {
            v <= tree.threshold.0[i]
        };
        i = if left {
            tree.left.0[i]
        } else {
            tree.right.0[i]
        } as usize;
    }
}

/// Fits `options.rounds` rounds of `objective` on the rows of `x` (the encoded training rows'
/// columns; NaN = missing), keeping the rounds up to the best validation loss when `validation` is given
/// and early stopping is on.
pub(crate) fn boost(
    x: &dyn FeatureColumns,
    labels: Labels<'_>,
    weights: Option<&[f64]>,
    objective: Objective,
    options: &RoundOptions,
    validation: Option<Validation<'_>>,
) -> Result<Rounds> {
    let n = x.n_rows();
    if n == 0 {
        return Err(Error::Data("gradient boosting needs training rows".into()));
    }
    let binned = BinnedMatrix::new(x, options.max_bins, options.grow.threads)?;
    let groups = objective.groups();
    let base_score = objective.base_score(labels, weights);
    let rows: Vec<u32> = (0..binned.n_rows() as u32).collect();
    let mut margins = vec![base_score; n * groups];
    let mut grad = vec![0f32; n * groups];
    let mut hess = vec![0f32; n * groups];
    let mut trees = Vec::with_capacity(options.rounds * groups);
    let mut validation_margins = validation.map(|v| vec![base_score; v.x.nrows() * groups]);
    // (round count, loss, training margins) of the best round so far.
    let mut best: Option<(usize, f64, Vec<f64>)> = None;
    let mut rounds_fitted = 0;
    for round in 0..options.rounds {
        objective.gradients(&margins, labels, weights, &mut grad, &mut hess);
        for group in 0..groups {
            let tree_index = round * groups + group;
            let grow_options = GrowOptions {
                seed: options.grow.seed.wrapping_add(tree_index as u64),
                ..options.grow.clone()
            };
            let span = group * n..(group + 1) * n;
            let grown = grow(
                &binned,
                &grad[span.clone()],
                &hess[span],
                &rows,
                &grow_options,
            );
            let mut spec = grown.spec;
            for value in spec.leaf_values.0.iter_mut() {
                *value *= options.learning_rate;
                if !value.is_finite() {
                    return Err(Error::Fit {
                        model: "gradient-boosting",
                        message: format!(
                            "tree {tree_index} has a leaf value that is not finite; raise \
                             --l2 or --min-child-weight"
                        ),
                    });
                }
            }
            let leaves = &spec.leaf_values.0;
            for (&row, &leaf) in rows.iter().zip(&grown.row_leaf) {
                margins[row as usize * groups + group] += leaves[leaf as usize];
            }
            if let (Some(v), Some(vm)) = (&validation, validation_margins.as_mut()) {
                for (r, row) in v.x.axis_iter(Axis(0)).enumerate() {
                    vm[r * groups + group] += leaves[leaf_of(&spec, row)];
                }
            }
            trees.push(spec);
        }
        rounds_fitted = round + 1;
        let (Some(v), Some(vm), Some(patience)) = (
            &validation,
            &validation_margins,
            options.early_stopping_rounds,
        ) else {
            continue;
        };
        let loss = objective.loss(vm, v.labels, v.weights);
        match &best {
            Some((_, best_loss, _)) if loss >= *best_loss => {}
            _ => best = Some((rounds_fitted, loss, margins.clone())),
        }
        if let Some((best_round, _, _)) = &best {
            if rounds_fitted - best_round >= patience {
                break;
            }
        }
    }
    let (rounds_kept, validation_loss) = match best {
        Some((kept, loss, best_margins)) => {
            trees.truncate(kept * groups);
            margins = best_margins;
            (kept, Some(loss))
        }
        None => (rounds_fitted, None),
    };
    Ok(Rounds {
        base_score,
        trees,
        margins,
        rounds_fitted,
        rounds_kept,
        validation_loss,
    })
}
