//! Reading events back as a consumer, under the schema's compatibility
//! rules: unknown fields ignored, unknown event types skipped and counted,
//! a newer schema version refused clearly; and the chain model that turns
//! one request's events into a tree of spans.

pub mod chain;
pub mod reader;
