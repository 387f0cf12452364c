//! Dropped events are reported in-band: one notice per interval (on the
//! pipeline's clock) with the number dropped since the last one, and none
//! when nothing new was dropped.

mod common;

use std::time::Duration;

use common::{Capture, Mode, ModeSink, is_drop_notice};
use observe::breaker::ManualClock;
use observe::{Config, EventType, FlushOutcome, emit_event, flush, stats};

#[test]
fn drops_are_reported_once_per_interval_with_their_count() {
    let clock = ManualClock::new();
    let fallback = Capture::default();
    let guard = observe::init(
        Config::default()
            // Each write hangs until the short timeout: the worker is slow
            // and the tiny queue overflows.
            .sink(ModeSink::new(Mode::Hang))
            .write_timeout(Duration::from_millis(20))
            .queue_capacity(8)
            .batch_size(4)
            .clock(clock.clone())
            .fallback(fallback.clone())
            .diagnostics(Capture::default()),
    )
    .unwrap();
    let notices = || {
        fallback
            .events()
            .into_iter()
            .filter(is_drop_notice)
            .collect::<Vec<_>>()
    };

    for n in 0..500 {
        emit_event(EventType::MessageReceived, serde_json::json!({ "n": n }));
    }
    assert_eq!(flush(Duration::from_secs(30)), FlushOutcome::Flushed);
    let dropped = stats().dropped;
    assert!(
        dropped > 0,
        "the queue should have overflowed: {:?}",
        stats()
    );
    assert!(
        notices().is_empty(),
        "no notice before the interval has passed"
    );

    clock.advance(Duration::from_secs(10));
    assert_eq!(flush(Duration::from_secs(30)), FlushOutcome::Flushed);
    let sent = notices();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].payload["events_dropped"], dropped);
    assert_eq!(sent[0].processor.as_deref(), Some("observe"));
    assert_eq!(stats().drop_notices, 1);

    // Nothing new dropped: no further notice, at the next interval or at
    // shutdown.
    clock.advance(Duration::from_secs(10));
    assert_eq!(flush(Duration::from_secs(30)), FlushOutcome::Flushed);
    assert_eq!(guard.shutdown(), FlushOutcome::Flushed);
    assert_eq!(notices().len(), 1);
    let s = stats();
    assert_eq!(s.emitted, 500);
    assert_eq!(s.emitted, s.written + s.fallen_back + s.dropped);
}
