//! Admin routes authenticate before they read a body byte: a token-less or under-scoped client
//! cannot make the server buffer an upload (up to the 512 MiB limit) just to be refused.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::{Body, Bytes};
use axum::http::{Method, StatusCode};
use futures_util::StreamExt;

use crate::common::*;

/// One chunk of the streamed body; static, so the test allocates nothing per chunk.
static CHUNK: [u8; 64 * 1024] = [0; 64 * 1024];
/// 64 MiB in all: far below the upload limit, so before the fix the server read every byte.
const CHUNKS: usize = 1024;
const TOTAL: usize = CHUNKS * CHUNK.len();

/// A 64 MiB body generated chunk by chunk, and the number of bytes the server pulled from it.
fn counted_body() -> (Body, Arc<AtomicUsize>) {
    let pulled = Arc::new(AtomicUsize::new(0));
    let counter = pulled.clone();
    let stream = futures_util::stream::iter(0..CHUNKS).map(move |_| {
        counter.fetch_add(CHUNK.len(), Ordering::SeqCst);
        Ok::<Bytes, std::io::Error>(Bytes::from_static(&CHUNK))
    });
    (Body::from_stream(stream), pulled)
}

/// Every admin route that takes a body, with the content type a client would send.
const ROUTES: [(&str, &str, &str); 6] = [
    (
        "POST",
        "/admin/models/iris/versions?version=9",
        "application/octet-stream",
    ),
    (
        "POST",
        "/admin/models/iris/versions",
        "multipart/form-data; boundary=x",
    ),
    ("POST", "/admin/models/iris/versions", "application/json"),
    ("POST", "/admin/models/iris/activate", "application/json"),
    ("PUT", "/admin/models/iris/aliases/prod", "application/json"),
    ("PUT", "/admin/models/iris/split", "application/json"),
];

async fn refused_unread(app: &axum::Router, auth: Option<&str>, status: StatusCode, code: &str) {
    for (method, uri, content_type) in ROUTES {
        let (body, pulled) = counted_body();
        let mut headers = vec![("content-type", content_type)];
        let bearer_header;
        if let Some(token) = auth {
            bearer_header = bearer(token);
            headers.push(("authorization", &bearer_header));
        }
        let method = Method::from_bytes(method.as_bytes()).expect("method");
        let a = send(app, method.clone(), uri, &headers, body).await;
        a.error(status, code);
        let read = pulled.load(Ordering::SeqCst);
        assert!(
            read < TOTAL / 64,
            "{method} {uri}: the server read {read} of {TOTAL} body bytes before answering {status}"
        );
    }
}

#[tokio::test]
async fn no_token_is_refused_before_the_body_is_read() {
    refused_unread(&secured(), None, StatusCode::UNAUTHORIZED, "unauthorized").await;
    refused_unread(
        &secured(),
        Some("tsk_not_a_key"),
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
}

#[tokio::test]
async fn a_token_without_admin_is_refused_before_the_body_is_read() {
    refused_unread(
        &secured(),
        Some(PREDICT_TOKEN),
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}

/// A body that yields one chunk, says so on `started`, then waits for `release` before ending:
/// an upload that holds its slot for as long as the test wants.
fn held_body(
    started: tokio::sync::oneshot::Sender<()>,
    release: tokio::sync::oneshot::Receiver<()>,
) -> Body {
    let first = futures_util::stream::once(async move {
        let _ = started.send(());
        Ok::<Bytes, std::io::Error>(Bytes::from_static(b"not an artifact, "))
    });
    let last = futures_util::stream::once(async move {
        let _ = release.await;
        Ok::<Bytes, std::io::Error>(Bytes::from_static(b"the end"))
    });
    Body::from_stream(first.chain(last))
}

#[tokio::test]
async fn concurrent_uploads_are_capped_before_their_bodies_are_read() {
    use tower::ServiceExt;
    let options = tabship_serve::Options {
        max_uploads: 1,
        ..tabship_serve::Options::default()
    };
    let app = tabship_serve::router(state_with(None, options));
    let (started_tx, started) = tokio::sync::oneshot::channel();
    let (release, release_rx) = tokio::sync::oneshot::channel();
    let request = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/admin/models/iris/versions?version=9")
        .header("content-type", "application/octet-stream")
        .body(held_body(started_tx, release_rx))
        .expect("request builds");
    let first = tokio::spawn(app.clone().oneshot(request));
    // The first upload is being read (so it holds the only slot) once its body was polled.
    started.await.expect("the first upload's body is read");

    let (body, pulled) = counted_body();
    let uri = "/admin/models/iris/versions?version=10";
    let headers = [("content-type", "application/octet-stream")];
    let a = send(&app, Method::POST, uri, &headers, body).await;
    let e = a.error(StatusCode::TOO_MANY_REQUESTS, "too_many_uploads");
    assert!(e["message"].as_str().expect("message").contains('1'), "{e}");
    assert_eq!(a.headers["retry-after"], "1");
    let read = pulled.load(Ordering::SeqCst);
    assert!(
        read < TOTAL / 64,
        "the refused upload was read: {read} bytes"
    );
    // A load by path counts too: it also holds an artifact in memory.
    let a = admin_json(
        &app,
        Method::POST,
        "/admin/models/iris/versions",
        serde_json::json!({"path": golden("iris_logistic.tabship"), "version": "11"}),
    )
    .await;
    a.error(StatusCode::TOO_MANY_REQUESTS, "too_many_uploads");

    release.send(()).expect("the first upload still runs");
    let answer = first.await.expect("joins").expect("infallible");
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "not an artifact");
    // Its slot is free again.
    let a = admin_json(
        &app,
        Method::POST,
        "/admin/models/iris/versions",
        serde_json::json!({"path": golden("iris_logistic.tabship"), "version": "12"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());

    let doc = get(&app, "/openapi.json").await.json();
    let responses = &doc["paths"]["/admin/models/{name}/versions"]["post"]["responses"];
    assert!(
        responses["429"].is_object(),
        "the 429 is documented: {responses}"
    );
}

fn small_limit() -> axum::Router {
    let options = tabship_serve::Options {
        upload_limit: 1024 * 1024,
        ..tabship_serve::Options::default()
    };
    tabship_serve::router(state_with(Some(keys()), options))
}

#[tokio::test]
async fn an_upload_over_the_limit_is_refused_once_the_limit_is_passed() {
    let app = small_limit();
    let auth = bearer(ALL_TOKEN);
    for content_type in [
        "application/octet-stream",
        "multipart/form-data; boundary=x",
    ] {
        let (body, pulled) = counted_body();
        let headers = [
            ("authorization", auth.as_str()),
            ("content-type", content_type),
        ];
        let uri = "/admin/models/iris/versions?version=9";
        let e = send(&app, Method::POST, uri, &headers, body)
            .await
            .error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
        assert!(
            e["message"].as_str().expect("message").contains("1048576"),
            "{e}"
        );
        let read = pulled.load(Ordering::SeqCst);
        assert!(
            read <= 1024 * 1024 + 2 * CHUNK.len(),
            "{content_type}: read {read} bytes, past the 1 MiB limit"
        );
    }
}

#[tokio::test]
async fn a_declared_length_over_the_limit_is_refused_unread() {
    let app = small_limit();
    let auth = bearer(ALL_TOKEN);
    let (body, pulled) = counted_body();
    let length = TOTAL.to_string();
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/octet-stream"),
        ("content-length", length.as_str()),
    ];
    send(
        &app,
        Method::POST,
        "/admin/models/iris/versions",
        &headers,
        body,
    )
    .await
    .error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    assert_eq!(pulled.load(Ordering::SeqCst), 0, "nothing is read");
}

#[tokio::test]
async fn streamed_uploads_load_as_raw_bytes_and_as_forms() {
    let app = secured();
    let artifact = std::fs::read(golden("iris_tree.tabship")).expect("artifact");
    // Sent in small chunks, as a slow client would: the server assembles them.
    let chunks: Vec<Result<Bytes, std::io::Error>> = artifact
        .chunks(7)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let auth = bearer(ALL_TOKEN);
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/octet-stream"),
    ];
    let body = Body::from_stream(futures_util::stream::iter(chunks));
    let a = send(
        &app,
        Method::POST,
        "/admin/models/iris/versions?version=raw&activate=false",
        &headers,
        body,
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
    let (content_type, form) = crate::admin::form(&[
        ("file", Some("iris.tabship"), &artifact),
        ("version", None, b"form"),
        ("activate", None, b"false"),
    ]);
    let chunks: Vec<Result<Bytes, std::io::Error>> = form
        .chunks(5)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", content_type.as_str()),
    ];
    let body = Body::from_stream(futures_util::stream::iter(chunks));
    let a = send(
        &app,
        Method::POST,
        "/admin/models/iris/versions",
        &headers,
        body,
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
    assert_eq!(a.json()["loaded"]["version"], "form");
}

#[tokio::test]
async fn a_long_text_part_is_refused_by_name() {
    let app = secured();
    let long = vec![b'9'; 5000];
    let e = crate::admin::upload_form(
        &app,
        "/admin/models/iris/versions",
        &[("version", None, &long), ("file", Some("m.tabship"), b"x")],
    )
    .await
    .error(StatusCode::BAD_REQUEST, "invalid_input");
    assert!(e.to_string().contains("form part `version`"), "{e}");
}
