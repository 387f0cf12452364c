//! `observe::testing`: tests that run in parallel in one process each see
//! exactly the events of their own requests, and `assert_well_formed`
//! rejects the chains that break the span invariants.

use observe::testing::{assert_well_formed, capture};
use observe::{CorrelationContext, Event, EventType, Outcome};

#[observe::observed(processor = "retrieval", ret)]
async fn retrieve(query: String) -> Result<usize, std::convert::Infallible> {
    tokio::task::yield_now().await;
    Ok(query.len())
}

/// Four tests like this one run at once (`cargo test`'s default): each
/// makes its own number of calls and sees exactly those.
async fn calls_seen_by_their_own_capture(calls: usize) {
    let capture = capture();
    for n in 0..calls {
        capture.scope(retrieve("q".repeat(n))).await.unwrap();
    }
    // Events of a request the capture did not start are not its own.
    retrieve("elsewhere".to_owned()).await.unwrap();
    capture.assert_well_formed();
    let returned: Vec<u64> = capture
        .of_type(EventType::RetrievalComplete)
        .iter()
        .map(|e| e.payload["return"].as_u64().unwrap())
        .collect();
    assert_eq!(returned, (0..calls as u64).collect::<Vec<_>>());
    assert_eq!(capture.events().len(), 2 * calls);
    assert_eq!(capture.request_ids().len(), calls);
}

#[tokio::test]
async fn one_call() {
    calls_seen_by_their_own_capture(1).await;
}

#[tokio::test]
async fn three_calls() {
    calls_seen_by_their_own_capture(3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_calls_on_two_threads() {
    calls_seen_by_their_own_capture(5).await;
}

#[test]
fn seven_calls_blocking() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(calls_seen_by_their_own_capture(7));
}

#[test]
fn a_request_started_elsewhere_is_seen_once_followed() {
    let capture = capture();
    let elsewhere = CorrelationContext::new_root();
    elsewhere.in_scope(|| observe::emit!(EventType::MessageReceived, { "channel": "web" }));
    assert!(capture.events().is_empty());
    capture.follow(elsewhere.correlation_id);
    let events = capture.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].payload["channel"], "web");
}

fn started(span: &CorrelationContext) -> Event {
    Event::new(EventType::RetrievalStarted, span).with_processor("retrieval")
}

fn complete(span: &CorrelationContext) -> Event {
    Event::new(EventType::RetrievalComplete, span)
        .with_processor("retrieval")
        .with_outcome(Outcome::Ok, 10)
}

#[test]
fn a_well_formed_chain_passes() {
    let root = CorrelationContext::new_root();
    let child = root.child();
    assert_well_formed(&[started(&child), complete(&child)]);
}

#[test]
#[should_panic(expected = "a terminal event without its started event")]
fn a_lone_terminal_is_rejected() {
    let child = CorrelationContext::new_root().child();
    assert_well_formed(&[complete(&child)]);
}

#[test]
#[should_panic(expected = "has 2 terminal events")]
fn two_terminals_are_rejected() {
    let child = CorrelationContext::new_root().child();
    assert_well_formed(&[started(&child), complete(&child), complete(&child)]);
}

#[test]
fn a_request_that_was_answered_passes() {
    let root = CorrelationContext::new_root();
    let child = root.child();
    assert_well_formed(&[
        Event::new(EventType::MessageReceived, &root),
        started(&child),
        complete(&child),
        Event::new(EventType::ResponseSent, &root),
    ]);
}

#[test]
#[should_panic(expected = "a span that started and never ended")]
fn a_request_never_answered_is_rejected() {
    let root = CorrelationContext::new_root();
    assert_well_formed(&[Event::new(EventType::MessageReceived, &root)]);
}

#[test]
#[should_panic(expected = "is stored 2 times")]
fn a_duplicate_event_is_rejected() {
    let child = CorrelationContext::new_root().child();
    let start = started(&child);
    assert_well_formed(&[start.clone(), start, complete(&child)]);
}

#[test]
#[should_panic(expected = "a span that started and never ended")]
fn a_span_that_never_ends_is_rejected() {
    let child = CorrelationContext::new_root().child();
    assert_well_formed(&[started(&child)]);
}

#[test]
#[should_panic(expected = "parents that are not spans of the chain")]
fn parents_outside_the_chain_are_rejected() {
    let root = CorrelationContext::new_root();
    let (a, b) = (root.child().child(), root.child().child());
    assert_well_formed(&[started(&a), complete(&a), started(&b), complete(&b)]);
}
