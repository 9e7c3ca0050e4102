//! `tabship compare`: champion against challenger on the same labelled rows — every metric of
//! both, the exact McNemar test (accuracy) or the paired t-test (losses), a seeded paired
//! bootstrap interval of the difference, and a verdict with an exit code for CI pipelines.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args;
use serde_json::json;
use tabship::Pipeline;
use tabship::drift::compare::{CompareOptions, Comparison, Metric, PairedTest, Verdict};

use crate::csv_args::CsvArgs;
use crate::error::{Error, Result};

/// Exit code of a `promote` verdict.
pub const EXIT_PROMOTE: u8 = 0;
/// Exit code of a `keep` verdict.
pub const EXIT_KEEP: u8 = 3;
/// Exit code of an `inconclusive` verdict.
pub const EXIT_INCONCLUSIVE: u8 = 4;

/// `tabship compare` arguments.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The model in production (.tabship).
    pub champion: PathBuf,
    /// The candidate replacing it (.tabship): same task, target, classes and feature columns.
    pub challenger: PathBuf,
    /// Labelled CSV both models score: the feature columns and the training target column.
    pub data: PathBuf,
    /// The metric of the verdict: accuracy (tested by the exact McNemar test), f1, roc-auc (the
    /// bootstrap interval alone decides), log-loss, mae, rmse (the paired t-test on per-row log
    /// losses, absolute or squared errors) [default: accuracy for classifiers, mae for
    /// regressors].
    #[arg(long, value_parser = metric)]
    pub metric: Option<Metric>,
    /// Minimum improvement of the metric, in its units (0.01: one accuracy point; for MAE,
    /// in the target's units), for `promote`.
    #[arg(long, default_value_t = 0.0, value_parser = non_negative)]
    pub margin: f64,
    /// Level of the test; the bootstrap interval's confidence is 1 − alpha.
    #[arg(long, default_value_t = 0.05, value_parser = level)]
    pub alpha: f64,
    /// Seed of the bootstrap resamples (the same seed gives the same interval on every platform).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Bootstrap resamples.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u32).range(100..=1_000_000))]
    pub resamples: u32,
    #[command(flatten)]
    pub csv: CsvArgs,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `--metric`: a metric by its name (`accuracy`, `f1`, `roc-auc`, `log-loss`, `mae`, `rmse`).
fn metric(text: &str) -> std::result::Result<Metric, String> {
    Metric::ALL
        .into_iter()
        .find(|m| m.name() == text)
        .ok_or_else(|| {
            let names: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
            format!("expected one of {}, got `{text}`", names.join(", "))
        })
}

fn non_negative(text: &str) -> std::result::Result<f64, String> {
    match text.parse::<f64>() {
        Ok(x) if x >= 0.0 && x.is_finite() => Ok(x),
        _ => Err(format!("expected a finite number ≥ 0, got `{text}`")),
    }
}

fn level(text: &str) -> std::result::Result<f64, String> {
    match text.parse::<f64>() {
        Ok(x) if x > 0.0 && x < 1.0 => Ok(x),
        _ => Err(format!("expected a number in (0, 1), got `{text}`")),
    }
}

/// The verdict's exit code: 0 promote, 3 keep, 4 inconclusive.
pub fn exit_code(verdict: Verdict) -> u8 {
    match verdict {
        Verdict::Promote => EXIT_PROMOTE,
        Verdict::Keep => EXIT_KEEP,
        Verdict::Inconclusive => EXIT_INCONCLUSIVE,
    }
}

/// Runs the comparison and prints it; the verdict decides the exit code.
pub fn run(args: CompareArgs) -> Result<Verdict> {
    let champion = Pipeline::load(&args.champion)?;
    let challenger = Pipeline::load(&args.challenger)?;
    // Before reading the data: a wrong pair of files is refused naming what differs.
    champion.check_comparable(&challenger)?;
    let labelled = crate::labelled::read(&args.data, &champion, &args.csv.options(), "compare")?;
    let options = CompareOptions {
        metric: args.metric,
        margin: args.margin,
        alpha: args.alpha,
        resamples: args.resamples,
        seed: args.seed,
    };
    let comparison = champion
        .compare(
            &challenger,
            &labelled.batch,
            &labelled.labels.truth,
            &options,
        )
        .map_err(|e| match e {
            // An option that does not fit the models (ROC AUC of three classes) is a usage error.
            tabship::Error::Drift(tabship::drift::Error::InvalidOption { option, reason }) => {
                Error::Usage(format!("--{option}: {reason}"))
            }
            e => Error::Core(e),
        })?;
    let model = |p: &Pipeline, path: &PathBuf| json!({ "path": path, "name": p.training().name, "version": p.training().version });
    if args.json {
        let report = json!({
            "champion": model(&champion, &args.champion),
            "challenger": model(&challenger, &args.challenger),
            "skipped": labelled.labels.skipped,
            "seed": args.seed,
            "comparison": comparison,
            "verdict": comparison.verdict,
            "exit_code": exit_code(comparison.verdict),
        });
        crate::output::print(&format!("{report:#}\n"))?;
    } else {
        let mut text = String::new();
        for (role, p, path) in [
            ("champion", &champion, &args.champion),
            ("challenger", &challenger, &args.challenger),
        ] {
            let t = p.training();
            let _ = writeln!(
                text,
                "{role:<10}  {} {} ({})",
                t.name,
                t.version,
                path.display()
            );
        }
        let skipped = labelled.labels.skipped;
        let _ = writeln!(
            text,
            "rows        {} (skipped {} without a target, {} with a label the champion does not know)\n",
            comparison.rows, skipped.missing_target, skipped.unknown_labels
        );
        text.push_str(&comparison_text(&comparison, args.seed));
        crate::output::print(&text)?;
    }
    Ok(comparison.verdict)
}

/// The comparison as a table, the test, the interval and the verdict.
fn comparison_text(c: &Comparison, seed: u64) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<10}  {:>12}  {:>12}  {:>12}",
        "metric", "champion", "challenger", "difference"
    );
    for m in &c.metrics {
        let mark = if m.metric == c.metric {
            "  ← verdict"
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "{:<10}  {:>12.6}  {:>12.6}  {:>+12.6}{mark}",
            m.metric.name(),
            m.first,
            m.second,
            m.difference
        );
    }
    let _ = writeln!(s);
    match &c.test {
        Some(PairedTest::McNemar(t)) => {
            let _ = writeln!(
                s,
                "exact McNemar test: p = {} ({} rows only the champion gets right, {} only the challenger; mid-p {})",
                p(t.p_value),
                t.only_first,
                t.only_second,
                p(t.mid_p_value)
            );
        }
        Some(PairedTest::PairedT(t)) => {
            let _ = writeln!(
                s,
                "paired t-test on per-row {}: t = {:.4}, df = {}, p = {}",
                loss_name(c.metric),
                t.statistic,
                t.df,
                p(t.p_value)
            );
        }
        None => {
            let _ = writeln!(
                s,
                "no paired test for {}: the bootstrap interval decides",
                c.metric.name()
            );
        }
    }
    if let Some(w) = &c.wilcoxon {
        let _ = writeln!(
            s,
            "wilcoxon signed-rank (check): p = {} over {} non-zero differences",
            p(w.p_value),
            w.ranked
        );
    }
    let i = &c.interval;
    let _ = writeln!(
        s,
        "bootstrap {:.0}% interval of the {} difference: [{:+.6}, {:+.6}] ({} paired resamples, seed {seed})",
        i.confidence * 100.0,
        c.metric.name(),
        i.low,
        i.high,
        i.resamples
    );
    let _ = writeln!(
        s,
        "improvement of the challenger: [{:+.6}, {:+.6}], margin {}, alpha {}",
        c.improvement_low, c.improvement_high, c.margin, c.alpha
    );
    let _ = writeln!(
        s,
        "verdict: {} (exit code {})",
        c.verdict.name(),
        exit_code(c.verdict)
    );
    s
}

/// A p-value: fixed notation, scientific below 0.0001 (where six decimals would print zero).
fn p(value: f64) -> String {
    if value != 0.0 && value < 1e-4 {
        format!("{value:.3e}")
    } else {
        format!("{value:.6}")
    }
}

fn loss_name(metric: Metric) -> &'static str {
    match metric {
        Metric::LogLoss => "log losses",
        Metric::Rmse => "squared errors",
        _ => "absolute errors",
    }
}
