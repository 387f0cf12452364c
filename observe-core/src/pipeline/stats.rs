//! Counters of the pipeline and their public snapshot, [`Stats`].

use std::sync::atomic::{AtomicU8, AtomicU64, Ordering::Relaxed};

use serde::Serialize;

use crate::breaker::{BreakerState, Transitions};

/// The live counters, shared by emitters, the worker and `stats()`.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Rejected by the full queue (bumped on the hot path).
    pub(crate) dropped_full: AtomicU64,
    /// Taken off the queue by the worker (or by shutdown).
    pub(crate) accepted: AtomicU64,
    /// Accepted but lost: the fallback writer failed, or shutdown found them
    /// after the worker had finished.
    pub(crate) dropped_late: AtomicU64,
    pub(crate) written: AtomicU64,
    pub(crate) failed_writes: AtomicU64,
    pub(crate) fallen_back: AtomicU64,
    pub(crate) drop_notices: AtomicU64,
    pub(crate) redacted_events: AtomicU64,
    pub(crate) breaker_state: AtomicU8,
    pub(crate) opened: AtomicU64,
    pub(crate) half_opened: AtomicU64,
    pub(crate) closed: AtomicU64,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Relaxed);
    }

    pub(crate) fn dropped(&self) -> u64 {
        self.dropped_full.load(Relaxed) + self.dropped_late.load(Relaxed)
    }

    pub(crate) fn snapshot(&self, queued: usize) -> Stats {
        // Read the outcomes before `accepted`, so that `pending` never reads
        // below zero while the worker is busy.
        let written = self.written.load(Relaxed);
        let fallen_back = self.fallen_back.load(Relaxed);
        let dropped_late = self.dropped_late.load(Relaxed);
        let accepted = self.accepted.load(Relaxed);
        let dropped_full = self.dropped_full.load(Relaxed);
        let in_worker = accepted.saturating_sub(written + fallen_back + dropped_late);
        let pending = in_worker + queued as u64;
        Stats {
            emitted: dropped_full + accepted + queued as u64,
            dropped: dropped_full + dropped_late,
            written,
            failed_writes: self.failed_writes.load(Relaxed),
            fallen_back,
            pending,
            drop_notices: self.drop_notices.load(Relaxed),
            redacted_events: self.redacted_events.load(Relaxed),
            breaker_state: BreakerState::from_u8(self.breaker_state.load(Relaxed)),
            breaker_transitions: Transitions {
                opened: self.opened.load(Relaxed),
                half_opened: self.half_opened.load(Relaxed),
                closed: self.closed.load(Relaxed),
            },
        }
    }
}

/// A snapshot of the pipeline's totals since [`init`](super::init).
///
/// Every emitted event ends up in exactly one of `written`, `fallen_back`
/// and `dropped`, or is still `pending`:
/// `emitted == written + fallen_back + dropped + pending`. After a completed
/// [`flush`](super::flush) with no emitter running, `pending` is 0. The
/// counters are read one by one, so a snapshot taken while events flow may
/// be off by the events in motion.
///
/// The pipeline's own drop notices are counted in `drop_notices` only, not
/// in `emitted`, `written` or `fallen_back`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Events handed to the pipeline (accepted or dropped).
    pub emitted: u64,
    /// Events lost, counted: the queue was full, or (rarely) the fallback
    /// writer failed too.
    pub dropped: u64,
    /// Events the sink stored.
    pub written: u64,
    /// Sink writes (batches) that failed: error, panic or timeout.
    pub failed_writes: u64,
    /// Events written to the fallback writer instead of the sink.
    pub fallen_back: u64,
    /// Events queued or being processed.
    pub pending: u64,
    /// In-band notices of dropped events sent.
    pub drop_notices: u64,
    /// Events in which the sanitizer changed something.
    pub redacted_events: u64,
    /// The circuit breaker's current state.
    pub breaker_state: BreakerState,
    /// How often the breaker entered each state.
    pub breaker_transitions: Transitions,
}
