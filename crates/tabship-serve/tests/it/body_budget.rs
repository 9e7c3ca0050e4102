//! The budget of request bodies in flight: past it a request is answered 503 `overloaded`
//! before its body is read, and capacity comes back when a request is answered.

use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{Method, Request, StatusCode};
use tower::ServiceExt;

use crate::common::*;

#[tokio::test]
async fn bodies_in_flight_past_the_budget_are_refused_unread() {
    let options = tabship_serve::Options {
        max_inflight_body_bytes: 1024 * 1024,
        ..tabship_serve::Options::default()
    };
    let app = tabship_serve::router(state_with(None, options));
    // A slow client: declares 900 KiB and sends its body only when the test says so.
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(1);
    let stream = futures_util::stream::unfold(receiver, |mut r| async move {
        r.recv().await.map(|item| (item, r))
    });
    let slow = Request::builder()
        .method(Method::POST)
        .uri("/predict")
        .header("content-type", "application/json")
        .header("content-length", 900 * 1024)
        .body(Body::from_stream(stream))
        .expect("request");
    let slow = tokio::spawn(app.clone().oneshot(slow));
    // Another body of 200 KiB does not fit beside it (wait until the slow one holds its part).
    let small = || {
        send(
            &app,
            Method::POST,
            "/predict",
            &[("content-type", "application/json")],
            vec![b' '; 200 * 1024],
        )
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let refused = loop {
        let a = small().await;
        if a.status == StatusCode::SERVICE_UNAVAILABLE {
            break a;
        }
        assert!(Instant::now() < deadline, "never refused: {}", a.text());
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    refused.error(StatusCode::SERVICE_UNAVAILABLE, "overloaded");
    assert_eq!(
        refused.headers.get("retry-after").map(|v| v.as_bytes()),
        Some(&b"1"[..])
    );
    // The slow client finishes (a body shorter than declared is its own 400); the budget is back.
    sender
        .send(Ok(Bytes::from_static(b"{}")))
        .await
        .expect("send");
    drop(sender);
    let answered = slow.await.expect("task").expect("infallible");
    assert_ne!(answered.status(), StatusCode::SERVICE_UNAVAILABLE);
    let a = small().await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.text());
}
