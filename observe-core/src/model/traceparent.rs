//! W3C Trace Context `traceparent` headers, so a request's chain survives a
//! hop between processes.
//!
//! The trace id is the correlation id (a UUIDv7 is 128 bits, the size of a
//! trace id) and the parent id is the span id of the calling operation.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

use crate::model::ids::parse_lower_hex;
use crate::{CorrelationContext, SpanId};

/// A parsed `traceparent` header:
/// `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`.
///
/// Headers of a later version are read as W3C Trace Context says: the
/// fields version 00 defines are parsed and anything after them is ignored
/// (version `ff` is forbidden). Formatting always writes version 00.
///
/// ```
/// use observe::TraceParent;
///
/// let header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
/// let parent: TraceParent = header.parse().unwrap();
/// assert!(parent.sampled());
/// assert_eq!(parent.to_string(), header);
/// assert!("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7".parse::<TraceParent>().is_err());
///
/// let later = "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-what-comes-next";
/// let parent: TraceParent = later.parse().unwrap();
/// assert!(!parent.sampled());
/// assert_eq!(parent.to_string(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TraceParent {
    /// The trace, which becomes the correlation id. Never all zeros.
    pub trace_id: Uuid,
    /// The calling operation's span, which becomes the parent span.
    pub parent_id: SpanId,
    /// Trace flags; bit 0 is "sampled".
    pub flags: u8,
}

/// Byte length of a version-00 header.
const LEN: usize = 55;

impl TraceParent {
    /// The "sampled" trace flag (bit 0).
    pub const SAMPLED: u8 = 0x01;

    /// The `traceparent` to send for an operation running in `context`, in
    /// a trace that this process decided to sample (flags: sampled). To
    /// pass on a caller's decision instead, set `flags` to the flags it sent.
    pub fn from_context(context: &CorrelationContext) -> TraceParent {
        TraceParent {
            trace_id: context.correlation_id,
            parent_id: context.span_id,
            flags: TraceParent::SAMPLED,
        }
    }

    /// Whether the caller sampled this trace (flag bit 0).
    pub fn sampled(&self) -> bool {
        self.flags & TraceParent::SAMPLED != 0
    }

    /// The context of an operation that continues this trace: same
    /// correlation id, a fresh span, the caller's span as parent.
    pub fn child_context(&self) -> CorrelationContext {
        CorrelationContext {
            correlation_id: self.trace_id,
            span_id: SpanId::random(),
            parent_span_id: Some(self.parent_id),
        }
    }

    /// Parses a header value. Leading and trailing blanks (spaces and tabs,
    /// as HTTP allows around a field value) are ignored. A version-00 header
    /// must be exactly 55 characters; a header of a later version must start
    /// with the same fields, followed by nothing or by `-` and whatever that
    /// version adds (ignored; only the sampled flag of its flags is kept, the
    /// only one this crate knows the meaning of in a later version). Anything
    /// else is an error.
    pub fn parse(header: &str) -> Result<TraceParent, TraceParentError> {
        let b = header.trim_matches([' ', '\t']).as_bytes();
        let version = b
            .get(0..2)
            .and_then(|v| parse_lower_hex(v, 2))
            .ok_or(TraceParentError::NotHex("version"))?;
        let flags_mask = match version {
            0xff => return Err(TraceParentError::Version(0xff)),
            0x00 if b.len() != LEN => return Err(TraceParentError::Length(b.len())),
            0x00 => 0xff,
            _ if b.len() < LEN => return Err(TraceParentError::Length(b.len())),
            _ if b.len() > LEN && b[LEN] != b'-' => return Err(TraceParentError::Delimiter),
            _ => TraceParent::SAMPLED,
        };
        let fields = parse_fields(&b[..LEN])?;
        Ok(TraceParent {
            flags: fields.flags & flags_mask,
            ..fields
        })
    }
}

/// Parses the 55 bytes of the fields version 00 defines.
fn parse_fields(b: &[u8]) -> Result<TraceParent, TraceParentError> {
    if b[2] != b'-' || b[35] != b'-' || b[52] != b'-' {
        return Err(TraceParentError::Delimiter);
    }
    let trace_id = parse_lower_hex(&b[3..35], 32).ok_or(TraceParentError::NotHex("trace id"))?;
    let parent_id = parse_lower_hex(&b[36..52], 16).ok_or(TraceParentError::NotHex("parent id"))?;
    let flags = parse_lower_hex(&b[53..55], 2).ok_or(TraceParentError::NotHex("flags"))?;
    if trace_id == 0 {
        return Err(TraceParentError::ZeroTraceId);
    }
    Ok(TraceParent {
        trace_id: Uuid::from_u128(trace_id),
        parent_id: SpanId::new(parent_id as u64).ok_or(TraceParentError::ZeroParentId)?,
        flags: flags as u8,
    })
}

impl FromStr for TraceParent {
    type Err = TraceParentError;

    fn from_str(header: &str) -> Result<Self, Self::Err> {
        TraceParent::parse(header)
    }
}

impl fmt::Display for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "00-{:032x}-{}-{:02x}",
            self.trace_id.as_u128(),
            self.parent_id,
            self.flags
        )
    }
}

/// Why a `traceparent` header was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TraceParentError {
    /// A version-00 header is not 55 bytes long, or a later version's is
    /// shorter.
    #[error("traceparent must be 55 characters long (or longer, for a version after 00), got {0}")]
    Length(usize),
    /// A `-` is missing or misplaced.
    #[error(
        "traceparent fields must be separated by `-` at positions 2, 35 and 52 (and 55, if more follows)"
    )]
    Delimiter,
    /// A field holds something other than lower-case hex digits.
    #[error("traceparent {0} is not lower-case hex")]
    NotHex(&'static str),
    /// The version is `ff`, which the standard forbids.
    #[error("traceparent version {0:02x} is forbidden")]
    Version(u8),
    /// The trace id is all zeros, which the standard forbids.
    #[error("traceparent trace id is all zeros")]
    ZeroTraceId,
    /// The parent id is all zeros, which the standard forbids.
    #[error("traceparent parent id is all zeros")]
    ZeroParentId,
}
