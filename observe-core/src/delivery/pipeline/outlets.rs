//! Where the pipeline's lanes and worker send what a sink did not take (the
//! fallback writer) and what went wrong (the diagnostics writer): both
//! shared by every sink's lane, each behind its own lock.

use std::io::Write;
use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::diagnostics::{Diagnostics, Once};
use super::stats::{Counters, LaneCounters};
use crate::Event;
use crate::delivery::isolate::isolate;

/// The fallback writer with its reusable line buffer.
struct Fallback {
    out: Box<dyn Write + Send>,
    line: Vec<u8>,
}

/// The fallback and diagnostics writers, shared by the worker and lanes.
pub(crate) struct Outlets {
    fallback: Mutex<Fallback>,
    diagnostics: Mutex<Diagnostics>,
    panics: &'static AtomicU64,
}

impl Outlets {
    pub(crate) fn new(
        fallback: Box<dyn Write + Send>,
        diagnostics: Diagnostics,
        panics: &'static AtomicU64,
    ) -> Outlets {
        Outlets {
            fallback: Mutex::new(Fallback {
                out: fallback,
                line: Vec::with_capacity(1024),
            }),
            diagnostics: Mutex::new(diagnostics),
            panics,
        }
    }

    /// The diagnostics writer (a panic in it never poisons anything: it
    /// is caught inside).
    pub(crate) fn diagnostics(&self) -> MutexGuard<'_, Diagnostics> {
        self.diagnostics
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Deals with a batch a sink did not take: to the fallback, counted in
    /// the sink's `fallen_back`, or, if the fallback fails or the sink has
    /// none, counted in its `dropped`. `user` is how many of the events are
    /// the application's.
    pub(crate) fn set_aside(
        &self,
        batch: &[Event],
        user: u64,
        lane: &LaneCounters,
        use_fallback: bool,
    ) {
        if !use_fallback {
            Counters::add(&lane.dropped, user);
            return;
        }
        match self.write_fallback(batch) {
            Ok(()) => Counters::add(&lane.fallen_back, user),
            Err(error) => {
                Counters::add(&lane.dropped, user);
                self.diagnostics().once(
                    Once::FallbackFailed,
                    format_args!(
                        "the fallback writer failed ({error}); {user} events dropped and counted"
                    ),
                );
            }
        }
    }

    /// Writes the batch as JSON lines to the fallback writer; its panic is
    /// caught and counted.
    fn write_fallback(&self, batch: &[Event]) -> Result<(), String> {
        let mut guard = self.fallback.lock().unwrap_or_else(PoisonError::into_inner);
        let Fallback { out, line } = &mut *guard;
        line.clear();
        crate::delivery::sink::write_json_lines(line, batch).map_err(|e| e.to_string())?;
        match isolate(|| out.write_all(line).and_then(|()| out.flush())) {
            Ok(written) => written.map_err(|e| e.to_string()),
            Err(panic) => {
                Counters::add(self.panics, 1);
                Err(format!("it panicked: {panic}"))
            }
        }
    }
}
