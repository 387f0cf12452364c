//! The runtime behind `#[observed]`: one [`SpanGuard`] per call, which
//! emits the started event, then exactly one terminal event (complete,
//! error, panic or cancelled), whatever way the call ends.
//!
//! The macro's expansion calls [`observe_sync`] or [`observe_async`] with a
//! static [`CallSite`] and the body as a closure that is handed the span.
//! The body captures what only the call site can (the `input = ...`
//! preview, the error's message and stack) through the span, so the runtime
//! decides what a call pays: with no pipeline installed, an observed call
//! costs a child context and nothing more. Nothing here is meant to be
//! called by hand, though it is public (through `observe::__private`) for
//! the generated code.

mod probe;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

pub use probe::{
    DebugMessage, DebugPreview, DisplayMessage, DisplayPreview, ErrTerminal, ErrorCapture,
    MAX_CAPTURED_INPUT_BYTES, MAX_RETURN_TEXT_BYTES, OkReturn, OkReturnDebug, OkTerminal,
    PlainReturn, PlainReturnDebug, PreviewProbe, Probe, ReturnProbe, Returned, record_return,
};

use crate::model::context::WithContext;
use crate::model::registry::Processor;
use crate::runtime::span::{SpanGuard, SpanKind, Terminal};
use crate::{CorrelationContext, FutureExt, Outcome};

/// What the macro knows about one instrumented function, as a static item.
#[derive(Debug)]
pub struct CallSite {
    /// The events its spans emit (from the registered processor).
    pub kind: SpanKind,
    /// The operation's name (the function's, or `name = "..."`).
    pub name: &'static str,
    /// `module_path!()` of the function.
    pub module_path: &'static str,
}

impl CallSite {
    /// The call site of a function instrumented as `processor`.
    pub const fn new(
        processor: &'static Processor,
        name: &'static str,
        module_path: &'static str,
    ) -> CallSite {
        CallSite {
            kind: SpanKind::of(processor),
            name,
            module_path,
        }
    }
}

/// Ends `span` the way its call returned.
fn end_returned(span: &mut SpanGuard, returned: Returned) {
    match returned {
        Returned::Ok => span.end(Outcome::Ok, || Terminal::Bare),
        Returned::Error(error) => {
            let ErrorCapture {
                type_name,
                message,
                at,
                stack,
            } = *error;
            span.end_at(Outcome::Error, at, || Terminal::Error {
                error_type: probe::short_type_name(type_name),
                error_message: message,
                stack: Some(stack),
                fields: Vec::new(),
            });
        }
    }
}

/// Runs a synchronous body as one observed call.
///
/// `body` is handed the call's span (for the input preview and to ask
/// whether the span records) and returns the function's output and how it
/// [`Returned`] (classified by the expansion, where the output's type is
/// known). A panic in the body is caught, reported as `error_occurred` with
/// outcome `panic` and the panic's own message, and re-raised with its
/// original payload.
pub fn observe_sync<T>(
    call: &'static CallSite,
    body: impl FnOnce(&mut SpanGuard) -> (T, Returned),
) -> T {
    let mut span = SpanGuard::start(&call.kind, CorrelationContext::child_of_current());
    let (output, returned) = span.catch(|span| span.context().in_scope(|| body(span)));
    end_returned(&mut span, returned);
    output
}

/// Runs a future as one observed call: `make` builds it at the first poll,
/// handed the call's span; the span is entered on every poll and while the
/// future is dropped, a panic inside a poll emits outcome `panic` (with the
/// panic's own message) and is re-raised, and dropping it before it
/// finishes emits outcome `cancelled`.
pub fn observe_async<T, C, F>(call: &'static CallSite, make: C) -> Observed<C, F>
where
    C: FnOnce(&mut SpanGuard) -> F,
    F: Future<Output = (T, Returned)>,
{
    Observed {
        inner: None,
        span: None,
        make: Some(make),
        call,
    }
}

pin_project_lite::pin_project! {
    /// The future of an observed `async fn` call. The span starts at the
    /// first poll, so a future that is never polled emits nothing.
    pub struct Observed<C, F> {
        // Declared first so that it is dropped first, inside the span's
        // context (`WithContext` enters it on drop): destructors in the body
        // and nested spans end before this span, and still belong to it.
        #[pin]
        inner: Option<WithContext<F>>,
        span: Option<SpanGuard>,
        make: Option<C>,
        call: &'static CallSite,
    }
}

impl<T, C, F> Future for Observed<C, F>
where
    C: FnOnce(&mut SpanGuard) -> F,
    F: Future<Output = (T, Returned)>,
{
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut this = self.project();
        if let Some(make) = this.make.take() {
            let mut span =
                SpanGuard::start(&this.call.kind, CorrelationContext::child_of_current());
            let context = span.context();
            let future = span.catch(|span| context.in_scope(|| make(span)));
            this.inner.set(Some(future.with_context(context)));
            *this.span = Some(span);
        }
        let (Some(span), Some(inner)) = (this.span.as_mut(), this.inner.as_pin_mut()) else {
            // Unreachable: `make` is taken exactly when both are set.
            return Poll::Pending;
        };
        if span.is_done() {
            // Polled after completion: the inner future decides what that
            // means; there is nothing left to observe.
            return inner.poll(cx).map(|(output, _)| output);
        }
        match span.catch(|_| inner.poll(cx)) {
            Poll::Ready((output, returned)) => {
                end_returned(span, returned);
                Poll::Ready(output)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}
