//! `observe`: instrumentation for request pipelines.
//!
//! Every event is linked into its request's correlation chain, carries the
//! schema version, and, once [`init`] has installed the pipeline, is
//! scrubbed of secrets and delivered fire-and-forget (see
//! [`observe_core::delivery::pipeline`] for the guarantees).
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

pub use observe_core::delivery::pipeline::{
    Config, FlushOutcome, Guard, InitError, Stats, emit_event, flush, stats,
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
    observe_core::runtime::span::install_panic_hook();
    observe_core::delivery::pipeline::init(config)
}
pub use observe_core::{
    CorrelationContext, CustomEventType, ErrorPayload, Event, EventType, FutureExt, Outcome,
    Payload, SCHEMA_VERSION, SpanId, Timestamp, TraceParent, TraceParentError, UnknownEventType,
    WithContext, spawn,
};
pub use observe_core::{SanitizeReport, Sanitizer, SanitizerBuilder, SanitizerError};

pub use observe_core::delivery::{breaker, sanitize, sink};
pub use observe_core::model::{context, error_payload, registry};
pub use observe_core::read::{chain, reader};

/// Declares an application's own registry; see the [`registry`](mod@registry) module.
pub use observe_core::registry;
/// Event stores: SQLite and PostgreSQL sinks, the schema and its
/// migrations, and the query API ([`EventStore`](store::EventStore)) over
/// SQLite, PostgreSQL and JSONL files, each named by one URL. Needs the
/// `sqlite` (default) or `postgres` feature.
///
/// ```
/// # #[cfg(feature = "sqlite")] {
/// let dir = std::env::temp_dir().join(format!("observe-doc-facade-{}", std::process::id()));
/// let url = observe::store::StoreUrl::sqlite(dir.join("events.db"));
/// let guard = observe::init(observe::Config::default().sink(observe::store::StoreSink::open(&url)?))?;
/// drop(guard);
/// # std::fs::remove_dir_all(&dir)?;
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use observe_store as store;

/// Low-level emission, for integrations that need what `emit!` and
/// `#[observed]` do not offer (a bridge from another instrumentation
/// library, a custom middleware): build a [`Record`](record::Record) and
/// [`submit`](record::submit) it, or run a span with
/// [`SpanGuard`](record::SpanGuard), which keeps the lifecycle rules
/// (started, then exactly one terminal event) that the macros and the HTTP
/// layer follow.
///
/// ```
/// use observe::record::{Record, enabled, submit};
/// use observe::{CorrelationContext, EventType};
///
/// let request = CorrelationContext::new_root();
/// if enabled() {
///     // build payloads only when a pipeline listens
/// }
/// submit(Record::new(EventType::MessageReceived, request).json(serde_json::json!({ "channel": "web" })));
/// ```
pub mod record {
    pub use observe_core::delivery::pipeline::{
        ErrorRecord, Record, RecordPayload, enabled, submit,
    };
    pub use observe_core::runtime::emit::to_payload;
    pub use observe_core::runtime::span::{Failures, SpanGuard, SpanKind, Terminal};
    pub use observe_core::runtime::stack::CapturedStack;
}

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
    pub use observe_core::delivery::pipeline::{emit_event, enabled};
    pub use observe_core::runtime::emit::{PayloadBuilder, error_payload, to_payload};
    pub use observe_core::runtime::observed::{
        CallSite, DebugMessage, DebugPreview, DisplayMessage, DisplayPreview, ErrTerminal,
        OkTerminal, PreviewProbe, Probe, observe_async, observe_sync,
    };
    pub use serde_json;
}

/// The README's examples, compiled and run as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
