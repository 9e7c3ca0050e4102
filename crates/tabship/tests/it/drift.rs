//! The drift profile inside artifacts: old formats report none, hostile profiles are refused,
//! reports and monitors work on live batches.

use tabship::drift::{
    CategoricalProfile, Distribution, DriftOptions, NumericProfile, Statistic, Window,
};
use tabship::{Error, Pipeline, PipelineParts};

use crate::common::{batch_for, golden, read_csv};

fn adult() -> Pipeline {
    Pipeline::load(golden("adult_logistic_profile.tabship")).expect("golden loads")
}

fn adult_inputs(pipeline: &Pipeline) -> tabship::Batch {
    let (header, records) = read_csv(&golden("adult_inputs.csv"));
    batch_for(pipeline, &header, &records)
}

#[test]
fn older_artifacts_load_and_report_no_profile() {
    for name in [
        "iris_logistic",
        "adult_logistic",
        "diamonds_ridge",
        "iris_tree",
        "adult_forest",
        "diamonds_forest",
    ] {
        let pipeline = Pipeline::load(golden(&format!("{name}.tabship"))).expect("loads");
        assert!(pipeline.drift_profile().is_none(), "{name}");
        assert!(pipeline.drift_monitor(Window::sliding(100)).is_err());
        if name == "adult_logistic" {
            let batch = adult_inputs(&pipeline);
            let err = pipeline
                .drift_report(&batch, &DriftOptions::default())
                .expect_err("no profile");
            assert!(matches!(err, Error::NoDriftProfile), "{err}");
            assert!(err.to_string().contains("no drift profile"), "{err}");
        }
    }
}

#[test]
fn the_profile_matches_the_schema_and_the_task() {
    let pipeline = adult();
    let profile = pipeline.drift_profile().expect("has a profile");
    let names: Vec<&str> = profile.columns.iter().map(|c| c.name.as_str()).collect();
    let schema: Vec<&str> = pipeline.schema().names().collect();
    assert_eq!(names, schema);
    let Some(Distribution::Categorical(prediction)) =
        profile.prediction.as_ref().map(|p| &p.distribution)
    else {
        panic!("a classifier's predictions are categories")
    };
    assert_eq!(
        prediction.count(),
        pipeline.training().train_rows,
        "one prediction per training row"
    );
    let Some(Distribution::Numeric(age)) = profile.column("age").map(|c| &c.distribution) else {
        panic!("age is numeric")
    };
    assert_eq!(age.count + age.missing, pipeline.training().train_rows);
    assert!(age.edges.len() <= 11 && age.fine_edges.len() <= 101);
    let forest = Pipeline::load(golden("diamonds_forest_profile.tabship")).expect("loads");
    assert!(matches!(
        forest
            .drift_profile()
            .and_then(|p| p.prediction.as_ref())
            .map(|p| &p.distribution),
        Some(Distribution::Numeric(_))
    ));
}

#[test]
fn reports_cover_columns_predictions_and_unknowns() {
    let pipeline = adult();
    let batch = adult_inputs(&pipeline);
    let before = pipeline.encoding_stats();
    let report = pipeline
        .drift_report(&batch, &DriftOptions::default())
        .expect("report");
    assert_eq!(
        pipeline.encoding_stats(),
        before,
        "a drift report is not traffic"
    );
    assert_eq!(report.rows, 40);
    assert_eq!(report.columns.len(), pipeline.schema().len());
    let prediction = report.prediction.as_ref().expect("prediction drift");
    assert_eq!(prediction.live_count, 40);
    // The golden inputs hold one never-seen workclass, counted through the encoder.
    let workclass = report.column("workclass").expect("column");
    assert!(workclass.unknown_rate.unwrap_or(0.0) > 0.0, "{workclass:?}");
    assert_eq!(
        workclass.statistic,
        Statistic::ChiSquare,
        "40 rows: p-value test"
    );
    for c in report.columns.iter().chain(&report.prediction) {
        for x in [c.value, c.psi, c.jensen_shannon, c.hellinger, c.chi_square] {
            assert!(x.is_finite(), "{}: {c:?}", c.name);
        }
    }
}

#[test]
fn a_monitor_fed_predicted_batches_matches_the_report() {
    let pipeline = adult();
    let batch = adult_inputs(&pipeline);
    let mut monitor = pipeline.drift_monitor(Window::Cumulative).expect("profile");
    let predictions = pipeline.predict_batch(&batch).expect("predicts");
    for _ in 0..3 {
        pipeline
            .observe_drift(&mut monitor, &batch, Some(&predictions))
            .expect("observes");
    }
    let direct = pipeline.drift_sample(&batch).expect("sample");
    let windowed = monitor.snapshot();
    assert_eq!(windowed.rows, 3 * direct.rows);
    let mut tripled = direct.clone();
    tripled.merge(&direct).expect("same shape");
    tripled.merge(&direct).expect("same shape");
    // Equal counts; sums equal up to the order of float additions.
    let profile = pipeline.drift_profile().expect("profile");
    let options = DriftOptions::default();
    let a = tabship::drift::report(profile, &tripled, &options).expect("report");
    let b = tabship::drift::report(profile, &windowed, &options).expect("report");
    for (x, y) in a.columns.iter().zip(&b.columns) {
        assert_eq!(x.histogram, y.histogram, "{}", x.name);
        assert!((x.value - y.value).abs() < 1e-9, "{}", x.name);
        assert_eq!(x.mean_shift.is_some(), y.mean_shift.is_some());
        if let (Some(m), Some(n)) = (x.mean_shift, y.mean_shift) {
            assert!((m - n).abs() < 1e-9, "{}", x.name);
        }
    }
    assert_eq!(
        a.prediction.map(|p| p.histogram),
        b.prediction.map(|p| p.histogram)
    );
}

fn refused(parts: PipelineParts, expect_field: &str) {
    let err = Pipeline::from_parts(parts).expect_err("hostile profile refused");
    match &err {
        Error::InvalidField { field, .. } => {
            assert!(
                field.starts_with(expect_field),
                "{field} vs {expect_field}: {err}"
            )
        }
        other => panic!("{other}"),
    }
}

fn numeric(parts: &mut PipelineParts, column: usize) -> &mut NumericProfile {
    match &mut parts.drift_profile.as_mut().expect("profile").columns[column].distribution {
        Distribution::Numeric(p) => p,
        Distribution::Categorical(_) => panic!("numeric column expected"),
    }
}

fn categorical(parts: &mut PipelineParts, column: usize) -> &mut CategoricalProfile {
    match &mut parts.drift_profile.as_mut().expect("profile").columns[column].distribution {
        Distribution::Categorical(p) => p,
        Distribution::Numeric(_) => panic!("categorical column expected"),
    }
}

#[test]
fn hostile_profiles_in_a_valid_envelope_are_refused() {
    let pipeline = adult();
    let base = pipeline.to_parts();
    // age is column 0 (numeric), workclass column 1 (categorical).
    let mut p = base.clone();
    numeric(&mut p, 0).edges[2] = f64::NAN;
    refused(p, "drift_profile.columns[0].edges");
    let mut p = base.clone();
    numeric(&mut p, 0).fine_counts.push(1);
    refused(p, "drift_profile.columns[0].fine_edges");
    let mut p = base.clone();
    numeric(&mut p, 0).counts[1] = u64::MAX;
    refused(p, "drift_profile.columns[0]");
    let mut p = base.clone();
    numeric(&mut p, 0).mean = f64::INFINITY;
    refused(p, "drift_profile.columns[0].mean");
    let mut p = base.clone();
    numeric(&mut p, 0).edges = vec![0.0; 10_000];
    refused(p, "drift_profile.columns[0].edges");
    let mut p = base.clone();
    categorical(&mut p, 1).counts.pop();
    refused(p, "drift_profile.columns[1].counts");
    let mut p = base.clone();
    p.drift_profile
        .as_mut()
        .expect("profile")
        .columns
        .swap(0, 1);
    refused(p, "drift_profile.columns[0]");
    let mut p = base.clone();
    p.drift_profile.as_mut().expect("profile").columns.pop();
    refused(p, "drift_profile.columns");
    let mut p = base.clone();
    if let Some(prediction) = &mut p.drift_profile.as_mut().expect("profile").prediction {
        if let Distribution::Categorical(c) = &mut prediction.distribution {
            c.categories[0] = "not-a-class".into();
        }
    }
    refused(p, "drift_profile.prediction");
    // The untouched parts still load, and round-trip to the same bytes.
    let again = Pipeline::from_parts(base).expect("valid");
    assert_eq!(
        again.to_bytes().expect("encodes"),
        pipeline.to_bytes().expect("encodes")
    );
}

#[test]
fn every_truncation_and_flip_of_a_profiled_artifact_is_an_error() {
    let bytes = std::fs::read(golden("adult_logistic_profile.tabship")).expect("golden");
    for n in (0..bytes.len()).step_by(7) {
        assert!(Pipeline::from_bytes(&bytes[..n]).is_err(), "prefix {n}");
    }
    for i in (14 + tabship::VERSION.len()..bytes.len()).step_by(3) {
        let mut b = bytes.clone();
        b[i] ^= 0x55;
        assert!(Pipeline::from_bytes(&b).is_err(), "flip {i}");
    }
}

#[test]
fn without_a_profile_the_format_stays_old() {
    let pipeline = adult().with_drift_profile(None).expect("drops the profile");
    let bytes = pipeline.to_bytes().expect("encodes");
    let again = Pipeline::from_bytes(&bytes).expect("loads");
    assert_eq!(again.header().map(|h| h.format_minor), Some(0));
    assert!(again.drift_profile().is_none());
}

/// Exact values of few-valued numeric columns (issue 9, bug 2) are a format 1.3 field: a 1.2
/// reader would ignore them silently, so a profile that has them is written as 1.3, and one
/// without them (every golden 1.2 artifact) stays 1.2 byte for byte.
#[test]
fn exact_values_need_format_1_3_and_old_profiles_stay_1_2() {
    let pipeline = adult();
    assert_eq!(pipeline.header().map(|h| h.format_minor), Some(2));
    assert!(
        !pipeline
            .drift_profile()
            .expect("profile")
            .has_exact_values()
    );
    let batch = adult_inputs(&pipeline);
    let profile = pipeline
        .capture_drift_profile(&batch, &tabship::drift::ProfileOptions::default())
        .expect("captures");
    let Some(Distribution::Numeric(education)) = profile
        .column("education_num")
        .map(|c| c.distribution.clone())
    else {
        panic!("education_num is numeric")
    };
    assert!(education.values.is_some(), "at most 16 distinct values");
    let recaptured = pipeline.with_drift_profile(Some(profile)).expect("valid");
    let bytes = recaptured.to_bytes().expect("encodes");
    let again = Pipeline::from_bytes(&bytes).expect("loads");
    assert_eq!(again.header().map(|h| h.format_minor), Some(3));
    assert!(again.drift_profile().expect("profile").has_exact_values());
    assert_eq!(again.drift_profile(), recaptured.drift_profile());
}

/// The server's path (records straight into the window) bins exactly as the batch path: same
/// counts, sums and slots, row for row, for text and numbers, missing and never-seen values.
#[test]
fn records_observed_directly_match_the_same_values_observed_as_a_batch() {
    use tabship::{ColumnKind, Value};
    let pipeline = adult();
    let (header, mut rows) = read_csv(&golden("adult_inputs.csv"));
    // Edge cells: empty (missing), an NA token, and a category never seen in training.
    let mut edge = rows[0].iter().map(str::to_owned).collect::<Vec<_>>();
    let at = |name: &str| header.iter().position(|h| h == name).expect("column");
    edge[at("workclass")] = String::new();
    edge[at("age")] = "NA".to_owned();
    edge[at("occupation")] = "Astronaut".to_owned();
    rows.push(csv::StringRecord::from(edge));
    let batch = batch_for(&pipeline, &header, &rows);
    let predictions = pipeline.predict_batch(&batch).expect("predicts");
    let mut by_batch = pipeline.drift_monitor(Window::Cumulative).expect("profile");
    pipeline
        .observe_drift(&mut by_batch, &batch, Some(&predictions))
        .expect("observes");
    // Records as a JSON client sends them: numbers as numbers (text where the CSV has an NA
    // token or nothing), categories as text (empty as null).
    let records: Vec<Vec<(String, Value)>> = rows
        .iter()
        .map(|row| {
            pipeline
                .schema()
                .columns
                .iter()
                .map(|c| {
                    let text = &row[at(&c.name)];
                    let value = match (c.kind, text.parse::<f64>()) {
                        (ColumnKind::Numeric, Ok(x)) => Value::Number(x),
                        _ if text.is_empty() => Value::Null,
                        _ => Value::Text(text.to_owned()),
                    };
                    (c.name.clone(), value)
                })
                .collect()
        })
        .collect();
    let mut by_records = pipeline.drift_monitor(Window::Cumulative).expect("profile");
    pipeline
        .observe_drift_records(&mut by_records, &records, Some(&predictions))
        .expect("observes");
    assert_eq!(by_records.total_rows(), rows.len() as u64);
    assert_eq!(by_records.snapshot(), by_batch.snapshot());
    // A value scoring would refuse adds nothing, and names its row.
    let mut bad = records.clone();
    bad[2][0].1 = Value::Text("not a number".to_owned());
    let err = pipeline
        .observe_drift_records(&mut by_records, &bad, Some(&predictions))
        .expect_err("refused");
    assert!(err.to_string().contains("row 3"), "{err}");
    assert_eq!(by_records.total_rows(), rows.len() as u64);
}
