//! Registries: the built-in processors (each with its started and complete
//! event types), and [`registry!`](crate::registry!) for an application's own
//! event types and processors.
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

/// The processors of the built-in registry, one static per name. The
/// statics are named after the processors, so the compiler resolves
/// `processors::retrieval` and rejects a misspelling.
#[allow(non_upper_case_globals)]
pub mod processors {
    use super::Processor;
    use crate::EventType;

    /// Intent classification.
    pub static intent: Processor = Processor {
        name: "intent",
        started: EventType::IntentStarted,
        complete: EventType::IntentClassified,
    };
    /// Document retrieval.
    pub static retrieval: Processor = Processor {
        name: "retrieval",
        started: EventType::RetrievalStarted,
        complete: EventType::RetrievalComplete,
    };
    /// A language model call.
    pub static llm: Processor = Processor {
        name: "llm",
        started: EventType::LlmStarted,
        complete: EventType::LlmComplete,
    };
    /// Translation.
    pub static translation: Processor = Processor {
        name: "translation",
        started: EventType::TranslationStarted,
        complete: EventType::TranslationComplete,
    };

    /// Every built-in processor.
    pub static ALL: [&Processor; 4] = [&intent, &retrieval, &llm, &translation];
}

/// Declares an application's own registry: its event types and its
/// processors, checked when the program compiles.
///
/// The module it makes holds an `EventType` enum (convertible into
/// [`observe::EventType`](crate::EventType), so `emit!` takes it) and a
/// `processors` module for `#[observed(registry = path, processor = "...")]`.
/// A wire name that is not snake_case, or that repeats a built-in name, is a
/// compile error.
///
/// ```
/// observe_core::registry! {
///     /// The reranking service's events.
///     pub mod events {
///         event_types {
///             /// Reranking started.
///             RerankStarted = "rerank_started",
///             /// Reranking finished.
///             RerankComplete = "rerank_complete",
///             /// A cached ranking was used.
///             CacheHit = "cache_hit",
///         }
///         processors {
///             /// Reorders retrieved documents.
///             rerank: RerankStarted => RerankComplete,
///         }
///     }
/// }
///
/// let cache_hit: observe_core::EventType = events::EventType::CacheHit.into();
/// assert_eq!(cache_hit.as_str(), "cache_hit");
/// assert_eq!(events::processors::rerank.started.as_str(), "rerank_started");
/// assert_eq!(events::EventType::parse("cache_hit"), Some(cache_hit));
/// assert_eq!(events::EventType::parse("llm_started"), Some(observe_core::EventType::LlmStarted));
/// ```
///
/// ```compile_fail
/// observe_core::registry! {
///     pub mod events {
///         event_types { CacheHit = "Cache-Hit" }
///         processors {}
///     }
/// }
/// let _: observe_core::EventType = events::EventType::CacheHit.into();
/// ```
#[macro_export]
macro_rules! registry {
    (
        $(#[$meta:meta])*
        $vis:vis mod $module:ident {
            event_types {
                $( $(#[$type_meta:meta])* $variant:ident = $name:literal ),* $(,)?
            }
            processors {
                $( $(#[$processor_meta:meta])* $processor:ident : $started:ident => $complete:ident ),* $(,)?
            }
        }
    ) => {
        $(#[$meta])*
        $vis mod $module {
            /// The event types of this registry.
            #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
            pub enum EventType {
                $( $(#[$type_meta])* $variant, )*
            }

            impl EventType {
                /// Every type of this registry.
                pub const ALL: &'static [EventType] = &[$(EventType::$variant),*];

                /// The wire name.
                pub const fn as_str(self) -> &'static str {
                    match self {
                        $( EventType::$variant => $name, )*
                    }
                }

                /// This type as an [`observe::EventType`](crate::EventType)
                /// (checked when the program compiles).
                pub const fn custom(self) -> $crate::model::event_type::CustomEventType {
                    match self {
                        $( EventType::$variant => {
                            const TYPE: $crate::model::event_type::CustomEventType =
                                $crate::model::event_type::CustomEventType::__declare(&$name);
                            TYPE
                        } )*
                    }
                }

                /// The type registered under `name`, in this registry or in
                /// the built-in one (for readers of this application's events).
                pub fn parse(name: &str) -> ::core::option::Option<$crate::EventType> {
                    EventType::ALL
                        .iter()
                        .find(|t| t.as_str() == name)
                        .map(|t| $crate::EventType::from(*t))
                        .or_else(|| $crate::EventType::parse(name).ok())
                }
            }

            impl ::core::convert::From<EventType> for $crate::EventType {
                fn from(event_type: EventType) -> $crate::EventType {
                    $crate::EventType::Custom(event_type.custom())
                }
            }

            /// The processors of this registry.
            #[allow(non_upper_case_globals)]
            pub mod processors {
                $(
                    $(#[$processor_meta])*
                    pub static $processor: $crate::model::registry::Processor = $crate::model::registry::Processor {
                        name: ::core::stringify!($processor),
                        started: $crate::EventType::Custom(super::EventType::$started.custom()),
                        complete: $crate::EventType::Custom(super::EventType::$complete.custom()),
                    };
                )*
            }
        }
    };
}
