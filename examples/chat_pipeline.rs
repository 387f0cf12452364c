//! The main demo: one chat request (message -> intent -> retrieval -> LLM ->
//! translation -> response) as a correlated chain of schema-v1 events.
//!
//! For now the events are built by hand from correlation contexts; once the
//! pipeline and the `#[observed]` macro land, the same chain comes from
//! annotated processors and is written to a JSONL file.

use observe::{ErrorPayload, Event, EventType, Outcome, TraceParent};
use serde_json::json;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A request arrives from an upstream service that sent a traceparent.
    let incoming = "00-0193a1b2c3d47e5f8a6b7c8d9e0f1a2b-1a2b3c4d5e6f7081-01";
    let request = TraceParent::parse(incoming)?.child_context();
    let mut events = vec![
        Event::new(EventType::MessageReceived, &request)
            .with_payload(json!({ "channel": "web", "route": "/chat" })),
    ];

    let steps = [
        (
            "intent",
            EventType::IntentStarted,
            EventType::IntentClassified,
            800,
        ),
        (
            "retrieval",
            EventType::RetrievalStarted,
            EventType::RetrievalComplete,
            15_000,
        ),
        (
            "llm",
            EventType::LlmStarted,
            EventType::LlmComplete,
            400_000,
        ),
        (
            "translation",
            EventType::TranslationStarted,
            EventType::TranslationComplete,
            2_000,
        ),
    ];
    for (processor, started, complete, duration_us) in steps {
        let span = request.child();
        events.push(Event::new(started, &span).with_processor(processor));
        events.push(
            Event::new(complete, &span)
                .with_processor(processor)
                .with_outcome(Outcome::Ok, duration_us),
        );
    }
    // A retried LLM call that failed first, with a structured error payload.
    let failed = request.child();
    let error = ErrorPayload::new("RateLimited", "upstream returned 429", "llm");
    events.push(
        Event::new(EventType::ErrorOccurred, &failed)
            .with_processor("llm")
            .with_outcome(Outcome::Error, 230_000)
            .with_payload(serde_json::to_value(&error)?),
    );
    events
        .push(Event::new(EventType::ResponseSent, &request).with_payload(json!({ "status": 200 })));

    for event in &events {
        println!("{}", serde_json::to_string(event)?);
    }
    println!();
    println!(
        "request {} (continued from {incoming})",
        request.correlation_id
    );
    for event in &events {
        let indent = if event.span_id == request.span_id {
            ""
        } else {
            "  "
        };
        let outcome = event.outcome.map_or("", |o| o.as_str());
        println!(
            "{indent}{:<22} span {} {outcome}",
            event.event_type, event.span_id
        );
    }
    println!(
        "outgoing traceparent: {}",
        TraceParent::from_context(&request)
    );
    Ok(())
}
