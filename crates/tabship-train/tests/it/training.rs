//! End-to-end training behaviour: options, errors, metadata.

use tabship::{ColumnKind, Pipeline, Task, Value};
use tabship_train::{Error, MinFrequency, ModelKind, TrainOptions, cross_validate, train};

use crate::testdata;

#[test]
fn adult_trains_with_useful_accuracy_and_metadata() {
    let data = testdata("adult_sample.csv");
    let mut options = TrainOptions::new("income");
    options.name = Some("adult".into());
    options.version = "7".into();
    let trained = train(&data, &options).expect("trains");
    let p = &trained.pipeline;
    assert!(
        trained.report.metrics["accuracy"] > 0.83,
        "{:?}",
        trained.report.metrics
    );
    assert!(trained.report.metrics["roc_auc"] > 0.88);
    assert!(
        trained.report.warnings.is_empty(),
        "converges: {:?}",
        trained.report.warnings
    );
    let t = p.training();
    assert_eq!(
        (t.name.as_str(), t.version.as_str(), t.algorithm.as_str()),
        ("adult", "7", "logistic")
    );
    assert!(t.data_fingerprint.starts_with("sha256:"));
    assert_eq!(t.train_rows + t.test_rows, 8141);
    assert_eq!(p.metrics(), &trained.report.metrics);
    assert_eq!(p.schema().columns[1].kind, ColumnKind::Categorical);
    assert!(
        p.schema().columns[1].nullable,
        "workclass has missing values"
    );
    // Round trip through bytes keeps everything.
    let again = Pipeline::from_bytes(&p.to_bytes().unwrap()).unwrap();
    assert_eq!(again.to_parts(), p.to_parts());
}

#[test]
fn an_infinite_number_is_refused_naming_its_row_and_column() {
    // Before: training went on and failed on its own artifact ("encoders[..].scaling.mean:
    // must be finite"), naming neither the data nor the value.
    let x = vec![1.0, 2.0, f64::INFINITY, 4.0, 5.0, 6.0];
    for (features, target) in [
        (x.clone(), vec![0.0, 1.0, 0.0, 1.0, 0.0, 1.0]),
        (vec![1.0; 6], x),
    ] {
        let data = tabship::Batch::new(vec![
            ("x".to_owned(), tabship::ColumnValues::Numeric(features)),
            ("y".to_owned(), tabship::ColumnValues::Numeric(target)),
        ])
        .unwrap();
        let err = train(&data, &TrainOptions::new("y")).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Core(tabship::Error::InvalidValue { row: Some(3), .. })
            ),
            "the core's value error, as prediction gives, got {err:?}"
        );
        let message = err.to_string();
        assert!(
            message.contains("row 3, column `")
                && message.contains("expected a finite number")
                && message.contains("`inf`"),
            "{message}"
        );
    }
}

#[test]
fn a_logistic_fit_stopped_by_max_iter_says_so() {
    let data = testdata("adult_sample.csv");
    let mut options = TrainOptions::new("income");
    options.linear.max_iter = 3;
    let trained = train(&data, &options).expect("still gives a model");
    let [warning] = trained.report.warnings.as_slice() else {
        panic!("one warning: {:?}", trained.report.warnings)
    };
    assert!(
        warning.contains("iteration limit (max_iter 3)") && warning.contains("tol 1e-4"),
        "{warning}"
    );
    let h = &trained.pipeline.training().hyperparameters;
    assert!(h.contains_key("max_iter") && h.contains_key("tol"), "{h:?}");
}

#[test]
fn overrides_min_frequency_and_ordinal() {
    let data = testdata("adult_sample.csv");
    let mut options = TrainOptions::new("income");
    options.kinds.categorical = vec!["education_num".into()];
    options.encoders.min_frequency = MinFrequency::Fraction(0.01);
    options.encoders.categorical_encoding = tabship::encode::CategoryEncoding::Ordinal;
    let p = train(&data, &options).expect("trains").pipeline;
    assert_eq!(p.schema().columns[3].kind, ColumnKind::Categorical);
    assert_eq!(p.encoder().width(), 13, "ordinal: one feature per column");
    // A number for a categorical column is matched as text.
    let record = [("education_num", Value::from(13.0))];
    let err = p.predict_one(&record).unwrap_err().to_string();
    assert!(err.starts_with("missing column `age`"), "{err}");
}

#[test]
fn task_and_model_are_inferred_and_checked() {
    let data = testdata("diamonds_sample.csv");
    let trained = train(&data, &TrainOptions::new("price")).expect("trains");
    assert_eq!(trained.report.task, Task::Regression);
    assert_eq!(trained.report.model, ModelKind::Ridge);
    let mut options = TrainOptions::new("price");
    options.model = Some(ModelKind::Logistic);
    let err = train(&data, &options).unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidOption {
                option: "model",
                ..
            }
        ),
        "{err}"
    );
    let err = train(&data, &TrainOptions::new("nope"))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("target column `nope`: no such column"),
        "{err}"
    );
    let mut options = TrainOptions::new("price");
    options.test_fraction = 1.5;
    assert!(train(&data, &options).is_err());
}

#[test]
fn cross_validation_reports_mean_and_std() {
    let data = testdata("iris.csv");
    let cv = cross_validate(&data, &TrainOptions::new("species"), 5).expect("cv");
    let (mean, std) = cv["accuracy"];
    assert!(mean > 0.9 && std < 0.1, "{mean} ± {std}");
}

#[test]
fn integer_targets_keep_integer_labels() {
    let data = testdata("iris.csv");
    // Recode species as 0/1/2 through a numeric column.
    let species = data.column("species").unwrap().clone();
    let tabship::ColumnValues::Categorical(s) = species else {
        panic!()
    };
    let codes: Vec<f64> = (0..s.len())
        .map(|i| match s.get(i) {
            Some("setosa") => 0.0,
            Some("versicolor") => 1.0,
            _ => 2.0,
        })
        .collect();
    let mut columns: Vec<(String, tabship::ColumnValues)> =
        ["sepal_length", "sepal_width", "petal_length", "petal_width"]
            .iter()
            .map(|n| (n.to_string(), data.column(n).unwrap().clone()))
            .collect();
    columns.push(("label".into(), tabship::ColumnValues::Numeric(codes)));
    let batch = tabship::Batch::new(columns).unwrap();
    let p = train(&batch, &TrainOptions::new("label")).unwrap().pipeline;
    assert_eq!(
        p.classes(),
        [
            tabship::ClassLabel::Integer(0),
            tabship::ClassLabel::Integer(1),
            tabship::ClassLabel::Integer(2)
        ]
    );
}
