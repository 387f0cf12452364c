//! The mapping from events to spans: a pure function of one batch, with no
//! state kept between batches and no network, shared by the OTLP and Zipkin
//! encoders.
//!
//! Each terminal event (one with an outcome, and every `response_sent`)
//! becomes one [`SpanData`]; every other event becomes a [`SpanEventData`]
//! on its span when that span's terminal event is in the same batch, and a
//! zero-length *point span* (a child of its span, attribute
//! `observe.point_event = true`) otherwise, so no event is silently
//! dropped. See the crate documentation for the table.

use std::collections::HashMap;

use observe_core::{Event, EventType, Outcome};
use serde_json::Value;

/// Most characters of a span name taken from a payload (the HTTP route).
const MAX_NAME_CHARS: usize = 200;

/// The span kinds this mapping uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpanKind {
    /// The HTTP layer's request span (`response_sent` without a processor).
    Server,
    /// Every other span.
    Internal,
}

/// A span's status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SpanStatus {
    /// Not an error (outcomes `ok` and `cancelled`).
    Unset,
    /// Outcome `error` or `panic`, with the error's message.
    Error(String),
}

/// An attribute's value: the scalar JSON types.
#[derive(Clone, Debug, PartialEq)]
pub enum AttrValue {
    /// A string.
    Str(String),
    /// A boolean.
    Bool(bool),
    /// An integer that fits in 64 signed bits.
    Int(i64),
    /// Any other number.
    Double(f64),
}

impl AttrValue {
    /// The value as text (Zipkin's tags are strings).
    pub fn to_text(&self) -> String {
        match self {
            AttrValue::Str(s) => s.clone(),
            AttrValue::Bool(b) => b.to_string(),
            AttrValue::Int(i) => i.to_string(),
            AttrValue::Double(d) => d.to_string(),
        }
    }
}

/// A named attribute.
pub type Attribute = (String, AttrValue);

/// An event on a span: a non-terminal event, or the `exception` of a
/// failed one.
#[derive(Clone, Debug, PartialEq)]
pub struct SpanEventData {
    /// Nanoseconds since the Unix epoch.
    pub time_unix_nanos: u64,
    /// The event type, or `exception`.
    pub name: String,
    /// The event's attributes.
    pub attributes: Vec<Attribute>,
}

/// One span, neutral between the wire formats.
#[derive(Clone, Debug, PartialEq)]
pub struct SpanData {
    /// The correlation id's 16 bytes.
    pub trace_id: [u8; 16],
    /// The event's span id.
    pub span_id: u64,
    /// The event's parent span id.
    pub parent_span_id: Option<u64>,
    /// The processor, the request's `METHOD route`, or the event type.
    pub name: String,
    /// Server for the HTTP request span, internal otherwise.
    pub kind: SpanKind,
    /// Timestamp minus duration, in nanoseconds since the Unix epoch.
    pub start_unix_nanos: u64,
    /// The terminal event's timestamp, in nanoseconds since the Unix epoch.
    pub end_unix_nanos: u64,
    /// Error for outcomes `error` and `panic`.
    pub status: SpanStatus,
    /// `observe.*` attributes, then the payload's scalar fields.
    pub attributes: Vec<Attribute>,
    /// The span's other events and its `exception`.
    pub events: Vec<SpanEventData>,
    /// The service of the span's event (`Event::service_name`): the
    /// exporters' `service.name` / `localEndpoint.serviceName`; `None`
    /// (an event from a store written before the field) takes the sink's.
    pub service_name: Option<std::borrow::Cow<'static, str>>,
}

/// Whether an event ends a span: it carries an outcome, or it is a
/// `response_sent` (which the demo and applications may emit by hand,
/// without one).
pub fn is_terminal(event: &Event) -> bool {
    event.outcome.is_some() || event.event_type == EventType::ResponseSent
}

/// Maps one batch: a span per terminal event, in the batch's order, then
/// a point span per event whose span does not end in the batch; the other
/// events become span events (see the module documentation).
///
/// ```
/// use observe::{CorrelationContext, Event, EventType, Outcome};
/// use observe::export::mapping::{SpanKind, map_batch};
///
/// let ctx = CorrelationContext::new_root();
/// let mut done = Event::new(EventType::RetrievalComplete, &ctx).with_processor("retrieval");
/// done.duration_us = Some(1500);
/// done.outcome = Some(Outcome::Ok);
/// let started = Event::new(EventType::RetrievalStarted, &ctx).with_processor("retrieval");
/// let spans = map_batch(&[started, done]);
/// assert_eq!(spans.len(), 1);
/// assert_eq!(spans[0].name, "retrieval");
/// assert_eq!(spans[0].kind, SpanKind::Internal);
/// assert_eq!(spans[0].end_unix_nanos - spans[0].start_unix_nanos, 1_500_000);
/// assert_eq!(spans[0].events[0].name, "retrieval_started");
/// ```
pub fn map_batch(batch: &[Event]) -> Vec<SpanData> {
    let mut spans: Vec<SpanData> = batch
        .iter()
        .filter(|e| is_terminal(e))
        .map(map_terminal)
        .collect();
    if spans.len() == batch.len() {
        return spans;
    }
    let mut by_span: HashMap<(u128, u64), usize> = HashMap::with_capacity(spans.len());
    for (i, span) in spans.iter().enumerate() {
        let key = (u128::from_be_bytes(span.trace_id), span.span_id);
        by_span.entry(key).or_insert(i);
    }
    for event in batch.iter().filter(|e| !is_terminal(e)) {
        let key = (event.correlation_id.as_u128(), event.span_id.get());
        match by_span.get(&key) {
            Some(&i) => spans[i].events.push(span_event(event)),
            None => spans.push(point_span(event)),
        }
    }
    spans
}

/// The span of one terminal event.
pub fn map_terminal(event: &Event) -> SpanData {
    let end = nanos(event.timestamp.unix_micros());
    let duration = event.duration_us.unwrap_or(0).saturating_mul(1000);
    let outcome = event.outcome;
    let server = event.event_type == EventType::ResponseSent && event.processor.is_none();
    let mut attributes = observe_attributes(event, false);
    if let Some(outcome) = outcome {
        attributes.push(str_attr("observe.outcome", outcome.as_str()));
    }
    scalar_attributes(event, &mut attributes);
    let mut span = SpanData {
        trace_id: event.correlation_id.into_bytes(),
        span_id: event.span_id.get(),
        parent_span_id: event.parent_span_id.map(|p| p.get()),
        name: span_name(event, server),
        kind: if server {
            SpanKind::Server
        } else {
            SpanKind::Internal
        },
        start_unix_nanos: end.saturating_sub(duration),
        end_unix_nanos: end,
        status: status(event),
        attributes,
        events: Vec::new(),
        service_name: event.service_name.clone(),
    };
    if event.event_type == EventType::ErrorOccurred {
        span.events.push(exception(event, end));
    }
    span
}

/// Processor; for the request span `METHOD route` (or `METHOD path`-less
/// forms, see the crate docs); else the event type.
fn span_name(event: &Event, server: bool) -> String {
    if let Some(processor) = &event.processor {
        return processor.to_string();
    }
    if !server {
        return event.event_type.as_str().to_owned();
    }
    let text = |key: &str| event.payload.get(key).and_then(Value::as_str);
    let name = match (text("method"), text("route")) {
        (Some(method), Some(route)) => format!("{method} {route}"),
        (Some(method), None) => method.to_owned(),
        _ => "request".to_owned(),
    };
    name.chars().take(MAX_NAME_CHARS).collect()
}

fn status(event: &Event) -> SpanStatus {
    match event.outcome {
        Some(Outcome::Error | Outcome::Panic) => SpanStatus::Error(error_message(event)),
        _ => SpanStatus::Unset,
    }
}

/// The error's message: the `ErrorPayload`'s, or what the HTTP layer
/// recorded.
fn error_message(event: &Event) -> String {
    let payload = &event.payload;
    if let Some(message) = payload.get("error_message").and_then(Value::as_str) {
        return message.to_owned();
    }
    if let Some(status) = payload.get("status").and_then(Value::as_u64) {
        return format!("HTTP status {status}");
    }
    match event.outcome {
        Some(Outcome::Panic) => "panic".to_owned(),
        _ => "error".to_owned(),
    }
}

/// The `exception` span event (OpenTelemetry semantic conventions) of an
/// `error_occurred` event.
fn exception(event: &Event, at: u64) -> SpanEventData {
    let text = |key: &str| {
        event
            .payload
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let stack = event
        .payload
        .get("stack_frames")
        .and_then(Value::as_array)
        .map(|frames| {
            frames
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default();
    SpanEventData {
        time_unix_nanos: at,
        name: "exception".to_owned(),
        attributes: vec![
            (
                "exception.type".to_owned(),
                AttrValue::Str(text("error_type")),
            ),
            (
                "exception.message".to_owned(),
                AttrValue::Str(text("error_message")),
            ),
            ("exception.stacktrace".to_owned(), AttrValue::Str(stack)),
        ],
    }
}

/// A non-terminal event on its span.
fn span_event(event: &Event) -> SpanEventData {
    let mut attributes = vec![event_id_attr(event)];
    scalar_attributes(event, &mut attributes);
    SpanEventData {
        time_unix_nanos: nanos(event.timestamp.unix_micros()),
        name: event.event_type.as_str().to_owned(),
        attributes,
    }
}

/// A non-terminal event whose span does not end in this batch: a
/// zero-length child of its span, with an id made from the event's id.
fn point_span(event: &Event) -> SpanData {
    let at = nanos(event.timestamp.unix_micros());
    let mut attributes = observe_attributes(event, true);
    attributes.push(("observe.point_event".to_owned(), AttrValue::Bool(true)));
    scalar_attributes(event, &mut attributes);
    // The low 64 bits of a UUIDv7 are random; zero is not a span id.
    let id = (event.event_id.as_u128() as u64).max(1);
    SpanData {
        trace_id: event.correlation_id.into_bytes(),
        span_id: id,
        parent_span_id: Some(event.span_id.get()),
        name: event.event_type.as_str().to_owned(),
        kind: SpanKind::Internal,
        start_unix_nanos: at,
        end_unix_nanos: at,
        status: SpanStatus::Unset,
        attributes,
        events: Vec::new(),
        service_name: event.service_name.clone(),
    }
}

/// `observe.event_type` and `observe.event_id`; `observe.processor` only
/// where the span's name is not the processor already (point spans).
fn observe_attributes(event: &Event, with_processor: bool) -> Vec<Attribute> {
    let mut attributes = Vec::with_capacity(event.payload.len() + 4);
    attributes.push(str_attr("observe.event_type", event.event_type.as_str()));
    attributes.push(event_id_attr(event));
    if let Some(processor) = event.processor.as_deref().filter(|_| with_processor) {
        attributes.push(str_attr("observe.processor", processor));
    }
    attributes
}

/// The payload's scalar fields (strings, numbers, booleans), by their own
/// names; objects, arrays and nulls are left out.
fn scalar_attributes(event: &Event, into: &mut Vec<Attribute>) {
    for (key, value) in &event.payload {
        let value = match value {
            Value::String(s) => AttrValue::Str(s.clone()),
            Value::Bool(b) => AttrValue::Bool(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => AttrValue::Int(i),
                None => AttrValue::Double(n.as_f64().unwrap_or(0.0)),
            },
            Value::Null | Value::Array(_) | Value::Object(_) => continue,
        };
        into.push((key.clone(), value));
    }
}

/// `observe.event_id`, the id written as a hyphenated UUID.
fn event_id_attr(event: &Event) -> Attribute {
    let mut buffer = [0u8; 36];
    let id = event.event_id.hyphenated().encode_lower(&mut buffer);
    str_attr("observe.event_id", id)
}

fn str_attr(key: &str, value: &str) -> Attribute {
    (key.to_owned(), AttrValue::Str(value.to_owned()))
}

/// Microseconds since the epoch to nanoseconds; times before 1970 are 0.
fn nanos(micros: i64) -> u64 {
    u64::try_from(micros).unwrap_or(0).saturating_mul(1000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use observe_core::{CorrelationContext, ErrorPayload};

    fn terminal(ty: EventType, ctx: &CorrelationContext, outcome: Outcome) -> Event {
        let mut event = Event::new(ty, ctx);
        event.duration_us = Some(250);
        event.outcome = Some(outcome);
        event
    }

    #[test]
    fn an_error_becomes_an_error_span_with_an_exception_event() {
        let ctx = CorrelationContext::new_root().child();
        let mut error = ErrorPayload::new("TimeoutError", "upstream timed out", "llm");
        error.stack_frames = vec!["a.rs:1".into(), "b.rs:2".into()];
        let mut event =
            terminal(EventType::ErrorOccurred, &ctx, Outcome::Error).with_processor("llm");
        event.payload = error.to_payload();
        let span = map_terminal(&event);
        assert_eq!(span.trace_id, ctx.correlation_id.into_bytes());
        assert_eq!(span.span_id, ctx.span_id.get());
        assert_eq!(span.parent_span_id, ctx.parent_span_id.map(|p| p.get()));
        assert_eq!(span.name, "llm");
        assert_eq!(span.status, SpanStatus::Error("upstream timed out".into()));
        assert_eq!(span.end_unix_nanos - span.start_unix_nanos, 250_000);
        let exception = &span.events[0];
        assert_eq!(exception.name, "exception");
        assert_eq!(
            exception.attributes[2],
            (
                "exception.stacktrace".to_owned(),
                AttrValue::Str("a.rs:1\nb.rs:2".into())
            )
        );
        assert!(
            span.attributes
                .contains(&str_attr("observe.outcome", "error"))
        );
        assert!(
            span.attributes
                .contains(&str_attr("error_type", "TimeoutError"))
        );
        // Arrays are not attributes.
        assert!(!span.attributes.iter().any(|(k, _)| k == "stack_frames"));
    }

    #[test]
    fn the_request_span_is_a_server_span_named_by_method_and_route() {
        let ctx = CorrelationContext::new_root();
        let mut sent = terminal(EventType::ResponseSent, &ctx, Outcome::Error);
        sent.payload =
            serde_json::json!({ "status": 503, "method": "POST", "route": "/chat/{id}" })
                .as_object()
                .unwrap()
                .clone();
        let span = map_terminal(&sent);
        assert_eq!(span.kind, SpanKind::Server);
        assert_eq!(span.name, "POST /chat/{id}");
        assert_eq!(span.status, SpanStatus::Error("HTTP status 503".into()));
        assert!(
            span.attributes
                .contains(&("status".to_owned(), AttrValue::Int(503)))
        );
        sent.payload.remove("route");
        assert_eq!(map_terminal(&sent).name, "POST");
        sent.payload.clear();
        assert_eq!(map_terminal(&sent).name, "request");
    }

    #[test]
    fn cancelled_and_ok_are_not_errors_but_say_their_outcome() {
        let ctx = CorrelationContext::new_root();
        for outcome in [Outcome::Ok, Outcome::Cancelled] {
            let event = terminal(EventType::LlmComplete, &ctx, outcome).with_processor("llm");
            let span = map_terminal(&event);
            assert_eq!(span.status, SpanStatus::Unset);
            assert!(
                span.attributes
                    .contains(&str_attr("observe.outcome", outcome.as_str()))
            );
        }
    }

    #[test]
    fn no_event_is_lost_from_a_batch() {
        let root = CorrelationContext::new_root();
        let child = root.child();
        let received = Event::new(EventType::MessageReceived, &root);
        let started = Event::new(EventType::RetrievalStarted, &child).with_processor("retrieval");
        let sent = Event::new(EventType::ResponseSent, &root);
        let spans = map_batch(&[received.clone(), started.clone(), sent]);
        // The request span holds message_received; retrieval has no
        // terminal here, so its started event is a point span under it.
        assert_eq!(spans.len(), 2);
        assert_eq!(spans[0].events[0].name, "message_received");
        let point = &spans[1];
        assert_eq!(point.parent_span_id, Some(child.span_id.get()));
        assert_eq!(point.start_unix_nanos, point.end_unix_nanos);
        assert!(
            point
                .attributes
                .contains(&str_attr("observe.event_id", &started.event_id.to_string()))
        );
    }
}
