//! Imports of models trained elsewhere: `tabship.from_xgboost` / `tabship.from_lightgbm` hand the
//! model file's bytes to the native importers of `tabship-import`; `tabship.from_sklearn`
//! (`tabship/_sklearn.py`, which reads the fitted attributes) hands the pipeline's parts as JSON,
//! deserialized into the core's own types and validated by [`tabship::Pipeline::from_parts`]
//! exactly as an artifact load validates them.
//!
//! Every pipeline gets the drift profile of its reference rows (CSV bytes, as the CLI reads
//! them), captured by the core as for a trained model.

use pyo3::prelude::*;
use serde::Deserialize;
use tabship::artifact::packed::{PackedF64, PackedU8, PackedU32};
use tabship::drift::ProfileOptions;
use tabship::encode::ColumnEncoderSpec;
use tabship::model::{Combination, TreeEnsemble, TreeSpec};
use tabship::{ClassLabel, Model, Pipeline, PipelineParts, Schema, Task, TrainingInfo};
use tabship_import::reference::{ReferenceData, ReferenceOptions, assemble};

use crate::errors::import;
use crate::gil::without_gil;
use crate::pipeline::PyPipeline;

/// The pipeline's parts as `tabship/_sklearn.py` writes them: the core's serde forms, except
/// a tree ensemble's arrays, which are plain lists here (the artifact packs them as bytes).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PartsJson {
    schema: Schema,
    encoders: Vec<ColumnEncoderSpec>,
    task: Task,
    #[serde(default)]
    classes: Vec<ClassLabel>,
    model: ModelJson,
    training: TrainingInfo,
}

/// The model: a tree ensemble with list arrays, or a linear model in the artifact's own form.
#[derive(Deserialize)]
#[serde(untagged)]
enum ModelJson {
    Trees(TreesJson),
    Linear(Model),
}

/// A tree ensemble.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TreesJson {
    trees: Vec<TreeJson>,
    #[serde(default)]
    combination: Combination,
    #[serde(default)]
    features_f32: bool,
    #[serde(default)]
    soft_vote: bool,
}

/// One tree: [`TreeSpec`]'s fields as lists.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TreeJson {
    feature: Vec<u32>,
    threshold: Vec<f64>,
    left: Vec<u32>,
    right: Vec<u32>,
    leaf_values: Vec<f64>,
    #[serde(default)]
    leaf_class: Vec<u32>,
    #[serde(default)]
    missing_left: Vec<u8>,
    #[serde(default)]
    categorical: Vec<u8>,
    #[serde(default)]
    category_offsets: Vec<u32>,
    #[serde(default)]
    category_bits: Vec<u32>,
}

impl From<TreeJson> for TreeSpec {
    fn from(t: TreeJson) -> TreeSpec {
        TreeSpec {
            feature: PackedU32(t.feature),
            threshold: PackedF64(t.threshold),
            left: PackedU32(t.left),
            right: PackedU32(t.right),
            leaf_values: PackedF64(t.leaf_values),
            leaf_class: PackedU32(t.leaf_class),
            missing_left: PackedU8(t.missing_left),
            categorical: PackedU8(t.categorical),
            category_offsets: PackedU32(t.category_offsets),
            category_bits: PackedU32(t.category_bits),
            ..TreeSpec::default()
        }
    }
}

/// The reference rows parsed as the pipeline parses input, and its drift profile attached.
fn with_profile(pipeline: Pipeline, reference_csv: &[u8]) -> tabship_import::Result<Pipeline> {
    let data = ReferenceData::from_csv_bytes(reference_csv)?;
    let batch = data.batch(pipeline.schema())?;
    let profile = pipeline.capture_drift_profile(&batch, &ProfileOptions::default())?;
    Ok(pipeline.with_drift_profile(Some(profile))?)
}

/// Reassembles through the artifact's bytes, so the object is exactly what `save` writes.
fn reloaded(pipeline: &Pipeline) -> tabship::Result<Pipeline> {
    Pipeline::from_bytes(&pipeline.to_bytes()?)
}

/// `tabship._tabship._from_parts_json(parts, reference_csv)`: a pipeline from parts written by
/// `tabship/_sklearn.py`, validated as an artifact load validates.
#[pyfunction]
pub(crate) fn _from_parts_json(
    py: Python<'_>,
    parts: &str,
    reference_csv: &[u8],
) -> PyResult<PyPipeline> {
    let parsed: PartsJson = serde_json::from_str(parts)
        .map_err(|e| crate::errors::base(py, format!("invalid pipeline parts: {e}")))?;
    let model = match parsed.model {
        ModelJson::Trees(t) => Model::TreeEnsemble(
            TreeEnsemble::new(
                parsed.task,
                t.trees.into_iter().map(TreeSpec::from).collect(),
            )
            .with_combination(t.combination)
            .with_features_f32(t.features_f32)
            .with_soft_vote(t.soft_vote),
        ),
        ModelJson::Linear(m) if !matches!(m, Model::TreeEnsemble(_)) => m,
        ModelJson::Linear(_) => {
            return Err(crate::errors::base(
                py,
                "invalid pipeline parts: a tree ensemble's arrays must be lists".to_owned(),
            ));
        }
    };
    let parts = PipelineParts {
        schema: parsed.schema,
        encoders: parsed.encoders,
        task: parsed.task,
        classes: parsed.classes,
        model,
        training: parsed.training,
        metrics: Default::default(),
        drift_profile: None,
        decision_threshold: None,
        target_transform: None,
    };
    let pipeline = without_gil(py, || -> tabship_import::Result<Pipeline> {
        let pipeline = Pipeline::from_parts(parts)?;
        Ok(reloaded(&with_profile(pipeline, reference_csv)?)?)
    })
    .map_err(|e| import(py, e))?;
    PyPipeline::wrap(py, pipeline, None)
}

/// `tabship._tabship._import_model(library, model, reference_csv, target, categorical, name,
/// version)`: a model file's bytes through the native importer of `library` (`xgboost`, `lightgbm`).
#[pyfunction]
#[pyo3(signature = (library, model, reference_csv, target=None, categorical=Vec::new(), name=None, version=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn _import_model(
    py: Python<'_>,
    library: &str,
    model: &[u8],
    reference_csv: &[u8],
    target: Option<String>,
    categorical: Vec<String>,
    name: Option<String>,
    version: Option<String>,
) -> PyResult<PyPipeline> {
    let options = ReferenceOptions {
        target,
        categorical,
        name,
        version,
    };
    let library = library.to_owned();
    let pipeline = without_gil(py, || -> tabship_import::Result<Pipeline> {
        let imported = match library.as_str() {
            "xgboost" => tabship_import::xgboost::read_bytes(model)?,
            "lightgbm" => tabship_import::lightgbm::read_bytes(model)?,
            other => {
                return Err(tabship_import::Error::unsupported(
                    "library",
                    format!("`{other}` (supported: xgboost, lightgbm)"),
                ));
            }
        };
        let data = ReferenceData::from_csv_bytes(reference_csv)?;
        let pipeline = assemble(imported, &data, &options)?;
        Ok(reloaded(&pipeline)?)
    })
    .map_err(|e| import(py, e))?;
    PyPipeline::wrap(py, pipeline, None)
}
