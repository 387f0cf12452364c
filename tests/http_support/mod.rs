//! Shared by the HTTP tests: a real axum server on 127.0.0.1 (port 0) with
//! the correlation layer, hyper-util's HTTP/1 client, and an `#[observed]`
//! processor that handlers call, so nesting under the request shows in the
//! events.
#![allow(dead_code)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::MatchedPath;
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode};
use axum::routing::get;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use observe::http::CorrelationLayer;
use observe::{CorrelationContext, Event, EventType, SpanId, context};
use uuid::Uuid;

/// The HTTP/1 client of the tests.
pub type Client = HyperClient<HttpConnector, Empty<Bytes>>;

/// A pooled HTTP/1 client.
pub fn client() -> Client {
    HyperClient::builder(TokioExecutor::new()).build_http()
}

/// The status the `/accepted` handler answers with, so a test can tell the
/// handler's own status from anything the middleware could make up.
pub const HANDLER_STATUS: StatusCode = StatusCode::ACCEPTED;

/// Looks something up inside the request; returns the context it ran in.
#[observe::observed(processor = "retrieval")]
async fn lookup() -> Result<CorrelationContext, Infallible> {
    tokio::task::yield_now().await;
    Ok(context::current().expect("an observed call always runs in a context"))
}

/// `correlation_id span_id nested_parent_span_id nested_correlation_id`, as
/// the handler saw them.
async fn whoami() -> String {
    let request = context::current().expect("the layer sets the context");
    let nested = lookup().await.unwrap_or_else(|never| match never {});
    format!(
        "{} {} {} {}",
        request.correlation_id,
        request.span_id,
        nested
            .parent_span_id
            .map_or_else(|| "-".to_owned(), |s| s.to_string()),
        nested.correlation_id,
    )
}

/// The test application: `/accepted` (answers 202), `/whoami` (see
/// [`whoami`]) and `/together` (like `/whoami`, after `barrier` lets all
/// its callers through at once), behind the correlation layer.
pub fn app(barrier: Option<Arc<tokio::sync::Barrier>>) -> Router {
    Router::new()
        .route("/accepted", get(|| async { (HANDLER_STATUS, "accepted") }))
        .route("/whoami", get(whoami))
        .route(
            "/together",
            get(move || {
                let barrier = barrier.clone();
                async move {
                    if let Some(barrier) = barrier {
                        barrier.wait().await;
                    }
                    whoami().await
                }
            }),
        )
        .layer(CorrelationLayer::new().route(|extensions| {
            extensions
                .get::<MatchedPath>()
                .map(|p| p.as_str().to_owned())
        }))
}

/// Serves `app` on 127.0.0.1 (a free port) in a task of the current
/// runtime; returns its address.
pub async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        axum::serve(listener, app).await.expect("the server runs");
    });
    addr
}

/// A response, read in full.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    /// The `x-correlation-id` response header, parsed.
    pub fn correlation_id(&self) -> Uuid {
        let value = self.headers["x-correlation-id"].to_str().unwrap();
        Uuid::parse_str(value).unwrap_or_else(|e| panic!("{e}: {value}"))
    }

    /// The `traceparent` response header, parsed.
    pub fn traceparent(&self) -> observe::TraceParent {
        let value = self.headers["traceparent"].to_str().unwrap();
        value.parse().unwrap_or_else(|e| panic!("{e}: {value}"))
    }

    /// What `/whoami` reported: the request's context as the handler saw
    /// it, and the correlation id and parent span of the observed call it
    /// made.
    pub fn whoami(&self) -> Whoami {
        let parts: Vec<&str> = self.body.split(' ').collect();
        assert_eq!(parts.len(), 4, "{}", self.body);
        let span = |s: &str| SpanId::parse(s).unwrap_or_else(|| panic!("span id {s}"));
        Whoami {
            correlation_id: parts[0].parse().unwrap(),
            span_id: span(parts[1]),
            nested_parent: (parts[2] != "-").then(|| span(parts[2])),
            nested_correlation_id: parts[3].parse().unwrap(),
        }
    }
}

/// What a `/whoami` handler saw.
#[derive(Debug)]
pub struct Whoami {
    /// `context::current()` in the handler.
    pub correlation_id: Uuid,
    /// The handler's span (the request's).
    pub span_id: SpanId,
    /// The parent span of the observed call the handler made.
    pub nested_parent: Option<SpanId>,
    /// The correlation id of that call.
    pub nested_correlation_id: Uuid,
}

/// Sends `GET path` with `headers` (raw bytes allowed) and reads the reply.
pub async fn fetch_with(
    client: &Client,
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &[u8])],
) -> Reply {
    let mut request = Request::get(format!("http://{addr}{path}"));
    for (name, value) in headers {
        request = request.header(*name, HeaderValue::from_bytes(value).expect("header value"));
    }
    let request = request.body(Empty::new()).expect("request");
    let response = client
        .request(request)
        .await
        .expect("the request completes");
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("the body arrives").to_bytes();
    Reply {
        status: parts.status,
        headers: parts.headers,
        body: String::from_utf8(body.to_vec()).expect("UTF-8 body"),
    }
}

/// Sends `GET path` with no extra headers.
pub async fn fetch(client: &Client, addr: SocketAddr, path: &str) -> Reply {
    fetch_with(client, addr, path, &[]).await
}

/// The events of one request, in emission order.
pub fn of_request(events: &[Event], correlation_id: Uuid) -> Vec<Event> {
    events
        .iter()
        .filter(|e| e.correlation_id == correlation_id)
        .cloned()
        .collect()
}

/// The event types of `events`, in order.
pub fn types(events: &[Event]) -> Vec<EventType> {
    events.iter().map(|e| e.event_type).collect()
}

/// The chain of one request through a handler that calls one `retrieval`
/// processor: its events are `message_received`, the processor's started
/// and complete, `response_sent`, in that order.
pub const ONE_PROCESSOR_CHAIN: [EventType; 4] = [
    EventType::MessageReceived,
    EventType::RetrievalStarted,
    EventType::RetrievalComplete,
    EventType::ResponseSent,
];
