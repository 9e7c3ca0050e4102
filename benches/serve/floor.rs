//! The floor of `benches/serve/run.sh`: a bare axum server that does what any JSON predict
//! endpoint must do and nothing more. `POST /predict` reads the body, parses it as JSON, checks it
//! is one record (an object) and answers a small JSON object shaped like tabship's single-row
//! answer. No model, routing table, auth, metrics or drift window: tabship's req/s over this
//! server's, in the same run, is the share of the HTTP+JSON ceiling tabship reaches.
//!
//! Usage: `serve-floor [PORT]` (default 8901); listens on 127.0.0.1 only, with tokio's default
//! worker threads (one per core, as `tabship serve`).

use axum::Router;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// Parses the record and answers a fixed prediction; 400 when the body is not a JSON object.
async fn predict(body: Bytes) -> Response {
    match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(record)) => Json(json!({
            "prediction": "setosa",
            "probabilities": {"setosa": 0.98, "versicolor": 0.02, "virginica": 0.0},
            "fields": record.len(),
        }))
        .into_response(),
        Ok(_) | Err(_) => (StatusCode::BAD_REQUEST, "expected one JSON record").into_response(),
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = match std::env::args().nth(1) {
        Some(arg) => arg
            .parse()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?,
        None => 8901,
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("serve-floor listening on {}", listener.local_addr()?);
    axum::serve(listener, Router::new().route("/predict", post(predict))).await
}
