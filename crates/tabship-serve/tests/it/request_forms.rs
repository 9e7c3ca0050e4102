//! Request forms beyond a record, `instances` and `features`: a top-level list of records (pandas
//! `to_json(orient="records")`), absent fields read as missing (per model or per request), and the
//! values that went to an Unknown slot named in the answer.

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use tabship_serve::{AbsentAsMissing, Options};

use crate::common::*;

fn adult_record() -> Value {
    let (header, rows) = read_csv("adult_logistic.expected.csv");
    record(&header[..13], &rows[0][..13], ADULT_NUMERIC)
}

#[tokio::test]
async fn a_top_level_list_of_records_is_a_batch() {
    let app = app();
    let body = json!([setosa(), {"sepal_length": 6.7, "sepal_width": 3.0, "petal_length": 5.2, "petal_width": 2.3}]);
    let a = post_json(&app, "/predict", &body).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let answer = a.json();
    assert_eq!(answer["predictions"], json!(["setosa", "virginica"]));
    assert_eq!(answer["probabilities"].as_array().expect("list").len(), 2);
    // Errors in such a list name the row, counted from 1.
    let a = post_json(&app, "/predict", &json!([setosa(), {"sepal_length": 1}])).await;
    let e = a.error(StatusCode::BAD_REQUEST, "invalid_input");
    assert_eq!(e["fields"][0]["row"], 2);
    post_json(&app, "/predict", &json!([1, 2]))
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_input");
}

#[tokio::test]
async fn absent_fields_are_missing_when_the_request_asks() {
    let app = app();
    let partial = json!({"sepal_length": 5.1, "petal_length": 1.4});
    // By default an absent field is a 400 naming it.
    let e = post_json(&app, "/predict", &partial)
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_input");
    assert_eq!(e["fields"][0]["field"], "sepal_width");
    let a = post_json(&app, "/predict?absent_as_missing=true", &partial).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    // Absent equals null: the same prediction and probabilities.
    let nulls =
        json!({"sepal_length": 5.1, "sepal_width": null, "petal_length": 1.4, "petal_width": null});
    let b = post_json(&app, "/predict", &nulls).await;
    assert_eq!(a.json()["probabilities"], b.json()["probabilities"]);
    let a = send(
        &app,
        Method::POST,
        "/models/iris/predict",
        &[
            ("content-type", "application/json"),
            ("x-absent-as-missing", "true"),
        ],
        json!({"instances": [partial]}).to_string(),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    // A mistyped value is still refused, and so is a bad switch.
    post_json(
        &app,
        "/predict?absent_as_missing=true",
        &json!({"sepal_length": "long"}),
    )
    .await
    .error(StatusCode::BAD_REQUEST, "invalid_input");
    let e = post_json(&app, "/predict?absent_as_missing=perhaps", &partial)
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_input");
    assert_eq!(e["fields"][0]["field"], "absent_as_missing");
}

#[tokio::test]
async fn absent_fields_are_missing_for_the_models_the_server_names() {
    let options = Options {
        absent_as_missing: AbsentAsMissing::Models(BTreeSet::from(["iris".to_owned()])),
        ..Options::default()
    };
    let app = tabship_serve::router(state_with(None, options));
    let a = post_json(&app, "/predict", &json!({"petal_length": 1.4})).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    // Only for those models, and a request may still opt out.
    post_json(&app, "/models/diamonds/predict", &json!({"carat": 0.3}))
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_input");
    post_json(
        &app,
        "/predict?absent_as_missing=false",
        &json!({"petal_length": 1.4}),
    )
    .await
    .error(StatusCode::BAD_REQUEST, "invalid_input");
}

#[tokio::test]
async fn values_sent_to_the_unknown_slot_are_named() {
    let app = app();
    let mut known = adult_record();
    // The golden row's own `Atlantis` is unknown: give it a country seen in training.
    assert_eq!(known["native_country"], "Atlantis");
    known["native_country"] = json!("United-States");
    let a = post_json(&app, "/models/adult/predict", &known).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert!(a.json().get("unknown").is_none(), "{}", a.text());
    let mut galactic = known.clone();
    galactic["workclass"] = json!("Galactic-gov");
    galactic["native_country"] = json!(42);
    let a = post_json(&app, "/models/adult/predict", &galactic).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(
        a.json()["unknown"],
        json!({"workclass": "Galactic-gov", "native_country": 42})
    );
    // In a batch, one entry per row, `{}` for the rows without any.
    let a = post_json(
        &app,
        "/models/adult/predict",
        &json!({"instances": [known, galactic]}),
    )
    .await;
    assert_eq!(
        a.json()["unknown"],
        json!([{}, {"workclass": "Galactic-gov", "native_country": 42}])
    );
}
