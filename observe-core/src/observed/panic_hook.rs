//! A chained panic hook that remembers the last panic's message (and, inside
//! an observed call, its backtrace) for the `error_occurred` event of the
//! span the panic unwinds through. The previous hook still runs, so panics
//! print and behave exactly as before.

use std::cell::RefCell;
use std::sync::Once;

use crate::Timestamp;
use crate::stack::CapturedStack;

/// What the hook saw of the panic unwinding on this thread.
pub struct PanicCapture {
    /// The panic message with its location.
    pub message: String,
    /// When the panic started (the span's duration ends here).
    pub at: Timestamp,
    /// The stack at the panic, for the first span that asks.
    pub stack: Option<CapturedStack>,
}

thread_local! {
    static LAST_PANIC: RefCell<Option<PanicCapture>> = const { RefCell::new(None) };
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
            let at = Timestamp::now();
            // A stack only where a span will report it.
            let stack = crate::context::current().map(|_| CapturedStack::capture());
            let _ = LAST_PANIC.try_with(|slot| {
                if let Ok(mut slot) = slot.try_borrow_mut() {
                    *slot = Some(PanicCapture { message, at, stack });
                }
            });
            previous(info);
        }));
    });
}

/// What the hook saw of the panic unwinding on this thread; the stack goes
/// to the first (innermost) span that asks. Without the hook (no `init`
/// yet) the message says so.
pub fn last_panic() -> PanicCapture {
    let unavailable = || PanicCapture {
        message: "panic (message unavailable: observe::init installs the panic hook)".to_owned(),
        at: Timestamp::now(),
        stack: None,
    };
    LAST_PANIC
        .try_with(|slot| match slot.try_borrow_mut().as_deref_mut() {
            Ok(Some(seen)) => PanicCapture {
                message: seen.message.clone(),
                at: seen.at,
                stack: seen.stack.take(),
            },
            _ => unavailable(),
        })
        .unwrap_or_else(|_| unavailable())
}
