//! `tabship train --model gradient-boosting` end to end: the JSON report, early stopping, bad
//! values refused naming the flag, and the boosted artifact through `export --onnx` and
//! `drift`.

use crate::common::{assert_refused, path, stderr, tabship, testdata, train};

#[test]
fn boosted_model_trains_reports_exports_and_profiles() {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = dir.path().join("adult.tabship");
    let out = train(
        &testdata("adult_sample.csv"),
        "income",
        &[
            "--model",
            "gradient-boosting",
            "--n-trees",
            "300",
            "--learning-rate",
            "0.3",
            "--early-stopping-rounds",
            "5",
            "--validation-fraction",
            "0.2",
            "--threads",
            "2",
            "--json",
            "-o",
            path(&model),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["model"], "gradient-boosting");
    let b = &report["boosting"];
    let (fitted, kept) = (
        b["rounds_fitted"].as_u64().unwrap(),
        b["rounds_kept"].as_u64().unwrap(),
    );
    assert_eq!(fitted, kept + 5, "{b}");
    assert_eq!(b["loss"], "log loss");
    assert!(
        b["validation_loss"].as_f64().is_some_and(|l| l < 0.4),
        "{b}"
    );
    assert!(
        report["metrics"]["accuracy"].as_f64().unwrap() > 0.85,
        "{report}"
    );

    let onnx = dir.path().join("adult.onnx");
    let out = tabship(&["export", path(&model), "--onnx", path(&onnx)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(std::fs::metadata(&onnx).expect("written").len() > 0);

    let out = tabship(&[
        "drift",
        path(&model),
        &testdata("adult_sample.csv"),
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let drift: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(drift["drifted"], false, "{drift}");
}

#[test]
fn bad_boosting_values_are_usage_errors_naming_the_flag() {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = dir.path().join("m.tabship");
    // `--flag=value`: a negative value is not taken for a flag.
    for (flag, value, option) in [
        ("--learning-rate", "0", "learning-rate"),
        ("--max-leaves", "1", "max-leaves"),
        ("--validation-fraction", "1.5", "validation-fraction"),
        ("--l2", "-0.5", "l2"),
    ] {
        let out = train(
            &testdata("iris.csv"),
            "species",
            &[
                "--model",
                "gradient-boosting",
                &format!("{flag}={value}"),
                "-o",
                path(&model),
            ],
        );
        assert_refused(&out, 2, &format!("invalid option `{option}`"));
    }
    let out = train(
        &testdata("iris.csv"),
        "species",
        &["--model", "logistic", "--impute", "nan", "-o", path(&model)],
    );
    assert_refused(&out, 2, "invalid option `impute`");
}
