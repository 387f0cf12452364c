//! Runtime of `observe`, in four layers, each depending only on the ones
//! above it:
//!
//! - [`model`]: the event model, schema version 1 (the event, its type and
//!   the registries, ids, timestamps, the error payload and its stack, the
//!   correlation context and `traceparent`). Data only.
//! - [`delivery`]: the bounded queue and worker ([`delivery::pipeline`]),
//!   the sanitizer, the circuit breaker and the sinks.
//! - [`runtime`]: what the code of `#[observed]` and `emit!` calls on the
//!   caller's thread, around the one span lifecycle ([`runtime::span`]).
//! - [`read`]: reading events back under the schema's compatibility rules
//!   (depends on the model only).
//!
//! With the `http` feature, [`http`] is the HTTP correlation middleware;
//! with the `tracing` feature, [`tracing_layer`] is the bridge from
//! `tracing`: two integrations built on the span lifecycle.
//!
//! Applications use this crate through the `observe` facade, which
//! re-exports what they need together with the macros; the most used
//! types are re-exported at this crate's root too.
#![deny(missing_docs)]
#![forbid(unsafe_op_in_unsafe_fn)]

pub mod delivery;
#[cfg(feature = "http")]
pub mod http;
pub mod model;
pub mod read;
pub mod runtime;
#[cfg(feature = "tracing")]
pub mod tracing_layer;

pub use delivery::sanitize::{SanitizeReport, Sanitizer, SanitizerBuilder, SanitizerError};
pub use model::context::{CorrelationContext, FutureExt, WithContext, spawn};
pub use model::error_payload::ErrorPayload;
pub use model::event::{Event, Outcome, Payload, SCHEMA_VERSION};
pub use model::event_type::{CustomEventType, EventType, UnknownEventType};
pub use model::ids::SpanId;
pub use model::timestamp::Timestamp;
pub use model::traceparent::{TraceParent, TraceParentError};
