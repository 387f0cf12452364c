//! The chain model: a request's events as a span tree, with outcomes,
//! in-flight spans and orphans, whatever order the events come in.

use observe::chain::{Chain, worst};
use observe::{CorrelationContext, Event, EventType, Outcome, SpanId, Timestamp};

fn at(mut event: Event, micros: i64) -> Event {
    event.timestamp = Timestamp::from_unix_micros(1_764_000_000_000_000 + micros).unwrap();
    event
}

#[test]
fn spans_nest_by_parent_in_start_order_whatever_the_event_order() {
    let root = CorrelationContext::new_root();
    let llm = root.child();
    let tool = llm.child();
    let translate = root.child();
    let mut events = vec![
        at(Event::new(EventType::MessageReceived, &root), 0),
        at(
            Event::new(EventType::LlmStarted, &llm).with_processor("llm"),
            1,
        ),
        at(
            Event::new(EventType::RetrievalStarted, &tool).with_processor("retrieval"),
            2,
        ),
        at(
            Event::new(EventType::RetrievalComplete, &tool)
                .with_processor("retrieval")
                .with_outcome(Outcome::Ok, 1),
            3,
        ),
        at(
            Event::new(EventType::LlmComplete, &llm)
                .with_processor("llm")
                .with_outcome(Outcome::Ok, 3),
            4,
        ),
        at(
            Event::new(EventType::TranslationStarted, &translate).with_processor("translation"),
            5,
        ),
        at(
            Event::new(EventType::ErrorOccurred, &translate)
                .with_processor("translation")
                .with_outcome(Outcome::Error, 1)
                .with_payload(serde_json::json!({ "error_message": "no model for tlh" })),
            6,
        ),
    ];
    events.reverse();
    let chain = Chain::build(events);
    let tree: Vec<(usize, &str)> = chain.walk().map(|(d, s)| (d, s.label(&chain))).collect();
    assert_eq!(
        tree,
        [
            (0, "message_received"),
            (1, "llm"),
            (2, "retrieval"),
            (1, "translation")
        ]
    );
    assert_eq!(chain.outcome(), Some(Outcome::Error));
    let failed = chain.span(translate.span_id).unwrap();
    assert_eq!(failed.error_message.as_deref(), Some("no model for tlh"));
    assert_eq!(chain.duration_us(), 6);
    assert_eq!(
        chain.in_flight().map(|s| s.span_id).collect::<Vec<_>>(),
        [root.span_id]
    );
    assert_eq!(chain.orphans().count(), 0);
}

#[test]
fn a_span_whose_parent_is_missing_is_an_orphan_root() {
    let root = CorrelationContext::new_root();
    let lost_parent = root.child();
    let orphan = lost_parent.child();
    let chain = Chain::build(vec![
        at(Event::new(EventType::MessageReceived, &root), 0),
        at(
            Event::new(EventType::RetrievalStarted, &orphan).with_processor("retrieval"),
            1,
        ),
    ]);
    let roots: Vec<SpanId> = chain.roots().map(|s| s.span_id).collect();
    assert_eq!(roots, [root.span_id, orphan.span_id]);
    assert_eq!(
        chain.orphans().map(|s| s.span_id).collect::<Vec<_>>(),
        [orphan.span_id]
    );
    assert!(chain.span(orphan.span_id).unwrap().in_flight());
}

#[test]
fn a_very_deep_chain_walks_without_recursion() {
    let mut ctx = CorrelationContext::new_root();
    let mut events = Vec::new();
    for i in 0..200_000 {
        events.push(at(
            Event::new(EventType::RetrievalStarted, &ctx).with_processor("retrieval"),
            i,
        ));
        ctx = ctx.child();
    }
    let chain = Chain::build(events);
    assert_eq!(chain.walk().last().map(|(depth, _)| depth), Some(199_999));
}

#[test]
fn cycles_in_corrupt_data_do_not_hang() {
    let root = CorrelationContext::new_root();
    let a = CorrelationContext {
        parent_span_id: Some(SpanId::new(2).unwrap()),
        span_id: SpanId::new(1).unwrap(),
        ..root
    };
    let b = CorrelationContext {
        parent_span_id: Some(SpanId::new(1).unwrap()),
        span_id: SpanId::new(2).unwrap(),
        ..root
    };
    let chain = Chain::build(vec![
        at(Event::new(EventType::MessageReceived, &root), 0),
        at(Event::new(EventType::RetrievalStarted, &a), 1),
        at(Event::new(EventType::LlmStarted, &b), 2),
    ]);
    assert_eq!(chain.walk().count(), 1, "only the reachable root");
    assert_eq!(chain.spans().len(), 3);
}

#[test]
fn group_splits_requests_and_orders_them_by_start() {
    let first = CorrelationContext::new_root();
    let second = CorrelationContext::new_root();
    let chains = Chain::group(vec![
        at(Event::new(EventType::MessageReceived, &second), 10),
        at(Event::new(EventType::MessageReceived, &first), 5),
        at(Event::new(EventType::ResponseSent, &second), 20),
    ]);
    let ids: Vec<_> = chains
        .iter()
        .map(|c| (c.correlation_id(), c.events().len()))
        .collect();
    assert_eq!(ids, [(first.correlation_id, 1), (second.correlation_id, 2)]);
}

#[test]
fn worst_outcome_ranks_panic_error_cancelled_ok() {
    let all = [
        Outcome::Ok,
        Outcome::Cancelled,
        Outcome::Error,
        Outcome::Panic,
    ];
    for (i, a) in all.iter().enumerate() {
        for b in &all[i..] {
            assert_eq!(worst(Some(*a), Some(*b)), Some(*b));
            assert_eq!(worst(Some(*b), Some(*a)), Some(*b));
        }
    }
    assert_eq!(worst(None, None), None);
}
