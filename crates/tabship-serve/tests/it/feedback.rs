//! Feedback joins labels to logged predictions and moves live accuracy/F1/MAE.

use axum::http::StatusCode;
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn labels_update_live_quality() {
    let app = app();
    let id = post_json(&app, "/predict", &setosa()).await.json()["request_id"].clone();
    let a = post_json(
        &app,
        "/feedback",
        &json!({"request_id": id, "label": "setosa"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let body = a.json();
    assert_eq!(body["correct"], true);
    assert_eq!(body["live"]["accuracy"], 1.0);
    assert_eq!(body["live"]["labelled"], 1);
    // A wrong label lowers accuracy.
    let id2 = post_json(&app, "/predict", &setosa()).await.json()["request_id"].clone();
    let body = post_json(
        &app,
        "/feedback",
        &json!({"request_id": id2, "label": "virginica"}),
    )
    .await
    .json();
    assert_eq!(body["correct"], false);
    assert_eq!(body["live"]["accuracy"], 0.5);
    assert!(body["live"]["f1"].as_f64().expect("f1") < 1.0);
    // Twice is a conflict; unknown ids are 404; bad labels are 400 and do not consume the row.
    post_json(
        &app,
        "/feedback",
        &json!({"request_id": id, "label": "setosa"}),
    )
    .await
    .error(StatusCode::CONFLICT, "already_labelled");
    post_json(
        &app,
        "/feedback",
        &json!({"request_id": "nope", "label": "setosa"}),
    )
    .await
    .error(StatusCode::NOT_FOUND, "request_not_found");
    let id3 = post_json(&app, "/predict", &setosa()).await.json()["request_id"].clone();
    let e = post_json(
        &app,
        "/feedback",
        &json!({"request_id": id3, "label": "rose"}),
    )
    .await
    .error(StatusCode::BAD_REQUEST, "invalid_input");
    assert!(
        e["fields"][0]["expected"]
            .as_str()
            .expect("expected")
            .contains("setosa")
    );
    assert_eq!(
        post_json(
            &app,
            "/feedback",
            &json!({"request_id": id3, "label": "setosa"})
        )
        .await
        .status,
        StatusCode::OK
    );
    post_json(&app, "/feedback", &json!({"label": "setosa"}))
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_input");
    post_json(&app, "/feedback", &json!({"request_id": id3}))
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_input");
    // Live accuracy reaches /metrics.
    let text = get(&app, "/metrics").await.text();
    assert!(
        text.contains(
            "tabship_live_accuracy{model=\"iris\",version=\"golden\"} 0.6666666666666666"
        ),
        "{text}"
    );
    assert!(text.contains("tabship_feedback_total{model=\"iris\",version=\"golden\"} 3"));
}

#[tokio::test]
async fn batch_rows_and_regression_mae() {
    let app = app();
    let body = post_json(
        &app,
        "/predict",
        &json!({"instances": [setosa(), setosa()]}),
    )
    .await
    .json();
    let id = body["request_id"].clone();
    assert_eq!(
        post_json(
            &app,
            "/feedback",
            &json!({"request_id": id, "row": 1, "label": "setosa"})
        )
        .await
        .status,
        StatusCode::OK
    );
    post_json(
        &app,
        "/feedback",
        &json!({"request_id": id, "row": 2, "label": "setosa"}),
    )
    .await
    .error(StatusCode::BAD_REQUEST, "invalid_input");
    // `index`, the 0-based position as error answers name it, labels the same rows.
    let a = post_json(
        &app,
        "/feedback",
        &json!({"request_id": id, "index": 0, "label": "setosa"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.json()["index"], 0);
    let e = post_json(
        &app,
        "/feedback",
        &json!({"request_id": id, "index": 0, "row": 1, "label": "setosa"}),
    )
    .await
    .error(StatusCode::BAD_REQUEST, "invalid_input");
    assert_eq!(e["fields"][0]["field"], "row");

    let model = get(&app, "/models/diamonds").await.json();
    let a = post_json(&app, "/models/diamonds/predict", &model["example"])
        .await
        .json();
    let predicted = a["prediction"].as_f64().expect("value");
    let body = post_json(
        &app,
        "/feedback",
        &json!({"request_id": a["request_id"], "label": predicted + 100.0}),
    )
    .await
    .json();
    let mae = body["live"]["mae"].as_f64().expect("mae");
    assert!((mae - 100.0).abs() < 1e-6, "{mae}");
    let a = post_json(&app, "/models/diamonds/predict", &model["example"])
        .await
        .json();
    post_json(
        &app,
        "/feedback",
        &json!({"request_id": a["request_id"], "label": "cheap"}),
    )
    .await
    .error(StatusCode::BAD_REQUEST, "invalid_input");
}
