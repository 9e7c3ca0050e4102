//! LightGBM's prediction written out plainly from its source (`Tree::Decision`,
//! `GBDT::PredictRaw`/`Predict`, the objectives' `ConvertOutput`), to check the parser against
//! LightGBM's own predictions on the fixtures, independently of any conversion.

use super::model::{Child, LightgbmModel, MissingType, Objective, Tree, ZERO_THRESHOLD};

/// LightGBM's `Tree::GetLeaf` then `LeafOutput`.
fn tree_output(tree: &Tree, x: &[f64]) -> f64 {
    if tree.splits.is_empty() {
        return tree.leaf_value[0];
    }
    let mut node = 0;
    loop {
        let s = &tree.splits[node];
        let mut v = x[s.feature];
        let left = match s.cat_set {
            Some(c) => {
                // CategoricalDecision: NaN and negative go right; a value is truncated to int.
                if v.is_nan() || (v as i32) < 0 {
                    false
                } else {
                    let code = v as i32 as usize;
                    let words = tree.category_words(c);
                    words
                        .get(code / 32)
                        .is_some_and(|w| (w >> (code % 32)) & 1 == 1)
                }
            }
            None => {
                // NumericalDecision.
                if v.is_nan() && s.missing != MissingType::NaN {
                    v = 0.0;
                }
                let is_zero = (-ZERO_THRESHOLD..=ZERO_THRESHOLD).contains(&v);
                if (s.missing == MissingType::Zero && is_zero)
                    || (s.missing == MissingType::NaN && v.is_nan())
                {
                    s.default_left
                } else {
                    v <= s.threshold
                }
            }
        };
        match if left { s.left } else { s.right } {
            Child::Split(j) => node = j,
            Child::Leaf(l) => return tree.leaf_value[l],
        }
    }
}

/// Raw margins and converted predictions of one row of model features, as LightGBM's C API
/// sees it (values with `|x| <= 1e-35` already made 0.0 by the caller).
pub(super) fn predict(model: &LightgbmModel, x: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let k = model.num_tree_per_iteration;
    let mut raw = vec![0.0; k];
    for (t, tree) in model.trees.iter().enumerate() {
        raw[t % k] += tree_output(tree, x);
    }
    let mut out = raw.clone();
    if model.average_output {
        let iterations = (model.trees.len() / k) as f64;
        for o in &mut out {
            *o /= iterations;
        }
    }
    match &model.objective {
        Some(Objective::Binary { sigmoid }) => out[0] = 1.0 / (1.0 + (-sigmoid * out[0]).exp()),
        Some(Objective::Multiclass { .. }) => {
            let max = out.iter().copied().fold(out[0], f64::max);
            let mut sum = 0.0;
            for o in &mut out {
                *o = (*o - max).exp();
                sum += *o;
            }
            for o in &mut out {
                *o /= sum;
            }
        }
        _ => {}
    }
    (raw, out)
}
