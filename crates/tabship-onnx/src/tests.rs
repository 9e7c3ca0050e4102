//! The graph as written: the contract's inputs and outputs, one name per value, ordered sums,
//! the tree nodes' missing sides, categorical sets and derived columns, and the refusals.
//! (Running the graph is `python/tests/test_onnx.py`'s part: ONNX Runtime against tabship.)

use std::collections::HashSet;

use prost::Message;
use tabship::{ColumnKind, Model, Pipeline, Task};
use tabship_import::reference::{ReferenceData, ReferenceOptions, assemble};
use tabship_test_support::{golden, testdata};

use crate::proto::{DimensionValue, GraphProto, ModelProto, NodeProto, data_type};
use crate::{Error, IR_VERSION, ML_OPSET, OPSET, to_onnx};

const GOLDEN: [&str; 10] = [
    "iris_logistic",
    "iris_tree",
    "adult_logistic",
    "adult_logistic_profile",
    "adult_forest",
    "diamonds_forest",
    "diamonds_forest_profile",
    "diamonds_ridge",
    "adult_xgboost",
    "adult_lightgbm",
];

fn load(name: &str) -> Pipeline {
    Pipeline::load(golden(&format!("{name}.tabship"))).expect("golden artifact")
}

fn decode(bytes: &[u8]) -> ModelProto {
    ModelProto::decode(bytes).expect("a ModelProto")
}

fn graph(p: &Pipeline) -> GraphProto {
    decode(&to_onnx(p).expect("exported")).graph.expect("graph")
}

fn shape(v: &crate::proto::ValueInfoProto) -> (i32, Vec<String>) {
    let t = v
        .r#type
        .as_ref()
        .and_then(|t| t.tensor_type.as_ref())
        .expect("tensor");
    let dims = t.shape.as_ref().map_or_else(Vec::new, |s| {
        s.dim
            .iter()
            .map(|d| match &d.value {
                Some(DimensionValue::DimValue(n)) => n.to_string(),
                Some(DimensionValue::DimParam(p)) => p.clone(),
                None => "?".to_owned(),
            })
            .collect()
    });
    (t.elem_type, dims)
}

fn nodes<'g>(g: &'g GraphProto, op: &str) -> Vec<&'g NodeProto> {
    g.node.iter().filter(|n| n.op_type == op).collect()
}

fn lightgbm(name: &str) -> Pipeline {
    let dir = format!("import/lightgbm/{name}");
    let imported =
        tabship_import::lightgbm::read_file(&testdata(&format!("{dir}.model.txt"))).expect("model");
    let data = ReferenceData::read_csv(&testdata(&format!("{dir}.reference.csv"))).expect("csv");
    let options = ReferenceOptions {
        target: Some("target".into()),
        ..ReferenceOptions::default()
    };
    assemble(imported, &data, &options).expect("assembled")
}

#[test]
fn every_golden_model_exports_the_contracts_inputs_and_outputs_deterministically() {
    for name in GOLDEN {
        let p = load(name);
        let bytes = to_onnx(&p).expect("exported");
        assert_eq!(bytes, to_onnx(&p).expect("again"), "{name}: same bytes");
        let model = decode(&bytes);
        assert_eq!(model.ir_version, IR_VERSION);
        let opsets: Vec<(&str, i64)> = model
            .opset_import
            .iter()
            .map(|o| (o.domain.as_str(), o.version))
            .collect();
        assert_eq!(opsets, [("", OPSET), ("ai.onnx.ml", ML_OPSET)]);
        let g = model.graph.expect("graph");
        assert_eq!(g.input.len(), p.schema().len(), "{name}");
        for (input, column) in g.input.iter().zip(&p.schema().columns) {
            assert_eq!(input.name, column.name);
            let elem = match column.kind {
                ColumnKind::Numeric => data_type::DOUBLE,
                ColumnKind::Categorical => data_type::STRING,
            };
            assert_eq!(shape(input), (elem, vec!["N".to_owned(), "1".to_owned()]));
        }
        let outputs: Vec<(&str, (i32, Vec<String>))> = g
            .output
            .iter()
            .map(|o| (o.name.as_str(), shape(o)))
            .collect();
        let k = p.classes().len().to_string();
        match p.task() {
            Task::Classification => {
                assert_eq!(outputs[0].0, "label");
                assert_eq!(
                    outputs[1],
                    (
                        "probabilities",
                        (data_type::DOUBLE, vec!["N".to_owned(), k])
                    )
                );
            }
            Task::Regression => assert_eq!(
                outputs,
                [("value", (data_type::DOUBLE, vec!["N".to_owned()]))]
            ),
        }
    }
}

#[test]
fn linear_models_sum_in_feature_order_with_a_scan_not_a_matmul() {
    for name in ["adult_logistic", "diamonds_ridge", "iris_logistic"] {
        let g = graph(&load(name));
        assert!(nodes(&g, "MatMul").is_empty() && nodes(&g, "Gemm").is_empty());
        let scans = nodes(&g, "Scan");
        assert_eq!(scans.len(), 1, "{name}");
        let axes = scans[0]
            .attribute
            .iter()
            .find(|a| a.name == "scan_input_axes")
            .expect("axes");
        assert_eq!(axes.ints, [2], "{name}: over the features");
    }
}

/// The `TreeEnsemble` node's attribute `name`.
fn attr<'n>(node: &'n NodeProto, name: &str) -> &'n crate::proto::AttributeProto {
    node.attribute
        .iter()
        .find(|a| a.name == name)
        .unwrap_or_else(|| panic!("attribute {name}"))
}

#[test]
fn tree_nodes_keep_their_missing_sides_and_one_target_per_tree() {
    let p = load("adult_xgboost");
    let Model::TreeEnsemble(m) = p.model() else {
        panic!("trees")
    };
    let g = graph(&p);
    let ensembles = nodes(&g, "TreeEnsemble");
    assert_eq!(ensembles.len(), 1);
    let node = ensembles[0];
    assert_eq!(node.domain, "ai.onnx.ml");
    assert_eq!(attr(node, "n_targets").i, m.trees.len() as i64);
    let internal: Vec<(usize, usize)> = m
        .trees
        .iter()
        .enumerate()
        .flat_map(|(t, tree)| {
            (0..tree.left.len())
                .filter(|&i| tree.left.0[i] != tabship::model::LEAF)
                .map(move |i| (t, i))
        })
        .collect();
    let tracks = &attr(node, "nodes_missing_value_tracks_true").ints;
    assert_eq!(tracks.len(), internal.len());
    for (&(t, i), &track) in internal.iter().zip(tracks) {
        let left = m.trees[t].missing_left.0.get(i).is_some_and(|&v| v != 0);
        if m.trees[t].categorical.0.get(i).copied().unwrap_or(0) == 0 {
            assert_eq!(track == 1, left, "tree {t} node {i}");
        }
    }
    // XGBoost compares x < t in float32: every numeric node is BRANCH_LT, the features cast.
    let modes = &attr(node, "nodes_modes")
        .t
        .as_ref()
        .expect("modes")
        .int32_data;
    assert!(modes.iter().all(|&m| m == 1 || m == 6), "{modes:?}");
    assert!(nodes(&g, "Cast").iter().any(|c| attr(c, "to").i == 1));
}

#[test]
fn categorical_splits_are_member_sets_of_the_bitsets_codes() {
    let p = lightgbm("multiclass_categorical");
    let Model::TreeEnsemble(m) = p.model() else {
        panic!("trees")
    };
    let categorical: usize = m
        .trees
        .iter()
        .map(|t| t.categorical.0.iter().filter(|&&c| c != 0).count())
        .sum();
    let listed: usize = m
        .trees
        .iter()
        .map(|t| {
            t.category_bits
                .0
                .iter()
                .map(|w| w.count_ones() as usize)
                .sum::<usize>()
        })
        .sum();
    assert!(categorical > 0);
    let g = graph(&p);
    let node = nodes(&g, "TreeEnsemble")[0];
    let modes = &attr(node, "nodes_modes")
        .t
        .as_ref()
        .expect("modes")
        .int32_data;
    assert_eq!(modes.iter().filter(|&&m| m == 6).count(), categorical);
    let members = &attr(node, "membership_values")
        .t
        .as_ref()
        .expect("members")
        .double_data;
    let nans = members.iter().filter(|v| v.is_nan()).count();
    assert_eq!(nans, categorical - 1, "one NaN between consecutive sets");
    assert_eq!(members.len() - nans, listed);
    // The codes are tested on derived columns (floor, -1 for negatives), past the features.
    assert!(!nodes(&g, "Floor").is_empty());
}

#[test]
fn lightgbm_zero_missing_type_tests_a_column_where_the_band_is_nan() {
    let g = graph(&lightgbm("regression_zero_missing"));
    let band = nodes(&g, "LessOrEqual");
    assert!(!band.is_empty());
    let constant = |name: &str| {
        g.initializer
            .iter()
            .find(|t| t.name == name)
            .map(|t| t.double_data.clone())
    };
    assert_eq!(
        constant(&band[0].input[1]),
        Some(vec![tabship::model::ZERO_THRESHOLD])
    );
}

#[test]
fn every_value_is_named_once_even_when_columns_take_generated_names() {
    let mut parts = load("adult_logistic").to_parts();
    parts.schema.columns[0].name = "const_1".into();
    parts.schema.columns[1].name = "isnan_2".into();
    parts.schema.columns[2].name = "sum_in_7".into();
    let p = Pipeline::from_parts(parts).expect("valid");
    let g = graph(&p);
    let mut seen = HashSet::new();
    let produced = g
        .input
        .iter()
        .map(|i| i.name.clone())
        .chain(g.initializer.iter().map(|t| t.name.clone()))
        .chain(g.node.iter().flat_map(|n| n.output.clone()))
        .chain(
            g.node
                .iter()
                .flat_map(|n| &n.attribute)
                .filter_map(|a| a.g.as_ref())
                .flat_map(|body| {
                    body.input
                        .iter()
                        .map(|i| i.name.clone())
                        .chain(body.node.iter().flat_map(|n| n.output.clone()))
                        .collect::<Vec<_>>()
                }),
        );
    for name in produced {
        assert!(seen.insert(name.clone()), "`{name}` is defined twice");
    }
}

#[test]
fn columns_named_as_outputs_are_refused_naming_the_column() {
    for (i, output) in [(0, "label"), (3, "probabilities"), (2, "value")] {
        let mut parts = load("iris_tree").to_parts();
        parts.schema.columns[i].name = output.into();
        let p = Pipeline::from_parts(parts).expect("valid");
        let err = to_onnx(&p).expect_err("refused");
        let Error::Unsupported { part, reason } = &err else {
            panic!("{err}")
        };
        assert_eq!(part, &format!("schema.columns[{i}]"));
        assert!(reason.contains(&format!("`{output}`")), "{reason}");
        assert!(
            err.to_string()
                .starts_with(&format!("cannot export schema.columns[{i}] to ONNX: "))
        );
    }
}
