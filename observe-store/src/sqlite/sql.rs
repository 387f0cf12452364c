//! Every SQL statement of the SQLite backend, next to its migrations.
//!
//! Column types (SQLite, `STRICT` tables):
//!
//! | column | type | why |
//! |---|---|---|
//! | seq | INTEGER PRIMARY KEY AUTOINCREMENT | the rowid itself (no extra index); AUTOINCREMENT so a seq is never reused, even after retention empties the table, which tailing cursors rely on |
//! | schema_version | INTEGER | compared, never parsed |
//! | event_id | TEXT UNIQUE | the canonical UUID text of the JSON, pasteable into `sqlite3`; UNIQUE makes replays harmless |
//! | event_type | TEXT | the registry name, as on the wire |
//! | timestamp | INTEGER | microseconds since the Unix epoch: 8 bytes, exact, and range scans compare integers |
//! | correlation_id | TEXT | as event_id: paste an id from a log line |
//! | span_id, parent_span_id | TEXT | the 16 hex digits of the wire |
//! | processor, outcome | TEXT | short names as on the wire |
//! | duration_us | INTEGER | microseconds |
//! | payload | TEXT | the JSON text as written (byte-exact); `json_extract` reads it |
//! | service_name | TEXT, nullable | added by layout 2; `NULL` in rows written before it (read as unknown) |
//!
//! The `traces` table keeps each request's first timestamp, so that a page
//! of summaries is an index range scan rather than a grouping of the whole
//! `events` table.

/// The newest layout this crate knows.
pub(super) const LATEST: i64 = 2;

/// The ordered migrations: (version, SQL). Applied in one transaction,
/// recorded in `observe_migrations`.
pub(super) const MIGRATIONS: &[(i64, &str)] = &[(1, V1), (2, V2)];

const V1: &str = "
CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    schema_version INTEGER NOT NULL,
    event_id TEXT NOT NULL UNIQUE,
    event_type TEXT NOT NULL,
    timestamp INTEGER NOT NULL,
    correlation_id TEXT NOT NULL,
    span_id TEXT NOT NULL,
    parent_span_id TEXT,
    processor TEXT,
    duration_us INTEGER,
    outcome TEXT,
    payload TEXT NOT NULL
) STRICT;
-- every event of one request in time order
CREATE INDEX events_by_correlation ON events (correlation_id, timestamp);
-- errors in a time range
CREATE INDEX events_errors_by_time ON events (timestamp) WHERE outcome IN ('error', 'panic');
-- the latest N events and events after a seq: the seq primary key
CREATE TABLE traces (
    correlation_id TEXT PRIMARY KEY,
    start INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX traces_by_start ON traces (start, correlation_id);
";

/// Layout 2: the emitting service on every event. Adding a nullable
/// column rewrites nothing (SQLite stores the default in the schema), so
/// it is instant on a store of any size; old rows read as `NULL`.
const V2: &str = "ALTER TABLE events ADD COLUMN service_name TEXT;";

/// Connection settings for one background writer and concurrent readers:
/// WAL (readers never block the writer), commits durable against a process
/// crash (synchronous=NORMAL syncs at checkpoints only), a busy wait instead
/// of an immediate SQLITE_BUSY, a checkpoint every 32 MiB of WAL rather than
/// SQLite's 4 MiB (each one syncs; at 4 MiB the syncs halved the write rate),
/// a WAL file trimmed back to 64 MiB after checkpoints, and a 16 MiB page
/// cache.
pub(super) const SETTINGS: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA busy_timeout = 5000;
PRAGMA journal_size_limit = 67108864;
PRAGMA temp_store = MEMORY;
PRAGMA cache_size = -16384;
PRAGMA wal_autocheckpoint = 8192;
";

pub(super) const CREATE_MIGRATIONS: &str = "CREATE TABLE IF NOT EXISTS observe_migrations (
    version INTEGER PRIMARY KEY,
    applied_at INTEGER NOT NULL
) STRICT";

pub(super) const CURRENT_VERSION: &str = "SELECT coalesce(max(version), 0) FROM observe_migrations";

pub(super) const RECORD_MIGRATION: &str = "INSERT INTO observe_migrations (version, applied_at)
    VALUES (?1, CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER))";

/// How many rows one `INSERT` statement carries: one statement per row
/// pays SQLite's per-statement costs (the AUTOINCREMENT bookkeeping among
/// them) a hundred times more often.
pub(super) const ROWS_PER_INSERT: usize = 256;

/// The `INSERT` of a full chunk of [`ROWS_PER_INSERT`] rows, built once:
/// building its text for every chunk cost more than binding its values.
pub(super) fn insert_full_chunk() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| insert_events(ROWS_PER_INSERT))
}

/// The parameters of one inserted row.
pub(super) const PARAMS_PER_ROW: usize = 11;

/// An `INSERT` of `rows` events ([`PARAMS_PER_ROW`] parameters each); a
/// repeated `event_id` is skipped.
pub(super) fn insert_events(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO events (schema_version, event_id, event_type, timestamp, correlation_id,
        span_id, parent_span_id, processor, duration_us, outcome, payload, service_name) VALUES ",
    );
    for row in 0..rows {
        sql.push_str(if row == 0 { "(1" } else { ", (1" });
        for p in 1..=PARAMS_PER_ROW {
            sql += &format!(", ?{}", row * PARAMS_PER_ROW + p);
        }
        sql.push(')');
    }
    sql.push_str(" ON CONFLICT (event_id) DO NOTHING");
    sql
}

pub(super) const UPSERT_TRACE: &str = "INSERT INTO traces (correlation_id, start) VALUES (?1, ?2)
    ON CONFLICT (correlation_id) DO UPDATE SET start = min(start, excluded.start)";

const EVENT_COLUMNS: &str = "seq, schema_version, event_id, event_type, timestamp, correlation_id,
    span_id, parent_span_id, processor, duration_us, outcome, payload, service_name";

pub(super) fn chain() -> String {
    format!("SELECT {EVENT_COLUMNS} FROM events WHERE correlation_id = ?1 ORDER BY timestamp, seq")
}

pub(super) fn after() -> String {
    format!("SELECT {EVENT_COLUMNS} FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2")
}

pub(super) fn before() -> String {
    format!("SELECT {EVENT_COLUMNS} FROM events WHERE seq < ?1 ORDER BY seq DESC LIMIT ?2")
}

pub(super) const EVENT_COUNTS: &str = "SELECT event_type, outcome, count(*) FROM events
    WHERE timestamp >= ?1 AND timestamp < ?2 GROUP BY event_type, outcome ORDER BY event_type, outcome";

/// One parameter of a dynamically built query.
pub(super) enum Param {
    Int(i64),
    Text(String),
}

/// The page of request ids and starts for a trace filter: only the
/// conditions given, so that SQLite can use `traces_by_start` as a range.
pub(super) fn trace_page(filter: &crate::TraceFilter) -> (String, Vec<Param>) {
    let mut sql = String::from("SELECT t.correlation_id, t.start FROM traces t WHERE 1 = 1");
    let mut params = Vec::new();
    if let Some(from) = filter.from {
        params.push(Param::Int(from.unix_micros()));
        sql += &format!(" AND t.start >= ?{}", params.len());
    }
    if let Some(to) = filter.to {
        params.push(Param::Int(to.unix_micros()));
        sql += &format!(" AND t.start < ?{}", params.len());
    }
    if let Some(cursor) = filter.after {
        params.push(Param::Int(cursor.start_us));
        params.push(Param::Text(cursor.correlation_id.to_string()));
        let (a, b) = (params.len() - 1, params.len());
        sql += &format!(" AND (t.start, t.correlation_id) < (?{a}, ?{b})");
    }
    let exists = "EXISTS (SELECT 1 FROM events e WHERE e.correlation_id = t.correlation_id AND";
    if let Some(processor) = &filter.processor {
        params.push(Param::Text(processor.clone()));
        sql += &format!(" AND {exists} e.processor = ?{})", params.len());
    }
    if let Some(outcome) = filter.outcome {
        params.push(Param::Text(outcome.as_str().to_owned()));
        sql += &format!(" AND {exists} e.outcome = ?{})", params.len());
    }
    if filter.errors_only {
        sql += &format!(" AND {exists} e.outcome IN ('error', 'panic'))");
    }
    params.push(Param::Int(filter.limit as i64 + 1));
    sql += &format!(
        " ORDER BY t.start DESC, t.correlation_id DESC LIMIT ?{}",
        params.len()
    );
    (sql, params)
}

/// The columns a summary needs, for `count` requests.
pub(super) fn summary_rows(count: usize) -> String {
    let marks = vec!["?"; count].join(", ");
    format!(
        "SELECT correlation_id, timestamp, span_id, processor, event_type, outcome FROM events
         WHERE correlation_id IN ({marks}) ORDER BY correlation_id, timestamp, seq"
    )
}

pub(super) const TERMINAL_EVENTS: &str = "SELECT processor, outcome, duration_us FROM events
    WHERE outcome IS NOT NULL AND processor IS NOT NULL AND timestamp >= ?1 AND timestamp < ?2";

pub(super) const DELETE_OLD_EVENTS: &str = "DELETE FROM events WHERE seq IN
    (SELECT seq FROM events WHERE timestamp < ?1 ORDER BY seq LIMIT ?2)";

pub(super) const DELETE_OLD_TRACES: &str = "DELETE FROM traces WHERE correlation_id IN
    (SELECT t.correlation_id FROM traces t WHERE t.start < ?1
     AND NOT EXISTS (SELECT 1 FROM events e WHERE e.correlation_id = t.correlation_id) LIMIT ?2)";
