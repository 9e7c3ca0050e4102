//! Drift monitoring of a pipeline: the reference profile captured at fit time (stored in the
//! artifact from format 1.2) against live batches, with the model's predictions and the
//! encoders' view of unknown categories.

use std::borrow::Cow;
use std::sync::Arc;

use tabship_drift::{
    Binner, CategoricalProfile, CategorySlot, Cell, ColumnProfile, Distribution, DriftOptions,
    DriftReport, LiveColumn, LiveSample, Monitor, ProfileOptions, ReferenceProfile, Window,
};

use super::{Pipeline, Predictions};
use crate::batch::{Batch, ColumnValues, MISSING_CODE};
use crate::encode::read_number;
use crate::encode::{CategoryState, FeatureEncoder};
use crate::labels::ClassLabel;
use crate::missing::NaValues;
use crate::model::Task;
use crate::schema::ColumnKind;
use crate::value::{FieldValue, Record, number_as_category};
use crate::{Error, Result};

/// Per class, its slot in the prediction distribution of `binner`'s profile (empty without one).
pub(super) fn class_slots(binner: Option<&Binner>, classes: &[ClassLabel]) -> Vec<CategorySlot> {
    binner.map_or_else(Vec::new, |b| {
        classes
            .iter()
            .map(|c| b.prediction_slot(Some(&c.to_string())))
            .collect()
    })
}

/// Maps a profile error to an artifact field error under `drift_profile`.
fn field_error(e: tabship_drift::Error) -> Error {
    match e {
        tabship_drift::Error::InvalidProfile { field, reason } => {
            Error::field(format!("drift_profile.{field}"), reason)
        }
        other => Error::field("drift_profile", other.to_string()),
    }
}

fn kind_name(d: &Distribution) -> &'static str {
    d.kind()
}

/// Checks a profile against the pipeline it belongs to: the profile's own invariants, then one
/// column per schema column with the same name and kind, and a prediction distribution that
/// matches the task (class labels for a classifier, numbers for a regressor).
pub(super) fn validate_profile(
    profile: &ReferenceProfile,
    encoder: &FeatureEncoder,
    task: Task,
    classes: &[ClassLabel],
) -> Result<()> {
    profile.validate().map_err(field_error)?;
    let schema = encoder.schema();
    if profile.columns.len() != schema.len() {
        return Err(Error::field(
            "drift_profile.columns",
            format!(
                "{} profiled columns for {} schema columns",
                profile.columns.len(),
                schema.len()
            ),
        ));
    }
    for (i, (p, c)) in profile.columns.iter().zip(&schema.columns).enumerate() {
        let kind_matches = matches!(
            (&p.distribution, c.kind),
            (Distribution::Numeric(_), ColumnKind::Numeric)
                | (Distribution::Categorical(_), ColumnKind::Categorical)
        );
        if p.name != c.name || !kind_matches {
            return Err(Error::field(
                format!("drift_profile.columns[{i}]"),
                format!(
                    "profiles {} column `{}` where the schema has {} column `{}`",
                    kind_name(&p.distribution),
                    p.name,
                    c.kind.name(),
                    c.name
                ),
            ));
        }
    }
    match (&profile.prediction, task) {
        (None, _) => {}
        (Some(p), Task::Classification) => {
            let Distribution::Categorical(cat) = &p.distribution else {
                return Err(Error::field(
                    "drift_profile.prediction",
                    "a classifier's predictions must be profiled as categories",
                ));
            };
            let labels: Vec<String> = classes.iter().map(ToString::to_string).collect();
            if let Some(bad) = cat.categories.iter().find(|c| !labels.contains(c)) {
                return Err(Error::field(
                    "drift_profile.prediction.categories",
                    format!("`{bad}` is not a class of the model"),
                ));
            }
        }
        (Some(p), Task::Regression) => {
            if !matches!(p.distribution, Distribution::Numeric(_)) {
                return Err(Error::field(
                    "drift_profile.prediction",
                    "a regressor's predictions must be profiled as numbers",
                ));
            }
        }
    }
    Ok(())
}

/// A schema column of a live batch, resolved for binning.
enum Resolved<'b> {
    Numbers(Cow<'b, [f64]>),
    Slots(Vec<CategorySlot>),
}

/// The values of a numeric column, parsing text columns under the NA policy `na`.
fn numbers<'b>(name: &str, values: &'b ColumnValues, na: &NaValues) -> Result<Cow<'b, [f64]>> {
    match values {
        ColumnValues::Numeric(v) => Ok(Cow::Borrowed(v)),
        ColumnValues::Categorical(v) => {
            let parsed = v
                .dictionary()
                .iter()
                .map(|t| na.parse_number(name, t).map(|x| x.unwrap_or(f64::NAN)))
                .collect::<Result<Vec<f64>>>()?;
            Ok(Cow::Owned(
                v.codes()
                    .iter()
                    .map(|&c| parsed.get(c as usize).copied().unwrap_or(f64::NAN))
                    .collect(),
            ))
        }
    }
}

impl Pipeline {
    /// The reference profile stored in the artifact, if it has one (artifacts before format
    /// 1.2 have none).
    pub fn drift_profile(&self) -> Option<&ReferenceProfile> {
        self.drift.as_ref().map(|b| &**b.profile())
    }

    /// The profile compiled for binning, to share with [`Monitor::with_binner`].
    pub fn drift_binner(&self) -> Option<&Arc<Binner>> {
        self.drift.as_ref()
    }

    fn require_profile(&self) -> Result<&Arc<Binner>> {
        self.drift.as_ref().ok_or(Error::NoDriftProfile)
    }

    /// The same pipeline with `profile` as its reference profile (validated against the schema,
    /// the task and the classes), or without one.
    pub fn with_drift_profile(mut self, profile: Option<ReferenceProfile>) -> Result<Self> {
        self.drift = match profile {
            Some(p) => {
                validate_profile(&p, self.encoder(), self.task(), self.classes())?;
                Some(Arc::new(Binner::new(p)))
            }
            None => None,
        };
        self.class_slots = class_slots(self.drift.as_deref(), self.classes());
        Ok(self)
    }

    /// Predicts a batch without counting its values in [`encoding_stats`](Self::encoding_stats).
    fn predict_quietly(&self, batch: &Batch) -> Result<Predictions> {
        let n = batch.n_rows();
        match self.task() {
            Task::Classification => {
                let mut out = vec![0usize; n];
                self.predict_into(batch, false, Some(&mut out), None, None)?;
                Ok(Predictions::Classes(out))
            }
            Task::Regression => {
                let mut out = vec![0.0f64; n];
                self.predict_into(batch, false, None, Some(&mut out), None)?;
                Ok(Predictions::Values(out))
            }
        }
    }

    /// Captures the reference profile of `batch` (normally the training rows) and of this
    /// pipeline's predictions on it. Attach it with [`with_drift_profile`](Self::with_drift_profile).
    pub fn capture_drift_profile(
        &self,
        batch: &Batch,
        options: &ProfileOptions,
    ) -> Result<ReferenceProfile> {
        options.validate()?;
        let predictions = self.predict_quietly(batch)?;
        let mut columns = Vec::with_capacity(self.schema().len());
        for spec in &self.schema().columns {
            let values = batch.column_for(spec)?;
            columns.push(match spec.kind {
                ColumnKind::Numeric => ColumnProfile::numeric(
                    &spec.name,
                    &numbers(&spec.name, values, &self.schema().na_values)?,
                    options,
                )?,
                ColumnKind::Categorical => ColumnProfile {
                    name: spec.name.clone(),
                    distribution: Distribution::Categorical(category_profile(values, options)?),
                },
            });
        }
        let prediction = match predictions {
            Predictions::Classes(indices) => {
                let mut counts = vec![0u64; self.classes().len()];
                for i in indices {
                    counts[i] += 1;
                }
                let labels: Vec<String> = self.classes().iter().map(ToString::to_string).collect();
                let options = ProfileOptions {
                    max_categories: options
                        .max_categories
                        .max(labels.len())
                        .min(tabship_drift::profile::limits::MAX_CATEGORIES),
                    ..*options
                };
                ColumnProfile {
                    name: "prediction".into(),
                    distribution: Distribution::Categorical(CategoricalProfile::from_counts(
                        labels.iter().map(String::as_str).zip(counts),
                        0,
                        &options,
                    )?),
                }
            }
            Predictions::Values(values) => ColumnProfile::numeric("prediction", &values, options)?,
        };
        Ok(ReferenceProfile {
            columns,
            prediction: Some(prediction),
        })
    }

    /// A monitor over this pipeline's profile.
    pub fn drift_monitor(&self, window: Window) -> Result<Monitor> {
        Ok(Monitor::with_binner(
            Arc::clone(self.require_profile()?),
            window,
        )?)
    }

    /// Resolves every schema column of `batch` against the profile; categorical values go
    /// through the encoders, so a category the training data never had counts as unknown even
    /// when the profile lumped rare categories together.
    fn resolve<'b>(&self, binner: &Binner, batch: &'b Batch) -> Result<Vec<Resolved<'b>>> {
        let mut out = Vec::with_capacity(self.schema().len());
        for (i, spec) in self.schema().columns.iter().enumerate() {
            let values = batch.column_for(spec)?;
            let slot_of = |text: &str| self.category_slot(binner, i, text);
            out.push(match (spec.kind, values) {
                (ColumnKind::Numeric, values) => {
                    Resolved::Numbers(numbers(&spec.name, values, &self.schema().na_values)?)
                }
                (ColumnKind::Categorical, ColumnValues::Categorical(v)) => {
                    let table: Vec<CategorySlot> =
                        v.dictionary().iter().map(|t| slot_of(t)).collect();
                    Resolved::Slots(
                        v.codes()
                            .iter()
                            .map(|&c| {
                                if c == MISSING_CODE {
                                    CategorySlot::Missing
                                } else {
                                    table
                                        .get(c as usize)
                                        .copied()
                                        .unwrap_or(CategorySlot::Missing)
                                }
                            })
                            .collect(),
                    )
                }
                (ColumnKind::Categorical, ColumnValues::Numeric(v)) => Resolved::Slots(
                    v.iter()
                        .map(|&x| {
                            if x.is_finite() {
                                slot_of(&number_as_category(x))
                            } else {
                                CategorySlot::Missing
                            }
                        })
                        .collect(),
                ),
            });
        }
        Ok(out)
    }

    /// The drift slot of category `text` in categorical column `i`: through the encoder first,
    /// so a category the training data never had counts as unknown even when the profile lumped
    /// rare categories together.
    fn category_slot(&self, binner: &Binner, i: usize, text: &str) -> CategorySlot {
        if self.schema().na_values.is_missing_category(text) {
            return CategorySlot::Missing;
        }
        match self.encoder().categorical(i).map(|e| e.state_of_text(text)) {
            Some(CategoryState::Missing) => CategorySlot::Missing,
            Some(CategoryState::Unknown) | None => CategorySlot::Unknown,
            Some(CategoryState::Known(_) | CategoryState::Other) => {
                match binner.slot(i, Some(text)) {
                    CategorySlot::Known(k) => CategorySlot::Known(k),
                    _ => CategorySlot::Other,
                }
            }
        }
    }

    /// One record's cell of column `i` for the drift window, read as
    /// [`score_records`](Self::score_records) reads it.
    fn record_cell(
        &self,
        binner: &Binner,
        i: usize,
        value: FieldValue<'_>,
    ) -> Result<Cell<'static>> {
        let column = &self.schema().columns[i];
        Ok(match column.kind {
            ColumnKind::Numeric => Cell::Number(
                read_number(&column.name, value, &self.schema().na_values)?.unwrap_or(f64::NAN),
            ),
            ColumnKind::Categorical => Cell::Slot(match value {
                FieldValue::Text(t) if !t.is_empty() => self.category_slot(binner, i, t),
                FieldValue::Number(x) if x.is_finite() => {
                    self.category_slot(binner, i, &number_as_category(x))
                }
                _ => CategorySlot::Missing,
            }),
        })
    }

    /// Adds predicted records to `monitor`, as [`observe_drift`](Self::observe_drift) adds a
    /// batch of the same values (the same bins, slots and counts), without building the batch:
    /// the server's path for every request. A field a record lacks is missing. On error
    /// (a value [`score_records`](Self::score_records) would refuse) nothing is added.
    pub fn observe_drift_records<R: Record>(
        &self,
        monitor: &mut Monitor,
        records: &[R],
        predictions: Option<&Predictions>,
    ) -> Result<()> {
        let binner = Arc::clone(self.require_profile()?);
        let width = self.schema().len();
        let mut cells = Vec::with_capacity(records.len() * width);
        for (r, record) in records.iter().enumerate() {
            for (i, column) in self.schema().columns.iter().enumerate() {
                let value = record.field(&column.name).unwrap_or(FieldValue::Null);
                cells.push(
                    self.record_cell(&binner, i, value)
                        .map_err(|e| e.at_row(r))?,
                );
            }
        }
        let prediction_slots = self.prediction_slots(predictions);
        for (r, row) in cells.chunks(width.max(1)).enumerate().take(records.len()) {
            let prediction = match predictions {
                Some(Predictions::Classes(_)) => prediction_slots.get(r).map(|&s| Cell::Slot(s)),
                Some(Predictions::Values(v)) => v.get(r).map(|&x| Cell::Number(x)),
                None => None,
            };
            monitor.observe_row(row, prediction)?;
        }
        Ok(())
    }

    /// Adds a predicted batch to `monitor` (built with [`drift_monitor`](Self::drift_monitor)):
    /// the batch's schema columns and, when given, the predictions made on it. Costs no
    /// prediction; on error nothing is added.
    pub fn observe_drift(
        &self,
        monitor: &mut Monitor,
        batch: &Batch,
        predictions: Option<&Predictions>,
    ) -> Result<()> {
        let binner = Arc::clone(self.require_profile()?);
        let resolved = self.resolve(&binner, batch)?;
        let prediction_slots = self.prediction_slots(predictions);
        let columns = live_columns(&resolved);
        let prediction = live_prediction(predictions, &prediction_slots);
        monitor.observe(&columns, prediction.as_ref())?;
        Ok(())
    }

    fn prediction_slots(&self, predictions: Option<&Predictions>) -> Vec<CategorySlot> {
        let Some(Predictions::Classes(indices)) = predictions else {
            return Vec::new();
        };
        indices
            .iter()
            .map(|&i| {
                self.class_slots
                    .get(i)
                    .copied()
                    .unwrap_or(CategorySlot::Unknown)
            })
            .collect()
    }

    /// The live sample of a batch: its columns binned on the profile and the pipeline's
    /// predictions on it (which are not counted in [`encoding_stats`](Self::encoding_stats)).
    pub fn drift_sample(&self, batch: &Batch) -> Result<LiveSample> {
        let binner = Arc::clone(self.require_profile()?);
        let predictions = self.predict_quietly(batch)?;
        let resolved = self.resolve(&binner, batch)?;
        let prediction_slots = self.prediction_slots(Some(&predictions));
        let columns = live_columns(&resolved);
        let prediction = live_prediction(Some(&predictions), &prediction_slots);
        Ok(binner.sample(&columns, prediction.as_ref())?)
    }

    /// The drift report of a live batch against the stored profile: every input column, the
    /// predictions' distribution, unknown-category, missing and out-of-range rates.
    ///
    /// ```
    /// # fn main() -> tabship::Result<()> {
    /// # let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/golden");
    /// use tabship::drift::DriftOptions;
    /// let pipeline = tabship::Pipeline::load(format!("{dir}/adult_logistic_profile.tabship"))?;
    /// # let schema = pipeline.schema().clone();
    /// # let mut reader = csv::Reader::from_path(format!("{dir}/adult_inputs.csv")).expect("csv");
    /// # let header: Vec<String> = reader.headers().expect("header").iter().map(String::from).collect();
    /// # let mut builder = tabship::TextBatchBuilder::new(&schema, &header)?;
    /// # for row in reader.records() { builder.push_row(row.expect("row").iter())?; }
    /// # let live = builder.finish();
    /// let report = pipeline.drift_report(&live, &DriftOptions::default())?;
    /// for column in &report.columns {
    ///     println!("{}: {} = {:.3} (drifted: {})", column.name, column.statistic, column.value, column.drifted);
    /// }
    /// assert!(report.prediction.is_some());
    /// # Ok(())
    /// # }
    /// ```
    pub fn drift_report(&self, batch: &Batch, options: &DriftOptions) -> Result<DriftReport> {
        let sample = self.drift_sample(batch)?;
        let profile = self.require_profile()?.profile();
        Ok(tabship_drift::report(profile, &sample, options)?)
    }
}

fn category_profile(values: &ColumnValues, options: &ProfileOptions) -> Result<CategoricalProfile> {
    Ok(match values {
        ColumnValues::Categorical(v) => {
            let mut counts = vec![0u64; v.dictionary().len()];
            let mut missing = 0u64;
            for &c in v.codes() {
                match counts.get_mut(c as usize) {
                    Some(n) if c != MISSING_CODE => *n += 1,
                    _ => missing += 1,
                }
            }
            CategoricalProfile::from_counts(
                v.dictionary().iter().map(String::as_str).zip(counts),
                missing,
                options,
            )?
        }
        ColumnValues::Numeric(v) => {
            let texts: Vec<Option<String>> = v
                .iter()
                .map(|&x| x.is_finite().then(|| number_as_category(x)))
                .collect();
            CategoricalProfile::capture(texts.iter().map(|t| t.as_deref()), options)?
        }
    })
}

fn live_columns<'a>(resolved: &'a [Resolved<'_>]) -> Vec<LiveColumn<'a>> {
    resolved
        .iter()
        .map(|r| match r {
            Resolved::Numbers(v) => LiveColumn::Numeric(v),
            Resolved::Slots(s) => LiveColumn::Slots(s),
        })
        .collect()
}

fn live_prediction<'a>(
    predictions: Option<&'a Predictions>,
    slots: &'a [CategorySlot],
) -> Option<LiveColumn<'a>> {
    match predictions? {
        Predictions::Classes(_) => Some(LiveColumn::Slots(slots)),
        Predictions::Values(v) => Some(LiveColumn::Numeric(v)),
    }
}
