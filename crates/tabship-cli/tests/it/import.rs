//! `tabship import`: an XGBoost or LightGBM model and its reference data become an artifact
//! whose predictions through `tabship predict` are the library's, bit for bit.

use crate::common::{path, stderr, stdout, tabship, testdata};

#[test]
fn import_xgboost_then_predict_matches_xgboost() {
    let dir = tempfile::tempdir().expect("tempdir");
    let case = "import/xgboost/v3.2/iris_softprob";
    let out = dir.path().join("iris.tabship");
    let rows = testdata(&format!("{case}/rows.csv"));
    let o = tabship(&[
        "import",
        "xgboost",
        &testdata(&format!("{case}/model.json")),
        "--reference",
        &rows,
        "--target",
        "target",
        "--name",
        "iris-xgb",
        "-o",
        path(&out),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("format 1.5"), "{}", stdout(&o));
    let o = tabship(&["predict", path(&out), &rows, "--proba"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let p0 = header
        .iter()
        .position(|h| *h == "probability_setosa")
        .expect("probabilities");
    let (_, expected) = tabship_test_support::read_csv(&tabship_test_support::testdata(&format!(
        "{case}/expected.csv"
    )));
    let mut compared = 0;
    for (line, want) in lines.zip(&expected) {
        let fields: Vec<&str> = line.split(',').collect();
        for c in 0..3 {
            let got: f64 = fields[p0 + c].parse().expect("probability");
            let bits = u32::from_str_radix(&want[c + 1], 16).expect("hex");
            assert_eq!((got as f32).to_bits(), bits, "{line}");
            assert_eq!(f64::from(got as f32), got, "{line}");
        }
        compared += 1;
    }
    assert_eq!(compared, expected.len());
    let o = tabship(&["inspect", path(&out)]);
    assert!(stdout(&o).contains("iris-xgb"), "{}", stdout(&o));
}

#[test]
fn import_refuses_what_it_cannot_reproduce() {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = dir.path().join("model.json");
    let text = std::fs::read_to_string(tabship_test_support::testdata(
        "import/xgboost/v3.2/diamonds_reg/model.json",
    ))
    .expect("fixture")
    .replace("reg:squarederror", "reg:pseudohubererror");
    std::fs::write(&model, text).expect("write");
    let o = tabship(&[
        "import",
        "xgboost",
        path(&model),
        "--reference",
        &testdata("import/xgboost/v3.2/diamonds_reg/rows.csv"),
        "-o",
        path(&dir.path().join("out.tabship")),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o)
            .contains("unsupported objective `reg:pseudohubererror` (learner.objective.name)"),
        "{}",
        stderr(&o)
    );
    assert!(!dir.path().join("out.tabship").exists());
}

#[test]
fn import_lightgbm_then_predict_matches_lightgbm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixture = |ext: &str| testdata(&format!("import/lightgbm/binary_adult.{ext}"));
    let out = dir.path().join("adult.tabship");
    let o = tabship(&[
        "import",
        "lightgbm",
        &fixture("model.txt"),
        "--reference",
        &fixture("reference.csv"),
        "--target",
        "target",
        "-o",
        path(&out),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("imported lightgbm"), "{}", stdout(&o));
    assert!(stdout(&o).contains("format 1.5"), "{}", stdout(&o));
    let o = tabship(&["predict", path(&out), &fixture("inputs.csv"), "--proba"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let p1 = header
        .iter()
        .position(|h| *h == "probability_>50K")
        .unwrap_or_else(|| panic!("probabilities in {header:?}"));
    let (_, expected) = tabship_test_support::read_csv(&tabship_test_support::testdata(
        "import/lightgbm/binary_adult.expected.csv",
    ));
    let mut compared = 0;
    for (line, want) in lines.zip(&expected) {
        let got: f64 = line
            .split(',')
            .nth(p1)
            .expect("field")
            .parse()
            .expect("probability");
        let bits = u64::from_str_radix(&want[1], 16).expect("hex");
        assert_eq!(
            got.to_bits(),
            bits,
            "{line}: LightGBM {}",
            f64::from_bits(bits)
        );
        compared += 1;
    }
    assert_eq!(compared, expected.len());
}

#[test]
fn import_lightgbm_refuses_linear_trees_by_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixture = |ext: &str| testdata(&format!("import/lightgbm/linear_tree.{ext}"));
    let o = tabship(&[
        "import",
        "lightgbm",
        &fixture("model.txt"),
        "--reference",
        &fixture("reference.csv"),
        "-o",
        path(&dir.path().join("out.tabship")),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("unsupported LightGBM linear_tree"),
        "{}",
        stderr(&o)
    );
    assert!(!dir.path().join("out.tabship").exists());
}
