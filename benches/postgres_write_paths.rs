//! How `PostgresSink` writes a batch, measured against the alternative the
//! storage issue names: binary `COPY`. `COPY` cannot skip an `event_id`
//! already stored (writes must be idempotent), so its fair form copies
//! into a session's temporary staging table and moves the rows over with
//! `INSERT ... SELECT ... ON CONFLICT DO NOTHING`, in the same transaction
//! and under the same advisory lock as the sink. Both write the same
//! 20,000 events in batches of 512 (the pipeline's default) into fresh
//! databases; the ratio is printed.
//!
//! Run: `scripts/test-postgres.sh run cargo bench --bench postgres_write_paths
//! --all-features -- --measurement-time 5 --warm-up-time 1`. Without
//! `OBSERVE_TEST_POSTGRES_URL` it measures nothing and says so.

use std::pin::pin;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use observe::sink::Sink;
use observe::store::PostgresSink;
use observe::{CorrelationContext, Event, EventType, Outcome};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

mod common;

const EVENTS: usize = 20_000;
const BATCH: usize = 512;

/// Fresh events shaped like the pipeline's (a request of spans with small
/// payloads), new ids on every call.
fn events() -> Vec<Event> {
    let root = CorrelationContext::new_root();
    (0..EVENTS)
        .map(|n| {
            let span = root.child();
            Event::new(EventType::RetrievalComplete, &span)
                .with_processor("retrieval")
                .with_outcome(Outcome::Ok, 40)
                .with_service_name("bench")
                .with_payload(serde_json::json!({ "documents": n % 7, "query": "[REDACTED]" }))
        })
        .collect()
}

const STAGING: &str = "CREATE TEMP TABLE IF NOT EXISTS staging (
    event_id uuid, event_type text, ts int8, correlation_id uuid, span_id text,
    parent_span_id text, processor text, duration_us int8, outcome text, payload text,
    service_name text) ON COMMIT DELETE ROWS";

const MOVE: &str = r#"INSERT INTO events (schema_version, event_id, event_type, "timestamp",
    correlation_id, span_id, parent_span_id, processor, duration_us, outcome, payload, service_name)
    SELECT 1, event_id, event_type, timestamptz 'epoch' + ts * interval '1 microsecond',
    correlation_id, span_id, parent_span_id, processor, duration_us, outcome, payload::json,
    service_name FROM staging ON CONFLICT (event_id) DO NOTHING"#;

const TRACES: &str = "INSERT INTO traces (correlation_id, start)
    SELECT correlation_id, timestamptz 'epoch' + min(ts) * interval '1 microsecond'
    FROM staging GROUP BY correlation_id
    ON CONFLICT (correlation_id) DO UPDATE SET start = LEAST(traces.start, excluded.start)";

/// One batch by binary `COPY` into the staging table, then moved.
async fn copy_batch(client: &mut tokio_postgres::Client, batch: &[Event]) {
    let tx = client.transaction().await.expect("begins");
    tx.execute(
        "SELECT pg_advisory_xact_lock($1)",
        &[&0x6f62_7365_7276_6532_i64],
    )
    .await
    .expect("locks");
    let sink = tx
        .copy_in("COPY staging FROM STDIN BINARY")
        .await
        .expect("copies");
    let types = [
        Type::UUID,
        Type::TEXT,
        Type::INT8,
        Type::UUID,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::INT8,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
    ];
    let mut writer = pin!(BinaryCopyInWriter::new(sink, &types));
    for event in batch {
        let span = event.span_id.to_string();
        let parent = event.parent_span_id.map(|p| p.to_string());
        let payload = serde_json::to_string(&event.payload).expect("serializes");
        let duration = event.duration_us.map(|d| d as i64);
        let row: [&(dyn ToSql + Sync); 11] = [
            &event.event_id,
            &event.event_type.as_str(),
            &event.timestamp.unix_micros(),
            &event.correlation_id,
            &span,
            &parent,
            &event.processor.as_deref(),
            &duration,
            &event.outcome.map(|o| o.as_str()),
            &payload,
            &event.service_name.as_deref(),
        ];
        writer.as_mut().write(&row).await.expect("a row");
    }
    writer.finish().await.expect("copied");
    tx.execute(MOVE, &[]).await.expect("moves");
    tx.execute(TRACES, &[]).await.expect("traces");
    tx.commit().await.expect("commits");
}

/// `iters` rounds of fresh events written in batches by `write`; only the
/// writes are timed.
fn timed_batches(iters: u64, mut write: impl FnMut(&[Event])) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let events = events();
        let start = Instant::now();
        for batch in events.chunks(BATCH) {
            write(batch);
        }
        total += start.elapsed();
    }
    total
}

fn main() {
    let Some(unnest_url) = common::postgres_database("observe_bench_unnest") else {
        println!("OBSERVE_TEST_POSTGRES_URL is not set: nothing measured");
        return;
    };
    let copy_url = common::postgres_database("observe_bench_copy").expect("a database");
    let since = std::time::SystemTime::now();
    let mut c = Criterion::default().configure_from_args();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    let unnest = PostgresSink::connect(&unnest_url).expect("connects");
    // The same layout for the COPY path: the sink's migrations.
    drop(PostgresSink::connect(&copy_url).expect("connects"));
    let mut client = runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(&copy_url, tokio_postgres::NoTls)
            .await
            .expect("connects");
        tokio::spawn(connection);
        client.batch_execute(STAGING).await.expect("staging");
        client
    });

    let mut group = c.benchmark_group("postgres_write");
    group.throughput(Throughput::Elements(EVENTS as u64));
    group.sample_size(10);
    group.bench_function("unnest_insert", |b| {
        b.iter_custom(|iters| {
            timed_batches(iters, |batch| {
                runtime.block_on(unnest.write_batch(batch)).expect("writes")
            })
        })
    });
    group.bench_function("copy_via_staging", |b| {
        b.iter_custom(|iters| {
            timed_batches(iters, |batch| {
                runtime.block_on(copy_batch(&mut client, batch))
            })
        })
    });
    group.finish();
    c.final_summary();
    let rate = |name: &str| {
        common::mean_ns_since("postgres_write", name, since).map(|ns| EVENTS as f64 / (ns / 1e9))
    };
    if let (Some(unnest), Some(copy)) = (rate("unnest_insert"), rate("copy_via_staging")) {
        println!("\nPostgreSQL write paths (events/s, batches of {BATCH}):");
        println!("  unnest INSERT (the sink)  {unnest:>9.0}");
        println!(
            "  COPY via staging table    {copy:>9.0}  = {:.2}x the sink",
            copy / unnest
        );
    }
}
