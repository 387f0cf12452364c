//! Values recorded on a span while it runs ([`current_span`]`().record(..)`
//! and `#[observed(ret)]`), kept until the span's terminal event takes them.
//!
//! A recorded value is serialized on the caller's thread with the bounded
//! serializer of `emit!` and kept, by span id, in one process-wide table
//! until the span ends; its terminal event carries the fields, sanitized
//! and size-limited on the worker like every payload. A span that ends
//! looks the table up only when something is pending anywhere (one atomic
//! load), so spans that record nothing pay nothing more.
//!
//! ```
//! use std::time::Duration;
//! use observe::{Config};
//! use observe::sink::MemorySink;
//! use observe::current_span;
//! use observe::record::{SpanGuard, SpanKind, Terminal};
//! use observe::{CorrelationContext, EventType, Outcome};
//!
//! static INTENT: SpanKind =
//!     SpanKind::processor_events("intent", EventType::IntentStarted, EventType::IntentClassified);
//!
//! let sink = MemorySink::new();
//! let guard = observe::init(Config::default().sink(sink.clone()))?;
//! let mut span = SpanGuard::start(&INTENT, CorrelationContext::new_root());
//! span.context().in_scope(|| current_span().record("intent", "order_status"));
//! span.end(Outcome::Ok, || Terminal::Bare);
//! observe::flush(Duration::from_secs(5));
//! assert_eq!(sink.events()[1].payload["intent"], "order_status");
//! # drop(guard);
//! # Ok::<(), observe::InitError>(())
//! ```

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use serde::Serialize;

use crate::delivery::pipeline::{FieldValue, enabled};
use crate::model::context;
use crate::runtime::emit::to_payload;
use crate::{CorrelationContext, SpanId};

/// Most fields one span keeps; a field recorded again replaces the earlier
/// value, a new field beyond this is ignored.
pub const MAX_FIELDS_PER_SPAN: usize = 32;

/// Most spans with recorded fields waiting at once; a span beyond this
/// records nothing (a bound for spans that never end through a span guard,
/// such as a context entered by hand).
pub const MAX_PENDING_SPANS: usize = 4096;

/// Spans with fields in [`TABLE`].
static PENDING: AtomicUsize = AtomicUsize::new(0);

type Fields = Vec<(&'static str, FieldValue)>;

static TABLE: Mutex<Option<HashMap<SpanId, Fields>>> = Mutex::new(None);

/// The span the calling code runs in, to record values on.
#[derive(Clone, Copy, Debug)]
pub struct CurrentSpan {
    context: Option<CorrelationContext>,
}

/// The span the calling code runs in (the innermost `#[observed]` call,
/// HTTP request or bridged `tracing` span), or none.
pub fn current_span() -> CurrentSpan {
    CurrentSpan {
        context: context::current(),
    }
}

impl CurrentSpan {
    /// The span's context, if the code runs in one.
    pub fn context(&self) -> Option<CorrelationContext> {
        self.context
    }

    /// Adds `key: value` to the payload of the span's terminal event (its
    /// complete event, or its `error_occurred` beside the error's fields,
    /// which it never replaces). Nothing is recorded unless asked: only
    /// what is passed here goes on the event. Does nothing when no pipeline
    /// is installed or the code runs in no span.
    pub fn record<T: Serialize + ?Sized>(&self, key: &'static str, value: &T) {
        if let Some(context) = self.context.filter(|_| enabled()) {
            record_value(context.span_id, key, to_payload(value));
        }
    }
}

/// Records `value` under `key` for `span`.
pub(crate) fn record_value(span: SpanId, key: &'static str, value: serde_json::Value) {
    let mut table = TABLE.lock().unwrap_or_else(PoisonError::into_inner);
    let table = table.get_or_insert_with(HashMap::new);
    let full = table.len() >= MAX_PENDING_SPANS;
    let fields = match table.get_mut(&span) {
        Some(fields) => fields,
        None if full => return,
        None => {
            PENDING.fetch_add(1, Ordering::Relaxed);
            table.entry(span).or_default()
        }
    };
    if let Some(at) = fields.iter().position(|(name, _)| *name == key) {
        fields[at].1 = FieldValue::Json(value);
    } else if fields.len() < MAX_FIELDS_PER_SPAN {
        fields.push((key, FieldValue::Json(value)));
    }
}

/// Takes the fields recorded for `span`, if any.
#[inline]
pub(crate) fn take(span: SpanId) -> Option<Fields> {
    if PENDING.load(Ordering::Relaxed) == 0 {
        return None;
    }
    take_slow(span)
}

#[cold]
fn take_slow(span: SpanId) -> Option<Fields> {
    let mut table = TABLE.lock().unwrap_or_else(PoisonError::into_inner);
    let fields = table.as_mut()?.remove(&span)?;
    PENDING.fetch_sub(1, Ordering::Relaxed);
    Some(fields)
}
