//! [`PayloadBuilder`]: what `emit!` builds payloads with, one leaf at a
//! time, each leaf's `Serialize` impl isolated (its failure or panic stays
//! in its place).

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

use serde::Serialize;
use serde_json::Value;

use super::ser::child;
use super::state::{Budget, Container, Kind, MAX_STRING_BYTES, MESSAGE_BYTES, Stop, note};
use super::text;
use crate::delivery::sanitize::MAX_DEPTH;

/// Builds one bounded payload: objects and arrays opened and closed by the
/// caller, leaves serialized with the bounded serializer, one byte budget
/// for the whole payload. This is what `emit!(T, { ... })` expands to; see
/// the [module documentation](super) for the limits.
///
/// ```
/// use observe_core::runtime::emit::PayloadBuilder;
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
    budget: Budget,
    /// The objects and arrays opened and not yet ended, outermost first.
    open: Vec<Container>,
    /// The whole payload, once a top-level value is complete.
    result: Option<Value>,
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
    #[inline]
    pub fn new() -> PayloadBuilder {
        PayloadBuilder {
            budget: Budget::new(),
            open: Vec::new(),
            result: None,
            skipped: 0,
        }
    }

    /// Whether the innermost open container is an object.
    #[inline]
    fn in_object(&self) -> bool {
        self.open.last().is_some_and(Container::is_object)
    }

    /// Whether an item may be added here: nothing is skipped and, in an
    /// array or at the top, the budget allows one more (in an object the
    /// key was admitted already).
    #[inline]
    fn admit(&mut self) -> bool {
        self.skipped == 0
            && !self.budget.stopped()
            && (self.in_object() || self.budget.next_item().is_ok())
    }

    /// Puts a finished value in the innermost container, or makes it the
    /// payload.
    #[inline]
    fn deliver(&mut self, value: Value) {
        match self.open.last_mut() {
            Some(container) => container.add(value),
            None => self.result = Some(value),
        }
    }

    /// The key of a new entry of the open object, cut to
    /// [`MAX_STRING_BYTES`] and charged; `None` when nothing may be added.
    #[inline]
    fn admit_key(&mut self, key: impl Into<String>) -> Option<String> {
        if self.skipped > 0 || !self.in_object() || self.budget.next_item().is_err() {
            return None;
        }
        let key = key.into();
        let (key, was_cut) = match text::cut(&key, MAX_STRING_BYTES) {
            Some(short) => (short, true),
            None => (key, false),
        };
        self.budget.key(&key, was_cut).ok().map(|()| key)
    }

    /// Sets the key of the next value in the open object. Returns whether
    /// it was taken (not when the budget is spent).
    #[inline]
    pub fn key(&mut self, key: impl Into<String>) -> bool {
        match (self.admit_key(key), self.open.last_mut()) {
            (Some(key), Some(container)) => {
                container.set_key(key);
                true
            }
            _ => false,
        }
    }

    /// `value` serialized within the limits; its failure or panic becomes a
    /// note. `None` when nothing of it fitted.
    fn leaf<T: Serialize + ?Sized>(&mut self, value: &T) -> Option<Value> {
        let level = self.open.len() + 1;
        let budget = &mut self.budget;
        match catch_unwind(AssertUnwindSafe(|| child(budget, level, value))) {
            Ok(Ok(value)) => Some(value),
            Ok(Err(Stop::Budget(value))) if value.is_null() => None,
            Ok(Err(Stop::Budget(value))) => Some(*value),
            Ok(Err(Stop::TooDeep)) => Some(budget.too_deep()),
            Ok(Err(Stop::Failed(why))) => Some(note("_serialize_error", why.into())),
            Err(panic) => {
                let message = text::panic_message(&*panic, MESSAGE_BYTES);
                drop_panic(panic);
                Some(note("_serialize_panic", message))
            }
        }
    }

    /// Adds `value` (the open array's next item, the open object's value
    /// for the last key, or the whole payload). Its `Serialize` impl cannot
    /// fail the caller: an error becomes `{"_serialize_error": "<why>"}` and
    /// a panic `{"_serialize_panic": "<message>"}` in its place.
    pub fn value<T: Serialize + ?Sized>(&mut self, value: &T) {
        if self.admit()
            && let Some(value) = self.leaf(value)
        {
            self.deliver(value);
        }
    }

    /// Adds `key: value` to the open object.
    pub fn field<T: Serialize + ?Sized>(&mut self, key: impl Into<String>, value: &T) {
        if let Some(key) = self.admit_key(key)
            && let Some(value) = self.leaf(value)
            && let Some(container) = self.open.last_mut()
        {
            container.insert(key, value);
        }
    }

    /// Opens an object (as the next item, the value of the last key, or the
    /// whole payload). Close it with [`PayloadBuilder::end`].
    #[inline]
    pub fn object(&mut self) {
        self.open(Kind::Object);
    }

    /// Opens an array. Close it with [`PayloadBuilder::end`].
    #[inline]
    pub fn array(&mut self) {
        self.open(Kind::Array);
    }

    fn open(&mut self, kind: Kind) {
        if !self.admit() || self.budget.charge(2).is_err() {
            self.skipped += 1;
        } else if self.open.len() >= MAX_DEPTH {
            let marker = self.budget.too_deep();
            self.deliver(marker);
            self.skipped += 1;
        } else {
            self.open.push(Container::new(kind, None, None));
        }
    }

    /// Closes the innermost object or array opened with
    /// [`PayloadBuilder::object`] or [`PayloadBuilder::array`].
    #[inline]
    pub fn end(&mut self) {
        if self.skipped > 0 {
            self.skipped -= 1;
        } else if let Some(container) = self.open.pop() {
            self.deliver(container.into_value());
        }
    }

    /// The payload, with every container still open closed. When anything
    /// was cut, it carries `"_truncated": true` and
    /// `"_truncated_at_source": {"depth": n, "strings": n, "bytes": bool}`.
    pub fn finish(mut self) -> Value {
        self.skipped = 0;
        while !self.open.is_empty() {
            self.end();
        }
        let value = self.result.take().unwrap_or(Value::Null);
        self.budget.finish(value)
    }
}

/// Drops a caught panic's payload, whose own `Drop` might panic too.
fn drop_panic(panic: Box<dyn Any + Send>) {
    if let Err(again) = catch_unwind(AssertUnwindSafe(move || drop(panic))) {
        // A payload that panics twice is leaked rather than re-raised.
        std::mem::forget(again);
    }
}
