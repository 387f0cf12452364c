//! The 10 KiB limit: the exact serialized size of a payload, and a
//! deterministic shrink for payloads over the limit.
//!
//! The shrink runs in three steps, each only as far as needed: cut the
//! longest strings (all strings above one length, found by bisection), then
//! cut the longest arrays (likewise), then remove whole top-level keys,
//! largest first. The payload stays a JSON object and gets
//! `"_truncated": true`.

use std::fmt::Write as _;

use serde_json::{Map, Value};

use super::SanitizeReport;
use super::truncate::{TRUNCATION_MARKER, truncate_chars};
use super::walk::drop_deep;
use crate::Payload;

/// The key set on a payload that was shrunk.
pub const TRUNCATED_KEY: &str = "_truncated";

/// Strings are never cut below this many characters (marker included).
const MIN_STRING_CHARS: usize = 32;

/// How a size is computed: strings cut to `strings` characters, arrays cut
/// to `arrays` items.
#[derive(Clone, Copy)]
struct Caps {
    strings: usize,
    arrays: usize,
}

const NO_CAPS: Caps = Caps {
    strings: usize::MAX,
    arrays: usize::MAX,
};

/// Serialized size in bytes of `value`, as `serde_json::to_string` writes it.
pub(crate) fn json_size(value: &Value) -> usize {
    size_with(value, NO_CAPS)
}

/// Serialized size of a payload object.
pub(crate) fn payload_size(payload: &Payload) -> usize {
    map_size(payload, NO_CAPS)
}

fn size_with(value: &Value, caps: Caps) -> usize {
    match value {
        Value::Null => 4,
        Value::Bool(true) => 4,
        Value::Bool(false) => 5,
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                decimal_digits(u)
            } else if let Some(i) = n.as_i64() {
                1 + decimal_digits(i.unsigned_abs())
            } else {
                let mut counter = Counter(0);
                let _ = write!(counter, "{n}");
                counter.0
            }
        }
        Value::String(s) => string_size_capped(s, caps.strings),
        Value::Array(items) => {
            let kept = items.len().min(caps.arrays);
            2 + kept.saturating_sub(1)
                + items
                    .iter()
                    .take(kept)
                    .map(|v| size_with(v, caps))
                    .sum::<usize>()
        }
        Value::Object(map) => map_size(map, caps),
    }
}

fn map_size(map: &Map<String, Value>, caps: Caps) -> usize {
    2 + map.len().saturating_sub(1)
        + map
            .iter()
            .map(|(k, v)| string_size(k) + 1 + size_with(v, caps))
            .sum::<usize>()
}

/// Size of a string serialized with quotes and escapes.
fn string_size(s: &str) -> usize {
    2 + s.bytes().map(escaped_len).sum::<usize>()
}

fn string_size_capped(s: &str, max_chars: usize) -> usize {
    if max_chars == usize::MAX {
        return string_size(s);
    }
    string_size(&truncate_chars(s, max_chars))
}

fn escaped_len(b: u8) -> usize {
    match b {
        b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 2,
        0..=0x1f => 6,
        _ => 1,
    }
}

fn decimal_digits(mut n: u64) -> usize {
    let mut digits = 1;
    while n >= 10 {
        n /= 10;
        digits += 1;
    }
    digits
}

struct Counter(usize);

impl std::fmt::Write for Counter {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0 += s.len();
        Ok(())
    }
}

/// Shrinks `payload` to at most `max_bytes` serialized, if it is over.
pub(crate) fn enforce(payload: &mut Payload, max_bytes: usize, report: &mut SanitizeReport) {
    if payload_size(payload) <= max_bytes {
        return;
    }
    report.mark_truncated();
    payload.insert(TRUNCATED_KEY.to_owned(), Value::Bool(true));
    if payload_size(payload) <= max_bytes {
        return;
    }

    // 1. Longest strings first: the largest length that fits.
    let longest = longest_string(payload);
    let floor = MIN_STRING_CHARS.min(longest);
    let with_strings = |n: usize| {
        map_size(
            payload,
            Caps {
                strings: n,
                arrays: usize::MAX,
            },
        )
    };
    if with_strings(floor) <= max_bytes {
        let n = largest_fitting(floor, longest, |n| with_strings(n) <= max_bytes);
        cut(
            payload,
            Caps {
                strings: n,
                arrays: usize::MAX,
            },
        );
        return;
    }
    // 2. Then long arrays, strings at the floor.
    let longest_array = longest_array(payload);
    let with_arrays = |n: usize| {
        map_size(
            payload,
            Caps {
                strings: floor,
                arrays: n,
            },
        )
    };
    if with_arrays(0) <= max_bytes {
        let n = largest_fitting(0, longest_array, |n| with_arrays(n) <= max_bytes);
        cut(
            payload,
            Caps {
                strings: floor,
                arrays: n,
            },
        );
        return;
    }
    cut(
        payload,
        Caps {
            strings: floor,
            arrays: 0,
        },
    );
    // 3. Then whole keys, largest first (on a tie, the last in key order).
    while payload_size(payload) > max_bytes {
        let largest = payload
            .iter()
            .filter(|(k, _)| k.as_str() != TRUNCATED_KEY)
            .map(|(k, v)| (string_size(k) + 1 + json_size(v), k))
            .max_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(b.1)))
            .map(|(_, k)| k.clone());
        match largest.and_then(|k| payload.remove(&k)) {
            Some(value) => drop_deep(value),
            None => break,
        }
    }
}

/// The largest `n` in `lo..=hi` with `fits(n)`, given `fits(lo)` and that
/// `fits` is monotone (true up to some point, false after).
fn largest_fitting(lo: usize, hi: usize, fits: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (lo, hi.max(lo));
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if fits(mid) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

fn longest_string(payload: &Payload) -> usize {
    fn walk(v: &Value) -> usize {
        match v {
            Value::String(s) => s.chars().count(),
            Value::Array(items) => items.iter().map(walk).max().unwrap_or(0),
            Value::Object(map) => map.values().map(walk).max().unwrap_or(0),
            _ => 0,
        }
    }
    payload.values().map(walk).max().unwrap_or(0)
}

fn longest_array(payload: &Payload) -> usize {
    fn walk(v: &Value) -> usize {
        match v {
            Value::Array(items) => items.iter().map(walk).max().unwrap_or(0).max(items.len()),
            Value::Object(map) => map.values().map(walk).max().unwrap_or(0),
            _ => 0,
        }
    }
    payload.values().map(walk).max().unwrap_or(0)
}

/// Applies `caps` to every string and array of the payload.
fn cut(payload: &mut Payload, caps: Caps) {
    fn walk(v: &mut Value, caps: Caps) {
        match v {
            Value::String(s) => {
                if let std::borrow::Cow::Owned(short) = truncate_chars(s, caps.strings) {
                    *s = short;
                }
            }
            Value::Array(items) => {
                if items.len() > caps.arrays {
                    for item in items.drain(caps.arrays..) {
                        drop_deep(item);
                    }
                }
                for item in items {
                    walk(item, caps);
                }
            }
            Value::Object(map) => {
                for item in map.values_mut() {
                    walk(item, caps);
                }
            }
            _ => {}
        }
    }
    for value in payload.values_mut() {
        walk(value, caps);
    }
    debug_assert!(TRUNCATION_MARKER.len() < MIN_STRING_CHARS * 4);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Payload {
        match v {
            Value::Object(m) => m,
            _ => Payload::new(),
        }
    }

    #[test]
    fn size_matches_serde_json() {
        for v in [
            json!(null),
            json!(true),
            json!(false),
            json!(0),
            json!(-17),
            json!(u64::MAX),
            json!(1.5),
            json!(1e300),
            json!(-0.0),
            json!(0.1),
            json!("plain"),
            json!("quote \" backslash \\ newline \n tab \t bell \u{7} del \u{7f} é 😀"),
            json!([]),
            json!({}),
            json!([1, "two", [3], {"four": 4}]),
            json!({"a": {"b": [null, true, "c\u{0}"]}, "é": 1}),
        ] {
            let expected = serde_json::to_string(&v).map(|s| s.len()).unwrap_or(0);
            assert_eq!(json_size(&v), expected, "{v}");
        }
    }

    #[test]
    fn small_payload_is_untouched() {
        let mut p = obj(json!({"a": "b"}));
        let mut report = SanitizeReport::default();
        enforce(&mut p, 10_240, &mut report);
        assert_eq!(p, obj(json!({"a": "b"})));
        assert!(!report.truncated());
    }

    #[test]
    fn longest_string_is_cut_first() {
        let mut p = obj(json!({
            "short": "keep me",
            "long": "x".repeat(20_000),
            "medium": "y".repeat(3_000),
        }));
        let mut report = SanitizeReport::default();
        enforce(&mut p, 10_240, &mut report);
        assert!(report.truncated());
        assert!(payload_size(&p) <= 10_240);
        assert_eq!(p["short"], "keep me");
        assert_eq!(p["medium"].as_str().map(str::len), Some(3_000));
        let long = p["long"].as_str().unwrap_or_default();
        assert!(long.ends_with(TRUNCATION_MARKER));
        assert!(
            long.len() > 6_000,
            "cut only as far as needed: {}",
            long.len()
        );
        assert_eq!(p[TRUNCATED_KEY], true);
    }

    #[test]
    fn long_arrays_are_cut_when_strings_are_not_enough() {
        let mut p = obj(json!({ "ids": (0..5_000).collect::<Vec<_>>(), "n": 1 }));
        let mut report = SanitizeReport::default();
        enforce(&mut p, 10_240, &mut report);
        assert!(payload_size(&p) <= 10_240);
        let kept = p["ids"].as_array().map_or(0, Vec::len);
        assert!(kept > 1_000 && kept < 5_000, "{kept}");
        assert_eq!(p["n"], 1);
    }

    #[test]
    fn whole_keys_go_last() {
        let mut big = Payload::new();
        for i in 0..2_000 {
            big.insert(format!("key number {i:05}"), json!(i));
        }
        let mut p = obj(json!({ "small": 1, "big": Value::Object(big) }));
        let mut report = SanitizeReport::default();
        enforce(&mut p, 10_240, &mut report);
        assert!(payload_size(&p) <= 10_240);
        assert!(!p.contains_key("big"));
        assert_eq!(p["small"], 1);
        assert_eq!(p[TRUNCATED_KEY], true);
    }

    #[test]
    fn shrinking_is_deterministic() {
        let make = || {
            obj(json!({
                "a": "α".repeat(9_000),
                "b": vec!["β".repeat(500); 40],
                "c": {"d": "δ".repeat(4_000)},
            }))
        };
        let (mut p1, mut p2) = (make(), make());
        enforce(&mut p1, 10_240, &mut SanitizeReport::default());
        enforce(&mut p2, 10_240, &mut SanitizeReport::default());
        assert_eq!(p1, p2);
        assert!(payload_size(&p1) <= 10_240);
    }

    #[test]
    fn bisection_finds_the_edge() {
        assert_eq!(largest_fitting(0, 100, |n| n <= 37), 37);
        assert_eq!(largest_fitting(5, 5, |_| true), 5);
        assert_eq!(largest_fitting(0, 10, |n| n == 0), 0);
        assert_eq!(largest_fitting(3, 1, |_| true), 3);
    }
}
