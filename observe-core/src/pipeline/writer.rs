//! The writer thread: runs sink writes on its own small tokio runtime, with
//! the write timeout and a panic guard, and answers the worker over a
//! channel.
//!
//! The worker waits for each answer with its own deadline, so even a sink
//! that blocks its thread (where no async timeout can fire) cannot hold the
//! worker: the worker gives up, counts the write as failed, and sends no
//! further batch until the writer answers again.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::Event;
use crate::sink::DynSink;

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
}

struct Reply {
    id: u64,
    result: Result<(), WriteFailure>,
}

/// The worker's handle on the writer thread.
pub(crate) struct Writer {
    jobs: SyncSender<Job>,
    replies: Receiver<Reply>,
    write_timeout: Duration,
    next_id: u64,
    /// The id of a write that has not answered yet.
    outstanding: Option<u64>,
}

impl Writer {
    /// Starts the writer thread with a runtime built here, so that a
    /// failure shows at `init`.
    pub(crate) fn spawn(
        sink: Arc<dyn DynSink>,
        write_timeout: Duration,
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
                for job in job_rx {
                    let result = write_once(&runtime, &*sink, &job.batch, write_timeout);
                    if reply_tx.send(Reply { id: job.id, result }).is_err() {
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
        })
    }

    /// Writes `batch`, waiting at most the write timeout (plus a little),
    /// `deadline` if that is sooner, or until `give_up` says so.
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
        if self.jobs.send(Job { id, batch }).is_err() {
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
                    return reply.result;
                }
                Ok(_stale) => {}
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
        }
    }
}

fn write_once(
    runtime: &tokio::runtime::Runtime,
    sink: &dyn DynSink,
    batch: &[Event],
    write_timeout: Duration,
) -> Result<(), WriteFailure> {
    // Making the future may panic too (a sink that is not an `async fn`).
    let future = catch_unwind(AssertUnwindSafe(|| sink.write_boxed(batch)))
        .map_err(|p| WriteFailure::Panic(panic_message(&*p)))?;
    let guarded = CatchUnwind { inner: future };
    match runtime.block_on(async { tokio::time::timeout(write_timeout, guarded).await }) {
        Err(_elapsed) => Err(WriteFailure::TimedOut),
        Ok(Err(panic)) => Err(WriteFailure::Panic(panic)),
        Ok(Ok(Err(error))) => Err(WriteFailure::Error(error.to_string())),
        Ok(Ok(Ok(()))) => Ok(()),
    }
}

/// Polls a boxed future inside `catch_unwind`, turning a panic into an
/// error.
struct CatchUnwind<'a> {
    inner: Pin<Box<dyn Future<Output = Result<(), crate::sink::SinkError>> + Send + 'a>>,
}

impl Future for CatchUnwind<'_> {
    type Output = Result<Result<(), crate::sink::SinkError>, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &mut self.inner;
        match catch_unwind(AssertUnwindSafe(|| inner.as_mut().poll(cx))) {
            Ok(Poll::Ready(result)) => Poll::Ready(Ok(result)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(panic) => Poll::Ready(Err(panic_message(&*panic))),
        }
    }
}

fn panic_message(panic: &(dyn Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-string payload".to_owned()
    }
}
