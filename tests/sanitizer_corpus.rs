//! The sanitizer against a corpus of fake secrets and look-alikes
//! (`tests/fixtures/sanitizer_corpus.txt`): every positive loses its secret,
//! wherever it sits in a payload; every negative comes through unchanged.

use observe::{Sanitizer, sanitize::REDACTED};
use serde_json::{Value, json};

const CORPUS: &str = include_str!("fixtures/sanitizer_corpus.txt");

struct Positive {
    line: usize,
    rule: String,
    secret: String,
    text: String,
}

fn unescape(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

fn corpus() -> (Vec<Positive>, Vec<(usize, String)>) {
    let mut positives = Vec::new();
    let mut negatives = Vec::new();
    for (i, line) in CORPUS.lines().enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        match fields.as_slice() {
            ["+", rule, secret, text] => positives.push(Positive {
                line: line_no,
                rule: (*rule).to_owned(),
                secret: unescape(secret),
                text: unescape(text),
            }),
            ["-", text] => negatives.push((line_no, unescape(text))),
            _ => panic!("corpus line {line_no} is malformed: {line:?}"),
        }
    }
    (positives, negatives)
}

#[test]
fn corpus_is_large_enough_and_well_formed() {
    let (positives, negatives) = corpus();
    assert!(positives.len() >= 60, "{} positives", positives.len());
    assert!(negatives.len() >= 60, "{} negatives", negatives.len());
    for p in &positives {
        assert!(
            p.text.contains(&p.secret),
            "line {}: the secret is not in the text",
            p.line
        );
        assert!(
            Sanitizer::builtin_rules().any(|r| r == p.rule),
            "line {}: unknown rule {}",
            p.line,
            p.rule
        );
    }
}

#[test]
fn positives_lose_their_secret_in_plain_text() {
    let sanitizer = Sanitizer::new();
    let mut failures = Vec::new();
    for p in corpus().0 {
        let (clean, report) = sanitizer.scrub_str(&p.text);
        if clean.contains(&p.secret) || !clean.contains(REDACTED) {
            failures.push(format!("line {}: secret survived in {clean:?}", p.line));
        } else if report.count(&p.rule) == 0 {
            failures.push(format!(
                "line {}: expected rule {} to fire, report {:?}",
                p.line,
                p.rule,
                report.iter().collect::<Vec<_>>()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn positives_lose_their_secret_anywhere_in_a_payload() {
    let sanitizer = Sanitizer::new();
    let mut failures = Vec::new();
    for p in corpus().0 {
        let as_json_string = json!({ "body": p.text }).to_string();
        let shapes = [
            json!({ "message": p.text }),
            json!({ "a": { "b": [ { "c": p.text } ] } }),
            json!({ "raw": as_json_string }),
            json!({ "list": [1, "x", p.text] }),
            json!({ p.text.clone(): "text used as a key" }),
        ];
        for (n, shape) in shapes.into_iter().enumerate() {
            let Value::Object(mut payload) = shape else {
                unreachable!()
            };
            sanitizer.sanitize_payload(&mut payload);
            let out = serde_json::to_string(&payload).unwrap_or_default();
            // Compare both raw and as JSON-escaped text.
            let escaped = serde_json::to_string(&p.secret).unwrap_or_default();
            let escaped = &escaped[1..escaped.len() - 1];
            if out.contains(&p.secret) || out.contains(escaped) {
                failures.push(format!(
                    "line {} shape {n}: secret survived in {out}",
                    p.line
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn negatives_come_through_unchanged() {
    let sanitizer = Sanitizer::new();
    let mut failures = Vec::new();
    for (line, text) in corpus().1 {
        let (clean, report) = sanitizer.scrub_str(&text);
        if clean != text || !report.is_empty() {
            failures.push(format!("line {line}: {text:?} became {clean:?}"));
        }
        let Value::Object(mut payload) = json!({ "message": text, "nested": [{ "v": text }] })
        else {
            unreachable!()
        };
        let before = payload.clone();
        let report = sanitizer.sanitize_payload(&mut payload);
        if payload != before || !report.is_empty() {
            failures.push(format!("line {line}: payload changed: {payload:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
