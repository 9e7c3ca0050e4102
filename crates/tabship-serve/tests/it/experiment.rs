//! `GET /models/{name}/experiment`: per-version feedback counts and the A/B split's always-valid
//! sequential test between the current version (champion) and the other arm (challenger).

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::*;

async fn experiment(app: &axum::Router) -> Value {
    let a = get_with_token(app, "/models/iris/experiment", &bearer(ALL_TOKEN)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    a.json()
}

/// `n` predictions of setosa rows under routing keys `prefix-0..n`: each answer's request id
/// and version.
async fn predictions(app: &axum::Router, prefix: &str, n: usize) -> Vec<(Value, String)> {
    routed_predictions(app, "/predict", &setosa(), prefix, n)
        .await
        .into_iter()
        .map(|body| {
            let version = body["version"].as_str().expect("version").to_owned();
            (body["request_id"].clone(), version)
        })
        .collect()
}

async fn label(app: &axum::Router, request_id: &Value, label: &str) {
    let body = json!({"request_id": request_id, "label": label});
    let a = post_json_as(app, "/feedback", &bearer(ALL_TOKEN), body.to_string()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
}

#[tokio::test]
async fn a_challenger_that_errs_less_is_promoted_by_the_sequential_test() {
    let app = with_version_b().await;
    // No split yet: per-version counts only.
    let report = experiment(&app).await;
    assert_eq!(report["experiment"]["running"], false);
    assert!(
        report["experiment"]["reason"]
            .as_str()
            .expect("reason")
            .contains("no A/B split")
    );
    assert_eq!(report["scope"], "replica");

    split_golden_and_b(&app).await;
    let served = predictions(&app, "user", 160).await;
    let on = |v: &str| served.iter().filter(|(_, version)| version == v).count();
    let (golden, b) = (on("golden"), on("b"));
    assert!(golden >= 40 && b >= 40, "golden {golden}, b {b}");
    // The truth we control: the champion (golden, current) is always wrong, the challenger right.
    for (id, version) in &served {
        label(
            &app,
            id,
            if version == "golden" {
                "virginica"
            } else {
                "setosa"
            },
        )
        .await;
    }
    let report = experiment(&app).await;
    let e = &report["experiment"];
    assert_eq!(e["running"], true, "{report}");
    assert_eq!(e["champion"]["version"], "golden");
    assert_eq!(e["challenger"]["version"], "b");
    assert_eq!(e["champion"]["labels"], golden);
    assert_eq!(e["champion"]["errors"], golden);
    assert_eq!(e["challenger"]["labels"], b);
    assert_eq!(e["challenger"]["errors"], 0);
    assert_eq!(e["difference"], 1.0);
    assert!(e["p_value"].as_f64().expect("p") < 1e-6, "{e}");
    assert!(
        e["confidence_interval"]["low"].as_f64().expect("low") > 0.5,
        "{e}"
    );
    assert_eq!(e["started"], true);
    assert_eq!(e["verdict"], "promote");
    let versions = report["versions"].as_array().expect("versions");
    let accuracy = |v: &str| {
        versions
            .iter()
            .find(|x| x["version"] == v)
            .map(|x| x["accuracy"].clone())
    };
    assert_eq!(accuracy("golden"), Some(json!(0.0)));
    assert_eq!(accuracy("b"), Some(json!(1.0)));
    let text = metrics_text(&app).await;
    let series = "{model=\"iris\",champion=\"golden\",challenger=\"b\"";
    for expected in [
        format!("tabship_experiment_verdict{series},verdict=\"promote\"}} 1.0\n"),
        format!("tabship_experiment_difference{series}}} 1.0\n"),
        format!("tabship_experiment_p_value{series}}} {}\n", e["p_value"]),
    ] {
        assert!(text.contains(&expected), "missing `{expected}` in\n{text}");
    }

    // Removing the split ends the test.
    admin_json(&app, Method::DELETE, "/admin/models/iris/split", json!({})).await;
    assert_eq!(experiment(&app).await["experiment"]["running"], false);
}

#[tokio::test]
async fn equal_versions_stay_inconclusive_and_the_route_is_guarded() {
    let app = with_version_b().await;
    split_golden_and_b(&app).await;
    // Fewer than 30 labels per arm: not started, inconclusive.
    let served = predictions(&app, "early", 20).await;
    for (id, _) in &served {
        label(&app, id, "setosa").await;
    }
    let e = experiment(&app).await["experiment"].clone();
    assert_eq!(e["started"], false, "{e}");
    assert_eq!(e["p_value"], 1.0);
    assert_eq!(e["verdict"], "inconclusive");
    // Both always right: no evidence of a difference however many labels.
    let served = predictions(&app, "user", 160).await;
    for (id, _) in &served {
        label(&app, id, "setosa").await;
    }
    let e = experiment(&app).await["experiment"].clone();
    assert_eq!(e["started"], true, "{e}");
    assert_eq!(e["difference"], 0.0);
    assert_eq!(e["p_value"], 1.0);
    assert_eq!(e["verdict"], "inconclusive");

    // The metrics scope guards it; unknown models are 404 in JSON.
    let a = get_with_token(&app, "/models/iris/experiment", &bearer(PREDICT_TOKEN)).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.text());
    get(&app, "/models/iris/experiment")
        .await
        .error(StatusCode::UNAUTHORIZED, "unauthorized");
    get_with_token(&app, "/models/nope/experiment", &bearer(ALL_TOKEN))
        .await
        .error(StatusCode::NOT_FOUND, "model_not_found");
}

/// A keyed server saving its state in `dir`, acting on verdicts (`--auto-promote`), with the
/// tree model uploaded as iris version `b` (on the first start only: later starts restore it).
async fn auto_promoting(dir: &std::path::Path, upload: bool) -> axum::Router {
    let options = tabship_serve::Options {
        state_dir: Some(dir.to_path_buf()),
        experiment: tabship_serve::experiment::ExperimentOptions {
            auto_promote: true,
            ..Default::default()
        },
        ..Default::default()
    };
    let app = tabship_serve::router(state_with(Some(keys()), options));
    if upload {
        upload_version_b(&app).await;
        split_golden_and_b(&app).await;
    }
    app
}

async fn iris(app: &axum::Router) -> Value {
    let a = get_with_token(app, "/models/iris", &bearer(ALL_TOKEN)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    a.json()
}

async fn metrics_text(app: &axum::Router) -> String {
    get_with_token(app, "/metrics", &bearer(ALL_TOKEN))
        .await
        .text()
}

/// Labels 160 predictions split between golden and b: the `loser`'s are all wrong, the other's
/// all right; the model as `GET /models/iris` answers it after, and the decisions counter.
async fn decided(app: &axum::Router, loser: &str) -> (Value, String) {
    let served = predictions(app, "user", 160).await;
    for (id, version) in &served {
        label(
            app,
            id,
            if version == loser {
                "virginica"
            } else {
                "setosa"
            },
        )
        .await;
    }
    let model = iris(app).await;
    assert_eq!(model["split"], Value::Null, "{model}");
    (model, metrics_text(app).await)
}

#[tokio::test]
async fn auto_promote_makes_the_winner_current_once_and_the_decision_survives_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = auto_promoting(dir.path(), true).await;
    let (model, text) = decided(&app, "golden").await;
    assert_eq!(model["current_version"], "b", "{model}");
    assert_eq!(model["history"], json!(["golden"]));
    assert!(
        text.contains(
            "tabship_experiment_decisions_total{model=\"iris\",decision=\"promote\"} 1\n"
        ),
        "{text}"
    );
    // Later labels (the split is gone) decide nothing more.
    assert_eq!(experiment(&app).await["experiment"]["running"], false);
    drop(app);
    let restarted = auto_promoting(dir.path(), false).await;
    let model = iris(&restarted).await;
    assert_eq!(model["current_version"], "b");
    assert_eq!(model["split"], Value::Null);
}

#[tokio::test]
async fn auto_promote_removes_the_split_when_the_challenger_loses() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = auto_promoting(dir.path(), true).await;
    let (model, text) = decided(&app, "b").await;
    assert_eq!(model["current_version"], "golden", "{model}");
    assert!(
        text.contains("tabship_experiment_decisions_total{model=\"iris\",decision=\"keep\"} 1\n"),
        "{text}"
    );
}

/// A keyed server saving its state in `dir`, reporting only, with test mixture `tau`.
fn saving(dir: &std::path::Path, tau: f64) -> std::sync::Arc<tabship_serve::AppState> {
    let mut experiment = tabship_serve::experiment::ExperimentOptions::default();
    experiment.sequential.tau = tau;
    let options = tabship_serve::Options {
        state_dir: Some(dir.to_path_buf()),
        experiment,
        ..Default::default()
    };
    state_with(Some(keys()), options)
}

/// Labels `n` predictions under keys `prefix-i`: golden's right, b's wrong.
async fn b_errs(app: &axum::Router, prefix: &str, n: usize) {
    for (id, version) in predictions(app, prefix, n).await {
        let truth = if version == "b" {
            "virginica"
        } else {
            "setosa"
        };
        label(app, &id, truth).await;
    }
}

#[tokio::test]
async fn the_running_test_survives_a_restart_with_a_state_dir() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = saving(dir.path(), 0.05);
    let app = tabship_serve::router(state.clone());
    upload_version_b(&app).await;
    split_golden_and_b(&app).await;
    b_errs(&app, "user", 80).await;
    // Saved while labels arrive (the first label's save is due at once).
    assert!(dir.path().join("experiments.json").is_file());
    let before = experiment(&app).await["experiment"].clone();
    let labels = |e: &Value| {
        (
            e["champion"]["labels"].as_u64().expect("labels"),
            e["challenger"]["labels"].as_u64().expect("labels"),
        )
    };
    let (golden, b) = labels(&before);
    assert_eq!(golden + b, 80, "{before}");
    let p = before["p_value"].as_f64().expect("p");
    assert!(p < 1.0, "{before}");
    // Shutdown saves the last counts.
    state.flush();
    drop((app, state));

    let state = saving(dir.path(), 0.05);
    let app = tabship_serve::router(state.clone());
    let restored = experiment(&app).await["experiment"].clone();
    assert_eq!(
        restored, before,
        "the restored test reads as before the restart"
    );
    b_errs(&app, "again", 20).await;
    let after = experiment(&app).await["experiment"].clone();
    let (golden2, b2) = labels(&after);
    assert_eq!(
        (golden2 + b2, golden2 >= golden, b2 >= b),
        (100, true, true),
        "{after}"
    );
    assert!(after["p_value"].as_f64().expect("p") <= p, "{after}");
    state.flush();
    drop((app, state));

    // Other test options: the saved test is discarded and the experiment starts afresh.
    let state = saving(dir.path(), 0.1);
    let app = tabship_serve::router(state);
    let fresh = experiment(&app).await["experiment"].clone();
    assert_eq!(labels(&fresh), (0, 0), "{fresh}");
    assert_eq!(fresh["p_value"], 1.0);
}

#[tokio::test]
async fn a_saved_test_for_another_split_is_discarded() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = saving(dir.path(), 0.05);
    let app = tabship_serve::router(state.clone());
    upload_version_b(&app).await;
    split_golden_and_b(&app).await;
    b_errs(&app, "user", 60).await;
    state.flush();
    // The split goes (saved in state.json); experiments.json still holds the golden/b test.
    let a = admin_json(&app, Method::DELETE, "/admin/models/iris/split", json!({})).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    drop((app, state));
    let app = tabship_serve::router(saving(dir.path(), 0.05));
    assert_eq!(experiment(&app).await["experiment"]["running"], false);
    // The same pair split again later: a new experiment, not the saved one.
    split_golden_and_b(&app).await;
    let fresh = experiment(&app).await["experiment"].clone();
    assert_eq!(fresh["champion"]["labels"], 0, "{fresh}");
    assert_eq!(fresh["challenger"]["labels"], 0, "{fresh}");
}
