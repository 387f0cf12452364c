//! Stores, side by side in one run: the worker's throughput with the
//! sanitizer on into JSONL (the peer), SQLite and PostgreSQL, with the
//! ratios to JSONL; then query latency in a store of 1,000,000 events (one
//! chain of 50 events, a page of 100 trace summaries) on SQLite and
//! PostgreSQL.
//!
//! Run: `scripts/test-postgres.sh run cargo bench --bench store --all-features --
//! --measurement-time 5 --warm-up-time 1`. Without `OBSERVE_TEST_POSTGRES_URL`
//! (or without the `postgres` feature) the PostgreSQL rows are left out.

use std::time::Instant;

use criterion::{BenchmarkId, Criterion, Throughput};
use observe::Config;
use observe::sink::{JsonlSink, Sink};
use observe::store::{EventStore, SqliteSink, SqliteStore, TraceFilter};

mod common;

const EVENTS: u64 = 20_000;
const STORE_EVENTS: usize = 1_000_000;

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("observe-bench-store-{}", std::process::id()));
    let _ = std::fs::remove_file(dir.join(name));
    dir.join(name)
}

fn throughput_into(c: &mut Criterion, name: &str, sink: impl Sink) {
    let guard = observe::init(
        Config::default()
            .sink(sink)
            .queue_capacity(EVENTS as usize * 2)
            .fallback(std::io::sink()),
    )
    .expect("install the pipeline");
    let mut group = c.benchmark_group("store_worker");
    group.throughput(Throughput::Elements(EVENTS));
    group.bench_with_input(BenchmarkId::new(name, EVENTS), &EVENTS, |b, &events| {
        b.iter_custom(|iters| common::drain_records(iters, events))
    });
    group.finish();
    common::assert_nothing_dropped();
    let stats = observe::stats();
    assert_eq!(
        (stats.failed_writes, stats.fallen_back),
        (0, 0),
        "{name}: {stats:?}"
    );
    drop(guard);
}

fn throughput(c: &mut Criterion) {
    throughput_into(
        c,
        "jsonl",
        JsonlSink::open(scratch("events.jsonl")).expect("opens"),
    );
    throughput_into(
        c,
        "sqlite",
        SqliteSink::open(scratch("events.db")).expect("opens"),
    );
    #[cfg(feature = "postgres")]
    if let Some(url) = common::postgres_database("observe_bench_worker") {
        throughput_into(
            c,
            "postgres",
            observe::store::PostgresSink::connect(&url).expect("connects"),
        );
    }
}

fn queries_on(c: &mut Criterion, name: &str, store: &impl EventStore, ids: &[uuid::Uuid]) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("store_query_1m");
    let mut next = ids.iter().cycle();
    group.bench_function(format!("{name}_chain_50"), |b| {
        b.iter(|| {
            let id = *next.next().expect("ids");
            let chain = runtime.block_on(store.chain(id)).expect("reads");
            assert_eq!(chain.events().len(), common::requests::CHAIN);
        })
    });
    group.bench_function(format!("{name}_traces_page_100"), |b| {
        b.iter(|| {
            let page = runtime
                .block_on(store.traces(&TraceFilter::new()))
                .expect("reads");
            assert_eq!(page.items.len(), 100);
        })
    });
    group.bench_function(format!("{name}_errors_page_100"), |b| {
        b.iter(|| {
            let page = runtime
                .block_on(store.traces(&TraceFilter::new().errors_only()))
                .expect("reads");
            assert_eq!(page.items.len(), 100);
        })
    });
    group.finish();
}

fn queries(c: &mut Criterion) {
    let path = scratch("million.db");
    let started = Instant::now();
    let ids = common::requests::fill(&SqliteSink::open(&path).expect("opens"), STORE_EVENTS);
    println!(
        "filled SQLite with {STORE_EVENTS} events in {:.1?}",
        started.elapsed()
    );
    queries_on(c, "sqlite", &SqliteStore::open(&path).expect("opens"), &ids);
    #[cfg(feature = "postgres")]
    if let Some(url) = common::postgres_database("observe_bench_million") {
        let started = Instant::now();
        let ids = common::requests::fill(
            &observe::store::PostgresSink::connect(&url).expect("connects"),
            STORE_EVENTS,
        );
        println!(
            "filled PostgreSQL with {STORE_EVENTS} events in {:.1?}",
            started.elapsed()
        );
        let store = observe::store::PostgresStore::connect(&url).expect("connects");
        queries_on(c, "postgres", &store, &ids);
    }
}

fn report(since: std::time::SystemTime) {
    let rate = |name: &str| {
        common::mean_ns_since("store_worker", &format!("{name}/{EVENTS}"), since)
            .map(|ns| EVENTS as f64 / (ns / 1e9))
    };
    println!("\nworker throughput, sanitized (events/s; ratio to the JSONL sink in this run):");
    if let Some(jsonl) = rate("jsonl") {
        println!("  jsonl    {jsonl:>10.0}");
        for name in ["sqlite", "postgres"] {
            if let Some(r) = rate(name) {
                println!("  {name:<8} {r:>10.0}  = {:.2}x JSONL", r / jsonl);
            }
        }
    }
    println!("\nqueries in a store of {STORE_EVENTS} events (mean):");
    for backend in ["sqlite", "postgres"] {
        for query in ["chain_50", "traces_page_100", "errors_page_100"] {
            if let Some(ns) =
                common::mean_ns_since("store_query_1m", &format!("{backend}_{query}"), since)
            {
                println!("  {backend:<8} {query:<16} {:>8.3} ms", ns / 1e6);
            }
        }
    }
}

fn main() {
    let since = std::time::SystemTime::now();
    let mut c = Criterion::default().configure_from_args();
    throughput(&mut c);
    queries(&mut c);
    c.final_summary();
    report(since);
    let _ = std::fs::remove_dir_all(scratch("x").parent().expect("a directory"));
}
