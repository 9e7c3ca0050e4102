//! Shared helpers: a router over the golden artifacts, requests, and the golden expectations.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tabship_serve::auth::{KeyStore, token_sha256};
use tabship_serve::{AppState, Options};
use tower::ServiceExt;

pub use tabship_test_support::{golden, golden_rows as read_csv, testdata, version_names};

/// Tokens of the test keys file: one per user.
pub const PREDICT_TOKEN: &str = "tsk_predict_only_token";
pub const ALL_TOKEN: &str = "tsk_all_scopes_token";

pub fn keys() -> KeyStore {
    let text = format!(
        "[[keys]]\nusername = \"pedro1\"\ntoken_sha256 = \"{}\"\nscopes = [\"predict\"]\n\n\
         [[keys]]\nusername = \"ops\"\ntoken_sha256 = \"{}\"\nscopes = [\"predict\", \"feedback\", \"admin\", \"metrics\"]\n",
        token_sha256(PREDICT_TOKEN),
        token_sha256(ALL_TOKEN)
    );
    KeyStore::parse(&text).expect("test keys parse")
}

/// A ready server with iris (default), adult and diamonds loaded.
pub fn state_with(keys: Option<KeyStore>, options: Options) -> Arc<AppState> {
    let state = AppState::new(keys, options).expect("state");
    state
        .load_paths(&[
            golden("iris_logistic.tabship"),
            golden("adult_logistic.tabship"),
            golden("diamonds_ridge.tabship"),
        ])
        .expect("golden artifacts load");
    state
}

pub fn app() -> Router {
    tabship_serve::router(state_with(None, Options::default()))
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Asserts the standard error shape and returns the error object.
    pub fn error(&self, status: StatusCode, code: &str) -> Value {
        assert_eq!(self.status, status, "{}", self.text());
        let body = self.json();
        let error = body["error"].clone();
        assert_eq!(error["code"], code, "{body}");
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(error["fields"].is_array());
        assert_eq!(
            self.headers["content-type"], "application/json",
            "errors are JSON"
        );
        error
    }
}

pub async fn send(
    app: &Router,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: impl Into<Body>,
) -> Answer {
    let mut request = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = app
        .clone()
        .oneshot(request.body(body.into()).expect("request builds"))
        .await
        .expect("the router is infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body reads")
        .to_bytes();
    Answer {
        status,
        headers,
        body,
    }
}

pub async fn get(app: &Router, uri: &str) -> Answer {
    send(app, Method::GET, uri, &[], Body::empty()).await
}

/// `GET uri` with `authorization` (a whole header value, see [`bearer`]).
pub async fn get_with_token(app: &Router, uri: &str, authorization: &str) -> Answer {
    send(
        app,
        Method::GET,
        uri,
        &[("authorization", authorization)],
        Body::empty(),
    )
    .await
}

pub async fn post_json(app: &Router, uri: &str, body: &Value) -> Answer {
    send(
        app,
        Method::POST,
        uri,
        &[("content-type", "application/json")],
        body.to_string(),
    )
    .await
}

pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// A JSON record of the first `n_features` columns of a CSV row (numbers as numbers).
pub fn record(header: &[String], row: &[String], numeric: &[&str]) -> Value {
    let mut map = serde_json::Map::new();
    for (name, value) in header.iter().zip(row) {
        let v = if numeric.contains(&name.as_str()) {
            value
                .parse::<f64>()
                .map_or(Value::String(value.clone()), Value::from)
        } else {
            Value::String(value.clone())
        };
        map.insert(name.clone(), v);
    }
    Value::Object(map)
}

pub const IRIS_NUMERIC: &[&str] = &["sepal_length", "sepal_width", "petal_length", "petal_width"];
pub const ADULT_NUMERIC: &[&str] = &[
    "age",
    "education_num",
    "capital_gain",
    "capital_loss",
    "hours_per_week",
];

pub fn setosa() -> Value {
    serde_json::json!({"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2})
}

/// `POST uri` with a JSON `body` and `authorization` (a whole header value, see [`bearer`]).
pub async fn post_json_as(
    app: &Router,
    uri: &str,
    authorization: &str,
    body: impl Into<Body>,
) -> Answer {
    send(
        app,
        Method::POST,
        uri,
        &[
            ("authorization", authorization),
            ("content-type", "application/json"),
        ],
        body,
    )
    .await
}

/// An admin call with a JSON body, authorised by the all-scopes key.
pub async fn admin_json(app: &Router, method: Method, uri: &str, body: Value) -> Answer {
    let auth = bearer(ALL_TOKEN);
    send(
        app,
        method,
        uri,
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        body.to_string(),
    )
    .await
}

/// An [`admin_json`] call that must answer `status` (the body is shown otherwise); the answer.
pub async fn admin_expect(
    app: &Router,
    method: Method,
    uri: &str,
    body: Value,
    status: StatusCode,
) -> Answer {
    let a = admin_json(app, method, uri, body).await;
    assert_eq!(a.status, status, "{}", a.text());
    a
}

/// An artifact uploaded as raw bytes, authorised by the all-scopes key.
pub async fn admin_upload(app: &Router, uri: &str, bytes: Vec<u8>) -> Answer {
    let auth = bearer(ALL_TOKEN);
    send(
        app,
        Method::POST,
        uri,
        &[
            ("authorization", &auth),
            ("content-type", "application/octet-stream"),
        ],
        bytes,
    )
    .await
}

/// A server with the keys of [`keys`] and default options.
pub fn secured() -> Router {
    tabship_serve::router(state_with(Some(keys()), Options::default()))
}

/// A [`secured`] server with the tree model loaded as version `b` of `iris`, not activated.
pub async fn with_version_b() -> Router {
    let app = secured();
    upload_version_b(&app).await;
    app
}

/// Uploads the tree model as version `b` of `iris`, not activated.
pub async fn upload_version_b(app: &Router) {
    let tree = std::fs::read(golden("iris_tree.tabship")).expect("artifact");
    let a = admin_upload(
        app,
        "/admin/models/iris/versions?version=b&activate=false",
        tree,
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
}

/// `n` answers of `POST path` with `body` (all scopes), under routing keys `prefix-0..n`.
pub async fn routed_predictions(
    app: &Router,
    path: &str,
    body: &Value,
    prefix: &str,
    n: usize,
) -> Vec<Value> {
    let auth = bearer(ALL_TOKEN);
    let mut out = Vec::new();
    for i in 0..n {
        let key = format!("{prefix}-{i}");
        let headers = [
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
            (tabship_serve::ROUTING_KEY_HEADER, key.as_str()),
        ];
        let a = send(app, Method::POST, path, &headers, body.to_string()).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text());
        out.push(a.json());
    }
    out
}

/// Splits iris' traffic 50/50 between `golden` and `b`.
pub async fn split_golden_and_b(app: &Router) {
    let a = admin_json(
        app,
        Method::PUT,
        "/admin/models/iris/split",
        serde_json::json!({"versions": {"golden": 50, "b": 50}}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
}

/// Makes `b` iris' shadow.
pub async fn shadow_b(app: &Router) {
    let a = admin_json(
        app,
        Method::PUT,
        "/admin/models/iris/shadow",
        serde_json::json!({"version": "b"}),
    )
    .await;
    assert_eq!(a.json()["shadow"], "b");
}

/// Whether `/metrics` comes to count `n` predictions of the shadow `b` of iris (the shadow runs
/// after the answer, so this polls, for at most about a second).
pub async fn shadow_b_scored(app: &Router, n: usize) -> bool {
    let auth = bearer(ALL_TOKEN);
    let line = format!("tabship_shadow_predictions_total{{model=\"iris\",version=\"b\"}} {n}");
    for _ in 0..100 {
        let text = send(
            app,
            Method::GET,
            "/metrics",
            &[("authorization", &auth)],
            axum::body::Body::empty(),
        )
        .await
        .text();
        if text.contains(&line) {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    false
}

/// A V2 infer request for one iris row: one FP64 input of shape `[1]` per column.
pub fn iris_infer_row(row: [f64; 4]) -> Value {
    let names = ["sepal_length", "sepal_width", "petal_length", "petal_width"];
    let inputs: Vec<Value> = names
        .iter()
        .zip(row)
        .map(|(n, x)| serde_json::json!({"name": n, "datatype": "FP64", "shape": [1], "data": [x]}))
        .collect();
    serde_json::json!({ "inputs": inputs })
}

/// A keyless server over the golden artifacts whose prediction log is written to `path`, and its
/// state (to flush the log).
pub fn with_prediction_log(path: &std::path::Path) -> (Arc<AppState>, Router) {
    let state = state_with(
        None,
        Options {
            prediction_log: Some(tabship_serve::LogConfig::new(path)),
            ..Options::default()
        },
    );
    (state.clone(), tabship_serve::router(state))
}
