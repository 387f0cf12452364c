//! Several sinks at once: each has its own writer, breaker, write timeout
//! and accounting; a hanging or blocked one never holds back another, and
//! every event is accounted for per sink.

mod common;

use std::time::Duration;

use common::{Capture, Mode, ModeSink, is_drop_notice, serial};
use observe::breaker::BreakerState;
use observe::sink::MemorySink;
use observe::{Config, EventType, FlushOutcome, SinkOptions, SinkStats, emit_event, flush, stats};

const EVENTS: u64 = 40;

fn adds_up(s: &SinkStats) {
    assert_eq!(
        s.received,
        s.written + s.fallen_back + s.dropped + s.pending,
        "{s:?}"
    );
}

/// One event per batch, each batch flushed: the hanging sink times out
/// five times, its breaker opens, and the healthy one stores everything.
#[test]
fn a_hanging_sink_opens_its_own_breaker_while_the_other_stores_everything() {
    let _serial = serial();
    let store = MemorySink::new();
    let hanging = ModeSink::new(Mode::Hang);
    let fallback = Capture::default();
    let diagnostics = Capture::default();
    let guard = observe::init(
        Config::default()
            .sink(store.clone())
            .add_sink_with(
                hanging.clone(),
                SinkOptions::new().write_timeout(Duration::from_millis(50)),
            )
            .fallback(fallback.clone())
            .diagnostics(diagnostics.clone()),
    )
    .unwrap();
    for n in 0..EVENTS {
        emit_event(EventType::MessageReceived, serde_json::json!({ "n": n }));
        assert_eq!(flush(Duration::from_secs(10)), FlushOutcome::Flushed);
    }
    let s = stats();
    assert_eq!(guard.shutdown(), FlushOutcome::Flushed);

    // The top-level fields are the first sink's: everything written.
    assert_eq!(
        (s.emitted, s.written, s.fallen_back, s.dropped),
        (EVENTS, EVENTS, 0, 0)
    );
    assert_eq!(store.len() as u64, EVENTS);
    assert_eq!(s.sinks.len(), 2, "{s:?}");
    let (first, second) = (&s.sinks[0], &s.sinks[1]);
    assert_eq!(first.name, "MemorySink");
    assert_eq!(second.name, "ModeSink");
    assert_eq!((first.received, first.written), (EVENTS, EVENTS));
    // The hanging one: five timed-out calls, then its breaker is open and
    // the rest go to the fallback without calling it.
    assert_eq!(second.failed_writes, 5, "{second:?}");
    assert_eq!(hanging.calls(), 5);
    assert_eq!(second.breaker_state, BreakerState::Open);
    assert_eq!(s.breaker_state, BreakerState::Closed);
    assert_eq!(
        (second.received, second.written, second.fallen_back),
        (EVENTS, 0, EVENTS)
    );
    adds_up(first);
    adds_up(second);
    assert_eq!(fallback.user_events().len() as u64, EVENTS);
    let text = diagnostics.text();
    assert!(
        text.contains("sink ModeSink (#2): circuit breaker closed -> open"),
        "{text}"
    );
}

/// A sink that blocks its thread for good, with no fallback: its batches
/// are dropped for it alone, counted, while the store keeps up with a
/// burst (no flush between events).
#[test]
fn a_blocked_sink_without_fallback_drops_only_its_own_copies() {
    let _serial = serial();
    let store = MemorySink::new();
    let blocked = ModeSink::new(Mode::Block);
    let fallback = Capture::default();
    let guard = observe::init(
        Config::default()
            .add_sink_with(
                blocked.clone(),
                SinkOptions::new()
                    .write_timeout(Duration::from_millis(50))
                    .fallback(false),
            )
            .add_sink(store.clone())
            .batch_size(4)
            .batch_linger(Duration::from_millis(1))
            .fallback(fallback.clone())
            .diagnostics(Capture::default()),
    )
    .unwrap();
    for n in 0..EVENTS * 10 {
        emit_event(EventType::MessageReceived, serde_json::json!({ "n": n }));
    }
    assert_eq!(flush(Duration::from_secs(10)), FlushOutcome::Flushed);
    let s = stats();
    assert_eq!(guard.shutdown(), FlushOutcome::Flushed);

    let (first, second) = (&s.sinks[0], &s.sinks[1]);
    assert_eq!(first.name, "ModeSink", "the first added sink comes first");
    // The blocked sink got one call; it never returned.
    assert_eq!(blocked.calls(), 1);
    assert_eq!(first.failed_writes, 1, "{first:?}");
    assert_eq!((first.written, first.fallen_back), (0, 0), "{first:?}");
    assert_eq!(first.dropped, EVENTS * 10, "{first:?}");
    // The store has every event, and the fallback none.
    assert_eq!(second.written, EVENTS * 10, "{second:?}");
    let stored = store
        .events()
        .into_iter()
        .filter(|e| !is_drop_notice(e))
        .count();
    assert_eq!(stored as u64, EVENTS * 10);
    assert!(fallback.user_events().is_empty());
    adds_up(first);
    adds_up(second);
    // Top level: the first sink's view.
    assert_eq!(s.emitted, s.written + s.fallen_back + s.dropped, "{s:?}");
}

#[test]
fn sink_keeps_working_and_add_sink_adds() {
    let config = Config::default();
    assert_eq!(config.sink_count(), 1);
    let config = Config::default().add_sink(MemorySink::new());
    assert_eq!(
        config.sink_count(),
        1,
        "the first added sink replaces the default"
    );
    let config = Config::default()
        .add_sink(MemorySink::new())
        .sink(MemorySink::new())
        .sink(MemorySink::new());
    assert_eq!(config.sink_count(), 2, "`sink` replaces only the first");
}
