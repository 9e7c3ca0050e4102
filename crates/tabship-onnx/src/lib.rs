//! # tabship-onnx
//!
//! Exports a fitted [`tabship::Pipeline`] — its encoders and its model — as one ONNX model, for
//! runtimes tabship does not ship itself (ONNX Runtime in C#, Java, JavaScript, on mobile and
//! edge devices).
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/golden/iris_logistic.tabship");
//! let pipeline = tabship::Pipeline::load(path)?;
//! let onnx: Vec<u8> = tabship_onnx::to_onnx(&pipeline)?;
//! assert!(!onnx.is_empty());
//! # Ok(())
//! # }
//! ```
//!
//! # The contract (normative: `docs/onnx.md`)
//! - **Inputs**: one per schema column, named as the column, shape `[N, 1]`: a numeric column is
//!   `double` with NaN for a missing value; a categorical column is `string`, `""` (or one of
//!   the pipeline's NA texts) for a missing value, and numbers written as tabship writes them
//!   (`"3"`, not `"3.0"`).
//! - **Outputs**: a classifier's `label` (`[N]`, `int64` or `string`, as the class labels) and
//!   `probabilities` (`double [N, K]`, columns in the pipeline's class order); a regressor's
//!   `value` (`double [N]`).
//! - **Operators**: `ai.onnx` opset 21 and `ai.onnx.ml` opset 5 (`TreeEnsemble`,
//!   `LabelEncoder`), IR version 10; everything is computed in `double`, and in `float` only
//!   where tabship itself computes in `f32` (XGBoost's comparisons and sums).
//! - **Exactness**: additions happen in tabship's order (ordered `Scan`s), so sums are
//!   bit-for-bit tabship's; only `Exp` and `Log` (links, softmax, the `log1p` target
//!   transform) come from the runtime's math library. What cannot be expressed exactly is
//!   refused with [`Error::Unsupported`], naming the part.
//!
//! # Features
//! - [`to_onnx`]: the serialized `ModelProto`.

mod encoders;
mod error;
mod graph;
mod head;
mod linear;
mod proto;
#[cfg(test)]
mod tests;
mod trees;

use prost::Message;
use tabship::{Model, Pipeline};

pub use error::{Error, Result};

/// The ONNX IR version written (ONNX 1.15+; ONNX Runtime 1.16+ reads it).
pub const IR_VERSION: i64 = 10;
/// The `ai.onnx` operator set used.
pub const OPSET: i64 = 21;
/// The `ai.onnx.ml` operator set used (`TreeEnsemble` needs 5).
pub const ML_OPSET: i64 = 5;

/// Protobuf's limit on one message.
const MAX_BYTES: usize = i32::MAX as usize;

/// The pipeline as a serialized ONNX `ModelProto`: the same bytes for the same pipeline.
pub fn to_onnx(pipeline: &Pipeline) -> Result<Vec<u8>> {
    let model = model_proto(pipeline)?;
    let bytes = model.encoded_len();
    if bytes > MAX_BYTES {
        return Err(Error::TooLarge { bytes });
    }
    Ok(model.encode_to_vec())
}

/// The graph's outputs: a classifier's, then a regressor's.
const OUTPUTS: [&str; 3] = ["label", "probabilities", "value"];

fn model_proto(pipeline: &Pipeline) -> Result<proto::ModelProto> {
    let names: Vec<String> = pipeline.schema().names().map(str::to_owned).collect();
    if let Some((i, name)) = names
        .iter()
        .enumerate()
        .find(|(_, n)| OUTPUTS.contains(&n.as_str()))
    {
        return Err(Error::unsupported(
            format!("schema.columns[{i}]"),
            format!(
                "the column `{name}` has the name of a graph output (`label`, `probabilities`, \
                 `value`), and ONNX names every value of a graph once; rename the column"
            ),
        ));
    }
    let mut b = graph::Builder::new(names);
    let features = encoders::encode(&mut b, pipeline);
    let x = features.matrix.as_str();
    let head = match pipeline.model() {
        Model::LinearRegression(m) => linear::regressor(&mut b, x, m),
        Model::LogisticRegression(m) => linear::classifier(&mut b, x, m),
        Model::TreeEnsemble(m) => trees::ensemble(
            &mut b,
            x,
            pipeline.encoder().width(),
            m,
            pipeline.classes().len(),
        )?,
        other => {
            return Err(Error::unsupported(
                "model",
                format!("the `{}` model type has no ONNX export", other.kind()),
            ));
        }
    };
    let outputs = head::finish(&mut b, pipeline, head)?;
    let training = pipeline.training();
    let graph = b.finish(&training.name, features.inputs, outputs);
    Ok(proto::ModelProto {
        ir_version: IR_VERSION,
        producer_name: "tabship".to_owned(),
        producer_version: tabship::VERSION.to_owned(),
        domain: String::new(),
        model_version: 0,
        doc_string: format!(
            "tabship pipeline `{}` version `{}` ({}): inputs are the schema's columns, \
             see docs/onnx.md",
            training.name, training.version, training.algorithm
        ),
        graph: Some(graph),
        opset_import: vec![
            proto::OperatorSetIdProto {
                domain: String::new(),
                version: OPSET,
            },
            proto::OperatorSetIdProto {
                domain: graph::ML.to_owned(),
                version: ML_OPSET,
            },
        ],
        metadata_props: vec![
            proto::StringStringEntryProto {
                key: "tabship.name".to_owned(),
                value: training.name.clone(),
            },
            proto::StringStringEntryProto {
                key: "tabship.version".to_owned(),
                value: training.version.clone(),
            },
        ],
    })
}
