//! `tabship drift`: live data against the training distribution stored in the artifact.

use std::fmt::Write as _;
use tabship_serve::escape_html;

use tabship::Pipeline;
use tabship::drift::{ColumnReport, DriftOptions, DriftReport};

use crate::cli::DriftArgs;
use crate::error::{Error, Result};
use crate::input::CsvInput;

/// How the command ended, for the exit code.
pub enum Outcome {
    /// Report printed (exit 0).
    Done,
    /// Drift found with `--fail-on-drift` (exit 3).
    FailOnDrift,
}

/// The drift options of an `--options` file (defaults without one); a bad file is a usage
/// error. Shared by `drift` and `monitor`.
pub fn read_drift_options(path: Option<&std::path::Path>) -> Result<DriftOptions> {
    path.map_or_else(
        || Ok(DriftOptions::default()),
        |p| read_options(p, "--options"),
    )
}

/// Reads a drift options file given by `flag` (`--options`, `serve --drift-options`).
pub(crate) fn read_options(path: &std::path::Path, flag: &str) -> Result<DriftOptions> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    // A bad options file is a usage error (exit 2), as a bad flag value is.
    let invalid = |e: &dyn std::fmt::Display| {
        Error::Usage(format!(
            "{flag} {}: invalid drift options: {e}",
            path.display()
        ))
    };
    let options: DriftOptions = serde_json::from_str(&text).map_err(|e| invalid(&e))?;
    options.validate().map_err(|e| invalid(&e))?;
    Ok(options)
}

pub fn run(args: DriftArgs) -> Result<Outcome> {
    let options = read_drift_options(args.options.as_deref())?;
    let pipeline = Pipeline::load(&args.model)?;
    if pipeline.drift_profile().is_none() {
        return Err(tabship::Error::NoDriftProfile.into());
    }
    let batch =
        CsvInput::open(&args.live, &pipeline, &args.csv.options())?.read_batch(|_, _| Ok(true))?;
    if batch.n_rows() == 0 {
        // Drift of no rows would read "no dataset drift": an empty export must not pass a check.
        return Err(crate::input::no_rows(
            &args.live,
            "drift needs live rows to compare",
        ));
    }
    let report = pipeline.drift_report(&batch, &options)?;
    let printed = if args.json {
        let json = serde_json::to_string_pretty(&report).map_err(|e| Error::Input {
            path: args.live.clone(),
            message: format!("could not write the report as JSON: {e}"),
        })?;
        format!("{json}\n")
    } else {
        text(&report)
    };
    // `--html -` puts the page on stdout, and the report on stderr.
    let html_to_stdout = args
        .html
        .as_deref()
        .is_some_and(|p| crate::output::is_stdout(Some(p)));
    if html_to_stdout {
        eprint!("{printed}");
    } else {
        crate::output::print(&printed)?;
    }
    if let Some(path) = &args.html {
        let title = format!(
            "Drift of {} against {}",
            args.live.display(),
            pipeline.training().name
        );
        crate::output::write_all(path, html(&title, &report).as_bytes())?;
    }
    Ok(if args.fail_on_drift && report.drifted {
        Outcome::FailOnDrift
    } else {
        Outcome::Done
    })
}

fn column_line(s: &mut String, c: &ColumnReport) {
    let relation = if c.statistic.is_p_value() { "<" } else { "≥" };
    let mut extra = Vec::new();
    if let Some(r) = c.unknown_rate.filter(|r| *r > 0.0) {
        extra.push(format!("unknown {:.1}%", 100.0 * r));
    }
    if let Some(r) = c.out_of_range_rate.filter(|r| *r > 0.0) {
        extra.push(format!("out of range {:.1}%", 100.0 * r));
    }
    if c.missing_rate > 0.0 {
        extra.push(format!("missing {:.1}%", 100.0 * c.missing_rate));
    }
    if c.reasons.iter().any(|r| r == "missing_rate") {
        extra.push("missing rate rose".to_owned());
    }
    if let Some(adjusted) = c.adjusted_p_value.filter(|a| *a != c.value) {
        extra.push(format!("adjusted p {adjusted:.4}"));
    }
    let _ = writeln!(
        s,
        "{:<24} {:<11} {:<14} {:>10.4} {relation} {:<8} {:<8} {}",
        c.name,
        c.kind,
        c.statistic.name(),
        c.value,
        c.threshold,
        if c.drifted { "DRIFT" } else { "ok" },
        extra.join(", ")
    );
}

/// The report as the text `tabship drift` prints (also `tabship monitor`'s).
pub fn text(report: &DriftReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<24} {:<11} {:<14} {:>10}   {:<8} {:<8}",
        "column", "kind", "statistic", "value", "drift if", "verdict"
    );
    for c in &report.columns {
        column_line(&mut s, c);
    }
    if let Some(p) = &report.prediction {
        let _ = writeln!(s);
        column_line(&mut s, p);
    }
    let _ = writeln!(
        s,
        "\n{} rows · {} of {} columns drifted (share {:.2}, threshold {:.2}): {}",
        report.rows,
        report.drifted_columns,
        report.columns.len(),
        report.share_drifted,
        report.share_threshold,
        if report.drifted {
            format!("DATASET DRIFT ({})", reason_text(report))
        } else {
            "no dataset drift".to_owned()
        }
    );
    s
}

/// The policy reasons of a drifted report in words (`predictions drifted; 31% unknown values
/// in `job``).
fn reason_text(report: &DriftReport) -> String {
    report
        .reasons
        .iter()
        .map(|r| {
            if r == "share" {
                format!(
                    "{:.0}% of the columns drifted",
                    100.0 * report.share_drifted
                )
            } else if r == "prediction" {
                "the predictions drifted".to_owned()
            } else if let Some(name) = r.strip_prefix("column:") {
                format!("column `{name}` drifted")
            } else if let Some(name) = r.strip_prefix("unknown_rate:") {
                let rate = report
                    .column(name)
                    .and_then(|c| c.unknown_rate)
                    .unwrap_or(0.0);
                format!("{:.1}% never-seen values in `{name}`", 100.0 * rate)
            } else {
                r.clone()
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Reference (grey) vs live (blue or red) bars per slot, as inline SVG.
fn histogram_svg(c: &ColumnReport) -> String {
    let h = &c.histogram;
    let n = h.labels.len().max(1);
    let (width, height, top, bottom) = (640.0f64, 180.0f64, 10.0f64, 40.0f64);
    let slot = width / n as f64;
    let max = h
        .reference
        .iter()
        .chain(&h.live)
        .fold(0.0f64, |m, &x| m.max(x))
        .max(1e-12);
    let scale = (height - top - bottom) / max;
    let live_color = if c.drifted { "#d9534f" } else { "#337ab7" };
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">"#
    );
    for (i, label) in h.labels.iter().enumerate() {
        let x = i as f64 * slot;
        let r = h.reference.get(i).copied().unwrap_or(0.0);
        let l = h.live.get(i).copied().unwrap_or(0.0);
        let bar = slot * 0.4;
        let base = height - bottom;
        let _ = write!(
            svg,
            r##"<rect x="{:.1}" y="{:.1}" width="{bar:.1}" height="{:.1}" fill="#999"><title>{} reference {:.2}%</title></rect>"##,
            x + slot * 0.1,
            base - r * scale,
            r * scale,
            escape_html(label),
            100.0 * r
        );
        let _ = write!(
            svg,
            r#"<rect x="{:.1}" y="{:.1}" width="{bar:.1}" height="{:.1}" fill="{live_color}"><title>{} live {:.2}%</title></rect>"#,
            x + slot * 0.5,
            base - l * scale,
            l * scale,
            escape_html(label),
            100.0 * l
        );
        let short: String = label.chars().take(12).collect();
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" font-size="9" text-anchor="end" transform="rotate(-30 {:.1} {:.1})">{}</text>"#,
            x + slot * 0.5,
            base + 12.0,
            x + slot * 0.5,
            base + 12.0,
            escape_html(&short)
        );
    }
    svg.push_str("</svg>");
    svg
}

fn column_section(s: &mut String, c: &ColumnReport) {
    let verdict = if c.drifted { "drift" } else { "no drift" };
    let _ = write!(
        s,
        r#"<section class="{}"><h2>{} <small>{} · {} = {:.4} (threshold {}) · {verdict}</small></h2>"#,
        if c.drifted { "drift" } else { "ok" },
        escape_html(&c.name),
        c.kind,
        c.statistic.name(),
        c.value,
        c.threshold
    );
    s.push_str(&histogram_svg(c));
    let mut rows: Vec<(String, String)> = vec![
        ("live values".into(), c.live_count.to_string()),
        ("reference values".into(), c.reference_count.to_string()),
        (
            "missing rate (live / reference)".into(),
            format!("{:.4} / {:.4}", c.missing_rate, c.reference_missing_rate),
        ),
        ("PSI".into(), format!("{:.4}", c.psi)),
        ("Jensen–Shannon".into(), format!("{:.4}", c.jensen_shannon)),
        ("Hellinger".into(), format!("{:.4}", c.hellinger)),
        (
            "chi-square (p)".into(),
            format!("{:.4} ({:.4})", c.chi_square, c.chi_square_p_value),
        ),
    ];
    let optional = [
        ("adjusted p-value (Benjamini–Hochberg)", c.adjusted_p_value),
        ("KS statistic", c.ks),
        ("KS p-value", c.ks_p_value),
        ("KS error bound", c.ks_error_bound),
        ("Wasserstein / std", c.wasserstein),
        ("mean shift (stds)", c.mean_shift),
        ("std ratio", c.std_ratio),
        ("out-of-range rate", c.out_of_range_rate),
        ("unknown (never-seen) rate", c.unknown_rate),
    ];
    for (name, value) in optional {
        if let Some(v) = value {
            rows.push((name.into(), format!("{v:.4}")));
        }
    }
    s.push_str("<table>");
    for (k, v) in rows {
        let _ = write!(
            s,
            "<tr><th>{}</th><td>{}</td></tr>",
            escape_html(&k),
            escape_html(&v)
        );
    }
    s.push_str("</table></section>\n");
}

fn html(title: &str, report: &DriftReport) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
section {{ border: 1px solid #ddd; border-radius: 6px; padding: 0.5em 1em; margin: 1em 0; }}
section.drift {{ border-color: #d9534f; }}
h2 small {{ font-weight: normal; color: #666; font-size: 0.7em; }}
table {{ border-collapse: collapse; font-size: 0.85em; }}
th {{ text-align: left; padding-right: 1em; font-weight: normal; color: #555; }}
.legend span {{ display: inline-block; width: 1em; height: 0.8em; margin: 0 0.3em 0 1em; }}
</style></head><body>
<h1>{title}</h1>
<p><strong>{}</strong>{}: {} of {} columns drifted (share {:.2}, threshold {:.2}) over {} live rows.</p>
<p class="legend"><span style="background:#999"></span>reference (training) <span style="background:#337ab7"></span>live <span style="background:#d9534f"></span>live, drifted</p>
"#,
        if report.drifted {
            "Dataset drift"
        } else {
            "No dataset drift"
        },
        if report.drifted {
            format!(" ({})", escape_html(&reason_text(report)))
        } else {
            String::new()
        },
        report.drifted_columns,
        report.columns.len(),
        report.share_drifted,
        report.share_threshold,
        report.rows,
        title = escape_html(title),
    );
    if let Some(p) = &report.prediction {
        s.push_str("<h1>Predictions</h1>\n");
        column_section(&mut s, p);
    }
    s.push_str("<h1>Columns</h1>\n");
    for c in &report.columns {
        column_section(&mut s, c);
    }
    s.push_str("</body></html>\n");
    s
}
