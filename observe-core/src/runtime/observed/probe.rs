//! Telling, at the call site, how a call ended and what its input looks like.
//!
//! The expansion calls `(&Probe(&output)).observe_terminal(..)`: method
//! resolution picks [`ErrTerminal`] when the output is a `Result` (of any
//! alias or path) and falls back to [`OkTerminal`] for every other type.
//! The same trick picks `Display` over `Debug` for an input preview.

use std::convert::Infallible;
use std::fmt;

use crate::Timestamp;
use crate::model::stack::CapturedStack;
use crate::runtime::emit::text;

/// How an observed call that returned ended, as the call site saw it
/// (panics and cancellation are seen by the span, not the call site).
#[derive(Debug)]
pub enum Returned {
    /// Normal return (`Ok` for a `Result`), or an `Err` of a span that does
    /// not record (nothing was captured of it).
    Ok,
    /// An `Err`, with its type name, message and where it was seen.
    Error(Box<ErrorCapture>),
}

/// An error as captured at the call site.
#[derive(Debug)]
pub struct ErrorCapture {
    /// `std::any::type_name` of the error type.
    pub type_name: &'static str,
    /// The error's message (`Display` or `Debug`), not yet sanitized.
    pub message: String,
    /// When the call returned it (before the stack was captured, so the
    /// capture does not count in the call's duration).
    pub at: Timestamp,
    /// Where the error was seen; resolved on the worker.
    pub stack: CapturedStack,
}

/// Wraps a call's output for classification.
pub struct Probe<'a, T>(pub &'a T);

/// Classifies a `Result`: `Err` is an error, `Ok` a normal return.
pub trait ErrTerminal<E> {
    /// How the call returned; `describe` turns the error into its message.
    /// Only a `recording` span pays for an error's message and stack.
    fn observe_terminal(&self, recording: bool, describe: impl FnOnce(&E) -> String) -> Returned;
}

impl<T, E> ErrTerminal<E> for Probe<'_, Result<T, E>> {
    fn observe_terminal(&self, recording: bool, describe: impl FnOnce(&E) -> String) -> Returned {
        match self.0 {
            Err(error) if recording => {
                let at = Timestamp::now();
                Returned::Error(Box::new(ErrorCapture {
                    type_name: std::any::type_name::<E>(),
                    message: describe(error),
                    at,
                    stack: CapturedStack::capture(),
                }))
            }
            _ => Returned::Ok,
        }
    }
}

/// Classifies any other output as a normal return.
pub trait OkTerminal {
    /// Always [`Returned::Ok`]; `describe` is never called.
    fn observe_terminal(
        &self,
        recording: bool,
        describe: impl FnOnce(&Infallible) -> String,
    ) -> Returned;
}

impl<T> OkTerminal for &Probe<'_, T> {
    fn observe_terminal(&self, _: bool, _: impl FnOnce(&Infallible) -> String) -> Returned {
        Returned::Ok
    }
}

/// An error's message through `Display` (the default `err(Display)`).
#[diagnostic::on_unimplemented(
    message = "the error type `{Self}` does not implement `Display`, which #[observed] uses for the error message",
    label = "this error type has no `Display`",
    note = "implement `std::fmt::Display` for it, or write `#[observed(err(Debug), ...)]` to use `Debug`"
)]
// Hidden, with its blanket impl, from the page of every `Display` type.
#[doc(hidden)]
pub trait DisplayMessage {
    /// The message.
    fn observe_message(&self) -> String;
}

impl<T: fmt::Display + ?Sized> DisplayMessage for T {
    fn observe_message(&self) -> String {
        self.to_string()
    }
}

/// An error's message through `Debug` (`err(Debug)`).
#[diagnostic::on_unimplemented(
    message = "the error type `{Self}` does not implement `Debug`, which `err(Debug)` uses for the error message",
    label = "this error type has no `Debug`",
    note = "derive `Debug` for it, or drop `err(Debug)` to use `Display`"
)]
#[doc(hidden)]
pub trait DebugMessage {
    /// The message.
    fn observe_message(&self) -> String;
}

impl<T: fmt::Debug + ?Sized> DebugMessage for T {
    fn observe_message(&self) -> String {
        format!("{self:?}")
    }
}

/// Most bytes of an input captured on the caller's thread; the worker
/// sanitizes what was captured and cuts it to 100 characters.
pub const MAX_CAPTURED_INPUT_BYTES: usize = 16 * 1024;

/// Wraps an input expression for a preview.
pub struct PreviewProbe<'a, T: ?Sized>(pub &'a T);

/// Previews an input through `Display` (preferred).
pub trait DisplayPreview {
    /// The input's text, at most [`MAX_CAPTURED_INPUT_BYTES`](crate::runtime::observed::MAX_CAPTURED_INPUT_BYTES).
    fn observe_preview(&self) -> String;
}

impl<T: fmt::Display + ?Sized> DisplayPreview for PreviewProbe<'_, T> {
    fn observe_preview(&self) -> String {
        text::prefix(format_args!("{}", self.0), MAX_CAPTURED_INPUT_BYTES)
    }
}

/// Previews an input through `Debug`, when it has no `Display`.
pub trait DebugPreview {
    /// The input's text, at most [`MAX_CAPTURED_INPUT_BYTES`](crate::runtime::observed::MAX_CAPTURED_INPUT_BYTES).
    fn observe_preview(&self) -> String;
}

impl<T: fmt::Debug + ?Sized> DebugPreview for &PreviewProbe<'_, T> {
    fn observe_preview(&self) -> String {
        text::prefix(format_args!("{:?}", self.0), MAX_CAPTURED_INPUT_BYTES)
    }
}

/// Wraps a call's output for `ret`: the value to record is the `Ok` value
/// of a `Result` and the whole output otherwise (the same autoref choice
/// as [`Probe`]).
pub struct ReturnProbe<'a, T>(pub &'a T);

/// Most bytes of a returned value's `Debug` text (`ret(Debug)`), taken on
/// the caller's thread; the worker sanitizes and limits the payload.
pub const MAX_RETURN_TEXT_BYTES: usize = 4 * 1024;

/// `ret` for a `Result`: its `Ok` value, as JSON; nothing for an `Err`.
pub trait OkReturn {
    /// The value to record, if any.
    fn observe_return(&self) -> Option<serde_json::Value>;
}

impl<T: serde::Serialize, E> OkReturn for ReturnProbe<'_, Result<T, E>> {
    fn observe_return(&self) -> Option<serde_json::Value> {
        self.0.as_ref().ok().map(crate::runtime::emit::to_payload)
    }
}

/// `ret` for any other output: the whole value, as JSON.
#[diagnostic::on_unimplemented(
    message = "`ret` records the returned value through `Serialize`, which `{Self}` does not implement",
    note = "implement or derive `serde::Serialize` for it, or write `ret(Debug)`"
)]
pub trait PlainReturn {
    /// The value to record.
    fn observe_return(&self) -> Option<serde_json::Value>;
}

impl<T: serde::Serialize> PlainReturn for &ReturnProbe<'_, T> {
    fn observe_return(&self) -> Option<serde_json::Value> {
        Some(crate::runtime::emit::to_payload(self.0))
    }
}

/// `ret(Debug)` for a `Result`: its `Ok` value's `Debug` text.
pub trait OkReturnDebug {
    /// The value to record, if any.
    fn observe_return_debug(&self) -> Option<serde_json::Value>;
}

impl<T: fmt::Debug, E> OkReturnDebug for ReturnProbe<'_, Result<T, E>> {
    fn observe_return_debug(&self) -> Option<serde_json::Value> {
        let ok = self.0.as_ref().ok()?;
        Some(
            text::formatted(format_args!("{ok:?}"), MAX_RETURN_TEXT_BYTES)
                .0
                .into(),
        )
    }
}

/// `ret(Debug)` for any other output: the whole value's `Debug` text.
pub trait PlainReturnDebug {
    /// The value to record.
    fn observe_return_debug(&self) -> Option<serde_json::Value>;
}

impl<T: fmt::Debug> PlainReturnDebug for &ReturnProbe<'_, T> {
    fn observe_return_debug(&self) -> Option<serde_json::Value> {
        Some(
            text::formatted(format_args!("{:?}", self.0), MAX_RETURN_TEXT_BYTES)
                .0
                .into(),
        )
    }
}

/// Records what `ret` took as the current span's `return` field.
pub fn record_return(value: Option<serde_json::Value>) {
    if let (Some(value), Some(context)) = (value, crate::model::context::current()) {
        crate::runtime::recorded::record_value(context.span_id, "return", value);
    }
}

/// A type name without module paths: `chat::db::QueryError` becomes
/// `QueryError`, `alloc::boxed::Box<dyn core::error::Error>` becomes
/// `Box<dyn Error>`.
pub fn short_type_name(full: &str) -> String {
    let mut out = String::with_capacity(full.len());
    let mut word_start = 0;
    for (i, c) in full.char_indices() {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            continue;
        }
        push_last_segment(&mut out, &full[word_start..i]);
        out.push(c);
        word_start = i + c.len_utf8();
    }
    push_last_segment(&mut out, &full[word_start..]);
    out
}

fn push_last_segment(out: &mut String, path: &str) {
    out.push_str(path.rsplit("::").next().unwrap_or(path));
}

#[cfg(test)]
// The borrows are how the expansion calls the probes: they select the impl.
#[allow(clippy::needless_borrow)]
mod tests {
    use super::*;

    #[test]
    fn shortens_type_names() {
        assert_eq!(short_type_name("chat::db::QueryError"), "QueryError");
        assert_eq!(
            short_type_name("alloc::boxed::Box<dyn core::error::Error + core::marker::Send>"),
            "Box<dyn Error + Send>"
        );
        assert_eq!(
            short_type_name("(u8, std::io::error::Error)"),
            "(u8, Error)"
        );
    }

    #[test]
    fn classifies_results_and_other_values() {
        let ok: Result<u8, String> = Ok(1);
        assert!(matches!(
            (&Probe(&ok)).observe_terminal(true, |e| e.clone()),
            Returned::Ok
        ));
        let err: Result<u8, String> = Err("boom".into());
        assert!(
            matches!(
                (&Probe(&err)).observe_terminal(false, |e| e.clone()),
                Returned::Ok
            ),
            "nothing is captured for a span that does not record"
        );
        match (&Probe(&err)).observe_terminal(true, |e| e.clone()) {
            Returned::Error(e) => {
                assert_eq!(e.message, "boom");
                assert_eq!(e.type_name, "alloc::string::String");
            }
            other => panic!("{other:?}"),
        }
        let plain = 5_u32;
        assert!(matches!(
            (&Probe(&plain)).observe_terminal(true, |e| e.to_string()),
            Returned::Ok
        ));
    }

    #[test]
    fn previews_prefer_display_and_cap_the_capture() {
        struct OnlyDebug;
        impl fmt::Debug for OnlyDebug {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("OnlyDebug!")
            }
        }
        assert_eq!((&PreviewProbe(&"a query")).observe_preview(), "a query");
        assert_eq!((&PreviewProbe(&OnlyDebug)).observe_preview(), "OnlyDebug!");
        let long = "é".repeat(MAX_CAPTURED_INPUT_BYTES);
        let preview = (&PreviewProbe(&long)).observe_preview();
        assert!(
            preview.len() <= MAX_CAPTURED_INPUT_BYTES
                && preview.len() > MAX_CAPTURED_INPUT_BYTES - 4
        );
    }
}
