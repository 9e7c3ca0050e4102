//! `tabship compare`: champion against challenger, trained by the repository's own trainer on
//! the first rows of the bundled samples and compared on the rows after them.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::common::{path, stdout, tabship, testdata, train};

/// Splits a bundled CSV into `train.csv` (the first `rows` data rows) and `new.csv` (the rest).
fn split(dir: &Path, name: &str, rows: usize) -> (String, String) {
    let text = std::fs::read_to_string(testdata(name)).expect("bundled data");
    let mut lines = text.lines();
    let header = lines.next().expect("header");
    let body: Vec<&str> = lines.collect();
    assert!(body.len() > rows + 500, "{name}: {} rows", body.len());
    let write = |file: &str, rows: &[&str]| {
        let p = dir.join(file);
        std::fs::write(&p, format!("{header}\n{}\n", rows.join("\n"))).expect("write split");
        path(&p).to_owned()
    };
    (
        write("train.csv", &body[..rows]),
        write("new.csv", &body[rows..]),
    )
}

fn trained(dir: &Path, data: &str, target: &str, file: &str, args: &[&str]) -> String {
    let out = path(&dir.join(file)).to_owned();
    let mut all = vec!["-o", &out];
    all.extend_from_slice(args);
    let o = train(data, target, &all);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    out
}

fn compare(champion: &str, challenger: &str, data: &str, flags: &[&str]) -> Output {
    let mut args = vec!["compare", champion, challenger, data];
    args.extend_from_slice(flags);
    tabship(&args)
}

fn json(o: &Output) -> Value {
    serde_json::from_str(&stdout(o))
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", stdout(o), String::from_utf8_lossy(&o.stderr)))
}

fn metric(report: &Value, name: &str) -> (f64, f64) {
    let pairs = report["comparison"]["metrics"].as_array().expect("metrics");
    let m = pairs
        .iter()
        .find(|m| m["metric"] == name)
        .unwrap_or_else(|| panic!("no {name}"));
    (
        m["first"].as_f64().expect("first"),
        m["second"].as_f64().expect("second"),
    )
}

fn evaluated(model: &str, data: &str) -> Value {
    let o = tabship(&["evaluate", model, data, "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    json(&o)["metrics"].clone()
}

#[test]
fn a_better_classifier_is_promoted_a_worse_one_kept_and_a_twin_inconclusive() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (train_csv, new_csv) = split(dir.path(), "adult_sample.csv", 6000);
    let stump = trained(
        dir.path(),
        &train_csv,
        "income",
        "stump.tabship",
        &["--model", "decision-tree", "--max-depth", "1"],
    );
    let logistic = trained(
        dir.path(),
        &train_csv,
        "income",
        "logistic.tabship",
        &["--model-version", "2"],
    );

    let o = compare(&stump, &logistic, &new_csv, &["--json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let report = json(&o);
    assert_eq!(report["verdict"], "promote");
    assert_eq!(report["exit_code"], 0);
    let c = &report["comparison"];
    let rows = c["rows"].as_f64().expect("rows");
    assert_eq!(rows, 2141.0);
    // Both models were scored as `evaluate` scores them.
    let (first, second) = metric(&report, "accuracy");
    assert_eq!(
        first,
        evaluated(&stump, &new_csv)["accuracy"]
            .as_f64()
            .expect("accuracy")
    );
    let logistic_metrics = evaluated(&logistic, &new_csv);
    assert_eq!(
        second,
        logistic_metrics["accuracy"].as_f64().expect("accuracy")
    );
    let (_, log_loss) = metric(&report, "log-loss");
    assert!((log_loss - logistic_metrics["log_loss"].as_f64().expect("log loss")).abs() < 1e-12);
    // McNemar's discordant counts are the accuracy difference, row for row.
    let test = &c["test"];
    assert_eq!(test["test"], "mcnemar");
    let (b, cc) = (
        test["only_first"].as_f64().expect("b"),
        test["only_second"].as_f64().expect("c"),
    );
    assert!(((cc - b) / rows - (second - first)).abs() < 1e-12);
    assert!(test["p_value"].as_f64().expect("p") < 1e-6);
    let (low, high) = (
        c["interval"]["low"].as_f64().expect("low"),
        c["interval"]["high"].as_f64().expect("high"),
    );
    assert!(
        0.0 < low && low < second - first && second - first < high,
        "{c}"
    );

    // The other way round: the challenger is worse, the champion stays (exit 3).
    let o = compare(&logistic, &stump, &new_csv, &[]);
    assert_eq!(o.status.code(), Some(3));
    let text = stdout(&o);
    assert!(text.contains("verdict: keep (exit code 3)"), "{text}");
    assert!(text.contains("exact McNemar test: p = "), "{text}");

    // A model against itself: no evidence either way (exit 4); with a margin it cannot reach,
    // keep.
    let o = compare(&logistic, &logistic, &new_csv, &["--json"]);
    assert_eq!(o.status.code(), Some(4));
    assert_eq!(json(&o)["verdict"], "inconclusive");
    let o = compare(
        &logistic,
        &logistic,
        &new_csv,
        &["--margin", "0.01", "--json"],
    );
    assert_eq!(o.status.code(), Some(3));

    // A margin larger than the gain: the interval straddles it, no promotion.
    let margin = format!("{}", second - first);
    let o = compare(&stump, &logistic, &new_csv, &["--margin", &margin]);
    assert_eq!(o.status.code(), Some(4), "{}", stdout(&o));

    // The verdict on ROC AUC: no paired test, the interval decides; same seed, same interval.
    let args = [
        "--metric",
        "roc-auc",
        "--seed",
        "11",
        "--resamples",
        "500",
        "--json",
    ];
    let one = json(&compare(&stump, &logistic, &new_csv, &args));
    let two = json(&compare(&stump, &logistic, &new_csv, &args));
    assert_eq!(one["comparison"]["test"], Value::Null);
    assert_eq!(one["comparison"]["interval"], two["comparison"]["interval"]);
    assert_eq!(one["comparison"]["interval"]["resamples"], 500);
    assert_eq!(one["verdict"], "promote");
}

#[test]
fn a_better_regressor_is_promoted_on_mae_with_a_paired_t_test() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (train_csv, new_csv) = split(dir.path(), "diamonds_sample.csv", 4500);
    let ridge = trained(dir.path(), &train_csv, "price", "ridge.tabship", &[]);
    let forest = trained(
        dir.path(),
        &train_csv,
        "price",
        "forest.tabship",
        &["--model", "random-forest", "--n-trees", "30"],
    );
    let o = compare(&ridge, &forest, &new_csv, &["--json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}\n{}",
        stdout(&o),
        String::from_utf8_lossy(&o.stderr)
    );
    let report = json(&o);
    let c = &report["comparison"];
    assert_eq!(c["metric"], "mae");
    assert_eq!(c["test"]["test"], "paired-t");
    assert!(c["test"]["p_value"].as_f64().expect("p") < 1e-6);
    assert!(c["wilcoxon"]["p_value"].as_f64().expect("p") < 1e-6);
    let (first, second) = metric(&report, "mae");
    assert_eq!(
        first,
        evaluated(&ridge, &new_csv)["mae"].as_f64().expect("mae")
    );
    assert_eq!(
        second,
        evaluated(&forest, &new_csv)["mae"].as_f64().expect("mae")
    );
    // The t-test's mean difference is the MAE difference (positive: the forest errs less).
    let mean = c["test"]["mean"].as_f64().expect("mean");
    assert!(
        (mean - (first - second)).abs() < 1e-9 * first,
        "{mean} vs {}",
        first - second
    );
    // Improvement is the MAE decrease: its interval lies above 0.
    assert!(c["improvement_low"].as_f64().expect("low") > 0.0);

    let o = compare(&ridge, &forest, &new_csv, &["--metric", "rmse"]);
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert!(
        text.contains("paired t-test on per-row squared errors"),
        "{text}"
    );
}

#[test]
fn models_that_cannot_be_compared_and_bad_options_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let adult = trained(
        dir.path(),
        &testdata("adult_sample.csv"),
        "income",
        "adult.tabship",
        &[],
    );
    let diamonds = trained(
        dir.path(),
        &testdata("diamonds_sample.csv"),
        "price",
        "d.tabship",
        &[],
    );
    let o = compare(&adult, &diamonds, &testdata("adult_sample.csv"), &[]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("cannot be compared") && err.contains("task"),
        "{err}"
    );

    // Same target, one column fewer.
    let fewer = dir.path().join("fewer.csv");
    let text = std::fs::read_to_string(testdata("adult_sample.csv")).expect("data");
    let cut: String = text
        .lines()
        .map(|l| l.split_once(',').map_or(l, |(_, rest)| rest))
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&fewer, cut).expect("write");
    let no_age = trained(dir.path(), path(&fewer), "income", "no-age.tabship", &[]);
    let o = compare(&adult, &no_age, &testdata("adult_sample.csv"), &[]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(
            "feature columns differ: champion `also age (numeric)`, challenger `nothing else`"
        ),
        "{err}"
    );

    // ROC AUC of three classes, and out-of-range options: usage errors (exit 2).
    let iris = trained(
        dir.path(),
        &testdata("iris.csv"),
        "species",
        "iris.tabship",
        &[],
    );
    let o = compare(
        &iris,
        &iris,
        &testdata("iris.csv"),
        &["--metric", "roc-auc"],
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("`roc-auc` does not apply to a classifier of more than two classes"),
        "{err}"
    );
    for bad in [
        ["--alpha", "1.5"],
        ["--margin", "-0.1"],
        ["--resamples", "5"],
    ] {
        let o = compare(&iris, &iris, &testdata("iris.csv"), &bad);
        assert_eq!(o.status.code(), Some(2), "{bad:?}");
    }
}
