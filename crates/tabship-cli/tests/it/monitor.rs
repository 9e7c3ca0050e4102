//! `tabship monitor`: the rows of three replicas' logs (written with the server's own record
//! types) give the report one process gives over the same rows — `tabship drift` on them as
//! a CSV, `tabship evaluate` on the labelled ones — and the same report as one log holding
//! every line; the Prometheus text file parses.

use std::borrow::Cow;
use std::path::Path;

use serde_json::{Value, json};
use tabship_serve::logs::{FeedbackRecord, Kind, PredictionRecord};

use crate::common::*;

const NUMERIC: [&str; 5] = [
    "age",
    "education_num",
    "capital_gain",
    "capital_loss",
    "hours_per_week",
];

/// Checks that two JSON values are equal, numbers within a relative 1e-9 (sums of the same
/// numbers added in another order), naming the first difference.
fn assert_close(a: &Value, b: &Value, at: &str) {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().expect("a number"), y.as_f64().expect("a number"));
            assert!(
                (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1e-12),
                "{at}: {x} vs {y}"
            );
        }
        (Value::Object(x), Value::Object(y)) => {
            assert_eq!(
                x.keys().collect::<Vec<_>>(),
                y.keys().collect::<Vec<_>>(),
                "{at}"
            );
            for (k, v) in x {
                assert_close(v, &y[k], &format!("{at}.{k}"));
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{at}");
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                assert_close(v, w, &format!("{at}[{i}]"));
            }
        }
        _ => assert_eq!(a, b, "{at}"),
    }
}

fn line(record: Value) -> String {
    record.to_string() + "\n"
}

/// A prediction line of `model` version 1, as the server writes it.
pub fn prediction(model: &str, id: &str, rows: &[Value]) -> String {
    prediction_of((model, "1"), id, rows)
}

/// A prediction line of `model` `version`, as the server writes it.
pub fn prediction_of((model, version): (&str, &str), id: &str, rows: &[Value]) -> String {
    let outputs = serde_json::value::RawValue::from_string("{}".into()).expect("valid JSON");
    line(json!(PredictionRecord {
        kind: Kind::Prediction,
        ts: "2026-12-01T00:00:00Z".into(),
        request_id: id.into(),
        model: model.into(),
        version: version.into(),
        username: None,
        shadow: false,
        latency_ms: 0.5,
        inputs: Cow::Owned(if rows.len() == 1 {
            rows[0].clone()
        } else {
            json!({ "instances": rows })
        }),
        rows: None,
        outputs: Cow::Owned(outputs),
    }))
}

/// A feedback line of `model` version 1, as the server writes it.
pub fn feedback(model: &str, id: &str, index: usize, label: &str) -> String {
    feedback_of((model, "1"), id, index, label)
}

/// A feedback line of `model` `version`, as the server writes it.
pub fn feedback_of((model, version): (&str, &str), id: &str, index: usize, label: &str) -> String {
    line(json!(FeedbackRecord {
        kind: Kind::Feedback,
        ts: "2026-12-02T00:00:00Z".into(),
        request_id: id.into(),
        index,
        model: model.into(),
        version: version.into(),
        username: None,
        label: Cow::Owned(json!(label)),
    }))
}

fn json_of(out: &std::process::Output) -> Value {
    assert!(out.status.success(), "{}", stderr(out));
    serde_json::from_str(&stdout(out)).expect("valid JSON")
}

/// The Prometheus text file: every sample line `name{labels} value` of a declared gauge;
/// promtool checks it too when it is installed (Debian's `prometheus`, scripts/e2e.sh).
fn check_prometheus_text(file: &Path) -> Vec<(String, f64)> {
    let text = std::fs::read_to_string(file).expect("readable file");
    let mut declared = Vec::new();
    let mut samples = Vec::new();
    for l in text.lines() {
        if let Some(rest) = l.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("a separator");
            assert_eq!(kind, "gauge", "{l}");
            declared.push(name.to_owned());
        } else if !l.starts_with("# HELP ") {
            let (series, value) = l.rsplit_once(' ').expect("a separator");
            let name = series.split('{').next().expect("a name");
            assert!(declared.last().is_some_and(|d| d == name), "{l}");
            assert!(series.ends_with('}'), "{l}");
            let value: f64 = value.parse().unwrap_or_else(|_| panic!("{l}"));
            samples.push((series.to_owned(), value));
        }
    }
    if let Ok(out) = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::fs::File::open(file).expect("opens"))
        .output()
    {
        assert!(
            out.status.success(),
            "promtool: {}{}",
            stdout(&out),
            stderr(&out)
        );
    } else {
        eprintln!("promtool not installed: the text file was checked by this test's parser only");
    }
    samples
}

/// A model trained on the first `train_rows` rows of a `testdata/` file, the rest of it
/// logged as three replicas' traffic (requests of 1 to 4 rows, round robin; two requests in
/// three labelled, their feedback lines after the predictions), the same lines also in one
/// log, and the same rows as CSV files for `tabship drift` and `tabship evaluate`.
struct Scenario {
    dir: tempfile::TempDir,
    model: std::path::PathBuf,
    logs: std::path::PathBuf,
    one: std::path::PathBuf,
    live: std::path::PathBuf,
    labelled: std::path::PathBuf,
    rows: usize,
}

fn scenario(
    file: &str,
    (target, name): (&str, &str),
    numeric: &[&str],
    train_rows: usize,
    edit: impl Fn(usize, &mut [String]),
) -> Scenario {
    let dir = tempfile::tempdir().expect("temp dir");
    let (header, rows) = tabship_test_support::read_csv(&tabship_test_support::testdata(file));
    let join = |r: &[String]| r.join(",") + "\n";
    let train_csv = dir.path().join("train.csv");
    let mut text = join(&header);
    for r in &rows[..train_rows] {
        text.push_str(&(r.iter().collect::<Vec<_>>().join(",") + "\n"));
    }
    std::fs::write(&train_csv, text).expect("writable file");
    let model = dir.path().join("model.tabship");
    let out = train(
        path(&train_csv),
        target,
        &["-o", path(&model), "--name", name],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let t = header
        .iter()
        .position(|h| h == target)
        .expect("the target column");
    let features: Vec<(usize, &String)> =
        header.iter().enumerate().filter(|(i, _)| *i != t).collect();
    let names: Vec<String> = features.iter().map(|(_, n)| (*n).clone()).collect();
    let mut live_csv = join(&names);
    let mut labelled_csv = join(&header);
    let mut replicas = [String::new(), String::new(), String::new()];
    let mut late = [String::new(), String::new(), String::new()];
    let live: Vec<Vec<String>> = rows[train_rows..]
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut r: Vec<String> = r.iter().map(str::to_owned).collect();
            edit(i, &mut r);
            r
        })
        .collect();
    let (mut at, mut request) = (0usize, 0usize);
    while at < live.len() {
        let size = (request % 4 + 1).min(live.len() - at);
        let replica = request % 3;
        let id = format!("r{request}");
        let chunk = &live[at..at + size];
        let records: Vec<Value> = chunk
            .iter()
            .map(|r| {
                let mut m = serde_json::Map::new();
                for (c, column) in &features {
                    let v = if r[*c].is_empty() {
                        Value::Null
                    } else if numeric.contains(&column.as_str()) {
                        json!(r[*c].parse::<f64>().expect("a number"))
                    } else {
                        json!(r[*c])
                    };
                    m.insert((*column).clone(), v);
                }
                Value::Object(m)
            })
            .collect();
        replicas[replica].push_str(&prediction(name, &id, &records));
        for (k, r) in chunk.iter().enumerate() {
            let inputs: Vec<String> = features.iter().map(|(c, _)| r[*c].clone()).collect();
            live_csv.push_str(&join(&inputs));
            if request % 3 != 1 {
                late[replica].push_str(&feedback(name, &id, k, &r[t]));
                labelled_csv.push_str(&join(r));
            }
        }
        at += size;
        request += 1;
    }
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).expect("new directory");
    let mut everything = String::new();
    for (i, (p, l)) in replicas.iter().zip(&late).enumerate() {
        std::fs::write(logs.join(format!("replica-{i}.jsonl")), format!("{p}{l}"))
            .expect("writable file");
        everything.push_str(p);
    }
    everything.push_str(&late.concat());
    let one = dir.path().join("one.jsonl");
    std::fs::write(&one, everything).expect("writable file");
    let live_path = dir.path().join("live.csv");
    let labelled_path = dir.path().join("labelled.csv");
    std::fs::write(&live_path, live_csv).expect("writable file");
    std::fs::write(&labelled_path, labelled_csv).expect("writable file");
    Scenario {
        dir,
        model,
        logs,
        one,
        live: live_path,
        labelled: labelled_path,
        rows: live.len(),
    }
}

impl Scenario {
    /// `tabship monitor` over the three replicas' logs (`extra` flags added), checked against
    /// one process: `tabship drift` and `tabship evaluate` on the same rows, and `tabship
    /// monitor` on one log holding every line. The fleet's JSON report.
    fn monitor_equals_one_process(&self, extra: &[&str]) -> Value {
        let pattern = format!("{}/replica-*.jsonl", self.logs.display());
        let mut args = vec!["monitor", path(&self.model), "--log", &pattern, "--json"];
        args.extend_from_slice(extra);
        let fleet = json_of(&tabship(&args));
        assert_eq!(fleet["replicas"].as_array().expect("a list").len(), 3);
        assert_eq!(fleet["join"]["rows"], self.rows);
        let drift = json_of(&tabship(&[
            "drift",
            path(&self.model),
            path(&self.live),
            "--json",
        ]));
        assert_close(&fleet["drift"], &drift, "drift");
        let evaluated = json_of(&tabship(&[
            "evaluate",
            path(&self.model),
            path(&self.labelled),
            "--json",
        ]));
        assert_close(
            &fleet["quality"]["report"],
            &evaluated["metrics"],
            "quality",
        );
        let single = json_of(&tabship(&[
            "monitor",
            path(&self.model),
            "--log",
            path(&self.one),
            "--json",
        ]));
        assert_close(&single["drift"], &fleet["drift"], "one log");
        assert_close(&single["quality"], &fleet["quality"], "one log");
        fleet
    }
}

#[test]
fn three_replicas_report_what_one_process_reports_over_the_same_rows() {
    // The model learns from the first 4,000 rows; in the live rest a tenth of the rows come
    // from a country never seen and some ages are missing, so that unknown and missing slots
    // are counted too.
    let s = scenario(
        "adult_sample.csv",
        ("income", "adult"),
        &NUMERIC,
        4000,
        |i, r| {
            if i % 10 == 3 {
                r[12] = "Atlantis".into();
            }
            if i % 17 == 5 {
                r[0] = String::new();
            }
        },
    );
    let prom = s.dir.path().join("fleet.prom");
    let fleet = s.monitor_equals_one_process(&["--prom-file", path(&prom)]);
    assert!(
        fleet["drift"]["columns"]
            .as_array()
            .expect("a list of columns")
            .iter()
            .any(|c| c["unknown_rate"].as_f64().is_some_and(|r| r > 0.09)),
        "the unknown country is counted: {:#}",
        fleet["drift"]
    );
    let samples = check_prometheus_text(&prom);
    let sample = |series: &str| {
        samples
            .iter()
            .find(|(s, _)| s == series)
            .unwrap_or_else(|| panic!("no {series} in {samples:?}"))
            .1
    };
    let base = r#"model="adult",version="1""#;
    assert_eq!(
        sample(&format!("tabship_fleet_drift_share{{{base}}}")),
        fleet["drift"]["share_drifted"].as_f64().expect("a number")
    );
    assert_eq!(
        sample(&format!(
            "tabship_fleet_live_metric{{{base},metric=\"accuracy\"}}"
        )),
        fleet["quality"]["metrics"]["accuracy"]
            .as_f64()
            .expect("a number")
    );
    assert_eq!(
        sample(&format!("tabship_fleet_rows{{{base}}}")),
        s.rows as f64
    );
    // --fail-on-drift exits 3 exactly when the merged report drifted.
    let out = tabship(&[
        "monitor",
        path(&s.model),
        "--log",
        path(&s.one),
        "--fail-on-drift",
    ]);
    let drifted = fleet["drift"]["drifted"].as_bool().expect("a flag");
    assert_eq!(
        out.status.code(),
        Some(if drifted { 3 } else { 0 }),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_regressors_fleet_reports_mae_as_evaluate_does() {
    // Diamonds' price is in the middle of the file; the live rows' carats are inflated by a
    // fifth, a drift the report must show on `carat` (and on the predictions).
    let s = scenario(
        "diamonds_sample.csv",
        ("price", "diamonds"),
        &["carat", "depth", "table", "price", "x", "y", "z"],
        3000,
        |_, r| {
            let carat: f64 = r[0].parse().expect("a number");
            r[0] = format!("{}", carat * 1.2);
        },
    );
    let fleet = s.monitor_equals_one_process(&[]);
    assert_eq!(fleet["quality"]["task"], "regression");
    assert!(
        fleet["quality"]["metrics"]["mae"]
            .as_f64()
            .is_some_and(|m| m > 0.0)
    );
    let carat = fleet["drift"]["columns"]
        .as_array()
        .expect("a list of columns")
        .iter()
        .find(|c| c["name"] == "carat")
        .expect("carat");
    assert_eq!(carat["drifted"], true, "{carat:#}");
}

#[test]
fn monitor_refuses_a_model_without_a_profile_and_logs_without_its_rows() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("p.jsonl");
    std::fs::write(&log, prediction("adult", "x", &[json!({"a": 1})])).expect("writable file");
    let golden = tabship_test_support::golden("iris_logistic.tabship");
    let out = tabship(&[
        "monitor",
        golden.to_str().expect("utf-8 path"),
        "--log",
        path(&log),
    ]);
    assert_refused(&out, 1, "drift profile");
    let model = crate::labels::iris_model(dir.path());
    let out = tabship(&["monitor", path(&model), "--log", path(&log)]);
    assert_refused(&out, 1, "no logged rows of model `iris`");
}
