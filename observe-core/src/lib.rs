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

pub mod delivery;
#[cfg(feature = "http")]
pub mod http;
pub mod model;
pub mod read;
pub mod runtime;

pub use delivery::sanitize::{SanitizeReport, Sanitizer, SanitizerBuilder, SanitizerError};
pub use model::context::{CorrelationContext, FutureExt, WithContext, spawn};
pub use model::error_payload::ErrorPayload;
pub use model::event::{Event, Outcome, Payload, SCHEMA_VERSION};
pub use model::event_type::{CustomEventType, EventType, UnknownEventType};
pub use model::ids::SpanId;
pub use model::timestamp::Timestamp;
pub use model::traceparent::{TraceParent, TraceParentError};
