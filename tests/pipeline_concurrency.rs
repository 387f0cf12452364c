//! Eight threads emitting at once: after a flush, every event is written,
//! fallen back or counted as dropped, exactly.

mod common;

use std::sync::Barrier;
use std::time::Duration;

use common::{Capture, Mode, ModeSink};
use observe::{Config, EventType, FlushOutcome, emit_event, flush, stats};

const THREADS: u64 = 8;
const PER_THREAD: u64 = 25_000;

#[test]
fn emitted_equals_written_plus_fallen_back_plus_dropped() {
    let sink = ModeSink::new(Mode::Ok);
    let fallback = Capture::default();
    let guard = observe::init(
        Config::default()
            .sink(sink.clone())
            // Small enough that some events are dropped under this load.
            .queue_capacity(2048)
            .batch_size(256)
            .fallback(fallback.clone())
            .diagnostics(Capture::default()),
    )
    .unwrap();

    let barrier = Barrier::new(THREADS as usize);
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let barrier = &barrier;
            let sink = &sink;
            scope.spawn(move || {
                barrier.wait();
                for n in 0..PER_THREAD {
                    emit_event(
                        EventType::MessageReceived,
                        serde_json::json!({ "t": t, "n": n }),
                    );
                    // Fail one batch in a while, so the fallback is exercised too.
                    if t == 0 && n % 5_000 == 0 {
                        sink.set(if n % 10_000 == 0 {
                            Mode::Fail
                        } else {
                            Mode::Ok
                        });
                    }
                }
            });
        }
    });
    sink.set(Mode::Ok);
    assert_eq!(flush(Duration::from_secs(30)), FlushOutcome::Flushed);

    let s = stats();
    assert_eq!(s.emitted, THREADS * PER_THREAD);
    assert_eq!(s.pending, 0);
    assert_eq!(s.emitted, s.written + s.fallen_back + s.dropped, "{s:?}");
    assert_eq!(sink.stored(), s.written);
    assert_eq!(fallback.user_events().len() as u64, s.fallen_back);
    assert_eq!(guard.shutdown(), FlushOutcome::Flushed);
}
