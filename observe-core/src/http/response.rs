//! The response side: the request's span ends with `response_sent` (on
//! completion, or when the request panics or is cancelled), and the
//! response gets its correlation headers.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::Response;
use http::header::{HeaderMap, HeaderValue};
use uuid::Uuid;

use super::{CORRELATION_ID_HEADER, TRACEPARENT_HEADER};
use crate::runtime::span::{SpanGuard, Terminal};
use crate::{CorrelationContext, Outcome, TraceParent, WithContext};

pin_project_lite::pin_project! {
    /// The future of a [`CorrelationService`](super::CorrelationService) call: the inner service's
    /// future, run inside the request's context; sets the response headers
    /// and emits `response_sent`.
    #[derive(Debug)]
    pub struct ResponseFuture<F> {
        #[pin]
        inner: WithContext<F>,
        span: SpanGuard,
        trace_flags: u8,
        label: Option<RequestLabel>,
    }
}

/// The request's method and matched route, repeated in `response_sent` so
/// that the request's span can be named from its terminal event alone (an
/// exporter maps each terminal event to a span without looking back).
#[derive(Clone, Debug)]
pub(super) struct RequestLabel {
    pub(super) method: String,
    pub(super) route: Option<String>,
}

impl RequestLabel {
    /// Adds `method` and, when known, `route` to a `response_sent` payload.
    fn add_to(self, mut payload: serde_json::Map<String, serde_json::Value>) -> Terminal {
        payload.insert("method".into(), self.method.into());
        if let Some(route) = self.route {
            payload.insert("route".into(), route.into());
        }
        Terminal::Json(serde_json::Value::Object(payload))
    }
}

/// `{key: value}` with the request's label, if it has one.
fn sent_payload(label: Option<RequestLabel>, key: &str, value: serde_json::Value) -> Terminal {
    let mut payload = serde_json::Map::new();
    payload.insert(key.to_owned(), value);
    match label {
        Some(label) => label.add_to(payload),
        None => Terminal::Json(serde_json::Value::Object(payload)),
    }
}

impl<F> ResponseFuture<F> {
    /// The response future for `inner`, running in its context, the
    /// request's `span`; the response's `traceparent` carries `trace_flags`.
    pub(super) fn new(
        inner: WithContext<F>,
        span: SpanGuard,
        trace_flags: u8,
        label: Option<RequestLabel>,
    ) -> ResponseFuture<F> {
        ResponseFuture {
            inner,
            span,
            trace_flags,
            label,
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
        let inner = this.inner;
        let mut result = ready!(this.span.catch(|_| inner.poll(cx)));
        match &mut result {
            Ok(response) => {
                let context = this.span.context();
                set_headers(response.headers_mut(), &context, *this.trace_flags);
                let status = response.status();
                let outcome = if status.is_server_error() {
                    Outcome::Error
                } else {
                    Outcome::Ok
                };
                let label = this.label.take();
                this.span.end(outcome, || {
                    sent_payload(label, "status", status.as_u16().into())
                });
            }
            Err(_) => {
                let label = this.label.take();
                this.span.end(Outcome::Error, || {
                    sent_payload(label, "service_error", true.into())
                });
            }
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
