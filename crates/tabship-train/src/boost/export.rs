//! Fitted rounds into the core's boosted-tree model: [`TreeEnsemble`] with
//! [`Combination::Sum`], the form the XGBoost and LightGBM importers produce, so everything
//! downstream (drift profile, server, Python, ONNX export) predicts it unchanged.

use tabship::Task;
use tabship::model::{Combination, Link, TreeEnsemble};

use super::loss::Objective;
use super::rounds::Rounds;

/// The core's link for `objective`.
pub(crate) fn link(objective: Objective) -> Link {
    match objective {
        Objective::Logistic => Link::Logistic,
        Objective::Softmax { .. } => Link::Softmax,
        Objective::SquaredError => Link::Identity,
    }
}

/// The ensemble of the kept rounds: leaves are `f64` margins summed from `base_score` in tree
/// order, as the rounds summed them for the training rows.
pub(crate) fn to_ensemble(rounds: &Rounds, objective: Objective) -> TreeEnsemble {
    let task = match objective {
        Objective::SquaredError => Task::Regression,
        _ => Task::Classification,
    };
    TreeEnsemble::new(task, rounds.trees.clone()).with_combination(Combination::Sum {
        base_score: rounds.base_score,
        link: link(objective),
    })
}
