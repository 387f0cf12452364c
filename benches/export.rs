//! The exporters' cost, next to the JSONL sink in the same run:
//!
//! - `export_encode`: encoding one batch of 512 finished spans (mapping
//!   included) as OTLP protobuf, OTLP JSON and Zipkin JSON, against
//!   serializing the same events as JSON lines (what `JsonlSink` writes);
//!   the cost per span is printed (budget: under 2 µs).
//! - `export_end_to_end`: spans per second through the whole pipeline into
//!   an OTLP/HTTP receiver on 127.0.0.1 (axum, answering 200), against the
//!   same events into a JSONL file (budget: at least 100,000 spans/s).
//!
//! Run: `cargo bench --bench export`

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use observe::record::{Record, submit};
use observe::sink::{JsonlSink, Sink};
use observe::{Config, CorrelationContext, Event, EventType, FlushOutcome, Outcome};
use observe_export::{OtlpProtocol, OtlpSink, ZipkinSink};

mod common;

const BATCH: usize = 512;
/// Spans per end-to-end iteration.
const ROUND: u64 = 20_000;

/// A finished `llm` span's terminal event with a typical payload.
fn terminal(ctx: &CorrelationContext, n: u64) -> Event {
    let mut event = Event::new(EventType::LlmComplete, ctx).with_processor("llm");
    event.duration_us = Some(1200 + n % 300);
    event.outcome = Some(Outcome::Ok);
    let payload = serde_json::json!({
        "model": "gpt-4o-mini",
        "prompt_tokens": 182,
        "completion_tokens": 64,
        "cached": false,
        "temperature": 0.2,
        "region": "eu-west-1",
    });
    if let serde_json::Value::Object(map) = payload {
        event.payload = map;
    }
    event
}

fn batch() -> Vec<Event> {
    let root = CorrelationContext::new_root();
    (0..BATCH as u64)
        .map(|n| terminal(&root.child(), n))
        .collect()
}

fn encode_benches(c: &mut Criterion) {
    let events = batch();
    let base = "http://127.0.0.1:4318";
    let protobuf = OtlpSink::new(base).unwrap().service_name("bench");
    let json = protobuf.clone().protocol(OtlpProtocol::Json);
    let zipkin = ZipkinSink::new("http://127.0.0.1:9411/api/v2/spans").unwrap();
    let mut g = c.benchmark_group("export_encode");
    g.throughput(Throughput::Elements(BATCH as u64));
    g.bench_function("otlp_protobuf", |b| {
        b.iter(|| black_box(protobuf.encode(black_box(&events)).unwrap()))
    });
    g.bench_function("otlp_json", |b| {
        b.iter(|| black_box(json.encode(black_box(&events)).unwrap()))
    });
    g.bench_function("zipkin_json", |b| {
        b.iter(|| black_box(zipkin.encode(black_box(&events)).unwrap()))
    });
    g.bench_function("mapping_only", |b| {
        b.iter(|| black_box(observe_export::mapping::map_batch(black_box(&events))))
    });
    g.bench_function("jsonl_lines", |b| {
        let mut out = Vec::with_capacity(1 << 20);
        b.iter(|| {
            out.clear();
            for event in black_box(&events) {
                serde_json::to_writer(&mut out, event).unwrap();
                out.push(b'\n');
            }
            black_box(out.len())
        })
    });
    g.finish();
}

/// An OTLP/HTTP receiver on 127.0.0.1 that answers 200 to everything.
fn receiver() -> String {
    use axum::Router;
    use axum::body::Bytes;
    use axum::routing::post;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let app = Router::new().route(
                "/v1/traces",
                post(|body: Bytes| async move {
                    black_box(body.len());
                }),
            );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    format!("http://{}", rx.recv().unwrap())
}

/// Times `iters` rounds of `ROUND` spans emitted and flushed through a
/// pipeline writing to `sink`; checks that nothing was dropped or fell back.
fn through(iters: u64, sink: impl Sink) -> Duration {
    let guard = observe::init(
        Config::default()
            .sink(sink)
            .queue_capacity(1 << 17)
            .diagnostics(std::io::sink())
            .fallback(std::io::sink()),
    )
    .unwrap();
    let root = CorrelationContext::new_root();
    let start = Instant::now();
    for _ in 0..iters {
        for n in 0..ROUND {
            let record = Record::new(EventType::LlmComplete, root.child())
                .processor("llm")
                .outcome(Outcome::Ok, 1200)
                .json(serde_json::json!({ "model": "gpt-4o-mini", "prompt_tokens": n }));
            submit(record);
        }
        assert_eq!(
            observe::flush(Duration::from_secs(60)),
            FlushOutcome::Flushed
        );
    }
    let elapsed = start.elapsed();
    let stats = observe::stats();
    assert_eq!(guard.shutdown(), FlushOutcome::Flushed);
    assert_eq!(
        (stats.dropped, stats.fallen_back, stats.written),
        (0, 0, iters * ROUND),
        "every span must be delivered: {stats:?}"
    );
    elapsed
}

fn end_to_end_benches(c: &mut Criterion) {
    let base = receiver();
    let dir = std::env::temp_dir().join(format!("observe-export-bench-{}", std::process::id()));
    let mut g = c.benchmark_group("export_end_to_end");
    g.sample_size(10);
    g.throughput(Throughput::Elements(ROUND));
    g.bench_function("otlp_protobuf_http", |b| {
        b.iter_custom(|iters| through(iters, OtlpSink::new(&base).unwrap()))
    });
    g.bench_function("otlp_json_http", |b| {
        b.iter_custom(|iters| {
            through(
                iters,
                OtlpSink::new(&base).unwrap().protocol(OtlpProtocol::Json),
            )
        })
    });
    g.bench_function("jsonl_file", |b| {
        b.iter_custom(|iters| {
            let path = dir.join("events.jsonl");
            let _ = std::fs::remove_file(&path);
            through(iters, JsonlSink::open(&path).unwrap())
        })
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

fn report() {
    println!("\nencoding, per span (budget: under 2000 ns):");
    for name in [
        "otlp_protobuf",
        "otlp_json",
        "zipkin_json",
        "mapping_only",
        "jsonl_lines",
    ] {
        if let Some(ns) = common::mean_ns("export_encode", name) {
            println!("  {name:<14} {:>8.1} ns/span", ns / BATCH as f64);
        }
    }
    common::print_ratios("export_encode", "otlp_protobuf", &["jsonl_lines"]);
    common::print_ratios("export_encode", "otlp_json", &["jsonl_lines"]);
    println!("\nend to end (budget: at least 100,000 spans/s):");
    for name in ["otlp_protobuf_http", "otlp_json_http", "jsonl_file"] {
        if let Some(ns) = common::mean_ns("export_end_to_end", name) {
            println!("  {name:<20} {:>10.0} spans/s", ROUND as f64 * 1e9 / ns);
        }
    }
    common::print_ratios("export_end_to_end", "otlp_protobuf_http", &["jsonl_file"]);
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    encode_benches(&mut c);
    end_to_end_benches(&mut c);
    c.final_summary();
    report();
}
