//! `tabship`: train, predict with and inspect `.tabship` pipelines.
//!
//! Exit codes: 0 success, 2 usage error, 1 any other error (one line on stderr).

mod cli;
mod commands;
mod error;
mod output;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    let result = match args.command {
        cli::Command::Train(a) => commands::train::run(*a),
        cli::Command::Predict(a) => commands::predict::run(a),
        cli::Command::Inspect(a) => commands::inspect::run(a),
        cli::Command::Evaluate(a) => commands::evaluate::run(a),
        cli::Command::Bench(a) => commands::bench::run(a),
        cli::Command::Serve(a) => commands::serve::run(*a),
        cli::Command::Demo(a) => commands::demo::run(a),
        cli::Command::Keys(a) => commands::keys::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
