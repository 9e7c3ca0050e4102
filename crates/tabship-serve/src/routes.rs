//! A router that remembers its routes and who may call them: the OpenAPI test walks the list, so
//! a route added without its documentation (or documented with another access) fails the test
//! instead of going unnoticed.

use std::sync::Arc;

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::middleware;
use axum::routing::{self, MethodRouter};

use crate::access::{self, Access, Gate, Refusal};
use crate::state::AppState;

/// One served route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Route {
    pub(crate) method: Method,
    /// The path as the router matches it (nested prefixes included).
    pub(crate) path: String,
    pub(crate) access: Access,
}

/// An `axum::Router` plus every route added to it.
pub(crate) struct Routes {
    router: Router<Arc<AppState>>,
    list: Vec<Route>,
}

impl Routes {
    /// No routes yet.
    pub(crate) fn new() -> Self {
        Routes {
            router: Router::new(),
            list: Vec::new(),
        }
    }

    /// `GET path` (axum also answers `HEAD` with it).
    pub(crate) fn get<H, T>(self, path: &str, handler: H) -> Self
    where
        H: Handler<T, Arc<AppState>>,
        T: 'static,
    {
        self.add(Method::GET, path, routing::get(handler))
    }

    /// `POST path`.
    pub(crate) fn post<H, T>(self, path: &str, handler: H) -> Self
    where
        H: Handler<T, Arc<AppState>>,
        T: 'static,
    {
        self.add(Method::POST, path, routing::post(handler))
    }

    /// `PUT path`.
    pub(crate) fn put<H, T>(self, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, Arc<AppState>>,
        T: 'static,
    {
        self.add(Method::PUT, path, routing::put(handler))
    }

    /// `DELETE path`.
    pub(crate) fn delete<H, T>(self, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, Arc<AppState>>,
        T: 'static,
    {
        self.add(Method::DELETE, path, routing::delete(handler))
    }

    fn add(mut self, method: Method, path: &str, route: MethodRouter<Arc<AppState>>) -> Self {
        // axum merges method routers added for the same path.
        self.router = self.router.route(path, route);
        self.list.push(Route {
            method,
            path: path.to_owned(),
            access: Access::Open,
        });
        self
    }

    /// Every route added so far needs `access`: a `route_layer` checks it before the handler
    /// (so before the body is read) and answers a refusal with `refusal`'s body. Layers added
    /// with [`map`](Self::map) after this run before the check.
    pub(crate) fn guard(mut self, state: &Arc<AppState>, access: Access, refusal: Refusal) -> Self {
        for route in &mut self.list {
            route.access = access;
        }
        if let Some(scope) = access.required_scope(state.options.protect_docs) {
            let gate = Gate {
                state: state.clone(),
                scope,
                refusal,
            };
            self.router = self
                .router
                .route_layer(middleware::from_fn_with_state(gate, access::require));
        }
        self
    }

    /// Applies layers (or anything else) to the routes added so far.
    pub(crate) fn map(
        mut self,
        f: impl FnOnce(Router<Arc<AppState>>) -> Router<Arc<AppState>>,
    ) -> Self {
        self.router = f(self.router);
        self
    }

    /// Adds another set of routes.
    pub(crate) fn merge(mut self, other: Routes) -> Self {
        self.router = self.router.merge(other.router);
        self.list.extend(other.list);
        self
    }

    /// Adds another set of routes under `prefix`; requests under the prefix that match none of
    /// them get `other`'s own fallback (a protocol's 404 in its own error shape).
    pub(crate) fn nest(mut self, prefix: &'static str, other: Routes) -> Self {
        self.router = self.router.nest(prefix, other.router);
        self.list.extend(other.list.into_iter().map(|mut route| {
            route.path = match route.path.as_str() {
                "/" => prefix.to_owned(),
                rest => format!("{prefix}{rest}"),
            };
            route
        }));
        self
    }

    /// The router and its routes.
    pub(crate) fn into_parts(self) -> (Router<Arc<AppState>>, Vec<Route>) {
        (self.router, self.list)
    }
}
