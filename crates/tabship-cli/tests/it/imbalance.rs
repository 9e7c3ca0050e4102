//! `tabship train --class-weight / --threshold / --positive-class / --target-transform` end to
//! end: the threshold is stored, shown by `inspect` and applied by `predict` and `evaluate`.

use crate::common::*;

/// adult_sample with five of every six `>50K` rows left out (about 5% positives).
fn imbalanced_adult(dir: &std::path::Path) -> std::path::PathBuf {
    let text = std::fs::read_to_string(testdata("adult_sample.csv")).expect("reads");
    let mut lines = text.lines();
    let mut out = format!("{}\n", lines.next().expect("header"));
    let mut positives = 0;
    for line in lines {
        if line.ends_with(",>50K") {
            positives += 1;
            if positives % 6 != 0 {
                continue;
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    let path = dir.join("imbalanced.csv");
    std::fs::write(&path, out).expect("writes");
    path
}

fn predicted_positives(model: &std::path::Path, data: &std::path::Path) -> usize {
    let out = tabship(&["predict", path(model), path(data)]);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
        .lines()
        .filter(|l| l.ends_with(",>50K"))
        .count()
}

#[test]
fn a_threshold_is_stored_inspected_and_applied_by_predict_and_evaluate() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = imbalanced_adult(dir.path());
    let plain = dir.path().join("plain.tabship");
    let tuned = dir.path().join("tuned.tabship");
    let out = train(path(&data), "income", &["-o", path(&plain)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = train(
        path(&data),
        "income",
        &[
            "--threshold",
            "f1",
            "--class-weight",
            "balanced",
            "-o",
            path(&tuned),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("decision threshold: `>50K` when its probability is at least"),
        "{}",
        stdout(&out)
    );
    let out = tabship(&["inspect", path(&tuned)]);
    let text = stdout(&out);
    assert!(
        text.contains("decision threshold: predicts `>50K` (the positive class)")
            && text.contains("class_weight=balanced")
            && text.contains("threshold=f1"),
        "{text}"
    );
    let out = tabship(&["inspect", path(&tuned), "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["format_version"], "1.3");
    assert_eq!(json["decision_threshold"]["positive_class"], ">50K");
    let out = tabship(&["inspect", path(&plain), "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    // Without a threshold the format is what the rest needs (1.3 here only for the drift
    // profile's exact values of few-valued numeric columns such as `education_num`).
    assert!(json["decision_threshold"].is_null());
    assert!(
        predicted_positives(&tuned, &data) > 2 * predicted_positives(&plain, &data),
        "the threshold and the weights predict the minority class more often"
    );
    let evaluate = |model: &std::path::Path| {
        let out = tabship(&["evaluate", path(model), path(&data), "--json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("JSON")
    };
    assert_ne!(
        evaluate(&tuned)["metrics"]["accuracy"],
        evaluate(&plain)["metrics"]["accuracy"]
    );
    assert!(evaluate(&plain)["metrics"]["accuracy"].is_number());
}

#[test]
fn options_that_do_not_fit_the_model_or_data_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let model = dir.path().join("m.tabship");
    let adult = testdata("adult_sample.csv");
    let out = train(
        &adult,
        "income",
        &[
            "--model",
            "random-forest",
            "--class-weight",
            "balanced",
            "-o",
            path(&model),
        ],
    );
    // A flag combination that cannot work is a usage error (exit 2), found before reading data.
    assert_refused(&out, 2, "`random-forest` cannot weight classes");
    for (option, value, expected) in [
        (
            "--class-weight",
            "rich=2",
            "`rich` is not a class of the target",
        ),
        ("--threshold", "recall=2", "invalid option `threshold`"),
    ] {
        let out = train(&adult, "income", &[option, value, "-o", path(&model)]);
        assert!(stderr(&out).contains(expected), "{}", stderr(&out));
    }
    assert!(!model.exists());
}

#[test]
fn a_log1p_target_is_inspected_and_predicts_on_the_original_scale() {
    let dir = tempfile::tempdir().expect("temp dir");
    let model = dir.path().join("d.tabship");
    let diamonds = testdata("diamonds_sample.csv");
    let out = train(
        &diamonds,
        "price",
        &["--target-transform", "log1p", "-o", path(&model)],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = tabship(&["inspect", path(&model)]);
    assert!(
        stdout(&out).contains("target transform: log1p"),
        "{}",
        stdout(&out)
    );
    let out = tabship(&["predict", path(&model), &diamonds]);
    let predictions: Vec<f64> = stdout(&out)
        .lines()
        .skip(1)
        .map(|l| {
            l.rsplit(',')
                .next()
                .expect("field")
                .parse()
                .expect("number")
        })
        .collect();
    assert!(predictions.iter().all(|p| *p > 100.0), "prices, not logs");
    let out = train(
        &diamonds,
        "price",
        &["--target-transform", "sqrt", "-o", path(&model)],
    );
    assert!(stderr(&out).contains("expected `log1p` or `none`, got `sqrt`"));
}
