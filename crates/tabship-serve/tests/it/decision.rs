//! A stored decision threshold and target transform (format 1.3) decide what the server answers,
//! on `/predict` and on V2 `infer`: the server scores through the pipeline, not the bare model.

use axum::http::StatusCode;
use serde_json::{Value, json};
use tabship::{ClassLabel, DecisionThreshold, Pipeline, TargetTransform};
use tabship_serve::{AppState, Options};

use crate::common::*;

/// A golden adult row whose probability of `>50K` is 0.405.
fn adult_row() -> Value {
    json!({"age": 28, "workclass": "Private", "education": "Bachelors", "education_num": 13,
        "marital_status": "Married-civ-spouse", "occupation": "Prof-specialty",
        "relationship": "Wife", "race": "Black", "gender": "Female", "capital_gain": 0,
        "capital_loss": 0, "hours_per_week": 40, "native_country": "Atlantis"})
}

fn served(pipeline: &Pipeline, dir: &std::path::Path) -> axum::Router {
    let path = dir.join("m.tabship");
    pipeline.save(&path).expect("saves");
    let state = AppState::new(None, Options::default()).expect("state");
    state.load_paths(&[path]).expect("loads");
    tabship_serve::router(state)
}

#[tokio::test]
async fn predict_and_infer_apply_the_stored_threshold() {
    let dir = tempfile::tempdir().expect("temp dir");
    let plain = Pipeline::load(golden("adult_logistic.tabship")).expect("golden");
    let mut parts = plain.to_parts();
    parts.decision_threshold = Some(DecisionThreshold {
        positive_class: ClassLabel::Text(">50K".into()),
        threshold: 0.3,
    });
    let app = served(&Pipeline::from_parts(parts).expect("valid"), dir.path());
    let body = post_json(&app, "/predict", &adult_row()).await.json();
    assert_eq!(body["prediction"], ">50K", "{body}");
    let p = body["probabilities"][">50K"].as_f64().expect("probability");
    assert!((0.3..0.5).contains(&p), "probabilities unchanged: {p}");
    let inputs: Vec<Value> = adult_row()
        .as_object()
        .expect("object")
        .iter()
        .map(|(name, value)| {
            let datatype = if value.is_number() { "FP64" } else { "BYTES" };
            json!({"name": name, "datatype": datatype, "shape": [1], "data": [value]})
        })
        .collect();
    let a = post_json(&app, "/v2/models/adult/infer", &json!({"inputs": inputs})).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.json()["outputs"][0]["data"], json!([">50K"]));
}

#[tokio::test]
async fn predict_applies_the_target_transform() {
    let dir = tempfile::tempdir().expect("temp dir");
    let plain = Pipeline::load(golden("diamonds_ridge.tabship")).expect("golden");
    let mut parts = plain.to_parts();
    parts.target_transform = Some(TargetTransform::Log1p);
    let app = served(&Pipeline::from_parts(parts).expect("valid"), dir.path());
    let row = json!({"carat": 0.3, "cut": "Ideal", "color": "E", "clarity": "SI1", "depth": 62.1,
        "table": 56.0, "x": 4.3, "y": 4.33, "z": 2.68});
    let plain_app = served(&plain, tempfile::tempdir().expect("temp dir").path());
    let raw = post_json(&plain_app, "/predict", &row).await.json()["prediction"]
        .as_f64()
        .expect("value");
    let body = post_json(&app, "/predict", &row).await.json();
    assert_eq!(body["prediction"].as_f64(), Some(raw.exp_m1()), "{body}");
}
