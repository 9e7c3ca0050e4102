//! The reference profile: a bounded summary of the training distribution of every column and of
//! the model's predictions, captured once at fit time and stored in the artifact.
//!
//! Its size depends on the number of columns, bins and kept categories, never on the number of
//! training rows: a numeric column keeps its moments and two quantile histograms (a coarse one for
//! PSI, Jensen–Shannon, Hellinger and chi-square, a fine one for Kolmogorov–Smirnov and
//! Wasserstein), a categorical column its `max_categories` most frequent categories with their
//! counts and one lumped count for the rest. A numeric column with few distinct values (at most
//! [`ProfileOptions::exact_values`], default [`DEFAULT_EXACT_VALUES`]: flags, counts, ratings)
//! also keeps every distinct value with its count, so the report compares its mix of values
//! exactly, as it does a categorical column's: quantile bins of a 0/1 column collapse into one
//! `[0, 1]` bin that no shift of the share of ones can move.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Limits a profile must respect to be accepted (profiles cross trust boundaries inside
/// artifacts, so every length is bounded before anything is allocated from it).
pub mod limits {
    /// Most edges of one histogram (coarse or fine).
    pub const MAX_EDGES: usize = 4097;
    /// Most categories kept for one column.
    pub const MAX_CATEGORIES: usize = 65_536;
    /// Most exact values kept for one numeric column.
    pub const MAX_EXACT_VALUES: usize = 4096;
    /// Most profiled columns.
    pub const MAX_COLUMNS: usize = 100_000;
    /// Longest column or category name, in bytes.
    pub const MAX_NAME_BYTES: usize = 65_536;
}

/// Coarse quantile bins per numeric column by default (plus underflow and overflow).
pub const DEFAULT_BINS: usize = 10;
/// Fine quantile bins per numeric column by default, used by Kolmogorov–Smirnov and Wasserstein.
pub const DEFAULT_FINE_BINS: usize = 100;
/// Categories kept per categorical column by default; rarer ones are lumped together.
pub const DEFAULT_MAX_CATEGORIES: usize = 100;
/// A numeric column with at most this many distinct values is profiled by its exact values too
/// (by default): 20 covers flags, counts (rooms, fireplaces, children), ratings and small
/// ordinal codes, and stays far below the 100 fine bins a continuous column gets.
pub const DEFAULT_EXACT_VALUES: usize = 20;

/// How a profile is captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProfileOptions {
    /// Coarse quantile bins (default 10).
    pub bins: usize,
    /// Fine quantile bins (default 100).
    pub fine_bins: usize,
    /// Most frequent categories kept per column (default 100).
    pub max_categories: usize,
    /// Numeric columns with at most this many distinct values are also profiled by their
    /// exact values (default [`DEFAULT_EXACT_VALUES`]; 0 never does).
    pub exact_values: usize,
}

impl Default for ProfileOptions {
    fn default() -> Self {
        ProfileOptions {
            bins: DEFAULT_BINS,
            fine_bins: DEFAULT_FINE_BINS,
            max_categories: DEFAULT_MAX_CATEGORIES,
            exact_values: DEFAULT_EXACT_VALUES,
        }
    }
}

impl ProfileOptions {
    /// Checks the options against the [`limits`].
    pub fn validate(&self) -> Result<()> {
        for (option, value, max) in [
            ("bins", self.bins, limits::MAX_EDGES - 1),
            ("fine_bins", self.fine_bins, limits::MAX_EDGES - 1),
            (
                "max_categories",
                self.max_categories,
                limits::MAX_CATEGORIES,
            ),
        ] {
            if value == 0 || value > max {
                return Err(Error::InvalidOption {
                    option,
                    reason: format!("must be between 1 and {max}, got `{value}`"),
                });
            }
        }
        if self.exact_values > limits::MAX_EXACT_VALUES {
            return Err(Error::InvalidOption {
                option: "exact_values",
                reason: format!(
                    "must be at most {}, got `{}`",
                    limits::MAX_EXACT_VALUES,
                    self.exact_values
                ),
            });
        }
        Ok(())
    }
}

/// The reference distribution of every input column and of the model's predictions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceProfile {
    /// One profile per input column, in the order live data is given.
    pub columns: Vec<ColumnProfile>,
    /// The distribution of the model's predictions on the reference rows: class labels as
    /// categories for a classifier, binned values for a regressor.
    #[serde(default)]
    pub prediction: Option<ColumnProfile>,
}

/// The reference distribution of one column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnProfile {
    /// The column's name.
    pub name: String,
    /// Its distribution.
    pub distribution: Distribution,
}

/// A numeric or categorical distribution (tagged by `type`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Distribution {
    /// Numbers.
    Numeric(NumericProfile),
    /// Categories.
    Categorical(CategoricalProfile),
}

impl Distribution {
    /// `numeric` or `categorical`.
    pub fn kind(&self) -> &'static str {
        match self {
            Distribution::Numeric(_) => "numeric",
            Distribution::Categorical(_) => "categorical",
        }
    }
}

/// The reference distribution of a numeric column.
///
/// Histograms share one layout. With edges `e[0] < e[1] < … < e[m-1]` there are `m + 1` slots:
/// slot 0 counts values below `e[0]` (underflow), slot `i` (1 ≤ i < m) values in `(e[i-1], e[i]]`
/// (the first one closed: `[e[0], e[1]]`), slot `m` values above `e[m-1]` (overflow). Edges are
/// quantiles of the reference values (actual values, lower interpolation) with duplicates removed,
/// so `e[0]` is the minimum and `e[m-1]` the maximum; a constant column has the two edges `[c, c]`.
/// A column without any value has no edges and a single slot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericProfile {
    /// Values present (finite).
    pub count: u64,
    /// Values missing (NaN or infinite).
    pub missing: u64,
    /// Mean of the present values (0 when there are none).
    pub mean: f64,
    /// Population standard deviation of the present values (0 when there are none).
    pub std: f64,
    /// Smallest value (0 when there are none).
    pub min: f64,
    /// Largest value (0 when there are none).
    pub max: f64,
    /// Coarse quantile edges (default 10 bins).
    pub edges: Vec<f64>,
    /// Reference counts in the coarse slots: `edges.len() + 1` entries (1 without edges).
    pub counts: Vec<u64>,
    /// Fine quantile edges (default 100 bins).
    pub fine_edges: Vec<f64>,
    /// Reference counts in the fine slots: `fine_edges.len() + 1` entries (1 without edges).
    pub fine_counts: Vec<u64>,
    /// Every distinct value with its count, for a column with few of them (format 1.3 of the
    /// artifact; absent from older profiles and for columns with more distinct values than
    /// [`ProfileOptions::exact_values`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<ExactValues>,
}

/// The distinct values of a numeric column with their counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExactValues {
    /// The distinct present values, strictly increasing.
    pub values: Vec<f64>,
    /// How many reference rows have each value (all positive, adding up to the column's count).
    pub counts: Vec<u64>,
}

impl ExactValues {
    /// Distinct values of sorted finite values with their counts, or `None` when there are
    /// none or more than `max` of them.
    fn of_sorted(sorted: &[f64], max: usize) -> Option<Self> {
        let mut values: Vec<f64> = Vec::new();
        let mut counts: Vec<u64> = Vec::new();
        for &x in sorted {
            // `==`, not the bits: -0 and 0 are one value, as `slot_of` sees them.
            if values.last() == Some(&x) {
                if let Some(c) = counts.last_mut() {
                    *c += 1;
                }
            } else {
                if values.len() == max {
                    return None;
                }
                values.push(x);
                counts.push(1);
            }
        }
        (!values.is_empty()).then_some(ExactValues { values, counts })
    }

    /// The index of `x` among the values, if it is one of them.
    #[inline]
    pub fn index_of(&self, x: f64) -> Option<usize> {
        let i = self.values.partition_point(|&v| v < x);
        (self.values.get(i) == Some(&x)).then_some(i)
    }

    fn validate(&self, field: &str, total: u64) -> Result<()> {
        if self.values.is_empty() || self.values.len() > limits::MAX_EXACT_VALUES {
            return Err(Error::profile(
                field,
                format!(
                    "expected 1 to {} values, got `{}`",
                    limits::MAX_EXACT_VALUES,
                    self.values.len()
                ),
            ));
        }
        if let Some(x) = self.values.iter().find(|x| !x.is_finite()) {
            return Err(Error::profile(
                field,
                format!("expected finite values, got `{x}`"),
            ));
        }
        if self.values.windows(2).any(|w| w[0] >= w[1]) {
            return Err(Error::profile(field, "values are not strictly increasing"));
        }
        if self.counts.len() != self.values.len() || self.counts.contains(&0) {
            return Err(Error::profile(
                field,
                format!(
                    "{} values need as many positive counts, got `{:?}`",
                    self.values.len(),
                    self.counts
                ),
            ));
        }
        let sum = self
            .counts
            .iter()
            .try_fold(0u64, |s, &c| s.checked_add(c))
            .ok_or_else(|| Error::profile(field, "counts overflow"))?;
        if sum != total {
            return Err(Error::profile(
                field,
                format!("counts add up to `{sum}`, the column has `{total}` values"),
            ));
        }
        Ok(())
    }
}

/// The reference distribution of a categorical column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoricalProfile {
    /// The most frequent categories, by decreasing count (ties by name).
    pub categories: Vec<String>,
    /// The count of each kept category.
    pub counts: Vec<u64>,
    /// Rows in reference categories that were not kept (lumped together).
    pub other: u64,
    /// How many distinct categories were lumped into `other`.
    pub other_categories: u64,
    /// Missing values.
    pub missing: u64,
}

/// The slot index of `x` in a histogram with `edges` (see [`NumericProfile`]).
#[inline]
pub fn slot_of(edges: &[f64], x: f64) -> usize {
    let m = edges.len();
    if m == 0 {
        return 0;
    }
    if x < edges[0] {
        0
    } else if x > edges[m - 1] {
        m
    } else {
        edges.partition_point(|&e| e < x).max(1)
    }
}

/// Quantile edges of sorted finite values: `values[floor(j (n-1) / bins)]` for `j = 0..=bins`,
/// duplicates removed, at least two edges.
fn quantile_edges(sorted: &[f64], bins: usize) -> Vec<f64> {
    let n = sorted.len();
    if n == 0 {
        return Vec::new();
    }
    let mut edges: Vec<f64> = Vec::with_capacity(bins + 1);
    for j in 0..=bins {
        let index = ((j as u128 * (n as u128 - 1)) / bins as u128) as usize;
        let e = sorted[index];
        if edges.last() != Some(&e) {
            edges.push(e);
        }
    }
    if edges.len() == 1 {
        edges.push(edges[0]);
    }
    edges
}

/// Counts of sorted values in the slots of `edges`.
fn slot_counts(sorted: &[f64], edges: &[f64]) -> Vec<u64> {
    let mut counts = vec![0u64; edges.len() + 1];
    for &x in sorted {
        counts[slot_of(edges, x)] += 1;
    }
    counts
}

impl NumericProfile {
    /// Captures the distribution of `values`; NaN and infinite values count as missing.
    pub fn capture(values: &[f64], options: &ProfileOptions) -> Result<Self> {
        options.validate()?;
        let mut present: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        let missing = (values.len() - present.len()) as u64;
        present.sort_unstable_by(f64::total_cmp);
        let count = present.len() as u64;
        let (mean, std) = if present.is_empty() {
            (0.0, 0.0)
        } else {
            let n = present.len() as f64;
            let mean = present.iter().sum::<f64>() / n;
            let var = present.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
            (mean, var.sqrt())
        };
        let edges = quantile_edges(&present, options.bins);
        let fine_edges = quantile_edges(&present, options.fine_bins);
        Ok(NumericProfile {
            count,
            missing,
            mean,
            std,
            min: present.first().copied().unwrap_or(0.0),
            max: present.last().copied().unwrap_or(0.0),
            counts: slot_counts(&present, &edges),
            fine_counts: slot_counts(&present, &fine_edges),
            values: ExactValues::of_sorted(&present, options.exact_values),
            edges,
            fine_edges,
        })
    }

    fn validate(&self, field: &str) -> Result<()> {
        for (name, x) in [
            ("mean", self.mean),
            ("std", self.std),
            ("min", self.min),
            ("max", self.max),
        ] {
            if !x.is_finite() {
                return Err(Error::profile(
                    format!("{field}.{name}"),
                    format!("expected a finite number, got `{x}`"),
                ));
            }
        }
        if self.std < 0.0 || self.min > self.max {
            return Err(Error::profile(
                field,
                format!(
                    "inconsistent moments: std `{}`, min `{}`, max `{}`",
                    self.std, self.min, self.max
                ),
            ));
        }
        self.count
            .checked_add(self.missing)
            .ok_or_else(|| Error::profile(format!("{field}.count"), "count + missing overflows"))?;
        for (name, edges, counts) in [
            ("edges", &self.edges, &self.counts),
            ("fine_edges", &self.fine_edges, &self.fine_counts),
        ] {
            validate_histogram(&format!("{field}.{name}"), edges, counts, self.count)?;
        }
        if let Some(values) = &self.values {
            values.validate(&format!("{field}.values"), self.count)?;
        }
        Ok(())
    }
}

fn validate_histogram(field: &str, edges: &[f64], counts: &[u64], total: u64) -> Result<()> {
    if edges.len() > limits::MAX_EDGES {
        return Err(Error::profile(
            field,
            format!("more than {} edges: `{}`", limits::MAX_EDGES, edges.len()),
        ));
    }
    if edges.len() == 1 {
        return Err(Error::profile(field, "a single edge (a constant has two)"));
    }
    if let Some(x) = edges.iter().find(|x| !x.is_finite()) {
        return Err(Error::profile(
            field,
            format!("expected finite edges, got `{x}`"),
        ));
    }
    // Strictly increasing, except the two equal edges of a constant column.
    let constant = edges.len() == 2 && edges[0] == edges[1];
    if !constant && edges.windows(2).any(|w| w[0] >= w[1]) {
        return Err(Error::profile(field, "edges are not strictly increasing"));
    }
    if counts.len() != edges.len() + 1 {
        return Err(Error::profile(
            field,
            format!(
                "{} edges need {} counts, got `{}`",
                edges.len(),
                edges.len() + 1,
                counts.len()
            ),
        ));
    }
    let sum = counts
        .iter()
        .try_fold(0u64, |s, &c| s.checked_add(c))
        .ok_or_else(|| Error::profile(field, "counts overflow"))?;
    if sum != total {
        return Err(Error::profile(
            field,
            format!("counts add up to `{sum}`, the column has `{total}` values"),
        ));
    }
    Ok(())
}

impl CategoricalProfile {
    /// Captures the distribution of `values` (`None` and the empty text are missing).
    pub fn capture<'a, I>(values: I, options: &ProfileOptions) -> Result<Self>
    where
        I: IntoIterator<Item = Option<&'a str>>,
    {
        let mut counts: FxHashMap<&str, u64> = FxHashMap::default();
        let mut missing = 0u64;
        for value in values {
            match value {
                Some(text) if !text.is_empty() => *counts.entry(text).or_insert(0) += 1,
                _ => missing += 1,
            }
        }
        Self::from_counts(counts, missing, options)
    }

    /// Builds the profile from category counts (for dictionary-encoded data: count the codes,
    /// then pass `(text, count)` pairs). Categories with a zero count are ignored; repeated
    /// categories are added up.
    pub fn from_counts<'a, I>(counts: I, missing: u64, options: &ProfileOptions) -> Result<Self>
    where
        I: IntoIterator<Item = (&'a str, u64)>,
    {
        options.validate()?;
        let mut merged: FxHashMap<&str, u64> = FxHashMap::default();
        for (text, count) in counts {
            if count > 0 {
                *merged.entry(text).or_insert(0) += count;
            }
        }
        let mut sorted: Vec<(&str, u64)> = merged.into_iter().collect();
        sorted.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let kept = sorted.len().min(options.max_categories);
        let other: u64 = sorted[kept..].iter().map(|(_, c)| c).sum();
        Ok(CategoricalProfile {
            categories: sorted[..kept]
                .iter()
                .map(|(t, _)| (*t).to_owned())
                .collect(),
            counts: sorted[..kept].iter().map(|(_, c)| *c).collect(),
            other,
            other_categories: (sorted.len() - kept) as u64,
            missing,
        })
    }

    /// Rows with a value.
    pub fn count(&self) -> u64 {
        self.counts.iter().sum::<u64>() + self.other
    }

    fn validate(&self, field: &str) -> Result<()> {
        if self.categories.len() > limits::MAX_CATEGORIES {
            return Err(Error::profile(
                format!("{field}.categories"),
                format!(
                    "more than {} categories: `{}`",
                    limits::MAX_CATEGORIES,
                    self.categories.len()
                ),
            ));
        }
        if self.counts.len() != self.categories.len() {
            return Err(Error::profile(
                format!("{field}.counts"),
                format!(
                    "{} categories need as many counts, got `{}`",
                    self.categories.len(),
                    self.counts.len()
                ),
            ));
        }
        let mut seen = std::collections::HashSet::with_capacity(self.categories.len());
        for (i, c) in self.categories.iter().enumerate() {
            if c.is_empty() || c.len() > limits::MAX_NAME_BYTES {
                return Err(Error::profile(
                    format!("{field}.categories[{i}]"),
                    format!(
                        "expected 1 to {} bytes, got `{}`",
                        limits::MAX_NAME_BYTES,
                        c.len()
                    ),
                ));
            }
            if !seen.insert(c.as_str()) {
                return Err(Error::profile(
                    format!("{field}.categories[{i}]"),
                    format!("duplicate category `{c}`"),
                ));
            }
        }
        self.counts
            .iter()
            .chain([&self.other, &self.missing])
            .try_fold(0u64, |s, &c| s.checked_add(c))
            .ok_or_else(|| Error::profile(format!("{field}.counts"), "counts overflow"))?;
        Ok(())
    }
}

impl ColumnProfile {
    /// Captures a numeric column.
    pub fn numeric(
        name: impl Into<String>,
        values: &[f64],
        options: &ProfileOptions,
    ) -> Result<Self> {
        Ok(ColumnProfile {
            name: name.into(),
            distribution: Distribution::Numeric(NumericProfile::capture(values, options)?),
        })
    }

    /// Captures a categorical column (`None` and the empty text are missing).
    pub fn categorical<'a, I>(
        name: impl Into<String>,
        values: I,
        options: &ProfileOptions,
    ) -> Result<Self>
    where
        I: IntoIterator<Item = Option<&'a str>>,
    {
        Ok(ColumnProfile {
            name: name.into(),
            distribution: Distribution::Categorical(CategoricalProfile::capture(values, options)?),
        })
    }

    /// Reference rows (present and missing).
    pub fn rows(&self) -> u64 {
        match &self.distribution {
            Distribution::Numeric(p) => p.count.saturating_add(p.missing),
            Distribution::Categorical(p) => p.count().saturating_add(p.missing),
        }
    }

    fn validate(&self, field: &str) -> Result<()> {
        if self.name.is_empty() || self.name.len() > limits::MAX_NAME_BYTES {
            return Err(Error::profile(
                format!("{field}.name"),
                format!(
                    "expected 1 to {} bytes, got `{}`",
                    limits::MAX_NAME_BYTES,
                    self.name.len()
                ),
            ));
        }
        match &self.distribution {
            Distribution::Numeric(p) => p.validate(field),
            Distribution::Categorical(p) => p.validate(field),
        }
    }
}

impl ReferenceProfile {
    /// Checks every field: bounded lengths, finite numbers, consistent counts, unique names.
    /// Run it on every profile read from outside before using it.
    pub fn validate(&self) -> Result<()> {
        if self.columns.len() > limits::MAX_COLUMNS {
            return Err(Error::profile(
                "columns",
                format!(
                    "more than {} columns: `{}`",
                    limits::MAX_COLUMNS,
                    self.columns.len()
                ),
            ));
        }
        let mut names = std::collections::HashSet::with_capacity(self.columns.len());
        for (i, column) in self.columns.iter().enumerate() {
            column.validate(&format!("columns[{i}]"))?;
            if !names.insert(column.name.as_str()) {
                return Err(Error::profile(
                    format!("columns[{i}].name"),
                    format!("duplicate column `{}`", column.name),
                ));
            }
        }
        if let Some(p) = &self.prediction {
            p.validate("prediction")?;
        }
        Ok(())
    }

    /// True when some numeric distribution (a column's or the predictions') keeps its exact
    /// values: such a profile needs format 1.3 of the artifact, whose older readers would
    /// silently ignore the values.
    pub fn has_exact_values(&self) -> bool {
        self.columns
            .iter()
            .chain(&self.prediction)
            .any(|c| matches!(&c.distribution, Distribution::Numeric(p) if p.values.is_some()))
    }

    /// A column's profile by name.
    pub fn column(&self, name: &str) -> Option<&ColumnProfile> {
        self.columns.iter().find(|c| c.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_follow_the_documented_layout() {
        let edges = [1.0, 2.0, 4.0];
        let slots: Vec<usize> = [0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 4.5]
            .iter()
            .map(|&x| slot_of(&edges, x))
            .collect();
        assert_eq!(slots, [0, 1, 1, 1, 2, 2, 3]);
        assert_eq!(slot_of(&[3.0, 3.0], 3.0), 1);
        assert_eq!(slot_of(&[3.0, 3.0], 2.0), 0);
        assert_eq!(slot_of(&[3.0, 3.0], 4.0), 2);
        assert_eq!(slot_of(&[], 4.0), 0);
    }

    #[test]
    fn numeric_capture_by_hand() {
        let values: Vec<f64> = (1..=10).map(f64::from).chain([f64::NAN]).collect();
        let options = ProfileOptions {
            bins: 2,
            fine_bins: 5,
            max_categories: 10,
            exact_values: 0,
        };
        let p = NumericProfile::capture(&values, &options).expect("valid");
        assert_eq!((p.count, p.missing), (10, 1));
        assert_eq!((p.mean, p.min, p.max), (5.5, 1.0, 10.0));
        assert!((p.std - 8.25f64.sqrt()).abs() < 1e-12);
        // floor(j * 9 / 2) for j = 0, 1, 2 → values[0], values[4], values[9]
        assert_eq!(p.edges, [1.0, 5.0, 10.0]);
        assert_eq!(p.counts, [0, 5, 5, 0]);
        assert_eq!(p.fine_edges, [1.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(p.fine_counts, [0, 2, 2, 2, 2, 2, 0]);
        p.validate("c").expect("valid");
    }

    #[test]
    fn few_distinct_values_are_kept_exactly() {
        let o = ProfileOptions::default();
        let flags: Vec<f64> = (0..100).map(|i| f64::from(u8::from(i % 6 == 0))).collect();
        let p = NumericProfile::capture(&flags, &o).expect("valid");
        let values = p.values.as_ref().expect("a 0/1 column keeps its values");
        assert_eq!(values.values, [0.0, 1.0]);
        assert_eq!(values.counts, [83, 17]);
        assert_eq!(
            (values.index_of(1.0), values.index_of(0.5)),
            (Some(1), None)
        );
        assert_eq!(values.index_of(-0.0), Some(0));
        p.validate("c").expect("valid");
        // a constant, and counts 0..4 with -0 among the zeros
        let constant = NumericProfile::capture(&[3.0; 4], &o).expect("valid");
        assert_eq!(constant.values.expect("kept").counts, [4]);
        let counts = [0.0, -0.0, 1.0, 4.0, 2.0, 2.0, f64::NAN];
        let p = NumericProfile::capture(&counts, &o).expect("valid");
        let values = p.values.expect("kept");
        assert_eq!(
            (values.values.as_slice(), values.counts.as_slice()),
            (&[0.0, 1.0, 2.0, 4.0][..], &[2, 1, 2, 1][..])
        );
        // 21 distinct values are too many by default; 0 turns the exact values off
        let many: Vec<f64> = (0..21).map(f64::from).collect();
        assert!(
            NumericProfile::capture(&many, &o)
                .expect("valid")
                .values
                .is_none()
        );
        let off = ProfileOptions {
            exact_values: 0,
            ..o
        };
        assert!(
            NumericProfile::capture(&flags, &off)
                .expect("valid")
                .values
                .is_none()
        );
        assert!(
            NumericProfile::capture(&[f64::NAN], &o)
                .expect("valid")
                .values
                .is_none()
        );
    }

    #[test]
    fn hostile_exact_values_are_refused() {
        let o = ProfileOptions::default();
        let good = NumericProfile::capture(&[0.0, 1.0, 1.0], &o).expect("valid");
        for edit in [
            |v: &mut ExactValues| v.values.reverse(),
            |v: &mut ExactValues| v.counts[0] = 5,
            |v: &mut ExactValues| v.counts[0] = 0,
            |v: &mut ExactValues| v.values[1] = f64::INFINITY,
            |v: &mut ExactValues| v.counts.truncate(1),
        ] {
            let mut p = good.clone();
            if let Some(v) = p.values.as_mut() {
                edit(v);
            }
            let err = p.validate("columns[0]").expect_err("refused").to_string();
            assert!(err.contains("columns[0].values"), "{err}");
        }
    }

    #[test]
    fn degenerate_columns_capture() {
        let o = ProfileOptions::default();
        let constant = NumericProfile::capture(&[7.0; 5], &o).expect("valid");
        assert_eq!(constant.edges, [7.0, 7.0]);
        assert_eq!(constant.counts, [0, 5, 0]);
        assert_eq!(constant.std, 0.0);
        constant.validate("c").expect("valid");
        let empty = NumericProfile::capture(&[f64::NAN, f64::INFINITY], &o).expect("valid");
        assert_eq!((empty.count, empty.missing), (0, 2));
        assert!(empty.edges.is_empty());
        assert_eq!(empty.counts, [0]);
        empty.validate("c").expect("valid");
    }

    #[test]
    fn categorical_capture_keeps_top_k() {
        let options = ProfileOptions {
            max_categories: 2,
            ..ProfileOptions::default()
        };
        let values = ["b", "a", "b", "c", "a", "d", "b", ""];
        let p =
            CategoricalProfile::capture(values.iter().map(|v| Some(*v)).chain([None]), &options)
                .expect("valid");
        assert_eq!(p.categories, ["b", "a"]);
        assert_eq!(p.counts, [3, 2]);
        assert_eq!((p.other, p.other_categories, p.missing), (2, 2, 2));
        assert_eq!(p.count(), 7);
    }

    #[test]
    fn hostile_profiles_are_refused() {
        let o = ProfileOptions::default();
        let good = NumericProfile::capture(&[1.0, 2.0, 3.0], &o).expect("valid");
        let mut p = good.clone();
        p.counts.pop();
        assert!(p.validate("c").is_err());
        let mut p = good.clone();
        p.edges[1] = f64::NAN;
        assert!(p.validate("c").is_err());
        let mut p = good.clone();
        p.fine_edges.reverse();
        assert!(p.validate("c").is_err());
        let mut p = good.clone();
        p.counts[1] = u64::MAX;
        assert!(p.validate("c").is_err());
        let mut p = good;
        p.std = -1.0;
        assert!(p.validate("c").is_err());
        let cat = CategoricalProfile {
            categories: vec!["a".into(), "a".into()],
            counts: vec![1, 1],
            other: 0,
            other_categories: 0,
            missing: 0,
        };
        let err = cat
            .validate("columns[0]")
            .expect_err("duplicate")
            .to_string();
        assert!(err.contains("duplicate category `a`"), "{err}");
    }
}
