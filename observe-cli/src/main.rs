//! The `observe` command: reads any observe event store (SQLite,
//! PostgreSQL, a JSONL file) from a terminal: what just happened (`tail`),
//! what happened to one request (`trace`), which requests failed
//! (`traces`), which processor is slow (`stats`); and loads, replays,
//! migrates and prunes stores.
#![deny(missing_docs)]

mod args;
mod commands;
mod error;
mod output;
mod scan;
mod since;

use std::process::ExitCode;

use clap::Parser;

use crate::error::CliError;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let (globals, plan) = match cli.plan() {
        Ok(parsed) => parsed,
        Err(error) => return report(error),
    };
    let runtime = match plan.runtime() {
        Ok(runtime) => runtime,
        Err(e) => return report(CliError::failed(format!("cannot start the runtime: {e}"))),
    };
    match runtime.block_on(commands::run(&globals, plan)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => report(error),
    }
}

/// Prints the error in one line and returns its exit code (a closed
/// output pipe, as with `observe tail | head`, is a success).
fn report(error: CliError) -> ExitCode {
    if error.is_broken_pipe() {
        return ExitCode::SUCCESS;
    }
    eprintln!("observe: {error}");
    ExitCode::from(error.exit_code())
}
