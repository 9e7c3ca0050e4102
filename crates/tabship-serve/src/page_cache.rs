//! The rendered bytes of the pages built from the registry (`/openapi.json`, `/ui`,
//! `/ui/{name}`), kept until the registry changes.
//!
//! Rendering walks every category of every model (a 20,000-category model makes a page of a few
//! MB): done per request, a handful of token-less clients reloading a page slowed predictions a
//! hundredfold. Every registry change (a version loaded, activated or unloaded, an alias, split
//! or shadow set) stores a new snapshot with a higher generation number, so a page is rendered
//! once per generation and every other request costs a map lookup and a reference count.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// One rendered page: its body and the headers that go with it.
#[derive(Debug, Clone)]
pub(crate) struct Rendered {
    /// The `Content-Type`.
    pub(crate) content_type: &'static str,
    /// Further headers (the HTML pages' CSP and framing policy).
    pub(crate) headers: Vec<(header::HeaderName, HeaderValue)>,
    /// The body.
    pub(crate) body: Bytes,
}

impl Rendered {
    /// The response: the cached bytes are shared, not copied.
    pub(crate) fn response(&self) -> Response {
        let mut response = self.body.clone().into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        for (name, value) in &self.headers {
            headers.insert(name.clone(), value.clone());
        }
        response
    }
}

/// Pages of one registry generation, by key (`openapi.json`, `ui/{model}`).
#[derive(Debug, Default)]
pub(crate) struct PageCache {
    inner: Mutex<Pages>,
}

#[derive(Debug, Default)]
struct Pages {
    generation: u64,
    pages: HashMap<String, Arc<Rendered>>,
}

impl PageCache {
    /// The page `key` of registry `generation`: the cached one, or `build`'s, which is then kept
    /// (dropping every page of an older generation). The lock is not held while building, so a
    /// slow render never holds up the lookups of other pages; two requests arriving together at a
    /// new generation may both render, and the first to finish is kept.
    pub(crate) fn get_or_build<E>(
        &self,
        key: &str,
        generation: u64,
        build: impl FnOnce() -> Result<Rendered, E>,
    ) -> Result<Arc<Rendered>, E> {
        if let Some(hit) = self.with_pages(|p| {
            (p.generation == generation)
                .then(|| p.pages.get(key).cloned())
                .flatten()
        }) {
            return Ok(hit);
        }
        let page = Arc::new(build()?);
        Ok(self.with_pages(|p| {
            if p.generation < generation {
                p.generation = generation;
                p.pages.clear();
            }
            if p.generation == generation {
                // Another request may have rendered it meanwhile: keep one copy.
                p.pages
                    .entry(key.to_owned())
                    .or_insert_with(|| page.clone())
                    .clone()
            } else {
                // Built from a snapshot older than the cached pages: served once, not kept.
                page.clone()
            }
        }))
    }

    fn with_pages<T>(&self, f: impl FnOnce(&mut Pages) -> T) -> T {
        match self.inner.lock() {
            Ok(mut guard) => f(&mut guard),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::convert::Infallible;

    use super::*;

    fn page(text: &str) -> Rendered {
        Rendered {
            content_type: "text/plain",
            headers: Vec::new(),
            body: Bytes::from(text.to_owned()),
        }
    }

    #[test]
    fn a_page_is_built_once_per_generation() {
        let cache = PageCache::default();
        let builds = Cell::new(0);
        let get = |key: &str, generation: u64| {
            cache
                .get_or_build(key, generation, || {
                    builds.set(builds.get() + 1);
                    Ok::<_, Infallible>(page(&format!("{key}@{generation}")))
                })
                .map(|p| p.body.clone())
        };
        assert_eq!(get("a", 1), Ok(Bytes::from("a@1")));
        assert_eq!(get("a", 1), Ok(Bytes::from("a@1")));
        assert_eq!(builds.get(), 1, "the second request is a hit");
        assert_eq!(get("b", 1), Ok(Bytes::from("b@1")));
        assert_eq!(builds.get(), 2, "each key has its own page");
        assert_eq!(get("a", 2), Ok(Bytes::from("a@2")), "a new registry");
        assert_eq!(builds.get(), 3);
        assert_eq!(get("b", 2), Ok(Bytes::from("b@2")), "older pages dropped");
        // A request that read the registry before the change is answered but not cached.
        assert_eq!(get("a", 1), Ok(Bytes::from("a@1")));
        assert_eq!(get("a", 2), Ok(Bytes::from("a@2")));
        assert_eq!(builds.get(), 5);
    }

    #[test]
    fn errors_are_not_cached() {
        let cache = PageCache::default();
        assert_eq!(
            cache.get_or_build("x", 1, || Err("no such model")).err(),
            Some("no such model")
        );
        let built = cache.get_or_build("x", 1, || Ok::<_, &str>(page("x")));
        assert_eq!(built.map(|p| p.body.clone()), Ok(Bytes::from("x")));
    }
}
