//! The live champion/challenger experiment of an A/B split, on this replica: per-version
//! feedback counts since load, and while a model's split has two arms of which one is the
//! current version (the champion) an always-valid sequential test (the mSPRT of
//! `tabship_drift::compare::Sequential`) of the difference of their error rates, read by
//! `GET /models/{name}/experiment` with the verdict of `tabship compare`'s rule.
//!
//! The test restarts whenever the pair of versions in the split changes. It lives in memory, per
//! replica: each replica tests the labels it joined (see `docs/compare.md`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Json;
use axum::extract::{Path, State};
use rustc_hash::FxHashMap;
use serde_json::{Value, json};
use tabship::Task;
use tabship::drift::compare::{Arm, Sequential, SequentialOptions, Verdict, decide};

use crate::error::ApiError;
use crate::monitoring::Labelled;
use crate::registry::ModelEntry;
use crate::state::AppState;

/// The experiment's settings (`tabship serve --experiment-alpha`, `--experiment-margin`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExperimentOptions {
    /// The sequential test's level, mixture and start (defaults: α 0.05, τ 0.05, 30 labels per
    /// arm).
    pub sequential: SequentialOptions,
    /// Minimum accuracy gain of the challenger for `promote` (default 0).
    pub margin: f64,
}

impl Default for ExperimentOptions {
    fn default() -> Self {
        ExperimentOptions {
            sequential: SequentialOptions::default(),
            margin: 0.0,
        }
    }
}

/// Labels joined to one version's predictions on this replica.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct VersionCounts {
    labels: u64,
    /// Wrong classes (classifiers).
    errors: u64,
    /// Sum of absolute errors (regressors).
    absolute_error: f64,
}

/// A running test between the champion and the challenger of a split.
#[derive(Debug, Clone)]
struct Running {
    champion: String,
    challenger: String,
    test: Sequential,
}

#[derive(Debug, Default)]
struct ModelExperiment {
    versions: BTreeMap<String, VersionCounts>,
    running: Option<Running>,
}

/// Every model's experiment on this replica.
#[derive(Debug, Default)]
pub(crate) struct Experiments {
    models: Mutex<FxHashMap<String, ModelExperiment>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// The champion and the challenger of `entry`'s split: two arms, one of them the current
/// version. `None` otherwise (no split, more arms, or a split that leaves the current version
/// out), with the reason.
fn pair(entry: &ModelEntry) -> Result<(String, String), &'static str> {
    let Some(split) = &entry.split else {
        return Err("no A/B split: set one with PUT /admin/models/{name}/split");
    };
    match split.arms.as_slice() {
        [(a, _), (b, _)] if *a == entry.current => Ok((a.clone(), b.clone())),
        [(a, _), (b, _)] if *b == entry.current => Ok((b.clone(), a.clone())),
        [_, _] => Err("the split leaves the current version (the champion) out"),
        _ => Err("the split has more than two versions: the test compares two"),
    }
}

impl Experiments {
    /// Counts a label joined to a prediction of `version` of model `name`, and feeds the
    /// sequential test when the version is an arm of the split's champion/challenger pair
    /// (classifiers: the test is on error rates).
    pub(crate) fn record(
        &self,
        name: &str,
        entry: &ModelEntry,
        version: &str,
        labelled: Labelled,
        options: &ExperimentOptions,
    ) {
        let mut models = lock(&self.models);
        let model = models.entry(name.to_owned()).or_default();
        let counts = model.versions.entry(version.to_owned()).or_default();
        counts.labels += 1;
        let error = match labelled {
            Labelled::Class { predicted, truth } => {
                counts.errors += u64::from(predicted != truth);
                Some(predicted != truth)
            }
            Labelled::Value { predicted, truth } => {
                counts.absolute_error += (predicted - truth).abs();
                None
            }
        };
        let (Some(error), Ok((champion, challenger))) = (error, pair(entry)) else {
            model.running = None;
            return;
        };
        let same = model
            .running
            .as_ref()
            .is_some_and(|r| r.champion == champion && r.challenger == challenger);
        if !same {
            let Ok(test) = Sequential::new(options.sequential) else {
                return;
            };
            model.running = Some(Running {
                champion,
                challenger,
                test,
            });
        }
        if let Some(running) = &mut model.running {
            if version == running.champion {
                running.test.observe(Arm::First, error);
            } else if version == running.challenger {
                running.test.observe(Arm::Second, error);
            }
        }
    }

    /// The experiment report of model `name` (see the module docs).
    fn report(
        &self,
        name: &str,
        entry: &ModelEntry,
        task: Task,
        options: &ExperimentOptions,
    ) -> Value {
        let models = lock(&self.models);
        let model = models.get(name);
        let counts = |version: &str| {
            model
                .and_then(|m| m.versions.get(version))
                .copied()
                .unwrap_or_default()
        };
        let metric = |c: VersionCounts| {
            (c.labels > 0).then(|| match task {
                Task::Classification => 1.0 - c.errors as f64 / c.labels as f64,
                Task::Regression => c.absolute_error / c.labels as f64,
            })
        };
        let metric_name = match task {
            Task::Classification => "accuracy",
            Task::Regression => "mae",
        };
        let versions: Vec<Value> = entry
            .versions
            .keys()
            .map(|v| {
                let c = counts(v);
                json!({"version": v, "labels": c.labels, metric_name: metric(c)})
            })
            .collect();
        let experiment = match (pair(entry), task) {
            (Err(reason), _) => Err(reason),
            (Ok(_), Task::Regression) => {
                Err("the sequential test compares error rates: classifiers only")
            }
            (Ok((champion, challenger)), Task::Classification) => Ok((champion, challenger)),
        };
        let experiment = match experiment {
            Err(reason) => json!({"running": false, "reason": reason}),
            Ok((champion, challenger)) => {
                let running = model
                    .and_then(|m| m.running.as_ref())
                    .filter(|r| r.champion == champion && r.challenger == challenger);
                let status = match running {
                    Some(r) => r.test.status(),
                    None => match Sequential::new(options.sequential) {
                        Ok(t) => t.status(),
                        Err(_) => return json!({"model": name, "versions": versions}),
                    },
                };
                let verdict = if status.started {
                    decide(
                        status.low,
                        status.high,
                        Some(status.p_value),
                        status.alpha,
                        options.margin,
                    )
                } else {
                    Verdict::Inconclusive
                };
                let arm = |version: &str, counts: tabship::drift::compare::ArmCounts| {
                    json!({
                        "version": version,
                        "labels": counts.labels,
                        "errors": counts.errors,
                        "accuracy": (counts.labels > 0).then(|| 1.0 - counts.error_rate()),
                    })
                };
                json!({
                    "running": true,
                    "champion": arm(&champion, status.first),
                    "challenger": arm(&challenger, status.second),
                    "metric": "accuracy",
                    "difference": status.difference,
                    "p_value": status.p_value,
                    "confidence_interval": {"low": status.low, "high": status.high},
                    "alpha": status.alpha,
                    "tau": options.sequential.tau,
                    "margin": options.margin,
                    "started": status.started,
                    "min_labels": options.sequential.min_labels,
                    "verdict": verdict,
                })
            }
        };
        json!({
            "model": name,
            "scope": "replica",
            "metric": metric_name,
            "versions": versions,
            "experiment": experiment,
        })
    }
}

/// `GET /models/{name}/experiment`.
pub(crate) async fn experiment(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let registry = state.registry();
    let entry = registry.model(&name)?;
    let task = entry.current_model().pipeline.task();
    Ok(Json(state.experiments.report(
        &name,
        entry,
        task,
        &state.options.experiment,
    )))
}
