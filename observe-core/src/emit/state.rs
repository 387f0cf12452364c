//! The bounded payload under construction: a stack of open arrays and
//! objects (kept outside the user's `Serialize` calls, so that whatever was
//! built survives an early stop), the byte budget, and what was cut.

use serde_json::{Map, Value};

use super::text;
use crate::sanitize::{DEPTH_MARKER, MAX_DEPTH, TRUNCATED_KEY};

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
    /// The byte budget is spent: stop iterating, keep what was built.
    Budget,
    /// A container deeper than [`MAX_DEPTH`] was refused; the depth marker
    /// took its place.
    TooDeep,
    /// The user's `Serialize` impl failed (or a number is out of JSON's
    /// range): the value becomes `{"_serialize_error": "<why>"}`.
    Failed(String),
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stop::Budget => f.write_str("payload budget spent"),
            Stop::TooDeep => f.write_str("nested too deep"),
            Stop::Failed(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for Stop {}

impl serde::ser::Error for Stop {
    fn custom<T: std::fmt::Display>(msg: T) -> Stop {
        Stop::Failed(text::display(&msg, MESSAGE_BYTES).0)
    }
}

/// An array or object still open.
enum Frame {
    Array(Vec<Value>),
    Object {
        map: Map<String, Value>,
        /// The key of the value being built.
        key: Option<String>,
        /// The current entry's key could not be a JSON key: skip its value.
        skip: bool,
        /// Entries skipped for such keys.
        bad_keys: u64,
    },
}

impl Frame {
    fn object() -> Frame {
        Frame::Object {
            map: Map::new(),
            key: None,
            skip: false,
            bad_keys: 0,
        }
    }

    fn into_value(self) -> Value {
        match self {
            Frame::Array(items) => Value::Array(items),
            Frame::Object { mut map, bad_keys, .. } => {
                if bad_keys > 0 {
                    map.insert(
                        "_serialize_error".to_owned(),
                        Value::String(format!(
                            "{bad_keys} entries skipped: key must be a string"
                        )),
                    );
                }
                Value::Object(map)
            }
        }
    }
}

/// The kind of container to open.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    Array,
    Object,
}

/// What was cut on the caller's thread.
#[derive(Default)]
struct Cuts {
    depth: u64,
    strings: u64,
    budget: bool,
}

/// A payload being built within the limits.
pub(crate) struct State {
    frames: Vec<Frame>,
    result: Option<Value>,
    remaining: usize,
    cuts: Cuts,
}

impl State {
    pub(crate) fn new() -> State {
        State {
            frames: Vec::new(),
            result: None,
            remaining: BUDGET_BYTES,
            cuts: Cuts::default(),
        }
    }

    /// Number of open containers.
    pub(crate) fn depth(&self) -> usize {
        self.frames.len()
    }

    /// Whether the budget is spent.
    pub(crate) fn stopped(&self) -> bool {
        self.cuts.budget
    }

    /// Whether the innermost open container is an object.
    pub(crate) fn in_object(&self) -> bool {
        matches!(self.frames.last(), Some(Frame::Object { .. }))
    }

    fn spent(&mut self) -> Stop {
        self.cuts.budget = true;
        Stop::Budget
    }

    /// Takes `bytes` from the budget, or stops.
    pub(crate) fn charge(&mut self, bytes: usize) -> Result<(), Stop> {
        if self.cuts.budget || bytes > self.remaining {
            return Err(self.spent());
        }
        self.remaining -= bytes;
        Ok(())
    }

    /// Called before each element or entry: stops once the budget is spent.
    pub(crate) fn next_item(&mut self) -> Result<(), Stop> {
        self.charge(1)
    }

    /// Puts a finished value where it belongs: the open array, the open
    /// object under its key, or the result.
    pub(crate) fn deliver(&mut self, value: Value) {
        match self.frames.last_mut() {
            None => self.result = Some(value),
            Some(Frame::Array(items)) => items.push(value),
            Some(Frame::Object { map, key, .. }) => {
                if let Some(key) = key.take() {
                    map.insert(key, value);
                }
            }
        }
    }

    /// Opens a container `levels` deep (2 for an enum variant wrapped in
    /// an object). Past [`MAX_DEPTH`] it is refused: the depth marker takes
    /// its place and the caller must not serialize its contents.
    pub(crate) fn open(&mut self, kind: Kind, variant: Option<&'static str>) -> Result<(), Stop> {
        let levels = 1 + usize::from(variant.is_some());
        if self.frames.len() + levels > MAX_DEPTH {
            self.cuts.depth += 1;
            self.charge(DEPTH_MARKER.len() + 2)?;
            self.deliver(Value::String(DEPTH_MARKER.to_owned()));
            return Err(Stop::TooDeep);
        }
        self.charge(2 * levels)?;
        if let Some(variant) = variant {
            self.frames.push(Frame::object());
            self.set_key_str(variant)?;
        }
        self.frames.push(match kind {
            Kind::Array => Frame::Array(Vec::new()),
            Kind::Object => Frame::object(),
        });
        Ok(())
    }

    /// Closes containers until `depth` remain open, keeping their contents.
    pub(crate) fn close_to(&mut self, depth: usize) {
        while self.frames.len() > depth {
            if let Some(frame) = self.frames.pop() {
                self.deliver(frame.into_value());
            }
        }
    }

    /// Drops containers until `depth` remain open, contents included.
    pub(crate) fn discard_to(&mut self, depth: usize) {
        self.frames.truncate(depth);
    }

    /// Sets the key of the next value of the open object; `was_cut` says
    /// whether it was cut to [`MAX_STRING_BYTES`].
    pub(crate) fn set_key(&mut self, key: String, was_cut: bool) -> Result<(), Stop> {
        if was_cut {
            self.cuts.strings += 1;
        }
        self.charge(key.len() + 3)?;
        if let Some(Frame::Object { key: slot, skip, .. }) = self.frames.last_mut() {
            *slot = Some(key);
            *skip = false;
        }
        Ok(())
    }

    /// Sets the key of the next value, cut to [`MAX_STRING_BYTES`].
    pub(crate) fn set_key_str(&mut self, key: &str) -> Result<(), Stop> {
        let (key, was_cut) = text::bounded(key, MAX_STRING_BYTES);
        self.set_key(key, was_cut)
    }

    /// The open object's current key cannot be a JSON key: its value is
    /// skipped and counted.
    pub(crate) fn bad_key(&mut self) {
        if let Some(Frame::Object {
            key, skip, bad_keys, ..
        }) = self.frames.last_mut()
        {
            *key = None;
            *skip = true;
            *bad_keys += 1;
        }
    }

    /// Whether the value about to come belongs to a skipped entry (and
    /// clears the mark).
    pub(crate) fn take_skip(&mut self) -> bool {
        match self.frames.last_mut() {
            Some(Frame::Object { skip, .. }) => std::mem::take(skip),
            _ => false,
        }
    }

    /// Bytes a string may take now: [`MAX_STRING_BYTES`], or what is left
    /// of the budget.
    pub(crate) fn string_room(&self) -> usize {
        MAX_STRING_BYTES.min(self.remaining.saturating_sub(2))
    }

    /// Delivers a string, cut to [`State::string_room`].
    pub(crate) fn string(&mut self, text: &str) -> Result<(), Stop> {
        match text::cut(text, self.string_room()) {
            None => self.push_string(text.to_owned(), false),
            Some(short) => self.push_string(short, true),
        }
    }

    /// Delivers a string already cut to [`State::string_room`]. A string
    /// cut for lack of budget (rather than for its own length) spends the
    /// rest of it, so nothing follows; one cut so short that not even the
    /// marker fit stops instead.
    pub(crate) fn push_string(&mut self, text: String, was_cut: bool) -> Result<(), Stop> {
        let room = self.string_room();
        if was_cut {
            if room < crate::sanitize::TRUNCATION_MARKER.len() {
                return Err(self.spent());
            }
            self.cuts.strings += 1;
        }
        self.charge(text.len() + 2)?;
        self.deliver(Value::String(text));
        if was_cut && room < MAX_STRING_BYTES {
            self.cuts.budget = true;
        }
        Ok(())
    }

    /// Delivers a scalar of about `bytes` serialized bytes.
    pub(crate) fn scalar(&mut self, value: Value, bytes: usize) -> Result<(), Stop> {
        self.charge(bytes)?;
        self.deliver(value);
        Ok(())
    }

    /// Delivers `{note: message}` in place of a value that failed.
    pub(crate) fn note(&mut self, note: &str, message: String) {
        let mut map = Map::new();
        map.insert(note.to_owned(), Value::String(message));
        self.remaining = self.remaining.saturating_sub(note.len() + 8);
        self.deliver(Value::Object(map));
    }

    /// The finished payload: every container closed, and when anything was
    /// cut, `"_truncated": true` and [`TRUNCATED_AT_SOURCE_KEY`] added (a
    /// value that is not an object is first wrapped as `{"value": ...}`,
    /// as the pipeline would).
    pub(crate) fn finish(mut self) -> Value {
        self.close_to(0);
        let value = self.result.take().unwrap_or(Value::Null);
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
