//! A followed model directory (`Options::watch`, `--watch-interval`): versions written to it,
//! and `NAME/CURRENT` pointers, reach the running server; unfinished and corrupt files do not.
//! Every wait polls the server's answer until a deadline.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{Method, StatusCode};
use tabship_serve::watch::Watch;
use tabship_serve::{AppState, Options};

use crate::common::{admin_json, admin_upload, get, golden, post_json, setosa};

/// Writes `bytes` as the writers are told to: a temporary name, then a rename.
fn publish(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).expect("write");
    std::fs::rename(&tmp, path).expect("rename");
}

async fn served_version(app: &Router, model: &str) -> String {
    let a = post_json(app, &format!("/models/{model}/predict"), &setosa()).await;
    if a.status != StatusCode::OK {
        return format!("status {}", a.status);
    }
    a.json()["version"].as_str().unwrap_or("").to_owned()
}

async fn refused(app: &Router) -> u64 {
    let text = get(app, "/metrics").await.text();
    text.lines()
        .find_map(|l| l.strip_prefix("tabship_model_dir_files_total{result=\"refused\"} "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

/// Polls `check` until it is true, failing with `what` after 20 s.
async fn until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn watched(dir: &Path) -> (Arc<AppState>, Router) {
    watched_with(dir, true)
}

fn watched_with(dir: &Path, events: bool) -> (Arc<AppState>, Router) {
    let options = Options {
        // Short, so the test also passes where the OS delivers no change events.
        watch: Some(Watch {
            dirs: vec![dir.to_path_buf()],
            interval: Duration::from_millis(100),
            events,
        }),
        ..Options::default()
    };
    let state = AppState::new(None, options).expect("state");
    state.load_paths(&[dir.to_path_buf()]).expect("loads");
    (state.clone(), tabship_serve::router(state))
}

/// A followed directory holding `iris/1.tabship` (the logistic model), its `iris/` path, the
/// logistic and tree artifacts, the router and the running watch.
type Following = (
    tempfile::TempDir,
    std::path::PathBuf,
    Vec<u8>,
    Vec<u8>,
    Router,
    tabship_serve::watch::Watching,
);

fn following_iris_1() -> Following {
    let dir = tempfile::tempdir().expect("tempdir");
    let iris = dir.path().join("iris");
    std::fs::create_dir(&iris).expect("mkdir");
    let logistic = std::fs::read(golden("iris_logistic.tabship")).expect("artifact");
    let tree = std::fs::read(golden("iris_tree.tabship")).expect("artifact");
    publish(&iris.join("1.tabship"), &logistic);
    let (state, app) = watched(dir.path());
    let watching = tabship_serve::watch::spawn(state).expect("a watch is configured");
    (dir, iris, logistic, tree, app, watching)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_and_pointers_reach_a_running_server() {
    let (dir, iris, logistic, tree, app, _watching) = following_iris_1();
    let dir = dir.path();
    assert_eq!(served_version(&app, "iris").await, "1");

    // An unfinished write (any name not ending in .tabship) is never read: once a scan has
    // picked up a file written after it, iris still has no version 2.
    std::fs::write(iris.join("2.tabship.tmp"), &tree[..tree.len() / 2]).expect("write");
    std::fs::create_dir(dir.join("flowers")).expect("mkdir");
    publish(&dir.join("flowers").join("7.tabship"), &tree);
    until("flowers served", || async {
        served_version(&app, "flowers").await == "7"
    })
    .await;
    let a = post_json(&app, "/models/iris/versions/2/predict", &setosa()).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.text());
    assert_eq!(refused(&app).await, 0);

    // Renamed into place: the newest version becomes current.
    publish(&iris.join("2.tabship"), &tree);
    until("version 2 current", || async {
        served_version(&app, "iris").await == "2"
    })
    .await;

    // The pointer wins over the newest.
    publish(&iris.join("CURRENT"), b"1\n");
    until("pointer to 1", || async {
        served_version(&app, "iris").await == "1"
    })
    .await;

    // A pointer naming a version not there yet keeps the current one until the file arrives.
    publish(&iris.join("CURRENT"), b"3\n");
    publish(&iris.join("3.tabship"), &logistic);
    until("pointer to 3 once 3 arrived", || async {
        served_version(&app, "iris").await == "3"
    })
    .await;

    // A truncated file fails its checksum: refused, counted, and 3 keeps serving.
    std::fs::remove_file(iris.join("CURRENT")).expect("rm pointer");
    publish(&iris.join("9.tabship"), &tree[..tree.len() - 100]);
    until("truncated file refused", || async {
        refused(&app).await == 1
    })
    .await;
    assert_eq!(served_version(&app, "iris").await, "3");

    // Versions order as numbers: 10 is newer than 9 (refused) and 3.
    publish(&iris.join("10.tabship"), &tree);
    until("version 10 current", || async {
        served_version(&app, "iris").await == "10"
    })
    .await;

    // A loaded version rewritten with other bytes is refused; 10 keeps its first bytes.
    publish(&iris.join("10.tabship"), &logistic);
    until("changed version refused", || async {
        refused(&app).await == 2
    })
    .await;
    let model = get(&app, "/models/iris").await.json();
    assert!(
        model.to_string().contains(&checksum_of(&tree)),
        "version 10 still has the tree's checksum: {model}"
    );

    // Removing the current version's file makes the newest remaining one current, as a restart
    // would; the removed version stays loaded for requests that name it.
    std::fs::remove_file(iris.join("10.tabship")).expect("rm");
    until("back to 3", || async {
        served_version(&app, "iris").await == "3"
    })
    .await;
    let a = post_json(&app, "/models/iris/versions/10/predict", &setosa()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rescans_alone_pick_up_a_new_version() {
    // As on NFS, where another machine's writes raise no change event here.
    let dir = tempfile::tempdir().expect("tempdir");
    let iris = dir.path().join("iris");
    std::fs::create_dir(&iris).expect("mkdir");
    publish(
        &iris.join("1.tabship"),
        &std::fs::read(golden("iris_logistic.tabship")).expect("artifact"),
    );
    let (state, app) = watched_with(dir.path(), false);
    let _watching = tabship_serve::watch::spawn(state).expect("a watch is configured");
    publish(
        &iris.join("2.tabship"),
        &std::fs::read(golden("iris_tree.tabship")).expect("artifact"),
    );
    until("version 2 current", || async {
        served_version(&app, "iris").await == "2"
    })
    .await;
}

fn checksum_of(artifact: &[u8]) -> String {
    tabship::Pipeline::from_bytes(artifact)
        .expect("artifact")
        .header()
        .expect("header")
        .checksum_hex()
}

#[tokio::test]
async fn admin_changes_are_refused_while_a_directory_is_followed() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("iris")).expect("mkdir");
    for v in ["1", "2"] {
        std::fs::copy(
            golden("iris_logistic.tabship"),
            dir.path().join("iris").join(format!("{v}.tabship")),
        )
        .expect("copy");
    }
    let (_state, app) = watched(dir.path());
    for (method, uri, body) in [
        (
            Method::POST,
            "/admin/models/iris/activate",
            serde_json::json!({"version": "1"}),
        ),
        (
            Method::PUT,
            "/admin/models/iris/split",
            serde_json::json!({"versions": {"1": 50, "2": 50}}),
        ),
        (
            Method::PUT,
            "/admin/models/iris/aliases/prod",
            serde_json::json!({"version": "1"}),
        ),
    ] {
        // The OpenAPI document lists the refusal for the route.
        let template = uri
            .replace("/iris/", "/{name}/")
            .replace("/prod", "/{alias}");
        let doc = get(&app, "/openapi.json").await.json();
        let described = &doc["paths"][&template][method.as_str().to_lowercase()]["responses"]["409"]
            ["description"];
        assert!(
            described
                .as_str()
                .is_some_and(|d| d.contains("model_dir_watched")),
            "{template}: {described}"
        );
        let a = admin_json(&app, method, uri, body).await;
        let error = a.error(StatusCode::CONFLICT, "model_dir_watched");
        let message = error["message"].as_str().unwrap_or("").to_owned();
        assert!(
            message.contains(&dir.path().display().to_string())
                && message.contains("CURRENT")
                && message.contains("--watch-interval 0"),
            "{uri}: {message}"
        );
    }
    // A load by path would reach this replica only.
    let a = admin_json(
        &app,
        Method::POST,
        "/admin/models/iris/versions",
        serde_json::json!({"path": golden("iris_tree.tabship")}),
    )
    .await;
    let error = a.error(StatusCode::CONFLICT, "model_dir_watched");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("upload the artifact"))
    );
    // Reading stays open; at start the newest version is current.
    assert_eq!(served_version(&app, "iris").await, "2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_are_published_into_the_followed_directory() {
    let (_dir, iris, logistic, tree, app, _watching) = following_iris_1();

    // Written as iris/2.tabship for every replica; this one loads it from there.
    let a = admin_upload(&app, "/admin/models/iris/versions?version=2", tree.clone()).await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.text());
    assert_eq!(a.json()["published"]["version"], "2");
    assert_eq!(
        std::fs::read(iris.join("2.tabship")).expect("published"),
        tree
    );
    assert!(
        !iris.join("CURRENT").exists(),
        "the newest needs no pointer"
    );
    until("version 2 current", || async {
        served_version(&app, "iris").await == "2"
    })
    .await;

    // activate=false: the newest file would become current, so CURRENT keeps 2.
    let a = admin_upload(
        &app,
        "/admin/models/iris/versions?version=3&activate=false",
        logistic.clone(),
    )
    .await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.text());
    assert_eq!(
        std::fs::read_to_string(iris.join("CURRENT")).expect("pointer"),
        "2"
    );
    until("version 3 loaded", || async {
        post_json(&app, "/models/iris/versions/3/predict", &setosa())
            .await
            .status
            == StatusCode::OK
    })
    .await;
    assert_eq!(served_version(&app, "iris").await, "2");

    // A version is never replaced; a corrupt upload writes nothing.
    let a = admin_upload(&app, "/admin/models/iris/versions?version=3", tree.clone()).await;
    a.error(StatusCode::CONFLICT, "version_exists");
    let a = admin_upload(
        &app,
        "/admin/models/iris/versions?version=4",
        tree[..tree.len() - 50].to_vec(),
    )
    .await;
    a.error(StatusCode::BAD_REQUEST, "invalid_artifact");
    assert!(!iris.join("4.tabship").exists());
    let a = admin_upload(
        &app,
        "/admin/models/iris/versions?version=5&force=true",
        tree.clone(),
    )
    .await;
    a.error(StatusCode::CONFLICT, "model_dir_watched");
    let names: Vec<String> = std::fs::read_dir(&iris)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(names.is_empty(), "temporary files left: {names:?}");
}
