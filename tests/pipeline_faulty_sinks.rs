//! Sinks that panic or exceed the write timeout: each such write counts as
//! failed, its batch goes to the fallback, the breaker opens after five, the
//! worker survives and delivers again once the sink recovers.

mod common;

use std::time::Duration;

use common::{Capture, Mode, ModeSink, serial};
use observe::breaker::{BreakerState, ManualClock};
use observe::{Config, EventType, FlushOutcome, emit_event, flush, stats};

fn same_accounting(mode: Mode, config: Config) {
    let clock = ManualClock::new();
    let sink = ModeSink::new(mode);
    let fallback = Capture::default();
    let guard = observe::init(
        config
            .sink(sink.clone())
            .clock(clock.clone())
            .fallback(fallback.clone())
            .diagnostics(Capture::default()),
    )
    .unwrap();

    for n in 1..=7u64 {
        emit_event(EventType::LlmComplete, serde_json::json!({ "n": n }));
        assert_eq!(flush(Duration::from_secs(10)), FlushOutcome::Flushed);
    }
    let s = stats();
    assert_eq!(
        sink.calls(),
        5,
        "the breaker stops writes after five failures"
    );
    assert_eq!((s.failed_writes, s.fallen_back, s.written), (5, 7, 0));
    assert_eq!(s.breaker_state, BreakerState::Open);
    assert_eq!(fallback.user_events().len(), 7);

    // The worker survived: once the sink recovers, the probe goes through.
    sink.set(Mode::Ok);
    clock.advance(Duration::from_secs(30));
    emit_event(EventType::LlmComplete, serde_json::json!({ "n": 8 }));
    assert_eq!(flush(Duration::from_secs(10)), FlushOutcome::Flushed);
    let s = stats();
    assert_eq!(s.breaker_state, BreakerState::Closed);
    assert_eq!((s.written, sink.stored()), (1, 1));
    assert_eq!(s.emitted, s.written + s.fallen_back + s.dropped);
    assert_eq!(guard.shutdown(), FlushOutcome::Flushed);
}

#[test]
fn a_panicking_sink_counts_as_failed_writes() {
    let _serial = serial();
    same_accounting(Mode::Panic, Config::default());
}

#[test]
fn a_sink_that_exceeds_the_write_timeout_counts_as_failed_writes() {
    let _serial = serial();
    same_accounting(
        Mode::Hang,
        Config::default().write_timeout(Duration::from_millis(20)),
    );
}
