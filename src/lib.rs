//! `observe`: instrumentation for request pipelines.
//!
//! Every event is linked into its request's correlation chain, carries the
//! schema version, and (with the pipeline, coming in later releases) is
//! scrubbed of secrets and delivered fire-and-forget.
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
#![deny(missing_docs)]

pub use observe_core::{
    CorrelationContext, ErrorPayload, Event, EventType, FutureExt, Outcome, Payload,
    SCHEMA_VERSION, SpanId, Timestamp, TraceParent, TraceParentError, UnknownEventType,
    WithContext, context, error_payload, reader, spawn,
};
pub use observe_core::{SanitizeReport, Sanitizer, SanitizerBuilder, SanitizerError, sanitize};

/// Implementation details used by the code the macros generate. Not part of
/// the public API: anything here may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use observe_core;
}

/// The README's examples, compiled and run as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
