//! The tower layer and service: each request runs in its own context, with
//! `message_received` emitted on the way in.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::USER_AGENT;
use http::{Extensions, Request, Response};
use serde_json::{Map, Value};
use tower_layer::Layer;
use tower_service::Service;

use super::response::{RequestLabel, ResponseFuture};
use super::{IncomingContext, MAX_FIELD_LEN};
use crate::delivery::pipeline::RecordPayload;
use crate::runtime::span::{SpanGuard, SpanKind};
use crate::{FutureExt, Timestamp};

/// A function that names the route a request matched (for example axum's
/// `MatchedPath`), from the request's extensions.
type RouteFnDyn = dyn Fn(&Extensions) -> Option<String> + Send + Sync;
type RouteFn = Arc<RouteFnDyn>;

/// The correlation layer: wraps a service in a [`CorrelationService`].
///
/// See the [module documentation](crate::http) for what it does per request.
///
/// ```
/// use observe::http::CorrelationLayer;
///
/// let layer = CorrelationLayer::new();
/// # let _ = layer;
/// ```
#[derive(Clone, Default)]
pub struct CorrelationLayer {
    route: Option<RouteFn>,
}

impl CorrelationLayer {
    /// A layer with no route function: `message_received` carries the
    /// request's path only.
    pub fn new() -> CorrelationLayer {
        CorrelationLayer::default()
    }

    /// Sets how to find the route (the pattern a request matched, such as
    /// `/users/{id}`) in the request's extensions; it is written as
    /// `route` in `message_received`. With axum, read
    /// `axum::extract::MatchedPath` (axum's `matched-path` feature):
    ///
    /// ```text
    /// CorrelationLayer::new().route(|extensions| {
    ///     extensions.get::<axum::extract::MatchedPath>().map(|p| p.as_str().to_owned())
    /// })
    /// ```
    ///
    /// The function runs on the request's task for every request, so keep
    /// it cheap; it is not called when no pipeline is installed.
    pub fn route(
        mut self,
        route: impl Fn(&Extensions) -> Option<String> + Send + Sync + 'static,
    ) -> CorrelationLayer {
        self.route = Some(Arc::new(route));
        self
    }
}

impl fmt::Debug for CorrelationLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CorrelationLayer")
            .field("route", &self.route.as_ref().map(|_| "fn"))
            .finish()
    }
}

impl<S> Layer<S> for CorrelationLayer {
    type Service = CorrelationService<S>;

    fn layer(&self, inner: S) -> CorrelationService<S> {
        CorrelationService {
            inner,
            route: self.route.clone(),
        }
    }
}

/// A service that runs each request of its inner service in the request's
/// correlation context; made by [`CorrelationLayer`].
#[derive(Clone)]
pub struct CorrelationService<S> {
    inner: S,
    route: Option<RouteFn>,
}

impl<S> CorrelationService<S> {
    /// Wraps `inner` with no route function (same as
    /// `CorrelationLayer::new().layer(inner)`).
    pub fn new(inner: S) -> CorrelationService<S> {
        CorrelationService { inner, route: None }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: fmt::Debug> fmt::Debug for CorrelationService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CorrelationService")
            .field("inner", &self.inner)
            .field("route", &self.route.as_ref().map(|_| "fn"))
            .finish()
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for CorrelationService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let incoming = IncomingContext::from_headers(request.headers());
        let context = incoming.context;
        let mut label = None;
        let mut span = SpanGuard::start_with(&SpanKind::REQUEST, context, Timestamp::now(), || {
            let (payload, found) = received_payload(&request, &incoming, self.route.as_deref());
            label = Some(found);
            RecordPayload::Json(payload)
        });
        request.extensions_mut().insert(context);
        // Inside the span, so that a panic in `call` itself still ends the
        // request with a `response_sent` (outcome `panic`).
        let inner = span.catch(|_| context.in_scope(|| self.inner.call(request)));
        ResponseFuture::new(
            inner.with_context(context),
            span,
            incoming.trace_flags,
            label,
        )
    }
}

/// The `message_received` payload, and the method and route that
/// `response_sent` repeats.
fn received_payload<B>(
    request: &Request<B>,
    incoming: &IncomingContext,
    route: Option<&RouteFnDyn>,
) -> (Value, RequestLabel) {
    let mut payload = Map::new();
    let mut label = RequestLabel {
        method: capped(request.method().as_str().as_bytes()),
        route: None,
    };
    payload.insert("method".into(), Value::from(label.method.clone()));
    payload.insert(
        "path".into(),
        Value::from(capped(request.uri().path().as_bytes())),
    );
    if let Some(route) = route.and_then(|f| f(request.extensions())) {
        let route = capped(route.as_bytes());
        payload.insert("route".into(), Value::from(route.clone()));
        label.route = Some(route);
    }
    if let Some(agent) = request.headers().get(USER_AGENT) {
        payload.insert("user_agent".into(), Value::from(capped(agent.as_bytes())));
    }
    payload.insert(
        "context_source".into(),
        Value::from(incoming.source.as_str()),
    );
    if incoming.traceparent_invalid {
        payload.insert("traceparent_invalid".into(), Value::Bool(true));
    }
    if incoming.correlation_id_replaced {
        payload.insert("correlation_id_replaced".into(), Value::Bool(true));
    }
    (Value::Object(payload), label)
}

/// At most [`MAX_FIELD_LEN`] bytes of `bytes` as text; bytes that are not
/// UTF-8 become U+FFFD.
fn capped(bytes: &[u8]) -> String {
    let mut text = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_FIELD_LEN)]).into_owned();
    if text.len() > MAX_FIELD_LEN {
        // Replacement characters can make the text longer than its bytes.
        let mut cut = MAX_FIELD_LEN;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_fields_are_capped_and_lossy() {
        assert_eq!(capped(b"abc"), "abc");
        assert_eq!(capped(b"a\xffb"), "a\u{fffd}b");
        assert_eq!(capped(&[b'x'; 10_000]).len(), MAX_FIELD_LEN);
        let invalid = capped(&[0xff; 10_000]);
        assert!(invalid.len() <= MAX_FIELD_LEN && invalid.chars().all(|c| c == '\u{fffd}'));
    }
}
