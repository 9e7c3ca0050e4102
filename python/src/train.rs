//! `tabship.train`: fits a pipeline from a CSV path or from columns prepared by
//! `tabship/_train.py`, with the CLI's options.

use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use tabship_train::csv_input::{CsvOptions, TextEncoding, parse_delimiter};
use tabship_train::data::{KindOverrides, read_csv_with};
use tabship_train::{
    Choice, ClassWeight, MaxFeatures, MinFrequency, ThresholdRule, TrainOptions, cross_validate,
    parse_choice, parse_target_transform, train,
};

use crate::columns::batch_from_entries;
use crate::errors::train_err;
use crate::gil::without_gil;
use crate::pipeline::PyPipeline;

fn invalid(option: &'static str, reason: String) -> tabship_train::Error {
    tabship_train::Error::InvalidOption { option, reason }
}

/// An option's text with `_` read as `-` (`random_forest` is `random-forest`).
fn choice(options: &Bound<'_, PyDict>, key: &str) -> PyResult<Option<String>> {
    options
        .get_item(key)?
        .filter(|v| !v.is_none())
        .map(|v| v.str().map(|s| s.to_string().replace('_', "-")))
        .transpose()
}

/// A closed-set option (`model`, `task`, `encoding`, ...) parsed through the same
/// [`parse_choice`] as the CLI's flags.
fn parsed<T: Choice>(py: Python<'_>, o: &Bound<'_, PyDict>, key: &str) -> PyResult<Option<T>> {
    choice(o, key)?
        .map(|text| wrap(py, parse_choice::<T>(&text)))
        .transpose()
}

fn get<T>(options: &Bound<'_, PyDict>, key: &str) -> PyResult<Option<T>>
where
    T: for<'a, 'py> FromPyObject<'a, 'py>,
{
    match options.get_item(key)? {
        Some(v) if !v.is_none() => match v.extract::<T>() {
            Ok(x) => Ok(Some(x)),
            Err(_) => Err(pyo3::exceptions::PyTypeError::new_err(format!(
                "option `{key}`: expected {}, got {}",
                std::any::type_name::<T>()
                    .rsplit("::")
                    .next()
                    .unwrap_or("a value"),
                crate::values::describe(&v)
            ))),
        },
        _ => Ok(None),
    }
}

fn wrap<T>(py: Python<'_>, r: Result<T, tabship_train::Error>) -> PyResult<T> {
    r.map_err(train_err(py))
}

/// `TrainOptions` from the keyword arguments of `tabship.train` (the CLI's options, with `_`
/// for `-`). Validated as the CLI validates them.
fn options(py: Python<'_>, o: &Bound<'_, PyDict>) -> PyResult<TrainOptions> {
    let target: String = get(o, "target")?.ok_or_else(|| {
        train_err(py)(invalid(
            "target",
            "the target column is required".to_owned(),
        ))
    })?;
    let mut t = TrainOptions::new(target);
    t.model = parsed(py, o, "model")?;
    t.task = parsed(py, o, "task")?;
    t.kinds = KindOverrides {
        categorical: get(o, "categorical")?.unwrap_or_default(),
        numeric: get(o, "numeric")?.unwrap_or_default(),
    };
    t.na_values = tabship::NaValues::new(
        get(o, "keep_default_na")?.unwrap_or(true),
        get::<Vec<String>>(o, "na_values")?.unwrap_or_default(),
    );
    let e = &mut t.encoders;
    if let Some(m) = o.get_item("min_frequency")?.filter(|v| !v.is_none()) {
        let text = m.str()?.to_string();
        e.min_frequency = wrap(py, text.parse::<MinFrequency>())?;
    }
    if let Some(x) = parsed(py, o, "encoding")? {
        e.categorical_encoding = x;
    }
    if let Some(x) = parsed(py, o, "categorical_missing")? {
        e.categorical_missing = x;
    }
    if let Some(x) = parsed(py, o, "impute")? {
        e.numeric_impute = Some(x);
    }
    if let Some(x) = get(o, "fill_value")? {
        e.fill_value = x;
    }
    if let Some(b) = get(o, "missing_indicator")? {
        e.missing_indicator = b;
    }
    e.scale = get(o, "scale")?;
    let l = &mut t.linear;
    if let Some(x) = get(o, "alpha")? {
        l.alpha = x;
    }
    if let Some(x) = get(o, "l1_ratio")? {
        l.l1_ratio = x;
    }
    if let Some(x) = get(o, "tol")? {
        l.tol = x;
    }
    if let Some(x) = get(o, "max_iter")? {
        l.max_iter = x;
    }
    l.solver = get(o, "solver")?;
    let tr = &mut t.trees;
    if let Some(x) = get(o, "n_trees")? {
        tr.n_trees = x;
    }
    tr.max_depth = get(o, "max_depth")?;
    if let Some(x) = get(o, "min_samples_leaf")? {
        tr.min_samples_leaf = x;
        t.boosting.min_samples_leaf = x;
    }
    if let Some(x) = get(o, "min_samples_split")? {
        tr.min_samples_split = x;
    }
    if let Some(m) = o.get_item("max_features")?.filter(|v| !v.is_none()) {
        tr.max_features = wrap(py, m.str()?.to_string().parse::<MaxFeatures>())?;
    }
    if let Some(x) = parsed(py, o, "tree_learner")? {
        tr.learner = x;
    }
    if let Some(x) = get(o, "max_bins")? {
        tr.max_bins = x;
    }
    if let Some(x) = get(o, "threads")? {
        tr.threads = x;
    }
    if tr.threads == 0 {
        return Err(train_err(py)(invalid(
            "threads",
            "must be at least 1".to_owned(),
        )));
    }
    let b = &mut t.boosting;
    if let Some(x) = get(o, "learning_rate")? {
        b.learning_rate = x;
    }
    if let Some(x) = get(o, "max_leaves")? {
        b.max_leaves = x;
    }
    if let Some(x) = get(o, "min_child_weight")? {
        b.min_child_weight = x;
    }
    if let Some(x) = get(o, "l2")? {
        b.l2 = x;
    }
    b.early_stopping_rounds = get(o, "early_stopping_rounds")?;
    if let Some(x) = get(o, "validation_fraction")? {
        b.validation_fraction = x;
    }
    if let Some(x) = get(o, "max_classes")? {
        t.max_classes = x;
    }
    if let Some(x) = get(o, "test_fraction")? {
        t.test_fraction = x;
    }
    if let Some(x) = get(o, "seed")? {
        t.seed = x;
        t.trees.seed = x;
    }
    t.name = get(o, "name")?;
    if let Some(v) = get(o, "version")? {
        t.version = v;
    }
    t.class_weight = match o.get_item("class_weight")?.filter(|v| !v.is_none()) {
        None => None,
        Some(v) => match v.cast::<PyDict>() {
            Ok(weights) => {
                let mut text = Vec::new();
                for (label, weight) in weights.iter() {
                    let weight: f64 = weight.extract().map_err(|_| {
                        pyo3::exceptions::PyTypeError::new_err(format!(
                            "option `class_weight`: class `{}` needs a number, got {}",
                            label.str().map(|s| s.to_string()).unwrap_or_default(),
                            crate::values::describe(&weight)
                        ))
                    })?;
                    text.push(format!("{}={weight}", label.str()?));
                }
                Some(wrap(py, text.join(",").parse::<ClassWeight>())?)
            }
            Err(_) => Some(wrap(py, v.str()?.to_string().parse::<ClassWeight>())?),
        },
    };
    if let Some(v) = o.get_item("threshold")?.filter(|v| !v.is_none()) {
        t.threshold = Some(wrap(py, v.str()?.to_string().parse::<ThresholdRule>())?);
    }
    if let Some(v) = o.get_item("positive_class")?.filter(|v| !v.is_none()) {
        t.positive_class = Some(v.str()?.to_string());
    }
    if let Some(v) = choice(o, "target_transform")? {
        t.target_transform = wrap(py, parse_target_transform(&v))?;
    }
    wrap(py, t.validate())?;
    Ok(t)
}

/// Raises each of the fit's warnings as a `UserWarning` at the caller's line.
pub(crate) fn warn_all(py: Python<'_>, warnings: Vec<String>) -> PyResult<()> {
    for warning in warnings {
        let message = std::ffi::CString::new(warning.replace('\0', " "))?;
        PyErr::warn(
            py,
            &py.get_type::<pyo3::exceptions::PyUserWarning>(),
            &message,
            2,
        )?;
    }
    Ok(())
}

fn fit(
    py: Python<'_>,
    data: tabship::Batch,
    options: TrainOptions,
    cv: Option<usize>,
) -> PyResult<PyPipeline> {
    let (pipeline, summary, warnings) = without_gil(py, || -> tabship_train::Result<_> {
        let summary = cv.map(|k| cross_validate(&data, &options, k)).transpose()?;
        let trained = train(&data, &options)?;
        // Reload from the bytes, so the object is exactly what `save` writes (and has a header).
        let pipeline = tabship::Pipeline::from_bytes(&trained.pipeline.to_bytes()?)?;
        Ok((pipeline, summary, trained.report.warnings))
    })
    .map_err(train_err(py))?;
    warn_all(py, warnings)?;
    let cv = match summary {
        Some(summary) => {
            let out = PyDict::new(py);
            for (metric, (mean, std)) in summary {
                let entry = PyDict::new(py);
                entry.set_item("mean", mean)?;
                entry.set_item("std", std)?;
                out.set_item(metric, entry)?;
            }
            Some(out.unbind())
        }
        None => None,
    };
    PyPipeline::wrap(py, pipeline, cv)
}

/// The CSV dialect of `tabship.train` on a path: `delimiter`, `file_encoding`, `decimal` (as
/// the CLI's `--delimiter`, `--file-encoding`, `--decimal`) and the NA policy of `options`.
fn csv_options(
    py: Python<'_>,
    o: &Bound<'_, PyDict>,
    options: &TrainOptions,
) -> PyResult<CsvOptions> {
    let mut csv = CsvOptions {
        na_values: options.na_values.clone(),
        ..CsvOptions::default()
    };
    if let Some(d) = get::<String>(o, "delimiter")? {
        csv.delimiter = Some(wrap(py, parse_delimiter(&d))?);
    }
    if let Some(e) = get::<String>(o, "file_encoding")? {
        csv.encoding = wrap(py, e.parse::<TextEncoding>())?;
    }
    csv.decimal_comma = match get::<String>(o, "decimal")?.as_deref() {
        None | Some(".") => false,
        Some(",") => true,
        Some(other) => {
            return Err(train_err(py)(invalid(
                "decimal",
                format!("expected `.` or `,`, got `{other}`"),
            )));
        }
    };
    Ok(csv)
}

/// Fits from a CSV file, reading it exactly as `tabship train` does.
#[pyfunction]
pub(crate) fn _train_csv(
    py: Python<'_>,
    path: PathBuf,
    options_dict: Bound<'_, PyDict>,
    cv: Option<usize>,
) -> PyResult<PyPipeline> {
    let options = options(py, &options_dict)?;
    let csv = csv_options(py, &options_dict, &options)?;
    let data =
        without_gil(py, || read_csv_with(&path, &csv, &options.kinds)).map_err(train_err(py))?;
    fit(py, data, options, cv)
}

/// Fits from column entries of `tabship._convert.to_columns` with their kinds
/// (`[(name, "numeric"|"categorical")]`, overrides already applied).
#[pyfunction]
pub(crate) fn _train_columns(
    py: Python<'_>,
    entries: Bound<'_, PyList>,
    kinds: Vec<(String, String)>,
    options_dict: Bound<'_, PyDict>,
    cv: Option<usize>,
) -> PyResult<PyPipeline> {
    let mut options = options(py, &options_dict)?;
    options.kinds = KindOverrides::default();
    let kind_of = |name: &str| {
        kinds.iter().find(|(n, _)| n == name).map(|(_, k)| {
            if k == "numeric" {
                tabship::ColumnKind::Numeric
            } else {
                tabship::ColumnKind::Categorical
            }
        })
    };
    let data = batch_from_entries(py, &entries, kind_of, &options.na_values)?;
    fit(py, data, options, cv)
}
