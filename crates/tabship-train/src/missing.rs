//! The NA policy on training data: user-given NA values in categorical columns become missing,
//! and a column that is numeric except for a few texts is pointed out, because such a column
//! silently becomes a many-category feature (a CSV written by R with `NA`, a `?` or `n/a`).

use tabship::{CategoricalValues, ColumnValues, MISSING_CODE, NaValues};

/// Most distinct texts a column may hold besides numbers to be reported as "numeric except
/// for a few texts".
const MAX_TOKENS: usize = 5;

/// `values` with every text of `na.values` as missing, when it has any (`None`: unchanged).
/// Text read from CSV already went through the policy; in-memory data (pandas) has not.
pub(crate) fn apply_na_values(values: &ColumnValues, na: &NaValues) -> Option<ColumnValues> {
    let ColumnValues::Categorical(v) = values else {
        return None;
    };
    if na.values.is_empty() || !v.dictionary().iter().any(|t| na.is_missing_category(t)) {
        return None;
    }
    Some(ColumnValues::Categorical(CategoricalValues::from_options(
        (0..v.len()).map(|i| v.get(i).filter(|t| !na.is_missing_category(t))),
    )))
}

/// The warning for a categorical column whose values are numbers except for at most
/// [`MAX_TOKENS`] distinct texts, which together hold fewer rows than the numbers do.
pub(crate) fn numeric_except_texts(
    name: &str,
    values: &ColumnValues,
    na: &NaValues,
) -> Option<String> {
    let ColumnValues::Categorical(v) = values else {
        return None;
    };
    let mut counts = vec![0usize; v.dictionary().len()];
    for &code in v.codes() {
        if code != MISSING_CODE {
            counts[code as usize] += 1;
        }
    }
    let (mut numbers, mut texts) = (0usize, Vec::new());
    for (text, &count) in v.dictionary().iter().zip(&counts) {
        if na.is_number_or_missing(text) {
            numbers += count;
        } else {
            texts.push((text.as_str(), count));
            if texts.len() > MAX_TOKENS {
                return None;
            }
        }
    }
    let text_rows: usize = texts.iter().map(|(_, c)| c).sum();
    if numbers == 0 || texts.is_empty() || text_rows >= numbers {
        return None;
    }
    texts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let listed: Vec<String> = texts
        .iter()
        .map(|(t, c)| format!("`{t}` ({c} row{})", if *c == 1 { "" } else { "s" }))
        .collect();
    let tokens: Vec<&str> = texts.iter().map(|(t, _)| *t).collect();
    Some(format!(
        "column `{name}` is numeric except for {}, so it was read as categorical with {} categories; \
         if they mean missing, pass `--na-values '{}'` (Python: `na_values=`) to read it as numeric \
         (then `--numeric {name}` makes any other text an error), or pass `--categorical {name}` to \
         keep it categorical without this warning",
        listed.join(", "),
        v.dictionary().len(),
        tokens.join(","),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(values: &[&str]) -> ColumnValues {
        ColumnValues::Categorical(CategoricalValues::from_options(
            values.iter().map(|v| Some(*v)),
        ))
    }

    #[test]
    fn a_few_texts_in_numbers_are_reported() {
        let na = NaValues::default();
        let values = column(&["1.5", "2", "n.a.", "3", "n.a.", "unknown", "4"]);
        let warning = numeric_except_texts("income", &values, &na).unwrap();
        assert!(
            warning.starts_with(
                "column `income` is numeric except for `n.a.` (2 rows), `unknown` (1 row), so it \
                 was read as categorical with 6 categories; if they mean missing, pass \
                 `--na-values 'n.a.,unknown'`"
            ),
            "{warning}"
        );
        assert!(warning.contains("`--categorical income`"), "{warning}");
    }

    #[test]
    fn real_categories_are_not_reported() {
        let na = NaValues::default();
        let text = column(&["red", "green", "1", "blue"]);
        assert_eq!(numeric_except_texts("c", &text, &na), None);
        let many = column(&[
            "1", "2", "3", "4", "5", "6", "7", "a", "b", "c", "d", "e", "f",
        ]);
        assert_eq!(numeric_except_texts("c", &many, &na), None);
        assert_eq!(
            numeric_except_texts("c", &ColumnValues::Numeric(vec![1.0]), &na),
            None
        );
    }

    #[test]
    fn user_na_values_become_missing_in_categories() {
        let values = column(&["NA", "x", "None"]);
        assert_eq!(apply_na_values(&values, &NaValues::default()), None);
        let Some(ColumnValues::Categorical(v)) =
            apply_na_values(&values, &NaValues::new(true, ["NA"]))
        else {
            panic!("a categorical column")
        };
        assert_eq!(v.get(0), None);
        assert_eq!(v.get(2), Some("None"));
    }
}
