//! `POST /graphql`: the schema built from the models, predictions equal to `/predict` through
//! the data plane, errors with their paths, scopes, and the depth limit.

use axum::Router;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use tabship_serve::Options;

use crate::common::*;

async fn gql(app: &Router, auth: Option<&str>, query: &str, variables: Value) -> Answer {
    let body = json!({"query": query, "variables": variables}).to_string();
    match auth {
        Some(token) => post_json_as(app, "/graphql", &bearer(token), body).await,
        None => {
            post_json(
                app,
                "/graphql",
                &json!({"query": query, "variables": variables}),
            )
            .await
        }
    }
}

/// The golden adult rows as `/predict` records (the label column dropped, an empty number
/// as `null`: missing).
fn adult_rows(n: usize) -> Vec<Value> {
    let (header, rows) = read_csv("adult_inputs.csv");
    rows.iter()
        .take(n)
        .map(|row| {
            let mut r = record(&header, row, ADULT_NUMERIC);
            let r_map = r.as_object_mut().expect("object");
            r_map.remove("income");
            for column in ADULT_NUMERIC {
                if r_map[*column] == "" {
                    r_map[*column] = Value::Null;
                }
            }
            r
        })
        .collect()
}

fn without_request_id(mut answer: Value) -> Value {
    answer.as_object_mut().expect("object").remove("request_id");
    answer
}

const PREDICT: &str = "query($v: AdultInput!) { predict(model: \"adult\", input: {adult: $v}) }";

fn error(answer: &Answer) -> Value {
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let body = answer.json();
    assert!(body["errors"].is_array(), "{body}");
    body["errors"][0].clone()
}

#[tokio::test]
async fn predictions_equal_predict_on_the_golden_adult_rows() {
    let app = app();
    let rows = adult_rows(20);
    for row in &rows {
        let rest = post_json(&app, "/models/adult/predict", row).await;
        assert_eq!(rest.status, StatusCode::OK, "{}", rest.text());
        let a = gql(&app, None, PREDICT, json!({"v": row})).await;
        let body = a.json();
        assert!(body.get("errors").is_none(), "{body}");
        let answer = body["data"]["predict"].clone();
        // Through the data plane: the answer carries the HTTP request's id.
        assert_eq!(
            answer["request_id"],
            a.headers["x-request-id"].to_str().unwrap()
        );
        assert_eq!(without_request_id(answer), without_request_id(rest.json()));
    }
    let batch = "query($v: [PredictInput!]!) { predictBatch(model: \"adult\", inputs: $v) }";
    let inputs: Vec<Value> = rows.iter().map(|r| json!({"adult": r})).collect();
    let a = gql(&app, None, batch, json!({"v": inputs})).await.json();
    let rest = post_json(&app, "/models/adult/predict", &json!({"instances": rows})).await;
    assert_eq!(
        without_request_id(a["data"]["predictBatch"].clone()),
        without_request_id(rest.json())
    );
}

#[tokio::test]
async fn a_graphql_prediction_takes_feedback_and_is_counted() {
    let app = app();
    let q = "{ predict(model: \"iris\", input: {iris: {sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2}}) }";
    let before = get(&app, "/metrics").await.text();
    let answer = gql(&app, None, q, json!({})).await.json();
    let id = answer["data"]["predict"]["request_id"].clone();
    let after = get(&app, "/metrics").await.text();
    let count = |text: &str| {
        text.lines()
            .find(|l| {
                l.starts_with("tabship_predictions_total{model=\"iris\"") && l.contains("setosa")
            })
            .and_then(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    assert_eq!(count(&after), count(&before) + 1.0, "{answer}");
    let fb = post_json(
        &app,
        "/feedback",
        &json!({"request_id": id, "label": "setosa"}),
    )
    .await;
    assert_eq!(fb.status, StatusCode::OK, "{}", fb.text());
    // Two predictions in one request get two ids.
    let two = format!("{{ a: {} b: {} }}", &q[2..q.len() - 2], &q[2..q.len() - 2]);
    let body = gql(&app, None, &two, json!({})).await.json();
    assert_ne!(
        body["data"]["a"]["request_id"], body["data"]["b"]["request_id"],
        "{body}"
    );
}

#[tokio::test]
async fn models_and_model_describe_the_registry() {
    let app = app();
    let body = gql(&app, None, "{ models { name currentVersion versions } model(name: \"adult\") { name schema metrics } }", json!({})).await.json();
    let names: Vec<&str> = body["data"]["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["adult", "diamonds", "iris"], "{body}");
    let rest = get(&app, "/models/adult").await.json();
    assert_eq!(body["data"]["model"]["schema"], rest["schema"]);
    assert_eq!(
        body["data"]["model"]["metrics"],
        rest["versions"][0]["metrics"]
    );
    let e = error(&gql(&app, None, "{ model(name: \"nope\") { name } }", json!({})).await);
    assert_eq!(e["extensions"]["code"], "model_not_found", "{e}");
    assert_eq!(e["path"], json!(["model"]));
}

#[tokio::test]
async fn the_adult_input_is_typed_from_the_schema() {
    let app = app();
    let body = gql(&app, None, "{ __type(name: \"AdultInput\") { inputFields { name description type { kind name ofType { name } } } } }", json!({})).await.json();
    let fields = body["data"]["__type"]["inputFields"]
        .as_array()
        .unwrap()
        .clone();
    let rest = get(&app, "/models/adult").await.json();
    let columns = rest["schema"]["columns"].as_array().unwrap();
    assert_eq!(fields.len(), columns.len());
    for (field, column) in fields.iter().zip(columns) {
        assert_eq!(field["name"], column["name"]);
        // Every field is nullable: `null` is a missing value, as on `/predict`.
        let scalar = &field["type"]["name"];
        let expected = if column["kind"] == "numeric" {
            "Float"
        } else {
            "String"
        };
        assert_eq!(scalar, expected, "{field}");
        for category in column["categories"].as_array().into_iter().flatten() {
            assert!(
                field["description"]
                    .as_str()
                    .unwrap()
                    .contains(category.as_str().unwrap()),
                "{field}"
            );
        }
    }
}

#[tokio::test]
async fn invalid_inputs_name_the_field_path() {
    let app = app();
    let mut wrong = adult_rows(1)[0].clone();
    wrong["age"] = json!("forty");
    let e = error(&gql(&app, None, PREDICT, json!({"v": wrong})).await);
    assert_eq!(e["extensions"]["code"], "invalid_input", "{e}");
    assert_eq!(
        e["extensions"]["fields"][0]["path"],
        json!(["input", "adult", "age"]),
        "{e}"
    );
    assert_eq!(e["extensions"]["fields"][0]["expected"], "Float", "{e}");
    let mut missing = adult_rows(1)[0].clone();
    missing.as_object_mut().unwrap().remove("hours_per_week");
    let e = error(&gql(&app, None, PREDICT, json!({"v": missing})).await);
    // Refused by the data plane as on `/predict`, with the field's path in the input.
    assert_eq!(e["path"], json!(["predict"]), "{e}");
    assert_eq!(e["extensions"]["code"], "invalid_input", "{e}");
    assert_eq!(
        e["extensions"]["fields"][0]["path"],
        json!(["input", "adult", "hours_per_week"]),
        "{e}"
    );
    let rest = post_json(&app, "/models/adult/predict", &missing)
        .await
        .json();
    assert_eq!(e["message"], rest["error"]["message"]);
    assert_eq!(
        e["extensions"]["fields"][0]["received"], rest["error"]["fields"][0]["received"],
        "{e}"
    );
    // An input of another model than the one named.
    let q = "{ predict(model: \"adult\", input: {iris: {sepal_length: 1, sepal_width: 1, petal_length: 1, petal_width: 1}}) }";
    let e = error(&gql(&app, None, q, json!({})).await);
    assert_eq!(e["extensions"]["code"], "invalid_input", "{e}");
    assert_eq!(e["path"], json!(["predict"]));
    // An unknown model and an unknown version, from the data plane.
    let q = "{ predict(model: \"iris\", version: \"9\", input: {iris: {sepal_length: 1, sepal_width: 1, petal_length: 1, petal_width: 1}}) }";
    let e = error(&gql(&app, None, q, json!({})).await);
    assert_eq!(e["extensions"]["code"], "version_not_found", "{e}");
    let e = error(&gql(&app, None, "{ drift(model: \"nope\") }", json!({})).await);
    assert_eq!(e["extensions"]["code"], "model_not_found", "{e}");
    // Not a GraphQL request at all.
    let a = post_json(&app, "/graphql", &json!([1])).await;
    a.error(StatusCode::BAD_REQUEST, "invalid_graphql_request");
}

#[tokio::test]
async fn scopes_are_those_of_rest() {
    let app = tabship_serve::router(state_with(Some(keys()), Options::default()));
    let q = "{ models { name } }";
    let a = post_json(&app, "/graphql", &json!({"query": q})).await;
    a.error(StatusCode::UNAUTHORIZED, "unauthorized");
    let a = gql(&app, Some(PREDICT_TOKEN), q, json!({})).await;
    assert!(a.json()["errors"].is_null(), "{}", a.text());
    // `drift` needs `metrics`, as `/models/{name}/drift`.
    let e = error(
        &gql(
            &app,
            Some(PREDICT_TOKEN),
            "{ drift(model: \"iris\") }",
            json!({}),
        )
        .await,
    );
    assert_eq!(e["extensions"]["code"], "forbidden", "{e}");
    assert_eq!(e["extensions"]["status"], 403, "{e}");
    // A model with a drift profile: the same answer as REST.
    let path = golden("adult_logistic_profile.tabship");
    let auth = bearer(ALL_TOKEN);
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    let body = json!({"path": path, "version": "p"}).to_string();
    let a = send(
        &app,
        Method::POST,
        "/admin/models/adultp/versions",
        &headers,
        body,
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
    let a = gql(
        &app,
        Some(ALL_TOKEN),
        "{ drift(model: \"adultp\") }",
        json!({}),
    )
    .await;
    let rest = get_with_token(&app, "/models/adultp/drift", &auth).await;
    assert_eq!(rest.status, StatusCode::OK, "{}", rest.text());
    assert_eq!(a.json()["data"]["drift"], rest.json(), "{}", a.text());
    // Without a profile: the REST error's code.
    let q = "{ drift(model: \"adult\") }";
    let e = error(&gql(&app, Some(ALL_TOKEN), q, json!({})).await);
    assert_eq!(e["extensions"]["code"], "no_drift_profile", "{e}");
}

#[tokio::test]
async fn deep_and_complex_queries_are_refused() {
    let app = app();
    let mut q = String::from("name");
    for _ in 0..10 {
        q = format!("fields {{ type {{ {q} }} }}");
    }
    let e = error(
        &gql(
            &app,
            None,
            &format!("{{ __schema {{ types {{ {q} }} }} }}"),
            json!({}),
        )
        .await,
    );
    assert_eq!(e["extensions"]["code"], "query_too_deep", "{e}");
    let many: String = (0..2100)
        .map(|i| format!("m{i}: models {{ name }} "))
        .collect();
    let e = error(&gql(&app, None, &format!("{{ {many} }}"), json!({})).await);
    assert_eq!(e["extensions"]["code"], "query_too_complex", "{e}");
}

#[tokio::test]
async fn the_schema_follows_the_registry() {
    let app = app();
    let q = "{ __type(name: \"FlowersInput\") { name } }";
    assert_eq!(
        gql(&app, None, q, json!({})).await.json()["data"]["__type"],
        Value::Null
    );
    let path = golden("iris_tree.tabship");
    let a = admin_json(
        &app,
        Method::POST,
        "/admin/models/flowers/versions",
        json!({"path": path, "version": "1"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
    assert_eq!(
        gql(&app, None, q, json!({})).await.json()["data"]["__type"]["name"],
        "FlowersInput"
    );
    let q = "{ predict(model: \"flowers\", input: {flowers: {sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2}}) }";
    assert_eq!(
        gql(&app, None, q, json!({})).await.json()["data"]["predict"]["version"],
        "1"
    );
}

#[tokio::test]
async fn the_page_is_served() {
    let a = get(&app(), "/graphql").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.text().contains("POST /graphql"));
    assert!(
        a.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'sha256-")
    );
}

#[tokio::test]
async fn colliding_names_are_refused_clearly() {
    let app = app();
    let path = golden("iris_tree.tabship");
    for name in ["flower-x", "flower_x"] {
        let a = admin_json(
            &app,
            Method::POST,
            &format!("/admin/models/{name}/versions"),
            json!({"path": path, "version": "1"}),
        )
        .await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
    }
    // `flower-x` sorts first and takes `FlowerXInput`; `flower_x` is left out, and says why.
    let q = "{ predict(model: \"flower_x\", input: {flower_x: {sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2}}) }";
    let e = error(&gql(&app, None, q, json!({})).await);
    assert_eq!(e["extensions"]["code"], "name_collision", "{e}");
    let reason = e["message"].as_str().unwrap_or_default();
    assert!(
        reason.contains("`flower-x` and `flower_x`") && reason.contains("FlowerXInput"),
        "{e}"
    );
    let q = "{ predict(model: \"flower-x\", input: {flower_x: {sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2}}) }";
    let body = gql(&app, None, q, json!({})).await.json();
    assert_eq!(body["data"]["predict"]["model"], "flower-x", "{body}");
}
