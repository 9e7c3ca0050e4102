//! Training end to end: target, split, encoders, model, export, holdout metrics.

use std::collections::BTreeMap;
use std::time::Instant;

use ndarray::Array2;
use tabship::encode::ColumnEncoderSpec;
use tabship::{
    Batch, ColumnKind, ColumnSpec, ColumnValues, DecisionThreshold, FeatureEncoder, Model,
    ParamValue, Pipeline, PipelineParts, Schema, TargetTransform, Task, TrainingInfo, Truth,
};

use crate::boost::{self, BoostSummary};
use crate::data::{convert_column, fingerprint};
use crate::encoders::fit_column;
use crate::hist::{self, Features};
use crate::imbalance::{choose_threshold, find_class};
use crate::linear::FittedRegressor;
use crate::logistic::FittedLogistic;
use crate::missing::{apply_na_values, numeric_except_texts};
use crate::options::{ModelKind, TrainOptions, TreeLearner};
use crate::split::{Split, k_fold, stratified_split, train_test_split};
use crate::target::{PreparedTarget, Target, prepare};
use crate::trees;
use crate::{Error, Result};

/// What training produced besides the pipeline.
#[derive(Debug, Clone)]
pub struct TrainReport {
    /// The task trained for.
    pub task: Task,
    /// The model fitted.
    pub model: ModelKind,
    /// Rows dropped because their target was missing.
    pub dropped_rows: usize,
    /// The split, as indices into the rows that have a target (`kept_rows`).
    pub split: Split,
    /// The rows of the data (0-based) that have a target, in order: `split` index `i` is data
    /// row `kept_rows[i]`.
    pub kept_rows: Vec<usize>,
    /// Holdout metrics (empty without a holdout).
    pub metrics: BTreeMap<String, f64>,
    /// Seconds spent fitting the final model (encoders included).
    pub fit_seconds: f64,
    /// Seconds spent capturing the drift profile on the training rows (predictions included).
    pub profile_seconds: f64,
    /// Things the user should know about the fit, one sentence each (for example a logistic
    /// regression that stopped at its iteration limit before converging).
    pub warnings: Vec<String>,
    /// Gradient boosting's rounds fitted and kept, and the validation loss when early stopping
    /// (`None` for other models).
    pub boosting: Option<BoostSummary>,
}

/// A trained pipeline and its report.
#[derive(Debug, Clone)]
pub struct Trained {
    /// The fitted pipeline, ready to save.
    pub pipeline: Pipeline,
    /// How it went.
    pub report: TrainReport,
}

/// Data made ready for fitting: features with their final kinds, and the target.
struct Prepared {
    features: Batch,
    target: PreparedTarget,
    model: ModelKind,
    dropped_rows: usize,
    fingerprint: String,
    /// Things the user should know about the data (a column numeric except for a few texts).
    warnings: Vec<String>,
}

/// Refuses an infinite number in any numeric column (features and target), as prediction does:
/// encoders and models would otherwise fit on it and fail far from the data.
fn reject_infinities(data: &Batch) -> Result<()> {
    for name in data.names() {
        if let Some(ColumnValues::Numeric(values)) = data.column(name) {
            if let Some(row) = values.iter().position(|v| v.is_infinite()) {
                return Err(tabship::Error::non_finite(name, values[row])
                    .at_row(row)
                    .into());
            }
        }
    }
    Ok(())
}

fn prepare_data(data: &Batch, options: &TrainOptions) -> Result<Prepared> {
    options.validate()?;
    reject_infinities(data)?;
    let target_values = data.column(&options.target).ok_or_else(|| Error::Target {
        column: options.target.clone(),
        reason: format!(
            "no such column in the data{} (columns: {})",
            crate::suggest::did_you_mean(&options.target, data.names()),
            data.names().join(", ")
        ),
    })?;
    let target = prepare(&options.target, target_values, options.task)?;
    check_class_count(&options.target, &target, target_values, options.max_classes)?;
    let model = options.model.unwrap_or(ModelKind::default_for(target.task));
    options.check_solver(model)?;
    options.validate_for(model, Some(target.task))?;
    if let (Some(transform), Target::Values(values)) = (options.target_transform, &target.target) {
        check_transformable(&options.target, transform, values, &target.rows)?;
    }
    if !model.supports(target.task) {
        return Err(Error::InvalidOption {
            option: "model",
            reason: format!(
                "`{model}` cannot do {task}: target `{}` is a {task} target (set --task to override)",
                options.target,
                task = target.task.name()
            ),
        });
    }
    let na = &options.na_values;
    let mut columns = Vec::new();
    let mut warnings = Vec::new();
    for name in data.names().iter().filter(|n| **n != options.target) {
        let values = data
            .column(name)
            .ok_or_else(|| Error::Data(format!("column `{name}` vanished")))?;
        let cleaned = apply_na_values(values, na);
        let values = cleaned.as_ref().unwrap_or(values);
        let values = if options.kinds.categorical.contains(name) {
            convert_column(name, values, ColumnKind::Categorical, na)?
        } else if options.kinds.numeric.contains(name) {
            convert_column(name, values, ColumnKind::Numeric, na)?
        } else {
            warnings.extend(numeric_except_texts(name, values, na));
            values.clone()
        };
        columns.push((name.clone(), values));
    }
    if columns.is_empty() {
        return Err(Error::Data(
            "the data has no feature columns besides the target".into(),
        ));
    }
    let features = Batch::new(columns)?;
    let dropped_rows = data.n_rows() - target.rows.len();
    let features = if dropped_rows > 0 {
        features.take(&target.rows)
    } else {
        features
    };
    Ok(Prepared {
        features,
        target,
        model,
        dropped_rows,
        fingerprint: fingerprint(data),
        warnings,
    })
}

/// Refuses a classification target with more than `max` classes: one class per value of a
/// continuous column (`--task classification` on prices) fits for minutes and predicts nothing
/// useful. The limit is an option, for the rare real target with that many labels.
fn check_class_count(
    name: &str,
    target: &PreparedTarget,
    values: &ColumnValues,
    max: usize,
) -> Result<()> {
    let Target::Classes { classes, .. } = &target.target else {
        return Ok(());
    };
    if classes.len() <= max {
        return Ok(());
    }
    let hint = match values {
        ColumnValues::Numeric(_) => {
            "a numeric target with that many values is usually continuous: use --task regression"
        }
        ColumnValues::Categorical(_) => "check that it is the column to predict",
    };
    Err(Error::Target {
        column: name.to_owned(),
        reason: format!(
            "{} distinct values would make {} classes, more than the limit of {max}; {hint}, or raise the limit with --max-classes",
            classes.len(),
            classes.len()
        ),
    })
}

/// Refuses targets outside the transform's domain, naming the first such row (1-based, as the
/// CLI counts data rows).
fn check_transformable(
    column: &str,
    transform: TargetTransform,
    values: &[f64],
    rows: &[usize],
) -> Result<()> {
    let TargetTransform::Log1p = transform else {
        return Ok(());
    };
    match values.iter().position(|&v| v <= -1.0) {
        Some(i) => Err(Error::Target {
            column: column.to_owned(),
            reason: format!(
                "--target-transform log1p needs values > -1, row {} has `{}`",
                rows[i] + 1,
                values[i]
            ),
        }),
        None => Ok(()),
    }
}

fn kind_of(values: &ColumnValues) -> ColumnKind {
    match values {
        ColumnValues::Numeric(_) => ColumnKind::Numeric,
        ColumnValues::Categorical(_) => ColumnKind::Categorical,
    }
}

fn has_missing(values: &ColumnValues) -> bool {
    match values {
        ColumnValues::Numeric(v) => v.iter().any(|x| x.is_nan()),
        ColumnValues::Categorical(v) => v.codes().contains(&tabship::MISSING_CODE),
    }
}

/// What [`fit_parts`] fitted.
struct Fitted {
    /// The pipeline parts, with empty metrics.
    parts: PipelineParts,
    /// The fit's warnings.
    warnings: Vec<String>,
    /// How boosting went (gradient boosting only).
    boosting: Option<BoostSummary>,
}

/// Fits encoders and model on `train` (a batch of training rows).
fn fit_parts(
    train: &Batch,
    target: &Target,
    rows: &[usize],
    model: ModelKind,
    options: &TrainOptions,
) -> Result<Fitted> {
    // Scaling changes nothing for trees; by default only linear models scale.
    let scale = options.encoders.scale.unwrap_or(!model.is_tree());
    let encoder_options = options.encoders.resolved_for(model);
    let mut schema_columns = Vec::new();
    let mut specs: Vec<ColumnEncoderSpec> = Vec::new();
    for name in train.names() {
        let values = train
            .column(name)
            .ok_or_else(|| Error::Data(format!("column `{name}` vanished")))?;
        schema_columns.push(ColumnSpec {
            name: name.clone(),
            kind: kind_of(values),
            nullable: has_missing(values),
        });
        specs.push(fit_column(values, &encoder_options, scale));
    }
    let schema = Schema::new(schema_columns)?.with_na_values(options.na_values.clone())?;
    let encoder = FeatureEncoder::new(schema.clone(), specs.clone())?;
    // The histogram learners bin the features straight from the batch, a few columns at a
    // time; the others encode the dense matrix when they fit.
    let dense = || -> Result<Array2<f64>> { Ok(encoder.encode_dense(train)?) };
    let features = Features::Encoded {
        encoder: &encoder,
        batch: train,
    };
    let mut warnings = Vec::new();
    let mut boosting = None;
    let (fitted_model, classes) = match target {
        Target::Classes { classes, y } => {
            let y: Vec<usize> = rows.iter().map(|&r| y[r]).collect();
            // Class weights (validated to be given only for models that take them).
            let weights = options
                .class_weight
                .as_ref()
                .map(|w| w.weights(classes, &y))
                .transpose()?;
            let fitted = if model == ModelKind::GradientBoosting {
                let boosted = boost::fit_classifier(
                    features,
                    &y,
                    classes.len(),
                    weights.as_deref(),
                    options,
                )?;
                boosting = Some(boosted.summary);
                Model::TreeEnsemble(boosted.ensemble)
            } else if model.is_tree() {
                let params = tree_params(options);
                Model::TreeEnsemble(match params.learner {
                    TreeLearner::Hist => {
                        hist::forest::fit_classifier(model, features, &y, classes.len(), &params)?
                    }
                    TreeLearner::Smartcore => {
                        trees::fit_classifier(model, &dense()?, &y, classes.len(), &params)?
                    }
                })
            } else {
                let fitted = FittedLogistic::fit_weighted(
                    &dense()?,
                    &y,
                    classes.len(),
                    &options.linear,
                    weights.as_deref(),
                )?;
                if !fitted.converged {
                    warnings.push(format!(
                        "logistic regression stopped at its iteration limit (max_iter {}) before \
                         converging (largest gradient component {:.3e}, tol {:e}); raise \
                         max_iter, tol or alpha, or keep feature scaling on",
                        options.linear.max_iter, fitted.largest_gradient, options.linear.tol
                    ));
                }
                Model::LogisticRegression(fitted.export())
            };
            (fitted, classes.clone())
        }
        Target::Values(values) => {
            let y: Vec<f64> = rows
                .iter()
                .map(|&r| match options.target_transform {
                    Some(t) => t.forward(values[r]),
                    None => values[r],
                })
                .collect();
            let fitted = if model == ModelKind::GradientBoosting {
                let boosted = boost::fit_regressor(features, &y, options)?;
                boosting = Some(boosted.summary);
                Model::TreeEnsemble(boosted.ensemble)
            } else if model.is_tree() {
                let params = tree_params(options);
                Model::TreeEnsemble(match params.learner {
                    TreeLearner::Hist => hist::forest::fit_regressor(model, features, &y, &params)?,
                    TreeLearner::Smartcore => trees::fit_regressor(model, &dense()?, &y, &params)?,
                })
            } else {
                Model::LinearRegression(
                    FittedRegressor::fit(model, &dense()?, &y, &options.linear)?.export(),
                )
            };
            (fitted, Vec::new())
        }
    };
    let parts = PipelineParts {
        schema,
        encoders: specs,
        task: match target {
            Target::Classes { .. } => Task::Classification,
            Target::Values(_) => Task::Regression,
        },
        classes,
        model: fitted_model,
        training: TrainingInfo::default(),
        metrics: BTreeMap::new(),
        drift_profile: None,
        decision_threshold: None,
        target_transform: match target {
            Target::Classes { .. } => None,
            Target::Values(_) => options.target_transform,
        },
    };
    Ok(Fitted {
        parts,
        warnings,
        boosting,
    })
}

/// Chooses the stored decision threshold by `options.threshold` on the `rows` held out (their
/// probabilities from the pipeline fitted on the other rows), or `None` without a rule.
fn decide_threshold(
    parts: &PipelineParts,
    features: &Batch,
    target: &Target,
    rows: &[usize],
    options: &TrainOptions,
) -> Result<Option<DecisionThreshold>> {
    let (Some(rule), Target::Classes { classes, y }) = (options.threshold, target) else {
        return Ok(None);
    };
    if classes.len() != 2 {
        return Err(Error::InvalidOption {
            option: "threshold",
            reason: format!(
                "a decision threshold needs two classes, the target has {} ({})",
                classes.len(),
                classes
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    let positive = match &options.positive_class {
        Some(text) => find_class("positive-class", classes, text)?,
        None => 1,
    };
    let threshold = if rule.needs_holdout() {
        let pipeline = Pipeline::from_parts(parts.clone())?;
        let proba = pipeline.predict_proba_batch(&features.take(rows))?;
        let scores: Vec<f64> = proba.column(positive).to_vec();
        let truth: Vec<bool> = rows.iter().map(|&r| y[r] == positive).collect();
        choose_threshold(rule, &truth, &scores)?
    } else {
        choose_threshold(rule, &[], &[])?
    };
    Ok(Some(DecisionThreshold {
        positive_class: classes[positive].clone(),
        threshold,
    }))
}

/// The tree settings with the run's seed.
fn tree_params(options: &TrainOptions) -> crate::options::TreeParams {
    crate::options::TreeParams {
        seed: options.seed,
        ..options.trees.clone()
    }
}

/// Metrics of `pipeline` on `rows` of the prepared data (none without rows).
fn evaluate(
    pipeline: &Pipeline,
    features: &Batch,
    target: &Target,
    rows: &[usize],
) -> Result<BTreeMap<String, f64>> {
    if rows.is_empty() {
        return Ok(BTreeMap::new());
    }
    let truth = match target {
        Target::Classes { y, .. } => Truth::Classes(rows.iter().map(|&r| y[r]).collect()),
        Target::Values(values) => Truth::Values(rows.iter().map(|&r| values[r]).collect()),
    };
    Ok(pipeline.evaluate(&features.take(rows), &truth)?.metrics())
}

/// Adds what the options resolved to on this data to the recorded hyperparameters: the weight
/// of every class, the positive class and the threshold chosen.
fn record_resolved(
    h: &mut BTreeMap<String, ParamValue>,
    parts: &PipelineParts,
    target: &Target,
    train_rows: &[usize],
    options: &TrainOptions,
) -> Result<()> {
    if let (Some(w), Target::Classes { classes, y }) = (&options.class_weight, target) {
        let train_y: Vec<usize> = train_rows.iter().map(|&r| y[r]).collect();
        let weights = w.weights(classes, &train_y)?;
        let text: Vec<String> = classes
            .iter()
            .zip(&weights)
            .map(|(c, w)| format!("{c}={w}"))
            .collect();
        h.insert("class_weights".to_owned(), ParamValue::Text(text.join(",")));
    }
    if let Some(t) = &parts.decision_threshold {
        h.insert(
            "positive_class".to_owned(),
            ParamValue::Text(t.positive_class.to_string()),
        );
        h.insert(
            "decision_threshold".to_owned(),
            ParamValue::Float(t.threshold),
        );
    }
    Ok(())
}

fn split_for(target: &Target, n: usize, fraction: f64, seed: u64) -> Split {
    match target {
        Target::Classes { y, .. } => stratified_split(y, fraction, seed),
        Target::Values(_) => train_test_split(n, fraction, seed),
    }
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Trains a pipeline on `data` (every column, target included), holding out
/// `options.test_fraction` of the rows for the metrics stored in the artifact.
pub fn train(data: &Batch, options: &TrainOptions) -> Result<Trained> {
    let prepared = prepare_data(data, options)?;
    let n = prepared.target.rows.len();
    let split = split_for(
        &prepared.target.target,
        n,
        options.test_fraction,
        options.seed,
    );
    if split.train.is_empty() {
        return Err(Error::Data("no training rows left after the split".into()));
    }
    let started = Instant::now();
    let train_batch = prepared.features.take(&split.train);
    let Fitted {
        mut parts,
        warnings: fit_warnings,
        boosting,
    } = fit_parts(
        &train_batch,
        &prepared.target.target,
        &split.train,
        prepared.model,
        options,
    )?;
    let mut warnings = prepared.warnings.clone();
    warnings.extend(fit_warnings);
    let fit_seconds = started.elapsed().as_secs_f64();
    parts.decision_threshold = decide_threshold(
        &parts,
        &prepared.features,
        &prepared.target.target,
        &split.test,
        options,
    )?;
    let mut hyperparameters = options.hyperparameters(prepared.model);
    record_resolved(
        &mut hyperparameters,
        &parts,
        &prepared.target.target,
        &split.train,
        options,
    )?;
    parts.training = TrainingInfo {
        name: options
            .name
            .clone()
            .unwrap_or_else(|| options.target.clone()),
        version: options.version.clone(),
        created_at: now_rfc3339(),
        target: options.target.clone(),
        algorithm: prepared.model.name().to_owned(),
        hyperparameters,
        data_fingerprint: prepared.fingerprint.clone(),
        train_rows: split.train.len() as u64,
        test_rows: split.test.len() as u64,
        library_version: tabship::VERSION.to_owned(),
        retrained_from: None,
    };
    let pipeline = Pipeline::from_parts(parts.clone())?;
    let metrics = evaluate(
        &pipeline,
        &prepared.features,
        &prepared.target.target,
        &split.test,
    )?;
    parts.metrics = metrics.clone();
    let pipeline = Pipeline::from_parts(parts)?;
    let started = Instant::now();
    let pipeline = match &options.profile {
        Some(profile_options) => {
            let profile = pipeline.capture_drift_profile(&train_batch, profile_options)?;
            pipeline.with_drift_profile(Some(profile))?
        }
        None => pipeline,
    };
    let profile_seconds = started.elapsed().as_secs_f64();
    Ok(Trained {
        pipeline,
        report: TrainReport {
            task: prepared.target.task,
            model: prepared.model,
            dropped_rows: prepared.dropped_rows,
            split,
            kept_rows: prepared.target.rows.clone(),
            metrics,
            fit_seconds,
            profile_seconds,
            warnings,
            boosting,
        },
    })
}

/// Mean and standard deviation (population) of each metric over the folds.
pub type CvSummary = BTreeMap<String, (f64, f64)>;

/// k-fold cross-validation: fits `k` pipelines, each tested on its fold, and summarises each
/// metric as `(mean, std)`.
pub fn cross_validate(data: &Batch, options: &TrainOptions, k: usize) -> Result<CvSummary> {
    if k < 2 {
        return Err(Error::InvalidOption {
            option: "cv",
            reason: format!("needs at least 2 folds, got {k}"),
        });
    }
    let prepared = prepare_data(data, options)?;
    let n = prepared.target.rows.len();
    if n < k {
        return Err(Error::InvalidOption {
            option: "cv",
            reason: format!("{k} folds for {n} rows"),
        });
    }
    let mut per_metric: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for fold in k_fold(n, k, options.seed) {
        let train_batch = prepared.features.take(&fold.train);
        let Fitted { mut parts, .. } = fit_parts(
            &train_batch,
            &prepared.target.target,
            &fold.train,
            prepared.model,
            options,
        )?;
        parts.decision_threshold = decide_threshold(
            &parts,
            &prepared.features,
            &prepared.target.target,
            &fold.test,
            options,
        )?;
        let pipeline = Pipeline::from_parts(parts)?;
        for (name, value) in evaluate(
            &pipeline,
            &prepared.features,
            &prepared.target.target,
            &fold.test,
        )? {
            per_metric.entry(name).or_default().push(value);
        }
    }
    Ok(per_metric
        .into_iter()
        .map(|(name, values)| {
            let mean = values.iter().sum::<f64>() / values.len() as f64;
            let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64;
            (name, (mean, var.sqrt()))
        })
        .collect())
}
