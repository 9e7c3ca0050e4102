//! From a parsed LightGBM model to tabship's [`TreeEnsemble`], reproducing LightGBM's prediction
//! exactly or refusing the model with an error that names what cannot be reproduced.
//!
//! How each LightGBM rule maps onto tabship's tree semantics (format 1.5):
//!
//! - LightGBM's C API turns every input with `|x| <= 1e-35` into `0.0` before the trees see it
//!   (`RowFunctionFromDenseMatric` keeps only `|x| > kZeroThreshold` or NaN). tabship compares
//!   the value itself, which decides alike for every threshold `t` outside `[-1e-35, 1e-35)`; a
//!   threshold inside that band is moved to where it decides alike for every value (see
//!   [`band_threshold`]).
//! - Missing types map to tabship's, with the default side as the node's missing side; `None`
//!   (NaN compared as 0.0) becomes a plain missing side (see [`numeric_missing`]), so that
//!   features split by `None` and `NaN` nodes keep one missing type and the core's ranked walk.
//! - A categorical split lists, in tabship's codes of the column, the categories whose LightGBM
//!   code its bitset lists (pandas' categories when the model carries them); NaN, negative and
//!   unlisted values go right, as in LightGBM.
//! - Trees sum in `f64` from 0.0 in tree order, tree `t` into class `t % K`, and the link is the
//!   objective's; `average_output` regressors are tabship's averaged regression forests, and
//!   `average_output` classifiers of a power-of-two number of iterations carry the division on
//!   their leaves (exact; others are refused).

use tabship::model::{
    Combination, LEAF, Link, MISSING_NAN, MISSING_ZERO, SPLIT_LISTED_LEFT, SPLIT_NUMERIC, Task,
    TreeEnsemble, TreeSpec,
};

use std::collections::HashMap;

use tabship::artifact::limits::{MAX_CATEGORIES, MAX_CLASSES, MAX_COLUMNS, MAX_TREES};

use super::model::{Child, LightgbmModel, MissingType, Objective, Tree, ZERO_THRESHOLD};
use super::text::FORMAT;
use crate::{Error, Result};

/// What feeds one LightGBM feature in the tabship pipeline.
#[derive(Debug, Clone, Copy)]
pub enum FeatureSource<'a> {
    /// A numeric column's value, unscaled, NaN when missing.
    Numeric,
    /// A categorical column's ordinal code: code `i` is `categories[i]`; every other value
    /// (missing, unknown, other) is a code beyond them or negative.
    Categorical(&'a [String]),
}

/// The converted model: the ensemble, its task and its number of classes (None: regression).
#[derive(Debug, Clone)]
pub struct Converted {
    /// The trees and how they combine.
    pub ensemble: TreeEnsemble,
    /// Classification or regression.
    pub task: Task,
    /// Number of classes of a classifier.
    pub n_classes: Option<usize>,
}

/// Converts `model`, whose feature `f` the pipeline feeds from `sources[f]`.
pub fn convert(model: &LightgbmModel, sources: &[FeatureSource<'_>]) -> Result<Converted> {
    if model.linear_tree || model.trees.iter().any(|t| t.is_linear) {
        return Err(unsupported(
            "linear_tree",
            "leaves hold linear models; only constant leaves are imported",
        ));
    }
    if sources.len() != model.feature_names.len() {
        return Err(unsupported(
            "its feature list",
            &format!(
                "the model has {} features, the pipeline feeds {}",
                model.feature_names.len(),
                sources.len()
            ),
        ));
    }
    // tabship's limits, checked before anything is sized by these counts (class labels, the
    // schema's columns).
    for (what, n, max) in [
        ("trees", model.trees.len(), MAX_TREES),
        ("features", model.feature_names.len(), MAX_COLUMNS),
        ("classes", model.num_class, MAX_CLASSES),
    ] {
        if n > max {
            return Err(unsupported(
                &format!("{n} {what}"),
                &format!("a tabship model has at most {max} {what}"),
            ));
        }
    }
    let (task, n_classes, link) = task_and_link(model)?;
    // Classifier forests average the margins before the link; dividing by a power of two is
    // exact, so it can move onto the leaves (see `average_scale`).
    let mut leaf_scale = 1.0;
    let combination = if model.average_output && link == Link::Identity {
        Combination::Average
    } else {
        if model.average_output {
            leaf_scale = average_scale(model)?;
        }
        Combination::Sum {
            base_score: 0.0,
            link,
        }
    };
    let mut converter = Converter {
        model,
        sources,
        codes: category_codes(model, sources)?,
        leaf_scale,
        budget: MAX_BITSET_WORDS,
    };
    let trees = (0..model.trees.len())
        .map(|t| converter.tree(t))
        .collect::<Result<Vec<_>>>()?;
    Ok(Converted {
        ensemble: TreeEnsemble::new(task, trees).with_combination(combination),
        task,
        n_classes,
    })
}

/// The task, number of classes and link of the model's objective.
fn task_and_link(model: &LightgbmModel) -> Result<(Task, Option<usize>, Link)> {
    let k = model.num_tree_per_iteration;
    let one_tree = |what: &str| {
        if k == 1 && model.num_class == 1 {
            Ok(())
        } else {
            Err(unsupported(
                &format!("{k} trees per iteration with objective {what}"),
                "one tree per iteration is expected",
            ))
        }
    };
    match &model.objective {
        Some(Objective::Identity { name }) => {
            one_tree(name)?;
            Ok((Task::Regression, None, Link::Identity))
        }
        Some(Objective::Binary { sigmoid }) => {
            one_tree("binary")?;
            if *sigmoid != 1.0 {
                // 1 / (1 + exp(-s * margin)) rounds `s * margin` first; scaling the leaves
                // instead would round differently.
                return Err(unsupported(
                    &format!("objective `binary sigmoid:{sigmoid}`"),
                    "only sigmoid:1 is reproduced",
                ));
            }
            Ok((Task::Classification, Some(2), Link::Logistic))
        }
        Some(Objective::Multiclass { num_class }) => {
            if *num_class != k || model.num_class != k {
                return Err(unsupported(
                    &format!("objective multiclass with {num_class} classes"),
                    &format!(
                        "num_class {} and {k} trees per iteration disagree",
                        model.num_class
                    ),
                ));
            }
            Ok((Task::Classification, Some(k), Link::Softmax))
        }
        Some(Objective::Other { text }) => Err(unsupported(
            &format!("objective `{text}`"),
            "supported: regression, regression_l1, huber, fair, quantile, mape, binary (sigmoid:1), multiclass",
        )),
        None => Err(unsupported(
            "no objective",
            "the model file has no `objective=` line, so its output transform is unknown",
        )),
    }
}

/// The factor `1 / n` that moves `average_output`'s division by the `n` iterations onto the
/// leaves of a classifier forest. LightGBM computes `link(sum / n)`; summing leaves multiplied
/// by `1 / n` in the same order gives exactly `sum / n` when `n` is a power of two and no scaled
/// partial sum is subnormal: every non-zero partial sum is a multiple of the smallest leaf's
/// last bit, so that bit scaled must stay a normal number. Other forests are refused.
fn average_scale(model: &LightgbmModel) -> Result<f64> {
    let n = model.trees.len() / model.num_tree_per_iteration;
    if !n.is_power_of_two() {
        return Err(unsupported(
            &format!("average_output (boosting=rf) for a classifier of {n} iterations"),
            "LightGBM divides the summed margins by the iterations before the link, which tabship reproduces exactly only for a power of two (1, 2, 4, ..., 64, 128, ...) iterations",
        ));
    }
    let k = n.trailing_zeros() as i32;
    // The exponent of the last bit of the smallest non-zero leaf.
    let lowest_bit = model
        .trees
        .iter()
        .flat_map(|t| &t.leaf_value)
        .filter(|v| **v != 0.0)
        .map(|v| ((v.to_bits() >> 52) & 0x7ff) as i32 - 1023 - 52)
        .min()
        .unwrap_or(0);
    if lowest_bit - k < -1022
        || model
            .trees
            .iter()
            .flat_map(|t| &t.leaf_value)
            .any(|v| v.is_subnormal())
    {
        return Err(unsupported(
            "average_output (boosting=rf) with leaf values near the smallest double",
            "scaling them by the number of iterations would round",
        ));
    }
    Ok(1.0 / n as f64)
}

/// For a categorical source: the tabship codes (positions in the column's categories) of each
/// LightGBM code, so that a bitset over LightGBM's codes becomes one over the column's.
type CodeMap = HashMap<u64, Vec<u32>>;

/// Per model feature: for a categorical source, its [`CodeMap`] (a category LightGBM has no code
/// for is in none, so that no bitset lists it).
fn category_codes(
    model: &LightgbmModel,
    sources: &[FeatureSource<'_>],
) -> Result<Vec<Option<CodeMap>>> {
    let categorical = model.categorical_features.as_deref().unwrap_or(&[]);
    let pandas = model.pandas_categorical.as_deref().unwrap_or(&[]);
    let pandas_lists = !pandas.is_empty();
    if pandas_lists && pandas.len() != categorical.len() {
        return Err(unsupported(
            "pandas_categorical",
            &format!(
                "{} category lists for {} categorical features; the category codes are ambiguous",
                pandas.len(),
                categorical.len()
            ),
        ));
    }
    sources
        .iter()
        .enumerate()
        .map(|(f, source)| {
            let FeatureSource::Categorical(categories) = source else {
                return Ok(None);
            };
            let name = &model.feature_names[f];
            let Some(j) = categorical.iter().position(|&c| c == f) else {
                return Err(unsupported(
                    &format!("feature `{name}` as a numeric split feature"),
                    "the pipeline feeds it category codes, which LightGBM would compare as numbers; declare the column numeric",
                ));
            };
            if categories.len() > MAX_CATEGORIES {
                return Err(unsupported(
                    &format!("categorical feature `{name}` with {} categories", categories.len()),
                    &format!("a column has at most {MAX_CATEGORIES} categories"),
                ));
            }
            // pandas feeds a category's position in its training categories, as text.
            let pandas_codes: HashMap<String, u64> = if pandas_lists {
                pandas[j]
                    .iter()
                    .enumerate()
                    .rev()
                    .filter_map(|(p, c)| {
                        let text = c.as_str().map(str::to_owned).or_else(|| number_text(c))?;
                        Some((text, p as u64))
                    })
                    .collect()
            } else {
                HashMap::new()
            };
            let mut map = CodeMap::new();
            for (position, label) in categories.iter().enumerate() {
                let code = if pandas_lists {
                    pandas_codes.get(label).copied()
                } else {
                    // Without pandas, the feature's values are the codes themselves: LightGBM
                    // truncates them to int; NaN and negative values go right.
                    let x: f64 = label.parse().map_err(|_| {
                        unsupported(
                            &format!("categorical feature `{name}` with category `{label}`"),
                            "without pandas_categorical the model's categories are numbers, and this category is not one",
                        )
                    })?;
                    (x.is_finite() && x > -1.0 && x < 2_147_483_648.0).then_some(x as u64)
                };
                if let Some(code) = code {
                    map.entry(code).or_default().push(position as u32);
                }
            }
            Ok(Some(map))
        })
        .collect()
}

/// A pandas category that is a number, as the reference data would spell it (`3`, `2.5`).
pub(super) fn number_text(c: &serde_json::Value) -> Option<String> {
    c.as_f64().map(|x| {
        if x.fract() == 0.0 && x.abs() < 1e15 {
            format!("{}", x as i64)
        } else {
            format!("{x}")
        }
    })
}

/// What converting the trees needs: the model, what feeds each feature, the categorical
/// features' code maps, the leaves' scale and what remains of the bitset budget.
struct Converter<'a> {
    model: &'a LightgbmModel,
    sources: &'a [FeatureSource<'a>],
    codes: Vec<Option<CodeMap>>,
    leaf_scale: f64,
    budget: usize,
}

impl Converter<'_> {
    /// Tree `t`, nodes renumbered in pre-order so that children follow their parent.
    fn tree(&mut self, t: usize) -> Result<TreeSpec> {
        let (model, sources, leaf_scale) = (self.model, self.sources, self.leaf_scale);
        let tree = &model.trees[t];
        let mut spec = TreeSpec::default();
        if let Some(l) = tree.leaf_value.iter().position(|v| !v.is_finite()) {
            return Err(unsupported(
                &format!("a non-finite leaf value in tree {t} (leaf {l})"),
                "LightGBM would predict NaN or infinity",
            ));
        }
        spec.leaf_values.0 = tree.leaf_value.iter().map(|v| v * leaf_scale).collect();
        let any_categorical = tree.splits.iter().any(|s| s.cat_set.is_some());
        let mut offsets = vec![0u32];
        // Pre-order walk: a node's index is its position in the output.
        let mut stack = vec![if tree.splits.is_empty() {
            Child::Leaf(0)
        } else {
            Child::Split(0)
        }];
        // Output index of each node's parent slot to patch: (parent, is_left).
        let mut patches: Vec<Option<(usize, bool)>> = vec![None];
        while let Some(child) = stack.pop() {
            let index = spec.left.0.len();
            if let Some(Some((parent, is_left))) = patches.pop() {
                let slot = if is_left {
                    &mut spec.left.0[parent]
                } else {
                    &mut spec.right.0[parent]
                };
                *slot = index as u32;
            }
            match child {
                Child::Leaf(l) => {
                    spec.feature.0.push(0);
                    spec.threshold.0.push(0.0);
                    spec.left.0.push(LEAF);
                    spec.right.0.push(l as u32);
                    spec.missing_left.0.push(0);
                    spec.missing_type.0.push(MISSING_NAN);
                    spec.categorical.0.push(SPLIT_NUMERIC);
                }
                Child::Split(i) => {
                    let s = &tree.splits[i];
                    spec.feature.0.push(s.feature as u32);
                    spec.left.0.push(0);
                    spec.right.0.push(0);
                    match s.cat_set {
                        Some(c) => {
                            let listed = self.bitset(tree, t, c, s.feature)?;
                            spec.category_bits.0.extend_from_slice(&listed);
                            spec.threshold.0.push(0.0);
                            // NaN goes right, as LightGBM's CategoricalDecision sends it.
                            spec.missing_left.0.push(0);
                            spec.missing_type.0.push(MISSING_NAN);
                            spec.categorical.0.push(SPLIT_LISTED_LEFT);
                        }
                        None => {
                            if let FeatureSource::Categorical(_) = sources[s.feature] {
                                return Err(unsupported(
                                    &format!(
                                        "a numeric split on feature `{}` (tree {t})",
                                        model.feature_names[s.feature]
                                    ),
                                    "the pipeline feeds that feature category codes",
                                ));
                            }
                            let t = band_threshold(s.threshold);
                            let (missing_type, missing_left) =
                                numeric_missing(s.missing, s.default_left, t);
                            spec.threshold.0.push(t);
                            spec.missing_left.0.push(u8::from(missing_left));
                            spec.missing_type.0.push(missing_type);
                            spec.categorical.0.push(SPLIT_NUMERIC);
                        }
                    }
                    // Right pushed first so that the left subtree comes first.
                    stack.push(s.right);
                    patches.push(Some((index, false)));
                    stack.push(s.left);
                    patches.push(Some((index, true)));
                }
            }
            offsets.push(spec.category_bits.0.len() as u32);
        }
        if any_categorical {
            spec.category_offsets.0 = offsets;
        } else {
            spec.categorical.0.clear();
        }
        if spec.missing_type.0.iter().all(|&m| m == MISSING_NAN) {
            spec.missing_type.0.clear();
        }
        if spec.missing_left.0.iter().all(|&m| m == 0) {
            spec.missing_left.0.clear();
        }
        Ok(spec)
    }

    /// The bitset, over tabship's codes of the feature's column, of category set `c`: tabship code
    /// `i` is listed when LightGBM's code of the same category is. Counted against the budget of
    /// [`MAX_BITSET_WORDS`].
    fn bitset(&mut self, tree: &Tree, t: usize, c: usize, feature: usize) -> Result<Vec<u32>> {
        let Converter {
            model,
            sources,
            codes,
            budget,
            ..
        } = self;
        let words = tree.category_words(c);
        let listed_codes = words.iter().enumerate().flat_map(|(w, &word)| {
            (0..32u64)
                .filter(move |b| (word >> b) & 1 == 1)
                .map(move |b| w as u64 * 32 + b)
        });
        let mut bits = match (&sources[feature], &codes[feature]) {
            (FeatureSource::Categorical(_), Some(codes)) => {
                let mut positions = Vec::new();
                for code in listed_codes {
                    // A category the split lists but the column cannot produce would reach
                    // LightGBM as its code (left) and tabship as Unknown (right).
                    let Some(p) = codes.get(&code) else {
                        return Err(unsupported(
                            &format!(
                                "categorical feature `{}` whose category {} (tree {t}) the pipeline's column does not have",
                                model.feature_names[feature],
                                category_name(model, feature, code)
                            ),
                            "the model sends it left, tabship would score it as an unknown category; give reference data with every category the model knows",
                        ));
                    };
                    positions.extend_from_slice(p);
                }
                let n_words = positions.iter().max().map_or(0, |&m| m as usize / 32 + 1);
                let mut bits = vec![0u32; n_words.min(*budget)];
                for p in positions {
                    if let Some(w) = bits.get_mut(p as usize / 32) {
                        *w |= 1 << (p % 32);
                    }
                }
                if n_words > *budget {
                    return Err(too_many_words());
                }
                bits
            }
            _ => {
                // A numeric column: its values are LightGBM's codes. tabship sends every negative
                // value right, LightGBM truncates values in (-1, 0) and within 1e-35 of zero to
                // code 0: alike unless code 0 is listed.
                if words.first().is_some_and(|w| w & 1 == 1) {
                    return Err(unsupported(
                        &format!(
                            "categorical feature `{}` fed by a numeric column (tree {t})",
                            model.feature_names[feature]
                        ),
                        "a split lists code 0, where LightGBM's truncation of values in (-1, 0) differs; declare the column categorical",
                    ));
                }
                words.to_vec()
            }
        };
        while bits.last() == Some(&0) {
            bits.pop();
        }
        if bits.len() > *budget {
            return Err(too_many_words());
        }
        *budget -= bits.len();
        Ok(bits)
    }
}

/// Most bitset words of all categorical splits together (64 MB): far above real models, and a
/// bound on what a crafted file can make the conversion allocate.
const MAX_BITSET_WORDS: usize = 1 << 24;

fn too_many_words() -> Error {
    unsupported(
        "categorical splits with too many listed categories",
        &format!("more than {MAX_BITSET_WORDS} bitset words in all"),
    )
}

/// LightGBM category `code` of `feature` as the user knows it: its pandas category, or the code.
fn category_name(model: &LightgbmModel, feature: usize, code: u64) -> String {
    let pandas = model
        .categorical_features
        .as_deref()
        .and_then(|c| c.iter().position(|&f| f == feature))
        .and_then(|j| model.pandas_categorical.as_deref()?.get(j))
        .and_then(|list| list.get(usize::try_from(code).ok()?));
    match pandas {
        Some(serde_json::Value::String(s)) => format!("`{s}`"),
        Some(v) => format!("`{v}`"),
        None => format!("code {code}"),
    }
}

/// A numeric node's missing type and missing side. Under `None` NaN is compared as 0.0: it goes
/// left exactly when `0.0 <= t`, which a missing side says as well, so the node is written as an
/// ordinary one (and a feature split by `None` and `NaN` nodes has one missing type). `Zero`
/// stays `Zero`: the core ranks a feature whose nodes all share it. `t` is the band-adjusted
/// threshold ([`band_threshold`]).
fn numeric_missing(missing: MissingType, default_left: bool, t: f64) -> (u8, bool) {
    match missing {
        MissingType::NaN => (MISSING_NAN, default_left),
        MissingType::None => (MISSING_NAN, 0.0 <= t),
        MissingType::Zero => (MISSING_ZERO, default_left),
    }
}

/// The threshold that decides for a raw value `x` as LightGBM decides for `x` zeroed when
/// `|x| <= 1e-35`. Outside `[-1e-35, 1e-35)` the zeroing changes no comparison. Inside it, a
/// negative `t` sends left exactly the values below the band (so the largest value below
/// `-1e-35` is the threshold), and a non-negative `t` sends left every value up to the band's
/// top (so `1e-35` is). NaN compared as 0.0 (missing type None) decides alike under both.
/// LightGBM writes `inf` for a split that sends every number left and only missing values
/// right (decision_type 8): `f64::MAX` decides alike for every value tabship accepts (inputs
/// are finite or missing).
pub(crate) fn band_threshold(t: f64) -> f64 {
    if t == f64::INFINITY {
        return f64::MAX;
    }
    if (-ZERO_THRESHOLD..ZERO_THRESHOLD).contains(&t) {
        if t < 0.0 {
            // The largest f64 below -ZERO_THRESHOLD: one more ulp of magnitude.
            f64::from_bits((-ZERO_THRESHOLD).to_bits() + 1)
        } else {
            ZERO_THRESHOLD
        }
    } else {
        t
    }
}

/// An error naming the feature of the model that cannot be reproduced.
fn unsupported(feature: &str, detail: &str) -> Error {
    Error::unsupported(format!("{FORMAT} {feature}"), detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// LightGBM's `NumericalDecision` on a value the C API zeroed within the band.
    fn lightgbm_left(missing: MissingType, default_left: bool, t: f64, x: f64) -> bool {
        let x = if x.abs() <= ZERO_THRESHOLD { 0.0 } else { x };
        let x = if x.is_nan() && missing != MissingType::NaN {
            0.0
        } else {
            x
        };
        if (missing == MissingType::Zero && x.abs() <= ZERO_THRESHOLD)
            || (missing == MissingType::NaN && x.is_nan())
        {
            default_left
        } else {
            x <= t
        }
    }

    /// The core's rule (`TreeSpec::goes_left`) for a node converted from LightGBM.
    fn tabship_left(missing_type: u8, missing_left: bool, t: f64, x: f64) -> bool {
        let x = if x.is_nan() {
            if missing_type == MISSING_NAN {
                return missing_left;
            }
            0.0
        } else {
            x
        };
        if missing_type == MISSING_ZERO && x.abs() <= ZERO_THRESHOLD {
            return missing_left;
        }
        x <= t
    }

    #[test]
    fn converted_numeric_nodes_decide_as_lightgbm_for_every_value() {
        let z = ZERO_THRESHOLD;
        let values = [
            f64::NEG_INFINITY,
            -1.0,
            f64::from_bits((-z).to_bits() + 1),
            -z,
            -1e-36,
            -0.0,
            0.0,
            1e-36,
            z,
            f64::from_bits(z.to_bits() + 1),
            1.0,
            f64::NAN,
        ];
        for missing in [MissingType::None, MissingType::Zero, MissingType::NaN] {
            for default_left in [false, true] {
                for t in values.iter().copied().filter(|t| t.is_finite()) {
                    let adjusted = band_threshold(t);
                    let (kind, left) = numeric_missing(missing, default_left, adjusted);
                    for x in values {
                        assert_eq!(
                            tabship_left(kind, left, adjusted, x),
                            lightgbm_left(missing, default_left, t, x),
                            "{missing:?} default_left {default_left} t {t:e} x {x:e}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn band_thresholds_move_to_the_band_edges() {
        let below = f64::from_bits((-ZERO_THRESHOLD).to_bits() + 1);
        assert!(below < -ZERO_THRESHOLD);
        assert_eq!(band_threshold(-ZERO_THRESHOLD), below);
        assert_eq!(band_threshold(-1e-36), below);
        assert_eq!(band_threshold(0.0), ZERO_THRESHOLD);
        assert_eq!(band_threshold(-0.0), ZERO_THRESHOLD);
        assert_eq!(band_threshold(ZERO_THRESHOLD), ZERO_THRESHOLD);
        assert_eq!(band_threshold(1.5), 1.5);
        assert_eq!(band_threshold(f64::INFINITY), f64::MAX);
        // Every value decides alike, raw against the moved threshold and zeroed against the
        // original.
        let zeroed = |x: f64| if x.abs() <= ZERO_THRESHOLD { 0.0 } else { x };
        let values = [
            -1.0,
            below,
            -ZERO_THRESHOLD,
            -1e-36,
            -0.0,
            0.0,
            1e-36,
            ZERO_THRESHOLD,
            f64::from_bits(ZERO_THRESHOLD.to_bits() + 1),
            1.0,
        ];
        for t in values {
            for x in values {
                assert_eq!(x <= band_threshold(t), zeroed(x) <= t, "x {x:e}, t {t:e}");
            }
        }
    }
}
