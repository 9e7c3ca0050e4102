//! A router that remembers its routes: the OpenAPI test walks the list, so a route added without
//! its documentation fails the test instead of going unnoticed.

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{self, MethodRouter};

/// An `axum::Router` plus the `(method, path)` of every route added to it.
pub(crate) struct Routes<S> {
    router: Router<S>,
    list: Vec<(Method, &'static str)>,
}

impl<S> Routes<S>
where
    S: Clone + Send + Sync + 'static,
{
    /// No routes yet.
    pub(crate) fn new() -> Self {
        Routes {
            router: Router::new(),
            list: Vec::new(),
        }
    }

    /// `GET path` (axum also answers `HEAD` with it).
    pub(crate) fn get<H, T>(self, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, S>,
        T: 'static,
    {
        self.add(Method::GET, path, routing::get(handler))
    }

    /// `POST path`.
    pub(crate) fn post<H, T>(self, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, S>,
        T: 'static,
    {
        self.add(Method::POST, path, routing::post(handler))
    }

    /// `PUT path`.
    pub(crate) fn put<H, T>(self, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, S>,
        T: 'static,
    {
        self.add(Method::PUT, path, routing::put(handler))
    }

    /// `DELETE path`.
    pub(crate) fn delete<H, T>(self, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, S>,
        T: 'static,
    {
        self.add(Method::DELETE, path, routing::delete(handler))
    }

    fn add(mut self, method: Method, path: &'static str, route: MethodRouter<S>) -> Self {
        // axum merges method routers added for the same path.
        self.router = self.router.route(path, route);
        self.list.push((method, path));
        self
    }

    /// Applies layers (or anything else) to the routes added so far.
    pub(crate) fn map(mut self, f: impl FnOnce(Router<S>) -> Router<S>) -> Self {
        self.router = f(self.router);
        self
    }

    /// Adds another set of routes.
    pub(crate) fn merge(mut self, other: Routes<S>) -> Self {
        self.router = self.router.merge(other.router);
        self.list.extend(other.list);
        self
    }

    /// The router and its routes.
    pub(crate) fn into_parts(self) -> (Router<S>, Vec<(Method, &'static str)>) {
        (self.router, self.list)
    }
}
