//! # tabship-drift
//!
//! Data and concept drift for tabular models, on plain arrays. It does not depend on the core
//! `tabship` crate; the core stores its [`ReferenceProfile`] inside every artifact it trains and
//! builds reports from live batches with it.
//!
//! - **Reference profile** ([`profile`]): per numeric column the count, missing count, mean, std,
//!   min, max and two quantile histograms (10 coarse bins and 100 fine bins, each with underflow
//!   and overflow slots); per categorical column the most frequent categories (100 by default)
//!   with a lumped count for the rest, and the missing count; and the distribution of the model's
//!   predictions. A numeric column with at most 20 distinct values also keeps every value with
//!   its count and is compared value by value, like a category (a 0/1 column's quantile bins are
//!   one `[0, 1]` bin). Its size never depends on the number of rows. [`ReferenceProfile::validate`]
//!   checks a profile read from an untrusted file.
//! - **Statistics** ([`stats`]): PSI, two-sample Kolmogorov–Smirnov (statistic, p-value, error
//!   bound of the binned reference), the two-sample chi-square test of homogeneity (the reference
//!   is a sample too), Benjamini–Hochberg adjusted p-values, Jensen–Shannon distance (base 2), Wasserstein-1
//!   divided by the reference std, Hellinger; the report adds the mean shift in reference stds,
//!   the std ratio, unknown-category, missing and out-of-range rates. Every result is finite,
//!   for empty windows, constant or all-missing columns and single categories too.
//! - **Verdicts** ([`DriftOptions`]): as Evidently, a p-value test for live samples of at most
//!   1000 values (KS for numbers, chi-square for categories and few-valued numbers, adjusted
//!   p < 0.05 after Benjamini–Hochberg over the report's tests), otherwise a distance with a
//!   fixed threshold (Wasserstein/std ≥ 0.1, Jensen–Shannon ≥ 0.1). The dataset verdict is the
//!   [`DriftPolicy`]'s: by default drifted predictions, 10% of never-seen values in a column, or
//!   half of the columns drifting. Every threshold, test and rule is configurable.
//! - **Streaming** ([`Monitor`]): cumulative, sliding and tumbling windows fed batches or rows,
//!   with memory proportional to the bins; monitors and samples merge across shards.
//! - **Concept drift** ([`concept`]): [`Ddm`], [`PageHinkley`] and [`Adwin`] over per-prediction
//!   errors or losses, and windowed [`WindowedAccuracy`], [`WindowedF1`] and [`WindowedMae`].
//! - **Champion against challenger** ([`compare`]): the exact McNemar test, a seeded paired
//!   bootstrap interval of a metric difference, paired t and Wilcoxon tests, a verdict with a
//!   minimum-effect margin, and the mSPRT's always-valid p-value and confidence sequence for a
//!   live A/B split — checked against scipy, statsmodels and scikit-learn.
//!
//! ```
//! use tabship_drift::{
//!     Binner, ColumnProfile, DriftOptions, LiveColumn, ProfileOptions, ReferenceProfile, report,
//! };
//!
//! # fn main() -> tabship_drift::Result<()> {
//! let options = ProfileOptions::default();
//! let ages: Vec<f64> = (0..5000).map(|i| 20.0 + (i % 50) as f64).collect();
//! let jobs: Vec<Option<&str>> = (0..5000).map(|i| Some(if i % 3 == 0 { "a" } else { "b" })).collect();
//! let profile = ReferenceProfile {
//!     columns: vec![
//!         ColumnProfile::numeric("age", &ages, &options)?,
//!         ColumnProfile::categorical("job", jobs.iter().copied(), &options)?,
//!     ],
//!     prediction: None,
//! };
//!
//! // Live data: ages shifted by ten years, jobs unchanged.
//! let live_ages: Vec<f64> = ages.iter().map(|a| a + 10.0).collect();
//! let binner = Binner::new(profile.clone());
//! let sample = binner.sample(
//!     &[LiveColumn::Numeric(&live_ages), LiveColumn::Categorical(&jobs)],
//!     None,
//! )?;
//! let report = report(&profile, &sample, &DriftOptions::default())?;
//! assert_eq!(report.drifted_names(), ["age"]);
//! assert!(report.drifted); // one column of two: share 0.5
//! assert_eq!(report.reasons, ["share"]);
//! # Ok(())
//! # }
//! ```
//!
//! # For a server
//!
//! - Load the profile once, wrap it in an `Arc`, build one [`Binner`] (`Arc<Binner>`), and a
//!   [`Monitor`] per model (`Monitor::with_binner`). Monitors are plain `Send + Sync` data: keep
//!   one behind a `Mutex` and call [`Monitor::observe`] with each predicted batch (columns in
//!   profile order, predictions as the optional last argument), or keep one per worker and
//!   [`Monitor::merge`] them.
//! - `GET /drift`: [`Monitor::report`] (a snapshot adds up the window's count blocks — a few
//!   thousand integer additions — then computes the statistics), serialize the [`DriftReport`]
//!   with serde; per-column `value`, `drifted` and `share_drifted` make natural gauges.
//! - After feedback: one [`Detector`] per model fed the 0/1 error (classification) or the
//!   absolute error (regression) of each labelled prediction; [`WindowedAccuracy`],
//!   [`WindowedF1`] or [`WindowedMae`] for the live quality gauges.
//!
//! # Features
//! No optional features. Dependencies: `serde`, `statrs` (chi-square and Student's t
//! distributions), `libm` (`erfc` to an ulp), `rand` and `rand_chacha` (the bootstrap's seeded
//! resamples), `thiserror`, `rustc-hash`.

#[macro_use]
mod validated;
pub mod compare;
pub mod concept;
mod error;
mod exact_sum;
pub mod monitor;
pub mod profile;
mod report;
mod sample;
pub mod stats;
pub mod trackers;

pub use concept::{Adwin, Ddm, Detector, DetectorState, PageHinkley};
pub use error::{Error, Result};
pub use exact_sum::ExactSum;
pub use monitor::{Monitor, MonitorState, Window};
pub use profile::{
    CategoricalProfile, ColumnProfile, Distribution, ExactValues, NumericProfile, ProfileOptions,
    ReferenceProfile,
};
pub use report::{
    ColumnReport, DriftOptions, DriftPolicy, DriftReport, Histogram, MIN_SCALE, MultipleTesting,
    Statistic, column_report, report,
};
pub use sample::{
    Binner, CategoricalSample, CategorySlot, Cell, ColumnSample, LiveColumn, LiveSample,
    NumericSample,
};
pub use trackers::{WindowedAccuracy, WindowedF1, WindowedMae};
