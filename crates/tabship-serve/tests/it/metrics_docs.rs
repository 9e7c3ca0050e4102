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
async fn openapi_describes_lists_of_records_absent_fields_unknown_values_and_force() {
    let app = app();
    let doc = get(&app, "/openapi.json").await.json();
    let op = &doc["paths"]["/models/adult/predict"]["post"];
    let shapes = &op["requestBody"]["content"]["application/json"]["schema"]["oneOf"];
    assert!(
        shapes
            .as_array()
            .expect("oneOf")
            .iter()
            .any(|s| s["type"] == "array"
                && s["items"]["$ref"] == "#/components/schemas/adult.record"),
        "{shapes}"
    );
    let params: Vec<&str> = op["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .map(|p| p["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        params,
        ["absent_as_missing", "X-Absent-As-Missing", "X-Routing-Key"]
    );
    let answer = &op["responses"]["200"]["content"]["application/json"]["schema"];
    assert!(answer["properties"]["unknown"].is_object());
    let error = &doc["components"]["schemas"]["Error"]["properties"]["error"];
    assert_eq!(
        error["properties"]["fields"]["items"]["properties"]["row"]["minimum"],
        1
    );
    let load = &doc["paths"]["/admin/models/{name}/versions"]["post"];
    for form in ["application/json", "multipart/form-data"] {
        let props = &load["requestBody"]["content"][form]["schema"]["properties"];
        assert_eq!(props["force"]["type"], "boolean", "{form}: {load}");
    }
    assert!(
        load["parameters"]
            .as_array()
            .expect("params")
            .iter()
            .any(|p| p["name"] == "force")
    );
    // A model read with --absent-as-missing requires no field.
    let options = tabship_serve::Options {
        absent_as_missing: tabship_serve::AbsentAsMissing::All,
        ..tabship_serve::Options::default()
    };
    let app = tabship_serve::router(state_with(None, options));
    let doc = get(&app, "/openapi.json").await.json();
    assert_eq!(
        doc["components"]["schemas"]["adult.record"]["required"],
        serde_json::json!([])
    );
}

#[tokio::test]
async fn the_form_of_a_lone_model_has_no_other_models_label() {
    let state =
        tabship_serve::AppState::new(None, tabship_serve::Options::default()).expect("state");
    state
        .load_paths(&[golden("iris_logistic.tabship")])
        .expect("iris");
    let app = tabship_serve::router(state);
    let ui = get(&app, "/ui").await.text();
    assert!(!ui.contains("Other models"), "no empty `Other models: ·`");
    assert!(ui.contains("Fill in the fields and press Predict. <a href=\"/docs\">API docs</a>"));
}

#[tokio::test]
async fn a_real_category_named_other_is_an_ordinary_option() {
    // An adult artifact whose `workclass` has a training category `other`.
    let mut parts = tabship::Pipeline::load(golden("adult_logistic.tabship"))
        .expect("adult")
        .to_parts();
    let at = parts.schema.position("workclass").expect("workclass");
    let tabship::encode::ColumnEncoderSpec::Categorical(spec) = &mut parts.encoders[at] else {
        panic!("workclass is categorical");
    };
    let renamed = spec.categories.len() - 1;
    spec.categories[renamed] = "other".to_owned();
    spec.categories.sort();
    parts.drift_profile = None;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("adult_other.tabship");
    tabship::Pipeline::from_parts(parts)
        .expect("pipeline")
        .save(&path)
        .expect("save");
    let state =
        tabship_serve::AppState::new(None, tabship_serve::Options::default()).expect("state");
    state.load_paths(&[path]).expect("load");
    let ui = get(&tabship_serve::router(state), "/ui").await.text();
    assert!(
        ui.contains("<option value=\"other\">other</option>"),
        "the category"
    );
    assert_eq!(
        ui.matches("data-free-text>type another value…").count(),
        8,
        "one per categorical column"
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
        ui.contains("<option value=\"\" data-free-text>type another value…</option>"),
        "free-text entry, told apart by an attribute, not a value"
    );
    assert!(
        !ui.contains("__other__") && !ui.contains(">other…<"),
        "no ambiguous `other…`"
    );
    assert!(ui.contains("id=\"f0-error\""), "a place for `not a number`");
    assert!(ui.contains(
        "Other models: <a href=\"/ui/diamonds\">diamonds</a> <a href=\"/ui/iris\">iris</a> ·"
    ));
    assert!(
        ui.contains("type=\"text\" inputmode=\"decimal\" id=\"f0\" data-column=\"age\""),
        "number input"
    );
    assert!(ui.contains("/predict"));
    get(&app, "/ui/nope")
        .await
        .error(axum::http::StatusCode::NOT_FOUND, "model_not_found");
}

/// The pages built from the registry are cached until the registry changes: a second request
/// gets the same bytes (and the same CSP), and a model loaded through the admin API shows up in
/// the document and the forms at once.
#[tokio::test]
async fn pages_are_cached_until_the_registry_changes() {
    let app = tabship_serve::router(state_with(Some(keys()), tabship_serve::Options::default()));
    let pages = ["/openapi.json", "/ui", "/ui/adult", "/docs"];
    let mut first = Vec::new();
    for uri in pages {
        let a = get(&app, uri).await;
        assert_eq!(a.status, axum::http::StatusCode::OK, "{uri}");
        first.push(a);
    }
    for (uri, before) in pages.iter().zip(&first) {
        let again = get(&app, uri).await;
        assert_eq!(again.body, before.body, "{uri}: the same bytes");
        for name in ["content-type", "content-security-policy"] {
            assert_eq!(
                again.headers.get(name),
                before.headers.get(name),
                "{uri}: {name}"
            );
        }
    }
    assert!(!first[0].text().contains("iris2"));
    let loaded = admin_upload(
        &app,
        "/admin/models/iris2/versions",
        std::fs::read(golden("iris_logistic.tabship")).expect("iris"),
    )
    .await;
    assert_eq!(
        loaded.status,
        axum::http::StatusCode::CREATED,
        "{}",
        loaded.text()
    );
    let doc = get(&app, "/openapi.json").await.json();
    assert!(
        doc["paths"].get("/models/iris2/predict").is_some(),
        "the new model is documented"
    );
    assert!(
        get(&app, "/ui/adult")
            .await
            .text()
            .contains("<a href=\"/ui/iris2\">iris2</a>"),
        "the form links the new model"
    );
}

#[tokio::test]
async fn protected_docs_need_the_predict_scope() {
    let options = tabship_serve::Options {
        protect_docs: true,
        ..tabship_serve::Options::default()
    };
    let app = tabship_serve::router(state_with(Some(keys()), options));
    let predict = bearer(PREDICT_TOKEN);
    for uri in ["/openapi.json", "/docs", "/ui", "/ui/adult"] {
        get(&app, uri)
            .await
            .error(axum::http::StatusCode::UNAUTHORIZED, "unauthorized");
        let a = get_with_token(&app, uri, &predict).await;
        assert_eq!(a.status, axum::http::StatusCode::OK, "{uri}");
    }
    // The health probes stay open.
    assert_eq!(
        get(&app, "/health/ready").await.status,
        axum::http::StatusCode::OK
    );
    // Without keys there is nothing to protect them with.
    let open = tabship_serve::router(state_with(
        None,
        tabship_serve::Options {
            protect_docs: true,
            ..tabship_serve::Options::default()
        },
    ));
    assert_eq!(
        get(&open, "/openapi.json").await.status,
        axum::http::StatusCode::OK
    );
}
