//! `observe tail [--follow]`: one line per event, oldest first, the latest
//! `--lines` first; with `--follow`, new events (by `seq`) as they are
//! written, until interrupted (SIGINT ends it cleanly).

use std::time::Duration;

use observe::store::{EventStore, Store, StoredEvent};
use observe::{Event, Outcome};
use uuid::Uuid;

use crate::args::Globals;
use crate::error::CliError;
use crate::output::{Colour, Output, duration};
use crate::scan;

/// How often `--follow` asks the store for new events.
const POLL: Duration = Duration::from_millis(200);

/// Which events to print.
#[derive(Debug, Default)]
pub struct Filter {
    /// Only this event type.
    pub event_type: Option<String>,
    /// Only this processor.
    pub processor: Option<String>,
    /// Only this outcome.
    pub outcome: Option<Outcome>,
    /// Only this request.
    pub correlation: Option<Uuid>,
}

impl Filter {
    fn is_empty(&self) -> bool {
        self.event_type.is_none()
            && self.processor.is_none()
            && self.outcome.is_none()
            && self.correlation.is_none()
    }

    fn keeps(&self, event: &Event) -> bool {
        self.event_type
            .as_deref()
            .is_none_or(|t| event.event_type.as_str() == t)
            && self
                .processor
                .as_deref()
                .is_none_or(|p| event.processor.as_deref() == Some(p))
            && self.outcome.is_none_or(|o| event.outcome == Some(o))
            && self.correlation.is_none_or(|c| event.correlation_id == c)
    }
}

/// `observe tail`'s options.
#[derive(Debug)]
pub struct Options {
    /// Keep printing.
    pub follow: bool,
    /// How many of the latest events to print first.
    pub lines: usize,
    /// Which events.
    pub filter: Filter,
}

/// Prints the latest events, then (with `--follow`) the new ones.
pub async fn exec(globals: &Globals, store: &Store, options: Options) -> Result<(), CliError> {
    let out = &globals.output;
    // In place before the first line is printed: whoever reads that line
    // and then interrupts gets a clean exit, not SIGINT's default.
    let interrupted = if options.follow {
        Some(interrupt()?)
    } else {
        None
    };
    let (latest, mut seq) = latest(store, &options).await?;
    for stored in latest.iter().rev() {
        print(out, stored)?;
    }
    let Some(interrupted) = interrupted else {
        return Ok(());
    };
    tokio::pin!(interrupted);
    loop {
        tokio::select! {
            _ = &mut interrupted => return Ok(()),
            _ = tokio::time::sleep(POLL) => {}
        }
        seq = scan::each_after(store, seq, |stored| {
            if options.filter.keeps(&stored.event) {
                print(out, &stored)?;
            }
            Ok(())
        })
        .await?;
    }
}

/// Completes on the first Ctrl-C (SIGINT); the handler is installed when
/// this returns, not when the future is first polled.
fn interrupt() -> Result<impl std::future::Future<Output = ()>, CliError> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut sigint = signal(SignalKind::interrupt())
            .map_err(|e| CliError::failed(format!("cannot watch for Ctrl-C: {e}")))?;
        Ok(async move {
            sigint.recv().await;
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

/// The latest `--lines` events that pass the filter, newest first, read
/// back from the end of the store a page at a time; and the store's newest
/// `seq`, where `--follow` goes on from.
async fn latest(store: &Store, options: &Options) -> Result<(Vec<StoredEvent>, i64), CliError> {
    let mut latest = Vec::with_capacity(options.lines.min(10_000));
    let mut newest = None;
    let mut seq = i64::MAX;
    // Without a filter the first page is the answer: ask for just enough.
    let page = if options.filter.is_empty() {
        options.lines.clamp(1, scan::PAGE)
    } else {
        scan::PAGE
    };
    while latest.len() < options.lines || newest.is_none() {
        let back = store.before(seq, page).await?;
        if back.next_seq == seq {
            break;
        }
        newest.get_or_insert(back.events.first().map_or(back.next_seq, |e| e.seq));
        seq = back.next_seq;
        let room = options.lines - latest.len();
        latest.extend(
            back.events
                .into_iter()
                .filter(|stored| options.filter.keeps(&stored.event))
                .take(room),
        );
    }
    Ok((latest, newest.unwrap_or(0)))
}

fn print(out: &Output, stored: &StoredEvent) -> Result<(), CliError> {
    let event = &stored.event;
    if out.json {
        let mut value = serde_json::to_value(event)
            .map_err(|e| CliError::failed(format!("cannot write event {}: {e}", event.event_id)))?;
        if let Some(object) = value.as_object_mut() {
            object.insert("seq".to_owned(), stored.seq.into());
        }
        return Ok(out.json_line(&value)?);
    }
    let outcome = match event.outcome {
        Some(_) => out.outcome(event.outcome, false, 9),
        None => " ".repeat(9),
    };
    let took = event.duration_us.map_or(String::new(), duration);
    let line = format!(
        "{}  {}  {} {:<22} {:<12} {outcome} {took:>9}",
        out.paint(Colour::Dim, &out.time(event.timestamp)),
        event.correlation_id,
        event.span_id,
        event.event_type.as_str(),
        event.processor.as_deref().unwrap_or("-"),
    );
    Ok(out.line(line.trim_end())?)
}
