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

use tabship::Task;
use tabship::model::{
    Combination, LEAF, Link, MISSING_NAN, MISSING_NONE, MISSING_ZERO, SPLIT_LISTED_LEFT,
    SPLIT_NUMERIC, TreeEnsemble, TreeSpec, ZERO_THRESHOLD,
};

use crate::encoders::scalar_f64;
use crate::graph::{Attr, Builder, ML, tensor_f32, tensor_f64, tensor_u8};
use crate::head::{Head, softmax, stack};
use crate::proto::data_type;
use crate::{Error, Result};

/// `nodes_modes` values of `TreeEnsemble`.
const BRANCH_LEQ: u8 = 0;
const BRANCH_LT: u8 = 1;
const BRANCH_MEMBER: u8 = 6;

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
    let features = with_derived(b, &features, &flat.derived);
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
            let k = if link == Link::Softmax { n_classes } else { 1 };
            if m.accumulate_f32 {
                let margins = b.floats(
                    &[flat.n_leaves() as i64],
                    flat.leaves.iter().map(|l| l.values[0] as f32).collect(),
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
                let margins = b.doubles(
                    &[flat.n_leaves() as i64],
                    flat.leaves.iter().map(|l| l.values[0]).collect(),
                );
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

/// A column computed from a feature for the nodes that cannot test the feature itself.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Derived {
    /// What a categorical node looks up in its bitset: `floor(x)` when `x >= 0`, else `-1`
    /// (listed nowhere); NaN stays NaN, and `-0.0` becomes code `0`.
    Code,
    /// For LightGBM's `zero` missing type: NaN where `|x| <= 1e-35` (or `x` is NaN), else `x`,
    /// so that the band takes the node's missing side.
    ZeroBand,
}

/// `features` with the derived columns appended, in order.
fn with_derived(b: &mut Builder, features: &str, derived: &[(u32, Derived)]) -> String {
    if derived.is_empty() {
        return features.to_owned();
    }
    let mut columns = vec![features.to_owned()];
    for &(feature, kind) in derived {
        let index = b.ints(&[1], vec![i64::from(feature)]);
        let raw = b.op("Gather", &[features, &index], vec![("axis", Attr::Int(1))]);
        let nan = b.op("IsNaN", &[&raw], vec![]);
        columns.push(match kind {
            Derived::Code => {
                let zero = b.doubles(&[], vec![0.0]);
                let floor = b.op("Floor", &[&raw], vec![]);
                // `+ 0.0` turns `-0.0` into `0.0`, the code the bitset lists.
                let code = b.op("Add", &[&floor, &zero], vec![]);
                let non_negative = b.op("GreaterOrEqual", &[&raw, &zero], vec![]);
                let unlisted = b.doubles(&[], vec![-1.0]);
                let coded = b.op("Where", &[&non_negative, &code, &unlisted], vec![]);
                b.op("Where", &[&nan, &raw, &coded], vec![])
            }
            Derived::ZeroBand => {
                let abs = b.op("Abs", &[&raw], vec![]);
                let band = b.doubles(&[], vec![ZERO_THRESHOLD]);
                let near_zero = b.op("LessOrEqual", &[&abs, &band], vec![]);
                let missing = b.op("Or", &[&nan, &near_zero], vec![]);
                let nan_value = b.doubles(&[], vec![f64::NAN]);
                b.op("Where", &[&missing, &nan_value, &raw], vec![])
            }
        });
    }
    let refs: Vec<&str> = columns.iter().map(String::as_str).collect();
    b.op("Concat", &refs, vec![("axis", Attr::Int(1))])
}

/// The number of leaves of a tree.
fn tree_leaves(tree: &TreeSpec) -> usize {
    tree.left.0.iter().filter(|&&l| l == LEAF).count()
}

fn check_len(part: &str, got: usize, expected: usize) -> Result<()> {
    if got == expected {
        Ok(())
    } else {
        Err(Error::unsupported(
            part,
            format!("{got} values where the trees need {expected}"),
        ))
    }
}

/// One leaf of the flattened ensemble: its tree and its outputs.
struct Leaf {
    tree: usize,
    values: Vec<f64>,
}

/// The ensemble as `TreeEnsemble`'s parallel arrays.
struct Flattened {
    modes: Vec<u8>,
    feature: Vec<i64>,
    split: Vec<f64>,
    true_id: Vec<i64>,
    true_leaf: Vec<i64>,
    false_id: Vec<i64>,
    false_leaf: Vec<i64>,
    missing_true: Vec<i64>,
    members: Vec<f64>,
    roots: Vec<i64>,
    leaves: Vec<Leaf>,
    /// Columns derived from features, appended to the matrix: `derived[j]` is column
    /// `width + j`.
    derived: Vec<(u32, Derived)>,
    width: usize,
}

/// Where a branch of a node leads.
enum Target {
    Node(i64),
    Leaf(i64),
}

impl Flattened {
    fn new(m: &TreeEnsemble, width: usize) -> Result<Self> {
        let mut flat = Flattened {
            modes: Vec::new(),
            feature: Vec::new(),
            split: Vec::new(),
            true_id: Vec::new(),
            true_leaf: Vec::new(),
            false_id: Vec::new(),
            false_leaf: Vec::new(),
            missing_true: Vec::new(),
            members: Vec::new(),
            roots: Vec::new(),
            leaves: Vec::new(),
            derived: Vec::new(),
            width,
        };
        let outputs = |tree: &TreeSpec| {
            let leaves = tree_leaves(tree).max(1);
            tree.leaf_values.0.len() / leaves
        };
        for (t, tree) in m.trees.iter().enumerate() {
            let k = outputs(tree).max(1);
            // Leaves are numbered across the ensemble in the order of their stored index, so
            // that the tables are the trees' `leaf_values` one after another.
            let first_leaf = flat.leaves.len() as i64;
            let n_leaves = tree_leaves(tree);
            flat.leaves.extend((0..n_leaves).map(|l| {
                Leaf {
                    tree: t,
                    values: tree
                        .leaf_values
                        .0
                        .get(l * k..(l + 1) * k)
                        .map_or_else(Vec::new, <[f64]>::to_vec),
                }
            }));
            if tree.left.0.first() == Some(&LEAF) {
                // A tree that is one leaf: one node whose both branches lead to it.
                flat.roots.push(flat.modes.len() as i64);
                let leaf = first_leaf + i64::from(tree.right.0[0]);
                flat.push_node(
                    BRANCH_LEQ,
                    0,
                    0.0,
                    Target::Leaf(leaf),
                    Target::Leaf(leaf),
                    0,
                );
                continue;
            }
            flat.add_tree(t, tree, first_leaf)?;
        }
        Ok(flat)
    }

    fn n_leaves(&self) -> usize {
        self.leaves.len()
    }

    /// Adds tree `t`'s internal nodes, numbered in their stored order (children after parents).
    fn add_tree(&mut self, t: usize, tree: &TreeSpec, first_leaf: i64) -> Result<()> {
        let n = tree.left.0.len();
        let base = self.modes.len() as i64;
        // ONNX position of each internal node.
        let mut next = base;
        let position: Vec<i64> = tree
            .left
            .0
            .iter()
            .map(|&l| {
                if l == LEAF {
                    -1
                } else {
                    next += 1;
                    next - 1
                }
            })
            .collect();
        self.roots.push(base);
        let target = |c: u32| -> Target {
            let c = c as usize;
            if tree.left.0[c] == LEAF {
                Target::Leaf(first_leaf + i64::from(tree.right.0[c]))
            } else {
                Target::Node(position[c])
            }
        };
        for i in 0..n {
            if tree.left.0[i] == LEAF {
                continue;
            }
            let part = || format!("model.trees[{t}].nodes[{i}]");
            let (left, right) = (target(tree.left.0[i]), target(tree.right.0[i]));
            let missing_left = tree.missing_left.0.get(i).is_some_and(|&v| v != 0);
            let strict = tree.strict.0.get(i).is_some_and(|&v| v != 0);
            let missing_type = tree.missing_type.0.get(i).copied().unwrap_or(MISSING_NAN);
            let kind = tree.categorical.0.get(i).copied().unwrap_or(SPLIT_NUMERIC);
            let feature = tree.feature.0[i];
            let threshold = tree.threshold.0[i];
            if kind != SPLIT_NUMERIC {
                if missing_type != MISSING_NAN {
                    return Err(Error::unsupported(
                        part(),
                        "a categorical split with a LightGBM missing type other than NaN",
                    ));
                }
                let listed = listed_codes(tree, i);
                let listed_left = kind == SPLIT_LISTED_LEFT;
                let (yes, no) = if listed_left {
                    (left, right)
                } else {
                    (right, left)
                };
                let column = self.derived_column(feature, Derived::Code);
                let nan_listed = i64::from(missing_left == listed_left);
                if listed.is_empty() {
                    // Nothing is listed: `x < -inf` is false for every value, NaN aside.
                    self.push_node(BRANCH_LT, column, f64::NEG_INFINITY, yes, no, nan_listed);
                } else {
                    if !self.members.is_empty() {
                        self.members.push(f64::NAN);
                    }
                    self.members.extend(listed);
                    self.push_node(BRANCH_MEMBER, column, 0.0, yes, no, nan_listed);
                }
                continue;
            }
            let mode = if strict { BRANCH_LT } else { BRANCH_LEQ };
            let mut column = i64::from(feature);
            let compare = |x: f64| {
                if strict {
                    x < threshold
                } else {
                    x <= threshold
                }
            };
            let nan_left = match missing_type {
                MISSING_NAN => missing_left,
                MISSING_NONE => compare(0.0),
                MISSING_ZERO => {
                    // The band |x| <= 1e-35 takes the missing side, as NaN (which becomes 0.0)
                    // does: the node tests a derived column where the band is NaN.
                    column = self.derived_column(feature, Derived::ZeroBand);
                    missing_left
                }
                other => {
                    return Err(Error::unsupported(
                        part(),
                        format!("unknown missing type `{other}`"),
                    ));
                }
            };
            self.push_node(mode, column, threshold, left, right, i64::from(nan_left));
        }
        Ok(())
    }

    /// The derived column `kind` of `feature` (added on first use).
    fn derived_column(&mut self, feature: u32, kind: Derived) -> i64 {
        let j = match self.derived.iter().position(|&d| d == (feature, kind)) {
            Some(j) => j,
            None => {
                self.derived.push((feature, kind));
                self.derived.len() - 1
            }
        };
        (self.width + j) as i64
    }

    fn push_node(
        &mut self,
        mode: u8,
        feature: i64,
        split: f64,
        yes: Target,
        no: Target,
        nan_true: i64,
    ) {
        self.modes.push(mode);
        self.feature.push(feature);
        self.split.push(split);
        let (id, leaf) = match yes {
            Target::Node(n) => (n, 0),
            Target::Leaf(l) => (l, 1),
        };
        self.true_id.push(id);
        self.true_leaf.push(leaf);
        let (id, leaf) = match no {
            Target::Node(n) => (n, 0),
            Target::Leaf(l) => (l, 1),
        };
        self.false_id.push(id);
        self.false_leaf.push(leaf);
        self.missing_true.push(nan_true);
    }

    /// The `TreeEnsemble` node: output `[N, T]`, each tree's leaf number.
    fn tree_ensemble(&self, b: &mut Builder, features: &str, n_trees: usize) -> String {
        let mut attrs = vec![
            ("n_targets", Attr::Int(n_trees as i64)),
            ("aggregate_function", Attr::Int(1)),
            ("post_transform", Attr::Int(0)),
            ("tree_roots", Attr::Ints(self.roots.clone())),
            ("nodes_modes", Attr::Tensor(tensor_u8(&self.modes))),
            ("nodes_featureids", Attr::Ints(self.feature.clone())),
            (
                "nodes_splits",
                Attr::Tensor(tensor_f64(&[self.split.len() as i64], self.split.clone())),
            ),
            ("nodes_truenodeids", Attr::Ints(self.true_id.clone())),
            ("nodes_trueleafs", Attr::Ints(self.true_leaf.clone())),
            ("nodes_falsenodeids", Attr::Ints(self.false_id.clone())),
            ("nodes_falseleafs", Attr::Ints(self.false_leaf.clone())),
            (
                "nodes_missing_value_tracks_true",
                Attr::Ints(self.missing_true.clone()),
            ),
            (
                "leaf_targetids",
                Attr::Ints(self.leaves.iter().map(|l| l.tree as i64).collect()),
            ),
            (
                "leaf_weights",
                Attr::Tensor(tensor_f64(
                    &[self.leaves.len() as i64],
                    (0..self.leaves.len()).map(|l| l as f64).collect(),
                )),
            ),
        ];
        if !self.members.is_empty() {
            attrs.push((
                "membership_values",
                Attr::Tensor(tensor_f64(
                    &[self.members.len() as i64],
                    self.members.clone(),
                )),
            ));
        }
        b.op_in(ML, "TreeEnsemble", &[features], attrs)
    }
}

/// The codes categorical node `i` lists, ascending.
fn listed_codes(tree: &TreeSpec, i: usize) -> Vec<f64> {
    let start = tree.category_offsets.0.get(i).copied().unwrap_or(0) as usize;
    let end = tree.category_offsets.0.get(i + 1).copied().unwrap_or(0) as usize;
    let words = tree.category_bits.0.get(start..end).unwrap_or(&[]);
    let mut codes = Vec::new();
    for (w, &word) in words.iter().enumerate() {
        for bit in 0..32 {
            if (word >> bit) & 1 == 1 {
                codes.push((w * 32 + bit) as f64);
            }
        }
    }
    codes
}
