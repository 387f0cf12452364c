//! Bounded handling of raw, unsanitized JSON values: everything the pipeline
//! does to a payload before the sanitizer has seen it runs in bounded stack
//! (no recursion over the value's depth) and bounded output.
//!
//! serde_json's own `Drop`, `Serialize` and `Deserialize` for [`Value`]
//! recurse once per nesting level, so a value nested a few thousand levels
//! deep overflows a thread's stack. The functions here walk values with an
//! explicit stack instead: [`cap_depth`] cuts what is nested too deep before
//! anything recursive runs, [`discard`] drops a value of any depth, and
//! [`estimate_bytes`] measures one for the queue's byte budget.

use serde_json::Value;

use crate::delivery::sanitize::{DEPTH_MARKER, MAX_DEPTH, TRUNCATION_MARKER};

/// The bytes one JSON node is estimated to hold besides its text: the
/// `Value` itself plus a share of its container's bookkeeping.
const NODE_BYTES: usize = 48;

/// Replaces every array or object that sits deeper than one level below
/// the sanitizer's cut with [`DEPTH_MARKER`]. `depth` is where `value` sits,
/// counted as the sanitizer counts (the values of a payload object sit at
/// depth 1).
///
/// The sanitizer replaces containers at depth [`MAX_DEPTH`] itself, and
/// counts them in its report; cutting one level below that leaves it
/// exactly the same work and the same report, in bounded stack.
pub(crate) fn cap_depth(value: &mut Value, depth: usize) {
    let mut stack: Vec<(&mut Value, usize)> = vec![(value, depth)];
    while let Some((value, depth)) = stack.pop() {
        let is_container = matches!(value, Value::Array(_) | Value::Object(_));
        if is_container && depth > MAX_DEPTH {
            discard(std::mem::replace(
                value,
                Value::String(DEPTH_MARKER.to_owned()),
            ));
            continue;
        }
        match value {
            Value::Array(items) => stack.extend(
                items
                    .iter_mut()
                    .filter(|v| is_nonempty_container(v))
                    .map(|v| (v, depth + 1)),
            ),
            Value::Object(map) => stack.extend(
                map.values_mut()
                    .filter(|v| is_nonempty_container(v))
                    .map(|v| (v, depth + 1)),
            ),
            _ => {}
        }
    }
}

/// Containers with something inside; an empty one costs no recursion.
fn is_nonempty_container(value: &Value) -> bool {
    match value {
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
        _ => false,
    }
}

/// Drops a value of any depth without recursion (the sanitizer's own).
pub(crate) use crate::delivery::sanitize::drop_deep as discard;

/// A cheap estimate of the heap a raw value holds: the length of every
/// string and key plus [`NODE_BYTES`] per node. Walks the value once with
/// an explicit stack, allocating only when it meets a nested container.
pub(crate) fn estimate_bytes(value: &Value) -> usize {
    let mut total = 0usize;
    let mut nested: Vec<&Value> = Vec::new();
    let mut next = Some(value);
    while let Some(value) = next.take().or_else(|| nested.pop()) {
        total = total.saturating_add(NODE_BYTES);
        match value {
            Value::String(s) => total = total.saturating_add(s.len()),
            Value::Array(items) => nested.extend(items),
            Value::Object(map) => {
                for (key, value) in map {
                    total = total.saturating_add(key.len());
                    nested.push(value);
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
    total
}

/// `value` as JSON text of at most `max_bytes` bytes (plus
/// [`TRUNCATION_MARKER`] when cut). A cut never falls inside a string or a
/// key: one that would is moved back to the string's opening quote, so no
/// part of a secret is kept without the rest of it. `value` must be
/// depth-capped ([`cap_depth`]): serializing recurses once per level.
pub(crate) fn json_prefix(value: &Value, max_bytes: usize) -> String {
    let mut out = Bounded {
        bytes: Vec::new(),
        max: max_bytes,
    };
    let complete = serde_json::to_writer(&mut out, value).is_ok();
    let mut bytes = out.bytes;
    if !complete {
        if let Some(start) = open_string_start(&bytes) {
            bytes.truncate(start);
        }
        bytes.extend_from_slice(TRUNCATION_MARKER.as_bytes());
    }
    // Cut only outside strings, where JSON text is ASCII: always UTF-8.
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Where the string literal left open at the end of `json` starts, if one
/// is.
fn open_string_start(json: &[u8]) -> Option<usize> {
    let mut open = None;
    let mut escaped = false;
    for (i, &b) in json.iter().enumerate() {
        match (open, b) {
            (Some(_), _) if escaped => escaped = false,
            (Some(_), b'\\') => escaped = true,
            (Some(_), b'"') => open = None,
            (None, b'"') => open = Some(i),
            _ => {}
        }
    }
    open
}

/// A writer that takes at most `max` bytes, then fails (which stops the
/// serializer).
struct Bounded {
    bytes: Vec<u8>,
    max: usize,
}

impl std::io::Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let room = self.max - self.bytes.len();
        if room == 0 && !buf.is_empty() {
            return Err(std::io::Error::other("size limit reached"));
        }
        let n = buf.len().min(room);
        self.bytes.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn nested(levels: usize) -> Value {
        let mut value = json!(1);
        for _ in 0..levels {
            value = Value::Array(vec![value]);
        }
        value
    }

    fn depth_of(value: &Value) -> usize {
        let mut depth = 0;
        let mut at = value;
        while let Value::Array(items) = at {
            depth += 1;
            match items.first() {
                Some(inner) => at = inner,
                None => break,
            }
        }
        depth
    }

    #[test]
    fn cap_depth_cuts_one_level_below_the_sanitizer_in_bounded_stack() {
        let mut value = nested(200_000);
        cap_depth(&mut value, 1);
        // Containers at depths 1..=MAX_DEPTH are kept; the next is the marker.
        assert_eq!(depth_of(&value), MAX_DEPTH);
        let mut innermost = &value;
        while let Value::Array(items) = innermost {
            innermost = &items[0];
        }
        assert_eq!(innermost, &json!(DEPTH_MARKER));
        let mut shallow = json!({ "a": [1, { "b": "c" }], "d": [] });
        let before = shallow.clone();
        cap_depth(&mut shallow, 1);
        assert_eq!(shallow, before);
    }

    #[test]
    fn discard_drops_any_depth() {
        discard(nested(500_000));
    }

    #[test]
    fn estimates_count_text_and_nodes_at_any_depth() {
        let small = estimate_bytes(&json!({ "k": "vvvv" }));
        assert_eq!(small, 2 * NODE_BYTES + 1 + 4);
        let big = estimate_bytes(&json!({ "blob": "x".repeat(1 << 20) }));
        assert!(big >= 1 << 20);
        let deep = nested(100_000);
        assert_eq!(estimate_bytes(&deep), 100_001 * NODE_BYTES);
        discard(deep);
    }

    #[test]
    fn json_prefix_is_bounded_and_never_cuts_inside_a_string() {
        let wide: serde_json::Map<String, Value> = (0..100_000)
            .map(|i| (format!("key{i}"), json!(format!("value {i}"))))
            .collect();
        let text = json_prefix(&Value::Object(wide), 1000);
        assert!(
            text.len() <= 1000 + TRUNCATION_MARKER.len(),
            "{}",
            text.len()
        );
        assert!(text.ends_with(TRUNCATION_MARKER));
        let body = &text[..text.len() - TRUNCATION_MARKER.len()];
        assert_eq!(body.matches('"').count() % 2, 0, "{body}");

        let secret = json!(["a", "postgres://admin:Hunter2Secret@db.example.com/app"]);
        let whole = "\"postgres://admin:Hunter2Secret@db.example.com/app\"";
        for max in 0..60 {
            // The string is kept whole (the sanitizer sees all of it) or
            // not at all.
            let text = json_prefix(&secret, max);
            assert_eq!(
                text.contains("postgres"),
                text.contains(whole),
                "{max}: {text}"
            );
        }
        assert_eq!(json_prefix(&json!({"a": "b\"c"}), 1000), r#"{"a":"b\"c"}"#);
        let unicode = json_prefix(&json!(["ééééééééé", "ü"]), 9);
        assert_eq!(unicode, format!("[{TRUNCATION_MARKER}"));
    }
}
