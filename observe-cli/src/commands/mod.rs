//! The subcommands, one file each, and what they share: opening the store
//! and reading a correlation id.

pub mod export;
pub mod import;
pub mod maintain;
pub mod serve;
pub mod stats;
pub mod tail;
pub mod trace;
pub mod traces;

use std::path::PathBuf;

use observe::Timestamp;
use observe::store::Store;
use uuid::Uuid;

use crate::args::Globals;
use crate::error::CliError;

/// What an unknown event type may be, after a count of skipped events.
pub const UNKNOWN_TYPE_HINT: &str = "an application's own type? --custom-types reads them; or written by a newer version of observe";

/// One command with its plain options.
pub enum Plan {
    /// `observe tail`.
    Tail(tail::Options),
    /// `observe trace`.
    Trace(trace::Target),
    /// `observe traces`.
    Traces(traces::Options),
    /// `observe stats`, from this time on.
    Stats(Option<Timestamp>),
    /// `observe import FILE`.
    Import(PathBuf),
    /// `observe export`.
    Export(export::Options),
    /// `observe serve`.
    Serve(serve::Options),
    /// `observe migrate`.
    Migrate,
    /// `observe retain`: delete what is older than this.
    Retain(Timestamp),
}

/// Runs one command.
pub async fn run(globals: &Globals, plan: Plan) -> Result<(), CliError> {
    match plan {
        Plan::Tail(options) => tail::exec(globals, &open(globals)?, options).await,
        Plan::Trace(target) => trace::exec(globals, &open(globals)?, target).await,
        Plan::Traces(options) => traces::exec(globals, &open(globals)?, options).await,
        Plan::Stats(since) => stats::exec(globals, &open(globals)?, since).await,
        Plan::Import(file) => import::exec(globals, &file).await,
        Plan::Export(options) => export::exec(globals, &open(globals)?, options).await,
        Plan::Serve(options) => serve::exec(globals, options).await,
        Plan::Migrate => maintain::migrate(globals),
        Plan::Retain(older_than) => maintain::retain(globals, &open(globals)?, older_than).await,
    }
}

impl Plan {
    /// The runtime the command runs on: the server's own (worker threads
    /// at a lower priority: it answers many clients at once and yields to
    /// the application); one thread for every other command (one sequence
    /// of queries).
    pub fn runtime(&self) -> std::io::Result<tokio::runtime::Runtime> {
        match self {
            Plan::Serve(options) => observe_serve::runtime(options.nice),
            _ => tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build(),
        }
    }
}

/// Opens the existing store (reading never creates one).
fn open(globals: &Globals) -> Result<Store, CliError> {
    Ok(Store::open(&globals.store)?.registry(globals.types))
}

/// A correlation id from the command line.
pub fn parse_correlation_id(text: &str) -> Result<Uuid, CliError> {
    text.trim().parse().map_err(|_| {
        CliError::usage(format!(
            "`{text}` is not a correlation id: write a UUID such as 01938e5a-7b2c-7d4e-8f00-0123456789ac (`observe traces` lists them)"
        ))
    })
}
