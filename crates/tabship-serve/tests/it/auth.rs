//! Bearer tokens: 401 with `WWW-Authenticate`, 403 without the scope, open health endpoints.

use axum::body::Body;
use axum::http::{Method, StatusCode};

use crate::common::*;

fn secured() -> axum::Router {
    tabship_serve::router(state_with(Some(keys()), tabship_serve::Options::default()))
}

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
    let a = send(
        &app,
        Method::GET,
        "/metrics",
        &[("authorization", &all)],
        Body::empty(),
    )
    .await;
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
