//! The response side: `response_sent` exactly once (on completion, or from a
//! drop guard when the request is cancelled or panics), and the response's
//! correlation headers.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::Response;
use http::header::{HeaderMap, HeaderValue};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{CORRELATION_ID_HEADER, TRACEPARENT_HEADER};
use crate::pipeline::{self, Record};
use crate::{CorrelationContext, EventType, Outcome, Timestamp, TraceParent, WithContext};

/// Emits `response_sent` exactly once: when the response is ready, or, if
/// the future is dropped first, on drop.
#[derive(Debug)]
pub(super) struct RequestGuard {
    context: CorrelationContext,
    start: Timestamp,
    done: bool,
}

impl RequestGuard {
    /// A guard for the request running in `context`, started at `start`.
    pub(super) fn new(context: CorrelationContext, start: Timestamp) -> RequestGuard {
        RequestGuard {
            context,
            start,
            done: false,
        }
    }

    fn finish(&mut self, outcome: Outcome, payload: impl FnOnce() -> Value) {
        self.done = true;
        if pipeline::enabled() {
            // One clock read gives both the timestamp and the duration.
            let now = Timestamp::now();
            pipeline::submit(
                Record::new_at(EventType::ResponseSent, self.context, now)
                    .outcome(outcome, now.micros_since(self.start))
                    .json(payload()),
            );
        }
    }
}

impl Drop for RequestGuard {
    fn drop(&mut self) {
        if !self.done {
            let outcome = if std::thread::panicking() {
                Outcome::Panic
            } else {
                Outcome::Cancelled
            };
            self.finish(outcome, || Value::Object(Map::new()));
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of a [`CorrelationService`](super::CorrelationService) call: the inner service's
    /// future, run inside the request's context; sets the response headers
    /// and emits `response_sent`.
    #[derive(Debug)]
    pub struct ResponseFuture<F> {
        #[pin]
        inner: WithContext<F>,
        guard: RequestGuard,
        trace_flags: u8,
    }
}

impl<F> ResponseFuture<F> {
    /// The response future for `inner`, running in its context, ended by
    /// `guard`; the response's `traceparent` carries `trace_flags`.
    pub(super) fn new(
        inner: WithContext<F>,
        guard: RequestGuard,
        trace_flags: u8,
    ) -> ResponseFuture<F> {
        ResponseFuture {
            inner,
            guard,
            trace_flags,
        }
    }
}

impl<F, ResBody, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
{
    type Output = Result<Response<ResBody>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut result = ready!(this.inner.poll(cx));
        match &mut result {
            Ok(response) => {
                set_headers(
                    response.headers_mut(),
                    &this.guard.context,
                    *this.trace_flags,
                );
                let status = response.status();
                let outcome = if status.is_server_error() {
                    Outcome::Error
                } else {
                    Outcome::Ok
                };
                this.guard
                    .finish(outcome, || serde_json::json!({ "status": status.as_u16() }));
            }
            Err(_) => this.guard.finish(
                Outcome::Error,
                || serde_json::json!({ "service_error": true }),
            ),
        }
        Poll::Ready(result)
    }
}

/// Sets `x-correlation-id` and `traceparent` (with `trace_flags`) for the
/// request's span.
fn set_headers(headers: &mut HeaderMap, context: &CorrelationContext, trace_flags: u8) {
    let mut buffer = Uuid::encode_buffer();
    let id = context
        .correlation_id
        .hyphenated()
        .encode_lower(&mut buffer);
    if let Ok(value) = HeaderValue::from_str(id) {
        headers.insert(CORRELATION_ID_HEADER, value);
    }
    let traceparent = TraceParent {
        flags: trace_flags,
        ..TraceParent::from_context(context)
    };
    if let Ok(value) = HeaderValue::try_from(traceparent.to_string()) {
        headers.insert(TRACEPARENT_HEADER, value);
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;
    use crate::TraceParent;
    use crate::http::TRACEPARENT_HEADER;

    #[test]
    fn response_headers_name_the_requests_span() {
        let context = CorrelationContext::new_root();
        let mut map = HeaderMap::new();
        map.insert(CORRELATION_ID_HEADER, HeaderValue::from_static("stale"));
        set_headers(&mut map, &context, 0x00);
        assert_eq!(
            map[CORRELATION_ID_HEADER],
            context.correlation_id.to_string()
        );
        let parent = TraceParent::parse(map[TRACEPARENT_HEADER].to_str().unwrap()).unwrap();
        assert_eq!(parent.trace_id, context.correlation_id);
        assert_eq!(parent.parent_id, context.span_id);
        assert!(!parent.sampled(), "the flags given");
    }
}
