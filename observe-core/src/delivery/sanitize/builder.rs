//! Configuration: extra secret key names, extra patterns, built-in rules
//! switched off. Every mistake is reported when the sanitizer is built, never
//! when an event is scrubbed.

use std::sync::Arc;

use super::engine::{Engine, Rule};
use super::keys::{ExtraKey, KeyMatcher};
use super::rules::{BUILTIN, MAX_DEPTH_RULE, SENSITIVE_KEY, Trigger};
use super::{Inner, Sanitizer};

/// Builds a [`Sanitizer`] with a configuration of its own.
///
/// ```
/// use observe::Sanitizer;
///
/// let sanitizer = Sanitizer::builder()
///     .redact_key("ticket_id")
///     .pattern("order_ref", r"ORD-[0-9]{8}")
///     .disable_rule("phone")
///     .build()
///     .expect("valid configuration");
/// let (clean, report) = sanitizer.scrub_str("order ORD-12345678, call 415-555-0132");
/// assert_eq!(clean, "order [REDACTED], call 415-555-0132");
/// assert_eq!(report.count("order_ref"), 1);
///
/// let err = Sanitizer::builder().pattern("broken", "(unclosed").build().unwrap_err();
/// assert!(err.to_string().contains("broken"));
/// ```
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct SanitizerBuilder {
    keys: Vec<String>,
    patterns: Vec<(String, String)>,
    disabled: Vec<String>,
}

/// A configuration that cannot be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SanitizerError {
    /// A pattern given to [`SanitizerBuilder::pattern`] does not compile.
    #[error("pattern `{name}` is not a valid regular expression: {source}")]
    InvalidPattern {
        /// The name the pattern was given.
        name: String,
        /// What the regex compiler said.
        #[source]
        source: regex::Error,
    },
    /// A pattern matches the empty string, so it would match everywhere.
    #[error("pattern `{name}` matches the empty string")]
    EmptyMatch {
        /// The name the pattern was given.
        name: String,
    },
    /// A pattern's name is empty or already taken by another rule.
    #[error("pattern name `{name}` is empty or already used by another rule")]
    DuplicateRule {
        /// The name the pattern was given.
        name: String,
    },
    /// [`SanitizerBuilder::disable_rule`] named no built-in rule.
    #[error("no built-in rule is named `{name}` (known: {known})")]
    UnknownRule {
        /// The name that was given.
        name: String,
        /// The names of the built-in rules, comma-separated.
        known: String,
    },
    /// The keyword prefilter could not be built (too many or too long key
    /// names); the text says why.
    #[error("the keyword prefilter could not be built: {0}")]
    Prefilter(String),
    /// A key name given to [`SanitizerBuilder::redact_key`] has no letter or
    /// digit.
    #[error("key name `{name}` has no letter or digit")]
    EmptyKey {
        /// The name that was given.
        name: String,
    },
}

impl SanitizerBuilder {
    /// Also redacts values under keys named `name`, compared by words and
    /// case-insensitively (`ticket_id` also matches `TicketId`,
    /// `support.ticket-id`). Key-value assignments in text (`ticket_id=42`)
    /// are redacted too.
    pub fn redact_key(mut self, name: impl Into<String>) -> SanitizerBuilder {
        self.keys.push(name.into());
        self
    }

    /// Adds a value rule: every match of `regex` in any string is redacted,
    /// or only the capture group named `secret` if the pattern has one. The
    /// report counts its redactions under `name`.
    pub fn pattern(
        mut self,
        name: impl Into<String>,
        regex: impl Into<String>,
    ) -> SanitizerBuilder {
        self.patterns.push((name.into(), regex.into()));
        self
    }

    /// Switches off a built-in rule by name (see [`Sanitizer::builtin_rules`]).
    pub fn disable_rule(mut self, name: impl Into<String>) -> SanitizerBuilder {
        self.disabled.push(name.into());
        self
    }

    /// Compiles every pattern, once.
    pub fn build(self) -> Result<Sanitizer, SanitizerError> {
        for name in &self.disabled {
            if name != SENSITIVE_KEY && !BUILTIN.iter().any(|r| r.name == name) {
                return Err(SanitizerError::UnknownRule {
                    name: name.clone(),
                    known: Sanitizer::builtin_rules().collect::<Vec<_>>().join(", "),
                });
            }
        }
        let enabled = |name: &str| !self.disabled.iter().any(|d| d == name);

        let mut extra_keys = Vec::with_capacity(self.keys.len());
        for name in &self.keys {
            match ExtraKey::new(name) {
                Some(key) => extra_keys.push(key),
                None => return Err(SanitizerError::EmptyKey { name: name.clone() }),
            }
        }

        let mut rules = Vec::new();
        let mut triggers = Vec::new();
        for def in BUILTIN.iter().filter(|def| enabled(def.name)) {
            // The built-in table is covered by tests; a failure here is a bug
            // in this crate, reported rather than panicking.
            let rule = Rule::builtin(def).map_err(|source| SanitizerError::InvalidPattern {
                name: def.name.to_owned(),
                source,
            })?;
            rules.push(rule);
            triggers.push(def.trigger);
        }
        let cards = enabled("credit_card");
        for (name, pattern) in self.patterns {
            let taken = name.is_empty()
                || name == SENSITIVE_KEY
                || name == MAX_DEPTH_RULE
                || BUILTIN.iter().any(|r| r.name == name)
                || rules.iter().any(|r| r.name == name.as_str());
            if taken {
                return Err(SanitizerError::DuplicateRule { name });
            }
            let regex = match regex::Regex::new(&pattern) {
                Ok(regex) => regex,
                Err(source) => return Err(SanitizerError::InvalidPattern { name, source }),
            };
            let rule = Rule::user(name, regex);
            if rule.matches_empty() {
                return Err(SanitizerError::EmptyMatch {
                    name: rule.name.into_owned(),
                });
            }
            rules.push(rule);
            triggers.push(Trigger::Always);
        }
        let keys = KeyMatcher::new(enabled(SENSITIVE_KEY), extra_keys, enabled("phone"));
        let engine = Engine::new(rules, triggers, keys)
            .map_err(|e| SanitizerError::Prefilter(e.to_string()))?;
        Ok(Sanitizer {
            inner: Arc::new(Inner { engine, cards }),
        })
    }
}
