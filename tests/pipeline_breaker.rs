//! A sink that fails every write: the breaker opens after exactly five
//! failures, batches go to the fallback, it half-opens after the open
//! duration on a virtual clock, a failed probe re-opens it and a successful
//! one closes it.

mod common;

use std::time::Duration;

use common::{Capture, Mode, ModeSink};
use observe::breaker::{BreakerState, ManualClock, Transitions};
use observe::{Config, EventType, FlushOutcome, emit_event, flush, stats};

fn emit_one_batch(n: u64) {
    emit_event(EventType::MessageReceived, serde_json::json!({ "n": n }));
    assert_eq!(flush(Duration::from_secs(10)), FlushOutcome::Flushed);
}

#[test]
fn breaker_opens_after_exactly_five_failures_and_recovers_after_a_probe() {
    let clock = ManualClock::new();
    let sink = ModeSink::new(Mode::Fail);
    let fallback = Capture::default();
    let diagnostics = Capture::default();
    let guard = observe::init(
        Config::default()
            .sink(sink.clone())
            .clock(clock.clone())
            .fallback(fallback.clone())
            .diagnostics(diagnostics.clone()),
    )
    .unwrap();

    for n in 1..=4 {
        emit_one_batch(n);
        let s = stats();
        assert_eq!((s.failed_writes, s.fallen_back), (n, n));
        assert_eq!(s.breaker_state, BreakerState::Closed, "after {n} failures");
    }
    emit_one_batch(5);
    let s = stats();
    assert_eq!(
        s.breaker_state,
        BreakerState::Open,
        "the fifth failure opens it"
    );
    assert_eq!(sink.calls(), 5);

    // Open: nothing reaches the sink, everything reaches the fallback.
    emit_one_batch(6);
    clock.advance(Duration::from_secs(29));
    emit_one_batch(7);
    assert_eq!(sink.calls(), 5);
    assert_eq!(stats().fallen_back, 7);

    // 30 s: half-open, one probe; it fails and the breaker opens again.
    clock.advance(Duration::from_secs(1));
    emit_one_batch(8);
    assert_eq!(sink.calls(), 6);
    assert_eq!(stats().breaker_state, BreakerState::Open);
    emit_one_batch(9);
    assert_eq!(sink.calls(), 6);

    // Another 30 s and a healthy sink: the probe succeeds and closes it.
    clock.advance(Duration::from_secs(30));
    sink.set(Mode::Ok);
    emit_one_batch(10);
    emit_one_batch(11);
    let s = stats();
    assert_eq!(s.breaker_state, BreakerState::Closed);
    assert_eq!(
        s.breaker_transitions,
        Transitions {
            opened: 2,
            half_opened: 2,
            closed: 1
        }
    );
    assert_eq!(
        (s.written, s.fallen_back, s.failed_writes, s.dropped),
        (2, 9, 6, 0)
    );
    assert_eq!(s.emitted, s.written + s.fallen_back + s.dropped);
    assert_eq!(sink.stored(), 2);

    // The fallback got exactly the nine batches, as parseable, ordered events.
    let fallen: Vec<u64> = fallback
        .user_events()
        .iter()
        .map(|e| e.payload["n"].as_u64().unwrap())
        .collect();
    assert_eq!(fallen, [1, 2, 3, 4, 5, 6, 7, 8, 9]);

    // Each transition reported once.
    let text = diagnostics.text();
    for (line, times) in [
        ("closed -> open", 1),
        ("open -> half_open", 2),
        ("half_open -> open", 1),
        ("half_open -> closed", 1),
    ] {
        assert_eq!(text.matches(line).count(), times, "{line:?} in {text}");
    }
    assert_eq!(guard.shutdown(), FlushOutcome::Flushed);
}
