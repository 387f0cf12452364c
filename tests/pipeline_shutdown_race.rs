//! Events emitted while the pipeline shuts down are never left pending:
//! once the guard is gone and the emitting calls have returned, every
//! emitted event is written, fallen back or counted as dropped. An emitter
//! that loaded the pipeline just before the guard uninstalled it can push
//! after the worker's last look at the queue; that used to leave the event
//! `pending` for good.

mod common;

use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::{Capture, serial};
use observe::record::Record;
use observe::record::submit;
use observe::sink::NullSink;
use observe::{Config, CorrelationContext, EventType, FlushOutcome, emit_event, stats};

const THREADS: usize = 16;
const ROUNDS: usize = 150;

/// Emits from 16 threads while the guard is dropped (or shut down), then
/// checks the accounting once every emitting call has returned.
fn one_round(round: usize) {
    let guard = observe::init(
        Config::default()
            .sink(NullSink)
            .queue_capacity(1024)
            .shutdown_timeout(Duration::from_secs(10))
            .fallback(Capture::default())
            .diagnostics(Capture::default()),
    )
    .unwrap();
    let stop = AtomicBool::new(false);
    let start = Barrier::new(THREADS + 1);
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let (stop, start) = (&stop, &start);
            scope.spawn(move || {
                start.wait();
                while !stop.load(Ordering::Relaxed) {
                    if t.is_multiple_of(2) {
                        emit_event(EventType::MessageReceived, serde_json::json!({ "t": t }));
                    } else {
                        let ctx = CorrelationContext::new_root();
                        submit(Record::new(EventType::RetrievalStarted, ctx));
                    }
                }
            });
        }
        start.wait();
        std::thread::sleep(Duration::from_micros(200 * (round % 5) as u64));
        if round.is_multiple_of(2) {
            assert_eq!(guard.shutdown(), FlushOutcome::Flushed);
        } else {
            drop(guard);
        }
        // Let the emitters run on after shutdown for a moment (their emits
        // now do nothing), then stop them.
        std::thread::sleep(Duration::from_millis(1));
        stop.store(true, Ordering::Relaxed);
    });
    let s = stats();
    assert_eq!(s.pending, 0, "round {round}: {s:?}");
    assert_eq!(
        s.emitted,
        s.written + s.fallen_back + s.dropped,
        "round {round}: {s:?}"
    );
}

#[test]
fn nothing_stays_pending_after_shutdown_while_sixteen_threads_emit() {
    let _serial = serial();
    for round in 0..ROUNDS {
        one_round(round);
    }
}

/// A fallback writer that takes its time.
struct SlowWriter;

impl std::io::Write for SlowWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        std::thread::sleep(Duration::from_millis(20));
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn after_a_shutdown_that_timed_out_the_worker_still_leaves_nothing_pending() {
    let _serial = serial();
    for round in 0..10 {
        let guard = observe::init(
            Config::default()
                .sink(common::ModeSink::new(common::Mode::Fail))
                .queue_capacity(1024)
                .batch_size(64)
                .shutdown_timeout(Duration::from_millis(1))
                .fallback(SlowWriter)
                .diagnostics(Capture::default()),
        )
        .unwrap();
        let stop = AtomicBool::new(false);
        std::thread::scope(|scope| {
            for t in 0..THREADS {
                let stop = &stop;
                scope.spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        emit_event(EventType::MessageReceived, serde_json::json!({ "t": t }));
                    }
                });
            }
            std::thread::sleep(Duration::from_millis(5));
            let _ = guard.shutdown();
            stop.store(true, Ordering::Relaxed);
        });
        // The worker finishes in the background; then nothing is pending.
        let waiting = std::time::Instant::now();
        while stats().pending > 0 {
            assert!(
                waiting.elapsed() < Duration::from_secs(30),
                "round {round}: still pending: {:?}",
                stats()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        let s = stats();
        assert_eq!(
            s.emitted,
            s.written + s.fallen_back + s.dropped,
            "round {round}: {s:?}"
        );
    }
}
