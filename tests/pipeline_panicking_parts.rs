//! Every piece of code the application hands the pipeline is isolated: a
//! fallback writer, a diagnostics writer or a sink future's drop that
//! panics is caught, counted in `Stats::panics`, and never stops delivery
//! of later events. (Such a panic used to kill the worker or the writer
//! thread for good.)

mod common;

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use common::{Capture, Mode, ModeSink, serial};
use observe::sink::{Sink, SinkError};
use observe::{Config, Event, EventType, FlushOutcome, emit_event, flush, stats};

/// A `Write` that panics on every write.
struct PanickingWriter;

impl Write for PanickingWriter {
    fn write(&mut self, _buf: &[u8]) -> std::io::Result<usize> {
        panic!("writer exploded")
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn emit_and_flush(n: u64) {
    emit_event(EventType::MessageReceived, serde_json::json!({ "n": n }));
    assert_eq!(
        flush(Duration::from_secs(10)),
        FlushOutcome::Flushed,
        "the worker must still answer: {:?}",
        stats()
    );
}

#[test]
fn a_panicking_fallback_writer_loses_only_its_batches() {
    let _serial = serial();
    let sink = ModeSink::new(Mode::Fail);
    let diagnostics = Capture::default();
    let guard = observe::init(
        Config::default()
            .sink(sink.clone())
            .fallback(PanickingWriter)
            .diagnostics(diagnostics.clone()),
    )
    .unwrap();
    for n in 0..3 {
        emit_and_flush(n);
    }
    let s = stats();
    assert_eq!((s.fallen_back, s.dropped, s.panics), (0, 3, 3), "{s:?}");
    sink.set(Mode::Ok);
    emit_and_flush(3);
    assert_eq!(guard.shutdown(), FlushOutcome::Flushed);
    let s = stats();
    // The sink also got the drop notice for the three lost events.
    assert_eq!((s.written, sink.stored()), (1, 2), "{s:?}");
    assert_eq!(s.emitted, s.written + s.fallen_back + s.dropped);
    let text = diagnostics.text();
    assert_eq!(
        text.matches("the fallback writer failed (it panicked: writer exploded)")
            .count(),
        1,
        "{text}"
    );
}

#[test]
fn a_panicking_diagnostics_writer_is_dropped_and_delivery_goes_on() {
    let _serial = serial();
    let sink = ModeSink::new(Mode::Fail);
    let fallback = Capture::default();
    let guard = observe::init(
        Config::default()
            .sink(sink.clone())
            .fallback(fallback.clone())
            .diagnostics(PanickingWriter),
    )
    .unwrap();
    // Each failure after a success is reported, so the writer is asked to
    // write more than once.
    emit_and_flush(0);
    sink.set(Mode::Ok);
    emit_and_flush(1);
    sink.set(Mode::Fail);
    emit_and_flush(2);
    sink.set(Mode::Ok);
    emit_and_flush(3);
    assert_eq!(guard.shutdown(), FlushOutcome::Flushed);
    let s = stats();
    assert_eq!(
        (s.written, s.fallen_back, s.failed_writes),
        (2, 2, 2),
        "{s:?}"
    );
    assert_eq!(s.panics, 1, "used once, then not again: {s:?}");
    assert_eq!(fallback.user_events().len(), 2);
}

/// A value that panics when dropped (unless already unwinding).
struct PanicOnDrop;

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("the sink's future panicked in drop");
        }
    }
}

/// First call: a future that never finishes and panics when the write
/// timeout drops it. Later calls: stores the batch.
#[derive(Clone, Default)]
struct DropBombSink {
    calls: Arc<AtomicU64>,
    stored: Arc<AtomicU64>,
}

impl Sink for DropBombSink {
    async fn write_batch(&self, batch: &[Event]) -> Result<(), SinkError> {
        let bomb = PanicOnDrop;
        if self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
            std::future::pending::<()>().await;
        }
        std::mem::forget(bomb);
        self.stored.fetch_add(batch.len() as u64, Ordering::SeqCst);
        Ok(())
    }
}

#[test]
fn a_sink_future_that_panics_when_dropped_does_not_kill_the_writer() {
    let _serial = serial();
    let sink = DropBombSink::default();
    let diagnostics = Capture::default();
    let guard = observe::init(
        Config::default()
            .sink(sink.clone())
            .write_timeout(Duration::from_millis(50))
            .fallback(Capture::default())
            .diagnostics(diagnostics.clone()),
    )
    .unwrap();
    for n in 0..4 {
        emit_and_flush(n);
    }
    assert_eq!(guard.shutdown(), FlushOutcome::Flushed);
    let s = stats();
    // Call 1 timed out and its future panicked when dropped; the writer
    // lived on and calls 2 to 4 stored their batches.
    assert_eq!(sink.calls.load(Ordering::SeqCst), 4, "{s:?}");
    assert_eq!(
        (s.written, s.fallen_back, s.failed_writes),
        (3, 1, 1),
        "{s:?}"
    );
    assert_eq!(sink.stored.load(Ordering::SeqCst), 3);
    assert_eq!(s.panics, 1, "{s:?}");
    let text = diagnostics.text();
    assert_eq!(
        text.matches("panicked when it was dropped").count(),
        1,
        "{text}"
    );
}
