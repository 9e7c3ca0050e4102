//! `tabship`: train, predict with and inspect `.tabship` pipelines.
//!
//! Exit codes: 0 success, 2 usage error (a flag's value or a combination of flags, checked before
//! any data is read), 1 any other error (one line on stderr), 3 drift found by
//! `tabship drift --fail-on-drift` or `tabship monitor --fail-on-drift`; `tabship compare` exits 0
//! on `promote`, 3 on `keep`, 4 on `inconclusive`. A reader that closes stdout early (`| head`)
//! ends the command quietly with 0, as `ripgrep` or `git log` do.

mod auth_args;
mod cli;
mod commands;
mod csv_args;
mod error;
mod experiment_args;
mod input;
mod labelled;
mod output;
mod trigger_args;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of glibc's malloc: a served request allocates and frees dozens of small
/// blocks across worker threads, and glibc's arenas spent ~15% of the server's CPU on them
/// (`perf`, benches/serve/README.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    let result = match args.command {
        cli::Command::Train(a) => commands::train::run(*a),
        cli::Command::Predict(a) => commands::predict::run(a),
        cli::Command::Inspect(a) => commands::inspect::run(a),
        cli::Command::Evaluate(a) => commands::evaluate::run(a),
        cli::Command::Bench(a) => commands::bench::run(a),
        cli::Command::Serve(a) => commands::serve::run(*a),
        cli::Command::Demo(a) => commands::demo::run(*a),
        cli::Command::Keys(a) => commands::keys::run(a),
        cli::Command::Import(a) => commands::import::run(a),
        cli::Command::Export(a) => commands::export::run(a),
        cli::Command::Compare(a) => match commands::compare::run(a) {
            Ok(verdict) => return ExitCode::from(commands::compare::exit_code(verdict)),
            Err(e) => Err(e),
        },
        cli::Command::Retrain(a) => commands::retrain::run(*a),
        cli::Command::Labels(a) => commands::labels::run(a),
        cli::Command::Monitor(a) => match commands::monitor::run(*a) {
            Ok(true) => return ExitCode::from(3),
            Ok(false) => Ok(()),
            Err(e) => Err(e),
        },
        cli::Command::Drift(a) => match commands::drift::run(a) {
            Ok(commands::drift::Outcome::FailOnDrift) => return ExitCode::from(3),
            Ok(commands::drift::Outcome::Done) => Ok(()),
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
