//! The payload sanitizer: removes secrets and personal data from event
//! payloads, then applies the specification's limits (error message 500
//! characters, 10 stack frames, input preview 100 characters, payload
//! 10 KiB).
//!
//! What it does, in order:
//!
//! 1. **Keys.** A value under a key that names a secret (`password`,
//!    `api_key`, `X-Api-Key`, `Authorization`, `session_id`, `Set-Cookie`,
//!    `ssn`, `credit_card`, `signing_key`, `passcode`, `pin`, ... but not
//!    `author`, `token_count` or `pinned`) becomes `"[REDACTED]"`, whatever
//!    its type. A number (or a bare string of digits) under a phone-like key
//!    (`phone`, `mobile`, `tel`, `phone_number`) is a phone number.
//! 2. **Values.** Every string at any depth (keys too) is scanned for
//!    provider credentials (AWS, GitHub, Slack, Stripe, Google, OpenAI,
//!    Anthropic, and with `provider_token` some forty more families by their
//!    published prefixes: Hugging Face, GitLab, npm, PyPI, Vault, 1Password,
//!    Bedrock, Grafana, Square, Meta, SendGrid, Twilio, ...), JWTs (also
//!    base64-encoded), PEM private keys, `Bearer` tokens, passwords in URLs,
//!    secrets on command lines (`mysql -p...`, `curl -u user:pass`),
//!    the data of Kubernetes `Secret` manifests, key-value assignments in
//!    the many styles code and configuration use (`=`, `:`, `:=`, `=>`,
//!    JSON, XML elements and attributes, `setProperty("KEY", "...")`,
//!    `--password value`, `Authorization: <any scheme> <credential>`),
//!    email addresses (also Unicode or URL-encoded), phone numbers and
//!    Luhn-valid card numbers (also with dots or no-break spaces); each match
//!    becomes `[REDACTED]`. An assignment's value is redacted whole (a quoted
//!    string, a wrapper such as `Some("...")`, a bracketed group or a bare
//!    token) or left alone when it is a template or variable reference
//!    (`${...}`, `{{ ... }}`, `$API_KEY`, `process.env.X`), a placeholder
//!    (`<token>`, `your-api-key-here`, `AKIAIOSFODNN7EXAMPLE`) or a mask.
//!    A string that holds a JSON object or array is parsed and scrubbed as
//!    JSON (keys included). Nesting deeper than [`MAX_DEPTH`] is cut.
//! 3. **Limits**, after scrubbing so that no cut can leave half a secret:
//!    for `error_occurred` events the `ErrorPayload` fields, then for every
//!    payload the 10 KiB limit.
//!
//! Patterns are compiled once per [`Sanitizer`]; a keyword prefilter keeps
//! clean text cheap. The sanitizer never panics on any input.
//!
//! ```
//! use observe::{CorrelationContext, Event, EventType, Sanitizer};
//! use serde_json::json;
//!
//! let sanitizer = Sanitizer::new();
//! let mut event = Event::new(EventType::MessageReceived, &CorrelationContext::new_root())
//!     .with_payload(json!({
//!         "text": "I am jane@example.com, my key is sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8t",
//!         "headers": { "Authorization": "Bearer abc.def.ghi" },
//!         "prompt_tokens": 42,
//!     }));
//! let report = sanitizer.sanitize_event(&mut event);
//! assert_eq!(event.payload["text"], "I am [REDACTED], my key is [REDACTED]");
//! assert_eq!(event.payload["headers"]["Authorization"], "[REDACTED]");
//! assert_eq!(event.payload["prompt_tokens"], 42);
//! assert_eq!(report.total(), 3);
//! ```

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use crate::model::error_payload::MAX_PAYLOAD_BYTES;
use crate::{Event, EventType, Payload};

mod builder;
mod engine;
mod keys;
mod limit;
mod luhn;
mod report;
mod rules;
mod truncate;
mod walk;

pub use builder::{SanitizerBuilder, SanitizerError};
pub use engine::REDACTED;
pub use limit::TRUNCATED_KEY;
/// Serialized sizes without serializing, for checks after the shrink (such
/// as whether the worker's `_redactions` entry still fits): one pass, no
/// allocation.
pub(crate) use limit::{entry_size, payload_size};
pub use report::SanitizeReport;
pub use truncate::TRUNCATION_MARKER;
pub(crate) use walk::drop_deep;
pub use walk::{DEPTH_MARKER, MAX_DEPTH};

use engine::Engine;
use walk::Walker;

/// Scrubs secrets and personal data from event payloads and enforces the
/// size limits. Cheap to clone (the compiled rules are shared); `Send` and
/// `Sync`.
///
/// See the [module documentation](self) for what it removes.
#[derive(Clone, Debug)]
pub struct Sanitizer {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    engine: Engine,
    cards: bool,
}

impl Default for Sanitizer {
    /// The built-in rules (compiled once per process, then shared).
    fn default() -> Sanitizer {
        static DEFAULT: OnceLock<Sanitizer> = OnceLock::new();
        DEFAULT
            .get_or_init(|| match SanitizerBuilder::default().build() {
                Ok(sanitizer) => sanitizer,
                // The built-in rules are fixed and tested: this is a bug.
                Err(e) => panic!("observe: built-in sanitizer rules do not compile: {e}"),
            })
            .clone()
    }
}

impl Sanitizer {
    /// The sanitizer with the built-in rules; same as [`Sanitizer::default`].
    pub fn new() -> Sanitizer {
        Sanitizer::default()
    }

    /// A builder for a sanitizer with extra keys, extra patterns or rules
    /// switched off.
    pub fn builder() -> SanitizerBuilder {
        SanitizerBuilder::default()
    }

    /// Names of the built-in rules, as used by
    /// [`SanitizerBuilder::disable_rule`] and in [`SanitizeReport`]
    /// (`sensitive_key` is the key-based rule). The report may also count
    /// `max_depth`: values cut for nesting deeper than [`MAX_DEPTH`].
    pub fn builtin_rules() -> impl Iterator<Item = &'static str> {
        std::iter::once(rules::SENSITIVE_KEY).chain(rules::BUILTIN.iter().map(|r| r.name))
    }

    fn walker(&self) -> Walker<'_> {
        Walker {
            engine: &self.inner.engine,
            cards: self.inner.cards,
        }
    }

    /// Scrubs the event's payload in place (keys, values at any depth,
    /// strings holding JSON, query strings or headers); for
    /// [`EventType::ErrorOccurred`] then cuts `error_message`,
    /// `stack_frames` (counting the rest in `stack_frames_omitted`) and
    /// `input_preview` to their limits; then enforces [`MAX_PAYLOAD_BYTES`].
    pub fn sanitize_event(&self, event: &mut Event) -> SanitizeReport {
        let mut report = SanitizeReport::default();
        self.walker().walk_map(&mut event.payload, 1, &mut report);
        if event.event_type == EventType::ErrorOccurred {
            truncate::apply_error_limits(&mut event.payload, &mut report);
        }
        limit::enforce(&mut event.payload, MAX_PAYLOAD_BYTES, &mut report);
        report
    }

    /// Scrubs one payload object in place, then enforces
    /// [`MAX_PAYLOAD_BYTES`] (no event-type specific limits).
    ///
    /// ```
    /// use observe::{Payload, Sanitizer};
    ///
    /// let mut payload: Payload = serde_json::from_str(
    ///     r#"{"password": {"nested": true}, "author": "Ann", "blob": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}"#,
    /// ).unwrap();
    /// payload["blob"] = "x".repeat(50_000).into();
    /// let report = Sanitizer::new().sanitize_payload(&mut payload);
    /// assert_eq!(payload["password"], "[REDACTED]");
    /// assert_eq!(payload["author"], "Ann");
    /// assert_eq!(payload["_truncated"], true);
    /// assert!(serde_json::to_string(&payload).unwrap().len() <= 10_240);
    /// assert!(report.truncated());
    /// ```
    pub fn sanitize_payload(&self, payload: &mut Payload) -> SanitizeReport {
        let mut report = SanitizeReport::default();
        self.walker().walk_map(payload, 1, &mut report);
        limit::enforce(payload, MAX_PAYLOAD_BYTES, &mut report);
        report
    }

    /// Scrubs one string, with no size limit. Borrowed when nothing matched.
    ///
    /// ```
    /// use observe::Sanitizer;
    ///
    /// let s = Sanitizer::new();
    /// let (clean, _) = s.scrub_str("GET /v1/items?limit=10&api_key=abc123def456 HTTP/1.1");
    /// assert_eq!(clean, "GET /v1/items?limit=10&api_key=[REDACTED] HTTP/1.1");
    /// let (same, report) = s.scrub_str("release 1.4.2 at 2024-05-01T10:00:00Z");
    /// assert!(matches!(same, std::borrow::Cow::Borrowed(_)));
    /// assert!(report.is_empty());
    /// ```
    pub fn scrub_str<'a>(&self, text: &'a str) -> (Cow<'a, str>, SanitizeReport) {
        let mut report = SanitizeReport::default();
        let clean = self.walker().scrub_text(text, 0, &mut report);
        (clean, report)
    }

    /// Scrubs `text`, then cuts it to at most `max_chars` characters, ending
    /// with [`TRUNCATION_MARKER`] when cut (used for input previews).
    ///
    /// ```
    /// use observe::Sanitizer;
    ///
    /// let preview = Sanitizer::new().preview("contact: jane@example.com, then a very long story", 40);
    /// assert_eq!(preview, "contact: [REDACTED], then a …[truncated]");
    /// assert_eq!(preview.chars().count(), 40);
    /// ```
    pub fn preview(&self, text: &str, max_chars: usize) -> String {
        let (clean, _) = self.scrub_str(text);
        truncate::truncate_chars(&clean, max_chars).into_owned()
    }
}

#[cfg(test)]
mod tests;
