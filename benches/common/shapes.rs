//! Payload shapes that stress the sanitizer: flat objects of many keys, and
//! values nested far deeper than `serde_json` parses or drops safely, built
//! and taken apart without recursion. Shared by the sanitizer's benchmark
//! and its property tests (which include this file by path).

#![allow(dead_code)]

use observe::Payload;
use serde_json::{Map, Value};

/// A flat object of `keys` entries: numbers, short texts, flags and
/// fractions in turn, under keys `field_0000000`, `field_0000001`, ...
pub fn flat(keys: usize) -> Payload {
    (0..keys)
        .map(|i| (format!("field_{i:07}"), flat_value(i)))
        .collect()
}

fn flat_value(i: usize) -> Value {
    match i % 4 {
        0 => Value::from(i),
        1 => Value::from(format!("status ok, item {i}")),
        2 => Value::Bool(i.is_multiple_of(3)),
        _ => Value::from(i as f64 / 8.0),
    }
}

/// `leaf` inside `depth` levels of one-element arrays, or of one-entry
/// objects (key `"k"`) when `objects`.
pub fn nest(depth: usize, leaf: Value, objects: bool) -> Value {
    let mut value = leaf;
    for _ in 0..depth {
        value = if objects {
            Value::Object(Map::from_iter([("k".to_owned(), value)]))
        } else {
            Value::Array(vec![value])
        };
    }
    value
}

/// A payload whose one key, `"deep"`, holds [`nest`]`(depth, null, false)`.
pub fn deep_payload(depth: usize) -> Payload {
    Payload::from_iter([("deep".to_owned(), nest(depth, Value::Null, false))])
}

/// Drops `value` without recursion (`serde_json`'s drop recurses once per
/// level and overflows the stack on deep values).
pub fn dismantle(value: Value) {
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        match value {
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => stack.extend(map.into_iter().map(|(_, v)| v)),
            _ => {}
        }
    }
}

/// [`dismantle`] for every value of a payload.
pub fn dismantle_payload(payload: Payload) {
    dismantle(Value::Object(payload));
}

/// Runs `f` on a thread with a 1 GiB stack (reserved, used only as far as
/// touched), for `serde_json`'s serializer, which recurses once per level.
/// A panic in `f` is passed on.
pub fn on_big_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| {
        let thread = std::thread::Builder::new()
            .name("big-stack".into())
            .stack_size(1 << 30)
            .spawn_scoped(scope, f);
        match thread.map(|t| t.join()) {
            Ok(Ok(value)) => value,
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            Err(e) => panic!("cannot spawn a big-stack thread: {e}"),
        }
    })
}

/// `serde_json::to_string` of a payload of any depth.
pub fn to_json(payload: &Payload) -> String {
    on_big_stack(|| serde_json::to_string(payload).unwrap_or_default())
}
