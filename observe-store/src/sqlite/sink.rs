//! [`SqliteSink`]: each batch in one transaction, events inserted once per
//! `event_id`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use observe_core::Event;
use observe_core::delivery::sink::files::Access;
use observe_core::delivery::sink::{Sink, SinkError};
use rusqlite::types::ToSql;
use rusqlite::{Connection, params, params_from_iter};

use super::{Location, sql};
use crate::StoreError;
use crate::row::{Ascii, NewRow, trace_starts};

/// Writes events to an SQLite database file (SQLite is compiled in).
///
/// [`open`](SqliteSink::open) creates the file and its missing directories
/// owner-only (0600 / 0700; SQLite's `-wal` and `-shm` files get the same
/// mode), switches it to WAL and applies the migrations, so a bad path or
/// a newer layout is found at start-up. Each batch is one transaction;
/// writing the same `event_id` again leaves one row. The write runs on
/// tokio's blocking pool when called on a runtime (the pipeline's worker),
/// so the pipeline's write timeout can fire; a write that finishes after
/// its timeout was also sent to the fallback, and replaying it is harmless.
///
/// ```
/// use observe::store::SqliteSink;
///
/// let dir = std::env::temp_dir().join(format!("observe-doc-sqlite-{}", std::process::id()));
/// let sink = SqliteSink::open(dir.join("events.db"))?;
/// let guard = observe::init(observe::Config::default().sink(sink))
///     .expect("installs");
/// drop(guard);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), observe::store::StoreError>(())
/// ```
#[derive(Clone, Debug)]
pub struct SqliteSink {
    path: PathBuf,
    conn: Arc<Mutex<Connection>>,
}

impl SqliteSink {
    /// Opens (creating it owner-only if missing) the database at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteSink, StoreError> {
        SqliteSink::open_with(path, Access::OwnerOnly)
    }

    /// Opens the database at `path`, creating it and its directories with
    /// `access` if missing.
    pub fn open_with(path: impl AsRef<Path>, access: Access) -> Result<SqliteSink, StoreError> {
        let path = path.as_ref().to_path_buf();
        let conn = super::open(&path, Some(access))?;
        Ok(SqliteSink {
            path,
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes one batch in one transaction, on the calling thread.
    fn write_rows(&self, rows: &[NewRow]) -> Result<(), StoreError> {
        let at = Location(self.path.clone());
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn.transaction().map_err(|e| at.error(e))?;
        {
            for chunk in rows.chunks(sql::ROWS_PER_INSERT) {
                let mut values: Vec<&dyn ToSql> =
                    Vec::with_capacity(chunk.len() * sql::PARAMS_PER_ROW);
                for row in chunk {
                    values.extend([
                        &row.event_id_text as &dyn ToSql,
                        &row.event_type,
                        &row.timestamp_us,
                        &row.correlation_id_text,
                        &row.span_id,
                        &row.parent_span_id,
                        &row.processor,
                        &row.duration_us,
                        &row.outcome,
                        &row.payload,
                        &row.service_name,
                    ]);
                }
                let partial;
                let text = if chunk.len() == sql::ROWS_PER_INSERT {
                    sql::insert_full_chunk()
                } else {
                    partial = sql::insert_events(chunk.len());
                    &partial
                };
                tx.prepare_cached(text)
                    .and_then(|mut insert| insert.execute(params_from_iter(values)))
                    .map_err(|e| at.error(e))?;
            }
            let mut upsert = tx
                .prepare_cached(sql::UPSERT_TRACE)
                .map_err(|e| at.error(e))?;
            for (correlation_id, start) in trace_starts(rows) {
                upsert
                    .execute(params![correlation_id.to_string(), start])
                    .map_err(|e| at.error(e))?;
            }
        }
        tx.commit().map_err(|e| at.error(e))
    }
}

impl Sink for SqliteSink {
    async fn write_batch(&self, batch: &[Event]) -> Result<(), SinkError> {
        let rows = NewRow::batch(batch)?;
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                let sink = self.clone();
                runtime
                    .spawn_blocking(move || sink.write_rows(&rows))
                    .await
                    .map_err(|e| SinkError::new(format!("SQLite write task failed: {e}")))??;
            }
            Err(_) => self.write_rows(&rows)?,
        }
        Ok(())
    }
}

impl<const N: usize> ToSql for Ascii<N> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(rusqlite::types::ToSqlOutput::Borrowed(
            rusqlite::types::ValueRef::Text(self.as_str().as_bytes()),
        ))
    }
}
