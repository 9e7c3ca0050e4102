//! Tree ensembles as ONNX: one `ai.onnx.ml` `TreeEnsemble` (opset 5, `double` thresholds and
//! inputs) that finds each row's leaf in every tree, then tabship's own combination of the
//! leaves.
//!
//! The `TreeEnsemble` gives tree `t` its own target and each leaf the weight of its number
//! across the ensemble, so its output `[N, T]` is the leaf every tree reaches (an exact small
//! integer in `double`). The leaves' outputs are then gathered from tables and combined in
//! tabship's order: an ordered `Scan` adds the trees one after another (from 0, or from the base
//! score, in `double` or in `float` as XGBoost adds), forests divide by the number of trees and
//! count votes, boosted ensembles apply their link. So every addition is the one tabship makes,
//! in the same order and precision; only `Exp` (in the links) may differ from Rust's by an ulp.
//!
//! Splits: a numeric node is `BRANCH_LEQ` (`BRANCH_LT` when strict) on the `double` threshold,
//! its NaN side given by `nodes_missing_value_tracks_true`; with `features_f32` the features are
//! rounded to `float` and widened back first (a `Cast` pair, exact). A categorical node is
//! `BRANCH_MEMBER` over the codes its bitset lists, tested on a derived feature that is what
//! tabship compares: `floor(x)` for `x >= 0`, `-1` (listed nowhere) for negative `x`, NaN kept.

mod flatten;

use tabship::Task;
use tabship::model::{Combination, Link, TreeEnsemble};

use crate::Result;
use crate::encoders::scalar_f64;
use crate::graph::{Attr, Builder, tensor_f32};
use crate::head::{Head, softmax, stack};
use crate::proto::data_type;
use flatten::{Flattened, check_len, tree_leaves, with_derived};

/// The ensemble's prediction from the feature matrix `x` (`double [N, F]`, `F = width`).
pub fn ensemble(
    b: &mut Builder,
    x: &str,
    width: usize,
    m: &TreeEnsemble,
    n_classes: usize,
) -> Result<Head> {
    let flat = Flattened::new(m, width)?;
    let features = if m.features_f32 {
        let narrow = b.op(
            "Cast",
            &[x],
            vec![("to", Attr::Int(i64::from(data_type::FLOAT)))],
        );
        b.op(
            "Cast",
            &[&narrow],
            vec![("to", Attr::Int(i64::from(data_type::DOUBLE)))],
        )
    } else {
        x.to_owned()
    };
    let features = with_derived(b, &features, flat.derived());
    let leaves = flat.tree_ensemble(b, &features, m.trees.len());
    let ids = b.op(
        "Cast",
        &[&leaves],
        vec![("to", Attr::Int(i64::from(data_type::INT64)))],
    );
    let n_trees = m.trees.len() as i64;
    match m.combination {
        Combination::Average => average(b, x, &ids, m, n_classes, n_trees),
        Combination::Sum { base_score, link } => {
            for (t, tree) in m.trees.iter().enumerate() {
                // One margin per leaf.
                check_len(
                    &format!("model.trees[{t}].leaf_values"),
                    tree.leaf_values.0.len(),
                    tree_leaves(tree),
                )?;
            }
            let k = if link == Link::Softmax { n_classes } else { 1 };
            if m.accumulate_f32 {
                let margins = b.floats(
                    &[flat.n_leaves() as i64],
                    flat.leaf_margins().into_iter().map(|v| v as f32).collect(),
                );
                let per_tree = b.op("Gather", &[&margins, &ids], vec![("axis", Attr::Int(0))]);
                let sum = summed(
                    b,
                    x,
                    &per_tree,
                    k,
                    tensor_f32(&[1], vec![base_score as f32]),
                    data_type::FLOAT,
                );
                Ok(link_f32(b, &sum, link))
            } else {
                let margins = b.doubles(&[flat.n_leaves() as i64], flat.leaf_margins());
                let per_tree = b.op("Gather", &[&margins, &ids], vec![("axis", Attr::Int(0))]);
                let sum = summed(
                    b,
                    x,
                    &per_tree,
                    k,
                    scalar_f64(base_score),
                    data_type::DOUBLE,
                );
                Ok(link_f64(b, &sum, link))
            }
        }
    }
}

/// Forests and single trees: the mean of the leaves' outputs (summed in tree order, then
/// divided), and a classifier's majority vote (or the first highest mean under `soft_vote`).
fn average(
    b: &mut Builder,
    x: &str,
    ids: &str,
    m: &TreeEnsemble,
    n_classes: usize,
    n_trees: i64,
) -> Result<Head> {
    let k = if m.task == Task::Classification {
        n_classes
    } else {
        1
    };
    let mut table = Vec::new();
    let mut votes = Vec::new();
    for (t, tree) in m.trees.iter().enumerate() {
        check_len(
            &format!("model.trees[{t}].leaf_values"),
            tree.leaf_values.0.len(),
            tree_leaves(tree) * k,
        )?;
        table.extend_from_slice(&tree.leaf_values.0);
        if k > 1 && !m.soft_vote {
            check_len(
                &format!("model.trees[{t}].leaf_class"),
                tree.leaf_class.0.len(),
                tree_leaves(tree),
            )?;
            for &c in &tree.leaf_class.0 {
                votes.extend((0..k).map(|j| if j == c as usize { 1.0 } else { 0.0 }));
            }
        }
    }
    let n_leaves = (table.len() / k) as i64;
    let count = b.doubles(&[], vec![n_trees as f64]);
    if m.task == Task::Regression {
        let values = b.doubles(&[n_leaves], table);
        let per_tree = b.op("Gather", &[&values, ids], vec![("axis", Attr::Int(0))]);
        let zeros = b.fill(x, &[], scalar_f64(0.0));
        let sum = b.ordered_sum(&zeros, &per_tree, 1, data_type::DOUBLE);
        return Ok(Head::Value(b.op("Div", &[&sum, &count], vec![])));
    }
    let k = k as i64;
    let dists = b.doubles(&[n_leaves, k], table);
    let per_tree = b.op("Gather", &[&dists, ids], vec![("axis", Attr::Int(0))]);
    let zeros = b.fill(x, &[k], scalar_f64(0.0));
    let sum = b.ordered_sum(&zeros, &per_tree, 1, data_type::DOUBLE);
    let proba = b.op("Div", &[&sum, &count], vec![]);
    let decided_by = if m.soft_vote {
        proba.clone()
    } else {
        let one_hot = b.doubles(&[n_leaves, k], votes);
        let per_tree = b.op("Gather", &[&one_hot, ids], vec![("axis", Attr::Int(0))]);
        let axes = b.ints(&[1], vec![1]);
        // Whole numbers below 2^53: any order of addition gives the exact count.
        b.op(
            "ReduceSum",
            &[&per_tree, &axes],
            vec![("keepdims", Attr::Int(0))],
        )
    };
    let label = first_max(b, &decided_by);
    Ok(Head::Classes { proba, label })
}

/// The margins `[N]` (or `[N, K]` under softmax, tree `t` adding to class `t % K`): the base
/// score, then each tree's leaf in tree order.
fn summed(
    b: &mut Builder,
    x: &str,
    per_tree: &str,
    k: usize,
    base: crate::proto::TensorProto,
    elem: i32,
) -> String {
    if k == 1 {
        let init = b.fill(x, &[], base);
        return b.ordered_sum(&init, per_tree, 1, elem);
    }
    let k = k as i64;
    let shape = b.ints(&[3], vec![0, -1, k]);
    let rounds = b.op("Reshape", &[per_tree, &shape], vec![]);
    let init = b.fill(x, &[k], base);
    b.ordered_sum(&init, &rounds, 1, elem)
}

/// The `double` links: `1 / (1 + exp(-m))` as written, or tabship's softmax (label: the first
/// highest margin).
fn link_f64(b: &mut Builder, m: &str, link: Link) -> Head {
    match link {
        Link::Identity => Head::Value(m.to_owned()),
        Link::Logistic => {
            let neg = b.op("Neg", &[m], vec![]);
            let e = b.op("Exp", &[&neg], vec![]);
            let one = b.doubles(&[], vec![1.0]);
            let denom = b.op("Add", &[&one, &e], vec![]);
            let p = b.op("Div", &[&one, &denom], vec![]);
            Head::binary_from_positive(b, &p)
        }
        Link::Softmax => {
            let label = first_max(b, m);
            let proba = softmax(b, m);
            Head::Classes { proba, label }
        }
    }
}

/// XGBoost's `float` links (`src/common/math.h`), as tabship's `sum_f32` computes them.
fn link_f32(b: &mut Builder, m: &str, link: Link) -> Head {
    let to_double = |b: &mut Builder, v: &str| {
        b.op(
            "Cast",
            &[v],
            vec![("to", Attr::Int(i64::from(data_type::DOUBLE)))],
        )
    };
    match link {
        Link::Identity => Head::Value(to_double(b, m)),
        Link::Logistic => {
            let neg = b.op("Neg", &[m], vec![]);
            let cap = b.floats(&[], vec![88.7]);
            let clamped = b.op("Min", &[&neg, &cap], vec![]);
            let e = b.op("Exp", &[&clamped], vec![]);
            let one = b.floats(&[], vec![1.0]);
            let eps = b.floats(&[], vec![1e-16]);
            let plus_one = b.op("Add", &[&e, &one], vec![]);
            let denom = b.op("Add", &[&plus_one, &eps], vec![]);
            let p = b.op("Div", &[&one, &denom], vec![]);
            let q = b.op("Sub", &[&one, &p], vec![]);
            let pair = stack(b, &[&q, &p]);
            let proba = to_double(b, &pair);
            let half = b.floats(&[], vec![0.5]);
            let positive = b.op("Greater", &[&p, &half], vec![]);
            let label = b.op(
                "Cast",
                &[&positive],
                vec![("to", Attr::Int(i64::from(data_type::INT64)))],
            );
            Head::Classes { proba, label }
        }
        Link::Softmax => {
            let axes = b.ints(&[1], vec![1]);
            let w = b.op("ReduceMax", &[m, &axes], vec![("keepdims", Attr::Int(1))]);
            let shifted = b.op("Sub", &[m, &w], vec![]);
            let e = b.op("Exp", &[&shifted], vec![]);
            let wide = to_double(b, &e);
            let wsum = b.op(
                "ReduceSum",
                &[&wide, &axes],
                vec![("keepdims", Attr::Int(1))],
            );
            let total = b.op(
                "Cast",
                &[&wsum],
                vec![("to", Attr::Int(i64::from(data_type::FLOAT)))],
            );
            let p = b.op("Div", &[&e, &total], vec![]);
            let label = first_max(b, &p);
            let proba = to_double(b, &p);
            Head::Classes { proba, label }
        }
    }
}

/// The index of the first largest value along axis 1.
fn first_max(b: &mut Builder, v: &str) -> String {
    b.op(
        "ArgMax",
        &[v],
        vec![
            ("axis", Attr::Int(1)),
            ("keepdims", Attr::Int(0)),
            ("select_last_index", Attr::Int(0)),
        ],
    )
}
