//! The limits of one payload: the byte budget shared by all its values, what
//! was cut, the containers being filled, and the signal that stops a
//! `Serialize` impl early.

use serde_json::{Map, Value};

use super::text;
use crate::delivery::sanitize::{DEPTH_MARKER, TRUNCATED_KEY, TRUNCATION_MARKER};

/// Longest string (or map key) kept whole, in bytes. Longer ones are cut
/// after a separator and end with the sanitizer's truncation marker. Above
/// the 10 KiB payload limit, so a string the worker could keep whole is
/// never cut on the caller's thread.
pub const MAX_STRING_BYTES: usize = 16 * 1024;

/// Estimated serialized size, in bytes, that one payload may reach on the
/// caller's thread; past it further elements and entries are skipped whole
/// and the user's iteration is stopped. Six times the 10 KiB the worker
/// finally keeps, so the worker's limiter (which shrinks the longest parts
/// first) has the material to choose from, while the caller's work and
/// the memory a queued event holds stay small.
pub const BUDGET_BYTES: usize = 64 * 1024;

/// Longest `_serialize_error` or `_serialize_panic` message, in bytes.
pub(crate) const MESSAGE_BYTES: usize = 512;

/// The key under which a payload cut on the caller's thread says what was
/// cut: `{"depth": n, "strings": n, "bytes": bool}`.
pub const TRUNCATED_AT_SOURCE_KEY: &str = "_truncated_at_source";

/// Why serialization stopped early. Internal: it never leaves this module
/// tree as an error.
#[derive(Debug)]
pub(crate) enum Stop {
    /// The byte budget is spent: stop iterating, and keep what was built
    /// (carried up, each container adding itself on the way). Boxed, like
    /// the message below, so results stay as small as `Value`.
    Budget(Box<Value>),
    /// A container deeper than the depth limit was refused; the depth
    /// marker takes its place.
    TooDeep,
    /// The user's `Serialize` impl failed (or a number is out of JSON's
    /// range): the value becomes `{"_serialize_error": "<why>"}`.
    Failed(Box<str>),
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stop::Budget(_) => f.write_str("payload budget spent"),
            Stop::TooDeep => f.write_str("nested too deep"),
            Stop::Failed(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for Stop {}

impl serde::ser::Error for Stop {
    fn custom<T: std::fmt::Display>(msg: T) -> Stop {
        Stop::Failed(text::display(&msg, MESSAGE_BYTES).0.into())
    }
}

/// What was cut on the caller's thread.
#[derive(Default)]
struct Cuts {
    depth: u64,
    strings: u64,
    budget: bool,
}

/// The byte budget of one payload and the record of what was cut.
pub(crate) struct Budget {
    remaining: usize,
    cuts: Cuts,
}

impl Budget {
    #[inline]
    pub(crate) fn new() -> Budget {
        Budget {
            remaining: BUDGET_BYTES,
            cuts: Cuts::default(),
        }
    }

    /// Whether the budget is spent.
    #[inline]
    pub(crate) fn stopped(&self) -> bool {
        self.cuts.budget
    }

    /// Marks the budget spent; the partial value goes up with the signal.
    #[cold]
    pub(crate) fn spent(&mut self) -> Stop {
        self.close();
        Stop::Budget(Box::default())
    }

    /// Spends the rest: every later charge fails.
    fn close(&mut self) {
        self.cuts.budget = true;
        self.remaining = 0;
    }

    /// Takes `bytes` (at least one) from the budget, or stops. A spent
    /// budget has nothing left, so one comparison tells both.
    #[inline]
    pub(crate) fn charge(&mut self, bytes: usize) -> Result<(), Stop> {
        if bytes > self.remaining {
            return Err(self.spent());
        }
        self.remaining -= bytes;
        Ok(())
    }

    /// Called before each element or entry: stops once the budget is spent.
    #[inline]
    pub(crate) fn next_item(&mut self) -> Result<(), Stop> {
        self.charge(1)
    }

    /// The marker for a container refused for its depth, counted.
    pub(crate) fn too_deep(&mut self) -> Value {
        self.cuts.depth += 1;
        self.remaining = self.remaining.saturating_sub(DEPTH_MARKER.len() + 2);
        Value::String(DEPTH_MARKER.to_owned())
    }

    /// Bytes a string may take now: [`MAX_STRING_BYTES`], or what is left
    /// of the budget.
    #[inline]
    pub(crate) fn string_room(&self) -> usize {
        MAX_STRING_BYTES.min(self.remaining.saturating_sub(2))
    }

    /// A string, cut to [`Budget::string_room`].
    #[inline]
    pub(crate) fn string(&mut self, text: &str) -> Result<Value, Stop> {
        match text::cut(text, self.string_room()) {
            None => self.owned_string(text.to_owned(), false),
            Some(short) => self.owned_string(short, true),
        }
    }

    /// A string already cut to [`Budget::string_room`]. One cut for lack
    /// of budget (rather than for its own length) spends the rest of it, so
    /// nothing follows; one so short that not even the marker fit stops
    /// instead.
    #[inline]
    pub(crate) fn owned_string(&mut self, text: String, was_cut: bool) -> Result<Value, Stop> {
        let room = self.string_room();
        if was_cut && room < TRUNCATION_MARKER.len() {
            return Err(self.spent());
        }
        self.charge(text.len() + 2)?;
        if was_cut {
            self.count_cut_string(room);
        }
        Ok(Value::String(text))
    }

    #[cold]
    fn count_cut_string(&mut self, room: usize) {
        self.cuts.strings += 1;
        if room < MAX_STRING_BYTES {
            self.close();
        }
    }

    /// Charges a map key (already cut to [`MAX_STRING_BYTES`] if
    /// `was_cut`), quotes and colon included.
    #[inline]
    pub(crate) fn key(&mut self, key: &str, was_cut: bool) -> Result<(), Stop> {
        if was_cut {
            self.cuts.strings += 1;
        }
        self.charge(key.len() + 3)
    }

    /// The finished payload. When anything was cut, it gets
    /// `"_truncated": true` and [`TRUNCATED_AT_SOURCE_KEY`] (a value that
    /// is not an object is first wrapped as `{"value": ...}`, as the
    /// pipeline would).
    pub(crate) fn finish(self, value: Value) -> Value {
        let Cuts {
            depth,
            strings,
            budget,
        } = self.cuts;
        if depth == 0 && strings == 0 && !budget {
            return value;
        }
        let mut map = match value {
            Value::Object(map) => map,
            Value::Null => Map::new(),
            other => Map::from_iter([("value".to_owned(), other)]),
        };
        map.insert(TRUNCATED_KEY.to_owned(), Value::Bool(true));
        map.insert(
            TRUNCATED_AT_SOURCE_KEY.to_owned(),
            serde_json::json!({ "depth": depth, "strings": strings, "bytes": budget }),
        );
        Value::Object(map)
    }
}

/// The kind of container to open.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    Array,
    Object,
}

/// An array or object being filled, possibly inside an enum variant's
/// `{"Variant": ...}`.
pub(crate) struct Container {
    items: Items,
    variant: Option<&'static str>,
}

enum Items {
    Array(Vec<Value>),
    Object {
        map: Map<String, Value>,
        /// The key of the value to come.
        key: Option<String>,
        /// That key could not be a JSON key: skip its value.
        skip: bool,
        /// Entries skipped for such keys.
        bad_keys: u64,
    },
}

impl Container {
    #[inline]
    pub(crate) fn new(kind: Kind, variant: Option<&'static str>, len: Option<usize>) -> Container {
        let items = match kind {
            // A hint, not a promise: never reserve for more than a few.
            Kind::Array => Items::Array(Vec::with_capacity(len.unwrap_or(0).min(16))),
            Kind::Object => Items::Object {
                map: Map::new(),
                key: None,
                skip: false,
                bad_keys: 0,
            },
        };
        Container { items, variant }
    }

    /// Whether it is an object (whose values need keys).
    #[inline]
    pub(crate) fn is_object(&self) -> bool {
        matches!(self.items, Items::Object { .. })
    }

    /// Sets the key of the next value.
    #[inline]
    pub(crate) fn set_key(&mut self, new: String) {
        if let Items::Object { key, skip, .. } = &mut self.items {
            *key = Some(new);
            *skip = false;
        }
    }

    /// The current key cannot be a JSON key: its value is skipped and
    /// counted.
    pub(crate) fn bad_key(&mut self) {
        if let Items::Object {
            key,
            skip,
            bad_keys,
            ..
        } = &mut self.items
        {
            *key = None;
            *skip = true;
            *bad_keys += 1;
        }
    }

    /// Whether the value about to come belongs to a skipped entry (and
    /// clears the mark).
    #[inline]
    pub(crate) fn take_skip(&mut self) -> bool {
        match &mut self.items {
            Items::Object { skip, .. } => std::mem::take(skip),
            Items::Array(_) => false,
        }
    }

    /// Adds `key: value` to an object.
    #[inline]
    pub(crate) fn insert(&mut self, key: String, value: Value) {
        if let Items::Object { map, .. } = &mut self.items {
            map.insert(key, value);
        }
    }

    /// Adds a value: the next item, or the value of the current key.
    #[inline]
    pub(crate) fn add(&mut self, value: Value) {
        match &mut self.items {
            Items::Array(items) => items.push(value),
            Items::Object { map, key, .. } => {
                if let Some(key) = key.take() {
                    map.insert(key, value);
                }
            }
        }
    }

    /// The budget ran out: the partial value `child` (if any) is added, and
    /// what this container holds goes up with the signal.
    #[cold]
    pub(crate) fn stop(&mut self, child: Value) -> Stop {
        if !child.is_null() {
            self.add(child);
        }
        let kind = if self.is_object() {
            Kind::Object
        } else {
            Kind::Array
        };
        let taken = std::mem::replace(self, Container::new(kind, self.variant, None));
        Stop::Budget(Box::new(taken.into_value()))
    }

    /// The finished value (wrapped in its variant, if any). An object that
    /// skipped entries says so in `_serialize_error`.
    #[inline]
    pub(crate) fn into_value(self) -> Value {
        match self.variant {
            None => self.items.into_value(),
            Some(variant) => Value::Object(Map::from_iter([(
                variant.to_owned(),
                self.items.into_value(),
            )])),
        }
    }
}

impl Items {
    #[inline]
    fn into_value(self) -> Value {
        match self {
            Items::Array(items) => Value::Array(items),
            Items::Object {
                map, bad_keys: 0, ..
            } => Value::Object(map),
            Items::Object { map, bad_keys, .. } => with_skipped(map, bad_keys),
        }
    }
}

#[cold]
fn with_skipped(mut map: Map<String, Value>, bad_keys: u64) -> Value {
    map.insert(
        "_serialize_error".to_owned(),
        Value::String(format!("{bad_keys} entries skipped: key must be a string")),
    );
    Value::Object(map)
}

/// `{note: message}`, in place of a value that failed or panicked.
pub(crate) fn note(note: &str, message: String) -> Value {
    Value::Object(Map::from_iter([(note.to_owned(), Value::String(message))]))
}
