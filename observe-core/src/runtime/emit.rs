//! The runtime behind `emit!`: turning any `Serialize` value into an event
//! payload on the caller's thread, in bounded work and stack, without ever
//! failing or panicking the caller.
//!
//! Payloads are built by a serializer of their own (not
//! `serde_json::to_value`) that produces the same JSON for ordinary values
//! and enforces, while serializing:
//!
//! - **Depth**: an array or object nested deeper than
//!   [`MAX_DEPTH`](crate::delivery::sanitize::MAX_DEPTH) (the sanitizer's limit, the
//!   payload itself being level 1) is replaced by
//!   [`DEPTH_MARKER`](crate::delivery::sanitize::DEPTH_MARKER), and its contents are
//!   never visited: no value, however deep, can overflow the caller's
//!   stack.
//! - **Strings**: a string or map key longer than [`MAX_STRING_BYTES`] is
//!   cut after its last separator (whitespace or delimiting punctuation)
//!   within the limit, so no fragment of a token remains, and ends with
//!   [`TRUNCATION_MARKER`](crate::delivery::sanitize::TRUNCATION_MARKER). Text with no
//!   separator within the limit is replaced by the marker alone.
//! - **Size**: past [`BUDGET_BYTES`] of estimated serialized size, further
//!   elements and entries are skipped whole and the value's own iteration is
//!   stopped (its `Serialize` impl gets an error to return); what was built
//!   so far is kept. A 10 MB vector costs about as much as 64 KiB of it.
//! - **Map keys**: strings, and numbers, booleans, chars and unit enum
//!   variants as strings (as `serde_json` does); an entry with any other key
//!   is skipped, and its map gets
//!   `"_serialize_error": "<n> entries skipped: key must be a string"`.
//! - **Failures**: a value whose `Serialize` impl returns an error becomes
//!   `{"_serialize_error": "<why>"}`; one that panics becomes
//!   `{"_serialize_panic": "<message>"}` (at most 512 bytes each). The panic
//!   never reaches the caller, but the process's panic hook still runs (so
//!   it is printed, as any caught panic is); with `panic = "abort"` the
//!   process aborts as it would anywhere else. In the object form
//!   (`emit!(T, { "k": v, ... })`) each value is isolated: only its own
//!   entry is replaced.
//!
//! When anything was cut, the payload says so: `"_truncated": true` (the
//! key the worker's size limit sets too) and
//! `"_truncated_at_source": {"depth": <containers cut>, "strings": <strings
//! cut>, "bytes": <whether the budget stopped it>}`. A value that is not an
//! object is then wrapped as `{"value": ...}`, as the pipeline would do.
//! The worker still sanitizes and limits the payload to 10 KiB as usual.
//!
//! ```
//! use observe::record::to_payload;
//! use observe::sanitize::DEPTH_MARKER;
//!
//! // A list nested 100 deep: cut at depth 64.
//! let mut deep = serde_json::json!(1);
//! for _ in 0..100 {
//!     deep = serde_json::json!([deep]);
//! }
//! let payload = to_payload(&deep);
//! assert_eq!(payload["_truncated_at_source"]["depth"], 1);
//! assert!(payload.to_string().contains(DEPTH_MARKER));
//! ```

use serde::Serialize;
use serde_json::Value;

use crate::ErrorPayload;

mod builder;
mod ser;
mod state;
pub(crate) mod text;

#[doc(hidden)]
pub use builder::PayloadBuilder;
pub use state::{BUDGET_BYTES, MAX_STRING_BYTES, TRUNCATED_AT_SOURCE_KEY};

/// The payload for `value`, built within the limits described in the
/// [module documentation](self): exactly `serde_json::to_value(value)` for
/// ordinary values; cut (and marked) when too deep or too large; a value
/// that cannot be serialized (a failing `Serialize` impl) becomes
/// `{"_serialize_error": "<why>"}`, one that panics
/// `{"_serialize_panic": "<message>"}`. Never fails, never panics.
///
/// ```
/// use std::collections::HashMap;
///
/// use observe::record::to_payload;
///
/// assert_eq!(to_payload(&vec![1, 2]), serde_json::json!([1, 2]));
///
/// let long = vec![7u64; 10_000_000];
/// let payload = to_payload(&long);
/// assert_eq!(payload["_truncated"], true);
/// assert_eq!(payload["_truncated_at_source"]["bytes"], true);
/// assert!(payload["value"].as_array().unwrap().len() < 40_000);
///
/// let odd_keys = HashMap::from([(vec![1u8], 1)]);
/// assert_eq!(
///     to_payload(&odd_keys),
///     serde_json::json!({ "_serialize_error": "1 entries skipped: key must be a string" })
/// );
/// ```
pub fn to_payload<T: Serialize + ?Sized>(value: &T) -> Value {
    let mut payload = PayloadBuilder::new();
    payload.value(value);
    payload.finish()
}

/// The payload of an `error_occurred` event emitted with `emit!`: only an
/// [`ErrorPayload`] is accepted, so the event conforms to the schema.
///
/// ```
/// use observe::ErrorPayload;
///
/// let payload = observe_core::runtime::emit::error_payload(&ErrorPayload::new("Timeout", "no answer", "llm"));
/// assert_eq!(payload["error_type"], "Timeout");
/// ```
pub fn error_payload(error: &ErrorPayload) -> Value {
    Value::Object(error.to_payload())
}

#[cfg(test)]
mod tests;
