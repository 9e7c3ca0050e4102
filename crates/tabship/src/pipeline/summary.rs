//! What a client needs to know of a pipeline's input, in one type: each column's name, kind and
//! nullability, its training categories, a typical value and its fitted encoder. `tabship
//! inspect`, Python, and the server's `/models`, `/ui` and OpenAPI all describe columns from it.

use serde::Serialize;
use tabship_drift::Distribution;

use super::Pipeline;
use crate::encode::ColumnEncoderSpec;
use crate::schema::ColumnKind;

/// One input column as clients see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnSummary {
    /// The column's name.
    pub name: String,
    /// Numeric or categorical.
    pub kind: ColumnKind,
    /// Whether training saw missing values in it.
    pub nullable: bool,
    /// A categorical column's training categories with a slot of their own (empty for
    /// numbers).
    pub categories: Vec<String>,
    /// A categorical column's rare training categories, encoded together as Other.
    pub rare_categories: Vec<String>,
    /// A typical value, from the training data: a numeric column's fitted fill value (the
    /// training median by default); a categorical column's most frequent training category
    /// from the reference profile (format 1.2), else its imputed or first category.
    pub example: Example,
    /// The fitted encoder.
    pub encoder: ColumnEncoderSpec,
}

impl ColumnSummary {
    /// Every training category (kept and rare), sorted: what a form or a schema offers.
    pub fn known_categories(&self) -> Vec<&str> {
        let mut all: Vec<&str> = self
            .categories
            .iter()
            .chain(&self.rare_categories)
            .map(String::as_str)
            .collect();
        all.sort_unstable();
        all
    }
}

/// A typical value of a column.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Example {
    /// A number.
    Number(f64),
    /// A category.
    Category(String),
    /// None known (a categorical column without categories).
    None,
}

impl Pipeline {
    /// Every input column as clients see it, in schema order.
    pub fn column_summaries(&self) -> Vec<ColumnSummary> {
        let profile = self.drift_profile();
        self.schema()
            .columns
            .iter()
            .zip(self.encoder().specs())
            .enumerate()
            .map(|(i, (column, encoder))| {
                let (categories, rare_categories, example) = match &encoder {
                    ColumnEncoderSpec::Numeric(n) => {
                        (Vec::new(), Vec::new(), Example::Number(n.imputation.value))
                    }
                    ColumnEncoderSpec::Categorical(c) => {
                        let most_frequent = profile
                            .and_then(|p| p.columns.get(i))
                            .and_then(|col| match &col.distribution {
                                Distribution::Categorical(cat) => cat.categories.first(),
                                Distribution::Numeric(_) => None,
                            })
                            .filter(|s| !s.is_empty());
                        let fill = c.fill_category.map_or(0, |i| i as usize);
                        let example = most_frequent
                            .or_else(|| c.categories.get(fill))
                            .or_else(|| c.other_categories.first())
                            .map_or(Example::None, |s| Example::Category(s.clone()));
                        (c.categories.clone(), c.other_categories.clone(), example)
                    }
                };
                ColumnSummary {
                    name: column.name.clone(),
                    kind: column.kind,
                    nullable: column.nullable,
                    categories,
                    rare_categories,
                    example,
                    encoder,
                }
            })
            .collect()
    }
}
