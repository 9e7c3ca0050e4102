//! Prometheus metrics: HTTP traffic measured by the middleware, and a collector that reads the
//! models at scrape time (predictions by class, Unknown/Other/Missing per column, live quality,
//! load time, build info), so the hot path only bumps atomics.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry as PromRegistry;
use tabship::Task;

use crate::registry::{LoadedModel, Registry, RegistryCell};

/// Labels of the request counter.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The matched route template (`/models/{name}/predict`), or `unmatched`.
    pub route: String,
    /// HTTP method.
    pub method: String,
    /// Status code.
    pub status: u16,
}

/// Labels of the latency histogram.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// The matched route template.
    pub route: String,
}

/// Labels per model version.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct VersionLabels {
    /// Model name.
    pub model: String,
    /// Version.
    pub version: String,
}

/// Labels of the retraining trigger counter.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TriggerLabels {
    /// Model name.
    pub model: String,
    /// `drift`, `accuracy`, `mae`, `stale`, `interval` or `alert`.
    pub reason: String,
}

/// Labels of the retraining action counter.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ActionLabels {
    /// Model name.
    pub model: String,
    /// `command` or `webhook`.
    pub action: String,
    /// `ok` or `error`.
    pub result: String,
}

/// Labels of an outcome counter.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabels {
    /// `ok` or `error`.
    pub result: String,
}

/// Labels of a rate-limit refusal.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LimitLabels {
    /// `principal` (`--rate-limit`) or `global` (`--global-rate-limit`).
    pub limit: String,
}

/// Labels of an `--auto-promote` decision.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DecisionLabels {
    /// Model name.
    pub model: String,
    /// `promote` (the challenger became current) or `keep` (the split was removed).
    pub decision: String,
}

fn latency_histogram() -> Histogram {
    Histogram::new([
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
        5.0, 10.0,
    ])
}

/// A counter per result, each series created at 0.
fn outcomes(results: &[&str]) -> Family<ResultLabels, Counter> {
    let family = Family::<ResultLabels, Counter>::default();
    for result in results {
        let _ = family.get_or_create(&ResultLabels {
            result: (*result).to_owned(),
        });
    }
    family
}

/// The server's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: PromRegistry,
    /// Requests by route, method and status.
    pub requests: Family<RequestLabels, Counter>,
    /// Request latency by route.
    pub latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    /// Requests being served.
    pub in_flight: Gauge,
    /// Labels received on `/feedback`.
    pub feedback: Family<VersionLabels, Counter>,
    /// Shadow predictions scored.
    pub shadow: Family<VersionLabels, Counter>,
    /// Shadow predictions that differ from the served one.
    pub shadow_disagreements: Family<VersionLabels, Counter>,
    /// Prediction-log lines dropped.
    pub log_dropped: Counter,
    /// Keys-file reloads by result (`ok`, `error`).
    pub keys_reloads: Family<ResultLabels, Counter>,
    /// JWT settings loads (start, SIGHUP) by result (`ok`, `error`).
    pub jwt_reloads: Family<ResultLabels, Counter>,
    /// Requests refused 429 by a rate limit, by limit (`principal`, `global`).
    pub rate_limited: Family<LimitLabels, Counter>,
    /// A/B experiments decided by `--auto-promote`, by model and decision.
    pub experiment_decisions: Family<DecisionLabels, Counter>,
    /// Artifact files found by the model-directory watcher, by result (`loaded`, `refused`).
    pub model_dir_files: Family<ResultLabels, Counter>,
    /// Retraining triggers fired, by model and reason.
    pub retrain_triggers: Family<TriggerLabels, Counter>,
    /// Retraining actions run, by model, action and result.
    pub retrain_actions: Family<ActionLabels, Counter>,
    /// The counters of unloaded versions (see [`Metrics::retire`]).
    retired: Arc<Mutex<Retired>>,
}

impl Metrics {
    /// Creates the metrics; `models` is read at every scrape, its drift judged by
    /// `options.drift`.
    pub fn new(models: Arc<RegistryCell>, options: &crate::Options) -> Self {
        let mut registry = PromRegistry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let latency: Family<RouteLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(latency_histogram);
        let in_flight = Gauge::default();
        let feedback = Family::<VersionLabels, Counter>::default();
        let shadow = Family::<VersionLabels, Counter>::default();
        let shadow_disagreements = Family::<VersionLabels, Counter>::default();
        let log_dropped = Counter::default();
        // Every result's series exists from the start, so `increase()` sees the first event.
        let keys_reloads = outcomes(&["ok", "error"]);
        let experiment_decisions = Family::<DecisionLabels, Counter>::default();
        registry.register(
            "tabship_http_requests",
            "HTTP requests by route, method and status",
            requests.clone(),
        );
        registry.register(
            "tabship_http_request_duration_seconds",
            "HTTP request latency by route",
            latency.clone(),
        );
        registry.register(
            "tabship_http_requests_in_flight",
            "HTTP requests being served",
            in_flight.clone(),
        );
        registry.register(
            "tabship_feedback",
            "True labels received on /feedback",
            feedback.clone(),
        );
        registry.register(
            "tabship_shadow_predictions",
            "Predictions scored by a shadow version",
            shadow.clone(),
        );
        registry.register(
            "tabship_shadow_disagreements",
            "Shadow predictions that differ from the served prediction",
            shadow_disagreements.clone(),
        );
        registry.register(
            "tabship_prediction_log_dropped",
            "Prediction log lines dropped because the writer fell behind",
            log_dropped.clone(),
        );
        registry.register(
            "tabship_keys_reloads",
            "Keys-file reloads (SIGHUP or POST /admin/keys/reload) by result",
            keys_reloads.clone(),
        );
        registry.register(
            "tabship_experiment_decisions",
            "A/B experiments decided by --auto-promote (promote: the challenger became current; keep: the split was removed)",
            experiment_decisions.clone(),
        );
        let jwt_reloads = outcomes(&["ok", "error"]);
        registry.register(
            "tabship_jwt_reloads",
            "JWT settings loads (the JWKS file or URL, the HS256 secret; at start and on SIGHUP) by result",
            jwt_reloads.clone(),
        );
        let rate_limited = Family::<LimitLabels, Counter>::default();
        for limit in ["principal", "global"] {
            let _ = rate_limited.get_or_create(&LimitLabels {
                limit: limit.to_owned(),
            });
        }
        registry.register(
            "tabship_rate_limited",
            "Requests refused 429 by --rate-limit (principal) or --global-rate-limit (global)",
            rate_limited.clone(),
        );
        let model_dir_files = outcomes(&["loaded", "refused"]);
        registry.register(
            "tabship_model_dir_files",
            "Artifact files the --model-dir watcher read after start-up, by result (loaded, refused: corrupt, incompatible or a version already loaded with other bytes)",
            model_dir_files.clone(),
        );
        let retrain_triggers = Family::<TriggerLabels, Counter>::default();
        let retrain_actions = Family::<ActionLabels, Counter>::default();
        registry.register(
            "tabship_retrain_triggers",
            "Retraining triggers fired, by model and reason",
            retrain_triggers.clone(),
        );
        registry.register(
            "tabship_retrain_actions",
            "Retraining actions run (command, webhook), by model and result",
            retrain_actions.clone(),
        );
        let retired = Arc::new(Mutex::new(Retired::default()));
        registry.register_collector(Box::new(ModelsCollector {
            models,
            retired: retired.clone(),
            drift: options.drift.clone(),
        }));
        Metrics {
            registry,
            requests,
            latency,
            in_flight,
            feedback,
            shadow,
            shadow_disagreements,
            log_dropped,
            keys_reloads,
            jwt_reloads,
            rate_limited,
            experiment_decisions,
            model_dir_files,
            retrain_triggers,
            retrain_actions,
            retired,
        }
    }

    /// Counts a fired retraining trigger.
    pub(crate) fn retrain_triggered(&self, model: &str, reason: &str) {
        self.retrain_triggers
            .get_or_create(&TriggerLabels {
                model: model.to_owned(),
                reason: reason.to_owned(),
            })
            .inc();
    }

    /// Counts a retraining action's outcome.
    pub(crate) fn retrain_action(&self, model: &str, action: &str, ok: bool) {
        self.retrain_actions
            .get_or_create(&ActionLabels {
                model: model.to_owned(),
                action: action.to_owned(),
                result: if ok { "ok" } else { "error" }.to_owned(),
            })
            .inc();
    }

    /// Keeps the counters of a version being unloaded, so that they stay exported, and totals
    /// never fall, while the process lives (Prometheus reads a counter that falls, or a series
    /// that vanishes and comes back at 0, as a restart). Call it before the registry without
    /// the version is published: a scrape then counts the version exactly once, from the
    /// registry or from here. The version is read live while requests still hold it, then its
    /// final counts are kept and it is freed. Its gauges (live quality, drift, `model_info`)
    /// go with it.
    pub(crate) fn retire(&self, model: Arc<LoadedModel>) {
        let mut retired = lock(&self.retired);
        if !retired.pending.iter().any(|m| Arc::ptr_eq(m, &model)) {
            retired.pending.push(model);
        }
        retired.sweep();
    }

    /// Frees the retired versions no request holds any more, keeping their final counts.
    pub(crate) fn sweep_retired(&self) {
        lock(&self.retired).sweep();
    }

    /// Adds a collector read at every scrape (the A/B experiments' gauges, the model ages of
    /// [`crate::staleness`]).
    pub(crate) fn register_collector(&mut self, collector: Box<dyn Collector>) {
        self.registry.register_collector(collector);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::with_capacity(16 * 1024);
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

#[derive(Debug)]
struct ModelsCollector {
    models: Arc<RegistryCell>,
    retired: Arc<Mutex<Retired>>,
    drift: tabship::drift::DriftOptions,
}

/// A series' labels, in order.
pub(crate) type Labels = Vec<(&'static str, String)>;

fn lock(retired: &Mutex<Retired>) -> std::sync::MutexGuard<'_, Retired> {
    match retired.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

/// The counter families read from the models, in the order they are exported.
#[derive(Debug, Clone, Copy)]
enum CounterFamily {
    ConceptDrifts,
    Predictions,
    EncodedRows,
    Unknown,
    Other,
    Missing,
    Labelled,
}

const FAMILIES: usize = 7;

/// One value per label set per counter family, in first-seen order; adding to a label set
/// already there sums (a version loaded again counts on from its retired totals).
#[derive(Debug, Default)]
struct CounterRows {
    rows: [Vec<(Labels, u64)>; FAMILIES],
    index: [HashMap<Labels, usize>; FAMILIES],
}

impl CounterRows {
    fn add(&mut self, family: CounterFamily, labels: Labels, value: u64) {
        self.add_at(family as usize, labels, value);
    }

    fn add_at(&mut self, family: usize, labels: Labels, value: u64) {
        let (rows, index) = (&mut self.rows[family], &mut self.index[family]);
        match index.get(&labels) {
            Some(&i) => rows[i].1 = rows[i].1.saturating_add(value),
            None => {
                index.insert(labels.clone(), rows.len());
                rows.push((labels, value));
            }
        }
    }

    fn rows(&self, family: CounterFamily) -> &[(Labels, u64)] {
        &self.rows[family as usize]
    }

    /// Adds every counter of one version.
    fn add_model(&mut self, model: &LoadedModel) {
        let base: Labels = vec![
            ("model", model.name.clone()),
            ("version", model.version.clone()),
        ];
        let counts = model.prediction_counts();
        match model.pipeline.task() {
            Task::Classification => {
                for (class, n) in model.pipeline.classes().iter().zip(&counts) {
                    let mut l = base.clone();
                    l.push(("class", class.to_string()));
                    self.add(CounterFamily::Predictions, l, *n);
                }
            }
            Task::Regression => {
                self.add(
                    CounterFamily::Predictions,
                    base.clone(),
                    counts.first().copied().unwrap_or(0),
                );
            }
        }
        let stats = model.pipeline.encoding_stats();
        self.add(CounterFamily::EncodedRows, base.clone(), stats.rows);
        let schema = model.pipeline.schema();
        for ((column, c), spec) in stats.columns.iter().zip(&schema.columns) {
            let mut l = base.clone();
            l.push(("column", column.clone()));
            // Unknown and Other only exist for categories.
            if spec.kind == tabship::ColumnKind::Categorical {
                self.add(CounterFamily::Unknown, l.clone(), c.unknown);
                self.add(CounterFamily::Other, l.clone(), c.other);
            }
            self.add(CounterFamily::Missing, l, c.missing);
        }
        let q = model.monitor.quality();
        self.add(CounterFamily::Labelled, base.clone(), q.labelled);
        for d in &q.detectors {
            let mut l = base.clone();
            l.push(("detector", d.name.to_owned()));
            self.add(CounterFamily::ConceptDrifts, l, d.drifts);
        }
    }
}

/// The counters of unloaded versions.
#[derive(Debug, Default)]
struct Retired {
    /// Unloaded versions that requests may still hold (and count on): read live.
    pending: Vec<Arc<LoadedModel>>,
    /// The final counts of the unloaded versions no one holds any more.
    folded: CounterRows,
}

impl Retired {
    /// Folds the pending versions held by nothing but this list (no request can count on them
    /// any more, so their counts are final) and frees them.
    fn sweep(&mut self) {
        let (done, held): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|m| Arc::strong_count(m) == 1);
        self.pending = held;
        for model in done {
            self.folded.add_model(&model);
        }
    }

    /// Adds the retired counters to `rows`: the folded ones, and the pending versions that
    /// `registry` does not hold (one it still holds, as while its unload is being published,
    /// is counted from the registry).
    fn add_to(&self, rows: &mut CounterRows, registry: &Registry) {
        for model in &self.pending {
            let loaded = registry
                .models
                .get(&model.name)
                .and_then(|e| e.versions.get(&model.version))
                .is_some_and(|m| Arc::ptr_eq(m, model));
            if !loaded {
                rows.add_model(model);
            }
        }
        for (family, folded) in self.folded.rows.iter().enumerate() {
            for (labels, value) in folded {
                rows.add_at(family, labels.clone(), *value);
            }
        }
    }
}

/// Writes one metric family of constant values (nothing when there are no rows, so a server
/// without, say, feedback does not export empty families).
fn const_family<V: Copy, M: EncodeMetric>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    rows: &[(Labels, V)],
    metric: impl Fn(V) -> M,
) -> Result<(), std::fmt::Error> {
    let Some((_, first)) = rows.first() else {
        return Ok(());
    };
    let mut family = encoder.encode_descriptor(name, help, None, metric(*first).metric_type())?;
    for (labels, value) in rows {
        metric(*value).encode(family.encode_family(labels)?)?;
    }
    Ok(())
}

fn counter_family(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    rows: &[(Labels, u64)],
) -> Result<(), std::fmt::Error> {
    const_family(encoder, name, help, rows, ConstCounter::new)
}

/// Encodes one gauge family from its rows (collectors read their values at scrape time).
pub(crate) fn gauge_family(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    rows: &[(Labels, f64)],
) -> Result<(), std::fmt::Error> {
    const_family(encoder, name, help, rows, ConstGauge::new)
}

impl Collector for ModelsCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let registry = self.models.load();
        let mut counters = CounterRows::default();
        let mut concept_state = Vec::new();
        let mut drift_reasons = Vec::new();
        let (
            mut drift_value,
            mut drift_detected,
            mut drift_share,
            mut dataset_drift,
            mut drift_rows,
        ) = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut load, mut info, mut accuracy, mut f1, mut mae) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (name, entry) in &registry.models {
            for (version, model) in &entry.versions {
                let base: Labels = vec![("model", name.clone()), ("version", version.clone())];
                counters.add_model(model);
                load.push((base.clone(), model.load_seconds));
                let mut l = base.clone();
                l.push(("algorithm", model.pipeline.training().algorithm.clone()));
                l.push(("current", (entry.current == *version).to_string()));
                l.push(("checksum", model.checksum.clone()));
                info.push((l, 1.0));
                let q = model.monitor.quality();
                if let Some(a) = q.accuracy {
                    accuracy.push((base.clone(), a));
                }
                for d in &q.detectors {
                    let mut l = base.clone();
                    l.push(("detector", d.name.to_owned()));
                    let level = match d.state {
                        tabship::drift::DetectorState::Stable => 0.0,
                        tabship::drift::DetectorState::Warning => 1.0,
                        _ => 2.0,
                    };
                    concept_state.push((l, level));
                }
                if let Some((report, _)) = model.monitor.drift_report(&self.drift) {
                    drift_share.push((base.clone(), report.share_drifted));
                    dataset_drift.push((base.clone(), f64::from(u8::from(report.drifted))));
                    for reason in &report.reasons {
                        // `column:<name>` and `unknown_rate:<name>` carry the column apart.
                        let (rule, column) = reason.split_once(':').unwrap_or((reason, ""));
                        let mut l = base.clone();
                        l.push(("reason", rule.to_owned()));
                        l.push(("column", column.to_owned()));
                        drift_reasons.push((l, 1.0));
                    }
                    drift_rows.push((base.clone(), report.rows as f64));
                    for c in report.columns.iter().chain(report.prediction.as_ref()) {
                        let mut l = base.clone();
                        l.push(("column", c.name.clone()));
                        drift_detected.push((l.clone(), f64::from(u8::from(c.drifted))));
                        l.push(("statistic", c.statistic.name().to_owned()));
                        drift_value.push((l, c.value));
                    }
                }
                if let Some(f) = q.f1 {
                    f1.push((base.clone(), f));
                }
                if let Some(m) = q.mae {
                    mae.push((base.clone(), m));
                }
            }
        }
        {
            let mut retired = lock(&self.retired);
            retired.sweep();
            retired.add_to(&mut counters, &registry);
        }
        let e = &mut encoder;
        counter_family(
            e,
            "tabship_concept_drifts",
            "Concept drifts detected on the feedback stream, per detector",
            counters.rows(CounterFamily::ConceptDrifts),
        )?;
        gauge_family(
            e,
            "tabship_concept_drift_state",
            "Detector state after the last label: 0 stable, 1 warning, 2 drift",
            &concept_state,
        )?;
        gauge_family(
            e,
            "tabship_drift_value",
            "Drift statistic of each input column (and `prediction`) over the live window",
            &drift_value,
        )?;
        gauge_family(
            e,
            "tabship_drift_detected",
            "1 when the column drifted over the live window",
            &drift_detected,
        )?;
        gauge_family(
            e,
            "tabship_drift_share",
            "Share of input columns that drifted over the live window",
            &drift_share,
        )?;
        gauge_family(
            e,
            "tabship_dataset_drift",
            "1 when the drift policy fails the live window (drifted predictions, many never-seen \
             values in a column, or half of the columns drifted, by default)",
            &dataset_drift,
        )?;
        gauge_family(
            e,
            "tabship_dataset_drift_reason",
            "1 for each drift policy rule that fails the live window (share, prediction, column, \
             unknown_rate), with the column it names",
            &drift_reasons,
        )?;
        gauge_family(
            e,
            "tabship_drift_window_rows",
            "Live rows in the drift window",
            &drift_rows,
        )?;
        counter_family(
            e,
            "tabship_predictions",
            "Predictions by model, version and class",
            counters.rows(CounterFamily::Predictions),
        )?;
        counter_family(
            e,
            "tabship_encoded_rows",
            "Rows encoded by the pipeline",
            counters.rows(CounterFamily::EncodedRows),
        )?;
        counter_family(
            e,
            "tabship_unknown_values",
            "Categorical values never seen in training, per column",
            counters.rows(CounterFamily::Unknown),
        )?;
        counter_family(
            e,
            "tabship_other_values",
            "Rare training categories sent to the Other slot, per column",
            counters.rows(CounterFamily::Other),
        )?;
        counter_family(
            e,
            "tabship_missing_values",
            "Missing values (null, empty, NaN), per column",
            counters.rows(CounterFamily::Missing),
        )?;
        counter_family(
            e,
            "tabship_feedback_labelled",
            "Predictions joined to a true label",
            counters.rows(CounterFamily::Labelled),
        )?;
        gauge_family(
            e,
            "tabship_live_accuracy",
            "Accuracy over the last labelled predictions",
            &accuracy,
        )?;
        gauge_family(
            e,
            "tabship_live_f1",
            "F1 over the last labelled predictions (positive class for two classes, else macro)",
            &f1,
        )?;
        gauge_family(
            e,
            "tabship_live_mae",
            "Mean absolute error over the last labelled predictions",
            &mae,
        )?;
        gauge_family(
            e,
            "tabship_model_load_seconds",
            "Time spent loading and validating the artifact",
            &load,
        )?;
        gauge_family(
            e,
            "tabship_model_info",
            "Loaded model versions (value 1)",
            &info,
        )?;
        gauge_family(
            e,
            "tabship_build_info",
            "Server build (value 1)",
            &[(
                vec![
                    ("version", crate::VERSION.to_owned()),
                    ("core_version", tabship::VERSION.to_owned()),
                ],
                1.0,
            )],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iris(version: &str) -> LoadedModel {
        let path = tabship_test_support::golden("iris_logistic.tabship");
        LoadedModel::from_file(&path, None, Some(version)).expect("golden artifact loads")
    }

    fn setosa_count(metrics: &Metrics) -> Option<u64> {
        let text = metrics.render().expect("renders");
        let prefix = "tabship_predictions_total{model=\"iris\",version=\"2\",class=\"setosa\"} ";
        text.lines()
            .find_map(|l| l.strip_prefix(prefix))
            .map(|v| v.parse().expect("a count"))
    }

    #[test]
    fn a_retired_version_counts_on_while_held_then_keeps_its_total() {
        let cell = Arc::new(RegistryCell::default());
        let metrics = Metrics::new(cell.clone(), &crate::Options::default());
        let with_both = Registry::default()
            .with_version(iris("1"), true)
            .and_then(|r| r.with_version(iris("2"), false))
            .expect("registry");
        cell.store(with_both);
        let v2 = cell.load().models["iris"].versions["2"].clone();
        v2.count_prediction(0);
        assert_eq!(setosa_count(&metrics), Some(1));

        // Retired before the registry without it is published: counted once, never twice.
        metrics.retire(v2.clone());
        assert_eq!(setosa_count(&metrics), Some(1));
        let mut without = (*cell.load()).clone();
        if let Some(e) = without.models.get_mut("iris") {
            e.versions.remove("2");
        }
        cell.store(without);
        assert_eq!(setosa_count(&metrics), Some(1));

        // A request that still holds the version counts on it, and the count shows.
        v2.count_prediction(0);
        assert_eq!(setosa_count(&metrics), Some(2));
        let weak = Arc::downgrade(&v2);
        drop(v2);
        metrics.sweep_retired();
        assert!(weak.upgrade().is_none(), "freed once no request holds it");
        assert_eq!(setosa_count(&metrics), Some(2), "its total is kept");

        // The same version loaded again counts on from there.
        let again = (*cell.load())
            .clone()
            .with_version(iris("2"), false)
            .expect("reload");
        cell.store(again);
        cell.load().models["iris"].versions["2"].count_prediction(0);
        assert_eq!(setosa_count(&metrics), Some(3));
    }
}
