//! Reading a request's correlation context from its headers: `traceparent`,
//! else `x-correlation-id`, else a fresh root; malformed headers are noted,
//! never errors.

use http::header::{HeaderMap, HeaderName, HeaderValue};
use uuid::Uuid;

use super::{CORRELATION_ID_HEADER, TRACEPARENT_HEADER};
use crate::{CorrelationContext, SpanId, TraceParent};

/// The longest `x-correlation-id` value considered (a UUID in its longest
/// accepted form, `urn:uuid:...`, is 45 bytes); longer values are malformed.
const MAX_CORRELATION_ID_LEN: usize = 64;

/// Where a request's context came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ContextSource {
    /// A valid `traceparent` header: the caller's trace continues.
    TraceParent,
    /// A valid `x-correlation-id` header.
    CorrelationId,
    /// No usable header: a fresh root.
    New,
}

impl ContextSource {
    /// The name written in `message_received` as `context_source`:
    /// `traceparent`, `x-correlation-id` or `new`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ContextSource::TraceParent => "traceparent",
            ContextSource::CorrelationId => "x-correlation-id",
            ContextSource::New => "new",
        }
    }
}

/// The context a request runs in, as read from its headers, and what was
/// wrong with them.
///
/// ```
/// use http::HeaderMap;
/// use observe::http::{ContextSource, IncomingContext};
///
/// let mut headers = HeaderMap::new();
/// headers.insert("x-correlation-id", "not a uuid".parse().unwrap());
/// let incoming = IncomingContext::from_headers(&headers);
/// assert_eq!(incoming.source, ContextSource::New);
/// assert!(incoming.correlation_id_replaced);
/// assert_eq!(incoming.context.parent_span_id, None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct IncomingContext {
    /// The request's context (its root span in this process).
    pub context: CorrelationContext,
    /// Where it came from.
    pub source: ContextSource,
    /// The trace flags to pass on (in the response's `traceparent`): as the
    /// caller sent them in `traceparent`, so its sampling decision stands;
    /// [`TraceParent::SAMPLED`] for a trace that starts here (every request
    /// is recorded).
    pub trace_flags: u8,
    /// A `traceparent` header was sent but could not be used.
    pub traceparent_invalid: bool,
    /// An `x-correlation-id` header was needed but malformed, and a fresh
    /// correlation id replaced it.
    pub correlation_id_replaced: bool,
}

impl IncomingContext {
    /// Reads the context from request headers; never fails (see the
    /// [module documentation](crate::http) for the rules).
    pub fn from_headers(headers: &HeaderMap) -> IncomingContext {
        let mut traceparent_invalid = false;
        if let Some(value) = single(headers, &TRACEPARENT_HEADER) {
            match value
                .and_then(|v| v.to_str().ok())
                .and_then(|v| TraceParent::parse(v).ok())
            {
                Some(parent) => {
                    return IncomingContext {
                        context: parent.child_context(),
                        source: ContextSource::TraceParent,
                        trace_flags: parent.flags,
                        traceparent_invalid: false,
                        correlation_id_replaced: false,
                    };
                }
                None => traceparent_invalid = true,
            }
        }
        let mut correlation_id_replaced = false;
        if let Some(value) = single(headers, &CORRELATION_ID_HEADER) {
            match value.and_then(parse_correlation_id) {
                Some(correlation_id) => {
                    return IncomingContext {
                        context: CorrelationContext {
                            correlation_id,
                            span_id: SpanId::random(),
                            parent_span_id: None,
                        },
                        source: ContextSource::CorrelationId,
                        trace_flags: TraceParent::SAMPLED,
                        traceparent_invalid,
                        correlation_id_replaced: false,
                    };
                }
                None => correlation_id_replaced = true,
            }
        }
        IncomingContext {
            context: CorrelationContext::new_root(),
            source: ContextSource::New,
            trace_flags: TraceParent::SAMPLED,
            traceparent_invalid,
            correlation_id_replaced,
        }
    }
}

/// `None` if the header is absent, `Some(None)` if it is repeated (which
/// makes it unusable), `Some(Some(value))` otherwise.
fn single<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<Option<&'a HeaderValue>> {
    let mut values = headers.get_all(name).iter();
    let first = values.next()?;
    Some(values.next().is_none().then_some(first))
}

fn parse_correlation_id(value: &HeaderValue) -> Option<Uuid> {
    let bytes = value.as_bytes();
    if bytes.len() > MAX_CORRELATION_ID_LEN {
        return None;
    }
    let text = std::str::from_utf8(bytes).ok()?.trim_matches([' ', '\t']);
    Uuid::try_parse(text).ok().filter(|id| !id.is_nil())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &[u8])]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_bytes(value).unwrap());
        }
        map
    }

    const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn a_valid_traceparent_continues_the_trace() {
        let incoming = IncomingContext::from_headers(&headers(&[
            ("traceparent", PARENT.as_bytes()),
            ("x-correlation-id", b"garbage"),
        ]));
        assert_eq!(incoming.source, ContextSource::TraceParent);
        assert_eq!(
            incoming.context.correlation_id.to_string(),
            "4bf92f35-77b3-4da6-a3ce-929d0e0e4736"
        );
        assert_eq!(
            incoming.context.parent_span_id.map(|s| s.to_string()),
            Some("00f067aa0ba902b7".to_owned())
        );
        assert!(!incoming.traceparent_invalid && !incoming.correlation_id_replaced);
    }

    #[test]
    fn a_bad_traceparent_falls_back_to_the_correlation_id() {
        let id = "0190f3a6-1c2b-7d4e-8f00-123456789abc";
        for bad in [
            &b"garbage"[..],
            b"00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\xff",
            &[b'0'; 100_000][..],
            b"",
        ] {
            let incoming = IncomingContext::from_headers(&headers(&[
                ("traceparent", bad),
                ("x-correlation-id", id.as_bytes()),
            ]));
            assert_eq!(incoming.source, ContextSource::CorrelationId);
            assert_eq!(incoming.context.correlation_id.to_string(), id);
            assert_eq!(incoming.context.parent_span_id, None);
            assert!(incoming.traceparent_invalid);
            assert!(!incoming.correlation_id_replaced);
        }
    }

    #[test]
    fn repeated_traceparents_are_invalid() {
        let incoming = IncomingContext::from_headers(&headers(&[
            ("traceparent", PARENT.as_bytes()),
            ("traceparent", PARENT.as_bytes()),
        ]));
        assert_eq!(incoming.source, ContextSource::New);
        assert!(incoming.traceparent_invalid);
    }

    #[test]
    fn a_malformed_correlation_id_is_replaced_and_noted() {
        let long = "0190f3a6-1c2b-7d4e-8f00-123456789abc".repeat(1_000);
        for bad in [
            &b"not-a-uuid"[..],
            b"00000000-0000-0000-0000-000000000000",
            b"\xff\xfe",
            long.as_bytes(),
            b"",
        ] {
            let incoming = IncomingContext::from_headers(&headers(&[("x-correlation-id", bad)]));
            assert_eq!(incoming.source, ContextSource::New);
            assert!(incoming.correlation_id_replaced);
            assert!(!incoming.traceparent_invalid);
            assert_eq!(incoming.context.correlation_id.get_version_num(), 7);
            assert_eq!(incoming.context.parent_span_id, None);
        }
    }

    #[test]
    fn a_valid_correlation_id_is_kept() {
        let incoming = IncomingContext::from_headers(&headers(&[(
            "x-correlation-id",
            b" 0190F3A6-1C2B-7D4E-8F00-123456789ABC ",
        )]));
        assert_eq!(incoming.source, ContextSource::CorrelationId);
        assert_eq!(
            incoming.context.correlation_id.to_string(),
            "0190f3a6-1c2b-7d4e-8f00-123456789abc"
        );
    }

    #[test]
    fn no_headers_start_a_fresh_root() {
        let a = IncomingContext::from_headers(&HeaderMap::new());
        let b = IncomingContext::from_headers(&HeaderMap::new());
        assert_eq!(a.source, ContextSource::New);
        assert!(!a.traceparent_invalid && !a.correlation_id_replaced);
        assert_ne!(a.context.correlation_id, b.context.correlation_id);
    }
}
