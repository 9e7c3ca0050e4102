//! Champion against challenger, on plain arrays: is the new model better, by how much, and how
//! sure are we?
//!
//! - **Offline, on labelled rows both models scored** ([`compare`]): every metric of both
//!   ([`Metric`]: accuracy, macro F1, ROC AUC, log loss, MAE, RMSE — scikit-learn's), the exact
//!   McNemar test on paired correctness ([`mcnemar_exact`]), Student's paired t-test and the
//!   Wilcoxon signed-rank test on per-row losses ([`paired_t`], [`wilcoxon`]), a seeded paired
//!   bootstrap interval of the metric difference ([`paired_bootstrap`]), and a [`Verdict`].
//! - **Live, while labels arrive** ([`Sequential`]): the mSPRT with a normal mixture on the
//!   difference of two error rates or of two mean losses (the MAE of regressors) — an
//!   always-valid p-value and confidence sequence, which may
//!   be read after every label without inflating false promotions.
//!
//! Every test is cross-checked against scipy, statsmodels and scikit-learn on fixed tables
//! (`tests/it/compare.rs` reads `tests/fixtures/compare-reference.json`, written by
//! `scripts/stats-reference.py`).

mod bootstrap;
mod comparison;
mod mcnemar;
mod metric;
mod paired;
mod sequential;
mod verdict;

pub use bootstrap::{BootstrapInterval, BootstrapOptions, paired_bootstrap, percentile};
pub use comparison::{CompareOptions, Comparison, MetricPair, PairedTest, compare};
pub use mcnemar::{McNemar, discordant, mcnemar_exact};
pub use metric::{ClassifierOutcomes, Metric, Outcomes, RegressorOutcomes, Weighted};
pub use paired::{PairedT, Wilcoxon, WilcoxonMethod, paired_t, wilcoxon};
pub use sequential::{Arm, ArmCounts, Measure, Sequential, SequentialOptions, SequentialStatus};
pub use verdict::{Verdict, decide, improvement};
