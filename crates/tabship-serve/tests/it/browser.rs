//! What a web page the operator visits can do to a server without keys (the loopback default,
//! `tabship demo`): cross-site requests, DNS rebinding, framing the pages.

use axum::http::{Method, StatusCode};
use sha2::{Digest, Sha256};

use crate::common::*;

/// The current version of iris, as `/models/iris` reports it (`versions` lists them all).
async fn iris_version(app: &axum::Router) -> String {
    let a = get(app, "/models/iris").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    a.json()["current_version"]
        .as_str()
        .expect("current_version")
        .to_owned()
}

/// A loopback server as `tabship serve` starts it: no keys, loopback `Host` names only.
fn loopback() -> axum::Router {
    tabship_serve::router(state_with(
        None,
        tabship_serve::Options {
            allowed_hosts: Some(Vec::new()),
            ..tabship_serve::Options::default()
        },
    ))
}

#[tokio::test]
async fn a_cross_site_simple_post_cannot_upload_a_model() {
    let app = app();
    let before = iris_version(&app).await;
    let tree = std::fs::read(golden("iris_tree.tabship")).expect("artifact");
    // What `fetch(url, {method: 'POST', mode: 'no-cors', body})` sends from another site: a
    // "simple" request, so the browser sends it without asking the server first.
    let a = send(
        &app,
        Method::POST,
        "/admin/models/iris/versions?version=evil",
        &[
            ("host", "127.0.0.1:8900"),
            ("origin", "http://evil.example"),
            ("content-type", "text/plain"),
        ],
        tree.clone(),
    )
    .await;
    let error = a.error(StatusCode::FORBIDDEN, "cross_origin");
    assert!(
        error["message"]
            .as_str()
            .expect("message")
            .contains("`http://evil.example`"),
        "{error}"
    );
    // Any state-changing route, with any content type, from another origin.
    for (method, uri) in [
        (Method::POST, "/admin/models/iris/rollback"),
        (Method::DELETE, "/admin/models/iris/split"),
        (Method::POST, "/predict"),
    ] {
        let a = send(
            &app,
            method,
            uri,
            &[
                ("host", "localhost:8900"),
                ("origin", "http://localhost:9999"),
                ("content-type", "application/json"),
            ],
            setosa().to_string(),
        )
        .await;
        a.error(StatusCode::FORBIDDEN, "cross_origin");
    }
    assert_eq!(iris_version(&app).await, before, "nothing changed");
    // A page of the server itself may post (the /ui form predicts this way).
    let a = send(
        &app,
        Method::POST,
        "/predict",
        &[
            ("host", "localhost:8900"),
            ("origin", "http://localhost:8900"),
            ("content-type", "application/json"),
        ],
        setosa().to_string(),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
}

#[tokio::test]
async fn admin_bodies_need_a_json_artifact_or_form_content_type() {
    let app = app();
    let before = iris_version(&app).await;
    let tree = std::fs::read(golden("iris_tree.tabship")).expect("artifact");
    // No Origin (an old browser, a form without one): the content type still refuses it.
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let headers: Vec<(&str, &str)> = content_type
            .map(|t| vec![("content-type", t)])
            .unwrap_or_default();
        let a = send(
            &app,
            Method::POST,
            "/admin/models/iris/versions?version=plain",
            &headers,
            tree.clone(),
        )
        .await;
        let error = a.error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
        let expected = content_type.map_or("none".to_owned(), |t| format!("`{t}`"));
        assert!(
            error["message"]
                .as_str()
                .expect("message")
                .ends_with(&expected),
            "{error}"
        );
    }
    assert_eq!(iris_version(&app).await, before, "nothing changed");
    // The raw artifact as application/octet-stream is the documented upload.
    let a = send(
        &app,
        Method::POST,
        "/admin/models/iris/versions?version=raw",
        &[("content-type", "application/octet-stream")],
        tree,
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
    // Bodiless admin calls need no content type.
    let a = send(
        &app,
        Method::POST,
        "/admin/models/iris/rollback",
        &[],
        axum::body::Body::empty(),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(iris_version(&app).await, before, "rolled back");
}

#[tokio::test]
async fn a_loopback_server_answers_only_loopback_host_names() {
    let app = loopback();
    // A DNS rebinding page: the browser thinks it talks to evil.example, which now resolves to
    // 127.0.0.1, and sends `Host: evil.example:8900` (and no cross-origin `Origin`).
    for host in ["evil.example:8900", "evil.example", "127.0.0.1.nip.io:8900"] {
        let a = send(&app, Method::GET, "/models", &[("host", host)], "").await;
        let error = a.error(StatusCode::MISDIRECTED_REQUEST, "host_not_allowed");
        assert!(
            error["message"]
                .as_str()
                .expect("message")
                .contains(&format!("`{host}`")),
            "{error}"
        );
        let a = send(
            &app,
            Method::POST,
            "/predict",
            &[
                ("host", host),
                ("origin", &format!("http://{host}")),
                ("content-type", "application/json"),
            ],
            setosa().to_string(),
        )
        .await;
        a.error(StatusCode::MISDIRECTED_REQUEST, "host_not_allowed");
    }
    for host in [
        "localhost:8900",
        "LOCALHOST",
        "127.0.0.1:8900",
        "[::1]:8900",
    ] {
        let a = send(&app, Method::GET, "/models", &[("host", host)], "").await;
        assert_eq!(a.status, StatusCode::OK, "{host}: {}", a.text());
    }
    // A name the operator allowed (a reverse proxy passing its own Host).
    let proxied = tabship_serve::router(state_with(
        None,
        tabship_serve::Options {
            allowed_hosts: Some(vec!["models.example".to_owned()]),
            ..tabship_serve::Options::default()
        },
    ));
    let a = send(
        &proxied,
        Method::GET,
        "/models",
        &[("host", "models.example")],
        "",
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
}

#[tokio::test]
async fn pages_cannot_be_framed_and_run_only_their_own_scripts() {
    let app = app();
    for uri in ["/docs", "/ui", "/ui/adult"] {
        let a = get(&app, uri).await;
        assert_eq!(a.status, StatusCode::OK);
        let header = |name: &str| {
            a.headers
                .get(name)
                .unwrap_or_else(|| panic!("{uri}: no {name}"))
                .to_str()
                .expect("ascii")
                .to_owned()
        };
        let csp = header("content-security-policy");
        assert!(csp.contains("frame-ancestors 'none'"), "{uri}: {csp}");
        assert_eq!(header("x-frame-options"), "DENY");
        assert_eq!(header("x-content-type-options"), "nosniff");
        let script_src = csp
            .split(';')
            .map(str::trim)
            .find_map(|d| d.strip_prefix("script-src "))
            .unwrap_or_else(|| panic!("{uri}: no script-src in {csp}"));
        assert!(!script_src.contains("unsafe-inline"), "{uri}: {csp}");
        // Every inline script of the page is allowed by its hash, and nothing else is.
        let html = a.text();
        let scripts: Vec<&str> = html
            .split("<script>")
            .skip(1)
            .map(|s| s.split("</script>").next().expect("closed"))
            .collect();
        assert!(!scripts.is_empty(), "{uri} has its script");
        use base64::Engine as _;
        let hashes: Vec<String> = scripts
            .iter()
            .map(|s| {
                format!(
                    "'sha256-{}'",
                    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(s))
                )
            })
            .collect();
        assert_eq!(script_src, hashes.join(" "), "{uri}");
    }
}
