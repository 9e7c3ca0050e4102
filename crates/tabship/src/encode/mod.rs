//! Encoders: turn named input values into the model's feature vector.
//!
//! Every column produces a fixed number of *entries* per row, `(feature index, value)` pairs in
//! increasing feature order; all features not named by an entry are zero. Linear models score the
//! entries directly (a sparse dot product that gives bit-for-bit the dense result), trees scatter
//! them into a dense row.

mod categorical;
mod numeric;
mod stats;

use ndarray::Array2;
use serde::{Deserialize, Serialize};

pub use categorical::{
    CategoricalEncoder, CategoricalEncoderSpec, CategoricalMissing, CategoryEncoding, CategoryState,
};
pub(crate) use numeric::read_number;
pub use numeric::{Imputation, ImputeStrategy, NumericEncoderSpec, Scaling};
pub use stats::{ColumnCounts, EncodingStats};
pub(crate) use stats::{EncodingCounters, Event};

use crate::batch::{Batch, ColumnValues, MISSING_CODE};
use crate::schema::{ColumnKind, Schema};
use crate::value::{FieldValue, Record};
use crate::{Error, Result};

/// One non-zero (or possibly non-zero) feature of an encoded row.
pub type Entry = (u32, f64);

/// The fitted encoder of one column, as stored in the artifact (tagged by `type`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ColumnEncoderSpec {
    /// For a numeric column.
    Numeric(NumericEncoderSpec),
    /// For a categorical column.
    Categorical(CategoricalEncoderSpec),
}

impl ColumnEncoderSpec {
    /// Number of model features the column produces.
    pub fn width(&self) -> usize {
        match self {
            ColumnEncoderSpec::Numeric(s) => s.width(),
            ColumnEncoderSpec::Categorical(s) => s.width(),
        }
    }

    /// Whether a missing value reaches the model as NaN ([`ImputeStrategy::Nan`] or
    /// [`CategoricalMissing::Nan`], format 1.5).
    pub fn passes_nan(&self) -> bool {
        match self {
            ColumnEncoderSpec::Numeric(s) => s.imputation.strategy == ImputeStrategy::Nan,
            ColumnEncoderSpec::Categorical(s) => s.missing == CategoricalMissing::Nan,
        }
    }

    fn kind(&self) -> ColumnKind {
        match self {
            ColumnEncoderSpec::Numeric(_) => ColumnKind::Numeric,
            ColumnEncoderSpec::Categorical(_) => ColumnKind::Categorical,
        }
    }
}

#[derive(Debug, Clone)]
enum ColumnEncoder {
    Numeric(NumericEncoderSpec),
    Categorical(CategoricalEncoder),
}

/// All column encoders of a pipeline, with the feature layout and the monitoring counters.
#[derive(Debug, Clone)]
pub struct FeatureEncoder {
    schema: Schema,
    encoders: Vec<ColumnEncoder>,
    offsets: Vec<u32>,
    entry_offsets: Vec<usize>,
    width: usize,
    stride: usize,
    counters: EncodingCounters,
}

/// How one schema column is read from a particular batch.
enum ColumnPlan<'b> {
    Numbers(&'b [f64]),
    NumbersFromText {
        codes: &'b [u32],
        parsed: Vec<std::result::Result<Option<f64>, String>>,
    },
    Categories {
        codes: &'b [u32],
        states: Vec<CategoryState>,
    },
    CategoriesFromNumbers(&'b [f64]),
}

impl FeatureEncoder {
    /// Checks that `specs` fit `schema` and lays out the features.
    pub fn new(schema: Schema, specs: Vec<ColumnEncoderSpec>) -> Result<Self> {
        schema.validate()?;
        if specs.len() != schema.len() {
            return Err(Error::field(
                "encoders",
                format!(
                    "{} encoders for {} schema columns",
                    specs.len(),
                    schema.len()
                ),
            ));
        }
        let mut encoders = Vec::with_capacity(specs.len());
        let mut offsets = Vec::with_capacity(specs.len());
        let mut entry_offsets = Vec::with_capacity(specs.len());
        let (mut width, mut stride) = (0usize, 0usize);
        for (i, (spec, column)) in specs.into_iter().zip(&schema.columns).enumerate() {
            let field = format!("encoders[{i}]");
            if spec.kind() != column.kind {
                return Err(Error::field(
                    field,
                    format!(
                        "a {} encoder for {} column `{}`",
                        spec.kind().name(),
                        column.kind.name(),
                        column.name
                    ),
                ));
            }
            offsets.push(width as u32);
            entry_offsets.push(stride);
            width += spec.width();
            stride += match &spec {
                ColumnEncoderSpec::Numeric(s) => s.width(),
                ColumnEncoderSpec::Categorical(_) => 1,
            };
            if width > crate::artifact::limits::MAX_FEATURES {
                return Err(Error::field(
                    "encoders",
                    format!(
                        "more than {} model features",
                        crate::artifact::limits::MAX_FEATURES
                    ),
                ));
            }
            encoders.push(match spec {
                ColumnEncoderSpec::Numeric(s) => {
                    s.validate(&field)?;
                    ColumnEncoder::Numeric(s)
                }
                ColumnEncoderSpec::Categorical(s) => {
                    ColumnEncoder::Categorical(CategoricalEncoder::new(s, &field)?)
                }
            });
        }
        let counters = EncodingCounters::new(schema.len());
        Ok(FeatureEncoder {
            schema,
            encoders,
            offsets,
            entry_offsets,
            width,
            stride,
            counters,
        })
    }

    /// The input schema.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The encoder of schema column `column`, when it is categorical.
    pub fn categorical(&self, column: usize) -> Option<&CategoricalEncoder> {
        match self.encoders.get(column) {
            Some(ColumnEncoder::Categorical(e)) => Some(e),
            _ => None,
        }
    }

    /// Number of model features.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Number of entries per encoded row.
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// The stored specs, in schema order.
    pub fn specs(&self) -> Vec<ColumnEncoderSpec> {
        self.encoders
            .iter()
            .map(|e| match e {
                ColumnEncoder::Numeric(s) => ColumnEncoderSpec::Numeric(s.clone()),
                ColumnEncoder::Categorical(c) => ColumnEncoderSpec::Categorical(c.spec().clone()),
            })
            .collect()
    }

    /// Names of the model features, in order (`age`, `job=clerk`, `job=<other>`, ...).
    pub fn feature_names(&self) -> Vec<String> {
        let mut names = Vec::with_capacity(self.width);
        for (encoder, column) in self.encoders.iter().zip(&self.schema.columns) {
            match encoder {
                ColumnEncoder::Numeric(s) => {
                    names.push(column.name.clone());
                    if s.missing_indicator {
                        names.push(format!("{}_missing", column.name));
                    }
                }
                ColumnEncoder::Categorical(c) => names.extend(c.spec().feature_names(&column.name)),
            }
        }
        names
    }

    /// The monitoring counters as they stand.
    pub fn stats(&self) -> EncodingStats {
        self.counters.snapshot(self.schema.names())
    }

    /// Sets the monitoring counters back to zero.
    pub fn reset_stats(&self) {
        self.counters.reset();
    }

    /// Encodes one record into `entries` (length [`stride`](Self::stride)) and counts its
    /// Unknown/Other/Missing values once the whole row has encoded. Crate-private: callers use
    /// [`Pipeline::score_records`](crate::Pipeline::score_records).
    pub(crate) fn encode_record<R: Record + ?Sized>(
        &self,
        record: &R,
        entries: &mut [Entry],
    ) -> Result<()> {
        let mut events: Vec<(usize, Event)> = Vec::new();
        for (i, (encoder, column)) in self.encoders.iter().zip(&self.schema.columns).enumerate() {
            let value = record
                .field(&column.name)
                .ok_or_else(|| Error::missing(column))?;
            let offset = self.offsets[i];
            let at = self.entry_offsets[i];
            match encoder {
                ColumnEncoder::Numeric(spec) => {
                    let raw = numeric::read_number(&column.name, value, &self.schema.na_values)?;
                    if raw.is_none() {
                        events.push((i, Event::Missing));
                    }
                    write_numeric(spec, raw, offset, &mut entries[at..]);
                }
                ColumnEncoder::Categorical(enc) => {
                    let state = match value {
                        FieldValue::Text(t) if self.schema.na_values.is_missing_category(t) => {
                            CategoryState::Missing
                        }
                        _ => enc.state_of(value),
                    };
                    if let Some(event) = state_event(state) {
                        events.push((i, event));
                    }
                    entries[at] = categorical_entry(enc, state, offset);
                }
            }
        }
        self.counters.add_rows(1);
        for (column, event) in events {
            self.counters.record(column, event);
        }
        Ok(())
    }

    /// Encodes rows `start..end` of `batch` into `entries` (`(end - start) * stride` long).
    ///
    /// Counts go to `counts` (one per column); commit them with [`commit_counts`](Self::commit_counts)
    /// once the whole batch succeeded.
    pub fn encode_batch_rows(
        &self,
        batch: &BatchPlan<'_>,
        start: usize,
        end: usize,
        entries: &mut [Entry],
        counts: &mut [ColumnCounts],
    ) -> Result<()> {
        if counts.len() != self.encoders.len() {
            return Err(Error::InvalidBatch(format!(
                "{} column counts for {} columns",
                counts.len(),
                self.encoders.len()
            )));
        }
        for (i, count) in counts.iter_mut().enumerate() {
            self.encode_column_rows(batch, i, start, end, entries, count)?;
        }
        Ok(())
    }

    /// [`encode_batch_rows`](Self::encode_batch_rows) for schema column `i` alone: writes its
    /// entries of rows `start..end` (at their places in each row's `stride` entries).
    fn encode_column_rows(
        &self,
        batch: &BatchPlan<'_>,
        i: usize,
        start: usize,
        end: usize,
        entries: &mut [Entry],
        count: &mut ColumnCounts,
    ) -> Result<()> {
        let stride = self.stride;
        let (encoder, plan) = (&self.encoders[i], &batch.plans[i]);
        let offset = self.offsets[i];
        let at = self.entry_offsets[i];
        let name = &self.schema.columns[i].name;
        match (encoder, plan) {
            (ColumnEncoder::Numeric(spec), ColumnPlan::Numbers(values)) => {
                for (r, &x) in values[start..end].iter().enumerate() {
                    let raw = if x.is_nan() {
                        count.missing += 1;
                        None
                    } else if x.is_finite() {
                        Some(x)
                    } else {
                        return Err(crate::value::non_finite(name, x).at_row(start + r));
                    };
                    write_numeric(spec, raw, offset, &mut entries[r * stride + at..]);
                }
            }
            (ColumnEncoder::Numeric(spec), ColumnPlan::NumbersFromText { codes, parsed }) => {
                for (r, &code) in codes[start..end].iter().enumerate() {
                    let raw = if code == MISSING_CODE {
                        None
                    } else {
                        match &parsed[code as usize] {
                            Ok(v) => *v,
                            Err(text) => {
                                return Err(self
                                    .schema
                                    .na_values
                                    .parse_number(name, text)
                                    .err()
                                    .unwrap_or_else(|| crate::value::non_finite(name, text))
                                    .at_row(start + r));
                            }
                        }
                    };
                    if raw.is_none() {
                        count.missing += 1;
                    }
                    write_numeric(spec, raw, offset, &mut entries[r * stride + at..]);
                }
            }
            (ColumnEncoder::Categorical(enc), ColumnPlan::Categories { codes, states }) => {
                for (r, &code) in codes[start..end].iter().enumerate() {
                    let state = if code == MISSING_CODE {
                        CategoryState::Missing
                    } else {
                        states[code as usize]
                    };
                    count_state(count, state);
                    entries[r * stride + at] = categorical_entry(enc, state, offset);
                }
            }
            (ColumnEncoder::Categorical(enc), ColumnPlan::CategoriesFromNumbers(values)) => {
                for (r, &x) in values[start..end].iter().enumerate() {
                    let state = enc.state_of(FieldValue::Number(x));
                    count_state(count, state);
                    entries[r * stride + at] = categorical_entry(enc, state, offset);
                }
            }
            _ => {
                return Err(Error::InvalidBatch(format!(
                    "internal plan mismatch for column `{name}`"
                )));
            }
        }
        Ok(())
    }

    /// Adds a successful batch's counts to the monitoring counters.
    pub fn commit_counts(&self, rows: usize, counts: &[ColumnCounts]) {
        self.counters.add_rows(rows as u64);
        for (i, c) in counts.iter().enumerate() {
            self.counters.add(i, *c);
        }
    }

    /// Resolves the schema's columns in `batch` (by name; extra columns are ignored).
    pub fn plan<'b>(&self, batch: &'b Batch) -> Result<BatchPlan<'b>> {
        let na = &self.schema.na_values;
        let mut plans = Vec::with_capacity(self.encoders.len());
        for (encoder, column) in self.encoders.iter().zip(&self.schema.columns) {
            let values = batch.column_for(column)?;
            plans.push(match (encoder, values) {
                (ColumnEncoder::Numeric(_), ColumnValues::Numeric(v)) => ColumnPlan::Numbers(v),
                (ColumnEncoder::Numeric(_), ColumnValues::Categorical(v)) => {
                    ColumnPlan::NumbersFromText {
                        codes: v.codes(),
                        parsed: v
                            .dictionary()
                            .iter()
                            .map(|t| na.parse_number(&column.name, t).map_err(|_| t.clone()))
                            .collect(),
                    }
                }
                (ColumnEncoder::Categorical(enc), ColumnValues::Categorical(v)) => {
                    ColumnPlan::Categories {
                        codes: v.codes(),
                        states: v
                            .dictionary()
                            .iter()
                            .map(|t| {
                                if na.is_missing_category(t) {
                                    CategoryState::Missing
                                } else {
                                    enc.state_of_text(t)
                                }
                            })
                            .collect(),
                    }
                }
                (ColumnEncoder::Categorical(_), ColumnValues::Numeric(v)) => {
                    ColumnPlan::CategoriesFromNumbers(v)
                }
            });
        }
        Ok(BatchPlan {
            plans,
            n_rows: batch.n_rows(),
        })
    }

    /// The features `features` of every row of `batch`, one vector per feature (what
    /// [`encode_dense`](Self::encode_dense) holds in those columns), without the whole matrix:
    /// only the schema columns that produce them are encoded. Training binned features a few
    /// columns at a time peaks at a few columns' memory, not the matrix's.
    pub fn encode_feature_columns(
        &self,
        batch: &BatchPlan<'_>,
        features: std::ops::Range<usize>,
        out: &mut Vec<Vec<f64>>,
    ) -> Result<()> {
        if features.end > self.width {
            return Err(Error::field(
                "features",
                format!("{features:?} reaches past the {} features", self.width),
            ));
        }
        let n = batch.n_rows;
        out.resize_with(features.len(), Vec::new);
        out.truncate(features.len());
        for column in out.iter_mut() {
            column.clear();
            column.resize(n, 0.0);
        }
        let columns: Vec<usize> = (0..self.encoders.len())
            .filter(|&i| {
                let first = self.offsets[i] as usize;
                let last = self.offsets.get(i + 1).map_or(self.width, |&o| o as usize);
                first < features.end && features.start < last
            })
            .collect();
        let chunk = 1024;
        let mut entries = vec![(0u32, 0.0f64); chunk * self.stride];
        let mut count = ColumnCounts::default();
        let mut start = 0;
        while start < n {
            let end = (start + chunk).min(n);
            for &i in &columns {
                self.encode_column_rows(batch, i, start, end, &mut entries, &mut count)?;
                let at = self.entry_offsets[i];
                let len = self
                    .entry_offsets
                    .get(i + 1)
                    .copied()
                    .unwrap_or(self.stride)
                    - at;
                for r in 0..end - start {
                    let row = r * self.stride + at;
                    for &(f, v) in &entries[row..row + len] {
                        if features.contains(&(f as usize)) {
                            out[f as usize - features.start][start + r] = v;
                        }
                    }
                }
            }
            start = end;
        }
        Ok(())
    }

    /// Encodes a whole batch into a dense `rows × width` matrix (used for training), counting
    /// nothing.
    pub fn encode_dense(&self, batch: &Batch) -> Result<Array2<f64>> {
        let plan = self.plan(batch)?;
        let n = batch.n_rows();
        let mut out = Array2::<f64>::zeros((n, self.width));
        let mut counts = vec![ColumnCounts::default(); self.encoders.len()];
        let chunk = 1024;
        let mut entries = vec![(0u32, 0.0f64); chunk * self.stride];
        let mut start = 0;
        while start < n {
            let end = (start + chunk).min(n);
            let rows = end - start;
            self.encode_batch_rows(
                &plan,
                start,
                end,
                &mut entries[..rows * self.stride],
                &mut counts,
            )?;
            for r in 0..rows {
                let mut row = out.row_mut(start + r);
                for &(f, v) in &entries[r * self.stride..(r + 1) * self.stride] {
                    row[f as usize] = v;
                }
            }
            start = end;
        }
        Ok(out)
    }
}

/// A batch resolved against a pipeline's schema, ready to encode in chunks.
pub struct BatchPlan<'b> {
    plans: Vec<ColumnPlan<'b>>,
    n_rows: usize,
}

impl BatchPlan<'_> {
    /// Number of rows in the batch.
    pub fn n_rows(&self) -> usize {
        self.n_rows
    }
}

#[inline]
fn write_numeric(spec: &NumericEncoderSpec, raw: Option<f64>, offset: u32, out: &mut [Entry]) {
    out[0] = (offset, spec.transform(raw));
    if spec.missing_indicator {
        out[1] = (offset + 1, if raw.is_none() { 1.0 } else { 0.0 });
    }
}

#[inline]
fn categorical_entry(enc: &CategoricalEncoder, state: CategoryState, offset: u32) -> Entry {
    match enc.encode(state) {
        Some((slot, value)) => (offset + slot, value),
        // All of the column's features stay zero; a zero entry at its first feature is a no-op.
        None => (offset, 0.0),
    }
}

#[inline]
fn state_event(state: CategoryState) -> Option<Event> {
    match state {
        CategoryState::Known(_) => None,
        CategoryState::Other => Some(Event::Other),
        CategoryState::Missing => Some(Event::Missing),
        CategoryState::Unknown => Some(Event::Unknown),
    }
}

#[inline]
fn count_state(count: &mut ColumnCounts, state: CategoryState) {
    match state {
        CategoryState::Known(_) => {}
        CategoryState::Other => count.other += 1,
        CategoryState::Missing => count.missing += 1,
        CategoryState::Unknown => count.unknown += 1,
    }
}
