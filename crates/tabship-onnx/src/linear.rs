//! Linear and logistic regression: the products `x_f * w_f` in `double` (`Mul`, exact per
//! element), summed in feature order by an ordered `Scan` (a `MatMul` would add in blocks, in
//! another order), then the intercept, as `tabship::model::LinearRegressor` and
//! `LogisticClassifier` compute; the links are the same formulas in `double`.

use tabship::model::{LinearRegressor, LogisticClassifier};

use crate::encoders::scalar_f64;
use crate::graph::{Attr, Builder};
use crate::head::Head;
use crate::proto::data_type;

/// `sum_f(x_f * w_f) + intercept` per row, `[N]`.
pub fn regressor(b: &mut Builder, x: &str, m: &LinearRegressor) -> Head {
    let z = scores(b, x, std::slice::from_ref(&m.coefficients), &[m.intercept]);
    let axes = b_axes(b, 1);
    Head::Value(b.op("Squeeze", &[&z, &axes], vec![]))
}

/// Class probabilities and the predicted class as tabship decides them.
pub fn classifier(b: &mut Builder, x: &str, m: &LogisticClassifier) -> Head {
    let z = scores(b, x, &m.coefficients, &m.intercepts);
    if m.coefficients.len() == 1 {
        let axes = b_axes(b, 1);
        let z = b.op("Squeeze", &[&z, &axes], vec![]);
        // tabship's `sigmoid`: `1 / (1 + e^-z)` for z >= 0, `e^z / (1 + e^z)` below, both from
        // `a = exp(-|z|)`.
        let abs = b.op("Abs", &[&z], vec![]);
        let neg = b.op("Neg", &[&abs], vec![]);
        let a = b.op("Exp", &[&neg], vec![]);
        let one = b.doubles(&[], vec![1.0]);
        let denom = b.op("Add", &[&one, &a], vec![]);
        let upper = b.op("Div", &[&one, &denom], vec![]);
        let lower = b.op("Div", &[&a, &denom], vec![]);
        let zero = b.doubles(&[], vec![0.0]);
        let non_negative = b.op("GreaterOrEqual", &[&z, &zero], vec![]);
        let p = b.op("Where", &[&non_negative, &upper, &lower], vec![]);
        Head::binary_from_positive(b, &p)
    } else {
        let label = b.op(
            "ArgMax",
            &[&z],
            vec![("axis", Attr::Int(1)), ("keepdims", Attr::Int(0))],
        );
        let proba = crate::head::softmax(b, &z);
        Head::Classes { proba, label }
    }
}

/// The scores `[N, K]` of `K` coefficient rows.
fn scores(b: &mut Builder, x: &str, rows: &[Vec<f64>], intercepts: &[f64]) -> String {
    let k = rows.len() as i64;
    let f = rows.first().map_or(0, Vec::len) as i64;
    let weights = b.doubles(&[k, f], rows.iter().flatten().copied().collect());
    let axes = b_axes(b, 1);
    let wide = b.op("Unsqueeze", &[x, &axes], vec![]);
    // [N, 1, F] * [K, F] = [N, K, F]; summed over F in order from 0.0, then + intercept.
    let products = b.op("Mul", &[&wide, &weights], vec![]);
    let zeros = b.fill(x, &[k], scalar_f64(0.0));
    let sum = b.ordered_sum(&zeros, &products, 2, data_type::DOUBLE);
    let intercepts = b.doubles(&[k], intercepts.to_vec());
    b.op("Add", &[&sum, &intercepts], vec![])
}

/// A constant `axes` input `[axis]`.
fn b_axes(b: &mut Builder, axis: i64) -> String {
    b.ints(&[1], vec![axis])
}
