//! A small axum service behind `observe`'s HTTP correlation layer, with two
//! `#[observed]` processors per request.
//!
//! `cargo run --example axum_service --features http` starts the server on
//! a free port of 127.0.0.1, sends it a few requests (a plain one, one that
//! continues a caller's `traceparent`, one with a malformed
//! `x-correlation-id`, one the handler fails), prints each response's
//! correlation headers and each request's chain of events, and exits.
//!
//! `cargo run --example axum_service --features http -- --serve [ADDR]`
//! serves until killed (default address 127.0.0.1:3000), writing events to
//! standard error; try
//! `curl -i -d 'hello' -H 'traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' http://127.0.0.1:3000/chat`.

use std::collections::HashMap;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::MatchedPath;
use axum::http::{Request, StatusCode};
use axum::routing::{get, post};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use observe::http::CorrelationLayer;
use observe::sink::MemorySink;
use observe::{Event, SpanId};

/// Why a processor failed.
#[derive(Debug)]
struct ChatError(&'static str);

impl std::fmt::Display for ChatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for ChatError {}

/// Classifies the message (a stand-in for a model call).
#[observe::observed(processor = "intent", input = message)]
async fn classify(message: &str) -> Result<&'static str, ChatError> {
    tokio::time::sleep(Duration::from_millis(2)).await;
    Ok(if message.ends_with('?') {
        "question"
    } else {
        "chat"
    })
}

/// Looks up documents for the intent; fails for messages asking for it.
#[observe::observed(processor = "retrieval", input = message)]
async fn retrieve(intent: &str, message: &str) -> Result<Vec<String>, ChatError> {
    tokio::time::sleep(Duration::from_millis(3)).await;
    if message.contains("fail") {
        return Err(ChatError("the document index is unavailable"));
    }
    Ok(vec![format!("{intent} handbook"), "faq".to_owned()])
}

/// `POST /chat`: classify, retrieve, answer.
async fn chat(body: String) -> (StatusCode, String) {
    let intent = match classify(&body).await {
        Ok(intent) => intent,
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    match retrieve(intent, &body).await {
        Ok(docs) => (
            StatusCode::OK,
            format!("{intent}: answered from {}", docs.join(", ")),
        ),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    }
}

/// The application: routes behind the correlation layer, which records the
/// matched route in `message_received`.
fn app() -> Router {
    Router::new()
        .route("/chat", post(chat))
        .route("/health", get(|| async { "ok" }))
        .layer(CorrelationLayer::new().route(|extensions| {
            extensions
                .get::<MatchedPath>()
                .map(|p| p.as_str().to_owned())
        }))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() == Some("--serve") {
        let addr = args.next().unwrap_or_else(|| "127.0.0.1:3000".to_owned());
        // Default sink: sanitized JSON lines on standard error.
        let _guard = observe::init(observe::Config::default().service_name("axum_service"))?;
        let listener = tokio::net::TcpListener::bind(&addr).await?;
        eprintln!("serving on http://{}", listener.local_addr()?);
        axum::serve(listener, app()).await?;
        return Ok(());
    }
    self_test().await
}

/// A request header: name and value.
type Header = (&'static str, &'static str);

/// Serves on a free port, sends requests to itself, prints what happened.
async fn self_test() -> Result<(), Box<dyn std::error::Error>> {
    let sink = MemorySink::new();
    let guard = observe::init(
        observe::Config::default()
            .sink(sink.clone())
            .service_name("axum_service"),
    )?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(async move { axum::serve(listener, app()).await });
    println!("serving on http://{addr}\n");

    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let requests: [(&str, &str, Option<Header>); 4] = [
        ("plain", "what are your opening hours?", None),
        (
            "continues a caller's trace",
            "hello",
            Some((
                "traceparent",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            )),
        ),
        (
            "malformed x-correlation-id",
            "hello again",
            Some(("x-correlation-id", "definitely-not-a-uuid")),
        ),
        ("handler fails", "please fail", None),
    ];
    let mut order = Vec::new();
    for (label, message, header) in requests {
        let mut request = Request::post(format!("http://{addr}/chat"))
            .header("user-agent", "axum_service-example/1.0");
        if let Some((name, value)) = header {
            request = request.header(name, value);
        }
        let response = client
            .request(request.body(Full::new(Bytes::from(message)))?)
            .await?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await?.to_bytes();
        let correlation_id = headers
            .get("x-correlation-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_owned();
        println!("{label}: {status} {:?}", String::from_utf8_lossy(&body));
        println!("  x-correlation-id: {correlation_id}");
        println!(
            "  traceparent:      {}",
            headers
                .get("traceparent")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-")
        );
        order.push(correlation_id);
    }

    observe::flush(Duration::from_secs(5));
    println!("\nevents, one chain per request:");
    let events = sink.events();
    for correlation_id in &order {
        let chain: Vec<&Event> = events
            .iter()
            .filter(|e| e.correlation_id.to_string() == *correlation_id)
            .collect();
        print_chain(correlation_id, &chain);
    }
    println!("\n{:?}", observe::stats());

    server.abort();
    drop(guard);
    Ok(())
}

/// Prints a request's events indented by their depth in the span tree (a
/// parent outside this process, from `traceparent`, is named, not shown).
fn print_chain(correlation_id: &str, chain: &[&Event]) {
    println!("\n{correlation_id}");
    let parents: HashMap<SpanId, Option<SpanId>> = chain
        .iter()
        .map(|e| (e.span_id, e.parent_span_id))
        .collect();
    let depth = |mut span: SpanId| {
        let mut depth = 0;
        while let Some(Some(parent)) = parents.get(&span) {
            if !parents.contains_key(parent) || depth > chain.len() {
                break;
            }
            depth += 1;
            span = *parent;
        }
        depth
    };
    for event in chain {
        let mut line = format!(
            "{}{} [{}]",
            "  ".repeat(depth(event.span_id) + 1),
            event.event_type.as_str(),
            event.span_id
        );
        if let Some(parent) = event.parent_span_id.filter(|p| !parents.contains_key(p)) {
            line.push_str(&format!(" (caller span {parent})"));
        }
        if let Some(outcome) = event.outcome {
            line.push_str(&format!(" {}", outcome.as_str()));
        }
        if let Some(us) = event.duration_us {
            line.push_str(&format!(" {us} us"));
        }
        let mut payload = event.payload.clone();
        // Stack frames are in the events; too long for this summary.
        payload.retain(|key, _| !key.starts_with("stack_frames"));
        if !payload.is_empty() {
            line.push_str(&format!(" {}", serde_json::Value::Object(payload)));
        }
        println!("{line}");
    }
}
