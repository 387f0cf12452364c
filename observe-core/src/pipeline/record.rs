//! The hot path: what a call site captures ([`Record`]) and how it hands it
//! to the pipeline ([`submit`]).
//!
//! A record holds only what cannot be computed later: the event type, the
//! processor, the correlation context, a timestamp, the outcome and duration
//! of terminal events, and the raw payload. Event ids, formatting,
//! backtrace symbolization, sanitizing and serializing all happen on the
//! worker thread.
//!
//! [`submit`] costs one atomic load when no pipeline is installed. With a
//! pipeline it is one non-blocking push onto a bounded lock-free queue; when
//! the queue is full the record is dropped and counted. It never blocks,
//! never panics and returns nothing the caller could fail on.
//!
//! ```
//! use observe_core::{CorrelationContext, EventType, Outcome};
//! use observe_core::pipeline::{Record, enabled, submit};
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

use std::backtrace::{Backtrace, BacktraceStatus};

use crate::error_payload::MAX_STACK_FRAMES;
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
}

/// An error as captured: the unsanitized payload and, optionally, a
/// backtrace that the worker resolves into `stack_frames` (at most
/// [`MAX_STACK_FRAMES`], the rest counted in `stack_frames_omitted`).
#[derive(Debug)]
pub struct ErrorRecord {
    /// The error payload; sanitized and cut to its limits on the worker.
    pub error: ErrorPayload,
    /// A backtrace taken where the error was observed. Its symbols are
    /// resolved on the worker, never on the caller's thread.
    pub backtrace: Option<Backtrace>,
}

impl Record {
    /// A record of `event_type` in `context`, stamped now, with no processor,
    /// outcome or payload.
    #[inline]
    pub fn new(event_type: EventType, context: CorrelationContext) -> Record {
        Record {
            event_type,
            processor: None,
            context,
            timestamp: Timestamp::now(),
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

    /// Sets an error payload and an optional backtrace.
    #[inline]
    pub fn error(mut self, error: ErrorPayload, backtrace: Option<Backtrace>) -> Record {
        self.payload = RecordPayload::Error(Box::new(ErrorRecord { error, backtrace }));
        self
    }

    /// Overrides the timestamp.
    #[inline]
    pub fn at(mut self, timestamp: Timestamp) -> Record {
        self.timestamp = timestamp;
        self
    }

    /// Builds the event: a fresh UUIDv7 event id from the record's
    /// timestamp, the payload converted, a backtrace resolved into frames.
    /// Not sanitized: the pipeline does that next.
    pub fn into_event(self) -> Event {
        let payload = match self.payload {
            RecordPayload::None => Payload::new(),
            RecordPayload::Json(value) => match value {
                serde_json::Value::Object(map) => map,
                serde_json::Value::Null => Payload::new(),
                other => Payload::from_iter([("value".to_owned(), other)]),
            },
            RecordPayload::Error(error) => {
                let ErrorRecord {
                    mut error,
                    backtrace,
                } = *error;
                if let Some(backtrace) =
                    backtrace.filter(|b| b.status() == BacktraceStatus::Captured)
                {
                    let (frames, omitted) = frames(&backtrace);
                    error.stack_frames = frames;
                    error.stack_frames_omitted = omitted;
                }
                error.to_payload()
            }
        };
        Event {
            event_id: crate::ids::uuid_v7(self.timestamp),
            event_type: self.event_type,
            timestamp: self.timestamp,
            correlation_id: self.context.correlation_id,
            span_id: self.context.span_id,
            parent_span_id: self.context.parent_span_id,
            processor: self.processor.map(Into::into),
            duration_us: self.duration_us,
            outcome: self.outcome,
            payload,
        }
    }
}

/// Resolves a captured backtrace into innermost-first frames written as
/// `function (file:line)`, skipping the backtrace machinery itself; keeps at
/// most [`MAX_STACK_FRAMES`] and counts the rest.
fn frames(backtrace: &Backtrace) -> (Vec<String>, usize) {
    let text = backtrace.to_string();
    let mut frames: Vec<String> = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        if let Some(location) = trimmed.strip_prefix("at ") {
            if let Some(last) = frames.last_mut() {
                last.push_str(" (");
                last.push_str(location);
                last.push(')');
            }
        } else if let Some((index, symbol)) = trimmed.split_once(": ")
            && index.bytes().all(|b| b.is_ascii_digit())
        {
            frames.push(symbol.to_owned());
        }
    }
    let machinery = |f: &String| {
        f.starts_with("std::backtrace")
            || f.starts_with("<std::backtrace")
            || f.starts_with("std::backtrace_rs")
    };
    let skip = frames.iter().take_while(|f| machinery(f)).count();
    let mut frames: Vec<String> = frames.into_iter().skip(skip).collect();
    let omitted = frames.len().saturating_sub(MAX_STACK_FRAMES);
    frames.truncate(MAX_STACK_FRAMES);
    (frames, omitted)
}

/// Whether a pipeline is installed: one atomic load. Call sites may use it
/// to skip building a payload nobody will receive.
#[inline]
pub fn enabled() -> bool {
    super::installed().is_some()
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

/// Emits an event of `event_type` with `payload` in the current context: in
/// the current span if there is one, as the root of a new request otherwise.
///
/// ```
/// use observe_core::EventType;
///
/// observe_core::pipeline::emit_event(
///     EventType::MessageReceived,
///     serde_json::json!({ "channel": "web" }),
/// );
/// ```
#[inline]
pub fn emit_event(event_type: impl Into<EventType>, payload: serde_json::Value) {
    if let Some(shared) = super::installed() {
        let context = crate::context::current().unwrap_or_else(CorrelationContext::new_root);
        shared.push(Record::new(event_type.into(), context).json(payload));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn backtraces_are_resolved_into_at_most_ten_frames() {
        fn deep(n: u32) -> Backtrace {
            if n == 0 {
                Backtrace::force_capture()
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
        assert!(
            !frames.is_empty() && frames.len() <= MAX_STACK_FRAMES,
            "{frames:?}"
        );
        assert!(
            !frames[0].as_str().unwrap().starts_with("std::backtrace"),
            "{frames:?}"
        );
        assert_eq!(event.payload["error_type"], "Boom");
        assert_eq!(event.outcome, Some(Outcome::Error));
    }
}
