//! Admin load-by-path reads only a regular file holding an artifact: a FIFO does not block, a
//! device is not read, and every refusal says the same thing whether or not the path exists.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::common::*;

async fn load(app: &axum::Router, path: &std::path::Path) -> Answer {
    admin_json(
        app,
        Method::POST,
        "/admin/models/iris/versions",
        json!({"path": path, "version": "by-path", "activate": false}),
    )
    .await
}

/// The refusal's message with the path taken out: the same for every kind of refusal.
fn refusal(a: &Answer, path: &std::path::Path) -> String {
    let e = a.error(StatusCode::BAD_REQUEST, "invalid_artifact");
    let message = e["message"].as_str().expect("message");
    let quoted = format!("`{}`", path.display());
    assert!(message.contains(&quoted), "{message}");
    message.replace(&quoted, "`PATH`")
}

#[tokio::test]
async fn only_regular_artifact_files_load_and_refusals_do_not_tell_why() {
    let app = secured();
    let dir = tempfile::tempdir().expect("temp dir");
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "a text file, not an artifact").expect("write");
    let empty = dir.path().join("empty.tabship");
    std::fs::write(&empty, "").expect("write");
    let mut refused = vec![
        dir.path().join("absent.tabship"),
        dir.path().to_path_buf(),
        text,
        empty,
    ];
    #[cfg(unix)]
    {
        // Before the fix: a FIFO blocked the loading thread until the request timed out, and
        // /dev/zero was read up to the artifact size limit.
        let fifo = dir.path().join("pipe.tabship");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo runs");
        assert!(status.success());
        refused.push(fifo);
        refused.push("/dev/zero".into());
    }
    let messages: Vec<String> = {
        let mut out = Vec::new();
        for path in &refused {
            out.push(refusal(&load(&app, path).await, path));
        }
        out
    };
    assert!(
        messages.iter().all(|m| *m == messages[0]),
        "every refusal reads the same: {messages:#?}"
    );
    assert!(!messages[0].contains("No such file"), "{}", messages[0]);

    // A regular artifact still loads, and a damaged one (right magic) names its problem.
    let a = load(&app, &golden("iris_tree.tabship")).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
    let mut corrupt = std::fs::read(golden("iris_logistic.tabship")).expect("artifact");
    let last = corrupt.len() - 1;
    corrupt[last] ^= 0xff;
    let damaged = dir.path().join("damaged.tabship");
    std::fs::write(&damaged, corrupt).expect("write");
    let e = load(&app, &damaged)
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_artifact");
    assert!(
        e["message"].as_str().expect("message").contains("checksum"),
        "{e}"
    );
}

#[tokio::test]
async fn a_file_over_the_upload_limit_is_refused_unread() {
    let options = tabship_serve::Options {
        upload_limit: 1024,
        ..tabship_serve::Options::default()
    };
    let app = tabship_serve::router(state_with(Some(keys()), options));
    let path = golden("iris_logistic.tabship");
    let size = std::fs::metadata(&path).expect("artifact").len();
    assert!(
        size > 1024,
        "the artifact must be over the limit: {size} bytes"
    );
    refusal(&load(&app, &path).await, &path);
}

#[tokio::test]
async fn a_load_path_root_confines_loads_by_path() {
    let root = tempfile::tempdir().expect("temp dir");
    let inside = root.path().join("iris_tree.tabship");
    std::fs::copy(golden("iris_tree.tabship"), &inside).expect("copy");
    let outside = tempfile::tempdir().expect("temp dir");
    let link = root.path().join("link.tabship");
    let elsewhere = outside.path().join("tree.tabship");
    std::fs::copy(golden("iris_tree.tabship"), &elsewhere).expect("copy");
    #[cfg(unix)]
    std::os::unix::fs::symlink(&elsewhere, &link).expect("symlink");
    let options = tabship_serve::Options {
        load_path_root: Some(root.path().to_path_buf()),
        ..tabship_serve::Options::default()
    };
    let app = tabship_serve::router(state_with(Some(keys()), options));
    // Outside the root, by its own path, through `..`, or through a symlink inside the root.
    let dotdot = root.path().join("..").join(
        outside
            .path()
            .strip_prefix(root.path().parent().expect("parent"))
            .unwrap_or(outside.path()),
    );
    let mut refused = vec![elsewhere.clone(), dotdot.join("tree.tabship")];
    if cfg!(unix) {
        refused.push(link);
    }
    let mut messages = Vec::new();
    for path in &refused {
        let a = load(&app, path).await;
        messages.push(refusal(&a, path));
    }
    messages.dedup();
    assert_eq!(
        messages.len(),
        1,
        "one message for every refusal: {messages:?}"
    );
    let a = load(&app, &inside).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
}
