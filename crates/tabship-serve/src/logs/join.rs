//! Logged predictions joined with their true labels by request id: the rows as the model's
//! schema reads them, each with its label when one arrived.
//!
//! The rules, in reading order (replicas by path, each replica's files oldest first, line by
//! line; then the label files in the order given):
//! - only served predictions of the model's name (and of the version asked for, if one is)
//!   count; shadow lines repeat a served request and are skipped, lines of other models (and
//!   versions) are counted and skipped;
//! - a request id logged again with the same rows (a client's resend) is one request, counted
//!   as `duplicate_predictions`; logged again with other rows (two replicas given the same
//!   client-chosen id) it is ambiguous: every row of that id is dropped and counted as
//!   `conflicting_predictions`, labels included;
//! - a label for a request id (and row index) that no prediction has, or whose id is
//!   conflicting, is counted as `unmatched_labels` (its prediction is in a file not given, or
//!   was rotated away);
//! - a second label for the same row: the last one read wins (`relabelled` when it differs,
//!   `duplicate_labels` when it repeats it); labels from label files are read after the logs,
//!   so a correction given as a file overrides a label logged by the server;
//! - a label the model cannot use (not one of its classes, not a finite number) is counted as
//!   `invalid_labels` and dropped;
//! - rows whose inputs the schema cannot read (a version with another schema) are counted as
//!   `invalid_rows` and dropped.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value as Json;
use tabship::{ColumnKind, Pipeline, Task, number_as_category};

use super::files::{BadLine, Replica, read_replica, replicas};
use super::record::LogRecord;
use crate::error::{Error, Result};
use crate::input::{ParseOptions, parse};

/// Bad lines listed in a report (all are counted).
const LISTED_BAD_LINES: usize = 5;

/// Which log lines and labels to read.
#[derive(Debug, Clone, Default)]
pub struct LogSource {
    /// The prediction logs: files, or patterns with `*` and `?` in the file name (rotated
    /// files of each are read too).
    pub logs: Vec<String>,
    /// Label files (`request_id,label[,index]`), read after the logs.
    pub label_files: Vec<PathBuf>,
    /// The model name of the lines to read [default: the pipeline's own name]; a server gives
    /// an artifact another name with `NAME=FILE`.
    pub model: Option<String>,
    /// Only lines of this version [default: every version of the model].
    pub version: Option<String>,
}

/// One logged request's rows, as text in schema order, with the label of each row.
#[derive(Debug, Clone, PartialEq)]
pub struct JoinedRequest {
    /// Which replica logged it (an index into [`Joined::replicas`]).
    pub replica: usize,
    /// The request id.
    pub request_id: String,
    /// The rows, one text per schema column (empty for a missing value).
    pub rows: Vec<Vec<String>>,
    /// The label of each row, as text, when one arrived.
    pub labels: Vec<Option<String>>,
}

/// What the join found, counted.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct JoinReport {
    /// Log files read.
    pub files: usize,
    /// Non-empty lines read.
    pub lines: u64,
    /// Lines that are not log records (skipped).
    pub bad_lines: u64,
    /// The first bad lines, `file:line: why`.
    pub bad_line_examples: Vec<String>,
    /// Requests of this model kept (each once).
    pub requests: u64,
    /// Their rows.
    pub rows: u64,
    /// Shadow lines skipped (they repeat a served request).
    pub shadow_lines: u64,
    /// Lines of other models skipped.
    pub other_model_lines: u64,
    /// Lines of other versions of the model skipped (when one version is asked for).
    pub other_version_lines: u64,
    /// Request ids logged again with the same rows, kept once.
    pub duplicate_predictions: u64,
    /// Request ids logged with different rows: every row of the id dropped.
    pub conflicting_predictions: u64,
    /// Rows the schema cannot read, dropped.
    pub invalid_rows: u64,
    /// Labels read (logged feedback and label files).
    pub labels: u64,
    /// Labels with no logged prediction (or only conflicting ones).
    pub unmatched_labels: u64,
    /// Labels the model cannot use.
    pub invalid_labels: u64,
    /// Labels that repeat an earlier one for the same row.
    pub duplicate_labels: u64,
    /// Labels that replace an earlier, different one (the last read wins).
    pub relabelled: u64,
    /// Rows with a label.
    pub labelled_rows: u64,
}

/// Logged requests joined with their labels.
#[derive(Debug, Clone)]
pub struct Joined {
    /// The replicas read.
    pub replicas: Vec<Replica>,
    /// The schema's column names, then the target's.
    pub header: Vec<String>,
    /// Every request kept, in reading order.
    pub requests: Vec<JoinedRequest>,
    /// The counts.
    pub report: JoinReport,
}

impl Joined {
    /// The labelled rows, each followed by its label: the next training set.
    pub fn labelled_rows(&self) -> impl Iterator<Item = Vec<String>> + '_ {
        self.requests.iter().flat_map(|r| {
            r.rows.iter().zip(&r.labels).filter_map(|(row, label)| {
                label.as_ref().map(|l| {
                    let mut row = row.clone();
                    row.push(l.clone());
                    row
                })
            })
        })
    }
}

/// A label from outside the server: a row of a label file.
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalLabel {
    /// The prediction's request id.
    pub request_id: String,
    /// The row's 0-based position in the request.
    pub index: usize,
    /// The label as written.
    pub label: String,
}

/// Reads a label file: a CSV with a header naming `request_id` and `label` (and optionally
/// `index`, the row's 0-based position in its request, 0 when absent or empty).
pub fn read_label_file(path: &Path) -> Result<Vec<ExternalLabel>> {
    let bad = |message: String| Error::Logs(format!("label file `{}`: {message}", path.display()));
    let mut reader = csv::Reader::from_path(path).map_err(|e| bad(e.to_string()))?;
    let header = reader.headers().map_err(|e| bad(e.to_string()))?.clone();
    let column = |name: &str| header.iter().position(|h| h == name);
    let (Some(id), Some(label)) = (column("request_id"), column("label")) else {
        return Err(bad(format!(
            "expected columns `request_id` and `label` (and optionally `index`), got {}",
            header.iter().collect::<Vec<_>>().join(", ")
        )));
    };
    let index = column("index");
    let mut labels = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let record = record.map_err(|e| bad(e.to_string()))?;
        let field = |i: usize| record.get(i).unwrap_or("").trim();
        let row_index = match index.map(field).filter(|s| !s.is_empty()) {
            None => 0,
            Some(text) => text.parse().map_err(|_| {
                bad(format!(
                    "row {}, column `index`: expected a 0-based row index, got `{text}`",
                    n + 1
                ))
            })?,
        };
        labels.push(ExternalLabel {
            request_id: field(id).to_owned(),
            index: row_index,
            label: field(label).to_owned(),
        });
    }
    Ok(labels)
}

/// The text of a logged value for a CSV cell, as the model's readers take it back: a number in
/// a categorical column is written as the category the server made of it.
fn cell(kind: ColumnKind, value: Option<&Json>) -> String {
    match value {
        None | Some(Json::Null) => String::new(),
        Some(Json::Number(n)) => match (kind, n.as_f64()) {
            (ColumnKind::Categorical, Some(x)) => number_as_category(x),
            (ColumnKind::Numeric, Some(x)) => format!("{x}"),
            (_, None) => n.to_string(),
        },
        Some(Json::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// A label as the model's target text, or `None` when the model cannot use it.
fn label_text(pipeline: &Pipeline, label: &Json) -> Option<String> {
    let text = match label {
        Json::String(s) => s.trim().to_owned(),
        Json::Number(n) => n.to_string(),
        _ => return None,
    };
    match pipeline.task() {
        Task::Classification => pipeline
            .class_index(&text)
            .map(|i| pipeline.classes()[i].to_string()),
        Task::Regression => text
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .map(|x| format!("{x}")),
    }
}

#[derive(Debug)]
struct Slot {
    request: usize,
    conflicting: bool,
}

struct Joiner<'p> {
    pipeline: &'p Pipeline,
    source: &'p LogSource,
    /// The model name of the lines read.
    model: &'p str,
    requests: Vec<JoinedRequest>,
    by_id: HashMap<String, Slot>,
    report: JoinReport,
    /// Labels read before their prediction, or for no prediction: matched at the end.
    labels: Vec<(String, usize, Json)>,
}

impl Joiner<'_> {
    /// Whether a line of `model` and `version` is one to read (counted when not).
    fn selects(&mut self, model: &str, version: &str) -> bool {
        if model != self.model {
            self.report.other_model_lines += 1;
            return false;
        }
        if self.source.version.as_deref().is_some_and(|v| v != version) {
            self.report.other_version_lines += 1;
            return false;
        }
        true
    }

    fn prediction(&mut self, replica: usize, record: &super::PredictionRecord<'_>) {
        if !self.selects(&record.model, &record.version) {
            return;
        }
        if record.shadow {
            self.report.shadow_lines += 1;
            return;
        }
        let schema = self.pipeline.schema();
        let body = record.predict_body();
        // The server accepted these rows, with absent fields perhaps read as missing.
        let options = ParseOptions {
            absent_is_missing: true,
        };
        let rows: Vec<Vec<String>> = match parse(body, schema, options) {
            Ok(parsed) => parsed
                .rows
                .iter()
                .map(|row| {
                    schema
                        .columns
                        .iter()
                        .map(|c| cell(c.kind, row.sent(&c.name)))
                        .collect()
                })
                .collect(),
            Err(_) => {
                self.report.invalid_rows += 1;
                return;
            }
        };
        if let Some(slot) = self.by_id.get_mut(record.request_id.as_ref()) {
            if slot.conflicting {
                self.report.conflicting_predictions += 1;
            } else if self.requests[slot.request].rows == rows {
                self.report.duplicate_predictions += 1;
            } else {
                slot.conflicting = true;
                self.report.conflicting_predictions += 2;
            }
            return;
        }
        self.by_id.insert(
            record.request_id.to_string(),
            Slot {
                request: self.requests.len(),
                conflicting: false,
            },
        );
        self.requests.push(JoinedRequest {
            replica,
            request_id: record.request_id.to_string(),
            labels: vec![None; rows.len()],
            rows,
        });
    }

    fn finish(mut self, replicas: Vec<Replica>) -> Joined {
        for (request_id, index, label) in std::mem::take(&mut self.labels) {
            self.report.labels += 1;
            let Some(slot) = self.by_id.get(&request_id).filter(|s| !s.conflicting) else {
                self.report.unmatched_labels += 1;
                continue;
            };
            let request = &mut self.requests[slot.request];
            let Some(cell) = request.labels.get_mut(index) else {
                self.report.unmatched_labels += 1;
                continue;
            };
            let Some(text) = label_text(self.pipeline, &label) else {
                self.report.invalid_labels += 1;
                continue;
            };
            match cell {
                Some(old) if *old == text => self.report.duplicate_labels += 1,
                Some(_) => self.report.relabelled += 1,
                None => {}
            }
            *cell = Some(text);
        }
        let conflicting: Vec<usize> = self
            .by_id
            .values()
            .filter(|s| s.conflicting)
            .map(|s| s.request)
            .collect();
        let mut requests = self.requests;
        for i in conflicting {
            requests[i].rows.clear();
            requests[i].labels.clear();
        }
        requests.retain(|r| !r.rows.is_empty());
        let mut header: Vec<String> = self.pipeline.schema().names().map(str::to_owned).collect();
        header.push(self.pipeline.training().target.clone());
        let mut report = self.report;
        report.files = replicas.iter().map(|r| r.files.len()).sum();
        report.requests = requests.len() as u64;
        report.rows = requests.iter().map(|r| r.rows.len() as u64).sum();
        report.labelled_rows = requests
            .iter()
            .flat_map(|r| &r.labels)
            .filter(|l| l.is_some())
            .count() as u64;
        Joined {
            replicas,
            header,
            requests,
            report,
        }
    }
}

/// Reads the prediction logs of `source` (rotated files included) and joins the requests of
/// `pipeline`'s model with the labels logged by `POST /feedback` and those of the label files
/// (read after the logs, so they win), by request id and row index.
pub fn join(pipeline: &Pipeline, source: &LogSource) -> Result<Joined> {
    let replicas = replicas(&source.logs)?;
    let mut joiner = Joiner {
        pipeline,
        source,
        model: source.model.as_deref().unwrap_or(&pipeline.training().name),
        requests: Vec::new(),
        by_id: HashMap::new(),
        report: JoinReport::default(),
        labels: Vec::new(),
    };
    let mut bad: Vec<BadLine> = Vec::new();
    for (i, replica) in replicas.iter().enumerate() {
        let mut feedback = Vec::new();
        joiner.report.lines += read_replica(replica, &mut bad, |record| match record {
            LogRecord::Prediction(p) => joiner.prediction(i, &p),
            LogRecord::Feedback(f) => {
                if joiner.selects(&f.model, &f.version) {
                    feedback.push((f.request_id.into_owned(), f.index, f.label.into_owned()));
                }
            }
        })?;
        joiner.labels.extend(feedback);
    }
    for path in &source.label_files {
        for l in read_label_file(path)? {
            joiner
                .labels
                .push((l.request_id, l.index, Json::String(l.label)));
        }
    }
    joiner.report.bad_lines = bad.len() as u64;
    joiner.report.bad_line_examples = bad
        .iter()
        .take(LISTED_BAD_LINES)
        .map(|b| format!("{}:{}: {}", b.path.display(), b.line, b.message))
        .collect();
    Ok(joiner.finish(replicas))
}
