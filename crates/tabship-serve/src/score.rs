//! Scoring request rows: each row is encoded once (so the Unknown/Other/Missing counters see it
//! once) and the pipeline fills the class, the probabilities or the value in the same pass (its
//! stored decision threshold and target transform applied).

use tabship::model::Outputs;
use tabship::{Pipeline, Record, Task};

/// Rows encoded and predicted together.
const CHUNK_ROWS: usize = 256;

/// The outputs for a list of rows.
#[derive(Debug, Clone, PartialEq)]
pub enum Scores {
    /// Classifier: class index per row and row-major probabilities (`rows × classes`).
    Classes {
        /// Predicted class index per row.
        classes: Vec<usize>,
        /// Probabilities, `classes.len() × n_classes`.
        proba: Vec<f64>,
    },
    /// Regressor: one value per row.
    Values(Vec<f64>),
}

/// Scores `rows`; on failure returns the 0-based row and the core's error.
pub fn score<R: Record>(
    pipeline: &Pipeline,
    rows: &[R],
) -> Result<Scores, (usize, tabship::Error)> {
    let encoder = pipeline.encoder();
    let stride = encoder.stride();
    let n = rows.len();
    let k = pipeline.classes().len();
    let classify = pipeline.task() == Task::Classification;
    let mut classes = vec![0usize; if classify { n } else { 0 }];
    let mut proba = vec![0.0f64; if classify { n * k } else { 0 }];
    let mut values = vec![0.0f64; if classify { 0 } else { n }];
    let mut entries = vec![(0u32, 0.0f64); CHUNK_ROWS.min(n) * stride];
    let mut scratch = Vec::new();
    let mut start = 0;
    while start < n {
        let end = (start + CHUNK_ROWS).min(n);
        let chunk = &mut entries[..(end - start) * stride];
        for (i, row) in rows[start..end].iter().enumerate() {
            encoder
                .encode_record(row, &mut chunk[i * stride..(i + 1) * stride])
                .map_err(|e| (start + i, e))?;
        }
        let out = if classify {
            Outputs {
                classes: Some(&mut classes[start..end]),
                proba: Some(&mut proba[start * k..end * k]),
                values: None,
            }
        } else {
            Outputs {
                values: Some(&mut values[start..end]),
                ..Outputs::default()
            }
        };
        pipeline.predict_encoded(chunk, &mut scratch, out);
        start = end;
    }
    Ok(if classify {
        Scores::Classes { classes, proba }
    } else {
        Scores::Values(values)
    })
}
