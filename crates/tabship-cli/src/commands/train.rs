//! `tabship train`.

use std::io::Write;

use tabship::Task;
use tabship::encode::{CategoricalMissing, CategoryEncoding, ImputeStrategy};
use tabship_train::data::{KindOverrides, read_csv};
use tabship_train::{
    ClassWeight, EncoderOptions, LinearParams, MaxFeatures, ModelKind, ThresholdRule, TrainOptions,
    TreeParams, cross_validate, parse_target_transform, train,
};

use crate::cli::{CategoricalMissingArg, EncodingArg, ImputeArg, ModelArg, TaskArg, TrainArgs};
use crate::error::{Error, Result};

fn options(args: &TrainArgs) -> Result<TrainOptions> {
    let mut o = TrainOptions::new(&args.target);
    if args.no_drift_profile {
        o.profile = None;
    }
    o.model = args.model.map(|m| match m {
        ModelArg::Logistic => ModelKind::Logistic,
        ModelArg::Linear => ModelKind::Linear,
        ModelArg::Ridge => ModelKind::Ridge,
        ModelArg::Lasso => ModelKind::Lasso,
        ModelArg::ElasticNet => ModelKind::ElasticNet,
        ModelArg::DecisionTree => ModelKind::DecisionTree,
        ModelArg::RandomForest => ModelKind::RandomForest,
        ModelArg::ExtraTrees => ModelKind::ExtraTrees,
    });
    o.task = args.task.map(|t| match t {
        TaskArg::Classification => Task::Classification,
        TaskArg::Regression => Task::Regression,
    });
    o.kinds = KindOverrides {
        categorical: args.categorical.clone(),
        numeric: args.numeric.clone(),
    };
    o.encoders = EncoderOptions {
        categorical_encoding: match args.encoding {
            EncodingArg::OneHot => CategoryEncoding::OneHot,
            EncodingArg::Ordinal => CategoryEncoding::Ordinal,
        },
        min_frequency: args.min_frequency.parse()?,
        categorical_missing: match args.categorical_missing {
            CategoricalMissingArg::Slot => CategoricalMissing::Slot,
            CategoricalMissingArg::MostFrequent => CategoricalMissing::MostFrequent,
        },
        numeric_impute: match args.impute {
            ImputeArg::Median => ImputeStrategy::Median,
            ImputeArg::Mean => ImputeStrategy::Mean,
            ImputeArg::Constant => ImputeStrategy::Constant,
        },
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
        min_samples_leaf: args.min_samples_leaf,
        min_samples_split: args.min_samples_split,
        max_features: args.max_features.parse::<MaxFeatures>()?,
        seed: args.seed,
        threads: args
            .threads
            .unwrap_or_else(crate::commands::default_threads),
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
    o.validate()?;
    Ok(o)
}

pub fn run(args: TrainArgs) -> Result<()> {
    let options = options(&args)?;
    let data = read_csv(&args.data, &options.kinds)?;
    let cv = match args.cv {
        Some(k) => Some(cross_validate(&data, &options, k)?),
        None => None,
    };
    let trained = train(&data, &options)?;
    trained.pipeline.save(&args.output)?;
    if let Some(path) = &args.write_split {
        write_split(path, &trained.report.split)?;
    }
    let report = &trained.report;
    let pipeline = &trained.pipeline;
    for warning in &report.warnings {
        eprintln!("warning: {warning}");
    }
    if args.json {
        let json = serde_json::json!({
            "output": args.output,
            "task": report.task.name(),
            "model": report.model.name(),
            "train_rows": report.split.train.len(),
            "test_rows": report.split.test.len(),
            "dropped_rows": report.dropped_rows,
            "fit_seconds": report.fit_seconds,
            "profile_seconds": report.profile_seconds,
            "metrics": report.metrics,
            "warnings": report.warnings,
            "decision_threshold": pipeline.decision_threshold().map(|t| serde_json::json!({
                "positive_class": t.positive_class.to_string(),
                "threshold": t.threshold,
            })),
            "target_transform": pipeline.target_transform().map(|t| t.name()),
            "cv": cv.as_ref().map(|cv| cv.iter().map(|(k, (m, s))| (k.clone(), serde_json::json!({"mean": m, "std": s}))).collect::<serde_json::Map<_, _>>()),
        });
        println!("{json:#}");
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    let w = |e| Error::io("<stdout>", e);
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
    writeln!(out, "saved {}", args.output.display()).map_err(w)?;
    Ok(())
}

fn write_split(path: &std::path::Path, split: &tabship_train::split::Split) -> Result<()> {
    let mut rows: Vec<(usize, &str)> = split
        .train
        .iter()
        .map(|&r| (r, "train"))
        .chain(split.test.iter().map(|&r| (r, "test")))
        .collect();
    rows.sort_unstable();
    let mut text = String::from("row,set\n");
    for (row, set) in rows {
        text.push_str(&format!("{row},{set}\n"));
    }
    std::fs::write(path, text).map_err(|e| Error::io(path, e))
}
