//! Routes at paths the platform chooses: Vertex AI's health and predict routes, Azure ML's
//! liveness, readiness and scoring routes; and the paths refused at start.

use axum::body::Body;
use axum::http::{Method, StatusCode};
use serde_json::json;
use tabship_serve::{AppState, CloudRoutes, Options};

use crate::common::*;

const VERTEX_PREDICT: &str = "/v1/endpoints/7/deployedModels/9:predict";

fn options(cloud: CloudRoutes) -> Options {
    Options {
        cloud,
        ..Options::default()
    }
}

fn vertex() -> axum::Router {
    tabship_serve::router(state_with(
        None,
        options(CloudRoutes {
            ready: Some("/vertex/health".to_owned()),
            vertex_predict: Some(VERTEX_PREDICT.to_owned()),
            ..CloudRoutes::default()
        }),
    ))
}

#[tokio::test]
async fn vertex_predicts_records_and_value_lists() {
    let app = vertex();
    assert_eq!(get(&app, "/vertex/health").await.status, StatusCode::OK);
    let body = json!({
        "instances": [setosa(), [6.7, 3.0, 5.2, 2.3]],
        "parameters": {"confidence": 0.5},
    });
    let a = post_json(&app, VERTEX_PREDICT, &body).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let answer = a.json();
    assert_eq!(
        answer.as_object().map(|o| o.len()),
        Some(1),
        "only predictions: {answer}"
    );
    assert_eq!(answer["predictions"][1]["label"], "virginica", "{answer}");
    let body = json!({"instances": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]});
    let answer = post_json(&app, VERTEX_PREDICT, &body).await.json();
    let predictions = answer["predictions"].as_array().expect("predictions");
    assert_eq!(predictions[0]["label"], "setosa", "{answer}");
    assert_eq!(predictions[1]["label"], "virginica", "{answer}");
    let keys: Vec<&String> = predictions[0]["probabilities"]
        .as_object()
        .expect("p")
        .keys()
        .collect();
    assert_eq!(keys, ["setosa", "versicolor", "virginica"], "class order");
    let body = json!({"instances": [setosa()]});
    let answer = post_json(&app, VERTEX_PREDICT, &body).await.json();
    assert_eq!(answer["predictions"][0]["label"], "setosa", "{answer}");
}

#[tokio::test]
async fn vertex_errors_name_the_field_and_the_limit_is_1_5_mb() {
    let app = vertex();
    let error = post_json(&app, VERTEX_PREDICT, &json!({"instance": [setosa()]}))
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_input");
    assert_eq!(error["fields"][0]["field"], "instances", "{error}");
    let error = post_json(&app, VERTEX_PREDICT, &json!({"instances": []}))
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_input");
    assert_eq!(error["fields"][0]["field"], "instances", "{error}");
    let error = post_json(
        &app,
        VERTEX_PREDICT,
        &json!({"instances": [setosa()], "parameters": 3}),
    )
    .await
    .error(StatusCode::BAD_REQUEST, "invalid_input");
    assert_eq!(error["fields"][0]["field"], "parameters", "{error}");
    let error = post_json(
        &app,
        VERTEX_PREDICT,
        &json!({"instances": [{"sepal_length": "x"}]}),
    )
    .await
    .error(StatusCode::BAD_REQUEST, "invalid_input");
    assert!(
        error["fields"].as_array().is_some_and(|f| !f.is_empty()),
        "{error}"
    );
    // Just over 1.5 MB: refused; just under passes the limit (and is scored).
    let row = setosa().to_string();
    let rows_for = |bytes: usize| bytes / (row.len() + 1);
    let body = |n: usize| format!("{{\"instances\": [{}]}}", vec![row.as_str(); n].join(","));
    let over = body(rows_for(1_500_000) + 10);
    assert!(over.len() > 1_500_000);
    let a = send(
        &app,
        Method::POST,
        VERTEX_PREDICT,
        &[("content-type", "application/json")],
        over,
    )
    .await;
    a.error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    let under = body(rows_for(1_400_000));
    assert!(under.len() < 1_500_000);
    let a = send(
        &app,
        Method::POST,
        VERTEX_PREDICT,
        &[("content-type", "application/json")],
        under,
    )
    .await;
    assert_eq!(
        a.status,
        StatusCode::OK,
        "{}",
        &a.text()[..200.min(a.text().len())]
    );
}

#[tokio::test]
async fn vertex_predict_goes_through_the_data_plane() {
    let state = state_with(
        Some(keys()),
        options(CloudRoutes {
            vertex_predict: Some(VERTEX_PREDICT.to_owned()),
            ..CloudRoutes::default()
        }),
    );
    let app = tabship_serve::router(state);
    let body = json!({"instances": [setosa()]}).to_string();
    let a = send(
        &app,
        Method::POST,
        VERTEX_PREDICT,
        &[("content-type", "application/json")],
        body.clone(),
    )
    .await;
    a.error(StatusCode::UNAUTHORIZED, "unauthorized");
    let auth = bearer(ALL_TOKEN);
    let headers = [
        ("content-type", "application/json"),
        ("authorization", auth.as_str()),
        ("x-request-id", "vertex-1"),
    ];
    let a = send(&app, Method::POST, VERTEX_PREDICT, &headers, body).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let feedback = json!({"request_id": "vertex-1", "label": "setosa"}).to_string();
    let a = send(
        &app,
        Method::POST,
        "/feedback",
        &[
            ("content-type", "application/json"),
            ("authorization", auth.as_str()),
        ],
        feedback,
    )
    .await;
    assert!(a.status.is_success(), "{} {}", a.status, a.text());
    let metrics = send(
        &app,
        Method::GET,
        "/metrics",
        &[("authorization", auth.as_str())],
        Body::empty(),
    )
    .await
    .text();
    assert!(
        metrics.contains(&format!("route=\"{VERTEX_PREDICT}\"")),
        "counted under its route"
    );
}

#[tokio::test]
async fn azure_routes_answer_as_the_builtin_ones() {
    let app = tabship_serve::router(state_with(
        None,
        options(CloudRoutes {
            live: Some("/azure/live".to_owned()),
            ready: Some("/azure/ready".to_owned()),
            score: Some("/score".to_owned()),
            ..CloudRoutes::default()
        }),
    ));
    assert_eq!(
        get(&app, "/azure/live").await.json(),
        json!({"status": "live"})
    );
    assert_eq!(
        get(&app, "/azure/ready").await.json(),
        json!({"status": "ready"})
    );
    let scored = post_json(&app, "/score", &setosa()).await.json();
    assert_eq!(scored["prediction"], "setosa", "{scored}");
    let error = post_json(&app, "/score", &json!({"sepal_length": 5.1}))
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_input");
    assert!(!error["fields"].as_array().expect("fields").is_empty());
    let loading = tabship_serve::router(
        AppState::new(
            None,
            options(CloudRoutes {
                ready: Some("/azure/ready".to_owned()),
                ..CloudRoutes::default()
            }),
        )
        .expect("state"),
    );
    assert_eq!(
        get(&loading, "/azure/ready").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[test]
fn paths_that_cannot_be_served_are_refused_at_start() {
    for (cloud, why) in [
        (
            CloudRoutes {
                score: Some("/predict".to_owned()),
                ..CloudRoutes::default()
            },
            "already serves",
        ),
        (
            CloudRoutes {
                ready: Some("/health/ready/".to_owned()),
                ..CloudRoutes::default()
            },
            "already serves",
        ),
        (
            CloudRoutes {
                score: Some("/v2/mine".to_owned()),
                ..CloudRoutes::default()
            },
            "already serves",
        ),
        (
            CloudRoutes {
                score: Some("score".to_owned()),
                ..CloudRoutes::default()
            },
            "absolute path",
        ),
        (
            CloudRoutes {
                score: Some("/m/{x}".to_owned()),
                ..CloudRoutes::default()
            },
            "absolute path",
        ),
        (
            CloudRoutes {
                live: Some("/a".to_owned()),
                ready: Some("/a".to_owned()),
                ..CloudRoutes::default()
            },
            "another configured route",
        ),
    ] {
        let error = AppState::new(None, options(cloud.clone())).expect_err("refused");
        assert!(error.to_string().contains(why), "{cloud:?}: {error}");
    }
}
