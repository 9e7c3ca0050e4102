//! `tabship serve`'s options of the live A/B experiment (`GET /models/{name}/experiment`),
//! flattened into the server's arguments.

use clap::Args;
use tabship::drift::compare::SequentialOptions;
use tabship_serve::experiment::ExperimentOptions;

/// The `--help` heading of these options.
const HEADING: &str = "A/B experiment";

/// The sequential test of an A/B split and what the server does with its verdict.
#[derive(Debug, Clone, Args)]
pub struct ExperimentArgs {
    /// Level of the always-valid sequential test (mSPRT) of the split's accuracy difference.
    #[arg(long, default_value_t = 0.05, value_parser = level, help_heading = HEADING)]
    pub experiment_alpha: f64,
    /// Standard deviation of the mSPRT's normal mixture on the error-rate difference: the size
    /// of difference the test is most sensitive to.
    #[arg(long, default_value_t = 0.05, value_parser = tau, help_heading = HEADING)]
    pub experiment_tau: f64,
    /// Labels each arm needs before the test starts.
    #[arg(long, default_value_t = 30, help_heading = HEADING)]
    pub experiment_min_labels: u64,
    /// Minimum accuracy gain of the challenger for `promote` (0.01: one point).
    #[arg(long, default_value_t = 0.0, value_parser = margin, help_heading = HEADING)]
    pub experiment_margin: f64,
    /// Act on the experiment's verdict: on `promote` the challenger becomes the current version
    /// and the split is removed; on `keep` the split is removed. Each decision is logged, counted
    /// (`tabship_experiment_decisions_total`) and saved with --state-dir.
    #[arg(long, help_heading = HEADING)]
    pub auto_promote: bool,
}

impl ExperimentArgs {
    /// The server's options.
    pub fn options(&self) -> ExperimentOptions {
        ExperimentOptions {
            sequential: SequentialOptions {
                alpha: self.experiment_alpha,
                tau: self.experiment_tau,
                min_labels: self.experiment_min_labels,
            },
            margin: self.experiment_margin,
            auto_promote: self.auto_promote,
        }
    }
}

fn number(text: &str, ok: impl Fn(f64) -> bool, expected: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(x) if ok(x) => Ok(x),
        _ => Err(format!("expected {expected}, got `{text}`")),
    }
}

fn level(text: &str) -> Result<f64, String> {
    number(text, |x| x > 0.0 && x < 1.0, "a number in (0, 1)")
}

fn tau(text: &str) -> Result<f64, String> {
    number(text, |x| x > 0.0 && x <= 1.0, "a number in (0, 1]")
}

fn margin(text: &str) -> Result<f64, String> {
    number(text, |x| (0.0..1.0).contains(&x), "a number in [0, 1)")
}
