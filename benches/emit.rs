//! Hot-path cost of one `observe` emit next to a `fastrace` span and a
//! `tracing` event on a JSON subscriber with a non-blocking writer, in the
//! same run; and the worker's throughput into a JSONL file with the
//! sanitizer on.
//!
//! Run: `cargo bench --bench emit -- --measurement-time 3 --warm-up-time 1`
//! (criterion arguments). The closing lines print the ratios.
//!
//! Emitters are timed in chunks of `CHUNK` calls; between chunks (untimed)
//! the pipeline is flushed and the fastrace root span finished, so every
//! measured emit is an accepted one, not the cheaper dropped one, and every
//! fastrace span is a real, reported one.

use std::time::{Duration, Instant};

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput};
use fastrace::collector::{Config as FastraceConfig, SpanContext};
use fastrace::prelude::{LocalSpan, Span};
use observe::record::Record;
use observe::sink::{JsonlSink, NullSink};
use observe::{Config, CorrelationContext, EventType};

mod common;

use common::{CHUNK, DiscardReporter, chunked, mean_ns};

fn hot_path(c: &mut Criterion) {
    let mut group = c.benchmark_group("hot_path");
    let ctx = CorrelationContext::new_root();

    group.bench_function("observe_emit_no_pipeline", |b| {
        // What generated code does: check first, build the record only if
        // someone listens.
        b.iter(|| {
            if observe::record::enabled() {
                observe::record::submit(
                    Record::new(EventType::RetrievalStarted, ctx).processor("retrieval"),
                )
            }
        })
    });

    let guard = observe::init(
        Config::default()
            .sink(NullSink)
            .queue_capacity(16_384)
            .fallback(std::io::sink()),
    )
    .expect("install the pipeline");
    group.bench_function("observe_emit", |b| {
        b.iter_custom(|iters| {
            chunked(
                iters,
                || {
                    observe::record::submit(
                        Record::new(EventType::RetrievalStarted, ctx).processor("retrieval"),
                    )
                },
                common::flush_all,
            )
        })
    });
    common::assert_nothing_dropped();
    drop(guard);

    fastrace::set_reporter(DiscardReporter, FastraceConfig::default());
    group.bench_function("fastrace_span_in_root", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut left = iters;
            while left > 0 {
                let n = left.min(CHUNK);
                let root = Span::root("request", SpanContext::random());
                let start = Instant::now();
                for _ in 0..n {
                    drop(black_box(Span::enter_with_parent("retrieval", &root)));
                }
                total += start.elapsed();
                drop(root);
                left -= n;
            }
            total
        })
    });
    group.bench_function("fastrace_local_span_in_root", |b| {
        b.iter_custom(|iters| {
            common::in_fastrace_root(iters, || {
                drop(black_box(LocalSpan::enter_with_local_parent("retrieval")))
            })
        })
    });
    group.bench_function("fastrace_root_span", |b| {
        b.iter(|| drop(black_box(Span::root("retrieval", SpanContext::random()))))
    });
    fastrace::flush();

    let (subscriber, _appender_guard) = common::tracing_json();
    tracing::subscriber::with_default(subscriber, || {
        group.bench_function("tracing_event_json_non_blocking", |b| {
            b.iter(|| tracing::info!(processor = "retrieval", "retrieval_started"))
        });
    });
    group.finish();
}

fn worker_throughput(c: &mut Criterion) {
    const EVENTS: u64 = 10_000;
    let path =
        std::env::temp_dir().join(format!("observe-bench-{}/events.jsonl", std::process::id()));
    let guard = observe::init(
        Config::default()
            .sink(JsonlSink::open(&path).expect("open the bench file"))
            .queue_capacity(EVENTS as usize * 2)
            .fallback(std::io::sink()),
    )
    .expect("install the pipeline");
    let mut group = c.benchmark_group("worker");
    group.throughput(Throughput::Elements(EVENTS));
    group.bench_with_input(
        BenchmarkId::new("jsonl_sanitized", EVENTS),
        &EVENTS,
        |b, &events| b.iter_custom(|iters| common::drain_records(iters, events)),
    );
    group.finish();
    common::assert_nothing_dropped();
    let stats = observe::stats();
    assert_eq!(
        stats.failed_writes, 0,
        "throughput run failed writes: {stats:?}"
    );
    drop(guard);
    let _ = std::fs::remove_dir_all(path.parent().unwrap_or(&path));
}

fn report() {
    common::print_ratios(
        "hot_path",
        "observe_emit",
        &[
            "fastrace_span_in_root",
            "fastrace_local_span_in_root",
            "fastrace_root_span",
            "tracing_event_json_non_blocking",
        ],
    );
    if let Some(ns) = mean_ns("worker", "jsonl_sanitized/10000") {
        println!(
            "worker: {:.0} events/s into JSONL, sanitized",
            10_000.0 / (ns / 1e9)
        );
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    hot_path(&mut c);
    worker_throughput(&mut c);
    c.final_summary();
    report();
}
