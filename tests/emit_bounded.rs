//! The caller's side of `emit!` is bounded: whatever the payload (deep,
//! huge, failing or panicking `Serialize` impls, keys JSON cannot have),
//! `emit!` returns normally after bounded work, and the event records what
//! was cut. Ordinary payloads come out exactly as `serde_json` writes them.

mod common;

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use common::serial;
use observe::sink::MemorySink;
use observe::{Config, EventType, FlushOutcome};
use proptest::prelude::*;
use serde::Serialize;
use serde::ser::{SerializeSeq, SerializeStruct, Serializer};
use serde_json::{Value, json};

/// Installs a pipeline with a memory sink, runs `emit`, and returns the
/// payloads of the events it emitted.
fn emitted(emit: impl FnOnce()) -> Vec<Value> {
    let _serial = serial();
    let sink = MemorySink::new();
    let guard = observe::init(Config::default().sink(sink.clone())).unwrap();
    emit();
    assert_eq!(
        observe::flush(Duration::from_secs(10)),
        FlushOutcome::Flushed
    );
    drop(guard);
    sink.events()
        .into_iter()
        .map(|event| Value::Object(event.payload))
        .collect()
}

/// A user type nested `depth` levels deep, each level a struct whose one
/// field is the next level: serializing it recurses once per level.
struct Nested {
    depth: usize,
}

impl Serialize for Nested {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut level = serializer.serialize_struct("Nested", 1)?;
        if self.depth == 0 {
            level.serialize_field("leaf", &true)?;
        } else {
            level.serialize_field(
                "child",
                &Nested {
                    depth: self.depth - 1,
                },
            )?;
        }
        level.end()
    }
}

fn nesting(mut value: &Value, key: &str) -> usize {
    let mut depth = 0;
    while let Some(inner) = value.get(key) {
        depth += 1;
        value = inner;
    }
    depth
}

#[test]
fn emit_of_a_value_nested_100_000_deep_is_cut_at_the_depth_limit_without_overflowing() {
    let events = emitted(|| {
        observe::emit!(EventType::MessageReceived, Nested { depth: 100_000 });
    });
    let payload = &events[0];
    assert_eq!(payload["_truncated"], true);
    assert_eq!(payload["_truncated_at_source"]["depth"], 1);
    // Levels 1 to 64 are objects; the 65th is the marker.
    assert_eq!(nesting(payload, "child"), observe::sanitize::MAX_DEPTH);
    assert!(
        payload
            .to_string()
            .contains(observe::sanitize::DEPTH_MARKER)
    );
}

struct Panics;

impl Serialize for Panics {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        panic!("the user's Serialize impl panicked")
    }
}

#[test]
fn emit_with_a_panicking_serialize_impl_returns_normally_and_records_the_panic() {
    let events = emitted(|| {
        observe::emit!(EventType::MessageReceived, Panics);
        observe::emit!(EventType::MessageReceived, { "kept": 1, "bad": Panics });
    });
    assert_eq!(
        events[0]["_serialize_panic"],
        "the user's Serialize impl panicked"
    );
    assert_eq!(events[1]["kept"], 1);
    assert_eq!(
        events[1]["bad"]["_serialize_panic"],
        "the user's Serialize impl panicked"
    );
}

#[test]
fn emit_object_form_with_non_string_keys_records_an_error_and_keeps_the_other_keys() {
    let by_bytes: HashMap<Vec<u8>, u8> = HashMap::from([(vec![1, 2], 3)]);
    let events = emitted(|| {
        observe::emit!(EventType::MessageReceived, {
            "channel": "web",
            "by_bytes": by_bytes,
            "nested": { "also": by_bytes, "n": 2 },
        });
        observe::emit!(EventType::MessageReceived, by_bytes);
    });
    let payload = &events[0];
    assert_eq!(payload["channel"], "web");
    assert_eq!(payload["nested"]["n"], 2);
    let error = "1 entries skipped: key must be a string";
    assert_eq!(payload["by_bytes"], json!({ "_serialize_error": error }));
    assert_eq!(payload["nested"]["also"]["_serialize_error"], error);
    assert_eq!(events[1]["_serialize_error"], error);
}

/// A sequence of `len` numbers that counts the elements it hands over.
struct Counted<'a> {
    len: u64,
    visited: &'a Cell<u64>,
}

impl Serialize for Counted<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len as usize))?;
        for n in 0..self.len {
            self.visited.set(self.visited.get() + 1);
            seq.serialize_element(&n)?;
        }
        seq.end()
    }
}

#[test]
fn emit_of_a_10_mb_value_stops_serializing_at_the_budget_and_says_so() {
    let visited = Cell::new(0);
    let text = "lorem ipsum ".repeat(900_000);
    let events = emitted(|| {
        observe::emit!(
            EventType::MessageReceived,
            Counted {
                len: 10_000_000,
                visited: &visited
            }
        );
        observe::emit!(EventType::MessageReceived, { "text": text });
    });
    // Elements are handed over only up to the 64 KiB budget (~9,000 of
    // them), not all ten million.
    assert!(visited.get() < 20_000, "visited {}", visited.get());
    let payload = &events[0];
    assert_eq!(payload["_truncated"], true);
    assert_eq!(payload["_truncated_at_source"]["bytes"], true);

    let payload = &events[1];
    assert_eq!(payload["_truncated_at_source"]["strings"], 1);
    let kept = payload["text"].as_str().unwrap();
    assert!(kept.len() < 16 * 1024);
    assert!(kept.ends_with(observe::sanitize::TRUNCATION_MARKER));
}

#[test]
fn emit_trailing_comma_keeps_the_value_itself() {
    let events = emitted(|| observe::emit!(EventType::ResponseSent, vec![1, 2, 3],));
    assert_eq!(events[0]["value"], json!([1, 2, 3]));
}

#[test]
fn emit_object_form_writes_literals_and_nesting_as_json_does() {
    let user_id = 42;
    let key = String::from("dynamic");
    let events = emitted(|| {
        observe::emit!(EventType::MessageReceived, {
            "null": null,
            "yes": true,
            "n": -1.5,
            "s": "text",
            "list": [1, "two", null, { "three": 3 }, [user_id]],
            key.as_str(): user_id,
        })
    });
    assert_eq!(
        events[0],
        json!({
            "null": null,
            "yes": true,
            "n": -1.5,
            "s": "text",
            "list": [1, "two", null, { "three": 3 }, [42]],
            "dynamic": 42,
        })
    );
}

#[derive(Clone, Debug, Serialize)]
enum Kind {
    Unit,
    Newtype(i8),
    Tuple(u8, bool),
    Struct { name: String },
}

#[derive(Clone, Debug, Serialize)]
struct Ordinary {
    id: u64,
    label: String,
    score: f64,
    ratio: f32,
    missing: Option<String>,
    kinds: Vec<Kind>,
    counts: BTreeMap<u16, i64>,
}

fn ordinary() -> impl Strategy<Value = Ordinary> {
    let kind = prop_oneof![
        Just(Kind::Unit),
        any::<i8>().prop_map(Kind::Newtype),
        (any::<u8>(), any::<bool>()).prop_map(|(a, b)| Kind::Tuple(a, b)),
        any::<String>().prop_map(|name| Kind::Struct { name }),
    ];
    (
        any::<u64>(),
        any::<String>(),
        any::<f64>(),
        any::<f32>(),
        proptest::option::of(any::<String>()),
        proptest::collection::vec(kind, 0..5),
        proptest::collection::btree_map(any::<u16>(), any::<i64>(), 0..5),
    )
        .prop_map(
            |(id, label, score, ratio, missing, kinds, counts)| Ordinary {
                id,
                label,
                score,
                ratio,
                missing,
                kinds,
                counts,
            },
        )
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any::<String>().prop_map(Value::from),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::btree_map(any::<String>(), inner, 0..8)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn payloads_within_the_limits_are_exactly_what_serde_json_makes(
        value in ordinary(),
        json in json_value(),
    ) {
        let expected = serde_json::to_value(&value).unwrap();
        prop_assert_eq!(observe::record::to_payload(&value), expected);
        prop_assert_eq!(observe::record::to_payload(&json), json);
    }
}
