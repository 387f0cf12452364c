//! The main demo: a small chat service (intent -> retrieval -> LLM ->
//! translation -> response) built from `#[observed]` processors, run on a
//! batch of simulated requests.
//!
//! Some messages carry an email address, a phone number or an API key (the
//! sanitizer removes them before anything is written); one request fails,
//! one panics inside a processor (caught at the request level), one is
//! cancelled by a timeout. Events go to a JSONL file; the demo then reads the
//! file back, as a consumer would, and prints each request's correlation
//! chain as a tree, followed by the pipeline's stats.
//!
//! When `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`)
//! or `OTEL_EXPORTER_ZIPKIN_ENDPOINT` is set, the events also go, as spans,
//! to that OTLP/HTTP receiver or Zipkin collector (a sink next to the file,
//! with its own breaker: a receiver that is down costs the demo nothing).
//!
//! Run: `cargo run --example chat_pipeline [-- path/to/events.jsonl]`, or
//! `OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 cargo run --example chat_pipeline`

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use observe::reader::JsonlReader;
use observe::sink::JsonlSink;
use observe::{
    Config, CorrelationContext, Event, EventType, FutureExt, Outcome, SinkOptions, SpanId,
};
use observe_export::{OtlpSink, ZipkinSink};

#[derive(Debug)]
enum ChatError {
    UnsupportedLanguage(String),
    Timeout,
}

impl fmt::Display for ChatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChatError::UnsupportedLanguage(lang) => write!(f, "no translation model for `{lang}`"),
            ChatError::Timeout => f.write_str("the model did not answer in time"),
        }
    }
}

impl std::error::Error for ChatError {}

#[observe::observed(processor = "intent", input = message)]
async fn classify_intent(message: &str) -> &'static str {
    tokio::time::sleep(Duration::from_millis(2)).await;
    if message.contains("crash") {
        panic!("intent model returned an invalid label");
    }
    if message.contains("order") {
        "order_status"
    } else {
        "question"
    }
}

#[observe::observed(processor = "retrieval", input = query)]
async fn retrieve(query: &str) -> Result<Vec<String>, ChatError> {
    tokio::time::sleep(Duration::from_millis(5)).await;
    let docs = ["refund policy", "shipping times", "order tracking"];
    let words: Vec<&str> = query.split_whitespace().collect();
    Ok(docs
        .iter()
        .filter(|doc| words.iter().any(|w| doc.contains(&w.to_lowercase())))
        .map(|doc| doc.to_string())
        .collect())
}

#[observe::observed(processor = "llm", input = prompt)]
async fn generate(prompt: &str, intent: &str, docs: &[String]) -> Result<String, ChatError> {
    if prompt.contains("slow") {
        tokio::time::sleep(Duration::from_secs(30)).await;
        return Err(ChatError::Timeout);
    }
    let docs = if intent == "order_status" {
        // A tool call: the model asks for more context, a nested span.
        retrieve("order tracking").await?
    } else {
        docs.to_vec()
    };
    tokio::time::sleep(Duration::from_millis(10)).await;
    Ok(format!(
        "Based on {}: here is what I found.",
        docs.join(", ")
    ))
}

#[observe::observed(processor = "translation", input = language)]
fn translate(text: &str, language: &str) -> Result<String, ChatError> {
    match language {
        "en" => Ok(text.to_owned()),
        "de" => Ok(format!("[de] {text}")),
        other => Err(ChatError::UnsupportedLanguage(other.to_owned())),
    }
}

/// One request through the whole pipeline, in its own correlation context.
async fn handle(message: String, language: String) -> Result<String, ChatError> {
    observe::emit!(EventType::MessageReceived, { "channel": "web", "text": message, "language": language });
    let intent = classify_intent(&message).await;
    let docs = retrieve(&message).await?;
    let answer = tokio::time::timeout(
        Duration::from_millis(200),
        generate(&message, intent, &docs),
    )
    .await
    .map_err(|_| ChatError::Timeout)??;
    let reply = translate(&answer, &language)?;
    observe::emit!(EventType::ResponseSent, { "status": 200, "length": reply.len() });
    Ok(reply)
}

const REQUESTS: &[(&str, &str)] = &[
    ("What is your refund policy?", "en"),
    (
        "Where is my order? Mail me at jane.doe@example.com or call +1 415 555 0134",
        "en",
    ),
    (
        "My key is sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z, what are the shipping times?",
        "de",
    ),
    ("Explain the refund policy in Klingon", "tlh"),
    ("Please crash the intent model", "en"),
    ("This one is slow to answer", "en"),
];

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).map_or_else(
        || {
            std::env::temp_dir()
                .join("observe-demo")
                .join("events.jsonl")
        },
        std::path::PathBuf::from,
    );
    let _ = std::fs::remove_file(&path);
    // The application's own panic hook: observe's hook (installed by init)
    // chains to it, so it still runs for every panic.
    std::panic::set_hook(Box::new(|info| eprintln!("[app panic hook] {info}")));
    let config = Config::default()
        .sink(JsonlSink::open(&path)?)
        .service_name("chat-demo")
        .batch_linger(Duration::from_millis(20));
    let guard = observe::init(with_exporters(config)?)?;

    let mut requests = Vec::new();
    for (message, language) in REQUESTS {
        let root = CorrelationContext::new_root();
        // Each request runs as its own task; a panic inside a processor is
        // caught here, at the request level, as a failed task.
        let task =
            tokio::spawn(handle(message.to_string(), language.to_string()).with_context(root));
        requests.push((root, *message, task));
    }
    println!("Handled {} requests:", requests.len());
    let mut roots = Vec::new();
    for (root, message, task) in requests {
        let status = match task.await {
            Ok(Ok(_)) => "200 OK".to_owned(),
            Ok(Err(e)) => format!("503 ({e})"),
            Err(e) if e.is_panic() => {
                "500 (a processor panicked; the service keeps running)".to_owned()
            }
            Err(e) => format!("500 ({e})"),
        };
        println!("  {:<80} -> {status}", shorten(message, 78));
        roots.push(root);
    }

    let flushed = observe::flush(Duration::from_secs(5));
    let stats = observe::stats();
    drop(guard);

    println!("\nEvents written to {} ({flushed:?})", path.display());
    let file = std::io::BufReader::new(std::fs::File::open(&path)?);
    let mut by_request: BTreeMap<_, Vec<Event>> = BTreeMap::new();
    for event in JsonlReader::new(file) {
        let event = event?;
        by_request
            .entry(event.correlation_id)
            .or_default()
            .push(event);
    }
    for root in &roots {
        let events = by_request.remove(&root.correlation_id).unwrap_or_default();
        print_chain(root, &events);
    }
    if let Some(event) = roots.get(1).and_then(|r| {
        std::fs::read_to_string(&path)
            .ok()?
            .lines()
            .find(|l| l.contains(&r.correlation_id.to_string()) && l.contains("message_received"))
            .map(str::to_owned)
    }) {
        println!(
            "\nThe second request's message_received event as stored (note the redactions):\n{event}"
        );
    }
    println!(
        "\nPipeline stats: {}",
        serde_json::to_string_pretty(&stats)?
    );
    Ok(())
}

/// Adds an OTLP and/or a Zipkin exporter when their endpoint variable is
/// set. The file has every event, so the exporters need no fallback.
fn with_exporters(mut config: Config) -> Result<Config, observe_export::ExportError> {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    let service = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| "chat-demo".to_owned());
    let options = || {
        SinkOptions::new()
            .fallback(false)
            .write_timeout(Duration::from_secs(2))
    };
    if set("OTEL_EXPORTER_OTLP_ENDPOINT") || set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
        let sink = OtlpSink::from_env()?.service_name(service.clone());
        println!("Exporting spans over OTLP/HTTP to {}", sink.url());
        config = config.add_sink_with(sink, options());
    }
    if set("OTEL_EXPORTER_ZIPKIN_ENDPOINT") {
        let sink = ZipkinSink::from_env()?.service_name(service);
        println!("Exporting spans to Zipkin at {}", sink.url());
        config = config.add_sink_with(sink, options());
    }
    Ok(config)
}

/// Prints one request as a tree of spans: processor, outcome, duration.
fn print_chain(root: &CorrelationContext, events: &[Event]) {
    struct Span {
        processor: String,
        parent: Option<SpanId>,
        outcome: Option<Outcome>,
        duration_us: Option<u64>,
        error: Option<String>,
    }
    let mut spans: BTreeMap<SpanId, Span> = BTreeMap::new();
    let mut order = Vec::new();
    for event in events.iter().filter(|e| e.span_id != root.span_id) {
        let span = spans.entry(event.span_id).or_insert_with(|| {
            order.push(event.span_id);
            Span {
                processor: event.processor.as_deref().unwrap_or("?").to_owned(),
                parent: event.parent_span_id,
                outcome: None,
                duration_us: None,
                error: None,
            }
        });
        if event.outcome.is_some() {
            span.outcome = event.outcome;
            span.duration_us = event.duration_us;
            if event.event_type == EventType::ErrorOccurred {
                span.error = event
                    .payload
                    .get("error_message")
                    .and_then(|m| m.as_str())
                    .map(str::to_owned);
            }
        }
    }
    let root_events: Vec<_> = events
        .iter()
        .filter(|e| e.span_id == root.span_id)
        .map(|e| e.event_type.as_str())
        .collect();
    println!(
        "\nrequest {}  [{}]",
        root.correlation_id,
        root_events.join(", ")
    );
    fn walk(spans: &BTreeMap<SpanId, Span>, order: &[SpanId], parent: SpanId, depth: usize) {
        for id in order.iter().filter(|id| spans[*id].parent == Some(parent)) {
            let span = &spans[id];
            let outcome = span.outcome.map_or("(no terminal event)", |o| o.as_str());
            let duration = span
                .duration_us
                .map_or(String::new(), |d| format!("{:.1} ms", d as f64 / 1000.0));
            let error = span
                .error
                .as_deref()
                .map_or(String::new(), |e| format!("  {}", shorten(e, 60)));
            let indent = "   ".repeat(depth);
            println!(
                "  {indent}└─ {:<12} {:<10} {:>9}{error}",
                span.processor, outcome, duration
            );
            walk(spans, order, *id, depth + 1);
        }
    }
    walk(&spans, &order, root.span_id, 0);
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max - 1).collect();
    format!("{cut}…")
}
