//! `tabship predict`: the input rows with a `prediction` column (and probabilities) appended.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use tabship::{Pipeline, Predictions};

use crate::cli::{InvalidRows, PredictArgs};
use crate::error::{Error, Result};
use crate::input::CsvInput;
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
        return Err(Error::Usage(format!(
            "--proba: `{}` is a regression model, it predicts values, not class probabilities; leave out --proba",
            args.model.display()
        )));
    }
    // A header-only file is valid: the output is the header alone.
    let mut reader = CsvInput::open(&args.data, &pipeline, &args.csv.options())?;
    let size = std::fs::metadata(&args.data).map_or(0, |m| m.len());
    let header = reader.header().clone();

    let mut out_header = header.clone();
    out_header.push_field("prediction");
    if args.proba {
        for class in pipeline.classes() {
            out_header.push_field(&format!("probability_{class}"));
        }
    }
    if args.invalid_rows == InvalidRows::Mark {
        out_header.push_field("error");
    }
    let sink = Sink::open(args.output.as_deref())?;
    let mut writer = csv::Writer::from_writer(sink);
    let out_name = crate::output::display_name(args.output.as_deref());
    // Written once the first chunk has been predicted, so a first chunk that fails prints
    // nothing, even on stdout.
    let mut header_written = false;

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
    let mut invalid_count = 0usize;
    let mut first_invalid: Option<String> = None;
    let mut eof = false;
    while !eof {
        records.clear();
        for _ in 0..CHUNK_ROWS {
            let mut record = csv::StringRecord::new();
            if !reader.read_record(&mut record)? {
                eof = true;
                break;
            }
            records.push(record);
        }
        if records.is_empty() {
            break;
        }
        let mut builder = reader.builder()?;
        // Per record of the chunk: why it cannot be predicted; `parsed` maps batch rows back.
        let mut errors: Vec<Option<String>> = vec![None; records.len()];
        let mut parsed = Vec::with_capacity(records.len());
        for (i, record) in records.iter().enumerate() {
            match builder.push_row(record.iter()) {
                Ok(()) => parsed.push(i),
                Err(e) => errors[i] = Some(invalid(args.invalid_rows, e, rows_done + i + 1)?),
            }
        }
        let batch = builder.finish();
        // Parsed rows cannot fail to predict (missing values are imputed, unseen categories go
        // to their Unknown slot), so an error here is not about one row and stops the command.
        let outputs = predict(&pipeline, &batch, args.proba).map_err(|e| {
            invalid_row(e, |r| {
                r.checked_sub(1)
                    .and_then(|r| parsed.get(r))
                    .map_or(r, |&i| rows_done + i + 1)
            })
        })?;
        let (predictions, proba) = outputs;
        if !header_written {
            writer
                .write_record(&out_header)
                .map_err(|e| Error::csv(&out_name, &e))?;
            header_written = true;
        }
        let blank = 1 + proba.as_ref().map_or(0, |p| p.ncols());
        let mut next = parsed.iter().enumerate().peekable();
        for (i, record) in records.iter_mut().enumerate() {
            match &errors[i] {
                Some(reason) => {
                    invalid_count += 1;
                    first_invalid.get_or_insert_with(|| reason.clone());
                    if args.invalid_rows == InvalidRows::Skip {
                        continue;
                    }
                    for _ in 0..blank {
                        record.push_field("");
                    }
                    record.push_field(reason);
                }
                None => {
                    let Some((r, _)) = next.next() else {
                        return Err(Error::Internal(format!(
                            "row {}: no prediction came back",
                            rows_done + i + 1
                        )));
                    };
                    match &predictions {
                        Predictions::Classes(c) => {
                            record.push_field(&pipeline.classes()[c[r]].to_string());
                        }
                        Predictions::Values(v) => record.push_field(&v[r].to_string()),
                    }
                    if let Some(proba) = &proba {
                        for p in proba.row(r) {
                            record.push_field(&p.to_string());
                        }
                    }
                    if args.invalid_rows == InvalidRows::Mark {
                        record.push_field("");
                    }
                }
            }
            writer
                .write_record(&*record)
                .map_err(|e| Error::csv(&out_name, &e))?;
        }
        rows_done += records.len();
        progress.set_position(reader.position());
    }
    progress.finish_and_clear();
    if !header_written {
        writer
            .write_record(&out_header)
            .map_err(|e| Error::csv(&out_name, &e))?;
    }
    let sink = writer
        .into_inner()
        .map_err(|e| Error::io(&out_name, e.into_error()))?;
    sink.commit()?;
    report(&pipeline, rows_done - invalid_count, &out_name);
    if let Some(first) = first_invalid {
        let what = match args.invalid_rows {
            InvalidRows::Skip => "left out",
            _ => "written with the reason in the `error` column",
        };
        eprintln!("{invalid_count} invalid rows {what}; the first: {first}");
    }
    Ok(())
}

/// Predictions (and probabilities with `proba`) of a batch.
fn predict(
    pipeline: &Pipeline,
    batch: &tabship::Batch,
    proba: bool,
) -> tabship::Result<(Predictions, Option<ndarray::Array2<f64>>)> {
    if proba {
        let (p, proba) = pipeline.predict_batch_with_proba(batch)?;
        Ok((p, Some(proba)))
    } else {
        Ok((pipeline.predict_batch(batch)?, None))
    }
}

/// A row that does not parse (`file_row` 1-based, the header not counted): the error that
/// stops the command (`fail`), or its reason.
fn invalid(policy: InvalidRows, e: tabship::Error, file_row: usize) -> Result<String> {
    let e = e.map_row(|_| Some(file_row));
    match policy {
        InvalidRows::Fail => Err(Error::InvalidRow { source: e }),
        InvalidRows::Mark | InvalidRows::Skip => Ok(e.to_string()),
    }
}

fn invalid_row(e: tabship::Error, file_row: impl Fn(usize) -> usize) -> Error {
    match at_file_row(e, file_row) {
        e @ tabship::Error::InvalidValue { .. } => Error::InvalidRow { source: e },
        other => other.into(),
    }
}

/// Batch errors count rows within the batch, from 1; `file_row` maps them to rows of the file
/// (1-based, the header not counted).
fn at_file_row(e: tabship::Error, file_row: impl Fn(usize) -> usize) -> tabship::Error {
    e.map_row(|row| row.map(file_row))
}

/// A summary on stderr: rows, and every column that saw Unknown, Other or Missing values.
fn report(pipeline: &Pipeline, rows: usize, output: &std::path::Path) {
    let stats = pipeline.encoding_stats();
    if output == std::path::Path::new(crate::output::STDOUT) {
        eprintln!("predicted {rows} rows");
    } else {
        eprintln!("predicted {rows} rows into {}", output.display());
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
