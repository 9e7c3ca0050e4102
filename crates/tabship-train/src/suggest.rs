//! "Did you mean": the closest column name to a mistyped one.

/// The candidate `name` most likely meant: the same name in another case, else the closest by
/// edit distance (ignoring case) within a third of its length.
pub(crate) fn closest<'a>(name: &str, candidates: &'a [String]) -> Option<&'a str> {
    if let Some(same) = candidates.iter().find(|c| c.eq_ignore_ascii_case(name)) {
        return Some(same);
    }
    let lower = name.to_lowercase();
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .iter()
        .map(|c| (strsim::levenshtein(&lower, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.as_str())
}

/// ` (did you mean `x`?)`, or nothing.
pub(crate) fn did_you_mean(name: &str, candidates: &[String]) -> String {
    closest(name, candidates)
        .map(|c| format!("; did you mean `{c}`?"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_then_edit_distance() {
        let names: Vec<String> = ["income", "age", "hours_per_week"]
            .map(String::from)
            .to_vec();
        assert_eq!(closest("Income", &names), Some("income"));
        assert_eq!(closest("incme", &names), Some("income"));
        assert_eq!(closest("hours_per_wek", &names), Some("hours_per_week"));
        assert_eq!(closest("salary", &names), None);
        assert_eq!(closest("ag", &names), Some("age"));
        assert_eq!(did_you_mean("xyz", &names), "");
    }
}
