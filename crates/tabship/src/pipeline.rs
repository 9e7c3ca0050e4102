//! The `Pipeline`: schema + encoders + model + labels + provenance, and prediction.

use std::collections::BTreeMap;
use std::path::Path;

use ndarray::Array2;

use crate::artifact::{self, ArtifactHeader, PipelineParts};
use crate::batch::Batch;
use crate::encode::{ColumnCounts, EncodingStats, Entry, FeatureEncoder};
use crate::labels::{ClassLabel, validate_classes};
use crate::metadata::TrainingInfo;
use crate::model::{Model, RawPrediction, Task};
use crate::schema::Schema;
use crate::value::Record;
use crate::{Error, Result};

/// Rows encoded at a time in batch prediction: small enough to stay in cache.
const CHUNK_ROWS: usize = 512;
/// Entries per row that fit the on-stack buffer of single-row prediction.
const STACK_ENTRIES: usize = 64;

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
        parts.model.validate(encoder.width(), n_classes)?;
        Ok(Pipeline {
            encoder,
            task: parts.task,
            classes: parts.classes,
            model: parts.model,
            training: parts.training,
            metrics: parts.metrics,
            header,
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

    fn with_entries<T>(
        &self,
        record: &(impl Record + ?Sized),
        f: impl FnOnce(&[Entry]) -> Result<T>,
    ) -> Result<T> {
        let stride = self.encoder.stride();
        if stride <= STACK_ENTRIES {
            let mut buf = [(0u32, 0.0f64); STACK_ENTRIES];
            self.encoder.encode_record(record, &mut buf[..stride])?;
            f(&buf[..stride])
        } else {
            let mut buf = vec![(0u32, 0.0f64); stride];
            self.encoder.encode_record(record, &mut buf)?;
            f(&buf)
        }
    }

    /// Predicts one record (a map of column name to value).
    pub fn predict_one<R: Record + ?Sized>(&self, record: &R) -> Result<Prediction<'_>> {
        self.with_entries(record, |entries| {
            Ok(self.prediction(self.model.predict(entries)))
        })
    }

    /// Class probabilities of one record, in [`classes`](Self::classes) order.
    pub fn predict_proba_one<R: Record + ?Sized>(&self, record: &R) -> Result<Vec<f64>> {
        self.require_classifier()?;
        self.with_entries(record, |entries| {
            let mut out = vec![0.0; self.classes.len()];
            self.model.predict_proba(entries, &mut out)?;
            Ok(out)
        })
    }

    fn prediction(&self, raw: RawPrediction) -> Prediction<'_> {
        match raw {
            RawPrediction::Class(index) => Prediction::Class {
                index,
                label: &self.classes[index],
            },
            RawPrediction::Value(v) => Prediction::Value(v),
        }
    }

    fn require_classifier(&self) -> Result<()> {
        match self.task {
            Task::Classification => Ok(()),
            Task::Regression => Err(Error::WrongTask {
                operation: "predict_proba",
                needs: "classification",
                task: "regression",
            }),
        }
    }

    /// Runs `per_row` over every encoded row of `batch`, then commits the encoding counts.
    fn for_each_row(
        &self,
        batch: &Batch,
        mut per_row: impl FnMut(usize, &[Entry]) -> Result<()>,
    ) -> Result<()> {
        let plan = self.encoder.plan(batch)?;
        let n = plan.n_rows();
        let stride = self.encoder.stride();
        let mut entries = vec![(0u32, 0.0f64); CHUNK_ROWS.min(n.max(1)) * stride];
        let mut counts = vec![ColumnCounts::default(); self.schema().len()];
        let mut start = 0;
        while start < n {
            let end = (start + CHUNK_ROWS).min(n);
            let chunk = &mut entries[..(end - start) * stride];
            self.encoder
                .encode_batch_rows(&plan, start, end, chunk, &mut counts)?;
            for (r, row) in chunk.chunks_exact(stride.max(1)).enumerate() {
                per_row(start + r, row)?;
            }
            start = end;
        }
        self.encoder.commit_counts(n, &counts);
        Ok(())
    }

    /// Predicts every row of a batch.
    pub fn predict_batch(&self, batch: &Batch) -> Result<Predictions> {
        let n = batch.n_rows();
        match self.task {
            Task::Classification => {
                let mut out = Vec::with_capacity(n);
                self.for_each_row(batch, |_, row| {
                    if let RawPrediction::Class(c) = self.model.predict(row) {
                        out.push(c);
                    }
                    Ok(())
                })?;
                Ok(Predictions::Classes(out))
            }
            Task::Regression => {
                let mut out = Vec::with_capacity(n);
                self.for_each_row(batch, |_, row| {
                    if let RawPrediction::Value(v) = self.model.predict(row) {
                        out.push(v);
                    }
                    Ok(())
                })?;
                Ok(Predictions::Values(out))
            }
        }
    }

    /// Class probabilities of every row: `rows × classes`.
    pub fn predict_proba_batch(&self, batch: &Batch) -> Result<Array2<f64>> {
        Ok(self.predict_batch_with_proba(batch)?.1)
    }

    /// Labels and probabilities of every row in one pass.
    pub fn predict_batch_with_proba(&self, batch: &Batch) -> Result<(Predictions, Array2<f64>)> {
        self.require_classifier()?;
        let k = self.classes.len();
        let mut proba = Array2::<f64>::zeros((batch.n_rows(), k));
        let mut labels = Vec::with_capacity(batch.n_rows());
        {
            let data = proba.as_slice_mut().ok_or_else(|| {
                Error::InvalidBatch("probability buffer is not contiguous".into())
            })?;
            self.for_each_row(batch, |r, row| {
                self.model
                    .predict_proba(row, &mut data[r * k..(r + 1) * k])?;
                if let RawPrediction::Class(c) = self.model.predict(row) {
                    labels.push(c);
                }
                Ok(())
            })?;
        }
        Ok((Predictions::Classes(labels), proba))
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
