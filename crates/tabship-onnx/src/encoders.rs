//! The encoders as ONNX: one graph input per schema column, turned into the model's feature
//! matrix `X` (`double`, `[N, F]`) exactly as `tabship::encode` lays it out.
//!
//! A numeric column is a `double` tensor `[N, 1]` whose missing values are NaN: imputed (a
//! `Where` on `IsNaN`), scaled with the same `Sub` and `Div` in `double`, then the 0/1 missing
//! indicator. A categorical column is a `string` tensor `[N, 1]`: a `LabelEncoder` gives each
//! text its state's code (a kept category its index, an Other category the Other code, `""` and
//! the pipeline's NA texts the Missing code, anything else `-1`, the Unknown state), from which
//! one-hot columns are `Equal` against the slot numbers (Unknown matches none: the model's
//! baseline) and an ordinal column is the code itself.

use tabship::encode::{
    CategoricalEncoderSpec, CategoricalMissing, CategoryEncoding, ColumnEncoderSpec,
    ImputeStrategy, NumericEncoderSpec,
};
use tabship::{ColumnKind, Pipeline};

use crate::graph::{Attr, Builder, ML, tensor_f64, value_info};
use crate::proto::{ValueInfoProto, data_type};

/// The ordinal code standing for NaN inside the graph (a missing value under the `nan` policy);
/// it never collides with a real code, which is `-1` or a slot index.
const NAN_CODE: i64 = -2;

/// The name of the batch dimension in every input and output.
pub const BATCH: &str = "N";

/// The graph inputs (one per schema column, named as the column) and the feature matrix.
pub struct Features {
    /// One `[N, 1]` input per schema column.
    pub inputs: Vec<ValueInfoProto>,
    /// `X`, `double [N, F]`.
    pub matrix: String,
}

/// Adds the encoders of `pipeline` to `b`.
pub fn encode(b: &mut Builder, pipeline: &Pipeline) -> Features {
    let schema = pipeline.schema();
    let specs = pipeline.encoder().specs();
    let mut inputs = Vec::with_capacity(schema.len());
    let mut parts = Vec::with_capacity(schema.len());
    for (column, spec) in schema.columns.iter().zip(&specs) {
        let elem = match column.kind {
            ColumnKind::Numeric => data_type::DOUBLE,
            ColumnKind::Categorical => data_type::STRING,
        };
        inputs.push(value_info(&column.name, elem, Some(&[Err(BATCH), Ok(1)])));
        match spec {
            ColumnEncoderSpec::Numeric(s) => numeric(b, &column.name, s, &mut parts),
            ColumnEncoderSpec::Categorical(s) => {
                parts.push(categorical(b, &column.name, s, &schema.na_values.values));
            }
        }
    }
    let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
    let matrix = b.op("Concat", &refs, vec![("axis", Attr::Int(1))]);
    Features { inputs, matrix }
}

/// The value feature (and the indicator) of one numeric column, `[N, 1]` each.
fn numeric(b: &mut Builder, input: &str, spec: &NumericEncoderSpec, parts: &mut Vec<String>) {
    let missing = b.op("IsNaN", &[input], vec![]);
    let filled = if spec.imputation.strategy == ImputeStrategy::Nan {
        input.to_owned()
    } else {
        let fill = b.doubles(&[], vec![spec.imputation.value]);
        b.op("Where", &[&missing, &fill, input], vec![])
    };
    let value = match spec.scaling {
        Some(s) => {
            let mean = b.doubles(&[], vec![s.mean]);
            let scale = b.doubles(&[], vec![s.scale]);
            let centred = b.op("Sub", &[&filled, &mean], vec![]);
            b.op("Div", &[&centred, &scale], vec![])
        }
        None => filled,
    };
    parts.push(value);
    if spec.missing_indicator {
        parts.push(b.op(
            "Cast",
            &[&missing],
            vec![("to", Attr::Int(i64::from(data_type::DOUBLE)))],
        ));
    }
}

/// The features of one categorical column: `[N, width]` one-hot or `[N, 1]` ordinal.
fn categorical(
    b: &mut Builder,
    input: &str,
    spec: &CategoricalEncoderSpec,
    na_values: &[String],
) -> String {
    let k = spec.categories.len() as i64;
    let has_other = !spec.other_categories.is_empty();
    let missing_code = match (spec.encoding, spec.missing) {
        (_, CategoricalMissing::MostFrequent) => spec.fill_category.map_or(-1, i64::from),
        (CategoryEncoding::OneHot, CategoricalMissing::Slot) if spec.missing_slot => {
            k + i64::from(has_other)
        }
        (CategoryEncoding::OneHot, _) => -1,
        (CategoryEncoding::Ordinal, CategoricalMissing::Slot) => k + 1,
        (CategoryEncoding::Ordinal, CategoricalMissing::Nan) => NAN_CODE,
    };
    // Later insertions win: the NA texts are missing even when they are also categories, as
    // tabship reads input (the NA policy is applied before the encoder looks a value up).
    let mut codes = std::collections::BTreeMap::new();
    for (i, c) in spec.categories.iter().enumerate() {
        codes.insert(c.as_str(), i as i64);
    }
    for c in &spec.other_categories {
        codes.insert(c.as_str(), k);
    }
    codes.insert("", missing_code);
    for na in na_values {
        codes.insert(na.as_str(), missing_code);
    }
    let (keys, values): (Vec<String>, Vec<i64>) =
        codes.into_iter().map(|(c, v)| (c.to_owned(), v)).unzip();
    let code = b.op_in(
        ML,
        "LabelEncoder",
        &[input],
        vec![
            ("keys_strings", Attr::Strs(keys)),
            ("values_int64s", Attr::Ints(values)),
            ("default_int64", Attr::Int(-1)),
        ],
    );
    match spec.encoding {
        CategoryEncoding::OneHot => {
            let width = spec.width() as i64;
            let slots = b.ints(&[1, width], (0..width).collect());
            let hot = b.op("Equal", &[&code, &slots], vec![]);
            b.op(
                "Cast",
                &[&hot],
                vec![("to", Attr::Int(i64::from(data_type::DOUBLE)))],
            )
        }
        CategoryEncoding::Ordinal => {
            let as_double = b.op(
                "Cast",
                &[&code],
                vec![("to", Attr::Int(i64::from(data_type::DOUBLE)))],
            );
            if spec.missing != CategoricalMissing::Nan {
                return as_double;
            }
            let sentinel = b.ints(&[], vec![NAN_CODE]);
            let is_nan = b.op("Equal", &[&code, &sentinel], vec![]);
            let nan = b.doubles(&[], vec![f64::NAN]);
            b.op("Where", &[&is_nan, &nan, &as_double], vec![])
        }
    }
}

/// A one-element `double` tensor (the value of a `ConstantOfShape`).
pub fn scalar_f64(v: f64) -> crate::proto::TensorProto {
    tensor_f64(&[1], vec![v])
}
