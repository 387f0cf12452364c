//! Walking a JSON payload: secret-naming keys, every string (and key) at any
//! depth, strings that hold JSON, card numbers stored as JSON numbers
//! (integers or floats such as `4111111111111111.0`), phone numbers stored
//! as numbers or bare digits under a phone-like key, and a fixed depth limit
//! so that no input can overflow the stack.

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::{Map, Value};

use super::engine::{Engine, REDACTED};
use super::report::SanitizeReport;
use super::rules::{MAX_DEPTH_RULE, SENSITIVE_KEY};

/// Deepest nesting kept, counting the payload object as the first level: an
/// array or object that would be level `MAX_DEPTH + 1` is replaced by
/// [`DEPTH_MARKER`] (and counted as `max_depth` in the report).
pub const MAX_DEPTH: usize = 64;

/// What replaces an array or object nested deeper than [`MAX_DEPTH`].
pub const DEPTH_MARKER: &str = "[TRUNCATED: nested too deep]";

const SENSITIVE_KEY_NAME: Cow<'static, str> = Cow::Borrowed(SENSITIVE_KEY);
const MAX_DEPTH_NAME: Cow<'static, str> = Cow::Borrowed(MAX_DEPTH_RULE);
const CARD_NAME: Cow<'static, str> = Cow::Borrowed("credit_card");
const PHONE_NAME: Cow<'static, str> = Cow::Borrowed("phone");

/// Settings of one walk.
pub(crate) struct Walker<'e> {
    pub(crate) engine: &'e Engine,
    pub(crate) cards: bool,
}

impl Walker<'_> {
    /// Scrubs the entries of an object whose values sit at `depth`.
    pub(crate) fn walk_map(
        &self,
        map: &mut Map<String, Value>,
        depth: usize,
        report: &mut SanitizeReport,
    ) {
        let mut renames: Vec<(String, String)> = Vec::new();
        for (key, value) in map.iter_mut() {
            let (clean_key, maybe_secret) = self.engine.scan_key(key, report);
            if maybe_secret && self.engine.keys.is_sensitive(key) {
                if !matches!(value, Value::String(s) if s == REDACTED) {
                    let old = std::mem::replace(value, Value::String(REDACTED.to_owned()));
                    drop_deep(old);
                    report.add(&SENSITIVE_KEY_NAME, 1);
                }
            } else if is_bare_phone(value) && self.engine.keys.is_phone_key(key) {
                *value = Value::String(REDACTED.to_owned());
                report.add(&PHONE_NAME, 1);
            } else {
                self.walk_value(value, depth, report);
            }
            if let Cow::Owned(clean) = clean_key {
                renames.push((key.clone(), clean));
            }
        }
        // Keys scrubbed to the same text get suffixes ` (2)`, ` (3)`, ...;
        // the next suffix to try is kept per text, so that many such keys
        // cost linear time, not one probe per key already renamed.
        let mut next_suffix: HashMap<String, usize> = HashMap::new();
        for (old, new) in renames {
            if let Some(value) = map.remove(&old) {
                let n = next_suffix.entry(new.clone()).or_insert(2);
                let mut key = new.clone();
                while map.contains_key(&key) {
                    key = format!("{new} ({n})");
                    *n += 1;
                }
                map.insert(key, value);
            }
        }
    }

    /// Scrubs one value sitting at `depth`.
    pub(crate) fn walk_value(&self, value: &mut Value, depth: usize, report: &mut SanitizeReport) {
        match value {
            Value::String(text) => {
                if let Cow::Owned(clean) = self.scrub_text(text, depth, report) {
                    *text = clean;
                }
            }
            Value::Number(n) => {
                if self.cards && as_whole_u64(n).is_some_and(super::luhn::is_card_number_u64) {
                    *value = Value::String(REDACTED.to_owned());
                    report.add(&CARD_NAME, 1);
                }
            }
            Value::Array(_) | Value::Object(_) if depth >= MAX_DEPTH => {
                let old = std::mem::replace(value, Value::String(DEPTH_MARKER.to_owned()));
                drop_deep(old);
                report.add(&MAX_DEPTH_NAME, 1);
                report.mark_truncated();
            }
            Value::Array(items) => {
                for item in items {
                    self.walk_value(item, depth + 1, report);
                }
            }
            Value::Object(map) => self.walk_map(map, depth + 1, report),
            Value::Null | Value::Bool(_) => {}
        }
    }

    /// Scrubs a string found at `depth`: as JSON when it holds a JSON object
    /// or array, else as text.
    pub(crate) fn scrub_text<'a>(
        &self,
        text: &'a str,
        depth: usize,
        report: &mut SanitizeReport,
    ) -> Cow<'a, str> {
        if looks_like_json(text)
            && let Ok(mut inner) = serde_json::from_str::<Value>(text)
        {
            let mut sub = SanitizeReport::default();
            self.walk_value(&mut inner, depth, &mut sub);
            if sub.is_empty() {
                return Cow::Borrowed(text);
            }
            if let Ok(clean) = serde_json::to_string(&inner) {
                report.merge(&sub);
                return Cow::Owned(clean);
            }
        }
        self.engine.scan(text, report)
    }
}

/// A JSON number that is a whole number (`4111111111111111` or
/// `4111111111111111.0`), as an integer.
fn as_whole_u64(n: &serde_json::Number) -> Option<u64> {
    n.as_u64().or_else(|| {
        n.as_f64()
            .filter(|f| f.fract() == 0.0 && (1e12..1.8e19).contains(f))
            // In range and whole, so the conversion is exact enough for a
            // 13 to 19 digit number.
            .map(|f| f as u64)
    })
}

/// A number, or a string of digits with at most phone separators, with 7
/// to 15 digits: a phone number when the key says so.
fn is_bare_phone(value: &Value) -> bool {
    let digits = match value {
        Value::Number(n) => {
            let whole = n.as_u64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && (0.0..1e16).contains(f))
                    .map(|f| f as u64)
            });
            match whole {
                Some(v) => v.checked_ilog10().map_or(1, |d| d as usize + 1),
                None => return false,
            }
        }
        Value::String(s) if s.len() <= 32 => {
            if !s
                .bytes()
                .all(|b| b.is_ascii_digit() || matches!(b, b' ' | b'-' | b'.' | b'(' | b')' | b'+'))
            {
                return false;
            }
            s.bytes().filter(u8::is_ascii_digit).count()
        }
        _ => return false,
    };
    (7..=15).contains(&digits)
}

fn looks_like_json(text: &str) -> bool {
    let t = text.trim_ascii();
    matches!(
        (t.as_bytes().first(), t.as_bytes().last()),
        (Some(b'{'), Some(b'}')) | (Some(b'['), Some(b']'))
    )
}

/// Drops a value of any depth without recursion (serde_json's own drop
/// recurses once per level).
pub(crate) fn drop_deep(value: Value) {
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        match value {
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => stack.extend(map.into_iter().map(|(_, v)| v)),
            _ => {}
        }
    }
}
