//! [`PayloadBuilder`]: what `emit!` builds payloads with, one leaf at a
//! time, each leaf's `Serialize` impl isolated (its failure or panic stays
//! in its place).

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

use serde::Serialize;
use serde_json::Value;

use super::ser::ValueSerializer;
use super::state::{MESSAGE_BYTES, State, Stop};
use super::text;

/// Builds one bounded payload: objects and arrays opened and closed by the
/// caller, leaves serialized with the bounded serializer, one byte budget
/// for the whole payload. This is what `emit!(T, { ... })` expands to; see
/// the [module documentation](super) for the limits.
///
/// ```
/// use observe_core::emit::PayloadBuilder;
///
/// let mut payload = PayloadBuilder::new();
/// payload.object();
/// payload.field("channel", "web");
/// payload.key("usage");
/// payload.object();
/// payload.field("tokens", &512);
/// payload.end();
/// payload.key("tags");
/// payload.array();
/// payload.value("faq");
/// payload.value(&'b');
/// payload.end();
/// assert_eq!(
///     payload.finish(),
///     serde_json::json!({
///         "channel": "web",
///         "usage": { "tokens": 512 },
///         "tags": ["faq", "b"],
///     })
/// );
/// ```
pub struct PayloadBuilder {
    state: State,
    /// Containers opened while nothing could be added (budget spent or too
    /// deep): their contents and their `end` are ignored.
    skipped: usize,
}

impl Default for PayloadBuilder {
    fn default() -> PayloadBuilder {
        PayloadBuilder::new()
    }
}

impl PayloadBuilder {
    /// An empty payload (`null` until a value is added).
    pub fn new() -> PayloadBuilder {
        PayloadBuilder {
            state: State::new(),
            skipped: 0,
        }
    }

    /// Sets the key of the next value in the open object. Returns whether
    /// it was taken (not when the budget is spent).
    pub fn key(&mut self, key: impl Into<String>) -> bool {
        self.skipped == 0
            && self.state.in_object()
            && self.state.next_item().is_ok()
            && self.state.set_key_str(&key.into()).is_ok()
    }

    /// Adds `value` (the open array's next item, the open object's value
    /// for the last key, or the whole payload). Its `Serialize` impl cannot
    /// fail the caller: an error becomes `{"_serialize_error": "<why>"}` and
    /// a panic `{"_serialize_panic": "<message>"}` in its place.
    pub fn value<T: Serialize + ?Sized>(&mut self, value: &T) {
        if self.skipped > 0
            || self.state.stopped()
            || (!self.state.in_object() && self.state.next_item().is_err())
        {
            return;
        }
        let state = &mut self.state;
        let base = state.depth();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            value.serialize(ValueSerializer { state: &mut *state })
        }));
        match outcome {
            Ok(Err(Stop::Failed(why))) if !state.stopped() => {
                state.discard_to(base);
                state.note("_serialize_error", why);
            }
            Ok(_) => state.close_to(base),
            Err(panic) => {
                state.discard_to(base);
                let message = text::panic_message(&*panic, MESSAGE_BYTES);
                drop_panic(panic);
                state.note("_serialize_panic", message);
            }
        }
    }

    /// Adds `key: value` to the open object.
    pub fn field<T: Serialize + ?Sized>(&mut self, key: impl Into<String>, value: &T) {
        if self.key(key) {
            self.value(value);
        }
    }

    /// Opens an object (as the next item, the value of the last key, or the
    /// whole payload). Close it with [`PayloadBuilder::end`].
    pub fn object(&mut self) {
        self.open(super::state::Kind::Object);
    }

    /// Opens an array. Close it with [`PayloadBuilder::end`].
    pub fn array(&mut self) {
        self.open(super::state::Kind::Array);
    }

    fn open(&mut self, kind: super::state::Kind) {
        let admitted = self.skipped == 0
            && (self.state.in_object() || self.state.next_item().is_ok())
            && self.state.open(kind, None).is_ok();
        if !admitted {
            self.skipped += 1;
        }
    }

    /// Closes the innermost object or array opened with
    /// [`PayloadBuilder::object`] or [`PayloadBuilder::array`].
    pub fn end(&mut self) {
        if self.skipped > 0 {
            self.skipped -= 1;
        } else {
            let depth = self.state.depth().saturating_sub(1);
            self.state.close_to(depth);
        }
    }

    /// The payload, with every container still open closed. When anything
    /// was cut, it carries `"_truncated": true` and
    /// `"_truncated_at_source": {"depth": n, "strings": n, "bytes": bool}`.
    pub fn finish(self) -> Value {
        self.state.finish()
    }
}

/// Drops a caught panic's payload, whose own `Drop` might panic too.
fn drop_panic(panic: Box<dyn Any + Send>) {
    if let Err(again) = catch_unwind(AssertUnwindSafe(move || drop(panic))) {
        // A payload that panics twice is leaked rather than re-raised.
        std::mem::forget(again);
    }
}
