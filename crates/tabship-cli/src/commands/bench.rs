//! `tabship bench`: how fast an artifact loads and predicts on this machine, with your data.

use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use serde_json::json;
use tabship::{Pipeline, Value, artifact};

use crate::cli::BenchArgs;
use crate::error::Result;
use crate::input::CsvInput;

/// Runs `f` repeatedly for about `budget` and returns the median time of one call.
fn median_time(budget: Duration, mut f: impl FnMut()) -> Duration {
    let mut samples = Vec::new();
    let started = Instant::now();
    while samples.len() < 5 || (started.elapsed() < budget && samples.len() < 100_000) {
        let t = Instant::now();
        f();
        samples.push(t.elapsed());
    }
    samples.sort_unstable();
    samples[samples.len() / 2]
}

pub fn run(args: BenchArgs) -> Result<()> {
    let bytes = artifact::read_file(&args.model)?;
    let load = median_time(Duration::from_millis(500), || {
        black_box(Pipeline::from_bytes(&bytes).is_ok());
    });
    let mut pipeline = Pipeline::from_bytes(&bytes)?;

    let mut input = CsvInput::open(&args.data, &pipeline, &args.csv.options())?;
    let header = input.header().clone();
    let names: Vec<&str> = header.iter().collect();
    let rows = input.read_all()?;
    if rows.is_empty() {
        return Err(crate::input::no_rows(
            &args.data,
            "bench needs rows to score",
        ));
    }

    // Single rows as a service receives them: a map of column name to typed value.
    let records: Vec<HashMap<String, Value>> = rows
        .iter()
        .take(1000)
        .map(|r| {
            names
                .iter()
                .zip(r.iter())
                .map(|(n, v)| {
                    let value = match v.parse::<f64>() {
                        Ok(x) => Value::Number(x),
                        Err(_) if v.is_empty() => Value::Null,
                        Err(_) => Value::Text(v.to_owned()),
                    };
                    ((*n).to_owned(), value)
                })
                .collect()
        })
        .collect();
    let mut i = 0;
    let single = median_time(Duration::from_millis(1000), || {
        let r = &records[i % records.len()];
        i += 1;
        if pipeline.classes().is_empty() {
            black_box(pipeline.predict_one(r).is_ok());
        } else {
            black_box(pipeline.predict_proba_one(r).is_ok());
        }
    });

    let mut builder = input.builder()?;
    for row in rows.iter().cycle().take(args.rows) {
        builder.push_row(row.iter())?;
    }
    let batch = builder.finish();
    let mut throughput = serde_json::Map::new();
    let threads = crate::commands::default_threads();
    for t in [1, threads] {
        pipeline.set_threads(t);
        let time = median_time(Duration::from_millis(2000), || {
            black_box(pipeline.predict_batch(&batch).is_ok());
        });
        throughput.insert(t.to_string(), json!(args.rows as f64 / time.as_secs_f64()));
    }
    let report = json!({
        "model": args.model,
        "artifact_bytes": bytes.len(),
        "load_seconds": load.as_secs_f64(),
        "single_row_seconds": single.as_secs_f64(),
        "batch_rows": args.rows,
        "batch_rows_per_second": throughput,
    });
    if args.json {
        return crate::output::print(&format!("{report:#}\n"));
    }
    let mut text = format!(
        "artifact          {} bytes\nload              {:.1} µs\nsingle row        {:.2} µs (median, {} from a map of column → value)\n",
        bytes.len(),
        load.as_secs_f64() * 1e6,
        single.as_secs_f64() * 1e6,
        if pipeline.classes().is_empty() {
            "predict_one"
        } else {
            "predict_proba_one"
        }
    );
    for (t, rps) in &throughput {
        text.push_str(&format!(
            "batch of {}  {:.0} rows/s on {t} thread(s)\n",
            args.rows,
            rps.as_f64().unwrap_or(0.0)
        ));
    }
    crate::output::print(&text)
}
