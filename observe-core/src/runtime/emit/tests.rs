//! The bounded serializer against `serde_json::to_value`, and at its limits.

use std::cell::Cell;
use std::collections::BTreeMap;

use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq, SerializeStruct, Serializer};
use serde_json::{Value, json};

use super::*;
use crate::delivery::sanitize::{DEPTH_MARKER, MAX_DEPTH, TRUNCATION_MARKER};

#[derive(Serialize)]
enum Shape {
    Unit,
    Newtype(u8),
    Tuple(i32, String),
    Struct { x: f64, tags: Vec<char> },
}

#[derive(Serialize)]
struct Ordinary {
    id: u64,
    name: String,
    ratio: f32,
    missing: Option<u8>,
    shapes: Vec<Shape>,
    by_id: BTreeMap<i64, bool>,
    by_flag: BTreeMap<bool, ()>,
    by_char: BTreeMap<char, i8>,
    pair: (u128, i128),
    text: &'static str,
    nan: f64,
    bytes: &'static [u8],
}

#[test]
fn ordinary_values_serialize_exactly_as_serde_json() {
    let value = Ordinary {
        id: u64::MAX,
        name: "Zoë — 東京 🚀 \"quoted\"\n".to_owned(),
        ratio: 0.1,
        missing: None,
        shapes: vec![
            Shape::Unit,
            Shape::Newtype(7),
            Shape::Tuple(-3, "t".to_owned()),
            Shape::Struct {
                x: 1e300,
                tags: vec!['a', 'é'],
            },
        ],
        by_id: BTreeMap::from([(-1, true), (20, false)]),
        by_flag: BTreeMap::from([(true, ())]),
        by_char: BTreeMap::from([('k', -8)]),
        pair: (u128::from(u64::MAX), i128::from(i64::MIN)),
        text: "",
        nan: f64::NAN,
        bytes: b"\x00\xff",
    };
    assert_eq!(to_payload(&value), serde_json::to_value(&value).unwrap());
    let float_keys = BTreeMap::from([(1u8, 2.5f32)]);
    assert_eq!(
        to_payload(&float_keys),
        serde_json::to_value(&float_keys).unwrap()
    );
}

/// A list nested `0` levels deep, built only while it is serialized.
struct Deep(usize);

impl Serialize for Deep {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0 == 0 {
            return serializer.serialize_u8(0);
        }
        let mut seq = serializer.serialize_seq(Some(1))?;
        seq.serialize_element(&Deep(self.0 - 1))?;
        seq.end()
    }
}

fn depth_of(mut value: &Value) -> usize {
    let mut depth = 0;
    while let Some(inner) = value.as_array().and_then(|items| items.first()) {
        depth += 1;
        value = inner;
    }
    depth
}

#[test]
fn deep_values_stop_at_the_depth_limit_without_recursing_further() {
    // 100,000 levels would overflow any test thread's stack unbounded.
    let payload = to_payload(&Deep(100_000));
    assert_eq!(payload["_truncated"], true);
    assert_eq!(payload["_truncated_at_source"]["depth"], 1);
    let kept = &payload["value"];
    assert_eq!(depth_of(kept), MAX_DEPTH);
    assert!(kept.to_string().contains(DEPTH_MARKER));
    // At the limit exactly, nothing is cut.
    assert_eq!(
        to_payload(&Deep(MAX_DEPTH)),
        serde_json::to_value(Deep(MAX_DEPTH)).unwrap()
    );
}

/// A sequence of `len` numbers that counts how many were visited.
struct Counted<'a> {
    len: u64,
    visited: &'a Cell<u64>,
}

impl Serialize for Counted<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(None)?;
        for n in 0..self.len {
            self.visited.set(self.visited.get() + 1);
            seq.serialize_element(&(1_000_000 + n))?;
        }
        seq.end()
    }
}

#[test]
fn a_huge_sequence_is_visited_only_up_to_the_budget() {
    let visited = Cell::new(0);
    let payload = to_payload(&Counted {
        len: 10_000_000,
        visited: &visited,
    });
    assert!(visited.get() < 10_000, "visited {}", visited.get());
    assert_eq!(payload["_truncated_at_source"]["bytes"], true);
    let kept = payload["value"].as_array().unwrap().len() as u64;
    assert!(kept + 1 >= visited.get() && kept > 5_000);
    let size = payload.to_string().len();
    assert!(size <= BUDGET_BYTES + 200, "{size}");
}

#[test]
fn the_budget_keeps_what_was_built_and_skips_the_rest_whole() {
    #[derive(Serialize)]
    struct Report {
        first: &'static str,
        pages: Vec<String>,
        last: &'static str,
    }
    let report = Report {
        first: "kept",
        pages: (0..200)
            .map(|n| format!("page {n} {}", "x".repeat(1000)))
            .collect(),
        last: "skipped",
    };
    let payload = to_payload(&report);
    assert_eq!(payload["first"], "kept");
    assert!(payload.get("last").is_none());
    let pages = payload["pages"].as_array().unwrap();
    assert!(pages.len() > 50 && pages.len() < 70, "{}", pages.len());
    assert_eq!(pages[0], report.pages[0].as_str());
    assert_eq!(payload["_truncated_at_source"]["bytes"], true);
}

#[test]
fn long_strings_are_cut_at_a_separator_with_the_marker() {
    let text = format!("{} {}", "word ".repeat(5_000), "T".repeat(20_000));
    let payload = to_payload(&json!({ "text": text, "short": "ok" }));
    let cut = payload["text"].as_str().unwrap();
    assert!(cut.len() <= MAX_STRING_BYTES);
    assert!(cut.ends_with(&format!("word {TRUNCATION_MARKER}")));
    assert_eq!(payload["short"], "ok");
    assert_eq!(payload["_truncated_at_source"]["strings"], 1);
    assert_eq!(payload["_truncated_at_source"]["bytes"], false);
}

struct Panics;

impl Serialize for Panics {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        panic!("serialize exploded")
    }
}

struct Fails;

impl Serialize for Fails {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("no way"))
    }
}

#[test]
fn a_panicking_or_failing_impl_becomes_a_note_not_a_panic() {
    assert_eq!(
        to_payload(&Panics),
        json!({ "_serialize_panic": "serialize exploded" })
    );
    assert_eq!(to_payload(&Fails), json!({ "_serialize_error": "no way" }));
    let mut payload = PayloadBuilder::new();
    payload.object();
    payload.field("a", &1);
    payload.field("b", &Panics);
    payload.field("c", &Fails);
    payload.field("d", &2);
    assert_eq!(
        payload.finish(),
        json!({
            "a": 1,
            "b": { "_serialize_panic": "serialize exploded" },
            "c": { "_serialize_error": "no way" },
            "d": 2,
        })
    );
}

/// A map whose second key is a list, which JSON cannot have.
struct MixedKeys;

impl Serialize for MixedKeys {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("a", &1)?;
        map.serialize_entry(&[1, 2], &2)?;
        map.serialize_entry(&3, &3)?;
        map.end()
    }
}

#[test]
fn entries_with_non_string_keys_are_skipped_and_recorded() {
    assert_eq!(
        to_payload(&MixedKeys),
        json!({ "a": 1, "3": 3, "_serialize_error": "1 entries skipped: key must be a string" })
    );
}

/// Ignores the serializer's errors and goes on: must stay bounded and
/// keep a well-formed payload.
struct Stubborn;

impl Serialize for Stubborn {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut outer = serializer.serialize_struct("Stubborn", 2)?;
        let _ = outer.serialize_field("deep", &Deep(200));
        let _ = outer.serialize_field("after", &"still here");
        outer.end()
    }
}

#[test]
fn an_impl_that_ignores_errors_still_yields_a_well_formed_payload() {
    let payload = to_payload(&Stubborn);
    assert_eq!(payload["after"], "still here");
    assert_eq!(depth_of(&payload["deep"]), MAX_DEPTH - 1);
}

#[test]
fn huge_display_output_is_collected_only_up_to_the_cap() {
    struct Endless;
    impl std::fmt::Display for Endless {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            loop {
                f.write_str("more ")?;
            }
        }
    }
    struct ViaDisplay;
    impl Serialize for ViaDisplay {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_str(&Endless)
        }
    }
    let payload = to_payload(&ViaDisplay);
    let text = payload["value"].as_str().unwrap();
    assert!(text.len() <= MAX_STRING_BYTES && text.ends_with(TRUNCATION_MARKER));
}

#[test]
fn object_form_entries_past_the_budget_are_left_out_whole() {
    let page = "word ".repeat(3_000);
    let mut payload = PayloadBuilder::new();
    payload.object();
    for n in 0..10 {
        payload.field(format!("page{n}"), &page);
    }
    payload.field("last", &1);
    let payload = payload.finish();
    let pages = (0..10).filter(|n| payload.get(format!("page{n}")).is_some());
    // 15,000-byte pages: four fit whole, the fifth is cut, the rest are
    // left out (not null).
    assert_eq!(pages.count(), 5);
    assert!(payload.get("last").is_none());
    assert!(
        payload["page4"]
            .as_str()
            .unwrap()
            .ends_with(TRUNCATION_MARKER)
    );
    assert_eq!(payload["_truncated_at_source"]["bytes"], true);
}
