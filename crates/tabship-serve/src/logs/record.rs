//! The records of the JSONL prediction log, one JSON object per line, shared by the server that
//! writes them and the tools that read them back (`tabship labels export`, `tabship monitor`).
//!
//! - `"kind": "prediction"`: one answered request — `ts`, `request_id`, `model`, `version`,
//!   `username`, `shadow` (scored by the shadow version, never answered), `latency_ms`,
//!   `inputs` (the body as sent), `rows` (the rows scored, as a `/predict` body, when the
//!   protocol's body is not one: V2 tensors, SageMaker CSV, Vertex AI) and `outputs` (the
//!   answer as sent). Lines written before `kind` existed have none and are predictions.
//! - `"kind": "feedback"`: a true label accepted by `POST /feedback` — `ts`, `request_id`,
//!   `index` (the row's 0-based position in the request), `model`, `version` (that made the
//!   prediction), `username` (who labelled it) and `label` (a class label as text, or a number).

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use serde_json::value::RawValue;

/// What a log line records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// An answered prediction (also a line without `kind`, written by older servers).
    #[default]
    Prediction,
    /// A true label joined to a prediction.
    Feedback,
}

/// One prediction, as logged.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PredictionRecord<'a> {
    /// Always [`Kind::Prediction`].
    #[serde(default)]
    pub kind: Kind,
    /// When it was answered, RFC 3339 UTC.
    pub ts: Cow<'a, str>,
    /// The request id (`X-Request-Id`), the key feedback joins on.
    pub request_id: Cow<'a, str>,
    /// The model's name.
    pub model: Cow<'a, str>,
    /// The version that scored it.
    pub version: Cow<'a, str>,
    /// The caller, when authenticated.
    pub username: Option<Cow<'a, str>>,
    /// Scored by the shadow version (the same request's served line is logged too).
    #[serde(default)]
    pub shadow: bool,
    /// Milliseconds from arrival to answer.
    #[serde(default)]
    pub latency_ms: f64,
    /// The request body as sent.
    pub inputs: Cow<'a, Json>,
    /// The rows scored as a `/predict` body, when `inputs` is not one (other protocols).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<Cow<'a, Json>>,
    /// The answer as sent.
    #[serde(borrow)]
    pub outputs: Cow<'a, RawValue>,
}

impl PredictionRecord<'_> {
    /// The rows scored, as a `/predict` body (`rows` when logged, else `inputs`).
    pub fn predict_body(&self) -> &Json {
        self.rows.as_deref().unwrap_or(&self.inputs)
    }
}

/// One accepted label, as logged.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FeedbackRecord<'a> {
    /// Always [`Kind::Feedback`].
    pub kind: Kind,
    /// When it was accepted, RFC 3339 UTC.
    pub ts: Cow<'a, str>,
    /// The labelled prediction's request id.
    pub request_id: Cow<'a, str>,
    /// The row's 0-based position in the request's list (0 for a single record).
    pub index: usize,
    /// The model's name.
    pub model: Cow<'a, str>,
    /// The version that made the prediction.
    pub version: Cow<'a, str>,
    /// Who sent the label, when authenticated.
    pub username: Option<Cow<'a, str>>,
    /// The true label: a class label (text) or a number.
    pub label: Cow<'a, Json>,
}

/// A parsed log line.
#[derive(Debug, Clone)]
pub enum LogRecord {
    /// A prediction line.
    Prediction(PredictionRecord<'static>),
    /// A feedback line.
    Feedback(FeedbackRecord<'static>),
}

#[derive(Deserialize)]
struct Probe {
    #[serde(default)]
    kind: Kind,
}

fn owned<'de, T: Deserialize<'de>>(line: &'de str) -> serde_json::Result<T> {
    serde_json::from_str(line)
}

impl LogRecord {
    /// Parses one line (without its newline); the error says what is wrong with it.
    pub fn parse(line: &str) -> Result<LogRecord, String> {
        let probe: Probe = serde_json::from_str(line).map_err(|e| e.to_string())?;
        match probe.kind {
            Kind::Prediction => {
                let r: PredictionRecord<'_> = owned(line).map_err(|e| e.to_string())?;
                Ok(LogRecord::Prediction(r.into_owned()))
            }
            Kind::Feedback => {
                let r: FeedbackRecord<'_> = owned(line).map_err(|e| e.to_string())?;
                Ok(LogRecord::Feedback(r.into_owned()))
            }
        }
    }
}

fn own(s: Cow<'_, str>) -> Cow<'static, str> {
    Cow::Owned(s.into_owned())
}

impl PredictionRecord<'_> {
    /// The record with every borrowed field copied.
    pub fn into_owned(self) -> PredictionRecord<'static> {
        PredictionRecord {
            kind: self.kind,
            ts: own(self.ts),
            request_id: own(self.request_id),
            model: own(self.model),
            version: own(self.version),
            username: self.username.map(own),
            shadow: self.shadow,
            latency_ms: self.latency_ms,
            inputs: Cow::Owned(self.inputs.into_owned()),
            rows: self.rows.map(|r| Cow::Owned(r.into_owned())),
            outputs: Cow::Owned(self.outputs.into_owned()),
        }
    }
}

impl FeedbackRecord<'_> {
    /// The record with every borrowed field copied.
    pub fn into_owned(self) -> FeedbackRecord<'static> {
        FeedbackRecord {
            kind: self.kind,
            ts: own(self.ts),
            request_id: own(self.request_id),
            index: self.index,
            model: own(self.model),
            version: own(self.version),
            username: self.username.map(own),
            label: Cow::Owned(self.label.into_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_without_a_kind_are_predictions_and_both_kinds_round_trip() {
        let old = r#"{"ts":"2026-01-01T00:00:00Z","request_id":"a","model":"m","version":"1","username":null,"shadow":false,"latency_ms":1.5,"inputs":{"x":1},"outputs":{"prediction":"y"}}"#;
        let LogRecord::Prediction(p) = LogRecord::parse(old).expect("parses") else {
            panic!("a prediction")
        };
        assert_eq!(
            (p.request_id.as_ref(), p.predict_body()),
            ("a", &serde_json::json!({"x": 1}))
        );
        let written = serde_json::to_string(&p).expect("serializes");
        assert!(written.starts_with(r#"{"kind":"prediction","#), "{written}");
        let feedback = FeedbackRecord {
            kind: Kind::Feedback,
            ts: "t".into(),
            request_id: "a".into(),
            index: 2,
            model: "m".into(),
            version: "1".into(),
            username: None,
            label: Cow::Owned(serde_json::json!("yes")),
        };
        let line = serde_json::to_string(&feedback).expect("serializes");
        let LogRecord::Feedback(f) = LogRecord::parse(&line).expect("parses") else {
            panic!("feedback")
        };
        assert_eq!((f.index, f.label.as_ref()), (2, &serde_json::json!("yes")));
        assert!(LogRecord::parse("{\"kind\":\"prediction\"").is_err());
        assert!(LogRecord::parse(r#"{"kind":"other"}"#).is_err());
    }
}
