//! The event, schema version 1: one JSON object per event, with the fields in
//! the order of DESIGN.md.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

use crate::{CorrelationContext, EventType, SpanId, Timestamp};

/// The schema version this crate writes and reads. It changes only with a
/// breaking change to the event format.
pub const SCHEMA_VERSION: u32 = 1;

/// An event's payload: a JSON object.
pub type Payload = serde_json::Map<String, serde_json::Value>;

/// How an operation ended; set on terminal events only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// It returned normally (for a `Result`, `Ok`).
    Ok,
    /// It returned an error.
    Error,
    /// It panicked.
    Panic,
    /// Its future was dropped before it finished.
    Cancelled,
}

impl Outcome {
    /// The wire name: `ok`, `error`, `panic` or `cancelled`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Error => "error",
            Outcome::Panic => "panic",
            Outcome::Cancelled => "cancelled",
        }
    }
}

/// One observability event.
///
/// The schema version is not a field: every event this crate builds or reads
/// is version [`SCHEMA_VERSION`], and serialization always writes it first,
/// however the struct was made. Reading rejects any other version.
///
/// ```
/// use observe::{CorrelationContext, Event, EventType};
///
/// let ctx = CorrelationContext::new_root();
/// let event = Event::new(EventType::MessageReceived, &ctx)
///     .with_payload(serde_json::json!({ "channel": "web" }));
/// let json = serde_json::to_string(&event).unwrap();
/// assert!(json.starts_with(r#"{"schema_version":1,"event_id":"#));
/// let back: Event = serde_json::from_str(&json).unwrap();
/// assert_eq!(back, event);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Unique id of this event (UUIDv7).
    pub event_id: Uuid,
    /// The registered type.
    pub event_type: EventType,
    /// When it happened (UTC, microseconds).
    pub timestamp: Timestamp,
    /// The request this event belongs to (UUIDv7 for requests started here;
    /// a continued W3C trace keeps its trace id).
    pub correlation_id: Uuid,
    /// The operation this event belongs to.
    pub span_id: SpanId,
    /// The enclosing operation; `None` at the root of a request.
    pub parent_span_id: Option<SpanId>,
    /// The processor, for example `retrieval`.
    pub processor: Option<Cow<'static, str>>,
    /// How long the operation took, on terminal events.
    pub duration_us: Option<u64>,
    /// How the operation ended, on terminal events.
    pub outcome: Option<Outcome>,
    /// The event's data, sanitized before it leaves the process.
    pub payload: Payload,
    /// The service that emitted it: the pipeline stamps
    /// [`Config::service_name`](crate::delivery::pipeline::Config::service_name)
    /// on every event it delivers. `None` on an event made outside a
    /// pipeline and on one read from a store written before the field
    /// existed (readers treat it as unknown). Written last on the wire, and
    /// only when known.
    pub service_name: Option<Cow<'static, str>>,
}

impl Event {
    /// A new event of `event_type` in the span of `ctx`, stamped now, with a
    /// fresh event id and an empty payload.
    pub fn new(event_type: EventType, ctx: &CorrelationContext) -> Event {
        let timestamp = Timestamp::now();
        Event {
            event_id: crate::model::ids::uuid_v7(timestamp),
            event_type,
            timestamp,
            correlation_id: ctx.correlation_id,
            span_id: ctx.span_id,
            parent_span_id: ctx.parent_span_id,
            processor: None,
            duration_us: None,
            outcome: None,
            payload: Payload::new(),
            service_name: None,
        }
    }

    /// The schema version of this event, always [`SCHEMA_VERSION`].
    pub const fn schema_version(&self) -> u32 {
        SCHEMA_VERSION
    }

    /// The correlation context this event was emitted in.
    pub fn context(&self) -> CorrelationContext {
        CorrelationContext {
            correlation_id: self.correlation_id,
            span_id: self.span_id,
            parent_span_id: self.parent_span_id,
        }
    }

    /// Sets the processor.
    pub fn with_processor(mut self, processor: impl Into<Cow<'static, str>>) -> Event {
        self.processor = Some(processor.into());
        self
    }

    /// Sets the service that emitted it.
    pub fn with_service_name(mut self, service: impl Into<Cow<'static, str>>) -> Event {
        self.service_name = Some(service.into());
        self
    }

    /// Marks this event terminal, with its outcome and duration.
    pub fn with_outcome(mut self, outcome: Outcome, duration_us: u64) -> Event {
        self.outcome = Some(outcome);
        self.duration_us = Some(duration_us);
        self
    }

    /// Sets the payload. A JSON object becomes the payload; any other value
    /// is kept under the key `value`, since a payload is always an object.
    pub fn with_payload(mut self, payload: serde_json::Value) -> Event {
        self.payload = match payload {
            serde_json::Value::Object(map) => map,
            serde_json::Value::Null => Payload::new(),
            other => Payload::from_iter([("value".to_owned(), other)]),
        };
        self
    }
}

/// The wire form as written, borrowing the event.
#[derive(Serialize)]
struct WireOut<'a> {
    schema_version: u32,
    event_id: &'a Uuid,
    event_type: EventType,
    timestamp: Timestamp,
    correlation_id: &'a Uuid,
    span_id: SpanId,
    parent_span_id: Option<SpanId>,
    processor: Option<&'a str>,
    duration_us: Option<u64>,
    outcome: Option<Outcome>,
    payload: &'a Payload,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_name: Option<&'a str>,
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        WireOut {
            schema_version: SCHEMA_VERSION,
            event_id: &self.event_id,
            event_type: self.event_type,
            timestamp: self.timestamp,
            correlation_id: &self.correlation_id,
            span_id: self.span_id,
            parent_span_id: self.parent_span_id,
            processor: self.processor.as_deref(),
            duration_us: self.duration_us,
            outcome: self.outcome,
            payload: &self.payload,
            service_name: self.service_name.as_deref(),
        }
        .serialize(serializer)
    }
}

/// The wire form as read. Unknown fields are ignored (forward compatibility);
/// the event type stays a string so that the reader can tell an unknown type
/// from a malformed event.
#[derive(Deserialize)]
pub(crate) struct WireIn {
    pub(crate) schema_version: u32,
    event_id: Uuid,
    pub(crate) event_type: String,
    timestamp: Timestamp,
    correlation_id: Uuid,
    span_id: SpanId,
    #[serde(default)]
    parent_span_id: Option<SpanId>,
    #[serde(default)]
    processor: Option<String>,
    #[serde(default)]
    duration_us: Option<u64>,
    #[serde(default)]
    outcome: Option<Outcome>,
    #[serde(default)]
    payload: Payload,
    #[serde(default)]
    service_name: Option<String>,
}

impl WireIn {
    /// The event, once the version and type are known to be supported.
    pub(crate) fn into_event(self, event_type: EventType) -> Event {
        Event {
            event_id: self.event_id,
            event_type,
            timestamp: self.timestamp,
            correlation_id: self.correlation_id,
            span_id: self.span_id,
            parent_span_id: self.parent_span_id,
            processor: self.processor.map(Cow::Owned),
            duration_us: self.duration_us,
            outcome: self.outcome,
            payload: self.payload,
            service_name: self.service_name.map(Cow::Owned),
        }
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = WireIn::deserialize(deserializer)?;
        if wire.schema_version != SCHEMA_VERSION {
            return Err(serde::de::Error::custom(format_args!(
                "unsupported schema_version {} (this reader reads {SCHEMA_VERSION})",
                wire.schema_version
            )));
        }
        let event_type = EventType::parse(&wire.event_type).map_err(serde::de::Error::custom)?;
        Ok(wire.into_event(event_type))
    }
}
