//! A LightGBM text model as an [`Imported`] model: its features (numeric, or categorical with the
//! category ↔ code mapping LightGBM reads) and its trees converted with that mapping.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use tabship::ParamValue;
use tabship::artifact::limits::MAX_CATEGORIES;

use super::convert::{FeatureSource, convert, number_text};
use super::model::{FeatureInfo, LightgbmModel, Objective};
use super::text::parse;
use crate::{Error, FeatureKind, Imported, ModelFeature, Result};

/// Reads a LightGBM text model file (`Booster.save_model`).
pub fn read_file(path: &Path) -> Result<Imported> {
    read_bytes(&crate::model_file::read(path, "LightGBM text")?)
}

/// Reads a LightGBM text model from a file's bytes.
pub fn read_bytes(bytes: &[u8]) -> Result<Imported> {
    let text = std::str::from_utf8(bytes).map_err(|e| Error::Syntax {
        format: "LightGBM text",
        message: format!("not UTF-8 text ({e})"),
    })?;
    from_model(&parse(text)?)
}

/// The imported form of a parsed model.
pub fn from_model(model: &LightgbmModel) -> Result<Imported> {
    let listed = largest_listed(model);
    // Feature → its position among the categorical features (pandas' lists follow that order).
    let categorical: HashMap<usize, usize> = categorical_features(model, &listed)
        .into_iter()
        .enumerate()
        .map(|(j, f)| (f, j))
        .collect();
    let categories: Vec<Option<Vec<String>>> = (0..model.feature_names.len())
        .map(|f| {
            categorical
                .get(&f)
                .map(|&j| categories_of(model, f, j, listed.get(&f).copied()))
                .transpose()
        })
        .collect::<Result<_>>()?;
    let sources: Vec<FeatureSource<'_>> = categories
        .iter()
        .map(|c| match c {
            Some(list) => FeatureSource::Categorical(list),
            None => FeatureSource::Numeric,
        })
        .collect();
    let converted = convert(model, &sources)?;
    let features = model
        .feature_names
        .iter()
        .zip(&categories)
        .map(|(name, c)| ModelFeature {
            name: Some(name.clone()),
            kind: match c {
                Some(list) => FeatureKind::Categorical {
                    categories: Some(list.clone()),
                },
                None => FeatureKind::Numeric,
            },
        })
        .collect();
    Ok(Imported {
        library: "lightgbm",
        library_version: None,
        algorithm: if model.average_output {
            "lightgbm rf".to_owned()
        } else {
            "lightgbm gbdt".to_owned()
        },
        features,
        task: converted.task,
        n_classes: converted.n_classes,
        model: converted.ensemble,
        hyperparameters: hyperparameters(model),
    })
}

/// Per feature split categorically, the largest code its splits list (one pass over the trees).
fn largest_listed(model: &LightgbmModel) -> HashMap<usize, i64> {
    let mut largest: HashMap<usize, i64> = HashMap::new();
    for tree in &model.trees {
        for s in &tree.splits {
            if let Some(c) = s.cat_set {
                let words = tree.category_words(c);
                let top = words.iter().rposition(|&w| w != 0).map_or(-1, |w| {
                    (w * 32 + 31 - words[w].leading_zeros() as usize) as i64
                });
                let entry = largest.entry(s.feature).or_insert(-1);
                *entry = (*entry).max(top);
            }
        }
    }
    largest
}

/// The categorical features, in increasing order: as the parameters list them, else those with
/// categorical splits or a categorical `feature_infos` entry.
fn categorical_features(model: &LightgbmModel, listed: &HashMap<usize, i64>) -> Vec<usize> {
    if let Some(c) = &model.categorical_features {
        return c.clone();
    }
    (0..model.feature_names.len())
        .filter(|f| {
            matches!(model.feature_infos[*f], FeatureInfo::Categorical(_)) || listed.contains_key(f)
        })
        .collect()
}

/// Categorical feature `f` (the `j`-th categorical one, whose splits list codes up to `listed`)'s
/// categories in LightGBM's code order:
/// pandas' categories when the model carries them, else the codes themselves as text (`0`, `1`,
/// ... up to the largest code training saw or a split lists), which is how a column of integer
/// codes spells them.
fn categories_of(
    model: &LightgbmModel,
    f: usize,
    j: usize,
    listed: Option<i64>,
) -> Result<Vec<String>> {
    if let Some(list) = model.pandas_categorical.as_ref().and_then(|p| p.get(j)) {
        return Ok(list
            .iter()
            .map(|c| match c {
                serde_json::Value::String(s) => s.clone(),
                other => number_text(other).unwrap_or_else(|| other.to_string()),
            })
            .collect());
    }
    let seen = match &model.feature_infos[f] {
        FeatureInfo::Categorical(codes) => codes.iter().copied().max().unwrap_or(-1),
        _ => -1,
    };
    let listed = listed.unwrap_or(-1);
    let largest = seen.max(listed);
    if largest >= MAX_CATEGORIES as i64 {
        return Err(Error::unsupported(
            format!(
                "LightGBM categorical feature `{}` with category code {largest}",
                model.feature_names[f]
            ),
            format!("a column has at most {MAX_CATEGORIES} categories"),
        ));
    }
    Ok((0..=largest).map(|c| c.to_string()).collect())
}

/// What `training.hyperparameters` records of the model.
fn hyperparameters(model: &LightgbmModel) -> BTreeMap<String, ParamValue> {
    let mut h = BTreeMap::new();
    let objective = match &model.objective {
        Some(Objective::Identity { name }) => name.clone(),
        Some(Objective::Binary { sigmoid }) => format!("binary sigmoid:{sigmoid}"),
        Some(Objective::Multiclass { num_class }) => format!("multiclass num_class:{num_class}"),
        Some(Objective::Other { text }) => text.clone(),
        None => String::new(),
    };
    h.insert("objective".into(), ParamValue::Text(objective));
    h.insert("n_trees".into(), ParamValue::Int(model.trees.len() as i64));
    h.insert(
        "num_tree_per_iteration".into(),
        ParamValue::Int(model.num_tree_per_iteration as i64),
    );
    h.insert(
        "average_output".into(),
        ParamValue::Bool(model.average_output),
    );
    h
}
