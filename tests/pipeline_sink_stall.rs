//! One stalled sink call is one failed write: the batches that find the
//! sink still busy go to the fallback and are counted as fallen back, not
//! as failed writes, so a single stall cannot open the breaker.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::Capture;
use observe::Event;
use observe::breaker::BreakerState;
use observe::sink::{Sink, SinkError};
use observe::{Config, EventType, FlushOutcome, emit_event, flush, stats};

/// Blocks its thread for 1.5 s in its first call; takes every later batch.
#[derive(Clone, Default)]
struct StallOnce {
    calls: Arc<AtomicU64>,
    stored: Arc<AtomicU64>,
}

impl Sink for StallOnce {
    async fn write_batch(&self, batch: &[Event]) -> Result<(), SinkError> {
        if self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
            std::thread::sleep(Duration::from_millis(1500));
            return Ok(());
        }
        self.stored.fetch_add(batch.len() as u64, Ordering::SeqCst);
        Ok(())
    }
}

#[test]
fn batches_that_find_the_sink_busy_fall_back_without_counting_as_failed_writes() {
    let sink = StallOnce::default();
    let fallback = Capture::default();
    let diagnostics = Capture::default();
    let guard = observe::init(
        Config::default()
            .sink(sink.clone())
            .write_timeout(Duration::from_millis(100))
            .batch_size(1)
            .batch_linger(Duration::from_millis(5))
            .fallback(fallback.clone())
            .diagnostics(diagnostics.clone()),
    )
    .unwrap();

    // Events keep coming during the stall and after it.
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < Duration::from_millis(2500) {
        emit_event(EventType::MessageReceived, serde_json::json!({ "n": n }));
        n += 1;
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(flush(Duration::from_secs(10)), FlushOutcome::Flushed);
    let s = stats();
    assert_eq!(guard.shutdown(), FlushOutcome::Flushed);

    assert_eq!(s.failed_writes, 1, "only the stalled call failed: {s:?}");
    assert_eq!(s.breaker_transitions.opened, 0, "{s:?}");
    assert_eq!(s.breaker_state, BreakerState::Closed);
    // The stalled batch and those that found the sink busy fell back...
    assert!(s.fallen_back >= 2, "{s:?}");
    // ... and once the sink returned, it got the rest.
    assert!(s.written > 0, "{s:?}");
    assert_eq!(sink.stored.load(Ordering::SeqCst), s.written);
    assert_eq!(s.emitted, n);
    assert_eq!(s.emitted, s.written + s.fallen_back + s.dropped, "{s:?}");
    assert_eq!(fallback.user_events().len() as u64, s.fallen_back);
    let text = diagnostics.text();
    assert!(text.contains("has not returned"), "{text}");
    assert!(!text.contains("closed -> open"), "{text}");
}
