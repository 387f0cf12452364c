//! The writer thread: runs sink writes on its own small tokio runtime, with
//! the write timeout and a panic guard, and answers the worker over a
//! channel.
//!
//! The worker waits for each answer with its own deadline, so even a sink
//! that blocks its thread (where no async timeout can fire) cannot hold the
//! worker: the worker gives up, counts the write as failed, and sends no
//! further batch until the writer answers again ([`Writer::is_busy`]).
//!
//! Every piece of the sink's code runs inside `catch_unwind`: the call that
//! makes the future, each poll, and the future's drop (which runs when the
//! write timeout cancels it, or after it finished). A panic in any of them
//! is counted in `Stats::panics`; the thread lives on and serves the next
//! batch.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::stats::Counters;
use crate::Event;
use crate::delivery::isolate::isolate;
use crate::delivery::sink::{DynSink, SinkError, WriteFuture, scope};

/// Extra time the worker allows beyond the write timeout for the writer's
/// own timeout to be reported.
const GRACE: Duration = Duration::from_millis(250);
/// How often the worker looks up from a long wait (to see a shutdown).
const SLICE: Duration = Duration::from_millis(20);

/// Why a write failed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum WriteFailure {
    /// The sink returned an error.
    Error(String),
    /// The sink panicked.
    Panic(String),
    /// The write took longer than the write timeout.
    TimedOut,
    /// The previous write has not returned yet (a hung sink).
    Busy,
    /// The writer thread is gone.
    Gone,
}

impl std::fmt::Display for WriteFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteFailure::Error(e) => write!(f, "the sink returned an error: {e}"),
            WriteFailure::Panic(p) => write!(f, "the sink panicked: {p}"),
            WriteFailure::TimedOut => f.write_str("the sink exceeded the write timeout"),
            WriteFailure::Busy => f.write_str("the sink has not returned from an earlier write"),
            WriteFailure::Gone => f.write_str("the writer thread is gone"),
        }
    }
}

struct Job {
    id: u64,
    batch: Arc<[Event]>,
    /// When the write must be done (what the sink sees as its
    /// [`scope::deadline`](crate::delivery::sink::scope::deadline)).
    deadline: Instant,
}

struct Reply {
    id: u64,
    result: Result<(), WriteFailure>,
    /// The future panicked while it was dropped (after its result, or when
    /// the timeout cancelled it): the panic's message.
    drop_panic: Option<String>,
    /// What the sink reported as rejected by its destination.
    rejected: Rejected,
}

/// Items a sink's destination took the batch without (see
/// [`scope::report_rejected`](crate::delivery::sink::scope::report_rejected)).
#[derive(Debug, Default)]
pub(crate) struct Rejected {
    pub(crate) count: u64,
    pub(crate) messages: Vec<String>,
}

/// The worker's handle on the writer thread.
pub(crate) struct Writer {
    jobs: SyncSender<Job>,
    replies: Receiver<Reply>,
    write_timeout: Duration,
    next_id: u64,
    /// The id of a write that has not answered yet.
    outstanding: Option<u64>,
    /// The message of a sink future's drop panic not yet taken by the
    /// worker.
    drop_panic: Option<String>,
    /// Rejections reported by the last write that answered, not yet taken.
    rejected: Rejected,
}

impl Writer {
    /// Starts the writer thread with a runtime built here, so that a
    /// failure shows at `init`.
    /// `panics` counts every panic caught in the sink's code.
    pub(crate) fn spawn(
        sink: Arc<dyn DynSink>,
        write_timeout: Duration,
        panics: &'static AtomicU64,
    ) -> std::io::Result<Writer> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .thread_name("observe-writer")
            .build()?;
        let (jobs, job_rx) = mpsc::sync_channel::<Job>(1);
        let (reply_tx, replies) = mpsc::sync_channel::<Reply>(1);
        std::thread::Builder::new()
            .name("observe-writer".to_owned())
            .spawn(move || {
                super::mark_pipeline_thread();
                for job in job_rx {
                    let reply = write_guarded(&runtime, &*sink, &job, write_timeout, panics);
                    if reply_tx.send(reply).is_err() {
                        break;
                    }
                }
            })?;
        Ok(Writer {
            jobs,
            replies,
            write_timeout,
            next_id: 0,
            outstanding: None,
            drop_panic: None,
            rejected: Rejected::default(),
        })
    }

    /// Whether the sink is still running a write the worker gave up on
    /// (takes its answer first, if it came). A batch sent now would only
    /// wait behind it.
    pub(crate) fn is_busy(&mut self) -> bool {
        self.collect_late_reply();
        self.outstanding.is_some()
    }

    /// The message of a panic in a sink future's drop since the last call.
    pub(crate) fn take_drop_panic(&mut self) -> Option<String> {
        self.drop_panic.take()
    }

    /// The rejections sinks reported since the last call.
    pub(crate) fn take_rejected(&mut self) -> Rejected {
        std::mem::take(&mut self.rejected)
    }

    /// Writes `batch`, waiting at most the write timeout (plus a little),
    /// `deadline` if that is sooner, or until `give_up` says so. Fails with
    /// [`WriteFailure::Busy`] without sending anything if
    /// [`is_busy`](Writer::is_busy).
    pub(crate) fn write(
        &mut self,
        batch: Arc<[Event]>,
        deadline: Option<Instant>,
        give_up: impl Fn() -> Option<Instant>,
    ) -> Result<(), WriteFailure> {
        self.collect_late_reply();
        if self.outstanding.is_some() {
            return Err(WriteFailure::Busy);
        }
        self.next_id += 1;
        let id = self.next_id;
        let mut scope_deadline = Instant::now() + self.write_timeout;
        if let Some(d) = deadline {
            scope_deadline = scope_deadline.min(d);
        }
        let job = Job {
            id,
            batch,
            deadline: scope_deadline,
        };
        if self.jobs.send(job).is_err() {
            return Err(WriteFailure::Gone);
        }
        self.outstanding = Some(id);
        let own_deadline = Instant::now() + self.write_timeout + GRACE;
        loop {
            let mut until = own_deadline;
            if let Some(d) = deadline.into_iter().chain(give_up()).min() {
                until = until.min(d);
            }
            let now = Instant::now();
            if now >= until {
                return Err(WriteFailure::TimedOut);
            }
            match self.replies.recv_timeout((until - now).min(SLICE)) {
                Ok(reply) if reply.id == id => {
                    self.outstanding = None;
                    self.note(reply.drop_panic, reply.rejected);
                    return reply.result;
                }
                Ok(stale) => self.note(stale.drop_panic, stale.rejected),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Err(WriteFailure::Gone),
            }
        }
    }

    /// Takes the answer of a write the worker gave up on, if it came.
    fn collect_late_reply(&mut self) {
        while let Ok(reply) = self.replies.try_recv() {
            if Some(reply.id) == self.outstanding {
                self.outstanding = None;
            }
            self.note(reply.drop_panic, reply.rejected);
        }
    }

    fn note(&mut self, panic: Option<String>, rejected: Rejected) {
        if panic.is_some() {
            self.drop_panic = panic;
        }
        self.rejected.count += rejected.count;
        self.rejected.messages.extend(rejected.messages);
    }
}

/// One write with every panic caught, counted and turned into the reply.
fn write_guarded(
    runtime: &tokio::runtime::Runtime,
    sink: &dyn DynSink,
    job: &Job,
    write_timeout: Duration,
    panics: &'static AtomicU64,
) -> Reply {
    let drop_panic = Cell::new(None);
    // `write_once` catches the sink's panics itself; this outer guard is
    // for anything else, so the thread never dies.
    let (result, scope) = scope::within(job.deadline, || {
        isolate(|| write_once(runtime, sink, &job.batch, write_timeout, &drop_panic))
            .unwrap_or_else(|panic| Err(WriteFailure::Panic(panic)))
    });
    let panicked = matches!(result, Err(WriteFailure::Panic(_)));
    let drop_panic = drop_panic.into_inner();
    let caught = u64::from(panicked) + u64::from(drop_panic.is_some());
    if caught > 0 {
        Counters::add(panics, caught);
    }
    Reply {
        id: job.id,
        result,
        drop_panic,
        rejected: Rejected {
            count: scope.rejected,
            messages: scope.messages,
        },
    }
}

fn write_once(
    runtime: &tokio::runtime::Runtime,
    sink: &dyn DynSink,
    batch: &[Event],
    write_timeout: Duration,
    drop_panic: &Cell<Option<String>>,
) -> Result<(), WriteFailure> {
    // Making the future may panic too (a sink that is not an `async fn`).
    let future = isolate(|| sink.write_boxed(batch)).map_err(WriteFailure::Panic)?;
    let guarded = CatchUnwind {
        inner: Some(future),
        drop_panic,
    };
    match runtime.block_on(async { tokio::time::timeout(write_timeout, guarded).await }) {
        Err(_elapsed) => Err(WriteFailure::TimedOut),
        Ok(Err(panic)) => Err(WriteFailure::Panic(panic)),
        Ok(Ok(Err(error))) => Err(WriteFailure::Error(error.to_string())),
        Ok(Ok(Ok(()))) => Ok(()),
    }
}

/// Polls a boxed future inside `catch_unwind`, turning a panic into an
/// error, and drops it inside `catch_unwind`, noting a panic there in
/// `drop_panic`.
struct CatchUnwind<'a> {
    inner: Option<WriteFuture<'a>>,
    drop_panic: &'a Cell<Option<String>>,
}

impl Future for CatchUnwind<'_> {
    type Output = Result<Result<(), SinkError>, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(inner) = self.inner.as_mut() else {
            return Poll::Ready(Err("polled after it panicked".to_owned()));
        };
        match isolate(|| inner.as_mut().poll(cx)) {
            Ok(Poll::Ready(result)) => Poll::Ready(Ok(result)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(panic) => {
                // Not polled again; drop it now, still guarded.
                self.drop_inner();
                Poll::Ready(Err(panic))
            }
        }
    }
}

impl CatchUnwind<'_> {
    fn drop_inner(&mut self) {
        if let Some(inner) = self.inner.take()
            && let Err(panic) = isolate(move || drop(inner))
        {
            self.drop_panic.set(Some(panic));
        }
    }
}

impl Drop for CatchUnwind<'_> {
    fn drop(&mut self) {
        self.drop_inner();
    }
}
