//! A budget for request bodies in flight. Each body is bounded by `Options::body_limit`, but 512
//! connections each sending one still add up to a gigabyte; the budget bounds the total. A request
//! reserves its declared `Content-Length` (the body limit when it does not declare one) before its
//! body is read and keeps it until it is answered; when the budget is spent the request is
//! answered 503 `overloaded` with `Retry-After: 1` at once, unread. Admin uploads are not counted:
//! they stream to disk under their own cap (`Options::max_uploads`).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use crate::error::ApiError;
use crate::state::AppState;

/// Permits count KiB, so a budget of gigabytes fits a semaphore.
const UNIT: usize = 1024;

/// The shared budget of `bytes` (rounded up to whole KiB, at least one).
pub(crate) fn budget(bytes: usize) -> Semaphore {
    Semaphore::new(units(bytes).clamp(1, Semaphore::MAX_PERMITS))
}

fn units(bytes: usize) -> usize {
    bytes.div_ceil(UNIT)
}

/// Middleware: reserves the request's body in the budget, or answers 503 `overloaded`.
pub(crate) async fn reserve(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let limit = state.options.body_limit;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.trim().parse::<usize>().ok());
    let may_have_body = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let bytes = match declared {
        Some(n) => n.min(limit),
        None if may_have_body => limit,
        None => 0,
    };
    if bytes == 0 {
        return next.run(request).await;
    }
    let total = state.options.max_inflight_body_bytes;
    let wanted = units(bytes).min(units(total).max(1));
    let Ok(wanted) = u32::try_from(wanted) else {
        return next.run(request).await;
    };
    match state.body_budget.try_acquire_many(wanted) {
        Ok(_reserved) => next.run(request).await,
        Err(_) => {
            let mut response = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "overloaded",
                format!(
                    "request bodies in flight already fill the server's budget of {} MiB; retry shortly",
                    total / (1024 * 1024)
                ),
            )
            .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
    }
}
