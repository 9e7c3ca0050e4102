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

/// Thresholds, test choices and the [`DriftPolicy`]. The defaults follow Evidently: with at most
/// `small_sample_rows` live values a column is judged by a p-value test (Kolmogorov–Smirnov for
/// numbers, two-sample chi-square for categories and for numbers with few distinct values,
/// drift when p < 0.05 after the Benjamini–Hochberg adjustment over the report's tests); with
/// more, by a distance with a fixed threshold (Wasserstein / ref std ≥ 0.1 for numbers,
/// Jensen–Shannon ≥ 0.1 for categories), because on large samples every p-value test flags
/// differences too small to matter. What makes the dataset drift is the [`DriftPolicy`].
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
    /// How the p-values of one report are adjusted for the number of tests (default
    /// Benjamini–Hochberg over the input columns and the predictions judged by a p-value test).
    pub multiple_testing: MultipleTesting,
    /// What makes the dataset (and `--fail-on-drift`, the server's gauge and alert) drift.
    pub policy: DriftPolicy,
}

/// The adjustment of the p-values of one report for the number of columns tested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MultipleTesting {
    /// Benjamini–Hochberg ([`stats::benjamini_hochberg`]): with `m` columns tested at 0.05,
    /// an unshifted sample flags some column with probability at most 0.05 instead of up to
    /// `1 − 0.95^m` (79% for 30 columns), while a column that really moved keeps a tiny p-value.
    #[default]
    BenjaminiHochberg,
    /// Every p-value against its threshold as it is.
    None,
}

/// What makes a report's dataset verdict ([`DriftReport::drifted`]) true: each rule that fires
/// adds a reason to [`DriftReport::reasons`]. The one policy behind `tabship drift
/// --fail-on-drift`, the HTML headline, Python's `report.drifted`, and the server's
/// `tabship_dataset_drift` gauge and alert.
///
/// The default fails when the predictions drift, when a column gets at least 10% of values the
/// training data never had, or when half of the input columns drift — not on one drifted input
/// column, which (after the multiple-testing adjustment) is worth a look but is often harmless.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DriftPolicy {
    /// Fail when the share of drifted input columns reaches [`DriftOptions::share`] (default
    /// true; reason `share`).
    pub share: bool,
    /// Fail when any input column drifts (default false; reason `column:<name>`).
    pub any_column: bool,
    /// Fail when one of these input columns drifts (default none; reason `column:<name>`).
    pub columns: Vec<String>,
    /// Fail when the model's predictions drift (default true; reason `prediction`).
    pub prediction: bool,
    /// Fail when an input column's share of values the reference never had (a new category, or
    /// a new value of a numeric column with few distinct values) reaches this (default 0.1;
    /// reason `unknown_rate:<name>`); `None` disables the rule.
    pub unknown_rate: Option<f64>,
}

impl Default for DriftPolicy {
    fn default() -> Self {
        DriftPolicy {
            share: true,
            any_column: false,
            columns: Vec::new(),
            prediction: true,
            unknown_rate: Some(0.1),
        }
    }
}

impl DriftPolicy {
    /// The reasons this policy fails a report's columns and prediction (empty: no drift).
    /// `share` and `share_threshold` are the report's share of drifted input columns and the
    /// threshold it is held to.
    pub fn reasons(
        &self,
        columns: &[ColumnReport],
        prediction: Option<&ColumnReport>,
        share: f64,
        share_threshold: f64,
    ) -> Vec<String> {
        let mut reasons = Vec::new();
        let drifted = columns.iter().filter(|c| c.drifted).count();
        if self.share && drifted > 0 && share >= share_threshold {
            reasons.push("share".to_owned());
        }
        if self.prediction && prediction.is_some_and(|p| p.drifted) {
            reasons.push("prediction".to_owned());
        }
        for c in columns {
            if c.drifted && (self.any_column || self.columns.contains(&c.name)) {
                reasons.push(format!("column:{}", c.name));
            }
        }
        if let Some(limit) = self.unknown_rate {
            for c in columns {
                if c.unknown_rate.is_some_and(|r| r > 0.0 && r >= limit) {
                    reasons.push(format!("unknown_rate:{}", c.name));
                }
            }
        }
        reasons
    }

    fn validate(&self) -> Result<()> {
        if let Some(r) = self.unknown_rate {
            if !(r.is_finite() && r > 0.0 && r <= 1.0) {
                return Err(Error::InvalidOption {
                    option: "policy.unknown_rate",
                    reason: format!("expected a number in (0, 1] or null, got `{r}`"),
                });
            }
        }
        Ok(())
    }

    /// Checks that every named column is an input column of `profile`.
    fn check_columns(&self, profile: &ReferenceProfile) -> Result<()> {
        if let Some(name) = self.columns.iter().find(|n| profile.column(n).is_none()) {
            let known: Vec<&str> = profile.columns.iter().map(|c| c.name.as_str()).collect();
            return Err(Error::InvalidOption {
                option: "policy.columns",
                reason: format!(
                    "no column `{name}` in the profile (columns: {})",
                    known.join(", ")
                ),
            });
        }
        Ok(())
    }
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
            multiple_testing: MultipleTesting::default(),
            policy: DriftPolicy::default(),
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
        self.policy.validate()
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
    /// Its value (for a p-value test, the raw p-value).
    pub value: f64,
    /// For a p-value test, the p-value adjusted for the number of tests in the report
    /// ([`DriftOptions::multiple_testing`]): the one the verdict compares with the threshold.
    #[serde(default)]
    pub adjusted_p_value: Option<f64>,
    /// Its threshold.
    pub threshold: f64,
    /// The verdict: the statistic (the adjusted p-value of a test) crossed its threshold, or
    /// the missing rate rose past [`DriftOptions::missing_rate_increase`].
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
    /// Share of live values the reference never had: categories, or values of a numeric
    /// column profiled by its exact values (`None` for other numeric columns).
    pub unknown_rate: Option<f64>,
    /// Reference vs live histogram.
    pub histogram: Histogram,
}

/// The drift of a live sample against a reference profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftReport {
    /// The dataset verdict under [`DriftOptions::policy`]: true when some rule fired.
    pub drifted: bool,
    /// The policy rules that fired (`share`, `prediction`, `column:<name>`,
    /// `unknown_rate:<name>`), empty when nothing did.
    #[serde(default)]
    pub reasons: Vec<String>,
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
    /// The drift of the model's predictions (not counted in the dataset share; the policy's
    /// `prediction` rule).
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

/// Whether the statistic's value (an adjusted p-value for a test) crossed its threshold.
fn crossed(statistic: Statistic, value: f64, threshold: f64) -> bool {
    if statistic.is_p_value() {
        value < threshold
    } else {
        value >= threshold
    }
}

fn verdict(
    options: &DriftOptions,
    decision: Decision,
    missing_rate: f64,
    reference_missing_rate: f64,
) -> (f64, bool, Vec<String>) {
    let threshold = options.threshold(decision.statistic);
    let mut reasons = Vec::new();
    if crossed(decision.statistic, decision.value, threshold) {
        reasons.push("statistic".to_owned());
    }
    if let Some(limit) = options.missing_rate_increase {
        if missing_rate - reference_missing_rate >= limit && missing_rate > 0.0 {
            reasons.push("missing_rate".to_owned());
        }
    }
    (threshold, !reasons.is_empty(), reasons)
}

fn choose(options: &DriftOptions, name: &str, kind: Kind, live_count: u64) -> Statistic {
    let numeric = kind != Kind::Categorical;
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
    fixed.unwrap_or(match (kind, live_count <= options.small_sample_rows) {
        // A few distinct values: compare their mix as categories (Kolmogorov–Smirnov's
        // asymptotic p-value is very conservative on ties, and blind to unseen values).
        (Kind::Discrete | Kind::Categorical, true) => Statistic::ChiSquare,
        (Kind::Continuous, true) => Statistic::Ks,
        (Kind::Continuous | Kind::Discrete, false) => Statistic::Wasserstein,
        (Kind::Categorical, false) => Statistic::JensenShannon,
    })
}

/// What the size-based choice of a statistic sees of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Numbers with quantile bins only.
    Continuous,
    /// Numbers whose profile keeps their exact values.
    Discrete,
    /// Categories.
    Categorical,
}

/// The statistics of a numeric column whose profile keeps its exact values: buckets are the
/// reference values plus one for live values the reference never had.
struct Exact {
    reference: Vec<u64>,
    live: Vec<u64>,
    labels: Vec<String>,
    ks: stats::KsResult,
    wasserstein: f64,
    unseen_rate: f64,
}

fn exact(p: &NumericProfile, s: &NumericSample, outside: f64) -> Option<Exact> {
    let v = p.values.as_ref()?;
    let mut reference = v.counts.clone();
    reference.push(0);
    let mut live = s.value_counts.clone();
    live.push(s.unseen);
    // Both empirical CDFs jump only at the values, so over the seen values these are exact;
    // an unseen value could sit anywhere between them and move the live CDF by its share.
    let mut ks = stats::ks(&v.counts, &s.value_counts);
    let unseen_rate = rate(s.unseen, s.count());
    ks.error_bound = unseen_rate;
    let wasserstein = stats::wasserstein_at(&v.values, &v.counts, &s.value_counts) + outside;
    let mut labels: Vec<String> = v.values.iter().map(|&x| fmt_edge(x)).collect();
    labels.push("<unseen>".into());
    Some(Exact {
        reference,
        live,
        labels,
        ks,
        wasserstein,
        unseen_rate,
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
    let outside = if live_count > 0 {
        (s.below.value() + s.above.value()) / live_count as f64
    } else {
        0.0
    };
    let exact = exact(p, s, outside);
    // Over the exact values (pooled like categories) when the profile has them, otherwise
    // over the coarse quantile bins.
    let (reference, live) = match &exact {
        Some(e) => pool(&e.reference, &e.live, options.min_expected_count),
        None => (p.counts.clone(), s.counts.clone()),
    };
    let ks = exact
        .as_ref()
        .map_or_else(|| stats::ks(&p.fine_counts, &s.fine_counts), |e| e.ks);
    let chi = stats::chi_square(&reference, &live);
    let wasserstein = exact.as_ref().map_or_else(
        || stats::wasserstein(&p.fine_edges, &p.fine_counts, &s.fine_counts, outside),
        |e| e.wasserstein,
    ) / scale;
    let comparable = live_count > 0 && p.count > 0;
    let (mean_shift, std_ratio) = if comparable {
        let n = live_count as f64;
        let mean_d = s.sum.value() / n;
        let var = (s.sum_sq.value() / n - mean_d * mean_d).max(0.0);
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
    let kind = if exact.is_some() {
        Kind::Discrete
    } else {
        Kind::Continuous
    };
    let statistic = choose(options, name, kind, live_count);
    let value = match statistic {
        Statistic::Ks => ks.p_value,
        Statistic::ChiSquare => chi.p_value,
        Statistic::Psi => stats::psi(&reference, &live),
        Statistic::JensenShannon => stats::jensen_shannon(&reference, &live),
        Statistic::Wasserstein => wasserstein,
        Statistic::Hellinger => stats::hellinger(&reference, &live),
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
        adjusted_p_value: statistic.is_p_value().then_some(finite(value)),
        threshold,
        drifted,
        reasons,
        live_count,
        reference_count: p.count,
        missing_rate,
        reference_missing_rate,
        psi: finite(stats::psi(&reference, &live)),
        jensen_shannon: stats::jensen_shannon(&reference, &live),
        hellinger: stats::hellinger(&reference, &live),
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
        unknown_rate: exact.as_ref().map(|e| e.unseen_rate),
        histogram: match exact {
            Some(e) => Histogram {
                labels: e.labels,
                reference: shares(&e.reference),
                live: shares(&e.live),
            },
            None => Histogram {
                labels: slot_labels(&p.edges),
                reference: shares(&p.counts),
                live: shares(&s.counts),
            },
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
    let statistic = choose(options, name, Kind::Categorical, live_count);
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
        adjusted_p_value: statistic.is_p_value().then_some(finite(value)),
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

/// The report of one column against its profile, alone: its `adjusted_p_value` is the raw one
/// (a family of one test); [`report`] adjusts over all the columns and the predictions.
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
            let values = p.values.as_ref().map_or(0, |v| v.values.len());
            if s.counts.len() != p.counts.len()
                || s.fine_counts.len() != p.fine_counts.len()
                || s.value_counts.len() != values
            {
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

/// Replaces the p-values of the report's p-value tests (input columns, then the predictions)
/// by their adjusted values and redoes those verdicts.
fn adjust(
    columns: &mut [ColumnReport],
    prediction: Option<&mut ColumnReport>,
    how: MultipleTesting,
) {
    if how == MultipleTesting::None {
        return;
    }
    let mut tested: Vec<&mut ColumnReport> = columns
        .iter_mut()
        .chain(prediction)
        .filter(|c| c.statistic.is_p_value())
        .collect();
    let raw: Vec<f64> = tested.iter().map(|c| c.value).collect();
    for (c, adjusted) in tested.iter_mut().zip(stats::benjamini_hochberg(&raw)) {
        c.adjusted_p_value = Some(adjusted);
        c.reasons.retain(|r| r != "statistic");
        if crossed(c.statistic, adjusted, c.threshold) {
            c.reasons.insert(0, "statistic".to_owned());
        }
        c.drifted = !c.reasons.is_empty();
    }
}

/// The drift report of a live sample against the profile it was binned on: every column's
/// statistics, the p-values adjusted over the report ([`DriftOptions::multiple_testing`]), and
/// the dataset verdict of [`DriftOptions::policy`].
pub fn report(
    profile: &ReferenceProfile,
    sample: &LiveSample,
    options: &DriftOptions,
) -> Result<DriftReport> {
    options.validate()?;
    options.policy.check_columns(profile)?;
    if sample.columns.len() != profile.columns.len() {
        return Err(Error::mismatch(
            "sampled columns",
            profile.columns.len().to_string(),
            sample.columns.len().to_string(),
        ));
    }
    let mut columns = profile
        .columns
        .iter()
        .zip(&sample.columns)
        .map(|(p, s)| column_report(p, s, options))
        .collect::<Result<Vec<_>>>()?;
    let mut prediction = match (&profile.prediction, &sample.prediction) {
        (Some(p), Some(s)) => Some(column_report(p, s, options)?),
        _ => None,
    };
    adjust(&mut columns, prediction.as_mut(), options.multiple_testing);
    let drifted_columns = columns.iter().filter(|c| c.drifted).count();
    let share_drifted = rate(drifted_columns as u64, columns.len() as u64);
    let reasons =
        options
            .policy
            .reasons(&columns, prediction.as_ref(), share_drifted, options.share);
    Ok(DriftReport {
        drifted: !reasons.is_empty(),
        reasons,
        share_drifted,
        drifted_columns,
        share_threshold: options.share,
        rows: sample.rows,
        columns,
        prediction,
    })
}
