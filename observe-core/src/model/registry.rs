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
