//! Open Inference Protocol V2.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::common::*;

fn iris_infer(rows: &[[f64; 4]]) -> Value {
    let names = ["sepal_length", "sepal_width", "petal_length", "petal_width"];
    let inputs: Vec<Value> = names
        .iter()
        .enumerate()
        .map(|(i, n)| json!({"name": n, "datatype": "FP64", "shape": [rows.len(), 1], "data": rows.iter().map(|r| r[i]).collect::<Vec<_>>()}))
        .collect();
    json!({"id": "abc", "inputs": inputs})
}

#[tokio::test]
async fn metadata_and_health() {
    let app = app();
    assert_eq!(get(&app, "/v2").await.json()["name"], "tabship");
    assert_eq!(get(&app, "/v2/health/ready").await.json()["ready"], true);
    let meta = get(&app, "/v2/models/adult").await.json();
    assert_eq!(meta["platform"], "tabship");
    let inputs = meta["inputs"].as_array().expect("inputs");
    assert_eq!(
        inputs[0],
        json!({"name": "age", "datatype": "FP64", "shape": [-1]})
    );
    assert_eq!(inputs[1]["datatype"], "BYTES");
    assert_eq!(meta["outputs"][1]["shape"], json!([-1, 2]));
    assert_eq!(
        get(&app, "/v2/models/adult/versions/golden").await.status,
        StatusCode::OK
    );
    assert_eq!(
        get(&app, "/v2/models/adult/ready").await.status,
        StatusCode::OK
    );
    let a = get(&app, "/v2/models/nope").await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(a.json()["error"].is_string());
}

#[tokio::test]
async fn infer_matches_predict() {
    let app = app();
    let rows = [
        [5.1, 3.5, 1.4, 0.2],
        [6.7, 3.0, 5.2, 2.3],
        [5.9, 3.0, 4.2, 1.5],
    ];
    let a = post_json(&app, "/v2/models/iris/infer", &iris_infer(&rows)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let body = a.json();
    assert_eq!(body["id"], "abc");
    assert_eq!(body["model_name"], "iris");
    let labels = &body["outputs"][0];
    assert_eq!(labels["name"], "label");
    assert_eq!(labels["datatype"], "BYTES");
    let instances: Vec<Value> = rows.iter().map(|r| json!({"sepal_length": r[0], "sepal_width": r[1], "petal_length": r[2], "petal_width": r[3]})).collect();
    let rest = post_json(&app, "/predict", &json!({"instances": instances}))
        .await
        .json();
    assert_eq!(labels["data"], rest["predictions"]);
    let proba = body["outputs"][1]["data"].as_array().expect("proba");
    assert_eq!(body["outputs"][1]["shape"], json!([3, 3]));
    assert_eq!(proba[3], rest["probabilities"][1]["setosa"]);
    // Requested outputs only.
    let mut req = iris_infer(&rows);
    req["outputs"] = json!([{"name": "label"}]);
    let body = post_json(&app, "/v2/models/iris/versions/golden/infer", &req)
        .await
        .json();
    assert_eq!(body["outputs"].as_array().expect("outputs").len(), 1);
}

#[tokio::test]
async fn infer_errors_are_v2_shaped() {
    let app = app();
    let mut req = iris_infer(&[[5.1, 3.5, 1.4, 0.2]]);
    req["inputs"][0]["shape"] = json!([2]);
    let cases = vec![
        req,
        json!({"inputs": 3}),
        json!({"inputs": [{"name": "nope", "datatype": "FP64", "shape": [1], "data": [1]}]}),
        json!({"inputs": [{"name": "sepal_length", "datatype": "BYTES", "shape": [1], "data": ["a"]}]}),
        json!({"inputs": [{"name": "sepal_length", "datatype": "FP64", "shape": [1], "data": [1]}]}),
    ];
    for body in cases {
        let a = post_json(&app, "/v2/models/iris/infer", &body).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{body}: {}", a.text());
        assert!(a.json()["error"].is_string(), "{}", a.text());
    }
    let mut bad_output = iris_infer(&[[5.1, 3.5, 1.4, 0.2]]);
    bad_output["outputs"] = json!([{"name": "logits"}]);
    assert_eq!(
        post_json(&app, "/v2/models/iris/infer", &bad_output)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    let a = post_json(
        &app,
        "/v2/models/nope/infer",
        &iris_infer(&[[1.0, 1.0, 1.0, 1.0]]),
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    // Categorical BYTES inputs on adult, with an unknown category.
    let meta = get(&app, "/models/adult").await.json();
    let inputs: Vec<Value> = meta["schema"]["columns"].as_array().expect("columns").iter().map(|c| {
        let numeric = c["kind"] == "numeric";
        let value = if c["name"] == "workclass" { json!("Space-force") } else { c["example"].clone() };
        json!({"name": c["name"], "datatype": if numeric { "FP64" } else { "BYTES" }, "shape": [1], "data": [value]})
    }).collect();
    let a = post_json(&app, "/v2/models/adult/infer", &json!({"inputs": inputs})).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
}

/// The protocol's `id` is text and echoed in the answer; another kind was echoed as it came,
/// against the documented answer.
#[tokio::test]
async fn a_non_text_id_is_refused() {
    let app = app();
    let mut body = iris_infer(&[[5.1, 3.5, 1.4, 0.2]]);
    body["id"] = json!(5);
    let a = post_json(&app, "/v2/models/iris/infer", &body).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.text());
    assert_eq!(a.json()["error"], "`id`: expected text, got a number");
    body["id"] = json!("mine");
    let a = post_json(&app, "/v2/models/iris/infer", &body).await;
    assert_eq!(a.json()["id"], "mine");
}
