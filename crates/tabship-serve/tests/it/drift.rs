//! Data drift of the live window against the artifact's reference profile, concept-drift
//! detectors behind /feedback, and their gauges in /metrics.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::common::*;

fn profiled() -> axum::Router {
    let state =
        tabship_serve::AppState::new(None, tabship_serve::Options::default()).expect("state");
    state
        .load_paths(&[
            golden("adult_logistic_profile.tabship"),
            golden("iris_logistic.tabship"),
        ])
        .expect("load");
    tabship_serve::router(state)
}

fn adult_instances(shift_age: f64) -> Vec<Value> {
    let (header, rows) = read_csv("adult_inputs.csv");
    let features = &header[..13];
    rows.iter()
        .map(|r| {
            let mut rec = record(features, &r[..13], ADULT_NUMERIC);
            if let Some(age) = rec["age"].as_f64() {
                rec["age"] = json!(age + shift_age);
            }
            rec
        })
        .collect()
}

#[tokio::test]
async fn live_window_drifts_when_inputs_shift() {
    let app = profiled();
    // The example record uses the profile's most frequent categories.
    let model = get(&app, "/models/adult").await.json();
    assert_eq!(model["example"]["workclass"], "Private");
    assert_eq!(model["example"]["native_country"], "United-States");
    assert_eq!(model["versions"][0]["drift_profile"], true);
    let ui = get(&app, "/ui/adult").await.text();
    assert!(
        ui.contains("<option value=\"Private\" selected>"),
        "the form starts on the example"
    );
    // Before traffic: an empty, finite report.
    let a = get(&app, "/models/adult/drift").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.json()["rows_seen"], 0);

    // Ages shifted by 40 years, sent 5 times (200 rows): age drifts, the rest does not.
    for _ in 0..5 {
        let a = post_json(
            &app,
            "/predict",
            &json!({"instances": adult_instances(40.0)}),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    }
    let body = get(&app, "/models/adult/drift").await.json();
    assert_eq!(body["rows_seen"], 200);
    let report = &body["report"];
    assert_eq!(report["rows"], 200);
    let columns = report["columns"].as_array().expect("columns");
    let age = columns.iter().find(|c| c["name"] == "age").expect("age");
    assert_eq!(age["drifted"], true, "{age}");
    assert!(
        age["mean_shift"].as_f64().expect("mean shift") > 2.0,
        "{age}"
    );
    let relationship = columns
        .iter()
        .find(|c| c["name"] == "relationship")
        .expect("relationship");
    assert!(relationship["value"].is_number());
    assert!(
        report["prediction"].is_object(),
        "the predictions' drift is reported too"
    );

    let text = get(&app, "/metrics").await.text();
    assert!(
        text.contains(
            "tabship_drift_detected{model=\"adult\",version=\"golden\",column=\"age\"} 1"
        ),
        "{text}"
    );
    assert!(text.contains(
        "tabship_drift_value{model=\"adult\",version=\"golden\",column=\"age\",statistic=\""
    ));
    assert!(text.contains("tabship_drift_window_rows{model=\"adult\",version=\"golden\"} 200"));
    assert!(text.contains("tabship_drift_share{model=\"adult\",version=\"golden\"}"));
}

#[tokio::test]
async fn unshifted_traffic_keeps_age_stable_and_no_profile_is_404() {
    let app = profiled();
    for _ in 0..5 {
        post_json(
            &app,
            "/predict",
            &json!({"instances": adult_instances(0.0)}),
        )
        .await;
    }
    let body = get(&app, "/models/adult/drift?version=golden").await.json();
    let age = body["report"]["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .find(|c| c["name"] == "age")
        .cloned()
        .expect("age");
    // 40 rows repeated five times: the mean does not move (KS may still see the repetition).
    assert!(
        age["mean_shift"].as_f64().expect("mean shift").abs() < 0.2,
        "{age}"
    );
    assert_eq!(body["rows_seen"], 200);
    get(&app, "/models/iris/drift")
        .await
        .error(StatusCode::NOT_FOUND, "no_drift_profile");
    get(&app, "/models/nope/drift")
        .await
        .error(StatusCode::NOT_FOUND, "model_not_found");
    get(&app, "/models/adult/drift?version=9")
        .await
        .error(StatusCode::NOT_FOUND, "version_not_found");
}

#[tokio::test]
async fn concept_drift_detectors_see_a_label_flip() {
    let app = profiled();
    let instances = adult_instances(0.0);
    // 60 labels that agree with the model, then 60 that contradict it.
    let mut last = Value::Null;
    for i in 0..120 {
        let a = post_json(&app, "/predict", &instances[i % instances.len()])
            .await
            .json();
        let predicted = a["prediction"].as_str().expect("label").to_owned();
        let label = if i < 60 {
            predicted
        } else if predicted == ">50K" {
            "<=50K".to_owned()
        } else {
            ">50K".to_owned()
        };
        last = post_json(
            &app,
            "/feedback",
            &json!({"request_id": a["request_id"], "label": label}),
        )
        .await
        .json();
    }
    let live = &last["live"];
    assert_eq!(live["labelled"], 120);
    assert!((live["accuracy"].as_f64().expect("accuracy") - 0.5).abs() < 1e-12);
    let detectors = live["detectors"].as_array().expect("detectors");
    let names: Vec<&str> = detectors
        .iter()
        .map(|d| d["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["ddm", "adwin"]);
    assert!(
        detectors
            .iter()
            .any(|d| d["drifts"].as_u64().expect("drifts") >= 1),
        "{detectors:?}"
    );
    let text = get(&app, "/metrics").await.text();
    assert!(
        text.contains(
            "tabship_concept_drifts_total{model=\"adult\",version=\"golden\",detector=\"ddm\"}"
        ),
        "{text}"
    );
    assert!(text.contains("tabship_live_f1{model=\"adult\",version=\"golden\"}"));
}

/// Issue 9, bug 4: the dataset gauge follows the drift policy, not only the share of drifted
/// columns: a third of `workclass` never seen in training (one column of 13) sets
/// `tabship_dataset_drift` to 1, and `tabship_dataset_drift_reason` says why.
#[tokio::test]
async fn the_dataset_gauge_follows_the_drift_policy() {
    let app = profiled();
    let mut instances = adult_instances(0.0);
    for (i, rec) in instances.iter_mut().enumerate() {
        if i % 3 == 0 {
            rec["workclass"] = json!("Gig-economy");
        }
    }
    for _ in 0..5 {
        let a = post_json(&app, "/predict", &json!({"instances": instances})).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    }
    let report = get(&app, "/models/adult/drift").await.json()["report"].clone();
    assert_eq!(report["drifted"], true, "{report}");
    assert_eq!(report["reasons"], json!(["unknown_rate:workclass"]));
    assert!(report["share_drifted"].as_f64().is_some_and(|s| s < 0.5));
    let text = get(&app, "/metrics").await.text();
    assert!(
        text.contains("tabship_dataset_drift{model=\"adult\",version=\"golden\"} 1"),
        "{text}"
    );
    assert!(
        text.contains(
            "tabship_dataset_drift_reason{model=\"adult\",version=\"golden\",\
             reason=\"unknown_rate\",column=\"workclass\"} 1"
        ),
        "{text}"
    );
}
