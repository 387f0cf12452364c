//! [`PostgresSink`]: each batch is one multi-row `INSERT ... SELECT FROM
//! unnest(...)` of column arrays, in one transaction.

use std::borrow::Cow;

use observe_core::Event;
use observe_core::delivery::sink::{Sink, SinkError};
use uuid::Uuid;

use super::{Backend, sql};
use crate::StoreError;
use crate::row::{NewRow, trace_starts};

/// Writes events to a PostgreSQL database (plain TCP, no TLS).
///
/// [`connect`](PostgresSink::connect) connects and applies the migrations
/// (under an advisory lock), so a bad URL, a wrong password or a newer
/// layout is found at start-up, with the password masked in the message.
/// Each batch is one transaction: the column values go as one array per
/// column through `unnest`, and `ON CONFLICT (event_id) DO NOTHING` makes a
/// replayed batch harmless. A lost connection (server restarted) is
/// re-established by the next write, so the pipeline's breaker probe
/// succeeds as soon as the server is back.
///
/// ```no_run
/// let sink = observe::store::PostgresSink::connect("postgres://app:secret@127.0.0.1:5432/events")?;
/// let _guard = observe::init(
///     observe::Config::default().sink(sink),
/// );
/// # Ok::<(), observe::store::StoreError>(())
/// ```
#[derive(Debug)]
pub struct PostgresSink {
    backend: Backend,
}

/// One batch as one array per column.
struct Columns {
    event_id: Vec<Uuid>,
    event_type: Vec<&'static str>,
    timestamp: Vec<i64>,
    correlation_id: Vec<Uuid>,
    span_id: Vec<String>,
    parent_span_id: Vec<Option<String>>,
    processor: Vec<Option<String>>,
    duration_us: Vec<Option<i64>>,
    outcome: Vec<Option<&'static str>>,
    payload: Vec<String>,
    service_name: Vec<Option<String>>,
    trace_ids: Vec<Uuid>,
    trace_starts: Vec<i64>,
}

impl Columns {
    fn of(rows: Vec<NewRow>) -> Columns {
        let (trace_ids, trace_starts) = trace_starts(&rows).into_iter().unzip();
        let n = rows.len();
        let mut columns = Columns {
            event_id: Vec::with_capacity(n),
            event_type: Vec::with_capacity(n),
            timestamp: Vec::with_capacity(n),
            correlation_id: Vec::with_capacity(n),
            span_id: Vec::with_capacity(n),
            parent_span_id: Vec::with_capacity(n),
            processor: Vec::with_capacity(n),
            duration_us: Vec::with_capacity(n),
            outcome: Vec::with_capacity(n),
            payload: Vec::with_capacity(n),
            service_name: Vec::with_capacity(n),
            trace_ids,
            trace_starts,
        };
        for row in rows {
            columns.event_id.push(row.event_id);
            columns.event_type.push(row.event_type);
            columns.timestamp.push(row.timestamp_us);
            columns.correlation_id.push(row.correlation_id);
            columns.span_id.push(row.span_id.as_str().to_owned());
            columns
                .parent_span_id
                .push(row.parent_span_id.map(|p| p.as_str().to_owned()));
            columns.processor.push(row.processor.map(Cow::into_owned));
            columns.duration_us.push(row.duration_us);
            columns.outcome.push(row.outcome);
            columns.payload.push(row.payload);
            columns
                .service_name
                .push(row.service_name.map(Cow::into_owned));
        }
        columns
    }
}

impl PostgresSink {
    /// Connects to the database at `url` (`postgres://user:password@host:port/db`)
    /// and brings its layout up to date.
    pub fn connect(url: &str) -> Result<PostgresSink, StoreError> {
        Ok(PostgresSink {
            backend: Backend::connect(url)?,
        })
    }
}

impl Sink for PostgresSink {
    async fn write_batch(&self, batch: &[Event]) -> Result<(), SinkError> {
        let columns = Columns::of(NewRow::batch(batch)?);
        let shared = self.backend.shared.clone();
        self.backend
            .run(async move {
                let mut guard = shared.live().await?;
                let Some(live) = guard.as_mut() else {
                    return Err(shared.error_text("no connection"));
                };
                let c = &columns;
                let tx = live
                    .client
                    .transaction()
                    .await
                    .map_err(|e| shared.error(&e))?;
                tx.execute(sql::LOCK, &[&sql::WRITE_LOCK])
                    .await
                    .map_err(|e| shared.error(&e))?;
                tx.execute(
                    &live.insert,
                    &[
                        &c.event_id,
                        &c.event_type,
                        &c.timestamp,
                        &c.correlation_id,
                        &c.span_id,
                        &c.parent_span_id,
                        &c.processor,
                        &c.duration_us,
                        &c.outcome,
                        &c.payload,
                        &c.service_name,
                    ],
                )
                .await
                .map_err(|e| shared.error(&e))?;
                tx.execute(&live.upsert, &[&c.trace_ids, &c.trace_starts])
                    .await
                    .map_err(|e| shared.error(&e))?;
                tx.commit().await.map_err(|e| shared.error(&e))
            })
            .await?;
        Ok(())
    }
}
