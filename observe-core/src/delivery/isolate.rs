//! Running code the application supplied (a sink, a fallback or diagnostics
//! writer) so that its panic is caught and turned into a message, never
//! unwound into the pipeline's threads; and what a panic's payload says,
//! for every part of the crate that catches one.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Runs `f`; a panic becomes `Err` with its message.
///
/// `AssertUnwindSafe`: after a panic the pipeline never looks at what `f`
/// was in the middle of, except the user's own object, which it either
/// keeps calling (a sink, a fallback writer: each call stands alone) or
/// stops using (the diagnostics writer).
pub(crate) fn isolate<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(panic_message)
}

/// The message of a caught panic. The payload is dropped inside
/// `catch_unwind` too (a payload's own `Drop` may panic; then it is leaked).
pub(crate) fn panic_message(panic: Box<dyn Any + Send>) -> String {
    let message = payload_text(&*panic)
        .unwrap_or("a panic with a non-string payload")
        .to_owned();
    if let Err(again) = catch_unwind(AssertUnwindSafe(move || drop(panic))) {
        std::mem::forget(again);
    }
    message
}

/// The text of a panic payload, if it is a string (`panic!` always makes
/// one: a `&'static str` or a `String`).
pub(crate) fn payload_text(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&'static str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct PanicsOnDrop;

    impl Drop for PanicsOnDrop {
        fn drop(&mut self) {
            panic!("the payload's drop panicked");
        }
    }

    #[test]
    fn panics_become_messages_even_with_a_payload_that_panics_on_drop() {
        assert_eq!(isolate(|| 7), Ok(7));
        assert_eq!(
            isolate(|| panic!("boom {}", 1)),
            Err::<(), _>("boom 1".to_owned())
        );
        let odd = isolate(|| std::panic::panic_any(PanicsOnDrop));
        assert_eq!(
            odd,
            Err::<(), _>("a panic with a non-string payload".to_owned())
        );
    }
}
