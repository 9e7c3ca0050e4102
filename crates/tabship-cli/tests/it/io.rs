//! What the commands read and write: outputs that never destroy what they point at, `-` for
//! stdout, empty inputs, a closed stdout, exit codes and the error lines of common mistakes.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::*;

fn iris_model(dir: &Path) -> std::path::PathBuf {
    let model = dir.join("iris.tabship");
    let out = train(&testdata("iris.csv"), "species", &["-o", path(&model)]);
    assert!(out.status.success(), "{}", stderr(&out));
    model
}

#[cfg(unix)]
fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(status.success());
}

#[cfg(unix)]
#[test]
fn outputs_refuse_fifos_directories_and_devices_and_write_through_symlinks() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let fifo = dir.path().join("pipe");
    mkfifo(&fifo);
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).expect("mkdir");
    let train_to = |output: &Path, extra: &[&str]| {
        let mut args = vec![
            "train",
            &testdata("iris.csv"),
            "--target",
            "species",
            "-o",
            path(output),
        ]
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        tabship(&args)
    };
    for (target, kind) in [
        (fifo.as_path(), "named pipe"),
        (sub.as_path(), "directory"),
        (Path::new("/dev/null"), "character device"),
    ] {
        let out = train_to(target, &[]);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("refusing to write") && err.contains(kind),
            "{err}"
        );
        // Refused before fitting: nothing else is printed.
        assert!(stdout(&out).is_empty());
    }
    let meta = |p: &Path| std::fs::symlink_metadata(p).expect("meta").file_type();
    assert!(meta(&fifo).is_fifo());
    assert!(meta(&sub).is_dir());
    assert!(meta(Path::new("/dev/null")).is_char_device());

    // predict -o, drift --html and --write-split are checked the same way.
    let model = iris_model(dir.path());
    let out = tabship(&[
        "predict",
        path(&model),
        &testdata("iris.csv"),
        "-o",
        path(&fifo),
    ]);
    assert_refused(&out, 1, "named pipe");
    let out = tabship(&[
        "drift",
        path(&model),
        &testdata("iris.csv"),
        "--html",
        path(&sub),
    ]);
    assert_refused(&out, 1, "directory");
    let out = train_to(
        &dir.path().join("m.tabship"),
        &["--write-split", path(&fifo)],
    );
    assert_refused(&out, 1, "named pipe");
    assert!(meta(&fifo).is_fifo());

    // current.tabship -> versions/v3.tabship: the version is replaced, the link stays.
    std::fs::create_dir(dir.path().join("versions")).expect("mkdir");
    let v3 = dir.path().join("versions/v3.tabship");
    std::fs::write(&v3, b"old").expect("write");
    let current = dir.path().join("current.tabship");
    std::os::unix::fs::symlink("versions/v3.tabship", &current).expect("symlink");
    let out = train_to(&current, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(meta(&current).is_symlink());
    assert!(
        std::fs::read(&v3)
            .expect("read")
            .starts_with(b"\x89TABSHIP"),
        "the link's target holds the new artifact"
    );
    let out = tabship(&["inspect", path(&current)]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn a_dash_writes_to_stdout() {
    let dir = tempfile::tempdir().expect("temp dir");
    // The artifact goes to stdout (a pipe here, never a terminal), the report to stderr.
    let out = train(&testdata("iris.csv"), "species", &["-o", "-"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.starts_with(b"\x89TABSHIP"));
    assert!(stderr(&out).contains("saved <stdout>"), "{}", stderr(&out));
    let model = dir.path().join("piped.tabship");
    std::fs::write(&model, &out.stdout).expect("write");
    let out = tabship(&["predict", path(&model), &testdata("iris.csv"), "-o", "-"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 151);
    assert!(!dir.path().join("-").exists());
}

#[test]
fn empty_inputs_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let model = iris_model(dir.path());
    let empty = dir.path().join("empty.csv");
    std::fs::write(&empty, "").expect("write");
    let header_only = dir.path().join("header.csv");
    std::fs::write(
        &header_only,
        "sepal_length,sepal_width,petal_length,petal_width,species\n",
    )
    .expect("write");
    let fails = |args: &[&str], file: &Path, says: &str| {
        let out = tabship(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains(path(file)) && err.contains(says),
            "{args:?}: {err}"
        );
    };
    fails(
        &["predict", path(&model), path(&empty)],
        &empty,
        "the file is empty",
    );
    fails(
        &["evaluate", path(&model), path(&header_only)],
        &header_only,
        "no data rows",
    );
    fails(
        &["drift", path(&model), path(&header_only), "--fail-on-drift"],
        &header_only,
        "no data rows",
    );
    fails(
        &["drift", path(&model), path(&empty), "--fail-on-drift"],
        &empty,
        "the file is empty",
    );
    for data in [&empty, &header_only] {
        fails(
            &[
                "train",
                path(data),
                "--target",
                "species",
                "-o",
                path(&dir.path().join("x.tabship")),
            ],
            data,
            if data == &empty {
                "the file is empty"
            } else {
                "no data rows"
            },
        );
    }
    // A header-only file is a valid, empty input to predict: the output is the header alone.
    let out = tabship(&["predict", path(&model), path(&header_only)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "sepal_length,sepal_width,petal_length,petal_width,species,prediction\n"
    );
}

#[test]
fn a_reader_closing_stdout_ends_predict_quietly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let model = iris_model(dir.path());
    // Far more than a pipe buffer, so predict is still writing when the reader goes away.
    let iris = std::fs::read_to_string(testdata("iris.csv")).expect("iris");
    let (header, rows) = iris.split_once('\n').expect("header");
    let big = dir.path().join("big.csv");
    let mut text = format!("{header}\n");
    for _ in 0..1000 {
        text.push_str(rows);
    }
    std::fs::write(&big, text).expect("write");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tabship"))
        .args(["predict", path(&model), path(&big)])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("predict starts");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("a line");
    // The reader (and its pipe) is dropped here, as `head -1` exits.
    assert!(first.starts_with("sepal_length"), "{first}");
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("stderr");
    let status = child.wait().expect("exits");
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(err.is_empty(), "nothing on stderr: {err}");
}

#[test]
fn usage_mistakes_exit_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = tabship(&[
        "predict",
        &testdata("golden/diamonds_forest.tabship"),
        &testdata("golden/diamonds_inputs.csv"),
        "--proba",
    ]);
    assert_refused(&out, 2, "regression");
    assert!(stdout(&out).is_empty());

    let options = dir.path().join("options.json");
    for text in ["{not json", r#"{"share": 7}"#] {
        std::fs::write(&options, text).expect("write");
        let out = tabship(&[
            "drift",
            &testdata("golden/adult_logistic_profile.tabship"),
            &testdata("golden/adult_inputs.csv"),
            "--options",
            path(&options),
        ]);
        assert_eq!(out.status.code(), Some(2), "{text}: {}", stderr(&out));
        assert!(stderr(&out).contains("--options"), "{}", stderr(&out));
    }
}

#[test]
fn a_solver_of_the_default_regression_model_needs_no_model_flag() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = train(
        &testdata("diamonds_sample.csv"),
        "price",
        &[
            "--solver",
            "cholesky",
            "--json",
            "-o",
            path(&dir.path().join("d.tabship")),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["model"], "ridge");
    // A solver no default model takes is still refused before reading the data.
    let out = train(
        &testdata("diamonds_sample.csv"),
        "price",
        &["--solver", "qr", "-o", path(&dir.path().join("d.tabship"))],
    );
    assert_refused(&out, 2, "--model linear");
}

#[test]
fn evaluate_names_f1_macro_and_each_class() {
    let out = tabship(&[
        "evaluate",
        &testdata("golden/iris_logistic.tabship"),
        &testdata("iris.csv"),
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let metrics = &json["metrics"];
    assert!(metrics["f1_macro"].is_number(), "{metrics}");
    assert!(metrics.get("macro_f1").is_none(), "{metrics}");
    let classes: Vec<&str> = metrics["per_class"]
        .as_array()
        .expect("per_class")
        .iter()
        .map(|c| c["class"].as_str().expect("class name"))
        .collect();
    assert_eq!(classes, ["setosa", "versicolor", "virginica"]);
}

#[test]
fn a_mistyped_target_gets_a_suggestion() {
    let out = train(
        &testdata("adult_sample.csv"),
        "Income",
        &["-o", "never.tabship"],
    );
    assert_refused(&out, 1, "did you mean `income`?");
}

#[test]
fn classification_of_a_continuous_target_is_refused_with_a_hint() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = train(
        &testdata("diamonds_sample.csv"),
        "price",
        &[
            "--task",
            "classification",
            "-o",
            path(&dir.path().join("x.tabship")),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("target column `price`")
            && err.contains("--task regression")
            && err.contains("--max-classes"),
        "{err}"
    );
    // The limit is an option: iris' three classes fail a limit of 2.
    let out = train(
        &testdata("iris.csv"),
        "species",
        &[
            "--max-classes",
            "2",
            "-o",
            path(&dir.path().join("x.tabship")),
        ],
    );
    assert_refused(&out, 1, "3 classes");
}

#[test]
fn a_duplicate_header_names_the_column_and_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("dup.csv");
    std::fs::write(
        &data,
        "sepal_length,sepal_width,petal_length,sepal_width,species\n5.1,3.5,1.4,0.2,setosa\n4.9,3.0,1.4,0.2,setosa\n6.0,2.2,5.0,1.5,virginica\n",
    )
    .expect("write");
    let model = dir.path().join("m.tabship");
    for args in [
        vec![
            "train",
            path(&data),
            "--target",
            "species",
            "-o",
            path(&model),
        ],
        vec![
            "predict",
            &testdata("golden/iris_logistic.tabship"),
            path(&data),
        ],
    ] {
        let out = tabship(&args);
        assert_eq!(out.status.code(), Some(1));
        let err = stderr(&out);
        assert!(
            err.contains(path(&data))
                && err
                    .contains("column `sepal_width` appears twice in the header (fields 2 and 4)")
                && !err.contains("artifact"),
            "{err}"
        );
    }
}

#[test]
fn write_split_counts_data_rows_from_1_and_lists_dropped_rows() {
    let dir = tempfile::tempdir().expect("temp dir");
    let iris = std::fs::read_to_string(testdata("iris.csv")).expect("iris");
    let mut lines: Vec<String> = iris.lines().map(str::to_owned).collect();
    // Data row 3 (file line 4) loses its target.
    let row3 = lines[3].rsplit_once(',').expect("fields").0.to_owned();
    lines[3] = format!("{row3},");
    let data = dir.path().join("iris.csv");
    std::fs::write(&data, lines.join("\n") + "\n").expect("write");
    let split = dir.path().join("split.csv");
    let out = train(
        path(&data),
        "species",
        &[
            "--write-split",
            path(&split),
            "--json",
            "-o",
            path(&dir.path().join("m.tabship")),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let text = std::fs::read_to_string(&split).expect("split");
    let rows: Vec<(usize, &str)> = text
        .lines()
        .skip(1)
        .map(|l| {
            let (row, set) = l.split_once(',').expect("row,set");
            (row.parse().expect("row"), set)
        })
        .collect();
    assert_eq!(rows.len(), 150, "every data row");
    assert_eq!(rows[0].0, 1, "rows count from 1");
    assert_eq!(rows[2], (3, "dropped"));
    let count = |set: &str| rows.iter().filter(|r| r.1 == set).count() as u64;
    assert_eq!(
        count("test"),
        json["test_rows"].as_u64().expect("test rows")
    );
    assert_eq!(
        count("train"),
        json["train_rows"].as_u64().expect("train rows")
    );
    assert_eq!(count("dropped"), 1);
}

#[cfg(unix)]
#[test]
fn serve_names_both_files_of_a_duplicate_and_logs_merged_versions() {
    let dir = tempfile::tempdir().expect("temp dir");
    let train_version = |version: &str, file: &str| {
        let model = dir.path().join(file);
        let out = train(
            &testdata("iris.csv"),
            "species",
            &["--model-version", version, "-o", path(&model)],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        model
    };
    let a = train_version("1", "a.tabship");
    let b = train_version("1", "b.tabship");
    let out = tabship(&["serve", path(&a), path(&b), "--port", "0"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("both model `species` version `1`")
            && err.contains(path(&b))
            && err.contains("NAME=FILE")
            && err.contains("--name"),
        "{err}"
    );

    // Different versions are served as one model: the start-up log says so.
    let c = train_version("2", "c.tabship");
    let mut server = Served::listen(serve_command(&[path(&a), path(&c)]));
    let merged = server.log.wait_until("the merge", |line| {
        serde_json::from_str::<serde_json::Value>(line).is_ok_and(|json| {
            json["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("artifacts sharing a model name"))
        })
    });
    server.kill();
    let merged: serde_json::Value = serde_json::from_str(&merged).expect("JSON logs");
    assert_eq!(merged["fields"]["model"], "species");
    assert_eq!(merged["fields"]["current"], "2");
    let versions = merged["fields"]["versions"].as_str().expect("versions");
    assert!(
        versions.contains(path(&a)) && versions.contains(path(&c)),
        "{versions}"
    );
}
