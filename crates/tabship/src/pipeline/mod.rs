//! The `Pipeline`: schema + encoders + model + labels + provenance. Its children add the rest:
//! [`predict`] the record and batch paths of prediction, [`evaluate`] metrics on labelled rows,
//! [`summary`] the input columns as clients see them, [`drift`] the reference profile and
//! monitoring; they see the pipeline's private fields as its children, so nothing is widened to
//! the crate.

mod compare;
mod drift;
mod evaluate;
mod predict;
mod summary;

pub use evaluate::{Evaluation, Label, Labels, Skipped, Truth};
pub use predict::Scores;
pub use summary::{ColumnSummary, Example};

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use tabship_drift::Binner;

use crate::artifact::{self, ArtifactHeader, PipelineParts};
use crate::decision::{CompiledThreshold, DecisionThreshold, TargetTransform, compile_threshold};
use crate::encode::{ColumnEncoderSpec, EncodingStats, FeatureEncoder};
use crate::labels::{ClassLabel, validate_classes};
use crate::metadata::TrainingInfo;
use crate::model::{Model, Task};
use crate::schema::Schema;
use crate::{Error, Result};

/// A fitted, self-contained prediction pipeline.
///
/// Load one with [`Pipeline::load`] or [`Pipeline::from_bytes`]; predict with
/// [`predict_one`](Pipeline::predict_one) or [`predict_batch`](Pipeline::predict_batch). It is
/// `Send + Sync`: share one behind an `Arc` across threads.
#[derive(Debug, Clone)]
pub struct Pipeline {
    encoder: FeatureEncoder,
    task: Task,
    classes: Vec<ClassLabel>,
    model: Model,
    training: TrainingInfo,
    metrics: BTreeMap<String, f64>,
    header: Option<ArtifactHeader>,
    threads: usize,
    /// The reference profile, compiled for binning live data.
    drift: Option<Arc<Binner>>,
    /// Per class, its slot in the profile's prediction distribution (empty without a profile
    /// or for a regressor): looked up once, not per observed request.
    class_slots: Vec<tabship_drift::CategorySlot>,
    /// The stored decision threshold, as read, and compiled against the classes.
    decision_threshold: Option<(DecisionThreshold, CompiledThreshold)>,
    target_transform: Option<TargetTransform>,
}

/// The prediction for one record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Prediction<'a> {
    /// A classifier's label.
    Class {
        /// Index into [`Pipeline::classes`] (and into the probabilities).
        index: usize,
        /// The label.
        label: &'a ClassLabel,
    },
    /// A regressor's value.
    Value(f64),
}

/// Predictions for a batch.
#[derive(Debug, Clone, PartialEq)]
pub enum Predictions {
    /// Class indices into [`Pipeline::classes`].
    Classes(Vec<usize>),
    /// Regression values.
    Values(Vec<f64>),
}

impl Predictions {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Predictions::Classes(v) => v.len(),
            Predictions::Values(v) => v.len(),
        }
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Pipeline {
    /// Assembles a pipeline from its parts, validating every field.
    pub fn from_parts(parts: PipelineParts) -> Result<Self> {
        Self::build(parts, None)
    }

    fn build(parts: PipelineParts, header: Option<ArtifactHeader>) -> Result<Self> {
        if parts.schema.len() > artifact::limits::MAX_COLUMNS {
            return Err(Error::field(
                "schema.columns",
                format!("more than {} columns", artifact::limits::MAX_COLUMNS),
            ));
        }
        let nan_column = parts
            .encoders
            .iter()
            .position(ColumnEncoderSpec::passes_nan);
        if let (Some(i), false) = (nan_column, matches!(parts.model, Model::TreeEnsemble(_))) {
            return Err(Error::field(
                format!("encoders[{i}]"),
                format!(
                    "passes missing values as NaN, which a {} model cannot take",
                    parts.model.kind()
                ),
            ));
        }
        let encoder = FeatureEncoder::new(parts.schema, parts.encoders)?;
        if parts.model.task() != parts.task {
            return Err(Error::field(
                "task",
                format!(
                    "`{}` but the model does {}",
                    parts.task.name(),
                    parts.model.task().name()
                ),
            ));
        }
        let n_classes = match parts.task {
            Task::Classification => {
                validate_classes(&parts.classes)?;
                Some(parts.classes.len())
            }
            Task::Regression if parts.classes.is_empty() => None,
            Task::Regression => {
                return Err(Error::field("classes", "a regressor has no class labels"));
            }
        };
        let mut model = parts.model;
        model.prepare(encoder.width(), n_classes)?;
        let decision_threshold = match parts.decision_threshold {
            Some(t) if parts.task == Task::Classification => {
                let compiled = compile_threshold(&t, &parts.classes)?;
                Some((t, compiled))
            }
            Some(_) => {
                return Err(Error::field(
                    "decision_threshold",
                    "a regressor has no decision threshold",
                ));
            }
            None => None,
        };
        if parts.target_transform.is_some() && parts.task != Task::Regression {
            return Err(Error::field(
                "target_transform",
                "a classifier has no target transform",
            ));
        }
        let drift = match parts.drift_profile {
            Some(profile) => {
                drift::validate_profile(&profile, &encoder, parts.task, &parts.classes)?;
                Some(Arc::new(Binner::new(profile)))
            }
            None => None,
        };
        let class_slots = drift::class_slots(drift.as_deref(), &parts.classes);
        Ok(Pipeline {
            drift,
            class_slots,
            encoder,
            task: parts.task,
            classes: parts.classes,
            model,
            training: parts.training,
            metrics: parts.metrics,
            header,
            threads: 1,
            decision_threshold,
            target_transform: parts.target_transform,
        })
    }

    /// A copy of the pipeline's parts (what the artifact body holds).
    pub fn to_parts(&self) -> PipelineParts {
        PipelineParts {
            schema: self.encoder.schema().clone(),
            encoders: self.encoder.specs(),
            task: self.task,
            classes: self.classes.clone(),
            model: self.model.clone(),
            training: self.training.clone(),
            metrics: self.metrics.clone(),
            drift_profile: self.drift.as_ref().map(|b| (**b.profile()).clone()),
            decision_threshold: self.decision_threshold.as_ref().map(|(t, _)| t.clone()),
            target_transform: self.target_transform,
        }
    }

    /// Reads a pipeline from artifact bytes. Never panics and never executes code: every failure
    /// is a typed [`Error`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let (header, parts) = artifact::from_bytes(bytes)?;
        Self::build(parts, Some(header))
    }

    /// The artifact bytes of this pipeline (deterministic: equal pipelines give equal bytes).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        artifact::to_bytes(&self.to_parts())
    }

    /// Loads an artifact file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        Self::from_bytes(&artifact::read_file(path.as_ref())?)
    }

    /// Saves the artifact atomically (temporary file, then rename).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        artifact::write_file_atomic(path.as_ref(), &self.to_bytes()?)
    }

    /// The input schema.
    pub fn schema(&self) -> &Schema {
        self.encoder.schema()
    }

    /// The encoders and feature layout.
    pub fn encoder(&self) -> &FeatureEncoder {
        &self.encoder
    }

    /// Classification or regression.
    pub fn task(&self) -> Task {
        self.task
    }

    /// Class labels in probability order (empty for regression).
    pub fn classes(&self) -> &[ClassLabel] {
        &self.classes
    }

    /// The index of the class whose label reads `text` (integer labels also match `3.0`), if any.
    pub fn class_index(&self, text: &str) -> Option<usize> {
        let text = text.trim();
        self.classes.iter().position(|c| match c {
            ClassLabel::Text(s) => s == text,
            ClassLabel::Integer(i) => text
                .parse::<f64>()
                .is_ok_and(|x| x.fract() == 0.0 && x == *i as f64),
        })
    }

    /// The fitted model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The stored decision threshold of a binary classifier, if any: labels are decided by it
    /// everywhere the pipeline predicts; without one the most probable class is predicted.
    pub fn decision_threshold(&self) -> Option<&DecisionThreshold> {
        self.decision_threshold.as_ref().map(|(t, _)| t)
    }

    /// The transform a regressor's target was fitted under, if any; predicted values are already
    /// transformed back.
    pub fn target_transform(&self) -> Option<TargetTransform> {
        self.target_transform
    }

    /// Provenance.
    pub fn training(&self) -> &TrainingInfo {
        &self.training
    }

    /// Holdout metrics.
    pub fn metrics(&self) -> &BTreeMap<String, f64> {
        &self.metrics
    }

    /// The header of the artifact this pipeline was loaded from, if any.
    pub fn header(&self) -> Option<&ArtifactHeader> {
        self.header.as_ref()
    }

    /// Unknown/Other/Missing counts per column since load (or the last reset).
    pub fn encoding_stats(&self) -> EncodingStats {
        self.encoder.stats()
    }

    /// Sets the encoding counters back to zero.
    pub fn reset_encoding_stats(&self) {
        self.encoder.reset_stats();
    }

    /// Threads used by batch prediction (default 1). Batches of at least
    /// `PARALLEL_MIN_ROWS` rows per thread are split into contiguous ranges, one per thread.
    pub fn set_threads(&mut self, threads: usize) {
        self.threads = threads.max(1);
    }

    /// The number of threads batch prediction may use.
    pub fn threads(&self) -> usize {
        self.threads
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn pipeline_is_shareable() {
        assert_send_sync::<Pipeline>();
    }
}
