//! The parser and [`oracle`](super::oracle) against LightGBM's own predictions on every fixture
//! of `testdata/import/lightgbm/`: this checks the parse (every threshold, leaf and bitset) and
//! the semantics the conversion must reproduce, bit for bit.

use super::oracle;
use super::*;
use tabship_test_support::{read_csv, testdata};

fn model(name: &str) -> LightgbmModel {
    let path = testdata(&format!("import/lightgbm/{name}.model.txt"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The fixture's input rows as LightGBM's C API receives them: categories as their pandas
/// codes (NaN when missing or never seen), then `|x| <= 1e-35` as 0.0.
fn rows(name: &str, m: &LightgbmModel) -> Vec<Vec<f64>> {
    let (header, records) = read_csv(&testdata(&format!("import/lightgbm/{name}.inputs.csv")));
    assert_eq!(header, m.feature_names, "{name}: columns");
    let categorical = m.categorical_features.clone().unwrap_or_default();
    let pandas = m.pandas_categorical.clone().unwrap_or_default();
    records
        .iter()
        .map(|r| {
            r.iter()
                .enumerate()
                .map(|(i, v)| {
                    let x = match categorical.iter().position(|&c| c == i) {
                        // Without pandas categories the values are the codes.
                        Some(_) if pandas.is_empty() && v.is_empty() => f64::NAN,
                        Some(_) if pandas.is_empty() => v.parse().expect("a code"),
                        Some(j) => pandas[j]
                            .iter()
                            .position(|c| c.as_str() == Some(v))
                            .map_or(f64::NAN, |code| code as f64),
                        None if v.is_empty() => f64::NAN,
                        None => v.parse().unwrap_or_else(|e| panic!("{name}: `{v}`: {e}")),
                    };
                    if x.abs() <= ZERO_THRESHOLD { 0.0 } else { x }
                })
                .collect()
        })
        .collect()
}

/// LightGBM's raw margins and predictions per row, from the hex f64 bits.
pub(crate) fn expected(name: &str) -> Vec<(Vec<f64>, Vec<f64>)> {
    let (header, records) = read_csv(&testdata(&format!("import/lightgbm/{name}.expected.csv")));
    let k = header.len() / 2;
    let bits = |s: &str| f64::from_bits(u64::from_str_radix(s, 16).expect("hex bits"));
    records
        .iter()
        .map(|r| {
            let v: Vec<f64> = r.iter().map(bits).collect();
            (v[..k].to_vec(), v[k..].to_vec())
        })
        .collect()
}

#[test]
fn the_oracle_on_parsed_fixtures_equals_lightgbm_bit_for_bit() {
    for name in &tabship_test_support::lightgbm_fixtures() {
        let m = model(name);
        let rows = rows(name, &m);
        let expected = expected(name);
        assert_eq!(rows.len(), expected.len(), "{name}");
        for (r, (x, (raw, pred))) in rows.iter().zip(&expected).enumerate() {
            let (got_raw, got_pred) = oracle::predict(&m, x);
            let same = |a: &[f64], b: &[f64]| {
                a.len() == b.len() && a.iter().zip(b).all(|(a, b)| a.to_bits() == b.to_bits())
            };
            assert!(
                same(&got_raw, raw),
                "{name} row {r}: raw {got_raw:?} != {raw:?}"
            );
            assert!(
                same(&got_pred, pred),
                "{name} row {r}: pred {got_pred:?} != {pred:?}"
            );
        }
    }
}

#[test]
fn the_linear_tree_fixture_is_marked_linear() {
    let m = model("linear_tree");
    assert!(m.linear_tree && m.trees.iter().all(|t| t.is_linear));
}
