//! Property: any valid pipeline survives bytes → pipeline → bytes unchanged.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use tabship::encode::{
    CategoricalEncoderSpec, CategoricalMissing, CategoryEncoding, ColumnEncoderSpec, Imputation,
    ImputeStrategy, NumericEncoderSpec, Scaling,
};
use tabship::model::{LinearRegressor, LogisticClassifier};
use tabship::{
    ClassLabel, ColumnKind, ColumnSpec, Model, ParamValue, Pipeline, PipelineParts, Schema, Task,
    TrainingInfo,
};

fn finite() -> impl Strategy<Value = f64> {
    -1e6f64..1e6
}

fn numeric() -> impl Strategy<Value = ColumnEncoderSpec> {
    (
        prop_oneof![
            Just(ImputeStrategy::Median),
            Just(ImputeStrategy::Mean),
            Just(ImputeStrategy::Constant)
        ],
        finite(),
        any::<bool>(),
        proptest::option::of((finite(), 1e-6f64..1e6)),
    )
        .prop_map(|(strategy, value, missing_indicator, scaling)| {
            ColumnEncoderSpec::Numeric(NumericEncoderSpec {
                imputation: Imputation { strategy, value },
                missing_indicator,
                scaling: scaling.map(|(mean, scale)| Scaling { mean, scale }),
            })
        })
}

fn categorical() -> impl Strategy<Value = ColumnEncoderSpec> {
    (
        proptest::collection::btree_set("[a-zA-Z0-9 é]{1,8}", 1..8),
        0usize..4,
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(names, n_rare, ordinal, most_frequent, seen_missing)| {
            let names: Vec<String> = names.into_iter().collect();
            let n_rare = n_rare.min(names.len() - 1);
            let (rare, kept) = names.split_at(n_rare);
            let missing = if most_frequent {
                CategoricalMissing::MostFrequent
            } else {
                CategoricalMissing::Slot
            };
            ColumnEncoderSpec::Categorical(CategoricalEncoderSpec {
                encoding: if ordinal {
                    CategoryEncoding::Ordinal
                } else {
                    CategoryEncoding::OneHot
                },
                categories: kept.to_vec(),
                other_categories: rare.to_vec(),
                missing,
                missing_slot: !most_frequent && seen_missing,
                fill_category: most_frequent.then_some(0),
            })
        })
}

fn parts() -> impl Strategy<Value = PipelineParts> {
    (
        proptest::collection::vec(prop_oneof![numeric(), categorical()], 1..6),
        prop_oneof![Just(None), (2usize..5, any::<bool>()).prop_map(Some)],
        "[a-z]{0,12}",
        any::<u64>(),
    )
        .prop_flat_map(|(encoders, classes, name, rows)| {
            let width: usize = encoders.iter().map(ColumnEncoderSpec::width).sum();
            let rows_of_weights = match classes {
                Some((2, _)) | None => 1,
                Some((k, _)) => k,
            };
            (
                Just(encoders),
                Just(classes),
                Just(name),
                Just(rows),
                proptest::collection::vec(
                    proptest::collection::vec(finite(), width),
                    rows_of_weights,
                ),
                proptest::collection::vec(finite(), rows_of_weights),
            )
        })
        .prop_map(|(encoders, classes, name, rows, weights, intercepts)| {
            let schema = Schema::new(
                encoders
                    .iter()
                    .enumerate()
                    .map(|(i, e)| ColumnSpec {
                        name: format!("col{i}"),
                        kind: match e {
                            ColumnEncoderSpec::Numeric(_) => ColumnKind::Numeric,
                            ColumnEncoderSpec::Categorical(_) => ColumnKind::Categorical,
                        },
                        nullable: i % 2 == 0,
                    })
                    .collect(),
            )
            .expect("unique names");
            let (task, labels, model) = match classes {
                None => (
                    Task::Regression,
                    vec![],
                    Model::LinearRegression(LinearRegressor {
                        coefficients: weights[0].clone(),
                        intercept: intercepts[0],
                    }),
                ),
                Some((k, integer)) => (
                    Task::Classification,
                    (0..k)
                        .map(|i| {
                            if integer {
                                ClassLabel::Integer(i as i64 - 1)
                            } else {
                                ClassLabel::Text(format!("c{i}"))
                            }
                        })
                        .collect::<BTreeSet<_>>()
                        .into_iter()
                        .collect(),
                    Model::LogisticRegression(LogisticClassifier {
                        coefficients: weights,
                        intercepts,
                    }),
                ),
            };
            let mut hyperparameters = BTreeMap::new();
            hyperparameters.insert("alpha".to_owned(), ParamValue::Float(0.5));
            hyperparameters.insert("max_iter".to_owned(), ParamValue::Int(10));
            hyperparameters.insert("solver".to_owned(), ParamValue::Text("svd".into()));
            hyperparameters.insert("flag".to_owned(), ParamValue::Bool(true));
            PipelineParts {
                schema,
                encoders,
                task,
                classes: labels,
                model,
                training: TrainingInfo {
                    name,
                    train_rows: rows,
                    hyperparameters,
                    ..TrainingInfo::default()
                },
                metrics: [("accuracy".to_owned(), 0.5)].into_iter().collect(),
                drift_profile: None,
                decision_threshold: None,
                target_transform: None,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn bytes_round_trip(parts in parts()) {
        let pipeline = Pipeline::from_parts(parts.clone()).expect("generated parts are valid");
        let bytes = pipeline.to_bytes().expect("encodes");
        let loaded = Pipeline::from_bytes(&bytes).expect("decodes");
        prop_assert_eq!(loaded.to_parts(), parts);
        prop_assert_eq!(loaded.to_bytes().expect("encodes"), bytes);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Pipeline::from_bytes(&bytes);
        let mut with_magic = tabship::artifact::MAGIC.to_vec();
        with_magic.extend_from_slice(&bytes);
        let _ = Pipeline::from_bytes(&with_magic);
    }
}
