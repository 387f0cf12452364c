//! Pieces the benchmarks share: a fastrace reporter that discards, chunked
//! timing with untimed work between chunks, reading criterion's means to
//! print ratios against peers measured in the same run, and payload shapes.

#![allow(dead_code)]

pub mod requests;
pub mod shapes;

use std::hint::black_box;
use std::time::{Duration, Instant};

use fastrace::collector::{Reporter, SpanRecord};

/// Calls timed per chunk; between chunks the pipeline is flushed (untimed),
/// so every measured emit is an accepted one, never a cheaper dropped one.
pub const CHUNK: u64 = 1_000;

/// Receives fastrace's spans and throws them away, so spans are collected
/// for real but nothing is printed.
pub struct DiscardReporter;

impl Reporter for DiscardReporter {
    fn report(&mut self, spans: Vec<SpanRecord>) {
        black_box(spans);
    }
}

/// Runs `iters` calls of `op` in chunks, timing only the calls; `between`
/// runs untimed after each chunk.
pub fn chunked(iters: u64, mut op: impl FnMut(), mut between: impl FnMut()) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(CHUNK);
        let start = Instant::now();
        for _ in 0..n {
            op();
        }
        total += start.elapsed();
        between();
        left -= n;
    }
    total
}

/// Criterion's mean estimate (ns) for one benchmark of this run.
pub fn mean_ns(group: &str, name: &str) -> Option<f64> {
    mean_ns_since(group, name, std::time::SystemTime::UNIX_EPOCH)
}

/// Criterion's mean estimate (ns) for one benchmark, if written after
/// `since` (so a filtered run does not report an older run's figures).
pub fn mean_ns_since(group: &str, name: &str, since: std::time::SystemTime) -> Option<f64> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| "target".into(), std::path::PathBuf::from);
    let path = target
        .join("criterion")
        .join(group)
        .join(name)
        .join("new/estimates.json");
    let written = std::fs::metadata(&path).and_then(|m| m.modified()).ok()?;
    if written < since {
        return None;
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    json["mean"]["point_estimate"].as_f64()
}

/// Prints `subject / peer` for each peer found in `group`.
pub fn print_ratios(group: &str, subject: &str, peers: &[&str]) {
    let Some(ours) = mean_ns(group, subject) else {
        return;
    };
    println!("\nratios ({subject} / peer; below 1.0 means observe is cheaper):");
    for peer in peers {
        if let Some(ns) = mean_ns(group, peer) {
            println!(
                "  {subject} {ours:.1} ns / {peer} {ns:.1} ns = {:.3}",
                ours / ns
            );
        }
    }
}

/// Waits until the pipeline has written everything emitted so far.
pub fn flush_all() {
    assert_eq!(
        observe::flush(Duration::from_secs(10)),
        observe::FlushOutcome::Flushed
    );
}

/// Checks that no measured emit was a (cheaper) dropped one.
pub fn assert_nothing_dropped() {
    let stats = observe::stats();
    assert_eq!(
        stats.dropped, 0,
        "the benchmark must measure accepted emits only: {stats:?}"
    );
}

/// Times `iters` calls of `op` inside fastrace root spans set as the local
/// parent (a new root per chunk, finished untimed), so every span `op`
/// makes is a real, reported one.
pub fn in_fastrace_root(iters: u64, op: impl FnMut()) -> Duration {
    use fastrace::collector::SpanContext;
    use fastrace::prelude::Span;
    let mut root = Some(Span::root("request", SpanContext::random()));
    let mut parent = root.as_ref().map(Span::set_local_parent);
    let time = chunked(iters, op, || {
        parent = None;
        root = Some(Span::root("request", SpanContext::random()));
        parent = root.as_ref().map(Span::set_local_parent);
    });
    drop(parent);
    drop(root);
    time
}

/// Installs the pipeline the hot-path benches time: a null sink, a queue
/// large enough for one chunk of calls between flushes, fallback discarded.
pub fn null_pipeline() -> observe::Guard {
    observe::init(
        observe::Config::default()
            .sink(observe::sink::NullSink)
            .queue_capacity(4 * CHUNK as usize)
            .fallback(std::io::sink()),
    )
    .expect("install the pipeline")
}

/// `tracing_subscriber`'s JSON formatter on a non-blocking writer that
/// discards, writing each span's open and close: the `tracing` peer of the
/// benches. Keep the guard alive while timing.
pub fn tracing_json() -> (
    impl tracing::Subscriber + Send + Sync,
    tracing_appender::non_blocking::WorkerGuard,
) {
    let (writer, guard) = tracing_appender::non_blocking(std::io::sink());
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_span_events(
            tracing_subscriber::fmt::format::FmtSpan::NEW
                | tracing_subscriber::fmt::format::FmtSpan::CLOSE,
        )
        .with_writer(writer)
        .finish();
    (subscriber, guard)
}

/// Times `iters` runs of `events` typical records (one in a hundred with a
/// secret) submitted to the installed pipeline and flushed: the worker's
/// rate (sanitize, serialize, write). Records are built untimed, so the
/// producer's cost of building payloads is not in the figure.
pub fn drain_records(iters: u64, events: u64) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let ctx = observe::CorrelationContext::new_root();
        let records: Vec<observe::record::Record> = (0..events)
            .map(|n| {
                observe::record::Record::new(observe::EventType::RetrievalComplete, ctx)
                    .processor("retrieval")
                    .json(serde_json::json!({
                        "query": "how do I reset my password",
                        "documents": n % 7,
                        "user": "someone@example.com",
                        "token": if n % 100 == 0 { "sk-abcdef0123456789" } else { "none" },
                    }))
            })
            .collect();
        let start = std::time::Instant::now();
        for record in records {
            observe::record::submit(record);
        }
        assert_eq!(
            observe::flush(Duration::from_secs(120)),
            observe::FlushOutcome::Flushed
        );
        total += start.elapsed();
    }
    total
}

/// A fresh database on the server in `OBSERVE_TEST_POSTGRES_URL` (set by
/// `scripts/test-postgres.sh`), by `psql`; `None` without the variable.
pub fn postgres_database(name: &str) -> Option<String> {
    let admin = std::env::var("OBSERVE_TEST_POSTGRES_URL").ok()?;
    let psql = |sql: String| {
        let status = std::process::Command::new("psql")
            .args([admin.as_str(), "-qc", &sql])
            .status()
            .expect("psql runs");
        assert!(status.success(), "{sql}");
    };
    psql(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    psql(format!("CREATE DATABASE {name}"));
    let (base, _) = admin.rsplit_once('/')?;
    Some(format!("{base}/{name}"))
}
