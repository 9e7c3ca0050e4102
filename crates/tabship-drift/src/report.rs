//! Drift reports: every statistic of every column, the test that decides, and the dataset verdict.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::profile::{
    CategoricalProfile, ColumnProfile, Distribution, NumericProfile, ReferenceProfile,
};
use crate::sample::{CategoricalSample, ColumnSample, LiveSample, NumericSample};
use crate::stats;
use crate::{Error, Result};

/// The floor of the reference standard deviation used to scale Wasserstein and the mean shift
/// (as Evidently does): a constant reference column still gives finite results.
pub const MIN_SCALE: f64 = 1e-3;

/// A drift statistic that can decide a column's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Statistic {
    /// Kolmogorov–Smirnov p-value (numeric; drift when below the threshold).
    Ks,
    /// Chi-square p-value (categorical, or numeric over the coarse bins; drift when below).
    ChiSquare,
    /// Population stability index (drift when at or above the threshold).
    Psi,
    /// Jensen–Shannon distance, base 2 (drift when at or above).
    JensenShannon,
    /// Wasserstein-1 divided by the reference std (numeric; drift when at or above).
    Wasserstein,
    /// Hellinger distance (drift when at or above).
    Hellinger,
}

impl Statistic {
    /// The statistic's name, as in reports and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Statistic::Ks => "ks",
            Statistic::ChiSquare => "chi_square",
            Statistic::Psi => "psi",
            Statistic::JensenShannon => "jensen_shannon",
            Statistic::Wasserstein => "wasserstein",
            Statistic::Hellinger => "hellinger",
        }
    }

    /// True for p-value tests (drift when the value is below the threshold).
    pub fn is_p_value(self) -> bool {
        matches!(self, Statistic::Ks | Statistic::ChiSquare)
    }

    /// Parses a name as written by [`name`](Self::name).
    pub fn parse(name: &str) -> Option<Statistic> {
        [
            Statistic::Ks,
            Statistic::ChiSquare,
            Statistic::Psi,
            Statistic::JensenShannon,
            Statistic::Wasserstein,
            Statistic::Hellinger,
        ]
        .into_iter()
        .find(|s| s.name() == name)
    }
}

impl fmt::Display for Statistic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Thresholds and test choices. The defaults follow Evidently: with at most
/// `small_sample_rows` live values a column is judged by a p-value test (Kolmogorov–Smirnov for
/// numbers, chi-square for categories, drift when p < 0.05); with more, by a distance with a fixed
/// threshold (Wasserstein / ref std ≥ 0.1 for numbers, Jensen–Shannon ≥ 0.1 for categories), because
/// on large samples every p-value test flags differences too small to matter. The dataset drifts
/// when at least half of the columns do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DriftOptions {
    /// Live samples of at most this many values use p-value tests (default 1000).
    pub small_sample_rows: u64,
    /// Fixed statistic for numeric columns instead of the size-based choice.
    pub numeric_statistic: Option<Statistic>,
    /// Fixed statistic for categorical columns instead of the size-based choice.
    pub categorical_statistic: Option<Statistic>,
    /// Fixed statistic for named columns (wins over the two above).
    pub column_statistics: BTreeMap<String, Statistic>,
    /// Kolmogorov–Smirnov p-value threshold (default 0.05).
    pub ks_p_value: f64,
    /// Chi-square p-value threshold (default 0.05).
    pub chi_square_p_value: f64,
    /// PSI threshold (default 0.1).
    pub psi: f64,
    /// Jensen–Shannon distance threshold (default 0.1).
    pub jensen_shannon: f64,
    /// Normed Wasserstein threshold (default 0.1).
    pub wasserstein: f64,
    /// Hellinger distance threshold (default 0.1).
    pub hellinger: f64,
    /// A column also drifts when its missing rate exceeds the reference's by at least this much
    /// (absolute, default 0.1: a feed that stops sending a field); `None` disables the rule.
    pub missing_rate_increase: Option<f64>,
    /// The dataset drifts when the share of drifted columns is at least this (default 0.5).
    pub share: f64,
    /// Categories whose expected live count (reference share × live values) is below this are
    /// pooled into one bucket, with the next rarest ones until the pool's expected count reaches
    /// it too, before the categorical statistics (default 5, Cochran's rule):
    /// without it, chi-square is anti-conservative and Jensen–Shannon biased upwards on columns
    /// with many rare categories (a country column flags iid samples). New categories land in
    /// the pooled bucket, whose reference share is small, so they still show.
    pub min_expected_count: f64,
}

impl Default for DriftOptions {
    fn default() -> Self {
        DriftOptions {
            small_sample_rows: 1000,
            numeric_statistic: None,
            categorical_statistic: None,
            column_statistics: BTreeMap::new(),
            ks_p_value: 0.05,
            chi_square_p_value: 0.05,
            psi: 0.1,
            jensen_shannon: 0.1,
            wasserstein: 0.1,
            hellinger: 0.1,
            missing_rate_increase: Some(0.1),
            share: 0.5,
            min_expected_count: 5.0,
        }
    }
}

impl DriftOptions {
    /// The threshold of a statistic.
    pub fn threshold(&self, statistic: Statistic) -> f64 {
        match statistic {
            Statistic::Ks => self.ks_p_value,
            Statistic::ChiSquare => self.chi_square_p_value,
            Statistic::Psi => self.psi,
            Statistic::JensenShannon => self.jensen_shannon,
            Statistic::Wasserstein => self.wasserstein,
            Statistic::Hellinger => self.hellinger,
        }
    }

    /// Checks that every threshold is finite and in range.
    pub fn validate(&self) -> Result<()> {
        let checks: [(&'static str, f64, f64, f64); 9] = [
            ("min_expected_count", self.min_expected_count, 0.0, 1e9),
            ("ks_p_value", self.ks_p_value, 0.0, 1.0),
            ("chi_square_p_value", self.chi_square_p_value, 0.0, 1.0),
            ("psi", self.psi, 0.0, f64::MAX),
            ("jensen_shannon", self.jensen_shannon, 0.0, 1.0),
            ("wasserstein", self.wasserstein, 0.0, f64::MAX),
            ("hellinger", self.hellinger, 0.0, 1.0),
            ("share", self.share, 0.0, 1.0),
            (
                "missing_rate_increase",
                self.missing_rate_increase.unwrap_or(0.0),
                0.0,
                1.0,
            ),
        ];
        for (option, value, lo, hi) in checks {
            if !(value.is_finite() && value >= lo && value <= hi) {
                return Err(Error::InvalidOption {
                    option,
                    reason: format!("expected a number in [{lo}, {hi}], got `{value}`"),
                });
            }
        }
        for (name, statistic) in self
            .numeric_statistic
            .iter()
            .map(|s| ("numeric_statistic", s))
            .chain(
                self.categorical_statistic
                    .iter()
                    .map(|s| ("categorical_statistic", s)),
            )
        {
            if name == "categorical_statistic" && *statistic == Statistic::Wasserstein {
                return Err(Error::InvalidOption {
                    option: "categorical_statistic",
                    reason: "`wasserstein` needs numbers".into(),
                });
            }
            if name == "categorical_statistic" && *statistic == Statistic::Ks {
                return Err(Error::InvalidOption {
                    option: "categorical_statistic",
                    reason: "`ks` needs numbers".into(),
                });
            }
        }
        Ok(())
    }
}

/// One histogram of a report: reference and live shares over the same slots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// Slot labels (`< 17`, `(17, 22]`, a category, `<other>`, ...).
    pub labels: Vec<String>,
    /// Reference share of each slot.
    pub reference: Vec<f64>,
    /// Live share of each slot (all zero for an empty window).
    pub live: Vec<f64>,
}

/// The drift of one column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnReport {
    /// The column's name.
    pub name: String,
    /// `numeric` or `categorical`.
    pub kind: String,
    /// The statistic that decides the verdict.
    pub statistic: Statistic,
    /// Its value.
    pub value: f64,
    /// Its threshold.
    pub threshold: f64,
    /// The verdict: the statistic crossed its threshold, or the missing rate rose past
    /// [`DriftOptions::missing_rate_increase`].
    pub drifted: bool,
    /// Why the column drifted (`statistic`, `missing_rate`), empty when it did not.
    pub reasons: Vec<String>,
    /// Live values present (the sample size the tests see).
    pub live_count: u64,
    /// Reference values present.
    pub reference_count: u64,
    /// Share of live rows that were missing.
    pub missing_rate: f64,
    /// Share of reference rows that were missing.
    pub reference_missing_rate: f64,
    /// PSI over the coarse slots (or the categories).
    pub psi: f64,
    /// Jensen–Shannon distance (base 2).
    pub jensen_shannon: f64,
    /// Hellinger distance.
    pub hellinger: f64,
    /// Chi-square statistic.
    pub chi_square: f64,
    /// Chi-square p-value.
    pub chi_square_p_value: f64,
    /// Kolmogorov–Smirnov statistic over the fine slots (numeric only).
    pub ks: Option<f64>,
    /// Its asymptotic p-value.
    pub ks_p_value: Option<f64>,
    /// How much the unbinned KS statistic may exceed `ks`.
    pub ks_error_bound: Option<f64>,
    /// Wasserstein-1 / reference std (numeric only).
    pub wasserstein: Option<f64>,
    /// (live mean − reference mean) / reference std (numeric only).
    pub mean_shift: Option<f64>,
    /// live std / reference std (numeric only).
    pub std_ratio: Option<f64>,
    /// Share of live values outside the reference range (numeric only).
    pub out_of_range_rate: Option<f64>,
    /// Share of live values in categories the reference never had (categorical only).
    pub unknown_rate: Option<f64>,
    /// Reference vs live histogram.
    pub histogram: Histogram,
}

/// The drift of a live sample against a reference profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftReport {
    /// The dataset verdict: `share_drifted ≥ options.share` (and at least one column drifted).
    pub drifted: bool,
    /// Share of input columns that drifted (0 without columns).
    pub share_drifted: f64,
    /// How many input columns drifted.
    pub drifted_columns: usize,
    /// The share threshold used.
    pub share_threshold: f64,
    /// Live rows compared.
    pub rows: u64,
    /// One report per input column, in profile order.
    pub columns: Vec<ColumnReport>,
    /// The drift of the model's predictions (not counted in the dataset share).
    pub prediction: Option<ColumnReport>,
}

impl DriftReport {
    /// A column's report by name.
    pub fn column(&self, name: &str) -> Option<&ColumnReport> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Names of the drifted columns.
    pub fn drifted_names(&self) -> Vec<&str> {
        self.columns
            .iter()
            .filter(|c| c.drifted)
            .map(|c| c.name.as_str())
            .collect()
    }
}

fn rate(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

fn shares(counts: &[u64]) -> Vec<f64> {
    let n: u64 = counts.iter().sum();
    counts.iter().map(|&c| rate(c, n)).collect()
}

fn fmt_edge(x: f64) -> String {
    if x == x.trunc() && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x:.4}")
    }
}

fn slot_labels(edges: &[f64]) -> Vec<String> {
    let m = edges.len();
    if m == 0 {
        return vec!["(no values)".into()];
    }
    let mut labels = Vec::with_capacity(m + 1);
    labels.push(format!("< {}", fmt_edge(edges[0])));
    for (i, w) in edges.windows(2).enumerate() {
        let open = if i == 0 { '[' } else { '(' };
        labels.push(format!("{open}{}, {}]", fmt_edge(w[0]), fmt_edge(w[1])));
    }
    labels.push(format!("> {}", fmt_edge(edges[m - 1])));
    labels
}

struct Decision {
    statistic: Statistic,
    value: f64,
}

fn verdict(
    options: &DriftOptions,
    decision: Decision,
    missing_rate: f64,
    reference_missing_rate: f64,
) -> (f64, bool, Vec<String>) {
    let threshold = options.threshold(decision.statistic);
    let mut reasons = Vec::new();
    let crossed = if decision.statistic.is_p_value() {
        decision.value < threshold
    } else {
        decision.value >= threshold
    };
    if crossed {
        reasons.push("statistic".to_owned());
    }
    if let Some(limit) = options.missing_rate_increase {
        if missing_rate - reference_missing_rate >= limit && missing_rate > 0.0 {
            reasons.push("missing_rate".to_owned());
        }
    }
    (threshold, !reasons.is_empty(), reasons)
}

fn choose(options: &DriftOptions, name: &str, numeric: bool, live_count: u64) -> Statistic {
    if let Some(s) = options.column_statistics.get(name) {
        if numeric || !matches!(s, Statistic::Ks | Statistic::Wasserstein) {
            return *s;
        }
    }
    let fixed = if numeric {
        options.numeric_statistic
    } else {
        options.categorical_statistic
    };
    fixed.unwrap_or(match (numeric, live_count <= options.small_sample_rows) {
        (true, true) => Statistic::Ks,
        (true, false) => Statistic::Wasserstein,
        (false, true) => Statistic::ChiSquare,
        (false, false) => Statistic::JensenShannon,
    })
}

fn numeric_report(
    name: &str,
    p: &NumericProfile,
    s: &NumericSample,
    options: &DriftOptions,
) -> ColumnReport {
    let live_count = s.count();
    let scale = p.std.max(MIN_SCALE);
    let ks = stats::ks(&p.fine_counts, &s.fine_counts);
    let chi = stats::chi_square(&p.counts, &s.counts);
    let outside = if live_count > 0 {
        (s.below + s.above) / live_count as f64
    } else {
        0.0
    };
    let wasserstein =
        stats::wasserstein(&p.fine_edges, &p.fine_counts, &s.fine_counts, outside) / scale;
    let comparable = live_count > 0 && p.count > 0;
    let (mean_shift, std_ratio) = if comparable {
        let n = live_count as f64;
        let mean_d = s.sum / n;
        let var = (s.sum_sq / n - mean_d * mean_d).max(0.0);
        let ratio = if p.std == 0.0 && var == 0.0 {
            1.0
        } else {
            var.sqrt() / scale
        };
        (mean_d / scale, ratio)
    } else {
        (0.0, 1.0)
    };
    let out = s.counts.first().copied().unwrap_or(0)
        + if s.counts.len() > 1 {
            s.counts.last().copied().unwrap_or(0)
        } else {
            0
        };
    let statistic = choose(options, name, true, live_count);
    let value = match statistic {
        Statistic::Ks => ks.p_value,
        Statistic::ChiSquare => chi.p_value,
        Statistic::Psi => stats::psi(&p.counts, &s.counts),
        Statistic::JensenShannon => stats::jensen_shannon(&p.counts, &s.counts),
        Statistic::Wasserstein => wasserstein,
        Statistic::Hellinger => stats::hellinger(&p.counts, &s.counts),
    };
    let missing_rate = rate(s.missing, live_count + s.missing);
    let reference_missing_rate = rate(p.missing, p.count + p.missing);
    let (threshold, drifted, reasons) = verdict(
        options,
        Decision { statistic, value },
        missing_rate,
        reference_missing_rate,
    );
    ColumnReport {
        name: name.to_owned(),
        kind: "numeric".into(),
        statistic,
        value: finite(value),
        threshold,
        drifted,
        reasons,
        live_count,
        reference_count: p.count,
        missing_rate,
        reference_missing_rate,
        psi: finite(stats::psi(&p.counts, &s.counts)),
        jensen_shannon: stats::jensen_shannon(&p.counts, &s.counts),
        hellinger: stats::hellinger(&p.counts, &s.counts),
        chi_square: chi.statistic,
        chi_square_p_value: chi.p_value,
        ks: Some(ks.statistic),
        ks_p_value: Some(ks.p_value),
        ks_error_bound: Some(ks.error_bound),
        wasserstein: Some(finite(wasserstein)),
        mean_shift: Some(finite(mean_shift)),
        std_ratio: Some(finite(std_ratio)),
        out_of_range_rate: Some(if p.count > 0 {
            rate(out, live_count)
        } else {
            0.0
        }),
        unknown_rate: None,
        histogram: Histogram {
            labels: slot_labels(&p.edges),
            reference: shares(&p.counts),
            live: shares(&s.counts),
        },
    }
}

/// Categorical buckets: the kept categories, then one bucket for everything else (lumped
/// reference categories, and live categories the reference never had).
fn buckets(p: &CategoricalProfile, s: &CategoricalSample) -> (Vec<u64>, Vec<u64>) {
    let mut reference = p.counts.clone();
    reference.push(p.other);
    let mut live = s.counts.clone();
    live.push(s.other + s.unknown);
    (reference, live)
}

/// Pools the buckets whose expected live count is below `min_expected` into one bucket
/// (placed last), adding the next smallest buckets until the pool itself reaches `min_expected`
/// (the largest bucket always stays on its own).
fn pool(reference: &[u64], live: &[u64], min_expected: f64) -> (Vec<u64>, Vec<u64>) {
    let n_ref: u64 = reference.iter().sum();
    let n_live: u64 = live.iter().sum();
    if n_ref == 0 || n_live == 0 || min_expected <= 0.0 {
        return (reference.to_vec(), live.to_vec());
    }
    let expected = |r: u64| r as f64 / n_ref as f64 * n_live as f64;
    let mut order: Vec<usize> = (0..reference.len()).collect();
    order.sort_by_key(|&i| (reference[i], i));
    let mut pooled = vec![false; reference.len()];
    let (mut r_pool, mut l_pool) = (0u64, 0u64);
    // The largest bucket is never pooled, so at least two buckets remain to compare.
    let Some((_, candidates)) = order.split_last() else {
        return (reference.to_vec(), live.to_vec());
    };
    for &i in candidates {
        let small = expected(reference[i]) < min_expected;
        let pool_short = (r_pool > 0 || l_pool > 0) && expected(r_pool) < min_expected;
        if !small && !pool_short {
            break;
        }
        pooled[i] = true;
        r_pool += reference[i];
        l_pool += live[i];
    }
    let (mut r_out, mut l_out) = (Vec::new(), Vec::new());
    for i in 0..reference.len() {
        if !pooled[i] {
            r_out.push(reference[i]);
            l_out.push(live[i]);
        }
    }
    if pooled.iter().any(|&p| p) {
        r_out.push(r_pool);
        l_out.push(l_pool);
    }
    (r_out, l_out)
}

fn categorical_report(
    name: &str,
    p: &CategoricalProfile,
    s: &CategoricalSample,
    options: &DriftOptions,
) -> ColumnReport {
    let live_count = s.count();
    let (full_reference, full_live) = buckets(p, s);
    let (reference, live) = pool(&full_reference, &full_live, options.min_expected_count);
    let chi = stats::chi_square(&reference, &live);
    let statistic = choose(options, name, false, live_count);
    let value = match statistic {
        Statistic::ChiSquare | Statistic::Ks => chi.p_value,
        Statistic::Psi => stats::psi(&reference, &live),
        Statistic::JensenShannon | Statistic::Wasserstein => {
            stats::jensen_shannon(&reference, &live)
        }
        Statistic::Hellinger => stats::hellinger(&reference, &live),
    };
    let statistic = match statistic {
        Statistic::Ks => Statistic::ChiSquare,
        Statistic::Wasserstein => Statistic::JensenShannon,
        s => s,
    };
    let missing_rate = rate(s.missing, live_count + s.missing);
    let reference_count = p.count();
    let reference_missing_rate = rate(p.missing, reference_count + p.missing);
    let (threshold, drifted, reasons) = verdict(
        options,
        Decision { statistic, value },
        missing_rate,
        reference_missing_rate,
    );
    let mut labels = p.categories.clone();
    labels.push("<other>".into());
    ColumnReport {
        name: name.to_owned(),
        kind: "categorical".into(),
        statistic,
        value: finite(value),
        threshold,
        drifted,
        reasons,
        live_count,
        reference_count,
        missing_rate,
        reference_missing_rate,
        psi: finite(stats::psi(&reference, &live)),
        jensen_shannon: stats::jensen_shannon(&reference, &live),
        hellinger: stats::hellinger(&reference, &live),
        chi_square: chi.statistic,
        chi_square_p_value: chi.p_value,
        ks: None,
        ks_p_value: None,
        ks_error_bound: None,
        wasserstein: None,
        mean_shift: None,
        std_ratio: None,
        out_of_range_rate: None,
        unknown_rate: Some(rate(s.unknown, live_count)),
        histogram: Histogram {
            labels,
            reference: shares(&full_reference),
            live: shares(&full_live),
        },
    }
}

fn finite(x: f64) -> f64 {
    if x.is_nan() {
        0.0
    } else {
        x.clamp(-f64::MAX, f64::MAX)
    }
}

/// The report of one column against its profile.
pub fn column_report(
    profile: &ColumnProfile,
    sample: &ColumnSample,
    options: &DriftOptions,
) -> Result<ColumnReport> {
    let shape_error = || {
        Error::mismatch(
            format!("sample of column `{}`", profile.name),
            format!(
                "{} counts binned on its profile",
                profile.distribution.kind()
            ),
            "counts of another shape",
        )
    };
    match (&profile.distribution, sample) {
        (Distribution::Numeric(p), ColumnSample::Numeric(s)) => {
            if s.counts.len() != p.counts.len() || s.fine_counts.len() != p.fine_counts.len() {
                return Err(shape_error());
            }
            Ok(numeric_report(&profile.name, p, s, options))
        }
        (Distribution::Categorical(p), ColumnSample::Categorical(s)) => {
            if s.counts.len() != p.counts.len() {
                return Err(shape_error());
            }
            Ok(categorical_report(&profile.name, p, s, options))
        }
        _ => Err(shape_error()),
    }
}

/// The drift report of a live sample against the profile it was binned on.
pub fn report(
    profile: &ReferenceProfile,
    sample: &LiveSample,
    options: &DriftOptions,
) -> Result<DriftReport> {
    options.validate()?;
    if sample.columns.len() != profile.columns.len() {
        return Err(Error::mismatch(
            "sampled columns",
            profile.columns.len().to_string(),
            sample.columns.len().to_string(),
        ));
    }
    let columns = profile
        .columns
        .iter()
        .zip(&sample.columns)
        .map(|(p, s)| column_report(p, s, options))
        .collect::<Result<Vec<_>>>()?;
    let prediction = match (&profile.prediction, &sample.prediction) {
        (Some(p), Some(s)) => Some(column_report(p, s, options)?),
        _ => None,
    };
    let drifted_columns = columns.iter().filter(|c| c.drifted).count();
    let share_drifted = rate(drifted_columns as u64, columns.len() as u64);
    Ok(DriftReport {
        drifted: drifted_columns > 0 && share_drifted >= options.share,
        share_drifted,
        drifted_columns,
        share_threshold: options.share,
        rows: sample.rows,
        columns,
        prediction,
    })
}
