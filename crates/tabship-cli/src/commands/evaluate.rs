//! `tabship evaluate`: metrics of an artifact on labelled data.

use std::fmt::Write as _;

use serde_json::json;
use tabship::metrics::ClassificationReport;
use tabship::{Evaluation, Pipeline, Skipped};

use crate::cli::EvaluateArgs;
use crate::error::Result;

pub fn run(args: EvaluateArgs) -> Result<()> {
    let pipeline = Pipeline::load(&args.model)?;
    let crate::labelled::Labelled { batch, labels } =
        crate::labelled::read(&args.data, &pipeline, &args.csv.options(), "evaluate")?;
    let Skipped {
        missing_target: missing,
        unknown_labels,
    } = labels.skipped;
    let skipped = json!(labels.skipped);
    let (report_json, text) = match pipeline.evaluate(&batch, &labels.truth)? {
        Evaluation::Classification(r) => (
            json!({ "task": "classification", "classes": pipeline.classes(), "metrics": r, "skipped": skipped }),
            classification_text(&pipeline, &r),
        ),
        Evaluation::Regression(r) => {
            let text = format!(
                "rows {}\nmae  {:.6}\nrmse {:.6}\nr2   {:.6}\n",
                r.rows, r.mae, r.rmse, r.r2
            );
            (
                json!({ "task": "regression", "metrics": r, "skipped": skipped }),
                text,
            )
        }
    };
    if args.json {
        crate::output::print(&format!("{report_json:#}\n"))
    } else {
        let mut text = text;
        if missing + unknown_labels > 0 {
            let _ = writeln!(
                text,
                "skipped {missing} rows without a target and {unknown_labels} rows whose label the model does not know"
            );
        }
        crate::output::print(&text)
    }
}

fn classification_text(pipeline: &Pipeline, r: &ClassificationReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "rows {}  accuracy {:.6}  log_loss {:.6}{}",
        r.rows,
        r.accuracy,
        r.log_loss,
        r.roc_auc
            .map(|a| format!("  roc_auc {a:.6}"))
            .unwrap_or_default()
    );
    let width = pipeline
        .classes()
        .iter()
        .map(|c| c.to_string().len())
        .max()
        .unwrap_or(5)
        .max(5);
    let _ = writeln!(
        s,
        "\n{:<width$}  precision  recall     f1         support",
        "class"
    );
    for (class, c) in pipeline.classes().iter().zip(&r.per_class) {
        let _ = writeln!(
            s,
            "{:<width$}  {:<9.6}  {:<9.6}  {:<9.6}  {}",
            class.to_string(),
            c.precision,
            c.recall,
            c.f1,
            c.support
        );
    }
    let _ = writeln!(
        s,
        "{:<width$}  {:<9.6}  {:<9.6}  {:<9.6}",
        "macro", r.precision_macro, r.recall_macro, r.f1_macro
    );
    let _ = writeln!(s, "\nconfusion (rows: true, columns: predicted)");
    for (class, row) in pipeline.classes().iter().zip(&r.confusion) {
        let cells: Vec<String> = row.iter().map(|n| format!("{n:>7}")).collect();
        let _ = writeln!(s, "{:<width$} {}", class.to_string(), cells.join(""));
    }
    s
}
