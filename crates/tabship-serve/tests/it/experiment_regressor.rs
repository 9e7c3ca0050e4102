//! The live experiment of a regressor: the always-valid sequential test on the two versions'
//! mean absolute errors, reported and acted on like a classifier's error rates.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::*;

/// A keyed server (saving its state in `dir` when given) with diamonds' ridge model uploaded
/// again as version `b` and a 50/50 split between `golden` and `b`.
async fn diamonds_split(dir: Option<&std::path::Path>, auto_promote: bool) -> axum::Router {
    let options = tabship_serve::Options {
        state_dir: dir.map(std::path::Path::to_path_buf),
        experiment: tabship_serve::experiment::ExperimentOptions {
            auto_promote,
            ..Default::default()
        },
        ..Default::default()
    };
    let app = tabship_serve::router(state_with(Some(keys()), options));
    let artifact = std::fs::read(golden("diamonds_ridge.tabship")).expect("artifact");
    let a = admin_upload(
        &app,
        "/admin/models/diamonds/versions?version=b&activate=false",
        artifact,
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
    let a = admin_json(
        &app,
        Method::PUT,
        "/admin/models/diamonds/split",
        json!({"versions": {"golden": 50, "b": 50}}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    app
}

async fn report(app: &axum::Router) -> Value {
    let a = get_with_token(app, "/models/diamonds/experiment", &bearer(ALL_TOKEN)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    a.json()
}

/// `n` predictions under routing keys `prefix-0..n`, each labelled with the prediction plus an
/// absolute error of `base + (i mod 5)`, `base` 10 for `golden` and 7 for `b` (MAE 12 against 9):
/// the challenger errs less.
async fn labelled(app: &axum::Router, prefix: &str, n: usize) {
    let auth = bearer(ALL_TOKEN);
    let model = get_with_token(app, "/models/diamonds", &auth).await.json();
    let path = "/models/diamonds/predict";
    let answers = routed_predictions(app, path, &model["example"], prefix, n).await;
    for (i, body) in answers.into_iter().enumerate() {
        let predicted = body["prediction"].as_f64().expect("a number");
        let base = if body["version"] == "golden" {
            10.0
        } else {
            7.0
        };
        let sign = if i % 2 == 0 { 1.0 } else { -1.0 };
        let truth = predicted + sign * (base + (i % 5) as f64);
        let feedback = json!({"request_id": body["request_id"], "label": truth});
        let a = post_json_as(app, "/feedback", &auth, feedback.to_string()).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    }
}

#[tokio::test]
async fn a_regressor_with_a_lower_mae_is_found_better_by_the_sequential_test() {
    let app = diamonds_split(None, false).await;
    let before = report(&app).await;
    assert_eq!(before["metric"], "mae", "{before}");
    assert_eq!(before["experiment"]["running"], true, "{before}");
    assert_eq!(before["experiment"]["confidence_interval"], Value::Null);
    assert_eq!(before["experiment"]["verdict"], "inconclusive");
    labelled(&app, "user", 200).await;
    let after = report(&app).await;
    let e = &after["experiment"];
    assert_eq!(e["metric"], "mae", "{after}");
    assert_eq!(e["started"], true, "{after}");
    let (champion, challenger) = (&e["champion"], &e["challenger"]);
    let labels = |arm: &Value| arm["labels"].as_u64().expect("labels");
    assert_eq!(labels(champion) + labels(challenger), 200, "{after}");
    let mae = |arm: &Value| arm["mae"].as_f64().expect("mae");
    assert!((mae(champion) - 12.0).abs() < 0.5, "{after}");
    assert!((mae(challenger) - 9.0).abs() < 0.5, "{after}");
    let difference = e["difference"].as_f64().expect("difference");
    assert!(
        (difference - (mae(champion) - mae(challenger))).abs() < 1e-9,
        "{after}"
    );
    let p = e["p_value"].as_f64().expect("p");
    assert!(p < 0.05, "{after}");
    let low = e["confidence_interval"]["low"].as_f64().expect("low");
    let high = e["confidence_interval"]["high"].as_f64().expect("high");
    assert!(
        0.0 < low && low < difference && difference < high,
        "{after}"
    );
    assert_eq!(e["verdict"], "promote", "{after}");
    let text = get_with_token(&app, "/metrics", &bearer(ALL_TOKEN))
        .await
        .text();
    assert!(
        text.contains(
            "tabship_experiment_verdict{model=\"diamonds\",champion=\"golden\",challenger=\"b\",verdict=\"promote\"} 1"
        ),
        "{text}"
    );
}

#[tokio::test]
async fn auto_promote_promotes_a_regressor_with_a_lower_mae() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = diamonds_split(Some(dir.path()), true).await;
    labelled(&app, "user", 200).await;
    let model = get_with_token(&app, "/models/diamonds", &bearer(ALL_TOKEN))
        .await
        .json();
    assert_eq!(model["current_version"], "b", "{model}");
    assert_eq!(model["split"], Value::Null, "{model}");
}
