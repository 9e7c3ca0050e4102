//! `tabship import <library> MODEL --reference DATA.csv -o OUT.tabship`: a model trained
//! elsewhere, completed by reference data, saved as an artifact.

use std::io::Write;

use tabship_import::reference::{ReferenceData, ReferenceOptions, assemble};
use tabship_import::{Imported, lightgbm, xgboost};

use crate::cli::{ImportArgs, ImportModelArgs, ImportSource};
use crate::error::{Error, Result};

/// Reads the model with its library's importer, assembles and saves the pipeline.
pub fn run(args: ImportArgs) -> Result<()> {
    let (imported, args) = match args.source {
        ImportSource::Xgboost(a) => (xgboost::read_file(&a.model)?, a),
        ImportSource::Lightgbm(a) => (lightgbm::read_file(&a.model)?, a),
    };
    save(imported, &args)
}

fn save(imported: Imported, args: &ImportModelArgs) -> Result<()> {
    let library = imported.library;
    let version = imported
        .library_version
        .clone()
        .unwrap_or_else(|| "?".into());
    let algorithm = imported.algorithm.clone();
    let n_trees = imported.model.trees.len();
    let data = ReferenceData::read_csv(&args.reference)?;
    let options = ReferenceOptions {
        target: args.target.clone(),
        categorical: args.categorical.clone(),
        name: args.name.clone(),
        version: Some(args.model_version.clone()),
    };
    let pipeline = assemble(imported, &data, &options)?;
    pipeline.save(&args.output)?;
    let minor = tabship::artifact::required_minor(&pipeline.to_parts());
    let mut out = std::io::stdout().lock();
    let w = |e| Error::io("stdout", e);
    writeln!(
        out,
        "imported {library} {version} model: {algorithm}, {n_trees} trees, {} features",
        pipeline.schema().len()
    )
    .map_err(w)?;
    writeln!(
        out,
        "reference: {} rows from {} (schema, category codes, drift profile)",
        data.n_rows(),
        args.reference.display()
    )
    .map_err(w)?;
    writeln!(out, "saved {} (format 1.{minor})", args.output.display()).map_err(w)?;
    out.flush().map_err(w)
}
