//! A LightGBM text model as parsed: the header, the trees and the few facts from the parameter
//! section that change predictions. Every index in it has been checked against its array, and
//! every tree is a tree (each node reached exactly once from the root).

/// A parsed LightGBM text model (`version=v4`).
#[derive(Debug, Clone, PartialEq)]
pub struct LightgbmModel {
    /// Classes of a classifier (`num_class`; 1 for regression and binary).
    pub num_class: usize,
    /// Trees per boosting iteration: tree `t` adds to output `t % num_tree_per_iteration`.
    pub num_tree_per_iteration: usize,
    /// The objective, which fixes how summed margins become predictions.
    pub objective: Option<Objective>,
    /// `average_output` (random forests, `boosting=rf`): the summed margins are divided by the
    /// number of iterations before the objective's transform.
    pub average_output: bool,
    /// One name per model feature, in the model's column order.
    pub feature_names: Vec<String>,
    /// Per feature, what training saw of it.
    pub feature_infos: Vec<FeatureInfo>,
    /// The trees, in the order their outputs are summed.
    pub trees: Vec<Tree>,
    /// `[linear_tree: 1]` in the parameter section: leaves hold linear models.
    pub linear_tree: bool,
    /// `[categorical_feature: i,j,...]` in the parameter section: the categorical features, in
    /// increasing order. `None` when the section is absent or names features other than by index.
    pub categorical_features: Option<Vec<usize>>,
    /// `pandas_categorical`: for each categorical feature in column order, its pandas categories
    /// (category `i` is fed to the model as code `i`). `None` when the model was not trained on
    /// a pandas frame with categorical columns.
    pub pandas_categorical: Option<Vec<Vec<serde_json::Value>>>,
}

/// What training saw of one feature (`feature_infos`).
#[derive(Debug, Clone, PartialEq)]
pub enum FeatureInfo {
    /// `none`: the feature is never split on.
    Unused,
    /// `[min:max]`: a numeric feature's range in the training data.
    Numeric {
        /// Smallest training value.
        min: f64,
        /// Largest training value.
        max: f64,
    },
    /// `c1:c2:...`: a categorical feature's category codes seen in training.
    Categorical(Vec<i64>),
}

/// A model's objective, as far as prediction is concerned.
#[derive(Debug, Clone, PartialEq)]
pub enum Objective {
    /// A regression objective whose prediction is the raw margin (`regression`,
    /// `regression_l1`, `huber`, `fair`, `quantile`, `mape`).
    Identity {
        /// The objective's name.
        name: String,
    },
    /// `binary`: `p = 1 / (1 + exp(-sigmoid * margin))`.
    Binary {
        /// The sigmoid's scale (`sigmoid:`).
        sigmoid: f64,
    },
    /// `multiclass`: softmax over one margin per class.
    Multiclass {
        /// The number of classes (`num_class:`).
        num_class: usize,
    },
    /// Any other objective LightGBM knows (`poisson`, `multiclassova`, `regression sqrt`,
    /// `lambdarank`, ...), kept by its text so that it can be named when refused.
    Other {
        /// The `objective=` value as written.
        text: String,
    },
}

/// One LightGBM tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Tree {
    /// Internal nodes; node 0 is the root (none when the tree is a single leaf).
    pub splits: Vec<Split>,
    /// Leaf outputs (already multiplied by the tree's shrinkage).
    pub leaf_value: Vec<f64>,
    /// Categorical splits' bitsets: split `i`'s words are
    /// `cat_threshold[cat_boundaries[c]..cat_boundaries[c + 1]]` for `c` its category set.
    pub cat_boundaries: Vec<u32>,
    /// The bitset words of every categorical split, concatenated.
    pub cat_threshold: Vec<u32>,
    /// `is_linear=1`: leaves hold linear models (refused on conversion).
    pub is_linear: bool,
}

/// One internal node.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Split {
    /// The model feature compared (index into [`LightgbmModel::feature_names`]).
    pub feature: usize,
    /// Numeric splits: `x <= threshold` goes left.
    pub threshold: f64,
    /// Categorical splits: the index of the category set (into `cat_boundaries`).
    pub cat_set: Option<usize>,
    /// Whether a missing value goes left (`decision_type` bit 1).
    pub default_left: bool,
    /// What counts as missing (`decision_type` bits 2–3).
    pub missing: MissingType,
    /// Left child.
    pub left: Child,
    /// Right child.
    pub right: Child,
}

/// LightGBM's missing-value handling of a numeric split (`MissingType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingType {
    /// Nothing is missing: NaN is compared as 0.0.
    None,
    /// `|x| <= 1e-35` (and NaN, compared as 0.0) is missing and goes to the default side.
    Zero,
    /// NaN is missing and goes to the default side.
    NaN,
}

/// A child of an internal node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Child {
    /// Another internal node (index into [`Tree::splits`]).
    Split(usize),
    /// A leaf (index into [`Tree::leaf_value`]).
    Leaf(usize),
}

impl Tree {
    /// The bitset words of category set `c` (checked by the parser to lie inside
    /// `cat_threshold`).
    pub fn category_words(&self, c: usize) -> &[u32] {
        let (lo, hi) = (self.cat_boundaries[c], self.cat_boundaries[c + 1]);
        &self.cat_threshold[lo as usize..hi as usize]
    }
}

/// LightGBM's `kZeroThreshold` (`1e-35f`, a `float` literal widened to `double`): values with
/// `|x| <= ZERO_THRESHOLD` are zero to LightGBM (the core's constant of the same rule).
pub use tabship::model::ZERO_THRESHOLD;
