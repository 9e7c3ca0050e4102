//! `tabship inspect`: schema with categories, model summary, metrics, provenance, format.

use std::fmt::Write as _;

use serde_json::{Value, json};
use tabship::encode::{CategoricalMissing, ColumnEncoderSpec, ImputeStrategy};
use tabship::{Model, Pipeline, artifact};

use crate::cli::InspectArgs;
use crate::error::Result;

fn model_summary(model: &Model, feature_names: &[String]) -> Value {
    match model {
        Model::LinearRegression(m) => json!({
            "type": model.kind(),
            "n_features": m.coefficients.len(),
            "intercept": m.intercept,
            "nonzero_coefficients": m.coefficients.iter().filter(|w| **w != 0.0).count(),
            "coefficients": feature_names.iter().zip(&m.coefficients).map(|(n, w)| (n.clone(), json!(w))).collect::<serde_json::Map<_, _>>(),
        }),
        Model::LogisticRegression(m) => json!({
            "type": model.kind(),
            "n_features": m.coefficients.first().map_or(0, Vec::len),
            "n_classes": m.n_classes(),
            "intercepts": m.intercepts,
            "coefficients": m.coefficients.iter().map(|row| feature_names.iter().zip(row).map(|(n, w)| (n.clone(), json!(w))).collect::<serde_json::Map<_, _>>()).collect::<Vec<_>>(),
        }),
        Model::TreeEnsemble(m) => {
            let categorical_splits: usize = m
                .trees
                .iter()
                .map(|t| t.categorical.0.iter().filter(|&&c| c != 0).count())
                .sum();
            json!({
                "type": model.kind(),
                "n_trees": m.trees.len(),
                "n_nodes": m.n_nodes(),
                "combination": m.combination,
                "features_f32": m.features_f32,
                "accumulate_f32": m.accumulate_f32,
                "categorical_splits": categorical_splits,
            })
        }
        other => json!({ "type": other.kind() }),
    }
}

/// One line on how a tree ensemble combines and compares: its trees, the link of a summed
/// ensemble, `f32` arithmetic and categorical splits (imported models).
fn trees_line(model: &Model) -> Option<String> {
    let Model::TreeEnsemble(m) = model else {
        return None;
    };
    let mut line = format!("trees: {} ({} nodes)", m.trees.len(), m.n_nodes());
    match m.combination {
        tabship::model::Combination::Average => line.push_str(", averaged"),
        tabship::model::Combination::Sum { base_score, link } => {
            let _ = write!(line, ", summed from {base_score} through the {link:?} link");
        }
    }
    if m.features_f32 {
        line.push_str(", values compared as float32");
    }
    if m.accumulate_f32 {
        line.push_str(", margins summed in float32");
    }
    if m.soft_vote {
        line.push_str(", class of highest mean probability");
    }
    let categorical: usize = m
        .trees
        .iter()
        .map(|t| t.categorical.0.iter().filter(|&&c| c != 0).count())
        .sum();
    if categorical > 0 {
        let _ = write!(line, ", {categorical} categorical splits");
    }
    Some(line.to_lowercase())
}

fn describe(path: &std::path::Path, bytes: &[u8], pipeline: &Pipeline) -> Value {
    let parts = pipeline.to_parts();
    let header = pipeline.header();
    let feature_names = pipeline.encoder().feature_names();
    let columns: Vec<Value> = pipeline
        .column_summaries()
        .into_iter()
        .map(|c| json!({ "name": c.name, "kind": c.kind, "nullable": c.nullable, "encoder": c.encoder }))
        .collect();
    json!({
        "path": path,
        "size_bytes": bytes.len(),
        "format_version": header.map(|h| h.format_version()),
        "written_by": header.map(|h| h.library_version.clone()),
        "checksum": header.map(|h| h.checksum_hex()),
        "task": parts.task,
        "classes": parts.classes,
        "schema": columns,
        "na_values": parts.schema.na_values,
        "n_model_features": feature_names.len(),
        "model": model_summary(&parts.model, &feature_names),
        "metrics": parts.metrics,
        "training": parts.training,
        "decision_threshold": parts.decision_threshold.as_ref().map(|t| json!({
            "positive_class": t.positive_class,
            "threshold": t.threshold,
        })),
        "target_transform": parts.target_transform.map(|t| t.name()),
        "drift_profile": parts.drift_profile.as_ref().map(|p| json!({
            "columns": p.columns.len(),
            "prediction": p.prediction.is_some(),
        })),
    })
}

pub fn run(args: InspectArgs) -> Result<()> {
    let bytes = artifact::read_file(&args.model)?;
    let pipeline = Pipeline::from_bytes(&bytes)?;
    let description = describe(&args.model, &bytes, &pipeline);
    if args.json {
        crate::output::print(&format!("{description:#}\n"))
    } else {
        crate::output::print(&text(&pipeline, &description))
    }
}

fn text(pipeline: &Pipeline, d: &Value) -> String {
    let t = pipeline.training();
    let mut s = String::new();
    let _ = writeln!(s, "{} (version {})", t.name, t.version);
    let _ = writeln!(
        s,
        "  format {} · {} bytes · {}",
        d["format_version"].as_str().unwrap_or("?"),
        d["size_bytes"],
        d["checksum"].as_str().unwrap_or("?")
    );
    let _ = writeln!(
        s,
        "  written by tabship {} · trained {} by tabship {}",
        d["written_by"].as_str().unwrap_or("?"),
        t.created_at,
        t.library_version
    );
    let _ = writeln!(
        s,
        "  data {} · {} train rows · {} test rows",
        t.data_fingerprint, t.train_rows, t.test_rows
    );
    if let Some(from) = &t.retrained_from {
        let _ = writeln!(s, "  retrained from {from}");
    }
    let _ = writeln!(
        s,
        "  drift profile: {}",
        match pipeline.drift_profile() {
            Some(p) => format!(
                "yes ({} columns{})",
                p.columns.len(),
                if p.prediction.is_some() {
                    " + predictions"
                } else {
                    ""
                }
            ),
            None => "no (artifact format before 1.2, or saved without one)".to_owned(),
        }
    );
    let _ = writeln!(s, "\ntask: {} of `{}`", pipeline.task().name(), t.target);
    if !pipeline.classes().is_empty() {
        let classes: Vec<String> = pipeline.classes().iter().map(ToString::to_string).collect();
        let _ = writeln!(s, "classes: {}", classes.join(", "));
    }
    match pipeline.decision_threshold() {
        Some(t) => {
            let _ = writeln!(
                s,
                "decision threshold: predicts `{}` (the positive class) when its probability is \
                 at least {}, the other class otherwise",
                t.positive_class, t.threshold
            );
        }
        None if pipeline.classes().len() == 2 => {
            let _ = writeln!(s, "decision threshold: none (the most probable class)");
        }
        None => {}
    }
    if let Some(transform) = pipeline.target_transform() {
        let _ = writeln!(
            s,
            "target transform: {} (fitted on ln(1 + y); predictions are exp(z) - 1)",
            transform.name()
        );
    }
    let params: Vec<String> = t
        .hyperparameters
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let _ = writeln!(
        s,
        "model: {} ({}) · {} features · {}",
        t.algorithm,
        pipeline.model().kind(),
        pipeline.encoder().width(),
        params.join(" ")
    );
    if let Some(line) = trees_line(pipeline.model()) {
        let _ = writeln!(s, "{line}");
    }
    let _ = writeln!(s, "\nschema ({} columns):", pipeline.schema().len());
    let na = &pipeline.schema().na_values;
    let listed: Vec<String> = na.values.iter().map(|v| format!("`{v}`")).collect();
    let _ = writeln!(
        s,
        "  missing values: empty, NaN{}{}",
        if na.defaults {
            ", the usual spellings in numeric columns (NA, null, None, ?...)"
        } else {
            ""
        },
        if listed.is_empty() {
            String::new()
        } else {
            format!(", and in every column {}", listed.join(", "))
        }
    );
    for column in pipeline.column_summaries() {
        let detail = match &column.encoder {
            ColumnEncoderSpec::Numeric(n) if n.imputation.strategy == ImputeStrategy::Nan => {
                "missing passed as NaN to the model".to_owned()
            }
            ColumnEncoderSpec::Numeric(n) => format!(
                "impute {:?} = {}{}{}",
                n.imputation.strategy,
                n.imputation.value,
                n.scaling
                    .map(|sc| format!(", scale (x - {:.4}) / {:.4}", sc.mean, sc.scale))
                    .unwrap_or_default(),
                if n.missing_indicator {
                    ", missing indicator"
                } else {
                    ""
                }
            )
            .to_lowercase(),
            ColumnEncoderSpec::Categorical(c) => {
                let mut d = format!(
                    "{:?}, {} categories: {}",
                    c.encoding,
                    c.categories.len(),
                    c.categories.join(", ")
                );
                if !c.other_categories.is_empty() {
                    let _ = write!(d, "; other: {}", c.other_categories.join(", "));
                }
                if c.missing_slot {
                    d.push_str("; missing slot");
                }
                if c.missing == CategoricalMissing::Nan {
                    d.push_str("; missing passed as NaN, unknown as -1");
                }
                d
            }
        };
        let _ = writeln!(
            s,
            "  {:<20} {:<11} {}{}",
            column.name,
            column.kind.name(),
            if column.nullable { "nullable · " } else { "" },
            detail
        );
    }
    if !pipeline.metrics().is_empty() {
        let _ = writeln!(s, "\nholdout metrics:");
        for (k, v) in pipeline.metrics() {
            let _ = writeln!(s, "  {k:<10} {v:.4}");
        }
    }
    s
}
