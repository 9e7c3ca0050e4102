//! Live samples: the sufficient statistics of live data binned against a profile. A sample's size
//! depends on the profile's bins and categories, never on the number of rows; samples over the
//! same profile add up ([`LiveSample::merge`]), which is what makes windows and shards cheap.

use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::profile::{ColumnProfile, Distribution, ExactValues, ReferenceProfile, slot_of};
use crate::{Error, ExactSum, Result};

/// Where a live categorical value falls with respect to the profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CategorySlot {
    /// One of the profile's kept categories, by index.
    Known(u32),
    /// A reference category that was lumped into `other` (not among the kept ones).
    Other,
    /// A category the reference never had.
    Unknown,
    /// A missing value.
    Missing,
}

/// One live value, for [`LiveSample::push_row`] and the monitor's row API.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    /// A number (NaN or infinite: missing).
    Number(f64),
    /// A category (the empty text: missing).
    Category(&'a str),
    /// A category already resolved against the profile (see [`Binner::slot`]).
    Slot(CategorySlot),
    /// A missing value.
    Missing,
}

/// One live column of a batch, in the profile's column order.
#[derive(Debug, Clone, Copy)]
pub enum LiveColumn<'a> {
    /// Numbers (NaN or infinite: missing).
    Numeric(&'a [f64]),
    /// Categories (`None` or empty: missing).
    Categorical(&'a [Option<&'a str>]),
    /// Categories already resolved against the profile.
    Slots(&'a [CategorySlot]),
}

impl LiveColumn<'_> {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            LiveColumn::Numeric(v) => v.len(),
            LiveColumn::Categorical(v) => v.len(),
            LiveColumn::Slots(v) => v.len(),
        }
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Live counts of a numeric column.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct NumericSample {
    /// Counts in the profile's coarse slots.
    pub counts: Vec<u64>,
    /// Counts in the profile's fine slots.
    pub fine_counts: Vec<u64>,
    /// Missing values.
    pub missing: u64,
    /// `Σ (x − reference mean)` over present values (centred for numerical accuracy). Exact, so
    /// that merged shards report what one pass over the same rows reports, bit for bit.
    pub sum: ExactSum,
    /// `Σ (x − reference mean)²` over present values.
    pub sum_sq: ExactSum,
    /// `Σ (min − x)` over values below the reference minimum.
    pub below: ExactSum,
    /// `Σ (x − max)` over values above the reference maximum.
    pub above: ExactSum,
    /// Counts of the profile's exact values (empty when the profile keeps none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub value_counts: Vec<u64>,
    /// Present values that are none of the profile's exact values (0 when it keeps none).
    #[serde(default)]
    pub unseen: u64,
}

/// Live counts of a categorical column.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CategoricalSample {
    /// Counts of the profile's kept categories.
    pub counts: Vec<u64>,
    /// Values in reference categories that the profile lumped together.
    pub other: u64,
    /// Values in categories the reference never had.
    pub unknown: u64,
    /// Missing values.
    pub missing: u64,
}

/// Live counts of one column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ColumnSample {
    /// A numeric column.
    Numeric(NumericSample),
    /// A categorical column.
    Categorical(CategoricalSample),
}

impl NumericSample {
    /// Present values.
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    fn merge(&mut self, other: &NumericSample) {
        add(&mut self.counts, &other.counts);
        add(&mut self.fine_counts, &other.fine_counts);
        self.missing += other.missing;
        self.sum.merge(&other.sum);
        self.sum_sq.merge(&other.sum_sq);
        self.below.merge(&other.below);
        self.above.merge(&other.above);
        add(&mut self.value_counts, &other.value_counts);
        self.unseen += other.unseen;
    }
}

impl CategoricalSample {
    /// Present values.
    pub fn count(&self) -> u64 {
        self.counts.iter().sum::<u64>() + self.other + self.unknown
    }

    fn merge(&mut self, other: &CategoricalSample) {
        add(&mut self.counts, &other.counts);
        self.other += other.other;
        self.unknown += other.unknown;
        self.missing += other.missing;
    }
}

fn add(into: &mut [u64], from: &[u64]) {
    for (a, b) in into.iter_mut().zip(from) {
        *a += b;
    }
}

impl ColumnSample {
    /// Rows seen (present and missing).
    pub fn rows(&self) -> u64 {
        match self {
            ColumnSample::Numeric(s) => s.count() + s.missing,
            ColumnSample::Categorical(s) => s.count() + s.missing,
        }
    }

    pub(crate) fn shape(&self) -> (usize, usize, usize, usize) {
        match self {
            ColumnSample::Numeric(s) => {
                (0, s.counts.len(), s.fine_counts.len(), s.value_counts.len())
            }
            ColumnSample::Categorical(s) => (1, s.counts.len(), 0, 0),
        }
    }

    fn merge(&mut self, other: &ColumnSample) {
        match (self, other) {
            (ColumnSample::Numeric(a), ColumnSample::Numeric(b)) => a.merge(b),
            (ColumnSample::Categorical(a), ColumnSample::Categorical(b)) => a.merge(b),
            _ => {}
        }
    }
}

/// Live counts of every profiled column (and of the predictions, when the profile has them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveSample {
    /// Rows observed.
    pub rows: u64,
    /// One sample per profile column, in profile order.
    pub columns: Vec<ColumnSample>,
    /// The predictions' sample, when the profile has a prediction distribution.
    pub prediction: Option<ColumnSample>,
}

impl LiveSample {
    /// Checks a sample read from outside (a pickled monitor) against an empty sample of the
    /// same profile: same shape, finite sums. `field` names it in the error.
    pub(crate) fn check_like(&self, empty: &LiveSample, field: &str) -> Result<()> {
        let shapes = |s: &LiveSample| {
            (
                s.columns
                    .iter()
                    .map(ColumnSample::shape)
                    .collect::<Vec<_>>(),
                s.prediction.as_ref().map(ColumnSample::shape),
            )
        };
        if shapes(self) != shapes(empty) {
            return Err(Error::state(
                field,
                "expected a sample over the monitor's profile, got one of another shape",
            ));
        }
        for (i, c) in self.columns.iter().chain(&self.prediction).enumerate() {
            if let ColumnSample::Numeric(n) = c {
                for (name, x) in [
                    ("sum", n.sum.value()),
                    ("sum_sq", n.sum_sq.value()),
                    ("below", n.below.value()),
                    ("above", n.above.value()),
                ] {
                    if !x.is_finite() {
                        return Err(Error::state(
                            format!("{field}.columns[{i}].{name}"),
                            format!("expected a finite number, got `{x}`"),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Adds another sample over the same profile (from another window, shard or thread).
    pub fn merge(&mut self, other: &LiveSample) -> Result<()> {
        let same = self.columns.len() == other.columns.len()
            && self
                .columns
                .iter()
                .zip(&other.columns)
                .all(|(a, b)| a.shape() == b.shape())
            && self.prediction.as_ref().map(ColumnSample::shape)
                == other.prediction.as_ref().map(ColumnSample::shape);
        if !same {
            return Err(Error::mismatch(
                "merged sample",
                "a sample over the same profile",
                "a sample of another shape",
            ));
        }
        self.rows += other.rows;
        for (a, b) in self.columns.iter_mut().zip(&other.columns) {
            a.merge(b);
        }
        if let (Some(a), Some(b)) = (&mut self.prediction, &other.prediction) {
            a.merge(b);
        }
        Ok(())
    }
}

/// Resolves live values against one column's profile.
#[derive(Debug, Clone)]
enum ColumnBinner {
    Numeric {
        edges: Vec<f64>,
        fine_edges: Vec<f64>,
        values: Option<ExactValues>,
        center: f64,
        min: f64,
        max: f64,
    },
    Categorical {
        index: FxHashMap<String, u32>,
        n_categories: usize,
        lumped: bool,
    },
}

/// A profile compiled for fast binning: edges by column and a hash index of the kept categories.
/// Build it once per profile ([`Binner::new`]) and share it (it is `Send + Sync` and cheap to
/// clone behind the `Arc` the monitor keeps).
#[derive(Debug, Clone)]
pub struct Binner {
    profile: Arc<ReferenceProfile>,
    columns: Vec<ColumnBinner>,
    prediction: Option<ColumnBinner>,
}

impl ColumnBinner {
    fn new(column: &ColumnProfile) -> Self {
        match &column.distribution {
            Distribution::Numeric(p) => ColumnBinner::Numeric {
                edges: p.edges.clone(),
                fine_edges: p.fine_edges.clone(),
                values: p.values.clone(),
                center: p.mean,
                min: p.min,
                max: p.max,
            },
            Distribution::Categorical(p) => ColumnBinner::Categorical {
                index: p
                    .categories
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (c.clone(), i as u32))
                    .collect(),
                n_categories: p.categories.len(),
                lumped: p.other_categories > 0,
            },
        }
    }

    fn empty_sample(&self) -> ColumnSample {
        match self {
            ColumnBinner::Numeric {
                edges,
                fine_edges,
                values,
                ..
            } => ColumnSample::Numeric(NumericSample {
                counts: vec![0; edges.len() + 1],
                fine_counts: vec![0; fine_edges.len() + 1],
                value_counts: vec![0; values.as_ref().map_or(0, |v| v.values.len())],
                ..NumericSample::default()
            }),
            ColumnBinner::Categorical { n_categories, .. } => {
                ColumnSample::Categorical(CategoricalSample {
                    counts: vec![0; *n_categories],
                    ..CategoricalSample::default()
                })
            }
        }
    }

    fn slot(&self, text: Option<&str>) -> CategorySlot {
        match (self, text) {
            (_, None) | (_, Some("")) => CategorySlot::Missing,
            (
                ColumnBinner::Categorical {
                    index, lumped: l, ..
                },
                Some(t),
            ) => match index.get(t) {
                Some(&i) => CategorySlot::Known(i),
                None if *l => CategorySlot::Other,
                None => CategorySlot::Unknown,
            },
            (ColumnBinner::Numeric { .. }, Some(_)) => CategorySlot::Unknown,
        }
    }

    #[inline]
    fn push_number(&self, sample: &mut ColumnSample, x: f64) {
        let (
            ColumnBinner::Numeric {
                edges,
                fine_edges,
                values,
                center,
                min,
                max,
            },
            ColumnSample::Numeric(s),
        ) = (self, sample)
        else {
            return;
        };
        if !x.is_finite() {
            s.missing += 1;
            return;
        }
        s.counts[slot_of(edges, x)] += 1;
        s.fine_counts[slot_of(fine_edges, x)] += 1;
        if let Some(values) = values {
            match values.index_of(x).and_then(|i| s.value_counts.get_mut(i)) {
                Some(c) => *c += 1,
                None => s.unseen += 1,
            }
        }
        let d = x - center;
        s.sum.add(d);
        s.sum_sq.add(d * d);
        if !edges.is_empty() {
            if x < *min {
                s.below.add(min - x);
            } else if x > *max {
                s.above.add(x - max);
            }
        }
    }

    #[inline]
    fn push_slot(sample: &mut ColumnSample, slot: CategorySlot) {
        let ColumnSample::Categorical(s) = sample else {
            return;
        };
        match slot {
            CategorySlot::Known(i) => match s.counts.get_mut(i as usize) {
                Some(c) => *c += 1,
                None => s.unknown += 1,
            },
            CategorySlot::Other => s.other += 1,
            CategorySlot::Unknown => s.unknown += 1,
            CategorySlot::Missing => s.missing += 1,
        }
    }

    fn push_cell(&self, sample: &mut ColumnSample, cell: Cell<'_>) {
        match (self, cell) {
            (ColumnBinner::Numeric { .. }, Cell::Number(x)) => self.push_number(sample, x),
            (ColumnBinner::Numeric { .. }, _) => self.push_number(sample, f64::NAN),
            (ColumnBinner::Categorical { .. }, Cell::Category(t)) => {
                Self::push_slot(sample, self.slot(Some(t)))
            }
            (ColumnBinner::Categorical { .. }, Cell::Slot(slot)) => Self::push_slot(sample, slot),
            (ColumnBinner::Categorical { .. }, Cell::Missing) => {
                Self::push_slot(sample, CategorySlot::Missing)
            }
            // A number in a categorical column is compared as text, like the core does.
            (ColumnBinner::Categorical { .. }, Cell::Number(x)) => {
                let slot = if x.is_finite() {
                    self.slot(Some(&number_text(x)))
                } else {
                    CategorySlot::Missing
                };
                Self::push_slot(sample, slot)
            }
        }
    }

    fn push_column(
        &self,
        sample: &mut ColumnSample,
        column: &LiveColumn<'_>,
        range: std::ops::Range<usize>,
    ) {
        match column {
            LiveColumn::Numeric(v) => {
                for &x in &v[range] {
                    self.push_number(sample, x);
                }
            }
            LiveColumn::Categorical(v) => {
                for t in &v[range] {
                    Self::push_slot(sample, self.slot(*t));
                }
            }
            LiveColumn::Slots(v) => {
                for &slot in &v[range] {
                    Self::push_slot(sample, slot);
                }
            }
        }
    }

    fn accepts(&self, column: &LiveColumn<'_>) -> bool {
        matches!(
            (self, column),
            (ColumnBinner::Numeric { .. }, LiveColumn::Numeric(_))
                | (
                    ColumnBinner::Categorical { .. },
                    LiveColumn::Categorical(_) | LiveColumn::Slots(_)
                )
        )
    }
}

fn number_text(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

impl Binner {
    /// Compiles a profile (validate it first when it comes from outside).
    pub fn new(profile: impl Into<Arc<ReferenceProfile>>) -> Self {
        let profile = profile.into();
        Binner {
            columns: profile.columns.iter().map(ColumnBinner::new).collect(),
            prediction: profile.prediction.as_ref().map(ColumnBinner::new),
            profile,
        }
    }

    /// The profile.
    pub fn profile(&self) -> &Arc<ReferenceProfile> {
        &self.profile
    }

    /// An empty sample over this profile.
    pub fn empty_sample(&self) -> LiveSample {
        LiveSample {
            rows: 0,
            columns: self
                .columns
                .iter()
                .map(ColumnBinner::empty_sample)
                .collect(),
            prediction: self.prediction.as_ref().map(ColumnBinner::empty_sample),
        }
    }

    /// Where a categorical value of column `column` falls: a kept category, `Missing` for
    /// `None` or the empty text, otherwise `Unknown` — or `Other` when the profile lumped rare
    /// categories, since it cannot tell a lumped category from a new one (callers that know the
    /// full training vocabulary, as the core's encoders do, pass resolved slots instead).
    pub fn slot(&self, column: usize, text: Option<&str>) -> CategorySlot {
        self.columns
            .get(column)
            .map_or(CategorySlot::Unknown, |b| b.slot(text))
    }

    /// Like [`slot`](Self::slot), for the prediction column.
    pub fn prediction_slot(&self, text: Option<&str>) -> CategorySlot {
        self.prediction
            .as_ref()
            .map_or(CategorySlot::Unknown, |b| b.slot(text))
    }

    /// Checks that a batch fits the profile and returns its row count.
    pub fn check_batch(
        &self,
        columns: &[LiveColumn<'_>],
        prediction: Option<&LiveColumn<'_>>,
    ) -> Result<usize> {
        if columns.len() != self.columns.len() {
            return Err(Error::mismatch(
                "number of columns",
                self.columns.len().to_string(),
                columns.len().to_string(),
            ));
        }
        let n = columns
            .first()
            .map(LiveColumn::len)
            .or(prediction.map(LiveColumn::len))
            .unwrap_or(0);
        for (i, (binner, column)) in self.columns.iter().zip(columns).enumerate() {
            let name = &self.profile.columns[i].name;
            if !binner.accepts(column) {
                return Err(Error::mismatch(
                    format!("column `{name}`"),
                    format!("{} values", self.profile.columns[i].distribution.kind()),
                    "values of the other kind",
                ));
            }
            if column.len() != n {
                return Err(Error::mismatch(
                    format!("rows of column `{name}`"),
                    n.to_string(),
                    column.len().to_string(),
                ));
            }
        }
        if let (Some(binner), Some(column)) = (&self.prediction, prediction) {
            if !binner.accepts(column) || column.len() != n {
                return Err(Error::mismatch(
                    "prediction column",
                    format!("{n} values of the profiled kind"),
                    format!("{} values", column.len()),
                ));
            }
        }
        Ok(n)
    }

    /// Adds rows `range` of a checked batch to `sample`.
    pub(crate) fn push_rows(
        &self,
        sample: &mut LiveSample,
        columns: &[LiveColumn<'_>],
        prediction: Option<&LiveColumn<'_>>,
        range: std::ops::Range<usize>,
    ) {
        sample.rows += range.len() as u64;
        for ((binner, s), column) in self.columns.iter().zip(&mut sample.columns).zip(columns) {
            binner.push_column(s, column, range.clone());
        }
        if let (Some(binner), Some(s), Some(column)) =
            (&self.prediction, &mut sample.prediction, prediction)
        {
            binner.push_column(s, column, range);
        }
    }

    /// Bins a whole batch (columns in profile order; predictions optional) into a new sample.
    pub fn sample(
        &self,
        columns: &[LiveColumn<'_>],
        prediction: Option<&LiveColumn<'_>>,
    ) -> Result<LiveSample> {
        let n = self.check_batch(columns, prediction)?;
        let mut sample = self.empty_sample();
        self.push_rows(&mut sample, columns, prediction, 0..n);
        Ok(sample)
    }

    /// Adds one row (cells in profile order) to `sample`.
    pub fn push_row(
        &self,
        sample: &mut LiveSample,
        row: &[Cell<'_>],
        prediction: Option<Cell<'_>>,
    ) -> Result<()> {
        if row.len() != self.columns.len() {
            return Err(Error::mismatch(
                "cells in the row",
                self.columns.len().to_string(),
                row.len().to_string(),
            ));
        }
        sample.rows += 1;
        for ((binner, s), &cell) in self.columns.iter().zip(&mut sample.columns).zip(row) {
            binner.push_cell(s, cell);
        }
        if let (Some(binner), Some(s), Some(cell)) =
            (&self.prediction, &mut sample.prediction, prediction)
        {
            binner.push_cell(s, cell);
        }
        Ok(())
    }
}
