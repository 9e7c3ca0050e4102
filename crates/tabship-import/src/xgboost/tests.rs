//! The XGBoost importer on hand-made model documents: the layout it builds, and every refusal
//! naming its field.

use serde_json::{Value, json};
use tabship::model::{Combination, LEAF, Link, SPLIT_LISTED_RIGHT};
use tabship::{Task, model::TreeSpec};

use super::*;

/// A tree in XGBoost's JSON form from its node arrays (`left == -1` for leaves).
fn tree(left: &[i64], right: &[i64], feature: &[i64], cond: &[f64], default_left: &[i64]) -> Value {
    let n = left.len();
    json!({
        "tree_param": {"num_nodes": n.to_string(), "num_feature": "2", "size_leaf_vector": "1"},
        "left_children": left, "right_children": right, "split_indices": feature,
        "split_conditions": cond, "default_left": default_left,
        "split_type": vec![0; n], "categories": [], "categories_nodes": [],
        "categories_segments": [], "categories_sizes": [],
    })
}

/// `x[feature] < cond ? a : b`, missing values left.
fn stump(feature: i64, cond: f64, a: f64, b: f64) -> Value {
    tree(
        &[1, -1, -1],
        &[2, -1, -1],
        &[feature, 0, 0],
        &[cond, a, b],
        &[1, 0, 0],
    )
}

/// A model document around `trees`.
fn model(
    objective: &str,
    base_score: &str,
    num_class: usize,
    trees: Vec<Value>,
    info: Vec<i64>,
) -> Value {
    json!({
        "version": [3, 2, 0],
        "learner": {
            "feature_names": ["a", "b"],
            "feature_types": ["float", "float"],
            "learner_model_param": {
                "base_score": base_score, "num_class": num_class.to_string(),
                "num_feature": "2", "num_target": "1", "boost_from_average": "1"
            },
            "objective": {"name": objective},
            "gradient_booster": {
                "name": "gbtree",
                "model": {"trees": trees, "tree_info": info,
                          "gbtree_model_param": {"num_trees": "1", "num_parallel_tree": "1"}}
            }
        }
    })
}

fn refused(doc: &Value, needle: &str) {
    let err = from_document(doc).expect_err("refused").to_string();
    assert!(err.contains(needle), "`{err}` does not name `{needle}`");
}

#[test]
fn a_stump_keeps_xgboost_rules() {
    let doc = model(
        "binary:logistic",
        "[2.5E-1]",
        0,
        vec![stump(1, 0.1, -0.5, 0.25)],
        vec![0],
    );
    let m = from_document(&doc).expect("imports");
    assert_eq!(m.task, Task::Classification);
    assert_eq!(m.n_classes, Some(2));
    assert!(m.model.features_f32 && m.model.accumulate_f32);
    let Combination::Sum { base_score, link } = m.model.combination else {
        panic!("summed");
    };
    assert_eq!(link, Link::Logistic);
    // XGBoost's ProbToMargin in f32: -logf(1/0.25 - 1).
    assert_eq!(base_score, f64::from(-(3.0_f32.ln())));
    let t = &m.model.trees[0];
    assert_eq!(
        t.threshold.0[0],
        f64::from(0.1_f32),
        "thresholds are the f32 values"
    );
    assert_eq!(t.strict.0, [1, 0, 0]);
    assert_eq!(t.missing_left.0, [1, 0, 0]);
    assert_eq!(t.leaf_values.0, [-0.5, 0.25]);
    assert_eq!(m.features[1].name.as_deref(), Some("b"));
}

#[test]
fn nodes_are_relaid_from_the_root_and_deleted_nodes_dropped() {
    // Root 0 splits into 3 (left) and 1 (right); node 2 is deleted (unreachable).
    let t = tree(
        &[3, -1, -1, -1],
        &[1, -1, -1, -1],
        &[0, 0, 0, 0],
        &[1.5, 20.0, 99.0, 10.0],
        &[0, 0, 0, 0],
    );
    let m =
        from_document(&model("reg:squarederror", "5E-1", 0, vec![t], vec![0])).expect("imports");
    let t = &m.model.trees[0];
    assert_eq!(t.left.0, [1, LEAF, LEAF]);
    assert_eq!(t.right.0, [2, 0, 1]);
    assert_eq!(t.leaf_values.0, [10.0, 20.0]);
    assert!(
        t.missing_left.is_empty(),
        "all-right is the default and not stored"
    );
}

#[test]
fn per_class_base_scores_become_a_first_round_of_constant_trees() {
    let trees = (0..6).map(|t| stump(0, f64::from(t), 0.5, -0.5)).collect();
    // num_parallel_tree 2: XGBoost's order is class 0, 0, 1, 1, 2, 2.
    let doc = model(
        "multi:softprob",
        "[1E0,2E0,3E0]",
        3,
        trees,
        vec![0, 0, 1, 1, 2, 2],
    );
    let m = from_document(&doc).expect("imports");
    assert_eq!(
        m.model.combination,
        Combination::Sum {
            base_score: 0.0,
            link: Link::Softmax
        }
    );
    assert_eq!(m.model.trees.len(), 9);
    let leaf = |t: &TreeSpec| t.leaf_values.0.clone();
    assert_eq!(leaf(&m.model.trees[1]), [2.0]);
    // Each class keeps its trees in file order: the thresholds 0, 2, 4 then 1, 3, 5.
    let thresholds: Vec<f64> = m.model.trees[3..]
        .iter()
        .map(|t| t.threshold.0[0])
        .collect();
    assert_eq!(thresholds, [0.0, 2.0, 4.0, 1.0, 3.0, 5.0]);
    // Equal base scores stay one base score.
    let doc = model(
        "multi:softmax",
        "5E-1",
        2,
        vec![stump(0, 1.0, 1.0, 2.0); 2],
        vec![0, 1],
    );
    let m = from_document(&doc).expect("imports");
    assert_eq!(m.model.trees.len(), 2);
}

#[test]
fn categorical_nodes_list_their_codes_right() {
    let mut t = stump(1, 0.0, 1.0, 2.0);
    t["split_type"] = json!([1, 0, 0]);
    t["categories"] = json!([0, 3, 40]);
    t["categories_nodes"] = json!([0]);
    t["categories_segments"] = json!([0]);
    t["categories_sizes"] = json!([3]);
    t["split_conditions"] = Value::Array(vec![Value::Null, json!(1.0), json!(2.0)]);
    let doc = model("reg:squarederror", "[0E0]", 0, vec![t.clone()], vec![0]);
    let m = from_document(&doc).expect("imports");
    let spec = &m.model.trees[0];
    assert_eq!(spec.categorical.0, [SPLIT_LISTED_RIGHT, 0, 0]);
    assert_eq!(spec.category_offsets.0, [0, 2, 2, 2]);
    assert_eq!(spec.category_bits.0, [0b1001, 1 << 8]);
    assert!(matches!(
        m.features[1].kind,
        FeatureKind::Categorical { categories: None }
    ));
    t["categories"] = json!([0, 3, 2_000_000]);
    refused(
        &model("reg:squarederror", "0", 0, vec![t], vec![0]),
        "categories[2]",
    );
}

#[test]
fn what_cannot_be_reproduced_is_refused_by_name() {
    let ok = || {
        model(
            "reg:squarederror",
            "5E-1",
            0,
            vec![stump(0, 1.0, 1.0, 2.0)],
            vec![0],
        )
    };
    let mut doc = ok();
    doc["learner"]["objective"]["name"] = json!("reg:tweedie");
    refused(&doc, "objective `reg:tweedie` (learner.objective.name)");
    let mut doc = ok();
    doc["learner"]["gradient_booster"]["name"] = json!("gblinear");
    refused(&doc, "booster `gblinear`");
    let mut doc = ok();
    doc["learner"]["gradient_booster"]["name"] = json!("dart");
    refused(&doc, "weight_drop");
    let mut doc = ok();
    doc["learner"]["learner_model_param"]["num_target"] = json!("2");
    refused(&doc, "num_target");
    let mut doc = ok();
    doc["learner"]["gradient_booster"]["model"]["trees"][0]["tree_param"]["size_leaf_vector"] =
        json!("3");
    refused(&doc, "multi-target trees");
    refused(
        &model(
            "binary:logistic",
            "1E0",
            0,
            vec![stump(0, 1.0, 1.0, 2.0)],
            vec![0],
        ),
        "learner.learner_model_param.base_score",
    );
    refused(
        &model(
            "reg:squarederror",
            "[a]",
            0,
            vec![stump(0, 1.0, 1.0, 2.0)],
            vec![0],
        ),
        "base_score",
    );
    // A cycle, a child out of range, a feature beyond num_feature, a group beyond the classes,
    // classes with different numbers of trees.
    let cycle = tree(
        &[1, 0, -1],
        &[2, 2, -1],
        &[0, 0, 0],
        &[1.0, 1.0, 2.0],
        &[0, 0, 0],
    );
    refused(
        &model("reg:squarederror", "0", 0, vec![cycle], vec![0]),
        "reached twice",
    );
    let far = tree(
        &[1, -1, -1],
        &[7, -1, -1],
        &[0, 0, 0],
        &[1.0, 1.0, 2.0],
        &[0, 0, 0],
    );
    refused(
        &model("reg:squarederror", "0", 0, vec![far], vec![0]),
        "right_children[0]",
    );
    refused(
        &model(
            "reg:squarederror",
            "0",
            0,
            vec![stump(2, 1.0, 1.0, 2.0)],
            vec![0],
        ),
        "split_indices[0]",
    );
    refused(
        &model(
            "multi:softprob",
            "0",
            2,
            vec![stump(0, 1.0, 1.0, 2.0); 2],
            vec![2, 0],
        ),
        "tree_info[0]",
    );
    refused(
        &model(
            "multi:softprob",
            "0",
            2,
            vec![stump(0, 1.0, 1.0, 2.0); 3],
            vec![0, 1, 0],
        ),
        "the same number of trees for every class",
    );
    // More classes than trees, or than tabship holds (nothing is allocated per class first).
    refused(
        &model(
            "multi:softprob",
            "0",
            3,
            vec![stump(0, 1.0, 1.0, 2.0); 2],
            vec![0, 1],
        ),
        "at least one tree per class",
    );
    refused(
        &model(
            "multi:softprob",
            "0",
            1 << 40,
            vec![stump(0, 1.0, 1.0, 2.0)],
            vec![0],
        ),
        "num_class",
    );
    // A leaf whose value is not a number.
    let mut nan_leaf = stump(0, 1.0, 1.0, 2.0);
    nan_leaf["split_conditions"][1] = Value::Null;
    refused(
        &model("reg:squarederror", "0", 0, vec![nan_leaf], vec![0]),
        "split_conditions[1]",
    );
}

#[test]
fn json_with_non_finite_words_reads_them_as_null_outside_strings() {
    let text = br#"{"a": [NaN, -Infinity, Infinity, 1.5], "NaN": "NaN \" NaN"}"#;
    let clean = non_finite_as_null(text);
    let v: Value = serde_json::from_slice(&clean).expect("valid JSON");
    assert_eq!(
        v,
        json!({"a": [null, null, null, 1.5], "NaN": "NaN \" NaN"})
    );
    assert!(is_json(b"  {\n \"learner\": {}}"));
    assert!(!is_json(b"{L\x00\x00\x00\x00\x00\x00\x00\x07learner{}}"));
    assert!(read_bytes(b"{L\x00").is_err());
}

#[test]
fn early_stopping_keeps_the_best_iteration_as_the_sklearn_wrappers_predict() {
    let trees = (0..6).map(|t| stump(0, f64::from(t), 0.5, -0.5)).collect();
    let mut doc = model("multi:softprob", "0", 2, trees, vec![0, 1, 0, 1, 0, 1]);
    doc["learner"]["attributes"] = json!({"best_iteration": "1", "best_score": "0.1"});
    let m = from_document(&doc).expect("imports");
    assert_eq!(m.model.trees.len(), 4, "iterations 0 and 1, two classes");
    assert_eq!(
        m.hyperparameters.get("n_trees_in_file"),
        Some(&ParamValue::Int(6))
    );
    doc["learner"]["attributes"] = json!({"best_iteration": "x"});
    refused(&doc, "learner.attributes.best_iteration");
}

#[test]
fn bitsets_are_bounded_in_all_not_only_per_node() {
    // Each node lists one code near the limit: a few bytes of file, 31,250 words of bitset.
    let mut t = stump(1, 0.0, 1.0, 2.0);
    t["split_type"] = json!([1, 0, 0]);
    t["categories"] = json!([999_999]);
    t["categories_nodes"] = json!([0]);
    t["categories_segments"] = json!([0]);
    t["categories_sizes"] = json!([1]);
    let n = 600;
    let doc = model("reg:squarederror", "0", 0, vec![t; n], vec![0; n]);
    refused(&doc, "categorical splits");
}
