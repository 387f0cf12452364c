//! The main demo: a small chat service (intent -> retrieval -> LLM ->
//! translation -> response) built from `#[observed]` processors, run on a
//! batch of simulated requests.
//!
//! Some messages carry an email address, a phone number or an API key (the
//! sanitizer removes them before anything is written); one request fails,
//! one panics inside a processor (caught at the request level), one is
//! cancelled by a timeout. Events go to the store named by `OBSERVE_STORE`
//! (or the first argument), by default an SQLite file in the system
//! temporary directory; the demo then reads them back through the query
//! API, as a consumer would, and prints each request's correlation chain as
//! a tree, the newest requests' summaries, and the pipeline's stats.
//!
//! When `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`)
//! or `OTEL_EXPORTER_ZIPKIN_ENDPOINT` is set, the events also go, as spans,
//! to that OTLP/HTTP receiver or Zipkin collector (a sink next to the store,
//! with its own breaker: a receiver that is down costs the demo nothing).
//!
//! Run: `cargo run --example chat_pipeline [-- STORE_URL]`, where STORE_URL
//! is `sqlite://path.db`, `postgres://user@host:port/db` or `path.jsonl`; or
//! `OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 cargo run --example chat_pipeline`.

use std::fmt;
use std::time::Duration;

use observe::chain::Chain;
use observe::store::{EventStore, Store, StoreSink, StoreUrl, TraceFilter};
use observe::{Config, CorrelationContext, EventType, FutureExt, SinkOptions};
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

/// How a request ended, as its caller sees it.
#[derive(Debug)]
enum Failure {
    Chat(ChatError),
    Panicked,
}

/// One request through the whole pipeline, in its own correlation context.
/// Every request ends with `response_sent`, failed, panicked and timed-out
/// ones included (with their HTTP status), so no chain looks in flight for
/// ever.
async fn handle(message: String, language: String) -> Result<String, Failure> {
    observe::emit!(EventType::MessageReceived, { "channel": "web", "text": message, "language": language });
    // The processors run as a task of the same context: a panic in one is
    // caught here, at the request level, and answered with a 500.
    let result = match observe::spawn(pipeline(message, language)).await {
        Ok(Ok(reply)) => Ok(reply),
        Ok(Err(e)) => Err(Failure::Chat(e)),
        Err(_) => Err(Failure::Panicked),
    };
    let status = match &result {
        Ok(_) => 200,
        Err(Failure::Chat(_)) => 503,
        Err(Failure::Panicked) => 500,
    };
    let length = result.as_ref().map_or(0, |reply| reply.len());
    observe::emit!(EventType::ResponseSent, { "status": status, "length": length });
    result
}

async fn pipeline(message: String, language: String) -> Result<String, ChatError> {
    let intent = classify_intent(&message).await;
    let docs = retrieve(&message).await?;
    let answer = tokio::time::timeout(
        Duration::from_millis(200),
        generate(&message, intent, &docs),
    )
    .await
    .map_err(|_| ChatError::Timeout)??;
    translate(&answer, &language)
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

/// The store named on the command line or in `OBSERVE_STORE`; by default a
/// fresh SQLite file in the demo's own owner-only directory.
fn store_url() -> Result<StoreUrl, Box<dyn std::error::Error>> {
    if let Some(arg) = std::env::args().nth(1) {
        return Ok(arg.parse()?);
    }
    if let Some(url) = StoreUrl::from_env()? {
        return Ok(url);
    }
    let dir = std::env::temp_dir().join("observe-demo");
    std::fs::create_dir_all(&dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // The demo's own directory: events hold user data, keep it private.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
    }
    let path = dir.join("events.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    Ok(StoreUrl::sqlite(path))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = store_url()?;
    // The application's own panic hook: observe's hook (installed by init)
    // chains to it, so it still runs for every panic.
    std::panic::set_hook(Box::new(|info| eprintln!("[app panic hook] {info}")));
    let config = Config::default()
        .sink(StoreSink::open(&url)?)
        .service_name("chat-demo")
        .batch_linger(Duration::from_millis(20));
    let guard = observe::init(with_exporters(config)?)?;

    let mut requests = Vec::new();
    for (message, language) in REQUESTS {
        let root = CorrelationContext::new_root();
        // Each request runs as its own task.
        let task =
            tokio::spawn(handle(message.to_string(), language.to_string()).with_context(root));
        requests.push((root, *message, task));
    }
    println!("Handled {} requests:", requests.len());
    let mut roots = Vec::new();
    for (root, message, task) in requests {
        let status = match task.await {
            Ok(Ok(_)) => "200 OK".to_owned(),
            Ok(Err(Failure::Chat(e))) => format!("503 ({e})"),
            Ok(Err(Failure::Panicked)) => {
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

    println!("\nEvents written to {url} ({flushed:?})");
    let store = Store::open(&url)?;
    let mut chains = Vec::new();
    for root in &roots {
        let chain = store.chain(root.correlation_id).await?;
        print_chain(&chain);
        chains.push(chain);
    }
    let stored = chains.get(1).and_then(|chain| {
        let event = chain
            .events()
            .iter()
            .find(|e| e.event_type == EventType::MessageReceived)?;
        serde_json::to_string(event).ok()
    });
    if let Some(event) = stored {
        println!(
            "\nThe second request's message_received event as stored (note the redactions):\n{event}"
        );
    }
    println!("\nNewest requests (EventStore::traces):");
    for summary in store.traces(&TraceFilter::new().limit(10)).await?.items {
        let outcome = summary.outcome.map_or("in flight", |o| o.as_str());
        println!(
            "  {}  {:<18} {:>2} spans {:>9.1} ms  {outcome}",
            summary.correlation_id,
            summary.root,
            summary.spans,
            summary.duration_us as f64 / 1000.0
        );
    }
    println!(
        "\nPipeline stats: {}",
        serde_json::to_string_pretty(&stats)?
    );
    println!(
        "\nRead the store again with the `observe` command:\n  \
         export OBSERVE_STORE={url}\n  \
         cargo observe traces\n  \
         cargo observe trace latest-error\n  \
         cargo observe tail --follow"
    );
    Ok(())
}

/// Adds an OTLP and/or a Zipkin exporter when their endpoint variable is
/// set. The store has every event, so the exporters need no fallback.
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
fn print_chain(chain: &Chain) {
    let root_events: Vec<&str> = chain
        .roots()
        .filter(|span| span.parent_span_id.is_none())
        .flat_map(|span| {
            span.events
                .iter()
                .map(|&i| chain.events()[i].event_type.as_str())
        })
        .collect();
    println!(
        "\nrequest {}  [{}]",
        chain.correlation_id(),
        root_events.join(", ")
    );
    for (depth, span) in chain.walk().filter(|(depth, _)| *depth > 0) {
        let outcome = span.outcome.map_or("(no terminal event)", |o| o.as_str());
        let duration = span
            .duration_us
            .map_or(String::new(), |d| format!("{:.1} ms", d as f64 / 1000.0));
        let error = span
            .error_message
            .as_deref()
            .map_or(String::new(), |e| format!("  {}", shorten(e, 60)));
        let indent = "   ".repeat(depth - 1);
        println!(
            "  {indent}└─ {:<12} {:<10} {:>9}{error}",
            span.label(chain),
            outcome,
            duration
        );
    }
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max - 1).collect();
    format!("{cut}…")
}
