//! The hot path: what a call site captures ([`Record`]) and how it hands it
//! to the pipeline ([`submit`]).
//!
//! A record holds only what cannot be computed later: the event type, the
//! processor, the correlation context, a timestamp, the outcome and duration
//! of terminal events, and the raw payload. Event ids, formatting,
//! stack symbolization, sanitizing and serializing all happen on the
//! worker thread.
//!
//! [`submit`] costs one atomic load when no pipeline is installed. With a
//! pipeline it is one non-blocking push onto a bounded lock-free queue; when
//! the queue is full the record is dropped and counted. It never blocks,
//! never panics and returns nothing the caller could fail on.
//!
//! ```
//! use observe::{CorrelationContext, EventType, Outcome};
//! use observe::record::{Record, enabled, submit};
//!
//! let ctx = CorrelationContext::new_root();
//! if enabled() {
//!     // only build payloads when someone is listening
//! }
//! submit(Record::new(EventType::RetrievalStarted, ctx).processor("retrieval"));
//! submit(
//!     Record::new(EventType::RetrievalComplete, ctx)
//!         .processor("retrieval")
//!         .outcome(Outcome::Ok, 1_250)
//!         .json(serde_json::json!({ "documents": 3 })),
//! );
//! ```

use super::raw;
use crate::model::stack::CapturedStack;
use crate::{CorrelationContext, ErrorPayload, Event, EventType, Outcome, Payload, Timestamp};

/// One event as captured on the caller's thread, before the worker turns it
/// into an [`Event`].
#[derive(Debug)]
pub struct Record {
    /// The registered type.
    pub event_type: EventType,
    /// The processor, for example `retrieval`.
    pub processor: Option<&'static str>,
    /// The request and span the event belongs to.
    pub context: CorrelationContext,
    /// When it happened.
    pub timestamp: Timestamp,
    /// How long the operation took, on terminal events.
    pub duration_us: Option<u64>,
    /// How the operation ended, on terminal events.
    pub outcome: Option<Outcome>,
    /// The raw, unsanitized payload.
    pub payload: RecordPayload,
}

/// The payload of a [`Record`], as captured.
#[derive(Debug, Default)]
pub enum RecordPayload {
    /// No payload: the event's payload is `{}`.
    #[default]
    None,
    /// A JSON value: an object becomes the payload, `null` an empty one, and
    /// any other value is kept under the key `value`.
    Json(serde_json::Value),
    /// An error, to be the payload of an `error_occurred` event. Boxed so
    /// that records stay small on the common path.
    Error(Box<ErrorRecord>),
    /// Named fields, made into the payload object on the worker: the
    /// caller allocates one vector and the values that are not static
    /// text, instead of a map with its keys (a later field replaces an
    /// earlier one of the same name).
    Fields(Vec<(&'static str, FieldValue)>),
}

/// The value of one of a record's [`RecordPayload::Fields`].
#[derive(Debug)]
pub enum FieldValue {
    /// Text that lives for the whole program (a target, a level name).
    Static(&'static str),
    /// Any JSON value.
    Json(serde_json::Value),
}

impl FieldValue {
    fn into_json(self) -> serde_json::Value {
        match self {
            FieldValue::Static(text) => serde_json::Value::from(text),
            FieldValue::Json(value) => value,
        }
    }
}

/// An error as captured: the unsanitized payload and, optionally, a stack
/// that the worker resolves into `stack_frames` (at most ten, the rest
/// counted in `stack_frames_omitted`).
#[derive(Debug)]
pub struct ErrorRecord {
    /// The error payload; sanitized and cut to its limits on the worker.
    pub error: ErrorPayload,
    /// The stack where the error was observed. Its symbols are resolved on
    /// the worker, never on the caller's thread.
    pub stack: Option<CapturedStack>,
    /// Fields beside the error's (values recorded on the span); a field of
    /// the same name as one of the [`ErrorPayload`]'s is left out.
    pub fields: Vec<(&'static str, FieldValue)>,
}

impl ErrorRecord {
    /// The heap this error is estimated to hold: its strings, its stack and
    /// the box it lives in.
    fn estimate_bytes(&self) -> usize {
        let e = &self.error;
        let frames: usize = e.stack_frames.iter().map(|f| f.len() + STRING_BYTES).sum();
        let preview = e.input_preview.len();
        let stack = self
            .stack
            .as_ref()
            .map_or(0, |s| s.len() * std::mem::size_of::<usize>());
        std::mem::size_of::<ErrorRecord>()
            + fields_bytes(&self.fields)
            + e.error_type.len()
            + e.error_message.len()
            + e.processor.len()
            + preview
            + frames
            + stack
    }
}

/// The heap that named fields are estimated to hold: their vector and
/// their JSON values.
fn fields_bytes(fields: &Vec<(&'static str, FieldValue)>) -> usize {
    let own = fields.capacity() * std::mem::size_of::<(&str, FieldValue)>();
    let values: usize = fields
        .iter()
        .map(|(_, value)| match value {
            FieldValue::Static(_) => 0,
            FieldValue::Json(value) => raw::estimate_bytes(value),
        })
        .sum();
    own + values
}

/// The bytes of a `String` besides its text.
const STRING_BYTES: usize = std::mem::size_of::<String>();

impl Record {
    /// A record of `event_type` in `context`, stamped now, with no processor,
    /// outcome or payload.
    #[inline]
    pub fn new(event_type: EventType, context: CorrelationContext) -> Record {
        Record::new_at(event_type, context, Timestamp::now())
    }

    /// A record like [`Record::new`], stamped with `timestamp` (for callers
    /// that already read the clock, such as a span measuring its duration).
    #[inline]
    pub fn new_at(
        event_type: EventType,
        context: CorrelationContext,
        timestamp: Timestamp,
    ) -> Record {
        Record {
            event_type,
            processor: None,
            context,
            timestamp,
            duration_us: None,
            outcome: None,
            payload: RecordPayload::None,
        }
    }

    /// Sets the processor.
    #[inline]
    pub fn processor(mut self, processor: &'static str) -> Record {
        self.processor = Some(processor);
        self
    }

    /// Marks the record terminal, with its outcome and duration.
    #[inline]
    pub fn outcome(mut self, outcome: Outcome, duration_us: u64) -> Record {
        self.outcome = Some(outcome);
        self.duration_us = Some(duration_us);
        self
    }

    /// Sets a JSON payload.
    #[inline]
    pub fn json(mut self, payload: serde_json::Value) -> Record {
        self.payload = RecordPayload::Json(payload);
        self
    }

    /// Sets the payload to named fields, made into an object on the worker
    /// (see [`RecordPayload::Fields`]).
    #[inline]
    pub fn fields(mut self, fields: Vec<(&'static str, FieldValue)>) -> Record {
        self.payload = RecordPayload::Fields(fields);
        self
    }

    /// Sets an error payload and the stack where it was seen, if captured.
    #[inline]
    pub fn error(mut self, error: ErrorPayload, stack: Option<CapturedStack>) -> Record {
        self.payload = RecordPayload::Error(Box::new(ErrorRecord {
            error,
            stack,
            fields: Vec::new(),
        }));
        self
    }

    /// Overrides the timestamp.
    #[inline]
    pub fn at(mut self, timestamp: Timestamp) -> Record {
        self.timestamp = timestamp;
        self
    }

    /// What the record's payload is estimated to hold on the heap, for the
    /// queue's byte budget: 0 without a payload (a bare `#[observed]` call
    /// never touches the budget), else the estimate of
    /// [`raw::estimate_bytes`] or of [`ErrorRecord::estimate_bytes`]. The
    /// same record always gives the same answer, so the worker can release
    /// what the emitter reserved without storing it.
    #[inline]
    pub(crate) fn queued_bytes(&self) -> usize {
        match &self.payload {
            RecordPayload::None => 0,
            RecordPayload::Json(value) => raw::estimate_bytes(value),
            RecordPayload::Error(error) => error.estimate_bytes(),
            RecordPayload::Fields(fields) => fields_bytes(fields),
        }
    }

    /// Drops the record without recursing over its payload's depth.
    pub(crate) fn discard(self) {
        match self.payload {
            RecordPayload::Json(value) => raw::discard(value),
            RecordPayload::Fields(fields) => {
                for (_, value) in fields {
                    raw::discard(value.into_json());
                }
            }
            RecordPayload::None | RecordPayload::Error(_) => {}
        }
    }

    /// Builds the event: a fresh UUIDv7 event id from the record's
    /// timestamp, the payload converted, a captured stack resolved into frames.
    /// Not sanitized: the pipeline does that next.
    pub fn into_event(self) -> Event {
        let is_error = self.event_type == EventType::ErrorOccurred;
        let processor = self.processor;
        // Only untyped payloads can miss the schema; an `ErrorRecord`
        // follows it by construction. Any other payload goes to the
        // sanitizer as it is, which cuts depth itself.
        let untyped = |mut payload: Payload| {
            if !is_error {
                return payload;
            }
            // Before anything that recurses (the schema check, the message
            // text, serde_json's own drop).
            for value in payload.values_mut() {
                raw::cap_depth(value, 1);
            }
            conform_error(payload, processor)
        };
        let payload = match self.payload {
            RecordPayload::None if is_error => conform_error(Payload::new(), self.processor),
            RecordPayload::None => Payload::new(),
            RecordPayload::Json(value) => untyped(match value {
                serde_json::Value::Object(map) => map,
                serde_json::Value::Null => Payload::new(),
                other => Payload::from_iter([("value".to_owned(), other)]),
            }),
            RecordPayload::Fields(fields) => untyped(
                fields
                    .into_iter()
                    .map(|(key, value)| (key.to_owned(), value.into_json()))
                    .collect(),
            ),
            RecordPayload::Error(error) => {
                let ErrorRecord {
                    mut error,
                    stack,
                    fields,
                } = *error;
                if let Some(stack) = stack.filter(|s| !s.is_empty()) {
                    let (frames, omitted) = stack.resolve();
                    error.stack_frames = frames;
                    error.stack_frames_omitted = omitted;
                }
                let mut payload = error.to_payload();
                for (key, value) in fields {
                    payload.entry(key).or_insert_with(|| value.into_json());
                }
                payload
            }
        };
        Event {
            event_id: crate::model::ids::uuid_v7(self.timestamp),
            event_type: self.event_type,
            timestamp: self.timestamp,
            correlation_id: self.context.correlation_id,
            span_id: self.context.span_id,
            parent_span_id: self.context.parent_span_id,
            processor: self.processor.map(Into::into),
            duration_us: self.duration_us,
            outcome: self.outcome,
            payload,
            service_name: None,
        }
    }
}

/// An `error_occurred` payload that does not follow [`ErrorPayload`]
/// (possible only through the untyped [`emit_event`] and [`Record::json`];
/// `emit!` accepts nothing but an `ErrorPayload`) becomes one that does,
/// with the original payload's JSON text as its message (at most
/// [`MAX_UNSTRUCTURED_MESSAGE_BYTES`], cut between strings, never inside
/// one), so every `error_occurred` event that leaves the process conforms
/// to the schema. `payload` must be depth-capped.
fn conform_error(payload: Payload, processor: Option<&str>) -> Payload {
    use serde::Deserialize;
    let value = serde_json::Value::Object(payload);
    if ErrorPayload::deserialize(&value).is_ok()
        && let serde_json::Value::Object(payload) = value
    {
        return payload;
    }
    let message = raw::json_prefix(&value, MAX_UNSTRUCTURED_MESSAGE_BYTES);
    raw::discard(value);
    ErrorPayload::new("unstructured", message, processor.unwrap_or("")).to_payload()
}

/// Most bytes of a non-conforming `error_occurred` payload's text kept as
/// its `error_message`. The sanitizer cuts the message to
/// [`MAX_ERROR_MESSAGE_CHARS`](crate::model::error_payload::MAX_ERROR_MESSAGE_CHARS)
/// after scrubbing it; the room beyond that is for redactions, which
/// shorten the text.
const MAX_UNSTRUCTURED_MESSAGE_BYTES: usize = crate::model::error_payload::MAX_PAYLOAD_BYTES;

/// Whether a pipeline is installed: one atomic load. Call sites may use it
/// to skip building a payload nobody will receive.
///
/// The first time it answers `false` in a process that never installed a
/// pipeline, it writes one line to standard error saying that events are
/// not recorded and how to install the pipeline (see
/// [`silence_not_installed_notice`](super::silence_not_installed_notice)).
#[inline]
pub fn enabled() -> bool {
    if super::installed().is_some() {
        return true;
    }
    super::notice::not_installed();
    false
}

/// Hands a record to the installed pipeline; does nothing (one atomic load)
/// when none is installed. Never blocks: when the queue is full the record
/// is dropped and counted in [`Stats::dropped`](super::Stats::dropped).
#[inline]
pub fn submit(record: Record) {
    if let Some(shared) = super::installed() {
        shared.push(record);
    }
}

/// [`submit`] for a record without a payload (the caller knows): skips the
/// byte budget's check. For spans' started and plain terminal events.
#[inline]
pub(crate) fn submit_bare(record: Record) {
    if let Some(shared) = super::installed() {
        shared.push_bare(record);
    }
}

/// Emits an event of `event_type` with `payload` in the current context: in
/// the current span if there is one, as the root of a new request otherwise.
///
/// ```
/// use observe::EventType;
///
/// observe::emit_event(
///     EventType::MessageReceived,
///     serde_json::json!({ "channel": "web" }),
/// );
/// ```
#[inline]
pub fn emit_event(event_type: impl Into<EventType>, payload: serde_json::Value) {
    if enabled() {
        let context = crate::model::context::current().unwrap_or_else(CorrelationContext::new_root);
        submit(Record::new(event_type.into(), context).json(payload));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_occurred_payloads_always_conform_to_the_schema() {
        let ctx = CorrelationContext::new_root();
        let loose = Record::new(EventType::ErrorOccurred, ctx)
            .processor("llm")
            .json(serde_json::json!({ "why": "quota" }))
            .into_event();
        let error: ErrorPayload =
            serde_json::from_value(serde_json::Value::Object(loose.payload)).unwrap();
        assert_eq!(error.error_type, "unstructured");
        assert_eq!(error.error_message, r#"{"why":"quota"}"#);
        assert_eq!(error.processor, "llm");
        let mut structured = ErrorPayload::new("Timeout", "no answer", "llm").to_payload();
        structured.insert("extra".into(), 1.into());
        let kept = Record::new(EventType::ErrorOccurred, ctx)
            .json(serde_json::Value::Object(structured.clone()))
            .into_event();
        assert_eq!(
            kept.payload, structured,
            "a conforming payload keeps its extra fields"
        );
    }

    #[test]
    fn json_payloads_become_objects() {
        let ctx = CorrelationContext::new_root();
        let event = Record::new(EventType::MessageReceived, ctx)
            .json(serde_json::json!(7))
            .into_event();
        assert_eq!(event.payload["value"], 7);
        assert_eq!(event.context(), ctx);
        assert_eq!(event.event_id.get_version_num(), 7);
        let event = Record::new(EventType::MessageReceived, ctx)
            .json(serde_json::Value::Null)
            .into_event();
        assert!(event.payload.is_empty());
    }

    #[test]
    fn stacks_are_resolved_into_at_most_ten_frames() {
        #[inline(never)]
        fn deep(n: u32) -> CapturedStack {
            if n == 0 {
                CapturedStack::capture()
            } else {
                std::hint::black_box(deep(n - 1))
            }
        }
        let ctx = CorrelationContext::new_root();
        let error = ErrorPayload::new("Boom", "it broke", "retrieval");
        let event = Record::new(EventType::ErrorOccurred, ctx)
            .processor("retrieval")
            .outcome(Outcome::Error, 5)
            .error(error, Some(deep(20)))
            .into_event();
        let frames = event.payload["stack_frames"].as_array().unwrap();
        assert_eq!(
            frames.len(),
            crate::model::error_payload::MAX_STACK_FRAMES,
            "{frames:?}"
        );
        assert!(event.payload["stack_frames_omitted"].as_u64().unwrap() > 0);
        assert!(frames[0].as_str().unwrap().contains("deep"), "{frames:?}");
        assert_eq!(event.payload["error_type"], "Boom");
        assert_eq!(event.outcome, Some(Outcome::Error));
    }
}
