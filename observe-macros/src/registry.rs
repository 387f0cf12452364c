//! The built-in registry as the macros see it: processor names, event type
//! names, and "did you mean" suggestions for misspellings.
//!
//! The runtime's `observe_core::model::registry` and `observe_core::EventType` are
//! the source of truth; the tests at the end of this file check that these
//! tables agree with them, name for name and in order.

/// Processors of the built-in registry.
pub const PROCESSORS: &[&str] = &["intent", "retrieval", "llm", "translation"];

/// Wire names of the built-in event types, with their enum variants.
pub const EVENT_TYPES: &[(&str, &str)] = &[
    ("message_received", "MessageReceived"),
    ("intent_started", "IntentStarted"),
    ("intent_classified", "IntentClassified"),
    ("retrieval_started", "RetrievalStarted"),
    ("retrieval_complete", "RetrievalComplete"),
    ("llm_started", "LlmStarted"),
    ("llm_complete", "LlmComplete"),
    ("translation_started", "TranslationStarted"),
    ("translation_complete", "TranslationComplete"),
    ("response_sent", "ResponseSent"),
    ("error_occurred", "ErrorOccurred"),
    ("span_started", "SpanStarted"),
    ("span_complete", "SpanComplete"),
    ("log_recorded", "LogRecorded"),
];

/// The candidate closest to `name` by edit distance, if it is close enough
/// to be a plausible misspelling.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let name = name.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (edit_distance(&name, c), c))
        .filter(|(d, c)| *d <= (c.len() / 4).max(2))
        .min()
        .map(|(_, c)| c)
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (diagonal + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_misses_only() {
        assert_eq!(
            closest("retrievl", PROCESSORS.iter().copied()),
            Some("retrieval")
        );
        assert_eq!(closest("LLM", PROCESSORS.iter().copied()), Some("llm"));
        assert_eq!(
            closest("translaton", PROCESSORS.iter().copied()),
            Some("translation")
        );
        assert_eq!(closest("billing", PROCESSORS.iter().copied()), None);
    }
}

#[cfg(test)]
mod agree_with_the_runtime {
    use super::{EVENT_TYPES, PROCESSORS};
    use observe_core::EventType;
    use observe_core::model::registry::processors;

    #[test]
    fn processors_agree_with_the_runtime_registry() {
        let runtime: Vec<&str> = processors::ALL.iter().map(|p| p.name).collect();
        assert_eq!(PROCESSORS, runtime.as_slice());
    }

    #[test]
    fn event_types_agree_with_the_runtime_enum() {
        let runtime: Vec<(String, String)> = EventType::ALL
            .iter()
            .map(|t| (t.as_str().to_owned(), format!("{t:?}")))
            .collect();
        let here: Vec<(String, String)> = EVENT_TYPES
            .iter()
            .map(|(name, variant)| ((*name).to_owned(), (*variant).to_owned()))
            .collect();
        assert_eq!(here, runtime);
    }
}
