//! `observe trace <ID|latest|latest-error>`: one request as a tree of
//! spans, each with its processor, outcome, duration and a bar on the
//! request's time scale (a waterfall), the error and first stack frames
//! under failed spans, in-flight spans and orphans marked, and the chain's
//! problems listed.

use observe::chain::{Chain, Span};
use observe::store::{EventStore, Store, TraceFilter};
use serde_json::json;
use uuid::Uuid;

use crate::args::Globals;
use crate::error::CliError;
use crate::output::{Colour, Output, duration};

/// The width of the waterfall, in characters.
const BAR: usize = 40;
/// How many stack frames are shown under a failed span.
const FRAMES: usize = 3;

/// Which request to show.
#[derive(Debug)]
pub enum Target {
    /// This one.
    Id(Uuid),
    /// The one that started last.
    Latest,
    /// The one with an error or a panic that started last.
    LatestError,
}

impl Target {
    /// Reads a correlation id, `latest` or `latest-error`.
    pub fn parse(text: &str) -> Result<Target, CliError> {
        match text {
            "latest" => Ok(Target::Latest),
            "latest-error" => Ok(Target::LatestError),
            _ => super::parse_correlation_id(text).map(Target::Id),
        }
    }

    async fn resolve(&self, store: &Store, globals: &Globals) -> Result<Uuid, CliError> {
        let filter = match self {
            Target::Id(id) => return Ok(*id),
            Target::Latest => TraceFilter::new().limit(1),
            Target::LatestError => TraceFilter::new().errors_only().limit(1),
        };
        let page = store.traces(&filter).await?;
        page.items.first().map(|s| s.correlation_id).ok_or_else(|| {
            let what = match self {
                Target::LatestError => "no request has failed",
                _ => "there are no requests",
            };
            CliError::failed(format!(
                "{what} in the store `{}` (`observe traces` lists what is there)",
                globals.store
            ))
        })
    }
}

/// Prints the request's chain.
pub async fn exec(globals: &Globals, store: &Store, target: Target) -> Result<(), CliError> {
    let id = target.resolve(store, globals).await?;
    let skipped_before = store.unknown_types();
    let chain = store.chain(id).await?;
    if chain.events().is_empty() {
        return Err(CliError::failed(format!(
            "no events with correlation id {id} in the store `{}`: check the id (`observe traces` lists the stored requests) or the store (--store)",
            globals.store
        )));
    }
    let out = &globals.output;
    if out.json {
        return json_lines(out, &chain);
    }
    text(out, &chain)?;
    // On stderr: a JSONL store reads the whole file, so the count is not
    // this request's alone.
    for (name, count) in store.unknown_types() {
        let new = count - skipped_before.get(&name).copied().unwrap_or(0);
        if new > 0 {
            eprintln!(
                "observe: note: reading the store skipped {new} event(s) of unknown type `{name}` ({})",
                super::UNKNOWN_TYPE_HINT
            );
        }
    }
    Ok(())
}

/// Where a span sits on the request's time scale: offset and length in
/// microseconds (an in-flight span runs to the last event).
fn extent(chain: &Chain, span: &Span) -> (u64, u64) {
    let start = chain.start().unwrap_or(span.start);
    let offset = span.start.micros_since(start);
    let length = match span.duration_us {
        Some(d) if !span.in_flight() => d,
        _ => chain.duration_us().saturating_sub(offset),
    };
    (offset, length)
}

fn bar(out: &Output, chain: &Chain, span: &Span) -> String {
    let (offset, length) = extent(chain, span);
    let total = chain.duration_us().max(offset + length).max(1);
    let from = (offset as u128 * BAR as u128 / total as u128) as usize;
    let to = ((offset + length) as u128 * BAR as u128).div_ceil(total as u128) as usize;
    let to = to.clamp((from + 1).min(BAR), BAR);
    let from = from.min(to.saturating_sub(1));
    let fill = if span.in_flight() { "░" } else { "█" };
    let colour = match span.outcome {
        Some(observe::Outcome::Error | observe::Outcome::Panic) => Colour::Red,
        Some(observe::Outcome::Cancelled) => Colour::Yellow,
        _ if span.in_flight() => Colour::Cyan,
        _ => Colour::Green,
    };
    format!(
        "{}{}{}",
        " ".repeat(from),
        out.paint(colour, &fill.repeat(to - from)),
        " ".repeat(BAR - to)
    )
}

fn text(out: &Output, chain: &Chain) -> std::io::Result<()> {
    let start = chain.start().map_or(String::new(), |s| out.time(s));
    out.line(&format!(
        "{}  {start}  {}  {} spans  {}",
        out.paint(Colour::Bold, &format!("request {}", chain.correlation_id())),
        duration(chain.duration_us()),
        chain.spans().len(),
        out.outcome(chain.outcome(), chain.outcome().is_none(), 0)
            .trim_end(),
    ))?;
    let rows: Vec<(usize, &Span, String)> = chain
        .walk()
        .map(|(depth, span)| (depth, span, label(chain, depth, span)))
        .collect();
    let width = rows
        .iter()
        .map(|(_, _, l)| l.chars().count())
        .max()
        .unwrap_or(0);
    out.line(&format!(
        "{:<width$}  {:<9}  {:>9}  |{:<BAR$}| {}",
        "span",
        "outcome",
        "duration",
        "0",
        duration(chain.duration_us())
    ))?;
    for (depth, span, label) in &rows {
        let took = if span.in_flight() {
            "-".to_owned()
        } else {
            span.duration_us.map_or("-".to_owned(), duration)
        };
        out.line(&format!(
            "{label:<width$}  {}  {took:>9}  |{}|",
            out.outcome(span.outcome, span.in_flight(), 9),
            bar(out, chain, span)
        ))?;
        failure(out, *depth, span)?;
    }
    for problem in chain.problems() {
        out.line(&format!(
            "{} {problem}",
            out.paint(Colour::Yellow, "problem:")
        ))?;
    }
    Ok(())
}

fn label(chain: &Chain, depth: usize, span: &Span) -> String {
    let mut text = format!("{}{}", "  ".repeat(depth), span.label(chain));
    if span.orphan
        && let Some(parent) = span.parent_span_id
    {
        text += &format!(" (orphan: parent {parent} not in the chain)");
    }
    text
}

/// The error and its first stack frames, under a failed span.
fn failure(out: &Output, depth: usize, span: &Span) -> std::io::Result<()> {
    let indent = "  ".repeat(depth + 2);
    match (&span.error, &span.error_message) {
        (Some(error), _) => {
            out.line(&format!(
                "{indent}{} {}: {}",
                out.paint(Colour::Red, "error"),
                error.error_type,
                error.error_message
            ))?;
            let frames: Vec<&String> = error
                .stack_frames
                .iter()
                .filter(|f| is_user_frame(f))
                .collect();
            for frame in frames.iter().take(FRAMES) {
                out.line(&format!("{indent}  at {frame}"))?;
            }
            let more = error
                .stack_frames
                .len()
                .saturating_sub(FRAMES.min(frames.len()))
                + error.stack_frames_omitted;
            if more > 0 {
                out.line(&format!("{indent}  ... {more} more frames"))?;
            }
            Ok(())
        }
        (None, Some(message)) => out.line(&format!(
            "{indent}{} {message}",
            out.paint(Colour::Red, "error")
        )),
        (None, None) => Ok(()),
    }
}

/// A frame of the application rather than of the capture machinery, the
/// standard library or observe itself (its location, in the trailing
/// parentheses, says whose file it is).
fn is_user_frame(frame: &str) -> bool {
    let location = frame.rsplit_once(" (").map_or("", |(_, at)| at);
    ![
        "backtrace-",
        "observe-core/",
        "library/",
        "/rustc/",
        "tokio-",
    ]
    .iter()
    .any(|prefix| location.starts_with(prefix) || location.contains("/rustc/"))
}

fn json_lines(out: &Output, chain: &Chain) -> Result<(), CliError> {
    out.json_line(&json!({
        "type": "trace",
        "correlation_id": chain.correlation_id(),
        "start": chain.start().map(|s| s.to_string()),
        "duration_us": chain.duration_us(),
        "spans": chain.spans().len(),
        "events": chain.events().len(),
        "outcome": chain.outcome().map(|o| o.as_str()),
    }))?;
    for (depth, span) in chain.walk() {
        let (offset, _) = extent(chain, span);
        out.json_line(&json!({
            "type": "span",
            "span_id": span.span_id.to_string(),
            "parent_span_id": span.parent_span_id.map(|p| p.to_string()),
            "depth": depth,
            "label": span.label(chain),
            "processor": span.processor,
            "start": span.start.to_string(),
            "offset_us": offset,
            "duration_us": span.duration_us,
            "outcome": span.outcome.map(|o| o.as_str()),
            "in_flight": span.in_flight(),
            "orphan": span.orphan,
            "error": span.error,
            "error_message": span.error_message,
        }))?;
    }
    for problem in chain.problems() {
        out.json_line(&json!({ "type": "problem", "problem": problem.to_string() }))?;
    }
    Ok(())
}
