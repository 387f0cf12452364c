//! What the sanitizer did: how many redactions each rule made, and whether
//! anything was cut.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Serialize, Serializer};

/// Counts of redactions per rule name, plus whether any text, array, key or
/// nesting was cut. The pipeline attaches it to the event.
///
/// Serializes as a JSON object `{rule: count}`, rules in name order.
///
/// ```
/// use observe::Sanitizer;
///
/// let (clean, report) = Sanitizer::new().scrub_str("mail jane.doe@example.com or call +1 415 555 0132");
/// assert_eq!(clean, "mail [REDACTED] or call [REDACTED]");
/// assert_eq!(report.total(), 2);
/// assert_eq!(serde_json::to_string(&report).unwrap(), r#"{"email":1,"phone":1}"#);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SanitizeReport {
    counts: BTreeMap<Cow<'static, str>, u64>,
    truncated: bool,
}

impl SanitizeReport {
    /// Whether nothing was redacted and nothing was cut.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty() && !self.truncated
    }

    /// Total number of redactions over all rules.
    pub fn total(&self) -> u64 {
        self.counts
            .values()
            .fold(0u64, |acc, &n| acc.saturating_add(n))
    }

    /// The redaction count of one rule (0 when it never fired).
    pub fn count(&self, rule: &str) -> u64 {
        self.counts.get(rule).copied().unwrap_or(0)
    }

    /// `(rule, count)` pairs, in rule name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.counts.iter().map(|(rule, &n)| (rule.as_ref(), n))
    }

    /// Whether something was cut: a string, stack frames, an array, a key, or
    /// nesting deeper than the depth limit.
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// Adds the counts (and the truncation flag) of `other` to this report.
    pub fn merge(&mut self, other: &SanitizeReport) {
        for (rule, &n) in &other.counts {
            let slot = self.counts.entry(rule.clone()).or_insert(0);
            *slot = slot.saturating_add(n);
        }
        self.truncated |= other.truncated;
    }

    // A `Cow` rather than `&str`: a built-in name is stored without copying.
    #[allow(clippy::ptr_arg)]
    pub(crate) fn add(&mut self, rule: &Cow<'static, str>, n: u64) {
        if let Some(slot) = self.counts.get_mut(rule.as_ref()) {
            *slot = slot.saturating_add(n);
        } else {
            self.counts.insert(rule.clone(), n);
        }
    }

    pub(crate) fn mark_truncated(&mut self) {
        self.truncated = true;
    }
}

impl Serialize for SanitizeReport {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_merge_and_serialize() {
        let email: Cow<'static, str> = Cow::Borrowed("email");
        let custom: Cow<'static, str> = Cow::Owned("ticket".to_owned());
        let mut a = SanitizeReport::default();
        assert!(a.is_empty());
        a.add(&email, 2);
        let mut b = SanitizeReport::default();
        b.add(&email, 1);
        b.add(&custom, 4);
        b.mark_truncated();
        a.merge(&b);
        assert_eq!(a.count("email"), 3);
        assert_eq!(a.count("ticket"), 4);
        assert_eq!(a.count("phone"), 0);
        assert_eq!(a.total(), 7);
        assert!(a.truncated());
        assert_eq!(
            a.iter().collect::<Vec<_>>(),
            vec![("email", 3), ("ticket", 4)]
        );
        assert_eq!(
            serde_json::to_string(&a).unwrap_or_default(),
            r#"{"email":3,"ticket":4}"#
        );
    }

    #[test]
    fn truncation_alone_makes_a_report_non_empty() {
        let mut r = SanitizeReport::default();
        r.mark_truncated();
        assert!(!r.is_empty());
        assert_eq!(r.total(), 0);
    }
}
