//! A sink that blocks its thread for good: every emit returns, the queue
//! fills, drops are counted exactly, and shutdown still finishes within the
//! shutdown timeout.

mod common;

use std::time::{Duration, Instant};

use common::{Capture, Mode, ModeSink, is_drop_notice};
use observe::{Config, EventType, FlushOutcome, emit_event, flush, stats};

const EMITS: u64 = 100_000;
const CAPACITY: usize = 1024;
const BATCH: usize = 128;

#[test]
fn a_blocked_sink_never_blocks_emitters_and_every_event_is_accounted_for() {
    let sink = ModeSink::new(Mode::Block);
    let fallback = Capture::default();
    let shutdown_timeout = Duration::from_secs(1);
    let guard = observe::init(
        Config::default()
            .sink(sink.clone())
            .queue_capacity(CAPACITY)
            .batch_size(BATCH)
            // Far longer than the test: only the shutdown deadline can end
            // the wait for the blocked write.
            .write_timeout(Duration::from_secs(3600))
            .shutdown_timeout(shutdown_timeout)
            .fallback(fallback.clone())
            .diagnostics(Capture::default()),
    )
    .unwrap();

    for n in 0..EMITS {
        emit_event(EventType::MessageReceived, serde_json::json!({ "n": n }));
    }
    // All 100,000 calls returned. The worker holds at most one batch in the
    // blocked write, the queue at most its capacity: the rest was dropped.
    let during = stats();
    assert_eq!(during.emitted, EMITS);
    assert!(
        during.dropped >= EMITS - (CAPACITY + BATCH) as u64,
        "the queue should have filled: {during:?}"
    );
    // A flush cannot finish while the sink is stuck; it says so in time.
    assert_eq!(flush(Duration::from_millis(50)), FlushOutcome::TimedOut);

    let started = Instant::now();
    let outcome = guard.shutdown();
    let took = started.elapsed();
    assert_eq!(outcome, FlushOutcome::Flushed, "shutdown took {took:?}");
    // A bound, not a benchmark: without the shutdown deadline the worker
    // would wait an hour for the blocked write.
    assert!(
        took < shutdown_timeout + Duration::from_secs(2),
        "shutdown took {took:?}"
    );

    let s = stats();
    assert_eq!(s.emitted, EMITS);
    assert_eq!(s.written, 0);
    assert_eq!(s.pending, 0);
    assert_eq!(s.written + s.fallen_back + s.dropped, EMITS, "{s:?}");
    assert_eq!(sink.stored(), 0);

    // Exactly the events not dropped are in the fallback, each once.
    let fallen = fallback.user_events();
    assert_eq!(fallen.len() as u64, s.fallen_back);
    let mut seen: Vec<u64> = fallen
        .iter()
        .map(|e| e.payload["n"].as_u64().unwrap())
        .collect();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len() as u64, s.fallen_back, "an event was duplicated");

    // The drops were reported in-band, with the exact count.
    let notices: Vec<_> = fallback
        .events()
        .into_iter()
        .filter(is_drop_notice)
        .collect();
    let reported: u64 = notices
        .iter()
        .map(|e| e.payload["events_dropped"].as_u64().unwrap())
        .sum();
    assert_eq!(reported, s.dropped);
    assert_eq!(s.drop_notices, notices.len() as u64);
}
