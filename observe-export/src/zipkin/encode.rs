//! Spans to Zipkin v2 JSON (`/api/v2/spans`): lower-case hex ids (trace id
//! 32 digits, span ids 16), microsecond timestamps and durations (at least
//! 1), `kind` only for the request span (`SERVER`; Zipkin has no kind for
//! local spans), string-valued tags and an `error` tag on failures. Pure:
//! no network.

use std::borrow::Cow;

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use crate::mapping::{Attribute, SpanData, SpanKind, SpanStatus};

/// One span as Zipkin v2 writes it (field names as on the wire).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ZipkinSpan<'a> {
    trace_id: String,
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_id: Option<String>,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    timestamp: u64,
    duration: u64,
    local_endpoint: Endpoint<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    annotations: Vec<Annotation>,
    tags: Tags,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Endpoint<'a> {
    service_name: Cow<'a, str>,
}

#[derive(Debug, Serialize)]
struct Annotation {
    timestamp: u64,
    value: String,
}

/// Tags in order, every value written as a string; a later tag with the
/// same key is left out (Zipkin tags are a map).
#[derive(Debug, Default)]
struct Tags(Vec<Attribute>);

impl Serialize for Tags {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (i, (key, value)) in self.0.iter().enumerate() {
            if self.0[..i].iter().any(|(k, _)| k == key) {
                continue;
            }
            map.serialize_entry(key, &value.to_text())?;
        }
        map.end()
    }
}

/// The spans of a batch; `service_name` is for spans whose event names no
/// service.
pub fn spans(service_name: &str, spans: Vec<SpanData>) -> Vec<ZipkinSpan<'_>> {
    spans.into_iter().map(|s| span(service_name, s)).collect()
}

/// One span, in its event's service (else `service_name`).
pub fn span(service_name: &str, data: SpanData) -> ZipkinSpan<'_> {
    let service_name = data
        .service_name
        .clone()
        .unwrap_or(Cow::Borrowed(service_name));
    let start = data.start_unix_nanos / 1000;
    let duration = (data.end_unix_nanos / 1000).saturating_sub(start).max(1);
    let mut tags = Vec::with_capacity(data.attributes.len() + 4);
    if let SpanStatus::Error(message) = data.status {
        tags.push(("error".to_owned(), crate::mapping::AttrValue::Str(message)));
    }
    tags.extend(data.attributes);
    let mut annotations = Vec::with_capacity(data.events.len());
    for event in data.events {
        annotations.push(Annotation {
            timestamp: event.time_unix_nanos / 1000,
            value: event.name.clone(),
        });
        if event.name == "exception" {
            tags.extend(event.attributes);
        }
    }
    ZipkinSpan {
        trace_id: hex(&data.trace_id),
        id: format!("{:016x}", data.span_id),
        parent_id: data.parent_span_id.map(|p| format!("{p:016x}")),
        name: data.name,
        kind: (data.kind == SpanKind::Server).then_some("SERVER"),
        timestamp: start,
        duration,
        local_endpoint: Endpoint { service_name },
        annotations,
        tags: Tags(tags),
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
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
            service_name: None,
        }
    }

    fn json(span: ZipkinSpan<'_>) -> serde_json::Value {
        serde_json::to_value(span).unwrap()
    }

    #[test]
    fn ids_times_kind_and_tags_follow_zipkin_v2() {
        let local = json(span(
            "chat",
            data(SpanKind::Internal, SpanStatus::Error("boom".into())),
        ));
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
        let server = json(span("chat", data(SpanKind::Server, SpanStatus::Unset)));
        assert_eq!(server["kind"], "SERVER");
        assert!(server["tags"].get("error").is_none());
    }

    #[test]
    fn the_service_of_the_event_is_the_local_endpoint() {
        let mut d = data(SpanKind::Internal, SpanStatus::Unset);
        d.service_name = Some("search".into());
        assert_eq!(
            json(span("fallback", d))["localEndpoint"]["serviceName"],
            "search"
        );
        let d = data(SpanKind::Internal, SpanStatus::Unset);
        assert_eq!(
            json(span("fallback", d))["localEndpoint"]["serviceName"],
            "fallback"
        );
    }

    #[test]
    fn a_repeated_tag_keeps_its_first_value() {
        let mut d = data(SpanKind::Internal, SpanStatus::Error("first".into()));
        d.attributes
            .push(("error".into(), AttrValue::Str("payload's".into())));
        let text = serde_json::to_string(&span("s", d)).unwrap();
        assert_eq!(text.matches("\"error\":").count(), 1, "{text}");
        assert!(text.contains("\"error\":\"first\""), "{text}");
    }
}
