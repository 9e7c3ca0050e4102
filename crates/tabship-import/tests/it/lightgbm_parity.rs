//! Every LightGBM fixture (`testdata/import/lightgbm/`, written by
//! `scripts/import-fixtures/lightgbm_fixtures.py`) imported with its reference data predicts, as
//! loaded from its artifact, exactly what LightGBM's own `predict` gave, bit for bit: values,
//! probabilities and the most probable class, through the batch path and the record path, on
//! held-out rows, rows exactly on (and just above) every split threshold, NaN and values within
//! LightGBM's zero band in every numeric feature, and missing and never-seen categories.

use tabship::{Batch, Pipeline, Predictions, Scores, TextBatchBuilder, Value};
use tabship_import::lightgbm::{
    FeatureSource, LightgbmModel, convert, parse, read_bytes, read_file,
};
use tabship_import::reference::{ReferenceData, ReferenceOptions, assemble};
use tabship_test_support::{read_csv, testdata};

fn fixture(name: &str, ext: &str) -> std::path::PathBuf {
    testdata(&format!("import/lightgbm/{name}.{ext}"))
}

fn model(name: &str) -> LightgbmModel {
    parse(&model_text(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn model_text(name: &str) -> String {
    std::fs::read_to_string(fixture(name, "model.txt")).expect("model file")
}

fn options() -> ReferenceOptions {
    ReferenceOptions {
        target: Some("target".into()),
        ..ReferenceOptions::default()
    }
}

/// The fixture's model imported with its reference data, through its artifact's bytes.
fn import(name: &str) -> Pipeline {
    let imported = read_file(&fixture(name, "model.txt")).unwrap_or_else(|e| panic!("{name}: {e}"));
    let data = ReferenceData::read_csv(&fixture(name, "reference.csv")).expect("reference.csv");
    let pipeline = assemble(imported, &data, &options()).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(pipeline.drift_profile().is_some(), "{name}: drift profile");
    let bytes = pipeline.to_bytes().expect("encode");
    let pipeline = Pipeline::from_bytes(&bytes).expect("reload");
    assert_eq!(pipeline.header().map(|h| h.format_minor), Some(5), "{name}");
    pipeline
}

/// LightGBM's `predict()` per row, from the hex f64 bits.
fn expected(name: &str) -> Vec<Vec<f64>> {
    let (header, records) = read_csv(&fixture(name, "expected.csv"));
    let k = header.len() / 2;
    records
        .iter()
        .map(|r| {
            r.iter()
                .skip(k)
                .map(|s| f64::from_bits(u64::from_str_radix(s, 16).expect("hex")))
                .collect()
        })
        .collect()
}

/// The fixture's input rows, as a batch and as records of texts (empty cells are missing).
fn inputs(name: &str, p: &Pipeline) -> (Batch, Vec<Vec<(String, Value)>>) {
    let (header, rows) = read_csv(&fixture(name, "inputs.csv"));
    let mut builder = TextBatchBuilder::new(p.schema(), &header).expect("header");
    for row in &rows {
        builder.push_row(row.iter()).expect("row");
    }
    let records = rows
        .iter()
        .map(|r| {
            header
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.clone(), Value::Text(v.to_string())))
                .collect()
        })
        .collect();
    (builder.finish(), records)
}

/// What tabship predicts per row, shaped as LightGBM's `predict()` (a binary classifier's
/// `p(classes[1])` only), with the predicted class of a classifier.
fn tabship_outputs(name: &str, p: &Pipeline, batch: &Batch) -> Vec<(Vec<f64>, Option<usize>)> {
    let k = p.classes().len();
    let shape = |proba: &[f64]| {
        if k == 2 {
            vec![proba[1]]
        } else {
            proba.to_vec()
        }
    };
    if k == 0 {
        let Predictions::Values(v) = p.predict_batch(batch).expect("predict") else {
            panic!("{name}: not a regressor");
        };
        return v.into_iter().map(|v| (vec![v], None)).collect();
    }
    let (Predictions::Classes(classes), proba) =
        p.predict_batch_with_proba(batch).expect("predict")
    else {
        panic!("{name}: not a classifier");
    };
    proba
        .rows()
        .into_iter()
        .zip(classes)
        .map(|(row, c)| (shape(row.as_slice().expect("row")), Some(c)))
        .collect()
}

/// The first index of the largest probability (`numpy.argmax`, what LightGBM's scikit-learn
/// wrapper predicts; a binary model's probabilities are `[1 - p, p]`).
fn first_max(pred: &[f64]) -> usize {
    let full = if pred.len() == 1 {
        vec![1.0 - pred[0], pred[0]]
    } else {
        pred.to_vec()
    };
    (0..full.len()).fold(0, |b, i| if full[i] > full[b] { i } else { b })
}

fn same_bits(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(a, b)| a.to_bits() == b.to_bits())
}

#[test]
fn imported_models_predict_lightgbm_bit_for_bit() {
    let mut total = 0;
    for name in &tabship_test_support::lightgbm_fixtures() {
        let p = import(name);
        let (batch, records) = inputs(name, &p);
        let expected = expected(name);
        assert_eq!(batch.n_rows(), expected.len(), "{name}");
        let outputs = tabship_outputs(name, &p, &batch);
        let scores = p
            .score_records(&records)
            .unwrap_or_else(|(r, e)| panic!("{name} row {r}: {e}"));
        for (r, ((got, class), want)) in outputs.iter().zip(&expected).enumerate() {
            assert!(
                same_bits(got, want),
                "{name} row {r}: tabship {got:?}, LightGBM {want:?}"
            );
            if let Some(c) = class {
                assert_eq!(*c, first_max(want), "{name} row {r}: class");
            }
            let record = match &scores {
                Scores::Values(v) => vec![v[r]],
                Scores::Classes { proba, .. } => {
                    let k = p.classes().len();
                    let row = &proba[r * k..(r + 1) * k];
                    if k == 2 { vec![row[1]] } else { row.to_vec() }
                }
            };
            assert!(
                same_bits(&record, want),
                "{name} row {r} (record path): {record:?}, LightGBM {want:?}"
            );
        }
        eprintln!(
            "{name}: {} rows equal bit for bit (batch and record paths)",
            expected.len()
        );
        total += expected.len();
    }
    eprintln!("LightGBM parity: {total} rows in all");
}

#[test]
fn imported_classifiers_carry_the_target_labels_and_provenance() {
    let p = import("multiclass_iris");
    assert_eq!(p.classes().len(), 3);
    assert_eq!(p.training().algorithm, "lightgbm gbdt");
    assert_eq!(p.training().target, "target");
    assert_eq!(import("rf_binary").training().algorithm, "lightgbm rf");
    // The pandas categories give the codes, in their order.
    let p = import("multiclass_categorical");
    let schema = p.schema();
    assert!(schema.columns.iter().any(|c| c.name == "cat_a"));
}

/// The message of the conversion error of `text` with every feature numeric.
fn refusal(text: &str) -> String {
    let m = parse(text).unwrap_or_else(|e| panic!("parses: {e}"));
    let sources = vec![FeatureSource::Numeric; m.feature_names.len()];
    match convert(&m, &sources) {
        Ok(_) => panic!("expected a refusal"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn what_cannot_be_reproduced_is_refused_by_name() {
    let linear = refusal(&model_text("linear_tree"));
    assert!(linear.contains("linear_tree"), "{linear}");
    // A classifier forest of 15 iterations: the last tree dropped (and the tree sizes, which
    // would no longer match).
    let rf = model_text("rf_binary");
    let cut = format!(
        "{}{}",
        &rf[..rf.find("Tree=15").expect("tree 15")],
        &rf[rf.find("end of trees").expect("end")..]
    );
    let rf = refusal(
        &cut.lines()
            .filter(|l| !l.starts_with("tree_sizes="))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    assert!(
        rf.contains("average_output (boosting=rf) for a classifier of 15 iterations"),
        "{rf}"
    );
    let binary = model_text("binary_nan");
    let scaled =
        refusal(&binary.replace("objective=binary sigmoid:1", "objective=binary sigmoid:0.5"));
    assert!(scaled.contains("sigmoid:0.5"), "{scaled}");
    let poisson = refusal(&binary.replace("objective=binary sigmoid:1", "objective=poisson"));
    assert!(poisson.contains("objective `poisson`"), "{poisson}");
    let many = refusal(
        &binary
            .replace("num_class=1\n", "num_class=1000000\n")
            .replace(
                "objective=binary sigmoid:1",
                "objective=multiclass num_class:1000000",
            )
            .replace("num_tree_per_iteration=1\n", "num_tree_per_iteration=20\n"),
    );
    assert!(many.contains("1000000 classes"), "{many}");
    let sqrt = refusal(
        &model_text("rf_regression").replace("objective=regression", "objective=regression sqrt"),
    );
    assert!(sqrt.contains("regression sqrt"), "{sqrt}");
}

#[test]
fn a_categorical_feature_fed_numbers_is_refused_when_code_0_is_listed() {
    // LightGBM truncates values in (-1, 0) to code 0 and tabship sends negative values right:
    // numbers may feed a categorical feature only when no split lists code 0.
    let mut refused = 0;
    for name in [
        "binary_adult",
        "regression_diamonds",
        "multiclass_categorical",
    ] {
        let m = model(name);
        let lists_0 = m.trees.iter().any(|t| {
            t.splits.iter().any(|s| {
                s.cat_set
                    .is_some_and(|c| t.category_words(c).first().is_some_and(|w| w & 1 == 1))
            })
        });
        let sources = vec![FeatureSource::Numeric; m.feature_names.len()];
        match convert(&m, &sources) {
            Ok(_) => assert!(!lists_0, "{name}"),
            Err(e) => {
                assert!(lists_0, "{name}: {e}");
                assert!(e.to_string().contains("fed by a numeric column"), "{e}");
                refused += 1;
            }
        }
    }
    assert!(refused > 0);
    // A categorical column on a feature LightGBM splits numerically is refused.
    let m = model("binary_adult");
    let categories = vec!["a".to_string()];
    let mut sources = vec![FeatureSource::Numeric; m.feature_names.len()];
    sources[0] = FeatureSource::Categorical(&categories);
    let e = convert(&m, &sources)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("feature `age`"), "{e}");
}

/// Models corrupted token by token either fail to parse, are refused, or make a pipeline that
/// loads and predicts; none panics (the file is untrusted input).
#[test]
fn corrupted_models_never_panic() {
    let replacements = [
        "-1",
        "0",
        "1",
        "2",
        "3",
        "-5",
        "31",
        "99999999999",
        "nan",
        "inf",
        "1e308",
        "-0",
        "15",
        "",
    ];
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let mut outcomes = [0usize; 3];
    for name in [
        "binary_adult",
        "multiclass_categorical",
        "regression_zero_missing",
    ] {
        let text = model_text(name);
        let lines: Vec<&str> = text.lines().collect();
        let data = ReferenceData::read_csv(&fixture(name, "reference.csv")).expect("reference");
        let p = import(name);
        let (batch, _) = inputs(name, &p);
        for _ in 0..150 {
            let mut lines = lines.clone();
            let i = next(lines.len());
            let mut tokens: Vec<String> = lines[i].split(' ').map(str::to_string).collect();
            let j = next(tokens.len());
            let r = replacements[next(replacements.len())];
            tokens[j] = match tokens[j].split_once('=') {
                Some((key, _)) => format!("{key}={r}"),
                None => r.to_string(),
            };
            let corrupted = tokens.join(" ");
            lines[i] = &corrupted;
            let Ok(imported) = read_bytes(lines.join("\n").as_bytes()) else {
                outcomes[0] += 1;
                continue;
            };
            match assemble(imported, &data, &options()) {
                Err(_) => outcomes[1] += 1,
                Ok(p) => {
                    outcomes[2] += 1;
                    let _ = p.score_batch(&batch);
                }
            }
        }
    }
    eprintln!(
        "corrupted models: {} refused by the parser or the conversion, {} by the reference or the core, {} predicted",
        outcomes[0], outcomes[1], outcomes[2]
    );
    assert!(outcomes[0] > 0 && outcomes[2] > 0, "{outcomes:?}");
}

#[test]
fn a_listed_category_missing_from_the_column_is_refused() {
    let m = model("multiclass_categorical");
    // cat_b's categories without `red`.
    let a: Vec<String> = (0..14).map(|i| format!("c{i:02}")).collect();
    let b = vec!["blue".to_string(), "green".to_string()];
    let sources = [
        FeatureSource::Numeric,
        FeatureSource::Categorical(&a),
        FeatureSource::Categorical(&b),
    ];
    let e = convert(&m, &sources)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.contains("categorical feature `cat_b` whose category `red`"),
        "{e}"
    );
    // In another order, and with extra categories, the codes are remapped.
    let mut a2 = a.clone();
    a2.reverse();
    let b2 = vec![
        "yellow".to_string(),
        "red".to_string(),
        "green".to_string(),
        "blue".to_string(),
    ];
    let sources = [
        FeatureSource::Numeric,
        FeatureSource::Categorical(&a2),
        FeatureSource::Categorical(&b2),
    ];
    assert!(convert(&m, &sources).is_ok());
}

/// Numeric models without `zero_as_missing` need no LightGBM-only rule (their nodes route NaN to
/// a side), so the core walks them with its ranked walk.
#[test]
fn numeric_models_need_no_lightgbm_only_rules() {
    for name in [
        "multiclass_iris",
        "binary_nan",
        "binary_nan_v400",
        "rf_binary",
        "rf_multiclass",
    ] {
        let imported = read_file(&fixture(name, "model.txt")).expect("imports");
        for (t, tree) in imported.model.trees.iter().enumerate() {
            assert!(
                tree.missing_type.is_empty(),
                "{name} tree {t}: missing types"
            );
            assert!(tree.categorical.is_empty(), "{name} tree {t}: categorical");
        }
    }
    // Under zero_as_missing every numeric node keeps the Zero type, one type per feature.
    let imported = read_file(&fixture("regression_zero_missing", "model.txt")).expect("imports");
    let zero: usize = imported
        .model
        .trees
        .iter()
        .map(|t| {
            t.missing_type
                .0
                .iter()
                .zip(&t.left.0)
                .filter(|&(&m, &l)| l != tabship::model::LEAF && m == tabship::model::MISSING_ZERO)
                .count()
        })
        .sum();
    let splits: usize = model("regression_zero_missing")
        .trees
        .iter()
        .map(|t| t.splits.len())
        .sum();
    assert_eq!(zero, splits);
}

/// A tree of one leaf (LightGBM writes them when no split gains) converts to a single leaf node:
/// appending one whose value is 0 leaves every prediction as LightGBM gave it.
#[test]
fn a_single_leaf_tree_is_one_leaf_node() {
    let name = "binary_nan";
    let text = model_text(name);
    let n = model(name).trees.len();
    let leaf = format!(
        "Tree={n}\nnum_leaves=1\nnum_cat=0\nsplit_feature=\nsplit_gain=\nthreshold=\ndecision_type=\n\
         left_child=\nright_child=\nleaf_value=0\nleaf_weight=\nleaf_count=\ninternal_value=\n\
         internal_weight=\ninternal_count=\nis_linear=0\nshrinkage=1\n\n\nend of trees"
    );
    let text: String = text
        .replacen("end of trees", &leaf, 1)
        .lines()
        .filter(|l| !l.starts_with("tree_sizes="))
        .map(|l| format!("{l}\n"))
        .collect();
    let imported = read_bytes(text.as_bytes()).expect("imports");
    let last = imported.model.trees.last().expect("a tree");
    assert_eq!(last.left.0, [tabship::model::LEAF]);
    assert_eq!(last.leaf_values.0, [0.0]);
    let data = ReferenceData::read_csv(&fixture(name, "reference.csv")).expect("reference");
    let p = assemble(imported, &data, &options()).expect("assembles");
    let (batch, _) = inputs(name, &p);
    for (r, ((got, _), want)) in tabship_outputs(name, &p, &batch)
        .iter()
        .zip(expected(name))
        .enumerate()
    {
        assert!(same_bits(got, &want), "row {r}: {got:?} vs {want:?}");
    }
}
