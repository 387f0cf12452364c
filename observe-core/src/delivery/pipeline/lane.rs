//! One sink's lane: its own thread, writer, circuit breaker and counters.
//!
//! The worker hands every batch to every lane ([`LaneHandle::offer`]); each
//! lane writes it to its sink through its breaker, on its own thread, and
//! sets aside (fallback or drop, per the sink's options) what the sink did
//! not take. A lane that is still busy with earlier batches, up to
//! [`BACKLOG`] of them, does not receive more: the worker sets the batch
//! aside for it on the spot, without counting a failed write. So a hanging
//! sink only ever costs its own lane.

use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender, TrySendError};
use std::time::{Duration, Instant};

use super::Shared;
use super::config::SinkEntry;
use super::diagnostics::Once;
use super::outlets::Outlets;
use super::stats::{Counters, LaneCounters};
use super::writer::Writer;
use crate::Event;
use crate::delivery::breaker::{BreakerState, CircuitBreaker, Clock, Permit, Transition};
use crate::delivery::isolate::isolate;

/// How many batches may wait for a busy lane, besides the one it writes.
pub(crate) const BACKLOG: usize = 2;

/// The part of the shutdown timeout a lane spends trying its sink; the
/// rest is left for writing what remains to the fallback.
const SINK_SHARE_OF_SHUTDOWN: (u32, u32) = (3, 4);

/// A batch for a lane; `seq` numbers the worker's batches.
struct Job {
    seq: u64,
    batch: Arc<[Event]>,
    user: u64,
}

/// A lane finished the worker's batch `seq`.
pub(crate) struct Done {
    pub(crate) lane: usize,
    pub(crate) seq: u64,
}

/// What the lanes need from the pipeline's configuration.
pub(crate) struct LaneSettings {
    pub(crate) write_timeout: Duration,
    pub(crate) breaker_threshold: u32,
    pub(crate) breaker_open: Duration,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) clock: Arc<dyn Clock>,
    /// More than one sink: diagnostics name the sink.
    pub(crate) several: bool,
}

/// The worker's side of a lane.
pub(crate) struct LaneHandle {
    jobs: SyncSender<Job>,
    counters: &'static LaneCounters,
    outlets: Arc<Outlets>,
    use_fallback: bool,
    label: String,
    /// Batches handed over and not yet done.
    pub(crate) outstanding: usize,
    behind_reported: bool,
}

impl LaneHandle {
    /// Starts lane `index` for `entry` on a thread of its own.
    pub(crate) fn spawn(
        index: usize,
        entry: SinkEntry,
        shared: &'static Shared,
        settings: &LaneSettings,
        outlets: Arc<Outlets>,
        done: Sender<Done>,
    ) -> std::io::Result<LaneHandle> {
        let options = entry.options;
        let write_timeout = options.write_timeout.unwrap_or(settings.write_timeout);
        let name = entry.sink.sink_name();
        let label = if settings.several {
            format!("sink {name} (#{}): ", index + 1)
        } else {
            String::new()
        };
        let counters = &shared.lanes[index];
        let writer = Writer::spawn(entry.sink, write_timeout, &shared.counters.panics)?;
        let lane = Lane {
            index,
            label: label.clone(),
            shared,
            counters,
            writer,
            breaker: CircuitBreaker::new(
                options
                    .breaker_threshold
                    .unwrap_or(settings.breaker_threshold),
                options.breaker_open.unwrap_or(settings.breaker_open),
                settings.clock.clone(),
            ),
            outlets: outlets.clone(),
            shutdown_timeout: settings.shutdown_timeout,
            use_fallback: !options.no_fallback,
            busy_reported: false,
        };
        let (jobs, rx) = mpsc::sync_channel::<Job>(BACKLOG);
        std::thread::Builder::new()
            .name(format!("observe-sink-{}", index + 1))
            .spawn(move || {
                super::mark_pipeline_thread();
                lane.run(rx, done)
            })?;
        Ok(LaneHandle {
            jobs,
            counters,
            outlets,
            use_fallback: !options.no_fallback,
            label,
            outstanding: 0,
            behind_reported: false,
        })
    }

    /// Hands the batch to the lane; true if it took it. A lane with a full
    /// backlog does not: the batch is set aside for it here.
    pub(crate) fn offer(&mut self, seq: u64, batch: &Arc<[Event]>, user: u64) -> bool {
        Counters::add(&self.counters.received, user);
        let job = Job {
            seq,
            batch: Arc::clone(batch),
            user,
        };
        match self.jobs.try_send(job) {
            Ok(()) => {
                self.outstanding += 1;
                self.behind_reported = false;
                true
            }
            Err(TrySendError::Full(job) | TrySendError::Disconnected(job)) => {
                if !self.behind_reported {
                    self.behind_reported = true;
                    self.outlets.diagnostics().line(format_args!(
                        "{}the sink is still busy with earlier batches; new ones are set aside \
                         until it catches up (not counted as failed writes)",
                        self.label
                    ));
                }
                self.outlets
                    .set_aside(&job.batch, user, self.counters, self.use_fallback);
                false
            }
        }
    }
}

/// A lane's own side, on its thread.
struct Lane {
    index: usize,
    label: String,
    shared: &'static Shared,
    counters: &'static LaneCounters,
    writer: Writer,
    breaker: CircuitBreaker,
    outlets: Arc<Outlets>,
    shutdown_timeout: Duration,
    use_fallback: bool,
    /// The current stall of the sink was reported.
    busy_reported: bool,
}

impl Lane {
    fn run(mut self, jobs: Receiver<Job>, done: Sender<Done>) {
        for job in jobs {
            // `deliver` is the pipeline's own code and never panics by
            // design; if it did, the worker must still hear that the
            // batch is done.
            if let Err(panic) = isolate(|| self.deliver(&job.batch, job.user)) {
                Counters::add(&self.shared.counters.panics, 1);
                self.outlets.diagnostics().line(format_args!(
                    "{}delivering a batch panicked ({panic})",
                    self.label
                ));
            }
            let _ = done.send(Done {
                lane: self.index,
                seq: job.seq,
            });
        }
        // The writer's drop is the application's code too.
        let _ = isolate(move || drop(self));
    }

    /// Sends a batch to the sink if the breaker allows it, sets it aside
    /// otherwise or if the write fails. `user` is how many of the events
    /// were emitted by the application (the rest are the pipeline's own).
    ///
    /// A batch that finds the sink still busy with an earlier call (one the
    /// lane gave up on) is set aside without asking the breaker: no sink
    /// call was made, so none failed (see [`crate::delivery::breaker`]).
    fn deliver(&mut self, batch: &Arc<[Event]>, user: u64) {
        let (shared, shutdown_timeout) = (self.shared, self.shutdown_timeout);
        let deadline = sink_deadline(shared, shutdown_timeout);
        let past_deadline = deadline.is_some_and(|d| Instant::now() >= d);
        if past_deadline || self.sink_is_busy() {
            return self.set_aside(batch, user);
        }
        let (permit, transition) = self.breaker.permit_with_transition();
        self.report_transition(transition);
        if permit == Permit::Reject {
            return self.set_aside(batch, user);
        }
        // A shutdown that starts during the write caps the wait.
        let give_up = || sink_deadline(shared, shutdown_timeout);
        let result = self.writer.write(Arc::clone(batch), deadline, give_up);
        self.report_sink_drop_panic();
        self.report_rejected();
        match result {
            Ok(()) => {
                Counters::add(&self.counters.written, user);
                let transition = self.breaker.on_success();
                self.report_transition(transition);
            }
            Err(failure) => {
                Counters::add(&self.counters.failed_writes, 1);
                if self.breaker.state() == BreakerState::Closed
                    && self.breaker.consecutive_failures() == 0
                {
                    let goes = if self.use_fallback {
                        "the batch goes to the fallback"
                    } else {
                        "the batch is dropped for this sink and counted (it has no fallback)"
                    };
                    self.outlets.diagnostics().line(format_args!(
                        "{}sink write of {} events failed ({failure}); {goes}",
                        self.label,
                        batch.len()
                    ));
                }
                let transition = self.breaker.on_failure();
                self.report_transition(transition);
                self.set_aside(batch, user);
            }
        }
    }

    fn set_aside(&self, batch: &[Event], user: u64) {
        self.outlets
            .set_aside(batch, user, self.counters, self.use_fallback);
    }

    /// Whether the sink is still in a call the lane gave up on; the first
    /// batch of each such stall is reported.
    fn sink_is_busy(&mut self) -> bool {
        let busy = self.writer.is_busy();
        self.report_sink_drop_panic();
        if !busy {
            self.busy_reported = false;
        } else if !self.busy_reported {
            self.busy_reported = true;
            self.outlets.diagnostics().line(format_args!(
                "{}the sink has not returned from a write the pipeline gave up on; \
                 batches go to the fallback until it does (not counted as failed writes)",
                self.label
            ));
        }
        busy
    }

    fn report_sink_drop_panic(&mut self) {
        if let Some(panic) = self.writer.take_drop_panic() {
            self.outlets.diagnostics().once(
                Once::SinkDropPanic,
                format_args!(
                    "{}a sink write's future panicked when it was dropped ({panic}); the sink is still used",
                    self.label
                ),
            );
        }
    }

    /// Counts and reports the items the sink's destination rejected.
    fn report_rejected(&mut self) {
        let rejected = self.writer.take_rejected();
        if rejected.count == 0 {
            return;
        }
        Counters::add(&self.counters.rejected, rejected.count);
        let reasons = rejected.messages.join("; ");
        self.outlets.diagnostics().line(format_args!(
            "{}the destination rejected {} items of a batch it accepted: {reasons}",
            self.label, rejected.count
        ));
    }

    fn report_transition(&mut self, transition: Option<Transition>) {
        let Some(Transition { from, to }) = transition else {
            return;
        };
        let counters = self.counters;
        counters
            .breaker_state
            .store(to.to_u8(), std::sync::atomic::Ordering::Relaxed);
        match to {
            BreakerState::Open => Counters::add(&counters.opened, 1),
            BreakerState::HalfOpen => Counters::add(&counters.half_opened, 1),
            BreakerState::Closed => Counters::add(&counters.closed, 1),
        }
        let why = match (from, to) {
            (BreakerState::Closed, BreakerState::Open) => {
                "after consecutive failed writes; batches go to the fallback"
            }
            (BreakerState::HalfOpen, BreakerState::Open) => "again: the probe write failed",
            (_, BreakerState::HalfOpen) => "the open duration passed; the next batch is a probe",
            _ => "the probe write succeeded; writing to the sink again",
        };
        self.outlets.diagnostics().line(format_args!(
            "{}circuit breaker {from} -> {to}: {why}",
            self.label
        ));
    }
}

/// Past it, during shutdown, the sink is not tried any more.
fn sink_deadline(shared: &Shared, shutdown_timeout: Duration) -> Option<Instant> {
    let (num, den) = SINK_SHARE_OF_SHUTDOWN;
    let share = shutdown_timeout * num / den;
    shared.shutdown_at.get().map(|at| *at + share)
}
