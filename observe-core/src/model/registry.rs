//! Registries: the built-in processors (each with its started and complete
//! event types), [`Processor`], which `observe::registry!` also makes for an
//! application's own processors, and the const helpers of its lookup.
//!
//! `#[observed(processor = "...")]` resolves the processor name in a
//! registry's `processors` module at compile time, so a processor that is
//! not registered cannot be instrumented.

use crate::EventType;

/// A registered processor: its name and the event types of its spans.
#[derive(Debug, PartialEq, Eq)]
pub struct Processor {
    /// The name, as written in `#[observed(processor = "...")]` and in the
    /// events' `processor` field.
    pub name: &'static str,
    /// Emitted when a call starts.
    pub started: EventType,
    /// Emitted when a call ends normally or is cancelled.
    pub complete: EventType,
}

/// The built-in registry, written once: every event type (variant, wire
/// name, doc line) and every processor (with its started and complete
/// types). `$callback` is a macro that receives the whole table; the enum
/// ([`EventType`]) and the [`processors`] statics are both made from it, and
/// the macros crate's suggestion tables are checked against them by a test.
macro_rules! builtin {
    ($callback:ident) => {
        $callback! {
            event_types {
                /// A request entered the service.
                MessageReceived = "message_received",
                /// Intent classification started.
                IntentStarted = "intent_started",
                /// Intent classification finished.
                IntentClassified = "intent_classified",
                /// Document retrieval started.
                RetrievalStarted = "retrieval_started",
                /// Document retrieval finished.
                RetrievalComplete = "retrieval_complete",
                /// A language model call started.
                LlmStarted = "llm_started",
                /// A language model call finished.
                LlmComplete = "llm_complete",
                /// Translation started.
                TranslationStarted = "translation_started",
                /// Translation finished.
                TranslationComplete = "translation_complete",
                /// The response left the service.
                ResponseSent = "response_sent",
                /// An operation failed or panicked; the payload is an
                /// [`ErrorPayload`](crate::ErrorPayload).
                ErrorOccurred = "error_occurred",
                /// A span of another instrumentation library (`tracing`,
                /// through the bridge) started; `processor` is its name.
                SpanStarted = "span_started",
                /// A bridged span ended normally.
                SpanComplete = "span_complete",
                /// A log event of another instrumentation library, inside
                /// a span: level, target, message and fields as payload.
                LogRecorded = "log_recorded",
            }
            processors {
                /// Intent classification.
                intent: IntentStarted => IntentClassified,
                /// Document retrieval.
                retrieval: RetrievalStarted => RetrievalComplete,
                /// A language model call.
                llm: LlmStarted => LlmComplete,
                /// Translation.
                translation: TranslationStarted => TranslationComplete,
            }
        }
    };
}
pub(crate) use builtin;

/// Declares the built-in [`processors`] from the table in [`builtin`].
macro_rules! define_processors {
    (
        event_types { $($event_types:tt)* }
        processors { $( $(#[$meta:meta])* $processor:ident : $started:ident => $complete:ident, )* }
    ) => {
        /// The processors of the built-in registry, one static per name. The
        /// statics are named after the processors, so the compiler resolves
        /// `processors::retrieval` and rejects a misspelling.
        #[allow(non_upper_case_globals)]
        pub mod processors {
            use super::Processor;
            use crate::EventType;

            $(
                $(#[$meta])*
                pub static $processor: Processor = Processor {
                    name: ::core::stringify!($processor),
                    started: EventType::$started,
                    complete: EventType::$complete,
                };
            )*

            /// Every built-in processor.
            pub static ALL: [&Processor; [$(::core::stringify!($processor)),*].len()] =
                [$(&$processor),*];
        }
    };
}

builtin!(define_processors);

/// Whether `a` and `b` are the same text, in const evaluation (for the
/// lookup that `observe::registry!` generates).
#[doc(hidden)]
pub const fn const_str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Longest name [`closest_const`] compares.
const MAX_COMPARED: usize = 64;

/// The index of the candidate closest to `name` by edit distance (over
/// bytes), if one is close enough to be a misspelling: at most a quarter of
/// its length changed, or two bytes. In const evaluation, for the lookup
/// that `observe::registry!` generates.
#[doc(hidden)]
pub const fn closest_const(name: &str, candidates: &[&str]) -> Option<usize> {
    let mut best: Option<(usize, usize)> = None;
    let mut c = 0;
    while c < candidates.len() {
        let candidate = candidates[c];
        if let Some(distance) = edit_distance_const(name.as_bytes(), candidate.as_bytes()) {
            let limit = if candidate.len() / 4 > 2 {
                candidate.len() / 4
            } else {
                2
            };
            let better = match best {
                Some((_, d)) => distance < d,
                None => true,
            };
            if distance <= limit && better {
                best = Some((c, distance));
            }
        }
        c += 1;
    }
    match best {
        Some((at, _)) => Some(at),
        None => None,
    }
}

/// Levenshtein distance of two byte strings of at most [`MAX_COMPARED`]
/// bytes, in const evaluation; `None` for longer ones.
const fn edit_distance_const(a: &[u8], b: &[u8]) -> Option<usize> {
    if a.len() > MAX_COMPARED || b.len() > MAX_COMPARED {
        return None;
    }
    let mut row = [0usize; MAX_COMPARED + 1];
    let mut j = 0;
    while j <= b.len() {
        row[j] = j;
        j += 1;
    }
    let mut i = 0;
    while i < a.len() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        let mut j = 0;
        while j < b.len() {
            let substitute = diagonal + if a[i] == b[j] { 0 } else { 1 };
            let delete = row[j + 1] + 1;
            let insert = row[j] + 1;
            let mut next = substitute;
            if delete < next {
                next = delete;
            }
            if insert < next {
                next = insert;
            }
            diagonal = row[j + 1];
            row[j + 1] = next;
            j += 1;
        }
        i += 1;
    }
    Some(row[b.len()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_names_are_found_in_const_evaluation() {
        const NAMES: [&str; 3] = ["rerank", "summarize", "cache"];
        const FOUND: Option<usize> = closest_const("rerrank", &NAMES);
        assert_eq!(FOUND, Some(0));
        assert_eq!(closest_const("sumarize", &NAMES), Some(1));
        assert_eq!(closest_const("billing", &NAMES), None);
        assert!(const_str_eq("cache", "cache") && !const_str_eq("cache", "cachE"));
    }
}
