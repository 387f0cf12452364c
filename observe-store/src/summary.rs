//! Building [`TraceSummary`] and [`ProcessorStats`] values from the few
//! columns they need, the same way for every backend.

use std::collections::{BTreeMap, HashSet};

use observe_core::Outcome;
use observe_core::Timestamp;
use observe_core::read::chain::worst;
use uuid::Uuid;

use crate::query::{Cursor, Page, ProcessorStats, TraceSummary};

/// The summary of one request, built from its events in time order.
pub(crate) struct TraceAcc {
    correlation_id: Uuid,
    root: String,
    start_us: i64,
    end_us: i64,
    spans: HashSet<String>,
    events: u64,
    outcome: Option<Outcome>,
}

impl TraceAcc {
    /// The summary so far of a request whose first event is this one.
    pub(crate) fn new(correlation_id: Uuid, at_us: i64, label: &str) -> TraceAcc {
        TraceAcc {
            correlation_id,
            root: label.to_owned(),
            start_us: at_us,
            end_us: at_us,
            spans: HashSet::new(),
            events: 0,
            outcome: None,
        }
    }

    /// Adds one event (call in time order).
    pub(crate) fn add(&mut self, at_us: i64, span_id: &str, outcome: Option<Outcome>) {
        self.start_us = self.start_us.min(at_us);
        self.end_us = self.end_us.max(at_us);
        if !self.spans.contains(span_id) {
            self.spans.insert(span_id.to_owned());
        }
        self.events += 1;
        self.outcome = worst(self.outcome, outcome);
    }

    /// The finished summary.
    pub(crate) fn finish(self) -> TraceSummary {
        TraceSummary {
            correlation_id: self.correlation_id,
            root: self.root,
            start: Timestamp::from_unix_micros(self.start_us)
                .unwrap_or_else(|| Timestamp::from_system_time(std::time::UNIX_EPOCH)),
            duration_us: self.end_us.saturating_sub(self.start_us).max(0) as u64,
            spans: self.spans.len() as u64,
            events: self.events,
            outcome: self.outcome,
        }
    }
}

/// Summaries from rows ordered by request, then time: one
/// [`TraceAcc`] per run of rows of the same request.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
#[derive(Default)]
pub(crate) struct Summaries {
    done: Vec<TraceSummary>,
    current: Option<TraceAcc>,
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
impl Summaries {
    /// Adds one event's row.
    pub(crate) fn push(
        &mut self,
        correlation_id: Uuid,
        at_us: i64,
        span_id: &str,
        label: &str,
        outcome: Option<&str>,
    ) {
        if self
            .current
            .as_ref()
            .is_none_or(|acc| acc.correlation_id != correlation_id)
        {
            let next = TraceAcc::new(correlation_id, at_us, label);
            self.done
                .extend(self.current.replace(next).map(TraceAcc::finish));
        }
        if let Some(acc) = self.current.as_mut() {
            acc.add(at_us, span_id, parse_outcome(outcome));
        }
    }

    /// The page of the summaries pushed.
    pub(crate) fn page(mut self, limit: usize) -> Page<TraceSummary> {
        self.done.extend(self.current.take().map(TraceAcc::finish));
        page(self.done, limit)
    }
}

/// Parses a stored outcome; an unknown word counts as no outcome.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) fn parse_outcome(text: Option<&str>) -> Option<Outcome> {
    match text? {
        "ok" => Some(Outcome::Ok),
        "error" => Some(Outcome::Error),
        "panic" => Some(Outcome::Panic),
        "cancelled" => Some(Outcome::Cancelled),
        _ => None,
    }
}

/// Sorts summaries newest first and cuts a page of `limit`, with the cursor
/// of the next page when more were found than fit.
pub(crate) fn page(mut items: Vec<TraceSummary>, limit: usize) -> Page<TraceSummary> {
    items.sort_by_key(|s| std::cmp::Reverse((s.start, s.correlation_id)));
    let next = (items.len() > limit).then(|| Cursor::after(&items[limit - 1]));
    items.truncate(limit);
    Page { items, next }
}

/// Per-processor counts and percentiles from (processor, outcome,
/// duration) triples.
#[derive(Default)]
pub(crate) struct StatsAcc {
    by_processor: BTreeMap<String, (ProcessorStats, Vec<u64>)>,
}

impl StatsAcc {
    /// Adds one terminal event.
    pub(crate) fn add(
        &mut self,
        processor: &str,
        outcome: Option<Outcome>,
        duration_us: Option<i64>,
    ) {
        let (stats, durations) = match self.by_processor.get_mut(processor) {
            Some(entry) => entry,
            None => self
                .by_processor
                .entry(processor.to_owned())
                .or_insert_with(|| {
                    let stats = ProcessorStats {
                        processor: processor.to_owned(),
                        ..ProcessorStats::default()
                    };
                    (stats, Vec::new())
                }),
        };
        stats.calls += 1;
        match outcome {
            Some(Outcome::Ok) => stats.ok += 1,
            Some(Outcome::Error) => stats.error += 1,
            Some(Outcome::Panic) => stats.panic += 1,
            Some(Outcome::Cancelled) => stats.cancelled += 1,
            None => {}
        }
        if let Some(d) = duration_us {
            durations.push(d.max(0) as u64);
        }
    }

    /// The statistics, by processor name.
    pub(crate) fn finish(self) -> Vec<ProcessorStats> {
        self.by_processor
            .into_values()
            .map(|(mut stats, mut durations)| {
                durations.sort_unstable();
                stats.p50_us = nearest_rank(&durations, 50);
                stats.p90_us = nearest_rank(&durations, 90);
                stats.p95_us = nearest_rank(&durations, 95);
                stats.p99_us = nearest_rank(&durations, 99);
                stats.max_us = durations.last().copied().unwrap_or(0);
                stats
            })
            .collect()
    }
}

/// The `percent`th percentile of sorted values by the nearest-rank method
/// (0 for none).
fn nearest_rank(sorted: &[u64], percent: usize) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (percent * sorted.len()).div_ceil(100).max(1);
    sorted[rank.min(sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::nearest_rank;

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<u64> = (1..=100).collect();
        assert_eq!(nearest_rank(&values, 50), 50);
        assert_eq!(nearest_rank(&values, 99), 99);
        assert_eq!(nearest_rank(&[7], 90), 7);
        assert_eq!(nearest_rank(&[], 50), 0);
    }
}
