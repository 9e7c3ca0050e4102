//! Admin: load versions (path, upload), aliases, activate, rollback, A/B split, shadow, unload;
//! a corrupt artifact is refused while the old version keeps serving.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::*;

/// A `multipart/form-data` body as `curl -F` builds it.
pub fn form(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "------------------------tabshiptest";
    let mut body = Vec::new();
    for (name, filename, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let disposition = match filename {
            Some(f) => format!(
                "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            ),
            None => format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n"),
        };
        body.extend_from_slice(disposition.as_bytes());
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub async fn upload_form(
    app: &axum::Router,
    uri: &str,
    parts: &[(&str, Option<&str>, &[u8])],
) -> Answer {
    let auth = bearer(ALL_TOKEN);
    let (content_type, body) = form(parts);
    send(
        app,
        Method::POST,
        uri,
        &[("authorization", &auth), ("content-type", &content_type)],
        body,
    )
    .await
}

#[tokio::test]
async fn multipart_form_uploads_name_their_errors() {
    let app = secured();
    let tree = std::fs::read(golden("iris_tree.tabship")).expect("artifact");
    let uri = "/admin/models/iris/versions";
    let a = upload_form(
        &app,
        uri,
        &[
            ("version", None, b"7"),
            ("activate", None, b"off"),
            ("file", Some("iris_tree.tabship"), &tree),
        ],
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
    assert_eq!(a.json()["loaded"]["version"], "7");
    assert_eq!(
        served_version(&app, "/predict", None).await,
        "golden",
        "not activated"
    );
    assert_eq!(
        served_version(&app, "/models/iris/versions/7/predict", None).await,
        "7"
    );
    // The query string still works for a form without those parts.
    let a = upload_form(
        &app,
        &format!("{uri}?version=8"),
        &[("model", Some("m"), &tree)],
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
    assert_eq!(
        served_version(&app, "/predict", None).await,
        "8",
        "activated by default"
    );

    let field = |a: &Answer, status, code| {
        a.error(status, code)["fields"][0]["field"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    type Part<'a> = (&'a str, Option<&'a str>, &'a [u8]);
    let cases: [(&[Part], &str); 5] = [
        (&[("version", None, b"9")], "form part `file`"),
        (&[("file", Some("m"), b"")], "form part `file`"),
        (
            &[("file", Some("m"), &tree), ("colour", None, b"red")],
            "form part `colour`",
        ),
        (
            &[("file", Some("m"), &tree), ("file", Some("n"), &tree)],
            "form part `file`",
        ),
        (
            &[("file", Some("m"), &tree), ("activate", None, b"maybe")],
            "activate",
        ),
    ];
    for (parts, named) in cases {
        let a = upload_form(&app, uri, parts).await;
        assert_eq!(field(&a, StatusCode::BAD_REQUEST, "invalid_input"), named);
    }
    let corrupt = upload_form(
        &app,
        &format!("{uri}?version=10"),
        &[("file", Some("m"), b"junk")],
    )
    .await;
    corrupt.error(StatusCode::BAD_REQUEST, "invalid_artifact");
    let auth = bearer(ALL_TOKEN);
    let truncated = send(
        &app,
        Method::POST,
        uri,
        &[
            ("authorization", &auth),
            ("content-type", "multipart/form-data; boundary=x"),
        ],
        "--x\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nabc",
    )
    .await;
    assert_eq!(
        field(&truncated, StatusCode::BAD_REQUEST, "invalid_input"),
        "body"
    );
    assert_eq!(
        served_version(&app, "/predict", None).await,
        "8",
        "nothing changed"
    );
}

async fn served_version(app: &axum::Router, uri: &str, key: Option<&str>) -> String {
    let auth = bearer(ALL_TOKEN);
    let mut headers = vec![("authorization", auth.as_str())];
    if let Some(k) = key {
        headers.push((tabship_serve::ROUTING_KEY_HEADER, k));
    }
    let a = send(app, Method::POST, uri, &headers, setosa().to_string()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    a.json()["version"].as_str().expect("version").to_owned()
}

#[tokio::test]
async fn upload_activate_alias_rollback() {
    let app = secured();
    let tree = std::fs::read(golden("iris_tree.tabship")).expect("artifact");
    let a = admin_upload(&app, "/admin/models/iris/versions?version=2", tree.clone()).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
    assert_eq!(a.json()["loaded"]["version"], "2");
    assert_eq!(served_version(&app, "/predict", None).await, "2");
    // The same version again is a conflict.
    admin_upload(&app, "/admin/models/iris/versions?version=2", tree)
        .await
        .error(StatusCode::CONFLICT, "version_exists");
    // Alias and versioned predict through it.
    let a = admin_expect(
        &app,
        Method::PUT,
        "/admin/models/iris/aliases/production",
        json!({"version": "golden"}),
        StatusCode::OK,
    )
    .await;
    assert_eq!(a.json()["aliases"]["production"], "golden");
    assert_eq!(
        served_version(&app, "/models/iris/versions/production/predict", None).await,
        "golden"
    );
    admin_json(
        &app,
        Method::PUT,
        "/admin/models/iris/aliases/staging",
        json!({"version": "7"}),
    )
    .await
    .error(StatusCode::NOT_FOUND, "version_not_found");
    // Rollback returns to the previous current version, then there is nothing left.
    let a = admin_json(&app, Method::POST, "/admin/models/iris/rollback", json!({})).await;
    assert_eq!(a.json()["current_version"], "golden");
    assert_eq!(served_version(&app, "/predict", None).await, "golden");
    admin_json(&app, Method::POST, "/admin/models/iris/rollback", json!({}))
        .await
        .error(StatusCode::CONFLICT, "no_previous_version");
    // Activate through the alias target, then unload rules.
    let a = admin_json(
        &app,
        Method::POST,
        "/admin/models/iris/activate",
        json!({"version": "2"}),
    )
    .await;
    assert_eq!(a.json()["current_version"], "2");
    admin_json(
        &app,
        Method::DELETE,
        "/admin/models/iris/versions/2",
        json!({}),
    )
    .await
    .error(StatusCode::CONFLICT, "version_in_use");
    admin_json(
        &app,
        Method::POST,
        "/admin/models/iris/activate",
        json!({"version": "production"}),
    )
    .await;
    let a = admin_expect(
        &app,
        Method::DELETE,
        "/admin/models/iris/versions/2",
        json!({}),
        StatusCode::OK,
    )
    .await;
    assert_eq!(a.json()["versions"].as_array().expect("versions").len(), 1);
    let a = admin_json(
        &app,
        Method::DELETE,
        "/admin/models/iris/aliases/production",
        json!({}),
    )
    .await;
    assert_eq!(a.json()["aliases"], json!({}));
    admin_json(
        &app,
        Method::DELETE,
        "/admin/models/iris/aliases/production",
        json!({}),
    )
    .await
    .error(StatusCode::NOT_FOUND, "alias_not_found");
}

#[tokio::test]
async fn load_by_path_and_refuse_corrupt_artifacts() {
    let app = secured();
    let path = golden("iris_tree.tabship");
    admin_expect(
        &app,
        Method::POST,
        "/admin/models/iris/versions",
        json!({"path": path, "version": "tree", "activate": false}),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        served_version(&app, "/predict", None).await,
        "golden",
        "not activated"
    );
    assert_eq!(
        served_version(&app, "/models/iris/versions/tree/predict", None).await,
        "tree"
    );

    let mut corrupt = std::fs::read(golden("iris_logistic.tabship")).expect("artifact");
    let last = corrupt.len() - 1;
    corrupt[last] ^= 0xff;
    let e = admin_upload(&app, "/admin/models/iris/versions?version=3", corrupt)
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_artifact");
    assert!(
        e["message"].as_str().expect("message").contains("checksum"),
        "{e}"
    );
    admin_upload(
        &app,
        "/admin/models/iris/versions?version=4",
        b"not an artifact".to_vec(),
    )
    .await
    .error(StatusCode::BAD_REQUEST, "invalid_artifact");
    admin_json(
        &app,
        Method::POST,
        "/admin/models/iris/versions",
        json!({"path": "/nonexistent.tabship"}),
    )
    .await
    .error(StatusCode::BAD_REQUEST, "invalid_artifact");
    admin_json(
        &app,
        Method::POST,
        "/admin/models/iris/versions",
        json!({"nope": 1}),
    )
    .await
    .error(StatusCode::BAD_REQUEST, "invalid_input");
    // The old version still serves and the refused ones are absent.
    assert_eq!(served_version(&app, "/predict", None).await, "golden");
    let model = get_json_auth(&app, "/models/iris").await;
    assert_eq!(version_names(&model), ["golden", "tree"]);
}

async fn get_json_auth(app: &axum::Router, uri: &str) -> Value {
    let auth = bearer(ALL_TOKEN);
    send(
        app,
        Method::GET,
        uri,
        &[("authorization", &auth)],
        axum::body::Body::empty(),
    )
    .await
    .json()
}

#[tokio::test]
async fn split_is_sticky_and_shadow_is_scored_not_returned() {
    let app = with_version_b().await;
    split_golden_and_b(&app).await;
    let mut seen = std::collections::BTreeSet::new();
    for user in 0..40 {
        let key = format!("user-{user}");
        let first = served_version(&app, "/predict", Some(&key)).await;
        for _ in 0..3 {
            assert_eq!(
                served_version(&app, "/predict", Some(&key)).await,
                first,
                "sticky"
            );
        }
        seen.insert(first);
    }
    assert_eq!(seen.len(), 2, "both arms get traffic: {seen:?}");
    admin_json(
        &app,
        Method::PUT,
        "/admin/models/iris/split",
        json!({"versions": {"golden": 0, "b": 1}}),
    )
    .await
    .error(StatusCode::BAD_REQUEST, "invalid_input");
    admin_json(
        &app,
        Method::PUT,
        "/admin/models/iris/split",
        json!({"versions": {"golden": 1, "zz": 1}}),
    )
    .await
    .error(StatusCode::NOT_FOUND, "version_not_found");
    admin_json(&app, Method::DELETE, "/admin/models/iris/split", json!({})).await;
    assert_eq!(
        served_version(&app, "/predict", Some("user-1")).await,
        "golden"
    );

    shadow_b(&app).await;
    for _ in 0..5 {
        assert_eq!(
            served_version(&app, "/predict", None).await,
            "golden",
            "the shadow is never returned"
        );
    }
    assert!(
        shadow_b_scored(&app, 5).await,
        "the shadow scored all 5 requests"
    );
    admin_json(&app, Method::DELETE, "/admin/models/iris/shadow", json!({})).await;
    admin_json(&app, Method::POST, "/admin/models/nope/rollback", json!({}))
        .await
        .error(StatusCode::NOT_FOUND, "model_not_found");
}
