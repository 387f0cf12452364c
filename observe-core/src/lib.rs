//! Runtime of `observe`: the event model (schema version 1), the event type
//! registry, the correlation context that links events into one chain per
//! request, the sanitizer, the delivery pipeline and its sinks, and the
//! runtime behind the `#[observed]` and `emit!` macros; with the `http`
//! feature, the HTTP correlation middleware ([`http`]).
//!
//! Applications use this crate through the `observe` facade, which re-exports
//! everything public here together with the macros.
#![deny(missing_docs)]
#![forbid(unsafe_op_in_unsafe_fn)]

pub mod breaker;
pub mod context;
pub mod emit;
pub mod error_payload;
pub mod event;
pub mod event_type;
#[cfg(feature = "http")]
pub mod http;
pub mod ids;
mod isolate;
pub mod observed;
pub mod pipeline;
pub mod reader;
pub mod registry;
pub mod sanitize;
pub mod sink;
pub mod stack;
pub mod timestamp;
pub mod traceparent;

pub use context::{CorrelationContext, FutureExt, WithContext, spawn};
pub use error_payload::ErrorPayload;
pub use event::{Event, Outcome, Payload, SCHEMA_VERSION};
pub use event_type::{CustomEventType, EventType, UnknownEventType};
pub use ids::SpanId;
pub use sanitize::{SanitizeReport, Sanitizer, SanitizerBuilder, SanitizerError};
pub use timestamp::Timestamp;
pub use traceparent::{TraceParent, TraceParentError};
