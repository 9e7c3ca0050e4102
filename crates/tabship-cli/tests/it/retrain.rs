//! `tabship retrain`: the champion's options refitted on new rows, written as the next version
//! with its provenance; imported champions and files without the schema's columns refused.

use crate::common::{assert_refused, path, stdout, tabship, testdata, train};

#[test]
fn retrain_writes_the_next_version_with_its_provenance() {
    let dir = tempfile::tempdir().expect("temp dir");
    let champion = dir.path().join("iris.tabship");
    let out = train(
        &testdata("iris.csv"),
        "species",
        &[
            "-o",
            path(&champion),
            "--model",
            "decision-tree",
            "--max-depth",
            "3",
            "--name",
            "flowers",
            "--model-version",
            "v4",
        ],
    );
    assert!(out.status.success(), "{}", crate::common::stderr(&out));
    let out = tabship(&[
        "retrain",
        path(&champion),
        &testdata("iris.csv"),
        "--reason",
        "weekly schedule",
        "--json",
    ]);
    assert!(out.status.success(), "{}", crate::common::stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("valid JSON");
    let challenger = dir.path().join("flowers-v5.tabship");
    assert_eq!(report["output"], path(&challenger));
    assert_eq!(report["version"], "v5");
    let inspect = |p: &std::path::Path| -> serde_json::Value {
        serde_json::from_str(&stdout(&tabship(&["inspect", path(p), "--json"])))
            .expect("valid JSON")
    };
    let (c, t) = (inspect(&champion), inspect(&challenger));
    let from = &t["training"]["retrained_from"];
    assert_eq!(from["name"], "flowers");
    assert_eq!(from["version"], "v4");
    assert_eq!(from["checksum"], c["checksum"]);
    assert_eq!(from["reason"], "weekly schedule");
    assert_eq!(from["new_rows"], 150);
    assert_eq!(
        t["training"]["hyperparameters"],
        c["training"]["hyperparameters"]
    );
    assert_eq!(t["model"], c["model"]);
    let text = stdout(&tabship(&["inspect", path(&challenger)]));
    assert!(
        text.contains("retrained from flowers version v4") && text.contains("weekly schedule"),
        "{text}"
    );
}

#[test]
fn retrain_refuses_imported_models_and_files_without_the_schema() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = tabship(&[
        "retrain",
        tabship_test_support::golden("adult_xgboost.tabship")
            .to_str()
            .expect("utf-8 path"),
        &testdata("adult_sample.csv"),
        "-o",
        path(&dir.path().join("c.tabship")),
    ]);
    assert_refused(&out, 1, "imported from xgboost");
    assert!(!dir.path().join("c.tabship").exists());
    let champion = dir.path().join("iris.tabship");
    assert!(
        train(&testdata("iris.csv"), "species", &["-o", path(&champion)])
            .status
            .success()
    );
    let out = tabship(&[
        "retrain",
        path(&champion),
        &testdata("adult_sample.csv"),
        "-o",
        path(&dir.path().join("c.tabship")),
    ]);
    assert_refused(
        &out,
        1,
        "the champion's schema needs columns `sepal_length`",
    );
    assert!(!dir.path().join("c.tabship").exists());
}
