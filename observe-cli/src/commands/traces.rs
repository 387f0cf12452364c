//! `observe traces`: one line per request, newest first: start,
//! correlation id, root, spans, duration, worst outcome.

use observe::Timestamp;
use observe::store::{EventStore, Store, TraceFilter, TraceSummary};
use serde_json::json;

use crate::args::Globals;
use crate::error::CliError;
use crate::output::{Colour, Output, duration};

/// `observe traces`' options.
#[derive(Debug)]
pub struct Options {
    /// Only requests that started at or after this time.
    pub since: Option<Timestamp>,
    /// Only failed requests.
    pub errors: bool,
    /// Only requests with this processor.
    pub processor: Option<String>,
    /// At most this many.
    pub limit: usize,
}

/// Prints the newest requests.
pub async fn exec(globals: &Globals, store: &Store, options: Options) -> Result<(), CliError> {
    let mut filter = TraceFilter::new()
        .between(options.since, None)
        .limit(options.limit);
    if options.errors {
        filter = filter.errors_only();
    }
    if let Some(processor) = options.processor {
        filter = filter.processor(processor);
    }
    let page = store.traces(&filter).await?;
    let out = &globals.output;
    if out.json {
        for summary in &page.items {
            out.json_line(&to_json(summary))?;
        }
        return Ok(());
    }
    if page.items.is_empty() {
        return Ok(out.line(&format!("no requests in `{}` match", globals.store))?);
    }
    let time_width = out.time(page.items[0].start).len();
    out.line(&out.paint(
        Colour::Bold,
        &format!(
            "{:<time_width$}  {:<36}  {:<18} {:>5}  {:>9}  outcome",
            "start", "correlation id", "root", "spans", "duration"
        ),
    ))?;
    for summary in &page.items {
        line(out, summary)?;
    }
    Ok(())
}

fn line(out: &Output, summary: &TraceSummary) -> std::io::Result<()> {
    out.line(
        format!(
            "{}  {}  {:<18} {:>5}  {:>9}  {}",
            out.time(summary.start),
            summary.correlation_id,
            summary.root,
            summary.spans,
            duration(summary.duration_us),
            out.outcome(summary.outcome, summary.outcome.is_none(), 0)
        )
        .trim_end(),
    )
}

fn to_json(summary: &TraceSummary) -> serde_json::Value {
    json!({
        "correlation_id": summary.correlation_id,
        "start": summary.start.to_string(),
        "root": summary.root,
        "spans": summary.spans,
        "events": summary.events,
        "duration_us": summary.duration_us,
        "outcome": summary.outcome.map(|o| o.as_str()),
    })
}
