//! Retraining a champion: the same algorithm and options, refitted on new labelled rows
//! (optionally after a window of the old training data), under the same name and the next
//! version, with provenance saying what it was retrained from and why.
//!
//! The options are read back from what the champion records: its algorithm and hyperparameters
//! (`TrainingInfo`), its encoders (encoding, missing-value handling, imputation, scaling), its
//! schema (column kinds and NA policy), its task, its decision threshold rule and target
//! transform. A model whose options are not all recorded (an imported XGBoost or LightGBM
//! model) is refused: tabship cannot refit what it did not fit.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use csv::StringRecord;
use tabship::encode::{ColumnEncoderSpec, ImputeStrategy};
use tabship::{ColumnKind, ParamValue, Pipeline, RetrainedFrom, TrainingInfo};

use crate::csv_input::CsvOptions;
use crate::data::{KindOverrides, read_text_rows, text_rows_to_batch};
use crate::options::{MaxFeatures, MinFrequency, ModelKind, TrainOptions, TreeLearner};
use crate::trainer::{Trained, train};
use crate::{ClassWeight, Error, Result, ThresholdRule};

/// Rows of a labelled CSV file, as text, with the file they came from.
#[derive(Debug, Clone)]
pub struct LabelledRows {
    /// The file (named in errors).
    pub path: PathBuf,
    /// The header's names.
    pub header: Vec<String>,
    /// The data rows.
    pub rows: Vec<StringRecord>,
}

impl LabelledRows {
    /// Reads every row of `path` in the dialect `csv`.
    pub fn read(path: &Path, csv: &CsvOptions) -> Result<Self> {
        let (header, rows) = read_text_rows(path, csv)?;
        Ok(LabelledRows {
            path: path.to_path_buf(),
            header,
            rows,
        })
    }

    /// The last `n` rows (all of them when there are fewer): the most recent part of a file
    /// written in time order.
    pub fn last(mut self, n: usize) -> Self {
        let skip = self.rows.len().saturating_sub(n);
        self.rows.drain(..skip);
        self
    }
}

/// What `retrain` takes besides the champion and the rows.
#[derive(Debug, Clone, Default)]
pub struct RetrainOptions {
    /// Why the model is retrained (drift, schedule, ...), recorded in the challenger.
    pub reason: Option<String>,
    /// The challenger's version [default: the champion's, its trailing number plus one].
    pub version: Option<String>,
    /// Threads for fitting forests [default: all cores].
    pub threads: Option<usize>,
    /// Texts read as missing in these files besides the champion's stored ones; the challenger
    /// stores the union.
    pub na_values: tabship::NaValues,
}

/// A retrained challenger with its training report.
#[derive(Debug, Clone)]
pub struct Retrained {
    /// The challenger and its report (holdout metrics on the recorded split of the new rows).
    pub trained: Trained,
    /// The options the champion recorded, as used for the refit.
    pub options: TrainOptions,
}

/// The version after `version`: its trailing number plus one (`1` → `2`, `v3` → `v4`,
/// `2026.9` → `2026.10`); `None` when it does not end in a number.
pub fn next_version(version: &str) -> Option<String> {
    let digits = version.bytes().rev().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let (stem, number) = version.split_at(version.len() - digits);
    let n: u128 = number.parse().ok()?;
    Some(format!("{stem}{}", n.checked_add(1)?))
}

fn not_retrainable(info: &TrainingInfo, reason: String) -> Error {
    Error::NotRetrainable {
        model: format!("{} (version {})", info.name, info.version),
        reason,
    }
}

/// The recorded hyperparameters, read with errors naming the one missing or mistyped.
struct Recorded<'a> {
    info: &'a TrainingInfo,
    h: &'a BTreeMap<String, ParamValue>,
}

impl Recorded<'_> {
    fn get(&self, key: &str) -> Option<&ParamValue> {
        self.h.get(key)
    }

    fn missing(&self, key: &str) -> Error {
        not_retrainable(
            self.info,
            format!("its recorded hyperparameters have no `{key}`"),
        )
    }

    fn mistyped(&self, key: &str, expected: &str, got: &ParamValue) -> Error {
        not_retrainable(
            self.info,
            format!("recorded hyperparameter `{key}`: expected {expected}, got `{got}`"),
        )
    }

    fn float(&self, key: &str) -> Result<Option<f64>> {
        match self.get(key) {
            None => Ok(None),
            Some(ParamValue::Float(x)) => Ok(Some(*x)),
            Some(ParamValue::Int(i)) => Ok(Some(*i as f64)),
            Some(other) => Err(self.mistyped(key, "a number", other)),
        }
    }

    fn count(&self, key: &str) -> Result<Option<u64>> {
        match self.get(key) {
            None => Ok(None),
            Some(ParamValue::Int(i)) if *i >= 0 => Ok(Some(*i as u64)),
            Some(other) => Err(self.mistyped(key, "a count", other)),
        }
    }

    fn text(&self, key: &str) -> Result<Option<String>> {
        match self.get(key) {
            None => Ok(None),
            Some(ParamValue::Text(t)) => Ok(Some(t.clone())),
            Some(other) => Err(self.mistyped(key, "text", other)),
        }
    }

    fn parsed<T: std::str::FromStr<Err = Error>>(&self, key: &str) -> Result<Option<T>> {
        self.text(key)?
            .map(|t| {
                t.parse::<T>().map_err(|e| {
                    not_retrainable(self.info, format!("recorded hyperparameter `{key}`: {e}"))
                })
            })
            .transpose()
    }
}

/// The options the champion was trained with, read back from the artifact, for a refit under
/// `options` (threads, NA values). Refuses a model tabship did not fit, or one whose options are
/// not all recorded.
pub fn recorded_options(champion: &Pipeline, options: &RetrainOptions) -> Result<TrainOptions> {
    let info = champion.training();
    if let Some(ParamValue::Text(library)) = info.hyperparameters.get("source_library") {
        return Err(not_retrainable(
            info,
            format!(
                "it was imported from {library} (`{}`), and tabship refits only what it trained; \
                 retrain it with {library} and run `tabship import` again",
                info.algorithm
            ),
        ));
    }
    let model: ModelKind = crate::choice::parse_choice(&info.algorithm).map_err(|_| {
        not_retrainable(
            info,
            format!(
                "its algorithm `{}` is not one tabship trains ({})",
                info.algorithm,
                ModelKind::ALL.map(ModelKind::name).join(", ")
            ),
        )
    })?;
    let r = Recorded {
        info,
        h: &info.hyperparameters,
    };
    let mut o = TrainOptions::new(&info.target);
    o.task = Some(champion.task());
    o.model = Some(model);
    o.name = Some(info.name.clone());
    // `train` records these three for every model: without them the options are not known.
    o.seed = r.count("seed")?.ok_or_else(|| r.missing("seed"))?;
    o.test_fraction = r
        .float("test_fraction")?
        .ok_or_else(|| r.missing("test_fraction"))?;
    o.encoders.min_frequency = r
        .parsed::<MinFrequency>("min_frequency")?
        .ok_or_else(|| r.missing("min_frequency"))?;
    if let Some(ParamValue::Bool(b)) = r.get("missing_indicator") {
        o.encoders.missing_indicator = *b;
    }
    if let Some(alpha) = r.float("alpha")? {
        o.linear.alpha = alpha;
    }
    if let Some(l1) = r.float("l1_ratio")? {
        o.linear.l1_ratio = l1;
    }
    if let Some(tol) = r.float("tol")? {
        o.linear.tol = tol;
    }
    if let Some(n) = r.count("max_iter")? {
        o.linear.max_iter = n as usize;
    }
    o.linear.solver = r.text("solver")?;
    if let Some(n) = r.count("n_trees")? {
        o.trees.n_trees = n as usize;
    }
    if let Some(m) = r.parsed::<MaxFeatures>("max_features")? {
        o.trees.max_features = m;
    }
    if let Some(d) = r.count("max_depth")? {
        o.trees.max_depth = Some(u16::try_from(d).map_err(|_| {
            not_retrainable(info, format!("recorded `max_depth` {d} is out of range"))
        })?);
    }
    if let Some(n) = r.count("min_samples_leaf")? {
        if model == ModelKind::GradientBoosting {
            o.boosting.min_samples_leaf = n as usize;
        } else {
            o.trees.min_samples_leaf = n as usize;
        }
    }
    if let Some(x) = r.float("learning_rate")? {
        o.boosting.learning_rate = x;
    }
    if let Some(n) = r.count("max_leaves")? {
        o.boosting.max_leaves = n as usize;
    }
    if let Some(x) = r.float("min_child_weight")? {
        o.boosting.min_child_weight = x;
    }
    if let Some(x) = r.float("l2")? {
        o.boosting.l2 = x;
    }
    if let Some(n) = r.count("early_stopping_rounds")? {
        o.boosting.early_stopping_rounds = Some(n as usize);
    }
    if let Some(x) = r.float("validation_fraction")? {
        o.boosting.validation_fraction = x;
    }
    if let Some(n) = r.count("min_samples_split")? {
        o.trees.min_samples_split = n as usize;
    }
    // Trees recorded before the histogram learner existed were all smartcore's.
    o.trees.learner = r
        .parsed::<TreeLearner>("tree_learner")?
        .unwrap_or(TreeLearner::Smartcore);
    if let Some(n) = r.count("max_bins")? {
        o.trees.max_bins = n as usize;
    }
    if let Some(threads) = options.threads {
        o.trees.threads = threads;
    }
    o.class_weight = r.parsed::<ClassWeight>("class_weight")?;
    o.threshold = r.parsed::<ThresholdRule>("threshold")?;
    if o.threshold.is_some() {
        o.positive_class = champion
            .decision_threshold()
            .map(|t| t.positive_class.to_string());
    }
    o.target_transform = champion.target_transform();
    // The encoders record how they were fitted: the first column of each kind says it for all
    // (one setting per kind is all `train` takes).
    let parts = champion.to_parts();
    for spec in &parts.encoders {
        match spec {
            ColumnEncoderSpec::Numeric(n) => {
                o.encoders.numeric_impute = Some(n.imputation.strategy);
                if n.imputation.strategy == ImputeStrategy::Constant {
                    o.encoders.fill_value = n.imputation.value;
                }
                o.encoders.scale = Some(n.scaling.is_some());
                break;
            }
            ColumnEncoderSpec::Categorical(_) => {}
        }
    }
    if let Some(c) = parts.encoders.iter().find_map(|s| match s {
        ColumnEncoderSpec::Categorical(c) => Some(c),
        ColumnEncoderSpec::Numeric(_) => None,
    }) {
        o.encoders.categorical_encoding = c.encoding;
        o.encoders.categorical_missing = c.missing;
    }
    let schema = champion.schema();
    o.kinds = KindOverrides {
        categorical: kind_names(schema, ColumnKind::Categorical),
        numeric: kind_names(schema, ColumnKind::Numeric),
    };
    o.na_values = schema.na_values.extended(&options.na_values);
    o.max_classes = o.max_classes.max(champion.classes().len());
    if champion.drift_profile().is_none() {
        o.profile = None;
    }
    o.version = match &options.version {
        Some(v) => v.clone(),
        None => next_version(&info.version).ok_or_else(|| Error::InvalidOption {
            option: "model-version",
            reason: format!(
                "the champion's version `{}` does not end in a number to increment; give the \
                 challenger's version",
                info.version
            ),
        })?,
    };
    o.validate()?;
    Ok(o)
}

fn kind_names(schema: &tabship::Schema, kind: ColumnKind) -> Vec<String> {
    schema
        .columns
        .iter()
        .filter(|c| c.kind == kind)
        .map(|c| c.name.clone())
        .collect()
}

/// Projects `data`'s rows onto `columns` (by name), refusing a file without one of them; the
/// names of the file's other columns are returned (they are left out).
fn project(
    data: &LabelledRows,
    columns: &[String],
    out: &mut Vec<StringRecord>,
) -> Result<Vec<String>> {
    let missing: Vec<&str> = columns
        .iter()
        .filter(|c| !data.header.contains(c))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return Err(Error::Csv {
            path: data.path.clone(),
            message: format!(
                "the champion's schema needs column{} {} (expected the columns {}; the file has {})",
                if missing.len() == 1 { "" } else { "s" },
                missing
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                columns.join(", "),
                data.header.join(", ")
            ),
        });
    }
    let index: Vec<usize> = columns
        .iter()
        .filter_map(|c| data.header.iter().position(|h| h == c))
        .collect();
    for row in &data.rows {
        out.push(index.iter().map(|&i| row.get(i).unwrap_or("")).collect());
    }
    Ok(data
        .header
        .iter()
        .filter(|h| !columns.contains(h))
        .cloned()
        .collect())
}

/// Refits `champion` (whose artifact body has `checksum`) on `new` rows, after `old` rows
/// when given (the old training data's window), with the champion's recorded algorithm and
/// options: same name, the next version, and `retrained_from` naming the champion and the
/// reason. Both files need the champion's schema columns and its target; other columns are left
/// out (with a warning).
pub fn retrain(
    champion: &Pipeline,
    checksum: &str,
    new: &LabelledRows,
    old: Option<&LabelledRows>,
    options: &RetrainOptions,
) -> Result<Retrained> {
    let train_options = recorded_options(champion, options)?;
    let mut columns: Vec<String> = champion.schema().names().map(str::to_owned).collect();
    columns.push(train_options.target.clone());
    let mut rows = Vec::new();
    let mut warnings = Vec::new();
    for data in old.into_iter().chain([new]) {
        let extra = project(data, &columns, &mut rows)?;
        if !extra.is_empty() {
            warnings.push(format!(
                "{}: left out column{} not in the champion's schema: {}",
                data.path.display(),
                if extra.len() == 1 { "" } else { "s" },
                extra.join(", ")
            ));
        }
    }
    if new.rows.is_empty() {
        return Err(Error::Csv {
            path: new.path.clone(),
            message: "no data rows: retraining needs new labelled rows".to_owned(),
        });
    }
    let batch = text_rows_to_batch(
        &columns,
        &rows,
        &train_options.kinds,
        &train_options.na_values,
    )?;
    let mut trained = train(&batch, &train_options)?;
    let info = champion.training();
    let mut parts = trained.pipeline.to_parts();
    parts.training.retrained_from = Some(RetrainedFrom {
        name: info.name.clone(),
        version: info.version.clone(),
        checksum: checksum.to_owned(),
        reason: options.reason.clone().unwrap_or_default(),
        new_rows: new.rows.len() as u64,
        old_rows: old.map_or(0, |o| o.rows.len() as u64),
    });
    trained.pipeline = Pipeline::from_parts(parts)?;
    // A class the new rows lack (or bring) changes what the model can answer: say so, since
    // clients and `compare` see the challenger's classes, not the champion's.
    let names =
        |p: &Pipeline| -> Vec<String> { p.classes().iter().map(ToString::to_string).collect() };
    let (before, after) = (names(champion), names(&trained.pipeline));
    if before != after {
        warnings.push(format!(
            "the challenger's classes ({}) differ from the champion's ({})",
            after.join(", "),
            before.join(", ")
        ));
    }
    trained.report.warnings.splice(0..0, warnings);
    Ok(Retrained {
        trained,
        options: train_options,
    })
}

#[cfg(test)]
mod tests {
    use super::next_version;

    #[test]
    fn the_next_version_increments_the_trailing_number() {
        assert_eq!(next_version("1").as_deref(), Some("2"));
        assert_eq!(next_version("v9").as_deref(), Some("v10"));
        assert_eq!(next_version("2026.9").as_deref(), Some("2026.10"));
        assert_eq!(next_version("prod"), None);
        assert_eq!(next_version(""), None);
    }
}
