//! The circuit breaker that guards the sink: after a run of failed writes it
//! stops trying for a while, then lets one probe batch through.
//!
//! The breaker is a plain state machine driven by the pipeline's worker; its
//! clock is injectable ([`Clock`], [`ManualClock`]) so every transition can be
//! stepped through in a test without sleeping.
//!
//! # What counts as a failure
//!
//! The breaker counts **sink calls that failed**: a call that returned an
//! error, panicked, or passed the write timeout. It does not count batches
//! that were never handed to the sink. The pipeline makes one sink call at a
//! time; when a call passes the write timeout the worker stops waiting for
//! it, but a sink that blocks its thread may still be inside it. A batch
//! that finds that call still running is not sent (it would only wait
//! behind it): it goes straight to the fallback and is counted in
//! `fallen_back`, never in `failed_writes`, and the breaker is not asked
//! and does not move. So one stall is one failure, however many batches
//! arrive while it lasts.
//!
//! A timeline, with a 100 ms write timeout, a threshold of 5 and a sink
//! whose first call blocks its thread for 1.5 s:
//!
//! | time | what happens | failures in a row | breaker |
//! |---|---|---|---|
//! | t = 0 | batch 1: the sink call starts and blocks its thread | 0 | closed |
//! | t = 100 ms | the write timeout passes; the blocked thread cannot run the timer, so the worker waits a short grace (250 ms) for an answer | 0 | closed |
//! | t = 350 ms | no answer: failure 1; batch 1 goes to the fallback | 1 | closed |
//! | t = 450 ms | batch 2 finds the call still running: fallback, not a failure | 1 | closed |
//! | t = 550 ms ... 1.5 s | batches 3, 4, ...: the same | 1 | closed |
//! | t = 1.5 s | the blocked call returns; its late answer is taken | 1 | closed |
//! | t = 1.55 s | the next batch: a new sink call, which succeeds | 0 | closed |
//!
//! Only five *calls* failing in a row open the breaker: five batches each
//! given to the sink and each failing or timing out.
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use observe::breaker::{BreakerState, CircuitBreaker, ManualClock, Permit};
//!
//! let clock = ManualClock::new();
//! let mut breaker = CircuitBreaker::new(5, Duration::from_secs(30), Arc::new(clock.clone()));
//! for _ in 0..4 {
//!     assert_eq!(breaker.on_failure(), None);
//! }
//! assert_eq!(breaker.state(), BreakerState::Closed); // four failures: still closed
//! breaker.on_failure(); // the fifth opens it
//! assert_eq!(breaker.permit(), Permit::Reject);
//!
//! clock.advance(Duration::from_secs(30));
//! assert_eq!(breaker.permit(), Permit::Probe); // half-open: one probe batch
//! breaker.on_success();
//! assert_eq!(breaker.state(), BreakerState::Closed);
//! ```

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

/// A source of monotonic time for the breaker.
pub trait Clock: Send + Sync + 'static {
    /// The current instant.
    fn now(&self) -> Instant;
}

/// The real monotonic clock ([`Instant::now`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that moves only when told to: for tests. Clones share one time.
///
/// ```
/// use std::time::Duration;
/// use observe::breaker::{Clock, ManualClock};
///
/// let clock = ManualClock::new();
/// let start = clock.now();
/// clock.clone().advance(Duration::from_secs(30));
/// assert_eq!(clock.now() - start, Duration::from_secs(30));
/// ```
#[derive(Clone, Debug)]
pub struct ManualClock {
    start: Instant,
    offset_nanos: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock standing at the moment it was made.
    pub fn new() -> ManualClock {
        ManualClock {
            start: Instant::now(),
            offset_nanos: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Moves the clock (and every clone of it) forward.
    pub fn advance(&self, by: Duration) {
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.offset_nanos.fetch_add(nanos, Ordering::SeqCst);
    }
}

impl Default for ManualClock {
    fn default() -> ManualClock {
        ManualClock::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + Duration::from_nanos(self.offset_nanos.load(Ordering::SeqCst))
    }
}

/// Where the breaker stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    /// Writes go to the sink.
    #[default]
    Closed,
    /// Writes are not attempted; batches go to the fallback.
    Open,
    /// The open duration has passed: the next batch is a probe.
    HalfOpen,
}

impl BreakerState {
    /// `closed`, `open` or `half_open`.
    pub const fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }

    pub(crate) const fn to_u8(self) -> u8 {
        match self {
            BreakerState::Closed => 0,
            BreakerState::Open => 1,
            BreakerState::HalfOpen => 2,
        }
    }

    pub(crate) const fn from_u8(value: u8) -> BreakerState {
        match value {
            1 => BreakerState::Open,
            2 => BreakerState::HalfOpen,
            _ => BreakerState::Closed,
        }
    }
}

impl fmt::Display for BreakerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the breaker allows for the next batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permit {
    /// Closed: write to the sink.
    Write,
    /// Half-open: write this one batch to the sink as a probe.
    Probe,
    /// Open: do not write; send the batch to the fallback.
    Reject,
}

/// A change of state, as reported by the breaker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transition {
    /// The state before.
    pub from: BreakerState,
    /// The state after.
    pub to: BreakerState,
}

/// How many times the breaker entered each state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Transitions {
    /// Times it opened (from closed or from a failed probe).
    pub opened: u64,
    /// Times it half-opened.
    pub half_opened: u64,
    /// Times it closed again after a successful probe.
    pub closed: u64,
}

/// Counts consecutive failed writes and decides whether the next batch may
/// go to the sink.
///
/// Closed: writes go through; the `threshold`-th consecutive failure opens
/// it (exactly: `threshold - 1` failures keep it closed). Open: every batch
/// is rejected until `open_for` has passed on the clock; then it is
/// half-open and [`permit`](CircuitBreaker::permit) returns one
/// [`Permit::Probe`]. The probe's success closes it, its failure opens it
/// for another `open_for`.
pub struct CircuitBreaker {
    threshold: u32,
    open_for: Duration,
    clock: Arc<dyn Clock>,
    state: BreakerState,
    consecutive_failures: u32,
    opened_at: Option<Instant>,
    probe_in_flight: bool,
    transitions: Transitions,
}

impl fmt::Debug for CircuitBreaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("threshold", &self.threshold)
            .field("open_for", &self.open_for)
            .field("state", &self.state)
            .field("consecutive_failures", &self.consecutive_failures)
            .field("transitions", &self.transitions)
            .finish_non_exhaustive()
    }
}

impl CircuitBreaker {
    /// A closed breaker that opens after `threshold` consecutive failures
    /// (at least 1) and stays open for `open_for`.
    pub fn new(threshold: u32, open_for: Duration, clock: Arc<dyn Clock>) -> CircuitBreaker {
        CircuitBreaker {
            threshold: threshold.max(1),
            open_for,
            clock,
            state: BreakerState::Closed,
            consecutive_failures: 0,
            opened_at: None,
            probe_in_flight: false,
            transitions: Transitions::default(),
        }
    }

    /// The current state (an open breaker whose time is up still reads
    /// `Open` until [`permit`](CircuitBreaker::permit) half-opens it).
    pub fn state(&self) -> BreakerState {
        self.state
    }

    /// Failures in a row since the last success.
    pub fn consecutive_failures(&self) -> u32 {
        self.consecutive_failures
    }

    /// How often each state was entered.
    pub fn transitions(&self) -> Transitions {
        self.transitions
    }

    /// Whether the next batch may be written. Half-opens an open breaker
    /// whose open duration has passed; the transition, if any, is returned
    /// by [`permit_with_transition`](CircuitBreaker::permit_with_transition).
    pub fn permit(&mut self) -> Permit {
        self.permit_with_transition().0
    }

    /// Like [`permit`](CircuitBreaker::permit), also returning the
    /// transition it made.
    pub fn permit_with_transition(&mut self) -> (Permit, Option<Transition>) {
        match self.state {
            BreakerState::Closed => (Permit::Write, None),
            BreakerState::HalfOpen if self.probe_in_flight => (Permit::Reject, None),
            BreakerState::HalfOpen => {
                self.probe_in_flight = true;
                (Permit::Probe, None)
            }
            BreakerState::Open => {
                let due = self.opened_at.is_none_or(|at| {
                    self.clock.now().saturating_duration_since(at) >= self.open_for
                });
                if !due {
                    return (Permit::Reject, None);
                }
                let transition = self.move_to(BreakerState::HalfOpen);
                self.probe_in_flight = true;
                (Permit::Probe, transition)
            }
        }
    }

    /// Records a successful write. Closes a half-open breaker.
    pub fn on_success(&mut self) -> Option<Transition> {
        self.consecutive_failures = 0;
        self.probe_in_flight = false;
        match self.state {
            BreakerState::Closed => None,
            // A success while open can only be a write let through before it
            // opened; it proves the sink works, so close as for a probe.
            BreakerState::HalfOpen | BreakerState::Open => self.move_to(BreakerState::Closed),
        }
    }

    /// Records a failed write. Opens the breaker on the threshold-th failure
    /// in a row, or on a failed probe.
    pub fn on_failure(&mut self) -> Option<Transition> {
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        self.probe_in_flight = false;
        match self.state {
            BreakerState::Closed if self.consecutive_failures >= self.threshold => self.open(),
            BreakerState::Closed | BreakerState::Open => None,
            BreakerState::HalfOpen => self.open(),
        }
    }

    fn open(&mut self) -> Option<Transition> {
        self.opened_at = Some(self.clock.now());
        self.move_to(BreakerState::Open)
    }

    fn move_to(&mut self, to: BreakerState) -> Option<Transition> {
        let from = self.state;
        if from == to {
            return None;
        }
        self.state = to;
        match to {
            BreakerState::Open => self.transitions.opened += 1,
            BreakerState::HalfOpen => self.transitions.half_opened += 1,
            BreakerState::Closed => self.transitions.closed += 1,
        }
        Some(Transition { from, to })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker() -> (CircuitBreaker, ManualClock) {
        let clock = ManualClock::new();
        let b = CircuitBreaker::new(5, Duration::from_secs(30), Arc::new(clock.clone()));
        (b, clock)
    }

    #[test]
    fn four_failures_keep_it_closed_the_fifth_opens_it() {
        let (mut b, _) = breaker();
        for _ in 0..4 {
            assert_eq!(b.permit(), Permit::Write);
            assert_eq!(b.on_failure(), None);
        }
        assert_eq!(b.state(), BreakerState::Closed);
        assert_eq!(
            b.on_failure(),
            Some(Transition {
                from: BreakerState::Closed,
                to: BreakerState::Open
            })
        );
        assert_eq!(b.permit(), Permit::Reject);
        assert_eq!(
            b.transitions(),
            Transitions {
                opened: 1,
                half_opened: 0,
                closed: 0
            }
        );
    }

    #[test]
    fn a_success_resets_the_count() {
        let (mut b, _) = breaker();
        for _ in 0..4 {
            b.on_failure();
        }
        b.on_success();
        for _ in 0..4 {
            b.on_failure();
        }
        assert_eq!(b.state(), BreakerState::Closed);
        b.on_failure();
        assert_eq!(b.state(), BreakerState::Open);
    }

    #[test]
    fn stays_open_until_the_open_duration_has_passed() {
        let (mut b, clock) = breaker();
        for _ in 0..5 {
            b.on_failure();
        }
        clock.advance(Duration::from_secs(29));
        assert_eq!(b.permit(), Permit::Reject);
        clock.advance(Duration::from_secs(1));
        let (permit, transition) = b.permit_with_transition();
        assert_eq!(permit, Permit::Probe);
        assert_eq!(
            transition,
            Some(Transition {
                from: BreakerState::Open,
                to: BreakerState::HalfOpen
            })
        );
        // Only one probe at a time.
        assert_eq!(b.permit(), Permit::Reject);
    }

    #[test]
    fn a_failed_probe_opens_it_again_for_the_full_duration() {
        let (mut b, clock) = breaker();
        for _ in 0..5 {
            b.on_failure();
        }
        clock.advance(Duration::from_secs(30));
        assert_eq!(b.permit(), Permit::Probe);
        assert_eq!(
            b.on_failure(),
            Some(Transition {
                from: BreakerState::HalfOpen,
                to: BreakerState::Open
            })
        );
        clock.advance(Duration::from_secs(29));
        assert_eq!(b.permit(), Permit::Reject);
        clock.advance(Duration::from_secs(1));
        assert_eq!(b.permit(), Permit::Probe);
        assert_eq!(
            b.on_success(),
            Some(Transition {
                from: BreakerState::HalfOpen,
                to: BreakerState::Closed
            })
        );
        assert_eq!(b.permit(), Permit::Write);
        assert_eq!(
            b.transitions(),
            Transitions {
                opened: 2,
                half_opened: 2,
                closed: 1
            }
        );
    }
}
