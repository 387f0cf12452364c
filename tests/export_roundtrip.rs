//! The demo's chains round-trip: the demo runs (the real example binary)
//! with its exporter pointed at a receiver on 127.0.0.1, and what the
//! receiver got, decoded with the OTLP generated types (protobuf), read as
//! plain JSON (OTLP JSON), or as Zipkin v2 JSON, gives exactly the spans,
//! parent links, names, statuses and exception events of the events the
//! demo stored in its JSONL file; and every stored event is somewhere in
//! what was exported.
//!
//! The expected spans are worked out here from the stored events, by the
//! rules of the mapping table, not with the exporter's own mapping code.

mod export_support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use export_support::{Receiver, hex, json_spans, protobuf_spans, zipkin_spans};
use observe::reader::JsonlReader;
use observe::{Event, EventType, Outcome};

/// What a span must look like: (trace id, span id, parent span id or "",
/// name, error message if an error, exception types).
type Shape = (String, String, String, String, Option<String>, Vec<String>);

fn demo_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let target = exe.parent().and_then(Path::parent).unwrap();
    let binary = target
        .join("examples")
        .join(format!("chat_pipeline{}", std::env::consts::EXE_SUFFIX));
    if !binary.exists() {
        // `cargo test --test export_roundtrip` alone does not build examples.
        let status = Command::new(env!("CARGO"))
            .args(["build", "--example", "chat_pipeline"])
            .status()
            .unwrap();
        assert!(status.success());
    }
    binary
}

/// Runs the demo with `vars` set (and no other OTEL_ variable); returns
/// the events it stored.
fn run_demo(name: &str, vars: &[(&str, String)]) -> Vec<Event> {
    let dir = std::env::temp_dir().join(format!("observe-export-roundtrip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.jsonl"));
    let mut command = Command::new(demo_binary());
    command.arg(&path);
    for (key, _) in std::env::vars() {
        if key.starts_with("OTEL_") {
            command.env_remove(key);
        }
    }
    for (key, value) in vars {
        command.env(key, value);
    }
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let file = std::io::BufReader::new(std::fs::File::open(&path).unwrap());
    JsonlReader::new(file).map(Result::unwrap).collect()
}

fn is_terminal(event: &Event) -> bool {
    event.outcome.is_some() || event.event_type == EventType::ResponseSent
}

fn expected(events: &[Event]) -> BTreeSet<Shape> {
    events
        .iter()
        .filter(|e| is_terminal(e))
        .map(|e| {
            let error = matches!(e.outcome, Some(Outcome::Error | Outcome::Panic)).then(|| {
                e.payload["error_message"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            });
            let exceptions = if e.event_type == EventType::ErrorOccurred {
                vec![e.payload["error_type"].as_str().unwrap().to_owned()]
            } else {
                Vec::new()
            };
            (
                e.correlation_id.simple().to_string(),
                e.span_id.to_string(),
                e.parent_span_id.map(|p| p.to_string()).unwrap_or_default(),
                // The demo's response_sent is emitted by hand: no method.
                e.processor.as_deref().unwrap_or("request").to_owned(),
                error,
                exceptions,
            )
        })
        .collect()
}

/// Every stored event's id, and the sanity of the demo's variety.
fn stored_ids(events: &[Event]) -> BTreeSet<String> {
    let outcomes: std::collections::HashSet<_> = events.iter().filter_map(|e| e.outcome).collect();
    assert!(outcomes.contains(&Outcome::Error) && outcomes.contains(&Outcome::Panic));
    assert!(outcomes.contains(&Outcome::Cancelled), "{outcomes:?}");
    events.iter().map(|e| e.event_id.to_string()).collect()
}

#[test]
fn protobuf_spans_match_the_stored_chains() {
    let receiver = Receiver::accepting();
    let events = run_demo(
        "protobuf",
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.base())],
    );
    let requests = receiver.accepted();
    assert!(!requests.is_empty());
    assert!(
        requests
            .iter()
            .all(|r| r.path == "/v1/traces" && r.content_type == "application/x-protobuf")
    );
    let spans = protobuf_spans(&requests);
    let attr = |attributes: &[opentelemetry_proto::tonic::common::v1::KeyValue], key: &str| {
        attributes.iter().find(|kv| kv.key == key).and_then(|kv| {
            match kv.value.as_ref()?.value.as_ref()? {
                opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(s) => {
                    Some(s.clone())
                }
                _ => None,
            }
        })
    };
    let mut seen = BTreeSet::new();
    let mut got = BTreeSet::new();
    for span in &spans {
        seen.extend(attr(&span.attributes, "observe.event_id"));
        for event in &span.events {
            seen.extend(attr(&event.attributes, "observe.event_id"));
        }
        if attr(&span.attributes, "observe.event_type").is_some()
            && !span
                .attributes
                .iter()
                .any(|kv| kv.key == "observe.point_event")
        {
            let error = span
                .status
                .as_ref()
                .filter(|s| s.code == 2)
                .map(|s| s.message.clone());
            let exceptions = span
                .events
                .iter()
                .filter(|e| e.name == "exception")
                .map(|e| attr(&e.attributes, "exception.type").unwrap())
                .collect();
            got.insert((
                hex(&span.trace_id),
                hex(&span.span_id),
                hex(&span.parent_span_id),
                span.name.clone(),
                error,
                exceptions,
            ));
        }
    }
    assert_eq!(got, expected(&events));
    assert_eq!(
        got.len(),
        spans
            .iter()
            .filter(|s| !s
                .attributes
                .iter()
                .any(|kv| kv.key == "observe.point_event"))
            .count(),
        "no span twice"
    );
    let ids = stored_ids(&events);
    assert!(
        ids.is_subset(&seen),
        "missing: {:?}",
        ids.difference(&seen).collect::<Vec<_>>()
    );
}

/// The shape of a span in plain JSON (OTLP JSON or Zipkin), by `read`.
fn json_shapes(
    spans: &[serde_json::Value],
    read: impl Fn(&serde_json::Value) -> Option<Shape>,
) -> BTreeSet<Shape> {
    spans.iter().filter_map(read).collect()
}

fn otlp_json_attr(attributes: &serde_json::Value, key: &str) -> Option<String> {
    attributes
        .as_array()?
        .iter()
        .find(|kv| kv["key"] == key)
        .and_then(|kv| kv["value"]["stringValue"].as_str().map(str::to_owned))
}

#[test]
fn otlp_json_spans_match_the_stored_chains_with_hex_ids() {
    let receiver = Receiver::accepting();
    let events = run_demo(
        "json",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.base()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json".to_owned()),
        ],
    );
    let requests = receiver.accepted();
    assert!(
        requests
            .iter()
            .all(|r| r.content_type == "application/json")
    );
    let spans = json_spans(&requests);
    let mut seen = BTreeSet::new();
    for span in &spans {
        seen.extend(otlp_json_attr(&span["attributes"], "observe.event_id"));
        for event in span["events"].as_array().into_iter().flatten() {
            seen.extend(otlp_json_attr(&event["attributes"], "observe.event_id"));
        }
        // OTLP JSON: kind is an integer, times are strings.
        assert!(span["kind"].is_u64(), "{span}");
        assert!(span["startTimeUnixNano"].is_string(), "{span}");
    }
    let got = json_shapes(&spans, |span| {
        let attributes = &span["attributes"];
        if otlp_json_attr(attributes, "observe.point_event").is_some()
            || attributes
                .as_array()?
                .iter()
                .any(|kv| kv["key"] == "observe.point_event")
        {
            return None;
        }
        let error = (span["status"]["code"] == 2).then(|| {
            span["status"]["message"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        });
        let exceptions = span["events"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["name"] == "exception")
            .map(|e| otlp_json_attr(&e["attributes"], "exception.type").unwrap())
            .collect();
        Some((
            span["traceId"].as_str()?.to_owned(),
            span["spanId"].as_str()?.to_owned(),
            span["parentSpanId"].as_str().unwrap_or_default().to_owned(),
            span["name"].as_str()?.to_owned(),
            error,
            exceptions,
        ))
    });
    // Ids compare equal to the stored ones written as hex: not base64.
    assert_eq!(got, expected(&events));
    let ids = stored_ids(&events);
    assert!(ids.is_subset(&seen));
}

#[test]
fn zipkin_spans_match_the_stored_chains() {
    let receiver = Receiver::accepting();
    let url = format!("{}/api/v2/spans", receiver.base());
    let events = run_demo("zipkin", &[("OTEL_EXPORTER_ZIPKIN_ENDPOINT", url)]);
    let requests = receiver.accepted();
    assert!(requests.iter().all(|r| r.path == "/api/v2/spans"));
    let spans = zipkin_spans(&requests);
    let mut seen = BTreeSet::new();
    for span in &spans {
        seen.extend(span["tags"]["observe.event_id"].as_str().map(str::to_owned));
        assert!(span["duration"].as_u64().unwrap() >= 1);
        assert_eq!(span["localEndpoint"]["serviceName"], "chat-demo");
        assert!(
            span["tags"]
                .as_object()
                .unwrap()
                .values()
                .all(|v| v.is_string())
        );
        match span.get("kind") {
            Some(kind) => assert_eq!(kind, "SERVER"),
            None => assert_ne!(span["name"], "request"),
        }
    }
    let got = json_shapes(&spans, |span| {
        if span["tags"].get("observe.point_event").is_some() {
            return None;
        }
        let exceptions = span["tags"]
            .get("exception.type")
            .and_then(|t| t.as_str())
            .map(|t| vec![t.to_owned()])
            .unwrap_or_default();
        Some((
            span["traceId"].as_str()?.to_owned(),
            span["id"].as_str()?.to_owned(),
            span["parentId"].as_str().unwrap_or_default().to_owned(),
            span["name"].as_str()?.to_owned(),
            span["tags"]["error"].as_str().map(str::to_owned),
            exceptions,
        ))
    });
    assert_eq!(got, expected(&events));
    // Zipkin annotations carry no ids: the terminal events are the spans,
    // and every other stored event is an annotation or a point span.
    let annotations: usize = spans
        .iter()
        .map(|s| s["annotations"].as_array().map_or(0, Vec::len))
        .sum();
    let exceptions = events
        .iter()
        .filter(|e| e.event_type == EventType::ErrorOccurred)
        .count();
    let terminal = events.iter().filter(|e| is_terminal(e)).count();
    assert_eq!(
        terminal + annotations - exceptions + (spans.len() - got.len()),
        events.len(),
        "every stored event is in the export"
    );
    assert!(seen.len() >= terminal);
}
