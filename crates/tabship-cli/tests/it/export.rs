//! `tabship export --onnx`: the graph `tabship_onnx::to_onnx` writes, atomically, or a refusal
//! naming the part (python/tests/test_onnx.py runs the exports in ONNX Runtime).

use crate::common::{path, stderr, stdout, tabship};

#[test]
fn export_writes_the_libraries_bytes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("iris.onnx");
    let model = tabship_test_support::golden("iris_tree.tabship");
    let o = tabship(&["export", path(&model), "--onnx", path(&out)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let bytes = std::fs::read(&out).expect("written");
    let pipeline = tabship::Pipeline::load(&model).expect("golden");
    assert_eq!(bytes, tabship_onnx::to_onnx(&pipeline).expect("export"));
    assert!(
        stdout(&o).contains(&format!(
            "({} bytes): 4 inputs, outputs label, probabilities of 3",
            bytes.len()
        )),
        "{}",
        stdout(&o)
    );
}

#[test]
fn export_refuses_naming_the_part_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut parts = tabship::Pipeline::load(tabship_test_support::golden("iris_tree.tabship"))
        .expect("golden")
        .to_parts();
    parts.schema.columns[1].name = "label".into();
    let renamed = dir.path().join("renamed.tabship");
    tabship::Pipeline::from_parts(parts)
        .expect("valid")
        .save(&renamed)
        .expect("saved");
    let out = dir.path().join("x.onnx");
    let o = tabship(&["export", path(&renamed), "--onnx", path(&out)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("cannot export schema.columns[1] to ONNX: the column `label`"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
    let o = tabship(&["export", path(&renamed)]);
    assert_eq!(o.status.code(), Some(2), "--onnx is required");
}
