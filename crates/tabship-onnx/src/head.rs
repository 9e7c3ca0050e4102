//! From a model's output to the pipeline's: the decision threshold and the class labels of a
//! classifier, the inverse target transform of a regressor (`tabship`'s `predict_encoded`), and
//! the graph outputs.

use tabship::{ClassLabel, Pipeline, TargetTransform};

use crate::encoders::BATCH;
use crate::graph::{Attr, Builder, value_info};
use crate::proto::{ValueInfoProto, data_type};
use crate::{Error, Result};

/// What a model part of the graph produced.
pub enum Head {
    /// A regressor's value, `double [N]`, before the target transform.
    Value(String),
    /// A classifier's probabilities `double [N, K]` (class order) and predicted class index
    /// `int64 [N]`, before the decision threshold.
    Classes {
        /// Probabilities.
        proba: String,
        /// Class indices.
        label: String,
    },
}

impl Head {
    /// A binary classifier from `p(classes[1])` (`double [N]`): probabilities `[1 - p, p]` and
    /// the class `1` iff `p > 0.5`, as every tabship model decides it.
    pub fn binary_from_positive(b: &mut Builder, p: &str) -> Head {
        let one = b.doubles(&[], vec![1.0]);
        let q = b.op("Sub", &[&one, p], vec![]);
        let proba = stack(b, &[&q, p]);
        let half = b.doubles(&[], vec![0.5]);
        let positive = b.op("Greater", &[p, &half], vec![]);
        let label = b.op(
            "Cast",
            &[&positive],
            vec![("to", Attr::Int(i64::from(data_type::INT64)))],
        );
        Head::Classes { proba, label }
    }
}

/// `[a, b, ...]` (`[N]` each) as the columns of `[N, len]`.
pub fn stack(b: &mut Builder, columns: &[&str]) -> String {
    let axes = b.ints(&[1], vec![1]);
    let wide: Vec<String> = columns
        .iter()
        .map(|c| b.op("Unsqueeze", &[c, &axes], vec![]))
        .collect();
    let refs: Vec<&str> = wide.iter().map(String::as_str).collect();
    b.op("Concat", &refs, vec![("axis", Attr::Int(1))])
}

/// `exp(z - max) / sum` over the classes (axis 1) of `double [N, K]` scores, as tabship's
/// softmax writes it.
pub fn softmax(b: &mut Builder, z: &str) -> String {
    let axes = b.ints(&[1], vec![1]);
    let max = b.op("ReduceMax", &[z, &axes], vec![("keepdims", Attr::Int(1))]);
    let shifted = b.op("Sub", &[z, &max], vec![]);
    let e = b.op("Exp", &[&shifted], vec![]);
    let total = b.op("ReduceSum", &[&e, &axes], vec![("keepdims", Attr::Int(1))]);
    b.op("Div", &[&e, &total], vec![])
}

/// Applies the pipeline's decision threshold or target transform and names the outputs:
/// `label` and `probabilities` for a classifier, `value` for a regressor.
pub fn finish(b: &mut Builder, pipeline: &Pipeline, head: Head) -> Result<Vec<ValueInfoProto>> {
    match head {
        Head::Value(z) => {
            let value = match pipeline.target_transform() {
                None => z,
                Some(TargetTransform::Log1p) => expm1(b, &z),
                Some(other) => {
                    return Err(Error::unsupported(
                        "target_transform",
                        format!("the `{}` transform has no ONNX form yet", other.name()),
                    ));
                }
            };
            b.op_to("", "Identity", &[&value], vec![], "value");
            Ok(vec![value_info(
                "value",
                data_type::DOUBLE,
                Some(&[Err(BATCH)]),
            )])
        }
        Head::Classes { proba, label } => {
            let label = match pipeline.decision_threshold() {
                None => label,
                Some(t) => {
                    let positive = pipeline
                        .classes()
                        .iter()
                        .position(|c| *c == t.positive_class)
                        .unwrap_or(1) as i64;
                    let index = b.ints(&[], vec![positive]);
                    let p = b.op("Gather", &[&proba, &index], vec![("axis", Attr::Int(1))]);
                    let threshold = b.doubles(&[], vec![t.threshold]);
                    let at_least = b.op("GreaterOrEqual", &[&p, &threshold], vec![]);
                    let yes = b.ints(&[], vec![positive]);
                    let no = b.ints(&[], vec![1 - positive]);
                    b.op("Where", &[&at_least, &yes, &no], vec![])
                }
            };
            let classes = pipeline.classes();
            let k = classes.len() as i64;
            let (table, elem) = if classes.iter().all(|c| matches!(c, ClassLabel::Integer(_))) {
                let ints = classes
                    .iter()
                    .map(|c| match c {
                        ClassLabel::Integer(i) => *i,
                        ClassLabel::Text(_) => 0,
                    })
                    .collect();
                (b.ints(&[k], ints), data_type::INT64)
            } else {
                let texts = classes.iter().map(ToString::to_string).collect();
                (b.strings(&[k], texts), data_type::STRING)
            };
            b.op_to(
                "",
                "Gather",
                &[&table, &label],
                vec![("axis", Attr::Int(0))],
                "label",
            );
            b.op_to("", "Identity", &[&proba], vec![], "probabilities");
            Ok(vec![
                value_info("label", elem, Some(&[Err(BATCH)])),
                value_info(
                    "probabilities",
                    data_type::DOUBLE,
                    Some(&[Err(BATCH), Ok(k)]),
                ),
            ])
        }
    }
}

/// `exp(z) - 1` to within a few ulps for every `z` (tabship's `exp_m1`; a plain `Exp` and `Sub`
/// would lose every digit near 0): Kahan's `(u - 1) * z / ln(u)` with `u = exp(z)`, `z` itself
/// where `u` rounds to 1, `-1` where `u - 1` does, and `u` where it overflows.
fn expm1(b: &mut Builder, z: &str) -> String {
    let u = b.op("Exp", &[z], vec![]);
    let one = b.doubles(&[], vec![1.0]);
    let minus_one = b.doubles(&[], vec![-1.0]);
    let um1 = b.op("Sub", &[&u, &one], vec![]);
    let ln = b.op("Log", &[&u], vec![]);
    let scaled = b.op("Mul", &[&um1, z], vec![]);
    let kahan = b.op("Div", &[&scaled, &ln], vec![]);
    let infinite = b.op("IsInf", &[&u], vec![]);
    let r = b.op("Where", &[&infinite, &u, &kahan], vec![]);
    let floor = b.op("Equal", &[&um1, &minus_one], vec![]);
    let r = b.op("Where", &[&floor, &minus_one, &r], vec![]);
    let tiny = b.op("Equal", &[&u, &one], vec![]);
    b.op("Where", &[&tiny, z, &r], vec![])
}
