//! Every SQL statement of the PostgreSQL backend, next to its migrations.
//!
//! Column types:
//!
//! | column | type | why |
//! |---|---|---|
//! | seq | bigint identity, primary key | assigned at insert; writers take a transaction-level advisory lock, so seqs become visible in order and a tailing cursor never skips a row committed late |
//! | schema_version | integer | compared, never parsed |
//! | event_id | uuid UNIQUE | 16 bytes instead of 36, still written and compared as text literals; UNIQUE makes replays harmless (`ON CONFLICT DO NOTHING`) |
//! | event_type | text | the registry name, as on the wire |
//! | timestamp | timestamptz | native time arithmetic and range queries (`now() - interval '1 hour'`), exact to the microsecond like the wire format |
//! | correlation_id | uuid | as event_id; the index is half the size |
//! | span_id, parent_span_id | text | the 16 hex digits of the wire |
//! | processor, outcome | text | short names as on the wire |
//! | duration_us | bigint | microseconds |
//! | payload | json | the text exactly as written (byte-exact round trip, and `\u0000` is accepted, which `jsonb` refuses); cast to `jsonb` to query into it |
//! | service_name | text, nullable | added by layout 2; `NULL` in rows written before it (read as unknown) |
//!
//! The `traces` table keeps each request's first timestamp, so that a page
//! of summaries is an index range scan.

/// The newest layout this crate knows.
pub(super) const LATEST: i64 = 2;

/// The ordered migrations: (version, SQL).
pub(super) const MIGRATIONS: &[(i64, &str)] = &[(1, V1), (2, V2)];

const V1: &str = r#"
CREATE TABLE events (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    schema_version integer NOT NULL,
    event_id uuid NOT NULL UNIQUE,
    event_type text NOT NULL,
    "timestamp" timestamptz NOT NULL,
    correlation_id uuid NOT NULL,
    span_id text NOT NULL,
    parent_span_id text,
    processor text,
    duration_us bigint,
    outcome text,
    payload json NOT NULL
);
-- every event of one request in time order
CREATE INDEX events_by_correlation ON events (correlation_id, "timestamp");
-- errors in a time range
CREATE INDEX events_errors_by_time ON events ("timestamp") WHERE outcome IN ('error', 'panic');
-- the latest N events and events after a seq: the seq primary key
CREATE TABLE traces (
    correlation_id uuid PRIMARY KEY,
    start timestamptz NOT NULL
);
CREATE INDEX traces_by_start ON traces (start, correlation_id);
"#;

/// Layout 2: the emitting service on every event. A nullable column with
/// no default is a catalog change only (no table rewrite), so it is
/// instant on a store of any size; old rows read as `NULL`.
const V2: &str = "ALTER TABLE events ADD COLUMN service_name text;";

/// The advisory lock held while migrating (any value; the same in every
/// process).
pub(super) const MIGRATION_LOCK: i64 = 0x6f62_7365_7276_6531;

/// The advisory lock held by each write transaction, so that seqs commit in
/// order.
pub(super) const WRITE_LOCK: i64 = 0x6f62_7365_7276_6532;

pub(super) const LOCK: &str = "SELECT pg_advisory_xact_lock($1)";

pub(super) const CREATE_MIGRATIONS: &str = "CREATE TABLE IF NOT EXISTS observe_migrations (
    version bigint PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)";

pub(super) const CURRENT_VERSION: &str =
    "SELECT coalesce(max(version), 0)::int8 FROM observe_migrations";

pub(super) const RECORD_MIGRATION: &str = "INSERT INTO observe_migrations (version) VALUES ($1)";

/// Microseconds since the Unix epoch as a timestamptz, exactly (the
/// product is computed in float8, exact below 2^53 us, year 287396).
macro_rules! at_us {
    ($param:expr) => {
        concat!(
            "(timestamptz 'epoch' + (",
            $param,
            ")::int8 * interval '1 microsecond')"
        )
    };
}

/// [`at_us!`] for a parameter numbered at run time.
fn at(param: &str) -> String {
    format!("(timestamptz 'epoch' + ({param})::int8 * interval '1 microsecond')")
}

/// A timestamptz as microseconds since the Unix epoch, exactly.
const US: &str = r#"(extract(epoch from "timestamp") * 1000000)::int8"#;

/// One batch, from one array per column; `ON CONFLICT` drops replays.
pub(super) const INSERT_EVENTS: &str = concat!(
    r#"INSERT INTO events (schema_version, event_id, event_type, "timestamp", correlation_id,
        span_id, parent_span_id, processor, duration_us, outcome, payload, service_name)
    SELECT 1, u.event_id, u.event_type, "#,
    at_us!("u.ts"),
    r#", u.correlation_id, u.span_id, u.parent_span_id,
        u.processor, u.duration_us, u.outcome, u.payload::json, u.service_name
    FROM unnest($1::uuid[], $2::text[], $3::int8[], $4::uuid[], $5::text[], $6::text[],
        $7::text[], $8::int8[], $9::text[], $10::text[], $11::text[]) WITH ORDINALITY
        AS u(event_id, event_type, ts, correlation_id, span_id, parent_span_id, processor,
        duration_us, outcome, payload, service_name, ord)
    ORDER BY u.ord
    ON CONFLICT (event_id) DO NOTHING"#
);

pub(super) const UPSERT_TRACES: &str = concat!(
    "INSERT INTO traces (correlation_id, start) SELECT u.c, ",
    at_us!("u.s"),
    " FROM unnest($1::uuid[], $2::int8[]) AS u(c, s)
    ON CONFLICT (correlation_id) DO UPDATE SET start = LEAST(traces.start, excluded.start)"
);

fn event_columns() -> String {
    format!(
        "seq, schema_version::int8, event_id, event_type, {US}, correlation_id, span_id,
        parent_span_id, processor, duration_us, outcome, payload::text, service_name"
    )
}

pub(super) fn chain() -> String {
    format!(
        r#"SELECT {} FROM events WHERE correlation_id = $1 ORDER BY "timestamp", seq"#,
        event_columns()
    )
}

pub(super) fn after() -> String {
    format!(
        "SELECT {} FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
        event_columns()
    )
}

/// One parameter of a dynamically built query.
pub(super) enum Param {
    Int(i64),
    Text(String),
    Uuid(uuid::Uuid),
    Uuids(Vec<uuid::Uuid>),
}

/// The page of request ids for a trace filter: only the conditions given.
pub(super) fn trace_page(filter: &crate::TraceFilter) -> (String, Vec<Param>) {
    let mut sql = String::from("SELECT t.correlation_id FROM traces t WHERE true");
    let mut params = Vec::new();
    let next = |params: &mut Vec<Param>, param: Param| {
        params.push(param);
        format!("${}", params.len())
    };
    if let Some(from) = filter.from {
        let p = next(&mut params, Param::Int(from.unix_micros()));
        sql += &format!(" AND t.start >= {}", at(&p));
    }
    if let Some(to) = filter.to {
        let p = next(&mut params, Param::Int(to.unix_micros()));
        sql += &format!(" AND t.start < {}", at(&p));
    }
    if let Some(cursor) = filter.after {
        let a = next(&mut params, Param::Int(cursor.start_us));
        let b = next(&mut params, Param::Uuid(cursor.correlation_id));
        sql += &format!(" AND (t.start, t.correlation_id) < ({}, {b}::uuid)", at(&a));
    }
    let exists = "EXISTS (SELECT 1 FROM events e WHERE e.correlation_id = t.correlation_id AND";
    if let Some(processor) = &filter.processor {
        let p = next(&mut params, Param::Text(processor.clone()));
        sql += &format!(" AND {exists} e.processor = {p})");
    }
    if let Some(outcome) = filter.outcome {
        let p = next(&mut params, Param::Text(outcome.as_str().to_owned()));
        sql += &format!(" AND {exists} e.outcome = {p})");
    }
    if filter.errors_only {
        sql += &format!(" AND {exists} e.outcome IN ('error', 'panic'))");
    }
    let p = next(&mut params, Param::Int(filter.limit as i64 + 1));
    sql += &format!(" ORDER BY t.start DESC, t.correlation_id DESC LIMIT {p}");
    (sql, params)
}

/// The columns a summary needs, for a list of requests: one index lookup
/// per request. `OFFSET 0` keeps the planner from flattening the lookup
/// into a hash join over the whole table, which it picks while the table
/// has no statistics yet (after a bulk load: 150 ms instead of 8 ms for a
/// page of 100 on a million events).
pub(super) fn summary_rows() -> String {
    format!(
        "SELECT e.correlation_id, e.us, e.span_id, e.processor, e.event_type, e.outcome
         FROM unnest($1::uuid[]) AS ids(c) CROSS JOIN LATERAL (
             SELECT correlation_id, {US} AS us, \"timestamp\", seq, span_id, processor, event_type, outcome
             FROM events WHERE correlation_id = ids.c OFFSET 0
         ) e ORDER BY e.correlation_id, e.\"timestamp\", e.seq"
    )
}

pub(super) fn before() -> String {
    format!(
        "SELECT {} FROM events WHERE seq < $1 ORDER BY seq DESC LIMIT $2",
        event_columns()
    )
}

pub(super) const EVENT_COUNTS: &str = concat!(
    "SELECT event_type, outcome, count(*) FROM events WHERE \"timestamp\" >= ",
    at_us!("$1"),
    " AND \"timestamp\" < ",
    at_us!("$2"),
    " GROUP BY event_type, outcome ORDER BY event_type, outcome"
);

pub(super) const TERMINAL_EVENTS: &str = concat!(
    "SELECT processor, outcome, duration_us FROM events
    WHERE outcome IS NOT NULL AND processor IS NOT NULL AND \"timestamp\" >= ",
    at_us!("$1"),
    " AND \"timestamp\" < ",
    at_us!("$2")
);

pub(super) const DELETE_OLD_EVENTS: &str = concat!(
    "DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE \"timestamp\" < ",
    at_us!("$1"),
    " ORDER BY seq LIMIT $2)"
);

pub(super) const DELETE_OLD_TRACES: &str = concat!(
    "DELETE FROM traces WHERE correlation_id IN (SELECT t.correlation_id FROM traces t WHERE t.start < ",
    at_us!("$1"),
    " AND NOT EXISTS (SELECT 1 FROM events e WHERE e.correlation_id = t.correlation_id) LIMIT $2)"
);
