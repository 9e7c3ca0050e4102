//! `tabship labels export` on the logs of two real `tabship serve` replicas: rotated files,
//! `/predict`, V2 and SageMaker CSV requests, logged feedback, a label file overriding a logged label, a log
//! shipped twice (duplicates) and one request id used by both replicas (a conflict).

#![cfg(unix)]

use std::path::Path;

use serde_json::{Value, json};

use crate::common::*;

/// An iris row: the JSON record sent, its feature texts as the export writes them, its species.
type IrisRow = (Value, Vec<String>, String);

/// The iris rows of `testdata/iris.csv` as JSON records and as the text the export writes.
fn iris() -> (Vec<String>, Vec<IrisRow>) {
    let (header, rows) =
        tabship_test_support::read_csv(&tabship_test_support::testdata("iris.csv"));
    let features = &header[..4];
    let out = rows
        .iter()
        .map(|r| {
            let mut record = serde_json::Map::new();
            let mut texts = Vec::new();
            for (i, name) in features.iter().enumerate() {
                let x: f64 = r[i].parse().expect("a number");
                record.insert(name.clone(), json!(x));
                texts.push(format!("{x}"));
            }
            (Value::Object(record), texts, r[4].to_owned())
        })
        .collect();
    (header, out)
}

fn post(server: &Served, path: &str, id: &str, body: &Value) -> String {
    let body = body.to_string();
    let answer = server.send(
        "POST",
        path,
        &[("Content-Type", "application/json"), ("X-Request-Id", id)],
        body.as_bytes(),
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{path} {id}: {answer}");
    answer
}

fn label(server: &Served, id: &str, index: usize, label: &str) {
    let body = json!({"request_id": id, "index": index, "label": label}).to_string();
    let answer = server.send(
        "POST",
        "/feedback",
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    );
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "feedback {id}: {answer}"
    );
}

/// Trains the iris model the tests serve (name `iris`, with a drift profile).
pub fn iris_model(dir: &Path) -> std::path::PathBuf {
    let model = dir.join("iris.tabship");
    let out = train(
        &testdata("iris.csv"),
        "species",
        &["-o", path(&model), "--name", "iris"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    model
}

/// `tabship labels export --model MODEL ARGS…`, run to completion.
fn export(model: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["labels", "export", "--model", path(model)];
    all.extend_from_slice(args);
    tabship(&all)
}

#[test]
fn export_joins_two_replicas_logs_with_their_labels() {
    let dir = tempfile::tempdir().expect("temp dir");
    let model = iris_model(dir.path());
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).expect("new directory");
    let (_, rows) = iris();
    let record = |i: usize| rows[i].0.clone();

    // Replica A rotates at 1 MiB: its big batch request pushes the first line into
    // `a.jsonl.1`, and the next request pushes both into `.2` and `.1`.
    let log_a = logs.join("a.jsonl");
    let mut a = Served::start(serve_command(&[
        path(&model),
        "--log",
        path(&log_a),
        "--log-max-mb",
        "1",
    ]));
    post(&a, "/predict", "a-1", &record(0));
    post(&a, "/predict", "shared", &record(1));
    let big: Vec<Value> = (0..9000).map(|i| record(i % 150)).collect();
    post(&a, "/predict", "a-big", &json!({ "instances": big }));
    post(&a, "/predict", "a-2", &record(60));
    label(&a, "a-1", 0, "setosa");
    label(&a, "shared", 0, "setosa");
    label(&a, "a-big", 5, &rows[5].2);
    label(&a, "a-2", 0, "versicolor");
    assert!(a.terminate().success());
    assert!(logs.join("a.jsonl.2").exists() && logs.join("a.jsonl.1").exists());

    // Replica B: a record, the same client-chosen id as A with another row, and V2 tensors.
    let log_b = logs.join("b.jsonl");
    let mut b = Served::start(serve_command(&[path(&model), "--log", path(&log_b)]));
    post(&b, "/predict", "b-1", &record(120));
    post(&b, "/predict", "shared", &record(2));
    // Two rows as V2 tensors, one per column (the export must read them back as rows).
    let (header, _) = tabship_test_support::read_csv(&tabship_test_support::testdata("iris.csv"));
    let tensors: Vec<Value> = (0..4)
        .map(|c| {
            let data: Vec<f64> = [100, 101]
                .iter()
                .map(|&r| rows[r].1[c].parse().expect("a number"))
                .collect();
            json!({"name": header[c], "shape": [2], "datatype": "FP64", "data": data})
        })
        .collect();
    let v2 = json!({ "inputs": tensors });
    post(&b, "/v2/models/iris/infer", "b-v2", &v2);
    // SageMaker's CSV body: rows of cells in schema order, no header.
    let csv_body = format!("{}\n{}\n", rows[130].1.join(","), rows[131].1.join(","));
    let answer = b.send(
        "POST",
        "/invocations",
        &[("Content-Type", "text/csv"), ("X-Request-Id", "b-csv")],
        csv_body.as_bytes(),
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    label(&b, "b-1", 0, "virginica");
    label(&b, "shared", 0, "setosa");
    label(&b, "b-v2", 1, "virginica");
    label(&b, "b-csv", 1, "virginica");
    assert!(b.terminate().success());

    // The same log shipped twice, under another directory.
    let copy = dir.path().join("shipped");
    std::fs::create_dir(&copy).expect("new directory");
    std::fs::copy(&log_b, copy.join("b.jsonl")).expect("copied file");
    // Late labels from another system: one corrects A's label, one names an unknown id, one
    // labels another row of the batch, one is not a class.
    let late = dir.path().join("late.csv");
    std::fs::write(
        &late,
        "request_id,index,label\na-2,,virginica\nnever-seen,0,setosa\na-big,7,setosa\na-1,0,tulip\n",
    )
    .expect("writable file");
    let out_csv = dir.path().join("labelled.csv");
    let out = export(
        &model,
        &[
            "--log",
            &format!("{}/*.jsonl", logs.display()),
            "--log",
            path(&copy.join("b.jsonl")),
            "--feedback",
            path(&late),
            "-o",
            path(&out_csv),
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).expect("valid JSON");
    let text = std::fs::read_to_string(&out_csv).expect("readable file");
    let expected_rows: Vec<(usize, &str)> = vec![
        (0, "setosa"),      // a-1 (its late `tulip` is not a class)
        (5, &rows[5].2),    // a-big index 5, logged feedback
        (7, "setosa"),      // a-big index 7, from the label file
        (60, "virginica"),  // a-2, relabelled by the file
        (120, "virginica"), // b-1
        (101, "virginica"), // b-v2 index 1
        (131, "virginica"), // b-csv index 1
    ];
    let mut expected = String::from("sepal_length,sepal_width,petal_length,petal_width,species\n");
    for (i, l) in &expected_rows {
        expected.push_str(&format!("{},{l}\n", rows[*i].1.join(",")));
    }
    assert_eq!(text, expected, "{report:#}");
    let count = |k: &str| report[k].as_u64().expect("a count");
    assert_eq!(
        count("files"),
        5,
        "a.jsonl.2, .1, a.jsonl, b.jsonl and its copy"
    );
    assert_eq!(
        count("requests"),
        6,
        "a-1, a-big, a-2, b-1, b-v2, b-csv: {report:#}"
    );
    assert_eq!(count("rows"), 1 + 9000 + 1 + 1 + 2 + 2);
    assert_eq!(count("labelled_rows"), 7);
    assert_eq!(
        count("duplicate_predictions"),
        3,
        "b-1, b-v2 and b-csv shipped twice"
    );
    assert_eq!(
        count("conflicting_predictions"),
        3,
        "`shared` in A, B and the copy"
    );
    assert_eq!(
        count("duplicate_labels"),
        3,
        "b-1, b-v2, b-csv shipped twice"
    );
    assert_eq!(count("relabelled"), 1);
    assert_eq!(
        count("unmatched_labels"),
        1 + 3,
        "never-seen, and `shared` ×3"
    );
    assert_eq!(count("invalid_labels"), 1);
    assert_eq!(count("bad_lines"), 0);
    // The export is the model's input: evaluate reads it as is.
    let evaluated = tabship(&["evaluate", path(&model), path(&out_csv), "--json"]);
    assert!(evaluated.status.success(), "{}", stderr(&evaluated));
}

#[test]
fn export_without_labels_fails_and_bad_patterns_are_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let model = iris_model(dir.path());
    let log = dir.path().join("p.jsonl");
    std::fs::write(&log, "{\"kind\":\"prediction\",\"cut short\n").expect("writable file");
    let out = export(&model, &["--log", path(&log)]);
    assert_refused(&out, 1, "no labelled rows to export for model `iris`");
    assert!(
        stderr(&out).contains("1 lines that are not log records"),
        "{}",
        stderr(&out)
    );
    let out = export(
        &model,
        &["--log", &format!("{}/*.log", dir.path().display())],
    );
    assert_refused(&out, 1, "matches no file");
}

#[test]
fn export_reads_the_served_name_and_one_version() {
    use crate::monitor::{feedback_of, prediction_of};
    let dir = tempfile::tempdir().expect("temp dir");
    let model = iris_model(dir.path());
    let (_, rows) = iris();
    // Served as `flowers=iris.tabship`, versions 1 and 2 in an A/B split.
    let mut log = String::new();
    for (i, version) in [(0, "1"), (60, "2"), (120, "2"), (1, "1")] {
        let id = format!("q{i}");
        log.push_str(&prediction_of(
            ("flowers", version),
            &id,
            &[rows[i].0.clone()],
        ));
        log.push_str(&feedback_of(("flowers", version), &id, 0, &rows[i].2));
    }
    let path_log = dir.path().join("p.jsonl");
    std::fs::write(&path_log, log).expect("writable file");
    let out = export(
        &model,
        &[
            "--log",
            path(&path_log),
            "--log-model",
            "flowers",
            "--log-version",
            "2",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let csv = stdout(&out);
    let expected: String = [60, 120]
        .iter()
        .map(|&i| format!("{},{}\n", rows[i].1.join(","), rows[i].2))
        .collect();
    assert!(
        csv.ends_with(&expected) && csv.lines().count() == 3,
        "{csv}"
    );
    let report: Value = serde_json::from_str(stderr(&out).trim()).expect("valid JSON");
    assert_eq!(report["other_version_lines"], 4, "{report:#}");
    // Without --log-model the artifact's own name (`iris`) reads nothing.
    let out = export(&model, &["--log", path(&path_log)]);
    assert_refused(&out, 1, "no labelled rows to export for model `iris`");
}
