//! The router: routes, the request middleware (ids, metrics, timeout, access log) and the JSON
//! answers for unknown routes, wrong methods and panics.

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, OriginalUri, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde_json::{Value, json};
use tower_http::catch_panic::CatchPanicLayer;

use crate::auth::Scope;
use crate::error::ApiError;
use crate::metrics::{RequestLabels, RouteLabels};
use crate::predict::RequestId;
use crate::state::AppState;
use crate::{
    admin, body_budget, docs, feedback_api, guard, models, openapi, predict, request_id, ui, v2,
};

/// Builds the HTTP API around a state. Serve it with `axum::serve`, or drive it in process with
/// `tower::ServiceExt::oneshot`.
pub fn router(state: Arc<AppState>) -> Router {
    let upload_limit = state.options.upload_limit;
    let admin_routes = Router::new()
        .route("/admin/models/{name}/versions", post(admin::load_version))
        .route(
            "/admin/models/{name}/versions/{version}",
            axum::routing::delete(admin::unload_version),
        )
        .route(
            "/admin/models/{name}/aliases/{alias}",
            put(admin::set_alias).delete(admin::delete_alias),
        )
        .route("/admin/models/{name}/activate", post(admin::activate))
        .route("/admin/models/{name}/rollback", post(admin::rollback))
        .route(
            "/admin/models/{name}/split",
            put(admin::set_split).delete(admin::clear_split),
        )
        .route(
            "/admin/models/{name}/shadow",
            put(admin::set_shadow).delete(admin::clear_shadow),
        )
        .route("/admin/keys/reload", post(admin::reload_keys))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            admin::require_admin,
        ))
        .layer(DefaultBodyLimit::max(upload_limit));
    Router::new()
        .route("/", get(root))
        .route("/health/live", get(live))
        .route("/health/ready", get(ready))
        .route("/predict", post(predict::predict_default))
        .route("/models", get(models::list))
        .route("/models/{name}", get(models::show))
        .route("/models/{name}/predict", post(predict::predict_model))
        .route("/models/{name}/drift", get(models::drift))
        .route(
            "/models/{name}/versions/{version}/predict",
            post(predict::predict_version),
        )
        .route("/feedback", post(feedback_api::feedback))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi::openapi))
        .route("/docs", get(docs::docs))
        .route("/ui", get(ui::ui_default))
        .route("/ui/{name}", get(ui::ui_model))
        .merge(v2::routes())
        .layer(DefaultBodyLimit::max(state.options.body_limit))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            body_budget::reserve,
        ))
        .merge(admin_routes)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // Inside `track`, so refused requests are counted and logged like any other.
        .layer(middleware::from_fn_with_state(state.clone(), guard::guard))
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .layer(CatchPanicLayer::custom(panic_response))
        .with_state(state)
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::internal("a handler panicked").into_response()
}

async fn not_found(OriginalUri(uri): OriginalUri) -> ApiError {
    if uri.path().starts_with("/v2/") {
        return ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no route `{}`", uri.path()),
        );
    }
    ApiError::route_not_found(uri.path())
}

async fn method_not_allowed(OriginalUri(uri): OriginalUri, method: axum::http::Method) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("`{method}` is not allowed on `{}`", uri.path()),
    )
}

async fn track(State(state): State<Arc<AppState>>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let method = req.method().as_str().to_owned();
    // A malformed client id is answered 400 (under an id of the server's, as every answer
    // carries one) rather than silently replaced: the client would join feedback to an id it
    // never got.
    let (rid, refused) = match request_id::from_client(req.headers()) {
        Ok(Some(id)) => (id, None),
        Ok(None) => (request_id::generate().into(), None),
        Err(e) => (request_id::generate().into(), Some(e)),
    };
    req.extensions_mut().insert(RequestId(rid.clone()));
    state.metrics.in_flight.inc();
    let mut response = match refused {
        Some(e) => e.into_response(),
        None => match tokio::time::timeout(state.options.request_timeout, next.run(req)).await {
            Ok(r) => r,
            Err(_) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "timeout",
                format!(
                    "the request took longer than {} s",
                    state.options.request_timeout.as_secs_f64()
                ),
            )
            .into_response(),
        },
    };
    state.metrics.in_flight.dec();
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    if let Ok(v) = HeaderValue::from_str(&rid) {
        response.headers_mut().insert(request_id::HEADER, v);
    }
    state
        .metrics
        .latency
        .get_or_create(&RouteLabels {
            route: route.clone(),
        })
        .observe(elapsed.as_secs_f64());
    let labels = RequestLabels {
        route,
        method,
        status,
    };
    state.metrics.requests.get_or_create(&labels).inc();
    let ms = elapsed.as_secs_f64() * 1000.0;
    if status >= 500 {
        tracing::error!(request_id = %rid, method = %labels.method, route = %labels.route, status, ms, "request");
    } else {
        tracing::info!(target: "tabship_serve::access", request_id = %rid, method = %labels.method, route = %labels.route, status, ms, "request");
    }
    response
}

async fn root(State(state): State<Arc<AppState>>) -> Json<Value> {
    let registry = state.registry();
    let models: Vec<Value> = registry
        .models
        .iter()
        .map(|(name, e)| json!({"name": name, "version": e.current}))
        .collect();
    Json(json!({
        "status": "alive",
        "service": "tabship",
        "version": crate::VERSION,
        "ready": state.accepts_traffic(),
        "auth": state.auth_enabled(),
        "default_model": registry.default_model,
        "models": models,
        "docs": "/docs",
        "ui": "/ui",
    }))
}

async fn live() -> Json<Value> {
    Json(json!({"status": "live"}))
}

async fn ready(State(state): State<Arc<AppState>>) -> Response {
    if state.is_draining() {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "draining"})),
        )
            .into_response()
    } else if state.is_ready() {
        Json(json!({"status": "ready"})).into_response()
    } else if state.state_skipped() > 0 {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "state_invalid", "skipped": state.state_skipped()})),
        )
            .into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "loading"})),
        )
            .into_response()
    }
}

async fn metrics(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    state.authorize(&headers, Scope::Metrics)?;
    let text = state.metrics.render().map_err(ApiError::internal)?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response())
}
