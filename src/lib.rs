//! `observe`: instrumentation for request pipelines.
//!
//! Every event is linked into its request's correlation chain, carries the
//! schema version, and, once [`init`] has installed the pipeline, is
//! scrubbed of secrets and delivered fire-and-forget (see
//! [`observe_core::pipeline`] for the guarantees).
//!
//! This crate is the one applications depend on: it re-exports the runtime
//! (`observe-core`) and the macros (`observe-macros`).
//!
//! ```
//! use observe::{CorrelationContext, Event, EventType};
//!
//! let request = CorrelationContext::new_root();
//! let event = Event::new(EventType::MessageReceived, &request)
//!     .with_payload(serde_json::json!({ "channel": "web" }));
//! assert_eq!(event.schema_version(), observe::SCHEMA_VERSION);
//! ```
//!
//! Installing the delivery pipeline (at-most-once, fire-and-forget; a full
//! queue drops and counts, a failing sink trips the circuit breaker and
//! batches go to standard error):
//!
//! ```
//! use std::time::Duration;
//! use observe::sink::MemorySink;
//! use observe::{Config, EventType, FlushOutcome};
//!
//! let sink = MemorySink::new();
//! let guard = observe::init(Config::default().sink(sink.clone()).service_name("chat"))?;
//! observe::emit_event(EventType::MessageReceived, serde_json::json!({ "channel": "web" }));
//! assert_eq!(observe::flush(Duration::from_secs(5)), FlushOutcome::Flushed);
//! let stats = observe::stats();
//! assert_eq!((stats.emitted, stats.written), (1, 1));
//! drop(guard); // flushes within the shutdown timeout
//! # Ok::<(), observe::InitError>(())
//! ```
#![deny(missing_docs)]

pub use observe_core::pipeline::{
    Config, FlushOutcome, Guard, InitError, Record, RecordPayload, Stats, emit_event, flush, stats,
};

/// Installs the global pipeline; emitting does nothing until this is
/// called. Also installs, once per process, the panic hook that gives a
/// panicking span's `error_occurred` event the panic's location and stack
/// (the hook that was set before still runs).
///
/// Returns [`InitError::AlreadyInstalled`] while another pipeline is
/// installed; once its [`Guard`] is dropped (which flushes and stops the
/// worker), `init` may be called again.
///
/// ```
/// let guard = observe::init(observe::Config::default().sink(observe::sink::NullSink))?;
/// assert!(matches!(
///     observe::init(observe::Config::default()),
///     Err(observe::InitError::AlreadyInstalled)
/// ));
/// drop(guard);
/// # Ok::<(), observe::InitError>(())
/// ```
pub fn init(config: Config) -> Result<Guard, InitError> {
    // The composition root: the delivery pipeline does not know about spans.
    observe_core::observed::install_panic_hook();
    observe_core::pipeline::init(config)
}
pub use observe_core::{
    CorrelationContext, CustomEventType, ErrorPayload, Event, EventType, FutureExt, Outcome,
    Payload, SCHEMA_VERSION, SpanId, Timestamp, TraceParent, TraceParentError, UnknownEventType,
    WithContext, breaker, context, error_payload, reader, registry, sanitize, sink, spawn, stack,
};
pub use observe_core::{SanitizeReport, Sanitizer, SanitizerBuilder, SanitizerError};

/// HTTP correlation middleware: a `tower` layer (for axum and other
/// tower-based servers) that runs each request in its own correlation
/// context and emits `message_received` and `response_sent`. Needs the
/// `http` feature.
#[cfg(feature = "http")]
pub use observe_core::http;

#[doc = include_str!("docs/observed.md")]
#[doc(inline)]
pub use observe_macros::observed;

#[doc = include_str!("docs/emit.md")]
#[doc(inline)]
pub use observe_macros::emit;

/// Implementation details used by the code the macros generate. Not part of
/// the public API: anything here may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use observe_core;
    pub use observe_core::emit::{PayloadBuilder, error_payload, to_payload};
    pub use observe_core::observed::{
        CallSite, DebugMessage, DebugPreview, DisplayMessage, DisplayPreview, ErrTerminal,
        OkTerminal, PreviewProbe, Probe, observe_async, observe_sync,
    };
    pub use observe_core::pipeline::{
        ErrorRecord, Record, RecordPayload, emit_event, enabled, submit,
    };
    pub use serde_json;
}

/// The README's examples, compiled and run as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
