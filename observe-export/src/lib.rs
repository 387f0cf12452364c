//! Exporters for `observe`: [`OtlpSink`] (OTLP/HTTP, protobuf or JSON;
//! feature `otlp`) and [`ZipkinSink`] (Zipkin v2 JSON; feature `zipkin`),
//! both [`Sink`](observe_core::delivery::sink::Sink)s, so they sit in the
//! pipeline next to a store, each with its own breaker, write timeout and
//! accounting (see `Config::add_sink`).
//!
//! Each exporter is a pure mapping ([`mapping`]: event -> span, the same
//! for both formats), an encoder per format, and a thin shared transport
//! (blocking `ureq` on the sink's own writer thread, rustls for HTTPS,
//! retries within the write timeout). No OpenTelemetry SDK pipeline: the
//! pipeline's queue, batching and breaker do that job; OTLP messages are
//! the `opentelemetry-proto` crate's generated types.
//!
//! ```no_run
//! use observe::{Config, SinkOptions};
//! use observe::sink::JsonlSink;
//! use observe::export::OtlpSink;
//!
//! let guard = observe::init(
//!     Config::default()
//!         .sink(JsonlSink::open("events.jsonl")?)
//!         // The store has every event: the exporter needs no fallback.
//!         .add_sink_with(OtlpSink::from_env()?, SinkOptions::new().fallback(false)),
//! )?;
//! # drop(guard);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The mapping
//!
//! | event | span |
//! |---|---|
//! | a terminal event (`*_complete`, `intent_classified`, `error_occurred` with an outcome, `response_sent`) | one span |
//! | trace id | the `correlation_id`'s 16 bytes |
//! | span id, parent span id | the event's `span_id`, `parent_span_id` |
//! | name | the `processor`; for the HTTP request span (`response_sent` without processor) `METHOD route` from its payload, `METHOD` without a route, `request` without either (a hand-emitted `response_sent`); otherwise the event type |
//! | start, end | `timestamp - duration_us`, `timestamp` (no duration: zero length) |
//! | kind | `SERVER` for the request span, `INTERNAL` otherwise (Zipkin: `SERVER`, or no kind) |
//! | status | `ERROR` with the error's message for outcomes `error` and `panic` (for a 5xx response `HTTP status 503`); unset for `ok` and `cancelled` (Zipkin: an `error` tag) |
//! | `exception` span event | on `error_occurred`: `exception.type`, `exception.message`, `exception.stacktrace` (the frames, one per line) from the `ErrorPayload` |
//! | attributes | `observe.event_type`, `observe.event_id`, `observe.outcome` (every outcome, `cancelled` included; `observe.processor` on point spans, whose name is the event type), then the sanitized payload's scalar fields under their own names (objects, arrays and nulls left out; Zipkin tags: all as strings) |
//! | any other event (`*_started`, `message_received`, ...) | a span event (Zipkin: annotation) named by its type on its span, with its scalar fields, when that span's terminal event is in the same batch; otherwise a zero-length child span of its span (`observe.point_event = true`, id from the event id's random bits), so nothing is silently dropped |
//! | resource | `service.name` from the event's `service_name` (the pipeline's `Config::service_name`; one resource per service in a batch); for an event with none (read from a store written before the field), from the sink (`OTEL_SERVICE_NAME`, else `service.name` in `OTEL_RESOURCE_ATTRIBUTES`, else the executable's name); plus `OTEL_RESOURCE_ATTRIBUTES` (Zipkin: `localEndpoint.serviceName`) |
#![deny(missing_docs)]

#[cfg(any(feature = "otlp", feature = "zipkin"))]
mod env;
pub mod mapping;
#[cfg(feature = "otlp")]
pub mod otlp;
#[cfg(any(feature = "otlp", feature = "zipkin"))]
mod transport;
#[cfg(feature = "zipkin")]
pub mod zipkin;

#[cfg(feature = "otlp")]
pub use otlp::{OtlpProtocol, OtlpSink};
#[cfg(feature = "zipkin")]
pub use zipkin::ZipkinSink;

/// Why an exporter could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The endpoint is not an http:// or https:// URL with a host.
    #[error("observe-export: endpoint `{url}` is not usable: {reason}")]
    Endpoint {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A header name or value is not valid HTTP.
    #[error("observe-export: header `{name}` is not valid: {reason}")]
    Header {
        /// The header's name.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An environment variable has a value that cannot be used.
    #[error("observe-export: {name}: {reason}")]
    Environment {
        /// The variable.
        name: String,
        /// What is wrong with its value.
        reason: String,
    },
}
