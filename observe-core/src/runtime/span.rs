//! One span's lifecycle, for every kind of span (an `#[observed]` call, an
//! HTTP request, and any integration's): the started event, then exactly
//! one terminal event, whatever way the span ends, and no terminal event
//! without its started event.
//!
//! The rules live here and nowhere else:
//! - the started event is emitted only if a pipeline is installed when the
//!   span starts; a span that did not emit it emits no terminal either
//!   (a pipeline installed in the middle of a span gives no lone terminal);
//! - the first ending wins; later ones are ignored;
//! - a panic is seen by catching it ([`SpanGuard::catch`]), never guessed
//!   from `std::thread::panicking`: the span reports the panic's own message
//!   and re-raises the payload unchanged;
//! - a guard dropped before it ended belongs to a span that was cancelled
//!   (its future was dropped): it emits the complete event with outcome
//!   `cancelled`;
//! - a duration is never negative, even when clocks disagree a little.
//!
//! ```
//! use observe::record::{SpanGuard, SpanKind, Terminal};
//! use observe::{CorrelationContext, EventType, Outcome};
//!
//! static LOOKUP: SpanKind = SpanKind::processor_events(
//!     "retrieval",
//!     EventType::RetrievalStarted,
//!     EventType::RetrievalComplete,
//! );
//!
//! let mut span = SpanGuard::start(&LOOKUP, CorrelationContext::child_of_current());
//! let documents = span.catch(|_| 3);
//! span.end(Outcome::Ok, || Terminal::Bare);
//! assert_eq!(documents, 3);
//! ```

mod panic_hook;

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

pub use panic_hook::{PanicReport, install as install_panic_hook};

use crate::delivery::pipeline::{
    ErrorRecord, FieldValue, Record, RecordPayload, enabled, submit, submit_bare,
};
use crate::model::registry::Processor;
use crate::model::stack::CapturedStack;
use crate::runtime::recorded;
use crate::{CorrelationContext, ErrorPayload, EventType, Outcome, Timestamp};

/// What a kind of span emits: its started and complete events, its
/// processor, and where its failures are reported.
#[derive(Clone, Copy, Debug)]
pub struct SpanKind {
    /// The events' `processor` field.
    pub processor: Option<&'static str>,
    /// Emitted when the span starts.
    pub started: EventType,
    /// Emitted when the span ends normally or is cancelled (and on failure,
    /// for [`Failures::OnComplete`]).
    pub complete: EventType,
    /// Where an error or a panic is reported.
    pub failures: Failures,
}

/// Where a span's error or panic is reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failures {
    /// As `error_occurred` with an [`ErrorPayload`] (a processor's call).
    ErrorOccurred,
    /// On the complete event, with outcome `error` or `panic` (an HTTP
    /// request's `response_sent`).
    OnComplete,
}

impl SpanKind {
    /// A processor's span: failures go to `error_occurred`.
    pub const fn processor_events(
        processor: &'static str,
        started: EventType,
        complete: EventType,
    ) -> SpanKind {
        SpanKind {
            processor: Some(processor),
            started,
            complete,
            failures: Failures::ErrorOccurred,
        }
    }

    /// The span of a registered processor's call.
    pub const fn of(processor: &'static Processor) -> SpanKind {
        SpanKind::processor_events(processor.name, processor.started, processor.complete)
    }

    /// An HTTP request: `message_received`, then `response_sent` with the
    /// outcome, failures included.
    pub const REQUEST: SpanKind = SpanKind {
        processor: None,
        started: EventType::MessageReceived,
        complete: EventType::ResponseSent,
        failures: Failures::OnComplete,
    };
}

/// What a terminal event carries besides its outcome and duration.
#[derive(Debug)]
pub enum Terminal {
    /// No payload.
    Bare,
    /// A JSON payload, sanitized on the worker like every payload.
    Json(serde_json::Value),
    /// Named fields, made into the payload object on the worker (see
    /// [`RecordPayload::Fields`]).
    Fields(Vec<(&'static str, FieldValue)>),
    /// An error: `error_type` and `error_message` (the rest of the
    /// [`ErrorPayload`] comes from the span), and where it was seen.
    Error {
        /// The error's type, as consumers should see it.
        error_type: String,
        /// The error's message, not yet sanitized.
        error_message: String,
        /// The stack where it was seen; resolved on the worker.
        stack: Option<CapturedStack>,
        /// Fields beside the error's (values recorded on the span); they
        /// never replace a field of the [`ErrorPayload`].
        fields: Vec<(&'static str, FieldValue)>,
    },
}

/// `terminal` with the fields recorded on its span added (a field of the
/// terminal's own payload wins over a recorded one of the same name).
fn with_recorded(
    terminal: Terminal,
    recorded: Option<Vec<(&'static str, FieldValue)>>,
) -> Terminal {
    let Some(mut recorded) = recorded else {
        return terminal;
    };
    match terminal {
        Terminal::Bare => Terminal::Fields(recorded),
        Terminal::Fields(fields) => {
            recorded.extend(fields);
            Terminal::Fields(recorded)
        }
        Terminal::Json(value) => {
            let mut object = match value {
                serde_json::Value::Object(object) => object,
                serde_json::Value::Null => serde_json::Map::new(),
                other => serde_json::Map::from_iter([("value".to_owned(), other)]),
            };
            for (key, value) in recorded {
                if let FieldValue::Json(value) = value {
                    object.entry(key).or_insert(value);
                }
            }
            Terminal::Json(serde_json::Value::Object(object))
        }
        Terminal::Error {
            error_type,
            error_message,
            stack,
            mut fields,
        } => {
            recorded.append(&mut fields);
            Terminal::Error {
                error_type,
                error_message,
                stack,
                fields: recorded,
            }
        }
    }
}

/// One span in progress. Dropping it unended ends it as cancelled.
#[derive(Debug)]
pub struct SpanGuard {
    kind: &'static SpanKind,
    context: CorrelationContext,
    /// When the span started, if its started event went out.
    started: Option<Timestamp>,
    /// The `input_preview` of its error payloads.
    input: Option<String>,
    done: bool,
}

impl SpanGuard {
    /// Starts a span of `kind` in `context`, now; its started event carries
    /// no payload.
    #[inline]
    pub fn start(kind: &'static SpanKind, context: CorrelationContext) -> SpanGuard {
        let started = enabled().then(|| {
            let now = Timestamp::now();
            submit_bare(started_record(kind, context, now));
            now
        });
        SpanGuard::new(kind, context, started)
    }

    /// Starts a span of `kind` in `context` at `at`, whose started event
    /// carries `payload()` (called only when a pipeline is installed).
    pub fn start_with(
        kind: &'static SpanKind,
        context: CorrelationContext,
        at: Timestamp,
        payload: impl FnOnce() -> RecordPayload,
    ) -> SpanGuard {
        let started = enabled().then(|| {
            let mut record = started_record(kind, context, at);
            record.payload = payload();
            submit(record);
            at
        });
        SpanGuard::new(kind, context, started)
    }

    fn new(
        kind: &'static SpanKind,
        context: CorrelationContext,
        started: Option<Timestamp>,
    ) -> SpanGuard {
        SpanGuard {
            kind,
            context,
            started,
            input: None,
            done: false,
        }
    }

    /// The span's context.
    #[inline]
    pub fn context(&self) -> CorrelationContext {
        self.context
    }

    /// Whether the span's events are being recorded (its started event went
    /// out and it has not ended): only then is it worth capturing anything
    /// for its terminal event.
    #[inline]
    pub fn is_recording(&self) -> bool {
        self.started.is_some() && !self.done
    }

    /// Whether the span has ended.
    #[inline]
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Sets the `input_preview` of the span's error payloads to `preview()`,
    /// which is called only while the span is recording.
    pub fn capture_input(&mut self, preview: impl FnOnce() -> String) {
        if self.is_recording() {
            self.input = Some(preview());
        }
    }

    /// Runs `f` (which may use the guard); if it panics, ends the span with
    /// outcome `panic` (the panic's own message, location and stack) and
    /// re-raises the panic's payload unchanged (`resume_unwind`, so the
    /// panic hook does not run a second time).
    #[inline]
    pub fn catch<R>(&mut self, f: impl FnOnce(&mut SpanGuard) -> R) -> R {
        // Unwind safety: the panic is re-raised right away; only the guard
        // (our own state) is looked at between catching and re-raising.
        match catch_unwind(AssertUnwindSafe(|| f(self))) {
            Ok(value) => value,
            Err(payload) => resume_unwind(self.end_panicked(payload)),
        }
    }

    fn end_panicked(&mut self, payload: Box<dyn Any + Send>) -> Box<dyn Any + Send> {
        if self.is_recording() {
            let panic = panic_hook::report(&*payload);
            let terminal = match self.kind.failures {
                Failures::ErrorOccurred => Terminal::Error {
                    error_type: "panic".to_owned(),
                    error_message: panic.message,
                    stack: panic.stack,
                    fields: Vec::new(),
                },
                Failures::OnComplete => {
                    Terminal::Json(serde_json::Value::Object(Default::default()))
                }
            };
            self.end_at(Outcome::Panic, panic.at, || terminal);
        }
        self.done = true;
        payload
    }

    /// Ends the span now with `outcome`: emits its terminal event, once,
    /// and only if its started event went out and a pipeline is still
    /// installed (the clock is read, and `terminal()` called, only then). A
    /// [`Terminal::Error`] of a span of [`Failures::ErrorOccurred`] becomes
    /// `error_occurred`; everything else is the kind's complete event (with
    /// an error's payload, for [`Failures::OnComplete`]).
    #[inline]
    pub fn end(&mut self, outcome: Outcome, terminal: impl FnOnce() -> Terminal) {
        self.finish(outcome, Timestamp::now, terminal);
    }

    /// [`end`](Self::end), at `at` (a time the caller already read, such as
    /// when an error was seen).
    pub fn end_at(&mut self, outcome: Outcome, at: Timestamp, terminal: impl FnOnce() -> Terminal) {
        self.finish(outcome, || at, terminal);
    }

    #[inline]
    fn finish(
        &mut self,
        outcome: Outcome,
        at: impl FnOnce() -> Timestamp,
        terminal: impl FnOnce() -> Terminal,
    ) {
        let already_done = std::mem::replace(&mut self.done, true);
        if already_done {
            return;
        }
        // Taken whether or not the event goes out, so nothing stays behind.
        let recorded = recorded::take(self.context.span_id);
        let Some(started) = self.started.filter(|_| enabled()) else {
            return;
        };
        // Clocks may disagree by a little; a duration is never negative.
        let at = at();
        let at = if at < started { Timestamp::now() } else { at };
        let kind = self.kind;
        let terminal = with_recorded(terminal(), recorded);
        let error_event =
            kind.failures == Failures::ErrorOccurred && matches!(terminal, Terminal::Error { .. });
        let event_type = if error_event {
            EventType::ErrorOccurred
        } else {
            kind.complete
        };
        let mut record =
            Record::new_at(event_type, self.context, at).outcome(outcome, at.micros_since(started));
        if let Some(processor) = kind.processor {
            record = record.processor(processor);
        }
        match terminal {
            Terminal::Bare => submit_bare(record),
            Terminal::Json(payload) => submit(record.json(payload)),
            Terminal::Fields(fields) => submit(record.fields(fields)),
            Terminal::Error {
                error_type,
                error_message,
                stack,
                fields,
            } => {
                let error = ErrorPayload {
                    error_type,
                    error_message,
                    processor: kind.processor.unwrap_or_default().to_owned(),
                    input_preview: self.input.take().unwrap_or_default(),
                    ..ErrorPayload::default()
                };
                record.payload = RecordPayload::Error(Box::new(ErrorRecord {
                    error,
                    stack,
                    fields,
                }));
                submit(record);
            }
        }
    }
}

impl Drop for SpanGuard {
    fn drop(&mut self) {
        // Panics are caught by `catch`, so a span dropped unended belongs to
        // a future dropped before it finished.
        if !self.done {
            self.end(Outcome::Cancelled, || Terminal::Bare);
        }
    }
}

fn started_record(kind: &SpanKind, context: CorrelationContext, at: Timestamp) -> Record {
    let record = Record::new_at(kind.started, context, at);
    match kind.processor {
        Some(processor) => record.processor(processor),
        None => record,
    }
}
