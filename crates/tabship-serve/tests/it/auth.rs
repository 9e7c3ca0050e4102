//! Bearer tokens: 401 with `WWW-Authenticate`, 403 without the scope, open health endpoints.

use axum::body::Body;
use axum::http::{Method, StatusCode};

use crate::common::*;

#[tokio::test]
async fn valid_token_predicts_with_username() {
    let app = secured();
    let auth = bearer(PREDICT_TOKEN);
    let a = send(
        &app,
        Method::POST,
        "/predict",
        &[("authorization", &auth)],
        setosa().to_string(),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.json()["username"], "pedro1");
    assert_eq!(a.json()["prediction"], "setosa");
}

#[tokio::test]
async fn missing_or_invalid_token_is_401_with_challenge() {
    let app = secured();
    for headers in [
        vec![],
        vec![("authorization", "Bearer wrong")],
        vec![("authorization", "Basic abc")],
        vec![("authorization", "Bearer ")],
    ] {
        let a = send(
            &app,
            Method::POST,
            "/predict",
            &headers,
            setosa().to_string(),
        )
        .await;
        a.error(StatusCode::UNAUTHORIZED, "unauthorized");
        assert!(
            a.headers["www-authenticate"]
                .to_str()
                .expect("ascii")
                .starts_with("Bearer")
        );
    }
}

#[tokio::test]
async fn scopes_are_enforced() {
    let app = secured();
    let predict_only = bearer(PREDICT_TOKEN);
    let h = [("authorization", predict_only.as_str())];
    send(&app, Method::GET, "/metrics", &h, Body::empty())
        .await
        .error(StatusCode::FORBIDDEN, "forbidden");
    send(&app, Method::POST, "/feedback", &h, "{}")
        .await
        .error(StatusCode::FORBIDDEN, "forbidden");
    send(
        &app,
        Method::POST,
        "/admin/models/iris/rollback",
        &h,
        Body::empty(),
    )
    .await
    .error(StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(
        send(&app, Method::GET, "/models", &h, Body::empty())
            .await
            .status,
        StatusCode::OK
    );
    let all = bearer(ALL_TOKEN);
    let a = get_with_token(&app, "/metrics", &all).await;
    assert_eq!(a.status, StatusCode::OK);
    // Protected without a token: models, metrics, v2 inference.
    for (method, uri) in [
        (Method::GET, "/models"),
        (Method::GET, "/models/iris"),
        (Method::GET, "/metrics"),
        (Method::GET, "/v2"),
        (Method::GET, "/v2/models/iris"),
        (Method::POST, "/v2/models/iris/infer"),
    ] {
        let a = send(&app, method, uri, &[], Body::empty()).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{uri}");
    }
}

#[tokio::test]
async fn health_and_pages_stay_open() {
    let app = secured();
    for uri in [
        "/",
        "/health/live",
        "/health/ready",
        "/v2/health/live",
        "/v2/health/ready",
        "/openapi.json",
        "/docs",
        "/ui",
    ] {
        assert_eq!(get(&app, uri).await.status, StatusCode::OK, "{uri}");
    }
    let root = get(&app, "/").await.json();
    assert_eq!(root["auth"], true);
    let doc = get(&app, "/openapi.json").await.json();
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

/// A request body that notes it was read, and fails: a handler that reads it answers 400.
struct Unreadable(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl axum::body::HttpBody for Unreadable {
    type Data = axum::body::Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
        std::task::Poll::Ready(Some(Err(std::io::Error::other("read"))))
    }
}

/// Every route that reads a body checks the token first: a caller without one gets its 401
/// (in the protocol's own shape) and not a byte of its body is read.
#[tokio::test]
async fn tokens_are_checked_before_any_body_byte_is_read() {
    let app = secured();
    for uri in [
        "/predict",
        "/models/iris/predict",
        "/models/iris/versions/golden/predict",
        "/feedback",
        "/v2/models/iris/infer",
        "/v2/models/iris/versions/golden/infer",
        "/admin/models/iris/versions",
    ] {
        let read = std::sync::Arc::default();
        let a = send(
            &app,
            Method::POST,
            uri,
            &[("content-type", "application/json")],
            Body::new(Unreadable(std::sync::Arc::clone(&read))),
        )
        .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{uri}: {}", a.text());
        assert!(
            !read.load(std::sync::atomic::Ordering::SeqCst),
            "{uri}: the body was read before the token was checked"
        );
        let error = &a.json()["error"];
        if uri.starts_with("/v2/") {
            assert!(error.is_string(), "{uri}: V2's error shape: {}", a.text());
        } else {
            assert_eq!(error["code"], "unauthorized", "{uri}");
        }
    }
    // With the token, the same body is read, and refused.
    let auth = bearer(PREDICT_TOKEN);
    let read = std::sync::Arc::default();
    let a = post_json_as(
        &app,
        "/predict",
        &auth,
        Body::new(Unreadable(std::sync::Arc::clone(&read))),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.text());
    assert!(read.load(std::sync::atomic::Ordering::SeqCst));
}

/// An unknown route under `/v2/` is a 404 in V2's shape (the nested router's own fallback);
/// elsewhere in tabship's.
#[tokio::test]
async fn unknown_routes_answer_in_their_protocols_shape() {
    let app = secured();
    let v2 = get(&app, "/v2/nothing/here").await;
    assert_eq!(v2.status, StatusCode::NOT_FOUND);
    assert!(
        v2.json()["error"]
            .as_str()
            .is_some_and(|m| m.contains("/v2/nothing/here"))
    );
    get(&app, "/nothing/here")
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
    // Unknown paths are not metric labels (one label per path would grow without bound).
    let auth = bearer(ALL_TOKEN);
    let metrics = get_with_token(&app, "/metrics", &auth).await.text();
    assert!(!metrics.contains("nothing"), "{metrics}");
}
