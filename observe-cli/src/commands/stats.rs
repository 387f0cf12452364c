//! `observe stats [--since]`: counts per event type and outcome, p50, p95
//! and p99 durations per processor, and the error rate, from one pass over
//! the events.

use std::collections::BTreeMap;

use observe::store::{Store, StoredEvent};
use observe::{Outcome, Timestamp};
use serde_json::json;

use crate::args::Globals;
use crate::error::CliError;
use crate::output::{Colour, Output, duration};
use crate::scan;

/// What one pass over the events found.
#[derive(Debug, Default)]
struct Counts {
    /// (event type, outcome) -> events.
    by_type: BTreeMap<(String, Option<&'static str>), u64>,
    /// processor -> durations of its terminal events, and its failures.
    processors: BTreeMap<String, (Vec<u64>, u64)>,
}

impl Counts {
    fn add(&mut self, stored: StoredEvent) {
        let event = stored.event;
        let outcome = event.outcome.map(Outcome::as_str);
        *self
            .by_type
            .entry((event.event_type.as_str().to_owned(), outcome))
            .or_default() += 1;
        if let (Some(processor), Some(outcome)) = (event.processor, event.outcome) {
            let (durations, failures) = self.processors.entry(processor.into_owned()).or_default();
            durations.push(event.duration_us.unwrap_or(0));
            *failures += u64::from(matches!(outcome, Outcome::Error | Outcome::Panic));
        }
    }
}

/// The nearest-rank percentile of sorted values.
fn percentile(sorted: &[u64], p: u64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p as usize * sorted.len()).div_ceil(100).max(1);
    sorted[rank - 1]
}

/// Prints the counts.
pub async fn exec(
    globals: &Globals,
    store: &Store,
    since: Option<Timestamp>,
) -> Result<(), CliError> {
    let mut counts = Counts::default();
    scan::each_after(store, 0, |stored| {
        if since.is_none_or(|s| stored.event.timestamp >= s) {
            counts.add(stored);
        }
        Ok(())
    })
    .await?;
    for (durations, _) in counts.processors.values_mut() {
        durations.sort_unstable();
    }
    let out = &globals.output;
    if out.json {
        json_lines(out, &counts)?;
    } else {
        text(out, &counts)?;
    }
    Ok(())
}

fn error_rate(counts: &Counts) -> (u64, u64) {
    counts
        .processors
        .values()
        .fold((0, 0), |(failed, calls), (d, f)| {
            (failed + f, calls + d.len() as u64)
        })
}

fn text(out: &Output, counts: &Counts) -> std::io::Result<()> {
    out.line(&out.paint(
        Colour::Bold,
        &format!("{:<24} {:<10} {:>8}", "event type", "outcome", "events"),
    ))?;
    for ((event_type, outcome), n) in &counts.by_type {
        out.line(&format!(
            "{event_type:<24} {:<10} {n:>8}",
            outcome.unwrap_or("-")
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
    for (processor, (durations, failed)) in &counts.processors {
        out.line(&format!(
            "{processor:<16} {:>7} {failed:>7}  {:>9}  {:>9}  {:>9}",
            durations.len(),
            duration(percentile(durations, 50)),
            duration(percentile(durations, 95)),
            duration(percentile(durations, 99)),
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
    for ((event_type, outcome), n) in &counts.by_type {
        out.json_line(&json!({
            "type": "events", "event_type": event_type, "outcome": outcome, "count": n,
        }))?;
    }
    for (processor, (durations, failed)) in &counts.processors {
        out.json_line(&json!({
            "type": "processor", "processor": processor, "calls": durations.len(),
            "failed": failed, "p50_us": percentile(durations, 50),
            "p95_us": percentile(durations, 95), "p99_us": percentile(durations, 99),
        }))?;
    }
    let (failed, calls) = error_rate(counts);
    out.json_line(&json!({
        "type": "error_rate", "failed": failed, "calls": calls,
        "rate": if calls == 0 { 0.0 } else { failed as f64 / calls as f64 },
    }))
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn nearest_rank() {
        let values: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&values, 50), 50);
        assert_eq!(percentile(&values, 95), 95);
        assert_eq!(percentile(&values, 99), 99);
        assert_eq!(percentile(&[7], 99), 7);
        assert_eq!(percentile(&[], 50), 0);
    }
}
