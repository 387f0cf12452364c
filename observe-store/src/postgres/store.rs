//! [`PostgresStore`]: the query API over a PostgreSQL database.

use std::collections::BTreeMap;
use std::sync::Arc;

use observe_core::Timestamp;
use observe_core::read::chain::Chain;
use observe_core::read::reader::TypeLookup;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use super::sql::{self, Param};
use super::{Backend, Shared};
use crate::StoreError;
use crate::query::{
    EventCount, EventStore, Page, ProcessorStats, StoredEvent, Tail, TraceFilter, TraceSummary,
};
use crate::row::{RowReader, StoredRow};
use crate::summary::{StatsAcc, Summaries, parse_outcome};

/// How many rows one retention transaction deletes.
const RETAIN_CHUNK: i64 = 5_000;

/// Reads (and prunes) a PostgreSQL event store. Queries run on the store's
/// own runtime; the futures can be awaited from any executor.
///
/// ```no_run
/// use observe::store::{EventStore, PostgresStore, TraceFilter};
///
/// # async fn demo() -> Result<(), observe::store::StoreError> {
/// let store = PostgresStore::connect("postgres://app:secret@127.0.0.1:5432/events")?;
/// let page = store.traces(&TraceFilter::new().errors_only()).await?;
/// println!("{} failing requests", page.items.len());
/// # Ok(()) }
/// ```
pub struct PostgresStore {
    backend: Backend,
    rows: Arc<RowReader>,
}

impl PostgresStore {
    /// Connects to the database at `url` and brings its layout up to date.
    pub fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        Ok(PostgresStore {
            backend: Backend::connect(url)?,
            rows: Arc::new(RowReader::default()),
        })
    }

    /// Reads the event types of an application's registry too: pass the
    /// `EventType::parse` that `observe::registry!` generated, and the
    /// application's own events are read instead of skipped as unknown.
    pub fn registry(mut self, types: TypeLookup) -> PostgresStore {
        self.rows = Arc::new(RowReader::new(types));
        self
    }

    /// Runs one query on the store's runtime.
    async fn query(&self, sql: String, params: Vec<Param>) -> Result<Vec<Row>, StoreError> {
        let shared = self.backend.shared.clone();
        self.backend
            .run(async move { query(&shared, &sql, &params).await })
            .await
    }

    async fn events(
        &self,
        sql: String,
        params: Vec<Param>,
    ) -> Result<(Vec<StoredEvent>, Option<i64>), StoreError> {
        let rows = self.query(sql, params).await?;
        let mut events = Vec::with_capacity(rows.len());
        let mut last = None;
        for row in rows {
            let row = stored_row(&row).map_err(|e| self.backend.shared.error(&e))?;
            let seq = row.seq;
            last = Some(seq);
            if let Some(event) = self.rows.read(row)? {
                events.push(StoredEvent { seq, event });
            }
        }
        Ok((events, last))
    }
}

async fn query(shared: &Shared, sql: &str, params: &[Param]) -> Result<Vec<Row>, StoreError> {
    let guard = shared.live().await?;
    let Some(live) = guard.as_ref() else {
        return Err(shared.error_text("no connection"));
    };
    let params: Vec<&(dyn ToSql + Sync)> = params
        .iter()
        .map(|p| match p {
            Param::Int(i) => i as &(dyn ToSql + Sync),
            Param::Text(t) => t as _,
            Param::Uuid(u) => u as _,
            Param::Uuids(u) => u as _,
        })
        .collect();
    live.client
        .query(sql, &params)
        .await
        .map_err(|e| shared.error(&e))
}

fn stored_row(row: &Row) -> Result<StoredRow, tokio_postgres::Error> {
    Ok(StoredRow {
        seq: row.try_get(0)?,
        schema_version: row.try_get(1)?,
        event_id: row.try_get::<_, Uuid>(2)?.to_string(),
        event_type: row.try_get(3)?,
        timestamp_us: row.try_get(4)?,
        correlation_id: row.try_get::<_, Uuid>(5)?.to_string(),
        span_id: row.try_get(6)?,
        parent_span_id: row.try_get(7)?,
        processor: row.try_get(8)?,
        duration_us: row.try_get(9)?,
        outcome: row.try_get(10)?,
        payload: row.try_get(11)?,
        service_name: row.try_get(12)?,
    })
}

fn summaries(rows: &[Row], limit: usize) -> Result<Page<TraceSummary>, tokio_postgres::Error> {
    let mut summaries = Summaries::default();
    for row in rows {
        let processor: Option<&str> = row.try_get(3)?;
        let label = processor.unwrap_or(row.try_get(4)?);
        summaries.push(
            row.try_get(0)?,
            row.try_get(1)?,
            row.try_get(2)?,
            label,
            row.try_get(5)?,
        );
    }
    Ok(summaries.page(limit))
}

impl EventStore for PostgresStore {
    async fn chain(&self, correlation_id: Uuid) -> Result<Chain, StoreError> {
        let (events, _) = self
            .events(sql::chain(), vec![Param::Uuid(correlation_id)])
            .await?;
        Ok(Chain::build(events.into_iter().map(|e| e.event).collect()))
    }

    async fn traces(&self, filter: &TraceFilter) -> Result<Page<TraceSummary>, StoreError> {
        let (page_sql, params) = sql::trace_page(filter);
        let ids: Vec<Uuid> = self
            .query(page_sql, params)
            .await?
            .iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, _>>()
            .map_err(|e| self.backend.shared.error(&e))?;
        if ids.is_empty() {
            return Ok(Page {
                items: Vec::new(),
                next: None,
            });
        }
        let rows = self
            .query(sql::summary_rows(), vec![Param::Uuids(ids)])
            .await?;
        summaries(&rows, filter.limit).map_err(|e| self.backend.shared.error(&e))
    }

    async fn after(&self, seq: i64, limit: usize) -> Result<Tail, StoreError> {
        let params = vec![Param::Int(seq), Param::Int(Tail::limit(limit))];
        Ok(Tail::read(seq, self.events(sql::after(), params).await?))
    }

    async fn before(&self, seq: i64, limit: usize) -> Result<Tail, StoreError> {
        let params = vec![Param::Int(seq), Param::Int(Tail::limit(limit))];
        Ok(Tail::read(seq, self.events(sql::before(), params).await?))
    }

    async fn event_counts(
        &self,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> Result<Vec<EventCount>, StoreError> {
        let (from, to) = bounds(from, to);
        let rows = self
            .query(
                sql::EVENT_COUNTS.to_owned(),
                vec![Param::Int(from), Param::Int(to)],
            )
            .await?;
        rows.iter()
            .map(|row| {
                Ok(EventCount {
                    event_type: row.try_get(0)?,
                    outcome: parse_outcome(row.try_get(1)?),
                    count: row.try_get::<_, i64>(2)?.max(0) as u64,
                })
            })
            .collect::<Result<_, tokio_postgres::Error>>()
            .map_err(|e| self.backend.shared.error(&e))
    }

    async fn processor_stats(
        &self,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> Result<Vec<ProcessorStats>, StoreError> {
        let (from, to) = bounds(from, to);
        let rows = self
            .query(
                sql::TERMINAL_EVENTS.to_owned(),
                vec![Param::Int(from), Param::Int(to)],
            )
            .await?;
        let mut acc = StatsAcc::default();
        for row in &rows {
            let mut read = || -> Result<(), tokio_postgres::Error> {
                let processor: &str = row.try_get(0)?;
                let outcome: Option<&str> = row.try_get(1)?;
                acc.add(processor, parse_outcome(outcome), row.try_get(2)?);
                Ok(())
            };
            read().map_err(|e| self.backend.shared.error(&e))?;
        }
        Ok(acc.finish())
    }

    async fn retain(&self, older_than: Timestamp) -> Result<u64, StoreError> {
        let cutoff = older_than.unix_micros();
        let shared = self.backend.shared.clone();
        self.backend
            .run(async move {
                let mut deleted = 0;
                for statement in [sql::DELETE_OLD_EVENTS, sql::DELETE_OLD_TRACES] {
                    loop {
                        let guard = shared.live().await?;
                        let Some(live) = guard.as_ref() else {
                            return Err(shared.error_text("no connection"));
                        };
                        // One chunk per statement (its own transaction):
                        // writers wait for a chunk at most.
                        let n = live
                            .client
                            .execute(statement, &[&cutoff, &RETAIN_CHUNK])
                            .await
                            .map_err(|e| shared.error(&e))?;
                        if statement == sql::DELETE_OLD_EVENTS {
                            deleted += n;
                        }
                        if (n as i64) < RETAIN_CHUNK {
                            break;
                        }
                    }
                }
                Ok(deleted)
            })
            .await
    }

    fn unknown_types(&self) -> BTreeMap<String, u64> {
        self.rows.unknown_types()
    }
}

/// A time range's bounds in microseconds; without bounds, years 1 to 9999,
/// inside `timestamptz`'s range.
fn bounds(from: Option<Timestamp>, to: Option<Timestamp>) -> (i64, i64) {
    (
        from.map_or(-62_135_596_800_000_000, Timestamp::unix_micros),
        to.map_or(253_402_300_800_000_000, Timestamp::unix_micros),
    )
}
