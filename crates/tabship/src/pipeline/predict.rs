//! Prediction: the record path (one record, or a slice of records, each encoded once) and the
//! batch path (a columnar [`Batch`], planned once, encoded in chunks, split across threads).
//! Both end in [`Pipeline::predict_encoded`], the one place a model's output becomes a
//! prediction (decision threshold and target transform applied).

use ndarray::Array2;

use super::{Pipeline, Prediction, Predictions};
use crate::batch::Batch;
use crate::encode::{BatchPlan, ColumnCounts, Entry};
use crate::model::{Outputs, Task};
use crate::value::Record;
use crate::{Error, Result};

/// Rows encoded at a time in batch prediction: small enough to stay in cache.
const CHUNK_ROWS: usize = 512;
/// Records encoded and predicted together on the record path.
const RECORD_CHUNK_ROWS: usize = 256;
/// Entries per row that fit the on-stack buffer of single-row prediction.
const STACK_ENTRIES: usize = 64;
/// A batch is split across threads only when every thread gets at least this many rows.
const PARALLEL_MIN_ROWS: usize = 4096;

/// Everything a pipeline predicts for a list of rows, in one pass.
#[derive(Debug, Clone, PartialEq)]
pub enum Scores {
    /// A classifier's labels and probabilities.
    Classes {
        /// Predicted class index per row, into [`Pipeline::classes`].
        classes: Vec<usize>,
        /// Probabilities, row-major `rows × classes`.
        proba: Vec<f64>,
    },
    /// A regressor's value per row.
    Values(Vec<f64>),
}

impl Scores {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Scores::Classes { classes, .. } => classes.len(),
            Scores::Values(v) => v.len(),
        }
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Pipeline {
    /// Runs the model on encoded rows (`stride` entries per row, as
    /// [`FeatureEncoder::encode_record`](crate::FeatureEncoder::encode_record) writes them) and
    /// applies the stored decision threshold and target transform: the one place where a
    /// model's output becomes a prediction. `scratch` is reused between calls.
    pub(crate) fn predict_encoded(
        &self,
        entries: &[Entry],
        scratch: &mut Vec<f64>,
        out: Outputs<'_>,
    ) {
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

    /// The record path: predicts each of `records` (maps of column name to value, such as
    /// the rows of a JSON request) and, for a classifier, its probabilities, in one pass; each
    /// record is encoded once, so the Unknown/Other/Missing counters see it once. This is the
    /// entry a server calls for every request, whatever its protocol.
    ///
    /// On failure returns the 0-based index of the first record that cannot be predicted and
    /// why (a missing column, or a value its column cannot use).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/golden/iris_logistic.tabship");
    /// use tabship::{Pipeline, Scores, Value};
    /// let pipeline = Pipeline::load(path)?;
    /// let flower = [
    ///     ("sepal_length", Value::from(5.1)),
    ///     ("sepal_width", Value::from(3.5)),
    ///     ("petal_length", Value::from(1.4)),
    ///     ("petal_width", Value::from(0.2)),
    /// ];
    /// let Scores::Classes { classes, proba } = pipeline.score_records(&[flower])
    ///     .map_err(|(_, e)| e)? else { unreachable!() };
    /// assert_eq!(pipeline.classes()[classes[0]].to_string(), "setosa");
    /// assert_eq!(proba.len(), 3);
    /// # Ok(())
    /// # }
    /// ```
    pub fn score_records<R: Record>(
        &self,
        records: &[R],
    ) -> std::result::Result<Scores, (usize, Error)> {
        let stride = self.encoder.stride();
        let n = records.len();
        let k = self.classes.len();
        let classify = self.task == Task::Classification;
        let mut classes = vec![0usize; if classify { n } else { 0 }];
        let mut proba = vec![0.0f64; if classify { n * k } else { 0 }];
        let mut values = vec![0.0f64; if classify { 0 } else { n }];
        let mut entries = vec![(0u32, 0.0f64); RECORD_CHUNK_ROWS.min(n) * stride];
        let mut scratch = Vec::new();
        let mut start = 0;
        while start < n {
            let end = (start + RECORD_CHUNK_ROWS).min(n);
            let chunk = &mut entries[..(end - start) * stride];
            for (i, record) in records[start..end].iter().enumerate() {
                self.encoder
                    .encode_record(record, &mut chunk[i * stride..(i + 1) * stride])
                    .map_err(|e| (start + i, e))?;
            }
            let out = if classify {
                Outputs {
                    classes: Some(&mut classes[start..end]),
                    proba: Some(&mut proba[start * k..end * k]),
                    values: None,
                }
            } else {
                Outputs {
                    values: Some(&mut values[start..end]),
                    ..Outputs::default()
                }
            };
            self.predict_encoded(chunk, &mut scratch, out);
            start = end;
        }
        Ok(if classify {
            Scores::Classes { classes, proba }
        } else {
            Scores::Values(values)
        })
    }

    /// The batch path: predicts every row of `batch` and, for a classifier, its probabilities,
    /// in one pass on up to [`threads`](Self::threads) threads. A value error names its
    /// 1-based row.
    pub fn score_batch(&self, batch: &Batch) -> Result<Scores> {
        let n = batch.n_rows();
        match self.task {
            Task::Classification => {
                let mut classes = vec![0usize; n];
                let mut proba = vec![0.0f64; n * self.classes.len()];
                self.predict_into(batch, true, Some(&mut classes), None, Some(&mut proba))?;
                Ok(Scores::Classes { classes, proba })
            }
            Task::Regression => {
                let mut values = vec![0.0f64; n];
                self.predict_into(batch, true, None, Some(&mut values), None)?;
                Ok(Scores::Values(values))
            }
        }
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
        plan: &BatchPlan<'_>,
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
    /// encoding counts (only when every row succeeded and `count` holds).
    pub(super) fn predict_into(
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
