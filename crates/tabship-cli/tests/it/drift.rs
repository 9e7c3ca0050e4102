//! `tabship drift` end to end: text, JSON, HTML, exit codes; `inspect` shows the profile.

use std::path::Path;
use std::process::Output;

use crate::common::*;

fn model() -> String {
    testdata("golden/adult_logistic_profile.tabship")
}

/// adult_sample.csv with `change` applied to every record (header, record) → record.
fn rewrite(to: &Path, mut change: impl FnMut(&[String], &mut Vec<String>)) {
    let mut reader = csv::Reader::from_path(testdata("adult_sample.csv")).expect("reads");
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    let mut writer = csv::Writer::from_path(to).expect("writes");
    writer.write_record(&header).expect("header");
    for record in reader.records() {
        let mut fields: Vec<String> = record.expect("record").iter().map(str::to_owned).collect();
        change(&header, &mut fields);
        writer.write_record(&fields).expect("record");
    }
    writer.flush().expect("flush");
}

/// `tabship drift` of [`model`] on `live` with `flags`.
fn drift(live: &str, flags: &[&str]) -> Output {
    let model = model();
    let mut args = vec!["drift", &model, live];
    args.extend_from_slice(flags);
    tabship(&args)
}

fn set(header: &[String], fields: &mut [String], column: &str, f: impl Fn(&str) -> String) {
    let i = header.iter().position(|h| h == column).expect("column");
    fields[i] = f(&fields[i]);
}

#[test]
fn json_report_on_training_like_data_has_no_drift() {
    let out = drift(&testdata("adult_sample.csv"), &["--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(report["drifted"], false);
    assert!(report["share_drifted"].as_f64().is_some());
    let columns = report["columns"].as_array().expect("columns");
    assert_eq!(columns.len(), 13);
    for c in columns {
        for key in ["name", "kind", "statistic", "value", "threshold", "drifted"] {
            assert!(!c[key].is_null(), "{key} in {c}");
        }
        assert_eq!(c["drifted"], false, "{c}");
    }
    assert_eq!(columns[0]["name"], "age");
    assert_eq!(columns[0]["statistic"], "wasserstein");
    assert_eq!(report["prediction"]["kind"], "categorical");
}

#[test]
fn a_shifted_column_is_named_and_fail_on_drift_follows_the_dataset_verdict() {
    let dir = tempfile::tempdir().expect("temp dir");
    let live = dir.path().join("older.csv");
    rewrite(&live, |h, f| {
        set(h, f, "age", |a| {
            a.parse::<f64>()
                .map_or(String::new(), |x| (x + 15.0).to_string())
        })
    });
    let out = drift(path(&live), &["--fail-on-drift"]);
    // One column of 13 drifted: not a dataset drift, exit 0.
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let age = text
        .lines()
        .find(|l| l.starts_with("age "))
        .expect("age line");
    assert!(
        age.contains("wasserstein") && age.contains("DRIFT"),
        "{age}"
    );
    assert!(text.contains("1 of 13 columns drifted"), "{text}");
    assert!(text.contains("no dataset drift"), "{text}");
    // With a lower share threshold the same data is a dataset drift: exit 3.
    let options = dir.path().join("options.json");
    std::fs::write(&options, r#"{"share": 0.05}"#).expect("options");
    let out = drift(
        path(&live),
        &["--fail-on-drift", "--options", path(&options)],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stdout(&out).contains("DATASET DRIFT"));
    // Without --fail-on-drift a drift still exits 0.
    let out = drift(path(&live), &["--options", path(&options)]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn a_broken_feed_is_a_dataset_drift_with_exit_3_and_an_html_page() {
    let dir = tempfile::tempdir().expect("temp dir");
    let live = dir.path().join("broken.csv");
    rewrite(&live, |h, f| {
        for c in ["age", "education_num", "hours_per_week", "capital_gain"] {
            set(h, f, c, |x| {
                x.parse::<f64>()
                    .map_or(String::new(), |v| (v * 3.0 + 50.0).to_string())
            });
        }
        for c in ["workclass", "occupation", "native_country"] {
            set(h, f, c, |_| String::new()); // the feed stopped sending them
        }
    });
    let html = dir.path().join("report.html");
    let out = drift(
        path(&live),
        &["--fail-on-drift", "--html", path(&html), "--json"],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(report["drifted"], true);
    let workclass = report["columns"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == "workclass"))
        .expect("workclass");
    assert_eq!(workclass["missing_rate"], 1.0);
    assert!(workclass["reasons"].to_string().contains("missing_rate"));
    let page = std::fs::read_to_string(&html).expect("HTML written");
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert_eq!(page.matches("<svg").count(), 14, "13 columns + predictions");
    assert!(!page.contains("<script"), "self-contained, no scripts");
    assert!(!page.contains("src="), "no external resources");
    assert!(page.contains("Dataset drift"));
}

#[test]
fn artifacts_without_a_profile_and_bad_options_fail_with_one_line() {
    let out = tabship(&[
        "drift",
        &testdata("golden/adult_logistic.tabship"),
        &testdata("adult_sample.csv"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with("error: ") && err.contains("no drift profile"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1);

    let dir = tempfile::tempdir().expect("temp dir");
    let options = dir.path().join("options.json");
    std::fs::write(&options, r#"{"share": 2.0}"#).expect("options");
    let out = drift(
        &testdata("adult_sample.csv"),
        &["--options", path(&options)],
    );
    // Bad --options are a usage error.
    assert_refused(&out, 2, "`share`");
    std::fs::write(&options, r#"{"shar": 0.2}"#).expect("options");
    let out = drift(
        &testdata("adult_sample.csv"),
        &["--options", path(&options)],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "unknown fields are refused: {}",
        stderr(&out)
    );

    let out = tabship(&["drift", &model()]);
    assert_eq!(out.status.code(), Some(2), "usage error");
    let out = drift(&testdata("iris.csv"), &[]);
    assert_refused(&out, 1, "missing column `age`");
}

#[test]
fn inspect_shows_whether_a_profile_is_stored() {
    let out = tabship(&["inspect", &model()]);
    assert!(out.status.success());
    assert!(stdout(&out).contains("drift profile: yes (13 columns + predictions)"));
    assert!(stdout(&out).contains("format 1.2"));
    let out = tabship(&["inspect", &testdata("golden/adult_logistic.tabship")]);
    assert!(stdout(&out).contains("drift profile: no"));
    let out = tabship(&["inspect", &model(), "--json"]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(json["drift_profile"]["columns"], 13);
}

/// Issue 9, bug 4: one column shifted, a third of another never seen before, and the predictions
/// collapsing onto one class gave "no dataset drift" and exit 0 (two of 13 columns is under the
/// share threshold). The default policy fails on the predictions and the unknown values, in the
/// exit code, the text, the JSON and the HTML headline alike.
#[test]
fn drifted_predictions_and_unknown_values_fail_by_default() {
    let dir = tempfile::tempdir().expect("temp dir");
    let live = dir.path().join("young.csv");
    let mut row = 0usize;
    rewrite(&live, |h, f| {
        row += 1;
        set(h, f, "age", |_| "19".to_owned());
        set(h, f, "education_num", |_| "4".to_owned());
        if row % 3 == 0 {
            set(h, f, "workclass", |_| "Gig-economy".to_owned());
        }
    });
    let html = dir.path().join("report.html");
    let out = drift(
        path(&live),
        &["--fail-on-drift", "--json", "--html", path(&html)],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert!(
        report["drifted_columns"].as_u64().is_some_and(|n| n < 7),
        "{report}"
    );
    assert_eq!(report["prediction"]["drifted"], true);
    let reasons = report["reasons"].to_string();
    assert!(
        reasons.contains("\"prediction\"") && reasons.contains("unknown_rate:workclass"),
        "{reasons}"
    );
    let page = std::fs::read_to_string(&html).expect("HTML written");
    assert!(
        !page.contains("No dataset drift"),
        "the headline follows the policy"
    );
    assert!(page.contains("<strong>Dataset drift</strong> (the predictions drifted; "));
    let out = drift(path(&live), &[]);
    assert_eq!(out.status.code(), Some(0), "no --fail-on-drift");
    assert!(stdout(&out).contains("DATASET DRIFT (the predictions drifted; "));
    // A policy that only looks at the share (as before) passes the same data.
    let options = dir.path().join("options.json");
    std::fs::write(
        &options,
        r#"{"policy": {"prediction": false, "unknown_rate": null}}"#,
    )
    .expect("options");
    let out = drift(
        path(&live),
        &["--fail-on-drift", "--options", path(&options)],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // And one naming `age` fails on it.
    std::fs::write(
        &options,
        r#"{"policy": {"columns": ["age"], "prediction": false}}"#,
    )
    .expect("options");
    let out = drift(
        path(&live),
        &["--fail-on-drift", "--options", path(&options)],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stdout(&out).contains("column `age` drifted"));
    // A policy naming a column the model does not have is a usage error naming it.
    std::fs::write(&options, r#"{"policy": {"columns": ["agee"]}}"#).expect("options");
    let out = drift(path(&live), &["--options", path(&options)]);
    assert!(stderr(&out).contains("`agee`"), "{}", stderr(&out));
}
