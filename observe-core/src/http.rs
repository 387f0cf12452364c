//! HTTP correlation middleware: a `tower` layer that gives every request
//! its own correlation context, emits `message_received` and
//! `response_sent`, and answers with the request's ids in
//! `x-correlation-id` and `traceparent` headers.
//!
//! Enabled by the `http` cargo feature. The layer depends only on the
//! `http`, `tower-layer` and `tower-service` crates, so it works with any
//! tower-based server; with axum, add it with `Router::layer`.
//!
//! # Per request
//!
//! 1. The request's context is taken, in this order, from
//!    - a valid W3C `traceparent` header: the trace continues (same trace
//!      id as correlation id, the caller's span as parent, a fresh span);
//!    - else a valid `x-correlation-id` header (a non-nil UUID, any
//!      version): that correlation id with a fresh root span;
//!    - else a fresh root (a new UUIDv7 correlation id).
//!
//!    A header that is present but malformed is never an error: the request
//!    goes on with the next source, and `message_received` notes it with
//!    `"traceparent_invalid": true` or `"correlation_id_replaced": true`.
//!    Header values that are not UTF-8, have several copies or are far too
//!    long count as malformed.
//! 2. `message_received` is emitted with `method`, `path`, `route` (when a
//!    [route function](CorrelationLayer::route) is set and finds one),
//!    `user_agent` (when sent) and `context_source`. Like every payload it
//!    is sanitized on the pipeline's worker before it leaves the process.
//! 3. The context is put in the request's extensions (handlers can read it
//!    from there as well as from [`context::current`](crate::context::current))
//!    and the inner service runs inside it: its `call` and every poll of its
//!    future see the request's context, so `#[observed]` processors called by
//!    handlers nest under the request.
//! 4. When the inner future finishes, the response gets `x-correlation-id`
//!    and `traceparent` (the request's own span) headers, replacing any the
//!    handler set, and `response_sent` is emitted with `status`,
//!    `duration_us` and an outcome: `ok`, or `error` for a 5xx status or an
//!    error from the inner service. If the future is dropped before it
//!    finishes (the client went away, a timeout fired), `response_sent` is
//!    still emitted, with outcome `cancelled` (`panic` if it was dropped by
//!    a panic, or if the inner service's `call` panicked).
//!
//! Emitting never blocks and never fails the request: with no pipeline
//! installed the layer only sets the context and the headers, and whatever
//! the sink does (stall, fail), requests are served at the same speed.
//! `duration_us` measures the time until the response head is ready, not
//! until its body has been sent.
//!
//! ```
//! use std::convert::Infallible;
//! use std::future::{Ready, ready};
//! use std::task::{Context, Poll};
//!
//! use observe_core::http::CorrelationLayer;
//! use observe_core::{CorrelationContext, context};
//! use tower_layer::Layer;
//! use tower_service::Service;
//!
//! /// A handler that answers with the correlation id it runs under.
//! struct Hello;
//!
//! impl Service<http::Request<()>> for Hello {
//!     type Response = http::Response<String>;
//!     type Error = Infallible;
//!     type Future = Ready<Result<Self::Response, Infallible>>;
//!
//!     fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
//!         Poll::Ready(Ok(()))
//!     }
//!
//!     fn call(&mut self, request: http::Request<()>) -> Self::Future {
//!         let current = context::current().expect("the layer sets the context");
//!         assert_eq!(request.extensions().get::<CorrelationContext>(), Some(&current));
//!         ready(Ok(http::Response::new(current.correlation_id.to_string())))
//!     }
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let mut service = CorrelationLayer::new().layer(Hello);
//! let request = http::Request::builder()
//!     .header("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
//!     .body(())
//!     .unwrap();
//! let response = service.call(request).await.unwrap();
//! // The trace continues: the trace id is the correlation id.
//! assert_eq!(response.body(), "4bf92f35-77b3-4da6-a3ce-929d0e0e4736");
//! assert_eq!(response.headers()["x-correlation-id"], "4bf92f35-77b3-4da6-a3ce-929d0e0e4736");
//! let traceparent = response.headers()["traceparent"].to_str().unwrap();
//! assert!(traceparent.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"));
//! # });
//! ```
//!
//! With axum (see `examples/axum_service.rs` in the repository for a
//! complete server):
//!
//! ```text
//! let app = axum::Router::new()
//!     .route("/chat/{id}", axum::routing::post(chat))
//!     .layer(CorrelationLayer::new().route(|extensions| {
//!         extensions.get::<axum::extract::MatchedPath>().map(|p| p.as_str().to_owned())
//!     }));
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use http::header::{HeaderMap, HeaderName, HeaderValue, USER_AGENT};
use http::{Extensions, Request, Response};
use serde_json::{Map, Value};
use tower_layer::Layer;
use tower_service::Service;
use uuid::Uuid;

use crate::pipeline::{self, Record};
use crate::{CorrelationContext, EventType, FutureExt, Outcome, SpanId, TraceParent, WithContext};

/// The `x-correlation-id` header: read from requests, set on responses.
pub const CORRELATION_ID_HEADER: HeaderName = HeaderName::from_static("x-correlation-id");

/// The W3C `traceparent` header: read from requests, set on responses.
pub const TRACEPARENT_HEADER: HeaderName = HeaderName::from_static("traceparent");

/// The longest `method`, `path`, `route` or `user_agent` put in a payload,
/// in bytes;
/// longer values are cut (at a character boundary).
pub const MAX_FIELD_LEN: usize = 512;

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
/// use observe_core::http::{ContextSource, IncomingContext};
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
    /// A `traceparent` header was sent but could not be used.
    pub traceparent_invalid: bool,
    /// An `x-correlation-id` header was needed but malformed, and a fresh
    /// correlation id replaced it.
    pub correlation_id_replaced: bool,
}

impl IncomingContext {
    /// Reads the context from request headers; never fails (see the
    /// [module documentation](self) for the rules).
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

/// A function that names the route a request matched (for example axum's
/// `MatchedPath`), from the request's extensions.
type RouteFnDyn = dyn Fn(&Extensions) -> Option<String> + Send + Sync;
type RouteFn = Arc<RouteFnDyn>;

/// The correlation layer: wraps a service in a [`CorrelationService`].
///
/// See the [module documentation](self) for what it does per request.
///
/// ```
/// use observe_core::http::CorrelationLayer;
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
        let start = Instant::now();
        let incoming = IncomingContext::from_headers(request.headers());
        let context = incoming.context;
        if pipeline::enabled() {
            let payload = received_payload(&request, &incoming, self.route.as_deref());
            pipeline::submit(Record::new(EventType::MessageReceived, context).json(payload));
        }
        request.extensions_mut().insert(context);
        // Made before the inner call, so that a panic in `call` itself still
        // ends the request with a `response_sent` (outcome `panic`).
        let guard = RequestGuard {
            context,
            start,
            done: false,
        };
        let inner = context.in_scope(|| self.inner.call(request));
        ResponseFuture {
            inner: inner.with_context(context),
            guard,
        }
    }
}

/// The `message_received` payload.
fn received_payload<B>(
    request: &Request<B>,
    incoming: &IncomingContext,
    route: Option<&RouteFnDyn>,
) -> Value {
    let mut payload = Map::new();
    payload.insert(
        "method".into(),
        Value::from(capped(request.method().as_str().as_bytes())),
    );
    payload.insert(
        "path".into(),
        Value::from(capped(request.uri().path().as_bytes())),
    );
    if let Some(route) = route.and_then(|f| f(request.extensions())) {
        payload.insert("route".into(), Value::from(capped(route.as_bytes())));
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
    Value::Object(payload)
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

/// Emits `response_sent` exactly once: when the response is ready, or, if
/// the future is dropped first, on drop.
#[derive(Debug)]
struct RequestGuard {
    context: CorrelationContext,
    start: Instant,
    done: bool,
}

impl RequestGuard {
    fn finish(&mut self, outcome: Outcome, payload: impl FnOnce() -> Value) {
        self.done = true;
        if pipeline::enabled() {
            let micros = u64::try_from(self.start.elapsed().as_micros()).unwrap_or(u64::MAX);
            pipeline::submit(
                Record::new(EventType::ResponseSent, self.context)
                    .outcome(outcome, micros)
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
    /// The future of a [`CorrelationService`] call: the inner service's
    /// future, run inside the request's context; sets the response headers
    /// and emits `response_sent`.
    #[derive(Debug)]
    pub struct ResponseFuture<F> {
        #[pin]
        inner: WithContext<F>,
        guard: RequestGuard,
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
                set_headers(response.headers_mut(), &this.guard.context);
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

/// Sets `x-correlation-id` and `traceparent` for the request's span.
fn set_headers(headers: &mut HeaderMap, context: &CorrelationContext) {
    let mut buffer = Uuid::encode_buffer();
    let id = context
        .correlation_id
        .hyphenated()
        .encode_lower(&mut buffer);
    if let Ok(value) = HeaderValue::from_str(id) {
        headers.insert(CORRELATION_ID_HEADER, value);
    }
    if let Ok(value) = HeaderValue::try_from(TraceParent::from_context(context).to_string()) {
        headers.insert(TRACEPARENT_HEADER, value);
    }
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

    #[test]
    fn payload_fields_are_capped_and_lossy() {
        assert_eq!(capped(b"abc"), "abc");
        assert_eq!(capped(b"a\xffb"), "a\u{fffd}b");
        assert_eq!(capped(&[b'x'; 10_000]).len(), MAX_FIELD_LEN);
        let invalid = capped(&[0xff; 10_000]);
        assert!(invalid.len() <= MAX_FIELD_LEN && invalid.chars().all(|c| c == '\u{fffd}'));
    }

    #[test]
    fn response_headers_name_the_requests_span() {
        let context = CorrelationContext::new_root();
        let mut map = HeaderMap::new();
        map.insert(CORRELATION_ID_HEADER, HeaderValue::from_static("stale"));
        set_headers(&mut map, &context);
        assert_eq!(
            map[CORRELATION_ID_HEADER],
            context.correlation_id.to_string()
        );
        let parent = TraceParent::parse(map[TRACEPARENT_HEADER].to_str().unwrap()).unwrap();
        assert_eq!(parent.trace_id, context.correlation_id);
        assert_eq!(parent.parent_id, context.span_id);
    }
}
