//! Routes at paths the platform chooses: Azure ML online endpoints (liveness, readiness and
//! scoring routes, `tabship serve --live-route/--ready-route/--score-route`) and Vertex AI
//! (`AIP_HEALTH_ROUTE`, `AIP_PREDICT_ROUTE`). Each answers like the built-in route it mirrors
//! and goes through the same data plane; SageMaker's fixed routes are in [`crate::sagemaker`].

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;

use crate::access::{Access, api_refusal};
use crate::auth::Scope;
use crate::error::{Error, Result};
use crate::routes::Routes;
use crate::state::{AppState, Options};
use crate::{body_budget, predict, vertex};

/// Extra routes at configured paths; `None` serves none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CloudRoutes {
    /// Answers as `GET /health/live` (Azure ML `liveness_route`).
    pub live: Option<String>,
    /// Answers as `GET /health/ready` (Azure ML `readiness_route`, Vertex `AIP_HEALTH_ROUTE`).
    pub ready: Option<String>,
    /// `POST`, answers as `POST /predict` (Azure ML `scoring_route`).
    pub score: Option<String>,
    /// `POST`, Vertex AI's prediction shape (`AIP_PREDICT_ROUTE`), 1.5 MB body limit.
    pub vertex_predict: Option<String>,
}

impl CloudRoutes {
    /// Every configured route: `(what configured it, path)`.
    fn paths(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("the liveness route", &self.live),
            ("the readiness route", &self.ready),
            ("the scoring route", &self.score),
            ("the Vertex predict route", &self.vertex_predict),
        ]
        .into_iter()
        .filter_map(|(what, path)| path.as_deref().map(|p| (what, p)))
    }
}

fn invalid(what: &'static str, path: &str, message: impl Into<String>) -> Error {
    Error::Route {
        what,
        path: path.to_owned(),
        message: message.into(),
    }
}

/// Checks the configured paths: plain absolute paths (letters, digits, `/`, `-`, `_`, `.`, `:`,
/// `~`), distinct, and none a route tabship already serves (or under `/v2/`, `/admin/`), since
/// the router cannot serve two handlers at one path.
pub(crate) fn check(routes: &CloudRoutes) -> Result<()> {
    if routes.paths().next().is_none() {
        return Ok(());
    }
    let probe = AppState::new(None, Options::default())?;
    let (_, served) = crate::app::routes(&probe).into_parts();
    let mut seen: Vec<&str> = Vec::new();
    for (what, path) in routes.paths() {
        let plain = path.starts_with('/')
            && path.len() > 1
            && !path.contains("//")
            && path
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "/-_.~:".contains(c));
        if !plain {
            return Err(invalid(
                what,
                path,
                "use an absolute path of letters, digits, `/`, `-`, `_`, `.`, `~` and `:`",
            ));
        }
        let path = path.trim_end_matches('/');
        if served.iter().any(|r| r.path == path)
            || path.starts_with("/v2/")
            || path.starts_with("/admin/")
            || path == "/v2"
        {
            return Err(invalid(
                what,
                path,
                "tabship already serves this path; choose another one",
            ));
        }
        if seen.contains(&path) {
            return Err(invalid(
                what,
                path,
                "another configured route has this path",
            ));
        }
        seen.push(path);
    }
    Ok(())
}

/// The configured routes: the probes open, scoring and Vertex predict with the `predict` scope
/// (as `/predict`). `reads_body` adds the body limit and budget to the scoring route; the Vertex
/// route has Vertex's own 1.5 MB limit.
pub(crate) fn routes(
    state: &Arc<AppState>,
    reads_body: impl FnOnce(Router<Arc<AppState>>) -> Router<Arc<AppState>>,
) -> Routes {
    let config = &state.options.cloud;
    let mut open = Routes::new();
    if let Some(path) = &config.live {
        open = open.get(path.trim_end_matches('/'), crate::app::live);
    }
    if let Some(path) = &config.ready {
        open = open.get(path.trim_end_matches('/'), crate::app::ready);
    }
    let mut all = open;
    if let Some(path) = &config.score {
        all = all.merge(
            Routes::new()
                .post(path.trim_end_matches('/'), predict::predict_default)
                .map(reads_body)
                .guard(state, Access::Scope(Scope::Predict), api_refusal),
        );
    }
    if let Some(path) = &config.vertex_predict {
        let budget = state.clone();
        all = all.merge(
            Routes::new()
                .post(path.trim_end_matches('/'), vertex::predict)
                .map(|r| {
                    r.layer(DefaultBodyLimit::max(vertex::BODY_LIMIT))
                        .layer(middleware::from_fn_with_state(budget, body_budget::reserve))
                })
                .guard(state, Access::Scope(Scope::Predict), api_refusal),
        );
    }
    all
}
