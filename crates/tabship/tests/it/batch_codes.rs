//! `CategoricalValues::from_codes` (the dictionary + codes layout of pandas and Arrow) builds
//! a column with the same text in every row as pushing every row's text, with a dictionary
//! of unique entries.

use proptest::prelude::*;
use tabship::CategoricalValues;

fn dictionary_and_codes() -> impl Strategy<Value = (Vec<Option<String>>, Vec<i64>)> {
    proptest::collection::vec(proptest::option::of("[ab]{0,2}"), 0..6).prop_flat_map(|dict| {
        let n = dict.len() as i64;
        let codes = proptest::collection::vec(-1..n.max(0), 0..40);
        (Just(dict), codes)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn from_codes_equals_pushing_texts((dictionary, codes) in dictionary_and_codes()) {
        let column = CategoricalValues::from_codes(&dictionary, &codes).expect("codes in range");
        let texts: Vec<Option<&str>> = codes
            .iter()
            .map(|&c| usize::try_from(c).ok().and_then(|c| dictionary[c].as_deref()))
            .collect();
        let pushed = CategoricalValues::from_options(texts);
        prop_assert_eq!(column.len(), pushed.len());
        for i in 0..column.len() {
            prop_assert_eq!(column.get(i), pushed.get(i));
        }
        let mut unique = column.dictionary().to_vec();
        unique.sort();
        unique.dedup();
        prop_assert_eq!(unique.len(), column.dictionary().len());
    }
}
