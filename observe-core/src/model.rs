//! The event model, schema version 1: what one event is (its fields, its
//! type, its ids and timestamp, the structured error payload), the
//! registries of event types and processors, and the correlation context
//! that links events into one chain per request, in process and across
//! processes (`traceparent`), and the stack an error event carries.
//!
//! Everything here is data: nothing in this layer emits, sends or reads an
//! event, and nothing here depends on the other layers.

pub mod context;
pub mod error_payload;
pub mod event;
pub mod event_type;
pub mod ids;
pub mod registry;
pub mod stack;
pub mod timestamp;
pub mod traceparent;
