//! Helpers shared by the pipeline's integration tests: sinks that misbehave
//! on command, a writer that captures what the fallback or diagnostics got,
//! and a lock, because the pipeline is global to the process.
#![allow(dead_code)]

use std::io::Write;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use observe::Event;
use observe::sink::{Sink, SinkError};

/// One pipeline for the whole test binary, installed on first use with a
/// [`MemorySink`](observe::sink::MemorySink) and kept for the life of the
/// process (it is global); tests that share it look only at the events of
/// their own requests.
pub fn process_sink() -> &'static observe::sink::MemorySink {
    static SINK: std::sync::OnceLock<observe::sink::MemorySink> = std::sync::OnceLock::new();
    SINK.get_or_init(|| {
        let sink = observe::sink::MemorySink::new();
        let guard = observe::init(observe::Config::default().sink(sink.clone()))
            .expect("the pipeline installs once");
        std::mem::forget(guard);
        sink
    })
}

/// The root of a new request, with [`process_sink`]'s pipeline installed
/// first.
pub fn new_request() -> observe::CorrelationContext {
    process_sink();
    observe::CorrelationContext::new_root()
}

/// The one `error_occurred` event of `request` in `sink`, after a flush.
pub fn error_of(sink: &observe::sink::MemorySink, request: &observe::CorrelationContext) -> Event {
    assert_eq!(
        observe::flush(std::time::Duration::from_secs(30)),
        observe::FlushOutcome::Flushed
    );
    let errors: Vec<Event> = sink
        .events()
        .into_iter()
        .filter(|e| {
            e.correlation_id == request.correlation_id
                && e.event_type == observe::EventType::ErrorOccurred
        })
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    errors[0].clone()
}

/// `[[[ ... 1 ... ]]]`, `levels` deep, built without recursion.
pub fn nested(levels: usize) -> serde_json::Value {
    let mut value = serde_json::Value::from(1);
    for _ in 0..levels {
        value = serde_json::Value::Array(vec![value]);
    }
    value
}

/// Tests in one binary that install the pipeline take this first.
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(PoisonError::into_inner)
}

/// An in-memory `Write` whose clones share one buffer.
#[derive(Clone, Default)]
pub struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    pub fn text(&self) -> String {
        String::from_utf8(
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        )
        .unwrap()
    }

    /// The captured JSON lines, parsed as events.
    pub fn events(&self) -> Vec<Event> {
        self.text()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
            .collect()
    }

    /// Captured events that the application emitted (not drop notices).
    pub fn user_events(&self) -> Vec<Event> {
        self.events()
            .into_iter()
            .filter(|e| !is_drop_notice(e))
            .collect()
    }
}

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn is_drop_notice(event: &Event) -> bool {
    event.payload.get("error_type").and_then(|v| v.as_str()) == Some("observe.events_dropped")
}

/// What a [`ModeSink`] does with the next write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Mode {
    Ok = 0,
    Fail = 1,
    Panic = 2,
    /// Never completes, asynchronously (the write timeout can cancel it).
    Hang = 3,
    /// Blocks its thread for good (no async timeout can fire).
    Block = 4,
}

/// A sink whose behaviour the test switches at will; counts calls and
/// stored events.
#[derive(Clone, Default)]
pub struct ModeSink {
    mode: Arc<AtomicU8>,
    pub calls: Arc<AtomicU64>,
    pub stored: Arc<AtomicU64>,
    pub events: Arc<Mutex<Vec<Event>>>,
    pub keep: bool,
}

impl ModeSink {
    pub fn new(mode: Mode) -> ModeSink {
        let sink = ModeSink::default();
        sink.set(mode);
        sink
    }
    pub fn keeping(mut self) -> ModeSink {
        self.keep = true;
        self
    }
    pub fn set(&self, mode: Mode) {
        self.mode.store(mode as u8, Ordering::SeqCst);
    }
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::SeqCst)
    }
    pub fn stored(&self) -> u64 {
        self.stored.load(Ordering::SeqCst)
    }
    pub fn events(&self) -> Vec<Event> {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Sink for ModeSink {
    async fn write_batch(&self, batch: &[Event]) -> Result<(), SinkError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        match self.mode.load(Ordering::SeqCst) {
            0 => {
                self.stored.fetch_add(batch.len() as u64, Ordering::SeqCst);
                if self.keep {
                    self.events
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .extend_from_slice(batch);
                }
                Ok(())
            }
            1 => Err(SinkError::new("storage is down")),
            2 => panic!("sink exploded"),
            3 => std::future::pending().await,
            _ => loop {
                std::thread::park();
            },
        }
    }
}

/// Runs `future` to completion on a fresh current-thread runtime.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(future)
}
