//! The query API: the [`EventStore`] trait that the CLI, the live stream
//! and the dashboard read through, and the values it returns.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::str::FromStr;

use observe_core::read::chain::Chain;
use observe_core::{Event, Outcome, Timestamp};
use uuid::Uuid;

use crate::StoreError;

/// One stored event with the store's sequence number.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredEvent {
    /// The store-assigned, increasing sequence number (the JSONL store uses
    /// the line number).
    pub seq: i64,
    /// The event.
    pub event: Event,
}

/// A run of events next to a sequence number: after it, for tailing
/// ([`EventStore::after`]), or before it, newest first, for reading back
/// from the end ([`EventStore::before`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tail {
    /// The events read, in the direction of the call (unknown types
    /// skipped).
    pub events: Vec<StoredEvent>,
    /// The `seq` to pass to the next call in the same direction: the last
    /// row looked at, including skipped ones. Equal to the `seq` passed in
    /// when there was nothing more to read.
    pub next_seq: i64,
}

impl Tail {
    /// The rows an SQL backend read from `seq` on, in either direction:
    /// `last` is the `seq` of the last row looked at, none if there was
    /// nothing (the cursor then stays where it was).
    pub(crate) fn read(seq: i64, (events, last): (Vec<StoredEvent>, Option<i64>)) -> Tail {
        Tail {
            next_seq: last.unwrap_or(seq),
            events,
        }
    }

    /// How many rows one page of `after` or `before` may hold, whatever was
    /// asked: 1 to 100,000, as SQL binds it.
    pub(crate) fn limit(limit: usize) -> i64 {
        limit.clamp(1, 100_000) as i64
    }
}

/// How many events of one type and outcome a time range holds, as counted
/// by [`EventStore::event_counts`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventCount {
    /// The event type's wire name, as stored (types this reader does not
    /// know are counted too: counting decodes nothing).
    pub event_type: String,
    /// The outcome (terminal events), or `None`.
    pub outcome: Option<Outcome>,
    /// How many.
    pub count: u64,
}

/// A request at a glance, as listed by [`EventStore::traces`].
#[derive(Clone, Debug, PartialEq)]
pub struct TraceSummary {
    /// The request.
    pub correlation_id: Uuid,
    /// The processor of the first event, or its event type when it has no
    /// processor (`message_received` for a request that came in over HTTP).
    pub root: String,
    /// The first event's time.
    pub start: Timestamp,
    /// Microseconds from the first event to the last.
    pub duration_us: u64,
    /// How many spans (distinct span ids).
    pub spans: u64,
    /// How many events.
    pub events: u64,
    /// The worst outcome of any span (panic, error, cancelled, ok), `None`
    /// if no span has ended yet.
    pub outcome: Option<Outcome>,
}

/// Where a page of trace summaries ends: the next page starts after it.
/// Its text form (`start_us.correlation_id`) fits in a URL.
///
/// ```
/// use observe::store::Cursor;
///
/// let cursor: Cursor = "1764242055000000.01938e5a-7b2c-7d4e-8f00-0123456789ac".parse()?;
/// assert_eq!(cursor.to_string().parse::<Cursor>()?, cursor);
/// # Ok::<(), observe::store::StoreError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub(crate) start_us: i64,
    pub(crate) correlation_id: Uuid,
}

impl Cursor {
    /// The cursor just past this summary.
    pub fn after(summary: &TraceSummary) -> Cursor {
        Cursor {
            start_us: summary.start.unix_micros(),
            correlation_id: summary.correlation_id,
        }
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.start_us, self.correlation_id)
    }
}

impl FromStr for Cursor {
    type Err = StoreError;

    fn from_str(text: &str) -> Result<Cursor, StoreError> {
        let invalid = || StoreError::InvalidCursor(text.to_owned());
        let (start, id) = text.split_once('.').ok_or_else(invalid)?;
        Ok(Cursor {
            start_us: start.parse().map_err(|_| invalid())?,
            correlation_id: id.parse().map_err(|_| invalid())?,
        })
    }
}

/// One page of results and the cursor of the next page, if there is one.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    /// The items, newest first.
    pub items: Vec<T>,
    /// Pass it as [`TraceFilter::after`] to get the next page.
    pub next: Option<Cursor>,
}

/// Which requests [`EventStore::traces`] lists: newest first, `limit` at a
/// time, every condition given must hold.
///
/// ```
/// use observe::store::TraceFilter;
///
/// let filter = TraceFilter::new().processor("retrieval").errors_only().limit(20);
/// assert_eq!(filter.get_limit(), 20);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct TraceFilter {
    pub(crate) from: Option<Timestamp>,
    pub(crate) to: Option<Timestamp>,
    pub(crate) processor: Option<String>,
    pub(crate) outcome: Option<Outcome>,
    pub(crate) errors_only: bool,
    pub(crate) limit: usize,
    pub(crate) after: Option<Cursor>,
}

impl Default for TraceFilter {
    fn default() -> TraceFilter {
        TraceFilter {
            from: None,
            to: None,
            processor: None,
            outcome: None,
            errors_only: false,
            limit: 100,
            after: None,
        }
    }
}

impl TraceFilter {
    /// Every request, 100 per page.
    pub fn new() -> TraceFilter {
        TraceFilter::default()
    }

    /// Requests that started at or after `from` and before `to`.
    pub fn between(mut self, from: Option<Timestamp>, to: Option<Timestamp>) -> TraceFilter {
        self.from = from;
        self.to = to;
        self
    }

    /// Requests with at least one event of this processor.
    pub fn processor(mut self, processor: impl Into<String>) -> TraceFilter {
        self.processor = Some(processor.into());
        self
    }

    /// Requests with at least one span that ended with this outcome.
    pub fn outcome(mut self, outcome: Outcome) -> TraceFilter {
        self.outcome = Some(outcome);
        self
    }

    /// Requests with at least one span that ended in an error or a panic.
    pub fn errors_only(mut self) -> TraceFilter {
        self.errors_only = true;
        self
    }

    /// At most `limit` per page (at least 1, at most 1000).
    pub fn limit(mut self, limit: usize) -> TraceFilter {
        self.limit = limit.clamp(1, 1000);
        self
    }

    /// The page after `cursor` (from [`Page::next`]).
    pub fn after(mut self, cursor: Option<Cursor>) -> TraceFilter {
        self.after = cursor;
        self
    }

    /// The page size.
    pub fn get_limit(&self) -> usize {
        self.limit
    }
}

/// Counts and duration percentiles of one processor's finished calls.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProcessorStats {
    /// The processor.
    pub processor: String,
    /// Finished calls (terminal events).
    pub calls: u64,
    /// Of those, how many ended `ok`.
    pub ok: u64,
    /// ... `error`.
    pub error: u64,
    /// ... `panic`.
    pub panic: u64,
    /// ... `cancelled`.
    pub cancelled: u64,
    /// Median duration (nearest rank), microseconds.
    pub p50_us: u64,
    /// 90th percentile.
    pub p90_us: u64,
    /// 95th percentile.
    pub p95_us: u64,
    /// 99th percentile.
    pub p99_us: u64,
    /// Longest.
    pub max_us: u64,
}

/// Reading a store: implemented for SQLite, PostgreSQL and (read-only) a
/// JSONL file.
///
/// Reading follows the schema's compatibility rules: events of an unknown
/// type are skipped, counted ([`unknown_types`](EventStore::unknown_types))
/// and logged once on stderr; a row with an unsupported `schema_version` is
/// an [`UnsupportedSchemaVersion`](StoreError::UnsupportedSchemaVersion)
/// error naming its `seq`. The futures need no particular executor.
pub trait EventStore: Send + Sync {
    /// Every event of one request, as a tree of spans.
    fn chain(&self, correlation_id: Uuid)
    -> impl Future<Output = Result<Chain, StoreError>> + Send;

    /// One page of request summaries, newest first.
    fn traces(
        &self,
        filter: &TraceFilter,
    ) -> impl Future<Output = Result<Page<TraceSummary>, StoreError>> + Send;

    /// Up to `limit` events with a `seq` greater than `seq`, in `seq` order.
    fn after(
        &self,
        seq: i64,
        limit: usize,
    ) -> impl Future<Output = Result<Tail, StoreError>> + Send;

    /// Up to `limit` events with a `seq` lower than `seq`, newest first:
    /// `before(i64::MAX, n)` reads the latest `n`. Continue with the
    /// returned [`Tail::next_seq`] to read further back.
    fn before(
        &self,
        seq: i64,
        limit: usize,
    ) -> impl Future<Output = Result<Tail, StoreError>> + Send;

    /// Events per type and outcome, of the events at or after `from` and
    /// before `to`, ordered by type then outcome.
    fn event_counts(
        &self,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> impl Future<Output = Result<Vec<EventCount>, StoreError>> + Send;

    /// Per processor, counts by outcome and duration percentiles of the
    /// calls that ended at or after `from` and before `to`.
    fn processor_stats(
        &self,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> impl Future<Output = Result<Vec<ProcessorStats>, StoreError>> + Send;

    /// Deletes the events older than `older_than`, a bounded chunk per
    /// transaction so that writers wait only briefly; returns how many.
    fn retain(&self, older_than: Timestamp)
    -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// The unknown event types skipped so far, with their counts.
    fn unknown_types(&self) -> BTreeMap<String, u64>;
}
