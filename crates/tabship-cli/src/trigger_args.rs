//! `tabship serve`'s retraining trigger and staleness flags, turned into the server's
//! [`RetrainPolicy`].

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use tabship::drift::DriftOptions;
use tabship_serve::triggers::{Actions, RetrainPolicy};

use crate::error::{Error, Result};

/// A duration such as `90s`, `30m`, `12h`, `7d` or `1h 30m`.
fn duration(text: &str) -> std::result::Result<Duration, String> {
    humantime::parse_duration(text)
        .map_err(|e| format!("expected a duration such as `30m`, `12h` or `7d`, got `{text}`: {e}"))
}

/// Retraining triggers, staleness and the drift policy of the live windows.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Drift policy, staleness and retraining triggers")]
pub struct TriggerArgs {
    /// Drift thresholds and policy of the live windows, as `tabship drift --options` reads them
    /// (JSON): /models/{name}/drift, the drift gauges and --retrain-on-drift-for.
    #[arg(long, env = "TABSHIP_DRIFT_OPTIONS", value_name = "FILE")]
    pub drift_options: Option<PathBuf>,
    /// Run this shell command (`sh -c`) when a trigger fires, with a JSON payload (model,
    /// version, reason, live metrics) on stdin and in TABSHIP_TRIGGER.
    #[arg(long, env = "TABSHIP_RETRAIN_COMMAND", value_name = "CMD")]
    pub retrain_command: Option<String>,
    /// POST the same JSON payload to this URL when a trigger fires.
    #[arg(long, env = "TABSHIP_RETRAIN_WEBHOOK", value_name = "URL")]
    pub retrain_webhook: Option<String>,
    /// Trigger when the dataset drift verdict has held this long (with at least
    /// --retrain-min-rows rows in the window).
    #[arg(long, value_parser = duration, value_name = "DURATION")]
    pub retrain_on_drift_for: Option<Duration>,
    /// Rows the drift window needs before its verdict counts.
    #[arg(long, default_value_t = 500)]
    pub retrain_min_rows: u64,
    /// Trigger when live accuracy (from /feedback) falls under this (classifiers).
    #[arg(long, value_name = "ACCURACY")]
    pub retrain_below_accuracy: Option<f64>,
    /// Trigger when the live mean absolute error rises over this (regressors).
    #[arg(long, value_name = "MAE")]
    pub retrain_above_mae: Option<f64>,
    /// Labels the live quality window needs before accuracy or MAE counts.
    #[arg(long, default_value_t = 200)]
    pub retrain_min_labels: usize,
    /// Versions older than this since their training (`30d`, `12h`) are stale:
    /// tabship_model_stale is 1 (for an alert) and the start logs a warning; with a retraining
    /// action it also triggers. Readiness is not affected: a stale model still predicts as it did.
    #[arg(long, env = "TABSHIP_MAX_MODEL_AGE", value_parser = duration, value_name = "DURATION")]
    pub max_model_age: Option<Duration>,
    /// Trigger on a fixed interval.
    #[arg(long, value_parser = duration, value_name = "DURATION")]
    pub retrain_every: Option<Duration>,
    /// The least time between two triggers of one model.
    #[arg(long, value_parser = duration, default_value = "1h", value_name = "DURATION")]
    pub retrain_debounce: Duration,
    /// How often the trigger conditions are checked.
    #[arg(long, value_parser = duration, default_value = "30s", value_name = "DURATION")]
    pub retrain_check_interval: Duration,
    /// How long the command or the webhook may take before it is stopped (an error).
    #[arg(long, value_parser = duration, default_value = "1h", value_name = "DURATION")]
    pub retrain_timeout: Duration,
}

impl TriggerArgs {
    /// The policy, `None` without a command or webhook; a condition given without an action is
    /// a usage error (it would silently do nothing).
    pub fn policy(&self) -> Result<Option<RetrainPolicy>> {
        let conditions = [
            (
                "--retrain-on-drift-for",
                self.retrain_on_drift_for.is_some(),
            ),
            (
                "--retrain-below-accuracy",
                self.retrain_below_accuracy.is_some(),
            ),
            ("--retrain-above-mae", self.retrain_above_mae.is_some()),
            ("--retrain-every", self.retrain_every.is_some()),
        ];
        if self.retrain_command.is_none() && self.retrain_webhook.is_none() {
            if let Some((flag, _)) = conditions.iter().find(|(_, set)| *set) {
                return Err(Error::Usage(format!(
                    "{flag} needs --retrain-command or --retrain-webhook: nothing would run when it fires"
                )));
            }
            return Ok(None);
        }
        let policy = RetrainPolicy {
            drift_for: self.retrain_on_drift_for,
            min_rows: self.retrain_min_rows,
            accuracy_below: self.retrain_below_accuracy,
            mae_above: self.retrain_above_mae,
            min_labels: self.retrain_min_labels,
            max_age: self.max_model_age,
            every: self.retrain_every,
            debounce: self.retrain_debounce,
            check_interval: self.retrain_check_interval,
            actions: Actions {
                command: self.retrain_command.clone(),
                webhook: self.retrain_webhook.clone(),
                timeout: self.retrain_timeout,
            },
        };
        policy.validate().map_err(Error::Usage)?;
        Ok(Some(policy))
    }

    /// The drift options of `--drift-options`, or the defaults.
    pub fn drift(&self) -> Result<DriftOptions> {
        match &self.drift_options {
            Some(path) => crate::commands::drift::read_options(path, "--drift-options"),
            None => Ok(DriftOptions::default()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(duration("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(duration("1h 30m"), Ok(Duration::from_secs(5400)));
        assert!(duration("soon").unwrap_err().contains("`soon`"));
    }
}
