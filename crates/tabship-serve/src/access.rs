//! Who may call a route, enforced and documented from one value. Each group of routes declares
//! its [`Access`] in `app::routes`; [`Routes::guard`](crate::routes::Routes::guard) installs
//! [`require`] as a `route_layer` on the group, so the token is checked before any body byte is
//! read and unknown routes keep their 404; `/openapi.json` documents the same value (its test
//! compares each route's access with its operation). The same layer applies the rate limits
//! (see [`crate::ratelimit`]) once the caller is known.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::Scope;
use crate::error::ApiError;
use crate::state::AppState;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Everyone (health probes, the root).
    Open,
    /// A token with this scope when the server has keys (admin: also without keys, the run's
    /// admin token).
    Scope(Scope),
    /// The documentation pages: a `predict` token with `--protect-docs`, else everyone.
    Docs,
}

impl Access {
    /// The scope a request must prove on this server, if any.
    pub(crate) fn required_scope(self, protect_docs: bool) -> Option<Scope> {
        match self {
            Access::Open => None,
            Access::Scope(scope) => Some(scope),
            Access::Docs => protect_docs.then_some(Scope::Predict),
        }
    }
}

/// How a refused request is answered: tabship's JSON error, or a protocol's own shape.
pub(crate) type Refusal = fn(ApiError) -> Response;

/// tabship's own error body.
pub(crate) fn api_refusal(error: ApiError) -> Response {
    error.into_response()
}

/// The state of one group's [`require`] layer.
#[derive(Clone)]
pub(crate) struct Gate {
    pub(crate) state: Arc<AppState>,
    pub(crate) scope: Scope,
    pub(crate) refusal: Refusal,
}

/// Route layer: authorizes the gate's scope and hands the caller's
/// [`Identity`](crate::auth::Identity) to the handler as a request extension, or answers the
/// refusal without running the handler.
pub(crate) async fn require(
    State(gate): State<Gate>,
    mut request: Request,
    next: Next,
) -> Response {
    let identity = match gate
        .state
        .authorize_request(request.headers(), gate.scope)
        .await
    {
        Ok(identity) => identity,
        Err(e) => {
            // Why, for the operator (never the token): an expired token, a wrong audience...
            tracing::info!(code = e.code, reason = %e.message, "bearer token refused");
            let challenge = crate::jwt::challenge(&e);
            let mut response = (gate.refusal)(e);
            if let Some(value) = challenge {
                response
                    .headers_mut()
                    .insert(axum::http::header::WWW_AUTHENTICATE, value);
            }
            return response;
        }
    };
    if let Err((limit, retry_after)) = gate.state.limits.check(identity.username.as_ref()) {
        gate.state
            .metrics
            .rate_limited
            .get_or_create(&crate::metrics::LimitLabels {
                limit: limit.to_owned(),
            })
            .inc();
        let mut response = (gate.refusal)(crate::ratelimit::refusal(limit, retry_after));
        response.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from(retry_after),
        );
        return response;
    }
    request.extensions_mut().insert(identity.clone());
    let mut response = next.run(request).await;
    // For the access log (`app::track`): who made the request.
    response.extensions_mut().insert(identity);
    response
}
