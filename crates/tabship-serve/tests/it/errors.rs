//! Every error path answers JSON with the right status, and nothing crashes the server.

use axum::body::Body;
use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn malformed_json_is_400() {
    let app = app();
    let a = send(
        &app,
        Method::POST,
        "/predict",
        &[],
        "{\"sepal_length\": 5.1,",
    )
    .await;
    let e = a.error(StatusCode::BAD_REQUEST, "invalid_json");
    assert!(
        e["message"].as_str().expect("message").contains("line 1"),
        "{e}"
    );
    send(&app, Method::POST, "/predict", &[], Body::empty())
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_json");
}

#[tokio::test]
async fn missing_and_mistyped_fields_are_listed() {
    let app = app();
    let a = post_json(
        &app,
        "/predict",
        &json!({"sepal_length": "long", "sepal_width": [1], "petal_length": 1.4}),
    )
    .await;
    let e = a.error(StatusCode::BAD_REQUEST, "invalid_input");
    let fields = e["fields"].as_array().expect("fields");
    assert_eq!(fields.len(), 3);
    assert_eq!(
        fields[0],
        json!({"field": "sepal_length", "expected": "a number", "received": "`long`"})
    );
    assert_eq!(fields[1]["field"], "sepal_width");
    assert_eq!(fields[1]["received"], "a list `[1]`");
    assert_eq!(
        fields[2],
        json!({"field": "petal_width", "expected": "a number", "received": "nothing"})
    );
    // Rows of a batch are named.
    let a = post_json(
        &app,
        "/predict",
        &json!({"instances": [setosa(), {"sepal_length": 1}]}),
    )
    .await;
    let e = a.error(StatusCode::BAD_REQUEST, "invalid_input");
    // Rows count from 1, as in the CLI and Python; `index` is the position in `instances`.
    assert_eq!(e["fields"][0]["row"], 2);
    assert_eq!(e["fields"][0]["index"], 1);
    assert!(
        e["message"]
            .as_str()
            .expect("message")
            .contains("rows count from 1"),
        "{e}"
    );
    let a = post_json(
        &app,
        "/predict",
        &json!({"instances": [setosa(), setosa(), {"sepal_length": 1, "sepal_width": 1, "petal_length": 1}]}),
    )
    .await;
    let e = a.error(StatusCode::BAD_REQUEST, "invalid_input");
    assert_eq!(
        e["message"],
        "row 3, field `petal_width`: expected a number, got nothing"
    );
    // Wrong shapes.
    for body in [
        json!([1, 2]),
        json!({"instances": 3}),
        json!({"instances": []}),
        json!({"features": [1.0]}),
        json!("x"),
    ] {
        post_json(&app, "/predict", &body)
            .await
            .error(StatusCode::BAD_REQUEST, "invalid_input");
    }
    // Infinity is refused with the column named; null is missing and imputed.
    let a = post_json(&app, "/predict", &json!({"sepal_length": "inf", "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2})).await;
    assert_eq!(
        a.error(StatusCode::BAD_REQUEST, "invalid_input")["fields"][0]["field"],
        "sepal_length"
    );
    let a = post_json(
        &app,
        "/predict",
        &json!({"sepal_length": null, "sepal_width": "", "petal_length": 1.4, "petal_width": 0.2}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
}

#[tokio::test]
async fn a_capped_list_of_field_errors_says_so_and_gives_the_true_count() {
    let app = app();
    // 18 empty records: 72 missing fields, more than the 50 listed.
    let a = post_json(&app, "/predict", &json!({"instances": vec![json!({}); 18]})).await;
    let e = a.error(StatusCode::BAD_REQUEST, "invalid_input");
    assert_eq!(e["fields"].as_array().expect("fields").len(), 50);
    let message = e["message"].as_str().expect("message");
    assert!(message.starts_with("72 fields are invalid"), "{message}");
    assert!(message.contains("the first 50 are listed"), "{message}");
    // Under the cap, the count is the list's length and nothing claims a cap.
    let a = post_json(&app, "/predict", &json!({"instances": [{}, {}]})).await;
    let e = a.error(StatusCode::BAD_REQUEST, "invalid_input");
    let message = e["message"].as_str().expect("message");
    assert!(message.starts_with("8 fields are invalid"), "{message}");
    assert!(!message.contains("listed"), "{message}");
}

#[tokio::test]
async fn body_too_large_is_413() {
    let state = state_with(
        None,
        tabship_serve::Options {
            body_limit: 1024,
            ..tabship_serve::Options::default()
        },
    );
    let app = tabship_serve::router(state);
    let big = json!({"instances": vec![setosa(); 100]});
    post_json(&app, "/predict", &big)
        .await
        .error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    assert_eq!(
        post_json(&app, "/predict", &setosa()).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods() {
    let app = app();
    get(&app, "/nope")
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
    get(&app, "/predict")
        .await
        .error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    send(&app, Method::DELETE, "/models", &[], Body::empty())
        .await
        .error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
}

#[tokio::test]
async fn hostile_bodies_never_crash() {
    let app = app();
    let deep = "[".repeat(10_000);
    let bodies: Vec<Vec<u8>> = vec![
        deep.into_bytes(),
        vec![0xff, 0xfe, 0x00],
        b"{\"sepal_length\": 1e999}".to_vec(),
        b"{\"instances\": [null, 1, \"x\"]}".to_vec(),
        b"{\"features\": [[1,2,3,4], 5]}".to_vec(),
    ];
    for body in bodies {
        let a = send(&app, Method::POST, "/predict", &[], body).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.text());
    }
    // The server still answers.
    assert_eq!(
        post_json(&app, "/predict", &setosa()).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn slow_requests_time_out_with_503() {
    let state = state_with(
        None,
        tabship_serve::Options {
            request_timeout: std::time::Duration::from_micros(1),
            blocking_rows: 1,
            body_limit: 64 * 1024 * 1024,
            ..tabship_serve::Options::default()
        },
    );
    let app = tabship_serve::router(state);
    // Scored on the blocking pool, so the handler yields and the deadline is checked.
    let big = json!({"instances": vec![setosa(); 50_000]});
    let a = post_json(&app, "/predict", &big).await;
    let e = a.error(StatusCode::SERVICE_UNAVAILABLE, "timeout");
    assert!(
        e["message"]
            .as_str()
            .expect("message")
            .contains("longer than")
    );
}
