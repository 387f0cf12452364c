//! Cost of the sanitizer: one typical chat event (~300 bytes serialized)
//! without secrets and with two, throughput on 10 KiB of prose, and the cost
//! per byte of `sanitize_payload` (scrub and 10 KiB limit) as payloads grow
//! wide (flat objects of 1,000 to 1,000,000 keys) and deep (arrays nested
//! 10 to 1,000,000 levels), next to `serde_json::to_string` of the same
//! payload as a reference of a linear cost. A table of both per byte is
//! printed at the end.
//!
//! Run: `cargo bench --bench sanitizer` (only the shapes:
//! `cargo bench --bench sanitizer -- --measurement-time 3 --warm-up-time 1 'flat_keys|deep_arrays'`)

use std::hint::black_box;
use std::time::{Instant, SystemTime};

use criterion::{
    BatchSize, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use observe::{CorrelationContext, Event, EventType, Payload, Sanitizer};
use serde_json::{Value, json};

mod common;

use common::shapes;

fn chat_payload(text: &str) -> Payload {
    let value = json!({
        "channel": "web",
        "conversation_id": "0190a6f2-7c3b-7d4e-8f10-123456789abc",
        "user_id": "usr_48213",
        "locale": "en-GB",
        "text": text,
        "model": "gpt-4o-mini",
        "prompt_tokens": 182,
        "completion_tokens": 64,
        "received_at": "2024-05-01T10:00:00.123456Z",
    });
    match value {
        Value::Object(map) => map,
        _ => Payload::new(),
    }
}

const CLEAN_TEXT: &str = "Hi! Could you help me change the delivery address for order 58213? \
     I moved last week and the parcel is due on Friday.";
const SECRET_TEXT: &str = "Hi! My login is jane.roe@example.com and the key they gave me is \
     sk-proj-Zx8Lm4Np7Qr2St5Uv9Wx0Yz1Ab2Cd3Ef, can you check it?";

fn prose_10k() -> String {
    let paragraph = "The retrieval step ranks the candidate documents by their similarity to the \
         question, keeps the best few, and hands them to the model together with the \
         conversation so far. Latency depends mostly on the size of the index and on how many \
         documents are kept; the translation step adds a little when the user writes in another \
         language. None of this needs any personal data, version 2.4.1 shipped on 2024-03-05. ";
    let mut text = String::with_capacity(10 * 1024 + paragraph.len());
    while text.len() < 10 * 1024 {
        text.push_str(paragraph);
    }
    text.truncate(10 * 1024);
    text
}

fn benches(c: &mut Criterion) {
    let sanitizer = Sanitizer::new();
    let ctx = CorrelationContext::new_root();

    let clean = chat_payload(CLEAN_TEXT);
    let secret = chat_payload(SECRET_TEXT);
    eprintln!(
        "chat payload sizes: clean {} bytes, with secrets {} bytes",
        serde_json::to_string(&clean).map_or(0, |s| s.len()),
        serde_json::to_string(&secret).map_or(0, |s| s.len()),
    );

    let mut group = c.benchmark_group("sanitize_event");
    for (name, payload) in [("chat_clean", &clean), ("chat_two_secrets", &secret)] {
        let event = Event::new(EventType::MessageReceived, &ctx);
        group.bench_function(name, |b| {
            b.iter_batched_ref(
                || {
                    let mut e = event.clone();
                    e.payload = payload.clone();
                    e
                },
                |e| black_box(sanitizer.sanitize_event(e)),
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();

    let prose = prose_10k();
    let mut group = c.benchmark_group("scrub_str");
    group.throughput(Throughput::Bytes(prose.len() as u64));
    group.bench_function("prose_10KiB", |b| {
        b.iter(|| black_box(sanitizer.scrub_str(black_box(&prose))))
    });
    group.finish();
}

const FLAT_KEYS: [usize; 4] = [1_000, 10_000, 100_000, 1_000_000];
const DEPTHS: [usize; 4] = [10, 1_000, 100_000, 1_000_000];

/// One measured shape: group, size parameter, serialized bytes.
struct Row {
    group: &'static str,
    param: usize,
    bytes: usize,
}

fn shape_benches(c: &mut Criterion) {
    let sanitizer = Sanitizer::new();
    let started = SystemTime::now();
    let mut rows = Vec::new();
    for keys in FLAT_KEYS {
        let input = shapes::flat(keys);
        // Flat payloads clone without recursion.
        let fresh = || input.clone();
        rows.push(shape_bench(c, &sanitizer, "flat_keys", keys, &input, fresh));
        drop(input);
    }
    for depth in DEPTHS {
        let input = shapes::deep_payload(depth);
        // `Value::clone` recurses per level: build each input afresh.
        let fresh = || shapes::deep_payload(depth);
        rows.push(shape_bench(
            c,
            &sanitizer,
            "deep_arrays",
            depth,
            &input,
            fresh,
        ));
        shapes::dismantle_payload(input);
    }
    print_table(&rows, started);
}

/// Benchmarks `sanitize_payload` on fresh copies of `input` (made outside
/// the timing) against `serde_json::to_string(input)`, both in bytes of
/// serialized input per second.
fn shape_bench(
    c: &mut Criterion,
    sanitizer: &Sanitizer,
    group: &'static str,
    param: usize,
    input: &Payload,
    fresh: impl Fn() -> Payload,
) -> Row {
    let bytes = shapes::to_json(input).len();
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Bytes(bytes as u64));
    g.sample_size(10);
    g.sampling_mode(SamplingMode::Flat);
    g.bench_function(BenchmarkId::new("sanitize", param), |b| {
        b.iter_batched(
            &fresh,
            |mut payload| {
                let report = sanitizer.sanitize_payload(&mut payload);
                // Dropped untimed, with the (small, shallow) result.
                (black_box(report), payload)
            },
            BatchSize::PerIteration,
        )
    });
    // serde_json's serializer recurses once per level: a big stack for it.
    g.bench_function(BenchmarkId::new("serde_json_to_string", param), |b| {
        b.iter_custom(|iters| {
            shapes::on_big_stack(|| {
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(
                        serde_json::to_string(black_box(input))
                            .map(|s| s.len())
                            .ok(),
                    );
                }
                start.elapsed()
            })
        })
    });
    g.finish();
    Row {
        group,
        param,
        bytes,
    }
}

/// Prints ns per byte of both and their ratio, for the shapes measured
/// since `started`.
fn print_table(rows: &[Row], started: SystemTime) {
    println!(
        "\n{:<12} {:>9} {:>12} {:>16} {:>15} {:>11}",
        "shape", "size", "bytes", "sanitize ns/B", "serde ns/B", "ours/serde"
    );
    for row in rows {
        let per_byte = |name: &str| {
            common::mean_ns_since(row.group, &format!("{name}/{}", row.param), started)
                .map(|ns| ns / row.bytes.max(1) as f64)
        };
        let (Some(ours), Some(serde)) = (per_byte("sanitize"), per_byte("serde_json_to_string"))
        else {
            continue;
        };
        println!(
            "{:<12} {:>9} {:>12} {:>16.3} {:>15.3} {:>11.2}",
            row.group,
            row.param,
            row.bytes,
            ours,
            serde,
            ours / serde
        );
    }
}

criterion_group!(sanitizer, benches, shape_benches);
criterion_main!(sanitizer);
