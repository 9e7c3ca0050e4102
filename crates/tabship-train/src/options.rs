//! Training options: model choice, hyperparameters, encoder settings, split. Checked once by
//! [`TrainOptions::validate`] before any fitting starts.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use tabship::encode::{CategoricalMissing, CategoryEncoding, ImputeStrategy};
use tabship::{ParamValue, TargetTransform, Task};

use crate::data::KindOverrides;
use crate::imbalance::{ClassWeight, ThresholdRule};
use crate::{Error, Result};

/// The model family to fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelKind {
    /// Logistic regression (classification).
    Logistic,
    /// Ordinary least squares (regression).
    Linear,
    /// Ridge regression (regression; the default for regression).
    Ridge,
    /// Lasso (regression).
    Lasso,
    /// Elastic net (regression).
    ElasticNet,
    /// One decision tree (classification or regression).
    DecisionTree,
    /// Random forest (classification or regression).
    RandomForest,
    /// Extra trees (regression; classification with the histogram learner, as smartcore has no
    /// extra-trees classifier).
    ExtraTrees,
    /// Gradient-boosted trees on the histogram learner (classification and regression).
    GradientBoosting,
}

impl ModelKind {
    /// All kinds, in CLI order.
    pub const ALL: [ModelKind; 9] = [
        ModelKind::Logistic,
        ModelKind::Linear,
        ModelKind::Ridge,
        ModelKind::Lasso,
        ModelKind::ElasticNet,
        ModelKind::DecisionTree,
        ModelKind::RandomForest,
        ModelKind::ExtraTrees,
        ModelKind::GradientBoosting,
    ];

    /// The CLI name.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Logistic => "logistic",
            ModelKind::Linear => "linear",
            ModelKind::Ridge => "ridge",
            ModelKind::Lasso => "lasso",
            ModelKind::ElasticNet => "elastic-net",
            ModelKind::DecisionTree => "decision-tree",
            ModelKind::RandomForest => "random-forest",
            ModelKind::ExtraTrees => "extra-trees",
            ModelKind::GradientBoosting => "gradient-boosting",
        }
    }

    /// Whether the model can do `task`.
    pub fn supports(self, task: Task) -> bool {
        match self {
            ModelKind::Logistic => task == Task::Classification,
            // Extra trees classify with the histogram learner only (checked in `validate_for`).
            ModelKind::DecisionTree
            | ModelKind::RandomForest
            | ModelKind::ExtraTrees
            | ModelKind::GradientBoosting => true,
            _ => task == Task::Regression,
        }
    }

    /// Whether the model is a tree model.
    pub fn is_tree(self) -> bool {
        matches!(
            self,
            ModelKind::DecisionTree
                | ModelKind::RandomForest
                | ModelKind::ExtraTrees
                | ModelKind::GradientBoosting
        )
    }

    /// How missing numbers reach this model when `--impute` is not given: as NaN (the missing
    /// bin, a learned direction) for gradient boosting, filled with the median otherwise.
    pub fn default_impute(self) -> ImputeStrategy {
        match self {
            ModelKind::GradientBoosting => ImputeStrategy::Nan,
            _ => ImputeStrategy::Median,
        }
    }

    /// The default model of a task.
    pub fn default_for(task: Task) -> ModelKind {
        match task {
            Task::Classification => ModelKind::Logistic,
            Task::Regression => ModelKind::Ridge,
        }
    }
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ModelKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        crate::choice::parse_choice(s)
    }
}

/// Categories rarer than this go to the Other slot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MinFrequency {
    /// At least this many training rows.
    Count(u64),
    /// At least this fraction of training rows (0 < f < 1).
    Fraction(f64),
}

impl MinFrequency {
    /// The count threshold for `n_rows` training rows.
    pub fn threshold(self, n_rows: usize) -> u64 {
        match self {
            MinFrequency::Count(c) => c,
            MinFrequency::Fraction(f) => (f * n_rows as f64).ceil() as u64,
        }
    }
}

impl FromStr for MinFrequency {
    type Err = Error;
    /// `5` is a count, `0.01` a fraction.
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::InvalidOption {
            option: "min-frequency",
            reason: format!(
                "expected a count (e.g. 5) or a fraction in (0, 1) (e.g. 0.01), got `{s}`"
            ),
        };
        if let Ok(c) = s.parse::<u64>() {
            return Ok(MinFrequency::Count(c));
        }
        match s.parse::<f64>() {
            Ok(f) if f > 0.0 && f < 1.0 => Ok(MinFrequency::Fraction(f)),
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for MinFrequency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MinFrequency::Count(c) => write!(f, "{c}"),
            MinFrequency::Fraction(x) => write!(f, "{x}"),
        }
    }
}

/// How the encoders are fitted. Deserialized from kebab-case fields named as the CLI's flags
/// (`encoding`, `min-frequency`, `categorical-missing`, `impute`, ...); absent ones keep their
/// defaults.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct EncoderOptions {
    /// One-hot (default) or ordinal.
    #[serde(rename = "encoding", deserialize_with = "crate::choice::deserialize")]
    pub categorical_encoding: CategoryEncoding,
    /// Categories rarer than this go to Other (default: count 5).
    #[serde(deserialize_with = "crate::choice::from_text")]
    pub min_frequency: MinFrequency,
    /// Missing categories: a Missing slot (default) or the most frequent category.
    #[serde(deserialize_with = "crate::choice::deserialize")]
    pub categorical_missing: CategoricalMissing,
    /// Missing numbers: median, mean, constant or nan (kept missing, for the trees of the
    /// histogram learner); `None` is the model's default ([`ModelKind::default_impute`]: nan for
    /// gradient boosting, median otherwise).
    #[serde(
        rename = "impute",
        deserialize_with = "crate::choice::deserialize_option"
    )]
    pub numeric_impute: Option<ImputeStrategy>,
    /// The constant for [`ImputeStrategy::Constant`].
    pub fill_value: f64,
    /// Add a 0/1 missing-indicator feature after every numeric column.
    pub missing_indicator: bool,
    /// Standard-scale numeric columns; `None` means on for linear models.
    pub scale: Option<bool>,
}

impl EncoderOptions {
    /// The imputation fitted for `model`: the one given, else the model's default.
    pub fn impute_for(&self, model: ModelKind) -> ImputeStrategy {
        self.numeric_impute
            .unwrap_or_else(|| model.default_impute())
    }

    /// These options with the imputation resolved for `model` (what the encoders are fitted
    /// with).
    pub fn resolved_for(&self, model: ModelKind) -> EncoderOptions {
        EncoderOptions {
            numeric_impute: Some(self.impute_for(model)),
            ..self.clone()
        }
    }
}

impl Default for EncoderOptions {
    fn default() -> Self {
        EncoderOptions {
            categorical_encoding: CategoryEncoding::OneHot,
            min_frequency: MinFrequency::Count(5),
            categorical_missing: CategoricalMissing::Slot,
            numeric_impute: None,
            fill_value: 0.0,
            missing_indicator: false,
            scale: None,
        }
    }
}

/// smartcore's settings for the linear models (kebab-case fields; absent ones keep their
/// defaults).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct LinearParams {
    /// Regularisation strength: L2 for logistic (`1/C` in scikit-learn terms) and ridge, the
    /// penalty for lasso and elastic net. Default 1.0; plain `linear` ignores it.
    pub alpha: f64,
    /// Elastic net mixing, 0 = L2 .. 1 = L1 (default 0.5).
    pub l1_ratio: f64,
    /// Convergence tolerance (default 1e-4): lasso and elastic net as smartcore defines it;
    /// logistic regression stops when no component of the mean loss's gradient exceeds it.
    pub tol: f64,
    /// Iteration limit of logistic regression's L-BFGS, lasso and elastic net (default 1000).
    pub max_iter: usize,
    /// Solver: `svd` or `qr` for linear (default svd), `cholesky` or `svd` for ridge (default
    /// cholesky).
    pub solver: Option<String>,
}

impl Default for LinearParams {
    fn default() -> Self {
        LinearParams {
            alpha: 1.0,
            l1_ratio: 0.5,
            tol: 1e-4,
            max_iter: 1000,
            solver: None,
        }
    }
}

/// How many features a forest tries at each split.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MaxFeatures {
    /// `floor(sqrt(features))`, smartcore's default (the default).
    Sqrt,
    /// Every feature.
    All,
    /// This many features.
    Count(usize),
    /// This fraction of the features, rounded up.
    Fraction(f64),
}

impl FromStr for MaxFeatures {
    type Err = Error;
    /// `sqrt`, `all`, a count (`8`) or a fraction in (0, 1] (`0.5`).
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "sqrt" => return Ok(MaxFeatures::Sqrt),
            "all" => return Ok(MaxFeatures::All),
            _ => {}
        }
        if let Ok(c) = s.parse::<usize>() {
            if c > 0 {
                return Ok(MaxFeatures::Count(c));
            }
        }
        match s.parse::<f64>() {
            Ok(f) if f > 0.0 && f <= 1.0 => Ok(MaxFeatures::Fraction(f)),
            _ => Err(Error::InvalidOption {
                option: "max-features",
                reason: format!(
                    "expected `sqrt`, `all`, a count >= 1 or a fraction in (0, 1], got `{s}`"
                ),
            }),
        }
    }
}

impl fmt::Display for MaxFeatures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MaxFeatures::Sqrt => f.write_str("sqrt"),
            MaxFeatures::All => f.write_str("all"),
            MaxFeatures::Count(c) => write!(f, "{c}"),
            MaxFeatures::Fraction(x) => write!(f, "{x}"),
        }
    }
}

/// Which learner grows decision trees, random forests and extra trees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TreeLearner {
    /// tabship's histogram learner ([`crate::hist`]-based): features binned once, classification
    /// and regression for every tree model, missing values (`--impute nan`) with learned sides.
    Hist,
    /// smartcore's exact trees (extra trees for regression only).
    Smartcore,
}

impl TreeLearner {
    /// The CLI name.
    pub fn name(self) -> &'static str {
        match self {
            TreeLearner::Hist => "hist",
            TreeLearner::Smartcore => "smartcore",
        }
    }
}

impl fmt::Display for TreeLearner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for TreeLearner {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        crate::choice::parse_choice(s)
    }
}

/// The default tree learner (see `benches/hist/README.md` for the accuracy table behind it).
pub const DEFAULT_TREE_LEARNER: TreeLearner = TreeLearner::Smartcore;

/// Settings for trees and forests (kebab-case fields; absent ones keep their defaults).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct TreeParams {
    /// Trees in a forest (default 100).
    pub n_trees: usize,
    /// Depth limit: the most splits on any path from the root to a leaf, as in scikit-learn
    /// (default none).
    pub max_depth: Option<u16>,
    /// Fewest training rows in a leaf (default 1).
    pub min_samples_leaf: usize,
    /// Fewest training rows in a node to split it (default 2).
    pub min_samples_split: usize,
    /// Features tried per split in forests (default `sqrt`).
    #[serde(deserialize_with = "crate::choice::from_text")]
    pub max_features: MaxFeatures,
    /// Seed of bootstraps and feature sampling: the same seed gives the same trees.
    pub seed: u64,
    /// Trees fitted at once (default: the machine's available parallelism).
    pub threads: usize,
    /// The learner growing the trees (default [`DEFAULT_TREE_LEARNER`]).
    #[serde(deserialize_with = "crate::choice::deserialize")]
    pub learner: TreeLearner,
    /// Bins per feature of the histogram learner, its missing bin included (2..=255, default
    /// 255).
    pub max_bins: usize,
}

impl TreeParams {
    /// The depth limit in smartcore's terms: smartcore counts the root as level 1 and does not
    /// split a node at level `max_depth`, so scikit-learn's `max_depth = d` is smartcore's `d + 1`.
    pub fn smartcore_max_depth(&self) -> Option<u16> {
        self.max_depth.map(|d| d.saturating_add(1))
    }
}

impl Default for TreeParams {
    fn default() -> Self {
        TreeParams {
            n_trees: 100,
            max_depth: None,
            min_samples_leaf: 1,
            min_samples_split: 2,
            max_features: MaxFeatures::Sqrt,
            seed: 42,
            threads: std::thread::available_parallelism().map_or(1, usize::from),
            learner: DEFAULT_TREE_LEARNER,
            max_bins: 255,
        }
    }
}

/// Gradient boosting's own settings (kebab-case fields; absent ones keep their defaults). The
/// rounds, depth limit, bins, seed and threads are the trees' (`trees.n-trees`, ...).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct BoostingParams {
    /// Shrinkage: a leaf's value is this times its Newton step (default 0.1).
    pub learning_rate: f64,
    /// Leaves per tree, grown best-first (default 31).
    pub max_leaves: usize,
    /// Fewest training rows in a leaf (default 20, LightGBM's `min_child_samples`).
    pub min_samples_leaf: usize,
    /// Fewest summed hessian in a leaf (default 1e-3, LightGBM's `min_child_weight`).
    pub min_child_weight: f64,
    /// L2 regularisation of leaf values (default 0, LightGBM's `reg_lambda`).
    pub l2: f64,
    /// Stop after this many rounds without a better validation loss, keeping the best round's
    /// trees (default: no early stopping).
    pub early_stopping_rounds: Option<usize>,
    /// The fraction of the training rows held out of the fit to score each round when early
    /// stopping (default 0.1; stratified for classification).
    pub validation_fraction: f64,
}

impl Default for BoostingParams {
    fn default() -> Self {
        BoostingParams {
            learning_rate: 0.1,
            max_leaves: 31,
            min_samples_leaf: 20,
            min_child_weight: 1e-3,
            l2: 0.0,
            early_stopping_rounds: None,
            validation_fraction: 0.1,
        }
    }
}

impl BoostingParams {
    /// Checks every value, naming the option at fault.
    pub fn validate(&self) -> Result<()> {
        let invalid = |option, reason: String| Err(Error::InvalidOption { option, reason });
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return invalid(
                "learning-rate",
                format!("must be a finite number > 0, got {}", self.learning_rate),
            );
        }
        if self.max_leaves < 2 {
            return invalid(
                "max-leaves",
                format!("must be at least 2, got {}", self.max_leaves),
            );
        }
        if self.min_samples_leaf == 0 {
            return invalid("min-samples-leaf", "must be at least 1".to_owned());
        }
        if !(self.min_child_weight.is_finite() && self.min_child_weight >= 0.0) {
            return invalid(
                "min-child-weight",
                format!(
                    "must be a finite number >= 0, got {}",
                    self.min_child_weight
                ),
            );
        }
        if !(self.l2.is_finite() && self.l2 >= 0.0) {
            return invalid(
                "l2",
                format!("must be a finite number >= 0, got {}", self.l2),
            );
        }
        if self.early_stopping_rounds == Some(0) {
            return invalid("early-stopping-rounds", "must be at least 1".to_owned());
        }
        if !(self.validation_fraction > 0.0 && self.validation_fraction < 1.0) {
            return invalid(
                "validation-fraction",
                format!("must be in (0, 1), got {}", self.validation_fraction),
            );
        }
        Ok(())
    }
}

/// The default of [`TrainOptions::max_classes`]: above the label sets of tabular targets, below
/// one class per value of a continuous column (fitting 1,000 classes took 74 s and was a mistake).
pub const DEFAULT_MAX_CLASSES: usize = 200;

/// The `--solver` values a model takes.
fn solver_names(model: ModelKind) -> &'static [&'static str] {
    match model {
        ModelKind::Linear => &["svd", "qr"],
        ModelKind::Ridge => &["cholesky", "svd"],
        _ => &[],
    }
}

/// Everything `train` needs besides the data.
///
/// Deserializes (as `DriftOptions` does) from kebab-case fields with the CLI's value texts:
/// `{"target": "species", "model": "random-forest", "encoders": {"impute": "mean"},
/// "trees": {"n-trees": 50}, "threshold": "f1"}`. Only `target` is required; absent fields keep
/// [`TrainOptions::new`]'s defaults, unknown ones are refused. `trees.seed` is its own field there
/// (the CLI's `--seed` sets both), and `"profile": false` stores no drift profile.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct TrainOptions {
    /// The target column.
    pub target: String,
    /// The task; inferred from the target when `None`.
    #[serde(default, deserialize_with = "crate::choice::deserialize_option")]
    pub task: Option<Task>,
    /// The model; the task's default when `None`.
    #[serde(default, deserialize_with = "crate::choice::deserialize_option")]
    pub model: Option<ModelKind>,
    /// Column kind overrides (used when reading text data).
    #[serde(default)]
    pub kinds: KindOverrides,
    /// The texts that mean missing; stored in the artifact, so prediction reads input the same
    /// way (default: [`tabship::DEFAULT_NA_VALUES`] in numeric columns).
    #[serde(default)]
    pub na_values: tabship::NaValues,
    /// Encoder settings.
    #[serde(default)]
    pub encoders: EncoderOptions,
    /// Linear model settings.
    #[serde(default)]
    pub linear: LinearParams,
    /// Tree and forest settings (their `seed` is set from `seed`).
    #[serde(default)]
    pub trees: TreeParams,
    /// Gradient boosting settings.
    #[serde(default)]
    pub boosting: BoostingParams,
    /// Fraction of rows held out for metrics (default 0.2; 0 = no holdout).
    #[serde(default = "default_test_fraction")]
    pub test_fraction: f64,
    /// Seed of the split (default 42).
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// The pipeline's name (default: the target's name).
    #[serde(default)]
    pub name: Option<String>,
    /// The model version string (default `1`).
    #[serde(default = "default_version")]
    pub version: String,
    /// The most classes a classification target may have (default
    /// [`DEFAULT_MAX_CLASSES`]); more is refused, as a continuous column taken for labels.
    #[serde(default = "default_max_classes")]
    pub max_classes: usize,
    /// How the drift reference profile is captured on the training rows (default: 10 coarse
    /// and 100 fine quantile bins, 100 categories); `None` stores no profile.
    #[serde(default = "default_profile", deserialize_with = "profile_switch")]
    pub profile: Option<tabship::drift::ProfileOptions>,
    /// Class weights of the fitted objective (classification, logistic regression only).
    #[serde(default, deserialize_with = "crate::choice::from_text_option")]
    pub class_weight: Option<ClassWeight>,
    /// How a binary classifier's stored decision threshold is chosen; `None` stores none (the
    /// most probable class is predicted).
    #[serde(default, deserialize_with = "crate::choice::from_text_option")]
    pub threshold: Option<ThresholdRule>,
    /// The class the threshold applies to (default: the second class in sorted order, as
    /// scikit-learn's `pos_label`).
    #[serde(default)]
    pub positive_class: Option<String>,
    /// A transform of the regression target: the model is fitted on `f(y)` and predicts
    /// `f⁻¹(z)`.
    #[serde(default, deserialize_with = "target_transform_text")]
    pub target_transform: Option<TargetTransform>,
}

fn default_test_fraction() -> f64 {
    0.2
}

fn default_seed() -> u64 {
    42
}

fn default_version() -> String {
    "1".to_owned()
}

fn default_max_classes() -> usize {
    DEFAULT_MAX_CLASSES
}

fn default_profile() -> Option<tabship::drift::ProfileOptions> {
    Some(tabship::drift::ProfileOptions::default())
}

/// `"profile": true` (the default profile) or `false` (none).
fn profile_switch<'de, D>(
    deserializer: D,
) -> std::result::Result<Option<tabship::drift::ProfileOptions>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let on = <bool as serde::Deserialize>::deserialize(deserializer)?;
    Ok(if on { default_profile() } else { None })
}

/// `"target-transform": "log1p"` or `"none"`, as `--target-transform`.
fn target_transform_text<'de, D>(
    deserializer: D,
) -> std::result::Result<Option<TargetTransform>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    match <Option<String> as serde::Deserialize>::deserialize(deserializer)? {
        Some(text) => parse_target_transform(&text).map_err(serde::de::Error::custom),
        None => Ok(None),
    }
}

impl TrainOptions {
    /// Options with defaults for `target`.
    pub fn new(target: impl Into<String>) -> Self {
        TrainOptions {
            target: target.into(),
            task: None,
            model: None,
            kinds: KindOverrides::default(),
            na_values: tabship::NaValues::default(),
            encoders: EncoderOptions::default(),
            linear: LinearParams::default(),
            trees: TreeParams::default(),
            boosting: BoostingParams::default(),
            test_fraction: default_test_fraction(),
            seed: default_seed(),
            name: None,
            version: default_version(),
            max_classes: default_max_classes(),
            profile: default_profile(),
            class_weight: None,
            threshold: None,
            positive_class: None,
            target_transform: None,
        }
    }

    /// Checks every value once, before fitting.
    pub fn validate(&self) -> Result<()> {
        let invalid = |option, reason: String| Err(Error::InvalidOption { option, reason });
        if let Some(profile) = &self.profile {
            if let Err(e) = profile.validate() {
                return invalid("profile", e.to_string());
            }
        }
        if self.max_classes < 2 {
            return invalid(
                "max-classes",
                format!("must be at least 2, got {}", self.max_classes),
            );
        }
        if !(0.0..1.0).contains(&self.test_fraction) {
            return invalid(
                "test-fraction",
                format!("must be in [0, 1), got {}", self.test_fraction),
            );
        }
        let p = &self.linear;
        if !(p.alpha.is_finite() && p.alpha >= 0.0) {
            return invalid(
                "alpha",
                format!("must be a finite number >= 0, got {}", p.alpha),
            );
        }
        if !(0.0..=1.0).contains(&p.l1_ratio) {
            return invalid("l1-ratio", format!("must be in [0, 1], got {}", p.l1_ratio));
        }
        if !(p.tol.is_finite() && p.tol > 0.0) {
            return invalid("tol", format!("must be a finite number > 0, got {}", p.tol));
        }
        if p.max_iter == 0 {
            return invalid("max-iter", "must be at least 1".to_owned());
        }
        if let MinFrequency::Count(0) = self.encoders.min_frequency {
            return invalid("min-frequency", "a count must be at least 1".to_owned());
        }
        if !self.encoders.fill_value.is_finite() {
            return invalid("fill-value", "must be finite".to_owned());
        }
        if let (Some(model), Some(task)) = (self.model, self.task) {
            if !model.supports(task) {
                return invalid("model", format!("`{model}` does not do {}", task.name()));
            }
        }
        if let Some(model) = self.model {
            self.validate_for(model, self.task)?;
        }
        if self.positive_class.is_some() && self.threshold.is_none() {
            return invalid(
                "positive-class",
                "names the class a --threshold applies to; give a --threshold too".to_owned(),
            );
        }
        if let Some(rule) = self.threshold {
            if rule.needs_holdout() && self.test_fraction == 0.0 {
                return invalid(
                    "threshold",
                    format!(
                        "`{rule}` is chosen on the holdout, but --test-fraction is 0; give a \
                         fraction or a fixed threshold such as 0.3"
                    ),
                );
            }
        }
        self.boosting.validate()?;
        let t = &self.trees;
        if t.n_trees == 0 || t.n_trees > usize::from(u16::MAX) {
            return invalid(
                "n-trees",
                format!("must be in 1..=65535, got {}", t.n_trees),
            );
        }
        if t.max_depth == Some(0) || t.max_depth == Some(u16::MAX) {
            return invalid("max-depth", format!("must be in 1..{}", u16::MAX));
        }
        if t.min_samples_leaf == 0 {
            return invalid("min-samples-leaf", "must be at least 1".to_owned());
        }
        if t.min_samples_split < 2 {
            return invalid(
                "min-samples-split",
                format!("must be at least 2, got {}", t.min_samples_split),
            );
        }
        if !(2..=255).contains(&t.max_bins) {
            return invalid(
                "max-bins",
                format!("must be in 2..=255, got {}", t.max_bins),
            );
        }
        if self.encoders.numeric_impute == Some(ImputeStrategy::Nan) {
            let hist_trees = self.model == Some(ModelKind::GradientBoosting)
                || (self.model.is_some_and(ModelKind::is_tree) && t.learner == TreeLearner::Hist);
            if !hist_trees {
                return invalid(
                    "impute",
                    format!(
                        "`nan` passes missing numbers to the model, which only the histogram \
                         tree learner takes (--model gradient-boosting, or decision-tree, \
                         random-forest or extra-trees with --tree-learner hist); this run fits {} \
                         with {}",
                        self.model
                            .map_or("the task's default model".to_owned(), |m| format!("`{m}`")),
                        if self.model.is_some_and(ModelKind::is_tree) {
                            format!("--tree-learner {}", t.learner)
                        } else {
                            "a model that needs numbers".to_owned()
                        }
                    ),
                );
            }
        }
        if self.model == Some(ModelKind::DecisionTree) && t.max_features != MaxFeatures::Sqrt {
            return invalid(
                "max-features",
                "a decision tree tries every feature (smartcore samples features only in forests)"
                    .to_owned(),
            );
        }
        // Without --model the default follows the task, which may be known only once the
        // target is read: `check_solver` runs again then (in `train`).
        let model = self.model.or(match self.task {
            Some(Task::Classification) => Some(ModelKind::default_for(Task::Classification)),
            _ => None,
        });
        if let Some(model) = model {
            self.check_solver(model)?;
        } else if let Some(solver) = &p.solver {
            let ridge = solver_names(ModelKind::Ridge);
            if !ridge.contains(&solver.as_str()) {
                return invalid(
                    "solver",
                    format!(
                        "`{solver}` is not a solver of the default models (ridge for regression takes {}, logistic for classification none); give --model linear for svd or qr",
                        ridge.join(", ")
                    ),
                );
            }
        }
        Ok(())
    }

    /// Checks `--solver` against the model that will be fitted (the default one included).
    pub fn check_solver(&self, model: ModelKind) -> Result<()> {
        let Some(solver) = &self.linear.solver else {
            return Ok(());
        };
        let allowed = solver_names(model);
        if allowed.contains(&solver.as_str()) {
            return Ok(());
        }
        Err(Error::InvalidOption {
            option: "solver",
            reason: format!(
                "`{solver}` is not a solver of model `{model}` (choose: {})",
                if allowed.is_empty() {
                    "none: only linear and ridge take a solver".to_owned()
                } else {
                    allowed.join(", ")
                }
            ),
        })
    }

    /// Checks the options that depend on the model and task once both are known (before fitting,
    /// and again in training once the task is inferred from the target).
    pub fn validate_for(&self, model: ModelKind, task: Option<Task>) -> Result<()> {
        let invalid = |option, reason: String| Err(Error::InvalidOption { option, reason });
        // Without an explicit task, a model that does only one decides it; otherwise the
        // task-dependent checks wait for the target.
        let task = task.or(
            match (
                model.supports(Task::Classification),
                model.supports(Task::Regression),
            ) {
                (true, false) => Some(Task::Classification),
                (false, true) => Some(Task::Regression),
                _ => None,
            },
        );
        if self.class_weight.is_some() {
            if task == Some(Task::Regression) {
                return invalid(
                    "class-weight",
                    "class weights apply to classification; this is a regression".to_owned(),
                );
            }
            if !matches!(model, ModelKind::Logistic | ModelKind::GradientBoosting) {
                return invalid(
                    "class-weight",
                    format!(
                        "`{model}` cannot weight classes: smartcore's trees take no sample \
                         weights, and weighting leaf frequencies afterwards is not scikit-learn's \
                         weighted impurity; use --model logistic or gradient-boosting, or \
                         --threshold to favour the minority class"
                    ),
                );
            }
        }
        if model == ModelKind::ExtraTrees
            && task == Some(Task::Classification)
            && self.trees.learner == TreeLearner::Smartcore
        {
            return invalid(
                "model",
                "smartcore has no extra-trees classifier; use --tree-learner hist".to_owned(),
            );
        }
        if model == ModelKind::GradientBoosting && self.boosting.early_stopping_rounds.is_some() {
            let k = self.trees.n_trees;
            if k < 2 {
                return invalid(
                    "early-stopping-rounds",
                    format!("needs at least 2 rounds (--n-trees), got {k}"),
                );
            }
        }
        if task == Some(Task::Regression)
            && (self.threshold.is_some() || self.positive_class.is_some())
        {
            return invalid(
                "threshold",
                "a decision threshold applies to binary classification; this is a regression"
                    .to_owned(),
            );
        }
        if task == Some(Task::Classification) && self.target_transform.is_some() {
            return invalid(
                "target-transform",
                "a target transform applies to regression; this is a classification".to_owned(),
            );
        }
        Ok(())
    }

    /// The hyperparameters that matter for `model`, for the artifact's metadata.
    pub fn hyperparameters(&self, model: ModelKind) -> BTreeMap<String, ParamValue> {
        let mut h = BTreeMap::new();
        let p = &self.linear;
        match model {
            ModelKind::Ridge => {
                h.insert("alpha".to_owned(), ParamValue::Float(p.alpha));
            }
            ModelKind::Logistic | ModelKind::Lasso => {
                h.insert("alpha".to_owned(), ParamValue::Float(p.alpha));
                h.insert("tol".to_owned(), ParamValue::Float(p.tol));
                h.insert("max_iter".to_owned(), ParamValue::Int(p.max_iter as i64));
            }
            ModelKind::ElasticNet => {
                h.insert("alpha".to_owned(), ParamValue::Float(p.alpha));
                h.insert("l1_ratio".to_owned(), ParamValue::Float(p.l1_ratio));
                h.insert("tol".to_owned(), ParamValue::Float(p.tol));
                h.insert("max_iter".to_owned(), ParamValue::Int(p.max_iter as i64));
            }
            ModelKind::Linear => {}
            ModelKind::GradientBoosting => {
                let t = &self.trees;
                let b = &self.boosting;
                h.insert("n_trees".to_owned(), ParamValue::Int(t.n_trees as i64));
                if let Some(d) = t.max_depth {
                    h.insert("max_depth".to_owned(), ParamValue::Int(i64::from(d)));
                }
                h.insert(
                    "learning_rate".to_owned(),
                    ParamValue::Float(b.learning_rate),
                );
                h.insert(
                    "max_leaves".to_owned(),
                    ParamValue::Int(b.max_leaves as i64),
                );
                h.insert(
                    "min_samples_leaf".to_owned(),
                    ParamValue::Int(b.min_samples_leaf as i64),
                );
                h.insert(
                    "min_child_weight".to_owned(),
                    ParamValue::Float(b.min_child_weight),
                );
                h.insert("l2".to_owned(), ParamValue::Float(b.l2));
                if let Some(n) = b.early_stopping_rounds {
                    h.insert(
                        "early_stopping_rounds".to_owned(),
                        ParamValue::Int(n as i64),
                    );
                    h.insert(
                        "validation_fraction".to_owned(),
                        ParamValue::Float(b.validation_fraction),
                    );
                }
            }
            ModelKind::DecisionTree | ModelKind::RandomForest | ModelKind::ExtraTrees => {
                let t = &self.trees;
                if model != ModelKind::DecisionTree {
                    h.insert("n_trees".to_owned(), ParamValue::Int(t.n_trees as i64));
                    h.insert(
                        "max_features".to_owned(),
                        ParamValue::Text(t.max_features.to_string()),
                    );
                }
                if let Some(d) = t.max_depth {
                    h.insert("max_depth".to_owned(), ParamValue::Int(i64::from(d)));
                }
                h.insert(
                    "min_samples_leaf".to_owned(),
                    ParamValue::Int(t.min_samples_leaf as i64),
                );
                h.insert(
                    "min_samples_split".to_owned(),
                    ParamValue::Int(t.min_samples_split as i64),
                );
                h.insert(
                    "tree_learner".to_owned(),
                    ParamValue::Text(t.learner.name().to_owned()),
                );
                if t.learner == TreeLearner::Hist {
                    h.insert("max_bins".to_owned(), ParamValue::Int(t.max_bins as i64));
                }
            }
        }
        if matches!(model, ModelKind::Linear | ModelKind::Ridge) {
            let default = if model == ModelKind::Linear {
                "svd"
            } else {
                "cholesky"
            };
            h.insert(
                "solver".to_owned(),
                ParamValue::Text(p.solver.clone().unwrap_or_else(|| default.to_owned())),
            );
        }
        let e = &self.encoders;
        h.insert(
            "min_frequency".to_owned(),
            ParamValue::Text(e.min_frequency.to_string()),
        );
        h.insert(
            "test_fraction".to_owned(),
            ParamValue::Float(self.test_fraction),
        );
        h.insert("seed".to_owned(), ParamValue::Int(self.seed as i64));
        h.insert(
            "missing_indicator".to_owned(),
            ParamValue::Bool(e.missing_indicator),
        );
        if let Some(w) = &self.class_weight {
            h.insert("class_weight".to_owned(), ParamValue::Text(w.to_string()));
        }
        if let Some(rule) = self.threshold {
            h.insert("threshold".to_owned(), ParamValue::Text(rule.to_string()));
        }
        if let Some(t) = self.target_transform {
            h.insert(
                "target_transform".to_owned(),
                ParamValue::Text(t.name().to_owned()),
            );
        }
        h
    }
}

/// Parses `--target-transform`: `log1p` (or `none`).
pub fn parse_target_transform(s: &str) -> Result<Option<TargetTransform>> {
    match s.trim() {
        "log1p" => Ok(Some(TargetTransform::Log1p)),
        "none" => Ok(None),
        other => Err(Error::InvalidOption {
            option: "target-transform",
            reason: format!("expected `log1p` or `none`, got `{other}`"),
        }),
    }
}

#[cfg(test)]
mod serde_tests {
    use super::*;

    #[test]
    fn deserializes_kebab_case_with_the_cli_texts() {
        let o: TrainOptions = serde_json::from_str(
            r#"{"target": "y", "model": "random-forest", "task": "classification",
                "encoders": {"encoding": "ordinal", "categorical-missing": "most-frequent",
                             "impute": "mean", "min-frequency": 0.01},
                "trees": {"n-trees": 7, "max-features": "all"}, "test-fraction": 0.1,
                "threshold": "f1", "profile": false}"#,
        )
        .unwrap();
        assert_eq!(o.model, Some(ModelKind::RandomForest));
        assert_eq!(o.task, Some(Task::Classification));
        assert_eq!(o.encoders.categorical_encoding, CategoryEncoding::Ordinal);
        assert_eq!(
            o.encoders.categorical_missing,
            CategoricalMissing::MostFrequent
        );
        assert_eq!(o.encoders.numeric_impute, Some(ImputeStrategy::Mean));
        assert_eq!(o.encoders.min_frequency, MinFrequency::Fraction(0.01));
        assert_eq!(o.trees.n_trees, 7);
        assert_eq!(o.trees.max_features, MaxFeatures::All);
        assert_eq!(o.test_fraction, 0.1);
        assert!(o.threshold.is_some() && o.profile.is_none());
        o.validate().unwrap();
    }

    #[test]
    fn absent_fields_keep_the_defaults() {
        let o: TrainOptions = serde_json::from_str(r#"{"target": "y"}"#).unwrap();
        let d = TrainOptions::new("y");
        assert_eq!(
            (
                o.test_fraction,
                o.seed,
                &o.version,
                o.max_classes,
                o.profile
            ),
            (
                d.test_fraction,
                d.seed,
                &d.version,
                d.max_classes,
                d.profile
            )
        );
        assert_eq!(o.encoders, d.encoders);
        assert_eq!(o.linear, d.linear);
    }

    #[test]
    fn a_bad_value_names_the_option_the_choices_and_the_closest() {
        let e =
            serde_json::from_str::<TrainOptions>(r#"{"target": "y", "model": "random_forest"}"#)
                .unwrap_err()
                .to_string();
        assert!(e.contains("invalid option `model`"), "{e}");
        assert!(e.contains("did you mean `random-forest`"), "{e}");
        assert!(
            serde_json::from_str::<TrainOptions>(r#"{"target": "y", "modle": "ridge"}"#).is_err()
        );
    }
}
