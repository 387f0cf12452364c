//! The worker thread: drains the queue in batches, sanitizes, writes through
//! the circuit breaker, falls back, reports drops, answers flushes and shuts
//! down within its deadline.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::Shared;
use super::config::Config;
use super::record::Record;
use super::stats::Counters;
use super::writer::Writer;
use crate::breaker::{BreakerState, CircuitBreaker, Clock, Permit, Transition};
use crate::error_payload::MAX_PAYLOAD_BYTES;
use crate::sanitize::Sanitizer;
use crate::{CorrelationContext, ErrorPayload, Event, EventType};

/// The part of the shutdown timeout the worker spends trying the sink; the
/// rest is left for writing what remains to the fallback.
const SINK_SHARE_OF_SHUTDOWN: (u32, u32) = (3, 4);

pub(crate) struct Worker {
    shared: &'static Shared,
    writer: Writer,
    sanitizer: Sanitizer,
    breaker: CircuitBreaker,
    clock: Arc<dyn Clock>,
    fallback: Box<dyn Write + Send>,
    diagnostics: Box<dyn Write + Send>,
    service_name: String,
    batch_size: usize,
    linger: Duration,
    shutdown_timeout: Duration,
    notice_interval: Duration,
    pending: Vec<Record>,
    pending_since: Option<Instant>,
    flushed: u64,
    last_notice: Instant,
    dropped_reported: u64,
    /// Set once shutdown starts: past it, the sink is not tried any more.
    sink_deadline: Option<Instant>,
    fallback_failed: bool,
    line: Vec<u8>,
}

impl Worker {
    pub(crate) fn new(shared: &'static Shared, config: Config) -> std::io::Result<Worker> {
        let writer = Writer::spawn(config.sink, config.write_timeout)?;
        let clock = config.clock;
        Ok(Worker {
            shared,
            writer,
            sanitizer: config.sanitizer,
            breaker: CircuitBreaker::new(
                config.breaker_threshold,
                config.breaker_open,
                clock.clone(),
            ),
            last_notice: clock.now(),
            clock,
            fallback: config.fallback,
            diagnostics: config.diagnostics,
            service_name: config.service_name,
            batch_size: shared.batch_size,
            linger: config.batch_linger,
            shutdown_timeout: config.shutdown_timeout,
            notice_interval: config.drop_notice_interval,
            pending: Vec::with_capacity(shared.batch_size),
            pending_since: None,
            flushed: 0,
            dropped_reported: 0,
            sink_deadline: None,
            fallback_failed: false,
            line: Vec::with_capacity(1024),
        })
    }

    pub(crate) fn run(mut self) {
        loop {
            if self.shared.shutdown.load(Ordering::Acquire) {
                self.shut_down();
                return;
            }
            let requested = self.shared.flush_requested.load(Ordering::Acquire);
            if requested > self.flushed {
                self.drain(self.shared.queue.len());
                self.notice_if_due(false);
                self.flushed = requested;
                self.shared.lock().flushed = requested;
                self.shared.changed.notify_all();
                continue;
            }
            self.fill();
            self.notice_if_due(false);
            let lingered = self
                .pending_since
                .is_some_and(|t| t.elapsed() >= self.linger);
            if self.pending.len() >= self.batch_size || lingered {
                self.write_pending();
                continue;
            }
            self.park();
        }
    }

    /// Takes records off the queue until the batch is full or the queue
    /// empty.
    fn fill(&mut self) {
        let before = self.pending.len();
        while self.pending.len() < self.batch_size {
            match self.shared.queue.pop() {
                Some(record) => self.pending.push(record),
                None => break,
            }
        }
        let taken = self.pending.len() - before;
        if taken > 0 {
            Counters::add(&self.shared.counters.accepted, taken as u64);
            self.pending_since.get_or_insert_with(Instant::now);
        }
    }

    /// Writes what is pending plus (at least) `more` records from the queue.
    fn drain(&mut self, mut more: usize) {
        loop {
            let before = self.pending.len();
            self.fill();
            more = more.saturating_sub(self.pending.len() - before);
            if self.pending.is_empty() {
                return;
            }
            self.write_pending();
            if more == 0 {
                return;
            }
        }
    }

    fn park(&mut self) {
        let timeout = match self.pending_since {
            Some(since) => self.linger.saturating_sub(since.elapsed()),
            None => self.linger,
        };
        self.shared.worker_parked.store(true, Ordering::SeqCst);
        let nothing_asked = !self.shared.shutdown.load(Ordering::SeqCst)
            && self.shared.flush_requested.load(Ordering::SeqCst) <= self.flushed
            && self.shared.queue.len() < self.batch_size;
        if nothing_asked && !timeout.is_zero() {
            std::thread::park_timeout(timeout);
        }
        self.shared.worker_parked.store(false, Ordering::Relaxed);
    }

    fn write_pending(&mut self) {
        let records = std::mem::replace(&mut self.pending, Vec::with_capacity(self.batch_size));
        self.pending_since = None;
        let user = records.len() as u64;
        let batch: Vec<Event> = records
            .into_iter()
            .map(|r| self.prepare(r.into_event()))
            .collect();
        self.deliver(batch, user);
    }

    /// Sanitizes an event and attaches the report.
    fn prepare(&mut self, mut event: Event) -> Event {
        let report = self.sanitizer.sanitize_event(&mut event);
        if !report.is_empty() {
            Counters::add(&self.shared.counters.redacted_events, 1);
            if report.total() > 0
                && let Ok(value) = serde_json::to_value(&report)
            {
                event.payload.insert("_redactions".to_owned(), value);
                let size = serde_json::to_vec(&event.payload).map_or(usize::MAX, |v| v.len());
                if size > MAX_PAYLOAD_BYTES {
                    event.payload.remove("_redactions");
                }
            }
        }
        event
    }

    /// Sends a batch to the sink if the breaker allows it, to the fallback
    /// otherwise or if the write fails. `user` is how many of the events
    /// were emitted by the application (the rest are the pipeline's own).
    fn deliver(&mut self, batch: Vec<Event>, user: u64) {
        let past_deadline = self.sink_deadline.is_some_and(|d| Instant::now() >= d);
        let permit = if past_deadline {
            Permit::Reject
        } else {
            let (permit, transition) = self.breaker.permit_with_transition();
            self.report_transition(transition);
            permit
        };
        if permit == Permit::Reject {
            self.fall_back(&batch, user);
            return;
        }
        let batch: Arc<[Event]> = batch.into();
        let shared = self.shared;
        let shutdown_timeout = self.shutdown_timeout;
        // A shutdown that starts during the write caps the wait.
        let give_up = || {
            shared
                .shutdown_at
                .get()
                .map(|at| *at + scale(shutdown_timeout, SINK_SHARE_OF_SHUTDOWN))
        };
        match self
            .writer
            .write(Arc::clone(&batch), self.sink_deadline, give_up)
        {
            Ok(()) => {
                Counters::add(&self.shared.counters.written, user);
                let transition = self.breaker.on_success();
                self.report_transition(transition);
            }
            Err(failure) => {
                Counters::add(&self.shared.counters.failed_writes, 1);
                if self.breaker.state() == BreakerState::Closed
                    && self.breaker.consecutive_failures() == 0
                {
                    self.diagnose(format_args!(
                        "sink write of {} events failed ({failure}); the batch goes to the fallback",
                        batch.len()
                    ));
                }
                let transition = self.breaker.on_failure();
                self.report_transition(transition);
                self.fall_back(&batch, user);
            }
        }
    }

    fn fall_back(&mut self, batch: &[Event], user: u64) {
        self.line.clear();
        let result = crate::sink::write_json_lines(&mut self.line, batch)
            .map_err(|e| std::io::Error::other(e.to_string()))
            .and_then(|()| self.fallback.write_all(&self.line))
            .and_then(|()| self.fallback.flush());
        match result {
            Ok(()) => Counters::add(&self.shared.counters.fallen_back, user),
            Err(error) => {
                Counters::add(&self.shared.counters.dropped_late, user);
                if !self.fallback_failed {
                    self.fallback_failed = true;
                    self.diagnose(format_args!(
                        "the fallback writer failed ({error}); {user} events dropped and counted"
                    ));
                }
            }
        }
    }

    fn report_transition(&mut self, transition: Option<Transition>) {
        let Some(Transition { from, to }) = transition else {
            return;
        };
        let counters = &self.shared.counters;
        counters.breaker_state.store(to.to_u8(), Ordering::Relaxed);
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
        self.diagnose(format_args!("circuit breaker {from} -> {to}: {why}"));
    }

    fn diagnose(&mut self, message: std::fmt::Arguments<'_>) {
        let _ = writeln!(
            self.diagnostics,
            "observe[{}]: {message}",
            self.service_name
        );
        let _ = self.diagnostics.flush();
    }

    /// Sends an in-band notice of the events dropped since the last one, if
    /// any were and the interval has passed (or `force`).
    fn notice_if_due(&mut self, force: bool) {
        let dropped = self.shared.counters.dropped();
        let new = dropped - self.dropped_reported.min(dropped);
        if new == 0 {
            return;
        }
        let now = self.clock.now();
        if !force && now.saturating_duration_since(self.last_notice) < self.notice_interval {
            return;
        }
        self.last_notice = now;
        self.dropped_reported = dropped;
        let mut error = ErrorPayload::new(
            "observe.events_dropped",
            format!("{new} events were dropped since the last notice"),
            "observe",
        );
        error.input_preview = None;
        let mut event = Event::new(EventType::ErrorOccurred, &CorrelationContext::new_root())
            .with_processor("observe");
        event.payload = error.to_payload();
        event
            .payload
            .insert("events_dropped".to_owned(), new.into());
        event
            .payload
            .insert("events_dropped_total".to_owned(), dropped.into());
        event
            .payload
            .insert("service".to_owned(), self.service_name.clone().into());
        let event = self.prepare(event);
        Counters::add(&self.shared.counters.drop_notices, 1);
        self.deliver(vec![event], 0);
    }

    fn shut_down(&mut self) {
        let began = self
            .shared
            .shutdown_at
            .get()
            .copied()
            .unwrap_or_else(Instant::now);
        let cap = began + scale(self.shutdown_timeout, SINK_SHARE_OF_SHUTDOWN);
        self.sink_deadline = Some(self.sink_deadline.map_or(cap, |d| d.min(cap)));
        self.drain(usize::MAX);
        self.notice_if_due(true);
        self.shared.lock().finished = true;
        self.shared.changed.notify_all();
    }
}

fn scale(d: Duration, (num, den): (u32, u32)) -> Duration {
    d * num / den
}
