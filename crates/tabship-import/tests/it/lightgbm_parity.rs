//! Imported LightGBM models predict, through a tabship pipeline, exactly what LightGBM's own
//! `predict` gave on every fixture row (`testdata/import/lightgbm/`), bit for bit.

use std::collections::BTreeMap;

use tabship::encode::{
    CategoricalEncoderSpec, CategoricalMissing, CategoryEncoding, ColumnEncoderSpec, Imputation,
    ImputeStrategy, NumericEncoderSpec,
};
use tabship::{
    ClassLabel, ColumnKind, ColumnSpec, Pipeline, PipelineParts, Schema, Scores, TrainingInfo,
    Value,
};
use tabship_import::lightgbm::{FeatureSource, LightgbmModel, convert, parse};
use tabship_test_support::{read_csv, testdata};

fn fixture(name: &str, ext: &str) -> std::path::PathBuf {
    testdata(&format!("import/lightgbm/{name}.{ext}"))
}

fn model(name: &str) -> LightgbmModel {
    let text = std::fs::read_to_string(fixture(name, "model.txt")).expect("model file");
    parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A pipeline of the model: one column per model feature, categorical ones with the reference
/// data's categories (in reverse order) as ordinal codes, numeric ones as they are.
fn try_pipeline(name: &str, m: &LightgbmModel) -> Result<Pipeline, String> {
    let (header, records) = read_csv(&fixture(name, "reference.csv"));
    let categorical = m.categorical_features.clone().unwrap_or_default();
    let mut categories: Vec<Vec<String>> = vec![Vec::new(); m.feature_names.len()];
    for &f in &categorical {
        let col = header
            .iter()
            .position(|h| *h == m.feature_names[f])
            .expect("column");
        let mut seen: Vec<String> = records
            .iter()
            .map(|r| r[col].to_string())
            .filter(|v| !v.is_empty())
            .collect();
        seen.sort();
        seen.dedup();
        // Reversed, so that tabship's codes differ from LightGBM's and the bitsets must be
        // remapped.
        seen.reverse();
        categories[f] = seen;
    }
    let sources: Vec<FeatureSource<'_>> = (0..m.feature_names.len())
        .map(|f| {
            if categorical.contains(&f) {
                FeatureSource::Categorical(&categories[f])
            } else {
                FeatureSource::Numeric
            }
        })
        .collect();
    let converted = convert(m, &sources).map_err(|e| format!("{name}: {e}"))?;
    let columns = m
        .feature_names
        .iter()
        .enumerate()
        .map(|(f, n)| ColumnSpec {
            name: n.clone(),
            kind: if categorical.contains(&f) {
                ColumnKind::Categorical
            } else {
                ColumnKind::Numeric
            },
            nullable: true,
        })
        .collect();
    let encoders = (0..m.feature_names.len())
        .map(|f| {
            if categorical.contains(&f) {
                ColumnEncoderSpec::Categorical(CategoricalEncoderSpec {
                    encoding: CategoryEncoding::Ordinal,
                    categories: categories[f].clone(),
                    other_categories: Vec::new(),
                    missing: CategoricalMissing::Nan,
                    missing_slot: false,
                    fill_category: None,
                })
            } else {
                ColumnEncoderSpec::Numeric(NumericEncoderSpec {
                    imputation: Imputation {
                        strategy: ImputeStrategy::Nan,
                        value: 0.0,
                    },
                    missing_indicator: false,
                    scaling: None,
                })
            }
        })
        .collect();
    let classes = match converted.n_classes {
        Some(k) => (0..k as i64).map(ClassLabel::Integer).collect(),
        None => Vec::new(),
    };
    let parts = PipelineParts {
        schema: Schema::new(columns).map_err(|e| e.to_string())?,
        encoders,
        task: converted.task,
        classes,
        model: tabship::Model::TreeEnsemble(converted.ensemble),
        training: TrainingInfo {
            name: name.to_string(),
            version: "1".into(),
            created_at: "2026-11-30T00:00:00Z".into(),
            target: "target".into(),
            algorithm: "lightgbm".into(),
            hyperparameters: BTreeMap::new(),
            data_fingerprint: String::new(),
            train_rows: records.len() as u64,
            test_rows: 0,
            library_version: "test".into(),
        },
        metrics: BTreeMap::new(),
        drift_profile: None,
        decision_threshold: None,
        target_transform: None,
    };
    let pipeline = Pipeline::from_parts(parts).map_err(|e| format!("{name}: {e}"))?;
    // Predict from the artifact as loaded, so that its validation and round trip are covered.
    let bytes = pipeline.to_bytes().map_err(|e| format!("{name}: {e}"))?;
    Pipeline::from_bytes(&bytes).map_err(|e| format!("{name}: {e}"))
}

/// [`try_pipeline`], which must succeed.
fn pipeline(name: &str, m: &LightgbmModel) -> Pipeline {
    try_pipeline(name, m).unwrap_or_else(|e| panic!("{e}"))
}

/// LightGBM's predictions per row, from the hex f64 bits.
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

/// Fixture rows as records (empty cells missing) and whether a numeric cell is missing.
fn inputs(name: &str, m: &LightgbmModel) -> Vec<(Vec<(String, Value)>, bool)> {
    let (header, records) = read_csv(&fixture(name, "inputs.csv"));
    let categorical = m.categorical_features.clone().unwrap_or_default();
    records
        .iter()
        .map(|r| {
            let mut numeric_missing = false;
            let record = header
                .iter()
                .zip(r.iter())
                .enumerate()
                .map(|(f, (h, v))| {
                    let value = if v.is_empty() {
                        numeric_missing |= !categorical.contains(&f);
                        Value::Null
                    } else if categorical.contains(&f) {
                        Value::Text(v.to_string())
                    } else {
                        Value::Number(v.parse().expect("number"))
                    };
                    (h.clone(), value)
                })
                .collect();
            (record, numeric_missing)
        })
        .collect()
}

/// (rows compared, of which with a missing number) for one fixture; panics on the first
/// differing bit.
fn compare(name: &str) -> (usize, usize) {
    let m = model(name);
    let p = pipeline(name, &m);
    let rows = inputs(name, &m);
    let expected = expected(name);
    assert_eq!(rows.len(), expected.len());
    let (mut compared, mut with_missing) = (0, 0);
    for (r, ((record, numeric_missing), want)) in rows.iter().zip(&expected).enumerate() {
        if *numeric_missing {
            with_missing += 1;
        }
        let got = match p.score_records(std::slice::from_ref(record)) {
            Ok(Scores::Values(v)) => v,
            Ok(Scores::Classes { proba, .. }) if proba.len() == 2 => vec![proba[1]],
            Ok(Scores::Classes { proba, .. }) => proba,
            Err((_, e)) => panic!("{name} row {r}: {e}"),
        };
        let same = got.len() == want.len()
            && got
                .iter()
                .zip(want)
                .all(|(a, b)| a.to_bits() == b.to_bits());
        assert!(same, "{name} row {r}: tabship {got:?}, LightGBM {want:?}");
        compared += 1;
    }
    (compared, with_missing)
}

#[test]
fn imported_models_predict_lightgbm_bit_for_bit() {
    for name in [
        "binary_adult",
        "regression_diamonds",
        "multiclass_iris",
        "binary_nan",
        "regression_zero_missing",
        "multiclass_categorical",
        "rf_regression",
        "rf_binary",
        "rf_multiclass",
        "binary_nan_v400",
    ] {
        let (compared, with_missing) = compare(name);
        eprintln!(
            "{name}: {compared} rows equal bit for bit ({with_missing} with a missing number)"
        );
        assert!(compared > 0);
    }
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

fn model_text(name: &str) -> String {
    std::fs::read_to_string(fixture(name, "model.txt")).expect("model file")
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
        let (_, records) = read_csv(&fixture(name, "inputs.csv"));
        let m = model(name);
        let rows: Vec<Vec<(String, Value)>> = inputs(name, &m)
            .into_iter()
            .map(|(r, _)| r)
            .take(20)
            .collect();
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
            let Ok(m) = parse(&lines.join("\n")) else {
                outcomes[0] += 1;
                continue;
            };
            match try_pipeline(name, &m) {
                Err(_) => outcomes[1] += 1,
                Ok(p) => {
                    outcomes[2] += 1;
                    let _ = p.score_records(&rows);
                }
            }
        }
        assert!(!records.is_empty());
    }
    eprintln!(
        "corrupted models: {} unparsed, {} refused, {} predicted",
        outcomes[0], outcomes[1], outcomes[2]
    );
    assert!(outcomes.iter().all(|&n| n > 0), "{outcomes:?}");
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
