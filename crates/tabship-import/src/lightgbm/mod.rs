//! LightGBM text models (`Booster.save_model`, format `v4`, LightGBM 4.x): [`parse`] reads and
//! checks one, [`convert`] turns it into tabship's tree ensemble with predictions equal to
//! LightGBM's own `predict` bit for bit.
//!
//! LightGBM predicts by walking each tree on `f64` values (`x <= threshold` goes left; a
//! per-node missing type and default side; categorical splits send the codes of a bitset left,
//! NaN, negative and unlisted codes right), after its C API has made every `|x| <= 1e-35` exactly
//! 0.0; it sums the leaves in `f64` in tree order (tree `t` into output
//! `t % num_tree_per_iteration`) from 0.0, divides by the number of iterations under
//! `average_output`, and converts by the objective.
//!
//! Supported: objectives `regression`, `regression_l1`, `huber`, `fair`, `quantile`, `mape`
//! (identity), `binary` with `sigmoid:1` (`1 / (1 + exp(-margin))`), `multiclass` (softmax);
//! missing types None, Zero and NaN; categorical splits, with pandas' categories when the model
//! carries `pandas_categorical`, else integer codes (the column's categories are `0`, `1`, ...
//! up to the largest code the model knows, so inputs spell a code as an integer, `3` or the
//! JSON number `3.0`; a text such as `3.0` or `2.5` is an unknown category, sent right, where
//! LightGBM would truncate it to a code); `average_output` random
//! forests (`boosting=rf`): regressors of any size, classifiers of a power-of-two number of
//! iterations (the division then moves exactly onto the leaves).
//!
//! Refused, with an error naming what: `linear_tree`, other objectives (`poisson`, `gamma`,
//! `tweedie`, `multiclassova`, `cross_entropy`, ranking, `regression sqrt`, custom), `binary`
//! with another sigmoid, classifier forests of other sizes, model versions other than `v4`, a
//! categorical feature fed by category codes the pipeline's column cannot produce, and numbers
//! feeding a categorical feature whose splits list code 0 (LightGBM truncates `(-1, 0)` to 0).

mod convert;
#[cfg(test)]
mod fixtures;
mod import;
mod model;
mod objective;
#[cfg(test)]
mod oracle;
#[cfg(test)]
mod tests;
mod text;

pub use convert::{Converted, FeatureSource, convert};
pub use import::{from_model, read_bytes, read_file};
pub use model::{
    Child, FeatureInfo, LightgbmModel, MissingType, Objective, Split, Tree, ZERO_THRESHOLD,
};
pub use text::parse;
