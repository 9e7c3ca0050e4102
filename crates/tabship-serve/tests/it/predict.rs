//! Predictions: the three body shapes, the answer shape, golden parity, versions.

use axum::http::StatusCode;
use serde_json::{Value, json};
use tabship_serve::{AppState, Options};

use crate::common::*;

#[tokio::test]
async fn one_record_answers_prediction_probabilities_and_ids() {
    let app = app();
    let a = post_json(&app, "/predict", &setosa()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let body = a.json();
    assert_eq!(body["prediction"], "setosa");
    assert_eq!(body["model"], "iris");
    assert_eq!(body["version"], "golden");
    assert_eq!(body["username"], Value::Null);
    assert_eq!(
        body["request_id"].as_str().expect("request id"),
        a.headers["x-request-id"].to_str().expect("header")
    );
    let p = body["probabilities"].as_object().expect("probabilities");
    assert_eq!(
        p.keys().collect::<Vec<_>>(),
        ["setosa", "versicolor", "virginica"]
    );
    let sum: f64 = p.values().map(|v| v.as_f64().expect("number")).sum();
    assert!((sum - 1.0).abs() < 1e-12);
    assert!(body.get("predictions").is_none());
}

#[tokio::test]
async fn golden_parity_for_instances_and_features() {
    let app = app();
    let (header, rows) = read_csv("iris_logistic.expected.csv");
    let features = &header[..4];
    let instances: Vec<Value> = rows
        .iter()
        .map(|r| record(features, &r[..4], IRIS_NUMERIC))
        .collect();
    let a = post_json(
        &app,
        "/models/iris/predict",
        &json!({ "instances": instances }),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let body = a.json();
    let predictions = body["predictions"].as_array().expect("predictions");
    let probabilities = body["probabilities"].as_array().expect("probabilities");
    assert_eq!(predictions.len(), rows.len());
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(predictions[i], row[5].as_str(), "row {i}");
        for (k, class) in ["setosa", "versicolor", "virginica"].iter().enumerate() {
            let expected: f64 = row[6 + k].parse().expect("probability");
            let got = probabilities[i][class].as_f64().expect("number");
            assert!(
                (got - expected).abs() <= 1e-12,
                "row {i} {class}: {got} vs {expected}"
            );
        }
    }
    // Positional rows give the same predictions.
    let positional: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!(
                r[..4]
                    .iter()
                    .map(|x| x.parse::<f64>().expect("num"))
                    .collect::<Vec<_>>()
            )
        })
        .collect();
    let b = post_json(&app, "/predict", &json!({ "features": positional })).await;
    assert_eq!(b.json()["predictions"], body["predictions"]);
    // One positional row answers `prediction`.
    let c = post_json(
        &app,
        "/predict",
        &json!({ "features": [5.1, 3.5, 1.4, 0.2] }),
    )
    .await;
    assert_eq!(c.json()["prediction"], "setosa");
}

#[tokio::test]
async fn adult_unknown_categories_and_large_batches() {
    let app = app();
    let (header, rows) = read_csv("adult_logistic.expected.csv");
    let features = &header[..13];
    let instances: Vec<Value> = rows
        .iter()
        .map(|r| record(features, &r[..13], ADULT_NUMERIC))
        .collect();
    // Repeat the rows past the blocking threshold (256): the answer must not change.
    let many: Vec<Value> = instances
        .iter()
        .cycle()
        .take(instances.len() * 8)
        .cloned()
        .collect();
    let a = post_json(&app, "/models/adult/predict", &json!({ "instances": many })).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let body = a.json();
    let predictions = body["predictions"].as_array().expect("predictions");
    assert_eq!(predictions.len(), many.len());
    for (i, p) in predictions.iter().enumerate() {
        let row = &rows[i % rows.len()];
        assert_eq!(p, row[14].as_str(), "row {i}");
        let expected: f64 = row[16].parse().expect("p");
        let got = body["probabilities"][i][">50K"].as_f64().expect("p");
        assert!((got - expected).abs() <= 1e-12);
    }
}

#[tokio::test]
async fn regression_answers_a_number_without_probabilities() {
    let app = app();
    let (header, rows) = read_csv("diamonds_ridge.expected.csv");
    let numeric = ["carat", "depth", "table", "x", "y", "z"];
    let features: Vec<String> = header
        .iter()
        .filter(|h| *h != "price" && *h != "prediction")
        .cloned()
        .collect();
    let row: Vec<String> = header
        .iter()
        .zip(&rows[0])
        .filter(|(h, _)| features.contains(h))
        .map(|(_, v)| v.clone())
        .collect();
    let a = post_json(
        &app,
        "/models/diamonds/predict",
        &record(&features, &row, &numeric),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let body = a.json();
    let expected: f64 = rows[0][header.iter().position(|h| h == "prediction").expect("col")]
        .parse()
        .expect("number");
    let got = body["prediction"].as_f64().expect("number");
    assert!(
        (got - expected).abs() <= 1e-9 * expected.abs().max(1.0),
        "{got} vs {expected}"
    );
    assert!(body.get("probabilities").is_none());
}

#[tokio::test]
async fn versions_and_missing_models() {
    let app = app();
    let a = post_json(&app, "/models/iris/versions/golden/predict", &setosa()).await;
    assert_eq!(a.json()["version"], "golden");
    post_json(&app, "/models/iris/versions/9/predict", &setosa())
        .await
        .error(StatusCode::NOT_FOUND, "version_not_found");
    post_json(&app, "/models/nope/predict", &setosa())
        .await
        .error(StatusCode::NOT_FOUND, "model_not_found");
}

#[tokio::test]
async fn models_listing_and_detail() {
    let app = app();
    let list = get(&app, "/models").await.json();
    let names: Vec<&str> = list["models"]
        .as_array()
        .expect("models")
        .iter()
        .map(|m| m["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["adult", "diamonds", "iris"]);
    assert_eq!(list["default_model"], "iris");
    let adult = get(&app, "/models/adult").await.json();
    let columns = adult["schema"]["columns"].as_array().expect("columns");
    let workclass = columns
        .iter()
        .find(|c| c["name"] == "workclass")
        .expect("workclass");
    assert_eq!(workclass["kind"], "categorical");
    assert!(
        workclass["categories"]
            .as_array()
            .expect("cats")
            .iter()
            .any(|c| c == "Private")
    );
    assert!(adult["versions"][0]["metrics"]["accuracy"].is_number());
    assert_eq!(adult["current_version"], "golden");
    // The example record predicts.
    let example = adult["example"].clone();
    assert_eq!(
        post_json(&app, "/models/adult/predict", &example)
            .await
            .status,
        StatusCode::OK
    );
    get(&app, "/models/nope")
        .await
        .error(StatusCode::NOT_FOUND, "model_not_found");
}

#[tokio::test]
async fn root_and_health() {
    let app = app();
    let root = get(&app, "/").await.json();
    assert_eq!(root["status"], "alive");
    assert_eq!(root["version"], tabship_serve::VERSION);
    assert_eq!(root["models"].as_array().expect("models").len(), 3);
    assert_eq!(get(&app, "/health/live").await.status, StatusCode::OK);
    assert_eq!(get(&app, "/health/ready").await.status, StatusCode::OK);

    let loading = tabship_serve::router(
        tabship_serve::AppState::new(None, tabship_serve::Options::default()).expect("state"),
    );
    assert_eq!(get(&loading, "/health/live").await.status, StatusCode::OK);
    assert_eq!(
        get(&loading, "/health/ready").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    post_json(&loading, "/predict", &setosa())
        .await
        .error(StatusCode::SERVICE_UNAVAILABLE, "not_ready");
}

#[tokio::test]
async fn draining_fails_readiness_but_keeps_serving() {
    let state = state_with(None, tabship_serve::Options::default());
    let app = tabship_serve::router(state.clone());
    assert_eq!(get(&app, "/health/ready").await.status, StatusCode::OK);
    state.start_draining();
    let ready = get(&app, "/health/ready").await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ready.json()["status"], "draining");
    let v2 = get(&app, "/v2/health/ready").await;
    assert_eq!(v2.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(v2.json()["ready"], false);
    assert_eq!(get(&app, "/").await.json()["ready"], false);
    assert_eq!(get(&app, "/health/live").await.status, StatusCode::OK);
    let answer = post_json(&app, "/predict", &setosa()).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json()["prediction"], "setosa");
}

#[tokio::test]
async fn prediction_log_lines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("predictions.jsonl");
    let (state, app) = with_prediction_log(&path);
    let a = post_json(&app, "/predict", &setosa()).await.json();
    state.flush();
    let text = std::fs::read_to_string(&path).expect("log");
    let line: Value = serde_json::from_str(text.lines().next().expect("a line")).expect("json");
    assert_eq!(line["request_id"], a["request_id"]);
    assert_eq!(line["model"], "iris");
    assert_eq!(line["version"], "golden");
    assert_eq!(line["inputs"]["sepal_length"], 5.1);
    assert_eq!(line["outputs"]["prediction"], "setosa");
    assert!(line["latency_ms"].as_f64().expect("latency") >= 0.0);
    assert_eq!(line["shadow"], false);
}

#[tokio::test]
async fn model_directories_and_duplicates() {
    let dir = tempfile::tempdir().expect("tempdir");
    for name in ["iris_logistic.tabship", "adult_logistic.tabship"] {
        std::fs::copy(golden(name), dir.path().join(name)).expect("copy");
    }
    std::fs::write(dir.path().join("notes.txt"), "not an artifact").expect("write");
    let state =
        tabship_serve::AppState::new(None, tabship_serve::Options::default()).expect("state");
    state
        .load_paths(&[dir.path().to_path_buf()])
        .expect("directory loads");
    let names: Vec<String> = state.registry().models.keys().cloned().collect();
    assert_eq!(names, ["adult", "iris"]);

    let empty = tempfile::tempdir().expect("tempdir");
    let state =
        tabship_serve::AppState::new(None, tabship_serve::Options::default()).expect("state");
    let e = state
        .load_paths(&[empty.path().to_path_buf()])
        .expect_err("no artifacts");
    assert!(e.to_string().contains("no models to serve"), "{e}");
    assert!(!state.is_ready());

    let state =
        tabship_serve::AppState::new(None, tabship_serve::Options::default()).expect("state");
    let e = state
        .load_paths(&[
            golden("iris_logistic.tabship"),
            golden("iris_logistic.tabship"),
        ])
        .expect_err("duplicate");
    let message = e.to_string();
    assert!(
        message.contains("are both model `iris` version `golden`")
            && message.contains("iris_logistic.tabship")
            && message.contains("NAME=FILE")
            && message.contains("--name"),
        "{message}"
    );

    // NAME=FILE serves the same artifact under a second name.
    let state =
        tabship_serve::AppState::new(None, tabship_serve::Options::default()).expect("state");
    let renamed = format!("flowers={}", golden("iris_logistic.tabship").display());
    state
        .load_paths(&[golden("iris_logistic.tabship"), renamed.into()])
        .expect("two names");
    let names: Vec<String> = state.registry().models.keys().cloned().collect();
    assert_eq!(names, ["flowers", "iris"]);
}

#[tokio::test]
async fn a_model_added_in_process_serves_as_its_current_version() {
    // The embedding path: a Rust service hands the server a model it already has in memory.
    let state =
        tabship_serve::AppState::new(None, tabship_serve::Options::default()).expect("state");
    let bytes = std::fs::read(golden("iris_tree.tabship")).expect("artifact");
    let model =
        tabship_serve::registry::LoadedModel::from_bytes(&bytes, Some("flowers"), Some("9"))
            .expect("loads");
    state.add_model(model).expect("adds");
    state.set_ready();
    let app = tabship_serve::router(state);
    let a = post_json(&app, "/models/flowers/predict", &setosa()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(
        (a.json()["model"].clone(), a.json()["version"].clone()),
        (json!("flowers"), json!("9"))
    );
    assert_eq!(get(&app, "/health/ready").await.status, StatusCode::OK);
}

/// A regressor fed `1e308` computes an infinite value, which JSON cannot carry: it went out as
/// `null` with a 200 (found by schemathesis); it is refused, naming the row, on REST and V2.
#[tokio::test]
async fn an_overflowing_regression_is_refused_not_answered_null() {
    let app = app();
    let model = get(&app, "/models/diamonds").await.json();
    let fine = model["example"].clone();
    let mut huge = fine.clone();
    huge["carat"] = json!(1e308);
    huge["depth"] = json!(-1e308);
    let a = post_json(&app, "/models/diamonds/predict", &huge).await;
    let error = a.error(StatusCode::BAD_REQUEST, "prediction_overflow");
    assert_eq!(error["fields"][0]["field"], "prediction", "{error}");
    assert!(
        error["fields"][0].get("row").is_none(),
        "one record: no row"
    );
    let batch = json!({"instances": [fine, huge]});
    let a = post_json(&app, "/models/diamonds/predict", &batch).await;
    let error = a.error(StatusCode::BAD_REQUEST, "prediction_overflow");
    assert_eq!(error["fields"].as_array().map(Vec::len), Some(1), "{error}");
    assert_eq!(error["fields"][0]["row"], 2, "{error}");
    let mut inputs = Vec::new();
    for (name, value) in huge.as_object().expect("record") {
        let tensor = match value {
            Value::String(s) => {
                json!({"name": name, "datatype": "BYTES", "shape": [1], "data": [s]})
            }
            other => json!({"name": name, "datatype": "FP64", "shape": [1], "data": [other]}),
        };
        inputs.push(tensor);
    }
    let a = post_json(
        &app,
        "/v2/models/diamonds/infer",
        &json!({"inputs": inputs}),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.text());
    assert!(
        a.json()["error"]
            .as_str()
            .expect("v2 error")
            .contains("overflows")
    );
}

/// Models imported from XGBoost and LightGBM answer over HTTP exactly what their libraries
/// predict (the golden expectations are the libraries' own `predict_proba`), to the last bit,
/// never-seen categories included.
#[tokio::test]
async fn imported_models_answer_their_librarys_probabilities_bit_for_bit() {
    for name in ["adult_xgboost", "adult_lightgbm"] {
        let state = AppState::new(None, Options::default()).expect("state");
        state
            .load_paths(&[golden(&format!("{name}.tabship"))])
            .expect("imported golden loads");
        let app = tabship_serve::router(state);
        let (header, rows) = read_csv(&format!("{name}.expected.csv"));
        let features = &header[..13];
        let instances: Vec<Value> = rows
            .iter()
            .map(|r| record(features, &r[..13], ADULT_NUMERIC))
            .collect();
        let a = post_json(&app, "/predict", &json!({ "instances": instances })).await;
        assert_eq!(a.status, StatusCode::OK, "{name}: {}", a.text());
        let body = a.json();
        for (i, row) in rows.iter().enumerate() {
            assert_eq!(body["predictions"][i], row[14].as_str(), "{name} row {i}");
            for (column, class) in [(15, "<=50K"), (16, ">50K")] {
                let expected: f64 = row[column].parse().expect("probability");
                let got = body["probabilities"][i][class]
                    .as_f64()
                    .expect("probability");
                assert_eq!(got.to_bits(), expected.to_bits(), "{name} row {i} {class}");
            }
        }
    }
}
