//! Counters of the pipeline and their public snapshot, [`Stats`].

use std::sync::atomic::{AtomicU8, AtomicU64, Ordering::Relaxed};

use serde::Serialize;

use crate::delivery::breaker::{BreakerState, Transitions};

/// The live counters, shared by emitters, the worker and `stats()`.
/// Aligned to its own cache lines, so that the worker's updates never
/// evict the read-mostly fields emitters load on every push.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct Counters {
    /// Rejected by the full queue (bumped on the hot path).
    pub(crate) dropped_full: AtomicU64,
    /// Rejected because the queue's byte budget had no room for the payload
    /// (bumped on the hot path).
    pub(crate) dropped_over_budget: AtomicU64,
    /// Taken off the queue by the worker (or by shutdown).
    pub(crate) accepted: AtomicU64,
    /// Accepted but lost: the fallback writer failed, or shutdown found them
    /// after the worker had finished.
    pub(crate) dropped_late: AtomicU64,
    pub(crate) drop_notices: AtomicU64,
    pub(crate) redacted_events: AtomicU64,
    /// Panics caught in user-supplied code (sink, fallback, diagnostics) or
    /// while preparing an event.
    pub(crate) panics: AtomicU64,
}

/// The counters of one sink (a lane of the pipeline). The first sink's are
/// also the top-level fields of [`Stats`].
#[derive(Debug, Default)]
pub(crate) struct LaneCounters {
    /// Events handed to this sink's lane (application events only).
    pub(crate) received: AtomicU64,
    pub(crate) written: AtomicU64,
    pub(crate) failed_writes: AtomicU64,
    pub(crate) fallen_back: AtomicU64,
    /// Events this sink did not take and the fallback did not either (it
    /// failed, or the sink was set up without one).
    pub(crate) dropped: AtomicU64,
    pub(crate) rejected: AtomicU64,
    pub(crate) breaker_state: AtomicU8,
    pub(crate) opened: AtomicU64,
    pub(crate) half_opened: AtomicU64,
    pub(crate) closed: AtomicU64,
}

impl LaneCounters {
    fn snapshot(&self, name: &str) -> SinkStats {
        // Outcomes before `received`, so `pending` never reads below zero.
        let written = self.written.load(Relaxed);
        let fallen_back = self.fallen_back.load(Relaxed);
        let dropped = self.dropped.load(Relaxed);
        let received = self.received.load(Relaxed);
        SinkStats {
            name: name.to_owned(),
            received,
            written,
            failed_writes: self.failed_writes.load(Relaxed),
            fallen_back,
            dropped,
            pending: received.saturating_sub(written + fallen_back + dropped),
            rejected: self.rejected.load(Relaxed),
            breaker_state: BreakerState::from_u8(self.breaker_state.load(Relaxed)),
            breaker_transitions: Transitions {
                opened: self.opened.load(Relaxed),
                half_opened: self.half_opened.load(Relaxed),
                closed: self.closed.load(Relaxed),
            },
        }
    }
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Relaxed);
    }

    /// The drops so far, by reason (the first sink's among the late ones).
    pub(crate) fn dropped_by_reason(&self, first: &LaneCounters) -> DropCounts {
        DropCounts {
            queue_full: self.dropped_full.load(Relaxed),
            over_budget: self.dropped_over_budget.load(Relaxed),
            late: self.dropped_late.load(Relaxed) + first.dropped.load(Relaxed),
        }
    }

    /// The totals; the top-level delivery fields are those of the first
    /// of `lanes` (named by `names`).
    pub(crate) fn snapshot(&self, queued: usize, lanes: &[LaneCounters], names: &[&str]) -> Stats {
        let sinks: Vec<SinkStats> = lanes
            .iter()
            .zip(names)
            .map(|(lane, name)| lane.snapshot(name))
            .collect();
        let first = sinks.first().cloned().unwrap_or_default();
        // Read the outcomes before `accepted`, so that `pending` never reads
        // below zero while the worker is busy.
        let (written, fallen_back) = (first.written, first.fallen_back);
        let dropped_late = self.dropped_late.load(Relaxed) + first.dropped;
        let accepted = self.accepted.load(Relaxed);
        let dropped_full = self.dropped_full.load(Relaxed);
        let dropped_over_budget = self.dropped_over_budget.load(Relaxed);
        let in_worker = accepted.saturating_sub(written + fallen_back + dropped_late);
        let pending = in_worker + queued as u64;
        Stats {
            emitted: dropped_full + dropped_over_budget + accepted + queued as u64,
            dropped: dropped_full + dropped_over_budget + dropped_late,
            dropped_queue_full: dropped_full,
            dropped_over_budget,
            written,
            failed_writes: first.failed_writes,
            fallen_back,
            pending,
            drop_notices: self.drop_notices.load(Relaxed),
            redacted_events: self.redacted_events.load(Relaxed),
            panics: self.panics.load(Relaxed),
            queued_bytes: 0,
            queue_byte_budget: 0,
            breaker_state: first.breaker_state,
            breaker_transitions: first.breaker_transitions,
            sinks,
        }
    }
}

/// Drops, by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct DropCounts {
    /// The queue held its capacity of events.
    pub(crate) queue_full: u64,
    /// The queue's byte budget had no room for the payload.
    pub(crate) over_budget: u64,
    /// Accepted, then lost: the fallback failed, or pushed after shutdown.
    pub(crate) late: u64,
}

impl DropCounts {
    /// The drops since `earlier`.
    pub(crate) fn since(self, earlier: DropCounts) -> DropCounts {
        DropCounts {
            queue_full: self.queue_full.saturating_sub(earlier.queue_full),
            over_budget: self.over_budget.saturating_sub(earlier.over_budget),
            late: self.late.saturating_sub(earlier.late),
        }
    }

    /// All of them.
    pub(crate) fn total(self) -> u64 {
        self.queue_full + self.over_budget + self.late
    }
}

/// A snapshot of the pipeline's totals since [`init`](super::init).
///
/// Every emitted event ends up in exactly one of `written`, `fallen_back`
/// and `dropped`, or is still `pending`:
/// `emitted == written + fallen_back + dropped + pending`. After a completed
/// [`flush`](super::flush) with no emitter running, `pending` is 0; after
/// the [`Guard`](super::Guard) shut the pipeline down in time, it is 0 once
/// the emit calls that overlapped the shutdown have returned. The
/// counters are read one by one, so a snapshot taken while events flow may
/// be off by the events in motion.
///
/// The pipeline's own drop notices are counted in `drop_notices` only, not
/// in `emitted`, `written` or `fallen_back`.
///
/// # Several sinks
///
/// The delivery fields (`written`, `failed_writes`, `fallen_back`, the
/// breaker's, and the part of `dropped` and `pending` past the queue)
/// describe the **first** sink, so code written for one sink reads them as
/// before; [`sinks`](Stats::sinks) holds every sink's own accounting, the
/// first one's included, each adding up on its own:
/// `received == written + fallen_back + dropped + pending`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Events handed to the pipeline (accepted or dropped).
    pub emitted: u64,
    /// Events lost, counted: the queue was full (`dropped_queue_full`), its
    /// byte budget had no room (`dropped_over_budget`), or (rarely) the
    /// event was accepted and then lost: the fallback writer failed or
    /// panicked too, preparing the event panicked, or it was pushed while
    /// the pipeline shut down.
    pub dropped: u64,
    /// Of `dropped`: the queue held [`Config::queue_capacity`](super::Config::queue_capacity)
    /// events.
    pub dropped_queue_full: u64,
    /// Of `dropped`: the payload did not fit in what was left of
    /// [`Config::queue_bytes`](super::Config::queue_bytes).
    pub dropped_over_budget: u64,
    /// Events the sink stored.
    pub written: u64,
    /// Sink calls (batches) that failed: error, panic or timeout. A batch
    /// that found the sink still busy with an earlier call went to the
    /// fallback without calling it: it is in `fallen_back`, not here (see
    /// [`breaker`](crate::delivery::breaker)).
    pub failed_writes: u64,
    /// Events written to the fallback writer instead of the sink.
    pub fallen_back: u64,
    /// Events queued or being processed.
    pub pending: u64,
    /// In-band notices of dropped events sent.
    pub drop_notices: u64,
    /// Events in which the sanitizer changed something.
    pub redacted_events: u64,
    /// Panics caught in code the application supplied: the sink (its
    /// `write_batch`, the future's poll and its drop; a panicking call is
    /// also in `failed_writes`), the fallback writer and the diagnostics
    /// writer; also a panic while preparing one event (a bug, the event is
    /// dropped and counted). None of them stops the pipeline.
    pub panics: u64,
    /// The payload bytes (estimated) that queued events hold now.
    pub queued_bytes: u64,
    /// The most payload bytes queued events may hold
    /// ([`Config::queue_bytes`](super::Config::queue_bytes)).
    pub queue_byte_budget: u64,
    /// The circuit breaker's current state.
    pub breaker_state: BreakerState,
    /// How often the breaker entered each state.
    pub breaker_transitions: Transitions,
    /// Each sink's own accounting, in the order they were configured (see
    /// [`Config::add_sink`](super::Config::add_sink)).
    pub sinks: Vec<SinkStats>,
}

/// One sink's accounting (see [`Stats::sinks`]). Every event the pipeline
/// handed to the sink is in `written`, `fallen_back` or `dropped`, or still
/// `pending`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SinkStats {
    /// The sink's [`name`](crate::delivery::sink::Sink::name).
    pub name: String,
    /// Events handed to this sink (the application's; the pipeline's own
    /// drop notices are not counted).
    pub received: u64,
    /// Events this sink stored.
    pub written: u64,
    /// Calls to this sink that failed: error, panic or timeout.
    pub failed_writes: u64,
    /// Events written to the fallback because this sink did not take them
    /// (failed, breaker open, or still busy with an earlier batch).
    pub fallen_back: u64,
    /// Events this sink did not take that the fallback did not take either
    /// (it failed, or the sink was added without one, see
    /// [`SinkOptions::fallback`](super::SinkOptions::fallback)).
    pub dropped: u64,
    /// Events on their way to this sink.
    pub pending: u64,
    /// Items the sink's destination took the batch without (a partial
    /// success, reported by the sink through
    /// [`scope::report_rejected`](crate::delivery::sink::scope::report_rejected));
    /// their events are still counted in `written`.
    pub rejected: u64,
    /// This sink's circuit breaker's current state.
    pub breaker_state: BreakerState,
    /// How often this sink's breaker entered each state.
    pub breaker_transitions: Transitions,
}
