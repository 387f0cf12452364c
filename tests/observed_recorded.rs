//! Values on the span's terminal event: `observe::current_span().record`
//! and `#[observed(ret)]`, in sync and async calls (across threads), on
//! complete and on `error_occurred` events, sanitized like every payload,
//! and nothing at all unless asked.

mod common;

use std::time::Duration;

use common::{new_request, process_sink};
use observe::{CorrelationContext, Event, EventType, FlushOutcome, Outcome};
use serde_json::json;

#[derive(Debug)]
struct NotFound;

impl std::fmt::Display for NotFound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("no such document")
    }
}

/// A value with `Debug` only.
#[derive(Debug)]
struct Ranking {
    top: u8,
}

#[observe::observed(processor = "intent")]
fn classify(message: &str) -> &'static str {
    let intent = if message.contains("order") {
        "order_status"
    } else {
        "question"
    };
    observe::current_span().record("intent", intent);
    observe::current_span().record("note", "password=hunter2 was in the message");
    intent
}

#[observe::observed(processor = "retrieval", ret)]
async fn retrieve(query: &str) -> Result<Vec<String>, NotFound> {
    observe::current_span().record("query_words", &query.split(' ').count());
    // Resumed on another worker thread, maybe: the fields follow the span.
    tokio::task::yield_now().await;
    tokio::time::sleep(Duration::from_millis(1)).await;
    if query.contains("missing") {
        return Err(NotFound);
    }
    Ok(vec!["refund policy".to_owned(), "shipping".to_owned()])
}

async fn retrieve_owned(query: &'static str) -> Result<Vec<String>, NotFound> {
    retrieve(query).await
}

#[observe::observed(processor = "llm", ret(Debug))]
fn rank() -> Ranking {
    Ranking { top: 3 }
}

#[observe::observed(processor = "translation")]
fn translate(text: &str) -> String {
    text.to_uppercase()
}

fn terminal_of(request: &CorrelationContext) -> Vec<Event> {
    assert_eq!(
        observe::flush(Duration::from_secs(30)),
        FlushOutcome::Flushed
    );
    process_sink()
        .events()
        .into_iter()
        .filter(|e| e.correlation_id == request.correlation_id && e.outcome.is_some())
        .collect()
}

#[test]
fn recorded_values_go_on_the_terminal_event_and_are_sanitized() {
    let request = new_request();
    assert_eq!(
        request.in_scope(|| classify("where is my order")),
        "order_status"
    );
    let events = terminal_of(&request);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].event_type, EventType::IntentClassified);
    assert_eq!(events[0].payload["intent"], "order_status");
    let note = events[0].payload["note"].as_str().unwrap();
    assert!(!note.contains("hunter2"), "{note}");
}

#[test]
fn ret_records_the_ok_value_and_fields_follow_an_async_span_across_threads() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let request = new_request();
    let (found, missing) = runtime.block_on(observe::FutureExt::with_context(
        async {
            // Spawned: polled on the runtime's worker threads.
            let found = observe::spawn(retrieve_owned("refund policy"));
            let missing = observe::spawn(retrieve_owned("missing page"));
            (found.await.unwrap(), missing.await.unwrap())
        },
        request,
    ));
    assert!(found.is_ok() && missing.is_err());

    let events = terminal_of(&request);
    let complete = events
        .iter()
        .find(|e| e.event_type == EventType::RetrievalComplete)
        .expect("the Ok call");
    assert_eq!(
        complete.payload,
        json!({ "query_words": 2, "return": ["refund policy", "shipping"] })
            .as_object()
            .unwrap()
            .clone()
    );
    let error = events
        .iter()
        .find(|e| e.event_type == EventType::ErrorOccurred)
        .expect("the Err call");
    assert_eq!(error.outcome, Some(Outcome::Error));
    assert_eq!(error.payload["error_type"], "NotFound");
    assert_eq!(
        error.payload["query_words"], 2,
        "recorded fields go on errors too"
    );
    assert!(
        error.payload.get("return").is_none(),
        "an Err is not a return value"
    );
}

#[test]
fn ret_debug_records_the_debug_text_and_nothing_is_recorded_unless_asked() {
    let request = new_request();
    request.in_scope(|| {
        assert_eq!(rank().top, 3);
        assert_eq!(translate("hola"), "HOLA");
    });
    let events = terminal_of(&request);
    let ranked = events
        .iter()
        .find(|e| e.event_type == EventType::LlmComplete)
        .unwrap();
    assert_eq!(ranked.payload["return"], "Ranking { top: 3 }");
    let translated = events
        .iter()
        .find(|e| e.event_type == EventType::TranslationComplete)
        .unwrap();
    assert!(
        translated.payload.is_empty(),
        "no field without ret or record: {translated:?}"
    );
}

#[test]
fn recording_outside_any_span_or_without_a_pipeline_does_nothing() {
    // No current context: nothing to record on, and nothing breaks.
    assert!(observe::current_span().context().is_none());
    observe::current_span().record("orphan", "value");
    // A later span with a fresh id carries nothing of it.
    let request = new_request();
    request.in_scope(|| translate("x"));
    let events = terminal_of(&request);
    assert!(events[0].payload.is_empty(), "{events:?}");
}
