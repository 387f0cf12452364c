//! `#[observed]` and `emit!` against a real pipeline with a `MemorySink`:
//! exact event sequences for every way a call can end, nesting, and the
//! invariants of DESIGN.md (one terminal per started span; one correlation
//! id per request; parent links form a tree) under 1,000 concurrent requests.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use observe::{CorrelationContext, ErrorPayload, Event, EventType, FutureExt, Outcome};

mod common;
use common::new_request;
use common::process_sink as sink;

fn flushed() {
    assert_eq!(
        observe::flush(Duration::from_secs(30)),
        observe::FlushOutcome::Flushed
    );
}

/// The events of one request, in emission order, after a flush.
fn events_of(request: &CorrelationContext) -> Vec<Event> {
    let sink = sink();
    flushed();
    sink.events()
        .into_iter()
        .filter(|e| e.correlation_id == request.correlation_id)
        .collect()
}

fn kinds(events: &[Event]) -> Vec<(EventType, Option<Outcome>)> {
    events.iter().map(|e| (e.event_type, e.outcome)).collect()
}

#[derive(Debug)]
struct RetrievalError(String);

impl std::fmt::Display for RetrievalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "retrieval failed: {}", self.0)
    }
}

impl std::error::Error for RetrievalError {}

#[observe::observed(processor = "retrieval", input = query)]
fn retrieve(query: &str) -> Result<Vec<String>, RetrievalError> {
    if query.starts_with("fail") {
        return Err(RetrievalError(format!("no index for {query}")));
    }
    let words: Vec<String> = query.split(' ').map(str::to_owned).collect();
    let first = words
        .first()
        .ok_or_else(|| RetrievalError("empty".into()))?;
    Ok(vec![first.clone()])
}

#[observe::observed(processor = "llm", input = prompt)]
async fn complete(prompt: String) -> Result<String, RetrievalError> {
    tokio::task::yield_now().await;
    let docs = retrieve(&prompt)?;
    tokio::task::yield_now().await;
    Ok(docs.join(","))
}

#[observe::observed(processor = "intent")]
async fn handle(message: String) -> Result<String, RetrievalError> {
    observe::emit!(EventType::MessageReceived, { "length": message.len() });
    let answer = complete(message).await?;
    observe::emit!(EventType::ResponseSent, { "status": 200 });
    Ok(answer)
}

#[observe::observed(processor = "translation")]
fn explode(text: &str) -> usize {
    if text == "boom" {
        panic!("translation table corrupted for {text}");
    }
    text.len()
}

#[observe::observed(processor = "translation")]
async fn slow_translation() -> usize {
    tokio::time::sleep(Duration::from_secs(30)).await;
    1
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn a_successful_sync_call_emits_started_then_complete() {
    let request = new_request();
    let docs = request.in_scope(|| retrieve("alpha beta")).unwrap();
    assert_eq!(docs, ["alpha"]);
    let events = events_of(&request);
    assert_eq!(
        kinds(&events),
        [
            (EventType::RetrievalStarted, None),
            (EventType::RetrievalComplete, Some(Outcome::Ok))
        ]
    );
    let (started, complete) = (&events[0], &events[1]);
    assert_eq!(started.span_id, complete.span_id);
    assert_eq!(started.parent_span_id, Some(request.span_id));
    assert_eq!(started.processor.as_deref(), Some("retrieval"));
    assert_eq!(started.duration_us, None);
    assert!(complete.duration_us.is_some());
    assert!(started.payload.is_empty(), "nothing captured unless asked");
}

#[test]
fn an_err_emits_error_occurred_with_a_full_error_payload() {
    let request = new_request();
    let query = "fail: mail me at jane.doe@example.com";
    let result = request.in_scope(|| retrieve(query));
    assert!(result.is_err());
    let events = events_of(&request);
    assert_eq!(
        kinds(&events),
        [
            (EventType::RetrievalStarted, None),
            (EventType::ErrorOccurred, Some(Outcome::Error))
        ]
    );
    let error = &events[1];
    assert_eq!(error.span_id, events[0].span_id);
    let payload: ErrorPayload =
        serde_json::from_value(serde_json::Value::Object(error.payload.clone())).unwrap();
    assert_eq!(payload.error_type, "RetrievalError");
    assert!(
        payload
            .error_message
            .starts_with("retrieval failed: no index for fail")
    );
    assert_eq!(payload.processor, "retrieval");
    assert!(!payload.stack_frames.is_empty(), "a backtrace was resolved");
    assert!(payload.stack_frames.len() <= 10);
    let preview = payload.input_preview;
    assert!(preview.starts_with("fail: mail me at"), "{preview}");
    assert!(
        !preview.contains("jane.doe@example.com"),
        "sanitized: {preview}"
    );
    assert!(!payload.error_message.contains("jane.doe@example.com"));
}

#[test]
fn the_question_mark_operator_ends_the_call_as_an_error() {
    let request = new_request();
    assert!(
        request.in_scope(|| retrieve("")).is_ok(),
        "\"\" splits into one word"
    );
    let events = events_of(&request);
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].outcome, Some(Outcome::Ok));
}

#[test]
fn a_panic_emits_error_occurred_with_outcome_panic_and_keeps_unwinding() {
    let request = new_request();
    let caught = std::panic::catch_unwind(|| request.in_scope(|| explode("boom")));
    let message = caught.expect_err("the panic continues unchanged");
    assert_eq!(
        message.downcast_ref::<String>().map(String::as_str),
        Some("translation table corrupted for boom")
    );
    let events = events_of(&request);
    assert_eq!(
        kinds(&events),
        [
            (EventType::TranslationStarted, None),
            (EventType::ErrorOccurred, Some(Outcome::Panic))
        ]
    );
    let payload = &events[1].payload;
    assert_eq!(payload["error_type"], "panic");
    let text = payload["error_message"].as_str().unwrap();
    assert!(
        text.contains("translation table corrupted for boom"),
        "{text}"
    );
    assert_eq!(payload["processor"], "translation");
}

#[test]
fn a_panic_in_an_async_body_is_reported_as_panic() {
    #[observe::observed(processor = "llm")]
    async fn panics_after_await() -> u8 {
        tokio::task::yield_now().await;
        panic!("model weights missing");
    }
    let request = new_request();
    let joined = runtime()
        .block_on(async { tokio::spawn(panics_after_await().with_context(request)).await });
    assert!(joined.unwrap_err().is_panic());
    let events = events_of(&request);
    assert_eq!(
        kinds(&events),
        [
            (EventType::LlmStarted, None),
            (EventType::ErrorOccurred, Some(Outcome::Panic))
        ]
    );
    assert!(
        events[1].payload["error_message"]
            .as_str()
            .unwrap()
            .contains("model weights missing")
    );
}

#[test]
fn a_cancelled_future_completes_with_outcome_cancelled() {
    let request = new_request();
    let result = runtime().block_on(
        async { tokio::time::timeout(Duration::from_millis(20), slow_translation()).await }
            .with_context(request),
    );
    assert!(result.is_err(), "the timeout fired");
    let events = events_of(&request);
    assert_eq!(
        kinds(&events),
        [
            (EventType::TranslationStarted, None),
            (EventType::TranslationComplete, Some(Outcome::Cancelled))
        ]
    );
    assert!(events[1].duration_us.unwrap() >= 20_000);
}

#[test]
fn nested_async_and_sync_processors_form_one_chain() {
    let request = new_request();
    let answer = runtime()
        .block_on(handle("alpha beta".into()).with_context(request))
        .unwrap();
    assert_eq!(answer, "alpha");
    let events = events_of(&request);
    assert_eq!(
        kinds(&events),
        [
            (EventType::IntentStarted, None),
            (EventType::MessageReceived, None),
            (EventType::LlmStarted, None),
            (EventType::RetrievalStarted, None),
            (EventType::RetrievalComplete, Some(Outcome::Ok)),
            (EventType::LlmComplete, Some(Outcome::Ok)),
            (EventType::ResponseSent, None),
            (EventType::IntentClassified, Some(Outcome::Ok)),
        ]
    );
    let intent = &events[0];
    let llm = &events[2];
    let retrieval = &events[3];
    assert_eq!(intent.parent_span_id, Some(request.span_id));
    assert_eq!(
        events[1].span_id, intent.span_id,
        "emit! uses the current span"
    );
    assert_eq!(events[1].payload["length"], 10);
    assert_eq!(llm.parent_span_id, Some(intent.span_id));
    assert_eq!(retrieval.parent_span_id, Some(llm.span_id));
}

#[test]
fn an_error_deep_in_the_chain_ends_every_enclosing_call_as_an_error() {
    let request = new_request();
    let result = runtime().block_on(handle("fail now".into()).with_context(request));
    assert!(result.is_err());
    let events = events_of(&request);
    assert_eq!(
        kinds(&events),
        [
            (EventType::IntentStarted, None),
            (EventType::MessageReceived, None),
            (EventType::LlmStarted, None),
            (EventType::RetrievalStarted, None),
            (EventType::ErrorOccurred, Some(Outcome::Error)),
            (EventType::ErrorOccurred, Some(Outcome::Error)),
            (EventType::ErrorOccurred, Some(Outcome::Error)),
        ]
    );
    let processors: Vec<_> = events[4..]
        .iter()
        .map(|e| e.payload["processor"].clone())
        .collect();
    assert_eq!(processors, ["retrieval", "llm", "intent"]);
}

#[test]
fn a_call_without_a_context_starts_a_new_request() {
    let before: HashSet<_> = sink().events().iter().map(|e| e.correlation_id).collect();
    explode("calm");
    flushed();
    let new: Vec<_> = sink()
        .events()
        .into_iter()
        .filter(|e| {
            !before.contains(&e.correlation_id) && e.processor.as_deref() == Some("translation")
        })
        .filter(|e| e.parent_span_id.is_none())
        .collect();
    assert!(new.len() >= 2, "a root span with a fresh correlation id");
    assert_eq!(new[0].correlation_id.get_version_num(), 7);
}

#[test]
fn a_thousand_concurrent_requests_keep_the_invariants() {
    let requests: Vec<_> = (0..1_000).map(|_| new_request()).collect();
    runtime().block_on(async {
        let tasks: Vec<_> = requests
            .iter()
            .enumerate()
            .map(|(i, request)| {
                let message = if i % 10 == 3 {
                    format!("fail {i}")
                } else {
                    format!("q{i} x")
                };
                tokio::spawn(handle(message).with_context(*request))
            })
            .collect();
        for task in tasks {
            let _ = task.await.unwrap();
        }
    });
    flushed();
    let ids: HashSet<_> = requests.iter().map(|r| r.correlation_id).collect();
    let mut by_request: HashMap<_, Vec<Event>> = HashMap::new();
    for event in sink()
        .events()
        .into_iter()
        .filter(|e| ids.contains(&e.correlation_id))
    {
        by_request
            .entry(event.correlation_id)
            .or_default()
            .push(event);
    }
    assert_eq!(by_request.len(), 1_000, "every request emitted");
    assert_eq!(
        observe::stats().dropped,
        0,
        "the queue is large enough for this test"
    );
    for (request, events) in &by_request {
        let root = requests
            .iter()
            .find(|r| r.correlation_id == *request)
            .unwrap();
        let mut spans: HashSet<_> = HashSet::from([root.span_id]);
        let mut open: HashMap<_, usize> = HashMap::new();
        for event in events {
            let is_started = matches!(
                event.event_type,
                EventType::IntentStarted | EventType::LlmStarted | EventType::RetrievalStarted
            );
            if is_started {
                // Invariant 3: a new span's parent is a span of this request.
                assert!(
                    spans.contains(&event.parent_span_id.unwrap()),
                    "parent in the tree"
                );
                assert!(spans.insert(event.span_id), "span ids are unique");
                *open.entry(event.span_id).or_default() += 1;
            } else if event.outcome.is_some() {
                // Invariant 2: exactly one terminal event per started span.
                let count = open
                    .get_mut(&event.span_id)
                    .expect("terminal after started");
                assert_eq!(*count, 1, "one terminal per span");
                *count = 0;
            }
        }
        assert!(open.values().all(|c| *c == 0), "every started span ended");
        assert_eq!(open.len(), 3, "intent, llm and retrieval spans");
    }
}
