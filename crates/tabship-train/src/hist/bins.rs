//! Binning: every feature's values mapped once to u8 codes, column by column.
//!
//! Per feature the distinct non-missing values are counted. With at most `max_bins − 1` of them
//! every distinct value gets its own bin (exact, as LightGBM); with more, consecutive distinct
//! values are grouped greedily into bins of about equal row counts (quantile bins). The
//! boundary between two consecutive bins is the **midpoint** of the largest value of the lower
//! bin and the smallest value of the upper one (falling back to the lower value when the
//! midpoint rounds onto the upper value), so every training value of bins `≤ b` satisfies
//! `x <= threshold(b)` and every other does not.
//!
//! A feature with `v` value bins uses codes `0..v` for values and code `v` for missing (NaN):
//! the missing bin is the last, and exists in every feature's histogram (empty when nothing is
//! missing). A 0/1 one-hot column becomes two value bins; its distinct values are found in one
//! pass without sorting (see [`distinct_values`]).
//!
//! **Exclusive feature bundling, exact.** A run of consecutive features with two value bins and
//! nothing missing (the one-hot columns of one categorical) where no row is off bin 0 in two of
//! them is also stored as one [`Bundle`] column: code 0 where every member's is 0, else 1 + the
//! index of the member whose is 1. A histogram reads the bundle once for all its members instead
//! of once per member (see `histogram::build_bundle`); the members' own columns stay for
//! partitioning rows. Nothing is approximated: a pair of columns sharing a row is never bundled.

use super::columns::FeatureColumns;
use crate::{Error, Result};

/// Features binned once: u8 codes (≤ 255 bins per feature incl. the missing bin), column-major.
#[derive(Debug, Clone)]
pub(crate) struct BinnedMatrix {
    n_rows: usize,
    n_features: usize,
    /// Feature `f`'s codes are `codes[f * n_rows..(f + 1) * n_rows]`.
    codes: Vec<u8>,
    /// Per feature, the upper boundary of every value bin but the last: value bin `b` holds the
    /// values `x` with `thresholds[b − 1] < x <= thresholds[b]`.
    thresholds: Vec<Vec<f64>>,
    /// Exclusive runs of 0/1 features, each read as one column.
    bundles: Vec<Bundle>,
    /// Every feature once, in order: alone or in its bundle.
    units: Vec<Unit>,
}

/// A run of consecutive features `first..first + members`, each with two value bins and no
/// missing value, no two of them off bin 0 in one row: `codes[r]` is 0 when every member's code
/// is 0 in row `r`, else 1 + the index of the member whose code is 1.
#[derive(Debug, Clone)]
pub(crate) struct Bundle {
    /// The first member feature.
    pub(crate) first: usize,
    /// Member features.
    pub(crate) members: usize,
    /// One code per row.
    pub(crate) codes: Vec<u8>,
}

/// Most members of a bundle: codes `1..=MAX_MEMBERS` name them.
const MAX_MEMBERS: usize = 254;

impl Bundle {
    /// A bundle of the one feature `f` with codes `column` (0/1).
    fn start(f: usize, column: &[u8]) -> Self {
        Bundle {
            first: f,
            members: 1,
            codes: column.to_vec(),
        }
    }

    /// Adds the next feature (codes `column`, 0/1) when no row is off bin 0 in it and in a
    /// member already; returns whether it joined.
    fn try_add(&mut self, column: &[u8]) -> bool {
        if self.members >= MAX_MEMBERS
            || column
                .iter()
                .zip(&self.codes)
                .any(|(&c, &b)| c != 0 && b != 0)
        {
            return false;
        }
        let code = self.members as u8 + 1;
        for (b, &c) in self.codes.iter_mut().zip(column) {
            if c != 0 {
                *b = code;
            }
        }
        self.members += 1;
        true
    }

    /// The member features.
    pub(crate) fn features(&self) -> std::ops::Range<usize> {
        self.first..self.first + self.members
    }
}

/// What one pass over the rows builds a histogram of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    /// One feature.
    Feature(usize),
    /// A bundle (an index into the matrix's bundles).
    Bundle(usize),
}

/// Exclusive runs of 0/1 features of the column-major `codes`, two members or more each.
fn find_bundles(codes: &[u8], n_rows: usize, thresholds: &[Vec<f64>]) -> Vec<Bundle> {
    let mut bundles = Vec::new();
    let mut current: Option<Bundle> = None;
    for (f, t) in thresholds.iter().enumerate() {
        let column = &codes[f * n_rows..(f + 1) * n_rows];
        // Two value bins (one threshold), nothing in the missing bin (code 2).
        let binary = t.len() == 1 && column.iter().all(|&c| c < 2);
        let joined = binary && current.as_mut().is_some_and(|b| b.try_add(column));
        if !joined {
            bundles.extend(current.take().filter(|b| b.members >= 2));
            current = binary.then(|| Bundle::start(f, column));
        }
    }
    bundles.extend(current.filter(|b| b.members >= 2));
    bundles
}

/// Every feature once, in order, bundled ones as their bundle.
fn units_of(n_features: usize, bundles: &[Bundle]) -> Vec<Unit> {
    let mut units = Vec::with_capacity(n_features);
    let mut f = 0;
    let mut next = bundles.iter().enumerate().peekable();
    while f < n_features {
        if let Some((b, bundle)) = next.next_if(|(_, b)| b.first == f) {
            units.push(Unit::Bundle(b));
            f += bundle.members;
        } else {
            units.push(Unit::Feature(f));
            f += 1;
        }
    }
    units
}

/// One feature, binned.
struct BinnedColumn {
    thresholds: Vec<f64>,
}

impl BinnedMatrix {
    /// Bins the encoded features (NaN = missing) with at most `max_bins` (2..=255) bins per
    /// feature, missing values in their own bin, reading a few feature columns at a time.
    pub(crate) fn new(x: &dyn FeatureColumns, max_bins: usize, threads: usize) -> Result<Self> {
        if !(2..=255).contains(&max_bins) {
            return Err(Error::InvalidOption {
                option: "max-bins",
                reason: format!("must be in 2..=255, got {max_bins}"),
            });
        }
        let (n_rows, n_features) = (x.n_rows(), x.n_features());
        if u32::try_from(n_rows).is_err() {
            return Err(Error::Data(format!(
                "the histogram learner takes at most {} rows, got {n_rows}",
                u32::MAX
            )));
        }
        let mut codes = vec![0u8; n_rows * n_features];
        let mut thresholds = vec![Vec::new(); n_features];
        if n_rows > 0 && n_features > 0 {
            let columns: Vec<(usize, &mut [u8])> = codes.chunks_mut(n_rows).enumerate().collect();
            let threads = threads.clamp(1, n_features);
            let per_thread = n_features.div_ceil(threads);
            let mut groups: Vec<Vec<(usize, &mut [u8])>> = Vec::new();
            let mut columns = columns.into_iter();
            loop {
                let group: Vec<_> = columns.by_ref().take(per_thread).collect();
                if group.is_empty() {
                    break;
                }
                groups.push(group);
            }
            let results: Vec<Result<Vec<(usize, BinnedColumn)>>> = std::thread::scope(|scope| {
                let handles: Vec<_> = groups
                    .into_iter()
                    .map(|group| {
                        scope.spawn(move || {
                            let mut done = Vec::with_capacity(group.len());
                            let mut group = group.into_iter().peekable();
                            let mut block: Vec<Vec<f64>> = Vec::new();
                            while group.peek().is_some() {
                                let mut outs: Vec<(usize, &mut [u8])> =
                                    group.by_ref().take(GATHER).collect();
                                let first = outs[0].0;
                                x.gather(first..first + outs.len(), &mut block)?;
                                for ((f, out), column) in outs.iter_mut().zip(&block) {
                                    let binned = bin_column(column, max_bins - 1, out)
                                        .map_err(|e| feature_error(*f, e))?;
                                    done.push((*f, binned));
                                }
                            }
                            Ok(done)
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.join().unwrap_or_else(|_| {
                            Err(Error::Data("a binning thread stopped early".into()))
                        })
                    })
                    .collect()
            });
            for result in results {
                for (f, column) in result? {
                    thresholds[f] = column.thresholds;
                }
            }
        }
        let bundles = find_bundles(&codes, n_rows, &thresholds);
        let units = units_of(n_features, &bundles);
        Ok(BinnedMatrix {
            n_rows,
            n_features,
            codes,
            thresholds,
            bundles,
            units,
        })
    }

    /// The same matrix with no bundle: every feature read alone (tests compare the two).
    #[cfg(test)]
    pub(crate) fn without_bundles(mut self) -> Self {
        self.bundles.clear();
        self.units = units_of(self.n_features, &[]);
        self
    }

    /// Every feature once, in order: alone or as its bundle.
    pub(crate) fn units(&self) -> &[Unit] {
        &self.units
    }

    /// Bundle `b`.
    pub(crate) fn bundle(&self, b: usize) -> &Bundle {
        &self.bundles[b]
    }

    /// The features `unit` covers.
    pub(crate) fn unit_features(&self, unit: Unit) -> std::ops::Range<usize> {
        match unit {
            Unit::Feature(f) => f..f + 1,
            Unit::Bundle(b) => self.bundles[b].features(),
        }
    }

    /// Rows binned.
    #[allow(dead_code, reason = "called by gradient boosting (i17-boost)")]
    pub(crate) fn n_rows(&self) -> usize {
        self.n_rows
    }

    /// Features binned.
    pub(crate) fn n_features(&self) -> usize {
        self.n_features
    }

    /// Feature `f`'s codes, one per row.
    pub(crate) fn column(&self, f: usize) -> &[u8] {
        &self.codes[f * self.n_rows..(f + 1) * self.n_rows]
    }

    /// Value bins of feature `f` (its missing bin's code).
    pub(crate) fn value_bins(&self, f: usize) -> usize {
        self.thresholds[f].len() + 1
    }

    /// The threshold of a split sending value bins `≤ b` left: every training value of those bins
    /// is `<= threshold`, every other is not. The last value bin (all values left, only missing
    /// right) gets `f64::MAX`.
    pub(crate) fn threshold(&self, f: usize, b: usize) -> f64 {
        self.thresholds[f].get(b).copied().unwrap_or(f64::MAX)
    }
}

/// Feature columns read at once (one pass over a row-major matrix reads them from the same
/// cache lines; an encoder encodes their schema columns once).
const GATHER: usize = 8;

fn feature_error(f: usize, e: Error) -> Error {
    match e {
        Error::Data(message) => Error::Data(format!("encoded feature {f}: {message}")),
        other => other,
    }
}

/// The distinct non-missing values of `column`, ascending, with their counts, when there are at
/// most `limit` of them; `None` beyond. One pass and no sort: cheap for one-hot columns.
fn distinct_values(column: &[f64], limit: usize) -> Option<Vec<(f64, usize)>> {
    let mut distinct: Vec<(f64, usize)> = Vec::new();
    let mut last = 0usize;
    for &x in column {
        if x.is_nan() {
            continue;
        }
        // Runs of one value (a one-hot column's zeros) hit the last slot without a search.
        if distinct.get(last).is_some_and(|&(v, _)| v == x) {
            distinct[last].1 += 1;
            continue;
        }
        let at = distinct.partition_point(|&(v, _)| v < x);
        if distinct.get(at).is_some_and(|&(v, _)| v == x) {
            distinct[at].1 += 1;
            last = at;
        } else if distinct.len() < limit {
            distinct.insert(at, (x, 1));
            last = at;
        } else {
            return None;
        }
    }
    Some(distinct)
}

/// Every distinct non-missing value with its count, ascending (`-0.0` and `0.0` are one value).
fn sorted_distinct(column: &[f64]) -> Vec<(f64, usize)> {
    let mut values: Vec<f64> = column.iter().copied().filter(|x| !x.is_nan()).collect();
    values.sort_unstable_by(f64::total_cmp);
    let mut distinct: Vec<(f64, usize)> = Vec::new();
    for x in values {
        match distinct.last_mut() {
            Some((v, n)) if *v == x => *n += 1,
            _ => distinct.push((x, 1)),
        }
    }
    distinct
}

/// The boundary between consecutive distinct values `a < b`: their midpoint, or `a` when the
/// midpoint is not below `b` (adjacent floats).
fn boundary(a: f64, b: f64) -> f64 {
    let mid = a / 2.0 + b / 2.0;
    if mid >= a && mid < b { mid } else { a }
}

/// Boundaries grouping `distinct` (ascending, with counts) into at most `max_value_bins` bins:
/// one per gap when they fit, else greedy bins of about equal row counts.
fn boundaries(distinct: &[(f64, usize)], max_value_bins: usize) -> Vec<f64> {
    if distinct.len() <= max_value_bins {
        return distinct
            .windows(2)
            .map(|w| boundary(w[0].0, w[1].0))
            .collect();
    }
    let mut remaining: usize = distinct.iter().map(|&(_, n)| n).sum();
    let mut bins_left = max_value_bins;
    let mut in_bin = 0usize;
    let mut out = Vec::with_capacity(max_value_bins - 1);
    for (i, w) in distinct.windows(2).enumerate() {
        in_bin += w[0].1;
        let values_after = distinct.len() - 1 - i;
        let target = remaining as f64 / bins_left as f64;
        // Cut when this bin holds its share, or when every later value needs a bin of its own.
        if bins_left > 1 && (in_bin as f64 >= target || values_after < bins_left) {
            out.push(boundary(w[0].0, w[1].0));
            remaining -= in_bin;
            in_bin = 0;
            bins_left -= 1;
        }
    }
    out
}

/// Bins one column into `out`: codes `0..v` for its `v ≤ max_value_bins` value bins, `v` for
/// missing.
fn bin_column(column: &[f64], max_value_bins: usize, out: &mut [u8]) -> Result<BinnedColumn> {
    if let Some(x) = column.iter().find(|x| x.is_infinite()) {
        return Err(Error::Data(format!("`{x}` is not finite")));
    }
    let distinct =
        distinct_values(column, max_value_bins).unwrap_or_else(|| sorted_distinct(column));
    let thresholds = boundaries(&distinct, max_value_bins);
    let missing = thresholds.len() as u8 + 1;
    for (code, &x) in out.iter_mut().zip(column) {
        *code = if x.is_nan() {
            missing
        } else {
            thresholds.partition_point(|&t| x > t) as u8
        };
    }
    Ok(BinnedColumn { thresholds })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn few_distinct_values_get_one_bin_each_and_missing_the_last() {
        let x = array![
            [1.0, 0.0],
            [3.0, 1.0],
            [f64::NAN, 0.0],
            [2.0, 1.0],
            [3.0, -0.0]
        ];
        let m = BinnedMatrix::new(&x.view(), 255, 2).unwrap();
        assert_eq!(m.column(0), &[0, 2, 3, 1, 2]);
        assert_eq!(m.value_bins(0), 3);
        assert_eq!((m.threshold(0, 0), m.threshold(0, 1)), (1.5, 2.5));
        assert_eq!(m.column(1), &[0, 1, 0, 1, 0]);
        assert_eq!(m.value_bins(1), 2);
        assert_eq!(m.threshold(1, 1), f64::MAX);
    }

    #[test]
    fn many_values_are_grouped_into_at_most_max_bins_minus_one() {
        let x = ndarray::Array2::from_shape_fn((1000, 1), |(i, _)| (i % 300) as f64);
        let m = BinnedMatrix::new(&x.view(), 16, 1).unwrap();
        assert!(
            m.value_bins(0) <= 15 && m.value_bins(0) >= 14,
            "{}",
            m.value_bins(0)
        );
    }

    #[test]
    fn exclusive_runs_of_binary_columns_are_bundled_and_sharing_ones_are_not() {
        // Columns 0-2: one-hot (exclusive); 3: numeric; 4-5: 0/1 sharing row 0; 6: 0/1 with a
        // missing value; 7-8: exclusive again.
        let nan = f64::NAN;
        let x = array![
            [1.0, 0.0, 0.0, 5.0, 1.0, 1.0, 0.0, 1.0, 0.0],
            [0.0, 1.0, 0.0, 6.0, 0.0, 0.0, 1.0, 0.0, 1.0],
            [0.0, 0.0, 1.0, 7.0, 1.0, 0.0, nan, 0.0, 0.0],
            [0.0, 1.0, 0.0, 8.0, 0.0, 1.0, 0.0, 0.0, 1.0]
        ];
        let m = BinnedMatrix::new(&x.view(), 255, 1).unwrap();
        assert_eq!(
            m.units(),
            &[
                Unit::Bundle(0),
                Unit::Feature(3),
                Unit::Feature(4),
                Unit::Feature(5),
                Unit::Feature(6),
                Unit::Bundle(1),
            ]
        );
        assert_eq!(m.bundle(0).features(), 0..3);
        assert_eq!(m.bundle(0).codes, vec![1, 2, 3, 2]);
        assert_eq!(m.bundle(1).features(), 7..9);
        assert_eq!(m.bundle(1).codes, vec![1, 2, 0, 2]);
        let plain = m.without_bundles();
        assert_eq!(plain.units().len(), 9);
    }

    #[test]
    fn max_bins_out_of_range_and_infinities_are_refused() {
        let x = array![[1.0], [2.0]];
        let e = BinnedMatrix::new(&x.view(), 256, 1)
            .unwrap_err()
            .to_string();
        assert!(e.contains("max-bins") && e.contains("256"), "{e}");
        let x = array![[1.0, f64::INFINITY]];
        let e = BinnedMatrix::new(&x.view(), 255, 1)
            .unwrap_err()
            .to_string();
        assert!(e.contains("feature 1") && e.contains("inf"), "{e}");
    }
}
