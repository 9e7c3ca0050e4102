//! Labelled CSV input: the feature rows of a file whose training-target column holds the true
//! outcomes, read against an artifact. `evaluate` and `compare` read their data through it.

use std::path::Path;

use tabship::{Batch, Label, Labels, Pipeline, Skipped};
use tabship_train::csv_input::CsvOptions;

use crate::error::{Error, Result};
use crate::input::CsvInput;

/// The labelled rows of a file and their true outcomes.
pub struct Labelled {
    /// The feature rows that have a usable label.
    pub batch: Batch,
    /// Their labels, and the rows left out.
    pub labels: Labels,
}

/// Reads the rows of `path` whose target (the pipeline's training target) is a usable label:
/// rows without one are skipped and counted, a file without any is an error naming why.
/// `command` names what needs the labels (`evaluate`, `compare`).
pub fn read(path: &Path, pipeline: &Pipeline, csv: &CsvOptions, command: &str) -> Result<Labelled> {
    let target = pipeline.training().target.clone();
    let mut input = CsvInput::open(path, pipeline, csv)?;
    let target_at = input
        .header()
        .iter()
        .position(|h| h == target)
        .ok_or_else(|| tabship::Error::MissingColumn {
            column: target.clone(),
            expected: "the true labels (the training target)",
        })?;
    let mut labels = Labels::new(pipeline.task());
    let batch = input.read_batch(|i, record| {
        let truth = record.get(target_at).unwrap_or("");
        let label = pipeline.label(&target, truth).map_err(|e| e.at_row(i))?;
        // Only labelled rows are read as features: a row without a usable target is skipped
        // whatever its other values.
        let labelled = !matches!(label, Label::Missing | Label::UnknownClass);
        labels.push(i, label);
        Ok(labelled)
    })?;
    if batch.n_rows() == 0 {
        let Skipped {
            missing_target: missing,
            unknown_labels,
        } = labels.skipped;
        if missing + unknown_labels == 0 {
            return Err(crate::input::no_rows(
                path,
                &format!("{command} needs labelled rows"),
            ));
        }
        return Err(Error::Csv {
            path: path.to_path_buf(),
            message: format!(
                "no rows to {command}: {missing} rows have no `{target}` value and {unknown_labels} a label the model does not know"
            ),
        });
    }
    Ok(Labelled { batch, labels })
}
