//! The `tabship` binary end to end: train, predict, inspect, exit codes and error lines.

use std::process::Command;

use crate::common::*;

#[test]
fn train_predict_inspect_iris() {
    let dir = tempfile::tempdir().expect("temp dir");
    let model = dir.path().join("iris.tabship");
    let out = tabship(&[
        "train",
        &testdata("iris.csv"),
        "--target",
        "species",
        "-o",
        path(&model),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("accuracy"), "{text}");

    let predictions = dir.path().join("pred.csv");
    let out = tabship(&[
        "predict",
        path(&model),
        &testdata("iris.csv"),
        "--proba",
        "-o",
        path(&predictions),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let csv = std::fs::read_to_string(&predictions).expect("output written");
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "sepal_length,sepal_width,petal_length,petal_width,species,prediction,probability_setosa,probability_versicolor,probability_virginica"
        )
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 150);
    let correct = rows.iter().filter(|r| r[4] == r[5]).count();
    assert!(correct >= 140, "{correct}/150 correct");
    for r in &rows {
        let total: f64 = r[6..]
            .iter()
            .map(|p| p.parse::<f64>().expect("probability"))
            .sum();
        assert!((total - 1.0).abs() < 1e-9);
    }

    let out = tabship(&["inspect", path(&model), "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("inspect --json is JSON");
    assert_eq!(
        json["format_version"], "1.2",
        "trained with a drift profile"
    );
    assert_eq!(json["drift_profile"]["columns"], 4);
    assert_eq!(json["task"], "classification");
    assert_eq!(
        json["classes"],
        serde_json::json!(["setosa", "versicolor", "virginica"])
    );
    assert_eq!(json["schema"].as_array().map(Vec::len), Some(4));
    assert!(
        json["checksum"]
            .as_str()
            .is_some_and(|c| c.starts_with("sha256:"))
    );
    let out = tabship(&["inspect", path(&model)]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("schema (4 columns)"));
}

#[test]
fn predict_counts_unseen_categories_and_keeps_the_target() {
    let out = tabship(&[
        "predict",
        &testdata("golden/adult_logistic.tabship"),
        &testdata("golden/adult_inputs.csv"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let csv = String::from_utf8_lossy(&out.stdout);
    assert!(
        csv.lines()
            .next()
            .is_some_and(|h| h.ends_with(",income,prediction"))
    );
    assert_eq!(csv.lines().count(), 41);
    let err = stderr(&out);
    assert!(err.contains("native_country: 2 unknown"), "{err}");
    assert!(err.contains("workclass: 1 unknown"), "{err}");
}

#[test]
fn invalid_rows_fail_mark_or_skip_with_file_row_numbers() {
    // 70,000 rows, so the second bad row lies in the second chunk of 65,536.
    let dir = tempfile::tempdir().expect("temp dir");
    let iris = std::fs::read_to_string(testdata("iris.csv")).expect("iris");
    let mut lines = iris.lines();
    let header = lines.next().expect("header");
    let rows: Vec<&str> = lines.collect();
    let mut csv = format!("{header}\n");
    for i in 0..70_000 {
        match i {
            4 => csv.push_str("5.1,wide,1.4,0.2,setosa\n"),
            66_000 => csv.push_str("5.1,3.5,inf,0.2,setosa\n"),
            _ => {
                csv.push_str(rows[i % rows.len()]);
                csv.push('\n');
            }
        }
    }
    let data = dir.path().join("scoring.csv");
    std::fs::write(&data, csv).expect("writes");
    let model = testdata("golden/iris_logistic.tabship");
    let out_file = dir.path().join("scored.csv");

    let out = tabship(&["predict", &model, path(&data), "-o", path(&out_file)]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with("error: row 5, column `sepal_width`: expected a number, got `wide`")
            && err.contains("--invalid-rows mark or skip"),
        "{err}"
    );
    assert!(!out_file.exists(), "nothing is written");
    let out = tabship(&["predict", &model, path(&data)]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "", "not even the header on stdout");
    let empty = dir.path().join("empty.csv");
    std::fs::write(&empty, format!("{header}\n")).expect("writes");
    let out = tabship(&["predict", &model, path(&empty)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!("{header},prediction\n"),
        "a header-only input"
    );

    let out = tabship(&[
        "predict",
        &model,
        path(&data),
        "--proba",
        "--invalid-rows",
        "mark",
        "-o",
        path(&out_file),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("predicted 69998 rows"), "{err}");
    assert!(
        err.contains("2 invalid rows written with the reason"),
        "{err}"
    );
    let mut reader = csv::Reader::from_path(&out_file).expect("output");
    let out_header = reader.headers().expect("header").clone();
    assert_eq!(out_header.len(), 5 + 1 + 3 + 1);
    assert_eq!(&out_header[9], "error");
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert_eq!(records.len(), 70_000, "every row is kept");
    assert_eq!(&records[0][5], "setosa");
    assert_eq!(&records[0][9], "");
    for (i, message) in [
        (
            4,
            "row 5, column `sepal_width`: expected a number, got `wide`",
        ),
        (66_000, "row 66001, column `petal_length`"),
    ] {
        assert!(records[i].iter().skip(5).take(4).all(str::is_empty));
        assert!(records[i][9].starts_with(message), "{:?}", &records[i]);
    }

    let out = tabship(&["predict", &model, path(&data), "--invalid-rows", "skip"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let kept = stdout(&out);
    assert_eq!(kept.lines().count(), 1 + 69_998);
    assert!(!kept.contains("wide") && !kept.contains("inf"));
    assert!(stderr(&out).contains("2 invalid rows left out; the first: row 5"));
}

#[test]
fn usage_errors_exit_2() {
    let out = tabship(&["train", "data.csv"]);
    assert_eq!(out.status.code(), Some(2));
    let out = tabship(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn other_errors_exit_1_with_one_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = tabship(&["inspect", path(&dir.path().join("missing.tabship"))]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: artifact not found"), "{err}");

    let not_an_artifact = testdata("iris.csv");
    let out = tabship(&["inspect", &not_an_artifact]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not a tabship artifact"));

    // A bad value names the row, the column and the value; no output file is left behind.
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n5.0,three,1.4,0.2\n",
    )
    .unwrap();
    let output = dir.path().join("never.csv");
    let out = tabship(&[
        "predict",
        &testdata("golden/iris_logistic.tabship"),
        path(&bad),
        "-o",
        path(&output),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).trim(),
        "error: row 2, column `sepal_width`: expected a number, got `three` \
         (--invalid-rows mark or skip goes on past invalid rows)"
    );
    assert!(!output.exists());

    let out = tabship(&[
        "train",
        &testdata("iris.csv"),
        "--target",
        "species",
        "--model",
        "ridge",
        "-o",
        path(&dir.path().join("x.tabship")),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("`ridge` cannot do classification"),
        "{}",
        stderr(&out)
    );
    let out = tabship(&[
        "train",
        &testdata("iris.csv"),
        "--target",
        "species",
        "--min-frequency",
        "abc",
        "-o",
        "x",
    ]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a bad flag value is a usage error"
    );
    assert!(stderr(&out).contains("invalid option `min-frequency`"));
}

#[test]
fn write_split_and_json_report() {
    let dir = tempfile::tempdir().expect("temp dir");
    let split = dir.path().join("split.csv");
    let out = tabship(&[
        "train",
        &testdata("diamonds_sample.csv"),
        "--target",
        "price",
        "--model",
        "linear",
        "--json",
        "--write-split",
        path(&split),
        "-o",
        path(&dir.path().join("d.tabship")),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["model"], "linear");
    assert!(json["metrics"]["r2"].as_f64().is_some_and(|r2| r2 > 0.85));
    let text = std::fs::read_to_string(&split).expect("split written");
    let tests = text.lines().filter(|l| l.ends_with(",test")).count();
    assert_eq!(tests as u64, json["test_rows"].as_u64().expect("count"));
}

#[test]
fn forests_train_evaluate_and_bench() {
    let dir = tempfile::tempdir().expect("temp dir");
    let model = dir.path().join("forest.tabship");
    let out = tabship(&[
        "train",
        &testdata("iris.csv"),
        "--target",
        "species",
        "--model",
        "random-forest",
        "--n-trees",
        "15",
        "--max-depth",
        "4",
        "--max-features",
        "2",
        "--threads",
        "2",
        "-o",
        path(&model),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));

    let out = tabship(&["evaluate", path(&model), &testdata("iris.csv"), "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let m = &report["metrics"];
    assert_eq!(m["rows"], 150);
    let confusion: Vec<Vec<u64>> = serde_json::from_value(m["confusion"].clone()).expect("matrix");
    let correct: u64 = (0..3).map(|i| confusion[i][i]).sum();
    assert!((m["accuracy"].as_f64().unwrap() - correct as f64 / 150.0).abs() < 1e-12);
    assert!(m["accuracy"].as_f64().unwrap() > 0.9);
    assert!(m["per_class"].as_array().is_some_and(|c| c.len() == 3));
    assert!(
        m["roc_auc"].is_null(),
        "ROC AUC is reported for two classes only"
    );

    let text = tabship(&["evaluate", path(&model), &testdata("iris.csv")]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("confusion"));

    let out = tabship(&[
        "bench",
        path(&model),
        &testdata("iris.csv"),
        "--rows",
        "2000",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let bench: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(
        bench["single_row_seconds"]
            .as_f64()
            .is_some_and(|s| s > 0.0)
    );
    assert!(
        bench["batch_rows_per_second"]["1"]
            .as_f64()
            .is_some_and(|r| r > 0.0)
    );

    let out = tabship(&[
        "train",
        &testdata("iris.csv"),
        "--target",
        "species",
        "--model",
        "decision-tree",
        "--max-features",
        "2",
        "-o",
        path(&model),
    ]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a bad flag value is a usage error"
    );
    assert!(
        stderr(&out).contains("invalid option `max-features`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn evaluate_regression_and_missing_target() {
    let out = tabship(&[
        "evaluate",
        &testdata("golden/diamonds_forest.tabship"),
        &testdata("golden/diamonds_inputs.csv"),
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["task"], "regression");
    assert!(report["metrics"]["r2"].as_f64().is_some_and(|r2| r2 > 0.8));
    let out = tabship(&[
        "evaluate",
        &testdata("golden/adult_forest.tabship"),
        &testdata("iris.csv"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("missing column `income`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn keys_add_prints_a_token_once_and_stores_its_hash() {
    let dir = tempfile::tempdir().expect("temp dir");
    let keys = dir.path().join("keys.toml");
    let out = tabship(&[
        "keys",
        "add",
        "--username",
        "pedro1",
        "--scopes",
        "predict,feedback",
        "--keys",
        path(&keys),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let token = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(token.starts_with("tsk_") && token.len() > 40, "{token}");
    let text = std::fs::read_to_string(&keys).expect("keys file");
    assert!(text.contains("username = \"pedro1\""), "{text}");
    assert!(
        text.contains("scopes = [\"predict\", \"feedback\"]"),
        "{text}"
    );
    assert!(!text.contains(&token), "only the hash is stored");
    let out = tabship(&[
        "keys",
        "add",
        "--username",
        "x",
        "--scopes",
        "root",
        "--keys",
        path(&keys),
    ]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a bad flag value is a usage error"
    );
    assert!(
        stderr(&out).contains("unknown scope `root`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn serve_refuses_a_public_address_without_keys() {
    let model = testdata("golden/iris_logistic.tabship");
    let out = tabship(&["serve", &model, "--host", "0.0.0.0", "--port", "0"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("refusing to listen on `0.0.0.0` without a keys file"),
        "{}",
        stderr(&out)
    );
    let out = tabship(&["serve"]);
    assert_eq!(out.status.code(), Some(2), "no artifacts is a usage error");
    assert!(
        stderr(&out).contains("give artifacts to serve"),
        "{}",
        stderr(&out)
    );
    for (flag, value) in [("--max-connections", "0"), ("--header-timeout", "0")] {
        let out = tabship(&["serve", &model, "--port", "0", flag, value]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{flag} {value} is a usage error"
        );
        assert!(
            stderr(&out).contains(&format!("{flag} must be")) && stderr(&out).contains("`0`"),
            "{}",
            stderr(&out)
        );
    }
    let out = tabship(&["serve", &testdata("iris.csv"), "--port", "0"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("not a tabship artifact"),
        "{}",
        stderr(&out)
    );
}

/// A raw HTTP/1.1 request on loopback (no client dependency needed).
fn http(addr: &str, request: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("connects");
    // A hung server fails the test instead of hanging it.
    stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
    stream.set_write_timeout(Some(PATIENCE)).expect("timeout");
    stream.write_all(request.as_bytes()).expect("writes");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("reads");
    answer
}

#[cfg(unix)]
#[test]
fn serve_answers_then_stops_gracefully_on_sigterm() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("predictions.jsonl");
    let (mut child, _log, addr) = spawn_server(&[
        &testdata("golden/iris_logistic.tabship"),
        "--log",
        path(&log),
    ]);
    let answer = http_post(&addr, "/predict", None, SETOSA);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"prediction\":\"setosa\""), "{answer}");
    signal(&child, "-TERM");
    let status = wait_exit(&mut child);
    assert!(status.success(), "graceful exit, got {status}");
    let logged = std::fs::read_to_string(&log).expect("prediction log");
    assert!(
        logged.contains("\"prediction\":\"setosa\""),
        "flushed at shutdown: {logged}"
    );
}

#[cfg(unix)]
#[test]
fn demo_trains_iris_and_serves_the_form() {
    use std::process::Stdio;
    let dir = tempfile::tempdir().expect("temp dir");
    let model = dir.path().join("out").join("iris.tabship");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tabship"))
        .args([
            "demo",
            "--output",
            path(&model),
            "--port",
            "0",
            "--json-logs",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .expect("demo starts");
    let mut log = ServerLog::read(child.stderr.take().expect("stderr"));
    log.wait_until("the printed banner", |line| line.contains("Ctrl-C"));
    let addr = log.find("listening")["fields"]["address"]
        .as_str()
        .map(str::to_owned);
    let printed = log.text();
    let addr = addr.expect("the demo logs its address");
    assert!(printed.contains("trained iris"), "{printed}");
    assert!(printed.contains("admin token   tsk_"), "{printed}");
    assert!(printed.contains(&format!("http://{addr}/ui")), "{printed}");
    assert!(model.exists(), "the artifact is saved");
    let ui = http(
        &addr,
        "GET /ui HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    assert!(ui.starts_with("HTTP/1.1 200"), "{ui}");
    assert!(
        ui.contains("data-column=\"petal_length\""),
        "the form is generated from the schema"
    );
    let body = r#"{"features": [6.7, 3.0, 5.2, 2.3]}"#;
    let answer = http(
        &addr,
        &format!(
            "POST /predict HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(answer.contains("\"prediction\":\"virginica\""), "{answer}");
    // The demo listens on loopback without keys: a DNS rebinding page (another `Host`) and a
    // cross-site upload are refused.
    let rebound = http(
        &addr,
        "GET /models HTTP/1.1\r\nHost: evil.example:8900\r\nConnection: close\r\n\r\n",
    );
    assert!(rebound.starts_with("HTTP/1.1 421"), "{rebound}");
    assert!(rebound.contains("host_not_allowed"), "{rebound}");
    let cross_site = http(
        &addr,
        "POST /admin/models/iris/rollback HTTP/1.1\r\nHost: localhost\r\nOrigin: http://evil.example\r\nContent-Type: text/plain\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx",
    );
    assert!(cross_site.starts_with("HTTP/1.1 403"), "{cross_site}");
    assert!(cross_site.contains("cross_origin"), "{cross_site}");
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    assert!(wait_exit(&mut child).success());
}

#[cfg(unix)]
#[test]
fn serve_without_keys_guards_admin_with_a_token_for_the_run() {
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_tabship"))
        .args(["serve", &testdata("golden/iris_logistic.tabship")])
        .args(["--port", "0", "--json-logs"])
        .env_remove("TABSHIP_ADMIN_TOKEN")
        .stderr(Stdio::piped())
        .spawn()
        .expect("server starts");
    let mut log = ServerLog::read(child.stderr.take().expect("stderr"));
    let addr = log.find("listening")["fields"]["address"]
        .as_str()
        .expect("address")
        .to_owned();
    let announced = log.find(
        "no keys file: the admin routes need this token for this run (Authorization: Bearer <token>); give --keys for lasting users",
    );
    assert_eq!(announced["level"], "WARN", "{announced}");
    let token = announced["fields"]["admin_token"]
        .as_str()
        .expect("the token is logged")
        .to_owned();
    assert!(token.starts_with("tsk_") && token.len() > 40, "{token}");
    wait_ready(&addr);
    let rollback = |auth: &str| {
        http(
            &addr,
            &format!(
                "POST /admin/models/iris/rollback HTTP/1.1\r\nHost: localhost\r\n{auth}Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
            ),
        )
    };
    let none = rollback("");
    assert!(none.starts_with("HTTP/1.1 401"), "{none}");
    assert!(none.contains("printed at start"), "{none}");
    let wrong = rollback("Authorization: Bearer tsk_not_the_token_of_this_run\r\n");
    assert!(wrong.starts_with("HTTP/1.1 401"), "{wrong}");
    // The right token passes authentication: iris has no earlier version to roll back to.
    let right = rollback(&format!("Authorization: Bearer {token}\r\n"));
    assert!(right.starts_with("HTTP/1.1 409"), "{right}");
    // Predictions stay open without keys.
    assert!(http_post(&addr, "/predict", None, SETOSA).starts_with("HTTP/1.1 200"));
    signal(&child, "-TERM");
    assert!(wait_exit(&mut child).success());

    for (flag, value, expected) in [
        (
            "--admin-token",
            "short",
            "--admin-token must have at least 16 characters",
        ),
        ("--max-uploads", "0", "--max-uploads must be at least 1"),
    ] {
        let out = tabship(&[
            "serve",
            &testdata("golden/iris_logistic.tabship"),
            "--port",
            "0",
            flag,
            value,
        ]);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains(expected), "{}", stderr(&out));
    }
}

#[cfg(unix)]
#[test]
fn serve_drains_after_sigterm_before_closing() {
    let (mut child, _log, addr) = spawn_server(&[
        &testdata("golden/iris_logistic.tabship"),
        "--drain-seconds",
        "2",
    ]);
    let signalled = std::time::Instant::now();
    signal(&child, "-TERM");
    let draining = (0..100).find_map(|_| {
        let answer = http(
            &addr,
            "GET /health/ready HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        );
        if answer.starts_with("HTTP/1.1 503") {
            Some(answer)
        } else {
            std::thread::sleep(std::time::Duration::from_millis(10));
            None
        }
    });
    let draining = draining.expect("readiness turns 503 after SIGTERM");
    assert!(draining.contains("draining"), "{draining}");
    let answer = http_post(&addr, "/predict", None, SETOSA);
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "still serving while draining: {answer}"
    );
    let status = wait_exit(&mut child);
    assert!(status.success(), "graceful exit, got {status}");
    assert!(
        signalled.elapsed() >= std::time::Duration::from_secs(2),
        "stayed up for the drain period"
    );
}

#[cfg(unix)]
#[test]
fn serve_sigterm_as_soon_as_it_listens_still_exits_gracefully() {
    // The handlers are registered before `listening` is logged: a SIGTERM sent at once must get
    // a graceful exit (status 0, `stopped` logged), never the default action that kills the process.
    for _ in 0..5 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tabship"))
            .args(["serve", &testdata("golden/iris_logistic.tabship")])
            .args(["--port", "0", "--json-logs"])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("server starts");
        let mut log = ServerLog::read(child.stderr.take().expect("stderr"));
        log.wait_for("listening");
        signal(&child, "-TERM");
        log.wait_for("stopped");
        let status = wait_exit(&mut child);
        assert!(status.success(), "graceful exit, got {status}");
    }
}

/// A `tabship serve` child with JSON logs on port 0: the child, its log and its address, once it
/// is ready.
#[cfg(unix)]
fn spawn_server(args: &[&str]) -> (std::process::Child, ServerLog, String) {
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_tabship"))
        .arg("serve")
        .args(args)
        .args(["--port", "0", "--json-logs"])
        .env("TABSHIP_ADMIN_TOKEN", ADMIN_TOKEN)
        .stderr(Stdio::piped())
        .spawn()
        .expect("server starts");
    let mut log = ServerLog::read(child.stderr.take().expect("stderr"));
    let addr = log.find("listening")["fields"]["address"]
        .as_str()
        .expect("address")
        .to_owned();
    wait_ready(&addr);
    (child, log, addr)
}

/// The admin token `spawn_server` gives servers without keys (`TABSHIP_ADMIN_TOKEN`).
const ADMIN_TOKEN: &str = "tsk_cli_tests_admin_token";

/// Waits until the server at `addr` answers readiness 200 (its models loaded).
fn wait_ready(addr: &str) {
    let deadline = std::time::Instant::now() + PATIENCE;
    while !http(
        addr,
        "GET /health/ready HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    .starts_with("HTTP/1.1 200")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the server is not ready within {PATIENCE:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[cfg(unix)]
fn signal(child: &std::process::Child, name: &str) {
    let sent = Command::new("kill")
        .args([name, &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
}

/// `POST path` with a JSON body and an optional bearer token; the raw answer.
fn http_post(addr: &str, path: &str, token: Option<&str>, body: &str) -> String {
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    http(
        addr,
        &format!(
            "POST {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
}

const SETOSA: &str =
    r#"{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}"#;

#[cfg(unix)]
#[test]
fn serve_reloads_keys_on_sighup() {
    let dir = tempfile::tempdir().expect("temp dir");
    let keys = dir.path().join("keys.toml");
    let ana = add_key(&keys, "ana", "predict");
    let model = testdata("golden/iris_logistic.tabship");
    let (mut child, mut log, addr) = spawn_server(&[&model, "--keys", path(&keys)]);
    assert!(http_post(&addr, "/predict", Some(&ana), SETOSA).starts_with("HTTP/1.1 200"));

    // Add bo and revoke ana in the file: nothing changes until SIGHUP.
    let bo = add_key(&keys, "bo", "predict");
    let text = std::fs::read_to_string(&keys).expect("keys file");
    let kept: Vec<&str> = text
        .split("\n\n")
        .filter(|block| !block.contains("\"ana\""))
        .collect();
    std::fs::write(&keys, kept.join("\n\n")).expect("revoke ana");
    assert!(http_post(&addr, "/predict", Some(&bo), SETOSA).starts_with("HTTP/1.1 401"));
    signal(&child, "-HUP");
    let logged = log.wait_for("keys reloaded");
    assert_eq!(logged["fields"]["keys"], 1, "{logged}");
    let answer = http_post(&addr, "/predict", Some(&bo), SETOSA);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"username\":\"bo\""), "{answer}");
    assert!(http_post(&addr, "/predict", Some(&ana), SETOSA).starts_with("HTTP/1.1 401"));

    // A broken file is logged and the keys in force stay.
    std::fs::write(&keys, "[[keys]]\nusername = \"bo\"\n").expect("break keys");
    signal(&child, "-HUP");
    let logged = log.wait_for("keys reload failed; the previous keys stay in force");
    assert_eq!(logged["level"], "ERROR", "{logged}");
    assert!(http_post(&addr, "/predict", Some(&bo), SETOSA).starts_with("HTTP/1.1 200"));

    signal(&child, "-TERM");
    let status = wait_exit(&mut child);
    assert!(
        status.success(),
        "SIGHUP does not stop the server; got {status}"
    );
}

/// `PUT` or `GET` with a JSON body on an open server; the raw answer.
fn http_json(addr: &str, method: &str, path: &str, body: &str) -> String {
    http(
        addr,
        &format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
}

fn json_body(answer: &str) -> serde_json::Value {
    let (_, body) = answer.split_once("\r\n\r\n").expect("an HTTP answer");
    serde_json::from_str(body).unwrap_or_else(|e| panic!("JSON body ({e}): {answer}"))
}

#[cfg(unix)]
#[test]
fn serve_state_dir_survives_a_restart_and_skips_a_corrupt_state() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("state");
    let model = testdata("golden/iris_logistic.tabship");
    let tree = testdata("golden/iris_tree.tabship");
    let args = [model.as_str(), "--state-dir", path(&state)];

    let (mut child, _log, addr) = spawn_server(&args);
    let body = format!(r#"{{"path": "{tree}", "version": "2", "activate": false}}"#);
    let a = http_json(&addr, "POST", "/admin/models/iris/versions", &body);
    assert!(a.starts_with("HTTP/1.1 201"), "{a}");
    let a = http_json(
        &addr,
        "PUT",
        "/admin/models/iris/aliases/production",
        r#"{"version": "2"}"#,
    );
    assert!(a.starts_with("HTTP/1.1 200"), "{a}");
    let a = http_json(
        &addr,
        "PUT",
        "/admin/models/iris/split",
        r#"{"versions": {"golden": 70, "2": 30}}"#,
    );
    assert!(a.starts_with("HTTP/1.1 200"), "{a}");
    signal(&child, "-TERM");
    assert!(wait_exit(&mut child).success());

    let (mut child, mut log, addr) = spawn_server(&args);
    let logged = log.wait_for("state restored");
    assert_eq!(logged["fields"]["versions"], 1, "{logged}");
    let iris = json_body(&http_json(&addr, "GET", "/models/iris", ""));
    assert_eq!(iris["aliases"]["production"], "2", "{iris}");
    assert_eq!(iris["split"].as_array().map(Vec::len), Some(2), "{iris}");
    assert_eq!(iris["versions"].as_array().map(Vec::len), Some(2), "{iris}");
    signal(&child, "-TERM");
    assert!(wait_exit(&mut child).success());

    std::fs::write(state.join("state.json"), "{ not json").expect("corrupt the state");
    let (mut child, mut log, addr) = spawn_server(&args);
    let logged = log.wait_for("saved state skipped: invalid; serving the command-line models only");
    assert_eq!(logged["level"], "ERROR", "{logged}");
    let iris = json_body(&http_json(&addr, "GET", "/models/iris", ""));
    assert_eq!(iris["current_version"], "golden", "{iris}");
    assert_eq!(iris["versions"].as_array().map(Vec::len), Some(1), "{iris}");
    assert_eq!(iris["split"], serde_json::Value::Null, "{iris}");
    signal(&child, "-TERM");
    assert!(wait_exit(&mut child).success());
}
