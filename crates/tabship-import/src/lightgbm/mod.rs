//! LightGBM text models (`Booster.save_model`, format `v4`): [`parse`] reads and checks one.
//!
//! LightGBM predicts by walking each tree on `f64` values (`x <= threshold` goes left; a
//! per-node missing type and default side; categorical splits send the codes of a bitset left),
//! summing the leaves in `f64` in tree order (tree `t` into output `t % num_tree_per_iteration`)
//! from 0.0, dividing by the number of iterations under `average_output`, and converting by the
//! objective (sigmoid, softmax, or nothing).

mod convert;
#[cfg(test)]
mod fixtures;
mod model;
mod objective;
#[cfg(test)]
mod oracle;
#[cfg(test)]
mod tests;
mod text;

pub use convert::{Converted, FeatureSource, convert};
pub use model::{
    Child, FeatureInfo, LightgbmModel, MissingType, Objective, Split, Tree, ZERO_THRESHOLD,
};
pub use text::parse;
