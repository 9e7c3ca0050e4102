//! The parser of LightGBM's text model format (`Booster.save_model`, `version=v4`), written from
//! LightGBM's `GBDT::LoadModelFromString` and `Tree::Tree(const char*)`.
//!
//! The file is untrusted: every count is checked against the arrays it sizes, every index against
//! its target, every tree for being a tree, and each error names the line, the tree and the
//! field. Nothing is allocated from a count before the text holding that many values was read.

use std::collections::HashMap;

use super::model::{Child, FeatureInfo, LightgbmModel, MissingType, Objective, Split, Tree};
use super::objective::parse_objective;
use crate::{Error, Result};

/// The name of the format in errors.
pub(super) const FORMAT: &str = "LightGBM";

/// Parses a LightGBM text model.
pub fn parse(text: &str) -> Result<LightgbmModel> {
    let mut lines = Lines::new(text);
    let header = read_header(&mut lines)?;
    let mut trees = Vec::new();
    let mut tree_lengths = Vec::new();
    loop {
        let Some((no, line, offset)) = lines.next_non_empty() else {
            return Err(lines.error(
                "end of trees",
                "the line `end of trees`",
                "the end of the file",
            ));
        };
        if line == "end of trees" {
            break;
        }
        let Some(index) = line.strip_prefix("Tree=") else {
            return Err(parse_error(
                format!("line {no}"),
                "Tree",
                format!("`Tree={}` or `end of trees`", trees.len()),
                line,
            ));
        };
        if index != trees.len().to_string() {
            return Err(parse_error(
                format!("line {no}"),
                "Tree",
                format!("tree number {}", trees.len()),
                index,
            ));
        }
        let tree = read_tree(&mut lines, trees.len(), &header)?;
        trees.push(tree);
        tree_lengths.push((offset, lines.offset()));
    }
    check_tree_sizes(&header, &tree_lengths, text)?;
    let trailer = read_trailer(&mut lines, header.feature_names.len())?;
    if trees.len() % header.num_tree_per_iteration != 0 {
        return Err(parse_error(
            "trees".to_string(),
            "num_tree_per_iteration",
            format!(
                "a number of trees divisible by {} trees per iteration",
                header.num_tree_per_iteration
            ),
            &trees.len().to_string(),
        ));
    }
    Ok(LightgbmModel {
        num_class: header.num_class,
        num_tree_per_iteration: header.num_tree_per_iteration,
        objective: header.objective,
        average_output: header.average_output,
        feature_names: header.feature_names,
        feature_infos: header.feature_infos,
        trees,
        linear_tree: trailer.linear_tree,
        categorical_features: trailer.categorical_features,
        pandas_categorical: trailer.pandas_categorical,
    })
}

/// The header's fields that matter, checked.
struct Header {
    num_class: usize,
    num_tree_per_iteration: usize,
    objective: Option<Objective>,
    average_output: bool,
    feature_names: Vec<String>,
    feature_infos: Vec<FeatureInfo>,
    tree_sizes: Option<(usize, Vec<usize>)>,
}

/// Reads the header: the `tree` line, then `key=value` lines up to the first tree.
fn read_header(lines: &mut Lines<'_>) -> Result<Header> {
    match lines.next_non_empty() {
        Some((_, "tree", _)) => {}
        Some((no, line, _)) => {
            return Err(parse_error(
                format!("line {no}"),
                "tree",
                "a LightGBM text model starting with the line `tree`".to_string(),
                line,
            ));
        }
        None => return Err(lines.error("tree", "a LightGBM text model", "an empty file")),
    }
    let mut fields: HashMap<&str, (usize, &str)> = HashMap::new();
    while let Some((no, line)) = lines.peek_non_empty() {
        if line.starts_with("Tree=") || line == "end of trees" {
            break;
        }
        lines.next_non_empty();
        let (key, value) = line.split_once('=').unwrap_or((line, ""));
        if fields.insert(key, (no, value)).is_some() {
            return Err(parse_error(
                format!("line {no}"),
                key,
                "each header field once".to_string(),
                line,
            ));
        }
    }
    let field = |key: &str| -> Result<(usize, &str)> {
        fields.get(key).copied().ok_or_else(|| {
            parse_error(
                "header".to_string(),
                key,
                "the field in the header".to_string(),
                "nothing",
            )
        })
    };
    let (no, version) = field("version")?;
    if version != "v4" {
        return Err(Error::unsupported(
            format!("LightGBM model format `{version}` (line {no})"),
            "only `version=v4` (LightGBM 4.x) is read",
        ));
    }
    let (no, text) = field("num_class")?;
    let num_class = parse_count(no, "num_class", text, 1)?;
    let num_tree_per_iteration = match fields.get("num_tree_per_iteration") {
        Some(&(no, text)) => parse_count(no, "num_tree_per_iteration", text, 1)?,
        None => num_class,
    };
    let (no, text) = field("max_feature_idx")?;
    let n_features = parse_count(no, "max_feature_idx", text, 0)?
        .checked_add(1)
        .ok_or_else(|| {
            parse_error(
                format!("line {no}"),
                "max_feature_idx",
                "a feature count".into(),
                text,
            )
        })?;
    let (no, text) = field("feature_names")?;
    let feature_names: Vec<String> = text.split(' ').map(str::to_string).collect();
    if feature_names.len() != n_features {
        return Err(parse_error(
            format!("line {no}"),
            "feature_names",
            format!("{n_features} names (max_feature_idx + 1)"),
            &format!("{} names", feature_names.len()),
        ));
    }
    let (no, text) = field("feature_infos")?;
    let feature_infos = text
        .split(' ')
        .map(|info| parse_feature_info(no, info))
        .collect::<Result<Vec<_>>>()?;
    if feature_infos.len() != n_features {
        return Err(parse_error(
            format!("line {no}"),
            "feature_infos",
            format!("{n_features} entries (max_feature_idx + 1)"),
            &format!("{} entries", feature_infos.len()),
        ));
    }
    let objective = match fields.get("objective") {
        Some(&(no, text)) => Some(parse_objective(no, text)?),
        None => None,
    };
    let tree_sizes = match fields.get("tree_sizes") {
        Some(&(no, text)) => Some((
            no,
            text.split(' ')
                .map(|s| parse_int::<usize>(no, "tree_sizes", s))
                .collect::<Result<Vec<_>>>()?,
        )),
        None => None,
    };
    Ok(Header {
        num_class,
        num_tree_per_iteration,
        objective,
        average_output: fields.contains_key("average_output"),
        feature_names,
        feature_infos,
        tree_sizes,
    })
}

/// One `feature_infos` entry: `none`, `[min:max]` or colon-separated category codes.
fn parse_feature_info(no: usize, info: &str) -> Result<FeatureInfo> {
    if info == "none" {
        return Ok(FeatureInfo::Unused);
    }
    if let Some(range) = info.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        let bad = || {
            parse_error(
                format!("line {no}"),
                "feature_infos",
                "`[min:max]` with two numbers".to_string(),
                info,
            )
        };
        let (min, max) = range.split_once(':').ok_or_else(bad)?;
        return Ok(FeatureInfo::Numeric {
            min: min.parse().map_err(|_| bad())?,
            max: max.parse().map_err(|_| bad())?,
        });
    }
    info.split(':')
        .map(|c| parse_int::<i64>(no, "feature_infos", c))
        .collect::<Result<Vec<_>>>()
        .map(FeatureInfo::Categorical)
}

/// Checks `tree_sizes`, which LightGBM uses to find each tree (by byte offsets) instead of reading
/// them in sequence: when present it must describe the trees read here.
fn check_tree_sizes(header: &Header, trees: &[(usize, usize)], text: &str) -> Result<()> {
    let Some((no, sizes)) = &header.tree_sizes else {
        return Ok(());
    };
    let expected = trees.len();
    if sizes.len() != expected {
        return Err(parse_error(
            format!("line {no}"),
            "tree_sizes",
            format!("{expected} sizes, one per tree"),
            &format!("{} sizes", sizes.len()),
        ));
    }
    // A tree's size runs from its `Tree=` line to the next tree (or `end of trees`).
    let mut ends: Vec<usize> = trees.iter().skip(1).map(|&(start, _)| start).collect();
    if let Some(&(_, last_end)) = trees.last() {
        let rest = &text[last_end..];
        let blank = rest.len() - rest.trim_start_matches(['\n', '\r']).len();
        ends.push(last_end + blank);
    }
    for (t, ((&(start, _), end), &size)) in trees.iter().zip(ends).zip(sizes).enumerate() {
        if end - start != size {
            return Err(parse_error(
                format!("line {no}"),
                "tree_sizes",
                format!("{} bytes for tree {t}, as in the file", end - start),
                &size.to_string(),
            ));
        }
    }
    Ok(())
}

/// Reads one tree's `key=value` lines (up to a blank line) and checks them.
fn read_tree(lines: &mut Lines<'_>, t: usize, header: &Header) -> Result<Tree> {
    let mut fields: HashMap<&str, (usize, &str)> = HashMap::new();
    while let Some((no, line, _)) = lines.next_line() {
        if line.is_empty() {
            break;
        }
        let (key, value) = line.split_once('=').ok_or_else(|| {
            parse_error(
                format!("tree {t}, line {no}"),
                line,
                "`key=value`".into(),
                line,
            )
        })?;
        if fields.insert(key, (no, value)).is_some() {
            return Err(parse_error(
                format!("tree {t}, line {no}"),
                key,
                "each tree field once".to_string(),
                line,
            ));
        }
    }
    let reader = TreeFields { t, fields: &fields };
    let num_leaves = reader.count("num_leaves", 1)?;
    let num_cat = reader.count("num_cat", 0)?;
    let leaf_value: Vec<f64> = reader.array("leaf_value", num_leaves)?;
    let is_linear = match fields.get("is_linear") {
        Some(&(no, text)) => parse_int::<u8>(no, "is_linear", text)? != 0,
        None => false,
    };
    if num_leaves == 1 {
        // LightGBM reads nothing else of a single-leaf tree.
        return Ok(Tree {
            splits: Vec::new(),
            leaf_value,
            cat_boundaries: Vec::new(),
            cat_threshold: Vec::new(),
            is_linear,
        });
    }
    let n = num_leaves - 1;
    let split_feature: Vec<i64> = reader.array("split_feature", n)?;
    let threshold: Vec<f64> = reader.array("threshold", n)?;
    let decision_type: Vec<i64> = match fields.get("decision_type") {
        Some(_) => reader.array("decision_type", n)?,
        None => vec![0; n],
    };
    let left_child: Vec<i64> = reader.array("left_child", n)?;
    let right_child: Vec<i64> = reader.array("right_child", n)?;
    let (cat_boundaries, cat_threshold) = if num_cat > 0 {
        let boundaries: Vec<u32> = reader.array("cat_boundaries", num_cat + 1)?;
        let total = *boundaries.last().unwrap_or(&0) as usize;
        let words: Vec<u32> = reader.array("cat_threshold", total)?;
        if boundaries[0] != 0 || boundaries.windows(2).any(|w| w[0] > w[1]) {
            return Err(reader.error(
                "cat_boundaries",
                "non-decreasing offsets starting at 0",
                fields.get("cat_boundaries").map_or("", |f| f.1),
            ));
        }
        (boundaries, words)
    } else {
        (Vec::new(), Vec::new())
    };
    let n_features = header.feature_names.len();
    let child = |field: &str, c: i64| -> Result<Child> {
        if c >= 0 {
            usize::try_from(c)
                .ok()
                .filter(|&c| c < n)
                .map(Child::Split)
                .ok_or_else(|| {
                    reader.error(field, &format!("a node index below {n}"), &c.to_string())
                })
        } else {
            usize::try_from(!c)
                .ok()
                .filter(|&l| l < num_leaves)
                .map(Child::Leaf)
                .ok_or_else(|| {
                    reader.error(
                        field,
                        &format!("a leaf ~index below {num_leaves}"),
                        &c.to_string(),
                    )
                })
        }
    };
    let mut splits = Vec::with_capacity(n);
    for i in 0..n {
        let feature = usize::try_from(split_feature[i])
            .ok()
            .filter(|&f| f < n_features)
            .ok_or_else(|| {
                reader.error(
                    "split_feature",
                    &format!("a feature index below {n_features} (node {i})"),
                    &split_feature[i].to_string(),
                )
            })?;
        let d = decision_type[i];
        let missing = match (d, (d >> 2) & 3) {
            (0..=15, 0) => MissingType::None,
            (0..=15, 1) => MissingType::Zero,
            (0..=15, 2) => MissingType::NaN,
            _ => {
                return Err(reader.error(
                    "decision_type",
                    &format!("bits 0-3 with missing type 0, 1 or 2 (node {i})"),
                    &d.to_string(),
                ));
            }
        };
        let categorical = d & 1 != 0;
        let cat_set = if categorical {
            let t = threshold[i];
            let c = (t >= 0.0 && t.fract() == 0.0 && t < num_cat as f64).then_some(t as usize);
            Some(c.ok_or_else(|| {
                reader.error(
                    "threshold",
                    &format!("a category set index below num_cat {num_cat} (categorical node {i})"),
                    &t.to_string(),
                )
            })?)
        } else {
            if threshold[i].is_nan() {
                return Err(reader.error("threshold", &format!("a number (node {i})"), "nan"));
            }
            None
        };
        splits.push(Split {
            feature,
            threshold: threshold[i],
            cat_set,
            default_left: d & 2 != 0,
            missing,
            left: child("left_child", left_child[i])?,
            right: child("right_child", right_child[i])?,
        });
    }
    check_is_tree(&splits, num_leaves)
        .map_err(|what| reader.error("left_child", "a tree", &what))?;
    Ok(Tree {
        splits,
        leaf_value,
        cat_boundaries,
        cat_threshold,
        is_linear,
    })
}

/// Every node but the root and every leaf is the child of exactly one node, and all are reached
/// from the root, so walks end and every leaf can be reached.
fn check_is_tree(splits: &[Split], num_leaves: usize) -> Result<(), String> {
    let mut node_seen = vec![false; splits.len()];
    let mut leaf_seen = vec![false; num_leaves];
    let mut stack = vec![0usize];
    node_seen[0] = true;
    while let Some(i) = stack.pop() {
        for c in [splits[i].left, splits[i].right] {
            match c {
                Child::Split(j) => {
                    if std::mem::replace(&mut node_seen[j], true) {
                        return Err(format!("node {j} reached twice"));
                    }
                    stack.push(j);
                }
                Child::Leaf(l) => {
                    if std::mem::replace(&mut leaf_seen[l], true) {
                        return Err(format!("leaf {l} reached twice"));
                    }
                }
            }
        }
    }
    if let Some(j) = node_seen.iter().position(|s| !s) {
        return Err(format!("node {j} unreachable from the root"));
    }
    if let Some(l) = leaf_seen.iter().position(|s| !s) {
        return Err(format!("leaf {l} unreachable from the root"));
    }
    Ok(())
}

/// A tree's fields by key, with errors naming the tree and line.
struct TreeFields<'a> {
    t: usize,
    fields: &'a HashMap<&'a str, (usize, &'a str)>,
}

impl TreeFields<'_> {
    fn get(&self, key: &str) -> Result<(usize, &str)> {
        self.fields.get(key).copied().ok_or_else(|| {
            parse_error(
                format!("tree {}", self.t),
                key,
                "the field in the tree".into(),
                "nothing",
            )
        })
    }

    /// A count of at least `min`.
    fn count(&self, key: &str, min: usize) -> Result<usize> {
        let (no, text) = self.get(key)?;
        parse_count(no, key, text, min).map_err(|e| self.locate(e))
    }

    /// A space-separated array of exactly `n` values.
    fn array<T: std::str::FromStr>(&self, key: &str, n: usize) -> Result<Vec<T>> {
        let (no, text) = self.get(key)?;
        let values = if text.is_empty() {
            Vec::new()
        } else {
            text.split(' ')
                .map(|s| parse_int_or_float::<T>(no, key, s))
                .collect::<Result<Vec<T>>>()
                .map_err(|e| self.locate(e))?
        };
        if values.len() != n {
            return Err(self.error(
                key,
                &format!("{n} values"),
                &format!("{} values", values.len()),
            ));
        }
        Ok(values)
    }

    /// An error about `key` of this tree.
    fn error(&self, key: &str, expected: &str, got: &str) -> Error {
        let location = match self.fields.get(key) {
            Some((no, _)) => format!("tree {}, line {no}", self.t),
            None => format!("tree {}", self.t),
        };
        parse_error(location, key, expected.to_string(), got)
    }

    /// Adds the tree to an error's location.
    fn locate(&self, e: Error) -> Error {
        match e {
            Error::Field {
                field,
                expected,
                got,
            } => Error::Field {
                field: match field.strip_prefix(FORMAT) {
                    Some(rest) => format!("{FORMAT} tree {},{rest}", self.t),
                    None => field,
                },
                expected,
                got,
            },
            e => e,
        }
    }
}

/// What the sections after `end of trees` say that matters.
#[derive(Default)]
struct Trailer {
    linear_tree: bool,
    categorical_features: Option<Vec<usize>>,
    pandas_categorical: Option<Vec<Vec<serde_json::Value>>>,
}

/// Reads the sections after `end of trees`: the parameters (`linear_tree`,
/// `categorical_feature`) and `pandas_categorical`.
fn read_trailer(lines: &mut Lines<'_>, n_features: usize) -> Result<Trailer> {
    let mut trailer = Trailer::default();
    let mut in_parameters = false;
    while let Some((no, line, _)) = lines.next_line() {
        match line {
            "parameters:" => in_parameters = true,
            "end of parameters" => in_parameters = false,
            _ if in_parameters => {
                if let Some(v) = line.strip_prefix("[linear_tree: ") {
                    trailer.linear_tree = v != "0]";
                } else if let Some(v) = line
                    .strip_prefix("[categorical_feature: ")
                    .and_then(|v| v.strip_suffix(']'))
                {
                    trailer.categorical_features = categorical_indices(no, v, n_features)?;
                }
            }
            _ => {
                if let Some(json) = line.strip_prefix("pandas_categorical:") {
                    trailer.pandas_categorical = serde_json::from_str::<
                        Option<Vec<Vec<serde_json::Value>>>,
                    >(json)
                    .map_err(|e| {
                        parse_error(
                            format!("line {no}"),
                            "pandas_categorical",
                            format!("null or a JSON list of category lists ({e})"),
                            json,
                        )
                    })?;
                }
            }
        }
    }
    Ok(trailer)
}

/// `categorical_feature` as feature indices, sorted; None when it names features another way
/// (`name:...`), which only the training data could resolve.
fn categorical_indices(no: usize, text: &str, n_features: usize) -> Result<Option<Vec<usize>>> {
    if text.is_empty() {
        return Ok(Some(Vec::new()));
    }
    let Ok(mut indices) = text
        .split(',')
        .map(str::parse::<usize>)
        .collect::<Result<Vec<_>, _>>()
    else {
        return Ok(None);
    };
    if let Some(&bad) = indices.iter().find(|&&i| i >= n_features) {
        return Err(parse_error(
            format!("line {no}"),
            "categorical_feature",
            format!("feature indices below {n_features}"),
            &bad.to_string(),
        ));
    }
    indices.sort_unstable();
    indices.dedup();
    Ok(Some(indices))
}

/// A non-negative count of at least `min`.
fn parse_count(no: usize, field: &str, text: &str, min: usize) -> Result<usize> {
    text.parse::<usize>()
        .ok()
        .filter(|&n| n >= min)
        .ok_or_else(|| {
            parse_error(
                format!("line {no}"),
                field,
                format!("a whole number of at least {min}"),
                text,
            )
        })
}

/// An integer of type `T`.
fn parse_int<T: std::str::FromStr>(no: usize, field: &str, text: &str) -> Result<T> {
    text.parse::<T>().map_err(|_| {
        parse_error(
            format!("line {no}"),
            field,
            format!("a whole number within {}", std::any::type_name::<T>()),
            text,
        )
    })
}

/// A value of an array field: an integer or a number, as `T` says. Rust's parsers are strict
/// (no trailing text) and `f64` parsing rounds correctly, as LightGBM's `fast_double_parser`,
/// so the 17 significant digits LightGBM writes give back its exact `double`.
fn parse_int_or_float<T: std::str::FromStr>(no: usize, field: &str, text: &str) -> Result<T> {
    text.parse::<T>().map_err(|_| {
        parse_error(
            format!("line {no}"),
            field,
            format!("a {}", std::any::type_name::<T>()),
            text,
        )
    })
}

/// A parse error at `location` (a line, or a tree and its line) about `field`; `got` is
/// shortened so that a huge line does not make a huge message.
pub(super) fn parse_error(location: String, field: &str, expected: String, got: &str) -> Error {
    const MAX: usize = 80;
    let got = match got.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", &got[..cut]),
        None => got.to_string(),
    };
    let field: String = field.chars().take(MAX).collect();
    Error::field(
        format!("{FORMAT} {location}: {field}"),
        expected,
        format!("`{got}`"),
    )
}

/// The file's lines with their 1-based numbers and byte offsets; `\n`, `\r\n` and `\r` end
/// lines, as LightGBM's `GetLine`/`SkipNewLine` treat them.
struct Lines<'a> {
    text: &'a str,
    pos: usize,
    no: usize,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        Lines {
            text,
            pos: 0,
            no: 0,
        }
    }

    /// The byte offset of the next line.
    fn offset(&self) -> usize {
        self.pos
    }

    /// The next line (number, text, offset), or None at the end.
    fn next_line(&mut self) -> Option<(usize, &'a str, usize)> {
        if self.pos >= self.text.len() {
            return None;
        }
        let start = self.pos;
        let rest = &self.text[start..];
        let len = rest.find(['\n', '\r']).unwrap_or(rest.len());
        let mut next = start + len;
        if rest[len..].starts_with("\r\n") {
            next += 2;
        } else if len < rest.len() {
            next += 1;
        }
        self.pos = next;
        self.no += 1;
        Some((self.no, &rest[..len], start))
    }

    /// The next non-empty line.
    fn next_non_empty(&mut self) -> Option<(usize, &'a str, usize)> {
        loop {
            match self.next_line() {
                Some((_, "", _)) => continue,
                other => return other,
            }
        }
    }

    /// The next non-empty line without consuming it (empty lines before it are consumed).
    fn peek_non_empty(&mut self) -> Option<(usize, &'a str)> {
        let (pos, no) = (self.pos, self.no);
        match self.next_non_empty() {
            Some((n, line, start)) => {
                // Rewind to the start of that line.
                self.pos = start;
                self.no = n - 1;
                Some((n, line))
            }
            None => {
                self.pos = pos;
                self.no = no;
                None
            }
        }
    }

    /// An error at the current line.
    fn error(&self, field: &str, expected: &str, got: &str) -> Error {
        parse_error(
            format!("line {}", self.no),
            field,
            expected.to_string(),
            got,
        )
    }
}
