//! The delivery pipeline: at-most-once, fire-and-forget, nothing lost
//! silently.
//!
//! [`init`] installs one global pipeline: a bounded lock-free queue, a
//! worker thread that drains it in batches, sanitizes every event and writes
//! the batches to a [`Sink`](crate::delivery::sink::Sink) through a
//! [circuit breaker](crate::delivery::breaker), and a fallback writer (standard error
//! by default) for every batch the sink did not take. Emitting (see
//! [`submit`]) never blocks: a full queue drops the event and counts it, and
//! so does a queue whose payloads already hold its byte budget
//! ([`Config::queue_bytes`]), so a burst of large payloads cannot take the
//! service's memory.
//!
//! A write that fails, panics or passes the write timeout counts as failed,
//! and its batch goes to the fallback; a batch that finds the sink still
//! busy with a write it gave up on goes to the fallback without counting as
//! a failure (see [`breaker`](crate::delivery::breaker)). The sink, the fallback
//! writer and the diagnostics writer are the application's code: a panic in
//! any of them (a sink future's drop included) is caught and counted in
//! [`Stats::panics`], and delivery goes on. The sink receives every event at most
//! once; the one case where an event can exist in two places is a write
//! that timed out (and so fell back) but that a blocking sink finished
//! anyway later: its events are then both in the sink and in the fallback
//! output, never twice in the sink.
//!
//! Every emitted event ends up written, fallen back, or counted as dropped;
//! once the [`Guard`] has shut the pipeline down (and the emitting calls
//! that overlapped it have returned), nothing is left pending.
//! [`stats`] shows the totals, and dropped events are also reported in-band
//! (see [`Config::drop_notice_interval`]): the worker sends an
//! `error_occurred` event with `error_type` `observe.events_dropped`,
//! `processor` `observe`, the number in `events_dropped` and by reason in
//! `dropped_queue_full`, `dropped_over_budget` and `dropped_late` (also
//! spelled out in its `error_message`), at most once per interval and once
//! more at shutdown.
//!
//! Several sinks: [`Config::add_sink`] adds sinks next to the first one.
//! Each gets its own lane: a thread, a writer thread, a circuit breaker,
//! its write timeout and its counters ([`Stats::sinks`]); the worker hands
//! every batch to every lane and waits only for the first to finish it, so
//! a failing or hanging sink never delays another. The top-level delivery
//! fields of [`Stats`] are the first sink's.
//!
//! Sanitization: each event goes through the configured
//! [`Sanitizer`](crate::delivery::sanitize::Sanitizer); when it changed something, the
//! report is attached to the payload as `"_redactions": {rule: count}`
//! (left out if adding it would push the payload over the 10 KiB limit).
//!
//! ```
//! use std::time::Duration;
//! use observe::EventType;
//! use observe::{Config, FlushOutcome};
//! use observe::sink::MemorySink;
//!
//! let sink = MemorySink::new();
//! let guard = observe::init(Config::default().sink(sink.clone())).unwrap();
//! observe::emit_event(EventType::MessageReceived, serde_json::json!({ "channel": "web" }));
//! assert_eq!(observe::flush(Duration::from_secs(5)), FlushOutcome::Flushed);
//! assert_eq!(sink.events()[0].payload["channel"], "web");
//! drop(guard); // flushes and stops the worker; `init` may be called again
//! ```

mod config;
mod diagnostics;
mod env;
mod lane;
mod notice;
mod outlets;
mod raw;
mod record;
mod stats;
mod worker;
mod writer;

use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering, fence};
use std::sync::{Condvar, Mutex, OnceLock, PoisonError};
use std::thread::{JoinHandle, Thread};
use std::time::{Duration, Instant};

use crossbeam_queue::ArrayQueue;

pub use config::{
    Config, DEFAULT_BATCH_LINGER, DEFAULT_BATCH_SIZE, DEFAULT_BREAKER_OPEN,
    DEFAULT_BREAKER_THRESHOLD, DEFAULT_DROP_NOTICE_INTERVAL, DEFAULT_QUEUE_BYTES,
    DEFAULT_QUEUE_CAPACITY, DEFAULT_SHUTDOWN_TIMEOUT, DEFAULT_WRITE_TIMEOUT, SinkOptions,
};
pub use env::{DISABLED_ENV, EnvError, QUEUE_CAPACITY_ENV, SERVICE_NAME_ENV, STORE_ENV};
pub use notice::{NOTICE_ENV, silence_not_installed_notice};
pub(crate) use record::submit_bare;
pub use record::{ErrorRecord, FieldValue, Record, RecordPayload, emit_event, enabled, submit};
pub use stats::{SinkStats, Stats};

use stats::{Counters, DropCounts, LaneCounters};

/// The installed pipeline, or null. Pipelines are leaked on purpose (see
/// [`init`]), so a pointer read here stays valid forever.
static CURRENT: AtomicPtr<Shared> = AtomicPtr::new(ptr::null_mut());
/// The most recently installed pipeline, for `stats()` after shutdown.
static LAST: AtomicPtr<Shared> = AtomicPtr::new(ptr::null_mut());
/// Serializes `init` and shutdown.
static INSTALL: Mutex<()> = Mutex::new(());

/// The state shared by emitters, the worker and the guard.
pub(crate) struct Shared {
    queue: ArrayQueue<Record>,
    batch_size: usize,
    worker_parked: AtomicBool,
    /// Set once the worker has delivered its last batch (see
    /// [`Shared::close`]); from then on an emitter cleans up after itself.
    closed: AtomicBool,
    /// The most payload bytes queued events may hold
    /// ([`Config::queue_bytes`]).
    byte_budget: usize,
    /// The payload bytes queued events hold now (estimated per record:
    /// reserved at push, released once the worker has sanitized the
    /// record or the record is discarded). On its own cache line: it
    /// changes with every payload, the fields around it do not.
    queued_bytes: Padded<AtomicUsize>,
    worker: OnceLock<Thread>,
    counters: Counters,
    /// Each sink's counters, in the configured order.
    lanes: Box<[LaneCounters]>,
    /// Each sink's name, in the same order.
    lane_names: Box<[&'static str]>,
    flush_requested: AtomicU64,
    shutdown: AtomicBool,
    /// When shutdown began (set before `shutdown`).
    shutdown_at: OnceLock<Instant>,
    control: Mutex<Control>,
    changed: Condvar,
}

/// A value on cache lines of its own.
#[repr(align(128))]
struct Padded<T>(T);

#[derive(Debug, Default)]
struct Control {
    /// The highest flush request the worker has completed.
    flushed: u64,
    /// The worker has finished its shutdown.
    finished: bool,
}

impl Shared {
    /// The hot path: one non-blocking push; a full queue, or a payload the
    /// byte budget has no room for, drops and counts.
    #[inline]
    fn push(&self, record: Record) {
        if !matches!(record.payload, RecordPayload::None) && !self.reserve_for(&record) {
            return self.reject(record, &self.counters.dropped_over_budget);
        }
        self.enqueue(record);
    }

    /// [`Shared::push`] for a record the caller knows has no payload (a
    /// span's started event, a terminal event without an error): the push
    /// and one load of `closed`, nothing more.
    #[inline]
    fn push_bare(&self, record: Record) {
        debug_assert!(matches!(record.payload, RecordPayload::None));
        self.enqueue(record);
    }

    /// Pushes a record whose payload bytes, if any, are reserved already.
    #[inline(always)]
    fn enqueue(&self, record: Record) {
        match self.queue.push(record) {
            Ok(()) => {
                // Pairs with the store in `close`; see there. The push
                // above is a SeqCst read-modify-write of the queue's tail.
                if self.closed.load(Ordering::SeqCst) {
                    self.discard_queued();
                    return;
                }
                // Wake a sleeping worker only once a full batch is waiting;
                // otherwise it wakes by itself after the linger time.
                if self.worker_parked.load(Ordering::Relaxed) && self.queue.len() >= self.batch_size
                {
                    self.wake();
                }
            }
            Err(record) => {
                self.release(record.queued_bytes());
                self.reject(record, &self.counters.dropped_full);
            }
        }
    }

    /// Reserves the byte budget for a record with a payload; false when the
    /// budget has no room for it. Out of line, so that the payload-less path
    /// stays small.
    #[cold]
    #[inline(never)]
    fn reserve_for(&self, record: &Record) -> bool {
        self.reserve(record.queued_bytes())
    }

    /// Takes `bytes` out of the byte budget, if it has room for them.
    fn reserve(&self, bytes: usize) -> bool {
        self.queued_bytes
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |held| {
                held.checked_add(bytes).filter(|&n| n <= self.byte_budget)
            })
            .is_ok()
    }

    /// Gives `bytes` back to the byte budget.
    fn release(&self, bytes: usize) {
        if bytes != 0 {
            self.queued_bytes.0.fetch_sub(bytes, Ordering::Relaxed);
        }
    }

    /// Drops a record the queue did not take, counting it in `counter`.
    #[cold]
    #[inline(never)]
    fn reject(&self, record: Record, counter: &AtomicU64) {
        Counters::add(counter, 1);
        record.discard();
    }

    /// Ends the pipeline's life: after the worker's last batch, whatever is
    /// still queued, and whatever is pushed later, is dropped and counted
    /// (as accepted and dropped), so no event stays pending for good.
    ///
    /// An emitter that loaded the pipeline just before the guard uninstalled
    /// it may push at any later time. Dekker's argument covers it: the
    /// emitter's push is a SeqCst read-modify-write of the queue's tail
    /// followed by a SeqCst load of `closed`; here a SeqCst store of
    /// `closed` is followed by a SeqCst fence and the queue's pop, which
    /// reads the tail before it reports the queue empty. In the single total
    /// order of SeqCst operations either the push comes before the store,
    /// and then the pops below see it (the fence makes the tail load see
    /// every SeqCst write ordered before it), or the load comes after the
    /// store, and then the emitter sees `closed` and drains the queue itself
    /// ([`Shared::discard_queued`]). Both may happen; each record is popped
    /// once, so it is counted once. The emitter's side costs one load, which
    /// on x86 is a plain move.
    fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        self.discard_queued();
    }

    /// Pops and drops everything queued, counting it as accepted and
    /// dropped.
    #[cold]
    #[inline(never)]
    fn discard_queued(&self) {
        while let Some(record) = self.queue.pop() {
            self.release(record.queued_bytes());
            record.discard();
            // Accepted first, as the worker does: a snapshot reads the
            // outcomes before `accepted`, so it may show the record pending
            // for a moment, never dropped and not emitted.
            Counters::add(&self.counters.accepted, 1);
            Counters::add(&self.counters.dropped_late, 1);
        }
    }

    fn wake(&self) {
        if let Some(thread) = self.worker.get() {
            thread.unpark();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Control> {
        self.control.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until `done` holds or `deadline` passes; true if it holds.
    fn wait_until(&self, deadline: Instant, done: impl Fn(&Control) -> bool) -> bool {
        let mut control = self.lock();
        loop {
            if done(&control) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            control = self
                .changed
                .wait_timeout(control, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// The drops so far, by reason (what the first sink lost included).
    fn dropped_by_reason(&self) -> DropCounts {
        self.counters.dropped_by_reason(&self.lanes[0])
    }

    fn stats(&self) -> Stats {
        let mut stats = self
            .counters
            .snapshot(self.queue.len(), &self.lanes, &self.lane_names);
        stats.queued_bytes = self.queued_bytes.0.load(Ordering::Relaxed) as u64;
        stats.queue_byte_budget = self.byte_budget as u64;
        stats
    }
}

thread_local! {
    static PIPELINE_THREAD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether the calling thread is one of the pipeline's own (the worker, or
/// the thread that runs a sink's writes). An integration that turns
/// another library's instrumentation into events (a `tracing` layer) skips
/// what happens there, so that a sink whose dependencies are instrumented
/// never feeds its own writes back into the pipeline.
pub fn on_pipeline_thread() -> bool {
    PIPELINE_THREAD
        .try_with(std::cell::Cell::get)
        .unwrap_or(false)
}

/// Marks the calling thread as one of the pipeline's own.
pub(crate) fn mark_pipeline_thread() {
    let _ = PIPELINE_THREAD.try_with(|flag| flag.set(true));
}

/// Whether a pipeline was ever installed in this process.
pub(crate) fn ever_installed() -> bool {
    !LAST.load(Ordering::Relaxed).is_null()
}

/// The installed pipeline, if any: one atomic load.
#[inline]
pub(crate) fn installed() -> Option<&'static Shared> {
    let shared = CURRENT.load(Ordering::Acquire);
    // SAFETY: non-null pointers stored in CURRENT come from `Box::leak` in
    // `init` and are never freed, so they are valid for 'static.
    unsafe { shared.as_ref() }
}

/// Why [`init`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InitError {
    /// A pipeline is installed already; drop its [`Guard`] first.
    #[error("observe: a pipeline is already installed; drop its Guard before calling init again")]
    AlreadyInstalled,
    /// The worker's threads or runtime could not be started.
    #[error("observe: cannot start the pipeline's worker: {0}")]
    Worker(#[source] std::io::Error),
    /// The configured event store ([`Config::store`], `OBSERVE_STORE`)
    /// could not be opened; nothing was installed.
    #[error("observe: cannot open the event store `{url}`: {reason}")]
    Store {
        /// The store's URL (a password in it is masked).
        url: String,
        /// Why.
        reason: String,
    },
}

/// Installs the global pipeline. Emitting does nothing until this is called.
///
/// Returns [`InitError::AlreadyInstalled`] while another pipeline is
/// installed. Once its [`Guard`] is dropped, `init` may be called again (tests
/// do that); each `init` allocates a pipeline (mostly its queue) that is
/// never freed, so that an emitting thread racing with shutdown can never
/// touch freed memory. Re-initializing is meant for tests, not for a loop.
pub fn init(mut config: Config) -> Result<Guard, InitError> {
    if !config.enabled {
        // Switched off on purpose: no pipeline, and no notice saying so.
        silence_not_installed_notice();
        return Ok(Guard {
            shared: None,
            worker: None,
            shutdown_timeout: config.shutdown_timeout,
        });
    }
    if let Some(url) = config.take_store() {
        return Err(InitError::Store {
            url,
            reason: "a store is opened by `observe::init` (the observe crate, with its `sqlite` or `postgres` feature); open a sink yourself with this crate's init".to_owned(),
        });
    }
    let _install = INSTALL.lock().unwrap_or_else(PoisonError::into_inner);
    if installed().is_some() {
        return Err(InitError::AlreadyInstalled);
    }
    let sinks = config.take_sinks();
    let batch_size = config.batch_size.min(config.queue_capacity);
    let shutdown_timeout = config.shutdown_timeout;
    let shared: &'static Shared = Box::leak(Box::new(Shared {
        queue: ArrayQueue::new(config.queue_capacity),
        batch_size,
        worker_parked: AtomicBool::new(false),
        closed: AtomicBool::new(false),
        byte_budget: config.queue_bytes,
        queued_bytes: Padded(AtomicUsize::new(0)),
        worker: OnceLock::new(),
        counters: Counters::default(),
        lanes: sinks.iter().map(|_| LaneCounters::default()).collect(),
        lane_names: sinks.iter().map(|s| s.sink.sink_name()).collect(),
        flush_requested: AtomicU64::new(0),
        shutdown: AtomicBool::new(false),
        shutdown_at: OnceLock::new(),
        control: Mutex::new(Control::default()),
        changed: Condvar::new(),
    }));
    let worker = worker::Worker::new(shared, config, sinks).map_err(InitError::Worker)?;
    let handle = std::thread::Builder::new()
        .name("observe-worker".to_owned())
        .spawn(move || {
            mark_pipeline_thread();
            worker.run()
        })
        .map_err(InitError::Worker)?;
    let _ = shared.worker.set(handle.thread().clone());
    let raw = ptr::from_ref(shared).cast_mut();
    LAST.store(raw, Ordering::Release);
    CURRENT.store(raw, Ordering::Release);
    Ok(Guard {
        shared: Some(shared),
        worker: Some(handle),
        shutdown_timeout,
    })
}

/// How a [`flush`] or a shutdown ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FlushOutcome {
    /// Everything emitted before the call was written or fallen back (or
    /// counted as dropped).
    Flushed,
    /// The timeout passed first; the rest is still on its way.
    TimedOut,
    /// No pipeline is installed: there was nothing to flush.
    NotInstalled,
}

/// Waits until everything emitted before this call has been written to the
/// sink or to the fallback, or until `timeout` passes; says which.
///
/// It blocks the calling thread (never the worker), so from async code call
/// it where blocking is acceptable, for example at the end of `main`. With
/// several sinks it waits for every sink to be done with what it was
/// handed (each write bounded by that sink's write timeout).
pub fn flush(timeout: Duration) -> FlushOutcome {
    let Some(shared) = installed() else {
        return FlushOutcome::NotInstalled;
    };
    let deadline = Instant::now() + timeout;
    let ticket = shared.flush_requested.fetch_add(1, Ordering::AcqRel) + 1;
    shared.wake();
    if shared.wait_until(deadline, |c| c.flushed >= ticket || c.finished) {
        FlushOutcome::Flushed
    } else {
        FlushOutcome::TimedOut
    }
}

/// The totals of the installed pipeline, or of the last one after its guard
/// was dropped; all zero before the first [`init`].
pub fn stats() -> Stats {
    let shared = installed().or_else(|| {
        // SAFETY: as in `installed`: leaked, never freed.
        unsafe { LAST.load(Ordering::Acquire).as_ref() }
    });
    shared.map(Shared::stats).unwrap_or_default()
}

/// Keeps the pipeline installed. Dropping it uninstalls the pipeline (later
/// emits do nothing), then delivers what is queued within the shutdown
/// timeout, and returns within that timeout even if the sink hangs.
///
/// When the shutdown finished in time ([`FlushOutcome::Flushed`]), the
/// totals add up with nothing pending, `emitted == written + fallen_back +
/// dropped`, even with threads emitting throughout: an event that an
/// emitter pushed after the worker's last batch is dropped and counted by
/// the emitter itself, before its emit call returns. (An emit call that is
/// still running when the guard returns may add its event a moment later,
/// already counted.) When it timed out ([`FlushOutcome::TimedOut`]), the
/// worker goes on in the background with the fallback only, and the same
/// holds once it finishes. It only
/// blocks on std primitives, never on an async runtime, so dropping it
/// inside a current-thread tokio runtime cannot deadlock.
#[must_use = "dropping the guard shuts the pipeline down"]
pub struct Guard {
    /// `None` for the guard of a disabled configuration.
    shared: Option<&'static Shared>,
    worker: Option<JoinHandle<()>>,
    shutdown_timeout: Duration,
}

impl Guard {
    /// Shuts down now and says whether everything was delivered in time.
    pub fn shutdown(mut self) -> FlushOutcome {
        self.stop()
    }

    fn stop(&mut self) -> FlushOutcome {
        let (Some(worker), Some(shared)) = (self.worker.take(), self.shared) else {
            return FlushOutcome::Flushed;
        };
        let deadline = Instant::now() + self.shutdown_timeout;
        {
            let _install = INSTALL.lock().unwrap_or_else(PoisonError::into_inner);
            let raw = ptr::from_ref(shared).cast_mut();
            let _ =
                CURRENT.compare_exchange(raw, ptr::null_mut(), Ordering::AcqRel, Ordering::Acquire);
        }
        let _ = shared.shutdown_at.set(Instant::now());
        shared.shutdown.store(true, Ordering::Release);
        shared.wake();
        if !shared.wait_until(deadline, |c| c.finished) {
            // The worker is still busy with a hung sink: leave it behind.
            return FlushOutcome::TimedOut;
        }
        // The worker closed the pipeline before it finished (see
        // `Shared::close`): nothing pushed from now on stays pending.
        let _ = worker.join();
        FlushOutcome::Flushed
    }
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("running", &self.worker.is_some())
            .field("shutdown_timeout", &self.shutdown_timeout)
            .finish()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.stop();
    }
}
