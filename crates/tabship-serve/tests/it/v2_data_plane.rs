//! V2 `infer` goes through the same data plane as `/predict`: one test per side effect it
//! gained (prediction log, A/B split with `X-Routing-Key`, shadow) plus the feedback memory.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::*;

const SETOSA: [f64; 4] = [5.1, 3.5, 1.4, 0.2];

/// A V2 infer request for `row` with the request id `v2-call`.
fn iris_infer(row: [f64; 4]) -> Value {
    let mut request = iris_infer_row(row);
    request["id"] = json!("v2-call");
    request
}

/// Sends one V2 infer with every scope, and the routing key when given; returns the answer.
async fn infer(app: &axum::Router, key: Option<&str>) -> Value {
    let auth = bearer(ALL_TOKEN);
    let mut headers = vec![
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    if let Some(k) = key {
        headers.push((tabship_serve::ROUTING_KEY_HEADER, k));
    }
    let body = iris_infer(SETOSA).to_string();
    let a = send(app, Method::POST, "/v2/models/iris/infer", &headers, body).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    a.json()
}

#[tokio::test]
async fn v2_infer_is_logged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("predictions.jsonl");
    let (state, app) = with_prediction_log(&path);
    let a = post_json(&app, "/v2/models/iris/infer", &iris_infer(SETOSA)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let answer = a.json();
    state.flush();
    let text = std::fs::read_to_string(&path).expect("log");
    let line: Value = serde_json::from_str(text.lines().next().expect("a line")).expect("json");
    assert_eq!(line["request_id"], answer["parameters"]["request_id"]);
    assert_eq!(line["model"], "iris");
    assert_eq!(line["version"], "golden");
    assert_eq!(line["shadow"], false);
    assert_eq!(line["inputs"]["id"], "v2-call", "the request as sent");
    assert_eq!(line["outputs"], answer, "the answer as sent");
}

#[tokio::test]
async fn v2_infer_is_remembered_for_feedback() {
    let app = app();
    let answer = post_json(&app, "/v2/models/iris/infer", &iris_infer(SETOSA))
        .await
        .json();
    let rid = answer["parameters"]["request_id"]
        .as_str()
        .expect("request id");
    let a = post_json(
        &app,
        "/feedback",
        &json!({"request_id": rid, "label": "setosa"}),
    )
    .await;
    assert!(a.status.is_success(), "{} {}", a.status, a.text());
}

#[tokio::test]
async fn v2_infer_follows_the_split_and_the_routing_key() {
    let app = with_version_b().await;
    split_golden_and_b(&app).await;
    let mut seen = std::collections::BTreeSet::new();
    for user in 0..40 {
        let key = format!("user-{user}");
        let first = infer(&app, Some(&key)).await["model_version"].clone();
        for _ in 0..3 {
            let again = infer(&app, Some(&key)).await["model_version"].clone();
            assert_eq!(again, first, "sticky");
        }
        seen.insert(first.to_string());
    }
    assert_eq!(seen.len(), 2, "both arms get traffic: {seen:?}");
}

#[tokio::test]
async fn v2_infer_runs_the_shadow() {
    let app = with_version_b().await;
    shadow_b(&app).await;
    for _ in 0..5 {
        let answer = infer(&app, None).await;
        assert_eq!(answer["model_version"], "golden", "never the shadow");
    }
    assert!(
        shadow_b_scored(&app, 5).await,
        "the shadow scored all 5 V2 requests"
    );
}
