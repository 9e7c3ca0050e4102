//! SageMaker's `/ping` and `/invocations`: JSON and CSV bodies, `Accept` variants, errors as
//! JSON, and the data plane (log, feedback, A/B split, metrics) applying as on `/predict`.

use axum::body::Body;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use tabship_serve::{AppState, Options};

use crate::common::*;

const TWO_ROWS: &str = "5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n";

async fn invoke(
    app: &axum::Router,
    content_type: &str,
    accept: Option<&str>,
    body: &str,
) -> Answer {
    let mut headers = vec![("content-type", content_type)];
    if let Some(a) = accept {
        headers.push(("accept", a));
    }
    send(app, Method::POST, "/invocations", &headers, body.to_owned()).await
}

#[tokio::test]
async fn ping_is_empty_and_200_when_ready_503_before() {
    let a = get(&app(), "/ping").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.body.is_empty(), "{}", a.text());
    let loading = tabship_serve::router(AppState::new(None, Options::default()).expect("state"));
    let a = get(&loading, "/ping").await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(a.body.is_empty());
}

#[tokio::test]
async fn csv_rows_answer_json_by_default() {
    let a = invoke(&app(), "text/csv", None, TWO_ROWS).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.headers["content-type"], "application/json");
    let body = a.json();
    assert_eq!(
        body["predictions"],
        json!(["setosa", "virginica"]),
        "{body}"
    );
    assert_eq!(body["model"], "iris");
    assert_eq!(body["probabilities"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn csv_answers_give_the_prediction_then_probabilities_in_class_order() {
    let app = app();
    let a = invoke(&app, "text/csv", Some("text/csv"), TWO_ROWS).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.headers["content-type"], "text/csv");
    let json = invoke(
        &app,
        "text/csv; charset=utf-8",
        Some("application/json"),
        TWO_ROWS,
    )
    .await
    .json();
    let text = a.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    for (i, line) in lines.iter().enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells.len(), 4, "{line}");
        assert_eq!(cells[0], json["predictions"][i], "{line}");
        let proba = json["probabilities"][i].as_object().expect("probabilities");
        // Class order: the JSON answer's keys are in the model's class order too.
        for (cell, p) in cells[1..].iter().zip(["setosa", "versicolor", "virginica"]) {
            let x: f64 = cell.parse().expect("a number");
            assert_eq!(x, proba[p].as_f64().expect("p"), "{line}");
        }
    }
}

#[tokio::test]
async fn json_bodies_are_the_predict_shapes_and_accept_picks_the_answer() {
    let app = app();
    let record = setosa().to_string();
    let a = invoke(&app, "application/json", Some("*/*"), &record).await;
    assert_eq!(a.json()["prediction"], "setosa", "{}", a.text());
    let instances = json!({"instances": [setosa(), setosa()]}).to_string();
    let a = invoke(
        &app,
        "application/json",
        Some("text/csv, application/json;q=0.5"),
        &instances,
    )
    .await;
    assert_eq!(a.headers["content-type"], "text/csv");
    assert_eq!(a.text().lines().count(), 2);
    let features = json!({"features": [[6.7, 3.0, 5.2, 2.3]]}).to_string();
    let a = send(&app, Method::POST, "/invocations", &[], features).await;
    assert_eq!(
        a.json()["predictions"],
        json!(["virginica"]),
        "no Content-Type is JSON"
    );
}

#[tokio::test]
async fn regressor_csv_answers_are_one_value_per_line() {
    // Diamonds alone, so it is the default model; the row is its documented example.
    let state = AppState::new(None, Options::default()).expect("state");
    state
        .load_paths(&[golden("diamonds_ridge.tabship")])
        .expect("diamonds");
    let app = tabship_serve::router(state);
    let model = get(&app, "/models/diamonds").await.json();
    let cells: Vec<String> = model["schema"]["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .map(
            |c| match &model["example"][c["name"].as_str().expect("name")] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            },
        )
        .collect();
    let line = cells.join(",");
    let a = invoke(
        &app,
        "text/csv",
        Some("text/csv"),
        &format!("{line}\n{line}\n"),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let json = invoke(&app, "text/csv", None, &line).await.json();
    let text = a.text();
    let values: Vec<f64> = text
        .lines()
        .map(|l| l.parse().expect("one number per line"))
        .collect();
    assert_eq!(values.len(), 2, "{text}");
    assert_eq!(json["predictions"][0].as_f64(), Some(values[0]));
}

#[tokio::test]
async fn bad_bodies_are_4xx_json_naming_row_and_column() {
    let app = app();
    let a = invoke(&app, "text/csv", None, "5.1,3.5,1.4,0.2\n5.1,3.5,abc,0.2\n").await;
    let error = a.error(StatusCode::BAD_REQUEST, "invalid_input");
    assert_eq!(error["fields"][0]["field"], "petal_length", "{error}");
    assert_eq!(error["fields"][0]["row"], 2, "{error}");
    assert!(
        error["fields"][0]["expected"]
            .as_str()
            .unwrap_or("")
            .contains("column 3"),
        "{error}"
    );
    let a = invoke(&app, "text/csv", None, "5.1,3.5,1.4\n").await;
    let error = a.error(StatusCode::BAD_REQUEST, "invalid_input");
    assert_eq!(error["fields"][0]["field"], "row", "{error}");
    assert!(
        error["fields"][0]["expected"]
            .as_str()
            .unwrap_or("")
            .contains("sepal_length,sepal_width"),
        "{error}"
    );
    invoke(&app, "text/csv", None, "")
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_csv");
    let not_utf8 = b"5.1,3.5,1.4,0.2\n\xff,3.5,1.4,0.2\n".to_vec();
    let a = send(
        &app,
        Method::POST,
        "/invocations",
        &[("content-type", "text/csv")],
        not_utf8,
    )
    .await;
    let error = a.error(StatusCode::BAD_REQUEST, "invalid_csv");
    assert!(
        error["message"].as_str().unwrap_or("").contains("row 2"),
        "{error}"
    );
    invoke(&app, "application/json", None, "{")
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_json");
    let error = invoke(&app, "application/xml", None, "<a/>")
        .await
        .error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    assert_eq!(error["fields"][0]["field"], "content-type");
    let error = invoke(&app, "text/csv", Some("application/xml"), TWO_ROWS)
        .await
        .error(StatusCode::NOT_ACCEPTABLE, "not_acceptable");
    assert_eq!(error["fields"][0]["field"], "accept");
}

#[tokio::test]
async fn invocations_needs_the_predict_scope_and_ping_is_open() {
    let app = secured();
    assert_eq!(get(&app, "/ping").await.status, StatusCode::OK);
    invoke(&app, "text/csv", None, TWO_ROWS)
        .await
        .error(StatusCode::UNAUTHORIZED, "unauthorized");
    let auth = bearer(PREDICT_TOKEN);
    let a = send(
        &app,
        Method::POST,
        "/invocations",
        &[("content-type", "text/csv"), ("authorization", &auth)],
        TWO_ROWS,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.json()["username"], "pedro1");
}

#[tokio::test]
async fn invocations_are_logged_remembered_and_counted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("predictions.jsonl");
    let (state, app) = with_prediction_log(&path);
    let a = send(
        &app,
        Method::POST,
        "/invocations",
        &[
            ("content-type", "text/csv"),
            ("accept", "text/csv"),
            ("x-request-id", "sm-call-1"),
        ],
        TWO_ROWS,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    state.flush();
    let text = std::fs::read_to_string(&path).expect("log");
    let line: Value = serde_json::from_str(text.lines().next().expect("a line")).expect("json");
    assert_eq!(line["request_id"], "sm-call-1");
    assert_eq!(
        line["inputs"],
        json!([["5.1", "3.5", "1.4", "0.2"], ["6.7", "3.0", "5.2", "2.3"]]),
        "the CSV rows as sent"
    );
    assert_eq!(line["outputs"], a.text(), "the CSV answer as sent");
    let a = post_json(
        &app,
        "/feedback",
        &json!({"request_id": "sm-call-1", "label": "virginica", "index": 1}),
    )
    .await;
    assert!(a.status.is_success(), "{} {}", a.status, a.text());
    let metrics = get(&app, "/metrics").await.text();
    assert!(
        metrics.contains("route=\"/invocations\""),
        "requests counted by route"
    );
}

#[tokio::test]
async fn invocations_follow_the_split_and_the_routing_key() {
    let app = with_version_b().await;
    split_golden_and_b(&app).await;
    let auth = bearer(ALL_TOKEN);
    let mut seen = std::collections::BTreeSet::new();
    for user in 0..40 {
        let key = format!("user-{user}");
        let headers = [
            ("content-type", "text/csv"),
            ("authorization", auth.as_str()),
            (tabship_serve::ROUTING_KEY_HEADER, key.as_str()),
        ];
        let a = send(
            &app,
            Method::POST,
            "/invocations",
            &headers,
            Body::from(TWO_ROWS),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text());
        seen.insert(a.json()["version"].to_string());
    }
    assert_eq!(seen.len(), 2, "both arms get traffic: {seen:?}");
}
