//! The input schema: ordered, named feature columns with a kind and nullability.

use serde::{Deserialize, Serialize};

use crate::missing::NaValues;

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    /// Real numbers. Missing values are imputed.
    Numeric,
    /// Text categories, matched exactly (case-sensitive, no trimming).
    Categorical,
}

impl ColumnKind {
    /// How the kind reads in an error message ("expected a number").
    pub fn expected(self) -> &'static str {
        match self {
            ColumnKind::Numeric => "a number",
            ColumnKind::Categorical => "a category (text)",
        }
    }

    /// The kind's lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            ColumnKind::Numeric => "numeric",
            ColumnKind::Categorical => "categorical",
        }
    }
}

/// One feature column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnSpec {
    /// The column's name; input is matched by it.
    pub name: String,
    /// Numeric or categorical.
    pub kind: ColumnKind,
    /// Whether training data had missing values in this column. Informational: missing values are
    /// accepted at prediction either way (imputed, or sent to the Missing slot) and counted.
    pub nullable: bool,
}

/// The ordered feature columns a pipeline reads, and which texts in them mean missing. The
/// target column is not part of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schema {
    /// Feature columns in model order.
    pub columns: Vec<ColumnSpec>,
    /// The texts that are missing values (format 1.3; written only when it is not the default,
    /// and older artifacts read as the default).
    #[serde(default, skip_serializing_if = "NaValues::is_default")]
    pub na_values: NaValues,
}

impl Schema {
    /// Creates a schema with the default NA policy; names must be unique and non-empty.
    pub fn new(columns: Vec<ColumnSpec>) -> crate::Result<Self> {
        let schema = Schema {
            columns,
            na_values: NaValues::default(),
        };
        schema.validate()?;
        Ok(schema)
    }

    /// This schema with another NA policy.
    pub fn with_na_values(self, na_values: NaValues) -> crate::Result<Self> {
        let schema = Schema { na_values, ..self };
        schema.validate()?;
        Ok(schema)
    }

    /// Number of feature columns.
    pub fn len(&self) -> usize {
        self.columns.len()
    }

    /// True when the schema has no columns.
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }

    /// Position of a column by name.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// Column names in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(|c| c.name.as_str())
    }

    pub(crate) fn validate(&self) -> crate::Result<()> {
        self.na_values.validate("schema.na_values")?;
        let mut seen = std::collections::HashSet::new();
        for (i, column) in self.columns.iter().enumerate() {
            if column.name.is_empty() {
                return Err(crate::Error::field(
                    format!("schema.columns[{i}].name"),
                    "column names must not be empty",
                ));
            }
            if !seen.insert(column.name.as_str()) {
                return Err(crate::Error::field(
                    format!("schema.columns[{i}].name"),
                    format!("duplicate column `{}`", column.name),
                ));
            }
        }
        Ok(())
    }
}
