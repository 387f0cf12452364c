//! The command line, parsed in one place (clap, derive style) and turned
//! into plain options ([`Globals`], [`Plan`]) before any work starts: the
//! commands never see clap types.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use observe::Outcome;
use observe::reader::{self, TypeLookup};
use observe::store::{ENV_VAR, StoreUrl};

use crate::commands::{self, Plan};
use crate::error::CliError;
use crate::output::Output;
use crate::since;

/// The store used when neither --store nor OBSERVE_STORE names one.
pub const DEFAULT_STORE: &str = "sqlite://observe-events.db";

/// Read and manage observe event stores.
#[derive(Debug, Parser)]
#[command(name = "observe", version, about)]
pub struct Cli {
    /// The store: sqlite://PATH, postgres://USER:PASSWORD@HOST:PORT/DB or
    /// PATH.jsonl [default: $OBSERVE_STORE, else sqlite://observe-events.db]
    #[arg(long, global = true, value_name = "URL")]
    store: Option<String>,
    /// One JSON object per line instead of text for people.
    #[arg(long, global = true)]
    json: bool,
    /// Times in UTC instead of local time.
    #[arg(long, global = true)]
    utc: bool,
    /// Read event types that are not built in (an application's own,
    /// declared with observe::registry!) instead of skipping them as
    /// unknown; names that break the registry's rule are still skipped.
    #[arg(long, global = true)]
    custom_types: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// One line per event, oldest first; --follow keeps printing new ones.
    Tail {
        /// Keep printing new events (by seq) until interrupted.
        #[arg(long, short)]
        follow: bool,
        /// How many of the latest events to print first.
        #[arg(long, short = 'n', default_value_t = 20)]
        lines: usize,
        /// Only events of this type (message_received, error_occurred, ...).
        #[arg(long = "type", value_name = "T")]
        event_type: Option<String>,
        /// Only events of this processor.
        #[arg(long, value_name = "P")]
        processor: Option<String>,
        /// Only terminal events with this outcome.
        #[arg(long, value_name = "O")]
        outcome: Option<OutcomeArg>,
        /// Only the events of this request.
        #[arg(long, value_name = "ID")]
        correlation: Option<String>,
    },
    /// One request as a tree of spans with a waterfall.
    Trace {
        /// A correlation id, `latest` or `latest-error`.
        id: String,
    },
    /// One line per request, newest first.
    Traces {
        /// Only requests that started this long ago or later (90s, 15m, 1h, 7d).
        #[arg(long, value_name = "SPAN")]
        since: Option<String>,
        /// Only requests with a span that ended in an error or a panic.
        #[arg(long)]
        errors: bool,
        /// Only requests with an event of this processor.
        #[arg(long, value_name = "P")]
        processor: Option<String>,
        /// At most this many requests (1 to 1000).
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Counts per event type and outcome, duration percentiles per
    /// processor, the error rate.
    Stats {
        /// Only events this recent (90s, 15m, 1h, 7d).
        #[arg(long, value_name = "SPAN")]
        since: Option<String>,
    },
    /// Load a JSONL file of events into the store (loading it twice is
    /// harmless).
    Import {
        /// The file.
        file: PathBuf,
    },
    /// Replay stored events to an OTLP/HTTP receiver or a Zipkin collector.
    Export {
        /// The protocol.
        format: ExportFormat,
        /// The receiver's URL (for OTLP, the base URL or the /v1/traces URL).
        #[arg(long, value_name = "URL")]
        endpoint: String,
        /// Only events this recent (90s, 15m, 1h, 7d).
        #[arg(long, value_name = "SPAN")]
        since: Option<String>,
        /// Only the events of this request.
        #[arg(long, value_name = "ID")]
        correlation: Option<String>,
    },
    /// Serve the live event stream (SSE), the JSON API, /metrics and the
    /// dashboard over the store, until interrupted.
    Serve {
        /// Where to listen; any address but loopback needs a token.
        #[arg(long, value_name = "ADDR", default_value = observe_serve::DEFAULT_BIND)]
        bind: SocketAddr,
        /// The bearer token every route but /metrics then requires
        /// [default: $OBSERVE_TOKEN].
        #[arg(long, value_name = "TOKEN")]
        token: Option<String>,
        /// An origin allowed to call the API from a browser (CORS); repeat
        /// for several.
        #[arg(long = "cors-origin", value_name = "ORIGIN")]
        cors_origins: Vec<String>,
        /// How far below the default CPU priority the server runs (0-19),
        /// so that the application writing the events keeps the CPU.
        #[arg(long, value_name = "N", default_value_t = observe_serve::DEFAULT_NICE,
              value_parser = clap::value_parser!(i32).range(0..=19))]
        nice: i32,
    },
    /// Create the store if needed and bring its schema layout up to date.
    Migrate,
    /// Delete events older than a span of time.
    Retain {
        /// How old an event must be to go (1h, 7d, 2w).
        #[arg(long, value_name = "SPAN")]
        older_than: String,
    },
}

/// An outcome on the command line.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum OutcomeArg {
    Ok,
    Error,
    Panic,
    Cancelled,
}

impl From<OutcomeArg> for Outcome {
    fn from(arg: OutcomeArg) -> Outcome {
        match arg {
            OutcomeArg::Ok => Outcome::Ok,
            OutcomeArg::Error => Outcome::Error,
            OutcomeArg::Panic => Outcome::Panic,
            OutcomeArg::Cancelled => Outcome::Cancelled,
        }
    }
}

/// Where `observe export` sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// OTLP over HTTP (protobuf).
    Otlp,
    /// Zipkin v2 JSON.
    Zipkin,
}

/// What every command needs: the store and how to print.
pub struct Globals {
    /// The store named on the command line, in OBSERVE_STORE or by default.
    pub store: StoreUrl,
    /// How to print.
    pub output: Output,
    /// How event type names are read: the built-in types, or
    /// (`--custom-types`) every well-formed name.
    pub types: TypeLookup,
}

impl Cli {
    /// The plain options of the command line.
    pub fn plan(self) -> Result<(Globals, Plan), CliError> {
        let store = match self.store {
            Some(text) => text.parse()?,
            None => match StoreUrl::from_env() {
                Ok(Some(url)) => url,
                Ok(None) => DEFAULT_STORE.parse()?,
                Err(e) => return Err(CliError::usage(format!("{ENV_VAR}: {e}"))),
            },
        };
        let output = Output::for_stdout(self.json, self.utc);
        let types = if self.custom_types {
            reader::any_types
        } else {
            reader::builtin_types
        };
        Ok((
            Globals {
                store,
                output,
                types,
            },
            self.command.plan()?,
        ))
    }
}

fn since_opt(text: Option<String>) -> Result<Option<observe::Timestamp>, CliError> {
    text.map(|t| since::parse_span(&t).map(since::ago))
        .transpose()
}

impl Command {
    fn plan(self) -> Result<Plan, CliError> {
        Ok(match self {
            Command::Tail {
                follow,
                lines,
                event_type,
                processor,
                outcome,
                correlation,
            } => Plan::Tail(commands::tail::Options {
                follow,
                lines,
                filter: commands::tail::Filter {
                    event_type,
                    processor,
                    outcome: outcome.map(Outcome::from),
                    correlation: correlation
                        .map(|id| commands::parse_correlation_id(&id))
                        .transpose()?,
                },
            }),
            Command::Trace { id } => Plan::Trace(commands::trace::Target::parse(&id)?),
            Command::Traces {
                since,
                errors,
                processor,
                limit,
            } => Plan::Traces(commands::traces::Options {
                since: since_opt(since)?,
                errors,
                processor,
                limit,
            }),
            Command::Stats { since } => Plan::Stats(since_opt(since)?),
            Command::Import { file } => Plan::Import(file),
            Command::Export {
                format,
                endpoint,
                since,
                correlation,
            } => Plan::Export(commands::export::Options {
                format,
                endpoint,
                since: since_opt(since)?,
                correlation: correlation
                    .map(|id| commands::parse_correlation_id(&id))
                    .transpose()?,
            }),
            Command::Serve {
                bind,
                token,
                cors_origins,
                nice,
            } => Plan::Serve(commands::serve::Options {
                bind,
                token,
                cors_origins,
                nice,
            }),
            Command::Migrate => Plan::Migrate,
            Command::Retain { older_than } => {
                Plan::Retain(since::ago(since::parse_span(&older_than)?))
            }
        })
    }
}
