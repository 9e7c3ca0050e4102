//! The live champion/challenger experiment of an A/B split, on this replica: per-version
//! feedback counts since load, and while a model's split has two arms of which one is the
//! current version (the champion) an always-valid sequential test (the mSPRT of
//! `tabship_drift::compare::Sequential`) of the difference of their error rates (classifiers) or
//! of their mean absolute errors (regressors), read by `GET /models/{name}/experiment` with the
//! verdict of `tabship compare`'s rule.
//!
//! The test restarts whenever the pair of versions in the split changes. It lives in memory, per
//! replica: each replica tests the labels it joined (see `docs/compare.md`). With `--state-dir`
//! the running tests are saved (`experiments.json`, see `saved`) at most every
//! `SAVE_EVERY` while labels arrive and at shutdown, and restored at start when the restored
//! split pairs the same two versions.
//!
//! With `--auto-promote` ([`ExperimentOptions::auto_promote`]) the first verdict other than
//! `inconclusive` is acted on through the admin path (saved with `--state-dir`, logged, counted
//! in `tabship_experiment_decisions_total`): `promote` makes the challenger the current version
//! and removes the split; `keep` removes the split, so all traffic goes back to the champion.

mod saved;

use std::collections::BTreeMap;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Path, State};
use rustc_hash::FxHashMap;
use serde_json::{Value, json};
use tabship::Task;
use tabship::drift::compare::{Arm, Measure, Sequential, SequentialOptions, Verdict};

use crate::error::ApiError;
use crate::metrics::{Labels, gauge_family};
use crate::monitoring::{Labelled, lock};
use crate::registry::{ModelEntry, Registry, RegistryCell};
use crate::state::AppState;

/// The experiment's settings (`tabship serve --experiment-alpha`, `--experiment-margin`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExperimentOptions {
    /// The sequential test's level, mixture and start (defaults: α 0.05, τ 0.05, 30 labels per
    /// arm).
    pub sequential: SequentialOptions,
    /// Minimum gain of the challenger for `promote` (default 0): accuracy points for classifiers,
    /// MAE units (the target's) for regressors.
    pub margin: f64,
    /// Act on the verdict (`tabship serve --auto-promote`; default off: report only).
    pub auto_promote: bool,
}

impl Default for ExperimentOptions {
    fn default() -> Self {
        ExperimentOptions {
            sequential: SequentialOptions::default(),
            margin: 0.0,
            auto_promote: false,
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
    /// A decision was handed to `--auto-promote` (it is acted on once).
    decided: bool,
}

/// A verdict for `--auto-promote` to act on.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Decision {
    champion: String,
    challenger: String,
    verdict: Verdict,
    p_value: f64,
    low: f64,
    high: f64,
    labels: (u64, u64),
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
    /// When the running tests were last saved; held while saving, so saves never interleave.
    saving: Mutex<Option<Instant>>,
    /// A running test changed since the last save.
    dirty: AtomicBool,
    /// The saved tests were restored (once, at the first load).
    restored: AtomicBool,
}

/// How often, at most, the running tests are saved while labels arrive (`--state-dir`).
pub(crate) const SAVE_EVERY: Duration = Duration::from_secs(2);

fn measure_of(task: Task) -> Measure {
    match task {
        Task::Classification => Measure::ErrorRate,
        Task::Regression => Measure::MeanLoss,
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
    /// sequential test when the version is an arm of the split's champion/challenger pair (on
    /// error rates for classifiers, mean absolute errors for regressors). With `auto_promote`,
    /// the first verdict that is not `inconclusive` is returned, once, for [`act`].
    pub(crate) fn record(
        &self,
        name: &str,
        entry: &ModelEntry,
        version: &str,
        labelled: Labelled,
        options: &ExperimentOptions,
    ) -> Option<Decision> {
        let mut models = lock(&self.models);
        let model = models.entry(name.to_owned()).or_default();
        let counts = model.versions.entry(version.to_owned()).or_default();
        counts.labels += 1;
        let (measure, loss) = match labelled {
            Labelled::Class { predicted, truth } => {
                counts.errors += u64::from(predicted != truth);
                (Measure::ErrorRate, f64::from(u8::from(predicted != truth)))
            }
            Labelled::Value { predicted, truth } => {
                counts.absolute_error += (predicted - truth).abs();
                (Measure::MeanLoss, (predicted - truth).abs())
            }
        };
        let Ok((champion, challenger)) = pair(entry) else {
            if model.running.take().is_some() {
                self.dirty.store(true, Ordering::Release);
            }
            return None;
        };
        let same = model.running.as_ref().is_some_and(|r| {
            r.champion == champion && r.challenger == challenger && r.test.measure() == measure
        });
        if !same {
            let test = Sequential::with_measure(options.sequential, measure).ok()?;
            model.running = Some(Running {
                champion,
                challenger,
                test,
                decided: false,
            });
        }
        let running = model.running.as_mut()?;
        if version == running.champion {
            running.test.observe_loss(Arm::First, loss);
        } else if version == running.challenger {
            running.test.observe_loss(Arm::Second, loss);
        } else {
            return None;
        }
        self.dirty.store(true, Ordering::Release);
        let status = running.test.status();
        if !options.auto_promote || running.decided || !status.started {
            return None;
        }
        let verdict = status.verdict(options.margin);
        if verdict == Verdict::Inconclusive {
            return None;
        }
        running.decided = true;
        Some(Decision {
            champion: running.champion.clone(),
            challenger: running.challenger.clone(),
            verdict,
            p_value: status.p_value,
            low: status.low,
            high: status.high,
            labels: (status.first.labels, status.second.labels),
        })
    }

    /// The running tests, for saving.
    fn snapshot(&self) -> BTreeMap<String, saved::SavedRun> {
        let models = lock(&self.models);
        models
            .iter()
            .filter_map(|(name, m)| {
                let r = m.running.as_ref()?;
                Some((
                    name.clone(),
                    saved::SavedRun {
                        champion: r.champion.clone(),
                        challenger: r.challenger.clone(),
                        decided: r.decided,
                        test: r.test.clone(),
                    },
                ))
            })
            .collect()
    }

    /// Saves the running tests in `dir` when they changed and the last save is at least
    /// [`SAVE_EVERY`] old; skipped while another save runs (it has the newer counts).
    pub(crate) fn save_if_due(&self, dir: &std::path::Path) {
        let Ok(mut last) = self.saving.try_lock() else {
            return;
        };
        if last.is_some_and(|t| t.elapsed() < SAVE_EVERY) {
            return;
        }
        if self.dirty.swap(false, Ordering::AcqRel) {
            saved::write(dir, self.snapshot());
            *last = Some(Instant::now());
        }
    }

    /// Saves the running tests in `dir` when they changed since the last save (at shutdown).
    pub(crate) fn save(&self, dir: &std::path::Path) {
        let mut last = lock(&self.saving);
        if self.dirty.swap(false, Ordering::AcqRel) {
            saved::write(dir, self.snapshot());
            *last = Some(Instant::now());
        }
    }

    /// Restores the tests saved in `dir` (once, at the first load) whose model's restored split
    /// pairs the same champion and challenger, on the same task, with the same test `options`;
    /// every other saved test is discarded with a log line.
    pub(crate) fn restore(
        &self,
        dir: &std::path::Path,
        registry: &Registry,
        options: &ExperimentOptions,
    ) {
        if self.restored.swap(true, Ordering::AcqRel) {
            return;
        }
        let mut models = lock(&self.models);
        for (name, run) in saved::read(dir) {
            let entry = registry.models.get(&name);
            let split = entry.map(pair);
            let measure = entry.map(|e| measure_of(e.current_model().pipeline.task()));
            let why = match (&split, measure) {
                (None, _) => Some("the model is not served".to_owned()),
                (Some(Err(reason)), _) => Some((*reason).to_owned()),
                (Some(Ok((c, d))), _) if (c, d) != (&run.champion, &run.challenger) => Some(
                    format!("the split now pairs champion `{c}` with challenger `{d}`"),
                ),
                (_, Some(m)) if m != run.test.measure() => {
                    Some("the model's task changed".to_owned())
                }
                _ if *run.test.options() != options.sequential => Some(
                    "the test options (--experiment-alpha, -tau, -min-labels) changed".to_owned(),
                ),
                _ => None,
            };
            if let Some(why) = why {
                tracing::warn!(
                    model = %name, champion = %run.champion, challenger = %run.challenger,
                    "saved experiment discarded: {why}"
                );
                continue;
            }
            let status = run.test.status();
            tracing::info!(
                model = %name, champion = %run.champion, challenger = %run.challenger,
                champion_labels = status.first.labels, challenger_labels = status.second.labels,
                p_value = status.p_value, "saved experiment restored"
            );
            models.entry(name).or_default().running = Some(Running {
                champion: run.champion,
                challenger: run.challenger,
                test: run.test,
                decided: run.decided,
            });
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
        let measure = measure_of(task);
        let experiment = match pair(entry) {
            Err(reason) => json!({"running": false, "reason": reason}),
            Ok((champion, challenger)) => {
                let running = model
                    .and_then(|m| m.running.as_ref())
                    .filter(|r| r.champion == champion && r.challenger == challenger)
                    .filter(|r| r.test.measure() == measure);
                let status = match running {
                    Some(r) => r.test.status(),
                    None => match Sequential::with_measure(options.sequential, measure) {
                        Ok(t) => t.status(),
                        Err(_) => return json!({"model": name, "versions": versions}),
                    },
                };
                let verdict = status.verdict(options.margin);
                let arm = |version: &str, counts: tabship::drift::compare::ArmCounts| {
                    let seen = counts.labels > 0;
                    match measure {
                        Measure::ErrorRate => json!({
                            "version": version,
                            "labels": counts.labels,
                            "errors": counts.errors,
                            "accuracy": seen.then(|| 1.0 - counts.error_rate()),
                        }),
                        Measure::MeanLoss => json!({
                            "version": version,
                            "labels": counts.labels,
                            "mae": seen.then(|| counts.mean_loss()),
                        }),
                    }
                };
                // A mean loss has no bound: no interval before the test starts.
                let interval = (measure == Measure::ErrorRate || status.started)
                    .then(|| json!({"low": status.low, "high": status.high}));
                json!({
                    "running": true,
                    "champion": arm(&champion, status.first),
                    "challenger": arm(&challenger, status.second),
                    "metric": metric_name,
                    "difference": status.difference,
                    "p_value": status.p_value,
                    "confidence_interval": interval,
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

/// The experiments' gauges, read at scrape time: for each running experiment its always-valid
/// p-value, difference (accuracy gain or MAE reduction) and confidence sequence, labelled by model, champion and
/// challenger, and its verdict (value 1).
#[derive(Debug)]
pub(crate) struct Collector {
    models: Arc<RegistryCell>,
    experiments: Arc<Experiments>,
    options: ExperimentOptions,
}

impl Collector {
    /// A collector of `experiments` over the served `models`.
    pub(crate) fn new(
        models: Arc<RegistryCell>,
        experiments: Arc<Experiments>,
        options: ExperimentOptions,
    ) -> Self {
        Collector {
            models,
            experiments,
            options,
        }
    }
}

impl prometheus_client::collector::Collector for Collector {
    fn encode(
        &self,
        mut encoder: prometheus_client::encoding::DescriptorEncoder,
    ) -> Result<(), std::fmt::Error> {
        let registry = self.models.load();
        let (mut p, mut difference, mut low, mut high, mut verdicts) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        {
            let models = lock(&self.experiments.models);
            for (name, entry) in &registry.models {
                let Ok((champion, challenger)) = pair(entry) else {
                    continue;
                };
                let Some(running) = models
                    .get(name)
                    .and_then(|m| m.running.as_ref())
                    .filter(|r| r.champion == champion && r.challenger == challenger)
                else {
                    continue;
                };
                let s = running.test.status();
                let labels: Labels = vec![
                    ("model", name.clone()),
                    ("champion", champion),
                    ("challenger", challenger),
                ];
                let verdict = s.verdict(self.options.margin);
                let mut v = labels.clone();
                v.push(("verdict", verdict.name().to_owned()));
                verdicts.push((v, 1.0));
                p.push((labels.clone(), s.p_value));
                difference.push((labels.clone(), s.difference));
                // A mean loss's interval is unbounded (±f64::MAX) until the test starts.
                if s.started || s.measure == Measure::ErrorRate {
                    low.push((labels.clone(), s.low));
                    high.push((labels, s.high));
                }
            }
        }
        let e = &mut encoder;
        gauge_family(
            e,
            "tabship_experiment_p_value",
            "Always-valid p-value of no accuracy (classifiers) or MAE (regressors) difference between an A/B split's champion and challenger (this replica)",
            &p,
        )?;
        gauge_family(
            e,
            "tabship_experiment_difference",
            "Challenger accuracy minus champion accuracy (classifiers), champion MAE minus challenger MAE (regressors), on the labels of the running A/B experiment",
            &difference,
        )?;
        gauge_family(
            e,
            "tabship_experiment_interval_low",
            "Lower end of the confidence sequence of the difference",
            &low,
        )?;
        gauge_family(
            e,
            "tabship_experiment_interval_high",
            "Upper end of the confidence sequence of the difference",
            &high,
        )?;
        gauge_family(
            e,
            "tabship_experiment_verdict",
            "The running experiment's verdict (value 1): promote, keep or inconclusive",
            &verdicts,
        )
    }
}

/// Acts on an `--auto-promote` decision for model `name` through the admin path (saved with a
/// state directory before it is served): `promote` makes the challenger current (the champion
/// goes to the history, so `rollback` undoes it) and removes the split; `keep` removes the split.
/// Nothing changes when the split no longer pairs the same versions (an operator changed it
/// meanwhile). Every outcome is logged; applied decisions are counted.
pub(crate) async fn act(state: &Arc<AppState>, name: &str, decision: Decision) {
    let Decision {
        champion,
        challenger,
        verdict,
        p_value,
        low,
        high,
        labels,
    } = decision;
    let result = crate::admin::change(state, name, |entry| {
        if pair(entry).ok() != Some((champion.clone(), challenger.clone())) {
            return Err(ApiError::new(
                axum::http::StatusCode::CONFLICT,
                "split_changed",
                "the split no longer pairs the tested versions",
            ));
        }
        if verdict == Verdict::Promote {
            let previous = std::mem::replace(&mut entry.current, challenger.clone());
            entry.history.push(previous);
        }
        entry.split = None;
        Ok(())
    })
    .await;
    match result {
        Ok(_) => {
            tracing::info!(
                model = %name, %champion, %challenger, verdict = verdict.name(), p_value, low, high,
                champion_labels = labels.0, challenger_labels = labels.1,
                "experiment decided: {}",
                if verdict == Verdict::Promote { "challenger promoted, split removed" } else { "champion kept, split removed" }
            );
            state
                .metrics
                .experiment_decisions
                .get_or_create(&crate::metrics::DecisionLabels {
                    model: name.to_owned(),
                    decision: verdict.name().to_owned(),
                })
                .inc();
        }
        Err(e) => tracing::warn!(
            model = %name, %champion, %challenger, verdict = verdict.name(), error = ?e,
            "experiment decision not applied"
        ),
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
