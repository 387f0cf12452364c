//! The event model, schema version 1: field order, round trips, the checked-in
//! fixture, forward compatibility and the registry's unknown-type handling.

use std::borrow::Cow;

use observe::reader::{JsonlReader, ReadError, read_event};
use observe::{CorrelationContext, ErrorPayload, Event, EventType, Outcome, SCHEMA_VERSION};
use serde_json::{Value, json};

const FIXTURE: &str = include_str!("fixtures/events_v1.jsonl");

const FIELD_ORDER: [&str; 11] = [
    "schema_version",
    "event_id",
    "event_type",
    "timestamp",
    "correlation_id",
    "span_id",
    "parent_span_id",
    "processor",
    "duration_us",
    "outcome",
    "payload",
];

/// The top-level keys of `json` in the order they are written. The payload is
/// the last field, so the first occurrence of each top-level key name is the
/// top-level one.
fn keys_in_order(json: &str) -> Vec<String> {
    let value: Value = serde_json::from_str(json).unwrap();
    let mut keys: Vec<(usize, String)> = value
        .as_object()
        .unwrap()
        .keys()
        .map(|k| (json.find(&format!("\"{k}\":")).unwrap(), k.clone()))
        .collect();
    keys.sort();
    keys.into_iter().map(|(_, k)| k).collect()
}

fn sample_event() -> Event {
    let request = CorrelationContext::new_root();
    let span = request.child();
    Event::new(EventType::ErrorOccurred, &span)
        .with_processor("retrieval")
        .with_outcome(Outcome::Error, 1234)
        .with_payload(
            serde_json::to_value(ErrorPayload::new("IoError", "disk full", "retrieval")).unwrap(),
        )
}

#[test]
fn serializes_every_field_in_schema_order() {
    let json = serde_json::to_string(&sample_event()).unwrap();
    assert_eq!(keys_in_order(&json), FIELD_ORDER);
}

#[test]
fn schema_version_is_written_even_for_a_hand_built_event() {
    let ctx = CorrelationContext::new_root();
    let event = Event {
        event_id: uuid::Uuid::nil(),
        event_type: EventType::ResponseSent,
        timestamp: observe::Timestamp::now(),
        correlation_id: ctx.correlation_id,
        span_id: ctx.span_id,
        parent_span_id: None,
        processor: Some(Cow::Borrowed("http")),
        duration_us: None,
        outcome: None,
        payload: Default::default(),
        service_name: None,
    };
    let value = serde_json::to_value(&event).unwrap();
    assert_eq!(value["schema_version"], json!(SCHEMA_VERSION));
    assert_eq!(event.schema_version(), 1);
}

#[test]
fn round_trips_through_json() {
    let event = sample_event();
    let json = serde_json::to_string(&event).unwrap();
    let back: Event = serde_json::from_str(&json).unwrap();
    assert_eq!(back, event);
    assert_eq!(read_event(&json).unwrap(), event);
    let value = serde_json::to_value(&event).unwrap();
    assert_eq!(value["event_type"], "error_occurred");
    assert_eq!(value["outcome"], "error");
    assert_eq!(
        value["parent_span_id"],
        json!(event.parent_span_id.unwrap().to_string())
    );
    assert_eq!(value["payload"]["error_message"], "disk full");
    assert!(
        value["timestamp"].as_str().unwrap().ends_with('Z')
            && value["timestamp"].as_str().unwrap().len() == 27
    );
}

#[test]
fn new_events_get_uuid_v7_ids_and_the_context() {
    let ctx = CorrelationContext::new_root().child();
    let a = Event::new(EventType::LlmStarted, &ctx);
    let b = Event::new(EventType::LlmComplete, &ctx);
    assert_eq!(a.event_id.get_version_num(), 7);
    assert_ne!(a.event_id, b.event_id);
    assert_eq!(a.context(), ctx);
    assert_eq!(ctx.correlation_id.get_version_num(), 7);
}

#[test]
fn the_fixture_parses_and_re_serializes_byte_for_byte() {
    let mut seen_types = std::collections::BTreeSet::new();
    for (n, line) in FIXTURE.lines().enumerate() {
        let event = read_event(line).unwrap_or_else(|e| panic!("line {}: {e}", n + 1));
        seen_types.insert(event.event_type);
        let raw: Value = serde_json::from_str(line).unwrap();
        let known_fields_only = raw.as_object().unwrap().len() == FIELD_ORDER.len();
        if known_fields_only {
            assert_eq!(
                serde_json::to_string(&event).unwrap(),
                line,
                "line {}",
                n + 1
            );
        }
    }
    assert_eq!(
        seen_types.len(),
        EventType::ALL.len(),
        "the fixture covers every type"
    );
}

#[test]
fn unknown_fields_are_ignored_when_reading() {
    let line = FIXTURE.lines().last().unwrap();
    assert!(
        line.contains("\"region\""),
        "the fixture's last event carries extra fields"
    );
    let event = read_event(line).unwrap();
    assert_eq!(event.outcome, Some(Outcome::Panic));
    let payload: ErrorPayload = serde_json::from_value(Value::Object(event.payload)).unwrap();
    assert_eq!(payload.error_message, "index out of bounds");
    assert_eq!(payload.input_preview, "", "a null preview reads as empty");
}

fn with_field(line: &str, key: &str, value: Value) -> String {
    let mut raw: Value = serde_json::from_str(line).unwrap();
    raw[key] = value;
    raw.to_string()
}

#[test]
fn an_unknown_type_is_a_distinct_result_never_another_type() {
    let line = with_field(
        FIXTURE.lines().next().unwrap(),
        "event_type",
        json!("rerank_started"),
    );
    match read_event(&line) {
        Err(ReadError::UnknownEventType(name)) => assert_eq!(name, "rerank_started"),
        other => panic!("expected an unknown event type, got {other:?}"),
    }
    // The strict serde path refuses it with a message that names it.
    let err = serde_json::from_str::<Event>(&line).unwrap_err();
    assert!(err.to_string().contains("rerank_started"), "{err}");
    // Near misses are not mapped to a registered type.
    for near in [
        "Message_Received",
        "message-received",
        "messagereceived",
        " message_received",
    ] {
        assert!(EventType::parse(near).is_err(), "{near}");
    }
}

#[test]
fn other_schema_versions_and_malformed_events_are_refused() {
    let first = FIXTURE.lines().next().unwrap();
    let v2 = with_field(first, "schema_version", json!(2));
    assert!(matches!(
        read_event(&v2),
        Err(ReadError::UnsupportedSchemaVersion { found: 2 })
    ));
    assert!(serde_json::from_str::<Event>(&v2).is_err());
    let mut missing: Value = serde_json::from_str(first).unwrap();
    missing.as_object_mut().unwrap().remove("schema_version");
    assert!(matches!(
        read_event(&missing.to_string()),
        Err(ReadError::Malformed(_))
    ));
    for (key, bad) in [
        ("span_id", json!("0000000000000000")),
        ("span_id", json!("XYZ")),
        ("timestamp", json!("yesterday")),
        ("event_id", json!("not-a-uuid")),
        ("outcome", json!("exploded")),
        ("payload", json!([1, 2])),
    ] {
        let line = with_field(first, key, bad.clone());
        assert!(
            matches!(read_event(&line), Err(ReadError::Malformed(_))),
            "{key} = {bad}"
        );
    }
    assert!(matches!(
        read_event("{not json"),
        Err(ReadError::Malformed(_))
    ));
}

#[test]
fn the_jsonl_reader_logs_each_unknown_type_once_and_skips_it() {
    let first = FIXTURE.lines().next().unwrap();
    let unknown = with_field(first, "event_type", json!("rerank_started"));
    let input = format!("{unknown}\n{FIXTURE}\n{unknown}\nnot json\n{unknown}\n");
    let reported = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let sink = reported.clone();
    let mut reader = JsonlReader::new(input.as_bytes())
        .on_unknown(move |name| sink.borrow_mut().push(name.to_owned()));
    let results: Vec<_> = reader.by_ref().collect();
    let events = results.iter().filter(|r| r.is_ok()).count();
    let errors = results.iter().filter(|r| r.is_err()).count();
    assert_eq!(events, FIXTURE.lines().count());
    assert_eq!(errors, 1, "the malformed line");
    assert_eq!(*reported.borrow(), ["rerank_started"]);
    assert_eq!(reader.unknown_types()["rerank_started"], 3);
}

#[test]
fn every_event_type_round_trips_by_name() {
    for t in EventType::ALL {
        assert_eq!(EventType::parse(t.as_str()), Ok(t));
        assert_eq!(t.to_string(), t.as_str());
        assert_eq!(serde_json::to_value(t).unwrap(), json!(t.as_str()));
        assert!(
            t.as_str()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '_')
        );
    }
    assert_eq!(EventType::IntentStarted.as_str(), "intent_started");
    assert_eq!(
        EventType::TranslationStarted.as_str(),
        "translation_started"
    );
}

#[test]
fn error_payload_limits_are_the_specifications() {
    use observe::error_payload::*;
    assert_eq!(MAX_ERROR_MESSAGE_CHARS, 500);
    assert_eq!(MAX_STACK_FRAMES, 10);
    assert_eq!(MAX_INPUT_PREVIEW_CHARS, 100);
    assert_eq!(MAX_PAYLOAD_BYTES, 10_240);
    let payload = ErrorPayload::new("E", "m", "llm").to_payload();
    let keys: Vec<_> = payload.keys().map(String::as_str).collect();
    for key in [
        "error_type",
        "error_message",
        "stack_frames",
        "processor",
        "input_preview",
    ] {
        assert!(keys.contains(&key), "{key}");
    }
}
