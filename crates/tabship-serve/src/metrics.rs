//! Prometheus metrics: HTTP traffic measured by the middleware, and a collector that reads the
//! models at scrape time (predictions by class, Unknown/Other/Missing per column, live quality,
//! load time, build info), so the hot path only bumps atomics.

use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry as PromRegistry;
use tabship::Task;

use crate::registry::RegistryCell;

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

/// Labels of an outcome counter.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabels {
    /// `ok` or `error`.
    pub result: String,
}

fn latency_histogram() -> Histogram {
    Histogram::new([
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
        5.0, 10.0,
    ])
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
}

impl Metrics {
    /// Creates the metrics; `models` is read at every scrape.
    pub fn new(models: Arc<RegistryCell>) -> Self {
        let mut registry = PromRegistry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let latency: Family<RouteLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(latency_histogram);
        let in_flight = Gauge::default();
        let feedback = Family::<VersionLabels, Counter>::default();
        let shadow = Family::<VersionLabels, Counter>::default();
        let shadow_disagreements = Family::<VersionLabels, Counter>::default();
        let log_dropped = Counter::default();
        let keys_reloads = Family::<ResultLabels, Counter>::default();
        for result in ["ok", "error"] {
            // Both series exist from the start, so `increase()` sees the first reload.
            let _ = keys_reloads.get_or_create(&ResultLabels {
                result: result.to_owned(),
            });
        }
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
        registry.register_collector(Box::new(ModelsCollector { models }));
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
        }
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
}

type Labels = Vec<(&'static str, String)>;

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

fn gauge_family(
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
        let mut predictions = Vec::new();
        let (mut unknown, mut other, mut missing, mut rows) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut concept_drifts, mut concept_state) = (Vec::new(), Vec::new());
        let mut drift_reasons = Vec::new();
        let (
            mut drift_value,
            mut drift_detected,
            mut drift_share,
            mut dataset_drift,
            mut drift_rows,
        ) = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut load, mut info, mut accuracy, mut f1, mut mae, mut labelled) = (
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
        );
        for (name, entry) in &registry.models {
            for (version, model) in &entry.versions {
                let base: Labels = vec![("model", name.clone()), ("version", version.clone())];
                let counts = model.prediction_counts();
                match model.pipeline.task() {
                    Task::Classification => {
                        for (class, n) in model.pipeline.classes().iter().zip(&counts) {
                            let mut l = base.clone();
                            l.push(("class", class.to_string()));
                            predictions.push((l, *n));
                        }
                    }
                    Task::Regression => predictions.push((base.clone(), counts[0])),
                }
                let stats = model.pipeline.encoding_stats();
                rows.push((base.clone(), stats.rows));
                let schema = model.pipeline.schema();
                for ((column, c), spec) in stats.columns.iter().zip(&schema.columns) {
                    let mut l = base.clone();
                    l.push(("column", column.clone()));
                    // Unknown and Other only exist for categories.
                    if spec.kind == tabship::ColumnKind::Categorical {
                        unknown.push((l.clone(), c.unknown));
                        other.push((l.clone(), c.other));
                    }
                    missing.push((l, c.missing));
                }
                load.push((base.clone(), model.load_seconds));
                let mut l = base.clone();
                l.push(("algorithm", model.pipeline.training().algorithm.clone()));
                l.push(("current", (entry.current == *version).to_string()));
                l.push(("checksum", model.checksum.clone()));
                info.push((l, 1.0));
                let q = model.monitor.quality();
                labelled.push((base.clone(), q.labelled));
                if let Some(a) = q.accuracy {
                    accuracy.push((base.clone(), a));
                }
                for d in &q.detectors {
                    let mut l = base.clone();
                    l.push(("detector", d.name.to_owned()));
                    concept_drifts.push((l.clone(), d.drifts));
                    let level = match d.state {
                        tabship::drift::DetectorState::Stable => 0.0,
                        tabship::drift::DetectorState::Warning => 1.0,
                        _ => 2.0,
                    };
                    concept_state.push((l, level));
                }
                if let Some((report, _)) = model.monitor.drift_report() {
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
        let e = &mut encoder;
        counter_family(
            e,
            "tabship_concept_drifts",
            "Concept drifts detected on the feedback stream, per detector",
            &concept_drifts,
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
            &predictions,
        )?;
        counter_family(
            e,
            "tabship_encoded_rows",
            "Rows encoded by the pipeline",
            &rows,
        )?;
        counter_family(
            e,
            "tabship_unknown_values",
            "Categorical values never seen in training, per column",
            &unknown,
        )?;
        counter_family(
            e,
            "tabship_other_values",
            "Rare training categories sent to the Other slot, per column",
            &other,
        )?;
        counter_family(
            e,
            "tabship_missing_values",
            "Missing values (null, empty, NaN), per column",
            &missing,
        )?;
        counter_family(
            e,
            "tabship_feedback_labelled",
            "Predictions joined to a true label",
            &labelled,
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
