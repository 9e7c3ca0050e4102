//! The router: routes, the request middleware (ids, metrics, timeout, access log) and the JSON
//! answers for unknown routes, wrong methods and panics.

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, OriginalUri, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tower_http::catch_panic::CatchPanicLayer;

use crate::access::{Access, api_refusal};
use crate::auth::Scope;
use crate::error::ApiError;
use crate::metrics::{RequestLabels, RouteLabels};
use crate::predict::RequestId;
use crate::routes::Routes;
use crate::state::AppState;
use crate::{
    admin, body_budget, cloud, docs, experiment, feedback_api, guard, models, openapi, predict,
    request_id, sagemaker, ui, v2,
};

/// Builds the HTTP API around a state. Serve it with `axum::serve`, or drive it in process with
/// `tower::ServiceExt::oneshot`.
pub fn router(state: Arc<AppState>) -> Router {
    let (routes, _) = routes(&state).into_parts();
    routes
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // Inside `track`, so refused requests are counted and logged like any other.
        .layer(middleware::from_fn_with_state(state.clone(), guard::guard))
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .layer(CatchPanicLayer::custom(panic_response))
        .with_state(state)
}

/// Every route with its handler, who may call it and its layers; `/openapi.json` must document
/// each one with the same access (the test in `openapi` walks this list). Each group's access is
/// checked by a route layer before its body limit and budget, so a caller without a token can
/// neither send a body nor hold a share of the budget.
pub(crate) fn routes(state: &Arc<AppState>) -> Routes {
    let upload_limit = state.options.upload_limit;
    let body_limit = state.options.body_limit;
    let reads_body = |r: Router<Arc<AppState>>| {
        r.layer(DefaultBodyLimit::max(body_limit))
            .layer(middleware::from_fn_with_state(
                state.clone(),
                body_budget::reserve,
            ))
    };
    let open = Routes::new()
        .get("/", root)
        .get("/health/live", live)
        .get("/health/ready", ready);
    let predict = Routes::new()
        .post("/predict", predict::predict_default)
        .get("/models", models::list)
        .get("/models/{name}", models::show)
        .post("/models/{name}/predict", predict::predict_model)
        .post(
            "/models/{name}/versions/{version}/predict",
            predict::predict_version,
        )
        .map(reads_body)
        .guard(state, Access::Scope(Scope::Predict), api_refusal);
    let feedback = Routes::new()
        .post("/feedback", feedback_api::feedback)
        .map(reads_body)
        .guard(state, Access::Scope(Scope::Feedback), api_refusal);
    let metrics = Routes::new()
        .get("/metrics", metrics)
        .get("/models/{name}/drift", models::drift)
        .get("/models/{name}/experiment", experiment::experiment)
        .guard(state, Access::Scope(Scope::Metrics), api_refusal);
    let docs = Routes::new()
        .get("/openapi.json", openapi::openapi)
        .get("/docs", docs::docs)
        .get("/ui", ui::ui_default)
        .get("/ui/{name}", ui::ui_model)
        .guard(state, Access::Docs, api_refusal);
    let admin = Routes::new()
        .post("/admin/models/{name}/versions", admin::load_version)
        .delete(
            "/admin/models/{name}/versions/{version}",
            admin::unload_version,
        )
        .put("/admin/models/{name}/aliases/{alias}", admin::set_alias)
        .delete("/admin/models/{name}/aliases/{alias}", admin::delete_alias)
        .post("/admin/models/{name}/activate", admin::activate)
        .post("/admin/models/{name}/rollback", admin::rollback)
        .put("/admin/models/{name}/split", admin::set_split)
        .delete("/admin/models/{name}/split", admin::clear_split)
        .put("/admin/models/{name}/shadow", admin::set_shadow)
        .delete("/admin/models/{name}/shadow", admin::clear_shadow)
        .post("/admin/keys/reload", admin::reload_keys)
        .post("/admin/alerts", crate::triggers::alerts::receive)
        // Uploads stream to disk under their own cap, outside the body budget.
        .map(|r| r.layer(DefaultBodyLimit::max(upload_limit)))
        .guard(state, Access::Scope(Scope::Admin), api_refusal);
    open.merge(predict)
        .merge(feedback)
        .merge(metrics)
        .merge(docs)
        .merge(admin)
        .merge(sagemaker::routes(state, reads_body))
        .merge(cloud::routes(state, reads_body))
        .merge(crate::graphql::routes(state, reads_body))
        .nest("/v2", v2::routes(state, reads_body))
}

/// Why a readiness probe answered 503: an expected state (starting, draining), logged as such
/// instead of as a server error.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NotReady(pub(crate) &'static str);

/// The level of a request's log line: 5xx are errors, except a readiness probe's 503.
fn log_level(response: &Response) -> tracing::Level {
    if response.extensions().get::<NotReady>().is_some() {
        tracing::Level::INFO
    } else if response.status().is_server_error() {
        tracing::Level::ERROR
    } else {
        tracing::Level::INFO
    }
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::internal("a handler panicked").into_response()
}

async fn not_found(OriginalUri(uri): OriginalUri) -> ApiError {
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
    let user = response
        .extensions()
        .get::<crate::auth::Identity>()
        .and_then(|i| i.username.clone());
    let user = user.as_deref();
    if let Some(NotReady(reason)) = response.extensions().get::<NotReady>() {
        tracing::info!(target: "tabship_serve::access", request_id = %rid, method = %labels.method, route = %labels.route, status, ms, user, reason, "request: not ready");
    } else if log_level(&response) == tracing::Level::ERROR {
        tracing::error!(request_id = %rid, method = %labels.method, route = %labels.route, status, ms, user, "request");
    } else {
        tracing::info!(target: "tabship_serve::access", request_id = %rid, method = %labels.method, route = %labels.route, status, ms, user, "request");
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

pub(crate) async fn live() -> Json<Value> {
    Json(json!({"status": "live"}))
}

pub(crate) async fn ready(State(state): State<Arc<AppState>>) -> Response {
    let reason = if state.is_draining() {
        "draining"
    } else if state.is_ready() {
        return Json(json!({"status": "ready"})).into_response();
    } else if state.state_skipped() > 0 {
        "state_invalid"
    } else {
        "loading"
    };
    let body = if reason == "state_invalid" {
        json!({"status": reason, "skipped": state.state_skipped()})
    } else {
        json!({"status": reason})
    };
    let mut response = (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
    response.extensions_mut().insert(NotReady(reason));
    response
}

async fn metrics(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_readiness_503_is_not_logged_as_an_error() {
        let state = AppState::new(None, crate::Options::default()).expect("state");
        let loading = ready(State(state.clone())).await;
        assert_eq!(loading.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(log_level(&loading), tracing::Level::INFO);
        state.set_ready();
        state.start_draining();
        let draining = ready(State(state)).await;
        assert_eq!(draining.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(log_level(&draining), tracing::Level::INFO);
        let timeout =
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "timeout", "slow").into_response();
        assert_eq!(log_level(&timeout), tracing::Level::ERROR);
    }
}
