//! GraphQL: `POST /graphql` (a schema built at run time from the loaded models, rebuilt per
//! registry generation) and `GET /graphql` (a query page). The route needs the `predict`
//! scope like `/predict` and `/models`; `drift` checks `metrics` as `/models/{name}/drift`
//! does. Predictions go through the data plane ([`crate::infer`]).

mod errors;
mod page;
mod resolvers;
mod schema;

use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_graphql::dynamic::{Schema, TypeRef};
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};

use crate::access::{Access, api_refusal};
use crate::auth::{Identity, Scope};
use crate::error::ApiError;
use crate::predict::{RequestId, body_bytes};
use crate::routes::Routes;
use crate::state::AppState;

pub(crate) use schema::{MAX_COMPLEXITY, MAX_DEPTH};

/// A schema and the registry generation it was built from.
type Built = Option<(u64, Schema)>;

/// The schema of the latest registry generation seen.
#[derive(Default)]
pub(crate) struct SchemaCache {
    inner: Mutex<Built>,
}

impl std::fmt::Debug for SchemaCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SchemaCache")
    }
}

impl SchemaCache {
    /// The schema of the registry as it is now: built once per generation. The lock is not
    /// held while building; a schema built from an older snapshot is used once, not kept.
    fn current(&self, state: &AppState) -> Result<Schema, ApiError> {
        let (generation, registry) = state.registry.load_generation();
        let hit = self.with(|built| {
            built
                .as_ref()
                .filter(|(g, _)| *g == generation)
                .map(|(_, s)| s.clone())
        });
        if let Some(schema) = hit {
            return Ok(schema);
        }
        let schema = schema::build(&registry)
            .map_err(|e| ApiError::internal(format!("graphql schema: {}", e.0)))?;
        self.with(|built| {
            if built.as_ref().is_none_or(|(g, _)| *g < generation) {
                *built = Some((generation, schema.clone()));
            }
        });
        Ok(schema)
    }

    fn with<T>(&self, f: impl FnOnce(&mut Built) -> T) -> T {
        match self.inner.lock() {
            Ok(mut guard) => f(&mut guard),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }
}

fn schema_json_type() -> TypeRef {
    TypeRef::named_nn("JSON")
}

/// `GET /graphql` (docs access) and `POST /graphql` (`predict` scope, body limit and budget).
pub(crate) fn routes(
    state: &Arc<AppState>,
    reads_body: impl FnOnce(Router<Arc<AppState>>) -> Router<Arc<AppState>>,
) -> Routes {
    let page = Routes::new()
        .get("/graphql", page::page)
        .guard(state, Access::Docs, api_refusal);
    let api = Routes::new()
        .post("/graphql", execute)
        .map(reads_body)
        .guard(state, Access::Scope(Scope::Predict), api_refusal);
    page.merge(api)
}

/// `POST /graphql`: `{"query", "variables", "operationName"}` as JSON; the answer is
/// `{"data", "errors"}` with status 200 (GraphQL errors are in the body), 400 when the body is
/// not a GraphQL request, 503 while the models load (as `/predict`).
async fn execute(
    State(state): State<Arc<AppState>>,
    Extension(rid): Extension<RequestId>,
    Extension(identity): Extension<Identity>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    state.require_ready()?;
    let bytes = body_bytes(body)?;
    let request: async_graphql::Request = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_graphql_request",
            format!("expected a GraphQL request `{{\"query\": ..., \"variables\": ...}}`: {e}"),
        )
    })?;
    let schema = state.graphql.current(&state)?;
    let data = resolvers::RequestData {
        state: state.clone(),
        identity,
        rid,
        headers,
        started,
        predictions: Default::default(),
    };
    let mut response = schema.execute(request.data(data)).await;
    errors::annotate(&mut response.errors);
    let body = serde_json::to_vec(&response).map_err(ApiError::internal)?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}
