//! [`JsonlStore`]: the query API over a JSONL event file, read-only. Each
//! query reads the file through the core's reader; `seq` is the line
//! number.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use observe_core::read::chain::Chain;
use observe_core::read::reader::{
    ReadError, TypeLookup, UnknownTypes, builtin_types, read_event_with,
};
use observe_core::{Event, Outcome, SCHEMA_VERSION, Timestamp};
use uuid::Uuid;

use crate::StoreError;
use crate::query::{
    EventCount, EventStore, Page, ProcessorStats, StoredEvent, Tail, TraceFilter, TraceSummary,
};
use crate::summary::{StatsAcc, TraceAcc, page, parse_outcome};

/// A JSONL file of events, as a read-only store (for files written by
/// [`JsonlSink`](observe_core::delivery::sink::JsonlSink) or copied from
/// elsewhere). Every query reads the whole file: fine for a file of a few
/// hundred thousand events; use SQLite beyond that.
///
/// ```
/// use observe::store::{EventStore, JsonlStore};
///
/// let path = std::env::temp_dir().join(format!("observe-doc-{}.jsonl", std::process::id()));
/// std::fs::write(&path, "")?;
/// let store = JsonlStore::open(&path)?;
/// let tail = tokio::runtime::Builder::new_current_thread().build()?.block_on(store.after(0, 10))?;
/// assert!(tail.events.is_empty());
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct JsonlStore {
    path: PathBuf,
    types: TypeLookup,
    unknown: Mutex<UnknownTypes>,
}

impl JsonlStore {
    /// The store over the existing file at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<JsonlStore, StoreError> {
        let path = path.as_ref().to_path_buf();
        if !path.is_file() {
            return Err(StoreError::Missing { path });
        }
        Ok(JsonlStore {
            path,
            types: builtin_types,
            unknown: Mutex::new(UnknownTypes::new()),
        })
    }

    /// Reads the event types of an application's registry too: pass the
    /// `EventType::parse` that `observe::registry!` generated, and the
    /// application's own events are read instead of skipped as unknown.
    pub fn registry(mut self, types: TypeLookup) -> JsonlStore {
        self.types = types;
        self
    }

    /// Every event of the file with its line number, unknown types skipped
    /// and counted (each name reported once per store).
    fn read_all(&self) -> Result<Vec<StoredEvent>, StoreError> {
        Ok(self.read_lines()?.0)
    }

    /// [`read_all`](Self::read_all), and the number of the file's last
    /// line (skipped or not): how far a tail has read.
    fn read_lines(&self) -> Result<(Vec<StoredEvent>, i64), StoreError> {
        let io_error = |source| StoreError::Io {
            action: "read the event file",
            path: self.path.clone(),
            source,
        };
        let file = std::fs::File::open(&self.path).map_err(io_error)?;
        let mut unknown = self.unknown.lock().unwrap_or_else(|p| p.into_inner());
        let mut events = Vec::new();
        let mut last = 0;
        for (index, line) in BufReader::new(file).lines().enumerate() {
            let line = line.map_err(io_error)?;
            let seq = index as i64 + 1;
            last = seq;
            if line.trim().is_empty() {
                continue;
            }
            match read_event_with(&line, self.types) {
                Ok(event) => events.push(StoredEvent { seq, event }),
                Err(ReadError::UnknownEventType(name)) => unknown.skip_logged(&name),
                Err(ReadError::UnsupportedSchemaVersion { found }) => {
                    return Err(StoreError::UnsupportedSchemaVersion {
                        seq,
                        found: i64::from(found),
                        supported: SCHEMA_VERSION,
                    });
                }
                Err(e) => {
                    return Err(StoreError::BadRow {
                        seq,
                        reason: e.to_string(),
                    });
                }
            }
        }
        Ok((events, last))
    }

    fn events(&self) -> Result<Vec<Event>, StoreError> {
        Ok(self.read_all()?.into_iter().map(|e| e.event).collect())
    }
}

/// Whether one request passes the filter.
fn matches(chain: &Chain, filter: &TraceFilter) -> bool {
    let start = chain.start();
    let has = |outcome: Outcome| chain.spans().iter().any(|s| s.outcome == Some(outcome));
    filter
        .from
        .is_none_or(|from| start.is_some_and(|s| s >= from))
        && filter.to.is_none_or(|to| start.is_some_and(|s| s < to))
        && filter.processor.as_deref().is_none_or(|p| {
            chain
                .events()
                .iter()
                .any(|e| e.processor.as_deref() == Some(p))
        })
        && filter.outcome.is_none_or(has)
        && (!filter.errors_only || has(Outcome::Error) || has(Outcome::Panic))
        && filter.after.is_none_or(|c| {
            start.is_some_and(|s| {
                (s.unix_micros(), chain.correlation_id()) < (c.start_us, c.correlation_id)
            })
        })
}

fn summarize(chain: &Chain) -> Option<TraceSummary> {
    let first = chain.events().first()?;
    let label = first
        .processor
        .as_deref()
        .unwrap_or(first.event_type.as_str());
    let mut acc = TraceAcc::new(chain.correlation_id(), first.timestamp.unix_micros(), label);
    for event in chain.events() {
        acc.add(
            event.timestamp.unix_micros(),
            &event.span_id.to_string(),
            event.outcome,
        );
    }
    Some(acc.finish())
}

impl EventStore for JsonlStore {
    async fn chain(&self, correlation_id: Uuid) -> Result<Chain, StoreError> {
        let mut events = self.events()?;
        events.retain(|e| e.correlation_id == correlation_id);
        Ok(Chain::build(events))
    }

    async fn traces(&self, filter: &TraceFilter) -> Result<Page<TraceSummary>, StoreError> {
        let summaries = Chain::group(self.events()?)
            .iter()
            .filter(|chain| matches(chain, filter))
            .filter_map(summarize)
            .collect();
        Ok(page(summaries, filter.limit))
    }

    async fn after(&self, seq: i64, limit: usize) -> Result<Tail, StoreError> {
        let (all, last) = self.read_lines()?;
        let mut events: Vec<StoredEvent> = all.into_iter().filter(|e| e.seq > seq).collect();
        let limit = limit.max(1);
        // Lines skipped (unknown types, blank) still advance the cursor,
        // unless the page is full and more events may follow.
        let next_seq = if events.len() > limit {
            events.truncate(limit);
            events.last().map_or(seq, |e| e.seq)
        } else {
            last.max(seq)
        };
        Ok(Tail { events, next_seq })
    }

    async fn before(&self, seq: i64, limit: usize) -> Result<Tail, StoreError> {
        let (all, _) = self.read_lines()?;
        let limit = limit.max(1);
        let events: Vec<StoredEvent> = all
            .into_iter()
            .rev()
            .filter(|e| e.seq < seq)
            .take(limit)
            .collect();
        // Skipped lines below the last event read are looked at again by
        // the next call, and skipped again: harmless.
        let next_seq = events.last().map_or(seq, |e| e.seq);
        Ok(Tail { events, next_seq })
    }

    async fn event_counts(
        &self,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> Result<Vec<EventCount>, StoreError> {
        let mut counts: BTreeMap<(String, Option<&'static str>), u64> = BTreeMap::new();
        for event in self.events()? {
            if from.is_none_or(|f| event.timestamp >= f) && to.is_none_or(|t| event.timestamp < t) {
                let key = (
                    event.event_type.as_str().to_owned(),
                    event.outcome.map(Outcome::as_str),
                );
                *counts.entry(key).or_default() += 1;
            }
        }
        Ok(counts
            .into_iter()
            .map(|((event_type, outcome), count)| EventCount {
                event_type,
                outcome: parse_outcome(outcome),
                count,
            })
            .collect())
    }

    async fn processor_stats(
        &self,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> Result<Vec<ProcessorStats>, StoreError> {
        let mut acc = StatsAcc::default();
        for event in self.events()? {
            let in_range =
                from.is_none_or(|f| event.timestamp >= f) && to.is_none_or(|t| event.timestamp < t);
            if let (true, Some(processor), Some(outcome)) =
                (in_range, &event.processor, event.outcome)
            {
                let duration = event
                    .duration_us
                    .map(|d| i64::try_from(d).unwrap_or(i64::MAX));
                acc.add(processor, Some(outcome), duration);
            }
        }
        Ok(acc.finish())
    }

    async fn retain(&self, _older_than: Timestamp) -> Result<u64, StoreError> {
        Err(StoreError::ReadOnly {
            store: self.path.display().to_string(),
            operation: "retain",
        })
    }

    fn unknown_types(&self) -> BTreeMap<String, u64> {
        let unknown = self.unknown.lock().unwrap_or_else(|p| p.into_inner());
        unknown.counts().clone()
    }
}
