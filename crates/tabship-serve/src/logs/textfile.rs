//! The fleet report as Prometheus text (the exposition format node_exporter's textfile
//! collector reads): gauges named `tabship_fleet_*`, labelled with the model and version, so
//! they sit beside each replica's own `/metrics` without clashing.

use std::fmt::Write as _;

use super::fleet::FleetReport;

/// A label value escaped as the text format wants it (`\`, `"` and line breaks).
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A sample value: Prometheus spells infinities `+Inf`/`-Inf` and NaN `NaN`.
fn number(x: f64) -> String {
    if x.is_nan() {
        "NaN".to_owned()
    } else if x.is_infinite() {
        if x > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else {
        format!("{x}")
    }
}

struct Family<'a> {
    out: &'a mut String,
    base: Vec<(&'static str, String)>,
}

impl Family<'_> {
    fn gauge(&mut self, name: &str, help: &str, samples: &[(Vec<(&str, String)>, f64)]) {
        if samples.is_empty() {
            return;
        }
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} gauge");
        for (labels, value) in samples {
            let labels: Vec<String> = self
                .base
                .iter()
                .map(|(k, v)| (*k, v.as_str()))
                .chain(labels.iter().map(|(k, v)| (*k, v.as_str())))
                .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                .collect();
            let _ = writeln!(
                self.out,
                "{name}{{{}}} {}",
                labels.join(","),
                number(*value)
            );
        }
    }
}

/// The report as Prometheus text, one gauge family per figure.
pub fn prometheus_text(report: &FleetReport) -> String {
    let mut out = String::new();
    let mut f = Family {
        out: &mut out,
        base: vec![
            ("model", report.model.clone()),
            ("version", report.version.clone()),
        ],
    };
    let d = &report.drift;
    let j = &report.join;
    f.gauge(
        "tabship_fleet_rows",
        "Logged rows of the model read from every replica's prediction log",
        &[(vec![], j.rows as f64)],
    );
    let per_replica: Vec<_> = report
        .replicas
        .iter()
        .map(|r| (vec![("log", r.log.clone())], r.rows as f64))
        .collect();
    f.gauge(
        "tabship_fleet_replica_rows",
        "Logged rows of the model per replica log",
        &per_replica,
    );
    f.gauge(
        "tabship_fleet_drift_window_rows",
        "Rows in the merged drift window",
        &[(vec![], d.rows as f64)],
    );
    f.gauge(
        "tabship_fleet_dataset_drift",
        "1 when the drift policy fails the merged window of every replica",
        &[(vec![], f64::from(u8::from(d.drifted)))],
    );
    f.gauge(
        "tabship_fleet_drift_share",
        "Share of input columns that drifted over the merged window",
        &[(vec![], d.share_drifted)],
    );
    let reasons: Vec<_> = d
        .reasons
        .iter()
        .map(|reason| {
            let (rule, column) = reason.split_once(':').unwrap_or((reason, ""));
            (
                vec![("reason", rule.to_owned()), ("column", column.to_owned())],
                1.0,
            )
        })
        .collect();
    f.gauge(
        "tabship_fleet_dataset_drift_reason",
        "1 for each drift policy rule that fails the merged window, with the column it names",
        &reasons,
    );
    let columns: Vec<_> = d.columns.iter().chain(d.prediction.as_ref()).collect();
    let values: Vec<_> = columns
        .iter()
        .map(|c| {
            (
                vec![
                    ("column", c.name.clone()),
                    ("statistic", c.statistic.name().to_owned()),
                ],
                c.value,
            )
        })
        .collect();
    f.gauge(
        "tabship_fleet_drift_value",
        "Drift statistic of each input column (and `prediction`) over the merged window",
        &values,
    );
    let detected: Vec<_> = columns
        .iter()
        .map(|c| {
            (
                vec![("column", c.name.clone())],
                f64::from(u8::from(c.drifted)),
            )
        })
        .collect();
    f.gauge(
        "tabship_fleet_drift_detected",
        "1 when the column drifted over the merged window",
        &detected,
    );
    f.gauge(
        "tabship_fleet_labelled_rows",
        "Logged rows joined to a true label",
        &[(vec![], j.labelled_rows as f64)],
    );
    if let Some(q) = &report.quality {
        let metrics: Vec<_> = q
            .metrics
            .iter()
            .map(|(name, value)| (vec![("metric", name.clone())], *value))
            .collect();
        f.gauge(
            "tabship_fleet_live_metric",
            "Metric of the model on the labelled logged rows (accuracy, f1_macro, roc_auc, \
             log_loss; mae, rmse, r2), as tabship evaluate computes it",
            &metrics,
        );
    }
    let counts: Vec<_> = [
        ("bad_lines", j.bad_lines),
        ("other_version_lines", j.other_version_lines),
        ("duplicate_predictions", j.duplicate_predictions),
        ("conflicting_predictions", j.conflicting_predictions),
        ("invalid_rows", j.invalid_rows),
        ("unmatched_labels", j.unmatched_labels),
        ("invalid_labels", j.invalid_labels),
        ("duplicate_labels", j.duplicate_labels),
        ("relabelled", j.relabelled),
    ]
    .into_iter()
    .map(|(what, n)| (vec![("event", what.to_owned())], n as f64))
    .collect();
    f.gauge(
        "tabship_fleet_log_events",
        "What reading and joining the logs found, by kind (skipped or merged lines and labels)",
        &counts,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_and_numbers_are_written_as_the_format_wants() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(number(f64::INFINITY), "+Inf");
        assert_eq!(number(f64::NEG_INFINITY), "-Inf");
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(number(0.25), "0.25");
    }
}
