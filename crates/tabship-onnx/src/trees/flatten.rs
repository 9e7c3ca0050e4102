//! The ensemble flattened into `TreeEnsemble`'s parallel arrays: internal nodes numbered tree
//! after tree, every leaf its own entry (tree `t` as target `t`, the leaf's number as weight),
//! each split's comparison, NaN side and membership set, and the derived columns some splits
//! test instead of the feature itself.

use tabship::model::{
    LEAF, MISSING_NAN, MISSING_NONE, MISSING_ZERO, SPLIT_LISTED_LEFT, SPLIT_NUMERIC, TreeEnsemble,
    TreeSpec, ZERO_THRESHOLD,
};

use crate::graph::{Attr, Builder, ML, tensor_f64, tensor_u8};
use crate::{Error, Result};

/// `nodes_modes` values of `TreeEnsemble`.
const BRANCH_LEQ: u8 = 0;
const BRANCH_LT: u8 = 1;
const BRANCH_MEMBER: u8 = 6;

/// A column computed from a feature for the nodes that cannot test the feature itself.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Derived {
    /// What a categorical node looks up in its bitset: `floor(x)` when `x >= 0`, else `-1`
    /// (listed nowhere); NaN stays NaN, and `-0.0` becomes code `0`.
    Code,
    /// For LightGBM's `zero` missing type: NaN where `|x| <= 1e-35` (or `x` is NaN), else `x`,
    /// so that the band takes the node's missing side.
    ZeroBand,
}

/// `features` with the derived columns appended, in order.
pub(super) fn with_derived(b: &mut Builder, features: &str, derived: &[(u32, Derived)]) -> String {
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
pub(super) fn tree_leaves(tree: &TreeSpec) -> usize {
    tree.left.0.iter().filter(|&&l| l == LEAF).count()
}

pub(super) fn check_len(part: &str, got: usize, expected: usize) -> Result<()> {
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
pub(super) struct Flattened {
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
    pub(super) fn new(m: &TreeEnsemble, width: usize) -> Result<Self> {
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

    /// The number of leaves of every tree.
    pub(super) fn n_leaves(&self) -> usize {
        self.leaves.len()
    }

    /// Each leaf's first output: its margin in a summed ensemble.
    pub(super) fn leaf_margins(&self) -> Vec<f64> {
        self.leaves
            .iter()
            .map(|l| l.values.first().copied().unwrap_or(0.0))
            .collect()
    }

    /// The derived columns, in the order they follow the features.
    pub(super) fn derived(&self) -> &[(u32, Derived)] {
        &self.derived
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
    pub(super) fn tree_ensemble(&self, b: &mut Builder, features: &str, n_trees: usize) -> String {
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
