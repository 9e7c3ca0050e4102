//! Retraining a champion with its recorded options: refitted on the champion's own rows it
//! must give the champion again (every recorded option read back), on new rows the next
//! version with its provenance; imported models and mismatched files are refused.

use tabship::{ParamValue, Pipeline};
use tabship_train::csv_input::CsvOptions;
use tabship_train::data::read_csv;
use tabship_train::{LabelledRows, RetrainOptions, TrainOptions, retrain, train};

fn rows(name: &str) -> LabelledRows {
    LabelledRows::read(
        &tabship_test_support::testdata(name),
        &CsvOptions::default(),
    )
    .expect("reads")
}

/// Everything of a pipeline that fitting decides: all parts but the provenance.
fn fitted(p: &Pipeline) -> tabship::PipelineParts {
    let mut parts = p.to_parts();
    parts.training = tabship::TrainingInfo::default();
    parts
}

fn options(json: &str) -> TrainOptions {
    let mut o: TrainOptions = serde_json::from_str(json).expect("valid JSON");
    o.trees.threads = 2;
    o
}

/// Champions trained with options far from the defaults: a refit on the same rows reproduces
/// them exactly, so every option that shapes the fit is recorded and read back.
#[test]
fn a_refit_on_the_champions_rows_reproduces_the_champion() {
    let cases = [
        (
            "adult_sample.csv",
            r#"{"target": "income", "name": "adult", "version": "7",
                "encoders": {"encoding": "ordinal", "categorical-missing": "most-frequent",
                             "impute": "mean", "min-frequency": 0.02, "missing-indicator": true},
                "linear": {"alpha": 0.5, "tol": 1e-5, "max-iter": 300},
                "class-weight": "balanced", "threshold": "f1", "positive-class": ">50K",
                "test-fraction": 0.25, "seed": 7}"#,
        ),
        (
            "adult_sample.csv",
            r#"{"target": "income", "model": "random-forest",
                "trees": {"n-trees": 9, "max-depth": 6, "min-samples-leaf": 3,
                          "min-samples-split": 5, "max-features": 0.5},
                "encoders": {"impute": "constant", "fill-value": -1},
                "seed": 3, "test-fraction": 0.3}"#,
        ),
        (
            "adult_sample.csv",
            r#"{"target": "income", "model": "extra-trees",
                "trees": {"learner": "hist", "max-bins": 32, "n-trees": 7, "max-depth": 9},
                "encoders": {"impute": "nan"}, "seed": 5}"#,
        ),
        (
            "diamonds_sample.csv",
            r#"{"target": "price", "model": "elastic-net", "target-transform": "log1p",
                "linear": {"alpha": 0.01, "l1-ratio": 0.2, "max-iter": 200},
                "encoders": {"scale": false}, "profile": false,
                "na-values": {"defaults": false, "values": ["unknown"]}}"#,
        ),
        (
            "diamonds_sample.csv",
            r#"{"target": "price", "model": "ridge", "linear": {"alpha": 3, "solver": "svd"},
                "kinds": {"categorical": ["carat"]}, "test-fraction": 0.1}"#,
        ),
    ];
    for (file, json) in cases {
        let o = options(json);
        let data =
            read_csv(&tabship_test_support::testdata(file), &o.kinds).expect("reads the CSV");
        let champion = train(&data, &o).expect("trains").pipeline;
        let champion =
            Pipeline::from_bytes(&champion.to_bytes().expect("serializes")).expect("loads");
        let checksum = champion
            .header()
            .expect("a loaded artifact has a header")
            .checksum_hex();
        let retrained = retrain(
            &champion,
            &checksum,
            &rows(file),
            None,
            &RetrainOptions {
                reason: Some("scheduled".into()),
                threads: Some(2),
                ..RetrainOptions::default()
            },
        )
        .unwrap_or_else(|e| panic!("{json}: {e}"));
        let challenger = &retrained.trained.pipeline;
        assert_eq!(fitted(challenger), fitted(&champion), "{json}");
        let (c, t) = (champion.training(), challenger.training());
        assert_eq!(t.name, c.name);
        assert_eq!(t.algorithm, c.algorithm);
        assert_eq!(t.hyperparameters, c.hyperparameters, "{json}");
        assert_eq!(t.target, c.target);
        let from = t.retrained_from.as_ref().expect("has provenance");
        assert_eq!((&from.name, &from.version), (&c.name, &c.version));
        assert_eq!(from.checksum, checksum);
        assert_eq!(from.reason, "scheduled");
        assert_eq!(from.new_rows, data.n_rows() as u64);
        assert_eq!(from.old_rows, 0);
        assert_eq!(
            t.version,
            tabship_train::retrain::next_version(&c.version).expect("a trailing number")
        );
        // The provenance survives the artifact.
        let reread =
            Pipeline::from_bytes(&challenger.to_bytes().expect("serializes")).expect("loads");
        assert_eq!(reread.training().retrained_from, t.retrained_from);
    }
}

/// New rows after a window of the old ones: the fit sees exactly those rows (the same model as
/// training on the concatenated file), and the provenance counts both.
#[test]
fn the_old_window_comes_first_then_the_new_rows() {
    let all = rows("adult_sample.csv");
    let (old_rows, new_rows) = all.rows.split_at(6000);
    let old = LabelledRows {
        path: "old.csv".into(),
        header: all.header.clone(),
        rows: old_rows.to_vec(),
    };
    let new = LabelledRows {
        path: "new.csv".into(),
        header: all.header.clone(),
        rows: new_rows.to_vec(),
    };
    let o = options(r#"{"target": "income", "name": "adult"}"#);
    let champion = train(&to_batch(&old, &o), &o).expect("trains").pipeline;
    let window = old.clone().last(1000);
    let retrained = retrain(
        &champion,
        "sha256:00",
        &new,
        Some(&window),
        &RetrainOptions::default(),
    )
    .expect("retrains");
    let mut both = window.clone();
    both.rows.extend(new.rows.iter().cloned());
    let direct = train(&to_batch(&both, &o), &o).expect("trains").pipeline;
    assert_eq!(fitted(&retrained.trained.pipeline), fitted(&direct));
    let from = retrained
        .trained
        .pipeline
        .training()
        .retrained_from
        .clone()
        .expect("has provenance");
    assert_eq!(
        (from.new_rows, from.old_rows),
        (new.rows.len() as u64, 1000)
    );
    assert!(
        retrained.trained.report.warnings.is_empty(),
        "{:?}",
        retrained.trained.report.warnings
    );
    assert_eq!(retrained.trained.pipeline.training().version, "2");
}

fn to_batch(rows: &LabelledRows, o: &TrainOptions) -> tabship::Batch {
    tabship_train::data::text_rows_to_batch(&rows.header, &rows.rows, &o.kinds, &o.na_values)
        .expect("text rows read")
}

/// Why retraining `champion` on `new` (no old rows, default options) is refused.
fn refusal(champion: &Pipeline, new: &LabelledRows) -> String {
    retrain(champion, "sha256:00", new, None, &RetrainOptions::default())
        .expect_err("refused")
        .to_string()
}

fn iris_champion() -> tabship::PipelineParts {
    let o = options(r#"{"target": "species"}"#);
    let data = read_csv(&tabship_test_support::testdata("iris.csv"), &o.kinds).expect("reads");
    train(&data, &o).expect("trains").pipeline.to_parts()
}

/// `iris.csv` with `edit` applied to its rows.
fn iris_edited(edit: impl FnOnce(&mut LabelledRows)) -> LabelledRows {
    let mut rows = rows("iris.csv");
    edit(&mut rows);
    rows
}

fn column(rows: &LabelledRows, name: &str) -> usize {
    rows.header
        .iter()
        .position(|h| h == name)
        .expect("the column is there")
}

#[test]
fn a_file_without_a_schema_column_is_refused_naming_it() {
    let champion = Pipeline::from_parts(iris_champion()).expect("valid parts");
    let renamed = iris_edited(|r| {
        let at = column(r, "petal_width");
        r.header[at] = "petal_w".into();
    });
    let e = refusal(&champion, &renamed);
    assert!(e.contains("`petal_width`") && e.contains("petal_w"), "{e}");
    // Without the target there is nothing to learn from.
    let unlabelled = iris_edited(|r| {
        let at = column(r, "species");
        r.header[at] = "kind".into();
    });
    let e = refusal(&champion, &unlabelled);
    assert!(e.contains("`species`"), "{e}");
    // A text in a column the champion read as numbers is an error naming the column.
    let bad = iris_edited(|r| {
        let at = column(r, "sepal_length");
        r.rows[3] = r.rows[3]
            .iter()
            .enumerate()
            .map(|(i, f)| if i == at { "long" } else { f })
            .collect();
    });
    let e = refusal(&champion, &bad);
    assert!(e.contains("sepal_length") && e.contains("long"), "{e}");
}

#[test]
fn an_imported_model_is_refused_with_what_to_do() {
    for golden in ["adult_xgboost.tabship", "adult_lightgbm.tabship"] {
        let champion = Pipeline::load(tabship_test_support::golden(golden)).expect("loads");
        let e = refusal(&champion, &rows("adult_sample.csv"));
        assert!(
            e.starts_with("cannot retrain") && e.contains("tabship import"),
            "{e}"
        );
    }
}

#[test]
fn a_champion_without_recorded_options_is_refused_naming_the_missing_one() {
    let mut parts = iris_champion();
    let iris = rows("iris.csv");
    parts.training.hyperparameters.remove("seed");
    let e = refusal(
        &Pipeline::from_parts(parts.clone()).expect("valid parts"),
        &iris,
    );
    assert!(e.contains("no `seed`"), "{e}");
    parts
        .training
        .hyperparameters
        .insert("seed".into(), ParamValue::Text("forty".into()));
    let e = refusal(
        &Pipeline::from_parts(parts.clone()).expect("valid parts"),
        &iris,
    );
    assert!(e.contains("`seed`: expected a count, got `forty`"), "{e}");
    // A version with no number to increment needs one given.
    parts
        .training
        .hyperparameters
        .insert("seed".into(), ParamValue::Int(1));
    parts.training.version = "prod".into();
    let champion = Pipeline::from_parts(parts).expect("valid parts");
    let e = refusal(&champion, &iris);
    assert!(e.contains("`prod`"), "{e}");
    let ok = retrain(
        &champion,
        "sha256:00",
        &iris,
        None,
        &RetrainOptions {
            version: Some("prod-2".into()),
            ..RetrainOptions::default()
        },
    )
    .expect("retrains with the version given");
    assert_eq!(ok.trained.pipeline.training().version, "prod-2");
}

#[test]
fn a_change_of_classes_is_a_warning() {
    // iris is sorted by species: a champion of the first 100 rows knows two of them.
    let all = rows("iris.csv");
    let (old_rows, new_rows) = all.rows.split_at(100);
    let part = |rows: &[csv::StringRecord]| LabelledRows {
        path: "part.csv".into(),
        header: all.header.clone(),
        rows: rows.to_vec(),
    };
    let o = options(r#"{"target": "species", "name": "iris"}"#);
    let champion = train(&to_batch(&part(old_rows), &o), &o)
        .expect("trains")
        .pipeline;
    let retrained = retrain(
        &champion,
        "sha256:00",
        &part(new_rows),
        Some(&part(old_rows).last(60)),
        &RetrainOptions::default(),
    )
    .expect("retrains");
    assert_eq!(retrained.trained.pipeline.classes().len(), 3);
    assert_eq!(
        retrained.trained.report.warnings,
        [
            "the challenger's classes (setosa, versicolor, virginica) differ from the champion's (setosa, versicolor)"
        ]
    );
}
