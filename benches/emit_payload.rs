//! Caller-side cost of building an `emit!` payload: the plain `Serialize`
//! form (`to_payload`) next to `serde_json::to_value` on the same small
//! value, and the object form `emit!(T, { ... })` next to
//! `emit_event(T, serde_json::json!({ ... }))`, both into a pipeline with a
//! null sink.
//!
//! Run: `cargo bench --bench emit_payload -- --measurement-time 3 --warm-up-time 1`.
//! The closing lines print the ratios.

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::Criterion;
use observe::sink::NullSink;
use observe::{Config, EventType};
use serde::Serialize;

mod common;

#[derive(Serialize)]
struct Reply {
    status: u16,
    channel: &'static str,
    user: Option<u64>,
    latency_ms: f64,
    tags: Vec<&'static str>,
    usage: Usage,
}

#[derive(Serialize)]
struct Usage {
    prompt_tokens: u32,
    completion_tokens: u32,
}

fn small() -> Reply {
    Reply {
        status: 200,
        channel: "web",
        user: Some(42),
        latency_ms: 12.5,
        tags: vec!["faq", "billing", "en"],
        usage: Usage {
            prompt_tokens: 512,
            completion_tokens: 128,
        },
    }
}

fn serialize(c: &mut Criterion) {
    let mut group = c.benchmark_group("payload");
    let reply = small();
    group.bench_function("to_payload_struct", |b| {
        b.iter(|| black_box(observe::record::to_payload(black_box(&reply))))
    });
    group.bench_function("serde_json_to_value_struct", |b| {
        b.iter(|| black_box(serde_json::to_value(black_box(&reply)).ok()))
    });
    let map: BTreeMap<String, u64> = (0..8).map(|n| (format!("key{n}"), n)).collect();
    group.bench_function("to_payload_map", |b| {
        b.iter(|| black_box(observe::record::to_payload(black_box(&map))))
    });
    group.bench_function("serde_json_to_value_map", |b| {
        b.iter(|| black_box(serde_json::to_value(black_box(&map)).ok()))
    });
    group.finish();
}

fn object_form(c: &mut Criterion) {
    let guard = observe::init(
        Config::default()
            .sink(NullSink)
            .queue_capacity(16_384)
            .fallback(std::io::sink()),
    )
    .expect("install the pipeline");
    let mut group = c.benchmark_group("object_form");
    let user_id = 42u64;
    let tags = vec!["faq", "billing"];
    group.bench_function("emit_object", |b| {
        b.iter_custom(|iters| {
            common::chunked(
                iters,
                || {
                    observe::emit!(EventType::MessageReceived, {
                        "channel": "web",
                        "user": user_id,
                        "tags": tags,
                        "usage": { "prompt_tokens": 512, "completion_tokens": 128 },
                    })
                },
                common::flush_all,
            )
        })
    });
    group.bench_function("emit_event_json_macro", |b| {
        b.iter_custom(|iters| {
            common::chunked(
                iters,
                || {
                    observe::emit_event(
                        EventType::MessageReceived,
                        serde_json::json!({
                            "channel": "web",
                            "user": user_id,
                            "tags": tags,
                            "usage": { "prompt_tokens": 512, "completion_tokens": 128 },
                        }),
                    )
                },
                common::flush_all,
            )
        })
    });
    group.finish();
    common::assert_nothing_dropped();
    drop(guard);
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    serialize(&mut c);
    object_form(&mut c);
    c.final_summary();
    common::print_ratios(
        "payload",
        "to_payload_struct",
        &["serde_json_to_value_struct"],
    );
    common::print_ratios("payload", "to_payload_map", &["serde_json_to_value_map"]);
    common::print_ratios("object_form", "emit_object", &["emit_event_json_macro"]);
}
