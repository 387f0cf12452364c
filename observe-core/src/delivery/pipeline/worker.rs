//! The worker thread: drains the queue in batches, sanitizes, writes through
//! the circuit breaker, falls back, reports drops, answers flushes and shuts
//! down within its deadline.
//!
//! Each record is turned into a sanitized event as soon as it is taken off
//! the queue, and its bytes are then given back to the queue's byte budget:
//! raw payloads live only in the queue, where the budget bounds them. Code
//! the application supplied (the fallback and diagnostics writers here, the
//! sink in the writer thread) runs isolated: its panic is caught, counted
//! and reported, and the worker carries on.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::Shared;
use super::config::Config;
use super::diagnostics::{Diagnostics, Once};
use super::record::Record;
use super::stats::{Counters, DropCounts};
use super::writer::Writer;
use crate::delivery::breaker::{BreakerState, CircuitBreaker, Clock, Permit, Transition};
use crate::delivery::isolate::isolate;
use crate::delivery::sanitize::Sanitizer;
use crate::model::error_payload::MAX_PAYLOAD_BYTES;
use crate::{CorrelationContext, ErrorPayload, Event, EventType};

/// The key under which an event's [`SanitizeReport`](crate::delivery::sanitize::SanitizeReport)
/// is attached to its payload.
const REDACTIONS_KEY: &str = "_redactions";

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
    diagnostics: Diagnostics,
    service_name: String,
    batch_size: usize,
    linger: Duration,
    shutdown_timeout: Duration,
    notice_interval: Duration,
    /// Sanitized events waiting to be written (all the application's).
    pending: Vec<Event>,
    /// Records just taken off the queue, still raw (reused buffer).
    popped: Vec<Record>,
    pending_since: Option<Instant>,
    flushed: u64,
    last_notice: Instant,
    dropped_reported: DropCounts,
    /// Set once shutdown starts: past it, the sink is not tried any more.
    sink_deadline: Option<Instant>,
    /// The current stall of the sink was reported.
    busy_reported: bool,
    line: Vec<u8>,
}

impl Worker {
    pub(crate) fn new(shared: &'static Shared, config: Config) -> std::io::Result<Worker> {
        let panics = &shared.counters.panics;
        let writer = Writer::spawn(config.sink, config.write_timeout, panics)?;
        let clock = config.clock;
        let diagnostics = Diagnostics::new(
            config.diagnostics,
            config.sanitizer.clone(),
            config.service_name.clone(),
            panics,
        );
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
            diagnostics,
            service_name: config.service_name,
            batch_size: shared.batch_size,
            linger: config.batch_linger,
            shutdown_timeout: config.shutdown_timeout,
            notice_interval: config.drop_notice_interval,
            pending: Vec::with_capacity(shared.batch_size),
            popped: Vec::with_capacity(shared.batch_size),
            pending_since: None,
            flushed: 0,
            dropped_reported: DropCounts::default(),
            sink_deadline: None,
            busy_reported: false,
            line: Vec::with_capacity(1024),
        })
    }

    pub(crate) fn run(mut self) {
        loop {
            if self.shared.shutdown.load(Ordering::Acquire) {
                self.shut_down();
                // The writers' drops are the application's code too.
                let _ = isolate(move || drop(self));
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
    /// empty, and sanitizes them; returns how many it took.
    fn fill(&mut self) -> usize {
        let mut popped = std::mem::take(&mut self.popped);
        let room = self.batch_size.saturating_sub(self.pending.len());
        while popped.len() < room {
            match self.shared.queue.pop() {
                Some(record) => popped.push(record),
                None => break,
            }
        }
        let taken = popped.len();
        if taken > 0 {
            // Once per batch: emitters never wait on this counter's line.
            Counters::add(&self.shared.counters.accepted, taken as u64);
            self.pending_since.get_or_insert_with(Instant::now);
        }
        for record in popped.drain(..) {
            let bytes = record.queued_bytes();
            let prepared = self.prepare_record(record);
            self.shared.release(bytes);
            match prepared {
                Some(event) => self.pending.push(event),
                None => Counters::add(&self.shared.counters.dropped_late, 1),
            }
        }
        self.popped = popped;
        taken
    }

    /// Turns a record into a sanitized event. A panic on the way (a bug:
    /// the sanitizer and the conversion never panic by design) loses only
    /// this event, counted by the caller.
    fn prepare_record(&mut self, record: Record) -> Option<Event> {
        match isolate(|| self.prepare(record.into_event())) {
            Ok(event) => Some(event),
            Err(panic) => {
                Counters::add(&self.shared.counters.panics, 1);
                self.diagnostics.once(
                    Once::PreparePanic,
                    format_args!(
                        "preparing an event panicked ({panic}); it was dropped and counted"
                    ),
                );
                None
            }
        }
    }

    /// Writes what is pending plus (at least) `more` records from the queue.
    fn drain(&mut self, mut more: usize) {
        loop {
            let taken = self.fill();
            more = more.saturating_sub(taken);
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
        let batch = std::mem::replace(&mut self.pending, Vec::with_capacity(self.batch_size));
        self.pending_since = None;
        let user = batch.len() as u64;
        if user > 0 {
            self.deliver(batch, user);
        }
    }

    /// Sanitizes an event and attaches the report.
    fn prepare(&self, mut event: Event) -> Event {
        let report = self.sanitizer.sanitize_event(&mut event);
        if !report.is_empty() {
            Counters::add(&self.shared.counters.redacted_events, 1);
            // Measured, not serialized: the payload may hold thousands of
            // keys, and this runs for every event with a redaction.
            if report.total() > 0
                && let Ok(value) = serde_json::to_value(&report)
                && crate::delivery::sanitize::payload_size(&event.payload)
                    + 1
                    + crate::delivery::sanitize::entry_size(REDACTIONS_KEY, &value)
                    <= MAX_PAYLOAD_BYTES
            {
                event.payload.insert(REDACTIONS_KEY.to_owned(), value);
            }
        }
        event
    }

    /// Sends a batch to the sink if the breaker allows it, to the fallback
    /// otherwise or if the write fails. `user` is how many of the events
    /// were emitted by the application (the rest are the pipeline's own).
    ///
    /// A batch that finds the sink still busy with an earlier call (one the
    /// worker gave up on) goes to the fallback without asking the breaker:
    /// no sink call was made, so none failed (see [`crate::delivery::breaker`]).
    fn deliver(&mut self, batch: Vec<Event>, user: u64) {
        let past_deadline = self.sink_deadline.is_some_and(|d| Instant::now() >= d);
        if past_deadline || self.sink_is_busy() {
            self.fall_back(&batch, user);
            return;
        }
        let (permit, transition) = self.breaker.permit_with_transition();
        self.report_transition(transition);
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
        let result = self
            .writer
            .write(Arc::clone(&batch), self.sink_deadline, give_up);
        self.report_sink_drop_panic();
        match result {
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
                    self.diagnostics.line(format_args!(
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

    /// Whether the sink is still in a call the worker gave up on; the
    /// first batch of each such stall is reported.
    fn sink_is_busy(&mut self) -> bool {
        let busy = self.writer.is_busy();
        self.report_sink_drop_panic();
        if !busy {
            self.busy_reported = false;
        } else if !self.busy_reported {
            self.busy_reported = true;
            self.diagnostics.line(format_args!(
                "the sink has not returned from a write the pipeline gave up on; \
                 batches go to the fallback until it does (not counted as failed writes)"
            ));
        }
        busy
    }

    fn report_sink_drop_panic(&mut self) {
        if let Some(panic) = self.writer.take_drop_panic() {
            self.diagnostics.once(
                Once::SinkDropPanic,
                format_args!("a sink write's future panicked when it was dropped ({panic}); the sink is still used"),
            );
        }
    }

    fn fall_back(&mut self, batch: &[Event], user: u64) {
        self.line.clear();
        let result = match crate::delivery::sink::write_json_lines(&mut self.line, batch) {
            Ok(()) => self.write_fallback(),
            Err(e) => Err(e.to_string()),
        };
        match result {
            Ok(()) => Counters::add(&self.shared.counters.fallen_back, user),
            Err(error) => {
                Counters::add(&self.shared.counters.dropped_late, user);
                self.diagnostics.once(
                    Once::FallbackFailed,
                    format_args!(
                        "the fallback writer failed ({error}); {user} events dropped and counted"
                    ),
                );
            }
        }
    }

    /// Writes the serialized batch in `line` to the fallback writer; its
    /// panic is caught and counted.
    fn write_fallback(&mut self) -> Result<(), String> {
        let (fallback, line) = (&mut self.fallback, &self.line);
        match isolate(|| fallback.write_all(line).and_then(|()| fallback.flush())) {
            Ok(written) => written.map_err(|e| e.to_string()),
            Err(panic) => {
                Counters::add(&self.shared.counters.panics, 1);
                Err(format!("it panicked: {panic}"))
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
        self.diagnostics
            .line(format_args!("circuit breaker {from} -> {to}: {why}"));
    }

    /// Sends an in-band notice of the events dropped since the last one, if
    /// any were and the interval has passed (or `force`).
    fn notice_if_due(&mut self, force: bool) {
        let counts = self.shared.counters.dropped_by_reason();
        let new = counts.since(self.dropped_reported);
        if new.total() == 0 {
            return;
        }
        let now = self.clock.now();
        if !force && now.saturating_duration_since(self.last_notice) < self.notice_interval {
            return;
        }
        self.last_notice = now;
        self.dropped_reported = counts;
        let mut error = ErrorPayload::new("observe.events_dropped", notice_text(new), "observe");
        error.input_preview = String::new();
        let mut event = Event::new(EventType::ErrorOccurred, &CorrelationContext::new_root())
            .with_processor("observe");
        event.payload = error.to_payload();
        for (key, value) in [
            ("events_dropped", new.total()),
            ("events_dropped_total", counts.total()),
            ("dropped_queue_full", new.queue_full),
            ("dropped_over_budget", new.over_budget),
            ("dropped_late", new.late),
        ] {
            event.payload.insert(key.to_owned(), value.into());
        }
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
        // From here on, what emitters still push is dropped and counted
        // (it would otherwise stay pending for good).
        self.shared.close();
        self.notice_if_due(true);
        self.shared.lock().finished = true;
        self.shared.changed.notify_all();
    }
}

/// The drop notice's message: how many, and why.
fn notice_text(new: DropCounts) -> String {
    let mut text = format!("{} events were dropped since the last notice", new.total());
    let reasons = [
        (new.queue_full, "queue full (count)"),
        (new.over_budget, "queue over its byte budget"),
        (
            new.late,
            "lost after they were queued (fallback failed, or emitted during shutdown)",
        ),
    ];
    let mut sep = ": ";
    for (n, why) in reasons {
        if n > 0 {
            text.push_str(&format!("{sep}{n} dropped: {why}"));
            sep = "; ";
        }
    }
    text
}

fn scale(d: Duration, (num, den): (u32, u32)) -> Duration {
    d * num / den
}
