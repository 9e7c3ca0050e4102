//! The `Pipeline`: schema + encoders + model + labels + provenance, and prediction.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use ndarray::Array2;
use tabship_drift::Binner;

use crate::artifact::{self, ArtifactHeader, PipelineParts};
use crate::batch::Batch;
use crate::decision::{CompiledThreshold, DecisionThreshold, TargetTransform, compile_threshold};
use crate::encode::{ColumnCounts, EncodingStats, Entry, FeatureEncoder};
use crate::labels::{ClassLabel, validate_classes};
use crate::metadata::TrainingInfo;
use crate::model::{Model, Outputs, Task};
use crate::schema::Schema;
use crate::value::Record;
use crate::{Error, Result};

/// Rows encoded at a time in batch prediction: small enough to stay in cache.
const CHUNK_ROWS: usize = 512;
/// Entries per row that fit the on-stack buffer of single-row prediction.
const STACK_ENTRIES: usize = 64;
/// A batch is split across threads only when every thread gets at least this many rows.
const PARALLEL_MIN_ROWS: usize = 4096;

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
    pub(crate) drift: Option<Arc<Binner>>,
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
                crate::monitoring::validate_profile(
                    &profile,
                    &encoder,
                    parts.task,
                    &parts.classes,
                )?;
                Some(Arc::new(Binner::new(profile)))
            }
            None => None,
        };
        Ok(Pipeline {
            drift,
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

    /// Runs the model on encoded rows (`stride` entries per row, as
    /// [`FeatureEncoder::encode_record`] writes them) and applies the stored decision threshold
    /// and target transform: the one place where a model's output becomes a prediction, for
    /// callers (such as a server) that encode rows themselves. `scratch` is reused between calls.
    pub fn predict_encoded(&self, entries: &[Entry], scratch: &mut Vec<f64>, out: Outputs<'_>) {
        let stride = self.encoder.stride();
        let width = self.encoder.width();
        let Outputs {
            classes,
            mut values,
            mut proba,
        } = out;
        match (&self.decision_threshold, classes) {
            (Some((_, threshold)), Some(classes)) => {
                // The label comes from the probabilities; use the caller's buffer when there is
                // one, a local one otherwise (k = 2).
                let mut one_row = [0.0f64; 2];
                let mut local = Vec::new();
                let buffer: &mut [f64] = match proba.as_deref_mut() {
                    Some(p) => p,
                    None if classes.len() == 1 => &mut one_row,
                    None => {
                        local.resize(classes.len() * 2, 0.0);
                        &mut local
                    }
                };
                self.model.predict_rows(
                    entries,
                    stride,
                    width,
                    scratch,
                    Outputs {
                        classes: None,
                        values: values.as_deref_mut(),
                        proba: Some(&mut *buffer),
                    },
                );
                for (class, row) in classes.iter_mut().zip(buffer.chunks_exact(2)) {
                    *class = threshold.decide(row);
                }
            }
            (_, classes) => self.model.predict_rows(
                entries,
                stride,
                width,
                scratch,
                Outputs {
                    classes,
                    values: values.as_deref_mut(),
                    proba,
                },
            ),
        }
        if let (Some(transform), Some(values)) = (self.target_transform, values) {
            for v in values.iter_mut() {
                *v = transform.inverse(*v);
            }
        }
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

    /// Encodes one record and runs the model on it.
    fn predict_record(&self, record: &(impl Record + ?Sized), out: Outputs<'_>) -> Result<()> {
        let stride = self.encoder.stride();
        let mut scratch = Vec::new();
        if stride <= STACK_ENTRIES {
            let mut buf = [(0u32, 0.0f64); STACK_ENTRIES];
            self.encoder.encode_record(record, &mut buf[..stride])?;
            self.predict_encoded(&buf[..stride], &mut scratch, out);
        } else {
            let mut buf = vec![(0u32, 0.0f64); stride];
            self.encoder.encode_record(record, &mut buf)?;
            self.predict_encoded(&buf, &mut scratch, out);
        }
        Ok(())
    }

    /// Predicts one record (a map of column name to value).
    pub fn predict_one<R: Record + ?Sized>(&self, record: &R) -> Result<Prediction<'_>> {
        match self.task {
            Task::Classification => {
                let mut class = [0usize];
                self.predict_record(
                    record,
                    Outputs {
                        classes: Some(&mut class),
                        ..Outputs::default()
                    },
                )?;
                Ok(Prediction::Class {
                    index: class[0],
                    label: &self.classes[class[0]],
                })
            }
            Task::Regression => {
                let mut value = [0.0f64];
                self.predict_record(
                    record,
                    Outputs {
                        values: Some(&mut value),
                        ..Outputs::default()
                    },
                )?;
                Ok(Prediction::Value(value[0]))
            }
        }
    }

    /// Class probabilities of one record, in [`classes`](Self::classes) order.
    pub fn predict_proba_one<R: Record + ?Sized>(&self, record: &R) -> Result<Vec<f64>> {
        self.require_classifier()?;
        let mut out = vec![0.0; self.classes.len()];
        self.predict_record(
            record,
            Outputs {
                proba: Some(&mut out),
                ..Outputs::default()
            },
        )?;
        Ok(out)
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

    /// Predicts rows `start..start + len` of a planned batch into output slices that cover
    /// exactly those rows; returns the encoding counts of the range.
    fn predict_range(
        &self,
        plan: &crate::encode::BatchPlan<'_>,
        start: usize,
        mut classes: Option<&mut [usize]>,
        mut values: Option<&mut [f64]>,
        mut proba: Option<&mut [f64]>,
        len: usize,
    ) -> Result<Vec<ColumnCounts>> {
        let stride = self.encoder.stride();
        let k = self.classes.len();
        let mut entries = vec![(0u32, 0.0f64); CHUNK_ROWS.min(len.max(1)) * stride];
        let mut scratch = Vec::new();
        let mut counts = vec![ColumnCounts::default(); self.schema().len()];
        let mut done = 0;
        while done < len {
            let rows = CHUNK_ROWS.min(len - done);
            let chunk = &mut entries[..rows * stride];
            self.encoder.encode_batch_rows(
                plan,
                start + done,
                start + done + rows,
                chunk,
                &mut counts,
            )?;
            let out = Outputs {
                classes: classes.as_deref_mut().map(|c| &mut c[done..done + rows]),
                values: values.as_deref_mut().map(|v| &mut v[done..done + rows]),
                proba: proba
                    .as_deref_mut()
                    .map(|p| &mut p[done * k..(done + rows) * k]),
            };
            self.predict_encoded(chunk, &mut scratch, out);
            done += rows;
        }
        Ok(counts)
    }

    /// Predicts a whole batch, on up to [`threads`](Self::threads) threads, then commits the
    /// encoding counts (only when every row succeeded).
    pub(crate) fn predict_into(
        &self,
        batch: &Batch,
        count: bool,
        classes: Option<&mut [usize]>,
        values: Option<&mut [f64]>,
        proba: Option<&mut [f64]>,
    ) -> Result<()> {
        let plan = self.encoder.plan(batch)?;
        let n = plan.n_rows();
        let k = self.classes.len().max(1);
        let threads = self.threads.min(n / PARALLEL_MIN_ROWS).max(1);
        let per = n.div_ceil(threads).max(1);
        let mut class_parts: Vec<Option<&mut [usize]>> = split(classes, per, 1, threads);
        let mut value_parts: Vec<Option<&mut [f64]>> = split(values, per, 1, threads);
        let mut proba_parts: Vec<Option<&mut [f64]>> = split(proba, per, k, threads);
        let results: Vec<Result<Vec<ColumnCounts>>> = if threads == 1 {
            vec![self.predict_range(
                &plan,
                0,
                class_parts.remove(0),
                value_parts.remove(0),
                proba_parts.remove(0),
                n,
            )]
        } else {
            std::thread::scope(|scope| {
                let plan = &plan;
                let handles: Vec<_> = class_parts
                    .into_iter()
                    .zip(value_parts)
                    .zip(proba_parts)
                    .enumerate()
                    .map(|(t, ((c, v), p))| {
                        let start = t * per;
                        let len = per.min(n.saturating_sub(start));
                        scope.spawn(move || self.predict_range(plan, start, c, v, p, len))
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.join().unwrap_or_else(|_| {
                            Err(Error::InvalidBatch("a prediction thread panicked".into()))
                        })
                    })
                    .collect()
            })
        };
        let mut total = vec![ColumnCounts::default(); self.schema().len()];
        for result in results {
            for (t, c) in total.iter_mut().zip(result?) {
                t.unknown += c.unknown;
                t.other += c.other;
                t.missing += c.missing;
            }
        }
        if count {
            self.encoder.commit_counts(n, &total);
        }
        Ok(())
    }

    /// Predicts every row of a batch.
    pub fn predict_batch(&self, batch: &Batch) -> Result<Predictions> {
        let n = batch.n_rows();
        match self.task {
            Task::Classification => {
                let mut out = vec![0usize; n];
                self.predict_into(batch, true, Some(&mut out), None, None)?;
                Ok(Predictions::Classes(out))
            }
            Task::Regression => {
                let mut out = vec![0.0f64; n];
                self.predict_into(batch, true, None, Some(&mut out), None)?;
                Ok(Predictions::Values(out))
            }
        }
    }

    /// Class probabilities of every row: `rows × classes`.
    pub fn predict_proba_batch(&self, batch: &Batch) -> Result<Array2<f64>> {
        self.require_classifier()?;
        let mut proba = Array2::<f64>::zeros((batch.n_rows(), self.classes.len()));
        let data = proba
            .as_slice_mut()
            .ok_or_else(|| Error::InvalidBatch("probability buffer is not contiguous".into()))?;
        self.predict_into(batch, true, None, None, Some(data))?;
        Ok(proba)
    }

    /// Labels and probabilities of every row in one pass.
    pub fn predict_batch_with_proba(&self, batch: &Batch) -> Result<(Predictions, Array2<f64>)> {
        self.require_classifier()?;
        let mut proba = Array2::<f64>::zeros((batch.n_rows(), self.classes.len()));
        let mut labels = vec![0usize; batch.n_rows()];
        let data = proba
            .as_slice_mut()
            .ok_or_else(|| Error::InvalidBatch("probability buffer is not contiguous".into()))?;
        self.predict_into(batch, true, Some(&mut labels), None, Some(data))?;
        Ok((Predictions::Classes(labels), proba))
    }
}

/// Splits an optional output slice into `parts` pieces of `per` rows of `width` values each.
fn split<T>(
    slice: Option<&mut [T]>,
    per: usize,
    width: usize,
    parts: usize,
) -> Vec<Option<&mut [T]>> {
    match slice {
        None => (0..parts).map(|_| None).collect(),
        Some(s) => {
            let mut pieces: Vec<Option<&mut [T]>> = s.chunks_mut(per * width).map(Some).collect();
            pieces.resize_with(parts, || None);
            pieces
        }
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
