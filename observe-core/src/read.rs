//! Reading events back as a consumer, under the schema's compatibility
//! rules: unknown fields ignored, unknown event types skipped and counted,
//! a newer schema version refused clearly.

pub mod reader;
