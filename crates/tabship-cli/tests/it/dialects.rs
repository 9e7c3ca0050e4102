//! CSV dialects and missing-value spellings on every command that reads a CSV: `NA`, `null`,
//! `?`... in numeric columns, `--na-values` stored in the artifact, `--delimiter`, `--decimal`,
//! `--file-encoding`, and the hints when a file is read with the wrong ones.

use std::path::{Path, PathBuf};

use crate::common::*;

/// iris.csv rewritten by `row` (fields of one data row → the new line), header by `header`.
fn iris_as(
    dir: &Path,
    name: &str,
    header: &[u8],
    row: impl Fn(usize, &[&str]) -> Vec<u8>,
) -> PathBuf {
    let text = std::fs::read_to_string(testdata("iris.csv")).expect("iris");
    let mut out = header.to_vec();
    out.push(b'\n');
    for (i, line) in text.lines().skip(1).enumerate() {
        let fields: Vec<&str> = line.split(',').collect();
        out.extend(row(i, &fields));
        out.push(b'\n');
    }
    let path = dir.join(name);
    std::fs::write(&path, out).expect("writes");
    path
}

const HEADER: &str = "sepal_length,sepal_width,petal_length,petal_width,species";

fn train_iris(dir: &Path, data: &Path, extra: &[&str]) -> (PathBuf, std::process::Output) {
    let model = dir.join("m.tabship");
    let mut args = vec![
        "train",
        path(data),
        "--target",
        "species",
        "-o",
        path(&model),
    ];
    args.extend_from_slice(extra);
    let out = tabship(&args);
    (model, out)
}

#[test]
fn predict_reads_the_usual_na_spellings_as_missing() {
    let dir = tempfile::tempdir().expect("dir");
    let (model, out) = train_iris(dir.path(), Path::new(&testdata("iris.csv")), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let spellings = ["NA", "null", "NULL", "None", "?", "-", "N/A", "nan"];
    let data = iris_as(dir.path(), "na.csv", HEADER.as_bytes(), |i, f| {
        let mut f = f.to_vec();
        if let Some(na) = spellings.get(i) {
            f[1] = na;
        }
        f.join(",").into_bytes()
    });
    let out = tabship(&["predict", path(&model), path(&data)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("sepal_width: 0 unknown, 0 other, 8 missing"),
        "{}",
        stderr(&out)
    );
    // evaluate and drift read them the same way.
    let out = tabship(&["evaluate", path(&model), path(&data)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = tabship(&["drift", path(&model), path(&data)]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn a_few_texts_in_a_numeric_column_warn_and_na_values_fix_it() {
    let dir = tempfile::tempdir().expect("dir");
    let data = iris_as(dir.path(), "few.csv", HEADER.as_bytes(), |i, f| {
        let mut f = f.to_vec();
        if i % 25 == 3 {
            f[0] = "n.a.";
        }
        f.join(",").into_bytes()
    });
    let (_, out) = train_iris(dir.path(), &data, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "warning: column `sepal_length` is numeric except for `n.a.` (6 rows), so it was read as categorical"
        ),
        "{}",
        stderr(&out)
    );
    let (model, out) = train_iris(dir.path(), &data, &["--na-values", "n.a."]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
    let out = tabship(&["inspect", path(&model), "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["schema"][0]["kind"], "numeric", "{json}");
    assert_eq!(json["na_values"]["values"][0], "n.a.", "{json}");
    // The artifact's policy applies at prediction without repeating the option.
    let out = tabship(&["predict", path(&model), path(&data)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("sepal_length: 0 unknown, 0 other, 6 missing"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn predict_adds_its_own_na_values_to_the_artifacts() {
    let dir = tempfile::tempdir().expect("dir");
    let (model, _) = train_iris(dir.path(), Path::new(&testdata("iris.csv")), &[]);
    let data = iris_as(dir.path(), "nd.csv", HEADER.as_bytes(), |i, f| {
        let mut f = f.to_vec();
        if i == 4 {
            f[2] = "n/d";
        }
        f.join(",").into_bytes()
    });
    let out = tabship(&["predict", path(&model), path(&data)]);
    assert_refused(
        &out,
        1,
        "row 5, column `petal_length`: expected a number, got `n/d`",
    );
    for command in ["predict", "evaluate", "drift", "bench"] {
        let mut args = vec![command, path(&model), path(&data), "--na-values", "n/d"];
        if command == "bench" {
            args.extend(["--rows", "100"]);
        }
        let out = tabship(&args);
        assert!(out.status.success(), "{command}: {}", stderr(&out));
    }
}

#[test]
fn semicolons_and_decimal_commas_on_every_command() {
    let dir = tempfile::tempdir().expect("dir");
    let data = iris_as(
        dir.path(),
        "eu.csv",
        HEADER.replace(',', ";").as_bytes(),
        |_, f| {
            f.iter()
                .map(|v| v.replace('.', ","))
                .collect::<Vec<_>>()
                .join(";")
                .into_bytes()
        },
    );
    let (_, out) = train_iris(dir.path(), &data, &[]);
    assert_refused(
        &out,
        1,
        "the header reads as one column `sepal_length;sepal_width;petal_length;petal_width;species`: the file looks separated by `;`: pass `--delimiter ';'`",
    );
    let dialect = ["--delimiter", ";", "--decimal", ","];
    let (model, out) = train_iris(dir.path(), &data, &dialect);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = tabship(&["inspect", path(&model), "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["schema"][0]["kind"], "numeric", "3,5 is a number");
    for command in ["predict", "evaluate", "drift", "bench"] {
        let mut args = vec![command, path(&model), path(&data)];
        args.extend(dialect);
        if command == "bench" {
            args.extend(["--rows", "100"]);
        }
        let out = tabship(&args);
        assert!(out.status.success(), "{command}: {}", stderr(&out));
        let out = tabship(&[command, path(&model), path(&data)]);
        assert_eq!(out.status.code(), Some(1), "{command} without --delimiter");
        assert!(
            stderr(&out).contains("--delimiter ';'"),
            "{command}: {}",
            stderr(&out)
        );
    }
    let out = tabship(&["predict", path(&model), path(&data), "--delimiter", ";;"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a bad delimiter is a usage error"
    );
}

#[test]
fn latin1_files_need_and_take_file_encoding() {
    let dir = tempfile::tempdir().expect("dir");
    let data = iris_as(
        dir.path(),
        "latin1.csv",
        b"sepal_length,sepal_width,petal_length,petal_width,esp\xe8ce",
        |_, f| {
            let mut line = f[..4].join(",").into_bytes();
            line.push(b',');
            // Latin-1 bytes: `é` is 0xE9.
            line.extend(
                f[4].replace("setosa", "s\u{e9}tosa")
                    .chars()
                    .map(|c| c as u32 as u8),
            );
            line
        },
    );
    let model = dir.path().join("m.tabship");
    let args = [
        "train",
        path(&data),
        "--target",
        "espèce",
        "-o",
        path(&model),
    ];
    let out = tabship(&args);
    assert_refused(&out, 1, "`--file-encoding latin-1`");
    let mut args = args.to_vec();
    args.extend(["--file-encoding", "latin-1"]);
    let out = tabship(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = tabship(&[
        "predict",
        path(&model),
        path(&data),
        "--file-encoding",
        "latin-1",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains(",sétosa,sétosa"), "{}", stdout(&out));
}

#[test]
fn evaluate_skips_true_values_spelled_as_missing() {
    let dir = tempfile::tempdir().expect("dir");
    let data = iris_as(dir.path(), "reg.csv", HEADER.as_bytes(), |i, f| {
        let mut f = f.to_vec();
        if i % 50 == 7 {
            f[3] = "NA";
        }
        f.join(",").into_bytes()
    });
    let model = dir.path().join("reg.tabship");
    let out = train(path(&data), "petal_width", &["-o", path(&model)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = tabship(&["evaluate", path(&model), path(&data), "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["skipped"]["missing_target"], 3, "{json}");
}
