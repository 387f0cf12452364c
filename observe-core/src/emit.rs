//! The runtime behind `emit!`: turning any `Serialize` value into an event
//! payload without ever failing the caller.

use serde::Serialize;
use serde_json::Value;

use crate::ErrorPayload;

/// The payload for `value`. A value that cannot be serialized (a map with
/// non-string keys, a failing `Serialize` impl) becomes
/// `{"_serialize_error": "<why>"}` instead of an error for the caller.
///
/// ```
/// let payload = observe_core::emit::to_payload(&vec![1, 2]);
/// assert_eq!(payload, serde_json::json!([1, 2]));
/// ```
pub fn to_payload<T: Serialize + ?Sized>(value: &T) -> Value {
    serde_json::to_value(value)
        .unwrap_or_else(|error| serde_json::json!({ "_serialize_error": error.to_string() }))
}

/// The payload of an `error_occurred` event emitted with `emit!`: only an
/// [`ErrorPayload`] is accepted, so the event conforms to the schema.
///
/// ```
/// use observe_core::ErrorPayload;
///
/// let payload = observe_core::emit::error_payload(&ErrorPayload::new("Timeout", "no answer", "llm"));
/// assert_eq!(payload["error_type"], "Timeout");
/// ```
pub fn error_payload(error: &ErrorPayload) -> Value {
    Value::Object(error.to_payload())
}
