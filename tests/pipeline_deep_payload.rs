//! Raw payloads of any shape cannot hurt the worker: an `error_occurred`
//! payload that is not an `ErrorPayload` and is nested 20,000 levels deep
//! used to overflow the worker's stack and abort the whole process (this
//! test binary included); a very wide one was turned into one huge message.

mod common;

use std::time::Duration;

use common::{Capture, nested};
use observe::sink::MemorySink;
use observe::{Config, EventType, FlushOutcome, emit_event, flush, stats};
use serde_json::{Map, Value, json};

#[test]
fn a_deeply_nested_or_huge_untyped_error_payload_is_cut_and_the_worker_lives_on() {
    let sink = MemorySink::new();
    let guard = observe::init(
        Config::default()
            .sink(sink.clone())
            .fallback(Capture::default())
            .diagnostics(Capture::default()),
    )
    .unwrap();

    emit_event(EventType::ErrorOccurred, nested(20_000));
    emit_event(EventType::MessageReceived, nested(20_000));
    let wide: Map<String, Value> = (0..200_000)
        .map(|i| (format!("key{i}"), json!(format!("value number {i}"))))
        .collect();
    emit_event(EventType::ErrorOccurred, Value::Object(wide));
    emit_event(EventType::MessageReceived, json!({ "after": true }));
    assert_eq!(flush(Duration::from_secs(30)), FlushOutcome::Flushed);

    let events = sink.events();
    assert_eq!(events.len(), 4, "{:?}", stats());
    for error in [&events[0], &events[2]] {
        assert_eq!(error.event_type, EventType::ErrorOccurred);
        assert_eq!(error.payload["error_type"], "unstructured");
        let message = error.payload["error_message"].as_str().unwrap();
        assert!(message.chars().count() <= 500, "{}", message.len());
    }
    let deep = events[0].payload["error_message"].as_str().unwrap();
    assert!(deep.starts_with(r#"{"value":[[[["#), "{deep}");
    assert!(
        events[2].payload["error_message"]
            .as_str()
            .unwrap()
            .starts_with(r#"{"key0":"value number 0","#)
    );
    // The same shape as another event type is cut at the sanitizer's depth
    // and the cut is reported, as before.
    assert_eq!(events[1].payload["_redactions"]["max_depth"], 1);
    assert_eq!(events[3].payload["after"], true);

    assert_eq!(guard.shutdown(), FlushOutcome::Flushed);
    let s = stats();
    assert_eq!((s.emitted, s.written, s.pending, s.dropped), (4, 4, 0, 0));
}
