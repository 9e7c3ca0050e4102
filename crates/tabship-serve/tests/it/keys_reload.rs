//! Reloading the keys file: a revoked token is refused after the reload, a broken file keeps the
//! old keys, and every reload is counted in `/metrics`.

use axum::http::{Method, StatusCode};
use tabship_serve::Options;
use tabship_serve::auth::token_sha256;

use crate::common::*;

const NEW_TOKEN: &str = "tsk_added_after_start";

fn keys_text(with_predict_user: bool, with_new_user: bool) -> String {
    let mut text = format!(
        "[[keys]]\nusername = \"ops\"\ntoken_sha256 = \"{}\"\nscopes = [\"predict\", \"feedback\", \"admin\", \"metrics\"]\n",
        token_sha256(ALL_TOKEN)
    );
    if with_predict_user {
        text.push_str(&format!(
            "\n[[keys]]\nusername = \"pedro1\"\ntoken_sha256 = \"{}\"\nscopes = [\"predict\"]\n",
            token_sha256(PREDICT_TOKEN)
        ));
    }
    if with_new_user {
        text.push_str(&format!(
            "\n[[keys]]\nusername = \"newcomer\"\ntoken_sha256 = \"{}\"\nscopes = [\"predict\"]\n",
            token_sha256(NEW_TOKEN)
        ));
    }
    text
}

async fn predict_status(app: &axum::Router, token: &str) -> StatusCode {
    let auth = bearer(token);
    send(
        app,
        Method::POST,
        "/predict",
        &[("authorization", &auth)],
        setosa().to_string(),
    )
    .await
    .status
}

async fn reload(app: &axum::Router) -> Answer {
    let auth = bearer(ALL_TOKEN);
    send(
        app,
        Method::POST,
        "/admin/keys/reload",
        &[("authorization", &auth)],
        "",
    )
    .await
}

/// A server reading its keys from `dir/keys.toml` (first written with the predict user only): the
/// file, the state and the router.
fn served_with_keys_file(
    dir: &std::path::Path,
) -> (
    std::path::PathBuf,
    std::sync::Arc<tabship_serve::AppState>,
    axum::Router,
) {
    let file = dir.join("keys.toml");
    std::fs::write(&file, keys_text(true, false)).expect("write keys");
    let options = Options {
        keys_file: Some(file.clone()),
        ..Options::default()
    };
    let state = state_with(
        Some(tabship_serve::auth::KeyStore::load(&file).expect("keys")),
        options,
    );
    let app = tabship_serve::router(state.clone());
    (file, state, app)
}

#[tokio::test]
async fn revoked_token_is_refused_and_added_one_works_after_reload() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (file, state, app) = served_with_keys_file(dir.path());
    assert_eq!(predict_status(&app, PREDICT_TOKEN).await, StatusCode::OK);
    assert_eq!(
        predict_status(&app, NEW_TOKEN).await,
        StatusCode::UNAUTHORIZED
    );

    std::fs::write(&file, keys_text(false, true)).expect("rewrite keys");
    let a = reload(&app).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.json()["keys"], 2);
    assert_eq!(
        predict_status(&app, PREDICT_TOKEN).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(predict_status(&app, NEW_TOKEN).await, StatusCode::OK);

    // The library call (what SIGHUP runs) does the same.
    std::fs::write(&file, keys_text(true, true)).expect("rewrite keys");
    assert_eq!(state.reload_keys().expect("reload"), 3);
    assert_eq!(predict_status(&app, PREDICT_TOKEN).await, StatusCode::OK);

    // Only admins may reload.
    let auth = bearer(PREDICT_TOKEN);
    send(
        &app,
        Method::POST,
        "/admin/keys/reload",
        &[("authorization", &auth)],
        "",
    )
    .await
    .error(StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn broken_file_keeps_the_old_keys() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (file, state, app) = served_with_keys_file(dir.path());

    // A bad hash in the second entry: the whole file is refused, not half of it.
    std::fs::write(
        &file,
        "[[keys]]\nusername = \"ops\"\ntoken_sha256 = \"00\"\nscopes = [\"admin\"]\n",
    )
    .expect("break keys");
    let error = reload(&app)
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_keys");
    assert!(
        error["message"].as_str().expect("message").contains("`00`"),
        "{error}"
    );
    assert_eq!(predict_status(&app, PREDICT_TOKEN).await, StatusCode::OK);

    std::fs::write(&file, "keys = [").expect("not TOML");
    reload(&app)
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_keys");
    std::fs::remove_file(&file).expect("remove");
    reload(&app)
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_keys");
    assert!(state.reload_keys().is_err());
    assert_eq!(predict_status(&app, PREDICT_TOKEN).await, StatusCode::OK);
    assert_eq!(predict_status(&app, ALL_TOKEN).await, StatusCode::OK);

    std::fs::write(&file, keys_text(false, false)).expect("fix keys");
    assert_eq!(reload(&app).await.status, StatusCode::OK);
    let auth = bearer(ALL_TOKEN);
    let metrics = get_with_token(&app, "/metrics", &auth).await.text();
    assert!(
        metrics.contains("tabship_keys_reloads_total{result=\"error\"} 4"),
        "{metrics}"
    );
    assert!(
        metrics.contains("tabship_keys_reloads_total{result=\"ok\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn reload_without_a_keys_file_is_a_conflict() {
    let a = reload(&app()).await;
    a.error(StatusCode::CONFLICT, "no_keys_file");
}
