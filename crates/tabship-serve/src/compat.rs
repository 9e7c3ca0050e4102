//! Whether a new version can replace the one serving a model without breaking its clients.
//!
//! A version is *compatible* with the serving one when every request that works today still works
//! and means the same thing: same task, target and classes, the same columns with the same kinds
//! in the same order (a new artifact name alone is reported, not refused). The one change allowed is an added column that clients may
//! leave out: the server treats absent fields as missing for this model (`--absent-as-missing`)
//! and training saw missing values in that column (so the model learned what a missing value
//! means there instead of being fed an imputed guess). Anything else needs an explicit `force`.

use std::fmt;

use tabship::{ColumnKind, Pipeline, Task};

use crate::error::FieldError;

/// One way a candidate version differs from the serving one.
#[derive(Debug, Clone, PartialEq)]
pub enum Difference {
    /// The artifacts' own names differ (`tabship train --name`).
    Name {
        /// The serving version's artifact name.
        serving: String,
        /// The candidate's.
        candidate: String,
    },
    /// Classification against regression.
    Task {
        /// The serving version's task.
        serving: Task,
        /// The candidate's.
        candidate: Task,
    },
    /// The target column differs.
    Target {
        /// The serving version's target.
        serving: String,
        /// The candidate's.
        candidate: String,
    },
    /// The class labels differ.
    Classes {
        /// Labels only the serving version predicts.
        removed: Vec<String>,
        /// Labels only the candidate predicts.
        added: Vec<String>,
    },
    /// Columns the candidate no longer reads (clients' values would be silently ignored).
    ColumnsRemoved(Vec<String>),
    /// Columns only the candidate reads; `optional` lists those clients may leave out.
    ColumnsAdded {
        /// Every added column.
        columns: Vec<String>,
        /// Whether clients may omit all of them (absent fields are missing for this model and
        /// training saw missing values in each).
        optional: bool,
    },
    /// A column changed kind.
    KindChanged {
        /// The column.
        column: String,
        /// Its kind in the serving version.
        serving: ColumnKind,
        /// Its kind in the candidate.
        candidate: ColumnKind,
    },
    /// The shared columns are in another order (positional `features` would land in the wrong
    /// columns without any error).
    Reordered,
}

impl Difference {
    /// True when the difference would break (or silently change) existing clients. The
    /// artifact's own name is a label chosen at training (it defaults to the target's name), so
    /// a new name alone is reported but breaks nothing.
    pub fn is_breaking(&self) -> bool {
        !matches!(
            self,
            Difference::Name { .. } | Difference::ColumnsAdded { optional: true, .. }
        )
    }

    /// The difference as an entry of the error's `fields` list.
    pub(crate) fn field_error(&self) -> FieldError {
        let (field, expected, received) = match self {
            Difference::Name { serving, candidate } => (
                "name".to_owned(),
                format!("`{serving}`"),
                format!("`{candidate}`"),
            ),
            Difference::Task { serving, candidate } => (
                "task".to_owned(),
                serving.name().to_owned(),
                candidate.name().to_owned(),
            ),
            Difference::Target { serving, candidate } => (
                "target".to_owned(),
                format!("`{serving}`"),
                format!("`{candidate}`"),
            ),
            Difference::Classes { removed, added } => (
                "classes".to_owned(),
                "the same class labels".to_owned(),
                format!(
                    "removed: {}; added: {}",
                    ticks_or_none(removed),
                    ticks_or_none(added)
                ),
            ),
            Difference::ColumnsRemoved(columns) => (
                "columns.removed".to_owned(),
                "every column the serving version reads".to_owned(),
                format!("{} no longer read", ticks(columns)),
            ),
            Difference::ColumnsAdded { columns, optional } => (
                "columns.added".to_owned(),
                if *optional {
                    "no new column, or columns clients may leave out".to_owned()
                } else {
                    "no new column, or columns clients may leave out (--absent-as-missing for this model, and missing values seen in training)".to_owned()
                },
                format!("{} added", ticks(columns)),
            ),
            Difference::KindChanged {
                column,
                serving,
                candidate,
            } => (
                format!("columns.{column}.kind"),
                serving.name().to_owned(),
                candidate.name().to_owned(),
            ),
            Difference::Reordered => (
                "columns.order".to_owned(),
                "the shared columns in the same order".to_owned(),
                "another order".to_owned(),
            ),
        };
        FieldError {
            field,
            expected,
            received,
            row: None,
            index: None,
        }
    }
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = self.field_error();
        write!(f, "{}: {} instead of {}", e.field, e.received, e.expected)
    }
}

fn ticks(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn ticks_or_none(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_owned()
    } else {
        ticks(names)
    }
}

/// Every difference between the serving pipeline and a candidate. `absent_is_missing`: whether
/// the server treats absent fields as missing for this model.
pub fn differences(
    serving: &Pipeline,
    candidate: &Pipeline,
    absent_is_missing: bool,
) -> Vec<Difference> {
    let mut out = Vec::new();
    let (old, new) = (serving.training(), candidate.training());
    if !old.name.is_empty() && !new.name.is_empty() && old.name != new.name {
        out.push(Difference::Name {
            serving: old.name.clone(),
            candidate: new.name.clone(),
        });
    }
    if serving.task() != candidate.task() {
        out.push(Difference::Task {
            serving: serving.task(),
            candidate: candidate.task(),
        });
    }
    if !old.target.is_empty() && !new.target.is_empty() && old.target != new.target {
        out.push(Difference::Target {
            serving: old.target.clone(),
            candidate: new.target.clone(),
        });
    }
    let labels = |p: &Pipeline| p.classes().iter().map(ToString::to_string).collect();
    let (old_classes, new_classes): (Vec<String>, Vec<String>) =
        (labels(serving), labels(candidate));
    let removed: Vec<String> = only_in(&old_classes, &new_classes);
    let added: Vec<String> = only_in(&new_classes, &old_classes);
    if !removed.is_empty() || !added.is_empty() {
        out.push(Difference::Classes { removed, added });
    }
    let (old_schema, new_schema) = (serving.schema(), candidate.schema());
    let removed: Vec<String> = old_schema
        .columns
        .iter()
        .filter(|c| new_schema.position(&c.name).is_none())
        .map(|c| c.name.clone())
        .collect();
    if !removed.is_empty() {
        out.push(Difference::ColumnsRemoved(removed));
    }
    let added: Vec<&tabship::ColumnSpec> = new_schema
        .columns
        .iter()
        .filter(|c| old_schema.position(&c.name).is_none())
        .collect();
    if !added.is_empty() {
        out.push(Difference::ColumnsAdded {
            columns: added.iter().map(|c| c.name.clone()).collect(),
            optional: absent_is_missing && added.iter().all(|c| c.nullable),
        });
    }
    for column in &old_schema.columns {
        if let Some(i) = new_schema.position(&column.name) {
            let kind = new_schema.columns[i].kind;
            if kind != column.kind {
                out.push(Difference::KindChanged {
                    column: column.name.clone(),
                    serving: column.kind,
                    candidate: kind,
                });
            }
        }
    }
    let shared_old: Vec<&str> = old_schema
        .names()
        .filter(|n| new_schema.position(n).is_some())
        .collect();
    let shared_new: Vec<&str> = new_schema
        .names()
        .filter(|n| old_schema.position(n).is_some())
        .collect();
    if shared_old != shared_new {
        out.push(Difference::Reordered);
    }
    out
}

fn only_in(a: &[String], b: &[String]) -> Vec<String> {
    a.iter().filter(|x| !b.contains(x)).cloned().collect()
}

/// `Err` ([`crate::Error::IncompatibleVersions`]) when `model`, read from `path`, would break the
/// clients of `serving`: for versions that arrive without an admin's `force` (start-up, a
/// followed model directory).
pub(crate) fn refuse_breaking(
    serving: &crate::LoadedModel,
    model: &crate::LoadedModel,
    absent_as_missing: bool,
    path: &std::path::Path,
) -> crate::Result<()> {
    let found = differences(&serving.pipeline, &model.pipeline, absent_as_missing);
    if !found.iter().any(Difference::is_breaking) {
        return Ok(());
    }
    Err(crate::Error::IncompatibleVersions {
        name: model.name.clone(),
        serving: serving.version.clone(),
        version: model.version.clone(),
        path: path.display().to_string(),
        differences: describe(&found),
    })
}

/// Every difference, as one sentence for logs and error messages.
pub fn describe(differences: &[Difference]) -> String {
    differences
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}
