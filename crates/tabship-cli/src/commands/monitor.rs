//! `tabship monitor`: the fleet's drift and live quality from every replica's prediction log
//! (`tabship_serve::logs::monitor`), as text, JSON or a Prometheus text file.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args;
use tabship::Pipeline;
use tabship::drift::Window;
use tabship_serve::logs::{FleetOptions, FleetReport, monitor, prometheus_text};

use crate::commands::labels::{LogArgs, report_text};
use crate::error::{Error, Result};

/// `tabship monitor` arguments.
#[derive(Debug, Args)]
pub struct MonitorArgs {
    /// The model monitored (format 1.2 or newer: with a drift profile): its name selects the
    /// log lines, its profile and predictions make the drift report.
    pub model: PathBuf,
    #[command(flatten)]
    pub logs: LogArgs,
    /// Each replica's window: its last N logged rows [default: every row of the logs given].
    #[arg(long, value_name = "N")]
    pub window: Option<usize>,
    /// Thresholds, tests and policy as JSON, as `tabship drift --options`.
    #[arg(long, value_name = "OPTIONS.json")]
    pub options: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also write the report as Prometheus text (for node_exporter's textfile collector:
    /// written to a temporary file and renamed, as the collector requires).
    #[arg(long, value_name = "OUT.prom")]
    pub prom_file: Option<PathBuf>,
    /// Exit with code 3 when the drift policy fails the merged report (as `tabship drift
    /// --fail-on-drift`).
    #[arg(long)]
    pub fail_on_drift: bool,
}

fn text(report: &FleetReport) -> String {
    let mut s = format!(
        "{} version {}: {} replica logs\n",
        report.model,
        report.version,
        report.replicas.len()
    );
    for r in &report.replicas {
        let _ = writeln!(
            s,
            "  {}: {} files, {} rows ({} in the window), {} labelled",
            r.log, r.files, r.rows, r.window_rows, r.labelled_rows
        );
    }
    s.push_str(&report_text(&report.join));
    s.push_str("\ndrift over the merged window:\n");
    s.push_str(&crate::commands::drift::text(&report.drift));
    match &report.quality {
        Some(q) => {
            let _ = writeln!(
                s,
                "\nlive quality on {} labelled rows:",
                report.join.labelled_rows
            );
            for (name, value) in &q.metrics {
                let _ = writeln!(s, "  {name:<10} {value:.4}");
            }
        }
        None => s.push_str("\nno labelled rows: no live quality\n"),
    }
    s
}

/// Runs the command; `true` when `--fail-on-drift` and the report drifted (exit 3).
pub fn run(args: MonitorArgs) -> Result<bool> {
    let drift = crate::commands::drift::read_drift_options(args.options.as_deref())?;
    let window = match args.window {
        None => Window::Cumulative,
        Some(0) => return Err(Error::Usage("--window: must be at least 1 row".into())),
        Some(n) => Window::sliding(n),
    };
    let pipeline = Pipeline::load(&args.model)?;
    let report = monitor(
        &pipeline,
        &FleetOptions {
            source: args.logs.source(),
            drift,
            window,
        },
    )?;
    if let Some(path) = &args.prom_file {
        crate::output::write_all(path, prometheus_text(&report).as_bytes())?;
    }
    if args.json {
        let json = serde_json::to_string_pretty(&report)
            .map_err(|e| Error::Internal(format!("the report as JSON: {e}")))?;
        crate::output::print(&format!("{json}\n"))?;
    } else {
        crate::output::print(&text(&report))?;
    }
    Ok(args.fail_on_drift && report.drift.drifted)
}
