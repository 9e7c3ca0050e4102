//! When a model needs retraining: the conditions of a [`RetrainPolicy`] read against one
//! observation of its current version, with the time passed in, so the rules are tested without
//! a clock.

use std::time::{Duration, Instant};

use serde::Serialize;

/// What triggers a retraining, and how often at most. Every condition is off by default; an
/// Alertmanager alert (`POST /admin/alerts`) triggers whatever is set here.
#[derive(Debug, Clone, PartialEq)]
pub struct RetrainPolicy {
    /// The dataset drift verdict (the drift policy of `Options::drift`, the one `tabship drift
    /// --fail-on-drift` uses) has held this long, over a window of at least `min_rows` rows.
    pub drift_for: Option<Duration>,
    /// Live rows the drift window needs before its verdict counts.
    pub min_rows: u64,
    /// Live accuracy (classifiers) under this, over at least `min_labels` labels.
    pub accuracy_below: Option<f64>,
    /// Live mean absolute error (regressors) over this, over at least `min_labels` labels.
    pub mae_above: Option<f64>,
    /// Labels the live quality window needs before its metrics count.
    pub min_labels: usize,
    /// The current version was trained longer ago than this.
    pub max_age: Option<Duration>,
    /// A fixed interval since the last trigger (or since the server started).
    pub every: Option<Duration>,
    /// The least time between two triggers of one model, whatever their reasons.
    pub debounce: Duration,
    /// How often the conditions are checked.
    pub check_interval: Duration,
    /// What runs when a trigger fires.
    pub actions: Actions,
}

/// What runs when a trigger fires: each one given gets the same JSON payload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actions {
    /// A shell command (`sh -c`), with the payload on its stdin and in `TABSHIP_TRIGGER`.
    pub command: Option<String>,
    /// A URL the payload is POSTed to.
    pub webhook: Option<String>,
    /// How long a command or a webhook may take before it is stopped and counted as an error.
    pub timeout: Duration,
}

impl Default for RetrainPolicy {
    fn default() -> Self {
        RetrainPolicy {
            drift_for: None,
            min_rows: 500,
            accuracy_below: None,
            mae_above: None,
            min_labels: 200,
            max_age: None,
            every: None,
            debounce: Duration::from_secs(3600),
            check_interval: Duration::from_secs(30),
            actions: Actions {
                command: None,
                webhook: None,
                timeout: Duration::from_secs(3600),
            },
        }
    }
}

impl RetrainPolicy {
    /// True when some condition is set (alerts need only an action).
    pub fn has_conditions(&self) -> bool {
        self.drift_for.is_some()
            || self.accuracy_below.is_some()
            || self.mae_above.is_some()
            || self.max_age.is_some()
            || self.every.is_some()
    }

    /// Checks the values a user can get wrong; the message names the option.
    pub fn validate(&self) -> Result<(), String> {
        if self.actions.command.is_none() && self.actions.webhook.is_none() {
            return Err(
                "retraining triggers need --retrain-command or --retrain-webhook to run".to_owned(),
            );
        }
        if let Some(a) = self.accuracy_below
            && !(a > 0.0 && a <= 1.0)
        {
            return Err(format!(
                "--retrain-below-accuracy: expected a number in (0, 1], got `{a}`"
            ));
        }
        if let Some(m) = self.mae_above
            && !(m.is_finite() && m >= 0.0)
        {
            return Err(format!(
                "--retrain-above-mae: expected a finite number ≥ 0, got `{m}`"
            ));
        }
        if self.min_labels == 0 {
            return Err("--retrain-min-labels: expected at least 1, got `0`".to_owned());
        }
        if self.check_interval.is_zero() {
            return Err("--retrain-check-interval: expected more than 0 s".to_owned());
        }
        if self.actions.timeout.is_zero() {
            return Err("--retrain-timeout: expected more than 0 s".to_owned());
        }
        if let Some(url) = &self.actions.webhook
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(format!(
                "--retrain-webhook: expected an http:// or https:// URL, got `{url}`"
            ));
        }
        Ok(())
    }
}

/// Why a retraining was triggered.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Reason {
    /// The dataset drift verdict held for `held_seconds`.
    Drift {
        /// How long the verdict has held.
        held_seconds: f64,
        /// The drift policy's reasons (drifted columns, the prediction, unknown values).
        reasons: Vec<String>,
    },
    /// Live accuracy fell under the threshold.
    Accuracy {
        /// The window's accuracy.
        value: f64,
        /// `--retrain-below-accuracy`.
        threshold: f64,
    },
    /// Live mean absolute error rose over the threshold.
    Mae {
        /// The window's MAE.
        value: f64,
        /// `--retrain-above-mae`.
        threshold: f64,
    },
    /// The current version is older than `--max-model-age`.
    Stale {
        /// Seconds since the version was trained.
        age_seconds: f64,
        /// `--max-model-age` in seconds.
        max_age_seconds: f64,
    },
    /// `--retrain-every` has passed.
    Interval {
        /// The interval in seconds.
        every_seconds: f64,
    },
    /// An Alertmanager alert named the model.
    Alert {
        /// The alert's `alertname`.
        alertname: String,
    },
}

impl Reason {
    /// The metric label: `drift`, `accuracy`, `mae`, `stale`, `interval` or `alert`.
    pub fn kind(&self) -> &'static str {
        match self {
            Reason::Drift { .. } => "drift",
            Reason::Accuracy { .. } => "accuracy",
            Reason::Mae { .. } => "mae",
            Reason::Stale { .. } => "stale",
            Reason::Interval { .. } => "interval",
            Reason::Alert { .. } => "alert",
        }
    }
}

/// One look at a model's current version.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observation {
    /// The current version.
    pub version: String,
    /// The dataset drift verdict and its reasons, when the artifact has a drift profile.
    pub drift: Option<(bool, Vec<String>)>,
    /// Rows in the drift window.
    pub drift_rows: u64,
    /// Labels in the live quality window.
    pub labels: usize,
    /// Live accuracy (classifiers).
    pub accuracy: Option<f64>,
    /// Live MAE (regressors).
    pub mae: Option<f64>,
    /// Time since the version was trained, when its training time can be read.
    pub age: Option<Duration>,
}

/// Why a trigger did not fire although it was asked to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Held {
    /// The model fired less than the debounce ago; the time left.
    Debounced(Duration),
    /// The actions of the model's last trigger are still running.
    Running,
}

/// The trigger state of one model.
#[derive(Debug, Clone)]
pub struct ModelTriggers {
    version: Option<String>,
    /// Since when the drift verdict has held without a break (at check granularity).
    drifted_since: Option<Instant>,
    /// When a trigger last fired (or, before any, when checks started: the interval's origin).
    last_fired: Option<Instant>,
    since: Instant,
    running: bool,
}

impl ModelTriggers {
    /// A model first seen at `now`.
    pub fn new(now: Instant) -> Self {
        ModelTriggers {
            version: None,
            drifted_since: None,
            last_fired: None,
            since: now,
            running: false,
        }
    }

    /// A model that last fired at `last_fired` (restored from the state directory).
    pub fn fired_at(now: Instant, last_fired: Instant) -> Self {
        ModelTriggers {
            last_fired: Some(last_fired),
            ..ModelTriggers::new(now)
        }
    }

    /// When the model last fired.
    pub fn last_fired(&self) -> Option<Instant> {
        self.last_fired
    }

    /// Reads one observation: updates how long drift has held and returns the first condition
    /// that holds (drift, accuracy, MAE, staleness, interval), if the debounce lets it fire. A
    /// returned reason has fired: call [`finished`](Self::finished) when its actions end.
    pub fn observe(
        &mut self,
        now: Instant,
        policy: &RetrainPolicy,
        obs: &Observation,
    ) -> Option<Reason> {
        if self.version.as_deref() != Some(obs.version.as_str()) {
            // A new current version starts a new drift window: its verdict starts over.
            self.version = Some(obs.version.clone());
            self.drifted_since = None;
        }
        let drift_reasons = match &obs.drift {
            Some((true, reasons)) if obs.drift_rows >= policy.min_rows => {
                self.drifted_since.get_or_insert(now);
                Some(reasons.clone())
            }
            _ => {
                self.drifted_since = None;
                None
            }
        };
        let reason = self.condition(now, policy, obs, drift_reasons)?;
        self.admit(now, policy.debounce).ok()?;
        Some(reason)
    }

    fn condition(
        &self,
        now: Instant,
        policy: &RetrainPolicy,
        obs: &Observation,
        drift_reasons: Option<Vec<String>>,
    ) -> Option<Reason> {
        if let (Some(held_for), Some(since), Some(reasons)) =
            (policy.drift_for, self.drifted_since, drift_reasons)
        {
            let held = now.saturating_duration_since(since);
            if held >= held_for {
                return Some(Reason::Drift {
                    held_seconds: held.as_secs_f64(),
                    reasons,
                });
            }
        }
        let enough_labels = obs.labels >= policy.min_labels;
        if let (Some(threshold), Some(value), true) =
            (policy.accuracy_below, obs.accuracy, enough_labels)
            && value < threshold
        {
            return Some(Reason::Accuracy { value, threshold });
        }
        if let (Some(threshold), Some(value), true) = (policy.mae_above, obs.mae, enough_labels)
            && value > threshold
        {
            return Some(Reason::Mae { value, threshold });
        }
        if let (Some(max), Some(age)) = (policy.max_age, obs.age)
            && age > max
        {
            return Some(Reason::Stale {
                age_seconds: age.as_secs_f64(),
                max_age_seconds: max.as_secs_f64(),
            });
        }
        if let Some(every) = policy.every {
            let origin = self.last_fired.unwrap_or(self.since);
            if now.saturating_duration_since(origin) >= every {
                return Some(Reason::Interval {
                    every_seconds: every.as_secs_f64(),
                });
            }
        }
        None
    }

    /// Fires now unless the debounce or a running action holds it; on success the model is
    /// running until [`finished`](Self::finished).
    pub fn admit(&mut self, now: Instant, debounce: Duration) -> Result<(), Held> {
        if self.running {
            return Err(Held::Running);
        }
        if let Some(last) = self.last_fired {
            let since = now.saturating_duration_since(last);
            if since < debounce {
                return Err(Held::Debounced(debounce - since));
            }
        }
        self.last_fired = Some(now);
        self.running = true;
        Ok(())
    }

    /// The actions of the last trigger have ended.
    pub fn finished(&mut self) {
        self.running = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetrainPolicy {
        RetrainPolicy {
            debounce: Duration::from_secs(100),
            ..RetrainPolicy::default()
        }
    }

    fn obs(version: &str) -> Observation {
        Observation {
            version: version.to_owned(),
            drift_rows: 1000,
            ..Observation::default()
        }
    }

    fn drifted(version: &str, drifted: bool) -> Observation {
        Observation {
            drift: Some((drifted, vec!["column `age` drifted".to_owned()])),
            ..obs(version)
        }
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn drift_fires_only_after_holding_without_a_break() {
        let p = RetrainPolicy {
            drift_for: Some(secs(60)),
            ..policy()
        };
        let t0 = Instant::now();
        let mut m = ModelTriggers::new(t0);
        assert_eq!(m.observe(t0, &p, &drifted("1", true)), None);
        assert_eq!(m.observe(t0 + secs(30), &p, &drifted("1", true)), None);
        // A break restarts the clock.
        assert_eq!(m.observe(t0 + secs(40), &p, &drifted("1", false)), None);
        assert_eq!(m.observe(t0 + secs(50), &p, &drifted("1", true)), None);
        assert_eq!(m.observe(t0 + secs(100), &p, &drifted("1", true)), None);
        let fired = m.observe(t0 + secs(110), &p, &drifted("1", true));
        assert_eq!(
            fired,
            Some(Reason::Drift {
                held_seconds: 60.0,
                reasons: vec!["column `age` drifted".to_owned()]
            })
        );
    }

    #[test]
    fn a_small_drift_window_does_not_count() {
        let p = RetrainPolicy {
            drift_for: Some(secs(0)),
            ..policy()
        };
        let t0 = Instant::now();
        let mut m = ModelTriggers::new(t0);
        let few = Observation {
            drift_rows: 499,
            ..drifted("1", true)
        };
        assert_eq!(m.observe(t0, &p, &few), None);
        assert!(m.observe(t0, &p, &drifted("1", true)).is_some());
    }

    #[test]
    fn a_new_version_restarts_the_drift_clock() {
        let p = RetrainPolicy {
            drift_for: Some(secs(60)),
            ..policy()
        };
        let t0 = Instant::now();
        let mut m = ModelTriggers::new(t0);
        assert_eq!(m.observe(t0, &p, &drifted("1", true)), None);
        assert_eq!(m.observe(t0 + secs(59), &p, &drifted("2", true)), None);
        assert_eq!(m.observe(t0 + secs(61), &p, &drifted("2", true)), None);
        assert!(m.observe(t0 + secs(119), &p, &drifted("2", true)).is_some());
    }

    #[test]
    fn accuracy_needs_enough_labels_and_a_value_under_the_threshold() {
        let p = RetrainPolicy {
            accuracy_below: Some(0.8),
            min_labels: 100,
            ..policy()
        };
        let t0 = Instant::now();
        let mut m = ModelTriggers::new(t0);
        let low = |labels| Observation {
            labels,
            accuracy: Some(0.7),
            ..obs("1")
        };
        assert_eq!(m.observe(t0, &p, &low(99)), None);
        let at = Observation {
            accuracy: Some(0.8),
            ..low(100)
        };
        assert_eq!(
            m.observe(t0, &p, &at),
            None,
            "equal to the threshold is fine"
        );
        assert_eq!(
            m.observe(t0, &p, &low(100)),
            Some(Reason::Accuracy {
                value: 0.7,
                threshold: 0.8
            })
        );
    }

    #[test]
    fn mae_and_staleness() {
        let p = RetrainPolicy {
            mae_above: Some(2.0),
            max_age: Some(secs(1000)),
            min_labels: 1,
            ..policy()
        };
        let t0 = Instant::now();
        let mut m = ModelTriggers::new(t0);
        let o = Observation {
            labels: 5,
            mae: Some(2.5),
            ..obs("1")
        };
        assert_eq!(
            m.observe(t0, &p, &o),
            Some(Reason::Mae {
                value: 2.5,
                threshold: 2.0
            })
        );
        let mut m = ModelTriggers::new(t0);
        let old = Observation {
            age: Some(secs(1001)),
            ..obs("1")
        };
        let young = Observation {
            age: Some(secs(1000)),
            ..obs("1")
        };
        assert_eq!(m.observe(t0, &p, &young), None);
        assert_eq!(
            m.observe(t0, &p, &old),
            Some(Reason::Stale {
                age_seconds: 1001.0,
                max_age_seconds: 1000.0
            })
        );
    }

    #[test]
    fn the_interval_counts_from_start_then_from_the_last_trigger() {
        let p = RetrainPolicy {
            every: Some(secs(300)),
            ..policy()
        };
        let t0 = Instant::now();
        let mut m = ModelTriggers::new(t0);
        assert_eq!(m.observe(t0 + secs(299), &p, &obs("1")), None);
        assert!(m.observe(t0 + secs(300), &p, &obs("1")).is_some());
        m.finished();
        assert_eq!(m.observe(t0 + secs(599), &p, &obs("1")), None);
        assert!(m.observe(t0 + secs(600), &p, &obs("1")).is_some());
    }

    #[test]
    fn debounce_and_running_hold_every_reason() {
        let p = RetrainPolicy {
            accuracy_below: Some(0.9),
            min_labels: 1,
            debounce: secs(100),
            ..policy()
        };
        let t0 = Instant::now();
        let mut m = ModelTriggers::new(t0);
        let bad = Observation {
            labels: 10,
            accuracy: Some(0.5),
            ..obs("1")
        };
        assert!(m.observe(t0, &p, &bad).is_some());
        // Still running: held even after the debounce.
        assert_eq!(m.observe(t0 + secs(200), &p, &bad), None);
        assert_eq!(m.admit(t0 + secs(200), p.debounce), Err(Held::Running));
        m.finished();
        assert_eq!(
            m.admit(t0 + secs(40), p.debounce),
            Err(Held::Debounced(secs(60)))
        );
        assert_eq!(m.observe(t0 + secs(99), &p, &bad), None);
        assert!(m.observe(t0 + secs(100), &p, &bad).is_some());
    }

    #[test]
    fn validation_names_the_option() {
        let mut p = policy();
        assert!(p.validate().unwrap_err().contains("--retrain-command"));
        p.actions.command = Some("true".to_owned());
        assert_eq!(p.validate(), Ok(()));
        p.accuracy_below = Some(1.5);
        assert!(
            p.validate()
                .unwrap_err()
                .contains("--retrain-below-accuracy")
        );
        p.accuracy_below = None;
        p.actions.webhook = Some("ftp://x".to_owned());
        assert!(p.validate().unwrap_err().contains("--retrain-webhook"));
    }
}
