//! Fleet monitoring from prediction logs: each replica's logged rows observed into its own
//! drift monitor (the core's drift path, the same bins and slots as `tabship drift`), the
//! monitors merged into one report, and live quality from the rows joined with their labels
//! (the same metrics as `tabship evaluate`). What one process would report over the same rows.

use serde::Serialize;
use tabship::drift::{DriftOptions, DriftReport, Monitor, Window};
use tabship::{Batch, Evaluation, Label, Labels, Pipeline, TextBatchBuilder};

use super::join::{JoinReport, Joined, LogSource, join};
use crate::error::{Error, Result};

/// What `monitor` reads and how.
#[derive(Debug, Clone)]
pub struct FleetOptions {
    /// The logs, label files, model name and version to read.
    pub source: LogSource,
    /// Thresholds, tests and policy of the drift report.
    pub drift: DriftOptions,
    /// Each replica's window: every logged row ([`Window::Cumulative`], the default) or its
    /// most recent ones ([`Window::Sliding`]; the replicas' newest blocks are merged together).
    pub window: Window,
}

/// One replica's share of the report.
#[derive(Debug, Clone, Serialize)]
pub struct ReplicaSummary {
    /// The replica's active log file.
    pub log: String,
    /// Files read (the active one and its rotated predecessors).
    pub files: usize,
    /// Rows of this model logged by the replica.
    pub rows: u64,
    /// Rows in its drift window.
    pub window_rows: u64,
    /// Of its rows, those with a label.
    pub labelled_rows: u64,
}

/// Live quality over the labelled rows: the report `tabship evaluate` gives on them.
#[derive(Debug, Clone, Serialize)]
pub struct Quality {
    /// `classification` or `regression`.
    pub task: &'static str,
    /// The metrics by name (`accuracy`, `f1_macro`, `roc_auc`, `log_loss`; `mae`, `rmse`,
    /// `r2`), as `train` stores them.
    pub metrics: std::collections::BTreeMap<String, f64>,
    /// The full report (per class, confusion matrix), as `tabship evaluate --json` prints it.
    pub report: serde_json::Value,
}

/// The fleet's report.
#[derive(Debug, Clone, Serialize)]
pub struct FleetReport {
    /// The model's name in the logs.
    pub model: String,
    /// The version monitored (whose profile and predictions the report uses).
    pub version: String,
    /// Per replica.
    pub replicas: Vec<ReplicaSummary>,
    /// The merged drift report (`tabship drift`'s report over the same rows).
    pub drift: DriftReport,
    /// Live quality, when some rows have labels.
    pub quality: Option<Quality>,
    /// What reading and joining the logs found.
    pub join: JoinReport,
}

/// `rows` (texts in schema order) as a batch the core reads as it reads a CSV.
fn batch<'r>(pipeline: &Pipeline, rows: impl Iterator<Item = &'r Vec<String>>) -> Result<Batch> {
    let schema = pipeline.schema();
    let header: Vec<&str> = schema.names().collect();
    let core = |e: tabship::Error| Error::Logs(format!("logged rows: {e}"));
    let mut builder = TextBatchBuilder::new(schema, &header).map_err(core)?;
    for (i, row) in rows.enumerate() {
        builder
            .push_row(row.iter().map(String::as_str))
            .map_err(|e| core(e.at_row(i)))?;
    }
    Ok(builder.finish())
}

/// The quality of `pipeline` on the labelled rows of `joined`, or `None` without any.
fn quality(pipeline: &Pipeline, joined: &Joined) -> Result<Option<Quality>> {
    let target = &pipeline.training().target;
    let mut labels = Labels::new(pipeline.task());
    let mut rows = Vec::new();
    let core = |e: tabship::Error| Error::Logs(format!("labelled rows: {e}"));
    for request in &joined.requests {
        for (row, label) in request.rows.iter().zip(&request.labels) {
            let Some(text) = label else { continue };
            let label = pipeline.label(target, text).map_err(core)?;
            if matches!(label, Label::Missing | Label::UnknownClass) {
                continue;
            }
            labels.push(rows.len(), label);
            rows.push(row);
        }
    }
    if rows.is_empty() {
        return Ok(None);
    }
    let batch = batch(pipeline, rows.into_iter())?;
    let evaluation = pipeline.evaluate(&batch, &labels.truth).map_err(core)?;
    let metrics = evaluation.metrics();
    let (task, report) = match &evaluation {
        Evaluation::Classification(r) => ("classification", serde_json::to_value(r)),
        Evaluation::Regression(r) => ("regression", serde_json::to_value(r)),
    };
    Ok(Some(Quality {
        task,
        metrics,
        report: report.map_err(|e| Error::Logs(e.to_string()))?,
    }))
}

/// Reads the logs of every replica and reports drift and live quality of `pipeline`'s model
/// over them: per replica a drift monitor fed with its rows (and `pipeline`'s predictions on
/// them), merged; quality over every row that has a label, wherever the label was logged.
pub fn monitor(pipeline: &Pipeline, options: &FleetOptions) -> Result<FleetReport> {
    let core = |e: tabship::Error| Error::Logs(e.to_string());
    if pipeline.drift_profile().is_none() {
        return Err(core(tabship::Error::NoDriftProfile));
    }
    let joined = join(pipeline, &options.source)?;
    let name = options
        .source
        .model
        .clone()
        .unwrap_or_else(|| pipeline.training().name.clone());
    if joined.report.rows == 0 {
        return Err(Error::Logs(format!(
            "no logged rows of model `{name}`{} in {} files ({} lines): nothing to monitor",
            options
                .source
                .version
                .as_ref()
                .map_or(String::new(), |v| format!(" version `{v}`")),
            joined.report.files,
            joined.report.lines
        )));
    }
    let mut merged: Option<Monitor> = None;
    let mut replicas = Vec::new();
    for (i, replica) in joined.replicas.iter().enumerate() {
        let requests = || joined.requests.iter().filter(move |r| r.replica == i);
        let rows = batch(pipeline, requests().flat_map(|r| r.rows.iter()))?;
        let mut monitor = pipeline.drift_monitor(options.window).map_err(core)?;
        if rows.n_rows() > 0 {
            let predictions = pipeline.predict_batch(&rows).map_err(core)?;
            pipeline
                .observe_drift(&mut monitor, &rows, Some(&predictions))
                .map_err(core)?;
        }
        replicas.push(ReplicaSummary {
            log: replica.base.display().to_string(),
            files: replica.files.len(),
            rows: rows.n_rows() as u64,
            window_rows: monitor.snapshot().rows,
            labelled_rows: requests()
                .flat_map(|r| &r.labels)
                .filter(|l| l.is_some())
                .count() as u64,
        });
        match &mut merged {
            None => merged = Some(monitor),
            Some(m) => m.merge(&monitor).map_err(|e| core(e.into()))?,
        }
    }
    let merged = merged.ok_or_else(|| Error::Logs("no prediction log read".into()))?;
    let drift = merged.report(&options.drift).map_err(|e| core(e.into()))?;
    Ok(FleetReport {
        model: name,
        version: pipeline.training().version.clone(),
        replicas,
        drift,
        quality: quality(pipeline, &joined)?,
        join: joined.report,
    })
}
