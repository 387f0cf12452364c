//! Property tests of the sanitizer over arbitrary JSON and strings: it never
//! panics, its output is valid JSON within 10 KiB, and a planted secret never
//! survives, wherever it is planted.

use observe::error_payload::MAX_PAYLOAD_BYTES;
use observe::{CorrelationContext, Event, EventType, Payload, Sanitizer};
use proptest::prelude::*;
use serde_json::{Map, Value};

/// One fake secret per kind of rule.
const SECRETS: &[&str] = &[
    "AKIAZ7XQ4M2KP9RTW3NB",
    "ghp_Q7aZ4xK2mP9rT3wN8bV5cL1dF6gH0jS4eU2y",
    "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01234567",
    "xoxb-123456789012-1234567890123-Zq8Wx7Cv6Bn5Mk4Lj3Hg2Fd1",
    "https://hooks.slack.com/services/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A",
    "sk_live_51HqZx8Lm4Np7Qr2St5Uv9Wx",
    "AIzaSyD4x-8Lm4Np7Qr2St5Uv9Wx0Yz1Ab2Cd3E",
    "sk-proj-Zx8Lm4Np7Qr2St5Uv9Wx0Yz1Ab2Cd3Ef4Gh5Ij6",
    "sk-ant-api03-Zx8Lm4Np7Qr2St5Uv9Wx0Yz1Ab2Cd3Ef4Gh5Ij6Kl7",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJmYWtlLXVzZXIifQ.Qm9ndXNTaWduYXR1cmVGb3JUZXN0cw",
    "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDfake\n-----END PRIVATE KEY-----",
    "Bearer Zx8Lm4Np7Qr2St5Uv9Wx0Yz1",
    "https://svc:Pa55-w0rd-Fake@db.example.com",
    "password=Fake-Passw0rd-123",
    "api_key: Zx8Lm4Np7Qr2St5U",
    "jane.roe@example.com",
    "+1 415 555 0132",
    "(212) 555-0147",
    "4111 1111 1111 1111",
    "5555555555554444",
];

/// The part of each secret that must not survive (for assignments and
/// `Bearer`, the value; for URLs, the password).
fn core(secret: &str) -> &str {
    for prefix in ["password=", "api_key: ", "Bearer "] {
        if let Some(rest) = secret.strip_prefix(prefix) {
            return rest;
        }
    }
    if secret.starts_with("https://svc:") {
        return "Pa55-w0rd-Fake";
    }
    secret
}

fn arb_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "\\PC{0,40}".prop_map(Value::String),
        "[ -~]{0,40}".prop_map(Value::String),
        ("[a-z0-9 ]{1,8}", 0usize..4000).prop_map(|(s, n)| Value::String(s.repeat(n))),
    ]
}

fn arb_json() -> impl Strategy<Value = Value> {
    arb_leaf().prop_recursive(5, 96, 12, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..12).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z_]{0,12}|\\PC{0,8}", inner, 0..10)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn arb_payload() -> impl Strategy<Value = Payload> {
    prop::collection::btree_map("[a-zA-Z_]{1,12}", arb_json(), 0..8)
        .prop_map(|m| m.into_iter().collect::<Map<String, Value>>())
}

/// Text around a planted secret, kept apart from it by a space.
fn arb_filler() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 .,;:!?()éü€-]{0,30}"
}

/// Where to plant a secret in a payload.
#[derive(Clone, Debug)]
enum Spot {
    TopValue,
    Key,
    Nested(usize),
    InArray(usize),
    JsonString,
    QueryString,
}

fn arb_spot() -> impl Strategy<Value = Spot> {
    prop_oneof![
        Just(Spot::TopValue),
        Just(Spot::Key),
        (1usize..80).prop_map(Spot::Nested),
        (0usize..20).prop_map(Spot::InArray),
        Just(Spot::JsonString),
        Just(Spot::QueryString),
    ]
}

fn plant(payload: &mut Payload, spot: &Spot, text: String) {
    match spot {
        Spot::TopValue => {
            payload.insert("planted".into(), Value::String(text));
        }
        Spot::Key => {
            payload.insert(text, Value::from(1));
        }
        Spot::Nested(depth) => {
            let mut value = Value::String(text);
            for level in 0..*depth {
                let mut map = Map::new();
                map.insert(format!("level{level}"), value);
                value = Value::Object(map);
            }
            payload.insert("nested".into(), value);
        }
        Spot::InArray(at) => {
            let mut items: Vec<Value> = (0..20).map(Value::from).collect();
            items.insert(*at, Value::String(text));
            payload.insert("items".into(), Value::Array(items));
        }
        Spot::JsonString => {
            let inner = serde_json::json!({ "note": text, "n": 1 }).to_string();
            payload.insert("raw".into(), Value::String(inner));
        }
        Spot::QueryString => {
            let url = format!("https://example.com/cb?a=1&note={text}&b=2");
            payload.insert("url".into(), Value::String(url));
        }
    }
}

fn serialized(payload: &Payload) -> String {
    serde_json::to_string(payload).unwrap_or_default()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn payload_output_is_valid_json_within_the_limit(mut payload in arb_payload()) {
        let sanitizer = Sanitizer::new();
        let report = sanitizer.sanitize_payload(&mut payload);
        let json = serialized(&payload);
        prop_assert!(json.len() <= MAX_PAYLOAD_BYTES, "{} bytes", json.len());
        let back: Result<Value, _> = serde_json::from_str(&json);
        prop_assert!(back.is_ok());
        if report.truncated() && payload.contains_key("_truncated") {
            prop_assert_eq!(&payload["_truncated"], &Value::Bool(true));
        }
    }

    #[test]
    fn error_events_keep_their_limits(
        mut payload in arb_payload(),
        message in "\\PC{0,700}",
        frames in prop::collection::vec("\\PC{0,60}", 0..30),
        preview in "\\PC{0,200}",
    ) {
        payload.insert("error_message".into(), Value::String(message));
        payload.insert("stack_frames".into(), Value::from(frames.clone()));
        payload.insert("input_preview".into(), Value::String(preview));
        let mut event = Event::new(EventType::ErrorOccurred, &CorrelationContext::new_root());
        event.payload = payload;
        Sanitizer::new().sanitize_event(&mut event);
        let p = &event.payload;
        prop_assert!(serialized(p).len() <= MAX_PAYLOAD_BYTES);
        if let Some(Value::String(m)) = p.get("error_message") {
            prop_assert!(m.chars().count() <= 500);
        }
        if let Some(Value::String(m)) = p.get("input_preview") {
            prop_assert!(m.chars().count() <= 100);
        }
        if let Some(Value::Array(kept)) = p.get("stack_frames") {
            prop_assert!(kept.len() <= 10);
            if frames.len() > 10 && kept.len() == 10 {
                prop_assert_eq!(p["stack_frames_omitted"].as_u64(), Some(frames.len() as u64 - 10));
            }
        }
    }

    #[test]
    fn scrub_str_never_panics(text in "\\PC{0,300}") {
        let (clean, _) = Sanitizer::new().scrub_str(&text);
        prop_assert!(clean.len() <= text.len() + 10 * text.len());
    }

    #[test]
    fn scrub_str_never_panics_on_secret_like_fragments(
        parts in prop::collection::vec(
            prop_oneof![
                prop::sample::select(vec![
                    "sk-", "sk-ant-", "ghp_", "github_pat_", "xoxb-", "AKIA", "AIza", "eyJ", ".", "@",
                    "://", ":", "=", "&", "\"", "'", "\\", "{", "}", "[", "]", "+1", "(", ")", "-",
                    "-----BEGIN PRIVATE KEY-----", "-----END PRIVATE KEY-----", "Bearer ",
                    "password", "token", "4111", " ", "\n", "é", "😀",
                ]).prop_map(str::to_owned),
                "[A-Za-z0-9]{0,24}",
            ],
            0..40,
        )
    ) {
        let text = parts.concat();
        let (clean, report) = Sanitizer::new().scrub_str(&text);
        prop_assert!(report.total() == 0 || clean.contains("[REDACTED]"));
    }

    #[test]
    fn a_planted_secret_never_survives(
        mut payload in arb_payload(),
        secret in prop::sample::select(SECRETS),
        before in arb_filler(),
        after in arb_filler(),
        spot in arb_spot(),
    ) {
        let text = format!("{before} {secret} {after}");
        plant(&mut payload, &spot, text);
        Sanitizer::new().sanitize_payload(&mut payload);
        let out = serialized(&payload);
        prop_assert!(out.len() <= MAX_PAYLOAD_BYTES);
        let core = core(secret);
        let escaped = serde_json::to_string(core).unwrap_or_default();
        let escaped = &escaped[1..escaped.len() - 1];
        prop_assert!(!out.contains(core), "{:?} survived at {:?}: {}", core, spot, out);
        prop_assert!(!out.contains(escaped), "{:?} survived at {:?}: {}", core, spot, out);
    }

    #[test]
    fn a_planted_secret_never_survives_in_text(
        secret in prop::sample::select(SECRETS),
        before in arb_filler(),
        after in arb_filler(),
        max_chars in 0usize..200,
    ) {
        let text = format!("{before} {secret} {after}");
        let sanitizer = Sanitizer::new();
        let (clean, report) = sanitizer.scrub_str(&text);
        prop_assert!(!clean.contains(core(secret)), "{:?}", clean);
        prop_assert!(report.total() >= 1);
        let preview = sanitizer.preview(&text, max_chars);
        prop_assert!(preview.chars().count() <= max_chars);
        prop_assert!(!preview.contains(core(secret)));
    }
}
