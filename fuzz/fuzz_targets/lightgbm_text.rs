//! Fuzz target for LightGBM text models (`tabship_import::lightgbm`): the parser, the conversion
//! to tabship's tree ensemble, and the core's validation and prediction of what it gives.
//!
//! Must hold: never a panic; the importer's reading (`from_model`) gives one feature per model
//! feature; a parsed model has as many feature infos as names, and every tree
//! index its parser checked (child, leaf, feature, category set) lies inside its array; a model
//! the conversion accepts is either refused by the core with an error or assembles into a
//! pipeline that predicts finite values (probabilities in [0, 1]) on rows of zeros, NaN, values
//! in LightGBM's zero band and large values.

#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use tabship::encode::{ColumnEncoderSpec, Imputation, ImputeStrategy, NumericEncoderSpec};
use tabship::{
    ColumnKind, ColumnSpec, Model, Pipeline, PipelineParts, Schema, Scores, TrainingInfo, Value,
};
use tabship_import::lightgbm::{Child, FeatureSource, convert, from_model, parse};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(model) = parse(text) else {
        return;
    };
    let n = model.feature_names.len();
    assert_eq!(model.feature_infos.len(), n);
    for tree in &model.trees {
        for s in &tree.splits {
            assert!(s.feature < n);
            for c in [s.left, s.right] {
                match c {
                    Child::Split(j) => assert!(j < tree.splits.len()),
                    Child::Leaf(l) => assert!(l < tree.leaf_value.len()),
                }
            }
            if let Some(c) = s.cat_set {
                let _ = tree.category_words(c);
            }
        }
    }
    // The importer's own reading of the features (pandas categories or integer codes).
    if let Ok(imported) = from_model(&model) {
        assert_eq!(imported.features.len(), n);
    }
    let Ok(converted) = convert(&model, &vec![FeatureSource::Numeric; n]) else {
        return;
    };
    // Feature names may repeat or be empty in a fuzzed file: columns get their own names.
    let columns: Vec<ColumnSpec> = (0..n)
        .map(|f| ColumnSpec {
            name: format!("f{f}"),
            kind: ColumnKind::Numeric,
            nullable: true,
        })
        .collect();
    let Ok(schema) = Schema::new(columns) else {
        return;
    };
    let encoders = (0..n)
        .map(|_| {
            ColumnEncoderSpec::Numeric(NumericEncoderSpec {
                imputation: Imputation {
                    strategy: ImputeStrategy::Nan,
                    value: 0.0,
                },
                missing_indicator: false,
                scaling: None,
            })
        })
        .collect();
    let classes = (0..converted.n_classes.unwrap_or(0) as i64)
        .map(tabship::ClassLabel::Integer)
        .collect();
    let parts = PipelineParts {
        schema,
        encoders,
        task: converted.task,
        classes,
        model: Model::TreeEnsemble(converted.ensemble),
        training: TrainingInfo {
            name: "fuzz".into(),
            version: "1".into(),
            created_at: "2026-01-01T00:00:00Z".into(),
            target: "y".into(),
            algorithm: "lightgbm".into(),
            hyperparameters: BTreeMap::new(),
            data_fingerprint: String::new(),
            train_rows: 0,
            test_rows: 0,
            library_version: "fuzz".into(),
            retrained_from: None,
        },
        metrics: BTreeMap::new(),
        drift_profile: None,
        decision_threshold: None,
        target_transform: None,
    };
    let Ok(pipeline) = Pipeline::from_parts(parts) else {
        return;
    };
    let rows: Vec<Vec<(String, Value)>> = [0.0, f64::NAN, 1e-36, -1e-35, 1e300, -3.5]
        .iter()
        .map(|&x| (0..n).map(|f| (format!("f{f}"), Value::Number(x))).collect())
        .collect();
    match pipeline.score_records(&rows) {
        Ok(Scores::Values(v)) => assert!(v.iter().all(|x| !x.is_nan())),
        Ok(Scores::Classes { proba, .. }) => {
            assert!(proba.iter().all(|p| (0.0..=1.0).contains(p)), "{proba:?}");
        }
        Err(_) => {}
    }
});
