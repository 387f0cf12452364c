//! The test harness: a server on 127.0.0.1:0 over a fresh SQLite store, a
//! writer for that store, and a small SSE and HTTP client.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::body::Bytes;
use axum::http::{Request, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use observe_core::delivery::sink::Sink;
use observe_core::{CorrelationContext, Event, EventType, Outcome};
use observe_serve::{ServeOptions, serve_on};
use observe_store::{SqliteSink, StoreUrl};
use tokio::sync::oneshot;

/// A running server and the sink that writes its store.
pub struct Harness {
    pub addr: SocketAddr,
    pub sink: SqliteSink,
    pub dir: PathBuf,
    _stop: oneshot::Sender<()>,
}

impl Drop for Harness {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts a server (with `token`, if any) over a new store.
pub async fn start(name: &str, token: Option<&str>) -> Harness {
    start_with(name, |options| options.token = token.map(str::to_owned)).await
}

/// Starts a server over a new store with the options `configure` sets.
pub async fn start_with(name: &str, configure: impl FnOnce(&mut ServeOptions)) -> Harness {
    start_on(&tokio::runtime::Handle::current(), name, configure).await
}

/// Starts a server on `runtime` (its listener too), over a new store with
/// the options `configure` sets; the store's sink stays with the caller.
pub async fn start_on(
    runtime: &tokio::runtime::Handle,
    name: &str,
    configure: impl FnOnce(&mut ServeOptions),
) -> Harness {
    let dir = std::env::temp_dir().join(format!("observe-serve-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("events.db");
    let sink = SqliteSink::open(&path).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut options = ServeOptions::new(StoreUrl::sqlite(&path));
    options.bind = addr;
    configure(&mut options);
    let (stop, stopped) = oneshot::channel::<()>();
    runtime.spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        serve_on(listener, options, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    Harness {
        addr,
        sink,
        dir,
        _stop: stop,
    }
}

impl Harness {
    /// Writes `n` events of one request each (a `message_received`), and
    /// returns their correlation ids.
    pub async fn write(&self, n: usize) -> Vec<uuid::Uuid> {
        let events: Vec<Event> = (0..n)
            .map(|_| Event::new(EventType::MessageReceived, &CorrelationContext::new_root()))
            .collect();
        let ids = events.iter().map(|e| e.correlation_id).collect();
        self.sink.write_batch(&events).await.unwrap();
        ids
    }

    /// Writes one request with a root span, an ok child and a failed child;
    /// `payload_text` goes into the failed call's error message.
    pub async fn write_request(&self, payload_text: &str) -> uuid::Uuid {
        let root = CorrelationContext::new_root();
        let ok = root.child();
        let failed = root.child();
        let mut error = observe_core::ErrorPayload::new("TimeoutError", payload_text, "llm");
        error.stack_frames = vec!["chat::llm at src/llm.rs:10".into()];
        let events = vec![
            Event::new(EventType::MessageReceived, &root),
            Event::new(EventType::RetrievalStarted, &ok).with_processor("retrieval"),
            Event::new(EventType::RetrievalComplete, &ok)
                .with_processor("retrieval")
                .with_outcome(Outcome::Ok, 1200),
            Event::new(EventType::LlmStarted, &failed).with_processor("llm"),
            Event::new(EventType::ErrorOccurred, &failed)
                .with_processor("llm")
                .with_payload(serde_json::to_value(&error).unwrap()),
            Event::new(EventType::LlmComplete, &failed)
                .with_processor("llm")
                .with_outcome(Outcome::Error, 3400),
            Event::new(EventType::ResponseSent, &root).with_outcome(Outcome::Ok, 5000),
        ];
        self.sink.write_batch(&events).await.unwrap();
        root.correlation_id
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

pub fn client() -> Client<HttpConnector, Empty<Bytes>> {
    Client::builder(TokioExecutor::new()).build_http()
}

/// GET `url` with extra headers: the status and the whole body.
pub async fn get(url: &str, headers: &[(&str, &str)]) -> (StatusCode, String) {
    let mut request = Request::get(url);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = client()
        .request(request.body(Empty::new()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// One SSE event as received.
#[derive(Clone, Debug, PartialEq)]
pub struct SseMessage {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: String,
}

/// An open SSE connection.
pub struct SseClient {
    body: hyper::body::Incoming,
    /// Received, not yet parsed; parsing starts at `start`.
    buffer: Vec<u8>,
    start: usize,
}

impl SseClient {
    pub async fn connect(url: &str, headers: &[(&str, &str)]) -> SseClient {
        let mut request = Request::get(url);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let response = client()
            .request(request.body(Empty::new()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        SseClient {
            body: response.into_body(),
            buffer: Vec::new(),
            start: 0,
        }
    }

    /// The next event (keep-alive comments skipped); `None` at the end.
    pub async fn next(&mut self) -> Option<SseMessage> {
        loop {
            let unread = &self.buffer[self.start..];
            if let Some(end) = memchr::memmem::find(unread, b"\n\n") {
                let block = String::from_utf8_lossy(&unread[..end]).into_owned();
                self.start += end + 2;
                let mut message = SseMessage {
                    id: None,
                    event: None,
                    data: String::new(),
                };
                let mut any = false;
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        message.id = Some(v.trim().to_owned());
                        any = true;
                    } else if let Some(v) = line.strip_prefix("event:") {
                        message.event = Some(v.trim().to_owned());
                        any = true;
                    } else if let Some(v) = line.strip_prefix("data:") {
                        message.data.push_str(v.trim_start());
                        any = true;
                    }
                }
                if any {
                    return Some(message);
                }
                continue;
            }
            let frame = self.body.frame().await?.ok()?;
            if let Ok(data) = frame.into_data() {
                self.buffer.drain(..self.start);
                self.start = 0;
                self.buffer.extend_from_slice(&data);
            }
        }
    }

    /// Reads what arrives next and counts the messages it ends (events,
    /// keep-alives and notices alike: the blank lines); `None` at the end.
    /// Cheap enough for a benchmark's many clients, whose parsing would
    /// otherwise cost more than the server's sending. Not to be mixed with
    /// [`SseClient::next`] on one client.
    pub async fn count(&mut self) -> Option<usize> {
        loop {
            let frame = self.body.frame().await?.ok()?;
            let Ok(data) = frame.into_data() else {
                continue;
            };
            // `buffer` holds only the previous chunk's last byte here.
            let across = self.buffer.last() == Some(&b'\n') && data.first() == Some(&b'\n');
            let within = memchr::memmem::find_iter(&data, b"\n\n").count();
            self.buffer.clear();
            self.buffer.extend(data.last());
            return Some(within + usize::from(across));
        }
    }

    /// The next `n` events that have an id, each within 10 s.
    pub async fn take(&mut self, n: usize) -> Vec<SseMessage> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let message = tokio::time::timeout(std::time::Duration::from_secs(10), self.next())
                .await
                .expect("an event within 10 s")
                .expect("the stream stays open");
            out.push(message);
        }
        out
    }
}

/// The correlation id in an event's JSON.
pub fn correlation_id(message: &SseMessage) -> uuid::Uuid {
    let value: serde_json::Value = serde_json::from_str(&message.data).unwrap();
    value["correlation_id"].as_str().unwrap().parse().unwrap()
}
