//! Scoring a request's rows for the data plane: parsed against the model's schema, scored by
//! the core's record path (`Pipeline::score_records`, on the blocking pool when large), drift
//! observed, overflowing values refused, and the values that went to an Unknown slot noted.

use std::sync::Arc;

use serde_json::{Map, Value as Json_};
use tabship::encode::CategoryState;
use tabship::{Predictions, Scores};

use crate::error::{ApiError, FieldError};
use crate::input::{self, ParseOptions};
use crate::registry::LoadedModel;
use crate::state::AppState;

/// Scored rows.
#[derive(Debug)]
pub(crate) struct Scored {
    /// The outputs.
    pub scores: Scores,
    /// True when the request was one record (`prediction`) rather than a list.
    pub single: bool,
    /// Per row: the values (as sent) that went to an Unknown slot, by column.
    pub unknown: Vec<Map<String, Json_>>,
}

/// Per row, the categorical values never seen in training, by column.
fn unknown_values(model: &LoadedModel, rows: &[input::JsonRow<'_>]) -> Vec<Map<String, Json_>> {
    let encoder = model.pipeline.encoder();
    let categorical: Vec<(&str, &tabship::encode::CategoricalEncoder)> = model
        .pipeline
        .schema()
        .columns
        .iter()
        .enumerate()
        .filter_map(|(i, c)| encoder.categorical(i).map(|e| (c.name.as_str(), e)))
        .collect();
    rows.iter()
        .map(|row| {
            let mut found = Map::new();
            for (name, enc) in &categorical {
                if let Some(value) = row.sent(name) {
                    if enc.state_of(input::field_value(value)) == CategoryState::Unknown {
                        found.insert((*name).to_owned(), value.clone());
                    }
                }
            }
            found
        })
        .collect()
}

/// Scores a parsed body on `model`, on the blocking pool when it is large.
pub(crate) async fn score_body(
    state: &AppState,
    model: &Arc<LoadedModel>,
    body: Arc<Json_>,
    options: ParseOptions,
) -> Result<Scored, ApiError> {
    let large = match body.as_ref() {
        Json_::Object(o) => o
            .get("instances")
            .or_else(|| o.get("features"))
            .and_then(Json_::as_array)
            .is_some_and(|a| a.len() >= state.options.blocking_rows),
        Json_::Array(a) => a.len() >= state.options.blocking_rows,
        _ => false,
    };
    let run = {
        let model = model.clone();
        move || -> Result<Scored, ApiError> {
            let rows = input::parse(&body, model.pipeline.schema(), options)?;
            let scores = model
                .pipeline
                .score_records(&rows.rows)
                .map_err(|(row, e)| ApiError::from_prediction(e, (!rows.single).then_some(row)))?;
            if let Scores::Values(values) = &scores {
                overflowed(values, rows.single)?;
            }
            if model.monitor.has_drift_profile() {
                let predictions = match &scores {
                    Scores::Classes { classes, .. } => Predictions::Classes(classes.clone()),
                    Scores::Values(v) => Predictions::Values(v.clone()),
                };
                model
                    .monitor
                    .observe(&model.pipeline, &rows.rows, &predictions);
            }
            Ok(Scored {
                unknown: unknown_values(&model, &rows.rows),
                scores,
                single: rows.single,
            })
        }
    };
    if large {
        tokio::task::spawn_blocking(run)
            .await
            .map_err(ApiError::internal)?
    } else {
        run()
    }
}

/// A regressor fed values far outside its training range (`1e308`) can compute an infinite or
/// NaN value, which JSON cannot carry (it would go out as `null`, a prediction no client
/// expects): such a request is refused, naming each row.
fn overflowed(values: &[f64], single: bool) -> Result<(), ApiError> {
    let total = values.iter().filter(|v| !v.is_finite()).count();
    if total == 0 {
        return Ok(());
    }
    let fields: Vec<FieldError> = values
        .iter()
        .enumerate()
        .filter(|(_, v)| !v.is_finite())
        .take(input::MAX_FIELD_ERRORS)
        .map(|(row, v)| {
            FieldError::new(
                "prediction",
                "a finite value: every input within a sane range of the training data",
                format!("`{v}`"),
                (!single).then_some(row),
            )
        })
        .collect();
    let mut error = ApiError::invalid_fields_of(fields, total);
    error.code = "prediction_overflow";
    error.message = format!(
        "the model's output overflows for {} (inputs far outside the training data); nothing was predicted",
        if total == 1 {
            "1 row".to_owned()
        } else {
            format!("{total} rows")
        }
    );
    Err(error)
}

/// Counts a request's predictions in `tabship_predictions_total`.
pub(crate) fn count_predictions(model: &LoadedModel, scores: &Scores) {
    match scores {
        Scores::Classes { classes, .. } => classes.iter().for_each(|&c| model.count_prediction(c)),
        Scores::Values(v) => v.iter().for_each(|_| model.count_prediction(0)),
    }
}
