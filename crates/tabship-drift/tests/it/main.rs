//! Integration tests of tabship-drift on plain arrays: degenerate inputs give defined results,
//! profiles round-trip, reports and monitors agree.

mod compare;
mod degenerate;
mod few_values;
mod policy;
mod properties;
