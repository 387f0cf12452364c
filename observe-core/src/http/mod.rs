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
//!    - a valid W3C `traceparent` header (of version 00, or of a later
//!      version, read up to the fields of version 00): the trace continues
//!      (same trace id as correlation id, the caller's span as parent, a
//!      fresh span, the caller's trace flags);
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
//!    from there as well as from [`context::current`](crate::model::context::current))
//!    and the inner service runs inside it: its `call` and every poll of its
//!    future see the request's context, so `#[observed]` processors called by
//!    handlers nest under the request.
//! 4. When the inner future finishes, the response gets `x-correlation-id`
//!    and `traceparent` (version 00, the request's own span, the caller's
//!    trace flags as received, or sampled for a trace that starts here)
//!    headers, replacing any the handler set, and `response_sent` is
//!    emitted with `status`, the request's `method` and `route` (when
//!    known, as in `message_received`, so that an exporter can name the
//!    request's span from this event alone),
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
//! use observe::http::CorrelationLayer;
//! use observe::CorrelationContext;
//! use observe::context;
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

mod incoming;
mod layer;
mod response;

use http::header::HeaderName;

pub use incoming::{ContextSource, IncomingContext};
pub use layer::{CorrelationLayer, CorrelationService};
pub use response::ResponseFuture;

/// The `x-correlation-id` header: read from requests, set on responses.
pub const CORRELATION_ID_HEADER: HeaderName = HeaderName::from_static("x-correlation-id");

/// The W3C `traceparent` header: read from requests, set on responses.
pub const TRACEPARENT_HEADER: HeaderName = HeaderName::from_static("traceparent");

/// The longest `method`, `path`, `route` or `user_agent` put in a payload,
/// in bytes;
/// longer values are cut (at a character boundary).
pub const MAX_FIELD_LEN: usize = 512;
