//! Stored requests for the benchmarks that read a large store: requests of
//! [`CHAIN`] events each (a `message_received`, 24 retrieval spans of which
//! one fails in every tenth request, a `response_sent`), 4 ms apart and
//! ending a day ago, written straight through a sink.
//!
//! Shared by the store bench and the `observe` command's bench (included
//! with `#[path]`, so it uses nothing but the `observe` facade).

use observe::sink::Sink;
use observe::{CorrelationContext, Event, EventType, Outcome, Timestamp};

/// Events per request.
pub const CHAIN: usize = 50;

/// Writes `events` events (rounded down to whole requests) into `sink`;
/// returns a sample of the requests' correlation ids, about one in 97.
pub fn fill(sink: &impl Sink, events: usize) -> Vec<uuid::Uuid> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let mut ids = Vec::new();
    let mut batch = Vec::with_capacity(10_000);
    let start = Timestamp::now().unix_micros() - 86_400_000_000;
    for r in 0..events / CHAIN {
        let root = CorrelationContext::new_root();
        let t0 = start + r as i64 * 4_000;
        let at = |i: usize| Timestamp::from_unix_micros(t0 + i as i64 * 50).expect("in range");
        let mut received = Event::new(EventType::MessageReceived, &root);
        received.timestamp = at(0);
        batch
            .push(received.with_payload(
                serde_json::json!({ "channel": "web", "text": "where is my order" }),
            ));
        for s in 0..(CHAIN - 2) / 2 {
            let span = root.child();
            let mut started =
                Event::new(EventType::RetrievalStarted, &span).with_processor("retrieval");
            started.timestamp = at(1 + 2 * s);
            let outcome = if r % 10 == 0 && s == 3 {
                Outcome::Error
            } else {
                Outcome::Ok
            };
            let mut done = Event::new(EventType::RetrievalComplete, &span)
                .with_processor("retrieval")
                .with_outcome(outcome, 40)
                .with_payload(serde_json::json!({ "documents": s }));
            done.timestamp = at(2 + 2 * s);
            batch.push(started);
            batch.push(done);
        }
        let mut sent = Event::new(EventType::ResponseSent, &root);
        sent.timestamp = at(CHAIN - 1);
        batch.push(sent.with_payload(serde_json::json!({ "status": 200 })));
        if r % 97 == 0 {
            ids.push(root.correlation_id);
        }
        if batch.len() >= 10_000 {
            runtime.block_on(sink.write_batch(&batch)).expect("fills");
            batch.clear();
        }
    }
    runtime.block_on(sink.write_batch(&batch)).expect("fills");
    ids
}
