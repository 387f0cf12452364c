//! Cost of the sanitizer: one typical chat event (~300 bytes serialized)
//! without secrets and with two, and throughput on 10 KiB of prose.
//!
//! Run: `cargo bench --bench sanitizer`

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use observe::{CorrelationContext, Event, EventType, Payload, Sanitizer};
use serde_json::{Value, json};

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

criterion_group!(sanitizer, benches);
criterion_main!(sanitizer);
