//! A bridged span's or log event's fields as a JSON payload, bounded on the
//! caller's thread: at most [`MAX_FIELDS`] fields, each text at most
//! [`MAX_TEXT_BYTES`] (cut after a separator, as `emit!` cuts, so no
//! fragment of a token is kept); the worker sanitizes and size-limits the
//! rest, like every payload.

use std::fmt;

use serde_json::Value;
use tracing_core::field::{Field, Visit};

use crate::delivery::pipeline::FieldValue;
use crate::runtime::emit::text;

/// Most fields kept from one span or event.
pub const MAX_FIELDS: usize = 64;

/// Most bytes kept of one field's text (`Debug` or `Display` output).
pub const MAX_TEXT_BYTES: usize = 4 * 1024;

/// Collects fields as a record's named fields (made into an object on the
/// worker); notes the text of a field named `error` apart, since it decides
/// the span's outcome.
#[derive(Debug, Default)]
pub(super) struct Fields {
    pub(super) values: Vec<(&'static str, FieldValue)>,
    /// The text of a field named `error`, if one was recorded.
    pub(super) error: Option<String>,
}

impl Fields {
    fn insert(&mut self, field: &Field, value: Value) {
        if field.name() == "error" {
            self.error = Some(match &value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            });
        }
        if self.values.len() < MAX_FIELDS {
            self.values.push((field.name(), FieldValue::Json(value)));
        }
    }

    /// Takes the field named `name` out, if there is one.
    pub(super) fn take(&mut self, name: &str) -> Option<FieldValue> {
        let at = self.values.iter().position(|(key, _)| *key == name)?;
        Some(self.values.remove(at).1)
    }

    /// The fields, then `target` and `level` of `metadata` (which replace a
    /// field of the same name when the worker makes the object).
    pub(super) fn with_metadata(
        mut self,
        metadata: &'static tracing_core::Metadata<'static>,
    ) -> Vec<(&'static str, FieldValue)> {
        self.values
            .push(("target", FieldValue::Static(metadata.target())));
        self.values
            .push(("level", FieldValue::Static(metadata.level().as_str())));
        self.values
    }
}

impl Visit for Fields {
    fn record_f64(&mut self, field: &Field, value: f64) {
        // NaN and infinities have no JSON number: keep them as text.
        let value = serde_json::Number::from_f64(value)
            .map_or_else(|| Value::String(value.to_string()), Value::Number);
        self.insert(field, value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.insert(field, Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.insert(field, Value::from(value));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        let value =
            i64::try_from(value).map_or_else(|_| Value::String(value.to_string()), Value::from);
        self.insert(field, value);
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        let value =
            u64::try_from(value).map_or_else(|_| Value::String(value.to_string()), Value::from);
        self.insert(field, value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.insert(field, Value::Bool(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.insert(field, Value::String(text::bounded(value, MAX_TEXT_BYTES).0));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        let (message, _) = text::formatted(format_args!("{value}"), MAX_TEXT_BYTES);
        self.insert(field, Value::String(message));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let (message, _) = text::formatted(format_args!("{value:?}"), MAX_TEXT_BYTES);
        self.insert(field, Value::String(message));
    }
}
