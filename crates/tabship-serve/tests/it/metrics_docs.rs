//! `/metrics`, `/openapi.json`, `/docs` and `/ui`.

use serde_json::{Value, json};

use crate::common::*;

#[tokio::test]
async fn metrics_count_requests_classes_and_unknowns() {
    let app = app();
    post_json(&app, "/predict", &setosa()).await;
    post_json(&app, "/predict", &json!({"x": 1})).await;
    let model = get(&app, "/models/adult").await.json();
    let mut record = model["example"].clone();
    record["workclass"] = json!("Space-force");
    record["occupation"] = Value::Null;
    post_json(&app, "/models/adult/predict", &record).await;
    let text = get(&app, "/metrics").await.text();
    for expected in [
        "tabship_http_requests_total{route=\"/predict\",method=\"POST\",status=\"200\"} 1",
        "tabship_http_requests_total{route=\"/predict\",method=\"POST\",status=\"400\"} 1",
        "tabship_http_request_duration_seconds_count{route=\"/predict\"} 2",
        "tabship_http_requests_in_flight 1",
        "tabship_predictions_total{model=\"iris\",version=\"golden\",class=\"setosa\"} 1",
        "tabship_unknown_values_total{model=\"adult\",version=\"golden\",column=\"workclass\"} 1",
        "tabship_missing_values_total{model=\"adult\",version=\"golden\",column=\"occupation\"} 1",
        "tabship_model_load_seconds{model=\"iris\",version=\"golden\"}",
        "tabship_build_info{version=\"",
        "# EOF",
    ] {
        assert!(text.contains(expected), "missing `{expected}` in\n{text}");
    }
}

#[tokio::test]
async fn openapi_comes_from_the_real_schemas() {
    let app = app();
    let doc = get(&app, "/openapi.json").await.json();
    assert_eq!(doc["openapi"], "3.0.3");
    let record = &doc["components"]["schemas"]["adult.record"];
    assert_eq!(record["properties"]["age"]["type"], "number");
    let enumerated = record["properties"]["workclass"]["anyOf"][0]["enum"]
        .as_array()
        .expect("enum");
    assert!(enumerated.iter().any(|c| c == "Private"));
    assert_eq!(record["required"].as_array().expect("required").len(), 13);
    let op = &doc["paths"]["/models/adult/predict"]["post"];
    let example = &op["requestBody"]["content"]["application/json"]["example"];
    assert!(example["age"].is_number() && example["workclass"].is_string());
    for path in [
        "/predict",
        "/models/iris/predict",
        "/models/{name}",
        "/feedback",
        "/metrics",
        "/admin/models/{name}/split",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path}");
    }
    // The example predicts.
    assert_eq!(
        post_json(&app, "/models/adult/predict", example)
            .await
            .status,
        axum::http::StatusCode::OK
    );
}

#[tokio::test]
async fn pages_are_self_contained() {
    let app = app();
    for uri in ["/docs", "/ui", "/ui/adult"] {
        let a = get(&app, uri).await;
        assert_eq!(a.status, axum::http::StatusCode::OK);
        assert!(
            a.headers["content-type"]
                .to_str()
                .expect("ascii")
                .starts_with("text/html")
        );
        assert!(
            a.headers["content-security-policy"]
                .to_str()
                .expect("ascii")
                .contains("default-src 'self'")
        );
        let html = a.text();
        assert!(
            !html.contains("src=\"http") && !html.contains("href=\"http"),
            "{uri} loads nothing from elsewhere"
        );
    }
    let ui = get(&app, "/ui/adult").await.text();
    assert!(
        ui.contains("<select id=\"f1\" data-column=\"workclass\""),
        "category drop-down"
    );
    assert!(
        ui.contains("<option value=\"__other__\">other…</option>"),
        "free-text other"
    );
    assert!(
        ui.contains("type=\"number\" step=\"any\" id=\"f0\" data-column=\"age\""),
        "number input"
    );
    assert!(ui.contains("/predict"));
    get(&app, "/ui/nope")
        .await
        .error(axum::http::StatusCode::NOT_FOUND, "model_not_found");
}
