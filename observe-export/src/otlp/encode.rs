//! Spans to OTLP: the `ExportTraceServiceRequest` of a batch, built from
//! the `opentelemetry-proto` generated types, and its two encodings,
//! protobuf and the OTLP JSON mapping (hex ids, enums as integers, 64-bit
//! integers as strings, which the generated types' serde support writes).
//! Pure: no network.

use std::borrow::Cow;

use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    ResourceSpans, ScopeSpans, Span, Status, span, status,
};
use prost::Message;

use crate::mapping::{AttrValue, Attribute, SpanData, SpanEventData, SpanKind, SpanStatus};

/// The instrumentation scope every span is reported under.
const SCOPE_NAME: &str = "observe";

/// The request for a batch of spans: one `ResourceSpans` per service the
/// spans name (`SpanData::service_name`, in order of first appearance),
/// each with `resource` (`service.name` first) and that service as its
/// `service.name`; spans naming none keep `resource` as it is.
pub fn request(resource: &[(String, String)], spans: Vec<SpanData>) -> ExportTraceServiceRequest {
    let mut groups: Vec<(Option<Cow<'static, str>>, Vec<Span>)> = Vec::new();
    for data in spans {
        let service = data.service_name.clone();
        let span = span(data);
        match groups.iter_mut().find(|(s, _)| *s == service) {
            Some((_, spans)) => spans.push(span),
            None => groups.push((service, vec![span])),
        }
    }
    ExportTraceServiceRequest {
        resource_spans: groups
            .into_iter()
            .map(|(service, spans)| resource_spans(resource, service.as_deref(), spans))
            .collect(),
    }
}

/// The spans of one service.
fn resource_spans(
    resource: &[(String, String)],
    service: Option<&str>,
    spans: Vec<Span>,
) -> ResourceSpans {
    let attributes = resource.iter().map(|(k, v)| {
        let value = match service {
            Some(service) if k == "service.name" => service.to_owned(),
            _ => v.clone(),
        };
        key_value(k.clone(), AttrValue::Str(value))
    });
    ResourceSpans {
        resource: Some(Resource {
            attributes: attributes.collect(),
            ..Resource::default()
        }),
        scope_spans: vec![ScopeSpans {
            scope: Some(InstrumentationScope {
                name: SCOPE_NAME.to_owned(),
                version: env!("CARGO_PKG_VERSION").to_owned(),
                ..InstrumentationScope::default()
            }),
            spans,
            schema_url: String::new(),
        }],
        schema_url: String::new(),
    }
}

/// One span.
pub fn span(data: SpanData) -> Span {
    let status = match data.status {
        SpanStatus::Unset => None,
        SpanStatus::Error(message) => Some(Status {
            message,
            code: status::StatusCode::Error as i32,
        }),
    };
    Span {
        trace_id: data.trace_id.to_vec(),
        span_id: data.span_id.to_be_bytes().to_vec(),
        parent_span_id: data
            .parent_span_id
            .map(|p| p.to_be_bytes().to_vec())
            .unwrap_or_default(),
        name: data.name,
        kind: match data.kind {
            SpanKind::Server => span::SpanKind::Server,
            SpanKind::Internal => span::SpanKind::Internal,
        } as i32,
        start_time_unix_nano: data.start_unix_nanos,
        end_time_unix_nano: data.end_unix_nanos,
        attributes: attributes(data.attributes),
        events: data.events.into_iter().map(event).collect(),
        status,
        ..Span::default()
    }
}

fn event(data: SpanEventData) -> span::Event {
    span::Event {
        time_unix_nano: data.time_unix_nanos,
        name: data.name,
        attributes: attributes(data.attributes),
        dropped_attributes_count: 0,
    }
}

fn attributes(attributes: Vec<Attribute>) -> Vec<KeyValue> {
    attributes
        .into_iter()
        .map(|(k, v)| key_value(k, v))
        .collect()
}

fn key_value(key: String, value: AttrValue) -> KeyValue {
    let value = match value {
        AttrValue::Str(s) => any_value::Value::StringValue(s),
        AttrValue::Bool(b) => any_value::Value::BoolValue(b),
        AttrValue::Int(i) => any_value::Value::IntValue(i),
        AttrValue::Double(d) => any_value::Value::DoubleValue(d),
    };
    KeyValue {
        key,
        value: Some(AnyValue { value: Some(value) }),
        ..KeyValue::default()
    }
}

/// The request as protobuf.
pub fn to_protobuf(request: &ExportTraceServiceRequest) -> Vec<u8> {
    request.encode_to_vec()
}

/// The request as OTLP JSON.
pub fn to_json(request: &ExportTraceServiceRequest) -> Result<Vec<u8>, serde_json::Error> {
    let spans: usize = request
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .map(|s| s.spans.len())
        .sum();
    let mut body = Vec::with_capacity(256 + spans * 1024);
    serde_json::to_writer(&mut body, request)?;
    Ok(body)
}

/// The spans a receiver rejected and why, from its answer (protobuf or
/// JSON, as sent); `None` for a full success or an answer that does not
/// parse (an empty body is a full success).
pub fn rejected(body: &[u8], json: bool) -> Option<(u64, String)> {
    if body.is_empty() {
        return None;
    }
    let response: ExportTraceServiceResponse = if json {
        serde_json::from_slice(body).ok()?
    } else {
        ExportTraceServiceResponse::decode(body).ok()?
    };
    let partial = response.partial_success?;
    let count = u64::try_from(partial.rejected_spans).unwrap_or(0);
    (count > 0 || !partial.error_message.is_empty()).then_some((count, partial.error_message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::map_terminal;
    use observe_core::{CorrelationContext, Event, EventType, Outcome};
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTracePartialSuccess;

    fn sample() -> ExportTraceServiceRequest {
        let ctx = CorrelationContext::new_root().child();
        let mut event = Event::new(EventType::LlmComplete, &ctx).with_processor("llm");
        event.duration_us = Some(7);
        event.outcome = Some(Outcome::Ok);
        event.payload.insert("tokens".into(), (1u64 << 40).into());
        let resource = [("service.name".to_owned(), "chat".to_owned())];
        request(&resource, vec![map_terminal(&event)])
    }

    #[test]
    fn protobuf_round_trips() {
        let request = sample();
        let back = ExportTraceServiceRequest::decode(&to_protobuf(&request)[..]).unwrap();
        assert_eq!(back, request);
        let span = &back.resource_spans[0].scope_spans[0].spans[0];
        assert_eq!(span.span_id.len(), 8);
        assert_eq!(span.parent_span_id.len(), 8);
        assert_eq!(span.kind, span::SpanKind::Internal as i32);
    }

    #[test]
    fn json_follows_the_otlp_json_rules() {
        let request = sample();
        let json: serde_json::Value = serde_json::from_slice(&to_json(&request).unwrap()).unwrap();
        let span = &json["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
        let original = &request.resource_spans[0].scope_spans[0].spans[0];
        // Ids are lower-case hex, not base64.
        let hex: String = original
            .trace_id
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(span["traceId"], hex.as_str());
        assert_eq!(span["spanId"].as_str().unwrap().len(), 16);
        // Enums are integers; 64-bit integers are strings.
        assert_eq!(span["kind"], 1);
        assert!(span["startTimeUnixNano"].is_string());
        let tokens = span["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|kv| kv["key"] == "tokens")
            .unwrap();
        assert_eq!(tokens["value"]["intValue"], (1u64 << 40).to_string());
        assert_eq!(
            json["resourceSpans"][0]["resource"]["attributes"][0]["value"]["stringValue"],
            "chat"
        );
    }

    #[test]
    fn spans_are_grouped_by_the_service_of_their_event() {
        let ctx = CorrelationContext::new_root();
        let event = |service: Option<&'static str>| {
            let mut event = Event::new(EventType::LlmComplete, &ctx.child())
                .with_processor("llm")
                .with_outcome(Outcome::Ok, 5);
            event.service_name = service.map(Into::into);
            map_terminal(&event)
        };
        let resource = [
            ("service.name".to_owned(), "fallback".to_owned()),
            ("deployment.environment".to_owned(), "test".to_owned()),
        ];
        let spans = vec![
            event(Some("chat")),
            event(None),
            event(Some("search")),
            event(Some("chat")),
        ];
        let request = request(&resource, spans);
        let groups: Vec<(String, String, usize)> = request
            .resource_spans
            .iter()
            .map(|r| {
                let attrs = &r.resource.as_ref().unwrap().attributes;
                let text = |i: usize| match &attrs[i].value.as_ref().unwrap().value {
                    Some(any_value::Value::StringValue(s)) => s.clone(),
                    other => panic!("{other:?}"),
                };
                (text(0), text(1), r.scope_spans[0].spans.len())
            })
            .collect();
        let expected = [("chat", 2), ("fallback", 1), ("search", 1)]
            .map(|(service, n)| (service.to_owned(), "test".to_owned(), n));
        assert_eq!(groups, expected);
    }

    #[test]
    fn partial_success_is_read_from_both_encodings() {
        let response = ExportTraceServiceResponse {
            partial_success: Some(ExportTracePartialSuccess {
                rejected_spans: 3,
                error_message: "too old".into(),
            }),
        };
        let expected = Some((3, "too old".to_owned()));
        assert_eq!(rejected(&response.encode_to_vec(), false), expected);
        let json = serde_json::to_vec(&response).unwrap();
        assert_eq!(rejected(&json, true), expected);
        assert_eq!(rejected(b"", false), None);
        assert_eq!(
            rejected(
                &ExportTraceServiceResponse::default().encode_to_vec(),
                false
            ),
            None
        );
    }
}
