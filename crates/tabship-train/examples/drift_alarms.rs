//! Measures drift false alarms and detection on real datasets, through the real train path.
//!
//! For each dataset: train with the defaults (the profile is captured on the training rows),
//! then draw many live samples without replacement from the held-out rows (iid with the
//! training rows) and report, at the default drift options:
//!
//! - iid: the mean number of flagged input columns, the share of samples whose dataset verdict
//!   is drift (the false-alarm rate of `--fail-on-drift`), and how often the predictions flag;
//! - shifted copies of the same samples: one continuous numeric column + 1 reference std, one
//!   0/1 flag column set to 1 everywhere, 30% of one categorical column replaced by never-seen
//!   values, and the predictions' distribution shifted (rows predicted as the most frequent
//!   class, or above the median for a regressor, kept with probability 1/2): how often the
//!   shifted column (or the predictions) is flagged, and how often the dataset verdict is drift.
//!
//! Run: `cargo run -p tabship-train --example drift_alarms -- /work/shared/data [trials]`.
//! It only uses API that existed before the drift policy, so the same file measures older code.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tabship::drift::{Distribution, DriftOptions, DriftReport};
use tabship::{Batch, CategoricalValues, ColumnValues, Pipeline, Predictions};
use tabship_train::data::{KindOverrides, read_csv};
use tabship_train::{TrainOptions, train};

/// (file, target).
const DATASETS: [(&str, &str); 5] = [
    ("iris.csv", "species"),
    ("penguins.csv", "species"),
    ("adult.csv", "income"),
    ("diamonds.csv", "price"),
    ("hotel_rates.csv", "avg_price_per_room"),
];

/// One scenario's tally over the trials.
#[derive(Default, Clone, Copy)]
struct Tally {
    trials: usize,
    flagged: usize,
    alarms: usize,
    flagged_columns: usize,
}

impl Tally {
    fn add(&mut self, flagged: bool, report: &DriftReport) {
        self.trials += 1;
        self.flagged += usize::from(flagged);
        self.alarms += usize::from(report.drifted);
        self.flagged_columns += report.drifted_columns;
    }

    fn pct(part: usize, whole: usize) -> String {
        if whole == 0 {
            "n/a".into()
        } else {
            format!("{:.0}%", 100.0 * part as f64 / whole as f64)
        }
    }

    /// `flagged% / alarm%` of a shift.
    fn shift(&self) -> String {
        if self.trials == 0 {
            return "n/a".into();
        }
        format!(
            "{} / {}",
            Self::pct(self.flagged, self.trials),
            Self::pct(self.alarms, self.trials)
        )
    }
}

fn with_column(batch: &Batch, name: &str, values: ColumnValues) -> Batch {
    let columns = batch
        .names()
        .iter()
        .map(|n| {
            let v = if n == name {
                values.clone()
            } else {
                batch
                    .column(n)
                    .cloned()
                    .unwrap_or(ColumnValues::Numeric(Vec::new()))
            };
            (n.clone(), v)
        })
        .collect();
    Batch::new(columns).expect("same shape")
}

fn numbers(batch: &Batch, name: &str) -> Option<Vec<f64>> {
    match batch.column(name)? {
        ColumnValues::Numeric(v) => Some(v.clone()),
        ColumnValues::Categorical(_) => None,
    }
}

fn distinct(values: &[f64]) -> usize {
    values
        .iter()
        .filter(|x| x.is_finite())
        .map(|x| x.to_bits())
        .collect::<HashSet<_>>()
        .len()
}

fn flagged(report: &DriftReport, column: &str) -> bool {
    report.column(column).is_some_and(|c| c.drifted)
}

struct Columns {
    numeric: Option<(String, f64)>,
    flag: Option<String>,
    categorical: Option<String>,
}

/// The shifted columns: the first continuous numeric column (more than 20 distinct values) with
/// its reference std, the first 0/1 column, the first categorical column.
fn pick(pipeline: &Pipeline, data: &Batch) -> Columns {
    let profile = pipeline.drift_profile().expect("trained with a profile");
    let mut out = Columns {
        numeric: None,
        flag: None,
        categorical: None,
    };
    for column in &profile.columns {
        let name = column.name.clone();
        match &column.distribution {
            Distribution::Numeric(p) => {
                let values = numbers(data, &name).unwrap_or_default();
                let zero_one = values
                    .iter()
                    .all(|x| !x.is_finite() || *x == 0.0 || *x == 1.0);
                if zero_one && distinct(&values) == 2 && out.flag.is_none() {
                    out.flag = Some(name);
                } else if distinct(&values) > 20 && out.numeric.is_none() {
                    out.numeric = Some((name, p.std));
                }
            }
            Distribution::Categorical(_) => {
                if out.categorical.is_none() {
                    out.categorical = Some(name);
                }
            }
        }
    }
    out
}

/// Rows of `held_out` whose predictions are kept with probability 1/2 when they are the most
/// frequent class (or above the median value), every other row always: a pool whose
/// predictions are shifted.
fn prediction_shifted_pool(
    pipeline: &Pipeline,
    held_out: &Batch,
    rng: &mut ChaCha8Rng,
) -> Vec<usize> {
    let predictions = pipeline.predict_batch(held_out).expect("predicts");
    let keep: Vec<bool> = match predictions {
        Predictions::Classes(classes) => {
            let mut counts = vec![0usize; pipeline.classes().len()];
            for &c in &classes {
                counts[c] += 1;
            }
            let top = (0..counts.len()).max_by_key(|&i| counts[i]).unwrap_or(0);
            classes.iter().map(|&c| c != top).collect()
        }
        Predictions::Values(values) => {
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            let median = sorted[sorted.len() / 2];
            values.iter().map(|&v| v <= median).collect()
        }
    };
    (0..held_out.n_rows())
        .filter(|&i| keep[i] || rng.random_bool(0.5))
        .collect()
}

fn sample(rng: &mut ChaCha8Rng, pool: &[usize], size: usize) -> Vec<usize> {
    rand::seq::index::sample(rng, pool.len(), size.min(pool.len()))
        .into_iter()
        .map(|i| pool[i])
        .collect()
}

fn report(pipeline: &Pipeline, batch: &Batch) -> DriftReport {
    pipeline
        .drift_report(batch, &DriftOptions::default())
        .expect("report")
}

fn measure(dir: &Path, file: &str, target: &str, trials: usize) {
    let data = read_csv(&dir.join(file), &KindOverrides::default()).expect("reads");
    let trained = train(&data, &TrainOptions::new(target)).expect("trains");
    let pipeline = trained.pipeline;
    let held_out = data.take(&trained.report.split.test);
    let n = held_out.n_rows();
    let columns = pick(&pipeline, &data);
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    let shifted_pool = prediction_shifted_pool(&pipeline, &held_out, &mut rng);
    let all: Vec<usize> = (0..n).collect();
    // Live samples: up to 500 rows (p-value tests), at most half the held-out rows so that
    // samples differ; and 2,000 rows (distances) where there are 4,000 held-out rows.
    let mut sizes = vec![(n / 2).min(500)];
    if n >= 4000 {
        sizes.push(2000);
    }
    for size in sizes {
        let (mut iid, mut numeric, mut flag, mut categorical, mut prediction) = (
            Tally::default(),
            Tally::default(),
            Tally::default(),
            Tally::default(),
            Tally::default(),
        );
        let mut prediction_flags = 0usize;
        for _ in 0..trials {
            let live = held_out.take(&sample(&mut rng, &all, size));
            let r = report(&pipeline, &live);
            iid.add(false, &r);
            if std::env::var_os("DRIFT_ALARMS_VERBOSE").is_some() {
                for c in r.columns.iter().chain(&r.prediction).filter(|c| c.drifted) {
                    eprintln!(
                        "{file} iid {size}: `{}` {} = {:.4} {:?}",
                        c.name, c.statistic, c.value, c.reasons
                    );
                }
            }
            prediction_flags += usize::from(r.prediction.as_ref().is_some_and(|p| p.drifted));
            if let Some((name, std)) = &columns.numeric {
                let shifted: Vec<f64> = numbers(&live, name)
                    .unwrap_or_default()
                    .iter()
                    .map(|x| x + std)
                    .collect();
                let r = report(
                    &pipeline,
                    &with_column(&live, name, ColumnValues::Numeric(shifted)),
                );
                numeric.add(flagged(&r, name), &r);
            }
            if let Some(name) = &columns.flag {
                let ones: Vec<f64> = numbers(&live, name)
                    .unwrap_or_default()
                    .iter()
                    .map(|x| if x.is_finite() { 1.0 } else { *x })
                    .collect();
                let r = report(
                    &pipeline,
                    &with_column(&live, name, ColumnValues::Numeric(ones)),
                );
                flag.add(flagged(&r, name), &r);
            }
            if let Some(name) = &columns.categorical {
                if let Some(ColumnValues::Categorical(values)) = live.column(name) {
                    let texts: Vec<Option<String>> = (0..values.len())
                        .map(|i| {
                            if rng.random_bool(0.3) {
                                Some(format!("never-seen-{}", i % 7))
                            } else {
                                values.get(i).map(str::to_owned)
                            }
                        })
                        .collect();
                    let changed =
                        CategoricalValues::from_options(texts.iter().map(|t| t.as_deref()));
                    let r = report(
                        &pipeline,
                        &with_column(&live, name, ColumnValues::Categorical(changed)),
                    );
                    categorical.add(flagged(&r, name), &r);
                }
            }
            let live = held_out.take(&sample(&mut rng, &shifted_pool, size));
            let r = report(&pipeline, &live);
            prediction.add(r.prediction.as_ref().is_some_and(|p| p.drifted), &r);
        }
        println!(
            "| {file} | {} | {size} | {:.2} | {} | {} | {} | {} | {} | {} |",
            pipeline.schema().columns.len(),
            iid.flagged_columns as f64 / iid.trials as f64,
            Tally::pct(iid.alarms, iid.trials),
            Tally::pct(prediction_flags, iid.trials),
            numeric.shift(),
            flag.shift(),
            categorical.shift(),
            prediction.shift(),
        );
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "/work/shared/data".into()));
    let trials: usize = args.next().and_then(|t| t.parse().ok()).unwrap_or(200);
    println!(
        "| dataset | columns | live rows | iid: mean flagged columns | iid: dataset alarms | \
         iid: prediction flagged | numeric +1 std (column / dataset) | 0/1 flag → all ones | \
         30% never-seen category | predictions shifted (prediction / dataset) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for (file, target) in DATASETS {
        measure(&dir, file, target, trials);
    }
}
