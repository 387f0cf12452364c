//! What a sink may ask about the write it is in: its deadline, and a way to
//! report events the destination accepted the batch without (a partial
//! success).
//!
//! The pipeline runs each write on the sink's own writer thread and sets
//! this scope around it, so a sink can fit its retries into the write
//! timeout instead of being cut off by it, and an exporter whose receiver
//! took the batch but rejected some of its items can say so without
//! failing the whole write.
//!
//! ```
//! use observe::Event;
//! use observe::sink::{Sink, SinkError, scope};
//!
//! struct Picky;
//!
//! impl Sink for Picky {
//!     async fn write_batch(&self, batch: &[Event]) -> Result<(), SinkError> {
//!         if let Some(deadline) = scope::deadline() {
//!             // ... give up on retrying once `deadline` is near ...
//!             let _ = deadline;
//!         }
//!         let odd = batch.iter().filter(|e| e.span_id.get() % 2 == 1).count();
//!         scope::report_rejected(odd as u64, "odd span ids are not welcome");
//!         Ok(())
//!     }
//! }
//! ```

use std::cell::RefCell;
use std::time::Instant;

/// Most rejection messages kept per write (the count is always exact).
const MAX_MESSAGES: usize = 4;

/// The state of the write in progress on this thread.
#[derive(Debug, Default)]
pub(crate) struct WriteScope {
    pub(crate) deadline: Option<Instant>,
    pub(crate) rejected: u64,
    pub(crate) messages: Vec<String>,
}

thread_local! {
    static CURRENT: RefCell<Option<WriteScope>> = const { RefCell::new(None) };
}

/// When the write in progress on this thread must be done: the write
/// timeout from when it began, or sooner while the pipeline shuts down.
/// `None` outside a pipeline write (a sink called directly, in a test).
pub fn deadline() -> Option<Instant> {
    CURRENT.with(|c| c.borrow().as_ref().and_then(|s| s.deadline))
}

/// Reports that the destination took the batch but rejected `count` of
/// its items, and why. The pipeline adds the count to the sink's
/// [`SinkStats::rejected`](crate::delivery::pipeline::SinkStats::rejected)
/// and writes the reason on its diagnostics; the write itself still counts
/// as written. Does nothing outside a pipeline write or when `count` is 0.
pub fn report_rejected(count: u64, reason: impl std::fmt::Display) {
    if count == 0 {
        return;
    }
    CURRENT.with(|c| {
        if let Some(scope) = c.borrow_mut().as_mut() {
            scope.rejected = scope.rejected.saturating_add(count);
            if scope.messages.len() < MAX_MESSAGES {
                scope.messages.push(reason.to_string());
            }
        }
    });
}

/// Runs `f` inside a fresh scope with `deadline`; returns its result and
/// what was reported.
pub(crate) fn within<T>(deadline: Instant, f: impl FnOnce() -> T) -> (T, WriteScope) {
    let previous = CURRENT.with(|c| {
        c.borrow_mut().replace(WriteScope {
            deadline: Some(deadline),
            ..WriteScope::default()
        })
    });
    let result = f();
    let scope = CURRENT.with(|c| std::mem::replace(&mut *c.borrow_mut(), previous));
    (result, scope.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn reports_are_kept_inside_a_scope_and_ignored_outside() {
        report_rejected(3, "outside");
        assert_eq!(deadline(), None);
        let when = Instant::now() + Duration::from_secs(1);
        let ((), scope) = within(when, || {
            assert_eq!(deadline(), Some(when));
            report_rejected(2, "two bad");
            report_rejected(0, "ignored");
            report_rejected(5, "five bad");
        });
        assert_eq!(scope.rejected, 7);
        assert_eq!(scope.messages, ["two bad", "five bad"]);
        assert_eq!(deadline(), None);
    }
}
