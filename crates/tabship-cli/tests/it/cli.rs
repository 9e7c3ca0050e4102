//! The `tabship` binary end to end: train, predict, inspect, exit codes and error lines.

use crate::common::*;

#[test]
fn train_predict_inspect_iris() {
    let dir = tempfile::tempdir().expect("temp dir");
    let model = dir.path().join("iris.tabship");
    let out = train(&testdata("iris.csv"), "species", &["-o", path(&model)]);
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

    let out = train(
        &testdata("iris.csv"),
        "species",
        &[
            "--model",
            "ridge",
            "-o",
            path(&dir.path().join("x.tabship")),
        ],
    );
    assert_refused(&out, 1, "`ridge` cannot do classification");
    let out = train(
        &testdata("iris.csv"),
        "species",
        &["--min-frequency", "abc", "-o", "x"],
    );
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
    let out = train(
        &testdata("diamonds_sample.csv"),
        "price",
        &[
            "--model",
            "linear",
            "--json",
            "--write-split",
            path(&split),
            "-o",
            path(&dir.path().join("d.tabship")),
        ],
    );
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
    let out = train(
        &testdata("iris.csv"),
        "species",
        &[
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
        ],
    );
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

    let out = train(
        &testdata("iris.csv"),
        "species",
        &[
            "--model",
            "decision-tree",
            "--max-features",
            "2",
            "-o",
            path(&model),
        ],
    );
    // A bad flag value is a usage error.
    assert_refused(&out, 2, "invalid option `max-features`");
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
    assert_refused(&out, 1, "missing column `income`");
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
    // A bad flag value is a usage error.
    assert_refused(&out, 2, "unknown scope `root`");
}

#[test]
fn serve_refuses_a_public_address_without_keys() {
    let model = testdata("golden/iris_logistic.tabship");
    let out = tabship(&["serve", &model, "--host", "0.0.0.0", "--port", "0"]);
    assert_refused(
        &out,
        1,
        "refusing to listen on `0.0.0.0` without a keys file",
    );
    let out = tabship(&["serve"]);
    // No artifacts is a usage error.
    assert_refused(&out, 2, "give artifacts to serve");
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
    assert_refused(&out, 1, "not a tabship artifact");
}
