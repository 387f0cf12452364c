//! A chained panic hook that remembers the last panic's message (and, inside
//! an observed call, its backtrace) for the `error_occurred` event of the
//! span the panic unwinds through. The previous hook still runs, so panics
//! print and behave exactly as before.

use std::backtrace::Backtrace;
use std::cell::RefCell;
use std::sync::Once;

thread_local! {
    static LAST_PANIC: RefCell<Option<(String, Option<Backtrace>)>> = const { RefCell::new(None) };
}

/// Installs the hook once per process, keeping whatever hook was set before
/// (called by `observe::init`).
pub fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("panic with a non-string payload");
            let message = match info.location() {
                Some(at) => format!("{message} (at {}:{})", at.file(), at.line()),
                None => message.to_owned(),
            };
            // A backtrace only where a span will report it.
            let backtrace = crate::context::current().map(|_| Backtrace::force_capture());
            let _ = LAST_PANIC.try_with(|slot| {
                if let Ok(mut slot) = slot.try_borrow_mut() {
                    *slot = Some((message, backtrace));
                }
            });
            previous(info);
        }));
    });
}

/// The message of the panic unwinding on this thread, and its backtrace for
/// the first (innermost) span that asks. Without the hook the message says
/// so.
pub fn last_panic() -> (String, Option<Backtrace>) {
    LAST_PANIC
        .try_with(|slot| match slot.try_borrow_mut().as_deref_mut() {
            Ok(Some((message, backtrace))) => (message.clone(), backtrace.take()),
            _ => (
                "panic (message unavailable: observe::init installs the panic hook)".to_owned(),
                None,
            ),
        })
        .unwrap_or_else(|_| ("panic".to_owned(), None))
}
