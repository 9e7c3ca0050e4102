//! Retraining triggers (`--retrain-*`): the server watches each model's current version (drift
//! verdict held for a time, live accuracy or MAE, age, a fixed interval) and, at most once per
//! debounce, runs a command and/or POSTs a webhook with a JSON [`Payload`] naming the model,
//! the version, the reason and the live metrics. Alertmanager can trigger the same actions through
//! `POST /admin/alerts` ([`alerts`]). Triggers only start the work: the command retrains,
//! compares and uploads (see `tabship retrain`, `tabship compare` and the admin API).
//!
//! State is per process: each replica watches its own windows, so a fleet should trigger from
//! one place (one replica with the flags, or Alertmanager over the fleet's metrics).

mod action;
pub(crate) mod alerts;
mod decide;
mod saved;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Serialize;

pub use decide::{Actions, Held, ModelTriggers, Observation, Reason, RetrainPolicy};

use crate::registry::LoadedModel;
use crate::state::AppState;

/// The JSON sent to the command (stdin and `TABSHIP_TRIGGER`) and the webhook.
#[derive(Debug, Clone, Serialize)]
pub struct Payload {
    /// Always `retrain`.
    pub event: &'static str,
    /// The model's name.
    pub model: String,
    /// Its current version.
    pub version: String,
    /// `sha256:<hex>` of the version's artifact.
    pub checksum: String,
    /// Where the version was loaded from (a path, or `upload`).
    pub source: String,
    /// Why.
    pub reason: Reason,
    /// When, RFC 3339 UTC.
    pub triggered_at: String,
    /// The version's live state when it fired.
    pub metrics: PayloadMetrics,
}

/// Live metrics of the version in a [`Payload`].
#[derive(Debug, Clone, Serialize)]
pub struct PayloadMetrics {
    /// Labels received since load.
    pub labelled: u64,
    /// Labels in the quality window.
    pub window_labels: usize,
    /// Window accuracy (classifiers).
    pub accuracy: Option<f64>,
    /// Window F1 (classifiers).
    pub f1: Option<f64>,
    /// Window MAE (regressors).
    pub mae: Option<f64>,
    /// Rows in the drift window.
    pub drift_rows: u64,
    /// The dataset drift verdict over the window (without a drift profile: `null`).
    pub drifted: Option<bool>,
    /// Seconds since the version was trained.
    pub age_seconds: Option<f64>,
}

/// The triggers of a server.
#[derive(Debug)]
pub struct Triggers {
    policy: RetrainPolicy,
    models: Mutex<HashMap<String, ModelTriggers>>,
    client: reqwest::Client,
    state_dir: Option<std::path::PathBuf>,
    /// How the command reaches this server (`TABSHIP_SERVER_URL`), set once it listens.
    server_url: std::sync::OnceLock<String>,
}

impl Triggers {
    /// Saves when each model last fired (with a state directory).
    fn save(&self, models: &HashMap<String, ModelTriggers>) {
        if let Some(dir) = &self.state_dir {
            let last = models
                .iter()
                .filter_map(|(name, m)| Some((name.clone(), m.last_fired()?)))
                .collect();
            saved::save(dir, &last);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Triggers {
    /// Triggers following `policy` (checked with [`RetrainPolicy::validate`]), resuming when
    /// each model last fired from `state_dir` (`triggers.json`).
    pub fn new(
        policy: RetrainPolicy,
        state_dir: Option<&std::path::Path>,
    ) -> crate::error::Result<Self> {
        policy.validate().map_err(crate::error::Error::Config)?;
        let client = reqwest::Client::builder()
            .timeout(policy.actions.timeout)
            .build()
            .map_err(|e| crate::error::Error::Config(format!("--retrain-webhook: {e}")))?;
        let now = Instant::now();
        let models = state_dir
            .map(|dir| saved::load(dir, now))
            .unwrap_or_default()
            .into_iter()
            .map(|(model, last)| (model, ModelTriggers::fired_at(now, last)))
            .collect();
        Ok(Triggers {
            policy,
            models: Mutex::new(models),
            client,
            state_dir: state_dir.map(std::path::Path::to_path_buf),
            server_url: std::sync::OnceLock::new(),
        })
    }

    /// The policy.
    pub fn policy(&self) -> &RetrainPolicy {
        &self.policy
    }
}

/// Records the address the server listens on, for the command's `TABSHIP_SERVER_URL` (a
/// wildcard address becomes loopback: the command runs beside the server).
pub(crate) fn set_listen_address(state: &AppState, addr: std::net::SocketAddr, tls: bool) {
    let Some(triggers) = &state.triggers else {
        return;
    };
    let ip = match addr.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    let scheme = if tls { "https" } else { "http" };
    let _ = triggers.server_url.set(format!(
        "{scheme}://{}",
        std::net::SocketAddr::new(ip, addr.port())
    ));
}

/// Time since `model` was trained ([`crate::staleness::age_seconds`]); `None` when its training
/// time cannot be read.
pub(crate) fn model_age(model: &LoadedModel) -> Option<Duration> {
    let age = crate::staleness::age_seconds(
        &model.pipeline.training().created_at,
        time::OffsetDateTime::now_utc(),
    )?;
    Duration::try_from_secs_f64(age.max(0.0)).ok()
}

/// One look at `model` for the conditions, and the metrics of its payload.
fn observe(state: &AppState, model: &LoadedModel) -> (Observation, PayloadMetrics) {
    let q = model.monitor.quality();
    let report = model.monitor.drift_report(&state.options.drift);
    let age = model_age(model);
    let observation = Observation {
        version: model.version.clone(),
        drift: report.as_ref().map(|(r, _)| (r.drifted, r.reasons.clone())),
        drift_rows: report.as_ref().map_or(0, |(r, _)| r.rows),
        labels: q.window,
        accuracy: q.accuracy,
        mae: q.mae,
        age,
    };
    let metrics = PayloadMetrics {
        labelled: q.labelled,
        window_labels: q.window,
        accuracy: q.accuracy,
        f1: q.f1,
        mae: q.mae,
        drift_rows: observation.drift_rows,
        drifted: report.as_ref().map(|(r, _)| r.drifted),
        age_seconds: age.map(|a| a.as_secs_f64()),
    };
    (observation, metrics)
}

/// Checks every model's current version once and starts the actions of those that fire.
pub(crate) fn check(state: &Arc<AppState>, now: Instant) {
    let Some(triggers) = &state.triggers else {
        return;
    };
    if !triggers.policy.has_conditions() {
        return;
    }
    let registry = state.registry.load();
    for (name, entry) in &registry.models {
        let model = entry.current_model();
        let (observation, metrics) = observe(state, model);
        let fired = {
            let mut models = lock(&triggers.models);
            let fired = models
                .entry(name.clone())
                .or_insert_with(|| ModelTriggers::new(now))
                .observe(now, &triggers.policy, &observation);
            if fired.is_some() {
                triggers.save(&models);
            }
            fired
        };
        if let Some(reason) = fired {
            start(state, model, reason, metrics);
        }
    }
}

/// Fires `model`'s trigger for `reason` now unless the debounce or a running action holds it.
pub(crate) fn fire(
    state: &Arc<AppState>,
    triggers: &Triggers,
    model: &LoadedModel,
    reason: Reason,
) -> Result<(), Held> {
    let now = Instant::now();
    {
        let mut models = lock(&triggers.models);
        models
            .entry(model.name.clone())
            .or_insert_with(|| ModelTriggers::new(now))
            .admit(now, triggers.policy.debounce)?;
        triggers.save(&models);
    }
    let (_, metrics) = observe(state, model);
    start(state, model, reason, metrics);
    Ok(())
}

/// Counts, logs and runs the actions of a trigger that has fired, in the background.
fn start(state: &Arc<AppState>, model: &LoadedModel, reason: Reason, metrics: PayloadMetrics) {
    let payload = Payload {
        event: "retrain",
        model: model.name.clone(),
        version: model.version.clone(),
        checksum: model.checksum.clone(),
        source: model.source.clone(),
        reason,
        triggered_at: crate::registry::now_rfc3339(),
        metrics,
    };
    state
        .metrics
        .retrain_triggered(&payload.model, payload.reason.kind());
    tracing::warn!(
        model = %payload.model,
        version = %payload.version,
        reason = payload.reason.kind(),
        detail = %serde_json::to_string(&payload.reason).unwrap_or_default(),
        "retraining triggered"
    );
    let state = state.clone();
    tokio::spawn(async move {
        action::run_all(&state, &payload).await;
        if let Some(triggers) = &state.triggers
            && let Some(m) = lock(&triggers.models).get_mut(&payload.model)
        {
            m.finished();
        }
    });
}

/// Checks the conditions every `check_interval` until the process ends (a no-op without
/// triggers or conditions).
pub(crate) fn spawn_checks(state: Arc<AppState>) {
    let Some(triggers) = &state.triggers else {
        return;
    };
    if !triggers.policy.has_conditions() {
        return;
    }
    let every = triggers.policy.check_interval;
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let state = state.clone();
            // Drift reports bin a whole window: off the async threads.
            let checked = tokio::task::spawn_blocking(move || check(&state, Instant::now())).await;
            if let Err(e) = checked {
                tracing::error!(error = %e, "the retraining check failed");
            }
        }
    });
}
