//! Memory held by queued events is bounded in bytes as well as in count:
//! against a stalled sink, large payloads fill the byte budget and the rest
//! are dropped and counted with their reason; events without a payload
//! never touch the budget. (3,000 emits of 1 MiB used to hold 2.6 GB.)

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Capture, is_drop_notice, nested};
use observe::record::Record;
use observe::sink::{Sink, SinkError};
use observe::{Config, CorrelationContext, Event, EventType, FlushOutcome, emit_event, stats};
use serde_json::json;

const BUDGET: usize = 4 << 20;
const BIG: usize = 1 << 20;
const EMITS: u64 = 200;

/// Blocks its thread while `hold` is set; counts calls, keeps events.
#[derive(Clone, Default)]
struct Stalled {
    calls: Arc<AtomicU64>,
    hold: Arc<AtomicBool>,
    events: Arc<Mutex<Vec<Event>>>,
}

impl Sink for Stalled {
    async fn write_batch(&self, batch: &[Event]) -> Result<(), SinkError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        while self.hold.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(5));
        }
        self.events.lock().unwrap().extend_from_slice(batch);
        Ok(())
    }
}

#[test]
fn large_payloads_beyond_the_byte_budget_are_dropped_and_counted_with_their_reason() {
    let sink = Stalled::default();
    sink.hold.store(true, Ordering::SeqCst);
    let guard = observe::init(
        Config::default()
            .sink(sink.clone())
            .queue_capacity(16)
            .queue_bytes(BUDGET)
            .write_timeout(Duration::from_secs(3600))
            .shutdown_timeout(Duration::from_secs(60))
            .fallback(Capture::default())
            .diagnostics(Capture::default()),
    )
    .unwrap();
    // Stall the worker in a sink call first, so nothing leaves the queue.
    emit_event(EventType::MessageReceived, json!({ "first": true }));
    let waiting = Instant::now();
    while sink.calls.load(Ordering::SeqCst) == 0 {
        assert!(
            waiting.elapsed() < Duration::from_secs(10),
            "the sink was never called"
        );
        std::thread::sleep(Duration::from_millis(5));
    }

    let blob = "x".repeat(BIG);
    for n in 0..EMITS {
        emit_event(EventType::MessageReceived, json!({ "n": n, "blob": blob }));
        let s = stats();
        assert!(s.queued_bytes <= BUDGET as u64, "{s:?}");
    }
    let s = stats();
    assert_eq!(s.queue_byte_budget, BUDGET as u64);
    assert!(
        s.queued_bytes > 3 * BIG as u64,
        "the budget was used: {s:?}"
    );
    assert_eq!(
        s.dropped_over_budget,
        EMITS - 3,
        "three fit in 4 MiB: {s:?}"
    );
    assert_eq!(s.dropped_queue_full, 0);
    // A payload of any depth that does not fit is dropped without harm to
    // the emitting thread (dropping it naively would recurse 100,000 deep).
    emit_event(EventType::MessageReceived, nested(100_000));
    assert_eq!(stats().dropped_over_budget, EMITS - 2);
    // Events without a payload cost nothing: they still fit, until the
    // queue's count is full.
    for _ in 0..20 {
        let ctx = CorrelationContext::new_root();
        observe::record::submit(Record::new(EventType::RetrievalStarted, ctx));
    }
    let s = stats();
    assert_eq!(s.dropped_over_budget, EMITS - 2, "{s:?}");
    assert_eq!(s.dropped_queue_full, 20 - (16 - 3), "{s:?}");

    sink.hold.store(false, Ordering::SeqCst);
    assert_eq!(guard.shutdown(), FlushOutcome::Flushed);
    let s = stats();
    assert_eq!((s.pending, s.queued_bytes), (0, 0), "{s:?}");
    assert_eq!(s.written, 1 + 3 + 13, "{s:?}");
    assert_eq!(s.emitted, EMITS + 2 + 20);
    assert_eq!(s.emitted, s.written + s.fallen_back + s.dropped, "{s:?}");

    // The drop notice says how many were dropped and why.
    let notices: Vec<Event> = sink
        .events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| is_drop_notice(e))
        .cloned()
        .collect();
    assert_eq!(notices.len(), 1);
    let notice = &notices[0].payload;
    assert_eq!(notice["events_dropped"], s.dropped);
    assert_eq!(notice["dropped_over_budget"], EMITS - 2);
    assert_eq!(notice["dropped_queue_full"], 7);
    let message = notice["error_message"].as_str().unwrap();
    assert!(
        message.contains("198 dropped: queue over its byte budget"),
        "{message}"
    );
    assert!(
        message.contains("7 dropped: queue full (count)"),
        "{message}"
    );
}
