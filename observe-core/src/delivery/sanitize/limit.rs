//! The 10 KiB limit: the exact serialized size of a payload, and a
//! deterministic shrink for payloads over the limit.
//!
//! The shrink runs in three steps, each only as far as needed: cut the
//! longest strings (all strings above one length, found by bisection), then
//! cut the longest arrays (likewise), then remove whole top-level keys,
//! largest serialized entry first and, among entries of equal size, the
//! last in key order (byte-wise string order) first. The result depends
//! only on the payload. The payload stays a JSON object and gets
//! `"_truncated": true`.
//!
//! **Cost.** Every step is a fixed number of passes over the payload, so
//! the shrink is linear in the payload's size whatever its shape: each
//! bisection takes at most `log2(max_bytes)` passes (no cap above
//! `max_bytes` can fit, so the search never looks past it), a pass sizes
//! cut strings without building them, and the key step sizes every entry
//! once and sorts the sizes (`n log n` in the number of top-level keys, on
//! machine words). The size functions recurse once per nesting level: the
//! payload must have been walked first, which cuts nesting at
//! [`MAX_DEPTH`](super::MAX_DEPTH).

use std::fmt::Write as _;
use std::ops::RangeInclusive;

use serde_json::{Map, Value};

use super::SanitizeReport;
use super::truncate::{TRUNCATION_MARKER, cut_point, truncate_chars};
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
#[cfg(test)]
pub(crate) fn json_size(value: &Value) -> usize {
    size_with(value, NO_CAPS)
}

/// Serialized size of a payload object, as `serde_json::to_string` writes
/// it: one pass, no allocation. For a walked payload (nesting cut at
/// [`MAX_DEPTH`](super::MAX_DEPTH)) only.
pub(crate) fn payload_size(payload: &Payload) -> usize {
    map_size(payload, NO_CAPS)
}

/// What one entry adds to its object's serialized size, the comma that
/// separates it from the next one not included.
pub(crate) fn entry_size(key: &str, value: &Value) -> usize {
    entry_size_with(key, value, NO_CAPS)
}

fn size_with(value: &Value, caps: Caps) -> usize {
    #[cfg(test)]
    visits::count();
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
            .map(|(k, v)| entry_size_with(k, v, caps))
            .sum::<usize>()
}

fn entry_size_with(key: &str, value: &Value, caps: Caps) -> usize {
    string_size(key) + 1 + size_with(value, caps)
}

/// Size of a string serialized with quotes and escapes.
fn string_size(s: &str) -> usize {
    2 + escaped_size(s)
}

fn escaped_size(s: &str) -> usize {
    s.bytes().map(escaped_len).sum::<usize>()
}

/// Size of `s` once cut to `max_chars` characters, without cutting it.
fn string_size_capped(s: &str, max_chars: usize) -> usize {
    match cut_point(s, max_chars) {
        // The markers hold no character that JSON escapes.
        Some((cut, marker)) => 2 + escaped_size(&s[..cut]) + marker.len(),
        None => string_size(s),
    }
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
///
/// The payload must have been walked (nesting cut at
/// [`MAX_DEPTH`](super::MAX_DEPTH)): the size functions recurse per level.
pub(crate) fn enforce(payload: &mut Payload, max_bytes: usize, report: &mut SanitizeReport) {
    if payload_size(payload) <= max_bytes {
        return;
    }
    report.mark_truncated();
    if let Some(old) = payload.insert(TRUNCATED_KEY.to_owned(), Value::Bool(true)) {
        drop_deep(old);
    }
    if payload_size(payload) <= max_bytes {
        return;
    }
    let longest = longest_string(payload);
    let floor = MIN_STRING_CHARS.min(longest);
    if cut_strings(payload, floor..=longest, max_bytes) || cut_arrays(payload, floor, max_bytes) {
        return;
    }
    cut(
        payload,
        Caps {
            strings: floor,
            arrays: 0,
        },
    );
    remove_largest_entries(payload, max_bytes);
}

/// Step 1: cuts every string longer than the largest length in `lengths`
/// that fits, if cutting strings down to the range's start is enough;
/// returns whether it was.
fn cut_strings(payload: &mut Payload, lengths: RangeInclusive<usize>, max_bytes: usize) -> bool {
    let (floor, longest) = lengths.into_inner();
    let with_strings = |strings: usize| Caps {
        strings,
        arrays: usize::MAX,
    };
    let fits = |n: usize| map_size(payload, with_strings(n)) <= max_bytes;
    if !fits(floor) {
        return false;
    }
    // A string of more than `max_bytes` characters never fits.
    let hi = longest.min(max_bytes);
    let n = largest_fitting(floor, hi, fits);
    cut(payload, with_strings(n));
    true
}

/// Step 2: with strings at `floor`, cuts every array longer than the
/// largest length that fits, if cutting arrays is enough; returns whether
/// it was.
fn cut_arrays(payload: &mut Payload, floor: usize, max_bytes: usize) -> bool {
    let with_arrays = |arrays: usize| Caps {
        strings: floor,
        arrays,
    };
    let fits = |n: usize| map_size(payload, with_arrays(n)) <= max_bytes;
    if !fits(0) {
        return false;
    }
    // An array of more than `max_bytes` items never fits.
    let hi = longest_array(payload).min(max_bytes);
    let n = largest_fitting(0, hi, fits);
    cut(payload, with_arrays(n));
    true
}

/// Step 3: removes whole top-level entries (never [`TRUNCATED_KEY`]) until
/// the payload fits, in a fixed order: largest serialized entry first; among
/// entries of the same size, the last in key order (byte-wise string order)
/// first.
///
/// Removing an entry from an object that keeps at least one other (the
/// `_truncated` flag stays) takes away its size and one comma, and leaves
/// the sizes of the other entries alone: so every entry is sized once, the
/// sizes are sorted once (as integers), and what goes is known before
/// anything goes: every entry larger than some `edge` size, and of the
/// entries of exactly that size, the last few in key order. One more pass
/// removes them.
fn remove_largest_entries(payload: &mut Payload, max_bytes: usize) {
    // Entry sizes in the map's order; `None` for the flag, which stays.
    let sizes: Vec<Option<usize>> = payload
        .iter()
        .map(|(k, v)| (k != TRUNCATED_KEY).then(|| entry_size(k, v)))
        .collect();
    // The object's size: its braces, its entries, the commas between them.
    let total = 2 + sizes.iter().flatten().sum::<usize>() + sizes.len().saturating_sub(1);
    let flag = payload
        .get(TRUNCATED_KEY)
        .map_or(0, |v| entry_size(TRUNCATED_KEY, v));
    let Some(edge) = removal_edge(&sizes, total + flag, max_bytes) else {
        return;
    };
    let first_gone = first_gone_at_edge(payload, &sizes, edge);
    let mut at = 0;
    // `retain` visits the entries in the same order as `iter` did.
    payload.retain(|key, value| {
        let size = sizes.get(at).copied().flatten();
        at += 1;
        let goes = size.is_some_and(|s| s > edge.size || (s == edge.size && *key >= first_gone));
        if goes {
            drop_deep(std::mem::take(value));
        }
        !goes
    });
}

/// Where the removal stops: entries larger than `size` all go, and `ties`
/// of the entries of exactly `size`.
#[derive(Clone, Copy)]
struct Edge {
    size: usize,
    ties: usize,
}

/// The [`Edge`] of removing the largest entries until `total` (the
/// object's size) is at most `max_bytes`; `None` if nothing goes.
fn removal_edge(sizes: &[Option<usize>], mut total: usize, max_bytes: usize) -> Option<Edge> {
    let mut largest_first: Vec<usize> = sizes.iter().flatten().copied().collect();
    largest_first.sort_unstable_by(|a, b| b.cmp(a));
    let mut edge = None;
    for size in largest_first {
        if total <= max_bytes {
            break;
        }
        total = total.saturating_sub(size + 1);
        edge = match edge {
            Some(Edge { size: s, ties }) if s == size => Some(Edge {
                size,
                ties: ties + 1,
            }),
            _ => Some(Edge { size, ties: 1 }),
        };
    }
    edge
}

/// Among the entries of size `edge.size`, the first key (in key order) of
/// the last `edge.ties`, which go.
fn first_gone_at_edge(payload: &Payload, sizes: &[Option<usize>], edge: Edge) -> String {
    let mut keys: Vec<&str> = payload
        .keys()
        .zip(sizes)
        .filter(|(_, size)| **size == Some(edge.size))
        .map(|(k, _)| k.as_str())
        .collect();
    let at = keys.len().saturating_sub(edge.ties);
    if at < keys.len() {
        (*keys.select_nth_unstable(at).1).to_owned()
    } else {
        String::new()
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

/// Counts the values sized, so that tests can check the number of passes.
#[cfg(test)]
mod visits {
    use std::cell::Cell;

    thread_local! {
        static VISITS: Cell<u64> = const { Cell::new(0) };
    }

    pub(super) fn count() {
        VISITS.with(|v| v.set(v.get() + 1));
    }

    /// Values sized on this thread since the last call.
    pub(super) fn take() -> u64 {
        VISITS.with(|v| v.replace(0))
    }
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

    /// Values in `payload`, nested ones included.
    fn count_values(payload: &Payload) -> u64 {
        let mut stack: Vec<&Value> = payload.values().collect();
        let mut n = 0;
        while let Some(v) = stack.pop() {
            n += 1;
            match v {
                Value::Array(items) => stack.extend(items),
                Value::Object(map) => stack.extend(map.values()),
                _ => {}
            }
        }
        n
    }

    /// A flat object of `n` entries of varied sizes (numbers, strings of
    /// 0 to 60 characters, small objects), with many equal sizes.
    fn wide(n: usize) -> Payload {
        (0..n)
            .map(|i| {
                let value = match i % 3 {
                    0 => json!(i),
                    1 => json!("s".repeat(i % 61)),
                    _ => json!({ "n": i % 7, "flag": i.is_multiple_of(2) }),
                };
                (format!("key {:06}", (i * 7_919) % n), value)
            })
            .collect()
    }

    /// The shrink makes a fixed number of passes over the payload, however
    /// many keys it has: at most 2 sizings up front, 1 + 14 per bisection
    /// (`log2(10_240)` rounded up) and 1 for the key step, 33 in all. The
    /// old shrink re-measured the whole payload for every key it removed:
    /// about `keys²` sizings (13 million for the 3,000 keys here).
    #[test]
    fn wide_objects_shrink_in_a_fixed_number_of_passes() {
        for n in [3_000, 30_000] {
            let mut p = wide(n);
            let values = count_values(&p);
            visits::take();
            enforce(&mut p, 10_240, &mut SanitizeReport::default());
            let sized = visits::take();
            assert!(payload_size(&p) <= 10_240);
            assert!(
                sized <= 33 * values,
                "{n} keys, {values} values: {sized} sized"
            );
        }
    }

    #[test]
    fn a_wide_object_of_200_000_keys_is_shrunk() {
        let mut p: Payload = (0..200_000)
            .map(|i| (format!("k{i:06}"), json!(i)))
            .collect();
        let mut report = SanitizeReport::default();
        enforce(&mut p, 10_240, &mut report);
        assert!(report.truncated());
        assert!(payload_size(&p) <= 10_240);
        assert!(payload_size(&p) > 10_240 - 32, "removes only what it must");
        // All numbers above 99,999 have 6 digits, the largest entries: the
        // last keys go first, and the first ones stay.
        assert_eq!(p["k000000"], 0);
        assert!(!p.contains_key("k199999"));
    }

    /// The shrink as it was first written, one key at a time, re-measuring
    /// everything after each removal: the specification of the order.
    fn remove_one_at_a_time(payload: &mut Payload, max_bytes: usize) {
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

    #[test]
    fn keys_go_largest_first_and_on_a_tie_last_in_key_order() {
        let mut p = obj(json!({
            "a": {"x": 1111},
            "b": {"x": 2222},
            "c": {"x": 3},
            "d": 4,
        }));
        p.insert(TRUNCATED_KEY.to_owned(), Value::Bool(true));
        let full = payload_size(&p);
        let entry = entry_size("b", &p["b"]);
        remove_largest_entries(&mut p, full - 1);
        assert!(!p.contains_key("b"), "a tie goes to the last key");
        assert!(p.contains_key("a"));
        remove_largest_entries(&mut p, full - entry - 2);
        assert!(!p.contains_key("a"));
        assert!(p.contains_key("c") && p.contains_key("d"));
    }

    #[test]
    fn key_removal_matches_removing_one_at_a_time() {
        for (n, max_bytes) in [(40, 300), (300, 2_000), (1_000, 10_240), (7, 0)] {
            let mut fast = wide(n);
            fast.insert(TRUNCATED_KEY.to_owned(), Value::Bool(true));
            let mut slow = fast.clone();
            remove_largest_entries(&mut fast, max_bytes);
            remove_one_at_a_time(&mut slow, max_bytes);
            assert_eq!(fast, slow, "{n} keys, {max_bytes} bytes");
        }
    }

    #[test]
    fn cut_strings_are_sized_without_cutting_them() {
        let texts = [
            String::new(),
            "plain".to_owned(),
            "quote \" and \\ and \n\t and \u{1} and é€😀".repeat(9),
            "é".repeat(100),
            "\u{0}".repeat(40),
            "e\u{301}\u{5d0}\u{200f}😀".repeat(30),
        ];
        for text in &texts {
            for max in (0..60).chain([99, 100, 101, 5_000]) {
                let cut = truncate_chars(text, max);
                let expected = serde_json::to_string(&*cut).map_or(0, |s| s.len());
                assert_eq!(string_size_capped(text, max), expected, "{text:?} at {max}");
            }
        }
    }

    #[test]
    fn bisection_finds_the_edge() {
        assert_eq!(largest_fitting(0, 100, |n| n <= 37), 37);
        assert_eq!(largest_fitting(5, 5, |_| true), 5);
        assert_eq!(largest_fitting(0, 10, |n| n == 0), 0);
        assert_eq!(largest_fitting(3, 1, |_| true), 3);
    }
}
