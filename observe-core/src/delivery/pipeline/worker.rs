//! The worker thread: drains the queue in batches, sanitizes, hands each
//! batch to every sink's lane (see [`lane`](super::lane)), reports drops,
//! answers flushes and shuts down within its deadline.
//!
//! Each record is turned into a sanitized event as soon as it is taken off
//! the queue, and its bytes are then given back to the queue's byte budget:
//! raw payloads live only in the queue, where the budget bounds them. Code
//! the application supplied (the fallback and diagnostics writers, the
//! sinks in their writer threads) runs isolated: its panic is caught,
//! counted and reported, and the worker carries on.
//!
//! After handing a batch over, the worker waits until the first lane has
//! finished it: with one sink that is today's pace (the sink's speed sets
//! how fast the queue drains), with several the fastest sets it and a slow
//! or hanging one falls behind alone. A flush or a shutdown waits for all.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use super::Shared;
use super::config::{Config, SinkEntry};
use super::diagnostics::{Diagnostics, Once};
use super::lane::{Done, LaneHandle, LaneSettings};
use super::outlets::Outlets;
use super::record::Record;
use super::stats::{Counters, DropCounts};
use crate::delivery::breaker::Clock;
use crate::delivery::isolate::isolate;
use crate::delivery::sanitize::Sanitizer;
use crate::model::error_payload::MAX_PAYLOAD_BYTES;
use crate::{CorrelationContext, ErrorPayload, Event, EventType};

/// The key under which an event's [`SanitizeReport`](crate::delivery::sanitize::SanitizeReport)
/// is attached to its payload.
const REDACTIONS_KEY: &str = "_redactions";

pub(crate) struct Worker {
    shared: &'static Shared,
    lanes: Vec<LaneHandle>,
    /// Each lane says here when it finished a batch.
    done: Receiver<Done>,
    /// The number of the last batch handed to the lanes.
    seq: u64,
    sanitizer: Sanitizer,
    clock: Arc<dyn Clock>,
    outlets: Arc<Outlets>,
    /// Stamped on every event (interned: one string per name and process,
    /// not one allocation per event).
    service_name: &'static str,
    batch_size: usize,
    linger: Duration,
    notice_interval: Duration,
    /// Sanitized events waiting to be written (all the application's).
    pending: Vec<Event>,
    /// Records just taken off the queue, still raw (reused buffer).
    popped: Vec<Record>,
    pending_since: Option<Instant>,
    flushed: u64,
    last_notice: Instant,
    dropped_reported: DropCounts,
}

impl Worker {
    pub(crate) fn new(
        shared: &'static Shared,
        mut config: Config,
        sinks: Vec<SinkEntry>,
    ) -> std::io::Result<Worker> {
        let panics = &shared.counters.panics;
        let clock = config.clock.clone();
        let diagnostics = Diagnostics::new(
            std::mem::replace(&mut config.diagnostics, Box::new(std::io::sink())),
            config.sanitizer.clone(),
            config.service_name.clone(),
            panics,
        );
        let fallback = std::mem::replace(&mut config.fallback, Box::new(std::io::sink()));
        let outlets = Arc::new(Outlets::new(fallback, diagnostics, panics));
        let settings = LaneSettings {
            write_timeout: config.write_timeout,
            breaker_threshold: config.breaker_threshold,
            breaker_open: config.breaker_open,
            shutdown_timeout: config.shutdown_timeout,
            clock: clock.clone(),
            several: sinks.len() > 1,
        };
        let (done_tx, done) = mpsc::channel();
        let lanes = sinks
            .into_iter()
            .enumerate()
            .map(|(i, entry)| {
                LaneHandle::spawn(
                    i,
                    entry,
                    shared,
                    &settings,
                    outlets.clone(),
                    done_tx.clone(),
                )
            })
            .collect::<std::io::Result<Vec<_>>>()?;
        Ok(Worker {
            shared,
            lanes,
            done,
            seq: 0,
            sanitizer: config.sanitizer,
            last_notice: clock.now(),
            clock,
            outlets,
            service_name: interned(&config.service_name),
            batch_size: shared.batch_size,
            linger: config.batch_linger,
            notice_interval: config.drop_notice_interval,
            pending: Vec::with_capacity(shared.batch_size),
            popped: Vec::with_capacity(shared.batch_size),
            pending_since: None,
            flushed: 0,
            dropped_reported: DropCounts::default(),
        })
    }

    pub(crate) fn run(mut self) {
        loop {
            if self.shared.shutdown.load(Ordering::Acquire) {
                self.shut_down();
                // Closing the lanes' channels ends their threads.
                let _ = isolate(move || drop(self));
                return;
            }
            let requested = self.shared.flush_requested.load(Ordering::Acquire);
            if requested > self.flushed {
                self.drain(self.shared.queue.len());
                self.notice_if_due(false);
                self.wait_for_lanes();
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
                self.outlets.diagnostics().once(
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

    /// Stamps the service on an event, sanitizes it and attaches the
    /// report.
    fn prepare(&self, mut event: Event) -> Event {
        event
            .service_name
            .get_or_insert(std::borrow::Cow::Borrowed(self.service_name));
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

    /// Hands a batch to every lane and waits until the first of those that
    /// took it has finished it. `user` is how many of the events were
    /// emitted by the application (the rest are the pipeline's own).
    fn deliver(&mut self, batch: Vec<Event>, user: u64) {
        let batch: Arc<[Event]> = batch.into();
        self.seq += 1;
        let seq = self.seq;
        let mut taken = false;
        for lane in &mut self.lanes {
            taken |= lane.offer(seq, &batch, user);
        }
        if taken {
            self.wait_for(|done| done.seq == seq);
        }
    }

    /// Waits until every lane has finished every batch handed to it.
    fn wait_for_lanes(&mut self) {
        while self.lanes.iter().any(|lane| lane.outstanding > 0) {
            if !self.wait_for(|_| true) {
                return;
            }
        }
    }

    /// Takes lanes' answers until one satisfies `until`; false if the
    /// lanes are gone (they never are while the worker runs).
    fn wait_for(&mut self, until: impl Fn(&Done) -> bool) -> bool {
        while let Ok(done) = self.done.recv() {
            if let Some(lane) = self.lanes.get_mut(done.lane) {
                lane.outstanding = lane.outstanding.saturating_sub(1);
            }
            if until(&done) {
                return true;
            }
        }
        false
    }

    /// Sends an in-band notice of the events dropped since the last one, if
    /// any were and the interval has passed (or `force`).
    fn notice_if_due(&mut self, force: bool) {
        let counts = self.shared.dropped_by_reason();
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
            .insert("service".to_owned(), self.service_name.into());
        let event = self.prepare(event);
        Counters::add(&self.shared.counters.drop_notices, 1);
        self.deliver(vec![event], 0);
    }

    fn shut_down(&mut self) {
        // The lanes stop trying their sinks at their share of the shutdown
        // timeout (see `lane`), so this ends in time.
        self.drain(usize::MAX);
        self.wait_for_lanes();
        // From here on, what emitters still push is dropped and counted
        // (it would otherwise stay pending for good).
        self.shared.close();
        self.notice_if_due(true);
        self.wait_for_lanes();
        self.shared.lock().finished = true;
        self.shared.changed.notify_all();
    }
}

/// `name` as a string that lives as long as the process. Each distinct
/// name is leaked once; a process installs a handful of pipelines at most
/// (tests install hundreds, all with a few names), so this is bounded.
fn interned(name: &str) -> &'static str {
    static NAMES: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());
    let mut names = NAMES.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(known) = names.iter().find(|known| **known == name) {
        return known;
    }
    let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
    names.push(leaked);
    leaked
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
