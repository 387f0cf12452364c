//! `observe export otlp|zipkin --endpoint URL`: replays stored events (all,
//! the recent ones, or one request's) to a collector, as spans.

use observe::export::{OtlpSink, ZipkinSink};
use observe::sink::Sink;
use observe::store::{EventStore, Store};
use observe::{Event, Timestamp};
use uuid::Uuid;

use crate::args::{ExportFormat, Globals};
use crate::error::CliError;
use crate::scan;

/// Events per request to the collector.
const BATCH: usize = 512;

/// `observe export`'s options.
#[derive(Debug)]
pub struct Options {
    /// The protocol.
    pub format: ExportFormat,
    /// The receiver.
    pub endpoint: String,
    /// Only events at or after this time.
    pub since: Option<Timestamp>,
    /// Only this request.
    pub correlation: Option<Uuid>,
}

/// Sends the chosen events.
pub async fn exec(globals: &Globals, store: &Store, options: Options) -> Result<(), CliError> {
    let events = select(store, &options).await?;
    let bad_endpoint = |e: observe::export::ExportError| {
        CliError::usage(format!("--endpoint `{}`: {e}", options.endpoint))
    };
    let sent = match options.format {
        ExportFormat::Otlp => {
            let sink = OtlpSink::new(&options.endpoint).map_err(bad_endpoint)?;
            send(&sink, &events, &options.endpoint).await?
        }
        ExportFormat::Zipkin => {
            let sink = ZipkinSink::new(&options.endpoint).map_err(bad_endpoint)?;
            send(&sink, &events, &options.endpoint).await?
        }
    };
    Ok(globals
        .output
        .line(&format!("exported {sent} events to {}", options.endpoint))?)
}

async fn select(store: &Store, options: &Options) -> Result<Vec<Event>, CliError> {
    let mut events = match options.correlation {
        Some(id) => store.chain(id).await?.events().to_vec(),
        None => {
            let mut all = Vec::new();
            scan::each_after(store, 0, |stored| {
                all.push(stored.event);
                Ok(())
            })
            .await?;
            all
        }
    };
    if let Some(since) = options.since {
        events.retain(|e| e.timestamp >= since);
    }
    Ok(events)
}

async fn send(sink: &impl Sink, events: &[Event], endpoint: &str) -> Result<usize, CliError> {
    let mut sent = 0;
    for batch in events.chunks(BATCH) {
        sink.write_batch(batch).await.map_err(|e| {
            CliError::failed(format!(
                "the receiver at {endpoint} refused or is unreachable after {sent} events were sent: {e}; is the collector running there?"
            ))
        })?;
        sent += batch.len();
    }
    Ok(sent)
}
