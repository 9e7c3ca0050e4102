//! Retraining triggers of a real `tabship serve`: each condition (interval, live accuracy, drift
//! held under `--drift-options`, staleness) runs the command with its JSON payload, Alertmanager's
//! webhook (`POST /admin/alerts`) fires the same actions with a debounce, the webhook action
//! reaches a loopback receiver, and flags that could never fire are refused.

#![cfg(unix)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::mpsc::channel;

use crate::common::*;
use tabship_test_support::PATIENCE;

const ADMIN_TOKEN: &str = "tsk_trigger_tests_admin_token";

const SETOSA: &str =
    r#"{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}"#;

/// `tabship serve MODEL ARGS --retrain-command 'cat > DIR/payload.json'` (checked every 50 ms),
/// once ready.
fn serve_with_command(dir: &Path, model: &str, args: &[&str]) -> Served {
    let command = format!(
        "cat > '{0}/payload.json'; echo \"$TABSHIP_SERVER_URL\" > '{0}/url'",
        dir.display()
    );
    let mut all = vec![
        model,
        "--retrain-command",
        &command,
        "--retrain-check-interval",
        "50ms",
    ];
    all.extend_from_slice(args);
    let mut command = serve_command(&all);
    command.env("TABSHIP_ADMIN_TOKEN", ADMIN_TOKEN);
    Served::start(command)
}

/// Waits for the command to have run once, and returns the payload it read on stdin.
fn payload(server: &mut Served, dir: &Path) -> serde_json::Value {
    let done = server.log.wait_for("retraining action done");
    assert_eq!(done["fields"]["action"], "command", "{done}");
    let text = std::fs::read_to_string(dir.join("payload.json")).expect("payload written");
    serde_json::from_str(&text).expect("payload is JSON")
}

fn post(server: &Served, path: &str, token: Option<&str>, body: &str) -> String {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(auth) = &auth {
        headers.push(("Authorization", auth.as_str()));
    }
    server.send("POST", path, &headers, body.as_bytes())
}

#[test]
fn an_interval_trigger_runs_the_command_with_the_payload_and_counts_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let model = testdata("golden/iris_logistic.tabship");
    let mut server = serve_with_command(dir.path(), &model, &["--retrain-every", "100ms"]);
    let sent = payload(&mut server, dir.path());
    assert_eq!(sent["event"], "retrain");
    assert_eq!(sent["model"], "iris");
    assert_eq!(sent["reason"]["type"], "interval");
    assert_eq!(sent["reason"]["every_seconds"], 0.1);
    // The command can call back the server that ran it.
    let url = std::fs::read_to_string(dir.path().join("url")).expect("url written");
    assert_eq!(url.trim(), format!("http://{}", server.addr));
    assert!(
        sent["checksum"].as_str().unwrap().starts_with("sha256:"),
        "{sent}"
    );
    assert!(
        sent["metrics"]["age_seconds"].as_f64().unwrap() > 0.0,
        "{sent}"
    );
    let metrics = server.get("/metrics");
    assert!(
        metrics.contains("tabship_retrain_triggers_total{model=\"iris\",reason=\"interval\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "tabship_retrain_actions_total{model=\"iris\",action=\"command\",result=\"ok\"}"
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains("tabship_model_age_seconds{model=\"iris\""),
        "{metrics}"
    );
    server.stop();
}

#[test]
fn low_live_accuracy_triggers_once_enough_labels_arrive() {
    let dir = tempfile::tempdir().expect("temp dir");
    let model = testdata("golden/iris_logistic.tabship");
    let mut server = serve_with_command(
        dir.path(),
        &model,
        &[
            "--retrain-below-accuracy",
            "0.9",
            "--retrain-min-labels",
            "20",
        ],
    );
    let rows = vec![SETOSA; 20].join(",");
    let answer = post(
        &server,
        "/predict",
        None,
        &format!("{{\"instances\": [{rows}]}}"),
    );
    let id = json_body(&answer)["request_id"]
        .as_str()
        .expect("id")
        .to_owned();
    for row in 0..20 {
        // Every setosa prediction labelled virginica: accuracy 0.
        let feedback = format!(r#"{{"request_id": "{id}", "row": {row}, "label": "virginica"}}"#);
        let answer = post(&server, "/feedback", None, &feedback);
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
    let sent = payload(&mut server, dir.path());
    assert_eq!(sent["reason"]["type"], "accuracy", "{sent}");
    assert_eq!(sent["reason"]["value"], 0.0);
    assert_eq!(sent["reason"]["threshold"], 0.9);
    assert_eq!(sent["metrics"]["window_labels"], 20);
    server.stop();
}

#[test]
fn drift_held_under_the_drift_options_triggers_with_its_reasons() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Only the `age` column counts: the same policy file `tabship drift --options` reads.
    let options = dir.path().join("drift.json");
    std::fs::write(
        &options,
        r#"{"policy": {"share": false, "prediction": false, "unknown_rate": null, "columns": ["age"]}}"#,
    )
    .expect("options");
    let model = testdata("golden/adult_logistic_profile.tabship");
    let mut server = serve_with_command(
        dir.path(),
        &model,
        &[
            "--drift-options",
            path(&options),
            "--retrain-on-drift-for",
            "0s",
            "--retrain-min-rows",
            "60",
        ],
    );
    let old = r#"{"age": 90, "workclass": "Private", "education": "Bachelors", "education_num": 13, "marital_status": "Never-married", "occupation": "Sales", "relationship": "Not-in-family", "race": "White", "gender": "Male", "capital_gain": 0, "capital_loss": 0, "hours_per_week": 40, "native_country": "United-States"}"#;
    let rows = vec![old; 60].join(",");
    let answer = post(
        &server,
        "/predict",
        None,
        &format!("{{\"instances\": [{rows}]}}"),
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let sent = payload(&mut server, dir.path());
    assert_eq!(sent["reason"]["type"], "drift", "{sent}");
    assert_eq!(sent["reason"]["reasons"], serde_json::json!(["column:age"]));
    assert_eq!(sent["metrics"]["drift_rows"], 60);
    assert_eq!(sent["metrics"]["drifted"], true);
    server.stop();
}

#[test]
fn a_stale_model_triggers_and_is_flagged_stale() {
    let dir = tempfile::tempdir().expect("temp dir");
    let model = testdata("golden/iris_logistic.tabship");
    let mut server = serve_with_command(dir.path(), &model, &["--max-model-age", "1s"]);
    let sent = payload(&mut server, dir.path());
    assert_eq!(sent["reason"]["type"], "stale", "{sent}");
    assert_eq!(sent["reason"]["max_age_seconds"], 1.0);
    let metrics = server.get("/metrics");
    assert!(
        metrics.contains("tabship_model_stale{model=\"iris\",version=\"golden\"} 1"),
        "{metrics}"
    );
    server.stop();
}

const ALERTS: &str = r#"{"version": "4", "status": "firing", "receiver": "tabship",
  "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://am",
  "alerts": [
    {"status": "firing", "labels": {"alertname": "TabshipDatasetDrift", "model": "iris", "version": "1"},
     "annotations": {}, "startsAt": "2026-12-01T00:00:00Z", "endsAt": "0001-01-01T00:00:00Z"},
    {"status": "resolved", "labels": {"alertname": "TabshipLiveAccuracyLow", "model": "iris"}},
    {"status": "firing", "labels": {"alertname": "TabshipHigh5xxRatio", "instance": "a:1"}},
    {"status": "firing", "labels": {"alertname": "TabshipDatasetDrift", "model": "churn"}}
  ]}"#;

#[test]
fn alertmanager_alerts_trigger_the_named_model_once_per_debounce() {
    let dir = tempfile::tempdir().expect("temp dir");
    let model = testdata("golden/iris_logistic.tabship");
    let mut server = serve_with_command(dir.path(), &model, &[]);
    let refused = post(&server, "/admin/alerts", None, ALERTS);
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
    let answer = post(&server, "/admin/alerts", Some(ADMIN_TOKEN), ALERTS);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let body = json_body(&answer);
    assert_eq!(
        body["triggered"],
        serde_json::json!([{"alertname": "TabshipDatasetDrift", "model": "iris", "version": "golden"}])
    );
    let why: Vec<&str> = body["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["why"].as_str().unwrap())
        .collect();
    assert_eq!(
        why,
        [
            "status `resolved`",
            "no `model` label",
            "no model `churn` is loaded"
        ]
    );
    let sent = payload(&mut server, dir.path());
    assert_eq!(
        sent["reason"],
        serde_json::json!({"type": "alert", "alertname": "TabshipDatasetDrift"})
    );
    // Within the debounce (1 h by default) the same alert is skipped.
    let again = json_body(&post(&server, "/admin/alerts", Some(ADMIN_TOKEN), ALERTS));
    assert_eq!(again["triggered"], serde_json::json!([]));
    assert!(
        again["skipped"][0]["why"]
            .as_str()
            .unwrap()
            .starts_with("debounced"),
        "{again}"
    );
    let bad = post(
        &server,
        "/admin/alerts",
        Some(ADMIN_TOKEN),
        r#"{"alerts": 3}"#,
    );
    assert!(bad.starts_with("HTTP/1.1 400"), "{bad}");
    server.stop();
}

#[test]
fn alerts_without_an_action_are_a_conflict() {
    let model = testdata("golden/iris_logistic.tabship");
    let mut command = serve_command(&[&model]);
    command.env("TABSHIP_ADMIN_TOKEN", ADMIN_TOKEN);
    let server = Served::start(command);
    let answer = post(&server, "/admin/alerts", Some(ADMIN_TOKEN), ALERTS);
    assert!(answer.starts_with("HTTP/1.1 409"), "{answer}");
    assert!(answer.contains("retrain_not_configured"), "{answer}");
    server.stop();
}

#[test]
fn the_webhook_receives_the_payload() {
    let receiver = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!(
        "http://{}/hook?token=secret",
        receiver.local_addr().unwrap()
    );
    let (sender, received) = channel();
    std::thread::spawn(move || {
        let (stream, _) = receiver.accept().expect("accept");
        let mut reader = BufReader::new(stream);
        let mut head = String::new();
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).expect("header");
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().expect("length");
            }
            head.push_str(&line);
            if line == "\r\n" {
                break;
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).expect("body");
        let mut stream = reader.into_inner();
        stream
            .write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
            .expect("answer");
        let _ = sender.send((head, body));
    });
    let model = testdata("golden/iris_logistic.tabship");
    let mut server = Served::start(serve_command(&[
        &model,
        "--retrain-webhook",
        &url,
        "--retrain-every",
        "50ms",
        "--retrain-check-interval",
        "50ms",
    ]));
    let (head, body) = received
        .recv_timeout(PATIENCE)
        .expect("the webhook was called");
    assert!(
        head.starts_with("POST /hook?token=secret HTTP/1.1"),
        "{head}"
    );
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{head}"
    );
    let sent: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(sent["model"], "iris");
    assert_eq!(sent["reason"]["type"], "interval");
    let done = server.log.wait_for("retraining action done");
    assert_eq!(done["fields"]["action"], "webhook", "{done}");
    server.stop();
}

#[test]
fn conditions_without_an_action_and_bad_values_are_usage_errors() {
    let model = testdata("golden/iris_logistic.tabship");
    let out = tabship(&["serve", &model, "--retrain-every", "1h"]);
    assert_refused(
        &out,
        2,
        "--retrain-every needs --retrain-command or --retrain-webhook",
    );
    let out = tabship(&["serve", &model, "--retrain-every", "soon"]);
    assert_refused(&out, 2, "expected a duration such as `30m`");
    let out = tabship(&[
        "serve",
        &model,
        "--retrain-command",
        "true",
        "--retrain-below-accuracy",
        "2",
    ]);
    assert_refused(
        &out,
        2,
        "--retrain-below-accuracy: expected a number in (0, 1], got `2`",
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let options = dir.path().join("drift.json");
    std::fs::write(&options, r#"{"share": 7}"#).expect("options");
    let out = tabship(&["serve", &model, "--drift-options", path(&options)]);
    assert_refused(&out, 2, "--drift-options");
}

#[test]
fn the_debounce_survives_a_restart_with_a_state_dir() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("state");
    let model = testdata("golden/iris_logistic.tabship");
    let args = ["--state-dir", path(&state)];
    let mut server = serve_with_command(dir.path(), &model, &args);
    let first = json_body(&post(&server, "/admin/alerts", Some(ADMIN_TOKEN), ALERTS));
    assert_eq!(first["triggered"][0]["model"], "iris", "{first}");
    payload(&mut server, dir.path());
    server.stop();
    let server = serve_with_command(dir.path(), &model, &args);
    let again = json_body(&post(&server, "/admin/alerts", Some(ADMIN_TOKEN), ALERTS));
    assert_eq!(again["triggered"], serde_json::json!([]), "{again}");
    assert!(
        again["skipped"][0]["why"]
            .as_str()
            .unwrap()
            .starts_with("debounced"),
        "{again}"
    );
    server.stop();
}
