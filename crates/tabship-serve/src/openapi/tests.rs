//! The document against the router's own route list.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::{AppState, Options};

fn state(keys: bool) -> std::sync::Arc<AppState> {
    state_with(keys, Options::default())
}

/// Options with every route at a configured path (Azure ML, Vertex AI), so the walks below
/// cover them too.
fn with_cloud(options: Options) -> Options {
    Options {
        cloud: crate::CloudRoutes {
            live: Some("/azure/live".to_owned()),
            ready: Some("/azure/ready".to_owned()),
            score: Some("/score".to_owned()),
            vertex_predict: Some("/v1/endpoints/1/deployedModels/2:predict".to_owned()),
        },
        ..options
    }
}

fn state_with(keys: bool, options: Options) -> std::sync::Arc<AppState> {
    let keys = keys.then(|| {
        crate::auth::KeyStore::parse(&format!(
            "[[keys]]\nusername = \"a\"\ntoken_sha256 = \"{}\"\nscopes = [\"predict\"]\n",
            crate::auth::token_sha256("t")
        ))
        .expect("keys")
    });
    let state = AppState::new(keys, with_cloud(options)).expect("state");
    let golden = tabship_test_support::golden("");
    state
        .load_paths(&[
            golden.join("iris_logistic.tabship"),
            golden.join("diamonds_ridge.tabship"),
        ])
        .expect("golden artifacts");
    state
}

fn document(state: &AppState) -> Value {
    super::document(state, &state.registry())
}

/// Every `(method, path)` the router serves, as the document spells it.
fn served(state: &std::sync::Arc<AppState>) -> BTreeSet<(String, String)> {
    let (_, list) = crate::app::routes(state).into_parts();
    list.into_iter()
        .map(|route| (route.method.as_str().to_ascii_lowercase(), route.path))
        .collect()
}

#[test]
fn every_route_is_documented_and_nothing_else() {
    for keys in [false, true] {
        let state = state(keys);
        let doc = document(&state);
        let served = served(&state);
        assert!(
            served.len() > 30,
            "the route list is the router's: {served:?}"
        );
        let mut documented = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in item.as_object().expect("path item").keys() {
                documented.insert((method.clone(), path.clone()));
            }
        }
        let missing: Vec<_> = served.difference(&documented).collect();
        assert!(
            missing.is_empty(),
            "routes without an operation: {missing:?}"
        );
        // Beyond the routes, only the per-model instances of the prediction routes.
        let extra: Vec<_> = documented
            .difference(&served)
            .filter(|(method, path)| {
                !(method == "post"
                    && ["iris", "diamonds"].iter().any(|m| {
                        *path == format!("/models/{m}/predict")
                            || *path == format!("/models/{m}/versions/{{version}}/predict")
                    }))
            })
            .collect();
        assert!(extra.is_empty(), "operations without a route: {extra:?}");
    }
}

/// The access a route is guarded with is the access its operation documents: a 401 exactly
/// when a token is needed, and a 403 naming the route's scope.
#[test]
fn every_route_is_documented_with_the_access_that_guards_it() {
    for protect_docs in [false, true] {
        let options = Options {
            protect_docs,
            ..Options::default()
        };
        let state = state_with(true, options);
        let doc = document(&state);
        let (_, list) = crate::app::routes(&state).into_parts();
        for route in list {
            let method = route.method.as_str().to_ascii_lowercase();
            let responses = &doc["paths"][&route.path][&method]["responses"];
            assert!(responses.is_object(), "{method} {}", route.path);
            let scope = route.access.required_scope(protect_docs);
            assert_eq!(
                responses.get("401").is_some(),
                scope.is_some(),
                "{method} {} is guarded by {:?} (protect_docs {protect_docs})",
                route.path,
                route.access
            );
            if let Some(scope) = scope {
                let forbidden = responses["403"]["description"].as_str().unwrap_or("");
                assert!(
                    forbidden.contains(&format!("`{}` scope", scope.name())),
                    "{method} {}: 403 should name `{}`: {forbidden}",
                    route.path,
                    scope.name()
                );
            }
        }
    }
}

#[test]
fn every_operation_documents_its_refusals() {
    let state = state(true);
    let doc = document(&state);
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let responses = op["responses"].as_object().expect("responses");
            let has = |status: &str| responses.contains_key(status);
            let what = format!("{method} {path}");
            assert!(has("421") && has("503"), "{what}: host and timeout");
            let open = [
                "/",
                "/health/live",
                "/health/ready",
                "/v2/health/live",
                "/v2/health/ready",
                "/openapi.json",
                "/docs",
                "/ui",
                "/ui/{name}",
                "/ping",
                "/azure/live",
                "/azure/ready",
            ];
            // `GET /graphql` is the query page (docs access); `POST /graphql` needs `predict`.
            let open_page = method == "get" && path == "/graphql";
            if !open.contains(&path.as_str()) && !open_page {
                assert!(has("401") && has("403"), "{what}: 401 and 403");
                assert_eq!(
                    op["security"],
                    serde_json::json!([{"bearer": []}]),
                    "{what}"
                );
            } else {
                assert_eq!(op["security"], serde_json::json!([]), "{what}: open");
            }
            // A load under a new name creates the model.
            if path.contains('{') && path != "/admin/models/{name}/versions" {
                assert!(has("404"), "{what}: an unknown name is a 404");
            }
            if method != "get" {
                assert!(has("403"), "{what}: cross-origin");
                if path.starts_with("/admin/") {
                    assert!(has("415"), "{what}: admin content types");
                }
            }
            if op.get("requestBody").is_some() {
                assert!(has("400") && has("413"), "{what}: body errors");
            }
            for (status, response) in responses {
                if status.starts_with('4') || status == "500" {
                    let schema = &response["content"]["application/json"]["schema"];
                    assert!(schema.is_object(), "{what} {status}: a JSON error body");
                }
            }
        }
    }
    let unload = &doc["paths"]["/admin/models/{name}/versions/{version}"]["delete"]["responses"];
    assert!(unload.get("409").is_some(), "version in use");
    let upload = &doc["paths"]["/admin/models/{name}/versions"]["post"]["responses"];
    assert!(upload.get("429").is_some() && upload.get("415").is_some());
}

#[test]
fn protected_docs_are_documented_as_protected() {
    let options = Options {
        protect_docs: true,
        ..Options::default()
    };
    let keys = crate::auth::KeyStore::parse(&format!(
        "[[keys]]\nusername = \"a\"\ntoken_sha256 = \"{}\"\nscopes = [\"predict\"]\n",
        crate::auth::token_sha256("t")
    ))
    .expect("keys");
    let state = AppState::new(Some(keys), options).expect("state");
    let doc = super::document(&state, &state.registry());
    for path in ["/openapi.json", "/docs", "/ui", "/ui/{name}"] {
        let op = &doc["paths"][path]["get"];
        assert!(op["responses"].get("401").is_some(), "{path}");
        assert_eq!(
            op["security"],
            serde_json::json!([{"bearer": []}]),
            "{path}"
        );
    }
}
