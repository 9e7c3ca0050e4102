//! The target column: task inference, class labels, and rows without a target.

use std::collections::BTreeSet;

use tabship::{ClassLabel, ColumnValues, Task};

use crate::{Error, Result};

/// A numeric target with at most this many distinct integer values is taken as class labels.
pub const MAX_INFERRED_INTEGER_CLASSES: usize = 10;

/// The prepared target.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// Class labels (sorted) and, per kept row, the index of its label.
    Classes {
        /// Sorted labels.
        classes: Vec<ClassLabel>,
        /// One class index per kept row.
        y: Vec<usize>,
    },
    /// Regression values, one per kept row.
    Values(Vec<f64>),
}

/// A target ready to fit on: the task, the values, and which batch rows have a target.
#[derive(Debug, Clone)]
pub struct PreparedTarget {
    /// Classification or regression.
    pub task: Task,
    /// The values of the kept rows.
    pub target: Target,
    /// Batch rows whose target is present (rows with a missing target are dropped).
    pub rows: Vec<usize>,
}

fn target_error(column: &str, reason: impl Into<String>) -> Error {
    Error::Target {
        column: column.to_owned(),
        reason: reason.into(),
    }
}

/// Prepares the target column `name`, inferring the task when `task` is `None`: text → classification;
/// numbers → classification when all are integers with at most
/// [`MAX_INFERRED_INTEGER_CLASSES`] distinct values, regression otherwise.
pub fn prepare(name: &str, values: &ColumnValues, task: Option<Task>) -> Result<PreparedTarget> {
    match values {
        ColumnValues::Categorical(v) => {
            if task == Some(Task::Regression) {
                let bad = v
                    .dictionary()
                    .iter()
                    .find(|t| t.trim().parse::<f64>().is_err());
                return Err(target_error(
                    name,
                    format!(
                        "regression needs numbers, got `{}`",
                        bad.map_or("", String::as_str)
                    ),
                ));
            }
            let rows: Vec<usize> = (0..v.len()).filter(|&i| v.get(i).is_some()).collect();
            let distinct: BTreeSet<&str> = rows.iter().filter_map(|&i| v.get(i)).collect();
            let classes: Vec<ClassLabel> = distinct
                .iter()
                .map(|t| ClassLabel::Text((*t).to_owned()))
                .collect();
            let y = rows
                .iter()
                .map(|&i| {
                    let t = v.get(i).unwrap_or_default();
                    distinct.iter().position(|d| *d == t).unwrap_or(0)
                })
                .collect();
            finish(
                name,
                Task::Classification,
                Target::Classes { classes, y },
                rows,
            )
        }
        ColumnValues::Numeric(v) => {
            let rows: Vec<usize> = (0..v.len()).filter(|&i| !v[i].is_nan()).collect();
            let integers = rows
                .iter()
                .all(|&i| v[i].fract() == 0.0 && v[i].abs() < 1e15);
            let distinct: BTreeSet<i64> = if integers {
                rows.iter().map(|&i| v[i] as i64).collect()
            } else {
                BTreeSet::new()
            };
            let task = task.unwrap_or(
                if integers && distinct.len() <= MAX_INFERRED_INTEGER_CLASSES {
                    Task::Classification
                } else {
                    Task::Regression
                },
            );
            match task {
                Task::Regression => {
                    let values = rows.iter().map(|&i| v[i]).collect();
                    finish(name, task, Target::Values(values), rows)
                }
                Task::Classification => {
                    if !integers {
                        let bad = rows.iter().map(|&i| v[i]).find(|x| x.fract() != 0.0);
                        return Err(target_error(
                            name,
                            format!(
                                "classification needs labels; numeric labels must be integers, got `{}`",
                                bad.unwrap_or(f64::NAN)
                            ),
                        ));
                    }
                    let classes: Vec<i64> = distinct.into_iter().collect();
                    let y = rows
                        .iter()
                        .map(|&i| classes.binary_search(&(v[i] as i64)).unwrap_or(0))
                        .collect();
                    let classes = classes.into_iter().map(ClassLabel::Integer).collect();
                    finish(name, task, Target::Classes { classes, y }, rows)
                }
            }
        }
    }
}

fn finish(name: &str, task: Task, target: Target, rows: Vec<usize>) -> Result<PreparedTarget> {
    if rows.is_empty() {
        return Err(target_error(name, "every value is missing"));
    }
    if let Target::Classes { classes, .. } = &target {
        if classes.len() < 2 {
            return Err(target_error(
                name,
                format!(
                    "classification needs at least two classes, found only `{}`",
                    classes.first().map(ToString::to_string).unwrap_or_default()
                ),
            ));
        }
    }
    Ok(PreparedTarget { task, target, rows })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tabship::CategoricalValues;

    #[test]
    fn infers_tasks() {
        let labels = ColumnValues::Categorical(CategoricalValues::from_options([
            Some("b"),
            Some("a"),
            None,
            Some("b"),
        ]));
        let t = prepare("y", &labels, None).unwrap();
        assert_eq!(t.task, Task::Classification);
        assert_eq!(t.rows, [0, 1, 3]);
        assert_eq!(
            t.target,
            Target::Classes {
                classes: vec![ClassLabel::Text("a".into()), ClassLabel::Text("b".into())],
                y: vec![1, 0, 1]
            }
        );
        let ints = ColumnValues::Numeric(vec![0.0, 1.0, 1.0]);
        assert_eq!(
            prepare("y", &ints, None).unwrap().task,
            Task::Classification
        );
        let reals = ColumnValues::Numeric(vec![0.5, 1.0, 1.0]);
        assert_eq!(prepare("y", &reals, None).unwrap().task, Task::Regression);
        let err = prepare("y", &reals, Some(Task::Classification)).unwrap_err();
        assert!(err.to_string().contains("got `0.5`"));
        let one = ColumnValues::Numeric(vec![1.0, 1.0]);
        assert!(
            prepare("y", &one, None)
                .unwrap_err()
                .to_string()
                .contains("two classes")
        );
    }
}
