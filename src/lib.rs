//! `observe`: instrumentation for request pipelines.
//!
//! Every event is linked into its request's correlation chain, carries the
//! schema version and its service, and, once [`init`] has installed the
//! pipeline, is scrubbed of secrets and delivered fire-and-forget.
//!
//! # What the pipeline promises
//!
//! - Emitting never blocks and never fails the caller: a full queue (or one
//!   over its byte budget) drops the event and counts it ([`stats`]).
//! - Each event reaches the sink at most once; every emitted event is
//!   written, sent to the fallback (standard error by default) or counted
//!   as dropped, and drops are also reported in-band (an `error_occurred`
//!   event of type `observe.events_dropped`).
//! - A failing, slow or panicking sink trips a circuit breaker
//!   ([`breaker`]) and never slows requests; with several sinks
//!   ([`Config::add_sink`]) one cannot delay another.
//! - [`flush`] and dropping the [`Guard`] return within their timeouts,
//!   even with a sink that hangs.
//!
//! The full account, with the reasons, is the documentation of
//! [`observe_core::delivery::pipeline`], the module this crate re-exports
//! [`Config`], [`init`] and [`flush`] from.
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
    Config, EnvError, FlushOutcome, Guard, InitError, NOTICE_ENV, SinkOptions, SinkStats, Stats,
    emit_event, flush, silence_not_installed_notice, stats,
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
///
/// A configured store ([`Config::store`], or `OBSERVE_STORE` through
/// [`Config::from_env`]) is opened here as the primary sink; one that
/// cannot be opened is an [`InitError::Store`] and nothing is installed.
/// With [`Config::enabled`]`(false)` (`OBSERVE_DISABLED=1`) nothing is
/// opened or installed and the returned guard does nothing.
///
/// ```
/// let dir = std::env::temp_dir().join(format!("observe-doc-init-{}", std::process::id()));
/// let url = format!("sqlite://{}", dir.join("events.db").display());
/// let guard = observe::init(observe::Config::default().store(&url))?;
/// drop(guard);
/// assert!(dir.join("events.db").exists());
/// let bad = observe::init(observe::Config::default().store("mysql://db/events"));
/// assert!(bad.unwrap_err().to_string().contains("cannot open the event store"));
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), observe::InitError>(())
/// ```
pub fn init(mut config: Config) -> Result<Guard, InitError> {
    // The composition root: the delivery pipeline does not know about spans
    // or stores.
    observe_core::runtime::span::install_panic_hook();
    if config.is_enabled()
        && let Some(url) = config.take_store()
    {
        config = config.sink(open_store(&url)?);
    }
    observe_core::delivery::pipeline::init(config)
}

/// The sink of the store named by `url`.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn open_store(url: &str) -> Result<observe_store::StoreSink, InitError> {
    let parsed = url
        .parse::<observe_store::StoreUrl>()
        .map_err(|e| InitError::Store {
            url: observe_store::StoreUrl::redact(url),
            reason: e.to_string(),
        })?;
    observe_store::StoreSink::open(&parsed).map_err(|e| InitError::Store {
        url: parsed.to_string(),
        reason: e.to_string(),
    })
}

/// The sink of the store named by `url`: without a store feature, only a
/// JSONL file.
#[cfg(not(any(feature = "sqlite", feature = "postgres")))]
fn open_store(url: &str) -> Result<sink::JsonlSink, InitError> {
    let error = |reason: String| InitError::Store {
        url: url.to_owned(),
        reason,
    };
    if url.contains("://") || !url.ends_with(".jsonl") {
        return Err(error(
            "this build of observe has no store feature: enable `sqlite` or `postgres`, or name a .jsonl file".to_owned(),
        ));
    }
    sink::JsonlSink::open(url).map_err(|e| error(e.to_string()))
}
pub use observe_core::{
    CorrelationContext, CustomEventType, ErrorPayload, Event, EventType, FutureExt, Outcome,
    Payload, SCHEMA_VERSION, SpanId, Timestamp, TraceParent, TraceParentError, UnknownEventType,
    WithContext, spawn,
};
pub use observe_core::{SanitizeReport, Sanitizer, SanitizerBuilder, SanitizerError};

/// The span the calling code runs in, to put values on its terminal event
/// (`observe::current_span().record("intent", &intent)`): the way to put a
/// result on the span that `tracing` users know as `Span::current().record`.
/// `#[observed(ret)]` records the returned value (the `Ok` value of a
/// `Result`) as `return` the same way. Recorded values are sanitized and
/// size-limited like every payload; nothing is recorded unless asked.
///
/// ```
/// # use std::time::Duration;
/// # let sink = observe::sink::MemorySink::new();
/// # let guard = observe::init(observe::Config::default().sink(sink.clone()))?;
/// #[observe::observed(processor = "intent")]
/// fn classify(message: &str) -> &'static str {
///     let intent = if message.contains("order") { "order_status" } else { "question" };
///     observe::current_span().record("intent", intent);
///     intent
/// }
///
/// classify("where is my order?");
/// observe::flush(Duration::from_secs(5));
/// let classified = sink.events().into_iter().find(|e| e.event_type == observe::EventType::IntentClassified).unwrap();
/// assert_eq!(classified.payload["intent"], "order_status");
/// # drop(guard);
/// # Ok::<(), observe::InitError>(())
/// ```
pub use observe_core::runtime::recorded::{CurrentSpan, current_span};

pub use observe_core::delivery::{breaker, sanitize, sink};
pub use observe_core::model::{context, error_payload, registry};
pub use observe_core::read::{chain, reader};
#[doc = include_str!("docs/registry.md")]
#[doc(inline)]
pub use observe_macros::registry;

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
        ErrorRecord, FieldValue, Record, RecordPayload, enabled, submit,
    };
    pub use observe_core::model::stack::CapturedStack;
    pub use observe_core::runtime::emit::to_payload;
    pub use observe_core::runtime::span::{Failures, SpanGuard, SpanKind, Terminal};
}

// The module's own documentation says what it is and that it needs the
// `http` feature: a doc comment here would be merged into it.
#[cfg(feature = "http")]
pub use observe_core::http;

pub mod testing;

// Documented by the module itself (a doc comment here would be merged in).
#[cfg(feature = "tracing")]
pub use observe_core::tracing_layer as tracing;
/// The exporters (features `otlp` and `zipkin`): [`OtlpSink`](export::OtlpSink)
/// and [`ZipkinSink`](export::ZipkinSink), and the event-to-span
/// [`mapping`](export::mapping) they share. Add one next to the store with
/// [`Config::add_sink`].
#[cfg(any(feature = "otlp", feature = "zipkin"))]
pub mod export {
    pub use observe_export::*;
}

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
    pub use observe_core::model::registry::{closest_const, const_str_eq};
    pub use observe_core::runtime::emit::{PayloadBuilder, error_payload, to_payload};
    pub use observe_core::runtime::observed::{
        CallSite, DebugMessage, DebugPreview, DisplayMessage, DisplayPreview, ErrTerminal,
        OkReturn, OkReturnDebug, OkTerminal, PlainReturn, PlainReturnDebug, PreviewProbe, Probe,
        ReturnProbe, observe_async, observe_sync, record_return,
    };
    pub use serde_json;
}

/// The README's examples, compiled and run as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
