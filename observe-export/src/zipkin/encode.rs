//! Spans to Zipkin v2 JSON (`/api/v2/spans`): lower-case hex ids (trace id
//! 32 digits, span ids 16), microsecond timestamps and durations (at least
//! 1), `kind` only for the request span (`SERVER`; Zipkin has no kind for
//! local spans), string-valued tags and an `error` tag on failures. Pure:
//! no network.

use serde_json::{Map, Value, json};

use crate::mapping::{SpanData, SpanKind, SpanStatus};

/// The JSON array of a batch's spans.
pub fn spans(service_name: &str, spans: Vec<SpanData>) -> Value {
    Value::Array(spans.into_iter().map(|s| span(service_name, s)).collect())
}

/// One span.
pub fn span(service_name: &str, data: SpanData) -> Value {
    let start = data.start_unix_nanos / 1000;
    let duration = (data.end_unix_nanos / 1000).saturating_sub(start).max(1);
    let mut tags = Map::new();
    for (key, value) in data.attributes {
        tags.insert(key, Value::String(value.to_text()));
    }
    if let SpanStatus::Error(message) = data.status {
        tags.insert("error".to_owned(), Value::String(message));
    }
    let mut annotations = Vec::with_capacity(data.events.len());
    for event in data.events {
        if event.name == "exception" {
            for (key, value) in event.attributes {
                tags.insert(key, Value::String(value.to_text()));
            }
        }
        annotations.push(json!({ "timestamp": event.time_unix_nanos / 1000, "value": event.name }));
    }
    let mut span = Map::new();
    span.insert("traceId".into(), hex(&data.trace_id).into());
    span.insert("id".into(), format!("{:016x}", data.span_id).into());
    if let Some(parent) = data.parent_span_id {
        span.insert("parentId".into(), format!("{parent:016x}").into());
    }
    span.insert("name".into(), data.name.into());
    if data.kind == SpanKind::Server {
        span.insert("kind".into(), "SERVER".into());
    }
    span.insert("timestamp".into(), start.into());
    span.insert("duration".into(), duration.into());
    span.insert(
        "localEndpoint".into(),
        json!({ "serviceName": service_name }),
    );
    if !annotations.is_empty() {
        span.insert("annotations".into(), annotations.into());
    }
    span.insert("tags".into(), Value::Object(tags));
    Value::Object(span)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::{AttrValue, SpanEventData};

    fn data(kind: SpanKind, status: SpanStatus) -> SpanData {
        SpanData {
            trace_id: [0xab; 16],
            span_id: 0x00f0_67aa_0ba9_02b7,
            parent_span_id: Some(1),
            name: "llm".into(),
            kind,
            start_unix_nanos: 5_000_000,
            end_unix_nanos: 5_000_400,
            status,
            attributes: vec![("status".into(), AttrValue::Int(200))],
            events: vec![SpanEventData {
                time_unix_nanos: 5_000_000,
                name: "exception".into(),
                attributes: vec![("exception.type".into(), AttrValue::Str("Timeout".into()))],
            }],
        }
    }

    #[test]
    fn ids_times_kind_and_tags_follow_zipkin_v2() {
        let local = span(
            "chat",
            data(SpanKind::Internal, SpanStatus::Error("boom".into())),
        );
        assert_eq!(local["traceId"], "ab".repeat(16));
        assert_eq!(local["id"], "00f067aa0ba902b7");
        assert_eq!(local["parentId"], "0000000000000001");
        assert_eq!(local["timestamp"], 5000);
        assert_eq!(local["duration"], 1, "under a microsecond rounds up to 1");
        assert!(local.get("kind").is_none(), "no kind for local spans");
        assert_eq!(local["tags"]["status"], "200", "tags are strings");
        assert_eq!(local["tags"]["error"], "boom");
        assert_eq!(local["tags"]["exception.type"], "Timeout");
        assert_eq!(local["annotations"][0]["value"], "exception");
        assert_eq!(local["localEndpoint"]["serviceName"], "chat");
        let server = span("chat", data(SpanKind::Server, SpanStatus::Unset));
        assert_eq!(server["kind"], "SERVER");
        assert!(server["tags"].get("error").is_none());
    }
}
