//! What an observed span reports about a panic that unwinds through it.
//!
//! The span catches the panic itself (`catch_unwind` in the wrappers), so it
//! always has the panic's own payload: the message comes from there, never
//! from some earlier panic. A chained panic hook adds what only the hook can
//! see (the location and the stack at the panic) and the span uses it only
//! when it belongs to this very panic: the hook records the payload's
//! message (text and address), and the span compares them with the payload
//! it caught. A panic re-raised with `resume_unwind` does not run the hook,
//! so a capture left by an earlier panic does not match and is not used;
//! if the application replaced the hook after `init`, there is no capture
//! and the event carries the message without location or stack.
//!
//! The previous hook still runs, so panics print and behave exactly as
//! before.

use std::any::Any;
use std::cell::RefCell;
use std::sync::Once;

use crate::Timestamp;
use crate::delivery::isolate::payload_text;
use crate::model::stack::CapturedStack;

/// The message used for a payload that is neither `&str` nor `String`.
const NON_STRING_PAYLOAD: &str = "panic with a non-string payload";

/// What a span reports about the panic it caught.
pub struct PanicReport {
    /// The panic message, with its location when the hook saw this panic.
    pub message: String,
    /// When the panic started (the span's duration ends here).
    pub at: Timestamp,
    /// The stack at the panic, for the innermost span the panic unwinds
    /// through (when the hook saw this panic inside a context).
    pub stack: Option<CapturedStack>,
}

/// What the hook saw of the latest panic on this thread.
struct HookCapture {
    /// The payload's message (the key that ties the capture to its panic).
    message: String,
    /// The address of the payload's message text; the caught payload holds
    /// the same text at the same address.
    address: usize,
    /// `file:line` of the panic, the path made relative as in stacks.
    location: Option<String>,
    at: Timestamp,
    stack: Option<CapturedStack>,
}

thread_local! {
    static LAST_HOOK_CAPTURE: RefCell<Option<HookCapture>> = const { RefCell::new(None) };
}

/// Installs the hook once per process, keeping whatever hook was set before
/// (called by `observe::init`).
pub fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            record(info.payload(), info.location());
            previous(info);
        }));
    });
}

/// The hook's part: remembers this panic's message, location, time and
/// (inside a context, where a span will report it) stack.
fn record(payload: &(dyn Any + Send), location: Option<&std::panic::Location<'_>>) {
    let Some(text) = payload_text(payload) else {
        return;
    };
    let at = Timestamp::now();
    let stack = if crate::model::context::current().is_some() {
        Some(CapturedStack::capture())
    } else {
        None
    };
    let capture = HookCapture {
        message: text.to_owned(),
        address: text.as_ptr() as usize,
        location: location.map(|at| {
            let file = crate::model::stack::relative_path(std::path::Path::new(at.file()));
            format!("{file}:{}", at.line())
        }),
        at,
        stack,
    };
    let _ = LAST_HOOK_CAPTURE.try_with(|slot| {
        if let Ok(mut slot) = slot.try_borrow_mut() {
            *slot = Some(capture);
        }
    });
}

/// What a span reports for the panic whose payload it caught: the payload's
/// message, plus the location, time and stack the hook recorded if (and
/// only if) the hook's latest capture on this thread is of this payload.
/// The stack is handed out once (to the innermost span); outer spans the
/// same panic unwinds through still get the location.
pub fn report(payload: &(dyn Any + Send)) -> PanicReport {
    let Some(text) = payload_text(payload) else {
        return PanicReport {
            message: NON_STRING_PAYLOAD.to_owned(),
            at: Timestamp::now(),
            stack: None,
        };
    };
    let from_hook = LAST_HOOK_CAPTURE
        .try_with(|slot| {
            let mut slot = slot.try_borrow_mut().ok()?;
            let seen = slot.as_mut()?;
            let same = seen.address == text.as_ptr() as usize && seen.message == text;
            same.then(|| (seen.location.clone(), seen.at, seen.stack.take()))
        })
        .ok()
        .flatten();
    match from_hook {
        Some((location, at, stack)) => PanicReport {
            message: match location {
                Some(location) => format!("{text} (at {location})"),
                None => text.to_owned(),
            },
            at,
            stack,
        },
        None => PanicReport {
            message: text.to_owned(),
            at: Timestamp::now(),
            stack: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caught(f: impl FnOnce() + std::panic::UnwindSafe) -> Box<dyn Any + Send> {
        std::panic::catch_unwind(f).expect_err("panics")
    }

    #[test]
    fn a_capture_is_used_only_for_its_own_payload() {
        install();
        let first = caught(|| panic!("first {}", 1));
        // A payload made elsewhere, with the same text: not the hook's.
        let resumed: Box<dyn Any + Send> = Box::new(String::from("first 1"));
        let report_resumed = report(&*resumed);
        assert_eq!(report_resumed.message, "first 1");
        assert!(report_resumed.stack.is_none());
        let own = report(&*first);
        assert!(own.message.starts_with("first 1 (at "), "{}", own.message);
        assert!(own.message.contains("panic_hook.rs:"), "{}", own.message);
    }

    #[test]
    fn non_string_payloads_are_named_as_such() {
        install();
        let payload = caught(|| std::panic::panic_any(42_u32));
        assert_eq!(report(&*payload).message, NON_STRING_PAYLOAD);
    }
}
