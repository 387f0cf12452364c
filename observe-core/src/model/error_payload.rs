//! The structured payload of `error_occurred` events, and the limits the
//! specification puts on it.

use serde::{Deserialize, Serialize};

/// Most characters of an error message that are kept.
pub const MAX_ERROR_MESSAGE_CHARS: usize = 500;
/// Most stack frames that are kept.
pub const MAX_STACK_FRAMES: usize = 10;
/// Most characters of an input preview that are kept.
pub const MAX_INPUT_PREVIEW_CHARS: usize = 100;
/// Most bytes an event payload may take, serialized as JSON (10 KiB).
pub const MAX_PAYLOAD_BYTES: usize = 10 * 1024;

/// Payload of an [`EventType::ErrorOccurred`](crate::EventType::ErrorOccurred)
/// event.
///
/// The limits ([`MAX_ERROR_MESSAGE_CHARS`], [`MAX_STACK_FRAMES`],
/// [`MAX_INPUT_PREVIEW_CHARS`]) are enforced by the sanitizer after secrets
/// are removed, never before, so no half of a secret survives at a cut.
///
/// ```
/// use observe::ErrorPayload;
///
/// let payload = ErrorPayload::new("TimeoutError", "upstream timed out", "retrieval");
/// let json = serde_json::to_value(&payload).unwrap();
/// assert_eq!(json["error_type"], "TimeoutError");
/// assert_eq!(json["stack_frames"], serde_json::json!([]));
/// assert_eq!(json["input_preview"], "", "a string, empty unless asked for");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorPayload {
    /// Type name of the error (for a panic: `panic`).
    pub error_type: String,
    /// The error's message, at most [`MAX_ERROR_MESSAGE_CHARS`] characters.
    pub error_message: String,
    /// Innermost-first stack frames, at most [`MAX_STACK_FRAMES`].
    pub stack_frames: Vec<String>,
    /// How many frames were cut off beyond [`MAX_STACK_FRAMES`].
    #[serde(default)]
    pub stack_frames_omitted: usize,
    /// The processor in which the error happened.
    pub processor: String,
    /// A sanitized preview of the input, at most [`MAX_INPUT_PREVIEW_CHARS`]
    /// characters; empty unless the call site asked for a preview
    /// (`#[observed(input = ...)]`), since nothing is taken from arguments
    /// unless asked. Always a string, as the specification's schema says;
    /// a `null` written by an earlier version reads as empty.
    #[serde(default, deserialize_with = "string_or_null")]
    pub input_preview: String,
}

/// A string, with `null` read as the empty string.
fn string_or_null<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.unwrap_or_default())
}

impl ErrorPayload {
    /// An error payload with no stack frames and no input preview.
    pub fn new(
        error_type: impl Into<String>,
        error_message: impl Into<String>,
        processor: impl Into<String>,
    ) -> ErrorPayload {
        ErrorPayload {
            error_type: error_type.into(),
            error_message: error_message.into(),
            processor: processor.into(),
            ..ErrorPayload::default()
        }
    }

    /// This payload as a JSON object, ready to be an event's payload.
    pub fn to_payload(&self) -> crate::Payload {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(map)) => map,
            // A struct of strings always serializes to an object.
            _ => crate::Payload::new(),
        }
    }
}
