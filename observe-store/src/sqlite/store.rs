//! [`SqliteStore`]: the query API over an SQLite database.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use observe_core::Timestamp;
use observe_core::read::chain::Chain;
use observe_core::read::reader::TypeLookup;
use rusqlite::{Connection, Row, params, params_from_iter};
use uuid::Uuid;

use super::Location;
use super::sql::{self, Param};
use crate::StoreError;
use crate::query::{
    EventCount, EventStore, Page, ProcessorStats, StoredEvent, Tail, TraceFilter, TraceSummary,
};
use crate::row::{RowReader, StoredRow};
use crate::summary::{StatsAcc, Summaries, parse_outcome};

/// How many rows one retention transaction deletes.
const RETAIN_CHUNK: i64 = 5_000;

/// Reads (and prunes) an SQLite event store. Queries run on the calling
/// thread (on a multi-thread tokio runtime, outside its scheduler, so the
/// runtime's other tasks move on meanwhile); the connection is its own, so
/// the sink keeps writing meanwhile (WAL).
///
/// ```
/// use observe::store::{EventStore, SqliteSink, SqliteStore, TraceFilter};
///
/// let dir = std::env::temp_dir().join(format!("observe-doc-sqlite-store-{}", std::process::id()));
/// let _sink = SqliteSink::open(dir.join("events.db"))?;
/// let store = SqliteStore::open(dir.join("events.db"))?;
/// let page = futures_lite_block_on(store.traces(&TraceFilter::new()))?;
/// assert!(page.items.is_empty() && page.next.is_none());
/// # fn futures_lite_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), observe::store::StoreError>(())
/// ```
pub struct SqliteStore {
    reader: Reader,
}

/// What a query needs, cheap to clone into a blocking task.
#[derive(Clone)]
struct Reader {
    at: Location,
    conn: Arc<Mutex<Connection>>,
    rows: Arc<RowReader>,
}

impl SqliteStore {
    /// Opens the existing database at `path` (a missing file is an error:
    /// reading never creates a store).
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        let path: PathBuf = path.as_ref().to_path_buf();
        let conn = super::open(&path, None)?;
        Ok(SqliteStore {
            reader: Reader {
                at: Location(path),
                conn: Arc::new(Mutex::new(conn)),
                rows: Arc::new(RowReader::default()),
            },
        })
    }

    /// Reads the event types of an application's registry too: pass the
    /// `EventType::parse` that `observe::registry!` generated, and the
    /// application's own events are read instead of skipped as unknown.
    pub fn registry(mut self, types: TypeLookup) -> SqliteStore {
        self.reader.rows = Arc::new(RowReader::new(types));
        self
    }

    /// Runs `query` on the runtime's blocking threads if there is a runtime
    /// (the async worker goes on with its other tasks meanwhile; and if the
    /// runtime shuts down, the waiting task is dropped, never woken into a
    /// runtime that is gone), else right here.
    async fn run<T: Send + 'static>(
        &self,
        query: impl FnOnce(&Reader) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                let reader = self.reader.clone();
                runtime
                    .spawn_blocking(move || query(&reader))
                    .await
                    .map_err(|e| StoreError::Database {
                        backend: "SQLite",
                        store: self.reader.at.0.display().to_string(),
                        message: format!("the query's task failed: {e}"),
                    })?
            }
            Err(_) => query(&self.reader),
        }
    }
}

impl Reader {
    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The events of a query's rows, and the last row's seq (skipped or not).
    fn events(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<(Vec<StoredEvent>, Option<i64>), StoreError> {
        let conn = self.conn();
        let mut statement = conn.prepare_cached(sql).map_err(|e| self.at.error(e))?;
        let rows = statement
            .query_map(params, stored_row)
            .map_err(|e| self.at.error(e))?;
        let mut events = Vec::new();
        let mut last = None;
        for row in rows {
            let row = row.map_err(|e| self.at.error(e))?;
            let seq = row.seq;
            last = Some(seq);
            if let Some(event) = self.rows.read(row)? {
                events.push(StoredEvent { seq, event });
            }
        }
        Ok((events, last))
    }

    fn summaries(&self, filter: &TraceFilter) -> Result<Page<TraceSummary>, StoreError> {
        let conn = self.conn();
        let (query, params) = sql::trace_page(filter);
        let mut statement = conn.prepare(&query).map_err(|e| self.at.error(e))?;
        let params = params.iter().map(|p| match p {
            Param::Int(i) => rusqlite::types::Value::Integer(*i),
            Param::Text(t) => rusqlite::types::Value::Text(t.clone()),
        });
        let ids: Vec<String> = statement
            .query_map(params_from_iter(params), |row| row.get(0))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.at.error(e))?;
        if ids.is_empty() {
            return Ok(Page {
                items: Vec::new(),
                next: None,
            });
        }
        let mut statement = conn
            .prepare(&sql::summary_rows(ids.len()))
            .map_err(|e| self.at.error(e))?;
        let mut rows = statement
            .query(params_from_iter(ids.iter()))
            .map_err(|e| self.at.error(e))?;
        let mut summaries = Summaries::default();
        while let Some(row) = rows.next().map_err(|e| self.at.error(e))? {
            let (cid, at, span, processor, event_type, outcome) =
                summary_row(row).map_err(|e| self.at.error(e))?;
            let label = processor.as_deref().unwrap_or(&event_type);
            let id = cid.parse::<Uuid>().unwrap_or_default();
            summaries.push(id, at, &span, label, outcome.as_deref());
        }
        Ok(summaries.page(filter.limit))
    }

    fn stats(
        &self,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> Result<Vec<ProcessorStats>, StoreError> {
        let conn = self.conn();
        let mut statement = conn
            .prepare_cached(sql::TERMINAL_EVENTS)
            .map_err(|e| self.at.error(e))?;
        let from = from.map_or(i64::MIN, Timestamp::unix_micros);
        let to = to.map_or(i64::MAX, Timestamp::unix_micros);
        let mut rows = statement
            .query(params![from, to])
            .map_err(|e| self.at.error(e))?;
        let mut acc = StatsAcc::default();
        while let Some(row) = rows.next().map_err(|e| self.at.error(e))? {
            let processor: String = row.get(0).map_err(|e| self.at.error(e))?;
            let outcome: Option<String> = row.get(1).map_err(|e| self.at.error(e))?;
            let duration: Option<i64> = row.get(2).map_err(|e| self.at.error(e))?;
            acc.add(&processor, parse_outcome(outcome.as_deref()), duration);
        }
        Ok(acc.finish())
    }

    fn counts(
        &self,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> Result<Vec<EventCount>, StoreError> {
        let conn = self.conn();
        let mut statement = conn
            .prepare_cached(sql::EVENT_COUNTS)
            .map_err(|e| self.at.error(e))?;
        let from = from.map_or(i64::MIN, Timestamp::unix_micros);
        let to = to.map_or(i64::MAX, Timestamp::unix_micros);
        statement
            .query_map(params![from, to], |row| {
                let outcome: Option<String> = row.get(1)?;
                Ok(EventCount {
                    event_type: row.get(0)?,
                    outcome: parse_outcome(outcome.as_deref()),
                    count: row.get::<_, i64>(2)?.max(0) as u64,
                })
            })
            .and_then(|rows| rows.collect())
            .map_err(|e| self.at.error(e))
    }

    fn delete_old(&self, older_than: Timestamp) -> Result<u64, StoreError> {
        let cutoff = older_than.unix_micros();
        let mut deleted = 0;
        for statement in [sql::DELETE_OLD_EVENTS, sql::DELETE_OLD_TRACES] {
            loop {
                // One short transaction per chunk: the writer waits at most
                // for one chunk (busy_timeout), never for the whole purge.
                let n = self
                    .conn()
                    .execute(statement, params![cutoff, RETAIN_CHUNK])
                    .map_err(|e| self.at.error(e))?;
                if statement == sql::DELETE_OLD_EVENTS {
                    deleted += n as u64;
                }
                if (n as i64) < RETAIN_CHUNK {
                    break;
                }
            }
        }
        Ok(deleted)
    }
}

type SummaryRow = (String, i64, String, Option<String>, String, Option<String>);

fn summary_row(row: &Row<'_>) -> rusqlite::Result<SummaryRow> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
    ))
}

fn stored_row(row: &Row<'_>) -> rusqlite::Result<StoredRow> {
    Ok(StoredRow {
        seq: row.get(0)?,
        schema_version: row.get(1)?,
        event_id: row.get(2)?,
        event_type: row.get(3)?,
        timestamp_us: row.get(4)?,
        correlation_id: row.get(5)?,
        span_id: row.get(6)?,
        parent_span_id: row.get(7)?,
        processor: row.get(8)?,
        duration_us: row.get(9)?,
        outcome: row.get(10)?,
        payload: row.get(11)?,
        service_name: row.get(12)?,
    })
}

impl EventStore for SqliteStore {
    async fn chain(&self, correlation_id: Uuid) -> Result<Chain, StoreError> {
        let id = correlation_id.to_string();
        let (events, _) = self
            .run(move |r| r.events(&sql::chain(), params![id]))
            .await?;
        Ok(Chain::build(events.into_iter().map(|e| e.event).collect()))
    }

    async fn traces(&self, filter: &TraceFilter) -> Result<Page<TraceSummary>, StoreError> {
        let filter = filter.clone();
        self.run(move |r| r.summaries(&filter)).await
    }

    async fn after(&self, seq: i64, limit: usize) -> Result<Tail, StoreError> {
        let rows = self
            .run(move |r| r.events(&sql::after(), params![seq, Tail::limit(limit)]))
            .await?;
        Ok(Tail::read(seq, rows))
    }

    async fn before(&self, seq: i64, limit: usize) -> Result<Tail, StoreError> {
        let rows = self
            .run(move |r| r.events(&sql::before(), params![seq, Tail::limit(limit)]))
            .await?;
        Ok(Tail::read(seq, rows))
    }

    async fn event_counts(
        &self,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> Result<Vec<EventCount>, StoreError> {
        self.run(move |r| r.counts(from, to)).await
    }

    async fn processor_stats(
        &self,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> Result<Vec<ProcessorStats>, StoreError> {
        self.run(move |r| r.stats(from, to)).await
    }

    async fn retain(&self, older_than: Timestamp) -> Result<u64, StoreError> {
        self.run(move |r| r.delete_old(older_than)).await
    }

    fn unknown_types(&self) -> BTreeMap<String, u64> {
        self.reader.rows.unknown_types()
    }
}
