//! Measures, by simulation, what the champion/challenger statistics need and how often they err
//! at their defaults: the table in `docs/compare.md`.
//!
//! Run with: `cargo run --release -p tabship-drift --example compare_simulation [-- --reps 400]`
//!
//! - **Offline** (`tabship compare`, [`compare`] at its defaults: accuracy, α = 0.05, margin 0,
//!   2000 bootstrap resamples): both models score the same `n` labelled rows. Each row is one of
//!   four cases — only the champion right (probability `b`), only the challenger right (`c`),
//!   both wrong, both right — with the champion at 80% accuracy and the models agreeing on most
//!   rows, as two fits of the same data do. The share of `promote` verdicts over `--reps` runs,
//!   per `n`: the power when the challenger is better, the false promotion rate when not.
//! - **Live** (the server's experiment, [`Sequential`] at its defaults: α = 0.05, τ = 0.05, 30
//!   labels per arm before it starts): a 50/50 split, each arm's labels independent Bernoulli
//!   errors, the verdict read after **every** label, stopping at the first `promote` or `keep`
//!   or at `--horizon` labels. Labels needed to promote (median, 80th percentile), and the false
//!   promotion rate when the error rates are equal — beside a naive fixed-horizon two-proportion
//!   z-test read every 100 labels, the peeking the mSPRT exists to make safe.
//! - **Live, regressors** (the same test on mean absolute errors, [`Measure::MeanLoss`]): each
//!   arm's absolute errors `|N(0, σ)|`, the challenger's σ (hence its MAE) 5% or 10% below the
//!   champion's, or equal; same reading, beside a naive Welch z-test read every 100 labels.
//!   `--regression-only` prints this table alone.
//!
//! Every run is seeded: the table is reproducible.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tabship_drift::compare::{
    Arm, ArmCounts, ClassifierOutcomes, CompareOptions, Measure, Outcomes, Sequential,
    SequentialOptions, Verdict, compare,
};

/// One offline scenario: the probabilities of "only the champion right" (`b`) and "only the
/// challenger right" (`c`); the champion's accuracy is 0.80 throughout.
struct Paired {
    name: &'static str,
    b: f64,
    c: f64,
}

const CHAMPION_ACCURACY: f64 = 0.80;

fn offline_run(s: &Paired, rows: usize, rng: &mut ChaCha8Rng, seed: u64) -> Verdict {
    let both_wrong = 1.0 - CHAMPION_ACCURACY - s.c;
    let truth: Vec<usize> = (0..rows).map(|_| rng.random_range(0..2usize)).collect();
    let mut first = truth.clone();
    let mut second = truth.clone();
    for i in 0..rows {
        let u: f64 = rng.random();
        let (a_right, b_right) = if u < s.b {
            (true, false)
        } else if u < s.b + s.c {
            (false, true)
        } else if u < s.b + s.c + both_wrong {
            (false, false)
        } else {
            (true, true)
        };
        if !a_right {
            first[i] = 1 - truth[i];
        }
        if !b_right {
            second[i] = 1 - truth[i];
        }
    }
    let outcome =
        |predicted| Outcomes::Classifier(ClassifierOutcomes::classes_only(&truth, predicted, 2));
    let options = CompareOptions {
        seed,
        ..CompareOptions::default()
    };
    match compare(outcome(&first), outcome(&second), &options) {
        Ok(c) => c.verdict,
        Err(e) => panic!("simulation input is valid: {e}"),
    }
}

/// How a live run ended.
struct Live {
    verdict: Verdict,
    labels: u64,
    naive_false_alarm: bool,
}

/// One live run of `test`, read after every label: `draw` picks an arm (a fair coin first) and
/// feeds it one label; `naive` is the fixed-horizon test read every 100 labels.
fn live_run(
    mut test: Sequential,
    horizon: u64,
    rng: &mut ChaCha8Rng,
    mut draw: impl FnMut(&mut Sequential, Arm, &mut ChaCha8Rng),
    naive: fn(&ArmCounts, &ArmCounts, f64) -> bool,
) -> Live {
    let alpha = test.options().alpha;
    let mut naive_false_alarm = false;
    for label in 1..=horizon {
        let arm = if rng.random_bool(0.5) {
            Arm::First
        } else {
            Arm::Second
        };
        draw(&mut test, arm, rng);
        let s = test.status();
        if label % 100 == 0 && !naive_false_alarm {
            naive_false_alarm = naive(&s.first, &s.second, alpha);
        }
        let verdict = s.verdict(0.0);
        if verdict != Verdict::Inconclusive {
            return Live {
                verdict,
                labels: label,
                naive_false_alarm,
            };
        }
    }
    Live {
        verdict: Verdict::Inconclusive,
        labels: horizon,
        naive_false_alarm,
    }
}

/// A test at the defaults.
fn default_test(measure: Measure) -> Sequential {
    match Sequential::with_measure(SequentialOptions::default(), measure) {
        Ok(t) => t,
        Err(e) => panic!("default options are valid: {e}"),
    }
}

/// One live run on Bernoulli errors of each arm (rates `errors`).
fn live_rate_run(errors: (f64, f64), horizon: u64, rng: &mut ChaCha8Rng) -> Live {
    let test = default_test(Measure::ErrorRate);
    let draw = |test: &mut Sequential, arm: Arm, rng: &mut ChaCha8Rng| {
        let rate = if arm == Arm::First {
            errors.0
        } else {
            errors.1
        };
        test.observe(arm, rng.random_bool(rate));
    };
    live_run(test, horizon, rng, draw, naive_z_rejects)
}

/// One live run on absolute errors `|N(0, σ)|` of each arm (σ = `sigmas`).
fn live_loss_run(sigmas: (f64, f64), horizon: u64, rng: &mut ChaCha8Rng) -> Live {
    let test = default_test(Measure::MeanLoss);
    let draw = |test: &mut Sequential, arm: Arm, rng: &mut ChaCha8Rng| {
        let sigma = if arm == Arm::First {
            sigmas.0
        } else {
            sigmas.1
        };
        // Box–Muller: one standard normal from two uniforms.
        let (u, v): (f64, f64) = (1.0 - rng.random::<f64>(), rng.random());
        let z = (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos();
        test.observe_loss(arm, (sigma * z).abs());
    };
    live_run(test, horizon, rng, draw, naive_welch_rejects)
}

/// The fixed-horizon Welch z-test of two mean losses, two-sided.
fn naive_welch_rejects(a: &ArmCounts, b: &ArmCounts, alpha: f64) -> bool {
    if a.labels < 2 || b.labels < 2 {
        return false;
    }
    let variance = |c: &ArmCounts| {
        let n = c.labels as f64;
        (c.sum_squares - c.sum * c.sum / n) / (n - 1.0) / n
    };
    let se = (variance(a) + variance(b)).sqrt();
    if se == 0.0 {
        return false;
    }
    let z = (a.mean_loss() - b.mean_loss()) / se;
    libm::erfc(z.abs() / std::f64::consts::SQRT_2) < alpha
}

/// Prints the live table of runs, one row per scenario.
fn live_rows(
    names: &[String],
    runs: impl Fn(usize, &mut ChaCha8Rng) -> Live,
    live_reps: usize,
    seed: u64,
) {
    for (k, name) in names.iter().enumerate() {
        let mut rng = ChaCha8Rng::seed_from_u64(seed + k as u64);
        let runs: Vec<Live> = (0..live_reps).map(|_| runs(k, &mut rng)).collect();
        let mut promoted: Vec<u64> = runs
            .iter()
            .filter(|r| r.verdict == Verdict::Promote)
            .map(|r| r.labels)
            .collect();
        promoted.sort_unstable();
        let kept = runs.iter().filter(|r| r.verdict == Verdict::Keep).count();
        let naive = runs.iter().filter(|r| r.naive_false_alarm).count();
        let share = |x: usize| format!("{:.3}", x as f64 / live_reps as f64);
        println!(
            "| {name} | {} | {} | {} | {} | {} |",
            share(promoted.len()),
            quantile(&promoted, 0.5),
            quantile(&promoted, 0.8),
            share(kept),
            if k == 0 { share(naive) } else { "–".into() },
        );
    }
}

/// The live table for regressors.
fn regression_table(live_reps: usize, horizon: u64) {
    println!(
        "\n#### Live, regressors: the mSPRT on mean absolute errors read after every label ({live_reps} runs, horizon {horizon} labels)\n"
    );
    println!(
        "| MAE (champion / challenger) | promoted | labels to promote: median | 80th percentile | kept | equal MAE: a naive Welch z-test read every 100 labels ever significant |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    let sigmas = [(1.0, 1.0), (1.0, 0.95), (1.0, 0.90)];
    let names: Vec<String> = ["equal", "challenger −5%", "challenger −10%"]
        .map(String::from)
        .to_vec();
    live_rows(
        &names,
        |k, rng| live_loss_run(sigmas[k], horizon, rng),
        live_reps,
        177,
    );
}

/// The fixed-horizon pooled two-proportion z-test, two-sided.
fn naive_z_rejects(a: &ArmCounts, b: &ArmCounts, alpha: f64) -> bool {
    if a.labels == 0 || b.labels == 0 {
        return false;
    }
    let (na, nb) = (a.labels as f64, b.labels as f64);
    let pooled = (a.errors + b.errors) as f64 / (na + nb);
    let se = (pooled * (1.0 - pooled) * (1.0 / na + 1.0 / nb)).sqrt();
    if se == 0.0 {
        return false;
    }
    let z = (a.error_rate() - b.error_rate()) / se;
    libm::erfc(z.abs() / std::f64::consts::SQRT_2) < alpha
}

fn quantile(sorted: &[u64], q: f64) -> String {
    if sorted.is_empty() {
        return "–".into();
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i].to_string()
}

fn main() {
    let mut reps = 400usize;
    let mut live_reps = 1000usize;
    let mut regression_only = false;
    let mut horizon = 100_000u64;
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().is_some_and(|a| a == "--regression-only") {
        args.next();
        regression_only = true;
    }
    while let Some(a) = args.next() {
        let value = args.next().and_then(|v| v.parse::<u64>().ok());
        match (a.as_str(), value) {
            ("--reps", Some(v)) => reps = v as usize,
            ("--live-reps", Some(v)) => live_reps = v as usize,
            ("--horizon", Some(v)) => horizon = v,
            _ => {
                eprintln!(
                    "usage: compare_simulation [--regression-only] [--reps N] [--live-reps N] [--horizon LABELS]"
                );
                std::process::exit(2);
            }
        }
    }

    if regression_only {
        regression_table(live_reps, horizon);
        return;
    }
    let scenarios = [
        Paired {
            name: "equal (80% / 80%)",
            b: 0.07,
            c: 0.07,
        },
        Paired {
            name: "+2 points (80% / 82%)",
            b: 0.06,
            c: 0.08,
        },
        Paired {
            name: "+5 points (80% / 85%)",
            b: 0.05,
            c: 0.10,
        },
    ];
    let sizes = [250usize, 500, 750, 1000, 1500, 2000, 3000, 4000, 6000];
    println!("#### Offline: `tabship compare` at its defaults ({reps} runs per cell)\n");
    println!(
        "Share of `promote` verdicts. Champion 80% accurate; the models disagree on 14% (equal: 14%, +5: 15%) of rows.\n"
    );
    print!("| scenario |");
    for n in sizes {
        print!(" n = {n} |");
    }
    println!("\n|---|{}", "---:|".repeat(sizes.len()));
    for (k, s) in scenarios.iter().enumerate() {
        print!("| {} |", s.name);
        for (j, &n) in sizes.iter().enumerate() {
            let mut rng = ChaCha8Rng::seed_from_u64(1000 * k as u64 + j as u64);
            let promoted = (0..reps)
                .filter(|&r| offline_run(s, n, &mut rng, r as u64) == Verdict::Promote)
                .count();
            print!(" {:.3} |", promoted as f64 / reps as f64);
        }
        println!();
    }

    println!(
        "\n#### Live: the mSPRT read after every label ({live_reps} runs, horizon {horizon} labels)\n"
    );
    println!(
        "| error rates (champion / challenger) | promoted | labels to promote: median | 80th percentile | kept | equal rates: a naive z-test read every 100 labels ever significant |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    let rates = [(0.20, 0.20), (0.20, 0.18), (0.20, 0.15)];
    let names: Vec<String> = rates
        .iter()
        .map(|e| format!("{:.0}% / {:.0}%", e.0 * 100.0, e.1 * 100.0))
        .collect();
    live_rows(
        &names,
        |k, rng| live_rate_run(rates[k], horizon, rng),
        live_reps,
        77,
    );
    regression_table(live_reps, horizon);
}
