//! Missing-value spellings and CSV dialects in training: R's `NA`, a few stray texts in a
//! numeric column, `--na-values` stored in the artifact, semicolons, decimal commas, Latin-1.

use std::path::{Path, PathBuf};

use tabship::{ColumnKind, ColumnValues, NaValues, Pipeline, Value};
use tabship_train::csv_input::CsvOptions;
use tabship_train::data::{KindOverrides, read_csv, read_csv_with};
use tabship_train::{TrainOptions, train};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("writes");
    path
}

/// 60 rows: `x` numeric, `y` = 2x + noise, `c` a category; `fill(i)` may replace `x`.
fn table(fill: impl Fn(usize) -> Option<&'static str>, sep: char, category: &str) -> String {
    let mut s = format!("x{sep}c{sep}y\n");
    for i in 0..60 {
        let x = match fill(i) {
            Some(t) => t.to_owned(),
            None => format!("{}", i % 17),
        };
        let c = if i % 4 == 0 { category } else { "b" };
        s.push_str(&format!("{x}{sep}{c}{sep}{}\n", 2 * (i % 17) + i % 3));
    }
    s
}

fn kind(batch: &tabship::Batch, name: &str) -> ColumnKind {
    match batch.column(name) {
        Some(ColumnValues::Numeric(_)) => ColumnKind::Numeric,
        _ => ColumnKind::Categorical,
    }
}

#[test]
fn r_style_na_keeps_numeric_columns_numeric() {
    let dir = tempfile::tempdir().expect("dir");
    let text = table(
        |i| {
            [Some("NA"), Some("null"), Some("?")][..]
                .get(i % 20)
                .copied()
                .flatten()
        },
        ',',
        "NA",
    );
    let path = write(dir.path(), "r.csv", text.as_bytes());
    let batch = read_csv(&path, &KindOverrides::default()).expect("reads");
    assert_eq!(
        kind(&batch, "x"),
        ColumnKind::Numeric,
        "NA, null and ? are missing"
    );
    let Some(ColumnValues::Numeric(x)) = batch.column("x") else {
        unreachable!()
    };
    assert_eq!(x.iter().filter(|v| v.is_nan()).count(), 9);
    // In a categorical column the default spellings stay categories.
    let Some(ColumnValues::Categorical(c)) = batch.column("c") else {
        panic!("categorical")
    };
    assert_eq!(c.get(0), Some("NA"));

    let trained = train(&batch, &TrainOptions::new("y")).expect("trains");
    let p = &trained.pipeline;
    assert!(
        trained.report.warnings.is_empty(),
        "{:?}",
        trained.report.warnings
    );
    assert_eq!(p.schema().columns[0].kind, ColumnKind::Numeric);
    assert!(p.schema().columns[0].nullable);
    // The default policy is not stored: the artifact keeps the format of its other content
    // (1.3 only because this profile holds exact values of few-valued numeric columns).
    assert!(p.schema().na_values.is_default());
    let reloaded = Pipeline::from_bytes(&p.to_bytes().expect("bytes")).expect("loads");
    assert!(reloaded.schema().na_values.is_default());
    let parts = p.to_parts();
    let profile_minor = match &parts.drift_profile {
        Some(profile) if profile.has_exact_values() => 3,
        Some(_) => 2,
        None => 0,
    };
    assert_eq!(
        reloaded.header().map(|h| h.format_minor),
        Some(profile_minor)
    );
}

#[test]
fn a_numeric_column_with_a_few_texts_is_reported() {
    let dir = tempfile::tempdir().expect("dir");
    let text = table(
        |i| match i % 15 {
            0 => Some("n.a."),
            7 => Some("unknown"),
            _ => None,
        },
        ',',
        "a",
    );
    let path = write(dir.path(), "few.csv", text.as_bytes());
    let batch = read_csv(&path, &KindOverrides::default()).expect("reads");
    assert_eq!(kind(&batch, "x"), ColumnKind::Categorical);
    let trained = train(&batch, &TrainOptions::new("y")).expect("trains");
    let [warning] = trained.report.warnings.as_slice() else {
        panic!("one warning: {:?}", trained.report.warnings)
    };
    assert!(
        warning.starts_with("column `x` is numeric except for `n.a.` (4 rows), `unknown` (4 rows)"),
        "{warning}"
    );
    assert!(
        warning.contains("`--na-values 'n.a.,unknown'`"),
        "{warning}"
    );

    // With the texts as NA values the column is numeric, and the policy is stored.
    let csv = CsvOptions {
        na_values: NaValues::new(true, ["n.a.", "unknown"]),
        ..CsvOptions::default()
    };
    let batch = read_csv_with(&path, &csv, &KindOverrides::default()).expect("reads");
    assert_eq!(kind(&batch, "x"), ColumnKind::Numeric);
    let mut options = TrainOptions::new("y");
    options.na_values = csv.na_values.clone();
    let trained = train(&batch, &options).expect("trains");
    assert!(
        trained.report.warnings.is_empty(),
        "{:?}",
        trained.report.warnings
    );
    let p = Pipeline::from_bytes(&trained.pipeline.to_bytes().expect("bytes")).expect("loads");
    assert_eq!(
        p.header().map(|h| h.format_version()),
        Some("1.3".to_owned())
    );
    assert_eq!(p.schema().na_values, csv.na_values);
    let record = [("x", Value::from("unknown")), ("c", Value::from("b"))];
    p.predict_one(&record)
        .expect("`unknown` is missing at prediction too");
    // Overriding the kind parses with the same policy.
    let mut numeric = TrainOptions::new("y");
    numeric.na_values = csv.na_values.clone();
    numeric.kinds.numeric = vec!["x".into()];
    let raw = read_csv(&path, &KindOverrides::default()).expect("reads");
    train(&raw, &numeric).expect("--numeric x with the NA values");
}

#[test]
fn user_na_values_apply_to_categories() {
    let dir = tempfile::tempdir().expect("dir");
    let path = write(dir.path(), "c.csv", table(|_| None, ',', "NA").as_bytes());
    let csv = CsvOptions {
        na_values: NaValues::new(true, ["NA"]),
        ..CsvOptions::default()
    };
    let batch = read_csv_with(&path, &csv, &KindOverrides::default()).expect("reads");
    let Some(ColumnValues::Categorical(c)) = batch.column("c") else {
        panic!("categorical")
    };
    assert_eq!((c.get(0), c.get(1)), (None, Some("b")));
    // In-memory data (pandas) gets the same policy from the options.
    let raw = read_csv(&path, &KindOverrides::default()).expect("reads");
    let mut options = TrainOptions::new("y");
    options.na_values = csv.na_values;
    let trained = train(&raw, &options).expect("trains");
    let stats_before = trained
        .pipeline
        .encoding_stats()
        .column("c")
        .expect("c")
        .missing;
    let record = [("x", Value::from(3.0)), ("c", Value::from("NA"))];
    trained.pipeline.predict_one(&record).expect("predicts");
    let missing = trained
        .pipeline
        .encoding_stats()
        .column("c")
        .expect("c")
        .missing;
    assert_eq!(missing, stats_before + 1);
    assert!(trained.pipeline.schema().columns[1].nullable);
}

#[test]
fn semicolons_decimal_commas_and_latin1_read_as_numbers() {
    let dir = tempfile::tempdir().expect("dir");
    let mut bytes = b"pre\xe7o;cidade;y\n".to_vec();
    for i in 0..40 {
        bytes.extend_from_slice(format!("{},5;", i % 9).as_bytes());
        bytes.extend_from_slice(if i % 2 == 0 {
            b"S\xe3o Paulo"
        } else {
            b"Bras\xedlia"
        });
        bytes.extend_from_slice(format!(";{},25\n", i % 9 * 2).as_bytes());
    }
    let path = write(dir.path(), "br.csv", &bytes);
    let err = read_csv(&path, &KindOverrides::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("`--file-encoding latin-1`"), "{err}");
    let utf8 = CsvOptions {
        encoding: "latin-1".parse().expect("label"),
        ..CsvOptions::default()
    };
    let err = read_csv_with(&path, &utf8, &KindOverrides::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("pass `--delimiter ';'`"), "{err}");
    let csv = CsvOptions {
        delimiter: Some(b';'),
        encoding: "latin-1".parse().expect("label"),
        decimal_comma: true,
        ..CsvOptions::default()
    };
    let batch = read_csv_with(&path, &csv, &KindOverrides::default()).expect("reads");
    assert_eq!(batch.names(), ["preço", "cidade", "y"]);
    let Some(ColumnValues::Numeric(price)) = batch.column("preço") else {
        panic!("numeric")
    };
    assert_eq!(price[..2], [0.5, 1.5]);
    let Some(ColumnValues::Categorical(city)) = batch.column("cidade") else {
        panic!("text")
    };
    assert_eq!(city.get(0), Some("São Paulo"));
    let Some(ColumnValues::Numeric(y)) = batch.column("y") else {
        panic!("numeric")
    };
    assert_eq!(y[1], 2.25);
}
