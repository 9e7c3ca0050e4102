//! `tabship train`.

use std::io::{IsTerminal, Write};

use tabship_train::data::{KindOverrides, read_csv_with};
use tabship_train::{
    BoostingParams, ClassWeight, DEFAULT_TREE_LEARNER, EncoderOptions, LinearParams, MaxFeatures,
    ThresholdRule, TrainOptions, TreeParams, cross_validate, parse_target_transform, train,
};

use crate::cli::TrainArgs;
use crate::error::{Error, Result};
use crate::output::{self, Sink};

fn options(args: &TrainArgs) -> Result<TrainOptions> {
    let mut o = TrainOptions::new(&args.target);
    if args.no_drift_profile {
        o.profile = None;
    }
    o.model = args.model;
    o.task = args.task;
    o.na_values = args.csv.options().na_values;
    o.kinds = KindOverrides {
        categorical: args.categorical.clone(),
        numeric: args.numeric.clone(),
    };
    o.encoders = EncoderOptions {
        categorical_encoding: args.encoding,
        min_frequency: args.min_frequency.parse()?,
        categorical_missing: args.categorical_missing,
        numeric_impute: args.impute,
        fill_value: args.fill_value,
        missing_indicator: args.missing_indicator,
        scale: args.no_scale.then_some(false),
    };
    o.linear = LinearParams {
        alpha: args.alpha,
        l1_ratio: args.l1_ratio,
        tol: args.tol,
        max_iter: args.max_iter,
        solver: args.solver.clone(),
    };
    o.trees = TreeParams {
        n_trees: args.n_trees,
        max_depth: args.max_depth,
        min_samples_leaf: args
            .min_samples_leaf
            .unwrap_or(TreeParams::default().min_samples_leaf),
        min_samples_split: args.min_samples_split,
        max_features: args.max_features.parse::<MaxFeatures>()?,
        seed: args.seed,
        threads: args
            .threads
            .unwrap_or_else(crate::commands::default_threads),
        learner: args.tree_learner.unwrap_or(DEFAULT_TREE_LEARNER),
        max_bins: args.max_bins,
    };
    o.boosting = BoostingParams {
        learning_rate: args.learning_rate,
        max_leaves: args.max_leaves,
        min_samples_leaf: args
            .min_samples_leaf
            .unwrap_or(BoostingParams::default().min_samples_leaf),
        min_child_weight: args.min_child_weight,
        l2: args.l2,
        early_stopping_rounds: args.early_stopping_rounds,
        validation_fraction: args.validation_fraction,
    };
    o.test_fraction = args.test_fraction;
    o.seed = args.seed;
    o.name = args.name.clone();
    o.version = args.model_version.clone();
    o.class_weight = args
        .class_weight
        .as_deref()
        .map(str::parse::<ClassWeight>)
        .transpose()?;
    o.threshold = args
        .threshold
        .as_deref()
        .map(str::parse::<ThresholdRule>)
        .transpose()?;
    o.positive_class = args.positive_class.clone();
    o.target_transform = match args.target_transform.as_deref() {
        Some(t) => parse_target_transform(t)?,
        None => None,
    };
    Ok(o)
}

pub fn run(args: TrainArgs) -> Result<()> {
    // Flag values are usage errors (exit 2), found before any data is read.
    let mut options = options(&args).map_err(|e| Error::Usage(e.to_string()))?;
    options.max_classes = args.max_classes;
    options
        .validate()
        .map_err(|e| Error::Usage(e.to_string()))?;
    let to_stdout = output::is_stdout(Some(&args.output));
    let split_to_stdout = args
        .write_split
        .as_deref()
        .is_some_and(|p| output::is_stdout(Some(p)));
    if to_stdout && split_to_stdout {
        return Err(Error::Usage(
            "-o - and --write-split - cannot both write to stdout".to_owned(),
        ));
    }
    if to_stdout && std::io::stdout().is_terminal() {
        return Err(Error::Usage(
            "-o -: refusing to write a binary artifact to a terminal; redirect stdout (> model.tabship) or give -o FILE".to_owned(),
        ));
    }
    // Outputs are checked (a device, a FIFO or a directory is refused) before the fit, not
    // after it.
    let artifact = Sink::open(Some(&args.output))?;
    let split_file = match &args.write_split {
        Some(path) => Some(Sink::open(Some(path))?),
        None => None,
    };
    let data = read_csv_with(&args.data, &args.csv.options(), &options.kinds)?;
    let cv = match args.cv {
        Some(k) => Some(cross_validate(&data, &options, k)?),
        None => None,
    };
    let trained = train(&data, &options)?;
    let output_name = output::display_name(Some(&args.output));
    write_to(artifact, &output_name, &trained.pipeline.to_bytes()?)?;
    if let (Some(sink), Some(path)) = (split_file, &args.write_split) {
        let text = split_csv(&trained.report, data.n_rows());
        write_to(sink, &output::display_name(Some(path)), text.as_bytes())?;
    }
    let report = &trained.report;
    let pipeline = &trained.pipeline;
    for warning in &report.warnings {
        eprintln!("warning: {warning}");
    }
    // The report goes to stderr when stdout carries the artifact or the split.
    let mut out: Box<dyn Write> = if to_stdout || split_to_stdout {
        Box::new(std::io::stderr().lock())
    } else {
        Box::new(std::io::stdout().lock())
    };
    let w = |e| Error::io(output::STDOUT, e);
    if args.json {
        let json = serde_json::json!({
            "output": output_name,
            "task": report.task.name(),
            "model": report.model.name(),
            "train_rows": report.split.train.len(),
            "test_rows": report.split.test.len(),
            "dropped_rows": report.dropped_rows,
            "fit_seconds": report.fit_seconds,
            "profile_seconds": report.profile_seconds,
            "metrics": report.metrics,
            "warnings": report.warnings,
            "boosting": report.boosting.as_ref().map(|b| serde_json::json!({
                "rounds_fitted": b.rounds_fitted,
                "rounds_kept": b.rounds_kept,
                "loss": b.loss,
                "validation_loss": b.validation_loss,
            })),
            "decision_threshold": pipeline.decision_threshold().map(|t| serde_json::json!({
                "positive_class": t.positive_class.to_string(),
                "threshold": t.threshold,
            })),
            "target_transform": pipeline.target_transform().map(|t| t.name()),
            "cv": cv.as_ref().map(|cv| cv.iter().map(|(k, (m, s))| (k.clone(), serde_json::json!({"mean": m, "std": s}))).collect::<serde_json::Map<_, _>>()),
        });
        writeln!(out, "{json:#}").map_err(w)?;
        return out.flush().map_err(w);
    }
    writeln!(
        out,
        "trained {} ({}) on {} rows, {} features from {} columns, in {:.2}s",
        report.model.name(),
        report.task.name(),
        report.split.train.len(),
        pipeline.encoder().width(),
        pipeline.schema().len(),
        report.fit_seconds
    )
    .map_err(w)?;
    if let Some(note) = report
        .boosting
        .as_ref()
        .and_then(|b| b.early_stopping_note())
    {
        writeln!(out, "{note}").map_err(w)?;
    }
    if pipeline.drift_profile().is_some() {
        writeln!(
            out,
            "drift profile captured on the training rows in {:.3}s",
            report.profile_seconds
        )
        .map_err(w)?;
    }
    if report.dropped_rows > 0 {
        writeln!(
            out,
            "dropped {} rows with a missing target",
            report.dropped_rows
        )
        .map_err(w)?;
    }
    if let Some(cv) = &cv {
        writeln!(
            out,
            "{}-fold cross-validation:",
            args.cv.unwrap_or_default()
        )
        .map_err(w)?;
        for (name, (mean, std)) in cv {
            writeln!(out, "  {name:<10} {mean:.4} ± {std:.4}").map_err(w)?;
        }
    }
    if let Some(t) = pipeline.decision_threshold() {
        writeln!(
            out,
            "decision threshold: `{}` when its probability is at least {:.4}",
            t.positive_class, t.threshold
        )
        .map_err(w)?;
    }
    if report.metrics.is_empty() {
        writeln!(out, "no holdout (--test-fraction 0)").map_err(w)?;
    } else {
        writeln!(out, "holdout metrics on {} rows:", report.split.test.len()).map_err(w)?;
        for (name, value) in &report.metrics {
            writeln!(out, "  {name:<10} {value:.4}").map_err(w)?;
        }
    }
    writeln!(out, "saved {}", output_name.display()).map_err(w)?;
    out.flush().map_err(w)
}

fn write_to(mut sink: Sink, name: &std::path::Path, bytes: &[u8]) -> Result<()> {
    sink.write_all(bytes).map_err(|e| Error::io(name, e))?;
    sink.commit()
}

/// `row,set` for every data row of the file: rows count from 1 after the header (as every
/// row number tabship prints), `set` is `train`, `test`, or `dropped` for a missing target.
fn split_csv(report: &tabship_train::TrainReport, rows: usize) -> String {
    let mut sets = vec!["dropped"; rows];
    for (indices, set) in [(&report.split.train, "train"), (&report.split.test, "test")] {
        for &i in indices {
            if let Some(&row) = report.kept_rows.get(i) {
                if let Some(slot) = sets.get_mut(row) {
                    *slot = set;
                }
            }
        }
    }
    let mut text = String::from("row,set\n");
    for (row, set) in sets.iter().enumerate() {
        text.push_str(&format!("{},{set}\n", row + 1));
    }
    text
}
