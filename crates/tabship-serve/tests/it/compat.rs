//! A new version must not break the model's clients: another model's artifact is refused (409,
//! naming what differs) unless forced, in every upload form; an added column that clients may
//! leave out is accepted; incompatible artifacts at start-up stop the server.

use std::collections::BTreeSet;
use std::path::Path;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use tabship::Pipeline;
use tabship_serve::{AbsentAsMissing, AppState, Error, Options};
use tabship_train::data::{KindOverrides, read_csv};
use tabship_train::{TrainOptions, train};

use crate::admin::upload_form;
use crate::common::*;

fn secured(options: Options) -> axum::Router {
    tabship_serve::router(state_with(Some(keys()), options))
}

fn field_names(error: &Value) -> Vec<String> {
    error["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| f["field"].as_str().expect("field").to_owned())
        .collect()
}

fn iris_name() -> String {
    Pipeline::load(golden("iris_logistic.tabship"))
        .expect("iris")
        .training()
        .name
        .clone()
}

/// Iris with one more column `colour` (blank on every third row when `with_blanks`), trained
/// under the golden iris model's own name.
fn iris_with_colour(dir: &Path, with_blanks: bool) -> Vec<u8> {
    let text = std::fs::read_to_string(testdata("iris.csv")).expect("iris.csv");
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        let colour = match i {
            0 => "colour",
            _ if with_blanks && i % 3 == 0 => "",
            _ if i % 2 == 0 => "blue",
            _ => "violet",
        };
        out.push_str(&format!("{line},{colour}\n"));
    }
    let path = dir.join("iris_colour.csv");
    std::fs::write(&path, out).expect("write csv");
    let data = read_csv(&path, &KindOverrides::default()).expect("read csv");
    let mut options = TrainOptions::new("species");
    options.name = Some(iris_name());
    options.version = "colour".to_owned();
    let trained = train(&data, &options).expect("train");
    trained.pipeline.to_bytes().expect("bytes")
}

#[tokio::test]
async fn another_model_is_refused_in_every_upload_form_unless_forced() {
    let app = secured(Options::default());
    let adult = std::fs::read(golden("adult_logistic.tabship")).expect("adult");
    let e = admin_upload(&app, "/admin/models/iris/versions?version=2", adult.clone())
        .await
        .error(StatusCode::CONFLICT, "incompatible_version");
    let fields = field_names(&e);
    for expected in ["target", "classes", "columns.removed", "columns.added"] {
        assert!(fields.contains(&expected.to_owned()), "{expected}: {e}");
    }
    let message = e["message"].as_str().expect("message");
    assert!(message.contains("`species`"), "{message}");
    assert!(message.contains("`sepal_length`"), "{message}");
    assert!(message.contains("force"), "{message}");

    // The multipart form and the JSON path form are refused the same way.
    upload_form(
        &app,
        "/admin/models/iris/versions",
        &[
            ("file", Some("adult.tabship"), &adult),
            ("version", None, b"3"),
        ],
    )
    .await
    .error(StatusCode::CONFLICT, "incompatible_version");
    let path = golden("adult_logistic.tabship");
    admin_json(
        &app,
        Method::POST,
        "/admin/models/iris/versions",
        json!({"path": path, "version": "4"}),
    )
    .await
    .error(StatusCode::CONFLICT, "incompatible_version");
    // Nothing changed: iris still serves its one version.
    let auth = bearer(PREDICT_TOKEN);
    let a = post_json_as(&app, "/predict", &auth, setosa().to_string()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.json()["version"], "golden");

    // Each form can force it.
    let a = admin_upload(
        &app,
        "/admin/models/iris/versions?version=2&force=true&activate=false",
        adult.clone(),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
    assert_eq!(a.json()["loaded"]["forced"], true);
    let a = upload_form(
        &app,
        "/admin/models/iris/versions",
        &[
            ("file", Some("adult.tabship"), &adult),
            ("version", None, b"3"),
            ("activate", None, b"false"),
            ("force", None, b"true"),
        ],
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
    admin_expect(
        &app,
        Method::POST,
        "/admin/models/iris/versions",
        json!({"path": path, "version": "4", "activate": false, "force": true}),
        StatusCode::CREATED,
    )
    .await;
    admin_upload(
        &app,
        "/admin/models/iris/versions?version=5&force=maybe",
        adult,
    )
    .await
    .error(StatusCode::BAD_REQUEST, "invalid_input");
}

#[tokio::test]
async fn the_same_schema_loads_without_force_and_a_new_name_is_reported() {
    let app = secured(Options::default());
    // The tree was trained as `iris-tree`: another label, the same columns, target and classes.
    let tree = std::fs::read(golden("iris_tree.tabship")).expect("tree");
    let a = admin_upload(&app, "/admin/models/iris/versions?version=2", tree).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
    let loaded = &a.json()["loaded"];
    assert_eq!(loaded["forced"], false);
    assert_eq!(
        loaded["changes"].as_array().expect("changes").len(),
        1,
        "{loaded}"
    );
    assert_eq!(loaded["changes"][0]["field"], "name");
    assert_eq!(loaded["changes"][0]["received"], "`iris-tree`");
}

#[tokio::test]
async fn an_added_column_is_compatible_only_when_clients_may_leave_it_out() {
    let dir = tempfile::tempdir().expect("tempdir");
    let with_blanks = iris_with_colour(dir.path(), true);
    let no_blanks = iris_with_colour(dir.path(), false);

    // Without --absent-as-missing, every existing client would get a 400.
    let app = secured(Options::default());
    let e = admin_upload(&app, "/admin/models/iris/versions", with_blanks.clone())
        .await
        .error(StatusCode::CONFLICT, "incompatible_version");
    assert_eq!(field_names(&e), ["columns.added"]);
    assert!(
        e["fields"][0]["received"]
            .as_str()
            .expect("received")
            .contains("`colour`")
    );

    let options = Options {
        absent_as_missing: AbsentAsMissing::Models(BTreeSet::from(["iris".to_owned()])),
        ..Options::default()
    };
    let app = secured(options);
    // A column training never saw missing would only ever get an imputed guess: refused.
    admin_upload(&app, "/admin/models/iris/versions", no_blanks)
        .await
        .error(StatusCode::CONFLICT, "incompatible_version");
    let a = admin_upload(&app, "/admin/models/iris/versions", with_blanks).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
    let loaded = &a.json()["loaded"];
    assert_eq!(loaded["forced"], false);
    assert_eq!(loaded["changes"][0]["field"], "columns.added");
    // An existing client's record, without `colour`, is still served by the new version.
    let auth = bearer(PREDICT_TOKEN);
    let a = post_json_as(&app, "/predict", &auth, setosa().to_string()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.json()["version"], "colour");
    assert_eq!(a.json()["prediction"], "setosa");
}

#[test]
fn incompatible_artifacts_at_start_up_stop_the_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut parts = Pipeline::load(golden("adult_logistic.tabship"))
        .expect("adult")
        .to_parts();
    parts.training.name = iris_name();
    parts.training.version = "2".to_owned();
    let path = dir.path().join("not_iris.tabship");
    Pipeline::from_parts(parts)
        .expect("pipeline")
        .save(&path)
        .expect("save");
    let state = AppState::new(None, Options::default()).expect("state");
    let e = state
        .load_paths(&[golden("iris_logistic.tabship"), path.clone()])
        .expect_err("incompatible");
    assert!(matches!(e, Error::IncompatibleVersions { .. }), "{e}");
    let message = e.to_string();
    assert!(message.contains("not_iris.tabship"), "{message}");
    assert!(message.contains("target"), "{message}");
    assert!(message.contains("--name"), "{message}");
}
