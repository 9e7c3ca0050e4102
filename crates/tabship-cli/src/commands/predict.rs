//! `tabship predict`: the input rows with a `prediction` column (and probabilities) appended.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use tabship::{Pipeline, Predictions, TextBatchBuilder};

use crate::cli::PredictArgs;
use crate::error::{Error, Result};
use crate::output::Sink;

/// Rows read, predicted and written at a time.
const CHUNK_ROWS: usize = 65_536;

pub fn run(args: PredictArgs) -> Result<()> {
    let mut pipeline = Pipeline::load(&args.model)?;
    pipeline.set_threads(
        args.threads
            .unwrap_or_else(crate::commands::default_threads),
    );
    if args.proba && pipeline.classes().is_empty() {
        return Err(tabship::Error::WrongTask {
            operation: "--proba",
            needs: "classification",
            task: "regression",
        }
        .into());
    }
    let file = std::fs::File::open(&args.data).map_err(|e| Error::io(&args.data, e))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut reader = csv::Reader::from_reader(file);
    let header = reader
        .headers()
        .map_err(|e| Error::csv(&args.data, &e))?
        .clone();
    let header_names: Vec<&str> = header.iter().collect();

    let mut out_header = header.clone();
    out_header.push_field("prediction");
    if args.proba {
        for class in pipeline.classes() {
            out_header.push_field(&format!("probability_{class}"));
        }
    }
    let sink = Sink::open(args.output.as_deref())?;
    let mut writer = csv::Writer::from_writer(sink);
    let out_name = args
        .output
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from("<stdout>"));
    writer
        .write_record(&out_header)
        .map_err(|e| Error::csv(&out_name, &e))?;

    let progress = if std::io::stderr().is_terminal() && size > 4 << 20 {
        let bar = ProgressBar::new(size);
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };

    let mut records = Vec::with_capacity(CHUNK_ROWS);
    let mut rows_done = 0usize;
    let mut eof = false;
    while !eof {
        records.clear();
        for _ in 0..CHUNK_ROWS {
            let mut record = csv::StringRecord::new();
            if !reader
                .read_record(&mut record)
                .map_err(|e| Error::csv(&args.data, &e))?
            {
                eof = true;
                break;
            }
            records.push(record);
        }
        if records.is_empty() {
            break;
        }
        let mut builder = TextBatchBuilder::new(pipeline.schema(), &header_names)?;
        for record in &records {
            builder
                .push_row(record.iter())
                .map_err(|e| at_file_row(e, rows_done))?;
        }
        let batch = builder.finish();
        let (predictions, proba) = if args.proba {
            let (p, proba) = pipeline
                .predict_batch_with_proba(&batch)
                .map_err(|e| at_file_row(e, rows_done))?;
            (p, Some(proba))
        } else {
            (
                pipeline
                    .predict_batch(&batch)
                    .map_err(|e| at_file_row(e, rows_done))?,
                None,
            )
        };
        for (i, record) in records.iter_mut().enumerate() {
            match &predictions {
                Predictions::Classes(c) => {
                    record.push_field(&pipeline.classes()[c[i]].to_string());
                }
                Predictions::Values(v) => record.push_field(&v[i].to_string()),
            }
            if let Some(proba) = &proba {
                for p in proba.row(i) {
                    record.push_field(&p.to_string());
                }
            }
            writer
                .write_record(&*record)
                .map_err(|e| Error::csv(&out_name, &e))?;
        }
        rows_done += records.len();
        progress.set_position(reader.position().byte());
    }
    progress.finish_and_clear();
    let sink = writer
        .into_inner()
        .map_err(|e| Error::io(&out_name, e.into_error()))?;
    sink.commit()?;
    report(&pipeline, rows_done, args.output.as_deref());
    Ok(())
}

/// Batch errors count rows within the chunk; make them count rows of the file.
fn at_file_row(e: tabship::Error, offset: usize) -> Error {
    match e {
        tabship::Error::InvalidValue {
            column,
            expected,
            received,
            row: Some(row),
        } => tabship::Error::InvalidValue {
            column,
            expected,
            received,
            row: Some(row + offset),
        }
        .into(),
        other => other.into(),
    }
}

/// A summary on stderr: rows, and every column that saw Unknown, Other or Missing values.
fn report(pipeline: &Pipeline, rows: usize, output: Option<&std::path::Path>) {
    let stats = pipeline.encoding_stats();
    match output {
        Some(path) => eprintln!("predicted {rows} rows into {}", path.display()),
        None => eprintln!("predicted {rows} rows"),
    }
    for (name, c) in &stats.columns {
        if c.unknown + c.other + c.missing > 0 {
            eprintln!(
                "  {name}: {} unknown, {} other, {} missing",
                c.unknown, c.other, c.missing
            );
        }
    }
}
