//! One module per subcommand.

pub mod bench;
pub mod compare;
pub mod demo;
pub mod drift;
pub mod evaluate;
pub mod export;
pub mod import;
pub mod inspect;
pub mod keys;
pub mod labels;
pub mod monitor;
pub mod platform;
pub mod predict;
pub mod retrain;
pub mod serve;
pub mod train;

/// All cores, as the default for fitting forests and batch prediction.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// The schema a command reads its input CSV against: the pipeline's, with the NA values given
/// on this command line added to the ones stored in the artifact.
pub fn input_schema(
    pipeline: &tabship::Pipeline,
    csv: &tabship_train::csv_input::CsvOptions,
) -> tabship::Result<tabship::Schema> {
    let schema = pipeline.schema();
    schema
        .clone()
        .with_na_values(schema.na_values.extended(&csv.na_values))
}
