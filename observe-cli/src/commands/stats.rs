//! `observe stats [--since]`: counts per event type and outcome, p50, p95
//! and p99 durations per processor, and the error rate, each counted by
//! the store itself (`event_counts`, `processor_stats`): nothing is decoded.

use observe::Timestamp;
use observe::store::{EventCount, EventStore, ProcessorStats, Store};
use serde_json::json;

use crate::args::Globals;
use crate::error::CliError;
use crate::output::{Colour, Output, duration};

/// What the store counted.
#[derive(Debug, Default)]
struct Counts {
    /// Events per type and outcome.
    by_type: Vec<EventCount>,
    /// Finished calls per processor.
    processors: Vec<ProcessorStats>,
}

/// Prints the counts.
pub async fn exec(
    globals: &Globals,
    store: &Store,
    since: Option<Timestamp>,
) -> Result<(), CliError> {
    let counts = Counts {
        by_type: store.event_counts(since, None).await?,
        processors: store.processor_stats(since, None).await?,
    };
    let out = &globals.output;
    if out.json {
        json_lines(out, &counts)?;
    } else {
        text(out, &counts)?;
    }
    Ok(())
}

/// Calls that failed (error or panic) and calls, over every processor.
fn error_rate(counts: &Counts) -> (u64, u64) {
    counts.processors.iter().fold((0, 0), |(failed, calls), p| {
        (failed + failed_calls(p), calls + p.calls)
    })
}

fn failed_calls(p: &ProcessorStats) -> u64 {
    p.error + p.panic
}

fn text(out: &Output, counts: &Counts) -> std::io::Result<()> {
    out.line(&out.paint(
        Colour::Bold,
        &format!("{:<24} {:<10} {:>8}", "event type", "outcome", "events"),
    ))?;
    for c in &counts.by_type {
        out.line(&format!(
            "{:<24} {:<10} {:>8}",
            c.event_type,
            c.outcome.map_or("-", |o| o.as_str()),
            c.count
        ))?;
    }
    out.line("")?;
    out.line(&out.paint(
        Colour::Bold,
        &format!(
            "{:<16} {:>7} {:>7}  {:>9}  {:>9}  {:>9}",
            "processor", "calls", "failed", "p50", "p95", "p99"
        ),
    ))?;
    for p in &counts.processors {
        out.line(&format!(
            "{:<16} {:>7} {:>7}  {:>9}  {:>9}  {:>9}",
            p.processor,
            p.calls,
            failed_calls(p),
            duration(p.p50_us),
            duration(p.p95_us),
            duration(p.p99_us),
        ))?;
    }
    let (failed, calls) = error_rate(counts);
    let rate = if calls == 0 {
        0.0
    } else {
        failed as f64 * 100.0 / calls as f64
    };
    out.line(&format!(
        "\nerror rate: {failed} of {calls} calls failed ({rate:.1}%)"
    ))
}

fn json_lines(out: &Output, counts: &Counts) -> std::io::Result<()> {
    for c in &counts.by_type {
        out.json_line(&json!({
            "type": "events", "event_type": c.event_type,
            "outcome": c.outcome.map(|o| o.as_str()), "count": c.count,
        }))?;
    }
    for p in &counts.processors {
        out.json_line(&json!({
            "type": "processor", "processor": p.processor, "calls": p.calls,
            "failed": failed_calls(p), "p50_us": p.p50_us,
            "p95_us": p.p95_us, "p99_us": p.p99_us,
        }))?;
    }
    let (failed, calls) = error_rate(counts);
    out.json_line(&json!({
        "type": "error_rate", "failed": failed, "calls": calls,
        "rate": if calls == 0 { 0.0 } else { failed as f64 / calls as f64 },
    }))
}
