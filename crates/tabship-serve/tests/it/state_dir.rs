//! `Options::state_dir`: admin changes survive a restart; unusable saved state is skipped.

use std::path::Path;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use tabship_serve::Options;

use crate::common::*;

fn server(dir: &Path) -> axum::Router {
    let options = Options {
        state_dir: Some(dir.to_path_buf()),
        ..Options::default()
    };
    tabship_serve::router(state_with(Some(keys()), options))
}

async fn ok(app: &axum::Router, method: Method, uri: &str, body: Value) -> Value {
    let a = admin_json(app, method, uri, body).await;
    assert!(a.status.is_success(), "{uri}: {}", a.text());
    a.json()
}

async fn iris(app: &axum::Router) -> Value {
    ok(app, Method::GET, "/models/iris", json!({})).await
}

/// Uploads `tree` (iris version 2), loads iris version `path` by server path without activating,
/// points `production` at 2, splits golden/2 90/10, shadows `path`, and checks the files.
async fn make_changes(app: &axum::Router, dir: &Path) {
    let tree = std::fs::read(golden("iris_tree.tabship")).expect("artifact");
    let a = admin_upload(app, "/admin/models/iris/versions?version=2", tree.clone()).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
    let path = golden("iris_tree.tabship");
    ok(
        app,
        Method::POST,
        "/admin/models/iris/versions",
        json!({"path": path, "version": "path", "activate": false}),
    )
    .await;
    ok(
        app,
        Method::PUT,
        "/admin/models/iris/aliases/production",
        json!({"version": "2"}),
    )
    .await;
    ok(
        app,
        Method::PUT,
        "/admin/models/iris/split",
        json!({"versions": {"golden": 90, "2": 10}}),
    )
    .await;
    ok(
        app,
        Method::PUT,
        "/admin/models/iris/shadow",
        json!({"version": "path"}),
    )
    .await;
    let stored = std::fs::read(dir.join("models/iris/2.tabship")).expect("upload stored");
    assert_eq!(stored, tree, "the upload is stored byte for byte");
    let saved = read_state(dir);
    assert_eq!(saved["format"], "tabship-serve-state");
    assert_eq!(saved["format_version"], 1);
    let iris = &saved["models"]["iris"];
    assert_eq!(iris["current"], "2");
    assert_eq!(iris["versions"][0]["origin"], "upload");
    assert_eq!(iris["versions"][0]["file"], "models/iris/2.tabship");
    assert_eq!(iris["versions"][1]["origin"], "path");
    assert!(
        iris["versions"][1]["checksum"]
            .as_str()
            .is_some_and(|c| c.starts_with("sha256:")),
        "{iris}"
    );
    assert_eq!(
        saved["models"]["adult"]["versions"],
        json!([]),
        "command-line versions are not saved"
    );
}

/// Runs [`make_changes`] on a first server of `dir`, stops it, then applies `damage` to what it
/// saved; the restart is the caller's.
async fn changed_then(dir: &Path, damage: impl FnOnce(&Path)) {
    let first = server(dir);
    make_changes(&first, dir).await;
    drop(first);
    damage(dir);
}

/// The saved `state.json` of `dir`, parsed.
fn read_state(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("state.json")).expect("state"))
        .expect("state.json is JSON")
}

/// Rewrites the saved `state.json` of `dir` through `edit`.
fn edit_state(dir: &Path, edit: impl FnOnce(&mut Value)) {
    let mut saved = read_state(dir);
    edit(&mut saved);
    std::fs::write(
        dir.join("state.json"),
        serde_json::to_vec(&saved).expect("encode"),
    )
    .expect("write");
}

/// The files of `dir` set aside under a name starting with `prefix`.
fn set_aside(dir: &Path, prefix: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("read dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(prefix))
        .collect()
}

/// Points iris' alias `stable` at `golden`: a change that saves the state again.
async fn alias_stable(app: &axum::Router) {
    ok(
        app,
        Method::PUT,
        "/admin/models/iris/aliases/stable",
        json!({"version": "golden"}),
    )
    .await;
}

#[tokio::test]
async fn admin_changes_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = server(dir.path());
    make_changes(&first, dir.path()).await;
    let before = iris(&first).await;
    drop(first);

    let second = server(dir.path());
    let after = iris(&second).await;
    assert_eq!(version_names(&after), ["2", "golden", "path"]);
    for key in ["current_version", "aliases", "split", "shadow", "history"] {
        assert_eq!(after[key], before[key], "{key} restored");
    }
    assert_eq!(after["aliases"]["production"], "2");
    assert_eq!(after["split"].as_array().map(Vec::len), Some(2));
    assert_eq!(after["shadow"], "path");
    // The restored upload predicts, and rollback still knows the history.
    let auth = bearer(ALL_TOKEN);
    let a = send(
        &second,
        Method::POST,
        "/models/iris/versions/production/predict",
        &[("authorization", &auth)],
        setosa().to_string(),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.json()["version"], "2");
    let rolled = ok(
        &second,
        Method::POST,
        "/admin/models/iris/rollback",
        json!({}),
    )
    .await;
    assert_eq!(rolled["current_version"], "golden");

    // Unloading an upload removes its file and its record.
    ok(
        &second,
        Method::DELETE,
        "/admin/models/iris/split",
        json!({}),
    )
    .await;
    ok(
        &second,
        Method::DELETE,
        "/admin/models/iris/versions/2",
        json!({}),
    )
    .await;
    assert!(!dir.path().join("models/iris/2.tabship").exists());
    drop(second);
    let third = server(dir.path());
    let model = iris(&third).await;
    assert_eq!(version_names(&model), ["golden", "path"]);
    assert_eq!(model["current_version"], "golden");
    assert_eq!(model["aliases"], json!({}), "the alias went with version 2");
}

#[tokio::test]
async fn corrupt_state_json_is_set_aside_and_the_command_line_serves() {
    let dir = tempfile::tempdir().expect("tempdir");
    changed_then(dir.path(), |dir| {
        std::fs::write(dir.join("state.json"), "{\"format\": \"tabship-serve-st").expect("corrupt");
    })
    .await;

    let second = server(dir.path());
    let model = iris(&second).await;
    assert_eq!(
        version_names(&model),
        ["golden"],
        "only the command-line version"
    );
    assert_eq!(model["current_version"], "golden");
    assert_eq!(model["split"], Value::Null);
    let aside = set_aside(dir.path(), "state.json.corrupt-");
    assert_eq!(aside.len(), 1, "the corrupt file is kept aside");
    // The server works, and the next change writes a fresh state.
    alias_stable(&second).await;
    let saved = read_state(dir.path());
    assert_eq!(saved["models"]["iris"]["aliases"]["stable"], "golden");
}

/// The audit's case: one split weight of 2^64 made the whole model's saved state be skipped
/// (versions included), and the next admin change saved `versions: []`, orphaning the uploads.
#[tokio::test]
async fn one_invalid_field_skips_only_itself_and_the_file_is_kept_aside() {
    let dir = tempfile::tempdir().expect("tempdir");
    changed_then(dir.path(), |dir| {
        edit_state(dir, |saved| {
            saved["models"]["iris"]["split"][0]["weight"] = json!(18_446_744_073_709_551_616_f64);
            saved["models"]["iris"]["aliases"]["canary"] = json!(12);
        });
    })
    .await;

    let second = server(dir.path());
    let model = iris(&second).await;
    assert_eq!(version_names(&model), ["2", "golden", "path"], "{model}");
    assert_eq!(model["current_version"], "2");
    assert_eq!(model["split"], Value::Null, "the invalid split is skipped");
    assert_eq!(
        model["aliases"],
        json!({"production": "2"}),
        "the invalid alias is skipped, the valid one kept"
    );
    assert_eq!(model["shadow"], "path");
    let aside = set_aside(dir.path(), "state.json.rejected-");
    assert_eq!(aside.len(), 1, "the rejected file is kept aside: {aside:?}");
    // The next change saves what is served: the uploaded versions are still there.
    alias_stable(&second).await;
    let saved = read_state(dir.path());
    assert_eq!(
        saved["models"]["iris"]["versions"].as_array().map(Vec::len),
        Some(2),
        "{saved}"
    );
}

/// `kill -9` during uploads left their temporary files behind (14 files, 218 MB in the audit).
#[tokio::test]
async fn temporary_files_of_interrupted_writes_are_removed_at_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    changed_then(dir.path(), |_| {}).await;
    let leftovers = [
        dir.path().join(".tabship-aB3xYz.tmp"),
        dir.path().join("models/iris/.tabship-Q9rT2u.tmp"),
    ];
    for path in &leftovers {
        std::fs::write(path, b"half an upload").expect("leftover");
    }
    let other = dir.path().join("models/iris/notes.tmp");
    std::fs::write(&other, b"not ours").expect("other file");

    let second = server(dir.path());
    assert_eq!(version_names(&iris(&second).await), ["2", "golden", "path"]);
    for path in &leftovers {
        assert!(!path.exists(), "{} is left", path.display());
    }
    assert!(
        other.exists(),
        "only tabship's own temporary files are removed"
    );
}

#[tokio::test]
async fn an_unusable_saved_version_is_skipped_with_what_depends_on_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Version 2's artifact is truncated: it, its alias, the split and current fall back.
    changed_then(dir.path(), |dir| {
        let stored = dir.join("models/iris/2.tabship");
        let bytes = std::fs::read(&stored).expect("stored");
        std::fs::write(&stored, &bytes[..bytes.len() / 2]).expect("truncate");
    })
    .await;

    let second = server(dir.path());
    let model = iris(&second).await;
    assert_eq!(version_names(&model), ["golden", "path"]);
    assert_eq!(model["current_version"], "golden");
    assert_eq!(model["aliases"], json!({}));
    assert_eq!(model["split"], Value::Null);
    assert_eq!(model["shadow"], "path", "what is still valid is restored");
}

#[tokio::test]
async fn a_changed_path_artifact_is_not_reloaded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let artifacts = tempfile::tempdir().expect("tempdir");
    let path = artifacts.path().join("candidate.tabship");
    std::fs::copy(golden("iris_tree.tabship"), &path).expect("copy");
    let first = server(dir.path());
    ok(
        &first,
        Method::POST,
        "/admin/models/iris/versions",
        json!({"path": path, "version": "candidate"}),
    )
    .await;
    drop(first);
    // Another artifact now sits at that path: serving it as `candidate` would be a lie.
    std::fs::copy(golden("iris_logistic.tabship"), &path).expect("replace");
    let second = server(dir.path());
    let model = iris(&second).await;
    assert_eq!(version_names(&model), ["golden"]);
    assert_eq!(model["current_version"], "golden");
}

#[tokio::test]
async fn an_unwritable_state_dir_refuses_the_change() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = server(dir.path());
    // A directory where state.json should be: the rename fails.
    std::fs::create_dir(dir.path().join("state.json")).expect("block state.json");
    admin_json(
        &app,
        Method::PUT,
        "/admin/models/iris/aliases/stable",
        json!({"version": "golden"}),
    )
    .await
    .error(StatusCode::INTERNAL_SERVER_ERROR, "state_not_saved");
    assert_eq!(iris(&app).await["aliases"], json!({}), "nothing changed");
    let tree = std::fs::read(golden("iris_tree.tabship")).expect("artifact");
    admin_upload(&app, "/admin/models/iris/versions?version=2", tree)
        .await
        .error(StatusCode::INTERNAL_SERVER_ERROR, "state_not_saved");
    assert_eq!(version_names(&iris(&app).await), ["golden"]);
    assert!(
        !dir.path().join("models/iris/2.tabship").exists(),
        "the stored upload is removed again"
    );
}

#[tokio::test]
async fn a_change_abandoned_by_the_timeout_during_its_save_is_still_published() {
    // The request's time runs out while state.json is being written (a 1 ns timeout fires at the
    // first wait, which is the save): the client gets 503 `timeout`, but the change that reaches
    // the disk must also be served. Before the fix it was saved and never published, so a
    // restart changed what the server answered.
    let dir = tempfile::tempdir().expect("temp dir");
    let options = Options {
        state_dir: Some(dir.path().to_path_buf()),
        request_timeout: std::time::Duration::from_nanos(1),
        ..Options::default()
    };
    let state = state_with(Some(keys()), options);
    let app = tabship_serve::router(state.clone());
    let answer = admin_json(
        &app,
        Method::PUT,
        "/admin/models/iris/aliases/production",
        json!({"version": "golden"}),
    )
    .await;
    answer.error(StatusCode::SERVICE_UNAVAILABLE, "timeout");
    let served = || {
        state
            .registry()
            .models
            .get("iris")
            .is_some_and(|e| e.aliases.contains_key("production"))
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !served() {
        assert!(
            std::time::Instant::now() < deadline,
            "the saved alias was never published"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let saved = std::fs::read_to_string(dir.path().join("state.json")).expect("state.json");
    assert!(saved.contains("production"), "{saved}");
}

#[tokio::test]
async fn strict_state_keeps_the_server_not_ready_when_a_part_was_skipped() {
    let dir = tempfile::tempdir().expect("tempdir");
    changed_then(dir.path(), |dir| {
        edit_state(dir, |saved| {
            saved["models"]["iris"]["aliases"]["canary"] = json!(12);
        });
    })
    .await;

    let strict = |strict_state| {
        let options = Options {
            state_dir: Some(dir.path().to_path_buf()),
            strict_state,
            ..Options::default()
        };
        tabship_serve::router(state_with(Some(keys()), options))
    };
    let app = strict(true);
    let ready = send(&app, Method::GET, "/health/ready", &[], "").await;
    assert_eq!(
        ready.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        ready.text()
    );
    assert_eq!(ready.json()["status"], "state_invalid", "{}", ready.text());
    assert_eq!(ready.json()["skipped"], 1, "{}", ready.text());
    let predict = post_json_as(
        &app,
        "/predict",
        &bearer(ALL_TOKEN),
        r#"{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}"#,
    )
    .await;
    let error = predict.error(StatusCode::SERVICE_UNAVAILABLE, "state_invalid");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("--strict-state")),
        "{error}"
    );
    // Without the option the same state serves what is valid.
    let lenient = strict(false);
    let ready = send(&lenient, Method::GET, "/health/ready", &[], "").await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.text());
}
