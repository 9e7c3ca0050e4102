//! Reference data: the rows (a CSV, like the training rows) that complete an imported model
//! into a pipeline. They give the schema (the model's features, read as the model reads them),
//! the category ↔ code mapping when the model file has none, the class labels (from the target
//! column), and the drift profile, captured by the core's own
//! [`Pipeline::capture_drift_profile`] on the assembled pipeline exactly as for a trained model.
//!
//! The encoders are not fitted: an imported model reads raw values. A numeric column passes its
//! value (a missing value as NaN, which each tree node routes); a categorical column passes its
//! ordinal code (the position in the model's category list; a missing value as NaN, an unknown
//! category as `-1`, which every categorical split sends to its unlisted side). The rows are
//! parsed by the core's [`TextBatchBuilder`], so the schema's missing-value spellings apply as
//! at prediction time.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use sha2::{Digest, Sha256};
use tabship::drift::ProfileOptions;
use tabship::encode::{
    CategoricalEncoderSpec, CategoricalMissing, CategoryEncoding, ColumnEncoderSpec, Imputation,
    ImputeStrategy, NumericEncoderSpec,
};
use tabship::{
    Batch, ClassLabel, ColumnKind, ColumnSpec, ColumnValues, ParamValue, Pipeline, PipelineParts,
    Schema, TextBatchBuilder, TrainingInfo,
};

use crate::{Error, FeatureKind, Imported, Result};

/// A reference table as text: its header and rows.
#[derive(Debug, Clone)]
pub struct ReferenceData {
    header: Vec<String>,
    rows: Vec<csv::StringRecord>,
    /// `sha256:<hex>` of the file's bytes.
    fingerprint: String,
}

impl ReferenceData {
    /// Reads a CSV file with a header row (comma-separated, UTF-8).
    pub fn read_csv(path: &Path) -> Result<ReferenceData> {
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?;
        ReferenceData::from_csv_bytes(&bytes)
    }

    /// Reads CSV bytes with a header row.
    pub fn from_csv_bytes(bytes: &[u8]) -> Result<ReferenceData> {
        let mut reader = csv::ReaderBuilder::new().from_reader(bytes);
        let bad = |e: csv::Error| Error::Reference(format!("not a CSV table: {e}"));
        let header: Vec<String> = reader
            .headers()
            .map_err(bad)?
            .iter()
            .map(str::to_owned)
            .collect();
        let rows = reader
            .records()
            .collect::<Result<Vec<_>, _>>()
            .map_err(bad)?;
        if rows.is_empty() {
            return Err(Error::Reference("the table has no rows".into()));
        }
        Ok(ReferenceData {
            header,
            rows,
            fingerprint: format!("sha256:{}", hex(&Sha256::digest(bytes))),
        })
    }

    /// The column names.
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.rows.len()
    }

    /// The rows of the columns `schema` names, parsed as the pipeline will parse them.
    pub fn batch(&self, schema: &Schema) -> Result<Batch> {
        let mut builder = TextBatchBuilder::new(schema, &self.header)?;
        for row in &self.rows {
            builder.push_row(row.iter())?;
        }
        Ok(builder.finish())
    }

    /// The texts of column `name` (missing when the column does not exist).
    fn column(&self, name: &str) -> Option<Vec<&str>> {
        let i = self.header.iter().position(|h| h == name)?;
        Some(self.rows.iter().map(|r| r.get(i).unwrap_or("")).collect())
    }
}

/// What the user tells about the reference data and the pipeline.
#[derive(Debug, Clone, Default)]
pub struct ReferenceOptions {
    /// The target column: it gives the class labels of a classifier (sorted distinct values, as
    /// scikit-learn's wrappers number them) and is recorded as `training.target`. Without it, a
    /// classifier's labels are `0..K`.
    pub target: Option<String>,
    /// Columns to read as text categories although the model file does not mark them
    /// categorical: each value reaches the model as its code in sorted order (pandas' category
    /// codes, scikit-learn's `OrdinalEncoder`), for a model trained on such codes.
    pub categorical: Vec<String>,
    /// The pipeline's name (default: the target, else the library's name).
    pub name: Option<String>,
    /// The pipeline's version string (default `1`).
    pub version: Option<String>,
}

/// Completes `imported` with the reference data into a pipeline with a drift profile.
pub fn assemble(
    imported: Imported,
    data: &ReferenceData,
    options: &ReferenceOptions,
) -> Result<Pipeline> {
    let names = feature_names(&imported, data, options)?;
    for wanted in &options.categorical {
        if !names.contains(wanted) {
            return Err(Error::Reference(format!(
                "`--categorical {wanted}`: the model has no feature `{wanted}`"
            )));
        }
    }
    let mut columns = Vec::with_capacity(names.len());
    let mut kinds = Vec::with_capacity(names.len());
    for (name, feature) in names.iter().zip(&imported.features) {
        let kind = match &feature.kind {
            FeatureKind::Categorical { categories } => Some(categories.clone()),
            FeatureKind::Numeric if options.categorical.contains(name) => Some(None),
            FeatureKind::Numeric => None,
        };
        if !data.header.contains(name) {
            return Err(Error::Reference(format!(
                "the model's feature `{name}` is not a column"
            )));
        }
        columns.push(ColumnSpec {
            name: name.clone(),
            kind: if kind.is_some() {
                ColumnKind::Categorical
            } else {
                ColumnKind::Numeric
            },
            nullable: false,
        });
        kinds.push(kind);
    }
    let mut schema = Schema::new(columns)?;
    let batch = data.batch(&schema)?;
    let mut encoders = Vec::with_capacity(kinds.len());
    for (i, kind) in kinds.into_iter().enumerate() {
        let values = batch
            .column(&names[i])
            .ok_or_else(|| Error::Reference(format!("no column `{}`", names[i])))?;
        schema.columns[i].nullable = has_missing(values);
        encoders.push(match kind {
            None => numeric_encoder(values),
            Some(categories) => categorical_encoder(&names[i], categories, values)?,
        });
    }
    let classes = class_labels(&imported, data, options)?;
    let training = training_info(&imported, data, options);
    let parts = PipelineParts {
        schema,
        encoders,
        task: imported.task,
        classes,
        model: tabship::Model::TreeEnsemble(imported.model),
        training,
        metrics: BTreeMap::new(),
        drift_profile: None,
        decision_threshold: None,
        target_transform: None,
    };
    let pipeline = Pipeline::from_parts(parts)?;
    let profile = pipeline.capture_drift_profile(&batch, &ProfileOptions::default())?;
    Ok(pipeline.with_drift_profile(Some(profile))?)
}

/// The model's feature names, or, when the file has none, the reference columns other than the
/// target, in order.
fn feature_names(
    imported: &Imported,
    data: &ReferenceData,
    options: &ReferenceOptions,
) -> Result<Vec<String>> {
    let n = imported.features.len();
    if let Some(names) = imported
        .features
        .iter()
        .map(|f| f.name.clone())
        .collect::<Option<Vec<_>>>()
    {
        return Ok(names);
    }
    let names: Vec<String> = data
        .header
        .iter()
        .filter(|h| Some(h.as_str()) != options.target.as_deref())
        .cloned()
        .collect();
    if names.len() != n {
        return Err(Error::Reference(format!(
            "the model file names no features, so the reference columns (target excluded) are \
             its features in order: expected {n} columns, got {}",
            names.len()
        )));
    }
    Ok(names)
}

fn has_missing(values: &ColumnValues) -> bool {
    match values {
        ColumnValues::Numeric(v) => v.iter().any(|x| x.is_nan()),
        ColumnValues::Categorical(c) => (0..c.len()).any(|i| c.get(i).is_none()),
    }
}

/// A numeric column passes its value, and a missing one as NaN. The imputation value is the
/// reference median: never used for prediction, shown as the column's example.
fn numeric_encoder(values: &ColumnValues) -> ColumnEncoderSpec {
    let mut present: Vec<f64> = match values {
        ColumnValues::Numeric(v) => v.iter().copied().filter(|x| !x.is_nan()).collect(),
        ColumnValues::Categorical(_) => Vec::new(),
    };
    present.sort_by(f64::total_cmp);
    let median = match present.len() {
        0 => 0.0,
        n if n % 2 == 1 => present[n / 2],
        n => (present[n / 2 - 1] + present[n / 2]) / 2.0,
    };
    ColumnEncoderSpec::Numeric(NumericEncoderSpec {
        imputation: Imputation {
            strategy: ImputeStrategy::Nan,
            value: median,
        },
        missing_indicator: false,
        scaling: None,
    })
}

/// A categorical column passes its ordinal code in the model's category order: the model
/// file's list, or the reference column's distinct values sorted as pandas' `astype("category")`
/// sorts them (numerically when every value is a number, else as text).
fn categorical_encoder(
    name: &str,
    categories: Option<Vec<String>>,
    values: &ColumnValues,
) -> Result<ColumnEncoderSpec> {
    let categories = match categories {
        Some(c) => c,
        None => {
            let ColumnValues::Categorical(c) = values else {
                return Err(Error::Reference(format!(
                    "column `{name}` is not categorical"
                )));
            };
            let distinct: BTreeSet<&str> = (0..c.len()).filter_map(|i| c.get(i)).collect();
            sort_like_pandas(distinct.into_iter().map(str::to_owned).collect())
        }
    };
    if categories.is_empty() {
        return Err(Error::Reference(format!(
            "categorical column `{name}` has no category in the reference data"
        )));
    }
    Ok(ColumnEncoderSpec::Categorical(CategoricalEncoderSpec {
        encoding: CategoryEncoding::Ordinal,
        categories,
        other_categories: Vec::new(),
        missing: CategoricalMissing::Nan,
        missing_slot: false,
        fill_category: None,
    }))
}

/// Numbers in numeric order when every text is a number, else texts in code-point order.
fn sort_like_pandas(mut texts: Vec<String>) -> Vec<String> {
    let numbers: Option<Vec<f64>> = texts.iter().map(|t| t.trim().parse().ok()).collect();
    match numbers {
        Some(numbers) => {
            let mut pairs: Vec<(f64, String)> = numbers.into_iter().zip(texts).collect();
            pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
            pairs.into_iter().map(|(_, t)| t).collect()
        }
        None => {
            texts.sort();
            texts
        }
    }
}

/// A classifier's labels: the target column's distinct values, sorted (integers numerically),
/// which must number the model's classes; `0..K` without a target.
fn class_labels(
    imported: &Imported,
    data: &ReferenceData,
    options: &ReferenceOptions,
) -> Result<Vec<ClassLabel>> {
    let Some(k) = imported.n_classes else {
        return Ok(Vec::new());
    };
    let Some(target) = &options.target else {
        return Ok((0..k as i64).map(ClassLabel::Integer).collect());
    };
    let texts = data
        .column(target)
        .ok_or_else(|| Error::Reference(format!("no target column `{target}`")))?;
    let distinct: BTreeSet<&str> = texts.into_iter().filter(|t| !t.is_empty()).collect();
    let integers: Option<BTreeSet<i64>> = distinct.iter().map(|t| t.trim().parse().ok()).collect();
    let labels: Vec<ClassLabel> = match integers {
        Some(ints) => ints.into_iter().map(ClassLabel::Integer).collect(),
        None => distinct
            .into_iter()
            .map(|t| ClassLabel::Text(t.to_owned()))
            .collect(),
    };
    if labels.len() != k {
        return Err(Error::Reference(format!(
            "target `{target}` has {} distinct values, the model {k} classes",
            labels.len()
        )));
    }
    Ok(labels)
}

fn training_info(
    imported: &Imported,
    data: &ReferenceData,
    options: &ReferenceOptions,
) -> TrainingInfo {
    let mut hyperparameters = imported.hyperparameters.clone();
    hyperparameters.insert(
        "source_library".into(),
        ParamValue::Text(imported.library.to_owned()),
    );
    if let Some(v) = &imported.library_version {
        hyperparameters.insert("source_version".into(), ParamValue::Text(v.clone()));
    }
    let target = options.target.clone().unwrap_or_default();
    TrainingInfo {
        name: options
            .name
            .clone()
            .or_else(|| options.target.clone())
            .unwrap_or_else(|| imported.library.to_owned()),
        version: options.version.clone().unwrap_or_else(|| "1".to_owned()),
        created_at: time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        target,
        algorithm: imported.algorithm.clone(),
        hyperparameters,
        data_fingerprint: data.fingerprint.clone(),
        train_rows: data.n_rows() as u64,
        test_rows: 0,
        library_version: tabship::VERSION.to_owned(),
        retrained_from: None,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A classifier of one feature `a`: a stump on code/value 0.5.
    fn imported(kind: FeatureKind) -> Imported {
        use tabship::artifact::packed::{PackedF64, PackedU32};
        use tabship::model::{Combination, LEAF, Link, TreeEnsemble, TreeSpec};
        let stump = TreeSpec {
            feature: PackedU32(vec![0, 0, 0]),
            threshold: PackedF64(vec![0.5, 0.0, 0.0]),
            left: PackedU32(vec![1, LEAF, LEAF]),
            right: PackedU32(vec![2, 0, 1]),
            leaf_values: PackedF64(vec![-1.0, 1.0]),
            ..TreeSpec::default()
        };
        Imported {
            library: "test",
            library_version: None,
            algorithm: "stump".into(),
            features: vec![crate::ModelFeature {
                name: Some("a".into()),
                kind,
            }],
            task: tabship::Task::Classification,
            n_classes: Some(2),
            model: TreeEnsemble::new(tabship::Task::Classification, vec![stump]).with_combination(
                Combination::Sum {
                    base_score: 0.0,
                    link: Link::Logistic,
                },
            ),
            hyperparameters: BTreeMap::new(),
        }
    }

    #[test]
    fn categories_sort_as_pandas_sorts_them() {
        let texts = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            sort_like_pandas(texts(&["10", "9", "1.5"])),
            texts(&["1.5", "9", "10"])
        );
        assert_eq!(
            sort_like_pandas(texts(&["b", "B", "a"])),
            texts(&["B", "a", "b"])
        );
    }

    #[test]
    fn reference_data_must_fit_the_model() {
        let data = ReferenceData::from_csv_bytes(b"a,y\nx,1\nz,0\n,1\n").expect("csv");
        let options = |target: Option<&str>| ReferenceOptions {
            target: target.map(str::to_owned),
            ..ReferenceOptions::default()
        };
        // A categorical feature: codes from the sorted reference values, missing passed as NaN.
        let cat = FeatureKind::Categorical { categories: None };
        let p = assemble(imported(cat.clone()), &data, &options(Some("y"))).expect("assembles");
        let ColumnEncoderSpec::Categorical(c) = &p.to_parts().encoders[0] else {
            panic!("categorical");
        };
        assert_eq!(c.categories, ["x", "z"]);
        assert!(p.schema().columns[0].nullable);
        assert!(p.drift_profile().is_some());
        assert_eq!(p.training().train_rows, 3);
        // A feature the reference lacks, a numeric column given as categorical that the model
        // does not have.
        let missing = ReferenceData::from_csv_bytes(b"b,y\n1,1\n").expect("csv");
        let err = assemble(imported(FeatureKind::Numeric), &missing, &options(None));
        assert!(err.is_err_and(|e| e.to_string().contains("`a` is not a column")));
        // Labels that do not number the classes.
        let three = ReferenceData::from_csv_bytes(
            b"a,y
1,1
2,2
3,3
",
        )
        .expect("csv");
        let err = assemble(imported(FeatureKind::Numeric), &three, &options(Some("y")));
        assert!(err.is_err_and(|e| e.to_string().contains("3 distinct values, the model 2")));
        let bad = ReferenceOptions {
            categorical: vec!["nope".into()],
            ..ReferenceOptions::default()
        };
        let err = assemble(imported(FeatureKind::Numeric), &data, &bad);
        assert!(err.is_err_and(|e| e.to_string().contains("--categorical nope")));
        assert!(ReferenceData::from_csv_bytes(b"a,y\n").is_err(), "no rows");
        // A numeric feature read as categories: the model sees sorted codes (z is 1).
        let codes = ReferenceOptions {
            categorical: vec!["a".into()],
            ..ReferenceOptions::default()
        };
        let p = assemble(imported(FeatureKind::Numeric), &data, &codes).expect("assembles");
        assert_eq!(p.schema().columns[0].kind, ColumnKind::Categorical);
        let record = [("a", tabship::Value::from("z"))];
        let z = p.predict_proba_one(&record[..]).expect("predicts");
        let record = [("a", tabship::Value::from("x"))];
        let x = p.predict_proba_one(&record[..]).expect("predicts");
        assert!(
            z[1] > 0.5 && x[1] < 0.5,
            "z is code 1 (right of 0.5), x code 0"
        );
        // A model without feature names reads the reference columns but the target, in order.
        let mut unnamed = imported(FeatureKind::Numeric);
        unnamed.features[0].name = None;
        let data = ReferenceData::from_csv_bytes(b"y,b\n1,0.2\n0,0.9\n").expect("csv");
        let p = assemble(unnamed.clone(), &data, &options(Some("y"))).expect("assembles");
        assert_eq!(p.schema().columns[0].name, "b");
        let err = assemble(unnamed, &data, &options(None));
        assert!(err.is_err_and(|e| e.to_string().contains("expected 1 columns, got 2")));
    }
}
