//! Validation of a stored tree ensemble: artifacts cross trust boundaries, so every count,
//! index and number is checked before the walker trusts it.

use super::format::{
    Combination, LEAF, Link, MISSING_NAN, MISSING_ZERO, SPLIT_LISTED_RIGHT, SPLIT_NUMERIC, TreeSpec,
};
use crate::artifact::limits::{MAX_CATEGORIES, MAX_NODES_PER_TREE, MAX_TOTAL_NODES, MAX_TREES};
use crate::model::Task;
use crate::{Error, Result};

/// Most 32-bit words in one categorical node's bitset: enough for every code of a column of
/// [`MAX_CATEGORIES`] categories.
pub(super) const MAX_CATEGORY_WORDS: usize = MAX_CATEGORIES.div_ceil(32);

/// Checks `trees` combined by `combination` over `width` features for `n_classes` (None:
/// regression); returns the number of outputs each leaf holds. `accumulate_f32` ensembles must
/// be summed and hold only values an `f32` represents exactly (nothing is rounded silently).
pub(super) fn validate_ensemble(
    trees: &[TreeSpec],
    combination: Combination,
    accumulate_f32: bool,
    task: Task,
    width: usize,
    n_classes: Option<usize>,
) -> Result<usize> {
    if accumulate_f32 {
        validate_f32_sums(trees, combination)?;
    }
    if trees.is_empty() || trees.len() > MAX_TREES {
        return Err(Error::field(
            "model.trees",
            format!("{} trees (1 to {MAX_TREES} allowed)", trees.len()),
        ));
    }
    let total: usize = trees.iter().map(|t| t.left.len()).sum();
    if total > MAX_TOTAL_NODES {
        return Err(Error::field(
            "model.trees",
            format!("{total} nodes in all (at most {MAX_TOTAL_NODES})"),
        ));
    }
    let outputs = match combination {
        Combination::Average => n_classes.unwrap_or(1),
        Combination::Sum { base_score, link } => {
            validate_sum(base_score, link, task, n_classes, trees.len())?;
            1
        }
    };
    for (t, tree) in trees.iter().enumerate() {
        validate_tree(
            tree,
            &format!("model.trees[{t}]"),
            width,
            n_classes,
            outputs,
            combination,
        )?;
    }
    Ok(outputs)
}

/// An ensemble summed in `f32`: a [`Combination::Sum`] whose base score and leaf margins are
/// `f32` values.
fn validate_f32_sums(trees: &[TreeSpec], combination: Combination) -> Result<()> {
    let is_f32 = |v: f64| f64::from(v as f32).to_bits() == v.to_bits();
    match combination {
        Combination::Average => {
            return Err(Error::field(
                "model.accumulate_f32",
                "only summed ensembles (`combination` `sum`) accumulate in f32",
            ));
        }
        Combination::Sum { base_score, .. } if !is_f32(base_score) => {
            return Err(Error::field(
                "model.combination.base_score",
                format!("`{base_score}` is not an f32 value, as `accumulate_f32` requires"),
            ));
        }
        Combination::Sum { .. } => {}
    }
    for (t, tree) in trees.iter().enumerate() {
        if let Some(l) = tree.leaf_values.0.iter().position(|&v| !is_f32(v)) {
            return Err(Error::field(
                format!("model.trees[{t}].leaf_values"),
                format!(
                    "value {l} (`{}`) is not an f32 value, as `accumulate_f32` requires",
                    tree.leaf_values.0[l]
                ),
            ));
        }
    }
    Ok(())
}

/// Checks a tree's per-node missing types and categorical splits: one value per node or none,
/// known values, bitsets whose offsets run from 0 to the end of `category_bits` without going
/// back, and rules that apply only where they mean something (categorical nodes split, keep the
/// default missing type, compare no threshold).
fn validate_format_1_5_rules(tree: &TreeSpec, field: &str) -> Result<()> {
    let n = tree.left.len();
    for (name, rule, max) in [
        ("missing_type", &tree.missing_type, MISSING_ZERO),
        ("categorical", &tree.categorical, SPLIT_LISTED_RIGHT),
    ] {
        if !rule.is_empty() && rule.len() != n {
            return Err(Error::field(
                format!("{field}.{name}"),
                format!(
                    "{} values for {n} nodes (give one per node, or none)",
                    rule.len()
                ),
            ));
        }
        if let Some(i) = rule.0.iter().position(|&v| v > max) {
            return Err(Error::field(
                format!("{field}.{name}[{i}]"),
                format!("`{}` where 0 to {max} is expected", rule.0[i]),
            ));
        }
    }
    let offsets = &tree.category_offsets.0;
    if tree.categorical.is_empty() {
        if !offsets.is_empty() || !tree.category_bits.is_empty() {
            return Err(Error::field(
                format!("{field}.category_offsets"),
                "bitsets without `categorical` split kinds",
            ));
        }
        return Ok(());
    }
    if offsets.len() != n + 1 {
        return Err(Error::field(
            format!("{field}.category_offsets"),
            format!("{} offsets for {n} nodes (give n + 1)", offsets.len()),
        ));
    }
    if offsets[0] != 0 || offsets[n] as usize != tree.category_bits.len() {
        return Err(Error::field(
            format!("{field}.category_offsets"),
            format!(
                "offsets must run from 0 to the {} words of `category_bits`",
                tree.category_bits.len()
            ),
        ));
    }
    for i in 0..n {
        let (start, end) = (offsets[i], offsets[i + 1]);
        let kind = tree.split_kind(i);
        if end < start || (end - start) as usize > MAX_CATEGORY_WORDS {
            return Err(Error::field(
                format!("{field}.category_offsets[{i}]"),
                format!(
                    "bitset from word {start} to {end} (ascending, at most {MAX_CATEGORY_WORDS} words)"
                ),
            ));
        }
        if kind == SPLIT_NUMERIC {
            if end != start {
                return Err(Error::field(
                    format!("{field}.category_offsets[{i}]"),
                    "a numeric node has no bitset",
                ));
            }
            continue;
        }
        if tree.left.0[i] == LEAF {
            return Err(Error::field(
                format!("{field}.categorical[{i}]"),
                "a leaf has no split",
            ));
        }
        if tree.missing_type_of(i) != MISSING_NAN
            || tree.is_strict(i)
            || tree.threshold.0[i].to_bits() != 0
        {
            return Err(Error::field(
                format!("{field}.categorical[{i}]"),
                "a categorical node has missing type 0, no `strict` rule and threshold 0",
            ));
        }
    }
    Ok(())
}

/// A summed ensemble's link fits its task: identity for a regressor, logistic for two classes,
/// softmax for `k` classes with whole rounds of `k` trees.
fn validate_sum(
    base_score: f64,
    link: Link,
    task: Task,
    n_classes: Option<usize>,
    n_trees: usize,
) -> Result<()> {
    if !base_score.is_finite() {
        return Err(Error::field(
            "model.combination.base_score",
            format!("`{base_score}` is not finite"),
        ));
    }
    let fits = match (link, n_classes) {
        (Link::Identity, None) => true,
        (Link::Logistic, Some(2)) => true,
        (Link::Softmax, Some(k)) if k >= 2 => {
            if n_trees % k != 0 {
                return Err(Error::field(
                    "model.trees",
                    format!(
                        "{n_trees} trees for softmax over {k} classes: give one tree per class and round"
                    ),
                ));
            }
            true
        }
        _ => false,
    };
    if fits {
        Ok(())
    } else {
        Err(Error::field(
            "model.combination.link",
            format!(
                "`{}` does not fit a {} model{}",
                match link {
                    Link::Identity => "identity",
                    Link::Logistic => "logistic",
                    Link::Softmax => "softmax",
                },
                task.name(),
                n_classes.map_or(String::new(), |k| format!(" of {k} classes")),
            ),
        ))
    }
}

/// Checks one tree: array lengths, finite leaves, classifier leaves (under `Average`: a class
/// each and distributions that sum to 1), the shape of a tree (children after their parent, one
/// parent each, every leaf used once), split features below `width` and finite thresholds.
fn validate_tree(
    tree: &TreeSpec,
    field: &str,
    width: usize,
    n_classes: Option<usize>,
    outputs: usize,
    combination: Combination,
) -> Result<()> {
    let n = tree.left.len();
    if n == 0 || n > MAX_NODES_PER_TREE {
        return Err(Error::field(
            field,
            format!("{n} nodes (1 to {MAX_NODES_PER_TREE} allowed)"),
        ));
    }
    for (name, len) in [
        ("feature", tree.feature.len()),
        ("threshold", tree.threshold.len()),
        ("right", tree.right.len()),
    ] {
        if len != n {
            return Err(Error::field(
                format!("{field}.{name}"),
                format!("{len} values for {n} nodes"),
            ));
        }
    }
    for (name, rule) in [
        ("missing_left", &tree.missing_left),
        ("strict", &tree.strict),
    ] {
        if !rule.is_empty() && rule.len() != n {
            return Err(Error::field(
                format!("{field}.{name}"),
                format!(
                    "{} values for {n} nodes (give one per node, or none)",
                    rule.len()
                ),
            ));
        }
        if let Some(i) = rule.0.iter().position(|&v| v > 1) {
            return Err(Error::field(
                format!("{field}.{name}[{i}]"),
                format!("`{}` where 0 or 1 is expected", rule.0[i]),
            ));
        }
    }
    validate_format_1_5_rules(tree, field)?;
    let n_leaves = tree.left.0.iter().filter(|&&l| l == LEAF).count();
    if tree.leaf_values.len() != n_leaves * outputs {
        return Err(Error::field(
            format!("{field}.leaf_values"),
            format!(
                "{} values for {n_leaves} leaves of {outputs} outputs",
                tree.leaf_values.len()
            ),
        ));
    }
    if let Some(i) = tree.leaf_values.0.iter().position(|v| !v.is_finite()) {
        return Err(Error::field(
            format!("{field}.leaf_values"),
            format!("value {i} is not finite"),
        ));
    }
    match n_classes {
        Some(_) if !combination.is_average() && !tree.leaf_class.is_empty() => {
            return Err(Error::field(
                format!("{field}.leaf_class"),
                "summed trees hold margins and vote for no class",
            ));
        }
        Some(_) if !combination.is_average() => {}
        Some(k) => {
            if tree.leaf_class.len() != n_leaves {
                return Err(Error::field(
                    format!("{field}.leaf_class"),
                    format!("{} values for {n_leaves} leaves", tree.leaf_class.len()),
                ));
            }
            if let Some(c) = tree.leaf_class.0.iter().find(|&&c| c as usize >= k) {
                return Err(Error::field(
                    format!("{field}.leaf_class"),
                    format!("class {c} of {k}"),
                ));
            }
            for (l, row) in tree.leaf_values.0.chunks_exact(k).enumerate() {
                let total: f64 = row.iter().sum();
                if row.iter().any(|p| *p < 0.0) || (total - 1.0).abs() > 1e-9 {
                    return Err(Error::field(
                        format!("{field}.leaf_values"),
                        format!("leaf {l}: probabilities must be >= 0 and sum to 1"),
                    ));
                }
            }
        }
        None if !tree.leaf_class.is_empty() => {
            return Err(Error::field(
                format!("{field}.leaf_class"),
                "a regressor has no leaf classes",
            ));
        }
        None => {}
    }
    let mut leaf_seen = vec![false; n_leaves];
    let mut has_parent = vec![false; n];
    for i in 0..n {
        let (left, right) = (tree.left.0[i], tree.right.0[i]);
        if left == LEAF {
            let leaf = right as usize;
            if leaf >= n_leaves || std::mem::replace(&mut leaf_seen[leaf], true) {
                return Err(Error::field(
                    format!("{field}.right[{i}]"),
                    format!("leaf index {leaf} is out of range or used twice"),
                ));
            }
        } else {
            // Children after their parent: every walk from the root ends.
            if left as usize <= i
                || left as usize >= n
                || right as usize <= i
                || right as usize >= n
            {
                return Err(Error::field(
                    format!("{field}.left[{i}]"),
                    format!("children {left} and {right} must lie after node {i} and before {n}"),
                ));
            }
            // One parent per node: the nodes form a tree, not a graph that expands exponentially.
            for child in [left as usize, right as usize] {
                if std::mem::replace(&mut has_parent[child], true) {
                    return Err(Error::field(
                        format!("{field}.left[{i}]"),
                        format!("node {child} has two parents"),
                    ));
                }
            }
            if tree.feature.0[i] as usize >= width {
                return Err(Error::field(
                    format!("{field}.feature[{i}]"),
                    format!("feature {} of {width}", tree.feature.0[i]),
                ));
            }
            if !tree.threshold.0[i].is_finite() {
                return Err(Error::field(
                    format!("{field}.threshold[{i}]"),
                    "not finite",
                ));
            }
        }
    }
    Ok(())
}
