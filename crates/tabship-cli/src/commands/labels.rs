//! `tabship labels export`: logged inputs joined with their labels by request id
//! (`tabship_serve::logs::join`), written as the next training set.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use tabship::Pipeline;
use tabship_serve::logs::{JoinReport, LogSource, join};

use crate::error::{Error, Result};
use crate::output::{self, Sink};

/// `tabship labels` arguments.
#[derive(Debug, Args)]
pub struct LabelsArgs {
    #[command(subcommand)]
    pub command: LabelsCommand,
}

/// What `tabship labels` does.
#[derive(Debug, Subcommand)]
pub enum LabelsCommand {
    /// Join the inputs logged by `tabship serve --log` with their true labels (logged by
    /// POST /feedback, or given as files) by request id: a labelled CSV in the model's schema
    /// order plus the target column, ready to retrain on.
    Export(ExportArgs),
}

/// What the log readers share: the logs and the label files.
#[derive(Debug, Args)]
pub struct LogArgs {
    /// A prediction log (`serve --log`), or a pattern with `*` and `?` in the file name
    /// (quote it: 'logs/*.jsonl'); rotated files (`.1`, `.2`, ...) of each file are read too,
    /// oldest first. Repeatable: one per replica or directory.
    #[arg(long = "log", value_name = "FILE|PATTERN", required = true)]
    pub logs: Vec<String>,
    /// Labels from outside the server: a CSV with `request_id` and `label` columns (and
    /// optionally `index`, the row's 0-based position in its request). Read after the logs, so
    /// they override labels logged by POST /feedback. Repeatable.
    #[arg(long = "feedback", alias = "labels", value_name = "FILE")]
    pub feedback: Vec<PathBuf>,
    /// The model name in the log lines [default: the artifact's name] (a server serving it
    /// as `NAME=FILE` logs NAME).
    #[arg(long, value_name = "NAME")]
    pub log_model: Option<String>,
    /// Only the lines of this version (of an A/B split, say) [default: every version].
    #[arg(long, value_name = "VERSION")]
    pub log_version: Option<String>,
}

impl LogArgs {
    /// What the library reads.
    pub fn source(&self) -> LogSource {
        LogSource {
            logs: self.logs.clone(),
            label_files: self.feedback.clone(),
            model: self.log_model.clone(),
            version: self.log_version.clone(),
        }
    }
}

/// `tabship labels export` arguments.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The model whose requests are read: its name selects the log lines, its schema reads
    /// their inputs, its target names the label column.
    #[arg(long)]
    pub model: PathBuf,
    #[command(flatten)]
    pub logs: LogArgs,
    /// The labelled CSV [default: stdout; `-` too].
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Print the join's counts as JSON (on stderr when the CSV goes to stdout).
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: LabelsArgs) -> Result<()> {
    match args.command {
        LabelsCommand::Export(a) => export(a),
    }
}

/// The counts of a join, one line each, for people.
pub fn report_text(r: &JoinReport) -> String {
    let mut s = format!(
        "read {} lines from {} files: {} requests ({} rows) of this model, {} rows labelled\n",
        r.lines, r.files, r.requests, r.rows, r.labelled_rows
    );
    let skipped = [
        (r.bad_lines, "lines that are not log records"),
        (
            r.shadow_lines,
            "shadow lines (they repeat a served request)",
        ),
        (r.other_model_lines, "lines of other models"),
        (r.other_version_lines, "lines of other versions"),
        (
            r.duplicate_predictions,
            "request ids logged again with the same rows (kept once)",
        ),
        (
            r.conflicting_predictions,
            "lines of request ids logged with different rows (dropped)",
        ),
        (r.invalid_rows, "requests the schema cannot read (dropped)"),
        (r.unmatched_labels, "labels without a logged prediction"),
        (r.invalid_labels, "labels the model cannot use"),
        (r.duplicate_labels, "labels repeating an earlier one"),
        (
            r.relabelled,
            "labels replacing an earlier one (the last read wins)",
        ),
    ];
    for (n, what) in skipped {
        if n > 0 {
            s.push_str(&format!("  {n} {what}\n"));
        }
    }
    for example in &r.bad_line_examples {
        s.push_str(&format!("  bad line {example}\n"));
    }
    s
}

fn export(args: ExportArgs) -> Result<()> {
    let pipeline = Pipeline::load(&args.model)?;
    let sink = Sink::open(args.output.as_deref())?;
    let joined = join(&pipeline, &args.logs.source())?;
    let report = &joined.report;
    let summary = if args.json {
        format!(
            "{:#}\n",
            serde_json::to_value(report).map_err(|e| Error::Internal(e.to_string()))?
        )
    } else {
        report_text(report)
    };
    if report.labelled_rows == 0 {
        eprint!("{summary}");
        // Nothing to write is a failed export: an empty training set must not pass a script.
        return Err(Error::Input {
            path: args.model.clone(),
            message: format!(
                "no labelled rows to export for model `{}`: {} logged requests, {} labels ({} \
                 without a logged prediction)",
                args.logs
                    .log_model
                    .as_deref()
                    .unwrap_or(&pipeline.training().name),
                report.requests,
                report.labels,
                report.unmatched_labels
            ),
        });
    }
    let name = output::display_name(args.output.as_deref());
    let mut writer = csv::Writer::from_writer(sink);
    writer
        .write_record(&joined.header)
        .map_err(|e| Error::csv(&name, &e))?;
    for row in joined.labelled_rows() {
        writer
            .write_record(&row)
            .map_err(|e| Error::csv(&name, &e))?;
    }
    let sink = writer
        .into_inner()
        .map_err(|e| Error::io(&name, e.into_error()))?;
    sink.commit()?;
    let to_stdout = output::is_stdout(args.output.as_deref());
    if args.json && !to_stdout {
        crate::output::print(&summary)?;
    } else {
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(summary.as_bytes());
        if !to_stdout {
            let _ = writeln!(err, "saved {}", name.display());
        }
    }
    Ok(())
}
