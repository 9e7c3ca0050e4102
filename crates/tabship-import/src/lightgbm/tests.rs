//! Parser tests on a small hand-checked model and on corruptions of it.

use super::*;
use crate::Error;

/// A binary model with a categorical split, as LightGBM 4.7 writes it (statistics trimmed; the
/// tree sizes are those of the trimmed text).
const MODEL: &str = "tree
version=v4
num_class=1
num_tree_per_iteration=1
label_index=0
max_feature_idx=3
objective=binary sigmoid:1
feature_names=a b c cat
feature_infos=[-3.77:3.06] [-3.89:2.55] none -1:2:0:1:3
tree_sizes=320 138

Tree=0
num_leaves=4
num_cat=1
split_feature=0 3 0
threshold=0.28824698413011457 0 -0.61692349660446533
decision_type=2 1 10
left_child=1 2 -1
right_child=-2 -3 -4
leaf_value=-0.40107400545512706 0.003825268187565567 -0.34951215728274765 0.0038252681875655115
cat_boundaries=0 1
cat_threshold=2
is_linear=0
shrinkage=1


Tree=1
num_leaves=1
num_cat=0
split_feature=
threshold=
decision_type=
left_child=
right_child=
leaf_value=0.25
is_linear=0
shrinkage=1


end of trees

parameters:
[boosting: gbdt]
[linear_tree: 0]
[categorical_feature: 3]
end of parameters

pandas_categorical:[[\"w\", \"x\", \"y\", \"z\"]]
";

fn parsed() -> LightgbmModel {
    match parse(MODEL) {
        Ok(m) => m,
        Err(e) => panic!("the test model parses: {e}"),
    }
}

#[test]
fn a_model_parses_with_every_field() {
    let m = parsed();
    assert_eq!(m.num_class, 1);
    assert_eq!(m.num_tree_per_iteration, 1);
    assert_eq!(m.objective, Some(Objective::Binary { sigmoid: 1.0 }));
    assert!(!m.average_output && !m.linear_tree);
    assert_eq!(m.feature_names, ["a", "b", "c", "cat"]);
    assert_eq!(m.feature_infos[2], FeatureInfo::Unused);
    assert_eq!(
        m.feature_infos[3],
        FeatureInfo::Categorical(vec![-1, 2, 0, 1, 3])
    );
    assert_eq!(m.trees.len(), 2);
    let t = &m.trees[0];
    assert_eq!(t.splits.len(), 3);
    assert_eq!(t.splits[0].threshold, 0.288_246_984_130_114_57);
    assert_eq!(t.splits[0].left, Child::Split(1));
    assert_eq!(t.splits[0].right, Child::Leaf(1));
    assert!(t.splits[0].default_left);
    assert_eq!(t.splits[0].missing, MissingType::None);
    assert_eq!(t.splits[1].cat_set, Some(0));
    assert_eq!(t.category_words(0), [2]);
    assert_eq!(t.splits[2].missing, MissingType::NaN);
    assert_eq!(m.trees[1].splits.len(), 0);
    assert_eq!(m.trees[1].leaf_value, [0.25]);
    assert_eq!(m.categorical_features, Some(vec![3]));
    let pandas = m.pandas_categorical.unwrap_or_default();
    assert_eq!(pandas.len(), 1);
    assert_eq!(pandas[0].len(), 4);
}

#[test]
fn crlf_line_ends_parse_alike_without_tree_sizes() {
    let text = MODEL
        .replace("tree_sizes=320 138\n", "")
        .replace('\n', "\r\n");
    assert_eq!(parse(&text).ok(), Some(parsed()));
}

/// The message of the error `parse` gives for `text`.
fn error(text: &str) -> String {
    match parse(text) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn corrupt_fields_are_refused_with_their_tree_line_and_field() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "left_child=1 2 -1",
            "left_child=1 7 -1",
            "tree 0, line 18: left_child`",
        ),
        (
            "left_child=1 2 -1",
            "left_child=1 1 -1",
            "left_child`: expected a tree",
        ),
        (
            "right_child=-2 -3 -4",
            "right_child=-2 -3 -9",
            "right_child`",
        ),
        (
            "split_feature=0 3 0",
            "split_feature=0 4 0",
            "split_feature`",
        ),
        (
            "split_feature=0 3 0",
            "split_feature=0 3",
            "expected 3 values, got `2 values`",
        ),
        (
            "decision_type=2 1 10",
            "decision_type=2 1 14",
            "decision_type`",
        ),
        (
            "decision_type=2 1 10",
            "decision_type=2 1 99",
            "decision_type`",
        ),
        ("cat_threshold=2", "cat_threshold=2 3", "cat_threshold`"),
        ("cat_boundaries=0 1", "cat_boundaries=0 9", "cat_threshold`"),
        (
            "threshold=0.28824698413011457 0 ",
            "threshold=0.28824698413011457 1 ",
            "category set",
        ),
        (
            "threshold=0.28824698413011457 0 ",
            "threshold=0.28824698413011457 0.5 ",
            "category set",
        ),
        (
            "threshold=0.28824698413011457",
            "threshold=nan",
            "threshold`",
        ),
        (
            "leaf_value=0.25",
            "leaf_value=0.25x",
            "tree 1, line 35: leaf_value`",
        ),
        ("num_leaves=4", "num_leaves=0", "num_leaves`"),
        ("Tree=1", "Tree=2", "Tree`"),
        ("max_feature_idx=3", "max_feature_idx=2", "feature_names`"),
        ("tree_sizes=320 138", "tree_sizes=320 139", "tree_sizes`"),
        ("tree_sizes=320 138", "tree_sizes=320", "tree_sizes`"),
        ("version=v4", "version=v3", "model format `v3`"),
        (
            "objective=binary sigmoid:1",
            "objective=binary",
            "objective`",
        ),
        (
            "num_tree_per_iteration=1",
            "num_tree_per_iteration=3",
            "divisible",
        ),
        ("[[\"w\"", "[[w\"", "pandas_categorical`"),
        ("\nend of trees", "\n", "end of trees"),
        (
            "[categorical_feature: 3]",
            "[categorical_feature: 4]",
            "categorical_feature`",
        ),
    ];
    for (from, to, want) in cases {
        assert!(MODEL.contains(from), "{from}");
        let got = error(&MODEL.replacen(from, to, 1));
        assert!(got.contains(want), "{from} -> {to}: {got}");
    }
}

#[test]
fn truncated_models_are_errors_never_panics() {
    for end in 0..MODEL.len() {
        if MODEL.is_char_boundary(end) {
            let _ = parse(&MODEL[..end]);
        }
    }
    assert!(matches!(parse(""), Err(Error::Field { .. })));
}

#[test]
fn linear_trees_are_recorded() {
    let m = parse(&MODEL.replace("[linear_tree: 0]", "[linear_tree: 1]"));
    assert!(m.is_ok_and(|m| m.linear_tree));
}

#[test]
fn errors_name_the_format_tree_line_and_field() {
    assert_eq!(
        error(&MODEL.replacen("left_child=1 2 -1", "left_child=1 7 -1", 1)),
        "model field `LightGBM tree 0, line 18: left_child`: expected a node index below 3, got `7`"
    );
    assert_eq!(
        error(&MODEL.replacen("num_leaves=4", "num_leaves=x", 1)),
        "model field `LightGBM tree 0, line 13: num_leaves`: expected a whole number of at least 1, got `x`"
    );
}
