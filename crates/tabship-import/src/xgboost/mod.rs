//! XGBoost models: the JSON and UBJSON files `Booster.save_model` writes (1.7, 2.x and 3.x).
//!
//! What is reproduced, from XGBoost's own sources (`src/predictor/`, `src/common/math.h`,
//! `src/common/categorical.h`, `src/objective/`): every feature value is cast to `f32` and
//! compared with the `f32` threshold as `x < t`; a missing value follows the node's
//! `default_left`; a categorical split sends its listed categories right; leaf values add up in
//! `f32`, in tree order, from the `f32` base margin; the link is XGBoost's `f32` sigmoid or
//! softmax. The base score is stored as a probability (1.7 and 2.x as `"5E-1"`, 3.1+ as a list
//! such as `"[5E-1]"`) and becomes a margin through the objective's inverse link, in `f32`, as
//! XGBoost's `ProbToMargin` computes it.
//!
//! | objective | tabship |
//! |---|---|
//! | `reg:squarederror` | regression, identity link |
//! | `binary:logistic` | two classes, logistic link (`predict_proba`) |
//! | `binary:logitraw` | regression of the raw margin (what `Booster.predict` returns) |
//! | `multi:softprob`, `multi:softmax` | `num_class` classes, softmax link |
//!
//! A model trained with early stopping (`attributes.best_iteration`) keeps the trees of its best
//! iteration and those before, as the scikit-learn wrappers' `predict` uses them
//! (`training.hyperparameters` records `n_trees` and `n_trees_in_file`).
//!
//! Refused, naming the field: other objectives, the `gblinear` and `dart` boosters (dart scales
//! trees by weights at prediction), multi-target and vector-leaf trees, categories beyond
//! tabship's limits.

mod json;
#[cfg(test)]
mod tests;
mod trees;

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;
use tabship::model::{Combination, LEAF, Link, TreeEnsemble, TreeSpec};
use tabship::{ParamValue, Task};

use self::json::Field;
use self::trees::TreeFacts;
use crate::{Error, FeatureKind, Imported, ModelFeature, Result};

/// Reads an XGBoost model file, JSON or UBJSON (told apart by their content).
pub fn read_file(path: &Path) -> Result<Imported> {
    read_bytes(&crate::model_file::read(path, "model file")?)
}

/// Reads an XGBoost model from the bytes of a JSON or UBJSON file.
pub fn read_bytes(bytes: &[u8]) -> Result<Imported> {
    let document = if is_json(bytes) {
        serde_json::from_slice(&non_finite_as_null(bytes)).map_err(|e| Error::Syntax {
            format: "JSON",
            message: e.to_string(),
        })?
    } else {
        crate::ubjson::parse(bytes)?
    };
    from_document(&document)
}

/// XGBoost's JSON writer prints a non-finite float as the bare words `NaN`, `Infinity` or
/// `-Infinity` (1.7 stores NaN as the `split_conditions` of categorical nodes), which JSON does
/// not allow: outside strings they become `null`, which every field that must hold a number
/// then refuses by name, and the categorical nodes never read.
fn non_finite_as_null(bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    const WORDS: [&[u8]; 3] = [b"-Infinity", b"Infinity", b"NaN"];
    let mut out: Option<Vec<u8>> = None;
    let (mut in_string, mut escaped, mut i) = (false, false, 0);
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
        } else if b == b'"' {
            in_string = true;
        } else if let Some(word) = WORDS.iter().find(|w| bytes[i..].starts_with(w)) {
            let out = out.get_or_insert_with(|| bytes[..i].to_vec());
            out.extend_from_slice(b"null");
            i += word.len();
            continue;
        }
        if let Some(out) = out.as_mut() {
            out.push(b);
        }
        i += 1;
    }
    match out {
        Some(v) => std::borrow::Cow::Owned(v),
        None => std::borrow::Cow::Borrowed(bytes),
    }
}

/// JSON opens its object with `{` then (after spaces) `"` or `}`; UBJSON's `{` is followed by
/// the marker of a key's length.
fn is_json(bytes: &[u8]) -> bool {
    let mut rest = bytes.iter().skip_while(|b| b.is_ascii_whitespace());
    rest.next() == Some(&b'{')
        && matches!(
            rest.find(|b| !b.is_ascii_whitespace()),
            Some(b'"') | Some(b'}')
        )
}

/// The objective's task, link and number of classes.
struct Objective {
    name: String,
    task: Task,
    link: Link,
    n_classes: Option<usize>,
}

fn objective(learner: &Field<'_>, num_class: i64) -> Result<Objective> {
    let field = learner.get("objective")?.get("name")?;
    let name = field.str()?.to_owned();
    let classes = || -> Result<usize> {
        usize::try_from(num_class)
            .ok()
            .filter(|&k| (2..=tabship::artifact::limits::MAX_CLASSES).contains(&k))
            .ok_or_else(|| {
                Error::field(
                    "learner.learner_model_param.num_class",
                    "2 to 100000 classes",
                    num_class.to_string(),
                )
            })
    };
    let (task, link, n_classes) = match name.as_str() {
        "reg:squarederror" => (Task::Regression, Link::Identity, None),
        "binary:logitraw" => (Task::Regression, Link::Identity, None),
        "binary:logistic" => (Task::Classification, Link::Logistic, Some(2)),
        "multi:softprob" | "multi:softmax" => {
            (Task::Classification, Link::Softmax, Some(classes()?))
        }
        other => {
            return Err(Error::unsupported(
                format!("objective `{other}` ({})", field.path),
                "supported: reg:squarederror, binary:logistic, binary:logitraw, \
                 multi:softprob, multi:softmax",
            ));
        }
    };
    Ok(Objective {
        name,
        task,
        link,
        n_classes,
    })
}

/// The base score as stored: `"5E-1"` (1.7, 2.x) or `"[5E-1]"`, `"[1E0,2E0]"` (3.1+), each
/// value read directly as `f32` (XGBoost writes the shortest text of its `f32`).
fn base_scores(field: &Field<'_>) -> Result<Vec<f32>> {
    let text = field.str()?.trim();
    let inner = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text);
    inner
        .split(',')
        .map(|v| v.trim().parse::<f32>().ok().filter(|x| x.is_finite()))
        .collect::<Option<Vec<f32>>>()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| field.error("finite numbers such as \"5E-1\" or \"[5E-1]\""))
}

/// XGBoost's `common::Logit` (`-logf(1.0f / x - 1.0f)`), the logistic objective's
/// `ProbToMargin`, in `f32`.
fn logit_f32(p: f32) -> f32 {
    -((1.0_f32 / p - 1.0_f32).ln())
}

/// Reads a parsed model document.
pub fn from_document(document: &Value) -> Result<Imported> {
    let root = Field::root(document);
    let version = match root.get_opt("version")? {
        Some(v) => {
            let items = v.array()?;
            let parts: Result<Vec<String>> = (0..items.len())
                .map(|i| v.int_at(items, i).map(|x| x.to_string()))
                .collect();
            Some(parts?.join("."))
        }
        None => None,
    };
    let learner = root.get("learner")?;
    let params = learner.get("learner_model_param")?;
    let num_class = params.get("num_class")?.int()?;
    if let Some(targets) = params.get_opt("num_target")? {
        if targets.int()? > 1 {
            return Err(Error::unsupported(
                format!("{} = {}", targets.path, targets.int()?),
                "multi-target models are not supported",
            ));
        }
    }
    let num_feature = params.get("num_feature")?;
    let n_features = usize::try_from(num_feature.int()?)
        .ok()
        .filter(|&n| (1..=tabship::artifact::limits::MAX_COLUMNS).contains(&n))
        .ok_or_else(|| num_feature.error("a feature count from 1 to 100000"))?;
    let objective = objective(&learner, num_class)?;
    let booster = learner.get("gradient_booster")?;
    let booster_name = booster.get("name")?;
    match booster_name.str()? {
        "gbtree" => {}
        "dart" => {
            return Err(Error::unsupported(
                format!("booster `dart` ({})", booster_name.path),
                "dart scales every tree by its `weight_drop` at prediction; import a gbtree model",
            ));
        }
        other => {
            return Err(Error::unsupported(
                format!("booster `{other}` ({})", booster_name.path),
                "only tree boosters (`gbtree`) are supported",
            ));
        }
    }
    let model = booster.get("model")?;
    let trees_field = model.get("trees")?;
    let tree_items = trees_field.array()?;
    if tree_items.is_empty() || tree_items.len() > tabship::artifact::limits::MAX_TREES {
        return Err(trees_field.error("1 to 100000 trees"));
    }
    let info_field = model.get("tree_info")?;
    let info_items = info_field.array_of(tree_items.len())?;
    let groups = objective
        .n_classes
        .filter(|_| objective.link == Link::Softmax)
        .unwrap_or(1);
    if groups > tree_items.len() {
        return Err(trees_field.error(&format!("at least one tree per class ({groups})")));
    }
    let n_used = trees_used(&learner, &model, groups, tree_items.len())?;
    let mut facts = TreeFacts::default();
    // Trees per output group, each group in file order: XGBoost adds tree `t` to group
    // `tree_info[t]`, so regrouping keeps every group's order of additions.
    let mut by_group: Vec<Vec<TreeSpec>> = vec![Vec::new(); groups];
    for t in 0..n_used {
        let group = info_field.int_at(info_items, t)?;
        let group = usize::try_from(group)
            .ok()
            .filter(|&g| g < groups)
            .ok_or_else(|| {
                Error::field(
                    format!("{}[{t}]", info_field.path),
                    format!("an output group below {groups}"),
                    group.to_string(),
                )
            })?;
        let tree = trees_field.at(t)?;
        by_group[group].push(trees::convert(&tree, n_features, &mut facts)?);
    }
    let rounds = by_group[0].len();
    if by_group.iter().any(|g| g.len() != rounds) {
        return Err(Error::field(
            info_field.path.clone(),
            "the same number of trees for every class",
            format!(
                "{:?} trees per class",
                by_group.iter().map(Vec::len).collect::<Vec<_>>()
            ),
        ));
    }
    let base_field = params.get("base_score")?;
    let stored = base_scores(&base_field)?;
    let margins: Vec<f32> = match objective.name.as_str() {
        "binary:logistic" => stored
            .iter()
            .map(|&p| {
                if p > 0.0 && p < 1.0 {
                    Ok(logit_f32(p))
                } else {
                    Err(base_field.error("a probability in (0, 1) for binary:logistic"))
                }
            })
            .collect::<Result<_>>()?,
        _ => stored.clone(),
    };
    let margins = match margins.len() {
        1 => vec![margins[0]; groups],
        n if n == groups => margins,
        n => {
            return Err(base_field.error(&format!("1 or {groups} values, not {n}")));
        }
    };
    // One base score for every group, or per-class base scores as a first round of one-leaf
    // trees added to a base of 0 (0 + b is b exactly, so the f32 sums are XGBoost's).
    let (base, mut trees) = if margins.iter().all(|m| m.to_bits() == margins[0].to_bits()) {
        (f64::from(margins[0]), Vec::new())
    } else {
        (0.0, margins.iter().map(|&m| constant_tree(m)).collect())
    };
    for r in 0..rounds {
        for group in &mut by_group {
            trees.push(std::mem::take(&mut group[r]));
        }
    }
    let features = features(&learner, &model, n_features, &facts)?;
    let ensemble = TreeEnsemble::new(objective.task, trees)
        .with_combination(Combination::Sum {
            base_score: base,
            link: objective.link,
        })
        .with_features_f32(true)
        .with_accumulate_f32(true);
    let mut hyperparameters = BTreeMap::new();
    hyperparameters.insert("objective".into(), ParamValue::Text(objective.name.clone()));
    hyperparameters.insert("booster".into(), ParamValue::Text("gbtree".into()));
    hyperparameters.insert("n_trees".into(), ParamValue::Int(n_used as i64));
    if n_used < tree_items.len() {
        hyperparameters.insert(
            "n_trees_in_file".into(),
            ParamValue::Int(tree_items.len() as i64),
        );
    }
    hyperparameters.insert(
        "base_score".into(),
        ParamValue::Text(base_field.str()?.to_owned()),
    );
    if let Some(k) = objective.n_classes.filter(|&k| k > 2) {
        hyperparameters.insert("num_class".into(), ParamValue::Int(k as i64));
    }
    Ok(Imported {
        library: "xgboost",
        library_version: version,
        algorithm: format!("xgboost gbtree {}", objective.name),
        features,
        task: objective.task,
        n_classes: objective.n_classes,
        model: ensemble,
        hyperparameters,
    })
}

/// How many of the file's `n_trees` trees predict: all of them, or, when the model was trained
/// with early stopping (`attributes.best_iteration`), those of the first `best_iteration + 1`
/// iterations, as the scikit-learn wrappers' `predict` and `predict_proba` use them. An iteration
/// holds `num_parallel_tree` trees per output group.
fn trees_used(
    learner: &Field<'_>,
    model: &Field<'_>,
    groups: usize,
    n_trees: usize,
) -> Result<usize> {
    let Some(best) = learner
        .get_opt("attributes")?
        .map(|a| a.get_opt("best_iteration"))
        .transpose()?
        .flatten()
    else {
        return Ok(n_trees);
    };
    let parallel = match model
        .get("gbtree_model_param")?
        .get_opt("num_parallel_tree")?
    {
        Some(p) => usize::try_from(p.int()?)
            .ok()
            .filter(|&p| p >= 1)
            .ok_or_else(|| p.error("1 or more trees per iteration"))?,
        None => 1,
    };
    let iterations = usize::try_from(best.int()?)
        .ok()
        .and_then(|b| b.checked_add(1))
        .ok_or_else(|| best.error("an iteration number"))?;
    Ok(iterations
        .saturating_mul(parallel)
        .saturating_mul(groups)
        .min(n_trees))
}

/// A one-leaf tree holding `value`.
fn constant_tree(value: f32) -> TreeSpec {
    TreeSpec {
        feature: tabship::artifact::packed::PackedU32(vec![0]),
        threshold: tabship::artifact::packed::PackedF64(vec![0.0]),
        left: tabship::artifact::packed::PackedU32(vec![LEAF]),
        right: tabship::artifact::packed::PackedU32(vec![0]),
        leaf_values: tabship::artifact::packed::PackedF64(vec![f64::from(value)]),
        ..TreeSpec::default()
    }
}

/// The model's features: names and types from `feature_names` and `feature_types` when
/// present (`"c"` is categorical), categorical too where a tree splits by category, and the
/// categories in code order from the `cats` container (3.1+) when present.
fn features(
    learner: &Field<'_>,
    model: &Field<'_>,
    n: usize,
    facts: &TreeFacts,
) -> Result<Vec<ModelFeature>> {
    let names: Vec<Option<String>> = match learner.get_opt("feature_names")? {
        Some(f) if !f.array()?.is_empty() => {
            let items = f.array_of(n)?;
            items
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    v.as_str().map(|s| Some(s.to_owned())).ok_or_else(|| {
                        Error::field(format!("{}[{i}]", f.path), "a string", v.to_string())
                    })
                })
                .collect::<Result<_>>()?
        }
        _ => vec![None; n],
    };
    let mut categorical = vec![false; n];
    if let Some(f) = learner.get_opt("feature_types")? {
        let items = f.array()?;
        if !items.is_empty() {
            let items = f.array_of(n)?;
            for (i, v) in items.iter().enumerate() {
                categorical[i] = v.as_str() == Some("c");
            }
        }
    }
    for &c in &facts.categorical_features {
        categorical[c as usize] = true;
    }
    if let Some(&f) = facts
        .numeric_features
        .iter()
        .find(|&&f| categorical[f as usize])
    {
        return Err(Error::unsupported(
            format!("feature {f}"),
            "split both by threshold and by category",
        ));
    }
    let categories = match model.get_opt("cats")? {
        Some(cats) => stored_categories(&cats, n)?,
        None => vec![None; n],
    };
    Ok(names
        .into_iter()
        .zip(categorical)
        .zip(categories)
        .map(|((name, is_cat), cats)| ModelFeature {
            name,
            kind: if is_cat {
                FeatureKind::Categorical { categories: cats }
            } else {
                FeatureKind::Numeric
            },
        })
        .collect())
}

/// The categories XGBoost ≥ 3.1 stores per feature (`cats.enc`): strings as `offsets` into the
/// bytes of `values`, or numbers as a typed `values` array. Features without categories give
/// `None`.
fn stored_categories(cats: &Field<'_>, n: usize) -> Result<Vec<Option<Vec<String>>>> {
    let Some(enc) = cats.get_opt("enc")? else {
        return Ok(vec![None; n]);
    };
    let items = enc.array()?;
    if items.is_empty() {
        return Ok(vec![None; n]);
    }
    enc.array_of(n)?;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let column = enc.at(i)?;
        let values = column.get("values")?;
        let value_items = values.array()?;
        if value_items.is_empty() {
            out.push(None);
            continue;
        }
        let categories = match column.get_opt("offsets")? {
            Some(offsets) => {
                let offset_items = offsets.array()?;
                let bytes: Vec<u8> = (0..value_items.len())
                    // Written as signed bytes (`I8Array`): the UTF-8 bytes wrap around.
                    .map(|j| values.int_at(value_items, j).map(|b| b as u8))
                    .collect::<Result<_>>()?;
                let mut list = Vec::with_capacity(offset_items.len().saturating_sub(1));
                for j in 1..offset_items.len() {
                    let (s, e) = (
                        offsets.int_at(offset_items, j - 1)?,
                        offsets.int_at(offset_items, j)?,
                    );
                    let text = usize::try_from(s)
                        .ok()
                        .zip(usize::try_from(e).ok())
                        .filter(|(s, e)| s <= e && *e <= bytes.len())
                        .and_then(|(s, e)| std::str::from_utf8(&bytes[s..e]).ok())
                        .ok_or_else(|| {
                            Error::field(
                                format!("{}[{j}]", offsets.path),
                                "offsets of UTF-8 categories",
                                format!("{s}..{e}"),
                            )
                        })?;
                    list.push(text.to_owned());
                }
                list
            }
            None => value_items
                .iter()
                .enumerate()
                .map(|(j, v)| {
                    v.as_f64().map(tabship::number_as_category).ok_or_else(|| {
                        Error::field(format!("{}[{j}]", values.path), "a number", v.to_string())
                    })
                })
                .collect::<Result<_>>()?,
        };
        out.push(Some(categories));
    }
    Ok(out)
}
