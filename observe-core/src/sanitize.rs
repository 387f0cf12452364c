//! PLACEHOLDER sanitizer, standing in for the real module (written in
//! parallel) so that the pipeline can be built and tested against its API.
//! It redacts any string containing `sk-` and caps the payload at 10 KiB.
//! Drop this file at merge time; the real module replaces it.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::Event;
use crate::error_payload::MAX_PAYLOAD_BYTES;

/// Removes secrets and PII from events and enforces the payload size limit.
#[derive(Clone, Debug, Default)]
pub struct Sanitizer {
    _rules: (),
}

impl Sanitizer {
    /// A sanitizer with the built-in rules.
    pub fn new() -> Sanitizer {
        Sanitizer::default()
    }

    /// Scrubs the event's payload in place and reports what it changed.
    pub fn sanitize_event(&self, event: &mut Event) -> SanitizeReport {
        let mut report = SanitizeReport::default();
        for value in event.payload.values_mut() {
            scrub(value, &mut report);
        }
        let size = serde_json::to_vec(&event.payload).map_or(usize::MAX, |v| v.len());
        if size > MAX_PAYLOAD_BYTES {
            event.payload = crate::Payload::from_iter([(
                "_truncated".to_owned(),
                serde_json::Value::Bool(true),
            )]);
            report.truncated = true;
        }
        report
    }
}

fn scrub(value: &mut serde_json::Value, report: &mut SanitizeReport) {
    match value {
        serde_json::Value::String(s) if s.contains("sk-") => {
            *s = "[REDACTED]".to_owned();
            *report.counts.entry("api_key".to_owned()).or_default() += 1;
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| scrub(v, report)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| scrub(v, report)),
        _ => {}
    }
}

/// What a sanitizer changed in one event: how many matches per rule, and
/// whether the payload was cut to the size limit. Serializes as
/// `{rule: count}`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SanitizeReport {
    counts: BTreeMap<String, u64>,
    truncated: bool,
}

impl SanitizeReport {
    /// Nothing was changed.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty() && !self.truncated
    }

    /// How many matches in all.
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }

    /// Matches per rule.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.counts.iter().map(|(k, v)| (k.as_str(), *v))
    }

    /// The payload was cut to the size limit.
    pub fn truncated(&self) -> bool {
        self.truncated
    }
}

impl Serialize for SanitizeReport {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.counts.serialize(serializer)
    }
}
