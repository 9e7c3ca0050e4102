//! `tabship retrain`: the champion's algorithm and options refitted on new labelled rows
//! (`tabship_train::retrain`), written as the challenger.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use tabship::{Pipeline, artifact};
use tabship_train::{LabelledRows, RetrainOptions, retrain};

use crate::csv_args::CsvArgs;
use crate::error::{Error, Result};
use crate::output::{self, Sink};

/// `tabship retrain` arguments.
#[derive(Debug, Args)]
pub struct RetrainArgs {
    /// The champion: a .tabship artifact trained by tabship (its algorithm and options are
    /// recorded; imported models are refused).
    pub champion: PathBuf,
    /// New labelled rows: the champion's schema columns and its target column (others are left
    /// out), e.g. from `tabship labels export`.
    pub new: PathBuf,
    #[command(flatten)]
    pub csv: CsvArgs,
    /// The challenger artifact [default: NAME-VERSION.tabship beside the champion].
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// The old training data: its last --old-window rows are fitted on too, before the new ones.
    #[arg(long, value_name = "OLD.csv")]
    pub with_old: Option<PathBuf>,
    /// Rows of --with-old kept: the last N (the most recent, for a file in time order)
    /// [default: all].
    #[arg(long, value_name = "N", requires = "with_old")]
    pub old_window: Option<usize>,
    /// Why the model is retrained (drift, a schedule, an alert), recorded in the challenger's
    /// provenance.
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// The challenger's version [default: the champion's trailing number plus one: 1 → 2,
    /// v3 → v4].
    #[arg(long)]
    pub model_version: Option<String>,
    /// Threads for fitting forests [default: all cores].
    #[arg(long)]
    pub threads: Option<usize>,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

fn default_output(champion: &Path, name: &str, version: &str) -> PathBuf {
    let file = format!("{name}-{version}.tabship");
    match champion.parent() {
        Some(dir) => dir.join(file),
        None => PathBuf::from(file),
    }
}

pub fn run(args: RetrainArgs) -> Result<()> {
    let bytes = artifact::read_file(&args.champion)?;
    let champion = Pipeline::from_bytes(&bytes)?;
    let checksum = champion
        .header()
        .map(|h| h.checksum_hex())
        .ok_or_else(|| Error::Internal("a loaded artifact has no header".into()))?;
    let csv = args.csv.options();
    let options = RetrainOptions {
        reason: args.reason.clone(),
        version: args.model_version.clone(),
        threads: Some(
            args.threads
                .unwrap_or_else(crate::commands::default_threads),
        ),
        na_values: csv.na_values.clone(),
    };
    // The options are read back (and an imported model refused) before any data is read.
    let recorded = tabship_train::retrain::recorded_options(&champion, &options)?;
    let output = args.output.clone().unwrap_or_else(|| {
        default_output(&args.champion, &champion.training().name, &recorded.version)
    });
    if output::is_stdout(Some(&output)) {
        return Err(Error::Usage(
            "-o -: retrain writes the challenger to a file; give -o FILE".to_owned(),
        ));
    }
    let sink = Sink::open(Some(&output))?;
    let new = LabelledRows::read(&args.new, &csv)?;
    let old = match &args.with_old {
        Some(path) => {
            let rows = LabelledRows::read(path, &csv)?;
            Some(match args.old_window {
                Some(n) => rows.last(n),
                None => rows,
            })
        }
        None => None,
    };
    let retrained = retrain(&champion, &checksum, &new, old.as_ref(), &options)?;
    let pipeline = &retrained.trained.pipeline;
    let report = &retrained.trained.report;
    let mut sink = sink;
    sink.write_all(&pipeline.to_bytes()?)
        .map_err(|e| Error::io(&output, e))?;
    sink.commit()?;
    for warning in &report.warnings {
        eprintln!("warning: {warning}");
    }
    let info = pipeline.training();
    let from = info
        .retrained_from
        .as_ref()
        .ok_or_else(|| Error::Internal("a retrained pipeline without its provenance".into()))?;
    let mut out = std::io::stdout().lock();
    let w = |e| Error::io(output::STDOUT, e);
    if args.json {
        let json = serde_json::json!({
            "output": output,
            "name": info.name,
            "version": info.version,
            "algorithm": info.algorithm,
            "retrained_from": from,
            "train_rows": report.split.train.len(),
            "test_rows": report.split.test.len(),
            "dropped_rows": report.dropped_rows,
            "metrics": report.metrics,
            "champion_metrics": champion.metrics(),
            "warnings": report.warnings,
        });
        writeln!(out, "{json:#}").map_err(w)?;
        return out.flush().map_err(w);
    }
    writeln!(
        out,
        "{} version {} ({}), retrained from {from}",
        info.name, info.version, info.algorithm
    )
    .map_err(w)?;
    if report.metrics.is_empty() {
        writeln!(
            out,
            "no holdout (the champion was trained with --test-fraction 0)"
        )
        .map_err(w)?;
    } else {
        writeln!(
            out,
            "holdout metrics on {} rows (champion's own holdout in brackets):",
            report.split.test.len()
        )
        .map_err(w)?;
        for (name, value) in &report.metrics {
            match champion.metrics().get(name) {
                Some(c) => writeln!(out, "  {name:<10} {value:.4}  ({c:.4})"),
                None => writeln!(out, "  {name:<10} {value:.4}"),
            }
            .map_err(w)?;
        }
    }
    writeln!(out, "saved {}", output.display()).map_err(w)?;
    out.flush().map_err(w)
}
