//! Counters never fall while the process lives: unloading a version keeps its counter series
//! (a series that vanished and came back at 0 would read as a reset), only its gauges go.

use axum::Router;
use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::common::*;

async fn scrape(app: &Router) -> String {
    let auth = bearer(ALL_TOKEN);
    let a = send(
        app,
        Method::GET,
        "/metrics",
        &[("authorization", &auth)],
        "",
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    a.text()
}

/// The sum of the series whose line starts with `prefix` (a name and the first labels).
fn total(text: &str, prefix: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(prefix))
        .map(|l| {
            l.rsplit(' ')
                .next()
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or_else(|| panic!("no value in `{l}`"))
        })
        .sum()
}

async fn predict_v2(app: &Router, times: usize) -> Vec<String> {
    let auth = bearer(ALL_TOKEN);
    let mut ids = Vec::new();
    for _ in 0..times {
        let a = post_json_as(
            app,
            "/models/iris/versions/2/predict",
            &auth,
            json!({"instances": [setosa(), setosa()]}).to_string(),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text());
        ids.push(a.json()["request_id"].as_str().expect("id").to_owned());
    }
    ids
}

async fn upload_v2(app: &Router) {
    let tree = std::fs::read(golden("iris_tree.tabship")).expect("artifact");
    let a = admin_upload(
        app,
        "/admin/models/iris/versions?version=2&activate=false",
        tree,
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
}

#[tokio::test]
async fn unloading_a_version_keeps_its_counters() {
    let app = secured();
    upload_v2(&app).await;
    let ids = predict_v2(&app, 3).await;
    let auth = bearer(ALL_TOKEN);
    let a = post_json_as(
        &app,
        "/feedback",
        &auth,
        json!({"request_id": ids[0], "label": "setosa"}).to_string(),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let counters = [
        "tabship_predictions_total{model=\"iris\",version=\"2\",",
        "tabship_predictions_total{model=\"iris\",",
        "tabship_encoded_rows_total{model=\"iris\",version=\"2\"}",
        "tabship_missing_values_total{model=\"iris\",version=\"2\",",
        "tabship_feedback_labelled_total{model=\"iris\",version=\"2\"}",
        "tabship_feedback_total{model=\"iris\",version=\"2\"}",
        "tabship_concept_drifts_total{model=\"iris\",version=\"2\",",
    ];
    let before = scrape(&app).await;
    assert_eq!(total(&before, counters[0]), 6.0, "{before}");
    assert_eq!(total(&before, counters[2]), 6.0, "{before}");
    assert_eq!(total(&before, counters[4]), 1.0, "{before}");
    assert!(before.contains("tabship_model_info{model=\"iris\",version=\"2\","));

    admin_expect(
        &app,
        Method::DELETE,
        "/admin/models/iris/versions/2",
        json!({}),
        StatusCode::OK,
    )
    .await;
    let after = scrape(&app).await;
    for series in counters {
        // Every series is still exported (a missing one would sum to 0 here)...
        assert!(after.contains(series), "`{series}` vanished:\n{after}");
        // ...at the value it had.
        assert_eq!(
            total(&after, series),
            total(&before, series),
            "`{series}` moved:\n{before}\n---\n{after}"
        );
    }
    // Gauges describe what is loaded: those of version 2 are gone.
    assert!(
        !after.contains("tabship_model_info{model=\"iris\",version=\"2\","),
        "{after}"
    );
    assert!(
        !after.contains("tabship_live_accuracy{model=\"iris\",version=\"2\"}"),
        "{after}"
    );

    // Loaded again under the same version, it counts on from the kept totals.
    upload_v2(&app).await;
    predict_v2(&app, 1).await;
    let again = scrape(&app).await;
    assert_eq!(total(&again, counters[0]), 8.0, "{again}");
    assert_eq!(
        total(&again, counters[1]),
        total(&before, counters[1]) + 2.0
    );
    assert_eq!(total(&again, counters[2]), 8.0, "{again}");
    assert_eq!(total(&again, counters[4]), 1.0, "{again}");
}
